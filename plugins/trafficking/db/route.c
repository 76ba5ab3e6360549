/*
 * route.c: the database side of routing. The engine (routing.c) decides;
 * this file reads its input, stores what it decided, and runs it at the
 * moments that matter. JSON for the database is built with jansson or by
 * PostgreSQL, never by hand; values reach SQL only as parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db/casefacts.h"
#include "db/query.h"
#include "db/route.h"

static const char store_sql[] = "SELECT * FROM trafficking.decision_store($1::jsonb)";

/*
 * What the engine knows and the database does not: added to every payload.
 * The trafficking type comes from the evidence (commercial sex, labour
 * exploitation, a disclosure's kind), never from domain scores: a risk sign
 * in the sex_trafficking domain tells a recipient nothing about the type.
 */
static json_t *payload_extra(const struct routing_config *cfg, const struct routing_input *in)
{
    json_t *p = json_object();
    json_t *ind = json_array();
    for (size_t i = 0; i < in->n_indicators; i++)
        json_array_append_new(ind, json_string(in->indicators[i]));
    json_object_set_new(p, "indicators", ind);
    json_object_set_new(p, "trafficking_type",
                        json_string(routing_input_trafficking_type(in, cfg->instruments)));
    json_object_set_new(p, "imminent_danger", json_boolean(in->imminent_danger));
    json_object_set_new(p, "nationality_status",
                        json_string(in->foreign_national ? "foreign_national" : "not_recorded"));
    if (in->screening.present) {
        json_object_set_new(p, "screening_instrument", json_string(in->screening.instrument));
        json_object_set_new(p, "screening_result", json_string(in->screening.result));
        json_object_set_new(p, "screening_band", json_string(in->screening.band));
    }
    return p;
}

/* Referrals of a decision as decision_store() takes them. */
static json_t *referrals_json(const struct routing_config *cfg, const struct routing_decision *d,
                              const struct routing_input *in)
{
    json_t *arr = json_array(), *extra = payload_extra(cfg, in);
    /* What each report is about, for the report ledger: the decision's evidence, risk aside. */
    json_t *evidence = routing_input_evidence_json(in, cfg->instruments);
    for (size_t i = 0; i < d->n_referrals; i++) {
        const struct routing_referral *rf = &d->referrals[i];
        json_t *o = json_object();
        json_object_set_new(o, "destination", json_string(rf->destination));
        json_object_set_new(o, "kind", json_string(routing_kind_name(rf->kind)));
        json_object_set_new(o, "rule", json_string(rf->rule));
        json_object_set_new(o, "basis", json_string(routing_basis_name(rf->basis)));
        json_object_set_new(o, "consent", json_integer(rf->consent_id));
        json_object_set_new(o, "urgency", json_string(routing_urgency_name(rf->urgency)));
        json_object_set_new(o, "due_hours", json_integer(rf->due_hours));
        if (rf->due_from != FACTS_DUE_FROM_NOW)
            json_object_set_new(o, "due_from", json_string(facts_due_from_name(rf->due_from)));
        json_object_set_new(o, "ack_sla_hours", json_integer(rf->ack_sla_hours));
        json_object_set_new(o, "state", json_string(routing_state_name(rf->state)));
        json_object_set_new(o, "fields", routing_fields_to_json(rf->fields));
        json_object_set_new(o, "payload", json_deep_copy(extra));
        json_object_set(o, "evidence", evidence);
        json_array_append_new(arr, o);
    }
    json_decref(extra);
    json_decref(evidence);
    return arr;
}

/*
 * Stores decision d (made from in) and returns the result row of
 * decision_store (caller PQclear()s), or NULL with err set.
 */
