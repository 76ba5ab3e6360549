/*
 * check_screening.c: the trafficking plugin's screenings end to end against a
 * real PostgreSQL: triggers that suggest a screening with a due time, `screen
 * due`, scoring outcomes as shown and as stored, stop on disclosure, skip
 * logic, immutability and superseding, declines, bad input (nothing written),
 * rollback with the case change, agency separation and the audit of reads.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024];
static json_t *doc; /* the last RUN_JSON output */

/* A fresh database with agencies A and B, and the trafficking plugin configured. */
#include "testcli.h"

static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    tl_seed_agencies(db, cfg);
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

/* The value of a one-row, one-column query as the superuser (no row-level security). */
static long long db_value(const char *sql)
{
    PGconn *c = tl_connect(db);
    long long v = tl_value(c, sql);
    PQfinish(c);
    return v;
}

/* The text of a one-row, one-column query as the superuser; "NULL" for null. Static storage. */
static const char *db_text(const char *sql)
{
    static char buf[4096];
    PGconn *c = tl_connect(db);
    PGresult *res = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %d rows: %s",
                  sql, PQntuples(res), PQresultErrorMessage(res));
    snprintf(buf, sizeof(buf), "%s", PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    return buf;
}

/* Formats a query and returns db_text() of it. */
static const char *db_textf(const char *fmt, long long id)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), fmt, id);
    return db_text(sql);
}

static PGconn *as_app(const char *user)
{
    return tl_as_app(db, user);
}

/* Rows of the screening tables, to prove a failure wrote nothing. */
struct counts {
    long long screenings, answers, history, audit;
};

static struct counts count_rows(void)
{
    struct counts n;
    n.screenings = db_value("SELECT count(*) FROM trafficking.screenings");
    n.answers = db_value("SELECT count(*) FROM trafficking.answers");
    n.history = db_value("SELECT count(*) FROM trafficking.screening_history");
    n.audit = db_value("SELECT count(*) FROM casehost.audit_log WHERE object_type = 'screening'");
    return n;
}

static void assert_same_counts(struct counts before, const char *what)
{
    struct counts now = count_rows();
    ck_assert_msg(now.screenings == before.screenings && now.answers == before.answers &&
                      now.history == before.history && now.audit == before.audit,
                  "%s wrote rows: screenings %lld->%lld, answers %lld->%lld, history %lld->%lld, "
                  "audit %lld->%lld",
                  what, before.screenings, now.screenings, before.answers, now.answers,
                  before.history, now.history, before.audit, now.audit);
}

/* Adds a person as a_worker with the given age option ("" for unknown age); returns its id. */
static long long add_person(const char *opt, const char *value)
{
    if (opt[0] == '\0')
        RUN_JSON("person", "add", "--given", "Jo");
    else
        RUN_JSON("person", "add", "--given", "Jo", opt, value);
    return jint(doc, "person");
}

static const char *const youth_all_no[] = {"offer_not_as_promised=no", "could_not_leave=no",
                                           "id_money_phone_held=no", "exchanged_sex=no"};

/* ------------------------------------------------------------- triggers --- */

START_TEST(runaway_return_suggests_one_quick_screen_due_in_24h_and_again_per_return)
{
    char pid[24];
    snprintf(pid, sizeof(pid), "%lld", add_person("--age-estimate", "15"));
    RUN_JSON("case", "new", "--title", "Missing from placement", "--person", pid, "--state", "CA",
             "--runaway-start", tl_hours_ago(30));
    ck_assert_int_eq(jint(doc, "case"), 1);
    /* a start alone is not a return: nothing yet */
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 0);

    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--runaway-return", tl_hours_ago(2));
    HAS(r.out, "screening suggested: youth_quick");
    ck_assert_ptr_null(strstr(r.out, "overdue"));
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 1);
    ck_assert_str_eq(db_text("SELECT instrument_id || '/' || state || '/' || trigger "
                             "FROM trafficking.screenings WHERE case_id = 1"),
                     "youth_quick/suggested/runaway_return");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings WHERE case_id = 1 "
                              "AND abs(extract(epoch FROM due_at - now()) - 22 * 3600) < 600"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screening_history "
                              "WHERE to_state = 'suggested'"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log "
                              "WHERE action = 'suggest' AND object_type = 'screening'"),
                     1);

    /* a field no trigger reads: no second suggestion, no message */
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--title", "Back at placement");
    ck_assert_ptr_null(strstr(r.out, "screening suggested"));
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--title", "Back at placement again");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screening_history"), 1);

    RUN_JSON("screen", "due");
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "due")), 1);
    {
        json_t *d = json_array_get(json_object_get(doc, "due"), 0);
        ck_assert_int_eq(jint(d, "screening"), 1);
        ck_assert_int_eq(jint(d, "case"), 1);
        ck_assert_str_eq(jstr(d, "instrument"), "youth_quick");
        ck_assert_str_eq(jstr(d, "trigger"), "runaway_return");
        ck_assert(json_is_false(json_object_get(d, "overdue")));
    }

    /* completing it fulfils the suggestion (no --instrument: the suggestion decides) */
    RUN_JSON("screen", "start", "1", youth_all_no[0], youth_all_no[1], youth_all_no[2],
             youth_all_no[3]);
    ck_assert_int_eq(jint(doc, "screening"), 1);
    ck_assert_str_eq(jstr(doc, "instrument"), "youth_quick");
    ck_assert_str_eq(jstr(doc, "state"), "completed");
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.screenings WHERE id = 1"), "completed");
    RUN_JSON("screen", "due");
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "due")), 0);

    /* with nothing open, an unrelated update must still not suggest again */
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--title", "Stable again");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 1);

    /* a new return is a new episode: a new screening is due */
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--runaway-return", tl_hours_ago(1));
    HAS(r.out, "screening suggested: youth_quick");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings "
                              "WHERE case_id = 1 AND instrument_id = 'youth_quick'"),
                     2);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings "
                              "WHERE state = 'suggested' AND id <> 1"),
                     1);
}
END_TEST

