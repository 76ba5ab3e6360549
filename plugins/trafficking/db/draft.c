/*
 * draft.c: screening drafts in the database (see draft.h). Every read and
 * write goes through the SECURITY DEFINER functions of
 * 016_screening_drafts.sql, which check the case and audit; answers travel
 * as JSON built with jansson, never by hand, and reach SQL as a parameter.
 * The tick's purge of old drafts is retention.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/draft.h"
#include "db/query.h"

static const char save_sql[] =
    "SELECT trafficking.screening_draft_save_v1($1, $2, $3::integer, $4::jsonb)";
static const char load_sql[] =
    "SELECT instrument, version, answers, answered, coalesce(saved_by, ''), saved_at"
    "  FROM trafficking.screening_draft_of_v1($1, $2)";
static const char discard_sql[] = "SELECT trafficking.screening_draft_discard_v1($1, $2)";
static const char list_sql[] = "SELECT instrument, answered, saved_by, saved_at"
                               "  FROM trafficking.screening_drafts_v1($1)";

int screening_draft_save(PGconn *conn, int64_t case_id, const struct instrument *inst,
                         const json_t *answers, char *err, size_t errlen)
{
    char id[24], version[16];
    char *text = json_dumps(answers, JSON_COMPACT);
    const char *params[4] = {id, inst->id, version, text};
    PGresult *r;
    int n = -1;
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    snprintf(version, sizeof(version), "%d", inst->version);
    r = trf_query(conn, save_sql, 4, params, err, errlen,
                  "cannot save the answers so far of case %s", id);
    if (r != NULL)
        n = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    free(text);
    return n;
}

/* A copy of s (caller frees), or NULL when memory ran out. */
static char *copy(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c != NULL)
        memcpy(c, s, n);
    return c;
}

int screening_draft_load(PGconn *conn, int64_t case_id, const char *instrument,
                         struct screening_draft *d, char *err, size_t errlen)
{
    char id[24];
    const char *params[2] = {id, instrument};
    json_error_t je;
    PGresult *r;
    int rc = -1;
    memset(d, 0, sizeof(*d));
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    r = trf_query(conn, load_sql, 2, params, err, errlen, NULL);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 0) {
        rc = 0;
        goto out;
    }
    d->instrument = copy(PQgetvalue(r, 0, 0));
    d->version = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10);
    d->answers = json_loads(PQgetvalue(r, 0, 2), 0, &je);
    d->answered = (int)strtol(PQgetvalue(r, 0, 3), NULL, 10);
    d->saved_by = copy(PQgetvalue(r, 0, 4));
    d->saved_at = copy(PQgetvalue(r, 0, 5));
    if (d->instrument == NULL || d->saved_by == NULL || d->saved_at == NULL ||
        !json_is_object(d->answers)) {
        snprintf(err, errlen, "case %s: cannot read its saved answers", id);
        screening_draft_release(d);
        goto out;
    }
    rc = 1;
out:
    PQclear(r);
    return rc;
}

void screening_draft_release(struct screening_draft *d)
{
    free(d->instrument);
    free(d->saved_by);
    free(d->saved_at);
    json_decref(d->answers);
    memset(d, 0, sizeof(*d));
}

int screening_draft_discard(PGconn *conn, int64_t case_id, const char *instrument, char *err,
                            size_t errlen)
{
    char id[24];
    const char *params[2] = {id, instrument};
    PGresult *r;
    int n = -1;
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    r = trf_query(conn, discard_sql, 2, params, err, errlen, NULL);
    if (r != NULL)
        n = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

PGresult *screening_drafts_of(PGconn *conn, const char *case_id, char *err, size_t errlen)
{
    const char *params[1] = {case_id};
    return trf_query(conn, list_sql, 1, params, err, errlen,
                     "cannot read the saved screening answers of case %s", case_id);
}
