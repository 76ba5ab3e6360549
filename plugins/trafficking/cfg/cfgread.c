/*
 * cfgread.c: typed, checked reading of libconfig members with file:line reports,
 * shared by every loader of the plugin (instruments, triggers, routing, fixtures,
 * what-if inputs), and the one place that reads those files from disk.
 *
 * Reads only the file it is given, and never more than CFGREAD_MAX_FILE of it;
 * never exits, never stops at the first error.
 */
#include "cfg/cfgread.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <openssl/evp.h>

/* Keeps a copy of msg for cfgread_flush; 0, or -1 when out of memory. */
static int hold(struct cfgread *r, int line, int col, const char *msg)
{
    if (r->n_held == r->cap_held) {
        size_t cap = r->cap_held ? r->cap_held * 2 : 16;
        struct cfgread_msg *held = realloc(r->held, cap * sizeof(*held));
        if (held == NULL)
            return -1;
        r->held = held;
        r->cap_held = cap;
    }
    char *copy = strdup(msg);
    if (copy == NULL)
        return -1;
    r->held[r->n_held++] = (struct cfgread_msg){.line = line, .col = col, .text = copy};
    return 0;
}

void cfgread_error(struct cfgread *r, int line, int col, const char *ctx, const char *fmt, ...)
{
    char body[400];
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    if (ctx != NULL && ctx[0] != '\0')
        snprintf(msg, sizeof(msg), "%s: %s", ctx, body);
    else
        snprintf(msg, sizeof(msg), "%s", body);
    r->errors++;
    if (hold(r, line, col, msg) != 0 && r->report != NULL)
        r->report(r->ud, r->file, line, col, msg); /* out of memory: out of order, not lost */
}

void cfgread_flush(struct cfgread *r)
{
    /* Insertion sort: stable, and a file has a handful of problems. */
    for (size_t i = 1; i < r->n_held; i++) {
        struct cfgread_msg m = r->held[i];
        size_t j = i;
        while (j > 0 && (r->held[j - 1].line > m.line ||
                         (r->held[j - 1].line == m.line && r->held[j - 1].col > m.col))) {
            r->held[j] = r->held[j - 1];
            j--;
        }
        r->held[j] = m;
    }
    for (size_t i = 0; i < r->n_held; i++) {
        if (r->report != NULL)
            r->report(r->ud, r->file, r->held[i].line, r->held[i].col, r->held[i].text);
        free(r->held[i].text);
    }
    free(r->held);
    r->held = NULL;
    r->n_held = r->cap_held = 0;
}

char *cfgread_strdup(struct cfgread *r, const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        cfgread_error(r, 0, 0, NULL, "out of memory");
    return d;
}

int cfgread_line(const config_setting_t *s)
{
    return (int)config_setting_source_line(s);
}

static void sha256_hex(const char *text, size_t len, char hash[CFGREAD_HASH_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    hash[0] = '\0';
    if (!EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) || mdlen * 2 != CFGREAD_HASH_LEN)
        return;
    for (unsigned i = 0; i < mdlen; i++) {
        hash[2 * i] = hex[md[i] >> 4];
        hash[2 * i + 1] = hex[md[i] & 0xf];
    }
    hash[CFGREAD_HASH_LEN] = '\0';
}

/* ---------------------------------------------------------- dependencies --- */

static _Thread_local struct cfgread_deps *recording;

void cfgread_deps_record(struct cfgread_deps *d)
{
    recording = d;
}

void cfgread_deps_release(struct cfgread_deps *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].path);
    free(d->v);
    memset(d, 0, sizeof(*d));
}

