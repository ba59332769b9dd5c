//! The sans-I/O parts of the HTTP/3 variant (`sctp-bench h3-serve`,
//! `sctp-bench h3-get`): the congestion controller's name, the URLs of one
//! fetch, a request path mapped to a file under the server's root, and the
//! client's output, one JSON line per object in `sctp-http get --json`'s
//! shape so that `records::page_from_sctp_http` reads it.

use std::path::{Path, PathBuf};

/// The congestion controllers the variants compare (quinn's two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cc {
    /// quinn's default (RFC 9438).
    Cubic,
    /// RFC 9002's NewReno.
    NewReno,
}

impl Cc {
    pub fn parse(s: &str) -> Result<Cc, String> {
        match s {
            "cubic" => Ok(Cc::Cubic),
            "newreno" => Ok(Cc::NewReno),
            _ => Err(format!("--cc {s}? (cubic or newreno)")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Cc::Cubic => "cubic",
            Cc::NewReno => "newreno",
        }
    }
}

/// The server and the request paths of one fetch: every URL must name the
/// same server (one connection carries them all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// Host as written in the URLs (an address, or a name to resolve).
    pub host: String,
    pub port: u16,
    /// Request targets (path and query), in the order given.
    pub paths: Vec<String>,
}

/// `https://HOST[:PORT]/PATH` (port 443 when absent; `[v6]` hosts allowed),
/// parsed by sctp-http's URL parser.
fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let u = sctp_http::url::Url::parse_scheme(url, "https", 443)?;
    Ok((u.host, u.port, u.target))
}

impl Fetch {
    pub fn from_urls(urls: &[String]) -> Result<Fetch, String> {
        let mut f: Option<Fetch> = None;
        for u in urls {
            let (host, port, path) = split_url(u)?;
            match &mut f {
                None => {
                    f = Some(Fetch {
                        host,
                        port,
                        paths: vec![path],
                    })
                }
                Some(f) if f.host == host && f.port == port => f.paths.push(path),
                Some(f) => {
                    return Err(format!(
                        "{u}: another server than {}:{} (one connection per fetch)",
                        f.host, f.port
                    ))
                }
            }
        }
        f.ok_or_else(|| "no URL".into())
    }

    /// The URL of request `i` as printed (`https://HOST:PORT/PATH`).
    pub fn url(&self, i: usize) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("https://{host}:{}{}", self.port, self.paths[i])
    }
}

/// The file under `root` that a request target names, or None when the
/// target is not a plain absolute path inside it (no `..`, `.`, empty or
/// backslash segments, no NUL). The query, if any, is ignored; `/` and
/// paths ending in `/` name no file (this server has no index).
pub fn file_for(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let rel = path.strip_prefix('/')?;
    let mut out = root.to_path_buf();
    for seg in rel.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." || seg.contains(['\\', '\0']) {
            return None;
        }
        out.push(seg);
    }
    Some(out)
}

/// What happened to one request of a fetch. Times are milliseconds from the
/// start of the fetch (before the connection's handshake).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub url: String,
    /// The QUIC stream the request went on.
    pub stream: Option<u64>,
    pub status: Option<u16>,
    /// Content-Length, when the response had one.
    pub length: Option<u64>,
    /// Body bytes received.
    pub bytes: u64,
    /// The request's send, its response's headers, and the body's end.
    pub sent_ms: Option<f64>,
    pub first_ms: Option<f64>,
    pub done_ms: Option<f64>,
    pub error: Option<String>,
}

impl Outcome {
    /// Sets `error` when a complete response disagrees with its
    /// Content-Length (a body that ended early or ran long).
    pub fn check(&mut self) {
        if self.error.is_some() {
            return;
        }
        match (self.status, self.length, self.done_ms) {
            (None, _, _) => self.error = Some("no response".into()),
            (Some(_), _, None) => self.error = Some("the body did not end".into()),
            (Some(_), Some(n), Some(_)) if n != self.bytes => {
                self.error = Some(format!("{} body bytes, Content-Length {n}", self.bytes))
            }
            _ => {}
        }
    }

    /// True when the object arrived whole with status 200.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.status == Some(200)
    }

    /// One line in `sctp-http get --json`'s shape (`ttfb_ms` and `ttlb_ms`
    /// from the request's send, `done_ms` from the start of the fetch).
    pub fn json_line(&self) -> String {
        let since = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => serde_json::json!(((b - a) * 1000.0).round() / 1000.0),
            _ => serde_json::Value::Null,
        };
        serde_json::json!({
            "url": self.url,
            "status": self.status,
            "stream": self.stream,
            "bytes": self.bytes,
            "ttfb_ms": since(self.sent_ms, self.first_ms),
            "ttlb_ms": since(self.sent_ms, self.done_ms),
            "done_ms": since(Some(0.0), self.done_ms),
            "file": null,
            "error": self.error,
        })
        .to_string()
    }
}

