//! Backend mode over real SCTP (in the SCTP VM; skipped on a host without
//! SCTP): the stream plan, concurrency across streams, failures of the
//! application, and plain multiplexed FastCGI over TCP.

mod common;

use std::net::TcpStream;
use std::sync::atomic::Ordering;

use common::*;
use fastcgi::decode_pairs;
use fastcgi::record::{self, Limits, Record};

fn backend(app: &str, extra: &[&str]) -> Bridge {
    let mut args = vec!["backend", "--listen", "sctp:127.0.0.1:0", "--app", app];
    args.extend_from_slice(extra);
    let n = 1 + extra.iter().filter(|a| **a == "--listen").count();
    Bridge::start(&args, n)
}

fn log_lines(records: &[(u16, Record)]) -> Vec<String> {
    records
        .iter()
        .filter_map(|(s, r)| match r {
            Record::Stderr { id: 1, data } if *s == 1 => {
                Some(String::from_utf8_lossy(data).to_string())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn get_values_are_answered_on_stream_1() {
    need_sctp!();
    let app = TestApp::start();
    let b = backend(&app.endpoint(), &["--streams", "10", "--max-reqs", "5"]);
    let mut c = SctpClient::connect(b.addr(0), 16);
    assert_eq!(c.streams(), (10, 10), "the backend offers 10 streams");
    let names = [
        "FCGI_MAX_CONNS",
        "FCGI_MAX_REQS",
        "FCGI_MPXS_CONNS",
        "FCGI_BOGUS",
    ];
    c.send(
        1,
        &[Record::GetValues {
            pairs: names
                .iter()
                .map(|n| (n.as_bytes().to_vec(), vec![]))
                .collect(),
        }],
    );
    let (s, r) = c.next().expect("an answer");
    assert_eq!(s, 1, "answer on stream 1");
    let Record::GetValuesResult { pairs } = r else {
        panic!("{r:?}")
    };
    let got: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("FCGI_MAX_CONNS".into(), "256".into()),
            ("FCGI_MAX_REQS".into(), "5".into()),
            ("FCGI_MPXS_CONNS".into(), "1".into()),
        ]
    );
    // An unknown management type: FCGI_UNKNOWN_TYPE on stream 1.
    c.send(
        1,
        &[Record::Unknown {
            kind: 200,
            id: 0,
            content: vec![],
        }],
    );
    assert_eq!(c.next(), Some((1, Record::UnknownType { kind: 200 })));

    // max-reqs above the streams is cut to streams - 2.
    let b = backend(&app.endpoint(), &["--streams", "4", "--max-reqs", "50"]);
    let mut c = SctpClient::connect(b.addr(0), 16);
    c.send(
        1,
        &[Record::GetValues {
            pairs: vec![(b"FCGI_MAX_REQS".to_vec(), vec![])],
        }],
    );
    assert_eq!(
        c.next(),
        Some((
            1,
            Record::GetValuesResult {
                pairs: vec![(b"FCGI_MAX_REQS".to_vec(), b"2".to_vec())]
            }
        ))
    );
}

#[test]
fn two_requests_on_streams_2_and_3_interleave() {
    need_sctp!();
    let app = TestApp::start();
    let b = backend(&app.endpoint(), &[]);
    let mut c = SctpClient::connect(b.addr(0), 34);
    // Each request writes step i only after the client has received step
    // i - 1 of both: the answers must interleave on the one association.
    c.send(
        2,
        &request(2, &[("MODE", "gated"), ("TAG", "a"), ("STEPS", "3")], b""),
    );
    c.send(
        3,
        &request(3, &[("MODE", "gated"), ("TAG", "b"), ("STEPS", "3")], b""),
    );
    app.stats.open_gate("a", 1);
    app.stats.open_gate("b", 1);
    let mut got = Vec::new();
    let mut steps = [0usize; 2];
    let mut ended = 0;
    while ended < 2 {
        let (s, r) = c.next().unwrap_or_else(|| panic!("timed out; got {got:?}"));
        assert!(s == 2 || s == 3, "{s}: {r:?}");
        assert_eq!(r.request_id(), s, "records come back on their id's stream");
        match &r {
            Record::Stdout { data, .. } if !data.is_empty() => {
                steps[s as usize - 2] += 1;
                let done = steps[0].min(steps[1]);
                app.stats.open_gate("a", done + 1);
                app.stats.open_gate("b", done + 1);
            }
            Record::EndRequest { .. } => ended += 1,
            _ => {}
        }
        got.push((s, r));
    }
    assert_eq!(stdout_of(&got, 2), "a0;a1;a2;");
    assert_eq!(stdout_of(&got, 3), "b0;b1;b2;");
    assert_eq!(end_of(&got, 2), Some((0, 0)));
    assert_eq!(end_of(&got, 3), Some((0, 0)));
    // Interleaved: each stream's output began before the other's ended.
    let pos = |pred: &dyn Fn(&(u16, Record)) -> bool| got.iter().position(pred).unwrap();
    let first = |st: u16| pos(&|(s, r)| *s == st && matches!(r, Record::Stdout { .. }));
    let end = |st: u16| pos(&|(s, r)| *s == st && matches!(r, Record::EndRequest { .. }));
    assert!(first(3) < end(2), "{got:?}");
    assert!(first(2) < end(3), "{got:?}");
    // The application saw id 1 and no KEEP_CONN, one connection each.
    assert_eq!(
        *app.stats.begins.lock().unwrap(),
        vec![(1, false), (1, false)]
    );
    assert_eq!(app.stats.max_in_flight.load(Ordering::SeqCst), 2);
}

#[test]
fn plan_violations_are_dropped_and_logged_on_stream_1() {
    need_sctp!();
    let app = TestApp::start();
    let b = backend(&app.endpoint(), &[]);
    let mut c = SctpClient::connect(b.addr(0), 34);
    // A request on stream 1, one on stream 0, and an id that is not its
    // stream's number.
    c.send(1, &request(1, &[("TAG", "one")], b""));
    c.send(0, &request(2, &[("TAG", "zero")], b""));
    c.send(4, &request(5, &[("TAG", "mismatch")], b""));
    // Then a good one: it must work, and be the only one the app sees.
    c.send(2, &request(2, &[("TAG", "good")], b""));
    let got = c.until_ended(&[2]);
    assert_eq!(stdout_of(&got, 2), "TAG=good;");
    let mut lines = log_lines(&got);
    // One report per dropped record (three requests of four records),
    // sent before the good request's answer; read any not yet read.
    while lines.len() < 3 * 4 {
        match c.next() {
            Some((1, Record::Stderr { id: 1, data })) => {
                lines.push(String::from_utf8_lossy(&data).to_string())
            }
            other => panic!("{other:?}; lines so far {lines:#?}"),
        }
    }
    assert_eq!(lines.len(), 12, "{lines:#?}");
    let text = lines.join("");
    assert!(text.contains("stream 0"), "{text}");
    assert!(text.contains("management stream 1"), "{text}");
    assert!(text.contains("request id 5 on stream 4"), "{text}");
    assert!(
        got.iter().all(|(s, _)| *s == 1 || *s == 2),
        "nothing answered on other streams: {got:?}"
    );
    assert_eq!(app.stats.connections.load(Ordering::SeqCst), 1);
    assert!(b.wait_stderr("record type 1 dropped"));
}

#[test]
fn app_killed_mid_response_ends_only_its_stream() {
    need_sctp!();
    let app = TestApp::start();
    let b = backend(&app.endpoint(), &[]);
    let mut c = SctpClient::connect(b.addr(0), 34);
    c.send(
        3,
        &request(
            3,
            &[("MODE", "sleep"), ("SLEEP_MS", "300"), ("TAG", "ok")],
            b"body",
        ),
    );
    c.send(2, &request(2, &[("MODE", "die")], b""));
    let got = c.until_ended(&[2, 3]);
    assert_eq!(stdout_of(&got, 2), "partial");
    let (status, proto) = end_of(&got, 2).unwrap();
    assert_ne!(status, 0, "a vanished app is a failure");
    assert_eq!(proto, record::REQUEST_COMPLETE);
    assert_eq!(stdout_of(&got, 3), "TAG=ok;body");
    assert_eq!(end_of(&got, 3), Some((0, 0)));
    let ended2 = got
        .iter()
        .position(|(s, r)| *s == 2 && matches!(r, Record::EndRequest { .. }));
    let ended3 = got
        .iter()
        .position(|(s, r)| *s == 3 && matches!(r, Record::EndRequest { .. }));
    assert!(
        ended2 < ended3,
        "the failure did not wait for the slow request"
    );
    // Stream 2 is free again.
    c.send(2, &request(2, &[("TAG", "again")], b""));
    let got = c.until_ended(&[2]);
    assert_eq!(stdout_of(&got, 2), "TAG=again;");
}

#[test]
fn unreachable_app_and_abort() {
    need_sctp!();
    // A port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let b = backend(&format!("tcp:{dead_addr}"), &[]);
    let mut c = SctpClient::connect(b.addr(0), 34);
    c.send(5, &request(5, &[], b""));
    let got = c.until_ended(&[5]);
    let (status, proto) = end_of(&got, 5).unwrap();
    assert_ne!(status, 0);
    assert_eq!(proto, record::REQUEST_COMPLETE);
    assert!(got
        .iter()
        .any(|(s, r)| *s == 5 && matches!(r, Record::Stderr { id: 5, .. })));
    let mut lines = log_lines(&got);
    if lines.is_empty() {
        if let Some((1, Record::Stderr { data, .. })) = c.next() {
            lines.push(String::from_utf8_lossy(&data).to_string());
        }
    }
    assert!(
        lines.iter().any(|l| l.contains("cannot reach")),
        "{lines:?}"
    );

    // Abort: a slow request on stream 2 is aborted; END_REQUEST comes at once.
    let app = TestApp::start();
    let b = backend(&app.endpoint(), &[]);
    let mut c = SctpClient::connect(b.addr(0), 34);
    c.send(
        2,
        &request(2, &[("MODE", "sleep"), ("SLEEP_MS", "3000")], b""),
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let t = std::time::Instant::now();
    c.send(2, &[Record::AbortRequest { id: 2 }]);
    let got = c.until_ended(&[2]);
    assert!(t.elapsed() < std::time::Duration::from_millis(2000));
    assert!(end_of(&got, 2).is_some());
    assert_eq!(stdout_of(&got, 2), "");
    c.send(2, &request(2, &[("TAG", "after")], b""));
    let got = c.until_ended(&[2]);
    assert_eq!(
        stdout_of(&got, 2),
        "TAG=after;",
        "no leftovers of the aborted one"
    );
}

#[test]
fn tcp_listener_multiplexes_requests() {
    need_sctp!();
    let app = TestApp::start();
    let b = backend(&app.endpoint(), &["--listen", "tcp:127.0.0.1:0"]);
    let mut c = TcpStream::connect(b.addr(1)).unwrap();
    let mut recs = vec![Record::GetValues {
        pairs: vec![(b"FCGI_MPXS_CONNS".to_vec(), vec![])],
    }];
    let a = request(
        1,
        &[
            ("MODE", "steps"),
            ("TAG", "x"),
            ("PEER", "y"),
            ("STEPS", "2"),
        ],
        b"",
    );
    let bq = request(
        9,
        &[
            ("MODE", "steps"),
            ("TAG", "y"),
            ("PEER", "x"),
            ("STEPS", "2"),
        ],
        b"",
    );
    // Interleave the two requests' records on the one connection.
    for (r1, r2) in a.iter().zip(bq.iter()) {
        recs.push(r1.clone());
        recs.push(r2.clone());
    }
    recs.extend(a.iter().skip(bq.len()).cloned());
    let got = tcp_exchange(&mut c, &recs, &[1, 9]);
    match &got[0] {
        Record::GetValuesResult { pairs } => {
            assert_eq!(
                decode_pairs(
                    &{
                        let mut b = Vec::new();
                        fastcgi::encode_pairs(pairs, &mut b);
                        b
                    },
                    &Limits::default()
                )
                .unwrap(),
                vec![(b"FCGI_MPXS_CONNS".to_vec(), b"1".to_vec())]
            )
        }
        r => panic!("{r:?}"),
    }
    let out = |id| -> String {
        got.iter()
            .filter_map(|r| match r {
                Record::Stdout { id: i, data } if *i == id => {
                    Some(String::from_utf8_lossy(data).to_string())
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(out(1), "x0;x1;");
    assert_eq!(out(9), "y0;y1;");
    assert_eq!(
        app.stats.max_in_flight.load(Ordering::SeqCst),
        2,
        "both ran at once"
    );
}

#[test]
fn request_mode_runs_many_requests_over_sctp_and_tcp() {
    need_sctp!();
    let app = TestApp::start();
    let b = backend(
        &app.endpoint(),
        &["--streams", "6", "--listen", "tcp:127.0.0.1:0"],
    );
    let to = format!("sctp:{}", b.addr(0));
    let (code, out, err) = run_bridge(&[
        "request",
        "--to",
        &to,
        "--param",
        "TAG=r",
        "--count",
        "20",
        "--concurrency",
        "8",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("TAG=r;").count(), 20, "{out}");
    assert!(err.contains("allows 4 request(s) at once"), "{err}");
    assert!(err.contains("20 ok, 0 failed"), "{err}");
    assert!(app.stats.max_in_flight.load(Ordering::SeqCst) <= 4);

    let dir = std::env::temp_dir().join(format!("fcgi-bridge-req-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("body");
    std::fs::write(&body, vec![b'z'; 100_000]).unwrap();
    let to = format!("tcp:{}", b.addr(1));
    let (code, out, err) = run_bridge(&[
        "request",
        "--to",
        &to,
        "--param",
        "TAG=t",
        "--stdin",
        body.to_str().unwrap(),
        "--count",
        "6",
        "--concurrency",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("TAG=t;").count(), 6);
    assert_eq!(out.len(), 6 * (6 + 100_000));

    // A failing application status is exit status 2.
    let to = format!("sctp:{}", b.addr(0));
    let (code, _, err) = run_bridge(&[
        "request",
        "--to",
        &to,
        "--param",
        "MODE=status",
        "--param",
        "STATUS=7",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("app status 7"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
