/*
 * cmd_routing.h: the routing verbs `routing` and `route` and their subcommand
 * tables, so more subcommands (route explain, routing replay) are one table
 * entry each. Nothing here may open a transaction on its own behalf: the verbs
 * are registered with CH_CMD_OWN_TX, so a subcommand that needs the database
 * begins and commits its own.
 */
#ifndef TRF_CMD_ROUTING_H
#define TRF_CMD_ROUTING_H

#include <casehost/plugin.h>

#include "routing/routing.h"
#include "trf.h"

/*
 * One subcommand: argv[0] is the verb, argv[1] the subcommand name, argv[2..]
 * its arguments (--json removed by the host; ask api->json). Returns a ch_rc.
 */
/* Registers `routing` and `route` (call once from init). 0 or -1. */
int trf_register_routing_commands(struct trf *t);

/* route explain CASE [--decision ID]: a stored decision and its trace (cmd_route.c). */
int route_explain(struct ch_ctx *ctx, const struct ch_value *v, void *ud);

/* routing replay --config DIR [--since DATE]: what a candidate would change (cmd_route.c). */
int routing_replay(struct ch_ctx *ctx, const struct ch_value *v, void *ud);

/*
 * Loads the routing configuration: from dir/destinations.cfg and
 * dir/routing.cfg when dir is not NULL, else from the plugin's config folder
 * (config_dir + "/trafficking/"). Every problem goes to ctx through api->fail
 * (one message listing them all). Returns the config (caller frees with
 * routing_config_free) or NULL.
 */
struct routing_config *trf_routing_config_open(struct trf *t, struct ch_ctx *ctx, const char *dir);

/*
 * Writes a JSON value through the host's structured output under key (NULL
 * inside arrays), so --json output keeps the decision's shape and text output
 * reads as sections. Borrowed.
 */
void trf_out_json(struct trf *t, struct ch_ctx *ctx, const char *key, const json_t *v);

#endif /* TRF_CMD_ROUTING_H */
