/*
 * check_routing_db.c: referral routing end to end through the real casehost
 * binary and a real PostgreSQL: DOMAIN rules 1-7 as stored referrals and
 * outbox rows, the referral lifecycle, consent revoked after queueing,
 * escalation by concurrent ticks, route explain, what-if, routing test and
 * replay, and agency separation. Never trusts output alone: every claim is
 * checked in the database too.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

/*
 * The phone number safety records use; it must never appear in an unsafe
 * payload. Payloads are built when sent: the tests read the payload a row
 * would leave with now through trafficking.outbox_payload(o) (as the owner).
 */
#define PHONE "555-0142"

static struct tl_result r;
static char db[1024], cfg[1024], root[1024];
static json_t *doc; /* the last RUN_JSON output */

#include "testcli.h"

static const struct tl_cli cli = {db, cfg, &r, &doc};

/* A fresh database with agencies A and B, and the trafficking plugin with routing. */
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

/* ------------------------------------------------- the database, directly --- */

/* As the superuser (no row-level security), as the dispatcher or the clock would act. */
#define db_value(...) tl_db_valuef(db, __VA_ARGS__)
#define db_text(...) tl_db_textf(db, __VA_ARGS__)
#define db_exec(...) tl_db_execf(db, __VA_ARGS__)
#define DB_EQ(want, ...) TL_DB_EQ(db, want, __VA_ARGS__)

static PGconn *as_app(const char *user)
{
    return tl_as_app(db, user);
}

/*
 * A case's referrals as "destination/basis/state/hours until due" joined by
 * ',' in destination order ("" for none). Static storage.
 */
static const char *referrals_of(long long case_id)
{
    return db_text("SELECT coalesce(string_agg(destination_id || '/' || basis || '/' || state"
                   " || '/' || round(extract(epoch FROM due_at - now()) / 3600)::int, ','"
                   " ORDER BY destination_id), '') FROM trafficking.referrals WHERE case_id = %lld",
                   case_id);
}

/*
 * What must hold for every outbox row, whatever the test did (DOMAIN rule 6):
 * a row exists exactly for referrals that may leave, names its referral,
 * carries only the destination's fields, rests on a legal basis or on an
 * active consent that names the destination, and never carries the phone
 * number of a person whose trafficker controls the phone.
 */
static void assert_outbox_invariants(void)
{
    DB_EQ(0, "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals r"
             " ON r.id = o.referral_id WHERE r.state = 'pending_consent'");
    DB_EQ(0, "SELECT count(*) FROM trafficking.referrals r WHERE r.state = 'queued'"
             " AND NOT EXISTS (SELECT 1 FROM trafficking.outbox o WHERE o.referral_id = r.id)");
    DB_EQ(0, "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals r"
             " ON r.id = o.referral_id WHERE r.state = 'revoked' AND o.state = 'pending'");
    DB_EQ(0, "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals r"
             " ON r.id = o.referral_id WHERE "
             "(trafficking.outbox_payload(o)->>'referral_id')::bigint <> r.id"
             " OR trafficking.outbox_payload(o)->>'destination' <> r.destination_id"
             " OR o.destination_id <> r.destination_id");
    DB_EQ(0, "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals r"
             " ON r.id = o.referral_id, jsonb_object_keys(trafficking.outbox_payload(o)) k"
             " WHERE k NOT IN ('referral_id', 'destination') AND NOT (k = ANY (r.fields))");
    DB_EQ(0, "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals r"
             " ON r.id = o.referral_id LEFT JOIN trafficking.consents k ON k.id = r.consent_id"
             " WHERE o.state <> 'held' AND NOT (r.basis IN ('mandatory_report', 'imminent_danger')"
             " OR (r.basis = 'consent' AND k.revoked_at IS NULL AND k.expires_at > now()"
             " AND (r.destination_id = ANY (k.recipients)"
             " OR 'kind:' || r.destination_kind = ANY (k.recipients))))");
    DB_EQ(
        0,
        "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals r"
        " ON r.id = o.referral_id JOIN casehost.cases c ON c.id = r.case_id"
        " JOIN trafficking.safe_contact s ON s.person_id = c.subject_id"
        " WHERE s.trafficker_controls_phone AND trafficking.outbox_payload(o)::text LIKE '%%" PHONE
        "%%'");
}

/* ------------------------------------------------------ people and cases --- */

/* A case in CA for person with flags (NULL for none); returns its id. */
static long long add_case(long long person, const char *flags)
{
    return tl_case_new(&cli, person, "Routing",
                       flags != NULL ? (const char *const[]){"--flags", flags, NULL} : NULL);
}

enum safety { NO_SAFETY, PHONE_CONTROLLED, PHONE_SAFE };

static void record_safety(long long person, enum safety s)
{
    if (s == NO_SAFETY)
        return;
    RUN_OK(TL_AS, "a_worker", "safety", "set", tl_id(person), "--safe-channels", "phone", "--phone",
           PHONE, "--trafficker-controls-phone", s == PHONE_CONTROLLED ? "yes" : "no");
}

/* Answers of one screening, NULL-terminated (the longest list has 8). */
#define MAX_ANSWERS 13

/*
 * The adult screen with papers kept and threats to keep them working: positive,
 * with coercion and labour exploitation (version 2's classes).
 */
static const char *const adult_coerced[MAX_ANSWERS] = {
    "work_differs=no", "debt_cannot_repay=no", "not_free_to_leave=no",  "papers_kept=yes",
    "threats=yes",     "pay_withheld=no",      "contact_controlled=no", "sex_for_value=no"};

/* The youth quick screen with an exchange of sex for something needed. */
static const char *const youth_exchanged_sex[MAX_ANSWERS] = {
    "offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
    "exchanged_sex=yes"};

/* A minor (estimated 15) in CA with a commercial-sex screen: cw_ca and le_ca queued. */
static long long minor_reported_case(void)
{
    long long c = add_case(tl_person_add(&cli, "--age-estimate", "15"), NULL);
    tl_screen(&cli, c, "youth_quick", youth_exchanged_sex);
    ck_assert_str_eq(referrals_of(c), "cw_ca/mandatory_report/queued/24,"
                                      "le_ca/mandatory_report/queued/24");
    return c;
}

/* An adult in CA with a positive, coerced adult screen: law enforcement pending consent. */
static long long adult_positive_case(long long *person)
{
    *person = tl_person_add(&cli, "--dob", "1990-01-01");
    long long c = add_case(*person, NULL);
    tl_screen(&cli, c, "adult", adult_coerced);
    return c;
}

/* ------------------------------------------------ DOMAIN rules 1, 2 and 4 --- */

/* One screening and the referrals it must leave behind. */
struct route_row {
    const char *name;
    const char *age_opt, *age_val; /* "" for unknown age */
    const char *flags;             /* case flags, or NULL */
    const char *consent;           /* recipients of a consent recorded first, or NULL */
    int revoke_consent;            /* ... and revoked before the screening */
    enum safety safety;
    const char *instrument;
    const char *answers[MAX_ANSWERS];
    const char *screening_state; /* completed or stopped */
    const char *want;            /* referrals_of() */
};

/*
 * Runs row: person, safety, consent, case, screening; then checks the
 * referrals, that the mandatory ones rest on no consent, that each queued
 * one has its outbox row with only its destination's fields, and what the
 * phone number reached.
 */
static long long run_route_row(const struct route_row *row)
{
    long long person = tl_person_add(&cli, row->age_opt, row->age_val), c, k = 0;
    record_safety(person, row->safety);
    if (row->consent != NULL)
        k = tl_consent_add(&cli, person, row->consent);
    if (row->revoke_consent) {
        char kid[24];
        snprintf(kid, sizeof(kid), "%lld", k);
        RUN_OK(TL_AS, "a_worker", "consent", "revoke", kid, "--reason", "declined");
    }
    c = add_case(person, row->flags);
    tl_screen(&cli, c, row->instrument, row->answers);
    ck_assert_msg(strcmp(jstr(doc, "state"), row->screening_state) == 0,
                  "%s: screening %s, want %s", row->name, jstr(doc, "state"), row->screening_state);
    ck_assert_msg(strcmp(referrals_of(c), row->want) == 0, "%s:\n got  %s\n want %s", row->name,
                  referrals_of(c), row->want);
    /* the screening's own decision, in the same transaction */
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.decisions d JOIN trafficking.screenings s"
          " ON s.id = d.screening_id WHERE d.case_id = %lld AND d.cause = 'screening_completed'",
          c);
    DB_EQ(0,
          "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
          " AND basis <> 'consent' AND consent_id IS NOT NULL",
          c);
    DB_EQ(0,
          "SELECT count(*) FROM trafficking.referrals r WHERE case_id = %lld"
          " AND (SELECT count(*) FROM trafficking.outbox o WHERE o.referral_id = r.id)"
          " <> (r.state = 'queued')::int",
          c);
    /* each destination is told the minimum: only the rows that name the field carry it */
    DB_EQ(0,
          "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals r"
          " ON r.id = o.referral_id WHERE r.case_id = %lld AND (trafficking.outbox_payload(o) ? "
          "'person_name')"
          " <> ('person_name' = ANY (r.fields))",
          c);
    if (row->safety == PHONE_SAFE)
        ck_assert_str_eq(db_text("SELECT coalesce(string_agg(destination_id, ','"
                                 " ORDER BY destination_id), '') FROM trafficking.outbox o"
                                 " WHERE trafficking.outbox_payload(o)::text LIKE '%%" PHONE "%%'"),
                         "cw_ca");
    assert_outbox_invariants();
    return c;
}

