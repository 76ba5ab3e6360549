/*
 * actions.h: the next steps a command offers a person (api->out_action): a
 * link on a web page, a command line in a terminal. Each argv is exactly
 * what the named command's typed table takes, positionals first, then
 * options, so the form a link opens parses prefilled. Offers only: nothing
 * here runs a command, reads the database or writes anything.
 */
#ifndef TRF_CLI_ACTIONS_H
#define TRF_CLI_ACTIONS_H

#include "trf.h"

#if defined(__GNUC__)
#define TRF_SENTINEL __attribute__((sentinel))
#else
#define TRF_SENTINEL
#endif

/* One action: label, then its argv (verb first), NULL-terminated; all borrowed for the call. */
void trf_action(struct trf *t, struct ch_ctx *ctx, const char *label, ...) TRF_SENTINEL;

/*
 * For an open case (decimal text): per saved draft (drafts: rows of
 * screening_drafts_v1 with instrument and answered), "resume the screening
 * (N answers saved)" (`screen resume`: the next question, the answers
 * carried); else, when a screening is due, "screen now" (`screen resume`:
 * the first question). When one is due, also "record that the person
 * declined".
 */
void trf_actions_screening(struct trf *t, struct ch_ctx *ctx, const char *case_id, int due,
                           const PGresult *drafts);

/*
 * One action per row of r with a value in column: label_head and the value
 * as its label ("show referral " 12), `verb sub VALUE` as its argv. Rows
 * whose value is NULL, and a missing column, offer nothing.
 */
void trf_actions_per_row(struct trf *t, struct ch_ctx *ctx, const PGresult *r, const char *column,
                         const char *label_head, const char *verb, const char *sub);

/*
 * The moves row 0 of r (a referral as `referral show` reads it: id, case,
 * destination, basis, state, outbox) allows the acting person now, as the
 * database's rules have them (trafficking.referral_moves, referral_move_v1,
 * referral_retry_v1, report_again_v1): acknowledge, accept, reject, close,
 * retry a failed or held delivery, report again (supervisors and admins, once
 * delivered), revoke (a report not resting on consent: supervisors and
 * admins only). What the database would refuse is not offered.
 */
void trf_actions_referral(struct trf *t, struct ch_ctx *ctx, const PGresult *r);

/*
 * For person (decimal text) given the rows of consents_of_v1 and
 * declines_of_v1: revoke each active consent, end each active decline,
 * record a consent, record a decline.
 */
void trf_actions_consents(struct trf *t, struct ch_ctx *ctx, const char *person,
                          const PGresult *consents, const PGresult *declines);

#endif /* TRF_CLI_ACTIONS_H */
