/*
 * facts.c: the fixed fact table and the resolver that gives rule calls slots.
 *
 * Names only: computing a fact's value from a case belongs to whoever fills the
 * vector. Must never do I/O and never accept a name it cannot type.
 */
#include "rules/facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct facts_def facts_table[FACTS__COUNT] = {
    [FACTS_MINOR] = {"minor", RULE_BOOL, FACTS_GROUP_CASE,
                     "the minor pathway: under 18 (by date of birth or a whole estimate range), "
                     "or possibly_minor"},
    [FACTS_AGE] = {"age", RULE_NUM, FACTS_GROUP_CASE, "age in whole years; null if unknown"},
    [FACTS_AGE_KNOWN] = {"age_known", RULE_BOOL, FACTS_GROUP_CASE,
                         "age comes from a date of birth"},
    [FACTS_AGE_ESTIMATED] = {"age_estimated", RULE_BOOL, FACTS_GROUP_CASE,
                             "age comes from an estimate"},
    [FACTS_PATHWAY] = {"pathway", RULE_STR, FACTS_GROUP_CASE,
                       "\"minor\", \"adult\", \"minor_unknown_age\" or \"possibly_minor\""},
    [FACTS_GENDER] = {"gender", RULE_STR, FACTS_GROUP_CASE, "gender identity as recorded"},
    [FACTS_STATE] = {"state", RULE_STR, FACTS_GROUP_CASE, "state of the case (two letters)"},
    [FACTS_COUNTY] = {"county", RULE_STR, FACTS_GROUP_CASE, "county of the case"},
    [FACTS_RUNAWAY_RETURN] = {"runaway_return", RULE_BOOL, FACTS_GROUP_CASE,
                              "the case has a runaway episode with a return time"},
    [FACTS_RUNAWAY_EPISODES] = {"runaway_episodes", RULE_NUM, FACTS_GROUP_CASE,
                                "number of runaway or missing episodes"},
    [FACTS_CW_HISTORY] = {"cw_history", RULE_BOOL, FACTS_GROUP_CASE, "child-welfare history"},
    [FACTS_JJ_HISTORY] = {"jj_history", RULE_BOOL, FACTS_GROUP_CASE, "juvenile-justice history"},
    [FACTS_RECRUITMENT_FLAG] = {"recruitment_flag", RULE_BOOL, FACTS_GROUP_CASE,
                                "a caseworker flagged recruitment or fraud indicators"},
    [FACTS_CONTROL_FLAG] = {"control_flag", RULE_BOOL, FACTS_GROUP_CASE,
                            "a caseworker flagged control or coercion indicators"},
    [FACTS_FOREIGN_NATIONAL] = {"foreign_national", RULE_BOOL, FACTS_GROUP_CASE,
                                "the person is a foreign national"},
    [FACTS_IMMINENT_DANGER] = {"imminent_danger", RULE_BOOL, FACTS_GROUP_CASE,
                               "someone is in danger now"},
    [FACTS_POSSIBLY_MINOR] = {"possibly_minor", RULE_BOOL, FACTS_GROUP_CASE,
                              "possibly under 18: age unknown, disputed, or an estimate whose "
                              "low end is under 18 (DOMAIN rule 1)"},
    [FACTS_AGE_HIGH] = {"age_high", RULE_NUM, FACTS_GROUP_CASE,
                        "high end of the age range (the age itself with a date of birth); null "
                        "if unknown"},
    [FACTS_AGE_DISPUTED] = {"age_disputed", RULE_BOOL, FACTS_GROUP_CASE,
                            "someone disputes the recorded age"},
    [FACTS_EXPLOITATION_AGE] = {"exploitation_age", RULE_NUM, FACTS_GROUP_CASE,
                                "age (low end) when the earliest recorded exploitation episode "
                                "began; null without one or when the age is unknown"},
    [FACTS_EXPLOITED_AS_MINOR] = {"exploited_as_minor", RULE_BOOL, FACTS_GROUP_CASE,
                                  "exploitation began (possibly) under 18; without a recorded "
                                  "episode, the person is a minor now"},
    [FACTS_MISSING] = {"missing", RULE_BOOL, FACTS_GROUP_CASE,
                       "a runaway or missing episode started and has no return"},
    [FACTS_AGENCY_KIND] = {"agency_kind", RULE_STR, FACTS_GROUP_CASE,
                           "kind of the case's agency (\"child_welfare\", ...)"},
    [FACTS_CHILD_WELFARE_AGE] = {"child_welfare_age", RULE_NUM, FACTS_GROUP_POLICY,
                                 "age up to which child welfare serves young people in the "
                                 "case's state (routing.cfg child_welfare_age; 18 by default)"},
    [FACTS_UNDER_CHILD_WELFARE_AGE] = {"under_child_welfare_age", RULE_BOOL, FACTS_GROUP_POLICY,
                                       "18 or over and under child_welfare_age: child-welfare "
                                       "services, never a mandatory police report"},
    [FACTS_EVENT] = {"event", RULE_STR, FACTS_GROUP_CASE,
                     "\"created\", \"updated\", \"note_added\", \"closed\" or \"tick\""},
    [FACTS_BAND] = {"band", RULE_STR, FACTS_GROUP_SCREENING, "band of the latest screening"},
    [FACTS_RESULT] = {"result", RULE_STR, FACTS_GROUP_SCREENING,
                      "\"negative\", \"possible\", \"positive\" or \"incomplete\""},
    [FACTS_SCORE] = {"score", RULE_NUM, FACTS_GROUP_SCREENING, "score of the latest screening"},
    [FACTS_DISCLOSURE] = {"disclosure", RULE_BOOL, FACTS_GROUP_SCREENING,
                          "the person disclosed exploitation during the screening"},
    /* Named as a rule writes them: evidence("x") is a fixed slot, not a call. */
    [FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_COMMERCIAL_SEX] =
        {"evidence(\"commercial_sex\")", RULE_BOOL, FACTS_GROUP_SCREENING,
         "a concern answer says something of value was given or received for a sex act"},
    [FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_FORCE] = {"evidence(\"force\")", RULE_BOOL,
                                                     FACTS_GROUP_SCREENING,
                                                     "a concern answer says physical force or "
                                                     "restraint was used"},
    [FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_FRAUD] = {"evidence(\"fraud\")", RULE_BOOL,
                                                     FACTS_GROUP_SCREENING,
                                                     "a concern answer says lies about the work, "
                                                     "pay or conditions were used"},
    [FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_COERCION] =
        {"evidence(\"coercion\")", RULE_BOOL, FACTS_GROUP_SCREENING,
         "a concern answer says debt, held documents or earnings, threats, not being free to "
         "leave or isolation"},
    [FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_LABOUR_EXPLOITATION] =
        {"evidence(\"labour_exploitation\")", RULE_BOOL, FACTS_GROUP_SCREENING,
         "a concern answer says the person works under exploitative conditions"},
    [FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_RISK] = {"evidence(\"risk\")", RULE_BOOL,
                                                    FACTS_GROUP_SCREENING,
                                                    "some risk item has a concern answer (a "
                                                    "reason to assess, never a finding)"},
    [FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_DISCLOSURE] = {"evidence(\"disclosure\")", RULE_BOOL,
                                                          FACTS_GROUP_SCREENING,
                                                          "the person said it is happening"},
    [FACTS_FFC] = {"ffc", RULE_BOOL, FACTS_GROUP_SCREENING, "evidence of force, fraud or coercion"},
    [FACTS_RISK_COUNT] = {"risk_count", RULE_NUM, FACTS_GROUP_SCREENING,
                          "number of risk items answered with a concern"},
    [FACTS_DISCLOSURE_KIND] = {"disclosure_kind", RULE_STR, FACTS_GROUP_SCREENING,
                               "\"sex\", \"labour\", \"both\" or \"unclear\"; null without a "
                               "disclosure"},
};

