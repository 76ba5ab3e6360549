/*
 * cmd_determination.c: `episode` (when a person was exploited: its own dates,
 * so that the age at exploitation can be computed, a kind and a note) and
 * `determination` (at risk, suspected or confirmed, recorded by a person
 * with a reason), and their part of `case show`. A determination is a
 * person's finding, never a screening result: nothing here reads or writes
 * screenings. The SQL functions of sql/trafficking/010_determinations.sql
 * check every value, decide who may, and audit; values reach them only as
 * parameters.
 */
#include <stdio.h>
#include <string.h>

#include "cli/enums.h"
#include "cli/show.h"
#include "db/query.h"
#include "trf.h"

/*
 * The SQLSTATEs with which the database refuses what the person typed or
 * who they are: data exceptions (class 22: a blank reason, --to before
 * --from), a CHECK, and insufficient_privilege. They are usage errors
 * (exit 2), like the host's own refusals of a bad call.
 */
static int refuses_the_call(const char *sqlstate)
{
    return strncmp(sqlstate, "22", 2) == 0 || strcmp(sqlstate, "23514") == 0 ||
           strcmp(sqlstate, "42501") == 0;
}

/*
 * Runs the write sql (n text parameters) about what ("case 12") and shows
 * its one row under key. CH_OK; CH_USAGE when the database refused the
 * call (refuses_the_call), CH_ERROR on any other failure, both after
 * api->fail with PostgreSQL's message, DETAIL and HINT.
 */
static int write_show(struct trf *t, struct ch_ctx *ctx, const char *what, const char *sql, int n,
                      const char *const *params, const char *key)
{
    PGconn *conn = t->api->conn(ctx);
    PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    int rc = CH_ERROR;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        t->api->fail(ctx, "%s", TRF_QUERY_ERROR(conn, r, "%s", what));
        rc = refuses_the_call(trf_query_sqlstate(r)) ? CH_USAGE : CH_ERROR;
        goto out;
    }
    if (PQntuples(r) != 1) {
        t->api->fail(ctx, "%s: the database returned %d rows, want one", what, PQntuples(r));
        goto out;
    }
    t->api->out_result(ctx, key, r, 0);
    rc = CH_OK;
out:
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------ episode --- */

