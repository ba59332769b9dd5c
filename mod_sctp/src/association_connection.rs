//! The association's connection (c1) under a threaded MPM: the one reader
//! of the socket, which hands every piece of every message to the session
//! (`shared_session`) and starts a stream connection (`stream_connection`)
//! for each stream the session starts. See docs/architecture.md,
//! "Concurrent streams".
//!
//! httpd calls [`process_connection`] (registered before every other
//! module's, mod_http2's included) for each accepted SCTP association:
//! * prefork (no threads to spare): declined, httpd's HTTP/1.1 loop serves
//!   the association's requests one at a time through SCTP_IN/SCTP_OUT;
//! * the first message decides: a TLS ClientHello makes the association
//!   serial for its whole life (TLS is one ordered byte stream), anything
//!   else makes it concurrent;
//! * concurrent: this thread reads until the session finishes. Under the
//!   event MPM an association with nothing in progress goes back to the
//!   MPM's keep-alive (its thread is free; a new message brings it back
//!   here), as an idle HTTP/1.1 connection does; under worker this thread
//!   waits for it, up to `KeepAliveTimeout`.
//!
//! When the session finishes (the association is gone, the server stops,
//! the keep-alive time passed, or a stream closed and nothing else is in
//! progress) every stream connection has ended; httpd then ends the
//! association's connection as any other: SCTP_OUT's end of connection
//! shuts the association down gracefully (or finds it gone).

use crate::association::{Assoc, Service, READ_CHUNK};
use crate::connection::assoc_of;
use crate::ffi;
use crate::session::{
    looks_like_tls, Answer, AssocEnd, Decision, FailReason, FinishReason, Limits, Session,
    StreamState,
};
use crate::shared_session::{self, Identity, Shared};
use crate::stream_connection::{self, StreamJob};
use crate::stream_workers;
use std::os::raw::c_int;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest c1 sleeps without looking at the MPM's state (graceful
/// restart or stop).
const STATE_CHECK: Duration = Duration::from_millis(500);

/// The most pieces read in one go before c1 acts on the session's
/// decisions again.
const READ_BURST: usize = 64;

fn mpm_query(q: u32) -> Option<c_int> {
    let mut v: c_int = 0;
    // SAFETY: ap_mpm_query writes one int.
    (unsafe { ffi::ap_mpm_query(q as c_int, &mut v) } == 0).then_some(v)
}

/// Whether the MPM serves connections on threads (event, worker).
pub fn mpm_threaded() -> bool {
    mpm_query(ffi::AP_MPMQ_IS_THREADED).is_some_and(|v| v != ffi::AP_MPMQ_NOT_SUPPORTED as c_int)
}

fn mpm_async() -> bool {
    mpm_query(ffi::AP_MPMQ_IS_ASYNC).is_some_and(|v| v != 0)
}

fn mpm_stopping() -> bool {
    mpm_query(ffi::AP_MPMQ_MPM_STATE).is_some_and(|v| v == ffi::AP_MPMQ_STOPPING as c_int)
}

/// The MPM's `ThreadsPerChild` (the default number of stream workers).
pub fn threads_per_child() -> usize {
    mpm_query(ffi::AP_MPMQ_MAX_THREADS)
        .and_then(|v| usize::try_from(v).ok())
        .filter(|&v| v > 0)
        .unwrap_or(25)
}

/// The process_connection hook; see the module docs.
///
/// # Safety
/// Called by httpd with a live connection.
pub(crate) unsafe extern "C" fn process_connection(c: *mut ffi::conn_rec) -> c_int {
    let body = || {
        // SAFETY: live connection; only an association's own connection (no
        // master) has an Assoc.
        let Some(a) = (unsafe { assoc_of(c) }) else {
            return ffi::DECLINED;
        };
        if matches!(a.service, Service::Undecided) && !mpm_threaded() {
            a.service = Service::Serial;
        }
        let shared = match &a.service {
            Service::Serial => return ffi::DECLINED,
            Service::Concurrent(sh) => sh.clone(),
            Service::Undecided => match decide(c, a) {
                Some(sh) => sh,
                None if matches!(a.service, Service::Serial) => return ffi::DECLINED,
                // Nothing came (timeout, end, error): close.
                None => return ffi::OK as c_int,
            },
        };
        // SAFETY: live connection.
        unsafe { serve(c, a, &shared) }
    };
    // SAFETY: httpd passes a live connection for the whole call.
    unsafe {
        httpd_module::boundary::connection(
            c,
            "mod_sctp: process_connection",
            ffi::OK as c_int,
            body,
        )
    }
}

