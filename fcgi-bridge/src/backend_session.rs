//! The backend side of one web-server link, sans-I/O: an SCTP association
//! (records on the stream their id names, docs/fastcgi.md) or a plain TCP
//! FastCGI connection with multiplexing.
//!
//! Bytes from the web server go in with [`Session::receive`]; bytes from an
//! application connection with [`Session::app_output`] and its end with
//! [`Session::app_closed`] / [`Session::app_failed`]. Every call returns the
//! [`Action`]s the I/O layer carries out, in order: records to send (whole
//! records, one stream per message), application connections to open,
//! feed and close, lines for stderr.
//!
//! Each request gets its own application connection, which sees request id
//! 1 and no FCGI_KEEP_CONN, so an unmodified php-fpm or fcgiwrap serves it.
//! A token tells requests on the same stream apart, so output of an aborted
//! request's connection can never leak into the next request there.

use std::collections::HashMap;

use fastcgi::record::{self, Decoder, Limits, Record};
use fastcgi::stream_plan::{self, MANAGEMENT_STREAM};

use crate::log::Level;
use crate::rewrite::{self, set_id};
use fastcgi::management::{self, Values};

/// The request id every application connection sees.
pub const APP_REQUEST_ID: u16 = 1;

/// app_status of an END_REQUEST the bridge makes up itself: 0xFFFFFFxx,
/// which the web server takes for a failed response (docs/fastcgi.md, wire
/// rule 8).
pub const STATUS_APP_VANISHED: u32 = 0xFFFF_FF01;
pub const STATUS_APP_UNREACHABLE: u32 = 0xFFFF_FF02;
pub const STATUS_ABORTED: u32 = 0xFFFF_FF03;
pub const STATUS_APP_PROTOCOL: u32 = 0xFFFF_FF04;

/// Feed decoders in pieces this large (Decoder::push's contract).
const FEED: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// An SCTP association: one decoder per stream, the stream plan checked.
    Sctp,
    /// A TCP connection: one decoder, requests told apart by id alone.
    Tcp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Whole records for the web server, on `stream` (SCTP; ignored on TCP).
    Send { stream: u16, bytes: Vec<u8> },
    /// Connect to the application for request `id` and write `bytes`.
    Open { id: u16, token: u64, bytes: Vec<u8> },
    /// Write `bytes` to request `id`'s application connection.
    ToApp { id: u16, token: u64, bytes: Vec<u8> },
    /// Close request `id`'s application connection.
    CloseApp { id: u16, token: u64 },
    /// A line for the bridge's stderr.
    Log(Level, String),
    /// Close the link to the web server (after the sends before it).
    Close,
}

#[derive(Debug)]
struct Request {
    token: u64,
    keep_conn: bool,
    /// Decodes the application's output.
    app: Decoder,
}

#[derive(Debug)]
pub struct Session {
    transport: Transport,
    values: Values,
    app_name: String,
    /// Per stream (SCTP) or the one decoder (TCP, key 0).
    decoders: HashMap<u16, Decoder>,
    requests: HashMap<u16, Request>,
    next_token: u64,
    closed: bool,
}

impl Session {
    /// `values.max_reqs` bounds the requests in flight; `app_name` names the
    /// application in messages.
    pub fn new(transport: Transport, values: Values, app_name: &str) -> Session {
        Session {
            transport,
            values,
            app_name: app_name.to_string(),
            decoders: HashMap::new(),
            requests: HashMap::new(),
            next_token: 1,
            closed: false,
        }
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.requests.len()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Bytes from the web server on `stream` (any value on TCP).
    pub fn receive(&mut self, stream: u16, bytes: &[u8]) -> Vec<Action> {
        let mut out = Vec::new();
        let key = match self.transport {
            Transport::Sctp => stream,
            Transport::Tcp => 0,
        };
        for chunk in bytes.chunks(FEED) {
            if self.closed {
                break;
            }
            let d = self
                .decoders
                .entry(key)
                .or_insert_with(|| Decoder::new(Limits::default()));
            if let Err(e) = d.push(chunk) {
                self.fatal(&format!("stream {stream}: {e}"), &mut out);
                break;
            }
            loop {
                let d = self.decoders.get_mut(&key).expect("decoder");
                match d.next() {
                    Ok(Some(r)) => self.on_record(stream, r, &mut out),
                    Ok(None) => break,
                    Err(e) => {
                        self.fatal(&format!("stream {stream}: {e}"), &mut out);
                        break;
                    }
                }
                if self.closed {
                    break;
                }
            }
        }
        out
    }

    /// Output of request `id`'s application connection.
    pub fn app_output(&mut self, id: u16, token: u64, bytes: &[u8]) -> Vec<Action> {
        let mut out = Vec::new();
        let stream = self.stream_of(id);
        let mut ended = false;
        let mut bad = None;
        {
            let Some(req) = self.live(id, token) else {
                return out;
            };
            'feed: for chunk in bytes.chunks(FEED) {
                if let Err(e) = req.app.push(chunk) {
                    bad = Some(e);
                    break;
                }
                loop {
                    match req.app.next() {
                        Ok(Some(r @ (Record::Stdout { .. } | Record::Stderr { .. }))) => {
                            send(&mut out, stream, &set_id(r, id));
                        }
                        Ok(Some(r @ Record::EndRequest { .. })) => {
                            send(&mut out, stream, &set_id(r, id));
                            ended = true;
                            break 'feed;
                        }
                        Ok(Some(r)) => out.push(Action::Log(
                            Level::Warn,
                            format!(
                                "request {id}: application sent record type {}; dropped",
                                r.kind()
                            ),
                        )),
                        Ok(None) => break,
                        Err(e) => {
                            bad = Some(e);
                            break 'feed;
                        }
                    }
                }
            }
        }
        if let Some(e) = bad {
            let msg = format!("request {id}: protocol error from {}: {e}", self.app_name);
            self.fail_request(id, &msg, STATUS_APP_PROTOCOL, &mut out);
        } else if ended {
            self.finish_request(id, &mut out);
        }
        out
    }

