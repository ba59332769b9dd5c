//! SCTP_OUT, the network output filter of SCTP connections.
//!
//! On Linux every write to an SCTP socket is one message, and a write larger
//! than the socket's send buffer fails with EMSGSIZE instead of writing part
//! of it; httpd's CORE output filter writev()s whole files. So mod_sctp owns
//! the network writes of SCTP connections (design §2 "Output"): this filter
//! sits just above CORE, cuts the response into messages of at most
//! `SCTPMaxMessageSize` bytes, sends them with `sendmsg`, and never passes
//! data down to CORE.
//!
//! Streams: each response goes on the stream its request came on (the
//! stream SCTP_IN pinned while reading it), PPID 63. The stream is chosen
//! at each byte: bytes pending for another stream are sent first, so no
//! byte of one response leaves on the stream of another. EOR (the end of a
//! response) releases the request's stream.
//!
//! Writes are blocking with the connection's timeout (apr-sctp waits for
//! writability). Between calls the filter keeps at most `HOLD_MAX` bytes of
//! a response that has neither ended nor been flushed (in the association,
//! not the per-thread buffer), as CORE keeps small writes back on TCP:
//! httpd passes a response's headers and its body in separate calls, and
//! without this every small response took two messages (two sendmsg, two
//! DATA chunks). FLUSH, EOR and EOC send everything, so when a response's
//! EOR is handled every byte of it is in the kernel: EOR buckets (whose
//! destruction logs the request and frees its pool) are destroyed only after
//! the response's bytes were sent, and the event MPM's write completion finds
//! nothing pending.

use crate::association::Assoc;
use crate::brigade;
use crate::ffi;
use crate::messages::Coalescer;
use apr_sctp::sctp::SndInfo;
use std::cell::RefCell;
use std::io::IoSlice;
use std::ptr;

/// SCTP payload protocol identifier for HTTP (IANA: 63).
pub const PPID_HTTP: u32 = 63;

/// The most bytes of an unfinished, unflushed response kept between calls
/// (CORE's THRESHOLD_MIN_WRITE for TCP is the same).
pub const HOLD_MAX: usize = 4096;

/// The most unread bytes discarded at the end of a connection.
const DRAIN_LIMIT: usize = 1 << 20;
/// The longest wait for the SHUTDOWN handshake at the end of a connection
/// (one round trip when all goes well).
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

thread_local! {
    /// The coalescing buffer. Nothing stays in it between calls of the
    /// filter (see the module docs), so one per thread serves every
    /// connection the thread writes, and idle associations cost nothing.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a buffer of `cap` bytes.
fn with_buffer<T>(cap: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut v) => {
            v.resize(cap, 0);
            f(&mut v)
        }
        // Never expected (a bucket read does not write to the network), but
        // a nested call must not share the buffer.
        Err(_) => f(&mut vec![0; cap]),
    })
}

/// One call's writer: the association, the buffer and what is pending in it.
struct Writer<'a> {
    a: &'a mut Assoc,
    mem: &'a mut [u8],
    len: usize,
    /// Stream of the pending bytes.
    sid: u16,
}

/// Sends one message on `sid` with PPID 63.
fn send(a: &mut Assoc, sid: u16, data: &[u8]) -> Result<(), ffi::apr_status_t> {
    let info = SndInfo {
        sid,
        flags: 0,
        ppid: PPID_HTTP,
        context: 0,
    };
    // SAFETY: `sock` is the connection's live socket (the two crates'
    // bindgen types are the same C type).
    unsafe { apr_sctp::apr_socket::send(a.sock as *mut _, &[IoSlice::new(data)], &info) }
        .map(|_| {
            a.counters.messages_out += 1;
            a.counters.bytes_out += data.len() as u64;
        })
        .map_err(|rv| rv as ffi::apr_status_t)
}

impl Writer<'_> {
    /// Queues response bytes on the stream of the request being answered;
    /// what is pending for another stream is sent first, so no byte of one
    /// response leaves on the stream of another.
    fn push(&mut self, data: &[u8]) -> Result<(), ffi::apr_status_t> {
        let sid = self.a.response_stream();
        if self.len > 0 && sid != self.sid {
            self.flush()?;
        }
        self.sid = sid;
        self.a.response_sid = sid;
        let Writer { a, mem, len, sid } = self;
        Coalescer::new(mem, len).push(data, &mut |m| send(a, *sid, m))
    }

    fn flush(&mut self) -> Result<(), ffi::apr_status_t> {
        let Writer { a, mem, len, sid } = self;
        Coalescer::new(mem, len).flush(&mut |m| send(a, *sid, m))
    }

    /// See "End of connection" in the module docs.
    fn end_of_connection(&mut self, c: *mut ffi::conn_rec) {
        let fd = self.a.fd();
        // Start the graceful SHUTDOWN now (it follows the queued response):
        // the peer stops sending once it sees it. Closing while its data is
        // unread would make the kernel ABORT and drop the response.
        // SAFETY: shutdown on the connection's live descriptor.
        unsafe { libc::shutdown(std::os::fd::AsRawFd::as_raw_fd(&fd), libc::SHUT_WR) };
        let until = std::time::Instant::now() + SHUTDOWN_WAIT;
        let mut scratch = [0u8; 4096];
        let mut discarded = 0usize;
        // Bounded in bytes and time: a peer that keeps sending gets an ABORT.
        loop {
            while discarded < DRAIN_LIMIT {
                match apr_sctp::sctp::recv_msg(fd, &mut scratch, libc::MSG_DONTWAIT) {
                    Ok(r) if r.len > 0 => discarded += r.len,
                    _ => break,
                }
            }
            let gone = apr_sctp::sctp::status(fd).is_err();
            if gone || discarded >= DRAIN_LIMIT || std::time::Instant::now() >= until {
                break;
            }
            let mut p = libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(&fd),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, 10) };
        }
        let k = &self.a.counters;
        tracing::debug!(
            "association {}: closing the association after {} response(s), {} message(s), {} byte(s) sent; {} queued and {} unread byte(s) discarded",
            self.a.assoc_id,
            k.responses.values().sum::<u64>(),
            k.messages_out,
            k.bytes_out,
            self.a.demux.queued(),
            discarded
        );
        // SAFETY: live connection; see the module docs for why.
        unsafe { (*c).aborted = 1 };
    }
}

