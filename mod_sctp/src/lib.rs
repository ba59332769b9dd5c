//! mod_sctp: SCTP transport for the Apache HTTP Server 2.4.
//!
//! This file is only glue: the module record, the directive table and the
//! hooks. Each concept lives in its own file:
//! * `config`: what the directives say, parsed and checked (sans-I/O);
//! * `listeners`: SCTP listening sockets in httpd's listener list;
//! * `connection`: what happens on each accepted association;
//! * `association`: the state of one association that both filters share;
//! * `input_filter`: SCTP_IN, which reads requests one stream at a time;
//! * `stream_demux`: which stream's request is read, one at a time
//!   (sans-I/O);
//! * `session`: the concurrent association session (sans-I/O,
//!   not wired in yet) and the per-stream input queues both use;
//! * `output_filter`: SCTP_OUT, which writes each response as SCTP messages
//!   on its request's stream;
//! * `messages`: cutting bytes into bounded messages (sans-I/O);
//! * `status`, `registry`, `status_handler`: `SetHandler sctp-status`, from
//!   a table of live associations in shared memory;
//! * `log`: `tracing` into httpd's error log.

#![warn(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(
    test,
    allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]
pub mod association;
pub use httpd_sys::brigade;
pub mod association_connection;
pub mod config;
pub mod connection;
pub mod ffi;
pub mod input_filter;
pub mod listeners;
pub mod log;
pub mod messages;
pub mod output_filter;
pub mod registry;
pub mod response_priority;
pub mod session;
pub mod shared_session;
pub mod status;
pub mod status_handler;
pub mod stream_connection;
pub mod stream_demux;
pub mod stream_workers;

use config::Config;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::{Mutex, MutexGuard};

/// The configuration of the generation being read or served. Directives
/// run in the single-threaded parent; children get a copy when forked.
static CONFIG: Mutex<Option<Config>> = Mutex::new(None);

fn config_mut() -> MutexGuard<'static, Option<Config>> {
    CONFIG.lock().unwrap_or_else(|p| p.into_inner())
}

/// A copy of the current configuration.
pub fn config() -> Config {
    config_mut().clone().unwrap_or_default()
}

fn with_config<T>(f: impl FnOnce(&mut Config) -> T) -> T {
    let mut g = config_mut();
    f(g.get_or_insert_with(Config::default))
}

/// mod_sctp's index in httpd's per-module configuration arrays
/// (conn_config, per_dir_config, log levels).
pub(crate) fn module_index() -> usize {
    // SAFETY: httpd writes module_index once while loading the module
    // (before any hook runs) and only reads it afterwards; a plain int read.
    unsafe { (*ptr::addr_of!(sctp_module)).module_index as usize }
}

pub(crate) fn apr_error(rv: ffi::apr_status_t) -> String {
    let mut buf = [0 as c_char; 256];
    // SAFETY: apr_strerror writes at most buf.len() bytes, NUL-terminated.
    unsafe {
        ffi::apr_strerror(rv, buf.as_mut_ptr(), buf.len());
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    }
}

// ---------------------------------------------------------------------------
// Directives

use httpd_sys::directive::{args, cmd_error, global_only};

fn cstr_arg<'a>(p: *const c_char) -> &'a str {
    // SAFETY: httpd passes NUL-terminated arguments that live for the call.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("")
}

/// Where the directive being run was written.
fn place_of(cmd: *mut ffi::cmd_parms) -> Option<config::Place> {
    // SAFETY: live cmd_parms; `directive` is NULL or a node of the
    // configuration tree, whose filename is NULL or NUL-terminated.
    unsafe {
        let d = (*cmd).directive;
        (!d.is_null()).then(|| directive_place(d))
    }
}

/// # Safety
/// `d` is a live node of httpd's configuration tree.
unsafe fn directive_place(d: *const ffi::ap_directive_t) -> config::Place {
    // SAFETY: per the contract; filename is NULL or NUL-terminated.
    let (f, line) = unsafe { ((*d).filename, (*d).line_num) };
    let file = if f.is_null() {
        String::new()
    } else {
        // SAFETY: non-NULL, NUL-terminated (above).
        unsafe { CStr::from_ptr(f) }.to_string_lossy().into_owned()
    };
    config::Place {
        file,
        line: line.max(0) as u32,
    }
}

