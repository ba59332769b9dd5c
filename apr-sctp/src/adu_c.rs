//! The ADU service ([`crate::adu`]) for C: `apr_sctp_adu_*()` in
//! apr_sctp.h, on an `apr_socket_t` that keeps its descriptor and its
//! timeout (honoured as `apr_socket_recv_sctp()` does). The handle lives
//! in the pool the caller gives and holds no resources of its own.
//!
//! Every function is a panic boundary: a panic becomes APR_EGENERAL.

use std::ffi::CStr;
use std::io::IoSlice;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use crate::adu::{self, AduCore, AduOptions, Priority, Received, Reliability};
use crate::apr_socket::{borrowed_fd, with_timeout, Deadline};
use crate::sctp::{self, Error};
use crate::sys;
use crate::traffic_class::ClassTable;

const APR_SUCCESS: sys::apr_status_t = 0;

fn status(code: u32) -> sys::apr_status_t {
    code as sys::apr_status_t
}

/// `apr_sctp_adu_t`: an association's ADU state and its APR socket.
pub struct AduHandle {
    sock: *mut sys::apr_socket_t,
    core: AduCore,
}

/// `apr_sctp_adu_opts_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(non_camel_case_types)]
pub struct apr_sctp_adu_opts_t {
    /// APR_SCTP_ADU_RELIABLE, _LIFETIME or _RETRANSMISSIONS.
    pub reliability: i32,
    /// Milliseconds for _LIFETIME, a count for _RETRANSMISSIONS.
    pub limit: u32,
    pub ordered: i32,
    /// APR_SCTP_ADU_NORMAL or APR_SCTP_ADU_HIGH.
    pub priority: i32,
}

/// `apr_sctp_adu_info_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct apr_sctp_adu_info_t {
    /// APR_SCTP_ADU_DATA, _ABANDONED or _DROPPED.
    pub kind: i32,
    pub complete: i32,
    pub ordered: i32,
    pub priority: i32,
    pub stream: u16,
    pub dropped_before: u16,
    pub id: u32,
    pub sent: i32,
}

/// `apr_sctp_path_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[allow(non_camel_case_types)]
pub struct apr_sctp_path_t {
    /// Smoothed round-trip time, microseconds.
    pub srtt: i64,
    pub cwnd: u32,
    pub rwnd: u32,
    pub rate_bps: f64,
}

pub const KIND_DATA: i32 = 0;
pub const KIND_ABANDONED: i32 = 1;
pub const KIND_DROPPED: i32 = 2;

/// The Rust options of C options (EINVAL for an unknown constant).
fn options(o: &apr_sctp_adu_opts_t) -> Result<AduOptions, sys::apr_status_t> {
    let reliability = match o.reliability {
        0 => Reliability::Reliable,
        1 => Reliability::Lifetime(Duration::from_millis(u64::from(o.limit))),
        2 => Reliability::Retransmissions(o.limit),
        _ => return Err(status(sys::APR_EINVAL)),
    };
    let priority = match o.priority {
        0 => Priority::Normal,
        1 => Priority::High,
        _ => return Err(status(sys::APR_EINVAL)),
    };
    Ok(AduOptions {
        reliability,
        ordered: o.ordered != 0,
        priority,
    })
}

/// The C information of what was received (`None`: the association closed).
fn info_of(r: &Received) -> Option<(usize, apr_sctp_adu_info_t)> {
    Some(match *r {
        Received::Adu {
            len,
            complete,
            ordered,
            priority,
            stream,
            dropped_before,
        } => (
            len,
            apr_sctp_adu_info_t {
                kind: KIND_DATA,
                complete: complete as i32,
                ordered: ordered as i32,
                priority: (priority == Priority::High) as i32,
                stream,
                dropped_before,
                ..Default::default()
            },
        ),
        Received::Abandoned { id, sent } => (
            0,
            apr_sctp_adu_info_t {
                kind: KIND_ABANDONED,
                id,
                sent: sent as i32,
                ..Default::default()
            },
        ),
        Received::Dropped { stream } => (
            0,
            apr_sctp_adu_info_t {
                kind: KIND_DROPPED,
                stream,
                ..Default::default()
            },
        ),
        Received::Closed => return None,
    })
}