/// Reads the association's first piece: TLS makes it serial, anything else
/// concurrent (the piece goes to the new session). None when nothing could
/// be read, or for a serial association.
fn decide(c: *mut ffi::conn_rec, a: &mut Assoc) -> Option<Arc<Shared>> {
    let first = a.read_piece(ffi::apr_read_type_e_APR_BLOCK_READ, |a, sid, data, eor| {
        if looks_like_tls(data) {
            a.service = Service::Serial;
            let _ = a.queue_serial(sid, data, eor);
            None
        } else {
            Some((sid, data.to_vec()))
        }
    });
    let (sid, data) = match first {
        Ok(Some(piece)) => piece,
        Ok(None) => {
            tracing::debug!(
                "association {}: TLS on stream {}: served as one ordered byte stream",
                a.assoc_id,
                a.demux.tls_stream().unwrap_or(0)
            );
            return None;
        }
        Err(rv) => {
            tracing::debug!(
                "association {}: nothing read before the first request: {}{}",
                a.assoc_id,
                crate::apr_error(rv),
                a.ended_note()
            );
            return None;
        }
    };
    let fd = a.fd()?;
    use std::os::fd::AsRawFd;
    let raw_fd = fd.as_raw_fd();
    let limits = Limits {
        stream_queue: a.demux.stream_max(),
        assoc_queue: a.demux.assoc_max(),
        max_concurrent: a.max_concurrent,
        max_message: a.max_message,
        read_chunk: READ_CHUNK,
        // SAFETY: live connection and server.
        idle_timeout: (!mpm_async()).then(|| unsafe { keep_alive_timeout(c) }),
    };
    let now = Instant::now();
    let mut session = Session::new(limits, now);
    let id = a.assoc_id;
    session.set_state_hook(Box::new(move |t| {
        let was_running = matches!(t.from, StreamState::Running | StreamState::Draining);
        match t.to {
            StreamState::Running => {
                tracing::debug!("association {id}: stream {}: request started", t.stream)
            }
            StreamState::Draining => tracing::debug!(
                "association {id}: stream {}: finishing its request (the server is stopping)",
                t.stream
            ),
            StreamState::Failed(why) if was_running => tracing::debug!(
                "association {id}: stream {}: connection ended (Failed: {why})",
                t.stream
            ),
            to if was_running => tracing::debug!(
                "association {id}: stream {}: connection ended ({to:?})",
                t.stream
            ),
            _ => {}
        }
        if !was_running && t.to != StreamState::Running {
            tracing::trace!(
                "association {id}: stream {}: {:?} -> {:?}",
                t.stream,
                t.from,
                t.to
            );
        }
    }));
    session.on_message(sid, &data, now);
    let ident = Identity {
        assoc_id: a.assoc_id,
        peers: a.peers_text(),
        in_streams: a.in_streams,
        out_streams: a.out_streams,
    };
    match Shared::new(session, raw_fd, ident, a.max_message) {
        Ok(sh) => {
            let sh = Arc::new(sh);
            a.service = Service::Concurrent(sh.clone());
            tracing::debug!(
                "association {}: concurrent streams (at most {} at once)",
                a.assoc_id,
                a.max_concurrent
            );
            Some(sh)
        }
        Err(e) => {
            tracing::error!(
                "SCTP02003: association {}: cannot serve streams concurrently ({e}); closing it",
                a.assoc_id
            );
            None
        }
    }
}

