/*
 * [A frozen copy of the ABI 1.0 header (casehost 0.1.0), kept to build the
 *  test plugin as a 1.0 plugin and prove the 1.1 host still loads it.]
 * casehost/plugin.h: the one contract between the casehost host and its plugins.
 *
 * A plugin includes this header (plus libpq and libconfig headers) and nothing
 * else of the host. It exports exactly one function, CH_PLUGIN_ENTRY, which
 * returns a descriptor; everything else reaches it through struct ch_host_api.
 *
 * Compatibility rules (SQLite's): struct ch_host_api is append-only and starts
 * with its size. Adding a member bumps CH_ABI_MINOR; removing or changing one
 * bumps CH_ABI_MAJOR. A host loads a plugin built for the same major and an
 * equal or older minor.
 */
#ifndef CASEHOST_PLUGIN_H
#define CASEHOST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>
#include <libpq-fe.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CH_ABI_MAJOR 1
#define CH_ABI_MINOR 0

/* The single symbol a plugin exports. */
#define CH_PLUGIN_ENTRY casehost_plugin_entry
#define CH_PLUGIN_ENTRY_NAME "casehost_plugin_entry"

#if defined(__GNUC__)
#define CH_PLUGIN_EXPORT __attribute__((visibility("default")))
#define CH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CH_PLUGIN_EXPORT
#define CH_PRINTF(f, a)
#endif

/*
 * Outcomes of plugin callbacks. CH_DECLINED means "not for me, carry on"
 * (for example a plugin with nothing configured); CH_ERROR means the
 * operation failed and the plugin has said why with api->fail().
 */
enum ch_rc {
    CH_OK = 0,
    CH_DECLINED = 1,
    CH_ERROR = -1,
    CH_USAGE = -2, /* a command was called wrongly; the host prints its usage */
};

enum ch_log_level { CH_LOG_DEBUG, CH_LOG_INFO, CH_LOG_WARN, CH_LOG_ERROR };

enum ch_event {
    CH_EV_CASE_CREATED,
    CH_EV_CASE_UPDATED,
    CH_EV_NOTE_ADDED,
    CH_EV_CASE_CLOSED,
    CH_EV_TICK,
    CH_EV__COUNT
};

/* One changed case field; a NULL value is SQL NULL. */
struct ch_change {
    const char *field;
    const char *old_value;
    const char *new_value;
};

/* What a hook is told. Everything is borrowed for the duration of the call. */
struct ch_event_data {
    size_t size; /* sizeof(struct ch_event_data) of the host */
    enum ch_event kind;
    int64_t case_id;                 /* 0 for CH_EV_TICK */
    int64_t note_id;                 /* CH_EV_NOTE_ADDED only, else 0 */
    const struct ch_change *changes; /* CH_EV_CASE_UPDATED/CLOSED; else NULL */
    size_t n_changes;
};

/* The acting user; borrowed, valid for the whole invocation. */
struct ch_user {
    int64_t id;
    const char *name;
    const char *role; /* "caseworker", "supervisor" or "admin" */
    int64_t agency_id;
    const char *agency_name;
};

struct ch_plugin; /* host-owned handle of one loaded plugin */
struct ch_ctx;    /* host-owned context of one invocation (command, hook, render) */

typedef int (*ch_hook_fn)(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud);
/* argv[0] is the verb ("screen"); argv[1..] its arguments, --json and --as removed. */
typedef int (*ch_command_fn)(struct ch_ctx *ctx, int argc, char **argv, void *ud);
/* Adds a section to `case show` through the ctx output functions. */
typedef int (*ch_render_fn)(struct ch_ctx *ctx, int64_t case_id, void *ud);

/* How the host runs a command. */
enum ch_command_flags {
    /*
     * The host logs the user in but opens no transaction: the command runs
     * its own (for long-running work such as a dispatcher). The host rolls
     * back whatever is left open when it returns.
     */
    CH_CMD_OWN_TX = 1u << 0,
};

struct ch_command {
    const char *verb;  /* one word, unique across host and plugins */
    const char *help;  /* one line */
    const char *usage; /* "screen start CASE [--instrument ID]\n..." */
    ch_command_fn run;
    void *ud;
    unsigned flags; /* enum ch_command_flags; 0: one transaction, committed on CH_OK */
};

/*
 * Services of the host. Members are only ever appended; check
 * api->size >= offsetof(struct ch_host_api, member) + sizeof(member) before
 * using a member added after the minor version the plugin was built against.
 */