START_TEST(minor_with_child_welfare_history_gets_the_staff_observation_checklist)
{
    char pid[24];
    snprintf(pid, sizeof(pid), "%lld", add_person("--age-estimate", "15"));
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Known to CPS", "--person", pid,
           "--cw-history");
    HAS(r.out, "screening suggested: staff_observation");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 1);
    ck_assert_str_eq(db_text("SELECT instrument_id || '/' || state || '/' || trigger "
                             "FROM trafficking.screenings"),
                     "staff_observation/suggested/minor_system_history");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings "
                              "WHERE abs(extract(epoch FROM due_at - now()) - 72 * 3600) < 600"),
                     1);
}
END_TEST

START_TEST(adult_with_recruitment_flag_gets_the_adult_screen_and_unflagged_adult_gets_none)
{
    char pid[24];
    snprintf(pid, sizeof(pid), "%lld", add_person("--dob", "1990-01-01"));
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Flagged adult", "--person", pid, "--flags",
           "recruitment");
    HAS(r.out, "screening suggested: adult");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Plain adult", "--person", pid);
    ck_assert_ptr_null(strstr(r.out, "screening suggested"));
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 1);
    ck_assert_str_eq(db_text("SELECT case_id || '/' || instrument_id || '/' || trigger "
                             "FROM trafficking.screenings"),
                     "1/adult/adult_indicators");
    /* an adult returning from a runaway episode is past the youth screen's ages (24) */
    RUN_OK(TL_AS, "a_worker", "case", "update", "2", "--runaway-start", tl_hours_ago(30),
           "--runaway-return", tl_hours_ago(2));
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings WHERE case_id = 2"), 0);
}
END_TEST

START_TEST(overdue_screening_is_listed_first_and_closed_cases_are_not_listed)
{
    char pid[24];
    snprintf(pid, sizeof(pid), "%lld", add_person("--age-estimate", "15"));
    for (int i = 0; i < 3; i++)
        RUN_OK(TL_AS, "a_worker", "case", "new", "--title", i == 2 ? "closing" : "returned",
               "--person", pid, "--runaway-start", tl_hours_ago(30), "--runaway-return",
               tl_hours_ago(2));
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings "
                              "WHERE state = 'suggested'"),
                     3);
    {
        PGconn *su = tl_connect(db);
        PGresult *res = PQexec(su, "UPDATE trafficking.screenings SET due_at = now() - "
                                   "interval '2 hours' WHERE case_id = 2");
        ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(su);
    }
    RUN_OK(TL_AS, "a_worker", "case", "close", "3", "--reason", "moved out of state");

    RUN_JSON("screen", "due");
    {
        json_t *due = json_object_get(doc, "due");
        ck_assert_uint_eq(json_array_size(due), 2);
        ck_assert_int_eq(jint(json_array_get(due, 0), "case"), 2);
        ck_assert(json_is_true(json_object_get(json_array_get(due, 0), "overdue")));
        ck_assert_int_eq(jint(json_array_get(due, 1), "case"), 1);
        ck_assert(json_is_false(json_object_get(json_array_get(due, 1), "overdue")));
    }
    /* a narrower window keeps only what is due within it */
    RUN_JSON("screen", "due", "--hours", "1");
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "due")), 1);
    ck_assert_int_eq(jint(json_array_get(json_object_get(doc, "due"), 0), "case"), 2);
    /* --limit keeps the soonest due and says that more are due */
    RUN_JSON("screen", "due", "--limit", "1");
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "due")), 1);
    ck_assert_int_eq(jint(json_array_get(json_object_get(doc, "due"), 0), "case"), 2);
    RUN_OK(TL_AS, "a_worker", "screen", "due", "--limit", "1");
    HAS(r.out, "More screenings are due than the 1 shown (the soonest first)");
    RUN_OK(TL_AS, "a_worker", "screen", "due", "--limit", "2");
    ck_assert_ptr_null(strstr(r.out, "More screenings are due"));
    /* the case section shows the overdue flag too */
    RUN_JSON("case", "show", "2");
    ck_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(doc, "screenings"), 0), "overdue")));
}
END_TEST

START_TEST(unknown_age_screens_on_the_minor_pathway)
{
    char pid[24];
    snprintf(pid, sizeof(pid), "%lld", add_person("", NULL));
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "No age known", "--person", pid,
           "--runaway-start", tl_hours_ago(30), "--runaway-return", tl_hours_ago(2));
    /* a possible minor returning from a runaway episode is a minor for the trigger too */
    HAS(r.out, "screening suggested: youth_quick");
    RUN_JSON("screen", "start", "1", youth_all_no[0], youth_all_no[1], youth_all_no[2],
             youth_all_no[3]);
    ck_assert_str_eq(jstr(doc, "pathway"), "minor_unknown_age");
    HAS_MESSAGE("Minor pathway (minor_unknown_age): treat as a child for reporting");
    ck_assert_str_eq(db_text("SELECT pathway || '/' || coalesce(age_at_screening::text, 'null') "
                             "FROM trafficking.screenings"),
                     "minor_unknown_age/null");
}
END_TEST

/* -------------------------------------------------------------- scoring --- */

