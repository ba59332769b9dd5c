//! ASAP messages (RFC 5352): the 4-byte header (type, flags, length)
//! and the fourteen message types, each decoded into and encoded from a
//! [`Message`].
//!
//! One message per SCTP message (PPID [`crate::PPID_ASAP`]): [`Message::decode`]
//! takes the bytes of one received SCTP message. Where rsplib 3.4.4 (the
//! registrar and library Debian ships) departs from the RFC, the decoder
//! accepts both and the encoder writes what rsplib writes:
//!
//! * Endpoint Keep Alive carries, after the pool handle, the PE identifier
//!   of the registration it checks (rsplib's "custom parameter"; optional
//!   here).
//! * Handle Resolution may carry rsplib's Handle Resolution Option (how
//!   many PEs the pool user wants).
//! * A Handle Resolution Response for a pool the registrar does not know
//!   carries an Operation Error (Unknown Pool Handle) and no flag.
//! * Business Card carries a pool member selection policy parameter
//!   between the pool handle and the PEs (optional here).

use crate::error::{Error, Item};
use crate::params::{
    self, cookie_from_raw, decode_u32, encode_cookie, encode_u32, is_transport, param_type as pt,
    OperationError, Policy, PoolElement, PoolHandle, Transport,
};
use crate::tlv::{be16, be32, padding, Reader, HEADER_LEN};

/// ASAP message types (RFC 5352).
pub mod message_type {
    pub const REGISTRATION: u8 = 0x01;
    pub const DEREGISTRATION: u8 = 0x02;
    pub const REGISTRATION_RESPONSE: u8 = 0x03;
    pub const DEREGISTRATION_RESPONSE: u8 = 0x04;
    pub const HANDLE_RESOLUTION: u8 = 0x05;
    pub const HANDLE_RESOLUTION_RESPONSE: u8 = 0x06;
    pub const ENDPOINT_KEEP_ALIVE: u8 = 0x07;
    pub const ENDPOINT_KEEP_ALIVE_ACK: u8 = 0x08;
    pub const ENDPOINT_UNREACHABLE: u8 = 0x09;
    pub const SERVER_ANNOUNCE: u8 = 0x0a;
    pub const COOKIE: u8 = 0x0b;
    pub const COOKIE_ECHO: u8 = 0x0c;
    pub const BUSINESS_CARD: u8 = 0x0d;
    pub const ERROR: u8 = 0x0e;
}

use message_type as mt;

/// The R (reject) flag of a Registration Response.
pub const FLAG_REJECT: u8 = 0x01;
/// The H (home) flag of an Endpoint Keep Alive: the sending registrar
/// wants to become the PE's home ENRP server.
pub const FLAG_HOME: u8 = 0x01;

/// An ASAP message. Flags other than R and H are reserved: ignored when
/// decoding, written as 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// PE -> registrar: register, or re-register (same identifier), `element`.
    Registration {
        pool_handle: PoolHandle,
        element: PoolElement,
    },
    /// PE -> registrar.
    Deregistration {
        pool_handle: PoolHandle,
        identifier: u32,
    },
    /// Registrar -> PE. A rejection sets `reject` and says why in `error`.
    RegistrationResponse {
        reject: bool,
        pool_handle: PoolHandle,
        identifier: u32,
        error: Option<OperationError>,
    },
    /// Registrar -> PE.
    DeregistrationResponse {
        pool_handle: PoolHandle,
        identifier: u32,
        error: Option<OperationError>,
    },
    /// PU -> registrar. `items`: rsplib's Handle Resolution Option, the
    /// number of PEs wanted (0xffffffff: all the registrar gives).
    HandleResolution {
        pool_handle: PoolHandle,
        items: Option<u32>,
    },
    /// Registrar -> PU: the pool's policy and some of its PEs, or an error.
    HandleResolutionResponse {
        pool_handle: PoolHandle,
        policy: Option<Policy>,
        elements: Vec<PoolElement>,
        error: Option<OperationError>,
    },
    /// Registrar -> PE: "are you alive?". `identifier`: rsplib's addition,
    /// the PE asked about.
    EndpointKeepAlive {
        home: bool,
        server_id: u32,
        pool_handle: PoolHandle,
        identifier: Option<u32>,
    },
    /// PE -> registrar.
    EndpointKeepAliveAck {
        pool_handle: PoolHandle,
        identifier: u32,
    },
    /// PU -> registrar: this PE did not answer.
    EndpointUnreachable {
        pool_handle: PoolHandle,
        identifier: u32,
    },
    /// Registrar -> multicast: "I am here".
    ServerAnnounce {
        server_id: u32,
        transports: Vec<Transport>,
    },
    /// PE -> PU: state to hand to the next PE on failover.
    Cookie(Vec<u8>),
    /// PU -> new PE: the last cookie of the failed PE.
    CookieEcho(Vec<u8>),
    /// PE <-> PU: which pool the sender belongs to, and failover targets.
    BusinessCard {
        pool_handle: PoolHandle,
        policy: Option<Policy>,
        elements: Vec<PoolElement>,
    },
    /// Either direction: something went wrong with a message received.
    Error(OperationError),
}

