//! The one error type of the crate: every way decoding or encoding can fail.

use std::fmt;

/// What an [`Error`] is about: a message (by its type), a parameter (by its
/// 16-bit type, action bits included) or an error cause (by its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    Message(u8),
    Parameter(u16),
    Cause(u16),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Message(t) => write!(f, "message type {t:#04x}"),
            Item::Parameter(t) => write!(f, "parameter type {t:#06x}"),
            Item::Cause(c) => write!(f, "error cause {c:#06x}"),
        }
    }
}

/// Decoding and encoding errors.
///
/// Decoding never panics and never reads past its input; each malformed
/// input maps to one of these. `UnknownMessageType` and
/// `UnrecognizedParameter { report: true, .. }` are the two a receiver is
/// expected to answer (RFC 5352, RFC 5354): [`Error::report_cause`]
/// builds the error cause for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input ends inside a header or inside a value whose length field
    /// says there is more: `need` bytes announced, `have` present.
    Truncated {
        what: Item,
        need: usize,
        have: usize,
    },
    /// A length field below the size of its own header (4 bytes).
    BadLength { what: Item, length: usize },
    /// Padding after a parameter or error cause is missing (other data
    /// follows before the next 4-byte boundary) or not all zero.
    BadPadding { what: Item },
    /// Bytes after the end the message's length field announces (beyond the
    /// at most 3 zero bytes of its padding).
    TrailingBytes { length: usize, actual: usize },
    /// A message type ASAP does not define (0x00, 0x0f and up).
    UnknownMessageType(u8),
    /// A parameter type this crate does not know whose two high bits say
    /// "stop processing" (RFC 5354: 00 = silently, 01 = and report).
    /// `tlv` is the whole parameter as received (header and value), the
    /// content of an Unrecognized Parameter error cause.
    UnrecognizedParameter {
        param_type: u16,
        report: bool,
        tlv: Vec<u8>,
    },
    /// A parameter this crate knows, in a message or parameter that has no
    /// place for it (or a second one where only one may be).
    UnexpectedParameter { param_type: u16, within: Item },
    /// A parameter that the message or enclosing parameter requires.
    MissingParameter { param_type: u16, within: Item },
    /// A value of fixed size with another size (an IPv4 address that is not
    /// 4 bytes, a pool member selection policy whose type says 8 bytes of
    /// data with 4, a message shorter than its fixed fields...).
    BadValueLength { what: Item, length: usize },
    /// A value the RFCs rule out: an empty pool handle or cookie, a
    /// transport with no address, a non-SCTP transport with more than one,
    /// an unknown transport use, an Operation Error with no cause.
    InvalidValue { what: Item, reason: &'static str },
    /// Encoding: a message, parameter or cause longer than its 16-bit
    /// length field can say (65535 bytes).
    TooLong { what: Item, length: usize },
}

impl Error {
    /// The error cause a receiver should send back for this error, if the
    /// protocol asks for one: an Unrecognized Parameter cause carrying the
    /// parameter for a "stop and report" parameter. (For an unknown message
    /// type the cause must carry the message itself, which this error does
    /// not hold: see [`crate::params::ErrorCause::unrecognized_message`].)
    pub fn report_cause(&self) -> Option<crate::params::ErrorCause> {
        match self {
            Error::UnrecognizedParameter {
                report: true, tlv, ..
            } => Some(crate::params::ErrorCause::unrecognized_parameter(tlv)),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { what, need, have } => {
                write!(
                    f,
                    "{what} truncated: {need} bytes announced, {have} present"
                )
            }
            Error::BadLength { what, length } => write!(f, "{what}: bad length {length}"),
            Error::BadPadding { what } => write!(f, "{what}: missing or non-zero padding"),
            Error::TrailingBytes { length, actual } => {
                write!(
                    f,
                    "message of length {length} followed by {} more bytes",
                    actual - length
                )
            }
            Error::UnknownMessageType(t) => write!(f, "unknown ASAP message type {t:#04x}"),
            Error::UnrecognizedParameter {
                param_type, report, ..
            } => write!(
                f,
                "unrecognized parameter type {param_type:#06x} (stop processing{})",
                if *report { ", report" } else { "" }
            ),
            Error::UnexpectedParameter { param_type, within } => {
                write!(
                    f,
                    "parameter type {param_type:#06x} not allowed in {within}"
                )
            }
            Error::MissingParameter { param_type, within } => {
                write!(f, "{within} lacks its parameter of type {param_type:#06x}")
            }
            Error::BadValueLength { what, length } => {
                write!(f, "{what}: value of {length} bytes has the wrong size")
            }
            Error::InvalidValue { what, reason } => write!(f, "{what}: {reason}"),
            Error::TooLong { what, length } => {
                write!(f, "{what}: {length} bytes exceed the 16-bit length field")
            }
        }
    }
}

impl std::error::Error for Error {}
