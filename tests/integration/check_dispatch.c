/*
 * check_dispatch.c: the outbox dispatcher end to end: the real casehost
 * binary against a real PostgreSQL and a real HTTP receiver on loopback
 * (tests/http_sink.h). Webhook, spool and command delivery; retries with
 * backoff and the final 'failed'; the consent re-check (revoked, expired,
 * legal basis); agency separation; a lost connection; two dispatchers
 * of which one is SIGKILLed mid-run, after which every referral must still
 * have been delivered and none accepted twice; and a long-running dispatcher
 * that ends cleanly on a deploy or SIGHUP, for its unit to start it again.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "http_sink.h"
#include "testlib.h"

#define SECRET "s3cret-for-tests"
#define MAX_RECORDS 2000

static struct tl_result r;
static struct sink_record *recs; /* the receiver's records, see load_records() */
static char db[1024], cfg[1024], dir[1024], records[1100];
static struct sink sink;
static PGconn *app; /* the database owner: seeds rows and changes them behind the program */
static json_t *doc; /* the last dispatch --json output */

/* A fresh database with agencies A and B; a scratch directory for files. */
static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    tl_seed_agencies(db, cfg);
    snprintf(dir, sizeof(dir), "%s/%ld_dispatch", tl_env("CASEHOST_TEST_TMP"), (long)getpid());
    ck_assert_msg(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
    snprintf(records, sizeof(records), "%s/records", dir);
    app = tl_connect(db);
    sink.pid = 0;
}

static void teardown(void)
{
    sink_stop(&sink);
    PQfinish(app);
    app = NULL;
    json_decref(doc);
    doc = NULL;
    free(recs);
    recs = NULL;
}

#if defined(__GNUC__)
#define TEST_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TEST_PRINTF(f, a)
#endif

static void configure(const char *fmt, ...) TEST_PRINTF(1, 2);

/* The host config with dispatch_targets = { targets } (printf-style). */
static void configure(const char *fmt, ...)
{
    char targets[2048], settings[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(targets, sizeof(targets), fmt, ap);
    va_end(ap);
    snprintf(settings, sizeof(settings), "dispatch_targets = { %s };", targets);
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking_with(settings)));
}

/* A webhook target "hotline" pointing at the running sink. */
static void configure_webhook(void)
{
    configure("hotline = { channel = \"webhook\"; url = \"http://127.0.0.1:%d/referrals\"; "
              "secret = \"" SECRET "\"; };",
              sink.port);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The receiver; request number stall_at (0: none) is answered only after a 2 s pause. */
static void start_sink_stalling(int fail_first, int fail_all, int delay_ms, int stall_at)
{
    struct sink_options o = {SECRET, records, fail_first, fail_all, delay_ms,
                             1000,   120,     stall_at,   2000};
    ck_assert_msg(sink_start(&sink, &o) == 0, "cannot start the receiver: %s", strerror(errno));
}

static void start_sink(int fail_first, int fail_all, int delay_ms)
{
    start_sink_stalling(fail_first, fail_all, delay_ms, 0);
}

/*
 * n queued referrals (one case each) to dest with their outbox rows, in
 * agency (written directly by the owner). consent is a consent id or NULL. The payload holds
 * characters that must survive byte for byte (escapes, non-ASCII).
 */
static void seed_as(const char *agency, int n, const char *dest, const char *basis,
                    const char *consent)
{
    static const char sql[] =
        "WITH a AS (SELECT id FROM casehost.agencies WHERE name = $5),"
        " c AS (INSERT INTO casehost.cases (agency_id, title)"
        "   SELECT a.id, 'dispatch ' || g FROM a, generate_series(1, $1::int) g RETURNING id),"
        " r AS (INSERT INTO trafficking.referrals (agency_id, case_id, destination_id,"
        "         destination_kind, rule, basis, consent_id, urgency, due_at, ack_sla_hours,"
        "         state, fields, idempotency_key)"
        "   SELECT a.id, c.id, $2, 'hotline', 'test_rule', $3, $4::bigint,"
        "          '24h', now() + interval '1 day', 24, 'queued', ARRAY['case_id', 'age'],"
        "          'ref-' || c.id || '-' || $2 FROM a, c RETURNING id, case_id)"
        " INSERT INTO trafficking.outbox (agency_id, referral_id, destination_id, payload,"
        "                                 idempotency_key)"
        " SELECT (SELECT id FROM a), r.id, $2,"
        "        jsonb_build_object('referral', r.id, 'case_id', r.case_id, 'age', 15,"
        "                           'note', E'two\\nlines, \"quoted\", caf\\u00e9 \\u2013 ok'),"
        "        'casehost:' || $2 || '-' || r.id FROM r";
    char count[16];
    const char *params[5] = {count, dest, basis, consent, agency};
    PGresult *res;
    snprintf(count, sizeof(count), "%d", n);
    res = PQexecParams(app, sql, 5, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "seed: %s", PQresultErrorMessage(res));
    PQclear(res);
}

static void seed(int n, const char *dest, const char *basis, const char *consent)
{
    seed_as("A", n, dest, basis, consent);
}

/* A consent for a new person, valid for 30 days; returns its id (static storage). */
static const char *make_consent(void)
{
    static char id[24];
    long long v = tl_value(
        app, "WITH u AS (SELECT id, agency_id FROM casehost.users WHERE name = 'a_worker'),"
             " p AS (INSERT INTO casehost.people (agency_id, given_name, created_by)"
             "   SELECT agency_id, 'Ana', id FROM u RETURNING id)"
             " INSERT INTO trafficking.consents (agency_id, person_id, purpose, recipients,"
             "   legal_regime, granted_at, expires_at, recorded_by)"
             " SELECT u.agency_id, p.id, 'referral', ARRAY['hotline'], 'vawa_voca',"
             "   now() - interval '2 days', now() + interval '30 days', u.id"
             " FROM u, p RETURNING id");
    ck_assert_int_gt(v, 0);
    snprintf(id, sizeof(id), "%lld", v);
    return id;
}

/* One value as the superuser (no row-level security); "" for NULL. */
static const char *db_text(const char *sql)
{
    static char buf[4096];
    PGconn *c = tl_connect(db);
    PGresult *res = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", sql,
                  PQresultErrorMessage(res));
    snprintf(buf, sizeof(buf), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    return buf;
}

static long long db_value(const char *sql)
{
    PGconn *c = tl_connect(db);
    long long v = tl_value(c, sql);
    PQfinish(c);
    return v;
}

static void db_exec(const char *sql)
{
    PGconn *c = tl_connect(db);
    PGresult *res = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
}

#define HAS(text, part)                                                                            \
    ck_assert_msg(strstr((text), (part)) != NULL, "want '%s' in:\n%s", (part), (text))

/*
 * casehost --as USER --json dispatch --once ARGS... NULL; parses the counts.
 * The exit status is 3 exactly when this run held a referral or failed one
 * for good (cron alerts once), else 0.
 */
#define DISPATCH_AS(user, ...)                                                                     \
    do {                                                                                           \
        int st_ = tl_run(&r, db, cfg, TL_AS, user, "--json", "dispatch", "--once", __VA_ARGS__);   \
        ck_assert_msg(st_ == 0 || st_ == 3, "exit %d\nstdout: %s\nstderr: %s", r.status, r.out,    \
                      r.err);                                                                      \
        json_decref(doc);                                                                          \
        doc = json_loads(r.out, 0, NULL);                                                          \
        ck_assert_msg(doc != NULL, "not JSON:\n%s", r.out);                                        \
        ck_assert_msg((st_ == 3) == (count("held") + count("failed") > 0),                         \
                      "exit %d does not match the counts %s", st_, r.out);                         \
    } while (0)
#define DISPATCH(...) DISPATCH_AS("a_svc", __VA_ARGS__)

static long long count(const char *key)
{
    const json_t *v = json_object_get(doc, key);
    ck_assert_msg(json_is_integer(v), "'%s' missing in %s", key, r.out);
    return (long long)json_integer_value(v);
}

#define COUNTS(s, h, rt, f)                                                                        \
    do {                                                                                           \
        ck_assert_msg(count("sent") == (s) && count("held") == (h) && count("retried") == (rt) &&  \
                          count("failed") == (f),                                                  \
                      "want sent %d held %d retried %d failed %d, got %s\nstderr: %s", (s), (h),   \
                      (rt), (f), r.out, r.err);                                                    \
    } while (0)

/* The receiver's records so far. */
static int load_records(void)
{
    int n;
    if (recs == NULL)
        recs = calloc(MAX_RECORDS, sizeof(*recs));
    ck_assert_ptr_nonnull(recs);
    n = sink_load(records, recs, MAX_RECORDS);
    ck_assert_int_ge(n, 0);
    return n;
}

START_TEST(webhook_delivers_signed_json_with_its_key)
{
    int n;
    start_sink(0, 0, 0);
    configure_webhook();
    seed(3, "hotline", "mandatory_report", NULL);
    DISPATCH("--timeout-ms", "5000", NULL);
    COUNTS(3, 0, 0, 0);
    n = load_records();
    ck_assert_int_eq(n, 3);
    for (int i = 0; i < n; i++) {
        char sql[600];
        ck_assert_msg(recs[i].sig_ok, "bad signature for %s", recs[i].key);
        ck_assert_msg(recs[i].ct_ok, "bad content type for %s", recs[i].key);
        ck_assert_int_eq(recs[i].status, 200);
        ck_assert_int_eq(recs[i].accepted, 1);
        /* the body is the stored payload, byte for byte */
        snprintf(sql, sizeof(sql),
                 "SELECT payload::text FROM trafficking.outbox WHERE idempotency_key = '%s'"
                 "   AND state = 'sent' AND sent_at IS NOT NULL AND attempts = 1",
                 recs[i].key);
        ck_assert_str_eq(recs[i].body, db_text(sql));
        HAS(recs[i].body, "caf\xc3\xa9");
    }
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referrals"
                              " WHERE state = 'sent' AND sent_at IS NOT NULL"),
                     3);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referral_history"
                              " WHERE from_state = 'queued' AND to_state = 'sent'"
                              "   AND detail = 'sent to hotline by webhook (attempt 1)'"),
                     3);
    /* nothing is left to send */
    DISPATCH("--timeout-ms", "5000", NULL);
    COUNTS(0, 0, 0, 0);
    ck_assert_int_eq(load_records(), 3);
}
END_TEST

