/*
 * webhook_url.c: the https-only rule for webhooks, with the loopback
 * exception. It must never treat a name that merely starts like a loopback
 * address (127.0.0.1.example.org, localhost.evil) as one.
 */
#include "routing/webhook_url.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* The host of an http(s) url: [start, *len), without userinfo, brackets or port. */
static const char *url_host(const char *url, size_t *len)
{
    const char *p, *end, *at;
    if (strncasecmp(url, "https://", 8) == 0)
        p = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        p = url + 7;
    else
        return NULL;
    end = p + strcspn(p, "/?#");
    /* userinfo@host: the host is after the last '@' of the authority */
    for (at = p; at < end; at++)
        if (*at == '@')
            p = at + 1;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (close == NULL || (close + 1 != end && close[1] != ':'))
            return NULL;
        *len = (size_t)(close - p - 1);
        return p + 1;
    }
    for (at = p; at < end && *at != ':'; at++)
        ;
    *len = (size_t)(at - p);
    return p;
}

/* 127.a.b.c with each part a decimal 0..255, and nothing else. */
static int is_loopback_v4(const char *h, size_t len)
{
    int parts = 0, digits = 0, value = 0;
    if (len < 7 || strncmp(h, "127.", 4) != 0)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || h[i] == '.') {
            if (digits == 0 || value > 255)
                return 0;
            parts++;
            digits = value = 0;
        } else if (h[i] >= '0' && h[i] <= '9' && digits < 3) {
            value = value * 10 + (h[i] - '0');
            digits++;
        } else {
            return 0;
        }
    }
    return parts == 4;
}

/* ::1 in any spelling of zero groups (0:0:0:0:0:0:0:1, ::0:1). */
static int is_loopback_v6(const char *h, size_t len)
{
    int groups = 0, last = -1, gap = 0, trailing = 0;
    size_t i = 0;
    if (len < 3)
        return 0;
    while (i < len) {
        int value = 0, digits = 0;
        if (h[i] == ':') {
            if (i + 1 < len && h[i + 1] == ':') {
                if (gap)
                    return 0;
                gap = trailing = 1;
                i += 2;
                continue;
            }
            if (i == 0)
                return 0;
            trailing = 1;
            i++;
            continue;
        }
        while (i < len && h[i] != ':') {
            char c = h[i];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0 || ++digits > 4)
                return 0;
            value = value * 16 + d;
            i++;
        }
        if (last > 0)
            return 0; /* a non-zero group before the last one */
        last = value;
        groups++;
        trailing = 0;
    }
    return !trailing && last == 1 && (gap ? groups <= 7 : groups == 8);
}

int routing_url_is_loopback(const char *url)
{
    size_t len = 0;
    const char *h = url != NULL ? url_host(url, &len) : NULL;
    if (h == NULL || len == 0)
        return 0;
    if (len == 9 && strncasecmp(h, "localhost", 9) == 0)
        return 1;
    return is_loopback_v4(h, len) || is_loopback_v6(h, len);
}

const char *routing_webhook_url_problem(const char *url)
{
    size_t len = 0;
    if (url == NULL || url_host(url, &len) == NULL || len == 0)
        return "must start with https:// (http:// only to a loopback address)";
    if (strncasecmp(url, "https://", 8) == 0)
        return NULL;
    if (routing_url_is_loopback(url))
        return NULL;
    return "must use https:// (plain http:// only to a loopback address: 127.0.0.0/8, [::1], "
           "localhost)";
}
