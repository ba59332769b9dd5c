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
use std::time::{Duration, Instant};

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

/// The descriptor (borrowed for the call) and timeout (microseconds) of
/// an APR socket; EBADF once the socket is closed (APR then reports
/// descriptor -1, which no `BorrowedFd` may hold: a reader racing a close
/// at a graceful stop gets an error, not a panic).
///
/// # Safety
/// `sock` must be a live APR socket whose descriptor, if open, stays open
/// for `'a`.
pub(crate) unsafe fn borrowed_fd<'a>(
    sock: *mut sys::apr_socket_t,
) -> Result<(BorrowedFd<'a>, i64), sys::apr_status_t> {
    let mut raw: sys::apr_os_sock_t = -1;
    let mut timeout: sys::apr_interval_time_t = -1;
    // SAFETY: live socket, valid out-pointers.
    unsafe {
        sys::apr_os_sock_get(&mut raw, sock);
        sys::apr_socket_timeout_get(sock, &mut timeout);
    }
    if raw < 0 {
        return Err(libc::EBADF);
    }
    // SAFETY: an open descriptor that stays open for 'a (the contract).
    Ok((unsafe { BorrowedFd::borrow_raw(raw) }, timeout))
}

/// When a call with APR timeout `timeout` (µs) must give up: `None` for a
/// blocking socket (timeout < 0).
fn deadline(timeout: i64) -> Option<Instant> {
    u64::try_from(timeout)
        .ok()
        .map(|us| Instant::now() + Duration::from_micros(us))
}

/// A call's deadline, read from the clock at its first wait: a send or
/// receive that never waits (the common case) costs no clock_gettime.
pub(crate) struct Deadline {
    timeout: i64,
    until: Option<Option<Instant>>,
}

impl Deadline {
    pub(crate) fn new(timeout: i64) -> Deadline {
        Deadline {
            timeout,
            until: None,
        }
    }

    fn get(&mut self) -> Option<Instant> {
        let t = self.timeout;
        *self.until.get_or_insert_with(|| deadline(t))
    }
}