/// Reads what mod_sctp needs of core's directives (`Listen … sctp`,
/// `ListenBacklog`, `ListenCoresBucketsRatio`) from the configuration tree,
/// at pre_config, before any directive runs: so mod_sctp's command table
/// has none of core's names (`httpd -L` lists them as core's only), and
/// `SCTPListen` lines see every `Listen … sctp` line, wherever written.
/// Core's `ap_listenbacklog` and `ap_listencbratio` are private to
/// listen.c, and its records in `ap_listeners` carry no file or line.
fn read_core_directives(cfg: &mut Config) {
    let mut stack = Vec::new();
    // SAFETY: ap_conftree is httpd's exported tree, built by ap_read_config
    // before pre_config and not changed while the hook runs (the parent is
    // single-threaded here). Nodes are live pool memory; strings are NULL
    // or NUL-terminated. The walk is bounded by the tree (a finite list of
    // siblings and children, no cycles).
    unsafe {
        let mut d = ffi::ap_conftree as *const ffi::ap_directive_t;
        loop {
            while !d.is_null() {
                let name = (*d).directive;
                if !name.is_null() {
                    let name = CStr::from_ptr(name).to_string_lossy();
                    if name
                        .get(..6)
                        .is_some_and(|p| p.eq_ignore_ascii_case("Listen"))
                    {
                        let args = (*d).args;
                        let args = if args.is_null() {
                            "".into()
                        } else {
                            CStr::from_ptr(args).to_string_lossy()
                        };
                        cfg.core_directive(&name, &args, directive_place(d));
                    }
                }
                if !(*d).first_child.is_null() {
                    stack.push((*d).first_child as *const ffi::ap_directive_t);
                }
                d = (*d).next;
            }
            match stack.pop() {
                Some(next) => d = next,
                None => break,
            }
        }
    }
}

/// The kernel's defaults of the failover settings (`net.sctp.*` of this
/// network namespace); unknown (None) where it has no SCTP.
fn kernel_failover() -> config::Failover {
    config::Failover::from_sysctls(|name| {
        std::fs::read_to_string(format!("/proc/sys/net/sctp/{name}")).ok()
    })
}

/// Which value a shared TAKE1 handler sets (its `cmd_data`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Number {
    InStreams,
    OutStreams,
    MaxMessage,
    StreamQueue,
    AssocQueue,
    SendBuffer,
    ReceiveBuffer,
    RtoInitial,
    RtoMin,
    RtoMax,
    HbInterval,
    PathMaxRetrans,
    AssocMaxRetrans,
    MaxConcurrent,
    StreamWorkers,
}

impl Number {
    fn directive(self) -> &'static str {
        match self {
            Number::InStreams => "SCTPInStreams",
            Number::OutStreams => "SCTPOutStreams",
            Number::MaxMessage => "SCTPMaxMessageSize",
            Number::StreamQueue => "SCTPMaxStreamQueue",
            Number::AssocQueue => "SCTPMaxAssociationQueue",
            Number::SendBuffer => "SCTPSendBuffer",
            Number::ReceiveBuffer => "SCTPReceiveBuffer",
            Number::RtoInitial => config::FAILOVER_NAMES[0].0,
            Number::RtoMin => config::FAILOVER_NAMES[1].0,
            Number::RtoMax => config::FAILOVER_NAMES[2].0,
            Number::HbInterval => config::FAILOVER_NAMES[3].0,
            Number::PathMaxRetrans => config::FAILOVER_NAMES[4].0,
            Number::AssocMaxRetrans => config::FAILOVER_NAMES[5].0,
            Number::MaxConcurrent => "SCTPMaxConcurrentStreams",
            Number::StreamWorkers => "SCTPStreamWorkers",
        }
    }
}

