//! What the benchmark clients print, turned into measurements (sans-I/O).
//!
//! Each parser also checks the transfer: a page whose objects do not all
//! arrive with status 200 and their exact size is an error, never a sample.

use serde_json::Value;

/// One fetch of the page: when each object completed (from the start of the
/// fetch, connection setup included) and when the last one did.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRun {
    pub objects_ms: Vec<f64>,
    pub page_ms: f64,
}

/// The page: (path, size in bytes) per object, from a file of lines
/// "PATH SIZE" ('#' comments).
pub fn parse_page_list(text: &str) -> Result<Vec<(String, u64)>, String> {
    let mut v = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let mut f = l.split_whitespace();
        let (Some(p), Some(s), None) = (f.next(), f.next(), f.next()) else {
            return Err(format!("line {}: want 'PATH SIZE'", i + 1));
        };
        let size = s
            .parse()
            .map_err(|_| format!("line {}: bad size '{s}'", i + 1))?;
        v.push((p.to_string(), size));
    }
    Ok(v)
}

fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

/// Completion times per object in page order, once each object is checked.
fn complete(
    page: &[(String, u64)],
    mut got: Vec<(String, u16, u64, f64)>,
) -> Result<PageRun, String> {
    let mut objects_ms = Vec::with_capacity(page.len());
    for (path, size) in page {
        let i = got
            .iter()
            .position(|g| &g.0 == path)
            .ok_or_else(|| format!("{path}: no response"))?;
        let (_, status, bytes, ms) = got.swap_remove(i);
        if status != 200 {
            return Err(format!("{path}: status {status}"));
        }
        if bytes != *size {
            return Err(format!("{path}: {bytes} bytes, want {size}"));
        }
        if !ms.is_finite() {
            return Err(format!("{path}: no completion time"));
        }
        objects_ms.push(ms);
    }
    if let Some(g) = got.first() {
        return Err(format!("{}: not part of the page", g.0));
    }
    let page_ms = objects_ms.iter().cloned().fold(0.0, f64::max);
    Ok(PageRun {
        objects_ms,
        page_ms,
    })
}

/// `sctp-http get --json` output (one object per URL with `done_ms`).
pub fn page_from_sctp_http(out: &str, page: &[(String, u64)]) -> Result<PageRun, String> {
    let mut got = Vec::new();
    for l in out.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(l).map_err(|e| format!("{e}: {l}"))?;
        let Some(url) = v["url"].as_str() else {
            continue;
        };
        if let Some(e) = v["error"].as_str() {
            return Err(format!("{url}: {e}"));
        }
        got.push((
            path_of(url).to_string(),
            v["status"].as_u64().unwrap_or(0) as u16,
            v["bytes"].as_u64().unwrap_or(0),
            v["done_ms"].as_f64().unwrap_or(f64::NAN),
        ));
    }
    complete(page, got)
}

/// The QUIC counters of `sctp-bench h3-get --json`'s summary line, if any.
pub fn quic_counters(out: &str) -> Option<Value> {
    out.lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["summary"] == true)
        .map(|v| v["quic"].clone())
        .filter(Value::is_object)
}

