/*
 * cmd_dispatch.c: `casehost dispatch`, the dispatcher as a command: once (for
 * cron: exit 3 when something newly failed for good or was held) or
 * long-running until SIGTERM, a deploy or SIGHUP (both end it with exit 0 for
 * the service manager to start it again), with its own short transactions
 * (CH_CMD_OWN_TX). Also reads the `dispatch_targets` override setting. It
 * never decides whether a referral may leave; dispatch.c does, under lock.
 * The host parses the options from the typed table below.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd_dispatch.h"
#include "cli/notify_channel.h"
#include "cli/targets.h"
#include "db/query.h"

#define PATH_MAX_LEN 4096

/*
 * What `dispatch` was registered with. The plugin is loaded once per process
 * and registers during init only, so one instance suffices.
 */
static struct {
    struct trf *t;
    dispatch_lookup_fn lookup;
    void *ud;
} reg;

/* The last target the config lookup returned (valid until its next call). */
static struct dispatch_target cfg_target;
static char cfg_spool[PATH_MAX_LEN];

static const config_setting_t *targets_group(struct trf *t)
{
    const config_setting_t *set = t->api->config(t->self);
    return set != NULL ? config_setting_get_member(set, "dispatch_targets") : NULL;
}

const struct dispatch_target *trf_dispatch_config_lookup(void *ud, const char *destination_id)
{
    struct trf *t = ud;
    const config_setting_t *g = targets_group(t);
    const config_setting_t *d;
    if (g == NULL || (d = config_setting_get_member(g, destination_id)) == NULL)
        return NULL;
    if (!trf_dispatch_target_known(d))
        return NULL; /* refused at init; a reload cannot change the host config */
    trf_dispatch_target_fill(t, d, &cfg_target, cfg_spool, sizeof(cfg_spool));
    return &cfg_target;
}

/* Every error in dispatch_targets, reported at its line. 0 or -1. */
static int targets_check(struct trf *t)
{
    const config_setting_t *g = targets_group(t);
    int ok = 1;
    if (g == NULL)
        return 0;
    if (!config_setting_is_group(g)) {
        trf_dispatch_target_error(t, "dispatch_targets", g,
                                  "must be a group: { DESTINATION = { channel = ...; }; ... }");
        return -1;
    }
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *d = config_setting_get_elem(g, (unsigned)i);
        if (trf_dispatch_target_check(t, "dispatch_targets", config_setting_name(d), d, NULL) != 0)
            ok = 0;
    }
    return ok ? 0 : -1;
}

/* The override first, then the lookup the plugin registered. */
static const struct dispatch_target *lookup_target(void *ud, const char *destination_id)
{
    const struct dispatch_target *tg = trf_dispatch_config_lookup(reg.t, destination_id);
    (void)ud;
    if (tg != NULL || reg.lookup == NULL || reg.lookup == trf_dispatch_config_lookup)
        return tg;
    return reg.lookup(reg.ud, destination_id);
}

