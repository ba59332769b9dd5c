/*
 * sctp_pingpong: exercises libapr_sctp through its C header over loopback.
 *
 * A listener and a client APR socket (APR_PROTO_SCTP) on 127.0.0.1; the
 * client sends "ping" on stream 3, the server answers "pong" on stream 5;
 * a two-buffer message with PPID 63 on stream 7 arrives whole; then the timeout semantics (0 -> APR_EAGAIN, 200 ms -> APR_TIMEUP), an
 * SCTP bucket reading "bucket" sent on stream 2, and APR_EOF once the
 * server closes.
 *
 * Prints "PASS: ..." per check and exits 0; "FAIL: ..." and exit 1 on the
 * first failure; exit 77 when the kernel has no SCTP.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/sctp.h>
#include <sys/socket.h>

#include <apr_general.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "apr_sctp.h"
#include "check.h"

/* The header's structs have the layout the library was built with
 * (apr-sctp/src/apr_socket.rs checks the same numbers); a mismatch fails
 * the build. */
LAYOUT_CHECK(sndinfo_size, sizeof(apr_sctp_sndinfo_t) == 12);
LAYOUT_CHECK(sndinfo_ppid, offsetof(apr_sctp_sndinfo_t, ppid) == 4);
LAYOUT_CHECK(rcvinfo_size, sizeof(apr_sctp_rcvinfo_t) == 24);
LAYOUT_CHECK(rcvinfo_ppid, offsetof(apr_sctp_rcvinfo_t, ppid) == 8);
LAYOUT_CHECK(rcvinfo_assoc, offsetof(apr_sctp_rcvinfo_t, assoc_id) == 16);
LAYOUT_CHECK(rcvinfo_eor, offsetof(apr_sctp_rcvinfo_t, eor) == 20);

static void set_sctp_opts(apr_socket_t *s, int initmsg, int rcvinfo)
{
    apr_os_sock_t fd;
    CHECK(apr_os_sock_get(&fd, s), "apr_os_sock_get");
    if (initmsg) {
        struct sctp_initmsg im;
        memset(&im, 0, sizeof im);
        im.sinit_num_ostreams = 8;
        im.sinit_max_instreams = 8;
        if (setsockopt(fd, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof im) != 0)
            fail("setsockopt(SCTP_INITMSG)", errno);
    }
    if (rcvinfo) {
        int on = 1;
        if (setsockopt(fd, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) != 0)
            fail("setsockopt(SCTP_RECVRCVINFO)", errno);
    }
}

static void listener_opts(apr_socket_t *s)
{
    set_sctp_opts(s, 1, 0);
}

/* Receives one message on s and checks its bytes and stream. */
static void expect_msg(apr_socket_t *s, const char *want, apr_uint16_t want_stream,
                       const char *who)
{
    char buf[64];
    apr_size_t len = sizeof buf;
    apr_uint16_t stream = 0xffff;
    char what[128];

    apr_snprintf(what, sizeof what, "%s receives \"%s\"", who, want);
    CHECK(apr_socket_recv_sctp(s, buf, &len, &stream), what);
    if (len != strlen(want) || memcmp(buf, want, len) != 0) {
        printf("FAIL: %s: got %d byte(s) \"%.*s\"\n", what, (int)len, (int)len, buf);
        exit(1);
    }
    if (stream != want_stream) {
        printf("FAIL: %s: stream %u, want %u\n", what, stream, want_stream);
        exit(1);
    }
    apr_snprintf(what, sizeof what, "%s received \"%s\" on stream %u", who, want,
                 want_stream);
    pass(what);
}

static void send_msg(apr_socket_t *s, const char *msg, apr_uint16_t stream,
                     const char *who)
{
    apr_size_t len = strlen(msg);
    char what[128];

    apr_snprintf(what, sizeof what, "%s sends \"%s\" on stream %u", who, msg, stream);
    CHECK(apr_socket_send_sctp(s, msg, &len, stream), what);
    if (len != strlen(msg))
        fail(what, APR_SUCCESS);
}

