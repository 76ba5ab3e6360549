/*
 * cmd_dispatch.h: the `dispatch` verb and where it learns each destination's
 * target. The plugin entry registers it once at init with the lookup it
 * trusts (the routing destinations); `dispatch_targets` in the plugin's
 * settings overrides single destinations (tests, a local spool).
 */
#ifndef TRF_CMD_DISPATCH_H
#define TRF_CMD_DISPATCH_H

#include "outbox/dispatch.h"
#include "trf.h"

/*
 * Validates the optional `dispatch_targets` setting (reporting every error
 * through config_error) and registers `dispatch` (CH_CMD_OWN_TX). lookup and
 * ud are borrowed for the plugin's lifetime; a destination named in
 * dispatch_targets is taken from there first. During init only; 0 or -1.
 */
int trf_register_dispatch(struct trf *t, dispatch_lookup_fn lookup, void *ud);

/*
 * A dispatch_lookup_fn over `dispatch_targets` alone; ud is the struct trf.
 * The result is valid until the next call.
 */
const struct dispatch_target *trf_dispatch_config_lookup(void *ud, const char *destination_id);

#endif
