/*
 * apr_sctp.h: SCTP on APR sockets (libapr_sctp).
 *
 * Stream-aware send and receive on an apr_socket_t created with
 * APR_PROTO_SCTP (a one-to-one, SOCK_STREAM SCTP socket), and an SCTP bucket
 * type that records the stream of the bytes it read.
 *
 * Timeouts: every call here honours the socket's APR timeout exactly as
 * apr_socket_send() / apr_socket_recv() do:
 *   - timeout < 0 : the call blocks until it can proceed;
 *   - timeout == 0: a call that would block returns APR_EAGAIN
 *                   (test with APR_STATUS_IS_EAGAIN);
 *   - timeout > 0 : the call waits up to that many microseconds for the
 *                   socket to become ready, then returns APR_TIMEUP.
 * Other failures return the errno as an apr_status_t (for example EMSGSIZE
 * when a message is larger than the socket's send buffer).
 *
 * SCTP notifications (MSG_NOTIFICATION) are never returned as data: the
 * receive functions log and skip them.
 *
 * Stream ids and the rest of the receive information are only reported when
 * the socket has SCTP_RECVRCVINFO enabled (setsockopt on the descriptor from
 * apr_os_sock_get()); otherwise they read as 0.
 */
#ifndef APR_SCTP_H
#define APR_SCTP_H

#include <sys/uio.h>
#include <apr_network_io.h>
#include <apr_buckets.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Send parameters of one message (struct sctp_sndinfo). */
typedef struct apr_sctp_sndinfo_t {
    /** Stream id to send on. */
    apr_uint16_t stream;
    /** SCTP_UNORDERED, SCTP_EOF, ... (struct sctp_sndinfo's snd_flags). */
    apr_uint16_t flags;
    /** Payload protocol identifier, host byte order. */
    apr_uint32_t ppid;
    /** Opaque value returned in send-failure notifications. */
    apr_uint32_t context;
} apr_sctp_sndinfo_t;

/** Receive information of the bytes read (struct sctp_rcvinfo). */
typedef struct apr_sctp_rcvinfo_t {
    /** Stream id the bytes came on. */
    apr_uint16_t stream;
    /** Stream sequence number. */
    apr_uint16_t ssn;
    /** struct sctp_rcvinfo's rcv_flags (SCTP_UNORDERED). */
    apr_uint16_t flags;
    /** Payload protocol identifier, host byte order. */
    apr_uint32_t ppid;
    /** Transmission sequence number. */
    apr_uint32_t tsn;
    /** Association id. */
    apr_int32_t assoc_id;
    /** Non-zero when the bytes end a message (MSG_EOR). */
    apr_int32_t eor;
} apr_sctp_rcvinfo_t;

/**
 * Send @a *len bytes from @a buf as one SCTP message on @a stream.
 * A message is sent whole or not at all.
 * @param sock An SCTP socket.
 * @param buf  The bytes to send.
 * @param len  In: the number of bytes; out: the number sent (0 on error).
 * @param stream The stream id.
 * @return APR_SUCCESS, APR_EAGAIN, APR_TIMEUP (see the timeout notes above)
 *         or an errno.
 */
apr_status_t apr_socket_send_sctp(apr_socket_t *sock, const char *buf,
                                  apr_size_t *len, apr_uint16_t stream);

/**
 * Send @a nvec buffers as one SCTP message with the stream, flags, PPID and
 * context in @a info.
 * @param len Out: the number of bytes sent (0 on error); may be NULL.
 * @return As apr_socket_send_sctp(); APR_EINVAL for a NULL socket or info,
 *         or a negative @a nvec.
 */
apr_status_t apr_socket_sendv_sctp(apr_socket_t *sock, const struct iovec *vec,
                                   apr_int32_t nvec,
                                   const apr_sctp_sndinfo_t *info,
                                   apr_size_t *len);

/**
 * Receive up to @a *len bytes of one message.
 * @param len    In: the buffer size; out: the bytes read (0 on error).
 * @param stream Out (may be NULL): the stream the bytes came on (needs
 *               SCTP_RECVRCVINFO on the socket, else 0).
 * @return APR_SUCCESS; APR_EOF when the peer has shut the association down
 *         (a read of 0 bytes); APR_EAGAIN or APR_TIMEUP (see the timeout
 *         notes above); or an errno. Notifications are skipped.
 */
apr_status_t apr_socket_recv_sctp(apr_socket_t *sock, char *buf,
                                  apr_size_t *len, apr_uint16_t *stream);

/**
 * Like apr_socket_recv_sctp(), filling @a info (may be NULL) with the full
 * receive information; info->eor tells whether the bytes end the message
 * (a message longer than the buffer comes in several reads, only the last
 * with eor set). On error @a info is zeroed. With *len == 0 nothing is read
 * and APR_SUCCESS is returned.
 */
