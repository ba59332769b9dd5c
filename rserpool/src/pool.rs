//! A pool: its elements (as registered, or as a pool user's cache learned
//! them from handle resolutions) and the selection state of its policy.
//! A registrar keeps one per pool handle and answers a handle resolution
//! with [`Pool::select`]; a pool user keeps one per pool it talks to and
//! picks a PE with `select(1, ..)`.

use crate::params::{PoolElement, MAX_LOAD};
use crate::policy::{self, Family, Rng, State};

/// What [`Pool::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// A new element.
    Added,
    /// An element already there (a re-registration): its parameters were
    /// replaced; its place in the selection order was kept, and the load
    /// its picks had added (degradation) dropped, since it now reports its
    /// own.
    Updated,
}

/// Why [`Pool::insert`] refused an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolError {
    /// The element's policy type differs from the pool's (the registrar
    /// answers with cause Inconsistent Pooling Policy, as rsplib does).
    InconsistentPolicy { pool: u32, element: u32 },
}

#[derive(Debug, Clone)]
struct Member {
    element: PoolElement,
    state: State,
}

/// The elements of one pool and their selection state.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    members: Vec<Member>,
    next_seq: u64,
}

impl Pool {
    pub fn new() -> Self {
        Pool::default()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The pool's policy type: that of its elements.
    pub fn policy_type(&self) -> Option<u32> {
        self.members.first().map(|m| m.element.policy.policy_type())
    }

    pub fn get(&self, identifier: u32) -> Option<&PoolElement> {
        self.members
            .iter()
            .find(|m| m.element.identifier == identifier)
            .map(|m| &m.element)
    }

    /// The elements, in the order they were added.
    pub fn elements(&self) -> impl Iterator<Item = &PoolElement> {
        self.members.iter().map(|m| &m.element)
    }

    /// Adds `element`, or replaces the element with its identifier.
    pub fn insert(&mut self, element: PoolElement) -> Result<Inserted, PoolError> {
        if let Some(pool) = self
            .members
            .iter()
            .find(|m| m.element.identifier != element.identifier)
        {
            if !policy::compatible(&pool.element.policy, &element.policy) {
                return Err(PoolError::InconsistentPolicy {
                    pool: pool.element.policy.policy_type(),
                    element: element.policy.policy_type(),
                });
            }
        }
        if let Some(m) = self
            .members
            .iter_mut()
            .find(|m| m.element.identifier == element.identifier)
        {
            if !policy::compatible(&m.element.policy, &element.policy) {
                // The only element changes its policy: start afresh.
                m.state.round = 0;
            }
            m.element = element;
            m.state.degradation = 0;
            m.state.credit = m.state.credit.min(wrr_weight(&m.element));
            return Ok(Inserted::Updated);
        }
        // A new weighted-round-robin element joins the current round.
        let round = self
            .members
            .iter()
            .map(|m| m.state.round)
            .min()
            .unwrap_or(0);
        let state = State {
            seq: self.take_seq(),
            round,
            credit: wrr_weight(&element),
            degradation: 0,
        };
        self.members.push(Member { element, state });
        Ok(Inserted::Added)
    }

    /// Removes the element `identifier` (deregistration, expiry, failure).
    pub fn remove(&mut self, identifier: u32) -> Option<PoolElement> {
        let i = self
            .members
            .iter()
            .position(|m| m.element.identifier == identifier)?;
        Some(self.members.remove(i).element)
    }

    fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Selects up to `count` distinct elements by the pool's policy and
    /// returns their identifiers, best first. The first pick counts as
    /// used (round robin moves on by one, degradation grows once), as in
    /// rsplib's registrar with its default `-maxincrement=1`.
    pub fn select(&mut self, count: usize, rng: &mut impl Rng) -> Vec<u32> {
        self.select_advancing(count, 1, rng)
    }

    /// Like [`Pool::select`], with the first `advance` picks counted as
    /// used (`advance >= count`: all of them).
    pub fn select_advancing(
        &mut self,
        count: usize,
        advance: usize,
        rng: &mut impl Rng,
    ) -> Vec<u32> {
        let Some(first) = self.members.first() else {
            return Vec::new();
        };
        let picks = match policy::family(&first.element.policy) {
            Family::Ordered => self.pick_ordered(count),
            Family::Random => self.pick_random(count, rng),
        };
        for &i in picks.iter().take(advance) {
            let seq = self.take_seq();
            let m = &mut self.members[i];
            m.state.seq = seq;
            policy::picked(&m.element.policy, &mut m.state);
        }
        picks
            .into_iter()
            .map(|i| self.members[i].element.identifier)
            .collect()
    }

    fn pick_ordered(&self, count: usize) -> Vec<usize> {
        let mut keyed: Vec<(u64, u64, usize)> = self
            .members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                policy::key(&m.element.policy, &m.state).map(|k| (k, m.state.seq, i))
            })
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().take(count).map(|(_, _, i)| i).collect()
    }

    fn pick_random(&self, count: usize, rng: &mut impl Rng) -> Vec<usize> {
        let mut left: Vec<(u64, usize)> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (policy::weight(&m.element.policy, &m.state), i))
            .filter(|&(w, _)| w > 0)
            .collect();
        let mut picks = Vec::new();
        while picks.len() < count && !left.is_empty() {
            let total: u64 = left.iter().map(|&(w, _)| w).sum();
            let mut r = rng.below(total);
            let at = left
                .iter()
                .position(|&(w, _)| {
                    if r < w {
                        true
                    } else {
                        r -= w;
                        false
                    }
                })
                .expect("r < total");
            picks.push(left.remove(at).1);
        }
        picks
    }
}

