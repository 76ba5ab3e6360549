/*
 * check_reports.c: `casehost report screenings|referrals|deadlines|equity|
 * consent` against a real PostgreSQL with a data set generated across three
 * agencies (cases, screenings, decisions, referrals and their history,
 * consents and declines, written as the database owner). Every figure the
 * program prints is checked against a plain query of the owner's over the
 * same rows; another agency's rows never count; a caseworker counts only
 * their own work, a supervisor the agency's; days are the agency's; bad
 * dates, from after to and an unknown --by are usage errors; each run is
 * audited.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "db/report.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024];
static json_t *doc;

#include "testcli.h"

/* An agency's id, in SQL. */
#define AG(name) "(SELECT id FROM casehost.agencies WHERE name = '" name "')"
/* A user's id, in SQL. */
#define USER(name) "(SELECT id FROM casehost.users WHERE name = '" name "')"

/*
 * n young people of agency, each with one case (assigned to w1 for even i,
 * else w2) made 2i days after 2026-03-01 12:00 UTC, and one screening made
 * with the case: by i % 6 suggested, completed positive, completed
 * negative, stopped positive (a disclosure), declined, completed possible;
 * half of them after a runaway return (due 24 hours after), finished 0, 20
 * or 40 hours after they were made.
 */
static void generate(const char *agency, int n, const char *w1, const char *w2)
{
    tl_db_execf(
        db,
        "WITH p AS (INSERT INTO casehost.people (agency_id, given_name, date_of_birth,"
        "                 gender_identity, language, interpreter_needed)"
        "  SELECT a.id, 'gen' || i, date '2010-06-01' - (i %% 10) * 365,"
        "         (ARRAY['female', 'male', 'transgender female', NULL])[i %% 4 + 1],"
        "         CASE WHEN i %% 3 = 0 THEN 'es' ELSE 'en' END, i %% 6 = 0"
        "    FROM casehost.agencies a, generate_series(1, %d) i WHERE a.name = '%s'"
        "  RETURNING id, agency_id, substr(given_name, 4)::int AS i)"
        " INSERT INTO casehost.cases (agency_id, title, assignee_id, subject_id, created_by,"
        "                             created_at, updated_at)"
        " SELECT p.agency_id, 'gen' || p.i,"
        "        CASE WHEN p.i %% 2 = 0 THEN u1.id ELSE u2.id END, p.id, u1.id,"
        "        timestamptz '2026-03-01 12:00+00' + p.i * interval '2 days',"
        "        timestamptz '2026-03-01 12:00+00' + p.i * interval '2 days'"
        "   FROM p, casehost.users u1, casehost.users u2"
        "  WHERE u1.name = '%s' AND u2.name = '%s'",
        n, agency, w1, w2);
    tl_db_execf(
        db,
        "INSERT INTO trafficking.screenings (agency_id, case_id, instrument_id, state, trigger,"
        "    due_at, result, decline_reason, screener_id, created_by, created_at, started_at,"
        "    finished_at)"
        " SELECT c.agency_id, c.id, CASE WHEN k.i %% 2 = 0 THEN 'qyit' ELSE 'ed_short' END,"
        "        (ARRAY['suggested', 'completed', 'completed', 'stopped', 'declined',"
        "               'completed'])[k.i %% 6 + 1],"
        "        CASE WHEN k.i %% 2 = 0 THEN 'runaway_return' ELSE 'manual' END,"
        "        c.created_at + interval '24 hours',"
        "        (ARRAY[NULL, 'positive', 'negative', 'positive', NULL, 'possible'])[k.i %% 6 + 1],"
        "        CASE WHEN k.i %% 6 = 4 THEN 'not now' END,"
        "        CASE WHEN k.i %% 6 <> 0 THEN c.assignee_id END, c.assignee_id, c.created_at,"
        "        CASE WHEN k.i %% 6 <> 0 THEN c.created_at END,"
        "        CASE WHEN k.i %% 6 <> 0 THEN c.created_at + (k.i %% 3) * interval '20 hours' END"
        "   FROM casehost.cases c CROSS JOIN LATERAL (SELECT substr(c.title, 4)::int AS i) k"
        "  WHERE c.agency_id = " AG("%s") " AND c.title LIKE 'gen%%'",
        agency);
}

/*
 * For every positive screening: a routing decision and a mandatory report
 * to child welfare due 24 hours after the screening, queued an hour after
 * it, then (by i % 3) left queued, sent or acknowledged; sent 10 to 40
 * hours after the screening, acknowledged 0 to 80 hours after it was sent
 * (48 allowed). For every possible one: a referral to legal aid waiting for
 * consent. A consent for every fourth person (some revoked, all expired 30
 * days on) and a refusal of the police by every fifth.
 */
