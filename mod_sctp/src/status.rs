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

/// What a stream in progress is doing (the session's Waiting, Running and
/// Draining states; idle, closed and failed streams are not listed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamViewState {
    /// It has a request but no connection yet: `SCTPMaxConcurrentStreams`
    /// streams of its association, or `SCTPStreamWorkers` threads of its
    /// child, are busy.
    #[default]
    Waiting,
    /// Its connection reads and answers its requests.
    Running,
    /// The server is stopping: the request in progress finishes, no
    /// further one starts.
    Draining,
}

impl StreamViewState {
    pub fn name(self) -> &'static str {
        match self {
            StreamViewState::Waiting => "waiting",
            StreamViewState::Running => "running",
            StreamViewState::Draining => "draining",
        }
    }
}

/// One stream of an association with a request in progress or waiting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamView {
    pub sid: u16,
    pub state: StreamViewState,
    /// The request line (`r->the_request`), or empty before one is read.
    /// The shared table keeps at most `registry::REQUEST_LINE_LEN` bytes of
    /// it, cut at a character boundary, control characters as `?`.
    pub request: String,
    /// How long the stream had been in `state` when the association was
    /// published (`AssocView::updated`); the page adds the time since.
    pub since_ms: u64,
}

impl StreamView {
    /// Seconds in its state at `now`, for a view published at `updated`
    /// (both Unix seconds).
    pub fn seconds(&self, updated: i64, now: i64) -> u64 {
        self.since_ms / 1000 + (now - updated).max(0) as u64
    }
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
    /// Streams in progress (waiting, running, draining). The shared table
    /// keeps the first `registry::MAX_STREAM_VIEWS` in the order given (put
    /// running streams first) and counts the rest in `streams_not_listed`.
    pub streams: Vec<StreamView>,
    /// Streams in progress beyond those in `streams`.
    pub streams_not_listed: u64,
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
/// What the status page says about the server as a whole (as mod_status's
/// header does).
#[derive(Clone, Debug, Default)]
pub struct ServerView {
    /// httpd's description, modules included ("Apache/2.4.x (Debian)
    /// mod_sctp/0.1.0").
    pub description: String,
    /// When this generation of the configuration started (Unix seconds).
    pub started: i64,
    /// The SCTP listeners served.
    pub listeners: Vec<String>,
    /// `?refresh=N`: the page reloads itself every N seconds.
    pub refresh: Option<u32>,
}

/// `refresh=N` among the query's arguments, 1 to 3600 seconds.
pub fn refresh_arg(args: &str) -> Option<u32> {
    args.split('&')
        .find_map(|a| a.strip_prefix("refresh="))
        .and_then(|v| v.parse::<u32>().ok())
        .map(|n| n.clamp(1, 3600))
}

/// Totals over the listed associations: messages in, bytes in, messages
/// out, bytes out, responses.
fn totals(views: &[AssocView]) -> [u64; 5] {
    views.iter().fold([0; 5], |t, v| {
        [
            t[0] + v.messages_in,
            t[1] + v.bytes_in,
            t[2] + v.messages_out,
            t[3] + v.bytes_out,
            t[4] + v.responses,
        ]
    })
}

pub fn render_text(views: &[AssocView], now: i64, unlisted: u64, server: &ServerView) -> String {
    let mut o = String::new();
    let [mi, bi, mo, bo, responses] = totals(views);
    let _ = writeln!(o, "ServerVersion: {}", server.description);
    let _ = writeln!(o, "ServerUptimeSeconds: {}", (now - server.started).max(0));
    let _ = writeln!(o, "Listeners: {}", server.listeners.join(" "));
    let _ = writeln!(o, "Associations: {}", views.len());
    let _ = writeln!(o, "Unlisted: {unlisted}");
    let _ = writeln!(o, "Responses: {responses}");
    let _ = writeln!(o, "TotalMessagesIn: {mi}");
    let _ = writeln!(o, "TotalBytesIn: {bi}");
    let _ = writeln!(o, "TotalMessagesOut: {mo}");
    let _ = writeln!(o, "TotalBytesOut: {bo}");
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
        let _ = writeln!(
            o,
            "StreamsInProgress: {}",
            v.streams.len() as u64 + v.streams_not_listed
        );
        let _ = writeln!(o, "StreamsNotListed: {}", v.streams_not_listed);
        for s in &v.streams {
            let _ = writeln!(
                o,
                "Stream: {} state={} seconds={} request={}",
                s.sid,
                s.state.name(),
                s.seconds(v.updated, now),
                s.request
            );
        }
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

/// Under an association's row, its streams in progress, if any.
fn streams_html(o: &mut String, v: &AssocView, now: i64) {
    if v.streams.is_empty() && v.streams_not_listed == 0 {
        return;
    }
    o.push_str("<tr><td></td><td colspan=\"10\"><table><tr><th>stream</th><th>state</th><th>s</th><th>request</th></tr>\n");
    for s in &v.streams {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.sid,
            s.state.name(),
            s.seconds(v.updated, now),
            html_escape(&s.request)
        );
    }
    o.push_str("</table>");
    if v.streams_not_listed > 0 {
        let _ = write!(
            o,
            "{} more stream(s) in progress not listed",
            v.streams_not_listed
        );
    }
    o.push_str("</td></tr>\n");
}

/// The HTML page.
pub fn render_html(
    views: &[AssocView],
    now: i64,
    unlisted: u64,
    host: &str,
    server: &ServerView,
) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>SCTP status</title>");
    if let Some(n) = server.refresh {
        let _ = write!(o, "<meta http-equiv=\"refresh\" content=\"{n}\">");
    }
    o.push_str("<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}</style>");
    o.push_str("</head><body>\n<h1>SCTP associations</h1>\n");
    let [mi, bi, mo, bo, responses] = totals(views);
    let _ = writeln!(
        o,
        "<p>Server version: {}<br>Server uptime: {} s<br>SCTP listeners: {}<br>Totals over the live associations: {mi} messages / {bi} bytes in, {mo} messages / {bo} bytes out{}</p>",
        html_escape(&server.description),
        (now - server.started).max(0),
        html_escape(&server.listeners.join(", ")),
        server
            .refresh
            .map_or_else(String::new, |n| format!("<br>Reloads every {n} s")),
    );
    let _ = writeln!(
        o,
        "<p>{} &mdash; {} live association(s), {} response(s) served on them{}.</p>",
        html_escape(host),
        views.len(),
        responses,
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
        streams_html(&mut o, v, now);
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
            ..Default::default()
        }
    }

    fn with_streams() -> AssocView {
        AssocView {
            streams: vec![
                StreamView {
                    sid: 3,
                    state: StreamViewState::Running,
                    request: "GET /cgi-bin/slow?a=1&b=<2> HTTP/1.1".into(),
                    since_ms: 2500,
                },
                StreamView {
                    sid: 9,
                    state: StreamViewState::Waiting,
                    request: "POST /up HTTP/1.1".into(),
                    since_ms: 0,
                },
                StreamView {
                    sid: 1,
                    state: StreamViewState::Draining,
                    request: String::new(),
                    since_ms: 999,
                },
            ],
            streams_not_listed: 4,
            ..sample()
        }
    }

    #[test]
    fn text_lists_streams_in_progress() {
        // Published at 104 (updated), read at 110: 6 s more than since_ms.
        let t = render_text(&[with_streams()], 110, 0, &ServerView::default());
        for want in [
            "StreamsInProgress: 7\n",
            "StreamsNotListed: 4\n",
            "Stream: 3 state=running seconds=8 request=GET /cgi-bin/slow?a=1&b=<2> HTTP/1.1\n",
            "Stream: 9 state=waiting seconds=6 request=POST /up HTTP/1.1\n",
            "Stream: 1 state=draining seconds=6 request=\n",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
        // Without streams: the counts, no Stream lines.
        let t = render_text(&[sample()], 110, 0, &ServerView::default());
        assert!(
            t.contains("StreamsInProgress: 0\nStreamsNotListed: 0\n"),
            "{t}"
        );
        assert!(!t.contains("\nStream: "), "{t}");
        // A clock that went back shows the published age, not less.
        assert_eq!(with_streams().streams[0].seconds(104, 100), 2);
    }

    #[test]
    fn html_lists_streams_escaped() {
        let h = render_html(&[with_streams()], 110, 0, "s", &ServerView::default());
        assert!(
            h.contains("<tr><td>3</td><td>running</td><td>8</td><td>GET /cgi-bin/slow?a=1&amp;b=&lt;2&gt; HTTP/1.1</td></tr>"),
            "{h}"
        );
        assert!(
            h.contains("<tr><td>9</td><td>waiting</td><td>6</td><td>POST /up HTTP/1.1</td></tr>"),
            "{h}"
        );
        assert!(
            h.contains("<tr><td>1</td><td>draining</td><td>6</td><td></td></tr>"),
            "{h}"
        );
        assert!(h.contains("4 more stream(s) in progress not listed"), "{h}");
        assert!(!h.contains("b=<2>"), "{h}");
        // No streams: no stream table.
        let h = render_html(&[sample()], 110, 0, "s", &ServerView::default());
        assert!(
            !h.contains("<th>stream</th>") && !h.contains("not listed"),
            "{h}"
        );
    }

    #[test]
    fn text_lists_every_field() {
        let t = render_text(&[sample()], 110, 2, &ServerView::default());
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
        let h = render_html(&[v], 110, 0, "host & port", &ServerView::default());
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
        assert!(render_text(&[], 0, 0, &ServerView::default())
            .contains("\nAssociations: 0\nUnlisted: 0\n"));
        assert!(render_html(&[], 0, 5, "s", &ServerView::default()).contains("5 more not listed"));
    }

    #[test]
    fn the_server_header_has_version_uptime_listeners_totals_and_refresh() {
        let server = ServerView {
            description: "Apache/2.4.71 (Debian) mod_sctp/0.1.0".into(),
            started: 100,
            listeners: vec!["127.0.0.1:80".into(), "[::]:8080+10.0.0.2".into()],
            refresh: refresh_arg("auto&refresh=5"),
        };
        let t = render_text(&[sample(), with_streams()], 160, 0, &server);
        assert!(t.starts_with("ServerVersion: Apache/2.4.71 (Debian) mod_sctp/0.1.0\n"));
        assert!(t.contains("\nServerUptimeSeconds: 60\n"));
        assert!(t.contains("\nListeners: 127.0.0.1:80 [::]:8080+10.0.0.2\n"));
        let (a, b) = (sample(), with_streams());
        assert!(t.contains(&format!("\nTotalBytesIn: {}\n", a.bytes_in + b.bytes_in)));
        assert!(t.contains(&format!(
            "\nTotalMessagesOut: {}\n",
            a.messages_out + b.messages_out
        )));
        let h = render_html(&[sample()], 160, 0, "s", &server);
        assert!(h.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
        assert!(h.contains("Server uptime: 60 s"));
        assert!(h.contains("127.0.0.1:80, [::]:8080+10.0.0.2"));
        assert_eq!(refresh_arg("refresh=0"), Some(1));
        assert_eq!(refresh_arg("refresh=99999"), Some(3600));
        assert_eq!(refresh_arg("refresh=x"), None);
        assert_eq!(refresh_arg("auto"), None);
        assert!(!render_html(&[], 0, 0, "s", &ServerView::default()).contains("http-equiv"));
    }
}
