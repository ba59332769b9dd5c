use super::*;
use fastcgi::record::{Pairs, RESPONDER};

fn values() -> Values {
    Values {
        max_conns: 8,
        max_reqs: 3,
        mpxs_conns: true,
    }
}

fn sctp() -> Session {
    Session::new(Transport::Sctp, values(), "tcp:app:9000")
}

fn enc(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        r.encode(&mut out).unwrap();
    }
    out
}

fn dec(bytes: &[u8]) -> Vec<Record> {
    let mut d = Decoder::new(Limits {
        max_buffer: 1 << 20,
        ..Limits::default()
    });
    d.push(bytes).unwrap();
    let mut v = Vec::new();
    while let Some(r) = d.next().unwrap() {
        v.push(r);
    }
    d.finish().unwrap();
    v
}

/// (stream, record) for every Send.
fn sent(actions: &[Action]) -> Vec<(u16, Record)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { stream, bytes } => Some((*stream, bytes)),
            _ => None,
        })
        .flat_map(|(s, b)| dec(b).into_iter().map(move |r| (s, r)))
        .collect()
}

fn begin(id: u16) -> Record {
    Record::BeginRequest {
        id,
        role: RESPONDER,
        keep_conn: true,
    }
}

fn opened(actions: &[Action]) -> Vec<(u16, u64, Vec<Record>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Open { id, token, bytes } => Some((*id, *token, dec(bytes))),
            _ => None,
        })
        .collect()
}

fn to_app(actions: &[Action]) -> Vec<(u16, Record)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::ToApp { id, bytes, .. } => Some((*id, bytes)),
            _ => None,
        })
        .flat_map(|(i, b)| dec(b).into_iter().map(move |r| (i, r)))
        .collect()
}

fn gv(names: &[&str]) -> Record {
    Record::GetValues {
        pairs: names
            .iter()
            .map(|n| (n.as_bytes().to_vec(), vec![]))
            .collect(),
    }
}

#[test]
fn get_values_answered_on_stream_1() {
    let mut s = sctp();
    let a = s.receive(
        1,
        &enc(&[gv(&[
            "FCGI_MAX_CONNS",
            "FCGI_MAX_REQS",
            "FCGI_MPXS_CONNS",
            "X",
        ])]),
    );
    let want: Pairs = [
        ("FCGI_MAX_CONNS", "8"),
        ("FCGI_MAX_REQS", "3"),
        ("FCGI_MPXS_CONNS", "1"),
    ]
    .iter()
    .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
    .collect();
    assert_eq!(sent(&a), vec![(1, Record::GetValuesResult { pairs: want })]);
    let unknown = Record::Unknown {
        kind: 99,
        id: 0,
        content: vec![1, 2],
    };
    let a = s.receive(1, &enc(&[unknown]));
    assert_eq!(sent(&a), vec![(1, Record::UnknownType { kind: 99 })]);
}

#[test]
fn request_is_relayed_with_id_1_and_back_with_its_stream() {
    let mut s = sctp();
    let mut input = enc(&[
        begin(2),
        Record::Params {
            id: 2,
            data: b"\x01\x01ab".to_vec(),
        },
    ]);
    // Arrives in two pieces, cut inside a record.
    let rest = input.split_off(19);
    let a = s.receive(2, &input);
    let o = opened(&a);
    assert_eq!(o.len(), 1);
    let (id, token, recs) = &o[0];
    assert_eq!(*id, 2);
    assert_eq!(
        recs,
        &vec![Record::BeginRequest {
            id: 1,
            role: RESPONDER,
            keep_conn: false
        }],
        "id 1 and no KEEP_CONN toward the app"
    );
    let mut rest2 = rest;
    rest2.extend(enc(&[
        Record::Params {
            id: 2,
            data: vec![],
        },
        Record::Stdin {
            id: 2,
            data: vec![],
        },
    ]));
    let a = s.receive(2, &rest2);
    let fwd = to_app(&a);
    assert_eq!(fwd.len(), 3);
    assert!(fwd.iter().all(|(i, r)| *i == 2 && r.request_id() == 1));
    assert_eq!(
        a.iter()
            .filter(|a| matches!(a, Action::ToApp { .. }))
            .count(),
        1,
        "one write for one read"
    );
    assert_eq!(s.in_flight(), 1);

    let a = s.app_output(
        2,
        *token,
        &enc(&[
            Record::Stdout {
                id: 1,
                data: b"hello".to_vec(),
            },
            Record::Stderr {
                id: 1,
                data: b"warn".to_vec(),
            },
            Record::EndRequest {
                id: 1,
                app_status: 0,
                protocol_status: 0,
            },
        ]),
    );
    let got = sent(&a);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|(st, r)| *st == 2 && r.request_id() == 2));
    assert_eq!(
        a.iter()
            .filter(|a| matches!(a, Action::Send { .. }))
            .count(),
        1,
        "whole records in one message"
    );
    assert!(a.contains(&Action::CloseApp {
        id: 2,
        token: *token
    }));
    assert_eq!(s.in_flight(), 0);
    // Stale output of the finished request goes nowhere.
    assert!(s.app_output(2, *token, b"junk").is_empty());
    assert!(s.app_closed(2, *token).is_empty());
}

