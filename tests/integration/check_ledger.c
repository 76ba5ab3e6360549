/*
 * check_ledger.c: what was reported is remembered, and a refusal lasts,
 * end to end through the real casehost binary, the dispatcher and a real
 * PostgreSQL (sql/trafficking/007_ledger.sql): a delivered report is never
 * queued again however it ended, an undelivered one is neither doubled nor
 * dropped silently, a new episode, new evidence or a new disclosure makes a
 * new report and says why, a supervisor may force a repeat with a reason,
 * a decline stops consent-based referrals but no report the law requires,
 * and revoking one consent leaves other recipients' referrals alone. Every
 * claim is checked in the database too.
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
    tl_cli_setup(&cli, tl_spool_targets("ledger", dests, sizeof(dests) / sizeof(dests[0])));
    tl_add_user(db, "a_admin", "a_sup", "supervisor", "A");
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

/* A case's referrals as "destination/basis/state" joined by ',' in id order. Static storage. */
static const char *referrals_of(long long case_id)
{
    return db_text("SELECT coalesce(string_agg(destination_id || '/' || basis || '/' || state,"
                   " ',' ORDER BY id), '') FROM trafficking.referrals WHERE case_id = %lld",
                   case_id);
}

/* A case's referrals as "destination/state" in destination order. Static storage. */
static const char *states_of(long long case_id)
{
    return db_text("SELECT coalesce(string_agg(destination_id || '/' || state, ','"
                   " ORDER BY destination_id, id), '') FROM trafficking.referrals"
                   " WHERE case_id = %lld",
                   case_id);
}

/* The id of case c's latest referral to dest. */
static long long referral_to(long long c, const char *dest)
{
    return db_value("SELECT max(id) FROM trafficking.referrals WHERE case_id = %lld"
                    " AND destination_id = '%s'",
                    c, dest);
}

/* What the latest decision of case c did to dest: "action: reason". Static storage. */
static const char *verdict(long long c, const char *dest)
{
    return db_text("SELECT coalesce((SELECT n->>'action' || ': ' || (n->>'reason')"
                   " || coalesce(' / ' || (n->>'decline'), '')"
                   " FROM trafficking.decisions d, jsonb_array_elements(d.ledger) n"
                   " WHERE d.case_id = %lld AND n->>'destination' = '%s'"
                   " ORDER BY d.id DESC LIMIT 1), 'none')",
                   c, dest);
}

/* Why the decision that made referral id made it (its ledger note). Static storage. */
static const char *made_why(long long id)
{
    return db_text("SELECT n->>'reason' FROM trafficking.referrals x"
                   " JOIN trafficking.decisions d ON d.id = x.decision_id,"
                   " jsonb_array_elements(d.ledger) n"
                   " WHERE x.id = %lld AND n->>'destination' = x.destination_id",
                   id);
}

/* ------------------------------------------------------ people and cases --- */

/* A case in CA for person; runaway (NULL for none) is "START|RETURN". */
static long long add_case(long long person, const char *start, const char *ret)
{
    return tl_case_new(&cli, person, "Ledger",
                       start != NULL ? (const char *const[]){"--runaway-start", start,
                                                             "--runaway-return", ret, NULL}
                                     : NULL);
}

/* Answers of one screening, NULL-terminated. */
#define MAX_ANSWERS 8

/* The youth quick screen with an exchange of sex for something needed: rule 1. */
static const char *const exchanged_sex[MAX_ANSWERS] = {
    "offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
    "exchanged_sex=yes"};

/*
 * The same screen stopped on a disclosure after an exchange: the reports and
 * a forensic interview. (Answers every version of the instrument has.)
 */
static const char *const disclosed[MAX_ANSWERS] = {"offer_not_as_promised=no", "could_not_leave=no",
                                                   "id_money_phone_held=no", "exchanged_sex=yes",
                                                   "someone_making_you_now=yes"};

/*
 * The adult screen with papers kept and threats: law enforcement with consent
 * (the item about sex is left unasked: its id differs between versions).
 */
static const char *const adult_coerced[MAX_ANSWERS] = {
    "work_differs=no", "debt_cannot_repay=no", "not_free_to_leave=no", "papers_kept=yes",
    "threats=yes",     "pay_withheld=no",      "contact_controlled=no"};

/* A minor (estimated 15) in CA with a commercial-sex screen: cw_ca and le_ca queued. */
static long long minor_reported_case(const char *start, const char *ret)
{
    long long c = add_case(tl_person_add(&cli, "--age-estimate", "15"), start, ret);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    ck_assert_str_eq(referrals_of(c),
                     "cw_ca/mandatory_report/queued,le_ca/mandatory_report/queued");
    return c;
}

/*
 * A decision stored by hand, as a_worker, for case c: one rule-1 report to
 * dest (of kind) with the routing input given, as the C side would send it
 * once the input carries evidence classes.
 */
