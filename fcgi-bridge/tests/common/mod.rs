//! Shared by the integration tests: the skip rule (apr-sctp's need_sctp!), the bridge as a child
//! process, a tiny FastCGI application and a raw SCTP FastCGI client.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use apr_sctp::sctp::{self, Domain, InitMsg, SctpSocket, SndInfo};
use fastcgi::record::{self, Decoder, Limits, Record};
use fastcgi::{decode_pairs, encode_pairs};

/// Returns from the test when the kernel has no SCTP (the host); ci/vm
/// runs them for real.
pub use apr_sctp::need_sctp;

pub const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- bridge

/// fcgi-bridge as a child process; killed on drop.
pub struct Bridge {
    child: Child,
    /// The endpoints it announced ("listening X"), in order.
    pub listening: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Bridge {
    /// Starts `fcgi-bridge ARGS` and waits for `listens` "listening" lines.
    pub fn start(args: &[&str], listens: usize) -> Bridge {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fcgi-bridge"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn fcgi-bridge");
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let tag = args.first().copied().unwrap_or("").to_string();
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("[{tag}] {line}");
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut listening = Vec::new();
        while listening.len() < listens {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                panic!(
                    "fcgi-bridge {args:?} exited before listening: {}",
                    stderr.lock().unwrap()
                );
            }
            if let Some(e) = line.trim().strip_prefix("listening ") {
                listening.push(e.to_string());
            }
        }
        thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        Bridge {
            child,
            listening,
            stderr,
        }
    }

    /// The address part of the i-th announced endpoint.
    pub fn addr(&self, i: usize) -> SocketAddr {
        let e = &self.listening[i];
        let (_, a) = e.split_once(':').unwrap();
        a.parse().unwrap_or_else(|_| panic!("{e}"))
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr contains `needle`.
    pub fn wait_stderr(&self, needle: &str) -> bool {
        let end = Instant::now() + WAIT;
        while Instant::now() < end {
            if self.stderr().contains(needle) {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `fcgi-bridge ARGS` to completion: (exit code, stdout, stderr).
pub fn run_bridge(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fcgi-bridge"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run fcgi-bridge");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("[{}] {err}", args.first().copied().unwrap_or(""));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        err,
    )
}

// ---------------------------------------------------------------- app

/// What the test application saw.
#[derive(Default)]
pub struct AppStats {
    pub connections: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    /// (request id, keep_conn) of every BEGIN_REQUEST.
    pub begins: Mutex<Vec<(u16, bool)>>,
    /// Rendezvous of "steps" requests: (tag, step) done.
    steps: Mutex<HashMap<(String, usize), ()>>,
    steps_cv: Condvar,
    /// "gated" requests: how many steps each tag may write.
    gates: Mutex<HashMap<String, usize>>,
    gates_cv: Condvar,
}

impl AppStats {
    /// Lets "gated" request TAG write up to `n` steps.
    pub fn open_gate(&self, tag: &str, n: usize) {
        self.gates.lock().unwrap().insert(tag.to_string(), n);
        self.gates_cv.notify_all();
    }
}

/// A tiny FastCGI responder on 127.0.0.1 (ephemeral port). By param MODE:
/// * echo (default): "TAG=<TAG>;" then STDIN, END_REQUEST 0.
/// * steps: STEPS writes of "<TAG><i>;", after each waiting (up to 5 s)
///   until request PEER has written its own step i.
/// * gated: STEPS writes of "<TAG><i>;", each once the test opened the
///   gate that far ([`AppStats::open_gate`]; up to 5 s each).
/// * die: writes "partial" and closes without END_REQUEST.
/// * sleep: waits SLEEP_MS, then as echo.
/// * status: END_REQUEST with app status STATUS.
pub struct TestApp {
    pub addr: SocketAddr,
    pub stats: Arc<AppStats>,
}

impl TestApp {
    pub fn start() -> TestApp {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let stats = Arc::new(AppStats::default());
        let st = stats.clone();
        thread::spawn(move || {
            for c in l.incoming() {
                let Ok(c) = c else { continue };
                let st = st.clone();
                st.connections.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || serve_app(c, &st));
            }
        });
        TestApp { addr, stats }
    }

    pub fn endpoint(&self) -> String {
        format!("tcp:{}", self.addr)
    }
}

/// A request the app is working on, counted in `in_flight` until it is
/// released: just before its END_REQUEST goes out (once the bridge sees it,
/// the next request may start at once, before this thread ends), or when
/// the app stops without one.
struct InFlight<'a> {
    st: &'a AppStats,
    released: std::cell::Cell<bool>,
}
impl InFlight<'_> {
    fn release(&self) {
        if !self.released.replace(true) {
            self.st.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

fn serve_app(mut c: TcpStream, st: &AppStats) {
    let mut d = Decoder::new(Limits::default());
    let mut buf = [0u8; 4096];
    let mut id = 0;
    let mut params = Vec::new();
    let mut stdin = Vec::new();
    'read: loop {
        let n = match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        d.push(&buf[..n]).unwrap();
        while let Some(r) = d.next().unwrap() {
            match r {
                Record::BeginRequest {
                    id: i, keep_conn, ..
                } => {
                    id = i;
                    st.begins.lock().unwrap().push((i, keep_conn));
                }
                Record::Params { data, .. } => params.extend(data),
                Record::Stdin { data, .. } if data.is_empty() => break 'read,
                Record::Stdin { data, .. } => stdin.extend(data),
                _ => {}
            }
        }
    }
    let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let in_flight = InFlight {
        st,
        released: std::cell::Cell::new(false),
    };
    let p: HashMap<String, String> = decode_pairs(&params, &Limits::default())
        .unwrap()
        .into_iter()
        .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
        .collect();
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let tag = get("TAG");
    let stdout = |c: &mut TcpStream, data: &[u8]| {
        let mut b = Vec::new();
        record::encode_stream(record::STDOUT, id, data, &mut b);
        c.write_all(&b)
    };
    let end = |c: &mut TcpStream, status: u32| {
        let mut b = Vec::new();
        record::encode_stream(record::STDOUT, id, &[], &mut b);
        Record::EndRequest {
            id,
            app_status: status,
            protocol_status: 0,
        }
        .encode(&mut b)
        .unwrap();
        in_flight.release();
        let _ = c.write_all(&b);
    };
    match get("MODE").as_str() {
        "steps" => {
            let steps: usize = get("STEPS").parse().unwrap_or(3);
            let peer = get("PEER");
            for i in 0..steps {
                if stdout(&mut c, format!("{tag}{i};").as_bytes()).is_err() {
                    return;
                }
                let mut s = st.steps.lock().unwrap();
                s.insert((tag.clone(), i), ());
                st.steps_cv.notify_all();
                let end_at = Instant::now() + Duration::from_secs(5);
                while !s.contains_key(&(peer.clone(), i)) && Instant::now() < end_at {
                    s = st
                        .steps_cv
                        .wait_timeout(s, Duration::from_millis(50))
                        .unwrap()
                        .0;
                }
            }
            end(&mut c, 0);
        }
        "gated" => {
            let steps: usize = get("STEPS").parse().unwrap_or(3);
            for i in 0..steps {
                let end_at = Instant::now() + Duration::from_secs(5);
                let mut g = st.gates.lock().unwrap();
                while g.get(&tag).copied().unwrap_or(0) <= i && Instant::now() < end_at {
                    g = st
                        .gates_cv
                        .wait_timeout(g, Duration::from_millis(50))
                        .unwrap()
                        .0;
                }
                drop(g);
                if stdout(&mut c, format!("{tag}{i};").as_bytes()).is_err() {
                    return;
                }
            }
            end(&mut c, 0);
        }
        "die" => {
            let _ = stdout(&mut c, b"partial");
            thread::sleep(Duration::from_millis(50));
            // Dropping the socket: the application "died".
        }
        "status" => {
            let _ = stdout(&mut c, b"failing");
            end(&mut c, get("STATUS").parse().unwrap_or(1));
        }
        mode => {
            if mode == "sleep" {
                let ms = get("SLEEP_MS").parse().unwrap_or(100);
                thread::sleep(Duration::from_millis(ms));
            }
            let mut out = format!("TAG={tag};").into_bytes();
            out.extend(&stdin);
            if stdout(&mut c, &out).is_ok() {
                end(&mut c, 0);
            }
        }
    }
}

// ---------------------------------------------------------------- client

pub fn pairs(list: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    encode_pairs(list, &mut b);
    b
}

/// The records of a whole request with `params` and `stdin`.
pub fn request(id: u16, params: &[(&str, &str)], stdin: &[u8]) -> Vec<Record> {
    let mut v = vec![
        Record::BeginRequest {
            id,
            role: record::RESPONDER,
            keep_conn: true,
        },
        Record::Params {
            id,
            data: pairs(params),
        },
        Record::Params { id, data: vec![] },
    ];
    for chunk in stdin.chunks(record::MAX_CONTENT) {
        v.push(Record::Stdin {
            id,
            data: chunk.to_vec(),
        });
    }
    v.push(Record::Stdin { id, data: vec![] });
    v
}

pub fn encode(records: &[Record]) -> Vec<u8> {
    let mut b = Vec::new();
    for r in records {
        r.encode(&mut b).unwrap();
    }
    b
}

/// A raw web-server side of an SCTP association.
pub struct SctpClient {
    pub sock: SctpSocket,
    decoders: HashMap<u16, Decoder>,
    queue: VecDeque<(u16, Record)>,
}

impl SctpClient {
    pub fn connect(addr: SocketAddr, streams: u16) -> SctpClient {
        let sock = SctpSocket::new(Domain::of(&addr)).expect("socket");
        sctp::set_initmsg(
            sock.as_fd(),
            &InitMsg {
                num_ostreams: streams,
                max_instreams: streams,
                ..Default::default()
            },
        )
        .unwrap();
        sctp::set_recvrcvinfo(sock.as_fd(), true).unwrap();
        sock.connect(&addr).expect("connect");
        socket2::SockRef::from(&sock)
            .set_read_timeout(Some(WAIT))
            .unwrap();
        SctpClient {
            sock,
            decoders: HashMap::new(),
            queue: VecDeque::new(),
        }
    }

    pub fn streams(&self) -> (u16, u16) {
        let s = sctp::status(self.sock.as_fd()).unwrap();
        (s.instrms, s.outstrms)
    }

    /// Sends `records` as one message on `stream`.
    pub fn send(&self, stream: u16, records: &[Record]) {
        let b = encode(records);
        let info = SndInfo {
            sid: stream,
            ..Default::default()
        };
        sctp::send_msg(self.sock.as_fd(), &[IoSlice::new(&b)], Some(&info), 0).expect("send");
    }

    /// The next record and its stream; None at end of association or
    /// after the read timeout.
    pub fn next(&mut self) -> Option<(u16, Record)> {
        let mut buf = vec![0u8; 70_000];
        loop {
            if let Some(x) = self.queue.pop_front() {
                return Some(x);
            }
            let r = match sctp::recv_msg(self.sock.as_fd(), &mut buf, 0) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("recv: {e}");
                    return None;
                }
            };
            if r.notification {
                continue;
            }
            if r.len == 0 {
                return None;
            }
            let sid = r.info.expect("rcvinfo").sid;
            let d = self
                .decoders
                .entry(sid)
                .or_insert_with(|| Decoder::new(Limits::default()));
            for chunk in buf[..r.len].chunks(4096) {
                d.push(chunk).expect("decoder push");
                while let Some(rec) = d.next().expect("decode") {
                    self.queue.push_back((sid, rec));
                }
            }
        }
    }

    /// Reads records until END_REQUEST on every stream in `streams`:
    /// everything read, in order.
    pub fn until_ended(&mut self, streams: &[u16]) -> Vec<(u16, Record)> {
        let mut left: Vec<u16> = streams.to_vec();
        let mut all = Vec::new();
        while !left.is_empty() {
            let Some((s, r)) = self.next() else {
                panic!("association ended or timed out; still waiting for {left:?}; got {all:?}");
            };
            if let Record::EndRequest { .. } = r {
                left.retain(|x| *x != s);
            }
            all.push((s, r));
        }
        all
    }
}

