/*
 * cmd_route.c: `route explain` (what a stored decision asks of a person,
 * where each referral stands now, what the report ledger made of each
 * referral it proposed and, for admins, why each rule fired) and
 * `routing replay` (what a candidate configuration would change over stored
 * decisions). Both read; the one write is the audit of the read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmd_routing.h"
#include "db/query.h"
#include "db/route.h"

/* ------------------------------------------------------------- explain --- */

static const char latest_decision_sql[] =
    "SELECT d.id, d.case_id, d.cause, d.config_hash, d.input::text, d.rules::text,"
    "       d.outcome::text, to_char(d.decided_at, 'YYYY-MM-DD HH24:MI:SS') AS decided_at,"
    "       u.name AS decided_by, d.screening_id, d.ledger::text"
    "  FROM trafficking.decisions d LEFT JOIN casehost.plugin_user_v1 u ON u.id = d.decided_by"
    " WHERE d.case_id = $1 AND ($2::bigint IS NULL OR d.id = $2::bigint)"
    " ORDER BY d.id DESC LIMIT 1";

/* Where each destination's latest referral of the case stands now. */
static const char referrals_now_sql[] =
    "SELECT DISTINCT ON (destination_id) destination_id, state,"
    "       to_char(due_at, 'YYYY-MM-DD HH24:MI'), to_char(sent_at, 'YYYY-MM-DD HH24:MI'), reason"
    "  FROM trafficking.referrals WHERE case_id = $1 ORDER BY destination_id, id DESC";

/*
 * The rows of referrals_now_sql as routing_referral_now entries borrowing
 * from r (valid while r is); caller frees the array. NULL with *n 0 when
 * there are none or without memory.
 */
static struct routing_referral_now *referrals_now(const PGresult *r, size_t *n)
{
    struct routing_referral_now *now;
    *n = 0;
    if (PQntuples(r) == 0 || (now = calloc((size_t)PQntuples(r), sizeof(*now))) == NULL)
        return NULL;
    for (int i = 0; i < PQntuples(r); i++) {
        now[i].destination = PQgetvalue(r, i, 0);
        now[i].state = PQgetvalue(r, i, 1);
        now[i].due = PQgetvalue(r, i, 2);
        now[i].sent = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3);
        now[i].reason = PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4);
    }
    *n = (size_t)PQntuples(r);
    return now;
}

/* Rebuilds a stored decision from its rules and outcome columns. */
static int stored_decision(const char *rules, const char *outcome, struct routing_decision *d,
                           char *err, size_t errlen)
{
    json_t *j = json_object();
    int rc;
    json_object_set_new(j, "rules", json_loads(rules, 0, NULL));
    json_object_set_new(j, "outcome", json_loads(outcome, 0, NULL));
    rc = routing_decision_from_json(j, d, err, errlen);
    json_decref(j);
    return rc;
}

int route_explain(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    const char *case_arg = v[TRF_X_CASE].text, *decision_arg = v[TRF_X_DECISION].text, *params[2];
    struct routing_decision d;
    struct routing_referral_now *now = NULL;
    char err[512], heading[400], hint[120];
    size_t n_now = 0;
    PGresult *r, *refs = NULL;
    json_t *ledger = NULL;
    int rc = CH_ERROR;

    params[0] = case_arg;
    params[1] = decision_arg;
    routing_decision_init(&d);
    r = PQexecParams(t->api->conn(ctx), latest_decision_sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        t->api->fail(ctx, "%s", TRF_QUERY_ERROR(t->api->conn(ctx), r, "case %s", case_arg));
        goto out;
    }
    if (PQntuples(r) == 0) {
        t->api->fail(ctx, "case %s has no routing decision%s", case_arg,
                     decision_arg ? " with that id" : " (routing runs when a screening completes)");
        goto out;
    }
    if (stored_decision(PQgetvalue(r, 0, 5), PQgetvalue(r, 0, 6), &d, err, sizeof(err)) != 0) {
        t->api->fail(ctx, "decision %s: %s", PQgetvalue(r, 0, 0), err);
        goto out;
    }
    d.case_id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    /* What the ledger did to each proposed referral ([] for a decision made before it). */
    ledger = json_loads(PQgetvalue(r, 0, 10), 0, NULL);
    if (!json_is_array(ledger)) {
        t->api->fail(ctx, "decision %s: its ledger is not a list", PQgetvalue(r, 0, 0));
        goto out;
    }
    snprintf(d.config_hash, sizeof(d.config_hash), "%s", PQgetvalue(r, 0, 3));
    refs = PQexecParams(t->api->conn(ctx), referrals_now_sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(refs) != PGRES_TUPLES_OK) {
        t->api->fail(ctx, "%s",
                     TRF_QUERY_ERROR(t->api->conn(ctx), refs, "case %s: its referrals", case_arg));
        goto out;
    }
    now = referrals_now(refs, &n_now);
    if (t->api->json(ctx)) {
        json_t *in = json_loads(PQgetvalue(r, 0, 4), 0, NULL);
        json_t *dj = routing_decision_to_json(&d);
        t->api->out_str(ctx, "decision", PQgetvalue(r, 0, 0));
        t->api->out_str(ctx, "case", PQgetvalue(r, 0, 1));
        t->api->out_str(ctx, "cause", PQgetvalue(r, 0, 2));
        t->api->out_str(ctx, "decided_at", PQgetvalue(r, 0, 7));
        t->api->out_str(ctx, "decided_by", PQgetisnull(r, 0, 8) ? NULL : PQgetvalue(r, 0, 8));
        t->api->out_str(ctx, "config_hash", PQgetvalue(r, 0, 3));
        trf_out_json(t, ctx, "input", in);
        trf_out_json(t, ctx, "rules", json_object_get(dj, "rules"));
        trf_out_json(t, ctx, "outcome", json_object_get(dj, "outcome"));
        json_decref(in);
        json_decref(dj);
    }
    /* People first: one line on the decision, then what it asks of them. */
    snprintf(heading, sizeof(heading),
             "Decision %s for case %s (%s), %s%s%s, configuration %.12s:", PQgetvalue(r, 0, 0),
             PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 7),
             PQgetisnull(r, 0, 8) ? "" : " by ", PQgetisnull(r, 0, 8) ? "" : PQgetvalue(r, 0, 8),
             PQgetvalue(r, 0, 3));
    snprintf(hint, sizeof(hint),
             "('route explain %s%s%s --trace' shows every rule and its conditions)", case_arg,
             decision_arg ? " --decision " : "", decision_arg ? decision_arg : "");
    /* Names from the configuration in force: ids are stable, a name may have been corrected. */
    if (trf_out_decision(t, ctx, &d, t->cfg != NULL ? t->cfg->routing : NULL, now, n_now, ledger,
                         heading, hint, v[TRF_X_TRACE].num != 0) != 0) {
        t->api->fail(ctx, "out of memory");
        goto out;
    }
    rc = t->api->audit(ctx, "read", "decision", strtoll(PQgetvalue(r, 0, 0), NULL, 10), NULL) == 0
             ? CH_OK
             : CH_ERROR;
