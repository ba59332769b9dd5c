//! The Linux SCTP socket API's constants and structures (`<linux/sctp.h>`,
//! RFC 6458).
//!
//! From libc (its `linux_uapi` bindings of the kernel header): the socket
//! options `SCTP_RTOINFO` ... `SCTP_DEFAULT_SNDINFO`, the cmsg types
//! `SCTP_SNDINFO`, `SCTP_RCVINFO`, `SCTP_PRINFO`, `MSG_NOTIFICATION`,
//! `IPPROTO_SCTP`, and the structs `sctp_initmsg`, `sctp_sndinfo`,
//! `sctp_rcvinfo`, re-exported here.
//!
//! Defined here because libc has no Linux binding of them: `SOL_SCTP`, the
//! options numbered 100 and up (bindx, connectx, peer and local address
//! lists, PR-SCTP, stream schedulers, `SCTP_EVENT`), the notification
//! types, and the structs `sctp_event`, `sctp_paddrinfo`, `sctp_status`,
//! `sctp_sack_info`, `sctp_rtoinfo`, `sctp_assocparams` and
//! `sctp_paddrparams` (`sctp_prstatus` and `sctp_stream_value` are
//! defined next to their one use in `mod.rs`). Their layouts, libc's included, are checked against the C header
//! by the tests in `tests/c/` and below.
#![allow(non_camel_case_types, dead_code)]

pub use libc::{
    sctp_initmsg, sctp_rcvinfo, sctp_sndinfo, IPPROTO_SCTP, MSG_NOTIFICATION, SCTP_ASSOCINFO,
    SCTP_DEFAULT_SNDINFO, SCTP_DELAYED_SACK, SCTP_GET_PEER_ADDR_INFO, SCTP_INITMSG, SCTP_NODELAY,
    SCTP_PARTIAL_DELIVERY_POINT, SCTP_PEER_ADDR_PARAMS, SCTP_PRINFO, SCTP_RCVINFO,
    SCTP_RECVRCVINFO, SCTP_RTOINFO, SCTP_SNDINFO, SCTP_STATUS,
};

pub const SOL_SCTP: libc::c_int = 132;

// Socket options libc does not have.
pub const SCTP_SOCKOPT_BINDX_ADD: libc::c_int = 100;
pub const SCTP_SOCKOPT_BINDX_REM: libc::c_int = 101;
pub const SCTP_GET_PEER_ADDRS: libc::c_int = 108;
pub const SCTP_GET_LOCAL_ADDRS: libc::c_int = 109;
pub const SCTP_SOCKOPT_CONNECTX: libc::c_int = 110;
pub const SCTP_PR_SUPPORTED: libc::c_int = 113;
pub const SCTP_PR_ASSOC_STATUS: libc::c_int = 115;
pub const SCTP_STREAM_SCHEDULER: libc::c_int = 123;
pub const SCTP_STREAM_SCHEDULER_VALUE: libc::c_int = 124;
pub const SCTP_EVENT: libc::c_int = 127;

// Notification types (`enum sctp_sn_type`).
pub const SCTP_ASSOC_CHANGE: u16 = 0x8001;
pub const SCTP_PEER_ADDR_CHANGE: u16 = 0x8002;
pub const SCTP_SEND_FAILED: u16 = 0x8003;
pub const SCTP_REMOTE_ERROR: u16 = 0x8004;
pub const SCTP_SHUTDOWN_EVENT: u16 = 0x8005;
pub const SCTP_PARTIAL_DELIVERY_EVENT: u16 = 0x8006;
pub const SCTP_ADAPTATION_INDICATION: u16 = 0x8007;
pub const SCTP_AUTHENTICATION_EVENT: u16 = 0x8008;
pub const SCTP_SENDER_DRY_EVENT: u16 = 0x8009;
pub const SCTP_STREAM_RESET_EVENT: u16 = 0x800a;
pub const SCTP_ASSOC_RESET_EVENT: u16 = 0x800b;
pub const SCTP_STREAM_CHANGE_EVENT: u16 = 0x800c;
pub const SCTP_SEND_FAILED_EVENT: u16 = 0x800d;

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct sctp_event {
    pub se_assoc_id: i32,
    pub se_type: u16,
    pub se_on: u8,
}

