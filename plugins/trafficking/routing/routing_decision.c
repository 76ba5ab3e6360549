/*
 * routing_decision.c: a routing decision's life after routing_decide: its
 * stored JSON form (and reading it back for replay), the summary a person
 * acts on, the full explanation for admins and the diff between two decisions.
 *
 * Never decides anything itself and never touches the database; a decision
 * read back from JSON is checked as strictly as one that was just made.
 */
#include "routing/routing.h"

#include <stdlib.h>
#include <string.h>

void routing_decision_init(struct routing_decision *d)
{
    memset(d, 0, sizeof(*d));
}

void routing_decision_release(struct routing_decision *d)
{
    for (size_t i = 0; i < d->n_rules; i++) {
        free(d->rules[i].name);
        free(d->rules[i].trace);
        free(d->rules[i].note);
    }
    free(d->rules);
    for (size_t i = 0; i < d->n_referrals; i++) {
        free(d->referrals[i].destination);
        free(d->referrals[i].rule);
        free(d->referrals[i].reason);
    }
    free(d->referrals);
    for (size_t i = 0; i < d->n_unused; i++) {
        free(d->unused[i].destination);
        free(d->unused[i].rule);
        free(d->unused[i].reason);
    }
    free(d->unused);
    for (size_t i = 0; i < d->n_instructions; i++)
        free(d->instructions[i]);
    free(d->instructions);
    routing_decision_init(d);
}

/* --------------------------------------------------------------- to JSON --- */

static json_t *referral_json(const struct routing_referral *r)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:o,s:o,s:s,s:s}", "destination", r->destination,
                     "kind", routing_kind_name(r->kind), "rule", r->rule, "basis",
                     routing_basis_name(r->basis), "urgency", routing_urgency_name(r->urgency),
                     "due_hours", r->due_hours, "ack_sla_hours", r->ack_sla_hours, "fields",
                     routing_fields_to_json(r->fields), "consent_id",
                     r->consent_id > 0 ? json_integer((json_int_t)r->consent_id) : json_null(),
                     "state", routing_state_name(r->state), "reason", r->reason);
}

static json_t *unused_json(const struct routing_unused *u)
{
    return json_pack("{s:o,s:s,s:s,s:s}", "destination",
                     u->destination ? json_string(u->destination) : json_null(), "kind",
                     routing_kind_name(u->kind), "rule", u->rule, "reason", u->reason);
}

static json_t *rule_json(const struct routing_rule_result *r)
{
    return json_pack("{s:s,s:i,s:b,s:b,s:b,s:s,s:o}", "name", r->name, "priority", r->priority,
                     "evaluated", r->evaluated, "matched", r->matched, "stopped", r->stopped,
                     "trace", r->trace, "note", r->note ? json_string(r->note) : json_null());
}

json_t *routing_decision_to_json(const struct routing_decision *d)
{
    json_t *rules = json_array(), *refs = json_array(), *unused = json_array();
    json_t *instructions = json_array();
    int ok = rules != NULL && refs != NULL && unused != NULL && instructions != NULL;
    for (size_t i = 0; ok && i < d->n_instructions; i++)
        ok = json_array_append_new(instructions, json_string(d->instructions[i])) == 0;
    for (size_t i = 0; ok && i < d->n_rules; i++)
        ok = json_array_append_new(rules, rule_json(&d->rules[i])) == 0;
    for (size_t i = 0; ok && i < d->n_referrals; i++)
        ok = json_array_append_new(refs, referral_json(&d->referrals[i])) == 0;
    for (size_t i = 0; ok && i < d->n_unused; i++)
        ok = json_array_append_new(unused, unused_json(&d->unused[i])) == 0;
    if (!ok) {
        json_decref(rules);
        json_decref(refs);
        json_decref(unused);
        json_decref(instructions);
        return NULL;
    }
    /* Instructions first: a page that shows the outcome in order shows them first. */
    return json_pack("{s:I,s:s,s:o,s:{s:o,s:o,s:o}}", "case_id", (json_int_t)d->case_id,
                     "config_hash", d->config_hash, "rules", rules, "outcome", "instructions",
                     instructions, "referrals", refs, "not_used", unused);
}

