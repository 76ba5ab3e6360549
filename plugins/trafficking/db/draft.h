/*
 * draft.h: the answers of a screening still being asked, kept per case and
 * instrument (016_screening_drafts.sql) so that an interview resumes after a
 * new login: saved by `screen step`, read back by `screen resume`, offered
 * on the case page, thrown away by `screen discard`, purged by the tick
 * (retention.h). A draft is never scored, routed or reported. Runs on the caller's
 * transaction; never commits.
 */
#ifndef TRF_DRAFT_H
#define TRF_DRAFT_H

#include <stdint.h>

#include <jansson.h>

#include "trf.h"

/* A draft as read back; screening_draft_release frees what it holds. */
struct screening_draft {
    char *instrument; /* its instrument id */
    int version;      /* the instrument version its answers were given under */
    int answered;     /* how many answers it holds */
    char *saved_by;   /* who saved it last ("" when the name cannot be read) */
    char *saved_at;   /* when, "YYYY-MM-DD HH:MM" */
    json_t *answers;  /* object: item id -> answer text, as trf_answer_parse reads it */
};

/*
 * Saves answers (an object of item id to answer text, borrowed) as the draft
 * of case_id for inst, replacing the one there was; audited. Returns how
 * many answers were saved, or -1 with the database's message in err.
 */
int screening_draft_save(PGconn *conn, int64_t case_id, const struct instrument *inst,
                         const json_t *answers, char *err, size_t errlen);

/*
 * Reads the draft of case_id for instrument (NULL: the case's latest) into
 * *d; a draft found is audited as a read. Returns 1, 0 when there is none
 * (*d is empty: release it all the same), or -1 with the message in err.
 */
int screening_draft_load(PGconn *conn, int64_t case_id, const char *instrument,
                         struct screening_draft *d, char *err, size_t errlen);
void screening_draft_release(struct screening_draft *d);

/*
 * Throws away the draft of case_id for instrument (NULL: every draft of the
 * case); audited. Returns how many went, or -1 with the message in err.
 */
int screening_draft_discard(PGconn *conn, int64_t case_id, const char *instrument, char *err,
                            size_t errlen);

/*
 * The drafts of case_id (decimal text), latest first, without their answers:
 * instrument, answered, saved_by, saved_at. The result (caller PQclear()s
 * it), or NULL with the message in err.
 */
PGresult *screening_drafts_of(PGconn *conn, const char *case_id, char *err, size_t errlen);

#endif /* TRF_DRAFT_H */
