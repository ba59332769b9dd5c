//! The common parameters of ASAP and ENRP (RFC 5354): addresses, transport
//! parameters, the pool member selection policy (with the policy types of
//! RFC 5356 and rsplib's own), pool handle, pool element, server
//! information, operation error with its causes, cookie, PE identifier,
//! PE checksum, and rsplib's handle resolution option.
//!
//! Each type decodes from and encodes to the value of its parameter; the
//! TLV framing and the unrecognised-parameter rules are in [`crate::tlv`].
//! [`Parameter`] decodes any single parameter.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Item};
use crate::tlv::{self, be16, be32, put_item, put_tlv, read_item, RawParam, Reader, HEADER_LEN};

/// Parameter types (RFC 5354; 0x803f from rsplib and
/// draft-dreibholz-rserpool-asap-hropt).
pub mod param_type {
    pub const IPV4_ADDRESS: u16 = 0x0001;
    pub const IPV6_ADDRESS: u16 = 0x0002;
    pub const DCCP_TRANSPORT: u16 = 0x0003;
    pub const SCTP_TRANSPORT: u16 = 0x0004;
    pub const TCP_TRANSPORT: u16 = 0x0005;
    pub const UDP_TRANSPORT: u16 = 0x0006;
    pub const UDP_LITE_TRANSPORT: u16 = 0x0007;
    pub const POOL_MEMBER_SELECTION_POLICY: u16 = 0x0008;
    pub const POOL_HANDLE: u16 = 0x0009;
    pub const POOL_ELEMENT: u16 = 0x000a;
    pub const SERVER_INFORMATION: u16 = 0x000b;
    pub const OPERATION_ERROR: u16 = 0x000c;
    pub const COOKIE: u16 = 0x000d;
    pub const PE_IDENTIFIER: u16 = 0x000e;
    pub const PE_CHECKSUM: u16 = 0x000f;
    /// Handle Resolution Option: rsplib's extension of the Handle
    /// Resolution message (how many PEs the pool user wants). Its action
    /// bits (10) make receivers that do not know it skip it.
    pub const HANDLE_RESOLUTION_OPTION: u16 = 0x803f;
}

use param_type as pt;

/// Whether this crate knows the parameter type (full 16 bits, action bits
/// included: RFC 5354 defines the types with the bits 00).
pub fn is_known(ty: u16) -> bool {
    (pt::IPV4_ADDRESS..=pt::PE_CHECKSUM).contains(&ty) || ty == pt::HANDLE_RESOLUTION_OPTION
}

fn is_address(ty: u16) -> bool {
    ty == pt::IPV4_ADDRESS || ty == pt::IPV6_ADDRESS
}

/// Whether `ty` is one of the five transport parameter types.
pub fn is_transport(ty: u16) -> bool {
    (pt::DCCP_TRANSPORT..=pt::UDP_LITE_TRANSPORT).contains(&ty)
}

fn exact(value: &[u8], ty: u16, len: usize) -> Result<(), Error> {
    if value.len() == len {
        Ok(())
    } else {
        Err(Error::BadValueLength {
            what: Item::Parameter(ty),
            length: value.len(),
        })
    }
}

fn at_least(value: &[u8], ty: u16, len: usize) -> Result<(), Error> {
    if value.len() >= len {
        Ok(())
    } else {
        Err(Error::BadValueLength {
            what: Item::Parameter(ty),
            length: value.len(),
        })
    }
}

fn decode_address(p: RawParam<'_>) -> Result<IpAddr, Error> {
    match p.param_type {
        pt::IPV4_ADDRESS => {
            exact(p.value, pt::IPV4_ADDRESS, 4)?;
            Ok(IpAddr::V4(Ipv4Addr::new(
                p.value[0], p.value[1], p.value[2], p.value[3],
            )))
        }
        _ => {
            exact(p.value, pt::IPV6_ADDRESS, 16)?;
            let mut a = [0u8; 16];
            a.copy_from_slice(p.value);
            Ok(IpAddr::V6(Ipv6Addr::from(a)))
        }
    }
}

fn put_address(out: &mut Vec<u8>, addr: &IpAddr) -> Result<(), Error> {
    match addr {
        IpAddr::V4(a) => put_tlv(out, pt::IPV4_ADDRESS, |o| {
            o.extend_from_slice(&a.octets());
            Ok(())
        }),
        IpAddr::V6(a) => put_tlv(out, pt::IPV6_ADDRESS, |o| {
            o.extend_from_slice(&a.octets());
            Ok(())
        }),
    }
}

/// Transport Use of the SCTP and TCP transport parameters: whether the
/// pool element takes ASAP control traffic (cookies, business cards) on
/// its data transport address too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportUse {
    /// 0x0000
    DataOnly,
    /// 0x0001
    DataPlusControl,
}

impl TransportUse {
    fn decode(v: u16, ty: u16) -> Result<Self, Error> {
        match v {
            0 => Ok(TransportUse::DataOnly),
            1 => Ok(TransportUse::DataPlusControl),
            _ => Err(Error::InvalidValue {
                what: Item::Parameter(ty),
                reason: "transport use is neither 0 (data only) nor 1 (data plus control)",
            }),
        }
    }

    fn to_u16(self) -> u16 {
        match self {
            TransportUse::DataOnly => 0,
            TransportUse::DataPlusControl => 1,
        }
    }
}

/// A transport parameter (RFC 5354): a port and the
/// address(es) of a pool element or server. SCTP may carry several
/// addresses (multihoming); the others exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    Sctp {
        port: u16,
        transport_use: TransportUse,
        addresses: Vec<IpAddr>,
    },
    Tcp {
        port: u16,
        transport_use: TransportUse,
        address: IpAddr,
    },
    Udp {
        port: u16,
        address: IpAddr,
    },
    UdpLite {
        port: u16,
        address: IpAddr,
    },
    Dccp {
        port: u16,
        service_code: u32,
        address: IpAddr,
    },
}

