//! The table of live associations that every httpd child publishes to and
//! the status handler reads: fixed-size slots in memory shared by the
//! parent and all children (anonymous shared memory created by the parent,
//! inherited at fork, kept across graceful restarts).
//!
//! A slot belongs to the process whose pid is in `owner` (0: free). Only
//! the owner writes it, under a sequence counter (odd while writing), so a
//! reader copies a consistent snapshot without locks. Slots of processes
//! that died without releasing them are reused.
//!
//! The table logic works on any slice of slots, so it is unit-tested on the
//! host with ordinary memory.

use crate::status::{AssocView, PathView, StreamView, StreamViewState};
use std::cell::UnsafeCell;
use std::sync::atomic::{fence, AtomicI32, AtomicU32, Ordering};

/// Streams whose responses are counted one by one.
pub const STREAM_COUNTERS: usize = 16;
/// Paths kept per association.
pub const MAX_PATHS: usize = 4;
/// Streams in progress kept per association (the rest are counted).
pub const MAX_STREAM_VIEWS: usize = 16;
/// Bytes of a stream's request line kept.
pub const REQUEST_LINE_LEN: usize = 120;
const PEERS_LEN: usize = 128;
const ADDR_LEN: usize = 48;

#[repr(C)]
#[derive(Clone, Copy)]
struct StreamData {
    since_ms: u64,
    sid: u16,
    /// 0 waiting, 1 running, 2 draining.
    state: u8,
    request: [u8; REQUEST_LINE_LEN],
}

impl StreamData {
    fn from_view(v: &StreamView) -> StreamData {
        let mut d = StreamData {
            since_ms: v.since_ms,
            sid: v.sid,
            state: match v.state {
                StreamViewState::Waiting => 0,
                StreamViewState::Running => 1,
                StreamViewState::Draining => 2,
            },
            request: [0; REQUEST_LINE_LEN],
        };
        // Control characters (none in a request line httpd accepted, but
        // the line ends up in `?auto`'s line format) become '?'.
        let clean: String = v
            .request
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        put_str(&mut d.request, &clean);
        d
    }

