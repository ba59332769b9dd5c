//! The panic boundary of every entry point from httpd (hooks, filters,
//! handlers, directive callbacks, pool cleanups), in the manner of
//! rustls-ffi's `ffi_panic_boundary!`.
//!
//! A panic that reaches an `extern "C"` function aborts the process (Rust
//! 1.81 and later), and an httpd child serves many connections: one bug in
//! one request would end them all. [`run`] catches the panic, logs it at
//! `error` with what was running and what fails because of it, and returns
//! the entry point's failure value: 500 for a request, an aborted
//! connection for a connection hook or filter, a configuration error for a
//! directive or a configuration hook (httpd then refuses to start, with the
//! message), nothing for a cleanup.
//!
//! The boundary also sets the scope `log` writes lines in, so that every
//! line an entry point logs names its connection or request.

use crate::log;
use httpd_sys as ffi;
use std::any::Any;
use std::os::raw::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What an entry point is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Configuration and process-wide hooks.
    #[default]
    Server,
    /// One connection (httpd's `conn_rec`), live while the entry point runs.
    Conn(*mut ffi::conn_rec),
    /// One request, live while the entry point runs.
    Request(*mut ffi::request_rec),
}

/// The stable id of the panic line (docs/directives.md, "Logging").
pub const PANIC_ID: &str = "SCTP10001";

/// The text of a panic's payload.
pub fn panic_message(p: &(dyn Any + Send)) -> &str {
    if let Some(s) = p.downcast_ref::<&str>() {
        s
    } else if let Some(s) = p.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// Runs `f` for an entry point called `what`, in `scope`. A panic is logged
/// (naming `what` and `fails`, what it costs) and `on_panic` answers
/// instead.
///
/// # Safety
/// The connection or request of `scope` is live for the whole call (lines
/// logged meanwhile read its `LogLevel`).
pub unsafe fn run<T>(
    scope: Scope,
    what: &str,
    fails: &str,
    on_panic: impl FnOnce() -> T,
    f: impl FnOnce() -> T,
) -> T {
    let _scope = log::enter(scope);
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => {
            tracing::error!(
                "{PANIC_ID}: panic in {what}: {}; {fails}, the process serves on",
                panic_message(p.as_ref())
            );
            on_panic()
        }
    }
}

/// [`run`] for process-wide code (configuration, cleanups, threads of the
/// module's own): no connection or request to name.
pub fn run_server<T>(
    what: &str,
    fails: &str,
    on_panic: impl FnOnce() -> T,
    f: impl FnOnce() -> T,
) -> T {
    // SAFETY: the server scope holds no pointer.
    unsafe { run(Scope::Server, what, fails, on_panic, f) }
}

/// A request hook or handler: a panic answers 500.
///
/// # Safety
/// `r` is the live request httpd passed.
pub unsafe fn request(r: *mut ffi::request_rec, what: &str, f: impl FnOnce() -> c_int) -> c_int {
    // SAFETY: the caller's contract.
    unsafe {
        run(
            Scope::Request(r),
            what,
            "this request fails with 500",
            || ffi::HTTP_INTERNAL_SERVER_ERROR as c_int,
            f,
        )
    }
}

/// A connection hook: a panic aborts the connection and answers
/// `on_panic` (DONE for pre_connection and process_connection: httpd does
/// nothing more with it but close it).
///
/// # Safety
/// `c` is the live connection httpd passed.
pub unsafe fn connection(
    c: *mut ffi::conn_rec,
    what: &str,
    on_panic: c_int,
    f: impl FnOnce() -> c_int,
) -> c_int {
    // SAFETY: the caller's contract.
    unsafe {
        run(
            Scope::Conn(c),
            what,
            "this connection is closed",
            || {
                abort_connection(c);
                on_panic
            },
            f,
        )
    }
}

