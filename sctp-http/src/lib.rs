//! `sctp-http`: HTTP/1.1 over SCTP with each request on its own stream.
//!
//! This crate starts with its sans-I/O core, unit-tested on the host:
//! * `response`: an HTTP/1.1 response parser fed the bytes of one stream as
//!   they arrive, for pipelined responses, with typed errors for bad input;
//! * `request`: the requests `get` sends (`-X`, `-I`, `-H`, `-d`);
//! * `plan`: which request goes next, on which stream;
//! * `url`: the URLs it takes and the file names it saves under;
//! * `stats`: percentiles and summaries (the bench's report uses them too);
//! * `raw`: `raw`'s command line as an ordered script of sends and pauses;
//! * `cli`: the command line (clap);
//! * `output`: the JSON lines it prints (serde).
//!
//! The binary (`src/main.rs`: `get`, `--tcp`, `raw`, `bench`) is the I/O
//! around them.

pub mod cli;
pub mod output;
pub mod plan;
pub mod raw;
pub mod request;
pub mod response;
pub mod stats;
pub mod url;
