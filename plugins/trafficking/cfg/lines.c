/*
 * lines.c: the plugin's one line reader (see lines.h). Reads whole lines
 * with getline, so a long line is never split into a second one; never
 * interprets what a line says.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cfg/lines.h"

void lines_from(struct lines *l, FILE *f, const char *name, long long max_bytes)
{
    memset(l, 0, sizeof(*l));
    l->f = f;
    l->name = name;
    l->max_bytes = max_bytes;
}

int lines_open(struct lines *l, const char *path, long long max_bytes, char *err, size_t errlen)
{
    struct stat st;
    lines_from(l, fopen(path, "rb"), path, max_bytes);
    if (l->f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    l->own = 1;
    /* A file too large is refused before any of it is parsed. */
    if (max_bytes > 0 && fstat(fileno(l->f), &st) == 0 && S_ISREG(st.st_mode) &&
        (long long)st.st_size > max_bytes) {
        /* In cfgread's words, so every file the plugin reads is refused alike. */
        if (max_bytes % (1024 * 1024) == 0)
            snprintf(err, errlen, "larger than %lld MiB, refused before parsing",
                     max_bytes / (1024 * 1024));
        else
            snprintf(err, errlen, "larger than %lld bytes, refused before parsing", max_bytes);
        return -1;
    }
    return 0;
}

int lines_next(struct lines *l, char *err, size_t errlen)
{
    const char *nul;
    ssize_t n;
    errno = 0;
    n = getline(&l->line, &l->cap, l->f);
    if (n < 0) {
        l->len = 0;
        if (ferror(l->f)) {
            snprintf(err, errlen, "%s:%lld: cannot read: %s", l->name, l->lineno + 1,
                     strerror(errno ? errno : EIO));
            return -1;
        }
        return 0;
    }
    l->lineno++;
    l->total += n;
    if (l->max_bytes > 0 && l->total > l->max_bytes) {
        snprintf(err, errlen, "%s: larger than %lld bytes, refused", l->name, l->max_bytes);
        return -1;
    }
    /* A C string would end at the NUL and the rest of the line would vanish unseen. */
    nul = memchr(l->line, '\0', (size_t)n);
    if (nul != NULL) {
        snprintf(err, errlen,
                 "%s:%lld: contains a NUL byte (byte %zu of the line); not a text file", l->name,
                 l->lineno, (size_t)(nul - l->line) + 1);
        return -1;
    }
    l->len = (size_t)n;
    if (l->len > 0 && l->line[l->len - 1] == '\n')
        l->line[--l->len] = '\0';
    if (l->len > 0 && l->line[l->len - 1] == '\r')
        l->line[--l->len] = '\0';
    return 1;
}

void lines_release(struct lines *l)
{
    free(l->line);
    if (l->own && l->f != NULL)
        fclose(l->f);
    memset(l, 0, sizeof(*l));
}