static void store_by_hand(long long c, const char *dest, const char *kind, const char *input)
{
    char sql[2048];
    PGconn *a = tl_as_app(db, "a_worker");
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM trafficking.decision_store('{\"case\": %lld,"
             " \"cause\": \"manual\", \"config_hash\": \"test\", \"input\": %s, \"rules\": [],"
             " \"outcome\": {}, \"referrals\": [{\"destination\": \"%s\","
             " \"kind\": \"%s\", \"rule\": \"minor_commercial_sex\","
             " \"basis\": \"mandatory_report\", \"state\": \"queued\", \"consent\": 0,"
             " \"fields\": [], \"urgency\": \"24h\", \"due_hours\": 24,"
             " \"ack_sla_hours\": 24}]}')",
             c, input, dest, kind);
    tl_sql_ok(a, sql, 0, NULL);
    PQfinish(a);
}

/* ------------------------------------------- a delivered report, once --- */

/*
 * How the first reports ended (the moves made on both, as a caseworker after
 * delivery) and the later event that routes the case again.
 */
static const struct {
    const char *name;
    const char *moves[3][3]; /* verb, option, value */
    const char *state;
    int second_screening; /* else `screen decline` */
} endings[] = {
    {"closed, then a declined screening",
     {{"ack", NULL, NULL}, {"accept", NULL, NULL}, {"close", "--outcome", "services given"}},
     "closed",
     0},
    {"rejected, then a second screening",
     {{"ack", NULL, NULL}, {"reject", "--reason", "not our area"}, {NULL, NULL, NULL}},
     "rejected",
     1},
    {"acknowledged, then a declined screening",
     {{"ack", "--reference", "CPS-1"}, {NULL, NULL, NULL}, {NULL, NULL, NULL}},
     "acknowledged",
     0},
    {"accepted, then a second screening",
     {{"ack", NULL, NULL}, {"accept", NULL, NULL}, {NULL, NULL, NULL}},
     "accepted",
     1},
    {"sent and never acknowledged, then a second screening",
     {{NULL, NULL, NULL}, {NULL, NULL, NULL}, {NULL, NULL, NULL}},
     "sent",
     1},
};

START_TEST(delivered_mandatory_report_is_not_queued_again_whatever_it_ended_in)
{
    long long c = minor_reported_case(NULL, NULL), cw, le;
    char want[200];
    json_t *x;
    size_t i;
    int not_made = 0;
    tl_dispatch_once(&cli);
    cw = referral_to(c, "cw_ca");
    le = referral_to(c, "le_ca");
    DB_EQ(2, "SELECT count(*) FROM trafficking.outbox WHERE state = 'sent'");
    for (int m = 0; m < 3 && endings[_i].moves[m][0] != NULL; m++)
        for (int k = 0; k < 2; k++)
            RUN_OK(TL_AS, "a_worker", "referral", endings[_i].moves[m][0], tl_id(k ? le : cw),
                   endings[_i].moves[m][1], endings[_i].moves[m][2]);
    ck_assert_str_eq(db_text("SELECT string_agg(DISTINCT state, ',') FROM trafficking.referrals"),
                     endings[_i].state);

    if (endings[_i].second_screening)
        tl_screen(&cli, c, "youth_quick", exchanged_sex);
    else
        RUN_OK(TL_AS, "a_worker", "screen", "decline", tl_id(c), "--instrument",
               "staff_observation", "--reason", "does not want to talk today");
    /* routing ran again and proposed both reports; neither was made again */
    DB_EQ(2, "SELECT count(*) FROM trafficking.decisions WHERE case_id = %lld", c);
    DB_EQ(2, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld", c);
    DB_EQ(2, "SELECT count(*) FROM trafficking.outbox");
    for (int k = 0; k < 2; k++) {
        snprintf(want, sizeof(want),
                 "already_reported: already reported to %s on %s (referral %lld, %s)",
                 k ? "le_ca" : "cw_ca", db_text("SELECT to_char(now(), 'YYYY-MM-DD')"), k ? le : cw,
                 endings[_i].state);
        ck_assert_str_eq(verdict(c, k ? "le_ca" : "cw_ca"), want);
    }
    tl_dispatch_once(&cli);
    DB_EQ(0, "SELECT count(*) FROM trafficking.outbox WHERE state <> 'sent'");

    /* the ledger shows both reports, delivered, and what was not made again */
    RUN_JSON("referral", "ledger", tl_id(c));
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "reports")), 2);
    json_array_foreach(json_object_get(doc, "reports"), i, x)
    {
        ck_assert_str_eq(jstr(x, "why"), "first report");
        ck_assert_str_eq(jstr(x, "basis"), "mandatory_report");
        ck_assert_str_eq(jstr(x, "state"), endings[_i].state);
        ck_assert_msg(json_is_string(json_object_get(x, "delivered")), "report %lld undelivered",
                      jint(x, "referral"));
    }
    json_array_foreach(json_object_get(doc, "not_made"), i, x)
    {
        ck_assert_str_eq(jstr(x, "action"), "already_reported");
        HAS(jstr(x, "reason"), "already reported to ");
        not_made++;
    }
    ck_assert_int_eq(not_made, 2);
    DB_EQ(1,
          "SELECT count(*) FROM casehost.audit_log WHERE action = 'read' AND object_type = 'ledger'"
          " AND object_id = %lld",
          c);
}
END_TEST

/* ----------------------------------------- an undelivered one, the same --- */

