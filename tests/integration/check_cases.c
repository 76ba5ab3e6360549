/*
 * check_cases.c: the host end to end against a real PostgreSQL: the case
 * workflow through the CLI, hooks in the change's transaction (order,
 * rollback), plugin commands and render sections, row-level security by
 * direct SQL as the application role, the append-only audit log, exit codes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static const char *db, *cfg;

/* A fresh database with agencies A and B, and the test plugin configured. */
static void setup(void)
{
    db = tl_db_new();
    cfg = tl_config(tl_testplug("fail_title = \"BOOM\";"));
    tl_seed_agencies(db, cfg);
}

#define RUN_OK(...)                                                                                \
    ck_assert_msg(tl_run(&r, db, cfg, __VA_ARGS__, NULL) == 0, "exit %d\nstdout: %s\nstderr: %s",  \
                  r.status, r.out, r.err)

static PGconn *as_app(const char *user)
{
    return tl_as_app(db, user);
}

START_TEST(caseworker_walkthrough)
{
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Jo", "--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Runaway return", "--person", "1",
           "--state", "CA", "--runaway-start", "2026-11-20 10:00");
    ck_assert_msg(strstr(r.out, "case 1 created") != NULL, "%s", r.out);
    RUN_OK(TL_AS, "a_worker", "note", "add", "1", "Back at placement.");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--status", "in_progress", "--assignee",
           "a_worker");
    RUN_OK(TL_AS, "a_worker", "--json", "case", "show", "1");
    {
        json_error_t e;
        json_t *doc = json_loads(r.out, 0, &e);
        ck_assert_msg(doc != NULL, "not JSON: %s\n%s", e.text, r.out);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "case"), "status")),
                         "in_progress");
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "person"), "age")),
                         15);
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "notes")), 1);
        /* created: title, status, subject, state, runaway_start; update: status, assignee */
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "history")), 7);
        /* the plugin's render section saw created, note added and updated, two hooks each */
        ck_assert_int_eq(
            json_integer_value(json_object_get(json_object_get(doc, "testplug"), "events_seen")),
            6);
        json_decref(doc);
    }
    RUN_OK(TL_AS, "a_worker", "case", "close", "1", "--reason", "placement stable");
    RUN_OK(TL_AS, "a_worker", "case", "list", "--status", "closed");
    ck_assert_msg(strstr(r.out, "Runaway return") != NULL, "%s", r.out);
    {
        PGconn *c = tl_connect(db);
        ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM casehost.audit_log "
                                     "WHERE object_type = 'case' AND action = 'read'"),
                         1);
        ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM casehost.case_history "
                                     "WHERE field = 'status' AND new_value = 'closed'"),
                         1);
        PQfinish(c);
    }
}
END_TEST

/*
 * Flags come from the declared vocabulary: a misspelt one is a usage error
 * listing the valid ones and nothing is written; --add-flag and --remove-flag
 * change one flag and keep the others; a stored flag nobody declares is
 * reported and can still be removed, never dropped by itself.
 */
START_TEST(flags_come_from_the_declared_vocabulary)
{
    PGconn *c = tl_connect(db);
    tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "new", "--title", "F", "--flags",
           "imminent_dangr", NULL);
    ck_assert_msg(r.status == 2, "exit %d\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "unknown flag 'imminent_dangr'") != NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "flags: control, foreign_national, imminent_danger, recruitment") !=
                      NULL,
                  "%s", r.err);
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM casehost.cases"), 0);

    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "F", "--flags", "recruitment");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--add-flag", "control", "--add-flag",
           "imminent_danger");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--remove-flag", "recruitment");
    ck_assert_str_eq(tl_db_text(db, "SELECT array_to_string(flags, ',') FROM casehost.cases"),
                     "control,imminent_danger");
    tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "update", "1", "--add-flag", "contrl", NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "unknown flag 'contrl'") != NULL, "%s", r.err);
    tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "update", "1", "--flags", "control",
           "--add-flag", "control", NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(tl_db_text(db, "SELECT array_to_string(flags, ',') FROM casehost.cases"),
                     "control,imminent_danger");

    /* an old word stored before the vocabulary: kept, reported, removable */
    tl_sql_ok(c, "UPDATE casehost.cases SET flags = flags || '{legacy_word}'", 0, NULL);
    {
        PGconn *w = tl_as_app(db, "a_worker");
        PGresult *u =
            PQexec(w, "SELECT flag || ' ' || cases FROM casehost.case_flags_unknown_v1()");
        ck_assert_msg(PQresultStatus(u) == PGRES_TUPLES_OK && PQntuples(u) == 1, "%s",
                      PQresultErrorMessage(u));
        ck_assert_str_eq(PQgetvalue(u, 0, 0), "legacy_word 1");
        PQclear(u);
        PQfinish(w);
    }
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--add-flag", "foreign_national");
    ck_assert_str_eq(tl_db_text(db, "SELECT array_to_string(flags, ',') FROM casehost.cases"),
                     "control,imminent_danger,legacy_word,foreign_national");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--remove-flag", "legacy_word");
    ck_assert_str_eq(tl_db_text(db, "SELECT array_to_string(flags, ',') FROM casehost.cases"),
                     "control,imminent_danger,foreign_national");
    PQfinish(c);
}
END_TEST

