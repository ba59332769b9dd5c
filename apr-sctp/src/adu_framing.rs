//! WebTP's ADU framing (seeds/003, "ADU Framing"), sans-I/O: the 4-byte
//! header that lets a byte-oriented send()/recv() carry application data
//! units (ADUs) of up to 16 MB, whole or in pieces.
//!
//! ```text
//!  byte 0     bytes 1-3
//! +--------+--------+--------+--------+
//! |SERU0000|  length (24 bits, BE)    |  then `length` bytes of ADU data
//! +--------+--------+--------+--------+
//! ```
//!
//! The seed draws the flag byte but does not spell the bits out; we read
//! them as its examples suggest (`SERU0000` and `SER00000` before whole
//! ADUs, "the first ADU, the last ADU or both can be partial"):
//!
//! * **S** (0x80): this piece starts an ADU; **E** (0x40): it ends one. A
//!   whole ADU is one piece with both; a partial one is pieces S, (none)*,
//!   E, each with its own header and length, so that a buffer may begin
//!   or end inside an ADU.
//! * **R** (0x20): reliable (else unreliable: the transport may drop it
//!   whole); **U** (0x10): urgent, the seed's high priority.
//! * The low four bits are reserved and must be zero.
//!
//! [`Decoder`] takes a byte stream in chunks of any size (a header may be
//! split too) and yields the pieces' data without copying; it refuses, with
//! a typed [`FramingError`], what cannot be a framing: reserved bits, a
//! piece without S outside an ADU, an S inside one, R or U changing within
//! an ADU, an ADU longer than [`MAX_ADU`]. After an error the stream's
//! framing is lost and every later call says so. [`Assembler`] collects
//! whole ADUs (bounded by [`MAX_ADU`]); [`PieceWriter`] writes an ADU into
//! buffers of any size as pieces, for the receiving side of a byte
//! interface. Hand-written: a 4-byte header is less than any framing crate.

use std::fmt;

/// Bytes of a piece header.
pub const HEADER_LEN: usize = 4;
/// The most data one piece's header can announce (24 bits).
pub const MAX_PIECE: usize = 0x00FF_FFFF;
/// The largest ADU: 16 MiB, the seed's "ADUs can be as large as 16MB".
pub const MAX_ADU: usize = 16 * 1024 * 1024;

const S: u8 = 0x80;
const E: u8 = 0x40;
const R: u8 = 0x20;
const U: u8 = 0x10;
const RESERVED: u8 = 0x0F;

/// What an ADU asks of the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AduKind {
    pub reliable: bool,
    pub urgent: bool,
}

/// One piece's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub start: bool,
    pub end: bool,
    pub kind: AduKind,
    /// Data bytes that follow (at most [`MAX_PIECE`]).
    pub len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    /// One of the four low bits of the flag byte was set.
    ReservedBits(u8),
    /// A piece without S where no ADU was open.
    NoStart,
    /// A piece with S while an ADU was still open (it had no E).
    StartInsideAdu,
    /// R or U differ between pieces of one ADU.
    KindChanged,
    /// The ADU grew past the limit.
    TooLong { limit: usize },
    /// A piece longer than a header can say (encoding only).
    PieceTooLong(usize),
    /// The stream ended inside a header, a piece or an ADU.
    Truncated,
    /// An earlier error: the framing of this stream is lost.
    Lost,
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::ReservedBits(b) => {
                write!(f, "ADU header flag byte {b:#04x} has reserved bits set")
            }
            FramingError::NoStart => write!(f, "ADU piece without S outside an ADU"),
            FramingError::StartInsideAdu => write!(f, "ADU piece with S inside an unfinished ADU"),
            FramingError::KindChanged => write!(f, "R or U changed between pieces of one ADU"),
            FramingError::TooLong { limit } => write!(f, "ADU longer than {limit} bytes"),
            FramingError::PieceTooLong(n) => {
                write!(
                    f,
                    "ADU piece of {n} bytes (a header says at most {MAX_PIECE})"
                )
            }
            FramingError::Truncated => write!(f, "the stream ended inside an ADU"),
            FramingError::Lost => write!(f, "ADU framing lost by an earlier error"),
        }
    }
}

impl std::error::Error for FramingError {}

impl Header {
    pub fn encode(&self) -> Result<[u8; HEADER_LEN], FramingError> {
        if self.len > MAX_PIECE {
            return Err(FramingError::PieceTooLong(self.len));
        }
        let mut flags = 0;
        for (on, bit) in [
            (self.start, S),
            (self.end, E),
            (self.kind.reliable, R),
            (self.kind.urgent, U),
        ] {
            if on {
                flags |= bit;
            }
        }
        let l = self.len as u32;
        Ok([flags, (l >> 16) as u8, (l >> 8) as u8, l as u8])
    }

