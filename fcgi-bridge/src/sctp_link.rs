//! The SCTP side: listening and connecting with a stream count, sending
//! whole records on a stream, receiving (stream, bytes), and the
//! GET_VALUES exchange a web server starts an association with.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use apr_sctp::sctp::{self, Domain, InitMsg, SctpSocket, SndInfo};
use fastcgi::record::{Decoder, Limits, Record};
use fastcgi::stream_plan::MANAGEMENT_STREAM;

use fastcgi::management::{self, Learned};

fn initmsg(streams: u16) -> InitMsg {
    InitMsg {
        num_ostreams: streams,
        max_instreams: streams,
        ..Default::default()
    }
}

/// Socket buffers of every association. SCTP never grows them as TCP does,
/// and the kernel's defaults (about 200 KiB) hold a 20 Mbit/s, 100 ms path
/// to a fraction of its rate: the receive buffer is the window the peer may
/// fill (a 2 MB response took 4.2 s over SCTP against 1.3 s over TCP with
/// the default). The send buffer is mod_sctp's SCTPSendBuffer default. A
/// process that is not root gets at most net.core.rmem_max / wmem_max.
pub const SEND_BUFFER: usize = 1024 * 1024;
pub const RECEIVE_BUFFER: usize = 4 * 1024 * 1024;

fn prepare(s: &SctpSocket) -> io::Result<()> {
    sctp::set_recvrcvinfo(s.as_fd(), true)?;
    sctp::set_nodelay(s.as_fd(), true)?;
    schedule_round_robin(s);
    Ok(())
}

/// Streams with data queued take turns, a message each: a large response
/// filling the send buffer does not hold up the small ones on other
/// streams behind it (the kernel's default is first come, first served).
/// A kernel without stream schedulers (before 4.15) keeps its default.
fn schedule_round_robin(s: &SctpSocket) {
    if let Err(e) = sctp::set_stream_scheduler(s.as_fd(), sctp::StreamScheduler::RoundRobin) {
        log_debug!("SCTP_STREAM_SCHEDULER round robin: {e}");
    }
}

fn buffers(s: &SctpSocket) {
    for (which, bytes, name) in [
        (sctp::SocketBuffer::Send, SEND_BUFFER, "SO_SNDBUF"),
        (sctp::SocketBuffer::Receive, RECEIVE_BUFFER, "SO_RCVBUF"),
    ] {
        match sctp::set_buffer(s.as_fd(), which, bytes) {
            Ok(kept) if kept < bytes => log_debug!("{name} {bytes}: the kernel keeps {kept}"),
            Ok(_) => {}
            Err(e) => log_warn!("{name} {bytes}: {e}"),
        }
    }
}

/// A one-to-one SCTP listener offering `streams` streams each way.
pub fn listen(addr: &SocketAddr, streams: u16) -> io::Result<SctpSocket> {
    let s = SctpSocket::new(Domain::of(addr))?;
    socket2::SockRef::from(&s).set_reuse_address(true)?;
    sctp::set_initmsg(s.as_fd(), &initmsg(streams))?;
    // Inherited by the associations it accepts.
    buffers(&s);
    schedule_round_robin(&s);
    s.bind(addr)?;
    s.listen(128)?;
    Ok(s)
}

/// Accepts an association, ready for [`Receiver`] and [`send`].
pub fn accept(l: &SctpSocket) -> io::Result<(SctpSocket, SocketAddr)> {
    let (s, peer) = l.accept()?;
    prepare(&s)?;
    Ok((s, peer))
}

/// Opens an association to `addr` asking for `streams` streams each way.
pub fn connect(addr: &SocketAddr, streams: u16) -> io::Result<SctpSocket> {
    let s = SctpSocket::new(Domain::of(addr))?;
    sctp::set_initmsg(s.as_fd(), &initmsg(streams))?;
    buffers(&s);
    prepare(&s)?;
    s.connect(addr)?;
    // Now that the association exists, for it in particular.
    schedule_round_robin(&s);
    Ok(s)
}

/// The streams usable both ways, as SCTP negotiated them.
pub fn usable_streams(s: &SctpSocket) -> io::Result<u16> {
    let st = sctp::status(s.as_fd())?;
    Ok(st.instrms.min(st.outstrms))
}

