//! Backend mode: SCTP associations (and plain multiplexed FastCGI over TCP)
//! in, one application connection per request out. The protocol is
//! `backend_session`; this is sockets and threads.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;

use apr_sctp::sctp::SctpSocket;

use crate::backend_session::{Action, Session, Transport};
use crate::conn::{Conn, Listener};
use crate::endpoint::Endpoint;
use crate::log;
use crate::pool_element;
use crate::sctp_link::{self, Incoming, Receiver};
use fastcgi::management::Values;

/// Writes queued toward one application connection (each at most about
/// 64 KiB): when full, the association stops reading.
const APP_QUEUE: usize = 16;

#[derive(Clone, Debug)]
pub struct Options {
    pub listen: Vec<Endpoint>,
    pub app: Endpoint,
    pub streams: u16,
    pub max_reqs: Option<usize>,
    pub max_conns: usize,
    pub pool: Option<crate::cli::Pool>,
}

pub fn run(opts: Options) -> Result<(), String> {
    let opts = Arc::new(opts);
    let conns = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    if opts.pool.is_some() {
        // Before any thread starts: they inherit the mask.
        pool_element::block_signals()?;
    }
    let mut registered = false;
    for e in &opts.listen {
        match e {
            Endpoint::Sctp(_) => {
                let addr = e.resolve().map_err(|err| format!("{e}: {err}"))?;
                let l = sctp_link::listen(&addr, opts.streams)
                    .map_err(|err| format!("listen {e}: {err}"))?;
                let bound = l.local_addr().map_err(|err| format!("{e}: {err}"))?;
                announce(&Endpoint::Sctp(bound.to_string()));
                if let (Some(pool), false) = (&opts.pool, registered) {
                    let agent = pool_element::register(pool, &l)?;
                    pool_element::deregister_on_signal(pool.handle.clone(), agent);
                    registered = true;
                }
                let (opts, conns) = (opts.clone(), conns.clone());
                threads.push(thread::spawn(move || accept_sctp(l, opts, conns)));
            }
            Endpoint::Tcp(_) => {
                let (l, bound) = Listener::bind(e).map_err(|err| format!("listen {e}: {err}"))?;
                announce(&bound);
                let (opts, conns) = (opts.clone(), conns.clone());
                threads.push(thread::spawn(move || accept_tcp(l, opts, conns)));
            }
            Endpoint::Unix(_) => return Err(format!("{e}: backend listens on sctp: or tcp:")),
        }
    }
    log_info!("backend: application {}", opts.app);
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// Tells whoever started us where we listen (port 0 resolved).
pub fn announce(e: &Endpoint) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening {e}");
    let _ = out.flush();
}

/// Counts a connection while alive.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn take_slot(conns: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
    if conns.fetch_add(1, Ordering::SeqCst) >= max {
        conns.fetch_sub(1, Ordering::SeqCst);
        return None;
    }
    Some(Slot(conns.clone()))
}