/// A decoded message and the parameters the decoder skipped whose action
/// bits (11) ask for a report (RFC 5354): the receiver should send
/// each back in an Unrecognized Parameter error cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub message: Message,
    pub unrecognized: Vec<Vec<u8>>,
}

fn ph(r: &mut Reader<'_, '_>) -> Result<PoolHandle, Error> {
    PoolHandle::from_raw(r.require(pt::POOL_HANDLE)?)
}

fn pe_id(r: &mut Reader<'_, '_>) -> Result<u32, Error> {
    decode_u32(r.require(pt::PE_IDENTIFIER)?)
}

fn opt_error(r: &mut Reader<'_, '_>) -> Result<Option<OperationError>, Error> {
    r.take(pt::OPERATION_ERROR)?
        .map(OperationError::from_raw)
        .transpose()
}

fn opt_policy(r: &mut Reader<'_, '_>) -> Result<Option<Policy>, Error> {
    r.take(pt::POOL_MEMBER_SELECTION_POLICY)?
        .map(|p| Policy::decode_value(p.value))
        .transpose()
}

fn elements(r: &mut Reader<'_, '_>) -> Result<Vec<PoolElement>, Error> {
    let mut v = Vec::new();
    while let Some(p) = r.take(pt::POOL_ELEMENT)? {
        v.push(PoolElement::decode_value(p.value, r.report())?);
    }
    Ok(v)
}

impl Message {
    /// The message type on the wire.
    pub fn message_type(&self) -> u8 {
        match self {
            Message::Registration { .. } => mt::REGISTRATION,
            Message::Deregistration { .. } => mt::DEREGISTRATION,
            Message::RegistrationResponse { .. } => mt::REGISTRATION_RESPONSE,
            Message::DeregistrationResponse { .. } => mt::DEREGISTRATION_RESPONSE,
            Message::HandleResolution { .. } => mt::HANDLE_RESOLUTION,
            Message::HandleResolutionResponse { .. } => mt::HANDLE_RESOLUTION_RESPONSE,
            Message::EndpointKeepAlive { .. } => mt::ENDPOINT_KEEP_ALIVE,
            Message::EndpointKeepAliveAck { .. } => mt::ENDPOINT_KEEP_ALIVE_ACK,
            Message::EndpointUnreachable { .. } => mt::ENDPOINT_UNREACHABLE,
            Message::ServerAnnounce { .. } => mt::SERVER_ANNOUNCE,
            Message::Cookie(_) => mt::COOKIE,
            Message::CookieEcho(_) => mt::COOKIE_ECHO,
            Message::BusinessCard { .. } => mt::BUSINESS_CARD,
            Message::Error(_) => mt::ERROR,
        }
    }

    /// The flags byte on the wire.
    pub fn flags(&self) -> u8 {
        match self {
            Message::RegistrationResponse { reject: true, .. } => FLAG_REJECT,
            Message::EndpointKeepAlive { home: true, .. } => FLAG_HOME,
            _ => 0,
        }
    }

