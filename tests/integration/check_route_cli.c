/*
 * check_route_cli.c: a routing decision as people see it, through the real
 * casehost binary: imminent danger is the first thing read ("CALL 911 NOW"
 * first in `screen start`, `route explain` and `route what-if`, and the first
 * alert in --json) while every duty still owed is made in the same decision;
 * `route explain` opens with a summary a caseworker can act on, the trace
 * only with --trace; and `route what-if` / `routing test` run with no
 * database at all, on the configuration on disk.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024], root[1024];
static json_t *doc; /* the last RUN_JSON output */

#include "testcli.h"

/* A server that does not exist: nothing can connect to it. */
#define NO_SERVER "host=/nonexistent dbname=x"

/* What the shipped imminent_danger rule tells a person first. */
#define CALL_911 "CALL 911 NOW: someone is in danger. Then make sure the reports below are made."

static const struct tl_cli cli = {db, cfg, &r, &doc};

static void setup(void)
{
    tl_cli_setup(&cli, NULL);
    snprintf(root, sizeof(root), "%s", tl_env("CASEHOST_TEST_ROOT"));
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

/* The text of a one-row, one-column query as the database owner; static storage. */
#define db_text(...) tl_db_textf(db, __VA_ARGS__)

/* ------------------------------------------------------ people and cases --- */

/* A 15-year-old (estimated) in CA whose case is flagged imminent_danger; returns the case. */
static long long minor_in_danger(void)
{
    long long c = tl_case_new(&cli, tl_person_add(&cli, "--age-estimate", "15"), "Danger",
                              (const char *const[]){"--flags", "imminent_danger", NULL});
    /* routing runs as the case is created: the person reads the instruction at once */
    HAS_ALERT("danger", CALL_911);
    return c;
}

/* The youth quick screen with an exchange of sex for something needed (commercial sex). */
#define EXCHANGED_SEX                                                                              \
    "offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no", "exchanged_sex=yes"

/* The lines of text, without the rules of '!' that frame a danger alert. */
static const char *first_words(const char *text)
{
    while (*text == '!' || *text == '\n')
        text++;
    return text;
}

/* ---------------------------------------------------------- screen start --- */

START_TEST(screen_start_on_a_case_in_imminent_danger_says_call_911_first_and_owes_every_report)
{
    char cid[24];
    long long c = minor_in_danger();
    snprintf(cid, sizeof(cid), "%lld", c);
    /* text: the instruction is the first line a person reads */
    RUN_OK(TL_AS, "a_worker", "screen", "start", cid, "--instrument", "youth_quick", EXCHANGED_SEX);
    ck_assert_msg(strncmp(r.out, "!!!!", 4) == 0, "no danger frame first:\n%s", r.out);
    ck_assert_msg(strncmp(first_words(r.out), "DANGER: " CALL_911 "\n",
                          strlen("DANGER: " CALL_911 "\n")) == 0,
                  "the instruction is not the first line:\n%s", r.out);
    HAS(r.out, "referral to cw_ca (mandatory_report, 24h): queued, due within 24 h");
    HAS(r.out, "referral to le_ca (mandatory_report, 24h): queued, due within 24 h");
    /* the screening's one decision holds the emergency and both 24-hour reports */
    ck_assert_str_eq(
        db_text("SELECT string_agg(x->>'destination' || '/' || (x->>'basis'), ','"
                " ORDER BY n) FROM (SELECT outcome FROM trafficking.decisions"
                " WHERE case_id = %lld AND cause = 'screening_completed') d,"
                " jsonb_array_elements(d.outcome->'referrals') WITH ORDINALITY t(x, n)",
                c),
        "emergency_911/imminent_danger,cw_ca/mandatory_report,le_ca/mandatory_report");
    ck_assert_str_eq(db_text("SELECT outcome->'instructions'->>0 FROM trafficking.decisions"
                             " WHERE case_id = %lld AND cause = 'screening_completed'",
                             c),
                     CALL_911);
    /* ... and the referrals table owes them, with their deadlines; 911 only once */
    ck_assert_str_eq(db_text("SELECT string_agg(destination_id || '/' || state || '/' ||"
                             " round(extract(epoch FROM due_at - created_at) / 3600)::int, ','"
                             " ORDER BY destination_id) FROM trafficking.referrals"
                             " WHERE case_id = %lld",
                             c),
                     "cw_ca/queued/24,emergency_911/queued/1,le_ca/queued/24");

    /* --json: the first alert, of severity danger; the referrals as before */
    RUN_JSON("screen", "start", cid, "--instrument", "youth_quick", EXCHANGED_SEX);
    {
        json_t *first = json_array_get(json_object_get(doc, "alerts"), 0);
        ck_assert_msg(first != NULL, "no alerts in:\n%s", r.out);
        ck_assert_str_eq(jstr(first, "severity"), "danger");
        ck_assert_str_eq(jstr(first, "text"), CALL_911);
    }
    HAS_MESSAGE("referral to emergency_911 (imminent_danger, immediate): queued, due within 1 h");
}
END_TEST

/* ------------------------------------------------------------- case show --- */

START_TEST(case_show_of_a_case_in_danger_opens_with_the_instruction_while_it_is_open)
{
    char cid[24];
    long long c = minor_in_danger();
    snprintf(cid, sizeof(cid), "%lld", c);
    /* whoever opens the case later reads it first, in text and as the first JSON alert */
    RUN_OK(TL_AS, "a_worker", "case", "show", cid);
    ck_assert_msg(strncmp(first_words(r.out), "DANGER: " CALL_911 "\n",
                          strlen("DANGER: " CALL_911 "\n")) == 0,
                  "the instruction is not the first line:\n%s", r.out);
    RUN_JSON("case", "show", cid);
    {
        json_t *first = json_array_get(json_object_get(doc, "alerts"), 0);
        ck_assert_msg(first != NULL, "no alerts in:\n%s", r.out);
        ck_assert_str_eq(jstr(first, "severity"), "danger");
        ck_assert_str_eq(jstr(first, "text"), CALL_911);
    }
    /* a closed case no longer calls for it */
    RUN_OK(TL_AS, "a_worker", "case", "close", cid, "--reason", "safe and housed");
    RUN_OK(TL_AS, "a_worker", "case", "show", cid);
    ck_assert_msg(strstr(r.out, "CALL 911") == NULL, "a closed case still says:\n%s", r.out);
}
END_TEST

/* ------------------------------------------------------------ route explain --- */

START_TEST(route_explain_opens_with_what_to_do_and_the_trace_only_with_trace)
{
    char cid[24];
    long long c = minor_in_danger();
    snprintf(cid, sizeof(cid), "%lld", c);
    RUN_OK(TL_AS, "a_worker", "screen", "start", cid, "--instrument", "youth_quick", EXCHANGED_SEX);

    RUN_OK(TL_AS, "a_worker", "route", "explain", cid);
    ck_assert_msg(strncmp(first_words(r.out), "DANGER: " CALL_911 "\n",
                          strlen("DANGER: " CALL_911 "\n")) == 0,
                  "the instruction is not first:\n%s", r.out);
    HAS(r.out, "(screening_completed), ");
    HAS(r.out, " by a_worker, configuration ");
    /* each referral in one line: to whom (id, kind, name), its state, when, why */
    HAS(r.out, "Referrals:\n  emergency_911 (emergency, Emergency services (911)): queued, due ");
    HAS(r.out, "  cw_ca (child_welfare, California child protective services hotline): queued, "
               "due ");
    HAS(r.out, "(a mandatory report: whatever the consent)\n");
    HAS(r.out, "Not sent:\n");
    HAS(r.out, "): wrong jurisdiction: serves NV, case is in CA\n");
    HAS(r.out, "--trace' shows every rule and its conditions");
    /* a caseworker is not given expression trees */
    ck_assert_msg(strstr(r.out, "[10] imminent_danger") == NULL, "a trace without --trace:\n%s",
                  r.out);
    ck_assert_msg(strstr(r.out, "domain_score(") == NULL, "a trace without --trace:\n%s", r.out);

    /* where a report stands now: sent, with its time */
    {
        PGconn *owner = tl_connect(db);
        tl_sql_ok(owner,
                  "UPDATE trafficking.referrals SET state = 'sent', sent_at = now()"
                  " WHERE destination_id = 'cw_ca'",
                  0, NULL);
        PQfinish(owner);
    }
    RUN_OK(TL_AS, "a_worker", "route", "explain", cid);
    HAS(r.out, "  cw_ca (child_welfare, California child protective services hotline): sent 20");

    RUN_OK(TL_AS, "a_worker", "route", "explain", cid, "--trace");
    HAS(r.out, "[10] imminent_danger: MATCHED\n");
    HAS(r.out, "[20] minor_commercial_sex: MATCHED\n");
    HAS(r.out, "true   minor\n");

    RUN_JSON("route", "explain", cid);
    HAS_ALERT("danger", CALL_911);
    {
        json_t *s = json_object_get(doc, "summary");
        ck_assert_uint_eq(json_array_size(json_object_get(s, "referrals")), 3);
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(s, "instructions"), 0)),
                         CALL_911);
        ck_assert_str_eq(jstr(json_array_get(json_object_get(s, "referrals"), 1), "state"), "sent");
        ck_assert_str_eq(json_string_value(json_array_get(
                             json_object_get(json_object_get(doc, "outcome"), "instructions"), 0)),
                         CALL_911);
    }
}
END_TEST

