//! The APR-facing API on real SCTP over loopback: `apr_socket_*_sctp()`,
//! their Rust counterparts and the SCTP bucket, on sockets made with
//! `apr_socket_create(..., APR_PROTO_SCTP, pool)`. Checks APR's timeout
//! semantics (APR_EAGAIN, APR_TIMEUP, APR_EOF), streams and PPIDs, skipped
//! notifications and the bucket's morphing. Without kernel SCTP each test
//! says so and returns; `ci/test` runs them in the SCTP VM.

use apr_sctp::apr_socket::{self, apr_sctp_rcvinfo_t, apr_sctp_sndinfo_t};
use apr_sctp::bucket;
use apr_sctp::sctp::{self, Event, SndInfo};
use apr_sctp::sys;
use std::io::IoSlice;
use std::os::fd::BorrowedFd;
use std::ptr;
use std::sync::Once;
use std::time::{Duration, Instant};

use apr_sctp::need_sctp;

const SUCCESS: sys::apr_status_t = 0;
const EAGAIN: sys::apr_status_t = sys::APR_EAGAIN as sys::apr_status_t;
const TIMEUP: sys::apr_status_t = sys::APR_TIMEUP as sys::apr_status_t;
const EOF: sys::apr_status_t = sys::APR_EOF as sys::apr_status_t;

fn apr_init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: apr_initialize may be called once per process, first.
        let rv = unsafe { sys::apr_initialize() };
        assert_eq!(rv, SUCCESS, "apr_initialize");
    });
}

/// An APR pool, destroyed (with its sockets) on drop.
struct Pool(*mut sys::apr_pool_t);

impl Pool {
    fn new() -> Pool {
        apr_init();
        let mut p = ptr::null_mut();
        // SAFETY: a new root pool; APR is initialised.
        let rv = unsafe { sys::apr_pool_create_ex(&mut p, ptr::null_mut(), None, ptr::null_mut()) };
        assert_eq!(rv, SUCCESS, "apr_pool_create");
        Pool(p)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: our pool, destroyed once.
        unsafe { sys::apr_pool_destroy(self.0) };
    }
}

type Sock = *mut sys::apr_socket_t;

fn check(rv: sys::apr_status_t, what: &str) {
    assert_eq!(
        rv,
        SUCCESS,
        "{what}: {}",
        std::io::Error::from_raw_os_error(rv)
    );
}

fn fd_of(s: Sock) -> i32 {
    let mut fd = -1;
    // SAFETY: a live APR socket, a valid out-pointer.
    check(
        unsafe { sys::apr_os_sock_get(&mut fd, s) },
        "apr_os_sock_get",
    );
    fd
}

fn borrow(s: Sock) -> BorrowedFd<'static> {
    // SAFETY: the tests keep the APR socket (and so its descriptor) open
    // for as long as they use the borrow.
    unsafe { BorrowedFd::borrow_raw(fd_of(s)) }
}

fn new_socket(pool: &Pool) -> Sock {
    new_socket_of(pool, sys::APR_PROTO_SCTP)
}

/// An IPv4 stream socket of APR protocol `proto`.
fn new_socket_of(pool: &Pool, proto: u32) -> Sock {
    let mut s = ptr::null_mut();
    // SAFETY: valid out-pointer and pool.
    let rv = unsafe {
        sys::apr_socket_create(
            &mut s,
            sys::APR_INET as i32,
            libc::SOCK_STREAM,
            proto as i32,
            pool.0,
        )
    };
    check(rv, &format!("apr_socket_create(protocol {proto})"));
    s
}

fn set_timeout(s: Sock, t: sys::apr_interval_time_t) {
    // SAFETY: a live APR socket.
    check(
        unsafe { sys::apr_socket_timeout_set(s, t) },
        "apr_socket_timeout_set",
    );
}

