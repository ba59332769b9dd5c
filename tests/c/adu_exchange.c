/*
 * adu_exchange: the ADU calls of apr_sctp.h (apr_sctp_adu_*) over loopback,
 * from C, on APR sockets.
 *
 * Both ends prepared before connect/listen; a high-priority unordered ADU,
 * a reliable ordered one and one with a lifetime arrive whole with their
 * metadata; an ADU larger than the buffer arrives in pieces (complete 0,
 * then 1); a traffic class is applied (DSCP read back), an unknown one is
 * ENOENT and a malformed table APR_EINVAL; a constant rate is refused; the
 * path has a window; timeout 0 gives APR_EAGAIN; the peer's close gives
 * APR_EOF.
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
#include <unistd.h>

#include <apr_general.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "apr_sctp.h"
#include "check.h"

/* The header's structs have the layout the library was built with
 * (apr-sctp/src/adu_c.rs checks the same numbers). */
LAYOUT_CHECK(opts_size, sizeof(apr_sctp_adu_opts_t) == 16);
LAYOUT_CHECK(opts_priority, offsetof(apr_sctp_adu_opts_t, priority) == 12);
LAYOUT_CHECK(info_size, sizeof(apr_sctp_adu_info_t) == 28);
LAYOUT_CHECK(info_stream, offsetof(apr_sctp_adu_info_t, stream) == 16);
LAYOUT_CHECK(info_id, offsetof(apr_sctp_adu_info_t, id) == 20);
LAYOUT_CHECK(path_size, sizeof(apr_sctp_path_t) == 24);
LAYOUT_CHECK(path_rate, offsetof(apr_sctp_path_t, rate_bps) == 16);

static void prepare(apr_socket_t *s)
{
    CHECK(apr_sctp_adu_prepare(s), "apr_sctp_adu_prepare(listener)");
}

/* Receives one whole ADU into buf (cap bytes) and checks it and its info. */
static void expect_adu(apr_sctp_adu_t *adu, const char *want, int ordered,
                       int priority, const char *what)
{
    char buf[256];
    apr_size_t len = sizeof buf;
    apr_sctp_adu_info_t info;

    CHECK(apr_sctp_adu_recv(adu, buf, &len, &info), what);
    if (info.kind != APR_SCTP_ADU_DATA || !info.complete || len != strlen(want)
        || memcmp(buf, want, len) != 0 || info.ordered != ordered
        || info.priority != priority || info.dropped_before != 0) {
        printf("FAIL: %s: kind %d complete %d %d byte(s) \"%.*s\" ordered %d "
               "priority %d dropped_before %u\n",
               what, info.kind, info.complete, (int)len, (int)len, buf, info.ordered,
               info.priority, info.dropped_before);
        exit(1);
    }
    pass(what);
}

