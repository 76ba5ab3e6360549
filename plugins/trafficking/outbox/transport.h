/*
 * transport.h: how one referral payload reaches one target: an HTTPS POST
 * signed with the destination's secret over a timestamp, the key and the
 * body; a command fed on stdin; or a file written atomically into a spool
 * directory. Every channel carries the
 * idempotency key so a repeat is recognisable; nothing here reads the
 * database or decides whether a referral may leave (dispatch.c does).
 */
#ifndef TRF_TRANSPORT_H
#define TRF_TRANSPORT_H

#include <stddef.h>

#include "outbox/dispatch_target.h"

#define TRANSPORT_SIG_HEX 65 /* 64 hex digits and a NUL */

/* Reused connections and buffers across sends; one per dispatcher. */
struct transport;

/* A new transport; caller frees with transport_free(). NULL with err on failure. */
struct transport *transport_new(char *err, size_t errlen);
void transport_free(struct transport *tp);

/*
 * Delivers body (len bytes, borrowed) to target under key. Returns 0 when the
 * target accepted it (webhook 2xx, command exit 0, spool file in place or
 * already there), or -1 with the reason in err. timeout_ms bounds a webhook
 * request and a command run.
 */
int transport_send(struct transport *tp, const struct dispatch_target *target, const char *key,
                   const char *body, size_t len, long timeout_ms, char *err, size_t errlen);

/*
 * Non-zero when key can travel as a header value and a file name: 1 to 200
 * characters of A-Z a-z 0-9 _ . : - not starting with a dot.
 */
int transport_key_ok(const char *key);

/* hex = lowercase hex of HMAC-SHA256(secret, body) (body: len bytes, borrowed). */
int transport_sign(const char *secret, const char *body, size_t len, char hex[TRANSPORT_SIG_HEX]);

/*
 * The webhook signature: hex of HMAC-SHA256(secret, "TIMESTAMP.KEY.BODY"),
 * TIMESTAMP in decimal Unix seconds (the X-Casehost-Timestamp header), KEY
 * the Idempotency-Key. Sent as "X-Casehost-Signature: v1=HEX", so a receiver
 * can refuse a replayed request (old timestamp) and a key moved onto another
 * body. All borrowed. 0, or -1 (hex empty).
 */
int transport_signature(const char *secret, long long timestamp, const char *key, const char *body,
                        size_t len, char hex[TRANSPORT_SIG_HEX]);

#endif
