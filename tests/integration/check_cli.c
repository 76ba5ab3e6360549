/*
 * check_cli.c: the casehost command line end to end against a real
 * PostgreSQL: config check and broken host configs (exit 2, nothing
 * written), db status/migrate (pending, applied once, edited and failing
 * migrations), --json documents, --as placement, case updates that change
 * nothing or reopen a closed case, a person's age and its basis, and the
 * command tables `--json help` describes.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024];

/* A fresh database (migrated, no agencies yet) and the test plugin configured. */
static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_testplug(NULL)));
}

#define RUN_OK(...)                                                                                \
    ck_assert_msg(tl_run(&r, db, cfg, __VA_ARGS__, NULL) == 0, "exit %d\nstdout: %s\nstderr: %s",  \
                  r.status, r.out, r.err)

#define HAS(text, part)                                                                            \
    ck_assert_msg(strstr((text), (part)) != NULL, "want '%s' in:\n%s", (part), (text))

/* The value of a one-row, one-column query on the test database. */
static long long db_value(const char *sql)
{
    PGconn *c = tl_connect(db);
    long long v = tl_value(c, sql);
    PQfinish(c);
    return v;
}

/* stdout of the last run as JSON; caller json_decref()s. */
static json_t *json_out(void)
{
    json_error_t e;
    json_t *doc = json_loads(r.out, 0, &e);
    ck_assert_msg(doc != NULL, "not JSON (%s, line %d):\n%s", e.text, e.line, r.out);
    return doc;
}

/* Writes text to path, replacing what was there. */
static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A new directory in the test's temp dir, for a plugin's migrations; path into buf. */
static const char *migration_dir(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%ld_sql_%s", tl_env("CASEHOST_TEST_TMP"), (long)getpid(), name);
    ck_assert_msg(mkdir(buf, 0700) == 0, "mkdir %s: %s", buf, strerror(errno));
    return buf;
}

/* A host config with the test plugin plus a migrations-only plugin NAME reading dir. */
static void config_with_sql_plugin(const char *name, const char *dir)
{
    char plugins[2600];
    snprintf(plugins, sizeof(plugins), "%s, { name = \"%s\"; sql = \"%s\"; }", tl_testplug(NULL),
             name, dir);
    snprintf(cfg, sizeof(cfg), "%s", tl_config(plugins));
}

/* The migrations array of a --json db status/migrate, and the entry for name. */
static json_t *migration(json_t *doc, const char *name)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(doc, "migrations"), i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "migration")), name) == 0)
            return m;
    }
    ck_abort_msg("migration %s not listed", name);
    return NULL;
}

/* ------------------------------------------------------- host config --- */

START_TEST(config_check_prints_every_host_config_error_with_file_and_line)
{
    static const char *const lines[] = {
        "2: unknown setting 'colour' in the host config",
        "4: unknown setting 'rol' in 'database'",
        "5: 'conninfo' must be a string",
        "8: unknown setting 'sqldir' in 'paths'",
        "9: 'plugin_dir' must be a string",
        "12: plugin entry 1 must be a group { name = \"...\"; }",
        "13: plugin name 'Beta' must be lowercase letters, digits and '_'",
        "14: plugin entry 3 has no 'name'",
        "16: 'required' must be true or false",
        "17: 'settings' of plugin 'delta' must be a group",
        "18: plugin 'delta' is listed twice (first at line 15)",
    };
    char path[1024], want[4096] = "";
    snprintf(path, sizeof(path), "%s/tests/data/hostcfg/several_errors.cfg",
             tl_env("CASEHOST_TEST_ROOT"));
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        size_t n = strlen(want);
        snprintf(want + n, sizeof(want) - n, "%s:%s\n", path, lines[i]);
    }
    ck_assert_int_eq(tl_run(&r, db, path, "config", "check", NULL), 2);
    ck_assert_str_eq(r.err, want);
    /* the verdict on stdout counts them */
    ck_assert_msg(strstr(r.out, "Errors:          11\n") != NULL, "%s", r.out);
}
END_TEST

