//! A stream connection (c2): one stream of an association served as an
//! HTTP/1.1 connection of its own, on a stream worker, as
//! mod_http2 serves each HTTP/2 stream on a secondary connection
//! (`h2_c2_create`, httpd 2.4.x modules/http2/h2_c2.c).
//!
//! The c2 is a copy of the association's connection (c1) with
//! `master = c1`, its own pool and allocator (it runs on another thread
//! than c1), its own bucket allocator, conn_config and notes, no
//! scoreboard handle and no MPM state (`cs`), `clogging_input_filters` set
//! (httpd runs its synchronous HTTP/1.1 loop on it). Core's pre_connection
//! returns DONE for a secondary connection, so core adds no filters and no
//! socket: ours are SCTP_STREAM_IN and SCTP_STREAM_OUT, and the
//! connection's "socket" is a stand-in, an APR socket over an eventfd of
//! the c2's own:
//! * mod_reqtimeout and httpd's `Timeout`/`KeepAliveTimeout` handling set
//!   timeouts on it, never on the association's socket, and
//!   SCTP_STREAM_IN waits with that timeout: a stream stuck in its headers
//!   times out alone;
//! * c1 signals the eventfd when the stream's queue gets data (or the
//!   stream fails, or the association ends), so whoever waits for the
//!   connection's socket to become readable (SCTP_STREAM_IN, or
//!   mod_reqtimeout's poll) wakes when there is something to read.
//!
//! SCTP_STREAM_IN reads only its stream's queue; at a request boundary with
//! nothing queued it returns EOF and the c2 ends quietly: its thread and
//! slot are free, the stream's next request starts a new c2.
//!
//! A c2 lives for one request when the client puts each request on a new
//! stream, so building one must be cheap (bench/notes.md, "Request rate"):
//! each stream worker thread keeps its APR allocator from one c2 to the
//! next (free list bounded by `MaxMemFree`, as httpd's own worker threads
//! do: [`thread_allocator`]), the eventfd is read (cleared) only before a
//! wait, and c1 is woken only when the session has decisions for it or
//! when a c2 ends; status-page changes wait for c1's next turn (at most
//! half a second). The eventfd itself is made per c2: a thread that kept
//! one would hold a descriptor while idle, which an administrator counting
//! httpd's descriptors would take for a leak.
//! SCTP_STREAM_OUT is SCTP_OUT's code (`output_filter::run_filter`) over
//! this stream: each `sendmsg` is one message on the stream, PPID 63, at
//! most `SCTPMaxMessageSize` bytes, with the server's `Timeout`; it never
//! shuts the association down.

use crate::brigade;
use crate::ffi;
use crate::output_filter::{self, Outlet};
use crate::session::{ConnEnd, FailReason, ReadError};
use crate::shared_session::{self, Shared};
use std::cell::{Cell, RefCell};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::raw::{c_int, c_void};
use std::ptr;
use std::sync::Arc;
use std::time::Instant;

/// Longest line piece returned by GETLINE (httpd's HUGE_STRING_LEN).
const LINE_MAX: usize = 8192;

/// Longest request line kept for the status page.
const REQUEST_LINE_MAX: usize = 120;

/// A raw pointer that may cross to the worker thread: c1's conn_rec, which
/// c1 keeps alive (and does not change) until every stream connection of
/// the association has ended.
struct C1(*mut ffi::conn_rec);
// SAFETY: see the type's docs: c1 waits for the job's end
// (`Shared::connection_ended`) before its connection can end.
unsafe impl Send for C1 {}

/// A stream connection to run on a worker.
pub struct StreamJob {
    shared: Arc<Shared>,
    c1: C1,
    sid: u16,
    out_sid: u16,
    /// Ran to its end (else its drop ends the stream).
    done: bool,
}

impl StreamJob {
    pub fn new(shared: Arc<Shared>, c1: *mut ffi::conn_rec, sid: u16, out_sid: u16) -> Self {
        StreamJob {
            shared,
            c1: C1(c1),
            sid,
            out_sid,
            done: false,
        }
    }
}

impl Drop for StreamJob {
    fn drop(&mut self) {
        if !self.done {
            // Never ran (the child is stopping), or panicked: the stream's
            // slot must still be freed, or c1 would wait for it for ever.
            tracing::info!(
                "association {}: stream {}: its connection could not run to its end (the child is stopping)",
                self.shared.ident.assoc_id,
                self.sid
            );
            self.shared.connection_ended(self.sid, ConnEnd::Closed, 0);
        }
    }
}

