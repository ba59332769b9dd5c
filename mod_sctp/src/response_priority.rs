//! `SCTPResponsePriority high|normal|low`: which responses the association
//! sends first when several streams have messages queued (docs/directives.md).
//!
//! Without the directive anywhere in the configuration, associations use
//! the round-robin stream scheduler: streams with queued messages take
//! turns. With it, they use the kernel's priority scheduler, and each
//! response's stream gets the value of the location that served it before
//! the handler runs (fixups): high 0, normal 1, low 2. Lower values are
//! sent first; streams of equal value take turns. The priority is strict:
//! while a high-priority response has messages queued, normal ones wait,
//! so it is meant for small critical objects (HTML, CSS), not for large
//! downloads.
//!
//! The per-directory value (`DirConfig`) is plain data allocated in the
//! configuration pool; the value logic is sans-I/O.

use crate::ffi;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

/// A response's priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponsePriority {
    High,
    Normal,
    Low,
}

impl ResponsePriority {
    /// The directive's argument (case-insensitive).
    pub fn parse(arg: &str) -> Result<ResponsePriority, String> {
        match arg.to_ascii_lowercase().as_str() {
            "high" => Ok(ResponsePriority::High),
            "normal" => Ok(ResponsePriority::Normal),
            "low" => Ok(ResponsePriority::Low),
            _ => Err(format!(
                "SCTPResponsePriority: '{arg}' is not high, normal or low"
            )),
        }
    }

    /// The stream's SCTP_STREAM_SCHEDULER_VALUE under the priority
    /// scheduler (lower is sent first).
    pub fn scheduler_value(self) -> u16 {
        match self {
            ResponsePriority::High => 0,
            ResponsePriority::Normal => 1,
            ResponsePriority::Low => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ResponsePriority::High => "high",
            ResponsePriority::Normal => "normal",
            ResponsePriority::Low => "low",
        }
    }
}

/// The per-directory configuration: `None` where no directive applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirConfig {
    pub priority: Option<ResponsePriority>,
}

impl DirConfig {
    /// The more specific section's value wins where it has one.
    pub fn merge(base: DirConfig, add: DirConfig) -> DirConfig {
        DirConfig {
            priority: add.priority.or(base.priority),
        }
    }

    /// What a response served under this configuration gets.
    pub fn effective(&self) -> ResponsePriority {
        self.priority.unwrap_or(ResponsePriority::Normal)
    }
}

/// Some `SCTPResponsePriority` was read in this configuration (reset in
/// pre_config, so a restart without the directive goes back to round
/// robin). Read by associations when they pick their scheduler.
static USED: AtomicBool = AtomicBool::new(false);

pub fn reset() {
    USED.store(false, Ordering::Relaxed);
}

/// Whether associations should use the priority scheduler.
pub fn used() -> bool {
    USED.load(Ordering::Relaxed)
}

/// Picks the stream scheduler of a new association on `fd`: round robin
/// between the streams that have messages queued in the kernel, so that a
/// large response on one stream does not hold up the small ones on others
/// (Linux 4.15+; first come, first served otherwise); with
/// SCTPResponsePriority in use, the priority scheduler (equal values take
/// turns as under round robin).
pub fn pick_scheduler(fd: std::os::fd::BorrowedFd<'_>, assoc_id: i32) {
    use apr_sctp::sctp::{set_stream_scheduler, StreamScheduler};
    let (scheduler, name) = if used() {
        (StreamScheduler::Priority, "priority")
    } else {
        (StreamScheduler::RoundRobin, "round-robin")
    };
    if let Err(e) = set_stream_scheduler(fd, scheduler) {
        tracing::debug!(
            "association {assoc_id}: {name} stream scheduler not available ({e}): the kernel sends streams' messages first come, first served"
        );
    }
}

/// Allocates a DirConfig in `p`.
///
/// # Safety
/// `p` is a live pool.
unsafe fn alloc(p: *mut ffi::apr_pool_t, v: DirConfig) -> *mut c_void {
    // SAFETY: apr_palloc returns memory aligned for any APR type (8 bytes,
    // more than DirConfig's 1), valid as long as the pool; DirConfig is
    // Copy, so the pool may free it without a drop.
    unsafe {
        let m = ffi::apr_palloc(p, std::mem::size_of::<DirConfig>()) as *mut DirConfig;
        if !m.is_null() {
            m.write(v);
        }
        m as *mut c_void
    }
}

/// httpd's create_dir_config.
pub(crate) unsafe extern "C" fn create_dir_config(
    p: *mut ffi::apr_pool_t,
    _dir: *mut c_char,
) -> *mut c_void {
    httpd_module::boundary::run_server(
        "mod_sctp: create_dir_config",
        "the section gets the defaults",
        ptr::null_mut,
        || {
            // SAFETY: httpd passes a live configuration pool.
            unsafe { alloc(p, DirConfig::default()) }
        },
    )
}

/// httpd's merge_dir_config.
pub(crate) unsafe extern "C" fn merge_dir_config(
    p: *mut ffi::apr_pool_t,
    base: *mut c_void,
    add: *mut c_void,
) -> *mut c_void {
    httpd_module::boundary::run_server(
        "mod_sctp: merge_dir_config",
        "the section gets the defaults",
        ptr::null_mut,
        || {
            // SAFETY: httpd passes configs our create_dir_config made (or NULL,
            // read as unset) and a live pool.
            unsafe {
                let b = (base as *const DirConfig)
                    .as_ref()
                    .copied()
                    .unwrap_or_default();
                let a = (add as *const DirConfig)
                    .as_ref()
                    .copied()
                    .unwrap_or_default();
                alloc(p, DirConfig::merge(b, a))
            }
        },
    )
}

