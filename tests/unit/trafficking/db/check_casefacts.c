/*
 * check_casefacts.c: tests of the one path from a case to its facts
 * (db/casefacts.c) without a database: one answer of
 * trafficking.case_facts_v1 gives the trigger facts and the routing input,
 * and they agree on every case fact; the age rule is one for screening and
 * routing; which case fields feed which facts.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "db/casefacts.h"

/* case_facts_v1 answers, as the database writes them, and what they mean. */
static const struct {
    const char *name;
    const char *json;
    int closed, age, minor;
    const char *pathway;
} answers[] = {
    {"adult from a date of birth, no person details beyond",
     "{\"case_id\":7,\"closed\":false,\"age\":36,\"age_known\":true,\"age_estimated\":false,"
     "\"gender\":\"female\",\"state\":\"CA\",\"county\":\"Alameda\",\"flags\":{\"foreign_"
     "national\":"
     "false,\"imminent_danger\":false,\"recruitment\":true,\"control\":false,\"runaway_return\":"
     "false,\"cw_history\":false,\"jj_history\":true},\"runaway_episodes\":0,\"screening\":null,"
     "\"indicators\":[],\"domain_scores\":null,\"consents\":[],\"safe_contact\":{\"do_not_"
     "contact\":"
     "false,\"trafficker_controls_phone\":false,\"safe_channels\":[]}}",
     0, 36, 0, "adult"},
    {"estimated minor with a runaway episode, a screening, consent and safe contact",
     "{\"case_id\":8,\"closed\":false,\"age\":15,\"age_known\":false,\"age_estimated\":true,"
     "\"gender\":null,\"state\":\"NV\",\"county\":null,\"flags\":{\"foreign_national\":true,"
     "\"imminent_danger\":false,\"recruitment\":false,\"control\":true,\"runaway_return\":true,"
     "\"cw_history\":true,\"jj_history\":false},\"runaway_episodes\":1,\"screening\":{\"id\":3,"
     "\"instrument\":\"youth_quick\",\"version\":1,\"result\":\"positive\",\"band\":\"positive\","
     "\"score\":1,\"stopped\":false},\"indicators\":[\"exchanged_sex\"],\"domain_scores\":"
     "{\"sex_trafficking\":1},\"consents\":[{\"id\":4,\"purpose\":\"referral\",\"recipients\":"
     "[\"kind:hotline\"],\"active\":true}],\"safe_contact\":{\"do_not_contact\":false,"
     "\"trafficker_controls_phone\":true,\"safe_channels\":[\"email\"]}}",
     0, 15, 1, "minor"},
    {"closed case without a person: unknown age is the minor pathway",
     "{\"case_id\":9,\"closed\":true,\"age\":null,\"age_known\":false,\"age_estimated\":false,"
     "\"gender\":null,\"state\":null,\"county\":null,\"flags\":{\"foreign_national\":false,"
     "\"imminent_danger\":true,\"recruitment\":false,\"control\":false,\"runaway_return\":false,"
     "\"cw_history\":false,\"jj_history\":false},\"runaway_episodes\":0,\"screening\":null,"
     "\"indicators\":[],\"domain_scores\":null,\"consents\":[],\"safe_contact\":{\"do_not_"
     "contact\":"
     "false,\"trafficker_controls_phone\":false,\"safe_channels\":[]}}",
     1, -1, 1, "minor_unknown_age"},
};

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "test JSON: %s", e.text);
    return j;
}

/* 1 when two fact values are equal (strings by content). */
static int same(struct rule_value a, struct rule_value b)
{
    if (a.type != b.type)
        return 0;
    switch (a.type) {
    case RULE_BOOL:
        return a.u.b == b.u.b;
    case RULE_NUM:
        return a.u.n == b.u.n;
    case RULE_STR:
        return strcmp(a.u.s, b.u.s) == 0;
    default:
        return 1;
    }
}

static struct rule_value v_bool(int b)
{
    return (struct rule_value){.type = RULE_BOOL, .u.b = b != 0};
}

static struct rule_value v_str(const char *s)
{
    return s[0] ? (struct rule_value){.type = RULE_STR, .u.s = s}
                : (struct rule_value){.type = RULE_NULL};
}

