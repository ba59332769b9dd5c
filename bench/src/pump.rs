//! The plain SCTP pump: what this kernel can move over one association
//! without httpd. The server sends the bytes a client asks for on stream 0
//! in messages of --msg bytes (mod_sctp's SCTPMaxMessageSize default) from
//! memory, then closes (SCTP SHUTDOWN); the client counts until the end.

use apr_sctp::sctp::{self, Domain, SctpSocket, SndInfo};
use std::io::IoSlice;
use std::os::fd::AsFd;
use std::time::Instant;

pub fn serve(o: &crate::cli::PumpServe) -> Result<(), String> {
    let (a, msg, sndbuf) = (o.addr, o.msg.max(1), o.sndbuf);
    let l = SctpSocket::new(Domain::of(&a)).map_err(|e| e.to_string())?;
    if sndbuf > 0 {
        // Inherited by accepted associations, as with httpd's listeners.
        socket2::SockRef::from(&l)
            .set_send_buffer_size(sndbuf)
            .map_err(|e| e.to_string())?;
    }
    l.bind(&a).map_err(|e| format!("bind {a}: {e}"))?;
    l.listen(16).map_err(|e| e.to_string())?;
    let data: Vec<u8> = (0..msg).map(|i| (i % 251) as u8).collect();
    let info = SndInfo {
        sid: 0,
        flags: 0,
        ppid: 0,
        context: 0,
    };
    loop {
        let (c, _) = l.accept().map_err(|e| e.to_string())?;
        let mut req = [0u8; 64];
        let Ok(r) = sctp::recv_msg(c.as_fd(), &mut req, 0) else {
            continue;
        };
        let want: u64 = std::str::from_utf8(&req[..r.len])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let mut left = want;
        while left > 0 {
            let n = left.min(msg as u64) as usize;
            if sctp::send_msg(c.as_fd(), &[IoSlice::new(&data[..n])], Some(&info), 0).is_err() {
                break;
            }
            left -= n as u64;
        }
        // Dropping c closes it: a graceful SHUTDOWN after the queued data.
    }
}

pub fn get(o: &crate::cli::PumpGet) -> Result<(), String> {
    let (a, want, sack_freq) = (o.addr, o.bytes, o.sack_freq);
    let t0 = Instant::now();
    let s = SctpSocket::new(Domain::of(&a)).map_err(|e| e.to_string())?;
    // The same receive buffer as sctp-http get.
    socket2::SockRef::from(&s)
        .set_recv_buffer_size(4 << 20)
        .ok();
    if sack_freq > 0 {
        sctp::set_delayed_sack(s.as_fd(), 0, sack_freq).map_err(|e| e.to_string())?;
    }
    s.connect(&a).map_err(|e| format!("connect {a}: {e}"))?;
    sctp::send_msg(
        s.as_fd(),
        &[IoSlice::new(want.to_string().as_bytes())],
        None,
        0,
    )
    .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0u64;
    loop {
        let r = sctp::recv_msg(s.as_fd(), &mut buf, 0).map_err(|e| e.to_string())?;
        if r.notification {
            continue;
        }
        if r.len == 0 {
            break;
        }
        got += r.len as u64;
    }
    println!(
        "{{\"bytes\":{got},\"secs\":{:.4}}}",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
