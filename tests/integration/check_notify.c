/*
 * check_notify.c: people are told, and the dispatcher runs as a service:
 * the real casehost binary against a real PostgreSQL. A delivery that fails
 * for good, a hold and an escalation with no target each queue a notice
 * (014_notifications.sql) to the assignee and, where the law or the lack of
 * a target asks for it, the supervisors; the dispatcher delivers it to the
 * agency's `notify` spool, and it names the referral, the case and what to
 * do, never the person. SIGTERM stops a long-running dispatcher with exit 0
 * and no lease held; `dispatch --health` says when it last ran well.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

/* What the case holds about the person: none of it may reach a notice. */
#define GIVEN "Zelda"
#define FAMILY "Secretname"
#define TITLE "Case of Zelda at the motel"
#define PHONE "555-0199"
#define REASON "she told me about the motel"

static struct tl_result r;
static char db[1024], cfg[1024], dir[1024], spool[1100];
static json_t *doc;

#define HAS(text, part)                                                                            \
    ck_assert_msg(strstr((text), (part)) != NULL, "want '%s' in:\n%s", (part), (text))
#define HASNT(text, part)                                                                          \
    ck_assert_msg(strstr((text), (part)) == NULL, "'%s' must not be in:\n%s", (part), (text))
#define db_value(...) tl_db_valuef(db, __VA_ARGS__)
#define db_text(...) tl_db_textf(db, __VA_ARGS__)
#define db_exec(...) tl_db_execf(db, __VA_ARGS__)

static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    tl_seed_agencies(db, cfg);
    tl_add_user(db, "a_admin", "a_sup", "supervisor", "A");
    tl_add_user(db, "a_admin", "a_sup2", "supervisor", "A");
    tl_add_user(db, "b_admin", "b_sup", "supervisor", "B");
    snprintf(dir, sizeof(dir), "%s/%ld_notify", tl_env("CASEHOST_TEST_TMP"), (long)getpid());
    ck_assert_msg(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
    snprintf(spool, sizeof(spool), "%s/notices", dir);
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

/*
 * The host config: destination "hotline" delivered by command (shell text),
 * and agency A's notices to the spool folder.
 */
static void configure(const char *command)
{
    char settings[3000];
    snprintf(settings, sizeof(settings),
             "dispatch_targets = { hotline = { channel = \"command\"; command = \"%s\"; }; };"
             " notify = ( { agency = \"A\"; channel = \"spool\"; spool_dir = \"%s\"; } );",
             command, spool);
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking_with(settings)));
}

/*
 * n referrals of agency A to "hotline" in state (with an outbox row when
 * queued), each on its own case assigned to a_worker about a person whose
 * name, phone and a revocation reason sit in the database. consent: a
 * consent id or "NULL". Returns the first referral's id.
 */
static long long seed(int n, const char *basis, const char *state, const char *consent)
{
    db_exec("WITH a AS (SELECT id FROM casehost.agencies WHERE name = 'A'),"
            " w AS (SELECT id FROM casehost.users WHERE name = 'a_worker'),"
            " p AS (INSERT INTO casehost.people (agency_id, given_name, family_name, created_by)"
            "   SELECT a.id, '" GIVEN "', '" FAMILY "', w.id FROM a, w RETURNING id),"
            " sc AS (INSERT INTO trafficking.safe_contact (person_id, agency_id, phone,"
            "          safe_channels, safe_times)"
            "   SELECT p.id, a.id, '" PHONE "', ARRAY['email'], 'after 6' FROM p, a),"
            " c AS (INSERT INTO casehost.cases (agency_id, title, assignee_id, subject_id)"
            "   SELECT a.id, '" TITLE "', w.id, p.id FROM a, w, p, generate_series(1, %d)"
            "   RETURNING id),"
            " r AS (INSERT INTO trafficking.referrals (agency_id, case_id, destination_id,"
            "         destination_kind, rule, basis, consent_id, urgency, due_at, ack_sla_hours,"
            "         state, fields, idempotency_key, sent_at, reason)"
            "   SELECT a.id, c.id, 'hotline', 'hotline', 'test_rule', '%s', %s, '24h',"
            "          now() + interval '1 day', 24, '%s', ARRAY['case_id', 'age'],"
            "          'ref-' || c.id, CASE WHEN '%s' = 'sent' THEN now() - interval '48 hours'"
            "          END, '" REASON "' FROM a, c RETURNING id, case_id)"
            " INSERT INTO trafficking.outbox (agency_id, referral_id, destination_id, payload,"
            "                                 idempotency_key)"
            " SELECT (SELECT id FROM a), r.id, 'hotline', jsonb_build_object('referral', r.id),"
            "        'casehost:hotline-' || r.id FROM r WHERE '%s' = 'queued'",
            n, basis, consent, state, state, state);
    return db_value("SELECT min(id) FROM trafficking.referrals");
}

