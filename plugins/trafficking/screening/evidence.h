/*
 * evidence.h: what a screening's concern answers establish, from the
 * evidence classes its instrument version gives each item (rules/facts.h
 * "Evidence"), and what several screenings of one case establish together:
 * scoring computes it for the outcome, routing for stored screenings, so
 * both read a screening the same way.
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

/* One screening as evidence reads it: its instrument version and its concern answers. */
struct evidence_screening {
    const struct instrument *inst; /* borrowed; NULL: its version is not loaded */
    char *const *ids;              /* item ids answered with a concern, borrowed */
    size_t n;
};

/*
 * The evidence of several screenings of one case (s[0 .. n-1]), as a
 * child-protection lead reads a file whose screens disagree: the union of
 * what each establishes, each read through its own instrument version (an
 * unclear disclosure takes its kind from its own screening first,
 * evidence_finish), their disclosure kinds joined, and a risk item counted
 * once however many screenings marked it (the same item of the same
 * instrument). A later negative screen never takes back earlier evidence:
 * only a correction does, and a superseded screening is not passed here. A
 * screening whose inst is NULL adds nothing. With one screening this is
 * evidence_of_items. Returns the number of ids that are no item of their
 * instrument.
 */
size_t evidence_of_screenings(const struct evidence_screening *s, size_t n,
                              struct facts_evidence_set *out);

/* The class names of mask in buf ("commercial_sex, coercion"), for messages; returns buf. */
const char *evidence_mask_text(facts_evidence_mask mask, char *buf, size_t len);

#endif /* TRF_EVIDENCE_H */
