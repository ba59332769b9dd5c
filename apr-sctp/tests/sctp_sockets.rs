//! Real SCTP over loopback with the safe layer (`apr_sctp::sctp`). The host
//! kernel may lack SCTP; each test then says so and returns. `ci/test` runs
//! them in the SCTP VM.

use apr_sctp::sctp::notification::{SCTP_COMM_UP, SCTP_SHUTDOWN_COMP};
use apr_sctp::sctp::{self, Domain, Event, InitMsg, Notification, SctpSocket, SndInfo};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use apr_sctp::need_sctp;

fn local_addr(s: &SctpSocket) -> SocketAddr {
    s.local_addr().expect("getsockname")
}

/// Fails a blocking receive after 5 s instead of hanging the test run.
fn set_recv_timeout(s: &SctpSocket) {
    socket2::SockRef::from(s)
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("SO_RCVTIMEO");
}

/// A listener on 127.0.0.1 (ephemeral port).
fn listener(init: Option<InitMsg>) -> (SctpSocket, SocketAddr) {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let l = SctpSocket::new(Domain::V4).expect("socket");
    if let Some(m) = init {
        sctp::set_initmsg(l.as_fd(), &m).expect("listener SCTP_INITMSG");
    }
    l.bind(&any).expect("bind");
    l.listen(8).expect("listen");
    let a = local_addr(&l);
    (l, a)
}

/// A connected client and the server side of its association. `before`
/// runs on the client socket before it connects.
fn pair(
    client_init: Option<InitMsg>,
    server_init: Option<InitMsg>,
    before: impl FnOnce(&SctpSocket),
) -> (SctpSocket, SctpSocket) {
    let (l, addr) = listener(server_init);
    let c = SctpSocket::new(Domain::of(&addr)).expect("client socket");
    if let Some(m) = client_init {
        sctp::set_initmsg(c.as_fd(), &m).expect("client SCTP_INITMSG");
    }
    before(&c);
    c.connect(&addr).expect("connect");
    let (s, peer) = l.accept().expect("accept");
    assert_eq!(peer, local_addr(&c), "accept reports the client");
    assert_eq!(c.peer_addr().expect("getpeername"), addr);
    set_recv_timeout(&c);
    set_recv_timeout(&s);
    (c, s)
}

#[test]
fn stream_and_ppid_round_trip() {
    need_sctp!();
    let (c, s) = pair(None, None, |_| {});
    sctp::set_recvrcvinfo(s.as_fd(), true).expect("SCTP_RECVRCVINFO");
    assert_eq!(
        sctp::peer_addrs(c.as_fd()).expect("SCTP_GET_PEER_ADDRS"),
        vec![local_addr(&s)]
    );
    assert_eq!(
        sctp::local_addrs(c.as_fd()).expect("SCTP_GET_LOCAL_ADDRS"),
        vec![local_addr(&c)]
    );
    let info = SndInfo {
        sid: 5,
        ppid: 63,
        ..Default::default()
    };
    let msg = b"hello on stream five";
    let n = sctp::send_msg(c.as_fd(), &[IoSlice::new(msg)], Some(&info), 0).expect("send");
    assert_eq!(n, msg.len());

    let mut buf = [0u8; 256];
    let r = sctp::recv_msg(s.as_fd(), &mut buf, 0).expect("recv");
    assert!(!r.notification);
    assert!(r.eor, "a whole message ends with MSG_EOR");
    assert_eq!(&buf[..r.len], msg);
    let ri = r.info.expect("SCTP_RCVINFO with SCTP_RECVRCVINFO on");
    assert_eq!(ri.sid, 5);
    assert_eq!(ri.ppid, 63);
    assert_eq!(ri.ssn, 0, "first message of the stream");

    // Two buffers are one message; the second message on stream 5 has SSN 1.
    let n = sctp::send_msg(
        c.as_fd(),
        &[IoSlice::new(b"two "), IoSlice::new(b"parts")],
        Some(&info),
        0,
    )
    .expect("sendv");
    assert_eq!(n, 9);
    let r = sctp::recv_msg(s.as_fd(), &mut buf, 0).expect("recv");
    assert_eq!(&buf[..r.len], b"two parts");
    assert!(r.eor);
    let ri = r.info.expect("rcvinfo");
    assert_eq!((ri.sid, ri.ssn, ri.ppid), (5, 1, 63));

    // A short buffer gets part of the message, without MSG_EOR.
    sctp::send_msg(c.as_fd(), &[IoSlice::new(b"0123456789")], Some(&info), 0).expect("send");
    let mut small = [0u8; 4];
    let r = sctp::recv_msg(s.as_fd(), &mut small, 0).expect("recv part");
    assert_eq!((r.len, r.eor), (4, false));
    assert_eq!(&small, b"0123");
    let r = sctp::recv_msg(s.as_fd(), &mut buf, 0).expect("recv rest");
    assert_eq!(&buf[..r.len], b"456789");
    assert!(r.eor);
}

