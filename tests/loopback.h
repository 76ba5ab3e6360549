/*
 * loopback.h: what a program talking HTTP to a server it started on
 * loopback needs, shared by the Request Tracker suite and its bench: a port
 * nobody listens on now, and a libcurl write callback that keeps the whole
 * answer. Header-only (static functions), for test and bench programs.
 */
#ifndef CASEHOST_TEST_LOOPBACK_H
#define CASEHOST_TEST_LOOPBACK_H

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* An answer as it arrives (text NUL-terminated; caller free()s it). */
struct body {
    char *text;
    size_t len;
};

/* CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA a struct body *. */
static inline size_t body_collect(char *p, size_t size, size_t n, void *ud)
{
    struct body *b = ud;
    char *t = realloc(b->text, b->len + size * n + 1);
    if (t == NULL)
        return 0;
    memcpy(t + b->len, p, size * n);
    b->text = t;
    b->len += size * n;
    t[b->len] = '\0';
    return size * n;
}

/* A loopback TCP port nobody listens on now; 0 when none could be had. */
static inline int loopback_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

#endif
