//! SCTP_IN, the network input filter of SCTP connections.
//!
//! Added in pre_connection at AP_FTYPE_NETWORK, above core's CORE_IN,
//! which is never called. Every read goes through the association's
//! per-stream queues (see `association`): httpd sees the bytes of one
//! stream at a time, the pinned stream of the request being read, and the
//! other streams' messages wait in their queues until the response ends.
//!
//! Modes, as core implements them for TCP:
//! * GETLINE: one line of the pinned stream (through LF), or
//!   `HUGE_STRING_LEN` bytes of a longer line, or what is left at the end;
//! * READBYTES: up to `readbytes` bytes of the pinned stream;
//! * SPECULATIVE: the same, left queued. Between requests nothing is pinned
//!   and the read reports the stream whose data has waited longest, so that
//!   httpd sees pipelined requests on any stream (the event MPM would
//!   otherwise wait on a socket with nothing new to read);
//! * EATCRLF: drops blank lines between requests of the pinned stream;
//! * EXHAUSTIVE: everything of the pinned stream up to the end;
//! * INIT: nothing to do.
//!
//! Blocking reads wait up to the socket's timeout (which mod_reqtimeout
//! adjusts), non-blocking reads return APR_EAGAIN when nothing is queued for
//! the pinned stream and nothing can be read.

use crate::association::Assoc;
use crate::brigade;
use crate::ffi;
use std::ptr;

/// Longest line piece returned by GETLINE (httpd's HUGE_STRING_LEN).
const LINE_MAX: usize = 8192;

fn is(rv: ffi::apr_status_t, code: u32) -> bool {
    rv == code as ffi::apr_status_t
}

impl Assoc {
    /// Pins a stream for the request being read, reading until one has data.
    fn pinned_with_data(&mut self, block: ffi::apr_read_type_e) -> Result<(), ffi::apr_status_t> {
        loop {
            if self.demux.pin().is_some() && self.demux.pinned_len() > 0 {
                return Ok(());
            }
            self.fill(block)?;
        }
    }

    fn getline(&mut self, block: ffi::apr_read_type_e) -> Result<Vec<u8>, ffi::apr_status_t> {
        loop {
            if self.demux.pin().is_some() {
                match self.demux.read_line(LINE_MAX) {
                    Ok(Some(line)) => return Ok(line),
                    Err(()) => return Ok(self.demux.read_bytes(LINE_MAX)),
                    Ok(None) => {}
                }
            }
            match self.fill(block) {
                Ok(()) => {}
                // A partial line at the end, or all a non-blocking read has:
                // httpd reads on until it has the LF.
                Err(rv) if is(rv, ffi::APR_EOF) || is(rv, ffi::APR_EAGAIN) => {
                    let rest = self.demux.read_bytes(LINE_MAX);
                    return if rest.is_empty() { Err(rv) } else { Ok(rest) };
                }
                Err(rv) => return Err(rv),
            }
        }
    }

    fn exhaustive(&mut self, block: ffi::apr_read_type_e) -> Result<Vec<u8>, ffi::apr_status_t> {
        loop {
            match self.fill(block) {
                Ok(()) => {}
                Err(rv) if is(rv, ffi::APR_EOF) => break,
                Err(rv) => return Err(rv),
            }
        }
        self.demux.pin();
        Ok(self.demux.read_bytes(usize::MAX))
    }

    /// One read of httpd's input filter API; the bytes for the brigade.
    fn read(
        &mut self,
        mode: ffi::ap_input_mode_t,
        block: ffi::apr_read_type_e,
        readbytes: ffi::apr_off_t,
    ) -> Result<Vec<u8>, ffi::apr_status_t> {
        let n = usize::try_from(readbytes).unwrap_or(0).max(1);
        match mode {
            ffi::ap_input_mode_t_AP_MODE_GETLINE => self.getline(block),
            ffi::ap_input_mode_t_AP_MODE_READBYTES => {
                self.pinned_with_data(block)?;
                Ok(self.demux.read_bytes(n))
            }
            ffi::ap_input_mode_t_AP_MODE_SPECULATIVE => {
                self.pinned_with_data(block)?;
                Ok(self.demux.peek(n))
            }
            ffi::ap_input_mode_t_AP_MODE_EATCRLF => {
                if self.demux.pin().is_some() {
                    self.demux.eat_crlf();
                }
                Ok(Vec::new())
            }
            ffi::ap_input_mode_t_AP_MODE_EXHAUSTIVE => self.exhaustive(block),
            _ => Ok(Vec::new()), // AP_MODE_INIT
        }
    }
}

