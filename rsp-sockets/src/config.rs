//! Where the registrars are and how long to wait for them, from the
//! environment (the seed's API has no initialisation call) or from
//! [`set_registrars`] (`rsp_set_registrars()` in C).
//!
//! `RSP_REGISTRAR`: registrars to try in order, comma-separated, each
//! `ADDRESS[:PORT]` (`[ADDRESS]:PORT` for IPv6; port 3863 when left out).
//! Default `127.0.0.1:3863`. rsplib's announce multicast (registrars
//! found by listening on 239.0.0.50:3863) is not implemented: name them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use rserpool::PORT_ASAP;

/// Settings every socket of the process uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub registrars: Vec<SocketAddr>,
    /// How long the INIT of an association (to a registrar, to a pool
    /// element) may take before the next address is tried.
    pub init_timeout: Duration,
    /// How long a registrar has to answer a request.
    pub answer_timeout: Duration,
    /// A pool element re-registers this often (registration life: three
    /// times as long).
    pub reregister_every: Duration,
    /// A pool user trusts a handle resolution this long.
    pub stale_cache: Duration,
    /// A pool element reported unreachable is left out of picks this long.
    pub suspect_for: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            registrars: vec![SocketAddr::new([127, 0, 0, 1].into(), PORT_ASAP)],
            init_timeout: Duration::from_millis(1000),
            answer_timeout: Duration::from_secs(3),
            reregister_every: Duration::from_secs(30),
            stale_cache: Duration::from_secs(1),
            suspect_for: Duration::from_secs(30),
        }
    }
}

static OVERRIDE: Mutex<Option<Vec<SocketAddr>>> = Mutex::new(None);

/// The configuration in force: registrars from [`set_registrars`], else
/// `RSP_REGISTRAR`, else the default.
pub fn current() -> Result<Config, String> {
    let mut c = Config::default();
    let set = OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if let Some(list) = set {
        c.registrars = list;
    } else if let Ok(v) = std::env::var("RSP_REGISTRAR") {
        c.registrars = parse_registrars(&v).map_err(|e| format!("RSP_REGISTRAR: {e}"))?;
    }
    Ok(c)
}

/// Sets the registrars for the sockets set up from now on.
pub fn set_registrars(list: &str) -> Result<(), String> {
    let v = parse_registrars(list)?;
    *OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
    Ok(())
}

/// Parses `ADDRESS[:PORT],...`.
pub fn parse_registrars(list: &str) -> Result<Vec<SocketAddr>, String> {
    let mut out = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let a = if let Ok(a) = word.parse::<SocketAddr>() {
            a
        } else if let Ok(ip) = word.parse::<IpAddr>() {
            SocketAddr::new(ip, PORT_ASAP)
        } else {
            return Err(format!(
                "'{word}' is not ADDRESS[:PORT] ([ADDRESS]:PORT for IPv6)"
            ));
        };
        if a.port() == 0 {
            return Err(format!("'{word}': port 0"));
        }
        out.push(a);
    }
    if out.is_empty() {
        return Err("no registrar address given".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrar_lists() {
        let v = parse_registrars("10.0.0.1, 10.0.0.2:4000,[fd00::1]:3863,fd00::2").unwrap();
        let s: Vec<String> = v.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            s,
            [
                "10.0.0.1:3863",
                "10.0.0.2:4000",
                "[fd00::1]:3863",
                "[fd00::2]:3863"
            ]
        );
        assert!(parse_registrars("").is_err());
        assert!(parse_registrars("registrar.example")
            .unwrap_err()
            .contains("ADDRESS"));
        assert!(parse_registrars("10.0.0.1:0").is_err());
    }
}
