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

/* The arguments of route explain, in its table's order. */
enum { TRF_X_CASE, TRF_X_DECISION, TRF_X_TRACE };

/*
 * route explain CASE [--decision ID] [--trace]: what a stored decision asks
 * of a person, and with --trace every rule's trace (cmd_route.c).
 */
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
 * Shows decision d (borrowed) to a person: each instruction first, as an
 * alert of severity danger; then, in text, heading (may be NULL), the
 * summary (routing_summary with the destination names of cfg and now[0 ..
 * n_now - 1], both may be NULL), what the report ledger made of each
 * proposed referral (ledger: a stored decision's ledger column, borrowed;
 * NULL for none, as in a what-if) and, with trace, the full explanation, else
 * trace_hint (may be NULL); in JSON the summary as "summary", with the ledger
 * as its "ledger" (the caller adds the decision itself). 0, or -1 without
 * memory.
 */
int trf_out_decision(struct trf *t, struct ch_ctx *ctx, const struct routing_decision *d,
                     const struct routing_config *cfg, const struct routing_referral_now *now,
                     size_t n_now, json_t *ledger, const char *heading, const char *trace_hint,
                     int trace);

/*
 * Writes a JSON value through the host's structured output under key (NULL
 * inside arrays), so --json output keeps the decision's shape and text output
 * reads as sections. Borrowed.
 */
void trf_out_json(struct trf *t, struct ch_ctx *ctx, const char *key, const json_t *v);

#endif /* TRF_CMD_ROUTING_H */
