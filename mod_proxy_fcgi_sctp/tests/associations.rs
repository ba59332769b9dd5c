//! The association layer against a FastCGI backend written here, over real
//! SCTP on loopback. The host kernel may lack SCTP; each test then says so
//! and returns. `ci/test` runs them in the SCTP VM.

use apr_sctp::sctp::{self, Domain, InitMsg, SctpSocket, SndInfo};
use fastcgi::record::{self, Decoder, Limits, Record};
use mod_proxy_fcgi_sctp::association::{self, Backend, Event, Level, Settings};
use std::collections::HashMap;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apr_sctp::need_sctp;

/// What the test backend saw, for the assertions.
#[derive(Default)]
struct Seen {
    /// (stream, record type, request id) of every record received.
    records: Vec<(u16, u8, u16)>,
    associations: usize,
}

struct TestBackend {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
}

/// A FastCGI responder over SCTP. SCRIPT_FILENAME decides: "/slow" answers
/// after 600 ms, "/die" sends half a response and closes the association,
/// "/log" also writes a log line on stream 1, anything else answers at once
/// with "path=<SCRIPT_FILENAME> stream=<n> stdin=<bytes>".
fn test_backend(max_reqs: &'static str, streams: u16) -> TestBackend {
    let l = SctpSocket::new(Domain::V4).unwrap();
    sctp::set_initmsg(
        l.as_fd(),
        &InitMsg {
            num_ostreams: streams,
            max_instreams: streams,
            ..Default::default()
        },
    )
    .unwrap();
    l.bind(&"127.0.0.1:0".parse().unwrap()).unwrap();
    l.listen(16).unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let seen2 = seen.clone();
    std::thread::spawn(move || loop {
        let Ok((a, _)) = l.accept() else { return };
        seen2.lock().unwrap().associations += 1;
        let seen3 = seen2.clone();
        std::thread::spawn(move || serve(Arc::new(a), max_reqs, seen3));
    });
    TestBackend { addr, seen }
}

fn send(a: &SctpSocket, stream: u16, rec: &Record) {
    let mut buf = Vec::new();
    rec.encode(&mut buf).unwrap();
    let info = SndInfo {
        sid: stream,
        ..Default::default()
    };
    let _ = sctp::send_msg(a.as_fd(), &[IoSlice::new(&buf)], Some(&info), 0);
}

fn serve(a: Arc<SctpSocket>, max_reqs: &'static str, seen: Arc<Mutex<Seen>>) {
    sctp::set_recvrcvinfo(a.as_fd(), true).unwrap();
    let mut decoders: HashMap<u16, Decoder> = HashMap::new();
    let mut params: HashMap<u16, Vec<u8>> = HashMap::new();
    let mut stdin: HashMap<u16, usize> = HashMap::new();
    let dead = Arc::new(AtomicBool::new(false));
    let mut buf = vec![0u8; 200_000];
    loop {
        let Ok(got) = sctp::recv_msg(a.as_fd(), &mut buf, 0) else {
            return;
        };
        if got.len == 0 || dead.load(Ordering::SeqCst) {
            return;
        }
        if got.notification {
            continue;
        }
        let stream = got.info.unwrap().sid;
        let d = decoders
            .entry(stream)
            .or_insert_with(|| Decoder::new(Limits::default()));
        d.push(&buf[..got.len]).unwrap();
        while let Some(rec) = d.next().unwrap() {
            seen.lock()
                .unwrap()
                .records
                .push((stream, rec.kind(), rec.request_id()));
            match rec {
                Record::GetValues { pairs } => {
                    // max_reqs "1" answers as stock libfcgi: no multiplexing.
                    let mpxs: &[u8] = if max_reqs == "1" { b"0" } else { b"1" };
                    let ans = pairs
                        .iter()
                        .filter_map(|(n, _)| match n.as_slice() {
                            b"FCGI_MAX_REQS" => Some((n.clone(), max_reqs.as_bytes().to_vec())),
                            b"FCGI_MPXS_CONNS" => Some((n.clone(), mpxs.to_vec())),
                            _ => None,
                        })
                        .collect();
                    send(&a, 1, &Record::GetValuesResult { pairs: ans });
                }
                Record::Params { id, data } if !data.is_empty() => {
                    params.entry(id).or_default().extend_from_slice(&data)
                }
                Record::Stdin { id, data } if !data.is_empty() => {
                    *stdin.entry(id).or_default() += data.len()
                }
                Record::Stdin { id, .. } => {
                    let pairs = fastcgi::decode_pairs(
                        &params.remove(&id).unwrap_or_default(),
                        &Limits::default(),
                    )
                    .unwrap();
                    let path = pairs
                        .iter()
                        .find(|(k, _)| k == b"SCRIPT_FILENAME")
                        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                        .unwrap_or_default();
                    let n = stdin.remove(&id).unwrap_or(0);
                    let a2 = a.clone();
                    let dead2 = dead.clone();
                    std::thread::spawn(move || respond(&a2, id, &path, n, &dead2));
                }
                Record::AbortRequest { id } => send(
                    &a,
                    id,
                    &Record::EndRequest {
                        id,
                        app_status: 1,
                        protocol_status: 0,
                    },
                ),
                _ => {}
            }
        }
    }
}