/// `nghttp -nv` output: the request path of each stream from its HEADERS,
/// the status, DATA lengths, and the time of the DATA frame with END_STREAM.
pub fn page_from_nghttp(out: &str, page: &[(String, u64)]) -> Result<PageRun, String> {
    struct S {
        id: u64,
        path: String,
        status: u16,
        bytes: u64,
        done: f64,
    }
    let mut streams: Vec<S> = Vec::new();
    let mut sending: Option<u64> = None;
    let stream_id = |l: &str| -> Option<u64> {
        let i = l.find("stream_id=")? + "stream_id=".len();
        let d: String = l[i..].chars().take_while(char::is_ascii_digit).collect();
        d.parse().ok()
    };
    let time = |l: &str| -> Option<f64> {
        let l = l.strip_prefix('[')?;
        l[..l.find(']')?].trim().parse::<f64>().ok()
    };
    for l in out.lines() {
        if l.contains("] send HEADERS frame") {
            sending = stream_id(l);
        } else if let (Some(id), Some(p)) = (sending, l.trim().strip_prefix(":path: ")) {
            streams.push(S {
                id,
                path: p.to_string(),
                status: 0,
                bytes: 0,
                done: f64::NAN,
            });
            sending = None;
        } else if l.contains("] recv (stream_id=") && l.contains(") :status: ") {
            let id = l
                .split("stream_id=")
                .nth(1)
                .and_then(|r| r.split(')').next())
                .and_then(|d| d.parse::<u64>().ok());
            let st = l.rsplit(' ').next().and_then(|s| s.parse().ok());
            if let (Some(id), Some(st)) = (id, st) {
                if let Some(s) = streams.iter_mut().find(|s| s.id == id) {
                    s.status = st;
                }
            }
        } else if l.contains("] recv DATA frame <") {
            let (Some(id), Some(t)) = (stream_id(l), time(l)) else {
                continue;
            };
            let len = l
                .split("length=")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|d| d.parse::<u64>().ok())
                .unwrap_or(0);
            let flags = l
                .split("flags=0x")
                .nth(1)
                .and_then(|r| u8::from_str_radix(r.get(..2)?, 16).ok())
                .unwrap_or(0);
            if let Some(s) = streams.iter_mut().find(|s| s.id == id) {
                s.bytes += len;
                if flags & 1 != 0 {
                    s.done = t * 1000.0;
                }
            }
        }
    }
    let got = streams
        .into_iter()
        .map(|s| (s.path, s.status, s.bytes, s.done))
        .collect();
    complete(page, got)
}

/// One fetch of the head-of-line scenario: the slow response's completion
/// time (when there was one) and the small requests' ones, each from the
/// start of the fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct HolRun {
    pub slow_ms: Option<f64>,
    pub small_ms: Vec<f64>,
}

/// Splits a checked fetch of the head-of-line list: with `slow_first`, the
/// list's first object is the slow response and the others are the small
/// requests; without, every object is a small request.
pub fn hol_split(run: PageRun, slow_first: bool) -> Result<HolRun, String> {
    let mut small_ms = run.objects_ms;
    let slow_ms = if slow_first {
        if small_ms.is_empty() {
            return Err("no slow response in the list".into());
        }
        Some(small_ms.remove(0))
    } else {
        None
    };
    if small_ms.is_empty() {
        return Err("no small requests in the list".into());
    }
    Ok(HolRun { slow_ms, small_ms })
}

/// Requests per second and latency percentiles (ms) of a load run.
#[derive(Debug, Clone, PartialEq)]
pub struct RateRun {
    pub rps: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// `sctp-http bench --json`.
pub fn rate_from_sctp_http(out: &str) -> Result<RateRun, String> {
    let l = out
        .lines()
        .find(|l| l.starts_with('{'))
        .ok_or("no JSON summary")?;
    let v: Value = serde_json::from_str(l).map_err(|e| e.to_string())?;
    let failed = v["failed"].as_u64().unwrap_or(1);
    if failed > 0 || v["ok"].as_u64().unwrap_or(0) == 0 {
        return Err(format!(
            "{failed} requests failed (first error: {})",
            v["first_error"]
        ));
    }
    Ok(RateRun {
        rps: v["rps"].as_f64().ok_or("no rps")?,
        p50_ms: v["lat_ms"]["p50"].as_f64(),
        p99_ms: v["lat_ms"]["p99"].as_f64(),
    })
}

fn wrk_duration_ms(s: &str) -> Option<f64> {
    let (num, mul) = if let Some(n) = s.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|v| v * mul)
}