static const char *const evidence_names[FACTS_EVIDENCE__COUNT] = {
    [FACTS_EVIDENCE_COMMERCIAL_SEX] = "commercial_sex",
    [FACTS_EVIDENCE_FORCE] = "force",
    [FACTS_EVIDENCE_FRAUD] = "fraud",
    [FACTS_EVIDENCE_COERCION] = "coercion",
    [FACTS_EVIDENCE_LABOUR_EXPLOITATION] = "labour_exploitation",
    [FACTS_EVIDENCE_RISK] = "risk",
    [FACTS_EVIDENCE_DISCLOSURE] = "disclosure",
};

/* Index 0 (none) has no name: a file never writes it, a fact is null for it. */
static const char *const disclosure_kind_names[FACTS_DISCLOSURE__COUNT] = {
    [FACTS_DISCLOSURE_NONE] = NULL,         [FACTS_DISCLOSURE_SEX] = "sex",
    [FACTS_DISCLOSURE_LABOUR] = "labour",   [FACTS_DISCLOSURE_BOTH] = "both",
    [FACTS_DISCLOSURE_UNCLEAR] = "unclear",
};

static const char *const event_names[FACTS_EV__COUNT] = {
    [FACTS_EV_CREATED] = "created",
    [FACTS_EV_UPDATED] = "updated",
    [FACTS_EV_NOTE_ADDED] = "note_added",
    [FACTS_EV_CLOSED] = "closed",
    [FACTS_EV_TICK] = "tick",
};

