//! Name-value pairs and the PARAMS collector on arbitrary bytes: never a
//! panic, and what decodes re-encodes to the same bytes.
#![no_main]
use fastcgi::record::Limits;
use fastcgi::{decode_pairs, encode_pairs, ParamsCollector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(pairs) = decode_pairs(data, &limits) {
        let mut out = Vec::new();
        encode_pairs(&pairs, &mut out);
        assert_eq!(decode_pairs(&out, &limits).expect("re-decodes"), pairs);
    }
    let mut c = ParamsCollector::new(limits, 4096);
    for chunk in data.chunks(7) {
        match c.push(chunk) {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => assert!(c.len() <= 4096 + 7),
        }
    }
});
