//! `sctp-http bench`: a load generator in the manner of h2load. Each
//! connection (an SCTP association or a TCP connection) is a thread that
//! sends one GET at a time with keep-alive and reads the whole response;
//! on SCTP the requests of a connection go round robin over its streams.
//! The latency of a request is from its send to its last byte.

use crate::{resolve, sctp_socket, Conn, Fail};
use sctp_http::cli::BenchArgs;
use sctp_http::output::{self, round, BenchSummary, Latency};
use sctp_http::response::{Event, StreamParser};
use sctp_http::url::Url;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Opts {
    url: Url,
    connections: usize,
    requests: u64,
    duration: Option<Duration>,
    tcp: bool,
    streams: u16,
    hold: Option<Duration>,
    json: bool,
}

fn parse(b: BenchArgs) -> Result<Opts, Fail> {
    Ok(Opts {
        url: Url::parse(&b.url).map_err(|e| Fail(3, e))?,
        connections: b.connections,
        requests: b.requests,
        duration: b.duration,
        tcp: b.tcp,
        streams: b.streams,
        hold: b.hold,
        json: b.json,
    })
}

/// What the threads share.
struct Shared {
    deadline: Option<Instant>,
    stop: AtomicBool,
    bytes: AtomicU64,
    failed: AtomicU64,
    reconnects: AtomicU64,
    /// Latencies in microseconds, appended by each thread at its end.
    latencies: Mutex<Vec<u32>>,
    /// The first [`KEPT_ERRORS`] errors (the count is `failed`).
    errors: Mutex<Vec<String>>,
}

/// Errors kept for the report: a server that only fails would otherwise
/// fill memory with the same message.
const KEPT_ERRORS: usize = 16;

impl Shared {
    fn error(&self, e: String) {
        let mut v = self.errors.lock().unwrap();
        if v.len() < KEPT_ERRORS {
            v.push(e);
        }
    }

    /// May this connection send another request? In count mode each
    /// connection has its own share of -n (as h2load does), so that every
    /// connection serves at least one request when -n >= -c.
    fn take(&self, quota: &mut u64) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        match self.deadline {
            Some(d) => Instant::now() < d,
            None => quota.checked_sub(1).map(|q| *quota = q).is_some(),
        }
    }
}

fn open(o: &Opts, peer: &SocketAddr) -> Result<(Conn, u16), String> {
    let t = Duration::from_secs(30);
    if o.tcp {
        let c = TcpStream::connect_timeout(peer, t).map_err(|e| e.to_string())?;
        c.set_read_timeout(Some(t)).ok();
        c.set_nodelay(true).ok();
        return Ok((Conn::Tcp(vec![c], t), 1));
    }
    let s = sctp_socket(peer, o.streams).map_err(|Fail(_, m)| m)?;
    let sock = socket2::SockRef::from(&s);
    sock.set_read_timeout(Some(t)).ok();
    sock.set_write_timeout(Some(t)).ok();
    s.connect(peer).map_err(|e| e.to_string())?;
    let st = apr_sctp::sctp::status(std::os::fd::AsFd::as_fd(&s)).map_err(|e| e.to_string())?;
    Ok((
        Conn::Sctp(s),
        st.outstrms.min(st.instrms).min(o.streams).max(1),
    ))
}

enum Outcome {
    Done(u64),
    /// The peer closed before any byte of the response: reconnect, retry.
    Closed,
}

/// One request and its whole response on `sid`.
fn exchange(conn: &mut Conn, sid: u16, req: &[u8], buf: &mut [u8]) -> Result<Outcome, String> {
    conn.send(sid as usize, req)
        .map_err(|e| format!("send: {e}"))?;
    let mut p = StreamParser::new();
    p.expect(false);
    let mut ev = Vec::new();
    let mut got = 0u64;
    loop {
        let (s, n) = conn.recv(buf).map_err(|e| format!("receive: {e}"))?;
        if n == 0 {
            return if got == 0 {
                Ok(Outcome::Closed)
            } else {
                Err("the connection ended inside a response".into())
            };
        }
        if s != sid as usize {
            return Err(format!("response on stream {s}, request on {sid}"));
        }
        got += n as u64;
        p.push(&buf[..n], &mut ev).map_err(|e| e.to_string())?;
        for e in ev.drain(..) {
            match e {
                Event::Head(h) if h.status != 200 => return Err(format!("status {}", h.status)),
                Event::End => return Ok(Outcome::Done(got)),
                _ => {}
            }
        }
    }
}

