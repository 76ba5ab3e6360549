/*
 * testlib.c: helpers for integration tests against a real PostgreSQL.
 * Never fakes the database or the program under test.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

const char *tl_env(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v != NULL && v[0] != '\0', "%s is not set: run the tests with 'make check'",
                  name);
    return v;
}

PGconn *tl_connect(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect to %s: %s", conninfo,
                  PQerrorMessage(c));
    return c;
}

/* The value of dbname= in a conninfo (static storage). */
static const char *dbname_of(const char *db)
{
    static char name[64];
    const char *p = strstr(db, "dbname=");
    ck_assert_msg(p != NULL, "no dbname in '%s'", db);
    p += 7;
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, " "), p);
    return name;
}

const char *tl_role(const char *db, const char *user)
{
    static char role[128];
    snprintf(role, sizeof(role), "%s_%s", dbname_of(db), user);
    return role;
}

const char *tl_user_db(const char *db, const char *user)
{
    static char conninfo[1200];
    snprintf(conninfo, sizeof(conninfo), "%s user=%s", db, tl_role(db, user));
    return conninfo;
}

PGconn *tl_as_app(const char *db, const char *user)
{
    return tl_connect(tl_user_db(db, user));
}

long long tl_value(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "tl_value(%s): %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

const char *tl_db_new(void)
{
    static char conninfo[1024];
    static int n;
    char name[64], sql[160];
    PGconn *c = tl_connect(tl_env("CASEHOST_TEST_SERVER"));
    PGresult *r;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    /* pids are reused within a long run (pid_max may be 32768): the time keeps names apart */
    snprintf(name, sizeof(name), "t_%ld_%d_%ld", (long)getpid(), ++n, (long)(now.tv_nsec / 1000));
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE casehost_tmpl", name);
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    snprintf(conninfo, sizeof(conninfo), "%s dbname=%s", tl_env("CASEHOST_TEST_SOCKET_INFO"), name);
    /* Role names are cluster-wide: each test database names its own. */
    c = tl_connect(conninfo);
    snprintf(sql, sizeof(sql), "UPDATE casehost.installation SET role_prefix = '%s_'", name);
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return conninfo;
}

const char *tl_write_file(const char *name, const char *text)
{
    static char path[1024];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%ld_%s", tl_env("CASEHOST_TEST_TMP"), (long)getpid(), name);
    f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    return path;
}

const char *tl_testplug(const char *settings)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "{ name = \"testplug\"; file = \"testplug.so\"; sql = \"%s/tests/sql/testplug\";"
             " settings = { %s }; }",
             tl_env("CASEHOST_TEST_ROOT"), settings ? settings : "");
    return buf;
}

const char *tl_config(const char *plugins)
{
    static int n;
    char text[8192], name[64];
    snprintf(text, sizeof(text),
             "paths = { plugin_dir = \"%s/tests/plugins\"; sql_dir = \"%s/sql\"; };\n"
             "plugins = ( %s );\n",
             tl_env("CASEHOST_TEST_BUILD"), tl_env("CASEHOST_TEST_ROOT"), plugins);
    snprintf(name, sizeof(name), "host%d.cfg", ++n);
    return tl_write_file(name, text);
}

/* Reads all of fd into buf (NUL-terminated, truncated at size). */
static void drain(int fd, char *buf, size_t size)
{
    size_t used = 0;
    for (;;) {
        char tmp[4096];
        ssize_t k = read(fd, tmp, sizeof(tmp));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        for (ssize_t i = 0; i < k && used + 1 < size; i++)
            buf[used++] = tmp[i];
    }
    buf[used] = '\0';
}

