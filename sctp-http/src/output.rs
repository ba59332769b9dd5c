//! The JSON lines sctp-http prints (sans-I/O): `get --json`'s object and
//! summary lines, `bench --json`'s summary, `raw`'s messages. Scripts read
//! them (bench/src/records.rs, the integration tests): the field names,
//! their order and which are left out or null are part of the interface.
//! Times are in milliseconds, rounded as they always were printed (0.1 ms;
//! 0.001 ms for latencies).

use serde::Serialize;

/// `x` rounded to `places` decimals (what `{:.N}` printed before).
pub fn round(x: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    (x * m).round() / m
}

/// One line as JSON. The shapes here hold nothing serde_json could refuse
/// (string keys, no maps); should it fail all the same, the line says so
/// instead of panicking.
pub fn line<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"json_error\":\"{e}\"}}"))
}

/// `get --json`: one URL.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Object {
    pub url: String,
    pub status: Option<u16>,
    pub stream: u16,
    /// Over SCTP only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association: Option<usize>,
    pub bytes: u64,
    pub ttfb_ms: Option<f64>,
    pub ttlb_ms: Option<f64>,
    pub done_ms: Option<f64>,
    pub file: Option<String>,
    pub error: Option<String>,
}

/// Does an object count as `ok` in the summary: answered completely, with
/// a status below 400 (as `--fail` sees it)?
pub fn is_ok(status: Option<u16>, error: Option<&str>) -> bool {
    error.is_none() && status.is_some_and(|s| s < 400)
}

/// `get --json`: the closing line.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Summary {
    pub summary: bool,
    pub objects: usize,
    pub ok: usize,
    pub streams: u16,
    pub transport: &'static str,
    pub connections: u16,
    /// Over SCTP only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associations: Option<usize>,
    pub bytes: u64,
    pub ms: f64,
}

impl Summary {
    /// The summary of `objects` (`summary`, `objects`, `ok` and `bytes`
    /// from them), the rest as given.
    pub fn of(
        objects: &[Object],
        streams: u16,
        tcp: bool,
        connections: u16,
        associations: usize,
        ms: f64,
    ) -> Summary {
        Summary {
            summary: true,
            objects: objects.len(),
            ok: objects
                .iter()
                .filter(|o| is_ok(o.status, o.error.as_deref()))
                .count(),
            streams,
            transport: if tcp { "tcp" } else { "sctp" },
            connections,
            associations: (!tcp).then_some(associations),
            bytes: objects.iter().map(|o| o.bytes).sum(),
            ms: round(ms, 1),
        }
    }
}

/// `bench --json`'s latencies (ms); null when nothing succeeded.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Latency {
    pub min: Option<f64>,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

/// `bench --json`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct BenchSummary {
    pub transport: &'static str,
    pub connections: usize,
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    pub reconnects: u64,
    pub secs: f64,
    pub rps: f64,
    pub bytes: u64,
    pub lat_ms: Latency,
    pub first_error: Option<String>,
}

/// `raw`: a message received.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RawMessage {
    pub stream: u16,
    pub ppid: u32,
    pub eor: bool,
    pub len: usize,
    pub data: String,
    pub t_ms: f64,
}

/// `raw`: the peer closed (`error`: how, when it was a reset).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RawEof {
    pub eof: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub t_ms: f64,
}

/// `raw`: a send the peer refused.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RawSendError {
    pub send_error: String,
    pub stream: u16,
    pub t_ms: f64,
}

