/*
 * check_trigger.c: tests of screening triggers: the shipped screening.cfg, a
 * corpus of broken trigger files with the exact reports each must produce,
 * and which triggers case events match.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "rules/facts.h"
#include "screening/instrument.h"
#include "report_collect.h"
#include "screening/scoring.h"
#include "screening/trigger.h"

#define SHIPPED_INSTRUMENTS "conf/trafficking/instruments"
#define SHIPPED_TRIGGERS "conf/trafficking/screening.cfg"
#define FIXTURES "tests/data/instruments"
#define P(name) "tests/data/broken/triggers/" name ".cfg"

static struct instrument_set *fixtures;
static struct instrument_set *shipped;

static void setup(void)
{
    fixtures = collect_load_instruments(FIXTURES);
    shipped = collect_load_instruments(SHIPPED_INSTRUMENTS);
}

static void teardown(void)
{
    instrument_set_free(fixtures);
    instrument_set_free(shipped);
    fixtures = shipped = NULL;
}

/* One broken file, checked against the fixture instruments: every report, in order. */
struct broken_case {
    const char *name;
    const char *want[COLLECT_MAX];
};

static const struct broken_case broken[] = {
    {"bad_name",
     {P("bad_name") ":5: trigger 2: 'name' must be lowercase letters, digits and '_', starting "
                    "with a letter (got 'Second trigger')",
      NULL}},
    {"due_hours_int64",
     {P("due_hours_int64") ":6: trigger 'second': 'due_hours' must be between 1 and 720 (got "
                           "8589934664)",
      NULL}},
    {"due_hours_too_big",
     {P("due_hours_too_big") ":6: trigger 'second': 'due_hours' must be between 1 and 720 (got "
                             "1000)",
      NULL}},
    {"due_hours_zero",
     {P("due_hours_zero") ":4: trigger 'first': 'due_hours' must be between 1 and 720 (got 0)",
      NULL}},
    {"duplicate_event",
     {P("duplicate_event") ":5: trigger 'second': event 'updated' is listed twice", NULL}},
    {"duplicate_name",
     {P("duplicate_name") ":5: duplicate trigger name 'first' (first at line 3)", NULL}},
    {"empty_on", {P("empty_on") ":5: trigger 'second': 'on' needs at least 1 entry", NULL}},
    {"missing_reason", {P("missing_reason") ":5: trigger 'second': missing member 'reason'", NULL}},
    {"no_triggers",
     {P("no_triggers") ": missing member 'triggers'",
      P("no_triggers") ":2: unknown member 'trigers'", NULL}},
    {"several_defects",
     {P("several_defects") ":3: trigger 'first': unknown event 'opened' (expected one of created, "
                           "updated, note_added, closed, tick)",
      P("several_defects") ":3:19: trigger 'first': when: unexpected end of expression",
      P("several_defects") ":4: trigger 'first': 'due_hours' must be between 1 and 720 (got -1)",
      P("several_defects") ":5: duplicate trigger name 'first' (first at line 3)",
      P("several_defects") ":6: trigger 'first': unknown instrument 'nope' (expected one of t_any, "
                           "t_count, t_skip, t_weighted)",
      NULL}},
    {"syntax_error", {P("syntax_error") ":7: syntax error", NULL}},
    {"trigger_not_group", {P("trigger_not_group") ":6: trigger 2 must be a group { ... }", NULL}},
    {"triggers_not_list", {P("triggers_not_list") ":2: 'triggers' must be a list ( ... )", NULL}},
    {"unknown_event",
     {P("unknown_event") ":5: trigger 'second': unknown event 'update' (expected one of created, "
                         "updated, note_added, closed, tick)",
      NULL}},
    {"unknown_instrument",
     {P("unknown_instrument") ":6: trigger 'second': unknown instrument 't_cuont' (expected one of "
                              "t_any, t_count, t_skip, t_weighted)",
      NULL}},
    {"unknown_member",
     {P("unknown_member") ":5: trigger 'second': missing member 'due_hours'",
      P("unknown_member") ":6: trigger 'second': unknown member 'due_in_hours'", NULL}},
    {"when_function",
     {P("when_function") ":3:20: trigger 'first': when: unknown function 'indicator'", NULL}},
    {"when_not_bool",
     {P("when_not_bool") ":3:1: trigger 'first': when: expression must be true/false, found number",
      NULL}},
    {"when_screening_fact",
     {P("when_screening_fact") ":5:11: trigger 'second': when: 'result' is only known after a "
                               "screening is scored",
      NULL}},
    {"when_syntax",
     {P("when_syntax") ":5:36: trigger 'second': when: unexpected end of expression", NULL}},
    {"when_type_mismatch",
     {P("when_type_mismatch") ":5:20: trigger 'second': when: '==' needs operands of one type, "
                              "found string and number",
      NULL}},
    {"when_unknown_name",
     {P("when_unknown_name") ":3:1: trigger 'first': when: unknown name 'runaway_retrun'", NULL}},
};