static IN_STREAMS: Number = Number::InStreams;
static OUT_STREAMS: Number = Number::OutStreams;
static MAX_MESSAGE: Number = Number::MaxMessage;
static STREAM_QUEUE: Number = Number::StreamQueue;
static ASSOC_QUEUE: Number = Number::AssocQueue;
static SEND_BUFFER: Number = Number::SendBuffer;
static RECEIVE_BUFFER: Number = Number::ReceiveBuffer;
static RTO_INITIAL: Number = Number::RtoInitial;
static RTO_MIN: Number = Number::RtoMin;
static RTO_MAX: Number = Number::RtoMax;
static HB_INTERVAL: Number = Number::HbInterval;
static PATH_MAX_RETRANS: Number = Number::PathMaxRetrans;
static ASSOC_MAX_RETRANS: Number = Number::AssocMaxRetrans;
static MAX_CONCURRENT: Number = Number::MaxConcurrent;
static STREAM_WORKERS: Number = Number::StreamWorkers;

const fn tag(n: &'static Number) -> *mut c_void {
    n as *const Number as *mut c_void
}

fn number_of(cmd: *mut ffi::cmd_parms) -> Number {
    // SAFETY: every handler using this was registered with `tag(&…)` as its
    // cmd_data, which httpd hands back in `info`.
    unsafe { *((*cmd).info as *const Number) }
}

/// Records where a directive of `which` was written.
fn note_place(cmd: *mut ffi::cmd_parms, which: Number) {
    if let Some(p) = place_of(cmd) {
        with_config(|c| c.set_place(which.directive(), p));
    }
}

unsafe extern "C" fn cmd_sctp_listen(
    cmd: *mut ffi::cmd_parms,
    _d: *mut c_void,
    argc: c_int,
    argv: *const *mut c_char,
) -> *const c_char {
    httpd_module::boundary::directive("SCTPListen", || {
        // SAFETY: httpd passes the live cmd_parms of this directive.
        if let Some(e) = unsafe { global_only(cmd) } {
            return e;
        }
        // SAFETY: TAKE_ARGV contract.
        let a = unsafe { args(argc, argv) };
        let place = place_of(cmd);
        match with_config(|c| c.add_sctp_listen(&a, place)) {
            Ok(()) => ptr::null(),
            Err(e) => {
                // SAFETY: httpd passes the live cmd_parms of this directive.
                unsafe { cmd_error(cmd, &e) }
            }
        }
    })
}

unsafe extern "C" fn cmd_streams(
    cmd: *mut ffi::cmd_parms,
    _d: *mut c_void,
    arg: *const c_char,
) -> *const c_char {
    httpd_module::boundary::directive("mod_sctp: a streams directive", || {
        // SAFETY: httpd passes the live cmd_parms of this directive.
        if let Some(e) = unsafe { global_only(cmd) } {
            return e;
        }
        let which = number_of(cmd);
        let inbound = which == Number::InStreams;
        let parsed = config::parse_streams(which.directive(), cstr_arg(arg));
        store(cmd, which, parsed, |c, n| {
            if inbound {
                c.in_streams = n
            } else {
                c.out_streams = n
            }
        })
    })
}

unsafe extern "C" fn cmd_nodelay(
    cmd: *mut ffi::cmd_parms,
    _d: *mut c_void,
    on: c_int,
) -> *const c_char {
    httpd_module::boundary::directive("SCTPNoDelay", || {
        // SAFETY: httpd passes the live cmd_parms of this directive.
        if let Some(e) = unsafe { global_only(cmd) } {
            return e;
        }
        with_config(|c| c.nodelay = on != 0);
        ptr::null()
    })
}

