//! The TLV layer of RFC 5354, shared by ASAP and ENRP: parameters are a
//! 16-bit type, a 16-bit length (header included, padding excluded) and a
//! value, padded with zero bytes to a multiple of 4. The two high bits of a
//! type tell a receiver what to do when it does not recognise the type
//! ([`Action`]).
//!
//! `Reader` (crate-internal) walks the parameters of a message or of an enclosing
//! parameter in order and applies those rules; `put_tlv` writes one.
//!
//! Padding, as rsplib writes and reads it: every parameter is followed by
//! its padding, and an enclosing parameter's length counts the padding of
//! the parameters inside it. A receiver also accepts the last parameter of a
//! container without its padding (the container's own padding then covers
//! it): error causes inside an Operation Error are written that way by
//! rsplib.

use crate::error::{Error, Item};

/// Size of a parameter (or error cause, or message) header.
pub const HEADER_LEN: usize = 4;

/// Mask of the two action bits of a parameter type.
pub const ACTION_MASK: u16 = 0xc000;

/// What a receiver does with a parameter whose type it does not recognise
/// (RFC 5354: the two high bits of the type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// 00: stop processing the message and discard it, silently.
    Stop,
    /// 01: stop processing, discard, and report it in an Unrecognized
    /// Parameter error cause.
    StopAndReport,
    /// 10: skip this parameter and continue.
    Skip,
    /// 11: skip this parameter, continue, and report it.
    SkipAndReport,
}

impl Action {
    /// The action encoded in `param_type`.
    pub fn of(param_type: u16) -> Action {
        match param_type & ACTION_MASK {
            0x0000 => Action::Stop,
            0x4000 => Action::StopAndReport,
            0x8000 => Action::Skip,
            _ => Action::SkipAndReport,
        }
    }

    /// Whether processing continues after the parameter.
    pub fn skips(self) -> bool {
        matches!(self, Action::Skip | Action::SkipAndReport)
    }

    /// Whether the parameter is reported back to its sender.
    pub fn reports(self) -> bool {
        matches!(self, Action::StopAndReport | Action::SkipAndReport)
    }
}

/// Bytes of padding after `len` bytes.
pub fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// One parameter as it stood on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawParam<'a> {
    pub param_type: u16,
    /// The value (length field minus the header), padding excluded.
    pub value: &'a [u8],
    /// Header and value, padding excluded.
    pub tlv: &'a [u8],
}

/// Reads one header-length-value item (parameter or error cause) from the
/// front of `rest`. Returns the item's type, its bytes (header and value)
/// and the number of bytes consumed (its padding included). `make` names
/// the item for errors from its type field.
pub(crate) fn read_item(
    rest: &[u8],
    within: Item,
    make: fn(u16) -> Item,
) -> Result<(u16, &[u8], usize), Error> {
    if rest.len() < HEADER_LEN {
        return Err(Error::Truncated {
            what: within,
            need: HEADER_LEN,
            have: rest.len(),
        });
    }
    let ty = u16::from_be_bytes([rest[0], rest[1]]);
    let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
    let what = make(ty);
    if len < HEADER_LEN {
        return Err(Error::BadLength { what, length: len });
    }
    if len > rest.len() {
        return Err(Error::Truncated {
            what,
            need: len,
            have: rest.len(),
        });
    }
    let after = rest.len() - len;
    let pad = padding(len);
    let consumed = if after == 0 {
        len
    } else if after < pad || rest[len..len + pad].iter().any(|&b| b != 0) {
        return Err(Error::BadPadding { what });
    } else {
        len + pad
    };
    Ok((ty, &rest[..len], consumed))
}

/// Walks the parameters inside a message or an enclosing parameter, in
/// order, applying the unrecognised-parameter rules of RFC 5354.
///
/// A parser asks for the parameters it expects at each place ([`take`],
/// [`require`]); parameters of another type met on the way are skipped when
/// their action bits say so (recorded in `report` when they say "report"),
/// end the decoding with [`Error::UnrecognizedParameter`] when their type is
/// unknown and the bits say stop, and are left in place when their type is
/// known (so an optional parameter can be absent). [`finish`] then insists
/// that nothing but skippable parameters remains.
///
/// [`take`]: Reader::take
/// [`require`]: Reader::require
/// [`finish`]: Reader::finish
pub(crate) struct Reader<'a, 'r> {
    buf: &'a [u8],
    pos: usize,
    within: Item,
    report: &'r mut Vec<Vec<u8>>,
}

impl<'a, 'r> Reader<'a, 'r> {
    pub(crate) fn new(buf: &'a [u8], within: Item, report: &'r mut Vec<Vec<u8>>) -> Self {
        Reader {
            buf,
            pos: 0,
            within,
            report,
        }
    }