/* ------------------------------------------------- what-if without a database --- */

START_TEST(what_if_and_routing_test_run_with_no_database_at_all)
{
    char input[1200], config[1200], fixtures[1200];
    snprintf(input, sizeof(input), "%s/tests/data/routing/case_adult.cfg", root);
    snprintf(config, sizeof(config), "%s/conf/trafficking", root);
    snprintf(fixtures, sizeof(fixtures), "%s/tests/data/routing/danger-tests.cfg", root);
    ck_assert_msg(tl_run(&r, NO_SERVER, cfg, "route", "what-if", "--input", input, "--config",
                         config, NULL) == 0,
                  "exit %d\n%s%s", r.status, r.out, r.err);
    HAS(r.out, "What-if for case 900 ");
    HAS(r.out,
        "  le_nv (law_enforcement, Nevada law enforcement (human trafficking unit)): queued, "
        "due within 72 h");
    /* without --config: the configuration on disk */
    snprintf(input, sizeof(input), "%s/tests/data/routing/danger_minor.cfg", root);
    ck_assert_msg(
        tl_run(&r, NO_SERVER, cfg, "--json", "route", "what-if", "--input", input, NULL) == 0,
        "exit %d\n%s%s", r.status, r.out, r.err);
    parse_doc();
    HAS_ALERT("danger", CALL_911);
    ck_assert_uint_eq(
        json_array_size(json_object_get(json_object_get(doc, "summary"), "referrals")), 3);
    ck_assert_msg(
        tl_run(&r, NO_SERVER, cfg, "routing", "test", fixtures, "--config", config, NULL) == 0,
        "exit %d\n%s%s", r.status, r.out, r.err);
    HAS(r.out, "all 5 routing fixtures match");
    /* route explain reads the database, and says it cannot */
    ck_assert_int_eq(tl_run(&r, NO_SERVER, cfg, "route", "explain", "1", NULL), 1);
}
END_TEST

