/*
 * show.c: runs a command's read and hands its rows to the host's output
 * tree (see show.h).
 */
#include "cli/show.h"

#include "db/query.h"

PGresult *trf_show_result(struct trf *t, struct ch_ctx *ctx, const char *what, const char *sql,
                          int n, const char *const *params, const char *key, unsigned flags)
{
    char err[1024];
    PGresult *r = trf_query(t->api->conn(ctx), sql, n, params, err, sizeof(err), "%s", what);
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return NULL;
    }
    if ((flags & TRF_SHOW_MUST_EXIST) && PQntuples(r) == 0) {
        PQclear(r);
        t->api->fail(ctx, "%s not found", what);
        return NULL;
    }
    if (key != NULL)
        t->api->out_result(ctx, key, r, (flags & TRF_SHOW_ROWS) != 0);
    else if (PQntuples(r) > 0)
        for (int c = 0; c < PQnfields(r); c++)
            t->api->out_str(ctx, PQfname(r, c), PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c));
    return r;
}

int trf_show(struct trf *t, struct ch_ctx *ctx, const char *what, const char *sql, int n,
             const char *const *params, const char *key, unsigned flags)
{
    PGresult *r = trf_show_result(t, ctx, what, sql, n, params, key, flags);
    PQclear(r);
    return r != NULL ? CH_OK : CH_ERROR;
}
