/*
 * db.c: connection set-up, the acting user's session and parameterised
 * statements. Never builds SQL from values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

unsigned long db_round_trips;

void db_error(PGconn *c, const PGresult *res, char *err, size_t errlen)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    size_t n;
    if (msg == NULL) {
        msg = res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : PQerrorMessage(c);
    }
    n = (size_t)snprintf(err, errlen, "%s", msg);
    while (n > 0 && n < errlen && err[n - 1] == '\n')
        err[--n] = '\0';
    if (detail != NULL && n < errlen)
        n += (size_t)snprintf(err + n, errlen - n, "\ndetail: %s", detail);
    if (hint != NULL && n < errlen)
        snprintf(err + n, errlen - n, "\nhint: %s", hint);
}

/* Server NOTICEs ("already exists, skipping") are not for the people using the CLI. */
static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    if (strncmp(message, "NOTICE", 6) != 0 && strncmp(message, "DEBUG", 5) != 0)
        fputs(message, stderr);
}

PGconn *db_connect(const char *conninfo, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(conninfo != NULL ? conninfo : "");
    if (c == NULL) {
        snprintf(err, errlen, "cannot connect to the database: out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        msg[strcspn(msg, "\n")] = '\0';
        snprintf(err, errlen,
                 "cannot connect to the database: %s\nhint: set CASEHOST_DB or "
                 "database.conninfo in the host config",
                 msg);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    return c;
}

PGresult *db_exec(PGconn *c, const char *sql, int nparams, const char *const *params, char *err,
                  size_t errlen)
{
    PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    db_round_trips++;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    db_error(c, r, err, errlen);
    PQclear(r);
    return NULL;
}

int db_run(PGconn *c, const char *sql, int nparams, const char *const *params, char *err,
           size_t errlen)
{
    PGresult *r = db_exec(c, sql, nparams, params, err, errlen);
    PQclear(r);
    return r != NULL ? 0 : -1;
}

/*
 * Sends SET ROLE, the login and BEGIN as one pipeline so a command pays one
 * round trip for its whole set-up. The role name goes through
 * PQescapeIdentifier because SET ROLE takes no parameters.
 */
static int start_pipeline(PGconn *c, const char *role, const char *user, struct db_user *u,
                          char *err, size_t errlen)
{
    static const char login_sql[] =
        "SELECT user_id, user_name, role, agency_id, agency_name FROM casehost.login($1)";
    char set_role[300] = "";
    int rc = -1, nres = 0, expect;
    PGresult *r;

    if (role != NULL) {
        char *ident = PQescapeIdentifier(c, role, strlen(role));
        if (ident == NULL) {
            db_error(c, NULL, err, errlen);
            return -1;
        }
        snprintf(set_role, sizeof(set_role), "SET ROLE %s", ident);
        PQfreemem(ident);
    }
    if (PQenterPipelineMode(c) != 1) {
        db_error(c, NULL, err, errlen);
        return -1;
    }
    expect = (role != NULL) + (user != NULL) + 1;
    if ((role != NULL && PQsendQueryParams(c, set_role, 0, NULL, NULL, NULL, NULL, 0) != 1) ||
        (user != NULL && PQsendQueryParams(c, login_sql, 1, NULL, &user, NULL, NULL, 0) != 1) ||
        PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) != 1 ||
        PQpipelineSync(c) != 1) {
        db_error(c, NULL, err, errlen);
        goto drain;
    }
    db_round_trips++;
    rc = 0;
drain:
    /* Read every result up to the sync, keeping the first error. */
    for (;;) {
        r = PQgetResult(c);
        if (r == NULL) {
            if (PQstatus(c) == CONNECTION_BAD)
                break;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st == PGRES_FATAL_ERROR && rc == 0) {
            db_error(c, r, err, errlen);
            rc = -1;
        } else if (st == PGRES_TUPLES_OK && user != NULL && u != NULL && PQntuples(r) == 1) {
            u->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
            snprintf(u->name, sizeof(u->name), "%s", PQgetvalue(r, 0, 1));
            snprintf(u->role, sizeof(u->role), "%s", PQgetvalue(r, 0, 2));
            u->agency_id = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
            snprintf(u->agency_name, sizeof(u->agency_name), "%s", PQgetvalue(r, 0, 4));
        }
        nres++;
        PQclear(r);
    }
    (void)expect;
    if (PQexitPipelineMode(c) != 1 && rc == 0) {
        db_error(c, NULL, err, errlen);
        rc = -1;
    }
    if (rc != 0 && PQtransactionStatus(c) != PQTRANS_IDLE) {
        PGresult *rb = PQexec(c, "ROLLBACK");
        PQclear(rb);
    }
    return rc;
}

int db_start(PGconn *c, const char *role, const char *user, struct db_user *u, char *err,
             size_t errlen)
{
    memset(u, 0, sizeof(*u));
    return start_pipeline(c, role, user, u, err, errlen);
}

int db_start_anonymous(PGconn *c, const char *role, char *err, size_t errlen)
{
    return start_pipeline(c, role, NULL, NULL, err, errlen);
}