/*
 * With a database that answers, what-if still opens no session (a role that
 * is no casehost user may run it) and routes with the files on disk, not the
 * live generation every other command runs.
 */
START_TEST(what_if_with_a_database_reads_the_files_on_disk_and_needs_no_user)
{
    char dir[1100], input[1200];
    const char *host_cfg = tl_candidate_config(dir, sizeof(dir), "disk");
    char path[1200], *text, *at;
    FILE *f;
    snprintf(path, sizeof(path), "%s/trafficking/routing.cfg", dir);
    text = tl_read_file(path);
    at = strstr(text, CALL_911);
    ck_assert_msg(at != NULL, "no instruction in %s", path);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%.*sCALL 911 NOW (from the files on disk)%s", (int)(at - text), text,
            at + strlen(CALL_911));
    fclose(f);
    free(text);
    snprintf(input, sizeof(input), "%s/tests/data/routing/danger_minor.cfg", root);

    /* as the database owner, who is no casehost user */
    ck_assert_msg(tl_run(&r, db, host_cfg, "--json", "route", "what-if", "--input", input, NULL) ==
                      0,
                  "exit %d\n%s%s", r.status, r.out, r.err);
    parse_doc();
    HAS_ALERT("danger", "CALL 911 NOW (from the files on disk)");
    /* the same host runs everything else on the live generation */
    ck_assert_msg(tl_run(&r, db, host_cfg, TL_AS, "a_worker", "--json", "person", "add", "--given",
                         "Jo", "--age-estimate", "15", NULL) == 0,
                  "exit %d\n%s%s", r.status, r.out, r.err);
    ck_assert_msg(tl_run(&r, db, host_cfg, TL_AS, "a_worker", "--json", "case", "new", "--title",
                         "Danger", "--state", "CA", "--flags", "imminent_danger", NULL) == 0,
                  "exit %d\n%s%s", r.status, r.out, r.err);
    parse_doc();
    HAS_ALERT("danger", CALL_911);
}
END_TEST

static Suite *route_cli_suite(void)
{
    Suite *s = suite_create("route_cli");
    TCase *danger = tcase_create("danger_first");
    TCase *nodb = tcase_create("what_if_without_a_database");
    tcase_add_checked_fixture(danger, setup, teardown);
    tcase_set_timeout(danger, 180);
    tcase_add_test(
        danger,
        screen_start_on_a_case_in_imminent_danger_says_call_911_first_and_owes_every_report);
    tcase_add_test(danger, route_explain_opens_with_what_to_do_and_the_trace_only_with_trace);
    tcase_add_test(danger,
                   case_show_of_a_case_in_danger_opens_with_the_instruction_while_it_is_open);
    suite_add_tcase(s, danger);
    tcase_add_checked_fixture(nodb, setup, teardown);
    tcase_set_timeout(nodb, 180);
    tcase_add_test(nodb, what_if_and_routing_test_run_with_no_database_at_all);
    tcase_add_test(nodb, what_if_with_a_database_reads_the_files_on_disk_and_needs_no_user);
    suite_add_tcase(s, nodb);
    return s;
}

CHECK_MAIN(route_cli_suite())