/* A consent of a new person of agency A to "hotline", valid for 30 days. */
static const char *make_consent(void)
{
    static char id[24];
    snprintf(
        id, sizeof(id), "%lld",
        db_value("WITH u AS (SELECT id, agency_id FROM casehost.users WHERE name = 'a_worker'),"
                 " p AS (INSERT INTO casehost.people (agency_id, given_name, created_by)"
                 "   SELECT agency_id, 'Ana', id FROM u RETURNING id)"
                 " INSERT INTO trafficking.consents (agency_id, person_id, purpose, recipients,"
                 "   legal_regime, granted_at, expires_at, recorded_by)"
                 " SELECT u.agency_id, p.id, 'referral', ARRAY['hotline'], 'vawa_voca',"
                 "   now() - interval '2 days', now() + interval '30 days', u.id"
                 " FROM u, p RETURNING id"));
    return id;
}

/* casehost --json dispatch --once ARGS... as a_svc; exit status in r.status, counts in doc. */
#define DISPATCH(...)                                                                              \
    do {                                                                                           \
        tl_run(&r, db, cfg, TL_AS, "a_svc", "--json", "dispatch", "--once", __VA_ARGS__);          \
        ck_assert_msg(r.status == 0 || r.status == 3, "exit %d\n%s\n%s", r.status, r.out, r.err);  \
        json_decref(doc);                                                                          \
        doc = json_loads(r.out, 0, NULL);                                                          \
        ck_assert_msg(doc != NULL, "not JSON:\n%s", r.out);                                        \
    } while (0)

static long long count(const char *key)
{
    const json_t *v = json_object_get(doc, key);
    ck_assert_msg(json_is_integer(v), "'%s' missing in %s", key, r.out);
    return (long long)json_integer_value(v);
}

/*
 * The notices in the spool folder, in file-name order, each parsed; returns
 * how many (at most max). The caller json_decrefs each.
 */
static int load_notices(json_t **out, int max)
{
    struct dirent **names = NULL;
    int n = scandir(spool, &names, NULL, alphasort), got = 0;
    for (int i = 0; i < n; i++) {
        char path[1400];
        char *text;
        if (strncmp(names[i]->d_name, "notice-", 7) == 0 && got < max) {
            snprintf(path, sizeof(path), "%s/%s", spool, names[i]->d_name);
            text = tl_read_file(path);
            /* Nothing about the person, whatever the notice says. */
            HASNT(text, GIVEN);
            HASNT(text, FAMILY);
            HASNT(text, TITLE);
            HASNT(text, PHONE);
            HASNT(text, REASON);
            HASNT(text, "after 6");
            out[got] = json_loads(text, 0, NULL);
            ck_assert_msg(out[got] != NULL, "not JSON: %s", text);
            got++;
            free(text);
        }
        free(names[i]);
    }
    free(names);
    return got;
}

/* The recipients of notice j as "user:as,user:as". */
static const char *recipients(const json_t *j)
{
    static char buf[400];
    size_t used = 0;
    const json_t *to = json_object_get(j, "to"), *x;
    size_t i;
    buf[0] = '\0';
    json_array_foreach(to, i, x)
    {
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s:%s", i ? "," : "",
                                 json_string_value(json_object_get(x, "user")),
                                 json_string_value(json_object_get(x, "as")));
        if (used >= sizeof(buf))
            break;
    }
    return buf;
}

static const char *str(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v != NULL ? v : "";
}

/* ------------------------------------------------------- failed for good --- */