static void generate_referrals(void)
{
    tl_db_execf(
        db,
        "WITH d AS (INSERT INTO trafficking.decisions (agency_id, case_id, screening_id, cause,"
        "                config_hash, input, rules, outcome, decided_at)"
        "  SELECT s.agency_id, s.case_id, s.id, 'screening_completed', 'gen', '{}', '[]', '{}',"
        "         s.finished_at FROM trafficking.screenings s WHERE s.result IN ('positive',"
        "         'possible') RETURNING id, screening_id)"
        " INSERT INTO trafficking.referrals (agency_id, case_id, decision_id, destination_id,"
        "     destination_kind, rule, basis, urgency, due_at, ack_sla_hours, state, fields,"
        "     follow_up_owner, sent_at, created_at, idempotency_key)"
        " SELECT s.agency_id, s.case_id, d.id,"
        "        CASE WHEN s.result = 'positive' THEN 'county_cps' ELSE 'legal_aid' END,"
        "        CASE WHEN s.result = 'positive' THEN 'child_welfare' ELSE 'legal_aid' END, 'gen',"
        "        CASE WHEN s.result = 'positive' THEN 'mandatory_report' ELSE 'consent' END,"
        "        'urgent', s.finished_at + interval '24 hours', 48,"
        "        CASE WHEN s.result = 'possible' THEN 'pending_consent'"
        "             ELSE (ARRAY['queued', 'sent', 'acknowledged'])[k.i %% 3 + 1] END, '{}',"
        "        c.assignee_id,"
        "        CASE WHEN s.result = 'positive' AND k.i %% 3 > 0"
        "             THEN s.finished_at + (k.i %% 4 + 1) * interval '10 hours' END,"
        "        s.finished_at + interval '1 hour', 'gen-' || d.id"
        "   FROM d JOIN trafficking.screenings s ON s.id = d.screening_id"
        "   JOIN casehost.cases c ON c.id = s.case_id"
        "  CROSS JOIN LATERAL (SELECT substr(c.title, 4)::int AS i) k");
    tl_db_execf(db,
                "INSERT INTO trafficking.referral_history (referral_id, agency_id, at, to_state,"
                "                                         detail)"
                " SELECT r.id, r.agency_id, r.created_at, CASE WHEN r.state = 'pending_consent'"
                "        THEN 'pending_consent' ELSE 'queued' END, 'gen'"
                "   FROM trafficking.referrals r");
    tl_db_execf(db,
                "INSERT INTO trafficking.referral_history (referral_id, agency_id, at, to_state,"
                "                                         detail)"
                " SELECT r.id, r.agency_id, r.sent_at, 'sent', 'gen' FROM trafficking.referrals r"
                "  WHERE r.sent_at IS NOT NULL"
                " UNION ALL"
                " SELECT r.id, r.agency_id, r.sent_at + (k.i %% 5) * interval '20 hours',"
                "        'acknowledged', 'gen'"
                "   FROM trafficking.referrals r JOIN casehost.cases c ON c.id = r.case_id"
                "  CROSS JOIN LATERAL (SELECT substr(c.title, 4)::int AS i) k"
                "  WHERE r.state = 'acknowledged'");
    tl_db_execf(
        db, "INSERT INTO trafficking.consents (agency_id, person_id, purpose, recipients,"
            "    legal_regime, granted_at, expires_at, revoked_at, revoke_reason, recorded_by)"
            " SELECT c.agency_id, c.subject_id,"
            "        CASE WHEN k.i %% 8 = 0 THEN 'referral' ELSE 'services' END,"
            "        CASE WHEN k.i %% 3 = 0 THEN ARRAY['kind:legal_aid', 'kind:shelter']"
            "             ELSE ARRAY['kind:legal_aid'] END, 'vawa_voca', c.created_at,"
            "        c.created_at + interval '30 days',"
            "        CASE WHEN k.i %% 12 = 0 THEN c.created_at + interval '5 days' END,"
            "        CASE WHEN k.i %% 12 = 0 THEN 'changed their mind' END, c.assignee_id"
            "   FROM casehost.cases c CROSS JOIN LATERAL (SELECT substr(c.title, 4)::int AS i) k"
            "  WHERE c.title LIKE 'gen%%' AND k.i %% 4 = 0");
    tl_db_execf(
        db, "INSERT INTO trafficking.declines (agency_id, person_id, recipient, declined_at,"
            "                                 recorded_by)"
            " SELECT c.agency_id, c.subject_id, 'kind:law_enforcement', c.created_at,"
            "        c.assignee_id"
            "   FROM casehost.cases c CROSS JOIN LATERAL (SELECT substr(c.title, 4)::int AS i) k"
            "  WHERE c.title LIKE 'gen%%' AND k.i %% 5 = 0");
}