out:
    json_decref(ledger);
    free(now);
    PQclear(refs);
    PQclear(r);
    routing_decision_release(&d);
    return rc;
}

/* -------------------------------------------------------------- replay --- */

/*
 * Re-decides every stored decision (the latest per case, since a date) under
 * a candidate configuration from the same stored input, and prints what would
 * change. Reads only, in the command's transaction as the person running it
 * (row-level security decides which decisions), so a web page may run it.
 */
int routing_replay(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] =
        "SELECT DISTINCT ON (case_id) id, case_id, input::text, rules::text, outcome::text,"
        "       config_hash"
        "  FROM trafficking.decisions"
        " WHERE decided_at >= coalesce($1::date, '-infinity'::date)"
        " ORDER BY case_id, id DESC";
    struct trf *t = ud;
    const char *dir = v[0].text, *since = v[1].text, *params[1];
    struct routing_config *cand;
    PGresult *r = NULL;
    int changed = 0, rc = CH_ERROR;

    if (dir == NULL) {
        t->api->fail(ctx, "routing replay: name the candidate: --config DIR or --candidate ID");
        return CH_USAGE;
    }
    cand = trf_routing_config_open(t, ctx, dir);
    if (cand == NULL)
        return CH_USAGE;
    params[0] = since;
    r = PQexecParams(t->api->conn(ctx), sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        t->api->fail(ctx, "%s",
                     TRF_QUERY_ERROR(t->api->conn(ctx), r, "cannot read stored decisions"));
        goto out;
    }
    t->api->out_str(ctx, "candidate_hash", cand->hash);
    t->api->out_array(ctx, "changes");
    for (int i = 0; i < PQntuples(r); i++) {
        struct routing_input in;
        struct routing_decision before, after;
        char err[512], *text = NULL;
        size_t len = 0;
        json_t *ij = json_loads(PQgetvalue(r, i, 2), 0, NULL);
        FILE *mem = open_memstream(&text, &len);
        int n = -1;
        routing_decision_init(&before);
        routing_decision_init(&after);
        if (ij != NULL && mem != NULL && routing_input_from_json(ij, &in, err, sizeof(err)) == 0 &&
            stored_decision(PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), &before, err, sizeof(err)) ==
                0 &&
            routing_decide(cand, &in, &after) == 0)
            n = routing_decision_diff(&before, &after, mem);
        else
            routing_input_init(&in);
        if (mem != NULL)
            fclose(mem);
        if (n != 0) {
            t->api->out_object(ctx, NULL);
            t->api->out_str(ctx, "case", PQgetvalue(r, i, 1));
            t->api->out_str(ctx, "decision", PQgetvalue(r, i, 0));
            t->api->out_str(ctx, "changes", n < 0 ? err : text);
            t->api->out_end(ctx);
            changed++;
        }
        free(text);
        json_decref(ij);
        routing_input_release(&in);
        routing_decision_release(&before);
        routing_decision_release(&after);
    }
    t->api->out_end(ctx);
    t->api->out_int(ctx, "decisions_replayed", PQntuples(r));
    t->api->out_int(ctx, "decisions_changed", changed);
    t->api->out_message(ctx, "%d of %d stored decisions would change; nothing was written", changed,
                        PQntuples(r));
    rc = CH_OK;
out:
    PQclear(r);
    routing_config_free(cand);
    return rc;
}
