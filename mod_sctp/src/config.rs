//! mod_sctp's configuration: what the directives say, parsed and checked
//! without touching httpd, so every rule is unit-tested on the host.
//!
//! All SCTP directives are global (server config, outside `<VirtualHost>`):
//! listeners and association parameters belong to the listening sockets,
//! which every virtual host shares.

use std::fmt;

/// Streams offered in INIT when the administrator says nothing.
pub const DEFAULT_STREAMS: u16 = 16;
/// Largest SCTP message mod_sctp writes when the administrator says nothing.
pub const DEFAULT_MAX_MESSAGE: usize = 32 * 1024;
/// Bounds of `SCTPMaxMessageSize`: below 1 KiB every response is a storm of
/// tiny messages; above 128 KiB a message may not fit Linux's default send
/// buffer (212992 bytes), and a too-large message fails with EMSGSIZE.
pub const MIN_MAX_MESSAGE: usize = 1024;
pub const MAX_MAX_MESSAGE: usize = 128 * 1024;
/// Input queued ahead of what httpd reads, per stream and per association,
/// when the administrator says nothing: room for many pipelined requests and
/// a request body arriving on another stream, bounded per connection.
pub const DEFAULT_STREAM_QUEUE: usize = 256 * 1024;
pub const DEFAULT_ASSOC_QUEUE: usize = 1024 * 1024;
/// Bounds of both queue directives: a queue must hold a request line of
/// httpd's default LimitRequestLine (8190 bytes) plus one read (8000 bytes).
pub const MIN_QUEUE: usize = 16 * 1024;
/// `SCTPSendBuffer` default. Linux grows a TCP socket's send buffer with the
/// path (tcp_wmem) but never an SCTP one's: at the kernel's 208 KB default an
/// association keeps about 100 KB in flight, 8 Mbit/s at 100 ms RTT.
pub const DEFAULT_SEND_BUFFER: usize = 1024 * 1024;
/// Bounds of `SCTPSendBuffer` and `SCTPReceiveBuffer` (0: the kernel's default).
pub const MIN_BUFFER: usize = 16 * 1024;
pub const MAX_BUFFER: usize = 64 * 1024 * 1024;
pub const MAX_QUEUE: usize = 256 * 1024 * 1024;
/// httpd's own default for `ListenBacklog`.
pub const DEFAULT_BACKLOG: i32 = 511;

/// Where an SCTP listener binds: one primary address (or the wildcard) and a
/// port, plus extra local addresses bound to the same port (multihoming).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListenSpec {
    /// `None` is the wildcard address.
    pub host: Option<String>,
    pub port: u16,
    /// Further local addresses (`sctp_bindx`), literal IPs.
    pub extra: Vec<String>,
    /// How the administrator wrote it, for messages.
    pub origin: &'static str,
}

impl ListenSpec {
    /// The identity used to match a configured listener with a retained socket
    /// across generations: the primary address and the port. Extra addresses
    /// are changed on the live socket (sctp_bindx), because the old
    /// generation's children may still hold it, so a new socket could not
    /// bind the same address and port.
    pub fn key(&self) -> String {
        format!("{}:{}", self.host.as_deref().unwrap_or("*"), self.port)
    }
}

impl fmt::Display for ListenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(h) if h.contains(':') => write!(f, "[{h}]:{}", self.port)?,
            Some(h) => write!(f, "{h}:{}", self.port)?,
            None => write!(f, "*:{}", self.port)?,
        }
        for e in &self.extra {
            write!(f, " +{e}")?;
        }
        Ok(())
    }
}

/// Splits `[addr:]port` the way httpd's `Listen` does: `80`, `host:80`,
/// `1.2.3.4:80`, `[::1]:80`. Returns (host, port).
pub fn parse_address(s: &str) -> Result<(Option<String>, u16), String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty address".into());
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or_else(|| format!("'{s}': missing ']' after an IPv6 address"))?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| format!("'{s}': a port must follow the IPv6 address, as [addr]:port"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("'{host}' is not an IPv6 address"));
        }
        (Some(host.to_string()), port)
    } else if let Some((h, p)) = s.rsplit_once(':') {
        if h.contains(':') {
            return Err(format!(
                "'{s}': write IPv6 addresses in brackets, as [addr]:port"
            ));
        }
        if h.is_empty() {
            return Err(format!("'{s}': missing address before ':'"));
        }
        (Some(h.to_string()), p)
    } else {
        (None, s)
    };
    let port = parse_port(port).map_err(|e| format!("'{s}': {e}"))?;
    Ok((host, port))
}

fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(format!("'{p}' is not a port from 1 to 65535")),
    }
}

