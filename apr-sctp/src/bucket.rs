//! The SCTP bucket type: APR's socket bucket, read with `recvmsg`, recording
//! the stream (and the rest of the receive information) of what it read.
//!
//! Like the socket bucket it has an unknown length until read. A read takes
//! up to APR_BUCKET_BUFF_SIZE bytes of one message, turns the bucket into a
//! heap bucket holding them, and inserts after it a new SCTP bucket that
//! records the receive information of those bytes:
//! `apr_bucket_sctp_rcvinfo()` on that successor tells the stream they came
//! on. At end of stream the bucket becomes an empty immortal bucket. A
//! non-blocking read with nothing to read returns APR_EAGAIN and leaves the
//! bucket as it was; a blocking read waits up to the socket's timeout.

use crate::apr_socket::{self, apr_sctp_rcvinfo_t};
use crate::sys;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

/// What an SCTP bucket points to (allocated from the bucket allocator).
#[repr(C)]
struct Data {
    sock: *mut sys::apr_socket_t,
    /// Receive information of the bytes just before this bucket.
    info: apr_sctp_rcvinfo_t,
    has_info: c_int,
}

/// `apr_bucket_type_t` with `Sync`, so it can be a static the C side sees as
/// `extern const apr_bucket_type_t apr_bucket_type_sctp`.
#[repr(transparent)]
pub struct BucketType(pub sys::apr_bucket_type_t);
// SAFETY: the type record is immutable; it holds only a static string and
// function pointers.
unsafe impl Sync for BucketType {}

#[no_mangle]
#[allow(non_upper_case_globals)]
pub static apr_bucket_type_sctp: BucketType = BucketType(sys::apr_bucket_type_t {
    name: c"SCTP".as_ptr(),
    num_func: 5,
    is_metadata: sys::apr_bucket_type_t_APR_BUCKET_DATA,
    destroy: Some(destroy),
    read: Some(read),
    setaside: Some(sys::apr_bucket_setaside_notimpl),
    split: Some(sys::apr_bucket_split_notimpl),
    copy: Some(sys::apr_bucket_copy_notimpl),
});

unsafe extern "C" fn destroy(data: *mut c_void) {
    if !data.is_null() {
        // SAFETY: `data` was allocated with apr_bucket_alloc in `make`.
        unsafe { sys::apr_bucket_free(data) };
    }
}

unsafe extern "C" fn read(
    b: *mut sys::apr_bucket,
    out: *mut *const c_char,
    len: *mut sys::apr_size_t,
    block: sys::apr_read_type_e,
) -> sys::apr_status_t {
    // SAFETY: APR calls read on a live SCTP bucket with valid out-pointers;
    // the steps mirror apr_buckets_socket.c's read.
    unsafe {
        let data = (*b).data as *mut Data;
        let sock = (*data).sock;
        let list = (*b).list;
        let nonblock = block == sys::apr_read_type_e_APR_NONBLOCK_READ;
        let mut saved: sys::apr_interval_time_t = 0;
        if nonblock {
            sys::apr_socket_timeout_get(sock, &mut saved);
            sys::apr_socket_timeout_set(sock, 0);
        }
        let cap = sys::APR_BUCKET_BUFF_SIZE as usize;
        let buf = sys::apr_bucket_alloc(cap, list) as *mut u8;
        if buf.is_null() {
            if nonblock {
                sys::apr_socket_timeout_set(sock, saved);
            }
            return sys::APR_ENOMEM as sys::apr_status_t;
        }
        let r = apr_socket::recv_msg(sock, std::slice::from_raw_parts_mut(buf, cap));
        if nonblock {
            sys::apr_socket_timeout_set(sock, saved);
        }
        *out = ptr::null();
        *len = 0;
        match r {
            Ok(r) if r.len > 0 => {
                let n = r.len;
                let info = apr_socket::c_rcvinfo(&r);
                let b = sys::apr_bucket_heap_make(
                    b,
                    buf as *const c_char,
                    n,
                    Some(sys::apr_bucket_free),
                );
                // As the socket bucket does: the heap bucket owns the whole
                // buffer, so brigade writes may fill the rest of it.
                let h = (*b).data as *mut sys::apr_bucket_heap;
                (*h).alloc_len = cap;
                let next = make(alloc_bucket(list), sock, Some(info));
                insert_after(b, next);
                destroy(data as *mut c_void);
                *out = buf as *const c_char;
                *len = n;
                0
            }
            Ok(_) => eof(b, buf, data, out),
            Err(rv) if rv == sys::APR_EOF as sys::apr_status_t => eof(b, buf, data, out),
            Err(rv) => {
                sys::apr_bucket_free(buf as *mut c_void);
                rv
            }
        }
    }
}

