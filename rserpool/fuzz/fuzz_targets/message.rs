//! ASAP messages from arbitrary bytes: never a panic; what decodes
//! re-encodes, decodes to itself, and re-encodes to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rserpool::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(d) = Message::decode_reporting(data) else {
        return;
    };
    let bytes = d.message.to_bytes().expect("a decoded message encodes");
    let again = Message::decode(&bytes).expect("an encoded message decodes");
    assert_eq!(again, d.message);
    assert_eq!(again.to_bytes().expect("encodes"), bytes);
});