static void note(enum cfgread_dep_kind kind, const char *path, const char *hash)
{
    struct cfgread_deps *d = recording;
    if (d == NULL || d->failed)
        return;
    if (hash[0] == '\0' && kind != CFGREAD_DEP_NO_DIR) {
        d->failed = 1;
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 32;
        struct cfgread_dep *v = realloc(d->v, cap * sizeof(*v));
        if (v == NULL) {
            d->failed = 1;
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    struct cfgread_dep *e = &d->v[d->n];
    memset(e, 0, sizeof(*e)); /* every byte is written into the compiled copy */
    e->kind = kind;
    e->path = strdup(path);
    snprintf(e->hash, sizeof(e->hash), "%s", hash);
    if (e->path == NULL)
        d->failed = 1;
    else
        d->n++;
}

/* The file name of a path cfgread_list_cfg_files made. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/*
 * SHA-256 of a listing: each file name and its NUL, in order; "" without
 * memory. Names, not paths: the same folder copied elsewhere lists the same.
 */
static void listing_hash(char *const *paths, size_t n, char hash[CFGREAD_HASH_LEN + 1])
{
    size_t total = 0, at = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(base_name(paths[i])) + 1;
    char *buf = malloc(total + 1);
    hash[0] = '\0';
    if (buf == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(base_name(paths[i])) + 1;
        memcpy(buf + at, base_name(paths[i]), l);
        at += l;
    }
    sha256_hex(buf, total, hash);
    free(buf);
}

static void note_listing(const char *dir, char *const *paths, size_t n)
{
    char hash[CFGREAD_HASH_LEN + 1];
    if (recording == NULL)
        return;
    listing_hash(paths, n, hash);
    note(CFGREAD_DEP_DIR, dir, hash);
}

int cfgread_is_dir(const char *path)
{
    struct stat st;
    int dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    if (!dir)
        note(CFGREAD_DEP_NO_DIR, path, "");
    return dir;
}

/* 1 when the dependency reads as recorded now. */
static int dep_same(const struct cfgread_dep *e)
{
    char hash[CFGREAD_HASH_LEN + 1] = "", err[200];
    char *text = NULL, **paths = NULL;
    size_t len = 0, n = 0;
    switch (e->kind) {
    case CFGREAD_DEP_FILE:
        if (cfgread_read_file(e->path, &text, &len, err, sizeof(err)) != 0)
            return 0;
        sha256_hex(text, len, hash);
        free(text);
        break;
    case CFGREAD_DEP_DIR:
        if (!cfgread_is_dir(e->path) ||
            cfgread_list_cfg_files(e->path, &paths, &n, err, sizeof(err)) != 0)
            return 0;
        listing_hash(paths, n, hash);
        cfgread_free_names(paths, n);
        break;
    case CFGREAD_DEP_NO_DIR:
        return !cfgread_is_dir(e->path);
    default:
        return 0;
    }
    return hash[0] != '\0' && strcmp(hash, e->hash) == 0;
}

int cfgread_deps_same(const struct cfgread_deps *d)
{
    struct cfgread_deps *was = recording;
    int same = d->n > 0 && !d->failed;
    recording = NULL; /* checking is not loading */
    for (size_t i = 0; i < d->n && same; i++)
        same = dep_same(&d->v[i]);
    recording = was;
    return same;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void cfgread_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int cfgread_list_cfg_files(const char *dir, char ***paths, size_t *n, char *err, size_t errlen)
{
    int rc = -1;
    char **v = NULL;
    size_t len = 0, cap = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "cannot open directory: %s", strerror(errno));
        goto out;
    }
    snprintf(err, errlen, "out of memory"); /* the only failure from here on */
    const char *sep = dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/";
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        size_t nl = strlen(e->d_name);
        if (e->d_name[0] == '.' || nl < 5 || strcmp(e->d_name + nl - 4, ".cfg") != 0)
            continue;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nv = realloc(v, ncap * sizeof(*nv));
            if (nv == NULL)
                goto out;
            v = nv;
            cap = ncap;
        }
        size_t plen = strlen(dir) + strlen(sep) + nl + 1;
        char *p = malloc(plen);
        if (p == NULL)
            goto out;
        snprintf(p, plen, "%s%s%s", dir, sep, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        v[len++] = p;
    }
    if (len > 1)
        qsort(v, len, sizeof(*v), cmp_names);
    note_listing(dir, v, len);
    *paths = v;
    *n = len;
    v = NULL;
    err[0] = '\0';
    rc = 0;
out:
    if (v != NULL)
        cfgread_free_names(v, len);
    if (d != NULL)
        closedir(d);
    return rc;
}

static void too_large(char *err, size_t errlen)
{
    snprintf(err, errlen, "larger than %d MiB, refused before parsing", CFGREAD_MAX_MIB);
}

