/*
 * report.c: the agency reports as SQL. Each report is one statement that
 * counts with FILTER, groups with GROUPING SETS (the groups and the totals
 * row in one pass) and takes medians and 90th percentiles with
 * percentile_cont; nothing is counted here. Who sees what is the database's:
 * row-level security keeps a person to their agency, and each statement
 * keeps a caseworker to their own work (cases assigned to them, screenings
 * they did, referrals they follow up, consents they recorded). Never writes.
 */
#include <stdio.h>
#include <string.h>

#include "db/query.h"
#include "db/report.h"

/*
 * The statements below are laid out as SQL, not as C: clang-format would
 * break them where a macro joins two string literals.
 */
/* clang-format off */

/* The caller as the database knows them; own: a caseworker, who sees their own work only. */
#define ME                                                                                         \
    "WITH me AS (SELECT u.user_id AS id, coalesce(u.kind = 'caseworker', true) AS own"             \
    "              FROM casehost.current_user_v1() u)"

/* col within the days $1 .. $2 (the session's time zone, the agency's); NULL: open ended. */
#define IN_RANGE(col)                                                                              \
    " ($1::date IS NULL OR " col " >= $1::date) AND ($2::date IS NULL OR " col " < $2::date + 1) "

/* The period of col as its first day (week) or month, in the session's time zone. */
#define PERIOD(col)                                                                                \
    " WHEN 'week' THEN to_char(date_trunc('week', " col "), 'YYYY-MM-DD')"                         \
    " WHEN 'month' THEN to_char(date_trunc('month', " col "), 'YYYY-MM') "

/* A percentage of one decimal; NULL when the base is empty. */
#define PCT(part, base) " round(100.0 * (" part ") / nullif(" base ", 0), 1) "

/* Whether the case case_id is assigned to the caller. */
#define ASSIGNED_TO_ME(case_id)                                                                    \
    " EXISTS (SELECT 1 FROM casehost.plugin_case_v1 c WHERE c.id = " case_id                       \
    " AND c.assignee_id = me.id) "

static const char screenings_sql[] =
    ME ", s AS ("
    " SELECT s.state, s.result, s.trigger, s.due_at,"
    "        CASE $3::text" PERIOD("s.created_at")
    "             WHEN 'instrument' THEN s.instrument_id"
    "             WHEN 'trigger' THEN coalesce(s.trigger, 'manual')"
    "             WHEN 'caseworker' THEN coalesce((SELECT u.name FROM casehost.plugin_user_v1 u"
    "                  WHERE u.id = coalesce(s.screener_id, (SELECT c.assignee_id"
    "                    FROM casehost.plugin_case_v1 c WHERE c.id = s.case_id))), '(nobody)')"
    "        END AS grp"
    "   FROM trafficking.screenings s CROSS JOIN me"
    "  WHERE s.superseded_by IS NULL AND" IN_RANGE("s.created_at")
    "    AND (NOT me.own OR s.screener_id = me.id OR" ASSIGNED_TO_ME("s.case_id") "))"
    " SELECT grp, count(*) AS screenings,"
    "        count(*) FILTER (WHERE coalesce(trigger, 'manual') <> 'manual') AS suggested,"
    "        count(*) FILTER (WHERE state IN ('suggested', 'in_progress')) AS open,"
    "        count(*) FILTER (WHERE state IN ('suggested', 'in_progress') AND due_at < now())"
    "          AS overdue,"
    "        count(*) FILTER (WHERE state = 'completed') AS completed,"
    "        count(*) FILTER (WHERE state = 'stopped') AS stopped_on_disclosure,"
    "        count(*) FILTER (WHERE state = 'declined') AS declined,"
    "        count(*) FILTER (WHERE result = 'positive') AS positive,"
    "        count(*) FILTER (WHERE result = 'possible') AS possible,"
    "        count(*) FILTER (WHERE result = 'negative') AS negative,"
    "        count(*) FILTER (WHERE result = 'incomplete') AS incomplete,"
    PCT("count(*) FILTER (WHERE result = 'positive')",
        "count(*) FILTER (WHERE result IS NOT NULL)") "AS positive_pct,"
    PCT("count(*) FILTER (WHERE result = 'possible')",
        "count(*) FILTER (WHERE result IS NOT NULL)") "AS possible_pct,"
    "        GROUPING(grp) = 1 AS total"
    "   FROM s GROUP BY GROUPING SETS ((grp), ()) ORDER BY total, grp";