/* ------------------------------------------------------------- from JSON --- */

static int bad(char *err, size_t errlen, const char *where, const json_error_t *e)
{
    snprintf(err, errlen, "%s: %s", where, e->text);
    return -1;
}

/* Looks name up in a table through lookup(); -1 with a message when unknown. */
static int name_of(int (*lookup)(const char *), const char *name, const char *what,
                   const char *where, char *err, size_t errlen)
{
    int v = lookup(name);
    if (v < 0)
        snprintf(err, errlen, "%s: unknown %s '%s'", where, what, name);
    return v;
}

static int read_rule(const json_t *j, struct routing_rule_result *r, const char *where, char *err,
                     size_t errlen)
{
    json_error_t e;
    const char *name, *trace;
    json_t *note = NULL;
    int evaluated, matched, stopped;
    if (json_unpack_ex((json_t *)j, &e, JSON_STRICT, "{s:s,s:i,s:b,s:b,s:b,s:s,s?o}", "name", &name,
                       "priority", &r->priority, "evaluated", &evaluated, "matched", &matched,
                       "stopped", &stopped, "trace", &trace, "note", &note) != 0)
        return bad(err, errlen, where, &e);
    if (note != NULL && !json_is_null(note) && !json_is_string(note)) {
        snprintf(err, errlen, "%s: note must be a string or null", where);
        return -1;
    }
    r->evaluated = evaluated;
    r->matched = matched;
    r->stopped = stopped;
    r->name = strdup(name);
    r->trace = strdup(trace);
    r->note = json_is_string(note) ? strdup(json_string_value(note)) : NULL;
    return r->name && r->trace && (!json_is_string(note) || r->note) ? 0 : -1;
}

/* outcome.instructions (absent in decisions stored before there were any). */
static int read_instructions(const json_t *a, struct routing_decision *out, char *err,
                             size_t errlen)
{
    size_t i;
    json_t *v;
    if (a == NULL)
        return 0;
    if (!json_is_array(a)) {
        snprintf(err, errlen, "outcome.instructions must be an array");
        return -1;
    }
    if ((out->instructions = calloc(json_array_size(a) + 1, sizeof(*out->instructions))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "outcome.instructions[%zu] must be a string", i);
            return -1;
        }
        if ((out->instructions[i] = strdup(json_string_value(v))) == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        out->n_instructions = i + 1;
    }
    return 0;
}

static int read_fields(const json_t *a, routing_fields *mask, const char *where, char *err,
                       size_t errlen)
{
    size_t i;
    json_t *v;
    *mask = 0;
    if (!json_is_array(a)) {
        snprintf(err, errlen, "%s: fields must be an array", where);
        return -1;
    }
    json_array_foreach(a, i, v)
    {
        int f = json_is_string(v) ? routing_field_lookup(json_string_value(v)) : -1;
        if (f < 0) {
            snprintf(err, errlen, "%s: unknown field in fields", where);
            return -1;
        }
        *mask |= 1u << f;
    }
    return 0;
}

