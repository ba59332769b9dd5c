//! `sctp-http bench`: a load generator in the manner of h2load. Each
//! connection (an SCTP association or a TCP connection) is a thread that
//! sends one GET at a time with keep-alive and reads the whole response;
//! on SCTP the requests of a connection go round robin over its streams.
//! The latency of a request is from its send to its last byte.

use crate::{fail, json_str, number, resolve, sctp_socket, value, Conn, Fail, USAGE};
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

fn parse(args: &[String]) -> Result<Opts, Fail> {
    let mut url = None;
    let mut o = Opts {
        url: Url::parse("http://localhost/").map_err(|e| Fail(3, e))?,
        connections: 16,
        requests: 10_000,
        duration: None,
        tcp: false,
        streams: 16,
        hold: None,
        json: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" => o.connections = number(value(&mut it, a)?, a)?,
            "-n" => o.requests = number(value(&mut it, a)?, a)?,
            "-d" => o.duration = Some(Duration::from_secs_f64(number(value(&mut it, a)?, a)?)),
            "--tcp" => o.tcp = true,
            "--streams" => o.streams = number(value(&mut it, a)?, a)?,
            "--hold" => o.hold = Some(Duration::from_secs_f64(number(value(&mut it, a)?, a)?)),
            "--json" => o.json = true,
            s if s.starts_with('-') => return fail(2, format!("unknown option {s}\n{USAGE}")),
            u if url.is_none() => url = Some(Url::parse(u).map_err(|e| Fail(3, e))?),
            _ => return fail(2, "bench takes one URL"),
        }
    }
    o.url = url.ok_or_else(|| Fail(2, USAGE.into()))?;
    if o.connections == 0 || o.streams == 0 {
        return fail(2, "-c and --streams must be at least 1");
    }
    Ok(o)
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
    errors: Mutex<Vec<String>>,
}

impl Shared {
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
                    sh.errors.lock().unwrap().push(format!("connect: {e}"));
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
                    sh.errors.lock().unwrap().push(e);
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
/// (nearest rank).
fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

pub fn bench(args: &[String]) -> Result<u8, Fail> {
    let o = parse(args)?;
    let peer = resolve(&o.url)?[0];
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
    let ok = lat.len() as u64;
    let failed = sh.failed.load(Ordering::Relaxed);
    let bytes = sh.bytes.load(Ordering::Relaxed);
    let rps = ok as f64 / secs;
    let mean = lat.iter().map(|&v| v as f64).sum::<f64>() / lat.len().max(1) as f64 / 1000.0;
    let transport = if o.tcp { "tcp" } else { "sctp" };
    let errors = sh.errors.lock().unwrap().clone();
    if o.json {
        println!(
            "{{\"transport\":\"{transport}\",\"connections\":{},\"requests\":{},\"ok\":{ok},\"failed\":{failed},\"reconnects\":{},\"secs\":{secs:.3},\"rps\":{rps:.1},\"bytes\":{bytes},\"lat_ms\":{{\"min\":{:.3},\"mean\":{mean:.3},\"p50\":{:.3},\"p90\":{:.3},\"p99\":{:.3},\"max\":{:.3}}},\"first_error\":{}}}",
            o.connections,
            ok + failed,
            sh.reconnects.load(Ordering::Relaxed),
            pct(&lat, 0.0),
            pct(&lat, 50.0),
            pct(&lat, 90.0),
            pct(&lat, 99.0),
            pct(&lat, 100.0),
            errors.first().map_or("null".into(), |e| json_str(e)),
        );
    } else {
        println!(
            "finished in {secs:.2}s, {rps:.1} req/s, {:.2} MB/s",
            bytes as f64 / secs / 1e6
        );
        println!(
            "requests: {} total, {ok} succeeded, {failed} failed; {} {transport} connections, {} reconnects",
            ok + failed,
            o.connections,
            sh.reconnects.load(Ordering::Relaxed)
        );
        println!("                 min      mean      p50      p90      p99      max");
        println!(
            "latency (ms) {:8.3}  {mean:8.3} {:8.3} {:8.3} {:8.3} {:8.3}",
            pct(&lat, 0.0),
            pct(&lat, 50.0),
            pct(&lat, 90.0),
            pct(&lat, 99.0),
            pct(&lat, 100.0)
        );
        for e in errors.iter().take(3) {
            eprintln!("sctp-http bench: {e}");
        }
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
