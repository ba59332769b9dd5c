//! The web-server side of requests, sans-I/O, for request mode: encoding a
//! request per the stream plan and collecting responses by stream (SCTP),
//! id (TCP, multiplexed) or connection (TCP, one connection per request),
//! with the plan checked; the mix of one large and many small requests that
//! the FastCGI benchmark sends, and its JSON lines.

use std::collections::HashMap;

use fastcgi::params::encode_pairs;
use fastcgi::record::{self, Decoder, Limits, Record, MAX_CONTENT};
use fastcgi::stream_plan::{self, MANAGEMENT_STREAM};

use crate::rewrite::Batch;

/// Most STDOUT kept per response; the rest is counted, not kept.
pub const MAX_KEPT: usize = 64 * 1024 * 1024;

/// The messages (whole records) of one request: BEGIN_REQUEST, PARAMS,
/// STDIN, each stream ended. FCGI_KEEP_CONN as given: set on an SCTP
/// association and a multiplexed TCP connection; clear on a connection per
/// request (stock mod_proxy_fcgi), which the application closes after
/// END_REQUEST.
pub fn encode_request_with(
    id: u16,
    params: &[(String, String)],
    stdin: &[u8],
    keep_conn: bool,
) -> Vec<Vec<u8>> {
    let mut b = Batch::new();
    b.push(&Record::BeginRequest {
        id,
        role: record::RESPONDER,
        keep_conn,
    });
    let mut block = Vec::new();
    encode_pairs(params, &mut block);
    for data in block.chunks(MAX_CONTENT) {
        b.push(&Record::Params {
            id,
            data: data.to_vec(),
        });
    }
    b.push(&Record::Params { id, data: vec![] });
    for data in stdin.chunks(MAX_CONTENT) {
        b.push(&Record::Stdin {
            id,
            data: data.to_vec(),
        });
    }
    b.push(&Record::Stdin { id, data: vec![] });
    b.finish()
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub id: u16,
    pub stdout: Vec<u8>,
    pub stdout_len: usize,
    pub stderr: Vec<u8>,
    pub app_status: u32,
    pub protocol_status: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Done(Response),
    /// A backend log line (STDERR id 1 on stream 1), without its newline.
    Log(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Sctp,
    /// One TCP connection, requests multiplexed by id.
    Tcp,
    /// One TCP connection per request, each with request id
    /// [`PER_REQUEST_ID`]: `push`'s stream is the connection's slot, which
    /// stands for the request (the collector's id).
    TcpPerRequest,
}

/// The request id on each connection of [`Transport::TcpPerRequest`], as
/// stock mod_proxy_fcgi sends it.
pub const PER_REQUEST_ID: u16 = 1;

#[derive(Debug)]
pub struct Collector {
    transport: Transport,
    decoders: HashMap<u16, Decoder>,
    open: HashMap<u16, Response>,
}

impl Collector {
    pub fn new(transport: Transport) -> Collector {
        Collector {
            transport,
            decoders: HashMap::new(),
            open: HashMap::new(),
        }
    }

    /// Request `id` was sent.
    pub fn start(&mut self, id: u16) {
        self.open.insert(
            id,
            Response {
                id,
                ..Default::default()
            },
        );
    }

    pub fn outstanding(&self) -> usize {
        self.open.len()
    }

    /// Whether request `id` is in flight.
    pub fn is_open(&self, id: u16) -> bool {
        self.open.contains_key(&id)
    }

    /// STDOUT bytes received so far by request `id` in flight.
    pub fn received(&self, id: u16) -> Option<usize> {
        self.open.get(&id).map(|r| r.stdout_len)
    }

    /// Forgets the decoder of `stream` (a per-request connection that
    /// closed: the next one on its slot starts afresh).
    pub fn reset(&mut self, stream: u16) {
        self.decoders.remove(&stream);
    }

    /// Bytes received on `stream` (anything on TCP). A protocol error is
    /// final.
    pub fn push(&mut self, stream: u16, bytes: &[u8]) -> Result<Vec<Event>, String> {
        let key = match self.transport {
            Transport::Sctp | Transport::TcpPerRequest => stream,
            Transport::Tcp => 0,
        };
        let mut out = Vec::new();
        for chunk in bytes.chunks(4096) {
            let d = self
                .decoders
                .entry(key)
                .or_insert_with(|| Decoder::new(Limits::default()));
            d.push(chunk).map_err(|e| format!("stream {stream}: {e}"))?;
            while let Some(r) = self
                .decoders
                .get_mut(&key)
                .expect("decoder")
                .next()
                .map_err(|e| format!("stream {stream}: {e}"))?
            {
                self.on_record(stream, r, &mut out)?;
            }
        }
        Ok(out)
    }

    fn on_record(&mut self, stream: u16, r: Record, out: &mut Vec<Event>) -> Result<(), String> {
        if self.transport == Transport::Sctp {
            stream_plan::check(stream, &r).map_err(|v| format!("stream {stream}: {v}"))?;
            if stream == MANAGEMENT_STREAM {
                if let Record::Stderr { data, .. } = &r {
                    let s = String::from_utf8_lossy(data);
                    for line in s.lines() {
                        out.push(Event::Log(line.to_string()));
                    }
                }
                return Ok(());
            }
        }
        if r.request_id() == 0 {
            return Ok(());
        }
        let id = match self.transport {
            Transport::TcpPerRequest if r.request_id() != PER_REQUEST_ID => {
                return Err(format!(
                    "connection {stream}: record type {} for request {}, want {PER_REQUEST_ID}",
                    r.kind(),
                    r.request_id()
                ))
            }
            Transport::TcpPerRequest => stream,
            _ => r.request_id(),
        };
        let Some(resp) = self.open.get_mut(&id) else {
            return Err(format!(
                "record type {} for request {id}, which is not in flight",
                r.kind()
            ));
        };
        match r {
            Record::Stdout { data, .. } => {
                resp.stdout_len += data.len();
                let room = MAX_KEPT.saturating_sub(resp.stdout.len());
                resp.stdout.extend_from_slice(&data[..data.len().min(room)]);
            }
            Record::Stderr { data, .. } => {
                let room = MAX_KEPT.saturating_sub(resp.stderr.len());
                resp.stderr.extend_from_slice(&data[..data.len().min(room)]);
            }
            Record::EndRequest {
                app_status,
                protocol_status,
                ..
            } => {
                let mut resp = self.open.remove(&id).expect("open");
                resp.app_status = app_status;
                resp.protocol_status = protocol_status;
                out.push(Event::Done(resp));
            }
            r => return Err(format!("request {id}: unexpected record type {}", r.kind())),
        }
        Ok(())
    }
}

/// What a request of the mix is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A request of a plain run (no mix).
    Plain,
    /// The one large request of a mix, sent first.
    Large,
    /// One of the small requests of a mix.
    Small,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Plain => "request",
            Kind::Large => "large",
            Kind::Small => "small",
        }
    }
}