#[test]
fn initmsg_streams_in_status() {
    need_sctp!();
    let ask = InitMsg {
        num_ostreams: 10,
        max_instreams: 10,
        ..Default::default()
    };
    let allow = InitMsg {
        num_ostreams: 20,
        max_instreams: 20,
        ..Default::default()
    };
    let (c, s) = pair(Some(ask), Some(allow), |_| {});
    let cs = sctp::status(c.as_fd()).expect("client SCTP_STATUS");
    let ss = sctp::status(s.as_fd()).expect("server SCTP_STATUS");
    // Each direction gets min(sender's OS, receiver's MIS).
    assert_eq!((cs.outstrms, cs.instrms), (10, 10), "client {cs:?}");
    assert_eq!((ss.outstrms, ss.instrms), (10, 10), "server {ss:?}");
    assert_eq!(
        cs.primary.addr,
        Some(local_addr(&s)),
        "client's primary path"
    );
    assert!(cs.fragmentation_point > 0);
    // The same path through SCTP_GET_PEER_ADDR_INFO: active, with a window.
    let p = sctp::peer_addr_info(c.as_fd(), &local_addr(&s)).expect("SCTP_GET_PEER_ADDR_INFO");
    assert_eq!(p.addr, Some(local_addr(&s)));
    assert_eq!(p.state, 2, "SCTP_ACTIVE: {p:?}");
    assert!(p.cwnd > 0 && p.rto > 0, "{p:?}");
    let nobody: std::net::SocketAddr = "192.0.2.1:9".parse().unwrap();
    assert!(
        sctp::peer_addr_info(c.as_fd(), &nobody).is_err(),
        "not a peer address"
    );

    // Asymmetric: the client offers 3 out and takes up to 7 in.
    let ask = InitMsg {
        num_ostreams: 3,
        max_instreams: 7,
        ..Default::default()
    };
    let (c, s) = pair(Some(ask), Some(allow), |_| {});
    let cs = sctp::status(c.as_fd()).expect("client SCTP_STATUS");
    let ss = sctp::status(s.as_fd()).expect("server SCTP_STATUS");
    assert_eq!((cs.outstrms, cs.instrms), (3, 7), "client {cs:?}");
    assert_eq!((ss.outstrms, ss.instrms), (7, 3), "server {ss:?}");
}

#[test]
fn bindx_add_shows_in_local_addrs() {
    need_sctp!();
    let first: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let s = SctpSocket::new(Domain::V4).expect("socket");
    s.bind(&first).expect("bind");
    let port = local_addr(&s).port();
    let extra: SocketAddr = format!("127.0.0.2:{port}").parse().unwrap();
    sctp::bindx_add(s.as_fd(), &[extra]).expect("bindx add 127.0.0.2");
    let addrs = sctp::local_addrs(s.as_fd()).expect("SCTP_GET_LOCAL_ADDRS");
    let want: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(addrs.contains(&want), "{addrs:?} lacks {want}");
    assert!(addrs.contains(&extra), "{addrs:?} lacks {extra}");

    // And removed again (the socket keeps 127.0.0.1).
    sctp::bindx_rem(s.as_fd(), &[extra]).expect("bindx rem 127.0.0.2");
    let addrs = sctp::local_addrs(s.as_fd()).expect("SCTP_GET_LOCAL_ADDRS");
    assert_eq!(addrs, vec![want]);
}