static const struct failed_case {
    const char *name;
    const char *basis;
    const char *to;     /* the recipients */
    const char *action; /* part of what a person must do */
} failed_cases[] = {
    {"mandatory report: assignee and supervisors, call now", "mandatory_report",
     "a_worker:assignee,a_sup:supervisor,a_sup2:supervisor",
     "call hotline now and make the report by phone"},
    {"consent: the assignee alone", "consent", "a_worker:assignee", "contact hotline"},
};

START_TEST(a_delivery_failed_for_good_notifies_the_right_people)
{
    const struct failed_case *c = &failed_cases[_i];
    json_t *n[4];
    long long ref;
    char want[64];
    configure("cat >/dev/null; exit 7");
    ref = seed(1, c->basis, "queued", strcmp(c->basis, "consent") == 0 ? make_consent() : "NULL");
    DISPATCH("--max-attempts", "2", "--backoff-ms", "0", NULL);
    ck_assert_int_eq(r.status, 3);
    ck_assert_int_eq(count("failed"), 1);
    ck_assert_int_eq(count("notices_sent"), 1);
    ck_assert_int_eq(count("notices_failed"), 0);
    TL_DB_EQ(db, 1,
             "SELECT count(*) FROM trafficking.notices WHERE state = 'sent'"
             " AND kind = 'delivery_failed' AND referral_id = %lld",
             ref);
    ck_assert_int_eq(load_notices(n, 4), 1);
    ck_assert_str_eq(str(n[0], "kind"), "delivery_failed");
    ck_assert_int_eq(json_integer_value(json_object_get(n[0], "referral")), ref);
    ck_assert_int_eq(json_integer_value(json_object_get(n[0], "case")),
                     db_value("SELECT case_id FROM trafficking.referrals WHERE id = %lld", ref));
    ck_assert_str_eq(recipients(n[0]), c->to);
    HAS(str(n[0], "action"), c->action);
    snprintf(want, sizeof(want), "referral retry %lld", ref);
    HAS(str(n[0], "action"), want);
    HAS(str(n[0], "subject"), "could not be delivered to hotline");
    /* agency B's supervisor hears nothing of A */
    HASNT(recipients(n[0]), "b_sup");
    /* the log says it once, with a level, by referral id */
    HAS(r.err, "trafficking: error: dispatch: referral");
    HAS(r.err, "delivery failed for good");
    HAS(r.err, "notice");
    json_decref(n[0]);
    /* nothing new next time: cron alerts once */
    DISPATCH("--max-attempts", "2", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(count("notices_sent"), 0);
}
END_TEST

/* A notice waits, visible, while the agency has no channel; nothing is lost. */
START_TEST(without_a_channel_notices_wait)
{
    char settings[600];
    seed(1, "mandatory_report", "queued", "NULL");
    snprintf(settings, sizeof(settings),
             "dispatch_targets = { hotline = { channel = \"command\"; command = \"exit 7\"; }; };");
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking_with(settings)));
    DISPATCH("--max-attempts", "1", NULL);
    ck_assert_int_eq(count("failed"), 1);
    HAS(r.err, "has no notification channel");
    TL_DB_EQ(db, 1, "SELECT count(*) FROM trafficking.notices WHERE state = 'pending'");
    /* the caseworker sees it */
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "--json", "referral", "attention", NULL), 0);
}
END_TEST

/* ------------------------------------------------------------------ hold --- */

START_TEST(a_hold_notifies_the_assignee)
{
    json_t *n[4];
    long long ref;
    configure("cat >/dev/null");
    ref = seed(1, "mandatory_report", "queued", "NULL");
    db_exec("UPDATE trafficking.safe_contact SET do_not_contact = true");
    DISPATCH(NULL);
    ck_assert_int_eq(r.status, 3);
    ck_assert_int_eq(count("held"), 1);
    ck_assert_int_eq(count("notices_sent"), 1);
    ck_assert_int_eq(load_notices(n, 4), 1);
    ck_assert_str_eq(str(n[0], "kind"), "held");
    ck_assert_int_eq(json_integer_value(json_object_get(n[0], "referral")), ref);
    HAS(str(n[0], "action"), "review the safe-contact plan");
    HAS(recipients(n[0]), "a_worker:assignee");
    json_decref(n[0]);
}
END_TEST

/* ------------------------------------------------------------ escalation --- */