/// `wrk --latency` output; non-2xx responses or socket errors are an error.
pub fn rate_from_wrk(out: &str) -> Result<RateRun, String> {
    if let Some(l) = out
        .lines()
        .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
    {
        return Err(l.trim().to_string());
    }
    let mut r = RateRun {
        rps: f64::NAN,
        p50_ms: None,
        p99_ms: None,
    };
    for l in out.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        match f.as_slice() {
            ["Requests/sec:", v] => r.rps = v.parse().unwrap_or(f64::NAN),
            ["50%", v] => r.p50_ms = wrk_duration_ms(v),
            ["99%", v] => r.p99_ms = wrk_duration_ms(v),
            _ => {}
        }
    }
    if r.rps.is_finite() && r.rps > 0.0 {
        Ok(r)
    } else {
        Err("no Requests/sec line".into())
    }
}

/// `h2load` output (requests per second; failures are an error).
pub fn rate_from_h2load(out: &str) -> Result<RateRun, String> {
    let mut rps = None;
    for l in out.lines() {
        if let Some(rest) = l.strip_prefix("finished in ") {
            rps = rest
                .split(", ")
                .nth(1)
                .and_then(|s| s.strip_suffix(" req/s"))
                .and_then(|s| s.parse::<f64>().ok());
        }
        if let Some(rest) = l.strip_prefix("requests: ") {
            let failed = rest
                .split(", ")
                .find_map(|p| p.strip_suffix(" failed"))
                .and_then(|n| n.parse::<u64>().ok());
            if failed != Some(0) {
                return Err(format!("h2load: {}", l.trim()));
            }
        }
        if l.starts_with("status codes: ") && !l.contains(" 0 3xx, 0 4xx, 0 5xx") {
            return Err(format!("h2load: {}", l.trim()));
        }
    }
    let rps = rps.ok_or("no 'finished in' line")?;
    Ok(RateRun {
        rps,
        p50_ms: None,
        p99_ms: None,
    })
}

/// A bulk download: (bytes, seconds) from `sctp-http get --json` (its
/// summary line) or `sctp-bench pump-get`; anything but `want` bytes in one
/// complete object is an error.
pub fn bulk(out: &str, from: &str, want: u64) -> Result<(u64, f64), String> {
    let line = |key: &str| {
        out.lines()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| !v[key].is_null())
            .ok_or(format!("no JSON line with '{key}'"))
    };
    let (bytes, secs) = match from {
        "sctp-http" => {
            let v = line("summary")?;
            if v["ok"].as_u64() != Some(1) {
                let e = line("url")
                    .map(|u| u["error"].to_string())
                    .unwrap_or_default();
                return Err(format!("the download failed: {e}"));
            }
            (v["bytes"].as_u64(), v["ms"].as_f64().map(|m| m / 1000.0))
        }
        "pump" => {
            let v = line("secs")?;
            (v["bytes"].as_u64(), v["secs"].as_f64())
        }
        f => return Err(format!("--from {f}?")),
    };
    let (Some(bytes), Some(secs)) = (bytes, secs) else {
        return Err("no bytes or time".into());
    };
    if bytes != want {
        return Err(format!("{bytes} bytes, want {want}"));
    }
    Ok((bytes, secs))
}

/// One run of the FastCGI mix (`fcgi-bridge request --large-param ...
/// --json`): one large request, then the small ones, started once the
/// large response's first bytes arrived, on the same association or
/// connection (or a connection each).
#[derive(Debug, Clone, PartialEq)]
pub struct FastcgiRun {
    /// Each small request's latency: from its start (connect included for
    /// a connection per request) to its END_REQUEST.
    pub small_ms: Vec<f64>,
    /// The large request's latency, and when its first STDOUT came.
    pub large_ms: f64,
    pub large_first_ms: f64,
    /// How many small requests ended before the large one did.
    pub small_during_large: usize,
}

