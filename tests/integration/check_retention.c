/*
 * check_retention.c: the bytes a referral was sent with are personal data,
 * kept only for sent_retention_days (015_retention.sql, db/retention.c), end
 * to end through the real casehost binary, the dispatcher, the tick and a
 * real PostgreSQL. A send older than the retention loses its bytes and
 * keeps their sha-256 (still that of the file the receiver holds) and its
 * time; a recent one keeps them; a queued, retrying, held or failed row is
 * never touched; the purge is audited once with its count; what reads the
 * outbox afterwards (show, ledger, retry, report again) still works. Only a
 * service (or admin) purges, only its own agency's rows; a bad setting is
 * a configuration error at its line.
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

#include "testcli.h"

static const struct tl_cli cli = {db, cfg, &r, &doc};

#define db_value(...) tl_db_valuef(db, __VA_ARGS__)
#define db_text(...) tl_db_textf(db, __VA_ARGS__)
#define db_exec(...) tl_db_execf(db, __VA_ARGS__)
#define DB_EQ(want, ...) TL_DB_EQ(db, want, __VA_ARGS__)

/* The destinations a minor's reported case reaches in CA, delivered to one spool. */
static const char *const dests[] = {"cw_ca", "le_ca"};
#define SPOOL_TAG "retention"

/* The trafficking settings: the spool targets, and the bytes sent kept `days` days (NULL: the
 * default). Static storage. */
static const char *settings_keeping(const char *days)
{
    static char settings[5000];
    snprintf(settings, sizeof(settings), "%s %s%s%s",
             tl_spool_targets(SPOOL_TAG, dests, sizeof(dests) / sizeof(dests[0])),
             days != NULL ? "sent_retention_days = " : "", days != NULL ? days : "",
             days != NULL ? ";" : "");
    return settings;
}

/* A fresh database with agencies A and B and a supervisor of A; the default retention. */
static void setup(void)
{
    tl_cli_setup(&cli, settings_keeping(NULL));
    tl_add_user(db, "a_admin", "a_sup", "supervisor", "A");
}

static void teardown(void)
{
    (void)has_message; /* testcli.h's; these tests read the database instead */
    json_decref(doc);
    doc = NULL;
}

/* The youth quick screen with an exchange of sex for something needed: cw_ca and le_ca. */
static const char *const exchanged_sex[] = {"offer_not_as_promised=no", "could_not_leave=no",
                                            "id_money_phone_held=no", "exchanged_sex=yes", NULL};

/* A minor's case whose screening queued mandatory reports to cw_ca and le_ca. */
static long long reported_case(void)
{
    long long c = tl_case_new(&cli, tl_person_add(&cli, "--age-estimate", "15"), "Retention", NULL);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    DB_EQ(2, "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld AND state = 'queued'",
          c);
    return c;
}

/* The id of case c's referral to dest. */
static long long referral_to(long long c, const char *dest)
{
    return db_value("SELECT max(id) FROM trafficking.referrals WHERE case_id = %lld"
                    " AND destination_id = '%s'",
                    c, dest);
}

/* Case c's referrals (and their outbox rows) as if sent `days` days ago. */
static void backdate(long long c, int days)
{
    db_exec("UPDATE trafficking.outbox SET sent_at = now() - make_interval(days => %d)"
            " WHERE referral_id IN (SELECT id FROM trafficking.referrals WHERE case_id = %lld);"
            "UPDATE trafficking.referrals SET sent_at = now() - make_interval(days => %d)"
            " WHERE case_id = %lld",
            days, c, days, c);
}

/*
 * The sha-256 (hex) of the body the spool holds for referral id (its file
 * without the newline the spool ends it with), computed by PostgreSQL.
 */
