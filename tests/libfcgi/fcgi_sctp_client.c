/*
 * fcgi_sctp_client: a raw FastCGI-over-SCTP client for the libfcgi tests.
 * It plays the web server side of docs/fastcgi.md: it opens one
 * association (one-to-one style), sends records on the streams the steps
 * name, and prints every record it receives with the stream it came on.
 *
 *   fcgi_sctp_client [-s STREAMS] [-t TIMEOUT_MS] [-T] ADDR PORT STEP...
 *
 *   -s  streams to ask for (default 16)   -t  how long a wait lasts
 *   -T  plain TCP instead of SCTP (stream numbers are ignored and received
 *       records print as stream=-1): checks the patch left TCP alone
 *
 * Steps, in order:
 *   values                 FCGI_GET_VALUES (id 0) on stream 1; wait for the
 *                          FCGI_GET_VALUES_RESULT
 *   param:NAME=VALUE       a parameter of the following requests (a later
 *                          value for NAME replaces the earlier one)
 *   stdin:TEXT             FCGI_STDIN content of the following requests
 *   stdinfile:PATH         the same, read from a file
 *   request:STREAM[:ID]    a responder request (BEGIN_REQUEST with
 *                          KEEP_CONN, PARAMS, STDIN) on STREAM with request
 *                          id ID (default: STREAM), one record per message;
 *                          wait for its END_REQUEST
 *   split:STREAM           the same, but every record goes out in two
 *                          messages, and a GET_VALUES on stream 1 goes out
 *                          between the two halves of BEGIN_REQUEST; waits
 *                          for both answers
 *   send:STREAM[:ID]       a request like request:, nothing awaited
 *   raw:STREAM:ID:TYPE[:TEXT]  one record, nothing awaited
 *   drain:MS               print whatever arrives within MS milliseconds
 *
 * Output, one line per event:
 *   rec stream=S id=I type=NAME len=N [data="..."|values ...|app=A proto=P]
 *   end id=I stream=S stdout_len=N stdout_sha256=HEX
 *   body id=I "escaped stdout"          (its first 4 KiB)
 *   eof | timeout ...
 * Exit status: 0, or 1 if a wait timed out or the peer closed first.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <linux/sctp.h>
#include <unistd.h>

#include "sha256.h"

#define MAXSTREAMS 65536
#define BODY_KEEP 4096

enum {
    BEGIN_REQUEST = 1, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT,
    STDERR, DATA, GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE
};

static const char *type_name(int t)
{
    static const char *names[] = {
        "0", "BEGIN_REQUEST", "ABORT_REQUEST", "END_REQUEST", "PARAMS",
        "STDIN", "STDOUT", "STDERR", "DATA", "GET_VALUES",
        "GET_VALUES_RESULT", "UNKNOWN_TYPE",
    };
    static char other[16];
    if (t >= 1 && t <= UNKNOWN_TYPE)
        return names[t];
    snprintf(other, sizeof(other), "%d", t);
    return other;
}

static int fd = -1;
static int timeout_ms = 10000;
static int use_tcp;

/* receive side: one decoder per stream */
typedef struct {
    unsigned char *buf;
    size_t len, cap;
} Decoder;
static Decoder dec[MAXSTREAMS];

/* per request id: the response seen so far */
typedef struct {
    int active;
    sha256_ctx sha;
    long stdout_len;
    char body[BODY_KEEP];
    size_t body_len;
    int ended;
} Response;
static Response *resp[MAXSTREAMS];
static int values_results;

/* what the next requests send */
static char *params[256];
static int nparams;
static unsigned char *stdin_data;
static size_t stdin_len;

