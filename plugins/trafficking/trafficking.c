/*
 * trafficking.c: the plugin's entry: the one exported symbol, init, reload
 * and fini. Init loads and validates every configuration file and registers
 * hooks, commands and the case section; a reload that fails keeps the
 * previous configuration in force.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_dispatch.h"
#include "cmd_routing.h"
#include "route.h"
#include "trf.h"

#define TRF_VERSION "0.1.0"

static void report(void *ud, const char *file, int line, int col, const char *msg)
{
    struct trf *t = ud;
    t->api->config_error(t->self, file, line, col, "%s", msg);
}

/* A path setting relative to the host config's directory; caller frees. */
static char *setting_path(struct trf *t, const char *name, const char *dflt)
{
    const config_setting_t *set = t->api->config(t->self);
    const char *rel = dflt, *dir = t->api->config_dir(t->self);
    const config_setting_t *s = set ? config_setting_get_member(set, name) : NULL;
    char *p;
    size_t n;
    if (s != NULL) {
        if (config_setting_type(s) != CONFIG_TYPE_STRING) {
            t->api->config_error(t->self, config_setting_source_file(s),
                                 (int)config_setting_source_line(s), 0,
                                 "'%s' must be a string (a path)", name);
            return NULL;
        }
        rel = config_setting_get_string(s);
    }
    n = strlen(dir) + strlen(rel) + 2;
    p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s%s%s", rel[0] == '/' ? "" : dir, rel[0] == '/' ? "" : "/", rel);
    return p;
}

struct trf_config *trf_config_load(struct trf *t)
{
    static const char *const known[] = {"instruments", "screening",        "destinations",
                                        "routing",     "dispatch_targets", NULL};
    const config_setting_t *set = t->api->config(t->self);
    struct trf_config *c = calloc(1, sizeof(*c));
    char *idir = setting_path(t, "instruments", "trafficking/instruments");
    char *spath = setting_path(t, "screening", "trafficking/screening.cfg");
    char *dpath = setting_path(t, "destinations", "trafficking/destinations.cfg");
    char *rpath = setting_path(t, "routing", "trafficking/routing.cfg");
    int ok = c != NULL && idir != NULL && spath != NULL && dpath != NULL && rpath != NULL;

    for (int i = 0; set != NULL && i < config_setting_length(set); i++) {
        const config_setting_t *m = config_setting_get_elem(set, (unsigned)i);
        int found = 0;
        for (const char *const *k = known; *k; k++)
            found |= strcmp(config_setting_name(m), *k) == 0;
        if (!found) {
            t->api->config_error(t->self, config_setting_source_file(m),
                                 (int)config_setting_source_line(m), 0,
                                 "unknown setting '%s' (known: instruments, screening, "
                                 "destinations, routing, dispatch_targets)",
                                 config_setting_name(m));
            ok = 0;
        }
    }
    /* Load both files even when one fails, so one run reports every error. */
    if (c != NULL && idir != NULL && instrument_set_load(idir, report, t, &c->instruments) != 0)
        ok = 0;
    if (c != NULL && spath != NULL &&
        trigger_set_load(spath, c->instruments, report, t, &c->triggers) != 0)
        ok = 0;
    if (c != NULL && dpath != NULL && rpath != NULL &&
        routing_config_load_checked(dpath, rpath, c->instruments, report, t, &c->routing) != 0)
        ok = 0;
    free(idir);
    free(spath);
    free(dpath);
    free(rpath);
    if (!ok) {
        trf_config_free(c);
        return NULL;
    }
    return c;
}

void trf_config_free(struct trf_config *c)
{
    if (c == NULL)
        return;
    instrument_set_free(c->instruments);
    trigger_set_free(c->triggers);
    routing_config_free(c->routing);
    free(c);
}

/*
 * Where the dispatcher sends a destination's referrals: the routing
 * destinations of the configuration in force (dispatch_targets settings
 * override single destinations, see cmd_dispatch.c).
 */
