/*
 * report_conn.c: which server a report reads: the reports server of the host
 * config (a streaming replica), as the same person in a read-only
 * transaction, or the primary. Never writes on the reports server, and never
 * runs a report on the primary unless the config allows it or names none.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/*
 * Opens the read-only session on the reports server, connecting first when
 * there is no live connection. 0, or -1 with why in why (the connection is
 * then closed, so the next report connects again).
 */
static int reports_session(struct cli *cli, char *why, size_t len)
{
    struct ch_ctx *ctx = &cli->ctx;
    struct db_user ru;
    int kept = cli->reports != NULL && PQstatus(cli->reports) == CONNECTION_OK;
    if (cli->reports != NULL && !kept) {
        PQfinish(cli->reports);
        cli->reports = NULL;
    }
again:
    if (cli->reports == NULL)
        cli->reports = db_connect_as_user_of(cli->hc.reports_conninfo, ctx->conn, why, len);
    if (cli->reports == NULL)
        return -1;
    if (db_start_read_only(cli->reports, cli->act_as, &ru, why, len) != 0) {
        if (kept && PQstatus(cli->reports) == CONNECTION_BAD) {
            /* A kept connection (a web worker's) the server dropped: once more, afresh. */
            PQfinish(cli->reports);
            cli->reports = NULL;
            kept = 0;
            goto again;
        }
        goto fail;
    }
    if (ru.id != ctx->dbuser.id) {
        /* A replica behind the primary may not know a new user yet. */
        snprintf(why, len, "it does not know user '%s' (yet)", ctx->dbuser.name);
        PQclear(PQexec(cli->reports, "ROLLBACK"));
        goto fail;
    }
    return 0;
fail:
    PQfinish(cli->reports);
    cli->reports = NULL;
    return -1;
}

/*
 * The reports server as a person may be told of it: its host (or hostaddr),
 * port and database from the conninfo, never the rest (a password may be
 * written there).
 */
static void server_name(const char *conninfo, char *buf, size_t len)
{
    static const char *const shown[] = {"host", "hostaddr", "port", "dbname", NULL};
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    size_t n = 0;
    buf[0] = '\0';
    for (const char *const *k = shown; *k != NULL; k++)
        for (const PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
            if (strcmp(o->keyword, *k) == 0 && o->val != NULL && o->val[0] != '\0' && n < len)
                n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", *k, o->val);
    if (buf[0] == '\0')
        snprintf(buf, len, "libpq's defaults");
    PQconninfoFree(opts);
}

int cli_report_begin(struct cli *cli)
{
    struct ch_ctx *ctx = &cli->ctx;
    const char *server = cli->hc.reports_conninfo;
    char why[1024] = "", asof[160], name[512], msg[1800];
    PGconn *read_on = ctx->conn;

    if (server != NULL) {
        server_name(server, name, sizeof(name));
        if (reports_session(cli, why, sizeof(why)) == 0)
            read_on = cli->reports;
        else if (!cli->hc.reports_fallback)
            return cli_fail(cli, EXIT_RUNTIME,
                            "cannot run the report on the reports server (%s): %s\nhint: start "
                            "that server, or set reports.fallback_to_primary = true in the host "
                            "config",
                            name, why);
    }
    /* JIT is off already: every transaction the host starts turns it off (db.c). */
    if (db_data_as_of(read_on, asof, sizeof(asof), ctx->err, sizeof(ctx->err)) != 0) {
        if (read_on != ctx->conn)
            PQclear(PQexec(read_on, "ROLLBACK"));
        return cli_db_fail(cli, "cannot read what time the data is as of");
    }
    out_str(cli->out, "data_as_of",
            asof[0] != '\0'
                ? asof
                : "not known: the replica has replayed no transaction since it started");
    if (server != NULL && read_on == ctx->conn) {
        snprintf(msg, sizeof(msg),
                 "the reports server (%s) cannot serve (%s), so this report read the primary "
                 "(reports.fallback_to_primary)",
                 name, why);
        out_message(cli->out, msg);
    }
    ctx->report_conn = read_on != ctx->conn ? read_on : NULL;
    return 0;
}

void cli_report_end(struct cli *cli)
{
    struct ch_ctx *ctx = &cli->ctx;
    if (ctx->report_conn == NULL)
        return;
    /* Read-only: nothing to keep. A broken connection is made again next time. */
    PQclear(PQexec(ctx->report_conn, "ROLLBACK"));
    ctx->report_conn = NULL;
}
