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

#include "report.h"

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

/* Line where s was written (a missing member is reported at its parent's line). */
int cfgread_line(const config_setting_t *s);

/*
 * Reads the whole of path into *text (NUL-terminated, caller frees with free())
 * and writes the SHA-256 of its bytes as lowercase hex into hash. Returns 0, or
 * -1 with a message in err ("cannot open: No such file or directory").
 */
int cfgread_slurp(const char *path, char **text, size_t *len, char hash[CFGREAD_HASH_LEN + 1],
                  char *err, size_t errlen);

/*
 * Parses r->text into c (initialised by the caller, destroyed by the caller).
 * Refuses @include, because a definition's hash must cover all of it.
 * Returns 0, or -1 after reporting.
 */
int cfgread_parse(struct cfgread *r, config_t *c);

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
int cfgread_int(struct cfgread *r, const config_setting_t *group, const char *ctx,
                const char *name, int required, long long min, long long max, long long *out);
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

/* Non-zero when s is a lowercase identifier as cfgread_ident accepts. */
int cfgread_is_ident(const char *s);

/* Writes "a, b, c" of names into buf; returns buf. */
const char *cfgread_join(const char *const *names, size_t n, char *buf, size_t len);

#endif /* TRF_CFGREAD_H */
