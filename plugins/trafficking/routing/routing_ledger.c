/*
 * routing_ledger.c: what the report ledger does with each referral a
 * decision proposes (routing.h "report ledger"), decided as
 * trafficking.report_verdict decides it (sql/trafficking/007_ledger.sql)
 * and said in the same words, so `route what-if` and `routing test` tell a
 * person the sentence the database records.
 *
 * Pure: reads only the input it is given and writes nothing. It never
 * replaces the SQL, which decides under a lock when a decision is stored:
 * keep the two in step, branch for branch and word for word.
 */
#include "routing/routing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[ROUTING_VERDICT__COUNT] = {"new", "open", "replaces",
                                                                 "already_reported", "declined"};

const char *routing_verdict_action_name(enum routing_verdict_action a)
{
    return (unsigned)a < ROUTING_VERDICT__COUNT ? action_names[a] : NULL;
}

int routing_verdict_action_lookup(const char *name)
{
    for (int a = 0; a < ROUTING_VERDICT__COUNT; a++)
        if (strcmp(action_names[a], name) == 0)
            return a;
    return -1;
}

int routing_verdict_made(enum routing_verdict_action a)
{
    return a == ROUTING_VERDICT_NEW || a == ROUTING_VERDICT_OPEN || a == ROUTING_VERDICT_REPLACES;
}

void routing_verdict_release(struct routing_verdict *v)
{
    free(v->destination);
    free(v->rule);
    free(v->reason);
    free(v->decline);
    memset(v, 0, sizeof(*v));
}

void routing_ledger_init(struct routing_ledger *l)
{
    memset(l, 0, sizeof(*l));
}

void routing_ledger_release(struct routing_ledger *l)
{
    for (size_t i = 0; i < l->n_verdicts; i++)
        routing_verdict_release(&l->verdicts[i]);
    free(l->verdicts);
    routing_ledger_init(l);
}

/* ------------------------------------------------------------- helpers --- */

/* The UTC date of t ("YYYY-MM-DD") in buf, as the reasons show dates. */
static const char *date_of(routing_time t, char *buf, size_t len)
{
    if (t == ROUTING_TIME_NONE) {
        snprintf(buf, len, "an unknown date");
        return buf;
    }
    return routing_time_date(t, buf, len);
}

/* A referral that has not left: it stands until it is delivered or ends. */
static int undelivered(const struct routing_ledger_entry *e)
{
    return strcmp(e->state, "pending_consent") == 0 || strcmp(e->state, "queued") == 0;
}