int tl_run(struct tl_result *r, const char *db, const char *cfg, ...)
{
    char bin[1024], outp[1100], errp[1100], conninfo[1200];
    const char *argv[64];
    const char *as = NULL;
    int argc = 0, st, fo, fe;
    pid_t pid;
    va_list ap;

    snprintf(bin, sizeof(bin), "%s/casehost", tl_env("CASEHOST_TEST_BUILD"));
    argv[argc++] = bin;
    argv[argc++] = "-c";
    argv[argc++] = cfg;
    va_start(ap, cfg);
    for (const char *a = va_arg(ap, const char *); a != NULL && argc < 63;
         a = va_arg(ap, const char *)) {
        if (strcmp(a, TL_AS) == 0) {
            as = va_arg(ap, const char *);
            ck_assert_msg(as != NULL, "TL_AS needs a user name");
            continue;
        }
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    if (as != NULL && db != NULL) {
        snprintf(conninfo, sizeof(conninfo), "%s", tl_user_db(db, as));
        db = conninfo;
    }

    /* Files, not pipes: a chatty child can never block on a full pipe. */
    snprintf(outp, sizeof(outp), "%s/%ld.out", tl_env("CASEHOST_TEST_TMP"), (long)getpid());
    snprintf(errp, sizeof(errp), "%s/%ld.err", tl_env("CASEHOST_TEST_TMP"), (long)getpid());
    fo = open(outp, O_RDWR | O_CREAT | O_TRUNC, 0600);
    fe = open(errp, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert(fo >= 0 && fe >= 0);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        if (db != NULL)
            setenv("CASEHOST_DB", db, 1);
        else
            unsetenv("CASEHOST_DB");
        unsetenv("CASEHOST_USER");
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    lseek(fo, 0, SEEK_SET);
    lseek(fe, 0, SEEK_SET);
    drain(fo, r->out, sizeof(r->out));
    drain(fe, r->err, sizeof(r->err));
    close(fo);
    close(fe);
    return r->status;
}

void tl_spawn(struct tl_proc *p, const char *db, const char *cfg, const char *user, const char *tag,
              unsigned seconds, const char *const *args)
{
    tl_spawn_conninfo(p, tl_user_db(db, user), cfg, tag, seconds, args);
}

void tl_spawn_program(struct tl_proc *p, const char *tag, unsigned seconds, const char *const *argv,
                      const char *casehost_db)
{
    snprintf(p->out, sizeof(p->out), "%s/%ld_%s.out", tl_env("CASEHOST_TEST_TMP"), (long)getpid(),
             tag);
    snprintf(p->err, sizeof(p->err), "%s/%ld_%s.err", tl_env("CASEHOST_TEST_TMP"), (long)getpid(),
             tag);
    p->pid = fork();
    ck_assert(p->pid >= 0);
    if (p->pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int fo = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || fo < 0 || fe < 0)
            _exit(126);
        dup2(in, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        if (casehost_db != NULL)
            setenv("CASEHOST_DB", casehost_db, 1);
        unsetenv("CASEHOST_USER");
        alarm(seconds);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
}

void tl_spawn_conninfo(struct tl_proc *p, const char *conninfo, const char *cfg, const char *tag,
                       unsigned seconds, const char *const *args)
{
    char bin[1024];
    const char *argv[20];
    size_t n = 0;
    snprintf(bin, sizeof(bin), "%s/casehost", tl_env("CASEHOST_TEST_BUILD"));
    argv[n++] = bin;
    argv[n++] = "-c";
    argv[n++] = cfg;
    for (; args[n - 3] != NULL; n++) {
        ck_assert_msg(n < sizeof(argv) / sizeof(argv[0]) - 1, "tl_spawn: too many arguments");
        argv[n] = args[n - 3];
    }
    argv[n] = NULL;
    tl_spawn_program(p, tag, seconds, argv, conninfo);
}

int tl_reap(struct tl_proc *p)
{
    int st;
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
        ;
    p->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int tl_serve(struct tl_proc *p, const char *db, const char *cfg, unsigned seconds,
             const char *const *args)
{
    static const char mark[] = "serve: listening on http://127.0.0.1:";
    const char *argv[16] = {"serve", "--listen", "127.0.0.1:0"};
    const char *pw = tl_env("CASEHOST_TEST_PASSWORD");
    char conninfo[1200], sql[512], *lit, *log = NULL;
    PGconn *c = tl_connect(tl_env("CASEHOST_TEST_SERVER"));
    size_t n = 3;
    /* INSTALL's step for the DBA; the password is the one PGPASSFILE holds (SCRAM). */
    lit = PQescapeLiteral(c, pw, strlen(pw));
    ck_assert_ptr_nonnull(lit);
    snprintf(sql, sizeof(sql), "ALTER ROLE casehost_authenticator LOGIN PASSWORD %s", lit);
    PQfreemem(lit);
    tl_sql_ok(c, sql, 0, NULL);
    PQfinish(c);
    for (; args[n - 3] != NULL; n++) {
        ck_assert_msg(n < sizeof(argv) / sizeof(argv[0]) - 1, "tl_serve: too many arguments");
        argv[n] = args[n - 3];
    }
    argv[n] = NULL;
    snprintf(conninfo, sizeof(conninfo), "%s user=casehost_authenticator", db);
    tl_spawn_conninfo(p, conninfo, cfg, "serve", seconds, argv);
    for (int i = 0; i < 30 * 50; i++) {
        const char *at;
        struct timespec pause = {0, 20 * 1000000L};
        free(log);
        /* the child may not have made its log file yet */
        log = access(p->err, F_OK) == 0 ? tl_read_file(p->err) : strdup("");
        ck_assert_ptr_nonnull(log);
        if ((at = strstr(log, mark)) != NULL && strstr(at, " threads") != NULL) {
            int port = (int)strtol(at + strlen(mark), NULL, 10);
            ck_assert_msg(port > 0, "no port in:\n%.3000s", log);
            free(log);
            return port;
        }
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            ck_abort_msg("casehost serve ended before it listened:\n%.3000s", log);
        }
        nanosleep(&pause, NULL);
    }
    ck_abort_msg("casehost serve did not log its listening line in 30 s:\n%.3000s", log);
    return -1;
}

/* A SCRAM verifier of the test password (static storage). */
const char *tl_verifier(PGconn *c)
{
    static char verifier[512];
    if (verifier[0] == '\0') {
        char *v = PQencryptPasswordConn(c, tl_env("CASEHOST_TEST_PASSWORD"), "x", "scram-sha-256");
        ck_assert_msg(v != NULL, "cannot make a verifier: %s", PQerrorMessage(c));
        snprintf(verifier, sizeof(verifier), "%s", v);
        PQfreemem(v);
    }
    return verifier;
}

void tl_sql_ok(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK,
                  "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

void tl_add_user(const char *db, const char *by, const char *name, const char *role,
                 const char *agency)
{
    PGconn *c = by != NULL ? tl_as_app(db, by) : tl_connect(db);
    const char *params[4] = {name, role, agency, tl_verifier(c)};
    tl_sql_ok(c, "SELECT * FROM casehost.user_add_v1($1, NULL, $2, $3, $4)", 4, params);
    PQfinish(c);
}

/*
 * The same steps as `agency add` / `user add` on the command line (the CLI
 * tests do those through the program), through the same SQL functions: the
 * database owner adds the agencies and their first admins, each admin adds
 * a caseworker and a service user. Every user logs in with the test password.
 */
void tl_seed_agencies(const char *db, const char *cfg)
{
    PGconn *c = tl_connect(db);
    (void)cfg;
    tl_sql_ok(c, "SELECT casehost.agency_add('A', NULL, 'CA', NULL)", 0, NULL);
    tl_sql_ok(c, "SELECT casehost.agency_add('B', NULL, 'NV', NULL)", 0, NULL);
    PQfinish(c);
    tl_add_user(db, NULL, "a_admin", "admin", "A");
    tl_add_user(db, NULL, "b_admin", "admin", "B");
    tl_add_user(db, "a_admin", "a_worker", "caseworker", "A");
    tl_add_user(db, "a_admin", "a_svc", "service", "A");
    tl_add_user(db, "b_admin", "b_worker", "caseworker", "B");
    tl_add_user(db, "b_admin", "b_svc", "service", "B");
}

/* The plugin with every shipped configuration file, plus extra settings text. */
const char *tl_trafficking_with(const char *settings)
{
    static char buf[8192];
    const char *root = tl_env("CASEHOST_TEST_ROOT");
    int n = snprintf(buf, sizeof(buf),
                     "{ name = \"trafficking\"; required = true;"
                     " file = \"%s/plugins/trafficking.so\"; sql = \"%s/sql/trafficking\";"
                     " settings = {"
                     " instruments = \"%s/conf/trafficking/instruments\";"
                     " screening = \"%s/conf/trafficking/screening.cfg\";"
                     " destinations = \"%s/conf/trafficking/destinations.cfg\";"
                     " routing = \"%s/conf/trafficking/routing.cfg\"; %s }; }",
                     tl_env("CASEHOST_TEST_BUILD"), root, root, root, root, root, settings);
    ck_assert_msg(n > 0 && (size_t)n < sizeof(buf), "trafficking settings too long");
    return buf;
}

const char *tl_trafficking(void)
{
    return tl_trafficking_with("");
}

const char *tl_password_file(void)
{
    static char path[1100];
    char name[64];
    snprintf(name, sizeof(name), "password");
    snprintf(path, sizeof(path), "%s", tl_write_file(name, tl_env("CASEHOST_TEST_PASSWORD")));
    ck_assert_int_eq(chmod(path, 0600), 0);
    return path;
}

long long tl_db_value(const char *db, const char *sql)
{
    PGconn *c = tl_connect(db);
    long long v = tl_value(c, sql);
    PQfinish(c);
    return v;
}

const char *tl_db_text(const char *db, const char *sql)
{
    return tl_db_textf(db, "%s", sql);
}

char *tl_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    ck_assert(buf != NULL);
    ck_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return buf;
}

const char *tl_candidate_config(char *dir, size_t len, const char *tag)
{
    static char cfg[1400];
    char cmd[3000];
    FILE *f;
    snprintf(dir, len, "%s/%ld_%s_%d", tl_env("CASEHOST_TEST_TMP"), (long)getpid(), tag, rand());
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(cmd, sizeof(cmd), "cp -R '%s/conf/trafficking' '%s/trafficking'",
             tl_env("CASEHOST_TEST_ROOT"), dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cfg, sizeof(cfg), "%s/casehost.cfg", dir);
    f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "paths = { plugin_dir = \"%s/plugins\"; sql_dir = \"%s/sql\"; };\n"
            "plugins = ( { name = \"trafficking\"; required = true; } );\n",
            tl_env("CASEHOST_TEST_BUILD"), tl_env("CASEHOST_TEST_ROOT"));
    fclose(f);
    return cfg;
}

const char *tl_hours_ago(int hours)
{
    static char bufs[8][32];
    static unsigned next;
    char *b = bufs[next++ % 8];
    time_t t = time(NULL) - (time_t)hours * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(b, sizeof(bufs[0]), "%Y-%m-%d %H:%M:%S+00", &tm);
    return b;
}

/* ------------------------------------------------ the CLI suites' helpers --- */

/* fmt with ap as SQL text (static storage, until the next call). */
static const char *sql_of(const char *fmt, va_list ap)
{
    static char sql[8192];
    int n = vsnprintf(sql, sizeof(sql), fmt, ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof(sql), "query too long: %s", fmt);
    return sql;
}

/* Runs one formatted query on db as the superuser; the result must be rows or done. */
static PGresult *db_query(const char *db, const char *sql)
{
    PGconn *c = tl_connect(db);
    PGresult *res = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK,
                  "%s: %s", sql, PQresultErrorMessage(res));
    PQfinish(c);
    return res;
}

/*
 * The one value of a one-row, one-column query (fmt with ap) on db, NULL for
 * null; static storage, until the next call. Fails the test otherwise.
 */
static const char *one_value(const char *db, const char *fmt, va_list ap)
{
    static char buf[16384];
    const char *sql = sql_of(fmt, ap), *v = NULL;
    PGresult *res = db_query(db, sql);
    ck_assert_msg(PQntuples(res) == 1 && PQnfields(res) == 1, "%s: %d rows, want one value", sql,
                  PQntuples(res));
    if (!PQgetisnull(res, 0, 0)) {
        snprintf(buf, sizeof(buf), "%s", PQgetvalue(res, 0, 0));
        v = buf;
    }
    PQclear(res);
    return v;
}

long long tl_db_valuef(const char *db, const char *fmt, ...)
{
    va_list ap;
    const char *v;
    va_start(ap, fmt);
    v = one_value(db, fmt, ap);
    va_end(ap);
    return v != NULL ? strtoll(v, NULL, 10) : -1;
}

const char *tl_db_textf(const char *db, const char *fmt, ...)
{
    va_list ap;
    const char *v;
    va_start(ap, fmt);
    v = one_value(db, fmt, ap);
    va_end(ap);
    return v != NULL ? v : "";
}

void tl_db_execf(const char *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PQclear(db_query(db, sql_of(fmt, ap)));
    va_end(ap);
}

const char *tl_id(long long id)
{
    static char bufs[8][24];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%lld", id);
    return b;
}

void tl_cli_setup(const struct tl_cli *c, const char *settings)
{
    snprintf(c->db, 1024, "%s", tl_db_new());
    snprintf(c->cfg, 1024, "%s", tl_config(tl_trafficking_with(settings ? settings : "")));
    tl_seed_agencies(c->db, c->cfg);
}

const char *tl_spool_targets(const char *tag, const char *const *dests, size_t n)
{
    static char targets[4096];
    char spool[1100];
    size_t used;
    snprintf(spool, sizeof(spool), "%s/%ld_%s_spool", tl_env("CASEHOST_TEST_TMP"), (long)getpid(),
             tag);
    ck_assert_msg(mkdir(spool, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", spool,
                  strerror(errno));
    used = (size_t)snprintf(targets, sizeof(targets), "dispatch_targets = {");
    for (size_t i = 0; i < n && used < sizeof(targets); i++)
        used += (size_t)snprintf(targets + used, sizeof(targets) - used,
                                 " %s = { channel = \"spool\"; spool_dir = \"%s\"; };", dests[i],
                                 spool);
    ck_assert_msg(used + 3 < sizeof(targets), "too many dispatch targets");
    snprintf(targets + used, sizeof(targets) - used, " };");
    return targets;
}

/* The most arguments tl_cli_json passes on. */
#define CLI_ARGS 24

void tl_cli_json(const struct tl_cli *c, const char *user, const char *const *args)
{
    const char *a[CLI_ARGS + 1] = {NULL};
    json_error_t e;
    for (size_t i = 0; args[i] != NULL; i++) {
        ck_assert_msg(i < CLI_ARGS, "more than %d arguments", CLI_ARGS);
        a[i] = args[i];
    }
    /* tl_run stops at the first NULL: the unused tail of a is NULL */
    ck_assert_msg(tl_run(c->r, c->db, c->cfg, TL_AS, user, "--json", a[0], a[1], a[2], a[3], a[4],
                         a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15],
                         a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], NULL) == 0,
                  "%s %s: exit %d\nstdout: %s\nstderr: %s", a[0], a[1] ? a[1] : "", c->r->status,
                  c->r->out, c->r->err);
    json_decref(*c->doc);
    *c->doc = json_loads(c->r->out, 0, &e);
    ck_assert_msg(*c->doc != NULL, "not JSON (%s, line %d):\n%s", e.text, e.line, c->r->out);
}