/// The size directives: `SCTPMaxMessageSize`, `SCTPMaxStreamQueue`,
/// `SCTPMaxAssociationQueue`, `SCTPSendBuffer`, `SCTPReceiveBuffer`.
unsafe extern "C" fn cmd_size(
    cmd: *mut ffi::cmd_parms,
    _d: *mut c_void,
    arg: *const c_char,
) -> *const c_char {
    httpd_module::boundary::directive("mod_sctp: a size directive", || {
        // SAFETY: httpd passes the live cmd_parms of this directive.
        if let Some(e) = unsafe { global_only(cmd) } {
            return e;
        }
        let arg = cstr_arg(arg);
        let which = number_of(cmd);
        let parsed = match which {
            Number::StreamQueue => config::parse_stream_queue(arg),
            Number::AssocQueue => config::parse_assoc_queue(arg),
            Number::SendBuffer => config::parse_buffer("SCTPSendBuffer", arg),
            Number::ReceiveBuffer => config::parse_buffer("SCTPReceiveBuffer", arg),
            _ => config::parse_message_size(arg),
        };
        store(cmd, which, parsed, |c, n| match which {
            Number::StreamQueue => c.stream_queue = n,
            Number::AssocQueue => c.assoc_queue = n,
            Number::SendBuffer => c.send_buffer = n,
            Number::ReceiveBuffer => c.receive_buffer = n,
            _ => c.max_message = n,
        })
    })
}

/// What a value directive ends with: the parsed value stored (and where it
/// was written noted), or the parse error returned to httpd.
fn store<T>(
    cmd: *mut ffi::cmd_parms,
    which: Number,
    parsed: Result<T, String>,
    set: impl FnOnce(&mut Config, T),
) -> *const c_char {
    match parsed {
        Ok(n) => {
            note_place(cmd, which);
            with_config(|c| set(c, n));
            ptr::null()
        }
        Err(e) => {
            // SAFETY: httpd passes the live cmd_parms of this directive.
            unsafe { cmd_error(cmd, &e) }
        }
    }
}

/// The failover directives: `SCTPRTOInitial`, `SCTPRTOMin`, `SCTPRTOMax`,
/// `SCTPHeartbeatInterval` (times) and `SCTPPathMaxRetransmissions`,
/// `SCTPMaxRetransmissions` (counts). Their order is checked at
/// check_config, with the kernel's defaults for what is unset.
unsafe extern "C" fn cmd_failover(
    cmd: *mut ffi::cmd_parms,
    _d: *mut c_void,
    arg: *const c_char,
) -> *const c_char {
    httpd_module::boundary::directive("mod_sctp: a failover directive", || {
        // SAFETY: httpd passes the live cmd_parms of this directive.
        if let Some(e) = unsafe { global_only(cmd) } {
            return e;
        }
        let arg = cstr_arg(arg);
        let which = number_of(cmd);
        let name = which.directive();
        let parsed = match which {
            Number::PathMaxRetrans | Number::AssocMaxRetrans => {
                config::parse_retransmissions(name, arg).map(u32::from)
            }
            _ => config::parse_millis(name, arg),
        };
        store(cmd, which, parsed, |c, n| {
            let f = &mut c.failover;
            match which {
                Number::RtoInitial => f.rto_initial = Some(n),
                Number::RtoMin => f.rto_min = Some(n),
                Number::RtoMax => f.rto_max = Some(n),
                Number::HbInterval => f.hb_interval = Some(n),
                Number::PathMaxRetrans => f.path_max_retrans = Some(n as u16),
                _ => f.assoc_max_retrans = Some(n as u16),
            }
        })
    })
}

/// The concurrency directives: `SCTPMaxConcurrentStreams` (per
/// association) and `SCTPStreamWorkers` (per child). Accepted under every
/// MPM; an MPM without threads serves each association serially.
unsafe extern "C" fn cmd_concurrency(
    cmd: *mut ffi::cmd_parms,
    _d: *mut c_void,
    arg: *const c_char,
) -> *const c_char {
    httpd_module::boundary::directive("mod_sctp: a concurrency directive", || {
        // SAFETY: httpd passes the live cmd_parms of this directive.
        if let Some(e) = unsafe { global_only(cmd) } {
            return e;
        }
        let arg = cstr_arg(arg);
        match number_of(cmd) {
            Number::MaxConcurrent => store(
                cmd,
                Number::MaxConcurrent,
                config::parse_max_concurrent(arg),
                |c, n| c.max_concurrent = n,
            ),
            which => store(cmd, which, config::parse_stream_workers(arg), |c, n| {
                c.stream_workers = n
            }),
        }
    })
}

