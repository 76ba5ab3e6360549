/*
 * check_whatif_agrees.c: `route what-if` tells a person what live routing
 * records. On the real database (sql/trafficking/007 and 012) cases are
 * routed live through the real casehost binary: a delivered report closed
 * and then a new event, a rejected one, an undelivered one (and one whose
 * delivery failed), a decline beside a mandatory report and beside a
 * consent-based referral, a new runaway episode, repeat screens that
 * disagree. Then each stored decision's input (the case's facts as live
 * routing read them: trafficking.case_facts_v1) is given to `route what-if`
 * as a case file, and the C ledger verdict it shows (action, reason,
 * referral, decline note per destination) must equal, word for word, what
 * the database recorded in decisions.ledger.
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

/* Every destination the shipped routing reaches in CA, delivered to one spool. */
static void setup(void)
{
    static const char *const dests[] = {"cw_ca",  "le_ca",          "nhth",         "vs_ca",
                                        "fic_ca", "legal_aid_west", "emergency_911"};
    tl_cli_setup(&cli, tl_spool_targets("whatif", dests, sizeof(dests) / sizeof(dests[0])));
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

/* --------------------------------------------------------------- helpers --- */

/* A case in CA for person, with a runaway episode that started hours_ago (0: none). */
static long long add_case(long long person, int hours_ago)
{
    return tl_case_new(&cli, person, "What-if",
                       hours_ago != 0
                           ? (const char *const[]){"--runaway-start", tl_hours_ago(hours_ago),
                                                   "--runaway-return", tl_hours_ago(hours_ago - 2),
                                                   NULL}
                           : NULL);
}

/* A minor's exchange of sex for something of value: cw_ca and le_ca (DOMAIN rule 1). */
static const char *const exchanged_sex[] = {"offer_not_as_promised=no", "could_not_leave=no",
                                            "id_money_phone_held=no", "exchanged_sex=yes", NULL};
/* The same with coercion: a class the first reports did not carry. */
static const char *const exchanged_and_held[] = {"offer_not_as_promised=no", "could_not_leave=yes",
                                                 "id_money_phone_held=no", "exchanged_sex=yes",
                                                 NULL};
/* Nothing of concern: a later screen that disagrees. */
static const char *const nothing[] = {"offer_not_as_promised=no", "could_not_leave=no",
                                      "id_money_phone_held=no", "exchanged_sex=no", NULL};
/* An exchange, then a disclosure: the screening stops (DOMAIN rule 4). */
static const char *const disclosed[] = {"offer_not_as_promised=no",   "could_not_leave=no",
                                        "id_money_phone_held=no",     "exchanged_sex=yes",
                                        "someone_making_you_now=yes", NULL};
/* An adult with papers kept and threats: law enforcement with consent. */
static const char *const adult_coerced[] = {
    "work_differs=no", "debt_cannot_repay=no", "not_free_to_leave=no",  "papers_kept=yes",
    "threats=yes",     "pay_withheld=no",      "contact_controlled=no", NULL};

static long long referral_to(long long c, const char *dest)
{
    return tl_db_valuef(db,
                        "SELECT max(id) FROM trafficking.referrals WHERE case_id = %lld"
                        " AND destination_id = '%s'",
                        c, dest);
}

/* ----------------------------------------------------- the agreement --- */

/* The ledger entry of dest in a (a decisions.ledger list), or NULL. */
static json_t *entry_of(json_t *a, const char *dest)
{
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (strcmp(jstr(e, "destination"), dest) == 0)
            return e;
    }
    return NULL;
}

/*
 * Each stored decision of case c, its input given to `route what-if`: the
 * verdicts it shows equal those the database recorded. Returns how many
 * verdicts were compared; *not_made counts those not made (already
 * reported, declined).
 */
