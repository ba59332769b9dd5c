//! One accepted SCTP association: what mod_sctp's input filter (SCTP_IN)
//! and output filter (SCTP_OUT) share.
//!
//! * Input: an SCTP bucket (apr-sctp) reads the socket with `recvmsg`, one
//!   piece of one message at a time, and tells the stream it came on; the
//!   bytes go to the stream's queue in a [`StreamDemux`]. A request pins its
//!   stream: httpd's reads see only that stream until the response ends.
//! * Output: each response goes on the stream its request came on (the
//!   pinned stream), with PPID 63; the end of a response (EOR) releases the
//!   pin, so the next read serves the stream that has waited longest.
//!
//! The struct lives in Rust's heap; a cleanup on the connection pool drops
//! it when the connection ends.

use crate::brigade;
use crate::ffi;
use crate::session::FailReason;
use crate::stream_demux::{Overflow, StreamDemux};
use apr_sctp::apr_socket::apr_sctp_rcvinfo_t;
use apr_sctp::sctp;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;
use std::os::raw::c_void;
use std::time::{Duration, Instant};

use crate::session::StreamState;
use crate::status::{AssocView, PathView, StreamView, StreamViewState};
use crate::status_handler;

/// Paths are asked from the kernel at most this often per association.
const PATHS_REFRESH: Duration = Duration::from_secs(1);

/// The most bytes one read of the SCTP bucket returns
/// (`APR_BUCKET_BUFF_SIZE`): reading needs this much room in the queues.
pub const READ_CHUNK: usize = ffi::APR_BUCKET_BUFF_SIZE as usize;

/// Counters shown by the status handler.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub messages_in: u64,
    pub bytes_in: u64,
    pub messages_out: u64,
    pub bytes_out: u64,
    /// Responses finished (EOR) per stream.
    pub responses: BTreeMap<u16, u64>,
    /// Messages and bytes dropped because a TLS association sent them on a
    /// stream other than its TLS stream.
    pub tls_refused_messages: u64,
    pub tls_refused_bytes: u64,
}

pub struct Assoc {
    pub sock: *mut ffi::apr_socket_t,
    /// The connection's id when it was accepted (the event MPM renumbers
    /// `c->id` as worker threads change), for the status page.
    pub conn_id: i64,
    /// The kernel's id of the association: what every mod_sctp log line
    /// about it names ("association N"), `SCTP_ASSOC_ID` says, apr-sctp's
    /// notification lines carry and `/proc/net/sctp/assocs` lists. From
    /// SCTP_STATUS at accept, or, for an association that had already
    /// ended then, from the first message read (0 until then).
    pub assoc_id: i32,
    /// Streams negotiated (0/0: unknown, the association had ended).
    pub in_streams: u16,
    pub out_streams: u16,
    /// Why SCTP_STATUS failed at accept: the association had ended before
    /// httpd accepted it (the peer aborted or shut it down); the kernel
    /// still hands over what it sent.
    pub ended_before_accept: Option<String>,
    pub peers: Vec<SocketAddr>,
    pub demux: StreamDemux,
    /// The SCTP bucket reading the socket (a brigade in the connection pool).
    raw: *mut ffi::apr_bucket_brigade,
    /// The peer shut the association down (or it ended).
    pub eof: bool,
    /// Stream of the response being written (and of the last one).
    pub response_sid: u16,
    /// A request stream beyond our outbound streams was already logged.
    warned_range: bool,
    pub counters: Counters,
    pub max_message: usize,
    /// Response bytes SCTP_OUT keeps until more of the response, a FLUSH or
    /// its EOR arrives (at most `output_filter::HOLD_MAX`; empty between
    /// responses), on stream `held_sid`.
    pub held: Vec<u8>,
    pub held_sid: u16,
    /// CORE_IN got its empty brigade (see `input_filter`).
    pub core_in_ready: bool,
    /// Our slot in the shared status table (None: table full or absent).
    slot: Option<usize>,
    started: i64,
    paths: Vec<PathView>,
    paths_at: Option<Instant>,
    /// How the association's requests are served.
    pub service: Service,
    /// `SCTPMaxConcurrentStreams` and `SCTPStreamWorkers` of the generation
    /// that accepted it.
    pub max_concurrent: usize,
    pub stream_workers: Option<usize>,
}

