/*
 * trafficking.c: the plugin's entry: the one exported symbol, init, reload
 * and fini. Init loads and validates every configuration file and registers
 * hooks, commands and the case section; a reload that fails keeps the
 * previous configuration in force.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cfgcache.h"
#include "cli/cmd_dispatch.h"
#include "cli/cmd_report.h"
#include "cli/cmd_report_taskforce.h"
#include "cli/cmd_routing.h"
#include "db/deploy.h"
#include "db/retention.h"
#include "db/route.h"
#include "trf.h"

#define TRF_VERSION "0.1.0"

void trf_report(void *ud, const char *file, int line, int col, const char *msg)
{
    struct trf *t = ud;
    t->reports++;
    t->api->config_error(t->self, file, line, col, "%s", msg);
}

/* Where relative paths of the deployable configuration resolve (see config_root). */
static const char *config_root(const struct trf *t)
{
    return CH_API_HAS(t->api, config_root) ? t->api->config_root(t->self)
                                           : t->api->config_dir(t->self);
}

/* base/rel, or rel when it is absolute; caller frees; NULL without memory. */
static char *join_path(const char *base, const char *rel)
{
    size_t n = strlen(base) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s%s%s", rel[0] == '/' ? "" : base, rel[0] == '/' ? "" : "/", rel);
    return p;
}

/*
 * A path setting relative to the configuration root; caller frees. *given
 * (when not NULL) says whether the setting was written or is the default.
 */
static char *setting_path_given(struct trf *t, const char *name, const char *dflt, int *given)
{
    const config_setting_t *set = t->api->config(t->self);
    const char *rel = dflt;
    const config_setting_t *s = set ? config_setting_get_member(set, name) : NULL;
    if (s != NULL) {
        if (config_setting_type(s) != CONFIG_TYPE_STRING) {
            t->api->config_error(t->self, config_setting_source_file(s),
                                 (int)config_setting_source_line(s), 0,
                                 "'%s' must be a string (a path)", name);
            return NULL;
        }
        rel = config_setting_get_string(s);
    }
    if (given != NULL)
        *given = s != NULL;
    return join_path(config_root(t), rel);
}

static char *setting_path(struct trf *t, const char *name, const char *dflt)
{
    return setting_path_given(t, name, dflt, NULL);
}

/*
 * A relative spool directory or secret file is taken relative to where
 * destinations.cfg sits in this machine's configuration folder, also when
 * the files were read from the host's copy of a deployed generation: those
 * are paths of this machine, not of the copy.
 */
static void rebase_machine_paths(struct trf *t, struct routing_config *rc)
{
    const char *root = config_root(t), *dir = t->api->config_dir(t->self);
    size_t rl = strlen(root);
    if (strcmp(root, dir) == 0)
        return;
    for (size_t i = 0; i < rc->n_destinations; i++) {
        struct routing_channel *ch = &rc->destinations[i].channel;
        char **paths[] = {&ch->spool_dir, &ch->secret_file, &ch->client_cert, &ch->client_key};
        for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
            char *p = *paths[k], *q;
            size_t n;
            if (p == NULL || strncmp(p, root, rl) != 0 || p[rl] != '/')
                continue;
            n = strlen(dir) + strlen(p + rl) + 1;
            if ((q = malloc(n)) == NULL)
                continue;
            snprintf(q, n, "%s%s", dir, p + rl);
            free(p);
            *paths[k] = q;
        }
    }
}

#define SECRET_MAX 511 /* longest webhook secret the dispatcher reads */

/*
 * What is wrong with a secret file (a webhook secret, a TLS client key)
 * given its lstat or fstat: a symbolic link (it could point anywhere, and be
 * re-pointed later), anything but a plain file, or a mode that lets others
 * read it or the group write it (0600 and 0640 are right; 0400 and 0440 too).
 * Writes the reason, naming the file and what to do, into why; 0 when fine.
 */
static int secret_file_problem(const char *path, const struct stat *st, char *why, size_t whylen)
{
    unsigned mode = (unsigned)(st->st_mode & 07777);
    if (S_ISLNK(st->st_mode))
        snprintf(why, whylen,
                 "secret file '%s' is a symbolic link: name the file itself (a link may point "
                 "anywhere)",
                 path);
    else if (!S_ISREG(st->st_mode))
        snprintf(why, whylen, "secret file '%s' is not a plain file", path);
    else if ((mode & ~0640u) != 0 || (mode & 0400u) == 0)
        snprintf(why, whylen,
                 "secret file '%s' has mode %04o: it must be a plain file of mode 0600 or 0640 "
                 "(chmod 600 '%s')",
                 path, mode, path);
    else
        return 0;
    return -1;
}

