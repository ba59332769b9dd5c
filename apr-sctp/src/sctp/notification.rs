//! SCTP notifications (RFC 6458 §6.1), parsed from the bytes `recvmsg`
//! returns with MSG_NOTIFICATION. Sans-I/O: bytes in, a value out; bad or
//! short input is an error, never a panic or an out-of-bounds read.

use super::raw;
use super::{Error, SndInfo};
use std::fmt;
use std::net::SocketAddr;

/// Notifications a socket can subscribe to (`SCTP_EVENT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    AssocChange,
    PeerAddrChange,
    SendFailed,
    RemoteError,
    Shutdown,
    PartialDelivery,
    AdaptationIndication,
    SenderDry,
    StreamReset,
    AssocReset,
    StreamChange,
}

impl Event {
    pub(crate) fn kind(self) -> u16 {
        match self {
            Event::AssocChange => raw::SCTP_ASSOC_CHANGE,
            Event::PeerAddrChange => raw::SCTP_PEER_ADDR_CHANGE,
            Event::SendFailed => raw::SCTP_SEND_FAILED_EVENT,
            Event::RemoteError => raw::SCTP_REMOTE_ERROR,
            Event::Shutdown => raw::SCTP_SHUTDOWN_EVENT,
            Event::PartialDelivery => raw::SCTP_PARTIAL_DELIVERY_EVENT,
            Event::AdaptationIndication => raw::SCTP_ADAPTATION_INDICATION,
            Event::SenderDry => raw::SCTP_SENDER_DRY_EVENT,
            Event::StreamReset => raw::SCTP_STREAM_RESET_EVENT,
            Event::AssocReset => raw::SCTP_ASSOC_RESET_EVENT,
            Event::StreamChange => raw::SCTP_STREAM_CHANGE_EVENT,
        }
    }
}

/// A parsed notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    AssocChange {
        state: u16,
        error: u16,
        outbound_streams: u16,
        inbound_streams: u16,
        assoc_id: i32,
    },
    PeerAddrChange {
        addr: Option<SocketAddr>,
        state: u32,
        error: u32,
        assoc_id: i32,
    },
    SendFailed {
        error: u32,
        /// The message had been put on the wire at least once
        /// (`SCTP_DATA_SENT`), else it never was (`SCTP_DATA_UNSENT`).
        sent: bool,
        info: SndInfo,
        data_len: usize,
        assoc_id: i32,
    },
    Shutdown {
        assoc_id: i32,
    },
    /// A message whose first part had been delivered (partial delivery)
    /// will not be completed: its sender abandoned it (PR-SCTP) or the
    /// association ended. `seq`: its stream sequence number (ordered) or
    /// 0 (unordered).
    PartialDeliveryAborted {
        stream: u16,
        seq: u16,
        assoc_id: i32,
    },
    Other {
        kind: u16,
    },
}

// `sac_state` values.
pub const SCTP_COMM_UP: u16 = 0;
pub const SCTP_COMM_LOST: u16 = 1;
pub const SCTP_RESTART: u16 = 2;
pub const SCTP_SHUTDOWN_COMP: u16 = 3;
pub const SCTP_CANT_STR_ASSOC: u16 = 4;

/// How much an administrator cares about a notification: the level it is
/// logged at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Routine: an association came up or shut down as expected.
    Debug,
    /// Worth a line in a normal log: a peer vanished, a path changed.
    Info,
    /// A path became unreachable: multihoming is covering for a failure.
    Warn,
}

