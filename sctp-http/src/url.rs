//! `http://host[:port]/path` URLs (sans-I/O); also `https://` ones for the
//! bench's HTTP/3 client ([`Url::parse_scheme`]).

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    pub port: u16,
    /// Path and query, starting with '/'.
    pub target: String,
}

impl Url {
    pub fn parse(s: &str) -> Result<Url, String> {
        Url::parse_scheme(s, "http", 80)
    }

    /// `SCHEME://host[:port]/path`, `default_port` when none is given.
    pub fn parse_scheme(s: &str, scheme: &str, default_port: u16) -> Result<Url, String> {
        let rest = s
            .strip_prefix(scheme)
            .and_then(|r| r.strip_prefix("://"))
            .ok_or_else(|| format!("{s}: only {scheme}:// URLs are supported"))?;
        let (authority, target) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(|| format!("{s}: missing ']'"))?;
            let port = &v6[end + 1..];
            (&v6[..end], port.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("{s}: no host"));
        }
        let port = match port {
            None | Some("") => default_port,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| format!("{s}: bad port {p:?}"))?,
        };
        if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(format!("{s}: spaces or control characters in the path"));
        }
        Ok(Url {
            host: host.to_string(),
            port,
            target: target.to_string(),
        })
    }

    /// The name wget would save the body under: the last path segment,
    /// or index.html.
    pub fn file_name(&self) -> String {
        let path = self.target.split(['?', '#']).next().unwrap_or("");
        let last = path.rsplit('/').next().unwrap_or("");
        if last.is_empty() || last == "." || last == ".." {
            "index.html".to_string()
        } else {
            last.to_string()
        }
    }

    /// `Host:` header value.
    pub fn host_header(&self) -> String {
        let h = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            h
        } else {
            format!("{h}:{}", self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_schemes_with_their_default_port() {
        let u = Url::parse_scheme("https://[::1]/a?b", "https", 443).unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("::1", 443, "/a?b")
        );
        assert!(Url::parse_scheme("http://h/", "https", 443).is_err());
        assert!(Url::parse("https://h/").is_err());
        assert_eq!(Url::parse("http://h/").unwrap().port, 80);
    }

    #[test]
    fn parses_hosts_ports_paths() {
        let u = Url::parse("http://127.0.0.1:8080/a/b.bin?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("127.0.0.1", 8080, "/a/b.bin?x=1")
        );
        assert_eq!(u.file_name(), "b.bin");
        assert_eq!(u.host_header(), "127.0.0.1:8080");
        let u = Url::parse("http://[::1]/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 80));
        assert_eq!(u.file_name(), "index.html");
        assert_eq!(u.host_header(), "[::1]");
        assert_eq!(Url::parse("http://h").unwrap().target, "/");
        assert_eq!(
            Url::parse("http://h/dir/").unwrap().file_name(),
            "index.html"
        );
        for bad in [
            "ftp://h/",
            "http:///x",
            "http://h:0/",
            "http://h:99999/",
            "http://h/a b",
            "http://[::1/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }
}
