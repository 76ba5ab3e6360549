/*
 * bridge_rt.c: RT -> casehost. Reads RT's `transactions` by id above a
 * stored watermark, in short read-only REPEATABLE READ transactions of a
 * role that can only read (checked from the catalogs at start), and makes
 * each touched ticket of a watched queue a case through the host's case
 * paths (core/cases.c: the SQL functions of `case new` / `case update` and
 * every plugin hook). Never writes RT's database; never holds a lock RT's
 * writers wait for (readers take none they conflict with).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "bridge_rt.h"
#include "cases.h"

/* ------------------------------------------------------------- checks --- */

/* Every problem with the RT role, one row each; the schema holding RT's tickets first. */
static const char rt_role_sql[] =
    "WITH me AS (SELECT rolname, rolsuper, rolbypassrls FROM pg_catalog.pg_roles"
    "             WHERE rolname = current_user),"
    " rt AS (SELECT n.oid AS nsp, n.nspname FROM pg_catalog.pg_class c"
    "          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    "         WHERE c.relname = 'tickets' AND c.relkind = 'r'"
    "           AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    "         ORDER BY n.nspname = 'public' DESC LIMIT 1)"
    " SELECT 0, nspname FROM rt"
    " UNION ALL SELECT 1, 'role ' || rolname || ' is a superuser' FROM me WHERE rolsuper"
    " UNION ALL SELECT 1, 'role ' || rolname || ' has BYPASSRLS' FROM me WHERE rolbypassrls"
    " UNION ALL SELECT 1, 'no table \"tickets\" here: is this RT''s database?'"
    "  WHERE NOT EXISTS (SELECT 1 FROM rt)"
    " UNION ALL SELECT 1, 'it may ' || lower(p.priv) || ' ' || c.oid::regclass::text"
    "  FROM rt JOIN pg_catalog.pg_class c ON c.relnamespace = rt.nsp"
    "   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
    "  CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',"
    "                          'TRIGGER']) p(priv)"
    "  WHERE has_table_privilege(current_user, c.oid, p.priv)"
    "     OR (p.priv IN ('INSERT', 'UPDATE', 'REFERENCES')"
    "         AND has_any_column_privilege(current_user, c.oid, p.priv))"
    " UNION ALL SELECT 1, 'it may create in schema ' || quote_ident(rt.nspname) FROM rt"
    "  WHERE has_schema_privilege(current_user, rt.nsp, 'CREATE')"
    " UNION ALL SELECT DISTINCT 1, 'it is a member of ' || c.relowner::regrole::text"
    "  || ', which owns RT''s tables'"
    "  FROM rt JOIN pg_catalog.pg_class c ON c.relnamespace = rt.nsp AND c.relkind = 'r'"
    "  WHERE pg_has_role(current_user, c.relowner, 'MEMBER')"
    " UNION ALL SELECT 1, 'it cannot read ' || t FROM rt CROSS JOIN unnest(ARRAY['tickets',"
    "  'transactions', 'queues', 'users', 'groups', 'groupmembers', 'customfields',"
    "  'objectcustomfieldvalues']) t"
    "  WHERE NOT coalesce(has_table_privilege(current_user,"
    "        to_regclass(quote_ident(rt.nspname) || '.' || t), 'SELECT'), false)"
    " ORDER BY 1, 2";

int brt_check_rt_role(PGconn *rt, char *err, size_t errlen)
{
    PGresult *r = PQexec(rt, rt_role_sql);
    size_t n = 0;
    int problems = 0;
    char *schema = NULL;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read RT's catalogs: %s", PQerrorMessage(rt));
        PQclear(r);
        return -1;
    }
    n = (size_t)snprintf(err, errlen,
                         "RT's database role '%s' must only read RT's tables:", PQuser(rt));
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 0), "0") == 0) {
            schema = PQgetvalue(r, i, 1);
            continue;
        }
        problems++;
        if (problems <= 6 && n < errlen)
            n += (size_t)snprintf(err + n, errlen - n, "%s %s", problems > 1 ? ";" : "",
                                  PQgetvalue(r, i, 1));
    }
    if (problems > 6 && n < errlen)
        snprintf(err + n, errlen - n,
                 "; and %d more\nhint: INSTALL, section \"RT bridge\", "
                 "shows the grants of a read-only role",
                 problems - 6);
    else if (problems > 0 && n < errlen)
        snprintf(err + n, errlen - n,
                 "\nhint: INSTALL, section \"RT bridge\", shows the grants "
                 "of a read-only role");
    if (problems == 0 && schema != NULL) {
        /* Every later query names RT's tables unqualified: pin the schema that holds them. */
        char *id = PQescapeIdentifier(rt, schema, strlen(schema));
        const char *p[1] = {id};
        PGresult *s = id != NULL ? PQexecParams(rt,
                                                "SELECT pg_catalog.set_config('search_path', "
                                                "$1 || ', pg_catalog', false)",
                                                1, NULL, p, NULL, NULL, 0)
                                 : NULL;
        if (PQresultStatus(s) != PGRES_TUPLES_OK) {
            snprintf(err, errlen, "cannot pin RT's schema: %s", PQerrorMessage(rt));
            problems = 1;
        }
        PQclear(s);
        PQfreemem(id);
    }
    PQclear(r);
    return problems == 0 ? 0 : -1;
}