#[test]
fn violations_are_dropped_and_reported_on_stream_1() {
    let mut s = sctp();
    for (stream, r) in [
        (0, gv(&["FCGI_MAX_REQS"])),
        (0, begin(2)),
        (1, begin(1)),
        (3, begin(2)),
        (2, gv(&[])),
    ] {
        let a = s.receive(stream, &enc(&[r]));
        assert!(opened(&a).is_empty());
        let out = sent(&a);
        assert_eq!(out.len(), 1, "{a:?}");
        match &out[0] {
            (1, Record::Stderr { id: 1, data }) => {
                let line = String::from_utf8_lossy(data);
                assert!(line.contains(&format!("stream {stream}")), "{line}");
                assert!(line.ends_with('\n'));
            }
            other => panic!("{other:?}"),
        }
        assert!(a.iter().any(|a| matches!(a, Action::Log(Level::Warn, _))));
    }
    assert_eq!(s.in_flight(), 0);
    assert!(!s.is_closed());
}

#[test]
fn two_streams_at_once_and_the_limit() {
    let mut s = sctp();
    let mut tokens = vec![];
    for id in 2..5 {
        let a = s.receive(id, &enc(&[begin(id)]));
        tokens.push(opened(&a)[0].1);
    }
    assert_eq!(s.in_flight(), 3);
    // Fourth: over FCGI_MAX_REQS.
    let a = s.receive(
        5,
        &enc(&[
            begin(5),
            Record::Params {
                id: 5,
                data: vec![],
            },
        ]),
    );
    assert!(opened(&a).is_empty());
    assert_eq!(
        sent(&a),
        vec![(
            5,
            Record::EndRequest {
                id: 5,
                app_status: 0,
                protocol_status: record::OVERLOADED
            }
        )]
    );
    // A second BEGIN on a busy stream is refused.
    let a = s.receive(3, &enc(&[begin(3)]));
    assert!(opened(&a).is_empty());
    assert_eq!(sent(&a)[0].0, 1);
    // Output of stream 3's app arrives first: it goes out on stream 3.
    let a = s.app_output(
        3,
        tokens[1],
        &enc(&[Record::Stdout {
            id: 1,
            data: b"three".to_vec(),
        }]),
    );
    assert_eq!(sent(&a)[0].0, 3);
    assert!(s.app_output(3, tokens[0], b"x").is_empty(), "wrong token");
}

