//! Which request goes out next, on which association and stream (sans-I/O).
//!
//! The requests are spread over `groups` associations (one by default), each
//! with `streams` streams and at most `depth` requests outstanding. The next
//! request goes to the association with the fewest outstanding (the lowest
//! index among equals), so that with everything sent at once the
//! associations take turns, and a slow one gets fewer; within an
//! association its requests go round robin over its streams. Responses on
//! one stream come back in the order of that stream's requests.
//!
//! A request's place is a slot: `group * streams + stream`, see
//! [`Plan::split`].
//!
//! `Plan::one_per_stream` models a browser's parallel connections instead:
//! each "stream" (a connection) carries one request at a time and the next
//! request goes to whichever is free first.

use std::collections::VecDeque;

pub struct Plan {
    total: usize,
    streams: usize,
    depth: usize,
    next: usize,
    /// Per group: requests sent and not yet answered.
    outstanding: Vec<usize>,
    /// Per group: requests it has been given (its round robin's position).
    given: Vec<usize>,
    per_slot: Vec<VecDeque<usize>>,
    one_each: bool,
}

impl Plan {
    /// One association: round robin over `streams`, at most `depth`
    /// outstanding.
    pub fn new(total: usize, streams: u16, depth: usize) -> Plan {
        Plan::grouped(total, 1, streams, depth)
    }

    /// `groups` associations of `streams` streams each, at most `depth`
    /// outstanding on each.
    pub fn grouped(total: usize, groups: usize, streams: u16, depth: usize) -> Plan {
        let groups = groups.max(1);
        let streams = streams.max(1) as usize;
        Plan {
            total,
            streams,
            depth: depth.max(1),
            next: 0,
            outstanding: vec![0; groups],
            given: vec![0; groups],
            per_slot: vec![VecDeque::new(); groups * streams],
            one_each: false,
        }
    }

    /// At most one request outstanding per stream; the next request takes
    /// the lowest free stream.
    pub fn one_per_stream(total: usize, streams: u16) -> Plan {
        let mut p = Plan::new(total, streams, streams as usize);
        p.one_each = true;
        p
    }

    /// A slot's (group, stream).
    pub fn split(&self, slot: usize) -> (usize, u16) {
        (slot / self.streams, (slot % self.streams) as u16)
    }

    /// The slot of `stream` in `group`.
    pub fn slot(&self, group: usize, stream: u16) -> usize {
        group * self.streams + stream as usize
    }

    /// The next request to send and its slot, if a depth allows one.
    pub fn next_request(&mut self) -> Option<(usize, usize)> {
        if self.next >= self.total {
            return None;
        }
        let slot = if self.one_each {
            self.per_slot.iter().position(VecDeque::is_empty)?
        } else {
            let g = (0..self.outstanding.len())
                .filter(|&g| self.outstanding[g] < self.depth)
                .min_by_key(|&g| self.outstanding[g])?;
            g * self.streams + self.given[g] % self.streams
        };
        let g = slot / self.streams;
        let job = self.next;
        self.next += 1;
        self.outstanding[g] += 1;
        self.given[g] += 1;
        self.per_slot[slot].push_back(job);
        Some((job, slot))
    }

    /// The request whose response is arriving on `slot` (None: nothing is
    /// outstanding there).
    pub fn current(&self, slot: usize) -> Option<usize> {
        self.per_slot.get(slot)?.front().copied()
    }

    /// The response on `slot` is complete; returns its request.
    pub fn completed(&mut self, slot: usize) -> Option<usize> {
        let j = self.per_slot.get_mut(slot)?.pop_front()?;
        self.outstanding[slot / self.streams] -= 1;
        Some(j)
    }

    /// Requests sent but not answered, per slot.
    pub fn unanswered(&self) -> Vec<usize> {
        self.per_slot.iter().flatten().copied().collect()
    }

