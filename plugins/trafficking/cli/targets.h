/*
 * targets.h: dispatch targets read from the host config's plugin settings
 * (`dispatch_targets`, `notify`): checked at init, filled for the dispatcher.
 */
#ifndef TRF_CLI_TARGETS_H
#define TRF_CLI_TARGETS_H

#include <stddef.h>

#include <libconfig.h>

#include "outbox/dispatch.h"
#include "trf.h"

/*
 * Checks one target group d (channel and its members) of plugin setting
 * `setting`, reporting every error at its line as "setting: 'id': ...";
 * extra names one more member the caller allows (NULL: none). 0 or -1.
 */
int trf_dispatch_target_check(struct trf *t, const char *setting, const char *id,
                              const config_setting_t *d, const char *extra);

/*
 * Fills *out from a checked target group d. Strings are borrowed from the
 * host config (valid for the plugin's lifetime); a relative spool_dir is
 * made absolute in spool_buf (caller-owned, spool_len bytes).
 */
void trf_dispatch_target_fill(struct trf *t, const config_setting_t *d, struct dispatch_target *out,
                              char *spool_buf, size_t spool_len);

/* 1 when d names a known channel (it passed trf_dispatch_target_check). */
int trf_dispatch_target_known(const config_setting_t *d);

/* Reports one error of plugin setting `setting` at the line of s, through config_error. */
void trf_dispatch_target_error(struct trf *t, const char *setting, const config_setting_t *s,
                               const char *fmt, ...) CH_PRINTF(4, 5);

#endif
