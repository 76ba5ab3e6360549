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

/*
 * Paths of the *.cfg regular files in dir (names not starting with '.'),
 * sorted by file name in byte order whatever the locale. Returns 0 and
 * *paths (caller frees with cfgread_free_names), or -1 with a message in err.
 */
int cfgread_list_cfg_files(const char *dir, char ***paths, size_t *n, char *err, size_t errlen);
void cfgread_free_names(char **names, size_t n);

/* 1 when path is a directory (followed through links), else 0. */
int cfgread_is_dir(const char *path);

/*
 * What a configuration load depended on: every file cfgread_load read (with
 * the SHA-256 of the text it parsed), every folder cfgread_list_cfg_files
 * listed (with the SHA-256 of the listing) and every folder cfgread_is_dir
 * found absent. The compiled-configuration cache keeps this list and uses a
 * compiled configuration only while every entry reads the same again.
 */
enum cfgread_dep_kind { CFGREAD_DEP_FILE = 1, CFGREAD_DEP_DIR, CFGREAD_DEP_NO_DIR };

struct cfgread_dep {
    enum cfgread_dep_kind kind;
    char *path;
    char hash[CFGREAD_HASH_LEN + 1]; /* "" for CFGREAD_DEP_NO_DIR */
};

struct cfgread_deps {
    struct cfgread_dep *v;
    size_t n, cap;
    int failed; /* out of memory while recording: the list is incomplete */
};

/*
 * Starts recording into d (borrowed until cfgread_deps_record(NULL)), for
 * this thread only; loads started meanwhile add to it.
 */
void cfgread_deps_record(struct cfgread_deps *d);
void cfgread_deps_release(struct cfgread_deps *d);

/* 1 when every recorded file and folder reads exactly as recorded now, else 0. */
int cfgread_deps_same(const struct cfgread_deps *d);

/* Non-zero when s is a lowercase identifier as cfgread_ident accepts. */
int cfgread_is_ident(const char *s);

/* Writes "a, b, c" of names into buf; returns buf. */
const char *cfgread_join(const char *const *names, size_t n, char *buf, size_t len);

#endif /* TRF_CFGREAD_H */
