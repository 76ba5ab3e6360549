/*
 * http_sink.h: a webhook receiver for dispatch tests and the dispatch bench:
 * a forked child on 127.0.0.1 (port chosen by the kernel) that verifies each
 * request's signature (v1 over timestamp.key.body, 5-minute window), counts deliveries per
 * Idempotency-Key (the first 2xx per key is "accepted", later ones are duplicates a real receiver
 * would drop) and appends one record line per request to a file, before it answers. It never
 * listens beyond loopback and always ends: after max_seconds or max_requests, or when sink_stop()
 * kills it. Faults on purpose (sink_start_faulty): down for a while, 500 for a while or to each
 * key's first request, or a slow answer that holds up no other connection. Header-only (like
 * check_main.h) because the test and the bench are built from one source file each.
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

/*
 * Misbehaviour for the chaos test, on top of sink_options. Times run from
 * sink_start_faulty(). Kept apart from sink_options so its positional
 * initializers stay complete.
 */
struct sink_faults {
    int down_ms;       /* refuse connections (bound, not listening) for this long */
    int fail_ms;       /* answer 500 to every request for this long */
    int fail_each_key; /* answer 500 to the first request of every key */
    int fail_every;    /* answer 500 to every request of every fail_every-th new key */
    int slow_every;    /* the first request of every slow_every-th new key ... */
    int slow_ms;       /* ... is answered after slow_ms; other connections are served meanwhile */
    long t0_ms;        /* set by sink_start_faulty */
};

struct sink {
    pid_t pid;
    int port;
};

/* One request as the child saw it (a record line). */
struct sink_record {
    char key[SINK_KEY];
    int sig_ok;           /* X-Casehost-Signature is v1=HMAC(secret, "timestamp.key.body"), fresh */
    int ct_ok;            /* Content-Type: application/json */
    int raw;              /* this is the raw-th request with this key */
    int accepted;         /* first 2xx answer for this key */
    int status;           /* what the sink answered */
    char timestamp[32];   /* X-Casehost-Timestamp as sent ("" when absent) */
    char signature[160];  /* X-Casehost-Signature as sent ("" when absent) */
    long long arrived_us; /* CLOCK_REALTIME when the request was complete, in microseconds */
    char body[SINK_BODY];
};

struct sink__conn {
    int fd;
    size_t len;
    char *buf;
    long due_ms;       /* a slow answer is pending until then (0: none) */
    const char *reply; /* the pending answer */
    size_t done;       /* bytes of buf the pending answer completes */
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

static inline long long sink__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

/*
 * The receiver's check INSTALL documents: the timestamp is within 5 minutes
 * of now and hdr is "v1=" + hex HMAC-SHA256(secret, "timestamp.key.body"),
 * compared in constant time.
 */
static inline int sink__sig_ok(const char *secret, const char *ts, const char *key,
                               const char *body, size_t len, const char *hdr)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 8] = "v1=", *msg, *end;
    long long t = strtoll(ts, &end, 10);
    size_t n = strlen(ts) + strlen(key) + 2, diff = 0;
    if (ts[0] == '\0' || *end != '\0' || llabs((long long)time(NULL) - t) > 300 ||
        (msg = malloc(n + len + 1)) == NULL)
        return 0;
    snprintf(msg, n + 1, "%s.%s.", ts, key);
    memcpy(msg + n, body, len);
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, n + len, md,
             &mdlen) == NULL) {
        free(msg);
        return 0;
    }
    free(msg);
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(hex + 3 + 2 * i, 3, "%02x", md[i]);
    if (strlen(hdr) != strlen(hex))
        return 0;
    for (size_t i = 0; hex[i] != '\0'; i++)
        diff |= (size_t)(hex[i] ^ hdr[i]);
    return diff == 0;
}

/*
 * Handles every complete request in c->buf. Returns 0, or -1 when the
 * connection is to be closed (bad request, write error).
 */
static inline int sink__serve(struct sink__conn *c, const struct sink_options *o,
                              const struct sink_faults *f, struct sink__key *keys, int *nkeys,
                              int *served, int rec_fd)
{
    for (;;) {
        char *end, cl[32], key[SINK_KEY], sig[160], ct[128], ts[32];
        char line[SINK_KEY + SINK_BODY + 512];
        size_t head_len, body_len, total;
        struct sink__key *k = NULL;
        int status, accepted = 0, n, slow = 0, index = 0;
        const char *reply;
        long long arrived = sink__now_us();
        if (c->len == 0 || c->due_ms != 0)
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
        sink__header(c->buf, "X-Casehost-Timestamp", ts, sizeof(ts));
        sink__header(c->buf, "Content-Type", ct, sizeof(ct));
        for (int i = 0; i < *nkeys; i++)
            if (strcmp(keys[i].key, key) == 0) {
                k = &keys[i];
                index = i + 1;
            }
        if (k == NULL) {
            k = &keys[(*nkeys)++];
            snprintf(k->key, sizeof(k->key), "%s", key);
            index = *nkeys;
            slow = f->slow_every > 0 && index % f->slow_every == 0;
        }
        k->raw++;
        (*served)++;
        status = o->fail_all || *served <= o->fail_first ? 500 : 200;
        if ((f->fail_ms > 0 && sink__ms() < f->t0_ms + f->fail_ms) ||
            (f->fail_each_key && k->raw == 1) || (f->fail_every > 0 && index % f->fail_every == 0))
            status = 500;
        if (status == 200 && !k->accepted)
            accepted = k->accepted = 1;
        n = snprintf(line, sizeof(line), "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%lld\t%.*s\n", key,
                     sink__sig_ok(o->secret, ts, key, c->buf + head_len, body_len, sig),
                     strcmp(ct, "application/json") == 0, k->raw, accepted, status, ts, sig,
                     arrived, (int)(body_len < SINK_BODY ? body_len : SINK_BODY - 1),
                     c->buf + head_len);
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
        if (slow) {
            /* Answered later by sink__child: the sender's timeout runs out first. */
            c->due_ms = sink__ms() + f->slow_ms;
            c->reply = reply;
            c->done = total;
            return 0;
        }
        if (write(c->fd, reply, strlen(reply)) < 0)
            return -1;
        memmove(c->buf, c->buf + total, c->len - total);
        c->len -= total;
    }
}

