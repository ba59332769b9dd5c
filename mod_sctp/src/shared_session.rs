//! What an association's connection (c1, its one reader) and its stream
//! connections (c2s, one per stream in progress) share (the role
//! of mod_http2's `h2_mplx`). See docs/architecture.md, "Concurrent
//! streams".
//!
//! | field | written by | read by |
//! |---|---|---|
//! | `inner` (one mutex) | whoever holds the lock | whoever holds the lock |
//! | `wake` (c1's eventfd) | c2s, after an event that may need c1 | c1's poll |
//! | `fd`, `ident`, `max_message`, `send_timeout` | nobody after creation | c2s (send half), c1 |
//!
//! Each running stream has a wake-up of its own: the eventfd that stands in
//! as its connection's socket (see `stream_connection`); c1 signals it when
//! the stream's queue gets data, when the stream fails and when the
//! association ends, so a c2 waiting for input (in its input filter, or in
//! mod_reqtimeout's poll of the connection's socket) wakes.

use crate::session::{AssocEnd, ConnEnd, Session};
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Who the association is, for stream connections' variables and logs
/// (copied at creation: c1 may learn its id later, c2s need not).
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub assoc_id: i32,
    pub peers: String,
    pub in_streams: u16,
    pub out_streams: u16,
}

/// The state behind the association's mutex.
pub struct Inner {
    pub session: Session,
    /// The wake-up of each stream with a connection (its eventfd).
    wakers: BTreeMap<u16, RawFd>,
    /// Keep-alive requests each stream has had so far: a stream's next
    /// connection starts with its count, so `MaxKeepAliveRequests` holds
    /// per stream as it holds per TCP connection.
    pub keepalives: BTreeMap<u16, i32>,
    /// The request line each running stream is serving, and since when
    /// (status page).
    pub requests: BTreeMap<u16, (String, Instant)>,
    /// A stream connection closed its stream (`Connection: close`, an
    /// error, a timeout): the association closes once nothing else is in
    /// progress, as a closed TCP connection would (a one-stream client
    /// sees the close it expects; requests already received are answered).
    pub closing: bool,
    /// A stream connection changed what the status page shows (a request
    /// line, a response count): c1 publishes at its next turn.
    pub status_changed: bool,
    /// Messages and bytes the stream connections sent.
    pub messages_out: u64,
    pub bytes_out: u64,
}

impl Inner {
    /// Wakes the connection of `sid` (if it has one).
    pub fn wake_stream(&self, sid: u16) {
        if let Some(&fd) = self.wakers.get(&sid) {
            signal(fd);
        }
    }

    /// Wakes every stream connection.
    pub fn wake_all(&self) {
        for &fd in self.wakers.values() {
            signal(fd);
        }
    }

    /// Registers `sid`'s wake-up; it stays valid until [`Inner::unregister`].
    pub fn register(&mut self, sid: u16, fd: RawFd) {
        self.wakers.insert(sid, fd);
    }

    pub fn unregister(&mut self, sid: u16) {
        self.wakers.remove(&sid);
        self.requests.remove(&sid);
    }

    /// Nothing in progress, waiting or queued.
    pub fn is_idle(&self) -> bool {
        let s = &self.session;
        s.in_progress() == 0 && s.waiting().next().is_none() && s.queued() == 0
    }
}

/// The shared half of an association served with concurrent streams.
pub struct Shared {
    inner: Mutex<Inner>,
    /// c1's wake-up.
    wake: OwnedFd,
    /// The association's socket: c1 reads it (through its APR socket);
    /// stream connections only `sendmsg` on it. c1 closes it only after
    /// every stream connection has ended.
    pub fd: RawFd,
    pub ident: Identity,
    pub max_message: usize,
}

/// A non-blocking eventfd.
pub fn eventfd() -> std::io::Result<OwnedFd> {
    // SAFETY: eventfd has no memory preconditions.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes an eventfd readable.
pub fn signal(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to a descriptor; a full
    // counter (EAGAIN) still leaves it readable, which is all we need.
    unsafe { libc::write(fd, &one as *const u64 as *const libc::c_void, 8) };
}

/// Makes an eventfd unreadable again (what was signalled is being handled).
pub fn reset(fd: RawFd) {
    let mut v: u64 = 0;
    // SAFETY: reads 8 bytes into a live u64; non-blocking.
    unsafe { libc::read(fd, &mut v as *mut u64 as *mut libc::c_void, 8) };
}

impl Shared {
    pub fn new(
        session: Session,
        fd: RawFd,
        ident: Identity,
        max_message: usize,
    ) -> std::io::Result<Shared> {
        Ok(Shared {
            inner: Mutex::new(Inner {
                session,
                wakers: BTreeMap::new(),
                keepalives: BTreeMap::new(),
                requests: BTreeMap::new(),
                closing: false,
                status_changed: false,
                messages_out: 0,
                bytes_out: 0,
            }),
            wake: eventfd()?,
            fd,
            ident,
            max_message,
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// c1's wake-up descriptor (for its poll).
    pub fn wake_fd(&self) -> RawFd {
        self.wake.as_raw_fd()
    }

    /// Wakes c1.
    pub fn wake_c1(&self) {
        signal(self.wake.as_raw_fd());
    }

    /// A stream connection ended: frees its slot and wakes c1, which
    /// starts what waits and closes the association when it is done.
    pub fn connection_ended(&self, sid: u16, end: ConnEnd, keepalives: i32) {
        {
            let mut g = self.lock();
            g.unregister(sid);
            g.keepalives.insert(sid, keepalives);
            if end == ConnEnd::Closed {
                g.closing = true;
            }
            g.session.connection_ended(sid, end, Instant::now());
        }
        self.wake_c1();
    }

    /// A stream connection found the association gone (a send failed):
    /// every stream is cancelled, and c1 finishes.
    pub fn association_failed(&self, end: AssocEnd) {
        {
            let mut g = self.lock();
            g.session.association_ended(end);
            g.wake_all();
        }
        self.wake_c1();
    }
}
