/*
 * dispatch.c: the outbox dispatcher. A claim (one short transaction) takes
 * the oldest ready rows, up to a batch, with FOR UPDATE SKIP LOCKED on each
 * row and its referral, checks consent, declines and safe contact again,
 * builds each payload from the live facts and leases each row; the sends run
 * one by one with no lock held; after each, a short transaction records its
 * outcome if the lease is still ours. A worker that dies leaves its leases
 * to run out and another sends the row it had in flight again under the same
 * idempotency key: a delivery may repeat (that one row) but is never lost;
 * the rows it had claimed and not sent wait for their leases, unsent. It must
 * never send a referral that is not 'queued' or whose consent is revoked or
 * expired, and never let a failure pass silently.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
 * payload is read nowhere else. Each runs as its own transaction: no row
 * lock is held while a payload is on its way.
 *
 * The oldest ready rows ($2 at most) with their referrals, locked with SKIP
 * LOCKED (a row another session holds is passed over, never waited for),
 * each checked again as it is now (referral state, consent, declines, safe
 * contact) and either held with the reason or leased to this worker for $1 ms
 * with the payload built now (026_claim_batches.sql).
 */
static const char sql_claim[] =
    "SELECT id, referral_id, destination_id, payload, idempotency_key, attempts, action, reason,"
    "       claim FROM trafficking.outbox_claim_v2($1::bigint, $2::integer)";

/*
 * A row claimed some sends ago in a batch, vetted again just before its send
 * ($1 the row, $2 its claim): 'send' with the payload built now, 'held' (by
 * this call) or 'lost' (no longer this worker's to send), with the reason.
 */
static const char sql_confirm[] =
    "SELECT action, reason, payload FROM trafficking.outbox_confirm_v1($1::bigint, $2)";

/* The outcomes, recorded only while the lease ($2) is still this worker's: true, else false. */
static const char sql_sent[] = "SELECT trafficking.outbox_sent_v2($1, $2, $3, $4)";
static const char sql_retry[] = "SELECT trafficking.outbox_retry_v2($1, $2, $3, $4::bigint)";
/* The referral becomes 'delivery_failed' with the reason: never a silent state change. */
static const char sql_failed[] = "SELECT trafficking.outbox_failed_v2($1, $2, $3, $4)";

/* Milliseconds until the next pending referral or notice is due (NULL when there is none). */
static const char sql_next_due[] = "SELECT trafficking.dispatch_next_due_v1()";

/*
 * Notices to people (014_notifications.sql): claimed with a lease like a
 * referral, and their outcome ('sent', 'retry' after $5 ms, 'failed')
 * recorded only under the lease ($2).
 */
static const char sql_notice_claim[] =
    "SELECT id, referral_id, kind, payload, idempotency_key, attempts, claim"
    "  FROM trafficking.notice_claim_v1($1::bigint)";
static const char sql_notice_done[] =
    "SELECT trafficking.notice_done_v1($1, $2, $3, $4, $5::bigint)";

/* A claimed row given back unsent ($1 'outbox' or 'notice'): another worker takes it at once. */
static const char sql_release[] = "SELECT trafficking.dispatch_release_v1($1, $2, $3)";

/* What dispatch --health reads: this worker's start, good cycles, sends, errors and stop. */
static const char sql_beat[] =
    "SELECT trafficking.dispatch_heartbeat_v1($1, $2::integer, $3, $4::bigint, $5)";

/* The channel the SQL that queues an outbox row notifies (013_delivery.sql). */
static const char sql_listen[] = "LISTEN trafficking_outbox";

/*
 * Statements run for every row, prepared once per connection: planning the
 * join under row-level security costs more than running it.
 */
static const char *const hot[] = {sql_claim, sql_confirm,      sql_sent,
                                  sql_retry, sql_notice_claim, sql_notice_done};
#define N_HOT (sizeof(hot) / sizeof(hot[0]))
#define HOT_NAME "trafficking_dispatch_%zu"

/* What a sent row becomes once its outcome is recorded. */
enum outcome { OUT_SENT, OUT_RETRIED, OUT_FAILED };