static void die(const char *what)
{
    fprintf(stderr, "fcgi_sctp_client: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL)
        die("realloc");
    return p;
}

static void print_escaped(const unsigned char *p, size_t n, size_t max)
{
    size_t i;
    putchar('"');
    for (i = 0; i < n && i < max; i++) {
        unsigned char ch = p[i];
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", stdout);
        else if (ch == '\r')
            fputs("\\r", stdout);
        else if (ch < 32 || ch > 126)
            printf("\\x%02x", ch);
        else
            putchar(ch);
    }
    putchar('"');
    if (n > max)
        printf("...(%zu bytes)", n);
}

/* ---- sending ---- */

static void send_msg(int stream, const void *buf, size_t len)
{
    struct msghdr msg;
    struct iovec iov;
    struct cmsghdr *cmsg;
    struct sctp_sndinfo info;
    union {
        char buf[CMSG_SPACE(sizeof(struct sctp_sndinfo))];
        struct cmsghdr align;
    } ctl;

    memset(&msg, 0, sizeof(msg));
    memset(&ctl, 0, sizeof(ctl));
    memset(&info, 0, sizeof(info));
    info.snd_sid = (uint16_t) stream;
    iov.iov_base = (void *) buf;
    iov.iov_len = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = IPPROTO_SCTP;
    cmsg->cmsg_type = SCTP_SNDINFO;
    cmsg->cmsg_len = CMSG_LEN(sizeof(info));
    memcpy(CMSG_DATA(cmsg), &info, sizeof(info));
    if (use_tcp) {
        msg.msg_control = NULL;
        msg.msg_controllen = 0;
    }
    if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
        die("sendmsg");
}

/* one record into a fresh buffer; *len gets its size */
static unsigned char *make_record(int type, int id, const void *content,
                                  size_t clen, size_t *len)
{
    size_t pad = (8 - clen % 8) % 8;
    unsigned char *r = xrealloc(NULL, 8 + clen + pad);
    r[0] = 1;
    r[1] = (unsigned char) type;
    r[2] = (unsigned char) (id >> 8);
    r[3] = (unsigned char) id;
    r[4] = (unsigned char) (clen >> 8);
    r[5] = (unsigned char) clen;
    r[6] = (unsigned char) pad;
    r[7] = 0;
    if (clen)
        memcpy(r + 8, content, clen);
    memset(r + 8 + clen, 0, pad);
    *len = 8 + clen + pad;
    return r;
}

/* split: 0 = one message, 1 = two messages, 2 = two with a GET_VALUES between */
static void send_record(int stream, int type, int id, const void *content,
                        size_t clen, int split);

static void send_values(int split)
{
    static const char *names[] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS" };
    unsigned char body[128];
    size_t n = 0;
    int i;
    for (i = 0; i < 3; i++) {
        size_t l = strlen(names[i]);
        body[n++] = (unsigned char) l;
        body[n++] = 0;
        memcpy(body + n, names[i], l);
        n += l;
    }
    send_record(1, GET_VALUES, 0, body, n, split);
}

static void send_record(int stream, int type, int id, const void *content,
                        size_t clen, int split)
{
    size_t len, first;
    unsigned char *r = make_record(type, id, content, clen, &len);
    if (!split) {
        send_msg(stream, r, len);
    } else {
        first = len > 3 ? 3 : 1;     /* cut inside the header */
        send_msg(stream, r, first);
        if (split == 2)
            send_values(0);
        send_msg(stream, r + first, len - first);
    }
    free(r);
}

static void put_len(unsigned char **b, size_t *n, size_t *cap, size_t l)
{
    if (*n + 4 > *cap)
        *b = xrealloc(*b, *cap = (*cap + 4) * 2);
    if (l < 128) {
        (*b)[(*n)++] = (unsigned char) l;
    } else {
        (*b)[(*n)++] = (unsigned char) ((l >> 24) | 0x80);
        (*b)[(*n)++] = (unsigned char) (l >> 16);
        (*b)[(*n)++] = (unsigned char) (l >> 8);
        (*b)[(*n)++] = (unsigned char) l;
    }
}

static void send_stream(int stream, int type, int id, const unsigned char *p,
                        size_t n, int split)
{
    while (n > 0) {
        size_t chunk = n > 32768 ? 32768 : n;
        send_record(stream, type, id, p, chunk, split ? 1 : 0);
        p += chunk;
        n -= chunk;
    }
    send_record(stream, type, id, NULL, 0, split ? 1 : 0);
}

static void send_request(int stream, int id, int split)
{
    unsigned char begin[8] = { 0, 1, 1 /* FCGI_KEEP_CONN */, 0, 0, 0, 0, 0 };
    unsigned char *pb = NULL;
    size_t pn = 0, pcap = 0;
    char clen[32];
    int i;

    send_record(stream, BEGIN_REQUEST, id, begin, sizeof(begin), split ? 2 : 0);
    snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", stdin_len);
    for (i = -1; i < nparams; i++) {
        const char *kv = i < 0 ? clen : params[i];
        const char *eq = strchr(kv, '=');
        size_t kl = eq ? (size_t) (eq - kv) : strlen(kv);
        const char *v = eq ? eq + 1 : "";
        size_t vl = strlen(v);
        put_len(&pb, &pn, &pcap, kl);
        put_len(&pb, &pn, &pcap, vl);
        if (pn + kl + vl > pcap)
            pb = xrealloc(pb, pcap = (pn + kl + vl) * 2);
        memcpy(pb + pn, kv, kl);
        pn += kl;
        memcpy(pb + pn, v, vl);
        pn += vl;
    }
    send_stream(stream, PARAMS, id, pb, pn, split);
    send_stream(stream, STDIN, id, stdin_data, stdin_len, split);
    free(pb);
}

/* ---- receiving ---- */

static void on_record(int stream, const unsigned char *r, size_t len)
{
    int type = r[1], id = (r[2] << 8) | r[3];
    size_t clen = ((size_t) r[4] << 8) | r[5];
    const unsigned char *c = r + 8;
    Response *rs = resp[id];

    (void) len;
    printf("rec stream=%d id=%d type=%s len=%zu", stream, id, type_name(type), clen);
    if (type == GET_VALUES_RESULT) {
        size_t i = 0;
        printf(" values");
        while (i < clen) {
            size_t kl = c[i], vl = c[i + 1];   /* short names and values only */
            i += 2;
            printf(" %.*s=%.*s", (int) kl, c + i, (int) vl, c + i + kl);
            i += kl + vl;
        }
        values_results++;
    } else if (type == END_REQUEST && clen >= 8) {
        printf(" app=%u proto=%u",
               (unsigned) (c[0] << 24 | c[1] << 16 | c[2] << 8 | c[3]), c[4]);
    } else if (type == UNKNOWN_TYPE && clen >= 1) {
        printf(" unknown=%d", c[0]);
    } else if (type == STDOUT || type == STDERR) {
        printf(" data=");
        print_escaped(c, clen, 300);
    }
    putchar('\n');

    if (type == STDOUT && rs != NULL) {
        sha256_update(&rs->sha, c, clen);
        rs->stdout_len += (long) clen;
        size_t keep = BODY_KEEP - rs->body_len;
        if (keep > clen)
            keep = clen;
        memcpy(rs->body + rs->body_len, c, keep);
        rs->body_len += keep;
    }
    if (type == END_REQUEST && rs != NULL) {
        char hex[65];
        sha256_hex(&rs->sha, hex);
        printf("end id=%d stream=%d stdout_len=%ld stdout_sha256=%s\n",
               id, stream, rs->stdout_len, hex);
        printf("body id=%d ", id);
        print_escaped((unsigned char *) rs->body, rs->body_len, BODY_KEEP);
        putchar('\n');
        rs->ended = 1;
    }
    fflush(stdout);
}

static void feed(int stream, const unsigned char *p, size_t n)
{
    Decoder *d = &dec[stream];
    while (n > 0) {
        size_t want = d->len < 8 ? 8
                : 8 + ((size_t) d->buf[4] << 8) + d->buf[5] + d->buf[6];
        size_t take = want - d->len < n ? want - d->len : n;
        if (d->len + take > d->cap)
            d->buf = xrealloc(d->buf, d->cap = 70000);
        memcpy(d->buf + d->len, p, take);
        d->len += take;
        p += take;
        n -= take;
        if (d->len >= 8 && d->len == 8 + ((size_t) d->buf[4] << 8) + d->buf[5] + d->buf[6]) {
            on_record(use_tcp ? -1 : stream, d->buf, d->len);
            d->len = 0;
        }
    }
}

static long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec * 1000L + tv.tv_usec / 1000;
}

