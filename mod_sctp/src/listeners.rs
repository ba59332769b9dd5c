//! SCTP listening sockets and their place in httpd's listener list.
//!
//! httpd's MPMs accept on every record in `ap_listeners`, whatever its
//! socket. mod_sctp keeps its own records (docs/architecture.md, "Listeners"):
//! * they live in the process pool and are retained across generations, so a
//!   graceful restart keeps the bound sockets;
//! * `unlink_ours` (pre_config, before the MPM's) takes them out of
//!   `ap_listeners`, so core neither closes them with its old listeners nor
//!   adopts them for a TCP `Listen` on the same address;
//! * `install` (open_logs, before the MPM's) drops core's unbound TCP
//!   placeholders for `Listen … sctp`, reuses, creates or closes SCTP sockets
//!   to match the configuration, and puts the records at the head with
//!   `active = 1`, so core never binds them itself.
//!
//! Core's `open_listeners` (server/listen.c, in the MPM's open_logs) walks
//! the list without looking at protocols, in two places that matter for a
//! wildcard SCTP listener on a port that TCP also uses (Debian's stock
//! `Listen 80` beside our `SCTPListen 80`):
//! * an inactive TCP `0.0.0.0:P` record directly followed by a `[::]:P`
//!   record is swapped with it, and the loop goes on with the swapped-in
//!   record without checking whether it is active: with our records at the
//!   tail, core then ran its TCP `make_sock` on our bound SCTP socket
//!   (TCP_NODELAY, then IPV6_V6ONLY on a bound socket: EINVAL, "no
//!   listening sockets"). At the head, no record of core's precedes ours.
//! * a TCP `0.0.0.0:P` record is dropped when an earlier `[::]:P` record's
//!   socket says, through `apr_socket_opt_get(APR_IPV6_V6ONLY)`, that it
//!   takes IPv4 too. That call reads APR's cached flag, never the kernel;
//!   see `open_socket` for how our wildcard socket answers it.

use crate::apr_error;
use crate::config::{Config, ListenSpec};
use crate::ffi;
use apr_sctp::sctp;
use std::ffi::{CStr, CString};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::BorrowedFd;
use std::os::raw::c_int;
use std::ptr;

/// The protocol name on our records: not "http", so core applies no TCP
/// accept filter (which would fail on SCTP and warn every generation).
pub const PROTOCOL: &CStr = c"sctp";
const RETAINED_KEY: &CStr = c"mod_sctp:listeners";
const KEY_LEN: usize = 256;

/// One retained SCTP listener. `rec` comes first, so the pointer httpd keeps
/// in `ap_listeners` is also a pointer to this struct.
#[repr(C)]
struct Listener {
    rec: ffi::ap_listen_rec,
    /// `ListenSpec::key` of the configuration that created the socket.
    key: [u8; KEY_LEN],
    /// Its extra local addresses, comma-separated.
    extra: [u8; KEY_LEN],
    /// Whether the socket is open (a closed entry is a free slot).
    open: c_int,
    /// Set in `install` for the records of the current generation.
    wanted: c_int,
    next: *mut Listener,
}

#[repr(C)]
struct Retained {
    head: *mut Listener,
}

fn retained() -> *mut Retained {
    // SAFETY: ap_retained_data_get/create return process-pool memory that
    // lives as long as the parent process; the size is our struct's.
    unsafe {
        let p = ffi::ap_retained_data_get(RETAINED_KEY.as_ptr());
        if !p.is_null() {
            return p as *mut Retained;
        }
        ffi::ap_retained_data_create(RETAINED_KEY.as_ptr(), std::mem::size_of::<Retained>())
            as *mut Retained
    }
}

/// Iterates over the retained listeners.
fn each(mut f: impl FnMut(&mut Listener)) {
    // SAFETY: the retained list only holds process-pool nodes we created.
    unsafe {
        let mut l = (*retained()).head;
        while !l.is_null() {
            f(&mut *l);
            l = (*l).next;
        }
    }
}

