//! The APR bucket-brigade macros (`APR_BRIGADE_FIRST`, `apr_bucket_read`,
//! `apr_bucket_delete`, …) as small functions: bindgen cannot translate
//! macros, and the filters need nothing more than these.

use crate as ffi;
use std::ptr::addr_of_mut;

/// `APR_BRIGADE_SENTINEL`: the ring's head viewed as a bucket. The ring link
/// is the first member of `apr_bucket`, so the head's address is the sentinel.
///
/// # Safety
/// `bb` must point to a live brigade.
pub unsafe fn sentinel(bb: *mut ffi::apr_bucket_brigade) -> *mut ffi::apr_bucket {
    // SAFETY: caller guarantees `bb` is live; only an address is computed.
    unsafe { addr_of_mut!((*bb).list) as *mut ffi::apr_bucket }
}

/// `APR_BRIGADE_FIRST`, or `None` when the brigade is empty.
///
/// # Safety
/// `bb` must point to a live brigade.
pub unsafe fn first(bb: *mut ffi::apr_bucket_brigade) -> Option<*mut ffi::apr_bucket> {
    // SAFETY: the ring head of a live brigade is always initialised.
    let b = unsafe { (*bb).list.next };
    // SAFETY: as above.
    (b != unsafe { sentinel(bb) }).then_some(b)
}

/// `APR_BUCKET_IS_METADATA`.
///
/// # Safety
/// `b` must point to a live bucket.
pub unsafe fn is_metadata(b: *mut ffi::apr_bucket) -> bool {
    // SAFETY: a live bucket has a valid type pointer.
    unsafe { (*(*b).type_).is_metadata == ffi::apr_bucket_type_t_APR_BUCKET_METADATA }
}

/// Compares a bucket's type with one of the well-known bucket types.
///
/// # Safety
/// `b` must point to a live bucket.
pub unsafe fn is_type(b: *mut ffi::apr_bucket, t: *const ffi::apr_bucket_type_t) -> bool {
    // SAFETY: a live bucket has a valid type pointer.
    std::ptr::eq(unsafe { (*b).type_ }, t)
}

/// `apr_bucket_read`: returns the bucket's bytes (the bucket may morph and
/// insert a successor holding the rest).
///
/// # Safety
/// `b` must point to a live bucket in a brigade; the slice is valid until the
/// bucket is destroyed.
pub unsafe fn read<'a>(
    b: *mut ffi::apr_bucket,
    block: ffi::apr_read_type_e,
) -> Result<&'a [u8], ffi::apr_status_t> {
    let mut data: *const std::os::raw::c_char = std::ptr::null();
    let mut len: ffi::apr_size_t = 0;
    // SAFETY: every bucket type has a read function; the out-pointers are
    // valid locals.
    let rv = unsafe {
        ((*(*b).type_).read.expect("bucket type without read"))(b, &mut data, &mut len, block)
    };
    if rv != 0 {
        return Err(rv);
    }
    if len == 0 || data.is_null() {
        return Ok(&[]);
    }
    // SAFETY: APR guarantees `data` points to `len` readable bytes owned by
    // the bucket until it is destroyed.
    Ok(unsafe { std::slice::from_raw_parts(data as *const u8, len) })
}

/// `apr_bucket_delete`: unlinks the bucket and destroys it.
///
/// # Safety
/// `b` must point to a live bucket in a brigade; it is freed.
pub unsafe fn delete(b: *mut ffi::apr_bucket) {
    // SAFETY: APR_BUCKET_REMOVE then apr_bucket_destroy, exactly as the
    // macros do; the neighbours are live ring members.
    unsafe {
        let prev = (*b).link.prev;
        let next = (*b).link.next;
        (*prev).link.next = next;
        (*next).link.prev = prev;
        if let Some(destroy) = (*(*b).type_).destroy {
            destroy((*b).data);
        }
        if let Some(free) = (*b).free {
            free(b as *mut std::os::raw::c_void);
        }
    }
}

/// `apr_brigade_cleanup` for the error paths: destroys every bucket.
///
/// # Safety
/// `bb` must point to a live brigade.
pub unsafe fn cleanup(bb: *mut ffi::apr_bucket_brigade) {
    // SAFETY: exported APR function on a live brigade.
    unsafe {
        ffi::apr_brigade_cleanup(bb as *mut std::os::raw::c_void);
    }
}

/// `APR_BRIGADE_INSERT_TAIL`.
///
/// # Safety
/// `bb` must point to a live brigade and `b` to a fresh, unlinked bucket.
pub unsafe fn append(bb: *mut ffi::apr_bucket_brigade, b: *mut ffi::apr_bucket) {
    // SAFETY: ring links of a live brigade and bucket.
    unsafe {
        let sentinel = sentinel(bb);
        let last = (*bb).list.prev;
        (*b).link.next = sentinel;
        (*b).link.prev = last;
        (*last).link.next = b;
        (*bb).list.prev = b;
    }
}

/// Appends a heap bucket holding a copy of `data` (nothing if empty).
///
/// # Safety
/// `bb` must point to a live brigade.
pub unsafe fn append_copy(bb: *mut ffi::apr_bucket_brigade, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    // SAFETY: a heap bucket with no free function copies `data` into memory
    // of the brigade's bucket allocator.
    unsafe {
        let b = ffi::apr_bucket_heap_create(
            data.as_ptr() as *const std::os::raw::c_char,
            data.len(),
            None,
            (*bb).bucket_alloc,
        );
        append(bb, b);
    }
}