/// Parses and checks the JSON lines of a mix: exactly one large and
/// `small_count` small responses, each complete (app status 0, protocol
/// status 0, CGI status 200) with its exact body size, and a summary line
/// that agrees.
pub fn fastcgi_mix(
    out: &str,
    small_body: u64,
    large_body: u64,
    small_count: usize,
) -> Result<FastcgiRun, String> {
    let mut small = Vec::new();
    let mut large: Option<(f64, f64, f64)> = None;
    let mut small_end = Vec::new();
    let mut summary = None;
    for l in out.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(l).map_err(|e| format!("{e}: {l}"))?;
        if v["summary"] == true {
            summary = Some(v);
            continue;
        }
        let kind = v["kind"].as_str().ok_or_else(|| format!("no kind: {l}"))?;
        let id = &v["id"];
        let want = match kind {
            "small" => small_body,
            "large" => large_body,
            k => return Err(format!("request {id}: kind {k:?}")),
        };
        for (k, w) in [("app_status", 0), ("protocol_status", 0), ("status", 200)] {
            if v[k].as_u64() != Some(w) {
                return Err(format!("{kind} request {id}: {k} {}, want {w}", v[k]));
            }
        }
        if v["body"].as_u64() != Some(want) {
            return Err(format!(
                "{kind} request {id}: body {} bytes, want {want}",
                v["body"]
            ));
        }
        let num = |k: &str| {
            v[k].as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| format!("{kind} request {id}: no {k}"))
        };
        let (start, ms) = (num("start_ms")?, num("ms")?);
        if kind == "small" {
            small.push(ms);
            small_end.push(start + ms);
        } else if large.is_some() {
            return Err("two large responses".into());
        } else {
            large = Some((start, ms, num("first_ms")?));
        }
    }
    let (lstart, large_ms, large_first_ms) = large.ok_or("no large response")?;
    if small.len() != small_count {
        return Err(format!(
            "{} small responses, want {small_count}",
            small.len()
        ));
    }
    let s = summary.ok_or("no summary line")?;
    if s["failed"].as_u64() != Some(0) || s["ok"].as_u64() != Some(small_count as u64 + 1) {
        return Err(format!(
            "summary: {} ok, {} failed, want {} ok",
            s["ok"],
            s["failed"],
            small_count + 1
        ));
    }
    let lend = lstart + large_ms;
    Ok(FastcgiRun {
        small_during_large: small_end.iter().filter(|&&e| e < lend).count(),
        small_ms: small,
        large_ms,
        large_first_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Vec<(String, u64)> {
        parse_page_list("# test\n/a 10\n/b 20\n").unwrap()
    }

    #[test]
    fn page_list() {
        assert_eq!(page(), vec![("/a".into(), 10), ("/b".into(), 20)]);
        assert!(parse_page_list("/a\n").is_err());
        assert!(parse_page_list("/a x\n").is_err());
    }

    #[test]
    fn sctp_http_page() {
        let out = r#"{"url":"http://h:1/b","status":200,"stream":1,"bytes":20,"ttfb_ms":1.0,"ttlb_ms":2.0,"done_ms":7.5,"file":null,"error":null}
{"url":"http://h:1/a","status":200,"stream":0,"bytes":10,"ttfb_ms":1.0,"ttlb_ms":2.0,"done_ms":5.0,"file":null,"error":null}
{"summary":true}"#;
        let r = page_from_sctp_http(out, &page()).unwrap();
        assert_eq!(r.objects_ms, vec![5.0, 7.5]);
        assert_eq!(r.page_ms, 7.5);
        let short = out.replace("\"bytes\":20", "\"bytes\":19");
        assert!(page_from_sctp_http(&short, &page())
            .unwrap_err()
            .contains("19 bytes"));
        let missing: String = out.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert!(page_from_sctp_http(&missing, &page()).is_err());
        let err = out.replace("\"error\":null", "\"error\":\"truncated\"");
        assert!(page_from_sctp_http(&err, &page()).is_err());
        // --associations N adds each object's association.
        let assocs = out.replace("\"stream\":1,", "\"stream\":0,\"association\":1,");
        assert_eq!(page_from_sctp_http(&assocs, &page()).unwrap(), r);
        assert_eq!(quic_counters(out), None);
        let h3 = out.replace(
            "{\"summary\":true}",
            "{\"summary\":true,\"quic\":{\"lost_packets\":3}}",
        );
        assert_eq!(quic_counters(&h3).unwrap()["lost_packets"], 3);
    }

    #[test]
    fn nghttp_page() {
        let out = "[  0.101] Connected
[  0.101] send HEADERS frame <length=45, flags=0x25, stream_id=13>
          :method: GET
          :path: /a
[  0.101] send HEADERS frame <length=18, flags=0x25, stream_id=15>
          :path: /b
[  0.205] recv (stream_id=13) :status: 200
[  0.205] recv (stream_id=15) :status: 200
[  0.206] recv DATA frame <length=20, flags=0x01, stream_id=15>
          ; END_STREAM
[  0.207] recv DATA frame <length=6, flags=0x00, stream_id=13>
[  0.310] recv DATA frame <length=4, flags=0x01, stream_id=13>
";
        let r = page_from_nghttp(out, &page()).unwrap();
        assert_eq!(r.objects_ms, vec![310.0, 206.0]);
        assert_eq!(r.page_ms, 310.0);
        let bad = out.replace(":status: 200", ":status: 404");
        assert!(page_from_nghttp(&bad, &page()).is_err());
        let cut = out.replace("flags=0x01, stream_id=13", "flags=0x00, stream_id=13");
        assert!(page_from_nghttp(&cut, &page()).is_err(), "no END_STREAM");
    }

    #[test]
    fn hol_splits() {
        let run = || PageRun {
            objects_ms: vec![2100.0, 150.0, 160.0],
            page_ms: 2100.0,
        };
        let r = hol_split(run(), true).unwrap();
        assert_eq!(r.slow_ms, Some(2100.0));
        assert_eq!(r.small_ms, vec![150.0, 160.0]);
        let r = hol_split(run(), false).unwrap();
        assert_eq!((r.slow_ms, r.small_ms.len()), (None, 3));
        let one = PageRun {
            objects_ms: vec![5.0],
            page_ms: 5.0,
        };
        assert!(hol_split(one.clone(), true)
            .unwrap_err()
            .contains("no small"));
        assert!(hol_split(one, false).is_ok());
        let none = PageRun {
            objects_ms: vec![],
            page_ms: 0.0,
        };
        assert!(hol_split(none, true).unwrap_err().contains("no slow"));
        // A list with the slow response first, checked as the page is: the
        // CGI's short body is an error, not a sample.
        let list = parse_page_list("/cgi/slow.cgi 1024\n/hol/s00.bin 8192\n").unwrap();
        let out = r#"{"url":"http://h:1/cgi/slow.cgi","status":200,"bytes":1024,"done_ms":2105.0,"error":null}
{"url":"http://h:1/hol/s00.bin","status":200,"bytes":8192,"done_ms":180.5,"error":null}"#;
        let r = hol_split(page_from_sctp_http(out, &list).unwrap(), true).unwrap();
        assert_eq!((r.slow_ms, r.small_ms), (Some(2105.0), vec![180.5]));
        let short = out.replace("\"bytes\":1024", "\"bytes\":1000");
        assert!(page_from_sctp_http(&short, &list)
            .unwrap_err()
            .contains("/cgi/slow.cgi: 1000 bytes"));
    }

    #[test]
    fn bulks() {
        let sh = r#"{"url":"http://h/x","error":null}
{"summary":true,"objects":1,"ok":1,"bytes":100,"ms":2000.0}"#;
        assert_eq!(bulk(sh, "sctp-http", 100), Ok((100, 2.0)));
        assert!(bulk(sh, "sctp-http", 101).is_err());
        assert!(bulk(&sh.replace("\"ok\":1", "\"ok\":0"), "sctp-http", 100).is_err());
        assert_eq!(bulk(r#"{"bytes":7,"secs":0.5}"#, "pump", 7), Ok((7, 0.5)));
    }

    #[test]
    fn rates() {
        let wrk = "Running 10s test @ http://x/
  Latency Distribution
     50%  520.00us
     75%    1.10ms
     99%    2.50ms
  40000 requests in 10.00s, 50.00MB read
Requests/sec:   3999.50
Transfer/sec:      5.00MB
";
        let r = rate_from_wrk(wrk).unwrap();
        assert_eq!(r.rps, 3999.5);
        assert!((r.p50_ms.unwrap() - 0.52).abs() < 1e-9);
        assert_eq!(r.p99_ms, Some(2.5));
        assert!(rate_from_wrk(&format!("{wrk}  Non-2xx or 3xx responses: 5\n")).is_err());
        let h2 = "finished in 10.00s, 1234.50 req/s, 1.20MB/s
requests: 12345 total, 12345 started, 12345 done, 12345 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 12345 2xx, 0 3xx, 0 4xx, 0 5xx
";
        assert_eq!(rate_from_h2load(h2).unwrap().rps, 1234.5);
        assert!(rate_from_h2load(&h2.replace(" 0 failed", " 3 failed")).is_err());
        let sh =
            r#"{"transport":"sctp","ok":10,"failed":0,"rps":99.5,"lat_ms":{"p50":1.5,"p99":3.0}}"#;
        assert_eq!(rate_from_sctp_http(sh).unwrap().p99_ms, Some(3.0));
        assert!(rate_from_sctp_http(&sh.replace("\"failed\":0", "\"failed\":2")).is_err());
    }

    #[test]
    fn fastcgi_mixes() {
        let line = |id: u32, kind: &str, start: f64, ms: f64, body: u64| {
            format!(
                "{{\"id\":{id},\"kind\":\"{kind}\",\"start_ms\":{start},\"first_ms\":2.0,\"ms\":{ms},\"bytes\":{},\"body\":{body},\"status\":200,\"app_status\":0,\"protocol_status\":0}}\n",
                body + 50
            )
        };
        let mut out = line(2, "large", 0.0, 1000.0, 2000);
        out += &line(3, "small", 2.0, 100.0, 10);
        out += &line(4, "small", 2.5, 1200.0, 10);
        let summary = "{\"summary\":true,\"transport\":\"sctp\",\"requests\":3,\"ok\":3,\"failed\":0,\"ms\":1300.0}\n";
        let ok = format!("{out}{summary}");
        let r = fastcgi_mix(&ok, 10, 2000, 2).unwrap();
        assert_eq!(r.small_ms, vec![100.0, 1200.0]);
        assert_eq!(
            (r.large_ms, r.large_first_ms, r.small_during_large),
            (1000.0, 2.0, 1)
        );
        // Wrong sizes, statuses, counts and summaries are errors.
        assert!(fastcgi_mix(&ok, 11, 2000, 2)
            .unwrap_err()
            .contains("body 10 bytes"));
        assert!(fastcgi_mix(&ok, 10, 2001, 2).is_err());
        assert!(fastcgi_mix(&ok, 10, 2000, 3)
            .unwrap_err()
            .contains("2 small"));
        let s404 = ok.replacen("\"status\":200", "\"status\":404", 2);
        assert!(fastcgi_mix(&s404, 10, 2000, 2)
            .unwrap_err()
            .contains("status 404"));
        let app = ok.replacen("\"app_status\":0", "\"app_status\":1", 1);
        assert!(fastcgi_mix(&app, 10, 2000, 2).is_err());
        assert!(fastcgi_mix(&out, 10, 2000, 2)
            .unwrap_err()
            .contains("summary"));
        let failed = ok.replace("\"ok\":3,\"failed\":0", "\"ok\":2,\"failed\":1");
        assert!(fastcgi_mix(&failed, 10, 2000, 2).is_err());
        let two = format!("{}{ok}", line(5, "large", 0.0, 1.0, 2000));
        assert!(fastcgi_mix(&two, 10, 2000, 2)
            .unwrap_err()
            .contains("two large"));
        let nolarge: String = ok.lines().skip(1).map(|l| format!("{l}\n")).collect();
        assert!(fastcgi_mix(&nolarge, 10, 2000, 2)
            .unwrap_err()
            .contains("no large"));
    }
}
