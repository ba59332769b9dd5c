//! Debug lines on standard error when `RSP_DEBUG` is set. A C library has
//! no logger of its caller's to join (mod_sctp routes `tracing` into
//! httpd's error log; a pool user or element is any program), so this is
//! one `eprintln!` behind an environment check read once.

use std::sync::OnceLock;

pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("RSP_DEBUG").is_some_and(|v| !v.is_empty() && v != "0"))
}

/// `debug!("...", args)`: one line "rsp: ..." on stderr when enabled.
#[macro_export]
#[doc(hidden)]
macro_rules! debug {
    ($($t:tt)*) => {
        if $crate::log::enabled() {
            eprintln!("rsp[{}]: {}", std::process::id(), format_args!($($t)*));
        }
    };
}