START_TEST(undelivered_report_is_the_same_report_neither_doubled_nor_dropped_silently)
{
    long long c = minor_reported_case(NULL, NULL), cw, le;
    char want[200];
    cw = referral_to(c, "cw_ca");
    le = referral_to(c, "le_ca");
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    ck_assert_str_eq(referrals_of(c),
                     "cw_ca/mandatory_report/queued,le_ca/mandatory_report/queued");
    DB_EQ(2, "SELECT count(*) FROM trafficking.outbox WHERE state = 'pending'");
    snprintf(want, sizeof(want),
             "open: the same report is open, not delivered yet: referral %lld (queued); it stands",
             cw);
    ck_assert_str_eq(verdict(c, "cw_ca"), want);

    /* a delivery that failed for good is still the same report: the open referral stands */
    db_exec("UPDATE trafficking.outbox SET state = 'failed', last_error = 'refused'"
            " WHERE referral_id = %lld",
            le);
    RUN_OK(TL_AS, "a_worker", "screen", "decline", tl_id(c), "--instrument", "staff_observation",
           "--reason", "tired");
    snprintf(want, sizeof(want),
             "open: the same report is open, not delivered yet: referral %lld (queued, delivery "
             "failed); it stands",
             le);
    ck_assert_str_eq(verdict(c, "le_ca"), want);
    DB_EQ(2, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld", c);

    /* delivered now: the next event makes nothing more */
    tl_dispatch_once(&cli);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    HAS(verdict(c, "cw_ca"), "already_reported: already reported to cw_ca on ");
    ck_assert_str_eq(referrals_of(c), "cw_ca/mandatory_report/sent,le_ca/mandatory_report/queued");
}
END_TEST

/* --------------------------------------------------- what makes it new --- */

START_TEST(new_runaway_episode_reports_again_and_says_why)
{
    long long c = minor_reported_case("2026-11-20 12:00", "2026-11-21 12:00"), le1, le2;
    json_t *x;
    size_t i;
    int news = 0;
    tl_dispatch_once(&cli);
    le1 = referral_to(c, "le_ca");
    RUN_OK(TL_AS, "a_worker", "referral", "ack", tl_id(le1));
    RUN_OK(TL_AS, "a_worker", "referral", "accept", tl_id(le1));
    RUN_OK(TL_AS, "a_worker", "referral", "close", tl_id(le1), "--outcome", "investigated");
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    DB_EQ(2, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld", c);

    /* ran away again and came back: a new episode is a new report, to both, made at
     * once from the screening on file (the episode feeds a fact routing reads) */
    RUN_OK(TL_AS, "a_worker", "case", "update", tl_id(c), "--runaway-start", "2026-12-03 12:00",
           "--runaway-return", "2026-12-04 12:00");
    ck_assert_str_eq(referrals_of(c),
                     "cw_ca/mandatory_report/sent,le_ca/mandatory_report/closed,"
                     "cw_ca/mandatory_report/queued,le_ca/mandatory_report/queued");
    /* the screening that follows finds them open and doubles nothing */
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    ck_assert_str_eq(referrals_of(c),
                     "cw_ca/mandatory_report/sent,le_ca/mandatory_report/closed,"
                     "cw_ca/mandatory_report/queued,le_ca/mandatory_report/queued");
    le2 = referral_to(c, "le_ca");
    ck_assert_str_eq(made_why(le2), "new report: new episode of 2026-12-03");
    RUN_OK(TL_AS, "a_worker", "route", "explain", tl_id(c), "--decision",
           tl_id(db_value("SELECT decision_id FROM trafficking.referrals WHERE id = %lld", le2)));
    HAS(r.out, "  le_ca: new report: new episode of 2026-12-03\n");
    ck_assert_str_eq(db_text("SELECT why || ' / ' || to_char(episode, 'YYYY-MM-DD')"
                             " FROM trafficking.reports WHERE referral_id = %lld",
                             le2),
                     "new report: new episode of 2026-12-03 / 2026-12-03");
    /* cw_ca's first report is still open (sent): it does not block the new one */
    DB_EQ(2, "SELECT count(*) FROM trafficking.outbox WHERE state = 'pending'");
    tl_dispatch_once(&cli);
    RUN_JSON("referral", "ledger", tl_id(c));
    json_array_foreach(json_object_get(doc, "reports"), i, x)
    {
        if (strcmp(jstr(x, "why"), "new report: new episode of 2026-12-03") == 0) {
            HAS(jstr(x, "episode"), "2026-12-03");
            news++;
        }
    }
    ck_assert_int_eq(news, 2);

    /* and that episode, once reported, is not reported twice either */
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    DB_EQ(4, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld", c);
    HAS(verdict(c, "le_ca"), "already_reported: already reported to le_ca on ");
}
END_TEST

START_TEST(new_evidence_or_a_new_disclosure_makes_a_new_report)
{
    long long c = minor_reported_case(NULL, NULL), sid;
    tl_dispatch_once(&cli);
    /*
     * Routing records what each report is about (the first one: commercial_sex);
     * a class not reported yet is new evidence.
     */
    store_by_hand(c, "cw_ca", "child_welfare",
                  "{\"evidence\": [\"commercial_sex\", \"coercion\"]}");
    /* (commercial_sex is new too where routing did not record it yet) */
    HAS(verdict(c, "cw_ca"), "new: new report: new evidence: ");
    HAS(verdict(c, "cw_ca"), "coercion");
    ck_assert_str_eq(db_text("SELECT array_to_string(evidence, ',') FROM trafficking.reports"
                             " WHERE referral_id = %lld",
                             referral_to(c, "cw_ca")),
                     "coercion,commercial_sex");
    tl_dispatch_once(&cli);
    store_by_hand(c, "cw_ca", "child_welfare",
                  "{\"evidence\": {\"commercial_sex\": true, \"risk\": false}}");
    HAS(verdict(c, "cw_ca"), "already_reported: ");
    DB_EQ(3, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld", c);

    /*
     * a disclosure is new too: the screening that stopped on it is the report's
     * (here it also shows coercion, a class le_ca was not told of: the reason says so)
     */
    tl_screen(&cli, c, "youth_quick", disclosed);
    ck_assert_str_eq(jstr(doc, "state"), "stopped");
    sid = jint(doc, "screening");
    {
        char want[160];
        snprintf(want, sizeof(want), "new disclosure (screening %lld)", sid);
        HAS(verdict(c, "le_ca"), "new: new report: ");
        HAS(verdict(c, "le_ca"), want);
    }
    ck_assert_str_eq(verdict(c, "fic_ca"), "new: first report");
    DB_EQ(sid, "SELECT disclosure FROM trafficking.reports WHERE referral_id = %lld",
          referral_to(c, "le_ca"));
    tl_dispatch_once(&cli);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    /* the latest screening is no disclosure, and what it shows was reported */
    HAS(verdict(c, "le_ca"), "already_reported: ");
}
END_TEST

/* ------------------------------------------------------ a forced repeat --- */

START_TEST(supervisor_forces_a_repeat_with_a_reason_and_a_caseworker_is_refused)
{
    long long c = minor_reported_case(NULL, NULL), le, again;
    char want[300];
    le = referral_to(c, "le_ca");
    /* not delivered yet: it stands, there is nothing to repeat */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_sup", "referral", "report-again", tl_id(c),
                            "--destination", "le_ca", "--reason", "lost", NULL),
                     1);
    HAS(r.err, "is not delivered yet (queued): it stands");
    tl_dispatch_once(&cli);
    RUN_OK(TL_AS, "a_worker", "referral", "ack", tl_id(le));
    RUN_OK(TL_AS, "a_worker", "referral", "reject", tl_id(le), "--reason", "insufficient");

    RUN_FAILS(1, "referral", "report-again", tl_id(c), "--destination", "le_ca", "--reason",
              "new officer on duty");
    HAS(r.err, "forcing a repeat report needs the role supervisor or admin; you are caseworker");
    DB_EQ(2, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld", c);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_sup", "referral", "report-again", tl_id(c),
                            "--destination", "nhth", "--reason", "x", NULL),
                     1);
    HAS(r.err, "has no delivered report to \"nhth\" to repeat");

    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_sup", "--json", "referral", "report-again",
                         tl_id(c), "--destination", "le_ca", "--reason",
                         "new officer on duty asked for it", NULL) == 0,
                  "exit %d\n%s%s", r.status, r.out, r.err);
    parse_doc();
    again = strtoll(jstr(doc, "referral"), NULL, 10);
    ck_assert_int_eq(strtoll(jstr(doc, "repeats"), NULL, 10), le);
    ck_assert_str_eq(jstr(doc, "state"), "queued");
    snprintf(want, sizeof(want),
             "a_sup: new officer on duty asked for it / repeat of referral %lld forced by a_sup: "
             "new officer on duty asked for it",
             le);
    ck_assert_str_eq(db_text("SELECT u.name || ': ' || l.force_reason || ' / ' || l.why"
                             " FROM trafficking.reports l JOIN casehost.users u"
                             " ON u.id = l.forced_by WHERE l.referral_id = %lld",
                             again),
                     want);
    DB_EQ(1,
          "SELECT count(*) FROM casehost.audit_log WHERE action = 'report_again'"
          " AND object_id = %lld",
          again);
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.referral_history WHERE referral_id = %lld"
          " AND detail LIKE 'repeat of referral %lld forced by a_sup%%'",
          again, le);
    ck_assert_str_eq(db_text("SELECT rule || '/' || basis || '/' || urgency FROM "
                             "trafficking.referrals WHERE id = %lld",
                             again),
                     "minor_commercial_sex/mandatory_report/24h");
    tl_dispatch_once(&cli);
    ck_assert_str_eq(
        db_text("SELECT state FROM trafficking.outbox WHERE referral_id = %lld", again), "sent");
    /* an admin may too; routing afterwards still makes no third report */
    RUN_OK(TL_AS, "a_admin", "referral", "report-again", tl_id(c), "--destination", "cw_ca",
           "--reason", "the agency asked for a copy");
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    DB_EQ(4, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld", c);
}
END_TEST

