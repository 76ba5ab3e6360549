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

PGconn *db_connect_as_user_of(const char *conninfo, PGconn *like, char *err, size_t errlen)
{
    /* Later keywords win over what dbname expands to: the user is like's. */
    const char *const keys[] = {"dbname", "user", NULL};
    const char *const vals[] = {conninfo, PQuser(like), NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        msg[strcspn(msg, "\n")] = '\0';
        snprintf(err, errlen, "cannot connect as '%s': %s", PQuser(like), msg);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    return c;
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
 * Sends BEGIN, the role and time zone to act as (when given) and the
 * identity query as one pipeline so a command pays one round trip for its
 * whole set-up. Who the session is comes from the role it connected as (or
 * was SET ROLE to), never from anything the client says.
 */
static int start(PGconn *c, const char *begin, const char *role, struct db_user *u, char *err,
                 size_t errlen)
{
    static const char whoami_sql[] =
        "SELECT user_id, user_name, role, agency_id, agency_name, db_role"
        "  FROM casehost.whoami_v1()";
    /*
     * SET LOCAL ROLE (the value a parameter) when acting as someone, then
     * the agency's time zone as the person the session is (UTC for one who
     * is nobody's, such as the database owner): dates typed and times shown
     * are the agency's on the command line as on the web. And JIT off: a
     * command's plan that crosses the JIT cost thresholds at an agency's
     * size (a million cases) spent 0.6-1 s compiling it with LLVM for a query
     * that runs in 9 ms (`referral attention`), and a report at 1M
     * screenings 2.1 s of its 7.3 s; no query of the host's commands, the
     * reports' included (on the primary or the reports server), is long
     * enough to win it back.
     */
    static const char role_sql[] = "SELECT pg_catalog.set_config('role', $1, true)";
    static const char zone_sql[] =
        "SELECT pg_catalog.set_config('TimeZone', casehost.agency_time_zone_v1(), true),"
        "       pg_catalog.set_config('jit', 'off', true)";
    const char *act[1] = {role};
    int rc = -1;
    PGresult *r;

    memset(u, 0, sizeof(*u));
    if (PQenterPipelineMode(c) != 1) {
        db_error(c, NULL, err, errlen);
        return -1;
    }
    if (PQsendQueryParams(c, begin, 0, NULL, NULL, NULL, NULL, 0) != 1 ||
        (role != NULL && PQsendQueryParams(c, role_sql, 1, NULL, act, NULL, NULL, 0) != 1) ||
        PQsendQueryParams(c, zone_sql, 0, NULL, NULL, NULL, NULL, 0) != 1 ||
        PQsendQueryParams(c, whoami_sql, 0, NULL, NULL, NULL, NULL, 0) != 1 ||
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
        } else if (st == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 6) {
            u->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
            snprintf(u->name, sizeof(u->name), "%s", PQgetvalue(r, 0, 1));
            snprintf(u->role, sizeof(u->role), "%s", PQgetvalue(r, 0, 2));
            u->agency_id = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
            snprintf(u->agency_name, sizeof(u->agency_name), "%s", PQgetvalue(r, 0, 4));
            snprintf(u->db_role, sizeof(u->db_role), "%s", PQgetvalue(r, 0, 5));
        }
        PQclear(r);
    }
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

int db_start_as(PGconn *c, const char *role, struct db_user *u, char *err, size_t errlen)
{
    return start(c, "BEGIN", role, u, err, errlen);
}

int db_start(PGconn *c, struct db_user *u, char *err, size_t errlen)
{
    return start(c, "BEGIN", NULL, u, err, errlen);
}

/* One snapshot for every query of the report; a hot standby allows REPEATABLE READ. */
int db_start_read_only(PGconn *c, const char *role, struct db_user *u, char *err, size_t errlen)
{
    return start(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", role, u, err, errlen);
}

/*
 * On a server in recovery (a replica) the commit time of the last
 * transaction it replayed; on any other, now. NULL (an empty answer) when a
 * replica has replayed nothing since it started.
 */
int db_data_as_of(PGconn *c, char *out, size_t outlen, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT pg_catalog.to_char(t.at AT TIME ZONE z.tz, 'YYYY-MM-DD HH24:MI:SS') || ' ' || z.tz"
        "  FROM (SELECT CASE WHEN pg_catalog.pg_is_in_recovery()"
        "                    THEN pg_catalog.pg_last_xact_replay_timestamp()"
        "                    ELSE pg_catalog.now() END) t(at),"
        "       (SELECT casehost.agency_time_zone_v1()) z(tz)";
    PGresult *r = db_exec(c, sql, 0, NULL, err, errlen);
    if (r == NULL)
        return -1;
    snprintf(out, outlen, "%s", PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return 0;
}
