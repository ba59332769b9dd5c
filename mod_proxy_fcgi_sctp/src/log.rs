//! Lines into httpd's error log under this module's name, so that
//! `LogLevel proxy_fcgi_sctp:debug` controls them.

use crate::association::Level;
use httpd_sys as ffi;
use std::ffi::CString;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The main server of the current generation, for lines that belong to no
/// request (association readers). Set in post_config and child_init.
static SERVER: AtomicPtr<ffi::server_rec> = AtomicPtr::new(std::ptr::null_mut());

pub fn set_server(s: *mut ffi::server_rec) {
    SERVER.store(s, Ordering::Release);
}

pub fn aplog(level: Level) -> i32 {
    (match level {
        Level::Emerg => ffi::APLOG_EMERG,
        Level::Error => ffi::APLOG_ERR,
        Level::Warn => ffi::APLOG_WARNING,
        Level::Info => ffi::APLOG_INFO,
        Level::Debug => ffi::APLOG_DEBUG,
    }) as i32
}

/// This module's index, for its per-server and per-request settings.
pub fn module_index() -> i32 {
    // SAFETY: httpd writes module_index once while loading the module, before
    // any hook runs; afterwards it is only read.
    unsafe { (*std::ptr::addr_of!(crate::proxy_fcgi_sctp_module)).module_index }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

/// A line about request `r`.
///
/// # Safety
/// `r` must be a live request.
pub unsafe fn request(r: *mut ffi::request_rec, level: Level, msg: &str) {
    let msg = cstring(msg);
    // SAFETY: httpd's logger; `r` is live (caller's contract); "%s" takes
    // exactly the one NUL-terminated argument.
    unsafe {
        ffi::ap_log_rerror_(
            c"mod_proxy_fcgi_sctp".as_ptr(),
            0,
            module_index(),
            aplog(level),
            0,
            r,
            c"%s".as_ptr(),
            msg.as_ptr(),
        )
    };
}

/// A line that belongs to no request, from any thread.
pub fn server(level: Level, msg: &str) {
    let msg = cstring(msg);
    let s = SERVER.load(Ordering::Acquire);
    // SAFETY: `s` is null (the startup log) or the live main server of this
    // generation; ap_log_error_ is thread-safe; "%s" takes the one argument.
    unsafe {
        ffi::ap_log_error_(
            c"mod_proxy_fcgi_sctp".as_ptr(),
            0,
            module_index(),
            aplog(level),
            0,
            s,
            c"%s".as_ptr(),
            msg.as_ptr(),
        )
    };
}
