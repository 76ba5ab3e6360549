/*
 * routing_test.h: routing fixtures: sample cases with the referrals an author
 * expects, run through the routing engine, so a rule change is checked before
 * it routes a real case. Used by `routing test` and the unit tests.
 *
 * Never touches the database; reads only the fixture file.
 *
 * File format (libconfig):
 *   fixtures = (
 *     { name = "adult_positive_no_consent";      # unique identifier
 *       note = "DOMAIN rule 5";                   # optional
 *       case = { age = 30; age_known = true; state = "CA"; ... };   # routing input
 *       expect = {
 *         referrals = (                           # exactly these, in any order
 *           { destination = "le_ca"; basis = "consent"; due_hours = 72;
 *             state = "pending_consent";
 *             rule = "...";  urgency = "72h";  consent_id = 7; }    # last three optional
 *         );
 *         matched = ["rule_a", "rule_b"];         # optional: exactly the rules that matched
 *         not_used = ( { destination = "nhth"; reason = "unsafe channel"; } );
 *                       # optional: each must be among the unused, reason a substring;
 *                       # destination = "-" for "no destination of the kind"
 *         ledger = ( { destination = "le_ca"; action = "already_reported";
 *                      reason = "already reported to le_ca on 2026-11-02"; } );
 *                       # optional: what the report ledger makes of a proposed referral,
 *                       # held against the case's ledger, declines, consents, episode and
 *                       # now (routing_ledger_judge, the SQL's report_verdict in C): action
 *                       # new, open, replaces (made) or already_reported, declined (not
 *                       # made); reason, optional, a substring. Referrals not listed are
 *                       # not checked.
 *       };
 *     }
 *   );
 * The case group has the members of routing_input_from_setting.
 */
#ifndef TRF_ROUTING_TEST_H
#define TRF_ROUTING_TEST_H

#include <stdio.h>

#include "cfg/report.h"
#include "routing/routing.h"

struct routing_test_result {
    int fixtures; /* fixtures run */
    int failed;   /* fixtures whose decision did not match */
};

/*
 * Runs every fixture of path against cfg (borrowed). For each fixture that
 * does not match, writes "fixture 'name' (file:line): ..." and one line per
 * difference (expected vs actual referral, basis, state, due, rules matched,
 * unused reasons, ledger verdicts) to out (may be NULL). Problems in the fixture file itself go
 * to report with file:line. Returns 0 when every fixture matches, 1 when some
 * do not, -1 when the file has errors (nothing is run then).
 */
int routing_test_run(const struct routing_config *cfg, const char *path, FILE *out,
                     trf_report_fn report, void *ud, struct routing_test_result *res);

#endif /* TRF_ROUTING_TEST_H */
