/*
 * http_sink.h: a webhook receiver for dispatch tests and the dispatch bench:
 * a forked child on 127.0.0.1 (port chosen by the kernel) that verifies each
 * request's signature, counts deliveries per Idempotency-Key (the first 2xx
 * per key is "accepted", later ones are duplicates a real receiver would
 * drop) and appends one record line per request to a file, before it
 * answers. It never listens
 * beyond loopback and always ends: after max_seconds or max_requests, or when
 * sink_stop() kills it. Header-only (like check_main.h) because the test and
 * the bench are built from one source file each.
 */
#ifndef HTTP_SINK_H
#define HTTP_SINK_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SINK_MAX_CONN 32
#define SINK_BUF 65536
#define SINK_KEY 201
#define SINK_BODY 4096

struct sink_options {
    const char *secret;  /* the destination secret the signatures must verify with */
    const char *records; /* file the child appends records to */
    int fail_first;      /* answer 500 to the first N requests */
    int fail_all;        /* answer 500 to every request */
    int delay_ms;        /* sleep before each answer */
    int max_requests;    /* then the child exits */
    int max_seconds;     /* then the child exits */
    int stall_at;        /* request number (1-based) answered only after stall_ms; 0: none */
    int stall_ms;
};

struct sink {
    pid_t pid;
    int port;
};

/* One request as the child saw it (a record line). */
struct sink_record {
    char key[SINK_KEY];
    int sig_ok;   /* X-Casehost-Signature is sha256=HMAC(secret, body) */
    int ct_ok;    /* Content-Type: application/json */
    int raw;      /* this is the raw-th request with this key */
    int accepted; /* first 2xx answer for this key */
    int status;   /* what the sink answered */
    char body[SINK_BODY];
};

struct sink__conn {
    int fd;
    size_t len;
    char *buf;
};

struct sink__key {
    char key[SINK_KEY];
    int raw, accepted;
};

static inline long sink__ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of header name in the head (NUL-terminated), copied into out. */
static inline int sink__header(const char *head, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2, *end = strstr(line, "\r\n");
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            size_t len;
            while (*v == ' ')
                v++;
            len = end != NULL ? (size_t)(end - v) : strlen(v);
            if (len >= outlen)
                len = outlen - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 0;
        }
    }
    out[0] = '\0';
    return -1;
}

static inline int sink__sig_ok(const char *secret, const char *body, size_t len, const char *hdr)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 8] = "sha256=";
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, md,
             &mdlen) == NULL)
        return 0;
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(hex + 7 + 2 * i, 3, "%02x", md[i]);
    return strcmp(hex, hdr) == 0;
}

/*
 * Handles every complete request in c->buf. Returns 0, or -1 when the
 * connection is to be closed (bad request, write error).
 */