static const struct route_row rule1_rows[] = {
    {"estimated 15, exchanged sex, phone controlled",
     "--age-estimate",
     "15",
     NULL,
     NULL,
     0,
     PHONE_CONTROLLED,
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=yes"},
     "completed",
     "cw_ca/mandatory_report/queued/24,le_ca/mandatory_report/queued/24"},
    {"unknown age, exchanged sex",
     "",
     NULL,
     NULL,
     NULL,
     0,
     PHONE_CONTROLLED,
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=yes"},
     "completed",
     "cw_ca/mandatory_report/queued/24,le_ca/mandatory_report/queued/24"},
    {"estimated 16, anything of value in a health setting",
     "--age-estimate",
     "16",
     NULL,
     NULL,
     0,
     NO_SAFETY,
     "youth_health",
     {"ran_away=no", "substance_use=no", "sti_or_pregnancy=no", "older_partner_in_control=no",
      "hurt_no_care=no", "exchanged_anything=yes"},
     "completed",
     "cw_ca/mandatory_report/queued/24,le_ca/mandatory_report/queued/24"},
    {"consent to law enforcement declined (revoked)",
     "--age-estimate",
     "16",
     NULL,
     "kind:law_enforcement",
     1,
     NO_SAFETY,
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=yes"},
     "completed",
     "cw_ca/mandatory_report/queued/24,le_ca/mandatory_report/queued/24"},
    {"consent given changes nothing either",
     "--age-estimate",
     "16",
     NULL,
     "kind:law_enforcement,kind:child_welfare",
     0,
     NO_SAFETY,
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=yes"},
     "completed",
     "cw_ca/mandatory_report/queued/24,le_ca/mandatory_report/queued/24"},
    {"foreign national adds HHS",
     "--age-estimate",
     "14",
     "foreign_national",
     NULL,
     0,
     PHONE_CONTROLLED,
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=yes", "id_money_phone_held=no",
      "exchanged_sex=yes"},
     "completed",
     "cw_ca/mandatory_report/queued/24,hhs_otip/mandatory_report/queued/24,"
     "le_ca/mandatory_report/queued/24"},
    {"a safe phone reaches only the destination that takes safe_contact",
     "--age-estimate",
     "15",
     NULL,
     NULL,
     0,
     PHONE_SAFE,
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=yes"},
     "completed",
     "cw_ca/mandatory_report/queued/24,le_ca/mandatory_report/queued/24"},
};

START_TEST(minor_or_unknown_age_with_commercial_sex_is_reported_within_24h_whatever_the_consent)
{
    const struct route_row *row = &rule1_rows[_i];
    long long c = run_route_row(row);
    HAS_MESSAGE("referral to cw_ca (mandatory_report, 24h): queued, due within 24 h");
    HAS_MESSAGE("referral to le_ca (mandatory_report, 24h): queued, due within 24 h");
    DB_EQ(2,
          "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
          " AND rule = 'minor_commercial_sex' AND consent_id IS NULL",
          c);
    if (row->flags != NULL) {
        /* HHS gets no name: the fewest fields of any destination */
        DB_EQ(1, "SELECT count(*) FROM trafficking.outbox o WHERE destination_id = 'hhs_otip'"
                 " AND trafficking.outbox_payload(o)->>'nationality_status' = 'foreign_national'"
                 " AND NOT trafficking.outbox_payload(o) ? 'person_name' AND NOT "
                 "trafficking.outbox_payload(o) ? 'date_of_birth'");
        ck_assert_str_eq(db_text("SELECT rule FROM trafficking.referrals"
                                 " WHERE destination_id = 'hhs_otip'"),
                         "minor_foreign_national_hhs");
    }
    if (row->safety == PHONE_CONTROLLED)
        /* the report still goes, to the agency, and says the phone is not safe */
        ck_assert_str_eq(
            db_text(
                "SELECT trafficking.outbox_payload(o)->>'safe_contact' FROM trafficking.outbox o"
                " WHERE destination_id = 'cw_ca'"),
            "{\"channels\": [], \"trafficker_controls_phone\": true}");
}
END_TEST

/* The staff checklist for a minor: works for little or no pay, ran away 3 times. */
#define STAFF_LABOUR(control)                                                                      \
    {                                                                                              \
        "told_staff=no", "someone_speaks_for_them=no", "cut_off_from_family=no",                   \
            "online_false_promises=no", "travel_arranged_by_others=no",                            \
            "long_hours_or_lives_at_work=no", "exchange_for_value=no", "someone_benefits=no",      \
            "unexplained_gifts=no", "works_for_little_or_no_pay=yes", "times_ran_away=3",          \
            "phone_or_money_controlled=" control                                                   \
    }

/*
 * DOMAIN rule 2. The old policy sent the first row nowhere at all; a minor
 * working for little pay who ran away three times is short of the labour
 * test but is no "nothing": the agency's own assessment, within 24 hours.
 */
static const struct route_row rule2_rows[] = {
    {"minor: labour and runaway indicators, no force, fraud or coercion", "--age-estimate", "15",
     NULL, NULL, 0, NO_SAFETY, "staff_observation", STAFF_LABOUR("no"), "completed",
     "csec_assessment/mandatory_report/queued/24"},
    {"minor: the same with phone and money controlled is a report", "--age-estimate", "15", NULL,
     NULL, 0, NO_SAFETY, "staff_observation", STAFF_LABOUR("yes"), "completed",
     "cw_ca/mandatory_report/queued/24,le_ca/mandatory_report/queued/24"},
    {"adult: unpaid work, sexual question declined, no coercion: offers only",
     "--dob",
     "1990-01-01",
     NULL,
     NULL,
     0,
     NO_SAFETY,
     "adult",
     {"work_differs=no", "debt_cannot_repay=no", "not_free_to_leave=no", "papers_kept=no",
      "threats=no", "pay_withheld=yes", "contact_controlled=no", "sex_for_value=declined"},
     "completed",
     "legal_aid_west/consent/pending_consent/72,nhth/consent/pending_consent/72,"
     "vs_ca/consent/pending_consent/72"},
    {"adult: unpaid and not free to leave (coercion): law enforcement, with consent",
     "--dob",
     "1990-01-01",
     NULL,
     NULL,
     0,
     NO_SAFETY,
     "adult",
     {"work_differs=no", "debt_cannot_repay=no", "not_free_to_leave=yes", "papers_kept=no",
      "threats=no", "pay_withheld=yes", "contact_controlled=no", "sex_for_value=no"},
     "completed",
     "le_ca/consent/pending_consent/72,legal_aid_west/consent/pending_consent/72,"
     "nhth/consent/pending_consent/72,vs_ca/consent/pending_consent/72"},
};

START_TEST(labour_indicators_without_force_fraud_or_coercion_reach_no_law_enforcement)
{
    const struct route_row *row = &rule2_rows[_i];
    long long c = run_route_row(row);
    int coerced = strstr(row->want, "le_ca") != NULL;
    /* short of the test, a child is assessed, never reported to the police */
    if (!coerced && strcmp(row->age_opt, "--age-estimate") == 0)
        DB_EQ(1,
              "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
              " AND rule = 'minor_assessment_means' AND destination_kind = 'assessment'",
              c);
    DB_EQ(coerced,
          "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
          " AND destination_kind IN ('law_enforcement', 'task_force')",
          c);
    if (coerced && strcmp(row->age_opt, "--age-estimate") == 0)
        DB_EQ(2,
              "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
              " AND rule = 'minor_labour_trafficking'",
              c);
}
END_TEST

/*
 * DOMAIN rule 4. The old policy also reported the first row to law
 * enforcement (it read the disclosure item as commercial sex) and sent the
 * adult of the second to a children's advocacy centre; both were wrong.
 */
