//! The SCTP control messages of `sendmsg` / `recvmsg`, encoded and decoded
//! as bytes (sans-I/O, so the host tests cover them without kernel SCTP).
//!
//! Layout (Linux, `<bits/socket.h>`): a `struct cmsghdr { size_t cmsg_len;
//! int cmsg_level; int cmsg_type; }`, the payload at `CMSG_LEN(0)`, the next
//! header at `CMSG_ALIGN(cmsg_len)`, everything aligned to `size_t`.

use super::raw;
use super::{PrPolicy, RcvInfo, SndInfo};
use std::mem::size_of;

/// `CMSG_ALIGN`: rounds up to the alignment of `size_t`.
pub(crate) const fn align(n: usize) -> usize {
    (n + size_of::<usize>() - 1) & !(size_of::<usize>() - 1)
}

/// `CMSG_LEN(0)`: where a control message's payload starts.
pub(crate) const HDR: usize = align(size_of::<libc::cmsghdr>());

/// Bytes of `struct sctp_sndinfo` / `struct sctp_rcvinfo`.
const SNDINFO_LEN: usize = size_of::<raw::sctp_sndinfo>();
const RCVINFO_LEN: usize = size_of::<raw::sctp_rcvinfo>();

/// Room for the control data of one SCTP send or receive, aligned for
/// `cmsghdr`. 64 bytes hold one header plus the largest info struct with
/// room to spare (the kernel truncates, setting MSG_CTRUNC, if not).
#[repr(C, align(8))]
pub(crate) struct CmsgBuf(pub [u8; 64]);

impl CmsgBuf {
    pub(crate) fn new() -> CmsgBuf {
        CmsgBuf([0; 64])
    }
}

fn put_hdr(out: &mut [u8], len: usize, level: i32, kind: i32) {
    let w = size_of::<usize>();
    out[..w].copy_from_slice(&len.to_ne_bytes());
    out[w..w + 4].copy_from_slice(&level.to_ne_bytes());
    out[w + 4..w + 8].copy_from_slice(&kind.to_ne_bytes());
}

/// Bytes of `struct sctp_prinfo` (u16, padding, u32).
const PRINFO_LEN: usize = 8;

/// Writes one `SCTP_SNDINFO` control message (PPID converted to network
/// order) at the start of `buf`, and after it an `SCTP_PRINFO` one when
/// `pr` is a PR-SCTP policy; returns the `msg_controllen` to pass
/// (`CMSG_SPACE(sizeof(struct sctp_sndinfo))`, plus
/// `CMSG_SPACE(sizeof(struct sctp_prinfo))`).
pub(crate) fn put_sndinfo(buf: &mut CmsgBuf, info: &SndInfo, assoc_id: i32, pr: PrPolicy) -> usize {
    buf.0.fill(0);
    let mut n = put_sndinfo_at(&mut buf.0, info, assoc_id);
    if let Some((policy, value)) = pr.raw() {
        let out = &mut buf.0[n..];
        put_hdr(out, HDR + PRINFO_LEN, raw::IPPROTO_SCTP, raw::SCTP_PRINFO);
        out[HDR..HDR + 2].copy_from_slice(&policy.to_ne_bytes());
        out[HDR + 4..HDR + 8].copy_from_slice(&value.to_ne_bytes());
        n += align(HDR + PRINFO_LEN);
    }
    n
}

