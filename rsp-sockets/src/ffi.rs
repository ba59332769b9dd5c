//! The C API (`include/rsp_sockets.h`): the seed's `rsp_*` calls over
//! [`RspSocket`]. Every function is a panic boundary (a bug fails the call
//! with EIO, never unwinds into C) and reports errors as -1 with `errno`,
//! as the socket calls they mimic.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apr_sctp::sctp::Domain;
use rserpool::{Policy, PoolHandle};

use crate::config;
use crate::errno::Errno;
use crate::socket::{RecvInfo, RspSocket, SendInfo};

/// `struct rsp_sndrcvinfo`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rsp_sndrcvinfo {
    pub rinfo_session: u32,
    pub rinfo_ppid: u32,
    pub rinfo_pe_id: u32,
    pub rinfo_timetolive: u32,
    pub rinfo_stream: u16,
    pub rinfo_flags: u16,
}

/// `rinfo_flags`: the message ends with this piece.
pub const RSP_EOR: u16 = 0x0001;

/// `struct rsp_loadinfo`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct rsp_loadinfo {
    pub policy: u32,
    pub weight: u32,
    pub priority: u32,
    pub load: u32,
    pub load_degradation: u32,
}

/// The open RSerPool sockets, by descriptor.
static SOCKETS: Mutex<BTreeMap<c_int, Arc<RspSocket>>> = Mutex::new(BTreeMap::new());

fn table() -> std::sync::MutexGuard<'static, BTreeMap<c_int, Arc<RspSocket>>> {
    SOCKETS.lock().unwrap_or_else(|p| p.into_inner())
}

fn lookup(sd: c_int) -> Result<Arc<RspSocket>, Errno> {
    table().get(&sd).cloned().ok_or(Errno(libc::EBADF))
}

fn set_errno(e: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() = e };
}

/// Runs `f` behind a panic boundary; errors become -1 and errno.
fn boundary<T: From<i8>>(f: impl FnOnce() -> Result<T, Errno>) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(Errno(e))) => {
            set_errno(e);
            T::from(-1)
        }
        Err(_) => {
            set_errno(libc::EIO);
            T::from(-1)
        }
    }
}

fn handle(name: *const c_char, len: usize) -> Result<PoolHandle, Errno> {
    if name.is_null() || len == 0 || len > 4096 {
        return Err(Errno(libc::EINVAL));
    }
    // SAFETY: the caller passes `len` readable bytes at `name`.
    let bytes = unsafe { std::slice::from_raw_parts(name.cast::<u8>(), len) };
    PoolHandle::new(bytes.to_vec()).ok_or(Errno(libc::EINVAL))
}

/// The policy of a `struct rsp_loadinfo` (NULL: round robin).
fn policy(li: Option<&rsp_loadinfo>) -> Result<Policy, Errno> {
    let Some(li) = li else {
        return Ok(Policy::RoundRobin);
    };
    Ok(match li.policy {
        0x0000_0001 => Policy::RoundRobin,
        0x0000_0002 => Policy::WeightedRoundRobin { weight: li.weight },
        0x0000_0003 => Policy::Random,
        0x0000_0004 => Policy::WeightedRandom { weight: li.weight },
        0x0000_0005 => Policy::Priority {
            priority: li.priority,
        },
        0x4000_0001 => Policy::LeastUsed { load: li.load },
        0x4000_0002 => Policy::LeastUsedDegradation {
            load: li.load,
            degradation: li.load_degradation,
        },
        0x4000_0003 => Policy::PriorityLeastUsed {
            load: li.load,
            degradation: li.load_degradation,
        },
        0x4000_0004 => Policy::RandomizedLeastUsed { load: li.load },
        _ => return Err(Errno(libc::EINVAL)),
    })
}

