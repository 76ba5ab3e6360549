/*
 * ledger.h: the report ledger of a case as people read it (what was
 * reported, where, when it was delivered or why not yet, what came of it),
 * read once through trafficking.ledger_of_v1 (sql/trafficking/007), which
 * checks the case and audits the read. One reading serves `referral ledger`
 * and the Reports part of `case show`. Reads only.
 */
#ifndef TRF_LEDGER_H
#define TRF_LEDGER_H

#include "trf.h"

enum trf_ledger_view {
    /* `referral ledger`: every report ("reports"), then what routing did not make again and why
       ("not_made") */
    TRF_LEDGER_FULL,
    /* `case show`: per destination its latest report ("reports"): what was reported, on which
       basis, when delivered (or not yet: queued, held, delivery failed), its outcome */
    TRF_LEDGER_SUMMARY,
};

/*
 * Shows the ledger of case case_id (decimal text, borrowed) through ctx's
 * output as view says, each report offering its referral's page ("show
 * referral N"). CH_OK, or CH_ERROR after api->fail (a case the caller may
 * not see reads as not found).
 */
int trf_ledger_out(struct trf *t, struct ch_ctx *ctx, const char *case_id,
                   enum trf_ledger_view view);

#endif /* TRF_LEDGER_H */
