//! Seeded random-input tests (the fuzz targets in `fuzz/` run the same
//! properties under libFuzzer):
//!
//! * decoding arbitrary bytes, and mutations of valid messages, never
//!   panics;
//! * whatever decodes re-encodes, decodes to the same message, and the
//!   re-encoding is stable (encode . decode . encode = encode);
//! * randomly generated messages survive encode then decode;
//! * a pool under random insertions, removals and selections only ever
//!   selects distinct present elements.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rserpool::asap::Message;
use rserpool::params::{
    CauseCode, ErrorCause, OperationError, Parameter, Policy, PoolElement, PoolHandle, Transport,
    TransportUse,
};
use rserpool::{Pool, Rng, XorShift64};

fn check_message(input: &[u8]) {
    let Ok(d) = Message::decode_reporting(input) else {
        return;
    };
    let m = d.message;
    let b = m
        .to_bytes()
        .unwrap_or_else(|e| panic!("{m:?} decoded from {input:02x?} does not encode: {e}"));
    assert_eq!(Message::decode(&b).as_ref(), Ok(&m), "{input:02x?}");
    assert_eq!(Message::decode(&b).unwrap().to_bytes().unwrap(), b);
    // What was skipped and reported came from the input.
    let reported: usize = d.unrecognized.iter().map(Vec::len).sum();
    assert!(reported <= input.len());
}

fn check_parameter(input: &[u8]) {
    let mut report = Vec::new();
    let Ok((p, used)) = Parameter::decode(input, &mut report) else {
        return;
    };
    assert!(used <= input.len());
    let mut b = Vec::new();
    p.encode(&mut b)
        .unwrap_or_else(|e| panic!("{p:?} decoded from {input:02x?} does not encode: {e}"));
    let mut r2 = Vec::new();
    assert_eq!(Parameter::decode(&b, &mut r2).map(|(p, _)| p), Ok(p));
}

fn bytes(rng: &mut XorShift64, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

fn pick<T: Clone>(rng: &mut XorShift64, v: &[T]) -> T {
    v[rng.below(v.len() as u64) as usize].clone()
}

fn addr(rng: &mut XorShift64) -> IpAddr {
    if rng.below(3) == 0 {
        IpAddr::V6(Ipv6Addr::from(
            rng.next_u64() as u128 | ((rng.next_u64() as u128) << 64),
        ))
    } else {
        IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32))
    }
}

fn transport(rng: &mut XorShift64) -> Transport {
    let port = rng.next_u64() as u16;
    let tu = pick(
        rng,
        &[TransportUse::DataOnly, TransportUse::DataPlusControl],
    );
    match rng.below(5) {
        0 => Transport::Sctp {
            port,
            transport_use: tu,
            addresses: (0..1 + rng.below(4)).map(|_| addr(rng)).collect(),
        },
        1 => Transport::Tcp {
            port,
            transport_use: tu,
            address: addr(rng),
        },
        2 => Transport::Udp {
            port,
            address: addr(rng),
        },
        3 => Transport::UdpLite {
            port,
            address: addr(rng),
        },
        _ => Transport::Dccp {
            port,
            service_code: rng.next_u64() as u32,
            address: addr(rng),
        },
    }
}

