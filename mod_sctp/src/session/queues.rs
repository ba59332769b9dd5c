//! Bounded per-stream input queues of one association (sans-I/O).
//!
//! What the peer sent on each SCTP stream and nobody has read yet, one
//! queue per stream, with two bounds: `SCTPMaxStreamQueue` for one stream's
//! queue and `SCTPMaxAssociationQueue` for all of them together. A push that
//! would exceed either bound queues nothing and says which bound it hit.
//!
//! Both the serial path (`stream_demux`, one request at a time) and the
//! concurrent [`Session`](super::Session) keep their bytes here; they differ
//! only in who may read which queue when.

use std::collections::{BTreeMap, VecDeque};

/// Which bound a push exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// The stream's queue would exceed the per-stream bound.
    Stream(u16),
    /// All queues together would exceed the per-association bound.
    Association,
}

/// The queued input of one stream.
#[derive(Default)]
pub struct StreamQueue {
    bytes: VecDeque<u8>,
}

impl StreamQueue {
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Removes and returns up to `n` bytes from the head.
    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.bytes.len());
        self.bytes.drain(..n).collect()
    }

    /// Up to `n` bytes from the head, left queued.
    pub fn peek(&self, n: usize) -> Vec<u8> {
        self.bytes.iter().take(n).copied().collect()
    }

    /// The bytes up to and including the first LF, if a whole line (of at
    /// most `max` bytes) is queued; `Ok(None)` when more data is needed;
    /// `Err(())` when no LF is within `max` bytes.
    #[allow(clippy::result_unit_err)]
    pub fn read_line(&mut self, max: usize) -> Result<Option<Vec<u8>>, ()> {
        match self.bytes.iter().take(max).position(|&b| b == b'\n') {
            Some(i) => Ok(Some(self.take(i + 1))),
            None if self.bytes.len() >= max => Err(()),
            None => Ok(None),
        }
    }

    /// Drops CR and LF bytes at the head (blank lines between pipelined
    /// requests); returns how many.
    pub fn eat_crlf(&mut self) -> usize {
        let n = self
            .bytes
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        self.take(n).len()
    }
}

/// The queues of one association, with their bounds.
pub struct Queues {
    queues: BTreeMap<u16, StreamQueue>,
    queued: usize,
    per_stream_max: usize,
    per_assoc_max: usize,
}

impl Queues {
    pub fn new(per_stream_max: usize, per_assoc_max: usize) -> Self {
        Queues {
            queues: BTreeMap::new(),
            queued: 0,
            per_stream_max,
            per_assoc_max,
        }
    }

    /// Queues bytes that arrived on `sid`. Nothing is queued on overflow.
    pub fn push(&mut self, sid: u16, data: &[u8]) -> Result<(), Overflow> {
        if data.is_empty() {
            return Ok(());
        }
        let q = self.queues.entry(sid).or_default();
        if q.len() + data.len() > self.per_stream_max {
            return Err(Overflow::Stream(sid));
        }
        if self.queued + data.len() > self.per_assoc_max {
            return Err(Overflow::Association);
        }
        q.bytes.extend(data);
        self.queued += data.len();
        Ok(())
    }

    /// Runs `f` on `sid`'s queue (None if the stream never had one),
    /// keeping the association's total right whatever `f` removes.
    pub fn with<R>(&mut self, sid: u16, f: impl FnOnce(&mut StreamQueue) -> R) -> Option<R> {
        let q = self.queues.get_mut(&sid)?;
        let before = q.len();
        let r = f(q);
        // A StreamQueue only ever shrinks outside `push`.
        self.queued -= before - q.len();
        Some(r)
    }

    /// Drops `sid`'s queued bytes; returns how many.
    pub fn discard(&mut self, sid: u16) -> usize {
        let n = self.queues.remove(&sid).map_or(0, |q| q.len());
        self.queued -= n;
        n
    }

    /// Bytes queued on `sid`.
    pub fn len(&self, sid: u16) -> usize {
        self.queues.get(&sid).map_or(0, StreamQueue::len)
    }

    /// Bytes queued on all streams.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// The per-stream bound.
    pub fn stream_max(&self) -> usize {
        self.per_stream_max
    }

    /// The per-association bound.
    pub fn assoc_max(&self) -> usize {
        self.per_assoc_max
    }

    /// Bytes queued per stream (streams with nothing queued are left out).
    pub fn per_stream(&self) -> Vec<(u16, usize)> {
        self.queues
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(&s, q)| (s, q.len()))
            .collect()
    }

    /// Read access to `sid`'s queue.
    pub fn get(&self, sid: u16) -> Option<&StreamQueue> {
        self.queues.get(&sid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_follow_every_way_bytes_leave() {
        let mut q = Queues::new(100, 150);
        q.push(1, b"\r\nab\ncd").unwrap();
        q.push(2, b"xyz").unwrap();
        assert_eq!(q.queued(), 10);
        assert_eq!(q.with(1, |s| s.eat_crlf()), Some(2));
        assert_eq!(
            q.with(1, |s| s.read_line(10)),
            Some(Ok(Some(b"ab\n".to_vec())))
        );
        assert_eq!(q.with(1, |s| s.peek(10)), Some(b"cd".to_vec()));
        assert_eq!(q.queued(), 5);
        assert_eq!(q.discard(2), 3);
        assert_eq!(q.with(2, |s| s.take(1)), None);
        assert_eq!(q.per_stream(), vec![(1, 2)]);
        assert_eq!(q.queued(), 2);
    }

    #[test]
    fn a_refused_push_queues_nothing() {
        let mut q = Queues::new(4, 6);
        assert_eq!(q.push(1, b"12345"), Err(Overflow::Stream(1)));
        q.push(1, b"1234").unwrap();
        assert_eq!(q.push(2, b"123"), Err(Overflow::Association));
        assert_eq!((q.len(1), q.len(2), q.queued()), (4, 0, 4));
    }
}