/*
 * The caller's referrals made in the days, each with when it was queued and
 * acknowledged (its first move to each), when the screening it came from
 * finished, its outbox row's state and its group grp_expr.
 */
#define REFERRALS_IN_SCOPE(grp_expr)                                                               \
    ME ", r AS ("                                                                                  \
    " SELECT r.state, r.basis, r.due_at, r.sent_at, r.ack_sla_hours, o.state AS outbox_state,"     \
    "        h.queued_at, h.ack_at, (SELECT s.finished_at FROM trafficking.decisions d"            \
    "          JOIN trafficking.screenings s ON s.id = d.screening_id"                             \
    "         WHERE d.id = r.decision_id AND s.state IN ('completed', 'stopped'))"                 \
    "          AS screened_at, " grp_expr " AS grp"                                                \
    "   FROM trafficking.referrals r CROSS JOIN me"                                                \
    "   LEFT JOIN LATERAL (SELECT min(x.at) FILTER (WHERE x.to_state = 'queued') AS queued_at,"    \
    "                             min(x.at) FILTER (WHERE x.to_state = 'acknowledged') AS ack_at"  \
    "                        FROM trafficking.referral_history x WHERE x.referral_id = r.id) h"    \
    "     ON true"                                                                                 \
    "   LEFT JOIN trafficking.outbox o ON o.referral_id = r.id"                                    \
    "  WHERE" IN_RANGE("r.created_at")                                                             \
    "    AND (NOT me.own OR r.follow_up_owner = me.id OR" ASSIGNED_TO_ME("r.case_id") "))"

#define REFERRAL_GROUP                                                                             \
    "CASE $3::text" PERIOD("r.created_at")                                                         \
    " WHEN 'destination' THEN r.destination_id WHEN 'kind' THEN r.destination_kind"                \
    " WHEN 'basis' THEN r.basis WHEN 'state' THEN r.state END"

/* Hours from when the screening finished to col: median and 90th percentile. */
#define HOURS(col, name)                                                                           \
    " round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM " col                  \
    " - screened_at)::float8 / 3600))::numeric, 1) AS " name "_median_hours,"                      \
    " round((percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM " col                  \
    " - screened_at)::float8 / 3600))::numeric, 1) AS " name "_p90_hours,"

static const char referrals_sql[] =
    REFERRALS_IN_SCOPE(REFERRAL_GROUP)
    " SELECT grp, count(*) AS referrals,"
    "        count(*) FILTER (WHERE state = 'pending_consent') AS pending_consent,"
    "        count(*) FILTER (WHERE queued_at IS NOT NULL) AS queued,"
    "        count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,"
    "        count(*) FILTER (WHERE ack_at IS NOT NULL) AS acknowledged,"
    "        count(*) FILTER (WHERE state = 'delivery_failed') AS delivery_failed,"
    "        count(*) FILTER (WHERE outbox_state = 'held') AS held,"
    "        count(*) FILTER (WHERE state = 'revoked') AS revoked,"
    HOURS("queued_at", "queued") HOURS("sent_at", "sent") HOURS("ack_at", "acknowledged")
    "        GROUPING(grp) = 1 AS total"
    "   FROM r GROUP BY GROUPING SETS ((grp), ()) ORDER BY total, grp";

/*
 * A mandatory report is due unless it was revoked before it left; met when
 * sent by its due time, missed when sent later or still unsent past it. An
 * acknowledgement is due for every referral sent, within its destination's
 * hours from sending.
 */
#define MANDATORY "basis = 'mandatory_report' AND (sent_at IS NOT NULL OR state <> 'revoked')"
#define ACK_DUE "sent_at + make_interval(hours => ack_sla_hours)"

static const char deadlines_sql[] =
    REFERRALS_IN_SCOPE(REFERRAL_GROUP)
    " SELECT grp, count(*) FILTER (WHERE " MANDATORY ") AS reports_due,"
    "        count(*) FILTER (WHERE " MANDATORY " AND sent_at <= due_at) AS reports_met,"
    "        count(*) FILTER (WHERE " MANDATORY " AND (sent_at > due_at"
    "                         OR (sent_at IS NULL AND due_at < now()))) AS reports_missed,"
    "        count(*) FILTER (WHERE sent_at IS NOT NULL) AS acks_due,"
    "        count(*) FILTER (WHERE ack_at <= " ACK_DUE ") AS acks_met,"
    "        count(*) FILTER (WHERE ack_at > " ACK_DUE " OR (sent_at IS NOT NULL AND ack_at IS NULL"
    "                         AND " ACK_DUE " < now())) AS acks_missed,"
    "        GROUPING(grp) = 1 AS total"
    "   FROM r GROUP BY GROUPING SETS ((grp), ()) ORDER BY total, grp";