fn put_sndinfo_at(out: &mut [u8], info: &SndInfo, assoc_id: i32) -> usize {
    put_hdr(out, HDR + SNDINFO_LEN, raw::IPPROTO_SCTP, raw::SCTP_SNDINFO);
    let d = &mut out[HDR..HDR + SNDINFO_LEN];
    d[0..2].copy_from_slice(&info.sid.to_ne_bytes());
    d[2..4].copy_from_slice(&info.flags.to_ne_bytes());
    d[4..8].copy_from_slice(&info.ppid.to_be_bytes());
    d[8..12].copy_from_slice(&info.context.to_ne_bytes());
    // snd_assoc_id: ignored on one-to-one sockets
    d[12..16].copy_from_slice(&assoc_id.to_ne_bytes());
    align(HDR + SNDINFO_LEN)
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// Decodes a `struct sctp_rcvinfo` payload (at least 28 bytes).
fn rcvinfo(d: &[u8]) -> RcvInfo {
    RcvInfo {
        sid: u16_at(d, 0),
        ssn: u16_at(d, 2),
        flags: u16_at(d, 4),
        // rcv_ppid at offset 8 (after 2 bytes of padding), network order.
        ppid: u32::from_be(u32_at(d, 8)),
        tsn: u32_at(d, 12),
        cumtsn: u32_at(d, 16),
        context: u32_at(d, 20),
        assoc_id: u32_at(d, 24) as i32,
    }
}

/// Finds the `SCTP_RCVINFO` control message in `ctl` (the first
/// `msg_controllen` bytes of what `recvmsg` wrote). A truncated or
/// malformed header ends the walk; `None` if there is none.
pub(crate) fn find_rcvinfo(ctl: &[u8]) -> Option<RcvInfo> {
    let w = size_of::<usize>();
    let mut off = 0;
    while off + HDR <= ctl.len() {
        let h = &ctl[off..];
        let len = usize::from_ne_bytes(h[..w].try_into().ok()?);
        let level = u32_at(h, w) as i32;
        let kind = u32_at(h, w + 4) as i32;
        if len < HDR || len > h.len() {
            return None;
        }
        if level == raw::IPPROTO_SCTP && kind == raw::SCTP_RCVINFO && len >= HDR + RCVINFO_LEN {
            return Some(rcvinfo(&h[HDR..HDR + RCVINFO_LEN]));
        }
        off += align(len);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_agree_with_libc_macros() {
        // SAFETY: CMSG_LEN / CMSG_SPACE are pure arithmetic.
        let (len0, sp) = unsafe { (libc::CMSG_LEN(0), libc::CMSG_SPACE(SNDINFO_LEN as u32)) };
        assert_eq!(HDR, len0 as usize);
        assert_eq!(align(HDR + SNDINFO_LEN), sp as usize);
        // SAFETY: as above.
        assert!(unsafe { libc::CMSG_SPACE(RCVINFO_LEN as u32) } as usize <= 64);
    }

    /// A msghdr whose control area is `buf[..len]`.
    fn msghdr_over(buf: &mut [u8], len: usize) -> libc::msghdr {
        // SAFETY: an all-zero msghdr is valid (null pointers, zero lengths).
        let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
        m.msg_control = buf.as_mut_ptr() as *mut libc::c_void;
        m.msg_controllen = len as _;
        m
    }

    #[test]
    fn sndinfo_reads_back_through_libc_macros() {
        let info = SndInfo {
            sid: 5,
            flags: 0x400,
            ppid: 63,
            context: 0xdead_beef,
        };
        let mut b = CmsgBuf::new();
        let n = put_sndinfo(&mut b, &info, 0, PrPolicy::Reliable);
        let m = msghdr_over(&mut b.0, n);
        // SAFETY: the macros walk the 64-byte control area bounded by
        // msg_controllen; the payload is read unaligned.
        let (level, kind, clen, v, next) = unsafe {
            let c = libc::CMSG_FIRSTHDR(&m);
            assert!(!c.is_null());
            let v: raw::sctp_sndinfo =
                std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const raw::sctp_sndinfo);
            (
                (*c).cmsg_level,
                (*c).cmsg_type,
                (*c).cmsg_len as usize,
                v,
                libc::CMSG_NXTHDR(&m, c),
            )
        };
        assert_eq!((level, kind), (raw::IPPROTO_SCTP, raw::SCTP_SNDINFO));
        // SAFETY: pure arithmetic.
        assert_eq!(clen, unsafe { libc::CMSG_LEN(SNDINFO_LEN as u32) } as usize);
        assert_eq!(v.snd_sid, 5);
        assert_eq!(v.snd_flags, 0x400);
        assert_eq!(v.snd_ppid, 63u32.to_be(), "PPID in network order");
        assert_eq!(v.snd_context, 0xdead_beef);
        assert!(next.is_null(), "exactly one control message");
    }

    #[test]
    fn prinfo_follows_sndinfo_through_libc_macros() {
        let mut b = CmsgBuf::new();
        let n = put_sndinfo(&mut b, &SndInfo::default(), 0, PrPolicy::Lifetime(250));
        // SAFETY: pure arithmetic.
        let want =
            unsafe { libc::CMSG_SPACE(SNDINFO_LEN as u32) + libc::CMSG_SPACE(PRINFO_LEN as u32) }
                as usize;
        assert_eq!(n, want);
        let m = msghdr_over(&mut b.0, n);
        // SAFETY: the macros walk the control area bounded by
        // msg_controllen; payloads are read unaligned.
        let (level, kind, clen, policy, value, last) = unsafe {
            let c = libc::CMSG_NXTHDR(&m, libc::CMSG_FIRSTHDR(&m));
            assert!(!c.is_null(), "a second control message");
            let d = libc::CMSG_DATA(c);
            (
                (*c).cmsg_level,
                (*c).cmsg_type,
                (*c).cmsg_len as usize,
                std::ptr::read_unaligned(d as *const u16),
                std::ptr::read_unaligned(d.add(4) as *const u32),
                libc::CMSG_NXTHDR(&m, c),
            )
        };
        assert_eq!((level, kind), (raw::IPPROTO_SCTP, raw::SCTP_PRINFO));
        // SAFETY: pure arithmetic.
        assert_eq!(clen, unsafe { libc::CMSG_LEN(PRINFO_LEN as u32) } as usize);
        assert_eq!((policy, value), (0x0010, 250), "SCTP_PR_SCTP_TTL, 250 ms");
        assert!(last.is_null());
        for (pr, raw) in [
            (PrPolicy::Reliable, None),
            (PrPolicy::Retransmissions(0), Some((0x20, 0))),
            (PrPolicy::Priority(7), Some((0x30, 7))),
        ] {
            assert_eq!(pr.raw(), raw);
        }
    }

    /// Builds control data with the libc macros: each (level, type, payload).
    fn build(parts: &[(i32, i32, &[u8])], buf: &mut [u8]) -> usize {
        // SAFETY: pure arithmetic.
        let total: usize = parts
            .iter()
            .map(|p| unsafe { libc::CMSG_SPACE(p.2.len() as u32) } as usize)
            .sum();
        assert!(total <= buf.len());
        let m = msghdr_over(buf, total);
        // SAFETY: each header and payload lies inside `buf[..total]`, as
        // CMSG_SPACE sized it; CMSG_NXTHDR bounds the walk.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&m);
            for (level, kind, data) in parts {
                assert!(!c.is_null());
                (*c).cmsg_level = *level;
                (*c).cmsg_type = *kind;
                (*c).cmsg_len = libc::CMSG_LEN(data.len() as u32) as _;
                std::ptr::copy_nonoverlapping(data.as_ptr(), libc::CMSG_DATA(c), data.len());
                c = libc::CMSG_NXTHDR(&m, c);
            }
        }
        total
    }

    fn rcvinfo_bytes() -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(&7u16.to_ne_bytes()); // sid
        d.extend_from_slice(&3u16.to_ne_bytes()); // ssn
        d.extend_from_slice(&1u16.to_ne_bytes()); // flags (SCTP_UNORDERED)
        d.extend_from_slice(&[0, 0]); // padding
        d.extend_from_slice(&63u32.to_be_bytes()); // ppid
        d.extend_from_slice(&1000u32.to_ne_bytes()); // tsn
        d.extend_from_slice(&999u32.to_ne_bytes()); // cumtsn
        d.extend_from_slice(&42u32.to_ne_bytes()); // context
        d.extend_from_slice(&9i32.to_ne_bytes()); // assoc id
        assert_eq!(d.len(), RCVINFO_LEN);
        d
    }

    const WANT: RcvInfo = RcvInfo {
        sid: 7,
        ssn: 3,
        flags: 1,
        ppid: 63,
        tsn: 1000,
        cumtsn: 999,
        context: 42,
        assoc_id: 9,
    };

    #[test]
    fn rcvinfo_found_alone_and_after_others() {
        let d = rcvinfo_bytes();
        let mut buf = [0u64; 16];
        // SAFETY: viewing a u64 array (aligned, initialised) as bytes.
        let bytes = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut u8, 128) };
        let n = build(&[(raw::IPPROTO_SCTP, raw::SCTP_RCVINFO, &d)], bytes);
        assert_eq!(find_rcvinfo(&bytes[..n]), Some(WANT));

        // An unrelated message first (an odd-sized payload, so alignment
        // matters), then SCTP's.
        let n = build(
            &[
                (libc::SOL_SOCKET, libc::SCM_RIGHTS, &[1, 2, 3, 4, 5]),
                (raw::IPPROTO_SCTP, raw::SCTP_RCVINFO, &d),
            ],
            bytes,
        );
        assert_eq!(find_rcvinfo(&bytes[..n]), Some(WANT));
    }

    #[test]
    fn rcvinfo_absent_truncated_or_malformed() {
        let d = rcvinfo_bytes();
        let mut buf = [0u64; 16];
        // SAFETY: viewing a u64 array (aligned, initialised) as bytes.
        let bytes = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut u8, 128) };
        assert_eq!(find_rcvinfo(&[]), None);
        build(&[(raw::IPPROTO_SCTP, raw::SCTP_RCVINFO, &d)], bytes);
        // Every truncation (as MSG_CTRUNC leaves it) is None, never a panic.
        for cut in 0..HDR + RCVINFO_LEN {
            assert_eq!(find_rcvinfo(&bytes[..cut]), None, "cut {cut}");
        }
        // Another SCTP cmsg type (SCTP_SNDINFO) is not taken for RCVINFO.
        let n2 = build(&[(raw::IPPROTO_SCTP, raw::SCTP_SNDINFO, &d[..16])], bytes);
        assert_eq!(find_rcvinfo(&bytes[..n2]), None);
        // A payload too short for sctp_rcvinfo is skipped.
        let n3 = build(&[(raw::IPPROTO_SCTP, raw::SCTP_RCVINFO, &d[..20])], bytes);
        assert_eq!(find_rcvinfo(&bytes[..n3]), None);
        // A cmsg_len smaller than the header stops the walk.
        let n = build(&[(raw::IPPROTO_SCTP, raw::SCTP_RCVINFO, &d)], bytes);
        bytes[..size_of::<usize>()].copy_from_slice(&3usize.to_ne_bytes());
        assert_eq!(find_rcvinfo(&bytes[..n]), None);
        // A cmsg_len past the end stops it too.
        bytes[..size_of::<usize>()].copy_from_slice(&1000usize.to_ne_bytes());
        assert_eq!(find_rcvinfo(&bytes[..n]), None);
    }
}
