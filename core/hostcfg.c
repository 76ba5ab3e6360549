/*
 * hostcfg.c: reads conf/casehost.cfg. Collects every error with file:line
 * before giving up, so an admin fixes a file in one pass.
 * Never connects to the database and never loads a plugin.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "hostcfg.h"

/* The Makefile passes the SYSCONFDIR the program is built (and installed) for. */
#ifndef CASEHOST_SYSCONFDIR
#define CASEHOST_SYSCONFDIR "/usr/local/etc"
#endif
#define CASEHOST_DEFAULT_CONFIG CASEHOST_SYSCONFDIR "/casehost/casehost.cfg"

/*
 * Without -c or CASEHOST_CONFIG: the checkout's conf/ when the program runs
 * from a build tree (build/ or build/asan/), else the installed config,
 * SYSCONFDIR/casehost/casehost.cfg, whether or not it exists (so the error
 * names where it was looked for). Returns static storage.
 */
const char *hostcfg_default_path(const char *explicit_path)
{
    static const char *const candidates[] = {"../conf/casehost.cfg", "../../conf/casehost.cfg"};
    static char found[4096];
    const char *env = getenv("CASEHOST_CONFIG");
    char exe[2048];
    ssize_t n;
    if (explicit_path != NULL)
        return explicit_path;
    if (env != NULL && env[0] != '\0')
        return env;
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash != NULL)
            *slash = '\0';
        for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
            snprintf(found, sizeof(found), "%s/%s", exe, candidates[i]);
            if (access(found, R_OK) == 0)
                return found;
        }
    }
    return CASEHOST_DEFAULT_CONFIG;
}

char *path_join(const char *dir, const char *rel)
{
    size_t n;
    char *p;
    if (rel[0] == '/' || dir == NULL || dir[0] == '\0')
        return strdup(rel);
    n = strlen(dir) + strlen(rel) + 2;
    p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    char *d;
    if (copy == NULL)
        return NULL;
    d = strdup(dirname(copy));
    free(copy);
    return d;
}

/* An optional string member; a present member of another type is an error. */
static const char *opt_string(const config_setting_t *group, const char *name, const char *file,
                              struct diag *d)
{
    const config_setting_t *s = config_setting_get_member(group, name);
    if (s == NULL)
        return NULL;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        diag_at(d, s, file, "'%s' must be a string", name);
        return NULL;
    }
    return config_setting_get_string(s);
}

int hostcfg_opt_bool(const config_setting_t *group, const char *name, int dflt, const char *file,
                     struct diag *d)
{
    const config_setting_t *s = config_setting_get_member(group, name);
    if (s == NULL)
        return dflt;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        diag_at(d, s, file, "'%s' must be true or false", name);
        return dflt;
    }
    return config_setting_get_bool(s);
}

/* Refuses members the host does not know, so a typo is not silently ignored. */
void hostcfg_check_members(const config_setting_t *group, const char *const *known,
                           const char *what, const char *file, struct diag *d)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(m);
        int ok = 0;
        for (const char *const *k = known; *k != NULL; k++)
            ok |= name != NULL && strcmp(name, *k) == 0;
        if (!ok)
            diag_at(d, m, file, "unknown setting '%s' in %s", name ? name : "?", what);
    }
}

