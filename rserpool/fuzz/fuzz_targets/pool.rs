//! A pool driven by arbitrary operations: selections return distinct
//! elements that are in the pool, never more than asked for.
#![no_main]
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use rserpool::params::{Policy, PoolElement, Transport, TransportUse};
use rserpool::{Pool, XorShift64};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let kind = data[0] % 9;
    let mut rng = XorShift64::new(u64::from(data[1]) + 1);
    let mut pool = Pool::new();
    let mut present = BTreeSet::new();
    for op in data[2..].chunks(3) {
        let id = u32::from(op[0] % 8);
        let v = u32::from(*op.get(1).unwrap_or(&0)) << 24;
        match op.get(2).copied().unwrap_or(0) % 3 {
            0 => {
                let policy = match kind {
                    0 => Policy::RoundRobin,
                    1 => Policy::WeightedRoundRobin { weight: v >> 28 },
                    2 => Policy::Random,
                    3 => Policy::WeightedRandom { weight: v >> 24 },
                    4 => Policy::Priority { priority: v },
                    5 => Policy::LeastUsed { load: v },
                    6 => Policy::LeastUsedDegradation {
                        load: v,
                        degradation: v / 3,
                    },
                    7 => Policy::PriorityLeastUsed {
                        load: v,
                        degradation: !v,
                    },
                    _ => Policy::RandomizedLeastUsed { load: v },
                };
                let e = PoolElement {
                    identifier: id,
                    home_server: 0,
                    registration_life: 1000,
                    user_transport: Transport::Sctp {
                        port: 1,
                        transport_use: TransportUse::DataOnly,
                        addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
                    },
                    policy,
                    asap_transport: None,
                };
                pool.insert(e).expect("one policy type");
                present.insert(id);
            }
            1 => {
                assert_eq!(pool.remove(id).is_some(), present.remove(&id));
            }
            _ => {
                let n = (op[0] >> 4) as usize;
                let got = pool.select_advancing(n, usize::from(op[0] & 3), &mut rng);
                let set: BTreeSet<u32> = got.iter().copied().collect();
                assert_eq!(set.len(), got.len());
                assert!(got.len() <= n);
                assert!(set.is_subset(&present));
            }
        }
    }
});