static const struct route_row rule4_rows[] = {
    {"minor discloses after a false offer: children's advocacy centre and child welfare",
     "--age-estimate",
     "15",
     NULL,
     NULL,
     0,
     NO_SAFETY,
     "youth_quick",
     {"offer_not_as_promised=yes", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=no", "made_to_work=no", "someone_making_you_now=yes"},
     "stopped",
     "cw_ca/mandatory_report/queued/24,fic_ca/mandatory_report/queued/24"},
    {"adult discloses to staff: an adult forensic interview and police, with consent",
     "--age-estimate",
     "24",
     NULL,
     NULL,
     0,
     NO_SAFETY,
     "staff_observation",
     {"told_staff=yes"},
     "stopped",
     "fi_adult_ca/consent/pending_consent/24,le_ca/consent/pending_consent/72,"
     "legal_aid_west/consent/pending_consent/72,nhth/consent/pending_consent/72,"
     "vs_ca/consent/pending_consent/72"},
    {"minor discloses after an exchange: the reports and the children's advocacy centre",
     "--age-estimate",
     "14",
     NULL,
     NULL,
     0,
     NO_SAFETY,
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=yes", "made_to_work=no", "someone_making_you_now=yes"},
     "stopped",
     "cw_ca/mandatory_report/queued/24,fic_ca/mandatory_report/queued/24,"
     "le_ca/mandatory_report/queued/24"},
    {"adult discloses being made to work: the labour investigators, with consent",
     "--age-estimate",
     "21",
     NULL,
     NULL,
     0,
     NO_SAFETY,
     "youth_quick",
     {"offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
      "exchanged_sex=no", "made_to_work=yes", "someone_making_you_now=yes"},
     "stopped",
     "labour_ca/consent/pending_consent/24,le_ca/consent/pending_consent/72,"
     "legal_aid_west/consent/pending_consent/72,nhth/consent/pending_consent/72,"
     "vs_ca/consent/pending_consent/72"},
};

START_TEST(disclosure_stops_the_screening_and_routes_to_a_forensic_interview)
{
    const struct route_row *row = &rule4_rows[_i];
    long long c = run_route_row(row);
    int minor = strtol(row->age_val, NULL, 10) < 18;
    HAS_ALERT("danger", "the screening stopped there");
    /* a child goes to a children's advocacy centre, an adult never does */
    DB_EQ(minor,
          "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
          " AND destination_kind = 'forensic_interview' AND rule = 'disclosure_minor'",
          c);
    DB_EQ(!minor,
          "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
          " AND destination_kind IN ('adult_forensic_interview', 'labour_investigation')"
          " AND rule LIKE 'disclosure_adult_%%' AND basis = 'consent'",
          c);
}
END_TEST

/* --------------------------------------------------------- DOMAIN rule 3 --- */

START_TEST(runaway_return_screening_is_routed_when_it_is_done)
{
    char pid[24];
    long long sid;
    snprintf(pid, sizeof(pid), "%lld", tl_person_add(&cli, "--age-estimate", "15"));
    RUN_JSON("case", "new", "--title", "Back from running", "--person", pid, "--state", "CA",
             "--runaway-start", "2026-11-20 10:00", "--runaway-return", "2026-11-21 09:00");
    sid = db_value("SELECT id FROM trafficking.screenings WHERE state = 'suggested'"
                   " AND instrument_id = 'youth_quick' AND trigger = 'runaway_return'");
    ck_assert_int_gt(sid, 0);
    /* no --instrument: the suggestion decides, and completing it routes the case */
    RUN_JSON("screen", "start", "1", "offer_not_as_promised=yes", "could_not_leave=no",
             "id_money_phone_held=no", "exchanged_sex=no", "someone_making_you_now=no");
    ck_assert_int_eq(jint(doc, "screening"), sid);
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.decisions WHERE case_id = 1 AND screening_id = %lld"
          " AND cause = 'screening_completed' AND input->'flags'->>'runaway_return' = 'true'",
          sid);
    /*
     * a false offer alone is fraud without an exchange or exploitation: no report,
     * but the agency's own assessment within 24 hours (the old policy did nothing)
     */
    ck_assert_str_eq(referrals_of(1), "csec_assessment/mandatory_report/queued/24");
    assert_outbox_invariants();
}
END_TEST

/* --------------------------------------------------------- DOMAIN rule 5 --- */

START_TEST(adult_positive_without_consent_waits_for_it_and_consent_queues_without_duplicates)
{
    long long person, c, k, le;
    c = adult_positive_case(&person);
    ck_assert_str_eq(referrals_of(c), "le_ca/consent/pending_consent/72,"
                                      "legal_aid_west/consent/pending_consent/72,"
                                      "nhth/consent/pending_consent/72,"
                                      "vs_ca/consent/pending_consent/72");
    HAS_MESSAGE("referral to le_ca (consent, 72h): pending_consent");
    HAS_MESSAGE("referral to nhth (consent, 72h): pending_consent");
    DB_EQ(0, "SELECT count(*) FROM trafficking.outbox");
    le = db_value("SELECT id FROM trafficking.referrals WHERE destination_id = 'le_ca'");

    k = tl_consent_add(&cli, person, "kind:law_enforcement");
    /* the waiting referral is queued, not doubled */
    DB_EQ(4, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld", c);
    DB_EQ(1, "SELECT count(*) FROM trafficking.referrals WHERE destination_id = 'le_ca'");
    ck_assert_str_eq(db_text("SELECT state || '/' || consent_id FROM trafficking.referrals"
                             " WHERE id = %lld",
                             le),
                     "queued/1");
    ck_assert_int_eq(k, 1);
    DB_EQ(1, "SELECT count(*) FROM trafficking.outbox WHERE referral_id = %lld", le);
    DB_EQ(1, "SELECT count(*) FROM trafficking.outbox");
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.referral_history WHERE referral_id = %lld"
          " AND from_state = 'pending_consent' AND to_state = 'queued'",
          le);
    ck_assert_str_eq(referrals_of(c), "le_ca/consent/queued/72,"
                                      "legal_aid_west/consent/pending_consent/72,"
                                      "nhth/consent/pending_consent/72,"
                                      "vs_ca/consent/pending_consent/72");

    /* a second consent queues the hotline offer; law enforcement stays single */
    tl_consent_add(&cli, person, "nhth");
    DB_EQ(4, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld", c);
    DB_EQ(2, "SELECT count(*) FROM trafficking.outbox");
    DB_EQ(1, "SELECT count(*) FROM trafficking.outbox WHERE referral_id = %lld", le);
    ck_assert_str_eq(db_text("SELECT state || '/' || consent_id FROM trafficking.referrals"
                             " WHERE destination_id = 'nhth'"),
                     "queued/2");
    assert_outbox_invariants();
}
END_TEST

START_TEST(imminent_danger_refers_to_emergency_at_once_and_overrides_every_other_flow)
{
    long long person = tl_person_add(&cli, "--dob", "1990-01-01");
    long long c = add_case(person, "imminent_danger,control");
    HAS_ALERT("danger", "CALL 911 NOW");
    HAS_MESSAGE("referral to emergency_911 (imminent_danger, immediate): queued, due within 1 h");
    /* the first step, not the end: the offers are made too, and wait for consent */
    ck_assert_str_eq(referrals_of(c), "emergency_911/imminent_danger/queued/1,"
                                      "legal_aid_west/consent/pending_consent/72,"
                                      "nhth/consent/pending_consent/72,"
                                      "vs_ca/consent/pending_consent/72");
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.decisions WHERE case_id = %lld"
          " AND cause = 'case_created'",
          c);
    DB_EQ(1, "SELECT count(*) FROM trafficking.outbox o WHERE destination_id = 'emergency_911'"
             " AND trafficking.outbox_payload(o)->>'imminent_danger' = 'true'"
             " AND trafficking.outbox_payload(o)->>'basis' = 'imminent_danger'");
    /* a positive screen while the danger lasts adds what it adds; 911 stays single */
    tl_screen(&cli, c, "adult", adult_coerced);
    ck_assert_str_eq(referrals_of(c), "emergency_911/imminent_danger/queued/1,"
                                      "le_ca/consent/pending_consent/72,"
                                      "legal_aid_west/consent/pending_consent/72,"
                                      "nhth/consent/pending_consent/72,"
                                      "vs_ca/consent/pending_consent/72");
    DB_EQ(2, "SELECT count(*) FROM trafficking.decisions WHERE case_id = %lld", c);
    assert_outbox_invariants();
}
END_TEST

/* --------------------------------------------------------- DOMAIN rule 6 --- */

START_TEST(nothing_leaves_without_consent_or_a_legal_basis)
{
    long long adult, adult2;
    minor_reported_case();
    adult_positive_case(&adult);
    tl_consent_add(&cli, adult, "nhth");
    adult_positive_case(&adult2);
    add_case(tl_person_add(&cli, "--dob", "1980-05-05"), "imminent_danger");
    /* what left, and why */
    ck_assert_str_eq(db_text("SELECT string_agg(r.destination_id || ':' || r.basis || ':' ||"
                             " coalesce(r.consent_id::text, '-'), ',' ORDER BY r.id)"
                             " FROM trafficking.outbox o JOIN trafficking.referrals r"
                             " ON r.id = o.referral_id"),
                     "cw_ca:mandatory_report:-,le_ca:mandatory_report:-,nhth:consent:1,"
                     "emergency_911:imminent_danger:-");
    DB_EQ(7, "SELECT count(*) FROM trafficking.referrals WHERE state = 'pending_consent'");
    assert_outbox_invariants();
}
END_TEST

/*
 * The hotline and services call the person back. A phone the trafficker
 * controls is no safe channel, even when it is the channel recorded (the
 * payload already drops it): such destinations must not be used.
 */
START_TEST(contacting_destinations_are_not_used_when_the_only_channel_is_a_controlled_phone)
{
    long long person = tl_person_add(&cli, "--dob", "1990-01-01"), c;
    record_safety(person, PHONE_CONTROLLED);
    tl_consent_add(&cli, person, "nhth,kind:victim_services,kind:legal_aid,kind:law_enforcement");
    c = add_case(person, NULL);
    tl_screen(&cli, c, "adult", adult_coerced);
    ck_assert_msg(strcmp(referrals_of(c), "le_ca/consent/queued/72") == 0,
                  "only law enforcement (which never contacts the person) may be referred; "
                  "got %s",
                  referrals_of(c));
    DB_EQ(0, "SELECT count(*) FROM trafficking.outbox WHERE destination_id IN"
             " ('nhth', 'vs_ca', 'legal_aid_west')");
    ck_assert_str_eq(db_text("SELECT count(*)::text FROM trafficking.decisions d,"
                             " jsonb_array_elements(d.outcome->'not_used') u"
                             " WHERE d.case_id = %lld AND u->>'reason' LIKE 'unsafe channel%%'",
                             c),
                     "3");
    assert_outbox_invariants();
}
END_TEST