/// Waits until `fd` is ready for `events` or `until` passes (APR_TIMEUP).
/// One deadline spans all the waits of a call, so retries after a spurious
/// wake-up (or a skipped notification) never stretch the timeout.
fn wait(
    fd: BorrowedFd<'_>,
    events: libc::c_short,
    until: Option<Instant>,
) -> Result<(), sys::apr_status_t> {
    use std::os::fd::AsRawFd;
    loop {
        let ms: libc::c_int = match until {
            None => -1,
            Some(t) => {
                let left = t.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(sys::APR_TIMEUP as sys::apr_status_t);
                }
                // Round up, so a short timeout is not a busy loop.
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
            }
        };
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

/// Waits until `fd` is readable or `timeout` passes (APR's terms:
/// microseconds, negative: for ever; APR_TIMEUP when it passes).
pub fn wait_readable(fd: BorrowedFd<'_>, timeout: i64) -> Result<(), sys::apr_status_t> {
    wait(fd, libc::POLLIN, deadline(timeout))
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
    // SAFETY: forwarded contract; the descriptor stays open while the APR
    // socket is live.
    let (fd, timeout) = unsafe { borrowed_fd(sock) }?;
    send_fd(fd, bufs, info, timeout)
}

/// [`send`] on a descriptor, with `timeout` in APR's terms (microseconds;
/// negative: wait for ever, 0: never wait), for senders that do not own the
/// APR socket and must not read or change its timeout (mod_sctp's stream
/// connections share an association's socket with its one reader).
pub fn send_fd(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    info: &SndInfo,
    timeout: i64,
) -> Result<usize, sys::apr_status_t> {
    let mut until = Deadline::new(timeout);
    with_timeout(fd, libc::POLLOUT, &mut until, |flags| {
        sctp::send_msg(fd, bufs, Some(info), flags)
    })
}

/// Runs `op` (one send or receive, given MSG_DONTWAIT or 0 as its flags)
/// with APR's timeout semantics: retried after EINTR, and after EAGAIN
/// once `fd` is ready for `events`, until `until` passes (APR_TIMEUP); a
/// timeout of 0 returns EAGAIN at once, a negative one blocks in `op`.
pub(crate) fn with_timeout<T>(
    fd: BorrowedFd<'_>,
    events: libc::c_short,
    until: &mut Deadline,
    mut op: impl FnMut(libc::c_int) -> Result<T, sctp::Error>,
) -> Result<T, sys::apr_status_t> {
    let timeout = until.timeout;
    let flags = if timeout < 0 { 0 } else { libc::MSG_DONTWAIT };
    loop {
        match op(flags) {
            Ok(v) => return Ok(v),
            Err(e) if e.errno == libc::EINTR => continue,
            Err(e) if would_block(e.errno) && timeout != 0 => wait(fd, events, until.get())?,
            Err(e) => return Err(e.errno),
        }
    }
}

/// Reads the rest of a notification whose first `head` bytes were read
/// (`eor`: it was complete), and logs it at the level its kind deserves
/// ([`sctp::Notification::severity`]). The rest of a
/// notification is always queued whole, so this never waits. Pieces past
/// 512 bytes (the data of a long SEND_FAILED) are read and dropped.
fn skip_notification(fd: BorrowedFd<'_>, head: &[u8], mut eor: bool) {
    let mut note = [0u8; 512];
    let mut n = head.len().min(note.len());
    note[..n].copy_from_slice(&head[..n]);
    let mut scratch = [0u8; 512];
    while !eor {
        let kept = n < note.len();
        let dst: &mut [u8] = if kept { &mut note[n..] } else { &mut scratch };
        match sctp::recv_msg(fd, dst, libc::MSG_DONTWAIT) {
            Ok(more) if more.len > 0 => {
                if kept {
                    n += more.len;
                }
                eor = more.eor;
            }
            _ => break,
        }
    }
    match sctp::parse_notification(&note[..n]) {
        Ok(v) => match v.severity() {
            // The warnings are path failures (docs/directives.md, "Logging").
            sctp::Severity::Warn => tracing::warn!(target: "apr_sctp", "SCTP03001: {v}"),
            sctp::Severity::Info => tracing::info!(target: "apr_sctp", "{v}"),
            sctp::Severity::Debug => tracing::debug!(target: "apr_sctp", "{v}"),
        },
        Err(e) => tracing::debug!(target: "apr_sctp", "unreadable notification skipped: {e}"),
    }
}

/// Receives (part of) one message, honouring the socket's timeout, and
/// skips notifications (logging them at debug level, target "apr_sctp").
/// `Received::notification` is always false; `len == 0` only for an empty
/// `buf` (end of stream is `Err(APR_EOF)`).
///
/// # Safety
/// `sock` must be a live APR socket of protocol SCTP.
pub unsafe fn recv_msg(
    sock: *mut sys::apr_socket_t,
    buf: &mut [u8],
) -> Result<sctp::Received, sys::apr_status_t> {
    // SAFETY: forwarded contract; the descriptor stays open while the APR
    // socket is live.
    let (fd, timeout) = unsafe { borrowed_fd(sock) }?;
    let mut until = Deadline::new(timeout);
    if buf.is_empty() {
        // Nothing to read into: no syscall (a 0-byte recvmsg would look like
        // end of stream).
        return Ok(sctp::Received::default());
    }
    loop {
        let r = with_timeout(fd, libc::POLLIN, &mut until, |flags| {
            sctp::recv_msg(fd, buf, flags)
        })?;
        if r.notification {
            skip_notification(fd, &buf[..r.len], r.eor);
            continue;
        }
        if r.len == 0 {
            return Err(sys::APR_EOF as sys::apr_status_t);
        }
        return Ok(r);
    }
}

/// Receives (part of) one message, honouring the socket's timeout (see the
/// module docs); skips notifications. Returns the byte count and the
/// message's receive information (present when SCTP_RECVRCVINFO is on).
/// Use [`recv_msg`] to learn whether the bytes end the message.
///
/// # Safety
/// `sock` must be a live APR socket of protocol SCTP.
pub unsafe fn recv(
    sock: *mut sys::apr_socket_t,
    buf: &mut [u8],
) -> Result<(usize, Option<RcvInfo>), sys::apr_status_t> {
    // SAFETY: forwarded contract.
    unsafe { recv_msg(sock, buf) }.map(|r| (r.len, r.info))
}

/// The C-side receive information of bytes read with `r`.
pub(crate) fn c_rcvinfo(r: &sctp::Received) -> apr_sctp_rcvinfo_t {
    match &r.info {
        Some(i) => apr_sctp_rcvinfo_t::from_rcvinfo(i, r.eor),
        None => apr_sctp_rcvinfo_t {
            eor: r.eor as i32,
            ..Default::default()
        },
    }
}

/// `apr_socket_send_sctp()`: sends `*len` bytes as one message on `stream`
/// (PPID 0, no flags). On return `*len` is the number of bytes sent (0 on
/// error).
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
    if len.is_null() {
        return sys::APR_EINVAL as sys::apr_status_t;
    }
    let info = apr_sctp_sndinfo_t {
        stream,
        ..Default::default()
    };
    // SAFETY: `len` is a valid pointer (checked above) to the buffer's size.
    let n = unsafe { *len };
    if buf.is_null() && n > 0 {
        // SAFETY: as above.
        unsafe { *len = 0 };
        return sys::APR_EINVAL as sys::apr_status_t;
    }
    let vec = sys::iovec {
        iov_base: buf as *mut libc::c_void,
        iov_len: n,
    };
    // SAFETY: one iovec over the caller's buffer; forwarded contract.
    unsafe { apr_socket_sendv_sctp(sock, &vec, 1, &info, len) }
}