fn policy(rng: &mut XorShift64) -> Policy {
    let v = |rng: &mut XorShift64| rng.next_u64() as u32;
    match rng.below(17) {
        0 => Policy::RoundRobin,
        1 => Policy::WeightedRoundRobin { weight: v(rng) },
        2 => Policy::Random,
        3 => Policy::WeightedRandom { weight: v(rng) },
        4 => Policy::Priority { priority: v(rng) },
        5 => Policy::LeastUsed { load: v(rng) },
        6 => Policy::LeastUsedDegradation {
            load: v(rng),
            degradation: v(rng),
        },
        7 => Policy::PriorityLeastUsed {
            load: v(rng),
            degradation: v(rng),
        },
        8 => Policy::RandomizedLeastUsed { load: v(rng) },
        9 => Policy::RandomizedPriorityLeastUsed {
            load: v(rng),
            degradation: v(rng),
        },
        10 => Policy::RandomizedLeastUsedDegradation {
            load: v(rng),
            degradation: v(rng),
        },
        11 => Policy::PriorityLeastUsedDegradation {
            load: v(rng),
            degradation: v(rng),
        },
        12 => Policy::RandomizedPriorityLeastUsedDegradation {
            load: v(rng),
            degradation: v(rng),
        },
        13 => Policy::WeightedRandomDpf {
            weight: v(rng),
            weight_dpf: v(rng),
            distance: v(rng),
        },
        14 => Policy::LeastUsedDpf {
            load: v(rng),
            load_dpf: v(rng),
            distance: v(rng),
        },
        15 => Policy::LeastUsedDegradationDpf {
            load: v(rng),
            degradation: v(rng),
            load_dpf: v(rng),
            distance: v(rng),
        },
        _ => Policy::Other {
            policy_type: 0x7000_0000 | v(rng),
            data: {
                let n = rng.below(9) as usize;
                bytes(rng, n)
            },
        },
    }
}

fn handle(rng: &mut XorShift64) -> PoolHandle {
    let n = 1 + rng.below(20) as usize;
    PoolHandle::new(bytes(rng, n)).unwrap()
}

fn element(rng: &mut XorShift64) -> PoolElement {
    PoolElement {
        identifier: rng.next_u64() as u32,
        home_server: rng.next_u64() as u32,
        registration_life: rng.next_u64() as u32,
        user_transport: transport(rng),
        policy: policy(rng),
        asap_transport: (rng.below(4) == 0).then(|| transport(rng)),
    }
}

fn op_error(rng: &mut XorShift64) -> OperationError {
    OperationError {
        causes: (0..1 + rng.below(3))
            .map(|_| ErrorCause {
                code: CauseCode::from_u16(rng.next_u64() as u16 % 14),
                info: {
                    let n = rng.below(11) as usize;
                    bytes(rng, n)
                },
            })
            .collect(),
    }
}

fn message(rng: &mut XorShift64) -> Message {
    let id = rng.next_u64() as u32;
    let opt_err = |rng: &mut XorShift64| (rng.below(2) == 0).then(|| op_error(rng));
    match rng.below(14) {
        0 => Message::Registration {
            pool_handle: handle(rng),
            element: element(rng),
        },
        1 => Message::Deregistration {
            pool_handle: handle(rng),
            identifier: id,
        },
        2 => Message::RegistrationResponse {
            reject: rng.below(2) == 0,
            pool_handle: handle(rng),
            identifier: id,
            error: opt_err(rng),
        },
        3 => Message::DeregistrationResponse {
            pool_handle: handle(rng),
            identifier: id,
            error: opt_err(rng),
        },
        4 => Message::HandleResolution {
            pool_handle: handle(rng),
            items: (rng.below(2) == 0).then_some(id),
        },
        5 => Message::HandleResolutionResponse {
            pool_handle: handle(rng),
            policy: (rng.below(2) == 0).then(|| policy(rng)),
            elements: (0..rng.below(4)).map(|_| element(rng)).collect(),
            error: opt_err(rng),
        },
        6 => Message::EndpointKeepAlive {
            home: rng.below(2) == 0,
            server_id: rng.next_u64() as u32,
            pool_handle: handle(rng),
            identifier: (rng.below(2) == 0).then_some(id),
        },
        7 => Message::EndpointKeepAliveAck {
            pool_handle: handle(rng),
            identifier: id,
        },
        8 => Message::EndpointUnreachable {
            pool_handle: handle(rng),
            identifier: id,
        },
        9 => Message::ServerAnnounce {
            server_id: id,
            transports: (0..rng.below(3)).map(|_| transport(rng)).collect(),
        },
        10 => Message::Cookie({
            let n = 1 + rng.below(40) as usize;
            bytes(rng, n)
        }),
        11 => Message::CookieEcho({
            let n = 1 + rng.below(40) as usize;
            bytes(rng, n)
        }),
        12 => Message::BusinessCard {
            pool_handle: handle(rng),
            policy: (rng.below(2) == 0).then(|| policy(rng)),
            elements: (0..1 + rng.below(3)).map(|_| element(rng)).collect(),
        },
        _ => Message::Error(op_error(rng)),
    }
}

