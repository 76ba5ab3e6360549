/*
 * casefacts.h: one path from a case to its facts. trafficking.case_facts_v1
 * reads, in the caller's transaction and in one round trip, everything
 * screening triggers and routing look at; casefacts_from_json turns that one
 * answer into both the trigger facts and the routing input, so the two can
 * never disagree. Also knows which case fields feed which fact, so triggers
 * fire and routing runs again only when what they read has changed.
 */
#ifndef TRF_CASEFACTS_H
#define TRF_CASEFACTS_H

#include <stddef.h>
#include <stdint.h>

#include <casehost/plugin.h>
#include <jansson.h>

#include "routing/routing.h"
#include "rules/facts.h"
#include "rules/rule.h"
#include "screening/scoring.h"

/*
 * The case facts of one case. Owns no memory: in keeps only the case's own
 * facts (age, gender, place, flags, history); its screening, indicators,
 * consents and safe channels are left empty (routing reads those through
 * casefacts_query's routing input).
 */
struct casefacts {
    int64_t case_id;
    int closed;              /* the case is closed */
    struct scoring_age age;  /* today, by the one age rule (scoring_age_of) */
    struct routing_input in; /* the case's facts as routing reads them, case part only */
};

/*
 * Turns the answer of trafficking.case_facts_v1 (j, borrowed) into cf (may
 * be NULL) and in (may be NULL; initialised here, release it with
 * routing_input_release also on failure). Unknown members, wrong types and
 * impossible values are errors. Returns 0, or -1 with a message naming the
 * member in err.
 */
int casefacts_from_json(const json_t *j, struct casefacts *cf, struct routing_input *in, char *err,
                        size_t errlen);

/*
 * Reads case case_id (under row-level security) with one call of
 * trafficking.case_facts_v1 into cf and/or in, as casefacts_from_json.
 * Returns 0, 1 when the case does not exist for this agency, or -1 with the
 * message in err.
 */
int casefacts_query(PGconn *conn, int64_t case_id, struct casefacts *cf, struct routing_input *in,
                    char *err, size_t errlen);

/* casefacts_query for the case facts alone. */
int casefacts_load(PGconn *conn, int64_t case_id, struct casefacts *cf, char *err, size_t errlen);

/*
 * Fills the case facts of facts[0 .. FACTS__COUNT-1] from cf (strings are
 * borrowed from cf). Screening facts and the event stay null.
 */
void casefacts_fill(const struct casefacts *cf, struct rule_value *facts);

/* 1 when a change of case field `field` can change fact slot `slot` (< FACTS__COUNT). */
int casefacts_field_feeds(const char *field, int slot);

/*
 * 1 when a change of case field `field` puts another person behind the case,
 * whose consents and safe contact routing reads too.
 */
int casefacts_field_moves_person(const char *field);

#endif