    pub fn decode(b: [u8; HEADER_LEN]) -> Result<Header, FramingError> {
        if b[0] & RESERVED != 0 {
            return Err(FramingError::ReservedBits(b[0]));
        }
        Ok(Header {
            start: b[0] & S != 0,
            end: b[0] & E != 0,
            kind: AduKind {
                reliable: b[0] & R != 0,
                urgent: b[0] & U != 0,
            },
            len: (usize::from(b[1]) << 16) | (usize::from(b[2]) << 8) | usize::from(b[3]),
        })
    }
}

/// Appends `data` as one whole ADU (S and E) of `kind`.
pub fn encode_adu(kind: AduKind, data: &[u8], out: &mut Vec<u8>) -> Result<(), FramingError> {
    let h = Header {
        start: true,
        end: true,
        kind,
        len: data.len(),
    }
    .encode()?;
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    Ok(())
}

/// What [`Decoder::next`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// An ADU begins.
    Start(AduKind),
    /// Bytes of the open ADU, borrowed from the input.
    Data(&'a [u8]),
    /// The open ADU is complete.
    End,
}

/// Reads pieces from a byte stream fed in chunks of any size.
#[derive(Debug, Default)]
pub struct Decoder {
    header: [u8; HEADER_LEN],
    /// Header bytes gathered (a header split across chunks).
    have: usize,
    /// Data bytes of the current piece still to come.
    left: usize,
    /// The open ADU and its size so far.
    open: Option<(AduKind, usize)>,
    /// `End` to report once the piece's data is through.
    end_due: bool,
    lost: bool,
    limit: usize,
}

impl Decoder {
    /// A decoder that accepts ADUs up to [`MAX_ADU`].
    pub fn new() -> Decoder {
        Decoder::with_limit(MAX_ADU)
    }

    /// A decoder that accepts ADUs up to `limit` bytes (at most
    /// [`MAX_ADU`]).
    pub fn with_limit(limit: usize) -> Decoder {
        Decoder {
            limit: limit.min(MAX_ADU),
            ..Decoder::default()
        }
    }

    /// The next event from `input`, consuming what it used; `Ok(None)`
    /// when `input` is used up without one (feed more).
    pub fn next<'a>(&mut self, input: &mut &'a [u8]) -> Result<Option<Event<'a>>, FramingError> {
        if self.lost {
            return Err(FramingError::Lost);
        }
        let r = self.step(input);
        if r.is_err() {
            self.lost = true;
        }
        r
    }

    fn step<'a>(&mut self, input: &mut &'a [u8]) -> Result<Option<Event<'a>>, FramingError> {
        loop {
            if self.left > 0 {
                if input.is_empty() {
                    return Ok(None);
                }
                let n = self.left.min(input.len());
                let (data, rest) = input.split_at(n);
                *input = rest;
                self.left -= n;
                return Ok(Some(Event::Data(data)));
            }
            if self.end_due {
                self.end_due = false;
                self.open = None;
                return Ok(Some(Event::End));
            }
            if self.have < HEADER_LEN {
                let n = (HEADER_LEN - self.have).min(input.len());
                self.header[self.have..self.have + n].copy_from_slice(&input[..n]);
                self.have += n;
                *input = &input[n..];
                if self.have < HEADER_LEN {
                    return Ok(None);
                }
            }
            self.have = 0;
            let h = Header::decode(self.header)?;
            let started = match (h.start, self.open) {
                (true, Some(_)) => return Err(FramingError::StartInsideAdu),
                (false, None) => return Err(FramingError::NoStart),
                (false, Some((kind, _))) if kind != h.kind => {
                    return Err(FramingError::KindChanged)
                }
                (true, None) => {
                    self.open = Some((h.kind, 0));
                    true
                }
                (false, Some(_)) => false,
            };
            if let Some((_, size)) = &mut self.open {
                *size += h.len;
                if *size > self.limit {
                    return Err(FramingError::TooLong { limit: self.limit });
                }
            }
            self.left = h.len;
            self.end_due = h.end;
            if started {
                return Ok(Some(Event::Start(h.kind)));
            }
        }
    }

    /// The stream has ended: an error unless it ended between ADUs.
    pub fn finish(&self) -> Result<(), FramingError> {
        if self.lost {
            return Err(FramingError::Lost);
        }
        if self.have > 0 || self.left > 0 || self.open.is_some() {
            return Err(FramingError::Truncated);
        }
        Ok(())
    }
}

