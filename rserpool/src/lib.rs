//! Sans-I/O core of Reliable Server Pooling (RSerPool) over SCTP: the
//! Aggregate Server Access Protocol (ASAP, RFC 5352), the parameters it
//! shares with ENRP (RFC 5354) and the pool member selection policies
//! (RFC 5356).
//!
//! Pool elements (servers) register under a pool handle with a registrar
//! (an ENRP server); pool users resolve the handle to a list of elements,
//! pick one by the pool's policy, and report elements that stopped
//! answering. This crate turns the bytes of one SCTP message (PPID
//! [`PPID_ASAP`]) into an [`asap::Message`] and back, and keeps pools and
//! their selection state ([`pool::Pool`]). It never touches a socket, a
//! clock or a thread; the caller moves the bytes and keeps the time.
//!
//! Wire compatibility with rsplib (the RSerPool implementation Debian ships
//! as rsplib-registrar, rsplib-tools, librsplib) is the target: its
//! extensions are decoded and encoded as it writes them (see [`asap`] and
//! `README.md`), and `tests/rsplib_vectors.rs` decodes messages captured
//! between rsplib 3.4.4's registrar, pool elements and pool users.
//!
//! Malformed input yields a typed [`Error`], never a panic; the
//! unrecognised-parameter action bits of RFC 5354 are honoured (skip,
//! skip and report, stop, stop and report).

pub mod asap;
pub mod element;
pub mod error;
pub mod params;
pub mod policy;
pub mod pool;
pub mod tlv;
pub mod user;

pub use asap::{Decoded, Message};
pub use error::{Error, Item};
pub use params::{
    CauseCode, ErrorCause, OperationError, Parameter, Policy, PoolElement, PoolHandle,
    ServerInformation, Transport, TransportUse,
};
pub use policy::{Rng, XorShift64};
pub use pool::{Inserted, Pool, PoolError};

/// SCTP payload protocol identifier of ASAP.
pub const PPID_ASAP: u32 = 11;
/// SCTP payload protocol identifier of ENRP.
pub const PPID_ENRP: u32 = 12;
/// The registrar's ASAP port (SCTP; also UDP for announces).
pub const PORT_ASAP: u16 = 3863;
/// ASAP over TLS.
pub const PORT_ASAP_TLS: u16 = 3864;
/// ENRP between registrars (SCTP).
pub const PORT_ENRP: u16 = 9901;
/// ENRP over TLS.
pub const PORT_ENRP_TLS: u16 = 9902;
