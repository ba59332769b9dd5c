//! apr-sctp: SCTP on APR sockets.
//!
//! * [`sctp`]: a safe layer over the Linux SCTP socket API.
//! * [`apr_socket`]: `apr_socket_send_sctp()` / `apr_socket_recv_sctp()`,
//!   stream-aware I/O on an `apr_socket_t` with APR's timeout semantics.
//! * [`bucket`]: the SCTP bucket type, a socket bucket that records the
//!   stream of what it read.
//! * [`adu`]: WebTP-style ADUs on an association (reliable or not,
//!   ordered or not, two priorities); [`adu_framing`]: WebTP's 4-byte ADU
//!   header over a byte stream (sans-I/O); [`traffic_class`]: WebTP's
//!   traffic classes as DSCP, socket priority and SCTP_NODELAY
//!   (sans-I/O); [`adu_c`]: the ADU service for C (apr_sctp.h).
pub mod adu;
pub mod adu_c;
pub mod adu_framing;
pub mod apr_socket;
pub mod bucket;
pub mod sctp;
pub mod sys;
pub mod traffic_class;

/// For tests that need kernel SCTP: when this kernel has none, says
/// "skipped: kernel has no SCTP" (on stdout, where `--show-output` and
/// ci/test count it, and on stderr) and returns from the test. ci/test runs
/// such tests for real in the SCTP VM, where a skip counts as a failure.
#[macro_export]
macro_rules! need_sctp {
    () => {
        if !$crate::sctp::kernel_has_sctp() {
            eprintln!("skipped: kernel has no SCTP (run ci/test, which uses the SCTP VM)");
            println!("skipped: kernel has no SCTP");
            return;
        }
    };
}
