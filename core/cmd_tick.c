/*
 * cmd_tick.c: the tick verb, every plugin's periodic work (escalations),
 * once for cron or as a service that runs for months (--every SECONDS).
 * Every interval is one transaction as the role the process logged in as; a
 * failed interval never ends the service, and its log never carries
 * personal data (counts and the first line of an error only).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int cmd_tick(struct cli *cli, const struct ch_value *v);

static const struct ch_arg tick_args[] = {
    {"--every", CH_ARG_INT, 0,
     "keep running: one cycle every SECONDS until SIGTERM; SIGHUP re-reads plugins", NULL,
     "SECONDS", 1, 86400},
};

static const struct cli_command tick_commands[] = {
    {CLI_SPEC("tick", NULL, "run every plugin's periodic work (as a service or an admin)",
              tick_args),
     cmd_tick},
};

const struct cli_verb cli_verb_tick = {
    "tick", "run every plugin's periodic work once, or every N seconds (follows deploys)",
    tick_commands, CLI_N(tick_commands), CLI_PLUGINS | CLI_LIVE};

/* The longest wait between two attempts to reach a database that went away. */
#define TICK_BACKOFF_CAP_S 60

static volatile sig_atomic_t reload_requested, stop_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

/* What became of one interval. */
enum tick_outcome {
    TICK_OK,
    TICK_FAILED,  /* rolled back; the next interval tries again */
    TICK_LOST,    /* the connection is gone: reconnect, then run it again */
    TICK_REFUSED, /* this role may not tick (any more): the service stops */
};

struct tick_service {
    long long every; /* seconds between intervals */
    long long n;     /* intervals begun, for the log */
    long long ok, failed, reconnects;
    time_t last_ok;   /* 0 before the first good interval */
    char db_role[64]; /* the role the first interval ran as; every later one must be it */
    int refusal;      /* the exit code of a TICK_REFUSED */
};

/* One line on stderr, as the plugins' own log lines read (core/diag.c). */
#define tick_log(level, ...) diag_log("tick", level, __VA_ARGS__)

/*
 * The first line of an error (borrowed from err, cut in place): PostgreSQL's
 * primary message; its DETAIL may quote a row, which is personal data.
 */
static const char *first_line(char *err)
{
    err[strcspn(err, "\n")] = '\0';
    return err[0] != '\0' ? err : "unknown error";
}

static void tick_rollback(struct cli *cli)
{
    if (cli->in_tx && cli->ctx.conn != NULL && PQstatus(cli->ctx.conn) == CONNECTION_OK)
        PQclear(PQexec(cli->ctx.conn, "ROLLBACK"));
    cli->in_tx = 0;
}

/* After a failed step: TICK_LOST when the connection went with it, else TICK_FAILED. */
static enum tick_outcome tick_failed(struct cli *cli)
{
    tick_rollback(cli);
    return PQstatus(cli->ctx.conn) == CONNECTION_OK ? TICK_FAILED : TICK_LOST;
}

static enum tick_outcome tick_refused(struct cli *cli, struct tick_service *ts, int code)
{
    tick_rollback(cli);
    ts->refusal = code;
    return TICK_REFUSED;
}

/*
 * One interval: a transaction as the connected role, which must be a
 * service or an admin (and, after the first, the same role), every
 * plugin's tick hook, COMMIT. Why it failed is in cli->ctx.err.
 */
static enum tick_outcome tick_interval(struct cli *cli, struct tick_service *ts)
{
    static const char *const roles[] = {"service", "admin", NULL};
    struct ch_event_data ev = {sizeof(ev), CH_EV_TICK, 0, 0, NULL, 0};
    struct ch_ctx *ctx = &cli->ctx;

