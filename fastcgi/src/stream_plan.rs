//! The stream plan of FastCGI over SCTP (docs/fastcgi.md, "Stream plan"), sans-I/O.
//!
//! * Stream 0 is reserved and silent (kept for a later DTLS or GSS-API
//!   layer): nothing is ever sent on it, and anything received there is a
//!   violation.
//! * Stream 1 carries management: FCGI_GET_VALUES and its result (request
//!   id 0) when an association starts, FCGI_UNKNOWN_TYPE, and the backend's
//!   log lines as FCGI_STDERR records with request id 1 (the stream's own
//!   number), which the web server writes to its error log.
//! * Streams 2 and up carry requests, one at a time per stream. A request's
//!   FastCGI request id is its stream's number, so every record of it travels
//!   on that stream and the id needs no table: a record whose id is not its
//!   stream's is a violation.
//!
//! [`StreamPlan`] hands out free request streams (lowest first, within the
//! backend's FCGI_MAX_REQS when it told us); when none is free the caller
//! queues the request or opens another association, it never fails it.

use crate::record::{Record, GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE};
use std::fmt;

pub const RESERVED_STREAM: u16 = 0;
pub const MANAGEMENT_STREAM: u16 = 1;
pub const FIRST_REQUEST_STREAM: u16 = 2;

/// Why a record may not travel where it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Anything at all on stream 0.
    ReservedStream,
    /// A request record (BEGIN_REQUEST, PARAMS, STDIN, ...) on stream 1.
    RequestOnManagementStream { kind: u8 },
    /// A management record on a request stream.
    ManagementOnRequestStream { stream: u16, kind: u8 },
    /// A request record whose request id is not its stream's number.
    IdMismatch { stream: u16, id: u16 },
    /// Fewer than three streams: no room for a request stream.
    TooFewStreams(u16),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::ReservedStream => {
                write!(f, "a record on stream 0, which is reserved and silent")
            }
            Violation::RequestOnManagementStream { kind } => {
                write!(f, "request record type {kind} on the management stream 1")
            }
            Violation::ManagementOnRequestStream { stream, kind } => {
                write!(
                    f,
                    "management record type {kind} on request stream {stream}"
                )
            }
            Violation::IdMismatch { stream, id } => {
                write!(
                    f,
                    "request id {id} on stream {stream} (the id must be the stream's number)"
                )
            }
            Violation::TooFewStreams(n) => {
                write!(f, "{n} stream(s): FastCGI over SCTP needs at least 3 (0 reserved, 1 management, 2.. requests)")
            }
        }
    }
}

impl std::error::Error for Violation {}

fn is_management(r: &Record) -> bool {
    match r {
        Record::GetValues { .. } | Record::GetValuesResult { .. } | Record::UnknownType { .. } => {
            true
        }
        Record::Unknown { kind, id, .. } => {
            *id == 0 || matches!(*kind, GET_VALUES | GET_VALUES_RESULT | UNKNOWN_TYPE)
        }
        _ => false,
    }
}

/// Checks that `record`, received on `stream`, follows the plan.
pub fn check(stream: u16, record: &Record) -> Result<(), Violation> {
    let kind = record.kind();
    match stream {
        RESERVED_STREAM => Err(Violation::ReservedStream),
        MANAGEMENT_STREAM => match record {
            r if is_management(r) => Ok(()),
            Record::Stderr { id, .. } if *id == MANAGEMENT_STREAM => Ok(()),
            _ => Err(Violation::RequestOnManagementStream { kind }),
        },
        _ if is_management(record) => Err(Violation::ManagementOnRequestStream { stream, kind }),
        _ => match record.request_id() {
            id if id == stream => Ok(()),
            id => Err(Violation::IdMismatch { stream, id }),
        },
    }
}

/// The request streams of one association: which are busy.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    busy: Vec<bool>,
    limit: usize,
    in_flight: usize,
}

