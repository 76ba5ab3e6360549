/*
 * instrument_classes.h: shared-internal interface of the class-mapping files
 * (instrument_classes.c) for instrument.c. A class-mapping file gives the
 * evidence classes of an earlier instrument version, whose definition (and
 * so its hash, which stored screenings name) must never change.
 *
 * File format (libconfig), one per earlier version, in <instruments>/classes/:
 *   classes = {
 *     instrument = "youth_quick"; version = 1;
 *     hash = "3f2a...";            # SHA-256 of exactly the definition these classes are for
 *     items = (
 *       { id = "offer_not_as_promised"; evidence = "fraud"; },
 *       { id = "someone_making_you_now"; evidence = ["disclosure", "coercion"];
 *         disclosure_kind = "unclear"; }
 *     );
 *   };
 * Every item of that version is mapped exactly once, under the same rules as
 * a definition's own `evidence` (instrument.h).
 */
#ifndef TRF_INSTRUMENT_CLASSES_H
#define TRF_INSTRUMENT_CLASSES_H

#include "cfg/report.h"
#include "screening/instrument_types.h"

/*
 * Reads the class-mapping file path and, when it has no problem, gives its
 * classes to the instrument version of set it names. Every problem is
 * reported with file:line. Returns the number of problems (0: applied).
 */
int instrument__classes_load_file(struct instrument_set *set, const char *path,
                                  trf_report_fn report, void *ud);

#endif /* TRF_INSTRUMENT_CLASSES_H */