    /// The list that collects "skip and report" parameters.
    pub(crate) fn report(&mut self) -> &mut Vec<Vec<u8>> {
        self.report
    }

    /// The next parameter, whatever its type, or `None` at the end.
    fn raw(&mut self) -> Result<Option<RawParam<'a>>, Error> {
        let rest = &self.buf[self.pos..];
        if rest.is_empty() {
            return Ok(None);
        }
        let (param_type, tlv, consumed) = read_item(rest, self.within, Item::Parameter)?;
        self.pos += consumed;
        Ok(Some(RawParam {
            param_type,
            value: &tlv[HEADER_LEN..],
            tlv,
        }))
    }

    /// The type of the next parameter, without consuming it.
    fn peek_type(&self) -> Result<Option<u16>, Error> {
        let rest = &self.buf[self.pos..];
        match rest.len() {
            0 => Ok(None),
            n if n < HEADER_LEN => Err(Error::Truncated {
                what: self.within,
                need: HEADER_LEN,
                have: n,
            }),
            _ => Ok(Some(u16::from_be_bytes([rest[0], rest[1]]))),
        }
    }

    /// The next parameter whose type satisfies `wanted`, skipping what the
    /// action bits allow to skip; `None` if the next remaining parameter is
    /// a known one of another type, or if none remains.
    pub(crate) fn take_if(
        &mut self,
        wanted: impl Fn(u16) -> bool,
    ) -> Result<Option<RawParam<'a>>, Error> {
        loop {
            let Some(ty) = self.peek_type()? else {
                return Ok(None);
            };
            if wanted(ty) {
                return self.raw();
            }
            let action = Action::of(ty);
            if action.skips() {
                let p = self.raw()?.expect("peeked a header");
                if action.reports() {
                    self.report.push(p.tlv.to_vec());
                }
                continue;
            }
            if crate::params::is_known(ty) {
                return Ok(None);
            }
            let p = self.raw()?.expect("peeked a header");
            return Err(Error::UnrecognizedParameter {
                param_type: ty,
                report: action.reports(),
                tlv: p.tlv.to_vec(),
            });
        }
    }

    /// The next parameter if it is of type `ty` (see [`Reader::take_if`]).
    pub(crate) fn take(&mut self, ty: u16) -> Result<Option<RawParam<'a>>, Error> {
        self.take_if(|t| t == ty)
    }

    /// The next parameter, which must be of type `ty`.
    pub(crate) fn require(&mut self, ty: u16) -> Result<RawParam<'a>, Error> {
        self.take(ty)?.ok_or(Error::MissingParameter {
            param_type: ty,
            within: self.within,
        })
    }

    /// Ends the walk: whatever remains must be skippable.
    pub(crate) fn finish(mut self) -> Result<(), Error> {
        match self.take_if(|_| false)? {
            None => match self.peek_type()? {
                None => Ok(()),
                Some(ty) => Err(Error::UnexpectedParameter {
                    param_type: ty,
                    within: self.within,
                }),
            },
            Some(_) => unreachable!("nothing is wanted"),
        }
    }
}

/// Appends a parameter of type `ty` whose value `value` writes, then its
/// padding.
pub(crate) fn put_tlv(
    out: &mut Vec<u8>,
    ty: u16,
    value: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    put_item(out, ty, Item::Parameter(ty), value)
}

/// Appends a header-length-value item (parameter or error cause) and pads
/// it to a multiple of 4.
pub(crate) fn put_item(
    out: &mut Vec<u8>,
    ty: u16,
    what: Item,
    value: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    let start = out.len();
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    value(out)?;
    let len = out.len() - start;
    let field = u16::try_from(len).map_err(|_| Error::TooLong { what, length: len })?;
    out[start + 2..start + 4].copy_from_slice(&field.to_be_bytes());
    out.resize(out.len() + padding(len), 0);
    Ok(())
}

