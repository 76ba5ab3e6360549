/*
 * notify_channel.c: the `notify` plugin setting: per agency, the channel its
 * notices to people leave by. It lives in the host config beside
 * dispatch_targets, not in the database: a channel names a command to run or
 * a secret on this machine, which no database user may change.
 *
 *   notify = ( { agency = "A"; channel = "spool"; spool_dir = "../var/spool/notify"; },
 *              { agency = "*"; channel = "command"; command = "/usr/local/bin/page"; } );
 */
#include <stdio.h>
#include <string.h>

#include "cli/targets.h"
#include "cli/notify_channel.h"

static const config_setting_t *notify_list(struct trf *t)
{
    const config_setting_t *set = t->api->config(t->self);
    return set != NULL ? config_setting_get_member(set, "notify") : NULL;
}

static const char *agency_of(const config_setting_t *d)
{
    const char *v = NULL;
    return config_setting_lookup_string(d, "agency", &v) == CONFIG_TRUE ? v : NULL;
}

int trf_notify_check(struct trf *t)
{
    const config_setting_t *l = notify_list(t);
    int ok = 1;
    if (l == NULL)
        return 0;
    if (!config_setting_is_list(l)) {
        t->api->config_error(t->self, config_setting_source_file(l),
                             (int)config_setting_source_line(l), 0,
                             "notify: must be a list: ( { agency = \"NAME\"; channel = ...; }, "
                             "... )");
        return -1;
    }
    for (int i = 0; i < config_setting_length(l); i++) {
        const config_setting_t *d = config_setting_get_elem(l, (unsigned)i);
        const char *agency = config_setting_is_group(d) ? agency_of(d) : NULL;
        char label[160];
        snprintf(label, sizeof(label), "agency %s", agency ? agency : "?");
        if (config_setting_is_group(d) && (agency == NULL || agency[0] == '\0')) {
            t->api->config_error(t->self, config_setting_source_file(d),
                                 (int)config_setting_source_line(d), 0,
                                 "notify: entry %d needs agency = \"NAME\" (or \"*\" for every "
                                 "agency without its own)",
                                 i + 1);
            ok = 0;
        }
        for (int k = 0; agency != NULL && k < i; k++) {
            const char *other = agency_of(config_setting_get_elem(l, (unsigned)k));
            if (other != NULL && strcmp(other, agency) == 0) {
                t->api->config_error(
                    t->self, config_setting_source_file(d), (int)config_setting_source_line(d), 0,
                    "notify: agency '%s' is named twice (entries %d and %d)", agency, k + 1, i + 1);
                ok = 0;
            }
        }
        if (trf_dispatch_target_check(t, "notify", label, d, "agency") != 0)
            ok = 0;
    }
    return ok ? 0 : -1;
}

int trf_notify_channel(struct trf *t, const char *agency, struct dispatch_target *out,
                       char *spool_buf, size_t spool_len)
{
    const config_setting_t *l = notify_list(t), *any = NULL;
    for (int i = 0; l != NULL && agency != NULL && i < config_setting_length(l); i++) {
        const config_setting_t *d = config_setting_get_elem(l, (unsigned)i);
        const char *a = agency_of(d);
        if (a != NULL && strcmp(a, agency) == 0) {
            trf_dispatch_target_fill(t, d, out, spool_buf, spool_len);
            return 0;
        }
        if (a != NULL && strcmp(a, "*") == 0)
            any = d;
    }
    if (any == NULL)
        return -1;
    trf_dispatch_target_fill(t, any, out, spool_buf, spool_len);
    return 0;
}
