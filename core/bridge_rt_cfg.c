/*
 * bridge_rt_cfg.c: loads and validates conf/bridge/rt.cfg for `casehost
 * bridge rt`. Every problem is reported with file:line (unknown settings,
 * wrong types, missing mappings, unknown case fields or statuses); nothing
 * is half-accepted. Reads files only; never connects anywhere.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bridge_rt_cfg.h"
#include "cli.h"
#include "hostcfg.h"

static const struct {
    const char *name;
    enum brt_field_kind kind;
} case_fields[] = {
    {"state", BRT_TEXT},          {"county", BRT_TEXT},     {"runaway_start", BRT_TIME},
    {"runaway_return", BRT_TIME}, {"cw_history", BRT_BOOL}, {"jj_history", BRT_BOOL},
};

/* A required non-empty string member of group; NULL after reporting why. */
static const char *need_string(const config_setting_t *group, const char *name, const char *what,
                               const char *file, struct diag *d)
{
    const config_setting_t *s = config_setting_get_member(group, name);
    if (s == NULL) {
        diag_at(d, group, file, "%s: '%s' is missing", what, name);
        return NULL;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        diag_at(d, s, file, "%s: '%s' must be a string", what, name);
        return NULL;
    }
    if (config_setting_get_string(s)[0] == '\0') {
        diag_at(d, s, file, "%s: '%s' is empty", what, name);
        return NULL;
    }
    return config_setting_get_string(s);
}

/* An optional integer in [lo, hi]; read as int64 (libconfig 1.5 gives 0 past 32 bits). */
static int opt_int(const config_setting_t *group, const char *name, int dflt, int lo, int hi,
                   const char *file, struct diag *d)
{
    const config_setting_t *s = config_setting_get_member(group, name);
    long long v;
    if (s == NULL)
        return dflt;
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
        diag_at(d, s, file, "'%s' must be an integer", name);
        return dflt;
    }
    v = config_setting_get_int64(s);
    if (v < lo || v > hi) {
        diag_at(d, s, file, "'%s' must be between %d and %d, not %lld", name, lo, hi, v);
        return dflt;
    }
    return (int)v;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32 || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/*
 * A list of groups, each with exactly the members known (all required
 * strings). Returns the list (borrowed) or NULL; *n its length. required:
 * a missing or empty list is an error.
 */
static const config_setting_t *entry_list(const config_setting_t *root, const char *name,
                                          int required, const char *file, struct diag *d, int *n)
{
    const config_setting_t *l = config_setting_get_member(root, name);
    *n = 0;
    if (l == NULL) {
        if (required)
            diag_error(d, file, 0, 0, "'%s' is missing: the bridge needs at least one", name);
        return NULL;
    }
    if (config_setting_type(l) != CONFIG_TYPE_LIST) {
        diag_at(d, l, file, "'%s' must be a list: ( { ... }, ... )", name);
        return NULL;
    }
    *n = config_setting_length(l);
    if (*n == 0 && required)
        diag_at(d, l, file, "'%s' is empty: the bridge needs at least one", name);
    for (int i = 0; i < *n; i++)
        if (config_setting_type(config_setting_get_elem(l, (unsigned)i)) != CONFIG_TYPE_GROUP) {
            diag_at(d, config_setting_get_elem(l, (unsigned)i), file,
                    "each entry of '%s' must be a group { ... }", name);
            *n = 0;
            return NULL;
        }
    return l;
}

static void load_queues(struct brt_cfg *c, const config_setting_t *root, struct diag *d)
{
    static const char *const known[] = {"queue", "agency", NULL};
    int n;
    const config_setting_t *l = entry_list(root, "queues", 1, c->path, d, &n);
    if (l == NULL || n == 0)
        return;
    c->queues = calloc((size_t)n, sizeof(*c->queues));
    for (int i = 0; i < n && c->queues != NULL; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        struct brt_queue *q = &c->queues[c->n_queues];
        hostcfg_check_members(e, known, "a queue", c->path, d);
        q->queue = need_string(e, "queue", "a queue", c->path, d);
        q->agency = need_string(e, "agency", "a queue", c->path, d);
        q->file = config_setting_source_file(e) != NULL ? config_setting_source_file(e) : c->path;
        q->line = (int)config_setting_source_line(e);
        if (q->queue == NULL || q->agency == NULL)
            continue;
        if (brt_cfg_queue(c, q->queue) != NULL) {
            diag_at(d, e, c->path, "queue '%s' is mapped twice", q->queue);
            continue;
        }
        c->n_queues++;
    }
}

static void load_users(struct brt_cfg *c, const config_setting_t *root, struct diag *d)
{
    static const char *const known[] = {"rt", "casehost", NULL};
    int n;
    const config_setting_t *l = entry_list(root, "users", 0, c->path, d, &n);
    if (l == NULL || n == 0)
        return;
    c->users = calloc((size_t)n, sizeof(*c->users));
    for (int i = 0; i < n && c->users != NULL; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        struct brt_user *u = &c->users[c->n_users];
        hostcfg_check_members(e, known, "a user mapping", c->path, d);
        u->rt = need_string(e, "rt", "a user mapping", c->path, d);
        u->casehost = need_string(e, "casehost", "a user mapping", c->path, d);
        if (u->rt != NULL && u->casehost != NULL)
            c->n_users++;
    }
}