/// Sends one message (whole records) on `stream`.
pub fn send(s: &SctpSocket, stream: u16, bytes: &[u8]) -> io::Result<()> {
    let info = SndInfo {
        sid: stream,
        ..Default::default()
    };
    let n = sctp::send_msg(s.as_fd(), &[IoSlice::new(bytes)], Some(&info), 0)?;
    if n != bytes.len() {
        return Err(io::Error::new(io::ErrorKind::WriteZero, "short sendmsg"));
    }
    Ok(())
}

/// Encodes `r` and sends it on `stream`.
pub fn send_record(s: &SctpSocket, stream: u16, r: &Record) -> io::Result<()> {
    let mut b = Vec::new();
    crate::rewrite::encode(r, &mut b);
    send(s, stream, &b)
}

/// What [`Receiver::next`] got.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// (Part of) a message on a stream.
    Data { stream: u16, bytes: &'a [u8] },
    /// A notification (already logged at debug level).
    Notification,
    /// The association ended.
    Eof,
}

/// Receives from one association; remembers the stream of a message that
/// arrives in parts.
#[derive(Debug)]
pub struct Receiver {
    buf: Vec<u8>,
    stream: Option<u16>,
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new()
    }
}

impl Receiver {
    pub fn new() -> Receiver {
        Receiver {
            buf: vec![0; 64 * 1024],
            stream: None,
        }
    }

    pub fn next(&mut self, s: &SctpSocket) -> io::Result<Incoming<'_>> {
        let r = loop {
            match sctp::recv_msg(s.as_fd(), &mut self.buf, 0) {
                Err(e) if e.errno == libc::EINTR => continue,
                r => break r?,
            }
        };
        if r.notification {
            match sctp::parse_notification(&self.buf[..r.len]) {
                Ok(n) => log_debug!("SCTP notification: {n:?}"),
                Err(e) => log_debug!("SCTP notification: {e}"),
            }
            return Ok(Incoming::Notification);
        }
        if r.len == 0 {
            return Ok(Incoming::Eof);
        }
        let stream = match (r.info, self.stream) {
            (Some(i), _) => i.sid,
            (None, Some(s)) => s,
            (None, None) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "message without SCTP_RCVINFO",
                ))
            }
        };
        self.stream = if r.eor { None } else { Some(stream) };
        Ok(Incoming::Data {
            stream,
            bytes: &self.buf[..r.len],
        })
    }
}

/// Asks the backend FCGI_GET_VALUES on stream 1 and waits up to `wait` for
/// the answer. Log lines that come first go to `on_log`. No answer is an
/// error.
pub fn ask_values(
    s: &SctpSocket,
    wait: Duration,
    mut on_log: impl FnMut(&[u8]),
) -> io::Result<Learned> {
    send_record(s, MANAGEMENT_STREAM, &management::question())?;
    let sock = socket2::SockRef::from(s);
    let old = sock.read_timeout()?;
    let deadline = Instant::now() + wait;
    let mut rx = Receiver::new();
    let mut d = Decoder::new(Limits::default());
    let result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no FCGI_GET_VALUES_RESULT from the backend",
            ));
        }
        sock.set_read_timeout(Some(left))?;
        let (stream, bytes) = match rx.next(s) {
            Ok(Incoming::Data { stream, bytes }) => (stream, bytes),
            Ok(Incoming::Notification) => continue,
            Ok(Incoming::Eof) => {
                break Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "backend closed the association",
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => break Err(e),
        };
        if stream != MANAGEMENT_STREAM {
            break Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("backend sent on stream {stream} before any request"),
            ));
        }
        let mut found = None;
        let mut failed = None;
        for chunk in bytes.chunks(4096) {
            if let Err(e) = d.push(chunk) {
                failed = Some(e);
                break;
            }
            loop {
                match d.next() {
                    Ok(Some(Record::GetValuesResult { pairs })) => {
                        found = Some(Learned::from_pairs(&pairs))
                    }
                    Ok(Some(Record::Stderr { data, .. })) => on_log(&data),
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
        }
        if let Some(e) = failed {
            break Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
        }
        if let Some(l) = found {
            break Ok(l);
        }
    };
    sock.set_read_timeout(old)?;
    result
}
