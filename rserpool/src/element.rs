//! A pool element's side of ASAP (RFC 5352), sans-I/O: registering with a
//! registrar, re-registering before the registration runs out, answering
//! the registrar's keep-alives, deregistering.
//!
//! The caller owns the association to the registrar and the clock: it
//! sends what [`Registration`] returns, feeds it every ASAP message the
//! registrar sends ([`Registration::on_message`]) and calls
//! [`Registration::poll`] at [`Registration::deadline`].

use std::time::{Duration, Instant};

use crate::asap::Message;
use crate::params::{OperationError, Policy, PoolElement, PoolHandle, Transport};

/// Where a registration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Not sent yet, or the association to the registrar was lost: the
    /// next [`Registration::poll`] (or [`Registration::register`]) sends one.
    Unregistered,
    /// Sent at the instant given; no answer yet.
    Registering { sent: Instant },
    /// Accepted by the registrar `home` (its server identifier, 0 until a
    /// keep-alive names it); re-registers at `renew`.
    Registered { home: u32, renew: Instant },
    /// Refused: the registrar's reason. Nothing more is sent.
    Rejected(Option<OperationError>),
    /// Deregistration sent at the instant given.
    Deregistering { sent: Instant },
    /// Deregistered (answer received, or given up waiting).
    Deregistered,
}

/// What a message from the registrar meant for this registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The registration (or a re-registration) was accepted.
    Registered,
    /// The registration was refused.
    Rejected(Option<OperationError>),
    /// A keep-alive: send the acknowledgement given.
    KeepAlive(Message),
    /// The deregistration was confirmed.
    Deregistered,
    /// The message was not about this registration (another PE's, or a
    /// type a pool element does not expect).
    NotOurs,
}

/// One pool element's registration under one pool handle.
#[derive(Debug, Clone)]
pub struct Registration {
    pool_handle: PoolHandle,
    element: PoolElement,
    interval: Duration,
    answer_timeout: Duration,
    state: State,
}

impl Registration {
    /// A registration of the PE `identifier` reachable at `transport`,
    /// under `policy`, re-registered every `interval` (the registration
    /// life sent is three intervals, as rsplib's pool elements do, so two
    /// lost re-registrations do not end it). A request unanswered for
    /// `answer_timeout` is sent again.
    pub fn new(
        pool_handle: PoolHandle,
        identifier: u32,
        transport: Transport,
        policy: Policy,
        interval: Duration,
        answer_timeout: Duration,
    ) -> Self {
        let life = interval
            .saturating_mul(3)
            .as_millis()
            .min(u128::from(u32::MAX)) as u32;
        Registration {
            pool_handle,
            element: PoolElement {
                identifier,
                home_server: 0,
                registration_life: life,
                user_transport: transport,
                policy,
                asap_transport: None,
            },
            interval,
            answer_timeout,
            state: State::Unregistered,
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn pool_handle(&self) -> &PoolHandle {
        &self.pool_handle
    }

    pub fn identifier(&self) -> u32 {
        self.element.identifier
    }

    pub fn element(&self) -> &PoolElement {
        &self.element
    }

    /// The Registration message to send now (first registration,
    /// re-registration, or after a new association to a registrar).
    pub fn register(&mut self, now: Instant) -> Message {
        self.state = State::Registering { sent: now };
        Message::Registration {
            pool_handle: self.pool_handle.clone(),
            element: self.element.clone(),
        }
    }

    /// A new policy value (e.g. the PE's load changed): the next
    /// registration carries it; returns the re-registration to send now
    /// when the PE is registered.
    pub fn set_policy(&mut self, policy: Policy, now: Instant) -> Option<Message> {
        self.element.policy = policy;
        match self.state {
            State::Registered { .. } | State::Registering { .. } => Some(self.register(now)),
            _ => None,
        }
    }

    /// The Deregistration message to send now.
    pub fn deregister(&mut self, now: Instant) -> Message {
        self.state = State::Deregistering { sent: now };
        Message::Deregistration {
            pool_handle: self.pool_handle.clone(),
            identifier: self.element.identifier,
        }
    }

    /// The association to the registrar is gone: register again on the
    /// next one (a deregistration in progress counts as done: the
    /// registrar drops the PE when its keep-alives go unanswered).
    pub fn association_lost(&mut self) {
        self.state = match self.state {
            State::Deregistering { .. } | State::Deregistered => State::Deregistered,
            State::Rejected(ref e) => State::Rejected(e.clone()),
            _ => State::Unregistered,
        };
    }

    /// When [`Registration::poll`] has something to do next.
    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            State::Registering { sent } | State::Deregistering { sent } => {
                Some(sent + self.answer_timeout)
            }
            State::Registered { renew, .. } => Some(renew),
            State::Unregistered | State::Rejected(_) | State::Deregistered => None,
        }
    }

