/*
 * scoring.c: walks one screening's answers through an instrument's skip logic
 * and scoring rule (the rules are in scoring.h), and computes age facts.
 *
 * Must never read declined, unknown or not_asked as no, and never keep
 * scoring past a disclosure. No I/O.
 */
#include "screening/scoring.h"

#include "screening/evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const answer_names[ANSWER__COUNT] = {
    [ANSWER_NOT_ASKED] = "not_asked", [ANSWER_YES] = "yes",           [ANSWER_NO] = "no",
    [ANSWER_UNKNOWN] = "unknown",     [ANSWER_DECLINED] = "declined", [ANSWER_VALUE] = "value",
};

static const char *const result_names[] = {"negative", "possible", "positive", "incomplete"};
static const char *const band_names[] = {"no_concern", "possible_concern", "clear_concern",
                                         "incomplete"};

const char *answer_kind_name(enum answer_kind k)
{
    return (int)k >= 0 && k < ANSWER__COUNT ? answer_names[k] : NULL;
}

int answer_kind_lookup(const char *name)
{
    for (int i = 0; i < ANSWER__COUNT; i++)
        if (strcmp(answer_names[i], name) == 0)
            return i;
    return -1;
}

const char *scoring_result_name(enum scoring_result r)
{
    return (int)r >= 0 && r <= SCORING_INCOMPLETE ? result_names[r] : NULL;
}

const char *scoring_band(const struct instrument *inst, const struct scoring_outcome *o)
{
    if (inst->method == INSTRUMENT_WEIGHTED)
        return band_names[o->result];
    return result_names[o->result];
}

/* Does the answer fit the item's kind? Writes why not into err. */
static int answer_fits(const struct instrument_item *it, const struct answer *a, char *err,
                       size_t errlen)
{
    if ((int)a->kind < 0 || a->kind >= ANSWER__COUNT) {
        snprintf(err, errlen, "item '%s': answer kind %d is not valid", it->id, (int)a->kind);
        return 0;
    }
    int value = a->kind == ANSWER_VALUE;
    int yes_no = a->kind == ANSWER_YES || a->kind == ANSWER_NO;
    if (it->kind == INSTRUMENT_KIND_YES_NO ? value : yes_no) {
        snprintf(err, errlen, "item '%s': answer '%s' does not fit a %s item", it->id,
                 answer_names[a->kind], instrument_kind_name(it->kind));
        return 0;
    }
    if (value && it->kind == INSTRUMENT_KIND_CHOICE &&
        (a->value < 0 || (size_t)a->value >= it->n_choices)) {
        snprintf(err, errlen, "item '%s': choice %lld is out of range (0 to %zu)", it->id, a->value,
                 it->n_choices - 1);
        return 0;
    }
    if (value && it->kind == INSTRUMENT_KIND_COUNT && a->value < 0) {
        snprintf(err, errlen, "item '%s': count %lld is negative", it->id, a->value);
        return 0;
    }
    return 1;
}

int scoring_is_concern(const struct instrument_item *it, const struct answer *a)
{
    switch (it->kind) {
    case INSTRUMENT_KIND_YES_NO:
        return a->kind == ANSWER_YES;
    case INSTRUMENT_KIND_CHOICE:
        return a->kind == ANSWER_VALUE && it->concern[a->value];
    case INSTRUMENT_KIND_COUNT:
        return a->kind == ANSWER_VALUE && a->value >= it->concern_at;
    }
    return 0;
}

static int is_answered(const struct answer *a)
{
    return a->kind == ANSWER_YES || a->kind == ANSWER_NO || a->kind == ANSWER_VALUE;
}

/* Unknown or declined: asked, and not a no, so the concern stays possible. */
static int is_open(const struct answer *a)
{
    return a->kind == ANSWER_UNKNOWN || a->kind == ANSWER_DECLINED;
}

/*
 * Fills the dynamic slots for deciding whether item `upto` is shown. show_if
 * may only name earlier items (checked at load), and eff holds their
 * effective answers; domain scores so far are in o.
 */
static void fill_calls(const struct instrument *inst, const struct answer *eff,
                       const struct scoring_outcome *o, struct rule_value *facts, size_t n_slots)
{
    for (size_t s = FACTS__COUNT; s < n_slots; s++) {
        const struct facts_call *c = facts_resolver_call(&inst->resolver, s);
        switch (c->fn) {
        case INSTRUMENT_FN_INDICATOR:
            facts[s].type = RULE_BOOL;
            facts[s].u.b = scoring_is_concern(&inst->items[c->target], &eff[c->target]);
            break;
        case INSTRUMENT_FN_ANSWERED:
            facts[s].type = RULE_BOOL;
            facts[s].u.b = is_answered(&eff[c->target]);
            break;
        case INSTRUMENT_FN_DOMAIN_SCORE:
            facts[s].type = RULE_NUM;
            facts[s].u.n = (double)o->domain_score[c->target];
            break;
        default:
            facts[s].type = RULE_NULL;
            facts[s].u.b = 0;
            break;
        }
    }
}

