//! `sctp-http`: HTTP/1.1 over SCTP with each request on its own stream.
//!
//! This crate starts with its sans-I/O core, unit-tested on the host:
//! * `response`: an HTTP/1.1 response parser fed the bytes of one stream as
//!   they arrive, for pipelined responses, with typed errors for bad input.
//!
//! The command line client (`sctp-http get`, `--tcp`, `raw`) builds on it.

pub mod response;