/* Names of the files in path (sorted count of regular files, temp files counted apart). */
static int count_files(const char *path, int *tmp)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;
    *tmp = 0;
    ck_assert_msg(d != NULL, "cannot open %s", path);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp") != NULL)
            (*tmp)++;
        else if (strstr(e->d_name, ".json") != NULL)
            n++;
    }
    closedir(d);
    return n;
}

static void read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t k;
    ck_assert_msg(f != NULL, "cannot read %s", path);
    k = fread(buf, 1, size - 1, f);
    buf[k] = '\0';
    fclose(f);
}

/*
 * The payload is built when it is sent: a caseworker learns after the report
 * was queued that the trafficker controls the phone, and the report that
 * leaves carries no phone number and no phone channel.
 */
START_TEST(a_safety_change_after_queueing_reaches_the_payload_sent)
{
    char spool[1200], path[1500], text[4096], sql[300];
    int tmp;
    snprintf(spool, sizeof(spool), "%s/spool/cw", dir);
    configure("cw_ca = { channel = \"spool\"; spool_dir = \"%s\"; };"
              " le_ca = { channel = \"spool\"; spool_dir = \"%s/le\"; };",
              spool, spool);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "person", "add", "--given", "Ana",
                            "--age-estimate", "15", NULL),
                     0);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "safety", "set", "1", "--safe-channels",
                            "phone", "--phone", "555-0199", NULL),
                     0);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "new", "--title", "T",
                            "--person", "1", "--state", "CA", NULL),
                     0);
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "screen", "start", "1", "--instrument",
                         "youth_quick", "offer_not_as_promised=no", "could_not_leave=no",
                         "id_money_phone_held=no", "exchanged_sex=yes", "someone_making_you_now=no",
                         NULL) == 0,
                  "%s", r.err);
    /* queued with the phone still safe; then the caseworker learns otherwise */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "safety", "set", "1",
                            "--trafficker-controls-phone", "yes", NULL),
                     0);
    DISPATCH(NULL);
    COUNTS(2, 0, 0, 0);
    ck_assert_int_eq(count_files(spool, &tmp), 1);
    snprintf(sql, sizeof(sql),
             "SELECT idempotency_key FROM trafficking.outbox WHERE destination_id = 'cw_ca'");
    snprintf(path, sizeof(path), "%s/%s.json", spool, db_text(sql));
    read_text(path, text, sizeof(text));
    ck_assert_msg(strstr(text, "555-0199") == NULL, "the old phone left: %s", text);
    HAS(text, "\"trafficker_controls_phone\": true");
    /* what was sent is what the row keeps */
    HAS(db_text("SELECT payload::text FROM trafficking.outbox WHERE destination_id = 'cw_ca'"),
        "\"trafficker_controls_phone\": true");
}
END_TEST

