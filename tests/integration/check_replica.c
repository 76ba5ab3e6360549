/*
 * check_replica.c: reports on a streaming replica (issue 13). A primary of
 * its own (scripts/test-cluster.sh) and a hot standby of it
 * (scripts/pg-standby.sh, pg_basebackup -R); a report command (the test
 * plugin's tp-report, flagged CH_CMD_VIEW | CH_CMD_REPORT) run with the
 * host config's `reports` group reads the standby as the same person, once
 * replay has caught up with what was written on the primary, says what time
 * its data is as of, and is audited on the primary. With the standby
 * stopped: an error naming the reports server, or the primary when the
 * config allows it. Both servers are stopped when the suite ends.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"
#include "webclient.h"

#define REPLAY_DEADLINE_S 30

/* The primary (cluster/pg) and the standby (cluster/standby) of this suite. */
static char cluster[1024], cluster_error[1200];

/* Runs a script of the tree quietly, its output appended to the cluster's log; its exit status. */
static int script(const char *args)
{
    return tl_cluster_script(cluster, "replica", args);
}

/*
 * Both servers, and the test environment pointed at the primary: tl_db_new()
 * and the roles live there (and come to the standby by replication). Errors
 * are kept for the tests to report (an unchecked fixture cannot fail one).
 */
static void servers_up(void)
{
    char cmd[2400];
    if (tl_cluster_own("replica", cluster, sizeof(cluster), cluster_error, sizeof(cluster_error)) !=
        0)
        return;
    snprintf(cmd, sizeof(cmd), "scripts/pg-standby.sh '%s/pg' '%s/standby'", cluster, cluster);
    if (script(cmd) != 0) {
        snprintf(cluster_error, sizeof(cluster_error), "scripts/pg-standby.sh failed: see %s",
                 cluster);
        return;
    }
}

static void servers_down(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "scripts/pg.sh stop '%s/standby'", cluster);
    script(cmd);
    snprintf(cmd, sizeof(cmd), "scripts/pg.sh stop '%s/pg'", cluster);
    script(cmd);
}

/* ------------------------------------------------------------ helpers --- */

static char db[1024];

/* A fresh database on the primary with agencies A and B and a case in B. */
static void fresh_db(void)
{
    struct tl_result r;
    const char *cfg = tl_config(tl_testplug(NULL));
    ck_assert_msg(cluster_error[0] == '\0', "%s", cluster_error);
    snprintf(db, sizeof(db), "%s", tl_db_new());
    tl_seed_agencies(db, cfg);
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "b_worker", "case", "new", "--title", "B's", "--state",
                         "NV", NULL) == 0,
                  "%s", r.err);
}

/* A host config with the test plugin and a reports group (extra: more members of it). */
static const char *reports_config(const char *extra)
{
    char plugins[4096], text[8192];
    snprintf(plugins, sizeof(plugins), "%s", tl_testplug(NULL));
    snprintf(text, sizeof(text),
             "paths = { plugin_dir = \"%s/tests/plugins\"; sql_dir = \"%s/sql\"; };\n"
             "plugins = ( %s );\n"
             "reports = { conninfo = \"host=%s/standby dbname=%s\"; %s };\n",
             tl_env("CASEHOST_TEST_BUILD"), tl_env("CASEHOST_TEST_ROOT"), plugins, cluster,
             strstr(db, "dbname=") + 7, extra);
    return tl_write_file("reports.cfg", text);
}

static void case_new(const char *cfg, const char *title)
{
    struct tl_result r;
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "new", "--title", title, "--state",
                         "CA", NULL) == 0,
                  "case new: %s", r.err);
}

/*
 * Waits (polling, with a deadline) until the standby has replayed
 * everything the primary had written when called.
 */