/*
 * The history a case change leaves, row by row in id order: on creation
 * every field that is set (a title that reads "false" or a county "[]" is
 * set; a false boolean and an empty flag list are not), on update each field
 * that changed, old and new; times in ISO 8601 with the agency's offset,
 * flags as a JSON list. `case update` prints the same rows.
 */
START_TEST(history_records_each_set_or_changed_field)
{
    static const char rows[] =
        "SELECT string_agg(field || '=' || coalesce(old_value, '-') || '>' ||"
        "                  coalesce(new_value, '-'), ' ' ORDER BY id)"
        "  FROM casehost.case_history";
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "false", "--county", "[]", "--state", "CA",
           "--flags", "recruitment", "--cw-history", "--runaway-start", "2026-11-20 10:00");
    ck_assert_str_eq(tl_db_text(db, rows),
                     "flags=->[\"recruitment\"] state=->CA title=->false county=->[] "
                     "status=->open cw_history=->true runaway_start=->2026-11-20T10:00:00+00:00");
    RUN_OK(TL_AS, "a_worker", "--json", "case", "update", "1", "--title", "Found", "--county",
           "none", "--flags", "control,recruitment", "--jj-history", "--cw-history", "no");
    ck_assert_msg(strstr(r.out, "\"cw_history\"") != NULL && strstr(r.out, "\"Found\"") != NULL,
                  "%s", r.out);
    ck_assert_str_eq(tl_db_text(db, "SELECT string_agg(field, ' ' ORDER BY id) FROM "
                                    "casehost.case_history WHERE id > 7"),
                     "flags title county cw_history jj_history");
    ck_assert_str_eq(
        tl_db_text(db, "SELECT string_agg(coalesce(old_value, '-') || '>' || coalesce(new_value, "
                       "'-'), ' ' ORDER BY id) FROM casehost.case_history WHERE id > 7"),
        "[\"recruitment\"]>[\"control\", \"recruitment\"] false>Found []>- true>false false>true");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--title", "Found");
    ck_assert_msg(strstr(r.out, "nothing changed") != NULL, "%s", r.out);
    ck_assert_int_eq(tl_db_value(db, "SELECT count(*) FROM casehost.case_history"), 12);
}
END_TEST

START_TEST(hooks_run_in_priority_order_with_changed_fields)
{
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "T");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--title", "T2", "--state", "CA");
    RUN_OK(TL_AS, "a_worker", "--json", "tp-events", "1");
    {
        json_t *doc = json_loads(r.out, 0, NULL);
        json_t *ev = json_object_get(doc, "events");
        ck_assert_uint_eq(json_array_size(ev), 4);
        /* registered late-first; priority 10 must still run before 20 */
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "hook")),
                         "early");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 1), "hook")), "late");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 2), "event")),
                         "case_updated");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 2), "detail")),
                         "state,title");
        ck_assert_str_eq(json_string_value(json_object_get(doc, "user")), "a_worker");
        json_decref(doc);
    }
}
END_TEST

START_TEST(failing_hook_rolls_back_the_case_change)
{
    PGconn *c;
    long long audit_before;
    c = tl_connect(db);
    audit_before = tl_value(c, "SELECT count(*) FROM casehost.audit_log");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "new", "--title", "BOOM",
                            "--state", "CA", "--flags", "recruitment", NULL),
                     1);
    ck_assert_msg(strstr(r.err, "plugin 'testplug': refusing case titled 'BOOM'") != NULL, "%s",
                  r.err);
    ck_assert_msg(strstr(r.err, "nothing was saved") != NULL, "%s", r.err);
    ck_assert_str_eq(r.out, "");
    /* no trace anywhere: case, history, notes, the plugin's table, the audit log */
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM casehost.cases"), 0);
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM casehost.case_history"), 0);
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM casehost.notes"), 0);
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM testplug.events"), 0);
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM casehost.audit_log"), audit_before);
    /* and the next case works */
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "fine");
    ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM casehost.cases"), 1);
    PQfinish(c);
}
END_TEST

