//! The associations of one httpd child to its FastCGI backends.
//!
//! Per backend (`host:port`) a child keeps one SCTP association, shared by
//! its worker threads, and opens another only when every request stream of
//! the open ones is busy. A request takes a free stream n ≥ 2 (FastCGI
//! request id n) and all of its records travel on it. One reader thread
//! per association reads every message, decodes it with the stream's own
//! decoder and hands each record to the request waiting on that stream;
//! stream 1 brings the FCGI_GET_VALUES answer and the backend's log lines.
//! The wire rules are those of docs/fastcgi.md.
//!
//! This layer knows nothing of httpd: it logs through a [`Logger`] and is
//! tested against a FastCGI backend written in the tests.

use apr_sctp::sctp::{self, Domain, InitMsg, SctpSocket, SndInfo};
use fastcgi::management;
use fastcgi::record::{self, Decoder, Limits, Record};
use fastcgi::stream_plan::{self, StreamPlan, MANAGEMENT_STREAM};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Startup refused (configuration errors).
    Emerg,
    Error,
    Warn,
    Info,
    Debug,
}

/// Where this layer's log lines go (httpd's error log in the module).
pub type Logger = Arc<dyn Fn(Level, &str) + Send + Sync>;

#[derive(Clone, Debug)]
pub struct Settings {
    /// Outbound streams asked for: request streams + 2.
    pub streams: u16,
    /// Bound on setting up an association (INIT retransmissions).
    pub connect_timeout: Duration,
    /// How long a new association waits for the FCGI_GET_VALUES answer
    /// before it assumes the backend takes as many requests as streams.
    pub values_timeout: Duration,
    /// Associations per backend and child; beyond, requests wait.
    pub max_associations: usize,
    /// Records queued per stream between the reader and the request's
    /// thread (each at most 64 KiB): past this the reader waits.
    pub queue_records: usize,
    /// Bound on one blocking send (SO_SNDTIMEO).
    pub send_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            streams: 34,
            connect_timeout: Duration::from_secs(5),
            values_timeout: Duration::from_secs(2),
            max_associations: 16,
            queue_records: 32,
            send_timeout: Duration::from_secs(60),
        }
    }
}

/// What a request's thread receives on its stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    End {
        app_status: u32,
        protocol_status: u8,
    },
    /// The association ended before this request did.
    Broken(String),
}

#[derive(Debug)]
pub enum OpenError {
    /// No address of the backend took an association.
    Connect(String),
    /// Every stream of `max_associations` associations stayed busy.
    Busy,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Connect(e) => write!(f, "{e}"),
            OpenError::Busy => write!(f, "every stream of every association stayed busy"),
        }
    }
}

/// The backend's answers to FCGI_GET_VALUES.
pub type Values = management::Learned;

struct State {
    plan: StreamPlan,
    /// Streams whose request waits for records.
    routes: HashMap<u16, SyncSender<Event>>,
    /// Streams given up (ABORT_REQUEST sent): busy until END_REQUEST.
    draining: HashSet<u16>,
    values: Option<Values>,
    dead: Option<String>,
}

impl State {
    /// The backend takes one request per connection at a time (it did not
    /// say FCGI_MPXS_CONNS 1, as libfcgi does not, or did not answer): its
    /// worker is bound to this association while it stays open, so it is
    /// closed once idle.
    fn one_at_a_time(&self) -> bool {
        !matches!(self.values, Some(v) if v.mpxs_conns == Some(true))
    }
}