static int read_referral(const json_t *j, struct routing_referral *r, const char *where, char *err,
                         size_t errlen)
{
    json_error_t e;
    const char *dest, *kind, *rule, *basis, *urgency, *state, *reason;
    json_t *fields, *consent;
    int k, b, u, s;
    if (json_unpack_ex((json_t *)j, &e, JSON_STRICT,
                       "{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:o,s:o,s:s,s:s}", "destination", &dest,
                       "kind", &kind, "rule", &rule, "basis", &basis, "urgency", &urgency,
                       "due_hours", &r->due_hours, "ack_sla_hours", &r->ack_sla_hours, "fields",
                       &fields, "consent_id", &consent, "state", &state, "reason", &reason) != 0)
        return bad(err, errlen, where, &e);
    if ((k = name_of(routing_kind_lookup, kind, "kind", where, err, errlen)) < 0 ||
        (b = name_of(routing_basis_lookup, basis, "basis", where, err, errlen)) < 0 ||
        (u = name_of(routing_urgency_lookup, urgency, "urgency", where, err, errlen)) < 0 ||
        (s = name_of(routing_state_lookup, state, "state", where, err, errlen)) < 0)
        return -1;
    if (read_fields(fields, &r->fields, where, err, errlen) != 0)
        return -1;
    if (!json_is_null(consent) && !json_is_integer(consent)) {
        snprintf(err, errlen, "%s: consent_id must be an integer or null", where);
        return -1;
    }
    r->consent_id = json_is_integer(consent) ? (int64_t)json_integer_value(consent) : 0;
    r->kind = (enum routing_kind)k;
    r->basis = (enum routing_basis)b;
    r->urgency = (enum routing_urgency)u;
    r->state = (enum routing_state)s;
    r->destination = strdup(dest);
    r->rule = strdup(rule);
    r->reason = strdup(reason);
    return r->destination && r->rule && r->reason ? 0 : -1;
}

static int read_unused(const json_t *j, struct routing_unused *u, const char *where, char *err,
                       size_t errlen)
{
    json_error_t e;
    const char *kind, *rule, *reason;
    json_t *dest;
    int k;
    if (json_unpack_ex((json_t *)j, &e, JSON_STRICT, "{s:o,s:s,s:s,s:s}", "destination", &dest,
                       "kind", &kind, "rule", &rule, "reason", &reason) != 0)
        return bad(err, errlen, where, &e);
    if ((k = name_of(routing_kind_lookup, kind, "kind", where, err, errlen)) < 0)
        return -1;
    if (!json_is_null(dest) && !json_is_string(dest)) {
        snprintf(err, errlen, "%s: destination must be a string or null", where);
        return -1;
    }
    u->kind = (enum routing_kind)k;
    u->destination = json_is_string(dest) ? strdup(json_string_value(dest)) : NULL;
    u->rule = strdup(rule);
    u->reason = strdup(reason);
    return (json_is_null(dest) || u->destination) && u->rule && u->reason ? 0 : -1;
}

/* Zeroed room for the elements of array a (at least one); caller frees. */
static void *alloc_for(const json_t *a, size_t size)
{
    size_t n = json_array_size(a);
    return calloc(n ? n : 1, size);
}

int routing_decision_from_json(const json_t *j, struct routing_decision *out, char *err,
                               size_t errlen)
{
    json_error_t e;
    json_t *rules, *refs, *unused, *case_id = NULL, *instructions = NULL;
    const char *hash = NULL;
    char where[64];
    size_t i;
    json_t *v;

    routing_decision_init(out);
    if (json_unpack_ex((json_t *)j, &e, JSON_STRICT, "{s?o,s?s,s:o,s:{s?o,s:o,s:o}}", "case_id",
                       &case_id, "config_hash", &hash, "rules", &rules, "outcome", "instructions",
                       &instructions, "referrals", &refs, "not_used", &unused) != 0)
        return bad(err, errlen, "decision", &e);
    if (read_instructions(instructions, out, err, errlen) != 0)
        return -1;
    if (!json_is_array(rules) || !json_is_array(refs) || !json_is_array(unused)) {
        snprintf(err, errlen,
                 "decision: rules, outcome.referrals and outcome.not_used must be "
                 "arrays");
        return -1;
    }
    if (case_id != NULL && json_is_integer(case_id))
        out->case_id = (int64_t)json_integer_value(case_id);
    if (hash != NULL)
        snprintf(out->config_hash, sizeof(out->config_hash), "%s", hash);
    out->rules = alloc_for(rules, sizeof(*out->rules));
    out->referrals = alloc_for(refs, sizeof(*out->referrals));
    out->unused = alloc_for(unused, sizeof(*out->unused));
    if (out->rules == NULL || out->referrals == NULL || out->unused == NULL)
        goto oom;
    json_array_foreach(rules, i, v)
    {
        snprintf(where, sizeof(where), "rules[%zu]", i);
        out->n_rules = i + 1;
        if (read_rule(v, &out->rules[i], where, err, errlen) != 0)
            return -1;
    }
    json_array_foreach(refs, i, v)
    {
        snprintf(where, sizeof(where), "outcome.referrals[%zu]", i);
        out->n_referrals = i + 1;
        if (read_referral(v, &out->referrals[i], where, err, errlen) != 0)
            return -1;
    }
    json_array_foreach(unused, i, v)
    {
        snprintf(where, sizeof(where), "outcome.not_used[%zu]", i);
        out->n_unused = i + 1;
        if (read_unused(v, &out->unused[i], where, err, errlen) != 0)
            return -1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* -------------------------------------------------------------- explain --- */

static void fields_text(routing_fields mask, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int f = 0; f < ROUTING_FIELD__COUNT && off < len; f++)
        if (mask & (1u << f))
            off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
                                    routing_field_name((enum routing_field)f));
}