/// The connection's keep-alive time.
///
/// # Safety
/// `c` is a live connection.
unsafe fn keep_alive_timeout(c: *mut ffi::conn_rec) -> Duration {
    // SAFETY: a live connection has a live base server.
    let us = unsafe { (*(*c).base_server).keep_alive_timeout };
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

/// What c1 does after taking the session's decisions.
#[derive(Default)]
struct Todo {
    start: Vec<u16>,
    refuse: Vec<(u16, u16)>,
    finished: Option<FinishReason>,
    paused: bool,
    idle: bool,
    closing: bool,
    publish: bool,
}

fn take_decisions(sh: &Shared) -> Todo {
    let mut g = sh.lock();
    let mut todo = Todo::default();
    let id = sh.ident.assoc_id;
    while let Some(d) = g.session.poll() {
        match d {
            Decision::Start(sid) => todo.start.push(sid),
            Decision::Wait(sid) => tracing::debug!(
                "association {id}: stream {sid} waits for a slot ({} streams in progress, SCTPMaxConcurrentStreams)",
                g.session.in_progress()
            ),
            Decision::Fail {
                stream,
                reason,
                answer,
            } => {
                let bound = match reason {
                    FailReason::StreamQueue => {
                        format!(" ({} bytes)", g.session.limits().stream_queue)
                    }
                    FailReason::AssociationQueue => {
                        format!(" ({} bytes)", g.session.limits().assoc_queue)
                    }
                    _ => String::new(),
                };
                tracing::info!("association {id}: stream {stream} failed: {reason}{bound}");
                match answer {
                    Answer::Status(code) => todo.refuse.push((stream, code)),
                    Answer::ReadFails | Answer::Nothing => g.wake_stream(stream),
                }
            }
            Decision::CancelAll(end) => {
                tracing::debug!(
                    "association {id}: {end:?}: cancelling {} stream(s) in progress",
                    g.session.in_progress()
                );
                g.wake_all();
            }
            Decision::Finished(why) => todo.finished = Some(why),
            Decision::PauseReading => {
                tracing::debug!("association {id}: queues full: reading paused")
            }
            Decision::ResumeReading => tracing::debug!("association {id}: reading resumed"),
        }
    }
    todo.paused = g.session.reading_paused();
    todo.idle = g.is_idle();
    todo.closing = g.closing;
    todo.publish = std::mem::take(&mut g.status_changed);
    todo
}

/// Reads what the socket has (at most [`READ_BURST`] pieces) into the
/// session; `now` is the time of the burst.
fn read_available(a: &mut Assoc, sh: &Shared, now: Instant) {
    for _ in 0..READ_BURST {
        let r = a.read_piece(ffi::apr_read_type_e_APR_NONBLOCK_READ, |_, sid, data, _| {
            let mut g = sh.lock();
            let got = g.session.on_message(sid, data, now);
            if got == crate::session::Received::Queued {
                g.wake_stream(sid);
            }
            g.session.reading_paused()
        });
        match r {
            Ok(false) => continue,
            Ok(true) => return,
            Err(rv) if rv == ffi::APR_EAGAIN as ffi::apr_status_t => return,
            Err(rv) => {
                let end = if rv == ffi::APR_EOF as ffi::apr_status_t {
                    AssocEnd::Shutdown
                } else if rv == libc::ECONNRESET {
                    AssocEnd::Aborted
                } else {
                    AssocEnd::Lost
                };
                tracing::debug!(
                    "association {}: {end:?} ({})",
                    a.assoc_id,
                    crate::apr_error(rv)
                );
                let mut g = sh.lock();
                g.session.association_ended(end);
                g.wake_all();
                return;
            }
        }
    }
}

/// Starts the connection of stream `sid` on a worker.
fn start_stream(c: *mut ffi::conn_rec, a: &mut Assoc, sh: &Arc<Shared>, sid: u16) {
    let job = StreamJob::new(sh.clone(), c, sid, a.map_stream(sid));
    let workers = stream_workers::pool(a.stream_workers.unwrap_or_else(threads_per_child));
    // A job the pool refuses (the child is stopping) or drops unrun ends
    // its stream through the job's own guard.
    workers.submit(Box::new(move || stream_connection::run(job)));
}

/// Answers `code` on `sid` for a request that never started (its stream
/// failed while waiting for a slot), and closes that stream.
fn refuse(sh: &Shared, sid: u16, out_sid: u16, code: u16, timeout_us: i64) {
    let body =
        format!("The server could not start this request (stream {sid}); it may be retried.\n");
    let reason = match code {
        503 => "Service Unavailable",
        _ => "Error",
    };
    let msg = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // SAFETY: the association's socket stays open while c1 runs.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(sh.fd) };
    let info = crate::output_filter::http_sndinfo(out_sid);
    let r = apr_sctp::apr_socket::send_fd(
        fd,
        &[std::io::IoSlice::new(msg.as_bytes())],
        &info,
        timeout_us,
    );
    tracing::info!(
        "association {}: stream {sid}: answered {code} ({})",
        sh.ident.assoc_id,
        r.map_or_else(
            |e| crate::apr_error(e as ffi::apr_status_t),
            |_| "sent".into()
        )
    );
}

/// Waits for the socket (unless reading is paused or ended) or c1's
/// wake-up, at most `limit`. True if the socket has something (data, an
/// error or its end) to read.
fn wait(sock: Option<i32>, wake: i32, limit: Duration) -> bool {
    let mut fds = [
        libc::pollfd {
            fd: wake,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: sock.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let n = if sock.is_some() { 2 } else { 1 };
    let ms = limit.as_millis().clamp(1, i32::MAX as u128) as c_int;
    // SAFETY: `n` valid pollfds.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), n, ms) };
    if fds[0].revents != 0 {
        shared_session::reset(wake);
    }
    // A failed poll (EINTR) reads anyway: a read that finds nothing is
    // harmless, a missed message is not.
    sock.is_some() && (r < 0 || fds[1].revents != 0)
}

/// Serves a concurrent association until its session finishes, or until it
/// is idle under the event MPM (then it goes back to the MPM's keep-alive).
///
/// # Safety
/// `c` is the association's live connection, `a` its Assoc.
unsafe fn serve(c: *mut ffi::conn_rec, a: &mut Assoc, sh: &Arc<Shared>) -> c_int {
    let park = mpm_async();
    // SAFETY: live connection and server.
    let timeout_us = unsafe { (*(*c).base_server).timeout };
    let mut stop_seen = false;
    let mut gone = false;
    let mut now = Instant::now();
    let mut published = now;
    // Back from the event MPM's keep-alive: the socket is readable (the
    // session was idle when it parked, so nothing else can be pending).
    read_available(a, sh, now);
    // The clock is read once per turn (`now`): each reading is a system
    // call where there is no vDSO (the SCTP VM), and per-request cost
    // counts (bench/notes.md, "Request rate").
    loop {
        let todo = take_decisions(sh);
        for &sid in &todo.start {
            start_stream(c, a, sh, sid);
        }
        for &(sid, code) in &todo.refuse {
            let out = a.map_stream(sid);
            refuse(sh, sid, out, code, timeout_us);
        }
        if let Some(why) = todo.finished {
            tracing::debug!("association {}: finished: {why:?}", a.assoc_id);
            gone = matches!(why, FinishReason::Ended(_));
            break;
        }
        if todo.idle && todo.closing {
            // Requests the peer sent before it saw the close are answered:
            // what the kernel holds is read first.
            if !a.eof {
                read_available(a, sh, now);
                if !sh.lock().is_idle() {
                    continue;
                }
            }
            tracing::debug!(
                "association {}: a stream was closed and nothing else is in progress: closing the association",
                a.assoc_id
            );
            break;
        }
        if todo.idle && park && !a.eof && !stop_seen {
            // Back to the event MPM's keep-alive: it calls us again when the
            // peer sends, and closes the association after
            // KeepAliveTimeout (SCTP_OUT shuts it down) or at a graceful
            // restart.
            // SAFETY: live connection; cs is the event MPM's state.
            unsafe {
                if !(*c).cs.is_null() {
                    (*(*c).cs).state = ffi::conn_state_e_CONN_STATE_WRITE_COMPLETION;
                }
                (*c).keepalive = ffi::ap_conn_keepalive_e_AP_CONN_KEEPALIVE;
            }
            a.publish_at(now);
            return ffi::OK as c_int;
        }
        if !stop_seen && mpm_stopping() {
            stop_seen = true;
            let mut g = sh.lock();
            tracing::debug!(
                "association {}: the server is stopping: {} stream(s) in progress finish, nothing new starts",
                a.assoc_id,
                g.session.in_progress()
            );
            g.session.graceful_stop(now);
            continue;
        }
        // Stream connections change what the status page shows without
        // waking c1 (a request line, a response): published at this turn,
        // and at least every second while streams run.
        if todo.publish || now.saturating_duration_since(published) >= Duration::from_secs(1) {
            a.publish_at(now);
            published = now;
        }
        let next = sh.lock().session.poll_timeout();
        let limit = next.map_or(STATE_CHECK, |t| {
            t.saturating_duration_since(now).min(STATE_CHECK)
        });
        let readable = !(todo.paused || a.eof);
        let sock = if readable {
            a.fd().map(|fd| {
                use std::os::fd::AsRawFd;
                fd.as_raw_fd()
            })
        } else {
            None
        };
        let has_input = wait(sock, sh.wake_fd(), limit);
        now = Instant::now();
        if has_input {
            read_available(a, sh, now);
        }
        sh.lock().session.handle_timeout(now);
    }
    a.publish_at(now);
    if gone {
        // SCTP_OUT never sees this end (the connection is aborted): the
        // association's summary is said here.
        tracing::debug!("{} (the association had ended)", a.closing_summary(0));
        // SAFETY: live connection: the association is gone, nothing is
        // left to send or drain.
        unsafe { (*c).aborted = 1 };
    }
    ffi::OK as c_int
}
