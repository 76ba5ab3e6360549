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

PGconn *tl_as_app(const char *db, const char *user)
{
    PGconn *c = tl_connect(db);
    const char *params[1] = {user};
    PGresult *res = PQexec(c, "SET ROLE casehost_app");
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    res = PQexecParams(c, "SELECT * FROM casehost.login($1)", 1, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "login '%s': %s", user,
                  PQresultErrorMessage(res));
    PQclear(res);
    return c;
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
    snprintf(name, sizeof(name), "t_%ld_%d", (long)getpid(), ++n);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE casehost_tmpl", name);
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    snprintf(conninfo, sizeof(conninfo), "%s dbname=%s", tl_env("CASEHOST_TEST_SOCKET_INFO"), name);
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
             "database = { role = \"casehost_app\"; };\n"
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
    char bin[1024], outp[1100], errp[1100];
    const char *argv[64];
    int argc = 0, st, fo, fe;
    pid_t pid;
    va_list ap;

    snprintf(bin, sizeof(bin), "%s/casehost", tl_env("CASEHOST_TEST_BUILD"));
    argv[argc++] = bin;
    argv[argc++] = "-c";
    argv[argc++] = cfg;
    va_start(ap, cfg);
    for (const char *a = va_arg(ap, const char *); a != NULL && argc < 63;
         a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

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

/*
 * The same steps as `agency add` / `user add` on the command line (the CLI
 * tests do those through the program), through the same SQL functions, on one
 * connection: seeding every test's database through six processes would cost
 * more than the test.
 */
void tl_seed_agencies(const char *db, const char *cfg)
{
    static const char seed[] = "SET ROLE casehost_app;"
                               "SELECT casehost.agency_add('A', NULL, 'CA', NULL);"
                               "SELECT casehost.user_add('a_admin', NULL, 'admin', 'A');"
                               "SELECT * FROM casehost.login('a_admin');"
                               "SELECT casehost.agency_add('B', NULL, 'NV', NULL);"
                               "SELECT casehost.user_add('a_worker', NULL, 'caseworker', 'A');"
                               "SELECT casehost.user_add('b_admin', NULL, 'admin', 'B');"
                               "SELECT * FROM casehost.login('b_admin');"
                               "SELECT casehost.user_add('b_worker', NULL, 'caseworker', 'B');";
    PGconn *c = tl_connect(db);
    PGresult *res = PQexec(c, seed);
    (void)cfg;
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "seeding agencies failed: %s",
                  PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
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