/* ----------------------------------------- where people read the ledger --- */

/* The member of list (what names it in messages) whose destination is dest, or the test fails. */
static json_t *entry_for(const json_t *list, const char *what, const char *dest)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        if (strcmp(jstr(x, "destination"), dest) == 0)
            return x;
    }
    ck_abort_msg("no %s for %s in:\n%s", what, dest, r.out);
    return NULL;
}

/* case show's report to dest, and route explain's summary of what the ledger did to it. */
#define report_row(dest) entry_for(json_object_get(doc, "reports"), "report", (dest))
#define explained(dest)                                                                            \
    entry_for(json_object_get(json_object_get(doc, "summary"), "ledger"), "ledger entry", (dest))

/*
 * `case show` has a Reports part: per destination what was reported, on
 * which basis, when it was delivered or why not yet, and its outcome; `route
 * explain` says, in its summary, what the ledger did with each report the
 * decision proposed.
 */
START_TEST(case_show_lists_the_reports_and_route_explain_says_what_the_ledger_did)
{
    long long c = minor_reported_case(NULL, NULL), cw, le;
    const char *today = NULL;
    char want[300], day[16];
    json_t *x;
    cw = referral_to(c, "cw_ca");
    le = referral_to(c, "le_ca");

    /* queued, then held and failed: not delivered yet, and why */
    RUN_JSON("case", "show", tl_id(c));
    x = report_row("cw_ca");
    ck_assert_str_eq(jstr(x, "basis"), "mandatory_report");
    ck_assert_str_eq(jstr(x, "delivered"), "not yet: queued");
    ck_assert_str_eq(jstr(x, "reported"),
                     db_text("SELECT array_to_string(evidence, ', ') FROM trafficking.reports"
                             " WHERE referral_id = %lld",
                             cw));
    ck_assert_int_eq(jint(x, "referral"), cw);
    db_exec("UPDATE trafficking.outbox SET state = 'held' WHERE referral_id = %lld", le);
    RUN_JSON("case", "show", tl_id(c));
    ck_assert_str_eq(jstr(report_row("le_ca"), "delivered"), "not yet: held");
    db_exec("UPDATE trafficking.outbox SET state = 'failed', last_error = 'refused'"
            " WHERE referral_id = %lld",
            le);

    /* delivered, acknowledged with a reference: its date and its outcome */
    tl_dispatch_once(&cli);
    RUN_OK(TL_AS, "a_worker", "referral", "ack", tl_id(cw), "--reference", "CPS-7");
    snprintf(day, sizeof(day), "%s", db_text("SELECT to_char(now(), 'YYYY-MM-DD')"));
    today = day;
    RUN_OK(TL_AS, "a_worker", "case", "show", tl_id(c));
    HAS(r.out, "Reports");
    HAS(r.out, "not yet: delivery failed");
    HAS(r.out, "reference CPS-7");
    RUN_JSON("case", "show", tl_id(c));
    x = report_row("cw_ca");
    ck_assert_msg(strncmp(jstr(x, "delivered"), today, strlen(today)) == 0,
                  "cw_ca delivered '%s', want today", jstr(x, "delivered"));
    ck_assert_str_eq(jstr(x, "outcome"), "reference CPS-7");
    ck_assert_str_eq(jstr(report_row("le_ca"), "delivered"), "not yet: delivery failed");
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "reports")), 2);

    /* routed again: cw_ca is not made again, le_ca's failed report stands */
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    RUN_OK(TL_AS, "a_worker", "route", "explain", tl_id(c));
    HAS(r.out, "Report ledger (what became of each report this decision proposed):\n");
    snprintf(want, sizeof(want),
             "  cw_ca: not made: already reported to cw_ca on %s (referral %lld, acknowledged)\n",
             today, cw);
    HAS(r.out, want);
    snprintf(want, sizeof(want),
             "  le_ca: the same report is open, not delivered yet: referral %lld (queued, delivery "
             "failed); it stands\n",
             le);
    HAS(r.out, want);
    RUN_JSON("route", "explain", tl_id(c));
    x = explained("cw_ca");
    ck_assert_str_eq(jstr(x, "action"), "already_reported");
    ck_assert_int_eq(jint(x, "referral"), cw);
    HAS(jstr(x, "reason"), "already reported to cw_ca on ");
    ck_assert_str_eq(jstr(explained("le_ca"), "action"), "open");
    /* the first decision, asked for by id: two first reports */
    RUN_OK(TL_AS, "a_worker", "route", "explain", tl_id(c), "--decision",
           tl_id(db_value("SELECT min(id) FROM trafficking.decisions WHERE case_id = %lld", c)));
    HAS(r.out, "  cw_ca: first report\n");
    HAS(r.out, "  le_ca: first report\n");
}
END_TEST