impl Notification {
    pub fn severity(&self) -> Severity {
        match self {
            Notification::AssocChange { state, .. } => match *state {
                SCTP_COMM_LOST | SCTP_RESTART | SCTP_CANT_STR_ASSOC => Severity::Info,
                _ => Severity::Debug,
            },
            Notification::PeerAddrChange { state, .. } => match *state {
                // ADDR_UNREACHABLE, ADDR_POTENTIALLY_FAILED
                1 | 6 => Severity::Warn,
                _ => Severity::Info,
            },
            // One per unsent message when an association dies mid-response:
            // COMM_LOST (Info) already says so once.
            Notification::SendFailed { .. }
            | Notification::Shutdown { .. }
            | Notification::PartialDeliveryAborted { .. }
            | Notification::Other { .. } => Severity::Debug,
        }
    }
}

fn assoc_state_name(s: u16) -> &'static str {
    match s {
        SCTP_COMM_UP => "COMM_UP",
        SCTP_COMM_LOST => "COMM_LOST",
        SCTP_RESTART => "RESTART",
        SCTP_SHUTDOWN_COMP => "SHUTDOWN_COMP",
        SCTP_CANT_STR_ASSOC => "CANT_STR_ASSOC",
        _ => "unknown",
    }
}

fn addr_state_name(s: u32) -> &'static str {
    match s {
        0 => "ADDR_AVAILABLE",
        1 => "ADDR_UNREACHABLE",
        2 => "ADDR_REMOVED",
        3 => "ADDR_ADDED",
        4 => "ADDR_MADE_PRIM",
        5 => "ADDR_CONFIRMED",
        6 => "ADDR_POTENTIALLY_FAILED",
        _ => "unknown",
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notification::AssocChange {
                state,
                error,
                outbound_streams,
                inbound_streams,
                assoc_id,
            } => write!(
                f,
                "association {assoc_id} {} (error {error}, streams out {outbound_streams} in {inbound_streams})",
                assoc_state_name(*state)
            ),
            Notification::PeerAddrChange {
                addr,
                state,
                error,
                assoc_id,
            } => {
                let a = addr.map_or_else(|| "?".to_string(), |a| a.to_string());
                write!(
                    f,
                    "association {assoc_id}: peer address {a} {} (error {error})",
                    addr_state_name(*state)
                )
            }
            Notification::SendFailed {
                error,
                sent,
                info,
                data_len,
                assoc_id,
            } => write!(
                f,
                "association {assoc_id}: send failed (error {error}) of {data_len} byte(s) on stream {} ({})",
                info.sid,
                if *sent { "sent" } else { "never sent" }
            ),
            Notification::Shutdown { assoc_id } => {
                write!(f, "association {assoc_id}: peer sent SHUTDOWN")
            }
            Notification::PartialDeliveryAborted {
                stream,
                seq,
                assoc_id,
            } => write!(
                f,
                "association {assoc_id}: partial delivery of message {seq} on stream {stream} aborted"
            ),
            Notification::Other { kind } => write!(f, "notification {kind:#x}"),
        }
    }
}

fn u16_at(b: &[u8], off: usize) -> Result<u16, Error> {
    b.get(off..off + 2)
        .map(|s| u16::from_ne_bytes([s[0], s[1]]))
        .ok_or(Error::malformed("notification too short"))
}

fn u32_at(b: &[u8], off: usize) -> Result<u32, Error> {
    b.get(off..off + 4)
        .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(Error::malformed("notification too short"))
}

fn i32_at(b: &[u8], off: usize) -> Result<i32, Error> {
    u32_at(b, off).map(|v| v as i32)
}

