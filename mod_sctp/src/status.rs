//! What `SetHandler sctp-status` shows (sans-I/O): views of the live
//! associations of every httpd child, rendered as an HTML page or, with
//! `?auto`, as `key: value` lines for scripts (like mod_status).

use std::fmt::Write as _;

/// One path (peer address) of an association.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathView {
    pub addr: String,
    /// `SCTP_GET_PEER_ADDR_INFO` state: 0 inactive, 1 potentially failed,
    /// 2 active, 3 unconfirmed.
    pub state: i32,
    pub rto_ms: u32,
    pub srtt_ms: u32,
    pub cwnd: u32,
    pub primary: bool,
}

/// One live association, as its child last published it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssocView {
    pub pid: i32,
    pub conn_id: i64,
    pub assoc_id: i32,
    pub in_streams: u16,
    pub out_streams: u16,
    /// Stream of the request being read or answered.
    pub pinned: Option<u16>,
    /// Unix seconds.
    pub started: i64,
    pub updated: i64,
    /// Input bytes queued on all streams.
    pub queued: u64,
    pub messages_in: u64,
    pub bytes_in: u64,
    pub messages_out: u64,
    pub bytes_out: u64,
    pub responses: u64,
    /// Responses per stream, for the streams that had any (low streams
    /// only; see `other_streams`).
    pub per_stream: Vec<(u16, u64)>,
    /// Responses on streams beyond those counted one by one.
    pub other_streams: u64,
    pub peers: String,
    pub paths: Vec<PathView>,
}

pub fn path_state_name(s: i32) -> &'static str {
    match s {
        0 => "inactive",
        1 => "potentially-failed",
        2 => "active",
        3 => "unconfirmed",
        _ => "unknown",
    }
}

fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

fn streams_text(v: &AssocView) -> String {
    let mut s: Vec<String> = v
        .per_stream
        .iter()
        .map(|(sid, n)| format!("{sid}:{n}"))
        .collect();
    if v.other_streams > 0 {
        s.push(format!("other:{}", v.other_streams));
    }
    s.join(" ")
}

fn paths_text(v: &AssocView) -> String {
    let p: Vec<String> = v
        .paths
        .iter()
        .map(|p| {
            format!(
                "{}{} {} rto={}ms srtt={}ms cwnd={}",
                p.addr,
                if p.primary { "*" } else { "" },
                path_state_name(p.state),
                p.rto_ms,
                p.srtt_ms,
                p.cwnd
            )
        })
        .collect();
    p.join(", ")
}

/// `?auto`: a summary, then one block of `key: value` lines per association.
pub fn render_text(views: &[AssocView], now: i64, unlisted: u64) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Associations: {}", views.len());
    let _ = writeln!(o, "Unlisted: {unlisted}");
    let _ = writeln!(
        o,
        "Responses: {}",
        views.iter().map(|v| v.responses).sum::<u64>()
    );
    for v in views {
        let _ = writeln!(o);
        let _ = writeln!(o, "Association: {}", v.assoc_id);
        let _ = writeln!(o, "PID: {}", v.pid);
        let _ = writeln!(o, "Connection: {}", v.conn_id);
        let _ = writeln!(o, "Peers: {}", v.peers);
        let _ = writeln!(o, "Streams: in={} out={}", v.in_streams, v.out_streams);
        let _ = writeln!(
            o,
            "Pinned: {}",
            v.pinned.map_or_else(|| "-".to_string(), |s| s.to_string())
        );
        let _ = writeln!(o, "Age: {}", (now - v.started).max(0));
        let _ = writeln!(o, "Updated: {}", (now - v.updated).max(0));
        let _ = writeln!(o, "Queued: {}", v.queued);
        let _ = writeln!(o, "MessagesIn: {}", v.messages_in);
        let _ = writeln!(o, "BytesIn: {}", v.bytes_in);
        let _ = writeln!(o, "MessagesOut: {}", v.messages_out);
        let _ = writeln!(o, "BytesOut: {}", v.bytes_out);
        let _ = writeln!(o, "Responses: {}", v.responses);
        let _ = writeln!(o, "ResponsesPerStream: {}", streams_text(v));
        for p in &v.paths {
            let _ = writeln!(
                o,
                "Path: {} state={} primary={} rto={} srtt={} cwnd={}",
                p.addr,
                path_state_name(p.state),
                p.primary as u8,
                p.rto_ms,
                p.srtt_ms,
                p.cwnd
            );
        }
    }
    o
}

