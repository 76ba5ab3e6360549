/*
 * testlib.h: what integration tests share: a fresh database per test cloned
 * from the migrated template, host configs written on the fly, and running
 * the real casehost binary with its output captured. Everything talks to the
 * throwaway server started by scripts/run-tests.sh; nothing is mocked.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <sys/types.h>

#include <jansson.h>
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
 * A casehost running in the background, for the long-running commands: its
 * pid (0 once reaped) and the files its standard output and error go to.
 */
struct tl_proc {
    pid_t pid;
    char out[1200], err[1200];
};

/*
 * Starts casehost -c cfg with args (NULL-terminated, 16 at most) as user's
 * own role on db, standard input from /dev/null, output into files in the
 * test's temp dir named after tag. An alarm of seconds ends it even if the
 * test dies before stopping it.
 */
void tl_spawn(struct tl_proc *p, const char *db, const char *cfg, const char *user, const char *tag,
              unsigned seconds, const char *const *args);

/*
 * The same with CASEHOST_DB set to conninfo as given: for a program that
 * connects as no person (the web server connects as the authenticator).
 */
void tl_spawn_conninfo(struct tl_proc *p, const char *conninfo, const char *cfg, const char *tag,
                       unsigned seconds, const char *const *args);

/*
 * Starts argv[0] (any program; argv NULL-terminated) with standard input
 * from /dev/null and its output into files named after tag in the test's
 * temp dir (p->out, p->err), CASEHOST_DB set to casehost_db unless NULL; an
 * alarm of seconds ends it if the test dies first.
 */
void tl_spawn_program(struct tl_proc *p, const char *tag, unsigned seconds, const char *const *argv,
                      const char *casehost_db);

/* Waits for p: its exit status, or 128 + signal. */
int tl_reap(struct tl_proc *p);

/*
 * Starts `casehost serve --listen 127.0.0.1:0` with args (NULL-terminated,
 * 12 at most) on db as casehost_authenticator, which it first gives LOGIN
 * and the test password (cluster-wide, as INSTALL has the DBA do), and
 * waits for the listening line, failing after 30 s. Returns the port the
 * kernel chose; the server's log is p->err. Stop it with SIGTERM and tl_reap.
 */
int tl_serve(struct tl_proc *p, const char *db, const char *cfg, unsigned seconds,
             const char *const *args);

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
 * The time hours before now, as a person types it ("YYYY-MM-DD HH:MM:SS+00"),
 * in one of 8 rotating static buffers: deadlines run from the event, so
 * tests give events times relative to the clock, never fixed dates.
 */
const char *tl_hours_ago(int hours);

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

/* ------------------------------------------------ the CLI suites' helpers --- */

#if defined(__GNUC__)
#define TL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TL_PRINTF(f, a)
#endif

/*
 * SQL written printf-style and run on db as the superuser (no row-level
 * security), as the dispatcher or the clock would act; each fails the test
 * on an error. tl_db_valuef: a one-value query's number (-1 for NULL);
 * tl_db_textf: its text ("" for NULL; static storage until the next call);
 * tl_db_execf: statements.
 */
long long tl_db_valuef(const char *db, const char *fmt, ...) TL_PRINTF(2, 3);
const char *tl_db_textf(const char *db, const char *fmt, ...) TL_PRINTF(2, 3);
void tl_db_execf(const char *db, const char *fmt, ...) TL_PRINTF(2, 3);

/* A one-value query on db (tl_db_valuef) compared with want, naming the query on failure. */
#define TL_DB_EQ(db, want, ...)                                                                    \
    do {                                                                                           \
        long long got_ = tl_db_valuef((db), __VA_ARGS__);                                          \
        ck_assert_msg(got_ == (want), "%lld, want %lld: %s", got_, (long long)(want),              \
                      #__VA_ARGS__);                                                               \
    } while (0)

/* id as text, in one of eight rotating static buffers. */
const char *tl_id(long long id);

/*
 * A trafficking CLI suite's session: its database and host config (each
 * char[1024], filled by tl_cli_setup), its last run and that run's --json
 * output, parsed (the helpers below replace *doc with each answer they
 * read; the suite frees the last one).
 */
struct tl_cli {
    char *db, *cfg;
    struct tl_result *r;
    json_t **doc;
};

/*
 * A fresh database with agencies A and B (tl_seed_agencies) and a host
 * config naming the trafficking plugin with the shipped configuration and
 * extra settings text (NULL: none), into c->db and c->cfg.
 */
void tl_cli_setup(const struct tl_cli *c, const char *settings);

/*
 * Settings text sending every destination of dests[0 .. n - 1] to one spool
 * folder named after tag, which is created (static storage).
 */
const char *tl_spool_targets(const char *tag, const char *const *dests, size_t n);

/*
 * Runs casehost as user with --json and args (NULL-terminated, 24 at most),
 * fails the test unless it exits 0, and parses its output into *c->doc.
 */
void tl_cli_json(const struct tl_cli *c, const char *user, const char *const *args);

/*
 * As a_worker: a person "Jo" with an age option (opt NULL or "": unknown
 * age); a case in CA titled title for person (0: none) with more arguments
 * (NULL-terminated, may be NULL: --flags F, --runaway-start S, ...); a
 * referral consent of person to recipients until 2099; each returns the new
 * id. tl_screen answers the instrument on case_id with answers ("item=yes",
 * NULL-terminated).
 */
long long tl_person_add(const struct tl_cli *c, const char *opt, const char *value);
long long tl_case_new(const struct tl_cli *c, long long person, const char *title,
                      const char *const *more);
long long tl_consent_add(const struct tl_cli *c, long long person, const char *recipients);
void tl_screen(const struct tl_cli *c, long long case_id, const char *instrument,
               const char *const *answers);

/* The dispatcher sends what is ready, once, as the agency's service a_svc. */
void tl_dispatch_once(const struct tl_cli *c);

/*
 * A cluster of the suite's own, CASEHOST_TEST_TMP/TAG_PID (its path into
 * dir), migrated and deployed as the shared one (scripts/test-cluster.sh),
 * with the test environment pointed at it: tl_db_new() and the roles live
 * there. For suites that stop and start their server. 0, or -1 with why in
 * err (kept by the caller for its tests: an unchecked fixture cannot fail).
 */
int tl_cluster_own(const char *tag, char *dir, size_t dirlen, char *err, size_t errlen);
/* Runs a shell command from the source root, output appended to DIR/TAG.log; its exit status. */
int tl_cluster_script(const char *dir, const char *tag, const char *args);

#endif
