/*
 * check_facts.c: tests of the fact vocabulary and of the resolver that gives
 * rule calls their slots, with a routing-style function as another module
 * would add it.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "rules/facts.h"
#include "rules/rule.h"

START_TEST(test_table_consistent)
{
    for (int i = 0; i < FACTS__COUNT; i++) {
        enum rule_type type = RULE_NULL;
        ck_assert_msg(facts_lookup(facts_table[i].name, &type) == i, "%s", facts_table[i].name);
        ck_assert_int_eq(type, facts_table[i].type);
        ck_assert(type == RULE_BOOL || type == RULE_NUM || type == RULE_STR);
        ck_assert_uint_gt(strlen(facts_table[i].description), 0);
        ck_assert(facts_table[i].group == FACTS_GROUP_CASE ||
                  facts_table[i].group == FACTS_GROUP_SCREENING ||
                  facts_table[i].group == FACTS_GROUP_POLICY);
    }
    ck_assert_int_eq(facts_lookup("minor", NULL), FACTS_MINOR);
    ck_assert_int_eq(facts_lookup("disclosure", NULL), FACTS_DISCLOSURE);
    ck_assert_int_eq(facts_lookup("Minor", NULL), -1);
    ck_assert_int_eq(facts_lookup("", NULL), -1);
}
END_TEST

START_TEST(test_events)
{
    for (int e = 0; e < FACTS_EV__COUNT; e++)
        ck_assert_int_eq(facts_event_lookup(facts_event_name((enum facts_event)e)), e);
    ck_assert_str_eq(facts_event_name(FACTS_EV_NOTE_ADDED), "note_added");
    ck_assert_int_eq(facts_event_lookup("opened"), -1);
    ck_assert_ptr_null(facts_event_name(FACTS_EV__COUNT));
}
END_TEST

/* What a routing module would add: consent("purpose"), checked against its purposes. */
static const char *const purposes[] = {"law_enforcement", "hotline", "shelter"};

static int check_purpose(void *ud, const char *arg, char *err, size_t errlen)
{
    int *calls = ud;
    (*calls)++;
    for (int i = 0; i < 3; i++)
        if (strcmp(purposes[i], arg) == 0)
            return i;
    snprintf(err, errlen, "unknown purpose '%s'", arg);
    return -1;
}

static const struct facts_fn routing_fns[] = {
    {"consent", RULE_BOOL, check_purpose},
    {"referrals", RULE_NUM, NULL},
};

static struct rule_prog *compile(struct facts_resolver *r, const char *src, struct rule_error *e)
{
    struct rule_schema schema = facts_resolver_schema(r);
    memset(e, 0, sizeof(*e));
    return rule_compile(src, &schema, e);
}

START_TEST(test_resolver_calls_share_slots)
{
    int calls = 0;
    struct facts_resolver r;
    struct rule_error e;
    facts_resolver_init(&r, FACTS_GROUP_ALL, routing_fns, 2, &calls);
    struct rule_prog *p1 = compile(&r, "minor and consent(\"law_enforcement\")", &e);
    struct rule_prog *p2 = compile(&r, "consent(\"hotline\") or consent(\"law_enforcement\")", &e);
    struct rule_prog *p3 = compile(&r, "result == \"positive\" and referrals(\"any\") < 2", &e);
    ck_assert_ptr_nonnull(p1);
    ck_assert_ptr_nonnull(p2);
    ck_assert_msg(p3 != NULL, "%d: %s", e.col, e.msg);
    ck_assert_uint_eq(facts_resolver_slot_count(&r), FACTS__COUNT + 3);
    ck_assert_int_eq(rule_slot_count(p1), FACTS__COUNT + 1);

    const struct facts_call *c = facts_resolver_call(&r, FACTS__COUNT);
    ck_assert_int_eq(c->fn, 0);
    ck_assert_str_eq(c->arg, "law_enforcement");
    ck_assert_int_eq(c->target, 0);
    c = facts_resolver_call(&r, FACTS__COUNT + 1);
    ck_assert_str_eq(c->arg, "hotline");
    ck_assert_int_eq(c->target, 1);
    c = facts_resolver_call(&r, FACTS__COUNT + 2);
    ck_assert_int_eq(c->fn, 1);
    ck_assert_int_eq(c->target, 0); /* no check: target 0 */
    ck_assert_ptr_null(facts_resolver_call(&r, FACTS_MINOR));
    ck_assert_ptr_null(facts_resolver_call(&r, FACTS__COUNT + 3));
    ck_assert_int_eq(calls, 3); /* every call is checked, even a repeated one */

    /* The caller fills dynamic slots by what the call names. */
    struct rule_value facts[FACTS__COUNT + 3];
    facts_clear(facts, FACTS__COUNT + 3);
    facts[FACTS_MINOR] = (struct rule_value){.type = RULE_BOOL, .u.b = 1};
    facts[FACTS__COUNT] = (struct rule_value){.type = RULE_BOOL, .u.b = 0};
    ck_assert_int_eq(rule_eval(p1, facts, NULL), 0);
    facts[FACTS__COUNT].u.b = 1;
    ck_assert_int_eq(rule_eval(p1, facts, NULL), 1);

    rule_free(p1);
    rule_free(p2);
    rule_free(p3);
    facts_resolver_release(&r);
}
END_TEST

