//! Request mode: a test and diagnostic client (like cgi-fcgi) that sends
//! requests over SCTP (stream plan) or TCP (ids 1..C on one connection) and
//! prints the responses.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{sync_channel, Receiver as ChanRx, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use apr_sctp::sctp::SctpSocket;
use fastcgi::record;
use fastcgi::stream_plan::StreamPlan;

use crate::cli;
use crate::client_session::{encode_request, Collector, Event, Response, Transport};
use crate::endpoint::Endpoint;
use crate::sctp_link::{self, Incoming};

/// Exit status: every request completed with app status 0.
pub const EXIT_OK: i32 = 0;
/// Connection, protocol or timeout error.
pub const EXIT_PROTOCOL: i32 = 1;
/// Some request ended with a nonzero app status or protocol status.
pub const EXIT_APP: i32 = 2;

enum Chunk {
    Data(u16, Vec<u8>),
    End(String),
}

enum Link {
    Sctp(Arc<SctpSocket>),
    Tcp(TcpStream),
}

impl Link {
    fn send(&mut self, id: u16, msgs: &[Vec<u8>]) -> io::Result<()> {
        for m in msgs {
            match self {
                Link::Sctp(s) => sctp_link::send(s, id, m)?,
                Link::Tcp(s) => s.write_all(m)?,
            }
        }
        Ok(())
    }
}

/// Ids handed out to requests: streams on SCTP, 1..=C on TCP.
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
            let c = opts.concurrency.min(cap);
            if c < opts.concurrency {
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
            let c = opts.concurrency.min(u16::MAX as usize - 1);
            let free = (1..=c as u16).rev().collect();
            (Link::Tcp(s), Ids::Free(free), Transport::Tcp)
        }
    };
    let started = Instant::now();
    let result = drive(
        opts, &params, &stdin, &mut link, &mut ids, transport, &rx, timeout,
    );
    if let Link::Tcp(s) = &link {
        let _ = s.shutdown(Shutdown::Both);
    }
    let (ok, failed) = result?;
    if opts.count > 1 {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "fcgi-bridge request: {} requests in {secs:.3} s ({:.1}/s), {ok} ok, {failed} failed",
            opts.count,
            opts.count as f64 / secs.max(1e-9)
        );
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_APP })
}

#[allow(clippy::too_many_arguments)]
fn drive(
    opts: &cli::Request,
    params: &[(String, String)],
    stdin: &[u8],
    link: &mut Link,
    ids: &mut Ids,
    transport: Transport,
    rx: &ChanRx<Chunk>,
    timeout: Duration,
) -> Result<(usize, usize), String> {
    let mut collector = Collector::new(transport);
    let (mut sent, mut ok, mut failed) = (0usize, 0usize, 0usize);
    let stdout = io::stdout();
    while ok + failed < opts.count {
        while sent < opts.count {
            let Some(id) = ids.acquire() else { break };
            collector.start(id);
            link.send(id, &encode_request(id, params, stdin))
                .map_err(|e| format!("send request on {id}: {e}"))?;
            sent += 1;
        }
        let (stream, bytes) = match rx.recv_timeout(timeout) {
            Ok(Chunk::Data(s, b)) => (s, b),
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
        for ev in collector.push(stream, &bytes)? {
            match ev {
                Event::Log(line) => eprintln!("[backend {}] {line}", opts.to),
                Event::Done(r) => {
                    ids.release(r.id);
                    if report(&r, &mut stdout.lock()) {
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

/// Prints a response; true if it completed with app status 0.
fn report(r: &Response, out: &mut impl Write) -> bool {
    let _ = out.write_all(&r.stdout);
    let _ = out.flush();
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
    if r.stdout_len > r.stdout.len() {
        eprintln!(
            "fcgi-bridge request: request {}: {} bytes of STDOUT not shown",
            r.id,
            r.stdout_len - r.stdout.len()
        );
    }
    good
}