/// How an association's requests are served (see docs/architecture.md,
/// "Concurrent streams").
pub enum Service {
    /// Nothing read yet: under a threaded MPM the first message decides.
    Undecided,
    /// One request at a time on the association's own connection, through
    /// SCTP_IN and SCTP_OUT: under prefork (no threads to spare), and for
    /// TLS (one ordered byte stream).
    Serial,
    /// Each stream on a connection of its own (`stream_connection`), the
    /// association's connection being the one reader
    /// (`association_connection`).
    Concurrent(std::sync::Arc<crate::shared_session::Shared>),
}

impl Assoc {
    /// Creates the association's state in `c`'s pool.
    ///
    /// # Safety
    /// pre_connection of an SCTP connection: `c` and `sock` are live.
    pub unsafe fn create(
        c: *mut ffi::conn_rec,
        sock: *mut ffi::apr_socket_t,
        cfg: &crate::config::Config,
    ) -> *mut Assoc {
        // SAFETY: live connection and socket (caller's contract).
        unsafe {
            let pool = (*c).pool;
            let raw = ffi::apr_brigade_create(pool, (*c).bucket_alloc);
            let b = apr_sctp::bucket::create(sock, (*c).bucket_alloc);
            brigade::append(raw, b);
            let fd = BorrowedFd::borrow_raw(ffi::socket_fd(sock));
            let st = sctp::status(fd);
            if let Ok(s) = &st {
                crate::response_priority::pick_scheduler(fd, s.assoc_id);
            }
            let a = Box::new(Assoc {
                sock,
                conn_id: (*c).id,
                assoc_id: st.as_ref().map_or(0, |s| s.assoc_id),
                in_streams: st.as_ref().map_or(0, |s| s.instrms.max(1)),
                out_streams: st.as_ref().map_or(0, |s| s.outstrms.max(1)),
                ended_before_accept: st.err().map(|e| e.to_string()),
                peers: sctp::peer_addrs(fd).unwrap_or_default(),
                demux: StreamDemux::new(cfg.stream_queue, cfg.assoc_queue),
                raw,
                eof: false,
                response_sid: 0,
                warned_range: false,
                counters: Counters::default(),
                max_message: cfg.max_message,
                held: Vec::new(),
                held_sid: 0,
                core_in_ready: false,
                slot: None,
                started: status_handler::now(),
                paths: Vec::new(),
                paths_at: None,
                service: Service::Undecided,
                max_concurrent: cfg.max_concurrent,
                stream_workers: cfg.stream_workers,
            });
            let a = Box::into_raw(a);
            ffi::apr_pool_cleanup_register(
                pool,
                a as *const c_void,
                Some(drop_assoc),
                Some(ffi::apr_pool_cleanup_null),
            );
            a
        }
    }