START_TEST(one_answer_gives_trigger_facts_and_routing_input_that_agree)
{
    json_t *j = parse(answers[_i].json);
    struct casefacts cf;
    struct routing_input in;
    struct rule_value facts[FACTS__COUNT];
    char err[300] = "";
    ck_assert_msg(casefacts_from_json(j, &cf, &in, err, sizeof(err)) == 0, "%s: %s",
                  answers[_i].name, err);
    casefacts_fill(&cf, facts);
    /* what the answer says */
    ck_assert_int_eq(cf.closed, answers[_i].closed);
    ck_assert_int_eq(cf.case_id, in.case_id);
    ck_assert_int_eq(cf.age.age, answers[_i].age);
    ck_assert_int_eq(cf.age.minor, answers[_i].minor);
    ck_assert_str_eq(cf.age.pathway, answers[_i].pathway);
    /* triggers and routing read the same case facts */
    ck_assert_int_eq(routing_input_minor(&in), cf.age.minor);
    ck_assert_str_eq(routing_input_pathway(&in), cf.age.pathway);
    ck_assert_int_eq(in.age, cf.age.age);
    {
        const struct {
            int slot;
            struct rule_value want;
        } slots[] = {
            {FACTS_MINOR, v_bool(routing_input_minor(&in))},
            {FACTS_PATHWAY, v_str(routing_input_pathway(&in))},
            {FACTS_AGE_KNOWN, v_bool(in.age_known)},
            {FACTS_AGE_ESTIMATED, v_bool(in.age_estimated)},
            {FACTS_GENDER, v_str(in.gender)},
            {FACTS_STATE, v_str(in.state)},
            {FACTS_COUNTY, v_str(in.county)},
            {FACTS_RUNAWAY_RETURN, v_bool(in.runaway_return)},
            {FACTS_RUNAWAY_EPISODES,
             (struct rule_value){.type = RULE_NUM, .u.n = in.runaway_episodes}},
            {FACTS_CW_HISTORY, v_bool(in.cw_history)},
            {FACTS_JJ_HISTORY, v_bool(in.jj_history)},
            {FACTS_RECRUITMENT_FLAG, v_bool(in.recruitment)},
            {FACTS_CONTROL_FLAG, v_bool(in.control)},
            {FACTS_FOREIGN_NATIONAL, v_bool(in.foreign_national)},
            {FACTS_IMMINENT_DANGER, v_bool(in.imminent_danger)},
        };
        for (size_t k = 0; k < sizeof(slots) / sizeof(slots[0]); k++)
            ck_assert_msg(same(facts[slots[k].slot], slots[k].want), "%s: fact %s differs",
                          answers[_i].name, facts_table[slots[k].slot].name);
    }
    /* screening facts are routing's, never a trigger's */
    ck_assert_int_eq(facts[FACTS_RESULT].type, RULE_NULL);
    ck_assert_int_eq(facts[FACTS_EVENT].type, RULE_NULL);
    /* the routing input kept what only routing reads; the case facts own nothing */
    ck_assert_int_eq(in.screening.present, _i == 1);
    ck_assert_uint_eq(in.n_consents, _i == 1 ? 1u : 0u);
    ck_assert_ptr_null(cf.in.consents);
    ck_assert_ptr_null(cf.in.indicators);
    ck_assert_ptr_null(cf.in.safe_contact.safe_channels);
    routing_input_release(&in);
    json_decref(j);
}
END_TEST