/* ------------------------------------------------------------ declines --- */

/*
 * The adult: consent to the police and the hotline, then declines the
 * police. The police referral not yet sent is revoked and is never made
 * again on that consent, nor when a hotline consent is added later; the
 * hotline referral keeps its state. A new consent that names the police is
 * the person changing their mind.
 */
START_TEST(decline_stops_consent_referrals_to_that_kind_until_the_person_changes_their_mind)
{
    long long person = tl_person_add(&cli, "--dob", "1990-01-01"), c, k, nhth, le;
    json_t *d;
    tl_consent_add(&cli, person, "kind:law_enforcement,nhth");
    c = add_case(person, NULL, NULL);
    tl_screen(&cli, c, "adult", adult_coerced);
    le = referral_to(c, "le_ca");
    nhth = referral_to(c, "nhth");
    ck_assert_str_eq(db_text("SELECT string_agg(state, ',' ORDER BY id) FROM trafficking.referrals"
                             " WHERE id IN (%lld, %lld)",
                             le, nhth),
                     "queued,queued");

    RUN_JSON("consent", "decline", tl_id(person), "--recipients", "kind:law_enforcement", "--note",
             "does not want the police involved");
    HAS_MESSAGE("declined: no consent-based referral goes to these recipients");
    d = json_array_get(json_object_get(doc, "declines"), 0);
    ck_assert_str_eq(jstr(d, "recipient"), "kind:law_enforcement");
    ck_assert_int_eq(jint(d, "referrals_revoked"), 1);
    ck_assert_str_eq(db_text("SELECT r.state || '/' || o.state || '/' || r.reason"
                             " FROM trafficking.referrals r JOIN trafficking.outbox o"
                             " ON o.referral_id = r.id WHERE r.id = %lld",
                             le),
                     "revoked/held/the person declined kind:law_enforcement (decline 1)");
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals WHERE id = %lld", nhth),
                     "queued");

    /* routed again, and after a hotline consent: no law-enforcement referral, pending or not */
    tl_screen(&cli, c, "adult", adult_coerced);
    HAS(verdict(c, "le_ca"), "declined: not referred: the person declined kind:law_enforcement");
    RUN_OK(TL_AS, "a_worker", "route", "explain", tl_id(c), "--decision",
           tl_id(db_value("SELECT max(d.id) FROM trafficking.decisions d,"
                          " jsonb_array_elements(d.ledger) n WHERE d.case_id = %lld"
                          " AND n->>'action' = 'declined'",
                          c)));
    HAS(r.out, "  le_ca: not referred: the person declined kind:law_enforcement on ");
    tl_consent_add(&cli, person, "nhth");
    DB_EQ(1, "SELECT count(*) FROM trafficking.referrals WHERE destination_id = 'le_ca'");
    RUN_JSON("consent", "list", tl_id(person));
    d = json_array_get(json_object_get(doc, "declines"), 0);
    ck_assert(json_is_true(json_object_get(d, "active")));
    ck_assert_str_eq(jstr(d, "note"), "does not want the police involved");

    /* misspelt or unknown recipients are refused, not stored to never match */
    RUN_FAILS(1, "consent", "decline", tl_id(person), "--recipients", "kind:law_enforcment");
    HAS(r.err, "recipient \"kind:law_enforcment\" is no destination or kind of the live "
               "configuration");
    RUN_FAILS(1, "consent", "undecline", tl_id(person), "--recipients", "kind:hotline");
    HAS(r.err, "has not declined \"kind:hotline\"");

    /* a consent that names the police is the person changing their mind */
    k = tl_consent_add(&cli, person, "kind:law_enforcement");
    ck_assert_str_eq(db_text("SELECT u.name || ': ' || d.end_reason FROM trafficking.declines d"
                             " JOIN casehost.users u ON u.id = d.ended_by WHERE d.id = 1"),
                     "a_worker: consent 3 names kind:law_enforcement");
    ck_assert_int_eq(k, 3);
    ck_assert_str_eq(
        db_text("SELECT state FROM trafficking.referrals WHERE id = %lld", referral_to(c, "le_ca")),
        "queued");
    ck_assert_str_eq(verdict(c, "le_ca"), "new: first report");
}
END_TEST

