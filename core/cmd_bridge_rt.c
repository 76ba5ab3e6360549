/*
 * cmd_bridge_rt.c: `casehost bridge rt`, Request Tracker 5 tickets become
 * casehost cases. Once (--once, for cron and tests) or as a service that
 * polls every poll_seconds and, where RT's admin installed the optional
 * trigger (sql/bridge/rt_notify.sql), wakes on its notification. Refuses to
 * start unless RT's role can only read and the token file is private. Its
 * log never carries personal data (ticket and case ids, counts, first lines).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge_rt.h"
#include "bridge_rt_write.h"
#include "hostcfg.h"

static int cmd_bridge_rt(struct cli *cli, const struct ch_value *v);

enum { A_ONCE, A_DRY_RUN, A_CONFIG };
static const struct ch_arg bridge_rt_args[] = {
    [A_ONCE] = {"--once", CH_ARG_BOOL, 0, "scan RT until caught up, then exit", NULL, NULL, 0, 0},
    [A_DRY_RUN] = {"--dry-run", CH_ARG_BOOL, 0,
                   "say what would be written to casehost, then roll it back", NULL, NULL, 0, 0},
    [A_CONFIG] = {"--config", CH_ARG_TEXT, 0,
                  "the bridge configuration (default: bridge/rt.cfg beside the host config)", NULL,
                  "FILE", 0, 0},
};

static const struct cli_command bridge_commands[] = {
    {CLI_SPEC("bridge", "rt", "turn Request Tracker 5 tickets into cases (as the bridge's service)",
              bridge_rt_args),
     cmd_bridge_rt},
};

const struct cli_verb cli_verb_bridge = {"bridge", "attach to a help desk: bridge rt",
                                         bridge_commands, CLI_N(bridge_commands),
                                         CLI_PLUGINS | CLI_LIVE};

#define brt_log(level, ...) diag_log("bridge rt", level, __VA_ARGS__)

/* How often the service looks for a newly deployed configuration generation. */
#define LIVE_CHECK_SECONDS 10

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* RT's database as the read-only role, checked; NULL after saying why in err. */
static PGconn *rt_connect(const struct brt_cfg *cfg, char *err, size_t errlen)
{
    PGconn *rt = db_connect(cfg->rt_conninfo, err, errlen);
    if (rt == NULL)
        return NULL;
    if (brt_check_rt_role(rt, err, errlen) != 0 || brt_rt_session(rt, err, errlen) != 0) {
        PQfinish(rt);
        return NULL;
    }
    return rt;
}

/* A second connection that LISTENs on the trigger's channel; NULL when it cannot. */
static PGconn *rt_listener(const struct brt_cfg *cfg)
{
    char err[512];
    PGconn *c = db_connect(cfg->rt_conninfo, err, sizeof(err));
    PGresult *r;
    if (c == NULL) {
        brt_log("warning", "cannot LISTEN (polling only): %s", err);
        return NULL;
    }
    r = PQexec(c, "LISTEN " BRT_NOTIFY_CHANNEL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        brt_log("warning", "cannot LISTEN (polling only): %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return NULL;
    }
    PQclear(r);
    return c;
}

/* Waits up to seconds, less when RT notifies or a stop is asked for. */
static void wait_next(PGconn *listener, int seconds)
{
    time_t end = time(NULL) + seconds;
    while (!stop_requested && time(NULL) < end) {
        struct pollfd pfd = {listener != NULL ? PQsocket(listener) : -1, POLLIN, 0};
        int woke = 0;
        if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, 1000) > 0 && PQconsumeInput(listener) == 1) {
            PGnotify *n;
            while ((n = PQnotifies(listener)) != NULL) {
                woke = 1;
                PQfreemem(n);
            }
        }
        if (woke)
            return;
    }
}

/* Reconnects whichever connection went away; 0 when both are usable again. */
static int reconnect(struct brt_run *r)
{
    char err[1024];
    struct ch_ctx *ctx = &r->cli->ctx;
    if (PQstatus(ctx->conn) != CONNECTION_OK) {
        PQreset(ctx->conn);
        if (PQstatus(ctx->conn) != CONNECTION_OK)
            return -1;
        brt_log("info", "reconnected to casehost's database");
    }
    if (PQstatus(r->rt) != CONNECTION_OK) {
        PQreset(r->rt);
        if (PQstatus(r->rt) != CONNECTION_OK)
            return -1;
        /* A new session: the role is checked again and the reader's settings set again. */
        if (brt_check_rt_role(r->rt, err, sizeof(err)) != 0 ||
            brt_rt_session(r->rt, err, sizeof(err)) != 0) {
            brt_log("error", "%s", err);
            return -1;
        }
        brt_log("info", "reconnected to RT's database");
    }
    return 0;
}