START_TEST(config_check_counts_plugin_config_errors_on_stdout)
{
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_testplug("fail_init = true;")));
    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "check", NULL), 2);
    /* tl_config writes the plugins list on line 2 */
    {
        char want[1200];
        snprintf(want, sizeof(want), "%s:2: testplug: fail_init is set, refusing to start\n", cfg);
        ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "want first:\n%s\ngot:\n%s", want,
                      r.err);
    }
    HAS(r.out, "Plugins loaded:  0\n");
    HAS(r.out, "Errors:          1\n");
    ck_assert_ptr_null(strstr(r.out, "configuration is valid"));
}
END_TEST

START_TEST(config_check_accepts_the_good_test_config)
{
    char want[1400];
    RUN_OK("config", "check");
    snprintf(want, sizeof(want),
             "Config:          %s\n"
             "Candidate:       %.*s\n"
             "Plugins loaded:  1\n"
             "Errors:          0\n"
             "Warnings:        0\n"
             "configuration is valid and its fixtures pass\n",
             cfg, (int)(strrchr(cfg, '/') - cfg), cfg);
    ck_assert_str_eq(r.out, want);
    ck_assert_str_eq(r.err, "");
}
END_TEST

static const char *const broken_cfg_commands[][8] = {
    {"case", "list"},
    {TL_AS, "a_worker", "case", "new", "--title", "x"},
    {TL_AS, "a_worker", "case", "update", "1", "--title", "y"},
    {TL_AS, "a_worker", "case", "close", "1", "--reason", "r"},
    {TL_AS, "a_worker", "note", "add", "1", "text"},
    {TL_AS, "a_worker", "person", "add", "--given", "Jo"},
    {"agency", "add", "C"},
    {TL_AS, "a_admin", "user", "add", "eve", "--agency", "A"},
    {TL_AS, "a_worker", "tp-events", "1"},
    {TL_AS, "a_svc", "tick"},
    {"db", "migrate"},
    {"db", "status"},
    {"plugin", "list"},
    {"config", "check"},
    {"help"},
};

static const char *const counts[] = {
    "SELECT count(*) FROM casehost.agencies",
    "SELECT count(*) FROM casehost.users",
    "SELECT count(*) FROM casehost.cases",
    "SELECT count(*) FROM casehost.people",
    "SELECT count(*) FROM casehost.notes",
    "SELECT count(*) FROM casehost.case_history",
    "SELECT count(*) FROM casehost.audit_log",
    "SELECT count(*) FROM casehost.schema_migrations",
    "SELECT count(*) FROM testplug.events",
    "SELECT count(*) FROM pg_class WHERE relname = 'cli_pending'",
};
#define N_COUNTS (sizeof(counts) / sizeof(counts[0]))

START_TEST(broken_host_config_stops_every_command_with_exit_2)
{
    char dir[1024], file[1100], want[1200];
    long long before[N_COUNTS];
    FILE *f;
    tl_seed_agencies(db, cfg);
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "existing");
    /* a pending migration that db migrate must not apply */
    migration_dir(dir, sizeof(dir), "pending");
    snprintf(file, sizeof(file), "%s/001_cli_pending.sql", dir);
    write_text(file, "CREATE TABLE public.cli_pending (x int);\n");
    config_with_sql_plugin("pending", dir);
    f = fopen(cfg, "a");
    ck_assert_ptr_nonnull(f);
    fputs("colour = \"blue\";\n", f);
    fclose(f);
    snprintf(want, sizeof(want), "%s:3: unknown setting 'colour' in the host config\n", cfg);
    for (size_t i = 0; i < N_COUNTS; i++)
        before[i] = db_value(counts[i]);
    for (size_t i = 0; i < sizeof(broken_cfg_commands) / sizeof(broken_cfg_commands[0]); i++) {
        const char *const *a = broken_cfg_commands[i];
        tl_run(&r, db, cfg, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
        ck_assert_msg(r.status == 2, "%s %s %s: exit %d\n%s", a[0], a[1], a[2] ? a[2] : "",
                      r.status, r.err);
        ck_assert_str_eq(r.err, want);
        /* only config check prints a verdict (the error count); nothing else prints */
        if (strcmp(a[0], "config") == 0)
            ck_assert_msg(strstr(r.out, "Errors:          1\n") != NULL, "%s", r.out);
        else
            ck_assert_str_eq(r.out, "");
    }
    for (size_t i = 0; i < N_COUNTS; i++)
        ck_assert_msg(db_value(counts[i]) == before[i], "%s changed", counts[i]);
}
END_TEST