fn is_ours(rec: *mut ffi::ap_listen_rec) -> bool {
    let mut found = false;
    each(|l| found |= ptr::eq(&l.rec, rec));
    found
}

/// pre_config: take mod_sctp's records out of `ap_listeners`.
pub fn unlink_ours() {
    // SAFETY: ap_listeners is httpd's exported list head; pre_config runs in
    // the single-threaded parent before the MPM touches the list.
    unsafe {
        let mut link: *mut *mut ffi::ap_listen_rec = ptr::addr_of_mut!(ffi::ap_listeners);
        while !(*link).is_null() {
            let rec = *link;
            if is_ours(rec) {
                *link = (*rec).next;
                (*rec).next = ptr::null_mut();
            } else {
                link = ptr::addr_of_mut!((*rec).next);
            }
        }
    }
}

fn protocol_is_sctp(rec: *const ffi::ap_listen_rec) -> bool {
    // SAFETY: protocol is NULL or a NUL-terminated string in a live pool.
    unsafe {
        let p = (*rec).protocol;
        !p.is_null() && CStr::from_ptr(p).to_bytes().eq_ignore_ascii_case(b"sctp")
    }
}

/// Whether core's record `rec` stands for one of our `Listen … sctp` lines:
/// core matches listeners by hostname string and port, and so do we.
fn is_listen_sctp_record(rec: *const ffi::ap_listen_rec, cfg: &Config) -> bool {
    // SAFETY: core's records have a bind_addr from the process pool (or
    // none); hostname is NULL for the wildcard or a NUL-terminated string.
    let (host, port) = unsafe {
        let sa = (*rec).bind_addr;
        if sa.is_null() {
            return false;
        }
        let h = (*sa).hostname;
        let host = (!h.is_null()).then(|| CStr::from_ptr(h).to_string_lossy().into_owned());
        (host, (*sa).port)
    };
    cfg.listeners
        .iter()
        .any(|l| l.origin == "Listen" && l.port == port && l.host == host)
}

/// Drops core's records for `Listen … sctp` from `ap_listeners` and closes
/// their sockets. Usually they are unbound TCP placeholders (protocol
/// "sctp"); but when the address was a TCP listener in the previous
/// generation, core adopts that bound, listening TCP record (its reuse
/// ignores the protocol) and it keeps its old protocol name: those are
/// found by address, so the TCP socket really stops.
fn drop_core_placeholders(cfg: &Config) -> usize {
    let mut dropped = 0;
    // SAFETY: as in unlink_ours; core created these sockets with
    // apr_socket_create and they are closed exactly once, here.
    unsafe {
        let mut link: *mut *mut ffi::ap_listen_rec = ptr::addr_of_mut!(ffi::ap_listeners);
        while !(*link).is_null() {
            let rec = *link;
            if !is_ours(rec) && (protocol_is_sctp(rec) || is_listen_sctp_record(rec, cfg)) {
                *link = (*rec).next;
                if !(*rec).sd.is_null() {
                    ffi::apr_socket_close((*rec).sd);
                    (*rec).sd = ptr::null_mut();
                }
                dropped += 1;
            } else {
                link = ptr::addr_of_mut!((*rec).next);
            }
        }
    }
    dropped
}

fn fixed(s: &str) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    // At most KEY_LEN - 1 bytes: the last stays NUL.
    for (d, b) in k.iter_mut().zip(s.bytes().take(KEY_LEN - 1)) {
        *d = b;
    }
    k
}

fn key_of(spec: &ListenSpec) -> [u8; KEY_LEN] {
    fixed(&spec.key())
}

fn extra_of(spec: &ListenSpec) -> [u8; KEY_LEN] {
    fixed(&spec.extra.join(","))
}

fn text(b: &[u8; KEY_LEN]) -> String {
    String::from_utf8_lossy(b)
        .trim_end_matches('\0')
        .to_string()
}