impl StreamPlan {
    /// For an association with `streams` usable streams (the smaller of the
    /// negotiated outbound and inbound counts).
    pub fn new(streams: u16) -> Result<StreamPlan, Violation> {
        if streams <= FIRST_REQUEST_STREAM {
            return Err(Violation::TooFewStreams(streams));
        }
        let n = (streams - FIRST_REQUEST_STREAM) as usize;
        Ok(StreamPlan {
            busy: vec![false; n],
            limit: n,
            in_flight: 0,
        })
    }

    /// The backend's FCGI_MAX_REQS: at most this many requests at once
    /// (never more than the streams allow; 0 is taken as 1).
    pub fn set_max_requests(&mut self, n: usize) {
        self.limit = n.clamp(1, self.busy.len());
    }

    /// The lowest free request stream, now busy; None when every stream (or
    /// the backend's limit) is taken.
    pub fn acquire(&mut self) -> Option<u16> {
        if self.in_flight >= self.limit {
            return None;
        }
        let i = self.busy.iter().position(|b| !b)?;
        self.busy[i] = true;
        self.in_flight += 1;
        Some(i as u16 + FIRST_REQUEST_STREAM)
    }

    /// The request on `stream` ended; false if it was not busy.
    pub fn release(&mut self, stream: u16) -> bool {
        let Some(b) = stream
            .checked_sub(FIRST_REQUEST_STREAM)
            .and_then(|i| self.busy.get_mut(i as usize))
        else {
            return false;
        };
        if !*b {
            return false;
        }
        *b = false;
        self.in_flight -= 1;
        true
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// How many requests may be in flight at once.
    pub fn capacity(&self) -> usize {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RESPONDER;

    #[test]
    fn streams_are_handed_out_lowest_first_within_limits() {
        assert_eq!(StreamPlan::new(2).unwrap_err(), Violation::TooFewStreams(2));
        let mut p = StreamPlan::new(5).unwrap();
        assert_eq!(p.capacity(), 3);
        assert_eq!(
            (p.acquire(), p.acquire(), p.acquire()),
            (Some(2), Some(3), Some(4))
        );
        assert_eq!(p.acquire(), None, "all three request streams busy");
        assert!(p.release(3));
        assert!(!p.release(3), "already free");
        assert!(!p.release(0) && !p.release(1) && !p.release(9));
        assert_eq!(p.acquire(), Some(3));
        assert_eq!(p.in_flight(), 3);
        let mut q = StreamPlan::new(16).unwrap();
        q.set_max_requests(2);
        assert_eq!(
            (q.acquire(), q.acquire(), q.acquire()),
            (Some(2), Some(3), None)
        );
        q.set_max_requests(1000);
        assert_eq!(q.capacity(), 14);
    }

    #[test]
    fn records_must_follow_the_plan() {
        let begin = |id| Record::BeginRequest {
            id,
            role: RESPONDER,
            keep_conn: true,
        };
        let gv = Record::GetValues { pairs: Vec::new() };
        let log = Record::Stderr {
            id: 1,
            data: b"backend says".to_vec(),
        };
        assert_eq!(check(0, &gv), Err(Violation::ReservedStream));
        assert_eq!(check(0, &begin(2)), Err(Violation::ReservedStream));
        assert_eq!(check(1, &gv), Ok(()));
        assert_eq!(check(1, &log), Ok(()), "backend log line");
        assert!(matches!(
            check(1, &begin(1)),
            Err(Violation::RequestOnManagementStream { .. })
        ));
        assert_eq!(check(2, &begin(2)), Ok(()));
        assert_eq!(
            check(
                7,
                &Record::Stdout {
                    id: 7,
                    data: vec![]
                }
            ),
            Ok(())
        );
        assert_eq!(
            check(3, &begin(2)),
            Err(Violation::IdMismatch { stream: 3, id: 2 })
        );
        assert!(matches!(
            check(2, &gv),
            Err(Violation::ManagementOnRequestStream { stream: 2, .. })
        ));
        let unknown_mgmt = Record::Unknown {
            kind: 42,
            id: 0,
            content: vec![],
        };
        assert_eq!(check(1, &unknown_mgmt), Ok(()));
        assert!(check(4, &unknown_mgmt).is_err());
        assert!(Violation::ReservedStream.to_string().contains("stream 0"));
    }
}
