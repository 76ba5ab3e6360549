/*
 * cmd_report.c: `report screenings|referrals|deadlines|equity|consent`, the
 * agency lead's figures, as typed commands that only read (CH_CMD_REPORT:
 * the host may run them on a replica). The database computes every figure
 * (db/report.c); this file checks the call, emits the rows, the totals and
 * a chart request through the host's output, and audits each run. It never
 * counts, and never emits a row about a person.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_report.h"
#include "db/report.h"
#include "trf.h"

enum { RA_FROM, RA_TO, RA_BY };

#define FROM_HELP "the first day counted, in the agency's time zone (default: the first)"
#define TO_HELP "the last day counted, in the agency's time zone (default: the last)"
#define BY_HELP "one row per period or per value of this field"

/* The arguments of a report whose --by allows by (its own list). */
#define REPORT_ARGS(by)                                                                            \
    {                                                                                              \
        [RA_FROM] = {"--from", CH_ARG_DATE, 0, FROM_HELP, NULL, "YYYY-MM-DD", 0, 0},               \
        [RA_TO] = {"--to", CH_ARG_DATE, 0, TO_HELP, NULL, "YYYY-MM-DD", 0, 0},                     \
        [RA_BY] = {"--by", CH_ARG_ENUM, 0, BY_HELP, by, NULL, 0, 0},                               \
    }

static const struct ch_arg screenings_args[] = REPORT_ARGS(report_screenings_by);
static const struct ch_arg referrals_args[] = REPORT_ARGS(report_referrals_by);
static const struct ch_arg deadlines_args[] = REPORT_ARGS(report_deadlines_by);
static const struct ch_arg equity_args[] = REPORT_ARGS(report_equity_by);
static const struct ch_arg consent_args[] = REPORT_ARGS(report_consent_by);

/* The series each report's chart stacks, in order. */
static const char *const screenings_series[] = {"positive", "possible", "negative", "incomplete",
                                                "declined", "open",     NULL};
static const char *const referrals_series[] = {"pending_consent", "queued", "sent", "acknowledged",
                                               NULL};
static const char *const deadlines_series[] = {"reports_met", "reports_missed", NULL};
static const char *const equity_series[] = {"screened", "not_screened", NULL};
static const char *const consent_series[] = {"granted", "declined", "revoked", "expired", NULL};

/*
 * How each report asks to be drawn: bars over its groups (periods for
 * screenings: stacked by result), except equity, one small panel per trait
 * so that no trait's groups hide another's.
 */
static const struct {
    const char *report;
    enum ch_chart_kind kind;
    const char *const *series;
} charts[] = {
    {"screenings", CH_CHART_BARS, screenings_series},
    {"referrals", CH_CHART_BARS, referrals_series},
    {"deadlines", CH_CHART_BARS, deadlines_series},
    {"equity", CH_CHART_SMALL_MULTIPLES, equity_series},
    {"consent", CH_CHART_BARS, consent_series},
};

/*
 * Emits the value of row i, column j of r under key: integers as numbers,
 * NULL as null, anything else (a group, a percentage, hours) as text.
 */
static void emit_cell(const struct ch_host_api *api, struct ch_ctx *ctx, const PGresult *r, int i,
                      int j, const char *key)
{
    enum { OID_INT8 = 20, OID_INT4 = 23 };
    Oid type = PQftype(r, j);
    if (PQgetisnull(r, i, j))
        api->out_str(ctx, key, NULL);
    else if (type == OID_INT8 || type == OID_INT4)
        api->out_int(ctx, key, strtoll(PQgetvalue(r, i, j), NULL, 10));
    else
        api->out_str(ctx, key, PQgetvalue(r, i, j));
}

/*
 * Emits report result r (db/report.h's shape): the groups as an array of
 * objects under key, their first member named group, then the total row's
 * figures as the object "totals".
 */
static void emit_report(const struct ch_host_api *api, struct ch_ctx *ctx, const PGresult *r,
                        const char *key, const char *group)
{
    int n = PQntuples(r), cols = PQnfields(r) - 1; /* the last column says "total" */
    int total = -1;
    api->out_array(ctx, key);
    for (int i = 0; i < n; i++) {
        if (strcmp(PQgetvalue(r, i, cols), "t") == 0) {
            total = i;
            continue;
        }
        api->out_object(ctx, NULL);
        for (int j = 0; j < cols; j++)
            emit_cell(api, ctx, r, i, j, j == 0 ? group : PQfname(r, j));
        api->out_end(ctx);
    }
    api->out_end(ctx);
    api->out_object(ctx, "totals");
    for (int j = 1; total >= 0 && j < cols; j++)
        emit_cell(api, ctx, r, total, j, PQfname(r, j));
    api->out_end(ctx);
}

