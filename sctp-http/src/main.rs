//! `sctp-http`: fetch URLs over one SCTP association (or several), each
//! request on its own stream (see README.md). Exit codes follow curl's.

use apr_sctp::sctp::{self, Domain, InitMsg, SctpSocket, SndInfo};
use sctp_http::plan::Plan;
use sctp_http::raw::{RawOpts, Step};
use sctp_http::response::{Event, StreamParser};
use sctp_http::url::Url;
use std::fs::File;
use std::io::{IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

mod load;
use load::bench;

const PPID_HTTP: u32 = 63;

const USAGE: &str = "usage:
  sctp-http get [options] URL...
      --streams N      streams to use per association (default: all
                       negotiated, at most 16)
      --depth N        requests outstanding at once per association (default 16)
      --associations N N associations to the server, set up at once, browser
                       style: the next URL goes to the association with the
                       fewest requests outstanding (the lowest among equals:
                       sent at once, they take turns), round robin over its
                       streams; every time counts from the start of the fetch
      --sack-freq N    SCTP_DELAYED_SACK on the client's sockets: acknowledge
                       every Nth packet (1: every packet, delayed SACK off;
                       the kernel's default is 2)
      -v               say what each association was set up with (streams,
                       SCTP_DELAYED_SACK as the kernel reports it) on stderr
      --local ADDR     bind this local address too (repeatable; multihoming)
      --tcp            the same over one TCP connection (HTTP/1.1 pipelining)
      --connections N  with --tcp: N connections, opened at once, one request
                       at a time on each, the next URL to the first free one
                       (browser style)
      --timeout SECS   connect and idle timeout (default 30)
      -H 'Name: value' extra request header (repeatable)
      -o FILE|-        where the body goes (one URL only; -o /dev/null: any number)
      --json           one JSON object per URL on stdout (over SCTP with its
                       association's index), then a summary
      -f, --fail       exit 22 when a status is 400 or more
      -q               no per-object lines on stderr
  sctp-http raw [--streams N] [--wait-ms MS] [--abort-after-ms MS]
                [--send SID:TEXT | --pause MS]... HOST:PORT
      sends each TEXT (escapes \\r \\n \\\\ \\xHH) as one SCTP message on stream
      SID; --pause MS waits between sends (steps run in the order given);
      prints every message received, as it arrives, as a JSON line with
      t_ms (milliseconds since the association was set up); then receives
      for --wait-ms (default 2000), or with --abort-after-ms ends the
      association with an ABORT that long after the last send
  sctp-http bench [options] URL
      load mode: each connection sends one request at a time, keep-alive
      -c N             connections (associations), each its own thread (default 16)
      -n N             requests in all (default 10000), or
      -d SECS          for this long instead
      --tcp            TCP connections instead of SCTP associations
      --streams N      streams each association uses, round robin (default 16)
      --hold SECS      then keep the connections open and idle this long
      --json           the summary as one JSON object on stdout";

/// A failure with curl's exit code.
struct Fail(u8, String);

fn fail<T>(code: u8, msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail(code, msg.into()))
}

fn main() -> ExitCode {
    // Output piped into `head` ends quietly, as with other command-line
    // tools (Rust ignores SIGPIPE, and println! would panic). Sockets are
    // unaffected: SCTP sends and std's TCP writes use MSG_NOSIGNAL.
    // SAFETY: restoring a default signal disposition at start-up.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("get") => get(&args[1..]),
        Some("raw") => raw(&args[1..]),
        Some("bench") => bench(&args[1..]),
        _ => fail(2, USAGE),
    };
    match r {
        Ok(code) => ExitCode::from(code),
        Err(Fail(code, msg)) => {
            eprintln!("sctp-http: {msg}");
            ExitCode::from(code)
        }
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

struct Opts {
    urls: Vec<Url>,
    streams: Option<u16>,
    depth: usize,
    associations: usize,
    sack_freq: Option<u32>,
    verbose: bool,
    local: Vec<String>,
    tcp: bool,
    connections: u16,
    timeout: Duration,
    headers: Vec<String>,
    output: Option<String>,
    json: bool,
    fail_on_error: bool,
    quiet: bool,
}

fn value<'a>(it: &mut impl Iterator<Item = &'a String>, name: &str) -> Result<&'a str, Fail> {
    it.next()
        .map(String::as_str)
        .ok_or_else(|| Fail(2, format!("{name} needs a value\n{USAGE}")))
}

fn number<T: std::str::FromStr>(v: &str, name: &str) -> Result<T, Fail> {
    v.parse()
        .map_err(|_| Fail(2, format!("{name}: '{v}' is not a number")))
}

fn parse_get(args: &[String]) -> Result<Opts, Fail> {
    let mut o = Opts {
        urls: Vec::new(),
        streams: None,
        depth: 16,
        associations: 1,
        sack_freq: None,
        verbose: false,
        local: Vec::new(),
        tcp: false,
        connections: 1,
        timeout: Duration::from_secs(30),
        headers: Vec::new(),
        output: None,
        json: false,
        fail_on_error: false,
        quiet: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--streams" => o.streams = Some(number(value(&mut it, a)?, a)?),
            "--depth" => o.depth = number(value(&mut it, a)?, a)?,
            "--associations" => o.associations = number(value(&mut it, a)?, a)?,
            "--sack-freq" => o.sack_freq = Some(number(value(&mut it, a)?, a)?),
            "-v" => o.verbose = true,
            "--local" => o.local.push(value(&mut it, a)?.to_string()),
            "--tcp" => o.tcp = true,
            "--connections" => o.connections = number(value(&mut it, a)?, a)?,
            "--timeout" => o.timeout = Duration::from_secs_f64(number(value(&mut it, a)?, a)?),
            "-H" => o.headers.push(value(&mut it, a)?.to_string()),
            "-o" => o.output = Some(value(&mut it, a)?.to_string()),
            "--json" => o.json = true,
            "-f" | "--fail" => o.fail_on_error = true,
            "-q" => o.quiet = true,
            s if s.starts_with('-') => return fail(2, format!("unknown option {s}\n{USAGE}")),
            u => o.urls.push(Url::parse(u).map_err(|e| Fail(3, e))?),
        }
    }
    if o.urls.is_empty() {
        return fail(2, USAGE);
    }
    if o.output.is_some() && o.urls.len() > 1 && o.output.as_deref() != Some("/dev/null") {
        return fail(2, "-o takes one URL (or /dev/null: discard every body)");
    }
    if o.depth == 0
        || o.streams == Some(0)
        || o.connections == 0
        || o.associations == 0
        || o.sack_freq == Some(0)
    {
        return fail(
            2,
            "--depth, --streams, --connections, --associations and --sack-freq must be at least 1",
        );
    }
    if o.connections > 1 && !o.tcp {
        return fail(2, "--connections is for --tcp (SCTP: --associations)");
    }
    if o.tcp && (o.associations > 1 || o.sack_freq.is_some()) {
        return fail(
            2,
            "--associations and --sack-freq are for SCTP (TCP: --connections)",
        );
    }
    // More associations than URLs would stay idle.
    o.associations = o.associations.min(o.urls.len());
    let first = (&o.urls[0].host, o.urls[0].port);
    if o.urls.iter().any(|u| (&u.host, u.port) != first) {
        return fail(
            2,
            "all URLs must name the same host and port (one association)",
        );
    }
    Ok(o)
}