/* Writes owed to RT and not yet taken: said, with the last error, so a stuck one is seen. */
static void pending_writes(struct brt_run *r)
{
    struct ch_ctx *ctx = &r->cli->ctx;
    const char *p[1] = {r->cfg->name};
    PGresult *res;
    if (db_start(ctx->conn, &ctx->dbuser, ctx->err, sizeof(ctx->err)) != 0)
        return;
    res = db_exec(ctx->conn, "SELECT * FROM casehost.bridge_rt_pending_v1($1)", 1, p, ctx->err,
                  sizeof(ctx->err));
    PQclear(PQexec(ctx->conn, "COMMIT"));
    if (res == NULL)
        return;
    out_int(r->cli->out, "writes_pending", strtoll(PQgetvalue(res, 0, 0), NULL, 10));
    if (!PQgetisnull(res, 0, 2))
        brt_log("warning", "%s write(s) to RT wait, the oldest for %s s; last error: %s",
                PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    else if (r->writer == NULL && strcmp(PQgetvalue(res, 0, 0), "0") != 0)
        brt_log("info", "%s write(s) to RT wait: writeback is off in %s", PQgetvalue(res, 0, 0),
                r->cfg->path);
    PQclear(res);
}

static void summary(struct brt_run *r)
{
    struct out *o = r->cli->out;
    out_int(o, "scans", r->scans);
    out_int(o, "cases_created", r->created);
    out_int(o, "cases_linked", r->linked);
    out_int(o, "cases_updated", r->updated);
    out_int(o, "cases_closed", r->closed);
    out_int(o, "tickets_merged", r->merged);
    out_int(o, "tickets_ignored", r->ignored);
    out_int(o, "tickets_failed", r->failed);
    out_int(o, "writes_sent", r->written);
    out_int(o, "writes_failed", r->write_failed);
    if (!r->dry_run)
        pending_writes(r);
    if (r->dry_run)
        out_message(o, "dry run: nothing was written");
}

/* Scans until RT has nothing more above the watermark, then writes what is owed to RT. */
static int catch_up(struct brt_run *r)
{
    int more = 1;
    while (more && !stop_requested)
        if (brt_scan(r, &more) != 0)
            return -1;
    return r->writer != NULL && !stop_requested ? brt_deliver(r) : 0;
}

static int run_service(struct brt_run *r)
{
    struct sigaction sa;
    PGconn *listener = r->cfg->listen ? rt_listener(r->cfg) : NULL;
    time_t live_checked = time(NULL);
    int delay = 1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    brt_log("info", "started: polling every %d s%s", r->cfg->poll_seconds,
            listener != NULL ? ", woken by RT's trigger" : "");
    while (!stop_requested) {
        struct out *out = out_new(r->cli->json);
        struct out *keep = r->cli->ctx.out;
        int rc;
        if (out == NULL)
            return cli_fail(r->cli, EXIT_RUNTIME, "out of memory");
        r->cli->ctx.out = out; /* each cycle's messages of its own, so months do not pile up */
        /* Cases are made through the plugins: on the configuration live now, like every command. */
        if (time(NULL) - live_checked >= LIVE_CHECK_SECONDS) {
            live_checked = time(NULL);
            if (live_refresh(r->cli) == 1)
                brt_log("info", "a new configuration generation is live: plugins reloaded");
        }
        rc = catch_up(r);
        r->cli->ctx.out = keep;
        if (rc == 0 && !out_is_empty(out))
            out_flush(out, stdout);
        out_free(out);
        if (rc != 0) {
            r->cli->ctx.err[strcspn(r->cli->ctx.err, "\n")] = '\0';
            brt_log("error", "scan failed and was rolled back: %s; next try in %d s",
                    r->cli->ctx.err, delay);
            wait_next(NULL, delay);
            delay = delay * 2 > 60 ? 60 : delay * 2;
            if (reconnect(r) != 0)
                continue;
            if (listener != NULL && PQstatus(listener) != CONNECTION_OK) {
                PQfinish(listener);
                listener = rt_listener(r->cfg); /* notifications sent meanwhile are lost: */
            }
            continue; /* ...the next scan reads from the watermark anyway */
        }
        delay = 1;
        wait_next(listener, r->cfg->poll_seconds);
    }
    PQfinish(listener);
    brt_log("info", "stopped after %lld scan(s): %lld case(s) created", r->scans, r->created);
    summary(r);
    return EXIT_OK;
}

static int cmd_bridge_rt(struct cli *cli, const struct ch_value *v)
{
    struct brt_cfg cfg;
    struct brt_run r;
    struct diag d;
    char *path = v[A_CONFIG].given
                     ? strdup(v[A_CONFIG].text)
                     : path_join(cli->hc.dir != NULL ? cli->hc.dir : ".", "bridge/rt.cfg");
    char err[2048];
    int rc;

    memset(&r, 0, sizeof(r));
    diag_init(&d, stderr);
    if (path == NULL)
        return cli_fail(cli, EXIT_RUNTIME, "out of memory");
    if (brt_cfg_load(&cfg, path, &d) != 0) {
        rc = cli_fail(cli, EXIT_USAGE, "%s: %d error(s) in the RT bridge configuration", path,
                      d.errors);
        goto out;
    }
    if (brt_check_token_file(cfg.token_file, err, sizeof(err)) != 0) {
        rc = cli_fail(cli, EXIT_USAGE, "%s", err);
        goto out;
    }
    r.cfg = &cfg;
    r.cli = cli;
    r.dry_run = v[A_DRY_RUN].given && v[A_DRY_RUN].num;
    if ((r.rt = rt_connect(&cfg, err, sizeof(err))) == NULL) {
        rc = cli_fail(cli, EXIT_USAGE, "refusing to start: %s", err);
        goto out;
    }
    if ((rc = brt_check_casehost(&r)) != 0)
        goto out;
    if (cfg.wb.on) {
        if (brt_check_rt_rights(&r, err, sizeof(err)) != 0 ||
            brt_writer_open(&r, err, sizeof(err)) != 0) {
            rc = cli_fail(cli, EXIT_USAGE, "refusing to start: %s", err);
            goto out;
        }
    }
    if (v[A_ONCE].given && v[A_ONCE].num) {
        if (catch_up(&r) != 0) {
            rc = cli_fail(cli, EXIT_RUNTIME, "bridge rt: %s", cli->ctx.err);
            goto out;
        }
        summary(&r);
        rc = r.failed > 0 || r.write_failed > 0 ? EXIT_ATTENTION : EXIT_OK;
    } else {
        rc = run_service(&r);
    }
out:
    brt_writer_close(&r);
    PQfinish(r.rt);
    brt_cfg_release(&cfg);
    free(path);
    return rc;
}