static const struct {
    const char *name, *instrument;
    const char *answers[7];
    const char *result; /* also the band: none of these is weighted */
    int score;
    const char *stored; /* answers rows in item order */
} outcomes[] = {
    {"youth_quick one yes",
     "youth_quick",
     {"offer_not_as_promised=yes", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=no"},
     "positive",
     1,
     "yes,no,no,no,not_asked,not_asked"},
    {"youth_quick all no",
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=no"},
     "negative",
     0,
     "no,no,no,no,not_asked,not_asked"},
    {"youth_quick declined key item",
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=declined"},
     "possible",
     0,
     "no,no,no,declined,not_asked,not_asked"},
    {"youth_quick unknown counts as open, not no",
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=?", "id_money_phone_held=no",
      "exchanged_sex=no"},
     "possible",
     0,
     "no,unknown,no,no,not_asked,not_asked"},
    {"youth_quick too few answers",
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no"},
     "incomplete",
     0,
     "no,no,not_asked,not_asked,not_asked,not_asked"},
    {"youth_quick made to work (version 2 asks about labour)",
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=no", "made_to_work=yes", "someone_making_you_now=no"},
     "positive",
     1,
     "no,no,no,no,yes,no"},
    {"youth_health one yes",
     "youth_health",
     {"ran_away=yes", "substance_use=no", "sti_or_pregnancy=no", "older_partner_in_control=no",
      "hurt_no_care=no", "exchanged_anything=no"},
     "negative",
     1,
     "yes,no,no,no,no,no"},
    {"youth_health two yes",
     "youth_health",
     {"ran_away=yes", "substance_use=yes", "sti_or_pregnancy=no", "older_partner_in_control=no",
      "hurt_no_care=no", "exchanged_anything=no"},
     "positive",
     2,
     "yes,yes,no,no,no,no"},
    {"youth_health key item alone",
     "youth_health",
     {"ran_away=no", "substance_use=no", "sti_or_pregnancy=no", "older_partner_in_control=no",
      "hurt_no_care=no", "exchanged_anything=y"},
     "positive",
     1,
     "no,no,no,no,no,yes"},
};

START_TEST(scoring_outcome_is_shown_and_stored_per_instrument)
{
    const char *const *a = outcomes[_i].answers;
    long long sid;
    char want[64];
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Clinic visit", "--person", "1");
    tl_run(&r, db, cfg, TL_AS, "a_worker", "--json", "screen", "start", "1", "--instrument",
           outcomes[_i].instrument, a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL);
    ck_assert_msg(r.status == 0, "%s: exit %d: %s", outcomes[_i].name, r.status, r.err);
    parse_doc();
    sid = jint(doc, "screening");
    ck_assert_msg(strcmp(jstr(doc, "result"), outcomes[_i].result) == 0, "%s: result %s, want %s",
                  outcomes[_i].name, jstr(doc, "result"), outcomes[_i].result);
    ck_assert_int_eq(jint(doc, "score"), outcomes[_i].score);
    ck_assert_str_eq(jstr(doc, "state"), "completed");
    ck_assert_str_eq(jstr(doc, "pathway"), "minor");

    snprintf(want, sizeof(want), "%s/%s/%d/%s/completed", outcomes[_i].result, outcomes[_i].result,
             outcomes[_i].score, outcomes[_i].instrument);
    ck_assert_str_eq(db_textf("SELECT result || '/' || band || '/' || score || '/' || "
                              "instrument_id || '/' || state FROM trafficking.screenings "
                              "WHERE id = %lld",
                              sid),
                     want);
    ck_assert_str_eq(db_textf("SELECT string_agg(answer, ',' ORDER BY item_index) "
                              "FROM trafficking.answers WHERE screening_id = %lld",
                              sid),
                     outcomes[_i].stored);
    /* the definition it was scored against is kept, hash and all: the highest version, 2 */
    ck_assert_str_eq(db_textf("SELECT (i.hash = s.instrument_hash AND s.instrument_version = 2)"
                              "::text FROM trafficking.screenings s JOIN trafficking.instruments "
                              "i ON i.id = s.instrument_id AND i.version = s.instrument_version "
                              "WHERE s.id = %lld",
                              sid),
                     "true");
    if (strcmp(outcomes[_i].result, "positive") == 0)
        HAS_MESSAGE("assess further");
    if (strcmp(outcomes[_i].result, "incomplete") == 0)
        HAS_MESSAGE("Declined and unknown are not 'no'");
}
END_TEST

/*
 * `screen step` asks one question at a time as a step form, the skip logic
 * and stop-on-disclosure applied, stores no screening (only the draft of
 * the answers so far: check_screening_drafts.c), and at the end offers the
 * `screen start` that stores exactly the answers given; run, it does.
 */
