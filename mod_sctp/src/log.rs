//! Routes `tracing` events (mod_sctp's and apr-sctp's) into httpd's error
//! log, so that `LogLevel sctp:debug` controls what is written.

use crate::ffi;
use std::ffi::CString;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicPtr, Ordering};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, Metadata, Subscriber};

/// The server whose log level and error log apply: the main server of the
/// current generation, from post_config (core's open_logs has opened its
/// error log by then) until its configuration pool is cleared. Null outside
/// that window: lines then go to httpd's startup log (stderr), as httpd's
/// own do, never through a server_rec whose error log is not open yet
/// (httpd would send them to syslog) or whose pool is gone.
static SERVER: AtomicPtr<ffi::server_rec> = AtomicPtr::new(std::ptr::null_mut());

/// post_config: log through `s` from now on, until `pconf` is cleared.
///
/// # Safety
/// `s` is the main server of the generation whose configuration pool is
/// `pconf`, and core has opened its logs.
pub unsafe fn set_server(s: *mut ffi::server_rec, pconf: *mut ffi::apr_pool_t) {
    SERVER.store(s, Ordering::Release);
    // SAFETY: a cleanup with a null argument on a live pool. httpd unloads
    // this DSO in a cleanup of the same pool registered earlier (at
    // LoadModule), which runs after this one, so the function is mapped.
    unsafe {
        ffi::apr_pool_cleanup_register(
            pconf,
            std::ptr::null(),
            Some(forget_server),
            Some(ffi::apr_pool_cleanup_null),
        )
    };
}

unsafe extern "C" fn forget_server(_: *mut std::ffi::c_void) -> ffi::apr_status_t {
    SERVER.store(std::ptr::null_mut(), Ordering::Release);
    0
}

/// Installs the subscriber, once per mapping of this DSO (httpd unloads and
/// reloads it with every configuration pass, which resets every static
/// here, tracing's own included; if it stays mapped, the first subscriber
/// stays: it holds no pointer into a configuration pool).
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing::dispatcher::set_global_default(tracing::Dispatch::new(ErrorLog));
    });
}

fn aplog_level(l: &Level) -> i32 {
    match *l {
        Level::ERROR => ffi::APLOG_ERR as i32,
        Level::WARN => ffi::APLOG_WARNING as i32,
        Level::INFO => ffi::APLOG_INFO as i32,
        Level::DEBUG => ffi::APLOG_DEBUG as i32,
        Level::TRACE => ffi::APLOG_TRACE1 as i32,
    }
}

/// The level `LogLevel` configured for this module on the main server.
fn configured_level() -> Option<i32> {
    let s = SERVER.load(Ordering::Acquire);
    if s.is_null() {
        return None;
    }
    // SAFETY: `s` is the live main server_rec of this generation (see
    // SERVER: reset to null when its pool is cleared).
    Some(unsafe { ffi::ap_get_server_module_loglevel(s, crate::module_index() as i32) })
}

/// Writes one line to httpd's error log of `s` (null: the startup log).
///
/// # Safety
/// `s` is a live server_rec or null.
pub unsafe fn write_line(level: i32, s: *mut ffi::server_rec, file: &str, line: u32, msg: &str) {
    let msg = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    let file = CString::new(file).unwrap_or_default();
    // SAFETY: ap_log_error_ is httpd's logger; every pointer is a valid
    // NUL-terminated string, and `s` is a live server_rec or null (the
    // caller's contract); "%s" consumes exactly the one argument.
    unsafe {
        ffi::ap_log_error_(
            file.as_ptr(),
            line as i32,
            crate::module_index() as i32,
            level,
            0,
            s,
            c"%s".as_ptr(),
            msg.as_ptr(),
        );
    }
}

struct ErrorLog;

#[derive(Default)]
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl Subscriber for ErrorLog {
    /// Never cached: whether a line is written depends on the LogLevel of
    /// the moment (none before post_config, another one after a graceful
    /// restart), not on the level when its callsite was first reached.
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        match configured_level() {
            // Before post_config (e.g. while reading the config) let warnings
            // and errors through to httpd's startup log.
            None => *meta.level() <= Level::WARN,
            Some(max) => aplog_level(meta.level()) <= max,
        }
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        let meta = event.metadata();
        if meta.target().starts_with("apr_sctp") {
            line.0.insert_str(0, "apr-sctp: ");
        }
        // SAFETY: SERVER is null or the live main server of this
        // generation (see SERVER).
        unsafe {
            write_line(
                aplog_level(meta.level()),
                SERVER.load(Ordering::Acquire),
                meta.file().unwrap_or("mod_sctp"),
                meta.line().unwrap_or(0),
                &line.0,
            )
        };
    }
}
