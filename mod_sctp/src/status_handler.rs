//! `SetHandler sctp-status`: the live associations of every child, from the
//! shared table (`registry`), rendered by `status`.
//!
//! The parent creates the table once (anonymous shared memory in the
//! process pool, found again through httpd's retained data at graceful
//! restarts), before any child is forked; children inherit the mapping.

use crate::ffi;
use crate::registry::{self, Slot, Table};
use crate::status;
use std::ffi::CStr;
use std::os::raw::c_int;
use std::ptr;
use std::sync::atomic::{AtomicI64, AtomicPtr, AtomicUsize, Ordering};

/// Slots in the table: associations listed at once across all children.
pub const SLOTS: usize = 4096;

static BASE: AtomicPtr<Slot> = AtomicPtr::new(ptr::null_mut());
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// Associations that found no free slot, across all children (shared).
static UNLISTED: AtomicPtr<AtomicI64> = AtomicPtr::new(ptr::null_mut());

const RETAINED_KEY: &CStr = c"mod_sctp-status-table";

#[repr(C)]
struct Retained {
    base: *mut Slot,
    count: usize,
    unlisted: *mut AtomicI64,
}

/// Counts an association that could not be listed (`delta` 1) or that
/// ended unlisted (-1).
pub fn count_unlisted(delta: i64) {
    let u = UNLISTED.load(Ordering::Acquire);
    // SAFETY: null or the shared counter created in `init`.
    if let Some(u) = unsafe { u.as_ref() } {
        u.fetch_add(delta, Ordering::AcqRel);
    }
}

fn unlisted() -> u64 {
    let u = UNLISTED.load(Ordering::Acquire);
    // SAFETY: null or the shared counter created in `init`.
    unsafe { u.as_ref() }.map_or(0, |u| u.load(Ordering::Acquire).max(0) as u64)
}

/// The table, once the parent created it.
pub fn table() -> Option<Table<'static>> {
    let base = BASE.load(Ordering::Acquire);
    if base.is_null() {
        return None;
    }
    // SAFETY: BASE points to COUNT slots of shared memory that lives as
    // long as the process (process pool); zero bytes are valid slots.
    let slots = unsafe { std::slice::from_raw_parts(base, COUNT.load(Ordering::Acquire)) };
    Some(Table::new(slots, alive))
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

/// Creates the table in the parent (post_config), once per process.
///
/// # Safety
/// `pool` is the process pool; called in the single-threaded parent.
pub unsafe fn init(pool: *mut ffi::apr_pool_t) -> Result<(), String> {
    // SAFETY: retained data is process-pool memory of our struct's size,
    // zeroed when created.
    unsafe {
        let mut r = ffi::ap_retained_data_get(RETAINED_KEY.as_ptr()) as *mut Retained;
        if r.is_null() {
            r = ffi::ap_retained_data_create(RETAINED_KEY.as_ptr(), std::mem::size_of::<Retained>())
                as *mut Retained;
        }
        if (*r).base.is_null() {
            // The counter first (8-byte aligned), then the slots.
            let head = std::mem::align_of::<Slot>().max(8);
            let size = head + registry::bytes_for(SLOTS);
            let mut shm: *mut ffi::apr_shm_t = ptr::null_mut();
            let rv = ffi::apr_shm_create(&mut shm, size, ptr::null(), pool);
            if rv != 0 {
                return Err(format!(
                    "cannot create the shared status table ({size} bytes): {}",
                    crate::apr_error(rv)
                ));
            }
            let mem = ffi::apr_shm_baseaddr_get(shm) as *mut u8;
            ptr::write_bytes(mem, 0, size);
            (*r).unlisted = mem as *mut AtomicI64;
            (*r).base = mem.add(head) as *mut Slot;
            (*r).count = SLOTS;
        }
        UNLISTED.store((*r).unlisted, Ordering::Release);
        BASE.store((*r).base, Ordering::Release);
        COUNT.store((*r).count, Ordering::Release);
    }
    Ok(())
}

/// When the running generation's configuration started (post_config in the
/// parent, inherited by its children): the status page's uptime.
static STARTED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// post_config: a new generation starts now.
pub fn generation_started() {
    STARTED.store(now(), std::sync::atomic::Ordering::Relaxed);
}

/// What the page says about the server (`args`: the query, for refresh=N).
fn server_view(args: &str) -> status::ServerView {
    // SAFETY: httpd's banner, a static NUL-terminated string after startup.
    let description = unsafe {
        let d = ffi::ap_get_server_description();
        if d.is_null() {
            String::new()
        } else {
            CStr::from_ptr(d).to_string_lossy().into_owned()
        }
    };
    status::ServerView {
        description,
        started: STARTED.load(std::sync::atomic::Ordering::Relaxed),
        listeners: crate::listeners::installed_names(),
        refresh: status::refresh_arg(args),
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Writes `body` as the response.
///
/// # Safety
/// `r` is the live request being handled.
unsafe fn respond(r: *mut ffi::request_rec, ctype: &'static CStr, body: &str) -> c_int {
    // SAFETY: live request; a static content type; ap_rwrite copies.
    unsafe {
        ffi::ap_set_content_type(r, ctype.as_ptr());
        if (*r).header_only == 0 {
            ffi::ap_rwrite(body.as_ptr() as *const _, body.len() as c_int, r);
        }
    }
    ffi::OK as c_int
}

pub(crate) unsafe extern "C" fn handler(r: *mut ffi::request_rec) -> c_int {
    let body = || {
        // SAFETY: live request; handler and args are NUL-terminated or null.
        unsafe {
            if (*r).handler.is_null() || CStr::from_ptr((*r).handler) != c"sctp-status" {
                return ffi::DECLINED;
            }
            (*r).allowed |= 1 << ffi::M_GET;
            if (*r).method_number != ffi::M_GET as c_int {
                return ffi::DECLINED;
            }
            let args = if (*r).args.is_null() {
                String::new()
            } else {
                CStr::from_ptr((*r).args).to_string_lossy().into_owned()
            };
            // A deliberate panic, in debug builds only, for the test of the
            // panic boundary (tests/integration/panic_boundary.t): the
            // request gets 500 and the child serves on.
            #[cfg(debug_assertions)]
            if args.split('&').any(|a| a == "panic") {
                panic!("sctp-status?panic: a deliberate panic (debug build)");
            }
            let views = table().map_or_else(Vec::new, |t| t.snapshot());
            let unlisted = unlisted();
            let now = now();
            let server = server_view(&args);
            if args.split('&').any(|a| a == "auto") {
                return respond(
                    r,
                    c"text/plain; charset=utf-8",
                    &status::render_text(&views, now, unlisted, &server),
                );
            }
            let host = if (*(*r).server).server_hostname.is_null() {
                String::new()
            } else {
                CStr::from_ptr((*(*r).server).server_hostname)
                    .to_string_lossy()
                    .into_owned()
            };
            respond(
                r,
                c"text/html; charset=utf-8",
                &status::render_html(&views, now, unlisted, &host, &server),
            )
        }
    };
    // SAFETY: httpd passes a live request for the whole call.
    unsafe { httpd_module::boundary::request(r, "mod_sctp: the sctp-status handler", body) }
}
