//! One web-server connection of the frontend (nginx: plain FastCGI over
//! TCP, one request at a time, any request id), sans-I/O.
//!
//! The request is mapped to a free SCTP stream n: its records leave with
//! id n (BEGIN_REQUEST with FCGI_KEEP_CONN: the association outlives the
//! request) and the backend's answer comes back with the web server's id.
//! The stream is released when the END_REQUEST arrives, also when the web
//! server went away meanwhile (it is then sent FCGI_ABORT_REQUEST).
//!
//! A request that fails on the SCTP side (its association is lost, or the
//! backend ends it with app status 0xFFFFFFxx, wire rule 8) is never
//! passed off as complete: the web server gets a STDERR line and then its
//! connection is closed without FCGI_END_REQUEST. nginx then logs "upstream
//! prematurely closed connection" and answers 502 if it had no header yet,
//! else cuts the client's response short (with `fastcgi_keep_conn on`;
//! without it nginx takes any close as the end of the response).

use fastcgi::record::{self, Decoder, Limits, Record};

use crate::rewrite::{self, set_id};
use fastcgi::management::{self, Values};

/// Wire rule 8: an app status 0xFFFFFFxx means the backend had to end the
/// request itself because the application failed.
pub fn is_failed_status(app_status: u32) -> bool {
    app_status & 0xFFFF_FF00 == 0xFFFF_FF00
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Bytes for the web server.
    Reply(Vec<u8>),
    /// Whole records for the backend on `stream`.
    ToBackend { stream: u16, bytes: Vec<u8> },
    /// A request began: find a stream and call [`FrontConn::assigned`] (or
    /// [`FrontConn::no_backend`]).
    NeedStream,
    /// The request on `stream` is over: the stream is free.
    Release { stream: u16 },
    /// Close the web server's connection.
    Close,
    /// Something odd, for the log.
    Note(String),
    /// A request failed, for the log (warning).
    Warn(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    /// BEGIN_REQUEST seen, no stream yet.
    Waiting {
        orig: u16,
        role: u16,
        keep_conn: bool,
    },
    Active {
        orig: u16,
        stream: u16,
        keep_conn: bool,
    },
}

#[derive(Debug)]
pub struct FrontConn {
    decoder: Decoder,
    state: State,
    /// Records of the request that came before it had a stream.
    pending: Vec<Record>,
    client_gone: bool,
    values: Values,
}

impl FrontConn {
    /// `values`: what GET_VALUES from the web server is told.
    pub fn new(values: Values) -> FrontConn {
        FrontConn {
            decoder: Decoder::new(Limits::default()),
            state: State::Idle,
            pending: Vec::new(),
            client_gone: false,
            values,
        }
    }

    /// The stream of the request in flight, if it has one.
    #[cfg(test)]
    pub fn stream(&self) -> Option<u16> {
        match self.state {
            State::Active { stream, .. } => Some(stream),
            _ => None,
        }
    }

    /// Bytes from the web server.
    pub fn client_bytes(&mut self, bytes: &[u8]) -> Vec<Action> {
        let mut out = Vec::new();
        for chunk in bytes.chunks(4096) {
            if let Err(e) = self.decoder.push(chunk) {
                return self.client_broken(&e.to_string(), out);
            }
            loop {
                match self.decoder.next() {
                    Ok(Some(r)) => self.client_record(r, &mut out),
                    Ok(None) => break,
                    Err(e) => return self.client_broken(&e.to_string(), out),
                }
            }
        }
        out
    }

    fn client_broken(&mut self, why: &str, mut out: Vec<Action>) -> Vec<Action> {
        out.push(Action::Note(format!("web server sent garbage: {why}")));
        out.extend(self.client_eof());
        out.push(Action::Close);
        out
    }

    fn client_record(&mut self, r: Record, out: &mut Vec<Action>) {
        match (&r, self.state) {
            (Record::GetValues { pairs }, _) => {
                reply(out, &management::answer(pairs, &self.values));
            }
            (Record::Unknown { kind, id: 0, .. }, _) => {
                reply(out, &Record::UnknownType { kind: *kind });
            }
            (
                Record::BeginRequest {
                    id,
                    role,
                    keep_conn,
                },
                State::Idle,
            ) => {
                self.state = State::Waiting {
                    orig: *id,
                    role: *role,
                    keep_conn: *keep_conn,
                };
                self.pending.clear();
                out.push(Action::NeedStream);
            }
            (Record::BeginRequest { id, .. }, _) => {
                reply(
                    out,
                    &Record::EndRequest {
                        id: *id,
                        app_status: 0,
                        protocol_status: record::CANT_MPX_CONN,
                    },
                );
            }
            (
                Record::Params { id, .. }
                | Record::Stdin { id, .. }
                | Record::Data { id, .. }
                | Record::AbortRequest { id },
                State::Waiting { orig, .. },
            ) if *id == orig => {
                // At most what one read decoded; the caller stops reading
                // until the stream is assigned.
                self.pending.push(r);
            }
            (
                Record::Params { id, .. }
                | Record::Stdin { id, .. }
                | Record::Data { id, .. }
                | Record::AbortRequest { id },
                State::Active { orig, stream, .. },
            ) if *id == orig => {
                to_backend(out, stream, &set_id(r, stream));
            }
            (r, _) => out.push(Action::Note(format!(
                "record type {} for request {} dropped",
                r.kind(),
                r.request_id()
            ))),
        }
    }

    /// The waiting request got `stream`.
    pub fn assigned(&mut self, stream: u16) -> Vec<Action> {
        let mut out = Vec::new();
        let State::Waiting {
            orig,
            role,
            keep_conn,
        } = self.state
        else {
            return out;
        };
        self.state = State::Active {
            orig,
            stream,
            keep_conn,
        };
        to_backend(
            &mut out,
            stream,
            &Record::BeginRequest {
                id: stream,
                role,
                keep_conn: true,
            },
        );
        for r in std::mem::take(&mut self.pending) {
            to_backend(&mut out, stream, &set_id(r, stream));
        }
        if self.client_gone {
            to_backend(&mut out, stream, &Record::AbortRequest { id: stream });
        }
        out
    }

    /// No stream could be had: the backend is unreachable. Nothing of the
    /// response has gone to the web server; it is ended as a failed one
    /// all the same (nginx: 502, or its next upstream server).
    pub fn no_backend(&mut self, why: &str) -> Vec<Action> {
        let mut out = Vec::new();
        let State::Waiting { orig, .. } = self.state else {
            return out;
        };
        self.state = State::Idle;
        self.pending.clear();
        self.fail(orig, why, &mut out);
        out
    }

    /// A record from the backend on this request's stream.
    pub fn backend_record(&mut self, r: Record) -> Vec<Action> {
        let mut out = Vec::new();
        let State::Active {
            orig,
            stream,
            keep_conn,
        } = self.state
        else {
            out.push(Action::Note(format!(
                "record type {} from the backend for no request; dropped",
                r.kind()
            )));
            return out;
        };
        let end = matches!(r, Record::EndRequest { .. });
        match r {
            Record::EndRequest { app_status, .. } if is_failed_status(app_status) => {
                // Wire rule 8: a failed response. No END_REQUEST to the web
                // server: it must not take what it got as the whole answer.
                self.state = State::Idle;
                out.push(Action::Release { stream });
                self.fail(
                    orig,
                    &format!(
                        "the backend ended request {stream} as failed (app status {app_status:#010x})"
                    ),
                    &mut out,
                );
                return out;
            }
            Record::Stdout { .. } | Record::Stderr { .. } | Record::EndRequest { .. } => {
                if !self.client_gone {
                    reply(&mut out, &set_id(r, orig));
                }
            }
            r => out.push(Action::Note(format!(
                "record type {} from the backend on stream {stream}; dropped",
                r.kind()
            ))),
        }
        if end {
            self.state = State::Idle;
            out.push(Action::Release { stream });
            if !keep_conn || self.client_gone {
                out.push(Action::Close);
            }
        }
        out
    }

    /// The association carrying this request is gone.
    pub fn backend_lost(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        let State::Active { orig, .. } = self.state else {
            return out;
        };
        self.state = State::Idle;
        self.fail(orig, "backend association lost", &mut out);
        out
    }

    /// Ends the request `orig` as failed: a STDERR line (if the web server
    /// is still there) and the connection closed without END_REQUEST.
    fn fail(&mut self, orig: u16, why: &str, out: &mut Vec<Action>) {
        if !self.client_gone {
            reply(
                out,
                &Record::Stderr {
                    id: orig,
                    data: format!("fcgi-bridge: {why}; response cut short\n").into_bytes(),
                },
            );
        }
        out.push(Action::Warn(format!(
            "request {orig}: {why}; web server connection closed without END_REQUEST"
        )));
        out.push(Action::Close);
    }

    /// The web server closed its connection.
    pub fn client_eof(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        self.client_gone = true;
        if let State::Active { stream, .. } = self.state {
            to_backend(&mut out, stream, &Record::AbortRequest { id: stream });
        }
        out
    }
}

fn reply(out: &mut Vec<Action>, r: &Record) {
    let last = match out.last_mut() {
        Some(Action::Reply(b)) => Some(b),
        _ => None,
    };
    if let Some(b) = rewrite::append(last, r) {
        out.push(Action::Reply(b));
    }
}

fn to_backend(out: &mut Vec<Action>, stream: u16, r: &Record) {
    let last = match out.last_mut() {
        Some(Action::ToBackend { stream: s, bytes }) if *s == stream => Some(bytes),
        _ => None,
    };
    if let Some(bytes) = rewrite::append(last, r) {
        out.push(Action::ToBackend { stream, bytes });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastcgi::record::RESPONDER;

    fn values() -> Values {
        Values {
            max_conns: 100,
            max_reqs: 1,
            mpxs_conns: false,
        }
    }

    fn enc(rs: &[Record]) -> Vec<u8> {
        let mut v = Vec::new();
        for r in rs {
            r.encode(&mut v).unwrap();
        }
        v
    }

    fn dec(b: &[u8]) -> Vec<Record> {
        let mut d = Decoder::new(Limits {
            max_buffer: 1 << 20,
            ..Limits::default()
        });
        d.push(b).unwrap();
        let mut v = vec![];
        while let Some(r) = d.next().unwrap() {
            v.push(r);
        }
        v
    }

    fn replies(a: &[Action]) -> Vec<Record> {
        a.iter()
            .flat_map(|a| match a {
                Action::Reply(b) => dec(b),
                _ => vec![],
            })
            .collect()
    }

    fn backend(a: &[Action]) -> Vec<(u16, Record)> {
        a.iter()
            .flat_map(|a| match a {
                Action::ToBackend { stream, bytes } => {
                    dec(bytes).into_iter().map(|r| (*stream, r)).collect()
                }
                _ => vec![],
            })
            .collect()
    }

    fn nginx_request(id: u16, keep_conn: bool) -> Vec<u8> {
        enc(&[
            Record::BeginRequest {
                id,
                role: RESPONDER,
                keep_conn,
            },
            Record::Params {
                id,
                data: b"\x01\x01ab".to_vec(),
            },
            Record::Params { id, data: vec![] },
            Record::Stdin { id, data: vec![] },
        ])
    }

    #[test]
    fn ids_are_rewritten_both_ways() {
        let mut f = FrontConn::new(values());
        let a = f.client_bytes(&nginx_request(1, false));
        assert_eq!(a, vec![Action::NeedStream]);
        let a = f.assigned(7);
        let recs = backend(&a);
        assert_eq!(recs.len(), 4);
        assert!(recs.iter().all(|(s, r)| *s == 7 && r.request_id() == 7));
        assert_eq!(
            recs[0].1,
            Record::BeginRequest {
                id: 7,
                role: RESPONDER,
                keep_conn: true
            },
            "KEEP_CONN toward the backend"
        );
        assert_eq!(a.len(), 1, "one message");
        assert_eq!(f.stream(), Some(7));
        let a = f.backend_record(Record::Stdout {
            id: 7,
            data: b"hi".to_vec(),
        });
        assert_eq!(
            replies(&a),
            vec![Record::Stdout {
                id: 1,
                data: b"hi".to_vec()
            }]
        );
        let a = f.backend_record(Record::EndRequest {
            id: 7,
            app_status: 0,
            protocol_status: 0,
        });
        assert_eq!(replies(&a)[0].request_id(), 1);
        assert!(a.contains(&Action::Release { stream: 7 }));
        assert_eq!(
            a.last(),
            Some(&Action::Close),
            "nginx did not keep the connection"
        );
        assert_eq!(f.stream(), None);
    }

    #[test]
    fn keep_conn_requests_follow_each_other() {
        let mut f = FrontConn::new(values());
        assert_eq!(
            f.client_bytes(&nginx_request(1, true)),
            vec![Action::NeedStream]
        );
        f.assigned(2);
        // A second BEGIN while the first runs: CANT_MPX_CONN.
        let a = f.client_bytes(&enc(&[Record::BeginRequest {
            id: 2,
            role: RESPONDER,
            keep_conn: true,
        }]));
        assert_eq!(
            replies(&a),
            vec![Record::EndRequest {
                id: 2,
                app_status: 0,
                protocol_status: record::CANT_MPX_CONN
            }]
        );
        let a = f.backend_record(Record::EndRequest {
            id: 2,
            app_status: 0,
            protocol_status: 0,
        });
        assert!(!a.contains(&Action::Close));
        assert_eq!(
            f.client_bytes(&nginx_request(1, true)),
            vec![Action::NeedStream]
        );
        let a = f.assigned(3);
        assert!(backend(&a).iter().all(|(s, _)| *s == 3));
    }

    #[test]
    fn client_gone_aborts_and_waits_for_the_end() {
        let mut f = FrontConn::new(values());
        f.client_bytes(&nginx_request(1, true));
        f.assigned(4);
        let a = f.client_eof();
        assert_eq!(backend(&a), vec![(4, Record::AbortRequest { id: 4 })]);
        let a = f.backend_record(Record::Stdout {
            id: 4,
            data: b"late".to_vec(),
        });
        assert!(replies(&a).is_empty());
        let a = f.backend_record(Record::EndRequest {
            id: 4,
            app_status: 0,
            protocol_status: 0,
        });
        assert!(a.contains(&Action::Release { stream: 4 }));
        assert!(replies(&a).is_empty());
    }

    /// No END_REQUEST, a STDERR line, then the connection closed.
    fn assert_failed(a: &[Action], id: u16) {
        let r = replies(a);
        assert!(
            !r.iter().any(|r| matches!(r, Record::EndRequest { .. })),
            "no END_REQUEST to the web server: {r:?}"
        );
        assert!(
            matches!(r.last(), Some(Record::Stderr { id: i, data }) if *i == id
                && String::from_utf8_lossy(data).contains("response cut short")),
            "{r:?}"
        );
        assert_eq!(a.last(), Some(&Action::Close));
        assert!(a.iter().any(|a| matches!(a, Action::Warn(_))));
    }

    #[test]
    fn backend_lost_and_unreachable() {
        let mut f = FrontConn::new(values());
        f.client_bytes(&nginx_request(1, true));
        f.assigned(2);
        let a = f.backend_record(Record::Stdout {
            id: 2,
            data: b"Status: 200\r\n\r\nhalf".to_vec(),
        });
        assert_eq!(replies(&a).len(), 1);
        let a = f.backend_lost();
        assert_failed(&a, 1);
        assert!(
            !a.iter().any(|a| matches!(a, Action::Release { .. })),
            "the pool drops the association"
        );
        assert_eq!(f.stream(), None);
        assert!(f.backend_lost().is_empty(), "nothing in flight any more");

        // Unreachable: no END_REQUEST either (nothing was sent yet; nginx
        // answers 502 or tries its next server).
        let mut f = FrontConn::new(values());
        f.client_bytes(&nginx_request(3, true));
        let a = f.no_backend("backend sctp:x: connect: refused");
        assert_failed(&a, 3);
        let r = replies(&a);
        assert!(matches!(&r[..], [Record::Stderr { data, .. }]
            if String::from_utf8_lossy(data).contains("connect: refused")));
        assert_eq!(f.stream(), None);
    }

    #[test]
    fn failed_status_from_the_backend_is_not_passed_off_as_complete() {
        assert!(is_failed_status(0xFFFF_FF01));
        assert!(is_failed_status(0xFFFF_FFFF));
        assert!(!is_failed_status(0));
        assert!(!is_failed_status(1));
        assert!(!is_failed_status(0xFFFF_FE01));

        // Some STDOUT went out, then wire rule 8's END_REQUEST arrives: the
        // backend's STDERR line is passed on, END_REQUEST is not.
        let mut f = FrontConn::new(values());
        f.client_bytes(&nginx_request(1, true));
        f.assigned(5);
        f.backend_record(Record::Stdout {
            id: 5,
            data: b"Content-Type: text/plain\r\n\r\npart".to_vec(),
        });
        let a = f.backend_record(Record::Stderr {
            id: 5,
            data: b"fcgi-bridge: application vanished\n".to_vec(),
        });
        assert!(matches!(&replies(&a)[..], [Record::Stderr { id: 1, .. }]));
        let a = f.backend_record(Record::EndRequest {
            id: 5,
            app_status: 0xFFFF_FF01,
            protocol_status: record::REQUEST_COMPLETE,
        });
        assert_failed(&a, 1);
        assert!(
            a.contains(&Action::Release { stream: 5 }),
            "the stream is free again: its END_REQUEST arrived"
        );
        assert_eq!(f.stream(), None);

        // Without KEEP_CONN the same; an ordinary nonzero app status is
        // the application's own and passes through.
        let mut f = FrontConn::new(values());
        f.client_bytes(&nginx_request(1, false));
        f.assigned(2);
        let a = f.backend_record(Record::EndRequest {
            id: 2,
            app_status: 3,
            protocol_status: 0,
        });
        assert!(matches!(
            &replies(&a)[..],
            [Record::EndRequest {
                id: 1,
                app_status: 3,
                ..
            }]
        ));
        assert_eq!(a.last(), Some(&Action::Close));

        // The web server already gone: nothing to write, stream released,
        // connection closed.
        let mut f = FrontConn::new(values());
        f.client_bytes(&nginx_request(1, true));
        f.assigned(4);
        f.client_eof();
        let a = f.backend_record(Record::EndRequest {
            id: 4,
            app_status: 0xFFFF_FF03,
            protocol_status: 0,
        });
        assert!(replies(&a).is_empty());
        assert!(a.contains(&Action::Release { stream: 4 }));
        assert_eq!(a.last(), Some(&Action::Close));
    }

    #[test]
    fn management_is_answered_locally() {
        let mut f = FrontConn::new(values());
        let a = f.client_bytes(&enc(&[Record::GetValues {
            pairs: vec![(b"FCGI_MPXS_CONNS".to_vec(), vec![])],
        }]));
        assert_eq!(
            replies(&a),
            vec![Record::GetValuesResult {
                pairs: vec![(b"FCGI_MPXS_CONNS".to_vec(), b"0".to_vec())]
            }]
        );
        let a = f.client_bytes(&[7, 7, 7, 7, 7, 7, 7, 7]);
        assert_eq!(a.last(), Some(&Action::Close));
    }
}
