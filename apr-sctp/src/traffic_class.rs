//! WebTP's traffic classes (seeds/003 §3), sans-I/O: a socket names its
//! class ("interactive", "bulk", "realtime_stream", "buffered_stream", or a
//! hierarchical name below one, "realtime_stream.elastic"), and the host's
//! administrator decides how classes share bandwidth.
//!
//! On Linux that decision lives in the traffic-control layer, not in SCTP:
//! SCTP shares a bottleneck between associations by congestion control
//! alone. So a class here is what tc and the network can act on: a DSCP
//! (RFC 4594's service classes) on every packet of the association and a
//! socket priority (`SO_PRIORITY`, the band a `prio` or the class an `htb`
//! qdisc picks), plus whether small ADUs go out at once (`SCTP_NODELAY`).
//! [`ClassTable`] is the seed's `/etc/webtp_classes`: the built-in classes
//! and any the administrator adds or overrides.
//!
//! The file format (hand-written: four fields a line, nothing a config
//! crate would add):
//!
//! ```text
//! # name                    dscp  priority  nodelay
//! realtime_stream.voice     46    6         on
//! ```

use std::fmt;

/// How packets of a class are marked and sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassPolicy {
    /// DiffServ code point (0..=63) for every packet of the association.
    pub dscp: u8,
    /// `SO_PRIORITY` (0..=6 without CAP_NET_ADMIN).
    pub priority: u8,
    /// Send small ADUs at once instead of bundling them (`SCTP_NODELAY`).
    pub nodelay: bool,
}

/// The four classes the seed defines, with RFC 4594's service classes:
/// interactive is low-latency data (AF21), bulk is high-throughput data
/// (AF11), realtime_stream is real-time interactive media (CS4) and
/// buffered_stream is multimedia streaming (AF31).
const BUILT_IN: [(&str, ClassPolicy); 4] = [
    (
        "interactive",
        ClassPolicy {
            dscp: 18,
            priority: 4,
            nodelay: true,
        },
    ),
    (
        "bulk",
        ClassPolicy {
            dscp: 10,
            priority: 1,
            nodelay: false,
        },
    ),
    (
        "realtime_stream",
        ClassPolicy {
            dscp: 32,
            priority: 5,
            nodelay: true,
        },
    ),
    (
        "buffered_stream",
        ClassPolicy {
            dscp: 26,
            priority: 3,
            nodelay: false,
        },
    ),
];

/// A line of a class table that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassTableError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ClassTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "class table line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ClassTableError {}

/// Class names and their policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassTable {
    classes: Vec<(String, ClassPolicy)>,
}

impl Default for ClassTable {
    /// The seed's four classes.
    fn default() -> ClassTable {
        ClassTable {
            classes: BUILT_IN
                .iter()
                .map(|(n, p)| ((*n).to_string(), *p))
                .collect(),
        }
    }
}

/// A class name: dot-separated parts of letters, digits, `_` and `-`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

impl ClassTable {
    /// The built-in classes, then the lines of `text` (a later line for
    /// the same name replaces the earlier policy).
    pub fn parse(text: &str) -> Result<ClassTable, ClassTableError> {
        let mut t = ClassTable::default();
        for (i, line) in text.lines().enumerate() {
            let err = |reason: String| ClassTableError {
                line: i + 1,
                reason,
            };
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            let [name, dscp, priority, nodelay] = f[..] else {
                return Err(err(format!(
                    "expected: name dscp priority on|off, got {} field(s)",
                    f.len()
                )));
            };
            if !valid_name(name) {
                return Err(err(format!("{name:?} is not a class name")));
            }
            let dscp = match dscp.parse::<u8>() {
                Ok(d) if d < 64 => d,
                _ => return Err(err(format!("DSCP {dscp:?} is not 0..63"))),
            };
            let priority = match priority.parse::<u8>() {
                Ok(p) if p <= 6 => p,
                _ => return Err(err(format!("priority {priority:?} is not 0..6"))),
            };
            let nodelay = match nodelay {
                "on" => true,
                "off" => false,
                other => return Err(err(format!("nodelay {other:?} is not on or off"))),
            };
            let policy = ClassPolicy {
                dscp,
                priority,
                nodelay,
            };
            match t.classes.iter_mut().find(|(n, _)| n == name) {
                Some(c) => c.1 = policy,
                None => t.classes.push((name.to_string(), policy)),
            }
        }
        Ok(t)
    }

    /// The policy of `name`: its own entry, else that of its nearest
    /// listed ancestor ("realtime_stream.elastic" falls back to
    /// "realtime_stream"). `None` for a malformed name or one with no
    /// listed ancestor.
    pub fn lookup(&self, name: &str) -> Option<(&str, ClassPolicy)> {
        if !valid_name(name) {
            return None;
        }
        let mut n = name;
        loop {
            if let Some((found, p)) = self.classes.iter().find(|(c, _)| c == n) {
                return Some((found.as_str(), *p));
            }
            n = &n[..n.rfind('.')?];
        }
    }

    /// The class names, in table order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.classes.iter().map(|(n, _)| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_four_classes_are_built_in() {
        let t = ClassTable::default();
        let names: Vec<&str> = t.names().collect();
        assert_eq!(
            names,
            ["interactive", "bulk", "realtime_stream", "buffered_stream"]
        );
        let (_, i) = t.lookup("interactive").unwrap();
        let (_, b) = t.lookup("bulk").unwrap();
        assert!(i.priority > b.priority && i.nodelay && !b.nodelay);
        assert_eq!(t.lookup("realtime_stream").unwrap().1.dscp, 32);
    }

    #[test]
    fn hierarchical_names_fall_back_to_their_ancestors() {
        let t = ClassTable::parse("realtime_stream.voice 46 6 on\n").unwrap();
        assert_eq!(t.lookup("realtime_stream.voice").unwrap().1.dscp, 46);
        assert_eq!(
            t.lookup("realtime_stream.voice.g711").unwrap().0,
            "realtime_stream.voice"
        );
        assert_eq!(
            t.lookup("realtime_stream.elastic").unwrap().0,
            "realtime_stream"
        );
        for bad in ["", "video", "bulk.", ".bulk", "bulk..x", "bulk x", "bül"] {
            assert_eq!(t.lookup(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_table_overrides_and_adds() {
        let t = ClassTable::parse(
            "# site policy\n\n bulk 8 0 off   # lower effort\nbackup.nightly 1 0 off\n",
        )
        .unwrap();
        assert_eq!(
            t.lookup("bulk").unwrap().1,
            ClassPolicy {
                dscp: 8,
                priority: 0,
                nodelay: false
            }
        );
        assert_eq!(t.lookup("backup.nightly").unwrap().1.dscp, 1);
        assert_eq!(t.lookup("backup"), None, "only the listed name and below");
        assert_eq!(t.names().count(), 5);
    }

    #[test]
    fn malformed_lines_say_where_and_why() {
        for (text, line, why) in [
            ("bulk 8 0\n", 1, "field(s)"),
            ("\nbulk 64 0 off\n", 2, "DSCP"),
            ("bulk 8 7 off\n", 1, "priority"),
            ("bulk 8 -1 off\n", 1, "priority"),
            ("bulk 8 0 yes\n", 1, "nodelay"),
            ("a/b 8 0 on\n", 1, "not a class name"),
        ] {
            let e = ClassTable::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.to_string().contains(why), "{text:?}: {e}");
        }
    }
}
