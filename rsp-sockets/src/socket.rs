//! An RSerPool socket: one one-to-many SCTP socket for the data, which the
//! application's descriptor names, and what it is in the pool: nothing yet,
//! a pool element (registered through an [`ElementAgent`]), or a pool user
//! (a [`PoolUser`] cache and the association to the element in use).
//!
//! Ownership: the descriptor is read only by the thread calling
//! [`RspSocket::recv`] (the application's), written by the threads calling
//! [`RspSocket::send`]; the role state is behind a mutex held only while
//! it is looked at or changed, never across a blocking call on the data
//! socket. The registrar associations belong to the element's thread (pool
//! element) or to the role state (pool user: used under the mutex, for
//! resolutions and reports).

use std::io::IoSlice;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Mutex;

use apr_sctp::sctp::{
    self, notification, Domain, Event as SctpEvent, InitMsg, Notification, SctpSocket, SndInfo,
};
use rserpool::{Policy, PoolElement, PoolHandle, Transport, PPID_ASAP};

use crate::config;
use crate::element::{self, ElementAgent};
use crate::errno::Errno;
use crate::resolver::{Attempt, PoolResolver};

/// What a received message was, for the caller (the C `rsp_sndrcvinfo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecvInfo {
    /// The association (session) it came on.
    pub session: u32,
    pub ppid: u32,
    pub stream: u16,
    /// The pool element it came from (pool user), or this element's own
    /// identifier (pool element).
    pub pe_id: u32,
    /// The message ends here; otherwise the rest follows in the next calls.
    pub eor: bool,
}

/// Where a message goes: on a pool element, the session it answers; on a
/// pool user, ignored (the element in use).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendInfo {
    pub session: u32,
    pub ppid: u32,
    pub stream: u16,
}

enum Role {
    Unbound,
    Element(ElementAgent),
    User(Box<UserState>),
}

struct UserState {
    pool: PoolResolver,
    /// The element in use: its identifier and the association to it.
    current: Option<(u32, i32)>,
    /// The association to the element in use ended; the next `recv` says so
    /// once (ECONNRESET), the next `send` fails over.
    lost: bool,
}

/// One RSerPool socket.
pub struct RspSocket {
    sock: SctpSocket,
    domain: Domain,
    role: Mutex<Role>,
}