    /// What to send at `now`: a re-registration when due, a request
    /// repeated when unanswered (a deregistration is given up instead).
    pub fn poll(&mut self, now: Instant) -> Option<Message> {
        match self.state {
            State::Unregistered => Some(self.register(now)),
            State::Registering { sent } if now >= sent + self.answer_timeout => {
                Some(self.register(now))
            }
            State::Registered { renew, .. } if now >= renew => Some(self.register(now)),
            State::Deregistering { sent } if now >= sent + self.answer_timeout => {
                self.state = State::Deregistered;
                None
            }
            _ => None,
        }
    }

    /// Takes a message from the registrar.
    pub fn on_message(&mut self, message: &Message, now: Instant) -> Event {
        match message {
            Message::RegistrationResponse {
                reject,
                pool_handle,
                identifier,
                error,
            } if self.is_ours(pool_handle, Some(*identifier)) => {
                if *reject {
                    self.state = State::Rejected(error.clone());
                    return Event::Rejected(error.clone());
                }
                let home = match self.state {
                    State::Registered { home, .. } => home,
                    _ => 0,
                };
                if matches!(
                    self.state,
                    State::Deregistering { .. } | State::Deregistered
                ) {
                    return Event::NotOurs;
                }
                self.state = State::Registered {
                    home,
                    renew: now + self.interval,
                };
                Event::Registered
            }
            Message::DeregistrationResponse {
                pool_handle,
                identifier,
                ..
            } if self.is_ours(pool_handle, Some(*identifier)) => {
                self.state = State::Deregistered;
                Event::Deregistered
            }
            Message::EndpointKeepAlive {
                server_id,
                pool_handle,
                identifier,
                ..
            } if self.is_ours(pool_handle, *identifier) => {
                if let State::Registered { ref mut home, .. } = self.state {
                    *home = *server_id;
                }
                self.element.home_server = *server_id;
                Event::KeepAlive(Message::EndpointKeepAliveAck {
                    pool_handle: self.pool_handle.clone(),
                    identifier: self.element.identifier,
                })
            }
            _ => Event::NotOurs,
        }
    }

