/*
 * dispatch.c: the outbox dispatcher. One ready row per transaction, locked
 * with FOR UPDATE SKIP LOCKED so several dispatchers share the work; the
 * referral and its consent are re-checked under lock just before the send,
 * and the outcome is committed with the row. A crash between send and commit
 * leaves the row pending, so a delivery may repeat (same idempotency key) but
 * is never lost. It must never send a referral that is not 'queued' or whose
 * consent is revoked or expired.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/query.h"
#include "outbox/dispatch.h"
#include "outbox/transport.h"

#define ERR_MAX 600 /* longest last_error stored */

#if defined(__GNUC__)
#define DISPATCH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DISPATCH_PRINTF(f, a)
#endif

/*
 * Every statement is a function that only services (and admins) may run:
 * the dispatcher's role has no privilege on the tables themselves, and the
 * payload is read nowhere else.
 *
 * The oldest ready row, locked (SKIP LOCKED: dispatchers take disjoint rows),
 * and its referral, locked too (NOWAIT, which cannot deadlock with a
 * referral's move: the row is taken again afterwards).
 */
static const char sql_take[] =
    "SELECT id, referral_id, destination_id, payload, idempotency_key, attempts, state, basis,"
    "       consent_id FROM trafficking.outbox_take_v1()";

/*
 * The consent, share-locked so a revocation waits for this send to commit
 * (then the send happened while the consent held). NOWAIT: a revocation
 * already in progress wins, and the row is looked at again afterwards.
 */
static const char sql_consent[] = "SELECT revoked, expired, revoked_at, expires_at, reason"
                                  "  FROM trafficking.outbox_consent_v1($1)";

/* Holds the row, revoking the referral when $3 (its consent no longer covers it). */
static const char sql_hold[] = "SELECT trafficking.outbox_hold_v1($1, $2, $3::boolean)";

/* The outbox row and the referral become 'sent' in one round trip. */
static const char sql_sent[] = "SELECT trafficking.outbox_sent_v1($1, $2, $3)";

static const char sql_retry[] = "SELECT trafficking.outbox_retry_v1($1, $2, $3::bigint)";

/* A failed row stays visible in the referral's history too; its state does not change. */
static const char sql_failed[] = "SELECT trafficking.outbox_failed_v1($1, $2, $3)";

/* Milliseconds until the next pending row is due (NULL when there is none). */
static const char sql_next_due[] = "SELECT trafficking.outbox_next_due_v1()";

/*
 * Statements run for every row, prepared once per connection: planning the
 * join under row-level security costs more than running it.
 */
static const char *const hot[] = {sql_take, sql_sent, sql_retry};
#define N_HOT (sizeof(hot) / sizeof(hot[0]))
#define HOT_NAME "trafficking_dispatch_%zu"

/* What became of a row; counted once its transaction has committed. */
enum outcome { OUT_SENT, OUT_HELD, OUT_RETRIED, OUT_FAILED };

/* Ready-row columns, in sql_take order. */
enum { C_ID, C_REFERRAL, C_DEST, C_PAYLOAD, C_KEY, C_ATTEMPTS, C_STATE, C_BASIS, C_CONSENT };

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct run {
    PGconn *conn;
    dispatch_lookup_fn lookup;
    void *ud;
    const struct dispatch_options *opt;
    struct dispatch_stats *stats;
    struct transport *tp;
    int prepared; /* the hot statements exist on this connection */
    char sqlstate[6];
    char *err;
    size_t errlen;
};

void dispatch_options_init(struct dispatch_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->max_attempts = 8;
    opt->backoff_ms = 1000;
    opt->backoff_cap_ms = 3600L * 1000;
    opt->timeout_ms = 30000;
    opt->idle_ms = 1000;
}

long dispatch_backoff_ms(long base_ms, int failures, long cap_ms)
{
    long d = base_ms < 0 ? 0 : base_ms;
    if (cap_ms < 0)
        cap_ms = 0;
    for (int i = 1; i < failures && d < cap_ms; i++)
        d = d > cap_ms / 2 ? cap_ms : d * 2;
    return d < cap_ms ? d : cap_ms;
}

static void note(struct run *run, int warning, const char *fmt, ...) DISPATCH_PRINTF(3, 4);