static void wait_for_replay(void)
{
    char standby[1200], lsn[64];
    PGconn *p = tl_connect(tl_env("CASEHOST_TEST_SERVER")), *s;
    PGresult *r = PQexec(p, "SELECT pg_current_wal_insert_lsn()");
    const char *params[1] = {lsn};
    time_t deadline = time(NULL) + REPLAY_DEADLINE_S;
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    snprintf(lsn, sizeof(lsn), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(p);
    snprintf(standby, sizeof(standby), "host=%s/standby user=casehost dbname=postgres", cluster);
    s = tl_connect(standby);
    for (;;) {
        struct timespec pause = {0, 20 * 1000000L};
        int done;
        r = PQexecParams(s, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", 1, NULL, params, NULL,
                         NULL, 0);
        ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
        done = PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
        if (done)
            break;
        ck_assert_msg(time(NULL) < deadline, "the standby did not replay %s in %d s", lsn,
                      REPLAY_DEADLINE_S);
        nanosleep(&pause, NULL);
    }
    PQfinish(s);
}

/* tp-report --json as user: its parsed output (caller json_decref()s), or the test fails. */
static json_t *report(const char *cfg, const char *user)
{
    struct tl_result r;
    json_error_t e;
    json_t *doc;
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, user, "--json", "tp-report", NULL) == 0,
                  "tp-report: %d\n%s", r.status, r.err);
    doc = json_loads(r.out, 0, &e);
    ck_assert_msg(doc != NULL, "not JSON (%s):\n%s", e.text, r.out);
    return doc;
}

static long long audited_reports(void)
{
    return tl_db_valuef(db, "SELECT count(*) FROM casehost.audit_log WHERE action = 'report'"
                            " AND detail = 'tp-report'");
}

/* -------------------------------------------------------------- tests --- */

START_TEST(test_report_reads_the_standby_once_replay_caught_up)
{
    const char *cfg;
    struct tl_result r;
    json_t *doc;
    const char *asof;
    fresh_db();
    cfg = reports_config("");
    case_new(cfg, "one");
    case_new(cfg, "two");
    wait_for_replay();

    doc = report(cfg, "a_worker");
    ck_assert(json_is_true(json_object_get(doc, "read_a_replica")));
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "cases")), 2); /* not B's */
    asof = json_string_value(json_object_get(doc, "data_as_of"));
    ck_assert_msg(asof != NULL && strlen(asof) > 19 && strstr(asof, " UTC") != NULL,
                  "data_as_of: %s", asof ? asof : "(none)");
    json_decref(doc);
    /* Audited on the primary, though the figures came from the standby. */
    ck_assert_int_eq(audited_reports(), 1);

    /* A new row on the primary is in the next report once replayed. */
    case_new(cfg, "three");
    wait_for_replay();
    doc = report(cfg, "a_worker");
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "cases")), 3);
    json_decref(doc);
    ck_assert_int_eq(audited_reports(), 2);

    /* Text says it too. */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "tp-report", NULL), 0);
    ck_assert_msg(strstr(r.out, "Data as of:") != NULL, "%s", r.out);
}
END_TEST

/* The standby as its superuser (replay control); caller PQfinish()es. */
static PGconn *standby_conn(void)
{
    char standby[1200];
    snprintf(standby, sizeof(standby), "host=%s/standby user=casehost dbname=postgres", cluster);
    return tl_connect(standby);
}

/* Pauses replay and waits (with a deadline) until it has stopped: a pause request is not one. */
static void pause_replay(void)
{
    PGconn *s = standby_conn();
    time_t deadline = time(NULL) + REPLAY_DEADLINE_S;
    tl_sql_ok(s, "SELECT pg_wal_replay_pause()", 0, NULL);
    while (tl_value(s, "SELECT (pg_get_wal_replay_pause_state() = 'paused')::int") != 1) {
        struct timespec pause = {0, 20 * 1000000L};
        ck_assert_msg(time(NULL) < deadline, "replay did not pause in %d s", REPLAY_DEADLINE_S);
        nanosleep(&pause, NULL);
    }
    PQfinish(s);
}

static void resume_replay(void)
{
    PGconn *s = standby_conn();
    tl_sql_ok(s, "SELECT pg_wal_replay_resume()", 0, NULL);
    PQfinish(s);
}

/*
 * With replay paused the report shows what the standby has, as of the
 * same time as before; once replay resumes and catches up, the new row.
 */
