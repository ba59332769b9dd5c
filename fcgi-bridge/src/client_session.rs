//! The web-server side of requests, sans-I/O, for request mode: encoding a
//! request per the stream plan and collecting responses by stream (SCTP)
//! or id (TCP), with the plan checked.

use std::collections::HashMap;

use fastcgi::params::encode_pairs;
use fastcgi::record::{self, Decoder, Limits, Record, MAX_CONTENT};
use fastcgi::stream_plan::{self, MANAGEMENT_STREAM};

use crate::rewrite::Batch;

/// Most STDOUT kept per response; the rest is counted, not kept.
pub const MAX_KEPT: usize = 64 * 1024 * 1024;

/// The messages (whole records) of one request: BEGIN_REQUEST with
/// KEEP_CONN, PARAMS, STDIN, each stream ended.
pub fn encode_request(id: u16, params: &[(String, String)], stdin: &[u8]) -> Vec<Vec<u8>> {
    let mut b = Batch::new();
    b.push(&Record::BeginRequest {
        id,
        role: record::RESPONDER,
        keep_conn: true,
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
    Tcp,
}

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

    /// Bytes received on `stream` (anything on TCP). A protocol error is
    /// final.
    pub fn push(&mut self, stream: u16, bytes: &[u8]) -> Result<Vec<Event>, String> {
        let key = match self.transport {
            Transport::Sctp => stream,
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
        let id = r.request_id();
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
        let msgs = encode_request(5, &params, &stdin);
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
}
