//! The sans-I/O session of one association (issue 14).

pub mod queues;