/// STDOUT of `stream` in `records`, concatenated.
pub fn stdout_of(records: &[(u16, Record)], stream: u16) -> String {
    let mut s = Vec::new();
    for (st, r) in records {
        if let (true, Record::Stdout { data, .. }) = (*st == stream, r) {
            s.extend_from_slice(data);
        }
    }
    String::from_utf8_lossy(&s).to_string()
}

/// The END_REQUEST (app_status, protocol_status) of `stream`.
pub fn end_of(records: &[(u16, Record)], stream: u16) -> Option<(u32, u8)> {
    records.iter().find_map(|(s, r)| match r {
        Record::EndRequest {
            app_status,
            protocol_status,
            ..
        } if *s == stream => Some((*app_status, *protocol_status)),
        _ => None,
    })
}

/// Plain FastCGI over TCP: sends `records`, reads until END_REQUEST of
/// every id in `ids` (or EOF): all records read.
pub fn tcp_exchange(c: &mut TcpStream, records: &[Record], ids: &[u16]) -> Vec<Record> {
    c.set_read_timeout(Some(WAIT)).unwrap();
    c.write_all(&encode(records)).unwrap();
    let mut d = Decoder::new(Limits::default());
    let mut left = ids.to_vec();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !left.is_empty() {
        let n = match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => panic!("tcp read: {e}; got {out:?}"),
        };
        d.push(&buf[..n]).unwrap();
        while let Some(r) = d.next().unwrap() {
            if let Record::EndRequest { id, .. } = r {
                left.retain(|x| *x != id);
            }
            out.push(r);
        }
    }
    out
}
