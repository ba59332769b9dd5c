//! Lines into httpd's error log under this module's name, so that
//! `LogLevel proxy_fcgi_sctp:debug` controls them, through the workspace's
//! bridge (`httpd_module::log`, which mod_sctp uses too). The association
//! layer logs through a [`crate::association::Logger`] (so its tests can
//! capture lines); here that is [`server`].

use crate::association::Level;
use httpd_module::Scope;
use httpd_sys as ffi;

/// `tracing` events (the panic boundary's among them) under this module.
static MODULE: httpd_module::log::Module = httpd_module::log::Module {
    index: module_index,
    name: "mod_proxy_fcgi_sctp",
    prefixes: &[],
};

/// Installs the bridge (pre_config; once per mapping of the DSO).
pub fn init_tracing() {
    httpd_module::log::init(&MODULE);
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

/// A line about request `r` (httpd adds the client and applies the
/// request's `LogLevel`).
///
/// # Safety
/// `r` must be a live request.
pub unsafe fn request(r: *mut ffi::request_rec, level: Level, msg: &str) {
    httpd_module::log::write(
        aplog(level),
        Scope::Request(r),
        "mod_proxy_fcgi_sctp",
        0,
        msg,
    );
}

/// A line that belongs to no request (association readers), from any
/// thread: the main server's error log (the startup log before
/// post_config).
pub fn server(level: Level, msg: &str) {
    httpd_module::log::write(aplog(level), Scope::Server, "mod_proxy_fcgi_sctp", 0, msg);
}