/// What happened to one URL.
struct Job {
    url: Url,
    /// Its slot in the plan: association and stream (a TCP connection).
    slot: usize,
    sent: Option<Instant>,
    first: Option<Instant>,
    last: Option<Instant>,
    status: Option<u16>,
    bytes: u64,
    file: Option<String>,
    sink: Option<Box<dyn Write>>,
    error: Option<String>,
}

/// Reads and writes HTTP messages on slots: the streams of one SCTP
/// association, of several (slot = association × streams per association
/// + stream), or TCP connections (connection i is slot i).
enum Conn {
    Sctp(SctpSocket),
    /// Associations, the streams each uses, the timeout, and the
    /// association to look at first when several have data (they take
    /// turns).
    Assocs(Vec<SctpSocket>, usize, Duration, usize),
    Tcp(Vec<TcpStream>, Duration),
}

fn send_on(s: &SctpSocket, sid: u16, data: &[u8]) -> std::io::Result<()> {
    let info = SndInfo {
        sid,
        flags: 0,
        ppid: PPID_HTTP,
        context: 0,
    };
    sctp::send_msg(s.as_fd(), &[IoSlice::new(data)], Some(&info), 0)
        .map(|_| ())
        .map_err(|e| std::io::Error::from_raw_os_error(e.errno))
}

