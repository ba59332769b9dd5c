//! Backend mode's `--pool`: the bridge registers its SCTP listener as a
//! pool element (RSerPool, docs/rserpool.md) with a registrar, through
//! rsp-sockets' registration thread, which re-registers and answers the
//! registrar's keep-alives. SIGTERM and SIGINT deregister before exiting,
//! so that pool users stop picking this backend at once; a bridge that
//! dies otherwise is dropped by the registrar when its registrar
//! association ends or its keep-alives go unanswered.

use std::os::fd::AsFd;

use apr_sctp::sctp::SctpSocket;
use rserpool::{Policy, PoolHandle};
use rsp_sockets::config;
use rsp_sockets::element::{self, ElementAgent};

use crate::cli::Pool;

/// Blocks SIGTERM and SIGINT in this thread and the threads it starts from
/// now on, so that [`deregister_on_signal`] alone takes them.
pub fn block_signals() -> Result<(), String> {
    // SAFETY: a sigset_t initialised by sigemptyset before use; the mask
    // of the calling thread only.
    let rc = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut())
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("pthread_sigmask: error {rc}"))
    }
}

/// Registers `listener` as a pool element of `pool` (round robin policy).
pub fn register(pool: &Pool, listener: &SctpSocket) -> Result<ElementAgent, String> {
    let mut cfg = config::current()?;
    if let Some(r) = &pool.registrars {
        cfg.registrars = r.clone();
    }
    let handle = PoolHandle::new(pool.handle.as_bytes()).ok_or("--pool: empty pool handle")?;
    let transport = element::transport_of(listener.as_fd())
        .map_err(|e| format!("pool {}: the listener's addresses: {e}", pool.handle))?;
    let registrars: Vec<String> = cfg.registrars.iter().map(|a| a.to_string()).collect();
    let agent = ElementAgent::register(handle, transport.clone(), Policy::RoundRobin, cfg)
        .map_err(|e| {
            format!(
                "pool {}: registration with the registrar ({}) failed: {e}",
                pool.handle,
                registrars.join(", ")
            )
        })?;
    let at = match &transport {
        rserpool::Transport::Sctp {
            port, addresses, ..
        } => {
            let a: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
            format!("sctp {} port {port}", a.join(","))
        }
        t => format!("{t:?}"),
    };
    log_info!(
        "pool {}: registered as pool element {:08x} ({at}) with {}",
        pool.handle,
        agent.identifier(),
        registrars.join(", ")
    );
    Ok(agent)
}

/// Waits for SIGTERM or SIGINT (blocked by [`block_signals`]), deregisters
/// and exits.
pub fn deregister_on_signal(pool: String, agent: ElementAgent) {
    std::thread::spawn(move || {
        let mut sig: libc::c_int = 0;
        // SAFETY: a sigset_t initialised by sigemptyset; sigwait writes the
        // signal taken into `sig`.
        let rc = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigwait(&set, &mut sig)
        };
        let id = agent.identifier();
        let confirmed = agent.deregister();
        log_info!(
            "pool {pool}: signal {sig} (sigwait {rc}): pool element {id:08x} {}",
            if confirmed {
                "deregistered"
            } else {
                "not confirmed deregistered (the registrar drops it later)"
            }
        );
        std::process::exit(0);
    });
}