static const char *spool_sha256(long long id)
{
    static char hex[65];
    char path[1400];
    char *body;
    const char *params[1];
    size_t len;
    PGconn *owner = tl_connect(db);
    PGresult *res;
    snprintf(
        path, sizeof(path), "%s/%ld_%s_spool/%s.json", tl_env("CASEHOST_TEST_TMP"), (long)getpid(),
        SPOOL_TAG,
        db_text("SELECT idempotency_key FROM trafficking.outbox WHERE referral_id = %lld", id));
    body = tl_read_file(path);
    len = strlen(body);
    ck_assert_msg(len > 0 && body[len - 1] == '\n', "%s: no final newline", path);
    body[len - 1] = '\0';
    params[0] = body;
    res = PQexecParams(owner, "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", 1, NULL,
                       params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    snprintf(hex, sizeof(hex), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(owner);
    free(body);
    return hex;
}

/* The audit records of purges in agency A whose detail starts with "purged the bytes of N". */
static long long purge_audits(int n)
{
    return db_value("SELECT count(*) FROM casehost.audit_log l"
                    " JOIN casehost.users u ON u.id = l.actor_id AND u.name = 'a_svc'"
                    " WHERE l.action = 'purge_sent' AND l.object_type = 'outbox'"
                    "   AND l.agency_id = u.agency_id"
                    "   AND l.detail LIKE 'purged the bytes of %d referral(s) sent %%'",
                    n);
}

/* `casehost --json referral show ID` as a_worker: the referral object. */
static const json_t *show(long long id)
{
    RUN_JSON("referral", "show", tl_id(id));
    return json_object_get(doc, "referral");
}

/* --------------------------------------------------------------- the purge --- */

START_TEST(an_old_send_loses_its_bytes_and_keeps_its_hash_and_time)
{
    long long old_case = reported_case(), recent_case, held_case, old_le;
    char old_hash[65], old_sent[64];
    tl_dispatch_once(&cli);
    recent_case = reported_case();
    tl_dispatch_once(&cli);
    DB_EQ(4, "SELECT count(*) FROM trafficking.outbox WHERE state = 'sent'"
             " AND payload IS NOT NULL AND payload_sha256 IS NOT NULL");
    old_le = referral_to(old_case, "le_ca");
    backdate(old_case, 31);
    backdate(recent_case, 29);
    /*
     * Rows that may still leave, as old as the oldest send and holding bytes:
     * queued, retrying, held and failed. None of them is ever purged.
     */
    held_case = reported_case();
    db_exec("UPDATE trafficking.outbox SET payload = '{\"kept\": true}',"
            " sent_at = now() - interval '90 days' WHERE referral_id IN"
            " (SELECT id FROM trafficking.referrals WHERE case_id = %lld);"
            "UPDATE trafficking.outbox SET state = 'held', last_error = 'referral revoked'"
            " WHERE referral_id = %lld;"
            "UPDATE trafficking.outbox SET attempts = 3, last_error = 'answer 500'"
            " WHERE referral_id = %lld",
            held_case, referral_to(held_case, "le_ca"), referral_to(held_case, "cw_ca"));
    {
        long long failed_case = reported_case();
        db_exec("UPDATE trafficking.outbox SET payload = '{\"kept\": true}',"
                " sent_at = now() - interval '90 days' WHERE referral_id IN"
                " (SELECT id FROM trafficking.referrals WHERE case_id = %lld);"
                "UPDATE trafficking.outbox SET state = 'failed', attempts = 8"
                " WHERE referral_id = %lld",
                failed_case, referral_to(failed_case, "cw_ca"));
    }
    snprintf(
        old_hash, sizeof(old_hash), "%s",
        db_text("SELECT payload_sha256 FROM trafficking.outbox WHERE referral_id = %lld", old_le));
    snprintf(
        old_sent, sizeof(old_sent), "%s",
        db_text("SELECT sent_at::text FROM trafficking.outbox WHERE referral_id = %lld", old_le));
    ck_assert_str_eq(old_hash, spool_sha256(old_le));

    RUN_OK(TL_AS, "a_svc", "tick");
    HAS(r.out, "purged the bytes of 2 referral(s) sent 30 or more days ago");

    /* the old sends: bytes gone; hash, time and the retention in force kept */
    DB_EQ(2,
          "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals x"
          " ON x.id = o.referral_id WHERE x.case_id = %lld AND o.payload IS NULL"
          " AND o.payload_sha256 IS NOT NULL AND o.payload_purged_at IS NOT NULL"
          " AND o.payload_retention_days = 30 AND o.state = 'sent'",
          old_case);
    ck_assert_str_eq(
        db_text("SELECT payload_sha256 FROM trafficking.outbox WHERE referral_id = %lld", old_le),
        old_hash);
    ck_assert_str_eq(
        db_text("SELECT sent_at::text FROM trafficking.outbox WHERE referral_id = %lld", old_le),
        old_sent);
    /* the kept hash is still that of what the receiver holds */
    ck_assert_str_eq(spool_sha256(old_le), old_hash);
    /* the recent sends keep their bytes */
    DB_EQ(2,
          "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals x"
          " ON x.id = o.referral_id WHERE x.case_id = %lld AND o.payload IS NOT NULL"
          " AND o.payload_purged_at IS NULL",
          recent_case);
    /* nothing that may still leave was touched */
    DB_EQ(4, "SELECT count(*) FROM trafficking.outbox WHERE state <> 'sent'"
             " AND payload = '{\"kept\": true}' AND payload_purged_at IS NULL");
    DB_EQ(2, "SELECT count(*) FROM trafficking.outbox WHERE payload_purged_at IS NOT NULL");
    /* one audit record, with the count */
    ck_assert_int_eq(purge_audits(2), 1);

    /* the next tick finds nothing more, and says and audits nothing */
    RUN_OK(TL_AS, "a_svc", "tick");
    ck_assert_msg(strstr(r.out, "purged") == NULL, "%s", r.out);
    DB_EQ(1, "SELECT count(*) FROM casehost.audit_log WHERE action = 'purge_sent'");

    /* once the recent ones are old enough, they go too */
    backdate(recent_case, 30);
    RUN_OK(TL_AS, "a_svc", "tick");
    ck_assert_int_eq(purge_audits(2), 2);
}
END_TEST

START_TEST(what_reads_the_outbox_works_after_a_purge)
{
    long long c = reported_case(), le, recent, again;
    const json_t *x;
    char hash[65];
    tl_dispatch_once(&cli);
    le = referral_to(c, "le_ca");
    backdate(c, 40);
    recent = reported_case();
    tl_dispatch_once(&cli);
    snprintf(hash, sizeof(hash), "%s",
             db_text("SELECT payload_sha256 FROM trafficking.outbox WHERE referral_id = %lld", le));
    RUN_OK(TL_AS, "a_svc", "tick");

    /* show: the hash and the time stay; the bytes are said to be purged, and after how long */
    x = show(le);
    ck_assert_str_eq(jstr(x, "outbox"), "sent");
    ck_assert_str_eq(jstr(x, "sent_sha256"), hash);
    ck_assert_int_eq(strlen(jstr(x, "sent_at")), 19);
    ck_assert_msg(strncmp(jstr(x, "sent_bytes"), "purged after 30 days (", 22) == 0, "%s",
                  jstr(x, "sent_bytes"));
    x = show(referral_to(recent, "le_ca"));
    ck_assert_str_eq(jstr(x, "sent_bytes"), "kept until its retention ends");

    /* the ledger still says what was reported and when */
    RUN_JSON("referral", "ledger", tl_id(c));
    HAS(r.out, "le_ca");
    /* a purged send is no failure: retry refuses it as before */
    RUN_FAILS(1, "referral", "retry", tl_id(le));
    HAS(r.err, "only a failed or held delivery is retried");
    /* a repeat is built from the case as it is now, and leaves */
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_sup", "--json", "referral", "report-again",
                         tl_id(c), "--destination", "le_ca", "--reason", "the officer lost it",
                         NULL) == 0,
                  "exit %d\n%s%s", r.status, r.out, r.err);
    parse_doc();
    again = strtoll(jstr(doc, "referral"), NULL, 10);
    ck_assert_int_gt(again, le);
    tl_dispatch_once(&cli);
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.outbox WHERE referral_id = %lld AND state = 'sent'"
          " AND payload->>'referral_id' = '%lld'",
          again, again);
    snprintf(hash, sizeof(hash), "%s", spool_sha256(again));
    ck_assert_str_eq(
        db_text("SELECT payload_sha256 FROM trafficking.outbox WHERE referral_id = %lld", again),
        hash);
}
END_TEST