/*
 * Reads a secret file's first line into buf, never through a symbolic link.
 * The file must pass secret_file_problem, belong to this user (or root, for a
 * root:casehost 0640 file) and the secret must fit. 0, or -1 with the reason
 * (naming the file) in why.
 */
static int secret_read(const char *path, char *buf, size_t size, char *why, size_t whylen)
{
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0 && errno == ELOOP) {
        snprintf(why, whylen,
                 "secret file '%s' is a symbolic link: name the file itself (a link may point "
                 "anywhere)",
                 path);
        return -1;
    }
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, whylen, "secret file '%s': cannot read: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (secret_file_problem(path, &st, why, whylen) != 0) {
        close(fd);
        return -1;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        snprintf(why, whylen,
                 "secret file '%s' belongs to uid %ld: it must belong to the service user "
                 "(uid %ld) or root",
                 path, (long)st.st_uid, (long)geteuid());
        close(fd);
        return -1;
    }
    n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) {
        snprintf(why, whylen, "secret file '%s': cannot read: %s", path, strerror(errno));
        return -1;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if ((size_t)n == size - 1 && (size_t)st.st_size > size - 1 && strlen(buf) == (size_t)n) {
        snprintf(why, whylen, "secret file '%s': the secret is longer than %zu bytes", path,
                 size - 1);
        return -1;
    }
    if (buf[0] == '\0') {
        snprintf(why, whylen, "secret file '%s' is empty", path);
        return -1;
    }
    return 0;
}

/*
 * A secret file (webhook secret, TLS client key) that exists on this machine
 * must be safe: see secret_file_problem; a webhook secret also not longer
 * than the dispatcher reads. Checked from its metadata only: a person may
 * not read it (only the service user does), and that must not stop their
 * work.
 */
static int check_secret_files(struct trf *t, const struct routing_config *rc)
{
    int ok = 1;
    for (size_t i = 0; i < rc->n_destinations; i++) {
        const struct routing_channel *ch = &rc->destinations[i].channel;
        const char *files[] = {ch->secret_file, ch->client_key};
        for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
            const char *p = files[k];
            struct stat st;
            char why[600] = "";
            if (p == NULL || lstat(p, &st) != 0)
                continue; /* missing, or not this user's to see: the dispatcher says */
            if (secret_file_problem(p, &st, why, sizeof(why)) == 0 && k == 0 &&
                st.st_size > SECRET_MAX + 1)
                snprintf(why, sizeof(why), "secret file '%s': the secret is longer than %d bytes",
                         p, SECRET_MAX);
            if (why[0] != '\0') {
                t->api->config_error(t->self, rc->destinations_path, rc->destinations[i].line, 0,
                                     "destination '%s': %s", rc->destinations[i].id, why);
                ok = 0;
            }
        }
    }
    return ok;
}

/*
 * The optional cache_dir setting: where the compiled configuration is kept
 * (cache/cfgcache.h), relative to this machine's configuration folder. A
 * folder that is missing is an error (a typo would silently cost every
 * load); one this user may not use is not (another user's commands load the
 * files). 1 with *dir (NULL when unset; caller frees), or 0 after a report.
 */
static int cache_dir_setting(struct trf *t, char **dir)
{
    const config_setting_t *set = t->api->config(t->self);
    const config_setting_t *s = set ? config_setting_get_member(set, "cache_dir") : NULL;
    struct stat st;
    *dir = NULL;
    if (s == NULL)
        return 1;
    if (config_setting_type(s) != CONFIG_TYPE_STRING || *config_setting_get_string(s) == '\0') {
        t->api->config_error(t->self, config_setting_source_file(s),
                             (int)config_setting_source_line(s), 0,
                             "'cache_dir' must be a string (a folder)");
        return 0;
    }
    *dir = join_path(t->api->config_dir(t->self), config_setting_get_string(s));
    if (*dir == NULL) {
        t->api->config_error(t->self, config_setting_source_file(s),
                             (int)config_setting_source_line(s), 0, "cache_dir: out of memory");
        return 0;
    }
    int found = stat(*dir, &st) == 0;
    if (!found && (errno == ENOENT || errno == ENOTDIR)) {
        t->api->config_error(
            t->self, config_setting_source_file(s), (int)config_setting_source_line(s), 0,
            "cache_dir: there is no folder '%s' (create it as INSTALL, section 6, says: mode "
            "1777 for every account, or 0700 owned by the one account that runs casehost)",
            *dir);
        return 0;
    }
    if (found && !S_ISDIR(st.st_mode)) {
        t->api->config_error(t->self, config_setting_source_file(s),
                             (int)config_setting_source_line(s), 0,
                             "cache_dir: '%s' is not a folder", *dir);
        return 0;
    }
    return 1;
}