static void setup(void)
{
    PGconn *c;
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    tl_seed_agencies(db, cfg);
    c = tl_connect(db);
    tl_sql_ok(c, "SELECT casehost.agency_add('C', NULL, 'MT', NULL)", 0, NULL);
    PQfinish(c);
    tl_add_user(db, NULL, "c_admin", "admin", "C");
    tl_add_user(db, "a_admin", "a_sup", "supervisor", "A");
    tl_add_user(db, "a_admin", "a_worker2", "caseworker", "A");
    tl_add_user(db, "c_admin", "c_worker", "caseworker", "C");
    generate("A", 40, "a_worker", "a_worker2");
    generate("B", 25, "b_worker", "b_admin");
    generate("C", 15, "c_worker", "c_admin");
    generate_referrals();
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

/* Runs `report` as user with --json and the arguments, and parses its output into doc. */
#define REPORT(user, ...)                                                                          \
    do {                                                                                           \
        RUN_OK(TL_AS, user, "--json", "report", __VA_ARGS__);                                      \
        parse_doc();                                                                               \
    } while (0)

/* The totals object of doc. */
static json_t *totals(void)
{
    json_t *t = json_object_get(doc, "totals");
    ck_assert_msg(json_is_object(t), "no totals in:\n%s", r.out);
    return t;
}

/* The row of doc's array key whose member group is value, or the test fails. */
static json_t *row(const char *key, const char *group, const char *value)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(doc, key), i, o)
    {
        if (strcmp(jstr(o, group), value) == 0)
            return o;
    }
    ck_abort_msg("no %s row with %s '%s' in:\n%s", key, group, value, r.out);
    return NULL;
}

/* The sum of member of every row of doc's array key. */
static long long column_sum(const char *key, const char *member)
{
    size_t i;
    json_t *o;
    long long sum = 0;
    json_array_foreach(json_object_get(doc, key), i, o) sum += jint(o, member);
    return sum;
}