int brt_check_token_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "token file '%s': cannot read it", path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "token file '%s' is not a regular file", path);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "token file '%s' has mode %04o: a token must be readable by its owner only\n"
                 "hint: chmod 600 '%s'",
                 path, (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    if (st.st_size == 0) {
        snprintf(err, errlen, "token file '%s' is empty", path);
        return -1;
    }
    return 0;
}

int brt_rt_session(PGconn *rt, char *err, size_t errlen)
{
    /*
     * Read-only by default (a slip in this file cannot write RT); a statement
     * or a wait for a lock that takes long ends (an RT upgrade's ALTER TABLE
     * would otherwise queue RT's own readers behind the bridge); an idle
     * transaction never pins RT's snapshot horizon.
     */
    PGresult *r = PQexec(rt, "SET default_transaction_read_only = on;"
                             " SET statement_timeout = '10s'; SET lock_timeout = '1s';"
                             " SET idle_in_transaction_session_timeout = '30s';"
                             " SET application_name = 'casehost bridge rt'");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(err, errlen, "RT's database: %s", PQerrorMessage(rt));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Runs sql as the bridge's own role (role "none": the login) or as the person it acts as. */
static int act_as(struct brt_run *r, int person)
{
    const char *p[1] = {person ? r->actor_role : "none"};
    struct ch_ctx *ctx = &r->cli->ctx;
    return db_run(ctx->conn, "SELECT pg_catalog.set_config('role', $1, true)", 1, p, ctx->err,
                  sizeof(ctx->err));
}

int brt_check_casehost(struct brt_run *r)
{
    struct cli *cli = r->cli;
    struct ch_ctx *ctx = &cli->ctx;
    const char *p[1] = {r->cfg->act_as};
    PGresult *res;
    int rc;

    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    if (strcmp(ctx->dbuser.role, "service") != 0)
        return cli_fail(cli, EXIT_USAGE,
                        "bridge rt runs as a service user of its own; '%s' is a %s\nhint: "
                        "casehost user add NAME --role service (INSTALL, section \"RT bridge\")",
                        ctx->dbuser.name, ctx->dbuser.role);
    for (size_t i = 0; i < r->cfg->n_queues; i++) {
        const struct brt_queue *q = &r->cfg->queues[i];
        if (strcmp(q->agency, ctx->dbuser.agency_name) != 0)
            return cli_fail(cli, EXIT_USAGE,
                            "%s:%d: queue '%s' maps to agency '%s', but this bridge runs as "
                            "'%s' of agency '%s' (one bridge, with a service user of its own, "
                            "per agency)",
                            q->file, q->line, q->queue, q->agency, ctx->dbuser.name,
                            ctx->dbuser.agency_name);
    }
    res = db_exec(ctx->conn, "SELECT casehost.bridge_rt_actor_v1($1)", 1, p, ctx->err,
                  sizeof(ctx->err));
    if (res == NULL)
        return cli_fail(cli, EXIT_USAGE, "%s: act_as: %s", r->cfg->path, ctx->err);
    snprintf(r->actor_role, sizeof(r->actor_role), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return cli_commit(cli);
}

/* --------------------------------------------------------------- scan --- */

/* What RT says of one touched ticket (borrowed from the scan's results). */
struct ticket {
    long long id, effective;
    const char *queue, *subject, *status, *owner, *owner_email, *requestors;
};

/* The scan's state: as stored, then as it will be saved. */
struct scan_state {
    long long watermark;
    long long *handled; /* sorted; owned */
    size_t n_handled, cap;
    unsigned long long scan_xmax; /* 0: none recorded */
    long long scan_max_id;
};

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Whether id is among the first n (sorted) handled ids. */
static int handled_has(const struct scan_state *s, size_t n, long long id)
{
    return n > 0 && bsearch(&id, s->handled, n, sizeof(*s->handled), cmp_ll) != NULL;
}

static int handled_add(struct scan_state *s, long long id)
{
    if (s->n_handled == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        long long *h = realloc(s->handled, cap * sizeof(*h));
        if (h == NULL)
            return -1;
        s->handled = h;
        s->cap = cap;
    }
    s->handled[s->n_handled++] = id;
    return 0;
}

/* "{1,2,3}" (a bigint[] as text) into s->handled. */
static int parse_handled(struct scan_state *s, const char *text)
{
    const char *p = text;
    while (*p != '\0') {
        char *end;
        long long v;
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        v = strtoll(p, &end, 10);
        if (handled_add(s, v) != 0)
            return -1;
        p = end;
    }
    if (s->n_handled > 1)
        qsort(s->handled, s->n_handled, sizeof(*s->handled), cmp_ll);
    return 0;
}

/* The ids above the watermark as a bigint[] literal; caller frees. */
static char *handled_text(const struct scan_state *s)
{
    size_t cap = 3 + s->n_handled * 21, n = 0;
    char *t = malloc(cap);
    if (t == NULL)
        return NULL;
    t[n++] = '{';
    for (size_t i = 0; i < s->n_handled; i++)
        if (s->handled[i] > s->watermark)
            n += (size_t)snprintf(t + n, cap - n, "%s%lld", n > 1 ? "," : "", s->handled[i]);
    snprintf(t + n, cap - n, "}");
    return t;
}

/*
 * Moves the watermark and records this scan's snapshot. Why this is safe:
 * RT draws a transaction's id from a sequence when it inserts the row, and
 * the row becomes visible only when its database transaction commits, so
 * ids commit out of order. A scan reads every visible id above the
 * watermark in one snapshot S. Any id at or below the highest id it read
 * (scan_max_id) that S did not show belongs to a transaction running at S,
 * whose xid is below pg_snapshot_xmax(S). When a later scan's
 * pg_snapshot_xmin is at or past that xmax, every such transaction has
 * ended: each of those ids is now visible to the later scan (which reads
 * everything above the watermark, so it has handled it) or will never
 * exist. Only then does the watermark move up to scan_max_id; until then
 * the ids handled above it are kept, so none is handled twice. A fixed time
 * window would guess; this waits exactly as long as RT's slowest open
 * transaction. (The one gap: a statement that draws the id before its
 * transaction has an xid; RT inserts the row in that same statement, so the
 * gap is one INSERT long.) The stored pair is replaced only once it has
 * been used, so steady writing cannot starve the watermark.
 */
static void advance(struct scan_state *s, unsigned long long xmin_now, unsigned long long xmax_now,
                    long long max_read, int batch_full)
{
    long long highest = s->watermark;
    if (s->scan_xmax != 0 && xmin_now >= s->scan_xmax) {
        long long to = s->scan_max_id;
        /* A full batch stopped at max_read: ids above it are not read yet. */
        if (batch_full && max_read < to)
            to = max_read;
        if (to > s->watermark)
            s->watermark = to;
        s->scan_xmax = 0;
    }
    if (s->scan_xmax == 0) {
        for (size_t i = 0; i < s->n_handled; i++)
            if (s->handled[i] > highest)
                highest = s->handled[i];
        /* After a full batch only ids up to max_read are known read in this snapshot. */
        if (batch_full && highest > max_read)
            highest = max_read;
        if (highest > s->watermark) {
            s->scan_xmax = xmax_now;
            s->scan_max_id = highest;
        } else {
            s->scan_max_id = 0; /* nothing above the watermark waits */
        }
    }
}

static const char state_sql[] = "SELECT watermark, handled::text, scan_xmax, scan_max_id"
                                "  FROM casehost.bridge_rt_begin_v1($1)";
static const char save_sql[] = "SELECT casehost.bridge_rt_save_v1($1, $2, $3::bigint[], $4, $5)";
static const char link_sql[] = "SELECT casehost.bridge_rt_link_v1($1, $2, $3, $4)";
/* The case of a ticket, by its external reference (as the person: row-level security). */
static const char find_sql[] = "SELECT c.id, c.status FROM casehost.cases c"
                               " WHERE c.external_system = $1 AND c.external_ref = $2";

static const char rt_snapshot_sql[] =
    "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text FROM pg_current_snapshot() s";
static const char rt_txn_sql[] = "SELECT id, objectid FROM transactions"
                                 " WHERE objecttype = 'RT::Ticket' AND id > $1"
                                 " ORDER BY id LIMIT $2";
/* Each touched ticket with what its effective (surviving) ticket says. */
static const char rt_ticket_sql[] =
    "SELECT t.id, t.effectiveid, q.name, e.subject, e.status, o.name, o.emailaddress,"
    "       (SELECT string_agg(u.emailaddress, ', ' ORDER BY u.id)"
    "          FROM groups g JOIN groupmembers m ON m.groupid = g.id"
    "          JOIN users u ON u.id = m.memberid"
    "         WHERE g.domain = 'RT::Ticket-Role' AND g.name = 'Requestor'"
    "           AND g.instance = e.id)"
    "  FROM tickets t JOIN tickets e ON e.id = t.effectiveid"
    "  JOIN queues q ON q.id = e.queue LEFT JOIN users o ON o.id = e.owner"
    " WHERE t.id = ANY ($1::bigint[]) ORDER BY t.id";
/* The current value of each mapped custom field of those effective tickets. */
static const char rt_cf_sql[] =
    "SELECT DISTINCT ON (v.objectid, cf.name) v.objectid, cf.name, cf.type, v.content"
    "  FROM objectcustomfieldvalues v JOIN customfields cf ON cf.id = v.customfield"
    " WHERE v.objecttype = 'RT::Ticket' AND v.disabled = 0"
    "   AND v.objectid IN (SELECT effectiveid FROM tickets WHERE id = ANY ($1::bigint[]))"
    "   AND cf.name = ANY ($2::text[])"
    " ORDER BY v.objectid, cf.name, v.id DESC";

/* What RT said in one scan (owned results). */
struct rt_read {
    unsigned long long xmin, xmax;
    PGresult *txns, *tickets, *cfs;
};

static void rt_read_release(struct rt_read *rd)
{
    PQclear(rd->txns);
    PQclear(rd->tickets);
    PQclear(rd->cfs);
    memset(rd, 0, sizeof(*rd));
}

/* A bigint[] or text[] literal of values; caller frees. Text values are quoted. */
static char *array_literal(const char *const *v, size_t n, int quote)
{
    size_t cap = 3, len = 0;
    char *t;
    for (size_t i = 0; i < n; i++)
        cap += strlen(v[i]) * 2 + 3;
    if ((t = malloc(cap)) == NULL)
        return NULL;
    t[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            t[len++] = ',';
        if (quote)
            t[len++] = '"';
        for (const char *p = v[i]; *p; p++) {
            if (quote && (*p == '"' || *p == '\\'))
                t[len++] = '\\';
            t[len++] = *p;
        }
        if (quote)
            t[len++] = '"';
    }
    t[len++] = '}';
    t[len] = '\0';
    return t;
}

/*
 * Reads RT in one REPEATABLE READ READ ONLY transaction: its snapshot, the
 * ticket transactions above the watermark, and the tickets they touch with
 * their mapped custom fields. A few index reads, no locks RT waits for.
 */
static int rt_read(struct brt_run *r, long long watermark, struct rt_read *rd)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    char wm[24], lim[24];
    const char *p2[2] = {wm, lim};
    const char **ids = NULL, **cfs = NULL;
    char *ids_text = NULL, *cfs_text = NULL;
    PGresult *s = NULL;
    int rc = -1, n;

    memset(rd, 0, sizeof(*rd));
    snprintf(wm, sizeof(wm), "%lld", watermark);
    snprintf(lim, sizeof(lim), "%d", r->cfg->batch);
    if (db_run(r->rt, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, ctx->err,
               sizeof(ctx->err)) != 0)
        return -1;
    if ((s = db_exec(r->rt, rt_snapshot_sql, 0, NULL, ctx->err, sizeof(ctx->err))) == NULL)
        goto out;
    rd->xmin = strtoull(PQgetvalue(s, 0, 0), NULL, 10);
    rd->xmax = strtoull(PQgetvalue(s, 0, 1), NULL, 10);
    if ((rd->txns = db_exec(r->rt, rt_txn_sql, 2, p2, ctx->err, sizeof(ctx->err))) == NULL)
        goto out;
    n = PQntuples(rd->txns);
    ids = calloc((size_t)n + 1, sizeof(*ids));
    cfs = calloc(r->cfg->n_fields + 1, sizeof(*cfs));
    if (ids == NULL || cfs == NULL)
        goto oom;
    for (int i = 0; i < n; i++)
        ids[i] = PQgetvalue(rd->txns, i, 1);
    for (size_t i = 0; i < r->cfg->n_fields; i++)
        cfs[i] = r->cfg->fields[i].cf;
    ids_text = array_literal(ids, (size_t)n, 0);
    cfs_text = array_literal(cfs, r->cfg->n_fields, 1);
    if (ids_text == NULL || cfs_text == NULL)
        goto oom;
    {
        const char *p1[1] = {ids_text};
        const char *pc[2] = {ids_text, cfs_text};
        if ((rd->tickets = db_exec(r->rt, rt_ticket_sql, 1, p1, ctx->err, sizeof(ctx->err))) ==
                NULL ||
            (rd->cfs = db_exec(r->rt, rt_cf_sql, 2, pc, ctx->err, sizeof(ctx->err))) == NULL)
            goto out;
    }
    rc = db_run(r->rt, "COMMIT", 0, NULL, ctx->err, sizeof(ctx->err));
    goto out;
oom:
    snprintf(ctx->err, sizeof(ctx->err), "out of memory");
out:
    if (rc != 0) {
        PQclear(PQexec(r->rt, "ROLLBACK"));
        rt_read_release(rd);
    }
    PQclear(s);
    free(ids);
    free(cfs);
    free(ids_text);
    free(cfs_text);
    return rc;
}

static long long ll(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static const char *text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* The ticket row of id in rd->tickets, or -1. */
static int ticket_row(const struct rt_read *rd, long long id)
{
    for (int i = 0; i < PQntuples(rd->tickets); i++)
        if (ll(rd->tickets, i, 0) == id)
            return i;
    return -1;
}

static void ticket_at(const struct rt_read *rd, int row, struct ticket *t)
{
    t->id = ll(rd->tickets, row, 0);
    t->effective = ll(rd->tickets, row, 1);
    t->queue = PQgetvalue(rd->tickets, row, 2);
    t->subject = PQgetvalue(rd->tickets, row, 3);
    t->status = PQgetvalue(rd->tickets, row, 4);
    t->owner = text_or_null(rd->tickets, row, 5);
    t->owner_email = text_or_null(rd->tickets, row, 6);
    t->requestors = text_or_null(rd->tickets, row, 7);
}

/*
 * The case fields RT decides for ticket t: title from the subject, the
 * assignee from the owner (when mapped), the mapped custom fields that have
 * a value, and the status unless it closes the case. A value RT does not
 * have leaves the case's alone. 0, or -1 with why in err.
 */
static int ticket_fields(struct brt_run *r, const struct rt_read *rd, const struct ticket *t,
                         const char *status, json_t *f, char *err, size_t errlen)
{
    const char *assignee = t->owner != NULL ? brt_cfg_user(r->cfg, t->owner, t->owner_email) : NULL;
    char title[160];
    if (t->subject[0] != '\0')
        snprintf(title, sizeof(title), "%s", t->subject);
    else
        snprintf(title, sizeof(title), "RT ticket #%lld", t->effective);
    json_object_set_new(f, "title", json_string(title));
    if (assignee != NULL)
        json_object_set_new(f, "assignee", json_string(assignee));
    if (status != NULL && strcmp(status, "closed") != 0)
        json_object_set_new(f, "status", json_string(status));
    for (int i = 0; i < PQntuples(rd->cfs); i++) {
        const char *cf = PQgetvalue(rd->cfs, i, 1), *type = PQgetvalue(rd->cfs, i, 2);
        const char *v = PQgetvalue(rd->cfs, i, 3);
        const struct brt_field *m = NULL;
        if (ll(rd->cfs, i, 0) != t->effective || v[0] == '\0')
            continue;
        for (size_t k = 0; k < r->cfg->n_fields; k++)
            if (strcmp(r->cfg->fields[k].cf, cf) == 0)
                m = &r->cfg->fields[k];
        if (m == NULL)
            continue;
        switch (m->kind) {
        case BRT_TEXT:
            json_object_set_new(f, m->field, json_string(v));
            break;
        case BRT_TIME: {
            /* RT keeps a DateTime in UTC; a Date is a day of the agency's zone. */
            char when[64];
            snprintf(when, sizeof(when), "%s%s", v, strcmp(type, "DateTime") == 0 ? "+00" : "");
            json_object_set_new(f, m->field, json_string(when));
            break;
        }
        case BRT_BOOL:
            if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
                json_object_set_new(f, m->field, json_true());
            else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
                json_object_set_new(f, m->field, json_false());
            else {
                snprintf(err, errlen, "custom field '%s' says '%s', not yes or no", cf, v);
                return -1;
            }
            break;
        }
    }
    return 0;
}

/* A case found by external reference: its id (0: none), whether closed. */
struct found {
    long long id;
    int closed;
};

static int find_case(struct brt_run *r, long long ticket, struct found *fc)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    char tid[24];
    const char *p[2] = {r->cfg->name, tid};
    PGresult *res;
    snprintf(tid, sizeof(tid), "%lld", ticket);
    memset(fc, 0, sizeof(*fc));
    if ((res = db_exec(ctx->conn, find_sql, 2, p, ctx->err, sizeof(ctx->err))) == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        fc->id = ll(res, 0, 0);
        fc->closed = strcmp(PQgetvalue(res, 0, 1), "closed") == 0;
    }
    PQclear(res);
    return 0;
}

/*
 * Links ticket to case as the bridge's own role (its map, and the case's
 * reference): 1 when that changed something, 0 when it was so already, -1.
 */
static int brt_link(struct brt_run *r, long long ticket, long long case_id, long long merged_into)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    char tid[24], cid[24], mid[24];
    const char *p[4] = {r->cfg->name, tid, cid, merged_into ? mid : NULL};
    PGresult *res;
    int changed;
    snprintf(tid, sizeof(tid), "%lld", ticket);
    snprintf(cid, sizeof(cid), "%lld", case_id);
    snprintf(mid, sizeof(mid), "%lld", merged_into);
    if (act_as(r, 0) != 0 ||
        (res = db_exec(ctx->conn, link_sql, 4, p, ctx->err, sizeof(ctx->err))) == NULL)
        return -1;
    changed = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return act_as(r, 1) == 0 ? changed : -1;
}

