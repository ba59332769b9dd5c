//! WebTP-style ADUs over one SCTP association (seeds/003, docs/adu.md):
//! each ADU one SCTP message, reliable or abandoned under a PR-SCTP policy,
//! ordered or not, of normal or high priority.
//!
//! Priority without starvation: the association uses the round-robin
//! stream scheduler, normal ADUs go on stream 0 and high-priority ones on
//! streams 1..=H. Streams with messages queued take turns a message each,
//! so when both kinds are queued a high-priority ADU waits for at most one
//! normal one, high-priority ADUs get H turns in H+1, and normal ADUs never
//! get fewer than one in H+1 (the kernel's strict-priority scheduler would
//! let a sender that only sends high-priority ADUs starve the others). An
//! ordered high-priority ADU must stay on one stream to stay in order: they
//! all use stream 1 (one turn in two against normal ones).
//!
//! [`StreamPlan`] is that mapping, sans-I/O; [`AduSocket`] the socket
//! around it. One reader (the thread calling [`AduSocket::recv`]); sends
//! may come from any thread.

use std::io::IoSlice;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::sctp::{
    self, notification, Error, Event, InitMsg, Notification, PrPolicy, SctpSocket, SndInfo,
    StreamScheduler,
};
use crate::traffic_class::{ClassPolicy, ClassTable};

/// What becomes of an ADU that cannot be delivered in time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reliability {
    /// Retransmitted until acknowledged.
    #[default]
    Reliable,
    /// Abandoned (whole, never delivered in part) when not acknowledged
    /// this long after the send.
    Lifetime(Duration),
    /// Abandoned after this many retransmissions (0: sent once).
    Retransmissions(u32),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Priority {
    #[default]
    Normal,
    High,
}

/// How one ADU is to be sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AduOptions {
    pub reliability: Reliability,
    /// Delivered in the order sent, among the ordered ADUs of its
    /// priority; else as soon as it arrives (WebTP's default).
    pub ordered: bool,
    pub priority: Priority,
}

/// Which streams carry which ADUs (sans-I/O).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamPlan {
    /// Streams for high priority: 1..=high.
    high: u16,
}

/// Streams asked for: stream 0 and three high-priority ones.
pub const STREAMS: u16 = 4;

impl StreamPlan {
    /// The plan for an association with `outbound` streams: high priority
    /// on up to three of them; with one stream only, no priority at all.
    pub fn new(outbound: u16) -> StreamPlan {
        StreamPlan {
            high: outbound.saturating_sub(1).min(STREAMS - 1),
        }
    }

    /// Streams carrying high-priority ADUs (0: priority is not available).
    pub fn high_streams(&self) -> u16 {
        self.high
    }

    /// The stream of the `n`th ADU sent with `opts`.
    pub fn stream(&self, opts: &AduOptions, n: u32) -> u16 {
        match opts.priority {
            Priority::High if self.high > 0 => {
                if opts.ordered {
                    1
                } else {
                    1 + (n % u32::from(self.high)) as u16
                }
            }
            _ => 0,
        }
    }

    /// The priority of what arrived on `sid`.
    pub fn priority_of(&self, sid: u16) -> Priority {
        if sid >= 1 && sid <= self.high {
            Priority::High
        } else {
            Priority::Normal
        }
    }
}

/// The PR-SCTP policy of `r` (lifetimes in whole milliseconds, at least 1).
pub fn pr_policy(r: Reliability) -> PrPolicy {
    match r {
        Reliability::Reliable => PrPolicy::Reliable,
        Reliability::Lifetime(d) => {
            PrPolicy::Lifetime(d.as_millis().clamp(1, u128::from(u32::MAX)) as u32)
        }
        Reliability::Retransmissions(n) => PrPolicy::Retransmissions(n),
    }
}