/* A figure of doc's object o checked against the owner's count over the same rows. */
#define FIGURE_EQ(o, member, ...)                                                                  \
    do {                                                                                           \
        long long want_ = tl_db_valuef(db, __VA_ARGS__);                                           \
        ck_assert_msg(jint((o), (member)) == want_, "%s: %lld, want %lld (%s)\n%s", (member),      \
                      jint((o), (member)), want_, #__VA_ARGS__, r.out);                            \
    } while (0)

/* Screenings of agency A (the owner's view: every row, no security). */
#define A_SCREENINGS "SELECT count(*) FROM trafficking.screenings WHERE agency_id = " AG("A")

START_TEST(screening_figures_match_the_owners_counts_and_only_the_agency_counts)
{
    json_t *t, *m;
    REPORT("a_admin", "screenings");
    t = totals();
    FIGURE_EQ(t, "screenings", A_SCREENINGS);
    FIGURE_EQ(t, "suggested", A_SCREENINGS " AND trigger <> 'manual'");
    FIGURE_EQ(t, "completed", A_SCREENINGS " AND state = 'completed'");
    FIGURE_EQ(t, "stopped_on_disclosure", A_SCREENINGS " AND state = 'stopped'");
    FIGURE_EQ(t, "declined", A_SCREENINGS " AND state = 'declined'");
    FIGURE_EQ(t, "overdue", A_SCREENINGS " AND state = 'suggested' AND due_at < now()");
    FIGURE_EQ(t, "positive", A_SCREENINGS " AND result = 'positive'");
    FIGURE_EQ(t, "possible", A_SCREENINGS " AND result = 'possible'");
    ck_assert_str_eq(jstr(t, "positive_pct"),
                     tl_db_textf(db, "SELECT round(100.0 * count(*) FILTER (WHERE result ="
                                     " 'positive') / count(result), 1)::text"
                                     " FROM trafficking.screenings WHERE agency_id = " AG("A")));
    /* the other agencies' rows are there, and count nowhere */
    ck_assert_int_gt(tl_db_valuef(db, "SELECT count(*) FROM trafficking.screenings"),
                     jint(t, "screenings"));
    /* by month: each month's row is that month's screenings; the rows add up to the totals */
    m = row("screenings", "period", "2026-04");
    FIGURE_EQ(m, "screenings",
              A_SCREENINGS " AND created_at >= '2026-04-01' AND created_at < '2026-05-01'");
    FIGURE_EQ(m, "positive",
              A_SCREENINGS " AND result = 'positive' AND created_at >= '2026-04-01'"
                           " AND created_at < '2026-05-01'");
    ck_assert_int_eq(column_sum("screenings", "screenings"), jint(t, "screenings"));
    ck_assert_int_eq(column_sum("screenings", "positive"), jint(t, "positive"));
    HAS_MESSAGE("asks for further assessment");

    REPORT("b_admin", "screenings", "--by", "instrument");
    FIGURE_EQ(totals(), "screenings",
              "SELECT count(*) FROM trafficking.screenings WHERE agency_id = " AG("B"));
    FIGURE_EQ(row("screenings", "instrument", "qyit"), "screenings",
              "SELECT count(*) FROM trafficking.screenings WHERE agency_id = " AG(
                  "B") " AND instrument_id = 'qyit'");
    /* as text: the groups as a table, then the totals */
    RUN_OK(TL_AS, "b_admin", "report", "screenings", "--by", "instrument");
    HAS(r.out, "ed_short");
    HAS(r.out, "Stopped on disclosure");
    HAS(r.out, "Positive pct");
}
END_TEST

START_TEST(a_caseworker_counts_their_own_work_and_a_supervisor_the_agencys)
{
    REPORT("a_sup", "screenings", "--by", "caseworker");
    FIGURE_EQ(totals(), "screenings", A_SCREENINGS);
    FIGURE_EQ(row("screenings", "caseworker", "a_worker2"), "screenings",
              A_SCREENINGS " AND coalesce(screener_id, (SELECT assignee_id FROM casehost.cases c"
                           " WHERE c.id = case_id)) = " USER("a_worker2"));

    REPORT("a_worker", "screenings", "--by", "caseworker");
    FIGURE_EQ(totals(), "screenings",
              A_SCREENINGS " AND (screener_id = " USER(
                  "a_worker") " OR case_id IN (SELECT id"
                              " FROM casehost.cases WHERE assignee_id = " USER("a_worker") "))");
    ck_assert_int_eq(json_array_size(json_object_get(doc, "screenings")), 1);
    ck_assert_int_lt(jint(totals(), "screenings"), tl_db_valuef(db, A_SCREENINGS));

    REPORT("a_worker", "referrals");
    FIGURE_EQ(
        totals(), "referrals",
        "SELECT count(*) FROM trafficking.referrals WHERE follow_up_owner = " USER("a_worker"));
    REPORT("a_worker", "consent");
    FIGURE_EQ(totals(), "granted",
              "SELECT count(*) FROM trafficking.consents WHERE recorded_by = " USER("a_worker"));
    REPORT("a_worker", "equity");
    FIGURE_EQ(totals(), "people",
              "SELECT count(DISTINCT subject_id) FROM casehost.cases WHERE assignee_id = " USER(
                  "a_worker"));
}
END_TEST

/* Hours from the screening to col over agency A's referrals, at percentile p, as text. */
static const char *hours(const char *col, const char *p)
{
    return tl_db_textf(db,
                       "SELECT round(percentile_cont(%s) WITHIN GROUP (ORDER BY"
                       " extract(epoch FROM %s - s.finished_at)::float8 / 3600)::numeric, 1)::text"
                       "  FROM trafficking.referrals r"
                       "  JOIN trafficking.decisions d ON d.id = r.decision_id"
                       "  JOIN trafficking.screenings s ON s.id = d.screening_id"
                       "  LEFT JOIN LATERAL (SELECT min(h.at) FILTER (WHERE h.to_state ="
                       "    'acknowledged') AS ack_at FROM trafficking.referral_history h"
                       "   WHERE h.referral_id = r.id) h ON true"
                       " WHERE r.agency_id = " AG("A"),
                       p, col);
}

#define A_REFERRALS "SELECT count(*) FROM trafficking.referrals WHERE agency_id = " AG("A")

START_TEST(referral_times_are_medians_and_90th_percentiles_from_the_screening)
{
    json_t *t, *cps;
    REPORT("a_admin", "referrals", "--by", "destination");
    t = totals();
    FIGURE_EQ(t, "referrals", A_REFERRALS);
    FIGURE_EQ(t, "pending_consent", A_REFERRALS " AND state = 'pending_consent'");
    FIGURE_EQ(t, "sent", A_REFERRALS " AND sent_at IS NOT NULL");
    FIGURE_EQ(t, "acknowledged", A_REFERRALS " AND state = 'acknowledged'");
    ck_assert_str_eq(jstr(t, "queued_median_hours"), "1.0");
    ck_assert_str_eq(jstr(t, "sent_median_hours"), hours("r.sent_at", "0.5"));
    ck_assert_str_eq(jstr(t, "sent_p90_hours"), hours("r.sent_at", "0.9"));
    ck_assert_str_eq(jstr(t, "acknowledged_median_hours"), hours("h.ack_at", "0.5"));
    ck_assert_str_eq(jstr(t, "acknowledged_p90_hours"), hours("h.ack_at", "0.9"));
    cps = row("referrals", "destination", "county_cps");
    FIGURE_EQ(cps, "referrals", A_REFERRALS " AND destination_id = 'county_cps'");
    ck_assert_int_eq(column_sum("referrals", "referrals"), jint(t, "referrals"));
}
END_TEST

/*
 * A referral's figures as the owner computes them over agency A's rows only: its first
 * queued and acknowledged move in A's history, and its decision's screening when finished.
 */
#define A_MOVES                                                                                    \
    " FROM trafficking.referrals r"                                                                \
    " LEFT JOIN (SELECT d.id, s.finished_at FROM trafficking.decisions d"                          \
    "   JOIN trafficking.screenings s ON s.id = d.screening_id AND s.state IN ('completed',"       \
    "   'stopped') AND s.agency_id = d.agency_id WHERE d.agency_id = " AG(                         \
        "A") ") s"                                                                                 \
             "   ON s.id = r.decision_id"                                                          \
             " LEFT JOIN LATERAL (SELECT (SELECT min(h.at) FROM trafficking.referral_history h"    \
             "   WHERE h.referral_id = r.id AND h.agency_id = r.agency_id AND h.to_state = "       \
             "'queued') q,"                                                                        \
             "   (SELECT min(h.at) FROM trafficking.referral_history h WHERE h.referral_id = r.id" \
             "   AND h.agency_id = r.agency_id AND h.to_state = 'acknowledged') a) h ON true"      \
             " WHERE r.agency_id = " AG("A")

/* Hours from the screening to col (q: queued, a: acknowledged) at percentile p, as text. */
static const char *moved_hours(const char *col, const char *p)
{
    return tl_db_textf(db,
                       "SELECT round(percentile_cont(%s) WITHIN GROUP (ORDER BY extract(epoch"
                       " FROM h.%s - s.finished_at)::float8 / 3600)::numeric, 1)::text" A_MOVES,
                       p, col);
}

START_TEST(referrals_without_history_or_decision_and_with_repeated_moves_count_once)
{
    json_t *t;
    /* by agency A's referral ids: no history; moves repeated later; no decision; and a
       move of another agency's, earlier, that A's people may not see */
    tl_db_execf(db, "WITH r AS (SELECT id, row_number() OVER (ORDER BY id) AS n"
                    "  FROM trafficking.referrals WHERE agency_id = " AG(
                        "A") ")"
                             " DELETE FROM trafficking.referral_history h USING r"
                             "  WHERE h.referral_id = r.id AND r.n %% 5 = 1");
    tl_db_execf(db,
                "INSERT INTO trafficking.referral_history (referral_id, agency_id, at,"
                "     to_state, detail)"
                " SELECT h.referral_id, h.agency_id, h.at + interval '7 hours', h.to_state,"
                "        'again' FROM trafficking.referral_history h"
                "  WHERE h.agency_id = " AG(
                    "A") " AND h.referral_id %% 3 = 0"
                         " UNION ALL"
                         " SELECT h.referral_id, " AG(
                             "B") ", h.at - interval '9 hours', h.to_state,"
                                  "        'foreign' FROM trafficking.referral_history h"
                                  "  WHERE h.agency_id = " AG("A") " AND h.referral_id %% 4 = 0");
    tl_db_execf(db, "UPDATE trafficking.referrals SET decision_id = NULL"
                    " WHERE agency_id = " AG("A") " AND id %% 7 = 0");
    ck_assert_int_gt(
        tl_db_valuef(db, "SELECT count(*) FROM trafficking.referrals r"
                         " WHERE r.agency_id = " AG("A") " AND NOT EXISTS (SELECT 1"
                                                         " FROM trafficking.referral_history h"
                                                         " WHERE h.referral_id = r.id)"),
        0);
    REPORT("a_admin", "referrals", "--by", "state");
    t = totals();
    FIGURE_EQ(t, "referrals", A_REFERRALS);
    FIGURE_EQ(t, "queued", "SELECT count(h.q)" A_MOVES);
    FIGURE_EQ(t, "acknowledged", "SELECT count(h.a)" A_MOVES);
    ck_assert_str_eq(jstr(t, "queued_median_hours"), moved_hours("q", "0.5"));
    ck_assert_str_eq(jstr(t, "queued_p90_hours"), moved_hours("q", "0.9"));
    ck_assert_str_eq(jstr(t, "acknowledged_median_hours"), moved_hours("a", "0.5"));
    ck_assert_str_eq(jstr(t, "acknowledged_p90_hours"), moved_hours("a", "0.9"));
    ck_assert_int_eq(column_sum("referrals", "queued"), jint(t, "queued"));
    REPORT("a_admin", "deadlines");
    FIGURE_EQ(totals(), "acks_met",
              "SELECT count(*)" A_MOVES " AND h.a <= r.sent_at + make_interval(hours =>"
              " r.ack_sla_hours)");
}
END_TEST

START_TEST(deadlines_met_and_missed_and_runaway_return_screenings)
{
    json_t *t, *run;
    REPORT("a_admin", "deadlines");
    t = totals();
    FIGURE_EQ(t, "reports_due", A_REFERRALS " AND basis = 'mandatory_report'");
    FIGURE_EQ(t, "reports_met",
              A_REFERRALS " AND basis = 'mandatory_report' AND sent_at <= due_at");
    FIGURE_EQ(t, "reports_missed",
              A_REFERRALS
              " AND basis = 'mandatory_report' AND (sent_at > due_at OR sent_at IS NULL)");
    FIGURE_EQ(t, "acks_due", A_REFERRALS " AND sent_at IS NOT NULL");
    FIGURE_EQ(t, "acks_missed",
              A_REFERRALS
              " AND sent_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
              " trafficking.referral_history h WHERE h.referral_id = referrals.id AND"
              " h.to_state = 'acknowledged' AND h.at <= sent_at + interval '48 hours')");
    ck_assert_int_gt(jint(t, "reports_missed"), 0);
    ck_assert_int_gt(jint(t, "reports_met"), 0);
    run = json_object_get(doc, "runaway_return_screenings");
    FIGURE_EQ(run, "due", A_SCREENINGS " AND trigger = 'runaway_return'");
    FIGURE_EQ(run, "met", A_SCREENINGS " AND trigger = 'runaway_return' AND finished_at <= due_at");
    FIGURE_EQ(run, "missed",
              A_SCREENINGS " AND trigger = 'runaway_return'"
                           " AND (finished_at > due_at OR finished_at IS NULL)");
}
END_TEST

START_TEST(equity_counts_people_screened_by_each_trait)
{
    json_t *t, *male, *es;
    REPORT("a_admin", "equity");
    t = totals();
    FIGURE_EQ(t, "people", "SELECT count(*) FROM casehost.people WHERE agency_id = " AG("A"));
    FIGURE_EQ(t, "screened",
              "SELECT count(DISTINCT c.subject_id) FROM casehost.cases c JOIN"
              " trafficking.screenings s ON s.case_id = c.id WHERE s.result IS NOT NULL"
              " AND c.agency_id = " AG("A"));
    FIGURE_EQ(t, "positive",
              "SELECT count(DISTINCT c.subject_id) FROM casehost.cases c JOIN"
              " trafficking.screenings s ON s.case_id = c.id WHERE s.result = 'positive'"
              " AND c.agency_id = " AG("A"));
    male = row("equity", "group", "male");
    ck_assert_str_eq(jstr(male, "dimension"), "gender");
    FIGURE_EQ(male, "people",
              "SELECT count(*) FROM casehost.people WHERE gender_identity = 'male' AND agency_id "
              "= " AG("A"));
    FIGURE_EQ(row("equity", "group", "unknown"), "people",
              "SELECT count(*) FROM casehost.people WHERE gender_identity IS NULL AND agency_id = "
              "" AG("A"));
    es = row("equity", "group", "es");
    FIGURE_EQ(es, "screened",
              "SELECT count(DISTINCT p.id) FROM casehost.people p JOIN casehost.cases c ON"
              " c.subject_id = p.id JOIN trafficking.screenings s ON s.case_id = c.id"
              " WHERE s.result IS NOT NULL AND p.language = 'es' AND p.agency_id = " AG("A"));
    /* every trait's groups add up to everyone */
    ck_assert_int_eq(column_sum("equity", "people"), 4 * jint(t, "people"));

    REPORT("a_admin", "equity", "--by", "interpreter");
    FIGURE_EQ(
        row("equity", "interpreter", "needed"), "people",
        "SELECT count(*) FROM casehost.people WHERE interpreter_needed AND agency_id = " AG("A"));
    ck_assert_int_eq(json_array_size(json_object_get(doc, "equity")), 2);
}
END_TEST

#define A_CONSENTS "SELECT count(*) FROM trafficking.consents WHERE agency_id = " AG("A")

START_TEST(consent_granted_declined_revoked_expired_by_purpose_and_recipient_kind)
{
    json_t *t;
    REPORT("a_admin", "consent");
    t = totals();
    FIGURE_EQ(t, "granted", A_CONSENTS);
    FIGURE_EQ(t, "revoked", A_CONSENTS " AND revoked_at IS NOT NULL");
    FIGURE_EQ(t, "expired", A_CONSENTS " AND revoked_at IS NULL AND expires_at <= now()");
    FIGURE_EQ(t, "declined",
              "SELECT count(*) FROM trafficking.declines WHERE agency_id = " AG("A"));
    FIGURE_EQ(row("consent", "purpose", "referral"), "granted",
              A_CONSENTS " AND purpose = 'referral'");
    FIGURE_EQ(row("consent", "purpose", "any"), "declined",
              "SELECT count(*) FROM trafficking.declines WHERE agency_id = " AG("A"));

    REPORT("a_admin", "consent", "--by", "recipient_kind");
    FIGURE_EQ(row("consent", "recipient_kind", "shelter"), "granted",
              A_CONSENTS " AND 'kind:shelter' = ANY (recipients)");
    FIGURE_EQ(row("consent", "recipient_kind", "legal_aid"), "granted",
              A_CONSENTS " AND 'kind:legal_aid' = ANY (recipients)");
    FIGURE_EQ(row("consent", "recipient_kind", "law_enforcement"), "declined",
              "SELECT count(*) FROM trafficking.declines WHERE agency_id = " AG("A"));
}
END_TEST

/*
 * The figures of report name from..to by month as user computes them (db/report.c) in a
 * transaction set up as the host sets up a person's: the session's time zone is the
 * agency's (the statement of the host's db_start_as). Returns the result; caller clears.
 */
static PGresult *report_in_agency_zone(PGconn *c, const char *name, const char *from,
                                       const char *to)
{
    char err[1024];
    int usage = -1;
    PGresult *res;
    tl_sql_ok(c, "BEGIN", 0, NULL);
    tl_sql_ok(c,
              "SELECT pg_catalog.set_config('TimeZone', a.time_zone, true)"
              "  FROM casehost.agencies a WHERE a.id = casehost.current_agency()",
              0, NULL);
    res = report_run(c, report_find(name), from, to, "month", &usage, err, sizeof(err));
    ck_assert_msg(res != NULL, "%s", err);
    ck_assert_int_eq(usage, 0);
    tl_sql_ok(c, "COMMIT", 0, NULL);
    return res;
}

/* Column name of res in row i as a number. */
static long long cell(const PGresult *res, int i, const char *name)
{
    int j = PQfnumber(res, name);
    ck_assert_int_ge(j, 0);
    return strtoll(PQgetvalue(res, i, j), NULL, 10);
}

/*
 * A screening at 23:30 on 31 March in Denver is on 1 April in UTC: with the
 * agency's zone set to Denver it counts in March, and --to 2026-03-31 takes
 * it in.
 */
START_TEST(days_and_months_are_the_agencys_at_a_month_boundary)
{
    long long march_utc = tl_db_valuef(db, A_SCREENINGS " AND created_at >= '2026-03-01 00:00+00'"
                                                        " AND created_at < '2026-04-01 00:00+00'");
    PGconn *c;
    PGresult *res;
    tl_db_execf(db, "UPDATE casehost.agencies SET time_zone = 'America/Denver' WHERE name = 'A'");
    tl_db_execf(
        db, "INSERT INTO trafficking.screenings (agency_id, case_id, instrument_id, state,"
            "    trigger, result, screener_id, created_at, started_at, finished_at)"
            " SELECT c.agency_id, c.id, 'late', 'completed', 'manual', 'positive',"
            "        c.assignee_id, t, t, t"
            "   FROM casehost.cases c, (SELECT timestamptz '2026-03-31 23:30 America/Denver') x(t)"
            "  WHERE c.title = 'gen1' AND c.agency_id = " AG("A"));
    c = tl_as_app(db, "a_admin");
    res = report_in_agency_zone(c, "screenings", "2026-03-01", "2026-03-31");
    /* one month and the totals */
    ck_assert_int_eq(PQntuples(res), 2);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "2026-03");
    ck_assert_int_eq(cell(res, 0, "screenings"), march_utc + 1);
    ck_assert_int_eq(cell(res, 1, "positive"),
                     tl_db_valuef(db, A_SCREENINGS " AND result = 'positive'"
                                                   " AND created_at < '2026-04-01 06:00+00'"));
    PQclear(res);
    res = report_in_agency_zone(c, "screenings", "2026-04-01", "2026-04-30");
    ck_assert_int_eq(cell(res, PQntuples(res) - 1, "screenings"),
                     tl_db_valuef(db, A_SCREENINGS " AND created_at >= '2026-04-01 06:00+00'"
                                                   " AND created_at < '2026-05-01 06:00+00'"));
    PQclear(res);
    PQfinish(c);
    /* the command line's session is in the agency's zone too (db_start) */
    REPORT("a_admin", "screenings", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "month");
    ck_assert_int_eq(
        json_integer_value(json_object_get(row("screenings", "period", "2026-03"), "screenings")),
        march_utc + 1);
}
END_TEST

