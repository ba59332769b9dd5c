//! SCTP_OUT, the network output filter of SCTP connections.
//!
//! On Linux every write to an SCTP socket is one message, and a write larger
//! than the socket's send buffer fails with EMSGSIZE instead of writing part
//! of it; httpd's CORE output filter writev()s whole files. So mod_sctp owns
//! the network writes of SCTP connections (docs/architecture.md, "Output"): this filter
//! sits just above CORE, cuts the response into messages of at most
//! `SCTPMaxMessageSize` bytes, sends them with `sendmsg`, and never passes
//! data down to CORE.
//!
//! Streams: each response goes on the stream its request came on (the
//! stream SCTP_IN pinned while reading it), PPID 63. The stream is chosen
//! at each byte: bytes pending for another stream are sent first, so no
//! byte of one response leaves on the stream of another. EOR (the end of a
//! response) releases the request's stream.
//!
//! Writes are blocking with the connection's timeout (apr-sctp waits for
//! writability). Like CORE on TCP, the filter may keep at most `HOLD_MAX`
//! bytes of a response that has neither ended nor been flushed between
//! calls (in the association, not the per-thread buffer): httpd passes a
//! response's headers and its body in separate calls, and without this
//! every small response took two messages (two sendmsg, two DATA chunks).
//! It keeps CORE's contract for such bytes, which every httpd caller
//! relies on:
//! * SCTP_OUT is the connection's last output filter: CORE, below it, is
//!   taken out of the chain at the first call (it never got a byte anyway),
//!   so the calls with no brigade that httpd makes to the last filter reach
//!   SCTP_OUT and send what it holds. mod_proxy's tunnels
//!   (`ap_proxy_tunnel_run`: websockets, CONNECT) pass what they read
//!   without FLUSH and then make that call when `c->data_in_output_filters`
//!   is set; the event MPM's write completion makes it too;
//! * `c->data_in_output_filters` is set while bytes are held, and cleared
//!   when nothing is;
//! * FLUSH, EOR and EOC send everything (httpd's sync MPMs pass a FLUSH when
//!   a connection goes idle), so when a response's EOR is handled every
//!   byte of it is in the kernel: EOR buckets (whose destruction logs the
//!   request and frees its pool) are destroyed only after the response's
//!   bytes were sent, and the event MPM's write completion finds nothing
//!   pending.
//!
//! Every byte sent is counted for mod_logio (`%O`), as CORE does.
//!
//! A peer that takes no data for the connection's `Timeout` (a send timed
//! out) or still has response data queued when its connection ends without
//! having taken any for `Timeout` gets an ABORT (SO_LINGER 0), logged at
//! info: the kernel would otherwise keep the association and its send
//! queue long after httpd gave up on it.

use crate::association::Assoc;
use crate::brigade;
use crate::ffi;
use crate::messages::Coalescer;
use apr_sctp::sctp::SndInfo;
use std::cell::RefCell;
use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// SCTP payload protocol identifier for HTTP (IANA: 63).
pub const PPID_HTTP: u32 = 63;

/// The most bytes of an unfinished, unflushed response kept between calls
/// (CORE's THRESHOLD_MIN_WRITE for TCP is the same).
pub const HOLD_MAX: usize = 4096;

/// The most unread bytes discarded at the end of a connection.
const DRAIN_LIMIT: usize = 1 << 20;
/// The longest wait for the SHUTDOWN handshake at the end of a connection
/// (one round trip when all goes well).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(1);

/// mod_logio's `ap_logio_add_bytes_out` (0 without mod_logio), retrieved
/// in each generation's optional_fn_retrieve hook.
static LOGIO_ADD_BYTES_OUT: AtomicUsize = AtomicUsize::new(0);

/// The type of `ap_logio_add_bytes_out` (mod_logio.h).
type AddBytesOut = unsafe extern "C" fn(*mut ffi::conn_rec, ffi::apr_off_t);

/// The optional_fn_retrieve hook: finds mod_logio's byte counter, as core
/// does for its own output filter.
pub(crate) unsafe extern "C" fn retrieve_optional_fns() {
    httpd_module::boundary::void("mod_sctp: optional functions", || {
        // SAFETY: a NUL-terminated name; the registry of optional functions is
        // complete once modules are loaded (this hook's contract).
        let f = unsafe { ffi::apr_dynamic_fn_retrieve(c"ap_logio_add_bytes_out".as_ptr()) };
        LOGIO_ADD_BYTES_OUT.store(f.map_or(0, |f| f as usize), Ordering::Relaxed);
    })
}