/// A connected (client, server) pair of APR SCTP sockets, both with
/// SCTP_RECVRCVINFO on and a 5 s timeout. `before` runs on the client
/// before it connects.
fn pair(pool: &Pool, before: impl FnOnce(Sock)) -> (Sock, Sock) {
    let l = new_socket(pool);
    let mut sa = ptr::null_mut();
    // SAFETY: valid out-pointers, NUL-terminated host name, live pool and
    // sockets throughout.
    unsafe {
        check(
            sys::apr_sockaddr_info_get(
                &mut sa,
                c"127.0.0.1".as_ptr(),
                sys::APR_INET as i32,
                0,
                0,
                pool.0,
            ),
            "apr_sockaddr_info_get",
        );
        check(sys::apr_socket_bind(l, sa), "apr_socket_bind");
        check(sys::apr_socket_listen(l, 8), "apr_socket_listen");
        let mut bound = ptr::null_mut();
        check(
            sys::apr_socket_addr_get(&mut bound, sys::apr_interface_e_APR_LOCAL, l),
            "apr_socket_addr_get",
        );
        let port = (*bound).port;
        assert_ne!(port, 0);
        check(
            sys::apr_sockaddr_info_get(
                &mut sa,
                c"127.0.0.1".as_ptr(),
                sys::APR_INET as i32,
                port,
                0,
                pool.0,
            ),
            "apr_sockaddr_info_get(port)",
        );
    }
    let c = new_socket(pool);
    sctp::set_recvrcvinfo(borrow(c), true).expect("client SCTP_RECVRCVINFO");
    before(c);
    let mut s = ptr::null_mut();
    // SAFETY: live sockets and pool, valid out-pointer.
    unsafe {
        check(sys::apr_socket_connect(c, sa), "apr_socket_connect");
        check(
            sys::apr_socket_accept(&mut s, l, pool.0),
            "apr_socket_accept",
        );
    }
    sctp::set_recvrcvinfo(borrow(s), true).expect("server SCTP_RECVRCVINFO");
    set_timeout(c, 5_000_000);
    set_timeout(s, 5_000_000);
    (c, s)
}

fn send_c(s: Sock, data: &[u8], stream: u16) -> (sys::apr_status_t, usize) {
    let mut len = data.len();
    // SAFETY: `len` readable bytes at `data`; a live socket.
    let rv =
        unsafe { apr_socket::apr_socket_send_sctp(s, data.as_ptr() as *const _, &mut len, stream) };
    (rv, len)
}

fn recv_c(s: Sock, cap: usize) -> (sys::apr_status_t, Vec<u8>, u16) {
    let mut buf = vec![0u8; cap];
    let mut len = cap;
    let mut stream = 0xffff;
    // SAFETY: `len` writable bytes at `buf`; a live socket.
    let rv = unsafe {
        apr_socket::apr_socket_recv_sctp(s, buf.as_mut_ptr() as *mut _, &mut len, &mut stream)
    };
    buf.truncate(len);
    (rv, buf, stream)
}