struct resolve_error {
    unsigned groups;
    const char *src;
    int col;
    const char *msg;
};

static const struct resolve_error errors[] = {
    {FACTS_GROUP_ALL, "minor and consent(\"police\")", 11, "unknown purpose 'police'"},
    {FACTS_GROUP_ALL, "consnt(\"hotline\")", 1,
     "unknown function 'consnt' (expected one of consent, referrals, evidence)"},
    /* evidence("class") names a fixed screening fact, of a fixed vocabulary */
    {FACTS_GROUP_ALL, "minor and evidence(\"comercial_sex\")", 11,
     "evidence: unknown evidence class 'comercial_sex' (expected one of commercial_sex, force, "
     "fraud, coercion, labour_exploitation, risk, disclosure)"},
    {FACTS_GROUP_CASE, "evidence(\"risk\")", 1,
     "'evidence' is only known after a screening is scored"},
    {FACTS_GROUP_CASE, "risk_count > 1", 1,
     "'risk_count' is only known after a screening is scored"},
    {FACTS_GROUP_CASE, "consnt(\"x\")", 1,
     "unknown function 'consnt' (expected one of consent, referrals)"},
    {FACTS_GROUP_ALL, "minr", 1, "unknown name 'minr'"},
    {FACTS_GROUP_CASE, "minor and disclosure", 11,
     "'disclosure' is only known after a screening is scored"},
};

START_TEST(test_resolver_errors)
{
    const struct resolve_error *re = &errors[_i];
    int calls = 0;
    struct facts_resolver r;
    struct rule_error e;
    facts_resolver_init(&r, re->groups, routing_fns, 2, &calls);
    ck_assert_ptr_null(compile(&r, re->src, &e));
    ck_assert_int_eq(e.col, re->col);
    ck_assert_str_eq(e.msg, re->msg);
    ck_assert_uint_eq(facts_resolver_slot_count(&r), FACTS__COUNT);
    facts_resolver_release(&r);
}
END_TEST

START_TEST(test_resolver_without_functions)
{
    struct facts_resolver r;
    struct rule_error e;
    facts_resolver_init(&r, FACTS_GROUP_CASE, NULL, 0, NULL);
    ck_assert_ptr_null(compile(&r, "indicator(\"a\")", &e));
    ck_assert_str_eq(e.msg, "unknown function 'indicator'");
    facts_resolver_release(&r);
    facts_resolver_release(&r); /* releasing twice is harmless */
}
END_TEST

