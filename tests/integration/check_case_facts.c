/*
 * check_case_facts.c: one path from a case to its facts, end to end through
 * the real casehost binary and PostgreSQL. Screening and routing read a case
 * through trafficking.case_facts_v1 alone and agree on what they read; a
 * case update routes the case again exactly when a changed field feeds a
 * fact the live rules read (derived from the rules, so a new rule reading
 * runaway_episodes makes runaway_start count).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "db/casefacts.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1200], dir[1024];
static json_t *doc;

#include "testcli.h"

/*
 * A fresh database (the template has the shipped configuration live), the
 * agencies, and a host configuration folder of our own whose trafficking
 * folder is a copy of the shipped one: what a test deploys from. The
 * plugin reads the live generation, never these files directly.
 */
static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    tl_seed_agencies(db, NULL);
    snprintf(cfg, sizeof(cfg), "%s", tl_candidate_config(dir, sizeof(dir), "case_facts"));
}

static void teardown(void)
{
    char cmd[1200];
    (void)has_message; /* testcli.h's; these tests read the database instead */
    json_decref(doc);
    doc = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static long long value(const char *fmt, long long id)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), fmt, id);
    return tl_db_value(db, sql);
}

/* Decisions stored for case c (as the superuser: all of them). */
static long long decisions(long long c)
{
    return value("SELECT count(*) FROM trafficking.decisions WHERE case_id = %lld", c);
}

/* person add (opt value, or no age when opt is "") and case new in CA; the case id. */
static long long new_case(const char *opt, const char *val, const char *flags)
{
    char pid[24];
    if (opt[0] == '\0')
        RUN_JSON("person", "add", "--given", "Jo");
    else
        RUN_JSON("person", "add", "--given", "Jo", opt, val);
    snprintf(pid, sizeof(pid), "%lld", jint(doc, "person"));
    if (flags != NULL)
        RUN_JSON("case", "new", "--title", "Facts", "--person", pid, "--state", "CA", "--flags",
                 flags);
    else
        RUN_JSON("case", "new", "--title", "Facts", "--person", pid, "--state", "CA");
    return jint(doc, "case");
}

/* ----------------------------------------------- what routes a case again --- */

/* Adds rule (libconfig text of one group) as the last of the rules list in file path. */
static void add_rule(const char *path, const char *rule)
{
    FILE *f = fopen(path, "r+");
    char *text, *end;
    long n;
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = calloc(1, (size_t)n + 1);
    ck_assert(text != NULL && fread(text, 1, (size_t)n, f) == (size_t)n);
    end = strrchr(text, ')'); /* the list's closing parenthesis */
    ck_assert_ptr_nonnull(end);
    fseek(f, end - text, SEEK_SET);
    fprintf(f, ",\n%s%s", rule, end);
    fclose(f);
    free(text);
}

START_TEST(runaway_start_routes_a_case_again_when_a_rule_reads_it)
{
    char cid[24], path[1200];
    long long c;
    /* A rule that reads runaway_episodes (fed by runaway_start alone). Its fixtures would
     * need the rule too: this candidate has none. */
    snprintf(path, sizeof(path), "%s/trafficking/routing.cfg", dir);
    add_rule(path, "  { name = \"minor_runaway_cw\"; priority = 90;\n"
                   "    when = \"minor and runaway_episodes > 0\";\n"
                   "    refer = [\"kind:child_welfare\"]; basis = \"mandatory_report\";\n"
                   "    urgency = \"24h\"; due_hours = 24; stop = false; }\n");
    snprintf(path, sizeof(path), "%s/trafficking/routing-tests.cfg", dir);
    ck_assert_int_eq(unlink(path), 0);
    RUN_OK("config", "deploy", "--note", "a rule reads runaway_episodes");

    c = new_case("--age-estimate", "15", NULL);
    ck_assert_int_eq(decisions(c), 0); /* no rule matched at creation */
    snprintf(cid, sizeof(cid), "%lld", c);
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--runaway-start", "2026-01-05 10:00");
    ck_assert_int_eq(value("SELECT count(*) FROM trafficking.decisions WHERE case_id = %lld"
                           " AND cause = 'case_updated'"
                           " AND rules @> '[{\"name\": \"minor_runaway_cw\", \"matched\": true}]'",
                           c),
                     1);
    ck_assert_int_eq(value("SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
                           " AND destination_id = 'cw_ca' AND rule = 'minor_runaway_cw'"
                           " AND state = 'queued'",
                           c),
                     1);
    /* a field no rule reads still routes nothing again */
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--title", "Facts, renamed");
    ck_assert_int_eq(decisions(c), 1);
}
END_TEST

