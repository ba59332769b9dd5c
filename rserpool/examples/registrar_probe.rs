//! Probes a real registrar with messages this crate encodes (see
//! `capture/crate.sh`):
//!
//! * `registrar_probe` prints the requests, hex, one association per
//!   word, its messages joined by `+` (the form `capture/rawclient.py`
//!   takes);
//! * `registrar_probe decode < raw.log` decodes the replies the client
//!   logged (`sent HEX got HEX|nothing`).

use std::net::IpAddr;

use rserpool::params::{Policy, PoolElement, PoolHandle, Transport, TransportUse, MAX_LOAD};
use rserpool::Message;

fn element(identifier: u32, policy: Policy, addresses: &[&str]) -> PoolElement {
    PoolElement {
        identifier,
        home_server: 0,
        registration_life: 30_000,
        user_transport: Transport::Sctp {
            port: 4000 + (identifier & 0xff) as u16,
            transport_use: TransportUse::DataOnly,
            addresses: addresses
                .iter()
                .map(|a| a.parse::<IpAddr>().unwrap())
                .collect(),
        },
        policy,
        asap_transport: None,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn load(percent: f64) -> u32 {
    (percent / 100.0 * f64::from(MAX_LOAD)) as u32
}

fn requests() -> Vec<Vec<u8>> {
    let two = ["192.168.77.1", "192.168.77.2"];
    let one = ["192.168.77.1"];
    let mut associations: Vec<Vec<Message>> = Vec::new();
    let policies = [
        (
            "LUDPool",
            Policy::LeastUsedDegradation {
                load: load(25.0),
                degradation: load(5.0),
            },
        ),
        (
            "PLUPool",
            Policy::PriorityLeastUsed {
                load: load(10.0),
                degradation: load(1.0),
            },
        ),
        ("RLUPool", Policy::RandomizedLeastUsed { load: load(50.0) }),
        ("WRandPool", Policy::WeightedRandom { weight: 9 }),
        ("WRRPool2", Policy::WeightedRoundRobin { weight: 4 }),
    ];
    for (i, (handle, policy)) in policies.iter().enumerate() {
        let id = 0xa0 + i as u32;
        let h = PoolHandle::from(*handle);
        associations.push(vec![
            Message::Registration {
                pool_handle: h.clone(),
                element: element(id, policy.clone(), &two),
            },
            Message::HandleResolution {
                pool_handle: h.clone(),
                items: Some(u32::MAX),
            },
            Message::Deregistration {
                pool_handle: h,
                identifier: id,
            },
        ]);
    }
    // Two round-robin PEs, three resolutions, a failure report between.
    let h = PoolHandle::from("TwoPool");
    associations.push(vec![
        Message::Registration {
            pool_handle: h.clone(),
            element: element(0xb1, Policy::RoundRobin, &one),
        },
        Message::Registration {
            pool_handle: h.clone(),
            element: element(0xb2, Policy::RoundRobin, &two),
        },
        Message::HandleResolution {
            pool_handle: h.clone(),
            items: Some(2),
        },
        Message::HandleResolution {
            pool_handle: h.clone(),
            items: None,
        },
        Message::EndpointUnreachable {
            pool_handle: h.clone(),
            identifier: 0xb1,
        },
        Message::HandleResolution {
            pool_handle: h,
            items: Some(5),
        },
    ]);
    let mut out: Vec<Vec<u8>> = Vec::new();
    for a in associations {
        let mut joined = Vec::new();
        for (i, m) in a.iter().enumerate() {
            if i > 0 {
                joined.push(b'+');
            }
            joined.extend_from_slice(hex(&m.to_bytes().unwrap()).as_bytes());
        }
        out.push(joined);
    }
    // A registration whose pool element carries an unknown parameter with
    // the "skip" action bits (0x8077): the registrar must skip it.
    let m = Message::Registration {
        pool_handle: PoolHandle::from("SkipPool"),
        element: element(0xc1, Policy::RoundRobin, &one),
    };
    let mut b = m.to_bytes().unwrap();
    let pe_at = 4 + 12; // message header, pool handle "SkipPool"
    b.extend_from_slice(&[0x80, 0x77, 0, 8, 1, 2, 3, 4]);
    let pe_len = u16::from_be_bytes([b[pe_at + 2], b[pe_at + 3]]) + 8;
    b[pe_at + 2..pe_at + 4].copy_from_slice(&pe_len.to_be_bytes());
    let len = b.len() as u16;
    b[2..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(Message::decode(&b), Ok(m));
    out.push(hex(&b).into_bytes());
    out
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("decode") {
        for line in std::io::stdin().lines() {
            let line = line.expect("stdin");
            let w: Vec<&str> = line.split_whitespace().collect();
            let [_, sent, _, got] = w[..] else { continue };
            let name = unhex(sent)
                .and_then(|b| Message::decode(&b).ok())
                .map(|m| m.name());
            println!("{}", name.unwrap_or("(not ASAP)"));
            if got != "nothing" {
                match unhex(got).map(|b| Message::decode(&b)) {
                    Some(r) => println!("  -> {r:?}"),
                    None => println!("  -> not hex: {got}"),
                }
            }
        }
        return;
    }
    let words: Vec<String> = requests()
        .into_iter()
        .map(|w| String::from_utf8(w).unwrap())
        .collect();
    println!("{}", words.join(" "));
}
