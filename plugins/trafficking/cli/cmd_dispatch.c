/*
 * cmd_dispatch.c: `casehost dispatch`, the dispatcher as a command: once (for
 * cron) or long-running until SIGTERM, with the transaction per row its own
 * (CH_CMD_OWN_TX). Also reads the `dispatch_targets` override setting. It
 * never decides whether a referral may leave; dispatch.c does, under lock.
 * The host parses the options from the typed table below.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_dispatch.h"

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

static const struct {
    const char *name;
    int channel;
    const char *needs[2]; /* members the channel requires */
} channels[] = {
    {"webhook", DISPATCH_WEBHOOK, {"url", "secret"}},
    {"command", DISPATCH_COMMAND, {"command", NULL}},
    {"spool", DISPATCH_SPOOL, {"spool_dir", NULL}},
};

static const char *member_str(const config_setting_t *g, const char *name)
{
    const char *v = NULL;
    return config_setting_lookup_string(g, name, &v) == CONFIG_TRUE ? v : NULL;
}

static int channel_index(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(channels) / sizeof(channels[0]); i++)
        if (strcmp(channels[i].name, name) == 0)
            return (int)i;
    return -1;
}

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
    const char *spool;
    int ch;
    if (g == NULL || (d = config_setting_get_member(g, destination_id)) == NULL)
        return NULL;
    if ((ch = channel_index(member_str(d, "channel"))) < 0)
        return NULL; /* refused at init; a reload cannot change the host config */
    memset(&cfg_target, 0, sizeof(cfg_target));
    cfg_target.channel = channels[ch].channel;
    cfg_target.url = member_str(d, "url");
    cfg_target.secret = member_str(d, "secret");
    cfg_target.command = member_str(d, "command");
    spool = member_str(d, "spool_dir");
    if (spool != NULL && spool[0] != '/') {
        /* Like every path setting: relative to the host config's directory. */
        snprintf(cfg_spool, sizeof(cfg_spool), "%s/%s", t->api->config_dir(t->self), spool);
        spool = cfg_spool;
    }
    cfg_target.spool_dir = spool;
    return &cfg_target;
}

static void target_error(struct trf *t, const config_setting_t *s, const char *fmt, ...)
    CH_PRINTF(3, 4);

/* Reports one dispatch_targets error at the line of s. */
static void target_error(struct trf *t, const config_setting_t *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    t->api->config_error(t->self, config_setting_source_file(s), (int)config_setting_source_line(s),
                         0, "dispatch_targets: %s", msg);
}

/* Every error in dispatch_targets, reported at its line. 0 or -1. */
static int targets_check(struct trf *t)
{
    static const char *const known[] = {"channel", "url", "secret", "command", "spool_dir", NULL};
    const config_setting_t *g = targets_group(t);
    int ok = 1;
    if (g == NULL)
        return 0;
    if (!config_setting_is_group(g)) {
        target_error(t, g, "must be a group: { DESTINATION = { channel = ...; }; ... }");
        return -1;
    }
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *d = config_setting_get_elem(g, (unsigned)i);
        const char *id = config_setting_name(d);
        int ch;
        if (!config_setting_is_group(d)) {
            target_error(t, d, "'%s' must be a group { channel = ...; }", id);
            ok = 0;
            continue;
        }
        for (int k = 0; k < config_setting_length(d); k++) {
            const config_setting_t *m = config_setting_get_elem(d, (unsigned)k);
            int found = 0;
            for (const char *const *n = known; *n; n++)
                found |= strcmp(config_setting_name(m), *n) == 0;
            if (!found) {
                target_error(t, m,
                             "'%s': unknown setting '%s' (known: channel, url, secret, command, "
                             "spool_dir)",
                             id, config_setting_name(m));
                ok = 0;
            } else if (config_setting_type(m) != CONFIG_TYPE_STRING) {
                target_error(t, m, "'%s': '%s' must be a string", id, config_setting_name(m));
                ok = 0;
            }
        }
        if ((ch = channel_index(member_str(d, "channel"))) < 0) {
            target_error(t, d, "'%s': channel must be \"webhook\", \"command\" or \"spool\"", id);
            ok = 0;
            continue;
        }
        for (int k = 0; k < 2 && channels[ch].needs[k] != NULL; k++) {
            const char *v = member_str(d, channels[ch].needs[k]);
            if (v == NULL || v[0] == '\0') {
                target_error(t, d, "'%s': a %s target needs '%s'", id, channels[ch].name,
                             channels[ch].needs[k]);
                ok = 0;
            }
        }
        if (channels[ch].channel == DISPATCH_WEBHOOK && member_str(d, "url") != NULL &&
            strncmp(member_str(d, "url"), "http://", 7) != 0 &&
            strncmp(member_str(d, "url"), "https://", 8) != 0) {
            target_error(t, d, "'%s': url must start with http:// or https://", id);
            ok = 0;
        }
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

static void log_line(void *ud, int warning, const char *msg)
{
    struct trf *t = ud;
    t->api->log(t->self, warning ? CH_LOG_WARN : CH_LOG_INFO, "dispatch: %s", msg);
}

enum { D_ONCE, D_MAX_ATTEMPTS, D_BACKOFF_MS, D_TIMEOUT_MS, D_IDLE_MS };
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
    [D_IDLE_MS] = {"--idle-ms", CH_ARG_INT, 0, "longest sleep when nothing is ready (default 1000)",
                   NULL, NULL, 1, 3600L * 1000},
};

static int cmd_dispatch(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    const struct ch_host_api *api = t->api;
    struct dispatch_options opt;
    struct dispatch_stats st;
    char err[1024];
    int rc;

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
    if (strcmp(api->user(ctx)->role, "service") != 0 &&
        strcmp(api->user(ctx)->role, "admin") != 0) {
        api->fail(ctx, "dispatch needs the role service or admin; '%s' is a %s",
                  api->user(ctx)->name, api->user(ctx)->role);
        return CH_USAGE;
    }
    opt.log = log_line;
    opt.log_ud = t;
    rc = dispatch_run(api->conn(ctx), lookup_target, NULL, &opt, &st, err, sizeof(err));
    /* The counts also after an error: what was committed stays done. */
    api->out_int(ctx, "sent", st.sent);
    api->out_int(ctx, "held", st.held);
    api->out_int(ctx, "retried", st.retried);
    api->out_int(ctx, "failed", st.failed);
    if (st.reconnects > 0)
        api->out_int(ctx, "reconnects", st.reconnects);
    if (rc != 0) {
        api->fail(ctx, "dispatch stopped: %s", err);
        return CH_ERROR;
    }
    return CH_OK;
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
    if (targets_check(t) != 0)
        return -1;
    reg.t = t;
    reg.lookup = lookup;
    reg.ud = ud;
    return t->api->command_typed(t->self, &spec);
}
