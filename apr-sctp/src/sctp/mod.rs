//! A safe layer over the Linux SCTP socket API (RFC 6458), one small wrapper
//! per call, for one-to-one (`SOCK_STREAM`) sockets. Errors carry the
//! operation and the errno.

mod addr;
pub mod notification;
pub mod raw;

pub use notification::{parse_notification, Event, Notification};

use std::fmt;
use std::io::{IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// An SCTP socket call that failed: what was done, and the errno (0 for a
/// malformed notification or address list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub op: &'static str,
    pub errno: i32,
}

impl Error {
    fn last(op: &'static str) -> Error {
        Error {
            op,
            errno: std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        }
    }
    pub(crate) fn malformed(op: &'static str) -> Error {
        Error { op, errno: 0 }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.errno == 0 {
            write!(f, "{}", self.op)
        } else {
            write!(
                f,
                "{}: {}",
                self.op,
                std::io::Error::from_raw_os_error(self.errno)
            )
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        if e.errno == 0 {
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.op)
        } else {
            std::io::Error::from_raw_os_error(e.errno)
        }
    }
}

/// Send parameters of one message (`struct sctp_sndinfo`). `ppid` is in host
/// order here; it travels in network order, as peers expect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SndInfo {
    pub sid: u16,
    pub flags: u16,
    pub ppid: u32,
    pub context: u32,
}

/// Receive information of one message (`struct sctp_rcvinfo`), `ppid` in
/// host order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RcvInfo {
    pub sid: u16,
    pub ssn: u16,
    pub flags: u16,
    pub ppid: u32,
    pub tsn: u32,
    pub cumtsn: u32,
    pub context: u32,
    pub assoc_id: i32,
}

/// Association parameters offered in INIT (`SCTP_INITMSG`); 0 keeps the
/// kernel's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InitMsg {
    pub num_ostreams: u16,
    pub max_instreams: u16,
    pub max_attempts: u16,
    pub max_init_timeo: u16,
}

/// A path of an association (`struct sctp_paddrinfo`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerAddrInfo {
    pub addr: Option<SocketAddr>,
    pub state: i32,
    pub cwnd: u32,
    pub srtt: u32,
    pub rto: u32,
    pub mtu: u32,
}

/// An association's state (`SCTP_STATUS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub state: i32,
    pub rwnd: u32,
    pub unackdata: u16,
    pub penddata: u16,
    pub instrms: u16,
    pub outstrms: u16,
    pub fragmentation_point: u32,
    pub primary: PeerAddrInfo,
}

fn setsockopt<T>(
    fd: BorrowedFd<'_>,
    opt: libc::c_int,
    val: &T,
    op: &'static str,
) -> Result<(), Error> {
    // SAFETY: `val` points to a live T of the size we pass.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            raw::SOL_SCTP,
            opt,
            val as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::last(op))
    }
}

/// `SCTP_NODELAY`: send small messages at once instead of bundling.
pub fn set_nodelay(fd: BorrowedFd<'_>, on: bool) -> Result<(), Error> {
    setsockopt(fd, raw::SCTP_NODELAY, &(on as libc::c_int), "SCTP_NODELAY")
}

/// `SCTP_INITMSG`: streams and INIT retransmission for new associations.
pub fn set_initmsg(fd: BorrowedFd<'_>, m: &InitMsg) -> Result<(), Error> {
    let v = raw::sctp_initmsg {
        sinit_num_ostreams: m.num_ostreams,
        sinit_max_instreams: m.max_instreams,
        sinit_max_attempts: m.max_attempts,
        sinit_max_init_timeo: m.max_init_timeo,
    };
    setsockopt(fd, raw::SCTP_INITMSG, &v, "SCTP_INITMSG")
}

/// `SCTP_RECVRCVINFO`: deliver an SCTP_RCVINFO cmsg with every message.
pub fn set_recvrcvinfo(fd: BorrowedFd<'_>, on: bool) -> Result<(), Error> {
    setsockopt(
        fd,
        raw::SCTP_RECVRCVINFO,
        &(on as libc::c_int),
        "SCTP_RECVRCVINFO",
    )
}

