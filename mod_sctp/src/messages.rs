//! Cutting a response into SCTP messages (sans-I/O).
//!
//! Bytes arrive in pieces of any size (bucket reads); they leave as messages
//! of at most the buffer's size. Small pieces are coalesced into the buffer;
//! a piece at least as large as a message, arriving when the buffer is
//! empty, is sent straight from its own memory in message-sized slices.

/// A coalescing buffer over caller-provided memory (in the module, the
/// writing thread's buffer of `output_filter`, which holds nothing between
/// calls; a `Vec` in tests). `len` bytes of `buf` are pending.
pub struct Coalescer<'a> {
    buf: &'a mut [u8],
    len: &'a mut usize,
}

impl<'a> Coalescer<'a> {
    pub fn new(buf: &'a mut [u8], len: &'a mut usize) -> Self {
        debug_assert!(!buf.is_empty() && *len <= buf.len());
        Coalescer { buf, len }
    }

    /// Queues `data`, calling `send` for every full message.
    pub fn push<E>(
        &mut self,
        mut data: &[u8],
        send: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let cap = self.buf.len();
        while !data.is_empty() {
            if *self.len == 0 && data.len() >= cap {
                let (msg, rest) = data.split_at(cap);
                send(msg)?;
                data = rest;
                continue;
            }
            let free = self.buf.get_mut(*self.len..).unwrap_or_default();
            let (head, rest) = data.split_at(free.len().min(data.len()));
            for (d, b) in free.iter_mut().zip(head) {
                *d = *b;
            }
            *self.len += head.len();
            data = rest;
            if *self.len == cap {
                self.flush(send)?;
            }
        }
        Ok(())
    }

    /// Sends what is pending as one message (nothing if empty). The pending
    /// bytes count as gone even if `send` fails: the connection is then
    /// aborted, and nothing may be sent twice.
    pub fn flush<E>(&mut self, send: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        if *self.len == 0 {
            return Ok(());
        }
        let n = std::mem::take(self.len);
        send(self.buf.get(..n).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cap: usize, pieces: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut buf = vec![0u8; cap];
        let mut len = 0;
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut send = |m: &[u8]| -> Result<(), ()> {
            out.push(m.to_vec());
            Ok(())
        };
        let mut c = Coalescer::new(&mut buf, &mut len);
        for p in pieces {
            c.push(p, &mut send).unwrap();
        }
        c.flush(&mut send).unwrap();
        out
    }

    #[test]
    fn messages_are_bounded_and_lossless() {
        // A deterministic mix of piece sizes around the message size.
        let sizes = [1usize, 7, 100, 4096, 4095, 4097, 8192, 3, 20000, 0, 5];
        let mut seed = 1u8;
        let pieces: Vec<Vec<u8>> = sizes
            .iter()
            .map(|&n| {
                (0..n)
                    .map(|_| {
                        seed = seed.wrapping_mul(31).wrapping_add(7);
                        seed
                    })
                    .collect()
            })
            .collect();
        for cap in [1usize, 2, 1000, 4096, 65536] {
            let out = run(cap, &pieces);
            assert!(
                out.iter().all(|m| !m.is_empty() && m.len() <= cap),
                "cap {cap}"
            );
            let joined: Vec<u8> = out.concat();
            assert_eq!(joined, pieces.concat(), "cap {cap}");
        }
    }

    #[test]
    fn small_pieces_coalesce_into_one_message() {
        let out = run(
            100,
            &[
                b"HTTP/1.1 200 OK\r\n".to_vec(),
                b"\r\n".to_vec(),
                b"hi".to_vec(),
            ],
        );
        assert_eq!(out, vec![b"HTTP/1.1 200 OK\r\n\r\nhi".to_vec()]);
    }

    #[test]
    fn large_piece_is_cut_at_the_bound() {
        let out = run(10, &[vec![b'x'; 25]]);
        assert_eq!(
            out.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![10, 10, 5]
        );
    }

    #[test]
    fn failed_send_drops_pending_and_reports() {
        let mut buf = vec![0u8; 4];
        let mut len = 0;
        let mut c = Coalescer::new(&mut buf, &mut len);
        let mut fail = |_: &[u8]| -> Result<(), i32> { Err(32) };
        assert_eq!(c.push(b"abcdef", &mut fail), Err(32));
        assert_eq!(c.flush(&mut fail), Ok(()));
    }
}