/// What [`AduSocket::recv`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// An ADU (or its first `len` bytes when the buffer was shorter:
    /// `complete` false, the rest comes with the next calls).
    Adu {
        len: usize,
        complete: bool,
        ordered: bool,
        priority: Priority,
        stream: u16,
        /// Ordered ADUs of this stream that the sender abandoned since the
        /// previous one that arrived (their sequence numbers were skipped);
        /// always 0 for unordered ADUs, whose drops SCTP does not show.
        dropped_before: u16,
    },
    /// An ADU this side sent was abandoned (its lifetime or retransmission
    /// limit ran out, or the association ended): `id` as given to
    /// [`AduSocket::send`]; `sent` whether it had been on the wire.
    Abandoned { id: u32, sent: bool },
    /// An ADU whose first part this side had received will not be
    /// completed: the sender abandoned the rest.
    Dropped { stream: u16 },
    /// The peer closed the association.
    Closed,
}

/// A stream scheduler's name (a C string: apr_sctp_adu_scheduler returns
/// it as is).
pub fn scheduler_name(s: StreamScheduler) -> &'static std::ffi::CStr {
    match s {
        StreamScheduler::FirstComeFirstServed => c"first come first served",
        StreamScheduler::Priority => c"strict priority",
        StreamScheduler::RoundRobin => c"round robin",
        StreamScheduler::FairCapacity => c"fair capacity",
        StreamScheduler::WeightedFairQueueing => c"weighted fair queueing",
    }
}

/// No sequence number seen yet on a stream.
const NO_SSN: u32 = u32::MAX;

/// The state of ADUs on one association, apart from its socket: shared by
/// [`AduSocket`] (which owns its socket) and the C API (where the APR
/// socket owns the descriptor and its timeout). Ownership: `plan`, `pr`
/// and `scheduler` are fixed when opened; `sent` belongs to the senders
/// (any thread); `last_ssn` to the one reader.
pub struct AduCore {
    plan: StreamPlan,
    pr: bool,
    scheduler: StreamScheduler,
    sent: AtomicU32,
    last_ssn: [AtomicU32; STREAMS as usize],
}

impl AduCore {
    /// The ADU state of the established association on `fd` (set up with
    /// [`prepare`]): picks weighted fair queueing where the kernel has it
    /// (it shares by bytes; every stream's weight stays 1), else round
    /// robin (shares by messages).
    pub fn open(fd: BorrowedFd<'_>) -> Result<AduCore, Error> {
        let st = sctp::status(fd)?;
        let scheduler = match sctp::set_stream_scheduler(fd, StreamScheduler::WeightedFairQueueing)
        {
            Ok(()) => StreamScheduler::WeightedFairQueueing,
            Err(e) if e.errno == libc::EINVAL => {
                sctp::set_stream_scheduler(fd, StreamScheduler::RoundRobin)?;
                StreamScheduler::RoundRobin
            }
            Err(e) => return Err(e),
        };
        Ok(AduCore {
            plan: StreamPlan::new(st.outstrms),
            pr: sctp::pr_supported(fd)?,
            scheduler,
            sent: AtomicU32::new(0),
            last_ssn: std::array::from_fn(|_| AtomicU32::new(NO_SSN)),
        })
    }

    pub fn plan(&self) -> &StreamPlan {
        &self.plan
    }

    pub fn partial_reliability(&self) -> bool {
        self.pr
    }

    pub fn scheduler(&self) -> StreamScheduler {
        self.scheduler
    }

    /// The send parameters of the next ADU sent with `opts` and `id`;
    /// EOPNOTSUPP for an unreliable ADU without PR-SCTP.
    pub fn next_send(&self, opts: &AduOptions, id: u32) -> Result<(SndInfo, PrPolicy), Error> {
        let pr = pr_policy(opts.reliability);
        if pr != PrPolicy::Reliable && !self.pr {
            return Err(Error::new("ADU send", libc::EOPNOTSUPP));
        }
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        let info = SndInfo {
            sid: self.plan.stream(opts, n),
            flags: if opts.ordered { 0 } else { sctp::UNORDERED },
            ppid: 0,
            context: id,
        };
        Ok((info, pr))
    }

