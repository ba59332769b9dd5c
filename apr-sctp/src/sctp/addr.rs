//! Conversions between `std::net::SocketAddr` and the kernel's sockaddrs in
//! SCTP's packed address lists: `sctp_bindx`/`sctp_connectx` take, and
//! `SCTP_GET_PEER_ADDRS`/`SCTP_GET_LOCAL_ADDRS` return, `sockaddr_in` and
//! `sockaddr_in6` back to back, each at its own size, which socket2's
//! `SockAddr` (one `sockaddr_storage` per address) does not model. Single
//! addresses (bind, connect, accept, names) go through socket2.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Encodes an address as the kernel expects it in a packed address list
/// (`sctp_bindx`, `sctp_connectx`): `sockaddr_in` or `sockaddr_in6`.
pub fn encode(addr: &SocketAddr, out: &mut Vec<u8>) {
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in is plain old data; we view its bytes.
            out.extend_from_slice(unsafe { as_bytes(&sin) });
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above.
            out.extend_from_slice(unsafe { as_bytes(&sin6) });
        }
    }
}

/// # Safety
/// `T` must be plain old data without padding that matters to the reader.
unsafe fn as_bytes<T>(v: &T) -> &[u8] {
    // SAFETY: per the contract, any byte view of `v` is valid.
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>()) }
}

/// Decodes one sockaddr at the start of `buf`; returns it and its length.
/// `None` for an unknown family or a truncated buffer.
pub fn decode(buf: &[u8]) -> Option<(SocketAddr, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let family = u16::from_ne_bytes([buf[0], buf[1]]) as libc::c_int;
    match family {
        libc::AF_INET if buf.len() >= 16 => {
            let port = u16::from_be_bytes([buf[2], buf[3]]);
            let ip = Ipv4Addr::new(buf[4], buf[5], buf[6], buf[7]);
            Some((SocketAddr::V4(SocketAddrV4::new(ip, port)), 16))
        }
        libc::AF_INET6 if buf.len() >= 28 => {
            let port = u16::from_be_bytes([buf[2], buf[3]]);
            let flow = u32::from_ne_bytes(buf[4..8].try_into().ok()?);
            let ip: [u8; 16] = buf[8..24].try_into().ok()?;
            let scope = u32::from_ne_bytes(buf[24..28].try_into().ok()?);
            Some((
                SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, flow, scope)),
                28,
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        for a in ["127.0.0.2:80", "[::1]:8080", "[fe80::1%3]:1"] {
            let a: SocketAddr = a.parse().unwrap();
            let mut v = Vec::new();
            encode(&a, &mut v);
            let (b, n) = decode(&v).unwrap();
            assert_eq!((a, v.len()), (b, n));
        }
    }

    #[test]
    fn truncated_or_unknown() {
        let mut v = Vec::new();
        encode(&"[::1]:1".parse().unwrap(), &mut v);
        assert!(decode(&v[..27]).is_none());
        assert!(decode(&[0u8; 1]).is_none());
        assert!(decode(&[0u8; 32]).is_none()); // AF_UNSPEC
    }
}