fn socket_addrs(addrs: &[String], port: u16) -> Vec<SocketAddr> {
    addrs
        .iter()
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, port))
        .collect()
}

/// Brings a retained socket's extra local addresses to what `spec` says.
fn update_extra(l: &mut Listener, spec: &ListenSpec) -> Result<(), String> {
    let old_text = text(&l.extra);
    let old: Vec<String> = old_text
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let add: Vec<String> = spec
        .extra
        .iter()
        .filter(|a| !old.contains(a))
        .cloned()
        .collect();
    let rem: Vec<String> = old
        .iter()
        .filter(|a| !spec.extra.contains(a))
        .cloned()
        .collect();
    if add.is_empty() && rem.is_empty() {
        return Ok(());
    }
    // SAFETY: open socket of ours.
    let fd = unsafe { BorrowedFd::borrow_raw(ffi::socket_fd(l.rec.sd)) };
    sctp::bindx_add(fd, &socket_addrs(&add, spec.port))
        .map_err(|e| format!("could not add local addresses {add:?} to {spec}: {e}"))?;
    sctp::bindx_rem(fd, &socket_addrs(&rem, spec.port))
        .map_err(|e| format!("could not remove local addresses {rem:?} from {spec}: {e}"))?;
    report(
        tracing::Level::INFO,
        format!("SCTP listener {spec}: added {add:?}, removed {rem:?}"),
    );
    l.extra = extra_of(spec);
    Ok(())
}

/// What `install` did, kept for `log_report`: install runs in open_logs
/// before core opens this generation's error log, so its lines would only
/// reach the startup console.
static REPORT: std::sync::Mutex<Vec<(tracing::Level, String)>> = std::sync::Mutex::new(Vec::new());

fn report(level: tracing::Level, line: String) {
    REPORT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((level, line));
}

/// Logs what `install` did (post_config, once the error log is open).
pub fn log_report() {
    let lines = std::mem::take(&mut *REPORT.lock().unwrap_or_else(|p| p.into_inner()));
    for (level, line) in lines {
        // Each line at the level `report` was given (tracing's macros want
        // the level as a constant).
        match level {
            tracing::Level::ERROR => tracing::error!("{line}"),
            tracing::Level::WARN => tracing::warn!("{line}"),
            tracing::Level::INFO => tracing::info!("{line}"),
            tracing::Level::DEBUG => tracing::debug!("{line}"),
            _ => tracing::trace!("{line}"),
        }
    }
}

/// Notifications every association reports to the error log.
const NOTIFICATIONS: &[sctp::Event] = &[
    sctp::Event::AssocChange,
    sctp::Event::PeerAddrChange,
    sctp::Event::SendFailed,
    sctp::Event::RemoteError,
    sctp::Event::Shutdown,
];

/// Applies the association parameters of `cfg` to a listening socket; new
/// associations inherit them. Also run on retained sockets, so a changed
/// `SCTPInStreams` takes effect at a graceful restart.
fn apply_options(fd: BorrowedFd<'_>, cfg: &Config) -> Result<(), String> {
    sctp::set_initmsg(
        fd,
        &sctp::InitMsg {
            num_ostreams: cfg.out_streams,
            max_instreams: cfg.in_streams,
            max_attempts: 0,
            max_init_timeo: 0,
        },
    )
    .map_err(|e| format!("SCTP_INITMSG: {e}"))?;
    sctp::set_nodelay(fd, cfg.nodelay).map_err(|e| format!("SCTP_NODELAY: {e}"))?;
    sctp::set_recvrcvinfo(fd, true).map_err(|e| format!("SCTP_RECVRCVINFO: {e}"))?;
    // Logged by apr-sctp as SCTP_IN reads them (Notification::severity).
    sctp::subscribe(fd, NOTIFICATIONS, true).map_err(|e| format!("SCTP_EVENT: {e}"))?;
    set_buffer(fd, sctp::SocketBuffer::Send, cfg.send_buffer)?;
    set_buffer(fd, sctp::SocketBuffer::Receive, cfg.receive_buffer)?;
    // The failover directives, and the kernel's defaults for those unset:
    // a retained socket that had a value from the last generation gets the
    // default back when its directive is removed.
    sctp::set_timers(fd, &cfg.effective_failover()).map_err(|e| {
        format!("failover settings (SCTPRTO*, SCTPHeartbeatInterval, SCTP*MaxRetransmissions): {e}")
    })?;
    Ok(())
}