/* Logs a line through opt->log, if any. */
static void note(struct run *run, int warning, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (run->opt->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    run->opt->log(run->opt->log_ud, warning, msg);
}

/*
 * Runs one statement with text parameters. Returns the result (caller
 * PQclears) when its status is want, else NULL with the message (the
 * server's, with its DETAIL and HINT: trf_query_error) in run->err and the
 * SQLSTATE in run->sqlstate.
 */
static PGresult *sql(struct run *run, const char *text, int n, const char *const *params,
                     ExecStatusType want)
{
    char name[40];
    PGresult *r;
    size_t i = 0;
    while (i < N_HOT && hot[i] != text)
        i++;
    if (i < N_HOT && run->prepared) {
        snprintf(name, sizeof(name), HOT_NAME, i);
        r = PQexecPrepared(run->conn, name, n, params, NULL, NULL, 0);
    } else {
        r = PQexecParams(run->conn, text, n, NULL, params, NULL, NULL, 0);
    }
    if (PQresultStatus(r) == want)
        return r;
    snprintf(run->sqlstate, sizeof(run->sqlstate), "%s", trf_query_sqlstate(r));
    trf_query_error(run->conn, r, run->err, run->errlen, NULL);
    PQclear(r);
    return NULL;
}

static int sql_do(struct run *run, const char *text, int n, const char *const *params,
                  ExecStatusType want)
{
    PGresult *r = sql(run, text, n, params, want);
    PQclear(r);
    return r != NULL ? 0 : -1;
}

/*
 * Whether the locked row may leave now. 0: yes. 1: no, with why and
 * *revoke set when the referral must become 'revoked'. -1: error.
 */
static int may_leave(struct run *run, const PGresult *row, char *why, size_t whylen, int *revoke)
{
    const char *referral = PQgetvalue(row, 0, C_REFERRAL);
    const char *state = PQgetvalue(row, 0, C_STATE);
    const char *consent = PQgetvalue(row, 0, C_CONSENT);
    const char *params[1] = {consent};
    PGresult *c;
    int rc = 0;
    *revoke = 0;
    if (strcmp(state, "queued") != 0) {
        snprintf(why, whylen, "not sent: referral %s is %s, not queued", referral, state);
        return 1;
    }
    if (strcmp(PQgetvalue(row, 0, C_BASIS), "consent") != 0)
        return 0; /* a mandatory report or imminent danger leaves without consent */
    if (PQgetisnull(row, 0, C_CONSENT)) {
        snprintf(why, whylen, "not sent: referral %s has basis consent but no consent", referral);
        *revoke = 1;
        return 1;
    }
    if ((c = sql(run, sql_consent, 1, params, PGRES_TUPLES_OK)) == NULL)
        return -1;
    *revoke = 1;
    rc = 1;
    if (PQntuples(c) != 1)
        snprintf(why, whylen, "not sent: consent %s of referral %s is not found", consent,
                 referral);
    else if (strcmp(PQgetvalue(c, 0, 0), "t") == 0)
        snprintf(why, whylen, "not sent: consent %s was revoked at %s%s%s%s", consent,
                 PQgetvalue(c, 0, 2), PQgetvalue(c, 0, 4)[0] ? " (" : "", PQgetvalue(c, 0, 4),
                 PQgetvalue(c, 0, 4)[0] ? ")" : "");
    else if (strcmp(PQgetvalue(c, 0, 1), "t") == 0)
        snprintf(why, whylen, "not sent: consent %s expired at %s", consent, PQgetvalue(c, 0, 3));
    else
        *revoke = rc = 0;
    PQclear(c);
    return rc;
}

/* Holds the row (and revokes the referral when its consent no longer covers it). */
static int hold(struct run *run, const PGresult *row, const char *why, int revoke)
{
    const char *p_out[3] = {PQgetvalue(row, 0, C_ID), why, revoke ? "true" : "false"};
    if (sql_do(run, sql_hold, 3, p_out, PGRES_TUPLES_OK) != 0)
        return -1;
    note(run, 1, "outbox %s held: %s", PQgetvalue(row, 0, C_ID), why);
    return 0;
}

static const char *channel_name(const struct dispatch_target *t)
{
    switch (t->channel) {
    case DISPATCH_WEBHOOK:
        return "webhook";
    case DISPATCH_COMMAND:
        return "command";
    case DISPATCH_SPOOL:
        return "spool";
    }
    return "unknown channel";
}

/* Sends the row and records the outcome: sent, retry later, or failed for good. */
static int deliver(struct run *run, const PGresult *row, enum outcome *outcome)
{
    const char *id = PQgetvalue(row, 0, C_ID), *dest = PQgetvalue(row, 0, C_DEST);
    const char *payload = PQgetvalue(row, 0, C_PAYLOAD);
    int failures = (int)strtol(PQgetvalue(row, 0, C_ATTEMPTS), NULL, 10) + 1;
    const struct dispatch_target *target = run->lookup(run->ud, dest);
    char why[ERR_MAX + 1] = "", detail[300], delay[24];
    if (target == NULL)
        snprintf(why, sizeof(why), "no dispatch target is configured for destination '%s'", dest);
    else if (transport_send(run->tp, target, PQgetvalue(row, 0, C_KEY), payload,
                            (size_t)PQgetlength(row, 0, C_PAYLOAD), run->opt->timeout_ms, why,
                            sizeof(why)) == 0) {
        const char *p_sent[3] = {id, detail, payload};
        snprintf(detail, sizeof(detail), "sent to %s by %s (attempt %d)", dest,
                 channel_name(target), failures);
        if (sql_do(run, sql_sent, 3, p_sent, PGRES_TUPLES_OK) != 0)
            return -1;
        *outcome = OUT_SENT;
        return 0;
    }
    if (why[0] == '\0')
        snprintf(why, sizeof(why), "delivery failed");
    if (failures >= run->opt->max_attempts) {
        const char *p_out[3] = {id, why, detail};
        snprintf(detail, sizeof(detail), "dispatch to %s failed after %d attempts: %.200s", dest,
                 failures, why);
        if (sql_do(run, sql_failed, 3, p_out, PGRES_TUPLES_OK) != 0)
            return -1;
        *outcome = OUT_FAILED;
        note(run, 1, "outbox %s failed: %s", id, detail);
        return 0;
    }
    snprintf(delay, sizeof(delay), "%ld",
             dispatch_backoff_ms(run->opt->backoff_ms, failures, run->opt->backoff_cap_ms));
    {
        const char *p_out[3] = {id, why, delay};
        if (sql_do(run, sql_retry, 3, p_out, PGRES_TUPLES_OK) != 0)
            return -1;
    }
    *outcome = OUT_RETRIED;
    note(run, 0, "outbox %s: attempt %d to %s failed (%s); next in %s ms", id, failures, dest, why,
         delay);
    return 0;
}

/*
 * Prepares the hot statements on this connection. One a previous run left
 * behind (same text: same process) is kept.
 */
static int prepare(struct run *run)
{
    for (size_t i = 0; i < N_HOT; i++) {
        char name[40];
        PGresult *r;
        const char *state;
        snprintf(name, sizeof(name), HOT_NAME, i);
        r = PQprepare(run->conn, name, hot[i], 0, NULL);
        state = trf_query_sqlstate(r);
        if (PQresultStatus(r) != PGRES_COMMAND_OK &&
            strcmp(state, "42P05") != 0) { /* duplicate_prepared_statement */
            snprintf(run->sqlstate, sizeof(run->sqlstate), "%s", state);
            trf_query_error(run->conn, r, run->err, run->errlen, "cannot prepare %s", name);
            PQclear(r);
            return -1;
        }
        PQclear(r);
    }
    run->prepared = 1;
    return 0;
}

/* Leaves the session as the host gave it: without this run's statements. */
static void unprepare(struct run *run)
{
    if (!run->prepared || PQstatus(run->conn) != CONNECTION_OK)
        return;
    for (size_t i = 0; i < N_HOT; i++) {
        char text[60];
        snprintf(text, sizeof(text), "DEALLOCATE " HOT_NAME, i);
        PQclear(PQexec(run->conn, text));
    }
    run->prepared = 0;
}

/* 1 when a row was handled, 0 when none is ready, -1 on error (run->err, run->sqlstate). */
static int dispatch_one(struct run *run)
{
    PGresult *row = NULL;
    char why[600];
    int rc = -1, r, revoke;
    enum outcome outcome = OUT_HELD;

    run->sqlstate[0] = '\0';
    if (!run->prepared && prepare(run) != 0)
        goto out;
    if (sql_do(run, "BEGIN", 0, NULL, PGRES_COMMAND_OK) != 0)
        goto out;
    if ((row = sql(run, sql_take, 0, NULL, PGRES_TUPLES_OK)) == NULL)
        goto out;
    if (PQntuples(row) == 0) {
        rc = sql_do(run, "COMMIT", 0, NULL, PGRES_COMMAND_OK) == 0 ? 0 : -1;
        goto out;
    }
    r = may_leave(run, row, why, sizeof(why), &revoke);
    if (r < 0 || (r == 1 && hold(run, row, why, revoke) != 0) ||
        (r == 0 && deliver(run, row, &outcome) != 0))
        goto out;
    if (sql_do(run, "COMMIT", 0, NULL, PGRES_COMMAND_OK) != 0) {
        /* A delivery that is not recorded is made again later, with the same key. */
        note(run, 1, "outbox %s: outcome not recorded: %s", PQgetvalue(row, 0, C_ID), run->err);
        goto out;
    }
    switch (outcome) {
    case OUT_SENT:
        run->stats->sent++;
        break;
    case OUT_HELD:
        run->stats->held++;
        break;
    case OUT_RETRIED:
        run->stats->retried++;
        break;
    case OUT_FAILED:
        run->stats->failed++;
        break;
    }
    rc = 1;
out:
    if (rc < 0 && PQstatus(run->conn) == CONNECTION_OK &&
        PQtransactionStatus(run->conn) != PQTRANS_IDLE)
        PQclear(PQexec(run->conn, "ROLLBACK"));
    PQclear(row);
    return rc;
}

/* Sleeps ms, returning early on a stop signal. */
static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    if (!stop_requested)
        nanosleep(&ts, NULL); /* EINTR from the stop signal ends it */
}

