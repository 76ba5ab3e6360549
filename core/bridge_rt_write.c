/*
 * bridge_rt_write.c: casehost -> RT, through REST2 only, as a least-
 * privilege RT user. What a ticket may be told is decided in SQL (the
 * neutral words plugins publish, sql/core/016_bridge_rt_writeback.sql);
 * this file claims the writes owed, sends them and records the outcome.
 * RT's database is only read: for the user's rights at start and for the
 * bridge's own comments before a comment is posted again.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "bridge_rt_write.h"
#include "cases.h"

#define brt_log(level, ...) diag_log("bridge rt", level, __VA_ARGS__)

/* ------------------------------------------------------------- rights --- */

/*
 * Every refusal ('refuse') and every right beyond the needed ones ('warn'),
 * then the user's id ('uid'). $1 the RT user, $2 and $3 the custom fields,
 * $4 the watched queues, one per line. Rights granted to every user
 * (Everyone, Privileged) are not the bridge user's to give back, so only
 * grants to the user and its own groups count as "more".
 */
static const char rights_sql[] =
    "WITH u AS (SELECT u.id FROM users u JOIN principals p ON p.id = u.id AND p.disabled = 0"
    "            WHERE u.name = $1),"
    " q AS (SELECT id, name FROM queues WHERE disabled = 0"
    "        AND name = ANY (string_to_array($4, E'\\n'))),"
    " cf AS (SELECT id, name FROM customfields WHERE disabled = 0"
    "         AND lookuptype = 'RT::Queue-RT::Ticket' AND name IN ($2, $3)),"
    " need(r) AS (VALUES ('SeeQueue'), ('ShowTicket'), ('CommentOnTicket'),"
    "             ('ShowTicketComments'), ('SeeCustomField'), ('ModifyCustomField')),"
    " mine AS (SELECT a.rightname, a.objecttype, a.objectid, g.domain FROM acl a"
    "           JOIN cachedgroupmembers m ON m.groupid = a.principalid AND m.disabled = 0"
    "           JOIN groups g ON g.id = a.principalid"
    "          WHERE m.memberid = (SELECT id FROM u)),"
    " open_to AS (SELECT id, name FROM groups"
    "              WHERE (domain = 'SystemInternal' AND name IN ('Everyone', 'Unprivileged'))"
    "                 OR (domain IN ('RT::System-Role', 'RT::Queue-Role') AND name = 'Requestor')),"
    " obj(t, id, label) AS (SELECT 'RT::System', 0, 'everywhere'"
    "   UNION ALL SELECT 'RT::System', 1, 'everywhere'"
    "   UNION ALL SELECT 'RT::Queue', 0, 'in every queue'"
    "   UNION ALL SELECT 'RT::Queue', id, 'in queue \"' || name || '\"' FROM q"
    "   UNION ALL SELECT 'RT::CustomField', 0, 'on every custom field'"
    "   UNION ALL SELECT 'RT::CustomField', id, 'on custom field \"' || name || '\"' FROM cf)"
    " SELECT 'refuse', 'RT user \"' || $1 || '\" does not exist or is disabled'"
    "  WHERE NOT EXISTS (SELECT 1 FROM u)"
    " UNION ALL SELECT 'refuse', 'queue \"' || n || '\" does not exist in RT'"
    "  FROM unnest(string_to_array($4, E'\\n')) n WHERE n NOT IN (SELECT name FROM q)"
    " UNION ALL SELECT 'refuse', 'custom field \"' || n || '\" is no ticket custom field in RT'"
    "  FROM unnest(ARRAY[$2, $3]) n WHERE n NOT IN (SELECT name FROM cf)"
    " UNION ALL SELECT 'refuse', 'custom field \"' || cf.name || '\" does not apply to queue \"'"
    "  || q.name || '\"' FROM cf CROSS JOIN q WHERE NOT EXISTS (SELECT 1 FROM objectcustomfields o"
    "   WHERE o.customfield = cf.id AND o.objectid IN (0, q.id))"
    " UNION ALL SELECT 'refuse', 'RT user \"' || $1 || '\" lacks ' || need.r || ' in queue \"'"
    "  || q.name || '\"' FROM q CROSS JOIN need WHERE EXISTS (SELECT 1 FROM u)"
    "  AND NOT EXISTS (SELECT 1 FROM mine m WHERE m.rightname IN (need.r, 'SuperUser')"
    "   AND (m.objecttype = 'RT::System' OR (m.objecttype = 'RT::Queue' AND m.objectid IN (0, "
    "q.id))))"
    "  AND NOT (need.r IN ('SeeCustomField', 'ModifyCustomField') AND EXISTS (SELECT 1 FROM cf)"
    "   AND NOT EXISTS (SELECT 1 FROM cf WHERE NOT EXISTS (SELECT 1 FROM mine m"
    "    WHERE m.rightname = need.r AND m.objecttype = 'RT::CustomField'"
    "      AND m.objectid IN (0, cf.id))))"
    " UNION ALL SELECT DISTINCT 'refuse', g.name || ' may ' || a.rightname || ' ' || obj.label"
    "  || ': a requestor could read what the bridge writes' FROM acl a"
    "  JOIN open_to g ON g.id = a.principalid"
    "  JOIN obj ON obj.t = a.objecttype AND obj.id = a.objectid"
    "  WHERE a.rightname IN ('SuperUser', 'SeeCustomField', 'ShowTicketComments')"
    "    AND NOT (a.rightname = 'ShowTicketComments' AND a.objecttype = 'RT::CustomField')"
    " UNION ALL SELECT DISTINCT 'warn', 'RT user \"' || $1 || '\" may also ' || m.rightname || ' '"
    "  || coalesce(obj.label, lower(m.objecttype) || ' ' || m.objectid) FROM mine m"
    "  LEFT JOIN obj ON obj.t = m.objecttype AND obj.id = m.objectid"
    "  WHERE m.domain <> 'SystemInternal'"
    "    AND NOT (m.rightname IN (SELECT r FROM need) AND m.objecttype = 'RT::Queue'"
    "             AND m.objectid IN (SELECT id FROM q))"
    "    AND NOT (m.rightname IN ('SeeCustomField', 'ModifyCustomField')"
    "             AND m.objecttype = 'RT::CustomField' AND m.objectid IN (SELECT id FROM cf))"
    " UNION ALL SELECT 'uid', id::text FROM u"
    " ORDER BY 1, 2";