START_TEST(spool_writes_one_file_per_referral_and_never_twice)
{
    char spool[1200], path[1500], text[4096], sql[400];
    struct stat sb;
    int tmp;
    snprintf(spool, sizeof(spool), "%s/spool/county", dir); /* does not exist yet */
    configure("cw_county = { channel = \"spool\"; spool_dir = \"%s\"; };", spool);
    seed(3, "cw_county", "mandatory_report", NULL);
    DISPATCH(NULL);
    COUNTS(3, 0, 0, 0);
    ck_assert_int_eq(count_files(spool, &tmp), 3);
    ck_assert_int_eq(tmp, 0);
    ck_assert_int_eq(stat(spool, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0700);
    /* each file is the payload under its key */
    for (int i = 1; i <= 3; i++) {
        snprintf(sql, sizeof(sql),
                 "SELECT idempotency_key FROM trafficking.outbox ORDER BY id OFFSET %d LIMIT 1",
                 i - 1);
        snprintf(path, sizeof(path), "%s/%s.json", spool, db_text(sql));
        read_text(path, text, sizeof(text));
        snprintf(sql, sizeof(sql),
                 "SELECT payload::text || E'\\n' FROM trafficking.outbox ORDER BY id OFFSET %d "
                 "LIMIT 1",
                 i - 1);
        ck_assert_str_eq(text, db_text(sql));
    }
    /* a second run finds nothing to do and writes nothing */
    DISPATCH(NULL);
    COUNTS(0, 0, 0, 0);
    ck_assert_int_eq(count_files(spool, &tmp), 3);
    /*
     * A crash after the rename but before the commit leaves the rows pending:
     * the next run counts the files already there as delivered and leaves
     * them as they are.
     */
    snprintf(path, sizeof(path), "%s/%s.json", spool,
             db_text("SELECT idempotency_key FROM trafficking.outbox ORDER BY id LIMIT 1"));
    {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("kept\n", f);
        fclose(f);
    }
    db_exec("UPDATE trafficking.referrals SET state = 'queued', sent_at = NULL");
    db_exec("UPDATE trafficking.outbox SET state = 'pending', sent_at = NULL");
    DISPATCH(NULL);
    COUNTS(3, 0, 0, 0);
    ck_assert_int_eq(count_files(spool, &tmp), 3);
    ck_assert_int_eq(tmp, 0);
    read_text(path, text, sizeof(text));
    ck_assert_str_eq(text, "kept\n");
}
END_TEST

static const struct command_case {
    const char *name;
    const char *command; /* %s: the scratch directory */
    int writes_file;     /* to <scratch>/<key>.json */
    int sent;
    const char *error; /* part of last_error when not sent */
} command_cases[] = {
    {"reads the JSON on stdin with the key in its environment",
     "cat > %s/$CASEHOST_IDEMPOTENCY_KEY.json", 1, 1, NULL},
    {"exit status other than 0 is a failure with its output",
     "cat > /dev/null; echo refused by gateway >&2; exit 3", 0, 0,
     "command: exit 3: refused by gateway"},
    {"a command that hangs is stopped at the timeout", "sleep 20", 0, 0,
     "command: no exit within 700 ms"},
    {"a command that ignores stdin but exits 0 delivered", "exit 0", 0, 1, NULL},
};

START_TEST(command_gets_the_json_on_stdin)
{
    const struct command_case *c = &command_cases[_i];
    char command[1200], path[1500], text[4096];
    struct timespec t0, t1;
    snprintf(command, sizeof(command), c->command, dir);
    configure("le = { channel = \"command\"; command = \"%s\"; };", command);
    seed(1, "le", "mandatory_report", NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    DISPATCH("--timeout-ms", "700", "--backoff-ms", "60000", NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (c->sent) {
        COUNTS(1, 0, 0, 0);
    } else {
        COUNTS(0, 0, 1, 0);
        HAS(db_text("SELECT last_error FROM trafficking.outbox"), c->error);
        ck_assert_str_eq(db_text("SELECT state FROM trafficking.outbox"), "pending");
    }
    /* the timeout really stops it: far less than the command's 20 s */
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 10);
    if (c->writes_file) {
        snprintf(path, sizeof(path), "%s/%s.json", dir,
                 db_text("SELECT idempotency_key FROM trafficking.outbox"));
        read_text(path, text, sizeof(text));
        ck_assert_str_eq(text, db_text("SELECT payload::text FROM trafficking.outbox"));
    }
}
END_TEST

/* Milliseconds until the only outbox row is due. */
static long long due_in_ms(void)
{
    return db_value("SELECT (extract(epoch FROM next_attempt_at - clock_timestamp()) * 1000)"
                    "::bigint FROM trafficking.outbox");
}

/* The server's clock now, as text. */
static void server_now(char *buf, size_t size)
{
    snprintf(buf, size, "%s", db_text("SELECT clock_timestamp()::text"));
}

/*
 * The only row's backoff was want ms: set at a failure between before and
 * after, so next_attempt_at - want lies between them (whatever the load).
 */
static void assert_backoff(const char *before, const char *after, long want)
{
    char sql[400];
    snprintf(sql, sizeof(sql),
             "SELECT (next_attempt_at - %ld * interval '1 millisecond'"
             "        BETWEEN '%s'::timestamptz AND '%s'::timestamptz)::int"
             "  FROM trafficking.outbox",
             want, before, after);
    ck_assert_msg(db_value(sql) == 1, "backoff is not %ld ms: due %s, failed between %s and %s",
                  want, db_text("SELECT next_attempt_at::text FROM trafficking.outbox"), before,
                  after);
}

static void wait_until_due(void)
{
    for (int i = 0; i < 1000 && db_value("SELECT count(*) FROM trafficking.outbox"
                                         " WHERE next_attempt_at > now()") > 0;
         i++)
        sleep_ms(10);
}

START_TEST(answer_500_retries_with_doubling_backoff_then_succeeds)
{
    char before[64], after[64];
    int n;
    start_sink(2, 0, 0);
    configure_webhook();
    seed(1, "hotline", "mandatory_report", NULL);
    server_now(before, sizeof(before));
    DISPATCH("--backoff-ms", "600", NULL);
    server_now(after, sizeof(after));
    COUNTS(0, 0, 1, 0);
    assert_backoff(before, after, 600);
    HAS(db_text("SELECT last_error FROM trafficking.outbox"), "webhook: HTTP 500: please retry");
    wait_until_due();
    server_now(before, sizeof(before));
    DISPATCH("--backoff-ms", "600", NULL);
    server_now(after, sizeof(after));
    COUNTS(0, 0, 1, 0);
    assert_backoff(before, after, 1200); /* doubled */
    wait_until_due();
    DISPATCH("--backoff-ms", "600", NULL);
    COUNTS(1, 0, 0, 0);
    ck_assert_str_eq(db_text("SELECT state || ' ' || attempts || ' ' || (last_error IS NULL)"
                             " FROM trafficking.outbox"),
                     "sent 3 true");
    HAS(db_text("SELECT detail FROM trafficking.referral_history WHERE to_state = 'sent'"),
        "(attempt 3)");
    n = load_records();
    ck_assert_int_eq(n, 3);
    for (int i = 0; i < n; i++) {
        ck_assert_str_eq(recs[i].key, recs[0].key);
        ck_assert_int_eq(recs[i].raw, i + 1);
        ck_assert_int_eq(recs[i].status, i < 2 ? 500 : 200);
        ck_assert_int_eq(recs[i].accepted, i == 2);
    }
}
END_TEST

START_TEST(max_attempts_leaves_the_row_failed_and_visible)
{
    start_sink(0, 1, 0);
    configure_webhook();
    seed(1, "hotline", "mandatory_report", NULL);
    DISPATCH("--max-attempts", "3", "--backoff-ms", "0", NULL);
    COUNTS(0, 0, 2, 1);
    ck_assert_int_eq(load_records(), 3);
    ck_assert_str_eq(db_text("SELECT state || ' ' || attempts FROM trafficking.outbox"),
                     "failed 3");
    HAS(db_text("SELECT last_error FROM trafficking.outbox"), "HTTP 500");
    /* the referral did not leave: its state says so, with the reason, in its history too */
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals"), "delivery_failed");
    HAS(db_text("SELECT reason FROM trafficking.referrals"),
        "dispatch to hotline failed after 3 attempts: webhook: HTTP 500");
    HAS(db_text("SELECT detail FROM trafficking.referral_history"
                " WHERE to_state = 'delivery_failed'"),
        "dispatch to hotline failed after 3 attempts: webhook: HTTP 500");
    /* a failed row is not taken again, and cron is not alerted twice */
    DISPATCH("--max-attempts", "3", "--backoff-ms", "0", NULL);
    COUNTS(0, 0, 0, 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(load_records(), 3);
}
END_TEST

/* The referral ids, ascending, as the owner sees them; "" past the last. */
static int check_every_key_accepted_once(int n_rows);

static const char *referral_id(int i)
{
    static char id[24];
    char sql[120];
    snprintf(sql, sizeof(sql), "SELECT id FROM trafficking.referrals ORDER BY id OFFSET %d LIMIT 1",
             i);
    snprintf(id, sizeof(id), "%s", db_text(sql));
    return id;
}

/*
 * A receiver down for six requests: both referrals fail for good, become
 * delivery_failed with the reason, are listed by `referral attention` at
 * once, and `dispatch --once` exits 3 once. `referral retry` queues them
 * again (one by id, the rest with --all-failed) under the same key, and
 * they are delivered.
 */
START_TEST(a_failed_delivery_is_listed_retried_and_delivered_under_its_key)
{
    char key[200], sql[600];
    int n;
    start_sink(6, 0, 0);
    configure_webhook();
    seed(2, "hotline", "mandatory_report", NULL);
    snprintf(key, sizeof(key), "%s",
             db_text("SELECT idempotency_key FROM trafficking.outbox ORDER BY id LIMIT 1"));
    DISPATCH("--max-attempts", "3", "--backoff-ms", "0", NULL);
    COUNTS(0, 0, 4, 2);
    ck_assert_int_eq(r.status, 3);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referrals"
                              " WHERE state = 'delivery_failed' AND reason LIKE '%HTTP 500%'"),
                     2);
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "--json", "referral", "attention", NULL), 0);
    HAS(r.out, "delivery failed: dispatch to hotline failed after 3 attempts: webhook: HTTP 500");
    HAS(r.out, "referral retry");
    /* the overdue list still works (nothing is overdue yet) */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "referral", "overdue", NULL), 0);
    /* the next run has nothing new to say */
    DISPATCH("--max-attempts", "3", "--backoff-ms", "0", NULL);
    COUNTS(0, 0, 0, 0);
    ck_assert_int_eq(r.status, 0);

    ck_assert_msg(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "referral", "retry", referral_id(0), NULL) == 0,
        "%s", r.err);
    snprintf(sql, sizeof(sql),
             "SELECT o.state || ' ' || o.attempts || ' ' || o.attempt_series || ' ' || r.state"
             "  FROM trafficking.outbox o JOIN trafficking.referrals r ON r.id = o.referral_id"
             " WHERE o.idempotency_key = '%s'",
             key);
    ck_assert_str_eq(db_text(sql), "pending 0 2 queued");
    DISPATCH("--max-attempts", "3", "--backoff-ms", "0", NULL);
    COUNTS(1, 0, 0, 0);
    ck_assert_int_eq(r.status, 0);
    n = load_records();
    ck_assert_int_eq(n, 7);
    ck_assert_str_eq(recs[6].key, key); /* the same key as every earlier attempt */
    ck_assert_int_eq(recs[6].accepted, 1);
    /* the hash of the bytes sent is kept, with the time */
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox WHERE state = 'sent'"
                              "   AND sent_at IS NOT NULL AND payload_sha256 ="
                              "       encode(sha256(convert_to(payload::text, 'UTF8')), 'hex')"),
                     1);

    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "referral", "retry", "--all-failed",
                         "--destination", "hotline", NULL) == 0,
                  "%s", r.err);
    DISPATCH("--max-attempts", "3", "--backoff-ms", "0", NULL);
    COUNTS(1, 0, 0, 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referrals WHERE state = 'sent'"),
                     2);
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "--json", "referral", "attention", NULL), 0);
    ck_assert_msg(strstr(r.out, "delivery failed") == NULL, "still listed: %s", r.out);
    /* a sent referral is not retried */
    ck_assert_int_ne(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "referral", "retry", referral_id(0), NULL), 0);
    HAS(r.err, "only a failed or held delivery is retried");
}
END_TEST

/* The ids `referral attention` lists for user, in its order, as "1,2,3" (static storage). */
static const char *attention_ids(const char *user)
{
    static char ids[512];
    json_t *list, *o;
    size_t i, used = 0;
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, user, "--json", "referral", "attention", NULL) == 0,
                  "%s", r.err);
    json_decref(doc);
    doc = json_loads(r.out, 0, NULL);
    ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
    list = json_object_get(doc, "attention");
    ids[0] = '\0';
    json_array_foreach(list, i, o)
    {
        used += (size_t)snprintf(ids + used, sizeof(ids) - used, "%s%lld", i ? "," : "",
                                 (long long)json_integer_value(json_object_get(o, "id")));
        ck_assert(used < sizeof(ids));
    }
    return ids;
}

/*
 * `referral attention` lists each kind of problem, most urgent first, and
 * nothing else: a failed delivery, one held before it left, one not sent
 * by its due time, one sent and not acknowledged within its SLA; not one
 * sent an hour ago, nor one whose longer SLA has not run out, until its SLA
 * is shortened (the acknowledgement's due time follows it). Another agency
 * sees none of them.
 */
