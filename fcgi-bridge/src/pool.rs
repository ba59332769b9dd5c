//! The frontend's associations to one backend, sans-I/O: which has a free
//! request stream, when to open another association, and when to wait.
//!
//! Every association runs at most min(FCGI_MAX_REQS, streams - 2) requests
//! (its [`StreamPlan`]). When none has a free stream the caller opens
//! another association, up to `max_assocs`, or waits; a request is never
//! refused for want of a stream. Until a backend has told its capacity,
//! associations are opened one at a time; a backend that takes one request
//! per association (stock libfcgi) gets up to [`PARALLEL_CONNECTS`] opened
//! at once.

use fastcgi::stream_plan::StreamPlan;

/// Associations being set up at once when each carries one request.
pub const PARALLEL_CONNECTS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// Use `stream` of association `assoc`.
    Stream { assoc: u64, stream: u16 },
    /// Open another association, then call [`Pool::connected`] or
    /// [`Pool::connect_failed`].
    Connect,
    /// Wait until a stream is released or an association added or lost.
    Wait,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    plan: StreamPlan,
}

#[derive(Debug)]
pub struct Pool {
    assocs: Vec<Entry>,
    connecting: usize,
    max_assocs: usize,
    next_id: u64,
    /// Capacity of the last association that came up (None: not known).
    last_capacity: Option<usize>,
}

impl Pool {
    pub fn new(max_assocs: usize) -> Pool {
        Pool {
            assocs: Vec::new(),
            connecting: 0,
            max_assocs: max_assocs.max(1),
            next_id: 1,
            last_capacity: None,
        }
    }

    pub fn acquire(&mut self) -> Acquire {
        for e in &mut self.assocs {
            if let Some(stream) = e.plan.acquire() {
                return Acquire::Stream {
                    assoc: e.id,
                    stream,
                };
            }
        }
        let parallel = match self.last_capacity {
            Some(1) => PARALLEL_CONNECTS,
            _ => 1,
        };
        if self.assocs.len() + self.connecting < self.max_assocs && self.connecting < parallel {
            self.connecting += 1;
            return Acquire::Connect;
        }
        Acquire::Wait
    }

    /// A new association with `plan` is up: its id, and a stream of it for
    /// the caller that opened it.
    pub fn connected(&mut self, plan: StreamPlan) -> (u64, Option<u16>) {
        self.connecting = self.connecting.saturating_sub(1);
        self.last_capacity = Some(plan.capacity());
        let id = self.next_id;
        self.next_id += 1;
        let mut e = Entry { id, plan };
        let s = e.plan.acquire();
        self.assocs.push(e);
        (id, s)
    }

    pub fn connect_failed(&mut self) {
        self.connecting = self.connecting.saturating_sub(1);
    }

    /// The request on `stream` of `assoc` ended (its END_REQUEST arrived).
    pub fn release(&mut self, assoc: u64, stream: u16) -> bool {
        self.assocs
            .iter_mut()
            .find(|e| e.id == assoc)
            .is_some_and(|e| e.plan.release(stream))
    }

    /// The association is gone.
    pub fn remove(&mut self, assoc: u64) {
        self.assocs.retain(|e| e.id != assoc);
    }

    #[cfg(test)]
    pub fn associations(&self) -> usize {
        self.assocs.len()
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.assocs.iter().map(|e| e.plan.in_flight()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(streams: u16, max_reqs: usize) -> StreamPlan {
        let mut p = StreamPlan::new(streams).unwrap();
        p.set_max_requests(max_reqs);
        p
    }

    #[test]
    fn fills_streams_then_opens_another_association() {
        let mut p = Pool::new(8);
        assert_eq!(p.acquire(), Acquire::Connect);
        assert_eq!(p.acquire(), Acquire::Wait, "one connect at a time at first");
        let (a, s) = p.connected(plan(5, 100));
        assert_eq!(s, Some(2));
        assert_eq!(
            p.acquire(),
            Acquire::Stream {
                assoc: a,
                stream: 3
            }
        );
        assert_eq!(
            p.acquire(),
            Acquire::Stream {
                assoc: a,
                stream: 4
            }
        );
        assert_eq!(p.acquire(), Acquire::Connect, "all 3 request streams busy");
        assert_eq!(p.acquire(), Acquire::Wait);
        assert!(p.release(a, 3));
        assert!(!p.release(a, 3));
        assert_eq!(
            p.acquire(),
            Acquire::Stream {
                assoc: a,
                stream: 3
            }
        );
        let (b, s) = p.connected(plan(5, 100));
        assert_ne!(a, b);
        assert_eq!(s, Some(2));
        assert_eq!(p.associations(), 2);
        assert_eq!(p.in_flight(), 4);
        p.remove(a);
        assert_eq!(p.in_flight(), 1);
        assert!(!p.release(a, 2), "gone");
    }

    #[test]
    fn one_request_per_association_backends_get_parallel_connects() {
        let mut p = Pool::new(6);
        assert_eq!(p.acquire(), Acquire::Connect);
        p.connected(plan(34, 1));
        let connects = (0..10).filter(|_| p.acquire() == Acquire::Connect).count();
        assert_eq!(connects, PARALLEL_CONNECTS);
        for _ in 0..PARALLEL_CONNECTS {
            let (_, s) = p.connected(plan(34, 1));
            assert_eq!(s, Some(2));
        }
        assert_eq!(p.associations(), 5);
        assert_eq!(p.acquire(), Acquire::Connect, "the sixth and last");
        p.connect_failed();
        assert_eq!(
            p.acquire(),
            Acquire::Connect,
            "a failed connect frees its place"
        );
        p.connected(plan(34, 1));
        assert_eq!(p.acquire(), Acquire::Wait, "max_assocs reached: wait");
    }
}
