//! What every httpd module of the workspace (mod_sctp, mod_proxy_fcgi_sctp)
//! needs around the raw bindings of `httpd-sys`:
//!
//! * [`log`]: `tracing` events into httpd's error log under the module's
//!   name, so that `LogLevel sctp:debug` (or `proxy_fcgi_sctp:debug`)
//!   controls them; a line about a connection or a request is written with
//!   it (`ap_log_cerror`/`ap_log_rerror`), so httpd adds the client and
//!   the connection id itself and applies that connection's `LogLevel`.
//! * [`boundary`]: the `catch_unwind` every entry point from httpd runs in.
//!   A panic that reached an `extern "C"` function would abort the httpd
//!   child with every connection it serves; inside the boundary it is
//!   logged and fails the one request, connection or configuration pass.
//!
//! Each module links its own copy (a cdylib each), so the statics here are
//! per module.

#![warn(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(
    test,
    allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]
pub mod boundary;
pub mod log;

pub use boundary::Scope;