/* Prints text with every line indented. */
static void indented(FILE *f, const char *text, const char *indent)
{
    while (*text != '\0') {
        size_t n = strcspn(text, "\n");
        fprintf(f, "%s%.*s\n", indent, (int)n, text);
        text += n;
        if (*text == '\n')
            text++;
    }
}

void routing_explain_text(const struct routing_decision *d, FILE *f)
{
    const char *stopper = NULL;
    char buf[600];
    fprintf(f, "routing decision for case %lld (configuration %.12s)\n", (long long)d->case_id,
            d->config_hash[0] ? d->config_hash : "unknown");
    if (d->n_instructions > 0)
        fprintf(f, "instructions, shown first to every person:\n");
    for (size_t i = 0; i < d->n_instructions; i++)
        fprintf(f, "  %s\n", d->instructions[i]);
    fprintf(f, "rules, in priority order:\n");
    for (size_t i = 0; i < d->n_rules; i++) {
        const struct routing_rule_result *r = &d->rules[i];
        if (!r->evaluated) {
            fprintf(f, "  [%d] %s: not evaluated (rule '%s' matched and stops)\n", r->priority,
                    r->name, stopper ? stopper : "?");
            continue;
        }
        fprintf(f, "  [%d] %s: %s%s", r->priority, r->name, r->matched ? "MATCHED" : "no match",
                r->stopped ? ", stop: later rules on basis consent are not evaluated" : "");
        /* Evaluated after a stop: only a rule on a legal basis is. */
        if (stopper != NULL)
            fprintf(f, " (after the stop of rule '%s': a legal duty is never skipped)", stopper);
        fputc('\n', f);
        indented(f, r->trace, "        ");
        if (r->stopped)
            stopper = r->name;
    }
    fprintf(f, "referrals:%s\n", d->n_referrals ? "" : " none");
    for (size_t i = 0; i < d->n_referrals; i++) {
        const struct routing_referral *r = &d->referrals[i];
        fprintf(f, "  %s (%s) by rule '%s': %s, %s, due within %dh (%s), ack within %dh\n",
                r->destination, routing_kind_name(r->kind), r->rule, routing_basis_name(r->basis),
                routing_state_name(r->state), r->due_hours, routing_urgency_name(r->urgency),
                r->ack_sla_hours);
        fields_text(r->fields, buf, sizeof(buf));
        fprintf(f, "      fields: %s\n      why: %s\n", buf, r->reason);
    }
    fprintf(f, "not used:%s\n", d->n_unused ? "" : " none");
    for (size_t i = 0; i < d->n_unused; i++) {
        const struct routing_unused *u = &d->unused[i];
        fprintf(f, "  %s (%s) by rule '%s': %s\n", u->destination ? u->destination : "-",
                routing_kind_name(u->kind), u->rule, u->reason);
    }
}

/* -------------------------------------------------------------- summary --- */

static const struct routing_referral *find(const struct routing_decision *d, const char *dest)
{
    for (size_t i = 0; i < d->n_referrals; i++)
        if (strcmp(d->referrals[i].destination, dest) == 0)
            return &d->referrals[i];
    return NULL;
}

