//! Frontend mode: plain FastCGI from a web server that speaks only TCP
//! (nginx) onto shared SCTP associations to a backend. `front_conn` and
//! `pool` hold the protocol; this is sockets and threads: one per web-server
//! connection and one reader per association.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use apr_sctp::sctp::SctpSocket;
use fastcgi::record::{Decoder, Limits, Record};
use fastcgi::stream_plan::{self, StreamPlan, MANAGEMENT_STREAM};

use crate::conn::{Conn, Listener};
use crate::endpoint::Endpoint;
use crate::front_conn::{Action, FrontConn};
use crate::pool::{Acquire, Pool};
use crate::sctp_link::{self, Incoming, Receiver};
use fastcgi::management::Values;

/// How long the backend may take to answer GET_VALUES.
const VALUES_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Options {
    pub listen: Endpoint,
    pub backend: Endpoint,
    pub streams: u16,
    pub max_assocs: usize,
}

struct Front {
    backend: Endpoint,
    addr: SocketAddr,
    streams: u16,
    pool: Mutex<Pool>,
    changed: Condvar,
    assocs: Mutex<HashMap<u64, Arc<Assoc>>>,
    values: Values,
}

/// One web-server connection: its protocol state and the socket to write
/// its answers to, under one lock.
struct Client {
    state: Mutex<(FrontConn, Conn)>,
}

struct Routes {
    by_stream: HashMap<u16, Arc<Client>>,
    dead: bool,
}

struct Assoc {
    id: u64,
    sock: Arc<SctpSocket>,
    routes: Mutex<Routes>,
}