START_TEST(test_a_paused_standby_reports_its_older_data)
{
    static struct tl_result r, first, second;
    const char *cfg;
    json_t *a, *b;
    fresh_db();
    cfg = reports_config("");
    case_new(cfg, "one");
    wait_for_replay();

    pause_replay();
    /* Nothing may fail before replay resumes, or the tests after this one wait in vain. */
    tl_run(&first, db, cfg, TL_AS, "a_worker", "--json", "tp-report", NULL);
    tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "new", "--title", "two", "--state", "CA", NULL);
    tl_run(&second, db, cfg, TL_AS, "a_worker", "--json", "tp-report", NULL);
    resume_replay();
    ck_assert_msg(r.status == 0, "case new: %s", r.err);
    ck_assert_msg(first.status == 0 && second.status == 0, "tp-report: %s%s", first.err,
                  second.err);
    a = json_loads(first.out, 0, NULL);
    b = json_loads(second.out, 0, NULL);
    ck_assert_msg(a != NULL && b != NULL, "not JSON: %s\n%s", first.out, second.out);
    ck_assert_int_eq(json_integer_value(json_object_get(a, "cases")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "cases")), 1); /* not yet replayed */
    ck_assert_str_eq(json_string_value(json_object_get(b, "data_as_of")),
                     json_string_value(json_object_get(a, "data_as_of")));
    json_decref(a);
    json_decref(b);

    wait_for_replay();
    a = report(cfg, "a_worker");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "cases")), 2);
    json_decref(a);
}
END_TEST

START_TEST(test_report_on_the_web_reads_the_standby)
{
    const char *cfg;
    char token[65], cmd[1200];
    struct http h;
    fresh_db();
    cfg = reports_config("");
    case_new(cfg, "web one");
    web_server_start(db, cfg, NULL);
    login("a_worker", token);
    /* the authenticator's password (set as the server starts) reaches the standby by replay */
    wait_for_replay();
    get(&h, token, (const char *[]){"tp-report", NULL});
    ck_assert_msg(h.status == 200, "%ld\n%.3000s", h.status, h.body);
    HAS(h.body, "<dt>Data as of</dt><dd>2");
    HAS(h.body, " UTC</dd>");
    HAS(h.body, "<dt>Cases</dt><dd>1</dd>");
    HAS(h.body, "<dt>Read a replica</dt><dd>yes</dd>");
    http_release(&h);
    /*
     * The worker keeps its reports connection; after the standby restarted
     * under it (requests one at a time go to the same worker), the next
     * page connects afresh rather than failing.
     */
    snprintf(cmd, sizeof(cmd), "scripts/pg.sh stop '%s/standby'", cluster);
    ck_assert_int_eq(script(cmd), 0);
    snprintf(cmd, sizeof(cmd), "scripts/pg.sh start '%s/standby' --throwaway", cluster);
    ck_assert_int_eq(script(cmd), 0);
    get(&h, token, (const char *[]){"tp-report", NULL});
    ck_assert_msg(h.status == 200, "%ld\n%.3000s", h.status, h.body);
    HAS(h.body, "<dt>Read a replica</dt><dd>yes</dd>");
    http_release(&h);
    web_server_stop();
    ck_assert_int_eq(audited_reports(), 2);
}
END_TEST

/*
 * The trafficking plugin's own report (`report screenings`, flagged
 * CH_CMD_VIEW | CH_CMD_REPORT) on the standby: a screening stored on the
 * primary is counted once replayed, and the run is audited on the primary.
 */