static const struct escalate_case {
    const char *name;
    const char *basis;
    const char *state;
    const char *kind;
    const char *action;
} escalate_cases[] = {
    {"an unacknowledged consent referral, no target: supervisors told", "consent", "sent",
     "ack_overdue", "a supervisor must follow up with hotline by phone now"},
    {"an undelivered mandatory report, no target: supervisors told", "mandatory_report",
     "delivery_failed", "escalation", "a supervisor must call hotline now"},
};

START_TEST(an_escalation_with_no_target_notifies_the_supervisors)
{
    const struct escalate_case *c = &escalate_cases[_i];
    json_t *n[4];
    long long ref;
    int got;
    configure("cat >/dev/null");
    ref = seed(1, c->basis, c->state, strcmp(c->basis, "consent") == 0 ? make_consent() : "NULL");
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_svc", "tick", NULL) == 0, "%s", r.err);
    TL_DB_EQ(db, 1, "SELECT count(*) FROM trafficking.notices WHERE kind = '%s'", c->kind);
    DISPATCH(NULL);
    ck_assert_int_eq(count("notices_sent"), 1);
    got = load_notices(n, 4);
    ck_assert_int_eq(got, 1);
    ck_assert_str_eq(str(n[0], "kind"), c->kind);
    ck_assert_int_eq(json_integer_value(json_object_get(n[0], "referral")), ref);
    ck_assert_str_eq(recipients(n[0]), "a_worker:assignee,a_sup:supervisor,a_sup2:supervisor");
    HAS(str(n[0], "subject"), "no escalation target");
    HAS(str(n[0], "action"), c->action);
    ck_assert(json_is_null(json_object_get(n[0], "escalated_to")));
    json_decref(n[0]);
}
END_TEST

/* ---------------------------------------------------- a service for months --- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* No outbox row or notice is leased to anyone. */
static void assert_no_lease(void)
{
    TL_DB_EQ(db, 0,
             "SELECT (SELECT count(*) FROM trafficking.outbox"
             "         WHERE claimed_until IS NOT NULL OR claim_token IS NOT NULL)"
             "     + (SELECT count(*) FROM trafficking.notices"
             "         WHERE claimed_until IS NOT NULL OR claim_token IS NOT NULL)");
}

static const char *const long_running[] = {"--json",       "dispatch", "--idle-ms",  "50",
                                           "--worker",     "svc-1",    "--lease-ms", "60000",
                                           "--timeout-ms", "20000",    NULL};

/* SIGTERM while a send is under way: it is finished and recorded, then exit 0. */
START_TEST(sigterm_finishes_the_send_and_exits_0_with_no_lease_held)
{
    struct tl_proc p;
    char *out;
    configure("cat >/dev/null; sleep 0.3");
    seed(30, "mandatory_report", "queued", "NULL");
    tl_spawn(&p, db, cfg, "a_svc", "term", 60, long_running);
    for (int i = 0; i < 400 && db_value("SELECT count(*) FROM trafficking.outbox"
                                        " WHERE claimed_until IS NOT NULL") == 0;
         i++)
        sleep_ms(10);
    sleep_ms(500);
    kill(p.pid, SIGTERM);
    ck_assert_int_eq(tl_reap(&p), 0);
    assert_no_lease();
    /* what left is recorded as sent; what did not waits, unclaimed, for the next worker */
    TL_DB_EQ(db, 30, "SELECT count(*) FROM trafficking.outbox WHERE state IN ('sent', 'pending')");
    TL_DB_EQ(db, 0,
             "SELECT count(*) FROM trafficking.outbox WHERE state = 'pending'"
             " AND attempts > 0");
    out = tl_read_file(p.out);
    HAS(out, "\"sent\"");
    free(out);
    out = tl_read_file(p.err);
    HAS(out, "trafficking: info: dispatch: referral");
    free(out);
    /* its stop is recorded */
    TL_DB_EQ(db, 1,
             "SELECT count(*) FROM trafficking.dispatch_workers WHERE worker = 'svc-1'"
             " AND stopped_at IS NOT NULL AND last_ok_at IS NOT NULL");
}
END_TEST

/*
 * SIGTERM while a send is under way that the stop cuts short (the command
 * signals the dispatcher, then fails as a killed command would): the row is
 * released at once, the attempt not counted, as are the rows claimed with it
 * and not sent yet, and the exit is 0.
 */