int cfgread_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    const size_t max = (size_t)CFGREAD_MAX_FILE;
    int rc = -1;
    char *buf = NULL;
    size_t n = 0, cap;
    struct stat st;
    FILE *f = fopen(path, "rb");
    *text = NULL;
    *len = 0;
    if (f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        goto out;
    }
    if (fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max) {
        too_large(err, errlen);
        goto out;
    }
    /* The size is a first guess only: a file may grow while read, a pipe has none. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : 64 * 1024;
    buf = malloc(cap);
    for (;;) {
        size_t got;
        if (buf == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (cap - n < 2) { /* room for one more byte and the NUL */
            size_t want = cap * 2 < max + 2 ? cap * 2 : max + 2;
            char *bigger = realloc(buf, want);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
            cap = want;
            continue;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n > max) {
            too_large(err, errlen);
            goto out;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (memchr(buf, '\0', n) != NULL) {
        snprintf(err, errlen, "file contains a NUL byte");
        goto out;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (f != NULL)
        fclose(f);
    return rc;
}

/*
 * Reads the whole of path into *text (NUL-terminated, caller frees) and hashes
 * it. Returns 0, or -1 with a message in err.
 */
static int slurp(const char *path, char **text, size_t *len, char hash[CFGREAD_HASH_LEN + 1],
                 char *err, size_t errlen)
{
    if (cfgread_read_file(path, text, len, err, errlen) != 0)
        return -1;
    sha256_hex(*text, *len, hash);
    if (hash[0] == '\0') {
        snprintf(err, errlen, "cannot compute sha-256");
        free(*text);
        *text = NULL;
        *len = 0;
        return -1;
    }
    note(CFGREAD_DEP_FILE, path, hash);
    return 0;
}

/* The first line whose first non-blank text is "@include", or 0. */
static int include_line(const char *text)
{
    int line = 1;
    for (const char *p = text; *p != '\0'; line++) {
        p += strspn(p, " \t");
        if (strncmp(p, "@include", 8) == 0)
            return line;
        p = strchr(p, '\n');
        if (p == NULL)
            break;
        p++;
    }
    return 0;
}

int cfgread_load(struct cfgread *r, config_t *c, char **text, size_t *len,
                 char hash[CFGREAD_HASH_LEN + 1])
{
    char err[200];
    *text = NULL;
    *len = 0;
    if (slurp(r->file, text, len, hash, err, sizeof(err)) != 0) {
        cfgread_error(r, 0, 0, NULL, "%s", err);
        return -1;
    }
    r->text = *text;
    int line = include_line(r->text);
    if (line > 0) {
        cfgread_error(r, line, 0, NULL,
                      "@include is not allowed: a definition must be one self-contained file");
        return -1;
    }
    if (config_read_string(c, r->text) != CONFIG_TRUE) {
        cfgread_error(r, config_error_line(c), 0, NULL, "%s", config_error_text(c));
        return -1;
    }
    return 0;
}

static const char *type_phrase(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP:
        return "a group { ... }";
    case CONFIG_TYPE_LIST:
        return "a list ( ... )";
    case CONFIG_TYPE_ARRAY:
        return "an array [ ... ]";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "true or false";
    default:
        return "an integer";
    }
}

/* Looks up a direct member; reports a missing required one at the parent's line. */
static config_setting_t *member(struct cfgread *r, const config_setting_t *group, const char *ctx,
                                const char *name, int required)
{
    config_setting_t *s = config_setting_get_member(group, name);
    if (s == NULL && required)
        cfgread_error(r, cfgread_line(group), 0, ctx, "missing member '%s'", name);
    return s;
}

static int wrong_type(struct cfgread *r, const config_setting_t *s, const char *ctx, int type)
{
    cfgread_error(r, cfgread_line(s), 0, ctx, "'%s' must be %s", config_setting_name(s),
                  type_phrase(type));
    return -1;
}

void cfgread_members(struct cfgread *r, const config_setting_t *group, const char *ctx,
                     const char *const *allowed)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        size_t k = 0;
        while (allowed[k] != NULL && strcmp(allowed[k], name) != 0)
            k++;
        if (allowed[k] == NULL)
            cfgread_error(r, cfgread_line(s), 0, ctx, "unknown member '%s'", name);
    }
}

int cfgread_string(struct cfgread *r, const config_setting_t *group, const char *ctx,
                   const char *name, int required, const char **out)
{
    const config_setting_t *s = member(r, group, ctx, name, required);
    if (s == NULL)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return wrong_type(r, s, ctx, CONFIG_TYPE_STRING);
    const char *v = config_setting_get_string(s);
    if (v[0] == '\0') {
        cfgread_error(r, cfgread_line(s), 0, ctx, "'%s' must not be empty", name);
        return -1;
    }
    *out = v;
    return 1;
}