/* -------------------------------------------------------- migrations --- */

/* The number of migration files in dir (relative to the checkout). */
static size_t migration_files(const char *dir)
{
    char path[1024];
    DIR *d;
    struct dirent *e;
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/%s", tl_env("CASEHOST_TEST_ROOT"), dir);
    d = opendir(path);
    ck_assert_msg(d != NULL, "cannot read %s", path);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        n += len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0;
    }
    closedir(d);
    return n;
}

START_TEST(db_status_lists_every_template_migration_as_applied)
{
    json_t *doc, *list, *m;
    size_t i, testplug = 0;
    RUN_OK("--json", "db", "status");
    doc = json_out();
    list = json_object_get(doc, "migrations");
    ck_assert_uint_eq(json_array_size(list),
                      migration_files("sql/core") + migration_files("tests/sql/testplug"));
    m = json_array_get(list, 0);
    ck_assert_str_eq(json_string_value(json_object_get(m, "component")), "core");
    ck_assert_str_eq(json_string_value(json_object_get(m, "migration")), "001_core.sql");
    json_array_foreach(list, i, m)
    {
        const char *component = json_string_value(json_object_get(m, "component"));
        ck_assert_str_eq(json_string_value(json_object_get(m, "state")), "applied");
        ck_assert_ptr_nonnull(json_string_value(json_object_get(m, "applied_at")));
        if (strcmp(component, "testplug") == 0) {
            /* in order: 001_..., 002_... */
            ck_assert_int_eq(atoi(json_string_value(json_object_get(m, "migration"))),
                             (int)testplug + 1);
            testplug++;
        } else {
            ck_assert_str_eq(component, "core");
        }
    }
    ck_assert_uint_eq(testplug, migration_files("tests/sql/testplug"));
    json_decref(doc);
    RUN_OK("db", "status");
    ck_assert_ptr_null(strstr(r.out, "pending"));
}
END_TEST

START_TEST(db_migrate_applies_a_new_plugin_migration_exactly_once)
{
    char dir[1024], file[1100];
    json_t *doc, *m;
    migration_dir(dir, sizeof(dir), "extra");
    snprintf(file, sizeof(file), "%s/001_cli_extra.sql", dir);
    write_text(file, "CREATE TABLE public.cli_extra (x int);\n");
    config_with_sql_plugin("extra", dir);

    RUN_OK("--json", "db", "status");
    doc = json_out();
    m = migration(doc, "001_cli_extra.sql");
    ck_assert_str_eq(json_string_value(json_object_get(m, "component")), "extra");
    ck_assert_str_eq(json_string_value(json_object_get(m, "state")), "pending");
    ck_assert(json_is_null(json_object_get(m, "applied_at")));
    json_decref(doc);
    ck_assert_int_eq(db_value("SELECT count(*) FROM pg_class WHERE relname = 'cli_extra'"), 0);

    RUN_OK("db", "migrate");
    HAS(r.out, "1 migration applied\n");
    ck_assert_int_eq(db_value("SELECT count(*) FROM pg_class WHERE relname = 'cli_extra'"), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.schema_migrations "
                              "WHERE component = 'extra' AND name = '001_cli_extra.sql'"),
                     1);

    RUN_OK("db", "migrate");
    HAS(r.out, "0 migrations applied\n");
    RUN_OK("--json", "db", "status");
    doc = json_out();
    ck_assert_str_eq(
        json_string_value(json_object_get(migration(doc, "001_cli_extra.sql"), "state")),
        "applied");
    json_decref(doc);
}
END_TEST