/* The rule's note, or its name when it has none (or the decision lacks it). */
static const char *rule_words(const struct routing_decision *d, const char *rule)
{
    for (size_t i = 0; i < d->n_rules; i++)
        if (strcmp(d->rules[i].name, rule) == 0 && d->rules[i].note != NULL)
            return d->rules[i].note;
    return rule;
}

static const struct routing_referral_now *now_of(const struct routing_referral_now *now,
                                                 size_t n_now, const char *destination)
{
    for (size_t i = 0; now != NULL && i < n_now; i++)
        if (now[i].destination != NULL && strcmp(now[i].destination, destination) == 0)
            return &now[i];
    return NULL;
}

/* What the basis means for the person, in a few words. */
static const char *basis_words(const struct routing_referral *r)
{
    switch (r->basis) {
    case ROUTING_BASIS_IMMINENT_DANGER:
        return "imminent danger: whatever the consent";
    case ROUTING_BASIS_MANDATORY_REPORT:
        return "a mandatory report: whatever the consent";
    default:
        return r->state == ROUTING_STATE_QUEUED ? "with the person's consent"
                                                : "it needs the person's consent";
    }
}

/* "within 24 h", or the referral's due time as the caller knows it. */
static json_t *due_json(const struct routing_referral *r, const struct routing_referral_now *now)
{
    char buf[160];
    if (now != NULL && now->due != NULL && now->due[0] != '\0')
        return json_string(now->due);
    snprintf(buf, sizeof(buf), "within %d h", r->due_hours);
    return json_string(buf);
}

/* A referral's one line of why: "<the rule's note> (<the basis>)". */
static json_t *why_json(const struct routing_decision *d, const struct routing_referral *r,
                        const struct routing_referral_now *now)
{
    char buf[900];
    if (r->state == ROUTING_STATE_PENDING_CONSENT &&
        (now == NULL || now->state == NULL || strcmp(now->state, "pending_consent") == 0))
        snprintf(buf, sizeof(buf), "%s (%s)", rule_words(d, r->rule), r->reason);
    else if (now != NULL && now->reason != NULL && now->reason[0] != '\0')
        snprintf(buf, sizeof(buf), "%s (%s)", rule_words(d, r->rule), now->reason);
    else
        snprintf(buf, sizeof(buf), "%s (%s)", rule_words(d, r->rule), basis_words(r));
    return json_string(buf);
}

static int is_state(const char *state, const char *a, const char *b)
{
    return strcmp(state, a) == 0 || (b != NULL && strcmp(state, b) == 0);
}

/* 1 when an earlier not-used entry of d already speaks for u's destination (or kind). */
static int said_before(const struct routing_decision *d, size_t k)
{
    const struct routing_unused *u = &d->unused[k];
    for (size_t i = 0; i < k; i++) {
        const struct routing_unused *x = &d->unused[i];
        if (u->destination != NULL
                ? x->destination != NULL && strcmp(x->destination, u->destination) == 0
                : x->destination == NULL && x->kind == u->kind)
            return 1;
    }
    return 0;
}

/* The destination's name in cfg (may be NULL), as JSON; null when unknown. */
static json_t *name_json(const struct routing_config *cfg, const char *id)
{
    int i = cfg != NULL && id != NULL ? routing_config_destination(cfg, id) : -1;
    return i >= 0 && cfg->destinations[i].name != NULL ? json_string(cfg->destinations[i].name)
                                                       : json_null();
}

