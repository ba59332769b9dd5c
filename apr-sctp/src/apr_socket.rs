//! Stream-aware I/O on an APR socket: `apr_socket_send_sctp()` and
//! `apr_socket_recv_sctp()` (and their Rust counterparts).
//!
//! They follow `apr_socket_send` / `apr_socket_recv` exactly in how they
//! treat the socket's timeout: a negative timeout blocks; 0 returns
//! APR_EAGAIN when the call would block; a positive timeout waits up to that
//! long for the socket to become ready, then returns APR_TIMEUP. A receive
//! of 0 bytes is APR_EOF. Other failures return the errno as apr_status_t.
//! Notifications are never returned as data: they are logged and skipped.

use crate::sctp::{self, RcvInfo, SndInfo};
use crate::sys;
use std::io::IoSlice;
use std::os::fd::BorrowedFd;

/// Send parameters for the C API (`apr_sctp_sndinfo_t` in apr_sctp.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(non_camel_case_types)]
pub struct apr_sctp_sndinfo_t {
    pub stream: u16,
    pub flags: u16,
    /// Payload protocol identifier, host byte order.
    pub ppid: u32,
    pub context: u32,
}

/// Receive information for the C API (`apr_sctp_rcvinfo_t` in apr_sctp.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct apr_sctp_rcvinfo_t {
    pub stream: u16,
    pub ssn: u16,
    pub flags: u16,
    /// Payload protocol identifier, host byte order.
    pub ppid: u32,
    pub tsn: u32,
    pub assoc_id: i32,
    /// Non-zero when the bytes end a message (MSG_EOR).
    pub eor: i32,
}

impl apr_sctp_rcvinfo_t {
    pub fn from_rcvinfo(i: &RcvInfo, eor: bool) -> Self {
        apr_sctp_rcvinfo_t {
            stream: i.sid,
            ssn: i.ssn,
            flags: i.flags,
            ppid: i.ppid,
            tsn: i.tsn,
            assoc_id: i.assoc_id,
            eor: eor as i32,
        }
    }
}

const APR_SUCCESS: sys::apr_status_t = 0;

/// The descriptor and timeout (microseconds) of an APR socket.
///
/// # Safety
/// `sock` must be a live APR socket.
unsafe fn fd_and_timeout(sock: *mut sys::apr_socket_t) -> (i32, i64) {
    let mut fd: sys::apr_os_sock_t = -1;
    let mut t: sys::apr_interval_time_t = -1;
    // SAFETY: live socket, valid out-pointers.
    unsafe {
        sys::apr_os_sock_get(&mut fd, sock);
        sys::apr_socket_timeout_get(sock, &mut t);
    }
    (fd, t)
}

/// Waits until `fd` is ready for `events` or the timeout (µs, < 0: forever)
/// passes.
fn wait(fd: BorrowedFd<'_>, events: libc::c_short, timeout: i64) -> Result<(), sys::apr_status_t> {
    use std::os::fd::AsRawFd;
    let ms: libc::c_int = if timeout < 0 {
        -1
    } else {
        // Round up, as APR does, so a short timeout is not a busy loop.
        ((timeout + 999) / 1000).min(i32::MAX as i64) as libc::c_int
    };
    loop {
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut p, 1, ms) };
        match rc {
            0 => return Err(sys::APR_TIMEUP as sys::apr_status_t),
            n if n > 0 => return Ok(()),
            _ => {
                let e = std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EIO);
                if e != libc::EINTR {
                    return Err(e);
                }
            }
        }
    }
}

fn would_block(errno: i32) -> bool {
    errno == libc::EAGAIN || errno == libc::EWOULDBLOCK
}

