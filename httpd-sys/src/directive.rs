//! Helpers for directive handlers (`command_rec` functions) shared by the
//! workspace's modules.

use crate as ffi;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

/// `msg` as the error a directive handler returns (copied into the
/// configuration pool; httpd prints it with the file and line).
///
/// # Safety
/// `cmd` is the live cmd_parms of the directive being handled.
pub unsafe fn cmd_error(cmd: *mut ffi::cmd_parms, msg: &str) -> *const c_char {
    let msg = std::ffi::CString::new(msg.replace('\0', "")).unwrap_or_default();
    // SAFETY: live cmd_parms (the caller's contract); apr_pstrdup copies
    // into its configuration pool.
    unsafe { ffi::apr_pstrdup((*cmd).pool, msg.as_ptr()) }
}

/// httpd's error for a global directive written inside `<VirtualHost>`,
/// `<Directory>` etc.; `None` where it is allowed.
///
/// # Safety
/// `cmd` is the live cmd_parms of the directive being handled.
pub unsafe fn global_only(cmd: *mut ffi::cmd_parms) -> Option<*const c_char> {
    // SAFETY: live cmd_parms (the caller's contract).
    let err = unsafe { ffi::ap_check_cmd_context(cmd, ffi::GLOBAL_ONLY) };
    (!err.is_null()).then_some(err)
}

/// A TAKE_ARGV handler's arguments (not UTF-8: empty).
///
/// # Safety
/// `argv` holds `argc` NUL-terminated strings (httpd's TAKE_ARGV contract).
pub unsafe fn args<'a>(argc: c_int, argv: *const *mut c_char) -> Vec<&'a str> {
    (0..argc.max(0) as usize)
        // SAFETY: per the contract above.
        .map(|i| {
            unsafe { CStr::from_ptr(*argv.add(i)) }
                .to_str()
                .unwrap_or("")
        })
        .collect()
}