fn respond(a: &SctpSocket, id: u16, path: &str, stdin: usize, dead: &AtomicBool) {
    let head = "Content-Type: text/plain\r\n\r\n";
    match path {
        "/slow" => std::thread::sleep(Duration::from_millis(600)),
        "/die" => {
            send(
                a,
                id,
                &Record::Stdout {
                    id,
                    data: format!("{head}half").into_bytes(),
                },
            );
            std::thread::sleep(Duration::from_millis(100));
            dead.store(true, Ordering::SeqCst);
            let _ = socket2::SockRef::from(a).shutdown(std::net::Shutdown::Both);
            return;
        }
        "/stray" => {
            // Records where none may be: on stream 0, and a request's
            // record on stream 1.
            send(
                a,
                0,
                &Record::Stdout {
                    id,
                    data: b"on stream 0".to_vec(),
                },
            );
            send(
                a,
                1,
                &Record::Stdout {
                    id,
                    data: b"on stream 1".to_vec(),
                },
            );
        }
        "/log" => send(
            a,
            1,
            &Record::Stderr {
                id: 1,
                data: b"backend says hello\n".to_vec(),
            },
        ),
        _ => {}
    }
    let body = format!("{head}path={path} stream={id} stdin={stdin}");
    send(
        a,
        id,
        &Record::Stdout {
            id,
            data: body.into_bytes(),
        },
    );
    send(
        a,
        id,
        &Record::Stdout {
            id,
            data: Vec::new(),
        },
    );
    send(
        a,
        id,
        &Record::EndRequest {
            id,
            app_status: 0,
            protocol_status: 0,
        },
    );
}

type Lines = Arc<Mutex<Vec<(Level, String)>>>;

fn backend_for(t: &TestBackend, settings: Settings) -> (Arc<Backend>, Lines) {
    let lines: Lines = Arc::default();
    let l2 = lines.clone();
    let logger: association::Logger = Arc::new(move |lvl, msg: &str| {
        l2.lock().unwrap().push((lvl, msg.to_string()));
    });
    (
        Arc::new(Backend::new(
            &t.addr.to_string(),
            vec![t.addr],
            settings,
            logger,
        )),
        lines,
    )
}

/// Runs one request; returns (stdout, end or broken).
fn request(b: &Backend, path: &str, body: &[u8], timeout: Duration) -> (String, Event, u16) {
    let mut s = b.open_request(Duration::from_secs(5)).expect("a stream");
    let id = s.id();
    let mut out = Vec::new();
    association::encode_begin(
        id,
        &[(b"SCRIPT_FILENAME".to_vec(), path.as_bytes().to_vec())],
        &mut out,
    );
    if !body.is_empty() {
        fastcgi::encode_stream(record::STDIN, id, body, &mut out);
    }
    fastcgi::encode_stream(record::STDIN, id, &[], &mut out);
    s.send_all(&out).expect("send");
    let mut stdout = Vec::new();
    loop {
        match s.recv(timeout).expect("an event in time") {
            Event::Stdout(d) => stdout.extend_from_slice(&d),
            Event::Stderr(_) => {}
            ev => return (String::from_utf8_lossy(&stdout).into_owned(), ev, id),
        }
    }
}

