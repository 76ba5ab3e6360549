/*
 * notify_channel.h: where an agency's notices to people go: the `notify`
 * plugin setting, one channel per agency (or "*" for every other one), with
 * the same channels as a destination (webhook, command, spool). It only
 * reads the host config; what a notice says is decided in SQL (014).
 */
#ifndef TRF_NOTIFY_CHANNEL_H
#define TRF_NOTIFY_CHANNEL_H

#include <stddef.h>

#include "outbox/dispatch_target.h"
#include "trf.h"

/*
 * Checks the optional `notify` setting, reporting every error at its line
 * through config_error. During init; 0 or -1.
 */
int trf_notify_check(struct trf *t);

/*
 * The channel of agency `agency` (its name), else the "*" entry, into *out
 * (strings borrowed from the host config; a relative spool_dir made absolute
 * in spool_buf). 0 when found, -1 when the agency has none.
 */
int trf_notify_channel(struct trf *t, const char *agency, struct dispatch_target *out,
                       char *spool_buf, size_t spool_len);

#endif