/* The compiled configuration from cdir when it may be used; 1 when c has it. */
static int load_compiled(struct trf *t, const char *cdir, const struct cfgcache_key *key,
                         struct trf_config *c)
{
    struct cfgcache_config cc;
    char why[600];
    if (cdir == NULL || key->instruments == NULL || key->screening == NULL ||
        key->destinations == NULL || key->routing == NULL)
        return 0;
    if (cfgcache_read(cdir, key, &cc, why, sizeof(why)) != 0) {
        t->api->log(t->self, CH_LOG_DEBUG, "compiled configuration not used: %s", why);
        return 0;
    }
    c->instruments = cc.instruments;
    c->triggers = cc.triggers;
    c->routing = cc.routing;
    return 1;
}

/*
 * Loads and checks the files (every one, even after a failure, so one run
 * reports every error); with a cache folder, keeps the result compiled when
 * the load reported nothing at all. 1 when loaded, 0 after reports.
 */
static int load_files(struct trf *t, const char *cdir, const struct cfgcache_key *key,
                      struct trf_config *c)
{
    const char *idir = key->instruments, *spath = key->screening, *dpath = key->destinations,
               *rpath = key->routing;
    struct cfgread_deps deps = {0};
    int ok = 1, reports = t->reports;
    char why[600];
    cfgread_deps_record(cdir != NULL ? &deps : NULL);
    /* A path that could not be made was reported; each file that can be loaded still is. */
    if (idir == NULL || instrument_set_load(idir, trf_report, t, &c->instruments) != 0)
        ok = 0;
    if (spath == NULL || trigger_set_load(spath, c->instruments, trf_report, t, &c->triggers) != 0)
        ok = 0;
    if (dpath == NULL || rpath == NULL ||
        routing_config_load_checked(dpath, rpath, c->instruments, trf_report, t, &c->routing) != 0)
        ok = 0;
    cfgread_deps_record(NULL);
    if (ok && cdir != NULL && t->reports == reports) {
        struct cfgcache_config cc = {c->instruments, c->triggers, c->routing};
        int rc = cfgcache_write(cdir, key, &deps, &cc, why, sizeof(why));
        /* A folder this user may not use is a choice of the installation, not a failure. */
        if (rc != 0)
            t->api->log(t->self, rc == -1 ? CH_LOG_DEBUG : CH_LOG_WARN,
                        "cannot keep the compiled configuration: %s", why);
    }
    cfgread_deps_release(&deps);
    return ok;
}

struct trf_config *trf_config_load(struct trf *t)
{
    static const char *const known[] = {
        "instruments",      "screening", "destinations",        "routing",   "routing_tests",
        "dispatch_targets", "notify",    "sent_retention_days", "cache_dir", NULL};
    const config_setting_t *set = t->api->config(t->self);
    struct trf_config *c = calloc(1, sizeof(*c));
    char *idir = setting_path(t, "instruments", "trafficking/instruments");
    char *spath = setting_path(t, "screening", "trafficking/screening.cfg");
    char *dpath = setting_path(t, "destinations", "trafficking/destinations.cfg");
    char *rpath = setting_path(t, "routing", "trafficking/routing.cfg");
    int fixtures_given = 0;
    char *cdir = NULL;
    char *fpath =
        setting_path_given(t, "routing_tests", "trafficking/routing-tests.cfg", &fixtures_given);
    int ok = c != NULL && idir != NULL && spath != NULL && dpath != NULL && rpath != NULL &&
             fpath != NULL;