/// `SCTP_DEFAULT_SNDINFO`: parameters of writes without a cmsg.
pub fn set_default_sndinfo(fd: BorrowedFd<'_>, info: &SndInfo) -> Result<(), Error> {
    let v = raw::sctp_sndinfo {
        snd_sid: info.sid,
        snd_flags: info.flags,
        snd_ppid: info.ppid.to_be(),
        snd_context: info.context,
        snd_assoc_id: 0,
    };
    setsockopt(fd, raw::SCTP_DEFAULT_SNDINFO, &v, "SCTP_DEFAULT_SNDINFO")
}

/// `SCTP_EVENT`: (un)subscribes to each notification in `events`.
pub fn subscribe(fd: BorrowedFd<'_>, events: &[Event], on: bool) -> Result<(), Error> {
    for e in events {
        let v = raw::sctp_event {
            se_assoc_id: 0,
            se_type: e.kind(),
            se_on: on as u8,
        };
        setsockopt(fd, raw::SCTP_EVENT, &v, "SCTP_EVENT")?;
    }
    Ok(())
}

fn bindx(fd: BorrowedFd<'_>, addrs: &[SocketAddr], opt: libc::c_int) -> Result<(), Error> {
    if addrs.is_empty() {
        return Ok(());
    }
    let mut packed = Vec::new();
    for a in addrs {
        addr::encode(a, &mut packed);
    }
    // SAFETY: `packed` holds the addresses back to back, as the kernel wants.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            raw::SOL_SCTP,
            opt,
            packed.as_ptr() as *const libc::c_void,
            packed.len() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::last("sctp_bindx"))
    }
}

/// `sctp_bindx(SCTP_BINDX_ADD_ADDR)`: binds further local addresses.
pub fn bindx_add(fd: BorrowedFd<'_>, addrs: &[SocketAddr]) -> Result<(), Error> {
    bindx(fd, addrs, raw::SCTP_SOCKOPT_BINDX_ADD)
}

/// `sctp_bindx(SCTP_BINDX_REM_ADDR)`: removes local addresses from a bound
/// (even listening) socket; the last address cannot be removed.
pub fn bindx_rem(fd: BorrowedFd<'_>, addrs: &[SocketAddr]) -> Result<(), Error> {
    bindx(fd, addrs, raw::SCTP_SOCKOPT_BINDX_REM)
}

fn get_addrs(
    fd: BorrowedFd<'_>,
    opt: libc::c_int,
    op: &'static str,
) -> Result<Vec<SocketAddr>, Error> {
    // struct sctp_getaddrs { sctp_assoc_t assoc_id; __u32 addr_num; __u8 addrs[]; }
    let mut buf = vec![0u8; 8 + 64 * 28];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: `buf` is writable for `len` bytes; assoc id 0 is the socket's.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            raw::SOL_SCTP,
            opt,
            buf.as_mut_ptr() as *mut libc::c_void,
            &mut len,
        )
    };
    if rc != 0 {
        return Err(Error::last(op));
    }
    let n = u32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    // Linux sets optlen to the bytes of the addresses alone, not counting
    // the 8-byte header (a kernel quirk it keeps for compatibility).
    let end = (8 + len as usize).min(buf.len());
    let mut out = Vec::with_capacity(n);
    let mut off = 8;
    while out.len() < n && off < end {
        let (a, used) = addr::decode(&buf[off..end]).ok_or(Error::malformed(op))?;
        out.push(a);
        off += used;
    }
    Ok(out)
}

/// Local addresses of the socket (`SCTP_GET_LOCAL_ADDRS`).
pub fn local_addrs(fd: BorrowedFd<'_>) -> Result<Vec<SocketAddr>, Error> {
    get_addrs(fd, raw::SCTP_GET_LOCAL_ADDRS, "SCTP_GET_LOCAL_ADDRS")
}

/// Addresses of the peer (`SCTP_GET_PEER_ADDRS`).
pub fn peer_addrs(fd: BorrowedFd<'_>) -> Result<Vec<SocketAddr>, Error> {
    get_addrs(fd, raw::SCTP_GET_PEER_ADDRS, "SCTP_GET_PEER_ADDRS")
}

