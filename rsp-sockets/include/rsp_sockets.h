/*
 * rsp_sockets.h: the RSerPool sockets API (the rsp_* calls of
 * draft-ietf-rserpool-api-00) over Linux SCTP, from mod_sctp's rsp-sockets
 * library. Link with `pkg-config --cflags --libs rsp-sockets`.
 *
 * A pool element (server) binds an RSerPool socket, registers it under a
 * pool handle and answers what arrives; a pool user connects to a pool
 * handle instead of a host. The library talks ASAP (RFC 5352) to a
 * registrar (RSP_REGISTRAR="ADDRESS[:PORT],..." in the environment, or
 * rsp_set_registrars(); 127.0.0.1:3863 by default), picks elements by the
 * pool's policy (RFC 5356) and fails over. It interoperates with rsplib's
 * registrar, pool elements and pool users. docs/rserpool.md has the whole
 * story, including where the draft's names and rsplib's differ.
 *
 * Calls return -1 and set errno on failure, as the socket calls they
 * mimic. An RSerPool socket is a real descriptor (a one-to-many SCTP
 * socket): poll it with rsp_select(), which hides the notifications and
 * control messages the library takes itself.
 */
#ifndef RSP_SOCKETS_H
#define RSP_SOCKETS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pool member selection policies (RFC 5356 values; rsplib's PPT_*). */
#define RSP_ROUND_ROBIN                  0x00000001u
#define RSP_WEIGHTED_ROUND_ROBIN         0x00000002u
#define RSP_RANDOM                       0x00000003u
#define RSP_WEIGHTED_RANDOM              0x00000004u
#define RSP_PRIORITY                     0x00000005u
#define RSP_LEAST_USED                   0x40000001u
#define RSP_LEAST_USED_DEGRADATION       0x40000002u
#define RSP_PRIORITY_LEAST_USED          0x40000003u
#define RSP_RANDOMIZED_LEAST_USED        0x40000004u

/* A load or degradation of 100 % (0 is 0 %). */
#define RSP_MAX_LOAD                     0xffffffffu

/* What a pool element registers with (rsplib: struct rsp_loadinfo with
 * rli_policy, rli_weight, rli_load, rli_load_degradation). Fields the
 * policy does not use are ignored. */
struct rsp_loadinfo {
    uint32_t policy;           /* RSP_ROUND_ROBIN, ... */
    uint32_t weight;           /* weighted policies */
    uint32_t priority;         /* RSP_PRIORITY: higher is preferred */
    uint32_t load;             /* least-used policies: 0..RSP_MAX_LOAD */
    uint32_t load_degradation; /* ..._DEGRADATION, RSP_PRIORITY_LEAST_USED */
};

/* Per message (rsplib's layout and names, plus rinfo_flags). */
struct rsp_sndrcvinfo {
    uint32_t rinfo_session;    /* the association (session) of a message;
                                  a pool element answers on it */
    uint32_t rinfo_ppid;       /* SCTP payload protocol identifier */
    uint32_t rinfo_pe_id;      /* received: the pool element's identifier */
    uint32_t rinfo_timetolive; /* must be 0 (partial reliability: not yet) */
    uint16_t rinfo_stream;     /* SCTP stream */
    uint16_t rinfo_flags;      /* received: RSP_EOR when the message ends */
};
#define RSP_EOR 0x0001

/* A message socket for RSerPool: domain AF_INET or AF_INET6; type
 * SOCK_DGRAM (the draft's) or SOCK_SEQPACKET, optionally with
 * SOCK_NONBLOCK; protocol 0 or IPPROTO_SCTP. */
int rsp_socket(int domain, int type, int protocol);

/* Binds the socket's local addresses (as bind(2)); a pool element that
 * registers unbound gets the wildcard and an ephemeral port. */
int rsp_bind(int sd, const struct sockaddr *addr, socklen_t addrlen);

/* Registers the socket as a pool element of pool `name` (namelen bytes)
 * with `linfo` (NULL: round robin), and waits for the registrar's answer:
 * EINVAL when it refused (e.g. the pool has another policy), ETIMEDOUT or
 * ECONNREFUSED when no registrar answered. The registration is kept alive
 * (re-registrations, keep-alives) by a thread of the library until
 * rsp_deregister() or rsp_close(). Registering again sends new policy
 * values (a load report). The registered addresses are those bound, all
 * of the host's for the wildcard, loopback left out unless alone. */
int rsp_register(int sd, const char *name, size_t namelen,
                 const struct rsp_loadinfo *linfo);

/* Withdraws the registration: 0 when the registrar confirmed it;
 * ETIMEDOUT when it could not be told (it then drops the element once its
 * keep-alives go unanswered); ENOTCONN: not registered. */
int rsp_deregister(int sd);

/* Makes the socket a pool user of pool `name`: resolves the handle and
 * sets up an association to an element the policy picks. EHOSTUNREACH
 * when the pool has no reachable element. */
int rsp_connect(int sd, const char *name, size_t namelen);

/* Sends one message. A pool element answers on sinfo->rinfo_session (from
 * rsp_recvmsg); a pool user sends to the element in use, and when that
 * one is gone reports it to the registrar and fails over to another
 * first. sinfo may be NULL (stream 0, PPID 0) on a pool user; stream and
 * PPID come from it otherwise. */
ssize_t rsp_sendmsg(int sd, const void *buf, size_t len,
                    const struct rsp_sndrcvinfo *sinfo, int flags);

/* Receives one message (or its next part when len is shorter: RSP_EOR in
 * sinfo->rinfo_flags marks the last). A pool user whose element was lost
 * gets -1/ECONNRESET once; its next rsp_sendmsg fails over. flags as for
 * recvmsg(2) (MSG_DONTWAIT). */
ssize_t rsp_recvmsg(int sd, void *buf, size_t len,
                    struct rsp_sndrcvinfo *sinfo, int flags);

/* select(2) over RSerPool sockets and any other descriptors. */
int rsp_select(int nfds, fd_set *readfds, fd_set *writefds,
               fd_set *exceptfds, struct timeval *timeout);

/* Deregisters a pool element and closes the socket. */
int rsp_close(int sd);

/* Registrars for the sockets set up from now on: "ADDRESS[:PORT],..."
 * ("[ADDRESS]:PORT" for IPv6; port 3863 by default). Overrides the
 * RSP_REGISTRAR environment variable. Not in the draft. */
int rsp_set_registrars(const char *list);

#ifdef __cplusplus
}
#endif

#endif /* RSP_SOCKETS_H */
