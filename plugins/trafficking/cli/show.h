/*
 * show.h: the plugin commands' one way to run a read and show its rows:
 * through trf_query (values as parameters; PostgreSQL's message, DETAIL and
 * HINT kept when it fails) into the host's output tree.
 */
#ifndef TRF_SHOW_H
#define TRF_SHOW_H

#include "trf.h"

enum trf_show_flags {
    TRF_SHOW_ROWS = 1u << 0,       /* every row as an array; else the first row as an object */
    TRF_SHOW_MUST_EXIST = 1u << 1, /* no row is the failure "WHAT not found" */
};

/*
 * Runs sql with n text parameters and shows the result under key (NULL: the
 * first row's columns at the top level). what names the read in messages
 * ("screening 12"). CH_OK, or CH_ERROR after api->fail.
 */
int trf_show(struct trf *t, struct ch_ctx *ctx, const char *what, const char *sql, int n,
             const char *const *params, const char *key, unsigned flags);

/*
 * The same, for a command that offers next steps from what it read: the
 * result shown (caller PQclear()s it), or NULL after api->fail.
 */
PGresult *trf_show_result(struct trf *t, struct ch_ctx *ctx, const char *what, const char *sql,
                          int n, const char *const *params, const char *key, unsigned flags);

#endif /* TRF_SHOW_H */
