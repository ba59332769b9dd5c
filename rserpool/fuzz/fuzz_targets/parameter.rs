//! Single parameters from arbitrary bytes: never a panic; what decodes
//! re-encodes and decodes to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rserpool::Parameter;

fuzz_target!(|data: &[u8]| {
    let mut report = Vec::new();
    let Ok((p, used)) = Parameter::decode(data, &mut report) else {
        return;
    };
    assert!(used <= data.len());
    let mut out = Vec::new();
    p.encode(&mut out).expect("a decoded parameter encodes");
    let mut again = Vec::new();
    assert_eq!(Parameter::decode(&out, &mut again).expect("decodes").0, p);
});