START_TEST(sigterm_cutting_a_send_short_releases_its_lease)
{
    struct tl_proc p;
    char *out;
    json_t *j;
    configure("cat >/dev/null; kill -TERM $PPID; sleep 0.2; exit 1");
    seed(3, "mandatory_report", "queued", "NULL");
    tl_spawn(&p, db, cfg, "a_svc", "cut", 60, long_running);
    ck_assert_int_eq(tl_reap(&p), 0);
    assert_no_lease();
    TL_DB_EQ(db, 3,
             "SELECT count(*) FROM trafficking.outbox WHERE state = 'pending'"
             " AND attempts = 0");
    TL_DB_EQ(db, 3, "SELECT count(*) FROM trafficking.referrals WHERE state = 'queued'");
    out = tl_read_file(p.out);
    j = json_loads(out, 0, NULL);
    ck_assert_msg(j != NULL, "not JSON: %s", out);
    /* the row whose send was cut short, and the two claimed in its batch */
    ck_assert_int_eq(json_integer_value(json_object_get(j, "released")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "retried")), 0);
    json_decref(j);
    free(out);
    /* another worker takes it at once: no lease to wait for */
    configure("cat >/dev/null");
    DISPATCH(NULL);
    ck_assert_int_eq(count("sent"), 3);
}
END_TEST

START_TEST(health_reports_the_last_good_run_and_send)
{
    configure("cat >/dev/null");
    /* nobody has run yet */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_svc", "dispatch", "--health", NULL), 3);
    HAS(r.out, "no dispatcher of agency 'A' has completed a run yet");
    seed(2, "mandatory_report", "queued", "NULL");
    DISPATCH("--worker", "cron-1", NULL);
    ck_assert_int_eq(count("sent"), 2);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_svc", "--json", "dispatch", "--health", NULL),
                     0);
    json_decref(doc);
    doc = json_loads(r.out, 0, NULL);
    ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
    ck_assert(json_is_true(json_object_get(doc, "healthy")));
    ck_assert_int_le(json_integer_value(json_object_get(doc, "last_ok_age_s")), 60);
    ck_assert_int_eq(strlen(str(doc, "last_ok_at")), 20);
    ck_assert_int_eq(strlen(str(doc, "last_sent_at")), 20);
    {
        const json_t *w = json_array_get(json_object_get(doc, "workers"), 0);
        ck_assert_str_eq(str(w, "worker"), "cron-1");
        ck_assert_int_eq(json_integer_value(json_object_get(w, "sent_total")), 2);
        ck_assert_str_eq(str(w, "state"), "stopped");
    }
    /* a caseworker may look too, and sees the same */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "dispatch", "--health", NULL), 0);
    HAS(r.out, "last good run:");
    /* an hour without a good run is stale: exit 3 */
    db_exec("UPDATE trafficking.dispatch_workers SET last_ok_at = now() - interval '1 hour'");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_svc", "dispatch", "--health", NULL), 3);
    HAS(r.out, "stale");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_svc", "dispatch", "--health", "--stale-after-s",
                            "7200", NULL),
                     0);
    /* agency B's service sees none of A's dispatchers */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_svc", "dispatch", "--health", NULL), 3);
    HASNT(r.out, "cron-1");
}
END_TEST

static Suite *notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("notices");
    TCase *svc = tcase_create("service");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_checked_fixture(svc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_set_timeout(svc, 90);
    tcase_add_loop_test(tc, a_delivery_failed_for_good_notifies_the_right_people, 0,
                        (int)(sizeof(failed_cases) / sizeof(failed_cases[0])));
    tcase_add_test(tc, without_a_channel_notices_wait);
    tcase_add_test(tc, a_hold_notifies_the_assignee);
    tcase_add_loop_test(tc, an_escalation_with_no_target_notifies_the_supervisors, 0,
                        (int)(sizeof(escalate_cases) / sizeof(escalate_cases[0])));
    tcase_add_test(svc, sigterm_finishes_the_send_and_exits_0_with_no_lease_held);
    tcase_add_test(svc, sigterm_cutting_a_send_short_releases_its_lease);
    tcase_add_test(svc, health_reports_the_last_good_run_and_send);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, svc);
    return s;
}

CHECK_MAIN(notify_suite())
