//! The record decoder on arbitrary bytes fed in arbitrary pieces: never a
//! panic, never more held than the limit, and what decodes re-encodes to a
//! record the stream plan can judge.
#![no_main]
use fastcgi::record::{Decoder, Limits};
use fastcgi::stream_plan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    // The first byte picks the piece size and the stream the bytes came on.
    let piece = 1 + data[0] as usize * 37;
    let stream = (data[0] % 5) as u16;
    let limits = Limits::default();
    let mut d = Decoder::new(limits);
    for chunk in data[1..].chunks(piece) {
        if d.push(chunk).is_err() {
            return;
        }
        assert!(d.pending() <= limits.max_buffer);
        loop {
            match d.next() {
                Ok(Some(rec)) => {
                    let _ = stream_plan::check(stream, &rec);
                    let mut out = Vec::new();
                    if rec.encode(&mut out).is_ok() {
                        let mut again = Decoder::new(limits);
                        again.push(&out).expect("a record we encoded decodes");
                        assert_eq!(again.next().expect("decodes"), Some(rec));
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
