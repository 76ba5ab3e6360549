/*
 * db.h: the host's use of libpq. Values reach SQL only as parameters; every
 * server round trip goes through here so it can be counted. Error text is
 * what PostgreSQL said (primary message, then its hint).
 */
#ifndef CASEHOST_DB_H
#define CASEHOST_DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct db_user {
    int64_t id;
    int64_t agency_id;
    char name[64];
    char role[16];
    char agency_name[204];
};

/* Round trips since the process started (for `make bench`). */
extern unsigned long db_round_trips;

/*
 * Connects with conninfo ("" = libpq defaults and PG* variables). Returns the
 * connection or NULL with the reason in err. Caller closes with PQfinish().
 */
PGconn *db_connect(const char *conninfo, char *err, size_t errlen);

/*
 * Starts the session as user name: SET ROLE role (if not NULL), log in,
 * BEGIN; one round trip. Returns 0, or -1 with err set.
 */
int db_start(PGconn *c, const char *role, const char *user, struct db_user *u, char *err,
             size_t errlen);

/* Like db_start without a user and without BEGIN's login (bootstrap, admin). */
int db_start_anonymous(PGconn *c, const char *role, char *err, size_t errlen);

/*
 * Runs sql with text parameters (NULL = SQL NULL). Returns the result on
 * success (caller PQclear()s) or NULL with PostgreSQL's message in err.
 */
PGresult *db_exec(PGconn *c, const char *sql, int nparams, const char *const *params, char *err,
                  size_t errlen);

/* A command that returns no rows; 0 or -1. */
int db_run(PGconn *c, const char *sql, int nparams, const char *const *params, char *err,
           size_t errlen);

/* Writes PostgreSQL's message (and hint) of res or of the connection into err. */
void db_error(PGconn *c, const PGresult *res, char *err, size_t errlen);

#endif
