//! A pool user's side of ASAP (RFC 5352), sans-I/O: resolving a pool
//! handle through the registrar, keeping the answer as a cache, picking a
//! pool element by the pool's policy, and failing over: an element that
//! stopped answering is reported (Endpoint Unreachable), left out of the
//! picks for a while, and the next pick is another element.
//!
//! The caller owns the associations (to the registrar and to the elements)
//! and the clock.

use std::time::{Duration, Instant};

use crate::asap::Message;
use crate::params::{OperationError, PoolElement, PoolHandle};
use crate::policy::Rng;
use crate::pool::Pool;

/// What a handle resolution answer did to the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The cache now holds this many elements (those reported unreachable
    /// lately left out).
    Elements(usize),
    /// The registrar knows no element under the handle (or said why not).
    Failed(Option<OperationError>),
}

/// One pool user's view of one pool.
#[derive(Debug, Clone)]
pub struct PoolUser {
    pool_handle: PoolHandle,
    cache: Pool,
    resolved_at: Option<Instant>,
    stale_after: Duration,
    suspect_for: Duration,
    /// Elements reported unreachable, and when.
    suspects: Vec<(u32, Instant)>,
    current: Option<u32>,
}

impl PoolUser {
    /// A pool user of `pool_handle` whose cache is trusted for
    /// `stale_after` (rsplib's "stale cache value"; zero asks the registrar
    /// before every pick), and who leaves an element it reported
    /// unreachable out of its picks for `suspect_for`.
    pub fn new(pool_handle: PoolHandle, stale_after: Duration, suspect_for: Duration) -> Self {
        PoolUser {
            pool_handle,
            cache: Pool::new(),
            resolved_at: None,
            stale_after,
            suspect_for,
            suspects: Vec::new(),
            current: None,
        }
    }

    pub fn pool_handle(&self) -> &PoolHandle {
        &self.pool_handle
    }

    /// The cache (the pool as last resolved, minus suspects).
    pub fn cache(&self) -> &Pool {
        &self.cache
    }

    /// The element picked last and not reported since.
    pub fn current(&self) -> Option<&PoolElement> {
        self.current.and_then(|id| self.cache.get(id))
    }

    /// Whether the cache must be refreshed before the next pick: it is
    /// empty, or older than the stale-cache time.
    pub fn needs_resolution(&self, now: Instant) -> bool {
        match self.resolved_at {
            None => true,
            Some(_) if self.cache.is_empty() => true,
            Some(t) => now >= t + self.stale_after,
        }
    }

    /// The Handle Resolution request to send, asking for every element the
    /// registrar will give (rsplib's Handle Resolution Option), so that
    /// failover has somewhere to go without asking again.
    pub fn resolution_request(&self) -> Message {
        Message::HandleResolution {
            pool_handle: self.pool_handle.clone(),
            items: Some(u32::MAX),
        }
    }

    /// Takes the registrar's answer; `None` when `message` is not a handle
    /// resolution response for this pool.
    pub fn on_message(&mut self, message: &Message, now: Instant) -> Option<Resolved> {
        let Message::HandleResolutionResponse {
            pool_handle,
            elements,
            error,
            ..
        } = message
        else {
            return None;
        };
        if *pool_handle != self.pool_handle {
            return None;
        }
        self.suspects.retain(|&(_, t)| now < t + self.suspect_for);
        let mut cache = Pool::new();
        for e in elements {
            if self.suspects.iter().any(|&(id, _)| id == e.identifier) {
                continue;
            }
            // Elements whose policy disagrees with the first one's are left
            // out, as a registrar would have refused them.
            let _ = cache.insert(e.clone());
        }
        self.resolved_at = Some(now);
        if let Some(id) = self.current {
            if cache.get(id).is_none() {
                self.current = None;
            }
        }
        self.cache = cache;
        if elements.is_empty() {
            return Some(Resolved::Failed(error.clone()));
        }
        Some(Resolved::Elements(self.cache.len()))
    }

    /// Picks an element by the pool's policy (it becomes
    /// [`PoolUser::current`]); `None` when the cache has none.
    pub fn select(&mut self, rng: &mut impl Rng) -> Option<PoolElement> {
        let id = *self.cache.select(1, rng).first()?;
        self.current = Some(id);
        self.cache.get(id).cloned()
    }