    if (ctx->conn == NULL)
        ctx->conn = db_connect(cli_conninfo(cli), ctx->err, sizeof(ctx->err));
    if (ctx->conn == NULL)
        return TICK_LOST;
    if (PQstatus(ctx->conn) != CONNECTION_OK) {
        snprintf(ctx->err, sizeof(ctx->err), "%s", PQerrorMessage(ctx->conn));
        return TICK_LOST;
    }
    if (db_start(ctx->conn, &ctx->dbuser, ctx->err, sizeof(ctx->err)) != 0)
        return tick_failed(cli);
    cli->in_tx = 1;
    if (ctx->dbuser.id == 0) {
        snprintf(ctx->err, sizeof(ctx->err),
                 "connected as PostgreSQL role '%s', which is no casehost user (or is "
                 "disabled)\nhint: connect as the agency's service role: user= in CASEHOST_DB or "
                 "database.conninfo, PGUSER, a service file, or peer authentication",
                 PQuser(ctx->conn));
        return tick_refused(cli, ts, EXIT_RUNTIME);
    }
    if (ts->db_role[0] != '\0' && strcmp(ts->db_role, ctx->dbuser.db_role) != 0) {
        snprintf(ctx->err, sizeof(ctx->err), "the session is role '%s', not '%s' it started as",
                 ctx->dbuser.db_role, ts->db_role);
        return tick_refused(cli, ts, EXIT_RUNTIME);
    }
    if (cli_role_refusal(cli, "tick", roles, ctx->err, sizeof(ctx->err)) != 0)
        return tick_refused(cli, ts, ts->db_role[0] != '\0' ? EXIT_RUNTIME : EXIT_USAGE);
    ctx_bind_user(ctx);
    if (loader_fire(&cli->loader, ctx, &ev) != 0)
        return tick_failed(cli);
    if (db_run(ctx->conn, "COMMIT", 0, NULL, ctx->err, sizeof(ctx->err)) != 0)
        return tick_failed(cli);
    cli->in_tx = 0;
    snprintf(ts->db_role, sizeof(ts->db_role), "%s", ctx->dbuser.db_role);
    return TICK_OK;
}

/* Sleeps up to seconds, less when a signal asks for something. */
static void nap(long long seconds)
{
    for (long long s = 0; s < seconds && !stop_requested && !reload_requested; s++)
        sleep(1); /* a signal ends it early: no SA_RESTART */
}

/*
 * Reaches the database again after it went away (a restart, a failover, a
 * terminated backend): at once, then after 1, 2, 4 ... up to 60 seconds.
 * libpq logs in with the same conninfo, so the role is the same one; the
 * next interval checks it. 0, or -1 when a stop was asked for first.
 */
static int tick_reconnect(struct cli *cli, struct tick_service *ts)
{
    struct ch_ctx *ctx = &cli->ctx;
    long long delay = 1;
    for (int attempt = 1; !stop_requested; attempt++) {
        if (ctx->conn == NULL) {
            ctx->conn = db_connect(cli_conninfo(cli), ctx->err, sizeof(ctx->err));
        } else {
            PQreset(ctx->conn);
            snprintf(ctx->err, sizeof(ctx->err), "%s", PQerrorMessage(ctx->conn));
        }
        if (ctx->conn != NULL && PQstatus(ctx->conn) == CONNECTION_OK) {
            ts->reconnects++;
            tick_log("info", "reconnected to the database (attempt %d)", attempt);
            return 0;
        }
        tick_log("warning", "cannot reach the database (attempt %d): %s; next try in %lld s",
                 attempt, first_line(ctx->err), delay);
        nap(delay);
        reload_requested = 0; /* the reload happens once connected */
        delay = delay * 2 > TICK_BACKOFF_CAP_S ? TICK_BACKOFF_CAP_S : delay * 2;
    }
    return -1;
}

/* A deploy elsewhere: the new live generation from the next interval on. */
static void tick_follow_deploys(struct cli *cli)
{
    int r = live_refresh(cli);
    if (r > 0)
        tick_log("info", "a new configuration was deployed; plugins reloaded");
    else if (r < 0)
        tick_log("warning", "cannot check the live configuration; keeping the one in force");
}