/// The closing line, as `sctp-http get --json` prints it, with the QUIC
/// connection's counters (`quic`, when the connection was made).
pub fn summary_line(
    outcomes: &[Outcome],
    cc: Cc,
    ms: f64,
    quic: Option<serde_json::Value>,
) -> String {
    serde_json::json!({
        "summary": true,
        "objects": outcomes.len(),
        "ok": outcomes.iter().filter(|o| o.ok()).count(),
        "transport": "quic",
        "cc": cc.name(),
        "connections": 1,
        "bytes": outcomes.iter().map(|o| o.bytes).sum::<u64>(),
        "ms": (ms * 10.0).round() / 10.0,
        "quic": quic,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{page_from_sctp_http, parse_page_list};

    #[test]
    fn congestion_controllers() {
        assert_eq!(Cc::parse("cubic"), Ok(Cc::Cubic));
        assert_eq!(Cc::parse("newreno").map(Cc::name), Ok("newreno"));
        assert!(Cc::parse("bbr").is_err());
    }

    #[test]
    fn urls_of_one_fetch() {
        let u = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let f = Fetch::from_urls(&u(&[
            "https://10.90.0.1:8443/page/o00.bin",
            "https://10.90.0.1:8443/page/o01.bin?x=1",
        ]))
        .unwrap();
        assert_eq!((f.host.as_str(), f.port), ("10.90.0.1", 8443));
        assert_eq!(f.paths, ["/page/o00.bin", "/page/o01.bin?x=1"]);
        assert_eq!(f.url(1), "https://10.90.0.1:8443/page/o01.bin?x=1");
        let f = Fetch::from_urls(&u(&["https://[::1]:9/a", "https://[::1]:9"])).unwrap();
        assert_eq!((f.host.as_str(), f.port), ("::1", 9));
        assert_eq!(f.paths, ["/a", "/"]);
        assert_eq!(f.url(0), "https://[::1]:9/a");
        assert_eq!(Fetch::from_urls(&u(&["https://h/x"])).unwrap().port, 443);
        assert!(Fetch::from_urls(&u(&["http://h:1/a"])).is_err());
        assert!(Fetch::from_urls(&u(&["https://h:x/a"])).is_err());
        assert!(Fetch::from_urls(&u(&["https://:1/a"])).is_err());
        assert!(Fetch::from_urls(&u(&["https://h:1/a", "https://h:2/b"]))
            .unwrap_err()
            .contains("another server"));
        assert!(Fetch::from_urls(&[]).is_err());
    }

    #[test]
    fn files_under_the_root() {
        let root = Path::new("/srv/htdocs");
        assert_eq!(
            file_for(root, "/page/o00.bin?v=2"),
            Some(PathBuf::from("/srv/htdocs/page/o00.bin"))
        );
        for bad in [
            "/",
            "/page/",
            "page/a",
            "/../etc/passwd",
            "/page/../x",
            "/./a",
            "//a",
            "/a\\b",
            "",
        ] {
            assert_eq!(file_for(root, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn outcomes_are_checked() {
        let mut o = Outcome {
            url: "https://h:1/a".into(),
            stream: Some(0),
            status: Some(200),
            length: Some(10),
            bytes: 10,
            sent_ms: Some(1.0),
            first_ms: Some(101.0),
            done_ms: Some(151.5),
            error: None,
        };
        o.check();
        assert!(o.ok());
        let mut short = Outcome {
            bytes: 9,
            ..o.clone()
        };
        short.check();
        assert!(!short.ok());
        assert!(short
            .error
            .as_deref()
            .unwrap()
            .contains("Content-Length 10"));
        let mut unended = Outcome {
            done_ms: None,
            ..o.clone()
        };
        unended.check();
        assert!(unended.error.is_some());
        let mut none = Outcome {
            url: "https://h:1/b".into(),
            ..Outcome::default()
        };
        none.check();
        assert_eq!(none.error.as_deref(), Some("no response"));
        let mut missing = Outcome {
            status: Some(404),
            length: Some(3),
            bytes: 3,
            ..o.clone()
        };
        missing.check();
        assert!(missing.error.is_none() && !missing.ok());
    }

    #[test]
    fn lines_parse_as_sctp_http_output() {
        let page = parse_page_list("/a 10\n/b 20\n").unwrap();
        let a = Outcome {
            url: "https://h:1/a".into(),
            stream: Some(0),
            status: Some(200),
            length: Some(10),
            bytes: 10,
            sent_ms: Some(2.0),
            first_ms: Some(150.0),
            done_ms: Some(200.25),
            error: None,
        };
        let b = Outcome {
            url: "https://h:1/b".into(),
            stream: Some(4),
            bytes: 20,
            done_ms: Some(300.0),
            ..a.clone()
        };
        let out = format!(
            "{}\n{}\n{}\n",
            b.json_line(),
            a.json_line(),
            summary_line(
                &[a.clone(), b.clone()],
                Cc::Cubic,
                300.04,
                Some(serde_json::json!({"lost_packets": 0}))
            )
        );
        assert!(out.contains("\"ttfb_ms\":148.0"), "{out}");
        assert!(
            out.contains("\"ok\":2") && out.contains("\"ms\":300.0"),
            "{out}"
        );
        assert!(out.contains("\"quic\":{\"lost_packets\":0}"), "{out}");
        let r = page_from_sctp_http(&out, &page).unwrap();
        assert_eq!(r.objects_ms, vec![200.25, 300.0]);
        assert_eq!(r.page_ms, 300.0);
        // A wrong size or an error on a line fails the page, as for sctp-http.
        let bad = Outcome {
            bytes: 19,
            ..b.clone()
        };
        let out = format!("{}\n{}\n", a.json_line(), bad.json_line());
        assert!(page_from_sctp_http(&out, &page)
            .unwrap_err()
            .contains("19 bytes"));
        let mut cut = b.clone();
        cut.done_ms = None;
        cut.check();
        let out = format!("{}\n{}\n", a.json_line(), cut.json_line());
        assert!(page_from_sctp_http(&out, &page).is_err());
    }
}