START_TEST(referral_attention_lists_each_problem_once_most_urgent_first)
{
    char want[200], sql[1200], id[6][24];
    seed(6, "hotline", "mandatory_report", NULL);
    for (int i = 0; i < 6; i++)
        snprintf(id[i], sizeof(id[i]), "%s", referral_id(i));
    snprintf(sql, sizeof(sql),
             "UPDATE trafficking.referrals SET state = 'delivery_failed', reason = 'gone'"
             " WHERE id = %s;"
             "UPDATE trafficking.outbox SET state = 'failed' WHERE referral_id = %s;"
             "UPDATE trafficking.outbox SET state = 'held', last_error = 'safe contact'"
             " WHERE referral_id = %s;"
             "UPDATE trafficking.referrals SET due_at = now() - interval '1 hour' WHERE id = %s;"
             "UPDATE trafficking.referrals SET state = 'sent', ack_sla_hours = 24,"
             " sent_at = now() - interval '48 hours' WHERE id = %s;"
             "UPDATE trafficking.referrals SET state = 'sent', ack_sla_hours = 24,"
             " sent_at = now() - interval '1 hour' WHERE id = %s;"
             "UPDATE trafficking.referrals SET state = 'sent', ack_sla_hours = 72,"
             " sent_at = now() - interval '30 hours' WHERE id = %s;"
             "UPDATE trafficking.outbox SET state = 'sent', sent_at = now()"
             " WHERE referral_id IN (%s, %s, %s)",
             id[0], id[0], id[1], id[2], id[3], id[4], id[5], id[3], id[4], id[5]);
    {
        PGresult *res = PQexec(app, sql);
        ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
        PQclear(res);
    }
    /* failed, held, then by since: sent 48 h ago with 24 h (24 h ago), due an hour ago */
    snprintf(want, sizeof(want), "%s,%s,%s,%s", id[0], id[1], id[3], id[2]);
    ck_assert_str_eq(attention_ids("a_worker"), want);
    HAS(r.out, "not acknowledged within 24 h");
    HAS(r.out, "not sent by due time");
    HAS(r.out, "held: safe contact");
    /* a shorter SLA brings the third sent one in: its 24 h ran out 6 h ago */
    snprintf(sql, sizeof(sql), "UPDATE trafficking.referrals SET ack_sla_hours = 24 WHERE id = %s",
             id[5]);
    tl_sql_ok(app, sql, 0, NULL);
    snprintf(want, sizeof(want), "%s,%s,%s,%s,%s", id[0], id[1], id[3], id[5], id[2]);
    ck_assert_str_eq(attention_ids("a_worker"), want);
    ck_assert_str_eq(attention_ids("b_worker"), "");
}
END_TEST

/*
 * Another session holds a lock on the oldest referral: it is passed over,
 * every other referral is sent, and `dispatch --once` returns at once.
 */
START_TEST(a_locked_referral_is_passed_over_and_the_rest_is_sent)
{
    PGconn *locker;
    PGresult *res;
    struct timespec t0, t1;
    char sql[200];
    start_sink(0, 0, 0);
    configure_webhook();
    seed(5, "hotline", "mandatory_report", NULL);
    locker = tl_connect(db);
    res = PQexec(locker, "BEGIN");
    PQclear(res);
    snprintf(sql, sizeof(sql), "SELECT id FROM trafficking.referrals WHERE id = %s FOR UPDATE",
             referral_id(0));
    res = PQexec(locker, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    DISPATCH("--timeout-ms", "5000", NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    COUNTS(4, 0, 0, 0);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 10);
    ck_assert_int_eq(load_records(), 4);
    snprintf(sql, sizeof(sql), "SELECT state FROM trafficking.referrals WHERE id = %s",
             referral_id(0));
    ck_assert_str_eq(db_text(sql), "queued");
    /* once the lock is gone, the row leaves too */
    PQclear(PQexec(locker, "COMMIT"));
    PQfinish(locker);
    DISPATCH("--timeout-ms", "5000", NULL);
    COUNTS(1, 0, 0, 0);
    ck_assert_int_eq(check_every_key_accepted_once(5), 0);
}
END_TEST

/*
 * A claim takes up to a batch (026_claim_batches.sql): the oldest ready rows
 * in order, each leased under a claim of its own, so one row's claim records
 * nothing for another; a second worker's claim passes over them and takes
 * the rest. The size is bounded; one row is claimed as a batch of one.
 */
START_TEST(a_batch_claim_takes_the_oldest_rows_each_under_its_own_lease)
{
    PGconn *w1, *w2;
    PGresult *a, *b, *c, *res;
    const char *params[4];
    seed(5, "hotline", "mandatory_report", NULL);
    w1 = tl_as_app(db, "a_svc");
    w2 = tl_as_app(db, "a_svc");
    a = PQexec(w1, "SELECT id, claim, action FROM trafficking.outbox_claim_v2(60000, 3)");
    ck_assert_msg(PQresultStatus(a) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(a));
    ck_assert_int_eq(PQntuples(a), 3);
    for (int i = 0; i < 3; i++) {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "SELECT id FROM trafficking.outbox ORDER BY next_attempt_at, id OFFSET %d LIMIT 1",
                 i);
        ck_assert_str_eq(PQgetvalue(a, i, 0), db_text(sql));
        ck_assert_str_eq(PQgetvalue(a, i, 2), "send");
        ck_assert_int_eq(PQgetlength(a, i, 1), 36);
    }
    ck_assert_str_ne(PQgetvalue(a, 0, 1), PQgetvalue(a, 1, 1));
    ck_assert_str_ne(PQgetvalue(a, 1, 1), PQgetvalue(a, 2, 1));
    /* the next worker gets the other two, then nothing */
    b = PQexec(w2, "SELECT id FROM trafficking.outbox_claim_v2(60000, 3)");
    ck_assert_msg(PQresultStatus(b) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(b));
    ck_assert_int_eq(PQntuples(b), 2);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 3; k++)
            ck_assert_str_ne(PQgetvalue(b, i, 0), PQgetvalue(a, k, 0));
    c = PQexec(w2, "SELECT id FROM trafficking.outbox_claim_v1(60000)");
    ck_assert_msg(PQresultStatus(c) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(c));
    ck_assert_int_eq(PQntuples(c), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox"
                              " WHERE claimed_until > now() AND claim_token IS NOT NULL"),
                     5);
    /* the first row's outcome under the second row's claim is not recorded */
    params[0] = PQgetvalue(a, 0, 0);
    params[1] = PQgetvalue(a, 1, 1);
    params[2] = "sent by hand";
    params[3] = NULL;
    res = PQexecParams(w1, "SELECT trafficking.outbox_sent_v2($1, $2, $3, $4)", 4, NULL, params,
                       NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "f");
    PQclear(res);
    params[1] = PQgetvalue(a, 0, 1);
    res = PQexecParams(w1, "SELECT trafficking.outbox_sent_v2($1, $2, $3, $4)", 4, NULL, params,
                       NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox WHERE state = 'sent'"), 1);
    /* a batch is 1 to 100 rows */
    res = PQexec(w1, "SELECT * FROM trafficking.outbox_claim_v2(60000, 0)");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    HAS(PQresultErrorMessage(res), "a claim takes 1 to 100 rows, not 0");
    PQclear(res);
    res = PQexec(w1, "SELECT * FROM trafficking.outbox_claim_v2(60000, 101)");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    HAS(PQresultErrorMessage(res), "a claim takes 1 to 100 rows, not 101");
    PQclear(res);
    PQclear(a);
    PQclear(b);
    PQclear(c);
    PQfinish(w1);
    PQfinish(w2);
}
END_TEST

/*
 * A revoke and the record of a send at the same moment (027): the revoke
 * locks the referral, then holds its outbox row; recording the send locks
 * the referral before the outbox row too, so it waits for the revoke
 * instead of deadlocking with it (PostgreSQL would abort one of the two:
 * the caseworker's revoke, or the record that the referral left).
 */
START_TEST(recording_a_send_waits_for_a_revoke_instead_of_deadlocking)
{
    PGconn *w = tl_as_app(db, "a_svc"), *t = tl_connect(db);
    PGresult *a, *res;
    const char *params[4];
    char sql[300];
    seed(1, "hotline", "mandatory_report", NULL);
    a = PQexec(w, "SELECT id, claim, payload FROM trafficking.outbox_claim_v2(60000, 1)");
    ck_assert_msg(PQresultStatus(a) == PGRES_TUPLES_OK && PQntuples(a) == 1, "%s",
                  PQresultErrorMessage(a));
    /* the revoke's first step: the referral locked */
    PQclear(PQexec(t, "BEGIN"));
    snprintf(sql, sizeof(sql), "SELECT 1 FROM trafficking.referrals WHERE id = %s FOR UPDATE",
             referral_id(0));
    res = PQexec(t, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    /* the send's record starts meanwhile, and must wait */
    params[0] = PQgetvalue(a, 0, 0);
    params[1] = PQgetvalue(a, 0, 1);
    params[2] = "sent to hotline by webhook (attempt 1)";
    params[3] = PQgetvalue(a, 0, 2);
    ck_assert_int_eq(PQsendQueryParams(w, "SELECT trafficking.outbox_sent_v2($1, $2, $3, $4)", 4,
                                       NULL, params, NULL, NULL, 0),
                     1);
    sleep_ms(300);
    /* the revoke's second step: its outbox row held; it must not wait for the send's record */
    snprintf(sql, sizeof(sql),
             "UPDATE trafficking.outbox SET last_error = 'revoke under way' WHERE referral_id = %s",
             referral_id(0));
    res = PQexec(t, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "the revoke: %s",
                  PQresultErrorMessage(res));
    PQclear(res);
    res = PQexec(t, "COMMIT");
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    res = PQgetResult(w);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "the send's record: %s",
                  PQresultErrorMessage(res));
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    while ((res = PQgetResult(w)) != NULL)
        PQclear(res);
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.outbox"), "sent");
    PQclear(a);
    PQfinish(w);
    PQfinish(t);
}
END_TEST

