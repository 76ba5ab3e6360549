/*
 * check_redteam.c: the red team. Attacks agency separation as agency A's own
 * caseworker, service and admin roles, by direct SQL on every table, view and
 * SECURITY DEFINER function the catalog lists at run time (an object without
 * an entry in redteam_attacks.h fails the suite), by every identity trick a
 * session can play on itself, through the CLI, and as the trusted server's
 * authenticator role. Every attack must be refused, and after each one the
 * superuser checks that nothing in the database changed. Never weakens an
 * attack to make it pass: a refusal must read exactly like "not found".
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "testlib.h"

#include "redteam_attacks.h"

#if defined(__GNUC__)
#define TEST_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TEST_PRINTF(f, a)
#endif

static const char *const who_user[N_WHO] = {"a_worker", "a_svc", "a_admin"};
static const char *const op_name[N_OPS] = {"INSERT into", "UPDATE B's rows of",
                                           "DELETE B's rows of", "TRUNCATE"};

/* The attacked schemas, as an SQL list. */
#define SCHEMAS "('casehost', 'trafficking', 'testplug')"

static struct tl_result r;
static char db[1024], cfg[1024];

/* ------------------------------------------------------- seeded values --- */

/* {{KEY}} values: set once by the seeding fixture (in the parent), ME and GROUP per test. */
#define MAX_VALUES 64
static struct {
    char key[32];
    char text[512];
} values[MAX_VALUES];
static int n_values;

static void value_set(const char *key, const char *fmt, ...) TEST_PRINTF(2, 3);

static void value_set(const char *key, const char *fmt, ...)
{
    va_list ap;
    int i;
    for (i = 0; i < n_values && strcmp(values[i].key, key) != 0; i++)
        ;
    ck_assert_msg(i < MAX_VALUES, "too many values");
    if (i == n_values)
        snprintf(values[n_values++].key, sizeof(values[0].key), "%s", key);
    va_start(ap, fmt);
    vsnprintf(values[i].text, sizeof(values[i].text), fmt, ap);
    va_end(ap);
}

/* The value of key (len bytes, not NUL-terminated); fails the test when unknown. */
static const char *value_of(const char *key, size_t len)
{
    for (int i = 0; i < n_values; i++)
        if (strlen(values[i].key) == len && strncmp(values[i].key, key, len) == 0)
            return values[i].text;
    ck_abort_msg("no seeded value {{%.*s}}", (int)len, key);
    return NULL;
}

static const char *value(const char *key)
{
    return value_of(key, strlen(key));
}