/* receive until done() or the time is up; returns 0 when done */
static int pump(int (*done)(void *), void *arg, int ms, const char *what)
{
    long deadline = now_ms() + ms;
    for (;;) {
        unsigned char buf[65536];
        union {
            char buf[512];
            struct cmsghdr align;
        } ctl;
        struct msghdr msg;
        struct iovec iov;
        struct cmsghdr *cmsg;
        struct pollfd pfd;
        long left;
        ssize_t n;
        int stream = -1;

        if (done != NULL && done(arg))
            return 0;
        left = deadline - now_ms();
        if (left <= 0)
            break;
        pfd.fd = fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, (int) left) <= 0)
            continue;
        memset(&msg, 0, sizeof(msg));
        iov.iov_base = buf;
        iov.iov_len = sizeof(buf);
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof(ctl.buf);
        n = recvmsg(fd, &msg, 0);
        if (n < 0)
            die("recvmsg");
        if (n == 0) {
            printf("eof\n");
            fflush(stdout);
            return done == NULL ? 0 : -1;
        }
        if (msg.msg_flags & MSG_NOTIFICATION)
            continue;
        for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
            if (cmsg->cmsg_level == IPPROTO_SCTP && cmsg->cmsg_type == SCTP_RCVINFO) {
                struct sctp_rcvinfo info;
                memcpy(&info, CMSG_DATA(cmsg), sizeof(info));
                stream = info.rcv_sid;
            }
        }
        if (use_tcp) {
            feed(0, buf, (size_t) n);
            continue;
        }
        if (stream < 0) {
            printf("message without stream info\n");
            continue;
        }
        feed(stream, buf, (size_t) n);
    }
    if (done == NULL)
        return 0;
    printf("timeout waiting for %s\n", what);
    fflush(stdout);
    return -1;
}

