//! A safe layer over the Linux SCTP socket API (RFC 6458), one small wrapper
//! per call, for one-to-one (`SOCK_STREAM`) and one-to-many (`SOCK_SEQPACKET`)
//! sockets. Errors carry the operation and the errno.

mod addr;
mod cmsg;
pub mod notification;
pub mod raw;

pub use notification::{parse_notification, Event, Notification, Severity};

use std::fmt;
use std::io::{IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// An SCTP socket call that failed: what was done, and the errno (0 for a
/// malformed notification or address list). Converts to `io::Error` with
/// the same errno (`ErrorKind::InvalidData` for errno 0); on Unix an errno
/// is also the `apr_status_t` APR would return for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub op: &'static str,
    pub errno: i32,
}

impl Error {
    /// An error of `op` with `errno`.
    pub fn new(op: &'static str, errno: i32) -> Error {
        Error { op, errno }
    }

    /// The call would have blocked (EAGAIN / EWOULDBLOCK).
    pub fn is_would_block(&self) -> bool {
        self.errno == libc::EAGAIN || self.errno == libc::EWOULDBLOCK
    }

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

/// Partial reliability of one message (PR-SCTP, RFC 3758 and RFC 7496's
/// policies; `struct sctp_prinfo`). The association must have PR-SCTP
/// ([`set_pr_supported`] before it is set up, and the peer agreeing); an
/// abandoned message never reaches the peer's application, not even in
/// part, and the sender hears of it by `SCTP_SEND_FAILED_EVENT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PrPolicy {
    /// Retransmitted until acknowledged (plain SCTP).
    #[default]
    Reliable,
    /// Abandoned when not acknowledged this many milliseconds after the
    /// send (`SCTP_PR_SCTP_TTL`).
    Lifetime(u32),
    /// Abandoned after this many retransmissions (`SCTP_PR_SCTP_RTX`).
    Retransmissions(u32),
    /// Abandoned, when the send buffer is full, in favour of a message of
    /// a higher priority (lower value) (`SCTP_PR_SCTP_PRIO`).
    Priority(u32),
}

impl PrPolicy {
    /// `(pr_policy, pr_value)`, or `None` for a reliable message.
    pub(crate) fn raw(self) -> Option<(u16, u32)> {
        match self {
            PrPolicy::Reliable => None,
            PrPolicy::Lifetime(ms) => Some((0x0010, ms)),
            PrPolicy::Retransmissions(n) => Some((0x0020, n)),
            PrPolicy::Priority(p) => Some((0x0030, p)),
        }
    }
}

/// `SCTP_UNORDERED` in [`SndInfo::flags`] / [`RcvInfo::flags`].
pub const UNORDERED: u16 = 1;

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
    /// The association's id (as in notifications, SCTP_RCVINFO and
    /// `/proc/net/sctp/assocs`).
    pub assoc_id: i32,
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
    setsockopt_at(fd, raw::SOL_SCTP, opt, val, op)
}

/// `setsockopt(level, opt)` from `val`.
fn setsockopt_at<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    opt: libc::c_int,
    val: &T,
    op: &'static str,
) -> Result<(), Error> {
    // SAFETY: `val` points to a live T of the size we pass.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
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

/// `SCTP_DELAYED_SACK` for the socket's (future) associations: SACK after
/// `freq` packets or `delay_ms`, whichever comes first (0 keeps the current
/// value). `freq` 1 acknowledges every packet (Linux turns delayed SACK
/// off), so a sender in slow start grows its window by a full MTU per
/// packet instead of per two.
pub fn set_delayed_sack(fd: BorrowedFd<'_>, delay_ms: u32, freq: u32) -> Result<(), Error> {
    let v = raw::sctp_sack_info {
        sack_assoc_id: 0,
        sack_delay: delay_ms,
        sack_freq: freq,
    };
    setsockopt(fd, raw::SCTP_DELAYED_SACK, &v, "SCTP_DELAYED_SACK")
}

/// `SCTP_DELAYED_SACK` as the kernel has it: (delay in ms, frequency in
/// packets) of the socket's association once it is up, of its future ones
/// before. With delayed SACK off (frequency 1 set) Linux reports (0, 1).
pub fn delayed_sack(fd: BorrowedFd<'_>) -> Result<(u32, u32), Error> {
    let mut v = raw::sctp_sack_info::default();
    getsockopt(fd, raw::SCTP_DELAYED_SACK, &mut v, "SCTP_DELAYED_SACK")?;
    Ok((v.sack_delay, v.sack_freq))
}

/// How an association picks the stream of the next message to send
/// (`enum sctp_sched_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamScheduler {
    /// First come, first served across streams (the kernel's default): a
    /// long queue on one stream holds up messages on every other.
    FirstComeFirstServed = 0,
    /// Each stream's priority (SCTP_STREAM_SCHEDULER_VALUE) first.
    Priority = 1,
    /// The streams with messages queued take turns, a message each.
    RoundRobin = 2,
    /// Fair capacity (RFC 8260 §3.5, Linux 6.2+): the stream that has sent
    /// the fewest bytes goes next.
    FairCapacity = 3,
    /// Weighted fair queueing (RFC 8260 §3.6, Linux 6.2+): bytes shared
    /// by the weights SCTP_STREAM_SCHEDULER_VALUE sets per stream.
    WeightedFairQueueing = 4,
}