#[repr(transparent)]
struct Commands([ffi::command_rec; 19]);
// SAFETY: the table is immutable data that httpd only reads.
unsafe impl Sync for Commands {}

const fn take_argv(
    name: &'static CStr,
    f: unsafe extern "C" fn(
        *mut ffi::cmd_parms,
        *mut c_void,
        c_int,
        *const *mut c_char,
    ) -> *const c_char,
    help: &'static CStr,
) -> ffi::command_rec {
    ffi::command_rec {
        name: name.as_ptr(),
        func: ffi::cmd_func { take_argv: Some(f) },
        cmd_data: ptr::null_mut(),
        req_override: ffi::RSRC_CONF as c_int,
        args_how: ffi::cmd_how_TAKE_ARGV,
        errmsg: help.as_ptr(),
    }
}

const fn take1(
    name: &'static CStr,
    f: unsafe extern "C" fn(*mut ffi::cmd_parms, *mut c_void, *const c_char) -> *const c_char,
    data: *mut c_void,
    help: &'static CStr,
) -> ffi::command_rec {
    ffi::command_rec {
        name: name.as_ptr(),
        func: ffi::cmd_func { take1: Some(f) },
        cmd_data: data,
        req_override: ffi::RSRC_CONF as c_int,
        args_how: ffi::cmd_how_TAKE1,
        errmsg: help.as_ptr(),
    }
}

static COMMANDS: Commands = Commands([
    take_argv(c"SCTPListen", cmd_sctp_listen, c"[addr:]port [extra-local-address ...] - an SCTP listener, multihomed on the extra addresses"),
    take1(c"SCTPInStreams", cmd_streams, tag(&IN_STREAMS), c"Inbound streams accepted per association (1-65535, default 16)"),
    take1(c"SCTPOutStreams", cmd_streams, tag(&OUT_STREAMS), c"Outbound streams requested per association (1-65535, default 16)"),
    ffi::command_rec {
        name: c"SCTPNoDelay".as_ptr(),
        func: ffi::cmd_func { flag: Some(cmd_nodelay) },
        cmd_data: ptr::null_mut(),
        req_override: ffi::RSRC_CONF as c_int,
        args_how: ffi::cmd_how_FLAG,
        errmsg: c"On|Off - disable Nagle-like bundling delays (SCTP_NODELAY), default On".as_ptr(),
    },
    take1(c"SCTPMaxMessageSize", cmd_size, tag(&MAX_MESSAGE), c"Largest SCTP message written, in bytes (1024-131072, default 32768)"),
    take1(c"SCTPMaxStreamQueue", cmd_size, tag(&STREAM_QUEUE), c"Input bytes one stream may have queued ahead of the request being read (16K-256M, default 256K)"),
    take1(c"SCTPMaxAssociationQueue", cmd_size, tag(&ASSOC_QUEUE), c"Input bytes all streams of an association may have queued (16K-256M, default 1M)"),
    take1(c"SCTPSendBuffer", cmd_size, tag(&SEND_BUFFER), c"Send buffer of every association, in bytes (16K-64M, or 0 for the kernel's default; default 1M)"),
    take1(c"SCTPReceiveBuffer", cmd_size, tag(&RECEIVE_BUFFER), c"Receive buffer of every association, in bytes (16K-64M, or 0 for the kernel's default, the default)"),
    take1(c"SCTPRTOInitial", cmd_failover, tag(&RTO_INITIAL), c"Retransmission timeout before a round trip is measured, in ms or with s (1ms-86400s; default: net.sctp.rto_initial)"),
    take1(c"SCTPRTOMin", cmd_failover, tag(&RTO_MIN), c"Smallest retransmission timeout, in ms or with s (1ms-86400s; default: net.sctp.rto_min)"),
    take1(c"SCTPRTOMax", cmd_failover, tag(&RTO_MAX), c"Largest retransmission timeout, in ms or with s (1ms-86400s; default: net.sctp.rto_max)"),
    take1(c"SCTPHeartbeatInterval", cmd_failover, tag(&HB_INTERVAL), c"Heartbeat interval of idle paths, in ms or with s (1ms-86400s; default: net.sctp.hb_interval)"),
    take1(c"SCTPPathMaxRetransmissions", cmd_failover, tag(&PATH_MAX_RETRANS), c"Timeouts in a row after which a path is declared failed (1-65535; default: net.sctp.path_max_retrans)"),
    take1(c"SCTPMaxRetransmissions", cmd_failover, tag(&ASSOC_MAX_RETRANS), c"Timeouts in a row after which the association is given up (1-65535; default: net.sctp.association_max_retrans)"),
    take1(c"SCTPMaxConcurrentStreams", cmd_concurrency, tag(&MAX_CONCURRENT), c"Streams of one association served at once, each on its own connection and worker thread (1-1024, default 8; threaded MPMs only)"),
    take1(c"SCTPStreamWorkers", cmd_concurrency, tag(&STREAM_WORKERS), c"Most threads per child serving SCTP streams, shared by its associations (1-4096, or auto: ThreadsPerChild, the default; threaded MPMs only)"),
    ffi::command_rec {
        name: c"SCTPResponsePriority".as_ptr(),
        func: ffi::cmd_func { take1: Some(response_priority::cmd_response_priority) },
        cmd_data: ptr::null_mut(),
        req_override: (ffi::RSRC_CONF | ffi::ACCESS_CONF | ffi::OR_FILEINFO) as c_int,
        args_how: ffi::cmd_how_TAKE1,
        errmsg: c"high|normal|low - which responses an association sends first when several streams have messages queued (strict priority; default normal)".as_ptr(),
    },
    // SAFETY: an all-zero command_rec is the table's terminator.
    unsafe { std::mem::zeroed() },
]);