/// The next notification on `fd`, failing on data or after the timeout.
fn next_notification(s: &SctpSocket) -> Notification {
    let mut buf = [0u8; 512];
    let r = sctp::recv_msg(s.as_fd(), &mut buf, 0).expect("recv notification");
    assert!(r.notification, "expected a notification, got {r:?}");
    assert!(r.eor, "a whole notification");
    sctp::parse_notification(&buf[..r.len]).expect("parse notification")
}

#[test]
fn assoc_change_and_shutdown_notifications() {
    need_sctp!();
    let (c, s) = pair(None, None, |c| {
        sctp::subscribe(c.as_fd(), &[Event::AssocChange, Event::Shutdown], true)
            .expect("SCTP_EVENT");
    });
    match next_notification(&c) {
        Notification::AssocChange {
            state,
            outbound_streams,
            inbound_streams,
            ..
        } => {
            assert_eq!(state, SCTP_COMM_UP);
            assert!(outbound_streams > 0 && inbound_streams > 0);
        }
        n => panic!("expected COMM_UP, got {n:?}"),
    }

    // SHUT_WR on the server sends SHUTDOWN; the client hears of it, answers
    // with SHUTDOWN ACK (it has nothing left to send), so the association
    // completes its shutdown; then the client reads end of stream.
    // SAFETY: shutdown(2) on a descriptor `s` owns and keeps open.
    let rc = unsafe { libc::shutdown(s.as_fd().as_raw_fd(), libc::SHUT_WR) };
    assert_eq!(rc, 0, "shutdown: {}", std::io::Error::last_os_error());
    match next_notification(&c) {
        Notification::Shutdown { .. } => {}
        n => panic!("expected SHUTDOWN, got {n:?}"),
    }
    match next_notification(&c) {
        Notification::AssocChange { state, .. } => assert_eq!(state, SCTP_SHUTDOWN_COMP),
        n => panic!("expected SHUTDOWN_COMP, got {n:?}"),
    }
    let mut buf = [0u8; 64];
    let r = sctp::recv_msg(c.as_fd(), &mut buf, 0).expect("recv EOF");
    assert_eq!((r.len, r.notification), (0, false), "end of stream");
}

#[test]
fn message_larger_than_sndbuf_is_emsgsize() {
    need_sctp!();
    let (c, _s) = pair(None, None, |_| {});
    let sndbuf = socket2::SockRef::from(&c)
        .send_buffer_size()
        .expect("SO_SNDBUF");
    let big = vec![b'x'; sndbuf + 1];
    let e = sctp::send_msg(c.as_fd(), &[IoSlice::new(&big)], None, libc::MSG_DONTWAIT)
        .expect_err("a message larger than SO_SNDBUF");
    assert_eq!(e.errno, libc::EMSGSIZE, "{e}");
    assert_eq!(e.op, "sendmsg");

    // The association is still usable.
    let n = sctp::send_msg(c.as_fd(), &[IoSlice::new(b"ok")], None, 0).expect("send");
    assert_eq!(n, 2);
}