/// Sends the whole brigade; see the module docs.
///
/// # Safety
/// Called by httpd as an output filter function.
unsafe fn filter(f: *mut ffi::ap_filter_t, bb: *mut ffi::apr_bucket_brigade) -> ffi::apr_status_t {
    // SAFETY: httpd passes a live filter whose ctx we set in pre_connection
    // (the connection's Assoc).
    let (c, a) = unsafe { ((*f).c, &mut *((*f).ctx as *mut Assoc)) };
    if bb.is_null() {
        return 0;
    }
    // SAFETY: live connection.
    if unsafe { (*c).aborted } != 0 {
        // SAFETY: live brigade.
        unsafe { brigade::cleanup(bb) };
        return ffi::APR_ECONNABORTED as ffi::apr_status_t;
    }
    let cap = a.max_message;
    with_buffer(cap, |mem| {
        // What the last call held back: it came from a buffer of this size.
        let held = std::mem::take(&mut a.held);
        mem[..held.len()].copy_from_slice(&held);
        let mut w = Writer {
            len: held.len(),
            sid: a.held_sid,
            a,
            mem,
        };
        // SAFETY: live connection and brigade.
        unsafe { write_brigade(&mut w, c, bb) }
    })
}

/// The body of [`filter`], with this call's writer.
///
/// # Safety
/// `c` and `bb` are the filter's live connection and brigade.
unsafe fn write_brigade(
    w: &mut Writer<'_>,
    c: *mut ffi::conn_rec,
    bb: *mut ffi::apr_bucket_brigade,
) -> ffi::apr_status_t {
    let result = (|| -> Result<(), ffi::apr_status_t> {
        // SAFETY: walking and consuming the live brigade bucket by bucket.
        unsafe {
            while let Some(b) = brigade::first(bb) {
                if brigade::is_metadata(b) {
                    // FLUSH, EOR (end of a response) and EOC (end of the
                    // connection) all want what came before on the wire.
                    if brigade::is_type(b, &ffi::apr_bucket_type_flush) {
                        w.flush()?;
                    } else if brigade::is_type(b, &ffi::ap_bucket_type_eor) {
                        w.flush()?;
                        // The next read may pin another stream. (The EOR
                        // bucket's destruction logs the request.)
                        w.a.end_response();
                    } else if brigade::is_type(b, &ffi::ap_bucket_type_eoc) {
                        w.flush()?;
                        w.end_of_connection(c);
                    }
                    brigade::delete(b);
                    continue;
                }
                // Read without blocking first: if a CGI or proxy has nothing
                // yet, send what we have before waiting for more.
                let data = match brigade::read(b, ffi::apr_read_type_e_APR_NONBLOCK_READ) {
                    Err(rv) if rv == ffi::APR_EAGAIN as ffi::apr_status_t => {
                        w.flush()?;
                        brigade::read(b, ffi::apr_read_type_e_APR_BLOCK_READ)?
                    }
                    other => other?,
                };
                w.push(data)?;
                brigade::delete(b);
            }
            Ok(())
        }
    })();
    // A little of an unfinished response may wait for the next call (see
    // the module docs); FLUSH, EOR and EOC above left nothing pending.
    let result = result.and_then(|_| {
        if w.len > 0 && w.len <= HOLD_MAX {
            w.a.held = w.mem[..w.len].to_vec();
            w.a.held_sid = w.sid;
            w.len = 0;
            Ok(())
        } else {
            w.flush()
        }
    });
    match result {
        Ok(()) => 0,
        Err(rv) => {
            tracing::debug!(
                "association {}: SCTP send on stream {} failed after {} message(s), {} byte(s): {}{}",
                w.a.assoc_id,
                w.sid,
                w.a.counters.messages_out,
                w.a.counters.bytes_out,
                crate::apr_error(rv),
                w.a.ended_note()
            );
            // SAFETY: live connection and brigade.
            unsafe {
                (*c).aborted = 1;
                brigade::cleanup(bb);
            }
            rv
        }
    }
}

/// The C entry point registered with httpd.
pub(crate) unsafe extern "C" fn sctp_out(
    f: *mut ffi::ap_filter_t,
    bb: *mut ffi::apr_bucket_brigade,
) -> ffi::apr_status_t {
    // SAFETY: httpd calls us with a live filter and brigade. The body does
    // not panic (the workspace aborts on panic rather than unwinding).
    unsafe { filter(f, bb) }
}

/// Registered filter handle (set in register_hooks).
pub static mut HANDLE: *mut ffi::ap_filter_rec_t = ptr::null_mut();