static void load_fields(struct brt_cfg *c, const config_setting_t *root, struct diag *d)
{
    static const char *const known[] = {"cf", "field", NULL};
    int n;
    const config_setting_t *l = entry_list(root, "fields", 0, c->path, d, &n);
    if (l == NULL || n == 0)
        return;
    c->fields = calloc((size_t)n, sizeof(*c->fields));
    for (int i = 0; i < n && c->fields != NULL; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        struct brt_field *f = &c->fields[c->n_fields];
        size_t k;
        hostcfg_check_members(e, known, "a field mapping", c->path, d);
        f->cf = need_string(e, "cf", "a field mapping", c->path, d);
        f->field = need_string(e, "field", "a field mapping", c->path, d);
        if (f->cf == NULL || f->field == NULL)
            continue;
        for (k = 0; k < CLI_N(case_fields); k++)
            if (strcmp(case_fields[k].name, f->field) == 0)
                break;
        if (k == CLI_N(case_fields)) {
            diag_at(d, config_setting_get_member(e, "field"), c->path,
                    "field '%s' is no case field an RT custom field may set (state, county, "
                    "runaway_start, runaway_return, cw_history, jj_history)",
                    f->field);
            continue;
        }
        for (size_t j = 0; j < c->n_fields; j++)
            if (strcmp(c->fields[j].field, f->field) == 0) {
                diag_at(d, e, c->path, "case field '%s' is fed by two custom fields", f->field);
                k = CLI_N(case_fields);
            }
        if (k == CLI_N(case_fields))
            continue;
        f->kind = case_fields[k].kind;
        c->n_fields++;
    }
}

static void load_statuses(struct brt_cfg *c, const config_setting_t *root, struct diag *d)
{
    static const char *const known[] = {"rt", "casehost", NULL};
    int n;
    const config_setting_t *l = entry_list(root, "statuses", 1, c->path, d, &n);
    if (l == NULL || n == 0)
        return;
    c->statuses = calloc((size_t)n, sizeof(*c->statuses));
    for (int i = 0; i < n && c->statuses != NULL; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        struct brt_status *s = &c->statuses[c->n_statuses];
        int ok = 0;
        hostcfg_check_members(e, known, "a status mapping", c->path, d);
        s->rt = need_string(e, "rt", "a status mapping", c->path, d);
        s->casehost = need_string(e, "casehost", "a status mapping", c->path, d);
        if (s->rt == NULL || s->casehost == NULL)
            continue;
        for (const char *const *w = host_case_statuses; *w != NULL; w++)
            ok |= strcmp(*w, s->casehost) == 0;
        if (!ok) {
            diag_at(d, config_setting_get_member(e, "casehost"), c->path,
                    "'%s' is no case status (open, in_progress, waiting, closed)", s->casehost);
            continue;
        }
        if (brt_cfg_status(c, s->rt) != NULL) {
            diag_at(d, e, c->path, "RT status '%s' is mapped twice", s->rt);
            continue;
        }
        c->n_statuses++;
    }
}

static void load_writeback(struct brt_cfg *c, const config_setting_t *root, struct diag *d)
{
    static const char *const known[] = {"rt_user",    "status_cf",           "link_cf", "web_url",
                                        "per_minute", "per_ticket_per_hour", NULL};
    const config_setting_t *g = config_setting_get_member(root, "writeback");
    struct brt_writeback *w = &c->wb;
    if (g == NULL)
        return;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        diag_at(d, g, c->path, "'writeback' must be a group { rt_user = ...; ... }");
        return;
    }
    hostcfg_check_members(g, known, "writeback", c->path, d);
    w->rt_user = need_string(g, "rt_user", "writeback", c->path, d);
    w->status_cf = need_string(g, "status_cf", "writeback", c->path, d);
    w->link_cf = need_string(g, "link_cf", "writeback", c->path, d);
    w->web_url = need_string(g, "web_url", "writeback", c->path, d);
    w->per_minute = opt_int(g, "per_minute", 60, 1, 6000, c->path, d);
    w->per_ticket_hour = opt_int(g, "per_ticket_per_hour", 6, 1, 600, c->path, d);
    if (w->web_url != NULL && strncmp(w->web_url, "http://", 7) != 0 &&
        strncmp(w->web_url, "https://", 8) != 0)
        diag_at(d, config_setting_get_member(g, "web_url"), c->path,
                "writeback.web_url must start with http:// or https://");
    if (w->status_cf != NULL && w->link_cf != NULL && strcmp(w->status_cf, w->link_cf) == 0)
        diag_at(d, config_setting_get_member(g, "link_cf"), c->path,
                "writeback.link_cf and status_cf must be two custom fields, not both '%s'",
                w->link_cf);
    w->on = w->rt_user != NULL && w->status_cf != NULL && w->link_cf != NULL && w->web_url != NULL;
}

