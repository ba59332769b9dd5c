//! `sctp-bench adu-run`: the ADU service (apr_sctp::adu) on the
//! bench's shaped path, both ends in one process (the receiver's thread in
//! the server's network namespace, the sender's in the client's), so one
//! clock times every ADU from its send() to its arrival.
//!
//!   sctp-bench adu-run --case priority|realtime --variant V --loss PCT
//!                      --rep N --server-ns NS --client-ns NS --server ADDR:PORT
//!
//! * priority: 200 bulk ADUs of 4 KB (normal priority; 800 KB, a third of
//!   a second at 20 Mbit/s, all queued at once), then 20 late ADUs of 1 KB
//!   sent right after them, of high priority (variant `high`) or normal
//!   (`normal`). The record has the late ADUs' and the bulk ADUs' latencies.
//! * realtime: 400 ADUs of 1 KB, one every 10 ms (0.8 Mbit/s), sent
//!   `reliable-ordered`, `reliable-unordered` or `lifetime-ordered`
//!   (abandoned 150 ms after the send; ordered). The record has the
//!   latencies of those that arrived, how many arrived and what the sender
//!   counted abandoned.
//!
//! Prints one JSON record {"s":"adu", ...}; a wrong ADU (bytes not as
//! sent, one twice) prints {"s":"fail"} and exits 1.

use apr_sctp::adu::{self, AduOptions, AduSocket, Priority, Received, Reliability};
use apr_sctp::sctp::{Domain, SctpSocket};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a case sends: (id, bytes, options, pause before the send).
struct Plan {
    adus: Vec<(u32, usize, AduOptions, Duration)>,
    /// Ids from here on are the "late" ones (priority case).
    late_from: u32,
}

const BULK: u32 = 200;
const LATE: u32 = 20;
const REALTIME: u32 = 400;
const LIFETIME: Duration = Duration::from_millis(150);

fn plan(case: &str, variant: &str) -> Result<Plan, String> {
    match (case, variant) {
        ("priority", "high" | "normal") => {
            let bulk = AduOptions::default();
            let late = AduOptions {
                priority: if variant == "high" {
                    Priority::High
                } else {
                    Priority::Normal
                },
                ..AduOptions::default()
            };
            let mut adus: Vec<_> = (0..BULK).map(|i| (i, 4096, bulk, Duration::ZERO)).collect();
            adus.extend((BULK..BULK + LATE).map(|i| (i, 1000, late, Duration::ZERO)));
            Ok(Plan {
                adus,
                late_from: BULK,
            })
        }
        ("realtime", "reliable-ordered" | "reliable-unordered" | "lifetime-ordered") => {
            let opts = AduOptions {
                reliability: if variant == "lifetime-ordered" {
                    Reliability::Lifetime(LIFETIME)
                } else {
                    Reliability::Reliable
                },
                ordered: variant != "reliable-unordered",
                priority: Priority::Normal,
            };
            Ok(Plan {
                adus: (0..REALTIME)
                    .map(|i| (i, 1000, opts, Duration::from_millis(10)))
                    .collect(),
                late_from: REALTIME,
            })
        }
        _ => Err(format!("adu-run: no variant {variant:?} of case {case:?}")),
    }
}

/// An ADU's bytes: its id, then a pattern derived from it.
fn adu_bytes(id: u32, len: usize) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend((4..len).map(|i| (id as usize).wrapping_mul(31).wrapping_add(i) as u8));
    v
}