/// Counts `n` bytes sent on `c` for mod_logio (`%O`).
fn count_bytes_out(c: *mut ffi::conn_rec, n: usize) {
    let p = LOGIO_ADD_BYTES_OUT.load(Ordering::Relaxed);
    if p == 0 || n == 0 {
        return;
    }
    // SAFETY: `p` is the address apr_dynamic_fn_retrieve returned for
    // "ap_logio_add_bytes_out", a function of type AddBytesOut.
    let f: AddBytesOut = unsafe { std::mem::transmute::<usize, AddBytesOut>(p) };
    // SAFETY: `c` is the live connection being written.
    unsafe { f(c, n as ffi::apr_off_t) };
}

thread_local! {
    /// The coalescing buffer. Nothing stays in it between calls of the
    /// filter (see the module docs), so one per thread serves every
    /// connection the thread writes, and idle associations cost nothing.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a buffer of `cap` bytes.
fn with_buffer<T>(cap: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut v) => {
            v.resize(cap, 0);
            f(&mut v)
        }
        // Never expected (a bucket read does not write to the network), but
        // a nested call must not share the buffer.
        Err(_) => f(&mut vec![0; cap]),
    })
}

/// Where SCTP_OUT's bytes go: the whole association, its streams served
/// one request at a time (the association connection, `Assoc`), or one
/// stream (a stream connection, `stream_connection::StreamCtx`).
pub(crate) trait Outlet {
    /// The kernel's id of the association, for log lines.
    fn assoc_id(&self) -> i32;
    /// The stream the next response bytes go on.
    fn stream(&mut self) -> u16;
    /// `SCTPMaxMessageSize`.
    fn max_message(&self) -> usize;
    /// Bytes kept between calls (at most [`HOLD_MAX`]) and their stream.
    fn held(&mut self) -> (&mut Vec<u8>, &mut u16);
    /// Sends one message on `sid` with PPID 63 and counts it.
    fn send(&mut self, sid: u16, data: &[u8]) -> Result<usize, ffi::apr_status_t>;
    /// Messages and bytes sent so far (for log lines).
    fn sent(&self) -> (u64, u64);
    /// A response ended (EOR), all of it sent.
    fn end_response(&mut self);
    /// The connection ends (EOC), everything sent.
    fn end_of_connection(&mut self, c: *mut ffi::conn_rec);
    /// A send failed with `rv` (logged by the caller): what the outlet must
    /// do about the association.
    fn send_failed(&mut self, c: *mut ffi::conn_rec, rv: ffi::apr_status_t);
    /// Why a failed send may have failed, for its log line ("" if nothing
    /// is known).
    fn failure_note(&self) -> &'static str {
        ""
    }
}

/// One call's writer: the outlet, the buffer and what is pending in it.
struct Writer<'a, O: Outlet> {
    c: *mut ffi::conn_rec,
    a: &'a mut O,
    mem: &'a mut [u8],
    len: usize,
    /// Stream of the pending bytes.
    sid: u16,
}

/// The SCTP_SNDINFO of a message of an HTTP response on `sid`.
pub fn http_sndinfo(sid: u16) -> SndInfo {
    SndInfo {
        sid,
        flags: 0,
        ppid: PPID_HTTP,
        context: 0,
    }
}

/// Sends `data` as one message through `a` and counts it for mod_logio.
fn send<O: Outlet>(
    c: *mut ffi::conn_rec,
    a: &mut O,
    sid: u16,
    data: &[u8],
) -> Result<(), ffi::apr_status_t> {
    a.send(sid, data).map(|n| count_bytes_out(c, n))
}

impl<O: Outlet> Writer<'_, O> {
    /// Queues response bytes on the stream of the request being answered;
    /// what is pending for another stream is sent first, so no byte of one
    /// response leaves on the stream of another.
    fn push(&mut self, data: &[u8]) -> Result<(), ffi::apr_status_t> {
        let sid = self.a.stream();
        if self.len > 0 && sid != self.sid {
            self.flush()?;
        }
        self.sid = sid;
        let Writer {
            c,
            a,
            mem,
            len,
            sid,
        } = self;
        Coalescer::new(mem, len).push(data, &mut |m| send(*c, *a, *sid, m))
    }

    fn flush(&mut self) -> Result<(), ffi::apr_status_t> {
        let Writer {
            c,
            a,
            mem,
            len,
            sid,
        } = self;
        Coalescer::new(mem, len).flush(&mut |m| send(*c, *a, *sid, m))
    }
}