static int valid_plugin_name(const char *s)
{
    if (s[0] == '\0' || strlen(s) > 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return s[0] >= 'a' && s[0] <= 'z';
}

static void load_plugins(struct hostcfg *hc, struct diag *d)
{
    static const char *const known[] = {"name", "file", "required", "sql", "settings", NULL};
    const config_setting_t *list = config_lookup(&hc->cfg, "plugins");
    int n;
    if (list == NULL)
        return;
    if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
        diag_at(d, list, hc->path, "'plugins' must be a list: plugins = ( { name = \"...\"; } );");
        return;
    }
    n = config_setting_length(list);
    hc->plugins = calloc((size_t)n + 1, sizeof(*hc->plugins));
    if (hc->plugins == NULL) {
        diag_error(d, hc->path, 0, 0, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        struct plugin_conf *pc = &hc->plugins[hc->n_plugins];
        const char *name, *file, *sql;
        char buf[300];
        if (!config_setting_is_group(e)) {
            diag_at(d, e, hc->path, "plugin entry %d must be a group { name = \"...\"; }", i + 1);
            continue;
        }
        hostcfg_check_members(e, known, "a plugin entry", hc->path, d);
        name = opt_string(e, "name", hc->path, d);
        if (name == NULL) {
            if (config_setting_get_member(e, "name") == NULL)
                diag_at(d, e, hc->path, "plugin entry %d has no 'name'", i + 1);
            continue;
        }
        if (!valid_plugin_name(name)) {
            diag_at(d, e, hc->path, "plugin name '%s' must be lowercase letters, digits and '_'",
                    name);
            continue;
        }
        for (size_t j = 0; j < hc->n_plugins; j++) {
            if (strcmp(hc->plugins[j].name, name) == 0) {
                diag_at(d, e, hc->path, "plugin '%s' is listed twice (first at line %d)", name,
                        hc->plugins[j].line);
                break;
            }
        }
        pc->name = name;
        pc->file = config_setting_source_file(e) ? config_setting_source_file(e) : hc->path;
        pc->line = (int)config_setting_source_line(e);
        pc->required = hostcfg_opt_bool(e, "required", 0, hc->path, d);
        file = opt_string(e, "file", hc->path, d);
        if (file == NULL) {
            snprintf(buf, sizeof(buf), "%s.so", name);
            file = buf;
        }
        pc->path = path_join(hc->plugin_dir, file);
        sql = opt_string(e, "sql", hc->path, d);
        if (sql != NULL)
            pc->sql_dir = path_join(hc->dir, sql);
        else
            pc->sql_dir = path_join(hc->sql_dir, name);
        pc->settings = config_setting_get_member(e, "settings");
        if (pc->settings != NULL && !config_setting_is_group(pc->settings)) {
            diag_at(d, pc->settings, hc->path, "'settings' of plugin '%s' must be a group", name);
            pc->settings = NULL;
        }
        hc->n_plugins++;
    }
}

/*
 * reports = { conninfo = "..."; fallback_to_primary = false; }: the conninfo
 * must parse, and must not choose the user: a report runs as the person
 * logged in on the primary, so the host gives the reports connection the
 * primary's user.
 */
static void load_reports(struct hostcfg *hc, struct diag *d)
{
    static const char *const known[] = {"conninfo", "fallback_to_primary", NULL};
    const config_setting_t *g = config_lookup(&hc->cfg, "reports");
    const config_setting_t *ci;
    PQconninfoOption *opts;
    char *perr = NULL;
    const char *s;
    if (g == NULL)
        return;
    if (!config_setting_is_group(g)) {
        diag_at(d, g, hc->path, "'reports' must be a group: reports = { conninfo = \"...\"; };");
        return;
    }
    hostcfg_check_members(g, known, "'reports'", hc->path, d);
    hc->reports_fallback = hostcfg_opt_bool(g, "fallback_to_primary", 0, hc->path, d);
    ci = config_setting_get_member(g, "conninfo");
    if (ci == NULL) {
        diag_at(d, g, hc->path, "'reports' has no 'conninfo' (the replica reports read from)");
        return;
    }
    if ((s = opt_string(g, "conninfo", hc->path, d)) == NULL)
        return;
    opts = PQconninfoParse(s, &perr);
    if (opts == NULL) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", perr != NULL ? perr : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        diag_at(d, ci, hc->path, "'reports.conninfo' is not a libpq conninfo: %s", msg);
        PQfreemem(perr);
        return;
    }
    for (const PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, "user") == 0 && o->val != NULL) {
            diag_at(d, ci, hc->path,
                    "'reports.conninfo' names user '%s': a report runs as the person logged in "
                    "on the primary; remove user=",
                    o->val);
            PQconninfoFree(opts);
            return;
        }
    PQconninfoFree(opts);
    hc->reports_conninfo = s;
}

