//! apr-sctp: SCTP on APR sockets.
//!
//! * [`sctp`]: a safe layer over the Linux SCTP socket API.
//! * [`apr_socket`]: `apr_socket_send_sctp()` / `apr_socket_recv_sctp()`,
//!   stream-aware I/O on an `apr_socket_t` with APR's timeout semantics.
//! * [`bucket`]: the SCTP bucket type, a socket bucket that records the
//!   stream of what it read.
pub mod apr_socket;
pub mod bucket;
pub mod sctp;
pub mod sys;
