//! Per-stream demultiplexing of an association's input (sans-I/O).
//!
//! SCTP delivers messages of all streams on one socket, in arrival order.
//! HTTP/1.1 parses one request at a time from one byte stream. The demux
//! keeps one bounded queue per SCTP stream and pins one stream while a
//! request is read: reads see only the pinned stream's bytes; other
//! streams' messages wait in their queues. At a request boundary the pin is
//! released and the next read pins the stream whose data has waited longest.
//!
//! This is the building block of the stream-aware input filter;
//! it never touches a socket, so every rule is unit-tested on the host.

//! The queues themselves (and their bounds) are `session::queues`, shared
//! with the concurrent session (`session/`); this file adds the pin.
//!
//! TLS: an association whose first message is a TLS ClientHello record
//! (`session::looks_like_tls`) is one ordered byte stream on that message's
//! stream for its whole life; [`StreamDemux::tls_refusal`] says which later
//! pieces come on another stream and must be dropped, never handed to
//! mod_ssl.

use crate::session::looks_like_tls;
pub use crate::session::queues::Overflow;
use crate::session::queues::{Queues, StreamQueue};
use std::collections::VecDeque;

/// The demultiplexer of one association.
pub struct StreamDemux {
    queues: Queues,
    /// Streams with queued data, in the order their data first arrived.
    ready: VecDeque<u16>,
    pinned: Option<u16>,
    /// The association's first piece has been seen (by `tls_refusal`).
    started: bool,
    /// The stream a TLS association is pinned to for its whole life.
    tls: Option<u16>,
}

impl StreamDemux {
    pub fn new(per_stream_max: usize, per_assoc_max: usize) -> Self {
        StreamDemux {
            queues: Queues::new(per_stream_max, per_assoc_max),
            ready: VecDeque::new(),
            pinned: None,
            started: false,
            tls: None,
        }
    }

    /// Called with every piece read, before it is queued: `Some(tls_stream)`
    /// when the piece must be dropped because the association speaks TLS on
    /// `tls_stream` and the piece came on another stream. The first piece of
    /// the association decides: if it looks like a TLS ClientHello record,
    /// its stream is the TLS stream from then on.
    pub fn tls_refusal(&mut self, sid: u16, data: &[u8]) -> Option<u16> {
        if !self.started && !data.is_empty() {
            self.started = true;
            if looks_like_tls(data) {
                self.tls = Some(sid);
            }
        }
        self.tls.filter(|&s| s != sid)
    }

    /// The stream a TLS association is pinned to (None: not TLS).
    pub fn tls_stream(&self) -> Option<u16> {
        self.tls
    }

    /// Queues bytes that arrived on `sid`. Nothing is queued on overflow.
    pub fn push(&mut self, sid: u16, data: &[u8]) -> Result<(), Overflow> {
        let was_empty = self.queues.len(sid) == 0;
        self.queues.push(sid, data)?;
        if !data.is_empty() && was_empty && !self.ready.contains(&sid) {
            self.ready.push_back(sid);
        }
        Ok(())
    }

    /// The pinned stream, pinning the longest-waiting stream with data if
    /// none is pinned. `None` when nothing is pinned and nothing is queued.
    pub fn pin(&mut self) -> Option<u16> {
        if self.pinned.is_none() {
            self.pinned = self.ready.front().copied();
        }
        self.pinned
    }

    pub fn pinned(&self) -> Option<u16> {
        self.pinned
    }

    /// Ends the current request: the next read may pin another stream.
    /// Bytes left on the old stream stay queued (they start its next request).
    pub fn end_request(&mut self) {
        if let Some(sid) = self.pinned.take() {
            // The stream keeps its place only if it still has data; it goes
            // to the back so that waiting streams are served first.
            self.ready.retain(|&s| s != sid);
            if self.queues.len(sid) > 0 {
                self.ready.push_back(sid);
            }
        }
    }