/// `raw --abort-after-ms`: the ABORT went out.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RawAbort {
    pub abort: bool,
    pub t_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(status: Option<u16>, error: Option<&str>, bytes: u64) -> Object {
        Object {
            url: "http://h/a \"b\"".into(),
            status,
            stream: 3,
            association: Some(1),
            bytes,
            ttfb_ms: Some(round(1.26, 1)),
            ttlb_ms: Some(2.0),
            done_ms: None,
            file: Some("a".into()),
            error: error.map(String::from),
        }
    }

    #[test]
    fn object_line_keeps_its_shape() {
        assert_eq!(
            line(&object(Some(200), None, 5)),
            r#"{"url":"http://h/a \"b\"","status":200,"stream":3,"association":1,"bytes":5,"ttfb_ms":1.3,"ttlb_ms":2.0,"done_ms":null,"file":"a","error":null}"#
        );
        let mut tcp = object(None, Some("no response\n"), 0);
        tcp.association = None;
        tcp.file = None;
        assert_eq!(
            line(&tcp),
            r#"{"url":"http://h/a \"b\"","status":null,"stream":3,"bytes":0,"ttfb_ms":1.3,"ttlb_ms":2.0,"done_ms":null,"file":null,"error":"no response\n"}"#
        );
    }

    #[test]
    fn summary_counts_only_good_statuses_as_ok() {
        let objects = [
            object(Some(200), None, 10),
            object(Some(304), None, 0),
            object(Some(404), None, 7),
            object(Some(500), None, 1),
            object(Some(200), Some("truncated"), 3),
            object(None, Some("not sent"), 0),
        ];
        let s = Summary::of(&objects, 16, false, 1, 2, 12.345);
        assert_eq!(s.ok, 2, "200 and 304 only");
        assert_eq!(s.objects, 6);
        assert_eq!(s.bytes, 21);
        assert_eq!(
            line(&s),
            r#"{"summary":true,"objects":6,"ok":2,"streams":16,"transport":"sctp","connections":1,"associations":2,"bytes":21,"ms":12.3}"#
        );
        let s = Summary::of(&objects[2..4], 6, true, 6, 1, 1.0);
        assert_eq!(s.ok, 0, "a 404 and a 500 are not ok");
        assert_eq!(
            line(&s),
            r#"{"summary":true,"objects":2,"ok":0,"streams":6,"transport":"tcp","connections":6,"bytes":8,"ms":1.0}"#
        );
        assert!(is_ok(Some(399), None));
        assert!(!is_ok(Some(400), None));
    }

    #[test]
    fn bench_summary_without_successes_is_valid_json() {
        let s = BenchSummary {
            transport: "sctp",
            connections: 2,
            requests: 4,
            ok: 0,
            failed: 4,
            reconnects: 0,
            secs: round(0.12345, 3),
            rps: 0.0,
            bytes: 0,
            lat_ms: Latency {
                min: None,
                mean: None,
                p50: None,
                p90: None,
                p99: None,
                max: None,
            },
            first_error: Some("status 404".into()),
        };
        let l = line(&s);
        assert_eq!(
            l,
            r#"{"transport":"sctp","connections":2,"requests":4,"ok":0,"failed":4,"reconnects":0,"secs":0.123,"rps":0.0,"bytes":0,"lat_ms":{"min":null,"mean":null,"p50":null,"p90":null,"p99":null,"max":null},"first_error":"status 404"}"#
        );
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["failed"], 4);
    }

    #[test]
    fn raw_lines_keep_their_shapes() {
        let m = RawMessage {
            stream: 2,
            ppid: 63,
            eor: true,
            len: 3,
            data: "a\r\u{1}".into(),
            t_ms: round(10.04, 1),
        };
        assert_eq!(
            line(&m),
            r#"{"stream":2,"ppid":63,"eor":true,"len":3,"data":"a\r\u0001","t_ms":10.0}"#
        );
        let e = RawEof {
            eof: true,
            error: None,
            t_ms: 1.5,
        };
        assert_eq!(line(&e), r#"{"eof":true,"t_ms":1.5}"#);
        let e = RawEof {
            eof: true,
            error: Some("reset".into()),
            t_ms: 1.5,
        };
        assert_eq!(line(&e), r#"{"eof":true,"error":"reset","t_ms":1.5}"#);
        let s = RawSendError {
            send_error: "EPIPE".into(),
            stream: 1,
            t_ms: 0.0,
        };
        assert_eq!(line(&s), r#"{"send_error":"EPIPE","stream":1,"t_ms":0.0}"#);
        let a = RawAbort {
            abort: true,
            t_ms: 250.1,
        };
        assert_eq!(line(&a), r#"{"abort":true,"t_ms":250.1}"#);
    }
}