/* Adds the shown item i with effective answer a to the tallies. */
static void tally(const struct instrument *inst, size_t i, const struct answer *a,
                  struct scoring_outcome *o)
{
    const struct instrument_item *it = &inst->items[i];
    o->shown++;
    o->counts[a->kind]++;
    if (is_answered(a))
        o->answered++;
    if (a->kind == ANSWER_NOT_ASKED && o->next < 0)
        o->next = (int)i;
    if (is_open(a)) {
        o->reachable += it->weight;
        if (it->key)
            o->key_open = 1;
    }
    if (!scoring_is_concern(it, a))
        return;
    o->score += it->weight;
    o->reachable += it->weight;
    o->domain_score[it->domain] += it->weight;
    o->domain_concerns[it->domain]++;
    evidence_add_item(&o->evidence, it);
    if (it->key && o->key_item < 0)
        o->key_item = (int)i;
    if (it->disclosure) {
        o->stopped = 1;
        o->stop_item = (int)i;
    }
}

static enum scoring_result decide(const struct instrument *inst, const struct scoring_outcome *o)
{
    long long positive_at = inst->method == INSTRUMENT_WEIGHTED ? inst->clear_at : inst->at_least;
    long long possible_at =
        inst->method == INSTRUMENT_WEIGHTED ? inst->possible_at : inst->at_least;
    enum scoring_result r = SCORING_NEGATIVE;
    if (o->key_item >= 0 || o->stopped || o->score >= positive_at)
        return SCORING_POSITIVE;
    if (o->score >= possible_at || o->reachable >= possible_at || o->key_open)
        r = SCORING_POSSIBLE;
    int need = inst->min_answered < o->shown ? inst->min_answered : o->shown;
    if (o->answered < need)
        r = SCORING_INCOMPLETE;
    return r;
}

int scoring_run(const struct instrument *inst, const struct answer *answers,
                const struct rule_value *case_facts, struct scoring_outcome *out,
                unsigned char *shown, char *err, size_t errlen)
{
    int rc = -1;
    size_t n_slots = instrument_slot_count(inst);
    struct rule_value *facts = calloc(n_slots, sizeof(*facts));
    struct answer *eff = calloc(inst->n_items ? inst->n_items : 1, sizeof(*eff));

    memset(out, 0, sizeof(*out));
    out->stop_item = out->key_item = out->next = -1;
    evidence_init(&out->evidence);
    if (facts == NULL || eff == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (case_facts != NULL)
        memcpy(facts, case_facts, FACTS__COUNT * sizeof(*facts));
    for (size_t i = 0; i < inst->n_items; i++) {
        const struct instrument_item *it = &inst->items[i];
        int visible = 0;
        if (out->stopped) {
            out->after_stop++;
        } else if (it->show_if != NULL) {
            fill_calls(inst, eff, out, facts, n_slots);
            visible = rule_eval(it->show_if, facts, NULL);
            out->skipped += !visible;
        } else {
            visible = 1;
        }
        if (shown != NULL)
            shown[i] = (unsigned char)visible;
        if (!visible)
            continue; /* eff[i] stays not_asked */
        if (!answer_fits(it, &answers[i], err, errlen))
            goto out;
        eff[i] = answers[i];
        tally(inst, i, &eff[i], out);
    }
    if (out->stopped)
        out->next = -1;
    evidence_finish(&out->evidence);
    out->result = decide(inst, out);
    rc = 0;
out:
    free(facts);
    free(eff);
    return rc;
}

void scoring_fill_facts(const struct instrument *inst, const struct scoring_outcome *o,
                        struct rule_value *facts)
{
    facts[FACTS_BAND] = (struct rule_value){.type = RULE_STR, .u.s = scoring_band(inst, o)};
    facts[FACTS_RESULT] =
        (struct rule_value){.type = RULE_STR, .u.s = scoring_result_name(o->result)};
    facts[FACTS_SCORE] = (struct rule_value){.type = RULE_NUM, .u.n = (double)o->score};
    facts[FACTS_DISCLOSURE] = (struct rule_value){.type = RULE_BOOL, .u.b = o->stopped};
    facts_evidence_fill(&o->evidence, facts);
}

struct date {
    int y, m, d;
};

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Strict "YYYY-MM-DD" with a real calendar day. */
static int parse_date(const char *s, struct date *out)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int i = 0; i < 10; i++) {
        int dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : !(s[i] >= '0' && s[i] <= '9'))
            return -1;
    }
    if (s[10] != '\0')
        return -1;
    out->y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    out->m = (s[5] - '0') * 10 + (s[6] - '0');
    out->d = (s[8] - '0') * 10 + (s[9] - '0');
    if (out->y < 1 || out->m < 1 || out->m > 12 || out->d < 1)
        return -1;
    int max = days[out->m - 1] + (out->m == 2 && leap(out->y));
    return out->d <= max ? 0 : -1;
}