START_TEST(a_retention_of_0_purges_every_send_at_the_next_tick)
{
    long long c;
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking_with(settings_keeping("0"))));
    c = reported_case();
    tl_dispatch_once(&cli);
    RUN_OK(TL_AS, "a_svc", "tick");
    HAS(r.out, "purged the bytes of 2 referral(s)");
    DB_EQ(2,
          "SELECT count(*) FROM trafficking.outbox o JOIN trafficking.referrals x"
          " ON x.id = o.referral_id WHERE x.case_id = %lld AND o.payload IS NULL"
          " AND o.payload_sha256 IS NOT NULL AND o.payload_retention_days = 0",
          c);
    ck_assert_str_eq(jstr(show(referral_to(c, "cw_ca")), "sent_bytes"),
                     db_text("SELECT 'purged after 0 days (' || to_char(payload_purged_at,"
                             " 'YYYY-MM-DD') || ')' FROM trafficking.outbox"
                             " WHERE referral_id = %lld",
                             referral_to(c, "cw_ca")));
}
END_TEST

/* ------------------------------------------------------------------ access --- */

/* The SQLSTATE of sql run as user (own role, row-level security), "" when it worked. */
static const char *sqlstate_as(const char *user, const char *sql, char *msg, size_t len)
{
    static char state[6];
    PGconn *c = tl_as_app(db, user);
    PGresult *res = PQexec(c, sql);
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof(state), "%s", s != NULL ? s : "");
    snprintf(msg, len, "%s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
    return state;
}