/// Reads a big-endian u32 at `at` (callers check the length first).
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads a big-endian u16 at `at` (callers check the length first).
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_bits() {
        assert_eq!(Action::of(0x0009), Action::Stop);
        assert_eq!(Action::of(0x4042), Action::StopAndReport);
        assert_eq!(Action::of(0x803f), Action::Skip);
        assert_eq!(Action::of(0xc001), Action::SkipAndReport);
        assert!(Action::Skip.skips() && !Action::Skip.reports());
        assert!(Action::SkipAndReport.skips() && Action::SkipAndReport.reports());
        assert!(!Action::Stop.skips() && !Action::Stop.reports());
        assert!(!Action::StopAndReport.skips() && Action::StopAndReport.reports());
    }

    #[test]
    fn padding_sizes() {
        assert_eq!(
            (0..9).map(padding).collect::<Vec<_>>(),
            [0, 3, 2, 1, 0, 3, 2, 1, 0]
        );
    }

    #[test]
    fn put_tlv_pads_and_sets_length() {
        let mut out = Vec::new();
        put_tlv(&mut out, 0x0009, |o| {
            o.extend_from_slice(b"abc");
            Ok(())
        })
        .unwrap();
        assert_eq!(out, [0x00, 0x09, 0x00, 0x07, b'a', b'b', b'c', 0]);
    }

    #[test]
    fn put_tlv_too_long() {
        let mut out = Vec::new();
        let err = put_tlv(&mut out, 0x000d, |o| {
            o.resize(o.len() + 65532, 1);
            Ok(())
        })
        .unwrap_err();
        assert_eq!(
            err,
            Error::TooLong {
                what: Item::Parameter(0x000d),
                length: 65536
            }
        );
    }

    fn reader_items(buf: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, Error> {
        let mut report = Vec::new();
        let mut r = Reader::new(buf, Item::Message(1), &mut report);
        let mut out = Vec::new();
        while let Some(p) = r.take_if(|_| true)? {
            out.push((p.param_type, p.value.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn last_item_may_lack_padding() {
        let buf = [0, 0x0d, 0, 5, 0xaa];
        assert_eq!(reader_items(&buf).unwrap(), [(0x0d, vec![0xaa])]);
        let buf = [0, 0x0d, 0, 5, 0xaa, 0, 0, 0];
        assert_eq!(reader_items(&buf).unwrap(), [(0x0d, vec![0xaa])]);
    }

    #[test]
    fn bad_padding() {
        // Non-zero padding.
        let buf = [0, 0x0d, 0, 5, 0xaa, 0, 1, 0];
        assert_eq!(
            reader_items(&buf),
            Err(Error::BadPadding {
                what: Item::Parameter(0x0d)
            })
        );
        // Padding cut short by what follows.
        let buf = [0, 0x0d, 0, 5, 0xaa, 0];
        assert_eq!(
            reader_items(&buf),
            Err(Error::BadPadding {
                what: Item::Parameter(0x0d)
            })
        );
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(
            reader_items(&[0, 0x0d, 0, 3]),
            Err(Error::BadLength {
                what: Item::Parameter(0x0d),
                length: 3
            })
        );
        assert_eq!(
            reader_items(&[0, 0x0d, 0, 9, 1, 2]),
            Err(Error::Truncated {
                what: Item::Parameter(0x0d),
                need: 9,
                have: 6
            })
        );
        assert_eq!(
            reader_items(&[0, 0x0d]),
            Err(Error::Truncated {
                what: Item::Message(1),
                need: 4,
                have: 2
            })
        );
    }

    #[test]
    fn unknown_parameters_follow_their_action_bits() {
        let skip = [0x80, 0x77, 0, 4];
        let skip_report = [0xc0, 0x77, 0, 5, 9, 0, 0, 0];
        let handle = [0, 0x09, 0, 5, b'x', 0, 0, 0];
        let mut buf = Vec::new();
        buf.extend_from_slice(&skip);
        buf.extend_from_slice(&skip_report);
        buf.extend_from_slice(&handle);
        let mut report = Vec::new();
        let mut r = Reader::new(&buf, Item::Message(5), &mut report);
        let p = r.require(0x0009).unwrap();
        assert_eq!(p.value, b"x");
        r.finish().unwrap();
        assert_eq!(report, vec![vec![0xc0, 0x77, 0, 5, 9]]);

        for (ty, report) in [(0x0077u16, false), (0x4077, true)] {
            let mut buf = ty.to_be_bytes().to_vec();
            buf.extend_from_slice(&[0, 4]);
            buf.extend_from_slice(&handle);
            let mut rep = Vec::new();
            let mut r = Reader::new(&buf, Item::Message(5), &mut rep);
            assert_eq!(
                r.require(0x0009),
                Err(Error::UnrecognizedParameter {
                    param_type: ty,
                    report,
                    tlv: buf[..4].to_vec()
                })
            );
        }
    }

    #[test]
    fn known_parameter_out_of_place() {
        let buf = [0, 0x0e, 0, 8, 1, 2, 3, 4];
        let mut report = Vec::new();
        let mut r = Reader::new(&buf, Item::Message(5), &mut report);
        assert_eq!(r.take(0x0009), Ok(None));
        assert_eq!(
            r.finish(),
            Err(Error::UnexpectedParameter {
                param_type: 0x0e,
                within: Item::Message(5)
            })
        );
        let mut report = Vec::new();
        let mut r = Reader::new(&buf, Item::Message(5), &mut report);
        assert_eq!(
            r.require(0x0009),
            Err(Error::MissingParameter {
                param_type: 0x09,
                within: Item::Message(5)
            })
        );
    }
}
