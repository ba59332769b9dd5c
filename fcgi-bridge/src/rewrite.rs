//! Request-id rewriting and message batching.
//!
//! The bridge relays records between links that number requests
//! differently (stream n on SCTP, id 1 toward an application, whatever id
//! nginx chose on TCP): records are decoded, their id set, and encoded
//! again. Encoded records are batched into messages of whole records.

use fastcgi::record::{self, Record};

/// Soft cap on one outgoing message: records are appended until a message
/// holds at least this much; one record never spans two messages. Well
/// below the default SCTP send buffer, so `sendmsg` never fails with
/// EMSGSIZE.
pub const MESSAGE_CAP: usize = 64 * 1024;

/// `record` with its request id set to `id` (management records, which
/// have no request id, are returned unchanged).
pub fn set_id(record: Record, id: u16) -> Record {
    match record {
        Record::BeginRequest {
            role, keep_conn, ..
        } => Record::BeginRequest {
            id,
            role,
            keep_conn,
        },
        Record::AbortRequest { .. } => Record::AbortRequest { id },
        Record::EndRequest {
            app_status,
            protocol_status,
            ..
        } => Record::EndRequest {
            id,
            app_status,
            protocol_status,
        },
        Record::Params { data, .. } => Record::Params { id, data },
        Record::Stdin { data, .. } => Record::Stdin { id, data },
        Record::Stdout { data, .. } => Record::Stdout { id, data },
        Record::Stderr { data, .. } => Record::Stderr { id, data },
        Record::Data { data, .. } => Record::Data { id, data },
        Record::Unknown { kind, content, .. } if record_has_id(kind) => {
            Record::Unknown { kind, id, content }
        }
        other => other,
    }
}

fn record_has_id(kind: u8) -> bool {
    !matches!(
        kind,
        record::GET_VALUES | record::GET_VALUES_RESULT | record::UNKNOWN_TYPE
    )
}

/// Encodes a record whose content is known to fit (every record the
/// decoder produced does).
pub fn encode(r: &Record, out: &mut Vec<u8>) {
    if let Err(e) = r.encode(out) {
        // Only content over 65535 bytes fails; decoded records never have it.
        unreachable!("record from the decoder does not re-encode: {e}");
    }
}

/// Encodes `r` onto `last`, the message being built, while that is below
/// [`MESSAGE_CAP`]; else into a new message, which it returns.
pub fn append(last: Option<&mut Vec<u8>>, r: &Record) -> Option<Vec<u8>> {
    match last {
        Some(bytes) if bytes.len() < MESSAGE_CAP => {
            encode(r, bytes);
            None
        }
        _ => {
            let mut bytes = Vec::new();
            encode(r, &mut bytes);
            Some(bytes)
        }
    }
}

/// Collects whole encoded records into messages of about [`MESSAGE_CAP`].
#[derive(Debug, Default)]
pub struct Batch {
    done: Vec<Vec<u8>>,
    cur: Vec<u8>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    pub fn push(&mut self, r: &Record) {
        encode(r, &mut self.cur);
        self.cut();
    }

    fn cut(&mut self) {
        if self.cur.len() >= MESSAGE_CAP {
            self.done.push(std::mem::take(&mut self.cur));
        }
    }

    /// The messages, each a run of whole records.
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        if !self.cur.is_empty() {
            self.done.push(self.cur);
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastcgi::record::{Decoder, Limits, RESPONDER};

    #[test]
    fn set_id_keeps_everything_else() {
        let r = set_id(
            Record::BeginRequest {
                id: 1,
                role: RESPONDER,
                keep_conn: false,
            },
            7,
        );
        assert_eq!(
            r,
            Record::BeginRequest {
                id: 7,
                role: RESPONDER,
                keep_conn: false
            }
        );
        let r = set_id(
            Record::EndRequest {
                id: 7,
                app_status: 9,
                protocol_status: 2,
            },
            1,
        );
        assert_eq!(r.request_id(), 1);
        assert_eq!(
            set_id(
                Record::Stdout {
                    id: 3,
                    data: b"x".to_vec()
                },
                4
            ),
            Record::Stdout {
                id: 4,
                data: b"x".to_vec()
            }
        );
        let gv = Record::GetValues { pairs: vec![] };
        assert_eq!(set_id(gv.clone(), 5), gv);
        let unk = Record::Unknown {
            kind: 77,
            id: 2,
            content: vec![],
        };
        assert_eq!(set_id(unk, 9).request_id(), 9);
    }

    #[test]
    fn batches_hold_whole_records_near_the_cap() {
        let mut b = Batch::new();
        for i in 0..40u8 {
            b.push(&Record::Stdout {
                id: 2,
                data: vec![i; 5000],
            });
        }
        let msgs = b.finish();
        assert!(msgs.len() >= 3, "{}", msgs.len());
        let mut n = 0;
        for m in &msgs {
            assert!(m.len() < MESSAGE_CAP + 5016, "{}", m.len());
            // Each message decodes on its own into whole records.
            let mut d = Decoder::new(Limits {
                max_buffer: 1 << 20,
                ..Limits::default()
            });
            d.push(m).unwrap();
            while let Some(r) = d.next().unwrap() {
                assert_eq!(r.request_id(), 2);
                n += 1;
            }
            d.finish().unwrap();
        }
        assert_eq!(n, 40);
    }
}