/// The next data message's stream and length on `s` (notifications skipped).
fn recv_on(s: &SctpSocket, buf: &mut [u8]) -> std::io::Result<(u16, usize)> {
    loop {
        let r = sctp::recv_msg(s.as_fd(), buf, 0)
            .map_err(|e| std::io::Error::from_raw_os_error(e.errno))?;
        if r.notification {
            continue;
        }
        return Ok((r.info.map_or(0, |i| i.sid), r.len));
    }
}

impl Conn {
    fn send(&mut self, slot: usize, data: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Sctp(s) => send_on(s, slot as u16, data),
            Conn::Assocs(a, per, ..) => send_on(&a[slot / *per], (slot % *per) as u16, data),
            Conn::Tcp(t, _) => t[slot].write_all(data),
        }
    }

    /// Some bytes and their slot; zero bytes at an end.
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<(usize, usize)> {
        match self {
            Conn::Sctp(s) => recv_on(s, buf).map(|(sid, n)| (sid as usize, n)),
            Conn::Assocs(a, per, timeout, next) => loop {
                let i = readable(a.iter().map(|s| s.as_fd()), *next, *timeout)?;
                *next = (i + 1) % a.len();
                let r = sctp::recv_msg(a[i].as_fd(), buf, 0)
                    .map_err(|e| std::io::Error::from_raw_os_error(e.errno))?;
                if !r.notification {
                    return Ok((i * *per + r.info.map_or(0, |i| i.sid) as usize, r.len));
                }
            },
            Conn::Tcp(t, _) if t.len() == 1 => t[0].read(buf).map(|n| (0, n)),
            Conn::Tcp(t, timeout) => {
                let i = readable(t.iter().map(|c| c.as_fd()), 0, *timeout)?;
                t[i].read(buf).map(|n| (i, n))
            }
        }
    }
}