/*
 * An escalation is a new disclosure to a new recipient: a consent that names
 * law enforcement does not cover the task force it escalates to.
 */
START_TEST(escalation_of_a_consent_based_referral_waits_for_consent_to_the_new_recipient)
{
    long long person, c, le;
    c = adult_positive_case(&person);
    tl_consent_add(&cli, person, "kind:law_enforcement");
    le = db_value("SELECT id FROM trafficking.referrals WHERE case_id = %lld"
                  " AND destination_id = 'le_ca' AND state = 'queued'",
                  c);
    ck_assert_int_gt(le, 0);
    db_exec("UPDATE trafficking.outbox SET state = 'sent', sent_at = now() - interval '30 hours'"
            " WHERE referral_id = %lld;"
            " UPDATE trafficking.referrals SET state = 'sent', sent_at = now() - interval "
            "'30 hours' WHERE id = %lld",
            le, le);
    RUN_OK(TL_AS, "a_svc", "tick");
    DB_EQ(1, "SELECT count(*) FROM trafficking.referrals WHERE escalation_of = %lld", le);
    {
        char got[200];
        snprintf(got, sizeof(got), "%s",
                 db_text("SELECT r.state || ' on consent ' || coalesce(r.consent_id::text, '-')"
                         " || coalesce(' naming ' || array_to_string(k.recipients, ','), '')"
                         " FROM trafficking.referrals r LEFT JOIN trafficking.consents k"
                         " ON k.id = r.consent_id WHERE r.escalation_of = %lld",
                         le));
        ck_assert_msg(strncmp(got, "pending_consent", 15) == 0,
                      "escalation to task_force_ca is %s; want pending_consent", got);
    }
    assert_outbox_invariants();
}
END_TEST

/* --------------------------------------------------------- DOMAIN rule 7 --- */

START_TEST(positive_screen_asks_for_assessment_and_records_no_finding)
{
    long long person;
    adult_positive_case(&person);
    ck_assert_str_eq(jstr(doc, "result"), "positive");
    HAS_MESSAGE("Positive screen: assess further");
    HAS_MESSAGE("not a finding");
    ck_assert_msg(strstr(r.out, "confirmed") == NULL, "a screen must not state a finding:\n%s",
                  r.out);
    /* the stored decision asks others to assess; it claims no determination either */
    DB_EQ(0, "SELECT count(*) FROM trafficking.decisions"
             " WHERE outcome::text ~* 'confirmed|determination|is a victim'");
    minor_reported_case();
    HAS_MESSAGE("assess further");
}
END_TEST

/* ------------------------------------------------------------ lifecycle --- */

/*
 * Referral 1 is a mandatory report (cw_ca): a caseworker makes every move but
 * a withdrawal, which only a supervisor or admin may make (the hint of a
 * refused move starting with '=' is the whole refusal, not a lifecycle one).
 */
static const struct {
    const char *from, *verb, *opt, *val;
    int status;
    const char *to;   /* state after a move that is allowed */
    const char *hint; /* of a refused move */
    const char *by;   /* NULL: a_worker */
} moves[] = {
    {"sent", "ack", NULL, NULL, 0, "acknowledged", NULL, NULL},
    {"sent", "ack", "--reference", "CPS-2026-0017", 0, "acknowledged", NULL, NULL},
    {"acknowledged", "accept", NULL, NULL, 0, "accepted", NULL, NULL},
    {"acknowledged", "reject", "--reason", "outside our service area", 0, "rejected", NULL, NULL},
    {"accepted", "close", "--outcome", "services provided", 0, "closed", NULL, NULL},
    {"rejected", "close", "--outcome", "referred elsewhere", 0, "closed", NULL, NULL},
    {"pending_consent", "revoke", "--reason", "made in error", 0, "revoked", NULL, "a_admin"},
    {"queued", "revoke", "--reason", "sent in error", 0, "revoked", NULL, "a_admin"},
    {"sent", "revoke", "--reason", "sent in error", 0, "revoked", NULL, "a_admin"},
    {"acknowledged", "revoke", "--reason", "duplicate", 0, "revoked", NULL, "a_admin"},
    {"accepted", "revoke", "--reason", "duplicate", 0, "revoked", NULL, "a_admin"},
    {"queued", "revoke", "--reason", "family asked", 1, NULL,
     "=referral 1 is a mandatory report referral: only a supervisor or admin may withdraw it",
     NULL},
    {"sent", "revoke", "--reason", "family asked", 1, NULL,
     "=referral 1 is a mandatory report referral: only a supervisor or admin may withdraw it",
     NULL},
    {"queued", "accept", NULL, NULL, 1, NULL, "allowed from queued: sent, revoked", NULL},
    {"queued", "ack", NULL, NULL, 1, NULL, "allowed from queued: sent, revoked", NULL},
    {"pending_consent", "ack", NULL, NULL, 1, NULL, "allowed from pending_consent: queued, revoked",
     NULL},
    {"sent", "accept", NULL, NULL, 1, NULL, "allowed from sent: acknowledged, revoked", NULL},
    {"sent", "close", "--outcome", "done", 1, NULL, "allowed from sent: acknowledged, revoked",
     NULL},
    {"acknowledged", "ack", NULL, NULL, 1, NULL,
     "allowed from acknowledged: accepted, rejected, revoked", NULL},
    {"accepted", "reject", "--reason", "late", 1, NULL, "allowed from accepted: closed, revoked",
     NULL},
    {"rejected", "revoke", "--reason", "late", 1, NULL, "allowed from rejected: closed", NULL},
    {"closed", "revoke", "--reason", "late", 1, NULL, "a closed referral is final", NULL},
    {"revoked", "ack", NULL, NULL, 1, NULL, "a revoked referral is final", NULL},
    {"acknowledged", "reject", NULL, NULL, 2, NULL, "missing --reason", NULL},
    {"accepted", "close", NULL, NULL, 2, NULL, "missing --outcome", NULL},
};

/* The state a verb asks for. */
static const char *verb_target(const char *verb)
{
    static const char *const map[][2] = {{"ack", "acknowledged"},
                                         {"accept", "accepted"},
                                         {"reject", "rejected"},
                                         {"close", "closed"},
                                         {"revoke", "revoked"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i][0], verb) == 0)
            return map[i][1];
    return "?";
}

START_TEST(referral_moves_follow_the_lifecycle_and_refusals_name_the_allowed_moves)
{
    long long history, audit;
    char want[200];
    minor_reported_case();
    /* where the dispatcher or routing would have put it, outbox row included */
    db_exec("UPDATE trafficking.referrals SET state = '%s', sent_at = CASE WHEN '%s' IN"
            " ('pending_consent', 'queued') THEN NULL ELSE now() END WHERE id = 1;"
            " UPDATE trafficking.outbox SET state = 'sent', sent_at = now()"
            " WHERE referral_id = 1 AND '%s' NOT IN ('pending_consent', 'queued');"
            " DELETE FROM trafficking.outbox WHERE referral_id = 1 AND '%s' = 'pending_consent'",
            moves[_i].from, moves[_i].from, moves[_i].from, moves[_i].from);
    history = db_value("SELECT count(*) FROM trafficking.referral_history WHERE referral_id = 1");
    audit = db_value("SELECT count(*) FROM casehost.audit_log WHERE object_type = 'referral'");
    const char *by = moves[_i].by != NULL ? moves[_i].by : "a_worker";
    tl_run(&r, db, cfg, TL_AS, by, "--json", "referral", moves[_i].verb, "1", moves[_i].opt,
           moves[_i].val, NULL);
    ck_assert_msg(r.status == moves[_i].status, "%s from %s: exit %d, want %d\n%s%s",
                  moves[_i].verb, moves[_i].from, r.status, moves[_i].status, r.out, r.err);
    if (moves[_i].status != 0) {
        ck_assert_str_eq(r.out, "");
        if (moves[_i].hint[0] == '=') {
            HAS(r.err, moves[_i].hint + 1);
        } else if (moves[_i].status == 1) {
            snprintf(want, sizeof(want), "referral 1 is %s: it cannot become %s", moves[_i].from,
                     verb_target(moves[_i].verb));
            HAS(r.err, want);
            snprintf(want, sizeof(want), "hint: %s", moves[_i].hint);
            HAS(r.err, want);
        } else {
            HAS(r.err, moves[_i].hint);
        }
        ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals WHERE id = 1"),
                         moves[_i].from);
        DB_EQ(history, "SELECT count(*) FROM trafficking.referral_history WHERE referral_id = 1");
        DB_EQ(audit, "SELECT count(*) FROM casehost.audit_log WHERE object_type = 'referral'");
        return;
    }
    parse_doc();
    ck_assert_str_eq(jstr(doc, "state"), moves[_i].to);
    ck_assert_str_eq(jstr(doc, "destination"), "cw_ca");
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals WHERE id = 1"), moves[_i].to);
    DB_EQ(history + 1, "SELECT count(*) FROM trafficking.referral_history WHERE referral_id = 1");
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.referral_history h JOIN casehost.users u"
          " ON u.id = h.actor_id WHERE h.referral_id = 1 AND h.from_state = '%s'"
          " AND h.to_state = '%s' AND u.name = '%s'",
          moves[_i].from, moves[_i].to, by);
    DB_EQ(audit + 1, "SELECT count(*) FROM casehost.audit_log WHERE object_type = 'referral'");
    DB_EQ(1,
          "SELECT count(*) FROM casehost.audit_log WHERE object_type = 'referral'"
          " AND object_id = 1 AND action = '%s'",
          moves[_i].to);
    if (moves[_i].opt != NULL) {
        const char *col = strcmp(moves[_i].opt, "--reference") == 0 ? "reference"
                          : strcmp(moves[_i].opt, "--outcome") == 0 ? "outcome"
                                                                    : "reason";
        ck_assert_str_eq(db_text("SELECT %s FROM trafficking.referrals WHERE id = 1", col),
                         moves[_i].val);
    }
    /* a revoked referral that had not left holds its outbox row; a sent one stays sent */
    if (strcmp(moves[_i].from, "pending_consent") == 0)
        DB_EQ(0, "SELECT count(*) FROM trafficking.outbox WHERE referral_id = 1");
    else
        ck_assert_str_eq(db_text("SELECT state FROM trafficking.outbox WHERE referral_id = 1"),
                         strcmp(moves[_i].from, "queued") != 0  ? "sent"
                         : strcmp(moves[_i].to, "revoked") == 0 ? "held"
                                                                : "pending");
    /* the other referral of the case never moves with it */
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals WHERE id = 2"), "queued");
}
END_TEST