    /// The next ADU or event, reading with `recv_one` (one `recvmsg` into
    /// the buffer it is given; the caller decides how it waits). `buf`
    /// must be at least [`MIN_RECV`] long.
    pub fn recv_with(
        &self,
        buf: &mut [u8],
        mut recv_one: impl FnMut(&mut [u8]) -> Result<sctp::Received, Error>,
    ) -> Result<Received, Error> {
        if buf.len() < MIN_RECV {
            return Err(Error::new("ADU receive", libc::EINVAL));
        }
        loop {
            let r = recv_one(buf)?;
            if r.notification {
                // A send failure carries the abandoned ADU after its 32
                // bytes of header: keep the header, read and drop the rest
                // (queued whole: no wait).
                let mut head = [0u8; MIN_RECV];
                let n = r.len.min(MIN_RECV);
                head[..n].copy_from_slice(&buf[..n]);
                if !r.eor {
                    head[4..8].copy_from_slice(&(n as u32).to_ne_bytes());
                    loop {
                        let more = recv_one(buf)?;
                        if more.eor || more.len == 0 {
                            break;
                        }
                    }
                }
                match sctp::parse_notification(&head[..n]) {
                    Ok(Notification::SendFailed { sent, info, .. }) => {
                        return Ok(Received::Abandoned {
                            id: info.context,
                            sent,
                        })
                    }
                    Ok(Notification::PartialDeliveryAborted { stream, .. }) => {
                        return Ok(Received::Dropped { stream })
                    }
                    Ok(Notification::Shutdown { .. }) => return Ok(Received::Closed),
                    Ok(Notification::AssocChange { state, .. })
                        if state == notification::SCTP_COMM_LOST
                            || state == notification::SCTP_SHUTDOWN_COMP =>
                    {
                        return Ok(Received::Closed)
                    }
                    _ => continue,
                }
            }
            if r.len == 0 && !r.eor {
                return Ok(Received::Closed);
            }
            let info = r.info.unwrap_or_default();
            let ordered = info.flags & sctp::UNORDERED == 0;
            let dropped_before = if ordered {
                self.ssn_gap(info.sid, info.ssn)
            } else {
                0
            };
            return Ok(Received::Adu {
                len: r.len,
                complete: r.eor,
                ordered,
                priority: self.plan.priority_of(info.sid),
                stream: info.sid,
                dropped_before,
            });
        }
    }

    /// How many sequence numbers of stream `sid` were skipped before
    /// `ssn` (0 for the next piece of the same ADU).
    fn ssn_gap(&self, sid: u16, ssn: u16) -> u16 {
        let Some(last) = self.last_ssn.get(usize::from(sid)) else {
            return 0;
        };
        let prev = last.swap(u32::from(ssn), Ordering::Relaxed);
        ssn_gap(prev, ssn)
    }
}

/// Sequence numbers skipped between the last one seen (`prev`, [`NO_SSN`]
/// before the first) and `ssn` (the same again: a further piece of that
/// ADU; SSNs start at 0 and wrap at 2^16).
fn ssn_gap(prev: u32, ssn: u16) -> u16 {
    if prev == NO_SSN {
        ssn
    } else if prev == u32::from(ssn) {
        0
    } else {
        ssn.wrapping_sub(prev as u16).wrapping_sub(1)
    }
}

/// What [`AduSocket::set_class`] applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassApplied {
    /// The table entry that matched (the class or its nearest ancestor).
    pub matched: String,
    pub policy: ClassPolicy,
}

/// Gives the association on `fd` the policy of traffic class `name` in
/// `table`: DSCP, socket priority, SCTP_NODELAY. ENOENT for a class the
/// table does not know.
pub fn set_class(
    fd: BorrowedFd<'_>,
    table: &ClassTable,
    name: &str,
) -> Result<ClassApplied, Error> {
    let (matched, policy) = table
        .lookup(name)
        .ok_or(Error::new("ADU traffic class", libc::ENOENT))?;
    sctp::set_dscp(fd, policy.dscp)?;
    sctp::set_socket_priority(fd, policy.priority)?;
    sctp::set_nodelay(fd, policy.nodelay)?;
    Ok(ClassApplied {
        matched: matched.to_string(),
        policy,
    })
}

/// The path as SCTP sees it (primary path).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathInfo {
    /// Smoothed round-trip time.
    pub srtt: Duration,
    /// Congestion window, bytes.
    pub cwnd: u32,
    /// The peer's receive window, bytes.
    pub rwnd: u32,
    /// What the window allows per round trip: min(cwnd, rwnd) / srtt, bits
    /// per second (an estimate of the current rate, not a guarantee).
    pub rate_bps: f64,
}