/// `struct sctp_assoc_value`: a value of the socket's association (id 0:
/// a one-to-one socket's own).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct AssocValue {
    assoc_id: i32,
    value: u32,
}

/// `SCTP_STREAM_SCHEDULER` (RFC 8260's stream schedulers, Linux 4.15+) for
/// the socket's association.
pub fn set_stream_scheduler(fd: BorrowedFd<'_>, s: StreamScheduler) -> Result<(), Error> {
    let v = AssocValue {
        assoc_id: 0,
        value: s as u32,
    };
    setsockopt(fd, raw::SCTP_STREAM_SCHEDULER, &v, "SCTP_STREAM_SCHEDULER")
}

/// `SCTP_STREAM_SCHEDULER_VALUE`: the priority of outbound stream `sid`
/// under [`StreamScheduler::Priority`] (lower is sent first; equal ones
/// take turns), its weight under
/// [`StreamScheduler::WeightedFairQueueing`].
pub fn set_stream_priority(fd: BorrowedFd<'_>, sid: u16, value: u16) -> Result<(), Error> {
    let v = StreamValue {
        assoc_id: 0,
        stream_id: sid,
        stream_value: value,
    };
    setsockopt(
        fd,
        raw::SCTP_STREAM_SCHEDULER_VALUE,
        &v,
        "SCTP_STREAM_SCHEDULER_VALUE",
    )
}

/// The DSCP of every packet of the socket's association (or of its future
/// ones, before it has one): `SCTP_PEER_ADDR_PARAMS` with `SPP_DSCP` for
/// all peer addresses (Linux 4.17+). `dscp` is the 6-bit code point.
pub fn set_dscp(fd: BorrowedFd<'_>, dscp: u8) -> Result<(), Error> {
    if dscp > 63 {
        return Err(Error::new("SCTP_PEER_ADDR_PARAMS (DSCP)", libc::EINVAL));
    }
    // The kernel takes the whole TOS byte: the code point and two ECN
    // bits, which it keeps as zero.
    let v = raw::sctp_paddrparams(raw::sctp_paddrparams_packed {
        spp_flags: raw::SPP_DSCP,
        spp_dscp: dscp << 2,
        ..params_unchanged()
    });
    setsockopt(
        fd,
        raw::SCTP_PEER_ADDR_PARAMS,
        &v,
        "SCTP_PEER_ADDR_PARAMS (DSCP)",
    )
}

/// `SCTP_PEER_ADDR_PARAMS` that change nothing (every value 0, no flag),
/// for the socket's association or future ones and every peer address
/// (assoc id 0, an all-zero address: AF_UNSPEC).
fn params_unchanged() -> raw::sctp_paddrparams_packed {
    // SAFETY: plain data, for which all zeroes is valid and means the above.
    unsafe { std::mem::zeroed() }
}

/// The DSCP [`set_dscp`] set (`None`: the kernel's default, unmarked).
pub fn dscp(fd: BorrowedFd<'_>) -> Result<Option<u8>, Error> {
    let pp = peer_addr_params(fd)?;
    Ok((pp.spp_flags & raw::SPP_DSCP != 0).then_some(pp.spp_dscp >> 2))
}

/// `SCTP_PEER_ADDR_PARAMS` of the association (or of future ones) for
/// every address.
fn peer_addr_params(fd: BorrowedFd<'_>) -> Result<raw::sctp_paddrparams_packed, Error> {
    // The kernel fills it (assoc id 0, any address).
    let mut pp = raw::sctp_paddrparams(params_unchanged());
    getsockopt(
        fd,
        raw::SCTP_PEER_ADDR_PARAMS,
        &mut pp,
        "SCTP_PEER_ADDR_PARAMS",
    )?;
    Ok(pp.0)
}

/// `SO_PRIORITY`: the priority of the socket's packets in the host's
/// queueing disciplines (0..=6 without CAP_NET_ADMIN).
pub fn set_socket_priority(fd: BorrowedFd<'_>, priority: u8) -> Result<(), Error> {
    let v = libc::c_int::from(priority);
    setsockopt_at(fd, libc::SOL_SOCKET, libc::SO_PRIORITY, &v, "SO_PRIORITY")
}

/// `SO_PRIORITY` as the socket has it.
pub fn socket_priority(fd: BorrowedFd<'_>) -> Result<u32, Error> {
    let mut v: libc::c_int = 0;
    getsockopt_at(
        fd,
        libc::SOL_SOCKET,
        libc::SO_PRIORITY,
        &mut v,
        "SO_PRIORITY",
    )?;
    Ok(v as u32)
}

