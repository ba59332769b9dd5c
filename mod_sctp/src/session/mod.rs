//! The sans-I/O session of one association served with concurrent
//! streams (docs/architecture.md, "Concurrent streams").
//!
//! Modelled on quinn-proto's `Connection`: no sockets, no httpd types, no
//! threads, no clock. The association's one reader and the stream
//! connections feed it events; it answers with [`Decision`]s, taken with
//! [`Session::poll`], and with [`Transmit`] turns for output. What it holds:
//!
//! * the bounded per-stream input queues ([`queues`]: `SCTPMaxStreamQueue`
//!   for one stream, `SCTPMaxAssociationQueue` for all), read by each
//!   stream's consumer with [`Session::read`];
//! * each stream's lifecycle, an explicit [`StreamState`] machine whose every
//!   change goes through one hook ([`Session::set_state_hook`]) for logging
//!   and the status page;
//! * the limit of streams in progress per association
//!   (`SCTPMaxConcurrentStreams`, default [`DEFAULT_MAX_CONCURRENT`]),
//!   streams beyond it waiting first come, first served: no request is lost;
//! * when the reader must pause (a queue that cannot take one more read) and
//!   when it may resume (hysteresis: half empty, or a consumer starving);
//! * TLS pinning: an association whose first message is a TLS ClientHello is
//!   one ordered byte stream, served on that stream alone;
//! * the output [`arbiter`]: round robin between streams with data to send,
//!   one message of at most `SCTPMaxMessageSize` per turn.
//!
//! The association's connection (association_connection.rs) drives it
//! through `Shared` (shared_session.rs); the arbiter's round robin is not
//! wired: each stream connection sends its own messages and the kernel's
//! stream scheduler interleaves them (docs/architecture.md, "Concurrent
//! streams").
//!
//! # Stream states
//!
//! ```text
//!            data, slot free            connection ended (Idle), nothing queued
//!   Idle ----------------------> Running ------------------------------------> Idle
//!    |  data, no slot             ^   |  connection ended (Closed), TLS, stop
//!    +------> Waiting ------------+   +-------------------------------------> Closed
//!                      slot freed     |  graceful stop
//!                                     +--> Draining --connection ended--> Closed
//!   any state but Closed --overflow, TLS refusal, association gone--> Failed
//! ```
//!
//! A stream "has a connection" (holds one of the association's slots) from
//! Running until its connection ends, also through Draining and through
//! Failed when it failed while running: the slot is free only once the
//! stream connection's thread is.

pub mod arbiter;
pub mod queues;
#[cfg(test)]
mod tests;

use arbiter::Arbiter;
pub use arbiter::Transmit;
use queues::{Overflow, Queues, StreamQueue};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

/// Streams in progress per association by default
/// (`SCTPMaxConcurrentStreams`): chosen from ci/bench's sweep (bench/notes.md,
/// "What the committed run shows"; docs/directives.md says why 8, not 4).
pub const DEFAULT_MAX_CONCURRENT: usize = 8;

/// The bounds a session works within.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `SCTPMaxStreamQueue`: input bytes one stream may have queued.
    pub stream_queue: usize,
    /// `SCTPMaxAssociationQueue`: input bytes all streams may have queued.
    pub assoc_queue: usize,
    /// `SCTPMaxConcurrentStreams`: streams with a connection at once.
    pub max_concurrent: usize,
    /// `SCTPMaxMessageSize`: the most bytes one output turn may send.
    pub max_message: usize,
    /// The most bytes one read of the socket adds (the reader pauses while
    /// a queue has less room than this).
    pub read_chunk: usize,
    /// How long an association with no stream in progress stays open
    /// (the association's keep-alive); `None`: for ever.
    pub idle_timeout: Option<Duration>,
}

/// Why a stream connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnEnd {
    /// At a request boundary with nothing left to read: the stream may carry
    /// further requests, on a new connection.
    Idle,
    /// HTTP/1.1 closed it (`Connection: close`, a malformed request, a
    /// timeout): the stream's framing is gone, it takes no more requests.
    Closed,
}

/// How the association ended (from the reader's notifications).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssocEnd {
    /// SCTP_COMM_LOST: the peer is unreachable.
    Lost,
    /// The peer sent an ABORT.
    Aborted,
    /// The peer sent a SHUTDOWN: no new data may be sent (RFC 4960 9.2).
    Shutdown,
}

