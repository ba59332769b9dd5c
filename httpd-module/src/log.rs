//! Routes `tracing` events into httpd's error log under one module's name.
//!
//! * Filtering follows `LogLevel` for the module: the main server's once
//!   post_config has run, the connection's or request's own (per virtual
//!   host or directory) for a line written inside a boundary with that
//!   scope. Before post_config, warnings and errors go to httpd's startup
//!   log (stderr), as httpd's own do.
//! * A line inside a boundary with a connection or request scope is written
//!   with `ap_log_cerror_`/`ap_log_rerror_`: httpd adds the client address
//!   and the connection id (`ErrorLogFormat`'s defaults), as for its own
//!   lines about that connection.
//! * Callsite interest is never cached: whether a line is written depends
//!   on the `LogLevel` of the moment (none before post_config, another one
//!   after a graceful restart), not on the level when the callsite was
//!   first reached.
//!
//! httpd unloads and reloads a module's DSO with every configuration pass,
//! which resets every static here, tracing's own included; if the DSO stays
//! mapped, the first subscriber stays: it holds no pointer into a
//! configuration pool.

use crate::boundary::Scope;
use httpd_sys as ffi;
use std::cell::Cell;
use std::ffi::CString;
use std::fmt::Write as _;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, Metadata, Subscriber};

/// Who is logging: set once per DSO mapping by [`init`].
pub struct Module {
    /// The module's index in httpd (httpd sets it when loading the module,
    /// so it is read at each use).
    pub index: fn() -> c_int,
    /// The file name given to httpd for events without one.
    pub name: &'static str,
    /// Line prefixes by target: an event whose target starts with `.0`
    /// gets `.1` in front of its message (e.g. lines of a library crate).
    pub prefixes: &'static [(&'static str, &'static str)],
}

static MODULE: OnceLock<&'static Module> = OnceLock::new();

/// The main server of the current generation, from post_config (core's
/// open_logs has opened its error log by then) until its configuration pool
/// is cleared. Null outside that window: lines then go to httpd's startup
/// log (stderr), never through a server_rec whose error log is not open yet
/// (httpd would send them to syslog) or whose pool is gone.
static SERVER: AtomicPtr<ffi::server_rec> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    /// What the entry point running on this thread is about (see
    /// `boundary::run`, which sets and restores it).
    static SCOPE: Cell<Scope> = const { Cell::new(Scope::Server) };
}

/// Installs the subscriber for `module`, once per mapping of the DSO.
pub fn init(module: &'static Module) {
    if MODULE.set(module).is_ok() {
        let _ = tracing::dispatcher::set_global_default(tracing::Dispatch::new(ErrorLog));
    }
}

/// post_config: log through `s` from now on, until `pconf` is cleared.
///
/// # Safety
/// `s` is the main server of the generation whose configuration pool is
/// `pconf`, and core has opened its logs.
pub unsafe fn set_server(s: *mut ffi::server_rec, pconf: *mut ffi::apr_pool_t) {
    SERVER.store(s, Ordering::Release);
    // SAFETY: a cleanup with a null argument on a live pool. httpd unloads
    // the DSO in a cleanup of the same pool registered earlier (at
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

/// The main server lines without a scope go to (null before post_config).
pub fn server() -> *mut ffi::server_rec {
    SERVER.load(Ordering::Acquire)
}

/// This thread's scope.
#[cfg(test)]
pub(crate) fn scope() -> Scope {
    SCOPE.with(Cell::get)
}

/// Sets this thread's scope until the guard drops (also on unwinding).
pub(crate) fn enter(scope: Scope) -> ScopeGuard {
    ScopeGuard(SCOPE.with(|s| s.replace(scope)))
}

pub(crate) struct ScopeGuard(Scope);

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPE.with(|s| s.set(self.0));
    }
}

/// httpd's level for a tracing level.
pub fn aplog_level(l: &Level) -> c_int {
    (match *l {
        Level::ERROR => ffi::APLOG_ERR,
        Level::WARN => ffi::APLOG_WARNING,
        Level::INFO => ffi::APLOG_INFO,
        Level::DEBUG => ffi::APLOG_DEBUG,
        Level::TRACE => ffi::APLOG_TRACE1,
    }) as c_int
}

fn module_index() -> c_int {
    MODULE.get().map_or(-1, |m| (m.index)())
}