/* Either output alone, from the same reading. */
START_TEST(case_facts_or_routing_input_alone)
{
    json_t *j = parse(answers[1].json);
    struct casefacts cf;
    struct routing_input in;
    char err[300] = "";
    ck_assert_int_eq(casefacts_from_json(j, &cf, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(cf.in.control, 1);
    ck_assert_int_eq(casefacts_from_json(j, NULL, &in, err, sizeof(err)), 0);
    ck_assert_str_eq(in.indicators[0], "exchanged_sex");
    routing_input_release(&in);
    json_decref(j);
}
END_TEST

/* A reading that is not the shape is refused, naming what is wrong. */
static const struct {
    const char *json;
    const char *error;
} bad_answers[] = {
    {"{\"case_id\":1,\"age\":null}", "closed: must be true or false"},
    {"{\"case_id\":1,\"closed\":\"no\"}", "closed: must be true or false"},
    {"{\"case_id\":1,\"closed\":false,\"phone\":\"555\"}", "unknown member 'phone'"},
    {"{\"case_id\":1,\"closed\":false,\"age\":15}", "age: say whether it is known"},
    {"[]", "case facts must be an object"},
};

START_TEST(a_reading_of_another_shape_is_refused_naming_the_member)
{
    json_t *j = parse(bad_answers[_i].json);
    struct casefacts cf;
    struct routing_input in;
    char err[300] = "";
    ck_assert_int_eq(casefacts_from_json(j, &cf, &in, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, bad_answers[_i].error) != NULL, "'%s': got '%s', want '%s'",
                  bad_answers[_i].json, err, bad_answers[_i].error);
    routing_input_release(&in);
    json_decref(j);
}
END_TEST

/* The age rule is one: scoring's scoring_age_of serves screening and routing for every age. */
START_TEST(the_age_rule_is_one_for_screening_and_routing)
{
    for (int age = -1; age <= 130; age++) {
        for (int basis = 0; basis < 3; basis++) {
            struct routing_input in;
            struct scoring_age a = scoring_age_of(age, basis == 1, basis == 2);
            routing_input_init(&in);
            in.age = age;
            in.age_known = basis == 1;
            in.age_estimated = basis == 2;
            ck_assert_int_eq(a.minor, age < 18);
            ck_assert_str_eq(a.pathway, age < 0    ? "minor_unknown_age"
                                        : age < 18 ? "minor"
                                                   : "adult");
            ck_assert_int_eq(routing_input_minor(&in), a.minor);
            ck_assert_str_eq(routing_input_pathway(&in), a.pathway);
        }
    }
    {
        /* and scoring_age, from a date, by the same rule */
        struct scoring_age a;
        char err[100];
        ck_assert_int_eq(scoring_age("2006-05-02", -1, "2024-05-01", &a, err, sizeof(err)), 0);
        ck_assert_int_eq(a.age, 17);
        ck_assert_str_eq(a.pathway, scoring_age_of(17, 1, 0).pathway);
        ck_assert_int_eq(scoring_age("2006-05-01", -1, "2024-05-01", &a, err, sizeof(err)), 0);
        ck_assert_str_eq(a.pathway, "adult");
    }
}
END_TEST

/* Which case field feeds which fact: what makes triggers fire and routing run again. */
static const struct {
    const char *field;
    int slot;
    int feeds;
} feeds[] = {
    {"runaway_start", FACTS_RUNAWAY_EPISODES, 1},
    {"runaway_start", FACTS_RUNAWAY_RETURN, 1},
    {"runaway_return", FACTS_RUNAWAY_RETURN, 1},
    {"subject_id", FACTS_MINOR, 1},
    {"subject_id", FACTS_PATHWAY, 1},
    {"subject_id", FACTS_GENDER, 1},
    {"flags", FACTS_IMMINENT_DANGER, 1},
    {"flags", FACTS_CONTROL_FLAG, 1},
    {"state", FACTS_STATE, 1},
    {"county", FACTS_COUNTY, 1},
    {"cw_history", FACTS_CW_HISTORY, 1},
    {"title", FACTS_STATE, 0},
    {"status", FACTS_MINOR, 0},
    {"assignee", FACTS_MINOR, 0},
    {"flags", FACTS_STATE, 0},
    {"runaway_start", FACTS_RESULT, 0},
};

START_TEST(case_fields_feed_the_facts_read_from_them)
{
    ck_assert_msg(casefacts_field_feeds(feeds[_i].field, feeds[_i].slot) == feeds[_i].feeds,
                  "%s -> %s: want %d", feeds[_i].field, facts_table[feeds[_i].slot].name,
                  feeds[_i].feeds);
    ck_assert_int_eq(casefacts_field_moves_person(feeds[_i].field),
                     strcmp(feeds[_i].field, "subject_id") == 0);
}
END_TEST

static Suite *casefacts_suite(void)
{
    Suite *s = suite_create("casefacts");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, one_answer_gives_trigger_facts_and_routing_input_that_agree, 0,
                        (int)(sizeof(answers) / sizeof(answers[0])));
    tcase_add_test(tc, case_facts_or_routing_input_alone);
    tcase_add_loop_test(tc, a_reading_of_another_shape_is_refused_naming_the_member, 0,
                        (int)(sizeof(bad_answers) / sizeof(bad_answers[0])));
    tcase_add_test(tc, the_age_rule_is_one_for_screening_and_routing);
    tcase_add_loop_test(tc, case_fields_feed_the_facts_read_from_them, 0,
                        (int)(sizeof(feeds) / sizeof(feeds[0])));
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(casefacts_suite())
