/*
 * casefacts.h: the case facts of one case, read from the host's tables in the
 * caller's transaction and turned into a fact vector for rules. Also knows
 * which case fields feed which fact, so a trigger fires again only when what
 * it reads has changed.
 */
#ifndef TRF_CASEFACTS_H
#define TRF_CASEFACTS_H

#include <stddef.h>
#include <stdint.h>

#include <casehost/plugin.h>

#include "rules/facts.h"
#include "rules/rule.h"
#include "screening/scoring.h"

struct casefacts {
    int64_t case_id;
    char state[8];
    char county[128];
    char gender[128];
    char dob[16];      /* "" when unknown */
    int estimated_age; /* -1 when none; the estimate grown to today */
    char today[16];
    int has_person;
    int runaway_start;    /* the case records a runaway episode */
    int runaway_returned; /* ... with a return time */
    int cw_history;
    int jj_history;
    int closed;      /* the case is closed */
    char flags[512]; /* ",a,b," so a flag is found as ",name," */
    struct scoring_age age;
};

/*
 * Reads case case_id (under row-level security) into cf. Returns 0, 1 when
 * the case does not exist for this agency, or -1 with a message in err.
 */
int casefacts_load(PGconn *conn, int64_t case_id, struct casefacts *cf, char *err, size_t errlen);

/*
 * Fills the case facts of facts[0 .. FACTS__COUNT-1] from cf (strings are
 * borrowed from cf). Screening facts stay null.
 */
void casefacts_fill(const struct casefacts *cf, struct rule_value *facts);

/* 1 when a change of case field `field` can change fact slot `slot`. */
int casefacts_field_feeds(const char *field, int slot);

#endif