/// Runs `f`, turning a panic into APR_EGENERAL (logged).
fn boundary<T>(
    what: &str,
    f: impl FnOnce() -> Result<T, sys::apr_status_t>,
) -> Result<T, sys::apr_status_t> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        tracing::error!(target: "apr_sctp", "{what}: internal error (panic), call failed");
        Err(status(sys::APR_EGENERAL))
    })
}

/// The status a call returns.
fn code(r: Result<(), sys::apr_status_t>) -> sys::apr_status_t {
    r.err().unwrap_or(APR_SUCCESS)
}

fn errno_status(e: Error) -> sys::apr_status_t {
    e.errno
}

/// `apr_sctp_adu_prepare()`: sets up a socket not yet connected or
/// listening for ADUs ([`adu::prepare`]).
///
/// # Safety
/// `sock` is a live APR SCTP socket (or NULL: APR_EINVAL).
#[no_mangle]
pub unsafe extern "C" fn apr_sctp_adu_prepare(sock: *mut sys::apr_socket_t) -> sys::apr_status_t {
    if sock.is_null() {
        return status(sys::APR_EINVAL);
    }
    code(boundary("apr_sctp_adu_prepare", || {
        // SAFETY: live socket per the contract.
        let (fd, _) = unsafe { borrowed_fd(sock) }?;
        adu::prepare(&fd).map_err(errno_status)
    }))
}

/// `apr_sctp_adu_open()`: the ADU handle of an established association,
/// allocated in `pool`.
///
/// # Safety
/// `out` is writable; `sock` a live APR SCTP socket outliving `pool`'s use
/// of the handle; `pool` a live pool.
#[no_mangle]
pub unsafe extern "C" fn apr_sctp_adu_open(
    out: *mut *mut AduHandle,
    sock: *mut sys::apr_socket_t,
    pool: *mut sys::apr_pool_t,
) -> sys::apr_status_t {
    if out.is_null() || sock.is_null() || pool.is_null() {
        return status(sys::APR_EINVAL);
    }
    code(boundary("apr_sctp_adu_open", || {
        // SAFETY: live socket per the contract.
        let (fd, _) = unsafe { borrowed_fd(sock) }?;
        let core = AduCore::open(fd).map_err(errno_status)?;
        // SAFETY: a live pool; apr_palloc returns memory aligned for any
        // type APR allocates (8 bytes at least, enough for AduHandle's
        // pointers and atomics), valid until the pool is cleared.
        let mem =
            unsafe { sys::apr_palloc(pool, std::mem::size_of::<AduHandle>()) } as *mut AduHandle;
        if mem.is_null() {
            return Err(status(sys::APR_ENOMEM));
        }
        debug_assert!(mem.is_aligned());
        // SAFETY: fresh, aligned, large enough; AduHandle needs no drop
        // (plain values and atomics), so the pool may free it unseen.
        unsafe {
            mem.write(AduHandle { sock, core });
            *out = mem;
        }
        Ok(())
    }))
}

/// Borrows the handle.
///
/// # Safety
/// `adu` is NULL or came from `apr_sctp_adu_open` and its pool is live.
unsafe fn handle<'a>(adu: *const AduHandle) -> Option<&'a AduHandle> {
    // SAFETY: per the contract.
    unsafe { adu.as_ref() }
}