/* The interval's output on stdout, its line in the log, its counts. */
static void tick_report(struct cli *cli, struct tick_service *ts, enum tick_outcome o,
                        struct out *out, struct timespec t0)
{
    struct timespec t1;
    long ms;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    switch (o) {
    case TICK_OK:
        ts->ok++;
        ts->last_ok = time(NULL);
        if (!out_is_empty(out) && out_flush(out, stdout) != 0)
            tick_log("warning", "interval %lld: cannot write its output", ts->n);
        tick_log("info", "interval %lld ok: %zu message(s), %ld ms", ts->n, out_message_count(out),
                 ms);
        break;
    case TICK_FAILED:
        ts->failed++;
        tick_log("error", "interval %lld failed and was rolled back: %s", ts->n,
                 first_line(cli->ctx.err));
        break;
    case TICK_LOST:
        tick_log("warning", "interval %lld: lost the database (%s); reconnecting", ts->n,
                 first_line(cli->ctx.err));
        break;
    case TICK_REFUSED:
        ts->failed++;
        tick_log("error", "interval %lld refused, stopping: %s", ts->n, first_line(cli->ctx.err));
        break;
    }
}

/* What the service did, for whoever reads its standard output at the end. */
static void tick_summary(struct cli *cli, const struct tick_service *ts)
{
    char when[32] = "";
    struct tm tm;
    if (ts->last_ok != 0 && gmtime_r(&ts->last_ok, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    out_int(cli->out, "intervals", ts->ok + ts->failed);
    out_int(cli->out, "failed", ts->failed);
    out_int(cli->out, "reconnects", ts->reconnects);
    out_str(cli->out, "last_success", when[0] != '\0' ? when : NULL);
}

/*
 * The service: an interval every ts->every seconds until SIGTERM or SIGINT
 * (the interval under way finishes first: libpq resumes its calls after a
 * signal), SIGHUP re-reading every plugin's configuration. Each interval
 * writes to an output of its own, so months of messages never pile up.
 */
static int tick_service_run(struct cli *cli, struct tick_service *ts)
{
    struct sigaction sa;
    int lost = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    tick_log("info", "started: one interval every %lld s", ts->every);
    while (!stop_requested) {
        struct out *out;
        struct timespec t0;
        enum tick_outcome o;
        if (reload_requested) {
            reload_requested = 0;
            tick_log(loader_reload(&cli->loader) == 0 ? "info" : "warning",
                     "re-read every plugin's configuration (one that fails keeps its previous)");
        }
        if (lost) {
            if (tick_reconnect(cli, ts) != 0)
                break;
            lost = 0;
            tick_follow_deploys(cli); /* deploys made while away */
        }
        if ((out = out_new(cli->json)) == NULL)
            return cli_fail(cli, EXIT_RUNTIME, "out of memory");
        ts->n++;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cli->ctx.out = out;
        o = tick_interval(cli, ts);
        cli->ctx.out = cli->out;
        tick_report(cli, ts, o, out, t0);
        out_free(out);
        if (o == TICK_REFUSED)
            return ts->refusal;
        if (o == TICK_LOST) {
            lost = 1;
            continue; /* the interval runs again as soon as the database is back */
        }
        /* Right after a commit, on a connection just seen alive. */
        tick_follow_deploys(cli);
        nap(ts->every);
    }
    tick_log("info", "stopped: %lld interval(s) ok, %lld failed, %lld reconnect(s)", ts->ok,
             ts->failed, ts->reconnects);
    tick_summary(cli, ts);
    return EXIT_OK;
}

/*
 * `tick` runs one interval (for cron) and fails like any command;
 * `tick --every SECONDS` is the service above.
 */
static int cmd_tick(struct cli *cli, const struct ch_value *v)
{
    struct tick_service ts;
    memset(&ts, 0, sizeof(ts));
    ts.every = v[0].num;
    if (v[0].given)
        return tick_service_run(cli, &ts);
    switch (tick_interval(cli, &ts)) {
    case TICK_OK:
        return EXIT_OK;
    case TICK_REFUSED:
        return cli_fail(cli, ts.refusal, "%s", cli->ctx.err);
    default:
        return cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
    }
}