/// `apr_socket_sendv_sctp()`: sends the vector as one message with the
/// given stream, flags, PPID (host order) and context.
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
    let set_len = |n: usize| {
        if !len.is_null() {
            // SAFETY: the caller's out-pointer, checked non-null.
            unsafe { *len = n };
        }
    };
    if sock.is_null() || info.is_null() || (vec.is_null() && nvec > 0) || nvec < 0 {
        set_len(0);
        return sys::APR_EINVAL as sys::apr_status_t;
    }
    let bufs: &[IoSlice<'_>] = if nvec == 0 {
        &[]
    } else {
        // SAFETY: the caller's `nvec` iovecs (non-null, checked above);
        // IoSlice is guaranteed ABI-compatible with struct iovec on Unix.
        unsafe { std::slice::from_raw_parts(vec as *const IoSlice<'_>, nvec as usize) }
    };
    // SAFETY: a valid pointer per the contract, checked non-null.
    let i = unsafe { *info };
    let snd = SndInfo {
        sid: i.stream,
        flags: i.flags,
        ppid: i.ppid,
        context: i.context,
    };
    // SAFETY: live socket per the contract.
    match unsafe { send(sock, bufs, &snd) } {
        Ok(n) => {
            set_len(n);
            APR_SUCCESS
        }
        Err(rv) => {
            set_len(0);
            rv
        }
    }
}

/// `apr_socket_recv_sctp()`: receives up to `*len` bytes; `*len` becomes the
/// count read and `*stream` (if not NULL) the stream they came on.
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
        // SAFETY: the caller's out-pointer, checked non-null.
        unsafe { *stream = info.stream };
    }
    rv
}