/* Asks the host to draw the array under d's name, where it can. */
static void request_chart(const struct ch_host_api *api, struct ch_ctx *ctx,
                          const struct report_def *d, const char *group)
{
    struct ch_chart chart = {sizeof(struct ch_chart), CH_CHART_BARS, NULL, group, NULL, NULL};
    char title[160];
    size_t i = 0;
    if (!CH_API_HAS(api, out_chart))
        return;
    while (i < sizeof(charts) / sizeof(charts[0]) && strcmp(charts[i].report, d->name) != 0)
        i++;
    if (i == sizeof(charts) / sizeof(charts[0]))
        return;
    chart.kind = charts[i].kind;
    chart.series = charts[i].series;
    if (chart.kind == CH_CHART_SMALL_MULTIPLES) {
        /* panels need every trait in the table (--by all): one trait is one panel, its table */
        if (strcmp(group, "group") != 0)
            return;
        chart.facet = "dimension";
    }
    snprintf(title, sizeof(title), "%s, by %s", d->title, group);
    chart.title = title;
    api->out_chart(ctx, d->name, &chart);
}

/* One run of report name: check the call, compute, emit, audit. */
static int report_command(struct ch_ctx *ctx, const struct ch_value *v, struct trf *t,
                          const char *name)
{
    const struct ch_host_api *api = t->api;
    const struct report_def *d = report_find(name);
    const char *from = v[RA_FROM].text, *to = v[RA_TO].text;
    const char *by = v[RA_BY].given ? v[RA_BY].text : d->by[0];
    const char *group = report_group_label(by);
    PGresult *r, *extra = NULL;
    char err[1024], detail[256];
    int usage = 0;

    r = report_run(api->conn(ctx), d, from, to, by, &usage, err, sizeof(err));
    if (r == NULL) {
        api->fail(ctx, "%s", err);
        return usage ? CH_USAGE : CH_ERROR;
    }
    if (d->extra_sql != NULL &&
        (extra = report_run_extra(api->conn(ctx), d, from, to, err, sizeof(err))) == NULL) {
        PQclear(r);
        api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    snprintf(detail, sizeof(detail), "%s from %s to %s by %s", d->name, from ? from : "the first",
             to ? to : "the last", by);
    if (api->audit(ctx, "report", "report", 0, detail) != 0) {
        PQclear(r);
        PQclear(extra);
        api->fail(ctx, "report %s: cannot write its audit record", d->name);
        return CH_ERROR;
    }
    api->out_str(ctx, "report", d->name);
    api->out_str(ctx, "from", from);
    api->out_str(ctx, "to", to);
    api->out_str(ctx, "by", by);
    emit_report(api, ctx, r, d->name, group);
    request_chart(api, ctx, d, group);
    if (extra != NULL)
        api->out_result(ctx, d->extra_key, extra, 0);
    if (strcmp(d->name, "screenings") == 0 || strcmp(d->name, "equity") == 0)
        api->out_message(ctx, "a positive or possible result asks for further assessment; "
                              "it is no finding");
    PQclear(r);
    PQclear(extra);
    return CH_OK;
}

#define REPORT_RUN(name)                                                                           \
    static int run_##name(struct ch_ctx *ctx, const struct ch_value *v, void *ud)                  \
    {                                                                                              \
        return report_command(ctx, v, ud, #name);                                                  \
    }
REPORT_RUN(screenings)
REPORT_RUN(referrals)
REPORT_RUN(deadlines)
REPORT_RUN(equity)
REPORT_RUN(consent)

#define REPORT_SPEC(name, help, verb_help)                                                         \
    {                                                                                              \
        sizeof(struct ch_command_spec), "report", #name, help, CH_SPEC_ARGS(name##_args),          \
            run_##name, NULL, CH_CMD_VIEW | CH_CMD_REPORT, verb_help                               \
    }

static const struct ch_command_spec specs[] = {
    REPORT_SPEC(screenings,
                "screenings suggested, completed, stopped on disclosure, declined and overdue",
                "an agency's figures: screenings, referrals, deadlines, equity, consent"),
    REPORT_SPEC(referrals, "referrals by state, with hours from screening to queued, sent, acked",
                NULL),
    REPORT_SPEC(deadlines,
                "mandatory reports, acknowledgements and runaway-return screenings: met, missed",
                NULL),
    REPORT_SPEC(equity,
                "who is screened: rates by gender identity, age band, language, interpreter", NULL),
    REPORT_SPEC(consent, "consent granted, declined, revoked and expired by purpose, recipient",
                NULL),
};

int trf_register_report_commands(struct trf *t)
{
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct ch_command_spec spec = specs[i];
        spec.ud = t;
        if (t->api->command_typed(t->self, &spec) != 0)
            return -1;
    }
    return 0;
}