impl Outlet for Assoc {
    fn assoc_id(&self) -> i32 {
        self.assoc_id
    }

    fn stream(&mut self) -> u16 {
        let sid = self.response_stream();
        self.response_sid = sid;
        sid
    }

    fn max_message(&self) -> usize {
        self.max_message
    }

    fn held(&mut self) -> (&mut Vec<u8>, &mut u16) {
        (&mut self.held, &mut self.held_sid)
    }

    fn send(&mut self, sid: u16, data: &[u8]) -> Result<usize, ffi::apr_status_t> {
        // SAFETY: `sock` is the connection's live socket.
        let n = unsafe {
            apr_sctp::apr_socket::send(self.sock, &[IoSlice::new(data)], &http_sndinfo(sid))
        }
        .map_err(|rv| rv as ffi::apr_status_t)?;
        self.counters.messages_out += 1;
        self.counters.bytes_out += n as u64;
        Ok(n)
    }

    fn sent(&self) -> (u64, u64) {
        (self.counters.messages_out, self.counters.bytes_out)
    }

    fn end_response(&mut self) {
        Assoc::end_response(self)
    }

    fn end_of_connection(&mut self, c: *mut ffi::conn_rec) {
        end_of_connection(self, c)
    }

    fn send_failed(&mut self, c: *mut ffi::conn_rec, rv: ffi::apr_status_t) {
        // SAFETY: live connection.
        let why = unsafe { send_failure(c, rv) };
        abort_association(
            self.fd(),
            self.assoc_id,
            &self.peers_text(),
            self.counters.bytes_out,
            &why,
        );
    }

    fn failure_note(&self) -> &'static str {
        self.ended_note()
    }
}

/// Why a send failed, for the ABORT's log line.
///
/// # Safety
/// `c` is a live connection.
pub(crate) unsafe fn send_failure(c: *mut ffi::conn_rec, rv: ffi::apr_status_t) -> String {
    if rv == ffi::APR_TIMEUP as ffi::apr_status_t {
        // SAFETY: live connection (caller's contract).
        let t = unsafe { server_timeout(c) };
        format!("took no data for {} s (Timeout)", t.as_secs_f64())
    } else {
        format!("could not be sent to ({})", crate::apr_error(rv))
    }
}

/// See "End of connection" in docs/architecture.md.
fn end_of_connection(a: &mut Assoc, c: *mut ffi::conn_rec) {
    {
        let Some(fd) = a.fd() else {
            // httpd closed the socket already: the kernel has the
            // association's fate in hand, nothing is left to drain.
            // SAFETY: live connection; see the module docs for why.
            unsafe { (*c).aborted = 1 };
            return;
        };
        // Start the graceful SHUTDOWN now (it follows the queued response):
        // the peer stops sending once it sees it. Closing while its data is
        // unread would make the kernel ABORT and drop the response.
        // SAFETY: shutdown on the connection's live descriptor.
        unsafe { libc::shutdown(fd.as_raw_fd(), libc::SHUT_WR) };
        let start = Instant::now();
        // SAFETY: live connection and its server.
        let timeout = unsafe { server_timeout(c) };
        let mut scratch = [0u8; 4096];
        let mut discarded = 0usize;
        // Chunks of the response the peer has not acknowledged, and when
        // that last went down.
        let mut unsent = u32::MAX;
        let mut progress = start;
        // Bounded in bytes and time: a peer that keeps sending gets an
        // ABORT (closing with unread data); one that takes nothing of what
        // is queued for `timeout` gets one too (below).
        loop {
            while discarded < DRAIN_LIMIT {
                match apr_sctp::sctp::recv_msg(fd, &mut scratch, libc::MSG_DONTWAIT) {
                    Ok(r) if r.len > 0 => discarded += r.len,
                    _ => break,
                }
            }
            let Ok(st) = apr_sctp::sctp::status(fd) else {
                unsent = 0;
                break;
            };
            let now = Instant::now();
            let left = u32::from(st.unackdata) + u32::from(st.penddata);
            if left < unsent {
                unsent = left;
                progress = now;
            }
            if discarded >= DRAIN_LIMIT
                || (now >= start + SHUTDOWN_WAIT && (unsent == 0 || now >= progress + timeout))
            {
                break;
            }
            let mut p = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, 10) };
        }
        tracing::debug!("{}", a.closing_summary(discarded));
        if unsent > 0 && discarded < DRAIN_LIMIT {
            abort_association(
                a.fd(),
                a.assoc_id,
                &a.peers_text(),
                a.totals().0.bytes_out,
                &format!(
                    "took none of the response's last data for {} s (Timeout) after the connection ended",
                    timeout.as_secs_f64()
                ),
            );
        }
    }
    // SAFETY: live connection; see the module docs for why.
    unsafe { (*c).aborted = 1 };
}