#[test]
fn abort_unreachable_and_vanished() {
    let mut s = sctp();
    let t2 = opened(&s.receive(2, &enc(&[begin(2)])))[0].1;
    let t3 = opened(&s.receive(3, &enc(&[begin(3)])))[0].1;
    let t4 = opened(&s.receive(4, &enc(&[begin(4)])))[0].1;

    let a = s.receive(2, &enc(&[Record::AbortRequest { id: 2 }]));
    assert_eq!(
        sent(&a),
        vec![(
            2,
            Record::EndRequest {
                id: 2,
                app_status: STATUS_ABORTED,
                protocol_status: 0
            }
        )]
    );
    assert!(a.contains(&Action::CloseApp { id: 2, token: t2 }));
    // Late app output of the aborted request is discarded.
    assert!(s
        .app_output(
            2,
            t2,
            &enc(&[Record::Stdout {
                id: 1,
                data: b"late".to_vec()
            }])
        )
        .is_empty());
    // Stdin still in flight for it is dropped too.
    let a = s.receive(
        2,
        &enc(&[Record::Stdin {
            id: 2,
            data: vec![],
        }]),
    );
    assert!(to_app(&a).is_empty() && sent(&a).is_empty());

    let a = s.app_failed(3, t3, "Connection refused");
    let out = sent(&a);
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(
        matches!(&out[0], (1, Record::Stderr { id: 1, data }) if String::from_utf8_lossy(data).contains("Connection refused"))
    );
    assert!(matches!(&out[1], (3, Record::Stderr { id: 3, .. })));
    assert_eq!(
        out[2],
        (
            3,
            Record::EndRequest {
                id: 3,
                app_status: STATUS_APP_UNREACHABLE,
                protocol_status: 0
            }
        )
    );

    let a = s.app_output(
        4,
        t4,
        &enc(&[Record::Stdout {
            id: 1,
            data: b"partial".to_vec(),
        }]),
    );
    assert_eq!(sent(&a).len(), 1);
    let a = s.app_closed(4, t4);
    let out = sent(&a);
    assert!(matches!(
        out.last(),
        Some((4, Record::EndRequest { id: 4, app_status, .. })) if *app_status != 0
    ));
    assert_eq!(s.in_flight(), 0);
    // The stream is free again.
    assert_eq!(opened(&s.receive(2, &enc(&[begin(2)]))).len(), 1);
}

#[test]
fn garbage_from_the_app_ends_the_request() {
    let mut s = sctp();
    let t = opened(&s.receive(2, &enc(&[begin(2)])))[0].1;
    let a = s.app_output(2, t, b"HTTP/1.0 200 OK\r\n");
    assert!(matches!(
        sent(&a).last(),
        Some((
            2,
            Record::EndRequest {
                app_status: STATUS_APP_PROTOCOL,
                ..
            }
        ))
    ));
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn broken_framing_closes_the_association() {
    let mut s = sctp();
    let t = opened(&s.receive(2, &enc(&[begin(2)])))[0].1;
    let a = s.receive(3, &[9, 9, 9, 9, 9, 9, 9, 9]);
    assert!(a.contains(&Action::CloseApp { id: 2, token: t }));
    assert_eq!(a.last(), Some(&Action::Close));
    assert!(matches!(sent(&a)[0], (1, Record::Stderr { id: 1, .. })));
    assert!(s.is_closed());
    assert!(s.receive(1, &enc(&[gv(&[])])).is_empty());
}

#[test]
fn tcp_multiplexes_by_id_and_honours_keep_conn() {
    let mut s = Session::new(Transport::Tcp, values(), "unix:/app");
    let mut bytes = enc(&[begin(1), begin(7), gv(&["FCGI_MPXS_CONNS"])]);
    bytes.extend(enc(&[Record::Stdin {
        id: 7,
        data: b"x".to_vec(),
    }]));
    let a = s.receive(0, &bytes);
    let o = opened(&a);
    assert_eq!(o.iter().map(|o| o.0).collect::<Vec<_>>(), vec![1, 7]);
    assert_eq!(
        to_app(&a),
        vec![(
            7,
            Record::Stdin {
                id: 1,
                data: b"x".to_vec()
            }
        )]
    );
    assert!(matches!(&sent(&a)[0], (0, Record::GetValuesResult { .. })));
    // No stream plan on TCP: id 1 is an ordinary request.
    let a = s.app_output(
        7,
        o[1].1,
        &enc(&[Record::EndRequest {
            id: 1,
            app_status: 0,
            protocol_status: 0,
        }]),
    );
    assert_eq!(sent(&a)[0].1.request_id(), 7);
    assert!(!a.contains(&Action::Close));
    // A request without KEEP_CONN closes the connection when it ends.
    let t = opened(&s.receive(
        0,
        &enc(&[Record::BeginRequest {
            id: 9,
            role: RESPONDER,
            keep_conn: false,
        }]),
    ))[0]
        .1;
    let a = s.app_closed(9, t);
    assert_eq!(a.last(), Some(&Action::Close));
    assert!(a.contains(&Action::CloseApp {
        id: 1,
        token: o[0].1
    }));
    assert!(
        !sent(&a).iter().any(|(s, _)| *s == 1),
        "no log lines on TCP"
    );
}