/// `apr_sctp_adu_send()`: sends `len` bytes at `buf` as one ADU.
///
/// # Safety
/// `adu` from `apr_sctp_adu_open`; `len` readable bytes at `buf`; `opts`
/// valid or NULL (reliable, unordered, normal).
#[no_mangle]
pub unsafe extern "C" fn apr_sctp_adu_send(
    adu: *mut AduHandle,
    buf: *const libc::c_void,
    len: sys::apr_size_t,
    opts: *const apr_sctp_adu_opts_t,
    id: u32,
) -> sys::apr_status_t {
    // SAFETY: per the contract.
    let Some(h) = (unsafe { handle(adu) }) else {
        return status(sys::APR_EINVAL);
    };
    if buf.is_null() && len > 0 {
        return status(sys::APR_EINVAL);
    }
    code(boundary("apr_sctp_adu_send", || {
        // SAFETY: valid or NULL per the contract.
        let o = options(&unsafe { opts.as_ref() }.copied().unwrap_or_default())?;
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: `len` readable bytes (non-null, checked above).
            unsafe { std::slice::from_raw_parts(buf as *const u8, len) }
        };
        let (info, pr) = h.core.next_send(&o, id).map_err(errno_status)?;
        // SAFETY: the handle's socket is live while its pool is.
        let (fd, timeout) = unsafe { borrowed_fd(h.sock) }?;
        let mut until = Deadline::new(timeout);
        with_timeout(fd, libc::POLLOUT, &mut until, |flags| {
            sctp::send_msg_pr(fd, &[IoSlice::new(data)], &info, pr, flags)
        })
        .map(|_| ())
    }))
}

/// `apr_sctp_adu_recv()`: the next ADU (or part of it) or event.
///
/// # Safety
/// `adu` from `apr_sctp_adu_open`; `*len` writable bytes at `buf`; `info`
/// writable or NULL.
#[no_mangle]
pub unsafe extern "C" fn apr_sctp_adu_recv(
    adu: *mut AduHandle,
    buf: *mut libc::c_void,
    len: *mut sys::apr_size_t,
    info: *mut apr_sctp_adu_info_t,
) -> sys::apr_status_t {
    // SAFETY: per the contract.
    let Some(h) = (unsafe { handle(adu) }) else {
        return status(sys::APR_EINVAL);
    };
    if len.is_null() {
        return status(sys::APR_EINVAL);
    }
    let put = |n: usize, i: apr_sctp_adu_info_t| {
        // SAFETY: `len` checked non-null; `info` the caller's or NULL.
        unsafe {
            *len = n;
            if let Some(out) = info.as_mut() {
                *out = i;
            }
        }
    };
    // SAFETY: checked non-null.
    let cap = unsafe { *len };
    if buf.is_null() || cap < adu::MIN_RECV {
        put(0, apr_sctp_adu_info_t::default());
        return status(sys::APR_EINVAL);
    }
    let got = boundary("apr_sctp_adu_recv", || {
        // SAFETY: `cap` writable bytes at `buf` (non-null, checked above).
        let b = unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, cap) };
        // SAFETY: the handle's socket is live while its pool is.
        let (fd, timeout) = unsafe { borrowed_fd(h.sock) }?;
        let mut until = Deadline::new(timeout);
        let r = h.core.recv_with(b, |b| {
            with_timeout(fd, libc::POLLIN, &mut until, |flags| {
                sctp::recv_msg(fd, b, flags)
            })
            .map_err(|rv| Error::new("ADU receive", rv))
        });
        r.map(|r| info_of(&r)).map_err(errno_status)
    });
    match got {
        Ok(Some((n, i))) => {
            put(n, i);
            APR_SUCCESS
        }
        Ok(None) => {
            put(0, apr_sctp_adu_info_t::default());
            status(sys::APR_EOF)
        }
        Err(rv) => {
            put(0, apr_sctp_adu_info_t::default());
            rv
        }
    }
}

/// `apr_sctp_adu_path()`: round-trip time, windows and the rate they allow.
///
/// # Safety
/// `adu` from `apr_sctp_adu_open`; `path` writable.
#[no_mangle]
pub unsafe extern "C" fn apr_sctp_adu_path(
    adu: *mut AduHandle,
    path: *mut apr_sctp_path_t,
) -> sys::apr_status_t {
    // SAFETY: per the contract.
    let Some(h) = (unsafe { handle(adu) }) else {
        return status(sys::APR_EINVAL);
    };
    if path.is_null() {
        return status(sys::APR_EINVAL);
    }
    code(boundary("apr_sctp_adu_path", || {
        // SAFETY: the handle's socket is live while its pool is.
        let (fd, _) = unsafe { borrowed_fd(h.sock) }?;
        let p = adu::path(fd).map_err(errno_status)?;
        // SAFETY: writable, checked non-null.
        unsafe {
            *path = apr_sctp_path_t {
                srtt: i64::try_from(p.srtt.as_micros()).unwrap_or(i64::MAX),
                cwnd: p.cwnd,
                rwnd: p.rwnd,
                rate_bps: p.rate_bps,
            }
        };
        Ok(())
    }))
}