/* Long-running mode with nothing ready: sleep until the next row is due, at most idle_ms. */
static void idle(struct run *run)
{
    PGresult *r = sql(run, sql_next_due, 0, NULL, PGRES_TUPLES_OK);
    long ms = run->opt->idle_ms;
    if (r != NULL && !PQgetisnull(r, 0, 0)) {
        long due = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        ms = due < ms ? due : ms;
    }
    PQclear(r);
    nap(ms < 10 ? 10 : ms);
}

/* Reconnects until it works or a stop is asked for (then -1). */
static int reconnect(struct run *run)
{
    long delay = 100;
    while (!stop_requested) {
        PQreset(run->conn);
        run->prepared = 0; /* a new session has none of them */
        /* Identity is the role the connection logs in as: nothing to restore. */
        if (PQstatus(run->conn) == CONNECTION_OK) {
            run->stats->reconnects++;
            note(run, 1, "reconnected to the database");
            return 0;
        }
        if (PQstatus(run->conn) != CONNECTION_OK)
            snprintf(run->err, run->errlen, "%s", PQerrorMessage(run->conn));
        run->err[strcspn(run->err, "\n")] = '\0';
        note(run, 1, "cannot reconnect (%s); trying again in %ld ms", run->err, delay);
        nap(delay);
        delay = delay < 2500 ? delay * 2 : 5000;
    }
    snprintf(run->err, run->errlen, "stopped while reconnecting to the database");
    return -1;
}

