//! SCTP_OUT, the network output filter of SCTP connections.
//!
//! On Linux every write to an SCTP socket is one message, and a write larger
//! than the socket's send buffer fails with EMSGSIZE instead of writing part
//! of it; httpd's CORE output filter writev()s whole files. So mod_sctp owns
//! the network writes of SCTP connections (design §2 "Output"): this filter
//! sits just above CORE, cuts the response into messages of at most
//! `SCTPMaxMessageSize` bytes, sends them with `sendmsg` on the connection's
//! stream, and never passes data down to CORE.
//!
//! Writes are blocking with the connection's timeout (apr-sctp waits for
//! writability), and nothing is kept between calls: when the filter returns,
//! every byte it was given is in the kernel, so EOR buckets (whose
//! destruction logs the request and frees its pool) are destroyed only after
//! the response's bytes were sent, and the event MPM's write completion finds
//! nothing pending.

use crate::brigade;
use crate::ffi;
use crate::messages::Coalescer;
use apr_sctp::sctp::SndInfo;
use std::io::IoSlice;
use std::os::raw::c_void;
use std::ptr;

/// SCTP payload protocol identifier for HTTP (IANA: 63).
pub const PPID_HTTP: u32 = 63;

/// The most unread bytes discarded at the end of a connection.
const DRAIN_LIMIT: usize = 1 << 20;

/// Per-connection state, allocated in the connection pool.
#[repr(C)]
pub struct OutCtx {
    sock: *mut ffi::apr_socket_t,
    /// Coalescing buffer of `cap` bytes (connection pool memory).
    buf: *mut u8,
    cap: usize,
    len: usize,
    /// The connection's id when it was accepted (the event MPM renumbers
    /// `c->id` as worker threads change), for log lines.
    pub conn_id: i64,
    /// Stream the connection's responses go on.
    pub sid: u16,
    pub messages: u64,
    pub bytes: u64,
}

impl OutCtx {
    /// # Safety
    /// `pool` is the connection pool, `sock` the connection's socket.
    pub unsafe fn create(
        pool: *mut ffi::apr_pool_t,
        sock: *mut ffi::apr_socket_t,
        cap: usize,
        conn_id: i64,
    ) -> *mut OutCtx {
        // SAFETY: pool memory, sized and written before use; OutCtx has no
        // destructor, so the pool may free it without a cleanup.
        unsafe {
            let ctx = ffi::apr_palloc(pool, std::mem::size_of::<OutCtx>()) as *mut OutCtx;
            let buf = ffi::apr_palloc(pool, cap) as *mut u8;
            ptr::write(
                ctx,
                OutCtx {
                    sock,
                    buf,
                    cap,
                    len: 0,
                    conn_id,
                    sid: 0,
                    messages: 0,
                    bytes: 0,
                },
            );
            ctx
        }
    }

    fn info(&self) -> SndInfo {
        SndInfo {
            sid: self.sid,
            flags: 0,
            ppid: PPID_HTTP,
            context: 0,
        }
    }

    /// Sends one message on the connection's stream.
    fn send_message(&mut self, data: &[u8]) -> Result<(), ffi::apr_status_t> {
        let info = self.info();
        // SAFETY: `sock` is the connection's live socket (the two crates'
        // bindgen types are the same C type).
        unsafe { apr_sctp::apr_socket::send(self.sock as *mut _, &[IoSlice::new(data)], &info) }
            .map(|_| {
                self.messages += 1;
                self.bytes += data.len() as u64;
            })
            .map_err(|rv| rv as ffi::apr_status_t)
    }

