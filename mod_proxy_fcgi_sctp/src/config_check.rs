//! `apachectl -t` and startup refuse an `fcgi+sctp://` worker httpd could
//! never reach (no port, bad port, bad %-escape), naming it, instead of
//! failing each request later. Walks mod_proxy's workers: those of
//! ProxyPass / SetHandler definitions and the members of every balancer.

use crate::backend_url::{self, BackendUrl};
use httpd_sys as ffi;
use std::ffi::CStr;
use std::os::raw::c_char;

extern "C" {
    /// mod_proxy's module record (exported by mod_proxy.so, loaded first).
    static proxy_module: ffi::module;
}

/// The workers' URLs that are ours and do not parse, with why.
///
/// # Safety
/// `s` is the live main server of a configuration mod_proxy has read.
pub unsafe fn bad_workers(s: *mut ffi::server_rec) -> Vec<String> {
    let mut bad = Vec::new();
    let mut s = s;
    while !s.is_null() {
        // SAFETY: live server records and mod_proxy's per-server config
        // (index from its module record; arrays as mod_proxy builds them:
        // workers of structs, balancers of structs, balancer members of
        // pointers).
        unsafe {
            let idx = proxy_module.module_index;
            let conf = if idx >= 0 && !(*s).module_config.is_null() {
                *((*s).module_config as *mut *mut ffi::proxy_server_conf).add(idx as usize)
            } else {
                std::ptr::null_mut()
            };
            if !conf.is_null() {
                for w in structs::<ffi::proxy_worker>((*conf).workers) {
                    check(w, &mut bad);
                }
                for b in structs::<ffi::proxy_balancer>((*conf).balancers) {
                    for w in pointers::<ffi::proxy_worker>((*b).workers) {
                        check(w, &mut bad);
                    }
                }
            }
            s = (*s).next;
        }
    }
    bad.sort();
    bad.dedup();
    bad
}

/// # Safety
/// `arr` is null or a live APR array of `T`.
unsafe fn structs<T>(arr: *mut ffi::apr_array_header_t) -> Vec<*mut T> {
    if arr.is_null() {
        return Vec::new();
    }
    // SAFETY: the caller's contract.
    unsafe {
        let base = (*arr).elts as *mut T;
        (0..(*arr).nelts.max(0) as usize)
            .map(|i| base.add(i))
            .collect()
    }
}

/// # Safety
/// `arr` is null or a live APR array of `*mut T`.
unsafe fn pointers<T>(arr: *mut ffi::apr_array_header_t) -> Vec<*mut T> {
    // SAFETY: the caller's contract.
    unsafe {
        structs::<*mut T>(arr)
            .into_iter()
            .map(|p| *p)
            .filter(|p| !p.is_null())
            .collect()
    }
}

/// # Safety
/// `w` is a live worker.
unsafe fn check(w: *mut ffi::proxy_worker, bad: &mut Vec<String>) {
    // SAFETY: a defined worker has its shared record; names are
    // NUL-terminated within their arrays.
    let name = unsafe {
        let sh = (*w).s;
        if sh.is_null() {
            return;
        }
        let ex = field(&(*sh).name_ex);
        if ex.is_empty() {
            field(&(*sh).name)
        } else {
            ex
        }
    };
    if !backend_url::is_ours(&name) {
        return;
    }
    if let Err(e) = BackendUrl::parse(&name) {
        bad.push(format!("{name}: {e}"));
    }
}

fn field(a: &[c_char]) -> String {
    if !a.contains(&0) {
        return String::new();
    }
    // SAFETY: `a` holds a NUL (checked), so the C string ends inside it.
    unsafe { CStr::from_ptr(a.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}
