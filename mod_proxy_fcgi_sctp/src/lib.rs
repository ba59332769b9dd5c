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
//! Glue only: the module record, its one directive and hooks. The
//! request's work is in `handler`, the associations in `association`, pool
//! targets (RSerPool) in `pools`, the sans-I/O parts in `backend_url` and
//! `cgi_response`.

#![warn(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(
    test,
    allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]
pub mod association;
pub mod backend_url;
pub mod cgi_response;
mod config_check;
mod handler;
mod log;
mod pools;

use httpd_sys as ffi;
use httpd_sys::directive::{args, cmd_error, global_only};
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

/// `ProxyFcgiSctpRegistrar ADDR[:PORT] ...`: the RSerPool registrars that
/// resolve `fcgi+sctp+pool://` targets (docs/rserpool.md).
unsafe extern "C" fn cmd_registrar(
    cmd: *mut ffi::cmd_parms,
    _d: *mut c_void,
    argc: c_int,
    argv: *const *mut c_char,
) -> *const c_char {
    httpd_module::boundary::directive("ProxyFcgiSctpRegistrar", || {
        // SAFETY: httpd passes the live cmd_parms of this directive.
        if let Some(e) = unsafe { global_only(cmd) } {
            return e;
        }
        // SAFETY: TAKE_ARGV contract.
        let a: Vec<String> = unsafe { args(argc, argv) }
            .into_iter()
            .map(String::from)
            .collect();
        if a.is_empty() {
            // SAFETY: httpd passes the live cmd_parms of this directive.
            return unsafe {
                cmd_error(
                    cmd,
                    "ProxyFcgiSctpRegistrar: ADDR[:PORT] ... (at least one)",
                )
            };
        }
        match pools::add_registrars(&a) {
            Ok(()) => ptr::null(),
            Err(e) => {
                // SAFETY: httpd passes the live cmd_parms of this directive.
                unsafe { cmd_error(cmd, &format!("ProxyFcgiSctpRegistrar: {e}")) }
            }
        }
    })
}

#[repr(transparent)]
struct Commands([ffi::command_rec; 2]);
// SAFETY: the table is immutable data that httpd only reads.
unsafe impl Sync for Commands {}

static COMMANDS: Commands = Commands([
    ffi::command_rec {
        name: c"ProxyFcgiSctpRegistrar".as_ptr(),
        func: ffi::cmd_func {
            take_argv: Some(cmd_registrar),
        },
        cmd_data: ptr::null_mut(),
        req_override: ffi::RSRC_CONF as c_int,
        args_how: ffi::cmd_how_TAKE_ARGV,
        errmsg: c"ADDR[:PORT] ... - RSerPool registrars for fcgi+sctp+pool:// targets, tried in order (default: $RSP_REGISTRAR, else 127.0.0.1:3863)".as_ptr(),
    },
    // SAFETY: an all-zero command_rec is the table's terminator.
    unsafe { std::mem::zeroed() },
]);

unsafe extern "C" fn pre_config(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
) -> c_int {
    httpd_module::boundary::server("mod_proxy_fcgi_sctp: pre_config", || {
        // A configuration is about to be read (again, on a restart): only
        // what it says counts.
        log::init_tracing();
        pools::set_registrars(None);
        ffi::OK as c_int
    })
}

unsafe extern "C" fn post_config(
    pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    httpd_module::boundary::server("mod_proxy_fcgi_sctp: post_config", || {
        // Lines without a request go to this generation's error log from
        // here on. SAFETY: the main server of this generation and its
        // configuration pool; core has opened the logs (post_config).
        unsafe { httpd_module::log::set_server(s, pconf) };
        ffi::OK as c_int
    })
}

unsafe extern "C" fn check_config(
    _p: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    httpd_module::boundary::server("mod_proxy_fcgi_sctp: check_config", || {
        // SAFETY: the main server of the configuration just read.
        let bad = unsafe { config_check::bad_workers(s) };
        for b in &bad {
            // Through this configuration's server, as httpd's own
            // configuration errors (the startup log: logs are not open yet).
            // SAFETY: the live main server of the hook.
            unsafe {
                httpd_module::log::write_server(
                    log::aplog(association::Level::Emerg),
                    s,
                    "mod_proxy_fcgi_sctp",
                    0,
                    &format!("SCTP20026: unusable FastCGI-over-SCTP worker {b}"),
                )
            };
        }
        if bad.is_empty() {
            ffi::OK as c_int
        } else {
            ffi::HTTP_INTERNAL_SERVER_ERROR as c_int
        }
    })
}

unsafe extern "C" fn register_hooks(_p: *mut ffi::apr_pool_t) {
    httpd_module::boundary::void("mod_proxy_fcgi_sctp: register_hooks", || {
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
            ffi::ap_hook_pre_config(
                Some(pre_config),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
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
        }
    })
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
    cmds: &COMMANDS as *const Commands as *const ffi::command_rec,
    register_hooks: Some(register_hooks),
    flags: 0,
};