/// `apr_sctp_adu_scheduler()`: the name of the association's stream
/// scheduler ("round robin" on Linux 6.1, "weighted fair queueing" where
/// the kernel has it); a static string. NULL for a NULL handle.
///
/// # Safety
/// `adu` is NULL or from `apr_sctp_adu_open` with its pool live.
#[no_mangle]
pub unsafe extern "C" fn apr_sctp_adu_scheduler(adu: *const AduHandle) -> *const libc::c_char {
    // SAFETY: per the contract.
    let Some(h) = (unsafe { handle(adu) }) else {
        return std::ptr::null();
    };
    adu::scheduler_name(h.core.scheduler()).as_ptr()
}

/// `apr_sctp_adu_request_rate()`: always EOPNOTSUPP (no reservation).
#[no_mangle]
pub extern "C" fn apr_sctp_adu_request_rate(_adu: *mut AduHandle, _bps: f64) -> sys::apr_status_t {
    libc::EOPNOTSUPP
}

/// `apr_sctp_adu_abandoned()`: ADUs this side abandoned (never sent,
/// sent).
///
/// # Safety
/// `adu` from `apr_sctp_adu_open`; the out-pointers writable or NULL.
#[no_mangle]
pub unsafe extern "C" fn apr_sctp_adu_abandoned(
    adu: *mut AduHandle,
    unsent: *mut u64,
    sent: *mut u64,
) -> sys::apr_status_t {
    // SAFETY: per the contract.
    let Some(h) = (unsafe { handle(adu) }) else {
        return status(sys::APR_EINVAL);
    };
    code(boundary("apr_sctp_adu_abandoned", || {
        // SAFETY: the handle's socket is live while its pool is.
        let (fd, _) = unsafe { borrowed_fd(h.sock) }?;
        let (u, s) = sctp::pr_abandoned(fd).map_err(errno_status)?;
        // SAFETY: the caller's out-pointers, each writable or NULL.
        unsafe {
            if let Some(p) = unsent.as_mut() {
                *p = u;
            }
            if let Some(p) = sent.as_mut() {
                *p = s;
            }
        }
        Ok(())
    }))
}