int brt_check_rt_rights(struct brt_run *r, char *err, size_t errlen)
{
    const struct brt_writeback *w = &r->cfg->wb;
    char *queues = NULL;
    size_t len = 1, n = 0;
    const char *p[4];
    PGresult *res;
    int refusals = 0;

    for (size_t i = 0; i < r->cfg->n_queues; i++)
        len += strlen(r->cfg->queues[i].queue) + 1;
    if ((queues = calloc(1, len)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < r->cfg->n_queues; i++) {
        strcat(queues, r->cfg->queues[i].queue);
        if (i + 1 < r->cfg->n_queues)
            strcat(queues, "\n");
    }
    p[0] = w->rt_user;
    p[1] = w->status_cf;
    p[2] = w->link_cf;
    p[3] = queues;
    res = PQexecParams(r->rt, rights_sql, 4, NULL, p, NULL, NULL, 0);
    free(queues);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen,
                 "cannot read RT's rights (the reader needs SELECT on acl, cachedgroupmembers, "
                 "principals and objectcustomfields too): %s",
                 PQresultErrorMessage(res));
        PQclear(res);
        return -1;
    }
    n = (size_t)snprintf(err, errlen, "RT's rights are not what the bridge may write with:");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *kind = PQgetvalue(res, i, 0), *what = PQgetvalue(res, i, 1);
        if (strcmp(kind, "uid") == 0) {
            r->rt_uid = strtoll(what, NULL, 10);
        } else if (strcmp(kind, "warn") == 0) {
            brt_log("warning", "%s: more than the bridge needs (INSTALL, RT bridge)", what);
        } else {
            refusals++;
            if (n < errlen)
                n += (size_t)snprintf(err + n, errlen - n, "%s %s", refusals > 1 ? ";" : "", what);
        }
    }
    PQclear(res);
    return refusals > 0 ? -1 : 0;
}