/*
 * A dispatcher claims --batch rows at a time (7 rows: claims of 3, 3 and 1)
 * and they leave in claim order, each recorded as sent; --batch 1 claims
 * each row alone; --batch is 1 to 100, a usage error beyond.
 */
START_TEST(batches_leave_in_claim_order)
{
    int n;
    start_sink(0, 0, 0);
    configure_webhook();
    seed(7, "hotline", "mandatory_report", NULL);
    DISPATCH("--timeout-ms", "5000", "--batch", "3", NULL);
    COUNTS(7, 0, 0, 0);
    ck_assert_int_eq(count("claims"), 3);
    n = load_records();
    ck_assert_int_eq(n, 7);
    for (int i = 0; i < n; i++) {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "SELECT idempotency_key FROM trafficking.outbox ORDER BY id OFFSET %d LIMIT 1", i);
        ck_assert_str_eq(recs[i].key, db_text(sql));
    }
    ck_assert_int_eq(check_every_key_accepted_once(7), 0);
    seed(2, "hotline", "mandatory_report", NULL);
    DISPATCH("--timeout-ms", "5000", "--batch", "1", NULL);
    COUNTS(2, 0, 0, 0);
    ck_assert_int_eq(count("claims"), 2);
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_svc", "dispatch", "--once", "--batch", "101", NULL), 2);
    HAS(r.err, "--batch");
}
END_TEST

/*
 * An error in the middle of a batch (here the database refuses to record the
 * second row as sent, after it left): the run ends with the error, that row
 * keeps its lease (it may have arrived: it is sent again, under the same key,
 * only once the lease ran out), and the rows of the batch not tried yet are
 * released at once, unsent and with no attempt counted.
 */
START_TEST(an_error_mid_batch_releases_the_rows_not_yet_tried)
{
    char sql[400];
    int st;
    start_sink(0, 0, 0);
    configure_webhook();
    seed(4, "hotline", "mandatory_report", NULL);
    snprintf(sql, sizeof(sql),
             "CREATE FUNCTION public.refuse_sent() RETURNS trigger LANGUAGE plpgsql AS $$"
             " BEGIN RAISE EXCEPTION 'refused by the test'; END $$;"
             " CREATE TRIGGER refuse_sent BEFORE UPDATE ON trafficking.outbox FOR EACH ROW"
             " WHEN (NEW.state = 'sent' AND NEW.referral_id = %s)"
             " EXECUTE FUNCTION public.refuse_sent()",
             referral_id(1));
    db_exec(sql);
    st = tl_run(&r, db, cfg, TL_AS, "a_svc", "--json", "dispatch", "--once", "--lease-ms", "3000",
                "--timeout-ms", "400", "--batch", "10", NULL);
    ck_assert_msg(st != 0 && st != 3, "exit %d\nstdout: %s\nstderr: %s", st, r.out, r.err);
    HAS(r.err, "refused by the test");
    HAS(r.err, "its batch stopped at an error; outbox row");
    ck_assert_int_eq(load_records(), 2);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox WHERE state = 'sent'"), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM trafficking.outbox WHERE referral_id = %s"
             " AND state = 'pending' AND claim_token IS NOT NULL",
             referral_id(1));
    ck_assert_int_eq(db_value(sql), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox WHERE state = 'pending'"
                              " AND claim_token IS NULL AND attempts = 0"),
                     2);
    db_exec("DROP TRIGGER refuse_sent ON trafficking.outbox");
    /* the released rows leave at once; the one that kept its lease once it ran out */
    DISPATCH("--timeout-ms", "400", NULL);
    COUNTS(2, 0, 0, 0);
    sleep_ms(3100);
    DISPATCH("--timeout-ms", "400", NULL);
    COUNTS(1, 0, 0, 0);
    ck_assert_int_eq(check_every_key_accepted_once(4), 1);
}
END_TEST

/*
 * Safe contact changed after a referral to a destination that contacts the
 * person was queued: the payload is built when it is sent, so it carries
 * only the channels still safe, or the referral is held with the reason
 * (visible to the caseworker, exit 3).
 */
static const struct safety_case {
    const char *name;
    const char *channels; /* safety set --safe-channels after queueing */
    const char *dnc;      /* --do-not-contact */
    const char *held;     /* part of the reason, or NULL: sent */
} safety_cases[] = {
    {"trafficker controls the phone, email left: sent with email only", "phone,email", "no", NULL},
    {"trafficker controls the phone, no other channel: held", "phone,sms", "no",
     "the trafficker controls the phone"},
    {"do not contact: held", "phone,email", "yes", "must not be contacted (do not contact"},
};

START_TEST(a_safe_contact_change_after_queueing_is_honoured_when_sent)
{
    const struct safety_case *c = &safety_cases[_i];
    char person[24];
    start_sink(0, 0, 0);
    configure_webhook();
    seed(1, "hotline", "imminent_danger", NULL);
    /* the case's person, reachable by phone and email when it was queued */
    snprintf(person, sizeof(person), "%lld",
             tl_value(app, "WITH u AS (SELECT id, agency_id FROM casehost.users"
                           "            WHERE name = 'a_worker'),"
                           " p AS (INSERT INTO casehost.people (agency_id, given_name, created_by)"
                           "   SELECT agency_id, 'Ana', id FROM u RETURNING id),"
                           " c AS (UPDATE casehost.cases SET subject_id = (SELECT id FROM p))"
                           " SELECT id FROM p"));
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "safety", "set", person, "--safe-channels",
                         "phone,email", "--phone", "555-0199", "--email", "ana@example.org",
                         NULL) == 0,
                  "%s", r.err);
    /* built at send time from the referral's fields (as routing queues it) */
    db_exec("UPDATE trafficking.referrals SET fields = fields || 'safe_contact'::text");
    db_exec("UPDATE trafficking.outbox SET extra = '{\"urgency\": \"24h\"}', payload = NULL");
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "safety", "set", person, "--safe-channels",
                         c->channels, "--trafficker-controls-phone", "yes", "--do-not-contact",
                         c->dnc, NULL) == 0,
                  "%s", r.err);
    DISPATCH(NULL);
    if (c->held == NULL) {
        COUNTS(1, 0, 0, 0);
        ck_assert_int_eq(load_records(), 1);
        ck_assert_msg(strstr(recs[0].body, "555-0199") == NULL, "the phone left: %s", recs[0].body);
        HAS(recs[0].body, "\"channels\": [\"email\"]");
        HAS(recs[0].body, "ana@example.org");
        return;
    }
    COUNTS(0, 1, 0, 0);
    ck_assert_int_eq(r.status, 3);
    ck_assert_int_eq(load_records(), 0);
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.outbox"), "held");
    HAS(db_text("SELECT last_error FROM trafficking.outbox"), c->held);
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals"), "queued");
    HAS(db_text("SELECT detail FROM trafficking.referral_history ORDER BY id DESC LIMIT 1"),
        c->held);
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "--json", "referral", "attention", NULL), 0);
    HAS(r.out, c->held);
    /* a lasting hold alerts once */
    DISPATCH(NULL);
    COUNTS(0, 0, 0, 0);
    ck_assert_int_eq(r.status, 0);
}
END_TEST

static const struct leave_case {
    const char *name;
    const char *basis;
    int with_consent;
    const char *change; /* SQL by the owner after queueing; %s is the consent id */
    int sent;
    const char *error;          /* outbox last_error (held) */
    const char *referral_state; /* afterwards */
} leave_cases[] = {
    {"valid consent: sent", "consent", 1, NULL, 1, NULL, "sent"},
    {"consent revoked after queueing: held, referral revoked", "consent", 1,
     "UPDATE trafficking.consents SET revoked_at = now(), revoke_reason = 'person withdrew'"
     " WHERE id = %s",
     0, "was revoked at", "revoked"},
    {"consent expired: held, referral revoked", "consent", 1,
     "UPDATE trafficking.consents SET expires_at = now() - interval '1 hour' WHERE id = %s", 0,
     "expired at", "revoked"},
    {"mandatory report leaves without consent", "mandatory_report", 0, NULL, 1, NULL, "sent"},
    {"imminent danger leaves without consent", "imminent_danger", 0, NULL, 1, NULL, "sent"},
    {"referral no longer queued: held, referral left alone", "mandatory_report", 0,
     "UPDATE trafficking.referrals SET state = 'pending_consent'", 0,
     "is pending_consent, not queued", "pending_consent"},
};