START_TEST(test_broken_file)
{
    const struct broken_case *bc = &broken[_i];
    char path[200];
    struct collected c = {0};
    struct trigger_set *set = (struct trigger_set *)1;
    snprintf(path, sizeof(path), P("%s"), bc->name);
    ck_assert_msg(trigger_set_load(path, fixtures, collect_report, &c, &set) == -1, "%s loaded",
                  bc->name);
    ck_assert_ptr_null(set);
    COLLECT_ASSERT(&c, bc->want);
}
END_TEST

START_TEST(test_missing_file)
{
    static const char *const want[] = {
        P("does_not_exist") ": cannot open: No such file or directory", NULL};
    struct collected c = {0};
    struct trigger_set *set = NULL;
    ck_assert_int_eq(trigger_set_load(P("does_not_exist"), fixtures, collect_report, &c, &set), -1);
    COLLECT_ASSERT(&c, want);
}
END_TEST

/* The same file is checked against whatever instruments are loaded. */
START_TEST(test_shipped_against_other_instruments)
{
#define UNKNOWN(line, trig, id)                                                                    \
    SHIPPED_TRIGGERS ":" #line ": trigger '" trig "': unknown instrument '" id                     \
                     "' (expected one of t_any, t_count, t_skip, t_weighted)"
    static const char *const want[] = {
        UNKNOWN(12, "runaway_return", "youth_quick"),
        UNKNOWN(22, "minor_system_history", "staff_observation"),
        UNKNOWN(31, "adult_indicators", "adult"),
        NULL,
    };
#undef UNKNOWN
    struct collected c = {0};
    struct trigger_set *set = NULL;
    ck_assert_int_eq(trigger_set_load(SHIPPED_TRIGGERS, fixtures, collect_report, &c, &set), -1);
    COLLECT_ASSERT(&c, want);
}
END_TEST

static struct trigger_set *load_shipped(void)
{
    struct collected c = {0};
    struct trigger_set *set = NULL;
    int rc = trigger_set_load(SHIPPED_TRIGGERS, shipped, collect_report, &c, &set);
    ck_assert_msg(rc == 0 && c.n == 0, "%d reports, first: %s", c.n, c.n > 0 ? c.msg[0] : "");
    return set;
}

START_TEST(test_shipped_load_clean)
{
    struct trigger_set *set = load_shipped();
    ck_assert_uint_eq(set->n, 3);
    ck_assert_str_eq(set->v[0].name, "runaway_return");
    ck_assert_str_eq(set->v[0].instrument, "youth_quick");
    ck_assert_int_eq(set->v[0].due_hours, 24);
    ck_assert_uint_eq(set->v[0].events, (1u << FACTS_EV_CREATED) | (1u << FACTS_EV_UPDATED));
    ck_assert_str_eq(set->v[1].instrument, "staff_observation");
    ck_assert_str_eq(set->v[2].instrument, "adult");
    ck_assert_ptr_nonnull(set->v[2].reason);
    ck_assert_str_eq(set->path, SHIPPED_TRIGGERS);
    ck_assert_uint_eq(strlen(set->hash), 64);
    ck_assert_uint_eq(strspn(set->hash, "0123456789abcdef"), 64);
    trigger_set_free(set);
}
END_TEST

enum {
    RUNAWAY = 1 << 0,
    CW = 1 << 1,
    JJ = 1 << 2,
    RECRUIT = 1 << 3,
    CONTROL = 1 << 4,
};

struct match_case {
    const char *why;
    const char *age; /* estimated years, or "?" for unknown */
    unsigned flags;
    enum facts_event ev;
    const char *want[4]; /* trigger names in file order */
};

