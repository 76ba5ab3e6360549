/*
 * host.h: the host's shared-internal types: one invocation context (struct
 * ch_ctx, opaque to plugins) and the loaded-plugin registry. Only core/ sees
 * this header; plugins see casehost/plugin.h alone.
 */
#ifndef CASEHOST_HOST_H
#define CASEHOST_HOST_H

#include <stddef.h>

#include <casehost/plugin.h>

#include "db.h"
#include "diag.h"
#include "hostcfg.h"
#include "out.h"

struct ch_plugin {
    const struct plugin_conf *conf; /* borrowed from the host config */
    struct loader *loader;
    void *dl;
    const struct ch_plugin_desc *desc;
    void *state;
    int loaded;        /* init returned CH_OK */
    int in_init;       /* registration is allowed */
    int cfg_errors;    /* config_error() calls during the current init/reload */
    char refused[512]; /* a registration the host refused during init: the load fails */
    char failure[512];
};

struct hook_entry {
    enum ch_event ev;
    int priority;
    unsigned seq;
    ch_hook_fn fn;
    void *ud;
    struct ch_plugin *plugin;
};

/*
 * A registered command: an ABI 1.0 one (cmd; typed 0) or one verb-and-sub
 * of a typed one (spec, copied and zero-extended to this host's size; cmd
 * holds its verb and help for listings).
 */
struct command_entry {
    struct ch_command cmd;
    struct ch_command_spec spec;
    int typed;
    struct ch_plugin *plugin;
};

/* A section of a case's page (fn) or of a person's page (person_fn): one is set. */
struct render_entry {
    int priority;
    unsigned seq;
    ch_render_fn fn;
    ch_person_render_fn person_fn;
    void *ud;
    struct ch_plugin *plugin;
};

struct deploy_entry {
    ch_deploy_fn fn;
    void *ud;
    struct ch_plugin *plugin;
};

struct loader {
    struct ch_plugin **plugins; /* owned; each entry owned (plugins keep their handle) */
    size_t n_plugins;
    struct hook_entry *hooks;
    size_t n_hooks, cap_hooks;
    struct command_entry *commands;
    size_t n_commands, cap_commands;
    struct render_entry *renders;
    size_t n_renders, cap_renders;
    struct deploy_entry *deploys;
    size_t n_deploys, cap_deploys;
    unsigned seq;
    const char *config_dir; /* borrowed */
    struct diag *diag;      /* borrowed: where plugin config errors go */
};

struct ch_ctx {
    PGconn *conn; /* borrowed; NULL when the command needs no database */
    /*
     * While a report runs on the reports server (CH_CMD_REPORT): its
     * read-only connection, which api->conn returns; conn stays the
     * primary's (the audit is written there). Borrowed; NULL otherwise.
     */
    PGconn *report_conn;
    struct ch_user user;
    struct db_user dbuser;    /* storage behind user */
    struct out *out;          /* borrowed */
    struct ch_plugin *plugin; /* the plugin being called, for messages */
    int json;
    int interactive;
    char err[2048];
};

/* Sets up ctx->user from ctx->dbuser. */
void ctx_bind_user(struct ch_ctx *ctx);

#endif
