//! `cargo fuzz run adu_framing` (from apr-sctp/): arbitrary bytes through
//! the ADU decoder, split where the first byte says; it must never panic,
//! and must stay unusable after an error.
#![no_main]

use apr_sctp::adu_framing::{Assembler, FramingError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, input)) = data.split_first() else {
        return;
    };
    let at = usize::from(split).min(input.len());
    let mut a = Assembler::new(1 << 20);
    let mut out = Vec::new();
    let r = a.push(&input[..at], &mut out).and_then(|()| a.push(&input[at..], &mut out));
    if r.is_err() {
        assert_eq!(a.push(&[0xC0, 0, 0, 0], &mut out), Err(FramingError::Lost));
    }
    let total: usize = out.iter().map(|adu| adu.data.len()).sum();
    assert!(total <= input.len());
});
