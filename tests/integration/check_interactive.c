/*
 * check_interactive.c: `screen start` on a real terminal (a pseudo-terminal
 * driven by the test): one question at a time, the disclosure item shown
 * only after a concern, a disclosure stops at once with what to do next,
 * and quitting halfway stores nothing.
 */
#define _DEFAULT_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static const char *db, *cfg;
static char screen[65536];
static size_t used;

static void setup(void)
{
    db = tl_db_new();
    cfg = tl_config(tl_trafficking());
    tl_seed_agencies(db, cfg);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "person", "add", "--given", "Ana",
                            "--age-estimate", "15", NULL),
                     0);
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "new", "--title", "t", "--person",
                         "1", NULL) == 0,
                  "%s", r.err);
}

static size_t cursor; /* what the test has already matched */

/*
 * Reads from the terminal until want appears after the cursor (10 s at
 * most); on a match, moves the cursor past it.
 */
static int wait_for(int fd, const char *want)
{
    for (int tries = 0; tries < 100; tries++) {
        struct pollfd p = {fd, POLLIN, 0};
        const char *hit;
        ssize_t k;
        screen[used] = '\0';
        if ((hit = strstr(screen + cursor, want)) != NULL) {
            cursor = (size_t)(hit - screen) + strlen(want);
            return 1;
        }
        if (poll(&p, 1, 100) <= 0)
            continue;
        k = read(fd, screen + used, sizeof(screen) - used - 1);
        if (k <= 0)
            break;
        used += (size_t)k;
    }
    screen[used] = '\0';
    return 0;
}

/* Starts `casehost screen start 1 --instrument youth_quick` on a pseudo-terminal. */
static pid_t start(int *fd)
{
    char bin[1024], worker_db[1200];
    pid_t pid;
    used = cursor = 0;
    snprintf(bin, sizeof(bin), "%s/casehost", tl_env("CASEHOST_TEST_BUILD"));
    snprintf(worker_db, sizeof(worker_db), "%s", tl_user_db(db, "a_worker"));
    pid = forkpty(fd, NULL, NULL, NULL);
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("CASEHOST_DB", worker_db, 1);
        execl(bin, bin, "-c", cfg, "screen", "start", "1", "--instrument", "youth_quick",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int finish(pid_t pid, int fd)
{
    int st;
    wait_for(fd, "\x01never\x01"); /* drain until the program exits */
    close(fd);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void answer(int fd, const char *text)
{
    ck_assert_msg(wait_for(fd, "> "), "no prompt; screen so far:\n%s", screen);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

START_TEST(asks_one_question_at_a_time_and_stops_on_disclosure)
{
    int fd;
    pid_t pid = start(&fd);
    PGconn *c;
    ck_assert_msg(wait_for(fd, "1. Has anyone offered you a job"), "%s", screen);
    answer(fd, "maybe\n"); /* not an answer: asked again */
    ck_assert_msg(wait_for(fd, "is not an answer"), "%s", screen);
    answer(fd, "y\n");
    ck_assert_msg(wait_for(fd, "2. "), "%s", screen);
    answer(fd, "n\n");
    answer(fd, "d\n");
    answer(fd, "?\n");
    /* version 2 asks about labour too */
    ck_assert_msg(wait_for(fd, "5. Has anyone made you work for them"), "%s", screen);
    answer(fd, "n\n");
    /* after a concern, the disclosure question is shown */
    ck_assert_msg(wait_for(fd, "6. Thank you for telling me"), "%s", screen);
    answer(fd, "y\n");
    ck_assert_msg(wait_for(fd, "Do not ask further questions"), "%s", screen);
    ck_assert_int_eq(finish(pid, fd), 0);
    c = tl_connect(db);
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM trafficking.screenings "
                                 "WHERE state = 'stopped' AND result = 'positive'"),
                     1);
    ck_assert_int_eq(tl_value(c,
                              "SELECT count(*) FROM trafficking.answers WHERE "
                              "(item_id, answer) IN (('offer_not_as_promised', 'yes'), "
                              "('id_money_phone_held', 'declined'), "
                              "('exchanged_sex', 'unknown'), ('someone_making_you_now', 'yes'))"),
                     4);
    PQfinish(c);
}
END_TEST

START_TEST(without_a_concern_the_disclosure_question_is_never_asked)
{
    int fd;
    pid_t pid = start(&fd);
    PGconn *c;
    for (int i = 0; i < 5; i++)
        answer(fd, "n\n");
    ck_assert_int_eq(finish(pid, fd), 0);
    ck_assert_msg(strstr(screen, "6. ") == NULL, "item 6 was asked:\n%s", screen);
    c = tl_connect(db);
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM trafficking.screenings "
                                 "WHERE state = 'completed' AND result = 'negative'"),
                     1);
    ck_assert_int_eq(tl_value(c,
                              "SELECT count(*) FROM trafficking.answers "
                              "WHERE item_id = 'someone_making_you_now' AND answer = 'not_asked'"),
                     1);
    PQfinish(c);
}
END_TEST

START_TEST(quitting_halfway_saves_nothing)
{
    int fd;
    pid_t pid = start(&fd);
    PGconn *c;
    answer(fd, "y\n");
    answer(fd, "q\n");
    ck_assert_int_eq(finish(pid, fd), 1);
    ck_assert_msg(strstr(screen, "nothing was saved") != NULL, "%s", screen);
    c = tl_connect(db);
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM trafficking.screenings "
                                 "WHERE state IN ('completed', 'stopped')"),
                     0);
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM trafficking.answers"), 0);
    PQfinish(c);
}
END_TEST

static Suite *interactive_suite(void)
{
    Suite *s = suite_create("interactive");
    TCase *tc = tcase_create("terminal");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, asks_one_question_at_a_time_and_stops_on_disclosure);
    tcase_add_test(tc, without_a_concern_the_disclosure_question_is_never_asked);
    tcase_add_test(tc, quitting_halfway_saves_nothing);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(interactive_suite())
