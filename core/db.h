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
    char db_role[64];
};

/* Round trips since the process started (for `make bench`). */
extern unsigned long db_round_trips;

/*
 * Connects with conninfo ("" = libpq defaults and PG* variables). Returns the
 * connection or NULL with the reason in err. Caller closes with PQfinish().
 */
PGconn *db_connect(const char *conninfo, char *err, size_t errlen);

/*
 * Connects with conninfo (which names no user) as the user like is logged
 * in as: the reports server (a replica) is read as the same person. Returns
 * the connection, or NULL with the reason in err. Caller closes with PQfinish(); like is borrowed.
 */
PGconn *db_connect_as_user_of(const char *conninfo, PGconn *like, char *err, size_t errlen);

/*
 * Opens a transaction and reads who the session is (casehost.whoami_v1());
 * one round trip. u->id is 0 when the connected role is no casehost user (the
 * database owner, for example). Returns 0, or -1 with err set.
 */
int db_start(PGconn *c, struct db_user *u, char *err, size_t errlen);

/*
 * The same for a trusted server connected as the authenticator: the
 * transaction then acts as role (SET LOCAL ROLE, the name a parameter) in
 * its agency's time zone (SET LOCAL TimeZone). role NULL: db_start.
 */
int db_start_as(PGconn *c, const char *role, struct db_user *u, char *err, size_t errlen);

/*
 * The same with a read-only transaction on one snapshot (REPEATABLE READ),
 * for a report on the reports server; it writes nothing, so a hot standby
 * runs it.
 */
int db_start_read_only(PGconn *c, const char *role, struct db_user *u, char *err, size_t errlen);

/*
 * What time the data c's open transaction reads is as of, in the acting
 * agency's time zone ("YYYY-MM-DD HH:MM:SS ZONE"): on a replica the commit
 * time of the last transaction it replayed, on a primary now. "" when a
 * replica has replayed none since it started. 0, or -1 with err set.
 */
int db_data_as_of(PGconn *c, char *out, size_t outlen, char *err, size_t errlen);

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
