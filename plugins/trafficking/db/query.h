/*
 * query.h: the plugin's one way to run a statement and to say why one
 * failed. Values reach SQL only as text parameters; a failure reads as
 * PostgreSQL said it: what the caller was doing, the primary message, then
 * the server's DETAIL and HINT on lines of their own, as the host prints its
 * own errors:
 *
 *   cannot store the routing decision: destination "x" is not in the live configuration
 *   detail: ...
 *   hint: an admin with the config_admin grant runs: casehost config deploy
 *
 * Never commits, never retries, never builds SQL from values.
 */
#ifndef TRF_QUERY_H
#define TRF_QUERY_H

#include <stddef.h>

#include <casehost/plugin.h>

/*
 * Runs sql on conn with nparams text parameters (params[i] NULL is SQL
 * NULL; params may be NULL when nparams is 0). Returns the result when the
 * statement returned rows or completed (caller PQclear()s it), else NULL
 * with the message (see above) in err. what, when not NULL, is what the
 * caller was doing ("cannot read case 12"), printf-style, and heads the
 * message followed by ": "; the arguments are only formatted on failure.
 */
PGresult *trf_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                    char *err, size_t errlen, const char *what, ...) CH_PRINTF(7, 8);

/*
 * Writes the message of a failed result res (or, when res is NULL or holds
 * no message, of the connection) into err, headed by what (NULL: no head):
 * for statements run another way (prepared, pipelined). Returns err.
 */
char *trf_query_error(PGconn *conn, const PGresult *res, char *err, size_t errlen, const char *what,
                      ...) CH_PRINTF(5, 6);

/*
 * trf_query_error into a buffer of the calling statement's own, for a
 * message used at once: fail(ctx, "%s", TRF_QUERY_ERROR(conn, r, "case %s", id)).
 */
#define TRF_QUERY_ERROR(conn, res, ...)                                                            \
    trf_query_error((conn), (res), (char[1024]){0}, 1024, __VA_ARGS__)

/* The SQLSTATE of a failed result res ("" when it has none; static or borrowed from res). */
const char *trf_query_sqlstate(const PGresult *res);

#endif /* TRF_QUERY_H */