START_TEST(consent_is_checked_again_before_sending)
{
    const struct leave_case *c = &leave_cases[_i];
    const char *consent = c->with_consent ? make_consent() : NULL;
    char consent_id[24] = "", want[200];
    start_sink(0, 0, 0);
    configure_webhook();
    if (consent != NULL)
        snprintf(consent_id, sizeof(consent_id), "%s", consent);
    seed(1, "hotline", c->basis, c->with_consent ? consent_id : NULL);
    if (c->change != NULL) {
        char sql[400];
        PGresult *res;
        snprintf(sql, sizeof(sql), c->change, consent_id);
        res = PQexec(app, sql);
        ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
        PQclear(res);
    }
    DISPATCH(NULL);
    if (c->sent) {
        COUNTS(1, 0, 0, 0);
        ck_assert_int_eq(load_records(), 1);
    } else {
        COUNTS(0, 1, 0, 0);
        ck_assert_int_eq(load_records(), 0); /* nothing left the building */
        ck_assert_str_eq(db_text("SELECT state FROM trafficking.outbox"), "held");
        HAS(db_text("SELECT last_error FROM trafficking.outbox"), c->error);
    }
    ck_assert_str_eq(db_text("SELECT state FROM trafficking.referrals"), c->referral_state);
    if (strcmp(c->referral_state, "revoked") == 0) {
        /* the reason names the consent, in the referral and in its history */
        snprintf(want, sizeof(want), "consent %s ", consent_id);
        HAS(db_text("SELECT reason FROM trafficking.referrals"), want);
        HAS(db_text("SELECT detail FROM trafficking.referral_history WHERE to_state = 'revoked'"),
            want);
        if (strstr(c->error, "revoked") != NULL)
            HAS(db_text("SELECT reason FROM trafficking.referrals"), "(person withdrew)");
    }
}
END_TEST

START_TEST(unknown_destination_is_retried_not_lost)
{
    start_sink(0, 0, 0);
    configure_webhook();
    seed(1, "nowhere", "mandatory_report", NULL);
    DISPATCH("--backoff-ms", "60000", NULL);
    COUNTS(0, 0, 1, 0);
    HAS(db_text("SELECT last_error FROM trafficking.outbox"),
        "no dispatch target is configured for destination 'nowhere'");
    ck_assert_int_eq(load_records(), 0);
    /* a row that is not due yet is left alone */
    ck_assert_int_gt(due_in_ms(), 50000);
    DISPATCH("--backoff-ms", "60000", NULL);
    COUNTS(0, 0, 0, 0);
    ck_assert_str_eq(db_text("SELECT state || ' ' || attempts FROM trafficking.outbox"),
                     "pending 1");
}
END_TEST

START_TEST(a_dispatcher_sends_only_its_own_agency)
{
    start_sink(0, 0, 0);
    configure_webhook();
    seed_as("B", 2, "hotline", "mandatory_report", NULL);
    DISPATCH_AS("a_svc", "--backoff-ms", "0", NULL);
    COUNTS(0, 0, 0, 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox WHERE state = 'pending'"),
                     2);
    DISPATCH_AS("b_svc", "--backoff-ms", "0", NULL);
    COUNTS(2, 0, 0, 0);
    ck_assert_int_eq(load_records(), 2);
}
END_TEST

START_TEST(bad_dispatch_targets_are_reported_with_their_line)
{
    configure("hotline = { channel = \"pigeon\"; };\n"
              "le = { channel = \"webhook\"; url = \"ftp://example.org/x\"; };\n"
              "cw = { channel = \"spool\"; spool_dir = \"x\"; colour = \"red\"; };");
    ck_assert_int_ne(tl_run(&r, db, cfg, TL_AS, "a_svc", "dispatch", "--once", NULL), 0);
    /* the plugins list starts on line 2 of the host config: one target per line */
    HAS(r.err, ".cfg:2: trafficking: dispatch_targets: 'hotline': channel must be \"webhook\", "
               "\"command\" or \"spool\"");
    HAS(r.err, ".cfg:3: trafficking: dispatch_targets: 'le': a webhook target needs 'secret'");
    HAS(r.err, ".cfg:3: trafficking: dispatch_targets: 'le': url must start with http:// or "
               "https://");
    HAS(r.err, ".cfg:4: trafficking: dispatch_targets: 'cw': unknown setting 'colour'");
    configure("%s", "");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_svc", "dispatch", "--max-attempts", "0", NULL),
                     2);
    HAS(r.err, "--max-attempts: '0' is not a whole number from 1 to 1000");
    HAS(r.err, "usage: dispatch [--once]");
}
END_TEST

/* ------------------------------------------------ long-running dispatchers --- */

/*
 * Starts `casehost --json dispatch ...` as a_svc in the background (testlib's
 * tl_spawn: output in files, an alarm bounds it if the test dies).
 */
static void spawn_dispatcher(struct tl_proc *p, const char *tag, const char *idle_ms)
{
    const char *const args[] = {"--json", "dispatch",     "--idle-ms", idle_ms, "--backoff-ms",
                                "50",     "--timeout-ms", "5000",      NULL};
    tl_spawn(p, db, cfg, "a_svc", tag, 170, args);
}

/* Polls until no outbox row is pending, or fails after seconds. */
static void wait_drained(int seconds)
{
    long long pending = -1;
    for (int i = 0; i < seconds * 20; i++) {
        pending = db_value("SELECT count(*) FROM trafficking.outbox WHERE state = 'pending'");
        if (pending == 0)
            return;
        sleep_ms(50);
    }
    ck_abort_msg("%lld outbox rows still pending after %d s", pending, seconds);
}

static void wait_records(int at_least, int seconds)
{
    for (int i = 0; i < seconds * 100; i++) {
        if (load_records() >= at_least)
            return;
        sleep_ms(10);
    }
    ck_abort_msg("the receiver got fewer than %d requests in %d s", at_least, seconds);
}

/*
 * Every outbox key was accepted exactly once by the receiver; returns how
 * many raw duplicate deliveries there were.
 */
static int check_every_key_accepted_once(int n_rows)
{
    PGconn *c = tl_connect(db);
    PGresult *keys = PQexec(c, "SELECT idempotency_key FROM trafficking.outbox ORDER BY id");
    int n = load_records(), accepted = 0, dups = 0;
    ck_assert_int_eq(PQntuples(keys), n_rows);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(recs[i].sig_ok, "bad signature for %s", recs[i].key);
        accepted += recs[i].accepted;
        dups += recs[i].raw > 1;
    }
    ck_assert_int_eq(accepted, n_rows);
    for (int k = 0; k < n_rows; k++) {
        const char *key = PQgetvalue(keys, k, 0);
        int got = 0;
        for (int i = 0; i < n; i++)
            got += strcmp(recs[i].key, key) == 0 && recs[i].accepted;
        ck_assert_msg(got == 1, "key %s accepted %d times", key, got);
    }
    PQclear(keys);
    PQfinish(c);
    return dups;
}

START_TEST(killing_a_dispatcher_mid_run_loses_and_doubles_nothing)
{
    struct tl_proc d1, d2;
    char out[4096];
    int dups;
    /*
     * The receiver pauses on request 40, so both dispatchers are waiting on
     * it, each with a row locked and unrecorded: the kill lands mid-flight.
     */
    start_sink_stalling(0, 0, 3, 40);
    configure_webhook();
    seed(200, "hotline", "mandatory_report", NULL);
    spawn_dispatcher(&d1, "d1", "50");
    spawn_dispatcher(&d2, "d2", "50");
    wait_records(40, 60);
    sleep_ms(300);
    kill(d1.pid, SIGKILL);
    ck_assert_int_eq(tl_reap(&d1), 128 + SIGKILL);
    ck_assert_int_lt(load_records(), 200); /* it really was mid-run */
    wait_drained(90);
    /* the survivor stops cleanly on SIGTERM and reports what it did */
    kill(d2.pid, SIGTERM);
    ck_assert_int_eq(tl_reap(&d2), 0);
    read_text(d2.out, out, sizeof(out));
    HAS(out, "\"sent\"");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referrals WHERE state = 'sent'"),
                     200);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox WHERE state = 'sent'"), 200);
    dups = check_every_key_accepted_once(200);
    /*
     * Only the row in flight at the kill is delivered twice: the receiver got
     * it, the killed worker never recorded it, and once its lease ran out
     * the survivor sent it again under the same key.
     */
    ck_assert_int_le(dups, 1);
    ck_assert_int_eq(dups, 1);
    fprintf(stderr, "kill test: %d requests for 200 referrals, %d raw duplicate(s)\n",
            load_records(), dups);
}
END_TEST

/* The private folders (casehost-*) in folder tmp, into names (n at most); how many. */
static int private_folders(const char *tmp, char names[][256], int n)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    int found = 0;
    ck_assert_msg(d != NULL, "%s: %s", tmp, strerror(errno));
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "casehost-", 9) == 0 && found < n)
            snprintf(names[found++], 256, "%s", e->d_name);
    closedir(d);
    return found;
}

/* Polls until tmp holds want private folders, or fails after 10 s. */
static void wait_private_folders(const char *tmp, int want)
{
    char names[8][256];
    for (int i = 0; i < 200 && private_folders(tmp, names, 8) != want; i++)
        sleep_ms(50);
    ck_assert_int_eq(private_folders(tmp, names, 8), want);
}