START_TEST(referral_lifecycle_from_queued_to_closed_is_kept_in_history)
{
    json_t *h;
    minor_reported_case();
    RUN_FAILS(1, "referral", "ack", "99");
    HAS(r.err, "referral 99 not found");
    /* the dispatcher's move: outbox row and referral sent together */
    db_exec("UPDATE trafficking.outbox SET state = 'sent', sent_at = now() WHERE referral_id = 2;"
            " UPDATE trafficking.referrals SET state = 'sent', sent_at = now() WHERE id = 2");
    RUN_OK(TL_AS, "a_worker", "referral", "ack", "2", "--reference", "LE-77");
    RUN_OK(TL_AS, "a_worker", "referral", "accept", "2");
    RUN_OK(TL_AS, "a_worker", "referral", "close", "2", "--outcome", "investigation opened");
    ck_assert_str_eq(db_text("SELECT state || '/' || reference || '/' || outcome"
                             " FROM trafficking.referrals WHERE id = 2"),
                     "closed/LE-77/investigation opened");
    RUN_JSON("referral", "show", "2");
    h = json_object_get(doc, "history");
    ck_assert_uint_eq(json_array_size(h), 4);
    ck_assert_str_eq(jstr(json_array_get(h, 0), "to_state"), "queued");
    ck_assert_str_eq(jstr(json_array_get(h, 1), "to_state"), "acknowledged");
    ck_assert_str_eq(jstr(json_array_get(h, 2), "to_state"), "accepted");
    ck_assert_str_eq(jstr(json_array_get(h, 3), "to_state"), "closed");
    ck_assert_str_eq(jstr(json_array_get(h, 3), "detail"), "investigation opened");
    ck_assert_str_eq(db_text("SELECT string_agg(action, ',' ORDER BY id) FROM casehost.audit_log"
                             " WHERE object_type = 'referral' AND object_id = 2"),
                     "create,acknowledged,accepted,closed,read");
    /* closed is final; a new referral to the same place may now be made */
    RUN_FAILS(1, "referral", "revoke", "2", "--reason", "late");
    HAS(r.err, "referral 2 is closed: it cannot become revoked");
    HAS(r.err, "a closed referral is final");
}
END_TEST

/* ------------------------------------------------------- consent revoked --- */

START_TEST(consent_revoked_after_queueing_revokes_its_referrals_and_holds_their_outbox)
{
    long long adult = tl_person_add(&cli, "--dob", "1990-01-01"), c, k, minor;
    char kid[24], cid[24];
    c = add_case(adult, "imminent_danger");
    snprintf(cid, sizeof(cid), "%lld", c);
    k = tl_consent_add(&cli, adult, "kind:law_enforcement,nhth");
    snprintf(kid, sizeof(kid), "%lld", k);
    /* once safe, the flag goes and the screening makes the other referrals */
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--flags", "none");
    tl_screen(&cli, c, "adult", adult_coerced);
    ck_assert_str_eq(referrals_of(c), "emergency_911/imminent_danger/queued/1,"
                                      "le_ca/consent/queued/72,"
                                      "legal_aid_west/consent/pending_consent/72,"
                                      "nhth/consent/queued/72,"
                                      "vs_ca/consent/pending_consent/72");
    minor = minor_reported_case();

    RUN_JSON("consent", "revoke", kid, "--reason", "withdrawn in writing");
    ck_assert_int_eq(jint(json_object_get(doc, "revoked"), "referrals_revoked"), 2);
    ck_assert_str_eq(referrals_of(c), "emergency_911/imminent_danger/queued/1,"
                                      "le_ca/consent/revoked/72,"
                                      "legal_aid_west/consent/pending_consent/72,"
                                      "nhth/consent/revoked/72,"
                                      "vs_ca/consent/pending_consent/72");
    ck_assert_str_eq(db_text("SELECT string_agg(o.destination_id || ':' || o.state || ':' ||"
                             " coalesce(o.last_error, '-'), ',' ORDER BY o.destination_id)"
                             " FROM trafficking.outbox o JOIN trafficking.referrals r"
                             " ON r.id = o.referral_id WHERE r.case_id = %lld",
                             c),
                     "emergency_911:pending:-,le_ca:held:referral revoked,"
                     "nhth:held:referral revoked");
    DB_EQ(2,
          "SELECT count(*) FROM trafficking.referral_history h JOIN trafficking.referrals r"
          " ON r.id = h.referral_id WHERE r.consent_id = %lld AND h.from_state = 'queued'"
          " AND h.to_state = 'revoked' AND h.detail = 'consent %lld revoked: withdrawn in "
          "writing'",
          k, k);
    /* the mandatory reports of another case are untouched */
    ck_assert_str_eq(referrals_of(minor), "cw_ca/mandatory_report/queued/24,"
                                          "le_ca/mandatory_report/queued/24");
    DB_EQ(2,
          "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals r"
          " ON r.id = o.referral_id WHERE r.case_id = %lld AND o.state = 'pending'",
          minor);
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.consents WHERE id = %lld AND revoked_at IS NOT NULL"
          " AND revoke_reason = 'withdrawn in writing'",
          k);
    DB_EQ(1,
          "SELECT count(*) FROM casehost.audit_log WHERE object_type = 'consent'"
          " AND action = 'revoke' AND object_id = %lld",
          k);
    RUN_FAILS(1, "consent", "revoke", kid, "--reason", "again");
    HAS(r.err, "already revoked");
    /* routing again never puts a referral back on the revoked consent */
    RUN_OK(TL_AS, "a_worker", "case", "update", cid, "--county", "Fresno");
    DB_EQ(0,
          "SELECT count(*) FROM trafficking.referrals WHERE consent_id = %lld"
          " AND state NOT IN ('revoked')",
          k);
    assert_outbox_invariants();
}
END_TEST

/* ------------------------------------------------------------ escalation --- */

/*
 * Starts n `casehost tick` as user at the same moment (all wait on one
 * pipe that is then closed) and waits for all; outputs go to out[i].
 */
static void concurrent_ticks(int n, const char *user, int *status, char (*out)[4096])
{
    char bin[1024], path[1200], user_db[1200];
    int gate[2];
    pid_t pids[8];
    snprintf(bin, sizeof(bin), "%s/casehost", tl_env("CASEHOST_TEST_BUILD"));
    snprintf(user_db, sizeof(user_db), "%s", tl_user_db(db, user));
    ck_assert(n <= 8 && pipe(gate) == 0);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        ck_assert(pids[i] >= 0);
        if (pids[i] == 0) {
            char c;
            int fd;
            close(gate[1]);
            while (read(gate[0], &c, 1) < 0 && errno == EINTR)
                ;
            snprintf(path, sizeof(path), "%s/%ld_tick%d.out", tl_env("CASEHOST_TEST_TMP"),
                     (long)getppid(), i);
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd < 0)
                _exit(126);
            dup2(fd, 1);
            dup2(fd, 2);
            setenv("CASEHOST_DB", user_db, 1);
            unsetenv("CASEHOST_USER");
            execl(bin, bin, "-c", cfg, "tick", (char *)NULL);
            _exit(127);
        }
    }
    close(gate[0]);
    close(gate[1]); /* every child's read returns now */
    for (int i = 0; i < n; i++) {
        int st;
        FILE *f;
        size_t k;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
            ;
        status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        snprintf(path, sizeof(path), "%s/%ld_tick%d.out", tl_env("CASEHOST_TEST_TMP"),
                 (long)getpid(), i);
        f = fopen(path, "r");
        ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
        k = fread(out[i], 1, sizeof(out[i]) - 1, f);
        out[i][k] = '\0';
        fclose(f);
    }
}

/* How many times part occurs in text. */
static int occurrences(const char *text, const char *part)
{
    int n = 0;
    for (const char *p = strstr(text, part); p != NULL; p = strstr(p + 1, part))
        n++;
    return n;
}