START_TEST(db_migrate_refuses_an_applied_migration_that_was_edited)
{
    char dir[1024], file[1100], named[1200];
    migration_dir(dir, sizeof(dir), "edited");
    snprintf(file, sizeof(file), "%s/001_cli_edited.sql", dir);
    write_text(file, "CREATE TABLE public.cli_edited (x int);\n");
    config_with_sql_plugin("edited", dir);
    RUN_OK("db", "migrate");
    write_text(file, "CREATE TABLE public.cli_edited (x bigint);\n");
    snprintf(named, sizeof(named), "migration '%s'", file);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(tl_run(&r, db, cfg, "db", i ? "status" : "migrate", NULL), 1);
        HAS(r.err, named);
        HAS(r.err, "has changed");
        ck_assert_str_eq(r.out, "");
    }
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.schema_migrations "
                              "WHERE component = 'edited'"),
                     1);
}
END_TEST

START_TEST(failing_migration_exits_1_and_leaves_nothing_behind)
{
    char dir[1024], file[1100], named[1200];
    migration_dir(dir, sizeof(dir), "bad");
    snprintf(file, sizeof(file), "%s/001_cli_ok.sql", dir);
    write_text(file, "CREATE TABLE public.cli_ok (x int);\n");
    snprintf(file, sizeof(file), "%s/003_cli_after.sql", dir);
    write_text(file, "CREATE TABLE public.cli_after (x int);\n");
    snprintf(file, sizeof(file), "%s/002_cli_bad.sql", dir);
    write_text(file, "CREATE TABLE public.cli_bad (x int);\nSELECT 1 / 0;\n");
    config_with_sql_plugin("bad", dir);

    ck_assert_int_eq(tl_run(&r, db, cfg, "db", "migrate", NULL), 1);
    snprintf(named, sizeof(named), "migration '%s' failed", file);
    HAS(r.err, named);
    HAS(r.err, "division by zero");
    ck_assert_str_eq(r.out, "");
    /* the one before it committed on its own; the failing one and those after left nothing */
    ck_assert_int_eq(db_value("SELECT count(*) FROM pg_class WHERE relname = 'cli_ok'"), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM pg_class WHERE relname = 'cli_bad'"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM pg_class WHERE relname = 'cli_after'"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.schema_migrations "
                              "WHERE component = 'bad' AND name = '001_cli_ok.sql'"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.schema_migrations "
                              "WHERE component = 'bad' AND name <> '001_cli_ok.sql'"),
                     0);
}
END_TEST

/* -------------------------------------------------------------- JSON --- */

static const struct {
    const char *args[6];
    const char *key; /* the document's member holding the data */
    int is_array;    /* the member is an array; its first element is checked */
    const char *keys[24];
} json_docs[] = {
    {{"case", "list"},
     "cases",
     1,
     {"id", "status", "title", "assignee", "state", "county", "updated"}},
    {{"person", "show", "1"},
     "person",
     0,
     {"id", "given_name", "family_name", "date_of_birth", "estimated_age", "estimated_age_high",
      "estimated_on", "estimated_by", "age_now", "age_now_high", "age_disputed", "age_dispute_note",
      "age_basis", "gender_identity", "language", "interpreter_needed", "cases", "aliases"}},
    {{"plugin", "list"}, "plugins", 1, {"name", "version", "abi", "state", "required", "file"}},
    {{"db", "status"}, "migrations", 1, {"component", "migration", "state", "applied_at"}},
};