static PGresult *store(PGconn *conn, const struct routing_config *cfg,
                       const struct routing_decision *d, const struct routing_input *in,
                       int64_t screening_id, const char *cause, char *err, size_t errlen)
{
    json_t *p = json_object(), *dj = routing_decision_to_json(d);
    char *text;
    PGresult *r;
    json_object_set_new(p, "case", json_integer(in->case_id));
    json_object_set_new(p, "screening", json_integer(screening_id));
    json_object_set_new(p, "cause", json_string(cause));
    json_object_set_new(p, "config_hash", json_string(cfg->hash));
    json_object_set_new(p, "input", routing_input_to_json(in));
    json_object_set(p, "rules", json_object_get(dj, "rules"));
    json_object_set(p, "outcome", json_object_get(dj, "outcome"));
    json_object_set_new(p, "referrals", referrals_json(cfg, d, in));
    text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    json_decref(dj);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r = trf_query(conn, store_sql, 1, (const char *const *)&text, err, errlen,
                  "cannot store the routing decision");
    free(text);
    return r;
}

static int any_rule_matched(const struct routing_decision *d)
{
    for (size_t i = 0; i < d->n_rules; i++)
        if (d->rules[i].matched)
            return 1;
    return 0;
}

/* Decides from in (borrowed) and stores the decision: route_decide_store after its reading. */
static int decide_store_from(PGconn *conn, const struct routing_config *cfg,
                             const struct routing_input *in, int64_t screening_id,
                             const char *cause, int always, struct routing_decision *d, char *err,
                             size_t errlen)
{
    PGresult *r;
    if (routing_decide(cfg, in, d) != 0) {
        snprintf(err, errlen, "case %lld: routing ran out of memory", (long long)in->case_id);
        return -1;
    }
    if (!always && !any_rule_matched(d))
        return 0;
    r = store(conn, cfg, d, in, screening_id, cause, err, errlen);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}

int route_decide_store(PGconn *conn, const struct routing_config *cfg, int64_t case_id,
                       int64_t screening_id, const char *cause, int always,
                       struct routing_decision *d, char *err, size_t errlen)
{
    struct routing_input in;
    int rc = -1, lr;

    routing_decision_init(d);
    /* The same reading the triggers make (casefacts_query): one path from a case to its facts. */
    lr = casefacts_query(conn, case_id, NULL, &in, err, errlen);
    if (lr > 0)
        snprintf(err, errlen, "case %lld not found", (long long)case_id);
    if (lr == 0)
        rc = decide_store_from(conn, cfg, &in, screening_id, cause, always, d, err, errlen);
    routing_input_release(&in);
    return rc;
}

/*
 * route_case, from the case's facts already read into in (borrowed; NULL:
 * read them here).
 */
static int route_case_from(struct trf *t, struct ch_ctx *ctx, const struct routing_input *in,
                           int64_t case_id, int64_t screening_id, const char *cause, int always)
{
    struct routing_decision d;
    char err[1024];
    int rc = CH_ERROR, stored;

    if (in != NULL) {
        routing_decision_init(&d);
        stored = decide_store_from(t->api->conn(ctx), t->cfg->routing, in, screening_id, cause,
                                   always, &d, err, sizeof(err));
    } else {
        stored = route_decide_store(t->api->conn(ctx), t->cfg->routing, case_id, screening_id,
                                    cause, always, &d, err, sizeof(err));
    }
    if (stored != 0) {
        t->api->fail(ctx, "%s", err);
        goto out;
    }
    /* What to do at once comes before what was referred: "call 911 now" is read first. */
    for (size_t i = 0; i < d.n_instructions; i++)
        t->api->out_alert(ctx, CH_SEV_DANGER, "%s", d.instructions[i]);
    if (d.n_referrals > 0) {
        /* What the report ledger did with each (a report delivered before is not made again). */
        static const char ledger_sql[] =
            "SELECT n->>'destination', n->>'action', n->>'reason'"
            "  FROM trafficking.decisions x, jsonb_array_elements(coalesce(x.ledger, '[]')) n"
            " WHERE x.id = (SELECT max(id) FROM trafficking.decisions WHERE case_id = $1)";
        char id[24];
        const char *params[1] = {id};
        PGresult *lr;
        snprintf(id, sizeof(id), "%lld", (long long)case_id);
        lr = trf_query(t->api->conn(ctx), ledger_sql, 1, params, err, sizeof(err),
                       "case %lld: cannot read the report ledger", (long long)case_id);
        if (lr == NULL) {
            t->api->fail(ctx, "%s", err);
            goto out;
        }
        for (size_t i = 0; i < d.n_referrals; i++) {
            const struct routing_referral *rf = &d.referrals[i];
            const char *action = NULL, *reason = NULL;
            for (int k = 0; k < PQntuples(lr); k++)
                if (strcmp(PQgetvalue(lr, k, 0), rf->destination) == 0) {
                    action = PQgetvalue(lr, k, 1);
                    reason = PQgetisnull(lr, k, 2) ? "" : PQgetvalue(lr, k, 2);
                }
            if (action != NULL &&
                (strcmp(action, "already_reported") == 0 || strcmp(action, "declined") == 0))
                t->api->out_message(ctx, "referral to %s (%s) not made: %s", rf->destination,
                                    routing_basis_name(rf->basis), reason);
            else
                t->api->out_message(ctx, "referral to %s (%s, %s): %s, due within %d h",
                                    rf->destination, routing_basis_name(rf->basis),
                                    routing_urgency_name(rf->urgency),
                                    routing_state_name(rf->state), rf->due_hours);
        }
        PQclear(lr);
    }
    rc = CH_OK;
out:
    routing_decision_release(&d);
    return rc;
}