/// End of stream: the bucket becomes an empty immortal bucket.
///
/// # Safety
/// Called from `read` with its live bucket, buffer and data.
unsafe fn eof(
    b: *mut sys::apr_bucket,
    buf: *mut u8,
    data: *mut Data,
    out: *mut *const c_char,
) -> sys::apr_status_t {
    // SAFETY: per the contract.
    unsafe {
        sys::apr_bucket_free(buf as *mut c_void);
        let b = sys::apr_bucket_immortal_make(b, c"".as_ptr(), 0);
        destroy(data as *mut c_void);
        *out = (*b).data as *const c_char;
    }
    0
}

/// `APR_BUCKET_INSERT_AFTER`.
///
/// # Safety
/// `a` is in a ring; `n` is a fresh, unlinked bucket.
unsafe fn insert_after(a: *mut sys::apr_bucket, n: *mut sys::apr_bucket) {
    // SAFETY: ring links of live buckets.
    unsafe {
        (*n).link.next = (*a).link.next;
        (*n).link.prev = a;
        (*(*a).link.next).link.prev = n;
        (*a).link.next = n;
    }
}

/// A fresh bucket record from `list`, linked to itself, freed by APR.
///
/// # Safety
/// `list` is a live bucket allocator.
unsafe fn alloc_bucket(list: *mut sys::apr_bucket_alloc_t) -> *mut sys::apr_bucket {
    // SAFETY: apr_bucket_alloc returns memory for one apr_bucket.
    unsafe {
        let b = sys::apr_bucket_alloc(std::mem::size_of::<sys::apr_bucket>(), list)
            as *mut sys::apr_bucket;
        ptr::write_bytes(b, 0, 1);
        (*b).link.next = b;
        (*b).link.prev = b;
        (*b).free = Some(sys::apr_bucket_free);
        (*b).list = list;
        b
    }
}

/// Makes `b` an SCTP bucket on `sock`.
///
/// # Safety
/// `b` is a live bucket whose previous data is no longer needed.
unsafe fn make(
    b: *mut sys::apr_bucket,
    sock: *mut sys::apr_socket_t,
    info: Option<apr_sctp_rcvinfo_t>,
) -> *mut sys::apr_bucket {
    // SAFETY: allocation from the bucket's own allocator, written before use.
    unsafe {
        let d = sys::apr_bucket_alloc(std::mem::size_of::<Data>(), (*b).list) as *mut Data;
        ptr::write(
            d,
            Data {
                sock,
                info: info.unwrap_or_default(),
                has_info: info.is_some() as c_int,
            },
        );
        (*b).type_ = &apr_bucket_type_sctp.0;
        (*b).length = usize::MAX;
        (*b).start = -1;
        (*b).data = d as *mut c_void;
        b
    }
}

/// `apr_bucket_sctp_make()`: turns `b` into an SCTP bucket reading `sock`.
///
/// # Safety
/// C callers pass a live bucket and socket.
#[no_mangle]
pub unsafe extern "C" fn apr_bucket_sctp_make(
    b: *mut sys::apr_bucket,
    sock: *mut sys::apr_socket_t,
) -> *mut sys::apr_bucket {
    // SAFETY: forwarded contract.
    unsafe { make(b, sock, None) }
}

/// `apr_bucket_sctp_create()`: a new SCTP bucket reading `sock`.
///
/// # Safety
/// C callers pass a live socket and bucket allocator.
#[no_mangle]
pub unsafe extern "C" fn apr_bucket_sctp_create(
    sock: *mut sys::apr_socket_t,
    list: *mut sys::apr_bucket_alloc_t,
) -> *mut sys::apr_bucket {
    // SAFETY: forwarded contract.
    unsafe { make(alloc_bucket(list), sock, None) }
}

/// `apr_bucket_sctp_rcvinfo()`: the receive information of the bytes read
/// just before this SCTP bucket (see the module docs). APR_EINVAL if `b` is
/// not an SCTP bucket, APR_ENOENT if nothing was read before it.
///
/// # Safety
/// C callers pass a live bucket and a writable `info`.
#[no_mangle]
pub unsafe extern "C" fn apr_bucket_sctp_rcvinfo(
    b: *const sys::apr_bucket,
    info: *mut apr_sctp_rcvinfo_t,
) -> sys::apr_status_t {
    // SAFETY: live bucket per the contract; the type check comes first.
    unsafe {
        if b.is_null() || info.is_null() || !ptr::eq((*b).type_, &apr_bucket_type_sctp.0) {
            return sys::APR_EINVAL as sys::apr_status_t;
        }
        let d = (*b).data as *const Data;
        if (*d).has_info == 0 {
            return sys::APR_ENOENT as sys::apr_status_t;
        }
        *info = (*d).info;
    }
    0
}

/// Rust entry point for mod_sctp: `apr_bucket_sctp_create`.
///
/// # Safety
/// As for `apr_bucket_sctp_create`.
pub unsafe fn create(
    sock: *mut sys::apr_socket_t,
    list: *mut sys::apr_bucket_alloc_t,
) -> *mut sys::apr_bucket {
    // SAFETY: forwarded contract.
    unsafe { apr_bucket_sctp_create(sock, list) }
}
