//! `sctp-http`: fetch URLs over one SCTP association (or several), each
//! request on its own stream (see README.md). Exit codes follow curl's.

use apr_sctp::sctp::{self, Domain, InitMsg, SctpSocket, SndInfo};
use sctp_http::cli::{self, Data, GetArgs, Parsed, UsageError};
use sctp_http::output::{self, round};
use sctp_http::plan::Plan;
use sctp_http::raw::{RawOpts, Step};
use sctp_http::request::{join_body, RequestSpec, MAX_BODY};
use sctp_http::response::{Event, Head, StreamParser};
use sctp_http::url::Url;
use std::fs::File;
use std::io::{IoSlice, IsTerminal, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

mod load;
use load::bench;

const PPID_HTTP: u32 = 63;

/// Requests go out in SCTP messages of at most this many bytes (a body
/// from `--data-binary @FILE` can be larger than the socket's buffer).
const PIECE: usize = 64 * 1024;

/// A failure with curl's exit code.
struct Fail(u8, String);

fn fail<T>(code: u8, msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail(code, msg.into()))
}

/// A usage mistake clap could not see (exit 2).
fn usage<T>(msg: impl std::fmt::Display, sub: &str) -> Result<T, Fail> {
    fail(2, format!("{msg}\n(see 'sctp-http {sub} --help')"))
}

fn main() -> ExitCode {
    // Output piped into `head` ends quietly, as with other command-line
    // tools (Rust ignores SIGPIPE, and println! would panic). Sockets are
    // unaffected: SCTP sends and std's TCP writes use MSG_NOSIGNAL.
    // SAFETY: restoring a default signal disposition at start-up.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let r = match cli::parse_from(std::env::args_os()) {
        Ok(Parsed::Get(g, body)) => get(g, body),
        Ok(Parsed::Raw(o)) => raw(o),
        Ok(Parsed::Bench(b)) => bench(b),
        // clap's errors exit 2, --help and --version 0.
        Err(Ok(e)) => {
            e.print().ok();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
        Err(Err(UsageError(m))) => usage(m, "raw"),
    };
    match r {
        Ok(code) => ExitCode::from(code),
        Err(Fail(code, msg)) => {
            eprintln!("sctp-http: {msg}");
            ExitCode::from(code)
        }
    }
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
    output: Option<String>,
    /// `-O`: each body under its URL's file name, overwritten.
    remote_name: bool,
    json: bool,
    fail_on_error: bool,
    quiet: bool,
    /// `-i` (and `-I`): the response heads go to the output too.
    include: bool,
    /// Method, headers and body of every request.
    spec: RequestSpec,
}

/// The bytes of one body piece: a file's or the argument's own, at most
/// `room` bytes (what is left of [`MAX_BODY`]), else exit 26.
fn read_data(d: &Data, room: usize) -> Result<(Vec<u8>, bool), Fail> {
    let (b, strip, name) = match d {
        Data::Text(t) => (t.clone().into_bytes(), false, "-d"),
        Data::File {
            path,
            strip_newlines,
        } => {
            let mut b = Vec::new();
            let limit = room as u64 + 1;
            let r = if path == "-" {
                std::io::stdin().lock().take(limit).read_to_end(&mut b)
            } else {
                File::open(path).and_then(|f| f.take(limit).read_to_end(&mut b))
            };
            r.map_err(|e| Fail(26, format!("{path}: {e}")))?;
            (b, *strip_newlines, path.as_str())
        }
    };
    if b.len() > room {
        return fail(
            26,
            format!("{name}: the body would be larger than {MAX_BODY} bytes"),
        );
    }
    Ok((b, strip))
}