/*
 * Screenings a runaway return made due (24 hours from the return), by when
 * they were due: met when finished (completed, stopped or declined) in
 * time, missed when finished late or still open past due.
 */
static const char runaway_sql[] =
    ME " SELECT count(*) AS due, count(*) FILTER (WHERE s.finished_at <= s.due_at) AS met,"
    "        count(*) FILTER (WHERE s.finished_at > s.due_at"
    "                         OR (s.finished_at IS NULL AND s.due_at < now())) AS missed,"
    "        count(*) FILTER (WHERE s.finished_at IS NULL AND s.due_at >= now()) AS not_yet_due"
    "   FROM trafficking.screenings s CROSS JOIN me"
    "  WHERE s.trigger = 'runaway_return' AND s.superseded_by IS NULL AND" IN_RANGE("s.due_at")
    "    AND (NOT me.own OR s.screener_id = me.id OR" ASSIGNED_TO_ME("s.case_id") ")";

/*
 * Young people with a case open at some time in the days (the caller's
 * cases, for a caseworker), each once: screened when a screening of theirs
 * finished in the days with a result; positive or possible when one did so.
 * Grouped by each of four traits at once (GROUPING SETS), so a lead sees
 * who is screened less. Age is the age now (or the estimate grown since).
 */
#define DIMENSION(a, b, c, d)                                                                      \
    "CASE WHEN GROUPING(gender) = 0 THEN " a " WHEN GROUPING(age_band) = 0 THEN " b                \
    " WHEN GROUPING(language) = 0 THEN " c " WHEN GROUPING(interpreter) = 0 THEN " d " END"
#define TRAIT DIMENSION("'gender'", "'age_band'", "'language'", "'interpreter'")

static const char equity_sql[] =
    ME ", c AS ("
    " SELECT c.id, c.subject_id FROM casehost.plugin_case_v1 c CROSS JOIN me"
    "  WHERE c.subject_id IS NOT NULL AND (NOT me.own OR c.assignee_id = me.id)"
    "    AND ($2::date IS NULL OR c.created_at < $2::date + 1)"
    "    AND ($1::date IS NULL OR c.closed_at IS NULL OR c.closed_at >= $1::date)),"
    " f AS ("
    " SELECT c.subject_id AS person, coalesce(bool_or(s.result IS NOT NULL), false) AS screened,"
    "        coalesce(bool_or(s.result = 'positive'), false) AS positive,"
    "        coalesce(bool_or(s.result = 'possible'), false) AS possible"
    "   FROM c LEFT JOIN trafficking.screenings s ON s.case_id = c.id"
    "    AND s.superseded_by IS NULL AND s.result IS NOT NULL AND" IN_RANGE("s.finished_at")
    "  GROUP BY c.subject_id),"
    " p AS ("
    " SELECT f.*, coalesce(p.gender_identity, 'unknown') AS gender,"
    "        CASE WHEN p.age IS NULL THEN 'unknown' WHEN p.age < 12 THEN 'under 12'"
    "             WHEN p.age < 15 THEN '12-14' WHEN p.age < 18 THEN '15-17'"
    "             WHEN p.age < 21 THEN '18-20' WHEN p.age < 25 THEN '21-24'"
    "             ELSE '25 and over' END AS age_band,"
    "        coalesce(p.language, 'unknown') AS language,"
    "        CASE WHEN p.interpreter_needed THEN 'needed'"
    "             WHEN NOT p.interpreter_needed THEN 'not needed' ELSE 'unknown' END"
    "          AS interpreter"
    "   FROM f JOIN casehost.plugin_person_v2 p ON p.id = f.person)"
    " SELECT " DIMENSION("gender", "age_band", "language", "interpreter") " AS grp,"
    "        " TRAIT " AS dimension,"
    "        count(*) AS people, count(*) FILTER (WHERE screened) AS screened,"
    "        count(*) FILTER (WHERE NOT screened) AS not_screened,"
    "        count(*) FILTER (WHERE positive) AS positive,"
    "        count(*) FILTER (WHERE possible) AS possible,"
    PCT("count(*) FILTER (WHERE screened)", "count(*)") "AS screened_pct,"
    PCT("count(*) FILTER (WHERE positive)", "count(*) FILTER (WHERE screened)") "AS positive_pct,"
    "        GROUPING(gender, age_band, language, interpreter) = 15 AS total"
    "   FROM p GROUP BY GROUPING SETS ((gender), (age_band), (language), (interpreter), ())"
    " HAVING $3::text = 'all' OR GROUPING(gender, age_band, language, interpreter) = 15"
    "     OR " TRAIT " = $3::text"
    "  ORDER BY total, dimension, grp";

