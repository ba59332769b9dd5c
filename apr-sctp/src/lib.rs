//! apr-sctp: SCTP on APR sockets.
pub mod sys;
