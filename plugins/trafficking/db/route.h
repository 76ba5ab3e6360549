/*
 * route.h: routing against the database: the input facts of a case read in
 * one statement (casefacts_query, the same reading the triggers make), the decision stored with its
 * referrals and outbox rows in one statement, and what uses them (screening completion, case
 * changes, consent, escalation on the tick, explain, replay). Runs on the caller's transaction;
 * never commits and never sends anything.
 */
#ifndef TRF_ROUTE_H
#define TRF_ROUTE_H

#include <stdint.h>

#include "routing/routing.h"
#include "trf.h"

/*
 * Decides for case_id under cfg and stores the decision with its referrals
 * and outbox rows (two round trips: input, store). always 0 stores nothing
 * when no rule matched. d is initialised here; the caller releases it also on
 * failure. Returns 0, or -1 with err set.
 */
int route_decide_store(PGconn *conn, const struct routing_config *cfg, int64_t case_id,
                       int64_t screening_id, const char *cause, int always,
                       struct routing_decision *d, char *err, size_t errlen);

/*
 * Decides for case_id with the configuration in force and stores the
 * decision (input, every rule's trace, outcome) with its referrals and outbox
 * rows. always 0 stores a decision only when some rule matched. Reports the
 * referrals made through ctx's output. Returns CH_OK or CH_ERROR (ctx failed).
 */
int route_case(struct trf *t, struct ch_ctx *ctx, int64_t case_id, int64_t screening_id,
               const char *cause, int always);

/* Re-routes the open cases of a person whose consent changed. */
int trf_consent_changed(struct trf *t, struct ch_ctx *ctx, int64_t person_id);

/*
 * 1 when case event ev can change the case's decision: a case created, or
 * an update of a field routing reads (directly or through the person).
 */
int route_wanted(const struct trf *t, const struct ch_event_data *ev);

/*
 * Routes the case of event ev (route_case, cause case_created or
 * case_updated) from its facts in (borrowed), read by casefacts_query in
 * this transaction with nothing written since; NULL reads them here.
 */
int route_case_event(struct trf *t, struct ch_ctx *ctx, const struct ch_event_data *ev,
                     const struct routing_input *in);

/* Tick hook: escalates referrals not acknowledged within their SLA, once. */
int route_on_tick(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud);

#endif
