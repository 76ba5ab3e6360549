/*
 * screening.c: writes screenings and suggestions, and the plugin's hook and
 * case section. JSON for the database is built with jansson, never by hand;
 * every value reaches SQL as a parameter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/actions.h"
#include "db/draft.h"
#include "db/ledger.h"
#include "db/query.h"
#include "db/route.h"
#include "db/screening.h"

static const char suggest_sql[] =
    "SELECT s.screening, to_char(s.due_at, 'YYYY-MM-DD HH24:MI'), s.overdue"
    "  FROM trafficking.screening_suggest_from_v1($1, $2, $3, $4, $5, $6) s";
static const char submit_sql[] = "SELECT trafficking.screening_submit($1::jsonb)";

const char *screening_final_state(const struct scoring_outcome *o)
{
    if (o == NULL)
        return "declined";
    return o->stopped ? "stopped" : "completed";
}

/* Items answered with a concern: what routing's indicator("item") reads. */
static json_t *concerns_json(const struct instrument *inst, const struct answer *answers)
{
    json_t *a = json_array();
    for (size_t i = 0; i < inst->n_items; i++)
        if (scoring_is_concern(&inst->items[i], &answers[i]))
            json_array_append_new(a, json_string(inst->items[i].id));
    return a;
}

/* What the concern answers establish, by the classes of this instrument version. */
static json_t *evidence_json(const struct facts_evidence_set *ev)
{
    json_t *classes = json_array();
    const char *kind = facts_disclosure_kind_name(ev->disclosure);
    for (int c = 0; c < FACTS_EVIDENCE__COUNT; c++)
        if (ev->classes & FACTS_EVIDENCE_BIT(c))
            json_array_append_new(classes,
                                  json_string(facts_evidence_name((enum facts_evidence)c)));
    return json_pack("{s:o, s:b, s:i, s:o}", "classes", classes, "ffc",
                     (ev->classes & FACTS_EVIDENCE_FFC) != 0, "risk_count", ev->risk_count,
                     "disclosure_kind", kind != NULL ? json_string(kind) : json_null());
}

static json_t *outcome_json(const struct instrument *inst, const struct scoring_outcome *o,
                            const struct answer *answers)
{
    json_t *j = json_object(), *counts = json_object(), *domains = json_object();
    json_object_set_new(j, "concerns", concerns_json(inst, answers));
    for (int k = 0; k < ANSWER__COUNT; k++)
        if (o->counts[k] > 0)
            json_object_set_new(counts, answer_kind_name((enum answer_kind)k),
                                json_integer(o->counts[k]));
    for (int d = 0; d < INSTRUMENT_DOMAIN__COUNT; d++)
        if (o->domain_score[d] > 0)
            json_object_set_new(domains, instrument_domain_name((enum instrument_domain)d),
                                json_integer(o->domain_score[d]));
    json_object_set_new(j, "answers", counts);
    json_object_set_new(j, "domain_scores", domains);
    json_object_set_new(j, "evidence", evidence_json(&o->evidence));
    json_object_set_new(j, "shown", json_integer(o->shown));
    json_object_set_new(j, "skipped", json_integer(o->skipped));
    json_object_set_new(j, "answered", json_integer(o->answered));
    json_object_set_new(j, "reachable", json_integer(o->reachable));
    if (o->stopped && o->stop_item >= 0)
        json_object_set_new(j, "stopped_at", json_string(inst->items[o->stop_item].id));
    if (o->key_item >= 0)
        json_object_set_new(j, "key_item", json_string(inst->items[o->key_item].id));
    return j;
}

