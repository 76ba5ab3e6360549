/*
 * migrate.c: the migration runner behind `casehost db migrate|status`.
 * Migration files are trusted code shipped with the program, so they run as
 * whole scripts; nothing user-supplied is ever put into them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "migrate.h"

struct mfile {
    char component[65];
    char name[256];
    char *path;
    char *text; /* loaded on demand */
};

struct mlist {
    struct mfile *v;
    size_t n, cap;
};

static const char bootstrap_sql[] =
    "CREATE SCHEMA IF NOT EXISTS casehost;"
    "CREATE TABLE IF NOT EXISTS casehost.schema_migrations ("
    "  component text NOT NULL, name text NOT NULL, checksum text NOT NULL,"
    "  applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, name))";

/* Serialises concurrent `db migrate` runs against one database. */
static const char lock_sql[] = "SELECT pg_advisory_lock(hashtext('casehost.migrate'))";
static const char unlock_sql[] = "SELECT pg_advisory_unlock(hashtext('casehost.migrate'))";

static const char applied_sql[] = "SELECT checksum, applied_at FROM casehost.schema_migrations "
                                  "WHERE component = $1 AND name = $2";
/*
 * After every migration, once the core has defined it: the objects the
 * migration created pass to the NOLOGIN, non-superuser casehost_definer, so
 * that SECURITY DEFINER functions are subject to row-level security even
 * when a superuser ran the migration.
 */
static const char adopt_sql[] =
    "DO $$ BEGIN IF to_regprocedure('casehost.adopt_v1()') IS NOT NULL THEN"
    " PERFORM casehost.adopt_v1(); END IF; END $$";
static const char checksum_sql[] = "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')";
static const char record_sql[] =
    "INSERT INTO casehost.schema_migrations (component, name, checksum) "
    "VALUES ($1, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'))";

static int is_migration_name(const char *n)
{
    size_t len = strlen(n);
    return len > 8 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' && n[2] >= '0' &&
           n[2] <= '9' && n[3] == '_' && strcmp(n + len - 4, ".sql") == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct mfile *)a)->name, ((const struct mfile *)b)->name);
}

/* Adds the migrations of one component; a missing directory is an error for plugins only. */
static int scan(struct mlist *l, const char *component, const char *dir, int must_exist, char *err,
                size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t first = l->n;
    if (d == NULL) {
        if (errno == ENOENT && !must_exist)
            return 0;
        snprintf(err, errlen, "cannot read migrations of '%s' in '%s': %s", component, dir,
                 strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        struct mfile *m;
        if (!is_migration_name(e->d_name))
            continue;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 16;
            struct mfile *v = realloc(l->v, cap * sizeof(*v));
            if (v == NULL) {
                closedir(d);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            l->v = v;
            l->cap = cap;
        }
        m = &l->v[l->n++];
        memset(m, 0, sizeof(*m));
        snprintf(m->component, sizeof(m->component), "%s", component);
        snprintf(m->name, sizeof(m->name), "%s", e->d_name);
        m->path = path_join(dir, e->d_name);
    }
    closedir(d);
    qsort(l->v + first, l->n - first, sizeof(*l->v), by_name);
    return 0;
}

static void mlist_release(struct mlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].text);
    }
    free(l->v);
}

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (f == NULL)
        goto fail;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
        goto fail;
    buf[n] = '\0';
    fclose(f);
    return buf;
fail:
    snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    free(buf);
    if (f != NULL)
        fclose(f);
    return NULL;
}

static int collect(const struct hostcfg *hc, struct mlist *l, char *err, size_t errlen)
{
    char *core = path_join(hc->sql_dir, "core");
    int rc = core ? scan(l, "core", core, 1, err, errlen) : -1;
    free(core);
    for (size_t i = 0; rc == 0 && i < hc->n_plugins; i++)
        rc = scan(l, hc->plugins[i].name, hc->plugins[i].sql_dir, 0, err, errlen);
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        l->v[i].text = read_file(l->v[i].path, err, errlen);
        if (l->v[i].text == NULL)
            rc = -1;
    }
    return rc;
}

/*
 * State of one migration: 0 pending, 1 applied and unchanged; -1 with err set
 * when applied but the file differs now. *applied_at gets the time (owned by res).
 */
