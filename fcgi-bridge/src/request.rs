//! Request mode: a test and diagnostic client (like cgi-fcgi) that sends
//! requests over SCTP (stream plan), TCP (ids 1..C on one connection) or
//! TCP with one connection per request (stock mod_proxy_fcgi), and prints
//! the responses, or one JSON line per request (`--json`). With
//! `--large-param` it sends the benchmark's mix: one large request, then
//! the small ones while the large response streams.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc::{sync_channel, Receiver as ChanRx, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use apr_sctp::sctp::SctpSocket;
use fastcgi::record;
use fastcgi::stream_plan::StreamPlan;

use crate::cli;
use crate::client_session::{
    encode_request_with, json_line, Collector, Event, Kind, Plan, Response, Transport,
    PER_REQUEST_ID,
};
use crate::endpoint::Endpoint;
use crate::sctp_link::{self, Incoming};

/// Exit status: every request completed with app status 0.
pub const EXIT_OK: i32 = 0;
/// Connection, protocol or timeout error.
pub const EXIT_PROTOCOL: i32 = 1;
/// Some request ended with a nonzero app status or protocol status.
pub const EXIT_APP: i32 = 2;

enum Chunk {
    /// Bytes from the link (stream on SCTP, 0 on TCP) or from the
    /// per-request connection of a slot.
    Data(u16, Vec<u8>),
    /// The shared link ended.
    End(String),
    /// The per-request connection of a slot ended (why).
    Closed(u16, String),
}

enum Link {
    Sctp(Arc<SctpSocket>),
    Tcp(TcpStream),
    /// A connection per request, opened by a thread of its own.
    PerRequest {
        addr: SocketAddr,
        timeout: Duration,
        tx: SyncSender<Chunk>,
    },
}

impl Link {
    fn send(&mut self, id: u16, msgs: Vec<Vec<u8>>) -> io::Result<()> {
        match self {
            Link::Sctp(s) => {
                for m in &msgs {
                    sctp_link::send(s, id, m)?;
                }
            }
            Link::Tcp(s) => {
                for m in &msgs {
                    s.write_all(m)?;
                }
            }
            Link::PerRequest { addr, timeout, tx } => {
                let (addr, timeout, tx) = (*addr, *timeout, tx.clone());
                thread::spawn(move || per_request(addr, timeout, id, msgs, tx));
            }
        }
        Ok(())
    }
}

/// One request on a connection of its own: connect, send, pass on what
/// comes back until the application closes it (it was asked to: no
/// KEEP_CONN).
fn per_request(
    addr: SocketAddr,
    timeout: Duration,
    slot: u16,
    msgs: Vec<Vec<u8>>,
    tx: SyncSender<Chunk>,
) {
    let run = || -> io::Result<&'static str> {
        let mut s = TcpStream::connect_timeout(&addr, timeout)?;
        let _ = s.set_nodelay(true);
        for m in &msgs {
            s.write_all(m)?;
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return Ok("closed by the backend"),
                Ok(n) => {
                    if tx.send(Chunk::Data(slot, buf[..n].to_vec())).is_err() {
                        return Ok("client done");
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    };
    let why = match run() {
        Ok(w) => w.to_string(),
        Err(e) => e.to_string(),
    };
    let _ = tx.send(Chunk::Closed(slot, why));
}

/// Ids handed out to requests: streams on SCTP, 1..=C on TCP (slots of
/// connections with one request each, for TCP per request).
enum Ids {
    Plan(StreamPlan),
    Free(Vec<u16>),
}

impl Ids {
    fn acquire(&mut self) -> Option<u16> {
        match self {
            Ids::Plan(p) => p.acquire(),
            Ids::Free(v) => v.pop(),
        }
    }
    fn release(&mut self, id: u16) {
        match self {
            Ids::Plan(p) => {
                p.release(id);
            }
            Ids::Free(v) => v.push(id),
        }
    }
}

pub fn run(opts: &cli::Request) -> i32 {
    match run_inner(opts) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fcgi-bridge request: {e}");
            EXIT_PROTOCOL
        }
    }
}