static const struct match_case matches[] = {
    {"minor back from running away", "15", RUNAWAY, FACTS_EV_CREATED, {"runaway_return"}},
    {"tick is not a listened event", "15", RUNAWAY, FACTS_EV_TICK, {NULL}},
    {"adult over 24 back from running away", "30", RUNAWAY, FACTS_EV_UPDATED, {NULL}},
    {"young adult back from running away", "22", RUNAWAY, FACTS_EV_UPDATED, {"runaway_return"}},
    {"unknown age back from running away", "?", RUNAWAY, FACTS_EV_CREATED, {"runaway_return"}},
    {"unknown age with child-welfare history", "?", CW, FACTS_EV_CREATED, {"minor_system_history"}},
    {"minor with runaway and history",
     "16",
     RUNAWAY | CW,
     FACTS_EV_UPDATED,
     {"runaway_return", "minor_system_history"}},
    {"minor with juvenile-justice history", "17", JJ, FACTS_EV_UPDATED, {"minor_system_history"}},
    {"adult with juvenile-justice history", "30", JJ, FACTS_EV_UPDATED, {NULL}},
    {"adult with recruitment flag", "30", RECRUIT, FACTS_EV_UPDATED, {"adult_indicators"}},
    /* a note changes no fact: it never suggests a screening again */
    {"adult with recruitment flag on a note", "30", RECRUIT, FACTS_EV_NOTE_ADDED, {NULL}},
    {"adult with control flag", "30", CONTROL, FACTS_EV_CREATED, {"adult_indicators"}},
    {"adult with control flag on close", "30", CONTROL, FACTS_EV_CLOSED, {NULL}},
    {"adult without flags", "30", 0, FACTS_EV_CREATED, {NULL}},
    {"minor with adult flags", "15", RECRUIT | CONTROL, FACTS_EV_CREATED, {NULL}},
    {"unknown age with adult flags", "?", CONTROL, FACTS_EV_CREATED, {NULL}},
    {"minor history on a note", "15", CW, FACTS_EV_NOTE_ADDED, {NULL}},
};

static void fill_facts(const struct match_case *mc, struct rule_value *facts)
{
    struct scoring_age a;
    char err[200];
    int est = strcmp(mc->age, "?") == 0 ? -1 : (int)strtol(mc->age, NULL, 10);
    facts_clear(facts, FACTS__COUNT);
    ck_assert_int_eq(scoring_age(NULL, est, "2024-05-01", &a, err, sizeof(err)), 0);
    scoring_age_fill(&a, facts);
    static const struct {
        unsigned flag;
        int slot;
    } flags[] = {{RUNAWAY, FACTS_RUNAWAY_RETURN},
                 {CW, FACTS_CW_HISTORY},
                 {JJ, FACTS_JJ_HISTORY},
                 {RECRUIT, FACTS_RECRUITMENT_FLAG},
                 {CONTROL, FACTS_CONTROL_FLAG}};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        facts[flags[i].slot] =
            (struct rule_value){.type = RULE_BOOL, .u.b = (mc->flags & flags[i].flag) != 0};
}

START_TEST(test_match)
{
    const struct match_case *mc = &matches[_i];
    struct trigger_set *set = load_shipped();
    struct rule_value facts[FACTS__COUNT];
    const struct trigger *out[4];
    fill_facts(mc, facts);
    size_t n = trigger_match(set, mc->ev, facts, out, 4);
    size_t want = 0;
    while (want < 4 && mc->want[want] != NULL)
        want++;
    ck_assert_msg(n == want, "%s: %zu matched, want %zu", mc->why, n, want);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strcmp(out[i]->name, mc->want[i]) == 0, "%s: match %zu is %s", mc->why, i,
                      out[i]->name);
    ck_assert_str_eq(facts[FACTS_EVENT].u.s, facts_event_name(mc->ev));
    trigger_set_free(set);
}
END_TEST

/* More matches than room: the count is still the whole count. */
START_TEST(test_match_truncated)
{
    struct trigger_set *set = load_shipped();
    struct rule_value facts[FACTS__COUNT];
    const struct trigger *out[1] = {NULL};
    fill_facts(&matches[6], facts);
    ck_assert_uint_eq(trigger_match(set, FACTS_EV_UPDATED, facts, out, 1), 2);
    ck_assert_str_eq(out[0]->name, "runaway_return");
    ck_assert_uint_eq(trigger_match(set, FACTS_EV_UPDATED, facts, NULL, 0), 2);
    ck_assert_uint_eq(trigger_match(set, (enum facts_event)FACTS_EV__COUNT, facts, NULL, 0), 0);
    trigger_set_free(set);
}
END_TEST

static Suite *trigger_suite(void)
{
    Suite *s = suite_create("trigger");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_broken_file, 0, (int)(sizeof(broken) / sizeof(broken[0])));
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_shipped_against_other_instruments);
    tcase_add_test(tc, test_shipped_load_clean);
    suite_add_tcase(s, tc);

    tc = tcase_create("match");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_match, 0, (int)(sizeof(matches) / sizeof(matches[0])));
    tcase_add_test(tc, test_match_truncated);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(trigger_suite())