impl Transport {
    /// The parameter type.
    pub fn param_type(&self) -> u16 {
        match self {
            Transport::Sctp { .. } => pt::SCTP_TRANSPORT,
            Transport::Tcp { .. } => pt::TCP_TRANSPORT,
            Transport::Udp { .. } => pt::UDP_TRANSPORT,
            Transport::UdpLite { .. } => pt::UDP_LITE_TRANSPORT,
            Transport::Dccp { .. } => pt::DCCP_TRANSPORT,
        }
    }

    pub fn port(&self) -> u16 {
        match self {
            Transport::Sctp { port, .. }
            | Transport::Tcp { port, .. }
            | Transport::Udp { port, .. }
            | Transport::UdpLite { port, .. }
            | Transport::Dccp { port, .. } => *port,
        }
    }

    pub fn addresses(&self) -> &[IpAddr] {
        match self {
            Transport::Sctp { addresses, .. } => addresses,
            Transport::Tcp { address, .. }
            | Transport::Udp { address, .. }
            | Transport::UdpLite { address, .. }
            | Transport::Dccp { address, .. } => std::slice::from_ref(address),
        }
    }

    pub(crate) fn decode(p: RawParam<'_>, report: &mut Vec<Vec<u8>>) -> Result<Self, Error> {
        let ty = p.param_type;
        let fixed = if ty == pt::DCCP_TRANSPORT { 8 } else { 4 };
        at_least(p.value, ty, fixed)?;
        let port = be16(p.value, 0);
        let mut r = Reader::new(&p.value[fixed..], Item::Parameter(ty), report);
        let mut addresses = Vec::new();
        while let Some(a) = r.take_if(is_address)? {
            addresses.push(decode_address(a)?);
        }
        r.finish()?;
        if addresses.is_empty() {
            return Err(Error::InvalidValue {
                what: Item::Parameter(ty),
                reason: "transport parameter without an address",
            });
        }
        if ty != pt::SCTP_TRANSPORT && addresses.len() > 1 {
            return Err(Error::InvalidValue {
                what: Item::Parameter(ty),
                reason: "more than one address in a transport other than SCTP",
            });
        }
        Ok(match ty {
            pt::SCTP_TRANSPORT => Transport::Sctp {
                port,
                transport_use: TransportUse::decode(be16(p.value, 2), ty)?,
                addresses,
            },
            pt::TCP_TRANSPORT => Transport::Tcp {
                port,
                transport_use: TransportUse::decode(be16(p.value, 2), ty)?,
                address: addresses[0],
            },
            pt::UDP_TRANSPORT => Transport::Udp {
                port,
                address: addresses[0],
            },
            pt::UDP_LITE_TRANSPORT => Transport::UdpLite {
                port,
                address: addresses[0],
            },
            _ => Transport::Dccp {
                port,
                service_code: be32(p.value, 4),
                address: addresses[0],
            },
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let ty = self.param_type();
        if self.addresses().is_empty() {
            return Err(Error::InvalidValue {
                what: Item::Parameter(ty),
                reason: "transport parameter without an address",
            });
        }
        put_tlv(out, ty, |o| {
            o.extend_from_slice(&self.port().to_be_bytes());
            match self {
                Transport::Sctp { transport_use, .. } | Transport::Tcp { transport_use, .. } => {
                    o.extend_from_slice(&transport_use.to_u16().to_be_bytes())
                }
                Transport::Udp { .. } | Transport::UdpLite { .. } => o.extend_from_slice(&[0, 0]),
                Transport::Dccp { service_code, .. } => {
                    o.extend_from_slice(&[0, 0]);
                    o.extend_from_slice(&service_code.to_be_bytes());
                }
            }
            for a in self.addresses() {
                put_address(o, a)?;
            }
            Ok(())
        })
    }
}

/// Pool member selection policy types: RFC 5356's, then rsplib's
/// (experimental, 0xb000xxxx; in rsplib's `rserpool-policytypes.h`).
pub mod policy_type {
    pub const ROUND_ROBIN: u32 = 0x0000_0001;
    pub const WEIGHTED_ROUND_ROBIN: u32 = 0x0000_0002;
    pub const RANDOM: u32 = 0x0000_0003;
    pub const WEIGHTED_RANDOM: u32 = 0x0000_0004;
    pub const PRIORITY: u32 = 0x0000_0005;
    pub const LEAST_USED: u32 = 0x4000_0001;
    pub const LEAST_USED_DEGRADATION: u32 = 0x4000_0002;
    pub const PRIORITY_LEAST_USED: u32 = 0x4000_0003;
    pub const RANDOMIZED_LEAST_USED: u32 = 0x4000_0004;
    pub const RANDOMIZED_PRIORITY_LEAST_USED: u32 = 0xb000_1001;
    pub const RANDOMIZED_LEAST_USED_DEGRADATION: u32 = 0xb000_1002;
    pub const PRIORITY_LEAST_USED_DEGRADATION: u32 = 0xb000_1003;
    pub const RANDOMIZED_PRIORITY_LEAST_USED_DEGRADATION: u32 = 0xb000_1004;
    pub const WEIGHTED_RANDOM_DPF: u32 = 0xb000_2001;
    pub const LEAST_USED_DPF: u32 = 0xb000_2002;
    pub const LEAST_USED_DEGRADATION_DPF: u32 = 0xb000_2003;
}

use policy_type as ppt;

/// Full load, the 100 % of a 32-bit load or degradation value (RFC 5356:
/// 0 is 0 %, 0xffffffff is 100 %).
pub const MAX_LOAD: u32 = 0xffff_ffff;

/// The Pool Member Selection Policy parameter (RFC 5354, values of
/// RFC 5356): the policy a pool element registered with and its values.
/// Loads and degradations are fractions of [`MAX_LOAD`]; a DPF value is a
/// fraction of `u32::MAX` per unit of distance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Policy {
    RoundRobin,
    WeightedRoundRobin {
        weight: u32,
    },
    Random,
    WeightedRandom {
        weight: u32,
    },
    /// Higher values are preferred.
    Priority {
        priority: u32,
    },
    LeastUsed {
        load: u32,
    },
    /// `degradation` is added to the load the selector assumes each time
    /// it picks the PE, until the PE reports a new load.
    LeastUsedDegradation {
        load: u32,
        degradation: u32,
    },
    /// Load plus a fixed `degradation` decides.
    PriorityLeastUsed {
        load: u32,
        degradation: u32,
    },
    RandomizedLeastUsed {
        load: u32,
    },
    /// rsplib 0xb0001001.
    RandomizedPriorityLeastUsed {
        load: u32,
        degradation: u32,
    },
    /// rsplib 0xb0001002.
    RandomizedLeastUsedDegradation {
        load: u32,
        degradation: u32,
    },
    /// rsplib 0xb0001003.
    PriorityLeastUsedDegradation {
        load: u32,
        degradation: u32,
    },
    /// rsplib 0xb0001004.
    RandomizedPriorityLeastUsedDegradation {
        load: u32,
        degradation: u32,
    },
    /// rsplib 0xb0002001 (draft-dreibholz-rserpool-delay).
    WeightedRandomDpf {
        weight: u32,
        weight_dpf: u32,
        distance: u32,
    },
    /// rsplib 0xb0002002.
    LeastUsedDpf {
        load: u32,
        load_dpf: u32,
        distance: u32,
    },
    /// rsplib 0xb0002003.
    LeastUsedDegradationDpf {
        load: u32,
        degradation: u32,
        load_dpf: u32,
        distance: u32,
    },
    /// A policy type this crate does not know, with its data as received.
    Other {
        policy_type: u32,
        data: Vec<u8>,
    },
}

impl Policy {
    /// The 32-bit policy type on the wire.
    pub fn policy_type(&self) -> u32 {
        match self {
            Policy::RoundRobin => ppt::ROUND_ROBIN,
            Policy::WeightedRoundRobin { .. } => ppt::WEIGHTED_ROUND_ROBIN,
            Policy::Random => ppt::RANDOM,
            Policy::WeightedRandom { .. } => ppt::WEIGHTED_RANDOM,
            Policy::Priority { .. } => ppt::PRIORITY,
            Policy::LeastUsed { .. } => ppt::LEAST_USED,
            Policy::LeastUsedDegradation { .. } => ppt::LEAST_USED_DEGRADATION,
            Policy::PriorityLeastUsed { .. } => ppt::PRIORITY_LEAST_USED,
            Policy::RandomizedLeastUsed { .. } => ppt::RANDOMIZED_LEAST_USED,
            Policy::RandomizedPriorityLeastUsed { .. } => ppt::RANDOMIZED_PRIORITY_LEAST_USED,
            Policy::RandomizedLeastUsedDegradation { .. } => ppt::RANDOMIZED_LEAST_USED_DEGRADATION,
            Policy::PriorityLeastUsedDegradation { .. } => ppt::PRIORITY_LEAST_USED_DEGRADATION,
            Policy::RandomizedPriorityLeastUsedDegradation { .. } => {
                ppt::RANDOMIZED_PRIORITY_LEAST_USED_DEGRADATION
            }
            Policy::WeightedRandomDpf { .. } => ppt::WEIGHTED_RANDOM_DPF,
            Policy::LeastUsedDpf { .. } => ppt::LEAST_USED_DPF,
            Policy::LeastUsedDegradationDpf { .. } => ppt::LEAST_USED_DEGRADATION_DPF,
            Policy::Other { policy_type, .. } => *policy_type,
        }
    }

