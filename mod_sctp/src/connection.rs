//! What mod_sctp does for each accepted SCTP association.
//!
//! * pre_connection: recognise SCTP sockets (APR records the protocol of the
//!   listener on the accepted socket) and add SCTP_OUT, which takes over the
//!   network writes.
//! * insert_network_bucket: feed CORE_IN from an SCTP bucket (apr-sctp),
//!   which reads with `recvmsg` and records the stream of each message.
//!   Responses go on stream 0 for now; the stream-aware demux replaces this.

use crate::ffi;
use crate::output_filter;
use std::os::raw::{c_int, c_void};

pub(crate) fn is_sctp(sock: *mut ffi::apr_socket_t) -> bool {
    if sock.is_null() {
        return false;
    }
    let mut proto: c_int = 0;
    // SAFETY: live APR socket, valid out-pointer.
    unsafe { ffi::apr_socket_protocol_get(sock, &mut proto) };
    proto == ffi::APR_PROTO_SCTP as c_int
}

pub(crate) unsafe extern "C" fn pre_connection(c: *mut ffi::conn_rec, csd: *mut c_void) -> c_int {
    let sock = csd as *mut ffi::apr_socket_t;
    // SAFETY: httpd passes the live connection; secondary connections
    // (mod_http2's) have a master and no socket of their own.
    if unsafe { !(*c).master.is_null() } || !is_sctp(sock) {
        return ffi::DECLINED;
    }
    let cfg = crate::config();
    // SAFETY: pre_connection of an SCTP connection, before any I/O.
    unsafe { output_filter::add(c, sock, cfg.max_message) };
    // SAFETY: live connection for the log id.
    let id = unsafe { (*c).id };
    tracing::debug!(
        "connection {id}: SCTP association accepted, SCTP_OUT added (max message {} bytes)",
        cfg.max_message
    );
    ffi::OK as c_int
}

pub(crate) unsafe extern "C" fn insert_network_bucket(
    c: *mut ffi::conn_rec,
    bb: *mut ffi::apr_bucket_brigade,
    sock: *mut ffi::apr_socket_t,
) -> ffi::apr_status_t {
    if !is_sctp(sock) {
        return ffi::AP_DECLINED as ffi::apr_status_t;
    }
    // SAFETY: live connection and brigade; the bucket is allocated from the
    // connection's bucket allocator and appended (APR_BRIGADE_INSERT_TAIL).
    unsafe {
        let b = apr_sctp::bucket::create(sock as *mut _, (*c).bucket_alloc as *mut _)
            as *mut ffi::apr_bucket;
        let sentinel = crate::brigade::sentinel(bb);
        let last = (*bb).list.prev;
        (*b).link.next = sentinel;
        (*b).link.prev = last;
        (*last).link.next = b;
        (*bb).list.prev = b;
    }
    0
}
