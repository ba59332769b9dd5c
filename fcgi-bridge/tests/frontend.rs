//! Frontend mode over real SCTP (in the SCTP VM; skipped on a host without
//! SCTP): a plain TCP FastCGI client (as nginx) -> frontend -> SCTP ->
//! backend -> application.

mod common;

use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use common::*;
use fastcgi::record::{Record, RESPONDER};

fn backend(app: &str, extra: &[&str]) -> Bridge {
    let mut args = vec!["backend", "--listen", "sctp:127.0.0.1:0", "--app", app];
    args.extend_from_slice(extra);
    Bridge::start(&args, 1)
}

fn frontend(backend: &Bridge, extra: &[&str]) -> Bridge {
    let to = format!("sctp:{}", backend.addr(0));
    let mut args = vec!["frontend", "--listen", "tcp:127.0.0.1:0", "--backend", &to];
    args.extend_from_slice(extra);
    Bridge::start(&args, 1)
}

/// An nginx-style request: id 1 (or `id`), KEEP_CONN as given.
fn nginx(id: u16, keep_conn: bool, params: &[(&str, &str)], stdin: &[u8]) -> Vec<Record> {
    let mut r = request(id, params, stdin);
    r[0] = Record::BeginRequest {
        id,
        role: RESPONDER,
        keep_conn,
    };
    r
}

fn out_and_end(recs: &[Record], id: u16) -> (String, Option<u32>) {
    let mut out = Vec::new();
    let mut end = None;
    for r in recs {
        assert_eq!(r.request_id(), id, "{r:?}");
        match r {
            Record::Stdout { data, .. } => out.extend_from_slice(data),
            Record::EndRequest { app_status, .. } => end = Some(*app_status),
            _ => {}
        }
    }
    (String::from_utf8_lossy(&out).to_string(), end)
}

fn stderr_of(recs: &[Record]) -> String {
    let mut err = Vec::new();
    for r in recs {
        if let Record::Stderr { data, .. } = r {
            err.extend_from_slice(data);
        }
    }
    String::from_utf8_lossy(&err).to_string()
}

fn at_eof(c: &mut TcpStream) -> bool {
    use std::io::Read;
    c.set_read_timeout(Some(WAIT)).unwrap();
    let mut b = [0u8; 16];
    matches!(c.read(&mut b), Ok(0) | Err(_))
}

#[test]
fn tcp_client_through_frontend_and_backend_to_the_app() {
    need_sctp!();
    let app = TestApp::start();
    let b = backend(&app.endpoint(), &[]);
    let f = frontend(&b, &[]);
    let body = vec![b'q'; 200_000];
    // nginx without keepalive: id 1, no KEEP_CONN; closed after the answer.
    let mut c = TcpStream::connect(f.addr(0)).unwrap();
    let got = tcp_exchange(&mut c, &nginx(1, false, &[("TAG", "e2e")], &body), &[1]);
    let (out, end) = out_and_end(&got, 1);
    assert_eq!(end, Some(0));
    assert_eq!(out.len(), "TAG=e2e;".len() + body.len());
    assert!(out.starts_with("TAG=e2e;qqq"));
    assert!(at_eof(&mut c), "connection closed without KEEP_CONN");

    // With KEEP_CONN and another id: two requests one after the other.
    let mut c = TcpStream::connect(f.addr(0)).unwrap();
    for tag in ["k1", "k2"] {
        let got = tcp_exchange(&mut c, &nginx(3, true, &[("TAG", tag)], b""), &[3]);
        assert_eq!(out_and_end(&got, 3), (format!("TAG={tag};"), Some(0)));
    }
    // The backend's app saw id 1 without KEEP_CONN every time.
    assert!(app
        .stats
        .begins
        .lock()
        .unwrap()
        .iter()
        .all(|b| *b == (1, false)));

    // The backend's log lines show on the frontend's stderr, tagged.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let b2 = backend(&format!("tcp:{dead_addr}"), &[]);
    let f2 = frontend(&b2, &[]);
    let mut c = TcpStream::connect(f2.addr(0)).unwrap();
    let got = tcp_exchange(&mut c, &nginx(1, true, &[], b""), &[1]);
    let (_, end) = out_and_end(&got, 1);
    // Wire rule 8 from the backend: no END_REQUEST toward nginx, a STDERR
    // line and the connection closed (nginx: 502).
    assert_eq!(end, None, "{got:?}");
    assert!(stderr_of(&got).contains("cut short"), "{got:?}");
    assert!(at_eof(&mut c), "connection closed");
    let tag = format!("[backend sctp:{}]", b2.addr(0));
    assert!(f2.wait_stderr(&tag), "{}", f2.stderr());
    let line = f2
        .stderr()
        .lines()
        .find(|l| l.starts_with(&tag))
        .unwrap()
        .to_string();
    assert!(line.contains("cannot reach"), "{line}");
}