int brt_cfg_load(struct brt_cfg *c, const char *path, struct diag *d)
{
    static const char *const top[] = {"name",   "rt",    "poll_seconds", "batch",    "act_as",
                                      "queues", "users", "fields",       "statuses", "writeback",
                                      NULL};
    static const char *const rt_known[] = {"conninfo", "url", "token_file", "listen", NULL};
    const config_setting_t *root, *rt;
    int errors0 = d->errors;
    char *dir, *slash;

    memset(c, 0, sizeof(*c));
    config_init(&c->cfg);
    c->path = strdup(path);
    if (c->path == NULL)
        return -1;
    dir = strdup(path);
    if (dir == NULL)
        return -1;
    slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
    } else {
        free(dir);
        dir = strdup(".");
        if (dir == NULL)
            return -1;
    }
    config_set_include_dir(&c->cfg, dir);
    if (config_read_file(&c->cfg, path) != CONFIG_TRUE) {
        if (config_error_type(&c->cfg) == CONFIG_ERR_FILE_IO)
            diag_error(d, path, 0, 0, "cannot read the RT bridge configuration");
        else
            diag_error(d, config_error_file(&c->cfg) ? config_error_file(&c->cfg) : path,
                       config_error_line(&c->cfg), 0, "%s", config_error_text(&c->cfg));
        free(dir);
        return -1;
    }
    root = config_root_setting(&c->cfg);
    hostcfg_check_members(root, top, "the RT bridge configuration", path, d);

    c->name = need_string(root, "name", "the bridge", path, d);
    if (c->name != NULL && !valid_name(c->name))
        diag_at(d, config_setting_get_member(root, "name"), path,
                "name '%s' must be a lowercase word (a-z, 0-9, _ and -, at most 32)", c->name);
    c->act_as = need_string(root, "act_as", "the bridge", path, d);
    c->poll_seconds = opt_int(root, "poll_seconds", 10, 1, 3600, path, d);
    c->batch = opt_int(root, "batch", 500, 1, 100000, path, d);

    rt = config_setting_get_member(root, "rt");
    if (rt == NULL) {
        diag_error(d, path, 0, 0, "'rt' is missing: RT's database and REST2 API");
    } else if (config_setting_type(rt) != CONFIG_TYPE_GROUP) {
        diag_at(d, rt, path,
                "'rt' must be a group { conninfo = ...; url = ...; token_file = ...; }");
    } else {
        const char *tf;
        hostcfg_check_members(rt, rt_known, "rt", path, d);
        c->rt_conninfo = need_string(rt, "conninfo", "rt", path, d);
        c->rt_url = need_string(rt, "url", "rt", path, d);
        if (c->rt_url != NULL && strncmp(c->rt_url, "http://", 7) != 0 &&
            strncmp(c->rt_url, "https://", 8) != 0)
            diag_at(d, config_setting_get_member(rt, "url"), path,
                    "rt.url must start with http:// or https://");
        tf = need_string(rt, "token_file", "rt", path, d);
        if (tf != NULL)
            c->token_file = path_join(dir, tf);
        c->listen = hostcfg_opt_bool(rt, "listen", 0, path, d);
    }
    load_queues(c, root, d);
    load_users(c, root, d);
    load_fields(c, root, d);
    load_statuses(c, root, d);
    load_writeback(c, root, d);
    free(dir);
    return d->errors == errors0 ? 0 : -1;
}

void brt_cfg_release(struct brt_cfg *c)
{
    free(c->queues);
    free(c->users);
    free(c->fields);
    free(c->statuses);
    free(c->token_file);
    free(c->path);
    config_destroy(&c->cfg);
    memset(c, 0, sizeof(*c));
}

const struct brt_queue *brt_cfg_queue(const struct brt_cfg *c, const char *rt_queue)
{
    for (size_t i = 0; i < c->n_queues; i++)
        if (strcmp(c->queues[i].queue, rt_queue) == 0)
            return &c->queues[i];
    return NULL;
}

const char *brt_cfg_user(const struct brt_cfg *c, const char *rt_name, const char *rt_email)
{
    for (size_t i = 0; i < c->n_users; i++)
        if ((rt_name != NULL && strcmp(c->users[i].rt, rt_name) == 0) ||
            (rt_email != NULL && rt_email[0] != '\0' && strcasecmp(c->users[i].rt, rt_email) == 0))
            return c->users[i].casehost;
    return NULL;
}

const char *brt_cfg_status(const struct brt_cfg *c, const char *rt_status)
{
    for (size_t i = 0; i < c->n_statuses; i++)
        if (strcmp(c->statuses[i].rt, rt_status) == 0)
            return c->statuses[i].casehost;
    return NULL;
}
