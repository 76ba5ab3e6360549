/*
 * webhook_url.h: which webhook URLs personal data may be posted to: https
 * anywhere, plain http only to this machine (loopback: tests and demos).
 * Pure string work: never resolves a name or opens a socket, so the answer
 * is the same at configuration load and at send time.
 */
#ifndef TRF_WEBHOOK_URL_H
#define TRF_WEBHOOK_URL_H

/*
 * 1 when url's host is a loopback address written literally: 127.0.0.0/8 as
 * a dotted quad, [::1] (or its long forms), or "localhost"; else 0 (also for
 * a url that does not parse). url is borrowed.
 */
int routing_url_is_loopback(const char *url);

/*
 * NULL when url may carry referrals: https://HOST..., or http:// to a
 * loopback host. Otherwise a static sentence saying why not (no url in it,
 * so the caller prefixes where it was written).
 */
const char *routing_webhook_url_problem(const char *url);

#endif /* TRF_WEBHOOK_URL_H */