/// The c2's own state, shared by its two filters (both run on the c2's
/// thread) and read by the variables hook.
pub struct StreamCtx {
    shared: Arc<Shared>,
    /// The stream the requests come on.
    pub sid: u16,
    /// The stream the responses go on (`sid`, mapped into our outbound
    /// streams if need be).
    out_sid: u16,
    /// The eventfd behind the connection's stand-in socket.
    wake: RawFd,
    /// The stand-in socket (its timeout is the c2's).
    sock: *mut ffi::apr_socket_t,
    /// Someone polls the stand-in socket (mod_proxy's tunnel asked for it):
    /// its eventfd must then be readable exactly while data is queued.
    /// Otherwise only our own waits look at it, and they clear it first.
    polled: Cell<bool>,
    /// No byte of a request was read since the last response ended.
    at_boundary: bool,
    /// SCTP_STREAM_IN ended the connection at a request boundary.
    idle_end: bool,
    /// Bytes SCTP_STREAM_OUT keeps between calls, and their stream.
    held: Vec<u8>,
    held_sid: u16,
    messages_out: u64,
    bytes_out: u64,
    /// The server's `Timeout` (µs), for sends.
    send_timeout: i64,
}

/// Registered filter handles (set in register_hooks).
pub static mut IN_HANDLE: *mut ffi::ap_filter_rec_t = ptr::null_mut();
pub static mut OUT_HANDLE: *mut ffi::ap_filter_rec_t = ptr::null_mut();

/// Process-wide connection ids for c2s: unique while they live, as
/// mod_unique_id needs (see h2_c2.c's note on ids).
fn c2_id(c1_id: i64, sid: u16) -> i64 {
    (c1_id << 16) ^ i64::from(sid)
}

/// The stream context of a stream connection (None for any other).
///
/// # Safety
/// `c` is a live connection.
pub unsafe fn stream_of(c: *mut ffi::conn_rec) -> Option<&'static StreamCtx> {
    // SAFETY: only our stream connections have a master and our module's
    // slot set (mod_http2's secondaries have a fresh conn_config).
    unsafe {
        if (*c).master.is_null() {
            return None;
        }
        let v = (*c).conn_config as *mut *mut c_void;
        (*v.add(crate::module_index()) as *const StreamCtx).as_ref()
    }
}

/// Where a response on stream connection `c` goes: the association's
/// descriptor, its id and the outbound stream (None for other connections).
///
/// # Safety
/// `c` is a live connection.
pub unsafe fn response_target(c: *mut ffi::conn_rec) -> Option<(RawFd, i32, u16)> {
    // SAFETY: forwarded contract.
    let s = unsafe { stream_of(c) }?;
    Some((s.shared.fd, s.shared.ident.assoc_id, s.out_sid))
}

/// httpd's `get_pollfd_from_conn` hook (2.4.58+): what mod_proxy's tunnel
/// (WebSocket upgrades through mod_proxy_wstunnel or mod_proxy_http) polls
/// to learn that a stream connection has input. Core answers only for
/// connections without a master, so without this the tunnel fails with 500.
/// The stand-in socket's eventfd is signalled whenever the stream's queue
/// gets data or the stream ends, and stays signalled while data is left
/// after a read.
///
/// # Safety
/// Called by httpd with a live connection and a writable pollfd.
pub unsafe extern "C" fn get_pollfd_from_conn(
    c: *mut ffi::conn_rec,
    pfd: *mut ffi::apr_pollfd_t,
    ptimeout: *mut ffi::apr_interval_time_t,
) -> ffi::apr_status_t {
    let body = || {
        // SAFETY: live connection (httpd's contract).
        let Some(ctx) = (unsafe { stream_of(c) }) else {
            return ffi::APR_ENOTIMPL as ffi::apr_status_t;
        };
        if !ctx.polled.replace(true) {
            // From now on the eventfd says whether data is queued: cleared, then
            // set if there is (a signal of c1's after the clear stands).
            shared_session::reset(ctx.wake);
            if ctx.shared.lock().session.queued_on(ctx.sid) > 0 {
                shared_session::signal(ctx.wake);
            }
        }
        // SAFETY: httpd passes a pollfd it owns; the stand-in socket lives in
        // the connection's pool, as long as anything can poll it.
        unsafe {
            (*pfd).desc_type = ffi::apr_datatype_e_APR_POLL_SOCKET;
            (*pfd).desc.s = ctx.sock;
            if !ptimeout.is_null() {
                *ptimeout = ctx.timeout();
            }
        }
        ffi::APR_SUCCESS as ffi::apr_status_t
    };
    // SAFETY: httpd passes a live connection for the whole call.
    unsafe {
        httpd_module::boundary::connection(
            c,
            "mod_sctp: get_pollfd_from_conn",
            ffi::APR_EGENERAL as ffi::apr_status_t,
            body,
        )
    }
}