int facts_lookup(const char *name, enum rule_type *type)
{
    for (int i = 0; i < FACTS__COUNT; i++) {
        if (strcmp(facts_table[i].name, name) == 0) {
            if (type != NULL)
                *type = facts_table[i].type;
            return i;
        }
    }
    return -1;
}

const char *facts_event_name(enum facts_event ev)
{
    if ((int)ev < 0 || ev >= FACTS_EV__COUNT)
        return NULL;
    return event_names[ev];
}

int facts_event_lookup(const char *name)
{
    for (int i = 0; i < FACTS_EV__COUNT; i++)
        if (strcmp(event_names[i], name) == 0)
            return i;
    return -1;
}

const char *facts_evidence_name(enum facts_evidence c)
{
    return (int)c >= 0 && c < FACTS_EVIDENCE__COUNT ? evidence_names[c] : NULL;
}

const char *facts_disclosure_kind_name(enum facts_disclosure_kind k)
{
    return (int)k >= 0 && k < FACTS_DISCLOSURE__COUNT ? disclosure_kind_names[k] : NULL;
}

int facts_evidence_lookup(const char *name)
{
    for (int i = 0; name != NULL && i < FACTS_EVIDENCE__COUNT; i++)
        if (strcmp(evidence_names[i], name) == 0)
            return i;
    return -1;
}

int facts_disclosure_kind_lookup(const char *name)
{
    for (int i = 1; name != NULL && i < FACTS_DISCLOSURE__COUNT; i++)
        if (strcmp(disclosure_kind_names[i], name) == 0)
            return i;
    return -1;
}

/* "a, b, c" of names[from .. n-1] into buf. */
static const char *join_names(const char *const *names, int from, int n, char *buf, size_t len)
{
    size_t off = 0;
    if (len > 0)
        buf[0] = '\0';
    for (int i = from; i < n && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i > from ? ", " : "", names[i]);
    return buf;
}

const char *facts_evidence_names(char *buf, size_t len)
{
    return join_names(evidence_names, 0, FACTS_EVIDENCE__COUNT, buf, len);
}

const char *facts_disclosure_kind_names(char *buf, size_t len)
{
    return join_names(disclosure_kind_names, 1, FACTS_DISCLOSURE__COUNT, buf, len);
}