/* Wrong calls: exit 2, the argument named, nothing audited. */
static const struct {
    const char *args[8];
    const char *want;
} wrong[] = {
    {{"screenings", "--from", "2026-02-30"}, "--from"},
    {{"referrals", "--to", "someday"}, "--to"},
    {{"deadlines", "--from", "2026-05-02", "--to", "2026-05-01"}, "--from 2026-05-02 is after"},
    {{"consent", "--by", "colour"}, "recipient_kind"},
    {{"equity", "--by", "month"}, "interpreter"},
};

START_TEST(a_wrong_call_is_a_usage_error_naming_the_argument)
{
    const char *const *a = wrong[_i].args;
    long long audits = tl_db_valuef(db, "SELECT count(*) FROM casehost.audit_log");
    ck_assert_msg(
        tl_run(&r, db, cfg, TL_AS, "a_admin", "report", a[0], a[1], a[2], a[3], a[4], NULL) == 2,
        "exit %d, want 2\nstdout: %s\nstderr: %s", r.status, r.out, r.err);
    HAS(r.err, wrong[_i].want);
    ck_assert_int_eq(tl_db_valuef(db, "SELECT count(*) FROM casehost.audit_log"), audits);
}
END_TEST

START_TEST(each_run_is_audited_with_who_which_report_and_which_filters)
{
    REPORT("a_sup", "deadlines", "--from", "2026-03-01", "--to", "2026-04-30", "--by", "kind");
    TL_DB_EQ(db, 1,
             "SELECT count(*) FROM casehost.audit_log WHERE action = 'report'"
             " AND object_type = 'report' AND actor_id = " USER("a_sup") " AND agency_id = " AG(
                 "A") " AND detail = 'deadlines from 2026-03-01 to 2026-04-30 by kind'");
    REPORT("c_admin", "consent");
    TL_DB_EQ(db, 1,
             "SELECT count(*) FROM casehost.audit_log WHERE action = 'report' AND actor_id = " USER(
                 "c_admin") " AND detail = 'consent from the first to the last by purpose'");
}
END_TEST