/// A stream worker thread's APR allocator, which every c2's pool (and so
/// its bucket allocator) on that thread draws on. Destroyed when the thread
/// ends (an idle thread ends after `stream_workers::IDLE_EXIT`).
struct ThreadAllocator(*mut ffi::apr_allocator_t);

impl ThreadAllocator {
    fn new() -> Option<ThreadAllocator> {
        let mut alloc: *mut ffi::apr_allocator_t = ptr::null_mut();
        // SAFETY: creates an allocator we own; no pool owns it, our drop
        // destroys it. MaxMemFree bounds its free list, as httpd's MPMs
        // bound their worker threads' (ap_max_mem_free, bytes; 0 is
        // unlimited, httpd's own meaning).
        unsafe {
            if ffi::apr_allocator_create(&mut alloc) != 0 || alloc.is_null() {
                return None;
            }
            ffi::apr_allocator_max_free_set(alloc, ffi::ap_max_mem_free as ffi::apr_size_t);
        }
        Some(ThreadAllocator(alloc))
    }
}

impl Drop for ThreadAllocator {
    fn drop(&mut self) {
        // SAFETY: every pool drawn from the allocator was destroyed when its
        // connection ended (a pool left by a panicking job is never used
        // again); this thread is ending, nobody else uses the allocator.
        unsafe { ffi::apr_allocator_destroy(self.0) };
    }
}

thread_local! {
    static ALLOCATOR: RefCell<Option<ThreadAllocator>> = const { RefCell::new(None) };
}

/// This thread's allocator, made at its first connection.
fn thread_allocator() -> Option<*mut ffi::apr_allocator_t> {
    ALLOCATOR.with(|a| {
        let mut a = a.borrow_mut();
        if a.is_none() {
            *a = ThreadAllocator::new();
        }
        a.as_ref().map(|a| a.0)
    })
}

/// Runs one stream connection to its end (on a stream worker).
pub fn run(mut job: StreamJob) {
    let wake = match shared_session::eventfd() {
        Ok(fd) => fd,
        Err(e) => {
            tracing::error!(
                "SCTP02004: association {}: stream {}: no eventfd for its connection ({e}); the stream is closed",
                job.shared.ident.assoc_id,
                job.sid
            );
            return; // the job's drop ends the stream
        }
    };
    let Some(alloc) = thread_allocator() else {
        tracing::error!(
            "SCTP02005: association {}: stream {}: no APR allocator for its connection; the stream is closed",
            job.shared.ident.assoc_id,
            job.sid
        );
        return;
    };
    let keepalives = {
        let mut g = job.shared.lock();
        g.register(job.sid, wake.as_raw_fd());
        g.keepalives.get(&job.sid).copied().unwrap_or(0)
    };
    // SAFETY: c1 is live until this job reports its end (C1's contract);
    // the allocator is this thread's.
    let (end, keepalives) = unsafe { serve(&job, alloc, wake.as_raw_fd(), keepalives) };
    job.done = true;
    job.shared.connection_ended(job.sid, end, keepalives);
    drop(wake); // after connection_ended unregistered it
}