/// An extra local address for multihoming must be a literal IP address:
/// `sctp_bindx` takes addresses, and a name could resolve to several families.
pub fn parse_extra_address(s: &str) -> Result<String, String> {
    let t = s.trim_start_matches('[').trim_end_matches(']');
    t.parse::<std::net::IpAddr>()
        .map(|_| t.to_string())
        .map_err(|_| {
            format!("'{s}' is not an IP address (extra local addresses must be literal IPs)")
        })
}

/// Parses a number of streams for `SCTPInStreams` / `SCTPOutStreams`.
pub fn parse_streams(directive: &str, s: &str) -> Result<u16, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(format!(
            "{directive}: '{s}' is not a number of streams from 1 to 65535"
        )),
    }
}

/// Parses a size in bytes with an optional K or M suffix, within `min..=max`.
pub fn parse_size(directive: &str, s: &str, min: usize, max: usize) -> Result<usize, String> {
    let t = s.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix(['k', 'K']) {
        (n, 1usize << 10)
    } else if let Some(n) = t.strip_suffix(['m', 'M']) {
        (n, 1usize << 20)
    } else {
        (t, 1usize)
    };
    let n = num
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{directive}: '{s}' is not a size in bytes"))?;
    if !(min..=max).contains(&n) {
        return Err(format!("{directive}: {n} is outside {min}..{max} bytes"));
    }
    Ok(n)
}

/// Parses `SCTPMaxMessageSize`.
pub fn parse_message_size(s: &str) -> Result<usize, String> {
    parse_size("SCTPMaxMessageSize", s, MIN_MAX_MESSAGE, MAX_MAX_MESSAGE)
        .map_err(|e| format!("{e} (larger messages may not fit the socket send buffer)"))
}

/// Parses `SCTPMaxStreamQueue`.
pub fn parse_stream_queue(s: &str) -> Result<usize, String> {
    parse_size("SCTPMaxStreamQueue", s, MIN_QUEUE, MAX_QUEUE)
}

/// Parses `SCTPMaxAssociationQueue`.
pub fn parse_assoc_queue(s: &str) -> Result<usize, String> {
    parse_size("SCTPMaxAssociationQueue", s, MIN_QUEUE, MAX_QUEUE)
}

/// Parses `SCTPSendBuffer` or `SCTPReceiveBuffer`: 0 or a size.
pub fn parse_buffer(directive: &str, s: &str) -> Result<usize, String> {
    if s.trim() == "0" {
        return Ok(0);
    }
    parse_size(directive, s, MIN_BUFFER, MAX_BUFFER)
        .map_err(|e| format!("{e} (or 0: the kernel's default)"))
}

/// What one configuration generation says about SCTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub listeners: Vec<ListenSpec>,
    pub in_streams: u16,
    pub out_streams: u16,
    pub nodelay: bool,
    pub max_message: usize,
    /// `SCTPMaxStreamQueue`: input bytes one stream may have queued.
    pub stream_queue: usize,
    /// `SCTPMaxAssociationQueue`: input bytes all streams may have queued.
    pub assoc_queue: usize,
    /// `SCTPSendBuffer`: SO_SNDBUF of every association (0: kernel default).
    pub send_buffer: usize,
    /// `SCTPReceiveBuffer`: SO_RCVBUF of every association (0: kernel default).
    pub receive_buffer: usize,
    /// Seen on core's `ListenBacklog` (core keeps its value private).
    pub backlog: i32,
    /// Seen on core's `ListenCoresBucketsRatio`.
    pub buckets_ratio: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listeners: Vec::new(),
            in_streams: DEFAULT_STREAMS,
            out_streams: DEFAULT_STREAMS,
            nodelay: true,
            max_message: DEFAULT_MAX_MESSAGE,
            stream_queue: DEFAULT_STREAM_QUEUE,
            assoc_queue: DEFAULT_ASSOC_QUEUE,
            send_buffer: DEFAULT_SEND_BUFFER,
            receive_buffer: 0,
            backlog: DEFAULT_BACKLOG,
            buckets_ratio: 0,
        }
    }
}

impl Config {
    /// `Listen [addr:]port sctp` (core's directive, our protocol word).
    pub fn add_listen(&mut self, addr: &str) -> Result<(), String> {
        let (host, port) = parse_address(addr).map_err(|e| format!("Listen: {e}"))?;
        self.add(ListenSpec {
            host,
            port,
            extra: Vec::new(),
            origin: "Listen",
        })
    }

