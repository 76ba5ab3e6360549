/*
 * cmd_report_taskforce.c: `report taskforce [--from DATE] [--to DATE]
 * [--by FIELD [--by FIELD]]`, counts across the agencies that opted in, for
 * task-force members. The database counts and suppresses
 * (trafficking.taskforce_report_v1): this file only passes the filters,
 * lays the cells out as a table with its totals and audits a run the
 * database could not (a read-only replica). A figure under the threshold
 * never reaches it, so it can never print one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_report_taskforce.h"
#include "db/query.h"
#include "trf.h"

enum { TA_FROM, TA_TO, TA_BY };

/* What --by takes, as taskforce_report_v1 names them; the first is the default. */
static const char *const taskforce_by[] = {"month",   "age_band", "type", "referral_kind",
                                           "outcome", "county",   NULL};

static const struct ch_arg taskforce_args[] = {
    [TA_FROM] = {"--from", CH_ARG_DATE, 0, "the first day counted (UTC; default: the first)", NULL,
                 "YYYY-MM-DD", 0, 0},
    [TA_TO] = {"--to", CH_ARG_DATE, 0, "the last day counted (UTC; default: the last)", NULL,
               "YYYY-MM-DD", 0, 0},
    [TA_BY] = {"--by", CH_ARG_ENUM, CH_ARG_REPEAT,
               "rows by this field; given twice, columns by the second (default: month)",
               taskforce_by, NULL, 0, 0},
};

/* Columns: row_key, col_key, shown, audited. */
static const char report_sql[] = "SELECT row_key, col_key, shown, audited"
                                 "  FROM trafficking.taskforce_report_v1($1::date, $2::date,"
                                 "       array_remove(ARRAY[$3::text, $4::text], NULL))";

/* A shown cell: its count as a number, a withheld one as its marker ("<11", "suppressed"). */
static void emit_shown(const struct ch_host_api *api, struct ch_ctx *ctx, const char *key,
                       const char *shown)
{
    char *end;
    long long n = strtoll(shown, &end, 10);
    if (shown[0] != '\0' && *end == '\0')
        api->out_int(ctx, key, n);
    else
        api->out_str(ctx, key, shown);
}

/*
 * Lays the cells of r out under "taskforce": one object per row key, named by
 * by1, with one member per column key (or "count" by one field) and "total";
 * the totals row as the object "totals". The rows come from the database in
 * order, each row's cells together, the totals row last. Returns 1 when a
 * cell of a row (not of the totals) is withheld.
 */
static int emit_table(const struct ch_host_api *api, struct ch_ctx *ctx, const PGresult *r,
                      const char *by1, int two)
{
    int n = PQntuples(r), open = 0, withheld = 0;
    const char *prev = NULL;
    api->out_array(ctx, "taskforce");
    for (int i = 0; i < n; i++) {
        const char *row = PQgetisnull(r, i, 0) ? NULL : PQgetvalue(r, i, 0);
        const char *col = PQgetisnull(r, i, 1) ? "total" : PQgetvalue(r, i, 1);
        if (row == NULL)
            break; /* the totals row */
        if (!open || strcmp(prev, row) != 0) {
            if (open)
                api->out_end(ctx);
            api->out_object(ctx, NULL);
            api->out_str(ctx, by1, row);
            open = 1;
            prev = row;
        }
        emit_shown(api, ctx, two ? col : "count", PQgetvalue(r, i, 2));
        withheld |= strspn(PQgetvalue(r, i, 2), "0123456789") != strlen(PQgetvalue(r, i, 2));
    }
    if (open)
        api->out_end(ctx);
    api->out_end(ctx);
    api->out_object(ctx, "totals");
    for (int i = 0; i < n; i++)
        if (PQgetisnull(r, i, 0))
            emit_shown(api, ctx, two && !PQgetisnull(r, i, 1) ? PQgetvalue(r, i, 1) : "total",
                       PQgetvalue(r, i, 2));
    api->out_end(ctx);
    return withheld;
}

/* Whether --by value by makes the view count referrals rather than cases. */
static int counts_referrals(const char *by)
{
    return by != NULL && (strcmp(by, "referral_kind") == 0 || strcmp(by, "outcome") == 0);
}

static int run_taskforce(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    const struct trf *t = ud;
    const struct ch_host_api *api = t->api;
    const char *by1 = v[TA_BY].given > 0 ? v[TA_BY].list[0] : taskforce_by[0];
    const char *by2 = v[TA_BY].given > 1 ? v[TA_BY].list[1] : NULL;
    const char *params[4] = {v[TA_FROM].text, v[TA_TO].text, by1, by2};
    char detail[256];
    PGconn *conn = api->conn(ctx);
    PGresult *r;
    int rc = CH_OK, withheld;

    if (v[TA_BY].given > 2) {
        api->fail(ctx, "report taskforce: --by at most twice (rows, then columns)");
        return CH_USAGE;
    }
    r = PQexecParams(conn, report_sql, 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *state = trf_query_sqlstate(r);
        api->fail(ctx, "%s", TRF_QUERY_ERROR(conn, r, "report taskforce"));
        rc = strcmp(state, "22023") == 0 ? CH_USAGE : CH_ERROR;
        goto out;
    }
    /* On a read-only replica the function could not audit: the primary does. */
    snprintf(detail, sizeof(detail), "by %s%s%s from %s to %s", by1, by2 ? "," : "", by2 ? by2 : "",
             params[0] ? params[0] : "the first", params[1] ? params[1] : "the last");
    if ((PQntuples(r) == 0 || strcmp(PQgetvalue(r, 0, 3), "t") != 0) &&
        api->audit(ctx, "report", "taskforce", 0, detail) != 0) {
        api->fail(ctx, "report taskforce: cannot write its audit record");
        rc = CH_ERROR;
        goto out;
    }
    api->out_str(ctx, "report", "taskforce");
    api->out_str(ctx, "from", params[0]);
    api->out_str(ctx, "to", params[1]);
    snprintf(detail, sizeof(detail), "%s%s%s", by1, by2 ? "," : "", by2 ? by2 : "");
    api->out_str(ctx, "by", detail);
    api->out_str(ctx, "counts",
                 counts_referrals(by1) || counts_referrals(by2) ? "referrals" : "cases");
    withheld = emit_table(api, ctx, r, by1, by2 != NULL);
    /* A bar for a withheld month would read as a count: then the table alone. */
    if (by2 == NULL && strcmp(by1, "month") == 0 && !withheld && CH_API_HAS(api, out_chart)) {
        static const char *const series[] = {"count", NULL};
        struct ch_chart chart = {sizeof(struct ch_chart),
                                 CH_CHART_BARS,
                                 "Cases a month across the agencies that share their figures",
                                 "month",
                                 series,
                                 NULL};
        api->out_chart(ctx, "taskforce", &chart);
    }
    api->out_message(ctx, "across the agencies that share their figures with the task force; a "
                          "count under the threshold shows as \"<N\", and \"suppressed\" marks a "
                          "count withheld so that no small count can be worked out from the "
                          "totals");
out:
    PQclear(r);
    return rc;
}

const struct ch_command_spec trf_report_taskforce_spec = {
    sizeof(struct ch_command_spec),
    "report",
    "taskforce",
    "the task force's counts across agencies that opted in; small counts withheld",
    CH_SPEC_ARGS(taskforce_args),
    run_taskforce,
    NULL,
    CH_CMD_VIEW | CH_CMD_REPORT,
    NULL,
};
