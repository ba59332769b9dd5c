//! What mod_sctp does for each accepted SCTP association.
//!
//! * pre_connection: recognise SCTP sockets (APR records the protocol of the
//!   listener on the accepted socket), create the association's state and
//!   add SCTP_IN and SCTP_OUT, which take over the network reads and writes
//!   (core's CORE_IN and CORE below them are never called).
//! * post_read_request: environment variables for the request (stream,
//!   association id, peer addresses) for CGI, SSI, mod_rewrite and logs.

use crate::association::Assoc;
use crate::ffi;
use crate::input_filter;
use crate::output_filter;
use std::ffi::CString;
use std::os::raw::{c_int, c_void};
use std::ptr;

pub(crate) fn is_sctp(sock: *mut ffi::apr_socket_t) -> bool {
    if sock.is_null() {
        return false;
    }
    let mut proto: c_int = 0;
    // SAFETY: live APR socket, valid out-pointer.
    unsafe { ffi::apr_socket_protocol_get(sock, &mut proto) };
    proto == ffi::APR_PROTO_SCTP as c_int
}

/// The association of an SCTP connection (`None` for other connections).
///
/// # Safety
/// `c` is a live connection.
pub unsafe fn assoc_of(c: *mut ffi::conn_rec) -> Option<&'static mut Assoc> {
    // SAFETY: conn_config is an array of one pointer per module
    // (ap_get_module_config); on a connection without a master ours is
    // null or the Assoc set in pre_connection, which lives as long as the
    // connection (a stream connection's is its StreamCtx).
    unsafe {
        if !(*c).master.is_null() {
            return None;
        }
        let v = (*c).conn_config as *mut *mut c_void;
        let a = *v.add(crate::module_index()) as *mut Assoc;
        a.as_mut()
    }
}

pub(crate) unsafe extern "C" fn pre_connection(c: *mut ffi::conn_rec, csd: *mut c_void) -> c_int {
    let body = || {
        let sock = csd as *mut ffi::apr_socket_t;
        // SAFETY: httpd passes the live connection; secondary connections
        // (mod_http2's) have a master and no socket of their own.
        if unsafe { !(*c).master.is_null() } || !is_sctp(sock) {
            return ffi::DECLINED;
        }
        let cfg = crate::config();
        // SAFETY: pre_connection of an SCTP connection, before any I/O; the
        // filters get the Assoc (connection pool lifetime) as their context,
        // and so does the module's slot in conn_config.
        let a = unsafe {
            let a = Assoc::create(c, sock, &cfg);
            (*a).list();
            let v = (*c).conn_config as *mut *mut c_void;
            *v.add(crate::module_index()) = a as *mut c_void;
            ffi::ap_add_input_filter_handle(
                input_filter::HANDLE,
                a as *mut c_void,
                ptr::null_mut(),
                c,
            );
            ffi::ap_add_output_filter_handle(
                output_filter::HANDLE,
                a as *mut c_void,
                ptr::null_mut(),
                c,
            );
            &*a
        };
        match &a.ended_before_accept {
            None => tracing::debug!(
                "association {}: accepted from {}, streams in/out {}/{}; SCTP_IN and SCTP_OUT added (max message {} bytes)",
                a.assoc_id,
                a.peers_text(),
                a.in_streams,
                a.out_streams,
                cfg.max_message
            ),
            // Its id, peer and streams are gone with it (SCTP_STATUS fails):
            // say what happened rather than log blanks.
            Some(e) => tracing::debug!(
                "an SCTP association had ended before httpd accepted it (the peer aborted or shut it down; SCTP_STATUS: {e}); what it sent is still read, under its id once known"
            ),
        }
        ffi::OK as c_int
    };
    // SAFETY: httpd passes a live connection for the whole call.
    unsafe { httpd_module::boundary::connection(c, "mod_sctp: pre_connection", ffi::DONE, body) }
}

/// Sets `name=value` in the request's environment (request pool copies).
///
/// # Safety
/// `r` is a live request.
unsafe fn setenv(r: *mut ffi::request_rec, name: &str, value: &str) {
    let (Ok(n), Ok(v)) = (CString::new(name), CString::new(value)) else {
        return;
    };
    // SAFETY: apr_table_set copies both strings into the table's pool.
    unsafe { ffi::apr_table_set((*r).subprocess_env, n.as_ptr(), v.as_ptr()) };
}

pub(crate) unsafe extern "C" fn post_read_request(r: *mut ffi::request_rec) -> c_int {
    let body = || {
        // SAFETY: live request and connection.
        let c = unsafe { (*r).connection };
        // SAFETY: live connection.
        if let Some(s) = unsafe { crate::stream_connection::stream_of(c) } {
            let id = s.identity();
            // SAFETY: live request.
            unsafe {
                set_vars(
                    r,
                    s.sid,
                    id.assoc_id,
                    &id.peers,
                    id.in_streams,
                    id.out_streams,
                )
            };
            return ffi::DECLINED;
        }
        // SAFETY: live connection.
        let Some(a) = (unsafe { assoc_of(c) }) else {
            return ffi::DECLINED;
        };
        let stream = a.demux.pinned().unwrap_or(a.response_sid);
        // SAFETY: live request.
        unsafe {
            set_vars(
                r,
                stream,
                a.assoc_id,
                &a.peers_text(),
                a.in_streams,
                a.out_streams,
            )
        };
        ffi::DECLINED
    };
    // SAFETY: httpd passes a live request for the whole call.
    unsafe { httpd_module::boundary::request(r, "mod_sctp: post_read_request", body) }
}

/// The request's SCTP variables (SCTP_STREAM and the association's).
///
/// # Safety
/// `r` is a live request.
unsafe fn set_vars(
    r: *mut ffi::request_rec,
    stream: u16,
    assoc_id: i32,
    peers: &str,
    in_streams: u16,
    out_streams: u16,
) {
    // SAFETY: live request (caller's contract).
    unsafe {
        setenv(r, "SCTP", "on");
        setenv(r, "TRANSPORT", "sctp");
        setenv(r, "SCTP_STREAM", &stream.to_string());
        setenv(r, "SCTP_ASSOC_ID", &assoc_id.to_string());
        setenv(r, "SCTP_PEER_ADDRS", peers);
        setenv(r, "SCTP_STREAMS_IN", &in_streams.to_string());
        setenv(r, "SCTP_STREAMS_OUT", &out_streams.to_string());
    }
}
