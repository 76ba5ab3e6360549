/*
 * check_screening_drafts.c: the answers of a screening still being asked,
 * kept as the case's draft (016_screening_drafts.sql, db/draft.c) so that an
 * interview outlasts a login, end to end through the real casehost binary
 * and a real PostgreSQL: `screen step` saves the answers so far, `screen
 * resume` (each run a new process and a new session) takes them up at the
 * next question, the case page offers it with the count, storing or
 * declining the screening ends the draft in the same transaction, `screen
 * discard` starts again, the tick purges a draft untouched for 30 days, and
 * another agency's people and any service reach none of it. Every write and
 * every read of a draft leaves its audit row.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024];
static json_t *doc; /* the last RUN_JSON output */

#include "testcli.h"

static const struct tl_cli cli = {db, cfg, &r, &doc};

static void setup(void)
{
    tl_cli_setup(&cli, NULL);
    tl_add_user(db, "a_admin", "a_other", "caseworker", "A");
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

#define db_value(...) tl_db_valuef(db, __VA_ARGS__)
#define db_text(...) tl_db_textf(db, __VA_ARGS__)
#define db_exec(...) tl_db_execf(db, __VA_ARGS__)

/* Rows of a case's draft, as the database holds them (no row-level security). */
#define DRAFTS(case_id)                                                                            \
    db_value("SELECT count(*) FROM trafficking.screening_drafts WHERE case_id = %lld", (case_id))

/* Audit rows of action on the drafts of case_id. */
#define AUDITED(action, case_id)                                                                   \
    db_value("SELECT count(*) FROM casehost.audit_log WHERE action = '%s'"                         \
             " AND object_type = 'screening_draft' AND object_id = %lld",                          \
             (action), (case_id))

/*
 * A 15-year-old back from running away in CA (a youth_quick screening is
 * suggested): the case's id, and as text into id (char[24]).
 */
static long long runaway_case(char *id)
{
    long long person = tl_person_add(&cli, "--age-estimate", "15");
    long long c = tl_case_new(&cli, person, "Back from running away",
                              (const char *const[]){"--runaway-start", tl_hours_ago(72),
                                                    "--runaway-return", tl_hours_ago(2), NULL});
    snprintf(id, 24, "%lld", c);
    return c;
}

/* The answers a_worker gave before the session ran out: two of youth_quick's four. */
static void answer_two(const char *id)
{
    RUN_JSON("screen", "step", id, "offer_not_as_promised=no", "could_not_leave=no", "--instrument",
             "youth_quick");
}

/* The id of doc's step form's question ("" when there is no step form). */
static const char *question(void)
{
    json_t *form = json_object_get(doc, "step");
    return jstr(json_array_get(json_object_get(form, "questions"), 0), "id");
}

/* The step form's argv word at i ("" past its end). */
static const char *form_argv(size_t i)
{
    const char *s =
        json_string_value(json_array_get(json_object_get(json_object_get(doc, "step"), "argv"), i));
    return s != NULL ? s : "";
}

/* The primary message of sql run as user on their own role ("" when it succeeded). Static. */
static const char *refusal(const char *user, const char *sql)
{
    static char msg[512];
    PGconn *c = tl_as_app(db, user);
    PGresult *res = PQexec(c, sql);
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(msg, sizeof(msg), "%s", m != NULL ? m : "");
    PQclear(res);
    PQfinish(c);
    return msg;
}

/* Fails unless sql (printf-style) run as user is refused with exactly want. */
#define REFUSED_AS(user, want, ...)                                                                \
    do {                                                                                           \
        char sql_[512];                                                                            \
        snprintf(sql_, sizeof(sql_), __VA_ARGS__);                                                 \
        ck_assert_msg(strcmp(refusal((user), sql_), (want)) == 0, "%s as %s: '%s', want '%s'",     \
                      sql_, (user), refusal((user), sql_), (want));                                \
    } while (0)

/* ------------------------------------------------------- save, resume --- */

START_TEST(step_with_answers_saves_a_draft_that_resume_takes_up_in_a_new_session)
{
    char id[24];
    long long c = runaway_case(id);
    /* the first question alone writes nothing */
    RUN_JSON("screen", "step", id);
    ck_assert_str_eq(question(), "offer_not_as_promised");
    ck_assert_int_eq(DRAFTS(c), 0);
    ck_assert_int_eq(AUDITED("update", c), 0);

    answer_two(id);
    ck_assert_str_eq(question(), "id_money_phone_held");
    ck_assert_int_eq(DRAFTS(c), 1);
    ck_assert_str_eq(db_text("SELECT d.instrument_id || ' ' || d.answers::text || ' ' || u.name"
                             " FROM trafficking.screening_drafts d JOIN casehost.users u"
                             " ON u.id = d.saved_by WHERE d.case_id = %lld",
                             c),
                     "youth_quick {\"could_not_leave\": \"no\", \"offer_not_as_promised\": \"no\"}"
                     " a_worker");
    ck_assert_int_eq(AUDITED("update", c), 1);
    ck_assert_int_eq(AUDITED("read", c), 0);

    /* a new process, a new session: the next question, the answers in its argv */
    RUN_JSON("screen", "resume", id);
    ck_assert_str_eq(question(), "id_money_phone_held");
    ck_assert_str_eq(form_argv(0), "screen");
    ck_assert_str_eq(form_argv(1), "step");
    ck_assert_str_eq(form_argv(2), id);
    ck_assert_str_eq(form_argv(3), "offer_not_as_promised=no");
    ck_assert_str_eq(form_argv(4), "could_not_leave=no");
    ck_assert_str_eq(form_argv(5), "--instrument");
    ck_assert_str_eq(form_argv(6), "youth_quick");
    ck_assert_str_eq(form_argv(7), "");
    HAS_MESSAGE("2 answers saved by a_worker at ");
    OFFERS("start again (discard the saved answers)", "screen", "discard", id, "--instrument",
           "youth_quick");
    ck_assert_int_eq(AUDITED("read", c), 1);
    ck_assert_int_eq(AUDITED("update", c), 1); /* resume only reads */

    /* another caseworker of the agency takes it up where it stands */
    tl_cli_json(&cli, "a_other", (const char *[]){"screen", "resume", id, NULL});
    ck_assert_str_eq(question(), "id_money_phone_held");
    HAS_MESSAGE("2 answers saved by a_worker at ");
    /* ... and the next step saves it as theirs, with every answer so far */
    tl_cli_json(&cli, "a_other",
                (const char *[]){"screen", "step", id, "offer_not_as_promised=no",
                                 "could_not_leave=no", "--instrument", "youth_quick",
                                 "id_money_phone_held=declined", NULL});
    ck_assert_str_eq(question(), "exchanged_sex");
    ck_assert_str_eq(db_text("SELECT (SELECT count(*) FROM jsonb_object_keys(d.answers))"
                             " || ' ' || u.name FROM trafficking.screening_drafts d"
                             " JOIN casehost.users u ON u.id = d.saved_by WHERE d.case_id = %lld",
                             c),
                     "3 a_other");
    ck_assert_int_eq(DRAFTS(c), 1);
}
END_TEST

START_TEST(wrong_last_answer_is_not_saved_and_resume_without_a_draft_starts_at_the_first_question)
{
    char id[24];
    long long c = runaway_case(id);
    RUN_JSON("screen", "resume", id);
    ck_assert_str_eq(question(), "offer_not_as_promised");
    ck_assert_int_eq(has_message("saved by"), 0);
    ck_assert_ptr_null(action("start again (discard the saved answers)"));
    ck_assert_int_eq(AUDITED("read", c), 0);

    RUN_JSON("screen", "step", id, "offer_not_as_promised=no", "could_not_leave=maybe",
             "--instrument", "youth_quick");
    HAS_ALERT("warning", "'maybe' is not an answer");
    ck_assert_str_eq(db_text("SELECT answers::text FROM trafficking.screening_drafts"
                             " WHERE case_id = %lld",
                             c),
                     "{\"offer_not_as_promised\": \"no\"}");
    RUN_JSON("screen", "resume", id, "--instrument", "youth_quick");
    ck_assert_str_eq(question(), "could_not_leave");
    HAS_MESSAGE("1 answer saved by a_worker at ");
}
END_TEST

START_TEST(case_page_offers_to_resume_with_the_count_of_answers_saved)
{
    char id[24];
    long long c = runaway_case(id);
    RUN_JSON("case", "show", id);
    OFFERS("screen now", "screen", "resume", id);
    answer_two(id);
    RUN_JSON("case", "show", id);
    OFFERS("resume the screening (2 answers saved)", "screen", "resume", id);
    OFFERS("record that the person declined", "screen", "decline", id);
    ck_assert_ptr_null(action("screen now"));
    /* the page shows how many, never an answer, and reads no draft */
    ck_assert_ptr_null(strstr(r.out, "offer_not_as_promised"));
    ck_assert_int_eq(AUDITED("read", c), 0);
}
END_TEST

/* --------------------------------------------------- the draft ends --- */

START_TEST(storing_the_screening_from_the_review_deletes_the_draft)
{
    char id[24];
    long long c = runaway_case(id);
    json_t *store;
    const char *a[16] = {0};
    RUN_JSON("screen", "step", id, "offer_not_as_promised=no", "could_not_leave=no",
             "id_money_phone_held=no", "exchanged_sex=no", "made_to_work=no", "--instrument",
             "youth_quick");
    ck_assert_str_eq(question(), "");
    ck_assert_int_eq(DRAFTS(c), 1); /* the review is saved too */
    /* the session ran out on the review page: resume shows it again */
    RUN_JSON("screen", "resume", id);
    HAS_MESSAGE("No more questions");
    store = json_object_get(action("store the screening"), "argv");
    ck_assert_uint_eq(json_array_size(store), 10);
    for (size_t i = 0; i < json_array_size(store); i++)
        a[i] = json_string_value(json_array_get(store, i));
    ck_assert_str_eq(a[1], "start");
    RUN_JSON(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
    ck_assert_str_eq(jstr(doc, "state"), "completed");
    ck_assert_int_eq(DRAFTS(c), 0);
    RUN_JSON("case", "show", id);
    ck_assert_ptr_null(action("resume the screening (5 answers saved)"));
    ck_assert_ptr_null(action("screen now"));
}
END_TEST

START_TEST(declining_the_screening_deletes_the_draft)
{
    char id[24];
    long long c = runaway_case(id);
    answer_two(id);
    ck_assert_int_eq(DRAFTS(c), 1);
    RUN_JSON("screen", "decline", id, "--reason", "does not want to talk today");
    ck_assert_int_eq(DRAFTS(c), 0);
    /* a store that fails leaves the draft as it was */
    answer_two(id);
    RUN_FAILS(1, "screen", "start", id, "--instrument", "youth_quick", "--supersedes", "999",
              "offer_not_as_promised=no");
    ck_assert_int_eq(DRAFTS(c), 1);
}
END_TEST

START_TEST(discard_throws_the_draft_away_and_resume_starts_again)
{
    char id[24];
    long long c = runaway_case(id);
    answer_two(id);
    RUN_JSON("screen", "discard", id, "--instrument", "youth_quick");
    ck_assert_int_eq(jint(doc, "discarded"), 1);
    OFFERS("screen now", "screen", "resume", id, "--instrument", "youth_quick");
    ck_assert_int_eq(DRAFTS(c), 0);
    ck_assert_int_eq(AUDITED("discard", c), 1);
    RUN_JSON("screen", "resume", id);
    ck_assert_str_eq(question(), "offer_not_as_promised");
    /* nothing left: said, not refused, and not audited */
    RUN_JSON("screen", "discard", id);
    ck_assert_int_eq(jint(doc, "discarded"), 0);
    HAS_MESSAGE("had no saved answers");
    ck_assert_int_eq(AUDITED("discard", c), 1);
}
END_TEST

/* ------------------------------------------------------ who may not --- */

START_TEST(another_agency_and_services_reach_no_draft)
{
    char id[24], gone[64];
    long long c = runaway_case(id);
    snprintf(gone, sizeof(gone), "case %lld not found", c);
    answer_two(id);
    /* through the program: the case does not exist for agency B */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "screen", "resume", id, NULL), 1);
    HAS(r.err, gone);
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "screen", "step", id,
                            "offer_not_as_promised=yes", "--instrument", "youth_quick", NULL),
                     1);
    HAS(r.err, gone);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "screen", "discard", id, NULL), 1);
    HAS(r.err, gone);
    ck_assert_int_ne(tl_run(&r, db, cfg, TL_AS, "a_svc", "screen", "resume", id, NULL), 0);
    ck_assert_str_eq(r.out, "");

    /* by SQL: no grant on the table, and the functions find no case of another agency */
    REFUSED_AS("b_worker", "permission denied for table screening_drafts",
               "SELECT count(*) FROM trafficking.screening_drafts");
    REFUSED_AS("a_worker", "permission denied for table screening_drafts",
               "SELECT count(*) FROM trafficking.screening_drafts");
    REFUSED_AS("a_worker", "permission denied for table screening_drafts",
               "DELETE FROM trafficking.screening_drafts");
    REFUSED_AS("b_worker", gone, "SELECT * FROM trafficking.screening_draft_of_v1(%lld, NULL)", c);
    REFUSED_AS("b_worker", gone, "SELECT * FROM trafficking.screening_drafts_v1(%lld)", c);
    REFUSED_AS("b_worker", gone,
               "SELECT trafficking.screening_draft_save_v1(%lld, 'youth_quick', 2,"
               " '{\"exchanged_sex\": \"yes\"}')",
               c);
    REFUSED_AS("b_worker", gone, "SELECT trafficking.screening_draft_discard_v1(%lld, NULL)", c);
    REFUSED_AS("a_svc", "permission denied for function screening_draft_of_v1",
               "SELECT * FROM trafficking.screening_draft_of_v1(%lld, NULL)", c);
    REFUSED_AS("a_svc", "permission denied for function screening_draft_save_v1",
               "SELECT trafficking.screening_draft_save_v1(%lld, 'youth_quick', 2, '{}')", c);
    REFUSED_AS("a_svc", "permission denied for table screening_drafts",
               "SELECT count(*) FROM trafficking.screening_drafts");
    /* a person of the agency writes only items of a live instrument, as text */
    REFUSED_AS("a_worker",
               "instrument youth_quick has no item \"nosuch\", or its answer is no short text",
               "SELECT trafficking.screening_draft_save_v1(%lld, 'youth_quick', 2,"
               " '{\"nosuch\": \"yes\"}')",
               c);
    REFUSED_AS("a_worker", "instrument forged version 1 is not in the live configuration",
               "SELECT trafficking.screening_draft_save_v1(%lld, 'forged', 1, '{}')", c);
    /* the draft is as a_worker left it */
    ck_assert_str_eq(db_text("SELECT answers::text FROM trafficking.screening_drafts"
                             " WHERE case_id = %lld",
                             c),
                     "{\"could_not_leave\": \"no\", \"offer_not_as_promised\": \"no\"}");
    ck_assert_int_eq(AUDITED("update", c), 1);
    ck_assert_int_eq(AUDITED("read", c), 0);
}
END_TEST