#[test]
fn streams_and_ppid_through_the_c_and_rust_calls() {
    need_sctp!();
    let pool = Pool::new();
    let (c, s) = pair(&pool, |_| {});

    // apr_socket_send_sctp / apr_socket_recv_sctp: the stream comes back.
    assert_eq!(send_c(c, b"ping", 3), (SUCCESS, 4));
    assert_eq!(recv_c(s, 64), (SUCCESS, b"ping".to_vec(), 3));
    assert_eq!(send_c(s, b"pong", 5), (SUCCESS, 4));
    assert_eq!(recv_c(c, 64), (SUCCESS, b"pong".to_vec(), 5));

    // apr_socket_sendv_sctp / apr_socket_recv_sctp_info: two iovecs are one
    // message; stream, PPID (host order both ends) and EOR come back.
    let parts: [&[u8]; 2] = [b"hello ", b"world"];
    let vec: Vec<sys::iovec> = parts
        .iter()
        .map(|p| sys::iovec {
            iov_base: p.as_ptr() as *mut _,
            iov_len: p.len(),
        })
        .collect();
    let info = apr_sctp_sndinfo_t {
        stream: 6,
        flags: 0,
        ppid: 63,
        context: 0,
    };
    let mut sent = 0;
    // SAFETY: two valid iovecs, a valid info and out-pointer, a live socket.
    let rv = unsafe { apr_socket::apr_socket_sendv_sctp(c, vec.as_ptr(), 2, &info, &mut sent) };
    assert_eq!((rv, sent), (SUCCESS, 11));
    let mut buf = [0u8; 64];
    let mut len = buf.len();
    let mut ri = apr_sctp_rcvinfo_t::default();
    // SAFETY: `len` writable bytes at `buf`, valid out-pointers.
    let rv = unsafe {
        apr_socket::apr_socket_recv_sctp_info(s, buf.as_mut_ptr() as *mut _, &mut len, &mut ri)
    };
    assert_eq!(rv, SUCCESS);
    assert_eq!(&buf[..len], b"hello world");
    assert_eq!(
        (ri.stream, ri.ssn, ri.ppid, ri.eor),
        (6, 0, 63, 1),
        "{ri:?}"
    );

    // A short buffer: part of the message, eor 0, then the rest, eor 1.
    assert_eq!(send_c(c, b"0123456789", 6), (SUCCESS, 10));
    let mut len = 4;
    // SAFETY: as above, 4 bytes.
    let rv = unsafe {
        apr_socket::apr_socket_recv_sctp_info(s, buf.as_mut_ptr() as *mut _, &mut len, &mut ri)
    };
    assert_eq!((rv, len, ri.stream, ri.ssn, ri.eor), (SUCCESS, 4, 6, 1, 0));
    let mut len = buf.len();
    // SAFETY: as above.
    let rv = unsafe {
        apr_socket::apr_socket_recv_sctp_info(s, buf.as_mut_ptr() as *mut _, &mut len, &mut ri)
    };
    assert_eq!((rv, &buf[..len], ri.eor), (SUCCESS, &b"456789"[..], 1));

    // The Rust calls mod_sctp uses.
    let info = SndInfo {
        sid: 5,
        ppid: 63,
        ..Default::default()
    };
    // SAFETY: live APR SCTP sockets.
    let n = unsafe { apr_socket::send(c, &[IoSlice::new(b"from "), IoSlice::new(b"rust")], &info) };
    assert_eq!(n, Ok(9));
    // SAFETY: as above.
    let (n, ri) = unsafe { apr_socket::recv(s, &mut buf) }.expect("apr_socket::recv");
    assert_eq!(&buf[..n], b"from rust");
    let ri = ri.expect("rcvinfo");
    assert_eq!((ri.sid, ri.ppid), (5, 63));

    // Bad arguments are APR_EINVAL, not a crash.
    let mut len = 4;
    // SAFETY: NULL buffer with a non-zero length is what is being checked.
    let rv =
        unsafe { apr_socket::apr_socket_recv_sctp(s, ptr::null_mut(), &mut len, ptr::null_mut()) };
    assert_eq!((rv, len), (sys::APR_EINVAL as i32, 0));
    // SAFETY: NULL info is what is being checked.
    let rv = unsafe {
        apr_socket::apr_socket_sendv_sctp(c, vec.as_ptr(), 2, ptr::null(), ptr::null_mut())
    };
    assert_eq!(rv, sys::APR_EINVAL as i32);
}

#[test]
fn recv_honours_the_socket_timeout() {
    need_sctp!();
    let pool = Pool::new();
    let (c, s) = pair(&pool, |_| {});

    set_timeout(s, 0);
    assert_eq!(
        recv_c(s, 64),
        (EAGAIN, vec![], 0),
        "timeout 0, nothing queued"
    );

    set_timeout(s, 150_000);
    let t0 = Instant::now();
    assert_eq!(
        recv_c(s, 64),
        (TIMEUP, vec![], 0),
        "timeout 150 ms, nothing queued"
    );
    let dt = t0.elapsed();
    assert!(
        dt >= Duration::from_millis(140),
        "APR_TIMEUP after only {dt:?}"
    );
    assert!(dt < Duration::from_secs(3), "APR_TIMEUP after {dt:?}");

    // A positive timeout waits for data that comes later; so does a
    // blocking (negative) one.
    for t in [2_000_000, -1] {
        set_timeout(s, t);
        let cfd = fd_of(c);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            // SAFETY: the client socket outlives this thread (joined below).
            let fd = unsafe { BorrowedFd::borrow_raw(cfd) };
            let info = SndInfo {
                sid: 2,
                ..Default::default()
            };
            sctp::send_msg(fd, &[IoSlice::new(b"late")], Some(&info), 0).expect("send")
        });
        assert_eq!(recv_c(s, 64), (SUCCESS, b"late".to_vec(), 2), "timeout {t}");
        assert_eq!(sender.join().unwrap(), 4);
    }

    // Data already queued is returned with timeout 0 too.
    assert_eq!(send_c(c, b"now", 1), (SUCCESS, 3));
    set_timeout(s, 0);
    let mut got = recv_c(s, 64);
    for _ in 0..50 {
        if got.0 != EAGAIN {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        got = recv_c(s, 64);
    }
    assert_eq!(got, (SUCCESS, b"now".to_vec(), 1));
}

