/*
 * step_form.h: a screening asked one question at a time, as `screen step`
 * and `screen resume` show it: the step form of the next question (skip
 * logic and stop-on-disclosure applied) whose argv carries the answers so
 * far, or at the end the `screen start` that stores them; and the answers so
 * far kept as the case's draft, so an interview outlasts a login. Nothing
 * here stores a screening.
 */
#ifndef TRF_STEP_FORM_H
#define TRF_STEP_FORM_H

#include <stddef.h>

#include "db/draft.h"
#include "screening/scoring.h"
#include "trf.h"

/*
 * What a step shows, given answers (parsed from pairs[0 .. n_pairs - 1];
 * all borrowed) to inst on case case_id: the step form of the next question,
 * or, when nothing is left to ask, the action "store the screening" (`screen
 * start`; on a page its form, prefilled, where any answer can be changed
 * before storing). supersedes and answers_file are handed on as given
 * (NULL: none). CH_OK, or CH_ERROR after api->fail.
 */
int step_form_out(struct trf *t, struct ch_ctx *ctx, long long case_id,
                  const struct instrument *inst, const struct rule_value *facts,
                  const struct answer *answers, const char *const *pairs, size_t n_pairs,
                  const char *supersedes, const char *answers_file);

/*
 * Saves answers (inst->n_items, borrowed) as the draft of case_id, so the
 * interview resumes after a new login; nothing when none is answered.
 * 0, or -1 after api->fail.
 */
int step_form_save_draft(struct trf *t, struct ch_ctx *ctx, long long case_id,
                         const struct instrument *inst, const struct answer *answers);

/*
 * The saved answers of draft d that still read as answers of inst, into
 * answers[] (inst->n_items) and pairs[] (room for inst->n_items:
 * "ITEM=ANSWER", each a new string the caller frees), in the instrument's
 * order; one that no longer does (the instrument changed) is left out with
 * a warning. Returns how many, or -1 after api->fail (nothing to free).
 */
int step_form_draft_pairs(struct trf *t, struct ch_ctx *ctx, const struct screening_draft *d,
                          const struct instrument *inst, struct answer *answers, char **pairs);

#endif /* TRF_STEP_FORM_H */