/* One number sql returns run as user, or the test fails. */
static long long value_as(const char *user, const char *sql)
{
    PGconn *c = tl_as_app(db, user);
    long long v = tl_value(c, sql);
    PQfinish(c);
    return v;
}

START_TEST(only_a_service_purges_and_only_its_own_agency)
{
    char msg[1024];
    long long c = reported_case();
    tl_dispatch_once(&cli);
    backdate(c, 400);
    /* a caseworker may not purge, nor read the bytes */
    ck_assert_str_eq(
        sqlstate_as("a_worker", "SELECT trafficking.outbox_purge_sent_v1(0)", msg, sizeof(msg)),
        "42501");
    HAS(msg, "purging the bytes sent needs the role service or admin; you are caseworker");
    ck_assert_str_eq(
        sqlstate_as("a_worker", "SELECT payload FROM trafficking.outbox", msg, sizeof(msg)),
        "42501");
    HAS(msg, "permission denied");
    /* nor set the retention by calling it with a negative one */
    ck_assert_str_eq(
        sqlstate_as("a_svc", "SELECT trafficking.outbox_purge_sent_v1(-1)", msg, sizeof(msg)),
        "22023");
    /* a caseworker of another agency sees none of A's outbox rows */
    ck_assert_int_eq(value_as("a_worker", "SELECT count(payload_sha256) FROM trafficking.outbox"),
                     2);
    ck_assert_int_eq(value_as("b_worker", "SELECT count(*) FROM trafficking.outbox"), 0);
    /* another agency's service purges nothing of A's, by the function or by its tick */
    ck_assert_int_eq(value_as("b_svc", "SELECT trafficking.outbox_purge_sent_v1(0)"), 0);
    RUN_OK(TL_AS, "b_svc", "tick");
    DB_EQ(2, "SELECT count(*) FROM trafficking.outbox WHERE payload IS NOT NULL");
    DB_EQ(0, "SELECT count(*) FROM casehost.audit_log WHERE action = 'purge_sent'");
    /* A's own service does */
    ck_assert_int_eq(value_as("a_svc", "SELECT trafficking.outbox_purge_sent_v1(30)"), 2);
    ck_assert_int_eq(purge_audits(2), 1);
}
END_TEST

/* ----------------------------------------------------------- the setting --- */

static const struct bad_setting {
    const char *value;
    const char *message;
} bad_settings[] = {
    {"-1", "sent_retention_days: -1 days is not from 0 to 36500"},
    {"40000", "sent_retention_days: 40000 days is not from 0 to 36500"},
    {"\"30\"", "sent_retention_days: must be a whole number of days"},
    {"2.5", "sent_retention_days: must be a whole number of days"},
};

START_TEST(a_bad_retention_is_a_config_error_at_its_line)
{
    const struct bad_setting *b = &bad_settings[_i];
    char settings[200], want[300];
    snprintf(settings, sizeof(settings), "sent_retention_days = %s;", b->value);
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking_with(settings)));
    ck_assert_int_ne(tl_run(&r, db, cfg, TL_AS, "a_svc", "tick", NULL), 0);
    /* the plugins list, with its settings, is on line 2 of the host config */
    snprintf(want, sizeof(want), ".cfg:2: trafficking: %s", b->message);
    HAS(r.err, want);
    DB_EQ(0, "SELECT count(*) FROM casehost.audit_log WHERE action = 'purge_sent'");
}
END_TEST

static Suite *retention_suite(void)
{
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("retention");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, an_old_send_loses_its_bytes_and_keeps_its_hash_and_time);
    tcase_add_test(tc, what_reads_the_outbox_works_after_a_purge);
    tcase_add_test(tc, a_retention_of_0_purges_every_send_at_the_next_tick);
    tcase_add_test(tc, only_a_service_purges_and_only_its_own_agency);
    tcase_add_loop_test(tc, a_bad_retention_is_a_config_error_at_its_line, 0,
                        (int)(sizeof(bad_settings) / sizeof(bad_settings[0])));
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(retention_suite())