#[test]
fn connectx_to_a_multihomed_listener_and_default_sndinfo() {
    need_sctp!();
    let first: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let l = SctpSocket::new(Domain::V4).expect("socket");
    l.bind(&first).expect("bind");
    let port = local_addr(&l).port();
    let a1: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let a2: SocketAddr = format!("127.0.0.2:{port}").parse().unwrap();
    sctp::bindx_add(l.as_fd(), &[a2]).expect("bindx add 127.0.0.2");
    l.listen(8).expect("listen");

    let c = SctpSocket::new(Domain::V4).expect("client socket");
    sctp::set_nodelay(c.as_fd(), true).expect("SCTP_NODELAY");
    assert_eq!(
        c.connectx(&[]).map_err(|e| e.errno),
        Err(libc::EINVAL),
        "no addresses"
    );
    let id = c.connectx(&[a1, a2]).expect("sctp_connectx");
    assert!(id > 0, "association id {id}");
    let (s, _) = l.accept().expect("accept");
    set_recv_timeout(&s);
    let mut peers = sctp::peer_addrs(c.as_fd()).expect("SCTP_GET_PEER_ADDRS");
    peers.sort();
    assert_eq!(peers, vec![a1, a2], "both listener addresses are paths");

    // Writes without a cmsg take SCTP_DEFAULT_SNDINFO's stream and PPID.
    sctp::set_recvrcvinfo(s.as_fd(), true).expect("SCTP_RECVRCVINFO");
    let info = SndInfo {
        sid: 4,
        ppid: 63,
        ..Default::default()
    };
    sctp::set_default_sndinfo(c.as_fd(), &info).expect("SCTP_DEFAULT_SNDINFO");
    sctp::send_msg(c.as_fd(), &[IoSlice::new(b"default")], None, 0).expect("send");
    let mut buf = [0u8; 64];
    let r = sctp::recv_msg(s.as_fd(), &mut buf, 0).expect("recv");
    assert_eq!(&buf[..r.len], b"default");
    let ri = r.info.expect("rcvinfo");
    assert_eq!((ri.sid, ri.ppid), (4, 63));

    // Non-blocking receive with nothing queued: EAGAIN, typed.
    s.set_nonblocking(true).expect("O_NONBLOCK");
    let e = sctp::recv_msg(s.as_fd(), &mut buf, 0).expect_err("nothing queued");
    assert!(e.is_would_block(), "{e}");
    assert_eq!(e.op, "recvmsg");
}

/// Where a small message on stream 2, sent after eight 60 KB messages on
/// stream 1, arrives among them, with the given scheduler on the sender.
fn small_message_position(sched: sctp::StreamScheduler) -> usize {
    let init = InitMsg {
        num_ostreams: 4,
        max_instreams: 4,
        ..Default::default()
    };
    let (c, s) = pair(Some(init), Some(init), |c| {
        sctp::set_buffer(c.as_fd(), sctp::SocketBuffer::Send, 4 << 20).expect("SO_SNDBUF");
    });
    sctp::set_stream_scheduler(c.as_fd(), sched).expect("SCTP_STREAM_SCHEDULER");
    sctp::set_recvrcvinfo(s.as_fd(), true).expect("SCTP_RECVRCVINFO");
    let big = vec![7u8; 60_000];
    let on = |sid| SndInfo {
        sid,
        ..Default::default()
    };
    for _ in 0..8 {
        sctp::send_msg(c.as_fd(), &[IoSlice::new(&big)], Some(&on(1)), 0).expect("big send");
    }
    sctp::send_msg(c.as_fd(), &[IoSlice::new(b"small")], Some(&on(2)), 0).expect("small send");
    let mut buf = vec![0u8; 70_000];
    let mut whole = 0;
    for _ in 0..100 {
        let r = sctp::recv_msg(s.as_fd(), &mut buf, 0).expect("recv");
        if r.info.map(|i| i.sid) == Some(2) {
            return whole;
        }
        if r.eor {
            whole += 1;
        }
    }
    panic!("the small message never came");
}

#[test]
fn round_robin_scheduler_lets_a_small_message_pass_a_queue() {
    need_sctp!();
    // On a listener it applies to the associations it will accept.
    let (l, _) = listener(None);
    sctp::set_stream_scheduler(l.as_fd(), sctp::StreamScheduler::RoundRobin)
        .expect("SCTP_STREAM_SCHEDULER on a listener");
    let fcfs = small_message_position(sctp::StreamScheduler::FirstComeFirstServed);
    let rr = small_message_position(sctp::StreamScheduler::RoundRobin);
    assert_eq!(fcfs, 8, "first come, first served: after all eight");
    assert!(rr < fcfs, "round robin: after {rr} of eight");
}