    /// The policy's name as rsplib spells it (`rspserver -policy=`), or
    /// `None` for [`Policy::Other`].
    pub fn name(&self) -> Option<&'static str> {
        Some(match self {
            Policy::RoundRobin => "RoundRobin",
            Policy::WeightedRoundRobin { .. } => "WeightedRoundRobin",
            Policy::Random => "Random",
            Policy::WeightedRandom { .. } => "WeightedRandom",
            Policy::Priority { .. } => "Priority",
            Policy::LeastUsed { .. } => "LeastUsed",
            Policy::LeastUsedDegradation { .. } => "LeastUsedDegradation",
            Policy::PriorityLeastUsed { .. } => "PriorityLeastUsed",
            Policy::RandomizedLeastUsed { .. } => "RandomizedLeastUsed",
            Policy::RandomizedPriorityLeastUsed { .. } => "RandomizedPriorityLeastUsed",
            Policy::RandomizedLeastUsedDegradation { .. } => "RandomizedLeastUsedDegradation",
            Policy::PriorityLeastUsedDegradation { .. } => "PriorityLeastUsedDegradation",
            Policy::RandomizedPriorityLeastUsedDegradation { .. } => {
                "RandomizedPriorityLeastUsedDegradation"
            }
            Policy::WeightedRandomDpf { .. } => "WeightedRandomDPF",
            Policy::LeastUsedDpf { .. } => "LeastUsedDPF",
            Policy::LeastUsedDegradationDpf { .. } => "LeastUsedDegradationDPF",
            Policy::Other { .. } => return None,
        })
    }

    /// The policy's values after the type, in wire order.
    fn values(&self) -> Vec<u32> {
        match self {
            Policy::RoundRobin | Policy::Random | Policy::Other { .. } => vec![],
            Policy::WeightedRoundRobin { weight } | Policy::WeightedRandom { weight } => {
                vec![*weight]
            }
            Policy::Priority { priority } => vec![*priority],
            Policy::LeastUsed { load } | Policy::RandomizedLeastUsed { load } => vec![*load],
            Policy::LeastUsedDegradation { load, degradation }
            | Policy::PriorityLeastUsed { load, degradation }
            | Policy::RandomizedPriorityLeastUsed { load, degradation }
            | Policy::RandomizedLeastUsedDegradation { load, degradation }
            | Policy::PriorityLeastUsedDegradation { load, degradation }
            | Policy::RandomizedPriorityLeastUsedDegradation { load, degradation } => {
                vec![*load, *degradation]
            }
            Policy::WeightedRandomDpf {
                weight,
                weight_dpf,
                distance,
            } => vec![*weight, *weight_dpf, *distance],
            Policy::LeastUsedDpf {
                load,
                load_dpf,
                distance,
            } => vec![*load, *load_dpf, *distance],
            Policy::LeastUsedDegradationDpf {
                load,
                degradation,
                load_dpf,
                distance,
            } => vec![*load, *degradation, *load_dpf, *distance],
        }
    }