START_TEST(test_trafficking_report_screenings_on_the_standby)
{
    static const char *const answers[] = {"offer_not_as_promised=no", "could_not_leave=no",
                                          "id_money_phone_held=no", "exchanged_sex=yes", NULL};
    static struct tl_result tr;
    static char tdb[1024], tcfg[1024];
    static json_t *tdoc;
    const struct tl_cli c = {tdb, tcfg, &tr, &tdoc};
    char *text, more[2048];
    const json_t *totals;
    long long audits;
    ck_assert_msg(cluster_error[0] == '\0', "%s", cluster_error);
    tl_cli_setup(&c, NULL);
    snprintf(db, sizeof(db), "%s", tdb); /* for reports_config and audited_reports */
    text = tl_read_file(tcfg);
    snprintf(more, sizeof(more), "reports = { conninfo = \"host=%s/standby dbname=%s\"; };\n",
             cluster, strstr(tdb, "dbname=") + 7);
    {
        size_t n = strlen(text) + strlen(more) + 1;
        char *all = malloc(n);
        ck_assert_ptr_nonnull(all);
        snprintf(all, n, "%s%s", text, more);
        snprintf(tcfg, sizeof(tcfg), "%s", tl_write_file("trafficking_reports.cfg", all));
        free(all);
    }
    free(text);
    tl_screen(&c, tl_case_new(&c, tl_person_add(&c, NULL, NULL), "screened", NULL), "youth_quick",
              answers);
    audits = tl_db_valuef(tdb, "SELECT count(*) FROM casehost.audit_log WHERE action = 'report'");
    wait_for_replay();

    tl_cli_json(&c, "a_admin", (const char *[]){"report", "screenings", NULL});
    ck_assert_ptr_nonnull(json_string_value(json_object_get(tdoc, "data_as_of")));
    /* No fallback is configured: a run that succeeded read the standby. */
    ck_assert_msg(strstr(tr.out, "read the primary") == NULL, "%s", tr.out);
    totals = json_object_get(tdoc, "totals");
    ck_assert_msg(json_integer_value(json_object_get(totals, "screenings")) == 1, "%s", tr.out);
    TL_DB_EQ(tdb, audits + 1, "SELECT count(*) FROM casehost.audit_log WHERE action = 'report'");
    json_decref(tdoc);
    tdoc = NULL;
}
END_TEST

/* Last: it stops the standby for good (the teardown stops what is left). */
START_TEST(test_standby_down_fails_or_falls_back_as_configured)
{
    const char *strict, *lenient;
    char cmd[1200], want[1200];
    struct tl_result r;
    json_t *doc;
    fresh_db();
    strict = reports_config("fallback_to_primary = false;");
    case_new(strict, "one");
    snprintf(cmd, sizeof(cmd), "scripts/pg.sh stop '%s/standby'", cluster);
    ck_assert_int_eq(script(cmd), 0);

    ck_assert_int_eq(tl_run(&r, db, strict, TL_AS, "a_worker", "tp-report", NULL), 1);
    snprintf(want, sizeof(want), "cannot run the report on the reports server (host=%s/standby",
             cluster);
    ck_assert_msg(strstr(r.err, want) != NULL, "want '%s' in:\n%s", want, r.err);
    ck_assert_msg(strstr(r.err, "fallback_to_primary") != NULL, "%s", r.err);
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(audited_reports(), 0);

    lenient = reports_config("fallback_to_primary = true;"); /* rewrites the same file */
    doc = report(lenient, "a_worker");
    ck_assert(json_is_false(json_object_get(doc, "read_a_replica")));
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "cases")), 1);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(doc, "data_as_of")));
    {
        const json_t *m = json_array_get(json_object_get(doc, "messages"), 0);
        ck_assert_msg(m != NULL && strstr(json_string_value(m), "read the primary") != NULL,
                      "no fallback message");
    }
    json_decref(doc);
    ck_assert_int_eq(audited_reports(), 1);
}
END_TEST

/* Without a reports group a report reads the primary, and says its data is as of now. */
START_TEST(test_no_reports_group_reads_the_primary)
{
    const char *cfg;
    json_t *doc;
    fresh_db();
    cfg = tl_config(tl_testplug(NULL));
    case_new(cfg, "one");
    doc = report(cfg, "a_worker");
    ck_assert(json_is_false(json_object_get(doc, "read_a_replica")));
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "cases")), 1);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(doc, "data_as_of")));
    ck_assert_ptr_null(json_object_get(doc, "messages"));
    json_decref(doc);
}
END_TEST

static Suite *replica_suite(void)
{
    Suite *s = suite_create("replica");
    TCase *tc = tcase_create("standby");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, servers_up, servers_down);
    tcase_add_test(tc, test_report_reads_the_standby_once_replay_caught_up);
    tcase_add_test(tc, test_a_paused_standby_reports_its_older_data);
    tcase_add_test(tc, test_report_on_the_web_reads_the_standby);
    tcase_add_test(tc, test_no_reports_group_reads_the_primary);
    tcase_add_test(tc, test_trafficking_report_screenings_on_the_standby);
    tcase_add_test(tc, test_standby_down_fails_or_falls_back_as_configured);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(replica_suite())
