/*
 * targets.c: a dispatch target (channel, url, secret, command, spool_dir) as
 * the host config's plugin settings give it: checked once at init with every
 * error at its line, and filled for the dispatcher. `dispatch_targets` and
 * the notification channels (`notify`) share it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/targets.h"
#include "routing/webhook_url.h"

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

int trf_dispatch_target_known(const config_setting_t *d)
{
    return channel_index(member_str(d, "channel")) >= 0;
}

void trf_dispatch_target_fill(struct trf *t, const config_setting_t *d, struct dispatch_target *out,
                              char *spool_buf, size_t spool_len)
{
    const char *spool;
    int ch = channel_index(member_str(d, "channel"));
    memset(out, 0, sizeof(*out));
    out->channel = channels[ch < 0 ? 0 : ch].channel;
    out->url = member_str(d, "url");
    out->secret = member_str(d, "secret");
    out->command = member_str(d, "command");
    spool = member_str(d, "spool_dir");
    if (spool != NULL && spool[0] != '/') {
        /* Like every path setting: relative to the host config's directory. */
        snprintf(spool_buf, spool_len, "%s/%s", t->api->config_dir(t->self), spool);
        spool = spool_buf;
    }
    out->spool_dir = spool;
}

/* Reports one error of the plugin setting `setting` at the line of s. */
void trf_dispatch_target_error(struct trf *t, const char *setting, const config_setting_t *s,
                               const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    t->api->config_error(t->self, config_setting_source_file(s), (int)config_setting_source_line(s),
                         0, "%s: %s", setting, msg);
}

int trf_dispatch_target_check(struct trf *t, const char *setting, const char *id,
                              const config_setting_t *d, const char *extra)
{
    static const char *const known[] = {"channel", "url", "secret", "command", "spool_dir", NULL};
    int ok = 1, ch;
    if (!config_setting_is_group(d)) {
        trf_dispatch_target_error(t, setting, d, "'%s' must be a group { channel = ...; }", id);
        return -1;
    }
    for (int k = 0; k < config_setting_length(d); k++) {
        const config_setting_t *m = config_setting_get_elem(d, (unsigned)k);
        int found = extra != NULL && strcmp(config_setting_name(m), extra) == 0;
        for (const char *const *n = known; *n; n++)
            found |= strcmp(config_setting_name(m), *n) == 0;
        if (!found) {
            trf_dispatch_target_error(
                t, setting, m,
                "'%s': unknown setting '%s' (known: %s%schannel, url, secret, command, "
                "spool_dir)",
                id, config_setting_name(m), extra ? extra : "", extra ? ", " : "");
            ok = 0;
        } else if (config_setting_type(m) != CONFIG_TYPE_STRING) {
            trf_dispatch_target_error(t, setting, m, "'%s': '%s' must be a string", id,
                                      config_setting_name(m));
            ok = 0;
        }
    }
    if ((ch = channel_index(member_str(d, "channel"))) < 0) {
        trf_dispatch_target_error(
            t, setting, d, "'%s': channel must be \"webhook\", \"command\" or \"spool\"", id);
        return -1;
    }
    for (int k = 0; k < 2 && channels[ch].needs[k] != NULL; k++) {
        const char *v = member_str(d, channels[ch].needs[k]);
        if (v == NULL || v[0] == '\0') {
            trf_dispatch_target_error(t, setting, d, "'%s': a %s target needs '%s'", id,
                                      channels[ch].name, channels[ch].needs[k]);
            ok = 0;
        }
    }
    if (channels[ch].channel == DISPATCH_WEBHOOK && member_str(d, "url") != NULL &&
        strncmp(member_str(d, "url"), "http://", 7) != 0 &&
        strncmp(member_str(d, "url"), "https://", 8) != 0) {
        trf_dispatch_target_error(t, setting, d, "'%s': url must start with http:// or https://",
                                  id);
        ok = 0;
    } else if (channels[ch].channel == DISPATCH_WEBHOOK && member_str(d, "url") != NULL &&
               routing_webhook_url_problem(member_str(d, "url")) != NULL) {
        trf_dispatch_target_error(t, setting, d, "'%s': url %s", id,
                                  routing_webhook_url_problem(member_str(d, "url")));
        ok = 0;
    }
    return ok ? 0 : -1;
}
