//! mod_sctp's configuration: what the directives say, parsed and checked
//! without touching httpd, so every rule is unit-tested on the host.
//!
//! All SCTP directives are global (server config, outside `<VirtualHost>`):
//! listeners and association parameters belong to the listening sockets,
//! which every virtual host shares.

use std::fmt;

/// Streams offered in INIT when the administrator says nothing.
pub const DEFAULT_STREAMS: u16 = 16;
/// Largest SCTP message mod_sctp writes when the administrator says nothing.
pub const DEFAULT_MAX_MESSAGE: usize = 32 * 1024;
/// Bounds of `SCTPMaxMessageSize`: below 1 KiB every response is a storm of
/// tiny messages; above 128 KiB a message may not fit Linux's default send
/// buffer (212992 bytes), and a too-large message fails with EMSGSIZE.
pub const MIN_MAX_MESSAGE: usize = 1024;
pub const MAX_MAX_MESSAGE: usize = 128 * 1024;
/// Input queued ahead of what httpd reads, per stream and per association,
/// when the administrator says nothing: room for many pipelined requests and
/// a request body arriving on another stream, bounded per connection.
pub const DEFAULT_STREAM_QUEUE: usize = 256 * 1024;
pub const DEFAULT_ASSOC_QUEUE: usize = 1024 * 1024;
/// Bounds of both queue directives: a queue must hold a request line of
/// httpd's default LimitRequestLine (8190 bytes) plus one read (8000 bytes).
pub const MIN_QUEUE: usize = 16 * 1024;
/// `SCTPSendBuffer` default. Linux grows a TCP socket's send buffer with the
/// path (tcp_wmem) but never an SCTP one's: at the kernel's 208 KB default an
/// association keeps about 100 KB in flight, 8 Mbit/s at 100 ms RTT.
pub const DEFAULT_SEND_BUFFER: usize = 1024 * 1024;
/// Bounds of `SCTPSendBuffer` and `SCTPReceiveBuffer` (0: the kernel's default).
pub const MIN_BUFFER: usize = 16 * 1024;
pub const MAX_BUFFER: usize = 64 * 1024 * 1024;
pub const MAX_QUEUE: usize = 256 * 1024 * 1024;
/// httpd's own default for `ListenBacklog`.
pub const DEFAULT_BACKLOG: i32 = 511;
/// Bounds of the RTO and heartbeat directives, in milliseconds: those of the
/// kernel's `net.sctp.rto_*` and `net.sctp.hb_interval` sysctls (1 ms to a day).
pub const MIN_TIMER_MS: u32 = 1;
pub const MAX_TIMER_MS: u32 = 86_400_000;
/// `SCTPMaxConcurrentStreams` default: the session's, until the benchmark
/// chooses (concurrent streams).
pub const DEFAULT_MAX_CONCURRENT: usize = crate::session::DEFAULT_MAX_CONCURRENT;
/// Bound of `SCTPMaxConcurrentStreams`: each stream in progress holds a
/// secondary connection and a worker thread.
pub const MAX_MAX_CONCURRENT: usize = 1024;
/// Bound of `SCTPStreamWorkers`: threads of mod_sctp's own per child.
pub const MAX_STREAM_WORKERS: usize = 4096;

/// Where a directive was written, for messages: `line 12 of /etc/apache2/x.conf`,
/// as httpd's own AH00526 names a line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Place {
    pub file: String,
    pub line: u32,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} of {}", self.line, self.file)
    }
}

/// Where an SCTP listener binds: one primary address (or the wildcard) and a
/// port, plus extra local addresses bound to the same port (multihoming).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListenSpec {
    /// `None` is the wildcard address.
    pub host: Option<String>,
    pub port: u16,
    /// Further local addresses (`sctp_bindx`), literal IPs.
    pub extra: Vec<String>,
    /// How the administrator wrote it, for messages.
    pub origin: &'static str,
    /// Where (None when not known, e.g. in unit tests).
    pub place: Option<Place>,
}

impl ListenSpec {
    /// The identity used to match a configured listener with a retained socket
    /// across generations: the primary address and the port. Extra addresses
    /// are changed on the live socket (sctp_bindx), because the old
    /// generation's children may still hold it, so a new socket could not
    /// bind the same address and port.
    pub fn key(&self) -> String {
        format!("{}:{}", self.host.as_deref().unwrap_or("*"), self.port)
    }
}

impl ListenSpec {
    /// " (line N of FILE)" where the listener was configured, or nothing.
    fn place_note(&self) -> String {
        self.place
            .as_ref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default()
    }
}

impl fmt::Display for ListenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(h) if h.contains(':') => write!(f, "[{h}]:{}", self.port)?,
            Some(h) => write!(f, "{h}:{}", self.port)?,
            None => write!(f, "*:{}", self.port)?,
        }
        for e in &self.extra {
            write!(f, " +{e}")?;
        }
        Ok(())
    }
}

/// Splits `[addr:]port` the way httpd's `Listen` does: `80`, `host:80`,
/// `1.2.3.4:80`, `[::1]:80`. Returns (host, port).
pub fn parse_address(s: &str) -> Result<(Option<String>, u16), String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty address".into());
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or_else(|| format!("'{s}': missing ']' after an IPv6 address"))?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| format!("'{s}': a port must follow the IPv6 address, as [addr]:port"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("'{host}' is not an IPv6 address"));
        }
        (Some(host.to_string()), port)
    } else if let Some((h, p)) = s.rsplit_once(':') {
        if h.contains(':') {
            return Err(format!(
                "'{s}': write IPv6 addresses in brackets, as [addr]:port"
            ));
        }
        if h.is_empty() {
            return Err(format!("'{s}': missing address before ':'"));
        }
        (Some(h.to_string()), p)
    } else {
        (None, s)
    };
    let port = parse_port(port).map_err(|e| format!("'{s}': {e}"))?;
    Ok((host, port))
}

fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(format!("'{p}' is not a port from 1 to 65535")),
    }
}

/// An extra local address for multihoming must be a literal IP address:
/// `sctp_bindx` takes addresses, and a name could resolve to several families.
pub fn parse_extra_address(s: &str) -> Result<String, String> {
    let t = s.trim_start_matches('[').trim_end_matches(']');
    t.parse::<std::net::IpAddr>()
        .map(|_| t.to_string())
        .map_err(|_| {
            format!("'{s}' is not an IP address (extra local addresses must be literal IPs)")
        })
}

/// Parses a number of streams for `SCTPInStreams` / `SCTPOutStreams`.
pub fn parse_streams(directive: &str, s: &str) -> Result<u16, String> {
    parse_count(directive, s, 65535, "streams").map(|n| n as u16)
}

/// Parses a count from 1 to `max` for `directive`; `what` names the unit.
fn parse_count(directive: &str, s: &str, max: usize, what: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{directive}: '{s}' is not a number of {what} from 1 to {max}"
        )),
    }
}

/// Parses a size in bytes with an optional K or M suffix, within `min..=max`.
pub fn parse_size(directive: &str, s: &str, min: usize, max: usize) -> Result<usize, String> {
    let t = s.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix(['k', 'K']) {
        (n, 1usize << 10)
    } else if let Some(n) = t.strip_suffix(['m', 'M']) {
        (n, 1usize << 20)
    } else {
        (t, 1usize)
    };
    let n = num
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| {
            format!(
                "{directive}: '{s}' is not a size: write a number of bytes from {} to {}, \
                 with an optional K or M suffix (e.g. 256K, 1M)",
                human_size(min),
                human_size(max)
            )
        })?;
    if !(min..=max).contains(&n) {
        return Err(format!(
            "{directive}: {n} is outside {min}..{max} bytes ({} to {}; a number of bytes \
             with an optional K or M suffix)",
            human_size(min),
            human_size(max)
        ));
    }
    Ok(n)
}

/// A size as the size directives accept it: `16K`, `256M`, `1000`.
fn human_size(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{}M", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{}K", n >> 10)
    } else {
        n.to_string()
    }
}

/// Parses a time for the RTO and heartbeat directives: milliseconds, as
/// `300`, `300ms` or `2s`, from 1 ms to 86400 s (the kernel's bounds).
pub fn parse_millis(directive: &str, s: &str) -> Result<u32, String> {
    let t = s.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1u64)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000u64)
    } else {
        (t, 1u64)
    };
    let ms = num
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| (u64::from(MIN_TIMER_MS)..=u64::from(MAX_TIMER_MS)).contains(n));
    ms.map(|n| n as u32).ok_or_else(|| {
        format!(
            "{directive}: '{s}' is not a time from 1 ms to 86400 s: write milliseconds \
             (e.g. 200 or 200ms) or seconds (e.g. 2s)"
        )
    })
}

/// Parses a retransmission count for `SCTPPathMaxRetransmissions` /
/// `SCTPMaxRetransmissions` (the kernel keeps them in 16 bits; 0 would mean
/// "unchanged").
pub fn parse_retransmissions(directive: &str, s: &str) -> Result<u16, String> {
    parse_count(directive, s, 65535, "retransmissions").map(|n| n as u16)
}

/// What the protocol word of a `Listen` line means to mod_sctp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolWord {
    /// `sctp`, in any case: an SCTP listener.
    Sctp,
    /// One edit from `sctp` (`sctpp`, `stcp`, `scp`) or `sctp` with more
    /// (`sctp6`, `sctps`): surely meant SCTP, and core would serve TCP.
    Misspelled,
    /// Two edits from `sctp` (`tcp`, `sttp`): maybe meant SCTP.
    Doubtful,
    /// A protocol of core or another module (`http`, `https`, `h2`, ...).
    Other,
}