START_TEST(agencies_are_separated_by_row_level_security)
{
    PGconn *a, *b;
    PGresult *res;
    RUN_OK(TL_AS, "b_worker", "person", "add", "--given", "Sam", "--dob", "2011-02-03");
    RUN_OK(TL_AS, "b_worker", "case", "new", "--title", "B's case", "--person", "1");
    RUN_OK(TL_AS, "b_worker", "note", "add", "1", "B's note");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "A's case");
    b = as_app("b_worker");
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM casehost.cases"), 1);
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM casehost.notes"), 1);
    a = as_app("a_worker");
    /* direct SQL, not through the CLI: the database itself hides B's rows */
    ck_assert_int_eq(tl_value(a, "SELECT count(*) FROM casehost.cases WHERE title LIKE 'B%'"), 0);
    ck_assert_int_eq(tl_value(a, "SELECT count(*) FROM casehost.people"), 0);
    ck_assert_int_eq(tl_value(a, "SELECT count(*) FROM casehost.notes"), 0);
    ck_assert_int_eq(tl_value(a, "SELECT count(*) FROM casehost.case_history WHERE case_id = 1"),
                     0);
    /* writing anywhere directly is refused: writes go through functions */
    res = PQexec(a, "INSERT INTO casehost.notes (agency_id, case_id, author_id, body) "
                    "SELECT id, 1, 1, 'x' FROM casehost.agencies WHERE name = 'B'");
    ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "insert into B's agency succeeded");
    ck_assert_msg(strstr(PQresultErrorMessage(res), "permission denied") != NULL, "%s",
                  PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(a);
    PQfinish(b);
    /* and through the CLI, B's case does not exist for A */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "show", "1", NULL), 1);
    ck_assert_msg(strstr(r.err, "case 1 not found") != NULL, "%s", r.err);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "note", "add", "1", "x", NULL), 1);
    ck_assert_msg(strstr(r.err, "case 1 not found") != NULL, "%s", r.err);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "new", "--title", "x",
                            "--person", "1", NULL),
                     1);
    ck_assert_msg(strstr(r.err, "person 1 not found") != NULL, "%s", r.err);
}
END_TEST

START_TEST(audit_log_is_append_only_for_the_app_role)
{
    PGconn *a;
    PGresult *res;
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "audited");
    a = as_app("a_worker");
    ck_assert_int_ge(tl_value(a, "SELECT count(*) FROM casehost.audit_log"), 1);
    res = PQexec(a, "UPDATE casehost.audit_log SET detail = 'x'");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    res = PQexec(a, "DELETE FROM casehost.audit_log");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    PQfinish(a);
}
END_TEST

START_TEST(only_admins_add_users_and_agencies)
{
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "user", "add", "eve", "--agency", "A",
                            "--role", "admin", NULL),
                     1);
    ck_assert_msg(strstr(r.err, "only an admin may add users") != NULL, "%s", r.err);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_admin", "agency", "add", "C", NULL), 1);
    ck_assert_msg(strstr(r.err, "only the database owner may add agencies") != NULL, "%s", r.err);
}
END_TEST

static const struct {
    const char *args[8];
    int status;
    const char *err;
} usage_errors[] = {
    {{"case", "new", "--title", "x"}, 1, "which is no casehost user"},
    {{TL_AS, "a_worker", "frobnicate"}, 2, "unknown command 'frobnicate'"},
    {{TL_AS, "a_worker", "case", "new"}, 2, "missing --title"},
    {{TL_AS, "a_worker", "case", "show", "abc"}, 2, "case: 'abc' is not an id"},
    {{TL_AS, "a_worker", "case", "update", "1", "--colour", "red"}, 2, "unknown option '--colour'"},
    {{TL_AS, "a_worker", "case", "update", "1"}, 2, "nothing to change"},
    {{TL_AS, "a_worker", "case", "close", "1"}, 2, "missing --reason"},
    {{TL_AS, "nobody", "case", "list"}, 1, "password authentication failed"},
    {{TL_AS, "a_worker", "case", "show", "99"}, 1, "case 99 not found"},
    {{TL_AS, "a_worker", "case", "update", "99", "--title", "x"}, 1, "case 99 not found"},
    {{TL_AS, "a_worker", "case", "update", "1", "--status", "closed"}, 1, "case close"},
    {{TL_AS, "a_worker", "case", "new", "--title", "x", "--state", "California"},
     1,
     "cases_state_check"},
    {{TL_AS, "a_worker", "person", "add", "--dob", "2010-01-01", "--age-estimate", "3"},
     2,
     "not both"},
    {{TL_AS, "a_worker", "tp-events"}, 2, "usage: tp-events CASE"},
    /* host commands are parsed from their tables, as plugin commands are */
    {{TL_AS, "a_worker", "case", "list", "--status", "bogus"},
     2,
     "--status: 'bogus' is not one of open, in_progress, waiting, closed, all"},
    {{TL_AS, "a_worker", "case", "frob"}, 2, "case: unknown subcommand 'frob' (new, list, show"},
    {{TL_AS, "a_worker", "user", "add", "eve", "--agency", "A"}, 2, "missing --role"},
    {{TL_AS, "a_worker", "tick", "--every", "0"},
     2,
     "--every: '0' is not a whole number from 1 to 86400"},
    {{TL_AS, "a_worker", "help", "case", "frob"}, 2, "help: 'case' has no subcommand 'frob'"},
};