    /// The per-stream bound.
    pub fn stream_max(&self) -> usize {
        self.queues.stream_max()
    }

    /// The per-association bound.
    pub fn assoc_max(&self) -> usize {
        self.queues.assoc_max()
    }

    /// Bytes queued per stream (streams with nothing queued are left out).
    pub fn queued_per_stream(&self) -> Vec<(u16, usize)> {
        self.queues.per_stream()
    }

    /// Bytes queued on all streams.
    pub fn queued(&self) -> usize {
        self.queues.queued()
    }

    /// Bytes queued on the pinned stream (0 if none is pinned).
    pub fn pinned_len(&self) -> usize {
        self.pinned.map_or(0, |s| self.queues.len(s))
    }

    /// Whether any stream has data (what a SPECULATIVE read must report
    /// between requests).
    pub fn has_data(&self) -> bool {
        self.queues.queued() > 0
    }

    /// Runs `f` on the pinned stream's queue (None if nothing is pinned or
    /// the stream never had data); a stream emptied by it leaves the line of
    /// streams with data.
    fn on_pinned<R>(&mut self, f: impl FnOnce(&mut StreamQueue) -> R) -> Option<R> {
        let sid = self.pinned?;
        let r = self.queues.with(sid, f)?;
        if self.queues.len(sid) == 0 {
            self.ready.retain(|&s| s != sid);
        }
        Some(r)
    }

    /// READBYTES: up to `max` bytes of the pinned stream.
    pub fn read_bytes(&mut self, max: usize) -> Vec<u8> {
        self.on_pinned(|q| q.take(max)).unwrap_or_default()
    }

    /// SPECULATIVE: up to `max` bytes of the pinned stream, left queued.
    pub fn peek(&self, max: usize) -> Vec<u8> {
        self.pinned
            .and_then(|s| self.queues.get(s))
            .map_or_else(Vec::new, |q| q.peek(max))
    }

    /// GETLINE: the pinned stream's bytes up to and including the first LF,
    /// if a whole line (of at most `max` bytes) is queued; `Ok(None)` when
    /// more data is needed; `Err(())` when no LF is within `max` bytes.
    #[allow(clippy::result_unit_err)]
    pub fn read_line(&mut self, max: usize) -> Result<Option<Vec<u8>>, ()> {
        self.on_pinned(|q| q.read_line(max)).unwrap_or(Ok(None))
    }

