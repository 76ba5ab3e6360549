/*
 * check_tick.c: `casehost tick --every N` as the long-running service an
 * agency runs for months, through the real binary and a real PostgreSQL:
 * every interval runs as the same authenticated role and escalates what
 * fell due since the last one, each interval logs one line with a level and
 * no personal data, SIGTERM stops it with exit 0, and a lost connection is
 * made again.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024];
static json_t *doc;

#define HAS(text, part)                                                                            \
    ck_assert_msg(strstr((text), (part)) != NULL, "want '%s' in:\n%s", (part), (text))

static const struct tl_cli cli = {db, cfg, &r, &doc};

/* The person's name: it must never reach the service's log. */
#define PERSON_NAME "Jo"

static void setup(void)
{
    tl_cli_setup(&cli, NULL);
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

#define db_value(...) tl_db_valuef(db, __VA_ARGS__)
#define db_exec(...) tl_db_execf(db, __VA_ARGS__)

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Starts `casehost tick --every 1` as a_svc in the background; output in files named after tag. */
static void spawn_tick(struct tl_proc *p, const char *tag)
{
    static const char *const args[] = {"tick", "--every", "1", NULL};
    tl_spawn(p, db, cfg, "a_svc", tag, 100, args);
}

/* A whole file into buf (empty when it cannot be read). */
static void read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f != NULL)
        fclose(f);
}

/* How many lines of text contain part. */
static int lines_with(const char *text, const char *part)
{
    int n = 0;
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        for (const char *p = strstr(line, part); p != NULL && p < line + len;
             p = strstr(p + 1, part)) {
            n++;
            break;
        }
        line += len + (end != NULL);
    }
    return n;
}

/*
 * Waits until p's log has at least n lines logging an interval (or the
 * process ended), failing after seconds; returns the log in buf.
 */
static void wait_intervals(struct tl_proc *p, int n, int seconds, char *buf, size_t len)
{
    for (int i = 0; i < seconds * 20; i++) {
        read_text(p->err, buf, len);
        if (lines_with(buf, ": tick: interval ") >= n)
            return;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            ck_abort_msg("tick --every 1 ended early; its log:\n%s", buf);
        }
        sleep_ms(50);
    }
    ck_abort_msg("fewer than %d intervals logged in %d s:\n%s", n, seconds, buf);
}

/* Waits until the one-value query gives want, failing after seconds. */
static void wait_value(long long want, int seconds, const char *sql)
{
    long long got = -1;
    for (int i = 0; i < seconds * 20; i++) {
        if ((got = db_value("%s", sql)) == want)
            return;
        sleep_ms(50);
    }
    ck_abort_msg("%lld, want %lld after %d s: %s", got, want, seconds, sql);
}

/* Both mandatory reports of a screened minor, sent 30 hours ago and not acknowledged (24 h). */
static void make_overdue_referrals(void)
{
    static const char *const answers[] = {"offer_not_as_promised=no", "could_not_leave=no",
                                          "id_money_phone_held=no", "exchanged_sex=yes", NULL};
    long long person = tl_person_add(&cli, "--age-estimate", "15");
    long long c = tl_case_new(&cli, person, "Tick", NULL);
    tl_screen(&cli, c, "youth_quick", answers);
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
                              " AND state = 'queued'",
                              c),
                     2);
    db_exec("UPDATE trafficking.outbox SET state = 'sent', sent_at = now() - interval '30 hours'"
            " WHERE referral_id IN (SELECT id FROM trafficking.referrals WHERE case_id = %lld);"
            " UPDATE trafficking.referrals SET state = 'sent', sent_at = now() - interval"
            " '30 hours' WHERE case_id = %lld",
            c, c);
}

/* Every line of log is "WHO: LEVEL: ...", and none names the person. */
static void assert_log_lines_have_levels(const char *log)
{
    static const char *const levels[] = {": info: ", ": warning: ", ": error: "};
    for (const char *line = log; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char one[1024];
        int leveled = 0;
        snprintf(one, sizeof(one), "%.*s", (int)len, line);
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
            const char *at = strstr(one, levels[i]);
            leveled |= at != NULL && at == one + strcspn(one, ":");
        }
        ck_assert_msg(leveled, "a log line without a level: %s", one);
        line += len + (end != NULL);
    }
    ck_assert_msg(strstr(log, PERSON_NAME) == NULL, "the log names the person:\n%s", log);
}

START_TEST(tick_every_second_keeps_escalating_then_stops_on_sigterm)
{
    struct tl_proc p;
    char log[65536], out[65536];
    tl_person_add(&cli, "--age-estimate", "15"); /* a person the service never mentions */
    spawn_tick(&p, "tick");
    /* the second interval is where it used to die */
    wait_intervals(&p, 2, 20, log, sizeof(log));
    /* due only now: a later interval must find them */
    make_overdue_referrals();
    wait_value(2, 20,
               "SELECT count(*) FROM trafficking.referrals WHERE escalated_at IS NOT NULL"
               " AND state = 'sent'");
    wait_value(1, 5, "SELECT count(*) FROM trafficking.referrals WHERE rule = 'escalation'");
    wait_intervals(&p, 6, 20, log, sizeof(log));
    kill(p.pid, SIGTERM);
    ck_assert_int_eq(tl_reap(&p), 0);
    read_text(p.err, log, sizeof(log));
    ck_assert_msg(lines_with(log, "casehost: info: tick: interval ") >= 6, "%s", log);
    ck_assert_msg(lines_with(log, ": error: ") == 0 && lines_with(log, ": warning: ") == 0, "%s",
                  log);
    ck_assert_msg(lines_with(log, " ok: 2 message(s)") == 1,
                  "want one interval escalating both:\n%s", log);
    HAS(log, "casehost: info: tick: stopped: ");
    assert_log_lines_have_levels(log);
    /* what was escalated reached standard output, once */
    read_text(p.out, out, sizeof(out));
    ck_assert_msg(lines_with(out, "not acknowledged within 24 h") == 2, "%s", out);
    ck_assert_msg(strstr(out, PERSON_NAME) == NULL, "%s", out);
    /* each escalation once, however many intervals ran */
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referral_history"
                              " WHERE detail LIKE 'not acknowledged%%'"),
                     2);
    /* every interval ran as the service, in its own transaction */
    ck_assert_int_eq(db_value("SELECT count(*) FROM pg_stat_activity WHERE datname ="
                              " current_database() AND state LIKE 'idle in transaction%%'"),
                     0);
}
END_TEST

START_TEST(tick_reconnects_when_its_connection_is_terminated)
{
    struct tl_proc p;
    char log[65536];
    spawn_tick(&p, "reconnect");
    wait_intervals(&p, 2, 20, log, sizeof(log));
    ck_assert_int_ge(db_value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                              " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                              "   AND backend_type = 'client backend'"),
                     1);
    make_overdue_referrals();
    wait_value(2, 20, "SELECT count(*) FROM trafficking.referrals WHERE escalated_at IS NOT NULL");
    kill(p.pid, SIGINT);
    ck_assert_int_eq(tl_reap(&p), 0);
    read_text(p.err, log, sizeof(log));
    HAS(log, "casehost: warning: tick: interval ");
    HAS(log, "casehost: info: tick: reconnected to the database");
    assert_log_lines_have_levels(log);
}
END_TEST

static Suite *tick_suite(void)
{
    Suite *s = suite_create("tick");
    TCase *tc = tcase_create("service");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, tick_every_second_keeps_escalating_then_stops_on_sigterm);
    tcase_add_test(tc, tick_reconnects_when_its_connection_is_terminated);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(tick_suite())