/*
 * A process killed with SIGKILL cannot remove its private copy of the live
 * configuration (destinations, webhook targets); the next process removes
 * it, and never the copy of a process still running.
 */
START_TEST(a_killed_process_s_copy_of_the_configuration_is_removed_by_the_next)
{
    struct tl_proc d1, d2;
    char tmp[1200], names[8][256], killed[256], running[256];
    snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
    ck_assert_int_eq(mkdir(tmp, 0700), 0);
    setenv("TMPDIR", tmp, 1); /* the test's own child: every casehost it starts inherits it */
    configure_webhook();
    spawn_dispatcher(&d1, "d1", "50");
    wait_private_folders(tmp, 1);
    private_folders(tmp, names, 8);
    snprintf(killed, sizeof(killed), "%s", names[0]);
    ck_assert_msg(strncmp(killed, "casehost-live-", 14) == 0, "%s", killed);
    kill(d1.pid, SIGKILL);
    ck_assert_int_eq(tl_reap(&d1), 128 + SIGKILL);
    ck_assert_int_eq(private_folders(tmp, names, 8), 1); /* left behind */

    spawn_dispatcher(&d2, "d2", "50");
    for (int i = 0;
         i < 200 && (private_folders(tmp, names, 8) != 1 || strcmp(names[0], killed) == 0); i++)
        sleep_ms(50);
    /* the killed one's is gone, the new one's made */
    ck_assert_int_eq(private_folders(tmp, names, 8), 1);
    ck_assert_str_ne(names[0], killed);
    snprintf(running, sizeof(running), "%s", names[0]);

    /* a command run meanwhile leaves the running dispatcher's copy alone, and none of its own */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_svc", "dispatch", "--once", NULL), 0);
    ck_assert_int_eq(private_folders(tmp, names, 8), 1);
    ck_assert_str_eq(names[0], running);

    kill(d2.pid, SIGTERM);
    ck_assert_int_eq(tl_reap(&d2), 0);
    ck_assert_int_eq(private_folders(tmp, names, 8), 0);
}
END_TEST

START_TEST(a_lost_connection_is_reconnected)
{
    struct tl_proc d;
    char out[4096];
    /* The connection dies while a send is in flight (the receiver pauses on request 5). */
    start_sink_stalling(0, 0, 5, 5);
    configure_webhook();
    seed(30, "hotline", "mandatory_report", NULL);
    spawn_dispatcher(&d, "d", "50");
    wait_records(5, 60);
    sleep_ms(300);
    ck_assert_int_ge(db_value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                              " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                              "   AND backend_type = 'client backend'"),
                     1);
    wait_drained(60);
    kill(d.pid, SIGTERM);
    ck_assert_int_eq(tl_reap(&d), 0);
    read_text(d.out, out, sizeof(out));
    json_decref(doc);
    doc = json_loads(out, 0, NULL);
    ck_assert_msg(doc != NULL, "not JSON:\n%s", out);
    ck_assert_msg(json_integer_value(json_object_get(doc, "reconnects")) >= 1, "%s", out);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "sent")), 30);
    /* the row whose outcome could not be recorded went again, under its key */
    ck_assert_int_eq(check_every_key_accepted_once(30), 1);
}
END_TEST

/* The dispatcher p has recorded its start: its signal handlers are in place by then. */
static void wait_started(const struct tl_proc *p)
{
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM trafficking.dispatch_workers WHERE pid = %ld"
             " AND stopped_at IS NULL",
             (long)p->pid);
    for (int i = 0; i < 400; i++) {
        if (db_value(sql) == 1)
            return;
        sleep_ms(25);
    }
    ck_abort_msg("dispatcher %ld did not record its start within 10 s", (long)p->pid);
}

/* p's standard output, parsed into doc. */
static void load_output(const struct tl_proc *p)
{
    char *out = tl_read_file(p->out);
    json_decref(doc);
    doc = json_loads(out, 0, NULL);
    ck_assert_msg(doc != NULL, "not JSON:\n%s", out);
    free(out);
}

/*
 * A plugin command cannot have the host load another generation (the
 * plugin ABI has no such call), so a long-running dispatcher that sees a
 * deploy ends cleanly, exit 0, for the service manager to start it again
 * (Restart=always, INSTALL 8.1). Started again, it runs on the new one.
 */
START_TEST(a_running_dispatcher_ends_cleanly_when_a_new_configuration_is_deployed)
{
    struct tl_proc d;
    char cand_dir[1024], cand[1400], path[1200], *err;
    FILE *f;
    configure("hotline = { channel = \"command\"; command = \"cat >/dev/null\"; };");
    seed(3, "hotline", "mandatory_report", NULL);
    spawn_dispatcher(&d, "deploy", "50");
    wait_drained(30);
    snprintf(cand, sizeof(cand), "%s", tl_candidate_config(cand_dir, sizeof(cand_dir), "deploy"));
    snprintf(path, sizeof(path), "%s/trafficking/screening.cfg", cand_dir);
    f = fopen(path, "a");
    ck_assert_ptr_nonnull(f);
    fputs("# a new generation\n", f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_msg(tl_run(&r, db, cand, "config", "deploy", "--note", "a new generation", NULL) == 0,
                  "config deploy: exit %d\n%s%s", r.status, r.out, r.err);
    ck_assert_int_eq(tl_reap(&d), 0);
    load_output(&d);
    ck_assert(json_is_true(json_object_get(doc, "deployed")));
    ck_assert_int_eq(count("sent"), 3);
    err = tl_read_file(d.err);
    HAS(err, "trafficking: info: dispatch: configuration ");
    HAS(err, "was deployed (running ");
    HAS(err, "stopping to start again on it");
    free(err);
    /* a clean stop: recorded, nothing leased */
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.dispatch_workers"
                              " WHERE stopped_at IS NOT NULL"),
                     1);
    ck_assert_int_eq(
        db_value("SELECT count(*) FROM trafficking.outbox WHERE claimed_until IS NOT NULL"), 0);
    /* started again, as the unit does, it runs on the new generation and keeps running */
    spawn_dispatcher(&d, "deploy2", "50");
    seed(2, "hotline", "mandatory_report", NULL);
    wait_drained(30);
    kill(d.pid, SIGTERM);
    ck_assert_int_eq(tl_reap(&d), 0);
    load_output(&d);
    ck_assert_ptr_null(json_object_get(doc, "deployed"));
    ck_assert_int_eq(count("sent"), 2);
}
END_TEST

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)(t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

/*
 * A batch's later rows are vetted again just before they leave: the person
 * withdraws consent while the first referral of the batch is on its way (the
 * receiver holds that request 2 s), and the second, claimed with it under
 * the same consent, never leaves: its referral is revoked and its row held.
 * Withdrawn behind the program's back (the consent row changed), the check
 * before the second send finds it and holds the row, and the first is
 * recorded as sent. Withdrawn with `consent revoke` (both referrals revoked
 * and their rows held at once), the second is found held and not sent, and
 * the first, which reached the receiver, is still recorded as having left
 * (027): sent, "although it became revoked while on its way". When that
 * first send fails instead, it is neither tried again nor, on its last
 * attempt, failed for good: its row stays held.
 */
static const struct revoke_case {
    const char *name;
    int by_command;       /* `consent revoke`, else an UPDATE of the consent */
    int fail_first;       /* the receiver answers the first request 500 */
    const char *attempts; /* --max-attempts */
    const char *logs[2];  /* what the dispatcher's log must say (the second about row 2) */
    const char *first[3]; /* the first row: outbox state, referral state, history detail */
    int exit;             /* 3: this run held a referral */
} revoke_cases[] = {
    {"consent changed behind the program",
     0,
     0,
     "8",
     {"sent to hotline by webhook (attempt 1)", "held: not sent: consent "},
     {"sent", "sent", "sent to hotline by webhook (attempt 1)"},
     3},
    {"consent revoke",
     1,
     0,
     "8",
     {"sent to hotline by webhook (attempt 1)",
      "not sent: it became held since it was claimed (referral revoked)"},
     {"sent", "revoked",
      "sent to hotline by webhook (attempt 1), although it became revoked while on its way"},
     0},
    {"consent revoke while the first send fails",
     1,
     1,
     "8",
     {"the outcome was not recorded: the row is no longer this worker's",
      "not sent: it became held since it was claimed (referral revoked)"},
     {"held", "revoked", "person withdrew"},
     0},
    {"consent revoke while the last attempt fails: not 'failed for good'",
     1,
     1,
     "1",
     {"the outcome was not recorded: the row is no longer this worker's",
      "not sent: it became held since it was claimed (referral revoked)"},
     {"held", "revoked", "person withdrew"},
     0},
};

START_TEST(consent_revoked_while_a_batch_is_on_its_way_stops_its_later_rows)
{
    const struct revoke_case *c = &revoke_cases[_i];
    const char *const args[] = {
        "--json", "dispatch",       "--idle-ms", "30000", "--backoff-ms", "50", "--timeout-ms",
        "5000",   "--max-attempts", c->attempts, NULL};
    struct tl_proc d;
    char consent_id[24], sql[400], *err;
    start_sink_stalling(c->fail_first, 0, 0, 1);
    configure_webhook();
    snprintf(consent_id, sizeof(consent_id), "%s", make_consent());
    seed(2, "hotline", "consent", consent_id);
    tl_spawn(&d, db, cfg, "a_svc", "revoke", 170, args);
    for (int i = 0; i < 500 && db_value("SELECT count(*) FROM trafficking.outbox"
                                        " WHERE claim_token IS NOT NULL") < 2;
         i++)
        sleep_ms(10);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox"
                              " WHERE claim_token IS NOT NULL"),
                     2);
    sleep_ms(300); /* the first request is held by the receiver */
    if (c->by_command) {
        ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "consent", "revoke", consent_id,
                             "--reason", "person withdrew", NULL) == 0,
                      "%s: consent revoke: %s", c->name, r.err);
    } else {
        snprintf(sql, sizeof(sql),
                 "UPDATE trafficking.consents SET revoked_at = now(),"
                 " revoke_reason = 'person withdrew' WHERE id = %s",
                 consent_id);
        db_exec(sql);
    }
    /* the first is answered after the receiver's pause; then the second is looked at */
    for (int i = 0; i < 1000; i++) {
        int seen;
        err = tl_read_file(d.err);
        seen = err != NULL && strstr(err, c->logs[1]) != NULL;
        free(err);
        if (seen)
            break;
        sleep_ms(10);
    }
    kill(d.pid, SIGTERM);
    ck_assert_int_eq(tl_reap(&d), c->exit);
    ck_assert_int_eq(load_records(), 1);
    snprintf(sql, sizeof(sql),
             "SELECT idempotency_key FROM trafficking.outbox WHERE referral_id = %s",
             referral_id(0));
    ck_assert_str_eq(recs[0].key, db_text(sql));
    /* the second never left, and no claim is left on it */
    snprintf(sql, sizeof(sql),
             "SELECT state || ' ' || (sent_at IS NULL) || ' ' || attempts || ' '"
             "       || (claim_token IS NULL)"
             "  FROM trafficking.outbox WHERE referral_id = %s",
             referral_id(1));
    ck_assert_str_eq(db_text(sql), "held true 0 true");
    snprintf(sql, sizeof(sql), "SELECT state FROM trafficking.referrals WHERE id = %s",
             referral_id(1));
    ck_assert_str_eq(db_text(sql), "revoked");
    /* the first: what the database says of it */
    snprintf(sql, sizeof(sql),
             "SELECT o.state || ' ' || r.state || ' ' || (o.sent_at IS NOT NULL)"
             "  FROM trafficking.outbox o JOIN trafficking.referrals r ON r.id = o.referral_id"
             " WHERE r.id = %s",
             referral_id(0));
    {
        char want[64];
        snprintf(want, sizeof(want), "%s %s %s", c->first[0], c->first[1],
                 strcmp(c->first[0], "sent") == 0 ? "true" : "false");
        ck_assert_str_eq(db_text(sql), want);
    }
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM trafficking.referral_history WHERE referral_id = %s"
             "   AND strpos(detail, '%s') > 0",
             referral_id(0), c->first[2]);
    ck_assert_int_eq(db_value(sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM trafficking.outbox WHERE referral_id = %s"
             "   AND claim_token IS NOT NULL",
             referral_id(0));
    ck_assert_int_eq(db_value(sql), 0);
    err = tl_read_file(d.err);
    HAS(err, c->logs[0]);
    HAS(err, c->logs[1]);
    ck_assert_msg(strstr(err, "failed for good") == NULL && strstr(err, "next in") == NULL,
                  "%s: a held row was tried again or failed for good:\n%s", c->name, err);
    free(err);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM trafficking.referral_history WHERE referral_id = %s"
             "   AND strpos(detail, 'failed after') > 0",
             referral_id(0));
    ck_assert_int_eq(db_value(sql), 0);
}
END_TEST