/* The integer member key of o, or the test fails. */
static long long member_id(const struct tl_cli *c, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_integer(v), "'%s' is not an integer in:\n%s", key, c->r->out);
    return (long long)json_integer_value(v);
}

long long tl_person_add(const struct tl_cli *c, const char *opt, const char *value)
{
    int aged = opt != NULL && opt[0] != '\0';
    tl_cli_json(c, "a_worker",
                (const char *[]){"person", "add", "--given", "Jo", aged ? opt : NULL, value, NULL});
    return member_id(c, *c->doc, "person");
}

long long tl_case_new(const struct tl_cli *c, long long person, const char *title,
                      const char *const *more)
{
    const char *a[CLI_ARGS + 1] = {"case", "new", "--title", title, "--state", "CA"};
    size_t n = 6;
    if (person > 0) {
        a[n++] = "--person";
        a[n++] = tl_id(person);
    }
    for (size_t i = 0; more != NULL && more[i] != NULL; i++) {
        ck_assert_msg(n < CLI_ARGS, "more than %d arguments", CLI_ARGS);
        a[n++] = more[i];
    }
    tl_cli_json(c, "a_worker", a);
    return member_id(c, *c->doc, "case");
}

long long tl_consent_add(const struct tl_cli *c, long long person, const char *recipients)
{
    tl_cli_json(c, "a_worker",
                (const char *[]){"consent", "add", tl_id(person), "--purpose", "referral",
                                 "--recipients", recipients, "--regime", "vawa_voca", "--expires",
                                 "2099-12-31", NULL});
    return member_id(c, json_object_get(*c->doc, "consent"), "consent");
}