/// `SCTP_STATUS` of the socket's association.
pub fn status(fd: BorrowedFd<'_>) -> Result<Status, Error> {
    // SAFETY: all-zero is a valid sctp_status (plain integers and bytes).
    let mut s: raw::sctp_status = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<raw::sctp_status>() as libc::socklen_t;
    // SAFETY: `s` is writable for `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            raw::SOL_SCTP,
            raw::SCTP_STATUS,
            &mut s as *mut raw::sctp_status as *mut libc::c_void,
            &mut len,
        )
    };
    if rc != 0 {
        return Err(Error::last("SCTP_STATUS"));
    }
    let p = s.sstat_primary;
    let storage = p.spinfo_address;
    // SAFETY: sockaddr_storage is plain bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            &storage as *const libc::sockaddr_storage as *const u8,
            std::mem::size_of::<libc::sockaddr_storage>(),
        )
    };
    Ok(Status {
        state: s.sstat_state,
        rwnd: s.sstat_rwnd,
        unackdata: s.sstat_unackdata,
        penddata: s.sstat_penddata,
        instrms: s.sstat_instrms,
        outstrms: s.sstat_outstrms,
        fragmentation_point: s.sstat_fragmentation_point,
        primary: PeerAddrInfo {
            addr: addr::decode(bytes).map(|(a, _)| a),
            state: p.spinfo_state,
            cwnd: p.spinfo_cwnd,
            srtt: p.spinfo_srtt,
            rto: p.spinfo_rto,
            mtu: p.spinfo_mtu,
        },
    })
}

/// Room for one SCTP cmsg (header plus the largest info struct), aligned.
#[repr(C, align(8))]
struct CmsgBuf([u8; 64]);

/// `sendmsg` of one message, with an SCTP_SNDINFO cmsg when `info` is given.
/// Never raises SIGPIPE. On Linux a message larger than the send buffer
/// fails with EMSGSIZE; a message is never sent in part.
pub fn send_msg(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    info: Option<&SndInfo>,
    flags: libc::c_int,
) -> Result<usize, Error> {
    let mut cbuf = CmsgBuf([0; 64]);
    // SAFETY: all-zero msghdr is valid; pointers are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = bufs.len() as _;
    if let Some(i) = info {
        let v = raw::sctp_sndinfo {
            snd_sid: i.sid,
            snd_flags: i.flags,
            snd_ppid: i.ppid.to_be(),
            snd_context: i.context,
            snd_assoc_id: 0,
        };
        // SAFETY: CMSG_SPACE of a 16-byte payload fits the 64-byte buffer;
        // CMSG_FIRSTHDR/CMSG_DATA point inside it.
        unsafe {
            let space = libc::CMSG_SPACE(std::mem::size_of::<raw::sctp_sndinfo>() as u32);
            msg.msg_control = cbuf.0.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = space as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = raw::IPPROTO_SCTP;
            (*c).cmsg_type = raw::SCTP_SNDINFO;
            (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<raw::sctp_sndinfo>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut raw::sctp_sndinfo, v);
        }
    }
    // SAFETY: `msg` points to live iovecs (IoSlice is iovec-compatible) and
    // control data.
    let n = unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, flags | libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(Error::last("sendmsg"))
    } else {
        Ok(n as usize)
    }
}

/// What `recv_msg` got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Bytes written to the buffer (0 with `notification == false` is EOF).
    pub len: usize,
    /// Present when SCTP_RECVRCVINFO is on and this is data.
    pub info: Option<RcvInfo>,
    /// The message ends here (MSG_EOR); without it, more of it follows.
    pub eor: bool,
    /// The bytes are a notification (parse with `parse_notification`).
    pub notification: bool,
}

/// `recvmsg` of (part of) one message, with its SCTP_RCVINFO.
pub fn recv_msg(fd: BorrowedFd<'_>, buf: &mut [u8], flags: libc::c_int) -> Result<Received, Error> {
    let mut cbuf = CmsgBuf([0; 64]);
    let mut iov = [IoSliceMut::new(buf)];
    // SAFETY: all-zero msghdr is valid; pointers are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr() as *mut libc::iovec;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = cbuf.0.len() as _;
    // SAFETY: `msg` points to a live buffer and control area.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, flags) };
    if n < 0 {
        return Err(Error::last("recvmsg"));
    }
    let mut info = None;
    // SAFETY: walking the control messages the kernel wrote into `cbuf`,
    // with the libc macros that bound them by msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == raw::IPPROTO_SCTP
                && (*c).cmsg_type == raw::SCTP_RCVINFO
                && (*c).cmsg_len as usize
                    >= libc::CMSG_LEN(std::mem::size_of::<raw::sctp_rcvinfo>() as u32) as usize
            {
                let r: raw::sctp_rcvinfo =
                    std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const raw::sctp_rcvinfo);
                info = Some(RcvInfo {
                    sid: r.rcv_sid,
                    ssn: r.rcv_ssn,
                    flags: r.rcv_flags,
                    ppid: u32::from_be(r.rcv_ppid),
                    tsn: r.rcv_tsn,
                    cumtsn: r.rcv_cumtsn,
                    context: r.rcv_context,
                    assoc_id: r.rcv_assoc_id,
                });
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok(Received {
        len: n as usize,
        info,
        eor: msg.msg_flags & libc::MSG_EOR != 0,
        notification: msg.msg_flags & raw::MSG_NOTIFICATION != 0,
    })
}