static const struct dispatch_target *destination_lookup(void *ud, const char *id)
{
    static struct dispatch_target target;
    static char secret[512];
    struct trf *t = ud;
    const struct dispatch_target *override = trf_dispatch_config_lookup(t, id);
    const struct routing_config *cfg = t->cfg->routing;
    const struct routing_destination *d;
    int i;
    if (override != NULL)
        return override;
    i = routing_config_destination(cfg, id);
    if (i < 0)
        return NULL;
    d = &cfg->destinations[i];
    memset(&target, 0, sizeof(target));
    switch (d->channel.type) {
    case ROUTING_CHANNEL_WEBHOOK:
        target.channel = DISPATCH_WEBHOOK;
        target.url = d->channel.url;
        target.secret = d->channel.secret;
        if (target.secret == NULL && d->channel.secret_file != NULL) {
            FILE *f = fopen(d->channel.secret_file, "r");
            secret[0] = '\0';
            if (f != NULL) {
                if (fgets(secret, sizeof(secret), f) == NULL)
                    secret[0] = '\0';
                fclose(f);
            }
            secret[strcspn(secret, "\r\n")] = '\0';
            target.secret = secret;
        }
        break;
    case ROUTING_CHANNEL_COMMAND:
        target.channel = DISPATCH_COMMAND;
        target.command = d->channel.command;
        break;
    default:
        target.channel = DISPATCH_SPOOL;
        target.spool_dir = d->channel.spool_dir;
        break;
    }
    return &target;
}

static int trf_init(struct ch_plugin *self, const struct ch_host_api *api, void **state)
{
    static const enum ch_event events[] = {CH_EV_CASE_CREATED, CH_EV_CASE_UPDATED, CH_EV_NOTE_ADDED,
                                           CH_EV_CASE_CLOSED};
    struct trf *t;
    if (api->size < sizeof(struct ch_host_api) || api->abi_major != CH_ABI_MAJOR)
        return CH_ERROR;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return CH_ERROR;
    *state = t;
    t->api = api;
    t->self = self;
    t->cfg = trf_config_load(t);
    if (t->cfg == NULL)
        return CH_ERROR;
    /* Triggers first (100), then routing (110), both in the change's transaction. */
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
        if (api->hook(self, events[i], 100, trf_on_case_event, t) != 0)
            return CH_ERROR;
    if (api->hook(self, CH_EV_CASE_CREATED, 110, route_on_case_event, t) != 0 ||
        api->hook(self, CH_EV_CASE_UPDATED, 110, route_on_case_event, t) != 0 ||
        api->hook(self, CH_EV_TICK, 100, route_on_tick, t) != 0)
        return CH_ERROR;
    if (api->render(self, 100, trf_render_case, t) != 0 || trf_register_commands(t) != 0 ||
        trf_register_referral_commands(t) != 0 || trf_register_routing_commands(t) != 0 ||
        trf_register_dispatch(t, destination_lookup, t) != 0)
        return CH_ERROR;
    return CH_OK;
}

static int trf_reload(struct ch_plugin *self, void *state)
{
    struct trf *t = state;
    struct trf_config *next;
    (void)self;
    next = trf_config_load(t);
    if (next == NULL)
        return CH_ERROR; /* the previous generation stays in force */
    trf_config_free(t->cfg);
    t->cfg = next;
    return CH_OK;
}

static void trf_fini(void *state)
{
    struct trf *t = state;
    if (t == NULL)
        return;
    trf_config_free(t->cfg);
    free(t);
}

CH_PLUGIN_EXPORT const struct ch_plugin_desc *CH_PLUGIN_ENTRY(void)
{
    static const struct ch_plugin_desc desc = {
        CH_PLUGIN_DESC_HEAD,
        "trafficking",
        TRF_VERSION,
        "trafficking screening instruments, triggers and workflows",
        trf_init,
        trf_reload,
        trf_fini,
    };
    return &desc;
}
