/*
 * check.h: what the C tests of tests/c share: PASS/FAIL lines and a
 * compile-time check of the header's struct layouts.
 */
#ifndef TESTS_C_CHECK_H
#define TESTS_C_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include <errno.h>

#include <apr_errno.h>
#include <apr_network_io.h>

/* A mismatch between the header's structs and the layout the library was
 * built with fails the build. */
#define LAYOUT_CHECK(name, cond) typedef char layout_check_##name[(cond) ? 1 : -1]

/* Prints "FAIL: what[: error]" and exits 1. */
static void fail(const char *what, apr_status_t rv)
{
    char buf[256];
    if (rv != APR_SUCCESS)
        printf("FAIL: %s: %s (%d)\n", what, apr_strerror(rv, buf, sizeof buf), rv);
    else
        printf("FAIL: %s\n", what);
    fflush(stdout);
    exit(1);
}

static void pass(const char *what)
{
    printf("PASS: %s\n", what);
    fflush(stdout);
}

#define CHECK(rv, what)                          \
    do {                                         \
        apr_status_t rv_ = (rv);                 \
        if (rv_ != APR_SUCCESS)                  \
            fail(what, rv_);                     \
    } while (0)

/* An SCTP listener on 127.0.0.1, on a port of the kernel's choosing, with
 * setup() applied before bind; *to is the address to connect to. Exits 77
 * (skipped) when the kernel has no SCTP. */
static apr_socket_t *sctp_listener(apr_pool_t *pool, void (*setup)(apr_socket_t *),
                                   apr_sockaddr_t **to)
{
    apr_socket_t *l;
    apr_sockaddr_t *sa, *bound;
    apr_status_t rv = apr_socket_create(&l, APR_INET, SOCK_STREAM, APR_PROTO_SCTP, pool);

    if (rv == EPROTONOSUPPORT || rv == ESOCKTNOSUPPORT) {
        printf("skipped: kernel has no SCTP\n");
        exit(77);
    }
    CHECK(rv, "apr_socket_create(listener, APR_PROTO_SCTP)");
    setup(l);
    CHECK(apr_socket_opt_set(l, APR_SO_REUSEADDR, 1), "APR_SO_REUSEADDR");
    CHECK(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, pool),
          "apr_sockaddr_info_get");
    CHECK(apr_socket_bind(l, sa), "apr_socket_bind");
    CHECK(apr_socket_listen(l, 8), "apr_socket_listen");
    CHECK(apr_socket_addr_get(&bound, APR_LOCAL, l), "apr_socket_addr_get");
    if (bound->port == 0)
        fail("listener has an ephemeral port", APR_SUCCESS);
    CHECK(apr_sockaddr_info_get(to, "127.0.0.1", APR_INET, bound->port, 0, pool),
          "apr_sockaddr_info_get(listener's port)");
    return l;
}

#endif /* TESTS_C_CHECK_H */