int64_t screening_store(PGconn *conn, const struct screening_submit *s, char *err, size_t errlen)
{
    const struct instrument *inst = s->inst;
    json_t *p = json_object(), *answers = json_array();
    char *text = NULL;
    PGresult *r = NULL;
    int64_t id = -1;

    /* The definition travels along: the database keeps every version ever used. */
    json_object_set_new(p, "title", json_string(inst->title));
    json_object_set_new(p, "definition", json_string(inst->text));
    json_object_set_new(p, "case", json_integer(s->case_id));
    json_object_set_new(p, "instrument", json_string(inst->id));
    json_object_set_new(p, "version", json_integer(inst->version));
    json_object_set_new(p, "hash", json_string(inst->hash));
    json_object_set_new(p, "state", json_string(screening_final_state(s->outcome)));
    json_object_set_new(p, "pathway", json_string(s->age->pathway));
    json_object_set_new(p, "age", s->age->age >= 0 ? json_integer(s->age->age) : json_null());
    if (s->supersedes > 0)
        json_object_set_new(p, "supersedes", json_integer(s->supersedes));
    if (s->outcome != NULL) {
        json_object_set_new(p, "result", json_string(scoring_result_name(s->outcome->result)));
        json_object_set_new(p, "band", json_string(scoring_band(inst, s->outcome)));
        json_object_set_new(p, "score", json_integer(s->outcome->score));
        json_object_set_new(p, "outcome", outcome_json(inst, s->outcome, s->answers));
        for (size_t i = 0; i < inst->n_items; i++) {
            json_t *a = json_object();
            json_object_set_new(a, "i", json_integer((json_int_t)i));
            json_object_set_new(a, "id", json_string(inst->items[i].id));
            json_object_set_new(a, "answer", json_string(answer_kind_name(s->answers[i].kind)));
            if (s->answers[i].kind == ANSWER_VALUE)
                json_object_set_new(a, "value", json_integer(s->answers[i].value));
            json_array_append_new(answers, a);
        }
    } else {
        json_object_set_new(p, "decline_reason", json_string(s->decline_reason));
    }
    json_object_set_new(p, "answers", answers);
    answers = NULL;
    text = json_dumps(p, JSON_COMPACT);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* No head of our own: the caller names the case, the database says what is wrong. */
    r = trf_query(conn, submit_sql, 1, (const char *const *)&text, err, errlen, NULL);
    if (r == NULL)
        goto out;
    id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
out:
    PQclear(r);
    free(text);
    json_decref(answers);
    json_decref(p);
    return id;
}

int64_t screening_suggest(PGconn *conn, int64_t case_id, const struct trigger *t,
                          struct screening_due *due, char *err, size_t errlen)
{
    char id[24], hours[16];
    const char *params[6] = {id,        t->instrument, t->name,
                             t->reason, hours,         facts_due_from_name(t->due_from)};
    PGresult *r;
    int64_t out = -1;
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    snprintf(hours, sizeof(hours), "%d", t->due_hours);
    r = trf_query(conn, suggest_sql, 6, params, err, errlen,
                  "cannot suggest a screening for case %s", id);
    if (r != NULL) {
        out = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        snprintf(due->at, sizeof(due->at), "%s", PQgetvalue(r, 0, 1));
        due->overdue = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
    }
    PQclear(r);
    return out;
}

static enum facts_event event_of(enum ch_event ev)
{
    switch (ev) {
    case CH_EV_CASE_CREATED:
        return FACTS_EV_CREATED;
    case CH_EV_CASE_UPDATED:
        return FACTS_EV_UPDATED;
    case CH_EV_NOTE_ADDED:
        return FACTS_EV_NOTE_ADDED;
    case CH_EV_CASE_CLOSED:
        return FACTS_EV_CLOSED;
    default:
        return FACTS_EV_TICK;
    }
}

/*
 * On an update, a trigger fires again only when a field it reads changed: a
 * second update of an unrelated field never suggests the same screening
 * twice, while a new runaway return does.
 */
static int reads_changed_field(const struct trigger *t, const struct ch_event_data *ev)
{
    for (size_t i = 0; i < ev->n_changes; i++)
        for (int slot = 0; slot < FACTS__COUNT; slot++)
            if (rule_uses_slot(t->when, slot) && casefacts_field_feeds(ev->changes[i].field, slot))
                return 1;
    return 0;
}

/*
 * 1 when some trigger can fire on event ev: one listens to the event and,
 * on an update, reads a changed field.
 */
static int triggers_wanted(const struct trigger_set *set, const struct ch_event_data *ev)
{
    enum facts_event fe = event_of(ev->kind);
    for (size_t i = 0; i < set->n; i++)
        if ((set->v[i].events & (1u << fe)) &&
            (ev->kind != CH_EV_CASE_UPDATED || reads_changed_field(&set->v[i], ev)))
            return 1;
    return 0;
}

/*
 * Suggests the screenings the triggers ask for, from the case facts cf.
 * Returns how many were suggested (rows written), or -1 after api->fail.
 */
