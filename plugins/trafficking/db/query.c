/*
 * query.c: runs the plugin's parameterised statements and words their
 * failures as PostgreSQL gave them (primary message, DETAIL, HINT). It must
 * never put a value into SQL text and never drop what the server said.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/query.h"

/* Appends fmt to err at *n, never past errlen. */
static void append(char *err, size_t errlen, size_t *n, const char *fmt, ...) CH_PRINTF(4, 5);

static void append(char *err, size_t errlen, size_t *n, const char *fmt, ...)
{
    va_list ap;
    int k;
    if (*n >= errlen)
        return;
    va_start(ap, fmt);
    k = vsnprintf(err + *n, errlen - *n, fmt, ap);
    va_end(ap);
    if (k > 0)
        *n = *n + (size_t)k < errlen ? *n + (size_t)k : errlen - 1;
}

/* The message without its trailing newlines, as "%.*s" takes it. */
static int trimmed(const char *s)
{
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
        len--;
    return (int)len;
}

static void format_error(PGconn *conn, const PGresult *res, char *err, size_t errlen,
                         const char *what, va_list ap)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
    size_t n = 0;
    if (errlen == 0)
        return;
    err[0] = '\0';
    if (msg == NULL) /* no server error: libpq's own (connection lost, out of memory) */
        msg = res != NULL && PQresultErrorMessage(res)[0] != '\0' ? PQresultErrorMessage(res)
              : conn != NULL                                      ? PQerrorMessage(conn)
                                                                  : "";
    if (msg[0] == '\0')
        msg = "the statement failed without a message";
    if (what != NULL) {
        int k = vsnprintf(err, errlen, what, ap);
        if (k > 0)
            n = (size_t)k < errlen ? (size_t)k : errlen - 1;
        append(err, errlen, &n, ": ");
    }
    append(err, errlen, &n, "%.*s", trimmed(msg), msg);
    if (detail != NULL)
        append(err, errlen, &n, "\ndetail: %.*s", trimmed(detail), detail);
    if (hint != NULL)
        append(err, errlen, &n, "\nhint: %.*s", trimmed(hint), hint);
}

PGresult *trf_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                    char *err, size_t errlen, const char *what, ...)
{
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    va_list ap;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    va_start(ap, what);
    format_error(conn, r, err, errlen, what, ap);
    va_end(ap);
    PQclear(r);
    return NULL;
}

char *trf_query_error(PGconn *conn, const PGresult *res, char *err, size_t errlen, const char *what,
                      ...)
{
    va_list ap;
    va_start(ap, what);
    format_error(conn, res, err, errlen, what, ap);
    va_end(ap);
    return err;
}

const char *trf_query_sqlstate(const PGresult *res)
{
    const char *s = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s != NULL ? s : "";
}