json_t *routing_summary(const struct routing_decision *d, const struct routing_config *cfg,
                        const struct routing_referral_now *now, size_t n_now)
{
    json_t *s = json_object(), *instr = json_array(), *made = json_array();
    json_t *waiting = json_array(), *not_sent = json_array();
    int ok = s != NULL && instr != NULL && made != NULL && waiting != NULL && not_sent != NULL;
    for (size_t i = 0; ok && i < d->n_instructions; i++)
        ok = json_array_append_new(instr, json_string(d->instructions[i])) == 0;
    for (size_t i = 0; ok && i < d->n_referrals; i++) {
        const struct routing_referral *r = &d->referrals[i];
        const struct routing_referral_now *n = now_of(now, n_now, r->destination);
        const char *state = n != NULL && n->state != NULL ? n->state : routing_state_name(r->state);
        json_t *o = json_pack("{s:s,s:o,s:s,s:o,s:o}", "destination", r->destination, "name",
                              name_json(cfg, r->destination), "kind", routing_kind_name(r->kind),
                              "due", due_json(r, n), "why", why_json(d, r, n));
        if (o == NULL) {
            ok = 0;
            break;
        }
        if (is_state(state, "pending_consent", NULL)) {
            ok = json_array_append_new(waiting, o) == 0;
            continue;
        }
        if (is_state(state, "revoked", "rejected")) {
            json_object_del(o, "due");
            json_object_set_new(o, "state", json_string(state));
            ok = json_array_append_new(not_sent, o) == 0;
            continue;
        }
        ok = json_object_set_new(o, "state", json_string(state)) == 0 &&
             json_object_set_new(o, "basis", json_string(routing_basis_name(r->basis))) == 0 &&
             json_object_set_new(o, "sent",
                                 n != NULL && n->sent != NULL && n->sent[0] != '\0'
                                     ? json_string(n->sent)
                                     : json_null()) == 0 &&
             json_array_append_new(made, o) == 0;
    }
    for (size_t i = 0; ok && i < d->n_unused; i++) {
        const struct routing_unused *u = &d->unused[i];
        /* Referred by another rule, or already said: nothing a person need read twice. */
        if ((u->destination != NULL && find(d, u->destination) != NULL) || said_before(d, i))
            continue;
        ok = json_array_append_new(
                 not_sent, json_pack("{s:o,s:o,s:s,s:s}", "destination",
                                     u->destination ? json_string(u->destination) : json_null(),
                                     "name", name_json(cfg, u->destination), "kind",
                                     routing_kind_name(u->kind), "why", u->reason)) == 0;
    }
    if (ok && json_object_set_new(s, "instructions", instr) == 0 &&
        json_object_set_new(s, "referrals", made) == 0 &&
        json_object_set_new(s, "waiting_for_consent", waiting) == 0 &&
        json_object_set_new(s, "not_sent", not_sent) == 0)
        return s;
    json_decref(s);
    return NULL;
}

static const char *member(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v != NULL ? v : "";
}

/*
 * "cw_ca (child_welfare, California child protective services hotline)", the
 * name when known; "no law_enforcement destination" for a kind nobody serves.
 */
static void who(FILE *f, const json_t *o)
{
    if (!json_is_string(json_object_get(o, "destination")))
        fprintf(f, "  no %s destination", member(o, "kind"));
    else if (json_is_string(json_object_get(o, "name")))
        fprintf(f, "  %s (%s, %s)", member(o, "destination"), member(o, "kind"), member(o, "name"));
    else
        fprintf(f, "  %s (%s)", member(o, "destination"), member(o, "kind"));
}

void routing_summary_text(const json_t *summary, FILE *f)
{
    const json_t *made = json_object_get(summary, "referrals");
    const json_t *waiting = json_object_get(summary, "waiting_for_consent");
    const json_t *not_sent = json_object_get(summary, "not_sent");
    size_t i;
    json_t *o;
    if (json_array_size(made) + json_array_size(waiting) == 0)
        fprintf(f, "No referral: no rule asks for one.\n");
    if (json_array_size(made) > 0)
        fprintf(f, "Referrals:\n");
    json_array_foreach(made, i, o)
    {
        who(f, o);
        fprintf(f, ": %s", member(o, "state"));
        if (json_is_string(json_object_get(o, "sent")))
            fprintf(f, " %s", member(o, "sent"));
        fprintf(f, ", due %s; %s\n", member(o, "due"), member(o, "why"));
    }
    if (json_array_size(waiting) > 0)
        fprintf(f, "Waiting for consent (ask the person; nothing leaves without it):\n");
    json_array_foreach(waiting, i, o)
    {
        who(f, o);
        fprintf(f, ": due %s once given; %s\n", member(o, "due"), member(o, "why"));
    }
    if (json_array_size(not_sent) > 0)
        fprintf(f, "Not sent:\n");
    json_array_foreach(not_sent, i, o)
    {
        who(f, o);
        if (json_is_string(json_object_get(o, "state")))
            fprintf(f, ": %s", member(o, "state"));
        fprintf(f, ": %s\n", member(o, "why"));
    }
}