static void say(struct brt_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct brt_run *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    out_message(r->cli->ctx.out, line);
}

static int close_case(struct brt_run *r, long long id, const char *reason)
{
    PGresult *changes = NULL;
    int rc = case_modify(&r->cli->ctx, &r->cli->loader, id, 1, reason, &changes);
    PQclear(changes);
    if (rc == 0)
        r->closed++;
    return rc;
}

/*
 * Makes the case of (effective, surviving) ticket t agree with RT: creates
 * it (or links the case that already has its reference), then updates the
 * fields RT decides and closes or reopens it by status. *case_id gets it.
 */
static int sync_case(struct brt_run *r, const struct rt_read *rd, const struct ticket *t,
                     long long *case_id)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    const char *status = brt_cfg_status(r->cfg, t->status);
    int closing = status != NULL && strcmp(status, "closed") == 0;
    json_t *f = json_object();
    char *fields = NULL, why[256], reason[128];
    struct found fc;
    int rc = -1;

    snprintf(reason, sizeof(reason), "RT ticket #%lld is %s", t->effective, t->status);
    if (f == NULL || find_case(r, t->effective, &fc) != 0)
        goto out;
    if (ticket_fields(r, rd, t, status, f, why, sizeof(why)) != 0) {
        snprintf(ctx->err, sizeof(ctx->err), "%s", why);
        goto out;
    }
    if (fc.id != 0 && fc.closed && (status == NULL || closing)) {
        rc = 0; /* a closed case stays as it is until RT reopens the ticket */
        *case_id = fc.id;
        goto out;
    }
    if ((fields = json_dumps(f, JSON_COMPACT)) == NULL)
        goto out;
    if (fc.id == 0) {
        int64_t id, note_id;
        char note[512];
        if (case_create(ctx, &r->cli->loader, fields, &id) != 0)
            goto out;
        snprintf(note, sizeof(note), "Opened from RT ticket #%lld (queue %s); requestor: %s",
                 t->effective, t->queue, t->requestors != NULL ? t->requestors : "none");
        if (case_note(ctx, &r->cli->loader, id, note, &note_id) != 0 ||
            brt_link(r, t->effective, id, 0) < 0)
            goto out;
        r->created++;
        say(r, "ticket %lld: case %lld created", t->effective, (long long)id);
        fc.id = id;
    } else {
        PGresult *changes = NULL;
        /* A case that has the ticket's reference but is not in the map yet: linked. */
        int linked = brt_link(r, t->effective, fc.id, 0);
        if (linked < 0)
            goto out;
        if (linked > 0) {
            r->linked++;
            say(r, "ticket %lld: linked to case %lld, which had its reference", t->effective,
                fc.id);
        }
        if (case_modify(ctx, &r->cli->loader, fc.id, 0, fields, &changes) != 0) {
            PQclear(changes);
            goto out;
        }
        if (PQntuples(changes) > 0) {
            r->updated++;
            say(r, "ticket %lld: case %lld updated (%d field(s))", t->effective, fc.id,
                PQntuples(changes));
        }
        PQclear(changes);
    }
    if (closing) {
        if (close_case(r, fc.id, reason) != 0)
            goto out;
        say(r, "ticket %lld: case %lld closed (%s)", t->effective, fc.id, t->status);
    }
    *case_id = fc.id;
    rc = 0;