fn parse_get(g: GetArgs, body: Vec<Data>) -> Result<Opts, Fail> {
    let urls = g
        .urls
        .iter()
        .map(|u| Url::parse(u).map_err(|e| Fail(3, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut pieces = Vec::new();
    let mut room = MAX_BODY;
    for d in &body {
        let p = read_data(d, room)?;
        // Each piece after the first costs a '&' too.
        room = room.saturating_sub(p.0.len() + 1);
        pieces.push(p);
    }
    let body = join_body(&pieces);
    let spec = RequestSpec::new(g.method.as_deref(), g.head, g.headers, body)
        .or_else(|e| usage(e, "get"))?;
    // -I shows the heads on stdout unless told where (curl's way), for any
    // number of URLs: there are no bodies to mix. With --json, stdout is
    // the JSON lines': the heads go nowhere then.
    let heads_to_stdout = g.head && g.output.is_none() && !g.remote_name;
    let mut o = Opts {
        urls,
        streams: g.streams,
        depth: g.depth,
        associations: g.associations,
        sack_freq: g.sack_freq,
        verbose: g.verbose,
        local: g.local,
        tcp: g.tcp,
        connections: g.connections,
        timeout: g.timeout,
        output: if heads_to_stdout {
            Some(if g.json { "/dev/null" } else { "-" }.into())
        } else {
            g.output
        },
        remote_name: g.remote_name,
        json: g.json,
        fail_on_error: g.fail,
        quiet: g.quiet,
        include: g.include || g.head,
        spec,
    };
    if !heads_to_stdout
        && o.output.is_some()
        && o.urls.len() > 1
        && o.output.as_deref() != Some("/dev/null")
    {
        return usage(
            "-o takes one URL (or /dev/null: discard every body; -O: each under its own name)",
            "get",
        );
    }
    if o.connections > 1 && !o.tcp {
        return usage("--connections is for --tcp (SCTP: --associations)", "get");
    }
    if o.tcp && (o.associations > 1 || o.sack_freq.is_some()) {
        return usage(
            "--associations and --sack-freq are for SCTP (TCP: --connections)",
            "get",
        );
    }
    // More associations than URLs would stay idle.
    o.associations = o.associations.min(o.urls.len());
    let first = o.urls.first().map(|u| (&u.host, u.port));
    if o.urls.iter().any(|u| Some((&u.host, u.port)) != first) {
        return usage(
            "all URLs must name the same host and port (one association)",
            "get",
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
/// request went out (its first [`PIECE`] bytes with the handshake, the
/// rest, if any, once the association is up).
fn connect(o: &Opts, firsts: &[Vec<u8>]) -> Result<(Conn, u16, Vec<Option<Instant>>), Fail> {
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
            start_with(s, to, req.get(..PIECE).unwrap_or(req))?;
            *t = Some(Instant::now());
        }
        for s in &socks {
            streams = streams.min(await_up(s, to, o.timeout)?);
        }
        // The rest of a first request too large for one message.
        for (s, req) in socks.iter().zip(firsts) {
            for piece in req.chunks(PIECE).skip(1) {
                send_on(s, 0, piece).map_err(|e| Fail(55, format!("sending to {to}: {e}")))?;
            }
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
        None if o.remote_name => {
            // Like curl -O: the URL's name, overwritten.
            let name = j.url.file_name();
            let f = File::create(&name).map_err(|e| Fail(23, format!("{name}: {e}")))?;
            (name, Box::new(std::io::BufWriter::new(f)))
        }
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

/// Milliseconds from `a` to `b` (0.1 ms), if both happened.
fn ms(a: Option<Instant>, b: Option<Instant>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(round(b.duration_since(a).as_secs_f64() * 1000.0, 1)),
        _ => None,
    }
}

/// The same, as text for the per-object lines.
fn ms_text(a: Option<Instant>, b: Option<Instant>) -> String {
    ms(a, b).map_or("null".into(), |v| format!("{v:.1}"))
}

/// `-v`: a head on stderr, each line after `mark` (`>` sent, `<` received),
/// the blank line that ends it as a bare mark, as curl shows them.
fn show_head(mark: char, head: &str) {
    let mut e = std::io::stderr().lock();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        writeln!(e, "{mark} {line}").ok();
    }
    writeln!(e, "{mark}").ok();
}

/// Where a slot is, for messages: a TCP connection, a stream, or an
/// association's stream.
fn place(o: &Opts, plan: &Plan, slot: usize) -> String {
    match plan.split(slot) {
        (_, c) if o.tcp => format!("connection {c}"),
        (0, sid) if o.associations == 1 => format!("stream {sid}"),
        (g, sid) => format!("association {g} stream {sid}"),
    }
}

/// Sends a whole request on `slot`, in messages of at most [`PIECE`]
/// bytes (one message for any request without a large body).
fn send_request(conn: &mut Conn, slot: usize, req: &[u8]) -> std::io::Result<()> {
    for piece in req.chunks(PIECE) {
        conn.send(slot, piece)?;
    }
    Ok(())
}

fn get(g: GetArgs, body: Vec<Data>) -> Result<u8, Fail> {
    let o = parse_get(g, body)?;
    let started = Instant::now();
    let firsts: Vec<Vec<u8>> = o
        .urls
        .iter()
        .take(o.associations)
        .map(|u| o.spec.bytes(u))
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
    let progress = !o.quiet && !o.json && std::io::stderr().is_terminal();
    // Body bytes so far (the progress line's count).
    let mut body_bytes: u64 = 0;
    'run: while !plan.done() {
        while let Some((j, slot)) = plan.next_request() {
            let Some(job) = jobs.get_mut(j) else {
                break 'run;
            };
            job.slot = slot;
            if o.verbose {
                eprintln!("* {} on {}", job.url.target, place(&o, &plan, slot));
                show_head('>', &o.spec.head(&job.url));
            }
            // Association g's first request (job g, on its stream 0, as
            // the plan places it) went out with the association's setup.
            let (g, sid) = plan.split(slot);
            match early.get_mut(g).filter(|_| j == g && sid == 0) {
                Some(Some(t)) => job.sent = Some(*t),
                _ => {
                    send_request(&mut conn, slot, &o.spec.bytes(&job.url))
                        .map_err(|e| Fail(55, format!("sending {}: {e}", job.url.target)))?;
                    job.sent = Some(Instant::now());
                }
            }
            if let Some(e) = early.get_mut(g) {
                e.take();
            }
            if let Some(p) = parsers.get_mut(slot) {
                p.expect(o.spec.is_head());
            }
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
        let Some(p) = parsers.get_mut(slot) else {
            protocol_error = Some(format!(
                "response on {}, which carried no request",
                place(&o, &plan, slot)
            ));
            break;
        };
        if n == 0 {
            for (s, p) in parsers.iter_mut().enumerate() {
                let mut ev = Vec::new();
                let r = p.finish(&mut ev);
                deliver(&o, &mut jobs, &mut plan, s, ev, &mut body_bytes)?;
                if let Err(e) = r {
                    if let Some(j) = plan.current(s).and_then(|j| jobs.get_mut(j)) {
                        j.error = Some(e.to_string());
                    }
                }
            }
            break;
        }
        let data = buf.get(..n).unwrap_or_default();
        if let Err(e) = p.push(data, &mut events) {
            protocol_error = Some(format!("{}: {e}", place(&o, &plan, slot)));
            deliver(&o, &mut jobs, &mut plan, slot, events, &mut body_bytes)?;
            break;
        }
        deliver(&o, &mut jobs, &mut plan, slot, events, &mut body_bytes)?;
        if progress {
            let done = jobs.iter().filter(|j| j.last.is_some()).count();
            eprint!("\r{done}/{} objects, {body_bytes} bytes", jobs.len());
        }
    }
    if progress {
        eprintln!();
    }
    for j in plan.unanswered() {
        if let Some(job) = jobs.get_mut(j) {
            if job.error.is_none() {
                job.error = Some(match job.status {
                    Some(_) => "truncated: the association ended inside the response".into(),
                    None => "no response before the association ended".into(),
                });
            }
        }
    }
    for j in jobs.iter_mut().filter(|j| j.sent.is_none()) {
        j.error.get_or_insert_with(|| "not sent".into());
    }
    let mut code = 0u8;
    let mut objects = Vec::new();
    for j in &jobs {
        let (assoc, stream) = plan.split(j.slot);
        if o.json {
            let obj = output::Object {
                url: format!("http://{}{}", j.url.host_header(), j.url.target),
                status: j.status,
                stream,
                association: (!o.tcp).then_some(assoc),
                bytes: j.bytes,
                ttfb_ms: ms(j.sent, j.first),
                ttlb_ms: ms(j.sent, j.last),
                done_ms: ms(Some(started), j.last),
                file: j.file.clone(),
                error: j.error.clone(),
            };
            println!("{}", output::line(&obj));
            objects.push(obj);
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
                ms_text(j.sent, j.first),
                ms_text(j.sent, j.last),
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
    if o.json {
        let s = output::Summary::of(
            &objects,
            streams,
            o.tcp,
            o.connections,
            o.associations,
            started.elapsed().as_secs_f64() * 1000.0,
        );
        println!("{}", output::line(&s));
    }
    if let Some(e) = protocol_error {
        eprintln!("sctp-http: {e}");
        let weird = !e.starts_with("receive failed") && !e.contains("truncated");
        return Ok(if weird { 8 } else { 56 });
    }
    Ok(code)
}

/// Writes `head` to the job's output (`-i`, `-I`), opening it first.
fn include_head(o: &Opts, job: &mut Job, head: &Head) -> Result<(), Fail> {
    if job.file.is_none() {
        open_sink(o, job)?;
    }
    if let Some(s) = job.sink.as_mut() {
        s.write_all(head.to_text().as_bytes())
            .map_err(|e| Fail(23, format!("writing {}: {e}", job.url.target)))?;
    }
    Ok(())
}

/// Applies parser events of `slot` to the job answered there; counts the
/// body bytes in `body_bytes`.
fn deliver(
    o: &Opts,
    jobs: &mut [Job],
    plan: &mut Plan,
    slot: usize,
    events: Vec<Event>,
    body_bytes: &mut u64,
) -> Result<(), Fail> {
    for e in events {
        let Some(job) = plan.current(slot).and_then(|j| jobs.get_mut(j)) else {
            continue;
        };
        match e {
            Event::Interim(h) => {
                if o.verbose {
                    eprintln!("* {} on {}", job.url.target, place(o, plan, slot));
                    show_head('<', &h.to_text());
                }
                if o.include {
                    include_head(o, job, &h)?;
                }
            }
            Event::Head(h) => {
                job.first.get_or_insert_with(Instant::now);
                job.status = Some(h.status);
                if o.verbose {
                    eprintln!("* {} on {}", job.url.target, place(o, plan, slot));
                    show_head('<', &h.to_text());
                }
                if o.include {
                    include_head(o, job, &h)?;
                } else {
                    open_sink(o, job)?;
                }
            }
            Event::Body(b) => {
                job.first.get_or_insert_with(Instant::now);
                job.bytes += b.len() as u64;
                *body_bytes += b.len() as u64;
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

/// Milliseconds since `t0` (0.1 ms), for `raw`'s lines.
fn since(t0: Instant) -> f64 {
    round(t0.elapsed().as_secs_f64() * 1000.0, 1)
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
                let eof = output::RawEof {
                    eof: true,
                    error: None,
                    t_ms: since(t0),
                };
                println!("{}", output::line(&eof));
                return Ok(RawEnd::Eof);
            }
            Err(e) if e.errno == libc::ECONNRESET || e.errno == libc::EPIPE => {
                let eof = output::RawEof {
                    eof: true,
                    error: Some(e.to_string()),
                    t_ms: since(t0),
                };
                println!("{}", output::line(&eof));
                return Ok(RawEnd::Eof);
            }
            Ok(r) => {
                let info = r.info.unwrap_or_default();
                let m = output::RawMessage {
                    stream: info.sid,
                    ppid: info.ppid,
                    eor: r.eor,
                    len: r.len,
                    data: String::from_utf8_lossy(buf.get(..r.len).unwrap_or_default())
                        .into_owned(),
                    t_ms: since(t0),
                };
                println!("{}", output::line(&m));
            }
            Err(e) if e.is_would_block() => continue,
            Err(e) => return fail(56, format!("receive failed: {e}")),
        }
    }
}

fn raw(o: RawOpts) -> Result<u8, Fail> {
    let url = Url::parse(&format!("http://{}/", o.target)).map_err(|e| Fail(3, e))?;
    let Some(&addr) = resolve(&url)?.first() else {
        return fail(6, format!("could not resolve host {}", url.host));
    };
    let s = sctp_socket(&addr, o.streams)?;
    s.connect(&addr)
        .map_err(|e| Fail(7, format!("failed to connect to {addr}: {e}")))?;
    // Every t_ms counts from here: the association is up.
    let t0 = Instant::now();
    let mut buf = vec![0u8; 256 * 1024];
    let mut last_send = t0;
    for step in &o.steps {
        match step {
            Step::Send(sid, data) => {
                // The server may close before everything is sent (after an
                // error response): say so, and still show what it sent.
                if let Err(e) = send_on(&s, *sid, data) {
                    let l = output::RawSendError {
                        send_error: e.to_string(),
                        stream: *sid,
                        t_ms: since(t0),
                    };
                    println!("{}", output::line(&l));
                    break;
                }
                last_send = Instant::now();
            }
            Step::Pause(d) => {
                if let RawEnd::Eof = raw_receive(&s, &mut buf, t0, Instant::now() + *d)? {
                    return Ok(0);
                }
            }
        }
    }
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
        let a = output::RawAbort {
            abort: true,
            t_ms: since(t0),
        };
        println!("{}", output::line(&a));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `get`'s options after both parsers, or the exit code.
    fn opts(a: &[&str]) -> Result<Opts, u8> {
        let args = ["sctp-http", "get"].iter().chain(a);
        match cli::parse_from(args) {
            Ok(Parsed::Get(g, body)) => parse_get(g, body).map_err(|Fail(c, _)| c),
            Ok(_) => panic!("not get"),
            Err(Ok(e)) => Err(u8::try_from(e.exit_code()).unwrap_or(99)),
            Err(Err(_)) => Err(2),
        }
    }

    #[test]
    fn head_flag_prints_heads_on_stdout_for_any_number_of_urls() {
        let o = opts(&["-I", "http://h/a", "http://h/b"]).ok().unwrap();
        assert!(o.spec.is_head() && o.include);
        assert_eq!(o.output.as_deref(), Some("-"));
        // With --json, stdout is the JSON's.
        let o = opts(&["-I", "--json", "http://h/a"]).ok().unwrap();
        assert_eq!(o.output.as_deref(), Some("/dev/null"));
        // Told where: there.
        let o = opts(&["-I", "-O", "http://h/a"]).ok().unwrap();
        assert_eq!(o.output, None);
        assert!(o.remote_name);
    }

    #[test]
    fn include_x_and_data_reach_the_requests() {
        let o = opts(&["-i", "-X", "PUT", "-d", "k=v", "http://h/f"])
            .ok()
            .unwrap();
        assert!(o.include && !o.spec.is_head());
        let u = Url::parse("http://h/f").unwrap();
        let req = String::from_utf8(o.spec.bytes(&u)).unwrap();
        assert!(req.starts_with("PUT /f HTTP/1.1\r\n"), "{req}");
        assert!(req.ends_with("Content-Length: 3\r\n\r\nk=v"), "{req}");
        // The body of a file, as is with --data-binary.
        let path = std::env::temp_dir().join(format!("sctp-http-test-{}", std::process::id()));
        std::fs::write(&path, b"a\r\nb\n").unwrap();
        let at = format!("@{}", path.display());
        let o = opts(&["--data-binary", &at, "http://h/f"]).ok().unwrap();
        assert_eq!(o.spec.body.as_deref(), Some(&b"a\r\nb\n"[..]));
        assert_eq!(o.spec.method, "POST");
        let o = opts(&["-d", &at, "http://h/f"]).ok().unwrap();
        assert_eq!(o.spec.body.as_deref(), Some(&b"ab"[..]));
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn body_pieces_share_one_bound() {
        assert!(matches!(read_data(&Data::Text("abc".into()), 3), Ok((b, false)) if b == b"abc"));
        assert!(matches!(
            read_data(&Data::Text("abc".into()), 2),
            Err(Fail(26, _))
        ));
        let path = std::env::temp_dir().join(format!("sctp-http-bound-{}", std::process::id()));
        std::fs::write(&path, b"12345").unwrap();
        let f = Data::File {
            path: path.display().to_string(),
            strip_newlines: false,
        };
        assert!(matches!(read_data(&f, 5), Ok((b, false)) if b == b"12345"));
        assert!(matches!(read_data(&f, 4), Err(Fail(26, _))));
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn exit_codes_of_mistakes() {
        let code = |a: &[&str]| opts(a).err();
        assert_eq!(code(&["ftp://h/x"]), Some(3));
        assert_eq!(code(&["http://h:99999/"]), Some(3));
        assert_eq!(code(&["-o", "-", "http://h/a", "http://h/b"]), Some(2));
        assert_eq!(code(&["-o", "/dev/null", "http://h/a", "http://h/b"]), None);
        assert_eq!(code(&["-O", "http://h/a", "http://h/b"]), None);
        assert_eq!(code(&["--connections", "2", "http://h/"]), Some(2));
        assert_eq!(
            code(&["--tcp", "--associations", "2", "http://h/"]),
            Some(2)
        );
        assert_eq!(code(&["http://h/a", "http://g/b"]), Some(2));
        assert_eq!(code(&["-X", "GET /", "http://h/"]), Some(2));
        assert_eq!(code(&["-H", "no separator", "http://h/"]), Some(2));
        assert_eq!(
            code(&["-d", "@/nonexistent/sctp-http-test", "http://h/"]),
            Some(26)
        );
        assert_eq!(code(&["--bogus", "http://h/"]), Some(2));
    }
}