/// `int rsp_socket(int domain, int type, int protocol)`.
#[no_mangle]
pub extern "C" fn rsp_socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int {
    boundary(|| {
        let d = match domain {
            libc::AF_INET => Domain::V4,
            libc::AF_INET6 => Domain::V6,
            _ => return Err(Errno(libc::EAFNOSUPPORT)),
        };
        // SOCK_DGRAM is the seed's (the early drafts' name for a message
        // socket); Linux calls a one-to-many SCTP socket SOCK_SEQPACKET.
        let kind = ty & !(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK);
        if kind != libc::SOCK_DGRAM && kind != libc::SOCK_SEQPACKET {
            return Err(Errno(libc::EPROTOTYPE));
        }
        if protocol != 0 && protocol != libc::IPPROTO_SCTP {
            return Err(Errno(libc::EPROTONOSUPPORT));
        }
        let s = RspSocket::new(d)?;
        if ty & libc::SOCK_NONBLOCK != 0 {
            set_nonblocking(s.fd())?;
        }
        let fd = s.fd();
        table().insert(fd, Arc::new(s));
        Ok(fd)
    })
}

fn set_nonblocking(fd: c_int) -> Result<(), Errno> {
    // SAFETY: fcntl on a descriptor we own.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if fl < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// `int rsp_bind(int sd, const struct sockaddr *addr, socklen_t addrlen)`.
///
/// # Safety
/// `addr` points to `addrlen` readable bytes of a socket address.
#[no_mangle]
pub unsafe extern "C" fn rsp_bind(
    sd: c_int,
    addr: *const libc::sockaddr,
    addrlen: libc::socklen_t,
) -> c_int {
    boundary(|| {
        let s = lookup(sd)?;
        if addr.is_null() {
            return Err(Errno(libc::EINVAL));
        }
        // SAFETY: the caller's address of its length, handed to bind(2).
        if unsafe { libc::bind(s.fd(), addr, addrlen) } < 0 {
            return Err(Errno::last());
        }
        Ok(0)
    })
}

/// `int rsp_register(int sd, const char *name, size_t namelen,
/// const struct rsp_loadinfo *linfo)`.
///
/// # Safety
/// `name` points to `namelen` bytes; `linfo` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn rsp_register(
    sd: c_int,
    name: *const c_char,
    namelen: usize,
    linfo: *const rsp_loadinfo,
) -> c_int {
    boundary(|| {
        let s = lookup(sd)?;
        let h = handle(name, namelen)?;
        // SAFETY: NULL or a valid rsp_loadinfo, says the caller.
        let p = policy(unsafe { linfo.as_ref() })?;
        s.register(h, p)?;
        Ok(0)
    })
}

/// `int rsp_deregister(int sd)`.
#[no_mangle]
pub extern "C" fn rsp_deregister(sd: c_int) -> c_int {
    boundary(|| {
        lookup(sd)?.deregister()?;
        Ok(0)
    })
}

/// `int rsp_connect(int sd, const char *name, size_t namelen)`.
///
/// # Safety
/// `name` points to `namelen` bytes.
#[no_mangle]
pub unsafe extern "C" fn rsp_connect(sd: c_int, name: *const c_char, namelen: usize) -> c_int {
    boundary(|| {
        let s = lookup(sd)?;
        s.connect(handle(name, namelen)?)?;
        Ok(0)
    })
}

/// `ssize_t rsp_sendmsg(int sd, const void *buf, size_t len,
/// const struct rsp_sndrcvinfo *sinfo, int flags)`.
///
/// # Safety
/// `buf` points to `len` bytes; `sinfo` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn rsp_sendmsg(
    sd: c_int,
    buf: *const c_void,
    len: usize,
    sinfo: *const rsp_sndrcvinfo,
    flags: c_int,
) -> isize {
    boundary(|| {
        let s = lookup(sd)?;
        if buf.is_null() && len > 0 {
            return Err(Errno(libc::EFAULT));
        }
        // SAFETY: NULL or a valid rsp_sndrcvinfo, says the caller.
        let si = unsafe { sinfo.as_ref() }.copied().unwrap_or_default();
        if si.rinfo_timetolive != 0 {
            // Partial reliability comes with the ADU interface (apr-sctp's `adu` module).
            return Err(Errno(libc::EOPNOTSUPP));
        }
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: `len` readable bytes at `buf`, says the caller.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) }
        };
        let info = SendInfo {
            session: si.rinfo_session,
            ppid: si.rinfo_ppid,
            stream: si.rinfo_stream,
        };
        Ok(s.send(data, &info, flags)? as isize)
    })
}