out:
    free(fields);
    json_decref(f);
    return rc;
}

/*
 * A ticket merged into another: the survivor's case is the one case; the
 * merged ticket's reference points at it, and a case the merged ticket had
 * of its own is closed, naming the case that goes on.
 */
static int sync_merged(struct brt_run *r, const struct rt_read *rd, const struct ticket *t)
{
    long long survivor_case = 0;
    struct found own;
    int linked;

    if (sync_case(r, rd, t, &survivor_case) != 0 || find_case(r, t->id, &own) != 0)
        return -1;
    if (own.id != 0 && own.id != survivor_case && !own.closed) {
        char reason[160];
        snprintf(reason, sizeof(reason), "RT ticket #%lld was merged into #%lld: case %lld goes on",
                 t->id, t->effective, survivor_case);
        if (close_case(r, own.id, reason) != 0)
            return -1;
        say(r, "ticket %lld: merged into %lld; its case %lld closed, case %lld goes on", t->id,
            t->effective, own.id, survivor_case);
    }
    if ((linked = brt_link(r, t->id, survivor_case, t->effective)) < 0)
        return -1;
    r->merged += linked;
    return 0;
}

/* One touched ticket, inside a savepoint: a ticket that fails is logged and skipped. */
static int handle_ticket(struct brt_run *r, const struct rt_read *rd, long long id)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    struct ticket t;
    long long case_id;
    int row = ticket_row(rd, id), rc;

    if (row < 0)
        return 0; /* gone from RT (shredded): nothing to follow */
    ticket_at(rd, row, &t);
    if (brt_cfg_queue(r->cfg, t.queue) == NULL) {
        r->ignored++;
        return 0;
    }
    if (db_run(ctx->conn, "SAVEPOINT brt_ticket", 0, NULL, ctx->err, sizeof(ctx->err)) != 0)
        return -1;
    rc = t.id != t.effective ? sync_merged(r, rd, &t) : sync_case(r, rd, &t, &case_id);
    if (rc == 0)
        return db_run(ctx->conn, "RELEASE SAVEPOINT brt_ticket", 0, NULL, ctx->err,
                      sizeof(ctx->err));
    if (PQstatus(ctx->conn) != CONNECTION_OK)
        return -1;
    /*
     * The ticket's next change in RT reads its whole state again, so a
     * ticket refused now (an unknown assignee, a bad date) is not lost; its
     * message names the ticket and the field, never the person.
     */
    r->failed++;
    ctx->err[strcspn(ctx->err, "\n")] = '\0';
    diag_log("bridge rt", "warning", "ticket %lld was not taken over: %s", id, ctx->err);
    say(r, "ticket %lld: not taken over: %s", id, ctx->err);
    return db_run(ctx->conn, "ROLLBACK TO SAVEPOINT brt_ticket", 0, NULL, ctx->err,
                  sizeof(ctx->err));
}

