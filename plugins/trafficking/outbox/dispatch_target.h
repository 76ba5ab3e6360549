/*
 * dispatch_target.h: where one destination receives referrals, the type
 * dispatch.c looks up and transport.c delivers to.
 *
 * Definitions only: no .c owns this header, so transport never depends on
 * the dispatcher (or on libpq) to know what a target is.
 */
#ifndef TRF_DISPATCH_TARGET_H
#define TRF_DISPATCH_TARGET_H

/* How and where one destination receives referrals. Strings are borrowed. */
struct dispatch_target {
    enum { DISPATCH_WEBHOOK, DISPATCH_COMMAND, DISPATCH_SPOOL } channel;
    const char *url;       /* webhook: http:// or https:// */
    const char *secret;    /* webhook: HMAC-SHA256 key of X-Casehost-Signature */
    const char *command;   /* command: run by /bin/sh -c, JSON on stdin */
    const char *spool_dir; /* spool: <spool_dir>/<idempotency_key>.json */
};

#endif /* TRF_DISPATCH_TARGET_H */