pub fn run(opts: Options) -> Result<(), String> {
    let addr = opts
        .backend
        .resolve()
        .map_err(|e| format!("{}: {e}", opts.backend))?;
    let (listener, bound) =
        Listener::bind(&opts.listen).map_err(|e| format!("listen {}: {e}", opts.listen))?;
    crate::backend::announce(&bound);
    log_info!("frontend: {bound} -> {}", opts.backend);
    let front = Arc::new(Front {
        backend: opts.backend.clone(),
        addr,
        streams: opts.streams,
        pool: Mutex::new(Pool::new(opts.max_assocs)),
        changed: Condvar::new(),
        assocs: Mutex::new(HashMap::new()),
        values: Values {
            max_conns: 1024,
            max_reqs: 1,
            mpxs_conns: false,
        },
    });
    loop {
        match listener.accept() {
            Ok(c) => {
                let front = front.clone();
                thread::spawn(move || serve_client(&front, c));
            }
            Err(e) => {
                log_error!("accept: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn serve_client(front: &Arc<Front>, conn: Conn) {
    let mut reader = match conn.try_clone() {
        Ok(r) => r,
        Err(e) => return log_error!("web server connection: {e}"),
    };
    let client = Arc::new(Client {
        state: Mutex::new((FrontConn::new(front.values), conn)),
    });
    let mut assoc: Option<Arc<Assoc>> = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => 0,
        };
        let actions = {
            let mut g = client.state.lock().unwrap();
            if n == 0 {
                g.0.client_eof()
            } else {
                g.0.client_bytes(&buf[..n])
            }
        };
        let closed = run_client_actions(front, &client, &mut assoc, actions);
        if n == 0 || closed {
            break;
        }
    }
}

/// Carries out actions of the client thread; true once the web server's
/// connection is closed.
fn run_client_actions(
    front: &Arc<Front>,
    client: &Arc<Client>,
    assoc: &mut Option<Arc<Assoc>>,
    actions: Vec<Action>,
) -> bool {
    let mut closed = false;
    let mut queue: std::collections::VecDeque<Action> = actions.into();
    while let Some(a) = queue.pop_front() {
        match a {
            Action::NeedStream => {
                let more = match front.acquire() {
                    Ok((a, stream)) => {
                        let ok = {
                            let mut r = a.routes.lock().unwrap();
                            if r.dead {
                                false
                            } else {
                                r.by_stream.insert(stream, client.clone());
                                true
                            }
                        };
                        let mut g = client.state.lock().unwrap();
                        let mut acts = g.0.assigned(stream);
                        if !ok {
                            acts = g.0.backend_lost();
                        }
                        *assoc = Some(a);
                        acts
                    }
                    Err(e) => {
                        log_warn!("{}: {e}", front.backend);
                        client
                            .state
                            .lock()
                            .unwrap()
                            .0
                            .no_backend(&format!("backend {}: {e}", front.backend))
                    }
                };
                for a in more.into_iter().rev() {
                    queue.push_front(a);
                }
            }
            Action::ToBackend { stream, bytes } => {
                if let Some(a) = assoc {
                    if let Err(e) = sctp_link::send(&a.sock, stream, &bytes) {
                        // The association's reader sees it die and ends
                        // the request.
                        log_debug!("send on stream {stream}: {e}");
                    }
                }
            }
            other => closed |= client_io(client, other),
        }
    }
    closed
}

/// Reply / Close / Note on a client (Release never comes from the client
/// side). True if the connection was closed.
fn client_io(client: &Client, a: Action) -> bool {
    let mut g = client.state.lock().unwrap();
    match a {
        Action::Reply(b) => {
            if let Err(e) = g.1.write_all(&b) {
                log_debug!("write to web server: {e}");
            }
            false
        }
        Action::Close => {
            g.1.shutdown(Shutdown::Both);
            true
        }
        Action::Note(n) => {
            log_debug!("{n}");
            false
        }
        Action::Warn(n) => {
            log_warn!("{n}");
            false
        }
        _ => false,
    }
}

impl Front {
    /// A free stream on some association, opening one if needed; waits
    /// when all are busy and no more may be opened.
    fn acquire(self: &Arc<Self>) -> Result<(Arc<Assoc>, u16), String> {
        let mut pool = self.pool.lock().unwrap();
        loop {
            match pool.acquire() {
                Acquire::Stream { assoc, stream } => {
                    let a = self.assocs.lock().unwrap().get(&assoc).cloned();
                    match a {
                        Some(a) => return Ok((a, stream)),
                        None => {
                            // Being torn down; its reader removes it.
                            pool.release(assoc, stream);
                            pool = self.changed.wait(pool).unwrap();
                        }
                    }
                }
                Acquire::Wait => pool = self.changed.wait(pool).unwrap(),
                Acquire::Connect => {
                    drop(pool);
                    let r = self.connect();
                    pool = self.pool.lock().unwrap();
                    match r {
                        Ok((sock, plan)) => {
                            let (id, stream) = pool.connected(plan);
                            let a = Arc::new(Assoc {
                                id,
                                sock: Arc::new(sock),
                                routes: Mutex::new(Routes {
                                    by_stream: HashMap::new(),
                                    dead: false,
                                }),
                            });
                            self.assocs.lock().unwrap().insert(id, a.clone());
                            let (f, a2) = (self.clone(), a.clone());
                            thread::spawn(move || read_association(&f, &a2));
                            self.changed.notify_all();
                            if let Some(s) = stream {
                                return Ok((a, s));
                            }
                        }
                        Err(e) => {
                            pool.connect_failed();
                            self.changed.notify_all();
                            return Err(e);
                        }
                    }
                }
            }
        }
    }

    /// Opens an association and asks GET_VALUES.
    fn connect(&self) -> Result<(SctpSocket, StreamPlan), String> {
        let s =
            sctp_link::connect(&self.addr, self.streams).map_err(|e| format!("connect: {e}"))?;
        let learned = sctp_link::ask_values(&s, VALUES_WAIT, |line| self.backend_log(line))
            .map_err(|e| e.to_string())?;
        let streams = sctp_link::usable_streams(&s).map_err(|e| e.to_string())?;
        let mut plan = StreamPlan::new(streams).map_err(|e| e.to_string())?;
        plan.set_max_requests(learned.concurrency(streams));
        log_info!(
            "{}: association up, {streams} streams, {} request(s) at once",
            self.backend,
            plan.capacity()
        );
        Ok((s, plan))
    }

    fn backend_log(&self, data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        for line in text.lines() {
            eprintln!("[backend {}] {line}", self.backend);
        }
    }

    fn release(&self, assoc: u64, stream: u16) {
        self.pool.lock().unwrap().release(assoc, stream);
        self.changed.notify_all();
    }
}

fn read_association(front: &Arc<Front>, a: &Arc<Assoc>) {
    let mut rx = Receiver::new();
    let mut decoders: HashMap<u16, Decoder> = HashMap::new();
    let why = 'read: loop {
        let (stream, bytes) = match rx.next(&a.sock) {
            Ok(Incoming::Data { stream, bytes }) => (stream, bytes),
            Ok(Incoming::Notification) => continue,
            Ok(Incoming::Eof) => break "closed by the backend".to_string(),
            Err(e) => break e.to_string(),
        };
        let d = decoders
            .entry(stream)
            .or_insert_with(|| Decoder::new(Limits::default()));
        for chunk in bytes.chunks(4096) {
            if let Err(e) = d.push(chunk) {
                break 'read format!("stream {stream}: {e}");
            }
            loop {
                match d.next() {
                    Ok(Some(r)) => on_backend_record(front, a, stream, r),
                    Ok(None) => break,
                    Err(e) => break 'read format!("stream {stream}: {e}"),
                }
            }
        }
    };
    let _ = socket2::SockRef::from(&*a.sock).shutdown(Shutdown::Both);
    let clients: Vec<Arc<Client>> = {
        let mut r = a.routes.lock().unwrap();
        r.dead = true;
        r.by_stream.drain().map(|(_, c)| c).collect()
    };
    {
        let mut pool = front.pool.lock().unwrap();
        pool.remove(a.id);
        front.assocs.lock().unwrap().remove(&a.id);
    }
    front.changed.notify_all();
    if clients.is_empty() {
        log_info!("{}: association down ({why})", front.backend);
    } else {
        log_warn!(
            "{}: association lost ({why}); {} request(s) in flight ended",
            front.backend,
            clients.len()
        );
    }
    for c in clients {
        let acts = c.state.lock().unwrap().0.backend_lost();
        for act in acts {
            client_io(&c, act);
        }
    }
}

fn on_backend_record(front: &Arc<Front>, a: &Arc<Assoc>, stream: u16, r: Record) {
    if let Err(v) = stream_plan::check(stream, &r) {
        log_warn!("{}: {v}; record dropped", front.backend);
        return;
    }
    if stream == MANAGEMENT_STREAM {
        match r {
            Record::Stderr { data, .. } => front.backend_log(&data),
            r => log_debug!(
                "{}: management record type {} ignored",
                front.backend,
                r.kind()
            ),
        }
        return;
    }
    let client = a.routes.lock().unwrap().by_stream.get(&stream).cloned();
    let Some(client) = client else {
        log_debug!(
            "{}: stream {stream}: no request; record dropped",
            front.backend
        );
        return;
    };
    let actions = client.state.lock().unwrap().0.backend_record(r);
    for act in actions {
        match act {
            Action::Release { stream } => {
                a.routes.lock().unwrap().by_stream.remove(&stream);
                front.release(a.id, stream);
            }
            other => {
                client_io(&client, other);
            }
        }
    }
}
