//! Sans-I/O core of the FastCGI 1.0 protocol.
//!
//! FastCGI is the record protocol a web server uses to hand requests to
//! long-running application processes. Here it is the wire format carried
//! over SCTP ("FastCGI over SCTP"): the transport delivers bytes, this crate
//! turns them into [`Record`]s and back. It never touches a socket, a clock
//! or a thread; the caller moves the bytes.
//!
//! Everything is bounded: the [`Decoder`] never buffers more than
//! [`Limits::max_buffer`] bytes, name-value decoding is limited in pair count
//! and name/value size and never allocates more than the input justifies,
//! and the [`ParamsCollector`] caps the size of a request's PARAMS stream.
//! Malformed input yields a typed [`Error`], never a panic.

pub mod management;
pub mod params;
pub mod record;
pub mod stream_plan;

pub use params::{decode_pairs, encode_pairs, ParamsCollector, DEFAULT_MAX_PARAMS};
pub use record::{encode_stream, Decoder, Error, Limits, Pairs, Record};
pub use stream_plan::{StreamPlan, Violation};
