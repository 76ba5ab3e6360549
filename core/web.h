/*
 * web.h: `casehost serve`, the host's web pages. Every page runs the same
 * typed commands as the terminal (cli_run), as the logged-in person's
 * PostgreSQL role (SET LOCAL ROLE from the authenticator's connection), and
 * renders their output trees as HTML (out_flush_html); a command's typed
 * table is its form (webform_render). No page parses arguments or writes
 * user data into HTML any other way.
 */
#ifndef CASEHOST_WEB_H
#define CASEHOST_WEB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct web_options {
    const char *config_path; /* the host config each worker reads; NULL: the default */
    char host[64];           /* numeric address to listen on */
    unsigned port;
    const char *tls_cert, *tls_key; /* PEM files; both or neither */
    unsigned threads;               /* worker threads, each with its own connection */
    unsigned idle_minutes;          /* a session ends after this long unused */
    unsigned lifetime_hours;        /* and after this long whatever happens */
    unsigned lock_after;            /* failed logins in a row that lock a user */
    unsigned lock_minutes;          /* for this long (never extended by more failures) */
    int secure_cookie;              /* Secure cookies: under TLS, or behind a TLS proxy */
};

/* Runs the server until SIGTERM or SIGINT (SIGHUP: every worker reloads the host config). */
int web_serve(const struct web_options *opt);

/* ---- authentication (web_auth.c) ---- */

/* A session as the database returned it for a cookie. */
struct web_session {
    char db_role[64];
    char user_name[64];
    char csrf[80];
};

/* Makes a token (64 hex digits) and its SHA-256 as a bytea literal ("\\x..."). 0 or -1. */
int web_token_new(char token[65]);
/* The bytea literal of SHA-256(token) (token: any string), for the database. */
void web_token_hash(const char *token, char out[68]);

/*
 * Checks name and password: the throttle first (sleeps the delay it asks
 * for), then a connection attempt as the name's role to login_conninfo,
 * which must have asked for a password. On success a session is made and
 * its token written to token. Returns 0 ok, 1 refused (msg says what the
 * person sees: never whether the name exists), -1 failure (msg: why, for
 * the log).
 */
int web_login(PGconn *c, const char *login_conninfo, const char *name, const char *password,
              const char *address, const struct web_options *opt, char token[65], char *msg,
              size_t msglen);

/* The live session of token: 1 found (s filled), 0 none, -1 database failure. */
int web_session_find(PGconn *c, const char *token, struct web_session *s);

/* Ends the session of token on the server; 0 or -1. */
int web_logout(PGconn *c, const char *token);

/* Constant-time comparison of two NUL-terminated tokens: 1 equal. */
int web_token_equal(const char *a, const char *b);

#endif /* CASEHOST_WEB_H */