    pub fn done(&self) -> bool {
        self.next >= self.total && self.outstanding.iter().all(|&o| o == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_within_depth() {
        let mut p = Plan::new(10, 4, 3);
        let first: Vec<_> = std::iter::from_fn(|| p.next_request()).collect();
        assert_eq!(first, vec![(0, 0), (1, 1), (2, 2)], "depth 3");
        assert_eq!(p.current(1), Some(1));
        assert_eq!(p.current(3), None);
        assert_eq!(p.completed(1), Some(1));
        assert_eq!(p.next_request(), Some((3, 3)));
        assert_eq!(p.next_request(), None);
        assert_eq!(p.unanswered(), vec![0, 2, 3]);
        while let Some(s) = (0..4).find(|&s| p.current(s).is_some()) {
            p.completed(s);
            while p.next_request().is_some() {}
        }
        assert!(p.done());
        // Stream 0 carried requests 0, 4 and 8, in that order.
        let mut p = Plan::new(9, 4, 100);
        while p.next_request().is_some() {}
        assert_eq!(p.per_slot[0], [0, 4, 8]);
        assert_eq!(p.completed(2), Some(2));
        assert_eq!(p.completed(2), Some(6));
        assert_eq!(p.completed(2), None);
    }

    #[test]
    fn one_per_stream_takes_the_free_one() {
        let mut p = Plan::one_per_stream(5, 3);
        let first: Vec<_> = std::iter::from_fn(|| p.next_request()).collect();
        assert_eq!(first, vec![(0, 0), (1, 1), (2, 2)]);
        assert_eq!(p.completed(1), Some(1));
        assert_eq!(p.next_request(), Some((3, 1)), "stream 1 was free first");
        assert_eq!(p.next_request(), None);
        assert_eq!(p.completed(0), Some(0));
        assert_eq!(p.next_request(), Some((4, 0)));
        for s in 0..3 {
            p.completed(s);
        }
        assert!(p.done());
    }

    /// Sent at once, the associations take turns, the first request of
    /// association g being request g on its stream 0 (what sctp-http sends
    /// with each handshake); each association's requests go round robin
    /// over its own streams.
    #[test]
    fn associations_take_turns_then_the_least_loaded_gets_the_next() {
        let mut p = Plan::grouped(14, 3, 2, 4);
        let sent: Vec<_> = std::iter::from_fn(|| p.next_request()).collect();
        let places: Vec<_> = sent.iter().map(|&(j, s)| (j, p.split(s))).collect();
        assert_eq!(
            places,
            vec![
                (0, (0, 0)),
                (1, (1, 0)),
                (2, (2, 0)),
                (3, (0, 1)),
                (4, (1, 1)),
                (5, (2, 1)),
                (6, (0, 0)),
                (7, (1, 0)),
                (8, (2, 0)),
                (9, (0, 1)),
                (10, (1, 1)),
                (11, (2, 1)),
            ],
            "depth 4 per association: 12 of 14 out"
        );
        assert_eq!(p.slot(2, 1), 5);
        assert_eq!(p.split(5), (2, 1));
        // Association 2 answers twice: the next two go there, on its
        // streams in turn.
        assert_eq!(p.completed(p.slot(2, 0)), Some(2));
        assert_eq!(p.completed(p.slot(2, 1)), Some(5));
        assert_eq!(p.current(p.slot(2, 0)), Some(8));
        let (j, s) = p.next_request().unwrap();
        assert_eq!((j, p.split(s)), (12, (2, 0)));
        let (j, s) = p.next_request().unwrap();
        assert_eq!((j, p.split(s)), (13, (2, 1)));
        assert_eq!(p.next_request(), None, "all sent");
        assert!(!p.done());
        for s in 0..6 {
            while p.completed(s).is_some() {}
        }
        assert!(p.done());
    }

    /// With a depth of one per association, the next request goes to
    /// whichever association answered first (the lowest among free ones).
    #[test]
    fn a_full_association_is_skipped() {
        let mut p = Plan::grouped(5, 2, 4, 1);
        assert_eq!(p.next_request(), Some((0, p.slot(0, 0))));
        assert_eq!(p.next_request(), Some((1, p.slot(1, 0))));
        assert_eq!(p.next_request(), None, "both at their depth");
        assert_eq!(p.completed(p.slot(1, 0)), Some(1));
        assert_eq!(p.next_request(), Some((2, p.slot(1, 1))));
        assert_eq!(p.completed(p.slot(0, 0)), Some(0));
        assert_eq!(p.next_request(), Some((3, p.slot(0, 1))));
        assert_eq!(p.unanswered(), vec![3, 2]);
    }
}