START_TEST(screen_step_walks_a_screening_one_question_at_a_time)
{
    const char *argv[64];
    char answers[40][96];
    int n_answers = 0, steps = 0;
    json_t *form, *action;
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Steps", "--person", "1");
    for (;;) {
        const char *a[64] = {"screen", "step", "1", "--instrument", "youth_quick"};
        int k = 5;
        for (int i = 0; i < n_answers; i++)
            a[k++] = answers[i];
        a[k] = NULL;
        ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "--json", a[0], a[1], a[2], a[3], a[4],
                             a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15],
                             a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25],
                             a[26], a[27], a[28], a[29], NULL) == 0,
                      "%s", r.err);
        parse_doc();
        form = json_object_get(doc, "step");
        if (form == NULL)
            break;
        ck_assert_str_eq(jstr(form, "type"), "form");
        json_t *q = json_array_get(json_object_get(form, "questions"), 0);
        ck_assert_ptr_nonnull(q);
        /* the form's command is this step's, so its answers come back with it */
        ck_assert_int_eq(json_array_size(json_object_get(form, "argv")), 5 + n_answers);
        /* yes to the first item (which shows the follow-up) and to the disclosure; else no */
        snprintf(answers[n_answers++], sizeof(answers[0]), "%s=%s", jstr(q, "id"),
                 strcmp(jstr(q, "id"), "someone_making_you_now") == 0 ||
                         strcmp(jstr(q, "id"), "offer_not_as_promised") == 0
                     ? "yes"
                     : "no");
        ck_assert_int_lt(++steps, 30);
    }
    ck_assert_int_gt(steps, 2);
    HAS_ALERT("danger", "Disclosure at item 'someone_making_you_now'");
    ck_assert_str_eq(db_text("SELECT count(*) FROM trafficking.screenings WHERE state NOT IN "
                             "('suggested', 'in_progress')"),
                     "0");
    action = json_array_get(json_object_get(doc, "actions"), 0);
    ck_assert_ptr_nonnull(action);
    ck_assert_int_eq(json_array_size(json_object_get(action, "argv")), 5 + n_answers);
    for (size_t i = 0; i < json_array_size(json_object_get(action, "argv")); i++)
        argv[i] = json_string_value(json_array_get(json_object_get(action, "argv"), i));
    ck_assert_str_eq(argv[1], "start");
    argv[5 + n_answers] = NULL;
    {
        const char **a = argv;
        RUN_OK(TL_AS, "a_worker", "--json", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
               a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20],
               a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28], a[29]);
    }
    parse_doc();
    ck_assert_str_eq(jstr(doc, "state"), "stopped");
    HAS_ALERT("danger", "Do not ask further questions");
}
END_TEST

START_TEST(disclosure_stops_the_screening_and_is_positive)
{
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Disclosure", "--person", "1");
    RUN_JSON("screen", "start", "1", "--instrument", "youth_quick", "offer_not_as_promised=yes",
             "could_not_leave=no", "id_money_phone_held=no", "exchanged_sex=no",
             "someone_making_you_now=yes");
    ck_assert_str_eq(jstr(doc, "state"), "stopped");
    ck_assert_str_eq(jstr(doc, "result"), "positive");
    HAS_ALERT("danger", "Disclosure at item 'someone_making_you_now': the screening stopped there");
    HAS_ALERT("danger", "Do not ask further questions");
    HAS_ALERT("danger", "forensic interview");
    ck_assert_str_eq(db_text("SELECT state || '/' || result || '/' || (outcome->>'stopped_at') "
                             "FROM trafficking.screenings"),
                     "stopped/positive/someone_making_you_now");
    ck_assert_str_eq(db_text("SELECT answer FROM trafficking.answers "
                             "WHERE item_id = 'someone_making_you_now'"),
                     "yes");
    ck_assert_str_eq(db_text("SELECT to_state FROM trafficking.screening_history"), "stopped");
}
END_TEST

/*
 * The outcome keeps what the concern answers establish, by the classes of the
 * version used: an exchange and being made to work are evidence, a false
 * offer is fraud, and the disclosure after them is about both.
 */
START_TEST(scoring_outcome_stores_the_evidence_of_its_answers)
{
    add_person("--age-estimate", "16");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Evidence", "--person", "1");
    RUN_JSON("screen", "start", "1", "--instrument", "youth_quick", "offer_not_as_promised=yes",
             "could_not_leave=no", "id_money_phone_held=no", "exchanged_sex=yes",
             "made_to_work=yes", "someone_making_you_now=yes");
    ck_assert_str_eq(jstr(doc, "state"), "stopped");
    ck_assert_str_eq(db_text("SELECT outcome->'evidence' FROM trafficking.screenings"),
                     "{\"ffc\": true, \"classes\": [\"commercial_sex\", \"fraud\", \"coercion\", "
                     "\"labour_exploitation\", \"disclosure\"], \"risk_count\": 0, "
                     "\"disclosure_kind\": \"both\"}");
    /* domain scores stay, for reporting */
    ck_assert_str_eq(db_text("SELECT outcome->'domain_scores'->>'labour' "
                             "FROM trafficking.screenings"),
                     "1");

    /* risk signs only: counted, no ffc, no disclosure */
    add_person("--age-estimate", "14");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Risk", "--person", "2");
    RUN_JSON("screen", "start", "2", "--instrument", "youth_health", "ran_away=yes",
             "substance_use=yes", "sti_or_pregnancy=no", "older_partner_in_control=yes",
             "hurt_no_care=no", "exchanged_anything=no");
    ck_assert_str_eq(db_text("SELECT outcome->'evidence' FROM trafficking.screenings "
                             "WHERE case_id = 2"),
                     "{\"ffc\": false, \"classes\": [\"risk\"], \"risk_count\": 3, "
                     "\"disclosure_kind\": null}");
}
END_TEST

START_TEST(items_after_a_disclosure_are_stored_as_not_asked)
{
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Told staff", "--person", "1");
    /* the checklist's first item is the disclosure; later answers must not be kept */
    RUN_JSON("screen", "start", "1", "--instrument", "staff_observation", "told_staff=yes",
             "someone_speaks_for_them=yes", "times_ran_away=3", "missing_school=no");
    ck_assert_str_eq(jstr(doc, "state"), "stopped");
    ck_assert_str_eq(jstr(doc, "result"), "positive");
    HAS_ALERT("danger", "Disclosure at item 'told_staff'");
    HAS_MESSAGE("item 'someone_speaks_for_them' was after the disclosure; its answer is not "
                "recorded");
    HAS_MESSAGE("item 'times_ran_away' was after the disclosure");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.answers"), 22);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.answers "
                              "WHERE answer <> 'not_asked'"),
                     1);
    ck_assert_str_eq(db_text("SELECT answer FROM trafficking.answers WHERE item_index = 0"), "yes");
    ck_assert_str_eq(db_text("SELECT answer || coalesce(value::text, '') FROM trafficking.answers "
                             "WHERE item_id = 'times_ran_away'"),
                     "not_asked");
}
END_TEST

