/*
 * testlib.h: what integration tests share: a fresh database per test cloned
 * from the migrated template, host configs written on the fly, and running
 * the real casehost binary with its output captured. Everything talks to the
 * throwaway server started by scripts/run-tests.sh; nothing is mocked.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <libpq-fe.h>

/* Set by scripts/run-tests.sh. */
const char *tl_env(const char *name);

/* Creates a database from the template; returns its conninfo (static storage). */
const char *tl_db_new(void);

/*
 * Writes a host config into the test's temp dir and returns its path (static
 * storage). plugins is the text of the plugins list, e.g.
 *   "{ name = \"testplug\"; file = \"testplug.so\"; }"
 * "" for none. The test plugin directory and its migrations are set up.
 */
const char *tl_config(const char *plugins);

/* The standard test plugin entry, with extra settings text inside settings = { }. */
const char *tl_testplug(const char *settings);

struct tl_result {
    int status; /* exit status, or 128 + signal */
    char out[65536];
    char err[16384];
};

/*
 * Runs casehost with CASEHOST_DB = db and -c cfg, then the NULL-terminated
 * argument list. Returns r->status.
 */
int tl_run(struct tl_result *r, const char *db, const char *cfg, ...);

/*
 * Agency "A" (admin "a_admin", caseworker "a_worker", service "a_svc") and
 * "B" likewise, by SQL through the same functions as the CLI.
 */
void tl_seed_agencies(const char *db, const char *cfg);

/* Adds user name (role kind, agency) as user by (NULL: the database owner). */
void tl_add_user(const char *db, const char *by, const char *name, const char *role,
                 const char *agency);

/*
 * In tl_run's arguments, TL_AS NAME runs the command as user NAME: the
 * program connects as NAME's own PostgreSQL role with its password, exactly
 * as a person would. (The program itself has no --as.)
 */
#define TL_AS "\001as"

/* The PostgreSQL role of user in test database db (static storage). */
const char *tl_role(const char *db, const char *user);

/* db's conninfo as user's own role (static storage). */
const char *tl_user_db(const char *db, const char *user);

/*
 * Connects to db as user's own PostgreSQL role (SCRAM password), so
 * row-level security applies exactly as for the program.
 */
PGconn *tl_as_app(const char *db, const char *user);

/* A SCRAM verifier of the test password (static storage). */
const char *tl_verifier(PGconn *c);

/* A file (mode 0600) holding the test password, for --password-file (static storage). */
const char *tl_password_file(void);

/* Runs sql and fails the test unless it succeeds. */
void tl_sql_ok(PGconn *c, const char *sql, int n, const char *const *params);

/* A whole file as a new string (caller frees), or the test fails. */
char *tl_read_file(const char *path);

/*
 * A new folder under the test's temp dir (its path into dir) holding a copy
 * of the shipped trafficking configuration and a host config naming the
 * trafficking plugin: a candidate a test changes and deploys. Returns the
 * host config's path (static storage); tag names the folder.
 */
const char *tl_candidate_config(char *dir, size_t len, const char *tag);

/* Connects or fails the test. */
PGconn *tl_connect(const char *conninfo);

/* The single value of a one-row, one-column query as a number (-1 on error). */
long long tl_value(PGconn *c, const char *sql);

/* One value of a one-row query on db as the superuser (-1 / fails the test otherwise). */
long long tl_db_value(const char *db, const char *sql);
const char *tl_db_text(const char *db, const char *sql); /* static storage */

/* A config file in the temp dir with the given text; returns its path (static storage). */
const char *tl_write_file(const char *name, const char *text);

/* The trafficking plugin entry with the shipped configuration (static storage). */
const char *tl_trafficking(void);

/* The same with extra settings text inside settings = { } (static storage). */
const char *tl_trafficking_with(const char *settings);

#endif
