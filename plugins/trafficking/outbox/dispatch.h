/*
 * dispatch.h: the dispatcher, the only way a referral leaves: it takes ready
 * outbox rows one per transaction (FOR UPDATE SKIP LOCKED), re-checks that
 * the referral may still leave, sends it with its idempotency key and records
 * the outcome. It never sends a referral whose consent is revoked or expired,
 * and never decides where a destination is: targets come from a lookup.
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

/* Called for events worth a line in a log (reconnects, holds, failures). */
typedef void (*dispatch_log_fn)(void *ud, int warning, const char *msg);

struct dispatch_options {
    int once;            /* stop when no ready row is left */
    int max_attempts;    /* a row that failed this often becomes 'failed' */
    long backoff_ms;     /* delay after the first failure; doubles per failure */
    long backoff_cap_ms; /* the longest delay */
    long timeout_ms;     /* per send: webhook request or command run */
    long idle_ms;        /* long-running mode: longest sleep when nothing is ready */
    dispatch_log_fn log; /* may be NULL */
    void *log_ud;
};

struct dispatch_stats {
    long sent;
    long held;    /* not sent: the referral may no longer leave */
    long retried; /* failed attempts that will be tried again */
    long failed;  /* rows that reached max_attempts */
    long reconnects;
};

/* Defaults: 8 attempts, 1 s doubling to at most 1 h, 30 s timeout, 1 s idle. */
void dispatch_options_init(struct dispatch_options *opt);

/*
 * Runs the dispatcher on conn (borrowed; it must be idle, with the role set
 * and the acting user logged in; row-level security limits it to that
 * user's agency). With opt->once it returns when no row is ready; otherwise
 * it runs until SIGTERM or SIGINT, which it handles between rows (the
 * previous handlers are restored on return), and reconnects conn when the
 * server goes away. Counts go to *stats (zeroed first). Returns 0, or -1
 * with the message in err; the connection is left without a transaction.
 */
int dispatch_run(PGconn *conn, dispatch_lookup_fn lookup, void *ud,
                 const struct dispatch_options *opt, struct dispatch_stats *stats, char *err,
                 size_t errlen);

/* The delay before the next attempt after `failures` failures (1 or more). */
long dispatch_backoff_ms(long base_ms, int failures, long cap_ms);

#endif