fn accept_sctp(l: SctpSocket, opts: Arc<Options>, conns: Arc<AtomicUsize>) {
    loop {
        let (sock, peer) = match sctp_link::accept(&l) {
            Ok(x) => x,
            Err(e) => {
                log_error!("accept (sctp): {e}");
                thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
        };
        let Some(slot) = take_slot(&conns, opts.max_conns) else {
            log_warn!(
                "association from {peer} refused: FCGI_MAX_CONNS {} reached",
                opts.max_conns
            );
            continue;
        };
        let opts = opts.clone();
        thread::spawn(move || {
            let _slot = slot;
            serve_association(sock, format!("sctp:{peer}"), &opts)
        });
    }
}

fn accept_tcp(l: Listener, opts: Arc<Options>, conns: Arc<AtomicUsize>) {
    loop {
        let c = match l.accept() {
            Ok(Conn::Tcp(s)) => s,
            Ok(Conn::Unix(_)) => continue,
            Err(e) => {
                log_error!("accept (tcp): {e}");
                thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
        };
        let peer = c
            .peer_addr()
            .map(|a| format!("tcp:{a}"))
            .unwrap_or_else(|_| "tcp:?".into());
        let Some(slot) = take_slot(&conns, opts.max_conns) else {
            log_warn!(
                "connection from {peer} refused: FCGI_MAX_CONNS {} reached",
                opts.max_conns
            );
            continue;
        };
        let opts = opts.clone();
        thread::spawn(move || {
            let _slot = slot;
            serve_tcp(c, peer, &opts)
        });
    }
}

/// The web server's side of a link.
enum Wire {
    Sctp(Arc<SctpSocket>),
    Tcp(TcpStream),
}

impl Wire {
    /// Callers hold the send lock of `stream` ([`Link::send_lock`]).
    fn send(&self, stream: u16, bytes: &[u8]) -> io::Result<()> {
        match self {
            Wire::Sctp(s) => sctp_link::send(s, stream, bytes),
            Wire::Tcp(s) => (&*s).write_all(bytes),
        }
    }

    fn close(&self) {
        let _ = match self {
            Wire::Sctp(s) => socket2::SockRef::from(&**s).shutdown(Shutdown::Both),
            Wire::Tcp(s) => s.shutdown(Shutdown::Both),
        };
    }
}

/// One request's application connection, as the link sees it.
struct AppHandle {
    token: u64,
    tx: SyncSender<Vec<u8>>,
    /// A clone of the connection once it is up (for shutdown), and whether
    /// it was closed, under one lock.
    conn: Arc<Mutex<(Option<Conn>, bool)>>,
}

impl AppHandle {
    fn close(&self) {
        let mut g = self.conn.lock().unwrap();
        g.1 = true;
        if let Some(c) = &g.0 {
            c.shutdown(Shutdown::Both);
        }
    }
}

/// One link to a web server: the session, the wire and the application
/// connections.
///
/// Sends take a lock per stream (one for all of TCP, whose records must not
/// interleave), never one for the whole association: a send that blocks
/// because a large response filled the socket buffer holds up only its own
/// stream, while the reader goes on taking requests and other streams'
/// answers go out. (With one lock, the 64 small answers of the FastCGI
/// benchmark waited behind a 2 MB one, and so did reading their requests.)
struct Link {
    peer: String,
    app: Endpoint,
    session: Mutex<Session>,
    wire: Wire,
    send_locks: Vec<Mutex<()>>,
    apps: Mutex<HashMap<u16, AppHandle>>,
}

impl Link {
    fn new(peer: String, app: Endpoint, session: Session, wire: Wire, streams: u16) -> Link {
        let locks = match wire {
            Wire::Sctp(_) => streams.max(1) as usize,
            Wire::Tcp(_) => 1,
        };
        Link {
            peer,
            app,
            session: Mutex::new(session),
            wire,
            send_locks: (0..locks).map(|_| Mutex::new(())).collect(),
            apps: Mutex::new(HashMap::new()),
        }
    }

    fn send_lock(&self, stream: u16) -> usize {
        (stream as usize).min(self.send_locks.len() - 1)
    }

    /// Runs `f` on the session and carries out its actions. The send locks
    /// of the streams it sends on are taken (in ascending order, so two
    /// steps never wait for each other in a circle) before the session lock
    /// is released: each stream's records leave in the order the session
    /// produced them.
    fn step(self: &Arc<Self>, f: impl FnOnce(&mut Session) -> Vec<Action>) {
        let mut session = self.session.lock().unwrap();
        let actions = f(&mut session);
        let mut locks: Vec<usize> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Send { stream, .. } => Some(self.send_lock(*stream)),
                _ => None,
            })
            .collect();
        locks.sort_unstable();
        locks.dedup();
        let held: Vec<_> = locks
            .iter()
            .map(|&i| self.send_locks[i].lock().unwrap())
            .collect();
        drop(session);
        let mut rest = Vec::new();
        for a in actions {
            match a {
                Action::Send { stream, bytes } => {
                    if let Err(e) = self.wire.send(stream, &bytes) {
                        log_debug!("{}: send on stream {stream}: {e}", self.peer);
                    }
                }
                Action::Log(l, m) => log::log(l, &format!("{}: {m}", self.peer)),
                a => rest.push(a),
            }
        }
        drop(held);
        for a in rest {
            match a {
                Action::Open { id, token, bytes } => self.open_app(id, token, bytes),
                Action::ToApp { id, token, bytes } => {
                    let tx = {
                        let apps = self.apps.lock().unwrap();
                        apps.get(&id)
                            .filter(|h| h.token == token)
                            .map(|h| h.tx.clone())
                    };
                    // Blocks while the queue is full: the link stops reading.
                    if let Some(tx) = tx {
                        let _ = tx.send(bytes);
                    }
                }
                Action::CloseApp { id, token } => {
                    let h = {
                        let mut apps = self.apps.lock().unwrap();
                        match apps.get(&id) {
                            Some(h) if h.token == token => apps.remove(&id),
                            _ => None,
                        }
                    };
                    if let Some(h) = h {
                        h.close();
                    }
                }
                Action::Close => self.wire.close(),
                Action::Send { .. } | Action::Log(..) => unreachable!(),
            }
        }
    }

    fn open_app(self: &Arc<Self>, id: u16, token: u64, first: Vec<u8>) {
        let (tx, rx) = sync_channel::<Vec<u8>>(APP_QUEUE);
        let conn = Arc::new(Mutex::new((None, false)));
        let old = self.apps.lock().unwrap().insert(
            id,
            AppHandle {
                token,
                tx,
                conn: conn.clone(),
            },
        );
        if let Some(old) = old {
            old.close();
        }
        let link = self.clone();
        thread::spawn(move || {
            let mut c = match Conn::connect(&link.app) {
                Ok(c) => c,
                Err(e) => return link.step(|s| s.app_failed(id, token, &e.to_string())),
            };
            let reader = {
                let mut g = conn.lock().unwrap();
                if g.1 {
                    return;
                }
                let clone = c.try_clone();
                g.0 = clone.as_ref().ok().and_then(|c| c.try_clone().ok());
                clone
            };
            let reader = match reader {
                Ok(r) => r,
                Err(e) => return link.step(|s| s.app_failed(id, token, &e.to_string())),
            };
            let l2 = link.clone();
            let closed = conn.clone();
            thread::spawn(move || read_app(l2, id, token, reader, closed));
            let mut ok = c.write_all(&first).is_ok();
            for bytes in rx {
                if ok {
                    if let Err(e) = c.write_all(&bytes) {
                        // The application stopped reading (it may have
                        // answered already); drop the rest of the input.
                        log_debug!("{}: request {id}: write to application: {e}", link.peer);
                        ok = false;
                    }
                }
            }
        });
    }

    fn close_all_apps(&self) {
        for (_, h) in self.apps.lock().unwrap().drain() {
            h.close();
        }
    }
}