START_TEST(undecline_ends_the_decline_and_routing_asks_for_consent_again)
{
    long long person = tl_person_add(&cli, "--dob", "1990-01-01"), c;
    RUN_OK(TL_AS, "a_worker", "consent", "decline", tl_id(person), "--recipients",
           "kind:law_enforcement,nhth");
    c = add_case(person, NULL, NULL);
    tl_screen(&cli, c, "adult", adult_coerced);
    DB_EQ(0,
          "SELECT count(*) FROM trafficking.referrals WHERE destination_id IN ('le_ca', 'nhth')");
    HAS(verdict(c, "nhth"), "declined: not referred: the person declined nhth on ");
    RUN_JSON("consent", "undecline", tl_id(person), "--recipients", "kind:law_enforcement",
             "--note", "talked it over");
    ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "ended"), 0), "recipient"),
                     "kind:law_enforcement");
    ck_assert_str_eq(db_text("SELECT end_reason FROM trafficking.declines"
                             " WHERE recipient = 'kind:law_enforcement'"),
                     "the person changed their mind: talked it over");
    /* routed again at once: law enforcement waits for consent; the hotline is still declined */
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals WHERE destination_id ="
                             " 'le_ca'"),
                     "pending_consent");
    DB_EQ(0, "SELECT count(*) FROM trafficking.referrals WHERE destination_id = 'nhth'");
    DB_EQ(2, "SELECT count(*) FROM casehost.audit_log WHERE object_type = 'decline'"
             " AND action = 'create'");
    DB_EQ(1, "SELECT count(*) FROM casehost.audit_log WHERE object_type = 'decline'"
             " AND action = 'end'");
}
END_TEST

