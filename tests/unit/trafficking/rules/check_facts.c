/*
 * check_facts.c: tests of the fact vocabulary and of the resolver that gives
 * rule calls their slots, with a routing-style function as another module
 * would add it.
 */
#include <check.h>
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
                  facts_table[i].group == FACTS_GROUP_SCREENING);
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

static Suite *facts_suite(void)
{
    Suite *s = suite_create("facts");
    TCase *tc = tcase_create("facts");
    tcase_add_test(tc, test_table_consistent);
    tcase_add_test(tc, test_events);
    tcase_add_test(tc, test_resolver_calls_share_slots);
    tcase_add_loop_test(tc, test_resolver_errors, 0, (int)(sizeof(errors) / sizeof(errors[0])));
    tcase_add_test(tc, test_resolver_without_functions);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(facts_suite())