static int what_if_agrees(long long c, int *not_made)
{
    PGconn *conn = tl_connect(db);
    char sql[300], name[64];
    int compared = 0;
    snprintf(sql, sizeof(sql),
             "SELECT id, input::text, ledger::text FROM trafficking.decisions"
             " WHERE case_id = %lld ORDER BY id",
             c);
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    ck_assert_msg(PQntuples(res) > 0, "case %lld has no decision", c);
    for (int row = 0; row < PQntuples(res); row++) {
        const char *decision = PQgetvalue(res, row, 0);
        json_t *stored = json_loads(PQgetvalue(res, row, 2), 0, NULL);
        json_t *input = json_loads(PQgetvalue(res, row, 1), 0, NULL), *shown, *e;
        size_t i;
        ck_assert_ptr_nonnull(stored);
        ck_assert_ptr_nonnull(input);
        /* live routing read the whole picture (012): the input says when it was decided */
        ck_assert_msg(json_is_string(json_object_get(input, "now")),
                      "decision %s: the stored input has no 'now': %s", decision,
                      PQgetvalue(res, row, 1));
        json_decref(input);
        snprintf(name, sizeof(name), "whatif_case%lld_decision%s.json", c, decision);
        RUN_JSON("route", "what-if", "--input", tl_write_file(name, PQgetvalue(res, row, 1)));
        shown = json_object_get(json_object_get(doc, "summary"), "ledger");
        ck_assert_msg(json_is_array(shown), "decision %s: what-if shows no ledger:\n%s", decision,
                      r.out);
        ck_assert_msg(json_array_size(shown) == json_array_size(stored),
                      "decision %s: what-if judged %zu referrals, the database %zu:\n%s\n%s",
                      decision, json_array_size(shown), json_array_size(stored), r.out,
                      PQgetvalue(res, row, 2));
        json_array_foreach(stored, i, e)
        {
            const char *dest = jstr(e, "destination");
            json_t *w = entry_of(shown, dest);
            ck_assert_msg(w != NULL, "decision %s: what-if did not judge %s", decision, dest);
            static const char *const keys[] = {"action", "reason", "decline", "basis", "rule"};
            for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
                ck_assert_msg(strcmp(jstr(w, keys[k]), jstr(e, keys[k])) == 0,
                              "decision %s, %s, %s:\n  what-if  %s\n  database %s", decision, dest,
                              keys[k], jstr(w, keys[k]), jstr(e, keys[k]));
            ck_assert_msg(json_integer_value(json_object_get(w, "referral")) ==
                              json_integer_value(json_object_get(e, "referral")),
                          "decision %s, %s: referral %lld in what-if, %lld in the database",
                          decision, dest,
                          (long long)json_integer_value(json_object_get(w, "referral")),
                          (long long)json_integer_value(json_object_get(e, "referral")));
            if (strcmp(jstr(e, "action"), "already_reported") == 0 ||
                strcmp(jstr(e, "action"), "declined") == 0)
                (*not_made)++;
            compared++;
        }
        json_decref(stored);
    }
    PQclear(res);
    PQfinish(conn);
    return compared;
}

/* The action and reason the database recorded for dest in case c's latest decision. */
static const char *latest_verdict(long long c, const char *dest)
{
    return tl_db_textf(db,
                       "SELECT n->>'action' || ': ' || (n->>'reason') FROM trafficking.decisions d,"
                       " jsonb_array_elements(d.ledger) n WHERE d.case_id = %lld"
                       " AND n->>'destination' = '%s' ORDER BY d.id DESC LIMIT 1",
                       c, dest);
}

#define AGREES(c, min_not_made)                                                                    \
    do {                                                                                           \
        int not_made_ = 0;                                                                         \
        int n_ = what_if_agrees((c), &not_made_);                                                  \
        ck_assert_int_gt(n_, 0);                                                                   \
        ck_assert_msg(not_made_ >= (min_not_made), "case %lld: %d not made, want %d or more",      \
                      (long long)(c), not_made_, (min_not_made));                                  \
    } while (0)

/* ------------------------------------------------------------- the cases --- */

START_TEST(delivered_and_closed_then_a_new_event_and_rejected_agree)
{
    /* closed after delivery, then the same screen again: already reported, both */
    long long closed = add_case(tl_person_add(&cli, "--age-estimate", "15"), 0);
    tl_screen(&cli, closed, "youth_quick", exchanged_sex);
    tl_dispatch_once(&cli);
    for (int k = 0; k < 2; k++) {
        const char *id = tl_id(referral_to(closed, k ? "le_ca" : "cw_ca"));
        RUN_OK(TL_AS, "a_worker", "referral", "ack", id);
        RUN_OK(TL_AS, "a_worker", "referral", "accept", id);
        RUN_OK(TL_AS, "a_worker", "referral", "close", id, "--outcome", "services given");
    }
    tl_screen(&cli, closed, "youth_quick", exchanged_sex);
    HAS(latest_verdict(closed, "le_ca"), "already_reported: already reported to le_ca on ");
    /* ... and new evidence afterwards: a new report for what was not told */
    tl_screen(&cli, closed, "youth_quick", exchanged_and_held);
    HAS(latest_verdict(closed, "le_ca"), "new: new report: new evidence: coercion");
    AGREES(closed, 2);

    /* rejected after delivery: still reported, not made again */
    long long rejected = add_case(tl_person_add(&cli, "--age-estimate", "16"), 0);
    tl_screen(&cli, rejected, "youth_quick", exchanged_sex);
    tl_dispatch_once(&cli);
    RUN_OK(TL_AS, "a_worker", "referral", "ack", tl_id(referral_to(rejected, "le_ca")));
    RUN_OK(TL_AS, "a_worker", "referral", "reject", tl_id(referral_to(rejected, "le_ca")),
           "--reason", "not our area");
    tl_screen(&cli, rejected, "youth_quick", exchanged_sex);
    HAS(latest_verdict(rejected, "le_ca"), ", rejected)");
    AGREES(rejected, 2);
}
END_TEST