/// Gives CORE_IN (below us, never called) an empty input brigade.
///
/// When httpd cannot read a request's headers (a timeout, a malformed or
/// oversized header) it removes every input filter above CORE_IN and empties
/// CORE_IN's brigade, so that further reads see EOF (`ap_read_request`,
/// "die_unusable_input"). CORE_IN creates that brigade at its first read,
/// which never happens on an SCTP connection: httpd would dereference a null
/// context. With an empty brigade in place CORE_IN answers EOF, as httpd
/// intends; it never reads the socket, whose bytes belong to our queues.
///
/// # Safety
/// `f` is our live filter.
unsafe fn disarm_core_in(f: *mut ffi::ap_filter_t) {
    // SAFETY: walking the live chain below us; CORE_IN's context is a
    // core_net_rec (http_core.h), whose in_ctx core fills lazily with a
    // core_filter_ctx allocated from the connection pool, as we do here.
    unsafe {
        let mut n = (*f).next;
        while !n.is_null() && (*n).frec != ffi::ap_core_input_filter_handle {
            n = (*n).next;
        }
        if n.is_null() {
            return;
        }
        let net = (*n).ctx as *mut ffi::core_net_rec;
        if net.is_null() || !(*net).in_ctx.is_null() {
            return;
        }
        let c = (*f).c;
        let ctx = ffi::apr_palloc((*c).pool, std::mem::size_of::<ffi::core_ctx_t>())
            as *mut ffi::core_ctx_t;
        ptr::write(
            ctx,
            ffi::core_ctx_t {
                b: ffi::apr_brigade_create((*c).pool, (*c).bucket_alloc),
                tmpbb: ffi::apr_brigade_create((*c).pool, (*c).bucket_alloc),
            },
        );
        (*net).in_ctx = ctx;
    }
}

/// # Safety
/// Called by httpd as an input filter function.
unsafe fn filter(
    f: *mut ffi::ap_filter_t,
    bb: *mut ffi::apr_bucket_brigade,
    mode: ffi::ap_input_mode_t,
    block: ffi::apr_read_type_e,
    readbytes: ffi::apr_off_t,
) -> ffi::apr_status_t {
    // SAFETY: httpd passes a live filter whose ctx we set in pre_connection
    // (the connection's Assoc), and a live brigade.
    let a = unsafe { &mut *((*f).ctx as *mut Assoc) };
    if !a.core_in_ready {
        a.core_in_ready = true;
        // SAFETY: live filter chain of a live connection.
        unsafe { disarm_core_in(f) };
    }
    match a.read(mode, block, readbytes) {
        Ok(data) => {
            // SAFETY: live brigade.
            unsafe { brigade::append_copy(bb, &data) };
            0
        }
        Err(rv) => {
            if !is(rv, ffi::APR_EAGAIN) && !is(rv, ffi::APR_EOF) {
                tracing::debug!(
                    "association {}: read on stream {:?} failed: {}{}",
                    a.assoc_id,
                    a.demux.pinned(),
                    crate::apr_error(rv),
                    a.ended_note()
                );
            }
            rv
        }
    }
}

/// The C entry point registered with httpd.
pub(crate) unsafe extern "C" fn sctp_in(
    f: *mut ffi::ap_filter_t,
    bb: *mut ffi::apr_bucket_brigade,
    mode: ffi::ap_input_mode_t,
    block: ffi::apr_read_type_e,
    readbytes: ffi::apr_off_t,
) -> ffi::apr_status_t {
    let body = || {
        // SAFETY: httpd calls us with a live filter and brigade.
        unsafe { filter(f, bb, mode, block, readbytes) }
    };
    // SAFETY: httpd passes a live filter for the whole call.
    unsafe { httpd_module::boundary::filter(f, "mod_sctp: SCTP_IN", body) }
}

/// Registered filter handle (set in register_hooks).
pub static mut HANDLE: *mut ffi::ap_filter_rec_t = ptr::null_mut();
