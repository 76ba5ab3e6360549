/*
 * evidence.h: what one screening's concern answers establish, from the
 * evidence classes its instrument version gives each item (rules/facts.h
 * "Evidence"): scoring computes it for the outcome, routing for a stored
 * screening, so both read a screening the same way.
 *
 * Pure computation over a loaded instrument; never reads an answer as more
 * than its item's classes say, and never counts a risk sign as evidence.
 */
#ifndef TRF_EVIDENCE_H
#define TRF_EVIDENCE_H

#include <stddef.h>

#include "rules/facts.h"
#include "screening/instrument_types.h"

/* An empty set: no class, no risk, no disclosure. */
void evidence_init(struct facts_evidence_set *ev);

/* Adds what a concern answer to item it establishes. */
void evidence_add_item(struct facts_evidence_set *ev, const struct instrument_item *it);

/*
 * Completes ev once every concern is added. A disclosure of kind "unclear"
 * ("is someone making you do any of this?") takes its kind from what the
 * same screening established: commercial sex makes it sex, labour
 * exploitation labour, both make both. A declared sex or labour kind is
 * never changed: other evidence is routed by its own class.
 */
void evidence_finish(struct facts_evidence_set *ev);

/*
 * The evidence of the items named in ids[0 .. n-1] (the item ids a stored
 * screening answered with a concern) under inst (borrowed). Returns the
 * number of ids that are no item of inst (they establish nothing).
 */
size_t evidence_of_items(const struct instrument *inst, char *const *ids, size_t n,
                         struct facts_evidence_set *out);

/* The class names of mask in buf ("commercial_sex, coercion"), for messages; returns buf. */
const char *evidence_mask_text(facts_evidence_mask mask, char *buf, size_t len);

#endif /* TRF_EVIDENCE_H */