impl RspSocket {
    /// A new socket of `domain` (AF_INET or AF_INET6).
    pub fn new(domain: Domain) -> Result<RspSocket, Errno> {
        let sock = SctpSocket::one_to_many(domain)?;
        sctp::set_recvrcvinfo(sock.as_fd(), true)?;
        sctp::subscribe(sock.as_fd(), &[SctpEvent::AssocChange], true)?;
        Ok(RspSocket {
            sock,
            domain,
            role: Mutex::new(Role::Unbound),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    fn role(&self) -> std::sync::MutexGuard<'_, Role> {
        self.role.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers as a pool element of `handle` under `policy` (binding to
    /// the wildcard and an ephemeral port first when not bound yet).
    pub fn register(&self, handle: PoolHandle, policy: Policy) -> Result<u32, Errno> {
        let mut role = self.role();
        match &*role {
            Role::Unbound => {}
            Role::Element(a) => {
                // rsp_register again: new policy values (a load report).
                a.set_policy(policy);
                return Ok(a.identifier());
            }
            Role::User(_) => return Err(Errno(libc::EISCONN)),
        }
        let config = config::current().map_err(|e| {
            crate::debug!("{e}");
            Errno(libc::EINVAL)
        })?;
        if !sctp::local_addrs(self.sock.as_fd()).is_ok_and(|v| v.iter().any(|a| a.port() != 0)) {
            let any = match self.domain {
                Domain::V4 => SocketAddr::new([0, 0, 0, 0].into(), 0),
                Domain::V6 => SocketAddr::new(std::net::Ipv6Addr::UNSPECIFIED.into(), 0),
            };
            self.sock.bind(&any)?;
        }
        self.sock.listen(128)?;
        let transport = element::transport_of(self.sock.as_fd())?;
        let agent = ElementAgent::register(handle, transport, policy, config)?;
        let identifier = agent.identifier();
        *role = Role::Element(agent);
        Ok(identifier)
    }

    /// Deregisters (a no-op on a socket that is not a pool element).
    pub fn deregister(&self) -> Result<(), Errno> {
        let mut role = self.role();
        match std::mem::replace(&mut *role, Role::Unbound) {
            Role::Element(a) => {
                if a.deregister() {
                    Ok(())
                } else {
                    Err(Errno(libc::ETIMEDOUT))
                }
            }
            other => {
                *role = other;
                Err(Errno(libc::ENOTCONN))
            }
        }
    }

    /// Becomes a pool user of `handle`: resolves it and sets up an
    /// association to an element picked by the pool's policy.
    pub fn connect(&self, handle: PoolHandle) -> Result<(), Errno> {
        let mut role = self.role();
        match &*role {
            Role::Unbound => {}
            Role::Element(_) => return Err(Errno(libc::EISCONN)),
            Role::User(_) => return Err(Errno(libc::EISCONN)),
        }
        let config = config::current().map_err(|e| {
            crate::debug!("{e}");
            Errno(libc::EINVAL)
        })?;
        // Associations to elements: a dead host must not hold a send for
        // the kernel's default eight INIT attempts.
        sctp::set_initmsg(
            self.sock.as_fd(),
            &InitMsg {
                max_attempts: 2,
                max_init_timeo: config.init_timeout.as_millis().min(u16::MAX as u128) as u16,
                ..InitMsg::default()
            },
        )?;
        let mut st = Box::new(UserState {
            pool: PoolResolver::new(handle, config),
            current: None,
            lost: false,
        });
        self.pick(&mut st)?;
        *role = Role::User(st);
        Ok(())
    }

    /// Connects to the elements the pool's policy picks (resolving first
    /// when the cache is stale) until one takes the association; each that
    /// does not is reported unreachable. EHOSTUNREACH when none is left.
    fn pick(&self, st: &mut UserState) -> Result<(), Errno> {
        let mut attempt = Attempt::default();
        loop {
            let pe = st.pool.next(&mut attempt)?;
            match self.associate(&pe) {
                Ok(assoc) => {
                    crate::debug!(
                        "pool {}: using PE {:08x} (association {assoc})",
                        st.pool.pool_handle(),
                        pe.identifier
                    );
                    st.current = Some((pe.identifier, assoc));
                    st.lost = false;
                    return Ok(());
                }
                Err(e) => {
                    crate::debug!(
                        "pool {}: PE {:08x} unreachable: {e}",
                        st.pool.pool_handle(),
                        pe.identifier
                    );
                    self.report(st, pe.identifier);
                }
            }
        }
    }

    /// Reports `identifier` unreachable to the registrar (best effort).
    fn report(&self, st: &mut UserState, identifier: u32) {
        st.pool.report(identifier);
        if st.current.is_some_and(|(id, _)| id == identifier) {
            st.current = None;
        }
    }

    /// Sets up an association to `pe` on the data socket.
    fn associate(&self, pe: &PoolElement) -> Result<i32, Errno> {
        let Transport::Sctp {
            port, addresses, ..
        } = &pe.user_transport
        else {
            return Err(Errno(libc::EPROTONOSUPPORT));
        };
        let addrs: Vec<SocketAddr> = addresses
            .iter()
            .filter(|ip| self.domain == Domain::V6 || ip.is_ipv4())
            .map(|&ip| SocketAddr::new(ip, *port))
            .collect();
        if addrs.is_empty() {
            return Err(Errno(libc::EAFNOSUPPORT));
        }
        Ok(self.sock.connectx(&addrs)?)
    }

    /// Sends one message: a pool element answers on `info.session`; a pool
    /// user sends to the element in use, failing over first when it is gone
    /// (and once more if the send itself finds it gone).
    pub fn send(&self, data: &[u8], info: &SendInfo, flags: libc::c_int) -> Result<usize, Errno> {
        let snd = SndInfo {
            sid: info.stream,
            ppid: info.ppid,
            ..SndInfo::default()
        };
        let assoc = {
            let mut role = self.role();
            match &mut *role {
                Role::Unbound => return Err(Errno(libc::ENOTCONN)),
                Role::Element(_) => info.session as i32,
                Role::User(st) => {
                    if st.lost {
                        if let Some((id, _)) = st.current {
                            self.report(st, id);
                        }
                    }
                    if st.current.is_none() {
                        self.pick(st)?;
                    }
                    st.current.map(|(_, a)| a).expect("picked")
                }
            }
        };
        match sctp::send_msg_on(self.sock.as_fd(), &[IoSlice::new(data)], &snd, assoc, flags) {
            Ok(n) => Ok(n),
            Err(e) if e.is_would_block() => Err(e.into()),
            Err(e) => {
                let mut role = self.role();
                let Role::User(st) = &mut *role else {
                    return Err(e.into());
                };
                // The association went away under the send: fail over once.
                crate::debug!("send on association {assoc}: {e}; failing over");
                if let Some((id, a)) = st.current {
                    if a == assoc {
                        self.report(st, id);
                    }
                }
                if st.current.is_none() {
                    self.pick(st)?;
                }
                let assoc = st.current.map(|(_, a)| a).expect("picked");
                drop(role);
                Ok(sctp::send_msg_on(
                    self.sock.as_fd(),
                    &[IoSlice::new(data)],
                    &snd,
                    assoc,
                    flags,
                )?)
            }
        }
    }

    /// Takes what is pending that is not application data (notifications,
    /// ASAP control messages from peers) without blocking. Returns whether
    /// the application has something to receive: data, or the news that
    /// the element in use was lost.
    pub fn settle(&self) -> Result<bool, Errno> {
        loop {
            if self.lost_pending() {
                return Ok(true);
            }
            match self.peek(libc::MSG_DONTWAIT) {
                Err(e) if e.0 == libc::EAGAIN || e.0 == libc::EWOULDBLOCK => return Ok(false),
                Err(e) => return Err(e),
                Ok(Pending::Data) => return Ok(true),
                Ok(Pending::Internal) => self.take_internal(libc::MSG_DONTWAIT)?,
            }
        }
    }

    fn lost_pending(&self) -> bool {
        matches!(&*self.role(), Role::User(st) if st.lost)
    }

    /// Receives the next data message (or part of it, when `buf` is
    /// shorter), taking notifications and control messages on the way.
    /// A pool user whose element was lost gets ECONNRESET once; its next
    /// send fails over.
    pub fn recv(&self, buf: &mut [u8], flags: libc::c_int) -> Result<(usize, RecvInfo), Errno> {
        loop {
            {
                let mut role = self.role();
                if let Role::User(st) = &mut *role {
                    if st.lost && st.current.is_some() {
                        // Said once; the next send fails over.
                        if let Some((id, _)) = st.current {
                            self.report(st, id);
                        }
                        st.lost = false;
                        return Err(Errno(libc::ECONNRESET));
                    }
                }
            }
            match self.peek(flags)? {
                Pending::Internal => self.take_internal(flags)?,
                Pending::Data => {
                    let r = sctp::recv_msg(self.sock.as_fd(), buf, flags)?;
                    if r.notification {
                        // Raced with peek (cannot happen with one reader).
                        continue;
                    }
                    let ri = r.info.unwrap_or_default();
                    let pe_id = match &*self.role() {
                        Role::Element(a) => a.identifier(),
                        Role::User(st) => st
                            .current
                            .filter(|&(_, a)| a == ri.assoc_id)
                            .map(|(id, _)| id)
                            .unwrap_or(0),
                        Role::Unbound => 0,
                    };
                    return Ok((
                        r.len,
                        RecvInfo {
                            session: ri.assoc_id as u32,
                            ppid: ri.ppid,
                            stream: ri.sid,
                            pe_id,
                            eor: r.eor,
                        },
                    ));
                }
            }
        }
    }

    /// What the next message is, without taking it.
    fn peek(&self, flags: libc::c_int) -> Result<Pending, Errno> {
        let mut b = [0u8; 16];
        let r = sctp::recv_msg(self.sock.as_fd(), &mut b, flags | libc::MSG_PEEK)?;
        if r.notification || r.info.is_some_and(|i| i.ppid == PPID_ASAP) {
            Ok(Pending::Internal)
        } else {
            Ok(Pending::Data)
        }
    }

    /// Takes one notification or ASAP control message (whole) and acts on
    /// it: the loss of the association to the element in use marks it lost.
    fn take_internal(&self, flags: libc::c_int) -> Result<(), Errno> {
        let mut buf = vec![0u8; 4096];
        let mut whole = Vec::new();
        loop {
            let r = sctp::recv_msg(self.sock.as_fd(), &mut buf, flags)?;
            if whole.len() < 64 * 1024 {
                whole.extend_from_slice(&buf[..r.len]);
            }
            if r.eor || r.len == 0 {
                if !r.notification {
                    // ASAP on a data association (business card, cookie):
                    // this element registers "data only"; nothing to do.
                    crate::debug!("ASAP message on a data association ignored");
                    return Ok(());
                }
                break;
            }
        }
        let Ok(Notification::AssocChange {
            state, assoc_id, ..
        }) = sctp::parse_notification(&whole)
        else {
            return Ok(());
        };
        let gone = matches!(
            state,
            notification::SCTP_COMM_LOST
                | notification::SCTP_SHUTDOWN_COMP
                | notification::SCTP_CANT_STR_ASSOC
        );
        if gone {
            if let Role::User(st) = &mut *self.role() {
                if st.current.is_some_and(|(_, a)| a == assoc_id) {
                    crate::debug!("association {assoc_id} to the element in use ended");
                    st.lost = true;
                }
            }
        }
        Ok(())
    }

    /// Deregisters a pool element; closes the registrar association of a
    /// pool user. The descriptor closes when the socket is dropped.
    pub fn close(&self) {
        let mut role = self.role();
        if let Role::Element(a) = std::mem::replace(&mut *role, Role::Unbound) {
            let _ = a.deregister();
        }
    }
}

enum Pending {
    Data,
    Internal,
}