START_TEST(disclosure_item_without_an_earlier_concern_is_skipped_by_its_condition)
{
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Skip", "--person", "1");
    RUN_JSON("screen", "start", "1", "--instrument", "youth_quick", youth_all_no[0],
             youth_all_no[1], youth_all_no[2], youth_all_no[3], "someone_making_you_now=yes");
    HAS_MESSAGE("item 'someone_making_you_now' was skipped by its condition; its answer is not "
                "recorded");
    /* hidden, so its yes neither stops nor scores */
    ck_assert_str_eq(jstr(doc, "state"), "completed");
    ck_assert_str_eq(jstr(doc, "result"), "negative");
    ck_assert_str_eq(db_text("SELECT answer FROM trafficking.answers "
                             "WHERE item_id = 'someone_making_you_now'"),
                     "not_asked");
}
END_TEST

/* --------------------------------------------------- records and changes --- */

START_TEST(completed_screening_is_immutable_and_corrected_by_superseding)
{
    PGconn *a;
    PGresult *res;
    struct counts before;
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Recorded", "--person", "1");
    RUN_JSON("screen", "start", "1", "--instrument", "youth_quick", youth_all_no[0],
             youth_all_no[1], youth_all_no[2], youth_all_no[3]);
    ck_assert_int_eq(jint(doc, "screening"), 1);

    /* even the owner, who may write the table, meets the trigger (people may not write it) */
    a = tl_connect(db);
    res = PQexec(a, "UPDATE trafficking.screenings SET result = 'positive' WHERE id = 1");
    ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "a completed screening was changed");
    HAS(PQresultErrorMessage(res), "a finished screening cannot change");
    PQclear(res);
    res = PQexec(a, "UPDATE trafficking.answers SET answer = 'yes' WHERE screening_id = 1");
    ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "an answer was changed");
    PQclear(res);
    res = PQexec(a, "DELETE FROM trafficking.screenings WHERE id = 1");
    ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "a screening was deleted");
    PQclear(res);
    PQfinish(a);
    ck_assert_str_eq(db_text("SELECT result FROM trafficking.screenings WHERE id = 1"), "negative");

    /* the correction is a new screening that names the old one */
    RUN_JSON("screen", "start", "1", "--instrument", "youth_quick", "--supersedes", "1",
             "offer_not_as_promised=yes", "could_not_leave=no", "id_money_phone_held=no",
             "exchanged_sex=no");
    ck_assert_int_eq(jint(doc, "screening"), 2);
    ck_assert_str_eq(jstr(doc, "result"), "positive");
    ck_assert_str_eq(db_text("SELECT superseded_by || '/' || result FROM trafficking.screenings "
                             "WHERE id = 1"),
                     "2/negative");
    ck_assert_str_eq(db_text("SELECT supersedes || '/' || result FROM trafficking.screenings "
                             "WHERE id = 2"),
                     "1/positive");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screening_history "
                              "WHERE screening_id = 1 AND detail = 'superseded by screening 2'"),
                     1);

    RUN_JSON("screen", "list", "1");
    {
        json_t *list = json_object_get(doc, "screenings");
        ck_assert_uint_eq(json_array_size(list), 2);
        ck_assert_int_eq(jint(json_array_get(list, 0), "id"), 1);
        ck_assert_int_eq(jint(json_array_get(list, 0), "superseded_by"), 2);
        ck_assert_int_eq(jint(json_array_get(list, 1), "id"), 2);
        ck_assert(json_is_null(json_object_get(json_array_get(list, 1), "superseded_by")));
    }

    before = count_rows();
    RUN_FAILS(1, "screen", "start", "1", "--instrument", "youth_quick", "--supersedes", "1",
              youth_all_no[0], youth_all_no[1], youth_all_no[2], youth_all_no[3]);
    HAS(r.err, "screening 1 was already superseded by screening 2");
    assert_same_counts(before, "superseding twice");
}
END_TEST

START_TEST(decline_records_the_reason_and_needs_one)
{
    struct counts before;
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Not today", "--person", "1",
           "--runaway-start", tl_hours_ago(30), "--runaway-return", tl_hours_ago(2));
    before = count_rows();
    RUN_FAILS(2, "screen", "decline", "1");
    HAS(r.err, "missing --reason");
    assert_same_counts(before, "decline without a reason");

    RUN_JSON("screen", "decline", "1", "--reason", "does not want to talk today");
    ck_assert_str_eq(jstr(doc, "state"), "declined");
    HAS_MESSAGE("Services never depend on answering");
    /* the open suggestion is the one declined */
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 1);
    ck_assert_str_eq(db_text("SELECT state || '/' || decline_reason || '/' || "
                             "coalesce(result, 'no result') FROM trafficking.screenings"),
                     "declined/does not want to talk today/no result");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.answers"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screening_history "
                              "WHERE from_state = 'suggested' AND to_state = 'declined'"),
                     1);
    /* a decline is a finished record too */
    {
        PGconn *a = tl_connect(db);
        PGresult *res = PQexec(a, "UPDATE trafficking.screenings SET decline_reason = 'x'");
        ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "a declined screening changed");
        HAS(PQresultErrorMessage(res), "a finished screening cannot change");
        PQclear(res);
        PQfinish(a);
    }
}
END_TEST

/*
 * A note changes no fact a trigger can read, so, as with an update of an
 * unrelated field, it must not suggest again a screening that was already
 * done (here: the adult screen of a flagged adult, which listens to notes).
 */