    fn view(&self) -> Option<StreamView> {
        Some(StreamView {
            sid: self.sid,
            state: match self.state {
                0 => StreamViewState::Waiting,
                1 => StreamViewState::Running,
                2 => StreamViewState::Draining,
                _ => return None,
            },
            request: get_str(&self.request),
            since_ms: self.since_ms,
        })
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
struct PathData {
    addr: [u8; ADDR_LEN],
    state: i32,
    rto_ms: u32,
    srtt_ms: u32,
    cwnd: u32,
    primary: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct SlotData {
    conn_id: i64,
    started: i64,
    updated: i64,
    queued: u64,
    messages_in: u64,
    bytes_in: u64,
    messages_out: u64,
    bytes_out: u64,
    responses: u64,
    other_streams: u64,
    assoc_id: i32,
    /// -1: none.
    pinned: i32,
    in_streams: u16,
    out_streams: u16,
    npaths: u32,
    per_stream: [u64; STREAM_COUNTERS],
    peers: [u8; PEERS_LEN],
    paths: [PathData; MAX_PATHS],
    streams_not_listed: u64,
    nstreams: u32,
    streams: [StreamData; MAX_STREAM_VIEWS],
}

/// One slot of the shared table.
#[repr(C)]
pub struct Slot {
    seq: AtomicU32,
    owner: AtomicI32,
    data: UnsafeCell<SlotData>,
}

// SAFETY: `data` is written only by the owning process under `seq` and read
// as a snapshot validated by `seq` (a sequence lock).
unsafe impl Sync for Slot {}

fn put_str(dst: &mut [u8], s: &str) {
    dst.fill(0);
    // Cut at a char boundary so the text stays valid UTF-8.
    let mut n = s.len().min(dst.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(s.bytes().take(n)) {
        *d = b;
    }
}

fn get_str(src: &[u8]) -> String {
    let n = src.iter().position(|&b| b == 0).unwrap_or(src.len());
    String::from_utf8_lossy(src.get(..n).unwrap_or_default()).into_owned()
}

impl SlotData {
    fn from_view(v: &AssocView) -> SlotData {
        // SAFETY: all-zero is a valid SlotData (integers and byte arrays).
        let mut d: SlotData = unsafe { std::mem::zeroed() };
        d.conn_id = v.conn_id;
        d.started = v.started;
        d.updated = v.updated;
        d.queued = v.queued;
        d.messages_in = v.messages_in;
        d.bytes_in = v.bytes_in;
        d.messages_out = v.messages_out;
        d.bytes_out = v.bytes_out;
        d.responses = v.responses;
        d.other_streams = v.other_streams;
        d.assoc_id = v.assoc_id;
        d.pinned = v.pinned.map_or(-1, i32::from);
        d.in_streams = v.in_streams;
        d.out_streams = v.out_streams;
        for &(sid, n) in &v.per_stream {
            match d.per_stream.get_mut(sid as usize) {
                Some(c) => *c += n,
                None => d.other_streams += n,
            }
        }
        put_str(&mut d.peers, &v.peers);
        for (dst, p) in d.paths.iter_mut().zip(&v.paths) {
            put_str(&mut dst.addr, &p.addr);
            dst.state = p.state;
            dst.rto_ms = p.rto_ms;
            dst.srtt_ms = p.srtt_ms;
            dst.cwnd = p.cwnd;
            dst.primary = p.primary as u32;
        }
        d.npaths = v.paths.len().min(MAX_PATHS) as u32;
        for (dst, s) in d.streams.iter_mut().zip(&v.streams) {
            *dst = StreamData::from_view(s);
        }
        d.nstreams = v.streams.len().min(MAX_STREAM_VIEWS) as u32;
        d.streams_not_listed = v
            .streams_not_listed
            .saturating_add(v.streams.len().saturating_sub(MAX_STREAM_VIEWS) as u64);
        d
    }

    fn view(&self, pid: i32) -> AssocView {
        AssocView {
            pid,
            conn_id: self.conn_id,
            assoc_id: self.assoc_id,
            in_streams: self.in_streams,
            out_streams: self.out_streams,
            pinned: u16::try_from(self.pinned).ok(),
            started: self.started,
            updated: self.updated,
            queued: self.queued,
            messages_in: self.messages_in,
            bytes_in: self.bytes_in,
            messages_out: self.messages_out,
            bytes_out: self.bytes_out,
            responses: self.responses,
            per_stream: self
                .per_stream
                .iter()
                .enumerate()
                .filter(|(_, &n)| n > 0)
                .map(|(s, &n)| (s as u16, n))
                .collect(),
            other_streams: self.other_streams,
            peers: get_str(&self.peers),
            paths: self
                .paths
                .iter()
                .take(self.npaths as usize)
                .map(|p| PathView {
                    addr: get_str(&p.addr),
                    state: p.state,
                    rto_ms: p.rto_ms,
                    srtt_ms: p.srtt_ms,
                    cwnd: p.cwnd,
                    primary: p.primary != 0,
                })
                .collect(),
            streams: self
                .streams
                .iter()
                .take(self.nstreams as usize)
                .filter_map(StreamData::view)
                .collect(),
            streams_not_listed: self.streams_not_listed,
        }
    }
}

/// A view of the table over `slots`.
pub struct Table<'a> {
    slots: &'a [Slot],
    /// Whether a pid is a live process (`kill(pid, 0)` in the module).
    alive: fn(i32) -> bool,
}

impl<'a> Table<'a> {
    pub fn new(slots: &'a [Slot], alive: fn(i32) -> bool) -> Self {
        Table { slots, alive }
    }

    /// Takes a free slot (or one whose owner died) for `pid`.
    pub fn claim(&self, pid: i32) -> Option<usize> {
        for (i, s) in self.slots.iter().enumerate() {
            let cur = s.owner.load(Ordering::Relaxed);
            if (cur == 0 || (cur != pid && !(self.alive)(cur)))
                && s.owner
                    .compare_exchange(cur, pid, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                // An odd counter left by a writer that died is made even.
                let q = s.seq.load(Ordering::Relaxed);
                if q % 2 == 1 {
                    s.seq.store(q.wrapping_add(1), Ordering::Release);
                }
                return Some(i);
            }
        }
        None
    }

    /// Writes `v` into slot `i`, which `claim` gave this process.
    pub fn publish(&self, i: usize, v: &AssocView) {
        let Some(s) = self.slots.get(i) else { return };
        let d = SlotData::from_view(v);
        s.seq.fetch_add(1, Ordering::AcqRel);
        fence(Ordering::Release);
        // SAFETY: only the owner writes; readers validate with `seq`.
        unsafe { std::ptr::write_volatile(s.data.get(), d) };
        fence(Ordering::Release);
        s.seq.fetch_add(1, Ordering::AcqRel);
    }

    /// Frees slot `i`.
    pub fn release(&self, i: usize) {
        if let Some(s) = self.slots.get(i) {
            s.owner.store(0, Ordering::Release);
        }
    }

    /// Consistent copies of every slot held by a live process.
    pub fn snapshot(&self) -> Vec<AssocView> {
        let mut out = Vec::new();
        for s in self.slots {
            let pid = s.owner.load(Ordering::Acquire);
            if pid == 0 || !(self.alive)(pid) {
                continue;
            }
            for _ in 0..100 {
                let q1 = s.seq.load(Ordering::Acquire);
                if q1 % 2 == 1 {
                    std::hint::spin_loop();
                    continue;
                }
                // SAFETY: a racy copy of plain data, accepted only if the
                // sequence did not move while copying (seqlock read).
                let d = unsafe { std::ptr::read_volatile(s.data.get()) };
                fence(Ordering::Acquire);
                if s.seq.load(Ordering::Relaxed) == q1 {
                    // Published at least once (a fresh claim is all zero).
                    if d.started != 0 {
                        out.push(d.view(pid));
                    }
                    break;
                }
            }
        }
        out
    }
}

/// Bytes needed for `n` slots.
pub fn bytes_for(n: usize) -> usize {
    n * std::mem::size_of::<Slot>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(n: usize) -> Vec<Slot> {
        (0..n)
            .map(|_| Slot {
                seq: AtomicU32::new(0),
                owner: AtomicI32::new(0),
                // SAFETY: all-zero is valid SlotData.
                data: UnsafeCell::new(unsafe { std::mem::zeroed() }),
            })
            .collect()
    }

    fn view(assoc_id: i32) -> AssocView {
        AssocView {
            conn_id: 9,
            assoc_id,
            in_streams: 16,
            out_streams: 16,
            pinned: Some(2),
            started: 1000,
            updated: 1001,
            responses: 5,
            per_stream: vec![(0, 1), (2, 3), (40, 1)],
            peers: "127.0.0.1".into(),
            paths: vec![PathView {
                addr: "127.0.0.1:5000".into(),
                state: 2,
                rto_ms: 200,
                srtt_ms: 1,
                cwnd: 4380,
                primary: true,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn claim_publish_snapshot_release() {
        let mem = slots(2);
        let t = Table::new(&mem, |_| true);
        let a = t.claim(10).unwrap();
        let b = t.claim(11).unwrap();
        assert_ne!(a, b);
        assert_eq!(t.claim(12), None, "table full");
        assert!(t.snapshot().is_empty(), "claimed but not published yet");
        t.publish(a, &view(1));
        let s = t.snapshot();
        assert_eq!(s.len(), 1);
        let mut want = view(1);
        want.pid = 10;
        // Stream 40 is beyond the counted streams: it lands in "other".
        want.per_stream = vec![(0, 1), (2, 3)];
        want.other_streams = 1;
        assert_eq!(s[0], want);
        t.release(a);
        assert!(t.snapshot().is_empty());
        assert_eq!(t.claim(12), Some(a), "a released slot is reused");
    }

    #[test]
    fn dead_owners_slots_are_hidden_and_reused() {
        let mem = slots(1);
        let t = Table::new(&mem, |pid| pid != 66);
        let i = t.claim(66).unwrap();
        t.publish(i, &view(1));
        // A writer that died mid-write leaves an odd counter.
        mem[0].seq.fetch_add(1, Ordering::Relaxed);
        assert!(t.snapshot().is_empty(), "owner 66 is dead");
        assert_eq!(t.claim(70), Some(0));
        t.publish(0, &view(2));
        assert_eq!(t.snapshot()[0].assoc_id, 2);
    }

    fn stream(sid: u16, state: StreamViewState, request: &str) -> StreamView {
        StreamView {
            sid,
            state,
            request: request.into(),
            since_ms: 1500 + u64::from(sid),
        }
    }

    #[test]
    fn streams_round_trip() {
        let mem = slots(1);
        let t = Table::new(&mem, |_| true);
        let i = t.claim(10).unwrap();
        let mut v = view(1);
        v.streams = vec![
            stream(3, StreamViewState::Running, "GET /a?x=<1>&y HTTP/1.1"),
            stream(0, StreamViewState::Waiting, ""),
            stream(65535, StreamViewState::Draining, "POST /é HTTP/1.1"),
        ];
        v.streams_not_listed = 2;
        t.publish(i, &v);
        let s = t.snapshot();
        v.pid = 10;
        v.per_stream = vec![(0, 1), (2, 3)];
        v.other_streams = 1;
        assert_eq!(s, vec![v.clone()]);
        // Published again without streams: none left over.
        v.streams.clear();
        v.streams_not_listed = 0;
        t.publish(i, &v);
        assert_eq!(t.snapshot()[0].streams, vec![]);
        assert_eq!(t.snapshot()[0].streams_not_listed, 0);
    }

    #[test]
    fn streams_are_bounded() {
        let mut v = view(1);
        v.streams = (0..40)
            .map(|sid| stream(sid, StreamViewState::Running, "GET / HTTP/1.1"))
            .collect();
        v.streams_not_listed = 5;
        let back = SlotData::from_view(&v).view(1);
        assert_eq!(back.streams.len(), MAX_STREAM_VIEWS);
        assert_eq!(
            back.streams[..],
            v.streams[..MAX_STREAM_VIEWS],
            "the first 16, in order"
        );
        assert_eq!(back.streams_not_listed, 5 + 40 - MAX_STREAM_VIEWS as u64);
        v.streams_not_listed = u64::MAX;
        assert_eq!(SlotData::from_view(&v).view(1).streams_not_listed, u64::MAX);
        // A corrupt count or state reads as no more than the table holds.
        let mut d = SlotData::from_view(&v);
        d.nstreams = 1000;
        d.streams[1].state = 7;
        assert_eq!(d.view(1).streams.len(), MAX_STREAM_VIEWS - 1);
    }

    #[test]
    fn table_size_is_bounded() {
        // 16 streams of 136 bytes make a slot about 2.8 KB; the parent's
        // table of 4096 slots stays under 12 MB of shared memory.
        assert_eq!(std::mem::size_of::<StreamData>(), 136);
        assert!(std::mem::size_of::<Slot>() <= 2880);
        assert!(bytes_for(crate::status_handler::SLOTS) <= 12 << 20);
    }

    #[test]
    fn request_lines_are_cut_and_cleaned() {
        let long = format!("GET /{} HTTP/1.1", "a".repeat(500));
        let back = StreamData::from_view(&stream(1, StreamViewState::Running, &long))
            .view()
            .unwrap();
        assert_eq!(back.request, long[..REQUEST_LINE_LEN]);
        // Two-byte characters straddling the limit: cut before, still UTF-8.
        let wide = format!("GET /{}", "é".repeat(100));
        let back = StreamData::from_view(&stream(1, StreamViewState::Running, &wide))
            .view()
            .unwrap()
            .request;
        assert_eq!(back, wide[..REQUEST_LINE_LEN - 1], "cut at a char boundary");
        assert!(wide.starts_with(&back));
        let ctl = StreamData::from_view(&stream(
            1,
            StreamViewState::Running,
            "GET /\r\nX\0 HTTP/1.1",
        ))
        .view()
        .unwrap()
        .request;
        assert_eq!(ctl, "GET /??X? HTTP/1.1");
    }

    #[test]
    fn long_text_is_cut_at_a_char_boundary() {
        let mut v = view(1);
        v.peers = "é".repeat(100);
        let d = SlotData::from_view(&v);
        let back = d.view(1).peers;
        assert!(back.len() <= PEERS_LEN && back.chars().all(|c| c == 'é'));
        v.paths = vec![PathView::default(); 9];
        assert_eq!(SlotData::from_view(&v).view(1).paths.len(), MAX_PATHS);
    }
}