static int names(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

/*
 * 1 when an active consent of the person, granted after decline d, names
 * dest by its id: the person chose that one recipient of the declined kind.
 * A consent whose times are not known never counts: the refusal stands.
 */
static int chosen_after(const struct routing_input *in, const struct routing_decline *d,
                        const char *dest, routing_time now)
{
    for (size_t i = 0; i < in->n_consents; i++) {
        const struct routing_consent *c = &in->consents[i];
        if (c->granted_at == ROUTING_TIME_NONE || d->declined_at == ROUTING_TIME_NONE ||
            c->granted_at <= d->declined_at || c->revoked_at != ROUTING_TIME_NONE ||
            c->expires_at == ROUTING_TIME_NONE || c->expires_at <= now)
            continue;
        if (names(c->recipients, c->n_recipients, dest))
            return 1;
    }
    return 0;
}

/*
 * The person's active decline that keeps a consent-based referral from
 * dest (of kind), the lowest id first (trafficking.decline_of), or NULL.
 */
static const struct routing_decline *decline_of(const struct routing_input *in, const char *dest,
                                                const char *kind, routing_time now)
{
    const struct routing_decline *found = NULL;
    for (size_t i = 0; i < in->n_declines; i++) {
        const struct routing_decline *d = &in->declines[i];
        int hit = strcmp(d->recipient, dest) == 0 ||
                  (strncmp(d->recipient, "kind:", 5) == 0 && strcmp(d->recipient + 5, kind) == 0 &&
                   !chosen_after(in, d, dest, now));
        if (hit && (found == NULL || d->id < found->id))
            found = d;
    }
    return found;
}

/* 1 when ledger entry e is for the runaway episode `episode` (both none, or the same). */
static int same_episode(const struct routing_ledger_entry *e, routing_time episode)
{
    return e->episode == episode;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * "new evidence: a, b" for the classes of evidence (sorted by name, as the
 * database sorts them) that no delivery in covered[0 .. n-1] told, in buf;
 * "" when none.
 */
static void fresh_evidence(facts_evidence_mask evidence,
                           const struct routing_ledger_entry *const *covered, size_t n, char *buf,
                           size_t len)
{
    const char *cls[FACTS_EVIDENCE__COUNT];
    size_t n_cls = 0, off = 0;
    for (int c = 0; c < FACTS_EVIDENCE__COUNT; c++)
        if ((evidence & FACTS_EVIDENCE_BIT(c)) && c != FACTS_EVIDENCE_RISK &&
            c != FACTS_EVIDENCE_DISCLOSURE)
            cls[n_cls++] = facts_evidence_name((enum facts_evidence)c);
    qsort(cls, n_cls, sizeof(cls[0]), by_name);
    buf[0] = '\0';
    for (size_t i = 0; i < n_cls; i++) {
        size_t k = 0;
        while (k < n && !names(covered[k]->evidence, covered[k]->n_evidence, cls[i]))
            k++;
        if (k < n || off >= len)
            continue;
        off +=
            (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "new evidence: ", cls[i]);
    }
}

/* ------------------------------------------------------------- verdict --- */

/* Sets out's action, referral and reason (a copy of text); 0 or -1. */
static int say(struct routing_verdict *out, enum routing_verdict_action action, int64_t referral,
               const char *text)
{
    out->action = action;
    out->referral = referral;
    return (out->reason = strdup(text)) != NULL ? 0 : -1;
}

/* An undelivered referral of this case, or of another case for this episode, stands. 1: judged. */
static int judge_open(const struct routing_input *in, const struct routing_referral *rf,
                      struct routing_verdict *out, int *rc)
{
    const struct routing_ledger_entry *mine = NULL, *other = NULL;
    char text[400];
    for (size_t i = 0; i < in->n_ledger; i++) {
        const struct routing_ledger_entry *e = &in->ledger[i];
        if (strcmp(e->destination, rf->destination) != 0 || !undelivered(e))
            continue;
        if (e->case_id == in->case_id) {
            if (mine == NULL)
                mine = e;
        } else if (e->basis == rf->basis && same_episode(e, in->episode) &&
                   (other == NULL || e->referral < other->referral)) {
            other = e;
        }
    }
    if (mine != NULL && mine->basis == ROUTING_BASIS_CONSENT &&
        rf->basis != ROUTING_BASIS_CONSENT) {
        snprintf(
            text, sizeof(text), "%s: referral %lld (consent, %s, not delivered) gives way to it",
            rf->basis == ROUTING_BASIS_IMMINENT_DANGER ? "emergency referral" : "mandatory report",
            (long long)mine->referral, mine->state);
        *rc = say(out, ROUTING_VERDICT_REPLACES, mine->referral, text);
    } else if (mine != NULL) {
        int troubled = strcmp(mine->outbox, "failed") == 0 || strcmp(mine->outbox, "held") == 0;
        snprintf(text, sizeof(text),
                 "the same report is open, not delivered yet: referral %lld (%s%s%s); it stands",
                 (long long)mine->referral, mine->state, troubled ? ", delivery " : "",
                 troubled ? mine->outbox : "");
        *rc = say(out, ROUTING_VERDICT_OPEN, mine->referral, text);
    } else if (other != NULL) {
        snprintf(text, sizeof(text),
                 "the same report is open in case %lld, not delivered yet: referral %lld (%s); it "
                 "stands",
                 (long long)other->case_id, (long long)other->referral, other->state);
        *rc = say(out, ROUTING_VERDICT_OPEN, other->referral, text);
    } else {
        return 0;
    }
    return 1;
}

/*
 * Held against the deliveries to the destination on this basis for this
 * episode: already reported, or new for what they did not tell. 1: judged.
 */
static int judge_delivered(const struct routing_input *in, facts_evidence_mask evidence,
                           int64_t disclosure, const struct routing_referral *rf,
                           struct routing_verdict *out, int *rc)
{
    const struct routing_ledger_entry **told = NULL, *latest = NULL;
    size_t n = 0;
    int disclosed = 0;
    char fresh[200], text[400], date[ROUTING_TIME_LEN];
    if (in->n_ledger > 0 && (told = calloc(in->n_ledger, sizeof(*told))) == NULL) {
        *rc = -1;
        return 1;
    }
    for (size_t i = 0; i < in->n_ledger; i++) {
        const struct routing_ledger_entry *e = &in->ledger[i];
        if (strcmp(e->destination, rf->destination) != 0 || e->basis != rf->basis ||
            e->delivered_at == ROUTING_TIME_NONE || !same_episode(e, in->episode))
            continue;
        told[n++] = e;
        disclosed |= e->disclosure != 0 && e->disclosure == disclosure;
        if (latest == NULL || e->delivered_at > latest->delivered_at ||
            (e->delivered_at == latest->delivered_at && e->referral > latest->referral))
            latest = e;
    }
    if (latest == NULL) {
        free(told);
        return 0;
    }
    fresh_evidence(evidence, told, n, fresh, sizeof(fresh));
    free(told);
    if (fresh[0] != '\0' || (disclosure != 0 && !disclosed)) {
        char part[80] = "";
        if (disclosure != 0 && !disclosed)
            snprintf(part, sizeof(part), "%snew disclosure (screening %lld)",
                     fresh[0] != '\0' ? "; " : "", (long long)disclosure);
        snprintf(text, sizeof(text), "new report: %s%s", fresh, part);
        *rc = say(out, ROUTING_VERDICT_NEW, 0, text);
    } else {
        snprintf(text, sizeof(text), "already reported to %s on %s (referral %lld, %s)",
                 rf->destination, date_of(latest->delivered_at, date, sizeof(date)),
                 (long long)latest->referral, latest->state);
        *rc = say(out, ROUTING_VERDICT_ALREADY_REPORTED, latest->referral, text);
    }
    return 1;
}

int routing_ledger_judge(const struct routing_input *in, facts_evidence_mask evidence,
                         int64_t disclosure, const struct routing_referral *rf,
                         struct routing_verdict *out)
{
    const char *kind = routing_kind_name(rf->kind);
    const struct routing_decline *dec;
    char text[400], date[ROUTING_TIME_LEN];
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->basis = rf->basis;
    if ((out->destination = strdup(rf->destination)) == NULL ||
        (out->rule = strdup(rf->rule)) == NULL)
        return -1;
    dec = decline_of(in, rf->destination, kind != NULL ? kind : "", routing_input_now(in));
    if (dec != NULL && rf->basis == ROUTING_BASIS_CONSENT) {
        snprintf(text, sizeof(text),
                 "not referred: the person declined %s on %s (decline %lld); no consent-based "
                 "referral until they change their mind",
                 dec->recipient, date_of(dec->declined_at, date, sizeof(date)), (long long)dec->id);
        return say(out, ROUTING_VERDICT_DECLINED, 0, text);
    }
    if (dec != NULL) {
        snprintf(text, sizeof(text),
                 "the person declined %s on %s (decline %lld), but %s is made whatever the "
                 "consent: the law overrides a refusal",
                 dec->recipient, date_of(dec->declined_at, date, sizeof(date)), (long long)dec->id,
                 rf->basis == ROUTING_BASIS_IMMINENT_DANGER ? "an emergency referral"
                                                            : "a mandatory report");
        if ((out->decline = strdup(text)) == NULL)
            return -1;
    }
    if (judge_open(in, rf, out, &rc) || judge_delivered(in, evidence, disclosure, rf, out, &rc))
        return rc;

    /* Never delivered for this episode: the first report, or the first of a new episode. */
    int earlier = 0;
    for (size_t i = 0; i < in->n_ledger && !earlier; i++)
        earlier = strcmp(in->ledger[i].destination, rf->destination) == 0 &&
                  in->ledger[i].basis == rf->basis &&
                  in->ledger[i].delivered_at != ROUTING_TIME_NONE;
    if (!earlier)
        return say(out, ROUTING_VERDICT_NEW, 0, "first report");
    if (in->episode == ROUTING_TIME_NONE)
        return say(out, ROUTING_VERDICT_NEW, 0,
                   "new report: no runaway episode now; earlier reports were for one");
    snprintf(text, sizeof(text), "new report: new episode of %s",
             date_of(in->episode, date, sizeof(date)));
    return say(out, ROUTING_VERDICT_NEW, 0, text);
}

int routing_ledger_of(const struct routing_config *cfg, const struct routing_input *in,
                      const struct routing_decision *d, struct routing_ledger *out)
{
    facts_evidence_mask evidence = routing_input_report_classes(in, cfg->instruments);
    int64_t disclosure = routing_input_disclosure(in);
    routing_ledger_init(out);
    if ((out->verdicts = calloc(d->n_referrals ? d->n_referrals : 1, sizeof(*out->verdicts))) ==
        NULL)
        return -1;
    for (size_t i = 0; i < d->n_referrals; i++) {
        out->n_verdicts = i + 1;
        if (routing_ledger_judge(in, evidence, disclosure, &d->referrals[i], &out->verdicts[i]) !=
            0)
            return -1;
    }
    return 0;
}

json_t *routing_ledger_to_json(const struct routing_ledger *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < l->n_verdicts; i++) {
        const struct routing_verdict *v = &l->verdicts[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "destination", v->destination, "basis",
                              routing_basis_name(v->basis), "rule", v->rule, "action",
                              routing_verdict_action_name(v->action), "reason", v->reason);
        if (json_array_append_new(a, o) != 0 ||
            (v->referral != 0 &&
             json_object_set_new(o, "referral", json_integer(v->referral)) != 0) ||
            (v->decline != NULL &&
             json_object_set_new(o, "decline", json_string(v->decline)) != 0)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