    /// The number of 32-bit values after the type, for known types.
    fn value_count(policy_type: u32) -> Option<usize> {
        Some(match policy_type {
            ppt::ROUND_ROBIN | ppt::RANDOM => 0,
            ppt::WEIGHTED_ROUND_ROBIN
            | ppt::WEIGHTED_RANDOM
            | ppt::PRIORITY
            | ppt::LEAST_USED
            | ppt::RANDOMIZED_LEAST_USED => 1,
            ppt::LEAST_USED_DEGRADATION
            | ppt::PRIORITY_LEAST_USED
            | ppt::RANDOMIZED_PRIORITY_LEAST_USED
            | ppt::RANDOMIZED_LEAST_USED_DEGRADATION
            | ppt::PRIORITY_LEAST_USED_DEGRADATION
            | ppt::RANDOMIZED_PRIORITY_LEAST_USED_DEGRADATION => 2,
            ppt::WEIGHTED_RANDOM_DPF | ppt::LEAST_USED_DPF => 3,
            ppt::LEAST_USED_DEGRADATION_DPF => 4,
            _ => return None,
        })
    }

    /// Decodes the value of a Pool Member Selection Policy parameter. A
    /// known policy type must come with exactly its values.
    pub fn decode_value(value: &[u8]) -> Result<Self, Error> {
        let ty = pt::POOL_MEMBER_SELECTION_POLICY;
        at_least(value, ty, 4)?;
        let policy_type = be32(value, 0);
        let Some(n) = Self::value_count(policy_type) else {
            return Ok(Policy::Other {
                policy_type,
                data: value[4..].to_vec(),
            });
        };
        exact(value, ty, 4 + 4 * n)?;
        let v = |i: usize| be32(value, 4 + 4 * i);
        Ok(match policy_type {
            ppt::ROUND_ROBIN => Policy::RoundRobin,
            ppt::RANDOM => Policy::Random,
            ppt::WEIGHTED_ROUND_ROBIN => Policy::WeightedRoundRobin { weight: v(0) },
            ppt::WEIGHTED_RANDOM => Policy::WeightedRandom { weight: v(0) },
            ppt::PRIORITY => Policy::Priority { priority: v(0) },
            ppt::LEAST_USED => Policy::LeastUsed { load: v(0) },
            ppt::RANDOMIZED_LEAST_USED => Policy::RandomizedLeastUsed { load: v(0) },
            ppt::LEAST_USED_DEGRADATION => Policy::LeastUsedDegradation {
                load: v(0),
                degradation: v(1),
            },
            ppt::PRIORITY_LEAST_USED => Policy::PriorityLeastUsed {
                load: v(0),
                degradation: v(1),
            },
            ppt::RANDOMIZED_PRIORITY_LEAST_USED => Policy::RandomizedPriorityLeastUsed {
                load: v(0),
                degradation: v(1),
            },
            ppt::RANDOMIZED_LEAST_USED_DEGRADATION => Policy::RandomizedLeastUsedDegradation {
                load: v(0),
                degradation: v(1),
            },
            ppt::PRIORITY_LEAST_USED_DEGRADATION => Policy::PriorityLeastUsedDegradation {
                load: v(0),
                degradation: v(1),
            },
            ppt::RANDOMIZED_PRIORITY_LEAST_USED_DEGRADATION => {
                Policy::RandomizedPriorityLeastUsedDegradation {
                    load: v(0),
                    degradation: v(1),
                }
            }
            ppt::WEIGHTED_RANDOM_DPF => Policy::WeightedRandomDpf {
                weight: v(0),
                weight_dpf: v(1),
                distance: v(2),
            },
            ppt::LEAST_USED_DPF => Policy::LeastUsedDpf {
                load: v(0),
                load_dpf: v(1),
                distance: v(2),
            },
            _ => Policy::LeastUsedDegradationDpf {
                load: v(0),
                degradation: v(1),
                load_dpf: v(2),
                distance: v(3),
            },
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        put_tlv(out, pt::POOL_MEMBER_SELECTION_POLICY, |o| {
            o.extend_from_slice(&self.policy_type().to_be_bytes());
            for v in self.values() {
                o.extend_from_slice(&v.to_be_bytes());
            }
            if let Policy::Other { data, .. } = self {
                o.extend_from_slice(data);
            }
            Ok(())
        })
    }
}

/// A pool handle (RFC 5354): the name of a pool, a non-empty string
/// of bytes (rsplib limits it to 32 bytes; this crate does not).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolHandle(Vec<u8>);

impl PoolHandle {
    /// A pool handle; `None` if `bytes` is empty.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Option<Self> {
        let bytes = bytes.into();
        (!bytes.is_empty()).then_some(PoolHandle(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn decode_value(value: &[u8]) -> Result<Self, Error> {
        PoolHandle::new(value).ok_or(Error::InvalidValue {
            what: Item::Parameter(pt::POOL_HANDLE),
            reason: "empty pool handle",
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.0.is_empty() {
            return Err(Error::InvalidValue {
                what: Item::Parameter(pt::POOL_HANDLE),
                reason: "empty pool handle",
            });
        }
        put_tlv(out, pt::POOL_HANDLE, |o| {
            o.extend_from_slice(&self.0);
            Ok(())
        })
    }
}

impl From<&str> for PoolHandle {
    /// # Panics
    /// If `s` is empty.
    fn from(s: &str) -> Self {
        PoolHandle::new(s.as_bytes()).expect("a pool handle is not empty")
    }
}

impl fmt::Display for PoolHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

/// The Pool Element parameter (RFC 5354): one PE as registered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolElement {
    /// The PE identifier, chosen by the PE (rsplib: random, or
    /// `rspserver -identifier=`).
    pub identifier: u32,
    /// The identifier of the PE's home ENRP server (registrar); 0 until the
    /// PE has one (rsplib's first registration sends 0).
    pub home_server: u32,
    /// How long the registration lives, in milliseconds (RFC 5354 calls it
    /// a signed integer; rsplib an unsigned one).
    pub registration_life: u32,
    /// Where pool users reach the PE.
    pub user_transport: Transport,
    pub policy: Policy,
    /// The transport address the PE registered from; only in ENRP messages.
    pub asap_transport: Option<Transport>,
}

impl PoolElement {
    pub(crate) fn decode_value(value: &[u8], report: &mut Vec<Vec<u8>>) -> Result<Self, Error> {
        let ty = pt::POOL_ELEMENT;
        at_least(value, ty, 12)?;
        let mut r = Reader::new(&value[12..], Item::Parameter(ty), report);
        let user = r.take_if(is_transport)?.ok_or(Error::MissingParameter {
            param_type: pt::SCTP_TRANSPORT,
            within: Item::Parameter(ty),
        })?;
        let user_transport = Transport::decode(user, r.report())?;
        let policy = Policy::decode_value(r.require(pt::POOL_MEMBER_SELECTION_POLICY)?.value)?;
        let asap_transport = match r.take_if(is_transport)? {
            Some(p) => Some(Transport::decode(p, r.report())?),
            None => None,
        };
        r.finish()?;
        Ok(PoolElement {
            identifier: be32(value, 0),
            home_server: be32(value, 4),
            registration_life: be32(value, 8),
            user_transport,
            policy,
            asap_transport,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        put_tlv(out, pt::POOL_ELEMENT, |o| {
            o.extend_from_slice(&self.identifier.to_be_bytes());
            o.extend_from_slice(&self.home_server.to_be_bytes());
            o.extend_from_slice(&self.registration_life.to_be_bytes());
            self.user_transport.encode(o)?;
            self.policy.encode(o)?;
            if let Some(t) = &self.asap_transport {
                t.encode(o)?;
            }
            Ok(())
        })
    }
}

/// The Server Information parameter (RFC 5354): an ENRP server's
/// identifier and transport address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerInformation {
    pub server_id: u32,
    pub transport: Transport,
}

impl ServerInformation {
    fn decode_value(value: &[u8], report: &mut Vec<Vec<u8>>) -> Result<Self, Error> {
        let ty = pt::SERVER_INFORMATION;
        at_least(value, ty, 4)?;
        let mut r = Reader::new(&value[4..], Item::Parameter(ty), report);
        let t = r.take_if(is_transport)?.ok_or(Error::MissingParameter {
            param_type: pt::SCTP_TRANSPORT,
            within: Item::Parameter(ty),
        })?;
        let transport = Transport::decode(t, r.report())?;
        r.finish()?;
        Ok(ServerInformation {
            server_id: be32(value, 0),
            transport,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        put_tlv(out, pt::SERVER_INFORMATION, |o| {
            o.extend_from_slice(&self.server_id.to_be_bytes());
            self.transport.encode(o)
        })
    }
}

/// Error cause codes (RFC 5354). rsplib also puts its own error
/// numbers on the wire (e.g. 0x100b "unsupported pool policy", 0xf005
/// "invalid addresses"): those decode as [`CauseCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CauseCode {
    /// 0x1: the info is the unrecognised parameter.
    UnrecognizedParameter,
    /// 0x2: the info is the unrecognised message.
    UnrecognizedMessage,
    /// 0x3: the info is the parameter with the invalid value.
    InvalidValues,
    /// 0x4
    NonUniquePeIdentifier,
    /// 0x5: a registration whose policy differs from the pool's.
    InconsistentPoolingPolicy,
    /// 0x6
    LackOfResources,
    /// 0x7
    InconsistentTransportType,
    /// 0x8
    InconsistentDataControlConfiguration,
    /// 0x9: also what rsplib's registrar answers a handle resolution for a
    /// pool it does not know.
    UnknownPoolHandle,
    /// 0xa
    RejectedSecurity,
    Other(u16),
}

impl CauseCode {
    pub fn from_u16(code: u16) -> Self {
        match code {
            0x1 => CauseCode::UnrecognizedParameter,
            0x2 => CauseCode::UnrecognizedMessage,
            0x3 => CauseCode::InvalidValues,
            0x4 => CauseCode::NonUniquePeIdentifier,
            0x5 => CauseCode::InconsistentPoolingPolicy,
            0x6 => CauseCode::LackOfResources,
            0x7 => CauseCode::InconsistentTransportType,
            0x8 => CauseCode::InconsistentDataControlConfiguration,
            0x9 => CauseCode::UnknownPoolHandle,
            0xa => CauseCode::RejectedSecurity,
            c => CauseCode::Other(c),
        }
    }

    pub fn to_u16(self) -> u16 {
        match self {
            CauseCode::UnrecognizedParameter => 0x1,
            CauseCode::UnrecognizedMessage => 0x2,
            CauseCode::InvalidValues => 0x3,
            CauseCode::NonUniquePeIdentifier => 0x4,
            CauseCode::InconsistentPoolingPolicy => 0x5,
            CauseCode::LackOfResources => 0x6,
            CauseCode::InconsistentTransportType => 0x7,
            CauseCode::InconsistentDataControlConfiguration => 0x8,
            CauseCode::UnknownPoolHandle => 0x9,
            CauseCode::RejectedSecurity => 0xa,
            CauseCode::Other(c) => c,
        }
    }
}

/// One error cause: a code and its cause-specific information.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrorCause {
    pub code: CauseCode,
    pub info: Vec<u8>,
}

impl ErrorCause {
    pub fn new(code: CauseCode) -> Self {
        ErrorCause {
            code,
            info: Vec::new(),
        }
    }

    /// An Unrecognized Parameter cause carrying the parameter `tlv`.
    pub fn unrecognized_parameter(tlv: &[u8]) -> Self {
        ErrorCause {
            code: CauseCode::UnrecognizedParameter,
            info: tlv.to_vec(),
        }
    }

    /// An Unrecognized Message cause carrying the message `message`.
    pub fn unrecognized_message(message: &[u8]) -> Self {
        ErrorCause {
            code: CauseCode::UnrecognizedMessage,
            info: message.to_vec(),
        }
    }
}

/// The Operation Error parameter (RFC 5354): one or more causes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperationError {
    pub causes: Vec<ErrorCause>,
}

impl OperationError {
    /// An Operation Error with the one cause `code` and no information.
    pub fn new(code: CauseCode) -> Self {
        OperationError {
            causes: vec![ErrorCause::new(code)],
        }
    }

    /// The first cause's code.
    pub fn code(&self) -> Option<CauseCode> {
        self.causes.first().map(|c| c.code)
    }

    fn decode_value(value: &[u8]) -> Result<Self, Error> {
        let within = Item::Parameter(pt::OPERATION_ERROR);
        let mut causes = Vec::new();
        let mut rest = value;
        while !rest.is_empty() {
            let (code, item, consumed) = read_item(rest, within, Item::Cause)?;
            causes.push(ErrorCause {
                code: CauseCode::from_u16(code),
                info: item[HEADER_LEN..].to_vec(),
            });
            rest = &rest[consumed..];
        }
        if causes.is_empty() {
            return Err(Error::InvalidValue {
                what: within,
                reason: "operation error without a cause",
            });
        }
        Ok(OperationError { causes })
    }

    /// Each cause is padded except the last (the parameter's own padding
    /// follows it), as rsplib writes its single cause.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.causes.is_empty() {
            return Err(Error::InvalidValue {
                what: Item::Parameter(pt::OPERATION_ERROR),
                reason: "operation error without a cause",
            });
        }
        put_tlv(out, pt::OPERATION_ERROR, |o| {
            let last = self.causes.len() - 1;
            for (i, c) in self.causes.iter().enumerate() {
                let code = c.code.to_u16();
                put_item(o, code, Item::Cause(code), |o| {
                    o.extend_from_slice(&c.info);
                    Ok(())
                })?;
                if i == last {
                    o.truncate(o.len() - tlv::padding(HEADER_LEN + c.info.len()));
                }
            }
            Ok(())
        })
    }
}

fn decode_cookie(value: &[u8]) -> Result<Vec<u8>, Error> {
    if value.is_empty() {
        return Err(Error::InvalidValue {
            what: Item::Parameter(pt::COOKIE),
            reason: "empty cookie",
        });
    }
    Ok(value.to_vec())
}

pub(crate) fn encode_cookie(out: &mut Vec<u8>, cookie: &[u8]) -> Result<(), Error> {
    decode_cookie(cookie)?;
    put_tlv(out, pt::COOKIE, |o| {
        o.extend_from_slice(cookie);
        Ok(())
    })
}

pub(crate) fn decode_u32(p: RawParam<'_>) -> Result<u32, Error> {
    exact(p.value, p.param_type, 4)?;
    Ok(be32(p.value, 0))
}

pub(crate) fn encode_u32(out: &mut Vec<u8>, ty: u16, v: u32) -> Result<(), Error> {
    put_tlv(out, ty, |o| {
        o.extend_from_slice(&v.to_be_bytes());
        Ok(())
    })
}

/// Any one parameter, decoded by its type. Unknown types keep their bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Parameter {
    Address(IpAddr),
    Transport(Transport),
    Policy(Policy),
    PoolHandle(PoolHandle),
    PoolElement(PoolElement),
    ServerInformation(ServerInformation),
    OperationError(OperationError),
    Cookie(Vec<u8>),
    PeIdentifier(u32),
    /// The 16-bit handlespace checksum of ENRP (RFC 5354; rsplib
    /// writes and reads 2 bytes of value).
    PeChecksum(u16),
    /// rsplib's Handle Resolution Option: how many PEs the pool user asks
    /// for (0xffffffff: as many as the registrar gives).
    HandleResolutionOption(u32),
    Unknown {
        param_type: u16,
        value: Vec<u8>,
    },
}

impl Parameter {
    /// Decodes the parameter at the front of `buf`. Returns it and the
    /// bytes consumed (its padding included; padding may be absent when the
    /// parameter ends `buf`). "Skip and report" parameters met inside it are
    /// appended to `report`.
    pub fn decode(buf: &[u8], report: &mut Vec<Vec<u8>>) -> Result<(Parameter, usize), Error> {
        let (param_type, tlv, consumed) = read_item(buf, Item::Parameter(0), Item::Parameter)?;
        let p = RawParam {
            param_type,
            value: &tlv[HEADER_LEN..],
            tlv,
        };
        Ok((Self::from_raw(p, report)?, consumed))
    }

    pub(crate) fn from_raw(p: RawParam<'_>, report: &mut Vec<Vec<u8>>) -> Result<Parameter, Error> {
        Ok(match p.param_type {
            pt::IPV4_ADDRESS | pt::IPV6_ADDRESS => Parameter::Address(decode_address(p)?),
            t if is_transport(t) => Parameter::Transport(Transport::decode(p, report)?),
            pt::POOL_MEMBER_SELECTION_POLICY => Parameter::Policy(Policy::decode_value(p.value)?),
            pt::POOL_HANDLE => Parameter::PoolHandle(PoolHandle::decode_value(p.value)?),
            pt::POOL_ELEMENT => Parameter::PoolElement(PoolElement::decode_value(p.value, report)?),
            pt::SERVER_INFORMATION => {
                Parameter::ServerInformation(ServerInformation::decode_value(p.value, report)?)
            }
            pt::OPERATION_ERROR => {
                Parameter::OperationError(OperationError::decode_value(p.value)?)
            }
            pt::COOKIE => Parameter::Cookie(decode_cookie(p.value)?),
            pt::PE_IDENTIFIER => Parameter::PeIdentifier(decode_u32(p)?),
            pt::PE_CHECKSUM => {
                exact(p.value, pt::PE_CHECKSUM, 2)?;
                Parameter::PeChecksum(be16(p.value, 0))
            }
            pt::HANDLE_RESOLUTION_OPTION => Parameter::HandleResolutionOption(decode_u32(p)?),
            t => Parameter::Unknown {
                param_type: t,
                value: p.value.to_vec(),
            },
        })
    }

    /// Appends the parameter and its padding.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        match self {
            Parameter::Address(a) => put_address(out, a),
            Parameter::Transport(t) => t.encode(out),
            Parameter::Policy(p) => p.encode(out),
            Parameter::PoolHandle(h) => h.encode(out),
            Parameter::PoolElement(e) => e.encode(out),
            Parameter::ServerInformation(s) => s.encode(out),
            Parameter::OperationError(e) => e.encode(out),
            Parameter::Cookie(c) => encode_cookie(out, c),
            Parameter::PeIdentifier(id) => encode_u32(out, pt::PE_IDENTIFIER, *id),
            Parameter::PeChecksum(c) => put_tlv(out, pt::PE_CHECKSUM, |o| {
                o.extend_from_slice(&c.to_be_bytes());
                Ok(())
            }),
            Parameter::HandleResolutionOption(n) => {
                encode_u32(out, pt::HANDLE_RESOLUTION_OPTION, *n)
            }
            Parameter::Unknown { param_type, value } => put_tlv(out, *param_type, |o| {
                o.extend_from_slice(value);
                Ok(())
            }),
        }
    }
}

