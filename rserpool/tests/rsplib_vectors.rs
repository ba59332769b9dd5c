//! ASAP messages captured between rsplib 3.4.4 (Debian bookworm's
//! rsplib-registrar, rsplib-tools, rsplib-services) programs: each decodes
//! to the message written out here, and encoding that message gives the
//! captured bytes back, byte for byte.
//!
//! How they were captured (README.md has the scripts' outline): inside the
//! SCTP VM (`ci/vm`), with 192.168.77.1/24 on lo, `dumpcap -i lo -f sctp`
//! recorded a run of `rspregistrar -identifier=0x5e5e0001` (ASAP on
//! 192.168.77.1:3863, endpoint keep-alives every 2 s), `rspserver -echo`
//! pool elements with fixed identifiers ($11111111 round robin re-registering
//! every 3 s; $22222222 `-policy=Priority:7` in the same pool, so rejected;
//! $33333333 `-poolhandle=LUPool -policy=LeastUsed`; $44444444
//! `-poolhandle=WRRPool -policy=WeightedRoundRobin:3`), `rspterminal` pool
//! users (EchoPool, then the unknown NoSuchPool), a small Python client
//! that sent hand-made requests over SCTP with PPID 11 to provoke the
//! registrar's errors, and finally `rspserver -calcapp` pool elements with
//! a `calcappclient` pool user that failed over from a stopped element
//! (cookies, cookie echo, endpoint unreachable). `tshark --disable-protocol
//! asap -Y 'sctp.data_payload_proto_id==11' -T fields -e data.data` printed
//! each ASAP payload; the frame numbers below are from that run.

use std::net::{IpAddr, Ipv4Addr};

use rserpool::asap::Message;
use rserpool::params::{
    CauseCode, OperationError, Policy, PoolElement, PoolHandle, Transport, TransportUse,
};
use rserpool::Error;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    assert_eq!(s.len() % 2, 0, "odd number of hex digits");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Decodes `bytes`, compares with `expected`, and re-encodes byte-exactly.
fn check(bytes: &str, expected: Message) {
    let b = hex(bytes);
    let m = Message::decode(&b).unwrap_or_else(|e| panic!("{bytes}: {e}"));
    assert_eq!(m, expected, "{bytes}");
    assert_eq!(m.to_bytes().unwrap(), b, "re-encoding {bytes}");
}

const PE_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 77, 1));
const REGISTRAR: u32 = 0x5e5e_0001;

fn ph(s: &str) -> PoolHandle {
    PoolHandle::from(s)
}

/// A pool element as rsplib's `rspserver` registers it: one SCTP address,
/// transport use "data plus control" (rsplib sets it whatever the service).
fn pe(identifier: u32, home_server: u32, life: u32, port: u16, policy: Policy) -> PoolElement {
    PoolElement {
        identifier,
        home_server,
        registration_life: life,
        user_transport: Transport::Sctp {
            port,
            transport_use: TransportUse::DataPlusControl,
            addresses: vec![PE_ADDR],
        },
        policy,
        asap_transport: None,
    }
}

fn echo_pe(home: u32) -> PoolElement {
    // rspserver's registration life is 3 x its re-registration interval.
    pe(0x1111_1111, home, 9000, 0x90b7, Policy::RoundRobin)
}

#[test]
fn registration_first_and_response() {
    // Frame 5: the PE's first registration, no home registrar yet.
    check(
        "01000038 0009000c 4563686f 506f6f6c
         000a0028 11111111 00000000 00002328
         00040010 90b70001 00010008 c0a84d01
         00080008 00000001",
        Message::Registration {
            pool_handle: ph("EchoPool"),
            element: echo_pe(0),
        },
    );
    // Frame 7.
    check(
        "03000018 0009000c 4563686f 506f6f6c 000e0008 11111111",
        Message::RegistrationResponse {
            reject: false,
            pool_handle: ph("EchoPool"),
            identifier: 0x1111_1111,
            error: None,
        },
    );
}

