/*
 * cfgread.h: typed, checked reading of libconfig members for the trafficking
 * plugin's loaders, reporting each problem with file:line and carrying on.
 *
 * Never exits and never stops at the first error; never trusts libconfig 1.5's
 * 32-bit int reads (big literals wrap or read as 0).
 */
#ifndef TRF_CFGREAD_H
#define TRF_CFGREAD_H

#include <stddef.h>

#include <libconfig.h>

#include "cfg/report.h"

#define CFGREAD_HASH_LEN 64 /* hex digits of a SHA-256 */

struct cfgread_msg {
    int line;
    int col;
    char *text;
};

/*
 * One file being validated. file, text and ud are borrowed for the reader's
 * life. Problems are held back and handed to report in line order by
 * cfgread_flush, so an author reads them top to bottom whatever order the
 * checks ran in. Start with `struct cfgread r = {.file = ..., ...}`.
 */
struct cfgread {
    const char *file; /* path as given; used in every report */
    const char *text; /* the raw text that was parsed, NUL-terminated */
    trf_report_fn report;
    void *ud;
    int errors; /* problems found so far, flushed or not */
    struct cfgread_msg *held;
    size_t n_held;
    size_t cap_held;
};

#if defined(__GNUC__)
#define CFGREAD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CFGREAD_PRINTF(f, a)
#endif

/*
 * Reports one problem. ctx, when not NULL or empty, prefixes the message
 * ("item 'x': ..."). line 0 means the whole file; col 0 means no column.
 */
void cfgread_error(struct cfgread *r, int line, int col, const char *ctx, const char *fmt, ...)
    CFGREAD_PRINTF(5, 6);

/*
 * Reports the held problems sorted by line, then column (stable), and forgets
 * them. Must be called before the reader goes away; errors keeps its count.
 */
void cfgread_flush(struct cfgread *r);

/* strdup that reports "out of memory" instead of failing silently; caller frees. */
char *cfgread_strdup(struct cfgread *r, const char *s);

/* Line where s was written (a missing member is reported at its parent's line). */
int cfgread_line(const config_setting_t *s);

/*
 * The largest file the plugin parses: 4 MiB, for every file it reads
 * (instrument definitions, screening.cfg, destinations.cfg, routing.cfg,
 * routing fixtures, what-if case files). They are small hand-written files;
 * a bigger one is refused before any parser sees it, so a mistaken or
 * hostile file cannot take the memory and time of whatever loads it.
 */
#define CFGREAD_MAX_MIB 4
#define CFGREAD_MAX_FILE ((long long)CFGREAD_MAX_MIB * 1024 * 1024)

/*
 * Reads path whole into *text (NUL-terminated; caller frees with free(), NULL
 * on failure) and its length into *len, refusing a file larger than
 * CFGREAD_MAX_FILE before reading it (and a pipe that grows past it while
 * read). Returns 0, or -1 with the reason in err: "larger than 4 MiB,
 * refused before parsing", "cannot open: ...", "file contains a NUL byte".
 * The path is not in err: the caller reports it ("FILE: ...").
 */
int cfgread_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen);

/*
 * Reads r->file whole (through cfgread_read_file) and parses it into c
 * (initialised and destroyed by the caller). *text receives the NUL-terminated bytes (caller frees
 * with free(), also on failure) and r->text points to them; hash receives their SHA-256 as
 * lowercase hex, so a stored screening or decision can name exactly what it
 * used. @include is refused because the hash must cover the whole definition.
 * Returns 0, or -1 after reporting why (unreadable file, syntax error).
 */
int cfgread_load(struct cfgread *r, config_t *c, char **text, size_t *len,
                 char hash[CFGREAD_HASH_LEN + 1]);

/* Reports every member of group whose name is not in allowed (NULL-terminated). */
void cfgread_members(struct cfgread *r, const config_setting_t *group, const char *ctx,
                     const char *const *allowed);

/*
 * Member readers. Each returns 1 when the member is present and valid (and
 * sets *out), 0 when it is absent (reported if required), -1 when it is
 * present but wrong (reported). Strings are borrowed from the config.
 */
int cfgread_string(struct cfgread *r, const config_setting_t *group, const char *ctx,
                   const char *name, int required, const char **out);
/* A string of lowercase letters, digits and '_' that starts with a letter. */
int cfgread_ident(struct cfgread *r, const config_setting_t *group, const char *ctx,
                  const char *name, int required, const char **out);
int cfgread_bool(struct cfgread *r, const config_setting_t *group, const char *ctx,
                 const char *name, int required, int *out);
/* An integer read as 64 bits and checked against [min, max]. */
int cfgread_int(struct cfgread *r, const config_setting_t *group, const char *ctx, const char *name,
                int required, long long min, long long max, long long *out);
/*
 * A string naming one of names[0 .. n-1]; *out is its index. what names the
 * kind of thing in the message: "unknown domain 'x' (expected one of ...)".
 */
int cfgread_enum(struct cfgread *r, const config_setting_t *group, const char *ctx,
                 const char *name, int required, const char *what, const char *const *names,
                 size_t n, int *out);
/*
 * A member of type CONFIG_TYPE_GROUP, _LIST or _ARRAY; NULL when absent or of
 * another type (both reported as for the readers above).
 */
const config_setting_t *cfgread_aggregate(struct cfgread *r, const config_setting_t *group,
                                          const char *ctx, const char *name, int required,
                                          int type);

/*
 * A required array of at least min strings; NULL when absent, of another type
 * or too short (all reported).
 */
const config_setting_t *cfgread_strings(struct cfgread *r, const config_setting_t *group,
                                        const char *ctx, const char *name, int min);

/* Non-zero when s is a lowercase identifier as cfgread_ident accepts. */
int cfgread_is_ident(const char *s);

/* Writes "a, b, c" of names into buf; returns buf. */
const char *cfgread_join(const char *const *names, size_t n, char *buf, size_t len);

#endif /* TRF_CFGREAD_H */