/// Helpers for the message decoders of [`crate::asap`].
impl PoolHandle {
    pub(crate) fn from_raw(p: RawParam<'_>) -> Result<Self, Error> {
        Self::decode_value(p.value)
    }
}

impl OperationError {
    pub(crate) fn from_raw(p: RawParam<'_>) -> Result<Self, Error> {
        Self::decode_value(p.value)
    }
}

pub(crate) fn cookie_from_raw(p: RawParam<'_>) -> Result<Vec<u8>, Error> {
    decode_cookie(p.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(p: &Parameter) -> Vec<u8> {
        let mut out = Vec::new();
        p.encode(&mut out).unwrap();
        out
    }

    fn dec(b: &[u8]) -> Result<Parameter, Error> {
        let mut report = Vec::new();
        let (p, used) = Parameter::decode(b, &mut report)?;
        assert_eq!(used, b.len());
        Ok(p)
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn samples() -> Vec<Parameter> {
        let v4 = IpAddr::V4(Ipv4Addr::new(192, 168, 77, 1));
        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        let sctp = Transport::Sctp {
            port: 37047,
            transport_use: TransportUse::DataOnly,
            addresses: vec![v4, v6],
        };
        vec![
            Parameter::Address(v4),
            Parameter::Address(v6),
            Parameter::Transport(sctp.clone()),
            Parameter::Transport(Transport::Tcp {
                port: 80,
                transport_use: TransportUse::DataPlusControl,
                address: v6,
            }),
            Parameter::Transport(Transport::Udp {
                port: 53,
                address: v4,
            }),
            Parameter::Transport(Transport::UdpLite {
                port: 54,
                address: v4,
            }),
            Parameter::Transport(Transport::Dccp {
                port: 5004,
                service_code: 0x5254_5030,
                address: v4,
            }),
            Parameter::Policy(Policy::RoundRobin),
            Parameter::Policy(Policy::WeightedRoundRobin { weight: 3 }),
            Parameter::Policy(Policy::LeastUsedDegradationDpf {
                load: 1,
                degradation: 2,
                load_dpf: 3,
                distance: 4,
            }),
            Parameter::Policy(Policy::Other {
                policy_type: 0x1234_5678,
                data: vec![1, 2, 3],
            }),
            Parameter::PoolHandle(PoolHandle::from("WRRPool")),
            Parameter::PoolElement(PoolElement {
                identifier: 0x1111_1111,
                home_server: 0x5e5e_0001,
                registration_life: 9000,
                user_transport: sctp.clone(),
                policy: Policy::Priority { priority: 7 },
                asap_transport: Some(Transport::Sctp {
                    port: 3863,
                    transport_use: TransportUse::DataOnly,
                    addresses: vec![v4],
                }),
            }),
            Parameter::ServerInformation(ServerInformation {
                server_id: 0x5e5e_0001,
                transport: sctp,
            }),
            Parameter::OperationError(OperationError {
                causes: vec![
                    ErrorCause::unrecognized_parameter(&[0x40, 0x42, 0, 5, 9]),
                    ErrorCause::new(CauseCode::Other(0x100b)),
                ],
            }),
            Parameter::Cookie(b"state".to_vec()),
            Parameter::PeIdentifier(0xdead_beef),
            Parameter::PeChecksum(0xabcd),
            Parameter::HandleResolutionOption(u32::MAX),
            Parameter::Unknown {
                param_type: 0x8077,
                value: vec![7; 5],
            },
        ]
    }

    #[test]
    fn every_sample_round_trips() {
        for p in samples() {
            let b = enc(&p);
            assert_eq!(b.len() % 4, 0, "{p:?}");
            assert_eq!(dec(&b), Ok(p.clone()));
            // Without its final padding, too.
            let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
            assert_eq!(dec(&b[..len]), Ok(p));
        }
    }

    #[test]
    fn wire_layouts() {
        // rsplib's first registration of PE $11111111 (captured, see
        // tests/rsplib_vectors.rs): its Pool Element parameter.
        let b = hex("000a0028 11111111 00000000 00002328
             00040010 90b70001 00010008 c0a84d01
             00080008 00000001");
        let pe = PoolElement {
            identifier: 0x1111_1111,
            home_server: 0,
            registration_life: 9000,
            user_transport: Transport::Sctp {
                port: 0x90b7,
                transport_use: TransportUse::DataPlusControl,
                addresses: vec![IpAddr::V4(Ipv4Addr::new(192, 168, 77, 1))],
            },
            policy: Policy::RoundRobin,
            asap_transport: None,
        };
        assert_eq!(dec(&b), Ok(Parameter::PoolElement(pe.clone())));
        assert_eq!(enc(&Parameter::PoolElement(pe)), b);
        // A 7-byte pool handle: length 11, one byte of padding.
        assert_eq!(
            enc(&Parameter::PoolHandle(PoolHandle::from("WRRPool"))),
            hex("0009000b 57525250 6f6f6c00")
        );
        // rsplib's single cause: the cause unpadded, the parameter padded.
        let e = OperationError {
            causes: vec![ErrorCause::unrecognized_parameter(&hex("40420005 61"))],
        };
        assert_eq!(
            enc(&Parameter::OperationError(e)),
            hex("000c000d 00010009 40420005 61000000")
        );
        // Two causes: the first padded inside the parameter.
        let e = OperationError {
            causes: vec![
                ErrorCause {
                    code: CauseCode::InvalidValues,
                    info: vec![1],
                },
                ErrorCause::new(CauseCode::UnknownPoolHandle),
            ],
        };
        let b = enc(&Parameter::OperationError(e.clone()));
        assert_eq!(b, hex("000c0010 00030005 01000000 00090004"));
        assert_eq!(dec(&b), Ok(Parameter::OperationError(e)));
        assert_eq!(
            enc(&Parameter::PeChecksum(0x1234)),
            hex("000f0006 12340000")
        );
    }

    #[test]
    fn malformed_values() {
        let bad = [
            (
                "00010007 0a0000",
                Error::BadValueLength {
                    what: Item::Parameter(pt::IPV4_ADDRESS),
                    length: 3,
                },
            ),
            (
                "00020008 00000000",
                Error::BadValueLength {
                    what: Item::Parameter(pt::IPV6_ADDRESS),
                    length: 4,
                },
            ),
            (
                "00040008 12340000",
                Error::InvalidValue {
                    what: Item::Parameter(pt::SCTP_TRANSPORT),
                    reason: "transport parameter without an address",
                },
            ),
            (
                "00050018 00500000 00010008 0a000001 00010008 0a000002",
                Error::InvalidValue {
                    what: Item::Parameter(pt::TCP_TRANSPORT),
                    reason: "more than one address in a transport other than SCTP",
                },
            ),
            (
                "00040010 12340002 00010008 0a000001",
                Error::InvalidValue {
                    what: Item::Parameter(pt::SCTP_TRANSPORT),
                    reason: "transport use is neither 0 (data only) nor 1 (data plus control)",
                },
            ),
            (
                "00040010 12340000 000e0008 0a000001",
                Error::UnexpectedParameter {
                    param_type: pt::PE_IDENTIFIER,
                    within: Item::Parameter(pt::SCTP_TRANSPORT),
                },
            ),
            (
                "00080010 00000002 00000003 00000004",
                Error::BadValueLength {
                    what: Item::Parameter(pt::POOL_MEMBER_SELECTION_POLICY),
                    length: 12,
                },
            ),
            (
                "00080008 00000002",
                Error::BadValueLength {
                    what: Item::Parameter(pt::POOL_MEMBER_SELECTION_POLICY),
                    length: 4,
                },
            ),
            (
                "00090004",
                Error::InvalidValue {
                    what: Item::Parameter(pt::POOL_HANDLE),
                    reason: "empty pool handle",
                },
            ),
            (
                "000c0004",
                Error::InvalidValue {
                    what: Item::Parameter(pt::OPERATION_ERROR),
                    reason: "operation error without a cause",
                },
            ),
            (
                "000c0008 00010003",
                Error::BadLength {
                    what: Item::Cause(1),
                    length: 3,
                },
            ),
            (
                "000c0008 0001000c",
                Error::Truncated {
                    what: Item::Cause(1),
                    need: 12,
                    have: 4,
                },
            ),
            (
                "000a0010 11111111 00000000 00002328",
                Error::MissingParameter {
                    param_type: pt::SCTP_TRANSPORT,
                    within: Item::Parameter(pt::POOL_ELEMENT),
                },
            ),
            (
                "000a0020 11111111 00000000 00002328 00040010 90b70000 00010008 c0a84d01",
                Error::MissingParameter {
                    param_type: pt::POOL_MEMBER_SELECTION_POLICY,
                    within: Item::Parameter(pt::POOL_ELEMENT),
                },
            ),
            (
                "000e0006 1234",
                Error::BadValueLength {
                    what: Item::Parameter(pt::PE_IDENTIFIER),
                    length: 2,
                },
            ),
            (
                "000d0004",
                Error::InvalidValue {
                    what: Item::Parameter(pt::COOKIE),
                    reason: "empty cookie",
                },
            ),
        ];
        for (h, e) in bad {
            assert_eq!(dec(&hex(h)), Err(e), "{h}");
        }
    }

    #[test]
    fn unknown_nested_parameters() {
        // A skippable unknown parameter inside an SCTP transport is skipped
        // and, with the report bit, reported.
        let b = hex("00040018 12340000 c0770005 01000000 00010008 0a000001");
        let mut report = Vec::new();
        let (p, _) = Parameter::decode(&b, &mut report).unwrap();
        assert_eq!(
            p,
            Parameter::Transport(Transport::Sctp {
                port: 0x1234,
                transport_use: TransportUse::DataOnly,
                addresses: vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))],
            })
        );
        assert_eq!(report, vec![hex("c0770005 01")]);
        // A "stop" one ends the decoding.
        let b = hex("00040018 12340000 40770005 01000000 00010008 0a000001");
        assert_eq!(
            dec(&b),
            Err(Error::UnrecognizedParameter {
                param_type: 0x4077,
                report: true,
                tlv: hex("40770005 01"),
            })
        );
    }

    #[test]
    fn encode_refuses_what_decode_refuses() {
        let mut out = Vec::new();
        let t = Transport::Sctp {
            port: 1,
            transport_use: TransportUse::DataOnly,
            addresses: vec![],
        };
        assert!(t.encode(&mut out).is_err());
        assert!(OperationError { causes: vec![] }.encode(&mut out).is_err());
        assert!(encode_cookie(&mut out, &[]).is_err());
        assert!(PoolHandle::new("").is_none());
    }

    #[test]
    fn policy_names_and_types() {
        assert_eq!(Policy::RoundRobin.policy_type(), 1);
        assert_eq!(Policy::LeastUsed { load: 0 }.policy_type(), 0x4000_0001);
        assert_eq!(Policy::Priority { priority: 1 }.name(), Some("Priority"));
        assert_eq!(
            Policy::Other {
                policy_type: 9,
                data: vec![]
            }
            .name(),
            None
        );
    }
}