/*
 * The host config is a small hand-written file: one over 4 MiB is refused
 * before libconfig reads it, so a wrong or hostile file cannot take the
 * memory and time of every command. (libconfig 1.5 reads @include files
 * itself, with no hook to check them first.)
 */
#define HOSTCFG_MAX_MIB 4

static int too_large(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           (unsigned long long)st.st_size > (unsigned long long)HOSTCFG_MAX_MIB * 1024 * 1024;
}

int hostcfg_load(struct hostcfg *hc, const char *path, struct diag *d)
{
    static const char *const top[] = {"database", "paths", "plugins", "reports", NULL};
    static const char *const db_known[] = {"conninfo", "role", NULL};
    static const char *const paths_known[] = {"plugin_dir", "sql_dir", NULL};
    const config_setting_t *db, *paths;
    const char *s;
    int errors_before = d->errors;

    memset(hc, 0, sizeof(*hc));
    config_init(&hc->cfg);
    hc->path = strdup(path);
    hc->dir = dir_of(path);
    if (hc->path == NULL || hc->dir == NULL) {
        diag_error(d, path, 0, 0, "out of memory");
        return -1;
    }
    if (access(path, R_OK) != 0) {
        diag_error(d, path, 0, 0, "cannot read host config: %s", strerror(errno));
        return -1;
    }
    if (too_large(path)) {
        diag_error(d, path, 0, 0, "larger than %d MiB, refused before parsing", HOSTCFG_MAX_MIB);
        return -1;
    }
    config_set_include_dir(&hc->cfg, hc->dir);
    if (config_read_file(&hc->cfg, path) != CONFIG_TRUE) {
        const char *f = config_error_file(&hc->cfg);
        diag_error(d, f ? f : path, config_error_line(&hc->cfg), 0, "%s",
                   config_error_text(&hc->cfg));
        return -1;
    }
    hostcfg_check_members(config_root_setting(&hc->cfg), top, "the host config", path, d);

    hc->conninfo = "";
    db = config_lookup(&hc->cfg, "database");
    if (db != NULL && !config_setting_is_group(db)) {
        diag_at(d, db, path, "'database' must be a group");
        db = NULL;
    }
    if (db != NULL) {
        hostcfg_check_members(db, db_known, "'database'", path, d);
        if ((s = opt_string(db, "conninfo", path, d)) != NULL)
            hc->conninfo = s;
        /* Identity is the connecting role; a shared role would erase it. */
        if ((s = opt_string(db, "role", path, d)) != NULL)
            diag_at(d, config_setting_get_member(db, "role"), path,
                    "'database.role' is no longer used: every person connects as their own "
                    "PostgreSQL role; remove the line (INSTALL: roles per person)");
    }

    paths = config_lookup(&hc->cfg, "paths");
    if (paths != NULL && !config_setting_is_group(paths)) {
        diag_at(d, paths, path, "'paths' must be a group");
        paths = NULL;
    }
    if (paths != NULL)
        hostcfg_check_members(paths, paths_known, "'paths'", path, d);
    s = paths ? opt_string(paths, "plugin_dir", path, d) : NULL;
    hc->plugin_dir = path_join(hc->dir, s ? s : "plugins");
    s = paths ? opt_string(paths, "sql_dir", path, d) : NULL;
    hc->sql_dir = path_join(hc->dir, s ? s : "sql");

    load_reports(hc, d);
    load_plugins(hc, d);
    return d->errors == errors_before ? 0 : -1;
}

void hostcfg_release(struct hostcfg *hc)
{
    for (size_t i = 0; i < hc->n_plugins; i++) {
        free(hc->plugins[i].path);
        free(hc->plugins[i].sql_dir);
        free(hc->plugins[i].config_root);
    }
    free(hc->plugins);
    free(hc->plugin_dir);
    free(hc->sql_dir);
    free(hc->path);
    free(hc->dir);
    config_destroy(&hc->cfg);
    memset(hc, 0, sizeof(*hc));
}