static int state_of(PGconn *c, const struct mfile *m, char *applied_at, size_t alen, char *err,
                    size_t errlen)
{
    const char *p1[2] = {m->component, m->name};
    const char *p2[1] = {m->text};
    PGresult *a = NULL, *s = NULL;
    int rc = -1;
    a = db_exec(c, applied_sql, 2, p1, err, errlen);
    if (a == NULL)
        goto out;
    if (PQntuples(a) == 0) {
        rc = 0;
        goto out;
    }
    snprintf(applied_at, alen, "%s", PQgetvalue(a, 0, 1));
    s = db_exec(c, checksum_sql, 1, p2, err, errlen);
    if (s == NULL)
        goto out;
    if (strcmp(PQgetvalue(s, 0, 0), PQgetvalue(a, 0, 0)) != 0) {
        snprintf(err, errlen,
                 "migration '%s' was applied on %s but the file has changed since "
                 "(checksum %.12s..., applied %.12s...)\nhint: never edit an applied migration; "
                 "add a new one",
                 m->path, applied_at, PQgetvalue(s, 0, 0), PQgetvalue(a, 0, 0));
        goto out;
    }
    rc = 1;
out:
    PQclear(a);
    PQclear(s);
    return rc;
}

static int apply_one(PGconn *c, const struct mfile *m, char *err, size_t errlen)
{
    const char *params[3] = {m->component, m->name, m->text};
    PGresult *r;
    if (db_run(c, "BEGIN", 0, NULL, err, errlen) != 0)
        return -1;
    r = PQexec(c, m->text);
    db_round_trips++;
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        char msg[1024];
        db_error(c, r, msg, sizeof(msg));
        snprintf(err, errlen, "migration '%s' failed: %s", m->path, msg);
        PQclear(r);
        PQclear(PQexec(c, "ROLLBACK"));
        return -1;
    }
    PQclear(r);
    if (db_run(c, adopt_sql, 0, NULL, err, errlen) != 0 ||
        db_run(c, record_sql, 3, params, err, errlen) != 0 ||
        db_run(c, "COMMIT", 0, NULL, err, errlen) != 0) {
        PQclear(PQexec(c, "ROLLBACK"));
        return -1;
    }
    return 0;
}

static int run(PGconn *c, const struct hostcfg *hc, struct out *o, int apply, char *err,
               size_t errlen)
{
    struct mlist l = {0};
    int rc = -1, locked = 0, applied = 0;
    PGresult *r;

    if (collect(hc, &l, err, errlen) != 0)
        goto out;
    /* Status only reads: a user who may create nothing can ask for it. */
    r = PQexec(c, apply ? bootstrap_sql
                        : "SELECT 1 WHERE to_regclass('casehost.schema_migrations') IS NULL");
    db_round_trips++;
    if (!apply && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        PQclear(r);
        r = PQexec(c, bootstrap_sql);
    }
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_error(c, r, err, errlen);
        PQclear(r);
        goto out;
    }
    PQclear(r);
    if (db_run(c, lock_sql, 0, NULL, err, errlen) != 0)
        goto out;
    locked = 1;
    out_array(o, "migrations");
    for (size_t i = 0; i < l.n; i++) {
        char at[64] = "";
        int st = state_of(c, &l.v[i], at, sizeof(at), err, errlen);
        if (st < 0)
            goto out_end;
        if (st == 0 && apply) {
            if (apply_one(c, &l.v[i], err, errlen) != 0)
                goto out_end;
            applied++;
        }
        out_object(o, NULL);
        out_str(o, "component", l.v[i].component);
        out_str(o, "migration", l.v[i].name);
        out_str(o, "state", st == 1 ? "applied" : apply ? "applied now" : "pending");
        out_str(o, "applied_at", st == 1 ? at : NULL);
        out_end(o);
    }
    rc = 0;
out_end:
    out_end(o);
    if (rc == 0 && apply) {
        char msg[64];
        snprintf(msg, sizeof(msg), "%d migration%s applied", applied, applied == 1 ? "" : "s");
        out_message(o, msg);
    }
out:
    if (locked) {
        char e2[256];
        db_run(c, unlock_sql, 0, NULL, e2, sizeof(e2));
    }
    mlist_release(&l);
    return rc;
}

int migrate_apply(PGconn *c, const struct hostcfg *hc, struct out *o, char *err, size_t errlen)
{
    return run(c, hc, o, 1, err, errlen);
}

int migrate_status(PGconn *c, const struct hostcfg *hc, struct out *o, char *err, size_t errlen)
{
    return run(c, hc, o, 0, err, errlen);
}