#[test]
fn re_registration_names_the_home_registrar() {
    // Frame 37: 3 s later, the same PE again, now with its home registrar.
    check(
        "01000038 0009000c 4563686f 506f6f6c
         000a0028 11111111 5e5e0001 00002328
         00040010 90b70001 00010008 c0a84d01
         00080008 00000001",
        Message::Registration {
            pool_handle: ph("EchoPool"),
            element: echo_pe(REGISTRAR),
        },
    );
}

#[test]
fn registrations_with_other_policies() {
    // Frame 17: weighted round robin, weight 3; a 7-byte pool handle.
    check(
        "0100003c 0009000b 57525250 6f6f6c00
         000a002c 44444444 00000000 00015f90
         00040010 84640001 00010008 c0a84d01
         0008000c 00000002 00000003",
        Message::Registration {
            pool_handle: ph("WRRPool"),
            element: pe(
                0x4444_4444,
                0,
                90_000,
                0x8464,
                Policy::WeightedRoundRobin { weight: 3 },
            ),
        },
    );
    // Frame 19.
    check(
        "03000018 0009000b 57525250 6f6f6c00 000e0008 44444444",
        Message::RegistrationResponse {
            reject: false,
            pool_handle: ph("WRRPool"),
            identifier: 0x4444_4444,
            error: None,
        },
    );
    // Frame 25: priority 7.
    check(
        "0100003c 0009000c 4563686f 506f6f6c
         000a002c 22222222 00000000 00015f90
         00040010 cc4d0001 00010008 c0a84d01
         0008000c 00000005 00000007",
        Message::Registration {
            pool_handle: ph("EchoPool"),
            element: pe(
                0x2222_2222,
                0,
                90_000,
                0xcc4d,
                Policy::Priority { priority: 7 },
            ),
        },
    );
    // Frame 31: least used, load 0; a 6-byte pool handle.
    check(
        "0100003c 0009000a 4c55506f 6f6c0000
         000a002c 33333333 00000000 00015f90
         00040010 ade80001 00010008 c0a84d01
         0008000c 40000001 00000000",
        Message::Registration {
            pool_handle: ph("LUPool"),
            element: pe(
                0x3333_3333,
                0,
                90_000,
                0xade8,
                Policy::LeastUsed { load: 0 },
            ),
        },
    );
}

#[test]
fn registration_rejected_for_inconsistent_policy() {
    // Frame 33: the priority PE in the round robin pool: R flag, cause 5.
    check(
        "03010020 0009000c 4563686f 506f6f6c 000e0008 22222222
         000c0008 00050004",
        Message::RegistrationResponse {
            reject: true,
            pool_handle: ph("EchoPool"),
            identifier: 0x2222_2222,
            error: Some(OperationError::new(CauseCode::InconsistentPoolingPolicy)),
        },
    );
}

#[test]
fn endpoint_keep_alive_and_ack() {
    // Frame 9: rsplib's keep-alive carries the PE identifier after the
    // pool handle; the H flag is clear.
    check(
        "0700001c 5e5e0001 0009000c 4563686f 506f6f6c 000e0008 11111111",
        Message::EndpointKeepAlive {
            home: false,
            server_id: REGISTRAR,
            pool_handle: ph("EchoPool"),
            identifier: Some(0x1111_1111),
        },
    );
    // Frame 11.
    check(
        "08000018 0009000c 4563686f 506f6f6c 000e0008 11111111",
        Message::EndpointKeepAliveAck {
            pool_handle: ph("EchoPool"),
            identifier: 0x1111_1111,
        },
    );
}

#[test]
fn handle_resolution_and_response() {
    // Frame 69: rspterminal asks for one PE (handle resolution option).
    check(
        "05000018 0009000c 4563686f 506f6f6c 803f0008 00000001",
        Message::HandleResolution {
            pool_handle: ph("EchoPool"),
            items: Some(1),
        },
    );
    // Frame 71: the pool's policy, then the PE.
    check(
        "06000040 0009000c 4563686f 506f6f6c
         00080008 00000001 000a0028 11111111
         5e5e0001 00002328 00040010 90b70001
         00010008 c0a84d01 00080008 00000001",
        Message::HandleResolutionResponse {
            pool_handle: ph("EchoPool"),
            policy: Some(Policy::RoundRobin),
            elements: vec![echo_pe(REGISTRAR)],
            error: None,
        },
    );
}