static int suggest(struct trf *t, struct ch_ctx *ctx, const struct ch_event_data *ev,
                   const struct casefacts *cf)
{
    struct rule_value facts[FACTS__COUNT];
    const struct trigger *matched[32];
    char err[512];
    int suggested = 0;
    size_t n;

    casefacts_fill(cf, facts);
    n = trigger_match(t->cfg->triggers, event_of(ev->kind), facts, matched, 32);
    for (size_t i = 0; i < n && i < 32; i++) {
        int64_t id;
        struct screening_due due;
        if (ev->kind == CH_EV_CASE_UPDATED && !reads_changed_field(matched[i], ev))
            continue;
        id = screening_suggest(t->api->conn(ctx), ev->case_id, matched[i], &due, err, sizeof(err));
        if (id < 0) {
            t->api->fail(ctx, "%s", err);
            return -1;
        }
        if (id > 0)
            suggested++;
        if (id > 0 && due.overdue)
            /* Late news of an event is no reason to wait: say it is overdue, and since when. */
            t->api->out_alert(ctx, CH_SEV_WARNING,
                              "screening %lld (%s) is overdue since %s: %s Do it now.",
                              (long long)id, matched[i]->instrument, due.at, matched[i]->reason);
        else if (id > 0 && !t->api->json(ctx))
            t->api->out_message(ctx, "screening suggested: %s (%s), due %s", matched[i]->instrument,
                                matched[i]->reason, due.at);
    }
    return suggested;
}

/*
 * Triggers, then routing, from one reading of the case's facts: an event
 * that can neither fire a trigger nor change the decision reads nothing,
 * and routing reads again only when a trigger wrote a screening meanwhile.
 */
int trf_on_case_event(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud)
{
    struct trf *t = ud;
    struct casefacts cf;
    struct routing_input in;
    char err[512];
    int triggers = triggers_wanted(t->cfg->triggers, ev), route = route_wanted(t, ev);
    int rc, suggested = 0;

    if (!triggers && !route)
        return CH_OK;
    rc = casefacts_query(t->api->conn(ctx), ev->case_id, &cf, route ? &in : NULL, err, sizeof(err));
    if (rc != 0) {
        if (rc > 0)
            t->api->fail(ctx, "case %lld not found", (long long)ev->case_id);
        else
            t->api->fail(ctx, "%s", err);
        rc = CH_ERROR;
        goto out;
    }
    if (triggers && (suggested = suggest(t, ctx, ev, &cf)) < 0) {
        rc = CH_ERROR;
        goto out;
    }
    rc = route ? route_case_event(t, ctx, ev, suggested > 0 ? NULL : &in) : CH_OK;
out:
    if (route)
        routing_input_release(&in);
    return rc;
}

/* 1 when a row of r (the screenings of a case) is still to be done, else 0. */
static int screening_due_in(const PGresult *r)
{
    int c = PQfnumber(r, "state");
    for (int i = 0; c >= 0 && i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, c), "suggested") == 0 ||
            strcmp(PQgetvalue(r, i, c), "in_progress") == 0)
            return 1;
    return 0;
}

/*
 * 1 when case id is open (a closed case is reopened before screening), 0
 * when closed, -1 after api->fail.
 */
static int case_open(struct trf *t, struct ch_ctx *ctx, const char *id)
{
    static const char open_sql[] =
        "SELECT 1 FROM casehost.plugin_case_v1 WHERE id = $1 AND status <> 'closed'";
    const char *params[1] = {id};
    char err[512];
    PGresult *open;
    int yes;
    open = trf_query(t->api->conn(ctx), open_sql, 1, params, err, sizeof(err), "case %s", id);
    if (open == NULL) {
        t->api->fail(ctx, "%s", err);
        return -1;
    }
    yes = PQntuples(open) == 1;
    PQclear(open);
    return yes;
}

/*
 * The next steps of screening on case id, given r (its screenings): resume a
 * saved draft, screen now or record a decline, on an open case only.
 * CH_OK, or CH_ERROR after api->fail.
 */