/// Why a stream failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailReason {
    /// It exceeded `SCTPMaxStreamQueue`.
    StreamQueue,
    /// Its bytes no longer fitted `SCTPMaxAssociationQueue`, or it held the
    /// most of it while waiting for a slot and a running stream starved.
    AssociationQueue,
    /// The association is pinned to another stream for TLS.
    TlsPinned { stream: u16 },
    /// The association is gone.
    Cancelled(AssocEnd),
    /// The server is stopping (graceful restart or stop, idle timeout)
    /// before the stream's request started.
    Stopping,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::StreamQueue => write!(f, "it sent more than SCTPMaxStreamQueue bytes ahead of what was read"),
            FailReason::AssociationQueue => write!(f, "its bytes did not fit SCTPMaxAssociationQueue while it waited for a slot"),
            FailReason::TlsPinned { stream } => write!(f, "the association speaks TLS on stream {stream}, which is one ordered byte stream: other streams are refused"),
            FailReason::Cancelled(AssocEnd::Lost) => write!(f, "the association was lost"),
            FailReason::Cancelled(AssocEnd::Aborted) => write!(f, "the peer aborted the association"),
            FailReason::Cancelled(AssocEnd::Shutdown) => write!(f, "the peer shut the association down"),
            FailReason::Stopping => write!(f, "the server is stopping and its request had not started"),
        }
    }
}

/// What the client gets when its stream fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The stream's connection is running: its next read fails (APR_ENOSPC)
    /// and httpd answers as for oversized input (414, 400 or 413), as the
    /// serial path does today.
    ReadFails,
    /// No connection reads the stream (its request never started): send
    /// this status yourself on the stream, with `Connection: close`.
    Status(u16),
    /// Nothing: the association is gone, or an answer in clear text beside
    /// a TLS session would be unauthenticated.
    Nothing,
}

/// Why the session finished (the association connection may close).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
    Ended(AssocEnd),
    Stopped,
    IdleTimeout,
    /// The TLS connection on the pinned stream ended: a TLS association
    /// carries one connection.
    TlsEnded,
}

/// What the session asks of the reader, the worker pool and the streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Stop reading the socket (a queue could not take one more read).
    PauseReading,
    /// Read the socket again.
    ResumeReading,
    /// The stream has a request and a slot: create its connection on a
    /// worker.
    Start(u16),
    /// The stream has a request but `max_concurrent` streams are in
    /// progress: it waits for a slot (first come, first served).
    Wait(u16),
    /// This stream alone failed.
    Fail {
        stream: u16,
        reason: FailReason,
        answer: Answer,
    },
    /// The association is gone: cancel every stream connection (abort them,
    /// kill their CGIs, release their threads).
    CancelAll(AssocEnd),
    /// No stream connection is left and none will start: close the
    /// association connection.
    Finished(FinishReason),
}

/// The lifecycle of one stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamState {
    /// Nothing queued, no connection.
    #[default]
    Idle,
    /// Data queued, waiting for a slot.
    Waiting,
    /// Its connection reads and answers its requests.
    Running,
    /// The server is stopping: its connection finishes the request in
    /// progress and takes no further one.
    Draining,
    /// Its connection closed the stream; further data is discarded.
    Closed,
    /// It failed; further data is discarded.
    Failed(FailReason),
}

impl StreamState {
    /// Closed or failed: nothing more happens on the stream.
    pub fn is_terminal(self) -> bool {
        matches!(self, StreamState::Closed | StreamState::Failed(_))
    }
}

/// One state change, as the hook sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub stream: u16,
    pub from: StreamState,
    pub to: StreamState,
}

/// What became of a received message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// In its stream's queue.
    Queued,
    /// Dropped: its stream failed or closed (now or before).
    Discarded,
}

/// Why a consumer's read got no bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The stream failed (see [`Answer::ReadFails`]).
    Failed(FailReason),
    /// The stream has no connection (a consumer that should not exist).
    NotRunning,
}

/// Byte counts of one stream. `accepted == delivered + dropped + queued`
/// always, and `dropped > 0` only on a closed or failed stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes queued (what [`Session::on_message`] answered `Queued` to).
    pub accepted: u64,
    /// Bytes its consumer read.
    pub delivered: u64,
    /// Accepted bytes dropped when the stream failed or closed.
    pub dropped: u64,
    /// Bytes never queued (the stream had failed or closed, or the message
    /// did not fit).
    pub refused: u64,
    /// Requests finished.
    pub responses: u64,
}