/// The first of `fds`, from index `from` on and round, with something to
/// read (or an end).
fn readable<'a>(
    fds: impl Iterator<Item = std::os::fd::BorrowedFd<'a>>,
    from: usize,
    timeout: Duration,
) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let mut fds: Vec<libc::pollfd> = fds
        .map(|c| libc::pollfd {
            fd: c.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: fds is a live, correctly sized array of pollfd for the call.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    let n = fds.len();
    match r {
        0 => Err(std::io::ErrorKind::TimedOut.into()),
        r if r < 0 => Err(std::io::Error::last_os_error()),
        _ => Ok((0..n)
            .map(|k| (from + k) % n)
            .find(|&i| fds[i].revents != 0)
            .unwrap_or(0)),
    }
}

fn resolve(u: &Url) -> Result<Vec<SocketAddr>, Fail> {
    match (u.host.as_str(), u.port).to_socket_addrs() {
        Ok(a) => {
            let v: Vec<_> = a.collect();
            if v.is_empty() {
                fail(6, format!("could not resolve host {}", u.host))
            } else {
                Ok(v)
            }
        }
        Err(e) => fail(6, format!("could not resolve host {}: {e}", u.host)),
    }
}

/// An SCTP socket for `peer` offering `streams` streams each way, with the
/// stream of each received message reported.
fn sctp_socket(peer: &SocketAddr, streams: u16) -> Result<SctpSocket, Fail> {
    let s = SctpSocket::new(Domain::of(peer)).map_err(|e| Fail(7, format!("SCTP socket: {e}")))?;
    sctp::set_initmsg(
        s.as_fd(),
        &InitMsg {
            num_ostreams: streams,
            max_instreams: streams,
            ..Default::default()
        },
    )
    .map_err(|e| Fail(7, e.to_string()))?;
    sctp::set_recvrcvinfo(s.as_fd(), true).map_err(|e| Fail(7, e.to_string()))?;
    // Requests go out at once, as with TCP_NODELAY: with SCTP's Nagle the
    // second and later pipelined requests waited for a SACK (a round trip).
    sctp::set_nodelay(s.as_fd(), true).map_err(|e| Fail(7, e.to_string()))?;
    Ok(s)
}

/// The client's SCTP socket for `peer` (not yet connected): `want`
/// streams, the receive buffer, the timeouts, `--local` and `--sack-freq`.
fn client_socket(o: &Opts, peer: &SocketAddr, want: u16) -> Result<SctpSocket, Fail> {
    let s = sctp_socket(peer, want)?;
    let sock = socket2::SockRef::from(&s);
    // A large receive window: see tests/README.md "Throughput in the VM".
    sock.set_recv_buffer_size(4 << 20).ok();
    sock.set_read_timeout(Some(o.timeout)).ok();
    sock.set_write_timeout(Some(o.timeout)).ok();
    if let Some(freq) = o.sack_freq {
        // Before the association exists: it starts with these values.
        sctp::set_delayed_sack(s.as_fd(), 0, freq)
            .map_err(|e| Fail(7, format!("--sack-freq {freq}: {e}")))?;
    }
    if !o.local.is_empty() {
        let mut locals = Vec::new();
        for l in &o.local {
            let ip: std::net::IpAddr = l
                .parse()
                .map_err(|_| Fail(2, format!("--local {l}: not an IP address")))?;
            locals.push(SocketAddr::new(ip, 0));
        }
        s.bind(&locals[0])
            .map_err(|e| Fail(7, format!("bind {}: {e}", locals[0])))?;
        let port = s.local_addr().map(|a| a.port()).unwrap_or(0);
        let rest: Vec<_> = locals[1..]
            .iter()
            .map(|a| SocketAddr::new(a.ip(), port))
            .collect();
        if !rest.is_empty() {
            sctp::bindx_add(s.as_fd(), &rest).map_err(|e| Fail(7, format!("bindx: {e}")))?;
        }
    }
    Ok(s)
}

/// Connects. Over SCTP, `firsts` holds the first request of each
/// association (URL i for association i, on stream 0); with a single
/// address each travels with its association's handshake, all
/// associations are set up at once, and the third value says when each
/// request went out.
fn connect(o: &Opts, firsts: &[String]) -> Result<(Conn, u16, Vec<Option<Instant>>), Fail> {
    let addrs = resolve(&o.urls[0])?;
    let to_fail = |a: &SocketAddr, e: &dyn std::fmt::Display| {
        let timed_out = e.to_string().contains("timed out");
        Fail(
            if timed_out { 28 } else { 7 },
            format!("failed to connect to {a}: {e}"),
        )
    };
    if o.tcp {
        let a = addrs[0];
        let conns = if o.connections == 1 {
            vec![TcpStream::connect_timeout(&a, o.timeout).map_err(|e| to_fail(&a, &e))?]
        } else {
            tcp_connect_all(&a, o.connections, o.timeout).map_err(|e| to_fail(&a, &e))?
        };
        for t in &conns {
            t.set_read_timeout(Some(o.timeout)).ok();
            t.set_nodelay(true).ok();
        }
        return Ok((Conn::Tcp(conns, o.timeout), o.connections, Vec::new()));
    }
    let a = addrs[0];
    let want = o.streams.unwrap_or(16);
    let mut socks = Vec::new();
    for _ in 0..o.associations {
        socks.push(client_socket(o, &a, want)?);
    }
    let mut early = vec![None; socks.len()];
    let mut streams = want;
    if let [to] = addrs.as_slice() {
        for ((s, req), t) in socks.iter().zip(firsts).zip(early.iter_mut()) {
            start_with(s, to, req.as_bytes())?;
            *t = Some(Instant::now());
        }
        for s in &socks {
            streams = streams.min(await_up(s, to, o.timeout)?);
        }
    } else {
        for s in &socks {
            s.connectx(&addrs).map_err(|e| to_fail(&a, &e))?;
            let st = sctp::status(s.as_fd()).map_err(|e| Fail(7, format!("SCTP_STATUS: {e}")))?;
            streams = streams.min(st.outstrms.min(st.instrms));
        }
    }
    let streams = streams.max(1);
    if o.verbose {
        for (i, s) in socks.iter().enumerate() {
            let sack = match sctp::delayed_sack(s.as_fd()) {
                Ok((delay, freq)) => format!("delay {delay} ms, every {freq} packet(s)"),
                Err(e) => e.to_string(),
            };
            eprintln!(
                "sctp-http: association {i}: {streams} streams used, SCTP_DELAYED_SACK {sack}"
            );
        }
    }
    let conn = match socks.len() {
        1 => Conn::Sctp(socks.remove(0)),
        _ => Conn::Assocs(socks, streams as usize, o.timeout, 0),
    };
    Ok((conn, streams, early))
}

/// `n` TCP connections to `a`, their handshakes at once (as a browser opens
/// its connections): every connect is started before any is waited for.
fn tcp_connect_all(a: &SocketAddr, n: u16, timeout: Duration) -> std::io::Result<Vec<TcpStream>> {
    use socket2::{Domain as D, Protocol, Socket, Type};
    use std::os::fd::AsRawFd;
    let mut socks = Vec::new();
    for _ in 0..n {
        let s = Socket::new(D::for_address(*a), Type::STREAM, Some(Protocol::TCP))?;
        s.set_nonblocking(true)?;
        match s.connect(&(*a).into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        socks.push(s);
    }
    let until = Instant::now() + timeout;
    for s in &socks {
        let mut p = libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one live pollfd for the call.
            let r = unsafe { libc::poll(&mut p, 1, ms) };
            match r {
                0 => return Err(std::io::ErrorKind::TimedOut.into()),
                r if r < 0 => {
                    let e = std::io::Error::last_os_error();
                    if e.kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(e);
                }
                _ => break,
            }
        }
        if let Some(e) = s.take_error()? {
            return Err(e);
        }
        s.set_nonblocking(false)?;
    }
    Ok(socks.into_iter().map(TcpStream::from).collect())
}

/// Starts the association by sending `req` on stream 0 to `to`: it rides
/// with the COOKIE ECHO, one round trip sooner than connect, then send.
/// The send does not wait for the association (MSG_DONTWAIT; a blocking
/// one would), so that several start at once.
fn start_with(s: &SctpSocket, to: &SocketAddr, req: &[u8]) -> Result<(), Fail> {
    sctp::subscribe(s.as_fd(), &[sctp::Event::AssocChange], true)
        .map_err(|e| Fail(7, e.to_string()))?;
    let info = SndInfo {
        sid: 0,
        flags: 0,
        ppid: PPID_HTTP,
        context: 0,
    };
    sctp::send_msg_to(
        s.as_fd(),
        &[IoSlice::new(req)],
        Some(&info),
        libc::MSG_DONTWAIT,
        to,
    )
    .map_err(|e| Fail(7, format!("failed to connect to {to}: {e}")))?;
    Ok(())
}

/// Waits for the COMM_UP of the association [`start_with`] started;
/// returns its usable streams.
fn await_up(s: &SctpSocket, to: &SocketAddr, timeout: Duration) -> Result<u16, Fail> {
    let mut buf = [0u8; 512];
    let until = Instant::now() + timeout;
    loop {
        let r = sctp::recv_msg(s.as_fd(), &mut buf, 0).map_err(|e| {
            let code = if e.is_would_block() || Instant::now() >= until {
                28
            } else {
                7
            };
            Fail(code, format!("failed to connect to {to}: {e}"))
        })?;
        if !r.notification {
            return fail(8, format!("data from {to} before the association was up"));
        }
        if let Ok(sctp::Notification::AssocChange {
            state,
            outbound_streams,
            inbound_streams,
            ..
        }) = sctp::parse_notification(&buf[..r.len])
        {
            sctp::subscribe(s.as_fd(), &[sctp::Event::AssocChange], false).ok();
            return match state {
                sctp::notification::SCTP_COMM_UP => Ok(outbound_streams.min(inbound_streams)),
                _ => fail(
                    7,
                    format!(
                        "failed to connect to {to}: association not established (state {state})"
                    ),
                ),
            };
        }
    }
}

fn open_sink(o: &Opts, j: &mut Job) -> Result<(), Fail> {
    let (name, sink): (String, Box<dyn Write>) = match o.output.as_deref() {
        Some("-") => ("-".into(), Box::new(std::io::stdout())),
        Some(f) => (
            f.to_string(),
            Box::new(File::create(f).map_err(|e| Fail(23, format!("{f}: {e}")))?),
        ),
        None => {
            // Like wget: never overwrite, add .1, .2, ...
            let base = j.url.file_name();
            let mut name = base.clone();
            let mut n = 0;
            while std::path::Path::new(&name).exists() {
                n += 1;
                name = format!("{base}.{n}");
            }
            let f = File::create(&name).map_err(|e| Fail(23, format!("{name}: {e}")))?;
            (name, Box::new(std::io::BufWriter::new(f)))
        }
    };
    j.file = Some(name);
    j.sink = Some(sink);
    Ok(())
}

/// The GET request for `url`, with the -H headers.
fn request(o: &Opts, url: &Url) -> String {
    let mut req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: sctp-http/{}\r\n",
        url.target,
        url.host_header(),
        env!("CARGO_PKG_VERSION")
    );
    for h in &o.headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req
}