/*
 * Under the shipped rules no rule reads history facts, so those fields route
 * nothing; a runaway start feeds `missing`, which missing_child_report reads.
 */
START_TEST(fields_no_rule_reads_route_nothing_again_and_a_flag_does)
{
    char cid[24];
    long long c = new_case("--dob", "1990-01-01", "imminent_danger");
    ck_assert_int_eq(decisions(c), 1); /* imminent danger, at creation */
    snprintf(cid, sizeof(cid), "%lld", c);
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--cw-history");
    ck_assert_int_eq(decisions(c), 1);
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--runaway-start", "2026-01-05 10:00");
    ck_assert_int_eq(decisions(c), 2);
    /* flags feed control_flag, which rules read */
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--flags", "imminent_danger,control");
    ck_assert_int_eq(decisions(c), 3);
    /* so does the state (destinations serve states) */
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--state", "NV");
    ck_assert_int_eq(decisions(c), 4);
}
END_TEST

/* ------------------------------------------------ one reading per event --- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char calls_sql[] = "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions"
                                " WHERE schemaname = '%s' AND funcname = '%s'";

/*
 * Calls of schema.fn counted in this database. A backend reports its
 * function counts as it exits, together: a command has left once want calls
 * of one of its functions (wait_schema.wait_fn) are counted.
 */
static long long calls_after(const char *wait_schema, const char *wait_fn, long long want,
                             const char *schema, const char *fn)
{
    for (int i = 0; i < 200 && tl_db_valuef(db, calls_sql, wait_schema, wait_fn) < want; i++)
        sleep_ms(50);
    ck_assert_int_eq(tl_db_valuef(db, calls_sql, wait_schema, wait_fn), want);
    sleep_ms(200); /* the rest of that report, had it come in two parts */
    return tl_db_valuef(db, calls_sql, schema, fn);
}

/*
 * A case event reads the case's facts once for the triggers and routing
 * together, and not at all when neither can act on it: a new case that
 * routes reads them once; a title change (no trigger or rule reads it)
 * reads nothing; a state the rules read routes the case again from one
 * reading, and a flag that also suggests a screening from two (the
 * screening is written between).
 */
START_TEST(a_case_event_reads_the_case_facts_once)
{
    char cid[24];
    long long c, before;
    tl_db_execf(db, "DO $$BEGIN EXECUTE format('ALTER DATABASE %%I SET track_functions = ''all''',"
                    " current_database()); END$$");
    before = tl_db_valuef(db, calls_sql, "trafficking", "case_facts_v1");
    c = new_case("--dob", "1990-01-01", "imminent_danger");
    ck_assert_int_eq(decisions(c), 1); /* imminent danger: routed at creation */
    ck_assert_int_eq(calls_after("casehost", "case_new", 1, "trafficking", "case_facts_v1"),
                     before + 1);
    snprintf(cid, sizeof(cid), "%lld", c);
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--title", "Facts, renamed");
    ck_assert_int_eq(calls_after("casehost", "case_update", 1, "trafficking", "case_facts_v1"),
                     before + 1);
    ck_assert_int_eq(decisions(c), 1);
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--state", "NV");
    ck_assert_int_eq(decisions(c), 2);
    ck_assert_int_eq(calls_after("casehost", "case_update", 2, "trafficking", "case_facts_v1"),
                     before + 2);
    /* a trigger that suggests a screening has written since: routing reads again */
    ck_assert_int_eq(value("SELECT count(*) FROM trafficking.screenings WHERE case_id = %lld", c),
                     0);
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--flags", "imminent_danger,control");
    ck_assert_int_eq(value("SELECT count(*) FROM trafficking.screenings WHERE case_id = %lld", c),
                     1);
    ck_assert_int_eq(decisions(c), 3);
    ck_assert_int_eq(calls_after("casehost", "case_update", 3, "trafficking", "case_facts_v1"),
                     before + 4);
}
END_TEST