fn worker(o: &Opts, mut quota: u64, peer: SocketAddr, sh: &Shared, hold: &Mutex<Vec<Conn>>) {
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: sctp-http-bench\r\n\r\n",
        o.url.target,
        o.url.host_header()
    );
    let mut buf = vec![0u8; 64 * 1024];
    let mut lat = Vec::new();
    let mut conn = None;
    let mut n = 0u32;
    while sh.take(&mut quota) {
        let (c, streams) = match conn.take() {
            Some(c) => c,
            None => match open(o, &peer) {
                Ok(c) => c,
                Err(e) => {
                    sh.failed.fetch_add(1, Ordering::Relaxed);
                    sh.error(format!("connect: {e}"));
                    sh.stop.store(true, Ordering::Relaxed);
                    break;
                }
            },
        };
        let mut c = c;
        let sid = (n % streams as u32) as u16;
        n = n.wrapping_add(1);
        let t0 = Instant::now();
        let mut r = exchange(&mut c, sid, req.as_bytes(), &mut buf);
        if let Ok(Outcome::Closed) = r {
            // Keep-alive ended (MaxKeepAliveRequests): a new connection.
            sh.reconnects.fetch_add(1, Ordering::Relaxed);
            r = open(o, &peer).and_then(|(c2, s2)| {
                c = c2;
                exchange(&mut c, sid % s2, req.as_bytes(), &mut buf)
            });
        }
        match r {
            Ok(Outcome::Done(b)) => {
                lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                sh.bytes.fetch_add(b, Ordering::Relaxed);
                conn = Some((c, streams));
            }
            Ok(Outcome::Closed) | Err(_) => {
                sh.failed.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = r {
                    sh.error(e);
                }
            }
        }
    }
    sh.latencies.lock().unwrap().extend(lat);
    if let Some((c, _)) = conn {
        if o.hold.is_some() {
            hold.lock().unwrap().push(c);
        }
    }
}

/// The value at percentile `p` of sorted microseconds, in milliseconds
/// (`stats::percentile`'s definition, as in the benchmark report); none
/// without values.
fn pct(sorted: &[u32], p: f64) -> Option<f64> {
    let ms: Vec<f64> = sorted.iter().map(|&v| f64::from(v) / 1000.0).collect();
    let v = sctp_http::stats::percentile(&ms, p);
    v.is_finite().then(|| round(v, 3))
}

/// The summary of a run: `lat` the sorted latencies (µs) of the requests
/// that succeeded. Without any, the latencies are none (null in JSON, not
/// NaN) and the rate is 0.
fn summarize(
    o: &Opts,
    lat: &[u32],
    failed: u64,
    reconnects: u64,
    bytes: u64,
    secs: f64,
    first_error: Option<String>,
) -> BenchSummary {
    let ok = lat.len() as u64;
    let mean = (!lat.is_empty()).then(|| {
        let sum: f64 = lat.iter().map(|&v| f64::from(v)).sum();
        round(sum / lat.len() as f64 / 1000.0, 3)
    });
    BenchSummary {
        transport: if o.tcp { "tcp" } else { "sctp" },
        connections: o.connections,
        requests: ok + failed,
        ok,
        failed,
        reconnects,
        secs: round(secs, 3),
        rps: if secs > 0.0 {
            round(ok as f64 / secs, 1)
        } else {
            0.0
        },
        bytes,
        lat_ms: Latency {
            min: pct(lat, 0.0),
            mean,
            p50: pct(lat, 50.0),
            p90: pct(lat, 90.0),
            p99: pct(lat, 99.0),
            max: pct(lat, 100.0),
        },
        first_error,
    }
}

/// The text report (stdout), then up to three errors (stderr).
fn print_text(s: &BenchSummary, errors: &[String]) {
    let mbps = if s.secs > 0.0 {
        s.bytes as f64 / s.secs / 1e6
    } else {
        0.0
    };
    println!(
        "finished in {:.2}s, {:.1} req/s, {mbps:.2} MB/s",
        s.secs, s.rps
    );
    println!(
        "requests: {} total, {} succeeded, {} failed; {} {} connections, {} reconnects",
        s.requests, s.ok, s.failed, s.connections, s.transport, s.reconnects
    );
    let l = &s.lat_ms;
    match (l.min, l.mean, l.p50, l.p90, l.p99, l.max) {
        (Some(min), Some(mean), Some(p50), Some(p90), Some(p99), Some(max)) => {
            println!("                 min      mean      p50      p90      p99      max");
            println!("latency (ms) {min:8.3}  {mean:8.3} {p50:8.3} {p90:8.3} {p99:8.3} {max:8.3}");
        }
        _ => println!("latency (ms): none, no request succeeded"),
    }
    for e in errors.iter().take(3) {
        eprintln!("sctp-http bench: {e}");
    }
}