/// The server's `Timeout` for connection `c`.
///
/// # Safety
/// `c` is a live connection.
unsafe fn server_timeout(c: *mut ffi::conn_rec) -> Duration {
    // SAFETY: a live connection has a live base server (caller's contract).
    let us = unsafe { (*(*c).base_server).timeout };
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

/// Makes closing the association abort it (SO_LINGER 0): the peer took no
/// data for too long, and the kernel would otherwise keep the association
/// and its send queue after httpd closes it. Logged at info with the peer
/// and what was left unsent.
pub(crate) fn abort_association(
    fd: Option<BorrowedFd<'_>>,
    assoc_id: i32,
    peers: &str,
    bytes_out: u64,
    why: &str,
) {
    let Some(fd) = fd else {
        return; // closed: nothing is kept
    };
    let Ok(st) = apr_sctp::sctp::status(fd) else {
        return; // already gone: nothing is kept
    };
    let set = apr_sctp::sctp::set_abort_on_close(fd);
    tracing::info!(
        "association {assoc_id}: peer {peers} {why}: aborting the association ({} DATA chunk(s) of at most {} bytes unacknowledged or unsent, {bytes_out} byte(s) sent){}",
        u32::from(st.unackdata) + u32::from(st.penddata),
        st.fragmentation_point,
        set.err().map(|e| format!("; {e}: it may linger")).unwrap_or_default()
    );
}

/// Takes CORE out of the connection's output filters below `f`, so that
/// SCTP_OUT is the last filter (see the module docs).
///
/// # Safety
/// `f` is the live SCTP_OUT filter.
unsafe fn take_out_core(f: *mut ffi::ap_filter_t) {
    // SAFETY: live filters of a live connection; their records are static.
    unsafe {
        let next = (*f).next;
        if next.is_null() || (*next).frec.is_null() || (*(*next).frec).name.is_null() {
            return;
        }
        let name = std::ffi::CStr::from_ptr((*(*next).frec).name);
        if name.to_bytes().eq_ignore_ascii_case(b"CORE") {
            ffi::ap_remove_output_filter(next);
        }
    }
}

/// Sends the whole brigade through `a`; see the module docs.
///
/// # Safety
/// Called by httpd as an output filter function: `f` is the live filter of
/// connection `c`, `bb` its live brigade or null; `a` is the filter's outlet.
pub(crate) unsafe fn run_filter<O: Outlet>(
    f: *mut ffi::ap_filter_t,
    bb: *mut ffi::apr_bucket_brigade,
    a: &mut O,
) -> ffi::apr_status_t {
    // SAFETY: live filter (caller's contract).
    let c = unsafe { (*f).c };
    // SAFETY: live filter.
    unsafe { take_out_core(f) };
    // SAFETY: live connection.
    if unsafe { (*c).aborted } != 0 {
        a.held().0.clear();
        // SAFETY: live connection and (if any) brigade.
        unsafe {
            (*c).data_in_output_filters = 0;
            if !bb.is_null() {
                brigade::cleanup(bb);
            }
        }
        return ffi::APR_ECONNABORTED as ffi::apr_status_t;
    }
    if bb.is_null() && a.held().0.is_empty() {
        // SAFETY: live connection.
        unsafe { (*c).data_in_output_filters = 0 };
        return 0;
    }
    let cap = a.max_message();
    with_buffer(cap, |mem| {
        // What the last call held back: it came from a buffer of this size.
        let (held, held_sid) = a.held();
        let held_sid = *held_sid;
        let held = std::mem::take(held);
        for (d, b) in mem.iter_mut().zip(&held) {
            *d = *b;
        }
        let mut w = Writer {
            c,
            len: held.len(),
            sid: held_sid,
            a,
            mem,
        };
        // SAFETY: live connection and brigade (or none: a call with no
        // brigade sends what is held).
        unsafe { write_brigade(&mut w, c, bb) }
    })
}

/// The body of [`run_filter`], with this call's writer.
///
/// # Safety
/// `c` is the filter's live connection, `bb` its live brigade or null.
unsafe fn write_brigade<O: Outlet>(
    w: &mut Writer<'_, O>,
    c: *mut ffi::conn_rec,
    bb: *mut ffi::apr_bucket_brigade,
) -> ffi::apr_status_t {
    let result = (|| -> Result<(), ffi::apr_status_t> {
        // SAFETY: walking and consuming the live brigade bucket by bucket.
        unsafe {
            if bb.is_null() {
                return w.flush();
            }
            while let Some(b) = brigade::first(bb) {
                if brigade::is_metadata(b) {
                    // FLUSH, EOR (end of a response) and EOC (end of the
                    // connection) all want what came before on the wire.
                    if brigade::is_type(b, &ffi::apr_bucket_type_flush) {
                        w.flush()?;
                    } else if brigade::is_type(b, &ffi::ap_bucket_type_eor) {
                        w.flush()?;
                        // The next read may pin another stream. (The EOR
                        // bucket's destruction logs the request.)
                        w.a.end_response();
                    } else if brigade::is_type(b, &ffi::ap_bucket_type_eoc) {
                        w.flush()?;
                        w.a.end_of_connection(c);
                    }
                    brigade::delete(b);
                    continue;
                }
                // Read without blocking first: if a CGI or proxy has nothing
                // yet, send what we have before waiting for more.
                let data = match brigade::read(b, ffi::apr_read_type_e_APR_NONBLOCK_READ) {
                    Err(rv) if rv == ffi::APR_EAGAIN as ffi::apr_status_t => {
                        w.flush()?;
                        brigade::read(b, ffi::apr_read_type_e_APR_BLOCK_READ)?
                    }
                    other => other?,
                };
                w.push(data)?;
                brigade::delete(b);
            }
            Ok(())
        }
    })();
    // A little of an unfinished response may wait for the next call (see
    // the module docs); FLUSH, EOR and EOC above left nothing pending, nor
    // does a call with no brigade.
    let result = result.and_then(|_| {
        if w.len > 0 && w.len <= HOLD_MAX && !bb.is_null() {
            let (held, held_sid) = w.a.held();
            *held = w.mem.get(..w.len).unwrap_or_default().to_vec();
            *held_sid = w.sid;
            w.len = 0;
            Ok(())
        } else {
            w.flush()
        }
    });
    let holding = !w.a.held().0.is_empty();
    // SAFETY: live connection. (CORE's contract: callers such as mod_proxy's
    // tunnels ask the last filter to send when this is set.)
    unsafe { (*c).data_in_output_filters = holding.into() };
    match result {
        Ok(()) => 0,
        Err(rv) => {
            let (messages, bytes) = w.a.sent();
            tracing::debug!(
                "association {}: SCTP send on stream {} failed after {} message(s), {} byte(s): {}{}",
                w.a.assoc_id(),
                w.sid,
                messages,
                bytes,
                crate::apr_error(rv),
                w.a.failure_note()
            );
            w.a.send_failed(c, rv);
            w.a.held().0.clear();
            // SAFETY: live connection and brigade.
            unsafe {
                (*c).aborted = 1;
                (*c).data_in_output_filters = 0;
                if !bb.is_null() {
                    brigade::cleanup(bb);
                }
            }
            rv
        }
    }
}

/// The C entry point registered with httpd.
pub(crate) unsafe extern "C" fn sctp_out(
    f: *mut ffi::ap_filter_t,
    bb: *mut ffi::apr_bucket_brigade,
) -> ffi::apr_status_t {
    let body = || {
        // SAFETY: httpd calls us with a live filter whose ctx we set in
        // pre_connection (the connection's Assoc), and a live brigade or none.
        unsafe {
            let a = &mut *((*f).ctx as *mut Assoc);
            run_filter(f, bb, a)
        }
    };
    // SAFETY: httpd passes a live filter for the whole call.
    unsafe { httpd_module::boundary::filter(f, "mod_sctp: SCTP_OUT", body) }
}

/// Registered filter handle (set in register_hooks).
pub static mut HANDLE: *mut ffi::ap_filter_rec_t = ptr::null_mut();