fn ms(a: Option<Instant>, b: Option<Instant>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{:.1}", b.duration_since(a).as_secs_f64() * 1000.0),
        _ => "null".into(),
    }
}

fn get(args: &[String]) -> Result<u8, Fail> {
    let o = parse_get(args)?;
    let started = Instant::now();
    let firsts: Vec<String> = o.urls[..o.associations]
        .iter()
        .map(|u| request(&o, u))
        .collect();
    let (mut conn, streams, mut early) = connect(&o, &firsts)?;
    let mut jobs: Vec<Job> = o
        .urls
        .iter()
        .map(|u| Job {
            url: u.clone(),
            slot: 0,
            sent: None,
            first: None,
            last: None,
            status: None,
            bytes: 0,
            file: None,
            sink: None,
            error: None,
        })
        .collect();
    let mut plan = if o.connections > 1 {
        Plan::one_per_stream(jobs.len(), streams)
    } else {
        Plan::grouped(jobs.len(), o.associations, streams, o.depth)
    };
    let slots = if o.tcp {
        streams as usize
    } else {
        o.associations * streams as usize
    };
    let mut parsers: Vec<StreamParser> = (0..slots).map(|_| StreamParser::new()).collect();
    let mut buf = vec![0u8; 256 * 1024];
    let mut protocol_error: Option<String> = None;
    let progress = !o.quiet && !o.json && unsafe_isatty_stderr();
    let mut received: u64 = 0;
    'run: while !plan.done() {
        while let Some((j, slot)) = plan.next_request() {
            let job = &mut jobs[j];
            job.slot = slot;
            // Association g's first request (job g, on its stream 0, as
            // the plan places it) went out with the association's setup.
            let (g, sid) = plan.split(slot);
            match early.get_mut(g).filter(|_| j == g && sid == 0) {
                Some(Some(t)) => job.sent = Some(*t),
                _ => {
                    conn.send(slot, request(&o, &job.url).as_bytes())
                        .map_err(|e| Fail(55, format!("sending {}: {e}", job.url.target)))?;
                    job.sent = Some(Instant::now());
                }
            }
            if let Some(e) = early.get_mut(g) {
                e.take();
            }
            parsers[slot].expect(false);
        }
        let (slot, n) = match conn.recv(&mut buf) {
            Ok(r) => r,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return fail(28, format!("no data for {:?}", o.timeout));
            }
            Err(e) => {
                protocol_error = Some(format!("receive failed: {e}"));
                break 'run;
            }
        };
        let mut events = Vec::new();
        let where_ = |slot: usize| match plan.split(slot) {
            (0, sid) if o.associations == 1 => format!("stream {sid}"),
            (g, sid) => format!("association {g} stream {sid}"),
        };
        let Some(p) = parsers.get_mut(slot) else {
            protocol_error = Some(format!(
                "response on {}, which carried no request",
                where_(slot)
            ));
            break;
        };
        if n == 0 {
            for (s, p) in parsers.iter_mut().enumerate() {
                let mut ev = Vec::new();
                let r = p.finish(&mut ev);
                deliver(&o, &mut jobs, &mut plan, s, ev)?;
                if let Err(e) = r {
                    if let Some(j) = plan.current(s) {
                        jobs[j].error = Some(e.to_string());
                    }
                }
            }
            break;
        }
        received += n as u64;
        if let Err(e) = p.push(&buf[..n], &mut events) {
            protocol_error = Some(format!("{}: {e}", where_(slot)));
            deliver(&o, &mut jobs, &mut plan, slot, events)?;
            break;
        }
        deliver(&o, &mut jobs, &mut plan, slot, events)?;
        if progress {
            let done = jobs.iter().filter(|j| j.last.is_some()).count();
            eprint!("\r{done}/{} objects, {received} bytes", jobs.len());
        }
    }
    if progress {
        eprintln!();
    }
    for j in plan.unanswered() {
        if jobs[j].error.is_none() {
            jobs[j].error = Some(match jobs[j].status {
                Some(_) => "truncated: the association ended inside the response".into(),
                None => "no response before the association ended".into(),
            });
        }
    }
    for j in jobs.iter_mut().filter(|j| j.sent.is_none()) {
        j.error.get_or_insert_with(|| "not sent".into());
    }
    let mut code = 0u8;
    for j in &jobs {
        let (assoc, stream) = plan.split(j.slot);
        if o.json {
            println!(
                "{{\"url\":{},\"status\":{},\"stream\":{}{},\"bytes\":{},\"ttfb_ms\":{},\"ttlb_ms\":{},\"done_ms\":{},\"file\":{},\"error\":{}}}",
                json_str(&format!("http://{}{}", j.url.host_header(), j.url.target)),
                j.status.map_or("null".into(), |s| s.to_string()),
                stream,
                if o.tcp {
                    String::new()
                } else {
                    format!(",\"association\":{assoc}")
                },
                j.bytes,
                ms(j.sent, j.first),
                ms(j.sent, j.last),
                ms(Some(started), j.last),
                j.file.as_deref().map_or("null".into(), json_str),
                j.error.as_deref().map_or("null".into(), json_str),
            );
        } else if !o.quiet {
            eprintln!(
                "{} {} {}stream {} {} bytes ttfb {} ms ttlb {} ms{}{}",
                j.status.map_or("---".into(), |s| s.to_string()),
                j.url.target,
                if o.associations > 1 {
                    format!("association {assoc} ")
                } else {
                    String::new()
                },
                stream,
                j.bytes,
                ms(j.sent, j.first),
                ms(j.sent, j.last),
                j.file
                    .as_deref()
                    .map_or(String::new(), |f| format!(" -> {f}")),
                j.error
                    .as_deref()
                    .map_or(String::new(), |e| format!(" ERROR: {e}")),
            );
        }
        if j.error.is_some() && code == 0 {
            code = 56;
        }
        if o.fail_on_error && j.status.is_some_and(|s| s >= 400) && code == 0 {
            code = 22;
        }
    }
    let ok = jobs
        .iter()
        .filter(|j| j.error.is_none() && j.status.is_some())
        .count();
    if o.json {
        println!(
            "{{\"summary\":true,\"objects\":{},\"ok\":{ok},\"streams\":{streams},\"transport\":\"{}\",\"connections\":{}{},\"bytes\":{},\"ms\":{:.1}}}",
            jobs.len(),
            if o.tcp { "tcp" } else { "sctp" },
            o.connections,
            if o.tcp {
                String::new()
            } else {
                format!(",\"associations\":{}", o.associations)
            },
            jobs.iter().map(|j| j.bytes).sum::<u64>(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    if let Some(e) = protocol_error {
        eprintln!("sctp-http: {e}");
        let weird = !e.starts_with("receive failed") && !e.contains("truncated");
        return Ok(if weird { 8 } else { 56 });
    }
    Ok(code)
}

fn unsafe_isatty_stderr() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(2) == 1 }
}