    /// `SCTPListen [addr:]port [extra-addr ...]`.
    pub fn add_sctp_listen(&mut self, args: &[&str]) -> Result<(), String> {
        let (first, rest) = args
            .split_first()
            .ok_or("SCTPListen takes [addr:]port and optional extra local addresses")?;
        let (host, port) = parse_address(first).map_err(|e| format!("SCTPListen: {e}"))?;
        let mut extra = Vec::new();
        for a in rest {
            let a = parse_extra_address(a).map_err(|e| format!("SCTPListen: {e}"))?;
            if extra.contains(&a) || host.as_deref() == Some(a.as_str()) {
                return Err(format!("SCTPListen: address {a} is given twice"));
            }
            extra.push(a);
        }
        if host.is_none() && !extra.is_empty() {
            return Err(
                "SCTPListen: extra local addresses need a primary address; the wildcard already binds every address"
                    .into(),
            );
        }
        self.add(ListenSpec {
            host,
            port,
            extra,
            origin: "SCTPListen",
        })
    }

    fn add(&mut self, spec: ListenSpec) -> Result<(), String> {
        let clash = |a: &ListenSpec, b: &ListenSpec| {
            a.port == b.port
                && (a.host == b.host
                    || a.extra
                        .iter()
                        .any(|e| b.host.as_deref() == Some(e.as_str()))
                    || b.extra
                        .iter()
                        .any(|e| a.host.as_deref() == Some(e.as_str())))
        };
        if let Some(old) = self.listeners.iter().find(|o| clash(o, &spec)) {
            return Err(format!(
                "{}: SCTP address {spec} is already configured by {} {old}",
                spec.origin, old.origin
            ));
        }
        // Linux refuses a second SCTP bind on a port that a wildcard socket
        // holds, whatever the address or family (checked in the SCTP VM:
        // `::` or 0.0.0.0 beside 127.0.0.1, ::1, 0.0.0.0 or `::`), so the
        // configuration is refused here rather than at start.
        let wildcard = |l: &ListenSpec| matches!(l.host.as_deref(), None | Some("::" | "0.0.0.0"));
        if let Some(old) = self
            .listeners
            .iter()
            .find(|o| o.port == spec.port && (wildcard(o) || wildcard(&spec)))
        {
            return Err(format!(
                "{}: SCTP {spec} cannot be served beside {} {old}: an SCTP listener on a \
                 wildcard address takes every address of its port. Keep the wildcard, or \
                 name each address (multihoming: SCTPListen ADDR:PORT ADDR2 ...)",
                spec.origin, old.origin
            ));
        }
        self.listeners.push(spec);
        Ok(())
    }