static int screening_next_steps(struct trf *t, struct ch_ctx *ctx, const char *id,
                                const PGresult *r)
{
    char err[1024];
    int due = screening_due_in(r), open = 0;
    PGresult *drafts = screening_drafts_of(t->api->conn(ctx), id, err, sizeof(err));
    if (drafts == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    if (due || PQntuples(drafts) > 0)
        open = case_open(t, ctx, id);
    if (open > 0)
        trf_actions_screening(t, ctx, id, due, drafts);
    PQclear(drafts);
    return open < 0 ? CH_ERROR : CH_OK;
}

int screening_render(struct trf *t, struct ch_ctx *ctx, int64_t case_id, int in_case_show)
{
    static const char sql[] =
        "SELECT s.id, s.instrument_id AS instrument, s.instrument_version AS version, s.state,"
        "       s.result, s.band, s.pathway,"
        "       to_char(s.due_at, 'YYYY-MM-DD HH24:MI') AS due,"
        "       (s.state IN ('suggested', 'in_progress') AND s.due_at < now()) AS overdue,"
        "       to_char(s.finished_at, 'YYYY-MM-DD HH24:MI') AS finished, s.superseded_by"
        "  FROM trafficking.screenings s WHERE s.case_id = $1 ORDER BY s.id";
    char id[24], err[1024];
    const char *params[1] = {id};
    PGresult *r;
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    r = trf_query(t->api->conn(ctx), sql, 1, params, err, sizeof(err),
                  "cannot read screenings of case %s", id);
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    t->api->out_result(ctx, "screenings", r, 1);
    /* What a caseworker does next from here: resume, screen, or record a decline. */
    if (screening_next_steps(t, ctx, id, r) != CH_OK) {
        PQclear(r);
        return CH_ERROR;
    }
    if (in_case_show)
        trf_action(t, ctx, "screenings of this case", "screen", "list", id, NULL);
    else
        trf_action(t, ctx, "show the case", "case", "show", id, NULL);
    trf_action(t, ctx, "referrals of this case", "referral", "list", "--case", id, NULL);
    trf_actions_per_row(t, ctx, r, "id", "show screening ", "screen", "show");
    PQclear(r);
    /* What was reported, per destination: the same reading as `referral ledger`. */
    if (trf_ledger_out(t, ctx, id, TRF_LEDGER_SUMMARY) != CH_OK)
        return CH_ERROR;
    if (trf_render_determination(ctx, case_id, t) != CH_OK)
        return CH_ERROR;
    return CH_OK;
}

/*
 * The danger instruction of the case's latest routing decision ("CALL 911
 * NOW ..."), as an alert at the top of the case while the case is open:
 * whoever opens the case sees it before anything else.
 */
static int render_danger(struct trf *t, struct ch_ctx *ctx, int64_t case_id)
{
    static const char sql[] =
        "SELECT i FROM trafficking.decisions d,"
        "      jsonb_array_elements_text(coalesce(d.outcome->'instructions', '[]')) i"
        " WHERE d.id = (SELECT max(x.id) FROM trafficking.decisions x WHERE x.case_id = $1)"
        "   AND EXISTS (SELECT 1 FROM casehost.plugin_case_v1 c"
        "                WHERE c.id = $1 AND c.status <> 'closed')";
    char id[24], err[1024];
    const char *params[1] = {id};
    PGresult *r;
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    r = trf_query(t->api->conn(ctx), sql, 1, params, err, sizeof(err),
                  "cannot read the routing decisions of case %s", id);
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    for (int i = 0; i < PQntuples(r); i++)
        t->api->out_alert(ctx, CH_SEV_DANGER, "%s", PQgetvalue(r, i, 0));
    PQclear(r);
    /* The next places a caseworker goes from the case: the decision, the person's consents. */
    r = trf_query(t->api->conn(ctx),
                  "SELECT EXISTS (SELECT 1 FROM trafficking.decisions WHERE case_id = $1),"
                  "       (SELECT c.subject_id FROM casehost.plugin_case_v1 c WHERE c.id = $1)",
                  1, params, err, sizeof(err), "cannot read the routing decisions of case %s", id);
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    if (PQgetvalue(r, 0, 0)[0] == 't')
        trf_action(t, ctx, "why these referrals (route explain)", "route", "explain", id, NULL);
    if (!PQgetisnull(r, 0, 1)) {
        trf_action(t, ctx, "the person's consents and declines", "consent", "list",
                   PQgetvalue(r, 0, 1), NULL);
        trf_action(t, ctx, "how to contact the person safely", "safety", "show",
                   PQgetvalue(r, 0, 1), NULL);
    }
    PQclear(r);
    return CH_OK;
}

int trf_render_case(struct ch_ctx *ctx, int64_t case_id, void *ud)
{
    if (render_danger(ud, ctx, case_id) != CH_OK)
        return CH_ERROR;
    return screening_render(ud, ctx, case_id, 1);
}