/// Classifies the second word of a `Listen` line.
pub fn protocol_word(word: &str) -> ProtocolWord {
    let w = word.to_ascii_lowercase();
    if w == "sctp" {
        return ProtocolWord::Sctp;
    }
    // Protocols core and common modules use; "http" and "ftp" are two edits
    // from "sctp" but are not misspellings of it.
    if matches!(w.as_str(), "http" | "https" | "ftp" | "ftps") {
        return ProtocolWord::Other;
    }
    match edit_distance(&w, "sctp") {
        _ if w.contains("sctp") => ProtocolWord::Misspelled,
        0..=1 => ProtocolWord::Misspelled,
        2 => ProtocolWord::Doubtful,
        _ => ProtocolWord::Other,
    }
}

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`
/// (optimal string alignment distance, strsim's). `a` is a directive's
/// argument: only its first 64 characters count.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: String = a.chars().take(64).collect();
    strsim::osa_distance(&a, b)
}

/// Splits a directive's argument string into words as httpd's
/// `ap_getword_conf` does for simple cases: white space separates, and
/// quotes around a word are dropped.
pub fn conf_words(args: &str) -> Vec<String> {
    args.split_whitespace()
        .map(|w| {
            w.strip_prefix('"')
                .and_then(|w| w.strip_suffix('"'))
                .or_else(|| w.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')))
                .unwrap_or(w)
                .to_string()
        })
        .collect()
}

/// httpd's `atoi`, as core reads `ListenBacklog` and `ListenCoresBucketsRatio`:
/// leading digits (with a sign), 0 when there are none.
fn atoi(s: &str) -> i32 {
    let t = s.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = digits
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .fold(0i64, |n, c| {
            (n * 10 + i64::from(c as u8 - b'0')).min(i64::from(i32::MAX))
        });
    (if neg { -n } else { n }) as i32
}

/// SCTP's failover timers and counters: apr-sctp's [`Timers`](apr_sctp::sctp::Timers).
/// In `Config::failover`, `None` is "not set by a directive"; in
/// `Config::kernel`, "not known".
pub use apr_sctp::sctp::Timers as Failover;

/// The failover settings, their directives and the `net.sctp.*` sysctls
/// that give their defaults, in one table for messages and `from_sysctls`.
pub const FAILOVER_NAMES: [(&str, &str); 6] = [
    ("SCTPRTOInitial", "rto_initial"),
    ("SCTPRTOMin", "rto_min"),
    ("SCTPRTOMax", "rto_max"),
    ("SCTPHeartbeatInterval", "hb_interval"),
    ("SCTPPathMaxRetransmissions", "path_max_retrans"),
    ("SCTPMaxRetransmissions", "association_max_retrans"),
];

/// Parses `SCTPMaxMessageSize`.
pub fn parse_message_size(s: &str) -> Result<usize, String> {
    parse_size("SCTPMaxMessageSize", s, MIN_MAX_MESSAGE, MAX_MAX_MESSAGE)
        .map_err(|e| format!("{e} (larger messages may not fit the socket send buffer)"))
}

/// Parses `SCTPMaxStreamQueue`.
pub fn parse_stream_queue(s: &str) -> Result<usize, String> {
    parse_size("SCTPMaxStreamQueue", s, MIN_QUEUE, MAX_QUEUE)
}

/// Parses `SCTPMaxAssociationQueue`.
pub fn parse_assoc_queue(s: &str) -> Result<usize, String> {
    parse_size("SCTPMaxAssociationQueue", s, MIN_QUEUE, MAX_QUEUE)
}

/// Parses `SCTPSendBuffer` or `SCTPReceiveBuffer`: 0 or a size.
pub fn parse_buffer(directive: &str, s: &str) -> Result<usize, String> {
    if s.trim() == "0" {
        return Ok(0);
    }
    parse_size(directive, s, MIN_BUFFER, MAX_BUFFER)
        .map_err(|e| format!("{e} (or 0: the kernel's default)"))
}

/// Parses `SCTPMaxConcurrentStreams`: streams of one association served at
/// once, 1 to 1024.
pub fn parse_max_concurrent(s: &str) -> Result<usize, String> {
    parse_count(
        "SCTPMaxConcurrentStreams",
        s,
        MAX_MAX_CONCURRENT,
        "streams served at once",
    )
}

/// Parses `SCTPStreamWorkers`: `auto` (None: the MPM's ThreadsPerChild,
/// resolved in the child) or 1 to 4096 threads.
pub fn parse_stream_workers(s: &str) -> Result<Option<usize>, String> {
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    parse_count("SCTPStreamWorkers", s, MAX_STREAM_WORKERS, "worker threads")
        .map(Some)
        .map_err(|e| format!("{e}, or 'auto' (ThreadsPerChild)"))
}

/// What one configuration generation says about SCTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub listeners: Vec<ListenSpec>,
    pub in_streams: u16,
    pub out_streams: u16,
    pub nodelay: bool,
    pub max_message: usize,
    /// `SCTPMaxStreamQueue`: input bytes one stream may have queued.
    pub stream_queue: usize,
    /// `SCTPMaxAssociationQueue`: input bytes all streams may have queued.
    pub assoc_queue: usize,
    /// `SCTPSendBuffer`: SO_SNDBUF of every association (0: kernel default).
    pub send_buffer: usize,
    /// `SCTPReceiveBuffer`: SO_RCVBUF of every association (0: kernel default).
    pub receive_buffer: usize,
    /// `SCTPMaxConcurrentStreams`: streams of one association served at
    /// once, each on its own secondary connection and worker thread
    /// (threaded MPMs; prefork serves an association serially).
    pub max_concurrent: usize,
    /// `SCTPStreamWorkers`: the most worker threads serving streams in one
    /// child, shared by all its associations. `None` is `auto`: the MPM's
    /// ThreadsPerChild (`ap_mpm_query(AP_MPMQ_MAX_THREADS)` at child init).
    pub stream_workers: Option<usize>,
    /// Core's `ListenBacklog`, read from the configuration tree (core
    /// keeps its value private).
    pub backlog: i32,
    /// Core's `ListenCoresBucketsRatio`, read from the configuration tree.
    pub buckets_ratio: i32,
    /// `SCTPRTO*`, `SCTPHeartbeatInterval`, `SCTP*MaxRetransmissions`.
    pub failover: Failover,
    /// The kernel's defaults for what `failover` leaves unset (`net.sctp.*`
    /// of the parent's network namespace, read at pre_config).
    pub kernel: Failover,
    /// Where each directive (by name) was last written, for messages about
    /// more than one directive.
    pub places: std::collections::BTreeMap<&'static str, Place>,
    /// Mistakes found before the directives run (in `Listen` lines read
    /// from the configuration tree); `check` reports the first.
    pub errors: Vec<String>,
    /// Doubtful lines: logged at warn by `check`'s caller.
    pub warnings: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listeners: Vec::new(),
            in_streams: DEFAULT_STREAMS,
            out_streams: DEFAULT_STREAMS,
            nodelay: true,
            max_message: DEFAULT_MAX_MESSAGE,
            stream_queue: DEFAULT_STREAM_QUEUE,
            assoc_queue: DEFAULT_ASSOC_QUEUE,
            send_buffer: DEFAULT_SEND_BUFFER,
            receive_buffer: 0,
            max_concurrent: DEFAULT_MAX_CONCURRENT,
            stream_workers: None,
            backlog: DEFAULT_BACKLOG,
            buckets_ratio: 0,
            failover: Failover::default(),
            kernel: Failover::default(),
            places: Default::default(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

impl Config {
    /// Notes where `directive` was written (the last occurrence counts, as
    /// for httpd's own directives).
    pub fn set_place(&mut self, directive: &'static str, place: Place) {
        self.places.insert(directive, place);
    }

    /// ` (line N of FILE)`, or ` (the default)` for a directive not written.
    fn at(&self, directive: &str) -> String {
        match self.places.get(directive) {
            Some(p) => format!(" ({p})"),
            None => " (the default)".to_string(),
        }
    }

    /// `Listen [addr:]port sctp` (core's directive, our protocol word).
    pub fn add_listen(&mut self, addr: &str, place: Option<Place>) -> Result<(), String> {
        let (host, port) = parse_address(addr).map_err(|e| format!("Listen: {e}"))?;
        self.add(ListenSpec {
            host,
            port,
            extra: Vec::new(),
            origin: "Listen",
            place,
        })
    }

    /// `SCTPListen [addr:]port [extra-addr ...]`.
    pub fn add_sctp_listen(&mut self, args: &[&str], place: Option<Place>) -> Result<(), String> {
        let (first, rest) = args
            .split_first()
            .ok_or("SCTPListen takes [addr:]port and optional extra local addresses")?;
        let (host, port) = parse_address(first).map_err(|e| format!("SCTPListen: {e}"))?;
        let mut extra = Vec::new();
        for a in rest {
            let a = parse_extra_address(a).map_err(|e| format!("SCTPListen: {e}"))?;
            if extra.contains(&a) || host.as_deref() == Some(a.as_str()) {
                return Err(format!("SCTPListen: address {a} is given twice"));
            }
            extra.push(a);
        }
        if host.is_none() && !extra.is_empty() {
            return Err(
                "SCTPListen: extra local addresses need a primary address; the wildcard already binds every address"
                    .into(),
            );
        }
        self.add(ListenSpec {
            host,
            port,
            extra,
            origin: "SCTPListen",
            place,
        })
    }

    fn add(&mut self, spec: ListenSpec) -> Result<(), String> {
        let clash = |a: &ListenSpec, b: &ListenSpec| {
            a.port == b.port
                && (a.host == b.host
                    || a.extra
                        .iter()
                        .any(|e| b.host.as_deref() == Some(e.as_str()))
                    || b.extra
                        .iter()
                        .any(|e| a.host.as_deref() == Some(e.as_str())))
        };
        if let Some(old) = self.listeners.iter().find(|o| clash(o, &spec)) {
            let at = old.place_note();
            return Err(format!(
                "{}: SCTP address {spec} is already configured by {} {old}{at}",
                spec.origin, old.origin
            ));
        }
        // Linux refuses a second SCTP bind on a port that a wildcard socket
        // holds, whatever the address or family (checked in the SCTP VM:
        // `::` or 0.0.0.0 beside 127.0.0.1, ::1, 0.0.0.0 or `::`), so the
        // configuration is refused here rather than at start.
        let wildcard = |l: &ListenSpec| matches!(l.host.as_deref(), None | Some("::" | "0.0.0.0"));
        if let Some(old) = self
            .listeners
            .iter()
            .find(|o| o.port == spec.port && (wildcard(o) || wildcard(&spec)))
        {
            let at = old.place_note();
            return Err(format!(
                "{}: SCTP {spec} cannot be served beside {} {old}{at}: an SCTP listener on a \
                 wildcard address takes every address of its port. Keep the wildcard, or \
                 name each address (multihoming: SCTPListen ADDR:PORT ADDR2 ...)",
                spec.origin, old.origin
            ));
        }
        self.listeners.push(spec);
        Ok(())
    }

    /// One of core's directives that mod_sctp needs to know, read from the
    /// configuration tree before the directives run (so mod_sctp registers
    /// no handler of its own for them, and `httpd -L` shows them as core's
    /// only): `Listen … sctp` (and misspellings of it), `ListenBacklog`,
    /// `ListenCoresBucketsRatio`. Core itself refuses what is malformed.
    pub fn core_directive(&mut self, name: &str, args: &str, place: Place) {
        let words = conf_words(args);
        if name.eq_ignore_ascii_case("Listen") {
            let [addr, proto] = words.as_slice() else {
                return;
            };
            match protocol_word(proto) {
                ProtocolWord::Sctp => {
                    if let Err(e) = self.add_listen(addr, Some(place.clone())) {
                        self.errors.push(format!("{e} ({place})"));
                    }
                }
                ProtocolWord::Misspelled => self.errors.push(format!(
                    "Listen {addr} {proto} ({place}): '{proto}' is not a protocol; it looks like \
                     a misspelling of 'sctp', and httpd would serve {addr} over TCP. Write \
                     'Listen {addr} sctp' for SCTP, or 'Listen {addr}' for TCP."
                )),
                ProtocolWord::Doubtful => self.warnings.push(format!(
                    "Listen {addr} {proto} ({place}): httpd serves {addr} over TCP, with '{proto}' \
                     as its protocol name. If you meant SCTP, write 'sctp'."
                )),
                ProtocolWord::Other => {}
            }
        } else if name.eq_ignore_ascii_case("ListenBacklog") {
            let n = words.first().map_or(0, |w| atoi(w));
            if n > 0 {
                self.backlog = n;
                self.set_place("ListenBacklog", place);
            }
        } else if name.eq_ignore_ascii_case("ListenCoresBucketsRatio") {
            let n = words.first().map_or(0, |w| atoi(w));
            if n > 0 {
                self.buckets_ratio = n;
                self.set_place("ListenCoresBucketsRatio", place);
            }
        }
    }

    /// The failover values sockets get: the directives', else the kernel's.
    pub fn effective_failover(&self) -> Failover {
        self.failover.or(&self.kernel)
    }

    /// Checks that hold for the whole configuration, run once it is read
    /// (so `apachectl -t` reports them). Each message names the directives
    /// involved and where they were written.
    pub fn check(&self) -> Result<(), String> {
        if let Some(e) = self.errors.first() {
            return Err(e.clone());
        }
        if let Some(l) = self.listeners.first().filter(|_| self.buckets_ratio > 0) {
            let at = l.place_note();
            return Err(format!(
                "ListenCoresBucketsRatio {}{} cannot be used with SCTP listeners ({} {l}{at}): \
                 httpd would duplicate them as TCP sockets. Remove ListenCoresBucketsRatio or set it to 0.",
                self.buckets_ratio,
                self.at("ListenCoresBucketsRatio"),
                l.origin
            ));
        }
        if self.out_streams < self.in_streams {
            return Err(format!(
                "SCTPOutStreams {}{} is below SCTPInStreams {}{}: each response goes on its \
                 request's stream, so requests on streams {} and above could not be answered. \
                 Set SCTPOutStreams to at least {}.",
                self.out_streams,
                self.at("SCTPOutStreams"),
                self.in_streams,
                self.at("SCTPInStreams"),
                self.out_streams,
                self.in_streams
            ));
        }
        if self.assoc_queue < self.stream_queue {
            return Err(format!(
                "SCTPMaxAssociationQueue {} bytes{} is smaller than SCTPMaxStreamQueue {} bytes{}: \
                 the association's queue holds every stream's",
                self.assoc_queue,
                self.at("SCTPMaxAssociationQueue"),
                self.stream_queue,
                self.at("SCTPMaxStreamQueue")
            ));
        }
        if self.send_buffer != 0 && self.send_buffer < self.max_message {
            return Err(format!(
                "SCTPSendBuffer {} bytes{} is smaller than SCTPMaxMessageSize {} bytes{}: \
                 a message must fit the send buffer whole",
                self.send_buffer,
                self.at("SCTPSendBuffer"),
                self.max_message,
                self.at("SCTPMaxMessageSize")
            ));
        }
        self.check_failover()
    }

    /// `SCTPRTOMin` <= `SCTPRTOInitial` <= `SCTPRTOMax`, and
    /// `SCTPPathMaxRetransmissions` <= `SCTPMaxRetransmissions`, each with
    /// the kernel's default in place of an unset directive. Pairs where
    /// neither is set are the kernel's business.
    fn check_failover(&self) -> Result<(), String> {
        let set = &self.failover;
        let eff = self.effective_failover();
        let describe = |directive: &str, sysctl: &str, configured: bool, v: u64, unit: &str| {
            if configured {
                format!("{directive} {v}{unit}{}", self.at(directive))
            } else {
                format!("{directive} (unset: the kernel's net.sctp.{sysctl}, {v}{unit})")
            }
        };
        let order = [
            (
                FAILOVER_NAMES[1],
                FAILOVER_NAMES[2],
                set.rto_min,
                set.rto_max,
                eff.rto_min,
                eff.rto_max,
            ),
            (
                FAILOVER_NAMES[1],
                FAILOVER_NAMES[0],
                set.rto_min,
                set.rto_initial,
                eff.rto_min,
                eff.rto_initial,
            ),
            (
                FAILOVER_NAMES[0],
                FAILOVER_NAMES[2],
                set.rto_initial,
                set.rto_max,
                eff.rto_initial,
                eff.rto_max,
            ),
        ];
        for ((ld, ls), (hd, hs), lo_set, hi_set, lo, hi) in order {
            if let (Some(lo), Some(hi)) = (lo, hi) {
                if (lo_set.is_some() || hi_set.is_some()) && lo > hi {
                    return Err(format!(
                        "{} is above {}: the retransmission timeout must satisfy \
                         SCTPRTOMin <= SCTPRTOInitial <= SCTPRTOMax",
                        describe(ld, ls, lo_set.is_some(), lo.into(), " ms"),
                        describe(hd, hs, hi_set.is_some(), hi.into(), " ms")
                    ));
                }
            }
        }
        if let (Some(path), Some(assoc)) = (eff.path_max_retrans, eff.assoc_max_retrans) {
            if (set.path_max_retrans.is_some() || set.assoc_max_retrans.is_some()) && path > assoc {
                let (pd, ps) = FAILOVER_NAMES[4];
                let (ad, as_) = FAILOVER_NAMES[5];
                return Err(format!(
                    "{} is above {}: the association would be given up before a failed path \
                     is, so it would never fail over to another path",
                    describe(pd, ps, set.path_max_retrans.is_some(), path.into(), ""),
                    describe(ad, as_, set.assoc_max_retrans.is_some(), assoc.into(), "")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_like_httpd_listen() {
        assert_eq!(parse_address("80"), Ok((None, 80)));
        assert_eq!(
            parse_address("127.0.0.1:8080"),
            Ok((Some("127.0.0.1".into()), 8080))
        );
        assert_eq!(parse_address("[::1]:443"), Ok((Some("::1".into()), 443)));
        assert_eq!(
            parse_address("localhost:81"),
            Ok((Some("localhost".into()), 81))
        );
        assert!(parse_address("0").is_err());
        assert!(parse_address("65536").is_err());
        assert!(parse_address("host:").is_err());
        assert!(parse_address(":80").is_err());
        assert!(parse_address("::1:80").is_err());
        assert!(parse_address("[::1]").is_err());
        assert!(parse_address("[nothex]:80").is_err());
        assert!(parse_address("").is_err());
    }

    #[test]
    fn numbers_are_bounded() {
        assert_eq!(parse_streams("SCTPInStreams", "1"), Ok(1));
        assert_eq!(parse_streams("SCTPInStreams", "65535"), Ok(65535));
        let e = parse_streams("SCTPInStreams", "0").unwrap_err();
        assert!(
            e.contains("SCTPInStreams") && e.contains("1 to 65535"),
            "{e}"
        );
        assert!(parse_streams("SCTPOutStreams", "65536").is_err());
        assert!(parse_streams("SCTPOutStreams", "ten").is_err());
        assert_eq!(parse_message_size("65536"), Ok(65536));
        assert_eq!(parse_message_size("16k"), Ok(16384));
        assert!(parse_message_size("512").is_err());
        assert!(parse_message_size("1000000").is_err());
        assert!(parse_message_size("99999999999999999999k").is_err());
        assert_eq!(parse_stream_queue("1M"), Ok(1 << 20));
        assert_eq!(parse_assoc_queue("64k"), Ok(65536));
        let e = parse_stream_queue("1000").unwrap_err();
        assert!(e.starts_with("SCTPMaxStreamQueue: 1000 is outside"), "{e}");
        assert!(parse_assoc_queue("1G").is_err());
    }

    #[test]
    fn concurrency_values() {
        let c = Config::default();
        assert_eq!(c.max_concurrent, 8);
        assert_eq!(c.max_concurrent, crate::session::DEFAULT_MAX_CONCURRENT);
        assert_eq!(c.stream_workers, None, "auto by default");
        assert_eq!(parse_max_concurrent("1"), Ok(1));
        assert_eq!(parse_max_concurrent(" 32 "), Ok(32));
        assert_eq!(parse_max_concurrent("1024"), Ok(1024));
        for bad in [
            "0",
            "1025",
            "-1",
            "many",
            "8k",
            "",
            "4.5",
            "99999999999999999999999",
        ] {
            let e = parse_max_concurrent(bad).unwrap_err();
            assert_eq!(
                e,
                format!(
                    "SCTPMaxConcurrentStreams: '{bad}' is not a number of streams served at \
                     once from 1 to 1024"
                )
            );
        }
        for auto in ["auto", "AUTO", "Auto"] {
            assert_eq!(parse_stream_workers(auto), Ok(None), "{auto}");
        }
        assert_eq!(parse_stream_workers("1"), Ok(Some(1)));
        assert_eq!(parse_stream_workers("4096"), Ok(Some(4096)));
        for bad in ["0", "4097", "-4", "automatic", "", "lots"] {
            let e = parse_stream_workers(bad).unwrap_err();
            assert_eq!(
                e,
                format!(
                    "SCTPStreamWorkers: '{bad}' is not a number of worker threads from 1 to \
                     4096, or 'auto' (ThreadsPerChild)"
                )
            );
        }
    }

    #[test]
    fn association_queue_holds_a_stream_queue() {
        let mut c = Config::default();
        assert!(c.check().is_ok());
        c.stream_queue = 2 << 20;
        let e = c.check().unwrap_err();
        assert!(e.contains("SCTPMaxAssociationQueue"), "{e}");
        c.assoc_queue = 2 << 20;
        assert!(c.check().is_ok());
    }

    #[test]
    fn duplicate_listeners_are_refused() {
        let mut c = Config::default();
        c.add_listen("127.0.0.1:80", None).unwrap();
        let e = c.add_sctp_listen(&["127.0.0.1:80"], None).unwrap_err();
        assert!(e.contains("already configured by Listen"), "{e}");
        c.add_sctp_listen(&["127.0.0.2:80", "10.0.0.1"], None)
            .unwrap();
        let e = c.add_listen("10.0.0.1:80", None).unwrap_err();
        assert!(e.contains("already configured by SCTPListen"), "{e}");
        c.add_listen("10.0.0.1:81", None).unwrap();
        assert_eq!(c.listeners.len(), 3);
    }

    #[test]
    fn a_wildcard_takes_its_whole_port() {
        for (a, b) in [
            ("80", "127.0.0.1:80"),
            ("127.0.0.1:80", "80"),
            ("[::]:80", "0.0.0.0:80"),
            ("0.0.0.0:80", "[::1]:80"),
            ("[::1]:80", "80"),
        ] {
            let mut c = Config::default();
            c.add_sctp_listen(&[a], None).unwrap();
            let e = c.add_listen(b, None).unwrap_err();
            assert!(
                e.contains("takes every address of its port"),
                "{a} {b}: {e}"
            );
        }
        let mut c = Config::default();
        c.add_sctp_listen(&["80"], None).unwrap();
        c.add_listen("127.0.0.1:81", None).unwrap();
        c.add_sctp_listen(&["127.0.0.2:81", "127.0.0.3"], None)
            .unwrap();
    }

    #[test]
    fn extra_addresses_are_literal_and_distinct() {
        let mut c = Config::default();
        assert!(c
            .add_sctp_listen(&["127.0.0.1:80", "example.org"], None)
            .is_err());
        assert!(c
            .add_sctp_listen(&["127.0.0.1:80", "127.0.0.2", "127.0.0.2"], None)
            .is_err());
        assert!(c
            .add_sctp_listen(&["127.0.0.1:80", "127.0.0.1"], None)
            .is_err());
        assert!(c.add_sctp_listen(&["80", "127.0.0.2"], None).is_err());
        assert!(c.add_sctp_listen(&[], None).is_err());
        c.add_sctp_listen(&["127.0.0.1:80", "[::1]"], None).unwrap();
        assert_eq!(c.listeners[0].extra, vec!["::1".to_string()]);
        assert_eq!(c.listeners[0].key(), "127.0.0.1:80");
    }

    #[test]
    fn buckets_ratio_refused_only_with_sctp() {
        let mut c = Config {
            buckets_ratio: 2,
            ..Config::default()
        };
        assert!(c.check().is_ok());
        c.add_listen("80", None).unwrap();
        let e = c.check().unwrap_err();
        assert!(e.contains("ListenCoresBucketsRatio 2"), "{e}");
    }

    #[test]
    fn buffers() {
        assert_eq!(parse_buffer("SCTPSendBuffer", "0"), Ok(0));
        assert_eq!(parse_buffer("SCTPSendBuffer", "2M"), Ok(2 << 20));
        assert!(parse_buffer("SCTPSendBuffer", "1K")
            .unwrap_err()
            .contains("or 0"));
        assert!(parse_buffer("SCTPReceiveBuffer", "65M").is_err());
        let mut c = Config::default();
        assert_eq!(c.send_buffer, 1 << 20);
        c.send_buffer = 16 * 1024;
        assert!(c.check().unwrap_err().contains("SCTPMaxMessageSize"));
        c.send_buffer = 0;
        assert!(c.check().is_ok());
    }

    fn here(line: u32) -> Place {
        Place {
            file: "/etc/apache2/x.conf".into(),
            line,
        }
    }

    #[test]
    fn protocol_words() {
        for w in ["sctp", "SCTP", "Sctp"] {
            assert_eq!(protocol_word(w), ProtocolWord::Sctp, "{w}");
        }
        for w in [
            "sctpp", "stcp", "scpt", "scp", "sttp", "sct", "sctq", "sctp6", "SCTP4", "sctps",
            "xsctp", "SCTPP",
        ] {
            assert_eq!(protocol_word(w), ProtocolWord::Misspelled, "{w}");
        }
        for w in ["tcp", "sc", "stcpx"] {
            assert_eq!(protocol_word(w), ProtocolWord::Doubtful, "{w}");
        }
        for w in ["http", "https", "HTTP", "ftp", "h2", "h2c", "udp", "acme"] {
            assert_eq!(protocol_word(w), ProtocolWord::Other, "{w}");
        }
        assert_eq!(edit_distance(&"s".repeat(1000), "sctp"), 63);
    }

    #[test]
    fn listen_lines_from_the_tree() {
        let mut c = Config::default();
        c.core_directive("Listen", "127.0.0.1:80 sctp", here(3));
        c.core_directive("listen", "\"8080\"", here(4));
        c.core_directive("Listen", "8081 http", here(5));
        assert_eq!(c.listeners.len(), 1);
        assert_eq!(c.listeners[0].place, Some(here(3)));
        assert!(c.check().is_ok());
        c.core_directive("Listen", "8082 tcp", here(6));
        assert!(c.check().is_ok());
        assert!(
            c.warnings[0].contains("line 6 of /etc/apache2/x.conf"),
            "{:?}",
            c.warnings
        );
        c.core_directive("Listen", "8080 sctpp", here(7));
        let e = c.check().unwrap_err();
        assert!(
            e.contains("line 7 of /etc/apache2/x.conf") && e.contains("misspelling of 'sctp'"),
            "{e}"
        );
        assert_eq!(c.listeners.len(), 1);
        // SCTPListen after a Listen … sctp names the Listen's line.
        let e = c
            .add_sctp_listen(&["127.0.0.1:80"], Some(here(9)))
            .unwrap_err();
        assert!(
            e.contains("already configured by Listen 127.0.0.1:80 (line 3 of"),
            "{e}"
        );
    }

    #[test]
    fn core_numbers_from_the_tree() {
        let mut c = Config::default();
        c.core_directive("ListenBacklog", "100", here(2));
        c.core_directive("ListenBacklog", "0", here(3));
        assert_eq!(c.backlog, 100);
        c.core_directive("ListenCoresBucketsRatio", "2", here(4));
        assert_eq!(c.buckets_ratio, 2);
        c.core_directive("Listen", "8080 SCTP", here(5));
        let e = c.check().unwrap_err();
        assert!(
            e.contains("ListenCoresBucketsRatio 2 (line 4 of")
                && e.contains("Listen *:8080 (line 5 of"),
            "{e}"
        );
        assert_eq!(atoi(" 12ab"), 12);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(atoi("x"), 0);
        assert_eq!(atoi("99999999999999"), i32::MAX);
    }

    #[test]
    fn out_streams_at_least_in_streams() {
        let mut c = Config {
            in_streams: 32,
            ..Config::default()
        };
        c.set_place("SCTPInStreams", here(8));
        let e = c.check().unwrap_err();
        assert!(
            e.contains("SCTPOutStreams 16 (the default) is below SCTPInStreams 32 (line 8 of /etc/apache2/x.conf)"),
            "{e}"
        );
        c.out_streams = 32;
        assert!(c.check().is_ok());
    }

    #[test]
    fn cross_checks_name_places() {
        let mut c = Config {
            stream_queue: 2 << 20,
            ..Config::default()
        };
        c.set_place("SCTPMaxStreamQueue", here(11));
        let e = c.check().unwrap_err();
        assert!(
            e.contains("SCTPMaxAssociationQueue 1048576 bytes (the default) is smaller than SCTPMaxStreamQueue 2097152 bytes (line 11 of /etc/apache2/x.conf)"),
            "{e}"
        );
    }

    #[test]
    fn size_errors_name_suffixes_and_range() {
        let e = parse_stream_queue("12G").unwrap_err();
        assert!(
            e.contains("16K to 256M") && e.contains("K or M suffix"),
            "{e}"
        );
        let e = parse_stream_queue("1000").unwrap_err();
        assert!(
            e.contains("16K to 256M") && e.contains("K or M suffix"),
            "{e}"
        );
        let e = parse_message_size("1000").unwrap_err();
        assert!(e.contains("1K to 128K"), "{e}");
    }

    #[test]
    fn failover_values() {
        assert_eq!(parse_millis("SCTPRTOMin", "200"), Ok(200));
        assert_eq!(parse_millis("SCTPRTOMin", "200ms"), Ok(200));
        assert_eq!(parse_millis("SCTPRTOMin", "2s"), Ok(2000));
        assert_eq!(parse_millis("SCTPRTOMin", "86400s"), Ok(86_400_000));
        for bad in ["0", "86401s", "-1", "1.5s", "fast", ""] {
            let e = parse_millis("SCTPRTOMin", bad).unwrap_err();
            assert!(
                e.contains("SCTPRTOMin") && e.contains("1 ms to 86400 s"),
                "{e}"
            );
        }
        assert_eq!(
            parse_retransmissions("SCTPMaxRetransmissions", "10"),
            Ok(10)
        );
        assert!(parse_retransmissions("SCTPMaxRetransmissions", "0").is_err());
        assert!(parse_retransmissions("SCTPMaxRetransmissions", "65536").is_err());
    }

    #[test]
    fn failover_order() {
        let kernel = Failover::from_sysctls(|name| {
            Some(
                match name {
                    "rto_initial" => "3000\n",
                    "rto_min" => "1000\n",
                    "rto_max" => "60000\n",
                    "hb_interval" => "30000\n",
                    "path_max_retrans" => "5\n",
                    "association_max_retrans" => "10\n",
                    _ => return None,
                }
                .to_string(),
            )
        });
        assert_eq!(kernel.rto_initial, Some(3000));
        assert_eq!(kernel.assoc_max_retrans, Some(10));
        let mut c = Config {
            kernel,
            ..Config::default()
        };
        assert!(c.check().is_ok());
        // Small RTOs, all three given: fine.
        c.failover.rto_min = Some(100);
        c.failover.rto_initial = Some(300);
        c.failover.rto_max = Some(1000);
        assert!(c.check().is_ok());
        c.failover.rto_initial = Some(2000);
        c.set_place("SCTPRTOInitial", here(4));
        let e = c.check().unwrap_err();
        assert!(e.contains("SCTPRTOInitial 2000 ms (line 4 of /etc/apache2/x.conf) is above SCTPRTOMax 1000 ms (the default)"), "{e}");
        // Only SCTPRTOMax, below the kernel's rto_min.
        c.failover = Failover {
            rto_max: Some(500),
            ..Failover::default()
        };
        let e = c.check().unwrap_err();
        assert!(e.contains("SCTPRTOMin (unset: the kernel's net.sctp.rto_min, 1000 ms) is above SCTPRTOMax 500 ms"), "{e}");
        // The kernel's defaults alone are not ours to refuse.
        c.failover = Failover::default();
        c.kernel.rto_min = Some(90000);
        assert!(c.check().is_ok());
        // Retransmissions.
        c.kernel = kernel;
        c.failover.path_max_retrans = Some(11);
        let e = c.check().unwrap_err();
        assert!(e.contains("SCTPPathMaxRetransmissions 11 (the default) is above SCTPMaxRetransmissions (unset: the kernel's net.sctp.association_max_retrans, 10)"), "{e}");
        c.failover.assoc_max_retrans = Some(20);
        assert!(c.check().is_ok());
        assert_eq!(c.effective_failover().hb_interval, Some(30000));
        // The kernel's defaults: 1+2+4+8+16+32 s; short timers: 0.1+0.2 s.
        assert_eq!(kernel.path_failure_ms(), Some(63_000));
        let short = Failover {
            rto_min: Some(100),
            rto_max: Some(1000),
            path_max_retrans: Some(1),
            ..Failover::default()
        };
        assert_eq!(short.path_failure_ms(), Some(300));
        let capped = Failover {
            path_max_retrans: Some(5),
            ..short
        };
        assert_eq!(
            capped.path_failure_ms(),
            Some(100 + 200 + 400 + 800 + 1000 + 1000)
        );
        assert_eq!(Failover::default().path_failure_ms(), None);
        assert_eq!(c.effective_failover().path_max_retrans, Some(11));
        // Unknown kernel defaults: only what is set is compared.
        c.kernel = Failover::default();
        c.failover = Failover {
            rto_max: Some(500),
            ..Failover::default()
        };
        assert!(c.check().is_ok());
    }
}