/* 1 when [p, end) is a placeholder name: capitals, digits and '_'. */
static int is_key(const char *p, const char *end)
{
    if (p == end)
        return 0;
    for (; p < end; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

/* tmpl with every {{KEY}} replaced by its value and {{ID}} by id, into out. */
static void expand(char *out, size_t len, const char *tmpl, const char *id)
{
    size_t n = 0;
    const char *p = tmpl;
    while (*p != '\0') {
        const char *end = p[0] == '{' && p[1] == '{' ? strstr(p + 2, "}}") : NULL;
        if (end != NULL && is_key(p + 2, end)) {
            const char *v = end - p == 4 && strncmp(p + 2, "ID", 2) == 0
                                ? id
                                : value_of(p + 2, (size_t)(end - p - 2));
            size_t k;
            ck_assert_msg(v != NULL, "{{ID}} without an id in: %s", tmpl);
            k = strlen(v);
            ck_assert_msg(n + k < len, "too long after expansion: %s", tmpl);
            memcpy(out + n, v, k);
            n += k;
            p = end + 2;
        } else {
            ck_assert_msg(n + 1 < len, "too long after expansion: %s", tmpl);
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

/* in with every from replaced by to, into out. */
static void replace_all(char *out, size_t len, const char *in, const char *from, const char *to)
{
    size_t n = 0, fl = strlen(from), tl = strlen(to);
    while (*in != '\0') {
        if (fl > 0 && strncmp(in, from, fl) == 0) {
            ck_assert(n + tl < len);
            memcpy(out + n, to, tl);
            n += tl;
            in += fl;
        } else {
            ck_assert(n + 1 < len);
            out[n++] = *in++;
        }
    }
    out[n] = '\0';
}

/* ------------------------------------------------------- connections --- */

/* Opened inside each test (never in the parent, which forks them). */
static PGconn *su, *att;

/* The cluster superuser: sees everything (no row-level security); names objects in full. */
static PGconn *superuser(void)
{
    if (su == NULL) {
        su = tl_connect(db);
        tl_sql_ok(su, "SET search_path = pg_catalog", 0, NULL);
    }
    return su;
}

/* Attacks draw notices and warnings by the hundred; their outcome is what counts. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Logs in as attacker w's own role and sets {{ME}} and {{GROUP}}. */
static PGconn *attacker(enum who w)
{
    value_set("ME", "%s", tl_role(db, who_user[w]));
    value_set("GROUP", "%s", w == SERVICE ? "casehost_service" : "casehost_app");
    if (att != NULL)
        PQfinish(att);
    att = tl_as_app(db, who_user[w]);
    PQsetNoticeProcessor(att, quiet, NULL);
    return att;
}

/* The trusted server's login. */
static PGconn *authenticator(void)
{
    char conninfo[1200];
    snprintf(conninfo, sizeof(conninfo), "%s user=casehost_authenticator", db);
    if (att != NULL)
        PQfinish(att);
    att = tl_connect(conninfo);
    PQsetNoticeProcessor(att, quiet, NULL);
    return att;
}

static void disconnect(void)
{
    if (att != NULL)
        PQfinish(att);
    if (su != NULL)
        PQfinish(su);
    att = su = NULL;
}

/* The single number a superuser query gives (tmpl expanded); fails the test on error. */
static long long su_number(const char *tmpl)
{
    char sql[4096];
    long long v;
    expand(sql, sizeof(sql), tmpl, NULL);
    v = tl_value(superuser(), sql);
    ck_assert_msg(v >= 0, "superuser query failed: %s", sql);
    return v;
}

/* 1 when c's catalog holds object name (a relation, or a function with its argument types). */
static int in_catalog(PGconn *c, const char *name, int function)
{
    const char *p[1] = {name};
    PGresult *res = PQexecParams(c,
                                 function ? "SELECT to_regprocedure($1) IS NOT NULL"
                                          : "SELECT to_regclass($1) IS NOT NULL",
                                 1, NULL, p, NULL, NULL, 0);
    int yes;
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    yes = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return yes;
}

/*
 * Which entries name objects of this schema version (an entry for an object a
 * later or earlier migration has has nothing to attack here). Set while seeding.
 */
static int relation_present[N_RELATIONS], fn_present[N_FN_ATTACKS];

static int relation_present_named(const char *name)
{
    for (size_t i = 0; i < N_RELATIONS; i++)
        if (strcmp(relations[i].name, name) == 0)
            return relation_present[i];
    return 0;
}

/* ---------------------------------------------------------- attempts --- */

struct outcome {
    int refused;
    char sqlstate[6];
    char message[1024];
    char value[1024]; /* the first cell; "(no row)" when none */
};

/* Runs sql (one statement or several) and records how the last one ended. */
static void attempt(PGconn *c, const char *sql, struct outcome *o)
{
    PGresult *res = PQexec(c, sql);
    memset(o, 0, sizeof(*o));
    switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
        snprintf(o->value, sizeof(o->value), "%s",
                 PQntuples(res) == 0 || PQnfields(res) == 0 ? "(no row)"
                 : PQgetisnull(res, 0, 0)                   ? "NULL"
                                                            : PQgetvalue(res, 0, 0));
        break;
    case PGRES_COMMAND_OK:
        break;
    default: {
        const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        o->refused = 1;
        snprintf(o->sqlstate, sizeof(o->sqlstate), "%s", s != NULL ? s : "");
        snprintf(o->message, sizeof(o->message), "%s", m != NULL ? m : PQerrorMessage(c));
    }
    }
    PQclear(res);
}

/* Ends whatever transaction an attack left open, so that nothing it did stays. */
static void roll_back(PGconn *c)
{
    if (PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK"));
}

/* Fails the test (naming the attack) unless o ends as e says; {{ID}} in e is id. */
static void check_expect(const char *attack, const struct expect *e, const struct outcome *o,
                         const char *id)
{
    char want[2048];
    if (o->refused) {
        ck_assert_msg(e->error != NULL || e->sqlstate != NULL, "%s: refused (%s: %s), want '%s'",
                      attack, o->sqlstate, o->message, e->value);
        if (e->sqlstate != NULL)
            ck_assert_msg(strcmp(o->sqlstate, e->sqlstate) == 0,
                          "%s: refused with SQLSTATE %s (%s), want %s", attack, o->sqlstate,
                          o->message, e->sqlstate);
        if (e->error != NULL && e->error[0] != '\0') {
            expand(want, sizeof(want), e->error, id);
            ck_assert_msg(strcmp(o->message, want) == 0, "%s: refused with\n  '%s'\nwant\n  '%s'",
                          attack, o->message, want);
        }
    } else {
        ck_assert_msg(e->value != NULL, "%s: NOT REFUSED (it gave '%s')", attack, o->value);
        expand(want, sizeof(want), e->value, id);
        ck_assert_msg(strcmp(o->value, want) == 0, "%s: gave '%s', want '%s'", attack, o->value,
                      want);
    }
}

/*
 * Runs sql in c inside a transaction that is then rolled back, so that an
 * attack that succeeds is reported by its result and spoils no later test.
 */
static void attempt_undone(PGconn *c, const char *sql, struct outcome *o)
{
    PQclear(PQexec(c, "BEGIN"));
    attempt(c, sql, o);
    roll_back(c);
}

/* Plays tmpl ({{ID}} = id) in c, rolled back, and checks e. */
static void play(PGconn *c, const char *attack, const char *tmpl, const char *id,
                 const struct expect *e)
{
    char sql[8192];
    struct outcome o;
    expand(sql, sizeof(sql), tmpl, id);
    attempt_undone(c, sql, &o);
    check_expect(attack, e, &o, id);
}

/* ------------------------------------------------------- fingerprint --- */

/* One table's rows, as one hash (the superuser's view: no row-level security). */
#define ROWS_HASH(rel) "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM " rel " t"

/*
 * Everything else an attack could change: the project's roles (attributes,
 * passwords, memberships, settings); schemas, relations, functions (owner,
 * grants, body, settings), policies and the database's grants. Sequences are
 * left out: a refused insert still takes a value.
 */
static const char catalog_hash_sql[] =
    "SELECT 'roles', md5(coalesce(string_agg(concat_ws(',', a.rolname, a.rolsuper,"
    " a.rolinherit, a.rolcreaterole, a.rolcreatedb, a.rolcanlogin, a.rolreplication,"
    " a.rolbypassrls, a.rolconnlimit, a.rolpassword, a.rolvaliduntil,"
    " (SELECT string_agg(m.roleid::regrole::text || ':' || m.admin_option, ' ' ORDER BY 1)"
    " FROM pg_auth_members m WHERE m.member = a.oid),"
    " (SELECT string_agg(s.setdatabase || ':' || array_to_string(s.setconfig, ' '), ';'"
    " ORDER BY 1) FROM pg_db_role_setting s WHERE s.setrole = a.oid)), E'\\n'"
    " ORDER BY a.rolname), '')) FROM pg_authid a WHERE a.rolname LIKE 'casehost%'"
    " OR starts_with(a.rolname, (SELECT role_prefix FROM casehost.installation))"
    " UNION ALL SELECT 'objects', md5(string_agg(o, E'\\n' ORDER BY o)) FROM ("
    " SELECT 'n ' || n.nspname || ' ' || n.nspowner::regrole::text || ' '"
    " || coalesce(n.nspacl::text, '') AS o FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%'"
    " UNION ALL SELECT 'c ' || c.oid::regclass::text || ' ' || c.relowner::regrole::text || ' '"
    " || coalesce(c.relacl::text, '') || ' ' || c.relrowsecurity || c.relforcerowsecurity"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
    " UNION ALL SELECT 'p ' || p.oid::regprocedure::text || ' ' || p.proowner::regrole::text"
    " || ' ' || coalesce(p.proacl::text, '') || ' ' || p.prosecdef || ' '"
    " || coalesce(array_to_string(p.proconfig, ' '), '') || ' ' || md5(p.prosrc)"
    " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
    " WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
    " UNION ALL SELECT 'y ' || y.polrelid::regclass::text || ' ' || y.polname || ' '"
    " || coalesce(pg_get_expr(y.polqual, y.polrelid), '') || ' '"
    " || coalesce(pg_get_expr(y.polwithcheck, y.polrelid), '') FROM pg_policy y"
    " UNION ALL SELECT 'd ' || coalesce(d.datacl::text, '') FROM pg_database d"
    " WHERE d.datname = current_database()) s";

#define FP_ROWS 96
struct fingerprint {
    int n;
    char name[FP_ROWS][96];
    char hash[FP_ROWS][33];
};

/*
 * The database as each TCase's tests begin (taken in the parent, after the
 * TCase's fixtures), and the one query that hashes it again: every table's
 * rows, then catalog_hash_sql. Every attack must leave it exactly so.
 */
static struct fingerprint baseline;
static char fingerprint_sql[16384];

static void fingerprint_take(struct fingerprint *f)
{
    PGresult *res = PQexec(superuser(), fingerprint_sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "fingerprint: %s",
                  PQresultErrorMessage(res));
    f->n = PQntuples(res);
    ck_assert_int_le(f->n, FP_ROWS);
    for (int i = 0; i < f->n; i++) {
        snprintf(f->name[i], sizeof(f->name[i]), "%s", PQgetvalue(res, i, 0));
        snprintf(f->hash[i], sizeof(f->hash[i]), "%s", PQgetvalue(res, i, 1));
    }
    PQclear(res);
}

static void baseline_take(void)
{
    PGresult *res = PQexec(superuser(), "SELECT c.oid::regclass::text FROM pg_class c"
                                        " JOIN pg_namespace n ON n.oid = c.relnamespace"
                                        " WHERE n.nspname IN " SCHEMAS
                                        " AND c.relkind IN ('r', 'p') ORDER BY 1");
    size_t used = 0;
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    for (int i = 0; i < PQntuples(res); i++) {
        const char *rel = PQgetvalue(res, i, 0);
        used += (size_t)snprintf(fingerprint_sql + used, sizeof(fingerprint_sql) - used,
                                 "SELECT '%s', " ROWS_HASH("%s") " UNION ALL ", rel, rel);
        ck_assert_msg(used < sizeof(fingerprint_sql), "too many tables to fingerprint");
    }
    PQclear(res);
    snprintf(fingerprint_sql + used, sizeof(fingerprint_sql) - used, "%s ORDER BY 1",
             catalog_hash_sql);
    ck_assert_msg(strlen(fingerprint_sql) + 1 < sizeof(fingerprint_sql), "fingerprint too long");
    fingerprint_take(&baseline);
    PQfinish(su);
    su = NULL;
}

/* Fails naming the attack and what changed unless the database is as before. */
static void fingerprint_same(const struct fingerprint *before, const char *attack)
{
    struct fingerprint now;
    fingerprint_take(&now);
    ck_assert_msg(now.n == before->n, "%s: the database has %d tables, it had %d", attack, now.n,
                  before->n);
    for (int i = 0; i < now.n; i++)
        ck_assert_msg(strcmp(now.name[i], before->name[i]) == 0 &&
                          strcmp(now.hash[i], before->hash[i]) == 0,
                      "ATTACK SUCCEEDED: after %s, %s is not as it was", attack, now.name[i]);
}

/*
 * The same against the TCase's baseline. (SQL attacks run in transactions
 * the suite rolls back, so that one success cannot spoil the tests after it;
 * this catches whatever outlives them.)
 */
static void fingerprint_unchanged(const char *attack)
{
    fingerprint_same(&baseline, attack);
}

/* The same for the one table a read or write attack touched: its rows as they were. */
static void table_unchanged(const char *rel, const char *attack)
{
    char sql[512];
    PGresult *res;
    int i;
    for (i = 0; i < baseline.n && strcmp(baseline.name[i], rel) != 0; i++)
        ;
    if (i == baseline.n)
        return; /* a view: it holds no rows of its own */
    snprintf(sql, sizeof(sql), "SELECT " ROWS_HASH("%s"), rel);
    res = PQexec(superuser(), sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    ck_assert_msg(strcmp(PQgetvalue(res, 0, 0), baseline.hash[i]) == 0,
                  "ATTACK SUCCEEDED: after %s, the rows of %s are not as they were", attack, rel);
    PQclear(res);
}

/* --------------------------------------------------------------- seed --- */

static long long seed_number(const char *fmt, ...) TEST_PRINTF(1, 2);
static void seed_exec(const char *fmt, ...) TEST_PRINTF(1, 2);

/* A one-value superuser query while seeding (its own connection: the parent keeps none). */
static long long seed_number(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    PGconn *c = tl_connect(db);
    long long v;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    v = tl_value(c, sql);
    PQfinish(c);
    ck_assert_msg(v > 0, "seeding: want a positive number from: %s (got %lld)", sql, v);
    return v;
}

static void seed_exec(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    PGconn *c = tl_connect(db);
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    tl_sql_ok(c, sql, 0, NULL);
    PQfinish(c);
}

/* The text of a one-value superuser query while seeding, into key's value. */
static void seed_value(const char *key, const char *sql)
{
    PGconn *c = tl_connect(db);
    PGresult *res = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                      !PQgetisnull(res, 0, 0),
                  "seeding %s: %s", key, PQresultErrorMessage(res));
    value_set(key, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
}

#define SEED(config, user, ...)                                                                    \
    ck_assert_msg(tl_run(&r, db, (config), TL_AS, (user), __VA_ARGS__, NULL) == 0,                 \
                  "seeding as %s: exit %d\n%.2000s%.2000s", (user), r.status, r.out, r.err)

/*
 * What a caseworker of agency x ('A' or 'B') records, all through the CLI: a
 * 15-year-old with a note, a consent, safe contact, a completed screening
 * that exchanged sex (mandatory reports to cw_ca and le_ca, with their outbox
 * rows) and a screening draft, then the agency's dispatcher runs with config
 * dcfg.
 */
static void seed_agency(char x, const char *dcfg)
{
    char worker[16], svc[16], title[64], note[96], family[32], pid[24], cid[24];
    long long agency = seed_number("SELECT id FROM casehost.agencies WHERE name = '%c'", x);
    snprintf(worker, sizeof(worker), "%c_worker", x + ('a' - 'A'));
    snprintf(svc, sizeof(svc), "%c_svc", x + ('a' - 'A'));
    snprintf(title, sizeof(title), "Runaway return (%c)", x);
    snprintf(note, sizeof(note), "Agency %c only: stays with an older 'boyfriend'", x);
    snprintf(family, sizeof(family), "Secret-%c", x);

    SEED(cfg, worker, "person", "add", "--given", "Jo", "--family", family, "--age-estimate", "15");
    snprintf(pid, sizeof(pid), "%lld",
             seed_number("SELECT max(id) FROM casehost.people WHERE agency_id = %lld", agency));
    SEED(cfg, worker, "case", "new", "--title", title, "--person", pid, "--state", "CA");
    snprintf(cid, sizeof(cid), "%lld",
             seed_number("SELECT max(id) FROM casehost.cases WHERE agency_id = %lld", agency));
    SEED(cfg, worker, "note", "add", cid, note);
    SEED(cfg, worker, "consent", "add", pid, "--purpose", "referral", "--recipients",
         "kind:law_enforcement", "--regime", "vawa_voca", "--expires", "2099-12-31");
    SEED(cfg, worker, "safety", "set", pid, "--safe-channels", "phone", "--phone", "555-0142",
         "--code-word", "bluebird", "--trafficker-controls-phone", "yes");
    SEED(cfg, worker, "screen", "start", cid, "--instrument", "youth_quick",
         "offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
         "exchanged_sex=yes");
    /* a screening again, half asked: its answers so far are the case's draft */
    SEED(cfg, worker, "screen", "step", cid, "--instrument", "youth_quick",
         "offer_not_as_promised=no");
    SEED(cfg, worker, "episode", "add", cid, "--from", "2024-01-01", "--kind", "sex", "--note",
         note);
    SEED(cfg, worker, "determination", "set", cid, "--level", "suspected", "--type", "sex",
         "--reason", note);
    SEED(dcfg, svc, "dispatch", "--once", "--backoff-ms", "60000");
}

/*
 * The host config: trafficking and testplug. The dispatcher writes cw_ca's
 * referrals to a spool in the test's directory, and le_ca's there too, or
 * (le_fails) to a command that fails, so that the row stays pending.
 */
static void write_config(char *out, size_t len, int le_fails)
{
    char spool[1100], le[1300], with[2800], plugins[8192];
    size_t used;
    snprintf(spool, sizeof(spool), "%s/%ld_redteam_spool", tl_env("CASEHOST_TEST_TMP"),
             (long)getpid());
    if (le_fails)
        snprintf(le, sizeof(le), "channel = \"command\"; command = \"exit 3\";");
    else
        snprintf(le, sizeof(le), "channel = \"spool\"; spool_dir = \"%s/le_ca\";", spool);
    snprintf(with, sizeof(with),
             "dispatch_targets = { cw_ca = { channel = \"spool\"; spool_dir = \"%s/cw_ca\"; };"
             " le_ca = { %s }; };",
             spool, le);
    snprintf(plugins, sizeof(plugins), "%s, ", tl_trafficking_with(with));
    used = strlen(plugins);
    snprintf(plugins + used, sizeof(plugins) - used, "%s", tl_testplug(""));
    snprintf(out, len, "%s", tl_config(plugins));
}

static void set_role_values(void)
{
    static const char *const users[][2] = {
        {"A_ROLE", "a_worker"}, {"A_SVC_ROLE", "a_svc"}, {"A_ADMIN_ROLE", "a_admin"},
        {"B_ROLE", "b_worker"}, {"B_SVC_ROLE", "b_svc"}, {"B_ADMIN_ROLE", "b_admin"},
    };
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
        value_set(users[i][0], "%s", tl_role(db, users[i][1]));
}

/*
 * Once for the whole suite, in the parent (an unchecked fixture of every
 * TCase; the forked tests inherit the values): one database where agencies A
 * and B both hold people, cases, notes, screenings with answers, consents,
 * safe contact, decisions, referrals with history and outbox rows.
 */
static void seed_once(void)
{
    static int state; /* 0 not yet, 1 begun (failed if seen again), 2 done */
    char b_dispatch[1024];
    PGconn *c;
    char *pw, sql[512];
    if (state == 2)
        return;
    ck_assert_msg(state == 0, "seeding failed before: see the first error");
    state = 1;
    snprintf(db, sizeof(db), "%s", tl_db_new());
    write_config(cfg, sizeof(cfg), 0);
    /* B's dispatcher fails to reach le_ca: that row stays pending. */
    write_config(b_dispatch, sizeof(b_dispatch), 1);
    tl_seed_agencies(db, cfg);
    c = tl_connect(db);
    for (size_t i = 0; i < N_RELATIONS; i++)
        relation_present[i] = in_catalog(c, relations[i].name, 0);
    for (size_t i = 0; i < N_FN_ATTACKS; i++)
        fn_present[i] = in_catalog(c, fn_attacks[i].fn, 1);
    /* Where configuration lives in the database, one generation must be live. */
    if (in_catalog(c, "casehost.config_generations", 0) &&
        tl_value(c, "SELECT count(*) FROM casehost.config_generations WHERE live") == 0) {
        char conf[1100];
        snprintf(conf, sizeof(conf), "%s/conf", tl_env("CASEHOST_TEST_ROOT"));
        ck_assert_msg(tl_run(&r, db, cfg, "config", "deploy", conf, NULL) == 0,
                      "config deploy: exit %d\n%.2000s%.2000s", r.status, r.out, r.err);
    }
    /* The trusted server's login (cluster-wide; other suites may do the same). */
    pw = PQescapeLiteral(c, tl_env("CASEHOST_TEST_PASSWORD"),
                         strlen(tl_env("CASEHOST_TEST_PASSWORD")));
    ck_assert(pw != NULL);
    snprintf(sql, sizeof(sql), "ALTER ROLE casehost_authenticator LOGIN PASSWORD %s", pw);
    PQfreemem(pw);
    tl_sql_ok(c, sql, 0, NULL);
    value_set("VERIFIER", "%s", tl_verifier(c));
    PQfinish(c);

    seed_agency('A', cfg);
    seed_agency('B', b_dispatch);
    value_set("A_AGENCY", "%lld", seed_number("SELECT id FROM casehost.agencies WHERE name = 'A'"));
    value_set("B_AGENCY", "%lld", seed_number("SELECT id FROM casehost.agencies WHERE name = 'B'"));
    seed_value("A_REFERRAL",
               "SELECT r.id FROM trafficking.referrals r JOIN casehost.agencies a"
               " ON a.id = r.agency_id WHERE a.name = 'A' AND destination_id = 'le_ca'");
    SEED(cfg, "a_worker", "referral", "ack", value("A_REFERRAL"), "--reference", "LE-1");

    static const struct {
        const char *key, *sql;
    } ids[] = {
        {"A_WORKER_ID", "SELECT id FROM casehost.users WHERE name = 'a_worker'"},
        {"A_SVC_ID", "SELECT id FROM casehost.users WHERE name = 'a_svc'"},
        {"B_WORKER_ID", "SELECT id FROM casehost.users WHERE name = 'b_worker'"},
        {"B_ADMIN_ID", "SELECT id FROM casehost.users WHERE name = 'b_admin'"},
        {"A_PERSON", "SELECT max(id) FROM casehost.people WHERE family_name = 'Secret-A'"},
        {"B_PERSON", "SELECT max(id) FROM casehost.people WHERE family_name = 'Secret-B'"},
        {"A_CASE", "SELECT max(id) FROM casehost.cases WHERE title = 'Runaway return (A)'"},
        {"B_CASE", "SELECT max(id) FROM casehost.cases WHERE title = 'Runaway return (B)'"},
        {"A_CASES", "SELECT string_agg(c.id::text, ',' ORDER BY c.id) FROM casehost.cases c"
                    " JOIN casehost.agencies a ON a.id = c.agency_id WHERE a.name = 'A'"},
        {"A_SCREENING", "SELECT s.id FROM trafficking.screenings s JOIN casehost.cases c"
                        " ON c.id = s.case_id WHERE c.title = 'Runaway return (A)'"},
        {"B_SCREENING", "SELECT s.id FROM trafficking.screenings s JOIN casehost.cases c"
                        " ON c.id = s.case_id WHERE c.title = 'Runaway return (B)'"},
        {"INSTRUMENT_VERSION", "SELECT s.instrument_version FROM trafficking.screenings s"
                               " JOIN casehost.cases c ON c.id = s.case_id"
                               " WHERE c.title = 'Runaway return (A)'"},
        {"INSTRUMENT_HASH", "SELECT s.instrument_hash FROM trafficking.screenings s"
                            " JOIN casehost.cases c ON c.id = s.case_id"
                            " WHERE c.title = 'Runaway return (A)'"},
        {"A_CONSENT", "SELECT k.id FROM trafficking.consents k JOIN casehost.people p"
                      " ON p.id = k.person_id WHERE p.family_name = 'Secret-A'"},
        {"B_CONSENT", "SELECT k.id FROM trafficking.consents k JOIN casehost.people p"
                      " ON p.id = k.person_id WHERE p.family_name = 'Secret-B'"},
        {"A_SENT_REFERRAL", "SELECT r.id FROM trafficking.referrals r JOIN casehost.cases c"
                            " ON c.id = r.case_id WHERE c.title = 'Runaway return (A)'"
                            " AND r.destination_id = 'cw_ca' AND r.state = 'sent'"},
        {"B_REFERRAL", "SELECT r.id FROM trafficking.referrals r JOIN casehost.cases c"
                       " ON c.id = r.case_id WHERE c.title = 'Runaway return (B)'"
                       " AND r.destination_id = 'cw_ca' AND r.state = 'sent'"},
        {"B_EPISODE", "SELECT e.id FROM trafficking.exploitation_episodes e JOIN casehost.cases c"
                      " ON c.id = e.case_id WHERE c.title = 'Runaway return (B)'"},
        {"B_QUEUED_REFERRAL", "SELECT r.id FROM trafficking.referrals r JOIN casehost.cases c"
                              " ON c.id = r.case_id WHERE c.title = 'Runaway return (B)'"
                              " AND r.destination_id = 'le_ca' AND r.state = 'queued'"},
        {"A_OUTBOX", "SELECT o.id FROM trafficking.outbox o JOIN casehost.agencies a"
                     " ON a.id = o.agency_id WHERE a.name = 'A' AND o.destination_id = 'cw_ca'"},
        {"B_OUTBOX", "SELECT o.id FROM trafficking.outbox o JOIN casehost.agencies a"
                     " ON a.id = o.agency_id WHERE a.name = 'B' AND o.state = 'pending'"},
        {"PREFIX", "SELECT role_prefix FROM casehost.installation"},
        {"OWNER", "SELECT relowner::regrole::text FROM pg_class"
                  " WHERE oid = 'casehost.cases'::regclass"},
        {"USERADMIN", "SELECT proowner::regrole::text FROM pg_proc"
                      " WHERE oid = 'casehost.role_admin_v1(text,name,text,text)'::regprocedure"},
        {"SUPERUSER", "SELECT current_user::text"},
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        seed_value(ids[i].key, ids[i].sql);
    set_role_values();
    value_set("NONE", "987654321");
    value_set("NO_USER", "nobody_here");
    value_set("NO_AGENCY", "Nowhere");
    value_set("B_AGENCY_NAME", "B");
    value_set("B_WORKER", "b_worker");
    value_set("B_SVC", "b_svc");
    value_set("PASSWORD_FILE", "%s", tl_password_file());
    value_set("CONF_DIR", "%s/conf", tl_env("CASEHOST_TEST_ROOT"));
    value_set("LIVE_HASH", "00000000");
    if (relation_present_named("casehost.config_generations"))
        seed_value("LIVE_HASH", "SELECT coalesce(min(hash), '00000000')"
                                " FROM casehost.config_generations WHERE live");

    /* B's case is linked to an RT ticket, so it owes the ticket a write. */
    if (relation_present_named("casehost.bridge_rt_outbox")) {
        seed_exec("INSERT INTO casehost.bridge_rt_tickets (agency_id, instance, ticket_id, case_id)"
                  " VALUES (%s, 'rt', 4242, %s)",
                  value("B_AGENCY"), value("B_CASE"));
        seed_value("B_RT_WRITE", "SELECT max(id) FROM casehost.bridge_rt_outbox");
    }
    /* B's draft is a month old, so that a purge reaching B would take it. */
    seed_exec("UPDATE trafficking.screening_drafts SET saved_at = now() - interval '40 days'"
              " WHERE case_id = %s",
              value("B_CASE"));
    /* B's sent referral is long overdue, so that a claim would take it... */
    seed_exec("UPDATE trafficking.referrals SET sent_at = now() - interval '30 days'"
              " WHERE id = %s",
              value("B_REFERRAL"));
    /* ... and B's le_ca row is due, while A has nothing to claim or take. */
    seed_exec("UPDATE trafficking.outbox SET next_attempt_at = now() - interval '1 minute'"
              " WHERE id = %s",
              value("B_OUTBOX"));
    seed_number("SELECT count(*) FROM trafficking.outbox WHERE id = %s AND state = 'pending'"
                " AND next_attempt_at <= now()",
                value("B_OUTBOX"));
    ck_assert_int_eq(seed_number("SELECT 1 + count(*) FROM trafficking.outbox o"
                                 " WHERE o.agency_id = %s AND o.state = 'pending'",
                                 value("A_AGENCY")),
                     1);
    /* Each agency has a notice to people (014): B's is due, A's was sent. */
    if (relation_present_named("trafficking.notices")) {
        seed_exec("SELECT trafficking.notice_queue(r, 'held', 'redteam', 'redteam', true, NULL)"
                  "  FROM trafficking.referrals r WHERE r.id IN (%s, %s)",
                  value("A_SENT_REFERRAL"), value("B_REFERRAL"));
        seed_exec("UPDATE trafficking.notices SET state = 'sent', sent_at = now()"
                  " WHERE agency_id = %s",
                  value("A_AGENCY"));
    }
    /* Both agencies have history past queued: sent, and for A acknowledged. */
    seed_number("SELECT count(*) FROM trafficking.referral_history WHERE to_state = 'sent'"
                " AND agency_id = %s",
                value("B_AGENCY"));
    seed_number("SELECT count(*) FROM trafficking.referral_history"
                " WHERE to_state = 'acknowledged' AND agency_id = %s",
                value("A_AGENCY"));
    state = 2;
}

/* ------------------------------------------------------------ catalog --- */

/* Each row of query (as the superuser) that is not covered, joined by ", " into out. */
static int uncovered(const char *query, int (*covered)(const char *name), char *out, size_t len)
{
    PGresult *res = PQexec(superuser(), query);
    int n = 0;
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    out[0] = '\0';
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);
        if (covered != NULL && covered(name))
            continue;
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", n++ ? ", " : "", name);
    }
    PQclear(res);
    return n;
}

static int relation_covered(const char *name)
{
    for (size_t i = 0; i < N_RELATIONS; i++)
        if (strcmp(relations[i].name, name) == 0)
            return 1;
    return 0;
}

static int function_covered(const char *name)
{
    for (size_t i = 0; i < N_FN_ATTACKS; i++)
        if (strcmp(fn_attacks[i].fn, name) == 0)
            return 1;
    return 0;
}

START_TEST(every_table_and_view_has_read_and_write_attacks)
{
    char missing[8192];
    int n = uncovered("SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n"
                      " ON n.oid = c.relnamespace WHERE n.nspname IN " SCHEMAS
                      " AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1",
                      relation_covered, missing, sizeof(missing));
    ck_assert_msg(n == 0,
                  "%d tables or views have no entry in redteam_attacks.h relations[]: %.3000s", n,
                  missing);
}
END_TEST

START_TEST(every_security_definer_function_has_an_attack)
{
    char missing[8192];
    int n = uncovered("SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n"
                      " ON n.oid = p.pronamespace WHERE n.nspname IN " SCHEMAS
                      " AND p.prosecdef ORDER BY 1",
                      function_covered, missing, sizeof(missing));
    ck_assert_msg(n == 0,
                  "%d SECURITY DEFINER functions have no entry in redteam_attacks.h "
                  "fn_attacks[]: %.3000s",
                  n, missing);
}
END_TEST

/* Catalog facts that must list nothing, each with what it means. */
static const struct {
    const char *name;
    const char *query;
} catalog_rules[] = {
    {"every table with agency_id forces row-level security",
     "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
     " WHERE n.nspname IN " SCHEMAS " AND c.relkind IN ('r', 'p')"
     " AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
     " AND a.attname = 'agency_id' AND NOT a.attisdropped)"
     " AND NOT (c.relrowsecurity AND c.relforcerowsecurity) ORDER BY 1"},
    {"no person, service, server login or PUBLIC may write any table",
     "SELECT c.oid::regclass::text || ' ' || g.r || ' ' || p.p FROM pg_class c"
     " JOIN pg_namespace n ON n.oid = c.relnamespace,"
     " (SELECT rolname::text FROM pg_roles WHERE rolname IN ('casehost_app', 'casehost_service',"
     " 'casehost_authenticator') OR starts_with(rolname, (SELECT role_prefix"
     " FROM casehost.installation)) UNION ALL SELECT 'public') g(r),"
     " (VALUES ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE'), ('REFERENCES'), ('TRIGGER')) p(p)"
     " WHERE n.nspname IN " SCHEMAS " AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
     " AND (has_table_privilege(g.r, c.oid, p.p) OR (p.p IN ('INSERT', 'UPDATE', 'REFERENCES')"
     " AND has_any_column_privilege(g.r, c.oid, p.p))) ORDER BY 1"},
    {"no function of the schemas is executable by PUBLIC",
     "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
     " WHERE n.nspname IN " SCHEMAS " AND has_function_privilege('public', p.oid, 'EXECUTE')"
     " ORDER BY 1"},
    {"every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp",
     "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
     " WHERE n.nspname IN " SCHEMAS " AND p.prosecdef"
     " AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)"
     " ORDER BY 1"},
    {"every object of the schemas has the one owner of casehost.cases (role_admin_v1, "
     "screening_version_counts and taskforce_cells their own)",
     "SELECT c.oid::regclass::text || ' ' || c.relowner::regrole::text FROM pg_class c"
     " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN " SCHEMAS
     " AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')"
     " AND c.relowner <> (SELECT relowner FROM pg_class WHERE oid = 'casehost.cases'::regclass)"
     " UNION ALL SELECT p.oid::regprocedure::text || ' ' || p.proowner::regrole::text"
     " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN " SCHEMAS
     " AND p.proname <> 'role_admin_v1'"
     " AND p.oid::regprocedure::text NOT IN ('trafficking.screening_version_counts()',"
     " 'trafficking.taskforce_cells(date,date,text,text)')"
     " AND p.proowner <> (SELECT relowner FROM pg_class WHERE oid = 'casehost.cases'::regclass)"
     " ORDER BY 1"},
    {"the owners are NOLOGIN, neither superuser nor BYPASSRLS, and only role_admin_v1's "
     "may create roles",
     "SELECT o.rolname FROM pg_roles o WHERE o.oid IN ((SELECT relowner FROM pg_class"
     " WHERE oid = 'casehost.cases'::regclass), (SELECT proowner FROM pg_proc"
     " WHERE oid = 'casehost.role_admin_v1(text,name,text,text)'::regprocedure),"
     " (SELECT proowner FROM pg_proc"
     " WHERE oid = to_regprocedure('trafficking.screening_version_counts()')),"
     " (SELECT proowner FROM pg_proc"
     " WHERE oid = to_regprocedure('trafficking.taskforce_cells(date,date,text,text)')))"
     " AND (o.rolcanlogin OR o.rolsuper OR o.rolbypassrls OR (o.rolcreaterole"
     " AND o.oid <> (SELECT proowner FROM pg_proc"
     " WHERE oid = 'casehost.role_admin_v1(text,name,text,text)'::regprocedure)))"},
    {"the counter of screening versions (011) reads three columns of trafficking.screenings,"
     " owns one function and has no member",
     "SELECT 'table ' || c.oid::regclass::text || ' ' || p.p FROM pg_class c"
     " JOIN pg_namespace n ON n.oid = c.relnamespace,"
     " (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE'), ('REFERENCES'),"
     " ('TRIGGER')) p(p) WHERE n.nspname IN " SCHEMAS " AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
     " AND has_table_privilege('casehost_trafficking_counter', c.oid, p.p)"
     " UNION ALL SELECT 'column ' || a.attrelid::regclass::text || '.' || a.attname"
     " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
     " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN " SCHEMAS
     " AND a.attnum > 0 AND NOT a.attisdropped"
     " AND has_column_privilege('casehost_trafficking_counter', a.attrelid, a.attnum,"
     " 'SELECT, INSERT, UPDATE, REFERENCES')"
     " AND NOT (a.attrelid = 'trafficking.screenings'::regclass"
     " AND a.attname IN ('instrument_id', 'instrument_version', 'state')"
     " AND NOT has_column_privilege('casehost_trafficking_counter', a.attrelid, a.attnum,"
     " 'INSERT, UPDATE, REFERENCES'))"
     " UNION ALL SELECT 'owns ' || p.oid::regprocedure::text FROM pg_proc p"
     " WHERE p.proowner = 'casehost_trafficking_counter'::regrole"
     " AND p.oid::regprocedure::text <> 'trafficking.screening_version_counts()'"
     " UNION ALL SELECT 'member ' || m.member::regrole::text FROM pg_auth_members m"
     " WHERE m.roleid = 'casehost_trafficking_counter'::regrole"
     " UNION ALL SELECT 'executes ' || p.oid::regprocedure::text FROM pg_proc p"
     " WHERE p.oid = to_regprocedure('trafficking.screening_version_counts()')"
     " AND (has_function_privilege('casehost_app', p.oid, 'EXECUTE')"
     " OR has_function_privilege('casehost_service', p.oid, 'EXECUTE'))"
     " ORDER BY 1"},
    {"the owners of SECURITY DEFINER functions are neither superuser nor BYPASSRLS",
     "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
     " JOIN pg_roles o ON o.oid = p.proowner WHERE n.nspname IN " SCHEMAS
     " AND p.prosecdef AND (o.rolsuper OR o.rolbypassrls) ORDER BY 1"},
    {"no person or service role holds an attribute beyond LOGIN",
     "SELECT rolname FROM pg_roles WHERE starts_with(rolname,"
     " (SELECT role_prefix FROM casehost.installation))"
     " AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication)"
     " ORDER BY 1"},
    {"no person, service or server login may create in the database or any schema",
     "SELECT r.rolname || ' ' || coalesce(n.nspname, 'the database') FROM pg_roles r"
     " LEFT JOIN pg_namespace n ON n.nspname NOT LIKE 'pg\\_%'"
     " AND n.nspname <> 'information_schema' AND has_schema_privilege(r.oid, n.oid, 'CREATE')"
     " WHERE (starts_with(r.rolname, (SELECT role_prefix FROM casehost.installation))"
     " OR r.rolname IN ('casehost_app', 'casehost_service', 'casehost_authenticator'))"
     " AND (n.oid IS NOT NULL"
     " OR has_database_privilege(r.oid, current_database(), 'CREATE')) ORDER BY 1"},
    {"the authenticator inherits nothing and is granted no service and no project role",
     "SELECT 'authenticator inherits' FROM pg_roles"
     " WHERE rolname = 'casehost_authenticator' AND rolinherit"
     " UNION ALL SELECT m.roleid::regrole::text FROM pg_auth_members m"
     " JOIN pg_roles g ON g.oid = m.roleid JOIN casehost.identities i ON i.db_role = g.rolname"
     " WHERE m.member = 'casehost_authenticator'::regrole AND i.kind = 'service'"
     " UNION ALL SELECT m.roleid::regrole::text FROM pg_auth_members m"
     " WHERE m.member = 'casehost_authenticator'::regrole"
     " AND m.roleid::regrole::text LIKE 'casehost%' ORDER BY 1"},
};
#define N_CATALOG_RULES (sizeof(catalog_rules) / sizeof(catalog_rules[0]))

static void catalog_rule(int i)
{
    char found[8192];
    int n = uncovered(catalog_rules[i].query, NULL, found, sizeof(found));
    ck_assert_msg(n == 0, "not so: %s; %d found: %.3000s", catalog_rules[i].name, n, found);
}

/* -------------------------------------------------------------- reads --- */

/* relation rel as attacker who: its own rows or a refusal, never one of agency B's. */
static void read_attack(int i)
{
    const struct relation *t = &relations[i / N_WHO];
    enum who w = (enum who)(i % N_WHO);
    char sql[2048], where[512], attack[256];
    struct outcome o;
    PGconn *c;
    if (!relation_present[i / N_WHO])
        return; /* not in this schema version */
    c = attacker(w);
    snprintf(attack, sizeof(attack), "%s reading %s", who_user[w], t->name);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", t->name);
    attempt_undone(c, sql, &o);
    switch (t->read[w]) {
    case 'd':
        ck_assert_msg(o.refused && strcmp(o.sqlstate, "42501") == 0,
                      "%s: NOT REFUSED (%s rows; %s)", attack, o.value, o.message);
        break;
    case 's':
        ck_assert_msg(!o.refused, "%s: shared rows refused: %s", attack, o.message);
        break;
    default:
        ck_assert_msg(!o.refused && strcmp(o.value, "0") != 0,
                      "%s: sees none of its own agency's rows (%s%s)", attack, o.value, o.message);
        expand(where, sizeof(where), t->b_rows, NULL);
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s", t->name, where);
        ck_assert_msg(su_number(sql) > 0, "%s: agency B has no rows to hide (seeding)", attack);
        attempt_undone(c, sql, &o);
        ck_assert_msg(!o.refused && strcmp(o.value, "0") == 0, "%s: SEES %s ROWS OF AGENCY B (%s)",
                      attack, o.value, o.message);
    }
    table_unchanged(t->name, attack);
}

/* -------------------------------------------------------------- writes --- */

/*
 * The first column a plain UPDATE may name: not an identity or generated
 * one, nor (in a view) a column that shows one of its table's identity
 * columns, which PostgreSQL refuses before it looks at any grant.
 */
static void first_column(const char *rel, char *out, size_t len)
{
    const char *p[1] = {rel};
    PGresult *res = PQexecParams(superuser(),
                                 "SELECT quote_ident(a.attname) FROM pg_attribute a"
                                 " WHERE a.attrelid = to_regclass($1) AND a.attnum > 0"
                                 " AND NOT a.attisdropped AND a.attidentity = ''"
                                 " AND a.attgenerated = '' AND NOT EXISTS (SELECT 1"
                                 " FROM pg_rewrite w JOIN pg_depend d ON d.objid = w.oid"
                                 " AND d.classid = 'pg_rewrite'::regclass"
                                 " JOIN pg_attribute b ON b.attrelid = d.refobjid"
                                 " AND b.attnum = d.refobjsubid"
                                 " WHERE w.ev_class = a.attrelid AND b.attname = a.attname"
                                 " AND (b.attidentity <> '' OR b.attgenerated <> ''))"
                                 " ORDER BY a.attnum LIMIT 1",
                                 1, NULL, p, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", rel,
                  PQresultErrorMessage(res));
    snprintf(out, len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* 1 when rel is a view. */
static int is_view(const char *rel)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pg_class WHERE oid = to_regclass('%s') AND relkind = 'v'", rel);
    return su_number(sql) > 0;
}

/*
 * INSERT, UPDATE, DELETE and TRUNCATE (which row-level security does not
 * filter) on every relation, as a caseworker and as a service: refused as
 * insufficient_privilege. (An admin holds the same grants; the catalog rules
 * check every person's and service's role directly.)
 */
#define N_WRITERS 2
static void write_attack(int i)
{
    const struct relation *t = &relations[i / (N_WRITERS * N_OPS)];
    enum who w = (enum who)(i / N_OPS % N_WRITERS);
    enum write_op op = (enum write_op)(i % N_OPS);
    char sql[2048], where[600] = "", col[128], attack[256];
    const char *want;
    struct outcome o;
    PGconn *c;
    if (!relation_present[i / (N_WRITERS * N_OPS)])
        return;
    c = attacker(w);
    snprintf(attack, sizeof(attack), "%s %s %s", who_user[w], op_name[op], t->name);
    if (t->b_rows != NULL) {
        char b[512];
        expand(b, sizeof(b), t->b_rows, NULL);
        snprintf(where, sizeof(where), " WHERE %s", b);
    }
    switch (op) {
    case OP_INSERT:
        snprintf(sql, sizeof(sql), "INSERT INTO %s DEFAULT VALUES", t->name);
        break;
    case OP_UPDATE:
        first_column(t->name, col, sizeof(col));
        snprintf(sql, sizeof(sql), "UPDATE %s SET %s = %s%s", t->name, col, col, where);
        break;
    case OP_DELETE:
        snprintf(sql, sizeof(sql), "DELETE FROM %s%s", t->name, where);
        break;
    default:
        snprintf(sql, sizeof(sql), "TRUNCATE %s", t->name);
    }
    attempt_undone(c, sql, &o);
    ck_assert_msg(o.refused, "%s: NOT REFUSED", attack);
    /* A view has no rows to truncate: PostgreSQL says so (wrong_object_type) before any grant. */
    want = op == OP_TRUNCATE && is_view(t->name) ? "42809" : "42501";
    ck_assert_msg(strcmp(o.sqlstate, want) == 0, "%s: refused with %s (%s), want %s", attack,
                  o.sqlstate, o.message, want);
    table_unchanged(t->name, attack);
}

/* ----------------------------------------------------- identity tricks --- */

/* Reads that would show agency B if identity were fooled; each must give 0 or be refused. */
static const char *const b_probes[] = {
    "SELECT count(*) FROM casehost.whoami_v1() WHERE agency_id = {{B_AGENCY}}",
    "SELECT count(*) FROM trafficking.answers_of_v1({{B_SCREENING}})",
    "SELECT count(*) FROM trafficking.consents_of_v1({{B_PERSON}})",
    "SELECT count(*) FROM trafficking.safe_contact_of_v1({{B_PERSON}})",
    "SELECT count(*) FROM trafficking.case_facts_v1({{B_CASE}}) j WHERE j IS NOT NULL",
    "SELECT count(*) FROM trafficking.ledger_of_v1({{B_CASE}})",
    "SELECT count(*) FROM trafficking.declines_of_v1({{B_PERSON}})",
    "SELECT count(*) FROM trafficking.episodes_v1({{B_CASE}})",
    "SELECT count(*) FROM trafficking.determinations_v1({{B_CASE}})",
    "SELECT count(*) FROM trafficking.screening_draft_of_v1({{B_CASE}}, NULL)",
    "SELECT count(*) FROM trafficking.screening_drafts_v1({{B_CASE}})",
    "SELECT count(*) FROM trafficking.outbox_take_v1()",
    "SELECT count(*) FROM trafficking.outbox_consent_v1({{B_CONSENT}})",
};

/* sql in c; inside an open transaction, in a savepoint so that a refusal does not end it. */
static void look(PGconn *c, const char *sql, struct outcome *o)
{
    int in_tx = PQtransactionStatus(c) == PQTRANS_INTRANS;
    if (in_tx)
        PQclear(PQexec(c, "SAVEPOINT look"));
    attempt(c, sql, o);
    if (in_tx)
        PQclear(PQexec(c, o->refused ? "ROLLBACK TO SAVEPOINT look" : "RELEASE SAVEPOINT look"));
}

/*
 * What c shows of agency B: "" when nothing, else what it saw. The session
 * must still be the attacker (or its group), and every agency table, audited
 * read and service read must give B's rows as 0 or refuse.
 */
static void what_b_shows(PGconn *c, char *out, size_t len)
{
    char sql[2048], where[512], me[160];
    struct outcome o;
    out[0] = '\0';
    look(c, "SELECT session_user || ' ' || current_user", &o);
    snprintf(me, sizeof(me), "%s %s", value("ME"), value("ME"));
    if (o.refused || (strcmp(o.value, me) != 0 &&
                      !(strncmp(o.value, me, strlen(value("ME")) + 1) == 0 &&
                        strcmp(o.value + strlen(value("ME")) + 1, value("GROUP")) == 0))) {
        snprintf(out, len, "the session is now '%.200s' (%.500s)", o.value, o.message);
        return;
    }
    for (size_t i = 0; i < N_RELATIONS; i++) {
        if (relations[i].b_rows == NULL || !relation_present[i])
            continue;
        expand(where, sizeof(where), relations[i].b_rows, NULL);
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s", relations[i].name, where);
        look(c, sql, &o);
        if (!o.refused && strcmp(o.value, "0") != 0) {
            snprintf(out, len, "%.20s rows of agency B in %.200s", o.value, relations[i].name);
            return;
        }
    }
    for (size_t i = 0; i < sizeof(b_probes) / sizeof(b_probes[0]); i++) {
        expand(sql, sizeof(sql), b_probes[i], NULL);
        look(c, sql, &o);
        if (!o.refused && strcmp(o.value, "0") != 0) {
            snprintf(out, len, "%.20s from %.900s", o.value, sql);
            return;
        }
    }
}

static void trick_attack(int i)
{
    const struct trick *t = &tricks[i / N_WHO];
    enum who w = (enum who)(i % N_WHO);
    char sql[4096], attack[256], shown[1024];
    struct outcome o;
    PGconn *c = attacker(w);
    snprintf(attack, sizeof(attack), "%s playing '%s'", who_user[w], t->name);
    expand(sql, sizeof(sql), t->sql, NULL);
    attempt(c, sql, &o);
    if (PQtransactionStatus(c) == PQTRANS_INERROR)
        roll_back(c);
    if (t->relogin) {
        /* (its login would warn of the setting it cannot apply: not news) */
        char conninfo[1400];
        snprintf(conninfo, sizeof(conninfo), "%s options='-c client_min_messages=error'",
                 tl_user_db(db, who_user[w]));
        PQfinish(att);
        c = att = tl_connect(conninfo);
        PQsetNoticeProcessor(att, quiet, NULL);
    }
    what_b_shows(c, shown, sizeof(shown));
    roll_back(c);
    PQfinish(att); /* its temporary objects go with it */
    att = NULL;
    /* Undo before judging, so that one success does not spoil the next tests. */
    if (t->undo != NULL) {
        PGresult *res;
        expand(sql, sizeof(sql), t->undo, NULL);
        res = PQexec(superuser(), sql);
        ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "undo %s: %s", sql,
                      PQresultErrorMessage(res));
        PQclear(res);
    }
    ck_assert_msg(shown[0] == '\0', "ATTACK SUCCEEDED: %s: %s", attack, shown);
    fingerprint_unchanged(attack);
}

/* ----------------------------------------------------------- functions --- */

/* An attack on a function: with an id, again with one that does not exist; the same end. */
static void run_fn_attack(const struct fn_attack *a)
{
    char attack[256];
    PGconn *c;
    c = attacker(a->who);
    snprintf(attack, sizeof(attack), "%s calling %s", who_user[a->who], a->name);
    if (a->id_key == NULL) {
        play(c, attack, a->sql, NULL, &a->expect);
    } else {
        char none[512];
        play(c, attack, a->sql, value(a->id_key), &a->expect);
        snprintf(none, sizeof(none), "%.250s (with %.100s, which does not exist)", attack,
                 value(a->none_key != NULL ? a->none_key : "NONE"));
        play(c, none, a->sql, value(a->none_key != NULL ? a->none_key : "NONE"), &a->expect);
    }
    fingerprint_unchanged(attack);
}

static void fn_attack(int i)
{
    if (fn_present[i])
        run_fn_attack(&fn_attacks[i]);
}

/* ----------------------------------------------------------------- CLI --- */

/* Runs attack a's command line with {{ID}} = id as its attacker; returns the exit status. */
static int cli_run(const struct cli_attack *a, const char *id)
{
    char buf[12][512];
    const char *argv[12];
    for (int k = 0; k < 12; k++) {
        argv[k] = NULL;
        if (a->argv[k] != NULL) {
            expand(buf[k], sizeof(buf[k]), a->argv[k], id);
            argv[k] = buf[k];
        }
    }
    return tl_run(&r, db, cfg, TL_AS, who_user[a->who], argv[0], argv[1], argv[2], argv[3], argv[4],
                  argv[5], argv[6], argv[7], argv[8], argv[9], argv[10], argv[11], NULL);
}

static void cli_attack(int i)
{
    const struct cli_attack *a = &cli_attacks[i];
    static char err[sizeof(r.err)], want[sizeof(r.err) + 1024];
    char attack[256], part[1024];
    const char *id = a->id_key != NULL ? value(a->id_key) : NULL;
    struct fingerprint before; /* a command commits: compare with just before it */
    fingerprint_take(&before);
    snprintf(attack, sizeof(attack), "%s running '%s'", who_user[a->who], a->name);
    ck_assert_msg(cli_run(a, id) == a->status,
                  "%s: exit %d, want %d\nstdout: %.1500s\nstderr: %.1500s", attack, r.status,
                  a->status, r.out, r.err);
    if (a->err != NULL) {
        expand(part, sizeof(part), a->err, id);
        ck_assert_msg(strstr(r.err, part) != NULL, "%s: want '%s' in stderr:\n%.3000s", attack,
                      part, r.err);
    }
    if (a->absent != NULL) {
        expand(part, sizeof(part), a->absent, id);
        ck_assert_msg(strstr(r.out, part) == NULL, "%s: SHOWS AGENCY B ('%s'):\n%.3000s", attack,
                      part, r.out);
    }
    if (id != NULL) {
        const char *none = value(a->none_key != NULL ? a->none_key : "NONE");
        snprintf(err, sizeof(err), "%s", r.err);
        ck_assert_msg(cli_run(a, none) == a->status, "%s with %s: exit %d, want %d\n%.3000s",
                      attack, none, r.status, a->status, r.err);
        replace_all(want, sizeof(want), r.err, none, id);
        ck_assert_msg(strcmp(err, want) == 0,
                      "%s: reads differently from the same command on %s, which does not "
                      "exist:\n  %.1500s\nwant\n  %.1500s",
                      attack, none, err, want);
    }
    fingerprint_same(&before, attack);
}

/* ------------------------------------------------------- authenticator --- */

static void authenticator_step(int i)
{
    const struct auth_step *s = &auth_steps[i];
    char attack[256];
    PGconn *c = authenticator();
    snprintf(attack, sizeof(attack), "casehost_authenticator: %s", s->name);
    play(c, attack, s->sql, NULL, &s->expect);
    fingerprint_unchanged(attack);
}

/* Runs "BEGIN; SET LOCAL ROLE role; sql" as the authenticator and checks e. */
static void as_server(const char *role, const char *sql, const struct expect *e)
{
    char text[1024];
    snprintf(text, sizeof(text), "BEGIN; SET LOCAL ROLE %s; %s", role, sql);
    play(authenticator(), text, text, NULL, e);
}

START_TEST(a_disabled_users_role_can_still_be_set_but_is_nobody)
{
    const struct expect me = VALUE("a_gone"), none = VALUE("0"), nothing = VALUE("0");
    const struct expect no_case = REFUSED("case {{GONE_CASE}} not found");
    const struct expect no_user = REFUSED("no acting user");
    char role[128], sql[256];
    PGconn *c;
    tl_add_user(db, "a_admin", "a_gone", "caseworker", "A");
    snprintf(role, sizeof(role), "%s", tl_role(db, "a_gone"));
    c = tl_as_app(db, "a_gone");
    value_set("GONE_CASE", "%lld",
              tl_value(c, "SELECT casehost.case_new('{\"title\": \"Left\"}')"));
    PQfinish(c);
    as_server(role, "SELECT user_name FROM casehost.whoami_v1()", &me);

    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_admin", "user", "disable", "a_gone", NULL) == 0,
                  "user disable: exit %d\n%.2000s", r.status, r.err);
    as_server(role, "SELECT count(*) FROM casehost.whoami_v1()", &none);
    as_server(role, "SELECT count(*) FROM casehost.cases", &nothing);
    snprintf(sql, sizeof(sql), "SELECT casehost.note_add(%s, 'x')", value("GONE_CASE"));
    as_server(role, sql, &no_case);
    as_server(role, "SELECT casehost.case_new('{\"title\": \"x\"}')", &no_user);
    /* and the role no longer logs in itself */
    c = PQconnectdb(tl_user_db(db, "a_gone"));
    ck_assert_msg(PQstatus(c) != CONNECTION_OK, "a disabled user's role still logs in");
    PQfinish(c);
}
END_TEST

/* ---------------------------------------------------------- visibility --- */

/* A's cases become visible only to those who hold or made them; a_admin makes one. */
static void hide_a_case(void)
{
    seed_once();
    SEED(cfg, "a_admin", "agency", "set", "--case-visibility", "assigned");
    SEED(cfg, "a_admin", "case", "new", "--title", "Hidden from a_worker");
    value_set("HIDDEN_CASE", "%lld",
              seed_number("SELECT id FROM casehost.cases WHERE title = 'Hidden from a_worker'"));
    SEED(cfg, "a_admin", "note", "add", value("HIDDEN_CASE"), "for the admin's eyes");
}

static void unhide(void)
{
    SEED(cfg, "a_admin", "agency", "set", "--case-visibility", "agency");
}

static void hidden_attack(int i)
{
    run_fn_attack(&hidden_attacks[i]);
}

/* --------------------------------------------------------------- suite --- */

/* Data-driven tests, each with its own name (Check prints it), kept for the run. */
#define MAX_TESTS 1600
static TTest ttests[MAX_TESTS];
static char tnames[MAX_TESTS][200];
static int n_ttests;

static void add_named(TCase *tc, TFun fn, int index, const char *fmt, ...) TEST_PRINTF(4, 5);

static void add_named(TCase *tc, TFun fn, int index, const char *fmt, ...)
{
    va_list ap;
    if (n_ttests == MAX_TESTS) {
        fprintf(stderr, "check_redteam: more than %d tests\n", MAX_TESTS);
        exit(EXIT_FAILURE);
    }
    va_start(ap, fmt);
    vsnprintf(tnames[n_ttests], sizeof(tnames[0]), fmt, ap);
    va_end(ap);
    ttests[n_ttests] = (TTest){tnames[n_ttests], fn, __FILE__, __LINE__};
    _tcase_add_test(tc, &ttests[n_ttests], 0, 0, index, index + 1);
    n_ttests++;
}

/* The runner's pid: a test with another one runs in a forked child. */
static pid_t runner;

/*
 * After a test that passed. A forked test then ends without the leak check
 * at exit: under ASan it costs about 45 ms a test, as much as the attack and
 * its checks together. The parent (which seeds) and every casehost run keep
 * theirs.
 */
static void end_test(void)
{
    disconnect();
    if (getpid() != runner) {
        fflush(NULL);
        _exit(EXIT_SUCCESS);
    }
}

static TCase *tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_unchecked_fixture(tc, seed_once, NULL);
    tcase_add_unchecked_fixture(tc, baseline_take, NULL);
    tcase_add_checked_fixture(tc, NULL, end_test);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return tc;
}

static const char *const read_words[] = {"its own rows, none of agency B's", "permission denied",
                                         "shared rows only"};

static Suite *redteam_suite(void)
{
    Suite *s = suite_create("redteam");
    TCase *tc;
    runner = getpid();
    tc = tcase(s, "catalog");
    tcase_add_test(tc, every_table_and_view_has_read_and_write_attacks);
    tcase_add_test(tc, every_security_definer_function_has_an_attack);
    for (size_t i = 0; i < N_CATALOG_RULES; i++)
        add_named(tc, catalog_rule, (int)i, "%s", catalog_rules[i].name);

    tc = tcase(s, "read");
    for (size_t i = 0; i < N_RELATIONS; i++)
        for (int w = 0; w < N_WHO; w++) {
            char k = relations[i].read[w];
            add_named(tc, read_attack, (int)i * N_WHO + w, "%s SELECT %s gets %s", who_user[w],
                      relations[i].name,
                      read_words[k == 'z'   ? 0
                                 : k == 'd' ? 1
                                            : 2]);
        }

    tc = tcase(s, "write");
    for (size_t i = 0; i < N_RELATIONS; i++)
        for (int w = 0; w < N_WRITERS; w++)
            for (int op = 0; op < N_OPS; op++)
                add_named(tc, write_attack, ((int)i * N_WRITERS + w) * N_OPS + op,
                          "%s %s %s is refused", who_user[w], op_name[op], relations[i].name);

    tc = tcase(s, "identity");
    for (size_t i = 0; i < N_TRICKS; i++)
        for (int w = 0; w < N_WHO; w++)
            add_named(tc, trick_attack, (int)i * N_WHO + w,
                      "%s plays '%s' and agency B stays invisible", who_user[w], tricks[i].name);

    tc = tcase(s, "functions");
    for (size_t i = 0; i < N_FN_ATTACKS; i++)
        add_named(tc, fn_attack, (int)i, "%s calls %s and is refused", who_user[fn_attacks[i].who],
                  fn_attacks[i].name);

    tc = tcase(s, "cli");
    tcase_set_timeout(tc, 120);
    for (size_t i = 0; i < N_CLI_ATTACKS; i++)
        add_named(tc, cli_attack, (int)i, "%s runs '%s' and is refused",
                  who_user[cli_attacks[i].who], cli_attacks[i].name);

    tc = tcase(s, "authenticator");
    for (size_t i = 0; i < N_AUTH_STEPS; i++)
        add_named(tc, authenticator_step, (int)i, "casehost_authenticator - %s",
                  auth_steps[i].name);
    tcase_add_test(tc, a_disabled_users_role_can_still_be_set_but_is_nobody);

    /* Last: it changes agency A's settings for its own tests. */
    tc = tcase_create("visibility");
    tcase_add_unchecked_fixture(tc, hide_a_case, unhide);
    tcase_add_unchecked_fixture(tc, baseline_take, NULL);
    tcase_add_checked_fixture(tc, NULL, end_test);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    for (size_t i = 0; i < N_HIDDEN_ATTACKS; i++)
        add_named(tc, hidden_attack, (int)i, "case_visibility assigned - %s %s",
                  who_user[hidden_attacks[i].who], hidden_attacks[i].name);
    return s;
}

CHECK_MAIN(redteam_suite())