#[test]
fn get_values_then_requests_on_their_own_streams() {
    need_sctp!();
    let t = test_backend("32", 10);
    let (b, _) = backend_for(&t, Settings::default());
    let big = vec![b'x'; 200_000];
    let (out, end, id) = request(&b, "/srv/a.php", &big, Duration::from_secs(5));
    assert_eq!(
        end,
        Event::End {
            app_status: 0,
            protocol_status: 0
        }
    );
    assert!(
        out.ends_with(&format!("path=/srv/a.php stream={id} stdin=200000")),
        "{out}"
    );
    assert!(id >= 2);
    let seen = t.seen.lock().unwrap();
    // The first record of the association is GET_VALUES, on stream 1.
    assert_eq!(seen.records[0], (1, record::GET_VALUES, 0));
    // Nothing on stream 0; every request record on the stream of its id.
    for &(stream, kind, rid) in &seen.records {
        assert_ne!(stream, 0, "a record on stream 0");
        if kind != record::GET_VALUES {
            assert_eq!(
                stream, rid,
                "record type {kind} of request {rid} on stream {stream}"
            );
        }
    }
    // 10 streams negotiated: 8 request streams, within FCGI_MAX_REQS 32.
    drop(seen);
    assert_eq!(b.associations(), 1);
}

#[test]
fn concurrent_requests_share_one_association() {
    need_sctp!();
    let t = test_backend("32", 34);
    let (b, _) = backend_for(&t, Settings::default());
    let t0 = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let b = b.clone();
            // All slow: a fast one could end and free its stream before
            // another starts (seen under load), and take that stream again.
            std::thread::spawn(move || request(&b, "/slow", b"", Duration::from_secs(5)))
        })
        .collect();
    let mut ids: Vec<u16> = handles
        .into_iter()
        .map(|h| {
            let (out, end, id) = h.join().unwrap();
            assert!(matches!(end, Event::End { app_status: 0, .. }), "{end:?}");
            assert!(out.contains(&format!("stream={id}")), "{out}");
            id
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "eight requests, eight distinct streams");
    assert_eq!(t.seen.lock().unwrap().associations, 1);
    // Eight slow requests (600 ms each) ran at once, not one after another.
    assert!(
        t0.elapsed() < Duration::from_millis(2000),
        "{:?}",
        t0.elapsed()
    );
}

#[test]
fn a_backend_that_takes_one_request_gets_more_associations() {
    need_sctp!();
    let t = test_backend("1", 34);
    let (b, _) = backend_for(&t, Settings::default());
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || request(&b, "/slow", b"", Duration::from_secs(5)))
        })
        .collect();
    for h in handles {
        let (_, end, _) = h.join().unwrap();
        assert!(matches!(end, Event::End { app_status: 0, .. }), "{end:?}");
    }
    assert_eq!(
        t.seen.lock().unwrap().associations,
        3,
        "FCGI_MPXS_CONNS 0: one association per concurrent request"
    );
    // Idle, they are closed: a libfcgi worker serves one association at a
    // time and would otherwise stay bound to an idle one.
    let deadline = Instant::now() + Duration::from_secs(2);
    while b.associations() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} associations stay open",
            b.associations()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (out, end, _) = request(&b, "/next", b"", Duration::from_secs(5));
    assert!(matches!(end, Event::End { app_status: 0, .. }), "{end:?}");
    assert!(out.contains("path=/next"));
}

#[test]
fn more_requests_than_streams_wait_for_a_free_one() {
    need_sctp!();
    // 4 streams: 2 request streams per association, and one association.
    let t = test_backend("32", 4);
    let settings = Settings {
        max_associations: 1,
        ..Settings::default()
    };
    let (b, _) = backend_for(&t, settings);
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || request(&b, "/slow", b"", Duration::from_secs(10)))
        })
        .collect();
    for h in handles {
        let (out, end, id) = h.join().unwrap();
        assert!(matches!(end, Event::End { app_status: 0, .. }), "{end:?}");
        assert!((2..4).contains(&id), "stream {id} of 4");
        assert!(out.contains("path=/slow"));
    }
}

#[test]
fn a_dying_backend_breaks_only_requests_in_flight_and_the_next_reconnects() {
    need_sctp!();
    let t = test_backend("32", 34);
    let (b, lines) = backend_for(&t, Settings::default());
    let slow = {
        let b = b.clone();
        std::thread::spawn(move || request(&b, "/slow", b"", Duration::from_secs(5)))
    };
    std::thread::sleep(Duration::from_millis(50));
    let (out, ev, _) = request(&b, "/die", b"", Duration::from_secs(5));
    assert!(out.ends_with("half"), "{out}");
    assert!(matches!(ev, Event::Broken(_)), "{ev:?}");
    let (_, ev, _) = slow.join().unwrap();
    assert!(
        matches!(ev, Event::Broken(_)),
        "the slow request shared the association: {ev:?}"
    );
    // The next request gets a new association.
    let (out, ev, _) = request(&b, "/again", b"", Duration::from_secs(5));
    assert!(matches!(ev, Event::End { app_status: 0, .. }), "{ev:?}");
    assert!(out.contains("path=/again"));
    assert_eq!(t.seen.lock().unwrap().associations, 2);
    assert!(lines
        .lock()
        .unwrap()
        .iter()
        .any(|(l, m)| *l == Level::Error && m.contains("ended") && m.contains("in flight")));
}

