//! `fcgi+sctp://HOST:PORT/PATH` and `fcgi+sctp+pool://HANDLE/PATH` URLs,
//! sans-I/O. The second names an RSerPool pool (docs/rserpool.md) instead
//! of a host: its elements are found through a registrar. It is a scheme
//! of its own because mod_proxy parses every worker's URL with
//! apr_uri_parse, which refuses `fcgi+sctp://pool:HANDLE/` (a port that is
//! not a number).
//!
//! mod_proxy hands the scheme handler the worker's URL with the request's
//! path appended (`ProxyPass /app/ fcgi+sctp://127.0.0.1:9000/srv/app/`
//! gives `fcgi+sctp://127.0.0.1:9000/srv/app/index.php`), or, for
//! `SetHandler "proxy:fcgi+sctp://127.0.0.1:9000"`, the handler's URL with
//! the file's path appended. The path, percent-decoded, becomes the
//! request's SCRIPT_FILENAME, as php-fpm and fcgiwrap expect.

use std::fmt;

pub const SCHEME: &str = "fcgi+sctp";
pub const POOL_SCHEME: &str = "fcgi+sctp+pool";

/// Where the requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Host name or address as written (IPv6 without brackets), and port.
    Host { host: String, port: u16 },
    /// An RSerPool pool handle, percent-decoded.
    Pool { handle: String },
}

impl Target {
    /// `host:port` (IPv6 in brackets), or `pool HANDLE`: the name in log
    /// lines; for a host, the key of its associations too.
    pub fn label(&self) -> String {
        match self {
            Target::Host { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Target::Host { host, port } => format!("{host}:{port}"),
            Target::Pool { handle } => format!("pool {handle}"),
        }
    }
}

/// A parsed backend URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendUrl {
    pub target: Target,
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
    /// `fcgi+sctp+pool://` names a pool handle, not a host and port.
    PoolWithPort,
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
            UrlError::BadEscape => write!(f, "bad %-escape in the {SCHEME}:// URL"),
            UrlError::PoolWithPort => write!(
                f,
                "a {POOL_SCHEME}:// URL names a pool handle, without a port"
            ),
        }
    }
}

/// The rest of `url` after `scheme://` (scheme in any case).
fn after_scheme<'a>(url: &'a str, scheme: &str) -> Option<&'a str> {
    let n = scheme.len() + 3;
    let head = url.get(..n)?;
    (head[..scheme.len()].eq_ignore_ascii_case(scheme) && &head[scheme.len()..] == "://")
        .then(|| &url[n..])
}

/// True when `url` is `fcgi+sctp://...` or `fcgi+sctp+pool://...` (any
/// case).
pub fn is_ours(url: &str) -> bool {
    after_scheme(url, SCHEME).is_some() || after_scheme(url, POOL_SCHEME).is_some()
}

impl BackendUrl {
    pub fn parse(url: &str) -> Result<BackendUrl, UrlError> {
        let (rest, pool) = match (after_scheme(url, SCHEME), after_scheme(url, POOL_SCHEME)) {
            (Some(r), _) => (r, false),
            (None, Some(r)) => (r, true),
            (None, None) => return Err(UrlError::OtherScheme),
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        // A query string is the request's, passed as QUERY_STRING; it is no
        // part of the script's path.
        let path = path.split('?').next().unwrap_or("");
        let path = script_path(path)?;
        if pool {
            if authority.contains(':') {
                return Err(UrlError::PoolWithPort);
            }
            let handle = percent_decode(authority)?;
            if handle.is_empty() {
                return Err(UrlError::NoHost);
            }
            return Ok(BackendUrl {
                target: Target::Pool { handle },
                path,
            });
        }
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
        Ok(BackendUrl {
            target: Target::Host {
                host: host.to_string(),
                port,
            },
            path,
        })
    }
}

/// The script's path: percent-decoded, one leading slash ("proxy:
/// fcgi+sctp://h:p/" + "/var/www/x.php", SetHandler with a trailing
/// slash, names the same file as one slash).
fn script_path(path: &str) -> Result<String, UrlError> {
    let mut path = percent_decode(path)?;
    while path.starts_with("//") {
        path.remove(0);
    }
    Ok(path)
}

fn percent_decode(s: &str) -> Result<String, UrlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
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
            out.push(c);
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
        let host = |h: &str, port| Target::Host {
            host: h.into(),
            port,
        };
        let u = BackendUrl::parse("fcgi+sctp://127.0.0.1:9000/srv/www/a%20b.php").unwrap();
        assert_eq!(u.target, host("127.0.0.1", 9000));
        assert_eq!(u.path, "/srv/www/a b.php");
        assert_eq!(u.target.label(), "127.0.0.1:9000");
        let u = BackendUrl::parse("FCGI+SCTP://[::1]:9001//var/www/x.php?a=1").unwrap();
        assert_eq!(u.target, host("::1", 9001));
        assert_eq!(u.path, "/var/www/x.php");
        assert_eq!(u.target.label(), "[::1]:9001");
        let u = BackendUrl::parse("fcgi+sctp://backend:9000").unwrap();
        assert_eq!((u.target, u.path.as_str()), (host("backend", 9000), ""));
    }

    #[test]
    fn parses_pool_urls() {
        let u = BackendUrl::parse("fcgi+sctp+pool://app/srv/www/x.php?q=1").unwrap();
        assert_eq!(
            u.target,
            Target::Pool {
                handle: "app".into()
            }
        );
        assert_eq!(u.path, "/srv/www/x.php");
        assert_eq!(u.target.label(), "pool app");
        let u = BackendUrl::parse("FCGI+SCTP+POOL://My%20Pool").unwrap();
        assert_eq!(
            (u.target, u.path.as_str()),
            (
                Target::Pool {
                    handle: "My Pool".into()
                },
                ""
            )
        );
        assert!(is_ours("fcgi+sctp+pool://app/"));
        assert_eq!(
            BackendUrl::parse("fcgi+sctp+pool://app:9000/"),
            Err(UrlError::PoolWithPort)
        );
        assert_eq!(
            BackendUrl::parse("fcgi+sctp+pool:///x"),
            Err(UrlError::NoHost)
        );
        assert_eq!(
            BackendUrl::parse("fcgi+sctp+pool://a%zz/"),
            Err(UrlError::BadEscape)
        );
        assert_eq!(
            BackendUrl::parse("fcgi+sctp+poolx://a/"),
            Err(UrlError::OtherScheme)
        );
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
