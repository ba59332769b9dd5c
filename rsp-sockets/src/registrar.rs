//! The association to a registrar: one-to-one SCTP to its ASAP port, one
//! ASAP message per SCTP message (PPID 11, stream 0). Whoever holds a
//! [`RegistrarLink`] is its only reader.

use std::io::IoSlice;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use apr_sctp::sctp::{self, Domain, InitMsg, SctpSocket, SndInfo};
use rserpool::{Message, PPID_ASAP};

use crate::config::Config;
use crate::errno::Errno;

/// The largest ASAP message taken from a registrar (a handle resolution
/// answer for a big pool is a few KB; rsplib caps its own at 64 KiB).
const MAX_MESSAGE: usize = 256 * 1024;

/// An established association to one registrar.
#[derive(Debug)]
pub struct RegistrarLink {
    sock: SctpSocket,
    peer: SocketAddr,
    /// Bytes of a message read in part.
    partial: Vec<u8>,
}

impl RegistrarLink {
    /// Connects to the first registrar of `config` that answers, in order.
    pub fn connect(config: &Config) -> Result<RegistrarLink, Errno> {
        let mut last = Errno(libc::ECONNREFUSED);
        for &peer in &config.registrars {
            match Self::connect_one(peer, config.init_timeout) {
                Ok(link) => {
                    crate::debug!("registrar {peer}: connected");
                    return Ok(link);
                }
                Err(e) => {
                    crate::debug!("registrar {peer}: {e}");
                    last = e;
                }
            }
        }
        Err(last)
    }

    fn connect_one(peer: SocketAddr, init_timeout: Duration) -> Result<RegistrarLink, Errno> {
        let sock = SctpSocket::new(Domain::of(&peer))?;
        // A registrar that is down answers INIT with ABORT at once; one that
        // is unreachable must not hold the caller for the kernel's eight
        // INIT attempts with backoff up to a minute.
        sctp::set_initmsg(
            sock.as_fd(),
            &InitMsg {
                max_attempts: 2,
                max_init_timeo: init_timeout.as_millis().min(u16::MAX as u128) as u16,
                ..InitMsg::default()
            },
        )?;
        sctp::set_recvrcvinfo(sock.as_fd(), true)?;
        sock.connect(&peer)?;
        Ok(RegistrarLink {
            sock,
            peer,
            partial: Vec::new(),
        })
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Sends one ASAP message.
    pub fn send(&self, message: &Message) -> Result<(), Errno> {
        let bytes = message.to_bytes().map_err(|_| Errno(libc::EINVAL))?;
        let info = SndInfo {
            sid: 0,
            ppid: PPID_ASAP,
            ..SndInfo::default()
        };
        sctp::send_msg(self.sock.as_fd(), &[IoSlice::new(&bytes)], Some(&info), 0)?;
        Ok(())
    }

    /// The next ASAP message, waiting up to `timeout`: `Ok(None)` when none
    /// came. Messages that do not decode, or carry another PPID, are
    /// skipped (logged); the association's end is an error (ECONNRESET).
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Message>, Errno> {
        let until = Instant::now() + timeout;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if !wait_readable(self.sock.as_raw_fd(), left)? {
                return Ok(None);
            }
            let r = sctp::recv_msg(self.sock.as_fd(), &mut buf, libc::MSG_DONTWAIT);
            let r = match r {
                Err(e) if e.is_would_block() => continue,
                Err(e) => return Err(e.into()),
                Ok(r) => r,
            };
            if r.len == 0 && !r.notification {
                return Err(Errno(libc::ECONNRESET));
            }
            if self.partial.len() + r.len > MAX_MESSAGE {
                return Err(Errno(libc::EMSGSIZE));
            }
            self.partial.extend_from_slice(&buf[..r.len]);
            if !r.eor {
                continue;
            }
            let bytes = std::mem::take(&mut self.partial);
            if r.notification {
                continue;
            }
            let ppid = r.info.map(|i| i.ppid).unwrap_or(PPID_ASAP);
            if ppid != PPID_ASAP {
                crate::debug!("registrar {}: message with PPID {ppid} ignored", self.peer);
                continue;
            }
            match Message::decode(&bytes) {
                Ok(m) => return Ok(Some(m)),
                Err(e) => crate::debug!("registrar {}: undecodable message: {e}", self.peer),
            }
        }
    }

    /// Sends `request` and waits up to `timeout` for the answer `want`
    /// picks out (other messages go to `other`).
    pub fn ask<T>(
        &mut self,
        request: &Message,
        timeout: Duration,
        mut want: impl FnMut(&Message) -> Option<T>,
        mut other: impl FnMut(&Message),
    ) -> Result<T, Errno> {
        self.send(request)?;
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Errno(libc::ETIMEDOUT));
            }
            match self.recv(left)? {
                None => return Err(Errno(libc::ETIMEDOUT)),
                Some(m) => match want(&m) {
                    Some(t) => return Ok(t),
                    None => other(&m),
                },
            }
        }
    }
}

/// `poll(2)` for input on `fd` for up to `timeout`: whether it is readable
/// (or has an error or hang-up to report).
pub fn wait_readable(fd: libc::c_int, timeout: Duration) -> Result<bool, Errno> {
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    if n < 0 {
        let e = Errno::last();
        return if e.0 == libc::EINTR {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(n > 0)
}