int main(void)
{
    apr_pool_t *pool;
    apr_socket_t *listener, *client, *server;
    apr_sockaddr_t *sa;
    apr_status_t rv;
    char buf[64];
    apr_size_t len;
    apr_uint16_t stream;

    CHECK(apr_initialize(), "apr_initialize");
    atexit(apr_terminate);
    CHECK(apr_pool_create(&pool, NULL), "apr_pool_create");

    listener = sctp_listener(pool, listener_opts, &sa);

    CHECK(apr_socket_create(&client, APR_INET, SOCK_STREAM, APR_PROTO_SCTP, pool),
          "apr_socket_create(client)");
    set_sctp_opts(client, 1, 1);
    CHECK(apr_socket_connect(client, sa), "apr_socket_connect");
    CHECK(apr_socket_accept(&server, listener, pool), "apr_socket_accept");
    set_sctp_opts(server, 0, 1);
    {
        char what[64];
        apr_snprintf(what, sizeof what, "connected over SCTP to 127.0.0.1:%u",
                     sa->port);
        pass(what);
    }

    /* ping on stream 3, pong on stream 5 */
    send_msg(client, "ping", 3, "client");
    expect_msg(server, "ping", 3, "server");
    send_msg(server, "pong", 5, "server");
    expect_msg(client, "pong", 5, "client");

    /* two buffers as one message on stream 7 with PPID 63, full info back */
    {
        struct iovec vec[2];
        apr_sctp_sndinfo_t si;
        apr_sctp_rcvinfo_t ri;
        apr_size_t sent = 0;

        vec[0].iov_base = (void *)"vec";
        vec[0].iov_len = 3;
        vec[1].iov_base = (void *)"tored";
        vec[1].iov_len = 5;
        memset(&si, 0, sizeof si);
        si.stream = 7;
        si.ppid = 63;
        CHECK(apr_socket_sendv_sctp(client, vec, 2, &si, &sent), "apr_socket_sendv_sctp");
        if (sent != 8)
            fail("apr_socket_sendv_sctp sent the whole message", APR_SUCCESS);
        len = sizeof buf;
        CHECK(apr_socket_recv_sctp_info(server, buf, &len, &ri), "apr_socket_recv_sctp_info");
        if (len != 8 || memcmp(buf, "vectored", 8) != 0 || ri.stream != 7 || ri.ppid != 63
            || !ri.eor) {
            printf("FAIL: recv_sctp_info: %d byte(s) \"%.*s\" stream %u ppid %u eor %d\n",
                   (int)len, (int)len, buf, ri.stream, (unsigned)ri.ppid, ri.eor);
            return 1;
        }
        pass("sendv on stream 7 with PPID 63 arrives whole with its stream and PPID");
    }

    /* timeout semantics */
    CHECK(apr_socket_timeout_set(client, 0), "apr_socket_timeout_set(0)");
    len = sizeof buf;
    rv = apr_socket_recv_sctp(client, buf, &len, &stream);
    if (!APR_STATUS_IS_EAGAIN(rv) || len != 0)
        fail("recv with timeout 0 and nothing to read is APR_EAGAIN", rv);
    pass("recv with timeout 0 and nothing to read is APR_EAGAIN");

    CHECK(apr_socket_timeout_set(client, 200000), "apr_socket_timeout_set(200 ms)");
    {
        apr_time_t t0 = apr_time_now(), dt;
        len = sizeof buf;
        rv = apr_socket_recv_sctp(client, buf, &len, &stream);
        dt = apr_time_now() - t0;
        if (!APR_STATUS_IS_TIMEUP(rv) || len != 0)
            fail("recv with timeout 200 ms and nothing to read is APR_TIMEUP", rv);
        if (dt < 150000) {
            printf("FAIL: APR_TIMEUP after only %" APR_TIME_T_FMT " us\n", dt);
            return 1;
        }
        pass("recv with timeout 200 ms and nothing to read is APR_TIMEUP");
    }

    /* an SCTP bucket on the server socket */
    {
        apr_bucket_alloc_t *ba = apr_bucket_alloc_create(pool);
        apr_bucket_brigade *bb = apr_brigade_create(pool, ba);
        apr_bucket *b = apr_bucket_sctp_create(server, ba), *next;
        apr_sctp_rcvinfo_t info;
        const char *data;
        apr_size_t n;

        APR_BRIGADE_INSERT_TAIL(bb, b);
        if (!APR_BUCKET_IS_SCTP(b))
            fail("apr_bucket_sctp_create makes an SCTP bucket", APR_SUCCESS);
        if (b->length != (apr_size_t)-1)
            fail("a fresh SCTP bucket has unknown length", APR_SUCCESS);
        rv = apr_bucket_sctp_rcvinfo(b, &info);
        if (!APR_STATUS_IS_ENOENT(rv))
            fail("a fresh SCTP bucket has no rcvinfo (APR_ENOENT)", rv);

        send_msg(client, "bucket", 2, "client");
        CHECK(apr_bucket_read(b, &data, &n, APR_BLOCK_READ), "apr_bucket_read");
        if (n != 6 || memcmp(data, "bucket", 6) != 0) {
            printf("FAIL: bucket read %d byte(s) \"%.*s\"\n", (int)n, (int)n, data);
            return 1;
        }
        if (!APR_BUCKET_IS_HEAP(b))
            fail("a read SCTP bucket becomes a heap bucket", APR_SUCCESS);
        pass("apr_bucket_read of an SCTP bucket returned \"bucket\"");

        next = APR_BUCKET_NEXT(b);
        if (next == APR_BRIGADE_SENTINEL(bb) || !APR_BUCKET_IS_SCTP(next))
            fail("the read inserted an SCTP bucket after the data", APR_SUCCESS);
        CHECK(apr_bucket_sctp_rcvinfo(next, &info), "apr_bucket_sctp_rcvinfo");
        if (info.stream != 2 || !info.eor) {
            printf("FAIL: rcvinfo stream %u eor %d, want stream 2 eor 1\n",
                   info.stream, info.eor);
            return 1;
        }
        rv = apr_bucket_sctp_rcvinfo(b, &info);
        if (rv != APR_EINVAL)
            fail("apr_bucket_sctp_rcvinfo of a heap bucket is APR_EINVAL", rv);
        pass("apr_bucket_sctp_rcvinfo(APR_BUCKET_NEXT(b)) reports stream 2");

        /* a non-blocking read with nothing to read leaves the bucket be */
        rv = apr_bucket_read(next, &data, &n, APR_NONBLOCK_READ);
        if (!APR_STATUS_IS_EAGAIN(rv) || !APR_BUCKET_IS_SCTP(next))
            fail("non-blocking read of an idle SCTP bucket is APR_EAGAIN", rv);
        pass("non-blocking read of an idle SCTP bucket is APR_EAGAIN");

        apr_brigade_destroy(bb);
    }

    /* end of stream */
    CHECK(apr_socket_close(server), "apr_socket_close(server)");
    CHECK(apr_socket_timeout_set(client, apr_time_from_sec(5)),
          "apr_socket_timeout_set(5 s)");
    len = sizeof buf;
    rv = apr_socket_recv_sctp(client, buf, &len, &stream);
    if (!APR_STATUS_IS_EOF(rv) || len != 0)
        fail("recv after the server closed is APR_EOF", rv);
    pass("recv after the server closed is APR_EOF");

    apr_socket_close(client);
    apr_socket_close(listener);
    apr_pool_destroy(pool);
    printf("PASS: sctp_pingpong\n");
    return 0;
}