/// Which requests to send: a plain run (`count` alike, `concurrency` at a
/// time), or a mix: one large request first, then, once its first STDOUT
/// bytes have arrived, `count` small ones, `concurrency` at a time, while
/// it streams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    mix: bool,
    count: usize,
    concurrency: usize,
    large_sent: bool,
    large_started: bool,
    sent: usize,
    small_in_flight: usize,
}

impl Plan {
    pub fn new(mix: bool, count: usize, concurrency: usize) -> Plan {
        Plan {
            mix,
            count,
            concurrency: concurrency.max(1),
            large_sent: false,
            large_started: false,
            sent: 0,
            small_in_flight: 0,
        }
    }

    /// Requests in all.
    pub fn total(&self) -> usize {
        self.count + usize::from(self.mix)
    }

    /// Requests that may be in flight at once (the ids a transport needs).
    pub fn width(&self) -> usize {
        self.concurrency + usize::from(self.mix)
    }

    /// The next request to send now, if any (and counts it as sent).
    pub fn next(&mut self) -> Option<Kind> {
        if self.mix && !self.large_sent {
            self.large_sent = true;
            return Some(Kind::Large);
        }
        if self.mix && !self.large_started {
            return None;
        }
        if self.sent < self.count && self.small_in_flight < self.concurrency {
            self.sent += 1;
            self.small_in_flight += 1;
            return Some(if self.mix { Kind::Small } else { Kind::Plain });
        }
        None
    }

    /// The large request's first STDOUT bytes arrived.
    pub fn large_streaming(&mut self) {
        self.large_started = true;
    }

    /// A request of `kind` ended.
    pub fn done(&mut self, kind: Kind) {
        match kind {
            // A large response without any STDOUT still lets the rest go.
            Kind::Large => self.large_started = true,
            _ => self.small_in_flight = self.small_in_flight.saturating_sub(1),
        }
    }
}

/// The status and body length of a CGI response in STDOUT: `Status:` of the
/// header block (200 without one), and what follows the block's empty line.
/// `total` is the whole STDOUT length (`kept` may be cut short). None when
/// `kept` has no complete header block.
pub fn cgi_status_and_body(kept: &[u8], total: usize) -> Option<(u16, usize)> {
    let (end, sep) = [&b"\r\n\r\n"[..], &b"\n\n"[..]]
        .iter()
        .filter_map(|sep| {
            kept.windows(sep.len())
                .position(|w| w == *sep)
                .map(|i| (i, sep.len()))
        })
        .min()?;
    let head = String::from_utf8_lossy(&kept[..end]);
    let mut status = 200;
    for line in head.lines() {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("status") {
                status = value
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
            }
        }
    }
    Some((status, total.saturating_sub(end + sep)))
}