START_TEST(overdue_referral_escalates_once_when_two_hosts_tick_at_the_same_time)
{
    for (int round = 0; round < 5; round++) {
        long long c = minor_reported_case(), le, cw;
        int status[2];
        char out[2][4096];
        le = db_value("SELECT id FROM trafficking.referrals WHERE case_id = %lld"
                      " AND destination_id = 'le_ca'",
                      c);
        cw = db_value("SELECT id FROM trafficking.referrals WHERE case_id = %lld"
                      " AND destination_id = 'cw_ca'",
                      c);
        /* sent 30 hours ago; both destinations ask for an acknowledgement within 24 */
        db_exec("UPDATE trafficking.outbox SET state = 'sent', sent_at = now() - interval "
                "'30 hours' WHERE referral_id IN (%lld, %lld);"
                " UPDATE trafficking.referrals SET state = 'sent', sent_at = now() - interval "
                "'30 hours' WHERE id IN (%lld, %lld)",
                le, cw, le, cw);
        if (round == 0) {
            /* another agency's tick never reaches A's referrals */
            RUN_OK(TL_AS, "b_svc", "tick");
            DB_EQ(0, "SELECT count(*) FROM trafficking.referrals WHERE escalated_at IS NOT NULL");
        }
        concurrent_ticks(2, "a_svc", status, out);
        ck_assert_msg(status[0] == 0 && status[1] == 0, "ticks exited %d and %d:\n%s\n%s",
                      status[0], status[1], out[0], out[1]);
        ck_assert_msg(
            occurrences(out[0], "not acknowledged") + occurrences(out[1], "not acknowledged") == 2,
            "round %d: want one escalation per referral, the two ticks said:\n%s\n--\n%s", round,
            out[0], out[1]);
        DB_EQ(1,
              "SELECT count(*) FROM trafficking.referral_history WHERE referral_id = %lld"
              " AND detail = 'not acknowledged within 24 h: escalated to task_force_ca'",
              le);
        DB_EQ(1,
              "SELECT count(*) FROM trafficking.referral_history WHERE referral_id = %lld"
              " AND detail = 'not acknowledged within 24 h: no escalation target'",
              cw);
        DB_EQ(2,
              "SELECT count(*) FROM trafficking.referrals WHERE id IN (%lld, %lld)"
              " AND escalated_at IS NOT NULL AND state = 'sent'",
              le, cw);
        ck_assert_str_eq(db_text("SELECT string_agg(destination_id || '/' || basis || '/' ||"
                                 " state || '/' || rule || '/' || urgency, ',')"
                                 " FROM trafficking.referrals WHERE escalation_of = %lld",
                                 le),
                         "task_force_ca/mandatory_report/queued/escalation/immediate");
        DB_EQ(0, "SELECT count(*) FROM trafficking.referrals WHERE escalation_of = %lld", cw);
        DB_EQ(1,
              "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals r"
              " ON r.id = o.referral_id WHERE r.escalation_of = %lld",
              le);
        /* every escalation so far happened once, across rounds too */
        DB_EQ(round + 1, "SELECT count(*) FROM trafficking.referrals WHERE escalation_of"
                         " IS NOT NULL");
        DB_EQ(2 * (round + 1), "SELECT count(*) FROM trafficking.referral_history"
                               " WHERE detail LIKE 'not acknowledged%%'");
    }
    /* a later tick finds nothing new */
    RUN_OK(TL_AS, "a_svc", "tick");
    DB_EQ(10, "SELECT count(*) FROM trafficking.referral_history"
              " WHERE detail LIKE 'not acknowledged%%'");
    RUN_JSON("referral", "overdue");
    {
        json_t *list = json_object_get(doc, "overdue"), *o;
        size_t i;
        int sent = 0;
        json_array_foreach(list, i, o)
        {
            if (strcmp(jstr(o, "state"), "sent") == 0) {
                sent++;
                HAS(jstr(o, "problem"), "not acknowledged within 24 h");
                ck_assert_msg(json_is_string(json_object_get(o, "escalated")),
                              "overdue entry %lld has no escalation time", jint(o, "id"));
            }
        }
        ck_assert_int_eq(sent, 10);
    }
    assert_outbox_invariants();
}
END_TEST

/* --------------------------------------------------------- route explain --- */

START_TEST(route_explain_shows_each_rule_its_sub_conditions_and_the_unused_destinations)
{
    json_t *rules, *outcome, *x;
    size_t i;
    int found = 0;
    RUN_FAILS(1, "route", "explain", "1");
    minor_reported_case();
    /* people first: the summary */
    RUN_OK(TL_AS, "a_worker", "route", "explain", "1");
    HAS(r.out, "Decision 1 for case 1 (screening_completed), ");
    HAS(r.out, "  cw_ca (child_welfare, California child protective services hotline): queued, "
               "due ");
    ck_assert_msg(strstr(r.out, "[20] minor_commercial_sex") == NULL, "a trace without --trace");
    /* admins: every rule and its conditions */
    RUN_OK(TL_AS, "a_worker", "route", "explain", "1", "--trace");
    HAS(r.out, "[10] imminent_danger: no match");
    HAS(r.out, "[20] minor_commercial_sex: MATCHED");
    HAS(r.out, "[60] adult_trafficking_law_enforcement: no match");
    /* sub-conditions with their values, false ones too */
    HAS(r.out, "true   minor\n");
    HAS(r.out, "true   evidence(\"commercial_sex\")");
    HAS(r.out, "false  evidence(\"labour_exploitation\")");
    HAS(r.out, "false  not minor");
    HAS(r.out, "cw_ca (child_welfare) by rule 'minor_commercial_sex': mandatory_report, queued, "
               "due within 24h");
    HAS(r.out, "why: mandatory report: queued whatever the consent");
    HAS(r.out, "le_nv (law_enforcement) by rule 'minor_commercial_sex': wrong jurisdiction: "
               "serves NV, case is in CA");
    HAS(r.out, "cw_nv (child_welfare) by rule 'minor_commercial_sex': wrong jurisdiction");
    DB_EQ(2, "SELECT count(*) FROM casehost.audit_log WHERE action = 'read'"
             " AND object_type = 'decision'");

    RUN_JSON("route", "explain", "1");
    ck_assert_int_eq(jint(json_object_get(doc, "input"), "case_id"), 1);
    ck_assert_int_eq(jint(json_object_get(doc, "input"), "age"), 15);
    rules = json_object_get(doc, "rules");
    ck_assert_uint_eq(json_array_size(rules), 15);
    json_array_foreach(rules, i, x)
    {
        int want = strcmp(jstr(x, "name"), "minor_commercial_sex") == 0;
        ck_assert_msg(json_is_true(json_object_get(x, "matched")) == want, "rule %s matched=%d",
                      jstr(x, "name"), !want);
        ck_assert_msg(jstr(x, "trace")[0] != '\0', "rule %s has no trace", jstr(x, "name"));
    }
    outcome = json_object_get(doc, "outcome");
    ck_assert_uint_eq(json_array_size(json_object_get(outcome, "referrals")), 2);
    ck_assert_str_eq(jstr(json_array_get(json_object_get(outcome, "referrals"), 0), "destination"),
                     "cw_ca");
    json_array_foreach(json_object_get(outcome, "not_used"), i, x)
    {
        if (strcmp(jstr(x, "destination"), "le_nv") == 0) {
            HAS(jstr(x, "reason"), "wrong jurisdiction");
            found = 1;
        }
    }
    ck_assert_msg(found, "le_nv not among the unused:\n%s", r.out);

    /* a destination that would contact a person who must not be contacted */
    {
        long long person = tl_person_add(&cli, "--dob", "1990-01-01"), c;
        char pid[24], cid[24];
        snprintf(pid, sizeof(pid), "%lld", person);
        RUN_OK(TL_AS, "a_worker", "safety", "set", pid, "--do-not-contact", "yes");
        c = add_case(person, NULL);
        tl_screen(&cli, c, "adult", adult_coerced);
        snprintf(cid, sizeof(cid), "%lld", c);
        RUN_OK(TL_AS, "a_worker", "route", "explain", cid);
        HAS(r.out, "Not sent:\n");
        HAS(r.out, "\n  nhth (hotline, National Human Trafficking Hotline): unsafe channel: the "
                   "person must not be contacted");
        RUN_OK(TL_AS, "a_worker", "route", "explain", cid, "--trace");
        HAS(r.out, "nhth (hotline) by rule 'adult_hotline_offer': unsafe channel: the person "
                   "must not be contacted");
        HAS(r.out, "why: no consent for law_enforcement");
    }
}
END_TEST

/* ------------------------------------------------------ what-if and test --- */

/* The referrals of a JSON decision as "destination/basis/state/due_hours,...". */
static void referral_summary(const json_t *referrals, char *buf, size_t len)
{
    size_t i, off = 0;
    json_t *x;
    buf[0] = '\0';
    json_array_foreach(referrals, i, x)
    {
        int n = snprintf(buf + off, len - off, "%s%s/%s/%s/%lld", i ? "," : "",
                         jstr(x, "destination"), jstr(x, "basis"), jstr(x, "state"),
                         (long long)json_integer_value(json_object_get(x, "due_hours")));
        ck_assert(n > 0 && (size_t)n < len - off);
        off += (size_t)n;
    }
}

