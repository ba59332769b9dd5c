//! Pool member selection policies (RFC 5356, and rsplib's additions): how
//! a registrar orders a pool's elements for a handle resolution and how a
//! pool user picks one from its cache. [`crate::pool::Pool`] keeps the
//! per-element state and applies these rules; this module says, for each
//! policy, what decides.
//!
//! Two families, as in rsplib:
//!
//! * **Ordered** policies sort the elements by a key, ties broken by each
//!   element's sequence number (the element picked longest ago first), and
//!   give the front of the list. Picking an element gives it a new, highest
//!   sequence number, so equal keys take turns: round robin is "all keys
//!   equal". Round robin, weighted round robin, priority, and the least used
//!   family (least used, with degradation, priority least used, with DPF).
//! * **Random** policies draw without replacement, each element with a
//!   probability proportional to its weight. Random, weighted random,
//!   randomized least used and its variants, weighted random with DPF.
//!
//! Selection is deterministic given the [`Rng`]: tests inject a seeded one.

use crate::params::{Policy, MAX_LOAD};

/// The source of randomness of the random policies.
pub trait Rng {
    fn next_u64(&mut self) -> u64;

    /// A number in `0..n` (`n > 0`). Modulo reduction: the bias is below
    /// 2^-32 for the weight sums a pool reaches.
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// A small deterministic generator (xorshift64*) for tests and for callers
/// that seed it from their own entropy.
#[derive(Debug, Clone)]
pub struct XorShift64(u64);

impl XorShift64 {
    pub fn new(seed: u64) -> Self {
        XorShift64(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }
}

impl Rng for XorShift64 {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Per-element state that selections change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct State {
    /// Order of last selection (or of insertion): lower goes first on ties.
    pub seq: u64,
    /// Weighted round robin: the round the element is in, and the picks it
    /// has left in that round.
    pub round: u64,
    pub credit: u32,
    /// The least-used-with-degradation family: load added by picks since
    /// the element last reported its load.
    pub degradation: u32,
}

/// How a policy selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Ordered,
    Random,
}

pub(crate) fn family(policy: &Policy) -> Family {
    match policy {
        Policy::Random
        | Policy::WeightedRandom { .. }
        | Policy::RandomizedLeastUsed { .. }
        | Policy::RandomizedPriorityLeastUsed { .. }
        | Policy::RandomizedLeastUsedDegradation { .. }
        | Policy::RandomizedPriorityLeastUsedDegradation { .. }
        | Policy::WeightedRandomDpf { .. } => Family::Random,
        _ => Family::Ordered,
    }
}

fn sum_capped(parts: &[u64]) -> u64 {
    parts.iter().sum::<u64>().min(u64::from(MAX_LOAD))
}

/// `distance * dpf`: the load (or weight fraction) a distance penalty
/// factor adds, capped at full load.
fn penalty(distance: u32, dpf: u32) -> u64 {
    (u128::from(distance) * u128::from(dpf)).min(u128::from(MAX_LOAD)) as u64
}

/// The sort key of an ordered policy (lower first), or `None` if the
/// element is never selected (weighted round robin with weight 0).
pub(crate) fn key(policy: &Policy, s: &State) -> Option<u64> {
    let d = u64::from(s.degradation);
    Some(match *policy {
        Policy::WeightedRoundRobin { weight } => {
            if weight == 0 {
                return None;
            }
            s.round
        }
        Policy::Priority { priority } => u64::from(u32::MAX - priority),
        Policy::LeastUsed { load } => u64::from(load),
        Policy::LeastUsedDegradation { load, .. } => sum_capped(&[load.into(), d]),
        Policy::PriorityLeastUsed { load, degradation } => {
            sum_capped(&[load.into(), degradation.into()])
        }
        Policy::PriorityLeastUsedDegradation { load, degradation } => {
            sum_capped(&[load.into(), degradation.into(), d])
        }
        Policy::LeastUsedDpf {
            load,
            load_dpf,
            distance,
        } => sum_capped(&[load.into(), penalty(distance, load_dpf)]),
        Policy::LeastUsedDegradationDpf {
            load,
            load_dpf,
            distance,
            ..
        } => sum_capped(&[load.into(), d, penalty(distance, load_dpf)]),
        // Round robin, and policies this crate does not know: equal keys,
        // so the sequence numbers make it round robin.
        _ => 0,
    })
}

/// The weight of a random policy (0: never selected).
pub(crate) fn weight(policy: &Policy, s: &State) -> u64 {
    // Spare capacity, at least 1 so that a fully loaded element keeps a
    // small chance (as rsplib does).
    let spare = |used: &[u64]| (u64::from(MAX_LOAD).saturating_sub(used.iter().sum())).max(1);
    let d = u64::from(s.degradation);
    match *policy {
        Policy::WeightedRandom { weight } => weight.into(),
        Policy::RandomizedLeastUsed { load } => spare(&[load.into()]),
        Policy::RandomizedPriorityLeastUsed { load, degradation } => {
            spare(&[load.into(), degradation.into()])
        }
        Policy::RandomizedLeastUsedDegradation { load, .. } => spare(&[load.into(), d]),
        Policy::RandomizedPriorityLeastUsedDegradation { load, degradation } => {
            spare(&[load.into(), degradation.into(), d])
        }
        Policy::WeightedRandomDpf {
            weight,
            weight_dpf,
            distance,
        } => {
            if weight == 0 {
                return 0;
            }
            // weight * (1 - distance * dpf / MAX), at least 1.
            let cut = u128::from(weight) * u128::from(distance) * u128::from(weight_dpf)
                / u128::from(MAX_LOAD);
            u128::from(weight).saturating_sub(cut).max(1) as u64
        }
        _ => 1,
    }
}

/// What a pick changes, beyond the sequence number.
pub(crate) fn picked(policy: &Policy, s: &mut State) {
    match *policy {
        Policy::WeightedRoundRobin { weight } => {
            if s.credit > 1 {
                s.credit -= 1;
            } else {
                s.round += 1;
                s.credit = weight;
            }
        }
        Policy::LeastUsedDegradation { degradation, .. }
        | Policy::PriorityLeastUsedDegradation { degradation, .. }
        | Policy::LeastUsedDegradationDpf { degradation, .. }
        | Policy::RandomizedLeastUsedDegradation { degradation, .. }
        | Policy::RandomizedPriorityLeastUsedDegradation { degradation, .. } => {
            s.degradation = s.degradation.saturating_add(degradation);
        }
        _ => {}
    }
}

/// Whether the pool member selection policies `a` and `b` may share a pool
/// (the same policy type; RFC 5352 has the registrar reject a registration
/// whose policy differs from the pool's).
pub fn compatible(a: &Policy, b: &Policy) -> bool {
    a.policy_type() == b.policy_type()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_is_deterministic_and_not_stuck() {
        let mut a = XorShift64::new(7);
        let mut b = XorShift64::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert!(xs.windows(2).all(|w| w[0] != w[1]));
        let mut z = XorShift64::new(0);
        assert_ne!(z.next_u64(), 0);
    }

    #[test]
    fn keys_and_weights() {
        let s = State::default();
        assert_eq!(key(&Policy::RoundRobin, &s), Some(0));
        assert_eq!(key(&Policy::WeightedRoundRobin { weight: 0 }, &s), None);
        assert!(
            key(&Policy::Priority { priority: 9 }, &s) < key(&Policy::Priority { priority: 1 }, &s)
        );
        let full = Policy::PriorityLeastUsed {
            load: MAX_LOAD,
            degradation: MAX_LOAD,
        };
        assert_eq!(key(&full, &s), Some(u64::from(MAX_LOAD)));
        assert_eq!(
            weight(&Policy::RandomizedLeastUsed { load: MAX_LOAD }, &s),
            1
        );
        assert_eq!(
            weight(&Policy::RandomizedLeastUsed { load: 0 }, &s),
            u64::from(MAX_LOAD)
        );
        assert_eq!(weight(&Policy::WeightedRandom { weight: 0 }, &s), 0);
        let far = Policy::WeightedRandomDpf {
            weight: 100,
            weight_dpf: MAX_LOAD / 2,
            distance: 1,
        };
        assert_eq!(weight(&far, &s), 51);
        let too_far = Policy::WeightedRandomDpf {
            weight: 100,
            weight_dpf: MAX_LOAD,
            distance: 3,
        };
        assert_eq!(weight(&too_far, &s), 1);
    }

    #[test]
    fn degradation_saturates() {
        let p = Policy::LeastUsedDegradation {
            load: 0,
            degradation: MAX_LOAD / 2 + 1,
        };
        let mut s = State::default();
        picked(&p, &mut s);
        picked(&p, &mut s);
        assert_eq!(s.degradation, MAX_LOAD);
        assert_eq!(key(&p, &s), Some(u64::from(MAX_LOAD)));
    }
}
