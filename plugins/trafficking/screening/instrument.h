/*
 * instrument.h: screening instrument definitions of the trafficking plugin,
 * loaded from the *.cfg files of conf/trafficking/instruments (one instrument per file).
 *
 * Loading validates everything and reports every problem with file:line[:col];
 * a set with any error is never returned. Never does I/O beyond reading the
 * definition files, and never changes a loaded instrument: screenings name
 * id + version + hash, so a definition is immutable once loaded.
 *
 * File format (libconfig):
 *   instrument = {
 *     id = "youth_quick"; version = 1; title = "..."; purpose = "..."; source = "...";
 *     population = { min_age = 12; max_age = 24; };
 *     mode = "interview";            # or "observation": staff-completed, never read aloud
 *     requires_training = false;     # optional, default false
 *     min_answered = 3;              # fewer yes/no/value answers -> incomplete
 *     scoring = { method = "any_yes"; };
 *             # or { method = "count_at_least"; n = 2; }
 *             # or { method = "weighted"; possible_at = 3; clear_at = 6; }
 *     items = (
 *       { id = "paid_for_sex"; domain = "sex_trafficking"; kind = "yes_no";
 *         prompt = "..."; key = true; disclosure = false; show_if = "age >= 12"; },
 *       { id = "where_slept"; domain = "minors"; kind = "choice";
 *         choices = ["home", "friend", "street"]; concern = ["street"]; prompt = "..."; },
 *       { id = "times_ran"; domain = "minors"; kind = "count"; concern_at = 2; prompt = "..."; }
 *     );
 *   };
 * key, disclosure and show_if are optional. weight (1..100) is required on
 * every item of a weighted instrument and refused elsewhere. disclosure is
 * for yes_no items only. show_if may name case facts and call indicator("item"),
 * answered("item") and domain_score("domain") about EARLIER items only.
 * @include is refused: the hash must cover the whole definition.
 *
 * Evidence classes (rules/facts.h "Evidence"): what a concern answer to the
 * item establishes, and all that routing may read from it.
 *   evidence = "risk";                          # one class, or a list:
 *   evidence = ["commercial_sex", "coercion"];  # a yes establishes each of them
 *   disclosure_kind = "unclear";                # sex, labour, both or unclear
 * A version declares evidence on every item or on none. 'risk' stands alone;
 * 'disclosure' is listed exactly on disclosure items, which also name their
 * disclosure_kind. A version written without classes (an earlier one, whose
 * text and hash must not change) gets them from a class-mapping file in
 * <dir>/classes/ (instrument_classes.h); a set in which some version has no
 * classes does not load.
 */
#define INSTRUMENT_CLASSES_DIR "classes" /* under the instruments folder */
#ifndef TRF_INSTRUMENT_H
#define TRF_INSTRUMENT_H

#include <stddef.h>

#include "cfg/report.h"
#include "screening/instrument_types.h"

/* Static names ("sex_trafficking", "count", "weighted", "observation"); NULL if out of range. */
const char *instrument_domain_name(enum instrument_domain d);
const char *instrument_kind_name(enum instrument_kind k);
const char *instrument_method_name(enum instrument_method m);
const char *instrument_mode_name(enum instrument_mode m);

/*
 * Loads one instrument file. Returns 0 and *out (caller frees with
 * instrument_free), or -1 with *out NULL after reporting every problem through
 * report (which may be NULL). path is copied.
 */
int instrument_load_file(const char *path, trf_report_fn report, void *ud, struct instrument **out);
void instrument_free(struct instrument *inst);

/*
 * Loads every *.cfg in dir, sorted by file name, checks that no id + version
 * is defined twice, then applies the class-mapping files of dir/classes and
 * checks that every version has its evidence classes. Returns 0 and *out
 * (caller frees with instrument_set_free), or -1 with *out NULL after
 * reporting every problem.
 */
int instrument_set_load(const char *dir, trf_report_fn report, void *ud,
                        struct instrument_set **out);
void instrument_set_free(struct instrument_set *set);

/*
 * The instrument with this id and version, or with the highest version when
 * version is 0; NULL if none. Borrowed from set.
 */
const struct instrument *instrument_set_find(const struct instrument_set *set, const char *id,
                                             int version);

/* Index of the item with this id, or -1. */
int instrument_item_index(const struct instrument *inst, const char *id);

/* Size of the fact vector show_if programs of inst read (FACTS__COUNT or more). */
size_t instrument_slot_count(const struct instrument *inst);

#endif /* TRF_INSTRUMENT_H */