enum { EA_CASE, EA_FROM, EA_TO, EA_KIND, EA_NOTE };
static const struct ch_arg episode_add_args[] = {
    [EA_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [EA_FROM] = {"--from", CH_ARG_DATE, CH_ARG_REQUIRED,
                 "the day the exploitation began (approximate: say so in --note)", NULL,
                 "YYYY-MM-DD", 0, 0},
    [EA_TO] = {"--to", CH_ARG_DATE, 0, "the day it ended; leave out while it goes on", NULL,
               "YYYY-MM-DD", 0, 0},
    [EA_KIND] = {"--kind", CH_ARG_ENUM, 0, "the kind of exploitation, as far as known",
                 trf_episode_kinds, NULL, 0, 0},
    [EA_NOTE] = {"--note", CH_ARG_TEXT, CH_ARG_REQUIRED, "what is known of it, and from whom", NULL,
                 NULL, 0, 0},
};

static int episode_add(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    /* The stored dates, not the words typed ('today'), come back. */
    static const char sql[] =
        "SELECT trafficking.episode_record_v1($1, $2::date, $3::date, $4, $5) AS episode,"
        "       $1::bigint AS case, to_char($2::date, 'YYYY-MM-DD') AS started_on,"
        "       to_char($3::date, 'YYYY-MM-DD') AS ended_on, $4::text AS kind";
    struct trf *t = ud;
    const char *params[5] = {v[EA_CASE].text, v[EA_FROM].text, v[EA_TO].text, v[EA_KIND].text,
                             v[EA_NOTE].text};
    char what[64];
    int rc;
    snprintf(what, sizeof(what), "case %s", v[EA_CASE].text);
    rc = write_show(t, ctx, what, sql, 5, params, "episode");
    if (rc == CH_OK)
        t->api->out_message(ctx, "exploitation episode recorded for case %s", v[EA_CASE].text);
    return rc;
}

enum { EL_CASE };
static const struct ch_arg case_args[] = {
    [EL_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
};

/* Every episode of the case, removed ones too (marked), earliest first. */
static int episode_list(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.episodes_v1($1)";
    const char *params[1] = {v[EL_CASE].text};
    char what[64];
    snprintf(what, sizeof(what), "case %s", v[EL_CASE].text);
    return trf_show(ud, ctx, what, sql, 1, params, "episodes", TRF_SHOW_ROWS);
}

enum { ER_EPISODE, ER_REASON };
static const struct ch_arg episode_remove_args[] = {
    [ER_EPISODE] = {"episode", CH_ARG_ID, CH_ARG_REQUIRED, "the episode", NULL, NULL, 0, 0},
    [ER_REASON] = {"--reason", CH_ARG_TEXT, CH_ARG_REQUIRED,
                   "why it is removed (kept with the episode)", NULL, NULL, 0, 0},
};

/* A removed episode stays in the case's history, marked with who removed it and why. */
static int episode_remove(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.episode_remove_v1($1, $2)";
    struct trf *t = ud;
    const char *params[2] = {v[ER_EPISODE].text, v[ER_REASON].text};
    char what[64];
    int rc;
    snprintf(what, sizeof(what), "episode %s", v[ER_EPISODE].text);
    rc = write_show(t, ctx, what, sql, 2, params, "episode");
    if (rc == CH_OK)
        t->api->out_message(ctx, "episode %s removed; it stays in the case's history",
                            v[ER_EPISODE].text);
    return rc;
}

/* ------------------------------------------------------ determination --- */

enum { DS_CASE, DS_LEVEL, DS_TYPE, DS_REASON };
static const struct ch_arg determination_set_args[] = {
    [DS_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [DS_LEVEL] = {"--level", CH_ARG_ENUM, CH_ARG_REQUIRED,
                  "what was found (confirmed: a supervisor or admin)", trf_determination_levels,
                  NULL, 0, 0},
    [DS_TYPE] = {"--type", CH_ARG_ENUM, 0, "which trafficking (needed unless at_risk)",
                 trf_trafficking_types, NULL, 0, 0},
    [DS_REASON] = {"--reason", CH_ARG_TEXT, CH_ARG_REQUIRED, "what the determination rests on",
                   NULL, NULL, 0, 0},
};

/*
 * The new determination supersedes the case's current one; the database
 * keeps both and refuses a caseworker a confirmed one (or replacing one).
 */
static int determination_set(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] =
        "SELECT trafficking.determination_record_v1($1, $2, $3, $4) AS determination,"
        "       $1::bigint AS case, $2::text AS level, $3::text AS type";
    struct trf *t = ud;
    const char *params[4] = {v[DS_CASE].text, v[DS_LEVEL].text, v[DS_TYPE].text, v[DS_REASON].text};
    char what[64];
    int rc;
    snprintf(what, sizeof(what), "case %s", v[DS_CASE].text);
    rc = write_show(t, ctx, what, sql, 4, params, "determination");
    if (rc == CH_OK)
        t->api->out_message(ctx,
                            "determination recorded for case %s; the earlier ones stay in its "
                            "history (determination show %s)",
                            v[DS_CASE].text, v[DS_CASE].text);
    return rc;
}

/*
 * The case's current determination under "determination" (null when none)
 * and, with history, every determination newest first under "history": one
 * audited read either way. Without history only what the case shows of it:
 * level, type, who, when and why. case_id is the case as text. CH_OK or
 * CH_ERROR after api->fail.
 */
static int show_determinations(struct trf *t, struct ch_ctx *ctx, const char *case_id, int history)
{
    static const char history_sql[] = "SELECT * FROM trafficking.determinations_v1($1)";
    static const char current_sql[] =
        "SELECT determination, level, type, determined_by, determined_at, reason"
        "  FROM trafficking.determinations_v1($1) WHERE current";
    const char *params[1] = {case_id};
    char err[1024];
    PGresult *r = trf_query(t->api->conn(ctx), history ? history_sql : current_sql, 1, params, err,
                            sizeof(err), "cannot read the determinations of case %s", case_id);
    int cur, is_current;
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    /* Newest first, and a new one always supersedes: the current one is row 0 if any. */
    cur = PQfnumber(r, "current");
    is_current = PQntuples(r) > 0 && (cur < 0 || strcmp(PQgetvalue(r, 0, cur), "t") == 0);
    if (is_current)
        t->api->out_result(ctx, "determination", r, 0);
    else
        t->api->out_str(ctx, "determination", NULL);
    if (history)
        t->api->out_result(ctx, "history", r, 1);
    PQclear(r);
    return CH_OK;
}

static int determination_show(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    return show_determinations(ud, ctx, v[EL_CASE].text, 1);
}

/* ----------------------------------------------------------- case show --- */

int trf_render_determination(struct ch_ctx *ctx, int64_t case_id, void *ud)
{
    static const char episodes_sql[] =
        "SELECT episode, started_on, ended_on, kind, note, recorded_by"
        "  FROM trafficking.episodes_v1($1) WHERE NOT removed";
    struct trf *t = ud;
    char id[24], what[80];
    const char *params[1] = {id};
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    snprintf(what, sizeof(what), "cannot read the exploitation episodes of case %s", id);
    if (show_determinations(t, ctx, id, 0) != CH_OK)
        return CH_ERROR;
    return trf_show(t, ctx, what, episodes_sql, 1, params, "exploitation_episodes", TRF_SHOW_ROWS);
}

/* ------------------------------------------------------------ register --- */

int trf_register_determination_commands(struct trf *t)
{
    const struct ch_command_spec specs[] = {
        {sizeof(specs[0]), "episode", "add", "record when a person was exploited, with a note",
         CH_SPEC_ARGS(episode_add_args), episode_add, t, 0,
         "record, list and remove the exploitation episodes of a case"},
        {sizeof(specs[0]), "episode", "list", "a case's exploitation episodes, removed ones too",
         CH_SPEC_ARGS(case_args), episode_list, t, CH_CMD_VIEW, NULL},
        {sizeof(specs[0]), "episode", "remove", "remove an episode recorded in error (it is kept)",
         CH_SPEC_ARGS(episode_remove_args), episode_remove, t, 0, NULL},
        {sizeof(specs[0]), "determination", "set",
         "record what was found (at risk, suspected, confirmed), with a reason",
         CH_SPEC_ARGS(determination_set_args), determination_set, t, 0,
         "record and show a case's trafficking determination (a finding, not a screening)"},
        {sizeof(specs[0]), "determination", "show", "a case's current determination and history",
         CH_SPEC_ARGS(case_args), determination_show, t, CH_CMD_VIEW, NULL},
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (t->api->command_typed(t->self, &specs[i]) != 0)
            return -1;
    return 0;
}