/// `SCTP_PARTIAL_DELIVERY_POINT`: hand the application the first part of a
/// message once `bytes` of it have arrived in order, instead of waiting for
/// all of it (the kernel's default: half the receive buffer).
pub fn set_partial_delivery_point(fd: BorrowedFd<'_>, bytes: u32) -> Result<(), Error> {
    setsockopt(
        fd,
        raw::SCTP_PARTIAL_DELIVERY_POINT,
        &bytes,
        "SCTP_PARTIAL_DELIVERY_POINT",
    )
}

/// `SCTP_NODELAY` as the socket has it.
pub fn nodelay(fd: BorrowedFd<'_>) -> Result<bool, Error> {
    let mut v: libc::c_int = 0;
    getsockopt(fd, raw::SCTP_NODELAY, &mut v, "SCTP_NODELAY")?;
    Ok(v != 0)
}

/// `struct sctp_stream_value`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct StreamValue {
    assoc_id: i32,
    stream_id: u16,
    stream_value: u16,
}

/// The SCTP_STREAM_SCHEDULER_VALUE of outbound stream `sid`.
pub fn stream_priority(fd: BorrowedFd<'_>, sid: u16) -> Result<u16, Error> {
    let mut v = StreamValue {
        stream_id: sid,
        ..StreamValue::default()
    };
    getsockopt(
        fd,
        raw::SCTP_STREAM_SCHEDULER_VALUE,
        &mut v,
        "SCTP_STREAM_SCHEDULER_VALUE",
    )?;
    Ok(v.stream_value)
}

/// `SCTP_PR_SUPPORTED`: offer PR-SCTP in the associations set up from now
/// on (the kernel's default follows net.sctp.prsctp_enable).
pub fn set_pr_supported(fd: BorrowedFd<'_>, on: bool) -> Result<(), Error> {
    let v = AssocValue {
        assoc_id: 0,
        value: u32::from(on),
    };
    setsockopt(fd, raw::SCTP_PR_SUPPORTED, &v, "SCTP_PR_SUPPORTED")
}

/// Whether the association has PR-SCTP (both ends offered it).
pub fn pr_supported(fd: BorrowedFd<'_>) -> Result<bool, Error> {
    let mut v = AssocValue::default();
    getsockopt(fd, raw::SCTP_PR_SUPPORTED, &mut v, "SCTP_PR_SUPPORTED")?;
    Ok(v.value != 0)
}

/// Messages the association abandoned under a PR-SCTP policy
/// (`SCTP_PR_ASSOC_STATUS`, all policies): `(never sent, sent at least
/// once)`. They count the sender's abandon events, not what the peer
/// missed.
pub fn pr_abandoned(fd: BorrowedFd<'_>) -> Result<(u64, u64), Error> {
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct PrStatus {
        assoc_id: i32,
        sid: u16,
        policy: u16,
        abandoned_unsent: u64,
        abandoned_sent: u64,
    }
    let mut v = PrStatus {
        // SCTP_PR_SCTP_ALL: the sum over the policies.
        policy: 1 << 7,
        ..PrStatus::default()
    };
    getsockopt(
        fd,
        raw::SCTP_PR_ASSOC_STATUS,
        &mut v,
        "SCTP_PR_ASSOC_STATUS",
    )?;
    Ok((v.abandoned_unsent, v.abandoned_sent))
}

/// A socket buffer: SO_SNDBUF or SO_RCVBUF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketBuffer {
    Send,
    Receive,
}

/// Sets a socket buffer to `bytes` and returns what the kernel keeps (Linux
/// reports twice the value set; this is half of that). SCTP never grows
/// its buffers as TCP does. The *FORCE option is tried first, so a root
/// process may exceed net.core.wmem_max / rmem_max, which cap the plain
/// option that others get.
pub fn set_buffer(fd: BorrowedFd<'_>, which: SocketBuffer, bytes: usize) -> Result<usize, Error> {
    let (plain, force, op) = match which {
        SocketBuffer::Send => (libc::SO_SNDBUF, libc::SO_SNDBUFFORCE, "SO_SNDBUF"),
        SocketBuffer::Receive => (libc::SO_RCVBUF, libc::SO_RCVBUFFORCE, "SO_RCVBUF"),
    };
    let v = bytes.min(libc::c_int::MAX as usize) as libc::c_int;
    if setsockopt_at(fd, libc::SOL_SOCKET, force, &v, op).is_err() {
        setsockopt_at(fd, libc::SOL_SOCKET, plain, &v, op)?;
    }
    let mut got: libc::c_int = 0;
    getsockopt_at(fd, libc::SOL_SOCKET, plain, &mut got, op)?;
    Ok(got.max(0) as usize / 2)
}

