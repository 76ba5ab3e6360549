/*
 * retention.h: how long the bytes a referral was sent with are kept (the
 * plugin setting sent_retention_days) and the tick's purge of them, and of
 * screening drafts left for 30 days. The sha-256 and the time of a send are
 * kept for good; the bytes are personal data and go once the retention ends.
 */
#ifndef TRF_RETENTION_H
#define TRF_RETENTION_H

#include "trf.h"

/* The retention when the setting is not written, in days. */
#define TRF_SENT_RETENTION_DEFAULT 30
/* The longest retention accepted, in days (a hundred years). */
#define TRF_SENT_RETENTION_MAX 36500

/*
 * Reads sent_retention_days from the plugin's settings into
 * t->sent_retention_days (the default when absent). A value that is not a
 * whole number from 0 to TRF_SENT_RETENTION_MAX is reported at its file and
 * line through config_error. During init; 0 or -1.
 */
int trf_retention_load(struct trf *t);

/*
 * CH_EV_TICK hook (ud: the struct trf): purges the bytes of the caller's
 * agency's referrals sent more than t->sent_retention_days days ago, and its
 * screening drafts untouched for 30 days (016_screening_drafts.sql), in the
 * tick's transaction, and says how many. CH_OK, or CH_ERROR after fail.
 */
int trf_retention_on_tick(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud);

#endif