    /// The message's name as RFC 5352 writes it.
    pub fn name(&self) -> &'static str {
        type_name(self.message_type()).unwrap_or("ASAP_UNKNOWN")
    }

    /// Decodes one ASAP message: `buf` is exactly the bytes of one SCTP
    /// message (the message and at most 3 zero bytes of padding).
    pub fn decode(buf: &[u8]) -> Result<Message, Error> {
        Self::decode_reporting(buf).map(|d| d.message)
    }

    /// Like [`Message::decode`], and also returns the skipped parameters
    /// that ask to be reported.
    pub fn decode_reporting(buf: &[u8]) -> Result<Decoded, Error> {
        if buf.len() < HEADER_LEN {
            return Err(Error::Truncated {
                what: Item::Message(buf.first().copied().unwrap_or(0)),
                need: HEADER_LEN,
                have: buf.len(),
            });
        }
        let ty = buf[0];
        let flags = buf[1];
        let len = usize::from(be16(buf, 2));
        let what = Item::Message(ty);
        if type_name(ty).is_none() {
            return Err(Error::UnknownMessageType(ty));
        }
        if len < HEADER_LEN {
            return Err(Error::BadLength { what, length: len });
        }
        if len > buf.len() {
            return Err(Error::Truncated {
                what,
                need: len,
                have: buf.len(),
            });
        }
        let trailing = &buf[len..];
        if trailing.len() > padding(len) {
            return Err(Error::TrailingBytes {
                length: len,
                actual: buf.len(),
            });
        }
        if trailing.iter().any(|&b| b != 0) {
            return Err(Error::BadPadding { what });
        }
        let mut body = &buf[HEADER_LEN..len];
        // Keep Alive and Server Announce start with a server identifier.
        let mut server_id = 0;
        if ty == mt::ENDPOINT_KEEP_ALIVE || ty == mt::SERVER_ANNOUNCE {
            if body.len() < 4 {
                return Err(Error::BadValueLength {
                    what,
                    length: body.len(),
                });
            }
            server_id = be32(body, 0);
            body = &body[4..];
        }
        let mut unrecognized = Vec::new();
        let mut r = Reader::new(body, what, &mut unrecognized);
        let message = match ty {
            mt::REGISTRATION => {
                let pool_handle = ph(&mut r)?;
                let p = r.require(pt::POOL_ELEMENT)?;
                let element = PoolElement::decode_value(p.value, r.report())?;
                Message::Registration {
                    pool_handle,
                    element,
                }
            }
            mt::DEREGISTRATION => Message::Deregistration {
                pool_handle: ph(&mut r)?,
                identifier: pe_id(&mut r)?,
            },
            mt::REGISTRATION_RESPONSE => Message::RegistrationResponse {
                reject: flags & FLAG_REJECT != 0,
                pool_handle: ph(&mut r)?,
                identifier: pe_id(&mut r)?,
                error: opt_error(&mut r)?,
            },
            mt::DEREGISTRATION_RESPONSE => Message::DeregistrationResponse {
                pool_handle: ph(&mut r)?,
                identifier: pe_id(&mut r)?,
                error: opt_error(&mut r)?,
            },
            mt::HANDLE_RESOLUTION => Message::HandleResolution {
                pool_handle: ph(&mut r)?,
                items: r
                    .take(pt::HANDLE_RESOLUTION_OPTION)?
                    .map(decode_u32)
                    .transpose()?,
            },
            mt::HANDLE_RESOLUTION_RESPONSE => Message::HandleResolutionResponse {
                pool_handle: ph(&mut r)?,
                policy: opt_policy(&mut r)?,
                elements: elements(&mut r)?,
                error: opt_error(&mut r)?,
            },
            mt::ENDPOINT_KEEP_ALIVE => Message::EndpointKeepAlive {
                home: flags & FLAG_HOME != 0,
                server_id,
                pool_handle: ph(&mut r)?,
                identifier: r.take(pt::PE_IDENTIFIER)?.map(decode_u32).transpose()?,
            },
            mt::ENDPOINT_KEEP_ALIVE_ACK => Message::EndpointKeepAliveAck {
                pool_handle: ph(&mut r)?,
                identifier: pe_id(&mut r)?,
            },
            mt::ENDPOINT_UNREACHABLE => Message::EndpointUnreachable {
                pool_handle: ph(&mut r)?,
                identifier: pe_id(&mut r)?,
            },
            mt::SERVER_ANNOUNCE => {
                let mut transports = Vec::new();
                while let Some(p) = r.take_if(is_transport)? {
                    transports.push(Transport::decode(p, r.report())?);
                }
                Message::ServerAnnounce {
                    server_id,
                    transports,
                }
            }
            mt::COOKIE => Message::Cookie(cookie_from_raw(r.require(pt::COOKIE)?)?),
            mt::COOKIE_ECHO => Message::CookieEcho(cookie_from_raw(r.require(pt::COOKIE)?)?),
            mt::BUSINESS_CARD => {
                let pool_handle = ph(&mut r)?;
                let policy = opt_policy(&mut r)?;
                let elements = elements(&mut r)?;
                if elements.is_empty() {
                    return Err(Error::MissingParameter {
                        param_type: pt::POOL_ELEMENT,
                        within: what,
                    });
                }
                Message::BusinessCard {
                    pool_handle,
                    policy,
                    elements,
                }
            }
            _ => Message::Error(OperationError::from_raw(r.require(pt::OPERATION_ERROR)?)?),
        };
        r.finish()?;
        Ok(Decoded {
            message,
            unrecognized,
        })
    }

    /// Appends the encoded message to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        let ty = self.message_type();
        out.extend_from_slice(&[ty, self.flags(), 0, 0]);
        let r = self.encode_body(out);
        if let Err(e) = r {
            out.truncate(start);
            return Err(e);
        }
        let len = out.len() - start;
        let Ok(field) = u16::try_from(len) else {
            out.truncate(start);
            return Err(Error::TooLong {
                what: Item::Message(ty),
                length: len,
            });
        };
        out[start + 2..start + 4].copy_from_slice(&field.to_be_bytes());
        Ok(())
    }

    /// The encoded message.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }

    fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        match self {
            Message::Registration {
                pool_handle,
                element,
            } => {
                pool_handle.encode(out)?;
                element.encode(out)
            }
            Message::Deregistration {
                pool_handle,
                identifier,
            }
            | Message::EndpointKeepAliveAck {
                pool_handle,
                identifier,
            }
            | Message::EndpointUnreachable {
                pool_handle,
                identifier,
            } => {
                pool_handle.encode(out)?;
                encode_u32(out, pt::PE_IDENTIFIER, *identifier)
            }
            Message::RegistrationResponse {
                pool_handle,
                identifier,
                error,
                ..
            }
            | Message::DeregistrationResponse {
                pool_handle,
                identifier,
                error,
            } => {
                pool_handle.encode(out)?;
                encode_u32(out, pt::PE_IDENTIFIER, *identifier)?;
                if let Some(e) = error {
                    e.encode(out)?;
                }
                Ok(())
            }
            Message::HandleResolution { pool_handle, items } => {
                pool_handle.encode(out)?;
                if let Some(n) = items {
                    encode_u32(out, pt::HANDLE_RESOLUTION_OPTION, *n)?;
                }
                Ok(())
            }
            Message::HandleResolutionResponse {
                pool_handle,
                policy,
                elements,
                error,
            } => {
                pool_handle.encode(out)?;
                if let Some(p) = policy {
                    p.encode(out)?;
                }
                for e in elements {
                    e.encode(out)?;
                }
                if let Some(e) = error {
                    e.encode(out)?;
                }
                Ok(())
            }
            Message::EndpointKeepAlive {
                server_id,
                pool_handle,
                identifier,
                ..
            } => {
                out.extend_from_slice(&server_id.to_be_bytes());
                pool_handle.encode(out)?;
                if let Some(id) = identifier {
                    encode_u32(out, pt::PE_IDENTIFIER, *id)?;
                }
                Ok(())
            }
            Message::ServerAnnounce {
                server_id,
                transports,
            } => {
                out.extend_from_slice(&server_id.to_be_bytes());
                for t in transports {
                    t.encode(out)?;
                }
                Ok(())
            }
            Message::Cookie(c) | Message::CookieEcho(c) => encode_cookie(out, c),
            Message::BusinessCard {
                pool_handle,
                policy,
                elements,
            } => {
                if elements.is_empty() {
                    return Err(Error::MissingParameter {
                        param_type: pt::POOL_ELEMENT,
                        within: Item::Message(mt::BUSINESS_CARD),
                    });
                }
                pool_handle.encode(out)?;
                if let Some(p) = policy {
                    p.encode(out)?;
                }
                for e in elements {
                    e.encode(out)?;
                }
                Ok(())
            }
            Message::Error(e) => e.encode(out),
        }
    }
}