/* One line per event, with its level; a multi-line server message is folded onto it. */
static void log_line(void *ud, int level, const char *msg)
{
    struct trf *t = ud;
    char line[1200];
    snprintf(line, sizeof(line), "%s", msg);
    for (char *p = line; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    t->api->log(t->self,
                level == DISPATCH_LOG_ERROR     ? CH_LOG_ERROR
                : level == DISPATCH_LOG_WARNING ? CH_LOG_WARN
                                                : CH_LOG_INFO,
                "dispatch: %s", line);
}

/*
 * The name this dispatcher's health is recorded under: --worker, else the
 * host name (two dispatchers on one machine share it unless named).
 */
static void worker_name(const char *given, char *buf, size_t size)
{
    if (given != NULL && given[0] != '\0')
        snprintf(buf, size, "%s", given);
    else if (gethostname(buf, size) != 0 || buf[0] == '\0')
        snprintf(buf, size, "dispatcher");
    buf[size - 1] = '\0';
    for (char *p = buf; *p != '\0'; p++)
        if (!isalnum((unsigned char)*p) && strchr("._:@-", *p) == NULL)
            *p = '_';
    if (strlen(buf) > 100)
        buf[100] = '\0';
}

/* dispatch --health: when each dispatcher of the agency last ran well and sent. */
static const char health_sql[] =
    "SELECT worker, pid, CASE WHEN stopped_at IS NULL THEN 'running' ELSE 'stopped' END AS state,"
    "       to_char(last_ok_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS last_ok_at,"
    "       ok_age_s,"
    "       to_char(last_sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    "           AS last_sent_at, sent_total,"
    "       last_error, to_char(last_error_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    "           AS last_error_at, pending_referrals, pending_notices"
    "  FROM trafficking.dispatch_health_v1()";

/*
 * Healthy (exit 0) when some dispatcher of the agency completed a cycle
 * within stale_s seconds; else CH_ATTENTION with what is known.
 */
static int dispatch_health(struct trf *t, struct ch_ctx *ctx, long long stale_s)
{
    const struct ch_host_api *api = t->api;
    char err[1024];
    PGresult *r = trf_query(api->conn(ctx), health_sql, 0, NULL, err, sizeof(err),
                            "cannot read the dispatchers' health");
    long long best = -1;
    int best_row = -1;
    if (r == NULL) {
        api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        long long age = PQgetisnull(r, i, 4) ? -1 : strtoll(PQgetvalue(r, i, 4), NULL, 10);
        if (age >= 0 && (best < 0 || age < best)) {
            best = age;
            best_row = i;
        }
    }
    api->out_bool(ctx, "healthy", best >= 0 && best <= stale_s);
    if (best_row >= 0) {
        api->out_str(ctx, "last_ok_at", PQgetvalue(r, best_row, 3));
        api->out_int(ctx, "last_ok_age_s", best);
        if (!PQgetisnull(r, best_row, 5))
            api->out_str(ctx, "last_sent_at", PQgetvalue(r, best_row, 5));
    }
    api->out_result(ctx, "workers", r, 1);
    if (best < 0)
        api->out_message(ctx, "no dispatcher of agency '%s' has completed a run yet",
                         api->user(ctx)->agency_name);
    else
        api->out_message(ctx, "last good run: %s (%lld s ago, by '%s'); last send: %s%s",
                         PQgetvalue(r, best_row, 3), best, PQgetvalue(r, best_row, 0),
                         PQgetisnull(r, best_row, 5) ? "never" : PQgetvalue(r, best_row, 5),
                         best > stale_s ? "; stale: is the dispatcher running?" : "");
    PQclear(r);
    return best >= 0 && best <= stale_s ? CH_OK : CH_ATTENTION;
}

/*
 * Following deploys: the live generation's hash when the run started. A
 * dispatcher whose configuration was replaced by `config deploy` ends its run
 * cleanly (exit 0, nothing claimed) at the end of the cycle, so the service
 * manager starts it again on the new destinations (Restart=always; INSTALL).
 * Checked whenever the queue is drained, so at the latest every --idle-ms; a
 * restart keeps no half-reloaded state. It cannot reload in place as `tick
 * --every` does: the host's private copy of the live generation (what the
 * plugin's configuration is read from) is refreshed only by the host, and
 * the plugin ABI offers a plugin command no way to ask for it.
 */
struct deploy_watch {
    struct trf *t;
    char hash[130];
    int changed;
};

static const char live_sql[] = "SELECT coalesce(trafficking.live_generation(), '')";

static int deploy_changed(void *ud, PGconn *conn)
{
    struct deploy_watch *w = ud;
    char err[512];
    PGresult *r =
        trf_query(conn, live_sql, 0, NULL, err, sizeof(err), "cannot read the live configuration");
    if (r == NULL) {
        /* Not a reason to stop: the old targets stay in force; the next cycle looks again. */
        return 0;
    }
    if (strcmp(PQgetvalue(r, 0, 0), w->hash) != 0) {
        w->t->api->log(w->t->self, CH_LOG_INFO,
                       "dispatch: configuration %s was deployed (running %s): stopping to start "
                       "again on it",
                       PQgetvalue(r, 0, 0)[0] ? PQgetvalue(r, 0, 0) : "(none)",
                       w->hash[0] ? w->hash : "(none)");
        w->changed = 1;
    }
    PQclear(r);
    return w->changed;
}

enum {
    D_ONCE,
    D_MAX_ATTEMPTS,
    D_BACKOFF_MS,
    D_TIMEOUT_MS,
    D_IDLE_MS,
    D_LEASE_MS,
    D_BATCH,
    D_WORKER,
    D_HEALTH,
    D_STALE_AFTER_S
};
static const struct ch_arg dispatch_args[] = {
    [D_ONCE] = {"--once", CH_ARG_BOOL, 0,
                "stop when no outbox row is ready (default: run until SIGTERM)", NULL, NULL, 0, 0},
    [D_MAX_ATTEMPTS] = {"--max-attempts", CH_ARG_INT, 0,
                        "failed sends before a row becomes 'failed' (default 8)", NULL, NULL, 1,
                        1000},
    [D_BACKOFF_MS] = {"--backoff-ms", CH_ARG_INT, 0,
                      "wait after the first failure, doubling per failure (default 1000)", NULL,
                      NULL, 0, 86400L * 1000},
    [D_TIMEOUT_MS] = {"--timeout-ms", CH_ARG_INT, 0,
                      "per webhook request or command run (default 30000)", NULL, NULL, 1,
                      600L * 1000},
    [D_IDLE_MS] = {"--idle-ms", CH_ARG_INT, 0,
                   "longest wait for a queued referral's NOTIFY when nothing is ready (default "
                   "30000)",
                   NULL, NULL, 1, 3600L * 1000},
    [D_LEASE_MS] = {"--lease-ms", CH_ARG_INT, 0,
                    "how long a claimed referral is this dispatcher's before another may send it "
                    "(default: twice the timeout and 1 s)",
                    NULL, NULL, 1000, 86400L * 1000},
    [D_BATCH] = {"--batch", CH_ARG_INT, 0,
                 "ready referrals claimed at once, then each checked again and sent in turn, "
                 "its outcome recorded as its send ends (default 16; 1: one at a time)",
                 NULL, "N", 1, 100},
    [D_WORKER] = {"--worker", CH_ARG_TEXT, 0,
                  "the name its health is recorded under (default: the host name)", NULL, "NAME", 0,
                  0},
    [D_HEALTH] = {"--health", CH_ARG_BOOL, 0,
                  "say when each dispatcher of the agency last ran well and sent; exit 3 when none "
                  "did within --stale-after-s",
                  NULL, NULL, 0, 0},
    [D_STALE_AFTER_S] = {"--stale-after-s", CH_ARG_INT, 0,
                         "with --health: seconds after which a dispatcher counts as stopped "
                         "(default 120)",
                         NULL, NULL, 1, 86400L * 30},
};

static int cmd_dispatch(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    const struct ch_host_api *api = t->api;
    struct dispatch_options opt;
    struct dispatch_stats st;
    struct dispatch_target notice_target;
    struct deploy_watch watch = {t, "", 0};
    char err[1024], worker[128], notice_spool[PATH_MAX_LEN];
    int rc;

    if (v[D_HEALTH].num != 0)
        return dispatch_health(t, ctx, v[D_STALE_AFTER_S].given ? v[D_STALE_AFTER_S].num : 120);
    dispatch_options_init(&opt);
    opt.once = v[D_ONCE].num != 0;
    /* The table's bounds hold each value within the range of what it sets. */
    if (v[D_MAX_ATTEMPTS].given)
        opt.max_attempts = (int)v[D_MAX_ATTEMPTS].num;
    if (v[D_BACKOFF_MS].given)
        opt.backoff_ms = (long)v[D_BACKOFF_MS].num;
    if (v[D_TIMEOUT_MS].given)
        opt.timeout_ms = (long)v[D_TIMEOUT_MS].num;
    if (v[D_IDLE_MS].given)
        opt.idle_ms = (long)v[D_IDLE_MS].num;
    if (v[D_LEASE_MS].given)
        opt.lease_ms = (long)v[D_LEASE_MS].num;
    if (v[D_BATCH].given)
        opt.batch = (int)v[D_BATCH].num;
    if (strcmp(api->user(ctx)->role, "service") != 0 &&
        strcmp(api->user(ctx)->role, "admin") != 0) {
        api->fail(ctx, "dispatch needs the role service or admin; '%s' is a %s",
                  api->user(ctx)->name, api->user(ctx)->role);
        return CH_USAGE;
    }
    opt.log = log_line;
    opt.log_ud = t;
    worker_name(v[D_WORKER].given ? v[D_WORKER].text : NULL, worker, sizeof(worker));
    opt.worker = worker;
    if (trf_notify_channel(t, api->user(ctx)->agency_name, &notice_target, notice_spool,
                           sizeof(notice_spool)) == 0)
        opt.notice_target = &notice_target;
    else
        api->log(t->self, CH_LOG_WARN,
                 "dispatch: agency '%s' has no notification channel (`notify` in the plugin "
                 "settings): notices to people wait in trafficking.notices",
                 api->user(ctx)->agency_name);
    if (!opt.once) {
        PGresult *h = trf_query(api->conn(ctx), live_sql, 0, NULL, err, sizeof(err),
                                "cannot read the live configuration");
        if (h != NULL) {
            snprintf(watch.hash, sizeof(watch.hash), "%s", PQgetvalue(h, 0, 0));
            opt.cycle = deploy_changed;
            opt.cycle_ud = &watch;
        }
        PQclear(h);
    }
    rc = dispatch_run(api->conn(ctx), lookup_target, NULL, &opt, &st, err, sizeof(err));
    /* The counts also after an error: what was committed stays done. */
    api->out_int(ctx, "sent", st.sent);
    api->out_int(ctx, "held", st.held);
    api->out_int(ctx, "retried", st.retried);
    api->out_int(ctx, "failed", st.failed);
    if (st.lost_leases > 0)
        api->out_int(ctx, "lost_leases", st.lost_leases);
    if (st.reconnects > 0)
        api->out_int(ctx, "reconnects", st.reconnects);
    if (st.released > 0)
        api->out_int(ctx, "released", st.released);
    if (st.claims > 0)
        api->out_int(ctx, "claims", st.claims);
    if (watch.changed)
        api->out_bool(ctx, "deployed", 1);
    if (st.hangup)
        api->out_bool(ctx, "sighup", 1);
    if (opt.notice_target != NULL) {
        api->out_int(ctx, "notices_sent", st.notices_sent);
        api->out_int(ctx, "notices_retried", st.notices_retried);
        api->out_int(ctx, "notices_failed", st.notices_failed);
    }
    if (rc != 0) {
        api->fail(ctx, "dispatch stopped: %s", err);
        return CH_ERROR;
    }
    /*
     * Exit 3 when this run made something fail for good or held it: a
     * person must look now (`referral attention`). A lasting hold or failure
     * is not taken again, so cron alerts once, not every minute.
     */
    return st.failed > 0 || st.held > 0 || st.notices_failed > 0 ? CH_ATTENTION : CH_OK;
}

int trf_register_dispatch(struct trf *t, dispatch_lookup_fn lookup, void *ud)
{
    const struct ch_command_spec spec = {sizeof(spec),
                                         "dispatch",
                                         NULL,
                                         "send queued referrals from the outbox (the only way out)",
                                         CH_SPEC_ARGS(dispatch_args),
                                         cmd_dispatch,
                                         t,
                                         CH_CMD_OWN_TX,
                                         NULL};
    if (!CH_API_HAS(t->api, command_typed)) {
        t->api->log(t->self, CH_LOG_ERROR, "dispatch needs a host with typed commands (ABI 1.1)");
        return -1;
    }
    if (targets_check(t) != 0 || trf_notify_check(t) != 0)
        return -1;
    reg.t = t;
    reg.lookup = lookup;
    reg.ud = ud;
    return t->api->command_typed(t->self, &spec);
}
