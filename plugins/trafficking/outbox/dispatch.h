/*
 * dispatch.h: the dispatcher, the only way a referral leaves: it claims ready
 * outbox rows a batch at a time (FOR UPDATE SKIP LOCKED, then a lease per
 * row), re-checks that each referral may still leave, sends them one by one
 * with their idempotency keys with no lock held and records the outcomes under
 * the leases. It never sends a referral whose consent is
 * revoked or expired, and never decides where a destination is: targets come from a lookup.
 */
#ifndef TRF_DISPATCH_H
#define TRF_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "outbox/dispatch_target.h"

/*
 * The target of a destination id, or NULL when there is none. The result is
 * borrowed and must stay valid until the next call of the same lookup.
 */
typedef const struct dispatch_target *(*dispatch_lookup_fn)(void *ud, const char *destination_id);

/* Levels of dispatch_log_fn. */
enum { DISPATCH_LOG_INFO, DISPATCH_LOG_WARNING, DISPATCH_LOG_ERROR };

/* Called once per event worth a line in a log (sends, reconnects, holds, failures). */
typedef void (*dispatch_log_fn)(void *ud, int level, const char *msg);

struct dispatch_options {
    int once;            /* stop when no ready row is left */
    int max_attempts;    /* a row that failed this often becomes 'failed' */
    long backoff_ms;     /* delay after the first failure; doubles per failure */
    long backoff_cap_ms; /* the longest delay */
    long timeout_ms;     /* per send: webhook request or command run */
    long idle_ms;        /* long-running mode: longest wait for a NOTIFY when nothing is ready */
    long lease_ms;       /* how long a claimed row is this worker's; 0: 2 * timeout_ms + 1 s */
    int batch;           /* rows one claim takes, 1 to DISPATCH_BATCH_MAX */
    dispatch_log_fn log; /* may be NULL */
    void *log_ud;
    /*
     * The agency's channel for notices to people (014_notifications.sql),
     * borrowed for the run; NULL: notices are not claimed and wait.
     */
    const struct dispatch_target *notice_target;
    /* Name under which the run records its health (dispatch --health); NULL: not recorded. */
    const char *worker;
    /*
     * Long-running mode: called between cycles, before waiting, on the
     * run's connection (following a configuration deploy, say); non-zero
     * ends the run as a stop signal would. May be NULL.
     */
    int (*cycle)(void *ud, PGconn *conn);
    void *cycle_ud;
};

struct dispatch_stats {
    long claims; /* claims that took at least one row (a claim takes up to opt->batch) */
    long sent;
    long held;        /* not sent: the referral may no longer leave */
    long retried;     /* failed attempts that will be tried again */
    long failed;      /* rows that reached max_attempts: referrals now 'delivery_failed' */
    long lost_leases; /* outcomes not recorded: the lease ran out and another worker took it */
    long wakeups;     /* long-running mode: woken by a NOTIFY */
    long reconnects;
    long released; /* leases given back unsent: a stop or hangup, or a batch cut short */
    int hangup;    /* the run ended on SIGHUP, after the cycle under way */
    long notices_sent, notices_retried, notices_failed; /* notices to people */
};

/* The most rows one claim takes (outbox_claim_v2). */
#define DISPATCH_BATCH_MAX 100

/*
 * Defaults: 8 attempts, 1 s doubling to at most 1 h, 30 s timeout, 30 s idle, lease from timeout,
 * claims of 16 rows.
 */
void dispatch_options_init(struct dispatch_options *opt);

/*
 * Runs the dispatcher on conn (borrowed; it must be idle, with the role set
 * and the acting user logged in; row-level security limits it to that
 * user's agency). With opt->once it returns when no row is ready (a row
 * another session has locked is passed over); otherwise it LISTENs for rows
 * being queued and runs until SIGTERM or SIGINT, which it handles between rows (the
 * previous handlers are restored on return): a send under way is finished and
 * recorded, a row claimed but not yet sent (or whose send the stop cut short)
 * is released at once for another worker. SIGHUP (also with opt->once) ends
 * the run with 0 once the send under way is done and recorded; the rest of
 * its batch is released unsent. It reconnects conn with
 * backoff when the server goes away. Notices to people are claimed and sent the same way when
 * opt->notice_target is set. With opt->worker it records its health (start, good cycles, sends,
 * errors, stop) in the database. Counts go to *stats (zeroed first). Returns 0, or -1 with the
 * message in err; the connection is left without a transaction.
 */
int dispatch_run(PGconn *conn, dispatch_lookup_fn lookup, void *ud,
                 const struct dispatch_options *opt, struct dispatch_stats *stats, char *err,
                 size_t errlen);

/* The delay before the next attempt after `failures` failures (1 or more). */
long dispatch_backoff_ms(long base_ms, int failures, long cap_ms);

#endif