int route_case(struct trf *t, struct ch_ctx *ctx, int64_t case_id, int64_t screening_id,
               const char *cause, int always)
{
    return route_case_from(t, ctx, NULL, case_id, screening_id, cause, always);
}

/* ---------------------------------------------------------- escalation --- */

static const char claim_sql[] =
    "SELECT id, case_id, destination_id, basis, coalesce(consent_id, 0), ack_sla_hours, state,"
    "       coalesce(reason, '')"
    "  FROM trafficking.referrals_claim_overdue()";
static const char escalate_sql[] = "SELECT trafficking.referral_escalate_v1($1, $2, $3::jsonb)";

/*
 * Escalates one overdue referral (or a mandatory report whose delivery
 * failed for good): records the event and refers the case to the
 * destination's escalation target with the same legal basis.
 */
static int escalate_one(struct trf *t, struct ch_ctx *ctx, const PGresult *r, int row)
{
    const struct routing_config *cfg = t->cfg->routing;
    const char *rid = PQgetvalue(r, row, 0);
    int di = routing_config_destination(cfg, PQgetvalue(r, row, 2));
    const struct routing_destination *target = NULL;
    char detail[300], *text = NULL;
    const char *params[3];
    char why[1024];
    PGresult *x;
    int ok;

    if (di >= 0 && cfg->destinations[di].escalate_to >= 0)
        target = &cfg->destinations[cfg->destinations[di].escalate_to];
    if (strcmp(PQgetvalue(r, row, 6), "delivery_failed") == 0)
        /* A mandatory report that could not be delivered: the fallback is told at once. */
        snprintf(detail, sizeof(detail), "mandatory report not delivered (%.120s): %s%s",
                 PQgetvalue(r, row, 7),
                 target ? "escalated to " : "no escalation target, a person must report it now",
                 target ? target->id : "");
    else
        snprintf(detail, sizeof(detail), "not acknowledged within %s h: %s%s",
                 PQgetvalue(r, row, 5), target ? "escalated to " : "no escalation target",
                 target ? target->id : "");
    if (target != NULL) {
        json_t *o = json_object();
        json_object_set_new(o, "destination", json_string(target->id));
        json_object_set_new(o, "kind", json_string(routing_kind_name(target->kind)));
        json_object_set_new(o, "urgency", json_string("immediate"));
        json_object_set_new(o, "due_hours", json_integer(1));
        json_object_set_new(o, "ack_sla_hours", json_integer(target->ack_sla_hours));
        json_object_set_new(o, "fields", routing_fields_to_json(target->fields));
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
    }
    params[0] = rid;
    params[1] = detail;
    params[2] = text;
    x = trf_query(t->api->conn(ctx), escalate_sql, 3, params, why, sizeof(why),
                  "referral %s: cannot escalate", rid);
    ok = x != NULL;
    if (!ok)
        t->api->fail(ctx, "%s", why);
    PQclear(x);
    free(text);
    if (ok)
        t->api->out_message(ctx, "referral %s: %s", rid, detail);
    return ok ? 0 : -1;
}