/* ----------------------------------------------------------- the tick --- */

/* A case of agency B with a draft, through B's caseworker; returns the case id. */
static long long b_case_with_draft(void)
{
    long long c;
    char id[24];
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "b_worker", "--json", "person", "add", "--given", "Al",
                         "--age-estimate", "16", NULL) == 0,
                  "%s", r.err);
    parse_doc();
    snprintf(id, sizeof(id), "%lld", jint(doc, "person"));
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "b_worker", "--json", "case", "new", "--title", "B's",
                         "--person", id, "--state", "NV", NULL) == 0,
                  "%s", r.err);
    parse_doc();
    c = jint(doc, "case");
    snprintf(id, sizeof(id), "%lld", c);
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "b_worker", "screen", "step", id,
                         "offer_not_as_promised=no", "--instrument", "youth_quick", NULL) == 0,
                  "%s", r.err);
    return c;
}

START_TEST(tick_purges_drafts_untouched_for_30_days_of_its_own_agency_only)
{
    char id[24];
    long long old = runaway_case(id), fresh, b = b_case_with_draft();
    answer_two(id);
    fresh = runaway_case(id);
    answer_two(id);
    /* as the clock would leave them: B's and one of A's a month old, A's other 29 days */
    db_exec("UPDATE trafficking.screening_drafts SET saved_at = now() - interval '31 days'"
            " WHERE case_id IN (%lld, %lld);"
            " UPDATE trafficking.screening_drafts SET saved_at = now() - interval '29 days'"
            " WHERE case_id = %lld",
            old, b, fresh);
    /* a caseworker does not purge */
    REFUSED_AS("a_worker",
               "purging old screening drafts needs the role service or admin; you are caseworker",
               "SELECT trafficking.screening_drafts_purge_v1()");

    RUN_OK(TL_AS, "a_svc", "tick");
    HAS(r.out, "purged 1 screening draft(s) untouched for 30 days");
    ck_assert_int_eq(DRAFTS(old), 0);
    ck_assert_int_eq(DRAFTS(fresh), 1);
    ck_assert_int_eq(DRAFTS(b), 1); /* agency B's is B's service's to purge */
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log l JOIN casehost.agencies a"
                              " ON a.id = l.agency_id WHERE l.action = 'purge'"
                              " AND l.object_type = 'screening_draft' AND a.name = 'A'"),
                     1);
    /* the next tick finds nothing, and says and audits nothing */
    RUN_OK(TL_AS, "a_svc", "tick");
    ck_assert_ptr_null(strstr(r.out, "screening draft"));
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log WHERE action = 'purge'"
                              " AND object_type = 'screening_draft'"),
                     1);
    RUN_OK(TL_AS, "b_svc", "tick");
    HAS(r.out, "purged 1 screening draft(s)");
    ck_assert_int_eq(DRAFTS(b), 0);
    ck_assert_int_eq(DRAFTS(fresh), 1);
}
END_TEST

static Suite *screening_drafts_suite(void)
{
    Suite *s = suite_create("screening_drafts");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, step_with_answers_saves_a_draft_that_resume_takes_up_in_a_new_session);
    tcase_add_test(
        tc, wrong_last_answer_is_not_saved_and_resume_without_a_draft_starts_at_the_first_question);
    tcase_add_test(tc, case_page_offers_to_resume_with_the_count_of_answers_saved);
    tcase_add_test(tc, storing_the_screening_from_the_review_deletes_the_draft);
    tcase_add_test(tc, declining_the_screening_deletes_the_draft);
    tcase_add_test(tc, discard_throws_the_draft_away_and_resume_starts_again);
    tcase_add_test(tc, another_agency_and_services_reach_no_draft);
    tcase_add_test(tc, tick_purges_drafts_untouched_for_30_days_of_its_own_agency_only);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(screening_drafts_suite())