#[test]
fn generated_messages_round_trip() {
    let mut rng = XorShift64::new(0x5eed_0001);
    for _ in 0..5_000 {
        let m = message(&mut rng);
        let b = m.to_bytes().unwrap_or_else(|e| panic!("{m:?}: {e}"));
        assert_eq!(b.len() % 4, 0);
        assert_eq!(Message::decode(&b), Ok(m));
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift64::new(0x5eed_0002);
    for i in 0..100_000 {
        let n = rng.below(120) as usize;
        let mut b = bytes(&mut rng, n);
        if i % 2 == 0 && b.len() >= 4 {
            // Mostly plausible headers: a known type and the right length.
            b[0] = 1 + rng.below(15) as u8;
            let len = b.len() as u16;
            b[2..4].copy_from_slice(&len.to_be_bytes());
        }
        check_message(&b);
        check_parameter(&b);
    }
}

#[test]
fn mutated_messages_never_panic_and_what_decodes_round_trips() {
    let mut rng = XorShift64::new(0x5eed_0003);
    let corpus: Vec<Vec<u8>> = (0..200)
        .map(|_| message(&mut rng).to_bytes().unwrap())
        .collect();
    let mut accepted = 0;
    for _ in 0..100_000 {
        let mut b = pick(&mut rng, &corpus);
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(b.len() as u64) as usize;
            match rng.below(4) {
                0 => b[at] = rng.next_u64() as u8,
                1 => b[at] ^= 1 << rng.below(8),
                2 => {
                    let to = rng.below(b.len() as u64 + 1) as usize;
                    b.truncate(to.max(1));
                }
                _ => {
                    // Rewrite a 16-bit field (a length or a type, often).
                    let at = at & !1;
                    if at + 1 < b.len() {
                        let v = pick(
                            &mut rng,
                            &[0u16, 3, 4, 5, 8, 0x8000, 0xc000, 0x4000, 0xffff],
                        );
                        b[at..at + 2].copy_from_slice(&v.to_be_bytes());
                    }
                }
            }
            if b.is_empty() {
                break;
            }
        }
        if Message::decode(&b).is_ok() {
            accepted += 1;
        }
        check_message(&b);
        if b.len() > 4 {
            check_parameter(&b[4..]);
        }
    }
    // The mutations keep a fair share decodable, so the round trip is
    // exercised, not only the error paths.
    assert!(accepted > 5_000, "{accepted}");
}

#[test]
fn pools_select_distinct_present_elements() {
    let mut rng = XorShift64::new(0x5eed_0004);
    for _ in 0..300 {
        let mut pool = Pool::new();
        let kind = policy(&mut rng);
        let mut present = std::collections::BTreeSet::new();
        for _ in 0..200 {
            match rng.below(4) {
                0 | 1 => {
                    let id = rng.below(12) as u32;
                    let mut e = element(&mut rng);
                    e.identifier = id;
                    // Same policy type as the pool, new values.
                    e.policy = if let Policy::Other { .. } = kind {
                        kind.clone()
                    } else {
                        let mut p = policy(&mut rng);
                        while p.policy_type() != kind.policy_type() {
                            p = policy(&mut rng);
                        }
                        p
                    };
                    pool.insert(e).unwrap();
                    present.insert(id);
                }
                2 => {
                    let id = rng.below(12) as u32;
                    assert_eq!(pool.remove(id).is_some(), present.remove(&id));
                }
                _ => {
                    let n = rng.below(6) as usize;
                    let adv = rng.below(4) as usize;
                    let got = pool.select_advancing(n, adv, &mut rng);
                    assert!(got.len() <= n.min(present.len()));
                    let set: std::collections::BTreeSet<u32> = got.iter().copied().collect();
                    assert_eq!(set.len(), got.len(), "distinct");
                    assert!(set.is_subset(&present));
                }
            }
            assert_eq!(pool.len(), present.len());
        }
    }
}