enum facts_disclosure_kind facts_disclosure_kind_join(enum facts_disclosure_kind a,
                                                      enum facts_disclosure_kind b)
{
    if (a == FACTS_DISCLOSURE_NONE || a == FACTS_DISCLOSURE_UNCLEAR)
        return b == FACTS_DISCLOSURE_NONE ? a : b;
    if (b == FACTS_DISCLOSURE_NONE || b == FACTS_DISCLOSURE_UNCLEAR || a == b)
        return a;
    return FACTS_DISCLOSURE_BOTH; /* sex and labour, or either with both */
}

void facts_evidence_fill(const struct facts_evidence_set *ev, struct rule_value *facts)
{
    for (int c = 0; c < FACTS_EVIDENCE__COUNT; c++)
        facts[FACTS_EVIDENCE_FIRST + c] = (struct rule_value){
            .type = RULE_BOOL, .u.b = (ev->classes & FACTS_EVIDENCE_BIT(c)) != 0};
    facts[FACTS_FFC] =
        (struct rule_value){.type = RULE_BOOL, .u.b = (ev->classes & FACTS_EVIDENCE_FFC) != 0};
    facts[FACTS_RISK_COUNT] = (struct rule_value){.type = RULE_NUM, .u.n = ev->risk_count};
    if (ev->disclosure == FACTS_DISCLOSURE_NONE)
        facts[FACTS_DISCLOSURE_KIND] = (struct rule_value){.type = RULE_NULL};
    else
        facts[FACTS_DISCLOSURE_KIND] =
            (struct rule_value){.type = RULE_STR, .u.s = disclosure_kind_names[ev->disclosure]};
}

void facts_clear(struct rule_value *facts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        facts[i].type = RULE_NULL;
        facts[i].u.b = 0;
    }
}

void facts_resolver_init(struct facts_resolver *r, unsigned groups, const struct facts_fn *fns,
                         size_t n_fns, void *ud)
{
    memset(r, 0, sizeof(*r));
    r->groups = groups;
    r->fns = fns;
    r->n_fns = n_fns;
    r->ud = ud;
}

void facts_resolver_release(struct facts_resolver *r)
{
    for (size_t i = 0; i < r->n_calls; i++)
        free(r->calls[i].arg);
    free(r->calls);
    r->calls = NULL;
    r->n_calls = r->cap = 0;
}

/* evidence("x") names a fixed fact of the screening group, wherever that group is allowed. */
static const char evidence_fn[] = "evidence";

/* "unknown function 'x' (expected one of a, b)": the list is what the author can use here. */
static void unknown_function(const struct facts_resolver *r, const char *fn, char *err,
                             size_t errlen)
{
    size_t off = (size_t)snprintf(err, errlen, "unknown function '%s'", fn);
    size_t n = 0;
    for (size_t i = 0; i < r->n_fns && off < errlen; i++, n++)
        off += (size_t)snprintf(err + off, errlen - off, "%s%s",
                                i == 0 ? " (expected one of " : ", ", r->fns[i].name);
    if ((r->groups & FACTS_GROUP_SCREENING) && off < errlen)
        off += (size_t)snprintf(err + off, errlen - off, "%s%s",
                                n++ == 0 ? " (expected one of " : ", ", evidence_fn);
    if (n > 0 && off < errlen)
        snprintf(err + off, errlen - off, ")");
}

/* The slot of evidence("name"), or -1 with a message. */
static int resolve_evidence(const struct facts_resolver *r, const char *name, enum rule_type *type,
                            char *err, size_t errlen)
{
    char list[200];
    int c = facts_evidence_lookup(name);
    if (!(r->groups & FACTS_GROUP_SCREENING)) {
        snprintf(err, errlen, "'%s' is only known after a screening is scored", evidence_fn);
        return -1;
    }
    if (c < 0) {
        snprintf(err, errlen, "%s: unknown evidence class '%s' (expected one of %s)", evidence_fn,
                 name, facts_evidence_names(list, sizeof(list)));
        return -1;
    }
    *type = RULE_BOOL;
    return FACTS_EVIDENCE_FIRST + c;
}

