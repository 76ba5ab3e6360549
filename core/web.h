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
#include <stdio.h>

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
    char token_hash[68]; /* the bytea literal of its token's SHA-256 */
};

/* Makes a token (64 hex digits) and its SHA-256 as a bytea literal ("\\x..."). 0 or -1. */
int web_token_new(char token[65]);
/* The bytea literal of SHA-256(token) (token: any string), for the database. */
void web_token_hash(const char *token, char out[68]);

/* The longest password a page takes, in bytes (a login refuses a longer one unchecked). */
#define WEB_PASSWORD_MAX 1000

/*
 * Checks name's password exactly as a login does: the throttle first (sleeps
 * the delay it asks for; a locked name is refused), then a connection
 * attempt as the name's role to login_conninfo, which must have asked for a
 * password. A wrong password is counted and audited as a failed login.
 * Returns 0 right, 1 refused (msg: wrong, or that the name is locked; never
 * whether the name exists), -1 failure (msg: why, for the log). wrong is
 * what the person is told of a wrong password ("The user name or password
 * is wrong.").
 */
int web_password_check(PGconn *c, const char *login_conninfo, const char *name,
                       const char *password, const char *address, const struct web_options *opt,
                       const char *wrong, char *msg, size_t msglen);

/*
 * Checks name and password (web_password_check). On success a session is
 * made and its token written to token. Returns 0 ok, 1 refused (msg says what the
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

/* ---- passwords (web_password.c) ---- */

/* The fewest characters (not bytes) a new password has. */
#define WEB_PASSWORD_MIN 12

/* A posted password form: whose, and its fields (NULL: not sent); all borrowed. */
struct web_password_form {
    const char *user;    /* whose: NULL, "" or the person's own name: their own */
    const char *current; /* their own only: the password they log in with now */
    const char *next, *again;
};

/*
 * Sets the password form asks for, as the session's person: the two new
 * ones must agree and be long enough; for their own, the current one is
 * checked as a login checks it (web_password_check: a wrong one counts as
 * a failed login). The clear password never reaches SQL: a SCRAM verifier
 * made on c goes to casehost.user_passwd_v1 in a transaction acting as the
 * person (db_start_as), where the database decides who may set whose (an
 * admin: a user of their agency) and audits it. Returns 0 set (msg: what
 * the page says), 1 refused (msg: why, for the person), -1 failure (msg:
 * why, for the log; never a password).
 */
int web_password_set(PGconn *c, const char *login_conninfo, const struct web_session *s,
                     const struct web_password_form *form, const char *address,
                     const struct web_options *opt, char *msg, size_t msglen);

/*
 * 1 when the session's person is an admin, 0 when not, -1 on a database
 * failure. It only decides what a page offers: the database decides what
 * the person may do.
 */
int web_session_is_admin(PGconn *c, const struct web_session *s);

/*
 * Writes the password form posting to /password with the session's csrf:
 * for user (NULL: the person's own, asking the current password too), new
 * password and again. No field is ever filled in. opener adds a form that
 * opens another user's (GET /password?user=NAME), for an admin.
 */
void web_password_form_render(FILE *f, const char *user, int opener, const char *csrf);

#endif /* CASEHOST_WEB_H */