/* The evidence vocabulary: names, the fixed slots rules read, and how kinds add up. */
START_TEST(test_evidence_vocabulary)
{
    char buf[200];
    for (int c = 0; c < FACTS_EVIDENCE__COUNT; c++) {
        const char *name = facts_evidence_name((enum facts_evidence)c);
        char call[64];
        ck_assert_int_eq(facts_evidence_lookup(name), c);
        snprintf(call, sizeof(call), "evidence(\"%s\")", name);
        ck_assert_str_eq(facts_table[FACTS_EVIDENCE_FIRST + c].name, call);
        ck_assert_int_eq(facts_table[FACTS_EVIDENCE_FIRST + c].group, FACTS_GROUP_SCREENING);
    }
    ck_assert_int_eq(FACTS_EVIDENCE_LAST - FACTS_EVIDENCE_FIRST + 1, FACTS_EVIDENCE__COUNT);
    ck_assert_ptr_null(facts_evidence_name(FACTS_EVIDENCE__COUNT));
    ck_assert_int_eq(facts_evidence_lookup("ffc"), -1); /* a derived fact, not a class */
    ck_assert_str_eq(facts_evidence_names(buf, sizeof(buf)),
                     "commercial_sex, force, fraud, coercion, labour_exploitation, risk, "
                     "disclosure");
    ck_assert_str_eq(facts_disclosure_kind_names(buf, sizeof(buf)), "sex, labour, both, unclear");
    ck_assert_int_eq(facts_disclosure_kind_lookup("none"), -1);
    ck_assert_ptr_null(facts_disclosure_kind_name(FACTS_DISCLOSURE_NONE));
    ck_assert_int_eq(facts_lookup("ffc", NULL), FACTS_FFC);
    ck_assert_int_eq(facts_lookup("risk_count", NULL), FACTS_RISK_COUNT);
    ck_assert_int_eq(facts_lookup("disclosure_kind", NULL), FACTS_DISCLOSURE_KIND);

    /* sex and labour make both; unclear and none yield to a known kind */
    ck_assert_int_eq(facts_disclosure_kind_join(FACTS_DISCLOSURE_SEX, FACTS_DISCLOSURE_LABOUR),
                     FACTS_DISCLOSURE_BOTH);
    ck_assert_int_eq(facts_disclosure_kind_join(FACTS_DISCLOSURE_UNCLEAR, FACTS_DISCLOSURE_SEX),
                     FACTS_DISCLOSURE_SEX);
    ck_assert_int_eq(facts_disclosure_kind_join(FACTS_DISCLOSURE_LABOUR, FACTS_DISCLOSURE_UNCLEAR),
                     FACTS_DISCLOSURE_LABOUR);
    ck_assert_int_eq(facts_disclosure_kind_join(FACTS_DISCLOSURE_NONE, FACTS_DISCLOSURE_UNCLEAR),
                     FACTS_DISCLOSURE_UNCLEAR);
    ck_assert_int_eq(facts_disclosure_kind_join(FACTS_DISCLOSURE_BOTH, FACTS_DISCLOSURE_SEX),
                     FACTS_DISCLOSURE_BOTH);
    ck_assert_int_eq(facts_disclosure_kind_join(FACTS_DISCLOSURE_SEX, FACTS_DISCLOSURE_SEX),
                     FACTS_DISCLOSURE_SEX);
}
END_TEST

/* evidence("x") compiles to its fixed slot, shared by every rule; ffc reads the three means. */
START_TEST(test_evidence_in_rules)
{
    int calls = 0;
    struct facts_resolver r;
    struct rule_error e;
    struct rule_value facts[FACTS__COUNT];
    struct facts_evidence_set ev = {.classes = FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_FRAUD) |
                                               FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK),
                                    .risk_count = 2,
                                    .disclosure = FACTS_DISCLOSURE_NONE};
    facts_resolver_init(&r, FACTS_GROUP_ALL, routing_fns, 2, &calls);
    struct rule_prog *p = compile(&r, "ffc and evidence(\"fraud\") and risk_count >= 2", &e);
    struct rule_prog *q =
        compile(&r, "evidence(\"commercial_sex\") or disclosure_kind == \"sex\"", &e);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(q != NULL, "%s", e.msg);
    ck_assert_uint_eq(facts_resolver_slot_count(&r), FACTS__COUNT); /* no dynamic slot */
    ck_assert(rule_uses_slot(p, FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_FRAUD));
    facts_clear(facts, FACTS__COUNT);
    ck_assert_int_eq(rule_eval(p, facts, NULL), 0); /* no screening: null, never true */
    facts_evidence_fill(&ev, facts);
    ck_assert_int_eq(rule_eval(p, facts, NULL), 1);
    ck_assert_int_eq(rule_eval(q, facts, NULL), 0);
    ck_assert_int_eq(facts[FACTS_DISCLOSURE_KIND].type, RULE_NULL);
    ev.classes = FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_DISCLOSURE);
    ev.disclosure = FACTS_DISCLOSURE_SEX;
    facts_evidence_fill(&ev, facts);
    ck_assert_int_eq(rule_eval(p, facts, NULL), 0);
    ck_assert_int_eq(rule_eval(q, facts, NULL), 1);
    rule_free(p);
    rule_free(q);
    facts_resolver_release(&r);
}
END_TEST

static Suite *facts_suite(void)
{
    Suite *s = suite_create("facts");
    TCase *tc = tcase_create("facts");
    tcase_add_test(tc, test_table_consistent);
    tcase_add_test(tc, test_events);
    tcase_add_test(tc, test_resolver_calls_share_slots);
    tcase_add_loop_test(tc, test_resolver_errors, 0, (int)(sizeof(errors) / sizeof(errors[0])));
    tcase_add_test(tc, test_resolver_without_functions);
    tcase_add_test(tc, test_evidence_vocabulary);
    tcase_add_test(tc, test_evidence_in_rules);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(facts_suite())