/// The RFC 5352 name of a message type, `None` for types ASAP does not
/// define.
pub fn type_name(ty: u8) -> Option<&'static str> {
    Some(match ty {
        mt::REGISTRATION => "ASAP_REGISTRATION",
        mt::DEREGISTRATION => "ASAP_DEREGISTRATION",
        mt::REGISTRATION_RESPONSE => "ASAP_REGISTRATION_RESPONSE",
        mt::DEREGISTRATION_RESPONSE => "ASAP_DEREGISTRATION_RESPONSE",
        mt::HANDLE_RESOLUTION => "ASAP_HANDLE_RESOLUTION",
        mt::HANDLE_RESOLUTION_RESPONSE => "ASAP_HANDLE_RESOLUTION_RESPONSE",
        mt::ENDPOINT_KEEP_ALIVE => "ASAP_ENDPOINT_KEEP_ALIVE",
        mt::ENDPOINT_KEEP_ALIVE_ACK => "ASAP_ENDPOINT_KEEP_ALIVE_ACK",
        mt::ENDPOINT_UNREACHABLE => "ASAP_ENDPOINT_UNREACHABLE",
        mt::SERVER_ANNOUNCE => "ASAP_SERVER_ANNOUNCE",
        mt::COOKIE => "ASAP_COOKIE",
        mt::COOKIE_ECHO => "ASAP_COOKIE_ECHO",
        mt::BUSINESS_CARD => "ASAP_BUSINESS_CARD",
        mt::ERROR => "ASAP_ERROR",
        _ => return None,
    })
}

