//! Fair output between the streams of one association (sans-I/O).
//!
//! Each stream that has response bytes to send says how many; the arbiter
//! hands out turns round robin, one message of at most
//! `SCTPMaxMessageSize` bytes per turn, so a 16 MB download on one stream
//! sends one message between every small response's messages instead of
//! making them wait for its end.

use std::collections::{BTreeMap, VecDeque};

/// A turn: `stream` may send one message of at most `max_len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub stream: u16,
    pub max_len: usize,
}

/// The streams with bytes to send, in turn order.
pub struct Arbiter {
    pending: BTreeMap<u16, usize>,
    /// Each stream with pending bytes exactly once; the front goes next.
    order: VecDeque<u16>,
    max_message: usize,
}

impl Arbiter {
    pub fn new(max_message: usize) -> Self {
        Arbiter {
            pending: BTreeMap::new(),
            order: VecDeque::new(),
            max_message: max_message.max(1),
        }
    }

    /// `sid` has `n` more bytes to send. A stream that had nothing joins at
    /// the back of the line.
    pub fn queue(&mut self, sid: u16, n: usize) {
        if n == 0 {
            return;
        }
        let p = self.pending.entry(sid).or_default();
        if *p == 0 {
            self.order.push_back(sid);
        }
        *p += n;
    }

    /// The next turn, if any stream has bytes to send. The stream goes to
    /// the back of the line whether or not it uses the whole turn.
    pub fn next_turn(&mut self) -> Option<Transmit> {
        let sid = self.order.pop_front()?;
        let n = self.pending.get(&sid).copied().unwrap_or(0);
        self.order.push_back(sid);
        Some(Transmit {
            stream: sid,
            max_len: n.min(self.max_message),
        })
    }

    /// `sid` sent `n` bytes (at most what it had pending).
    pub fn sent(&mut self, sid: u16, n: usize) {
        let Some(p) = self.pending.get_mut(&sid) else {
            return;
        };
        *p -= n.min(*p);
        if *p == 0 {
            self.clear(sid);
        }
    }

    /// Forgets `sid`'s pending bytes (its connection ended).
    pub fn clear(&mut self, sid: u16) {
        self.pending.remove(&sid);
        self.order.retain(|&s| s != sid);
    }

    /// Forgets everything (the association is gone).
    pub fn clear_all(&mut self) {
        self.pending.clear();
        self.order.clear();
    }

    /// Bytes `sid` still has to send.
    pub fn pending(&self, sid: u16) -> usize {
        self.pending.get(&sid).copied().unwrap_or(0)
    }

    /// Whether any stream has bytes to send.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_rotate_and_are_bounded_by_the_message_size() {
        let mut a = Arbiter::new(100);
        a.queue(1, 250);
        a.queue(2, 30);
        let t = a.next_turn().unwrap();
        assert_eq!(
            t,
            Transmit {
                stream: 1,
                max_len: 100
            }
        );
        a.sent(1, t.max_len);
        let t = a.next_turn().unwrap();
        assert_eq!(
            t,
            Transmit {
                stream: 2,
                max_len: 30
            }
        );
        a.sent(2, 30);
        assert_eq!(a.pending(2), 0);
        assert_eq!(
            a.next_turn().unwrap(),
            Transmit {
                stream: 1,
                max_len: 100
            }
        );
        a.sent(1, 40); // a short send keeps the rest pending
        assert_eq!(a.pending(1), 110);
        a.clear(1);
        assert!(a.is_empty());
        assert_eq!(a.next_turn(), None);
    }
}