/* The law overrides a refusal: a minor's reports are made, and the decision says so. */
START_TEST(decline_never_stops_a_mandatory_report_and_the_decision_says_so)
{
    long long person = tl_person_add(&cli, "--age-estimate", "15"), c;
    RUN_OK(TL_AS, "a_worker", "consent", "decline", tl_id(person), "--recipients",
           "kind:law_enforcement", "--note", "scared of the police");
    c = add_case(person, NULL, NULL);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    ck_assert_str_eq(referrals_of(c),
                     "cw_ca/mandatory_report/queued,le_ca/mandatory_report/queued");
    HAS(verdict(c, "le_ca"), "new: first report / the person declined kind:law_enforcement on ");
    HAS(verdict(c, "le_ca"), "but a mandatory report is made whatever the consent: the law "
                             "overrides a refusal");
    ck_assert_str_eq(verdict(c, "cw_ca"), "new: first report");
    /* and a decline recorded afterwards leaves the report queued */
    RUN_JSON("consent", "decline", tl_id(person), "--recipients", "le_ca");
    ck_assert_int_eq(jint(json_array_get(json_object_get(doc, "declines"), 0), "referrals_revoked"),
                     0);
    ck_assert_str_eq(referrals_of(c),
                     "cw_ca/mandatory_report/queued,le_ca/mandatory_report/queued");
    tl_dispatch_once(&cli);
    DB_EQ(2, "SELECT count(*) FROM trafficking.outbox WHERE state = 'sent'");

    /* nor an emergency referral: an adult who declined emergency services, in danger now */
    person = tl_person_add(&cli, "--dob", "1990-01-01");
    RUN_OK(TL_AS, "a_worker", "consent", "decline", tl_id(person), "--recipients",
           "kind:emergency");
    RUN_JSON("case", "new", "--title", "Danger", "--person", tl_id(person), "--state", "CA",
             "--flags", "imminent_danger");
    c = jint(doc, "case");
    ck_assert_str_eq(db_text("SELECT basis || '/' || state FROM trafficking.referrals"
                             " WHERE case_id = %lld AND destination_id = 'emergency_911'",
                             c),
                     "imminent_danger/queued");
    HAS(verdict(c, "emergency_911"), "the person declined kind:emergency on ");
    HAS(verdict(c, "emergency_911"), "but an emergency referral is made whatever the consent");
}
END_TEST

/* ------------------------------------------------- revocation per recipient --- */

START_TEST(revoking_one_consent_leaves_other_recipients_referrals_alone)
{
    long long person = tl_person_add(&cli, "--dob", "1990-01-01"), c, k1, k2, k3, sent, le;
    k1 = tl_consent_add(&cli, person, "nhth");
    k2 = tl_consent_add(&cli, person, "kind:law_enforcement,kind:legal_aid");
    c = add_case(person, NULL, NULL);
    tl_screen(&cli, c, "adult", adult_coerced);
    ck_assert_str_eq(
        db_text("SELECT string_agg(destination_id || '/' || state || '/' ||"
                " coalesce(consent_id::text, '-'), ',' ORDER BY destination_id)"
                " FROM trafficking.referrals WHERE case_id = %lld",
                c),
        "le_ca/queued/2,legal_aid_west/queued/2,nhth/queued/1,vs_ca/pending_consent/-");
    /* legal aid was delivered already: a revocation never reaches what has left */
    sent = referral_to(c, "legal_aid_west");
    db_exec(
        "UPDATE trafficking.outbox SET state = 'sent', sent_at = now() WHERE referral_id = %lld;"
        " UPDATE trafficking.referrals SET state = 'sent', sent_at = now() WHERE id = %lld",
        sent, sent);

    RUN_JSON("consent", "revoke", tl_id(k1), "--reason", "withdrawn in writing");
    ck_assert_int_eq(jint(json_object_get(doc, "revoked"), "referrals_revoked"), 1);
    ck_assert_str_eq(states_of(c),
                     "le_ca/queued,legal_aid_west/sent,nhth/revoked,vs_ca/pending_consent");
    /* another consent that covers law enforcement too: revoking the first leaves it queued */
    k3 = tl_consent_add(&cli, person, "le_ca");
    RUN_JSON("consent", "revoke", tl_id(k2), "--reason", "withdrawn too");
    ck_assert_int_eq(jint(json_object_get(doc, "revoked"), "referrals_revoked"), 0);
    le = referral_to(c, "le_ca");
    ck_assert_str_eq(db_text("SELECT state || '/' || consent_id FROM trafficking.referrals"
                             " WHERE id = %lld",
                             le),
                     "queued/3");
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.referral_history WHERE referral_id = %lld"
          " AND detail = 'consent %lld revoked: withdrawn too; consent %lld covers it too and it"
          " rests on that now'",
          le, k2, k3);
    RUN_JSON("consent", "revoke", tl_id(k3), "--reason", "no police at all");
    ck_assert_int_eq(jint(json_object_get(doc, "revoked"), "referrals_revoked"), 1);
    /* (a revocation is no refusal: routing after k3 asked for the hotline's consent again) */
    ck_assert_str_eq(states_of(c),
                     "le_ca/revoked,legal_aid_west/sent,nhth/revoked,nhth/pending_consent,"
                     "vs_ca/pending_consent");
    DB_EQ(0, "SELECT count(*) FROM trafficking.outbox WHERE state = 'pending'");
}
END_TEST

