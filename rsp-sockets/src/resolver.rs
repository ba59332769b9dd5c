//! A pool user's registrar side: the sans-I/O [`PoolUser`] (resolution
//! cache, picks by the pool's policy, suspects) and the association to the
//! registrar it asks and reports to. What the element picked is used for
//! is the caller's: the RSerPool socket sets up an association on its data
//! socket ([`crate::socket`]); mod_proxy_fcgi_sctp sends a FastCGI request
//! to it. Whoever holds a [`PoolResolver`] is the only user of its
//! registrar association.

use std::time::Instant;

use rserpool::user::{PoolUser, Resolved};
use rserpool::{PoolElement, PoolHandle, XorShift64};

use crate::config::Config;
use crate::errno::Errno;
use crate::registrar::RegistrarLink;

/// One pool user of one pool.
pub struct PoolResolver {
    config: Config,
    user: PoolUser,
    rng: XorShift64,
    link: Option<RegistrarLink>,
}

/// The picks of one attempt to reach the pool (one request, one failover):
/// it asks the registrar at most once, so that when every element it gave
/// turned out unreachable the attempt ends instead of asking again and
/// again.
#[derive(Debug, Default)]
pub struct Attempt {
    resolved: bool,
}

impl PoolResolver {
    pub fn new(handle: PoolHandle, config: Config) -> PoolResolver {
        PoolResolver {
            user: PoolUser::new(handle, config.stale_cache, config.suspect_for),
            config,
            rng: XorShift64::new(crate::random_u64()),
            link: None,
        }
    }

    pub fn pool_handle(&self) -> &PoolHandle {
        self.user.pool_handle()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The next element to try in `attempt`: resolves first when the cache
    /// is stale (using the cache when the registrar cannot be asked), then
    /// picks by the pool's policy, leaving out the elements reported
    /// unreachable. EHOSTUNREACH when none is left; the registrar's error
    /// (ETIMEDOUT, ECONNREFUSED, ...) when it could not be asked and there
    /// is no cache.
    pub fn next(&mut self, attempt: &mut Attempt) -> Result<PoolElement, Errno> {
        loop {
            if !attempt.resolved && self.user.needs_resolution(Instant::now()) {
                attempt.resolved = true;
                if let Err(e) = self.resolve() {
                    if self.user.cache().is_empty() {
                        return Err(e);
                    }
                    crate::debug!(
                        "pool {}: resolution failed ({e}); using the cache",
                        self.user.pool_handle()
                    );
                }
            }
            if let Some(pe) = self.user.select(&mut self.rng) {
                return Ok(pe);
            }
            if attempt.resolved {
                return Err(Errno(libc::EHOSTUNREACH));
            }
            attempt.resolved = true;
            self.resolve()?;
        }
    }

    /// Asks the registrar for the pool's elements.
    fn resolve(&mut self) -> Result<(), Errno> {
        let request = self.user.resolution_request();
        let answer = self.with_link(|link, user, timeout| {
            link.ask(
                &request,
                timeout,
                |m| user.on_message(m, Instant::now()),
                |m| crate::debug!("registrar: {} ignored", m.name()),
            )
        })?;
        match answer {
            Resolved::Elements(n) => {
                crate::debug!("pool {}: {n} element(s)", self.user.pool_handle());
                Ok(())
            }
            Resolved::Failed(e) => {
                crate::debug!(
                    "pool {}: no element ({:?})",
                    self.user.pool_handle(),
                    e.and_then(|e| e.code())
                );
                Err(Errno(libc::EHOSTUNREACH))
            }
        }
    }

    /// Runs `f` on the registrar association, connecting first if needed;
    /// drops the association when `f` fails on it.
    fn with_link<T>(
        &mut self,
        f: impl FnOnce(&mut RegistrarLink, &mut PoolUser, std::time::Duration) -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        let link = match &mut self.link {
            Some(l) => l,
            None => self.link.insert(RegistrarLink::connect(&self.config)?),
        };
        let r = f(link, &mut self.user, self.config.answer_timeout);
        if r.is_err() {
            self.link = None;
        }
        r
    }

    /// Leaves element `identifier` out of the picks for the suspect time
    /// without telling the registrar (the element is fine, this user
    /// cannot use it: a transport it does not speak).
    pub fn set_aside(&mut self, identifier: u32) {
        let _ = self.user.unreachable(identifier, Instant::now());
    }

    /// Element `identifier` did not answer: it leaves the picks for the
    /// suspect time and the registrar gets an Endpoint Unreachable report
    /// (best effort).
    pub fn report(&mut self, identifier: u32) {
        let m = self.user.unreachable(identifier, Instant::now());
        match self.with_link(|link, _, _| link.send(&m)) {
            Ok(()) => crate::debug!("reported PE {identifier:08x} unreachable to the registrar"),
            Err(e) => crate::debug!("Endpoint Unreachable for PE {identifier:08x} not sent: {e}"),
        }
    }
}