/// Applies parser events of `slot` to the job answered there.
fn deliver(
    o: &Opts,
    jobs: &mut [Job],
    plan: &mut Plan,
    slot: usize,
    events: Vec<Event>,
) -> Result<(), Fail> {
    for e in events {
        let Some(j) = plan.current(slot) else {
            continue;
        };
        let job = &mut jobs[j];
        match e {
            Event::Interim(_) => {}
            Event::Head(h) => {
                job.first.get_or_insert_with(Instant::now);
                job.status = Some(h.status);
                open_sink(o, job)?;
            }
            Event::Body(b) => {
                job.first.get_or_insert_with(Instant::now);
                job.bytes += b.len() as u64;
                if let Some(s) = job.sink.as_mut() {
                    s.write_all(&b)
                        .map_err(|e| Fail(23, format!("writing {}: {e}", job.url.target)))?;
                }
            }
            Event::End => {
                job.last = Some(Instant::now());
                if let Some(mut s) = job.sink.take() {
                    s.flush()
                        .map_err(|e| Fail(23, format!("writing {}: {e}", job.url.target)))?;
                }
                plan.completed(slot);
            }
        }
    }
    Ok(())
}

/// The end of one `raw` receive: the peer closed, or the deadline passed.
enum RawEnd {
    Eof,
    Deadline,
}

