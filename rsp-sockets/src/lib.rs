//! The RSerPool sockets API over Linux SCTP: the `rsp_*` calls the seed
//! (draft-ietf-rserpool-api-00, seeds/002) sketches, for C
//! (`include/rsp_sockets.h`, pkg-config `rsp-sockets`) and Rust
//! ([`RspSocket`]). Pool elements register with a registrar and serve on a
//! one-to-many SCTP socket; pool users name a pool handle instead of a
//! host, and the library resolves it, picks an element by the pool's
//! policy and fails over to another when that one is lost.
//!
//! The protocol is the sans-I/O `rserpool` crate (ASAP messages, the
//! registration and pool-user state machines); this crate moves its bytes:
//! the registrar associations ([`registrar`]), a registration thread per
//! pool element ([`element`]), the data socket ([`socket`]) and the C
//! functions ([`ffi`]). It interoperates with rsplib's registrar, pool
//! elements and pool users (docs/rserpool.md).

pub mod config;
pub mod element;
pub mod errno;
pub mod ffi;
#[doc(hidden)]
pub mod log;
pub mod registrar;
pub mod resolver;
pub mod socket;

pub use errno::Errno;
pub use socket::{RecvInfo, RspSocket, SendInfo};

/// A random number for identifiers and policy seeds.
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: getrandom(2) writes at most b.len() bytes into `b`.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n == 8 {
        u64::from_ne_bytes(b)
    } else {
        // Never fails for 8 bytes once the pool is initialised; if it did,
        // time and pid still differ between elements.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        t ^ (u64::from(std::process::id()) << 32)
    }
}