#[test]
fn log_lines_on_stream_1_and_timeouts_abort_one_stream() {
    need_sctp!();
    let t = test_backend("32", 34);
    let (b, lines) = backend_for(&t, Settings::default());
    let (out, _, _) = request(&b, "/log", b"", Duration::from_secs(5));
    assert!(out.contains("path=/log"));
    let deadline = Instant::now() + Duration::from_secs(2);
    while !lines
        .lock()
        .unwrap()
        .iter()
        .any(|(_, m)| m.contains("backend says hello") && m.contains(&t.addr.to_string()))
    {
        assert!(
            Instant::now() < deadline,
            "the backend's log line never arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A request that gives up after 100 ms sends ABORT_REQUEST on its stream.
    let mut s = b.open_request(Duration::from_secs(5)).unwrap();
    let id = s.id();
    let mut out = Vec::new();
    association::encode_begin(
        id,
        &[(b"SCRIPT_FILENAME".to_vec(), b"/slow".to_vec())],
        &mut out,
    );
    fastcgi::encode_stream(record::STDIN, id, &[], &mut out);
    s.send_all(&out).unwrap();
    assert!(
        s.recv(Duration::from_millis(100)).is_err(),
        "no answer within 100 ms"
    );
    drop(s);
    // Meanwhile another request on the same association completes.
    let (out, ev, other) = request(&b, "/fast", b"", Duration::from_secs(5));
    assert!(matches!(ev, Event::End { app_status: 0, .. }));
    assert_ne!(
        other, id,
        "the aborted stream stays busy until its END_REQUEST"
    );
    assert!(out.contains("path=/fast"));
    std::thread::sleep(Duration::from_millis(200));
    let seen = t.seen.lock().unwrap();
    assert!(seen
        .records
        .iter()
        .any(|&(s, k, rid)| s == id && k == record::ABORT_REQUEST && rid == id));
    assert_eq!(seen.associations, 1);
}

#[test]
fn records_on_stream_0_or_a_request_record_on_stream_1_are_dropped_and_logged() {
    need_sctp!();
    let t = test_backend("32", 34);
    let (b, lines) = backend_for(&t, Settings::default());
    let (out, end, id) = request(&b, "/stray", b"", Duration::from_secs(5));
    assert!(matches!(end, Event::End { app_status: 0, .. }), "{end:?}");
    assert!(
        out.ends_with(&format!("path=/stray stream={id} stdin=0")),
        "{out}"
    );
    assert!(
        !out.contains("on stream"),
        "a stray record reached the request: {out}"
    );
    let dropped: Vec<String> = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|(l, m)| *l == Level::Error && m.contains("dropped a record"))
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(dropped.len(), 2, "{dropped:?}");
    assert!(
        dropped.iter().any(|m| m.contains("on stream 0")),
        "{dropped:?}"
    );
    assert!(
        dropped.iter().any(|m| m.contains("on stream 1")),
        "{dropped:?}"
    );
    // The association goes on.
    let (out, _, _) = request(&b, "/after", b"", Duration::from_secs(5));
    assert!(out.contains("path=/after"));
    assert_eq!(t.seen.lock().unwrap().associations, 1);
}

#[test]
fn an_unreachable_backend_fails_every_waiting_request_at_once() {
    need_sctp!();
    // A port nobody listens on: the kernel answers INIT with ABORT.
    let t = test_backend("32", 34);
    let dead: SocketAddr = format!("127.0.0.1:{}", t.addr.port() + 1).parse().unwrap();
    let b = Arc::new(Backend::new(
        &dead.to_string(),
        vec![dead],
        Settings::default(),
        Arc::new(|_, _: &str| {}),
    ));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || b.open_request(Duration::from_secs(20)).err())
        })
        .collect();
    for h in handles {
        let e = h.join().unwrap();
        assert!(
            matches!(e, Some(association::OpenError::Connect(_))),
            "{e:?}"
        );
    }
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
}
