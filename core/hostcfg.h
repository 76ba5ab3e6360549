/*
 * hostcfg.h: the host configuration (conf/casehost.cfg): database, paths and
 * the plugins to load. Loading validates everything and reports every error
 * with file:line; a config with any error is never used.
 */
#ifndef CASEHOST_HOSTCFG_H
#define CASEHOST_HOSTCFG_H

#include <stddef.h>

#include <libconfig.h>

#include "diag.h"

struct plugin_conf {
    const char *name; /* borrowed from cfg */
    char *path;       /* resolved .so path; owned */
    char *sql_dir;    /* resolved migrations dir; owned */
    int required;
    const config_setting_t *settings; /* the plugin's subtree or NULL; borrowed from cfg */
    const char *file;                 /* where the entry was written */
    int line;
    char *config_root; /* where its deployable configuration is read; NULL: the config's dir */
};

struct hostcfg {
    config_t cfg;
    char *path;           /* the config file as given; owned */
    char *dir;            /* its directory; owned */
    const char *conninfo; /* borrowed from cfg; "" when unset */
    /*
     * The `reports` group: where commands flagged CH_CMD_REPORT read (a
     * streaming replica). reports_conninfo is borrowed from cfg, NULL when
     * there is no group; it names no user (a report runs as the person
     * logged in on the primary). reports_fallback: run on the primary when
     * the reports server cannot be reached.
     */
    const char *reports_conninfo;
    int reports_fallback;
    char *plugin_dir;            /* owned */
    char *sql_dir;               /* owned */
    struct plugin_conf *plugins; /* owned array */
    size_t n_plugins;
};

/*
 * Reads and validates path. Returns 0, or -1 after reporting every problem to
 * d. On any return the caller releases hc with hostcfg_release().
 */
int hostcfg_load(struct hostcfg *hc, const char *path, struct diag *d);
void hostcfg_release(struct hostcfg *hc);

/*
 * The config file to use: explicit, else $CASEHOST_CONFIG, else a build
 * tree's conf/casehost.cfg, else SYSCONFDIR/casehost/casehost.cfg.
 */
const char *hostcfg_default_path(const char *explicit_path);

/* dir/rel unless rel is absolute; caller frees. */
char *path_join(const char *dir, const char *rel);

/*
 * For the host's other configuration files (conf/bridge/rt.cfg): reports,
 * as file:line to d, each member of group not named in known (NULL-ended)
 * as "unknown setting 'x' in WHAT"; and reads an optional boolean member
 * (dflt when absent, or after reporting another type).
 */
void hostcfg_check_members(const config_setting_t *group, const char *const *known,
                           const char *what, const char *file, struct diag *d);
int hostcfg_opt_bool(const config_setting_t *group, const char *name, int dflt, const char *file,
                     struct diag *d);

#endif