/// Sets SO_SNDBUF or SO_RCVBUF of a listener (accepted associations copy
/// it) to `bytes`; 0 leaves the kernel's default. The parent runs as root
/// here, so the directive may exceed net.core.wmem_max / rmem_max
/// ([`sctp::set_buffer`]); a warning says so when the kernel keeps less.
fn set_buffer(fd: BorrowedFd<'_>, which: sctp::SocketBuffer, bytes: usize) -> Result<(), String> {
    if bytes == 0 {
        return Ok(());
    }
    let (name, sysctl) = match which {
        sctp::SocketBuffer::Send => ("SCTPSendBuffer", "net.core.wmem_max"),
        sctp::SocketBuffer::Receive => ("SCTPReceiveBuffer", "net.core.rmem_max"),
    };
    let kept = sctp::set_buffer(fd, which, bytes).map_err(|e| format!("{name} {bytes}: {e}"))?;
    if kept < bytes {
        report(
            tracing::Level::WARN,
            format!("SCTP01005: {name} {bytes}: the kernel keeps {kept} bytes (limited by {sysctl}; raise it, or start httpd as root)"),
        );
    }
    Ok(())
}

/// Creates, binds and listens one SCTP socket in the process pool.
///
/// # Safety
/// Must run in the parent during open_logs; `pool` is the process pool.
unsafe fn open_socket(
    spec: &ListenSpec,
    cfg: &Config,
    pool: *mut ffi::apr_pool_t,
) -> Result<(*mut ffi::apr_socket_t, *mut ffi::apr_sockaddr_t), String> {
    let host = spec
        .host
        .as_ref()
        .map(|h| CString::new(h.as_str()).unwrap_or_default());
    // The wildcard is IPv6 with v4-mapped addresses where IPv6 exists (as
    // Debian's httpd does for TCP), else IPv4.
    let families: &[i32] = if host.is_some() {
        &[ffi::APR_UNSPEC as i32]
    } else {
        &[ffi::APR_INET6 as i32, ffi::APR_INET as i32]
    };
    let mut last_err = String::new();
    for &family in families {
        let mut sa: *mut ffi::apr_sockaddr_t = ptr::null_mut();
        // SAFETY: valid out-pointer, optional NUL-terminated host, live pool.
        let rv = unsafe {
            ffi::apr_sockaddr_info_get(
                &mut sa,
                host.as_ref().map_or(ptr::null(), |h| h.as_ptr()),
                family,
                spec.port,
                0,
                pool,
            )
        };
        if rv != 0 {
            last_err = format!("cannot resolve {spec}: {}", apr_error(rv));
            continue;
        }
        let mut sd: *mut ffi::apr_socket_t = ptr::null_mut();
        // SAFETY: `sa` was just filled in by APR; the socket lives in `pool`.
        let rv = unsafe {
            ffi::apr_socket_create(
                &mut sd,
                (*sa).family,
                libc::SOCK_STREAM,
                ffi::APR_PROTO_SCTP as i32,
                pool,
            )
        };
        if rv != 0 {
            last_err = if rv == libc::EPROTONOSUPPORT {
                format!(
                    "cannot create an SCTP socket for {spec}: {} — this kernel has no SCTP \
                     (load it with 'modprobe sctp')",
                    apr_error(rv)
                )
            } else {
                format!("cannot create an SCTP socket for {spec}: {}", apr_error(rv))
            };
            if rv == libc::EAFNOSUPPORT {
                continue;
            }
            return Err(last_err);
        }
        let close_with = |msg: String| {
            // SAFETY: `sd` is the socket created above, closed once.
            unsafe { ffi::apr_socket_close(sd) };
            Err(msg)
        };
        // SAFETY: `sd` is the live socket created above; `fd` belongs to it,
        // and it stays open while it is borrowed.
        let bfd = unsafe { BorrowedFd::borrow_raw(ffi::socket_fd(sd)) };
        // SAFETY: plain option setter on a live APR socket.
        unsafe { ffi::apr_socket_opt_set(sd, ffi::APR_SO_REUSEADDR as i32, 1) };
        // SAFETY: `sa` was filled in by APR above.
        let family = unsafe { (*sa).family };
        if family == ffi::APR_INET6 as i32 && host.is_none() {
            // The wildcard takes IPv4 and IPv6 peers (one association may
            // then have paths of both families), so the kernel's
            // IPV6_V6ONLY is off. APR's cached flag, the only thing core's
            // open_listeners reads (see the module comment), is set: this
            // socket takes no IPv4 *TCP* connections, and core must keep
            // its own TCP 0.0.0.0 listener on the same port.
            // SAFETY: plain option setter on a live APR socket.
            unsafe { ffi::apr_socket_opt_set(sd, ffi::APR_IPV6_V6ONLY as i32, 1) };
            if let Err(e) = sctp::set_v6only(bfd, false) {
                return close_with(format!("{spec}: {e}"));
            }
        }
        if let Err(e) = apply_options(bfd, cfg) {
            return close_with(format!("{spec}: {e}"));
        }
        // SAFETY: live socket and address from the same family.
        let rv = unsafe { ffi::apr_socket_bind(sd, sa) };
        if rv != 0 {
            return close_with(format!("could not bind SCTP to {spec}: {}", apr_error(rv)));
        }
        if !spec.extra.is_empty() {
            if let Err(e) = sctp::bindx_add(bfd, &socket_addrs(&spec.extra, spec.port)) {
                return close_with(format!(
                    "could not add local addresses {:?} to {spec}: {e}",
                    spec.extra
                ));
            }
        }
        // SAFETY: bound socket.
        let rv = unsafe { ffi::apr_socket_listen(sd, cfg.backlog) };
        if rv != 0 {
            return close_with(format!("listen() on SCTP {spec} failed: {}", apr_error(rv)));
        }
        return Ok((sd, sa));
    }
    Err(last_err)
}