/* ---------------------------------------- screening and routing agree --- */

#define MAX_ANSWERS 8

static const struct {
    const char *name;
    const char *opt, *val; /* age option; "" for unknown age */
    const char *instrument;
    const char *answers[MAX_ANSWERS];
    const char *pathway;
    int age; /* -1 unknown */
} screenings[] = {
    {"adult from a date of birth",
     "--dob",
     "1990-01-01",
     "adult",
     {"work_differs=no", "debt_cannot_repay=no", "not_free_to_leave=no", "papers_kept=yes",
      "threats=yes", "pay_withheld=no", "contact_controlled=no", "sex_for_value=no"},
     "adult",
     -2},
    {"estimated 15",
     "--age-estimate",
     "15",
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=yes"},
     "minor",
     15},
    {"unknown age",
     "",
     NULL,
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=no"},
     "minor_unknown_age",
     -1},
};

/*
 * The screening (read at its start) and the routing decision it caused (read
 * after it was stored) saw one case: the same age and pathway, and the
 * routing input stored is exactly what case_facts_v1 gives now.
 */
/* The facts of case id as user reads them through case_facts_v1 ("" for SQL NULL). */
static const char *facts_as(const char *user, long long id)
{
    static char text[16384];
    char cid[24];
    const char *params[1] = {cid};
    PGconn *c = tl_as_app(db, user);
    PGresult *res;
    snprintf(cid, sizeof(cid), "%lld", id);
    res = PQexecParams(c, "SELECT trafficking.case_facts_v1($1)::text", 1, NULL, params, NULL, NULL,
                       0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    snprintf(text, sizeof(text), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    return text;
}

/* worker adds a person of the given age (estimated) and links them to case c; returns c. */
static long long link_new_person(const char *worker, long long c, const char *age)
{
    char cid[24], person[24];
    RUN_OK(TL_AS, worker, "--json", "person", "add", "--given", "Jo", "--age-estimate", age);
    parse_doc();
    snprintf(cid, sizeof(cid), "%lld", c);
    snprintf(person, sizeof(person), "%lld", jint(doc, "person"));
    RUN_OK(TL_AS, worker, "case", "update", cid, "--person", person);
    return c;
}

/*
 * A case opened before anyone is linked to it reads as nobody's: no age, no
 * consents, no safe contact, no declines, nothing in the ledger; every key
 * there, in the order routing and stored decisions have always had them.
 * Linked to a person, the same case reads the person's age and safe
 * contact. Another agency's caseworker reads nothing at all.
 */
START_TEST(facts_of_a_case_before_and_after_a_person_is_linked)
{
    static const char *const keys[] = {
        "case_id",   "closed",       "age",           "age_known", "age_estimated",
        "age_high",  "age_disputed", "exploitation",  "missing",   "agency_kind",
        "gender",    "state",        "county",        "flags",     "runaway_episodes",
        "screening", "indicators",   "domain_scores", "consents",  "safe_contact",
        "now",       "declines",     "ledger",        "episode",   "screenings"};
    long long c;
    const char *text, *pos;
    json_t *f;

    RUN_JSON("case", "new", "--title", "Intake", "--state", "CA");
    c = jint(doc, "case");
    text = facts_as("a_worker", c);
    pos = text;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        char quoted[64];
        snprintf(quoted, sizeof(quoted), "\"%s\" :", keys[k]);
        pos = strstr(pos, quoted);
        ck_assert_msg(pos != NULL, "key %s missing or out of order in:\n%s", keys[k], text);
    }
    f = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert(json_is_null(json_object_get(f, "age")));
    ck_assert(json_is_false(json_object_get(f, "age_known")));
    ck_assert(json_is_null(json_object_get(f, "exploitation")));
    ck_assert_uint_eq(json_array_size(json_object_get(f, "consents")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(f, "declines")), 0);
    ck_assert(json_is_false(json_object_get(json_object_get(f, "safe_contact"), "do_not_contact")));
    ck_assert_uint_eq(
        json_array_size(json_object_get(json_object_get(f, "safe_contact"), "safe_channels")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(f, "state")), "CA");
    json_decref(f);

    link_new_person("a_worker", c, "15");
    f = json_loads(facts_as("a_worker", c), 0, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(json_integer_value(json_object_get(f, "age")), 15);
    ck_assert(json_is_true(json_object_get(f, "age_estimated")));
    ck_assert(json_is_false(json_object_get(f, "age_known")));
    json_decref(f);

    ck_assert_str_eq(facts_as("b_worker", c), "");
}
END_TEST

/* A case of worker's agency with a person of the given age linked, made by worker. */
static long long case_with_person(const char *worker, const char *age)
{
    RUN_OK(TL_AS, worker, "--json", "case", "new", "--title", "Intake", "--state", "CA");
    parse_doc();
    return link_new_person(worker, jint(doc, "case"), age);
}

/* The age case_facts_v1 reads for case id in c's transaction; -1 when it reads nothing. */
static long long age_read(PGconn *c, long long id)
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT coalesce((trafficking.case_facts_v1(%lld)->>'age')::int, -1)", id);
    return tl_value(c, sql);
}

/*
 * case_facts_v1 keeps one plan per statement for the session (029), and the
 * web server's pooled connection serves one person after another, each in a
 * transaction set to their role. Through one connection, the two agencies'
 * caseworkers in turn, many times over (well past the calls after which a
 * plan is kept): each reads their own case's person, and the other's case
 * reads as nothing.
 */
START_TEST(one_connection_serving_two_agencies_in_turn_reads_each_its_own)
{
    long long ca = case_with_person("a_worker", "15"), cb = case_with_person("b_worker", "12");
    char role_a[128], role_b[128];
    PGconn *c = tl_connect(db);
    snprintf(role_a, sizeof(role_a), "%s", tl_role(db, "a_worker"));
    snprintf(role_b, sizeof(role_b), "%s", tl_role(db, "b_worker"));
    for (int i = 0; i < 12; i++) {
        int a_turn = i % 2 == 0;
        const char *role[1] = {a_turn ? role_a : role_b};
        tl_sql_ok(c, "BEGIN", 0, NULL);
        tl_sql_ok(c, "SELECT pg_catalog.set_config('role', $1, true)", 1, role);
        ck_assert_int_eq(age_read(c, a_turn ? ca : cb), a_turn ? 15 : 12);
        ck_assert_int_eq(age_read(c, a_turn ? cb : ca), -1);
        tl_sql_ok(c, "COMMIT", 0, NULL);
    }
    PQfinish(c);
}
END_TEST

/*
 * The hot functions keep one plan per statement for the session
 * (trafficking 020 and 029, core 019): planned afresh on every call, the
 * person's part of the case facts alone cost more to plan than to run. A
 * later CREATE OR REPLACE of one of them without SET plan_cache_mode would
 * drop the setting silently.
 */
START_TEST(hot_functions_keep_one_plan_per_session)
{
    static const char *const hot[] = {
        "trafficking.case_facts_v1(bigint)", "trafficking.decision_store_body(jsonb)",
        "trafficking.outbox_claim_v2(bigint,integer)",
        "trafficking.ledger_entries(bigint[],bigint)", "casehost.case_flags_check_v1(text[])"};
    for (size_t i = 0; i < sizeof(hot) / sizeof(hot[0]); i++) {
        char sql[300];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM pg_proc WHERE oid = '%s'::regprocedure"
                 " AND proconfig @> ARRAY['plan_cache_mode=force_generic_plan']",
                 hot[i]);
        ck_assert_msg(tl_db_value(db, sql) == 1, "%s plans each call afresh", hot[i]);
    }
}
END_TEST