struct ch_host_api {
    size_t size;
    unsigned abi_major;
    unsigned abi_minor;

    /* --- logging and configuration (any time after init starts) --- */
    void (*log)(struct ch_plugin *self, enum ch_log_level level, const char *fmt, ...)
        CH_PRINTF(3, 4);
    /* The plugin's own `settings` group from the host config; NULL if absent. */
    const config_setting_t *(*config)(struct ch_plugin *self);
    /* Directory of the host config file, to resolve relative paths. */
    const char *(*config_dir)(struct ch_plugin *self);
    /*
     * Reports a configuration error as "file:line[:col]: plugin: message" and
     * counts it; col 0 omits the column. The plugin keeps going to report
     * every error, then fails init/reload.
     */
    void (*config_error)(struct ch_plugin *self, const char *file, int line, int col,
                         const char *fmt, ...) CH_PRINTF(5, 6);

    /* --- registration (during init only) --- */
    /* Lower priority runs first; equal priorities run in registration order. */
    int (*hook)(struct ch_plugin *self, enum ch_event ev, int priority, ch_hook_fn fn, void *ud);
    int (*command)(struct ch_plugin *self, const struct ch_command *cmd);
    int (*render)(struct ch_plugin *self, int priority, ch_render_fn fn, void *ud);

    /* --- per invocation --- */
    /* The connection of the current transaction; borrowed. */
    PGconn *(*conn)(struct ch_ctx *ctx);
    const struct ch_user *(*user)(struct ch_ctx *ctx);
    /* Sets the message the user sees when the callback returns CH_ERROR. */
    void (*fail)(struct ch_ctx *ctx, const char *fmt, ...) CH_PRINTF(2, 3);
    /* Appends an audit record in the current transaction; 0 or -1. */
    int (*audit)(struct ch_ctx *ctx, const char *action, const char *object_type, int64_t object_id,
                 const char *detail);
    /* Non-zero when the caller asked for --json. */
    int (*json)(struct ch_ctx *ctx);
    /* Non-zero when stdin and stdout are a terminal (questions may be asked). */
    int (*interactive)(struct ch_ctx *ctx);

    /*
     * Structured output, rendered by the host as text or JSON. Keys are
     * ignored inside arrays. A NULL string value is JSON null / "-".
     */
    void (*out_object)(struct ch_ctx *ctx, const char *key);
    void (*out_array)(struct ch_ctx *ctx, const char *key);
    void (*out_end)(struct ch_ctx *ctx);
    void (*out_str)(struct ch_ctx *ctx, const char *key, const char *value);
    void (*out_int)(struct ch_ctx *ctx, const char *key, int64_t value);
    void (*out_bool)(struct ch_ctx *ctx, const char *key, int value);
    /* A line of prose for people: printed as text, collected under "messages" in JSON. */
    void (*out_message)(struct ch_ctx *ctx, const char *fmt, ...) CH_PRINTF(2, 3);
    /*
     * Every row of res as an object (one row, as_array 0) or an array of
     * objects; columns keep their names and types (bool, integers, json).
     */
    void (*out_result)(struct ch_ctx *ctx, const char *key, const PGresult *res, int as_array);
};

/* What CH_PLUGIN_ENTRY returns; static storage in the plugin. */
struct ch_plugin_desc {
    size_t size; /* sizeof(struct ch_plugin_desc) */
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *name; /* must match the name in the host config */
    const char *version;
    const char *description;
    /*
     * Reads config, registers hooks and commands. Returns CH_OK, CH_DECLINED
     * (nothing to do, plugin stays unloaded) or CH_ERROR after api->log or
     * api->config_error said why. *state is passed to reload and fini.
     */
    int (*init)(struct ch_plugin *self, const struct ch_host_api *api, void **state);
    /*
     * Re-reads configuration. On CH_ERROR the plugin must keep its previous
     * configuration working. May be NULL.
     */
    int (*reload)(struct ch_plugin *self, void *state);
    /* Releases state; also called after init declined or failed. May be NULL. */
    void (*fini)(void *state);
};

typedef const struct ch_plugin_desc *(*ch_plugin_entry_fn)(void);

/* Fills the fixed head of a descriptor. */
#define CH_PLUGIN_DESC_HEAD sizeof(struct ch_plugin_desc), CH_ABI_MAJOR, CH_ABI_MINOR

#ifdef __cplusplus
}
#endif

#endif /* CASEHOST_PLUGIN_H */