/* ------------------------------------------------------------ libcurl --- */

/*
 * libcurl is opened on the bridge's first write, not linked into casehost:
 * its dependencies cost every command a few milliseconds to map, and only
 * this service talks HTTP. Named by soname: the ABI the headers describe.
 */
#define BRT_CURL_SONAME "libcurl.so.4"

/* The functions used: name after "curl_", return type, parameters. */
#define BRT_CURL_FUNCTIONS(X)                                                                      \
    X(easy_init, CURL *, (void))                                                                   \
    X(easy_setopt, CURLcode, (CURL *, CURLoption, ...))                                            \
    X(easy_perform, CURLcode, (CURL *))                                                            \
    X(easy_getinfo, CURLcode, (CURL *, CURLINFO, ...))                                             \
    X(easy_strerror, const char *, (CURLcode))                                                     \
    X(easy_cleanup, void, (CURL *))                                                                \
    X(slist_append, struct curl_slist *, (struct curl_slist *, const char *))                      \
    X(slist_free_all, void, (struct curl_slist *))

struct brt_writer {
    void *lib;
#define BRT_CURL_MEMBER(name, ret, params) ret(*name) params;
    BRT_CURL_FUNCTIONS(BRT_CURL_MEMBER)
#undef BRT_CURL_MEMBER
    CURL *curl;
    int unreachable; /* RT did not answer during this delivery: the rest wait, untried */
    char token[256];
};

