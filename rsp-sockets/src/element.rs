//! A registered pool element's registrar side: one thread per registration
//! owns the association to the registrar (its only reader and writer) and
//! the sans-I/O [`rserpool::element::Registration`]. It registers,
//! re-registers, answers keep-alives while the application is busy or
//! blocked elsewhere, moves to the next registrar when one goes away, and
//! deregisters when told. The application's thread talks to it only
//! through [`ElementAgent`].

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rserpool::element::{Event, Registration, State};
use std::net::IpAddr;
use std::os::fd::BorrowedFd;

use apr_sctp::sctp;
use rserpool::{Policy, PoolHandle, Transport, TransportUse};

use crate::config::Config;
use crate::errno::Errno;
use crate::registrar::RegistrarLink;

/// What a pool element listening on `listener` registers: the SCTP
/// transport of the addresses it is bound to (all of the host's when bound
/// to the wildcard) and its port, loopback and IPv6 link-local addresses
/// left out unless nothing else is there (a pool user elsewhere could not
/// reach them), data only.
pub fn transport_of(listener: BorrowedFd<'_>) -> Result<Transport, Errno> {
    let local = sctp::local_addrs(listener)?;
    let port = local.first().map(|a| a.port()).unwrap_or(0);
    let mut all: Vec<IpAddr> = local
        .iter()
        .map(|a| match a.ip() {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            ip => ip,
        })
        .collect();
    all.dedup();
    let wide: Vec<IpAddr> = all
        .iter()
        .copied()
        .filter(|ip| match ip {
            IpAddr::V4(v4) => !v4.is_loopback(),
            IpAddr::V6(v6) => !v6.is_loopback() && (v6.segments()[0] & 0xffc0) != 0xfe80,
        })
        .collect();
    Ok(Transport::Sctp {
        port,
        transport_use: TransportUse::DataOnly,
        addresses: if wide.is_empty() { all } else { wide },
    })
}

/// How often the thread looks at its commands while waiting on the
/// registrar.
const COMMAND_LATENCY: Duration = Duration::from_millis(100);

enum Command {
    SetPolicy(Policy),
    Deregister(SyncSender<bool>),
}

/// The application's handle on a registration thread. Dropping it ends
/// the thread without deregistering (the registrar then drops the element
/// when its keep-alives go unanswered).
#[derive(Debug)]
pub struct ElementAgent {
    identifier: u32,
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl ElementAgent {
    /// Starts the thread and waits until the first registration is
    /// accepted (Ok), refused (EINVAL when the registrar said why, e.g. an
    /// inconsistent policy), or no registrar answered in time.
    pub fn start(registration: Registration, config: Config) -> Result<ElementAgent, Errno> {
        let identifier = registration.identifier();
        let (commands, rx) = mpsc::channel();
        let (first_tx, first_rx) = mpsc::sync_channel(1);
        let wait = config.answer_timeout + config.init_timeout * config.registrars.len() as u32;
        let thread = std::thread::Builder::new()
            .name(format!("rsp-pe-{identifier:08x}"))
            .spawn(move || {
                let mut t = Thread {
                    registration,
                    config,
                    link: None,
                    first: Some(first_tx),
                    confirmed: false,
                };
                t.run(rx);
            })
            .map_err(|_| Errno(libc::EAGAIN))?;
        let agent = ElementAgent {
            identifier,
            commands,
            thread: Some(thread),
        };
        match first_rx.recv_timeout(wait) {
            Ok(Ok(())) => Ok(agent),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Errno(libc::ETIMEDOUT)),
        }
    }

    /// Registers a new pool element of `handle`, reached at `transport`,
    /// under a random identifier (see [`ElementAgent::start`]).
    pub fn register(
        handle: PoolHandle,
        transport: Transport,
        policy: Policy,
        config: Config,
    ) -> Result<ElementAgent, Errno> {
        let identifier = (crate::random_u64() as u32).max(1);
        let registration = Registration::new(
            handle,
            identifier,
            transport,
            policy,
            config.reregister_every,
            config.answer_timeout,
        );
        ElementAgent::start(registration, config)
    }

    pub fn identifier(&self) -> u32 {
        self.identifier
    }

    /// New policy values (a load report): re-registers at once.
    pub fn set_policy(&self, policy: Policy) {
        let _ = self.commands.send(Command::SetPolicy(policy));
    }