/* The chart a report asks for is drawn from its table: bars over the months, panels per trait. */
START_TEST(a_report_asks_for_a_chart_of_its_table)
{
    char path[1200];
    char *svg;
    snprintf(path, sizeof(path), "%s/%ld_reports.svg", tl_env("CASEHOST_TEST_TMP"), (long)getpid());
    RUN_OK(TL_AS, "a_admin", "--svg", path, "report", "screenings");
    svg = tl_read_file(path);
    HAS(svg, "<svg");
    HAS(svg, "2026-04");
    free(svg);
    RUN_OK(TL_AS, "a_admin", "--svg", path, "report", "equity");
    svg = tl_read_file(path);
    HAS(svg, "<svg");
    HAS(svg, "interpreter");
    free(svg);
}
END_TEST

/* The consent figures are the function's: it refuses services and unknown groupings itself. */
START_TEST(the_consent_function_checks_who_and_how_itself)
{
    PGconn *c = tl_as_app(db, "a_svc");
    PGresult *res = PQexec(c, "SELECT * FROM trafficking.report_consent_v1(NULL, NULL, 'purpose')");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
    PQclear(res);
    PQfinish(c);
    c = tl_as_app(db, "a_admin");
    res = PQexec(c, "SELECT * FROM trafficking.report_consent_v1(NULL, NULL, 'person_id')");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "22023");
    PQclear(res);
    /* agency A's admin counts A's consents only */
    res = PQexec(c, "SELECT granted FROM trafficking.report_consent_v1(NULL, NULL, 'purpose')"
                    " WHERE total");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    ck_assert_int_eq(strtoll(PQgetvalue(res, 0, 0), NULL, 10), tl_db_valuef(db, A_CONSENTS));
    PQclear(res);
    PQfinish(c);
}
END_TEST