    /// Checks that hold for the whole configuration, run once it is read
    /// (so `apachectl -t` reports them).
    pub fn check(&self) -> Result<(), String> {
        if self.buckets_ratio > 0 && !self.listeners.is_empty() {
            return Err(format!(
                "ListenCoresBucketsRatio {} cannot be used with SCTP listeners: httpd would \
                 duplicate them as TCP sockets. Remove ListenCoresBucketsRatio or set it to 0.",
                self.buckets_ratio
            ));
        }
        if self.assoc_queue < self.stream_queue {
            return Err(format!(
                "SCTPMaxAssociationQueue ({} bytes) is smaller than SCTPMaxStreamQueue ({} bytes): \
                 the association's queue holds every stream's",
                self.assoc_queue, self.stream_queue
            ));
        }
        if self.send_buffer != 0 && self.send_buffer < self.max_message {
            return Err(format!(
                "SCTPSendBuffer ({} bytes) is smaller than SCTPMaxMessageSize ({} bytes): \
                 a message must fit the send buffer whole",
                self.send_buffer, self.max_message
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_like_httpd_listen() {
        assert_eq!(parse_address("80"), Ok((None, 80)));
        assert_eq!(
            parse_address("127.0.0.1:8080"),
            Ok((Some("127.0.0.1".into()), 8080))
        );
        assert_eq!(parse_address("[::1]:443"), Ok((Some("::1".into()), 443)));
        assert_eq!(
            parse_address("localhost:81"),
            Ok((Some("localhost".into()), 81))
        );
        assert!(parse_address("0").is_err());
        assert!(parse_address("65536").is_err());
        assert!(parse_address("host:").is_err());
        assert!(parse_address(":80").is_err());
        assert!(parse_address("::1:80").is_err());
        assert!(parse_address("[::1]").is_err());
        assert!(parse_address("[nothex]:80").is_err());
        assert!(parse_address("").is_err());
    }

    #[test]
    fn numbers_are_bounded() {
        assert_eq!(parse_streams("SCTPInStreams", "1"), Ok(1));
        assert_eq!(parse_streams("SCTPInStreams", "65535"), Ok(65535));
        let e = parse_streams("SCTPInStreams", "0").unwrap_err();
        assert!(
            e.contains("SCTPInStreams") && e.contains("1 to 65535"),
            "{e}"
        );
        assert!(parse_streams("SCTPOutStreams", "65536").is_err());
        assert!(parse_streams("SCTPOutStreams", "ten").is_err());
        assert_eq!(parse_message_size("65536"), Ok(65536));
        assert_eq!(parse_message_size("16k"), Ok(16384));
        assert!(parse_message_size("512").is_err());
        assert!(parse_message_size("1000000").is_err());
        assert!(parse_message_size("99999999999999999999k").is_err());
        assert_eq!(parse_stream_queue("1M"), Ok(1 << 20));
        assert_eq!(parse_assoc_queue("64k"), Ok(65536));
        let e = parse_stream_queue("1000").unwrap_err();
        assert!(e.starts_with("SCTPMaxStreamQueue: 1000 is outside"), "{e}");
        assert!(parse_assoc_queue("1G").is_err());
    }

    #[test]
    fn association_queue_holds_a_stream_queue() {
        let mut c = Config::default();
        assert!(c.check().is_ok());
        c.stream_queue = 2 << 20;
        let e = c.check().unwrap_err();
        assert!(e.contains("SCTPMaxAssociationQueue"), "{e}");
        c.assoc_queue = 2 << 20;
        assert!(c.check().is_ok());
    }

    #[test]
    fn duplicate_listeners_are_refused() {
        let mut c = Config::default();
        c.add_listen("127.0.0.1:80").unwrap();
        let e = c.add_sctp_listen(&["127.0.0.1:80"]).unwrap_err();
        assert!(e.contains("already configured by Listen"), "{e}");
        c.add_sctp_listen(&["127.0.0.2:80", "10.0.0.1"]).unwrap();
        let e = c.add_listen("10.0.0.1:80").unwrap_err();
        assert!(e.contains("already configured by SCTPListen"), "{e}");
        c.add_listen("10.0.0.1:81").unwrap();
        assert_eq!(c.listeners.len(), 3);
    }

    #[test]
    fn a_wildcard_takes_its_whole_port() {
        for (a, b) in [
            ("80", "127.0.0.1:80"),
            ("127.0.0.1:80", "80"),
            ("[::]:80", "0.0.0.0:80"),
            ("0.0.0.0:80", "[::1]:80"),
            ("[::1]:80", "80"),
        ] {
            let mut c = Config::default();
            c.add_sctp_listen(&[a]).unwrap();
            let e = c.add_listen(b).unwrap_err();
            assert!(
                e.contains("takes every address of its port"),
                "{a} {b}: {e}"
            );
        }
        let mut c = Config::default();
        c.add_sctp_listen(&["80"]).unwrap();
        c.add_listen("127.0.0.1:81").unwrap();
        c.add_sctp_listen(&["127.0.0.2:81", "127.0.0.3"]).unwrap();
    }

    #[test]
    fn extra_addresses_are_literal_and_distinct() {
        let mut c = Config::default();
        assert!(c.add_sctp_listen(&["127.0.0.1:80", "example.org"]).is_err());
        assert!(c
            .add_sctp_listen(&["127.0.0.1:80", "127.0.0.2", "127.0.0.2"])
            .is_err());
        assert!(c.add_sctp_listen(&["127.0.0.1:80", "127.0.0.1"]).is_err());
        assert!(c.add_sctp_listen(&["80", "127.0.0.2"]).is_err());
        assert!(c.add_sctp_listen(&[]).is_err());
        c.add_sctp_listen(&["127.0.0.1:80", "[::1]"]).unwrap();
        assert_eq!(c.listeners[0].extra, vec!["::1".to_string()]);
        assert_eq!(c.listeners[0].key(), "127.0.0.1:80");
    }

    #[test]
    fn buckets_ratio_refused_only_with_sctp() {
        let mut c = Config {
            buckets_ratio: 2,
            ..Config::default()
        };
        assert!(c.check().is_ok());
        c.add_listen("80").unwrap();
        let e = c.check().unwrap_err();
        assert!(e.contains("ListenCoresBucketsRatio 2"), "{e}");
    }

    #[test]
    fn buffers() {
        assert_eq!(parse_buffer("SCTPSendBuffer", "0"), Ok(0));
        assert_eq!(parse_buffer("SCTPSendBuffer", "2M"), Ok(2 << 20));
        assert!(parse_buffer("SCTPSendBuffer", "1K")
            .unwrap_err()
            .contains("or 0"));
        assert!(parse_buffer("SCTPReceiveBuffer", "65M").is_err());
        let mut c = Config::default();
        assert_eq!(c.send_buffer, 1 << 20);
        c.send_buffer = 16 * 1024;
        assert!(c.check().unwrap_err().contains("SCTPMaxMessageSize"));
        c.send_buffer = 0;
        assert!(c.check().is_ok());
    }
}