/// `apr_sctp_adu_set_class()`: puts the association in traffic class
/// `name` of the table in file `table` (NULL: the built-in classes only).
///
/// # Safety
/// `adu` from `apr_sctp_adu_open`; `name` and `table` NUL-terminated (or
/// `table` NULL).
#[no_mangle]
pub unsafe extern "C" fn apr_sctp_adu_set_class(
    adu: *mut AduHandle,
    name: *const libc::c_char,
    table: *const libc::c_char,
) -> sys::apr_status_t {
    // SAFETY: per the contract.
    let Some(h) = (unsafe { handle(adu) }) else {
        return status(sys::APR_EINVAL);
    };
    if name.is_null() {
        return status(sys::APR_EINVAL);
    }
    code(boundary("apr_sctp_adu_set_class", || {
        // SAFETY: NUL-terminated per the contract.
        let name = unsafe { CStr::from_ptr(name) }
            .to_str()
            .map_err(|_| status(sys::APR_EINVAL))?;
        let classes = if table.is_null() {
            ClassTable::default()
        } else {
            // SAFETY: NUL-terminated per the contract.
            let path = unsafe { CStr::from_ptr(table) }.to_string_lossy();
            let text = std::fs::read_to_string(&*path)
                .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
            ClassTable::parse(&text).map_err(|e| {
                tracing::error!(target: "apr_sctp", "{path}: {e}");
                status(sys::APR_EINVAL)
            })?
        };
        // SAFETY: the handle's socket is live while its pool is.
        let (fd, _) = unsafe { borrowed_fd(h.sock) }?;
        let applied = adu::set_class(fd, &classes, name).map_err(errno_status)?;
        tracing::debug!(
            target: "apr_sctp",
            "traffic class {name} ({}): {:?}",
            applied.matched,
            applied.policy
        );
        Ok(())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The C structs of apr_sctp.h (tests/c/adu_exchange.c checks the same
    /// numbers on the C side).
    #[test]
    fn c_struct_layouts() {
        assert_eq!(size_of::<apr_sctp_adu_opts_t>(), 16);
        assert_eq!(offset_of!(apr_sctp_adu_opts_t, priority), 12);
        assert_eq!(size_of::<apr_sctp_adu_info_t>(), 28);
        assert_eq!(offset_of!(apr_sctp_adu_info_t, stream), 16);
        assert_eq!(offset_of!(apr_sctp_adu_info_t, id), 20);
        assert_eq!(size_of::<apr_sctp_path_t>(), 24);
        assert_eq!(offset_of!(apr_sctp_path_t, rate_bps), 16);
    }

    #[test]
    fn c_options_map_or_are_refused() {
        let o = options(&apr_sctp_adu_opts_t {
            reliability: 1,
            limit: 250,
            ordered: 1,
            priority: 1,
        })
        .unwrap();
        assert_eq!(
            o,
            AduOptions {
                reliability: Reliability::Lifetime(Duration::from_millis(250)),
                ordered: true,
                priority: Priority::High
            }
        );
        assert_eq!(
            options(&apr_sctp_adu_opts_t::default()).unwrap(),
            AduOptions::default()
        );
        for bad in [
            apr_sctp_adu_opts_t {
                reliability: 3,
                ..Default::default()
            },
            apr_sctp_adu_opts_t {
                priority: 2,
                ..Default::default()
            },
        ] {
            assert_eq!(options(&bad), Err(status(sys::APR_EINVAL)));
        }
    }

    #[test]
    fn received_maps_to_c_info() {
        let (n, i) = info_of(&Received::Adu {
            len: 5,
            complete: true,
            ordered: false,
            priority: Priority::High,
            stream: 2,
            dropped_before: 0,
        })
        .unwrap();
        assert_eq!(
            (n, i.kind, i.complete, i.priority, i.stream),
            (5, 0, 1, 1, 2)
        );
        let (_, i) = info_of(&Received::Abandoned { id: 9, sent: true }).unwrap();
        assert_eq!((i.kind, i.id, i.sent), (KIND_ABANDONED, 9, 1));
        let (_, i) = info_of(&Received::Dropped { stream: 3 }).unwrap();
        assert_eq!((i.kind, i.stream), (KIND_DROPPED, 3));
        assert_eq!(info_of(&Received::Closed), None);
    }

    #[test]
    fn null_handles_are_einval() {
        // SAFETY: NULL handles are part of the contract (APR_EINVAL).
        unsafe {
            assert_eq!(
                apr_sctp_adu_prepare(std::ptr::null_mut()),
                status(sys::APR_EINVAL)
            );
            let mut len = 100;
            let mut buf = [0u8; 100];
            assert_eq!(
                apr_sctp_adu_recv(
                    std::ptr::null_mut(),
                    buf.as_mut_ptr().cast(),
                    &mut len,
                    std::ptr::null_mut()
                ),
                status(sys::APR_EINVAL)
            );
            assert_eq!(
                apr_sctp_adu_send(
                    std::ptr::null_mut(),
                    buf.as_ptr().cast(),
                    1,
                    std::ptr::null(),
                    0
                ),
                status(sys::APR_EINVAL)
            );
        }
        assert_eq!(
            apr_sctp_adu_request_rate(std::ptr::null_mut(), 1e6),
            libc::EOPNOTSUPP
        );
        // SAFETY: a NULL handle is part of the contract.
        assert!(unsafe { apr_sctp_adu_scheduler(std::ptr::null()) }.is_null());
    }
}