static int curl_load(struct brt_writer *w, char *err, size_t errlen)
{
    void *sym;
    if (w->curl != NULL)
        return 0;
    if ((w->lib = dlopen(BRT_CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        snprintf(err, errlen, "writing to RT needs %s (Debian: libcurl4): %s", BRT_CURL_SONAME,
                 dlerror());
        return -1;
    }
#define BRT_CURL_LOAD(name, ret, params)                                                           \
    if ((sym = dlsym(w->lib, "curl_" #name)) == NULL) {                                            \
        snprintf(err, errlen, "%s has no curl_%s", BRT_CURL_SONAME, #name);                        \
        return -1;                                                                                 \
    }                                                                                              \
    memcpy(&w->name, &sym, sizeof(sym)); /* POSIX: dlsym's address fits a function pointer */
    BRT_CURL_FUNCTIONS(BRT_CURL_LOAD)
#undef BRT_CURL_LOAD
    if ((w->curl = w->easy_init()) == NULL) {
        snprintf(err, errlen, "cannot start libcurl");
        return -1;
    }
    return 0;
}

int brt_writer_open(struct brt_run *r, char *err, size_t errlen)
{
    struct brt_writer *w = calloc(1, sizeof(*w));
    FILE *f;
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->writer = w;
    if ((f = fopen(r->cfg->token_file, "r")) == NULL ||
        fgets(w->token, sizeof(w->token), f) == NULL) {
        snprintf(err, errlen, "%s: cannot read RT's token", r->cfg->token_file);
        if (f != NULL)
            fclose(f);
        return -1;
    }
    fclose(f);
    w->token[strcspn(w->token, "\r\n")] = '\0';
    if (w->token[0] == '\0' || strchr(w->token, ' ') != NULL) {
        snprintf(err, errlen, "%s: the first line must be RT's token alone", r->cfg->token_file);
        return -1;
    }
    return 0;
}

void brt_writer_close(struct brt_run *r)
{
    struct brt_writer *w = r->writer;
    if (w == NULL)
        return;
    if (w->curl != NULL)
        w->easy_cleanup(w->curl);
    if (w->lib != NULL)
        dlclose(w->lib);
    OPENSSL_cleanse(w->token, sizeof(w->token));
    free(w);
    r->writer = NULL;
}

/* -------------------------------------------------------------- REST2 --- */

struct answer {
    char text[4096];
    size_t len;
};

static size_t keep_answer(char *p, size_t size, size_t n, void *ud)
{
    struct answer *a = ud;
    size_t take = size * n;
    if (take > sizeof(a->text) - 1 - a->len)
        take = sizeof(a->text) - 1 - a->len;
    memcpy(a->text + a->len, p, take);
    a->len += take;
    a->text[a->len] = '\0';
    return size * n;
}

/*
 * Whether RT's answer refuses: REST2 says 200 with a message list even when
 * a change was denied, so every message is read. Success messages name
 * what was added or changed, or say the value was already current.
 */
static int refused(const char *text, char *why, size_t whylen)
{
    static const char *const refusals[] = {"denied",  "could not", "couldn't",      "not found",
                                           "invalid", "failed",    "no permission", "unauthorized"};
    json_error_t e;
    json_t *doc = json_loads(text, JSON_DECODE_ANY, &e);
    size_t i;
    json_t *m;
    int bad = doc == NULL;
    if (json_is_object(doc) && json_object_get(doc, "message") != NULL)
        bad = 1; /* REST2's error shape: {"message": ...} */
    json_array_foreach(doc, i, m)
    {
        char low[512];
        const char *s = json_string_value(m);
        size_t n = 0;
        for (; s != NULL && s[n] != '\0' && n < sizeof(low) - 1; n++)
            low[n] = (char)tolower((unsigned char)s[n]);
        low[n] = '\0';
        for (size_t k = 0; k < sizeof(refusals) / sizeof(refusals[0]); k++)
            if (strstr(low, refusals[k]) != NULL)
                bad = 1;
    }
    json_decref(doc);
    if (bad)
        snprintf(why, whylen, "RT refused: %.300s", text);
    return bad;
}

/* One REST2 call with a JSON body; 0 when RT took it, or -1 with why. */
static int rest(struct brt_run *r, const char *method, const char *path, const char *body,
                char *why, size_t whylen)
{
    struct brt_writer *w = r->writer;
    struct curl_slist *h = NULL;
    struct answer a = {.len = 0};
    char url[1024], auth[300];
    long status = 0;
    CURLcode rc;

    if (curl_load(w, why, whylen) != 0)
        return -1;
    snprintf(url, sizeof(url), "%s%s", r->cfg->rt_url, path);
    snprintf(auth, sizeof(auth), "Authorization: token %s", w->token);
    h = w->slist_append(h, "Content-Type: application/json; charset=utf-8");
    h = h != NULL ? w->slist_append(h, auth) : NULL;
    OPENSSL_cleanse(auth, sizeof(auth));
    if (h == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    w->easy_setopt(w->curl, CURLOPT_URL, url);
    w->easy_setopt(w->curl, CURLOPT_CUSTOMREQUEST, method);
    w->easy_setopt(w->curl, CURLOPT_HTTPHEADER, h);
    w->easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
    w->easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, keep_answer);
    w->easy_setopt(w->curl, CURLOPT_WRITEDATA, &a);
    w->easy_setopt(w->curl, CURLOPT_TIMEOUT, 30L);
    w->easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    w->easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    w->easy_setopt(w->curl, CURLOPT_FOLLOWLOCATION, 0L);
    rc = w->easy_perform(w->curl);
    w->easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
    w->easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
    w->slist_free_all(h);
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "RT unreachable: %s", w->easy_strerror(rc));
        w->unreachable = 1;
        return -1;
    }
    if (status != 200 && status != 201) {
        snprintf(why, whylen, "RT answered HTTP %ld: %.300s", status, a.text);
        return -1;
    }
    return refused(a.text, why, whylen) ? -1 : 0;
}

/* ----------------------------------------------------------- delivery --- */

/*
 * Writes one claim takes, and how long they stay this process's. The lease
 * is what brings a crashed bridge's claims back; the one bridge of an
 * agency sends its batch in order and claims again only when it is done,
 * so a lease that runs out under a slow RT makes no second sender.
 */
#define BRT_CLAIM_BATCH "50"
#define BRT_LEASE_SECONDS "120"

static const char claim_sql[] = "SELECT id, ticket_id, case_id, status, comment, attempts"
                                " FROM casehost.bridge_rt_claim_v1($1, $2, $3, $4, $5)";

/* The bridge's comments RT holds for the ticket (and the tickets merged with it). */
static const char rt_comments_sql[] =
    "SELECT count(*) FROM transactions t"
    " WHERE t.objecttype = 'RT::Ticket' AND t.type = 'Comment' AND t.creator = $2"
    "   AND t.objectid IN (SELECT id FROM tickets WHERE effectiveid ="
    "                      (SELECT effectiveid FROM tickets WHERE id = $1))";

struct owed {
    const char *id, *ticket, *case_id, *status, *comment;
    int attempts;
};

/* The body of the write: both custom fields, and the comment when there is one. */
static char *write_body(struct brt_run *r, const struct owed *o)
{
    const struct brt_writeback *wb = &r->cfg->wb;
    json_t *doc = json_object(), *cfs = json_object();
    char url[1200], text[600];
    char *body = NULL;
    size_t n = strlen(wb->web_url);
    snprintf(url, sizeof(url), "%.*s/run?a=case&a=show&a=%s",
             (int)(n > 0 && wb->web_url[n - 1] == '/' ? n - 1 : n), wb->web_url, o->case_id);
    if (doc == NULL || cfs == NULL)
        goto out;
    json_object_set_new(cfs, wb->link_cf, json_string(url));
    if (o->status != NULL)
        json_object_set_new(cfs, wb->status_cf, json_string(o->status));
    json_object_set(doc, "CustomFields", cfs);
    if (o->comment != NULL) {
        /* The write's id lets a retry recognise a comment RT already holds. */
        snprintf(text, sizeof(text), "%s (casehost write %s)", o->comment, o->id);
        json_object_set_new(doc, "Content", json_string(text));
        json_object_set_new(doc, "ContentType", json_string("text/plain"));
    }
    body = json_dumps(doc, JSON_COMPACT);
out:
    json_decref(cfs);
    json_decref(doc);
    return body;
}

/* Runs one of the bridge's outbox functions in a transaction of its own. */
static int record(struct brt_run *r, const char *sql, int n, const char *const *p)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    if (db_start(ctx->conn, &ctx->dbuser, ctx->err, sizeof(ctx->err)) != 0)
        return -1;
    if (db_run(ctx->conn, sql, n, p, ctx->err, sizeof(ctx->err)) != 0) {
        PQclear(PQexec(ctx->conn, "ROLLBACK"));
        return -1;
    }
    return db_run(ctx->conn, "COMMIT", 0, NULL, ctx->err, sizeof(ctx->err));
}

/*
 * Whether a comment this write owes is already in RT: after a crash between
 * RT taking it and casehost recording it. RT then holds more of the bridge's
 * comments on the ticket than casehost has marked sent. 1, 0, or -1.
 */
static int comment_arrived(struct brt_run *r, const struct owed *o, long long sent_before)
{
    char uid[24];
    const char *p[2] = {o->ticket, uid};
    PGresult *res;
    long long in_rt;
    snprintf(uid, sizeof(uid), "%lld", r->rt_uid);
    res = PQexecParams(r->rt, rt_comments_sql, 2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        brt_log("warning", "cannot read RT's comments on ticket %s: %s", o->ticket,
                PQresultErrorMessage(res));
        PQclear(res);
        return -1;
    }
    in_rt = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return in_rt > sent_before;
}

/* How many comments casehost has marked sent to the tickets of the case. */
static long long comments_sent(struct brt_run *r, const struct owed *o)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    const char *p[2] = {r->cfg->name, o->case_id};
    PGresult *res = db_exec(ctx->conn, "SELECT casehost.bridge_rt_comments_sent_v1($1, $2)", 2, p,
                            ctx->err, sizeof(ctx->err));
    long long n = -1;
    if (res != NULL)
        n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

/* Sends one claimed write and records how it went; -1 only when casehost failed. */
static int deliver_one(struct brt_run *r, const struct owed *o)
{
    char path[64], why[600], delay[16];
    const char *p[3] = {o->id, why, delay};
    char *body = write_body(r, o);
    int rc, arrived = 0;

    if (body == NULL) {
        snprintf(r->cli->ctx.err, sizeof(r->cli->ctx.err), "out of memory");
        return -1;
    }
    if (o->comment != NULL && o->attempts > 1) {
        long long sent_before = comments_sent(r, o);
        if (sent_before < 0) {
            free(body);
            return -1;
        }
        arrived = comment_arrived(r, o, sent_before);
    }
    if (arrived == 1) {
        rc = 0;
        brt_log("info", "ticket %s: write %s had arrived before; not sent again", o->ticket, o->id);
    } else if (arrived < 0) {
        rc = -1;
        snprintf(why, sizeof(why), "cannot tell whether RT already holds the comment");
    } else if (r->writer->unreachable) {
        rc = -1; /* one timeout per delivery, not one per write */
        snprintf(why, sizeof(why), "RT unreachable: not tried, RT did not answer a moment ago");
    } else {
        snprintf(path, sizeof(path), "/ticket/%s%s", o->ticket,
                 o->comment != NULL ? "/comment" : "");
        rc = rest(r, o->comment != NULL ? "POST" : "PUT", path, body, why, sizeof(why));
    }
    free(body);
    if (rc == 0) {
        r->written++;
        return record(r, "SELECT casehost.bridge_rt_sent_v1($1)", 1, p);
    }
    r->write_failed++;
    /* Doubling waits, from 2 s to 10 min: RT down for an hour costs a few tries. */
    snprintf(delay, sizeof(delay), "%d", o->attempts >= 9 ? 600 : 1 << o->attempts);
    brt_log("warning", "ticket %s: write %s failed (attempt %d), next try in %s s: %s", o->ticket,
            o->id, o->attempts, delay, why);
    return record(r, "SELECT casehost.bridge_rt_retry_v1($1, $2, $3)", 3, p);
}

/* Dry run: what the writes ready now would be, claimed and rolled back. */
static int show_owed(struct brt_run *r, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        char line[900];
        snprintf(line, sizeof(line), "would write to RT ticket %s (case %s): %s = \"%s\"%s%s",
                 PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), r->cfg->wb.status_cf,
                 PQgetisnull(res, i, 3) ? "" : PQgetvalue(res, i, 3),
                 PQgetisnull(res, i, 4) ? "" : ", comment: ",
                 PQgetisnull(res, i, 4) ? "" : PQgetvalue(res, i, 4));
        out_message(r->cli->ctx.out, line);
    }
    return 0;
}

