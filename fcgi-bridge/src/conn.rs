//! Byte-stream connections and listeners: TCP or unix-domain sockets (the
//! application side of the backend, the web-server side of the frontend,
//! plain FastCGI over TCP).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

use crate::endpoint::Endpoint;

/// How long connecting to an application may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Conn {
    /// Connects to a `tcp:` or `unix:` endpoint.
    pub fn connect(e: &Endpoint) -> io::Result<Conn> {
        match e {
            Endpoint::Tcp(_) => {
                let s = TcpStream::connect_timeout(&e.resolve()?, CONNECT_TIMEOUT)?;
                s.set_nodelay(true)?;
                Ok(Conn::Tcp(s))
            }
            Endpoint::Unix(p) => Ok(Conn::Unix(UnixStream::connect(p)?)),
            Endpoint::Sctp(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{e}: not a byte-stream endpoint"),
            )),
        }
    }

    pub fn try_clone(&self) -> io::Result<Conn> {
        Ok(match self {
            Conn::Tcp(s) => Conn::Tcp(s.try_clone()?),
            Conn::Unix(s) => Conn::Unix(s.try_clone()?),
        })
    }

    pub fn shutdown(&self, how: Shutdown) {
        let _ = match self {
            Conn::Tcp(s) => s.shutdown(how),
            Conn::Unix(s) => s.shutdown(how),
        };
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    /// Binds a `tcp:` or `unix:` endpoint (a stale unix socket file is
    /// replaced). Returns the listener and the endpoint as bound (port 0
    /// resolved).
    pub fn bind(e: &Endpoint) -> io::Result<(Listener, Endpoint)> {
        match e {
            Endpoint::Tcp(_) => {
                let l = TcpListener::bind(e.resolve()?)?;
                let a = l.local_addr()?;
                Ok((Listener::Tcp(l), Endpoint::Tcp(a.to_string())))
            }
            Endpoint::Unix(p) => {
                if p.exists() && UnixStream::connect(p).is_err() {
                    let _ = std::fs::remove_file(p);
                }
                Ok((Listener::Unix(UnixListener::bind(p)?), e.clone()))
            }
            Endpoint::Sctp(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{e}: not a byte-stream endpoint"),
            )),
        }
    }

    pub fn accept(&self) -> io::Result<Conn> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept()?;
                s.set_nodelay(true)?;
                Ok(Conn::Tcp(s))
            }
            Listener::Unix(l) => Ok(Conn::Unix(l.accept()?.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_and_unix_round_trip() {
        let dir = std::env::temp_dir().join(format!("fcgi-bridge-conn-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        for e in [
            Endpoint::Tcp("127.0.0.1:0".into()),
            Endpoint::Unix(dir.join("s.sock")),
        ] {
            let (l, bound) = Listener::bind(&e).unwrap();
            let mut c = Conn::connect(&bound).unwrap();
            let mut s = l.accept().unwrap();
            c.write_all(b"ping").unwrap();
            let mut b = [0u8; 4];
            s.read_exact(&mut b).unwrap();
            assert_eq!(&b, b"ping");
            c.shutdown(Shutdown::Write);
            assert_eq!(s.read(&mut b).unwrap(), 0);
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(Conn::connect(&Endpoint::Sctp("127.0.0.1:1".into())).is_err());
    }
}
