/*
 * ledger.c: the report ledger of a case as people read it (see ledger.h).
 * Every view reads trafficking.ledger_of_v1, so the case check and the audit
 * of the read are the database's, once; it never writes anything else.
 */
#include "db/ledger.h"

#include "cli/actions.h"
#include "db/query.h"

/*
 * The ledger's rows with where each report stands: its delivery time, or
 * why it has not left (waiting for consent, queued, held, delivery failed),
 * or that it never left (revoked, rejected before sending). A queued
 * report's outbox row is looked up by its referral, one row at a time: a
 * join would let the planner, which expects a thousand rows of any
 * function, hash the agency's whole outbox on every case page.
 */
#define LEDGER_ROWS                                                                                \
    "SELECT l.*, CASE WHEN l.delivered IS NOT NULL THEN l.delivered"                               \
    "            WHEN l.state = 'pending_consent' THEN 'not yet: waiting for consent'"             \
    "            WHEN l.state = 'delivery_failed' THEN 'not yet: delivery failed'"                 \
    "            WHEN l.state = 'queued' THEN 'not yet: ' || CASE (SELECT o.state"                 \
    "                 FROM trafficking.outbox o WHERE o.referral_id = l.referral)"                 \
    "                 WHEN 'held' THEN 'held' WHEN 'failed' THEN 'delivery failed'"                \
    "                 ELSE 'queued' END"                                                           \
    "            ELSE 'never delivered: ' || l.state END AS delivery"                              \
    "  FROM trafficking.ledger_of_v1($1) l"

static const char reports_sql[] = "SELECT * FROM (" LEDGER_ROWS ") x ORDER BY x.referral";

/* What routing did not make again and why, latest first: the decisions keep it. */
static const char not_made_sql[] =
    "SELECT DISTINCT ON (n->>'destination', n->>'reason') d.id AS decision,"
    "       to_char(d.decided_at, 'YYYY-MM-DD HH24:MI') AS decided,"
    "       n->>'destination' AS destination, n->>'basis' AS basis, n->>'action' AS action,"
    "       n->>'reason' AS reason"
    "  FROM trafficking.decisions d, jsonb_array_elements(d.ledger) n"
    " WHERE d.case_id = $1 AND n->>'action' IN ('already_reported', 'declined')"
    " ORDER BY n->>'destination', n->>'reason', d.id DESC";

/*
 * Per destination its latest report. What was reported is its evidence
 * classes, or, for a report that carried none, why it was made (an
 * escalation, a forced repeat, one made before the ledger).
 */
static const char summary_sql[] =
    "SELECT DISTINCT ON (x.destination) x.destination, x.basis,"
    "       coalesce(x.evidence, x.why) AS reported, x.delivery AS delivered,"
    "       nullif(x.outcome, '') AS outcome, x.referral, x.\"case\""
    "  FROM (" LEDGER_ROWS ") x ORDER BY x.destination, x.referral DESC";

/*
 * Runs sql on the case and shows its rows under key; the reports each offer
 * their referral's page. CH_OK, or CH_ERROR after fail.
 */
static int show_rows(struct trf *t, struct ch_ctx *ctx, const char *sql, const char *case_id,
                     const char *key)
{
    const char *params[1] = {case_id};
    char err[1024];
    PGresult *r =
        trf_query(t->api->conn(ctx), sql, 1, params, err, sizeof(err), "case %s", case_id);
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    t->api->out_result(ctx, key, r, 1);
    if (sql != not_made_sql)
        trf_actions_per_row(t, ctx, r, "referral", "show referral ", "referral", "show");
    PQclear(r);
    return CH_OK;
}

int trf_ledger_out(struct trf *t, struct ch_ctx *ctx, const char *case_id,
                   enum trf_ledger_view view)
{
    if (view == TRF_LEDGER_SUMMARY)
        return show_rows(t, ctx, summary_sql, case_id, "reports");
    if (show_rows(t, ctx, reports_sql, case_id, "reports") != CH_OK)
        return CH_ERROR;
    return show_rows(t, ctx, not_made_sql, case_id, "not_made");
}