/// Failover timers set on a listener are what its accepted associations
/// run with (read back on the server's end of the association), and a
/// fresh socket reports the kernel's defaults. Values are multiples of
/// 10 ms, exact at any HZ.
#[test]
fn timers_on_a_listener_reach_accepted_associations() {
    need_sctp!();
    let fresh = SctpSocket::new(Domain::V4).expect("socket");
    let defaults = sctp::timers(fresh.as_fd()).expect("timers of a fresh socket");
    let sysctl = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/net/sctp/{name}"))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
    };
    if let Some(v) = sysctl("rto_min") {
        assert_eq!(defaults.rto_min, Some(v), "{defaults:?}");
    }
    if let Some(v) = sysctl("path_max_retrans") {
        assert_eq!(
            defaults.path_max_retrans.map(u32::from),
            Some(v),
            "{defaults:?}"
        );
    }
    let want = sctp::Timers {
        rto_initial: Some(300),
        rto_min: Some(100),
        rto_max: Some(1000),
        hb_interval: Some(700),
        path_max_retrans: Some(1),
        assoc_max_retrans: Some(4),
    };
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let l = SctpSocket::new(Domain::V4).expect("socket");
    sctp::set_timers(l.as_fd(), &want).expect("set_timers on the listener");
    assert_eq!(sctp::timers(l.as_fd()).expect("listener timers"), want);
    l.bind(&any).expect("bind");
    l.listen(8).expect("listen");
    let addr = local_addr(&l);
    let c = SctpSocket::new(Domain::V4).expect("client socket");
    c.connect(&addr).expect("connect");
    let (s, _) = l.accept().expect("accept");
    let got = sctp::timers(s.as_fd()).expect("timers of the accepted association");
    assert_eq!(
        got, want,
        "the server's association inherits the listener's timers"
    );
    // The client kept the kernel's defaults.
    let theirs = sctp::timers(c.as_fd()).expect("client timers");
    assert_eq!(theirs.path_max_retrans, defaults.path_max_retrans);
    // Partial updates keep the other values; min above max is refused.
    let only_max = sctp::Timers {
        rto_max: Some(2000),
        ..Default::default()
    };
    sctp::set_timers(l.as_fd(), &only_max).expect("set rto_max alone");
    let now = sctp::timers(l.as_fd()).expect("listener timers");
    assert_eq!(
        (now.rto_min, now.rto_max, now.hb_interval),
        (Some(100), Some(2000), Some(700))
    );
    let bad = sctp::Timers {
        rto_min: Some(5000),
        ..Default::default()
    };
    let e = sctp::set_timers(l.as_fd(), &bad).unwrap_err();
    assert_eq!((e.op, e.errno), ("SCTP_RTOINFO", libc::EINVAL));
}

/// SCTP_DELAYED_SACK set on a socket before it connects is what its
/// association runs with: frequency 1 turns delayed SACK off (Linux then
/// reports delay 0, frequency 1); a delay and a frequency above 1 are kept.
/// A fresh socket reports the sysctl's delay and every second packet.
#[test]
fn delayed_sack_reaches_the_association() {
    need_sctp!();
    let fresh = SctpSocket::new(Domain::V4).expect("socket");
    let (delay, freq) = sctp::delayed_sack(fresh.as_fd()).expect("defaults");
    if let Some(ms) = std::fs::read_to_string("/proc/sys/net/sctp/sack_timeout")
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
    {
        assert_eq!(delay, ms);
    }
    assert_eq!(freq, 2, "RFC 4960: every second packet");
    let (c, _s) = pair(None, None, |c| {
        sctp::set_delayed_sack(c.as_fd(), 0, 1).expect("SCTP_DELAYED_SACK freq 1");
    });
    assert_eq!(
        sctp::delayed_sack(c.as_fd()).expect("after connect"),
        (0, 1)
    );
    let (c, _s) = pair(None, None, |c| {
        sctp::set_delayed_sack(c.as_fd(), 100, 4).expect("SCTP_DELAYED_SACK 100 ms, 4");
    });
    assert_eq!(
        sctp::delayed_sack(c.as_fd()).expect("after connect"),
        (100, 4)
    );
}