START_TEST(bad_commands_say_what_and_exit_nonzero)
{
    const char *const *a = usage_errors[_i].args;
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "existing");
    tl_run(&r, db, cfg, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
    ck_assert_msg(r.status == usage_errors[_i].status, "%s %s: exit %d, want %d: %s", a[2], a[3],
                  r.status, usage_errors[_i].status, r.err);
    ck_assert_msg(strstr(r.err, usage_errors[_i].err) != NULL, "want '%s' in: %s",
                  usage_errors[_i].err, r.err);
}
END_TEST

START_TEST(plugin_list_and_help_show_plugin_verbs)
{
    RUN_OK("plugin", "list");
    ck_assert_msg(strstr(r.out, "testplug") && strstr(r.out, "loaded"), "%s", r.out);
    RUN_OK("help");
    ck_assert_msg(strstr(r.out, "tp-events") != NULL, "%s", r.out);
    RUN_OK("help", "tp-events");
    ck_assert_msg(strstr(r.out, "tp-events CASE") != NULL, "%s", r.out);
}
END_TEST

/*
 * An empty database: the database owner (here the cluster superuser) adds an
 * agency and its first admin from the CLI; that admin adds everyone else.
 */
START_TEST(empty_database_is_bootstrapped_from_the_cli)
{
    const char *pw = tl_password_file();
    db = tl_db_new();
    cfg = tl_config(tl_testplug(""));
    ck_assert_int_eq(tl_run(&r, db, cfg, "user", "add", "adm", "--agency", "X", "--role", "admin",
                            "--password-file", pw, NULL),
                     1);
    ck_assert_msg(strstr(r.err, "unknown agency \"X\"") != NULL, "%s", r.err);
    RUN_OK("agency", "add", "X", "--state", "CA");
    ck_assert_int_eq(tl_run(&r, db, cfg, "user", "add", "w", "--agency", "X", "--role",
                            "caseworker", "--password-file", pw, NULL),
                     1);
    ck_assert_msg(strstr(r.err, "the database owner adds only an agency's first admin") != NULL,
                  "%s", r.err);
    RUN_OK("user", "add", "adm", "--agency", "X", "--role", "admin", "--password-file", pw);
    /* the agency has its admin now: further users come from that admin */
    ck_assert_int_eq(tl_run(&r, db, cfg, "user", "add", "adm2", "--agency", "X", "--role", "admin",
                            "--password-file", pw, NULL),
                     1);
    ck_assert_msg(strstr(r.err, "already has an admin") != NULL, "%s", r.err);
    RUN_OK(TL_AS, "adm", "user", "add", "w", "--agency", "X", "--role", "caseworker",
           "--password-file", pw);
    RUN_OK(TL_AS, "w", "case", "new", "--title", "first case");
    /* the owner may add further agencies, never cases */
    RUN_OK("agency", "add", "Y");
    ck_assert_int_eq(tl_run(&r, db, cfg, "case", "new", "--title", "owner's", NULL), 1);
}
END_TEST

static Suite *cases_suite(void)
{
    Suite *s = suite_create("cases");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, caseworker_walkthrough);
    tcase_add_test(tc, hooks_run_in_priority_order_with_changed_fields);
    tcase_add_test(tc, flags_come_from_the_declared_vocabulary);
    tcase_add_test(tc, history_records_each_set_or_changed_field);
    tcase_add_test(tc, failing_hook_rolls_back_the_case_change);
    tcase_add_test(tc, agencies_are_separated_by_row_level_security);
    tcase_add_test(tc, audit_log_is_append_only_for_the_app_role);
    tcase_add_test(tc, only_admins_add_users_and_agencies);
    tcase_add_loop_test(tc, bad_commands_say_what_and_exit_nonzero, 0,
                        (int)(sizeof(usage_errors) / sizeof(usage_errors[0])));
    tcase_add_test(tc, plugin_list_and_help_show_plugin_verbs);
    suite_add_tcase(s, tc);
    tc = tcase_create("bootstrap");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, empty_database_is_bootstrapped_from_the_cli);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(cases_suite())