/// Sends one message on `info.sid`, honouring the socket's timeout. Returns
/// the bytes sent (the whole message) or an APR status.
///
/// # Safety
/// `sock` must be a live APR socket of protocol SCTP.
pub unsafe fn send(
    sock: *mut sys::apr_socket_t,
    bufs: &[IoSlice<'_>],
    info: &SndInfo,
) -> Result<usize, sys::apr_status_t> {
    // SAFETY: forwarded contract.
    let (raw, timeout) = unsafe { fd_and_timeout(sock) };
    // SAFETY: the descriptor stays open while the APR socket is live.
    let fd = unsafe { BorrowedFd::borrow_raw(raw) };
    let flags = if timeout < 0 { 0 } else { libc::MSG_DONTWAIT };
    loop {
        match sctp::send_msg(fd, bufs, Some(info), flags) {
            Ok(n) => return Ok(n),
            Err(e) if e.errno == libc::EINTR => continue,
            Err(e) if would_block(e.errno) && timeout != 0 => wait(fd, libc::POLLOUT, timeout)?,
            Err(e) => return Err(e.errno),
        }
    }
}

/// Receives (part of) one message, honouring the socket's timeout; skips
/// notifications. Returns the byte count, the message's receive information
/// (when SCTP_RECVRCVINFO is on) and whether the bytes end the message.
///
/// # Safety
/// `sock` must be a live APR socket of protocol SCTP.
pub unsafe fn recv(
    sock: *mut sys::apr_socket_t,
    buf: &mut [u8],
) -> Result<(usize, Option<RcvInfo>, bool), sys::apr_status_t> {
    // SAFETY: forwarded contract.
    let (raw, timeout) = unsafe { fd_and_timeout(sock) };
    // SAFETY: the descriptor stays open while the APR socket is live.
    let fd = unsafe { BorrowedFd::borrow_raw(raw) };
    let flags = if timeout < 0 { 0 } else { libc::MSG_DONTWAIT };
    loop {
        match sctp::recv_msg(fd, buf, flags) {
            Ok(r) if r.notification => {
                if r.eor {
                    match sctp::parse_notification(&buf[..r.len]) {
                        Ok(n) => tracing::debug!(target: "apr_sctp", "{n}"),
                        Err(e) => {
                            tracing::debug!(target: "apr_sctp", "unreadable notification: {e}")
                        }
                    }
                }
                continue;
            }
            Ok(r) if r.len == 0 && !buf.is_empty() => return Err(sys::APR_EOF as sys::apr_status_t),
            Ok(r) => return Ok((r.len, r.info, r.eor)),
            Err(e) if e.errno == libc::EINTR => continue,
            Err(e) if would_block(e.errno) && timeout != 0 => wait(fd, libc::POLLIN, timeout)?,
            Err(e) => return Err(e.errno),
        }
    }
}

/// `apr_socket_send_sctp()`: sends `*len` bytes as one message on `stream`.
/// On return `*len` is the number of bytes sent (0 on error).
///
/// # Safety
/// C callers pass a live socket and `*len` readable bytes at `buf`.
#[no_mangle]
pub unsafe extern "C" fn apr_socket_send_sctp(
    sock: *mut sys::apr_socket_t,
    buf: *const libc::c_char,
    len: *mut sys::apr_size_t,
    stream: u16,
) -> sys::apr_status_t {
    let info = apr_sctp_sndinfo_t {
        stream,
        ..Default::default()
    };
    // SAFETY: a single iovec over the caller's buffer.
    unsafe {
        let vec = sys::iovec {
            iov_base: buf as *mut libc::c_void,
            iov_len: if len.is_null() { 0 } else { *len },
        };
        apr_socket_sendv_sctp(sock, &vec, 1, &info, len)
    }
}

/// `apr_socket_sendv_sctp()`: sends the vector as one message with the
/// given stream, flags, PPID and context.
///
/// # Safety
/// C callers pass a live socket, `nvec` valid iovecs and a valid info.
#[no_mangle]
pub unsafe extern "C" fn apr_socket_sendv_sctp(
    sock: *mut sys::apr_socket_t,
    vec: *const sys::iovec,
    nvec: i32,
    info: *const apr_sctp_sndinfo_t,
    len: *mut sys::apr_size_t,
) -> sys::apr_status_t {
    if sock.is_null() || info.is_null() || (vec.is_null() && nvec > 0) || nvec < 0 {
        return sys::APR_EINVAL as sys::apr_status_t;
    }
    // SAFETY: the caller's iovecs are valid; IoSlice is layout-compatible
    // with struct iovec on Unix.
    let (bufs, i) = unsafe {
        (
            std::slice::from_raw_parts(vec as *const IoSlice<'_>, nvec as usize),
            *info,
        )
    };
    let snd = SndInfo {
        sid: i.stream,
        flags: i.flags,
        ppid: i.ppid,
        context: i.context,
    };
    // SAFETY: live socket per the contract.
    let r = unsafe { send(sock, bufs, &snd) };
    let (n, rv) = match r {
        Ok(n) => (n, APR_SUCCESS),
        Err(rv) => (0, rv),
    };
    if !len.is_null() {
        // SAFETY: caller's out-pointer.
        unsafe { *len = n };
    }
    rv
}

/// `apr_socket_recv_sctp()`: receives up to `*len` bytes; `*len` becomes the
/// count read and `*stream` the stream they came on.
///
/// # Safety
/// C callers pass a live socket and `*len` writable bytes at `buf`.
#[no_mangle]
pub unsafe extern "C" fn apr_socket_recv_sctp(
    sock: *mut sys::apr_socket_t,
    buf: *mut libc::c_char,
    len: *mut sys::apr_size_t,
    stream: *mut u16,
) -> sys::apr_status_t {
    let mut info = apr_sctp_rcvinfo_t::default();
    // SAFETY: forwarded contract.
    let rv = unsafe { apr_socket_recv_sctp_info(sock, buf, len, &mut info) };
    if !stream.is_null() {
        // SAFETY: caller's out-pointer.
        unsafe { *stream = info.stream };
    }
    rv
}

/// `apr_socket_recv_sctp_info()`: like `apr_socket_recv_sctp()`, with the
/// full receive information.
///
/// # Safety
/// C callers pass a live socket and `*len` writable bytes at `buf`.
#[no_mangle]
pub unsafe extern "C" fn apr_socket_recv_sctp_info(
    sock: *mut sys::apr_socket_t,
    buf: *mut libc::c_char,
    len: *mut sys::apr_size_t,
    info: *mut apr_sctp_rcvinfo_t,
) -> sys::apr_status_t {
    if sock.is_null() || len.is_null() || (buf.is_null() && unsafe { *len } > 0) {
        return sys::APR_EINVAL as sys::apr_status_t;
    }
    // SAFETY: the caller's buffer of *len bytes.
    let b = unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, *len) };
    // SAFETY: live socket per the contract.
    let (n, rv, ri) = match unsafe { recv(sock, b) } {
        Ok((n, i, eor)) => (
            n,
            APR_SUCCESS,
            i.map(|i| apr_sctp_rcvinfo_t::from_rcvinfo(&i, eor))
                .unwrap_or(apr_sctp_rcvinfo_t {
                    eor: eor as i32,
                    ..Default::default()
                }),
        ),
        Err(rv) => (0, rv, apr_sctp_rcvinfo_t::default()),
    };
    // SAFETY: caller's out-pointers.
    unsafe {
        *len = n;
        if !info.is_null() {
            *info = ri;
        }
    }
    rv
}