/*
 * SIGHUP: the host config is read only when the process starts, so the
 * dispatcher finishes the cycle under way (the send in flight is recorded as
 * sent, not released; the rows claimed with it and not sent are released)
 * and exits 0, to be started again on the new host config (INSTALL 8.1).
 * Idle, it ends at once, not after --idle-ms.
 */
START_TEST(sighup_finishes_the_cycle_under_way_and_exits_0)
{
    struct tl_proc d;
    struct timespec t0;
    char *err;
    long long sent;
    configure("hotline = { channel = \"command\"; command = \"cat >/dev/null; sleep 0.5\"; };");
    spawn_dispatcher(&d, "hup-idle", "30000");
    wait_started(&d);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kill(d.pid, SIGHUP);
    ck_assert_int_eq(tl_reap(&d), 0);
    ck_assert_int_lt(elapsed_ms(&t0), 5000);
    load_output(&d);
    ck_assert(json_is_true(json_object_get(doc, "sighup")));

    seed(5, "hotline", "mandatory_report", NULL);
    spawn_dispatcher(&d, "hup-busy", "50");
    for (int i = 0; i < 400 && db_value("SELECT count(*) FROM trafficking.outbox"
                                        " WHERE claimed_until IS NOT NULL") == 0;
         i++)
        sleep_ms(10);
    kill(d.pid, SIGHUP);
    ck_assert_int_eq(tl_reap(&d), 0);
    load_output(&d);
    ck_assert(json_is_true(json_object_get(doc, "sighup")));
    sent = count("sent");
    ck_assert_int_ge(sent, 1);
    ck_assert_int_lt(sent, 5);
    /* the rest of its batch (a claim takes up to 16) was given back unsent */
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "released")), 5 - sent);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox WHERE state = 'sent'"),
                     sent);
    /* what did not leave waits, unclaimed and with no attempt counted */
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.outbox WHERE state = 'pending'"
                              " AND attempts = 0 AND claimed_until IS NULL"),
                     5 - sent);
    err = tl_read_file(d.err);
    HAS(err, "trafficking: info: dispatch: SIGHUP: the cycle under way is done; stopping "
             "(exit 0)");
    free(err);
    DISPATCH(NULL);
    COUNTS((int)(5 - sent), 0, 0, 0);
}
END_TEST

static Suite *dispatch_suite(void)
{
    Suite *s = suite_create("dispatch");
    TCase *tc = tcase_create("dispatch");
    TCase *kill = tcase_create("concurrency");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_checked_fixture(kill, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_set_timeout(kill, 180);
    tcase_add_test(tc, webhook_delivers_signed_json_with_its_key);
    tcase_add_test(tc, a_batch_claim_takes_the_oldest_rows_each_under_its_own_lease);
    tcase_add_test(tc, batches_leave_in_claim_order);
    tcase_add_test(tc, recording_a_send_waits_for_a_revoke_instead_of_deadlocking);
    tcase_add_test(tc, an_error_mid_batch_releases_the_rows_not_yet_tried);
    tcase_add_loop_test(kill, consent_revoked_while_a_batch_is_on_its_way_stops_its_later_rows, 0,
                        (int)(sizeof(revoke_cases) / sizeof(revoke_cases[0])));
    tcase_add_test(tc, spool_writes_one_file_per_referral_and_never_twice);
    tcase_add_test(tc, a_safety_change_after_queueing_reaches_the_payload_sent);
    tcase_add_loop_test(tc, command_gets_the_json_on_stdin, 0,
                        (int)(sizeof(command_cases) / sizeof(command_cases[0])));
    tcase_add_test(tc, answer_500_retries_with_doubling_backoff_then_succeeds);
    tcase_add_test(tc, max_attempts_leaves_the_row_failed_and_visible);
    tcase_add_test(tc, a_failed_delivery_is_listed_retried_and_delivered_under_its_key);
    tcase_add_test(tc, referral_attention_lists_each_problem_once_most_urgent_first);
    tcase_add_test(tc, a_locked_referral_is_passed_over_and_the_rest_is_sent);
    tcase_add_loop_test(tc, a_safe_contact_change_after_queueing_is_honoured_when_sent, 0,
                        (int)(sizeof(safety_cases) / sizeof(safety_cases[0])));
    tcase_add_loop_test(tc, consent_is_checked_again_before_sending, 0,
                        (int)(sizeof(leave_cases) / sizeof(leave_cases[0])));
    tcase_add_test(tc, unknown_destination_is_retried_not_lost);
    tcase_add_test(tc, a_dispatcher_sends_only_its_own_agency);
    tcase_add_test(tc, bad_dispatch_targets_are_reported_with_their_line);
    tcase_add_test(kill, killing_a_dispatcher_mid_run_loses_and_doubles_nothing);
    tcase_add_test(kill, a_lost_connection_is_reconnected);
    tcase_add_test(kill, a_killed_process_s_copy_of_the_configuration_is_removed_by_the_next);
    tcase_add_test(kill, a_running_dispatcher_ends_cleanly_when_a_new_configuration_is_deployed);
    tcase_add_test(kill, sighup_finishes_the_cycle_under_way_and_exits_0);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, kill);
    return s;
}

CHECK_MAIN(dispatch_suite())
