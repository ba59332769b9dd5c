//! Stream 1: FCGI_GET_VALUES questions and answers, and log lines
//! (FCGI_STDERR with request id 1).

use crate::record::{Pairs, Record, MAX_CONTENT};
use crate::stream_plan::{FIRST_REQUEST_STREAM, MANAGEMENT_STREAM};

pub const MAX_CONNS: &str = "FCGI_MAX_CONNS";
pub const MAX_REQS: &str = "FCGI_MAX_REQS";
pub const MPXS_CONNS: &str = "FCGI_MPXS_CONNS";

/// What a backend tells about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Values {
    pub max_conns: usize,
    pub max_reqs: usize,
    pub mpxs_conns: bool,
}

/// The GET_VALUES_RESULT for `question`: the names it asks that we know,
/// with decimal values; unknown names are left out.
pub fn answer(question: &Pairs, v: &Values) -> Record {
    let mut pairs = Pairs::new();
    for (name, _) in question {
        let value = match name.as_slice() {
            n if n == MAX_CONNS.as_bytes() => v.max_conns.to_string(),
            n if n == MAX_REQS.as_bytes() => v.max_reqs.to_string(),
            n if n == MPXS_CONNS.as_bytes() => (v.mpxs_conns as u8).to_string(),
            _ => continue,
        };
        pairs.push((name.clone(), value.into_bytes()));
    }
    Record::GetValuesResult { pairs }
}

/// The question a web server asks when an association comes up.
pub fn question() -> Record {
    Record::GetValues {
        pairs: [MAX_CONNS, MAX_REQS, MPXS_CONNS]
            .iter()
            .map(|n| (n.as_bytes().to_vec(), Vec::new()))
            .collect(),
    }
}

/// What a GET_VALUES_RESULT said (absent or unparsable values are None).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Learned {
    pub max_conns: Option<usize>,
    pub max_reqs: Option<usize>,
    pub mpxs_conns: Option<bool>,
}

impl Learned {
    pub fn from_pairs(pairs: &Pairs) -> Learned {
        let mut l = Learned::default();
        for (name, value) in pairs {
            let num = std::str::from_utf8(value)
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok());
            match name.as_slice() {
                n if n == MAX_CONNS.as_bytes() => l.max_conns = num,
                n if n == MAX_REQS.as_bytes() => l.max_reqs = num,
                n if n == MPXS_CONNS.as_bytes() => l.mpxs_conns = num.map(|n| n != 0),
                _ => {}
            }
        }
        l
    }

    /// How many requests may run at once on an association with `streams`
    /// usable streams: min(FCGI_MAX_REQS, streams - 2), at least 1. A
    /// backend that does not multiplex, or does not say FCGI_MAX_REQS, gets
    /// one at a time (stock libfcgi's answer).
    pub fn concurrency(&self, streams: u16) -> usize {
        let by_streams = streams.saturating_sub(FIRST_REQUEST_STREAM).max(1) as usize;
        let by_backend = match (self.mpxs_conns, self.max_reqs) {
            (Some(false), _) | (_, None) => 1,
            (_, Some(n)) => n,
        };
        by_backend.clamp(1, by_streams)
    }
}

/// A log line of the backend: FCGI_STDERR with request id 1, for stream 1.
/// Long lines are cut to one record.
pub fn log_line(msg: &str) -> Record {
    let mut data = msg.as_bytes().to_vec();
    data.truncate(MAX_CONTENT - 1);
    data.push(b'\n');
    Record::Stderr {
        id: MANAGEMENT_STREAM,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        list.iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn answers_known_names_only() {
        let v = Values {
            max_conns: 64,
            max_reqs: 32,
            mpxs_conns: true,
        };
        let q = pairs(&[
            (MAX_CONNS, ""),
            ("FCGI_NONSENSE", ""),
            (MAX_REQS, ""),
            (MPXS_CONNS, ""),
        ]);
        assert_eq!(
            answer(&q, &v),
            Record::GetValuesResult {
                pairs: pairs(&[(MAX_CONNS, "64"), (MAX_REQS, "32"), (MPXS_CONNS, "1")])
            }
        );
        assert_eq!(
            answer(&Pairs::new(), &v),
            Record::GetValuesResult { pairs: vec![] }
        );
        match question() {
            Record::GetValues { pairs } => assert_eq!(pairs.len(), 3),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn concurrency_from_the_answer() {
        let l = Learned::from_pairs(&pairs(&[(MAX_REQS, "5"), (MPXS_CONNS, "1")]));
        assert_eq!(l.max_reqs, Some(5));
        assert_eq!(l.concurrency(34), 5);
        assert_eq!(l.concurrency(4), 2, "streams bound it");
        let libfcgi = Learned::from_pairs(&pairs(&[
            (MAX_CONNS, "1"),
            (MAX_REQS, "1"),
            (MPXS_CONNS, "0"),
        ]));
        assert_eq!(libfcgi.concurrency(34), 1);
        let no_mpx = Learned::from_pairs(&pairs(&[(MAX_REQS, "50"), (MPXS_CONNS, "0")]));
        assert_eq!(no_mpx.concurrency(34), 1);
        assert_eq!(Learned::default().concurrency(34), 1, "silent backend");
        let zero = Learned::from_pairs(&pairs(&[(MAX_REQS, "0"), (MPXS_CONNS, "1")]));
        assert_eq!(zero.concurrency(34), 1);
        let junk = Learned::from_pairs(&pairs(&[(MAX_REQS, "lots")]));
        assert_eq!(junk.max_reqs, None);
    }

    #[test]
    fn log_lines_are_stderr_id_1() {
        match log_line("hello") {
            Record::Stderr { id, data } => {
                assert_eq!(id, 1);
                assert_eq!(data, b"hello\n");
            }
            r => panic!("{r:?}"),
        }
        let long = "x".repeat(100_000);
        let mut out = Vec::new();
        log_line(&long).encode(&mut out).unwrap();
    }
}