fn run_inner(opts: &cli::Request) -> Result<i32, String> {
    let stdin = match &opts.stdin {
        Some(p) => std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => Vec::new(),
    };
    let mut params = opts.params.clone();
    if opts.stdin.is_some() && !params.iter().any(|(n, _)| n == "CONTENT_LENGTH") {
        params.push(("CONTENT_LENGTH".into(), stdin.len().to_string()));
    }
    let timeout = Duration::from_secs(opts.timeout_secs);
    let addr = opts.to.resolve().map_err(|e| format!("{}: {e}", opts.to))?;
    let mix = !opts.large_params.is_empty();
    let width = Plan::new(mix, opts.count, opts.concurrency).width();
    let (tx, rx) = sync_channel::<Chunk>(64);
    let (mut link, mut ids, transport) = match &opts.to {
        Endpoint::Sctp(_) => {
            let s = sctp_link::connect(&addr, opts.streams)
                .map_err(|e| format!("connect {}: {e}", opts.to))?;
            let learned = sctp_link::ask_values(&s, timeout, |line| {
                eprint!("[backend {}] {}", opts.to, String::from_utf8_lossy(line))
            })
            .map_err(|e| format!("{}: {e}", opts.to))?;
            let streams = sctp_link::usable_streams(&s).map_err(|e| e.to_string())?;
            let cap = learned.concurrency(streams);
            let c = width.min(cap);
            if c < width {
                eprintln!(
                    "fcgi-bridge request: {} allows {c} request(s) at once on one association ({streams} streams, {learned:?}); using {c}",
                    opts.to
                );
            }
            let mut plan = StreamPlan::new(streams).map_err(|e| e.to_string())?;
            plan.set_max_requests(c);
            let s = Arc::new(s);
            let r = s.clone();
            thread::spawn(move || {
                let mut rx = sctp_link::Receiver::new();
                loop {
                    let c = match rx.next(&r) {
                        Ok(Incoming::Data { stream, bytes }) => Chunk::Data(stream, bytes.to_vec()),
                        Ok(Incoming::Notification) => continue,
                        Ok(Incoming::Eof) => Chunk::End("backend closed the association".into()),
                        Err(e) => Chunk::End(e.to_string()),
                    };
                    let end = matches!(c, Chunk::End(_));
                    if tx.send(c).is_err() || end {
                        break;
                    }
                }
            });
            (Link::Sctp(s), Ids::Plan(plan), Transport::Sctp)
        }
        _ if opts.tcp_per_request => {
            let c = width.min(u16::MAX as usize - 1);
            let free = (1..=c as u16).rev().collect();
            let link = Link::PerRequest { addr, timeout, tx };
            (link, Ids::Free(free), Transport::TcpPerRequest)
        }
        _ => {
            let s = TcpStream::connect_timeout(&addr, timeout)
                .map_err(|e| format!("connect {}: {e}", opts.to))?;
            let _ = s.set_nodelay(true);
            let mut r = s.try_clone().map_err(|e| e.to_string())?;
            thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let c = match r.read(&mut buf) {
                        Ok(0) => Chunk::End("backend closed the connection".into()),
                        Ok(n) => Chunk::Data(0, buf[..n].to_vec()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => Chunk::End(e.to_string()),
                    };
                    let end = matches!(c, Chunk::End(_));
                    if tx.send(c).is_err() || end {
                        break;
                    }
                }
            });
            let c = width.min(u16::MAX as usize - 1);
            let free = (1..=c as u16).rev().collect();
            (Link::Tcp(s), Ids::Free(free), Transport::Tcp)
        }
    };
    // The large request: the --param list with the --large-params put
    // over it.
    let mut large = params.clone();
    for (n, v) in &opts.large_params {
        large.retain(|(m, _)| m != n);
        large.push((n.clone(), v.clone()));
    }
    let started = Instant::now();
    let mut plan = Plan::new(mix, opts.count, opts.concurrency);
    let result = drive(
        opts,
        [&params, &large],
        &stdin,
        &mut link,
        &mut ids,
        transport,
        &mut plan,
        &rx,
        timeout,
    );
    if let Link::Tcp(s) = &link {
        let _ = s.shutdown(Shutdown::Both);
    }
    let (ok, failed) = result?;
    let secs = started.elapsed().as_secs_f64();
    if opts.json {
        let name = match transport {
            Transport::Sctp => "sctp",
            Transport::Tcp => "tcp",
            Transport::TcpPerRequest => "tcp-per-request",
        };
        println!(
            "{{\"summary\":true,\"transport\":\"{name}\",\"requests\":{},\"ok\":{ok},\"failed\":{failed},\"ms\":{:.3}}}",
            plan.total(),
            secs * 1000.0
        );
    } else if plan.total() > 1 {
        eprintln!(
            "fcgi-bridge request: {} requests in {secs:.3} s ({:.1}/s), {ok} ok, {failed} failed",
            plan.total(),
            plan.total() as f64 / secs.max(1e-9)
        );
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_APP })
}

/// A request in flight: what it is, when it started, its first STDOUT.
struct Flight {
    kind: Kind,
    start: Instant,
    first: Option<Instant>,
}