apr_status_t apr_socket_recv_sctp_info(apr_socket_t *sock, char *buf,
                                       apr_size_t *len,
                                       apr_sctp_rcvinfo_t *info);

/**
 * The SCTP bucket type: like the socket bucket, of unknown length until
 * read. A read takes up to APR_BUCKET_BUFF_SIZE bytes of one message, turns
 * the bucket into a heap bucket holding them, and inserts after it a new
 * SCTP bucket that carries the receive information of those bytes: call
 * apr_bucket_sctp_rcvinfo(APR_BUCKET_NEXT(b), &info) after reading b to
 * learn their stream. At end of stream the bucket becomes an empty immortal
 * bucket. A non-blocking read with nothing to read returns APR_EAGAIN and
 * leaves the bucket unchanged; a blocking read waits up to the socket's
 * timeout (APR_TIMEUP when it passes). Setaside, split and copy are not
 * implemented (APR_ENOTIMPL), as for socket buckets. Destroying an SCTP
 * bucket frees only its own small record (allocated with
 * apr_bucket_alloc()); it never closes the socket.
 *
 * Which bucket carries what: after b is read, b holds the bytes (a heap
 * bucket) and APR_BUCKET_NEXT(b) is the new SCTP bucket whose
 * apr_bucket_sctp_rcvinfo() describes those bytes (stream, PPID, eor); a
 * bucket made by apr_bucket_sctp_create()/_make() has no rcvinfo yet.
 */
extern const apr_bucket_type_t apr_bucket_type_sctp;

/** Whether bucket @a e is an SCTP bucket. */
#define APR_BUCKET_IS_SCTP(e) ((e)->type == &apr_bucket_type_sctp)

/** Turn bucket @a b into an SCTP bucket reading @a sock. */
apr_bucket *apr_bucket_sctp_make(apr_bucket *b, apr_socket_t *sock);

/** Create an SCTP bucket reading @a sock, from allocator @a list. */
apr_bucket *apr_bucket_sctp_create(apr_socket_t *sock,
                                   apr_bucket_alloc_t *list);

/**
 * The receive information of the bytes read just before SCTP bucket @a b
 * (the bucket a read inserted; see apr_bucket_type_sctp).
 * @return APR_SUCCESS; APR_EINVAL if @a b is not an SCTP bucket; APR_ENOENT
 *         if @a b is the original bucket, before which nothing was read.
 */
apr_status_t apr_bucket_sctp_rcvinfo(const apr_bucket *b,
                                     apr_sctp_rcvinfo_t *info);

/*
 * ADUs: WebTP-style application data units on one association
 * (docs/adu.md). Each ADU is one SCTP message: reliable, or abandoned
 * whole when a lifetime or retransmission limit runs out (PR-SCTP);
 * ordered or not; of normal or high priority, high never starving normal
 * (streams taking turns under the round-robin or, where the kernel has it,
 * weighted-fair-queueing stream scheduler).
 *
 * Use: apr_sctp_adu_prepare() on the socket before connect or listen (an
 * accepted socket inherits it from its listener), then apr_sctp_adu_open()
 * on the established association. The calls honour the socket's APR
 * timeout as apr_socket_recv_sctp() does. One thread receives; any may
 * send.
 */

/** Reliability of an ADU (apr_sctp_adu_opts_t.reliability). */
#define APR_SCTP_ADU_RELIABLE        0 /**< retransmitted until acknowledged */
#define APR_SCTP_ADU_LIFETIME        1 /**< abandoned after limit ms */
#define APR_SCTP_ADU_RETRANSMISSIONS 2 /**< abandoned after limit retransmissions */

/** Priority of an ADU (apr_sctp_adu_opts_t.priority). */
#define APR_SCTP_ADU_NORMAL 0
#define APR_SCTP_ADU_HIGH   1

/** What apr_sctp_adu_recv() returned (apr_sctp_adu_info_t.kind). */
#define APR_SCTP_ADU_DATA      0 /**< (part of) an ADU in the buffer */
#define APR_SCTP_ADU_ABANDONED 1 /**< an ADU this side sent was abandoned */
#define APR_SCTP_ADU_DROPPED   2 /**< an ADU partly received will not be completed */

/** How one ADU is sent. All zero: reliable, unordered, normal priority. */
typedef struct apr_sctp_adu_opts_t {
    apr_int32_t reliability;  /**< APR_SCTP_ADU_RELIABLE, _LIFETIME, _RETRANSMISSIONS */
    apr_uint32_t limit;       /**< ms for _LIFETIME, a count for _RETRANSMISSIONS */
    apr_int32_t ordered;      /**< non-zero: in order among ordered ADUs of its priority */
    apr_int32_t priority;     /**< APR_SCTP_ADU_NORMAL or APR_SCTP_ADU_HIGH */
} apr_sctp_adu_opts_t;