/// One association to a backend.
pub struct Association {
    sock: SctpSocket,
    label: String,
    state: Mutex<State>,
    changed: Condvar,
    /// Woken when a stream comes free (shared with the backend's waiters).
    freed: Arc<(Mutex<()>, Condvar)>,
    logger: Logger,
    queue_records: usize,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves consistent-enough state (maps
    // of channels); keep going rather than poison every later request.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Association {
    fn connect(
        addrs: &[SocketAddr],
        label: &str,
        settings: &Settings,
        logger: &Logger,
        freed: Arc<(Mutex<()>, Condvar)>,
    ) -> Result<Arc<Association>, String> {
        let mut last = String::from("no address");
        for a in addrs {
            match Self::connect_one(a, settings) {
                Ok((sock, streams)) => {
                    let plan = StreamPlan::new(streams).map_err(|e| {
                        format!("association to {label} ({a}) has {streams} streams: {e}")
                    })?;
                    let assoc = Arc::new(Association {
                        sock,
                        label: label.to_string(),
                        state: Mutex::new(State {
                            plan,
                            routes: HashMap::new(),
                            draining: HashSet::new(),
                            values: None,
                            dead: None,
                        }),
                        changed: Condvar::new(),
                        freed,
                        logger: logger.clone(),
                        queue_records: settings.queue_records.max(1),
                    });
                    let reader = assoc.clone();
                    std::thread::Builder::new()
                        .name("fcgi-sctp-reader".into())
                        .spawn(move || reader.read_loop())
                        .map_err(|e| format!("cannot start a reader thread: {e}"))?;
                    assoc.ask_values(settings.values_timeout);
                    (assoc.logger)(
                        Level::Debug,
                        &format!(
                            "association to {label} ({a}) up: {streams} streams, {} for requests",
                            lock(&assoc.state).plan.capacity()
                        ),
                    );
                    return Ok(assoc);
                }
                Err(e) => last = format!("{a}: {e}"),
            }
        }
        Err(last)
    }

    fn connect_one(a: &SocketAddr, settings: &Settings) -> Result<(SctpSocket, u16), String> {
        let sock = SctpSocket::new(Domain::of(a)).map_err(|e| e.to_string())?;
        // INIT is retried from 1 s doubling: bound the attempts so a dead
        // host fails within about connect_timeout.
        let secs = settings.connect_timeout.as_secs().max(1);
        let attempts = (64 - secs.leading_zeros()).max(1) as u16;
        sctp::set_initmsg(
            sock.as_fd(),
            &InitMsg {
                num_ostreams: settings.streams,
                max_instreams: settings.streams,
                max_attempts: attempts,
                max_init_timeo: 1000,
            },
        )
        .map_err(|e| e.to_string())?;
        sctp::set_recvrcvinfo(sock.as_fd(), true).map_err(|e| e.to_string())?;
        sctp::set_nodelay(sock.as_fd(), true).map_err(|e| e.to_string())?;
        sock.connect(a).map_err(|e| e.to_string())?;
        socket2::SockRef::from(&sock)
            .set_write_timeout(Some(settings.send_timeout))
            .map_err(|e| e.to_string())?;
        let st = sctp::status(sock.as_fd()).map_err(|e| e.to_string())?;
        Ok((sock, st.outstrms.min(st.instrms)))
    }

    /// Sends FCGI_GET_VALUES on stream 1 and waits (bounded) for the answer,
    /// which the reader applies to the stream plan.
    fn ask_values(&self, wait: Duration) {
        let mut buf = Vec::new();
        let ask = management::question();
        if ask.encode(&mut buf).is_err() || self.send(MANAGEMENT_STREAM, &[&buf]).is_err() {
            return;
        }
        let deadline = Instant::now() + wait;
        let mut st = lock(&self.state);
        while st.values.is_none() && st.dead.is_none() {
            let now = Instant::now();
            if now >= deadline {
                // Assume the least: one request at a time, as stock libfcgi.
                st.plan.set_max_requests(1);
                (self.logger)(
                    Level::Warn,
                    &format!(
                        "SCTP20001: FastCGI backend {} did not answer FCGI_GET_VALUES within {:?}: \
                         one request at a time on this association",
                        self.label, wait,
                    ),
                );
                return;
            }
            st = self
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn is_dead(&self) -> bool {
        lock(&self.state).dead.is_some()
    }

    /// Sends one message of whole records on `stream`.
    fn send(&self, stream: u16, parts: &[&[u8]]) -> Result<(), String> {
        let bufs: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let info = SndInfo {
            sid: stream,
            ..Default::default()
        };
        sctp::send_msg(self.sock.as_fd(), &bufs, Some(&info), 0)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn try_acquire(self: &Arc<Self>) -> Option<RequestStream> {
        let mut st = lock(&self.state);
        if st.dead.is_some() {
            return None;
        }
        let stream = st.plan.acquire()?;
        let (tx, rx) = sync_channel(self.queue_records);
        st.routes.insert(stream, tx);
        Some(RequestStream {
            assoc: self.clone(),
            stream,
            rx,
            ended: false,
        })
    }

    fn release(&self, st: &mut State, stream: u16) {
        st.plan.release(stream);
        let (_, cv) = &*self.freed;
        cv.notify_all();
    }

    fn read_loop(self: Arc<Self>) {
        let limits = Limits::default();
        let mut decoders: HashMap<u16, Decoder> = HashMap::new();
        let mut buf = vec![0u8; 128 * 1024];
        // The stream of a message whose first part came without MSG_EOR.
        let mut continuing: Option<u16> = None;
        let why = loop {
            let got = match sctp::recv_msg(self.sock.as_fd(), &mut buf, 0) {
                Ok(g) => g,
                Err(e) if e.errno == libc::EINTR => continue,
                Err(e) => break format!("receive failed: {e}"),
            };
            if got.notification {
                continue;
            }
            if got.len == 0 {
                break "the backend closed the association".to_string();
            }
            let stream = match (continuing, got.info) {
                (Some(s), _) => s,
                (None, Some(i)) => i.sid,
                (None, None) => break "a message came without its stream number".to_string(),
            };
            continuing = if got.eor { None } else { Some(stream) };
            let dec = decoders
                .entry(stream)
                .or_insert_with(|| Decoder::new(limits));
            if let Err(e) = dec.push(buf.get(..got.len).unwrap_or_default()) {
                break format!("stream {stream}: {e}");
            }
            loop {
                match dec.next() {
                    Ok(Some(rec)) => self.dispatch(stream, rec),
                    Ok(None) => break,
                    Err(e) => {
                        // A stream whose framing is lost can't be resynchronised;
                        // the others could, but the backend is broken: end all.
                        return self.die(format!("stream {stream}: {e}"));
                    }
                }
            }
        };
        self.die(why);
    }

    fn dispatch(&self, stream: u16, rec: Record) {
        if let Err(v) = stream_plan::check(stream, &rec) {
            (self.logger)(
                Level::Error,
                &format!(
                    "SCTP20002: FastCGI backend {}: dropped a record of type {} (request id {}) on stream {stream}: {v}",
                    self.label,
                    rec.kind(),
                    rec.request_id()
                ),
            );
            return;
        }
        if stream == MANAGEMENT_STREAM {
            return self.management(rec);
        }
        let mut st = lock(&self.state);
        let ev = match rec {
            Record::Stdout { data, .. } => Event::Stdout(data),
            Record::Stderr { data, .. } => Event::Stderr(data),
            Record::EndRequest {
                app_status,
                protocol_status,
                ..
            } => {
                let draining = st.draining.remove(&stream);
                let route = st.routes.remove(&stream);
                if draining || route.is_some() {
                    self.release(&mut st, stream);
                }
                let idle = st.one_at_a_time() && st.routes.is_empty() && st.draining.is_empty();
                if idle && st.dead.is_none() {
                    // Free the backend's worker for other associations.
                    st.dead = Some("closed when idle".into());
                    let _ = socket2::SockRef::from(&self.sock).shutdown(std::net::Shutdown::Both);
                }
                drop(st);
                if let Some(tx) = route {
                    let _ = tx.send(Event::End {
                        app_status,
                        protocol_status,
                    });
                }
                return;
            }
            other => {
                drop(st);
                (self.logger)(
                    Level::Warn,
                    &format!(
                        "SCTP20003: FastCGI backend {}: unexpected record of type {} on stream {stream}: ignored",
                        self.label,
                        other.kind()
                    ),
                );
                return;
            }
        };
        if st.draining.contains(&stream) {
            return;
        }
        let Some(tx) = st.routes.get(&stream).cloned() else {
            drop(st);
            (self.logger)(
                Level::Warn,
                &format!(
                    "SCTP20004: FastCGI backend {}: output on stream {stream}, where no request runs: dropped",
                    self.label
                ),
            );
            return;
        };
        drop(st);
        // Blocks while this stream's queue is full (a slow client): the
        // request's thread drains it or gives up, which drops the receiver.
        let _ = tx.send(ev);
    }

    fn management(&self, rec: Record) {
        match rec {
            Record::GetValuesResult { pairs } => {
                let v = Values::from_pairs(&pairs);
                let mut st = lock(&self.state);
                // The plan caps it by the streams; a backend that does not
                // multiplex gets one request per connection at a time,
                // whatever FCGI_MAX_REQS says of the whole backend.
                st.plan.set_max_requests(v.concurrency(u16::MAX));
                (self.logger)(
                    Level::Debug,
                    &format!(
                        "FastCGI backend {}: FCGI_MAX_CONNS {:?}, FCGI_MAX_REQS {:?}, FCGI_MPXS_CONNS {:?}: {} requests at once on this association",
                        self.label,
                        v.max_conns,
                        v.max_reqs,
                        v.mpxs_conns,
                        st.plan.capacity()
                    ),
                );
                st.values = Some(v);
                self.changed.notify_all();
            }
            Record::Stderr { data, .. } => {
                for line in String::from_utf8_lossy(&data).lines() {
                    if !line.trim().is_empty() {
                        (self.logger)(
                            Level::Error,
                            &format!("SCTP20005: FastCGI backend {}: {line}", self.label),
                        );
                    }
                }
            }
            Record::UnknownType { kind } => (self.logger)(
                Level::Debug,
                &format!(
                    "FastCGI backend {} does not know record type {kind}",
                    self.label
                ),
            ),
            other => (self.logger)(
                Level::Warn,
                &format!(
                    "SCTP20006: FastCGI backend {}: management record of type {} ignored",
                    self.label,
                    other.kind()
                ),
            ),
        }
    }

    fn die(&self, why: String) {
        let mut st = lock(&self.state);
        if st.dead.is_some() {
            return;
        }
        let n = st.routes.len();
        for (_, tx) in st.routes.drain() {
            let _ = tx.try_send(Event::Broken(why.clone()));
        }
        st.dead = Some(why.clone());
        self.changed.notify_all();
        drop(st);
        let (_, cv) = &*self.freed;
        cv.notify_all();
        let _ = socket2::SockRef::from(&self.sock).shutdown(std::net::Shutdown::Both);
        (self.logger)(
            if n > 0 { Level::Error } else { Level::Info },
            &format!(
                "SCTP20007: association to FastCGI backend {} ended ({why}); {n} request(s) in flight",
                self.label
            ),
        );
    }
}

/// A request's stream: send its records, receive its events. Dropped
/// before END_REQUEST arrived, it sends FCGI_ABORT_REQUEST and the stream
/// stays busy until the backend's END_REQUEST frees it.
pub struct RequestStream {
    assoc: Arc<Association>,
    stream: u16,
    rx: Receiver<Event>,
    ended: bool,
}

impl RequestStream {
    /// The stream number, which is also the FastCGI request id.
    pub fn id(&self) -> u16 {
        self.stream
    }

    pub fn backend(&self) -> &str {
        &self.assoc.label
    }

    /// Sends records (whole, encoded with request id [`Self::id`]) as one
    /// message.
    pub fn send(&self, records: &[u8]) -> Result<(), String> {
        self.assoc.send(self.stream, &[records])
    }

    /// Sends whole encoded records, as many messages as they need.
    pub fn send_all(&self, records: &[u8]) -> Result<(), String> {
        for run in message_runs(records) {
            self.send(run)?;
        }
        Ok(())
    }

    /// The next event if one is queued now.
    pub fn try_recv(&mut self) -> Option<Event> {
        let ev = self.rx.try_recv().ok()?;
        if matches!(ev, Event::End { .. } | Event::Broken(_)) {
            self.ended = true;
        }
        Some(ev)
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Result<Event, RecvTimeoutError> {
        let ev = match self.rx.recv_timeout(timeout) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Disconnected) => {
                // The reader dropped our route: the association died after
                // the last event was queued.
                let why = lock(&self.assoc.state)
                    .dead
                    .clone()
                    .unwrap_or_else(|| "the association ended".into());
                Event::Broken(why)
            }
            Err(e) => return Err(e),
        };
        if matches!(ev, Event::End { .. } | Event::Broken(_)) {
            self.ended = true;
        }
        Ok(ev)
    }
}

impl Drop for RequestStream {
    fn drop(&mut self) {
        self.abort();
    }
}

impl RequestStream {
    /// Gives the request up (unless it has ended): FCGI_ABORT_REQUEST on its
    /// stream, which stays busy until the backend's END_REQUEST.
    pub fn abort(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        let mut st = lock(&self.assoc.state);
        if st.routes.remove(&self.stream).is_none() || st.dead.is_some() {
            // END_REQUEST already came (and freed the stream), or the
            // association is gone with all its streams.
            return;
        }
        st.draining.insert(self.stream);
        drop(st);
        let mut buf = Vec::new();
        if (Record::AbortRequest { id: self.stream })
            .encode(&mut buf)
            .is_ok()
        {
            if let Err(e) = self.assoc.send(self.stream, &[&buf]) {
                (self.assoc.logger)(
                    Level::Warn,
                    &format!(
                        "SCTP20008: FastCGI backend {}: FCGI_ABORT_REQUEST on stream {} not sent: {e}",
                        self.assoc.label, self.stream
                    ),
                );
            }
        }
    }
}

/// True for the app statuses a backend uses when it had to end a request
/// itself because the application failed (docs/fastcgi.md, wire rule 8).
pub fn backend_failed(app_status: u32) -> bool {
    app_status >> 8 == 0x00FF_FFFF
}

/// Encodes a whole request's opening: BEGIN_REQUEST (responder, keep the
/// association), the PARAMS stream and its end.
pub fn encode_begin(id: u16, params: &[(Vec<u8>, Vec<u8>)], out: &mut Vec<u8>) {
    let _ = Record::BeginRequest {
        id,
        role: record::RESPONDER,
        keep_conn: true,
    }
    .encode(out);
    let mut pairs = Vec::new();
    fastcgi::encode_pairs(params, &mut pairs);
    fastcgi::encode_stream(record::PARAMS, id, &pairs, out);
    if !pairs.is_empty() {
        fastcgi::encode_stream(record::PARAMS, id, &[], out);
    }
}

/// Most bytes put into one message by [`RequestStream::send_all`] (one
/// record of the largest size always fits).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Splits whole encoded records into runs of at most [`MAX_MESSAGE`] bytes
/// (a single larger record is a run of its own). Incomplete trailing bytes
/// are a run too: the caller only passes whole records.
pub fn message_runs(records: &[u8]) -> Vec<&[u8]> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at < records.len() {
        // A record's header: version, type, id (2), content length (2),
        // padding length, reserved.
        let header = records
            .get(at..at + record::HEADER_LEN)
            .and_then(|h| <[u8; record::HEADER_LEN]>::try_from(h).ok());
        let len = match header {
            Some([_, _, _, _, c0, c1, pad, _]) => {
                record::HEADER_LEN + usize::from(u16::from_be_bytes([c0, c1])) + usize::from(pad)
            }
            _ => records.len() - at,
        };
        if at > start && at + len - start > MAX_MESSAGE {
            runs.push(records.get(start..at).unwrap_or_default());
            start = at;
        }
        at = (at + len).min(records.len());
    }
    if at > start {
        runs.push(records.get(start..at).unwrap_or_default());
    }
    runs
}

/// One backend (`host:port`) of this process: its associations.
pub struct Backend {
    label: String,
    addrs: Vec<SocketAddr>,
    settings: Settings,
    logger: Logger,
    assocs: Mutex<Assocs>,
    freed: Arc<(Mutex<()>, Condvar)>,
}

#[derive(Default)]
struct Assocs {
    open: Vec<Arc<Association>>,
    /// A thread is setting up another association (one at a time, outside
    /// the lock: the others keep using the open ones meanwhile).
    connecting: bool,
    /// When and why the last setup failed: requests that waited for it
    /// fail with it too, instead of each trying again in turn.
    failed: Option<(Instant, String)>,
}

impl Backend {
    pub fn new(label: &str, addrs: Vec<SocketAddr>, settings: Settings, logger: Logger) -> Self {
        Backend {
            label: label.to_string(),
            addrs,
            settings,
            logger,
            assocs: Mutex::new(Assocs::default()),
            freed: Arc::new((Mutex::new(()), Condvar::new())),
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Open associations (for tests and status).
    pub fn associations(&self) -> usize {
        let mut a = self.assocs.lock().unwrap_or_else(|e| e.into_inner());
        a.open.retain(|x| !x.is_dead());
        a.open.len()
    }

    /// A free request stream: on an open association, else on a new one,
    /// else (every allowed association busy) the first to come free within
    /// `wait`.
    pub fn open_request(&self, wait: Duration) -> Result<RequestStream, OpenError> {
        let started = Instant::now();
        let deadline = started + wait;
        loop {
            let connect = {
                let mut assocs = self.assocs.lock().unwrap_or_else(|e| e.into_inner());
                assocs.open.retain(|a| !a.is_dead());
                for a in assocs.open.iter() {
                    if let Some(r) = a.try_acquire() {
                        return Ok(r);
                    }
                }
                // Every stream is busy: one thread sets up another
                // association while the others wait for a stream of either.
                if let Some((at, why)) = &assocs.failed {
                    if *at >= started {
                        return Err(OpenError::Connect(why.clone()));
                    }
                }
                let connect =
                    !assocs.connecting && assocs.open.len() < self.settings.max_associations;
                assocs.connecting |= connect;
                connect
            };
            if connect {
                let made = Association::connect(
                    &self.addrs,
                    &self.label,
                    &self.settings,
                    &self.logger,
                    self.freed.clone(),
                );
                let mut assocs = self.assocs.lock().unwrap_or_else(|e| e.into_inner());
                assocs.connecting = false;
                let (_, cv) = &*self.freed;
                cv.notify_all();
                let a = match made {
                    Ok(a) => a,
                    Err(why) => {
                        assocs.failed = Some((Instant::now(), why.clone()));
                        return Err(OpenError::Connect(why));
                    }
                };
                assocs.failed = None;
                assocs.open.push(a.clone());
                if let Some(r) = a.try_acquire() {
                    return Ok(r);
                }
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(OpenError::Busy);
            }
            let (m, cv) = &*self.freed;
            let g = m.lock().unwrap_or_else(|e| e.into_inner());
            // Bounded slices: a wake-up between our look and this wait is
            // not lost for long.
            let slice = (deadline - now).min(Duration::from_millis(50));
            let _ = cv.wait_timeout(g, slice);
        }
    }
}

/// The backends of this process, by `host:port`.
pub struct Registry {
    backends: Mutex<BTreeMap<String, Arc<Backend>>>,
}

impl Registry {
    pub const fn new() -> Self {
        Registry {
            backends: Mutex::new(BTreeMap::new()),
        }
    }

    /// The backend `label`, if this process has one.
    pub fn get(&self, label: &str) -> Option<Arc<Backend>> {
        let b = self.backends.lock().unwrap_or_else(|e| e.into_inner());
        b.get(label).cloned()
    }

    /// The backend `label`, created with `make` the first time.
    pub fn get_or_insert(&self, label: &str, make: impl FnOnce() -> Backend) -> Arc<Backend> {
        let mut b = self.backends.lock().unwrap_or_else(|e| e.into_inner());
        b.entry(label.to_string())
            .or_insert_with(|| Arc::new(make()))
            .clone()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_runs_keep_records_whole() {
        let mut out = Vec::new();
        fastcgi::encode_stream(record::STDIN, 2, &vec![7u8; 100_000], &mut out);
        fastcgi::encode_stream(record::STDIN, 2, b"tail", &mut out);
        fastcgi::encode_stream(record::STDIN, 2, &[], &mut out);
        let runs = message_runs(&out);
        assert_eq!(runs.concat(), out);
        assert_eq!(runs.len(), 2, "65535-byte record, then the rest together");
        for run in &runs {
            let mut d = Decoder::new(Limits::default());
            d.push(run).unwrap();
            while d.next().unwrap().is_some() {}
            d.finish().expect("each run ends on a record boundary");
            assert!(run.len() <= MAX_MESSAGE + record::HEADER_LEN + 255);
        }
        assert!(message_runs(&[]).is_empty());
    }

    #[test]
    fn failed_statuses() {
        assert!(backend_failed(0xFFFF_FF01));
        assert!(backend_failed(0xFFFF_FF04));
        assert!(!backend_failed(0));
        assert!(!backend_failed(255));
        assert!(!backend_failed(0xFFFF_FE01));
    }

    #[test]
    fn begin_encodes_keep_conn_and_params_end() {
        let mut out = Vec::new();
        encode_begin(
            7,
            &[(b"SCRIPT_FILENAME".to_vec(), b"/x.php".to_vec())],
            &mut out,
        );
        let mut d = Decoder::new(Limits::default());
        d.push(&out).unwrap();
        assert_eq!(
            d.next().unwrap(),
            Some(Record::BeginRequest {
                id: 7,
                role: record::RESPONDER,
                keep_conn: true
            })
        );
        let mut params = Vec::new();
        while let Some(r) = d.next().unwrap() {
            match r {
                Record::Params { id: 7, data } => params.push(data),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(params.len(), 2, "one PARAMS record and the empty one");
        assert!(params[1].is_empty());
        assert_eq!(
            fastcgi::decode_pairs(&params[0], &Limits::default()).unwrap(),
            vec![(b"SCRIPT_FILENAME".to_vec(), b"/x.php".to_vec())]
        );
    }
}