    /// Request `id`'s application connection reached end of file.
    pub fn app_closed(&mut self, id: u16, token: u64) -> Vec<Action> {
        let mut out = Vec::new();
        if self.live(id, token).is_some() {
            let msg = format!(
                "request {id}: {} closed the connection without FCGI_END_REQUEST",
                self.app_name
            );
            self.fail_request(id, &msg, STATUS_APP_VANISHED, &mut out);
        }
        out
    }

    /// Request `id`'s application could not be reached (`why`: the error).
    pub fn app_failed(&mut self, id: u16, token: u64, why: &str) -> Vec<Action> {
        let mut out = Vec::new();
        if self.live(id, token).is_some() {
            let msg = format!("request {id}: cannot reach {}: {why}", self.app_name);
            self.fail_request(id, &msg, STATUS_APP_UNREACHABLE, &mut out);
        }
        out
    }

    /// The link to the web server is gone: close every application
    /// connection.
    pub fn shutdown(&mut self) -> Vec<Action> {
        self.closed = true;
        let mut out: Vec<Action> = self
            .requests
            .drain()
            .map(|(id, r)| Action::CloseApp { id, token: r.token })
            .collect();
        out.sort_by_key(|a| match a {
            Action::CloseApp { id, .. } => *id,
            _ => 0,
        });
        out
    }

    fn live(&mut self, id: u16, token: u64) -> Option<&mut Request> {
        self.requests.get_mut(&id).filter(|r| r.token == token)
    }

    fn stream_of(&self, id: u16) -> u16 {
        id
    }

    fn mgmt_stream(&self) -> u16 {
        match self.transport {
            Transport::Sctp => MANAGEMENT_STREAM,
            Transport::Tcp => 0,
        }
    }