START_TEST(json_output_parses_and_has_the_expected_keys)
{
    const char *const *a = json_docs[_i].args;
    json_t *doc, *data;
    size_t n = 0;
    tl_seed_agencies(db, cfg);
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Jo", "--dob", "2010-05-06");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "T", "--person", "1");
    RUN_OK("--json", TL_AS, "a_worker", a[0], a[1], a[2], a[3], a[4], a[5]);
    doc = json_out();
    data = json_object_get(doc, json_docs[_i].key);
    ck_assert_msg(data != NULL, "no '%s' in:\n%s", json_docs[_i].key, r.out);
    if (json_docs[_i].is_array) {
        ck_assert_msg(json_is_array(data) && json_array_size(data) > 0, "%s", r.out);
        data = json_array_get(data, 0);
    }
    ck_assert(json_is_object(data));
    for (; json_docs[_i].keys[n] != NULL; n++)
        ck_assert_msg(json_object_get(data, json_docs[_i].keys[n]) != NULL, "no '%s' in:\n%s",
                      json_docs[_i].keys[n], r.out);
    ck_assert_uint_eq(json_object_size(data), n);
    json_decref(doc);
}
END_TEST

START_TEST(json_person_show_keeps_column_types)
{
    json_t *doc, *p, *cases;
    tl_seed_agencies(db, cfg);
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Jo", "--interpreter");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "T", "--person", "1");
    RUN_OK(TL_AS, "a_worker", "--json", "person", "show", "1");
    doc = json_out();
    p = json_object_get(doc, "person");
    ck_assert(json_is_integer(json_object_get(p, "id")));
    ck_assert(json_is_true(json_object_get(p, "interpreter_needed")));
    ck_assert(json_is_null(json_object_get(p, "family_name")));
    cases = json_object_get(p, "cases");
    ck_assert_uint_eq(json_array_size(cases), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(cases, 0), "title")), "T");
    json_decref(doc);
}
END_TEST

/* -------------------------------------------------------------- --as --- */

/* Identity is the role a person connects as; a leftover --as is refused wherever it stands. */
static const struct {
    const char *args[8];
} as_placements[] = {
    {{"--as", "a_admin", "case", "new", "--title", "first"}},
    {{"case", "--as", "a_admin", "new", "--title", "second"}},
    {{"case", "new", "--as=a_admin", "--title", "third"}},
    {{"case", "new", "--title", "fourth", "--as", "a_admin"}},
    {{"case", "list", "--as"}},
};

START_TEST(as_option_anywhere_is_a_usage_error_and_changes_nothing)
{
    const char *const *a = as_placements[_i].args;
    tl_seed_agencies(db, cfg);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", a[0], a[1], a[2], a[3], a[4], a[5],
                            a[6], a[7], NULL),
                     2);
    HAS(r.err, "--as is gone: casehost acts as the PostgreSQL role it connects as");
    HAS(r.err, "hint: connect as your own role");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.cases"), 0);
}
END_TEST

/* Every casehost role authenticates: a wrong password is refused by PostgreSQL itself. */
START_TEST(a_wrong_password_is_refused_by_the_server)
{
    char conninfo[1400];
    tl_seed_agencies(db, cfg);
    snprintf(conninfo, sizeof(conninfo), "%s password=not-the-password",
             tl_user_db(db, "a_worker"));
    ck_assert_int_eq(tl_run(&r, conninfo, cfg, "case", "list", NULL), 1);
    HAS(r.err, "password authentication failed");
    ck_assert_str_eq(r.out, "");
    /* and the right one (from the test's pgpass file) works */
    RUN_OK(TL_AS, "a_worker", "case", "list");
}
END_TEST

