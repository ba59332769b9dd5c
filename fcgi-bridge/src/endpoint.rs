//! Endpoints named on the command line: `sctp:ADDR:PORT`, `tcp:HOST:PORT`,
//! `unix:/PATH`.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `sctp:HOST:PORT` (host and port kept as written, resolved on use).
    Sctp(String),
    /// `tcp:HOST:PORT`.
    Tcp(String),
    /// `unix:/PATH`.
    Unix(PathBuf),
}

impl Endpoint {
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let (scheme, rest) = s.split_once(':').ok_or_else(|| {
            format!("{s:?}: expected sctp:HOST:PORT, tcp:HOST:PORT or unix:/PATH")
        })?;
        let host_port = |rest: &str| -> Result<String, String> {
            let (host, port) = rest
                .rsplit_once(':')
                .ok_or_else(|| format!("{s:?}: missing :PORT"))?;
            if host.is_empty() {
                return Err(format!("{s:?}: missing host"));
            }
            port.parse::<u16>()
                .map_err(|_| format!("{s:?}: bad port {port:?}"))?;
            Ok(rest.to_string())
        };
        match scheme {
            "sctp" => Ok(Endpoint::Sctp(host_port(rest)?)),
            "tcp" => Ok(Endpoint::Tcp(host_port(rest)?)),
            "unix" if !rest.is_empty() => Ok(Endpoint::Unix(PathBuf::from(rest))),
            "unix" => Err(format!("{s:?}: missing path")),
            _ => Err(format!(
                "{s:?}: unknown scheme {scheme:?} (sctp, tcp or unix)"
            )),
        }
    }

    /// The first address of an `sctp:` or `tcp:` endpoint.
    pub fn resolve(&self) -> std::io::Result<SocketAddr> {
        let hp = match self {
            Endpoint::Sctp(hp) | Endpoint::Tcp(hp) => hp,
            Endpoint::Unix(p) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{} is not an IP endpoint", p.display()),
                ))
            }
        };
        hp.to_socket_addrs()?.next().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("{hp}: no address"))
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Sctp(hp) => write!(f, "sctp:{hp}"),
            Endpoint::Tcp(hp) => write!(f, "tcp:{hp}"),
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_schemes() {
        assert_eq!(
            Endpoint::parse("sctp:127.0.0.1:9000"),
            Ok(Endpoint::Sctp("127.0.0.1:9000".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp:[::1]:80"),
            Ok(Endpoint::Tcp("[::1]:80".into()))
        );
        assert_eq!(
            Endpoint::parse("unix:/run/php.sock"),
            Ok(Endpoint::Unix("/run/php.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp:[::1]:80").unwrap().to_string(),
            "tcp:[::1]:80"
        );
        for bad in [
            "",
            "sctp",
            "tcp:host",
            "tcp::80",
            "tcp:h:99999",
            "unix:",
            "udp:h:1",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resolves_ip_literals() {
        let e = Endpoint::parse("sctp:127.0.0.1:9000").unwrap();
        assert_eq!(e.resolve().unwrap(), "127.0.0.1:9000".parse().unwrap());
        assert!(Endpoint::Unix("/x".into()).resolve().is_err());
    }
}