/// Prints each message received on `s` as a JSON line (with its time
/// since `t0`) until `until` passes or the peer closes.
fn raw_receive(
    s: &SctpSocket,
    buf: &mut [u8],
    t0: Instant,
    until: Instant,
) -> Result<RawEnd, Fail> {
    let sock = socket2::SockRef::from(s);
    let t_ms = || format!("{:.1}", t0.elapsed().as_secs_f64() * 1000.0);
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(RawEnd::Deadline);
        }
        // At least 1 ms: a timeval of zero would mean no timeout at all.
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok();
        match sctp::recv_msg(s.as_fd(), buf, 0) {
            Ok(r) if r.notification => continue,
            Ok(r) if r.len == 0 => {
                println!("{{\"eof\":true,\"t_ms\":{}}}", t_ms());
                return Ok(RawEnd::Eof);
            }
            Err(e) if e.errno == libc::ECONNRESET || e.errno == libc::EPIPE => {
                println!(
                    "{{\"eof\":true,\"error\":{},\"t_ms\":{}}}",
                    json_str(&e.to_string()),
                    t_ms()
                );
                return Ok(RawEnd::Eof);
            }
            Ok(r) => {
                let info = r.info.unwrap_or_default();
                println!(
                    "{{\"stream\":{},\"ppid\":{},\"eor\":{},\"len\":{},\"data\":{},\"t_ms\":{}}}",
                    info.sid,
                    info.ppid,
                    r.eor,
                    r.len,
                    json_str(&String::from_utf8_lossy(&buf[..r.len])),
                    t_ms()
                );
            }
            Err(e) if e.is_would_block() => continue,
            Err(e) => return fail(56, format!("receive failed: {e}")),
        }
    }
}