/* Writes the stored input of case c's latest decision to a .json file; returns its path. */
static const char *stored_input_file(long long c)
{
    static char path[1024];
    char name[64];
    snprintf(name, sizeof(name), "input_%lld.json", c);
    snprintf(path, sizeof(path), "%s",
             tl_write_file(name, db_text("SELECT input::text FROM trafficking.decisions"
                                         " WHERE case_id = %lld ORDER BY id DESC LIMIT 1",
                                         c)));
    return path;
}

/*
 * Runs what-if on case c's stored input (with --config dir, or none when
 * dir is NULL) and checks it makes the stored decision's referrals, which are
 * also what the referrals table holds.
 */
static void assert_what_if_agrees(long long c, const char *dir)
{
    char got[2048], want[2048], path[1024];
    snprintf(path, sizeof(path), "%s", stored_input_file(c));
    if (dir != NULL)
        RUN_JSON("route", "what-if", "--input", path, "--config", dir);
    else
        RUN_JSON("route", "what-if", "--input", path);
    referral_summary(
        json_object_get(json_object_get(json_object_get(doc, "decision"), "outcome"), "referrals"),
        got, sizeof(got));
    snprintf(want, sizeof(want), "%s",
             db_text("SELECT coalesce(string_agg((x->>'destination') || '/' || (x->>'basis') ||"
                     " '/' || (x->>'state') || '/' || (x->>'due_hours'), ',' ORDER BY n), '')"
                     " FROM (SELECT outcome FROM trafficking.decisions WHERE case_id = %lld"
                     " ORDER BY id DESC LIMIT 1) d,"
                     " jsonb_array_elements(d.outcome->'referrals') WITH ORDINALITY t(x, n)",
                     c));
    ck_assert_msg(strcmp(got, want) == 0, "case %lld what-if:\n got  %s\n want %s", c, got, want);
    ck_assert_str_eq(want, db_text("SELECT coalesce(string_agg(destination_id || '/' || basis ||"
                                   " '/' || state || '/' || round(extract(epoch FROM due_at -"
                                   " created_at) / 3600)::int, ',' ORDER BY id), '')"
                                   " FROM trafficking.referrals WHERE case_id = %lld",
                                   c));
}

START_TEST(what_if_on_the_stored_input_makes_the_live_decision)
{
    char dir[1100];
    long long person, cases[3];
    snprintf(dir, sizeof(dir), "%s/conf/trafficking", root);
    {
        static const struct route_row foreign = {
            "foreign national",
            "--age-estimate",
            "14",
            "foreign_national",
            NULL,
            0,
            PHONE_CONTROLLED,
            "youth_quick",
            {"offer_not_as_promised=no", "could_not_leave=yes", "id_money_phone_held=no",
             "exchanged_sex=yes"},
            "completed",
            "cw_ca/mandatory_report/queued/24,hhs_otip/mandatory_report/queued/24,"
            "le_ca/mandatory_report/queued/24"};
        cases[0] = run_route_row(&foreign);
    }
    cases[1] = adult_positive_case(&person);
    tl_consent_add(&cli, person, "kind:law_enforcement");
    cases[2] = run_route_row(&rule4_rows[1]);
    for (int i = 0; i < 3; i++)
        assert_what_if_agrees(cases[i], dir);
    /* the stored input reads back as it was stored */
    RUN_JSON("route", "what-if", "--input", stored_input_file(cases[1]), "--config", dir);
    ck_assert_int_eq(jint(json_object_get(doc, "input"), "case_id"), cases[1]);
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(doc, "input"), "consents")),
                      1);
}
END_TEST

/*
 * Without --config the verbs use the routing configuration on disk (they run
 * without a database: check_route_cli.c), here the one the live generation
 * was deployed from, so what-if makes the stored decision.
 */
START_TEST(what_if_and_routing_test_without_a_config_dir_use_the_configuration_on_disk)
{
    char fixtures[1100];
    long long c = minor_reported_case();
    assert_what_if_agrees(c, NULL);
    snprintf(fixtures, sizeof(fixtures), "%s/conf/trafficking/routing-tests.cfg", root);
    RUN_OK(TL_AS, "a_admin", "routing", "test", fixtures);
    HAS(r.out, "routing fixtures match");
}
END_TEST

START_TEST(routing_test_passes_on_the_shipped_fixtures_and_fails_naming_a_wrong_one)
{
    char fixtures[1200], dir[1100], bad[1024], want[1200];
    snprintf(dir, sizeof(dir), "%s/conf/trafficking", root);
    snprintf(fixtures, sizeof(fixtures), "%s/routing-tests.cfg", dir);
    RUN_JSON("routing", "test", fixtures, "--config", dir);
    ck_assert_int_eq(jint(doc, "failed"), 0);
    ck_assert_int_ge(jint(doc, "fixtures"), 60);

    snprintf(bad, sizeof(bad), "%s",
             tl_write_file(
                 "bad_fixtures.cfg",
                 "fixtures = (\n"
                 "  { name = \"adult_negative_nothing\";\n"
                 "    case = { case_id = 1; age = 52; age_known = true; state = \"NV\";\n"
                 "             screening = { id = 1; instrument = \"adult\"; version = 1;\n"
                 "                           result = \"negative\"; band = \"negative\";\n"
                 "                           score = 0; stopped = false; }; };\n"
                 "    expect = { referrals = ( ); matched = [ ]; }; },\n"
                 "  { name = \"minor_due_wrongly_72h\";\n"
                 "    case = { case_id = 2; age = 15; age_known = true; state = \"CA\";\n"
                 "             screening = { id = 2; instrument = \"youth_quick\"; version = 1;\n"
                 "                           result = \"positive\"; band = \"positive\";\n"
                 "                           score = 1; stopped = false; };\n"
                 "             indicators = [\"exchanged_sex\"];\n"
                 "             domain_scores = { sex_trafficking = 1; }; };\n"
                 "    expect = { referrals = (\n"
                 "      { destination = \"cw_ca\"; basis = \"mandatory_report\"; due_hours = 72;\n"
                 "        state = \"queued\"; },\n"
                 "      { destination = \"le_ca\"; basis = \"mandatory_report\"; due_hours = 24;\n"
                 "        state = \"queued\"; } ); }; }\n"
                 ");\n"));
    RUN_FAILS(1, "routing", "test", bad, "--config", dir);
    snprintf(want, sizeof(want), "fixture 'minor_due_wrongly_72h' (%s:8): 1 difference", bad);
    HAS(r.out, want);
    HAS(r.out, "different  cw_ca: expected mandatory_report, queued, due 72h; got "
               "mandatory_report, queued, due 24h");
    ck_assert_msg(strstr(r.out, "adult_negative_nothing") == NULL, "a passing fixture shown:\n%s",
                  r.out);
    HAS(r.err, "1 of 2 routing fixtures do not match");
}
END_TEST

/* ---------------------------------------------------------------- replay --- */