/* clang-format on */

static const char consent_sql[] =
    "SELECT grp, granted, declined, revoked, expired, total"
    "  FROM trafficking.report_consent_v1($1::date, $2::date, $3::text)";

const char *const report_screenings_by[] = {"month",   "week",       "instrument",
                                            "trigger", "caseworker", NULL};
const char *const report_referrals_by[] = {"destination", "kind", "basis", "state",
                                           "month",       "week", NULL};
const char *const report_deadlines_by[] = {"destination", "kind", "month", "week", NULL};
const char *const report_equity_by[] = {"all",      "gender",      "age_band",
                                        "language", "interpreter", NULL};
const char *const report_consent_by[] = {"purpose", "recipient_kind", "month", "week", NULL};

const struct report_def report_defs[] = {
    {"screenings", "Screenings by result", report_screenings_by, screenings_sql, NULL, NULL},
    {"referrals", "Referrals by how far they got", report_referrals_by, referrals_sql, NULL, NULL},
    {"deadlines", "Mandatory reports met and missed", report_deadlines_by, deadlines_sql,
     "runaway_return_screenings", runaway_sql},
    {"equity", "Young people screened and not screened, by trait", report_equity_by, equity_sql,
     NULL, NULL},
    {"consent", "Consent events", report_consent_by, consent_sql, NULL, NULL},
};
const size_t report_n_defs = sizeof(report_defs) / sizeof(report_defs[0]);

const struct report_def *report_find(const char *name)
{
    for (size_t i = 0; i < report_n_defs; i++)
        if (strcmp(report_defs[i].name, name) == 0)
            return &report_defs[i];
    return NULL;
}

const char *report_group_label(const char *by)
{
    if (strcmp(by, "week") == 0 || strcmp(by, "month") == 0)
        return "period";
    if (strcmp(by, "all") == 0)
        return "group";
    return by;
}

/* by as d allows it (NULL: its default), or NULL with err set. */
static const char *by_check(const struct report_def *d, const char *by, char *err, size_t errlen)
{
    char allowed[256] = "";
    size_t used = 0;
    if (by == NULL)
        return d->by[0];
    for (size_t i = 0; d->by[i] != NULL; i++) {
        if (strcmp(d->by[i], by) == 0)
            return d->by[i];
        used +=
            (size_t)snprintf(allowed + used, used < sizeof(allowed) ? sizeof(allowed) - used : 0,
                             "%s%s", i ? ", " : "", d->by[i]);
    }
    snprintf(err, errlen, "report %s: --by: '%s' is not one of %s", d->name, by, allowed);
    return NULL;
}

PGresult *report_run(PGconn *conn, const struct report_def *d, const char *from, const char *to,
                     const char *by, int *usage, char *err, size_t errlen)
{
    static const char order_sql[] = "SELECT $1::date > $2::date";
    const char *params[3] = {from, to, NULL};
    PGresult *r;
    *usage = 0;
    if ((params[2] = by_check(d, by, err, errlen)) == NULL) {
        *usage = 1;
        return NULL;
    }
    if (from != NULL && to != NULL) {
        r = trf_query(conn, order_sql, 2, params, err, errlen, "report %s", d->name);
        if (r == NULL)
            return NULL;
        if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
            snprintf(err, errlen, "report %s: --from %s is after --to %s", d->name, from, to);
            PQclear(r);
            *usage = 1;
            return NULL;
        }
        PQclear(r);
    }
    return trf_query(conn, d->sql, 3, params, err, errlen, "cannot compute report %s", d->name);
}

PGresult *report_run_extra(PGconn *conn, const struct report_def *d, const char *from,
                           const char *to, char *err, size_t errlen)
{
    const char *params[2] = {from, to};
    return trf_query(conn, d->extra_sql, 2, params, err, errlen, "cannot compute report %s",
                     d->name);
}