/// open_logs: makes `ap_listeners` hold exactly the configured SCTP
/// listeners, reusing retained sockets. Returns a message on failure.
///
/// # Safety
/// Must run in the single-threaded parent during open_logs, before the
/// MPM's open_logs; `pool` is the process pool.
pub unsafe fn install(cfg: &Config, pool: *mut ffi::apr_pool_t) -> Result<(), String> {
    let dropped = drop_core_placeholders(cfg);
    report(
        tracing::Level::DEBUG,
        format!("dropped {dropped} record(s) that core made for 'Listen ... sctp'"),
    );

    // 1. Match configured listeners with retained open sockets, and give
    //    those this generation's options (new sockets get them in
    //    open_socket, before they listen).
    each(|l| l.wanted = 0);
    let mut to_create = Vec::new();
    for spec in &cfg.listeners {
        let key = key_of(spec);
        let mut found: Option<Result<(), String>> = None;
        each(|l| {
            if found.is_none() && l.open != 0 && l.wanted == 0 && l.key == key {
                l.wanted = 1;
                // SAFETY: open socket of ours.
                let fd = unsafe { BorrowedFd::borrow_raw(ffi::socket_fd(l.rec.sd)) };
                found = Some(
                    apply_options(fd, cfg)
                        .map_err(|e| format!("{spec}: {e}"))
                        .and_then(|()| update_extra(l, spec)),
                );
            }
        });
        match found {
            Some(r) => {
                r?;
                report(
                    tracing::Level::DEBUG,
                    format!("reusing the SCTP listener on {spec}"),
                );
            }
            None => to_create.push(spec),
        }
    }
    // 2. Close what the configuration no longer has (before binding new
    //    sockets, which may want the same address with other options).
    each(|l| {
        if l.open != 0 && l.wanted == 0 {
            let name = text(&l.key);
            report(
                tracing::Level::INFO,
                format!("closing the SCTP listener on {name}: no longer configured"),
            );
            // SAFETY: the socket is open and ours; closed exactly once.
            unsafe { ffi::apr_socket_close(l.rec.sd) };
            l.rec.sd = ptr::null_mut();
            l.open = 0;
        }
    });
    // 3. Create the new ones, in a free slot or a new node.
    for spec in to_create {
        // SAFETY: forwarded from our caller.
        let (sd, sa) = unsafe { open_socket(spec, cfg, pool)? };
        let mut slot: *mut Listener = ptr::null_mut();
        each(|l| {
            if slot.is_null() && l.open == 0 {
                slot = l;
            }
        });
        if slot.is_null() {
            // SAFETY: zeroed process-pool memory of the right size and
            // alignment (APR aligns to 8); linked at the retained head.
            unsafe {
                slot = ffi::apr_palloc(pool, std::mem::size_of::<Listener>()) as *mut Listener;
                ptr::write_bytes(slot, 0, 1);
                (*slot).next = (*retained()).head;
                (*retained()).head = slot;
            }
        }
        // SAFETY: `slot` is a valid node; fields are plain data.
        unsafe {
            (*slot).rec = ffi::ap_listen_rec {
                sd,
                bind_addr: sa,
                // A process-pool copy: the record outlives this DSO's
                // mapping if httpd unloads the module between generations.
                protocol: ffi::apr_pstrdup(pool, PROTOCOL.as_ptr()),
                ..Default::default()
            };
            (*slot).key = key_of(spec);
            (*slot).extra = extra_of(spec);
            (*slot).open = 1;
            (*slot).wanted = 1;
        }
        report(
            tracing::Level::INFO,
            format!("listening for SCTP on {spec}"),
        );
    }
    // 4. Put every wanted socket, in order, at the head (module comment:
    //    why not the tail).
    let mut head: *mut ffi::ap_listen_rec = ptr::null_mut();
    let mut tail: *mut *mut ffi::ap_listen_rec = &mut head;
    each(|l| {
        if l.wanted == 0 {
            return;
        }
        l.rec.active = 1;
        l.rec.accept_func = None;
        l.rec.next = ptr::null_mut();
        // SAFETY: `tail` points at the last `next` link of our chain.
        unsafe {
            *tail = &mut l.rec;
            tail = ptr::addr_of_mut!(l.rec.next);
        }
    });
    // SAFETY: single-threaded parent; our chain ends in a null link, which
    // now takes core's list.
    unsafe {
        *tail = ffi::ap_listeners;
        ffi::ap_listeners = head;
    }
    Ok(())
}

/// The number of SCTP listeners installed (for post_config checks).
/// The SCTP listeners this generation serves, as their configuration
/// named them (extra local addresses after a `+`), for the status page.
pub fn installed_names() -> Vec<String> {
    let mut v = Vec::new();
    each(|l| {
        if l.wanted != 0 && l.open != 0 {
            let extra = text(&l.extra);
            v.push(if extra.is_empty() {
                text(&l.key)
            } else {
                format!("{}+{extra}", text(&l.key))
            });
        }
    });
    v
}

pub fn installed() -> usize {
    let mut n = 0;
    each(|l| n += (l.wanted != 0 && l.open != 0) as usize);
    n
}