    for (int i = 0; set != NULL && i < config_setting_length(set); i++) {
        const config_setting_t *m = config_setting_get_elem(set, (unsigned)i);
        int found = 0;
        for (const char *const *k = known; *k; k++)
            found |= strcmp(config_setting_name(m), *k) == 0;
        if (!found) {
            t->api->config_error(t->self, config_setting_source_file(m),
                                 (int)config_setting_source_line(m), 0,
                                 "unknown setting '%s' (known: instruments, screening, "
                                 "destinations, routing, routing_tests, dispatch_targets, notify, "
                                 "sent_retention_days, cache_dir)",
                                 config_setting_name(m));
            ok = 0;
        }
    }
    if (!cache_dir_setting(t, &cdir))
        ok = 0;
    /* Load every file even when a setting is wrong, so one run reports every error. */
    struct cfgcache_key paths = {config_root(t), idir, spath, dpath, rpath};
    if (c != NULL && !(ok && load_compiled(t, cdir, &paths, c)) &&
        !load_files(t, ok ? cdir : NULL, &paths, c))
        ok = 0;
    if (ok) {
        rebase_machine_paths(t, c->routing);
        ok = check_secret_files(t, c->routing);
    }
    /* Fixtures are optional unless named: a written setting must name a file. */
    if (c != NULL && fpath != NULL) {
        struct stat st;
        if (stat(fpath, &st) == 0) {
            c->fixtures_path = fpath;
            fpath = NULL;
        } else if (fixtures_given) {
            const config_setting_t *s = config_setting_get_member(set, "routing_tests");
            t->api->config_error(t->self, config_setting_source_file(s),
                                 (int)config_setting_source_line(s), 0,
                                 "routing_tests: cannot read '%s'", fpath);
            ok = 0;
        }
    }
    free(fpath);
    free(cdir);
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
    free(c->fixtures_path);
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
    static char secret[SECRET_MAX + 1];
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
        target.client_cert = d->channel.client_cert;
        target.client_key = d->channel.client_key;
        target.secret = d->channel.secret;
        if (target.secret == NULL && d->channel.secret_file != NULL) {
            char why[600];
            if (secret_read(d->channel.secret_file, secret, sizeof(secret), why, sizeof(why)) !=
                0) {
                t->api->log(t->self, CH_LOG_ERROR, "destination '%s': %s", id, why);
                return NULL; /* not sent: the row waits, its error says why */
            }
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
    /* What this plugin uses of 1.1; deploy_check is optional (checked where used). */
    if (api->abi_major != CH_ABI_MAJOR || !CH_API_HAS(api, config_root) ||
        !CH_API_HAS(api, command_typed) || !CH_API_HAS(api, out_form))
        return CH_ERROR;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return CH_ERROR;
    *state = t;
    t->api = api;
    t->self = self;
    t->cfg = trf_config_load(t);
    if (trf_retention_load(t) != 0 || t->cfg == NULL)
        return CH_ERROR;
    /*
     * Triggers, then routing (of a created or updated case), in one hook and
     * the change's transaction: both from one reading of the case's facts.
     */
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
        if (api->hook(self, events[i], 100, trf_on_case_event, t) != 0)
            return CH_ERROR;
    if (api->hook(self, CH_EV_TICK, 100, route_on_tick, t) != 0 ||
        api->hook(self, CH_EV_TICK, 120, trf_retention_on_tick, t) != 0)
        return CH_ERROR;
    if (CH_API_HAS(api, deploy_check) && api->deploy_check(self, trf_deploy_check, t) != 0)
        return CH_ERROR;
    if (CH_API_HAS(api, render_person) && api->render_person(self, 100, trf_render_person, t) != 0)
        return CH_ERROR;
    if (api->render(self, 100, trf_render_case, t) != 0 || trf_register_commands(t) != 0 ||
        trf_register_referral_commands(t) != 0 || trf_register_determination_commands(t) != 0 ||
        trf_register_routing_commands(t) != 0 || trf_register_report_commands(t) != 0 ||
        trf_register_dispatch(t, destination_lookup, t) != 0)
        return CH_ERROR;
    {
        /* The task force's view, a sub of the same verb as the agency reports. */
        struct ch_command_spec taskforce = trf_report_taskforce_spec;
        taskforce.ud = t;
        if (api->command_typed(self, &taskforce) != 0)
            return CH_ERROR;
    }
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
        CH_PLUGIN_DESC_LIBCONFIG,
    };
    return &desc;
}