// ---------------------------------------------------------------------------
// Hooks

unsafe extern "C" fn pre_config(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
) -> c_int {
    httpd_module::boundary::server("mod_sctp: pre_config", || {
        log::init();
        response_priority::reset();
        let mut cfg = Config {
            kernel: kernel_failover(),
            ..Config::default()
        };
        read_core_directives(&mut cfg);
        *config_mut() = Some(cfg);
        listeners::unlink_ours();
        ffi::OK as c_int
    })
}

unsafe extern "C" fn check_config(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    httpd_module::boundary::server("mod_sctp: check_config", || {
        let cfg = config();
        for w in &cfg.warnings {
            // SAFETY: the live main server of the hook.
            unsafe {
                log::write_server(
                    ffi::APLOG_WARNING as c_int,
                    s,
                    "mod_sctp",
                    0,
                    &format!("mod_sctp: SCTP01004: {w}"),
                )
            };
        }
        if let Err(e) = cfg.check() {
            startup_error(s, &format!("SCTP01001: {e}"));
            return ffi::DONE;
        }
        ffi::OK as c_int
    })
}

fn startup_error(s: *mut ffi::server_rec, msg: &str) {
    // SAFETY: every caller passes the live main server of the hook.
    unsafe {
        log::write_server(
            ffi::APLOG_EMERG as c_int,
            s,
            "mod_sctp",
            0,
            &format!("mod_sctp: {msg}"),
        )
    };
}

unsafe extern "C" fn open_logs(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    httpd_module::boundary::server("mod_sctp: open_logs", || {
        // SAFETY: live main server; its process pool outlives generations.
        let pool = unsafe { (*(*s).process).pool };
        // SAFETY: single-threaded parent, before the MPM's open_logs.
        match unsafe { listeners::install(&config(), pool) } {
            Ok(()) => ffi::OK as c_int,
            Err(e) => {
                startup_error(s, &format!("SCTP01002: {e}"));
                ffi::DONE
            }
        }
    })
}