START_TEST(undelivered_report_stands_and_agrees)
{
    long long c = add_case(tl_person_add(&cli, "--age-estimate", "15"), 0);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    HAS(latest_verdict(c, "cw_ca"), "open: the same report is open, not delivered yet: referral ");
    /* a failed delivery is still the same report, and says so */
    tl_db_execf(db,
                "UPDATE trafficking.outbox SET state = 'failed', last_error = 'refused'"
                " WHERE referral_id = %lld",
                referral_to(c, "le_ca"));
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    HAS(latest_verdict(c, "le_ca"), "(queued, delivery failed); it stands");
    AGREES(c, 0);
}
END_TEST

START_TEST(decline_beside_a_mandatory_report_and_a_consent_referral_agrees)
{
    /* a minor who declined the police: the report is made, and the decision says so */
    long long minor = tl_person_add(&cli, "--age-estimate", "15"), c;
    RUN_OK(TL_AS, "a_worker", "consent", "decline", tl_id(minor), "--recipients",
           "kind:law_enforcement", "--note", "scared of the police");
    c = add_case(minor, 0);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    HAS(latest_verdict(c, "le_ca"), "new: first report");
    AGREES(c, 0);

    /* an adult who consented, then declined the police: not referred, the hotline is */
    long long adult = tl_person_add(&cli, "--dob", "1990-01-01");
    RUN_OK(TL_AS, "a_worker", "consent", "add", tl_id(adult), "--purpose", "referral",
           "--recipients", "kind:law_enforcement,nhth", "--regime", "vawa_voca", "--expires",
           "2099-12-31");
    RUN_JSON("consent", "decline", tl_id(adult), "--recipients", "kind:law_enforcement");
    HAS_MESSAGE("declined: no consent-based referral goes to these recipients");
    c = add_case(adult, 0);
    tl_screen(&cli, c, "adult", adult_coerced);
    HAS(latest_verdict(c, "le_ca"), "declined: not referred: the person declined "
                                    "kind:law_enforcement on ");
    AGREES(c, 1);
}
END_TEST

START_TEST(new_episode_and_repeat_screens_that_disagree_agree)
{
    long long c = add_case(tl_person_add(&cli, "--age-estimate", "15"), 400);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    tl_dispatch_once(&cli);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    HAS(latest_verdict(c, "le_ca"), "already_reported: ");
    /* ran away again and came back: routed at once, a new episode is a new report ... */
    RUN_OK(TL_AS, "a_worker", "case", "update", tl_id(c), "--runaway-start", tl_hours_ago(30),
           "--runaway-return", tl_hours_ago(20));
    HAS(latest_verdict(c, "le_ca"), "new: new report: new episode of ");
    /* ... which stands until delivered */
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    HAS(latest_verdict(c, "le_ca"), "open: the same report is open, not delivered yet: ");
    tl_dispatch_once(&cli);
    /* a disclosure (new evidence, a new disclosure, a forensic interview), delivered ... */
    tl_screen(&cli, c, "youth_quick", disclosed);
    HAS(latest_verdict(c, "le_ca"), "new disclosure (screening ");
    tl_dispatch_once(&cli);
    /* ... then a screen that finds nothing: the disclosure still routes, and was told */
    tl_screen(&cli, c, "youth_quick", nothing);
    HAS(latest_verdict(c, "fic_ca"), "already_reported: ");
    AGREES(c, 3);
}
END_TEST

static Suite *whatif_suite(void)
{
    Suite *s = suite_create("whatif_agrees");
    TCase *tc = tcase_create("agreement");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, delivered_and_closed_then_a_new_event_and_rejected_agree);
    tcase_add_test(tc, undelivered_report_stands_and_agrees);
    tcase_add_test(tc, decline_beside_a_mandatory_report_and_a_consent_referral_agrees);
    tcase_add_test(tc, new_episode_and_repeat_screens_that_disagree_agree);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(whatif_suite())