/// `SCTPResponsePriority high|normal|low` in a server, `<VirtualHost>`,
/// `<Location>`, `<Directory>` or `<Files>` section.
pub(crate) unsafe extern "C" fn cmd_response_priority(
    cmd: *mut ffi::cmd_parms,
    dir: *mut c_void,
    arg: *const c_char,
) -> *const c_char {
    httpd_module::boundary::directive("SCTPResponsePriority", || {
        // SAFETY: httpd passes a NUL-terminated argument.
        let arg = unsafe { std::ffi::CStr::from_ptr(arg) }
            .to_str()
            .unwrap_or("");
        match ResponsePriority::parse(arg) {
            Ok(v) => {
                // SAFETY: `dir` is this section's DirConfig (create_dir_config).
                if let Some(d) = unsafe { (dir as *mut DirConfig).as_mut() } {
                    d.priority = Some(v);
                }
                USED.store(true, Ordering::Relaxed);
                ptr::null()
            }
            // SAFETY: httpd passes the live cmd_parms of this directive.
            Err(e) => unsafe { ffi::directive::cmd_error(cmd, &e) },
        }
    })
}

/// The request's merged DirConfig.
///
/// # Safety
/// `r` is a live request.
unsafe fn dir_config(r: *mut ffi::request_rec) -> DirConfig {
    // SAFETY: per_dir_config is an array of one pointer per module
    // (ap_get_module_config); ours is a DirConfig or NULL.
    unsafe {
        let v = (*r).per_dir_config as *mut *mut c_void;
        if v.is_null() {
            return DirConfig::default();
        }
        (*v.add(crate::module_index()) as *const DirConfig)
            .as_ref()
            .copied()
            .unwrap_or_default()
    }
}

/// The fixups hook: gives the stream the response will go on the
/// priority of the request's location, when priorities are in use.
pub(crate) unsafe extern "C" fn fixups(r: *mut ffi::request_rec) -> c_int {
    let body = || {
        if !used() {
            return ffi::DECLINED;
        }
        {
            // SAFETY: httpd passes a live request; subrequests send nothing of
            // their own on the stream.
            if unsafe { !(*r).main.is_null() } {
                return ffi::DECLINED;
            }
            // SAFETY: live request.
            let (c, prio) = unsafe { ((*r).connection, dir_config(r).effective()) };
            // SAFETY: live connection.
            let target = unsafe { crate::stream_connection::response_target(c) }
                // SAFETY: live connection.
                .or_else(|| {
                    unsafe { crate::connection::assoc_of(c) }.and_then(|a| a.response_target())
                });
            let Some((fd, assoc_id, sid)) = target else {
                return ffi::DECLINED;
            };
            // SAFETY: the association's socket is open while its requests are
            // served (c1 outlives its stream connections).
            let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            let value = prio.scheduler_value();
            match apr_sctp::sctp::set_stream_priority(fd, sid, value) {
                Ok(()) => tracing::debug!(
                    "association {assoc_id} stream {sid}: response priority {} (scheduler value {value}, kernel has {})",
                    prio.name(),
                    apr_sctp::sctp::stream_priority(fd, sid)
                        .map_or_else(|e| format!("? ({e})"), |v| v.to_string())
                ),
                Err(e) => tracing::info!(
                    "association {assoc_id} stream {sid}: response priority {} not set: {e}",
                    prio.name()
                ),
            }
            ffi::DECLINED
        }
    };
    // A panic declines: the response goes on at the stream's priority.
    // SAFETY: httpd passes a live request for the whole call.
    unsafe {
        httpd_module::boundary::run(
            httpd_module::Scope::Request(r),
            "mod_sctp: fixups (SCTPResponsePriority)",
            "the response keeps its stream's priority",
            || ffi::DECLINED,
            body,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_case_insensitively_and_order_high_first() {
        assert_eq!(ResponsePriority::parse("HIGH"), Ok(ResponsePriority::High));
        assert_eq!(
            ResponsePriority::parse("normal"),
            Ok(ResponsePriority::Normal)
        );
        assert_eq!(ResponsePriority::parse("Low"), Ok(ResponsePriority::Low));
        let e = ResponsePriority::parse("urgent").unwrap_err();
        assert!(e.contains("'urgent' is not high, normal or low"), "{e}");
        assert!(
            ResponsePriority::High.scheduler_value() < ResponsePriority::Normal.scheduler_value()
                && ResponsePriority::Normal.scheduler_value()
                    < ResponsePriority::Low.scheduler_value()
        );
    }

    #[test]
    fn the_more_specific_section_wins_and_unset_is_normal() {
        let high = DirConfig {
            priority: Some(ResponsePriority::High),
        };
        let low = DirConfig {
            priority: Some(ResponsePriority::Low),
        };
        let unset = DirConfig::default();
        assert_eq!(DirConfig::merge(high, low), low);
        assert_eq!(DirConfig::merge(high, unset), high);
        assert_eq!(
            DirConfig::merge(unset, unset).effective(),
            ResponsePriority::Normal
        );
    }
}
