/*
 * pack.c: the byte buffer behind pack.h. Never reads past the buffer it was
 * given and never allocates more than the remaining bytes could describe.
 */
#include "cfg/pack.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PACK_NULL_STR UINT32_MAX

void pack_writer(struct pack *p)
{
    memset(p, 0, sizeof(*p));
}

void pack_reader(struct pack *p, const void *buf, size_t len)
{
    memset(p, 0, sizeof(*p));
    p->reading = 1;
    p->buf = (unsigned char *)(uintptr_t)buf;
    p->len = len;
}

void pack_release(struct pack *p)
{
    if (!p->reading)
        free(p->buf);
    memset(p, 0, sizeof(*p));
}

void pack_fail(struct pack *p)
{
    p->failed = 1;
}

/* Room for n more bytes in a writer; 0, or -1 (and failed) without memory. */
static int reserve(struct pack *p, size_t n)
{
    if (p->cap - p->len >= n)
        return 0;
    size_t cap = p->cap ? p->cap : 4096;
    while (cap - p->len < n) {
        if (cap > SIZE_MAX / 2) {
            p->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    unsigned char *b = realloc(p->buf, cap);
    if (b == NULL) {
        p->failed = 1;
        return -1;
    }
    p->buf = b;
    p->cap = cap;
    return 0;
}

void pack_raw(struct pack *p, void *v, size_t n)
{
    if (p->failed)
        return;
    if (p->reading) {
        if (p->len - p->at < n) {
            p->failed = 1;
            return;
        }
        memcpy(v, p->buf + p->at, n);
        p->at += n;
        return;
    }
    if (reserve(p, n) == 0) {
        memcpy(p->buf + p->len, v, n);
        p->len += n;
    }
}

void pack_str(struct pack *p, char **s)
{
    uint32_t n = 0;
    if (!p->reading) {
        size_t len = *s != NULL ? strlen(*s) : 0;
        if (len >= PACK_NULL_STR) {
            p->failed = 1;
            return;
        }
        n = *s != NULL ? (uint32_t)len : PACK_NULL_STR;
        PACK(p, n);
        if (*s != NULL)
            pack_raw(p, *s, len);
        return;
    }
    *s = NULL;
    PACK(p, n);
    if (p->failed || n == PACK_NULL_STR)
        return;
    if (p->len - p->at < n) {
        p->failed = 1;
        return;
    }
    *s = malloc((size_t)n + 1);
    if (*s == NULL) {
        p->failed = 1;
        return;
    }
    pack_raw(p, *s, n);
    (*s)[n] = '\0';
}

const char *pack_relative(const char *root, const char *s)
{
    size_t n = root != NULL ? strlen(root) : 0;
    if (n == 0 || s == NULL || strncmp(s, root, n) != 0 || (s[n] != '/' && root[n - 1] != '/'))
        return NULL;
    return s + n;
}

void pack_path(struct pack *p, char **s, int relative_ok)
{
    const char *rel = p->reading || !relative_ok ? NULL : pack_relative(p->root, *s);
    unsigned char relative = rel != NULL;
    char *part = (char *)(uintptr_t)(rel != NULL ? rel : *s);
    PACK(p, relative);
    if (!p->reading) {
        pack_str(p, &part);
        return;
    }
    pack_str(p, s);
    if (p->failed || !relative)
        return;
    if (*s == NULL || p->root == NULL) {
        pack_fail(p);
        return;
    }
    size_t n = strlen(p->root) + strlen(*s) + 1;
    char *whole = malloc(n);
    if (whole == NULL) {
        pack_fail(p);
        return;
    }
    snprintf(whole, n, "%s%s", p->root, *s);
    free(*s);
    *s = whole;
}

void *pack_array(struct pack *p, void *cur, size_t *n, size_t size)
{
    uint64_t count = *n;
    PACK(p, count);
    if (!p->reading || p->failed)
        return p->reading ? NULL : cur;
    /* Every element packs at least one byte: a larger count is a damaged file. */
    if (count > p->len - p->at || count > SIZE_MAX / (size ? size : 1)) {
        p->failed = 1;
        return NULL;
    }
    *n = (size_t)count;
    if (count == 0)
        return NULL;
    void *v = calloc((size_t)count, size);
    if (v == NULL) {
        p->failed = 1;
        *n = 0;
    }
    return v;
}

void pack_strs(struct pack *p, char ***v, size_t *n)
{
    size_t count = *n;
    char **arr = pack_array(p, *v, &count, sizeof(**v));
    if (p->reading) {
        *v = arr;
        *n = arr != NULL ? count : 0;
    }
    for (size_t i = 0; i < *n && !p->failed; i++)
        pack_str(p, &(*v)[i]);
}

int pack_present(struct pack *p, const void *ptr)
{
    unsigned char there = ptr != NULL;
    PACK(p, there);
    return !p->failed && there;
}