#[derive(Default)]
struct Stream {
    state: StreamState,
    /// Holds a slot: its connection exists.
    conn: bool,
    /// Its consumer found nothing to read and waits.
    starved: bool,
    stats: StreamStats,
}

type Hook = Box<dyn FnMut(&Transition) + Send>;

/// The session of one association.
pub struct Session {
    limits: Limits,
    queues: Queues,
    streams: BTreeMap<u16, Stream>,
    /// Streams in Waiting, first come first.
    waiting: VecDeque<u16>,
    /// Streams with a connection.
    in_progress: usize,
    paused: bool,
    first_message_seen: bool,
    tls: Option<u16>,
    ended: Option<AssocEnd>,
    stopping: Option<FinishReason>,
    finished: bool,
    idle_since: Option<Instant>,
    output: Arbiter,
    decisions: VecDeque<Decision>,
    hook: Option<Hook>,
}

/// Whether a stream's first bytes are a TLS record carrying a handshake
/// (content type 22, version 3.x), of which a connection's first is the
/// ClientHello (handshake type 1). No HTTP request starts with byte 22.
pub fn looks_like_tls(data: &[u8]) -> bool {
    data.first() == Some(&0x16)
        && !matches!(data.get(1), Some(&b) if b != 0x03)
        && !matches!(data.get(5), Some(&b) if b != 0x01)
}

impl Session {
    /// A new association, idle since `now`.
    pub fn new(limits: Limits, now: Instant) -> Self {
        let mut limits = limits;
        limits.max_concurrent = limits.max_concurrent.max(1);
        limits.read_chunk = limits
            .read_chunk
            .clamp(1, limits.stream_queue.min(limits.assoc_queue).max(1));
        Session {
            limits,
            queues: Queues::new(limits.stream_queue, limits.assoc_queue),
            streams: BTreeMap::new(),
            waiting: VecDeque::new(),
            in_progress: 0,
            paused: false,
            first_message_seen: false,
            tls: None,
            ended: None,
            stopping: None,
            finished: false,
            idle_since: Some(now),
            output: Arbiter::new(limits.max_message),
            decisions: VecDeque::new(),
            hook: None,
        }
    }

    /// Calls `hook` at every stream state change (logging, status page).
    pub fn set_state_hook(&mut self, hook: Hook) {
        self.hook = Some(hook);
    }

    /// The next decision, in the order they were taken.
    pub fn poll(&mut self) -> Option<Decision> {
        self.decisions.pop_front()
    }

    /// Decisions wait for the reader: whoever changed the session must wake
    /// it (a consumer that changes nothing it acts on need not).
    pub fn has_decisions(&self) -> bool {
        !self.decisions.is_empty()
    }

    // -- queries --------------------------------------------------------

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn state(&self, sid: u16) -> StreamState {
        self.streams
            .get(&sid)
            .map_or(StreamState::Idle, |s| s.state)
    }

    pub fn stats(&self, sid: u16) -> StreamStats {
        self.streams
            .get(&sid)
            .map_or_else(StreamStats::default, |s| s.stats)
    }