START_TEST(note_on_a_screened_adult_case_does_not_suggest_the_screen_again)
{
    add_person("--dob", "1990-01-01");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Flagged", "--person", "1", "--flags",
           "recruitment");
    RUN_OK(TL_AS, "a_worker", "note", "add", "1", "Offered the screen; will do it now.");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 1);
    RUN_JSON("screen", "start", "1", "work_differs=no", "debt_cannot_repay=no",
             "not_free_to_leave=no", "papers_kept=no", "threats=no", "pay_withheld=no",
             "contact_controlled=no", "sex_for_value=no");
    ck_assert_str_eq(jstr(doc, "instrument"), "adult");
    ck_assert_str_eq(jstr(doc, "state"), "completed");
    RUN_OK(TL_AS, "a_worker", "note", "add", "1", "Called back about housing.");
    ck_assert_msg(strstr(r.out, "screening suggested") == NULL, "a note suggested again:\n%s",
                  r.out);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 1);
}
END_TEST

/* ------------------------------------------------------------ bad input --- */

static const struct {
    const char *args[10];
    int status;
    const char *err;
} bad_inputs[] = {
    {{"screen", "start", "1", "--instrument", "youth_quick", "nosuch=yes"}, 2, "no item 'nosuch'"},
    {{"screen", "start", "1", "--instrument", "youth_quick", "offer_not_as_promised=no",
      "could_not_leave=maybe"},
     2,
     "item 'could_not_leave': 'maybe' is not an answer"},
    {{"screen", "start", "1", "--instrument", "youth_quick"}, 2, "without a terminal"},
    {{"screen", "start", "1", "offer_not_as_promised=no"}, 1, "--instrument"},
    {{"screen", "start", "2", "--instrument", "youth_quick", "offer_not_as_promised=no"},
     2,
     "is for ages 12 to 24"},
    {{"screen", "start", "1", "--instrument", "nosuch", "a=no"}, 1, "no instrument 'nosuch'"},
    {{"screen", "start", "99", "--instrument", "youth_quick", "offer_not_as_promised=no"},
     1,
     "case 99 not found"},
    {{"screen", "start", "1", "--instrument", "youth_quick", "--supersedes", "99",
      "offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no"},
     1,
     "screening 99 not found"},
    {{"screen", "start", "1", "--instrument", "youth_quick", "--colour", "red"},
     2,
     "unknown option '--colour'"},
    {{"screen", "start", "abc", "--instrument", "youth_quick", "x=no"},
     2,
     "case: 'abc' is not an id"},
    {{"screen", "show", "99"}, 1, "screening 99 not found"},
    {{"screen", "due", "--hours", "soon"},
     2,
     "--hours: 'soon' is not a whole number from 0 to 8760"},
    {{"screen", "frobnicate"}, 2, "unknown subcommand 'frobnicate'"},
};

START_TEST(bad_screen_input_says_what_and_writes_nothing)
{
    const char *const *a = bad_inputs[_i].args;
    struct counts before;
    add_person("--age-estimate", "15");
    add_person("--dob", "1990-01-01");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Minor", "--person", "1");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Adult", "--person", "2");
    before = count_rows();
    tl_run(&r, db, cfg, TL_AS, "a_worker", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
           a[9], NULL);
    ck_assert_msg(r.status == bad_inputs[_i].status, "%s %s %s: exit %d, want %d: %s", a[0], a[1],
                  a[2], r.status, bad_inputs[_i].status, r.err);
    ck_assert_msg(strstr(r.err, bad_inputs[_i].err) != NULL, "want '%s' in: %s", bad_inputs[_i].err,
                  r.err);
    ck_assert_str_eq(r.out, "");
    assert_same_counts(before, a[1]);
}
END_TEST

START_TEST(answers_file_takes_comments_and_reports_file_and_line)
{
    char good[1024], bad[1024], want[1100];
    struct counts before;
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "From a file", "--person", "1");
    snprintf(good, sizeof(good), "%s",
             tl_write_file("answers_good.txt", "# youth quick screen, asked in private\n"
                                               "offer_not_as_promised = no   # said no\n"
                                               "\n"
                                               "  could_not_leave=no\n"
                                               "id_money_phone_held = yes\n"
                                               "exchanged_sex = n\r\n"));
    snprintf(bad, sizeof(bad), "%s",
             tl_write_file("answers_bad.txt", "# two good lines, then one without '='\n"
                                              "offer_not_as_promised = no\n"
                                              "could_not_leave no\n"
                                              "id_money_phone_held = no\n"));
    before = count_rows();
    RUN_FAILS(2, "screen", "start", "1", "--instrument", "youth_quick", "--answers", bad);
    snprintf(want, sizeof(want), "%s:3: expected ITEM = ANSWER", bad);
    HAS(r.err, want);
    assert_same_counts(before, "a bad answers file");

    snprintf(bad, sizeof(bad), "%s",
             tl_write_file("answers_bad2.txt", "offer_not_as_promised = no\n"
                                               "# a comment line\n"
                                               "could_not_leave = perhaps\n"));
    RUN_FAILS(2, "screen", "start", "1", "--instrument", "youth_quick", "--answers", bad);
    snprintf(want, sizeof(want), "%s:3: item 'could_not_leave': 'perhaps'", bad);
    HAS(r.err, want);
    assert_same_counts(before, "a bad answer in a file");

    RUN_FAILS(2, "screen", "start", "1", "--instrument", "youth_quick", "--answers",
              "/nonexistent/answers.txt");
    HAS(r.err, "cannot read answers file '/nonexistent/answers.txt'");
    assert_same_counts(before, "a missing answers file");

    RUN_JSON("screen", "start", "1", "--instrument", "youth_quick", "--answers", good);
    ck_assert_str_eq(jstr(doc, "result"), "positive");
    ck_assert_str_eq(db_text("SELECT string_agg(answer, ',' ORDER BY item_index) "
                             "FROM trafficking.answers"),
                     "no,no,yes,no,not_asked,not_asked");
}
END_TEST