int cfgread_is_ident(const char *s)
{
    if (!(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

int cfgread_ident(struct cfgread *r, const config_setting_t *group, const char *ctx,
                  const char *name, int required, const char **out)
{
    const char *v = NULL;
    int rc = cfgread_string(r, group, ctx, name, required, &v);
    if (rc != 1)
        return rc;
    if (!cfgread_is_ident(v)) {
        cfgread_error(r, cfgread_line(config_setting_get_member(group, name)), 0, ctx,
                      "'%s' must be lowercase letters, digits and '_', starting with a letter "
                      "(got '%s')",
                      name, v);
        return -1;
    }
    *out = v;
    return 1;
}

int cfgread_bool(struct cfgread *r, const config_setting_t *group, const char *ctx,
                 const char *name, int required, int *out)
{
    const config_setting_t *s = member(r, group, ctx, name, required);
    if (s == NULL)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return wrong_type(r, s, ctx, CONFIG_TYPE_BOOL);
    *out = config_setting_get_bool(s) != 0;
    return 1;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '*';
}

/*
 * libconfig 1.5 stores an unsuffixed literal beyond 32 bits as a wrapped int,
 * so the author's number survives only in the text. Finds "name = literal" (or
 * "name: literal") on the setting's line whose low 32 bits match what libconfig
 * kept, and returns the literal's full value.
 */
static long long literal_value(const struct cfgread *r, const config_setting_t *s, long long parsed)
{
    const char *name = config_setting_name(s);
    size_t nlen = strlen(name);
    const char *p = r->text;
    for (int line = 1; p != NULL && line < cfgread_line(s); line++) {
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    if (p == NULL)
        return parsed;
    const char *end = strchr(p, '\n');
    if (end == NULL)
        end = p + strlen(p);
    for (const char *q = p; q + nlen <= end; q++) {
        if (strncmp(q, name, nlen) != 0 || (q > p && is_name_char(q[-1])))
            continue;
        const char *v = q + nlen;
        v += strspn(v, " \t");
        if (*v != '=' && *v != ':')
            continue;
        v++;
        v += strspn(v, " \t");
        char *after = NULL;
        errno = 0;
        int hex = (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) ||
                  (v[0] == '-' && v[1] == '0' && (v[2] == 'x' || v[2] == 'X'));
        long long lit = strtoll(v, &after, hex ? 16 : 10);
        if (after == v || errno == ERANGE)
            continue;
        if ((uint32_t)(unsigned long long)lit == (uint32_t)(unsigned long long)parsed)
            return lit;
    }
    return parsed;
}

int cfgread_int(struct cfgread *r, const config_setting_t *group, const char *ctx, const char *name,
                int required, long long min, long long max, long long *out)
{
    const config_setting_t *s = member(r, group, ctx, name, required);
    if (s == NULL)
        return 0;
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return wrong_type(r, s, ctx, CONFIG_TYPE_INT);
    long long v = config_setting_get_int64(s);
    if (type == CONFIG_TYPE_INT)
        v = literal_value(r, s, v);
    if (v < min || v > max) {
        if (max == LLONG_MAX)
            cfgread_error(r, cfgread_line(s), 0, ctx, "'%s' must be at least %lld (got %lld)", name,
                          min, v);
        else
            cfgread_error(r, cfgread_line(s), 0, ctx,
                          "'%s' must be between %lld and %lld (got %lld)", name, min, max, v);
        return -1;
    }
    *out = v;
    return 1;
}

const char *cfgread_join(const char *const *names, size_t n, char *buf, size_t len)
{
    size_t off = 0;
    if (len > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < n && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", names[i]);
    return buf;
}

int cfgread_enum(struct cfgread *r, const config_setting_t *group, const char *ctx,
                 const char *name, int required, const char *what, const char *const *names,
                 size_t n, int *out)
{
    const char *v = NULL;
    int rc = cfgread_string(r, group, ctx, name, required, &v);
    if (rc != 1)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], v) == 0) {
            *out = (int)i;
            return 1;
        }
    }
    char list[300];
    cfgread_error(r, cfgread_line(config_setting_get_member(group, name)), 0, ctx,
                  "unknown %s '%s' (expected one of %s)", what, v,
                  cfgread_join(names, n, list, sizeof(list)));
    return -1;
}

const config_setting_t *cfgread_aggregate(struct cfgread *r, const config_setting_t *group,
                                          const char *ctx, const char *name, int required, int type)
{
    const config_setting_t *s = member(r, group, ctx, name, required);
    if (s == NULL)
        return NULL;
    if (config_setting_type(s) != type) {
        wrong_type(r, s, ctx, type);
        return NULL;
    }
    return s;
}

const config_setting_t *cfgread_strings(struct cfgread *r, const config_setting_t *group,
                                        const char *ctx, const char *name, int min)
{
    const config_setting_t *a = cfgread_aggregate(r, group, ctx, name, 1, CONFIG_TYPE_ARRAY);
    if (a == NULL)
        return NULL;
    int n = config_setting_length(a);
    if (n > 0 && config_setting_type(config_setting_get_elem(a, 0)) != CONFIG_TYPE_STRING) {
        cfgread_error(r, cfgread_line(a), 0, ctx, "'%s' must hold strings", name);
        return NULL;
    }
    if (n < min) {
        cfgread_error(r, cfgread_line(a), 0, ctx, "'%s' needs at least %d %s", name, min,
                      min == 1 ? "entry" : "entries");
        return NULL;
    }
    return a;
}
