//! Pool targets (`fcgi+sctp+pool://HANDLE/`): this process's RSerPool pool
//! users, one per pool handle, each with its resolution cache and its
//! association to a registrar (rsp-sockets' [`PoolResolver`]). The handler
//! asks for the next element by the pool's policy and reports one that did
//! not take a request; the requests themselves go over the same
//! associations as a `fcgi+sctp://HOST:PORT` target's (one [`Backend`] per
//! element address).
//!
//! Ownership: the registrars come from the configuration (set while it is
//! read, before the children start; read when a pool is first used); each
//! pool's resolver is behind its own mutex, held while a request's thread
//! picks or reports (a resolution, when the cache is stale, waits for the
//! registrar under it: at most its answer timeout, 3 s).
//!
//! [`Backend`]: crate::association::Backend

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use rserpool::{PoolHandle, Transport};
use rsp_sockets::config::{self, Config};
use rsp_sockets::resolver::{Attempt, PoolResolver};

/// `ProxyFcgiSctpRegistrar`'s list; `None`: `RSP_REGISTRAR`, else
/// 127.0.0.1:3863.
static REGISTRARS: Mutex<Option<Vec<SocketAddr>>> = Mutex::new(None);

type Pools = HashMap<String, Arc<Mutex<PoolResolver>>>;
static POOLS: Mutex<Option<Pools>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets (or, with `None`, forgets: a new configuration is read) the
/// registrars of the pool targets.
pub fn set_registrars(list: Option<Vec<SocketAddr>>) {
    *lock(&REGISTRARS) = list;
}

/// Adds registrars from a directive's arguments (each `ADDR[:PORT]`, or
/// a comma-separated list of them).
pub fn add_registrars(args: &[String]) -> Result<(), String> {
    let mut more = Vec::new();
    for a in args {
        more.extend(config::parse_registrars(a)?);
    }
    lock(&REGISTRARS).get_or_insert_with(Vec::new).extend(more);
    Ok(())
}

fn config() -> Result<Config, String> {
    let mut c = config::current()?;
    if let Some(r) = lock(&REGISTRARS).clone() {
        c.registrars = r;
    }
    Ok(c)
}

/// The registrars the pool targets use, for log lines.
pub fn registrars() -> String {
    match config() {
        Ok(c) => c
            .registrars
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Err(e) => e,
    }
}

fn resolver(handle: &str) -> Result<Arc<Mutex<PoolResolver>>, String> {
    let mut pools = lock(&POOLS);
    let pools = pools.get_or_insert_with(HashMap::new);
    if let Some(r) = pools.get(handle) {
        return Ok(r.clone());
    }
    let ph = PoolHandle::new(handle.as_bytes()).ok_or("empty pool handle")?;
    let r = Arc::new(Mutex::new(PoolResolver::new(ph, config()?)));
    pools.insert(handle.to_string(), r.clone());
    Ok(r)
}

/// A pool element to send a request to.
#[derive(Debug, Clone)]
pub struct Element {
    pub identifier: u32,
    /// Its first address and port: the key of its associations and its
    /// name in log lines.
    pub label: String,
    pub addrs: Vec<SocketAddr>,
}

/// The next element of pool `handle` for this request (`attempt`).
pub fn next(handle: &str, attempt: &mut Attempt) -> Result<Element, String> {
    let r = resolver(handle)?;
    let mut r = lock(&r);
    loop {
        let pe = r.next(attempt).map_err(|e| e.to_string())?;
        let Transport::Sctp {
            port, addresses, ..
        } = &pe.user_transport
        else {
            // A TCP element of a mixed pool: not for us, and no reason to
            // have the registrar drop it for its other users. It leaves
            // this process's picks for a while only.
            r.set_aside(pe.identifier);
            continue;
        };
        let addrs: Vec<SocketAddr> = addresses
            .iter()
            .map(|&ip| SocketAddr::new(ip, *port))
            .collect();
        let Some(first) = addrs.first() else {
            r.set_aside(pe.identifier);
            continue;
        };
        return Ok(Element {
            identifier: pe.identifier,
            label: first.to_string(),
            addrs,
        });
    }
}

/// Element `identifier` of pool `handle` did not take a request: the
/// registrar hears of it, and this process's picks leave it out for a
/// while.
pub fn report(handle: &str, identifier: u32) {
    if let Ok(r) = resolver(handle) {
        lock(&r).report(identifier);
    }
}