/// Moves this thread into network namespace `ns` (ip netns's name).
fn enter_netns(ns: &str) -> Result<(), String> {
    let f = std::fs::File::open(format!("/var/run/netns/{ns}"))
        .map_err(|e| format!("netns {ns}: {e}"))?;
    // SAFETY: setns(2) on an open namespace file; it changes only this
    // thread's network namespace.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(format!("setns {ns}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

type Arrivals = Arc<Mutex<HashMap<u32, Instant>>>;

/// The receiver: accepts one association on `addr` in `ns` and records when
/// each ADU arrived, until the association closes.
fn receiver(
    ns: String,
    addr: SocketAddr,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
    arrivals: Arrivals,
) -> Result<u64, String> {
    let listen = || -> Result<SctpSocket, String> {
        enter_netns(&ns)?;
        let l = SctpSocket::new(Domain::of(&addr)).map_err(|e| e.to_string())?;
        adu::prepare(&l).map_err(|e| e.to_string())?;
        l.bind(&addr).map_err(|e| e.to_string())?;
        l.listen(1).map_err(|e| e.to_string())?;
        Ok(l)
    };
    let l = match listen() {
        Ok(l) => {
            let _ = ready.send(Ok(()));
            l
        }
        Err(e) => {
            let _ = ready.send(Err(e.clone()));
            return Err(e);
        }
    };
    let (s, _) = l.accept().map_err(|e| e.to_string())?;
    socket2::SockRef::from(&s)
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let s = AduSocket::new(s).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut dropped_before = 0u64;
    loop {
        match s.recv(&mut buf).map_err(|e| format!("receive: {e}"))? {
            Received::Adu {
                len,
                complete,
                dropped_before: d,
                ..
            } => {
                let now = Instant::now();
                if !complete || len < 4 {
                    return Err(format!("an ADU of {len} bytes arrived in part"));
                }
                let id = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
                if buf[..len] != adu_bytes(id, len)[..] {
                    return Err(format!("ADU {id}: bytes not as sent"));
                }
                if arrivals.lock().unwrap().insert(id, now).is_some() {
                    return Err(format!("ADU {id} arrived twice"));
                }
                dropped_before += u64::from(d);
            }
            Received::Closed => return Ok(dropped_before),
            Received::Dropped { .. } | Received::Abandoned { .. } => {}
        }
    }
}

/// `sctp-bench adu-run ...`: see the module docs.
pub fn run(o: &crate::cli::AduRun) -> Result<serde_json::Value, String> {
    let (case, variant, loss, rep, addr) =
        (o.case.clone(), o.variant.clone(), o.loss, o.rep, o.server);
    let plan = plan(&case, &variant)?;
    let (n, late_from) = (plan.adus.len() as u32, plan.late_from);
    let arrivals: Arrivals = Arc::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let recv = {
        let (ns, arrivals) = (o.server_ns.clone(), arrivals.clone());
        std::thread::spawn(move || receiver(ns, addr, tx, arrivals))
    };
    rx.recv()
        .map_err(|_| "receiver thread ended".to_string())??;
    let client_ns = o.client_ns.clone();
    let sender = std::thread::spawn(move || -> Result<(Vec<Instant>, (u64, u64)), String> {
        enter_netns(&client_ns)?;
        let c = SctpSocket::new(Domain::of(&addr)).map_err(|e| e.to_string())?;
        adu::prepare(&c).map_err(|e| e.to_string())?;
        c.connect(&addr)
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let c = AduSocket::new(c).map_err(|e| e.to_string())?;
        let mut sent = Vec::with_capacity(plan.adus.len());
        for (id, len, opts, pause) in &plan.adus {
            std::thread::sleep(*pause);
            let data = adu_bytes(*id, *len);
            sent.push(Instant::now());
            c.send(&data, opts, *id)
                .map_err(|e| format!("send ADU {id}: {e}"))?;
        }
        // Everything sent is delivered or abandoned before the close
        // completes; the counters are read while the association lives.
        std::thread::sleep(Duration::from_secs(2));
        let abandoned = c.abandoned().map_err(|e| e.to_string())?;
        Ok((sent, abandoned))
    });
    let (sent, (unsent, abandoned_sent)) = sender
        .join()
        .map_err(|_| "sender thread panicked".to_string())??;
    let dropped_before = recv
        .join()
        .map_err(|_| "receiver thread panicked".to_string())??;
    let arrivals = arrivals.lock().unwrap().clone();
    let lat = |ids: std::ops::Range<u32>| -> Vec<f64> {
        ids.filter_map(|i| {
            arrivals
                .get(&i)
                .map(|t| t.duration_since(sent[i as usize]).as_secs_f64() * 1000.0)
        })
        .collect()
    };
    let mut rec = json!({
        "s": "adu", "case": case, "variant": variant, "loss": loss, "rep": rep,
        "sent": n, "delivered": arrivals.len(),
        "abandoned_unsent": unsent, "abandoned_sent": abandoned_sent,
        "dropped_before": dropped_before,
    });
    if case == "priority" {
        rec["late_ms"] = json!(lat(late_from..n));
        rec["bulk_ms"] = json!(lat(0..late_from));
        // Bulk ADUs that arrived after the last late one.
        let last_late = (late_from..n).filter_map(|i| arrivals.get(&i)).max();
        rec["bulk_after_late"] = json!(last_late.map_or(0, |t| (0..late_from)
            .filter(|i| arrivals.get(i).is_some_and(|a| a > t))
            .count()));
    } else {
        rec["lat_ms"] = json!(lat(0..n));
    }
    let reliable = !(case == "realtime" && variant == "lifetime-ordered");
    if reliable && arrivals.len() != n as usize {
        return Err(format!(
            "{case}/{variant}: {} of {n} reliable ADUs arrived",
            arrivals.len()
        ));
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        let p = plan("priority", "high").unwrap();
        assert_eq!(p.adus.len(), 220);
        assert_eq!(p.late_from, 200);
        assert_eq!(p.adus[200].2.priority, Priority::High);
        assert_eq!(p.adus[0].2.priority, Priority::Normal);
        let p = plan("realtime", "lifetime-ordered").unwrap();
        assert_eq!(p.adus.len(), 400);
        assert!(p.adus[0].2.ordered);
        assert_eq!(p.adus[0].2.reliability, Reliability::Lifetime(LIFETIME));
        assert!(
            !plan("realtime", "reliable-unordered").unwrap().adus[0]
                .2
                .ordered
        );
        assert!(plan("priority", "urgent").is_err());
    }

    #[test]
    fn adu_bytes_carry_their_id() {
        let b = adu_bytes(258, 10);
        assert_eq!(&b[..4], &[0, 0, 1, 2]);
        assert_eq!(b.len(), 10);
        assert_ne!(adu_bytes(1, 10), adu_bytes(2, 10));
    }
}