int route_on_tick(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud)
{
    struct trf *t = ud;
    char err[1024];
    PGresult *r;
    int rc = CH_OK;
    (void)ev;
    r = trf_query(t->api->conn(ctx), claim_sql, 0, NULL, err, sizeof(err),
                  "cannot claim overdue referrals");
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    for (int i = 0; i < PQntuples(r) && rc == CH_OK; i++)
        if (escalate_one(t, ctx, r, i) != 0)
            rc = CH_ERROR;
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------ other moments --- */

int trf_consent_changed(struct trf *t, struct ch_ctx *ctx, int64_t person_id)
{
    static const char sql[] = "SELECT id FROM casehost.plugin_case_v1"
                              " WHERE subject_id = $1 AND status <> 'closed' ORDER BY id";
    char id[24], err[1024];
    const char *params[1] = {id};
    PGresult *r;
    int rc = CH_OK;
    snprintf(id, sizeof(id), "%lld", (long long)person_id);
    r = trf_query(t->api->conn(ctx), sql, 1, params, err, sizeof(err),
                  "cannot read the open cases of person %s", id);
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    for (int i = 0; i < PQntuples(r) && rc == CH_OK; i++)
        rc = route_case(t, ctx, strtoll(PQgetvalue(r, i, 0), NULL, 10), 0, "consent_changed", 0);
    PQclear(r);
    return rc;
}

/*
 * 1 when a decision under cfg can change with fixed fact slot `slot`: a
 * rule's `when` reads it, or it is the state or county that a destination's
 * jurisdiction is checked against.
 */
static int reads_fact(const struct routing_config *cfg, int slot)
{
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (rule_uses_slot(cfg->rules[i].when, slot))
            return 1;
    for (size_t i = 0; i < cfg->n_destinations; i++) {
        const struct routing_jurisdiction *j = &cfg->destinations[i].jurisdiction;
        if ((slot == FACTS_STATE && !j->any) || (slot == FACTS_COUNTY && j->n_counties > 0))
            return 1;
    }
    return 0;
}

/*
 * 1 when a decision under cfg can change with the person's consents or safe
 * contact: a rule calls consent() or safe_channel(), refers on a consent
 * basis, or reaches a destination that contacts the person.
 */
static int reads_person(const struct routing_config *cfg)
{
    size_t n = facts_resolver_slot_count(&cfg->resolver);
    for (size_t slot = FACTS__COUNT; slot < n; slot++) {
        int fn = facts_resolver_call(&cfg->resolver, slot)->fn;
        if (fn == ROUTING__FN_CONSENT || fn == ROUTING__FN_SAFE_CHANNEL)
            return 1;
    }
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (cfg->rules[i].basis == ROUTING_BASIS_CONSENT)
            return 1;
    for (size_t i = 0; i < cfg->n_destinations; i++)
        if (cfg->destinations[i].contacts_person)
            return 1;
    return 0;
}

/*
 * Whether an update can change the case's decision: a changed field feeds a
 * fact the configuration reads, or puts another person behind the case whose
 * consents or safe contact it reads. Derived from the rules as the triggers'
 * reads_changed_field is, never a list of fields: a rule that starts reading
 * a fact makes the fields behind it route the case again.
 */
static int routing_relevant(const struct routing_config *cfg, const struct ch_event_data *ev)
{
    for (size_t i = 0; i < ev->n_changes; i++) {
        const char *field = ev->changes[i].field;
        for (int slot = 0; slot < FACTS__COUNT; slot++)
            if (casefacts_field_feeds(field, slot) && reads_fact(cfg, slot))
                return 1;
        if (casefacts_field_moves_person(field) && reads_person(cfg))
            return 1;
    }
    return 0;
}

int route_wanted(const struct trf *t, const struct ch_event_data *ev)
{
    return ev->kind == CH_EV_CASE_CREATED ||
           (ev->kind == CH_EV_CASE_UPDATED && routing_relevant(t->cfg->routing, ev));
}

int route_case_event(struct trf *t, struct ch_ctx *ctx, const struct ch_event_data *ev,
                     const struct routing_input *in)
{
    return route_case_from(t, ctx, in, ev->case_id, 0,
                           ev->kind == CH_EV_CASE_CREATED ? "case_created" : "case_updated", 0);
}