/// `apr_socket_recv_sctp_info()`: like `apr_socket_recv_sctp()`, with the
/// full receive information (zeroed on error).
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
    let put = |n: usize, ri: apr_sctp_rcvinfo_t| {
        // SAFETY: the caller's out-pointers; `len` is checked non-null
        // before any call, `info` here.
        unsafe {
            *len = n;
            if !info.is_null() {
                *info = ri;
            }
        }
    };
    if len.is_null() {
        return sys::APR_EINVAL as sys::apr_status_t;
    }
    // SAFETY: checked non-null.
    let cap = unsafe { *len };
    if sock.is_null() || (buf.is_null() && cap > 0) {
        put(0, apr_sctp_rcvinfo_t::default());
        return sys::APR_EINVAL as sys::apr_status_t;
    }
    let b: &mut [u8] = if cap == 0 {
        &mut []
    } else {
        // SAFETY: the caller's buffer of `cap` writable bytes (non-null).
        unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, cap) }
    };
    // SAFETY: live socket per the contract.
    match unsafe { recv_msg(sock, b) } {
        Ok(r) => {
            put(r.len, c_rcvinfo(&r));
            APR_SUCCESS
        }
        Err(rv) => {
            put(0, apr_sctp_rcvinfo_t::default());
            rv
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The C structs of apr_sctp.h (tests/c/sctp_pingpong.c checks the
    /// same numbers on the C side).
    #[test]
    fn deadlines_and_waits() {
        assert_eq!(deadline(-1), None);
        let t = deadline(0).unwrap();
        assert!(t <= Instant::now());
        // A passed deadline is APR_TIMEUP at once, without polling; a live
        // one polls (no events asked for: it times out).
        let f = std::fs::File::open("/dev/null").unwrap();
        use std::os::fd::AsFd;
        assert_eq!(
            wait(f.as_fd(), 0, Some(t)),
            Err(sys::APR_TIMEUP as sys::apr_status_t)
        );
        let t0 = Instant::now();
        assert_eq!(
            wait(f.as_fd(), 0, deadline(20_000)),
            Err(sys::APR_TIMEUP as sys::apr_status_t)
        );
        assert!(t0.elapsed() >= Duration::from_millis(19));
        // /dev/null is always readable.
        assert_eq!(wait(f.as_fd(), libc::POLLIN, deadline(1_000_000)), Ok(()));
    }

    #[test]
    fn c_struct_layouts() {
        assert_eq!(size_of::<apr_sctp_sndinfo_t>(), 12);
        assert_eq!(offset_of!(apr_sctp_sndinfo_t, ppid), 4);
        assert_eq!(offset_of!(apr_sctp_sndinfo_t, context), 8);
        assert_eq!(size_of::<apr_sctp_rcvinfo_t>(), 24);
        assert_eq!(offset_of!(apr_sctp_rcvinfo_t, ppid), 8);
        assert_eq!(offset_of!(apr_sctp_rcvinfo_t, assoc_id), 16);
        assert_eq!(offset_of!(apr_sctp_rcvinfo_t, eor), 20);
    }

    #[test]
    fn c_rcvinfo_from_received() {
        let r = sctp::Received {
            len: 3,
            info: Some(RcvInfo {
                sid: 4,
                ssn: 2,
                flags: 1,
                ppid: 63,
                tsn: 10,
                cumtsn: 9,
                context: 0,
                assoc_id: 5,
            }),
            eor: true,
            notification: false,
        };
        assert_eq!(
            c_rcvinfo(&r),
            apr_sctp_rcvinfo_t {
                stream: 4,
                ssn: 2,
                flags: 1,
                ppid: 63,
                tsn: 10,
                assoc_id: 5,
                eor: 1
            }
        );
        // Without SCTP_RECVRCVINFO: zeros, but EOR still told.
        let r = sctp::Received {
            info: None,
            eor: false,
            ..r
        };
        assert_eq!(c_rcvinfo(&r), apr_sctp_rcvinfo_t::default());
    }

    #[test]
    fn bad_c_arguments_are_einval_without_a_syscall() {
        let einval = sys::APR_EINVAL as sys::apr_status_t;
        let mut len: sys::apr_size_t = 5;
        // SAFETY: NULL pointers are what is being checked; nothing is
        // dereferenced but `len`.
        unsafe {
            assert_eq!(
                apr_socket_send_sctp(std::ptr::null_mut(), c"hello".as_ptr(), &mut len, 1),
                einval
            );
            assert_eq!(len, 0);
            assert_eq!(
                apr_socket_send_sctp(
                    std::ptr::null_mut(),
                    std::ptr::null(),
                    std::ptr::null_mut(),
                    1
                ),
                einval
            );
            len = 8;
            let mut buf = [0 as libc::c_char; 8];
            assert_eq!(
                apr_socket_recv_sctp(
                    std::ptr::null_mut(),
                    buf.as_mut_ptr(),
                    &mut len,
                    std::ptr::null_mut()
                ),
                einval
            );
            assert_eq!(len, 0);
            assert_eq!(
                apr_socket_recv_sctp_info(
                    std::ptr::null_mut(),
                    buf.as_mut_ptr(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut()
                ),
                einval
            );
            let info = apr_sctp_sndinfo_t::default();
            assert_eq!(
                apr_socket_sendv_sctp(std::ptr::null_mut(), std::ptr::null(), -1, &info, &mut len),
                einval
            );
        }
    }
}
