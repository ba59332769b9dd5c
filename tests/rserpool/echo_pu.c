/*
 * The seed's echo pool user (seeds/002, "An Example: echo PU"), written
 * against rsp_sockets.h: connects to a pool by its handle, sends each line
 * of standard input as one message and prints what comes back, waiting on
 * both with rsp_select().
 *
 *   echo_pu [POOL]             (pool "EchoPool" by default)
 *
 * Prints "from PE ID: LINE" per answer. The seed's loop ends at end of
 * input; this one then waits up to 3 s for the answers still due.
 * A lost pool element prints "pool element lost" (the next line fails
 * over). Exit status 0 when every line came back.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <rsp_sockets.h>

int main(int argc, char **argv)
{
    const char *pool = argc > 1 ? argv[1] : "EchoPool";
    struct rsp_sndrcvinfo sinfo;
    char buf[4096];
    fd_set rset;
    ssize_t n;
    int fd, done = 0, sent = 0, got = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = rsp_socket(AF_INET, SOCK_DGRAM, IPPROTO_SCTP);
    if (fd < 0) { perror("rsp_socket"); return 1; }
    if (rsp_connect(fd, pool, strlen(pool)) < 0) { perror("rsp_connect"); return 1; }
    FD_ZERO(&rset);
    while (!done || got < sent) {
        struct timeval tv = { 3, 0 };
        FD_ZERO(&rset);
        if (!done)
            FD_SET(0, &rset);
        FD_SET(fd, &rset);
        if (rsp_select(fd + 1, &rset, NULL, NULL, done ? &tv : NULL) == 0)
            break; /* input ended and no answer for 3 s */
        if (!done && FD_ISSET(0, &rset)) {
            n = read(0, buf, sizeof(buf));
            if (n <= 0)
                done = 1;
            else if (rsp_sendmsg(fd, buf, (size_t)n, NULL, 0) < 0)
                perror("rsp_sendmsg");
            else
                sent++;
        }
        if (FD_ISSET(fd, &rset)) {
            memset(&sinfo, 0, sizeof(sinfo));
            n = rsp_recvmsg(fd, buf, sizeof(buf) - 1, &sinfo, 0);
            if (n > 0) {
                buf[n] = '\0';
                printf("from PE %08x: %s", sinfo.rinfo_pe_id, buf);
                if (n > 0 && buf[n - 1] != '\n')
                    printf("\n");
                got++;
            } else if (n < 0 && errno == ECONNRESET) {
                /* what was sent to it and not answered will not be */
                printf("pool element lost, %d unanswered\n", sent - got);
                sent = got;
            } else if (n < 0) {
                perror("rsp_recvmsg");
            }
        }
    }
    rsp_close(fd);
    printf("sent %d, answered %d\n", sent, got);
    return got == sent ? 0 : 1;
}