/// `ssize_t rsp_recvmsg(int sd, void *buf, size_t len,
/// struct rsp_sndrcvinfo *sinfo, int flags)`.
///
/// # Safety
/// `buf` points to `len` writable bytes; `sinfo` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rsp_recvmsg(
    sd: c_int,
    buf: *mut c_void,
    len: usize,
    sinfo: *mut rsp_sndrcvinfo,
    flags: c_int,
) -> isize {
    boundary(|| {
        let s = lookup(sd)?;
        if buf.is_null() || len == 0 {
            return Err(Errno(libc::EINVAL));
        }
        // SAFETY: `len` writable bytes at `buf`, says the caller.
        let b = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
        let (n, info): (usize, RecvInfo) = s.recv(b, flags)?;
        // SAFETY: NULL or writable, says the caller.
        if let Some(out) = unsafe { sinfo.as_mut() } {
            *out = rsp_sndrcvinfo {
                rinfo_session: info.session,
                rinfo_ppid: info.ppid,
                rinfo_pe_id: info.pe_id,
                rinfo_timetolive: 0,
                rinfo_stream: info.stream,
                rinfo_flags: if info.eor { RSP_EOR } else { 0 },
            };
        }
        Ok(n as isize)
    })
}

/// `int rsp_select(int nfds, fd_set *readfds, fd_set *writefds,
/// fd_set *exceptfds, struct timeval *timeout)`: `select(2)`, except that
/// an RSerPool socket counts as readable only when an `rsp_recvmsg` would
/// return something (data, or the loss of the element in use), not for the
/// notifications and control messages the library takes itself.
///
/// # Safety
/// The sets are NULL or valid `fd_set`s; `timeout` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn rsp_select(
    nfds: c_int,
    readfds: *mut libc::fd_set,
    writefds: *mut libc::fd_set,
    exceptfds: *mut libc::fd_set,
    timeout: *mut libc::timeval,
) -> c_int {
    boundary(|| {
        // SAFETY: NULL or valid, says the caller.
        let limit = unsafe { timeout.as_ref() }.map(|t| {
            Instant::now()
                + Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        });
        // SAFETY: the sets are NULL or valid (caller), copied by value.
        let (r0, w0, e0) = unsafe {
            (
                readfds.as_ref().copied(),
                writefds.as_ref().copied(),
                exceptfds.as_ref().copied(),
            )
        };
        loop {
            let (mut r, mut w, mut e) = (r0, w0, e0);
            let mut tv = limit.map(|l| {
                let left = l.saturating_duration_since(Instant::now());
                libc::timeval {
                    tv_sec: left.as_secs() as libc::time_t,
                    tv_usec: left.subsec_micros() as libc::suseconds_t,
                }
            });
            let ptr = |s: &mut Option<libc::fd_set>| {
                s.as_mut()
                    .map_or(std::ptr::null_mut(), |s| s as *mut libc::fd_set)
            };
            // SAFETY: select(2) on local copies of the caller's sets.
            let mut n = unsafe {
                libc::select(
                    nfds,
                    ptr(&mut r),
                    ptr(&mut w),
                    ptr(&mut e),
                    tv.as_mut()
                        .map_or(std::ptr::null_mut(), |t| t as *mut libc::timeval),
                )
            };
            if n < 0 {
                return Err(Errno::last());
            }
            if let Some(set) = r.as_mut() {
                let sockets: Vec<(c_int, Arc<RspSocket>)> =
                    table().iter().map(|(&k, v)| (k, v.clone())).collect();
                for (fd, s) in sockets {
                    // SAFETY: FD_ISSET/FD_CLR on a local fd_set, fd < nfds.
                    if fd < nfds && unsafe { libc::FD_ISSET(fd, set) } && !s.settle()? {
                        // SAFETY: as above: the same local set, fd < nfds.
                        unsafe { libc::FD_CLR(fd, set) };
                        n -= 1;
                    }
                }
            }
            let expired = limit.is_some_and(|l| Instant::now() >= l);
            if n > 0 || expired {
                // SAFETY: writing the results back into the caller's sets.
                unsafe {
                    for (dst, src) in [(readfds, r), (writefds, w), (exceptfds, e)] {
                        if let (Some(d), Some(s)) = (dst.as_mut(), src) {
                            *d = s;
                        }
                    }
                }
                return Ok(n.max(0));
            }
        }
    })
}