/// `IPV6_V6ONLY` of an AF_INET6 socket: with `false` (dual stack), an SCTP
/// socket bound to `::` also takes IPv4 peers, and one association may
/// hold IPv4 and IPv6 paths of a multihomed peer.
pub fn set_v6only(fd: BorrowedFd<'_>, on: bool) -> Result<(), Error> {
    setsockopt_at(
        fd,
        libc::IPPROTO_IPV6,
        libc::IPV6_V6ONLY,
        &(on as libc::c_int),
        "IPV6_V6ONLY",
    )
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

/// Failover timers and counters of a socket's future associations (on a
/// listening socket: every association it accepts). `None` leaves the
/// socket's value as it is (the kernel's `net.sctp.*` default unless set
/// before). Times in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timers {
    /// `SCTP_RTOINFO` `srto_initial`: RTO before a round trip is measured.
    pub rto_initial: Option<u32>,
    /// `srto_min`, `srto_max`: bounds of the RTO (the kernel refuses
    /// min > max with EINVAL, comparing with the current value of the one
    /// not given).
    pub rto_min: Option<u32>,
    pub rto_max: Option<u32>,
    /// `SCTP_PEER_ADDR_PARAMS` `spp_hbinterval`: heartbeat interval of
    /// idle paths (set with SPP_HB_ENABLE: heartbeats on, as by default).
    pub hb_interval: Option<u32>,
    /// `spp_pathmaxrxt`: timeouts in a row before a path is unreachable.
    pub path_max_retrans: Option<u16>,
    /// `SCTP_ASSOCINFO` `sasoc_asocmaxrxt`: timeouts in a row before the
    /// association is given up.
    pub assoc_max_retrans: Option<u16>,
}

impl Timers {
    /// The kernel's defaults for new sockets, from `net.sctp.*`: `read` gets
    /// a sysctl's name under net.sctp (`rto_initial`, `rto_min`, `rto_max`,
    /// `hb_interval`, `path_max_retrans`, `association_max_retrans`) and returns its text.
    pub fn from_sysctls(read: impl Fn(&str) -> Option<String>) -> Timers {
        let num = |name: &str| read(name).and_then(|t| t.trim().parse::<u64>().ok());
        let ms = |name: &str| num(name).and_then(|n| u32::try_from(n).ok());
        let count = |name: &str| num(name).map(|n| n.min(u64::from(u16::MAX)) as u16);
        Timers {
            rto_initial: ms("rto_initial"),
            rto_min: ms("rto_min"),
            rto_max: ms("rto_max"),
            hb_interval: ms("hb_interval"),
            path_max_retrans: count("path_max_retrans"),
            assoc_max_retrans: count("association_max_retrans"),
        }
    }

    /// Each value, or `other`'s where this one has none.
    pub fn or(&self, other: &Timers) -> Timers {
        Timers {
            rto_initial: self.rto_initial.or(other.rto_initial),
            rto_min: self.rto_min.or(other.rto_min),
            rto_max: self.rto_max.or(other.rto_max),
            hb_interval: self.hb_interval.or(other.hb_interval),
            path_max_retrans: self.path_max_retrans.or(other.path_max_retrans),
            assoc_max_retrans: self.assoc_max_retrans.or(other.assoc_max_retrans),
        }
    }

    /// Whether any value is set.
    pub fn any(&self) -> bool {
        *self != Timers::default()
    }

    /// How long a path that stops answering takes to be declared
    /// unreachable when its RTO is at its minimum (a short round trip):
    /// `path_max_retrans + 1` timeouts in a row, the RTO doubling after
    /// each up to `rto_max` (RFC 9260 6.3.3, 8.2). A longer round trip
    /// means a larger starting RTO; an idle path is probed only every
    /// heartbeat interval, which adds up to that much. None when a value
    /// is unknown.
    pub fn path_failure_ms(&self) -> Option<u64> {
        let (min, max, pmr) = (self.rto_min?, self.rto_max?, self.path_max_retrans?);
        let mut rto = u64::from(min).min(u64::from(max));
        let mut total = 0u64;
        for _ in 0..=pmr {
            total += rto;
            rto = (rto * 2).min(u64::from(max));
        }
        Some(total)
    }
}