pub fn bench(args: BenchArgs) -> Result<u8, Fail> {
    let o = parse(args)?;
    let Some(&peer) = resolve(&o.url)?.first() else {
        return Err(Fail(6, format!("could not resolve host {}", o.url.host)));
    };
    let sh = Arc::new(Shared {
        deadline: o.duration.map(|d| Instant::now() + d),
        stop: AtomicBool::new(false),
        bytes: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        reconnects: AtomicU64::new(0),
        latencies: Mutex::new(Vec::new()),
        errors: Mutex::new(Vec::new()),
    });
    let hold = Arc::new(Mutex::new(Vec::new()));
    let o = Arc::new(o);
    let started = Instant::now();
    let mut threads = Vec::new();
    for i in 0..o.connections {
        let (o, sh, hold) = (o.clone(), sh.clone(), hold.clone());
        let c = o.connections as u64;
        let quota = o.requests / c + u64::from((i as u64) < o.requests % c);
        let t = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || worker(&o, quota, peer, &sh, &hold))
            .map_err(|e| Fail(7, format!("thread: {e}")))?;
        threads.push(t);
    }
    for t in threads {
        let _ = t.join();
    }
    let secs = started.elapsed().as_secs_f64();
    let mut lat = std::mem::take(&mut *sh.latencies.lock().unwrap());
    lat.sort_unstable();
    let failed = sh.failed.load(Ordering::Relaxed);
    let errors = sh.errors.lock().unwrap().clone();
    let s = summarize(
        &o,
        &lat,
        failed,
        sh.reconnects.load(Ordering::Relaxed),
        sh.bytes.load(Ordering::Relaxed),
        secs,
        errors.first().cloned(),
    );
    if o.json {
        println!("{}", output::line(&s));
    } else {
        print_text(&s, &errors);
    }
    if let Some(d) = o.hold {
        let held = hold.lock().unwrap().len();
        // The harness waits for this line before it measures.
        println!("holding {held} idle connections for {} s", d.as_secs_f64());
        use std::io::Write;
        std::io::stdout().flush().ok();
        std::thread::sleep(d);
    }
    Ok(if failed > 0 { 56 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Opts {
        Opts {
            url: Url::parse("http://h/").unwrap(),
            connections: 2,
            requests: 4,
            duration: None,
            tcp: false,
            streams: 16,
            hold: None,
            json: true,
        }
    }

    #[test]
    fn percentiles_as_the_report_computes_them() {
        let v = [1000, 2000, 3000, 4000];
        assert_eq!(pct(&v, 0.0), Some(1.0));
        assert_eq!(pct(&v, 50.0), Some(2.5));
        assert_eq!(pct(&v, 90.0), Some(3.7));
        assert_eq!(pct(&v, 100.0), Some(4.0));
        assert_eq!(pct(&[], 50.0), None);
    }

    #[test]
    fn only_errors_give_nulls_and_the_error_not_nan() {
        let s = summarize(&opts(), &[], 4, 0, 0, 0.5, Some("status 404".into()));
        assert_eq!((s.ok, s.failed, s.requests), (0, 4, 4));
        assert_eq!(s.rps, 0.0);
        assert_eq!(s.lat_ms.mean, None);
        assert_eq!(s.lat_ms.p99, None);
        let l = output::line(&s);
        assert!(!l.contains("NaN"), "{l}");
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["first_error"], "status 404");
        assert!(v["lat_ms"]["p50"].is_null());
        // Nothing measured at all: no division by zero either.
        let s = summarize(&opts(), &[], 0, 0, 0, 0.0, None);
        assert_eq!(s.rps, 0.0);
    }

    #[test]
    fn successes_give_rate_and_latencies() {
        let s = summarize(&opts(), &[1000, 3000], 1, 2, 10, 2.0, None);
        assert_eq!((s.ok, s.requests, s.reconnects), (2, 3, 2));
        assert_eq!(s.rps, 1.0);
        assert_eq!(s.lat_ms.mean, Some(2.0));
        assert_eq!((s.lat_ms.min, s.lat_ms.max), (Some(1.0), Some(3.0)));
    }
}
