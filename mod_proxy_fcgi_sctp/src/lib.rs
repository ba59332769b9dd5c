//! mod_proxy_fcgi_sctp: the `fcgi+sctp://` scheme for mod_proxy. FastCGI
//! backends are reached over SCTP with the stream plan of docs/fastcgi.md:
//! one association per backend per httpd child, shared by its threads, each
//! request on a stream of its own (request id = stream number), stream 1
//! for FCGI_GET_VALUES and the backend's log lines, stream 0 silent.
//!
//! A module of its own, separate from mod_sctp: it needs mod_proxy (its
//! hooks are mod_proxy's), and mod_sctp must keep loading without it. Load
//! it after mod_proxy, as mod_proxy_fcgi is.
//!
//! Glue only: the module record and hooks. The request's work is in
//! `handler`, the associations in `association`, the sans-I/O parts in
//! `backend_url` and `cgi_response`.

pub mod association;
pub mod backend_url;
pub mod cgi_response;
mod config_check;
mod handler;
mod log;

use httpd_sys as ffi;
use std::os::raw::{c_char, c_int};
use std::ptr;

unsafe extern "C" fn post_config(
    _p: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    log::set_server(s);
    ffi::OK as c_int
}

unsafe extern "C" fn check_config(
    _p: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    // The new generation's server from here on (the last one's may be gone
    // with its configuration pool).
    log::set_server(s);
    // SAFETY: the main server of the configuration just read.
    let bad = unsafe { config_check::bad_workers(s) };
    for b in &bad {
        log::server(
            association::Level::Emerg,
            &format!("unusable FastCGI-over-SCTP worker {b}"),
        );
    }
    if bad.is_empty() {
        ffi::OK as c_int
    } else {
        ffi::HTTP_INTERNAL_SERVER_ERROR as c_int
    }
}

unsafe extern "C" fn child_init(_p: *mut ffi::apr_pool_t, s: *mut ffi::server_rec) {
    log::set_server(s);
}

unsafe extern "C" fn register_hooks(_p: *mut ffi::apr_pool_t) {
    // SAFETY: httpd's and mod_proxy's hook registration, called from
    // register_hooks (mod_proxy is loaded: its symbols resolved at dlopen).
    unsafe {
        ffi::proxy_hook_scheme_handler(
            Some(handler::scheme_handler),
            ptr::null(),
            ptr::null(),
            ffi::APR_HOOK_FIRST as c_int,
        );
        ffi::proxy_hook_canon_handler(
            Some(handler::canon_handler),
            ptr::null(),
            ptr::null(),
            ffi::APR_HOOK_FIRST as c_int,
        );
        // After mod_proxy has defined its workers (its own check_config).
        ffi::ap_hook_check_config(
            Some(check_config),
            ptr::null(),
            ptr::null(),
            ffi::APR_HOOK_LAST as c_int,
        );
        ffi::ap_hook_post_config(
            Some(post_config),
            ptr::null(),
            ptr::null(),
            ffi::APR_HOOK_MIDDLE as c_int,
        );
        ffi::ap_hook_child_init(
            Some(child_init),
            ptr::null(),
            ptr::null(),
            ffi::APR_HOOK_MIDDLE as c_int,
        );
    }
}

/// The module record httpd finds with `LoadModule proxy_fcgi_sctp_module`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut proxy_fcgi_sctp_module: ffi::module = ffi::module {
    version: ffi::MODULE_MAGIC_NUMBER_MAJOR as c_int,
    minor_version: ffi::MODULE_MAGIC_NUMBER_MINOR as c_int,
    module_index: -1,
    name: c"mod_proxy_fcgi_sctp.c".as_ptr() as *const c_char,
    dynamic_load_handle: ptr::null_mut(),
    next: ptr::null_mut(),
    magic: ffi::MODULE_MAGIC_COOKIE as std::os::raw::c_ulong,
    rewrite_args: None,
    create_dir_config: None,
    merge_dir_config: None,
    create_server_config: None,
    merge_server_config: None,
    cmds: ptr::null(),
    register_hooks: Some(register_hooks),
    flags: 0,
};