int main(void)
{
    apr_pool_t *pool;
    apr_socket_t *listener, *client, *server;
    apr_sockaddr_t *sa;
    apr_sctp_adu_t *cadu, *sadu;
    apr_sctp_adu_opts_t opts;
    apr_sctp_adu_info_t info;
    apr_status_t rv;
    char buf[256];
    apr_size_t len;

    CHECK(apr_initialize(), "apr_initialize");
    atexit(apr_terminate);
    CHECK(apr_pool_create(&pool, NULL), "apr_pool_create");

    listener = sctp_listener(pool, prepare, &sa);
    CHECK(apr_socket_create(&client, APR_INET, SOCK_STREAM, APR_PROTO_SCTP, pool),
          "apr_socket_create(client)");
    CHECK(apr_sctp_adu_prepare(client), "apr_sctp_adu_prepare(client)");
    CHECK(apr_socket_connect(client, sa), "apr_socket_connect");
    CHECK(apr_socket_accept(&server, listener, pool), "apr_socket_accept");
    CHECK(apr_sctp_adu_open(&cadu, client, pool), "apr_sctp_adu_open(client)");
    CHECK(apr_sctp_adu_open(&sadu, server, pool), "apr_sctp_adu_open(server)");
    pass("prepared, connected and opened for ADUs");
    {
        const char *sched = apr_sctp_adu_scheduler(cadu);
        char what[96];
        if (sched == NULL || (strcmp(sched, "round robin") != 0
                              && strcmp(sched, "weighted fair queueing") != 0))
            fail("the scheduler is one that cannot starve a stream", APR_SUCCESS);
        apr_snprintf(what, sizeof what, "the association's stream scheduler: %s", sched);
        pass(what);
    }

    /* high priority, unordered, reliable */
    memset(&opts, 0, sizeof opts);
    opts.priority = APR_SCTP_ADU_HIGH;
    CHECK(apr_sctp_adu_send(cadu, "urgent", 6, &opts, 1), "send a high-priority ADU");
    expect_adu(sadu, "urgent", 0, APR_SCTP_ADU_HIGH,
               "a high-priority unordered ADU arrives whole, flagged so");

    /* normal, ordered, reliable (NULL opts would be unordered) */
    memset(&opts, 0, sizeof opts);
    opts.ordered = 1;
    CHECK(apr_sctp_adu_send(cadu, "in order", 8, &opts, 2), "send an ordered ADU");
    expect_adu(sadu, "in order", 1, APR_SCTP_ADU_NORMAL,
               "an ordered normal ADU arrives whole, flagged so");

    /* unreliable with a lifetime (delivered: loopback loses nothing) */
    memset(&opts, 0, sizeof opts);
    opts.reliability = APR_SCTP_ADU_LIFETIME;
    opts.limit = 500;
    CHECK(apr_sctp_adu_send(sadu, "timely", 6, &opts, 3), "send an ADU with a lifetime");
    expect_adu(cadu, "timely", 0, APR_SCTP_ADU_NORMAL,
               "an ADU with a 500 ms lifetime arrives on a lossless path");

    /* an unknown reliability constant */
    opts.reliability = 7;
    rv = apr_sctp_adu_send(cadu, "x", 1, &opts, 4);
    if (rv != APR_EINVAL)
        fail("an unknown reliability constant is APR_EINVAL", rv);
    pass("an unknown reliability constant is APR_EINVAL");

    /* an ADU longer than the buffer comes in pieces */
    {
        char big[200], got[200];
        apr_size_t have = 0;
        int pieces = 0;
        memset(big, 'b', sizeof big);
        big[0] = 'B';
        CHECK(apr_sctp_adu_send(cadu, big, sizeof big, NULL, 5), "send a 200-byte ADU");
        do {
            len = 64;
            CHECK(apr_sctp_adu_recv(sadu, got + have, &len, &info), "recv a piece");
            have += len;
            pieces++;
        } while (!info.complete && have < sizeof got);
        if (have != sizeof big || memcmp(got, big, sizeof big) != 0 || pieces != 4)
            fail("a 200-byte ADU read 64 bytes at a time: 4 pieces, the last complete",
                 APR_SUCCESS);
        pass("a 200-byte ADU read 64 bytes at a time: 4 pieces, the last complete");
    }

    /* a buffer below 64 bytes */
    len = 63;
    rv = apr_sctp_adu_recv(sadu, buf, &len, &info);
    if (rv != APR_EINVAL || len != 0)
        fail("a receive buffer under 64 bytes is APR_EINVAL", rv);
    pass("a receive buffer under 64 bytes is APR_EINVAL");

    /* traffic classes */
    {
        apr_os_sock_t fd;
        struct sctp_paddrparams pp;
        socklen_t pl = sizeof pp;
        apr_file_t *f;
        const char *table = apr_psprintf(pool, "/tmp/adu_exchange_classes.%d", (int)getpid());
        apr_size_t n;
        const char *bad = "interactive 99 0 on\n";

        CHECK(apr_sctp_adu_set_class(cadu, "interactive.chat", NULL),
              "apr_sctp_adu_set_class(interactive.chat)");
        CHECK(apr_os_sock_get(&fd, client), "apr_os_sock_get");
        memset(&pp, 0, sizeof pp);
        if (getsockopt(fd, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, &pl) != 0)
            fail("getsockopt(SCTP_PEER_ADDR_PARAMS)", errno);
        if (!(pp.spp_flags & SPP_DSCP) || (pp.spp_dscp >> 2) != 18) {
            printf("FAIL: DSCP after class interactive.chat: flags %#x dscp %u\n",
                   pp.spp_flags, pp.spp_dscp >> 2);
            return 1;
        }
        pass("class interactive.chat marks the association AF21 (DSCP 18)");

        rv = apr_sctp_adu_set_class(cadu, "video", NULL);
        if (rv != ENOENT)
            fail("an unknown class is ENOENT", rv);
        pass("an unknown class is ENOENT");

        CHECK(apr_file_open(&f, table, APR_FOPEN_WRITE | APR_FOPEN_CREATE
                            | APR_FOPEN_TRUNCATE, APR_FPROT_OS_DEFAULT, pool),
              "write a class table");
        n = strlen(bad);
        CHECK(apr_file_write(f, bad, &n), "write a class table");
        apr_file_close(f);
        rv = apr_sctp_adu_set_class(cadu, "interactive", table);
        apr_file_remove(table, pool);
        if (rv != APR_EINVAL)
            fail("a class table with DSCP 99 is APR_EINVAL", rv);
        pass("a class table with DSCP 99 is APR_EINVAL");
    }

    /* rate and path */
    rv = apr_sctp_adu_request_rate(cadu, 1e6);
    if (rv != EOPNOTSUPP)
        fail("a constant rate is refused (EOPNOTSUPP)", rv);
    pass("a constant rate is refused (EOPNOTSUPP)");
    {
        apr_sctp_path_t p;
        apr_uint64_t unsent = 9, sent = 9;
        CHECK(apr_sctp_adu_path(cadu, &p), "apr_sctp_adu_path");
        if (p.cwnd == 0 || p.rwnd == 0 || p.srtt < 0)
            fail("the path has windows", APR_SUCCESS);
        pass("apr_sctp_adu_path reports the windows");
        CHECK(apr_sctp_adu_abandoned(cadu, &unsent, &sent), "apr_sctp_adu_abandoned");
        if (unsent != 0 || sent != 0)
            fail("nothing abandoned on a lossless path", APR_SUCCESS);
        pass("nothing abandoned on a lossless path");
    }

    /* timeout 0, then end of stream */
    CHECK(apr_socket_timeout_set(client, 0), "apr_socket_timeout_set(0)");
    len = sizeof buf;
    rv = apr_sctp_adu_recv(cadu, buf, &len, &info);
    if (!APR_STATUS_IS_EAGAIN(rv))
        fail("recv with timeout 0 and nothing to read is APR_EAGAIN", rv);
    pass("recv with timeout 0 and nothing to read is APR_EAGAIN");

    CHECK(apr_socket_close(server), "apr_socket_close(server)");
    CHECK(apr_socket_timeout_set(client, apr_time_from_sec(5)),
          "apr_socket_timeout_set(5 s)");
    len = sizeof buf;
    rv = apr_sctp_adu_recv(cadu, buf, &len, &info);
    if (!APR_STATUS_IS_EOF(rv))
        fail("recv after the peer closed is APR_EOF", rv);
    pass("recv after the peer closed is APR_EOF");

    apr_socket_close(client);
    apr_socket_close(listener);
    apr_pool_destroy(pool);
    printf("PASS: adu_exchange\n");
    return 0;
}