/// `int rsp_close(int sd)`: deregisters a pool element, closes the socket.
#[no_mangle]
pub extern "C" fn rsp_close(sd: c_int) -> c_int {
    boundary(|| {
        let s = table().remove(&sd).ok_or(Errno(libc::EBADF))?;
        s.close();
        Ok(0)
    })
}

/// `int rsp_set_registrars(const char *list)`: the registrars sockets set
/// up from now on use ("ADDRESS[:PORT],..."); overrides `RSP_REGISTRAR`.
///
/// # Safety
/// `list` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rsp_set_registrars(list: *const c_char) -> c_int {
    boundary(|| {
        if list.is_null() {
            return Err(Errno(libc::EINVAL));
        }
        // SAFETY: NUL-terminated, says the caller.
        let s = unsafe { CStr::from_ptr(list) }.to_string_lossy();
        config::set_registrars(&s).map_err(|e| {
            crate::debug!("rsp_set_registrars: {e}");
            Errno(libc::EINVAL)
        })?;
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The layouts `include/rsp_sockets.h` declares (tests/rserpool/abi_check.c
    /// asserts the same numbers on the C side).
    #[test]
    fn struct_layouts_match_the_header() {
        assert_eq!(size_of::<rsp_sndrcvinfo>(), 20);
        assert_eq!(offset_of!(rsp_sndrcvinfo, rinfo_session), 0);
        assert_eq!(offset_of!(rsp_sndrcvinfo, rinfo_ppid), 4);
        assert_eq!(offset_of!(rsp_sndrcvinfo, rinfo_pe_id), 8);
        assert_eq!(offset_of!(rsp_sndrcvinfo, rinfo_timetolive), 12);
        assert_eq!(offset_of!(rsp_sndrcvinfo, rinfo_stream), 16);
        assert_eq!(offset_of!(rsp_sndrcvinfo, rinfo_flags), 18);
        assert_eq!(size_of::<rsp_loadinfo>(), 20);
        assert_eq!(offset_of!(rsp_loadinfo, policy), 0);
        assert_eq!(offset_of!(rsp_loadinfo, weight), 4);
        assert_eq!(offset_of!(rsp_loadinfo, priority), 8);
        assert_eq!(offset_of!(rsp_loadinfo, load), 12);
        assert_eq!(offset_of!(rsp_loadinfo, load_degradation), 16);
    }

    #[test]
    fn policies_from_loadinfo() {
        let li = |policy, weight, priority, load, load_degradation| rsp_loadinfo {
            policy,
            weight,
            priority,
            load,
            load_degradation,
        };
        assert_eq!(policy(None), Ok(Policy::RoundRobin));
        assert_eq!(
            policy(Some(&li(2, 3, 0, 0, 0))),
            Ok(Policy::WeightedRoundRobin { weight: 3 })
        );
        assert_eq!(
            policy(Some(&li(5, 0, 7, 0, 0))),
            Ok(Policy::Priority { priority: 7 })
        );
        assert_eq!(
            policy(Some(&li(0x4000_0002, 0, 0, 10, 2))),
            Ok(Policy::LeastUsedDegradation {
                load: 10,
                degradation: 2
            })
        );
        assert_eq!(
            policy(Some(&li(0x7777, 0, 0, 0, 0))),
            Err(Errno(libc::EINVAL))
        );
        // Every constant of the header maps to the policy of that type.
        for t in [
            1,
            2,
            3,
            4,
            5,
            0x4000_0001,
            0x4000_0002,
            0x4000_0003,
            0x4000_0004,
        ] {
            assert_eq!(policy(Some(&li(t, 1, 1, 1, 1))).unwrap().policy_type(), t);
        }
    }

    #[test]
    fn errors_are_minus_one_and_errno() {
        assert_eq!(rsp_close(-5), -1);
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EBADF)
        );
        assert_eq!(rsp_socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0), -1);
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EAFNOSUPPORT)
        );
        assert_eq!(rsp_socket(libc::AF_INET, libc::SOCK_STREAM, 0), -1);
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EPROTOTYPE)
        );
        // SAFETY: a NUL-terminated string.
        assert_eq!(unsafe { rsp_set_registrars(c"nonsense".as_ptr()) }, -1);
        // A panic inside a call is an error, not an unwind into C.
        assert_eq!(boundary::<c_int>(|| panic!("bug")), -1);
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EIO)
        );
    }
}
