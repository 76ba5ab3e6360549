/*
 * loader.c: plugin loading (dlopen, ABI checks), the host API vtable, and the
 * hook, command and render registries. A plugin that misbehaves at load time
 * is refused with a message naming its file and both ABI versions; it never
 * takes the host down unless the host config marks it required.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "loader.h"

/* ---------------------------------------------------------------- api --- */

static void api_log(struct ch_plugin *self, enum ch_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    va_list ap;
    if (level == CH_LOG_DEBUG && getenv("CASEHOST_DEBUG") == NULL)
        return;
    fprintf(stderr, "%s: %s: ", self->conf->name, names[level <= CH_LOG_ERROR ? level : 3]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const config_setting_t *api_config(struct ch_plugin *self)
{
    return self->conf->settings;
}

static const char *api_config_dir(struct ch_plugin *self)
{
    return self->loader->config_dir;
}

static void api_config_error(struct ch_plugin *self, const char *file, int line, int col,
                             const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    self->cfg_errors++;
    diag_error(self->loader->diag, file, line, col, "%s: %s", self->conf->name, msg);
}

static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 8;
    void *p;
    if (need <= *cap)
        return arr;
    while (n < need)
        n *= 2;
    p = realloc(arr, n * elem);
    if (p != NULL)
        *cap = n;
    return p;
}

static int api_hook(struct ch_plugin *self, enum ch_event ev, int priority, ch_hook_fn fn, void *ud)
{
    struct loader *l = self->loader;
    struct hook_entry *h;
    if (!self->in_init || fn == NULL || (int)ev < 0 || ev >= CH_EV__COUNT)
        return -1;
    h = grow(l->hooks, &l->cap_hooks, l->n_hooks + 1, sizeof(*h));
    if (h == NULL)
        return -1;
    l->hooks = h;
    l->hooks[l->n_hooks++] = (struct hook_entry){ev, priority, l->seq++, fn, ud, self};
    return 0;
}

/*
 * Whether verb (and sub) may be registered by self: not a host verb, not
 * another plugin's verb, not an untyped and a typed command under one verb,
 * not one verb and sub twice. Refusing records why in self->refused, which
 * fails the plugin's load whatever its init returns.
 */
/* The host's verbs, set once by the program (loader_set_host_verbs). */
static const char *const *host_verbs;

void loader_set_host_verbs(const char *const *verbs)
{
    host_verbs = verbs;
}

static int verb_free(struct ch_plugin *self, const char *verb, const char *sub, int typed)
{
    struct loader *l = self->loader;
    for (const char *const *h = host_verbs; h != NULL && *h != NULL; h++)
        if (strcmp(*h, verb) == 0) {
            snprintf(self->refused, sizeof(self->refused),
                     "plugin '%s' command '%s' collides with the host's command '%s'",
                     self->conf->name, verb, *h);
            return 0;
        }
    for (size_t i = 0; i < l->n_commands; i++) {
        const struct command_entry *c = &l->commands[i];
        if (strcmp(c->cmd.verb, verb) != 0)
            continue;
        if (c->plugin != self)
            snprintf(self->refused, sizeof(self->refused),
                     "plugin '%s' command '%s' collides with plugin '%s''s command '%s'",
                     self->conf->name, verb, c->plugin->conf->name, c->cmd.verb);
        else if (!typed || !c->typed)
            snprintf(self->refused, sizeof(self->refused),
                     "plugin '%s' registers command '%s' twice", self->conf->name, verb);
        else if ((sub == NULL) != (c->spec.sub == NULL) ||
                 (sub != NULL && strcmp(sub, c->spec.sub) == 0))
            snprintf(self->refused, sizeof(self->refused),
                     "plugin '%s' registers command '%s%s%s' twice (or with and without "
                     "subcommands)",
                     self->conf->name, verb, sub ? " " : "", sub ? sub : "");
        else
            continue;
        return 0;
    }
    return 1;
}

static int add_command(struct ch_plugin *self, const struct command_entry *e)
{
    struct loader *l = self->loader;
    struct command_entry *c = grow(l->commands, &l->cap_commands, l->n_commands + 1, sizeof(*c));
    if (c == NULL) {
        snprintf(self->refused, sizeof(self->refused), "plugin '%s': out of memory",
                 self->conf->name);
        return -1;
    }
    l->commands = c;
    l->commands[l->n_commands++] = *e;
    return 0;
}

static int api_command(struct ch_plugin *self, const struct ch_command *cmd)
{
    struct command_entry e;
    if (!self->in_init || cmd == NULL || cmd->verb == NULL || cmd->run == NULL)
        return -1;
    if (!verb_free(self, cmd->verb, NULL, 0)) {
        api_log(self, CH_LOG_ERROR, "%s", self->refused);
        return -1;
    }
    memset(&e, 0, sizeof(e));
    e.cmd = *cmd;
    e.plugin = self;
    return add_command(self, &e);
}

static int api_command_typed(struct ch_plugin *self, const struct ch_command_spec *spec)
{
    struct command_entry e;
    char why[400];
    if (!self->in_init || spec == NULL || spec->size < sizeof(size_t))
        return -1;
    memset(&e, 0, sizeof(e));
    memcpy(&e.spec, spec, spec->size < sizeof(e.spec) ? spec->size : sizeof(e.spec));
    if (args_check_spec(&e.spec, why, sizeof(why)) != 0) {
        snprintf(self->refused, sizeof(self->refused), "plugin '%s': %s", self->conf->name, why);
        api_log(self, CH_LOG_ERROR, "%s", why);
        return -1;
    }
    if (!verb_free(self, e.spec.verb, e.spec.sub, 1)) {
        api_log(self, CH_LOG_ERROR, "%s", self->refused);
        return -1;
    }
    e.typed = 1;
    e.cmd.verb = e.spec.verb;
    e.cmd.help = e.spec.verb_help != NULL ? e.spec.verb_help : e.spec.help;
    e.cmd.flags = e.spec.flags;
    e.plugin = self;
    return add_command(self, &e);
}

static int add_render(struct ch_plugin *self, int priority, ch_render_fn fn,
                      ch_person_render_fn person_fn, void *ud)
{
    struct loader *l = self->loader;
    struct render_entry *r;
    if (!self->in_init || (fn == NULL && person_fn == NULL))
        return -1;
    r = grow(l->renders, &l->cap_renders, l->n_renders + 1, sizeof(*r));
    if (r == NULL)
        return -1;
    l->renders = r;
    l->renders[l->n_renders++] = (struct render_entry){priority, l->seq++, fn, person_fn, ud, self};
    return 0;
}

static int api_render(struct ch_plugin *self, int priority, ch_render_fn fn, void *ud)
{
    return add_render(self, priority, fn, NULL, ud);
}

static int api_render_person(struct ch_plugin *self, int priority, ch_person_render_fn fn, void *ud)
{
    return add_render(self, priority, NULL, fn, ud);
}

static PGconn *api_conn(struct ch_ctx *ctx)
{
    return ctx->report_conn != NULL ? ctx->report_conn : ctx->conn;
}
static const struct ch_user *api_user(struct ch_ctx *ctx)
{
    return &ctx->user;
}

static void api_fail(struct ch_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
    va_end(ap);
}

static int api_audit(struct ch_ctx *ctx, const char *action, const char *object_type,
                     int64_t object_id, const char *detail)
{
    /* Always the primary's transaction, even while a report reads the replica. */
    static const char sql[] = "SELECT casehost.audit($1, $2, $3, $4)";
    char id[24], err[512];
    const char *params[4] = {action, object_type, id, detail};
    if (ctx->conn == NULL)
        return -1;
    snprintf(id, sizeof(id), "%lld", (long long)object_id);
    if (db_run(ctx->conn, sql, 4, params, err, sizeof(err)) != 0) {
        snprintf(ctx->err, sizeof(ctx->err), "cannot write audit record: %s", err);
        return -1;
    }
    return 0;
}

static int api_json(struct ch_ctx *ctx)
{
    return ctx->json;
}
static int api_interactive(struct ch_ctx *ctx)
{
    return ctx->interactive;
}
static void api_out_object(struct ch_ctx *ctx, const char *key)
{
    out_object(ctx->out, key);
}
static void api_out_array(struct ch_ctx *ctx, const char *key)
{
    out_array(ctx->out, key);
}
static void api_out_end(struct ch_ctx *ctx)
{
    out_end(ctx->out);
}
static void api_out_str(struct ch_ctx *ctx, const char *key, const char *v)
{
    out_str(ctx->out, key, v);
}
static void api_out_int(struct ch_ctx *ctx, const char *key, int64_t v)
{
    out_int(ctx->out, key, v);
}
static void api_out_bool(struct ch_ctx *ctx, const char *key, int v)
{
    out_bool(ctx->out, key, v);
}

/* printf into a new string sized to fit (a routing explanation is long); NULL without memory. */
static char *vformat(const char *fmt, va_list ap)
{
    va_list again;
    char *msg;
    int n;
    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (n < 0 || (msg = malloc((size_t)n + 1)) == NULL)
        return NULL;
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    return msg;
}

static void api_out_message(struct ch_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    char *msg;
    va_start(ap, fmt);
    msg = vformat(fmt, ap);
    va_end(ap);
    if (msg != NULL)
        out_message(ctx->out, msg);
    free(msg);
}

static void api_out_result(struct ch_ctx *ctx, const char *key, const PGresult *res, int as_array)
{
    out_result(ctx->out, key, res, as_array);
}

static const char *api_config_root(struct ch_plugin *self)
{
    return self->conf->config_root != NULL ? self->conf->config_root : self->loader->config_dir;
}

static int api_deploy_check(struct ch_plugin *self, ch_deploy_fn fn, void *ud)
{
    struct loader *l = self->loader;
    if (!self->in_init || fn == NULL)
        return -1;
    if (l->n_deploys == l->cap_deploys) {
        size_t cap = l->cap_deploys ? l->cap_deploys * 2 : 4;
        struct deploy_entry *v = realloc(l->deploys, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        l->deploys = v;
        l->cap_deploys = cap;
    }
    l->deploys[l->n_deploys++] = (struct deploy_entry){fn, ud, self};
    return 0;
}

static void api_out_alert(struct ch_ctx *ctx, enum ch_severity severity, const char *fmt, ...)
{
    va_list ap;
    char *msg;
    va_start(ap, fmt);
    msg = vformat(fmt, ap);
    va_end(ap);
    /* An alert must not vanish for want of memory: then at least its words unformatted. */
    out_alert(ctx->out, severity, msg != NULL ? msg : fmt);
    free(msg);
}

static void api_out_action(struct ch_ctx *ctx, const char *label, const char *const *argv)
{
    out_action(ctx->out, label, argv);
}

static void api_out_form(struct ch_ctx *ctx, const char *key, const char *title,
                         const struct ch_question *questions, size_t n_questions,
                         const char *const *argv)
{
    out_form(ctx->out, key, title, questions, n_questions, argv);
}

/* A hint on the document: only the web page and --svg draw it (out_chart copies it). */
static void api_out_chart(struct ch_ctx *ctx, const char *key, const struct ch_chart *chart)
{
    out_chart(ctx->out, key, chart);
}

const struct ch_host_api loader_api = {
    .size = sizeof(struct ch_host_api),
    .abi_major = CH_ABI_MAJOR,
    .abi_minor = CH_ABI_MINOR,
    .log = api_log,
    .config = api_config,
    .config_dir = api_config_dir,
    .config_error = api_config_error,
    .hook = api_hook,
    .command = api_command,
    .render = api_render,
    .conn = api_conn,
    .user = api_user,
    .fail = api_fail,
    .audit = api_audit,
    .json = api_json,
    .interactive = api_interactive,
    .out_object = api_out_object,
    .out_array = api_out_array,
    .out_end = api_out_end,
    .out_str = api_out_str,
    .out_int = api_out_int,
    .out_bool = api_out_bool,
    .out_message = api_out_message,
    .out_result = api_out_result,
    .config_root = api_config_root,
    .deploy_check = api_deploy_check,
    .command_typed = api_command_typed,
    .out_alert = api_out_alert,
    .out_action = api_out_action,
    .out_form = api_out_form,
    .out_chart = api_out_chart,
    .render_person = api_render_person,
};

/* ------------------------------------------------------------- loading --- */

/* Forgets every hook, command and render section a plugin registered. */
static void unregister(struct loader *l, const struct ch_plugin *p)
{
    size_t j = 0;
    for (size_t i = 0; i < l->n_hooks; i++)
        if (l->hooks[i].plugin != p)
            l->hooks[j++] = l->hooks[i];
    l->n_hooks = j;
    j = 0;
    for (size_t i = 0; i < l->n_commands; i++)
        if (l->commands[i].plugin != p)
            l->commands[j++] = l->commands[i];
    l->n_commands = j;
    j = 0;
    for (size_t i = 0; i < l->n_renders; i++)
        if (l->renders[i].plugin != p)
            l->renders[j++] = l->renders[i];
    l->n_renders = j;
    j = 0;
    for (size_t i = 0; i < l->n_deploys; i++)
        if (l->deploys[i].plugin != p)
            l->deploys[j++] = l->deploys[i];
    l->n_deploys = j;
}

/*
 * Checks the descriptor the way PostgreSQL checks a module's magic block:
 * field by field, naming the one that differs.
 */
static int check_desc(const struct ch_plugin_desc *d, const struct plugin_conf *pc, char *err,
                      size_t errlen)
{
    if (d == NULL) {
        snprintf(err, errlen, "plugin '%s' (%s): %s() returned no descriptor", pc->name, pc->path,
                 CH_PLUGIN_ENTRY_NAME);
        return -1;
    }
    if (d->size < offsetof(struct ch_plugin_desc, fini) + sizeof(d->fini)) {
        snprintf(err, errlen,
                 "plugin '%s' (%s): descriptor is %zu bytes, this host needs at least %zu: "
                 "not built against casehost/plugin.h?",
                 pc->name, pc->path, d->size,
                 offsetof(struct ch_plugin_desc, fini) + sizeof(d->fini));
        return -1;
    }
    if (d->abi_major != CH_ABI_MAJOR) {
        snprintf(err, errlen,
                 "plugin '%s' (%s): built for plugin ABI %u.%u, this host provides %u.%u "
                 "(major version differs): rebuild the plugin against this host's plugin.h",
                 pc->name, pc->path, d->abi_major, d->abi_minor, CH_ABI_MAJOR, CH_ABI_MINOR);
        return -1;
    }
    if (d->abi_minor > CH_ABI_MINOR) {
        snprintf(err, errlen,
                 "plugin '%s' (%s): built for plugin ABI %u.%u, newer than this host's %u.%u: "
                 "upgrade casehost",
                 pc->name, pc->path, d->abi_major, d->abi_minor, CH_ABI_MAJOR, CH_ABI_MINOR);
        return -1;
    }
    /*
     * From 1.1 on a plugin says which libconfig it was compiled against:
     * config_setting_t crosses the boundary and libconfig's accessors are
     * macros over its layout. (A 1.0 plugin cannot say; it is trusted.)
     */
    if (d->abi_minor >= 1 &&
        (d->size < offsetof(struct ch_plugin_desc, libconfig_minor) + sizeof(d->libconfig_minor) ||
         d->libconfig_major == 0)) {
        snprintf(err, errlen,
                 "plugin '%s' (%s): built for plugin ABI %u.%u but does not record the libconfig "
                 "it was built against (CH_PLUGIN_DESC_LIBCONFIG)",
                 pc->name, pc->path, d->abi_major, d->abi_minor);
        return -1;
    }
    if (d->abi_minor >= 1 &&
        (d->libconfig_major != LIBCONFIG_VER_MAJOR || d->libconfig_minor != LIBCONFIG_VER_MINOR)) {
        snprintf(err, errlen,
                 "plugin '%s' (%s): built against libconfig %u.%u, this host uses %d.%d (their "
                 "structures differ): rebuild the plugin against this host's libconfig",
                 pc->name, pc->path, d->libconfig_major, d->libconfig_minor, LIBCONFIG_VER_MAJOR,
                 LIBCONFIG_VER_MINOR);
        return -1;
    }
    if (d->name == NULL || strcmp(d->name, pc->name) != 0) {
        snprintf(err, errlen, "plugin '%s' (%s): the file says it is plugin '%s'", pc->name,
                 pc->path, d->name ? d->name : "(no name)");
        return -1;
    }
    if (d->init == NULL) {
        snprintf(err, errlen, "plugin '%s' (%s): descriptor has no init function", pc->name,
                 pc->path);
        return -1;
    }
    return 0;
}

int loader_load_one(struct loader *l, const struct plugin_conf *pc, char *err, size_t errlen)
{
    struct ch_plugin *p = NULL, **grown;
    ch_plugin_entry_fn entry;
    void *dl;
    int rc = -1;

    if (access(pc->path, R_OK) != 0) {
        snprintf(err, errlen, "plugin '%s': no file '%s'", pc->name, pc->path);
        return -1;
    }
    dl = dlopen(pc->path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        snprintf(err, errlen, "plugin '%s': cannot load '%s': %s", pc->name, pc->path, dlerror());
        return -1;
    }
    /* POSIX requires this conversion to work for dlsym results. */
    *(void **)&entry = dlsym(dl, CH_PLUGIN_ENTRY_NAME);
    if (entry == NULL) {
        snprintf(err, errlen, "plugin '%s' (%s): not a casehost plugin: no symbol '%s'", pc->name,
                 pc->path, CH_PLUGIN_ENTRY_NAME);
        goto out;
    }
    if (check_desc(entry(), pc, err, errlen) != 0)
        goto out;
    grown = realloc(l->plugins, (l->n_plugins + 1) * sizeof(*l->plugins));
    p = calloc(1, sizeof(*p));
    if (grown != NULL)
        l->plugins = grown;
    if (grown == NULL || p == NULL) {
        snprintf(err, errlen, "plugin '%s': out of memory", pc->name);
        goto out;
    }
    p->conf = pc;
    p->loader = l;
    p->dl = dl;
    p->desc = entry();
    p->in_init = 1;
    rc = p->desc->init(p, &loader_api, &p->state);
    p->in_init = 0;
    if (p->refused[0] != '\0') {
        unregister(l, p);
        if (p->desc->fini != NULL)
            p->desc->fini(p->state);
        snprintf(err, errlen, "%s (%s): not loaded", p->refused, pc->path);
        rc = -1;
        goto out;
    }
    if (rc == CH_OK && p->cfg_errors == 0) {
        p->loaded = 1;
        l->plugins[l->n_plugins++] = p;
        return 0;
    }
    unregister(l, p);
    if (p->desc->fini != NULL)
        p->desc->fini(p->state);
    if (rc == CH_DECLINED) {
        snprintf(err, errlen, "plugin '%s': not started (nothing configured)", pc->name);
        rc = 1;
    } else {
        snprintf(err, errlen, "plugin '%s' (%s): init failed%s", pc->name, pc->path,
                 p->cfg_errors ? " because of the configuration errors above" : "");
        rc = -1;
    }
out:
    free(p);
    dlclose(dl);
    return rc;
}

int loader_load_all(struct loader *l, const struct hostcfg *hc, struct diag *d)
{
    int rc = 0;
    memset(l, 0, sizeof(*l));
    l->config_dir = hc->dir;
    l->diag = d;
    for (size_t i = 0; i < hc->n_plugins; i++) {
        const struct plugin_conf *pc = &hc->plugins[i];
        char err[1024];
        int r = loader_load_one(l, pc, err, sizeof(err));
        if (r == 0)
            continue;
        if (pc->required) {
            diag_error(d, pc->file, pc->line, 0, "%s; it is required, stopping", err);
            rc = -2;
        } else {
            diag_warn(d, "%s; continuing without it", err);
        }
    }
    return rc;
}

int loader_reload(struct loader *l)
{
    int failures = 0;
    for (size_t i = 0; i < l->n_plugins; i++) {
        struct ch_plugin *p = l->plugins[i];
        if (p->desc->reload == NULL)
            continue;
        p->cfg_errors = 0;
        if (p->desc->reload(p, p->state) != CH_OK || p->cfg_errors > 0) {
            diag_warn(l->diag, "plugin '%s': reload failed; the previous configuration stays",
                      p->conf->name);
            failures++;
        }
    }
    return failures;
}

void loader_release(struct loader *l)
{
    /* Finish in reverse order of loading, like destructors. */
    for (size_t i = l->n_plugins; i-- > 0;) {
        struct ch_plugin *p = l->plugins[i];
        if (p->desc->fini != NULL)
            p->desc->fini(p->state);
        /* Under a leak checker keep the code mapped so reports name plugin functions. */
        if (getenv("CASEHOST_NO_DLCLOSE") == NULL)
            dlclose(p->dl);
        free(p);
    }
    free(l->plugins);
    free(l->hooks);
    free(l->commands);
    free(l->renders);
    free(l->deploys);
    memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------- calling --- */

static int by_priority(const void *a, const void *b)
{
    const struct hook_entry *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static int render_by_priority(const void *a, const void *b)
{
    const struct render_entry *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Turns a callback's failure into the message the user sees. */
static int callback_failed(struct ch_ctx *ctx, const struct ch_plugin *p, int rc)
{
    char msg[sizeof(ctx->err) - 100];
    if (rc == CH_OK || rc == CH_DECLINED)
        return 0;
    snprintf(msg, sizeof(msg), "%.*s", (int)sizeof(msg) - 1,
             ctx->err[0] ? ctx->err : "failed without saying why");
    snprintf(ctx->err, sizeof(ctx->err), "plugin '%.64s': %s", p->conf->name, msg);
    return -1;
}

int loader_fire(struct loader *l, struct ch_ctx *ctx, const struct ch_event_data *ev)
{
    /* Sorting on each call keeps registration simple; lists are a few entries long. */
    qsort(l->hooks, l->n_hooks, sizeof(*l->hooks), by_priority);
    for (size_t i = 0; i < l->n_hooks; i++) {
        const struct hook_entry *h = &l->hooks[i];
        int rc;
        if (h->ev != ev->kind)
            continue;
        ctx->plugin = h->plugin;
        ctx->err[0] = '\0';
        rc = h->fn(ctx, ev, h->ud);
        ctx->plugin = NULL;
        if (callback_failed(ctx, h->plugin, rc) != 0)
            return -1;
    }
    return 0;
}

/* Runs the case sections (person 0) or the person sections (person 1) for id. */
static int render_all(struct loader *l, struct ch_ctx *ctx, int64_t id, int person)
{
    qsort(l->renders, l->n_renders, sizeof(*l->renders), render_by_priority);
    for (size_t i = 0; i < l->n_renders; i++) {
        const struct render_entry *r = &l->renders[i];
        int rc;
        if (person ? r->person_fn == NULL : r->fn == NULL)
            continue;
        ctx->plugin = r->plugin;
        ctx->err[0] = '\0';
        rc = person ? r->person_fn(ctx, id, r->ud) : r->fn(ctx, id, r->ud);
        ctx->plugin = NULL;
        if (callback_failed(ctx, r->plugin, rc) != 0)
            return -1;
    }
    return 0;
}

int loader_render(struct loader *l, struct ch_ctx *ctx, int64_t case_id)
{
    return render_all(l, ctx, case_id, 0);
}

int loader_render_person(struct loader *l, struct ch_ctx *ctx, int64_t person_id)
{
    return render_all(l, ctx, person_id, 1);
}

const struct command_entry *loader_command(const struct loader *l, const char *verb)
{
    for (size_t i = 0; i < l->n_commands; i++)
        if (strcmp(l->commands[i].cmd.verb, verb) == 0)
            return &l->commands[i];
    return NULL;
}

int loader_deploy_check(struct loader *l, struct ch_ctx *ctx, const char *plugin,
                        const char *generation_hash)
{
    for (size_t i = 0; i < l->n_deploys; i++) {
        struct deploy_entry *e = &l->deploys[i];
        int rc;
        if (plugin != NULL && strcmp(e->plugin->conf->name, plugin) != 0)
            continue;
        ctx->plugin = e->plugin;
        ctx->err[0] = '\0';
        rc = e->fn(ctx, generation_hash, e->ud);
        ctx->plugin = NULL;
        if (rc != CH_OK) {
            char msg[sizeof(ctx->err) - 128];
            snprintf(msg, sizeof(msg), "%.1900s", ctx->err[0] ? ctx->err : "deploy check failed");
            snprintf(ctx->err, sizeof(ctx->err), "plugin '%.64s': %s", e->plugin->conf->name, msg);
            return -1;
        }
    }
    return 0;
}
