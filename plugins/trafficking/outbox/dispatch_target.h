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
    const char *url;       /* webhook: https://, or http:// to a loopback host */
    const char *secret;    /* webhook: HMAC-SHA256 key of X-Casehost-Signature */
    const char *command;   /* command: run by /bin/sh -c, JSON on stdin */
    const char *spool_dir; /* spool: <spool_dir>/<idempotency_key>.json */
    /* webhook, optional mutual TLS: PEM files (CURLOPT_SSLCERT/SSLKEY), or NULL */
    const char *client_cert;
    const char *client_key;
};

#endif /* TRF_DISPATCH_TARGET_H */