/// A whole ADU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adu {
    pub kind: AduKind,
    pub data: Vec<u8>,
}

/// Collects whole ADUs from a byte stream (the sending side of a byte
/// interface: each becomes one SCTP message). Holds at most one ADU.
#[derive(Debug, Default)]
pub struct Assembler {
    decoder: Decoder,
    current: Option<Adu>,
}

impl Assembler {
    pub fn new(limit: usize) -> Assembler {
        Assembler {
            decoder: Decoder::with_limit(limit),
            current: None,
        }
    }

    /// Takes `input`, appending every ADU it completes to `out`.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<Adu>) -> Result<(), FramingError> {
        while let Some(ev) = self.decoder.next(&mut input)? {
            match ev {
                Event::Start(kind) => {
                    self.current = Some(Adu {
                        kind,
                        data: Vec::new(),
                    })
                }
                Event::Data(d) => {
                    if let Some(a) = &mut self.current {
                        a.data.extend_from_slice(d);
                    }
                }
                Event::End => out.extend(self.current.take()),
            }
        }
        Ok(())
    }

    /// The stream has ended (see [`Decoder::finish`]).
    pub fn finish(&self) -> Result<(), FramingError> {
        self.decoder.finish()
    }
}

/// Writes one ADU into caller buffers of any size as pieces (the
/// receiving side of a byte interface): the first piece has S, the last
/// E, each its own header.
#[derive(Debug)]
pub struct PieceWriter<'a> {
    kind: AduKind,
    data: &'a [u8],
    at: usize,
    started: bool,
}