    /// Deregisters (waiting for the registrar's answer, bounded) and ends
    /// the thread. Whether the registrar confirmed it (if not, it drops
    /// the element when its keep-alives go unanswered).
    pub fn deregister(mut self) -> bool {
        let (tx, rx) = mpsc::sync_channel(1);
        let mut confirmed = false;
        if self.commands.send(Command::Deregister(tx)).is_ok() {
            confirmed = rx.recv().unwrap_or(false);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        confirmed
    }
}

impl Drop for ElementAgent {
    fn drop(&mut self) {
        // The thread sees the channel closed within COMMAND_LATENCY.
        if let Some(t) = self.thread.take() {
            drop(std::mem::replace(&mut self.commands, mpsc::channel().0));
            let _ = t.join();
        }
    }
}

struct Thread {
    registration: Registration,
    config: Config,
    link: Option<RegistrarLink>,
    /// The application waits on this for the first answer.
    first: Option<SyncSender<Result<(), Errno>>>,
    /// The registrar answered the deregistration.
    confirmed: bool,
}

impl Thread {
    fn run(&mut self, commands: Receiver<Command>) {
        let started = Instant::now();
        loop {
            match commands.try_recv() {
                Ok(Command::SetPolicy(p)) => {
                    if let Some(m) = self.registration.set_policy(p, Instant::now()) {
                        self.send(&m);
                    }
                }
                Ok(Command::Deregister(done)) => {
                    let _ = done.send(self.deregister());
                    return;
                }
                Err(TryRecvError::Disconnected) => return,
                Err(TryRecvError::Empty) => {}
            }
            if self.link.is_none() {
                match RegistrarLink::connect(&self.config) {
                    Ok(l) => self.link = Some(l),
                    Err(e) => {
                        if started.elapsed() >= self.config.answer_timeout {
                            self.answer_first(Err(e));
                        }
                        // Try again in a second, or leave on a command.
                        match commands.recv_timeout(Duration::from_secs(1)) {
                            Err(RecvTimeoutError::Timeout) => continue,
                            Err(RecvTimeoutError::Disconnected) => return,
                            Ok(Command::Deregister(done)) => {
                                let _ = done.send(false);
                                return;
                            }
                            Ok(Command::SetPolicy(p)) => {
                                self.registration.set_policy(p, Instant::now());
                                continue;
                            }
                        }
                    }
                }
            }
            let now = Instant::now();
            if let Some(m) = self.registration.poll(now) {
                self.send(&m);
            }
            if let State::Rejected(_) = self.registration.state() {
                // Nothing more to do than wait to be told to go.
                let _ = commands.recv();
                return;
            }
            let wait = self
                .registration
                .deadline()
                .map(|d| d.saturating_duration_since(now))
                .unwrap_or(COMMAND_LATENCY)
                .min(COMMAND_LATENCY);
            self.receive(wait);
        }
    }

    fn send(&mut self, m: &rserpool::Message) {
        if let Some(l) = &self.link {
            if let Err(e) = l.send(m) {
                crate::debug!("registrar {}: send {}: {e}", l.peer(), m.name());
                self.lost();
            }
        }
    }

    fn lost(&mut self) {
        self.link = None;
        self.registration.association_lost();
    }

    fn receive(&mut self, wait: Duration) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        match link.recv(wait) {
            Ok(None) => {}
            Ok(Some(m)) => match self.registration.on_message(&m, Instant::now()) {
                Event::Registered => {
                    crate::debug!(
                        "PE {:08x} registered in pool {}",
                        self.registration.identifier(),
                        self.registration.pool_handle()
                    );
                    self.answer_first(Ok(()));
                }
                Event::Rejected(e) => {
                    crate::debug!(
                        "PE {:08x}: registration refused: {:?}",
                        self.registration.identifier(),
                        e.as_ref().and_then(|e| e.code())
                    );
                    self.answer_first(Err(Errno(libc::EINVAL)));
                }
                Event::KeepAlive(ack) => self.send(&ack),
                Event::Deregistered => self.confirmed = true,
                Event::NotOurs => {
                    crate::debug!("registrar: {} ignored", m.name());
                }
            },
            Err(e) => {
                crate::debug!("registrar {}: {e}", link.peer());
                self.lost();
            }
        }
    }

    fn answer_first(&mut self, r: Result<(), Errno>) {
        if let Some(tx) = self.first.take() {
            let _ = tx.send(r);
        }
    }

    /// Deregisters; whether the registrar confirmed it.
    fn deregister(&mut self) -> bool {
        if self.link.is_none() {
            return false;
        }
        let now = Instant::now();
        let m = self.registration.deregister(now);
        self.send(&m);
        loop {
            match self.registration.state() {
                State::Deregistering { .. } => {}
                State::Deregistered => return self.confirmed,
                _ => return false,
            }
            if self.link.is_none() {
                return false;
            }
            let now = Instant::now();
            self.registration.poll(now);
            let wait = self
                .registration
                .deadline()
                .map(|d| d.saturating_duration_since(now))
                .unwrap_or_default()
                .min(COMMAND_LATENCY);
            self.receive(wait);
        }
    }
}