/* Sends c's pending slow answer once it is due. 0, or -1 when the connection is to be closed. */
static inline int sink__answer_due(struct sink__conn *c)
{
    if (c->due_ms == 0 || sink__ms() < c->due_ms)
        return 0;
    c->due_ms = 0;
    if (write(c->fd, c->reply, strlen(c->reply)) < 0)
        return -1;
    memmove(c->buf, c->buf + c->done, c->len - c->done);
    c->len -= c->done;
    return 1;
}

/* The child's loop; never returns. lfd listens once f->down_ms has passed. */
static inline void sink__child(int lfd, const struct sink_options *o, const struct sink_faults *f)
{
    static struct sink__conn conns[SINK_MAX_CONN];
    struct sink__key *keys = calloc((size_t)o->max_requests + 1, sizeof(*keys));
    int rec_fd = open(o->records, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
    int nconn = 0, nkeys = 0, served = 0, listening = 0;
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
        int wait = 100;
        if (!listening && sink__ms() >= f->t0_ms + f->down_ms) {
            if (listen(lfd, 64) != 0)
                _exit(2);
            listening = 1;
        }
        p[0] = (struct pollfd){listening ? lfd : -1, POLLIN, 0};
        for (int i = 0; i < nconn; i++) {
            p[i + 1] = (struct pollfd){conns[i].fd, POLLIN, 0};
            if (conns[i].due_ms != 0 && conns[i].due_ms - sink__ms() < wait)
                wait = conns[i].due_ms - sink__ms() > 0 ? (int)(conns[i].due_ms - sink__ms()) : 0;
        }
        if (!listening && f->t0_ms + f->down_ms - sink__ms() < wait)
            wait = (int)(f->t0_ms + f->down_ms - sink__ms());
        poll(p, (nfds_t)nconn + 1, wait < 0 ? 0 : wait);
        for (int i = nconn - 1; i >= 0; i--) {
            struct sink__conn *c = &conns[i];
            ssize_t k = 1;
            int rc = sink__answer_due(c);
            if (p[i + 1].revents != 0) {
                k = read(c->fd, c->buf + c->len, SINK_BUF - 1 - c->len);
                if (k > 0)
                    c->len += (size_t)k;
            }
            if (rc >= 0 && k > 0 && (rc > 0 || p[i + 1].revents != 0))
                rc = sink__serve(c, o, f, keys, &nkeys, &served, rec_fd);
            if (k <= 0 || rc < 0) {
                close(c->fd);
                free(c->buf);
                conns[i] = conns[--nconn];
            }
        }
        if ((p[0].revents & POLLIN) && nconn < SINK_MAX_CONN) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= 0) {
                memset(&conns[nconn], 0, sizeof(conns[nconn]));
                conns[nconn].fd = fd;
                if ((conns[nconn].buf = malloc(SINK_BUF)) == NULL)
                    _exit(2);
                nconn++;
            }
        }
    }
    _exit(0);
}

/*
 * Starts the receiver with faults (f may be NULL: none; copied); 0, or -1
 * with errno. Stop it with sink_stop().
 */
static inline int sink_start_faulty(struct sink *s, const struct sink_options *o,
                                    const struct sink_faults *f)
{
    struct sink_faults faults;
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    memset(&faults, 0, sizeof(faults));
    if (f != NULL)
        faults = *f;
    faults.t0_ms = sink__ms();
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* Bound but not listening: connections are refused (the receiver is down). */
    if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        (faults.down_ms <= 0 && listen(lfd, 64) != 0) ||
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
        sink__child(lfd, o, &faults);
    close(lfd);
    return 0;
}

/* Starts the receiver; 0, or -1 with errno. Stop it with sink_stop(). */
static inline int sink_start(struct sink *s, const struct sink_options *o)
{
    return sink_start_faulty(s, o, NULL);
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
    static char line[SINK_KEY + SINK_BODY + 512];
    int n = 0;
    if (f == NULL)
        return -1;
    while (n < max && fgets(line, sizeof(line), f) != NULL) {
        struct sink_record *r = &recs[n];
        char *field[10], *p = line;
        int nf = 0;
        line[strcspn(line, "\n")] = '\0';
        while (nf < 10) {
            field[nf++] = p;
            if (nf == 10 || (p = strchr(p, '\t')) == NULL)
                break;
            *p++ = '\0';
        }
        if (nf != 10)
            continue;
        snprintf(r->key, sizeof(r->key), "%.200s", field[0]);
        r->sig_ok = (int)strtol(field[1], NULL, 10);
        r->ct_ok = (int)strtol(field[2], NULL, 10);
        r->raw = (int)strtol(field[3], NULL, 10);
        r->accepted = (int)strtol(field[4], NULL, 10);
        r->status = (int)strtol(field[5], NULL, 10);
        snprintf(r->timestamp, sizeof(r->timestamp), "%.31s", field[6]);
        snprintf(r->signature, sizeof(r->signature), "%.159s", field[7]);
        r->arrived_us = strtoll(field[8], NULL, 10);
        snprintf(r->body, sizeof(r->body), "%.4095s", field[9]);
        n++;
    }
    fclose(f);
    return n;
}

#endif