/// The send buffer [`prepare`] asks for. Priorities and lifetimes act on
/// ADUs waiting in it: with the kernel's default (16 KiB) a sender blocks
/// before anything can queue behind anything else.
pub const SEND_BUFFER: usize = 1024 * 1024;

/// Sets up `sock` (not yet connected or listening) for ADUs: PR-SCTP
/// offered, [`STREAMS`] streams asked for each way, a [`SEND_BUFFER`] send
/// buffer (as much of it as net.core.wmem_max allows, unless root),
/// receive information and send-failure notifications on. For a listener,
/// the accepted sockets inherit it.
pub fn prepare(sock: &impl AsFd) -> Result<(), Error> {
    let fd = sock.as_fd();
    sctp::set_pr_supported(fd, true)?;
    sctp::set_buffer(fd, sctp::SocketBuffer::Send, SEND_BUFFER)?;
    sctp::set_initmsg(
        fd,
        &InitMsg {
            num_ostreams: STREAMS,
            max_instreams: STREAMS,
            ..InitMsg::default()
        },
    )?;
    sctp::set_recvrcvinfo(fd, true)?;
    sctp::subscribe(
        fd,
        &[Event::SendFailed, Event::Shutdown, Event::PartialDelivery],
        true,
    )
}

/// The shortest buffer [`AduSocket::recv`] takes (a notification's
/// header must fit).
pub const MIN_RECV: usize = 64;

/// One association carrying ADUs.
pub struct AduSocket {
    sock: SctpSocket,
    core: AduCore,
}

impl AduSocket {
    /// `sock`: an established association, set up with [`prepare`]. Picks
    /// its stream scheduler ([`AduCore::open`]).
    pub fn new(sock: SctpSocket) -> Result<AduSocket, Error> {
        let core = AduCore::open(sock.as_fd())?;
        Ok(AduSocket { sock, core })
    }

    pub fn socket(&self) -> &SctpSocket {
        &self.sock
    }

    pub fn plan(&self) -> &StreamPlan {
        self.core.plan()
    }

    /// The stream scheduler in use: weighted fair queueing where the
    /// kernel has it (6.2+), else round robin.
    pub fn scheduler(&self) -> StreamScheduler {
        self.core.scheduler()
    }

    /// Whether the peer agreed to PR-SCTP: without it an unreliable ADU
    /// cannot be sent (EOPNOTSUPP).
    pub fn partial_reliability(&self) -> bool {
        self.core.partial_reliability()
    }

    /// Sends one ADU; `id` comes back in [`Received::Abandoned`] if it is
    /// abandoned. Blocks while the send buffer is full (unless the socket is
    /// non-blocking: EAGAIN).
    pub fn send(&self, data: &[u8], opts: &AduOptions, id: u32) -> Result<(), Error> {
        let (info, pr) = self.core.next_send(opts, id)?;
        sctp::send_msg_pr(self.sock.as_fd(), &[IoSlice::new(data)], &info, pr, 0)?;
        Ok(())
    }

    /// The next ADU (its bytes in `buf`, at least [`MIN_RECV`] long) or
    /// event. One reader at a time.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Received, Error> {
        let fd = self.sock.as_fd();
        self.core.recv_with(buf, |b| sctp::recv_msg(fd, b, 0))
    }

    /// The primary path's round-trip time, windows and the rate they allow.
    pub fn path(&self) -> Result<PathInfo, Error> {
        path(self.sock.as_fd())
    }

    /// A constant sending rate: SCTP has no reservation and cannot
    /// guarantee one, so this always fails (EOPNOTSUPP), as the seed says
    /// a rate the scheduler cannot guarantee must.
    pub fn request_rate(&self, _bits_per_second: f64) -> Result<(), Error> {
        Err(Error::new("ADU constant rate", libc::EOPNOTSUPP))
    }

    /// ADUs this side abandoned so far: `(never sent, sent)`.
    pub fn abandoned(&self) -> Result<(u64, u64), Error> {
        sctp::pr_abandoned(self.sock.as_fd())
    }

    /// Puts the association in traffic class `name` ([`set_class`]).
    pub fn set_class(&self, table: &ClassTable, name: &str) -> Result<ClassApplied, Error> {
        set_class(self.sock.as_fd(), table, name)
    }
}