/// `struct sctp_paddrinfo` is packed with 4-byte alignment in the header.
#[repr(C, packed(4))]
#[derive(Clone, Copy)]
pub struct sctp_paddrinfo {
    pub spinfo_assoc_id: i32,
    pub spinfo_address: libc::sockaddr_storage,
    pub spinfo_state: i32,
    pub spinfo_cwnd: u32,
    pub spinfo_srtt: u32,
    pub spinfo_rto: u32,
    pub spinfo_mtu: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct sctp_status {
    pub sstat_assoc_id: i32,
    pub sstat_state: i32,
    pub sstat_rwnd: u32,
    pub sstat_unackdata: u16,
    pub sstat_penddata: u16,
    pub sstat_instrms: u16,
    pub sstat_outstrms: u16,
    pub sstat_fragmentation_point: u32,
    pub sstat_primary: sctp_paddrinfo,
}

/// `struct sctp_sack_info` (SCTP_DELAYED_SACK, RFC 6458 8.1.19).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct sctp_sack_info {
    pub sack_assoc_id: libc::sctp_assoc_t,
    pub sack_delay: u32,
    pub sack_freq: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct sctp_rtoinfo {
    pub srto_assoc_id: i32,
    pub srto_initial: u32,
    pub srto_max: u32,
    pub srto_min: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct sctp_assocparams {
    pub sasoc_assoc_id: i32,
    pub sasoc_asocmaxrxt: u16,
    pub sasoc_number_peer_destinations: u16,
    pub sasoc_peer_rwnd: u32,
    pub sasoc_local_rwnd: u32,
    pub sasoc_cookie_life: u32,
}

/// `struct sctp_paddrparams` is `packed, aligned(4)` in the header: its
/// fields after `spp_pathmaxrxt` are at odd offsets, and the struct is
/// padded to a multiple of 4 (156 bytes). The kernel accepts exactly that
/// size (or the older one without the last two fields).
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct sctp_paddrparams_packed {
    pub spp_assoc_id: i32,
    pub spp_address: libc::sockaddr_storage,
    pub spp_hbinterval: u32,
    pub spp_pathmaxrxt: u16,
    pub spp_pathmtu: u32,
    pub spp_sackdelay: u32,
    pub spp_flags: u32,
    pub spp_ipv6_flowlabel: u32,
    pub spp_dscp: u8,
}

#[repr(C, align(4))]
#[derive(Clone, Copy)]
pub struct sctp_paddrparams(pub sctp_paddrparams_packed);

// `enum sctp_spp_flags`.
pub const SPP_HB_ENABLE: u32 = 1 << 0;
pub const SPP_HB_DISABLE: u32 = 1 << 1;
pub const SPP_DSCP: u32 = 1 << 9;

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    /// Sizes and offsets as `<linux/sctp.h>` has them on Linux (printed by a
    /// C program built against the header, with sizeof / offsetof).
    #[test]
    fn layouts_match_linux_sctp_h() {
        assert_eq!(size_of::<sctp_initmsg>(), 8);
        assert_eq!(size_of::<sctp_sndinfo>(), 16);
        assert_eq!(size_of::<sctp_rcvinfo>(), 28);
        assert_eq!(std::mem::offset_of!(sctp_rcvinfo, rcv_ppid), 8);
        assert_eq!(size_of::<sctp_event>(), 8);
        assert_eq!(size_of::<sctp_paddrinfo>(), 152);
        assert_eq!(size_of::<sctp_status>(), 176);
        assert_eq!(size_of::<sctp_rtoinfo>(), 16);
        assert_eq!(size_of::<sctp_sack_info>(), 12);
        assert_eq!(std::mem::offset_of!(sctp_sack_info, sack_freq), 8);
        assert_eq!(SCTP_DELAYED_SACK, 16);
        assert_eq!(size_of::<sctp_assocparams>(), 20);
        assert_eq!(size_of::<sctp_paddrparams>(), 156);
        assert_eq!(std::mem::align_of::<sctp_paddrparams>(), 4);
        assert_eq!(
            std::mem::offset_of!(sctp_paddrparams_packed, spp_hbinterval),
            132
        );
        assert_eq!(
            std::mem::offset_of!(sctp_paddrparams_packed, spp_pathmaxrxt),
            136
        );
        assert_eq!(
            std::mem::offset_of!(sctp_paddrparams_packed, spp_pathmtu),
            138
        );
        assert_eq!(
            std::mem::offset_of!(sctp_paddrparams_packed, spp_flags),
            146
        );
        assert_eq!(std::mem::offset_of!(sctp_paddrparams_packed, spp_dscp), 154);
    }
}