int scoring_age(const char *dob, int estimated_age, const char *on, struct scoring_age *out,
                char *err, size_t errlen)
{
    struct date at, born;
    memset(out, 0, sizeof(*out));
    out->age = -1;
    if (on == NULL || parse_date(on, &at) != 0) {
        snprintf(err, errlen, "date '%s' is not a valid YYYY-MM-DD date", on ? on : "(none)");
        return -1;
    }
    if (dob != NULL) {
        if (parse_date(dob, &born) != 0) {
            snprintf(err, errlen, "date of birth '%s' is not a valid YYYY-MM-DD date", dob);
            return -1;
        }
        int age = at.y - born.y;
        if (at.m < born.m || (at.m == born.m && at.d < born.d))
            age--;
        if (age < 0) {
            snprintf(err, errlen, "date of birth %s is after %s", dob, on);
            return -1;
        }
        if (age > 130) {
            snprintf(err, errlen, "date of birth %s gives an age of %d", dob, age);
            return -1;
        }
        out->known = 1;
        out->age = age;
    } else if (estimated_age >= 0) {
        if (estimated_age > 130) {
            snprintf(err, errlen, "estimated age %d is out of range (0 to 130)", estimated_age);
            return -1;
        }
        out->estimated = 1;
        out->age = estimated_age;
    } else if (estimated_age != -1) {
        snprintf(err, errlen, "estimated age %d is out of range (0 to 130)", estimated_age);
        return -1;
    }
    *out = scoring_age_of(out->age, out->known, out->estimated);
    return 0;
}

struct scoring_age scoring_age_of(int age, int known, int estimated)
{
    return scoring_age_range(age, age, known, estimated, 0);
}

struct scoring_age scoring_age_range(int low, int high, int known, int estimated, int disputed)
{
    struct scoring_age a = {.known = known != 0,
                            .estimated = estimated != 0,
                            .age = low,
                            .age_high = high < low ? low : high,
                            .disputed = disputed != 0};
    if (low < 0) {
        a.age = a.age_high = -1;
        a.minor = a.possibly_minor = 1;
        a.pathway = "minor_unknown_age";
    } else if (a.age_high < 18) {
        a.minor = 1;
        a.pathway = "minor";
    } else if (low < 18 || a.disputed) {
        a.minor = a.possibly_minor = 1;
        a.pathway = "possibly_minor";
    } else {
        a.pathway = "adult";
    }
    return a;
}

void scoring_age_fill(const struct scoring_age *a, struct rule_value *facts)
{
    facts[FACTS_MINOR] = (struct rule_value){.type = RULE_BOOL, .u.b = a->minor};
    if (a->age >= 0)
        facts[FACTS_AGE] = (struct rule_value){.type = RULE_NUM, .u.n = a->age};
    else
        facts[FACTS_AGE] = (struct rule_value){.type = RULE_NULL};
    facts[FACTS_AGE_KNOWN] = (struct rule_value){.type = RULE_BOOL, .u.b = a->known};
    facts[FACTS_AGE_ESTIMATED] = (struct rule_value){.type = RULE_BOOL, .u.b = a->estimated};
    facts[FACTS_PATHWAY] = (struct rule_value){.type = RULE_STR, .u.s = a->pathway};
    facts[FACTS_POSSIBLY_MINOR] = (struct rule_value){.type = RULE_BOOL, .u.b = a->possibly_minor};
    if (a->age_high >= 0)
        facts[FACTS_AGE_HIGH] = (struct rule_value){.type = RULE_NUM, .u.n = a->age_high};
    else
        facts[FACTS_AGE_HIGH] = (struct rule_value){.type = RULE_NULL};
    facts[FACTS_AGE_DISPUTED] = (struct rule_value){.type = RULE_BOOL, .u.b = a->disputed};
}

int scoring_population_fits(const struct instrument *inst, const struct scoring_age *a)
{
    if (a->age < 0)
        return 1;
    return a->age >= inst->min_age && a->age <= inst->max_age;
}
