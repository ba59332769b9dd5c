//! The Linux SCTP socket API's constants and structures (`<linux/sctp.h>`,
//! RFC 6458). The libc crate has none of them; the layouts are checked
//! against the C header by the tests in `tests/c/` and below.
#![allow(non_camel_case_types, dead_code)]

pub const IPPROTO_SCTP: libc::c_int = 132;
pub const SOL_SCTP: libc::c_int = 132;

// Socket options.
pub const SCTP_INITMSG: libc::c_int = 2;
pub const SCTP_NODELAY: libc::c_int = 3;
pub const SCTP_STATUS: libc::c_int = 14;
pub const SCTP_DELAYED_SACK: libc::c_int = 16;
pub const SCTP_GET_PEER_ADDR_INFO: libc::c_int = 15;
pub const SCTP_RECVRCVINFO: libc::c_int = 32;
pub const SCTP_DEFAULT_SNDINFO: libc::c_int = 34;
pub const SCTP_SOCKOPT_BINDX_ADD: libc::c_int = 100;
pub const SCTP_SOCKOPT_BINDX_REM: libc::c_int = 101;
pub const SCTP_GET_PEER_ADDRS: libc::c_int = 108;
pub const SCTP_GET_LOCAL_ADDRS: libc::c_int = 109;
pub const SCTP_SOCKOPT_CONNECTX: libc::c_int = 110;
pub const SCTP_STREAM_SCHEDULER: libc::c_int = 123;
pub const SCTP_EVENT: libc::c_int = 127;

// Ancillary data types.
pub const SCTP_SNDINFO: libc::c_int = 2;
pub const SCTP_RCVINFO: libc::c_int = 3;

/// recvmsg flag: the message is a notification, not data.
pub const MSG_NOTIFICATION: libc::c_int = 0x8000;

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
pub struct sctp_initmsg {
    pub sinit_num_ostreams: u16,
    pub sinit_max_instreams: u16,
    pub sinit_max_attempts: u16,
    pub sinit_max_init_timeo: u16,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct sctp_sndinfo {
    pub snd_sid: u16,
    pub snd_flags: u16,
    pub snd_ppid: u32,
    pub snd_context: u32,
    pub snd_assoc_id: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct sctp_rcvinfo {
    pub rcv_sid: u16,
    pub rcv_ssn: u16,
    pub rcv_flags: u16,
    pub rcv_ppid: u32,
    pub rcv_tsn: u32,
    pub rcv_cumtsn: u32,
    pub rcv_context: u32,
    pub rcv_assoc_id: i32,
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    /// Sizes as `<linux/sctp.h>` has them on Linux (printed by a C program
    /// built against the header).
    #[test]
    fn layouts_match_linux_sctp_h() {
        assert_eq!(size_of::<sctp_initmsg>(), 8);
        assert_eq!(size_of::<sctp_sndinfo>(), 16);
        assert_eq!(size_of::<sctp_rcvinfo>(), 28);
        assert_eq!(std::mem::offset_of!(sctp_rcvinfo, rcv_ppid), 8);
        assert_eq!(size_of::<sctp_event>(), 8);
        assert_eq!(size_of::<sctp_paddrinfo>(), 152);
        assert_eq!(size_of::<sctp_status>(), 176);
    }
}