    /// Every stream seen, with its state.
    pub fn streams(&self) -> impl Iterator<Item = (u16, StreamState)> + '_ {
        self.streams.iter().map(|(&sid, s)| (sid, s.state))
    }

    /// Streams waiting for a slot, first come first.
    pub fn waiting(&self) -> impl Iterator<Item = u16> + '_ {
        self.waiting.iter().copied()
    }

    /// Streams with a connection (slots taken).
    pub fn in_progress(&self) -> usize {
        self.in_progress
    }

    pub fn reading_paused(&self) -> bool {
        self.paused
    }

    /// Input bytes queued on all streams.
    pub fn queued(&self) -> usize {
        self.queues.queued()
    }

    /// Input bytes queued on `sid`.
    pub fn queued_on(&self, sid: u16) -> usize {
        self.queues.len(sid)
    }

    /// The stream a TLS association is pinned to.
    pub fn tls_pinned(&self) -> Option<u16> {
        self.tls
    }

    /// Whether `sid`'s connection may start another request (false while
    /// draining: it ends at the next request boundary).
    pub fn accepts_requests(&self, sid: u16) -> bool {
        self.state(sid) == StreamState::Running && self.stopping.is_none()
    }

    /// Whether the session finished (see [`Decision::Finished`]).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// When [`Session::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.finished || self.stopping.is_some() || self.ended.is_some() {
            return None;
        }
        Some(self.idle_since? + self.limits.idle_timeout?)
    }

    /// Bytes `sid` still has to send.
    pub fn output_pending(&self, sid: u16) -> usize {
        self.output.pending(sid)
    }

    // -- events from the reader -------------------------------------------

    /// The reader read `data` (a piece of a message) on stream `sid`.
    pub fn on_message(&mut self, sid: u16, data: &[u8], now: Instant) -> Received {
        if data.is_empty() {
            return Received::Queued;
        }
        let n = data.len() as u64;
        if self.ended.is_some() || self.finished {
            return self.refuse(sid, n);
        }
        if !self.first_message_seen {
            self.first_message_seen = true;
            if looks_like_tls(data) {
                self.tls = Some(sid);
            }
        }
        if let Some(pinned) = self.tls.filter(|&p| p != sid) {
            self.fail(sid, FailReason::TlsPinned { stream: pinned });
            return self.refuse(sid, n);
        }
        let state = self.state(sid);
        if state.is_terminal() {
            return self.refuse(sid, n);
        }
        if state == StreamState::Idle && self.stopping.is_some() {
            self.fail(sid, FailReason::Stopping);
            self.after_event(now);
            return self.refuse(sid, n);
        }
        match self.queues.push(sid, data) {
            Ok(()) => {
                let s = self.streams.entry(sid).or_default();
                s.stats.accepted += n;
                s.starved = false;
                if state == StreamState::Idle {
                    self.become_runnable(sid);
                }
                self.after_event(now);
                Received::Queued
            }
            Err(o) => {
                let reason = match o {
                    Overflow::Stream(_) => FailReason::StreamQueue,
                    Overflow::Association => FailReason::AssociationQueue,
                };
                self.fail(sid, reason);
                self.after_event(now);
                self.refuse(sid, n)
            }
        }
    }

    /// The reader got a notification that the association is gone (or
    /// read its end).
    pub fn association_ended(&mut self, end: AssocEnd) {
        if self.ended.is_some() {
            return;
        }
        self.ended = Some(end);
        self.decisions.push_back(Decision::CancelAll(end));
        self.waiting.clear();
        self.output.clear_all();
        let sids: Vec<u16> = self.streams.keys().copied().collect();
        for sid in sids {
            match self.state(sid) {
                s if s.is_terminal() => {}
                StreamState::Idle => self.close_stream(sid),
                _ => {
                    self.fail_quietly(sid, FailReason::Cancelled(end));
                }
            }
        }
        self.evaluate_reading();
        self.check_finished();
    }

    // -- events from the stream connections -------------------------------

    /// A consumer read of `sid`'s queue: `f` takes what it needs
    /// ([`StreamQueue::take`], `read_line`, `peek`, `eat_crlf`). The bytes
    /// it removes count as delivered.
    pub fn read<R>(
        &mut self,
        sid: u16,
        f: impl FnOnce(&mut StreamQueue) -> R,
    ) -> Result<R, ReadError> {
        let Some(s) = self.streams.get(&sid) else {
            return Err(ReadError::NotRunning);
        };
        match s.state {
            StreamState::Failed(r) => return Err(ReadError::Failed(r)),
            StreamState::Running | StreamState::Draining => {}
            _ => return Err(ReadError::NotRunning),
        }
        if self.queues.get(sid).is_none() {
            return Ok(f(&mut StreamQueue::default()));
        }
        let before = self.queues.len(sid);
        let Some(r) = self.queues.with(sid, f) else {
            return Err(ReadError::NotRunning);
        };
        let taken = before - self.queues.len(sid);
        if let Some(s) = self.streams.get_mut(&sid) {
            s.stats.delivered += taken as u64;
        }
        self.evaluate_reading();
        Ok(r)
    }

    /// `sid`'s consumer found nothing to read and is about to wait. If the
    /// reader is paused because the association's queue is full of streams
    /// that wait for a slot, the one holding the most fails (503), so that
    /// running requests are never stuck behind requests that cannot start.
    pub fn starved(&mut self, sid: u16, now: Instant) {
        let Some(s) = self.streams.get_mut(&sid) else {
            return;
        };
        if !matches!(s.state, StreamState::Running | StreamState::Draining)
            || self.queues.len(sid) > 0
        {
            return;
        }
        s.starved = true;
        if self.paused && self.assoc_full() {
            let hog = self
                .waiting
                .iter()
                .copied()
                .max_by_key(|&w| (self.queues.len(w), std::cmp::Reverse(w)));
            if let Some(hog) = hog.filter(|&w| self.queues.len(w) > 0) {
                self.fail(hog, FailReason::AssociationQueue);
            }
        }
        self.after_event(now);
    }

    /// `sid`'s connection finished a request (its response ended).
    pub fn request_finished(&mut self, sid: u16) {
        if let Some(s) = self.streams.get_mut(&sid) {
            s.stats.responses += 1;
        }
    }

    /// `sid`'s connection ended; its slot is free.
    pub fn connection_ended(&mut self, sid: u16, end: ConnEnd, now: Instant) {
        let Some(s) = self.streams.get_mut(&sid) else {
            return;
        };
        if !s.conn {
            return;
        }
        s.conn = false;
        self.in_progress -= 1;
        self.output.clear(sid);
        match s.state {
            StreamState::Running => {
                if end == ConnEnd::Closed || self.tls.is_some() || self.stopping.is_some() {
                    self.close_stream(sid);
                } else {
                    self.set_state(sid, StreamState::Idle);
                    if self.queues.len(sid) > 0 {
                        self.become_runnable(sid);
                    }
                }
            }
            StreamState::Draining => self.close_stream(sid),
            _ => {}
        }
        if self.tls == Some(sid) {
            self.stop(FinishReason::TlsEnded, now);
        }
        self.admit();
        self.after_event(now);
        self.check_finished();
    }

    // -- output -------------------------------------------------------------

    /// `sid`'s connection has `n` more bytes to send. False if it cannot
    /// send (no connection, or the association is gone).
    pub fn queue_output(&mut self, sid: u16, n: usize) -> bool {
        let ok = self.ended.is_none() && self.streams.get(&sid).is_some_and(|s| s.conn);
        if ok {
            self.output.queue(sid, n);
        }
        ok
    }

    /// The next stream to send one message, round robin.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.ended.is_some() {
            return None;
        }
        self.output.next_turn()
    }

    /// `sid` sent `n` bytes of its turn.
    pub fn on_sent(&mut self, sid: u16, n: usize) {
        self.output.sent(sid, n);
    }

    // -- the server -----------------------------------------------------------

    /// Graceful restart or stop: requests in progress finish, those that
    /// have not started are answered 503, nothing new starts.
    pub fn graceful_stop(&mut self, now: Instant) {
        self.stop(FinishReason::Stopped, now);
    }

    /// Time passed: closes an association idle for `idle_timeout`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|t| t <= now) {
            self.stop(FinishReason::IdleTimeout, now);
        }
    }

    // -- internals ------------------------------------------------------------

    fn stop(&mut self, why: FinishReason, now: Instant) {
        if self.finished || self.ended.is_some() || self.stopping.is_some() {
            return;
        }
        self.stopping = Some(why);
        let sids: Vec<u16> = self.streams.keys().copied().collect();
        for sid in sids {
            match self.state(sid) {
                StreamState::Running => self.set_state(sid, StreamState::Draining),
                StreamState::Waiting => self.fail(sid, FailReason::Stopping),
                _ => {}
            }
        }
        self.after_event(now);
        self.check_finished();
    }

    fn refuse(&mut self, sid: u16, n: u64) -> Received {
        self.streams.entry(sid).or_default().stats.refused += n;
        Received::Discarded
    }

    fn set_state(&mut self, sid: u16, to: StreamState) {
        let s = self.streams.entry(sid).or_default();
        let from = s.state;
        if from == to {
            return;
        }
        s.state = to;
        if !matches!(to, StreamState::Running | StreamState::Draining) {
            s.starved = false;
        }
        match to {
            StreamState::Running => self.decisions.push_back(Decision::Start(sid)),
            StreamState::Waiting => self.decisions.push_back(Decision::Wait(sid)),
            _ => {}
        }
        if let Some(h) = self.hook.as_mut() {
            h(&Transition {
                stream: sid,
                from,
                to,
            });
        }
    }

    /// An Idle stream got data: it starts if a slot is free and nobody
    /// waits, else it waits behind the others.
    fn become_runnable(&mut self, sid: u16) {
        if self.stopping.is_none()
            && self.waiting.is_empty()
            && self.in_progress < self.limits.max_concurrent
        {
            self.start(sid);
        } else {
            self.waiting.push_back(sid);
            self.set_state(sid, StreamState::Waiting);
        }
    }

    fn start(&mut self, sid: u16) {
        self.streams.entry(sid).or_default().conn = true;
        self.in_progress += 1;
        self.set_state(sid, StreamState::Running);
    }

    fn admit(&mut self) {
        if self.stopping.is_some() || self.ended.is_some() {
            return;
        }
        while self.in_progress < self.limits.max_concurrent {
            let Some(sid) = self.waiting.pop_front() else {
                break;
            };
            self.start(sid);
        }
    }

    fn drop_queue(&mut self, sid: u16) {
        let n = self.queues.discard(sid) as u64;
        self.streams.entry(sid).or_default().stats.dropped += n;
    }

    fn close_stream(&mut self, sid: u16) {
        self.drop_queue(sid);
        self.set_state(sid, StreamState::Closed);
    }

    /// Fails `sid` without a decision of its own; returns the answer.
    fn fail_quietly(&mut self, sid: u16, reason: FailReason) -> Option<Answer> {
        let s = self.streams.entry(sid).or_default();
        if s.state.is_terminal() {
            return None;
        }
        let answer = match reason {
            FailReason::TlsPinned { .. } | FailReason::Cancelled(_) => Answer::Nothing,
            _ if s.conn => Answer::ReadFails,
            _ => Answer::Status(503),
        };
        self.drop_queue(sid);
        self.waiting.retain(|&w| w != sid);
        self.set_state(sid, StreamState::Failed(reason));
        Some(answer)
    }

    fn fail(&mut self, sid: u16, reason: FailReason) {
        if let Some(answer) = self.fail_quietly(sid, reason) {
            self.decisions.push_back(Decision::Fail {
                stream: sid,
                reason,
                answer,
            });
        }
    }

    fn after_event(&mut self, now: Instant) {
        self.admit();
        self.evaluate_reading();
        let busy = self.in_progress > 0 || !self.waiting.is_empty() || self.queues.queued() > 0;
        if busy {
            self.idle_since = None;
        } else if self.idle_since.is_none() {
            self.idle_since = Some(now);
        }
    }

    fn check_finished(&mut self) {
        if self.finished || self.in_progress > 0 {
            return;
        }
        let why = match (self.ended, self.stopping) {
            (Some(e), _) => FinishReason::Ended(e),
            (None, Some(w)) => w,
            (None, None) => return,
        };
        self.finished = true;
        self.evaluate_reading();
        self.decisions.push_back(Decision::Finished(why));
    }

    /// The queues cannot take one more read.
    fn assoc_full(&self) -> bool {
        self.queues.queued() + self.limits.read_chunk > self.limits.assoc_queue
    }

    fn running(&self) -> impl Iterator<Item = (u16, &Stream)> + '_ {
        self.streams
            .iter()
            .filter(|(_, s)| matches!(s.state, StreamState::Running | StreamState::Draining))
            .map(|(&sid, s)| (sid, s))
    }

    /// Pauses the reader when a read might not fit: the association's queue
    /// or a running stream's queue has less room than one read. (A stream
    /// waiting for a slot that overflows fails instead: pausing for a stream
    /// nobody reads could wait for ever.) Resumes when the association's
    /// queue and every running stream's are at most half full, or at once
    /// when a running stream starves and a read fits.
    fn evaluate_reading(&mut self) {
        let chunk = self.limits.read_chunk;
        let stream_max = self.limits.stream_queue;
        let no_room = self.assoc_full()
            || self
                .running()
                .any(|(sid, _)| self.queues.len(sid) + chunk > stream_max);
        let pause = if self.ended.is_some() || self.finished {
            true
        } else if !self.paused || no_room {
            no_room
        } else {
            let low = self.queues.queued() <= self.limits.assoc_queue / 2
                && self
                    .running()
                    .all(|(sid, _)| self.queues.len(sid) <= stream_max / 2);
            let starving = self.running().any(|(_, s)| s.starved);
            !(low || starving)
        };
        if pause != self.paused {
            self.paused = pause;
            self.decisions.push_back(if pause {
                Decision::PauseReading
            } else {
                Decision::ResumeReading
            });
        }
    }
}