/// A connection or request filter: a panic aborts its connection and the
/// filter fails (APR_EGENERAL).
///
/// # Safety
/// `f` is the live filter httpd passed.
pub unsafe fn filter(
    filter: *mut ffi::ap_filter_t,
    what: &str,
    f: impl FnOnce() -> ffi::apr_status_t,
) -> ffi::apr_status_t {
    // SAFETY: a live filter has its connection; its request may be null.
    let (c, r) = unsafe { ((*filter).c, (*filter).r) };
    let scope = if r.is_null() {
        Scope::Conn(c)
    } else {
        Scope::Request(r)
    };
    // SAFETY: the caller's contract.
    unsafe {
        run(
            scope,
            what,
            "its connection is closed",
            || {
                abort_connection(c);
                ffi::APR_EGENERAL as ffi::apr_status_t
            },
            f,
        )
    }
}

/// # Safety
/// `c` is null or live.
unsafe fn abort_connection(c: *mut ffi::conn_rec) {
    if !c.is_null() {
        // SAFETY: the caller's contract.
        unsafe { (*c).aborted = 1 };
    }
}

/// A configuration or process hook returning a status: a panic answers
/// 500, which httpd takes as a failed configuration (it says so and does
/// not start, or keeps the running generation on a restart).
pub fn server(what: &str, f: impl FnOnce() -> c_int) -> c_int {
    run_server(
        what,
        "the configuration fails",
        || ffi::HTTP_INTERNAL_SERVER_ERROR as c_int,
        f,
    )
}

/// A hook without a result (child_init, optional-function retrieval).
pub fn void(what: &str, f: impl FnOnce()) {
    run_server(what, "it is skipped", || (), f)
}

/// A pool cleanup: a panic is logged and the cleanup reports success (a
/// failed cleanup would not be retried).
pub fn cleanup(what: &str, f: impl FnOnce() -> ffi::apr_status_t) -> ffi::apr_status_t {
    run_server(
        what,
        "the cleanup is skipped",
        || ffi::APR_SUCCESS as ffi::apr_status_t,
        f,
    )
}

/// The message a directive callback returns after a panic (httpd prints it
/// with the directive's file and line and does not start).
pub const DIRECTIVE_PANIC: &std::ffi::CStr =
    c"internal error while reading this directive (a panic; see the error log)";

/// A directive callback: a panic refuses the directive.
pub fn directive(what: &str, f: impl FnOnce() -> *const c_char) -> *const c_char {
    run_server(
        what,
        "the directive is refused",
        || DIRECTIVE_PANIC.as_ptr(),
        f,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_answers_the_failure_value_and_the_next_call_runs() {
        let v = run_server("test", "nothing", || 7, || panic!("on purpose"));
        assert_eq!(v, 7);
        assert_eq!(run_server("test", "nothing", || 7, || 1), 1);
        assert_eq!(
            server("hook", || panic!("x")),
            ffi::HTTP_INTERNAL_SERVER_ERROR as c_int
        );
        assert_eq!(cleanup("cleanup", || panic!("x")), 0);
        assert_eq!(directive("cmd", || panic!("x")), DIRECTIVE_PANIC.as_ptr());
    }

    #[test]
    fn the_scope_is_restored_after_a_panic() {
        let c = std::ptr::NonNull::<ffi::conn_rec>::dangling().as_ptr();
        // SAFETY: nothing reads the connection: no subscriber is installed
        // in this test, so nothing is logged about it.
        let seen = unsafe {
            run(
                Scope::Conn(c),
                "outer",
                "",
                || None,
                || {
                    run_server("inner", "", || (), || panic!("inner"));
                    Some(log::scope())
                },
            )
        };
        assert_eq!(
            seen,
            Some(Scope::Conn(c)),
            "the inner boundary restored the outer scope"
        );
        assert_eq!(log::scope(), Scope::Server);
    }

    #[test]
    fn panic_messages_are_read_from_str_and_string_payloads() {
        let p = catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "static");
        let p = catch_unwind(|| panic!("formatted {}", 1)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "formatted 1");
    }
}
