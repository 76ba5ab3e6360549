/*
 * routing.c: the routing decision: every rule in priority order over one
 * case's input, the referrals it makes and why each destination pointed at
 * was or was not used.
 *
 * Pure computation over borrowed inputs: never does I/O and never sends. It
 * must never let a referral out without consent or a recorded legal basis,
 * never to an unsafe channel, and never twice to one destination; and no
 * rule, an emergency included, may ever end the decision before a duty the
 * law imposes is recorded.
 */
#include "routing/routing.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- facts --- */

static struct rule_value v_bool(int b)
{
    return (struct rule_value){.type = RULE_BOOL, .u.b = b != 0};
}

static struct rule_value v_num(double n)
{
    return (struct rule_value){.type = RULE_NUM, .u.n = n};
}

/* A string fact; "" is unknown. */
static struct rule_value v_str(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return (struct rule_value){.type = RULE_NULL};
    return (struct rule_value){.type = RULE_STR, .u.s = s};
}

static int has_string(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

static struct rule_value call_value(const struct facts_call *call, const struct routing_input *in)
{
    switch (call->fn) {
    case ROUTING__FN_INDICATOR:
        if (!in->screening.present)
            return (struct rule_value){.type = RULE_NULL};
        return v_bool(has_string(in->indicators, in->n_indicators, call->arg));
    case ROUTING__FN_DOMAIN_SCORE:
        if (!in->screening.present || call->target < 0 || call->target >= INSTRUMENT_DOMAIN__COUNT)
            return (struct rule_value){.type = RULE_NULL};
        return v_num(in->domain_score[call->target]);
    case ROUTING__FN_CONSENT:
        for (size_t i = 0; i < in->n_consents; i++)
            if (in->consents[i].active && strcmp(in->consents[i].purpose, call->arg) == 0)
                return v_bool(1);
        return v_bool(0);
    default:
        return v_bool(has_string(in->safe_contact.safe_channels, in->safe_contact.n_safe_channels,
                                 call->arg));
    }
}

void routing_input_case_facts(const struct routing_input *in, struct rule_value *facts)
{
    routing_input_age_facts(in, facts);
    facts[FACTS_MISSING] = v_bool(in->missing);
    facts[FACTS_AGENCY_KIND] = v_str(in->agency_kind);
    facts[FACTS_GENDER] = v_str(in->gender);
    facts[FACTS_STATE] = v_str(in->state);
    facts[FACTS_COUNTY] = v_str(in->county);
    facts[FACTS_RUNAWAY_RETURN] = v_bool(in->runaway_return);
    facts[FACTS_RUNAWAY_EPISODES] = v_num(in->runaway_episodes);
    facts[FACTS_CW_HISTORY] = v_bool(in->cw_history);
    facts[FACTS_JJ_HISTORY] = v_bool(in->jj_history);
    facts[FACTS_RECRUITMENT_FLAG] = v_bool(in->recruitment);
    facts[FACTS_CONTROL_FLAG] = v_bool(in->control);
    facts[FACTS_FOREIGN_NATIONAL] = v_bool(in->foreign_national);
    facts[FACTS_IMMINENT_DANGER] = v_bool(in->imminent_danger);
}

/* Fills facts[0 .. slot count of cfg's resolver - 1]; strings are borrowed from in. */
static void fill_facts(const struct routing_config *cfg, const struct routing_input *in,
                       struct rule_value *facts)
{
    size_t n = facts_resolver_slot_count(&cfg->resolver);
    facts_clear(facts, n);
    routing_input_case_facts(in, facts);
    /* With the evidence classes of the screening's own instrument version. */
    routing_input_screening_facts(in, cfg->instruments, facts);
    /* Child welfare up to 21 or 24 adds services, never a mandatory police report. */
    int cw_age = routing_child_welfare_age(cfg, in->state);
    facts[FACTS_CHILD_WELFARE_AGE] = v_num(cw_age);
    facts[FACTS_UNDER_CHILD_WELFARE_AGE] =
        v_bool(!routing_input_minor(in) && in->age >= 0 && in->age < cw_age);
    for (size_t slot = FACTS__COUNT; slot < n; slot++)
        facts[slot] = call_value(facts_resolver_call(&cfg->resolver, slot), in);
}

/* ------------------------------------------------------------- building --- */

/* printf into a new string; NULL without memory. */
static char *format(const char *fmt, ...) CFGREAD_PRINTF(1, 2);
static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Records a destination not used; takes ownership of reason. 0 or -1. */
static int add_unused(struct routing_decision *d, const struct routing_destination *dest,
                      enum routing_kind kind, const struct routing_rule *rule, char *reason)
{
    struct routing_unused *grown = realloc(d->unused, (d->n_unused + 1) * sizeof(*grown));
    if (grown == NULL || reason == NULL) {
        if (grown != NULL)
            d->unused = grown;
        free(reason);
        return -1;
    }
    d->unused = grown;
    struct routing_unused *u = &grown[d->n_unused++];
    *u = (struct routing_unused){.kind = kind, .reason = reason};
    u->rule = strdup(rule->name);
    u->destination = dest != NULL ? strdup(dest->id) : NULL;
    return u->rule == NULL || (dest != NULL && u->destination == NULL) ? -1 : 0;
}

/* "CA, NV" or "CA (Alameda, Marin)" or "every state" into buf. */
static const char *served(const struct routing_destination *dest, char *buf, size_t len)
{
    const struct routing_jurisdiction *j = &dest->jurisdiction;
    size_t off = 0;
    buf[0] = '\0';
    if (j->any)
        return "every state";
    for (size_t i = 0; i < j->n_states && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", j->states[i]);
    for (size_t i = 0; i < j->n_counties && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : " (counties ",
                                j->counties[i]);
    if (j->n_counties > 0 && off < len)
        snprintf(buf + off, len - off, ")");
    return buf;
}

static char *where(const struct routing_input *in, char *buf, size_t len)
{
    if (in->state[0] == '\0')
        snprintf(buf, len, "the case's state is unknown");
    else if (in->county[0] != '\0')
        snprintf(buf, len, "case is in %s, county %s", in->state, in->county);
    else
        snprintf(buf, len, "case is in %s", in->state);
    return buf;
}

static int wrong_jurisdiction(struct routing_decision *d, const struct routing_destination *dest,
                              const struct routing_rule *rule, const struct routing_input *in)
{
    char sv[200], wh[200];
    return add_unused(d, dest, dest->kind, rule,
                      format("wrong jurisdiction: serves %s, %s", served(dest, sv, sizeof(sv)),
                             where(in, wh, sizeof(wh))));
}

/*
 * Why the person cannot be contacted safely, or NULL when they can. A phone
 * the trafficker controls is no safe channel, whatever was recorded for it.
 * Static text.
 */
static const char *unsafe_reason(const struct routing_input *in)
{
    size_t safe = 0;
    if (in->safe_contact.do_not_contact)
        return "unsafe channel: the person must not be contacted (do not contact)";
    for (size_t i = 0; i < in->safe_contact.n_safe_channels; i++) {
        const char *ch = in->safe_contact.safe_channels[i];
        if (!(in->safe_contact.trafficker_controls_phone &&
              (strcmp(ch, "phone") == 0 || strcmp(ch, "sms") == 0)))
            safe++;
    }
    if (in->safe_contact.trafficker_controls_phone && safe == 0)
        return "unsafe channel: the trafficker controls the phone and no other safe channel is "
               "recorded";
    return NULL;
}

/* 1 when consent c names dest by id or by "kind:<kind>"; *how gets the recipient. */
static int covers(const struct routing_consent *c, const struct routing_destination *dest,
                  const char **how)
{
    const char *kind = routing_kind_name(dest->kind);
    for (size_t i = 0; i < c->n_recipients; i++) {
        const char *r = c->recipients[i];
        if (strcmp(r, dest->id) == 0 || (strncmp(r, "kind:", 5) == 0 && strcmp(r + 5, kind) == 0)) {
            *how = r;
            return 1;
        }
    }
    return 0;
}

/*
 * Sets the consent-basis referral's state: queued with the first active
 * covering consent, else pending_consent, saying why (including consents that
 * would cover it but are not active, since that is what a caseworker asks).
 */
static char *consent_state(const struct routing_input *in, const struct routing_destination *dest,
                           const struct routing_rule *rule, struct routing_referral *ref)
{
    const struct routing_consent *inactive = NULL;
    const char *how = NULL;
    for (size_t i = 0; i < in->n_consents; i++) {
        const struct routing_consent *c = &in->consents[i];
        if (rule->purpose != NULL && strcmp(c->purpose, rule->purpose) != 0)
            continue;
        if (!covers(c, dest, &how))
            continue;
        if (!c->active) {
            inactive = inactive != NULL ? inactive : c;
            continue;
        }
        ref->state = ROUTING_STATE_QUEUED;
        ref->consent_id = c->id;
        return format("consent %lld covers '%s'", (long long)c->id, how);
    }
    ref->state = ROUTING_STATE_PENDING_CONSENT;
    ref->consent_id = 0;
    char purpose[100] = "";
    if (rule->purpose != NULL)
        snprintf(purpose, sizeof(purpose), " for purpose '%s'", rule->purpose);
    if (inactive != NULL)
        return format("no consent for %s: consent %lld covers it%s but is not active "
                      "(expired or revoked); pending consent",
                      routing_kind_name(dest->kind), (long long)inactive->id, purpose);
    return format("no consent for %s: no active consent%s names '%s' or 'kind:%s'; pending "
                  "consent",
                  routing_kind_name(dest->kind), purpose, dest->id, routing_kind_name(dest->kind));
}

static int find_referral(const struct routing_decision *d, const char *id)
{
    for (size_t i = 0; i < d->n_referrals; i++)
        if (strcmp(d->referrals[i].destination, id) == 0)
            return (int)i;
    return -1;
}

/* One destination a matching rule reaches (jurisdiction already checked). 0 or -1. */
static int consider(struct routing_decision *d, const struct routing_destination *dest,
                    const struct routing_rule *rule, const struct routing_input *in)
{
    int prev = find_referral(d, dest->id);
    if (prev >= 0)
        return add_unused(d, dest, dest->kind, rule,
                          format("already referred by rule '%s'", d->referrals[prev].rule));
    const char *unsafe = dest->contacts_person ? unsafe_reason(in) : NULL;
    if (unsafe != NULL)
        return add_unused(d, dest, dest->kind, rule, strdup(unsafe));

    struct routing_referral *grown = realloc(d->referrals, (d->n_referrals + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    d->referrals = grown;
    struct routing_referral *ref = &grown[d->n_referrals++];
    *ref = (struct routing_referral){
        .kind = dest->kind,
        .basis = rule->basis,
        .urgency = rule->urgency,
        .due_hours = rule->due_hours,
        .due_from = rule->due_from,
        .ack_sla_hours = dest->ack_sla_hours,
        .fields = dest->fields,
        .state = ROUTING_STATE_QUEUED,
    };
    ref->destination = strdup(dest->id);
    ref->rule = strdup(rule->name);
    switch (rule->basis) {
    case ROUTING_BASIS_CONSENT:
        ref->reason = consent_state(in, dest, rule, ref);
        break;
    case ROUTING_BASIS_MANDATORY_REPORT:
        ref->reason = strdup("mandatory report: queued whatever the consent");
        break;
    default:
        ref->reason = strdup("imminent danger: queued at once whatever the consent");
        break;
    }
    return ref->destination && ref->rule && ref->reason ? 0 : -1;
}

/* Every destination a matching rule points at. 0 or -1. */
static int apply_rule(struct routing_decision *d, const struct routing_config *cfg,
                      const struct routing_rule *rule, const struct routing_input *in)
{
    for (size_t t = 0; t < rule->n_refer; t++) {
        const struct routing_target *target = &rule->refer[t];
        int used = 0, rc = 0;
        if (target->destination >= 0) {
            const struct routing_destination *dest = &cfg->destinations[target->destination];
            rc = routing_destination_serves(dest, in->state, in->county)
                     ? consider(d, dest, rule, in)
                     : wrong_jurisdiction(d, dest, rule, in);
            if (rc != 0)
                return -1;
            continue;
        }
        for (size_t i = 0; i < cfg->n_destinations && rc == 0; i++) {
            const struct routing_destination *dest = &cfg->destinations[i];
            if (dest->kind != target->kind)
                continue;
            if (routing_destination_serves(dest, in->state, in->county)) {
                used++;
                rc = consider(d, dest, rule, in);
            } else {
                rc = wrong_jurisdiction(d, dest, rule, in);
            }
        }
        if (rc == 0 && used == 0) {
            char wh[200];
            rc = add_unused(d, NULL, target->kind, rule,
                            format("no destination of kind %s serves the case (%s)",
                                   routing_kind_name(target->kind), where(in, wh, sizeof(wh))));
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Adds rule's instruction to d unless the same text is there already. 0 or -1. */
static int add_instruction(struct routing_decision *d, const struct routing_rule *rule)
{
    char **grown;
    if (rule->instruction == NULL ||
        has_string(d->instructions, d->n_instructions, rule->instruction))
        return 0;
    grown = realloc(d->instructions, (d->n_instructions + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    d->instructions = grown;
    if ((grown[d->n_instructions] = strdup(rule->instruction)) == NULL)
        return -1;
    d->n_instructions++;
    return 0;
}

/*
 * A stop ends the optional offers only. A rule on a legal basis is a duty
 * (a mandatory report) or an emergency: skipping it because an earlier rule
 * stopped would leave a duty unrecorded, which is exactly what an emergency
 * must never do (it is the first step, the reports still follow).
 */
static int stops_before(const struct routing_rule *rule, int stopped)
{
    return stopped && rule->basis == ROUTING_BASIS_CONSENT;
}

int routing_decide(const struct routing_config *cfg, const struct routing_input *in,
                   struct routing_decision *out)
{
    int rc = -1, stopped = 0;
    size_t max_nodes = 1, cap_text = 256;
    struct rule_value *facts = NULL, *trace = NULL;
    char *text = NULL;

    routing_decision_init(out);
    out->case_id = in->case_id;
    memcpy(out->config_hash, cfg->hash, sizeof(out->config_hash));
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (rule_node_count(cfg->rules[i].when) > max_nodes)
            max_nodes = rule_node_count(cfg->rules[i].when);
    facts = malloc(facts_resolver_slot_count(&cfg->resolver) * sizeof(*facts));
    trace = malloc(max_nodes * sizeof(*trace));
    text = malloc(cap_text);
    out->rules = calloc(cfg->n_rules ? cfg->n_rules : 1, sizeof(*out->rules));
    if (facts == NULL || trace == NULL || text == NULL || out->rules == NULL)
        goto out;
    fill_facts(cfg, in, facts);
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct routing_rule *rule = &cfg->rules[i];
        struct routing_rule_result *rr = &out->rules[i];
        out->n_rules = i + 1;
        rr->priority = rule->priority;
        if ((rr->name = strdup(rule->name)) == NULL ||
            (rule->note != NULL && (rr->note = strdup(rule->note)) == NULL))
            goto out;
        if (stops_before(rule, stopped)) {
            if ((rr->trace = strdup("")) == NULL)
                goto out;
            continue;
        }
        rr->evaluated = 1;
        rr->matched = rule_eval(rule->when, facts, trace);
        size_t need = rule_explain(rule->when, trace, text, cap_text) + 1;
        if (need > cap_text) {
            char *bigger = realloc(text, need);
            if (bigger == NULL)
                goto out;
            text = bigger;
            cap_text = need;
            rule_explain(rule->when, trace, text, cap_text);
        }
        if ((rr->trace = strdup(text)) == NULL)
            goto out;
        if (rr->matched && (add_instruction(out, rule) != 0 || apply_rule(out, cfg, rule, in) != 0))
            goto out;
        if (rr->matched && rule->stop)
            stopped = rr->stopped = 1;
    }
    rc = 0;
out:
    free(facts);
    free(trace);
    free(text);
    return rc;
}
