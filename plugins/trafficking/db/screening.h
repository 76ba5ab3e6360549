/*
 * screening.h: screenings in the database: suggestions from triggers, and
 * submitting a finished screening (answers, score, state, history, audit) as
 * one statement. Runs on the caller's transaction; never commits.
 */
#ifndef TRF_SCREENING_H
#define TRF_SCREENING_H

#include <stdint.h>

#include "db/casefacts.h"
#include "screening/scoring.h"
#include "trf.h"

/* A finished screening, ready to store. Everything is borrowed. */
struct screening_submit {
    int64_t case_id;
    const struct instrument *inst;
    const struct answer *answers;          /* inst->n_items effective answers */
    const struct scoring_outcome *outcome; /* NULL when declined */
    const struct scoring_age *age;
    const char *decline_reason; /* set when declined */
    int64_t supersedes;         /* 0 for none */
};

/*
 * Stores s. Returns the screening id (> 0), or -1 with the database's message
 * in err. The open suggestion for the same instrument, if any, is fulfilled.
 */
int64_t screening_store(PGconn *conn, const struct screening_submit *s, char *err, size_t errlen);

/* When a suggested screening is due ("YYYY-MM-DD HH:MM"), and whether it is already overdue. */
struct screening_due {
    char at[32];
    int overdue;
};

/*
 * Suggests a screening with inst and trigger t for case_id, due t->due_hours
 * after t->due_from (the database's clock and the case's times). Returns the
 * new id, 0 when an open one already existed, or -1 with err set; *due is set
 * unless -1.
 */
int64_t screening_suggest(PGconn *conn, int64_t case_id, const struct trigger *t,
                          struct screening_due *due, char *err, size_t errlen);

/* The state a finished screening gets: "completed", "stopped" or "declined". */
const char *screening_final_state(const struct scoring_outcome *o);

/*
 * The case's part of `case show` (trf_render_case) and of `screen list`: its
 * screenings, reports and determination, and the next steps (resume the
 * answers saved so far; screen now or record a decline when one is due;
 * each screening's page; from case show the case's screenings, else the
 * case). CH_OK, or CH_ERROR after api->fail.
 */
int screening_render(struct trf *t, struct ch_ctx *ctx, int64_t case_id, int in_case_show);

#endif