/* A file of len bytes of text (NULs too) in the test's temp dir; its path (static storage). */
static const char *write_bytes(const char *name, const char *text, size_t len)
{
    static char path[1024];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%ld_%s", tl_env("CASEHOST_TEST_TMP"), (long)getpid(), name);
    f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/*
 * A comment line of 5,000 bytes stays one comment: its tail, which reads
 * like an answer, is no answer (a 1,023-byte reader once made it one).
 */
START_TEST(answers_file_long_comment_line_records_no_answer_from_its_tail)
{
    static const char head[] = "offer_not_as_promised = no\r\n"
                               "could_not_leave = no\r\n"
                               "id_money_phone_held = no\r\n";
    static const char tail[] = "exchanged_sex=yes";
    size_t n = 5000, at = strlen(head);
    char *text = malloc(at + n + 2), path[1024];
    ck_assert(text != NULL);
    memcpy(text, head, at);
    text[at] = '#';
    memset(text + at + 1, ' ', n - 1 - strlen(tail));
    memcpy(text + at + n - strlen(tail), tail, strlen(tail));
    memcpy(text + at + n, "\r\n", 2);
    snprintf(path, sizeof(path), "%s", write_bytes("answers_long.txt", text, at + n + 2));
    free(text);
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Long comment", "--person", "1");
    RUN_JSON("screen", "start", "1", "--instrument", "youth_quick", "--answers", path);
    ck_assert_str_ne(jstr(doc, "result"), "positive");
    ck_assert_str_eq(db_text("SELECT string_agg(answer, ',' ORDER BY item_index) "
                             "FROM trafficking.answers"),
                     "no,no,no,not_asked,not_asked,not_asked");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.answers WHERE answer = 'yes'"), 0);
}
END_TEST

/* A NUL byte refuses the whole file, naming the line; nothing is written. */
START_TEST(answers_file_with_a_nul_byte_is_refused_naming_the_line)
{
    static const char text[] = "offer_not_as_promised = no\n"
                               "could_not_leave = no\0 # what follows the NUL\n"
                               "exchanged_sex = yes\n";
    char path[1024], want[1200];
    struct counts before;
    snprintf(path, sizeof(path), "%s", write_bytes("answers_nul.txt", text, sizeof(text) - 1));
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "NUL", "--person", "1");
    before = count_rows();
    RUN_FAILS(2, "screen", "start", "1", "--instrument", "youth_quick", "--answers", path);
    snprintf(want, sizeof(want), "answers file %s:2: contains a NUL byte (byte 21 of the line)",
             path);
    HAS(r.err, want);
    assert_same_counts(before, "an answers file with a NUL byte");
}
END_TEST

/* ------------------------------------------------ transactions and access --- */

START_TEST(case_refused_by_another_plugin_leaves_no_screening)
{
    char plugins[4200];
    snprintf(plugins, sizeof(plugins), "%s, ", tl_testplug("fail_title = \"BOOM\";"));
    snprintf(plugins + strlen(plugins), sizeof(plugins) - strlen(plugins), "%s", tl_trafficking());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(plugins));
    add_person("--age-estimate", "15");
    RUN_FAILS(1, "case", "new", "--title", "BOOM", "--person", "1", "--runaway-start",
              tl_hours_ago(30), "--runaway-return", tl_hours_ago(2), "--cw-history");
    HAS(r.err, "refusing case titled 'BOOM'");
    HAS(r.err, "nothing was saved");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.cases"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.case_history"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screening_history"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log "
                              "WHERE object_type IN ('case', 'screening')"),
                     0);
    /* the same case under another title goes through, with both suggestions */
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "fine", "--person", "1", "--runaway-start",
           tl_hours_ago(30), "--runaway-return", tl_hours_ago(2), "--cw-history");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 2);
}
END_TEST

START_TEST(suggestion_already_written_is_rolled_back_when_a_later_one_fails)
{
    /*
     * The test plugin refuses before this plugin's hook runs, so here the
     * failure comes after the first suggestion was written: a database
     * trigger (test scaffolding) refuses the second one.
     */
    PGconn *su = tl_connect(db);
    PGresult *res = PQexec(
        su, "CREATE FUNCTION public.refuse_observation() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'observation refused by the test'; END $$; "
            "CREATE TRIGGER refuse_observation BEFORE INSERT ON trafficking.screenings "
            "FOR EACH ROW WHEN (NEW.instrument_id = 'staff_observation') "
            "EXECUTE FUNCTION public.refuse_observation()");
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(su);
    add_person("--age-estimate", "15");
    RUN_FAILS(1, "case", "new", "--title", "Both triggers", "--person", "1", "--runaway-start",
              tl_hours_ago(30), "--runaway-return", tl_hours_ago(2), "--cw-history");
    HAS(r.err, "observation refused by the test");
    HAS(r.err, "nothing was saved");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.cases"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screening_history"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log "
                              "WHERE object_type = 'screening'"),
                     0);
}
END_TEST

