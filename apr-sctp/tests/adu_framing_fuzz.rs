//! Seeded random-input tests of the ADU framing codec (the cargo-fuzz
//! target in `fuzz/` runs the first property under libFuzzer):
//!
//! * arbitrary bytes, fed in arbitrary chunks, never panic, and the events
//!   they give are a well-formed sequence (Start, Data*, End) whose data is
//!   no more than what was fed;
//! * random ADUs, written as pieces into random buffer sizes and fed to
//!   the decoder in random chunks, come back whole and in order.

use apr_sctp::adu_framing::{Adu, AduKind, Assembler, Decoder, Event, PieceWriter, MAX_ADU};

/// xorshift64*: small, seeded, good enough to pick sizes and bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Decodes `input` in the chunk sizes `rng` picks; checks the event
/// grammar.
fn check_arbitrary(input: &[u8], rng: &mut Rng) {
    let mut d = Decoder::with_limit(1 << 16);
    let mut open = false;
    let mut data = 0usize;
    let mut rest = input;
    'feed: while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(64));
        let (mut chunk, tail) = rest.split_at(n);
        rest = tail;
        loop {
            match d.next(&mut chunk) {
                Ok(None) => break,
                Ok(Some(Event::Start(_))) => {
                    assert!(!open, "Start inside an ADU");
                    open = true;
                }
                Ok(Some(Event::Data(b))) => {
                    assert!(open, "Data outside an ADU");
                    data += b.len();
                }
                Ok(Some(Event::End)) => {
                    assert!(open, "End outside an ADU");
                    open = false;
                }
                Err(_) => {
                    assert!(
                        d.next(&mut &[0xC0u8, 0, 0, 0][..]).is_err(),
                        "usable after an error"
                    );
                    break 'feed;
                }
            }
        }
    }
    assert!(data <= input.len());
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0x5EED_AD00_0001);
    for _ in 0..20_000 {
        let len = rng.below(96);
        let mut input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Often a plausible flag byte and a short length, so that the
        // decoder gets past the first header.
        if len >= 4 && rng.below(2) == 0 {
            input[0] = [0xC0, 0xE0, 0xF0, 0x80, 0x40, 0xD0][rng.below(6)];
            input[1] = 0;
            input[2] = 0;
            input[3] = rng.below(16) as u8;
        }
        check_arbitrary(&input, &mut rng);
    }
}

#[test]
fn random_adus_round_trip_through_pieces_and_chunks() {
    let mut rng = Rng(0x5EED_AD00_0002);
    for _ in 0..500 {
        let adus: Vec<Adu> = (0..1 + rng.below(6))
            .map(|_| {
                let len = match rng.below(4) {
                    0 => 0,
                    1 => rng.below(8),
                    2 => rng.below(3000),
                    _ => rng.below(70_000),
                };
                Adu {
                    kind: AduKind {
                        reliable: rng.below(2) == 0,
                        urgent: rng.below(2) == 0,
                    },
                    data: (0..len).map(|_| rng.next() as u8).collect(),
                }
            })
            .collect();
        // Written as a byte interface's reader would get them.
        let mut stream = Vec::new();
        for a in &adus {
            let mut w = PieceWriter::new(a.kind, &a.data).unwrap();
            let mut buf = vec![0u8; 5 + rng.below(5000)];
            while !w.done() {
                let n = w.write(&mut buf);
                assert!(n > 0);
                stream.extend_from_slice(&buf[..n]);
            }
        }
        let mut asm = Assembler::new(MAX_ADU);
        let mut got = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len().min(9000));
            asm.push(&rest[..n], &mut got).unwrap();
            rest = &rest[n..];
        }
        asm.finish().unwrap();
        assert_eq!(got, adus);
    }
}