START_TEST(a_role_that_is_no_user_is_refused_with_how_to_connect)
{
    /* The database owner (the cluster superuser here) is no casehost user. */
    ck_assert_int_eq(tl_run(&r, db, cfg, "case", "list", NULL), 1);
    HAS(r.err, "which is no casehost user");
    HAS(r.err, "hint: connect as your own role");
}
END_TEST

/* ------------------------------------------------------------- cases --- */

START_TEST(case_update_without_a_real_change_writes_no_history)
{
    long long history, audit;
    tl_seed_agencies(db, cfg);
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "Same", "--state", "CA");
    history = db_value("SELECT count(*) FROM casehost.case_history");
    audit = db_value("SELECT count(*) FROM casehost.audit_log");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--title", "Same", "--state", "CA");
    HAS(r.out, "case 1: nothing changed\n");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.case_history"), history);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log"), audit);
    ck_assert_int_eq(db_value("SELECT count(*) FROM testplug.events WHERE event = "
                              "'case_updated'"),
                     0);
}
END_TEST

START_TEST(closed_case_reopens_with_status_open_and_records_history)
{
    tl_seed_agencies(db, cfg);
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "T");
    RUN_OK(TL_AS, "a_worker", "case", "close", "1", "--reason", "placement stable");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--status", "open");
    HAS(r.out, "case 1 updated\n");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.cases WHERE id = 1 AND status = "
                              "'open' AND close_reason IS NULL AND closed_at IS NULL"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.case_history WHERE case_id = 1"
                              " AND field = 'status' AND old_value = 'closed'"
                              " AND new_value = 'open'"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.case_history WHERE case_id = 1"
                              " AND field = 'close_reason' AND old_value = 'placement stable'"
                              " AND new_value IS NULL"),
                     1);
    /* open again, so ordinary updates work */
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--title", "T2");
}
END_TEST

START_TEST(closed_case_refuses_other_updates_with_a_hint)
{
    long long history;
    tl_seed_agencies(db, cfg);
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "T");
    RUN_OK(TL_AS, "a_worker", "case", "close", "1", "--reason", "done");
    history = db_value("SELECT count(*) FROM casehost.case_history");
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "update", "1", "--title", "X", NULL), 1);
    HAS(r.err, "case 1 is closed");
    HAS(r.err, "hint: reopen it with: casehost case update 1 --status open");
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.cases WHERE title = 'T'"), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.case_history"), history);
}
END_TEST

/* ------------------------------------------------------------ people --- */

static const struct {
    const char *args[2]; /* the age options of person add */
    const char *age_sql; /* the expected age_now, computed by the server; NULL: null */
    const char *basis;
} ages[] = {
    {{"--dob", "2000-01-01"},
     "SELECT extract(year FROM current_date)::int - 2000",
     "date of birth"},
    {{"--age-estimate", "15"}, "SELECT 15", "estimated"},
    {{NULL, NULL}, NULL, "unknown"},
};

START_TEST(person_age_comes_from_date_of_birth_or_estimate_or_is_unknown)
{
    json_t *doc, *p, *age;
    char line[64] = "Age now:             -\n";
    tl_seed_agencies(db, cfg);
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Jo", ages[_i].args[0], ages[_i].args[1]);
    RUN_OK(TL_AS, "a_worker", "--json", "person", "show", "1");
    doc = json_out();
    p = json_object_get(doc, "person");
    age = json_object_get(p, "age_now");
    if (ages[_i].age_sql == NULL) {
        ck_assert_msg(json_is_null(age), "%s", r.out);
    } else {
        ck_assert_int_eq(json_integer_value(age), db_value(ages[_i].age_sql));
        snprintf(line, sizeof(line), "Age now:             %lld\n", db_value(ages[_i].age_sql));
    }
    ck_assert_str_eq(json_string_value(json_object_get(p, "age_basis")), ages[_i].basis);
    json_decref(doc);
    /* the text form shows the same age, an unknown one as "-" */
    RUN_OK(TL_AS, "a_worker", "person", "show", "1");
    HAS(r.out, line);
}
END_TEST