/** What was received. */
typedef struct apr_sctp_adu_info_t {
    apr_int32_t kind;         /**< APR_SCTP_ADU_DATA, _ABANDONED, _DROPPED */
    apr_int32_t complete;     /**< DATA: the bytes end the ADU */
    apr_int32_t ordered;      /**< DATA: sent ordered */
    apr_int32_t priority;     /**< DATA: APR_SCTP_ADU_NORMAL or _HIGH */
    apr_uint16_t stream;      /**< DATA, DROPPED: the SCTP stream */
    apr_uint16_t dropped_before; /**< DATA, ordered: ADUs of this stream the
                                  sender abandoned since the previous one that
                                  arrived (unordered drops are not visible) */
    apr_uint32_t id;          /**< ABANDONED: the id given to apr_sctp_adu_send() */
    apr_int32_t sent;         /**< ABANDONED: it had been on the wire */
} apr_sctp_adu_info_t;

/** The primary path as SCTP sees it. */
typedef struct apr_sctp_path_t {
    apr_interval_time_t srtt; /**< smoothed round-trip time, microseconds */
    apr_uint32_t cwnd;        /**< congestion window, bytes */
    apr_uint32_t rwnd;        /**< the peer's receive window, bytes */
    double rate_bps;          /**< min(cwnd, rwnd) per round trip, bits/s:
                                   an estimate, not a guarantee */
} apr_sctp_path_t;

/** An association carrying ADUs (allocated in the pool given to open). */
typedef struct apr_sctp_adu_t apr_sctp_adu_t;

/** Set up @a sock (not yet connected or listening) for ADUs: PR-SCTP
 * offered, 4 streams each way, a 1 MiB send buffer, receive information
 * and the events apr_sctp_adu_recv() reports. */
apr_status_t apr_sctp_adu_prepare(apr_socket_t *sock);

/** The ADU handle of the established association on @a sock (prepared),
 * allocated in @a pool; @a sock must outlive it. */
apr_status_t apr_sctp_adu_open(apr_sctp_adu_t **adu, apr_socket_t *sock,
                               apr_pool_t *pool);

/** Send @a len bytes as one ADU; @a id comes back in an
 * APR_SCTP_ADU_ABANDONED report. @a opts may be NULL (all zero).
 * @return APR_SUCCESS, APR_EAGAIN / APR_TIMEUP (timeout), EOPNOTSUPP for an
 *         unreliable ADU when the peer has no PR-SCTP, APR_EINVAL for an
 *         unknown constant, EMSGSIZE, or another errno. */
apr_status_t apr_sctp_adu_send(apr_sctp_adu_t *adu, const void *buf,
                               apr_size_t len, const apr_sctp_adu_opts_t *opts,
                               apr_uint32_t id);

/** Receive the next ADU (or its first *len bytes: complete 0, the rest
 * follows) or report. @a *len: in, the buffer size (at least 64); out, the
 * bytes of ADU data (0 for reports). @a info may be NULL.
 * @return APR_SUCCESS; APR_EOF when the association closed; APR_EAGAIN /
 *         APR_TIMEUP; or an errno. */
apr_status_t apr_sctp_adu_recv(apr_sctp_adu_t *adu, void *buf, apr_size_t *len,
                               apr_sctp_adu_info_t *info);

/** The primary path's round-trip time, windows and rate (SCTP_STATUS). */
apr_status_t apr_sctp_adu_path(apr_sctp_adu_t *adu, apr_sctp_path_t *path);

/** The association's stream scheduler, as a static string: "round robin"
 * (Linux 6.1) or "weighted fair queueing" (kernels that have it). NULL for
 * a NULL handle. */
const char *apr_sctp_adu_scheduler(const apr_sctp_adu_t *adu);

/** Ask for a constant sending rate. SCTP reserves nothing, so no rate can
 * be guaranteed: always EOPNOTSUPP, as WebTP says such a request fails. */
apr_status_t apr_sctp_adu_request_rate(apr_sctp_adu_t *adu, double bits_per_second);

/** ADUs this side abandoned so far (SCTP_PR_ASSOC_STATUS): never sent, and
 * sent at least once. Either pointer may be NULL. */
apr_status_t apr_sctp_adu_abandoned(apr_sctp_adu_t *adu, apr_uint64_t *unsent,
                                    apr_uint64_t *sent);

/** Put the association in WebTP traffic class @a name ("interactive",
 * "bulk", "realtime_stream", "buffered_stream", or a dotted name below
 * one): its DSCP, SO_PRIORITY and SCTP_NODELAY. @a table: a class table
 * file (lines "name dscp priority on|off") read over the built-in classes,
 * or NULL. @return APR_SUCCESS; ENOENT for an unknown class; APR_EINVAL for
 * a malformed table (logged); or an errno. */
apr_status_t apr_sctp_adu_set_class(apr_sctp_adu_t *adu, const char *name,
                                    const char *table);

#ifdef __cplusplus
}
#endif

#endif /* APR_SCTP_H */