/// Creates the c2, runs httpd's connection hooks on it, destroys it.
///
/// # Safety
/// `job.c1` is live for the whole call; `alloc` is this thread's allocator.
unsafe fn serve(
    job: &StreamJob,
    alloc: *mut ffi::apr_allocator_t,
    wake: RawFd,
    keepalives: i32,
) -> (ConnEnd, i32) {
    let c1 = job.c1.0;
    // SAFETY: see each step; every allocation is in the c2's own pool, drawn
    // from this thread's allocator and destroyed at the end, on this thread.
    unsafe {
        let mut pool: *mut ffi::apr_pool_t = ptr::null_mut();
        if ffi::apr_pool_create_unmanaged_ex(&mut pool, None, alloc) != 0 {
            return (ConnEnd::Closed, 0);
        }
        ffi::apr_pool_tag(pool, c"sctp_stream_conn".as_ptr());
        let c2 = ffi::apr_palloc(pool, std::mem::size_of::<ffi::conn_rec>()) as *mut ffi::conn_rec;
        ptr::copy_nonoverlapping(c1, c2, 1);
        (*c2).master = c1;
        (*c2).pool = pool;
        (*c2).conn_config = ffi::ap_create_conn_config(pool);
        (*c2).notes = ffi::apr_table_make(pool, 5);
        (*c2).input_filters = ptr::null_mut();
        (*c2).output_filters = ptr::null_mut();
        (*c2).bucket_alloc = ffi::apr_bucket_alloc_create(pool);
        (*c2).data_in_input_filters = 0;
        (*c2).data_in_output_filters = 0;
        (*c2).set_clogging_input_filters(1);
        (*c2).log = ptr::null();
        (*c2).log_id = ptr::null();
        (*c2).aborted = 0;
        (*c2).sbh = ptr::null_mut();
        (*c2).cs = ptr::null_mut();
        (*c2).keepalive = ffi::ap_conn_keepalive_e_AP_CONN_UNKNOWN;
        (*c2).keepalives = keepalives;
        (*c2).id = c2_id((*c1).id, job.sid);
        let tid = ffi::apr_palloc(pool, std::mem::size_of::<ffi::apr_os_thread_t>())
            as *mut ffi::apr_os_thread_t;
        *tid = libc::pthread_self() as ffi::apr_os_thread_t;
        let mut thd: *mut ffi::apr_thread_t = ptr::null_mut();
        ffi::apr_os_thread_put(&mut thd, tid, pool);
        (*c2).current_thread = thd;

        // The stand-in socket: no cleanup closes its descriptor (`run`
        // owns it); core's slot of conn_config holds a connection's socket.
        let mut fd = wake;
        let mut sock: *mut ffi::apr_socket_t = ptr::null_mut();
        ffi::apr_os_sock_put(&mut sock, &mut fd, pool);
        let timeout = (*(*c1).base_server).timeout;
        ffi::apr_socket_timeout_set(sock, timeout);
        let v = (*c2).conn_config as *mut *mut c_void;
        *v.add(ffi::AP_CORE_MODULE_INDEX as usize) = sock as *mut c_void;

        let ctx = Box::into_raw(Box::new(StreamCtx {
            shared: job.shared.clone(),
            sid: job.sid,
            out_sid: job.out_sid,
            wake,
            sock,
            polled: Cell::new(false),
            at_boundary: true,
            idle_end: false,
            held: Vec::new(),
            held_sid: job.out_sid,
            messages_out: 0,
            bytes_out: 0,
            send_timeout: timeout,
        }));
        *v.add(crate::module_index()) = ctx as *mut c_void;
        ffi::ap_add_input_filter_handle(IN_HANDLE, ctx as *mut c_void, ptr::null_mut(), c2);
        ffi::ap_add_output_filter_handle(OUT_HANDLE, ctx as *mut c_void, ptr::null_mut(), c2);

        let rc = ffi::ap_run_pre_connection(c2, sock as *mut c_void);
        if rc == ffi::OK as c_int || rc == ffi::DONE {
            process_connection(c2);
        }
        let ctx = Box::from_raw(ctx);
        let end = if ctx.idle_end && (*c2).aborted == 0 {
            ConnEnd::Idle
        } else {
            ConnEnd::Closed
        };
        let keepalives = (*c2).keepalives;
        {
            let mut g = job.shared.lock();
            g.messages_out += ctx.messages_out;
            g.bytes_out += ctx.bytes_out;
        }
        // The pool's cleanups (the requests' are gone already) may still
        // use the filters' context: it is dropped after.
        ffi::apr_pool_destroy(pool);
        drop(ctx);
        (end, keepalives)
    }
}

impl StreamCtx {
    /// Who the association is.
    pub fn identity(&self) -> &crate::shared_session::Identity {
        &self.shared.ident
    }