/// Sets `t` on the socket's future associations (assoc id 0, the wildcard
/// address): `SCTP_RTOINFO`, `SCTP_PEER_ADDR_PARAMS` and `SCTP_ASSOCINFO`,
/// each only when one of its values is given (0 means "unchanged" to the
/// kernel, so `None` becomes 0).
pub fn set_timers(fd: BorrowedFd<'_>, t: &Timers) -> Result<(), Error> {
    if t.rto_initial.is_some() || t.rto_min.is_some() || t.rto_max.is_some() {
        let v = raw::sctp_rtoinfo {
            srto_assoc_id: 0,
            srto_initial: t.rto_initial.unwrap_or(0),
            srto_max: t.rto_max.unwrap_or(0),
            srto_min: t.rto_min.unwrap_or(0),
        };
        setsockopt(fd, raw::SCTP_RTOINFO, &v, "SCTP_RTOINFO")?;
    }
    if t.hb_interval.is_some() || t.path_max_retrans.is_some() {
        let v = raw::sctp_paddrparams(raw::sctp_paddrparams_packed {
            spp_hbinterval: t.hb_interval.unwrap_or(0),
            spp_pathmaxrxt: t.path_max_retrans.unwrap_or(0),
            // The kernel ignores spp_hbinterval without SPP_HB_ENABLE
            // (heartbeats are on by default: the flag changes nothing else).
            // PMTU discovery and delayed SACK stay as they are.
            spp_flags: if t.hb_interval.is_some() {
                raw::SPP_HB_ENABLE
            } else {
                0
            },
            ..params_unchanged()
        });
        setsockopt(fd, raw::SCTP_PEER_ADDR_PARAMS, &v, "SCTP_PEER_ADDR_PARAMS")?;
    }
    if let Some(n) = t.assoc_max_retrans {
        let v = raw::sctp_assocparams {
            sasoc_asocmaxrxt: n,
            ..Default::default()
        };
        setsockopt(fd, raw::SCTP_ASSOCINFO, &v, "SCTP_ASSOCINFO")?;
    }
    Ok(())
}

/// The socket's failover timers and counters for its future associations
/// (on a fresh socket: the kernel's defaults), every value `Some`.
pub fn timers(fd: BorrowedFd<'_>) -> Result<Timers, Error> {
    let mut rto = raw::sctp_rtoinfo::default();
    getsockopt(fd, raw::SCTP_RTOINFO, &mut rto, "SCTP_RTOINFO")?;
    let pp = peer_addr_params(fd)?;
    let mut ap = raw::sctp_assocparams::default();
    getsockopt(fd, raw::SCTP_ASSOCINFO, &mut ap, "SCTP_ASSOCINFO")?;

    Ok(Timers {
        rto_initial: Some(rto.srto_initial),
        rto_min: Some(rto.srto_min),
        rto_max: Some(rto.srto_max),
        hb_interval: Some(pp.spp_hbinterval),
        path_max_retrans: Some(pp.spp_pathmaxrxt),
        assoc_max_retrans: Some(ap.sasoc_asocmaxrxt),
    })
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

/// `getsockopt(SOL_SCTP, opt)` into `val`, which also carries the input
/// (an address, an association id) some options read.
fn getsockopt<T: Copy>(
    fd: BorrowedFd<'_>,
    opt: libc::c_int,
    val: &mut T,
    op: &'static str,
) -> Result<(), Error> {
    getsockopt_at(fd, raw::SOL_SCTP, opt, val, op)
}

/// `getsockopt(level, opt)` into `val`.
fn getsockopt_at<T: Copy>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    opt: libc::c_int,
    val: &mut T,
    op: &'static str,
) -> Result<(), Error> {
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `val` is readable and writable for `len` bytes; T is plain
    // data (Copy) that the kernel fills.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            val as *mut T as *mut libc::c_void,
            &mut len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::last(op))
    }
}

/// Sets `SO_LINGER {on, 0}` on a one-to-one socket: closing it then aborts
/// the association (ABORT) at once instead of a graceful SHUTDOWN that waits
/// for the peer to take the queued data.
pub fn set_abort_on_close(fd: BorrowedFd<'_>) -> Result<(), Error> {
    socket2::SockRef::from(&fd)
        .set_linger(Some(std::time::Duration::ZERO))
        .map_err(|e| Error::io("SO_LINGER", e))
}

/// `SCTP_STATUS` of the socket's association.
pub fn status(fd: BorrowedFd<'_>) -> Result<Status, Error> {
    // SAFETY: all-zero is a valid sctp_status (plain integers and bytes).
    let mut s: raw::sctp_status = unsafe { std::mem::zeroed() };
    getsockopt(fd, raw::SCTP_STATUS, &mut s, "SCTP_STATUS")?;
    Ok(Status {
        assoc_id: s.sstat_assoc_id,
        state: s.sstat_state,
        rwnd: s.sstat_rwnd,
        unackdata: s.sstat_unackdata,
        penddata: s.sstat_penddata,
        instrms: s.sstat_instrms,
        outstrms: s.sstat_outstrms,
        fragmentation_point: s.sstat_fragmentation_point,
        primary: path_info(&s.sstat_primary),
    })
}

fn path_info(p: &raw::sctp_paddrinfo) -> PeerAddrInfo {
    let storage = p.spinfo_address;
    // SAFETY: sockaddr_storage is plain bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            &storage as *const libc::sockaddr_storage as *const u8,
            std::mem::size_of::<libc::sockaddr_storage>(),
        )
    };
    PeerAddrInfo {
        addr: addr::decode(bytes).map(|(a, _)| a),
        state: p.spinfo_state,
        cwnd: p.spinfo_cwnd,
        srtt: p.spinfo_srtt,
        rto: p.spinfo_rto,
        mtu: p.spinfo_mtu,
    }
}

