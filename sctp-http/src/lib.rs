//! `sctp-http`: HTTP/1.1 over SCTP with each request on its own stream.
//!
//! This crate starts with its sans-I/O core, unit-tested on the host:
//! * `response`: an HTTP/1.1 response parser fed the bytes of one stream as
//!   they arrive, for pipelined responses, with typed errors for bad input.
//!
//! * `plan`: which request goes next, on which stream;
//! * `url`: the URLs it takes and the file names it saves under;
//! * `raw`: `raw`'s command line as an ordered script of sends and pauses.
//!
//! The binary (`src/main.rs`: `get`, `--tcp`, `raw`) is the I/O around them.

pub mod plan;
pub mod raw;
pub mod response;
pub mod url;