fn burst(f: &Bridge, n: usize, sleep_ms: &str) -> Vec<(String, Option<u32>)> {
    let addr = f.addr(0);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let sleep_ms = sleep_ms.to_string();
            thread::spawn(move || {
                let mut c = TcpStream::connect(addr).unwrap();
                let tag = format!("c{i}");
                let got = tcp_exchange(
                    &mut c,
                    &nginx(
                        1,
                        false,
                        &[("MODE", "sleep"), ("SLEEP_MS", &sleep_ms), ("TAG", &tag)],
                        b"",
                    ),
                    &[1],
                );
                out_and_end(&got, 1)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn more_requests_than_streams_all_complete() {
    need_sctp!();
    let app = TestApp::start();
    // 4 streams: 2 request streams per association, and only one
    // association: requests must wait for a free stream.
    let b = backend(&app.endpoint(), &["--streams", "4"]);
    let f = frontend(&b, &["--streams", "4", "--max-assocs", "1"]);
    let results = burst(&f, 12, "50");
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r, &(format!("TAG=c{i};"), Some(0)));
    }
    let max = app.stats.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 2, "at most 2 request streams: {max}");
    assert_eq!(app.stats.connections.load(Ordering::SeqCst), 12);

    // Same with room for more associations: they are opened.
    let app = TestApp::start();
    let b = backend(&app.endpoint(), &["--streams", "4"]);
    let f = frontend(&b, &["--streams", "4"]);
    let results = burst(&f, 12, "300");
    assert!(results.iter().all(|r| r.1 == Some(0)), "{results:?}");
    let max = app.stats.max_in_flight.load(Ordering::SeqCst);
    assert!(max > 2, "more associations carried more requests: {max}");
}

#[test]
fn backend_with_max_reqs_1_gets_one_request_per_association() {
    need_sctp!();
    let app = TestApp::start();
    let b = backend(&app.endpoint(), &["--max-reqs", "1"]);
    let f = frontend(&b, &[]);
    let results = burst(&f, 6, "300");
    assert!(results.iter().all(|r| r.1 == Some(0)), "{results:?}");
    let max = app.stats.max_in_flight.load(Ordering::SeqCst);
    assert!(max >= 2, "several associations at once: {max}");
    let ups = f.stderr().matches("association up").count();
    assert!(ups >= 2, "{}", f.stderr());
    assert!(
        f.stderr().contains("1 request(s) at once"),
        "{}",
        f.stderr()
    );
}

#[test]
fn lost_backend_ends_requests_and_the_next_one_reconnects() {
    need_sctp!();
    let app = TestApp::start();
    let mut b = backend(&app.endpoint(), &[]);
    let port = b.addr(0).port();
    let f = frontend(&b, &[]);
    let addr = f.addr(0);
    let slow = thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        let got = tcp_exchange(
            &mut c,
            &nginx(1, true, &[("MODE", "sleep"), ("SLEEP_MS", "5000")], b""),
            &[1],
        );
        (out_and_end(&got, 1), stderr_of(&got), at_eof(&mut c))
    });
    // Wait until the request reached the application, then kill the backend.
    let t = std::time::Instant::now();
    while app.stats.in_flight.load(Ordering::SeqCst) == 0 {
        assert!(t.elapsed() < WAIT, "request never reached the app");
        thread::sleep(Duration::from_millis(20));
    }
    b.kill();
    let ((_, end), err, closed) = slow.join().unwrap();
    assert_eq!(
        end, None,
        "no END_REQUEST: nginx must not take it as complete"
    );
    assert!(err.contains("association lost"), "{err}");
    assert!(closed, "the web server's connection is closed");
    assert!(f.wait_stderr("association lost"));

    // No backend at all: a STDERR line and the connection closed, no
    // END_REQUEST (nginx: 502 or its next server).
    let mut c = TcpStream::connect(f.addr(0)).unwrap();
    let got = tcp_exchange(&mut c, &nginx(1, true, &[], b""), &[1]);
    assert_eq!(out_and_end(&got, 1), (String::new(), None));
    assert!(stderr_of(&got).contains("connect"), "{got:?}");
    assert!(at_eof(&mut c));

    // A new backend on the same port: the next request reconnects.
    let listen = format!("sctp:127.0.0.1:{port}");
    let _b2 = Bridge::start(
        &["backend", "--listen", &listen, "--app", &app.endpoint()],
        1,
    );
    let mut c = TcpStream::connect(f.addr(0)).unwrap();
    let got = tcp_exchange(&mut c, &nginx(1, false, &[("TAG", "back")], b""), &[1]);
    assert_eq!(out_and_end(&got, 1), ("TAG=back;".into(), Some(0)));
}

#[test]
fn app_dying_mid_response_is_not_passed_off_as_complete() {
    need_sctp!();
    let app = TestApp::start();
    // One request stream on one association: the next request can run
    // only if the failed one released its stream.
    let b = backend(&app.endpoint(), &["--streams", "3"]);
    let f = frontend(&b, &["--streams", "3", "--max-assocs", "1"]);
    for keep_conn in [true, false] {
        let mut c = TcpStream::connect(f.addr(0)).unwrap();
        let got = tcp_exchange(&mut c, &nginx(1, keep_conn, &[("MODE", "die")], b""), &[1]);
        let (out, end) = out_and_end(&got, 1);
        assert_eq!(out, "partial", "what the app wrote is passed on");
        assert_eq!(end, None, "no END_REQUEST after a failed response: {got:?}");
        let err = stderr_of(&got);
        assert!(err.contains("cut short"), "{err}");
        assert!(at_eof(&mut c), "the connection is closed");

        let mut c = TcpStream::connect(f.addr(0)).unwrap();
        let got = tcp_exchange(&mut c, &nginx(1, keep_conn, &[("TAG", "next")], b""), &[1]);
        assert_eq!(out_and_end(&got, 1), ("TAG=next;".into(), Some(0)));
    }
    assert!(
        f.wait_stderr("closed without END_REQUEST"),
        "{}",
        f.stderr()
    );
    assert_eq!(
        f.stderr().matches("association up").count(),
        1,
        "the association outlived the failed requests: {}",
        f.stderr()
    );
}
