/*
 * The seed's echo pool element (seeds/002, "Example: Echo PE"), written
 * against rsp_sockets.h: binds, registers under a pool handle with round
 * robin, and sends every message back on the session it came on.
 *
 *   echo_pe [POOL [PORT]]      (pool "EchoPool", port 7 by default)
 *
 * Prints "registered" once the registrar accepted it and one line per
 * echo ("echo N bytes pe=ID session=S stream=T ppid=P") on stdout;
 * SIGTERM/SIGINT deregister and exit 0.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rsp_sockets.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
    const char *pool = argc > 1 ? argv[1] : "EchoPool";
    int port = argc > 2 ? atoi(argv[2]) : 7;
    struct sockaddr_in server_addr;
    struct rsp_loadinfo linfo;
    struct rsp_sndrcvinfo sinfo;
    struct sigaction sa;
    char buf[65536];
    ssize_t len;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: rsp_recvmsg returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    fd = rsp_socket(AF_INET, SOCK_DGRAM, IPPROTO_SCTP);
    if (fd < 0) { perror("rsp_socket"); return 1; }
    memset(&server_addr, 0, sizeof(server_addr));
    server_addr.sin_family = AF_INET;
    server_addr.sin_addr.s_addr = htonl(INADDR_ANY);
    server_addr.sin_port = htons(port);
    if (rsp_bind(fd, (const struct sockaddr *)&server_addr, sizeof(server_addr)) < 0) {
        perror("rsp_bind"); return 1;
    }
    memset(&linfo, 0, sizeof(struct rsp_loadinfo));
    linfo.policy = RSP_ROUND_ROBIN;
    if (rsp_register(fd, pool, strlen(pool), &linfo) < 0) {
        perror("rsp_register"); return 1;
    }
    printf("registered in %s on port %d\n", pool, port);
    while (!stop) {
        memset(&sinfo, 0, sizeof(struct rsp_sndrcvinfo));
        len = rsp_recvmsg(fd, buf, sizeof(buf), &sinfo, 0);
        if (len < 0) {
            if (errno == EINTR) continue;
            perror("rsp_recvmsg");
            break;
        }
        printf("echo %zd bytes pe=%08x session=%u stream=%u ppid=%u\n", len,
               sinfo.rinfo_pe_id, sinfo.rinfo_session, sinfo.rinfo_stream, sinfo.rinfo_ppid);
        if (rsp_sendmsg(fd, buf, (size_t)len, &sinfo, 0) < 0)
            perror("rsp_sendmsg");
    }
    if (rsp_deregister(fd) < 0) perror("rsp_deregister");
    else printf("deregistered\n");
    rsp_close(fd);
    return 0;
}
