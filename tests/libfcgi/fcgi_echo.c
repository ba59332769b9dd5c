/*
 * fcgi_echo: a FastCGI responder for the libfcgi SCTP tests, built
 * against the patched libfcgi (target/libfcgi/prefix).
 *
 *   fcgi_echo                 serves FCGI_LISTENSOCK_FILENO (fd 0): an
 *                             inherited listening socket, or the one
 *                             FCGI_SCTP_LISTEN=ADDR:PORT makes
 *   fcgi_echo PATH            serves FCGX_OpenSocket(PATH, 16), e.g.
 *                             sctp:127.0.0.1:9000
 *
 * For each request it answers a text/plain body:
 *
 *   request_id=<FastCGI request id>
 *   uri=<REQUEST_URI>
 *   query=<QUERY_STRING>
 *   stdin_len=<bytes of FCGI_STDIN>
 *   stdin_sha256=<their SHA-256>
 *
 * followed, when QUERY_STRING holds "big=N", by N bytes of filler
 * ('a' + i % 26), and writes one line to the request's error stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgiapp.h"
#include "sha256.h"

static long big_count(const char *query)
{
    const char *p = query ? strstr(query, "big=") : NULL;
    return p ? atol(p + 4) : 0;
}

int main(int argc, char **argv)
{
    FCGX_Request req;
    int sock = 0, rc;

    if ((rc = FCGX_Init()) != 0) {
        fprintf(stderr, "fcgi_echo: FCGX_Init failed: %d\n", rc);
        return 1;
    }
    if (argc > 1) {
        sock = FCGX_OpenSocket(argv[1], 16);
        if (sock < 0) {
            fprintf(stderr, "fcgi_echo: FCGX_OpenSocket(%s) failed\n", argv[1]);
            return 1;
        }
    }
    FCGX_InitRequest(&req, sock, 0);
    fprintf(stderr, "fcgi_echo: ready\n");

    while ((rc = FCGX_Accept_r(&req)) == 0) {
        const char *uri = FCGX_GetParam("REQUEST_URI", req.envp);
        const char *query = FCGX_GetParam("QUERY_STRING", req.envp);
        sha256_ctx sha;
        char buf[4096], hex[65];
        long total = 0, big, i;
        int n;

        sha256_init(&sha);
        while ((n = FCGX_GetStr(buf, sizeof(buf), req.in)) > 0) {
            sha256_update(&sha, buf, (size_t) n);
            total += n;
        }
        sha256_hex(&sha, hex);

        FCGX_FPrintF(req.out,
                     "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                     "request_id=%d\nuri=%s\nquery=%s\n"
                     "stdin_len=%ld\nstdin_sha256=%s\n",
                     req.requestId, uri ? uri : "", query ? query : "",
                     total, hex);
        big = big_count(query);
        for (i = 0; i < big; i++)
            FCGX_PutChar('a' + (int) (i % 26), req.out);
        FCGX_FPrintF(req.err, "fcgi_echo: request %d for %s read %ld bytes\n",
                     req.requestId, uri ? uri : "", total);
        FCGX_Finish_r(&req);
    }
    fprintf(stderr, "fcgi_echo: FCGX_Accept_r returned %d\n", rc);
    return 0;
}