/// `SCTP_GET_PEER_ADDR_INFO`: the state of the path to one peer address
/// (`state`: SCTP_ACTIVE 2, SCTP_PF 1, SCTP_INACTIVE 0, SCTP_UNCONFIRMED 3).
pub fn peer_addr_info(fd: BorrowedFd<'_>, peer: &SocketAddr) -> Result<PeerAddrInfo, Error> {
    // SAFETY: all-zero is a valid sctp_paddrinfo (integers and bytes).
    let mut p: raw::sctp_paddrinfo = unsafe { std::mem::zeroed() };
    let mut enc = Vec::new();
    addr::encode(peer, &mut enc);
    let n = enc.len().min(std::mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: writing at most sizeof(sockaddr_storage) bytes into it.
    unsafe {
        std::ptr::copy_nonoverlapping(
            enc.as_ptr(),
            std::ptr::addr_of_mut!(p.spinfo_address) as *mut u8,
            n,
        )
    };
    getsockopt(
        fd,
        raw::SCTP_GET_PEER_ADDR_INFO,
        &mut p,
        "SCTP_GET_PEER_ADDR_INFO",
    )?;
    Ok(path_info(&p))
}

/// `sendmsg` of one message, with an SCTP_SNDINFO cmsg when `info` is given.
/// Never raises SIGPIPE. On Linux a message larger than the send buffer
/// fails with EMSGSIZE; a message is never sent in part.
pub fn send_msg(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    info: Option<&SndInfo>,
    flags: libc::c_int,
) -> Result<usize, Error> {
    send(fd, bufs, info, flags, None, 0, PrPolicy::Reliable)
}

/// `send_msg` of one message under a PR-SCTP policy (an SCTP_PRINFO cmsg
/// beside the SCTP_SNDINFO one).
pub fn send_msg_pr(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    info: &SndInfo,
    pr: PrPolicy,
    flags: libc::c_int,
) -> Result<usize, Error> {
    send(fd, bufs, Some(info), flags, None, 0, pr)
}

/// `send_msg` on a one-to-many socket ([`SctpSocket::one_to_many`]): the
/// message goes on the association `assoc_id` (as `recv_msg` reported it
/// in [`RcvInfo::assoc_id`], or as `connectx` returned it).
pub fn send_msg_on(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    info: &SndInfo,
    assoc_id: i32,
    flags: libc::c_int,
) -> Result<usize, Error> {
    send(
        fd,
        bufs,
        Some(info),
        flags,
        None,
        assoc_id,
        PrPolicy::Reliable,
    )
}

/// `send_msg` to `to` on a socket with no association yet: the kernel sets
/// one up and bundles the message with its COOKIE ECHO, so the peer gets it
/// one round trip earlier than after `connect` (RFC 9260 5.1). The socket
/// is then connected to `to`; the association's COMM_UP notification says
/// when it is established, with its stream counts.
pub fn send_msg_to(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    info: Option<&SndInfo>,
    flags: libc::c_int,
    to: &SocketAddr,
) -> Result<usize, Error> {
    send(fd, bufs, info, flags, Some(to), 0, PrPolicy::Reliable)
}

fn send(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    info: Option<&SndInfo>,
    flags: libc::c_int,
    to: Option<&SocketAddr>,
    assoc_id: i32,
    pr: PrPolicy,
) -> Result<usize, Error> {
    let mut cbuf = cmsg::CmsgBuf::new();
    let mut name = Vec::new();
    // SAFETY: all-zero msghdr is valid; pointers are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = bufs.len() as _;
    if let Some(a) = to {
        addr::encode(a, &mut name);
        msg.msg_name = name.as_mut_ptr() as *mut libc::c_void;
        msg.msg_namelen = name.len() as _;
    }
    if let Some(i) = info {
        let n = cmsg::put_sndinfo(&mut cbuf, i, assoc_id, pr);
        msg.msg_control = cbuf.0.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = n as _;
    }
    // SAFETY: `msg` points to live iovecs (IoSlice is iovec-compatible),
    // address bytes and control data; sendmsg only reads them.
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
    let mut cbuf = cmsg::CmsgBuf::new();
    let mut iov = [IoSliceMut::new(buf)];
    // SAFETY: all-zero msghdr is valid; pointers are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr() as *mut libc::iovec;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = cbuf.0.len() as _;
    // SAFETY: `msg` points to a live buffer and control area of the sizes
    // given (IoSliceMut is iovec-compatible).
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, flags) };
    if n < 0 {
        return Err(Error::last("recvmsg"));
    }
    let ctl = (msg.msg_controllen as usize).min(cbuf.0.len());
    Ok(Received {
        len: n as usize,
        info: cmsg::find_rcvinfo(&cbuf.0[..ctl]),
        eor: msg.msg_flags & libc::MSG_EOR != 0,
        notification: msg.msg_flags & raw::MSG_NOTIFICATION != 0,
    })
}

/// Address family of a new socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// `AF_INET`.
    V4,
    /// `AF_INET6` (also reaches IPv4 peers as v4-mapped addresses).
    V6,
}