/// Parses one notification. The header's length must fit in `buf`.
pub fn parse_notification(buf: &[u8]) -> Result<Notification, Error> {
    let kind = u16_at(buf, 0)?;
    let len = u32_at(buf, 4)? as usize;
    if len < 8 || len > buf.len() {
        return Err(Error::malformed(
            "notification length does not match the buffer",
        ));
    }
    let b = &buf[..len];
    Ok(match kind {
        raw::SCTP_ASSOC_CHANGE => Notification::AssocChange {
            state: u16_at(b, 8)?,
            error: u16_at(b, 10)?,
            outbound_streams: u16_at(b, 12)?,
            inbound_streams: u16_at(b, 14)?,
            assoc_id: i32_at(b, 16)?,
        },
        raw::SCTP_PEER_ADDR_CHANGE => {
            // sockaddr_storage at offset 8 (packed, aligned 4), then state,
            // error and assoc id.
            let storage = b
                .get(8..8 + 128)
                .ok_or(Error::malformed("notification too short"))?;
            Notification::PeerAddrChange {
                addr: super::addr::decode(storage).map(|(a, _)| a),
                state: u32_at(b, 136)?,
                error: u32_at(b, 140)?,
                assoc_id: i32_at(b, 144)?,
            }
        }
        raw::SCTP_SEND_FAILED_EVENT => Notification::SendFailed {
            error: u32_at(b, 8)?,
            // ssf_flags: SCTP_DATA_UNSENT 0, SCTP_DATA_SENT 1.
            sent: u16_at(b, 2)? == 1,
            info: SndInfo {
                sid: u16_at(b, 12)?,
                flags: u16_at(b, 14)?,
                ppid: u32::from_be(u32_at(b, 16)?),
                context: u32_at(b, 20)?,
            },
            assoc_id: i32_at(b, 28)?,
            data_len: len.saturating_sub(32),
        },
        raw::SCTP_SHUTDOWN_EVENT => Notification::Shutdown {
            assoc_id: i32_at(b, 8)?,
        },
        // struct sctp_pdapi_event: indication, assoc id, stream, seq (u32
        // each); SCTP_PARTIAL_DELIVERY_ABORTED is the only indication.
        raw::SCTP_PARTIAL_DELIVERY_EVENT if u32_at(b, 8)? == 0 => {
            Notification::PartialDeliveryAborted {
                assoc_id: i32_at(b, 12)?,
                stream: u32_at(b, 16)? as u16,
                seq: u32_at(b, 20)? as u16,
            }
        }
        other => Notification::Other { kind: other },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u16, len: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v
    }

    #[test]
    fn assoc_change() {
        let mut v = header(raw::SCTP_ASSOC_CHANGE, 20);
        for x in [SCTP_COMM_UP, 0, 10, 16] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        v.extend_from_slice(&7i32.to_ne_bytes());
        let n = parse_notification(&v).unwrap();
        assert_eq!(
            n,
            Notification::AssocChange {
                state: SCTP_COMM_UP,
                error: 0,
                outbound_streams: 10,
                inbound_streams: 16,
                assoc_id: 7
            }
        );
        assert!(n.to_string().contains("COMM_UP"));
        // Every truncation is an error, not a panic.
        for cut in 0..v.len() {
            assert!(parse_notification(&v[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn peer_addr_change() {
        let mut v = header(raw::SCTP_PEER_ADDR_CHANGE, 148);
        let mut a = Vec::new();
        super::super::addr::encode(&"10.0.0.2:80".parse().unwrap(), &mut a);
        a.resize(128, 0);
        v.extend_from_slice(&a);
        v.extend_from_slice(&1u32.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&3i32.to_ne_bytes());
        let n = parse_notification(&v).unwrap();
        assert_eq!(
            n,
            Notification::PeerAddrChange {
                addr: Some("10.0.0.2:80".parse().unwrap()),
                state: 1,
                error: 0,
                assoc_id: 3
            }
        );
        assert!(n.to_string().contains("ADDR_UNREACHABLE"));
        assert!(parse_notification(&v[..147]).is_err());
    }

    #[test]
    fn send_failed_and_shutdown() {
        let mut v = header(raw::SCTP_SEND_FAILED_EVENT, 32 + 5);
        v[2..4].copy_from_slice(&1u16.to_ne_bytes()); // SCTP_DATA_SENT
        v.extend_from_slice(&1u32.to_ne_bytes());
        v.extend_from_slice(&4u16.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&63u32.to_be().to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&0i32.to_ne_bytes());
        v.extend_from_slice(&9i32.to_ne_bytes());
        v.extend_from_slice(b"hello");
        match parse_notification(&v).unwrap() {
            Notification::SendFailed {
                info,
                data_len,
                assoc_id,
                sent,
                ..
            } => {
                assert_eq!((info.sid, info.ppid, data_len, assoc_id), (4, 63, 5, 9));
                assert!(sent);
            }
            other => panic!("{other:?}"),
        }
        let mut s = header(raw::SCTP_SHUTDOWN_EVENT, 12);
        s.extend_from_slice(&5i32.to_ne_bytes());
        assert_eq!(
            parse_notification(&s).unwrap(),
            Notification::Shutdown { assoc_id: 5 }
        );
        let o = header(raw::SCTP_SENDER_DRY_EVENT, 8);
        assert_eq!(
            parse_notification(&o).unwrap(),
            Notification::Other {
                kind: raw::SCTP_SENDER_DRY_EVENT
            }
        );
    }

    #[test]
    fn severities() {
        let lost = Notification::AssocChange {
            state: SCTP_COMM_LOST,
            error: 0,
            outbound_streams: 0,
            inbound_streams: 0,
            assoc_id: 1,
        };
        assert_eq!(lost.severity(), Severity::Info);
        let up = Notification::AssocChange {
            state: SCTP_COMM_UP,
            error: 0,
            outbound_streams: 0,
            inbound_streams: 0,
            assoc_id: 1,
        };
        assert_eq!(up.severity(), Severity::Debug);
        let path = |state| Notification::PeerAddrChange {
            addr: None,
            state,
            error: 0,
            assoc_id: 1,
        };
        assert_eq!(path(1).severity(), Severity::Warn, "unreachable");
        assert_eq!(path(6).severity(), Severity::Warn, "potentially failed");
        assert_eq!(path(0).severity(), Severity::Info, "available again");
        assert_eq!(path(4).severity(), Severity::Info, "made primary");
        assert_eq!(
            Notification::Shutdown { assoc_id: 1 }.severity(),
            Severity::Debug
        );
    }

    #[test]
    fn bad_lengths() {
        let v = header(raw::SCTP_SHUTDOWN_EVENT, 4);
        assert!(parse_notification(&v).is_err());
        let v = header(raw::SCTP_SHUTDOWN_EVENT, 100);
        assert!(parse_notification(&v).is_err());
    }

    /// One well-formed notification of each parsed kind.
    fn samples() -> Vec<Vec<u8>> {
        let mut ac = header(raw::SCTP_ASSOC_CHANGE, 20);
        for x in [SCTP_SHUTDOWN_COMP, 0, 1, 1] {
            ac.extend_from_slice(&x.to_ne_bytes());
        }
        ac.extend_from_slice(&2i32.to_ne_bytes());
        let mut pc = header(raw::SCTP_PEER_ADDR_CHANGE, 148);
        let mut a = Vec::new();
        super::super::addr::encode(&"[::1]:80".parse().unwrap(), &mut a);
        a.resize(128, 0);
        pc.extend_from_slice(&a);
        pc.extend_from_slice(&[0u8; 12]);
        let mut sf = header(raw::SCTP_SEND_FAILED_EVENT, 32);
        sf.extend_from_slice(&[0u8; 24]);
        let mut sd = header(raw::SCTP_SHUTDOWN_EVENT, 12);
        sd.extend_from_slice(&1i32.to_ne_bytes());
        vec![ac, pc, sf, sd]
    }

    #[test]
    fn every_truncation_of_every_kind_is_an_error() {
        for v in samples() {
            assert!(parse_notification(&v).is_ok());
            for cut in 0..v.len() {
                let e = parse_notification(&v[..cut]).unwrap_err();
                assert_eq!(e.errno, 0, "malformed, not an errno");
            }
            // A header that claims less than its kind needs is an error too.
            let mut short = v.clone();
            short[4..8].copy_from_slice(&(v.len() as u32 - 1).to_ne_bytes());
            assert!(parse_notification(&short).is_err());
        }
    }

    #[test]
    fn bytes_past_the_stated_length_are_ignored() {
        for v in samples() {
            let mut long = v.clone();
            long.extend_from_slice(&[0xff; 40]);
            assert_eq!(parse_notification(&long), parse_notification(&v));
        }
    }

    #[test]
    fn other_kinds_and_display() {
        for kind in [
            raw::SCTP_REMOTE_ERROR,
            raw::SCTP_ADAPTATION_INDICATION,
            raw::SCTP_AUTHENTICATION_EVENT,
            raw::SCTP_SENDER_DRY_EVENT,
            raw::SCTP_STREAM_RESET_EVENT,
            raw::SCTP_ASSOC_RESET_EVENT,
            raw::SCTP_STREAM_CHANGE_EVENT,
            raw::SCTP_SEND_FAILED, // the deprecated form
            0x1234,
        ] {
            let mut v = header(kind, 16);
            v.extend_from_slice(&[0; 8]);
            let n = parse_notification(&v).unwrap();
            assert_eq!(n, Notification::Other { kind });
            assert_eq!(n.to_string(), format!("notification {kind:#x}"));
        }
        let shown: Vec<String> = samples()
            .iter()
            .map(|v| parse_notification(v).unwrap().to_string())
            .collect();
        assert_eq!(
            shown,
            [
                "association 2 SHUTDOWN_COMP (error 0, streams out 1 in 1)",
                "association 0: peer address [::1]:80 ADDR_AVAILABLE (error 0)",
                "association 0: send failed (error 0) of 0 byte(s) on stream 0 (never sent)",
                "association 1: peer sent SHUTDOWN",
            ]
        );
    }

    #[test]
    fn partial_delivery_aborted() {
        let mut v = header(raw::SCTP_PARTIAL_DELIVERY_EVENT, 24);
        for x in [0u32, 9, 2, 17] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        let n = parse_notification(&v).unwrap();
        assert_eq!(
            n,
            Notification::PartialDeliveryAborted {
                stream: 2,
                seq: 17,
                assoc_id: 9
            }
        );
        assert_eq!(
            n.to_string(),
            "association 9: partial delivery of message 17 on stream 2 aborted"
        );
        assert!(parse_notification(&v[..20]).is_err());
        // Another indication than ABORTED (none is defined) is not read as one.
        v[8] = 1;
        assert_eq!(
            parse_notification(&v).unwrap(),
            Notification::Other {
                kind: raw::SCTP_PARTIAL_DELIVERY_EVENT
            }
        );
    }

    #[test]
    fn peer_addr_change_with_unknown_family_has_no_address() {
        let mut v = header(raw::SCTP_PEER_ADDR_CHANGE, 148);
        v.extend_from_slice(&[0u8; 140]);
        match parse_notification(&v).unwrap() {
            Notification::PeerAddrChange { addr, .. } => assert_eq!(addr, None),
            n => panic!("{n:?}"),
        }
    }

    #[test]
    fn event_kinds_are_distinct_notification_types() {
        let all = [
            Event::AssocChange,
            Event::PeerAddrChange,
            Event::SendFailed,
            Event::RemoteError,
            Event::Shutdown,
            Event::PartialDelivery,
            Event::AdaptationIndication,
            Event::SenderDry,
            Event::StreamReset,
            Event::AssocReset,
            Event::StreamChange,
        ];
        let mut kinds: Vec<u16> = all.iter().map(|e| e.kind()).collect();
        assert!(kinds.iter().all(|k| (0x8001..=0x800d).contains(k)));
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds.len(), all.len());
        // What subscribe(SendFailed) asks for is what the parser reads.
        assert_eq!(Event::SendFailed.kind(), raw::SCTP_SEND_FAILED_EVENT);
    }
}