static int end_seen(void *arg)
{
    Response *r = resp[*(int *) arg];
    return r != NULL && r->ended;
}

static int want_values;
static int values_seen(void *arg)
{
    (void) arg;
    return values_results >= want_values;
}

static int end_and_values_seen(void *arg)
{
    return end_seen(arg) && values_seen(NULL);
}

static void connect_to(const char *host, const char *port, int streams)
{
    struct addrinfo hints, *res;
    struct sctp_initmsg init;
    int on = 1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        fprintf(stderr, "fcgi_sctp_client: %s: %s\n", host, gai_strerror(rc));
        exit(2);
    }
    if (use_tcp) {
        fd = socket(res->ai_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0)
            die("connect");
        freeaddrinfo(res);
        return;
    }
    fd = socket(res->ai_family, SOCK_STREAM, IPPROTO_SCTP);
    if (fd < 0)
        die("socket");
    memset(&init, 0, sizeof(init));
    init.sinit_num_ostreams = (uint16_t) streams;
    init.sinit_max_instreams = (uint16_t) streams;
    if (setsockopt(fd, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof(init)) < 0)
        die("SCTP_INITMSG");
    if (setsockopt(fd, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on)) < 0)
        die("SCTP_RECVRCVINFO");
    if (connect(fd, res->ai_addr, res->ai_addrlen) < 0)
        die("connect");
    freeaddrinfo(res);
}