/* ----------------------------------------------------------------- diff --- */

static void referral_line(FILE *f, char sign, const struct routing_referral *r)
{
    if (f != NULL)
        fprintf(f, "%c %s (%s): rule '%s', %s, %s, due %dh\n", sign, r->destination,
                routing_kind_name(r->kind), r->rule, routing_basis_name(r->basis),
                routing_state_name(r->state), r->due_hours);
}

/* Appends "what a -> b" to buf when they differ; returns 1 when they do. */
static int changed(char *buf, size_t len, const char *what, const char *a, const char *b)
{
    size_t off = strlen(buf);
    if (strcmp(a, b) == 0)
        return 0;
    if (off < len)
        snprintf(buf + off, len - off, "%s%s %s -> %s", off ? "; " : "", what, a, b);
    return 1;
}

static int has_instruction(const struct routing_decision *d, const char *text)
{
    for (size_t i = 0; i < d->n_instructions; i++)
        if (strcmp(d->instructions[i], text) == 0)
            return 1;
    return 0;
}

/* One line per instruction only a (before) or only b (after) has; their number. */
static int instructions_diff(const struct routing_decision *a, const struct routing_decision *b,
                             FILE *f)
{
    int n = 0;
    for (size_t i = 0; i < a->n_instructions; i++)
        if (!has_instruction(b, a->instructions[i])) {
            if (f != NULL)
                fprintf(f, "- instruction: %s\n", a->instructions[i]);
            n++;
        }
    for (size_t i = 0; i < b->n_instructions; i++)
        if (!has_instruction(a, b->instructions[i])) {
            if (f != NULL)
                fprintf(f, "+ instruction: %s\n", b->instructions[i]);
            n++;
        }
    return n;
}

int routing_decision_diff(const struct routing_decision *a, const struct routing_decision *b,
                          FILE *f)
{
    int n = 0;
    for (size_t i = 0; i < a->n_referrals; i++) {
        if (find(b, a->referrals[i].destination) == NULL) {
            referral_line(f, '-', &a->referrals[i]);
            n++;
        }
    }
    for (size_t i = 0; i < b->n_referrals; i++) {
        const struct routing_referral *y = &b->referrals[i];
        const struct routing_referral *x = find(a, y->destination);
        char line[1500] = "", s1[400], s2[400];
        int diff = 0;
        if (x == NULL) {
            referral_line(f, '+', y);
            n++;
            continue;
        }
        diff |= changed(line, sizeof(line), "rule", x->rule, y->rule);
        diff |= changed(line, sizeof(line), "basis", routing_basis_name(x->basis),
                        routing_basis_name(y->basis));
        diff |= changed(line, sizeof(line), "urgency", routing_urgency_name(x->urgency),
                        routing_urgency_name(y->urgency));
        snprintf(s1, sizeof(s1), "%dh", x->due_hours);
        snprintf(s2, sizeof(s2), "%dh", y->due_hours);
        diff |= changed(line, sizeof(line), "due", s1, s2);
        diff |= changed(line, sizeof(line), "state", routing_state_name(x->state),
                        routing_state_name(y->state));
        fields_text(x->fields, s1, sizeof(s1));
        fields_text(y->fields, s2, sizeof(s2));
        diff |= changed(line, sizeof(line), "fields", s1, s2);
        snprintf(s1, sizeof(s1), "%lld", (long long)x->consent_id);
        snprintf(s2, sizeof(s2), "%lld", (long long)y->consent_id);
        diff |= changed(line, sizeof(line), "consent", s1, s2);
        if (diff) {
            if (f != NULL)
                fprintf(f, "~ %s: %s\n", y->destination, line);
            n++;
        }
    }
    return n + instructions_diff(a, b, f);
}
