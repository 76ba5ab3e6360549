/*
 * check_browser.c: the web pages in a real browser. A throwaway database
 * with a runaway youth's case, `casehost serve` on a free loopback port as
 * casehost_authenticator, and tests/browser/walkthrough.py driving headless
 * Chromium through a caseworker's day (log in, find the person, screen them
 * through the step forms, log out mid-screening and resume it after a new
 * login, referrals, revoke a consent, log out). The
 * browser, driver and selenium are Debian packages `make deps` installs:
 * when one is missing this suite fails saying so, it never skips.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
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

#define PYTHON "/usr/bin/python3"
#define CHROMEDRIVER "/usr/bin/chromedriver"
#define CHROMIUM "/usr/bin/chromium"
#define DEPS_HINT                                                                                  \
    "run `make deps` (as root) to install chromium, chromium-driver and python3-selenium"

static struct tl_result r;
static char db[1024], cfg[1024];
static json_t *doc;
static const struct tl_cli cli = {db, cfg, &r, &doc};

static void setup(void)
{
    tl_cli_setup(&cli, NULL);
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

/* Fails the test, naming what to install, unless the browser, its driver and selenium are here. */
static void require_browser(void)
{
    static const char *const probe[] = {PYTHON, "-c", "import selenium.webdriver", NULL};
    struct tl_proc p;
    ck_assert_msg(access(CHROMEDRIVER, X_OK) == 0, "%s is missing: %s", CHROMEDRIVER, DEPS_HINT);
    ck_assert_msg(access(CHROMIUM, X_OK) == 0, "%s is missing: %s", CHROMIUM, DEPS_HINT);
    ck_assert_msg(access(PYTHON, X_OK) == 0, "%s is missing: %s", PYTHON, DEPS_HINT);
    tl_spawn_program(&p, "probe", 30, probe, NULL);
    if (tl_reap(&p) != 0)
        ck_abort_msg("%s cannot import selenium: %s\n%s", PYTHON, DEPS_HINT, tl_read_file(p.err));
}

/*
 * The server's log beside the screenshots, for whoever reads them: it holds
 * request paths, statuses and times, never a query or a person's data.
 */
static void keep_server_log(const char *dir, const char *log)
{
    char path[1200];
    FILE *f;
    snprintf(path, sizeof(path), "%s/serve.log", dir);
    f = fopen(path, "w");
    if (f != NULL) {
        fputs(log, f);
        fclose(f);
    }
}