int main(int argc, char **argv)
{
    int streams = 16, opt, i, failed = 0;

    while ((opt = getopt(argc, argv, "s:t:T")) != -1) {
        switch (opt) {
        case 'T': use_tcp = 1; break;
        case 's': streams = atoi(optarg); break;
        case 't': timeout_ms = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: fcgi_sctp_client [-s STREAMS] [-t MS] [-T] ADDR PORT STEP...\n");
            return 2;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "usage: fcgi_sctp_client [-s STREAMS] [-t MS] [-T] ADDR PORT STEP...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    connect_to(argv[optind], argv[optind + 1], streams);

    for (i = optind + 2; i < argc && !failed; i++) {
        char *s = argv[i];
        if (strcmp(s, "values") == 0) {
            want_values = values_results + 1;
            send_values(0);
            failed = pump(values_seen, NULL, timeout_ms, "GET_VALUES_RESULT") < 0;
        } else if (strncmp(s, "param:", 6) == 0) {
            /* a later value of a name replaces the earlier one */
            size_t kl = strcspn(s + 6, "=");
            int j;
            for (j = 0; j < nparams; j++)
                if (strncmp(params[j], s + 6, kl + 1) == 0)
                    break;
            if (j < 256) {
                params[j] = s + 6;
                if (j == nparams)
                    nparams++;
            }
        } else if (strncmp(s, "stdin:", 6) == 0) {
            stdin_len = strlen(s + 6);
            stdin_data = xrealloc(stdin_data, stdin_len + 1);
            memcpy(stdin_data, s + 6, stdin_len);
        } else if (strncmp(s, "stdinfile:", 10) == 0) {
            FILE *f = fopen(s + 10, "rb");
            size_t n;
            unsigned char chunk[65536];
            if (f == NULL)
                die(s + 10);
            stdin_len = 0;
            while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                stdin_data = xrealloc(stdin_data, stdin_len + n);
                memcpy(stdin_data + stdin_len, chunk, n);
                stdin_len += n;
            }
            fclose(f);
        } else if (strncmp(s, "request:", 8) == 0 || strncmp(s, "split:", 6) == 0
                   || strncmp(s, "send:", 5) == 0) {
            int split = strncmp(s, "split:", 6) == 0, wait = strncmp(s, "send:", 5) != 0;
            char *arg = strchr(s, ':') + 1, *colon = strchr(arg, ':');
            int stream = atoi(arg), id = colon ? atoi(colon + 1) : stream;
            if (stream < 0 || stream >= MAXSTREAMS || id < 0 || id >= MAXSTREAMS) {
                fprintf(stderr, "fcgi_sctp_client: bad step %s\n", s);
                return 2;
            }
            free(resp[id]);
            resp[id] = xrealloc(NULL, sizeof(Response));
            memset(resp[id], 0, sizeof(Response));
            sha256_init(&resp[id]->sha);
            resp[id]->active = 1;
            if (split)
                want_values = values_results + 1;
            send_request(stream, id, split);
            if (wait)
                failed = pump(split ? end_and_values_seen : end_seen, &id,
                              timeout_ms, "END_REQUEST") < 0;
        } else if (strncmp(s, "raw:", 4) == 0) {
            int stream, id, type, off = 0;
            if (sscanf(s + 4, "%d:%d:%d%n", &stream, &id, &type, &off) < 3) {
                fprintf(stderr, "fcgi_sctp_client: bad step %s\n", s);
                return 2;
            }
            s += 4 + off;
            if (*s == ':')
                s++;
            send_record(stream, type, id, s, strlen(s), 0);
        } else if (strncmp(s, "drain:", 6) == 0) {
            pump(NULL, NULL, atoi(s + 6), "");
        } else {
            fprintf(stderr, "fcgi_sctp_client: unknown step %s\n", s);
            return 2;
        }
    }
    close(fd);
    return failed ? 1 : 0;
}