static Suite *reports_suite(void)
{
    Suite *s = suite_create("reports");
    TCase *tc = tcase_create("reports");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, screening_figures_match_the_owners_counts_and_only_the_agency_counts);
    tcase_add_test(tc, a_caseworker_counts_their_own_work_and_a_supervisor_the_agencys);
    tcase_add_test(tc, referral_times_are_medians_and_90th_percentiles_from_the_screening);
    tcase_add_test(tc, referrals_without_history_or_decision_and_with_repeated_moves_count_once);
    tcase_add_test(tc, deadlines_met_and_missed_and_runaway_return_screenings);
    tcase_add_test(tc, equity_counts_people_screened_by_each_trait);
    tcase_add_test(tc, consent_granted_declined_revoked_expired_by_purpose_and_recipient_kind);
    tcase_add_test(tc, days_and_months_are_the_agencys_at_a_month_boundary);
    tcase_add_loop_test(tc, a_wrong_call_is_a_usage_error_naming_the_argument, 0,
                        (int)(sizeof(wrong) / sizeof(wrong[0])));
    tcase_add_test(tc, each_run_is_audited_with_who_which_report_and_which_filters);
    tcase_add_test(tc, a_report_asks_for_a_chart_of_its_table);
    tcase_add_test(tc, the_consent_function_checks_who_and_how_itself);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(reports_suite())