fn wrr_weight(e: &PoolElement) -> u32 {
    match e.policy {
        crate::params::Policy::WeightedRoundRobin { weight } => weight,
        _ => 0,
    }
}

/// Load as a fraction of [`MAX_LOAD`], for callers that think in percent.
pub fn load_from_percent(percent: f64) -> u32 {
    (percent.clamp(0.0, 100.0) / 100.0 * f64::from(MAX_LOAD)).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Policy, Transport, TransportUse};
    use crate::policy::XorShift64;
    use std::net::{IpAddr, Ipv4Addr};

    fn pe(id: u32, policy: Policy) -> PoolElement {
        PoolElement {
            identifier: id,
            home_server: 0,
            registration_life: 30_000,
            user_transport: Transport::Sctp {
                port: 7,
                transport_use: TransportUse::DataOnly,
                addresses: vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, id as u8))],
            },
            policy,
            asap_transport: None,
        }
    }

    fn pool(policies: &[(u32, Policy)]) -> Pool {
        let mut p = Pool::new();
        for (id, pol) in policies {
            assert_eq!(p.insert(pe(*id, pol.clone())), Ok(Inserted::Added));
        }
        p
    }

    fn picks(p: &mut Pool, n: usize, rng: &mut XorShift64) -> Vec<u32> {
        (0..n).map(|_| p.select(1, rng)[0]).collect()
    }

    #[test]
    fn round_robin() {
        let mut rng = XorShift64::new(1);
        let mut p = pool(&[
            (1, Policy::RoundRobin),
            (2, Policy::RoundRobin),
            (3, Policy::RoundRobin),
        ]);
        assert_eq!(picks(&mut p, 7, &mut rng), [1, 2, 3, 1, 2, 3, 1]);
        // A handle resolution of 3 moves on by one.
        assert_eq!(p.select(3, &mut rng), [2, 3, 1]);
        assert_eq!(p.select(3, &mut rng), [3, 1, 2]);
        // Advancing all: the next list starts after the whole list.
        assert_eq!(p.select_advancing(2, 2, &mut rng), [1, 2]);
        assert_eq!(p.select(3, &mut rng), [3, 1, 2]);
        // A new element joins at the end of the turn; a removed one leaves.
        p.insert(pe(4, Policy::RoundRobin)).unwrap();
        assert_eq!(picks(&mut p, 5, &mut rng), [1, 2, 3, 4, 1]);
        assert_eq!(p.remove(2).map(|e| e.identifier), Some(2));
        assert_eq!(picks(&mut p, 3, &mut rng), [3, 4, 1]);
        assert_eq!(p.select(9, &mut rng), [3, 4, 1]);
    }

    #[test]
    fn weighted_round_robin() {
        let mut rng = XorShift64::new(1);
        let w = |weight| Policy::WeightedRoundRobin { weight };
        let mut p = pool(&[(1, w(2)), (2, w(1)), (3, w(0))]);
        assert_eq!(picks(&mut p, 9, &mut rng), [1, 2, 1, 2, 1, 1, 2, 1, 1]);
        // Weight 0 is never selected.
        assert_eq!(p.select(3, &mut rng), [2, 1]);
        // Each round gives weight-many picks.
        let mut p = pool(&[(1, w(3)), (2, w(1))]);
        let s = picks(&mut p, 40, &mut rng);
        assert_eq!(s.iter().filter(|&&x| x == 1).count(), 30);
    }

    #[test]
    fn priority() {
        let mut rng = XorShift64::new(1);
        let pr = |priority| Policy::Priority { priority };
        let mut p = pool(&[(1, pr(1)), (2, pr(7)), (3, pr(7)), (4, pr(3))]);
        // The highest priority, round robin among equals.
        assert_eq!(picks(&mut p, 4, &mut rng), [2, 3, 2, 3]);
        assert_eq!(p.select(4, &mut rng), [2, 3, 4, 1]);
        p.remove(2);
        p.remove(3);
        assert_eq!(picks(&mut p, 2, &mut rng), [4, 4]);
    }

    #[test]
    fn least_used() {
        let mut rng = XorShift64::new(1);
        let lu = |load| Policy::LeastUsed { load };
        let mut p = pool(&[(1, lu(500)), (2, lu(100)), (3, lu(100)), (4, lu(0))]);
        assert_eq!(picks(&mut p, 3, &mut rng), [4, 4, 4]);
        assert_eq!(p.select(4, &mut rng), [4, 2, 3, 1]);
        // A new load report (re-registration) reorders.
        assert_eq!(p.insert(pe(4, lu(900))), Ok(Inserted::Updated));
        assert_eq!(picks(&mut p, 4, &mut rng), [2, 3, 2, 3]);
    }

    #[test]
    fn least_used_with_degradation() {
        let mut rng = XorShift64::new(1);
        let lud = |load| Policy::LeastUsedDegradation {
            load,
            degradation: 100,
        };
        let mut p = pool(&[(1, lud(0)), (2, lud(150))]);
        // 1 is picked until its assumed load (0 + 100 per pick) passes 2's.
        assert_eq!(picks(&mut p, 5, &mut rng), [1, 1, 2, 1, 2]);
        // A load report resets the degradation.
        p.insert(pe(1, lud(0))).unwrap();
        assert_eq!(picks(&mut p, 1, &mut rng), [1]);
    }

    #[test]
    fn priority_least_used() {
        let mut rng = XorShift64::new(1);
        let plu = |load, degradation| Policy::PriorityLeastUsed { load, degradation };
        let mut p = pool(&[(1, plu(100, 300)), (2, plu(200, 100))]);
        assert_eq!(picks(&mut p, 3, &mut rng), [2, 2, 2]);
    }

    #[test]
    fn random_is_uniform_and_seeded() {
        let mut p = pool(&[
            (1, Policy::Random),
            (2, Policy::Random),
            (3, Policy::Random),
        ]);
        let mut a = XorShift64::new(42);
        let mut b = XorShift64::new(42);
        let s = picks(&mut p, 3000, &mut a);
        assert_eq!(s, picks(&mut p, 3000, &mut b));
        for id in 1..=3 {
            let n = s.iter().filter(|&&x| x == id).count();
            assert!((900..1100).contains(&n), "{id}: {n}");
        }
        // Without replacement: all three, each once.
        let mut all = p.select(5, &mut a);
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3]);
    }

    #[test]
    fn weighted_random() {
        let wr = |weight| Policy::WeightedRandom { weight };
        let mut p = pool(&[(1, wr(1)), (2, wr(3)), (3, wr(0))]);
        let mut rng = XorShift64::new(9);
        let s = picks(&mut p, 4000, &mut rng);
        let ones = s.iter().filter(|&&x| x == 1).count();
        assert!((900..1100).contains(&ones), "{ones}");
        assert!(!s.contains(&3));
        assert_eq!(p.select(3, &mut rng).len(), 2);
    }

    #[test]
    fn randomized_least_used_prefers_spare_capacity() {
        let rlu = |percent| Policy::RandomizedLeastUsed {
            load: load_from_percent(percent),
        };
        let mut p = pool(&[(1, rlu(75.0)), (2, rlu(25.0))]);
        let mut rng = XorShift64::new(5);
        let s = picks(&mut p, 4000, &mut rng);
        let ones = s.iter().filter(|&&x| x == 1).count();
        assert!((900..1100).contains(&ones), "{ones}");
    }

    #[test]
    fn a_fixed_seed_gives_a_fixed_sequence() {
        let mut p = pool(&[
            (1, Policy::Random),
            (2, Policy::Random),
            (3, Policy::Random),
        ]);
        let mut rng = XorShift64::new(2024);
        let first = picks(&mut p, 8, &mut rng);
        let mut rng = XorShift64::new(2024);
        assert_eq!(picks(&mut p, 8, &mut rng), first);
    }

    #[test]
    fn inconsistent_policy_is_refused() {
        let mut p = pool(&[(1, Policy::RoundRobin)]);
        assert_eq!(
            p.insert(pe(2, Policy::Priority { priority: 7 })),
            Err(PoolError::InconsistentPolicy {
                pool: 1,
                element: 5
            })
        );
        // The only element may change its own policy.
        assert_eq!(p.insert(pe(1, Policy::Random)), Ok(Inserted::Updated));
        assert_eq!(p.policy_type(), Some(3));
    }

    #[test]
    fn empty_pool() {
        let mut p = Pool::new();
        assert!(p.is_empty());
        assert_eq!(p.select(3, &mut XorShift64::new(1)), Vec::<u32>::new());
        assert_eq!(p.remove(1), None);
        assert_eq!(load_from_percent(100.0), MAX_LOAD);
        assert_eq!(load_from_percent(-3.0), 0);
    }
}