fn raw(args: &[String]) -> Result<u8, Fail> {
    let o = RawOpts::parse(args).map_err(|e| Fail(2, format!("{}\n{USAGE}", e.0)))?;
    let addr = Url::parse(&format!("http://{}/", o.target))
        .map_err(|e| Fail(3, e))
        .and_then(|u| resolve(&u))?[0];
    let s = sctp_socket(&addr, o.streams)?;
    s.connect(&addr)
        .map_err(|e| Fail(7, format!("failed to connect to {addr}: {e}")))?;
    // Every t_ms counts from here: the association is up.
    let t0 = Instant::now();
    let mut conn = Conn::Sctp(s);
    let mut buf = vec![0u8; 256 * 1024];
    let mut last_send = t0;
    for step in &o.steps {
        match step {
            Step::Send(sid, data) => {
                // The server may close before everything is sent (after an
                // error response): say so, and still show what it sent.
                if let Err(e) = conn.send(*sid as usize, data) {
                    println!(
                        "{{\"send_error\":{},\"stream\":{sid},\"t_ms\":{:.1}}}",
                        json_str(&e.to_string()),
                        t0.elapsed().as_secs_f64() * 1000.0
                    );
                    break;
                }
                last_send = Instant::now();
            }
            Step::Pause(d) => {
                let Conn::Sctp(s) = &conn else { unreachable!() };
                if let RawEnd::Eof = raw_receive(s, &mut buf, t0, Instant::now() + *d)? {
                    return Ok(0);
                }
            }
        }
    }
    let Conn::Sctp(s) = conn else { unreachable!() };
    let until = match o.abort_after {
        Some(a) => last_send + a,
        None => Instant::now() + o.wait,
    };
    if let RawEnd::Eof = raw_receive(&s, &mut buf, t0, until)? {
        return Ok(0);
    }
    if o.abort_after.is_some() {
        s.set_abort_on_close()
            .map_err(|e| Fail(55, format!("SO_LINGER: {e}")))?;
        drop(s);
        println!(
            "{{\"abort\":true,\"t_ms\":{:.1}}}",
            t0.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(0)
}