    /// Runs `f` with the coalescing buffer and a sender for this connection.
    fn with_coalescer<T>(
        &mut self,
        f: impl FnOnce(&mut Coalescer<'_>, &mut dyn FnMut(&[u8]) -> Result<(), ffi::apr_status_t>) -> T,
    ) -> T {
        let (buf, cap) = (self.buf, self.cap);
        let mut len = self.len;
        // SAFETY: `buf` is `cap` bytes of connection-pool memory that only
        // this filter touches.
        let mem = unsafe { std::slice::from_raw_parts_mut(buf, cap) };
        let out = {
            let mut sender = |m: &[u8]| self.send_message(m);
            f(&mut Coalescer::new(mem, &mut len), &mut sender)
        };
        self.len = len;
        out
    }

    /// See "End of connection" in the module docs.
    fn end_of_connection(&mut self, c: *mut ffi::conn_rec) {
        // SAFETY: the connection's live socket.
        let fd = unsafe {
            let mut fd: ffi::apr_os_sock_t = -1;
            ffi::apr_os_sock_get(&mut fd, self.sock);
            std::os::fd::BorrowedFd::borrow_raw(fd)
        };
        let mut scratch = [0u8; 4096];
        let mut discarded = 0usize;
        // Bounded: a peer that keeps sending gets an ABORT instead.
        while discarded < DRAIN_LIMIT {
            match apr_sctp::sctp::recv_msg(fd, &mut scratch, libc::MSG_DONTWAIT) {
                Ok(r) if r.len > 0 => discarded += r.len,
                _ => break,
            }
        }
        tracing::debug!(
            "connection {}: closing the association after {} message(s), {} byte(s); {} unread byte(s) discarded",
            self.conn_id,
            self.messages,
            self.bytes,
            discarded
        );
        // SAFETY: live connection; see the module docs for why.
        unsafe { (*c).aborted = 1 };
    }

    fn push(&mut self, data: &[u8]) -> Result<(), ffi::apr_status_t> {
        self.with_coalescer(|c, send| c.push(data, &mut |m| send(m)))
    }

    fn flush(&mut self) -> Result<(), ffi::apr_status_t> {
        self.with_coalescer(|c, send| c.flush(&mut |m| send(m)))
    }
}

/// Sends the whole brigade; see the module docs.
///
/// # Safety
/// Called by httpd as an output filter function.
unsafe fn filter(f: *mut ffi::ap_filter_t, bb: *mut ffi::apr_bucket_brigade) -> ffi::apr_status_t {
    // SAFETY: httpd passes a live filter whose ctx we set in pre_connection.
    let (c, ctx) = unsafe { ((*f).c, &mut *((*f).ctx as *mut OutCtx)) };
    if bb.is_null() {
        return 0;
    }
    // SAFETY: live connection.
    if unsafe { (*c).aborted } != 0 {
        // SAFETY: live brigade.
        unsafe { brigade::cleanup(bb) };
        return ffi::APR_ECONNABORTED as ffi::apr_status_t;
    }
    let result = (|| -> Result<(), ffi::apr_status_t> {
        // SAFETY: walking and consuming the live brigade bucket by bucket.
        unsafe {
            while let Some(b) = brigade::first(bb) {
                if brigade::is_metadata(b) {
                    // FLUSH, EOR (end of a response) and EOC (end of the
                    // connection) all want what came before on the wire.
                    if brigade::is_type(b, &ffi::apr_bucket_type_flush)
                        || brigade::is_type(b, &ffi::ap_bucket_type_eor)
                    {
                        ctx.flush()?;
                    } else if brigade::is_type(b, &ffi::ap_bucket_type_eoc) {
                        ctx.flush()?;
                        ctx.end_of_connection(c);
                    }
                    brigade::delete(b);
                    continue;
                }
                // Read without blocking first: if a CGI or proxy has nothing
                // yet, send what we have before waiting for more.
                let data = match brigade::read(b, ffi::apr_read_type_e_APR_NONBLOCK_READ) {
                    Err(rv) if rv == ffi::APR_EAGAIN as ffi::apr_status_t => {
                        ctx.flush()?;
                        brigade::read(b, ffi::apr_read_type_e_APR_BLOCK_READ)?
                    }
                    other => other?,
                };
                ctx.push(data)?;
                brigade::delete(b);
            }
            Ok(())
        }
    })();
    // Nothing stays buffered between calls (see the module docs).
    let result = result.and_then(|_| ctx.flush());
    match result {
        Ok(()) => 0,
        Err(rv) => {
            tracing::debug!(
                "SCTP send failed after {} message(s), {} byte(s) on this connection: {}",
                ctx.messages,
                ctx.bytes,
                crate::apr_error(rv)
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

/// Adds SCTP_OUT to a new SCTP connection.
///
/// # Safety
/// pre_connection of an SCTP connection.
pub unsafe fn add(c: *mut ffi::conn_rec, sock: *mut ffi::apr_socket_t, cap: usize) {
    // SAFETY: live connection; HANDLE was registered in register_hooks.
    unsafe {
        let ctx = OutCtx::create((*c).pool, sock, cap, (*c).id);
        ffi::ap_add_output_filter_handle(HANDLE, ctx as *mut c_void, ptr::null_mut(), c);
    }
}