#[test]
fn handle_resolution_of_an_unknown_pool() {
    // Frames 146, 148: rspterminal -poolhandle=NoSuchPool.
    check(
        "0500001c 0009000e 4e6f5375 6368506f 6f6c0000 803f0008 00000001",
        Message::HandleResolution {
            pool_handle: ph("NoSuchPool"),
            items: Some(1),
        },
    );
    check(
        "0600001c 0009000e 4e6f5375 6368506f 6f6c0000 000c0008 00090004",
        Message::HandleResolutionResponse {
            pool_handle: ph("NoSuchPool"),
            policy: None,
            elements: vec![],
            error: Some(OperationError::new(CauseCode::UnknownPoolHandle)),
        },
    );
    // Frame 307: EchoPool after its only PE was killed.
    check(
        "06000018 0009000c 4563686f 506f6f6c 000c0008 00090004",
        Message::HandleResolutionResponse {
            pool_handle: ph("EchoPool"),
            policy: None,
            elements: vec![],
            error: Some(OperationError::new(CauseCode::UnknownPoolHandle)),
        },
    );
}

#[test]
fn deregistration_and_response() {
    // Frames 657, 663: PE $33333333 shut down with SIGINT.
    check(
        "02000018 0009000a 4c55506f 6f6c0000 000e0008 33333333",
        Message::Deregistration {
            pool_handle: ph("LUPool"),
            identifier: 0x3333_3333,
        },
    );
    check(
        "04000018 0009000a 4c55506f 6f6c0000 000e0008 33333333",
        Message::DeregistrationResponse {
            pool_handle: ph("LUPool"),
            identifier: 0x3333_3333,
            error: None,
        },
    );
    // Frame 252: rsplib answers the deregistration of an unknown PE with
    // success ("it seems to be already gone").
    check(
        "04000014 00090008 4e6f5070 000e0008 deadbeef",
        Message::DeregistrationResponse {
            pool_handle: ph("NoPp"),
            identifier: 0xdead_beef,
            error: None,
        },
    );
}

#[test]
fn stop_and_report_parameter_and_the_registrars_error() {
    // Frame 196 (hand-made): a handle resolution with an unknown parameter
    // 0x4042 whose action bits say "stop and report".
    let request = hex("05000018 0009000c 4563686f 506f6f6c 40420008 61626364");
    let err = Message::decode(&request).unwrap_err();
    assert_eq!(
        err,
        Error::UnrecognizedParameter {
            param_type: 0x4042,
            report: true,
            tlv: hex("40420008 61626364"),
        }
    );
    // Frame 198: rsplib's registrar answers with an ASAP Error carrying the
    // parameter in an Unrecognized Parameter cause; so would we.
    let reply = Message::Error(OperationError {
        causes: vec![err.report_cause().unwrap()],
    });
    check("0e000014 000c0010 0001000c 40420008 61626364", reply);
}