/// The module's level in one `LogLevel` configuration (httpd's
/// `ap_get_module_loglevel`: the per-module level where one was set).
///
/// # Safety
/// `l` is a live logconf; its module_levels, if any, has an entry per
/// loaded module.
unsafe fn logconf_level(l: *const ffi::ap_logconf, index: c_int) -> c_int {
    // SAFETY: the caller's contract.
    unsafe {
        let levels = (*l).module_levels;
        if index >= 0 && !levels.is_null() {
            let v = *levels.add(index as usize);
            if v >= 0 {
                return c_int::from(v);
            }
        }
        (*l).level
    }
}

/// The `LogLevel` that applies to a line in `scope` now (None: before
/// post_config, no server to ask).
fn configured_level(scope: Scope) -> Option<c_int> {
    let index = module_index();
    // SAFETY: a scope's pointers are live while its boundary runs (the
    // boundary's contract); SERVER is null or the live main server.
    unsafe {
        let l: *const ffi::ap_logconf = match scope {
            Scope::Request(r) if !r.is_null() => {
                if !(*r).log.is_null() {
                    (*r).log
                } else {
                    let c = (*r).connection;
                    if !c.is_null() && !(*c).log.is_null() {
                        (*c).log
                    } else {
                        &(*(*r).server).log
                    }
                }
            }
            Scope::Conn(c) if !c.is_null() => {
                if !(*c).log.is_null() {
                    (*c).log
                } else {
                    &(*(*c).base_server).log
                }
            }
            _ => {
                let s = SERVER.load(Ordering::Acquire);
                if s.is_null() {
                    return None;
                }
                &(*s).log
            }
        };
        Some(logconf_level(l, index))
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

/// One call of httpd's logger `$f` about `$who` (a request, a connection
/// or a server): "%s" and the message, NUL-terminated.
macro_rules! log_call {
    ($f:path, $who:expr, $file:expr, $line:expr, $level:expr, $msg:expr) => {
        $f(
            $file.as_ptr(),
            $line,
            module_index(),
            $level,
            0,
            $who,
            c"%s".as_ptr(),
            $msg.as_ptr(),
        )
    };
}

/// Writes one line to httpd's error log about `scope` (its connection or
/// request; else the main server, or the startup log before post_config).
pub fn write(level: c_int, scope: Scope, file: &str, line: u32, msg: &str) {
    let (msg, file) = (cstring(msg), cstring(file));
    let line = c_int::try_from(line).unwrap_or(0);
    // SAFETY: httpd's loggers (thread-safe); every string is NUL-terminated
    // and "%s" consumes exactly the one argument; a scope's pointers are live
    // while its boundary runs, SERVER is null or the live main server.
    unsafe {
        match scope {
            Scope::Request(r) if !r.is_null() => {
                log_call!(ffi::ap_log_rerror_, r, file, line, level, msg)
            }
            Scope::Conn(c) if !c.is_null() => {
                log_call!(ffi::ap_log_cerror_, c, file, line, level, msg)
            }
            _ => log_call!(ffi::ap_log_error_, server(), file, line, level, msg),
        }
    }
}

/// Writes one line through server `s` (null: the startup log), whatever
/// the scope: for check_config's lines about directives, which name their
/// own file and line.
///
/// # Safety
/// `s` is a live server_rec or null.
pub unsafe fn write_server(
    level: c_int,
    s: *mut ffi::server_rec,
    file: &str,
    line: u32,
    msg: &str,
) {
    let (msg, file) = (cstring(msg), cstring(file));
    let line = c_int::try_from(line).unwrap_or(0);
    // SAFETY: as in `write`; `s` is live or null (the caller's contract).
    unsafe { log_call!(ffi::ap_log_error_, s, file, line, level, msg) }
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
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        match configured_level(SCOPE.with(Cell::get)) {
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
        let module = MODULE.get();
        if let Some(m) = module {
            if let Some((_, p)) = m
                .prefixes
                .iter()
                .find(|(t, _)| meta.target().starts_with(t))
            {
                line.0.insert_str(0, p);
            }
        }
        write(
            aplog_level(meta.level()),
            SCOPE.with(Cell::get),
            meta.file()
                .unwrap_or(module.map_or("httpd-module", |m| m.name)),
            meta.line().unwrap_or(0),
            &line.0,
        );
    }
}