impl AsFd for AduSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// The path of the association on `fd` ([`AduSocket::path`]).
pub fn path(fd: BorrowedFd<'_>) -> Result<PathInfo, Error> {
    Ok(path_info(&sctp::status(fd)?))
}

fn path_info(st: &sctp::Status) -> PathInfo {
    let p = &st.primary;
    let srtt = Duration::from_millis(u64::from(p.srtt));
    let window = p.cwnd.min(st.rwnd.max(1));
    let rate_bps = if p.srtt == 0 {
        0.0
    } else {
        f64::from(window) * 8.0 / srtt.as_secs_f64()
    };
    PathInfo {
        srtt,
        cwnd: p.cwnd,
        rwnd: st.rwnd,
        rate_bps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(priority: Priority, ordered: bool) -> AduOptions {
        AduOptions {
            priority,
            ordered,
            ..AduOptions::default()
        }
    }

    #[test]
    fn normal_on_stream_zero_high_spread_unless_ordered() {
        let p = StreamPlan::new(10);
        assert_eq!(p.high_streams(), 3);
        let high = opts(Priority::High, false);
        let streams: Vec<u16> = (0..6).map(|n| p.stream(&high, n)).collect();
        assert_eq!(streams, [1, 2, 3, 1, 2, 3]);
        assert!((0..6).all(|n| p.stream(&opts(Priority::High, true), n) == 1));
        assert!((0..6).all(|n| p.stream(&opts(Priority::Normal, false), n) == 0));
        assert_eq!(p.priority_of(0), Priority::Normal);
        assert_eq!(p.priority_of(3), Priority::High);
        assert_eq!(p.priority_of(4), Priority::Normal);
    }

    #[test]
    fn fewer_streams_fewer_high_ones_one_stream_no_priority() {
        let p = StreamPlan::new(2);
        assert_eq!(p.high_streams(), 1);
        assert_eq!(p.stream(&opts(Priority::High, false), 7), 1);
        let p = StreamPlan::new(1);
        assert_eq!(p.high_streams(), 0);
        assert_eq!(p.stream(&opts(Priority::High, false), 0), 0);
        assert_eq!(p.priority_of(1), Priority::Normal);
    }

    #[test]
    fn reliability_maps_to_pr_sctp() {
        assert_eq!(pr_policy(Reliability::Reliable), PrPolicy::Reliable);
        assert_eq!(
            pr_policy(Reliability::Lifetime(Duration::from_micros(10))),
            PrPolicy::Lifetime(1)
        );
        assert_eq!(
            pr_policy(Reliability::Lifetime(Duration::from_secs(2))),
            PrPolicy::Lifetime(2000)
        );
        assert_eq!(
            pr_policy(Reliability::Retransmissions(0)),
            PrPolicy::Retransmissions(0)
        );
    }

    #[test]
    fn skipped_sequence_numbers_are_dropped_adus() {
        assert_eq!(ssn_gap(NO_SSN, 0), 0, "the first ADU of a stream");
        assert_eq!(ssn_gap(NO_SSN, 3), 3, "three dropped before the first");
        assert_eq!(ssn_gap(4, 5), 0);
        assert_eq!(ssn_gap(4, 4), 0, "the next piece of the same ADU");
        assert_eq!(ssn_gap(4, 9), 4);
        assert_eq!(ssn_gap(65535, 0), 0, "wraps");
        assert_eq!(ssn_gap(65534, 1), 2);
    }

    #[test]
    fn rate_is_the_window_per_round_trip() {
        let st = sctp::Status {
            rwnd: 100_000,
            primary: sctp::PeerAddrInfo {
                srtt: 50,
                cwnd: 64_000,
                ..sctp::PeerAddrInfo::default()
            },
            ..sctp::Status::default()
        };
        let p = path_info(&st);
        assert_eq!(p.srtt, Duration::from_millis(50));
        assert!((p.rate_bps - 64_000.0 * 8.0 / 0.05).abs() < 1.0);
        assert_eq!(path_info(&sctp::Status::default()).rate_bps, 0.0);
    }
}
