/*
 * instrument_item.h: shared-internal interface between instrument.c (files and
 * sets) and instrument_item.c (items, their names and their show_if programs).
 *
 * Not for other modules: everything here lives only while one file loads.
 * Items never call back into instrument.c: both share instrument_types.h.
 */
#ifndef TRF_INSTRUMENT_ITEM_H
#define TRF_INSTRUMENT_ITEM_H

#include <stddef.h>

#include <libconfig.h>

#include "cfg/cfgread.h"
#include "screening/instrument_types.h"

/* State of loading one instrument file. */
struct instrument_loader {
    struct cfgread r;
    struct instrument *inst;          /* being filled; owned by the loader until returned */
    const config_setting_t **show_if; /* per item: its show_if setting or NULL; freed by caller */
    size_t cur;                       /* item whose show_if is being compiled */
    int method_known;                 /* scoring.method was valid */
    int items_ok;                     /* items is a non-empty list */
    int weights_ok;                   /* every item has a valid weight */
    int min_answered_line;            /* 0 when min_answered was not valid */
    int n_line;                       /* scoring.n, 0 when not valid */
    int clear_line;                   /* scoring.clear_at, 0 when not valid */
    size_t with_evidence;             /* items that declare `evidence` */
};

/* Reads `items` of the instrument group into l->inst. */
void instrument__parse_items(struct instrument_loader *l, const config_setting_t *group);

/* Compiles every show_if read by instrument__parse_items; all items must be read first. */
void instrument__compile_show_if(struct instrument_loader *l);

/* The functions show_if may call: every instrument's resolver borrows this table. */
extern const struct facts_fn instrument__show_if_fns[INSTRUMENT_FN__COUNT];

/* Frees what an item owns (not the item itself). */
void instrument__item_release(struct instrument_item *item);

/* Index of the item with this id among items[0..n), or -1; items without an id are skipped. */
int instrument__item_find(const struct instrument_item *items, size_t n, const char *id);

/*
 * Reads the evidence of one item from group s (an item of a definition, or
 * an entry of a class-mapping file): `evidence` (a class name or a list of
 * them) and `disclosure_kind`. it is the item (its kind and disclosure flag
 * decide what is allowed); the result goes to *mask and *kind. Returns 1 when
 * evidence is present (valid or not: each problem is reported with ctx), 0
 * when absent (reported when required).
 */
int instrument__parse_evidence(struct cfgread *r, const config_setting_t *s, const char *ctx,
                               const struct instrument_item *it, int required,
                               facts_evidence_mask *mask, enum facts_disclosure_kind *kind);

/* The static name tables, for messages that list what is allowed. */
const char *const *instrument__domain_names(size_t *n);
const char *const *instrument__kind_names(size_t *n);

#endif /* TRF_INSTRUMENT_ITEM_H */