    /// The stand-in socket's timeout: where httpd and mod_reqtimeout put
    /// this connection's current one (µs, negative: none).
    fn timeout(&self) -> i64 {
        let mut t: ffi::apr_interval_time_t = -1;
        // SAFETY: the stand-in socket lives in the c2's pool, as we do.
        unsafe { ffi::apr_socket_timeout_get(self.sock, &mut t) };
        t
    }

    /// One read of httpd's input filter API; see the module docs.
    fn read(
        &mut self,
        mode: ffi::ap_input_mode_t,
        block: ffi::apr_read_type_e,
        readbytes: ffi::apr_off_t,
    ) -> Result<Vec<u8>, ffi::apr_status_t> {
        let n = usize::try_from(readbytes).unwrap_or(0).max(1);
        let nonblock = block == ffi::apr_read_type_e_APR_NONBLOCK_READ;
        let consumes = matches!(
            mode,
            ffi::ap_input_mode_t_AP_MODE_GETLINE
                | ffi::ap_input_mode_t_AP_MODE_READBYTES
                | ffi::ap_input_mode_t_AP_MODE_EXHAUSTIVE
        );
        if mode == ffi::ap_input_mode_t_AP_MODE_INIT {
            return Ok(Vec::new());
        }
        // This call cleared the eventfd and no wait has seen it set since.
        let mut cleared = false;
        loop {
            let r = {
                let mut g = self.shared.lock();
                let r = g.session.read(self.sid, |q| match mode {
                    ffi::ap_input_mode_t_AP_MODE_GETLINE => match q.read_line(LINE_MAX) {
                        Ok(Some(line)) => Some(line),
                        Err(()) => Some(q.take(LINE_MAX)),
                        // A partial line: a non-blocking read gets it (httpd
                        // and mod_reqtimeout read on until the LF).
                        Ok(None) if nonblock && !q.is_empty() => Some(q.take(LINE_MAX)),
                        Ok(None) => None,
                    },
                    ffi::ap_input_mode_t_AP_MODE_SPECULATIVE => (!q.is_empty()).then(|| q.peek(n)),
                    ffi::ap_input_mode_t_AP_MODE_EATCRLF => {
                        q.eat_crlf();
                        Some(Vec::new())
                    }
                    ffi::ap_input_mode_t_AP_MODE_EXHAUSTIVE => {
                        (!q.is_empty()).then(|| q.take(usize::MAX))
                    }
                    _ => (!q.is_empty()).then(|| q.take(n)),
                });
                if let Ok(Some(data)) = &r {
                    if consumes && !data.is_empty() && self.at_boundary {
                        self.at_boundary = false;
                        if mode == ffi::ap_input_mode_t_AP_MODE_GETLINE {
                            // c1 publishes it at its next turn.
                            g.requests
                                .insert(self.sid, (request_line(data), Instant::now()));
                            g.status_changed = true;
                        }
                    }
                }
                let accepts = g.session.accepts_requests(self.sid);
                let more = g.session.queued_on(self.sid) > 0;
                // A read that made room may resume c1's reading.
                (r, accepts, more, g.session.has_decisions())
            };
            let (r, accepts, more, wake_c1) = r;
            if wake_c1 {
                self.shared.wake_c1();
            }
            match r {
                Ok(Some(data)) => {
                    if more && cleared {
                        // More is queued and the eventfd was cleared: a
                        // poller (mod_proxy's tunnel) that reads less than
                        // all of it must come back.
                        shared_session::signal(self.wake);
                    }
                    return Ok(data);
                }
                Ok(None) => {}
                Err(ReadError::Failed(FailReason::StreamQueue | FailReason::AssociationQueue)) => {
                    return Err(ffi::APR_ENOSPC as ffi::apr_status_t)
                }
                Err(_) => return Err(ffi::APR_ECONNABORTED as ffi::apr_status_t),
            }
            // Nothing to read. At a request boundary the connection ends
            // (the next request of the stream gets a new one): the read of
            // the next request line, and mod_reqtimeout's blocking
            // speculative read that waits for its first byte, get EOF. The
            // non-blocking speculative read httpd makes after a response
            // ("is a request pipelined?") is told "not yet" instead: EOF
            // there would close the stream.
            if self.at_boundary
                && (mode == ffi::ap_input_mode_t_AP_MODE_GETLINE || !nonblock || !accepts)
            {
                self.idle_end = true;
                return Err(ffi::APR_EOF as ffi::apr_status_t);
            }
            if !cleared && (!nonblock || self.polled.get()) {
                // Before a wait (or telling a poller "nothing"), clear the
                // eventfd and look again: whatever c1 queued before the
                // clear is seen by that look, a signal after it stands.
                shared_session::reset(self.wake);
                cleared = true;
                continue;
            }
            if nonblock {
                return Err(ffi::APR_EAGAIN as ffi::apr_status_t);
            }
            let wake_c1 = {
                let mut g = self.shared.lock();
                g.session.starved(self.sid, Instant::now());
                g.session.has_decisions()
            };
            if wake_c1 {
                self.shared.wake_c1();
            }
            // SAFETY: our eventfd, open while the connection lives.
            let fd = unsafe { BorrowedFd::borrow_raw(self.wake) };
            apr_sctp::apr_socket::wait_readable(fd, self.timeout())
                .map_err(|rv| rv as ffi::apr_status_t)?;
            cleared = false;
        }
    }
}