    fn on_record(&mut self, stream: u16, r: Record, out: &mut Vec<Action>) {
        if self.transport == Transport::Sctp {
            if let Err(v) = stream_plan::check(stream, &r) {
                self.complain(
                    &format!("stream {stream}: {v}; record type {} dropped", r.kind()),
                    out,
                );
                return;
            }
        }
        if r.request_id() == 0 {
            return self.on_management(r, out);
        }
        if self.transport == Transport::Sctp && stream == MANAGEMENT_STREAM {
            // A log line (STDERR id 1) from the web server: nothing to do.
            out.push(Action::Log(
                Level::Debug,
                "stream 1: log line from the web server ignored".into(),
            ));
            return;
        }
        let id = r.request_id();
        match r {
            Record::BeginRequest {
                role, keep_conn, ..
            } => {
                if self.requests.contains_key(&id) {
                    self.complain(
                        &format!("request {id}: BEGIN_REQUEST while it is in flight; dropped"),
                        out,
                    );
                } else if self.requests.len() >= self.values.max_reqs {
                    out.push(Action::Log(
                        Level::Warn,
                        format!(
                            "request {id}: {} requests in flight (FCGI_MAX_REQS); answered FCGI_OVERLOADED",
                            self.requests.len()
                        ),
                    ));
                    send(
                        out,
                        self.stream_of(id),
                        &Record::EndRequest {
                            id,
                            app_status: 0,
                            protocol_status: record::OVERLOADED,
                        },
                    );
                } else {
                    let token = self.next_token;
                    self.next_token += 1;
                    self.requests.insert(
                        id,
                        Request {
                            token,
                            keep_conn,
                            app: Decoder::new(Limits::default()),
                        },
                    );
                    let mut bytes = Vec::new();
                    rewrite::encode(
                        &Record::BeginRequest {
                            id: APP_REQUEST_ID,
                            role,
                            keep_conn: false,
                        },
                        &mut bytes,
                    );
                    out.push(Action::Open { id, token, bytes });
                }
            }
            Record::AbortRequest { .. } => {
                if self.requests.contains_key(&id) {
                    out.push(Action::Log(
                        Level::Debug,
                        format!("request {id}: aborted by the web server"),
                    ));
                    send(
                        out,
                        self.stream_of(id),
                        &Record::EndRequest {
                            id,
                            app_status: STATUS_ABORTED,
                            protocol_status: record::REQUEST_COMPLETE,
                        },
                    );
                    self.finish_request(id, out);
                }
            }
            r @ (Record::Params { .. } | Record::Stdin { .. } | Record::Data { .. }) => {
                let Some(req) = self.requests.get(&id) else {
                    // Input of a refused or aborted request still in the pipe.
                    out.push(Action::Log(
                        Level::Debug,
                        format!(
                            "request {id}: not in flight; record type {} dropped",
                            r.kind()
                        ),
                    ));
                    return;
                };
                let token = req.token;
                let last = match out.last_mut() {
                    Some(Action::ToApp {
                        id: i,
                        token: t,
                        bytes: b,
                    }) if *i == id && *t == token => Some(b),
                    _ => None,
                };
                if let Some(bytes) = rewrite::append(last, &set_id(r, APP_REQUEST_ID)) {
                    out.push(Action::ToApp { id, token, bytes });
                }
            }
            r => self.complain(
                &format!(
                    "request {id}: record type {} is not one a web server sends; dropped",
                    r.kind()
                ),
                out,
            ),
        }
    }

    fn on_management(&mut self, r: Record, out: &mut Vec<Action>) {
        let stream = self.mgmt_stream();
        match r {
            Record::GetValues { pairs } => {
                send(out, stream, &management::answer(&pairs, &self.values));
            }
            Record::Unknown { kind, .. } => {
                send(out, stream, &Record::UnknownType { kind });
            }
            r => out.push(Action::Log(
                Level::Debug,
                format!("management record type {} ignored", r.kind()),
            )),
        }
    }

    /// Ends request `id` after its END_REQUEST went out.
    fn finish_request(&mut self, id: u16, out: &mut Vec<Action>) {
        if let Some(r) = self.requests.remove(&id) {
            out.push(Action::CloseApp { id, token: r.token });
            if self.transport == Transport::Tcp && !r.keep_conn {
                self.closed = true;
                out.extend(self.shutdown());
                out.push(Action::Close);
            }
        }
    }

    /// Ends request `id` with STDERR `msg` and END_REQUEST(`status`), and
    /// says so in the logs.
    fn fail_request(&mut self, id: u16, msg: &str, status: u32, out: &mut Vec<Action>) {
        self.complain(msg, out);
        let stream = self.stream_of(id);
        send(
            out,
            stream,
            &Record::Stderr {
                id,
                data: format!("fcgi-bridge: {msg}\n").into_bytes(),
            },
        );
        send(
            out,
            stream,
            &Record::EndRequest {
                id,
                app_status: status,
                protocol_status: record::REQUEST_COMPLETE,
            },
        );
        self.finish_request(id, out);
    }

    /// A line on stderr and, on SCTP, a log line on stream 1.
    fn complain(&mut self, msg: &str, out: &mut Vec<Action>) {
        out.push(Action::Log(Level::Warn, msg.to_string()));
        if self.transport == Transport::Sctp {
            send(out, MANAGEMENT_STREAM, &management::log_line(msg));
        }
    }

    /// The link is beyond repair (a stream's framing is lost): say why and
    /// close it.
    fn fatal(&mut self, why: &str, out: &mut Vec<Action>) {
        let msg = format!("{why}; closing the connection");
        out.push(Action::Log(Level::Error, msg.clone()));
        if self.transport == Transport::Sctp {
            send(out, MANAGEMENT_STREAM, &management::log_line(&msg));
        }
        out.extend(self.shutdown());
        out.push(Action::Close);
    }
}

/// Appends `r` to the last Send action if it is for the same stream and
/// not yet full, else starts a new one.
fn send(out: &mut Vec<Action>, stream: u16, r: &Record) {
    let last = match out.last_mut() {
        Some(Action::Send { stream: s, bytes }) if *s == stream => Some(bytes),
        _ => None,
    };
    if let Some(bytes) = rewrite::append(last, r) {
        out.push(Action::Send { stream, bytes });
    }
}

#[cfg(test)]
mod tests;