/*
 * person find matches a name anywhere in "given family", in "family given"
 * (a search with a space may run across the two), or in an alias, in any
 * case; a date of birth narrows it or searches alone. Another agency's
 * people are never found.
 */
static const struct {
    const char *name, *dob;
    const char *found; /* the names found, in the order shown, ", " between */
} finds[] = {
    {"jo", NULL, "Jo Smith"},
    {"SMITH", NULL, "Jo Smith"},
    {"mith", NULL, "Jo Smith"},
    {"jo smith", NULL, "Jo Smith"},
    {"smith jo", NULL, "Jo Smith"},
    {"h j", NULL, "Jo Smith"},
    {"ann o'n", NULL, "Mary Ann O'Neil"},
    {"o'neil mary", NULL, "Mary Ann O'Neil"},
    {"lulu", NULL, "Mary Ann O'Neil"},
    {"LU", NULL, "Mary Ann O'Neil"},
    {"o", NULL, "Mary Ann O'Neil, Jo Smith"},
    {"sam", NULL, "Sam"},
    {"zzz", NULL, ""},
    {"smithers", NULL, ""},
    {NULL, "2010-05-06", "Jo Smith"},
    {"sam", "2010-05-06", ""},
};

START_TEST(person_find_matches_names_either_way_and_aliases)
{
    json_t *doc, *people;
    char found[256] = "";
    tl_seed_agencies(db, cfg);
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Jo", "--family", "Smith", "--dob",
           "2010-05-06");
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Mary Ann", "--family", "O'Neil");
    RUN_OK(TL_AS, "a_worker", "person", "alias", "2", "Lulu");
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Sam");
    RUN_OK(TL_AS, "b_worker", "person", "add", "--given", "Jo", "--family", "Smithers", "--dob",
           "2010-05-06");
    if (finds[_i].name != NULL && finds[_i].dob != NULL)
        RUN_OK(TL_AS, "a_worker", "--json", "person", "find", finds[_i].name, "--dob",
               finds[_i].dob);
    else if (finds[_i].name != NULL)
        RUN_OK(TL_AS, "a_worker", "--json", "person", "find", finds[_i].name);
    else
        RUN_OK(TL_AS, "a_worker", "--json", "person", "find", "--dob", finds[_i].dob);
    doc = json_out();
    people = json_object_get(doc, "people");
    ck_assert_msg(json_is_array(people), "%s", r.out);
    for (size_t k = 0; k < json_array_size(people); k++) {
        size_t n = strlen(found);
        snprintf(found + n, sizeof(found) - n, "%s%s", k > 0 ? ", " : "",
                 json_string_value(json_object_get(json_array_get(people, k), "name")));
    }
    ck_assert_msg(strcmp(found, finds[_i].found) == 0, "person find '%s' %s: found '%s', want '%s'",
                  finds[_i].name ? finds[_i].name : "", finds[_i].dob ? finds[_i].dob : "", found,
                  finds[_i].found);
    json_decref(doc);
}
END_TEST

/*
 * `--json help` lists every verb and `--json help VERB` its tables, for the
 * host's verbs as for the test plugin's typed one: what a tool needs to
 * build (or break) every command.
 */