/* Errors after which the same row is simply looked at again. */
static int transient(const char *sqlstate)
{
    return strcmp(sqlstate, "40001") == 0     /* serialization_failure */
           || strcmp(sqlstate, "40P01") == 0  /* deadlock_detected */
           || strcmp(sqlstate, "55P03") == 0; /* lock_not_available: referral or consent
                                                  being changed */
}

int dispatch_run(PGconn *conn, dispatch_lookup_fn lookup, void *ud,
                 const struct dispatch_options *opt, struct dispatch_stats *stats, char *err,
                 size_t errlen)
{
    struct sigaction sa, old_term, old_int, old_pipe;
    struct run run;
    int rc = -1, r;

    memset(stats, 0, sizeof(*stats));
    memset(&run, 0, sizeof(run));
    run.conn = conn;
    run.lookup = lookup;
    run.ud = ud;
    run.opt = opt;
    run.stats = stats;
    run.err = err;
    run.errlen = errlen;
    err[0] = '\0';
    if (opt->max_attempts < 1 || opt->backoff_ms < 0 || opt->timeout_ms < 1 || opt->idle_ms < 1) {
        snprintf(err, errlen, "dispatch: max_attempts, timeout and idle must be positive");
        return -1;
    }
    if ((run.tp = transport_new(err, errlen)) == NULL)
        return -1;
    /* No SA_RESTART: the signal cuts an idle sleep short. SIGPIPE: a command that
     * does not read its stdin must not end the dispatcher. */
    stop_requested = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);

    while (!stop_requested) {
        r = dispatch_one(&run);
        if (r > 0)
            continue;
        if (r == 0) {
            if (opt->once)
                break;
            idle(&run);
            continue;
        }
        if (transient(run.sqlstate)) {
            nap(20);
            continue;
        }
        if (!opt->once && PQstatus(conn) == CONNECTION_BAD) {
            note(&run, 1, "lost the database connection: %s", err);
            if (reconnect(&run) != 0)
                goto out;
            continue;
        }
        goto out;
    }
    rc = 0;
out:
    unprepare(&run);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    transport_free(run.tp);
    return rc;
}
