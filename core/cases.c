/*
 * cases.c: case writes followed by plugin hooks, in the caller's
 * transaction, so a case change and everything plugins write for it commit
 * or roll back together. Never commits; never prints.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cases.h"

static const char new_sql[] = "SELECT casehost.case_new($1::jsonb)";
static const char update_sql[] = "SELECT * FROM casehost.case_update($1, $2::jsonb)";
static const char close_sql[] = "SELECT * FROM casehost.case_close($1, $2)";
static const char note_sql[] = "SELECT casehost.note_add($1, $2)";

static int fire(struct ch_ctx *ctx, struct loader *l, const struct ch_event_data *ev)
{
    return loader_fire(l, ctx, ev) == 0 ? 0 : CASE_HOOK_ERROR;
}

int case_create(struct ch_ctx *ctx, struct loader *l, const char *fields_json, int64_t *id)
{
    struct ch_event_data ev = {sizeof(ev), CH_EV_CASE_CREATED, 0, 0, NULL, 0};
    PGresult *r = db_exec(ctx->conn, new_sql, 1, &fields_json, ctx->err, sizeof(ctx->err));
    if (r == NULL)
        return CASE_DB_ERROR;
    ev.case_id = *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return fire(ctx, l, &ev);
}

int case_modify(struct ch_ctx *ctx, struct loader *l, int64_t id, int closing, const char *arg,
                PGresult **changes)
{
    struct ch_event_data ev = {
        sizeof(ev), closing ? CH_EV_CASE_CLOSED : CH_EV_CASE_UPDATED, id, 0, NULL, 0};
    struct ch_change *ch;
    char idbuf[24];
    const char *params[2] = {idbuf, arg};
    PGresult *r;
    int rc;

    *changes = NULL;
    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
    r = db_exec(ctx->conn, closing ? close_sql : update_sql, 2, params, ctx->err, sizeof(ctx->err));
    if (r == NULL)
        return CASE_DB_ERROR;
    *changes = r;
    ev.n_changes = (size_t)PQntuples(r);
    if (ev.n_changes == 0)
        return 0;
    ch = calloc(ev.n_changes, sizeof(*ch));
    if (ch == NULL) {
        snprintf(ctx->err, sizeof(ctx->err), "out of memory");
        return CASE_DB_ERROR;
    }
    for (size_t i = 0; i < ev.n_changes; i++) {
        ch[i].field = PQgetvalue(r, (int)i, 0);
        ch[i].old_value = PQgetisnull(r, (int)i, 1) ? NULL : PQgetvalue(r, (int)i, 1);
        ch[i].new_value = PQgetisnull(r, (int)i, 2) ? NULL : PQgetvalue(r, (int)i, 2);
    }
    ev.changes = ch;
    rc = fire(ctx, l, &ev);
    free(ch);
    return rc;
}

int case_note(struct ch_ctx *ctx, struct loader *l, int64_t case_id, const char *body,
              int64_t *note_id)
{
    struct ch_event_data ev = {sizeof(ev), CH_EV_NOTE_ADDED, case_id, 0, NULL, 0};
    char idbuf[24];
    const char *params[2] = {idbuf, body};
    PGresult *r;
    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)case_id);
    r = db_exec(ctx->conn, note_sql, 2, params, ctx->err, sizeof(ctx->err));
    if (r == NULL)
        return CASE_DB_ERROR;
    ev.note_id = *note_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return fire(ctx, l, &ev);
}