/* Claimed-row columns, in sql_claim order. */
enum { C_ID, C_REFERRAL, C_DEST, C_PAYLOAD, C_KEY, C_ATTEMPTS, C_ACTION, C_REASON, C_CLAIM };

/* Claimed-notice columns, in sql_notice_claim order. */
enum { N_ID, N_REFERRAL, N_KIND, N_PAYLOAD, N_KEY, N_ATTEMPTS, N_CLAIM };

/* How often the health record is written while busy or idle (at most). */
#define BEAT_MS 1000L

static volatile sig_atomic_t stop_requested, hangup_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/*
 * SIGHUP: the host config is read once, when the process starts, and a
 * plugin cannot have the host read it again; so the cycle under way is
 * finished (a send is recorded, not released) and the run ends cleanly for
 * the service manager to start it again on the new host config.
 */
static void on_hangup(int sig)
{
    (void)sig;
    hangup_requested = 1;
}

/* A stop or a hangup was asked for: wait for nothing more. */
static int ending(void)
{
    return stop_requested || hangup_requested;
}

struct run {
    PGconn *conn;
    dispatch_lookup_fn lookup;
    void *ud;
    const struct dispatch_options *opt;
    struct dispatch_stats *stats;
    struct transport *tp;
    int prepared;           /* the hot statements exist on this connection */
    int listening;          /* LISTEN trafficking_outbox is on for this session */
    long unbeaten_sent;     /* sent since the health record was last written */
    struct timespec beaten; /* when it was last written */
    int beat_warned;        /* its failure was logged already */
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
    opt->idle_ms = 30000; /* a safety net: NOTIFY wakes the dispatcher */
    opt->lease_ms = 0;
    opt->batch = 16;
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

static void note(struct run *run, int level, const char *fmt, ...) DISPATCH_PRINTF(3, 4);
static int drain_notifies(struct run *run);

/* Logs a line through opt->log, if any. */
static void note(struct run *run, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (run->opt->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    run->opt->log(run->opt->log_ud, level, msg);
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

/*
 * Runs a statement that records something under a claim (params[1]) and
 * answers whether it did: 1 recorded, 0 not (the claim is no longer the
 * row's lease: another worker took it after it ran out, or it was held
 * meanwhile), -1 on error (run->err).
 */
static int under_claim(struct run *run, const char *text, int n, const char *const *params)
{
    PGresult *r = sql(run, text, n, params, PGRES_TUPLES_OK);
    int yes;
    if (r == NULL)
        return -1;
    yes = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return yes;
}

/* Why a claimed row is given back unsent (release). */
#define WHY_STOP "stopping"
#define WHY_LEASE "its lease no longer covers a send"
#define WHY_ERROR "its batch stopped at an error"

/*
 * Gives the claimed row back (what: "outbox" or "notice") unsent, for why:
 * a stop was asked for before or while it was sent, or it is a later row of
 * a batch (WHY_LEASE, WHY_ERROR). Its lease is cleared, so another worker
 * takes it at once, and the attempt is not counted. 0, or -1 (the lease then
 * runs out by itself).
 */
static int release(struct run *run, const char *what, const char *id, const char *claim,
                   const char *referral, const char *why)
{
    const char *params[3] = {what, id, claim};
    int ours = under_claim(run, sql_release, 3, params);
    if (ours < 0) {
        note(run, DISPATCH_LOG_WARNING,
             "referral %s: cannot release the %s row (%s: %s); its lease runs out", referral, what,
             why, run->err);
        return -1;
    }
    if (!ours) {
        note(run, DISPATCH_LOG_INFO,
             "referral %s: %s; %s row %s was no longer this worker's (held or taken since its "
             "claim): nothing to release",
             referral, why, what, id);
        return 0;
    }
    run->stats->released++;
    note(run, DISPATCH_LOG_INFO, "referral %s: %s; %s row %s released unsent", referral, why, what,
         id);
    return 0;
}

/*
 * The outcome of a send, to be recorded: the statement (sql_sent, sql_retry
 * or sql_failed), its parameters (borrowed from the claim's result and the
 * buffers here) and what the row becomes once it is recorded.
 */
struct outcome_rec {
    const char *text;
    const char *params[4];
    enum outcome recorded; /* OUT_SENT, OUT_RETRIED or OUT_FAILED */
    const char *referral, *dest;
    int failures;
    char detail[300], why[ERR_MAX + 1], delay[24];
};

/*
 * Sends claimed row i of rows with payload (len bytes, borrowed until the
 * outcome is recorded; no transaction open, no row locked) and fills *rec
 * with the outcome to record: sent, retry later, or failed for good. A send
 * that fails while a stop is asked for (a command killed with the service,
 * say) is not counted: the row is released for another worker. 0 with *rec
 * filled, 1 when the row was released, -1 on error.
 */
static int send_row(struct run *run, const PGresult *rows, int i, const char *payload, size_t len,
                    struct outcome_rec *rec)
{
    const char *id = PQgetvalue(rows, i, C_ID), *claim = PQgetvalue(rows, i, C_CLAIM);
    const struct dispatch_target *target;

    rec->dest = PQgetvalue(rows, i, C_DEST);
    rec->referral = PQgetvalue(rows, i, C_REFERRAL);
    rec->failures = (int)strtol(PQgetvalue(rows, i, C_ATTEMPTS), NULL, 10) + 1;
    rec->why[0] = '\0';
    rec->params[0] = id;
    rec->params[1] = claim;
    target = run->lookup(run->ud, rec->dest);
    if (target == NULL)
        snprintf(rec->why, sizeof(rec->why),
                 "no dispatch target is configured for destination '%s'", rec->dest);
    else if (transport_send(run->tp, target, PQgetvalue(rows, i, C_KEY), payload, len,
                            run->opt->timeout_ms, rec->why, sizeof(rec->why)) == 0) {
        snprintf(rec->detail, sizeof(rec->detail), "sent to %s by %s (attempt %d)", rec->dest,
                 channel_name(target), rec->failures);
        rec->text = sql_sent;
        rec->recorded = OUT_SENT;
        rec->params[2] = rec->detail;
        rec->params[3] = payload;
        return 0;
    }
    if (stop_requested && target != NULL)
        return release(run, "outbox", id, claim, rec->referral, WHY_STOP) == 0 ? 1 : -1;
    if (rec->why[0] == '\0')
        snprintf(rec->why, sizeof(rec->why), "delivery failed");
    rec->params[2] = rec->why;
    if (rec->failures >= run->opt->max_attempts) {
        snprintf(rec->detail, sizeof(rec->detail),
                 "dispatch to %s failed after %d attempts: %.200s", rec->dest, rec->failures,
                 rec->why);
        rec->text = sql_failed;
        rec->recorded = OUT_FAILED;
        rec->params[3] = rec->detail;
        return 0;
    }
    snprintf(rec->delay, sizeof(rec->delay), "%ld",
             dispatch_backoff_ms(run->opt->backoff_ms, rec->failures, run->opt->backoff_cap_ms));
    rec->text = sql_retry;
    rec->recorded = OUT_RETRIED;
    rec->params[3] = rec->delay;
    return 0;
}

/* Counts and logs an outcome once its statement ran, recorded or not. */
static void tally(struct run *run, const struct outcome_rec *rec, int recorded)
{
    if (!recorded) {
        run->stats->lost_leases++;
        if (rec->recorded == OUT_SENT) /* It left: whoever holds the row now must learn it here. */
            note(run, DISPATCH_LOG_ERROR,
                 "referral %s: %s, but the send was not recorded: outbox row %s is no longer "
                 "this worker's (its lease ran out and another worker took it, or it was held "
                 "or revoked while on its way)",
                 rec->referral, rec->detail, rec->params[0]);
        else
            note(run, DISPATCH_LOG_WARNING,
                 "referral %s: attempt %d to %s failed (%s); the outcome was not recorded: the "
                 "row is no longer this worker's (its lease ran out and another worker took it, "
                 "or it was held or revoked meanwhile)",
                 rec->referral, rec->failures, rec->dest, rec->why);
        return;
    }
    switch (rec->recorded) {
    case OUT_SENT:
        run->stats->sent++;
        run->unbeaten_sent++;
        note(run, DISPATCH_LOG_INFO, "referral %s: %s", rec->referral, rec->detail);
        break;
    case OUT_FAILED:
        run->stats->failed++;
        /* Once, with the referral a person looks up: `referral retry` takes this id. */
        note(run, DISPATCH_LOG_ERROR, "referral %s: delivery failed for good: %s", rec->referral,
             rec->detail);
        break;
    case OUT_RETRIED:
        run->stats->retried++;
        note(run, DISPATCH_LOG_INFO, "referral %s: attempt %d to %s failed (%s); next in %s ms",
             rec->referral, rec->failures, rec->dest, rec->why, rec->delay);
        break;
    }
}

/*
 * Records the outcome of a send at once, in a transaction of its own: a row
 * that has left is never left unrecorded behind another row's send, so a
 * worker that dies sends again at most the one row it had in flight. Counted
 * and logged. 0, or -1 when it could not be recorded (run->err; its lease
 * runs out and the row is sent again, under the same key).
 */
static int record_outcome(struct run *run, const struct outcome_rec *rec)
{
    int recorded = under_claim(run, rec->text, 4, rec->params);
    if (recorded < 0)
        return -1;
    tally(run, rec, recorded);
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

/* Leaves the session as the host gave it: without this run's statements or LISTEN. */
static void unprepare(struct run *run)
{
    if (PQstatus(run->conn) != CONNECTION_OK)
        return;
    if (run->listening) {
        PQclear(PQexec(run->conn, "UNLISTEN trafficking_outbox"));
        drain_notifies(run);
        run->listening = 0;
    }
    if (!run->prepared)
        return;
    for (size_t i = 0; i < N_HOT; i++) {
        char text[60];
        snprintf(text, sizeof(text), "DEALLOCATE " HOT_NAME, i);
        PQclear(PQexec(run->conn, text));
    }
    run->prepared = 0;
}

/* Milliseconds since t0 (CLOCK_MONOTONIC). */
static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - t0->tv_sec) * 1000L + (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* The lease a claim takes: what a send may last, twice over, and a second. */
static long lease_ms(const struct dispatch_options *opt)
{
    return opt->lease_ms > 0 ? opt->lease_ms : 2 * opt->timeout_ms + 1000;
}

/*
 * What a lease keeps beyond a whole send for recording its outcome: a later
 * row of a batch is sent only while its lease still covers a send and this.
 */
#define LEASE_MARGIN_MS 1000L

/*
 * Rows one claim takes: opt->batch, or one at a time when the lease does not
 * cover two whole sends and the margin (a batch's later rows would only be
 * released).
 */
static int claim_size(const struct dispatch_options *opt)
{
    return lease_ms(opt) >= 2 * opt->timeout_ms + LEASE_MARGIN_MS ? opt->batch : 1;
}

/*
 * Row i of a batch, claimed some sends ago, vetted again just before its send
 * (outbox_confirm_v1): the result, whose payload (column 2) is the one to
 * send, when it may leave; NULL with *skip 1 when it was held or is no longer
 * this worker's (logged), with *skip 0 on error.
 */
static PGresult *confirm(struct run *run, const PGresult *rows, int i, int *skip)
{
    const char *params[2] = {PQgetvalue(rows, i, C_ID), PQgetvalue(rows, i, C_CLAIM)};
    const char *referral = PQgetvalue(rows, i, C_REFERRAL), *action;
    PGresult *r = sql(run, sql_confirm, 2, params, PGRES_TUPLES_OK);
    *skip = 0;
    if (r == NULL)
        return NULL;
    action = PQgetvalue(r, 0, 0);
    if (strcmp(action, "send") == 0)
        return r;
    *skip = 1;
    if (strcmp(action, "held") == 0) {
        note(run, DISPATCH_LOG_WARNING, "referral %s held: %s", referral, PQgetvalue(r, 0, 1));
        run->stats->held++;
    } else {
        note(run, DISPATCH_LOG_WARNING, "referral %s: outbox row %s not sent: %s", referral,
             params[0], PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return NULL;
}

/*
 * Claims up to a batch of ready rows in one short transaction (one commit
 * and one identity check for the batch, not one per row), then sends them
 * one by one with no lock held, recording each outcome as soon as its send
 * ends. The first row that may leave comes vetted with its payload and
 * leaves as a single claim's would; each later one is vetted, its payload
 * built, only just before its send (confirm), so that what was true some
 * sends ago is not what decides, and it is sent only while its lease still
 * covers a whole send and the margin. A stop releases
 * the rows not yet sent; a hangup lets the send under way finish and
 * releases the rest. 1 when a row was handled, 0 when none is ready, -1 on
 * error (run->err, run->sqlstate; the rows of the batch not yet tried are
 * then released while the connection lasts, else they wait for their
 * leases).
 */
static int dispatch_batch(struct run *run)
{
    PGresult *rows = NULL, *fresh = NULL;
    char lease[24], size[12];
    const char *params[2] = {lease, size};
    struct timespec claimed;
    struct outcome_rec rec;
    long lease_len = lease_ms(run->opt);
    int n = 0, i = 0, tried = 0, rc = -1;

    run->sqlstate[0] = '\0';
    if (!run->prepared && prepare(run) != 0)
        return -1;
    snprintf(lease, sizeof(lease), "%ld", lease_len);
    snprintf(size, sizeof(size), "%d", claim_size(run->opt));
    /* Before the claim: each lease starts inside it. */
    clock_gettime(CLOCK_MONOTONIC, &claimed);
    /* The claim commits on its own: the sends below hold no row lock. */
    if ((rows = sql(run, sql_claim, 2, params, PGRES_TUPLES_OK)) == NULL)
        goto out;
    n = PQntuples(rows);
    if (n > 0)
        run->stats->claims++;
    for (i = 0; i < n; i++) {
        const char *referral = PQgetvalue(rows, i, C_REFERRAL), *payload;
        size_t len;
        int sent, skip;
        if (strcmp(PQgetvalue(rows, i, C_ACTION), "held") == 0) {
            note(run, DISPATCH_LOG_WARNING, "referral %s held: %s", referral,
                 PQgetvalue(rows, i, C_REASON));
            run->stats->held++;
            continue;
        }
        if (stop_requested ||
            (tried && (hangup_requested ||
                       ms_since(&claimed) + run->opt->timeout_ms + LEASE_MARGIN_MS >= lease_len))) {
            /* Nothing of it has left: another worker (or the next run) sends it now. */
            if (release(run, "outbox", PQgetvalue(rows, i, C_ID), PQgetvalue(rows, i, C_CLAIM),
                        referral, ending() ? WHY_STOP : WHY_LEASE) != 0)
                goto out;
            continue;
        }
        payload = PQgetvalue(rows, i, C_PAYLOAD);
        len = (size_t)PQgetlength(rows, i, C_PAYLOAD);
        /* The claim vets only up to the first row that may leave; the rest come without payload. */
        if (PQgetisnull(rows, i, C_PAYLOAD)) {
            if ((fresh = confirm(run, rows, i, &skip)) == NULL) {
                if (!skip)
                    goto out;
                continue;
            }
            payload = PQgetvalue(fresh, 0, 2);
            len = (size_t)PQgetlength(fresh, 0, 2);
        }
        tried = 1;
        if ((sent = send_row(run, rows, i, payload, len, &rec)) < 0)
            goto out;
        /* Not recorded: the lease runs out and the row is sent again, with the same key. */
        if (sent == 0 && record_outcome(run, &rec) != 0)
            goto out;
        PQclear(fresh);
        fresh = NULL;
    }
    rc = n > 0;
out:
    PQclear(fresh);
    if (rc < 0 && PQstatus(run->conn) == CONNECTION_OK &&
        PQtransactionStatus(run->conn) != PQTRANS_IDLE)
        PQclear(PQexec(run->conn, "ROLLBACK"));
    if (rc < 0 && rows != NULL) {
        /* Row i failed (sent or not, it keeps its lease); the rest never left. */
        char keep[ERR_MAX + 1], state[6];
        snprintf(keep, sizeof(keep), "%s", run->err);
        snprintf(state, sizeof(state), "%s", run->sqlstate);
        for (int j = i + 1; j < n && PQstatus(run->conn) == CONNECTION_OK; j++)
            if (strcmp(PQgetvalue(rows, j, C_ACTION), "send") == 0)
                release(run, "outbox", PQgetvalue(rows, j, C_ID), PQgetvalue(rows, j, C_CLAIM),
                        PQgetvalue(rows, j, C_REFERRAL), WHY_ERROR);
        snprintf(run->err, run->errlen, "%s", keep);
        snprintf(run->sqlstate, sizeof(run->sqlstate), "%s", state);
    }
    PQclear(rows);
    return rc;
}

/*
 * Claims, sends and records one notice to people (1), or finds none ready
 * (0); -1 on error. Nothing notifies about a notice: one that fails for good
 * is logged at error level and stays 'failed' in trafficking.notices.
 */
static int notice_one(struct run *run)
{
    const struct dispatch_target *target = run->opt->notice_target;
    PGresult *row = NULL;
    char lease[24], delay[24] = "0", why[ERR_MAX + 1] = "";
    const char *params[5] = {lease, NULL, NULL, NULL, NULL};
    const char *id, *claim, *referral, *kind, *outcome;
    int rc = -1, failures, recorded;

    if (target == NULL || stop_requested)
        return 0;
    run->sqlstate[0] = '\0';
    snprintf(lease, sizeof(lease), "%ld", lease_ms(run->opt));
    if ((row = sql(run, sql_notice_claim, 1, params, PGRES_TUPLES_OK)) == NULL)
        goto out;
    if (PQntuples(row) == 0) {
        rc = 0;
        goto out;
    }
    id = PQgetvalue(row, 0, N_ID);
    claim = PQgetvalue(row, 0, N_CLAIM);
    referral = PQgetvalue(row, 0, N_REFERRAL);
    kind = PQgetvalue(row, 0, N_KIND);
    failures = (int)strtol(PQgetvalue(row, 0, N_ATTEMPTS), NULL, 10) + 1;
    if (!stop_requested &&
        transport_send(run->tp, target, PQgetvalue(row, 0, N_KEY), PQgetvalue(row, 0, N_PAYLOAD),
                       (size_t)PQgetlength(row, 0, N_PAYLOAD), run->opt->timeout_ms, why,
                       sizeof(why)) == 0)
        outcome = "sent";
    else if (stop_requested) {
        rc = release(run, "notice", id, claim, referral, WHY_STOP) == 0 ? 1 : -1;
        goto out;
    } else if (failures >= run->opt->max_attempts)
        outcome = "failed";
    else {
        outcome = "retry";
        snprintf(delay, sizeof(delay), "%ld",
                 dispatch_backoff_ms(run->opt->backoff_ms, failures, run->opt->backoff_cap_ms));
    }
    if (why[0] == '\0' && strcmp(outcome, "sent") != 0)
        snprintf(why, sizeof(why), "delivery failed");
    {
        const char *p_done[5] = {id, claim, outcome, why[0] ? why : NULL, delay};
        if ((recorded = under_claim(run, sql_notice_done, 5, p_done)) < 0)
            goto out;
    }
    rc = 1;
    if (!recorded) {
        run->stats->lost_leases++;
        note(run, DISPATCH_LOG_WARNING,
             "referral %s: notice %s: the lease ran out before the outcome was recorded", referral,
             id);
    } else if (strcmp(outcome, "sent") == 0) {
        run->stats->notices_sent++;
        run->unbeaten_sent++;
        note(run, DISPATCH_LOG_INFO, "referral %s: %s notice %s sent by %s", referral, kind, id,
             channel_name(target));
    } else if (strcmp(outcome, "failed") == 0) {
        run->stats->notices_failed++;
        note(run, DISPATCH_LOG_ERROR,
             "referral %s: %s notice %s failed for good after %d attempts (%s): nobody was told; "
             "see trafficking.notices",
             referral, kind, id, failures, why);
    } else {
        run->stats->notices_retried++;
        note(run, DISPATCH_LOG_WARNING,
             "referral %s: %s notice %s: attempt %d failed (%s); next in %s ms", referral, kind, id,
             failures, why, delay);
    }
out:
    PQclear(row);
    return rc;
}

/*
 * Writes this worker's health record (opt->worker): event "start", "ok" (a
 * cycle ended without error, with what was sent since the last record),
 * "error" (error) or "stop". "ok" is written at most every BEAT_MS unless
 * force. A failure is logged once and never stops the dispatcher.
 */
static void beat(struct run *run, const char *event, const char *error, int force)
{
    char pid[24], sent[24], keep_err[ERR_MAX + 1];
    const char *params[5] = {run->opt->worker, pid, event, sent, error};
    PGresult *r;
    if (run->opt->worker == NULL || PQstatus(run->conn) != CONNECTION_OK)
        return;
    if (!force && strcmp(event, "ok") == 0 && ms_since(&run->beaten) < BEAT_MS)
        return;
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    snprintf(sent, sizeof(sent), "%ld", run->unbeaten_sent);
    /* The health record must not overwrite the error the run reports. */
    snprintf(keep_err, sizeof(keep_err), "%s", run->err);
    r = sql(run, sql_beat, 5, params, PGRES_TUPLES_OK);
    if (r != NULL) {
        run->unbeaten_sent = 0;
        clock_gettime(CLOCK_MONOTONIC, &run->beaten);
        run->beat_warned = 0;
    } else if (!run->beat_warned) {
        run->beat_warned = 1;
        note(run, DISPATCH_LOG_WARNING, "cannot record the dispatcher's health: %s", run->err);
    }
    PQclear(r);
    snprintf(run->err, run->errlen, "%s", keep_err);
}

/* Sleeps ms, returning early on a stop or hangup signal. */
static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    if (!ending())
        nanosleep(&ts, NULL); /* EINTR from the signal ends it */
}

/*
 * Long-running mode: LISTEN for rows being queued, on this connection (again
 * after a reconnect: a new session listens to nothing). 0, or -1.
 */
static int listen_queued(struct run *run)
{
    if (run->listening)
        return 0;
    if (sql_do(run, sql_listen, 0, NULL, PGRES_COMMAND_OK) != 0)
        return -1;
    run->listening = 1;
    return 0;
}

/* Drops the notifications received so far; 1 when there was one. */
static int drain_notifies(struct run *run)
{
    PGnotify *n;
    int any = 0;
    while ((n = PQnotifies(run->conn)) != NULL) {
        PQfreemem(n);
        any = 1;
    }
    return any;
}

/*
 * Long-running mode with nothing ready: wait until a row is queued (NOTIFY),
 * the next one is due, or idle_ms passed (the slow poll that finds what was
 * queued while the connection was down: notifications are not kept).
 */
static void idle(struct run *run)
{
    PGresult *r = sql(run, sql_next_due, 0, NULL, PGRES_TUPLES_OK);
    long ms = run->opt->idle_ms;
    struct pollfd pfd;
    if (r != NULL && !PQgetisnull(r, 0, 0)) {
        long due = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        ms = due < ms ? due : ms;
    }
    PQclear(r);
    /* The server went away: the next claim fails and reconnects now, not after idle_ms. */
    if (PQstatus(run->conn) != CONNECTION_OK)
        return;
    if (ms < 10)
        ms = 10;
    pfd.fd = PQsocket(run->conn);
    pfd.events = POLLIN;
    if (!run->listening || pfd.fd < 0) {
        nap(ms);
        return;
    }
    if (PQconsumeInput(run->conn) == 0 || drain_notifies(run) || ending())
        return;
    /* EINTR from a stop or hangup signal ends it */
    if (poll(&pfd, 1, (int)(ms > 3600000L ? 3600000L : ms)) > 0 && PQconsumeInput(run->conn) != 0 &&
        drain_notifies(run))
        run->stats->wakeups++;
}

/*
 * Reconnects until it works or a stop is asked for (then -1). A hangup ends
 * the attempts too, with 0: nothing is claimed, and the run ends cleanly.
 */
static int reconnect(struct run *run)
{
    long delay = 100;
    while (!ending()) {
        PQreset(run->conn);
        run->prepared = 0; /* a new session has none of them */
        run->listening = 0;
        /* Identity is the role the connection logs in as: nothing to restore. */
        if (PQstatus(run->conn) == CONNECTION_OK) {
            run->stats->reconnects++;
            note(run, DISPATCH_LOG_WARNING, "reconnected to the database");
            return 0;
        }
        if (PQstatus(run->conn) != CONNECTION_OK)
            snprintf(run->err, run->errlen, "%s", PQerrorMessage(run->conn));
        run->err[strcspn(run->err, "\n")] = '\0';
        note(run, DISPATCH_LOG_WARNING, "cannot reconnect (%s); trying again in %ld ms", run->err,
             delay);
        nap(delay);
        delay = delay < 2500 ? delay * 2 : 5000;
    }
    if (!stop_requested)
        return 0;
    snprintf(run->err, run->errlen, "stopped while reconnecting to the database");
    return -1;
}

/*
 * Errors after which the rows are simply looked at again. A locked row is
 * no error: the claim passes over it (SKIP LOCKED).
 */
static int transient(const char *sqlstate)
{
    return strcmp(sqlstate, "40001") == 0     /* serialization_failure */
           || strcmp(sqlstate, "40P01") == 0; /* deadlock_detected */
}

int dispatch_run(PGconn *conn, dispatch_lookup_fn lookup, void *ud,
                 const struct dispatch_options *opt, struct dispatch_stats *stats, char *err,
                 size_t errlen)
{
    struct sigaction sa, old_term, old_int, old_pipe, old_hup;
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
    if (opt->batch < 1 || opt->batch > DISPATCH_BATCH_MAX) {
        snprintf(err, errlen, "dispatch: a batch is 1 to %d rows, not %d", DISPATCH_BATCH_MAX,
                 opt->batch);
        return -1;
    }
    if ((run.tp = transport_new(err, errlen)) == NULL)
        return -1;
    /* No SA_RESTART: the signal cuts an idle sleep short. SIGPIPE: a command that
     * does not read its stdin must not end the dispatcher. */
    stop_requested = 0;
    hangup_requested = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    sa.sa_handler = on_hangup;
    sigaction(SIGHUP, &sa, &old_hup);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);

    clock_gettime(CLOCK_MONOTONIC, &run.beaten);
    beat(&run, "start", NULL, 1);
    while (!stop_requested) {
        if (hangup_requested) {
            stats->hangup = 1;
            note(&run, DISPATCH_LOG_INFO,
                 "SIGHUP: the cycle under way is done; stopping (exit 0) so that the service "
                 "manager starts the dispatcher again on the host config as it is now");
            break;
        }
        /* A referral, then a notice: neither queue waits for the other to drain. */
        r = dispatch_batch(&run);
        if (r >= 0) {
            int n = notice_one(&run);
            r = n < 0 ? n : (r > 0 || n > 0);
        }
        if (r > 0) {
            beat(&run, "ok", NULL, 0);
            continue;
        }
        if (r == 0) {
            beat(&run, "ok", NULL, 0);
            if (opt->once)
                break;
            if (opt->cycle != NULL && opt->cycle(opt->cycle_ud, conn) != 0)
                break;
            if (listen_queued(&run) == 0) {
                idle(&run);
                continue;
            }
        }
        if (transient(run.sqlstate)) {
            nap(20);
            continue;
        }
        if (!opt->once && PQstatus(conn) == CONNECTION_BAD) {
            char lost[ERR_MAX + 1];
            snprintf(lost, sizeof(lost), "lost the database connection: %s", err);
            lost[strcspn(lost, "\n")] = '\0';
            note(&run, DISPATCH_LOG_WARNING, "%s", lost);
            if (reconnect(&run) != 0)
                goto out;
            beat(&run, "error", lost, 1);
            continue;
        }
        goto out;
    }
    rc = 0;
out:
    if (rc == 0)
        beat(&run, "stop", NULL, 1);
    else
        beat(&run, "error", err, 1);
    unprepare(&run);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    transport_free(run.tp);
    return rc;
}