static int save_state(struct brt_run *r, const struct scan_state *s)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    char wm[24], xmax[24], maxid[24];
    char *h = handled_text(s);
    const char *p[5] = {r->cfg->name, wm, h, s->scan_xmax ? xmax : NULL,
                        s->scan_xmax ? maxid : NULL};
    int rc;
    if (h == NULL) {
        snprintf(ctx->err, sizeof(ctx->err), "out of memory");
        return -1;
    }
    snprintf(wm, sizeof(wm), "%lld", s->watermark);
    snprintf(xmax, sizeof(xmax), "%llu", s->scan_xmax);
    snprintf(maxid, sizeof(maxid), "%lld", s->scan_max_id);
    rc = act_as(r, 0) == 0 ? db_run(ctx->conn, save_sql, 5, p, ctx->err, sizeof(ctx->err)) : -1;
    free(h);
    return rc;
}

int brt_scan(struct brt_run *r, int *more)
{
    struct cli *cli = r->cli;
    struct ch_ctx *ctx = &cli->ctx;
    struct scan_state s;
    long long watermark0;
    unsigned long long xmax0;
    long long max0;
    size_t n0;
    struct rt_read rd;
    const char *p[1] = {r->cfg->name};
    long long max_read = 0, *touched = NULL;
    size_t n_touched = 0;
    PGresult *res;
    int rc = -1, n;

    memset(&s, 0, sizeof(s));
    memset(&rd, 0, sizeof(rd));
    *more = 0;
    /* The transaction acts as the person for the case paths; state and links as the bridge. */
    if (db_start_as(ctx->conn, r->actor_role, &ctx->dbuser, ctx->err, sizeof(ctx->err)) != 0)
        return -1;
    cli->in_tx = 1;
    ctx_bind_user(ctx);
    if (act_as(r, 0) != 0 ||
        (res = db_exec(ctx->conn, state_sql, 1, p, ctx->err, sizeof(ctx->err))) == NULL)
        goto out;
    s.watermark = ll(res, 0, 0);
    s.scan_xmax = PQgetisnull(res, 0, 2) ? 0 : strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    s.scan_max_id = PQgetisnull(res, 0, 3) ? 0 : ll(res, 0, 3);
    rc = parse_handled(&s, PQgetvalue(res, 0, 1));
    PQclear(res);
    if (rc != 0 || act_as(r, 1) != 0) {
        rc = -1;
        goto out;
    }
    rc = -1;
    watermark0 = s.watermark;
    xmax0 = s.scan_xmax;
    max0 = s.scan_max_id;
    n0 = s.n_handled;
    if (rt_read(r, s.watermark, &rd) != 0)
        goto out;
    n = PQntuples(rd.txns);
    *more = n >= r->cfg->batch;
    touched = calloc((size_t)n + 1, sizeof(*touched));
    if (touched == NULL)
        goto out;
    /* New ids only; each ticket once per scan, however many of its transactions arrived. */
    for (int i = 0; i < n; i++) {
        long long id = ll(rd.txns, i, 0), ticket = ll(rd.txns, i, 1);
        int seen = 0;
        max_read = id;
        if (handled_has(&s, n0, id))
            continue;
        if (handled_add(&s, id) != 0)
            goto out;
        for (size_t k = 0; k < n_touched; k++)
            seen |= touched[k] == ticket;
        if (!seen)
            touched[n_touched++] = ticket;
    }
    if (s.n_handled > 1)
        qsort(s.handled, s.n_handled, sizeof(*s.handled), cmp_ll);
    for (size_t k = 0; k < n_touched; k++)
        if (handle_ticket(r, &rd, touched[k]) != 0)
            goto out;
    advance(&s, rd.xmin, rd.xmax, max_read, *more);
    /* An idle scan writes nothing (and so audits nothing). */
    if (s.watermark != watermark0 || s.n_handled != n0 || s.scan_xmax != xmax0 ||
        s.scan_max_id != max0) {
        if (save_state(r, &s) != 0)
            goto out;
    }
    r->scans++;
    if (r->dry_run) {
        PQclear(PQexec(ctx->conn, "ROLLBACK"));
        cli->in_tx = 0;
        rc = 0;
    } else {
        rc = db_run(ctx->conn, "COMMIT", 0, NULL, ctx->err, sizeof(ctx->err));
        cli->in_tx = rc != 0 ? cli->in_tx : 0;
    }
out:
    if (rc != 0 && cli->in_tx && PQstatus(ctx->conn) == CONNECTION_OK) {
        char keep[sizeof(ctx->err)];
        memcpy(keep, ctx->err, sizeof(keep));
        PQclear(PQexec(ctx->conn, "ROLLBACK"));
        memcpy(ctx->err, keep, sizeof(keep));
    }
    if (rc != 0)
        cli->in_tx = 0;
    rt_read_release(&rd);
    free(touched);
    free(s.handled);
    return rc;
}
