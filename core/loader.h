/*
 * loader.h: loads plugins named in the host config, keeps their hooks,
 * commands and render sections, and calls them. The only place that calls
 * dlopen; the only place that knows struct ch_host_api's layout.
 */
#ifndef CASEHOST_LOADER_H
#define CASEHOST_LOADER_H

#include "host.h"

/*
 * Loads every plugin of hc. A plugin that cannot be loaded or whose init
 * fails is skipped with its message on d->out; if it is required, returns -2
 * (the host must stop with exit 2). Otherwise 0. Caller releases with
 * loader_release() in every case.
 */
int loader_load_all(struct loader *l, const struct hostcfg *hc, struct diag *d);

/*
 * Loads one plugin. Returns 0 (loaded), 1 (init declined), or -1 with the
 * reason in err ("file 'x.so': ..."). Exposed for tests.
 */
int loader_load_one(struct loader *l, const struct plugin_conf *pc, char *err, size_t errlen);

/* Calls every plugin's reload; a plugin that fails keeps its old config. Returns failures. */
int loader_reload(struct loader *l);

void loader_release(struct loader *l);

/*
 * Runs every hook registered for ev->kind in priority order. On the first
 * CH_ERROR stops and returns -1 with "plugin 'name': message" in ctx->err.
 */
int loader_fire(struct loader *l, struct ch_ctx *ctx, const struct ch_event_data *ev);

/* Calls every render section for case_id; -1 as loader_fire. */
int loader_render(struct loader *l, struct ch_ctx *ctx, int64_t case_id);
/* Calls every person section for person_id; -1 as loader_fire. */
int loader_render_person(struct loader *l, struct ch_ctx *ctx, int64_t person_id);

const struct command_entry *loader_command(const struct loader *l, const char *verb);

/*
 * Runs the deploy check of plugin (NULL: every plugin) with generation_hash
 * ("" under config check, when ctx->conn is NULL). -1 at the first failure
 * with "plugin 'name': message" in ctx->err.
 */
int loader_deploy_check(struct loader *l, struct ch_ctx *ctx, const char *plugin,
                        const char *generation_hash);

/*
 * The verbs no plugin may register (NULL-terminated, static storage), set
 * once by the program before loading: a plugin that tries is refused.
 */
void loader_set_host_verbs(const char *const *verbs);

/* The host API given to plugins. */
extern const struct ch_host_api loader_api;

#endif