    /// The element `identifier` stopped answering: it leaves the cache and
    /// the picks for the suspect time, and the Endpoint Unreachable report
    /// to send to the registrar is returned.
    pub fn unreachable(&mut self, identifier: u32, now: Instant) -> Message {
        self.cache.remove(identifier);
        self.suspects.retain(|&(id, _)| id != identifier);
        self.suspects.push((identifier, now));
        if self.current == Some(identifier) {
            self.current = None;
        }
        Message::EndpointUnreachable {
            pool_handle: self.pool_handle.clone(),
            identifier,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{CauseCode, Policy, Transport, TransportUse};
    use crate::policy::XorShift64;

    fn pe(id: u32) -> PoolElement {
        PoolElement {
            identifier: id,
            home_server: 1,
            registration_life: 30_000,
            user_transport: Transport::Sctp {
                port: 7000 + id as u16,
                transport_use: TransportUse::DataOnly,
                addresses: vec!["10.0.0.1".parse().unwrap()],
            },
            policy: Policy::RoundRobin,
            asap_transport: None,
        }
    }

    fn answer(ids: &[u32]) -> Message {
        Message::HandleResolutionResponse {
            pool_handle: PoolHandle::from("echo"),
            policy: Some(Policy::RoundRobin),
            elements: ids.iter().map(|&i| pe(i)).collect(),
            error: None,
        }
    }

    fn user() -> (PoolUser, Instant) {
        let u = PoolUser::new(
            PoolHandle::from("echo"),
            Duration::from_secs(5),
            Duration::from_secs(30),
        );
        (u, Instant::now())
    }

    #[test]
    fn resolves_picks_in_turn_and_goes_stale() {
        let (mut u, t0) = user();
        let mut rng = XorShift64::new(1);
        assert!(u.needs_resolution(t0));
        assert!(matches!(
            u.resolution_request(),
            Message::HandleResolution {
                items: Some(u32::MAX),
                ..
            }
        ));
        assert_eq!(
            u.on_message(&answer(&[1, 2]), t0),
            Some(Resolved::Elements(2))
        );
        assert!(!u.needs_resolution(t0 + Duration::from_secs(4)));
        assert!(u.needs_resolution(t0 + Duration::from_secs(5)));
        let a = u.select(&mut rng).unwrap().identifier;
        let b = u.select(&mut rng).unwrap().identifier;
        assert_ne!(a, b, "round robin takes turns");
        assert_eq!(u.current().map(|e| e.identifier), Some(b));
        // Another pool's answer is not ours.
        let other = Message::HandleResolutionResponse {
            pool_handle: PoolHandle::from("other"),
            policy: None,
            elements: vec![],
            error: None,
        };
        assert_eq!(u.on_message(&other, t0), None);
    }

    #[test]
    fn failover_reports_and_leaves_the_suspect_out() {
        let (mut u, t0) = user();
        let mut rng = XorShift64::new(1);
        u.on_message(&answer(&[1, 2]), t0);
        let first = u.select(&mut rng).unwrap().identifier;
        let report = u.unreachable(first, t0);
        assert_eq!(
            report,
            Message::EndpointUnreachable {
                pool_handle: PoolHandle::from("echo"),
                identifier: first
            }
        );
        assert!(u.current().is_none());
        let next = u.select(&mut rng).unwrap().identifier;
        assert_ne!(next, first);
        // The registrar still lists it (it has not acted on the report):
        // left out while a suspect, back after the suspect time.
        u.on_message(&answer(&[1, 2]), t0 + Duration::from_secs(10));
        assert_eq!(u.cache().len(), 1);
        assert!(u.cache().get(first).is_none());
        u.on_message(&answer(&[1, 2]), t0 + Duration::from_secs(31));
        assert_eq!(u.cache().len(), 2);
    }

    #[test]
    fn empty_answers_fail_with_the_registrars_reason() {
        let (mut u, t0) = user();
        let mut rng = XorShift64::new(1);
        let none = Message::HandleResolutionResponse {
            pool_handle: PoolHandle::from("echo"),
            policy: None,
            elements: vec![],
            error: Some(OperationError::new(CauseCode::UnknownPoolHandle)),
        };
        let Some(Resolved::Failed(Some(e))) = u.on_message(&none, t0) else {
            panic!("failed")
        };
        assert_eq!(e.code(), Some(CauseCode::UnknownPoolHandle));
        assert!(u.select(&mut rng).is_none());
        assert!(u.needs_resolution(t0));
        // Every element a suspect: an answer leaves nothing to pick.
        u.on_message(&answer(&[1]), t0);
        u.unreachable(1, t0);
        assert_eq!(u.on_message(&answer(&[1]), t0), Some(Resolved::Elements(0)));
        assert!(u.select(&mut rng).is_none());
    }
}