impl Domain {
    /// The family of `a`.
    pub fn of(a: &SocketAddr) -> Domain {
        if a.is_ipv4() {
            Domain::V4
        } else {
            Domain::V6
        }
    }
}

/// An owned SCTP socket, one-to-one (`SOCK_STREAM`, [`SctpSocket::new`])
/// or one-to-many ([`SctpSocket::one_to_many`]), for clients, tests and
/// tools (httpd's sockets are APR's). Closed on drop. socket2 does the
/// socket calls (creation with close-on-exec, bind, listen, accept,
/// connect, addresses, O_NONBLOCK); the SCTP options are this module's.
#[derive(Debug)]
pub struct SctpSocket {
    sock: socket2::Socket,
}

fn cvt(rc: libc::c_int, op: &'static str) -> Result<libc::c_int, Error> {
    if rc < 0 {
        Err(Error::last(op))
    } else {
        Ok(rc)
    }
}

impl Error {
    /// `op` failed with `e` (an OS error; 0 when it carries none).
    fn io(op: &'static str, e: std::io::Error) -> Error {
        Error {
            op,
            errno: e.raw_os_error().unwrap_or(0),
        }
    }
}

/// A socket2 address as a std one (SCTP sockets have only IPv4 and IPv6).
fn std_addr(a: &socket2::SockAddr, op: &'static str) -> Result<SocketAddr, Error> {
    a.as_socket().ok_or(Error::malformed(op))
}

impl SctpSocket {
    /// `socket(domain, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_SCTP)`.
    /// EPROTONOSUPPORT when the kernel has no SCTP.
    pub fn new(domain: Domain) -> Result<SctpSocket, Error> {
        Self::open(domain, socket2::Type::STREAM, "socket(IPPROTO_SCTP)")
    }

    /// `socket(domain, kind | SOCK_CLOEXEC, IPPROTO_SCTP)`.
    fn open(domain: Domain, kind: socket2::Type, op: &'static str) -> Result<SctpSocket, Error> {
        let domain = match domain {
            Domain::V4 => socket2::Domain::IPV4,
            Domain::V6 => socket2::Domain::IPV6,
        };
        let proto = socket2::Protocol::from(raw::IPPROTO_SCTP);
        socket2::Socket::new(domain, kind, Some(proto))
            .map(|sock| SctpSocket { sock })
            .map_err(|e| Error::io(op, e))
    }

    /// `socket(domain, SOCK_SEQPACKET | SOCK_CLOEXEC, IPPROTO_SCTP)`: a
    /// one-to-many socket, one descriptor for many associations (RFC 6458
    /// 3): `listen` lets peers set up associations to it, `connectx` sets
    /// up one more, and `recv_msg` / [`send_msg_on`] name the association
    /// by its id. `accept` does not apply.
    pub fn one_to_many(domain: Domain) -> Result<SctpSocket, Error> {
        Self::open(
            domain,
            socket2::Type::SEQPACKET,
            "socket(SOCK_SEQPACKET, IPPROTO_SCTP)",
        )
    }

    /// `bind(2)` to one address (add more with [`bindx_add`]).
    pub fn bind(&self, a: &SocketAddr) -> Result<(), Error> {
        self.sock
            .bind(&(*a).into())
            .map_err(|e| Error::io("bind", e))
    }

    /// `listen(2)`.
    pub fn listen(&self, backlog: i32) -> Result<(), Error> {
        self.sock
            .listen(backlog)
            .map_err(|e| Error::io("listen", e))
    }

    /// `accept4(2)` (close-on-exec): the new association's socket and the
    /// peer's primary address.
    pub fn accept(&self) -> Result<(SctpSocket, SocketAddr), Error> {
        let (sock, peer) = self.sock.accept().map_err(|e| Error::io("accept", e))?;
        Ok((
            SctpSocket { sock },
            std_addr(&peer, "accept: peer address")?,
        ))
    }

    /// `connect(2)` to one address of the peer.
    pub fn connect(&self, a: &SocketAddr) -> Result<(), Error> {
        self.sock
            .connect(&(*a).into())
            .map_err(|e| Error::io("connect", e))
    }

    /// `sctp_connectx()` (`SCTP_SOCKOPT_CONNECTX`): connects to a peer known
    /// by several addresses; returns the association id. On a non-blocking
    /// socket the error is EINPROGRESS, as for `connect`.
    pub fn connectx(&self, addrs: &[SocketAddr]) -> Result<i32, Error> {
        if addrs.is_empty() {
            return Err(Error {
                op: "sctp_connectx",
                errno: libc::EINVAL,
            });
        }
        let mut packed = Vec::new();
        for a in addrs {
            addr::encode(a, &mut packed);
        }
        // SAFETY: `packed` holds the addresses back to back, as the kernel
        // wants; it only reads them.
        let rc = unsafe {
            libc::setsockopt(
                self.raw(),
                raw::SOL_SCTP,
                raw::SCTP_SOCKOPT_CONNECTX,
                packed.as_ptr() as *const libc::c_void,
                packed.len() as libc::socklen_t,
            )
        };
        cvt(rc, "sctp_connectx")
    }