/// An owned one-to-one SCTP socket (for clients, tests and tools; httpd's
/// sockets are APR's).
#[derive(Debug)]
pub struct SctpSocket {
    fd: OwnedFd,
}

fn cvt(rc: libc::c_int, op: &'static str) -> Result<libc::c_int, Error> {
    if rc < 0 {
        Err(Error::last(op))
    } else {
        Ok(rc)
    }
}

fn sockaddr_bytes(a: &SocketAddr) -> Vec<u8> {
    let mut v = Vec::new();
    addr::encode(a, &mut v);
    v
}

impl SctpSocket {
    /// A new socket of the address family of `like` (IPv4 or IPv6).
    pub fn new(like: &SocketAddr) -> Result<SctpSocket, Error> {
        let domain = if like.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        // SAFETY: plain socket(2).
        let fd = cvt(
            unsafe {
                libc::socket(
                    domain,
                    libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                    raw::IPPROTO_SCTP,
                )
            },
            "socket(IPPROTO_SCTP)",
        )?;
        // SAFETY: a fresh descriptor we own.
        Ok(SctpSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Runs `bind(2)` or `connect(2)` with `a` as a kernel sockaddr.
    fn with_addr(
        &self,
        a: &SocketAddr,
        call: unsafe extern "C" fn(
            libc::c_int,
            *const libc::sockaddr,
            libc::socklen_t,
        ) -> libc::c_int,
        op: &'static str,
    ) -> Result<(), Error> {
        let b = sockaddr_bytes(a);
        // SAFETY: `b` is a complete sockaddr of its length; `call` is
        // libc's bind or connect.
        cvt(
            unsafe {
                call(
                    self.raw(),
                    b.as_ptr() as *const libc::sockaddr,
                    b.len() as u32,
                )
            },
            op,
        )
        .map(drop)
    }

    pub fn bind(&self, a: &SocketAddr) -> Result<(), Error> {
        self.with_addr(a, libc::bind, "bind")
    }

    pub fn listen(&self, backlog: i32) -> Result<(), Error> {
        // SAFETY: plain listen(2).
        cvt(unsafe { libc::listen(self.raw(), backlog) }, "listen").map(drop)
    }

    pub fn accept(&self) -> Result<(SctpSocket, Option<SocketAddr>), Error> {
        let mut storage = [0u8; 128];
        let mut len = storage.len() as libc::socklen_t;
        // SAFETY: `storage` is writable for `len` bytes.
        let fd = cvt(
            unsafe {
                libc::accept4(
                    self.raw(),
                    storage.as_mut_ptr() as *mut libc::sockaddr,
                    &mut len,
                    libc::SOCK_CLOEXEC,
                )
            },
            "accept",
        )?;
        // SAFETY: a fresh descriptor we own.
        let s = SctpSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        };
        Ok((s, addr::decode(&storage[..len as usize]).map(|(a, _)| a)))
    }

    pub fn connect(&self, a: &SocketAddr) -> Result<(), Error> {
        self.with_addr(a, libc::connect, "connect")
    }

    /// Sets `SO_LINGER {on, 0}`: closing then aborts the association (ABORT).
    pub fn set_abort_on_close(&self) -> Result<(), Error> {
        let l = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: `l` is a live linger struct.
        cvt(
            unsafe {
                libc::setsockopt(
                    self.raw(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    &l as *const libc::linger as *const libc::c_void,
                    std::mem::size_of::<libc::linger>() as u32,
                )
            },
            "SO_LINGER",
        )
        .map(drop)
    }

    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for SctpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Whether this kernel can create SCTP sockets (tests use it to say loudly
/// that they are skipped).
pub fn kernel_has_sctp() -> bool {
    SctpSocket::new(&"127.0.0.1:0".parse().unwrap()).is_ok()
}
