//! Which request goes out next, on which stream (sans-I/O).
//!
//! Requests are spread round robin over the usable streams; at most `depth`
//! are outstanding on the association at once. Responses on one stream
//! come back in the order of that stream's requests.
//!
//! `Plan::one_per_stream` models a browser's parallel connections instead:
//! each "stream" (a connection) carries one request at a time and the next
//! request goes to whichever is free first.

use std::collections::VecDeque;

pub struct Plan {
    total: usize,
    streams: u16,
    depth: usize,
    next: usize,
    outstanding: usize,
    per_stream: Vec<VecDeque<usize>>,
    one_each: bool,
}

impl Plan {
    pub fn new(total: usize, streams: u16, depth: usize) -> Plan {
        let streams = streams.max(1);
        Plan {
            total,
            streams,
            depth: depth.max(1),
            next: 0,
            outstanding: 0,
            per_stream: vec![VecDeque::new(); streams as usize],
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

    /// The next request to send and its stream, if the depth allows one.
    pub fn next_request(&mut self) -> Option<(usize, u16)> {
        if self.next >= self.total || self.outstanding >= self.depth {
            return None;
        }
        let job = self.next;
        let sid = if self.one_each {
            self.per_stream.iter().position(VecDeque::is_empty)? as u16
        } else {
            (job % self.streams as usize) as u16
        };
        self.next += 1;
        self.outstanding += 1;
        self.per_stream[sid as usize].push_back(job);
        Some((job, sid))
    }

    /// The request whose response is arriving on `sid` (None: nothing is
    /// outstanding there).
    pub fn current(&self, sid: u16) -> Option<usize> {
        self.per_stream.get(sid as usize)?.front().copied()
    }

    /// The response on `sid` is complete; returns its request.
    pub fn completed(&mut self, sid: u16) -> Option<usize> {
        let j = self.per_stream.get_mut(sid as usize)?.pop_front()?;
        self.outstanding -= 1;
        Some(j)
    }

    /// Requests sent but not answered, per stream.
    pub fn unanswered(&self) -> Vec<usize> {
        self.per_stream.iter().flatten().copied().collect()
    }

    pub fn done(&self) -> bool {
        self.next >= self.total && self.outstanding == 0
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
        assert_eq!(p.per_stream[0], [0, 4, 8]);
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
}