impl<'a> PieceWriter<'a> {
    pub fn new(kind: AduKind, data: &'a [u8]) -> Result<PieceWriter<'a>, FramingError> {
        if data.len() > MAX_ADU {
            return Err(FramingError::TooLong { limit: MAX_ADU });
        }
        Ok(PieceWriter {
            kind,
            data,
            at: 0,
            started: false,
        })
    }

    /// True once the whole ADU has been written.
    pub fn done(&self) -> bool {
        self.started && self.at == self.data.len()
    }

    /// Writes the next piece into `buf`; returns the bytes written (0
    /// when `buf` has no room for a header and a byte, unless only an
    /// empty final piece is left, or when done).
    pub fn write(&mut self, buf: &mut [u8]) -> usize {
        if self.done() || buf.len() < HEADER_LEN {
            return 0;
        }
        let rest = self.data.len() - self.at;
        let n = rest.min(buf.len() - HEADER_LEN).min(MAX_PIECE);
        if n == 0 && rest > 0 {
            return 0;
        }
        let h = Header {
            start: !self.started,
            end: n == rest,
            kind: self.kind,
            len: n,
        };
        let Ok(hb) = h.encode() else {
            return 0;
        };
        buf[..HEADER_LEN].copy_from_slice(&hb);
        buf[HEADER_LEN..HEADER_LEN + n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        self.started = true;
        HEADER_LEN + n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REL: AduKind = AduKind {
        reliable: true,
        urgent: false,
    };
    const URG: AduKind = AduKind {
        reliable: true,
        urgent: true,
    };

    #[test]
    fn the_seeds_headers() {
        // SERU0000 and SER00000 before whole ADUs.
        let mut out = Vec::new();
        encode_adu(URG, b"abc", &mut out).unwrap();
        encode_adu(REL, b"", &mut out).unwrap();
        assert_eq!(out, [0xF0, 0, 0, 3, b'a', b'b', b'c', 0xE0, 0, 0, 0]);
        let h = Header::decode([0x80, 0xFF, 0xFF, 0xFF]).unwrap();
        assert_eq!(
            (h.start, h.end, h.kind, h.len),
            (true, false, AduKind::default(), MAX_PIECE)
        );
        assert_eq!(Header::decode(h.encode().unwrap()).unwrap(), h);
    }

    #[test]
    fn decodes_across_any_split() {
        let mut stream = Vec::new();
        encode_adu(REL, b"hello", &mut stream).unwrap();
        // One ADU in two pieces.
        stream.extend_from_slice(&[0x80 | 0x10, 0, 0, 2, b'x', b'y', 0x40 | 0x10, 0, 0, 1, b'z']);
        for split in 0..=stream.len() {
            let mut a = Assembler::new(MAX_ADU);
            let mut got = Vec::new();
            a.push(&stream[..split], &mut got).unwrap();
            a.push(&stream[split..], &mut got).unwrap();
            a.finish().unwrap();
            assert_eq!(
                got,
                [
                    Adu {
                        kind: REL,
                        data: b"hello".to_vec()
                    },
                    Adu {
                        kind: AduKind {
                            reliable: false,
                            urgent: true
                        },
                        data: b"xyz".to_vec()
                    }
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn data_is_borrowed_not_copied() {
        let stream = [0xC0, 0, 0, 3, 1, 2, 3];
        let mut input = &stream[..];
        let mut d = Decoder::new();
        assert_eq!(
            d.next(&mut input),
            Ok(Some(Event::Start(AduKind::default())))
        );
        match d.next(&mut input) {
            Ok(Some(Event::Data(b))) => assert_eq!(b.as_ptr(), stream[4..].as_ptr()),
            e => panic!("{e:?}"),
        }
        assert_eq!(d.next(&mut input), Ok(Some(Event::End)));
        assert_eq!(d.next(&mut input), Ok(None));
    }

    #[test]
    fn typed_errors_and_then_lost() {
        let cases: [(&[u8], FramingError); 5] = [
            (&[0xC1, 0, 0, 0], FramingError::ReservedBits(0xC1)),
            (&[0x40, 0, 0, 0], FramingError::NoStart),
            (
                &[0x80, 0, 0, 0, 0x80, 0, 0, 0],
                FramingError::StartInsideAdu,
            ),
            (&[0xA0, 0, 0, 0, 0x40, 0, 0, 0], FramingError::KindChanged),
            (&[0x80, 0, 0, 9], FramingError::TooLong { limit: 8 }),
        ];
        for (bytes, want) in cases {
            let mut a = Assembler::new(8);
            let mut out = Vec::new();
            assert_eq!(a.push(bytes, &mut out), Err(want.clone()), "{bytes:?}");
            assert_eq!(a.push(&[0xC0, 0, 0, 0], &mut out), Err(FramingError::Lost));
            assert!(out.is_empty());
        }
        // An ADU over 16 MiB in pieces.
        let mut a = Assembler::new(usize::MAX);
        let big = [0x80, 0xFF, 0xFF, 0xFF];
        let mut out = Vec::new();
        let mut stream = big.to_vec();
        stream.resize(4 + MAX_PIECE, 0);
        stream.extend_from_slice(&[0x40, 0, 0, 2, 0, 0]);
        assert_eq!(
            a.push(&stream, &mut out),
            Err(FramingError::TooLong { limit: MAX_ADU })
        );
        assert_eq!(
            Header {
                start: true,
                end: true,
                kind: REL,
                len: MAX_PIECE + 1
            }
            .encode(),
            Err(FramingError::PieceTooLong(MAX_PIECE + 1))
        );
    }

    #[test]
    fn truncation_is_seen_at_the_end() {
        for stream in [&[0xC0, 0][..], &[0xC0, 0, 0, 2, 1], &[0x80, 0, 0, 1, 1]] {
            let mut a = Assembler::new(MAX_ADU);
            a.push(stream, &mut Vec::new()).unwrap();
            assert_eq!(a.finish(), Err(FramingError::Truncated), "{stream:?}");
        }
    }

    #[test]
    fn piece_writer_fills_small_buffers_and_round_trips() {
        let data: Vec<u8> = (0..100u8).collect();
        for size in [5usize, 7, 50, 104, 200] {
            let mut w = PieceWriter::new(URG, &data).unwrap();
            let mut stream = Vec::new();
            let mut buf = vec![0u8; size];
            while !w.done() {
                let n = w.write(&mut buf);
                assert!(n > 0, "no progress with {size} bytes");
                stream.extend_from_slice(&buf[..n]);
            }
            assert_eq!(w.write(&mut buf), 0);
            let mut a = Assembler::new(MAX_ADU);
            let mut got = Vec::new();
            a.push(&stream, &mut got).unwrap();
            assert_eq!(
                got,
                [Adu {
                    kind: URG,
                    data: data.clone()
                }],
                "buffers of {size}"
            );
        }
        // An empty ADU still gets its one piece; four bytes are too few
        // for anything else.
        let mut w = PieceWriter::new(REL, b"").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(w.write(&mut buf), 4);
        assert!(w.done());
        let mut w = PieceWriter::new(REL, b"x").unwrap();
        assert_eq!(w.write(&mut buf), 0);
        assert!(PieceWriter::new(REL, &vec![0; MAX_ADU + 1]).is_err());
    }
}