fn read_app(
    link: Arc<Link>,
    id: u16,
    token: u64,
    mut c: Conn,
    closed: Arc<Mutex<(Option<Conn>, bool)>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => link.step(|s| s.app_output(id, token, &buf[..n])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if !closed.lock().unwrap().1 {
                    log_debug!("{}: request {id}: read from application: {e}", link.peer);
                }
                break;
            }
        }
    }
    link.step(|s| s.app_closed(id, token));
}

fn serve_association(sock: SctpSocket, peer: String, opts: &Options) {
    let streams = match sctp_link::usable_streams(&sock) {
        Ok(n) => n,
        Err(e) => return log_error!("{peer}: SCTP_STATUS: {e}"),
    };
    if streams < 3 {
        return log_error!("{peer}: association has {streams} streams; at least 3 needed");
    }
    let by_streams = streams as usize - 2;
    let max_reqs = opts.max_reqs.unwrap_or(by_streams).clamp(1, by_streams);
    log_info!("{peer}: association up, {streams} streams, up to {max_reqs} requests at once");
    let sock = Arc::new(sock);
    let values = Values {
        max_conns: opts.max_conns,
        max_reqs,
        mpxs_conns: true,
    };
    let link = Arc::new(Link::new(
        peer.clone(),
        opts.app.clone(),
        Session::new(Transport::Sctp, values, &opts.app.to_string()),
        Wire::Sctp(sock.clone()),
        streams,
    ));
    let mut rx = Receiver::new();
    loop {
        let go = match rx.next(&sock) {
            Ok(Incoming::Data { stream, bytes }) => feed(&link, stream, bytes),
            Ok(Incoming::Notification) => true,
            Ok(Incoming::Eof) => false,
            Err(e) => {
                log_info!("{peer}: {e}");
                false
            }
        };
        if !go {
            break;
        }
    }
    finish(&link);
    log_info!("{peer}: association down");
}

fn serve_tcp(c: TcpStream, peer: String, opts: &Options) {
    let max_reqs = opts
        .max_reqs
        .unwrap_or(opts.streams.saturating_sub(2).max(1) as usize);
    log_info!("{peer}: connection up, up to {max_reqs} requests at once");
    let mut reader = match c.try_clone() {
        Ok(r) => r,
        Err(e) => return log_error!("{peer}: {e}"),
    };
    let values = Values {
        max_conns: opts.max_conns,
        max_reqs: max_reqs.max(1),
        mpxs_conns: true,
    };
    let link = Arc::new(Link::new(
        peer.clone(),
        opts.app.clone(),
        Session::new(Transport::Tcp, values, &opts.app.to_string()),
        Wire::Tcp(c),
        1,
    ));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let go = match reader.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => feed(&link, 0, &buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
            Err(e) => {
                log_info!("{peer}: {e}");
                false
            }
        };
        if !go {
            break;
        }
    }
    finish(&link);
    log_info!("{peer}: connection down");
}

/// Hands what the web server sent to the session; false once the session
/// has closed the link.
fn feed(link: &Arc<Link>, stream: u16, bytes: &[u8]) -> bool {
    link.step(|s| s.receive(stream, bytes));
    !link.session.lock().unwrap().is_closed()
}

fn finish(link: &Arc<Link>) {
    link.step(|s| s.shutdown());
    link.close_all_apps();
    link.wire.close();
}