    /// EATCRLF: drops CR and LF bytes at the head of the pinned stream
    /// (between pipelined requests); returns how many.
    pub fn eat_crlf(&mut self) -> usize {
        self.on_pinned(|q| q.eat_crlf()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS record header carrying a ClientHello (type 22, TLS 1.0 record
    /// version, length, handshake type 1).
    const CLIENT_HELLO: &[u8] = &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc];

    #[test]
    fn tls_association_is_pinned_to_its_first_stream() {
        let mut d = StreamDemux::new(1 << 16, 1 << 20);
        assert_eq!(
            d.tls_refusal(2, CLIENT_HELLO),
            None,
            "the first piece is kept"
        );
        assert_eq!(d.tls_stream(), Some(2));
        assert_eq!(d.tls_refusal(2, b"more TLS records"), None);
        assert_eq!(d.tls_refusal(0, b"GET / HTTP/1.1\r\n\r\n"), Some(2));
        assert_eq!(
            d.tls_refusal(3, CLIENT_HELLO),
            Some(2),
            "a second hello too"
        );
        assert_eq!(
            d.tls_refusal(2, b"\x17\x03\x03"),
            None,
            "for its whole life"
        );
    }

    #[test]
    fn plain_http_is_never_pinned() {
        let mut d = StreamDemux::new(1 << 16, 1 << 20);
        assert_eq!(d.tls_refusal(1, b"GET / HTTP/1.1\r\n"), None);
        // A ClientHello after the first message does not pin: only the
        // association's first message decides.
        assert_eq!(d.tls_refusal(2, CLIENT_HELLO), None);
        assert_eq!(d.tls_refusal(3, b"GET /x HTTP/1.1\r\n"), None);
        assert_eq!(d.tls_stream(), None);
        // Not a handshake record (application data, 0x17) nor a ClientHello.
        let mut d = StreamDemux::new(1 << 16, 1 << 20);
        assert_eq!(d.tls_refusal(0, &[0x17, 0x03, 0x03, 0, 1, 0]), None);
        assert_eq!(d.tls_stream(), None);
    }

    #[test]
    fn interleaved_requests_are_each_parsed_intact() {
        // Request A split into two messages on stream 1, a whole request B
        // on stream 2 in between.
        let mut d = StreamDemux::new(1 << 16, 1 << 20);
        d.push(1, b"GET /a HTTP/1.1\r\nHo").unwrap();
        d.push(2, b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        d.push(1, b"st: x\r\n\r\n").unwrap();
        assert_eq!(d.pin(), Some(1));
        assert_eq!(d.read_line(8192).unwrap().unwrap(), b"GET /a HTTP/1.1\r\n");
        assert_eq!(d.read_line(8192).unwrap().unwrap(), b"Host: x\r\n");
        assert_eq!(d.read_line(8192).unwrap().unwrap(), b"\r\n");
        assert_eq!(d.read_line(8192).unwrap(), None, "stream 1 is empty now");
        d.end_request();
        assert_eq!(d.pin(), Some(2));
        assert_eq!(d.read_line(8192).unwrap().unwrap(), b"GET /b HTTP/1.1\r\n");
    }

    #[test]
    fn pinned_stream_hides_others_until_the_boundary() {
        let mut d = StreamDemux::new(1 << 16, 1 << 20);
        d.push(3, b"abc").unwrap();
        assert_eq!(d.pin(), Some(3));
        d.push(4, b"xyz").unwrap();
        assert_eq!(d.read_bytes(10), b"abc");
        assert_eq!(d.read_bytes(10), b"", "stream 4 is not visible yet");
        assert!(
            d.has_data(),
            "but a speculative read between requests must know"
        );
        d.end_request();
        assert_eq!(d.pin(), Some(4));
        assert_eq!(d.peek(2), b"xy");
        assert_eq!(d.read_bytes(10), b"xyz");
        assert!(!d.has_data());
    }

    #[test]
    fn waiting_streams_are_served_in_arrival_order_and_fairly() {
        let mut d = StreamDemux::new(1 << 16, 1 << 20);
        d.push(5, b"r1\nr2\n").unwrap();
        d.push(6, b"s1\n").unwrap();
        d.push(7, b"t1\n").unwrap();
        let mut order = Vec::new();
        while d.has_data() {
            let s = d.pin().unwrap();
            d.read_line(100).unwrap().unwrap();
            order.push(s);
            d.end_request();
        }
        // Stream 5's second request waits behind 6 and 7.
        assert_eq!(order, vec![5, 6, 7, 5]);
    }

    #[test]
    fn bounds_are_enforced_without_queuing() {
        let mut d = StreamDemux::new(10, 15);
        d.push(1, b"0123456789").unwrap();
        assert_eq!(d.push(1, b"x"), Err(Overflow::Stream(1)));
        d.push(2, b"01234").unwrap();
        assert_eq!(d.push(3, b"x"), Err(Overflow::Association));
        assert_eq!(d.queued(), 15);
    }

    #[test]
    fn getline_limit_and_eatcrlf() {
        let mut d = StreamDemux::new(1 << 16, 1 << 20);
        d.push(0, b"\r\n\r\nGET / HTTP/1.1\r\n").unwrap();
        d.pin();
        assert_eq!(d.eat_crlf(), 4);
        assert_eq!(d.read_line(5), Err(()), "no LF within 5 bytes");
        assert_eq!(d.read_line(100).unwrap().unwrap(), b"GET / HTTP/1.1\r\n");
        assert_eq!(d.pinned_len(), 0);
    }
}