/// An ASAP Error message answering a message of unknown type (RFC 5352:
/// an Unrecognized Message cause carrying the message).
pub fn unrecognized_message_error(message: &[u8]) -> Message {
    Message::Error(OperationError {
        causes: vec![params::ErrorCause::unrecognized_message(message)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{CauseCode, ErrorCause, TransportUse};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    fn element(id: u32, policy: Policy) -> PoolElement {
        PoolElement {
            identifier: id,
            home_server: 0x5e5e_0001,
            registration_life: 30_000,
            user_transport: Transport::Sctp {
                port: 8080,
                transport_use: TransportUse::DataPlusControl,
                addresses: vec![
                    IpAddr::V4(Ipv4Addr::new(192, 168, 77, 1)),
                    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
                ],
            },
            policy,
            asap_transport: None,
        }
    }

    /// One message of each type, flags and optional parts exercised.
    pub(crate) fn samples() -> Vec<Message> {
        let h = PoolHandle::from("EchoPool");
        vec![
            Message::Registration {
                pool_handle: h.clone(),
                element: element(1, Policy::WeightedRoundRobin { weight: 2 }),
            },
            Message::Deregistration {
                pool_handle: h.clone(),
                identifier: 1,
            },
            Message::RegistrationResponse {
                reject: false,
                pool_handle: h.clone(),
                identifier: 1,
                error: None,
            },
            Message::RegistrationResponse {
                reject: true,
                pool_handle: h.clone(),
                identifier: 2,
                error: Some(OperationError::new(CauseCode::InconsistentPoolingPolicy)),
            },
            Message::DeregistrationResponse {
                pool_handle: h.clone(),
                identifier: 1,
                error: Some(OperationError::new(CauseCode::LackOfResources)),
            },
            Message::HandleResolution {
                pool_handle: h.clone(),
                items: None,
            },
            Message::HandleResolution {
                pool_handle: h.clone(),
                items: Some(u32::MAX),
            },
            Message::HandleResolutionResponse {
                pool_handle: h.clone(),
                policy: Some(Policy::LeastUsed { load: 7 }),
                elements: vec![
                    element(1, Policy::LeastUsed { load: 7 }),
                    element(2, Policy::LeastUsed { load: 9 }),
                ],
                error: None,
            },
            Message::EndpointKeepAlive {
                home: true,
                server_id: 0x5e5e_0001,
                pool_handle: h.clone(),
                identifier: None,
            },
            Message::EndpointKeepAlive {
                home: false,
                server_id: 7,
                pool_handle: h.clone(),
                identifier: Some(3),
            },
            Message::EndpointKeepAliveAck {
                pool_handle: h.clone(),
                identifier: 3,
            },
            Message::EndpointUnreachable {
                pool_handle: h.clone(),
                identifier: 4,
            },
            Message::ServerAnnounce {
                server_id: 0x5e5e_0001,
                transports: vec![],
            },
            Message::ServerAnnounce {
                server_id: 9,
                transports: vec![
                    Transport::Sctp {
                        port: 3863,
                        transport_use: TransportUse::DataOnly,
                        addresses: vec![IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1))],
                    },
                    Transport::Udp {
                        port: 3863,
                        address: IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1)),
                    },
                ],
            },
            Message::Cookie(b"calc state".to_vec()),
            Message::CookieEcho(vec![0; 13]),
            Message::BusinessCard {
                pool_handle: h.clone(),
                policy: Some(Policy::RoundRobin),
                elements: vec![element(5, Policy::RoundRobin)],
            },
            Message::BusinessCard {
                pool_handle: h,
                policy: None,
                elements: vec![element(5, Policy::Random), element(6, Policy::Random)],
            },
            Message::Error(OperationError {
                causes: vec![
                    ErrorCause::unrecognized_parameter(&[0x40, 0x42, 0, 5, 1]),
                    ErrorCause::new(CauseCode::Other(0xf005)),
                ],
            }),
        ]
    }

    #[test]
    fn every_message_type_round_trips() {
        let mut seen = std::collections::BTreeSet::new();
        for m in samples() {
            let b = m.to_bytes().unwrap();
            assert_eq!(b.len() % 4, 0, "{m:?}");
            assert_eq!(usize::from(be16(&b, 2)), b.len());
            assert_eq!((b[0], b[1]), (m.message_type(), m.flags()));
            assert_eq!(Message::decode(&b), Ok(m.clone()), "{}", m.name());
            seen.insert(m.message_type());
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            (1..=14).collect::<Vec<u8>>()
        );
    }

    #[test]
    fn every_strict_prefix_is_an_error() {
        for m in samples() {
            let b = m.to_bytes().unwrap();
            for n in 0..b.len() {
                assert!(Message::decode(&b[..n]).is_err(), "{} cut at {n}", m.name());
            }
        }
    }

    #[test]
    fn reserved_flags_are_ignored() {
        let m = Message::Deregistration {
            pool_handle: PoolHandle::from("P"),
            identifier: 1,
        };
        let mut b = m.to_bytes().unwrap();
        b[1] = 0xff;
        assert_eq!(Message::decode(&b), Ok(m));
        // Only bit 0 is the reject flag.
        let m = Message::RegistrationResponse {
            reject: false,
            pool_handle: PoolHandle::from("P"),
            identifier: 1,
            error: None,
        };
        let mut b = m.to_bytes().unwrap();
        b[1] = 0xfe;
        assert_eq!(Message::decode(&b), Ok(m));
    }

    #[test]
    fn header_errors() {
        assert_eq!(
            Message::decode(&[1, 0]),
            Err(Error::Truncated {
                what: Item::Message(1),
                need: 4,
                have: 2
            })
        );
        assert_eq!(
            Message::decode(&[]).unwrap_err().to_string(),
            "message type 0x00 truncated: 4 bytes announced, 0 present"
        );
        assert_eq!(
            Message::decode(&[0, 0, 0, 4]),
            Err(Error::UnknownMessageType(0))
        );
        assert_eq!(
            Message::decode(&[2, 0, 0, 3]),
            Err(Error::BadLength {
                what: Item::Message(2),
                length: 3
            })
        );
        assert_eq!(
            Message::decode(&[2, 0, 0, 8, 0, 9]),
            Err(Error::Truncated {
                what: Item::Message(2),
                need: 8,
                have: 6
            })
        );
        let m = Message::Cookie(vec![1, 2, 3]);
        let mut b = m.to_bytes().unwrap();
        // A message length without the final padding is fine...
        b[3] -= 1;
        assert_eq!(Message::decode(&b), Ok(m.clone()));
        // ... non-zero padding is not, nor are more bytes than padding.
        let last = b.len() - 1;
        b[last] = 1;
        assert_eq!(
            Message::decode(&b),
            Err(Error::BadPadding {
                what: Item::Message(mt::COOKIE)
            })
        );
        let mut b = m.to_bytes().unwrap();
        b.extend_from_slice(&[0; 4]);
        assert_eq!(
            Message::decode(&b),
            Err(Error::TrailingBytes {
                length: 12,
                actual: 16
            })
        );
        // Keep Alive needs its server identifier.
        assert_eq!(
            Message::decode(&[7, 0, 0, 6, 0, 1]),
            Err(Error::BadValueLength {
                what: Item::Message(7),
                length: 2
            })
        );
    }

    #[test]
    fn parameter_errors() {
        let h = PoolHandle::from("P");
        let mut handle = Vec::new();
        h.encode(&mut handle).unwrap();
        let with = |ty: u8, params: &[&[u8]]| {
            let mut b = vec![ty, 0, 0, 0];
            for p in params {
                b.extend_from_slice(p);
            }
            let n = b.len() as u16;
            b[2..4].copy_from_slice(&n.to_be_bytes());
            b
        };
        let id = [0, 0x0e, 0, 8, 0, 0, 0, 1];
        // Missing PE identifier.
        assert_eq!(
            Message::decode(&with(mt::DEREGISTRATION, &[&handle])),
            Err(Error::MissingParameter {
                param_type: pt::PE_IDENTIFIER,
                within: Item::Message(mt::DEREGISTRATION)
            })
        );
        // Parameters out of order.
        assert_eq!(
            Message::decode(&with(mt::DEREGISTRATION, &[&id, &handle])),
            Err(Error::MissingParameter {
                param_type: pt::POOL_HANDLE,
                within: Item::Message(mt::DEREGISTRATION)
            })
        );
        // One parameter too many.
        assert_eq!(
            Message::decode(&with(mt::DEREGISTRATION, &[&handle, &id, &id])),
            Err(Error::UnexpectedParameter {
                param_type: pt::PE_IDENTIFIER,
                within: Item::Message(mt::DEREGISTRATION)
            })
        );
        // A Business Card needs a PE.
        assert_eq!(
            Message::decode(&with(mt::BUSINESS_CARD, &[&handle])),
            Err(Error::MissingParameter {
                param_type: pt::POOL_ELEMENT,
                within: Item::Message(mt::BUSINESS_CARD)
            })
        );
        // Skippable unknown parameters anywhere; the "report" ones are
        // returned.
        let skip = [0x80, 0x99, 0, 6, 1, 2, 0, 0];
        let skip_report = [0xc0, 0x99, 0, 4];
        let d = Message::decode_reporting(&with(
            mt::DEREGISTRATION,
            &[&skip, &handle, &skip_report, &id, &skip],
        ))
        .unwrap();
        assert_eq!(
            d.message,
            Message::Deregistration {
                pool_handle: h,
                identifier: 1
            }
        );
        assert_eq!(d.unrecognized, vec![skip_report.to_vec()]);
        // The handle resolution option is skipped where it has no place.
        let hro = [0x80, 0x3f, 0, 8, 0, 0, 0, 1];
        assert!(Message::decode(&with(mt::DEREGISTRATION, &[&handle, &hro, &id])).is_ok());
    }

    #[test]
    fn encode_refuses_oversized_and_invalid() {
        let m = Message::Cookie(vec![0; 65_528]);
        let mut out = vec![9];
        assert_eq!(
            m.encode(&mut out),
            Err(Error::TooLong {
                what: Item::Message(mt::COOKIE),
                length: 65_536
            })
        );
        assert_eq!(out, [9], "nothing left behind");
        assert!(Message::Cookie(vec![0; 65_524]).to_bytes().is_ok());
        let m = Message::BusinessCard {
            pool_handle: PoolHandle::from("P"),
            policy: None,
            elements: vec![],
        };
        assert!(m.to_bytes().is_err());
        assert!(Message::Cookie(vec![]).to_bytes().is_err());
    }

    #[test]
    fn names() {
        assert_eq!(samples()[0].name(), "ASAP_REGISTRATION");
        assert_eq!(type_name(0x0e), Some("ASAP_ERROR"));
        assert_eq!(type_name(0x0f), None);
    }
}