START_TEST(screening_and_routing_read_a_case_alike)
{
    const char *a[MAX_ANSWERS];
    char cid[24], err[512];
    long long c = new_case(screenings[_i].opt, screenings[_i].val, NULL), sid;
    json_t *stored, *now, *again;
    struct routing_input in;
    struct casefacts cf;
    PGconn *w;
    PGresult *res;
    const char *params[1] = {cid};

    for (int k = 0; k < MAX_ANSWERS; k++)
        a[k] = screenings[_i].answers[k];
    snprintf(cid, sizeof(cid), "%lld", c);
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "--json", "screen", "start", cid,
                         "--instrument", screenings[_i].instrument, a[0], a[1], a[2], a[3], a[4],
                         a[5], a[6], a[7], NULL) == 0,
                  "%s: exit %d\n%s%s", screenings[_i].name, r.status, r.out, r.err);
    parse_doc();
    sid = jint(doc, "screening");
    ck_assert_str_eq(jstr(doc, "pathway"), screenings[_i].pathway);

    /* what routing stored, read back as a routing input */
    stored = json_loads(tl_db_text(db, "SELECT d.input::text FROM trafficking.decisions d"
                                       " WHERE d.cause = 'screening_completed'"
                                       " ORDER BY d.id DESC LIMIT 1"),
                        0, NULL);
    ck_assert_ptr_nonnull(stored);
    ck_assert_int_eq(routing_input_from_json(stored, &in, err, sizeof(err)), 0);
    ck_assert_int_eq(in.case_id, c);
    ck_assert_int_eq(in.screening.id, sid);
    ck_assert_str_eq(routing_input_pathway(&in), screenings[_i].pathway);
    /* the screening's own record says the same */
    {
        char sql[512], want[64];
        snprintf(sql, sizeof(sql),
                 "SELECT pathway || ' ' || coalesce(age_at_screening::text, '-')"
                 " FROM trafficking.screenings WHERE id = %lld",
                 sid);
        if (in.age >= 0)
            snprintf(want, sizeof(want), "%s %d", routing_input_pathway(&in), in.age);
        else
            snprintf(want, sizeof(want), "%s -", routing_input_pathway(&in));
        ck_assert_str_eq(tl_db_text(db, sql), want);
    }
    if (screenings[_i].age >= -1)
        ck_assert_int_eq(in.age, screenings[_i].age);

    /* and it is the one reading, as a caseworker makes it now */
    w = tl_as_app(db, "a_worker");
    res = PQexecParams(w, "SELECT trafficking.case_facts_v1($1::bigint)", 1, NULL, params, NULL,
                       NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    now = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    ck_assert_ptr_nonnull(now);
    PQclear(res);
    PQfinish(w);
    routing_input_release(&in);
    ck_assert_int_eq(casefacts_from_json(now, &cf, &in, err, sizeof(err)), 0);
    ck_assert_str_eq(cf.age.pathway, screenings[_i].pathway);
    again = routing_input_to_json(&in);
    /* Read after the decision: the ledger holds the referrals the decision made, and
     * the clock has moved on. */
    json_object_del(again, "ledger");
    json_object_del(stored, "ledger");
    json_object_del(again, "now");
    json_object_del(stored, "now");
    ck_assert_msg(json_equal(again, stored), "stored input and case_facts_v1 differ:\n%s\n%s",
                  json_dumps(stored, JSON_COMPACT), json_dumps(again, JSON_COMPACT));
    json_decref(again);
    json_decref(now);
    json_decref(stored);
    routing_input_release(&in);
}
END_TEST

static Suite *case_facts_suite(void)
{
    Suite *s = suite_create("case_facts");
    TCase *tc = tcase_create("routing_again");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, runaway_start_routes_a_case_again_when_a_rule_reads_it);
    tcase_add_test(tc, fields_no_rule_reads_route_nothing_again_and_a_flag_does);
    tcase_add_test(tc, a_case_event_reads_the_case_facts_once);
    tcase_add_test(tc, facts_of_a_case_before_and_after_a_person_is_linked);
    tcase_add_test(tc, one_connection_serving_two_agencies_in_turn_reads_each_its_own);
    tcase_add_test(tc, hot_functions_keep_one_plan_per_session);
    suite_add_tcase(s, tc);
    tc = tcase_create("one_reading");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, screening_and_routing_read_a_case_alike, 0,
                        (int)(sizeof(screenings) / sizeof(screenings[0])));
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(case_facts_suite())