START_TEST(other_agency_cannot_see_screenings)
{
    PGconn *a, *b;
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "A's case", "--person", "1",
           "--runaway-start", tl_hours_ago(30), "--runaway-return", tl_hours_ago(2));
    RUN_JSON("screen", "start", "1", "offer_not_as_promised=yes", youth_all_no[1], youth_all_no[2],
             youth_all_no[3]);
    ck_assert_int_eq(jint(doc, "screening"), 1);

    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "screen", "show", "1", NULL), 1);
    HAS(r.err, "screening 1 not found");
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "screen", "start", "1", "--instrument",
                            "youth_quick", "offer_not_as_promised=no", NULL),
                     1);
    HAS(r.err, "case 1 not found");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "--json", "screen", "due", NULL), 0);
    parse_doc();
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "due")), 0);

    b = as_app("b_worker");
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.screenings"), 0);
    /* answers are read only through the audited function, which hides A's screening */
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.answers"), -1);
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.answers_of_v1(1)"), -1);
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.screening_history"), 0);
    PQfinish(b);
    /* the rows are there for A: the zero above is the database hiding them */
    a = as_app("a_worker");
    ck_assert_int_eq(tl_value(a, "SELECT count(*) FROM trafficking.screenings"), 1);
    ck_assert_int_eq(tl_value(a, "SELECT count(*) FROM trafficking.answers_of_v1(1)"), 6);
    ck_assert_int_ge(tl_value(a, "SELECT count(*) FROM trafficking.screening_history"), 2);
    PQfinish(a);
    {
        /*
         * Not even a role above row-level security can file an answer of A's
         * screening under B: an answer's agency is its screening's (one key).
         */
        PGconn *su = tl_connect(db);
        PGresult *res = PQexec(su, "INSERT INTO trafficking.answers (screening_id, agency_id,"
                                   " item_index, item_id, answer)"
                                   " SELECT 1, id, 99, 'x', 'yes' FROM casehost.agencies"
                                   " WHERE name = 'B'");
        ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
        ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23503");
        PQclear(res);
        PQfinish(su);
    }
}
END_TEST

START_TEST(case_show_lists_screenings_and_screen_show_is_audited)
{
    add_person("--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Shown", "--person", "1");
    RUN_JSON("screen", "start", "1", "--instrument", "youth_quick", "offer_not_as_promised=yes",
             youth_all_no[1], youth_all_no[2], youth_all_no[3]);
    RUN_JSON("case", "show", "1");
    {
        json_t *list = json_object_get(doc, "screenings"), *s = json_array_get(list, 0);
        ck_assert_msg(json_is_array(list), "no screenings array in:\n%s", r.out);
        ck_assert_uint_eq(json_array_size(list), 1);
        ck_assert_str_eq(jstr(s, "instrument"), "youth_quick");
        ck_assert_int_eq(jint(s, "version"), 2);
        ck_assert_str_eq(jstr(s, "state"), "completed");
        ck_assert_str_eq(jstr(s, "result"), "positive");
    }

    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log "
                              "WHERE action = 'read' AND object_type = 'screening'"),
                     0);
    RUN_JSON("screen", "show", "1");
    ck_assert_int_eq(jint(json_object_get(doc, "screening"), "id"), 1);
    ck_assert_str_eq(jstr(json_object_get(doc, "screening"), "result"), "positive");
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "answers")), 6);
    ck_assert_uint_ge(json_array_size(json_object_get(doc, "history")), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log a "
                              "JOIN casehost.users u ON u.id = a.actor_id "
                              "WHERE a.action = 'read' AND a.object_type = 'screening' "
                              "AND a.object_id = 1 AND u.name = 'a_worker'"),
                     1);
}
END_TEST

static Suite *screening_suite(void)
{
    Suite *s = suite_create("screening");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, runaway_return_suggests_one_quick_screen_due_in_24h_and_again_per_return);
    tcase_add_test(tc, minor_with_child_welfare_history_gets_the_staff_observation_checklist);
    tcase_add_test(tc,
                   adult_with_recruitment_flag_gets_the_adult_screen_and_unflagged_adult_gets_none);
    tcase_add_test(tc, overdue_screening_is_listed_first_and_closed_cases_are_not_listed);
    tcase_add_test(tc, unknown_age_screens_on_the_minor_pathway);
    tcase_add_loop_test(tc, scoring_outcome_is_shown_and_stored_per_instrument, 0,
                        (int)(sizeof(outcomes) / sizeof(outcomes[0])));
    tcase_add_test(tc, disclosure_stops_the_screening_and_is_positive);
    tcase_add_test(tc, screen_step_walks_a_screening_one_question_at_a_time);
    tcase_add_test(tc, scoring_outcome_stores_the_evidence_of_its_answers);
    tcase_add_test(tc, items_after_a_disclosure_are_stored_as_not_asked);
    tcase_add_test(tc, disclosure_item_without_an_earlier_concern_is_skipped_by_its_condition);
    tcase_add_test(tc, completed_screening_is_immutable_and_corrected_by_superseding);
    tcase_add_test(tc, decline_records_the_reason_and_needs_one);
    tcase_add_test(tc, note_on_a_screened_adult_case_does_not_suggest_the_screen_again);
    tcase_add_loop_test(tc, bad_screen_input_says_what_and_writes_nothing, 0,
                        (int)(sizeof(bad_inputs) / sizeof(bad_inputs[0])));
    tcase_add_test(tc, answers_file_takes_comments_and_reports_file_and_line);
    tcase_add_test(tc, answers_file_long_comment_line_records_no_answer_from_its_tail);
    tcase_add_test(tc, answers_file_with_a_nul_byte_is_refused_naming_the_line);
    tcase_add_test(tc, case_refused_by_another_plugin_leaves_no_screening);
    tcase_add_test(tc, suggestion_already_written_is_rolled_back_when_a_later_one_fails);
    tcase_add_test(tc, other_agency_cannot_see_screenings);
    tcase_add_test(tc, case_show_lists_screenings_and_screen_show_is_audited);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(screening_suite())