int brt_deliver(struct brt_run *r)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    const struct brt_writeback *wb = &r->cfg->wb;
    char per_minute[16], per_ticket[16];
    const char *p[5] = {r->cfg->name, BRT_CLAIM_BATCH, BRT_LEASE_SECONDS, per_minute, per_ticket};
    int claimed;
    long long failed0 = r->write_failed;

    snprintf(per_minute, sizeof(per_minute), "%d", wb->per_minute);
    snprintf(per_ticket, sizeof(per_ticket), "%d", wb->per_ticket_hour);
    r->writer->unreachable = 0;
    do {
        PGresult *res;
        int rc = 0;
        if (db_start(ctx->conn, &ctx->dbuser, ctx->err, sizeof(ctx->err)) != 0)
            return -1;
        if ((res = db_exec(ctx->conn, claim_sql, 5, p, ctx->err, sizeof(ctx->err))) == NULL) {
            PQclear(PQexec(ctx->conn, "ROLLBACK"));
            return -1;
        }
        if (r->dry_run) {
            show_owed(r, res);
            PQclear(res);
            PQclear(PQexec(ctx->conn, "ROLLBACK"));
            return 0;
        }
        if (db_run(ctx->conn, "COMMIT", 0, NULL, ctx->err, sizeof(ctx->err)) != 0) {
            PQclear(res);
            return -1;
        }
        claimed = PQntuples(res);
        for (int i = 0; i < claimed && rc == 0; i++) {
            struct owed o = {
                PQgetvalue(res, i, 0),
                PQgetvalue(res, i, 1),
                PQgetvalue(res, i, 2),
                PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3),
                PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
                (int)strtol(PQgetvalue(res, i, 5), NULL, 10),
            };
            rc = deliver_one(r, &o);
        }
        PQclear(res);
        if (rc != 0)
            return -1; /* the rest come back when their lease ends */
    } while (claimed > 0 && r->write_failed == failed0); /* a failure: RT may be down, wait */
    return 0;
}
