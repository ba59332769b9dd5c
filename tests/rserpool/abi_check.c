/* The layouts rsp_sockets.h declares, as rsp-sockets' Rust side has them
 * (rsp-sockets/src/ffi.rs: struct_layouts_match_the_header). Compiled by
 * run.sh --build-only; a mismatch fails the build. */
#include <stddef.h>
#include <rsp_sockets.h>

_Static_assert(sizeof(struct rsp_sndrcvinfo) == 20, "rsp_sndrcvinfo size");
_Static_assert(offsetof(struct rsp_sndrcvinfo, rinfo_session) == 0, "rinfo_session");
_Static_assert(offsetof(struct rsp_sndrcvinfo, rinfo_ppid) == 4, "rinfo_ppid");
_Static_assert(offsetof(struct rsp_sndrcvinfo, rinfo_pe_id) == 8, "rinfo_pe_id");
_Static_assert(offsetof(struct rsp_sndrcvinfo, rinfo_timetolive) == 12, "rinfo_timetolive");
_Static_assert(offsetof(struct rsp_sndrcvinfo, rinfo_stream) == 16, "rinfo_stream");
_Static_assert(offsetof(struct rsp_sndrcvinfo, rinfo_flags) == 18, "rinfo_flags");
_Static_assert(sizeof(struct rsp_loadinfo) == 20, "rsp_loadinfo size");
_Static_assert(offsetof(struct rsp_loadinfo, policy) == 0, "policy");
_Static_assert(offsetof(struct rsp_loadinfo, weight) == 4, "weight");
_Static_assert(offsetof(struct rsp_loadinfo, priority) == 8, "priority");
_Static_assert(offsetof(struct rsp_loadinfo, load) == 12, "load");
_Static_assert(offsetof(struct rsp_loadinfo, load_degradation) == 16, "load_degradation");

int rsp_abi_check(void);
int rsp_abi_check(void) { return 0; }