/// A request line for the status page: without its CRLF, at most
/// [`REQUEST_LINE_MAX`] bytes, lossy UTF-8.
fn request_line(data: &[u8]) -> String {
    let line = data.strip_suffix(b"\n").unwrap_or(data);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.get(..REQUEST_LINE_MAX).unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

impl Outlet for StreamCtx {
    fn assoc_id(&self) -> i32 {
        self.shared.ident.assoc_id
    }

    fn stream(&mut self) -> u16 {
        self.out_sid
    }

    fn max_message(&self) -> usize {
        self.shared.max_message
    }

    fn held(&mut self) -> (&mut Vec<u8>, &mut u16) {
        (&mut self.held, &mut self.held_sid)
    }

    fn send(&mut self, sid: u16, data: &[u8]) -> Result<usize, ffi::apr_status_t> {
        // SAFETY: the association's socket stays open until every stream
        // connection has ended (c1 waits for them).
        let fd = unsafe { BorrowedFd::borrow_raw(self.shared.fd) };
        let n = apr_sctp::apr_socket::send_fd(
            fd,
            &[std::io::IoSlice::new(data)],
            &output_filter::http_sndinfo(sid),
            self.send_timeout,
        )
        .map_err(|rv| rv as ffi::apr_status_t)?;
        self.messages_out += 1;
        self.bytes_out += n as u64;
        Ok(n)
    }

    fn sent(&self) -> (u64, u64) {
        (self.messages_out, self.bytes_out)
    }

    fn end_response(&mut self) {
        self.at_boundary = true;
        let mut g = self.shared.lock();
        g.session.request_finished(self.sid);
        g.requests.remove(&self.sid);
        // c1 publishes it at its next turn (the connection's end, or at
        // most half a second): no wake-up per response.
        g.status_changed = true;
    }

    fn end_of_connection(&mut self, _c: *mut ffi::conn_rec) {
        // A stream connection's end never ends the association.
    }

    fn send_failed(&mut self, c: *mut ffi::conn_rec, rv: ffi::apr_status_t) {
        use crate::session::AssocEnd;
        let timed_out = rv == ffi::APR_TIMEUP as ffi::apr_status_t;
        if timed_out {
            // SAFETY: live connection.
            let why = unsafe { output_filter::send_failure(c, rv) };
            // SAFETY: the association's socket is open (see `send`).
            let fd = unsafe { BorrowedFd::borrow_raw(self.shared.fd) };
            let bytes = self.shared.lock().bytes_out + self.bytes_out;
            output_filter::abort_association(
                Some(fd),
                self.shared.ident.assoc_id,
                &self.shared.ident.peers,
                bytes,
                &why,
            );
        }
        // One receive window for all streams: a peer that takes nothing on
        // one stream takes nothing on any. Every stream is cancelled.
        self.shared.association_failed(if timed_out {
            AssocEnd::Lost
        } else {
            AssocEnd::Aborted
        });
    }
}

/// SCTP_STREAM_IN.
pub(crate) unsafe extern "C" fn stream_in(
    f: *mut ffi::ap_filter_t,
    bb: *mut ffi::apr_bucket_brigade,
    mode: ffi::ap_input_mode_t,
    block: ffi::apr_read_type_e,
    readbytes: ffi::apr_off_t,
) -> ffi::apr_status_t {
    let body = || {
        // SAFETY: httpd passes our live filter, whose ctx is the c2's
        // StreamCtx (it outlives the c2's filters), and a live brigade.
        let ctx = unsafe { &mut *((*f).ctx as *mut StreamCtx) };
        match ctx.read(mode, block, readbytes) {
            Ok(data) => {
                // SAFETY: live brigade.
                unsafe { brigade::append_copy(bb, &data) };
                0
            }
            Err(rv) => rv,
        }
    };
    // SAFETY: httpd passes a live filter for the whole call.
    unsafe { httpd_module::boundary::filter(f, "mod_sctp: SCTP_STREAM_IN", body) }
}

/// SCTP_STREAM_OUT.
pub(crate) unsafe extern "C" fn stream_out(
    f: *mut ffi::ap_filter_t,
    bb: *mut ffi::apr_bucket_brigade,
) -> ffi::apr_status_t {
    let body = || {
        // SAFETY: as in `stream_in`; a live brigade or none.
        unsafe {
            let ctx = &mut *((*f).ctx as *mut StreamCtx);
            output_filter::run_filter(f, bb, ctx)
        }
    };
    // SAFETY: httpd passes a live filter for the whole call.
    unsafe { httpd_module::boundary::filter(f, "mod_sctp: SCTP_STREAM_OUT", body) }
}

/// Modules whose process_connection hooks a stream connection skips.
///
/// mod_http2 takes every secondary connection for one of its own HTTP/2
/// streams: its c2 hook (`h2_c2_hook_process`, httpd 2.4.x
/// modules/http2/h2_c2.c, APR_HOOK_FIRST) reads its conn_config slot of
/// any connection with `master` set and dereferences it without a check,
/// which crashes the child on ours (that slot is NULL). Its other hook
/// (`h2_c1_hook_process_connection`) declines secondary connections, and
/// every other mod_http2 hook checks for its slot, so skipping this
/// module's process_connection hooks leaves the rest of the chain as httpd
/// runs it (mod_reqtimeout's, http_core's HTTP/1.1 loop).
const SKIPPED_PROCESS_HOOKS: &[&[u8]] = &[b"mod_http2.c"];

/// `ap_run_process_connection(c2)` without the hooks of
/// [`SKIPPED_PROCESS_HOOKS`]: the hooks in httpd's sorted order, the
/// first that does not decline ends the run (RUN_FIRST).
///
/// # Safety
/// `c2` is a live stream connection; called after httpd sorted its hooks
/// (any time a connection is served).
unsafe fn process_connection(c2: *mut ffi::conn_rec) -> c_int {
    // SAFETY: httpd's hook array for process_connection: an APR array of
    // ap_LINK_process_connection_t, sorted at startup and not changed
    // while connections are served; its module names are static strings
    // (each module's `name`, set before its hooks were registered).
    unsafe {
        let hooks = ffi::ap_hook_get_process_connection();
        if hooks.is_null() {
            return ffi::DECLINED;
        }
        let links = std::slice::from_raw_parts(
            (*hooks).elts as *const ffi::ap_LINK_process_connection_t,
            (*hooks).nelts.max(0) as usize,
        );
        for link in links {
            let name = if link.szName.is_null() {
                &[][..]
            } else {
                std::ffi::CStr::from_ptr(link.szName).to_bytes()
            };
            if SKIPPED_PROCESS_HOOKS.contains(&name) {
                continue;
            }
            let Some(f) = link.pFunc else { continue };
            let rc = f(c2);
            if rc != ffi::DECLINED {
                return rc;
            }
        }
        ffi::DECLINED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_trimmed_and_bounded() {
        assert_eq!(request_line(b"GET / HTTP/1.1\r\n"), "GET / HTTP/1.1");
        assert_eq!(request_line(b"GET /x"), "GET /x");
        let long = vec![b'a'; 500];
        assert_eq!(request_line(&long).len(), REQUEST_LINE_MAX);
    }

    #[test]
    fn c2_ids_differ_per_stream_and_association() {
        assert_ne!(c2_id(5, 1), c2_id(5, 2));
        assert_ne!(c2_id(5, 1), c2_id(6, 1));
        assert_ne!(c2_id(5, 1), 5);
    }
}