static void spill(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/*
 * A copy of conf/trafficking (destinations and routing) in dir, with the one
 * occurrence of from in routing.cfg replaced by to.
 */
static void candidate_config(const char *dir, const char *from, const char *to)
{
    char src[1200], dst[1200];
    char *d, *rt, *at, *edited;
    size_t n;
    ck_assert_msg(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
    snprintf(src, sizeof(src), "%s/conf/trafficking/destinations.cfg", root);
    snprintf(dst, sizeof(dst), "%s/destinations.cfg", dir);
    d = tl_read_file(src);
    spill(dst, d);
    snprintf(src, sizeof(src), "%s/conf/trafficking/routing.cfg", root);
    snprintf(dst, sizeof(dst), "%s/routing.cfg", dir);
    rt = tl_read_file(src);
    at = strstr(rt, from);
    ck_assert_msg(at != NULL && strstr(at + 1, from) == NULL, "'%s' is not once in routing.cfg",
                  from);
    n = strlen(rt) - strlen(from) + strlen(to) + 1;
    edited = malloc(n);
    ck_assert(edited != NULL);
    snprintf(edited, n, "%.*s%s%s", (int)(at - rt), rt, to, at + strlen(from));
    spill(dst, edited);
    free(d);
    free(rt);
    free(edited);
}

#define RULE1_TAIL "stop = false;\n    note = \"child sex trafficking"

static const struct {
    const char *name, *from, *to, *changes;
} edits[] = {
    {"due", "due_hours = 24;\n    " RULE1_TAIL, "due_hours = 12;\n    " RULE1_TAIL,
     "~ cw_ca: due 24h -> 12h\n~ le_ca: due 24h -> 12h\n"},
    {"refer",
     "refer = [\"kind:child_welfare\", \"kind:law_enforcement\"];\n"
     "    basis = \"mandatory_report\"; urgency = \"24h\"; due_hours = 24;\n    " RULE1_TAIL,
     "refer = [\"kind:child_welfare\"];\n"
     "    basis = \"mandatory_report\"; urgency = \"24h\"; due_hours = 24;\n    " RULE1_TAIL,
     "- le_ca"},
};

struct row_counts {
    long long decisions, referrals, outbox, history;
};

static struct row_counts row_counts(void)
{
    struct row_counts n;
    n.decisions = db_value("SELECT count(*) FROM trafficking.decisions");
    n.referrals = db_value("SELECT count(*) FROM trafficking.referrals");
    n.outbox = db_value("SELECT count(*) FROM trafficking.outbox");
    n.history = db_value("SELECT count(*) FROM trafficking.referral_history");
    return n;
}

START_TEST(replay_reports_the_decisions_an_edited_config_changes_and_writes_nothing)
{
    char dir[1100], same[1100];
    struct row_counts before, after;
    json_t *changes;
    long long person, minor;
    minor = minor_reported_case();
    adult_positive_case(&person);
    snprintf(dir, sizeof(dir), "%s/%ld_candidate_%s", tl_env("CASEHOST_TEST_TMP"), (long)getpid(),
             edits[_i].name);
    candidate_config(dir, edits[_i].from, edits[_i].to);
    before = row_counts();

    RUN_JSON("routing", "replay", "--config", dir);
    ck_assert_int_eq(jint(doc, "decisions_replayed"), 2);
    ck_assert_int_eq(jint(doc, "decisions_changed"), 1);
    changes = json_object_get(doc, "changes");
    ck_assert_uint_eq(json_array_size(changes), 1);
    ck_assert_int_eq(strtoll(jstr(json_array_get(changes, 0), "case"), NULL, 10), minor);
    HAS(jstr(json_array_get(changes, 0), "changes"), edits[_i].changes);
    HAS_MESSAGE("1 of 2 stored decisions would change; nothing was written");
    after = row_counts();
    ck_assert_msg(memcmp(&before, &after, sizeof(before)) == 0,
                  "replay wrote: decisions %lld->%lld referrals %lld->%lld outbox %lld->%lld "
                  "history %lld->%lld",
                  before.decisions, after.decisions, before.referrals, after.referrals,
                  before.outbox, after.outbox, before.history, after.history);
    /* the referrals themselves are as they were */
    ck_assert_str_eq(referrals_of(minor), "cw_ca/mandatory_report/queued/24,"
                                          "le_ca/mandatory_report/queued/24");

    snprintf(same, sizeof(same), "%s/conf/trafficking", root);
    RUN_JSON("routing", "replay", "--config", same);
    ck_assert_int_eq(jint(doc, "decisions_replayed"), 2);
    ck_assert_int_eq(jint(doc, "decisions_changed"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "changes")), 0);
    RUN_JSON("routing", "replay", "--config", dir, "--since", "2999-01-01");
    ck_assert_int_eq(jint(doc, "decisions_replayed"), 0);
    after = row_counts();
    ck_assert(memcmp(&before, &after, sizeof(before)) == 0);
}
END_TEST

/*
 * A decision stored from a version 1 screening replays with version 1's own
 * classes (its class-mapping file), under today's policy. The input is made
 * into one here: the disclosure item of version 1 sat in the sex_trafficking
 * domain, which the old policy read as commercial sex; by its classes it is
 * an unclear disclosure with coercion, so replay drops the police report and
 * adds the children's advocacy centre.
 */
START_TEST(replay_routes_a_stored_version_1_screening_with_its_own_classes)
{
    char same[1100];
    const char *changes;
    long long minor = minor_reported_case();
    /* (as stored before inputs listed every screening: the one screening alone) */
    db_exec("UPDATE trafficking.decisions SET input = jsonb_set(jsonb_set(jsonb_set("
            " input - 'screenings', '{screening,version}', '1'), '{screening,stopped}', 'true'),"
            " '{indicators}', '[\"could_not_leave\", \"someone_making_you_now\"]')"
            " WHERE case_id = %lld",
            minor);
    snprintf(same, sizeof(same), "%s/conf/trafficking", root);
    RUN_JSON("routing", "replay", "--config", same);
    ck_assert_int_eq(jint(doc, "decisions_changed"), 1);
    changes = jstr(json_array_get(json_object_get(doc, "changes"), 0), "changes");
    HAS(changes, "- le_ca");
    HAS(changes, "+ fic_ca");
    ck_assert_msg(strstr(changes, "cw_ca") == NULL || strstr(changes, "- cw_ca") == NULL,
                  "child welfare must stay referred:\n%s", changes);
}
END_TEST

/* ----------------------------------------------------- agency separation --- */

START_TEST(other_agency_sees_no_referrals_decisions_consents_or_outbox)
{
    static const char *const tables[] = {"decisions", "referrals", "referral_history", "outbox"};
    long long person;
    PGconn *a, *b;
    minor_reported_case();
    adult_positive_case(&person);
    tl_consent_add(&cli, person, "kind:law_enforcement");
    record_safety(person, PHONE_CONTROLLED);

    a = as_app("a_worker");
    b = as_app("b_worker");
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[200];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM trafficking.%s", tables[i]);
        ck_assert_msg(tl_value(b, sql) == 0, "agency B sees %lld rows of %s", tl_value(b, sql),
                      tables[i]);
        ck_assert_msg(tl_value(a, sql) > 0, "agency A sees no rows of %s", tables[i]);
    }
    /* consent and safe contact details: no direct read at all, only audited functions */
    ck_assert_int_eq(tl_value(a, "SELECT count(*) FROM trafficking.consents"), -1);
    ck_assert_int_eq(tl_value(a, "SELECT count(*) FROM trafficking.safe_contact"), -1);
    ck_assert_int_gt(tl_value(a, "SELECT count(*) FROM trafficking.consents_of_v1(2)"), 0);
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.consents_of_v1(2)"), -1);
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.safe_contact_of_v1(2)"), -1);
    PQfinish(a);
    PQfinish(b);

    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "referral", "ack", "1", NULL), 1);
    HAS(r.err, "referral 1 not found");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "referral", "show", "1", NULL), 1);
    HAS(r.err, "referral 1 not found");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "route", "explain", "1", NULL), 1);
    HAS(r.err, "has no routing decision");
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "b_worker", "consent", "revoke", "1", "--reason", "x", NULL), 1);
    HAS(r.err, "consent 1 not found");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "--json", "referral", "list", NULL), 0);
    parse_doc();
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "referrals")), 0);
    /* A's rows are untouched by B's attempts */
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals WHERE id = 1"), "queued");
    DB_EQ(0, "SELECT count(*) FROM trafficking.consents WHERE revoked_at IS NOT NULL");
}
END_TEST

static Suite *routing_db_suite(void)
{
    Suite *s = suite_create("routing_db");
    TCase *rules = tcase_create("domain_rules");
    TCase *life = tcase_create("lifecycle");
    TCase *admin = tcase_create("admin");
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
    tcase_add_checked_fixture(rules, setup, teardown);
    tcase_set_timeout(rules, 180);
    tcase_add_loop_test(
        rules, minor_or_unknown_age_with_commercial_sex_is_reported_within_24h_whatever_the_consent,
        0, N(rule1_rows));
    tcase_add_loop_test(rules,
                        labour_indicators_without_force_fraud_or_coercion_reach_no_law_enforcement,
                        0, N(rule2_rows));
    tcase_add_test(rules, runaway_return_screening_is_routed_when_it_is_done);
    tcase_add_loop_test(rules, disclosure_stops_the_screening_and_routes_to_a_forensic_interview, 0,
                        N(rule4_rows));
    tcase_add_test(
        rules, adult_positive_without_consent_waits_for_it_and_consent_queues_without_duplicates);
    tcase_add_test(rules,
                   imminent_danger_refers_to_emergency_at_once_and_overrides_every_other_flow);
    tcase_add_test(rules, nothing_leaves_without_consent_or_a_legal_basis);
    tcase_add_test(
        rules, contacting_destinations_are_not_used_when_the_only_channel_is_a_controlled_phone);
    tcase_add_test(rules,
                   escalation_of_a_consent_based_referral_waits_for_consent_to_the_new_recipient);
    tcase_add_test(rules, positive_screen_asks_for_assessment_and_records_no_finding);
    suite_add_tcase(s, rules);

    tcase_add_checked_fixture(life, setup, teardown);
    tcase_set_timeout(life, 300);
    tcase_add_loop_test(
        life, referral_moves_follow_the_lifecycle_and_refusals_name_the_allowed_moves, 0, N(moves));
    tcase_add_test(life, referral_lifecycle_from_queued_to_closed_is_kept_in_history);
    tcase_add_test(life,
                   consent_revoked_after_queueing_revokes_its_referrals_and_holds_their_outbox);
    tcase_add_test(life, overdue_referral_escalates_once_when_two_hosts_tick_at_the_same_time);
    suite_add_tcase(s, life);

    tcase_add_checked_fixture(admin, setup, teardown);
    tcase_set_timeout(admin, 180);
    tcase_add_test(admin,
                   route_explain_shows_each_rule_its_sub_conditions_and_the_unused_destinations);
    tcase_add_test(admin, what_if_on_the_stored_input_makes_the_live_decision);
    tcase_add_test(admin,
                   what_if_and_routing_test_without_a_config_dir_use_the_configuration_on_disk);
    tcase_add_test(admin, routing_test_passes_on_the_shipped_fixtures_and_fails_naming_a_wrong_one);
    tcase_add_loop_test(admin,
                        replay_reports_the_decisions_an_edited_config_changes_and_writes_nothing, 0,
                        N(edits));
    tcase_add_test(admin, replay_routes_a_stored_version_1_screening_with_its_own_classes);
    tcase_add_test(admin, other_agency_sees_no_referrals_decisions_consents_or_outbox);
    suite_add_tcase(s, admin);
#undef N
    return s;
}

CHECK_MAIN(routing_db_suite())