/// Sends the plan's requests and collects their responses; `params` are
/// the small (or plain) requests' and the large one's.
#[allow(clippy::too_many_arguments)]
fn drive(
    opts: &cli::Request,
    params: [&[(String, String)]; 2],
    stdin: &[u8],
    link: &mut Link,
    ids: &mut Ids,
    transport: Transport,
    plan: &mut Plan,
    rx: &ChanRx<Chunk>,
    timeout: Duration,
) -> Result<(usize, usize), String> {
    let per_request = transport == Transport::TcpPerRequest;
    let t0 = Instant::now();
    let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_secs_f64() * 1000.0;
    let mut collector = Collector::new(transport);
    let mut flights: HashMap<u16, Flight> = HashMap::new();
    let (mut ok, mut failed) = (0usize, 0usize);
    let stdout = io::stdout();
    while ok + failed < plan.total() {
        while let Some(id) = ids.acquire() {
            let Some(kind) = plan.next() else {
                ids.release(id);
                break;
            };
            collector.start(id);
            flights.insert(
                id,
                Flight {
                    kind,
                    start: Instant::now(),
                    first: None,
                },
            );
            let p = if kind == Kind::Large {
                params[1]
            } else {
                params[0]
            };
            let wire_id = if per_request { PER_REQUEST_ID } else { id };
            link.send(id, encode_request_with(wire_id, p, stdin, !per_request))
                .map_err(|e| format!("send request on {id}: {e}"))?;
        }
        let (stream, bytes) = match rx.recv_timeout(timeout) {
            Ok(Chunk::Data(s, b)) => (s, b),
            Ok(Chunk::Closed(slot, why)) => {
                if collector.is_open(slot) {
                    return Err(format!(
                        "request {slot}: connection ended before END_REQUEST ({why})"
                    ));
                }
                // Its slot is free once the connection is gone.
                collector.reset(slot);
                ids.release(slot);
                continue;
            }
            Ok(Chunk::End(why)) => {
                return Err(format!(
                    "{why} with {} request(s) outstanding",
                    collector.outstanding()
                ))
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "no answer within {timeout:?} ({} request(s) outstanding)",
                    collector.outstanding()
                ))
            }
            Err(RecvTimeoutError::Disconnected) => return Err("receiver gone".into()),
        };
        let events = collector.push(stream, &bytes)?;
        let now = Instant::now();
        for (id, f) in flights.iter_mut().filter(|(_, f)| f.first.is_none()) {
            if collector.received(*id).unwrap_or(0) > 0 {
                f.first = Some(now);
                if f.kind == Kind::Large {
                    plan.large_streaming();
                }
            }
        }
        for ev in events {
            match ev {
                Event::Log(line) => eprintln!("[backend {}] {line}", opts.to),
                Event::Done(r) => {
                    let f = flights
                        .remove(&r.id)
                        .ok_or_else(|| format!("request {} done twice", r.id))?;
                    plan.done(f.kind);
                    if !per_request {
                        ids.release(r.id);
                    }
                    let first = f.first.or((r.stdout_len > 0).then_some(now));
                    let good = if opts.json {
                        let line = json_line(
                            &r,
                            f.kind,
                            ms(t0, f.start),
                            first.map(|t| ms(f.start, t)),
                            ms(f.start, now),
                        );
                        let mut out = stdout.lock();
                        let _ = writeln!(out, "{line}");
                        let _ = out.flush();
                        check(&r)
                    } else {
                        report(&r, &mut stdout.lock())
                    };
                    if good {
                        ok += 1;
                    } else {
                        failed += 1;
                    }
                }
            }
        }
    }
    Ok((ok, failed))
}

/// True if `r` completed with app status 0; says why not on stderr, and
/// passes the application's STDERR on.
fn check(r: &Response) -> bool {
    if !r.stderr.is_empty() {
        let _ = io::stderr().write_all(&r.stderr);
    }
    let good = r.protocol_status == record::REQUEST_COMPLETE && r.app_status == 0;
    if !good {
        eprintln!(
            "fcgi-bridge request: request {} ended with app status {}, protocol status {}",
            r.id, r.app_status, r.protocol_status
        );
    }
    good
}

/// Prints a response; true if it completed with app status 0.
fn report(r: &Response, out: &mut impl Write) -> bool {
    let _ = out.write_all(&r.stdout);
    let _ = out.flush();
    let good = check(r);
    if r.stdout_len > r.stdout.len() {
        eprintln!(
            "fcgi-bridge request: request {}: {} bytes of STDOUT not shown",
            r.id,
            r.stdout_len - r.stdout.len()
        );
    }
    good
}