void tl_screen(const struct tl_cli *c, long long case_id, const char *instrument,
               const char *const *answers)
{
    const char *a[CLI_ARGS + 1] = {"screen", "start", tl_id(case_id), "--instrument", instrument};
    for (size_t i = 0; answers[i] != NULL; i++) {
        ck_assert_msg(i + 5 < CLI_ARGS, "more than %d answers", CLI_ARGS - 5);
        a[i + 5] = answers[i];
    }
    tl_cli_json(c, "a_worker", a);
}

void tl_dispatch_once(const struct tl_cli *c)
{
    ck_assert_msg(tl_run(c->r, c->db, c->cfg, TL_AS, "a_svc", "dispatch", "--once", NULL) == 0,
                  "dispatch: exit %d\nstdout: %s\nstderr: %s", c->r->status, c->r->out, c->r->err);
}

int tl_cluster_script(const char *dir, const char *tag, const char *args)
{
    char cmd[3000];
    int st;
    snprintf(cmd, sizeof(cmd), "cd '%s' && %s >>'%s/%s.log' 2>&1", tl_env("CASEHOST_TEST_ROOT"),
             args, dir, tag);
    st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tl_cluster_own(const char *tag, char *dir, size_t dirlen, char *err, size_t errlen)
{
    char cmd[2400], env[1200];
    snprintf(dir, dirlen, "%s/%s_%ld", tl_env("CASEHOST_TEST_TMP"), tag, (long)getpid());
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
        return -1;
    }
    chmod(dir, 0755); /* the server runs as another user when we are root */
    snprintf(cmd, sizeof(cmd), "scripts/test-cluster.sh '%s' '%s'", dir,
             tl_env("CASEHOST_TEST_BUILD"));
    if (tl_cluster_script(dir, tag, cmd) != 0) {
        snprintf(err, errlen, "scripts/test-cluster.sh failed: see %s/%s.log", dir, tag);
        return -1;
    }
    snprintf(env, sizeof(env), "host=%s/pg user=casehost dbname=postgres", dir);
    setenv("CASEHOST_TEST_SERVER", env, 1);
    snprintf(env, sizeof(env), "host=%s/pg user=casehost", dir);
    setenv("CASEHOST_TEST_SOCKET_INFO", env, 1);
    return 0;
}
