/*
 * check_query.c: the plugin's one query helper (db/query.c) against a real
 * PostgreSQL: values travel as parameters, and a failure reads as the server
 * said it, with what the caller was doing, the primary message, DETAIL and
 * HINT, never cut and never past the buffer.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "db/query.h"
#include "testlib.h"

static PGconn *conn;

static void setup(void)
{
    conn = tl_connect(tl_db_new());
}

static void teardown(void)
{
    PQfinish(conn);
    conn = NULL;
}

/* Failing statements and the message each must give (head "doing 7", or none). */
static const struct {
    const char *name;
    const char *sql;
    const char *param; /* $1, or NULL for none */
    int head;
    const char *want;
    const char *sqlstate;
} failures[] = {
    {"message, detail and hint, each on its line",
     "DO $$ BEGIN RAISE EXCEPTION 'case 7 is closed' USING DETAIL = 'closed on Monday',"
     " HINT = 'reopen it first', ERRCODE = 'object_not_in_prerequisite_state'; END $$",
     NULL, 1, "doing 7: case 7 is closed\ndetail: closed on Monday\nhint: reopen it first",
     "55000"},
    {"message and hint, without a head",
     "DO $$ BEGIN RAISE EXCEPTION 'nope' USING HINT = 'ask';"
     " END $$",
     NULL, 0, "nope\nhint: ask", "P0001"},
    {"a value reaches SQL as a parameter only", "SELECT $1::integer", "1; DROP TABLE x", 1,
     "doing 7: invalid input syntax for type integer: \"1; DROP TABLE x\"", "22P02"},
    {"a statement the server cannot parse", "SELEC 1", NULL, 1,
     "doing 7: syntax error at or near \"SELEC\"", "42601"},
};

START_TEST(a_failure_reads_as_the_server_said_it)
{
    char err[512] = "";
    const char *params[1] = {failures[_i].param};
    int n = failures[_i].param != NULL;
    PGresult *r =
        failures[_i].head
            ? trf_query(conn, failures[_i].sql, n, params, err, sizeof(err), "doing %d", 7)
            : trf_query(conn, failures[_i].sql, n, params, err, sizeof(err), NULL);
    ck_assert_ptr_null(r);
    ck_assert_msg(strcmp(err, failures[_i].want) == 0, "%s:\n got  '%s'\n want '%s'",
                  failures[_i].name, err, failures[_i].want);
    /* the same words for a result the caller ran another way, with its SQLSTATE */
    r = PQexecParams(conn, failures[_i].sql, n, NULL, params, NULL, NULL, 0);
    ck_assert_str_eq(trf_query_sqlstate(r), failures[_i].sqlstate);
    if (failures[_i].head)
        ck_assert_str_eq(trf_query_error(conn, r, err, sizeof(err), "doing %d", 7),
                         failures[_i].want);
    PQclear(r);
}
END_TEST

START_TEST(rows_and_commands_are_results)
{
    char err[64] = "untouched";
    const char *params[1] = {"it's"};
    PGresult *r = trf_query(conn, "SELECT $1::text || '!'", 1, params, err, sizeof(err), "x");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "it's!");
    PQclear(r);
    r = trf_query(conn, "SET search_path = pg_catalog", 0, NULL, err, sizeof(err), "x");
    ck_assert_ptr_nonnull(r);
    PQclear(r);
    ck_assert_str_eq(err, "untouched");
    ck_assert_str_eq(trf_query_sqlstate(NULL), "");
}
END_TEST

/* A small buffer holds the start of the message, terminated; never more. */
START_TEST(a_short_buffer_is_cut_and_terminated)
{
    char err[16];
    memset(err, 'z', sizeof(err));
    ck_assert_ptr_null(trf_query(conn, failures[0].sql, 0, NULL, err, 12, "doing %d", 7));
    ck_assert_str_eq(err, "doing 7: ca");
    ck_assert_int_eq(err[12], 'z');
}
END_TEST

static Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("query");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, a_failure_reads_as_the_server_said_it, 0,
                        (int)(sizeof(failures) / sizeof(failures[0])));
    tcase_add_test(tc, rows_and_commands_are_results);
    tcase_add_test(tc, a_short_buffer_is_cut_and_terminated);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(query_suite())