/* A date of birth that makes a person 15 today (and a month), as YYYY-MM-DD; static storage. */
static const char *dob_of_a_15_year_old(void)
{
    static char dob[16];
    time_t t = time(NULL) - (time_t)((15 * 365.25 + 30) * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(dob, sizeof(dob), "%Y-%m-%d", &tm);
    return dob;
}

START_TEST(a_caseworker_screens_a_runaway_youth_in_the_browser_then_logs_out)
{
    struct tl_proc server, walk;
    char url[256], ids[1024], script[1100], shots[1100], *out, *err, *log;
    long long person, kase, consent;
    int walked, stopped;

    require_browser();
    /* A 15-year-old back from running away (a screening is suggested), in danger now. */
    person = tl_person_add(&cli, "--dob", dob_of_a_15_year_old());
    kase =
        tl_case_new(&cli, person, "Back from running away",
                    (const char *const[]){"--runaway-start", tl_hours_ago(50), "--runaway-return",
                                          tl_hours_ago(3), "--flags", "imminent_danger", NULL});
    consent = tl_consent_add(&cli, person, "legal_aid_west");
    tl_add_user(db, "a_admin", "a_lead", "supervisor", "A"); /* opens a report at the end */
    ck_assert_int_eq(tl_db_valuef(db,
                                  "SELECT count(*) FROM trafficking.screenings WHERE case_id = %lld"
                                  " AND state = 'suggested' AND instrument_id = 'youth_quick'",
                                  kase),
                     1);
    {
        static const char *const args[] = {"--threads", "2", NULL};
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/", tl_serve(&server, db, cfg, 150, args));
    }

    snprintf(script, sizeof(script), "%s/tests/browser/walkthrough.py",
             tl_env("CASEHOST_TEST_ROOT"));
    snprintf(shots, sizeof(shots), "%s/screenshots", tl_env("CASEHOST_TEST_BUILD"));
    snprintf(ids, sizeof(ids),
             "{\"person\": %lld, \"case\": %lld, \"consent\": %lld, \"person_name\": \"Jo\","
             " \"yes\": [\"exchanged_sex\", \"someone_making_you_now\"],"
             " \"disclosure\": \"someone_making_you_now\","
             " \"referrals\": [\"emergency_911\", \"cw_ca\", \"le_ca\", \"fic_ca\"],"
             " \"expect_911\": true}",
             person, kase, consent);
    {
        const char *argv[] = {PYTHON,   script,  "--url", url,     "--user", "a_worker", "--lead",
                              "a_lead", "--ids", ids,     "--out", shots,    NULL};
        tl_spawn_program(&walk, "walkthrough", 120, argv, NULL);
        walked = tl_reap(&walk);
    }
    kill(server.pid, SIGTERM);
    stopped = tl_reap(&server);

    out = tl_read_file(walk.out);
    err = tl_read_file(walk.err);
    log = tl_read_file(server.err);
    keep_server_log(shots, log);
    fprintf(stderr, "walkthrough (exit %d):\n%s%s", walked, out, err);
    ck_assert_msg(walked != 3, "the browser test cannot run: %s\n%s", DEPS_HINT, err);
    ck_assert_msg(walked == 0,
                  "walkthrough.py exit %d (the steps, then its errors):\n%.6000s\n%.1500s", walked,
                  out, err);
    ck_assert_msg(stopped == 0, "casehost serve: exit %d after SIGTERM:\n%.4000s", stopped, log);

    /* What the pages did is in the database, as the terminal would have left it. */
    ck_assert_str_eq(tl_db_textf(db,
                                 "SELECT string_agg(state || '/' || result, ',') FROM"
                                 " trafficking.screenings WHERE case_id = %lld",
                                 kase),
                     "stopped/positive");
    ck_assert_str_eq(tl_db_textf(db,
                                 "SELECT string_agg(destination_id, ',' ORDER BY destination_id)"
                                 " FROM trafficking.referrals WHERE case_id = %lld",
                                 kase),
                     "cw_ca,emergency_911,fic_ca,le_ca");
    ck_assert_int_eq(tl_db_valuef(db,
                                  "SELECT count(*) FROM trafficking.consents WHERE id = %lld"
                                  " AND revoked_at IS NOT NULL",
                                  consent),
                     1);
    ck_assert_int_eq(tl_db_valuef(db, "SELECT count(*) FROM casehost.web_sessions"), 0);
    /*
     * three logins and three logouts: the walkthrough logs out mid-screening
     * and resumes, then the lead logs in for a report
     */
    ck_assert_int_eq(tl_db_valuef(db, "SELECT count(*) FROM casehost.audit_log"
                                      " WHERE action IN ('login', 'logout')"),
                     6);
    /* the lead's report ran twice: its page and its CSV, each audited */
    ck_assert_int_eq(tl_db_valuef(db, "SELECT count(*) FROM casehost.audit_log"
                                      " WHERE action = 'report'"),
                     2);
    /* the draft it resumed is gone with the stored screening */
    ck_assert_int_eq(tl_db_valuef(db, "SELECT count(*) FROM trafficking.screening_drafts"), 0);
    free(out);
    free(err);
    free(log);
}
END_TEST

static Suite *browser_suite(void)
{
    Suite *s = suite_create("browser");
    TCase *tc = tcase_create("walkthrough");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 150);
    tcase_add_test(tc, a_caseworker_screens_a_runaway_youth_in_the_browser_then_logs_out);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(browser_suite())