/// One JSON line for a completed request: times in ms from the run's start
/// (`start_ms`: the request was started, its connection opened first on
/// TCP per request) and from the request's start (`first_ms`: first STDOUT
/// bytes, `ms`: END_REQUEST).
pub fn json_line(
    r: &Response,
    kind: Kind,
    start_ms: f64,
    first_ms: Option<f64>,
    ms: f64,
) -> String {
    let (status, body) = cgi_status_and_body(&r.stdout, r.stdout_len).unwrap_or((0, 0));
    let first = first_ms.map_or("null".to_string(), |f| format!("{f:.3}"));
    format!(
        "{{\"id\":{},\"kind\":\"{}\",\"start_ms\":{start_ms:.3},\"first_ms\":{first},\"ms\":{ms:.3},\"bytes\":{},\"body\":{body},\"status\":{status},\"app_status\":{},\"protocol_status\":{}}}",
        r.id,
        kind.name(),
        r.stdout_len,
        r.app_status,
        r.protocol_status
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastcgi::params::decode_pairs;

    fn enc(rs: &[Record]) -> Vec<u8> {
        let mut v = Vec::new();
        for r in rs {
            r.encode(&mut v).unwrap();
        }
        v
    }

    #[test]
    fn request_encoding_follows_the_plan() {
        let params = vec![("A".to_string(), "1".to_string())];
        let stdin = vec![7u8; 200_000];
        let msgs = encode_request_with(5, &params, &stdin, true);
        assert!(msgs.len() >= 3);
        let mut recs = Vec::new();
        for m in &msgs {
            let mut d = Decoder::new(Limits {
                max_buffer: 1 << 20,
                ..Limits::default()
            });
            d.push(m).unwrap();
            while let Some(r) = d.next().unwrap() {
                assert_eq!(stream_plan::check(5, &r), Ok(()));
                recs.push(r);
            }
            d.finish().unwrap();
        }
        assert_eq!(
            recs[0],
            Record::BeginRequest {
                id: 5,
                role: record::RESPONDER,
                keep_conn: true
            }
        );
        match &recs[1] {
            Record::Params { data, .. } => {
                assert_eq!(decode_pairs(data, &Limits::default()).unwrap().len(), 1)
            }
            r => panic!("{r:?}"),
        }
        assert_eq!(
            recs[2],
            Record::Params {
                id: 5,
                data: vec![]
            }
        );
        let body: usize = recs
            .iter()
            .map(|r| match r {
                Record::Stdin { data, .. } => data.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(body, 200_000);
        assert_eq!(
            recs.last(),
            Some(&Record::Stdin {
                id: 5,
                data: vec![]
            })
        );
    }

    #[test]
    fn collects_by_stream_and_rejects_strays() {
        let mut c = Collector::new(Transport::Sctp);
        c.start(2);
        c.start(3);
        let ev = c
            .push(
                2,
                &enc(&[Record::Stdout {
                    id: 2,
                    data: b"two".to_vec(),
                }]),
            )
            .unwrap();
        assert!(ev.is_empty());
        let ev = c
            .push(
                1,
                &enc(&[Record::Stderr {
                    id: 1,
                    data: b"a\nb\n".to_vec(),
                }]),
            )
            .unwrap();
        assert_eq!(ev, vec![Event::Log("a".into()), Event::Log("b".into())]);
        let ev = c
            .push(
                3,
                &enc(&[Record::EndRequest {
                    id: 3,
                    app_status: 7,
                    protocol_status: 0,
                }]),
            )
            .unwrap();
        assert!(matches!(&ev[0], Event::Done(r) if r.id == 3 && r.app_status == 7));
        assert_eq!(c.outstanding(), 1);
        let ev = c
            .push(
                2,
                &enc(&[Record::EndRequest {
                    id: 2,
                    app_status: 0,
                    protocol_status: 0,
                }]),
            )
            .unwrap();
        assert!(matches!(&ev[0], Event::Done(r) if r.stdout == b"two"));
        // Wrong stream, and a request not in flight.
        let mut c = Collector::new(Transport::Sctp);
        c.start(2);
        assert!(c
            .push(
                3,
                &enc(&[Record::Stdout {
                    id: 2,
                    data: vec![]
                }])
            )
            .is_err());
        let mut c = Collector::new(Transport::Sctp);
        assert!(c
            .push(
                4,
                &enc(&[Record::Stdout {
                    id: 4,
                    data: vec![]
                }])
            )
            .is_err());
        // TCP: ids, not streams.
        let mut c = Collector::new(Transport::Tcp);
        c.start(1);
        let ev = c
            .push(
                0,
                &enc(&[
                    Record::Stdout {
                        id: 1,
                        data: b"x".to_vec(),
                    },
                    Record::EndRequest {
                        id: 1,
                        app_status: 0,
                        protocol_status: 0,
                    },
                ]),
            )
            .unwrap();
        assert!(matches!(&ev[0], Event::Done(r) if r.stdout == b"x"));
    }

    #[test]
    fn per_request_connections_map_id_1_to_their_slot() {
        let mut c = Collector::new(Transport::TcpPerRequest);
        c.start(3);
        c.start(4);
        let ev = c
            .push(
                4,
                &enc(&[
                    Record::Stdout {
                        id: 1,
                        data: b"four".to_vec(),
                    },
                    Record::EndRequest {
                        id: 1,
                        app_status: 0,
                        protocol_status: 0,
                    },
                ]),
            )
            .unwrap();
        assert!(matches!(&ev[0], Event::Done(r) if r.id == 4 && r.stdout == b"four"));
        assert!(c.is_open(3) && !c.is_open(4));
        // Half a record on slot 3, then more of it.
        let bytes = enc(&[Record::Stdout {
            id: 1,
            data: b"three".to_vec(),
        }]);
        assert!(c.push(3, &bytes[..5]).unwrap().is_empty());
        assert!(c.push(3, &bytes[5..]).unwrap().is_empty());
        assert_eq!(c.received(3), Some(5));
        assert_eq!(c.received(4), None);
        // Any other id on a per-request connection is a protocol error.
        c.reset(3);
        assert!(c
            .push(
                3,
                &enc(&[Record::Stdout {
                    id: 3,
                    data: vec![]
                }])
            )
            .is_err());
        // The request encoding without KEEP_CONN.
        let msgs = encode_request_with(1, &[], &[], false);
        let mut d = Decoder::new(Limits::default());
        d.push(&msgs.concat()).unwrap();
        assert_eq!(
            d.next().unwrap(),
            Some(Record::BeginRequest {
                id: 1,
                role: record::RESPONDER,
                keep_conn: false
            })
        );
    }

    #[test]
    fn the_mix_waits_for_the_large_response() {
        let mut p = Plan::new(true, 3, 2);
        assert_eq!((p.total(), p.width()), (4, 3));
        assert_eq!(p.next(), Some(Kind::Large));
        assert_eq!(p.next(), None, "small ones wait for the large one's bytes");
        p.large_streaming();
        assert_eq!(p.next(), Some(Kind::Small));
        assert_eq!(p.next(), Some(Kind::Small));
        assert_eq!(p.next(), None, "concurrency 2");
        p.done(Kind::Small);
        assert_eq!(p.next(), Some(Kind::Small));
        p.done(Kind::Small);
        assert_eq!(p.next(), None, "count 3");
        // A large response that ends without STDOUT lets the small ones go.
        let mut p = Plan::new(true, 1, 1);
        assert_eq!(p.next(), Some(Kind::Large));
        p.done(Kind::Large);
        assert_eq!(p.next(), Some(Kind::Small));
        // Without a mix: count alike, concurrency at a time.
        let mut p = Plan::new(false, 2, 5);
        assert_eq!((p.total(), p.width()), (2, 5));
        assert_eq!(p.next(), Some(Kind::Plain));
        assert_eq!(p.next(), Some(Kind::Plain));
        assert_eq!(p.next(), None);
    }

    #[test]
    fn cgi_responses_and_json_lines() {
        let out = b"X-Powered-By: PHP\r\nContent-type: text/html\r\n\r\nhello";
        assert_eq!(cgi_status_and_body(out, out.len()), Some((200, 5)));
        assert_eq!(cgi_status_and_body(out, out.len() + 10), Some((200, 15)));
        let nf = b"Status: 404 Not Found\nContent-Type: text/plain\n\nno";
        assert_eq!(cgi_status_and_body(nf, nf.len()), Some((404, 2)));
        assert_eq!(cgi_status_and_body(b"Content-type: x\r\n", 18), None);
        let r = Response {
            id: 7,
            stdout: out.to_vec(),
            stdout_len: out.len(),
            ..Default::default()
        };
        assert_eq!(
            json_line(&r, Kind::Small, 12.0, Some(1.5), 100.25),
            format!("{{\"id\":7,\"kind\":\"small\",\"start_ms\":12.000,\"first_ms\":1.500,\"ms\":100.250,\"bytes\":{},\"body\":5,\"status\":200,\"app_status\":0,\"protocol_status\":0}}", out.len())
        );
        let empty = Response::default();
        assert!(json_line(&empty, Kind::Large, 0.0, None, 1.0)
            .contains("\"first_ms\":null,\"ms\":1.000,\"bytes\":0,\"body\":0,\"status\":0"));
    }
}