static int resolve_name(struct facts_resolver *r, const char *name, enum rule_type *type, char *err,
                        size_t errlen)
{
    int slot = facts_lookup(name, type);
    if (slot < 0) {
        snprintf(err, errlen, "unknown name '%s'", name);
        return -1;
    }
    if (!(facts_table[slot].group & r->groups)) {
        if (facts_table[slot].group == FACTS_GROUP_POLICY)
            snprintf(err, errlen, "'%s' is only known to routing rules", name);
        else
            snprintf(err, errlen, "'%s' is only known after a screening is scored", name);
        return -1;
    }
    return slot;
}

/* Gives the call fns[fn](arg) the next dynamic slot; -1 with a message when out of memory. */
static int append_call(struct facts_resolver *r, int fn, const char *arg, int target, char *err,
                       size_t errlen)
{
    int slot = -1;
    char *copy = NULL;
    if (r->n_calls == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct facts_call *calls = realloc(r->calls, cap * sizeof(*calls));
        if (calls == NULL)
            goto out;
        r->calls = calls;
        r->cap = cap;
    }
    copy = strdup(arg);
    if (copy == NULL)
        goto out;
    r->calls[r->n_calls] = (struct facts_call){.fn = fn, .arg = copy, .target = target};
    slot = FACTS__COUNT + (int)r->n_calls++;
out:
    if (slot < 0)
        snprintf(err, errlen, "out of memory");
    return slot;
}

static int resolve(void *ud, const char *fn, const char *name, enum rule_type *type, char *err,
                   size_t errlen)
{
    struct facts_resolver *r = ud;
    if (fn == NULL)
        return resolve_name(r, name, type, err, errlen);

    size_t f = 0;
    while (f < r->n_fns && strcmp(r->fns[f].name, fn) != 0)
        f++;
    if (f == r->n_fns && strcmp(fn, evidence_fn) == 0)
        return resolve_evidence(r, name, type, err, errlen);
    if (f == r->n_fns) {
        unknown_function(r, fn, err, errlen);
        return -1;
    }
    int target = 0;
    if (r->fns[f].check != NULL) {
        target = r->fns[f].check(r->ud, name, err, errlen);
        if (target < 0)
            return -1;
    }
    *type = r->fns[f].type;
    for (size_t i = 0; i < r->n_calls; i++)
        if (r->calls[i].fn == (int)f && strcmp(r->calls[i].arg, name) == 0)
            return FACTS__COUNT + (int)i;
    return append_call(r, (int)f, name, target, err, errlen);
}

struct rule_schema facts_resolver_schema(struct facts_resolver *r)
{
    return (struct rule_schema){.resolve = resolve, .ud = r};
}

size_t facts_resolver_slot_count(const struct facts_resolver *r)
{
    return FACTS__COUNT + r->n_calls;
}

const struct facts_call *facts_resolver_call(const struct facts_resolver *r, size_t slot)
{
    if (slot < FACTS__COUNT || slot >= FACTS__COUNT + r->n_calls)
        return NULL;
    return &r->calls[slot - FACTS__COUNT];
}

const char *facts_due_from_name(enum facts_due_from f)
{
    static const char *const names[FACTS_DUE_FROM__COUNT] = {
        [FACTS_DUE_FROM_NOW] = "now",
        [FACTS_DUE_FROM_RUNAWAY_START] = "runaway_start",
        [FACTS_DUE_FROM_RUNAWAY_RETURN] = "runaway_return",
    };
    return (int)f >= 0 && f < FACTS_DUE_FROM__COUNT ? names[f] : NULL;
}
