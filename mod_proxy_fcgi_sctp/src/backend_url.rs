//! `fcgi+sctp://HOST:PORT/PATH` URLs, sans-I/O.
//!
//! mod_proxy hands the scheme handler the worker's URL with the request's
//! path appended (`ProxyPass /app/ fcgi+sctp://127.0.0.1:9000/srv/app/`
//! gives `fcgi+sctp://127.0.0.1:9000/srv/app/index.php`), or, for
//! `SetHandler "proxy:fcgi+sctp://127.0.0.1:9000"`, the handler's URL with
//! the file's path appended. The path, percent-decoded, becomes the
//! request's SCRIPT_FILENAME, as php-fpm and fcgiwrap expect.

use std::fmt;

pub const SCHEME: &str = "fcgi+sctp";

/// A parsed backend URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendUrl {
    /// Host name or address as written (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// The path, percent-decoded, starting with '/' (empty when none).
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// Not this module's scheme: decline, another handler may want it.
    OtherScheme,
    NoHost,
    /// FastCGI has no well-known port: it must be written.
    NoPort,
    BadPort(String),
    BadEscape,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::OtherScheme => write!(f, "not an {SCHEME}:// URL"),
            UrlError::NoHost => write!(f, "no host in the {SCHEME}:// URL"),
            UrlError::NoPort => write!(
                f,
                "no port in the {SCHEME}:// URL (FastCGI has no default port: write host:port)"
            ),
            UrlError::BadPort(p) => write!(f, "bad port {p:?} in the {SCHEME}:// URL"),
            UrlError::BadEscape => write!(f, "bad %-escape in the path of the {SCHEME}:// URL"),
        }
    }
}

/// True when `url` starts with `fcgi+sctp://` (any case).
pub fn is_ours(url: &str) -> bool {
    let prefix = "fcgi+sctp://";
    url.len() >= prefix.len() && url[..prefix.len()].eq_ignore_ascii_case(prefix)
}

impl BackendUrl {
    pub fn parse(url: &str) -> Result<BackendUrl, UrlError> {
        if !is_ours(url) {
            return Err(UrlError::OtherScheme);
        }
        let rest = &url[SCHEME.len() + 3..];
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        // A query string is the request's, passed as QUERY_STRING; it is no
        // part of the script's path.
        let path = path.split('?').next().unwrap_or("");
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or(UrlError::NoHost)?;
            let port = v6[end + 1..].strip_prefix(':').ok_or(UrlError::NoPort)?;
            (&v6[..end], port)
        } else {
            authority.rsplit_once(':').ok_or(UrlError::NoPort)?
        };
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        if port.is_empty() {
            return Err(UrlError::NoPort);
        }
        let port = match port.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return Err(UrlError::BadPort(port.to_string())),
        };
        let mut path = percent_decode(path)?;
        // "proxy:fcgi+sctp://h:p/" + "/var/www/x.php" (SetHandler with a
        // trailing slash) names the same file as one slash.
        while path.starts_with("//") {
            path.remove(0);
        }
        Ok(BackendUrl {
            host: host.to_string(),
            port,
            path,
        })
    }

    /// `host:port` (IPv6 in brackets): the key of the backend's associations
    /// and its name in log lines.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn percent_decode(s: &str) -> Result<String, UrlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or(UrlError::BadEscape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| UrlError::BadEscape)?;
            let v = u8::from_str_radix(hex, 16).map_err(|_| UrlError::BadEscape)?;
            // A NUL would cut the C string the backend sees: refuse it.
            if v == 0 {
                return Err(UrlError::BadEscape);
            }
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::BadEscape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_and_decoded_path() {
        let u = BackendUrl::parse("fcgi+sctp://127.0.0.1:9000/srv/www/a%20b.php").unwrap();
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, 9000);
        assert_eq!(u.path, "/srv/www/a b.php");
        assert_eq!(u.authority(), "127.0.0.1:9000");
        let u = BackendUrl::parse("FCGI+SCTP://[::1]:9001//var/www/x.php?a=1").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.path, "/var/www/x.php");
        assert_eq!(u.authority(), "[::1]:9001");
        let u = BackendUrl::parse("fcgi+sctp://backend:9000").unwrap();
        assert_eq!((u.host.as_str(), u.path.as_str()), ("backend", ""));
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        assert_eq!(BackendUrl::parse("fcgi://h:1/"), Err(UrlError::OtherScheme));
        assert_eq!(BackendUrl::parse("fcgi+sctp://h/x"), Err(UrlError::NoPort));
        assert_eq!(BackendUrl::parse("fcgi+sctp://h:/x"), Err(UrlError::NoPort));
        assert_eq!(
            BackendUrl::parse("fcgi+sctp://:80/x"),
            Err(UrlError::NoHost)
        );
        assert_eq!(
            BackendUrl::parse("fcgi+sctp://[::1]/x"),
            Err(UrlError::NoPort)
        );
        assert!(matches!(
            BackendUrl::parse("fcgi+sctp://h:0/"),
            Err(UrlError::BadPort(_))
        ));
        assert!(matches!(
            BackendUrl::parse("fcgi+sctp://h:99999/"),
            Err(UrlError::BadPort(_))
        ));
        assert_eq!(
            BackendUrl::parse("fcgi+sctp://h:1/%4"),
            Err(UrlError::BadEscape)
        );
        assert_eq!(
            BackendUrl::parse("fcgi+sctp://h:1/%00"),
            Err(UrlError::BadEscape)
        );
        assert_eq!(
            BackendUrl::parse("fcgi+sctp://h:1/%zz"),
            Err(UrlError::BadEscape)
        );
        assert!(!is_ours("fcgi+sct"));
    }
}