/*
 * A report the law requires, to a destination that waits for consent: the
 * waiting referral gives way (revoked, saying why) and the report is queued,
 * never merged into a consent-based referral without a consent.
 */
START_TEST(mandatory_report_replaces_a_consent_referral_still_waiting)
{
    long long person = tl_person_add(&cli, "--dob", "1990-01-01"), c, waiting, report;
    char want[300];
    c = add_case(person, NULL, NULL);
    tl_screen(&cli, c, "adult", adult_coerced);
    waiting = referral_to(c, "le_ca");
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals WHERE id = %lld", waiting),
                     "pending_consent");
    store_by_hand(c, "le_ca", "law_enforcement", "{}");
    report = referral_to(c, "le_ca");
    ck_assert_int_ne(report, waiting);
    snprintf(want, sizeof(want),
             "mandatory report: referral %lld (consent, pending_consent, not delivered) gives way "
             "to it",
             waiting);
    ck_assert_str_eq(db_text("SELECT state || ': ' || reason FROM trafficking.referrals"
                             " WHERE id = %lld",
                             waiting),
                     db_text("SELECT 'revoked: %s'", want));
    ck_assert_str_eq(db_text("SELECT basis || '/' || state FROM trafficking.referrals"
                             " WHERE id = %lld",
                             report),
                     "mandatory_report/queued");
    snprintf(want, sizeof(want),
             "replaces: mandatory report: referral %lld (consent, pending_consent, not delivered) "
             "gives way to it",
             waiting);
    ck_assert_str_eq(verdict(c, "le_ca"), want);
}
END_TEST

/* ------------------------------------------------------ agency separation --- */

START_TEST(another_agency_reaches_no_ledger_decline_or_repeat)
{
    long long c = minor_reported_case(NULL, NULL), person;
    PGconn *b;
    char sql[300];
    person = db_value("SELECT subject_id FROM casehost.cases WHERE id = %lld", c);
    tl_dispatch_once(&cli);
    RUN_OK(TL_AS, "a_worker", "consent", "decline", tl_id(person), "--recipients", "nhth");

    b = tl_as_app(db, "b_worker");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM trafficking.ledger_of_v1(%lld)", c);
    ck_assert_int_eq(tl_value(b, sql), -1);
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.reports"), -1);
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.declines"), -1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM trafficking.declines_of_v1(%lld)", person);
    ck_assert_int_eq(tl_value(b, sql), -1);
    PQfinish(b);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "referral", "ledger", tl_id(c), NULL),
                     1);
    HAS(r.err, "not found");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "consent", "undecline", tl_id(person),
                            "--recipients", "nhth", NULL),
                     1);
    HAS(r.err, "not found");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_admin", "referral", "report-again", tl_id(c),
                            "--destination", "le_ca", "--reason", "x", NULL),
                     1);
    HAS(r.err, "not found");
    DB_EQ(2, "SELECT count(*) FROM trafficking.referrals");
    DB_EQ(1, "SELECT count(*) FROM trafficking.declines WHERE ended_at IS NULL");
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("ledger");
    TCase *ledger = tcase_create("ledger");
    TCase *refusal = tcase_create("refusals");
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
    tcase_add_checked_fixture(ledger, setup, teardown);
    tcase_set_timeout(ledger, 240);
    tcase_add_loop_test(ledger, delivered_mandatory_report_is_not_queued_again_whatever_it_ended_in,
                        0, N(endings));
    tcase_add_test(ledger,
                   undelivered_report_is_the_same_report_neither_doubled_nor_dropped_silently);
    tcase_add_test(ledger, new_runaway_episode_reports_again_and_says_why);
    tcase_add_test(ledger, new_evidence_or_a_new_disclosure_makes_a_new_report);
    tcase_add_test(ledger, supervisor_forces_a_repeat_with_a_reason_and_a_caseworker_is_refused);
    tcase_add_test(ledger, case_show_lists_the_reports_and_route_explain_says_what_the_ledger_did);
    suite_add_tcase(s, ledger);

    tcase_add_checked_fixture(refusal, setup, teardown);
    tcase_set_timeout(refusal, 240);
    tcase_add_test(
        refusal, decline_stops_consent_referrals_to_that_kind_until_the_person_changes_their_mind);
    tcase_add_test(refusal, undecline_ends_the_decline_and_routing_asks_for_consent_again);
    tcase_add_test(refusal, decline_never_stops_a_mandatory_report_and_the_decision_says_so);
    tcase_add_test(refusal, revoking_one_consent_leaves_other_recipients_referrals_alone);
    tcase_add_test(refusal, mandatory_report_replaces_a_consent_referral_still_waiting);
    tcase_add_test(refusal, another_agency_reaches_no_ledger_decline_or_repeat);
    suite_add_tcase(s, refusal);
#undef N
    return s;
}

CHECK_MAIN(ledger_suite())