static inline int sink__serve(struct sink__conn *c, const struct sink_options *o,
                              struct sink__key *keys, int *nkeys, int *served, int rec_fd)
{
    for (;;) {
        char *end, cl[32], key[SINK_KEY], sig[160], ct[128], line[SINK_KEY + SINK_BODY + 64];
        size_t head_len, body_len, total;
        struct sink__key *k = NULL;
        int status, accepted = 0, n;
        const char *reply;
        if (c->len == 0)
            return 0;
        c->buf[c->len] = '\0';
        if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
            return c->len >= SINK_BUF - 1 ? -1 : 0;
        head_len = (size_t)(end - c->buf) + 4;
        *end = '\0';
        sink__header(c->buf, "Content-Length", cl, sizeof(cl));
        body_len = (size_t)strtoul(cl, NULL, 10);
        total = head_len + body_len;
        if (total >= SINK_BUF)
            return -1;
        if (c->len < total) {
            *end = '\r';
            return 0;
        }
        sink__header(c->buf, "Idempotency-Key", key, sizeof(key));
        sink__header(c->buf, "X-Casehost-Signature", sig, sizeof(sig));
        sink__header(c->buf, "Content-Type", ct, sizeof(ct));
        for (int i = 0; i < *nkeys; i++)
            if (strcmp(keys[i].key, key) == 0)
                k = &keys[i];
        if (k == NULL) {
            k = &keys[(*nkeys)++];
            snprintf(k->key, sizeof(k->key), "%s", key);
        }
        k->raw++;
        (*served)++;
        status = o->fail_all || *served <= o->fail_first ? 500 : 200;
        if (status == 200 && !k->accepted)
            accepted = k->accepted = 1;
        n = snprintf(line, sizeof(line), "%s\t%d\t%d\t%d\t%d\t%d\t%.*s\n", key,
                     sink__sig_ok(o->secret, c->buf + head_len, body_len, sig),
                     strcmp(ct, "application/json") == 0, k->raw, accepted, status,
                     (int)(body_len < SINK_BODY ? body_len : SINK_BODY - 1), c->buf + head_len);
        /* Recorded before the answer: a delivery the sender saw confirmed is on file. */
        if (write(rec_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
            return -1;
        if (o->delay_ms > 0 || *served == o->stall_at) {
            long ms = o->delay_ms + (*served == o->stall_at ? o->stall_ms : 0);
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        reply = status == 200 ? "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
                              : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 13\r\n\r\n"
                                "please retry\n";
        if (write(c->fd, reply, strlen(reply)) < 0)
            return -1;
        memmove(c->buf, c->buf + total, c->len - total);
        c->len -= total;
    }
}

/* The child's loop; never returns. */
static inline void sink__child(int lfd, const struct sink_options *o)
{
    static struct sink__conn conns[SINK_MAX_CONN];
    struct sink__key *keys = calloc((size_t)o->max_requests + 1, sizeof(*keys));
    int rec_fd = open(o->records, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
    int nconn = 0, nkeys = 0, served = 0;
    long deadline = sink__ms() + 1000L * o->max_seconds;
    struct sigaction sa;
    if (keys == NULL || rec_fd < 0)
        _exit(2);
    /* A sender killed mid-request must not take the receiver with it. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    while (served < o->max_requests && sink__ms() < deadline) {
        struct pollfd p[SINK_MAX_CONN + 1];
        p[0] = (struct pollfd){lfd, POLLIN, 0};
        for (int i = 0; i < nconn; i++)
            p[i + 1] = (struct pollfd){conns[i].fd, POLLIN, 0};
        if (poll(p, (nfds_t)nconn + 1, 100) <= 0)
            continue;
        for (int i = nconn - 1; i >= 0; i--) {
            struct sink__conn *c = &conns[i];
            ssize_t k;
            if (p[i + 1].revents == 0)
                continue;
            k = read(c->fd, c->buf + c->len, SINK_BUF - 1 - c->len);
            if (k > 0)
                c->len += (size_t)k;
            if (k <= 0 || sink__serve(c, o, keys, &nkeys, &served, rec_fd) != 0) {
                close(c->fd);
                free(c->buf);
                conns[i] = conns[--nconn];
            }
        }
        if ((p[0].revents & POLLIN) && nconn < SINK_MAX_CONN) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= 0) {
                conns[nconn].fd = fd;
                conns[nconn].len = 0;
                if ((conns[nconn].buf = malloc(SINK_BUF)) == NULL)
                    _exit(2);
                nconn++;
            }
        }
    }
    _exit(0);
}

/* Starts the receiver; 0, or -1 with errno. Stop it with sink_stop(). */
static inline int sink_start(struct sink *s, const struct sink_options *o)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 64) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        close(lfd);
        return -1;
    }
    s->port = ntohs(a.sin_port);
    /* The record file exists (empty) before any request can arrive. */
    close(open(o->records, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    s->pid = fork();
    if (s->pid < 0) {
        close(lfd);
        return -1;
    }
    if (s->pid == 0)
        sink__child(lfd, o);
    close(lfd);
    return 0;
}

static inline void sink_stop(struct sink *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    s->pid = 0;
}

/*
 * Reads the records written so far. Returns how many (at most max), or -1
 * when the file cannot be read. recs is caller-allocated.
 */
static inline int sink_load(const char *records, struct sink_record *recs, int max)
{
    FILE *f = fopen(records, "r");
    static char line[SINK_KEY + SINK_BODY + 64];
    int n = 0;
    if (f == NULL)
        return -1;
    while (n < max && fgets(line, sizeof(line), f) != NULL) {
        struct sink_record *r = &recs[n];
        char *field[7], *p = line;
        int nf = 0;
        line[strcspn(line, "\n")] = '\0';
        while (nf < 7) {
            field[nf++] = p;
            if (nf == 7 || (p = strchr(p, '\t')) == NULL)
                break;
            *p++ = '\0';
        }
        if (nf != 7)
            continue;
        snprintf(r->key, sizeof(r->key), "%.200s", field[0]);
        r->sig_ok = (int)strtol(field[1], NULL, 10);
        r->ct_ok = (int)strtol(field[2], NULL, 10);
        r->raw = (int)strtol(field[3], NULL, 10);
        r->accepted = (int)strtol(field[4], NULL, 10);
        r->status = (int)strtol(field[5], NULL, 10);
        snprintf(r->body, sizeof(r->body), "%.4095s", field[6]);
        n++;
    }
    fclose(f);
    return n;
}

#endif