    /// `getsockname(2)`: the address the socket is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        let a = self
            .sock
            .local_addr()
            .map_err(|e| Error::io("getsockname", e))?;
        std_addr(&a, "getsockname")
    }

    /// `getpeername(2)`: the peer's primary address.
    pub fn peer_addr(&self) -> Result<SocketAddr, Error> {
        let a = self
            .sock
            .peer_addr()
            .map_err(|e| Error::io("getpeername", e))?;
        std_addr(&a, "getpeername")
    }

    /// Sets or clears `O_NONBLOCK`.
    pub fn set_nonblocking(&self, on: bool) -> Result<(), Error> {
        self.sock
            .set_nonblocking(on)
            .map_err(|e| Error::io("fcntl(O_NONBLOCK)", e))
    }

    /// Sets `SO_LINGER {on, 0}`: closing then aborts the association (ABORT).
    pub fn set_abort_on_close(&self) -> Result<(), Error> {
        set_abort_on_close(self.sock.as_fd())
    }

    fn raw(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for SctpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for SctpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}

impl From<SctpSocket> for OwnedFd {
    fn from(s: SctpSocket) -> OwnedFd {
        s.sock.into()
    }
}

impl From<OwnedFd> for SctpSocket {
    /// Adopts a descriptor that must be an SCTP socket (not checked).
    fn from(fd: OwnedFd) -> SctpSocket {
        SctpSocket {
            sock: socket2::Socket::from(fd),
        }
    }
}

/// Whether this kernel can create SCTP sockets (tests use it to say loudly
/// that they are skipped).
pub fn kernel_has_sctp() -> bool {
    SctpSocket::new(Domain::V4).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_and_io_conversion() {
        let e = Error::new("sendmsg", libc::EMSGSIZE);
        assert!(e.to_string().starts_with("sendmsg: "), "{e}");
        assert!(e.to_string().contains("Message too long"), "{e}");
        let io: std::io::Error = e.into();
        assert_eq!(io.raw_os_error(), Some(libc::EMSGSIZE));

        let e = Error::new("recvmsg", libc::EAGAIN);
        assert!(e.is_would_block());
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::WouldBlock);
        assert!(!Error::new("recvmsg", libc::EINTR).is_would_block());

        let m = Error::malformed("notification too short");
        assert_eq!(m.errno, 0);
        assert_eq!(m.to_string(), "notification too short");
        let io: std::io::Error = m.into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(io.raw_os_error(), None);

        // Usable as a boxed std error.
        let b: Box<dyn std::error::Error> = Box::new(Error::new("bind", libc::EADDRINUSE));
        assert!(b.to_string().starts_with("bind: "));
    }

    #[test]
    fn errno_is_the_apr_status() {
        // APR on Unix returns errno values unchanged as apr_status_t; the
        // C functions rely on that when they pass an Error's errno on.
        assert_eq!(crate::sys::APR_EAGAIN as i32, libc::EAGAIN);
        assert_eq!(crate::sys::APR_EINVAL as i32, libc::EINVAL);
        assert_eq!(crate::sys::APR_ENOENT as i32, libc::ENOENT);
        assert!(
            crate::sys::APR_TIMEUP as i32 > 4096,
            "APR's own codes are apart"
        );
    }

    #[test]
    fn domain_of_address() {
        assert_eq!(Domain::of(&"127.0.0.1:1".parse().unwrap()), Domain::V4);
        assert_eq!(Domain::of(&"[::1]:1".parse().unwrap()), Domain::V6);
    }

    #[test]
    fn calls_on_a_non_socket_fail_with_the_errno() {
        // No kernel SCTP needed: /dev/null is not a socket.
        let f = std::fs::File::open("/dev/null").unwrap();
        let fd = f.as_fd();
        let e = set_nodelay(fd, true).unwrap_err();
        assert_eq!((e.op, e.errno), ("SCTP_NODELAY", libc::ENOTSOCK));
        let e = subscribe(fd, &[Event::AssocChange], true).unwrap_err();
        assert_eq!((e.op, e.errno), ("SCTP_EVENT", libc::ENOTSOCK));
        let e = local_addrs(fd).unwrap_err();
        assert_eq!(e.errno, libc::ENOTSOCK);
        let e = send_msg(fd, &[IoSlice::new(b"x")], Some(&SndInfo::default()), 0).unwrap_err();
        assert_eq!((e.op, e.errno), ("sendmsg", libc::ENOTSOCK));
        let e = recv_msg(fd, &mut [0u8; 4], 0).unwrap_err();
        assert_eq!((e.op, e.errno), ("recvmsg", libc::ENOTSOCK));
        // An empty bindx list is a no-op, not a syscall.
        assert_eq!(bindx_add(fd, &[]), Ok(()));
    }
}