#[test]
fn send_honours_the_socket_timeout_and_passes_emsgsize_on() {
    need_sctp!();
    let pool = Pool::new();
    let (c, _s) = pair(&pool, |_| {});
    let sndbuf = socket2::SockRef::from(&borrow(c))
        .send_buffer_size()
        .expect("SO_SNDBUF");

    // A message larger than the send buffer: EMSGSIZE, through both calls.
    let big = vec![b'x'; sndbuf + 1];
    assert_eq!(send_c(c, &big, 1), (libc::EMSGSIZE, 0));
    // SAFETY: a live APR SCTP socket.
    let r = unsafe { apr_socket::send(c, &[IoSlice::new(&big)], &SndInfo::default()) };
    assert_eq!(r, Err(libc::EMSGSIZE));

    // The server never reads: with timeout 0 the sends end in APR_EAGAIN.
    set_timeout(c, 0);
    let chunk = vec![b'y'; 16 * 1024];
    let mut eagain = false;
    for _ in 0..10_000 {
        match send_c(c, &chunk, 1) {
            (SUCCESS, n) => assert_eq!(n, chunk.len(), "whole messages only"),
            (EAGAIN, 0) => {
                eagain = true;
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(eagain, "the send buffer never filled");

    // And with a short timeout, APR_TIMEUP once it has passed.
    set_timeout(c, 150_000);
    let t0 = Instant::now();
    assert_eq!(send_c(c, &chunk, 1), (TIMEUP, 0));
    assert!(
        t0.elapsed() >= Duration::from_millis(140),
        "after {:?}",
        t0.elapsed()
    );
}

#[test]
fn eof_after_the_peer_closes() {
    need_sctp!();
    let pool = Pool::new();
    let (c, s) = pair(&pool, |_| {});
    assert_eq!(send_c(s, b"last words", 4), (SUCCESS, 10));
    // SAFETY: a live socket, closed once and not used again.
    check(unsafe { sys::apr_socket_close(s) }, "apr_socket_close");
    // Data sent before the close still arrives, then APR_EOF.
    assert_eq!(recv_c(c, 64), (SUCCESS, b"last words".to_vec(), 4));
    assert_eq!(recv_c(c, 64), (EOF, vec![], 0));
    // SAFETY: a live APR SCTP socket.
    assert_eq!(unsafe { apr_socket::recv(c, &mut [0u8; 8]) }, Err(EOF));
}

/// A tracing subscriber that keeps the messages of events with target
/// "apr_sctp".
#[derive(Clone, Default)]
struct Collect(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

struct Message<'a>(&'a mut String);

impl tracing::field::Visit for Message<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            *self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Collect {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        m.target() == "apr_sctp"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        let mut m = String::new();
        e.record(&mut Message(&mut m));
        self.0.lock().unwrap().push(m);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn notifications_are_skipped_not_returned() {
    need_sctp!();
    let pool = Pool::new();
    // The client hears COMM_UP before any data, and SHUTDOWN +
    // SHUTDOWN_COMP before end of stream.
    let (c, s) = pair(&pool, |c| {
        sctp::subscribe(borrow(c), &[Event::AssocChange, Event::Shutdown], true)
            .expect("SCTP_EVENT");
    });
    let logs = Collect::default();
    tracing::subscriber::with_default(logs.clone(), || {
        assert_eq!(send_c(s, b"abcd", 2), (SUCCESS, 4));
        // A 4-byte buffer: the 20-byte COMM_UP is read and dropped whole.
        assert_eq!(recv_c(c, 4), (SUCCESS, b"abcd".to_vec(), 2));
        // SAFETY: a live socket, closed once.
        check(unsafe { sys::apr_socket_close(s) }, "apr_socket_close");
        assert_eq!(recv_c(c, 4), (EOF, vec![], 0));
    });
    // Each skipped notification was logged, parsed whole.
    let logs = logs.0.lock().unwrap().clone();
    assert_eq!(logs.len(), 3, "{logs:?}");
    assert!(logs[0].contains("COMM_UP"), "{logs:?}");
    assert!(logs[1].contains("peer sent SHUTDOWN"), "{logs:?}");
    assert!(logs[2].contains("SHUTDOWN_COMP"), "{logs:?}");
}

/// `apr_bucket_read` (a macro in C).
///
/// # Safety
/// `b` is a live bucket.
unsafe fn bucket_read(
    b: *mut sys::apr_bucket,
    block: sys::apr_read_type_e,
) -> (sys::apr_status_t, Vec<u8>) {
    let mut data: *const libc::c_char = ptr::null();
    let mut len = 0;
    // SAFETY: per the contract; the read function is always set.
    unsafe {
        let read = (*(*b).type_).read.expect("read");
        let rv = read(b, &mut data, &mut len, block);
        let bytes = if data.is_null() || len == 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(data as *const u8, len).to_vec()
        };
        (rv, bytes)
    }
}

fn is_sctp(b: *const sys::apr_bucket) -> bool {
    // SAFETY: a live bucket.
    unsafe { ptr::eq((*b).type_, &bucket::apr_bucket_type_sctp.0) }
}

fn rcvinfo(b: *const sys::apr_bucket) -> Result<apr_sctp_rcvinfo_t, sys::apr_status_t> {
    let mut i = apr_sctp_rcvinfo_t::default();
    // SAFETY: a live bucket, a valid out-pointer.
    match unsafe { bucket::apr_bucket_sctp_rcvinfo(b, &mut i) } {
        SUCCESS => Ok(i),
        rv => Err(rv),
    }
}

#[test]
fn sctp_bucket_reads_like_a_socket_bucket() {
    need_sctp!();
    let pool = Pool::new();
    let (c, s) = pair(&pool, |_| {});
    // SAFETY: APR brigade/bucket calls on live objects from this pool; each
    // bucket pointer is used only while it is in the brigade.
    unsafe {
        let ba = sys::apr_bucket_alloc_create(pool.0);
        let bb = sys::apr_brigade_create(pool.0, ba);
        let b = bucket::create(s, ba);
        // APR_BRIGADE_INSERT_TAIL on an empty brigade.
        let sentinel = &mut (*bb).list as *mut _ as *mut sys::apr_bucket;
        (*b).link.next = sentinel;
        (*b).link.prev = sentinel;
        (*bb).list.next = b;
        (*bb).list.prev = b;

        assert!(is_sctp(b));
        assert_eq!(
            (*b).length,
            usize::MAX,
            "unknown length, like a socket bucket"
        );
        assert_eq!(rcvinfo(b), Err(sys::APR_ENOENT as i32), "nothing read yet");
        let name = std::ffi::CStr::from_ptr((*(*b).type_).name);
        assert_eq!(name.to_str(), Ok("SCTP"));
        let mut copy = ptr::null_mut();
        assert_eq!(
            (*(*b).type_).copy.unwrap()(b, &mut copy),
            sys::APR_ENOTIMPL as i32
        );
        assert_eq!((*(*b).type_).split.unwrap()(b, 1), sys::APR_ENOTIMPL as i32);
        assert_eq!(
            (*(*b).type_).setaside.unwrap()(b, pool.0),
            sys::APR_ENOTIMPL as i32
        );

        // Non-blocking with nothing queued: APR_EAGAIN, the bucket unchanged,
        // and the socket's own timeout restored.
        assert_eq!(
            bucket_read(b, sys::apr_read_type_e_APR_NONBLOCK_READ),
            (EAGAIN, vec![])
        );
        assert!(is_sctp(b) && (*b).length == usize::MAX);
        let mut t = 0;
        sys::apr_socket_timeout_get(s, &mut t);
        assert_eq!(t, 5_000_000);
        // Blocking with a short socket timeout: APR_TIMEUP, unchanged.
        set_timeout(s, 100_000);
        assert_eq!(
            bucket_read(b, sys::apr_read_type_e_APR_BLOCK_READ),
            (TIMEUP, vec![])
        );
        assert!(is_sctp(b));
        set_timeout(s, 5_000_000);

        // A read: the bucket becomes a heap bucket of the bytes; after it a
        // new SCTP bucket that knows their stream, PPID and EOR.
        let info = SndInfo {
            sid: 7,
            ppid: 63,
            ..Default::default()
        };
        apr_socket::send(c, &[IoSlice::new(b"bucket data")], &info).expect("send");
        assert_eq!(
            bucket_read(b, sys::apr_read_type_e_APR_BLOCK_READ),
            (SUCCESS, b"bucket data".to_vec())
        );
        assert!(ptr::eq((*b).type_, &sys::apr_bucket_type_heap));
        assert_eq!((*b).length, 11);
        assert_eq!(
            rcvinfo(b),
            Err(sys::APR_EINVAL as i32),
            "not an SCTP bucket any more"
        );
        let next = (*b).link.next;
        assert!(next != sentinel && is_sctp(next));
        assert_eq!((*next).length, usize::MAX);
        let ri = rcvinfo(next).expect("rcvinfo of the bytes before");
        assert_eq!((ri.stream, ri.ppid, ri.eor), (7, 63, 1));

        // A message longer than APR_BUCKET_BUFF_SIZE comes in pieces; each
        // successor tells whether its piece ended the message.
        let cap = sys::APR_BUCKET_BUFF_SIZE as usize;
        let long = vec![b'z'; cap + 1000];
        apr_socket::send(c, &[IoSlice::new(&long)], &SndInfo { sid: 3, ..info }).expect("send");
        let (rv, first) = bucket_read(next, sys::apr_read_type_e_APR_BLOCK_READ);
        assert_eq!((rv, first.len()), (SUCCESS, cap));
        let next2 = (*next).link.next;
        let ri = rcvinfo(next2).expect("rcvinfo");
        assert_eq!((ri.stream, ri.eor), (3, 0));
        let (rv, rest) = bucket_read(next2, sys::apr_read_type_e_APR_BLOCK_READ);
        assert_eq!((rv, rest.len()), (SUCCESS, 1000));
        let next3 = (*next2).link.next;
        let ri = rcvinfo(next3).expect("rcvinfo");
        assert_eq!((ri.stream, ri.eor), (3, 1));

        // End of stream: an empty immortal bucket, APR_SUCCESS, nothing after.
        check(sys::apr_socket_close(c), "apr_socket_close(client)");
        assert_eq!(
            bucket_read(next3, sys::apr_read_type_e_APR_BLOCK_READ),
            (SUCCESS, vec![])
        );
        assert!(ptr::eq((*next3).type_, &sys::apr_bucket_type_immortal));
        assert_eq!((*next3).length, 0);
        assert_eq!((*next3).link.next, sentinel);

        // Destroying the brigade destroys (and frees) every bucket.
        check(sys::apr_brigade_destroy(bb), "apr_brigade_destroy");
    }
}

#[test]
fn bucket_made_from_another_bucket() {
    need_sctp!();
    let pool = Pool::new();
    let (c, s) = pair(&pool, |_| {});
    // SAFETY: as in the test above: live APR objects from this pool.
    unsafe {
        let ba = sys::apr_bucket_alloc_create(pool.0);
        // An immortal bucket turned into an SCTP bucket in place.
        let b = sys::apr_bucket_immortal_create(c"x".as_ptr(), 1, ba);
        let b2 = apr_sctp::bucket::apr_bucket_sctp_make(b, s);
        assert_eq!(b2, b);
        assert!(is_sctp(b));
        send_c(c, b"made", 9);
        assert_eq!(
            bucket_read(b, sys::apr_read_type_e_APR_BLOCK_READ),
            (SUCCESS, b"made".to_vec())
        );
        let next = (*b).link.next;
        assert_eq!(rcvinfo(next).map(|i| i.stream), Ok(9));
        // A lone bucket pair, not in a brigade: destroy both by hand
        // (apr_bucket_destroy is a macro: type destroy, then free).
        for x in [next, b] {
            (*(*x).type_).destroy.unwrap()((*x).data);
            (*x).free.unwrap()(x as *mut libc::c_void);
        }
    }
}

/// A closed APR socket (descriptor -1) gives EBADF from every call, never
/// a panic: a reader racing the close at a graceful stop once panicked
/// here. TCP is enough: the check comes before any SCTP call.
#[test]
fn calls_on_a_closed_socket_are_ebadf() {
    let pool = Pool::new();
    let s = new_socket_of(&pool, sys::APR_PROTO_TCP);
    // SAFETY: our live socket, closed once.
    check(unsafe { sys::apr_socket_close(s) }, "apr_socket_close");
    let mut buf = [0u8; 16];
    let mut len: sys::apr_size_t = buf.len();
    let mut stream = 7u16;
    // SAFETY: a closed (still allocated) APR socket, valid buffers.
    let rv = unsafe {
        apr_socket::apr_socket_recv_sctp(s, buf.as_mut_ptr().cast(), &mut len, &mut stream)
    };
    assert_eq!((rv, len), (libc::EBADF, 0));
    let mut len: sys::apr_size_t = 3;
    // SAFETY: as above.
    let rv = unsafe { apr_socket::apr_socket_send_sctp(s, c"abc".as_ptr(), &mut len, 1) };
    assert_eq!((rv, len), (libc::EBADF, 0));
}