/// mod_sctp's part of httpd's version banner.
const VERSION_COMPONENT: &CStr = match CStr::from_bytes_with_nul(
    concat!("mod_sctp/", env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(c) => c,
    Err(_) => c"mod_sctp",
};

unsafe extern "C" fn post_config(
    pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    httpd_module::boundary::server("mod_sctp: post_config", || {
        // Logging to this generation's error log starts here: core's open_logs
        // (which runs after ours) has opened it.
        // SAFETY: the live main server of the generation of `pconf`.
        unsafe { log::set_server(s, pconf) };
        // "mod_sctp/0.1.0" in httpd's banner: the startup line ("...
        // configured -- resuming normal operations"), `Server:` with
        // ServerTokens Full, mod_status and `apachectl fullstatus`.
        // SAFETY: the configuration pool; httpd copies the string into it.
        unsafe { ffi::ap_add_version_component(pconf, VERSION_COMPONENT.as_ptr()) };
        status_handler::generation_started();
        listeners::log_report();
        // SAFETY: single-threaded parent; the process pool outlives generations.
        if let Err(e) = unsafe { status_handler::init((*(*s).process).pool) } {
            // The server still serves; only the status page lacks associations.
            tracing::error!("SCTP01006: {e}");
        }
        let n = listeners::installed();
        // SAFETY: exported int, written by the MPM's open_logs before this.
        let buckets = unsafe { ffi::ap_num_listen_buckets };
        if n > 0 && buckets > 1 {
            startup_error(
                s,
                &format!("SCTP01003: {buckets} listener buckets (ListenCoresBucketsRatio) cannot be used with SCTP listeners"),
            );
            return ffi::DONE;
        }
        let cfg = config();
        tracing::debug!(
            "{n} SCTP listener(s); streams in/out {}/{}, nodelay {}, max message {} bytes, input queues {} bytes per stream, {} per association, send/receive buffers {}/{} bytes (0: kernel default), streams served at once per association {}, stream workers per child {}",
            cfg.in_streams,
            cfg.out_streams,
            cfg.nodelay,
            cfg.max_message,
            cfg.stream_queue,
            cfg.assoc_queue,
            cfg.send_buffer,
            cfg.receive_buffer,
            cfg.max_concurrent,
            cfg.stream_workers
                .map_or_else(|| "auto (ThreadsPerChild)".to_string(), |n| n.to_string())
        );
        let f = cfg.effective_failover();
        let ms = |v: Option<u32>| v.map_or("?".to_string(), |v| v.to_string());
        let n16 = |v: Option<u16>| v.map_or("?".to_string(), |v| v.to_string());
        tracing::debug!(
            "failover: RTO initial/min/max {}/{}/{} ms, heartbeat interval {} ms, path/association max retransmissions {}/{} ({}); a path that stops answering is declared unreachable after about {} ms at the minimum RTO",
            ms(f.rto_initial),
            ms(f.rto_min),
            ms(f.rto_max),
            ms(f.hb_interval),
            n16(f.path_max_retrans),
            n16(f.assoc_max_retrans),
            if cfg.failover.any() { "directives, else net.sctp.*" } else { "net.sctp.* defaults" },
            f.path_failure_ms().map_or("?".to_string(), |v| v.to_string())
        );
        ffi::OK as c_int
    })
}

/// The child's stream workers stop with the child (see stream_workers.rs).
unsafe extern "C" fn stop_stream_workers(_: *mut c_void) -> ffi::apr_status_t {
    httpd_module::boundary::cleanup("mod_sctp: the stream workers' stop", || {
        if let Some(w) = stream_workers::existing() {
            let left = w.stop();
            if left > 0 {
                tracing::warn!(
                    "SCTP02006: {left} stream connection(s) still running as the child exits"
                );
            }
        }
        0
    })
}

unsafe extern "C" fn child_init(pchild: *mut ffi::apr_pool_t, _s: *mut ffi::server_rec) {
    httpd_module::boundary::void("mod_sctp: child_init", || {
        // SAFETY: the child's pool, live until the child exits.
        unsafe {
            ffi::apr_pool_cleanup_register(
                pchild,
                ptr::null(),
                Some(stop_stream_workers),
                Some(ffi::apr_pool_cleanup_null),
            )
        };
    })
}

unsafe extern "C" fn register_hooks(_p: *mut ffi::apr_pool_t) {
    httpd_module::boundary::void("mod_sctp: register_hooks", || {
        // Before the MPMs' hooks (APR_HOOK_REALLY_FIRST): see listeners.rs.
        let before_mpm = ffi::APR_HOOK_REALLY_FIRST - 1;
        // SAFETY: httpd's hook registration API, called from register_hooks.
        unsafe {
            ffi::ap_hook_pre_config(Some(pre_config), ptr::null(), ptr::null(), before_mpm);
            ffi::ap_hook_check_config(
                Some(check_config),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_open_logs(Some(open_logs), ptr::null(), ptr::null(), before_mpm);
            ffi::ap_hook_post_config(
                Some(post_config),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_pre_connection(
                Some(connection::pre_connection),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            // Before every other module's (mod_http2's is APR_HOOK_FIRST): an
            // SCTP association's connection is served by its streams' own
            // connections under a threaded MPM (association_connection.rs).
            ffi::ap_hook_process_connection(
                Some(association_connection::process_connection),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_REALLY_FIRST as c_int,
            );
            // mod_proxy's tunnel (WebSocket) polls a stream connection's input
            // through this; core answers only for connections without a master.
            ffi::ap_hook_get_pollfd_from_conn(
                Some(stream_connection::get_pollfd_from_conn),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_child_init(
                Some(child_init),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            // mod_logio's byte counter, for %O (output_filter.rs).
            ffi::ap_hook_optional_fn_retrieve(
                Some(output_filter::retrieve_optional_fns),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_post_read_request(
                Some(connection::post_read_request),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_fixups(
                Some(response_priority::fixups),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_handler(
                Some(status_handler::handler),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            // The association's filters (serial path and c1), and a stream
            // connection's (stream_connection.rs); all at the network level.
            let net = ffi::ap_filter_type_AP_FTYPE_NETWORK;
            let input = |name: &std::ffi::CStr, func: ffi::ap_in_filter_func| {
                ffi::ap_register_input_filter(name.as_ptr(), func, None, net)
            };
            let output = |name: &std::ffi::CStr, func: ffi::ap_out_filter_func| {
                ffi::ap_register_output_filter(name.as_ptr(), func, None, net)
            };
            input_filter::HANDLE = input(c"SCTP_IN", Some(input_filter::sctp_in));
            output_filter::HANDLE = output(c"SCTP_OUT", Some(output_filter::sctp_out));
            stream_connection::IN_HANDLE =
                input(c"SCTP_STREAM_IN", Some(stream_connection::stream_in));
            stream_connection::OUT_HANDLE =
                output(c"SCTP_STREAM_OUT", Some(stream_connection::stream_out));
        }
    })
}

/// The module record httpd finds with `LoadModule sctp_module`.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut sctp_module: ffi::module = ffi::module {
    version: ffi::MODULE_MAGIC_NUMBER_MAJOR as c_int,
    minor_version: ffi::MODULE_MAGIC_NUMBER_MINOR as c_int,
    module_index: -1,
    name: c"mod_sctp.c".as_ptr(),
    dynamic_load_handle: ptr::null_mut(),
    next: ptr::null_mut(),
    magic: ffi::MODULE_MAGIC_COOKIE as std::os::raw::c_ulong,
    rewrite_args: None,
    create_dir_config: Some(response_priority::create_dir_config),
    merge_dir_config: Some(response_priority::merge_dir_config),
    create_server_config: None,
    merge_server_config: None,
    cmds: &COMMANDS as *const Commands as *const ffi::command_rec,
    register_hooks: Some(register_hooks),
    flags: 0,
};