/// The HTML page.
pub fn render_html(views: &[AssocView], now: i64, unlisted: u64, server: &str) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>SCTP status</title>");
    o.push_str("<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}</style>");
    o.push_str("</head><body>\n<h1>SCTP associations</h1>\n");
    let _ = writeln!(
        o,
        "<p>{} &mdash; {} live association(s), {} response(s) served on them{}.</p>",
        html_escape(server),
        views.len(),
        views.iter().map(|v| v.responses).sum::<u64>(),
        if unlisted > 0 {
            format!("; {unlisted} more not listed (status table full)")
        } else {
            String::new()
        }
    );
    o.push_str("<table>\n<tr><th>assoc</th><th>pid / conn</th><th>peers</th><th>streams in/out</th><th>pinned</th><th>age s</th><th>queued B</th><th>msgs in/out</th><th>bytes in/out</th><th>responses per stream</th><th>paths (state, RTO, SRTT, cwnd; * primary)</th></tr>\n");
    for v in views {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{} / {}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td><td>{}/{}</td><td>{}</td><td>{}</td></tr>",
            v.assoc_id,
            v.pid,
            v.conn_id,
            html_escape(&v.peers),
            v.in_streams,
            v.out_streams,
            v.pinned.map_or_else(|| "-".to_string(), |s| s.to_string()),
            (now - v.started).max(0),
            v.queued,
            v.messages_in,
            v.messages_out,
            v.bytes_in,
            v.bytes_out,
            html_escape(&streams_text(v)),
            html_escape(&paths_text(v)).replace(", ", "<br>"),
        );
    }
    o.push_str("</table>\n<p>Each child publishes its associations when they start and at the end of each response; paths are refreshed at most once a second.</p>\n</body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AssocView {
        AssocView {
            pid: 42,
            conn_id: 7,
            assoc_id: 3,
            in_streams: 16,
            out_streams: 10,
            pinned: Some(5),
            started: 100,
            updated: 104,
            queued: 12,
            messages_in: 9,
            bytes_in: 900,
            messages_out: 20,
            bytes_out: 40000,
            responses: 8,
            per_stream: vec![(1, 3), (5, 4)],
            other_streams: 1,
            peers: "10.0.0.1 10.1.0.1".into(),
            paths: vec![
                PathView {
                    addr: "10.0.0.1:4000".into(),
                    state: 2,
                    rto_ms: 200,
                    srtt_ms: 1,
                    cwnd: 4380,
                    primary: true,
                },
                PathView {
                    addr: "10.1.0.1:4000".into(),
                    state: 0,
                    rto_ms: 1000,
                    srtt_ms: 0,
                    cwnd: 1500,
                    primary: false,
                },
            ],
        }
    }

    #[test]
    fn text_lists_every_field() {
        let t = render_text(&[sample()], 110, 2);
        for want in [
            "Associations: 1",
            "Unlisted: 2",
            "Responses: 8",
            "Association: 3",
            "PID: 42",
            "Peers: 10.0.0.1 10.1.0.1",
            "Streams: in=16 out=10",
            "Pinned: 5",
            "Age: 10",
            "Queued: 12",
            "MessagesOut: 20",
            "ResponsesPerStream: 1:3 5:4 other:1",
            "Path: 10.0.0.1:4000 state=active primary=1 rto=200 srtt=1 cwnd=4380",
            "Path: 10.1.0.1:4000 state=inactive primary=0",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
    }

    #[test]
    fn html_escapes_and_shows_paths() {
        let mut v = sample();
        v.peers = "<script>".into();
        let h = render_html(&[v], 110, 0, "host & port");
        assert!(h.contains("&lt;script&gt;") && !h.contains("<script>"));
        assert!(h.contains("host &amp; port"));
        assert!(h.contains(
            "10.0.0.1:4000* active rto=200ms srtt=1ms cwnd=4380<br>10.1.0.1:4000 inactive"
        ));
        assert!(h.contains("1 live association(s), 8 response(s)"));
        assert!(!h.contains("not listed"));
    }

    #[test]
    fn empty_table() {
        assert!(render_text(&[], 0, 0).starts_with("Associations: 0\nUnlisted: 0\n"));
        assert!(render_html(&[], 0, 5, "s").contains("5 more not listed"));
    }
}
