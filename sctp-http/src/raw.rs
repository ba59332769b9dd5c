//! `sctp-http raw`: its command line as a script of steps (sans-I/O).
//!
//! `--send SID:TEXT` and `--pause MS` are steps run in the order given
//! (`cli.rs` puts them in that order); the binary runs them, printing what
//! arrives meanwhile, then receives until `--wait-ms` passes, or aborts the
//! association `--abort-after-ms` after the last send.

use std::time::Duration;

/// One step of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// One SCTP message on a stream.
    Send(u16, Vec<u8>),
    /// Keep receiving (and printing) this long before the next step.
    Pause(Duration),
}

/// What `raw` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawOpts {
    /// `HOST:PORT`.
    pub target: String,
    /// Streams offered each way (`--streams`, default 16).
    pub streams: u16,
    /// The steps, in the order of the command line.
    pub steps: Vec<Step>,
    /// How long to receive after the steps (`--wait-ms`, default 2000).
    pub wait: Duration,
    /// `--abort-after-ms`: abort this long after the last send, instead of
    /// receiving for `wait` and closing normally.
    pub abort_after: Option<Duration>,
}

/// `\r`, `\n`, `\\`, `\xHH` escapes.
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut o = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            o.push(b[i]);
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'r') => o.push(b'\r'),
            Some(b'n') => o.push(b'\n'),
            Some(b'\\') => o.push(b'\\'),
            Some(b'x') => {
                let h = s.get(i + 2..i + 4).ok_or("\\x needs two hex digits")?;
                o.push(u8::from_str_radix(h, 16).map_err(|_| format!("bad \\x{h}"))?);
                i += 2;
            }
            _ => return Err(format!("bad escape in {s:?}")),
        }
        i += 2;
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cli::{parse_from, Parsed};

    /// The arguments after `raw`, through the whole command line's parser.
    fn parse(a: &[&str]) -> Result<RawOpts, String> {
        match parse_from(["sctp-http", "raw"].iter().chain(a)) {
            Ok(Parsed::Raw(o)) => Ok(o),
            Ok(p) => panic!("{a:?}: {p:?}"),
            Err(Ok(e)) => Err(e.to_string()),
            Err(Err(e)) => Err(e.0),
        }
    }

    #[test]
    fn sends_and_pauses_keep_their_order() {
        let o = parse(&[
            "--send",
            "1:GET / HTTP/1.1\\r\\nHo",
            "--send",
            "2:x",
            "--pause",
            "1000",
            "--wait-ms",
            "50",
            "--send",
            "1:s",
            "--pause",
            "0",
            "127.0.0.1:80",
            "--send",
            "1:t\\r\\n\\r\\n",
        ])
        .unwrap();
        assert_eq!(o.target, "127.0.0.1:80");
        assert_eq!(o.wait, Duration::from_millis(50));
        assert_eq!(o.abort_after, None);
        assert_eq!(
            o.steps,
            vec![
                Step::Send(1, b"GET / HTTP/1.1\r\nHo".to_vec()),
                Step::Send(2, b"x".to_vec()),
                Step::Pause(Duration::from_millis(1000)),
                Step::Send(1, b"s".to_vec()),
                Step::Pause(Duration::ZERO),
                Step::Send(1, b"t\r\n\r\n".to_vec()),
            ]
        );
    }

    #[test]
    fn defaults() {
        let o = parse(&["h:1"]).unwrap();
        assert_eq!(o.streams, 16);
        assert_eq!(o.wait, Duration::from_millis(2000));
        assert!(o.steps.is_empty());
    }

    #[test]
    fn abort_after() {
        let o = parse(&["--send", "0:x", "--abort-after-ms", "250", "h:1"]).unwrap();
        assert_eq!(o.abort_after, Some(Duration::from_millis(250)));
        // Nothing to count from.
        assert!(parse(&["--abort-after-ms", "250", "h:1"]).is_err());
    }

    #[test]
    fn mistakes() {
        for bad in [
            &["--pause"][..],
            &["--pause", "x", "h:1"],
            &["--pause", "-5", "h:1"],
            &["--send", "1", "h:1"],
            &["--send", "x:a", "h:1"],
            &["--send", "70000:a", "h:1"],
            &["--send", "1:\\q", "h:1"],
            &["--streams", "0", "h:1"],
            &["--wait-ms", "1.5", "h:1"],
            &["--bogus", "h:1"],
            &["h:1", "h:2"],
            &["--send", "1:a"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(
            unescape("a\\r\\n\\\\\\x00\\xff").unwrap(),
            b"a\r\n\\\x00\xff"
        );
        assert!(unescape("\\x4").is_err());
        assert!(unescape("\\xzz").is_err());
        assert!(unescape("trailing\\").is_err());
    }
}