    /// Says, after a failed send or read, that the association had ended
    /// before httpd accepted it (empty otherwise).
    pub fn ended_note(&self) -> &'static str {
        if self.ended_before_accept.is_some() {
            " (the association had ended before httpd accepted it: the peer aborted or shut it down)"
        } else {
            ""
        }
    }

    /// The peer's addresses, space-separated.
    pub fn peers_text(&self) -> String {
        let v: Vec<String> = self.peers.iter().map(|p| p.ip().to_string()).collect();
        v.join(" ")
    }

    /// The socket's descriptor; None once httpd has closed the socket (an
    /// EOC can reach the output filter after that).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        // SAFETY: the APR socket lives as long as the connection, and so do we.
        let raw = unsafe { ffi::socket_fd(self.sock) };
        // SAFETY: a descriptor APR still holds open stays open while it is
        // borrowed from `self`.
        (raw >= 0).then(|| unsafe { BorrowedFd::borrow_raw(raw) })
    }

    /// Reads one piece of one message and hands it to `f` with its stream
    /// and whether it ends its message. APR_EOF at the end of the
    /// association; APR_EAGAIN / APR_TIMEUP from the socket.
    pub fn read_piece<R>(
        &mut self,
        block: ffi::apr_read_type_e,
        f: impl FnOnce(&mut Self, u16, &[u8], bool) -> R,
    ) -> Result<R, ffi::apr_status_t> {
        if self.eof {
            return Err(ffi::APR_EOF as ffi::apr_status_t);
        }
        // SAFETY: `raw` is our brigade; its first bucket is the SCTP bucket
        // (the read morphs it into a heap bucket followed by a new SCTP
        // bucket, or, at the end, into an empty bucket).
        unsafe {
            let Some(b) = brigade::first(self.raw) else {
                self.eof = true;
                return Err(ffi::APR_EOF as ffi::apr_status_t);
            };
            let data = brigade::read(b, block)?;
            if data.is_empty() {
                self.eof = true;
                brigade::delete(b);
                return Err(ffi::APR_EOF as ffi::apr_status_t);
            }
            let mut info = apr_sctp_rcvinfo_t::default();
            let next = (*b).link.next;
            let known = apr_sctp::bucket::apr_bucket_sctp_rcvinfo(next, &mut info) == 0;
            let sid = if known { info.stream } else { 0 };
            let eor = known && info.eor != 0;
            if known {
                if self.assoc_id == 0 {
                    self.assoc_id = info.assoc_id;
                }
                if eor {
                    self.counters.messages_in += 1;
                }
            }
            self.counters.bytes_in += data.len() as u64;
            let r = f(self, sid, data, eor);
            brigade::delete(b);
            Ok(r)
        }
    }

    /// Reads one piece of one message into its stream's queue (serial
    /// service). APR_EOF at the end of the association; APR_EAGAIN /
    /// APR_TIMEUP from the socket; APR_ENOSPC when a queue bound would be
    /// exceeded.
    pub fn fill(&mut self, block: ffi::apr_read_type_e) -> Result<(), ffi::apr_status_t> {
        if self.demux.queued() + READ_CHUNK > self.demux.assoc_max() {
            return Err(self.overflow(Overflow::Association));
        }
        self.read_piece(block, |a, sid, data, eor| a.queue_serial(sid, data, eor))?
    }

    /// Queues a piece read for serial service (TLS rule first).
    pub fn queue_serial(
        &mut self,
        sid: u16,
        data: &[u8],
        eor: bool,
    ) -> Result<(), ffi::apr_status_t> {
        if let Some(tls) = self.demux.tls_refusal(sid, data) {
            self.refuse(sid, tls, data.len(), eor);
            return Ok(());
        }
        self.demux.push(sid, data).map_err(|o| self.overflow(o))
    }

    /// Drops a piece that came on `sid` beside the TLS session on stream
    /// `tls`: TLS is one ordered byte stream, and a clear-text answer beside
    /// it would be unauthenticated, so nothing is answered. Counted; logged
    /// once per association.
    fn refuse(&mut self, sid: u16, tls: u16, len: usize, end_of_message: bool) {
        let k = &mut self.counters;
        let first = k.tls_refused_bytes == 0;
        k.tls_refused_bytes += len as u64;
        if end_of_message {
            k.tls_refused_messages += 1;
        }
        if first {
            tracing::info!(
                "association {}: message on stream {sid} dropped, unanswered: {} (further ones are dropped without a log line)",
                self.assoc_id,
                FailReason::TlsPinned { stream: tls }
            );
        }
    }

    fn overflow(&self, o: Overflow) -> ffi::apr_status_t {
        let serving = self.demux.pinned().map_or_else(
            || "no request".to_string(),
            |s| format!("the request on stream {s}"),
        );
        match o {
            Overflow::Stream(s) => tracing::error!(
                "SCTP02001: association {}: stream {s} sent more than SCTPMaxStreamQueue ({} bytes) ahead of what is being read; failing {serving} and closing the association",
                self.assoc_id,
                self.demux.stream_max()
            ),
            Overflow::Association => tracing::error!(
                "SCTP02002: association {}: {} bytes queued on other streams while {serving} waits for its own (SCTPMaxAssociationQueue {}); failing it and closing the association",
                self.assoc_id,
                self.demux.queued(),
                self.demux.assoc_max()
            ),
        }
        ffi::APR_ENOSPC as ffi::apr_status_t
    }

    /// The stream the next response byte goes on: the request's (pinned)
    /// stream, mapped into our outbound streams when the peer sent on a
    /// stream we cannot answer on.
    /// Where the next response goes: the descriptor, the association id
    /// and the outbound stream (None once the socket is gone).
    pub fn response_target(&mut self) -> Option<(std::os::fd::RawFd, i32, u16)> {
        use std::os::fd::AsRawFd;
        let fd = self.fd()?.as_raw_fd();
        Some((fd, self.assoc_id, self.response_stream()))
    }

    pub fn response_stream(&mut self) -> u16 {
        let sid = self.demux.pinned().unwrap_or(self.response_sid);
        self.map_stream(sid)
    }

    /// Responses the association's stream connections finished.
    /// The association's counters with what its stream connections did
    /// added, and the input bytes queued (read, not yet consumed).
    pub fn totals(&self) -> (Counters, u64) {
        let mut k = self.counters.clone();
        let mut queued = self.demux.queued() as u64;
        if let Service::Concurrent(sh) = &self.service {
            let g = sh.lock();
            k.messages_out += g.messages_out;
            k.bytes_out += g.bytes_out;
            for (sid, _) in g.session.streams() {
                let n = g.session.stats(sid).responses;
                if n > 0 {
                    *k.responses.entry(sid).or_default() += n;
                }
            }
            queued += g.session.queued() as u64;
        }
        (k, queued)
    }

    /// The line said when the association closes: what it carried.
    pub fn closing_summary(&self, discarded: usize) -> String {
        let (k, queued) = self.totals();
        format!(
            "association {}: closing the association after {} response(s), {} message(s), {} byte(s) sent; {queued} queued and {discarded} unread byte(s) discarded",
            self.assoc_id,
            k.responses.values().sum::<u64>(),
            k.messages_out,
            k.bytes_out,
        )
    }

    /// The stream a response to a request on `sid` goes on: `sid`, or,
    /// when the peer sent on a stream we cannot answer on, `sid` mapped
    /// into our outbound streams (logged once).
    pub fn map_stream(&mut self, sid: u16) -> u16 {
        // Unknown streams (0): the association had ended before it was
        // accepted, nothing reaches the peer whatever the stream.
        if sid < self.out_streams || self.out_streams == 0 {
            return sid;
        }
        let mapped = sid % self.out_streams;
        if !self.warned_range {
            self.warned_range = true;
            tracing::info!(
                "association {}: request on stream {sid}, but only {} outbound stream(s) were negotiated; answering on stream {mapped} (SCTPOutStreams, or the peer's inbound streams)",
                self.assoc_id,
                self.out_streams
            );
        }
        mapped
    }

    /// The end of a response: count it and release the request's stream.
    pub fn end_response(&mut self) {
        *self
            .counters
            .responses
            .entry(self.response_sid)
            .or_default() += 1;
        self.demux.end_request();
        self.publish();
    }

    /// Takes a slot in the shared status table and publishes.
    pub fn list(&mut self) {
        let Some(t) = status_handler::table() else {
            return;
        };
        // SAFETY: getpid has no preconditions.
        self.slot = t.claim(unsafe { libc::getpid() });
        if self.slot.is_none() {
            status_handler::count_unlisted(1);
        }
        self.publish();
    }

    fn refresh_paths(&mut self, now: Instant) {
        if self
            .paths_at
            .is_some_and(|t| now.saturating_duration_since(t) < PATHS_REFRESH)
        {
            return;
        }
        self.paths_at = Some(now);
        let Some(fd) = self.fd() else {
            return;
        };
        let primary = sctp::status(fd).ok().and_then(|s| s.primary.addr);
        self.paths = self
            .peers
            .iter()
            .filter_map(|p| sctp::peer_addr_info(fd, p).ok().map(|i| (p, i)))
            .map(|(p, i)| PathView {
                addr: p.to_string(),
                state: i.state,
                rto_ms: i.rto,
                srtt_ms: i.srtt,
                cwnd: i.cwnd,
                primary: primary == Some(*p),
            })
            .collect();
    }

    /// The streams in progress (running first, then waiting), for the
    /// status page.
    fn stream_views(&self, now: Instant) -> Vec<StreamView> {
        let Service::Concurrent(sh) = &self.service else {
            return Vec::new();
        };
        let g = sh.lock();
        let mut v: Vec<StreamView> = g
            .session
            .streams()
            .filter_map(|(sid, st)| {
                let state = match st {
                    StreamState::Running => StreamViewState::Running,
                    StreamState::Draining => StreamViewState::Draining,
                    _ => return None,
                };
                let (request, since) = g
                    .requests
                    .get(&sid)
                    .map_or((String::new(), now), |(r, t)| (r.clone(), *t));
                Some(StreamView {
                    sid,
                    state,
                    request,
                    since_ms: now.saturating_duration_since(since).as_millis() as u64,
                })
            })
            .collect();
        v.extend(g.session.waiting().map(|sid| StreamView {
            sid,
            state: StreamViewState::Waiting,
            request: String::new(),
            since_ms: 0,
        }));
        v
    }

    /// Writes the association's current state into its status slot.
    pub fn publish(&mut self) {
        self.publish_at(Instant::now());
    }

    /// [`Assoc::publish`] with the caller's clock reading (c1 reads the
    /// clock once per turn: every reading is a system call under UML).
    pub fn publish_at(&mut self, now: Instant) {
        let (Some(t), Some(i)) = (status_handler::table(), self.slot) else {
            return;
        };
        self.refresh_paths(now);
        let (k, queued) = self.totals();
        let k = &k;
        let v = AssocView {
            pid: 0,
            conn_id: self.conn_id,
            assoc_id: self.assoc_id,
            in_streams: self.in_streams,
            out_streams: self.out_streams,
            pinned: self.demux.pinned(),
            started: self.started,
            updated: status_handler::now(),
            queued,
            messages_in: k.messages_in,
            bytes_in: k.bytes_in,
            messages_out: k.messages_out,
            bytes_out: k.bytes_out,
            responses: k.responses.values().sum(),
            per_stream: k.responses.iter().map(|(&s, &n)| (s, n)).collect(),
            other_streams: 0,
            peers: self.peers_text(),
            paths: self.paths.clone(),
            // Serial today: no stream served on a connection of its own.
            streams: self.stream_views(now),
            streams_not_listed: 0,
        };
        t.publish(i, &v);
    }
}

impl Drop for Assoc {
    fn drop(&mut self) {
        if let Some(tls) = self.demux.tls_stream() {
            let k = &self.counters;
            tracing::debug!(
                "association {}: TLS on stream {tls} ended; {} message(s), {} byte(s) on other streams dropped",
                self.assoc_id,
                k.tls_refused_messages,
                k.tls_refused_bytes
            );
        }
        match (status_handler::table(), self.slot) {
            (Some(t), Some(i)) => t.release(i),
            (Some(_), None) => status_handler::count_unlisted(-1),
            _ => {}
        }
    }
}

unsafe extern "C" fn drop_assoc(p: *mut c_void) -> ffi::apr_status_t {
    httpd_module::boundary::cleanup("mod_sctp: an association's cleanup", || {
        // SAFETY: registered once with the pointer from Box::into_raw.
        drop(unsafe { Box::from_raw(p as *mut Assoc) });
        0
    })
}