#[test]
fn rsplib_puts_its_own_error_numbers_on_the_wire() {
    // Frame 239 (hand-made): a registration with policy type 0x12345678,
    // which this crate keeps as an unknown policy...
    let request = hex("0100003c 0009000c 4563686f 506f6f6c
         000a002c 01020304 00000000 00007530
         00040010 12340000 00010008 0a000001
         0008000c 12345678 00000000");
    let m = Message::decode(&request).unwrap();
    let Message::Registration { element, .. } = &m else {
        panic!("{m:?}")
    };
    assert_eq!(
        element.policy,
        Policy::Other {
            policy_type: 0x1234_5678,
            data: vec![0; 4]
        }
    );
    assert_eq!(m.to_bytes().unwrap(), request);
    // ... and frame 241: rsplib answers with an ASAP Error whose cause is
    // its internal RSPERR_UNSUPPORTED_POOL_POLICY (0x100b).
    check(
        "0e00000c 000c0008 100b0004",
        Message::Error(OperationError::new(CauseCode::Other(0x100b))),
    );
}

#[test]
fn hand_made_registration_accepted_and_deregistered() {
    // Frames 261-267: a registration written by hand (as this crate
    // encodes it), accepted by rsplib, deregistered on the same
    // association.
    let mut element = pe(0x0102_0304, 0, 30_000, 0x1234, Policy::RoundRobin);
    element.user_transport = Transport::Sctp {
        port: 0x1234,
        transport_use: TransportUse::DataOnly,
        addresses: vec![PE_ADDR],
    };
    let reg = Message::Registration {
        pool_handle: ph("RawP"),
        element,
    };
    assert_eq!(
        reg.to_bytes().unwrap(),
        hex("01000034 00090008 52617750
             000a0028 01020304 00000000 00007530
             00040010 12340000 00010008 c0a84d01
             00080008 00000001")
    );
    check(
        "03000014 00090008 52617750 000e0008 01020304",
        Message::RegistrationResponse {
            reject: false,
            pool_handle: ph("RawP"),
            identifier: 0x0102_0304,
            error: None,
        },
    );
    check(
        "02000014 00090008 52617750 000e0008 01020304",
        Message::Deregistration {
            pool_handle: ph("RawP"),
            identifier: 0x0102_0304,
        },
    );
    check(
        "04000014 00090008 52617750 000e0008 01020304",
        Message::DeregistrationResponse {
            pool_handle: ph("RawP"),
            identifier: 0x0102_0304,
            error: None,
        },
    );
}

#[test]
fn unknown_message_type() {
    // Frame 218 (hand-made): type 0x0f. rsplib's registrar logs "unsupported
    // message type" and answers nothing; RFC 5352 wants an Unrecognized
    // Message error, which this crate can build.
    let b = hex("0f000004");
    assert_eq!(Message::decode(&b), Err(Error::UnknownMessageType(0x0f)));
    let reply = rserpool::asap::unrecognized_message_error(&b);
    assert_eq!(
        reply.to_bytes().unwrap(),
        hex("0e000010 000c000c 00020008 0f000004")
    );
}

// The CalcApp run (a second capture, its own frame numbers): pool elements
// $55555555 and $66666666 (`rspserver -calcapp -capcapacity=20
// -capcookiemaxtime=1`) under registrar $5e5e0002, and `calcappclient`
// with 1 s session keep-alives; $55555555 was stopped (SIGSTOP) mid-job.

#[test]
fn cookie_from_the_pool_element() {
    // Frame 25: PE -> PU on their own association (PPID 11): the CalcApp
    // state (job 1, 0x4c calculations, 0x14 done) as an opaque cookie.
    check(
        "0b00001c 000d0018 00000001 00000000 0000004c 00000000 00000014",
        Message::Cookie(hex("00000001 00000000 0000004c 00000000 00000014")),
    );
}

#[test]
fn endpoint_unreachable_then_cookie_echo_to_the_next_pool_element() {
    // Frame 145: the PU's session keep-alive to $55555555 timed out.
    check(
        "0900001c 0009000f 43616c63 41707050 6f6f6c00 000e0008 55555555",
        Message::EndpointUnreachable {
            pool_handle: ph("CalcAppPool"),
            identifier: 0x5555_5555,
        },
    );
    // Frame 179: PU -> $66666666, the last cookie of the failed PE.
    check(
        "0c00001c 000d0018 00000004 00000000 0000023b 00000000 00000078",
        Message::CookieEcho(hex("00000004 00000000 0000023b 00000000 00000078")),
    );
    // Frame 188: the new PE carries on from there.
    check(
        "0b00001c 000d0018 00000004 00000000 0000023b 00000000 0000008c",
        Message::Cookie(hex("00000004 00000000 0000023b 00000000 0000008c")),
    );
}

// A third run: requests encoded by this crate (a scratch program printed
// them, the Python client sent them, one association per pool) to
// `rspregistrar -identifier=0x5e5e0003`, with 192.168.77.1 and
// 192.168.77.2 on lo. The registrar accepted every one: registrations with
// least used with degradation, priority least used, randomized least used,
// weighted random and weighted round robin, a two-address SCTP transport,
// a pool element carrying an unknown "skip" parameter (0x8077), handle
// resolutions with and without the handle resolution option. The replies
// below are its bytes (from the client's log and the capture).

fn two_address_pe(identifier: u32, port: u16, policy: Policy) -> PoolElement {
    PoolElement {
        identifier,
        home_server: 0x5e5e_0003,
        registration_life: 30_000,
        user_transport: Transport::Sctp {
            port,
            transport_use: TransportUse::DataOnly,
            addresses: vec![PE_ADDR, IpAddr::V4(Ipv4Addr::new(192, 168, 77, 2))],
        },
        policy,
        asap_transport: None,
    }
}

#[test]
fn handle_resolution_response_with_load_and_degradation() {
    let policy = Policy::LeastUsedDegradation {
        load: 0x3fff_ffff,
        degradation: 0x0ccc_cccc,
    };
    check(
        "06000058 0009000b 4c554450 6f6f6c00
         00080010 40000002 3fffffff 0ccccccc
         000a0038 000000a0 5e5e0003 00007530
         00040018 10400000 00010008 c0a84d01
         00010008 c0a84d02 00080010 40000002
         3fffffff 0ccccccc",
        Message::HandleResolutionResponse {
            pool_handle: ph("LUDPool"),
            policy: Some(policy.clone()),
            elements: vec![two_address_pe(0xa0, 4160, policy)],
            error: None,
        },
    );
}

#[test]
fn registrar_round_robin_matches_pool_select() {
    // Two round-robin PEs ($b1 one address, $b2 two) in TwoPool, three
    // handle resolutions in a row (items 2, none, 5; an Endpoint
    // Unreachable for $b1 between the second and third, which one report
    // does not act on): the registrar rotates its list by one each time.
    let mut b1 = two_address_pe(0xb1, 4177, Policy::RoundRobin);
    b1.user_transport = Transport::Sctp {
        port: 4177,
        transport_use: TransportUse::DataOnly,
        addresses: vec![PE_ADDR],
    };
    let b2 = two_address_pe(0xb2, 4178, Policy::RoundRobin);
    let hrr = |elements: Vec<PoolElement>| Message::HandleResolutionResponse {
        pool_handle: ph("TwoPool"),
        policy: Some(Policy::RoundRobin),
        elements,
        error: None,
    };
    let first = "06000070 0009000b 54776f50 6f6f6c00
         00080008 00000001 000a0028 000000b1
         5e5e0003 00007530 00040010 10510000
         00010008 c0a84d01 00080008 00000001
         000a0030 000000b2 5e5e0003 00007530
         00040018 10520000 00010008 c0a84d01
         00010008 c0a84d02 00080008 00000001";
    let second = "06000070 0009000b 54776f50 6f6f6c00
         00080008 00000001 000a0030 000000b2
         5e5e0003 00007530 00040018 10520000
         00010008 c0a84d01 00010008 c0a84d02
         00080008 00000001 000a0028 000000b1
         5e5e0003 00007530 00040010 10510000
         00010008 c0a84d01 00080008 00000001";
    check(first, hrr(vec![b1.clone(), b2.clone()]));
    check(second, hrr(vec![b2.clone(), b1.clone()]));
    // The third answer is the first again. rserpool::Pool, fed the same
    // registrations, answers the same three resolutions the same way.
    let mut pool = rserpool::Pool::new();
    pool.insert(b1).unwrap();
    pool.insert(b2).unwrap();
    let mut rng = rserpool::XorShift64::new(1);
    assert_eq!(pool.select(2, &mut rng), [0xb1, 0xb2]);
    assert_eq!(pool.select(3, &mut rng), [0xb2, 0xb1]);
    assert_eq!(pool.select(5, &mut rng), [0xb1, 0xb2]);
}