START_TEST(json_help_describes_every_typed_verb_from_its_table)
{
    static const char *const types[] = {"id",        "int",  "text", "date",
                                        "timestamp", "enum", "bool", "file"};
    json_t *list, *verb;
    size_t i, n_typed = 0;
    RUN_OK("--json", "help");
    list = json_out();
    json_array_foreach(json_object_get(list, "verbs"), i, verb)
    {
        const char *name = json_string_value(json_object_get(verb, "verb"));
        json_t *doc, *sub;
        size_t k;
        if (!json_is_true(json_object_get(verb, "typed")))
            continue;
        n_typed++;
        RUN_OK("--json", "help", name);
        doc = json_out();
        ck_assert_str_eq(json_string_value(json_object_get(doc, "verb")), name);
        ck_assert_int_gt((int)json_array_size(json_object_get(doc, "subs")), 0);
        json_array_foreach(json_object_get(doc, "subs"), k, sub)
        {
            const char *usage = json_string_value(json_object_get(sub, "usage"));
            json_t *arg;
            size_t j;
            ck_assert_msg(usage != NULL && strncmp(usage, name, strlen(name)) == 0,
                          "%s: usage '%s'", name, usage ? usage : "(null)");
            json_array_foreach(json_object_get(sub, "args"), j, arg)
            {
                const char *type = json_string_value(json_object_get(arg, "type"));
                int known = 0;
                for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
                    known |= type != NULL && strcmp(type, types[t]) == 0;
                ck_assert_msg(known, "%s: %s has type %s", usage,
                              json_string_value(json_object_get(arg, "name")), type);
                if (strcmp(type, "enum") == 0)
                    ck_assert_int_gt((int)json_array_size(json_object_get(arg, "values")), 0);
            }
        }
        json_decref(doc);
    }
    json_decref(list);
    ck_assert_uint_ge(n_typed, 11); /* ten host verbs and tp-typed */
    RUN_OK("help", "case", "list");
    HAS(r.out, "case list [--status open|in_progress|waiting|closed|all] [--mine]");
    ck_assert_ptr_null(strstr(r.out, "case new"));
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *cfgc = tcase_create("config");
    TCase *mig = tcase_create("migrations");
    TCase *cmd = tcase_create("commands");
    TCase *all[] = {cfgc, mig, cmd};
    for (size_t i = 0; i < 3; i++) {
        tcase_add_checked_fixture(all[i], setup, NULL);
        tcase_set_timeout(all[i], 60);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(cfgc, config_check_prints_every_host_config_error_with_file_and_line);
    tcase_add_test(cfgc, config_check_counts_plugin_config_errors_on_stdout);
    tcase_add_test(cfgc, config_check_accepts_the_good_test_config);
    tcase_add_test(cfgc, broken_host_config_stops_every_command_with_exit_2);
    tcase_add_test(mig, db_status_lists_every_template_migration_as_applied);
    tcase_add_test(mig, db_migrate_applies_a_new_plugin_migration_exactly_once);
    tcase_add_test(mig, db_migrate_refuses_an_applied_migration_that_was_edited);
    tcase_add_test(mig, failing_migration_exits_1_and_leaves_nothing_behind);
    tcase_add_loop_test(cmd, json_output_parses_and_has_the_expected_keys, 0,
                        (int)(sizeof(json_docs) / sizeof(json_docs[0])));
    tcase_add_test(cmd, json_person_show_keeps_column_types);
    tcase_add_loop_test(cmd, person_find_matches_names_either_way_and_aliases, 0,
                        sizeof(finds) / sizeof(finds[0]));
    tcase_add_test(cmd, json_help_describes_every_typed_verb_from_its_table);
    tcase_add_loop_test(cmd, as_option_anywhere_is_a_usage_error_and_changes_nothing, 0,
                        (int)(sizeof(as_placements) / sizeof(as_placements[0])));
    tcase_add_test(cmd, a_role_that_is_no_user_is_refused_with_how_to_connect);
    tcase_add_test(cmd, a_wrong_password_is_refused_by_the_server);
    tcase_add_test(cmd, case_update_without_a_real_change_writes_no_history);
    tcase_add_test(cmd, closed_case_reopens_with_status_open_and_records_history);
    tcase_add_test(cmd, closed_case_refuses_other_updates_with_a_hint);
    tcase_add_loop_test(cmd, person_age_comes_from_date_of_birth_or_estimate_or_is_unknown, 0,
                        (int)(sizeof(ages) / sizeof(ages[0])));
    return s;
}

CHECK_MAIN(cli_suite())