    fn is_ours(&self, handle: &PoolHandle, identifier: Option<u32>) -> bool {
        *handle == self.pool_handle && identifier.is_none_or(|i| i == self.element.identifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{CauseCode, TransportUse};

    fn reg() -> (Registration, Instant) {
        let t = Transport::Sctp {
            port: 7,
            transport_use: TransportUse::DataOnly,
            addresses: vec!["10.0.0.1".parse().unwrap()],
        };
        let r = Registration::new(
            PoolHandle::from("echo"),
            0x1234,
            t,
            Policy::RoundRobin,
            Duration::from_secs(30),
            Duration::from_secs(5),
        );
        (r, Instant::now())
    }

    fn accepted(id: u32) -> Message {
        Message::RegistrationResponse {
            reject: false,
            pool_handle: PoolHandle::from("echo"),
            identifier: id,
            error: None,
        }
    }

    #[test]
    fn registers_renews_and_answers_keep_alives() {
        let (mut r, t0) = reg();
        let Some(Message::Registration { element, .. }) = r.poll(t0) else {
            panic!("first poll registers")
        };
        assert_eq!(element.registration_life, 90_000);
        assert_eq!(element.home_server, 0);
        assert_eq!(r.deadline(), Some(t0 + Duration::from_secs(5)));
        assert_eq!(r.on_message(&accepted(0x9999), t0), Event::NotOurs);
        assert_eq!(r.on_message(&accepted(0x1234), t0), Event::Registered);
        assert_eq!(r.deadline(), Some(t0 + Duration::from_secs(30)));
        assert_eq!(r.poll(t0 + Duration::from_secs(29)), None);
        let ka = Message::EndpointKeepAlive {
            home: true,
            server_id: 0x5e5e,
            pool_handle: PoolHandle::from("echo"),
            identifier: Some(0x1234),
        };
        let Event::KeepAlive(ack) = r.on_message(&ka, t0) else {
            panic!("keep-alive answered")
        };
        assert_eq!(
            ack,
            Message::EndpointKeepAliveAck {
                pool_handle: PoolHandle::from("echo"),
                identifier: 0x1234
            }
        );
        assert!(matches!(r.state(), State::Registered { home: 0x5e5e, .. }));
        // Re-registration names the home registrar, keeps the identifier.
        let Some(Message::Registration { element, .. }) = r.poll(t0 + Duration::from_secs(30))
        else {
            panic!("re-registration due")
        };
        assert_eq!((element.identifier, element.home_server), (0x1234, 0x5e5e));
        // A keep-alive for another PE of the pool is not ours.
        let other = Message::EndpointKeepAlive {
            home: false,
            server_id: 1,
            pool_handle: PoolHandle::from("echo"),
            identifier: Some(7),
        };
        assert_eq!(r.on_message(&other, t0), Event::NotOurs);
    }

    #[test]
    fn repeats_unanswered_requests_and_gives_up_deregistering() {
        let (mut r, t0) = reg();
        r.register(t0);
        assert_eq!(r.poll(t0 + Duration::from_secs(4)), None);
        assert!(r.poll(t0 + Duration::from_secs(5)).is_some());
        r.deregister(t0);
        assert_eq!(r.poll(t0 + Duration::from_secs(5)), None);
        assert_eq!(r.state(), &State::Deregistered);
        // A late registration answer does not revive it.
        assert_eq!(r.on_message(&accepted(0x1234), t0), Event::NotOurs);
        assert_eq!(r.state(), &State::Deregistered);
    }

    #[test]
    fn rejection_is_final_and_association_loss_re_registers() {
        let (mut r, t0) = reg();
        r.register(t0);
        r.on_message(&accepted(0x1234), t0);
        r.association_lost();
        assert_eq!(r.state(), &State::Unregistered);
        assert!(matches!(r.poll(t0), Some(Message::Registration { .. })));
        let no = Message::RegistrationResponse {
            reject: true,
            pool_handle: PoolHandle::from("echo"),
            identifier: 0x1234,
            error: Some(OperationError::new(CauseCode::InconsistentPoolingPolicy)),
        };
        assert!(matches!(r.on_message(&no, t0), Event::Rejected(Some(_))));
        assert_eq!(r.poll(t0 + Duration::from_secs(100)), None);
        assert_eq!(r.deadline(), None);
        r.association_lost();
        assert!(matches!(r.state(), State::Rejected(_)));
    }

    #[test]
    fn new_policy_values_re_register_at_once() {
        let (mut r, t0) = reg();
        assert_eq!(r.set_policy(Policy::RoundRobin, t0), None);
        r.register(t0);
        r.on_message(&accepted(0x1234), t0);
        let lu = Policy::LeastUsed { load: 5 };
        let Some(Message::Registration { element, .. }) = r.set_policy(lu.clone(), t0) else {
            panic!("re-registers")
        };
        assert_eq!(element.policy, lu);
    }
}
