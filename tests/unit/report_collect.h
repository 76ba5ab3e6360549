/*
 * report_collect.h: a trf_report_fn for tests that keeps every report as the
 * host would print it ("file:line[:col]: message"), so tables can assert exact text.
 *
 * Test-only; never used by plugin code.
 */
#ifndef REPORT_COLLECT_H
#define REPORT_COLLECT_H

#include <check.h>
#include <stdio.h>

#include "screening/instrument.h"

#define COLLECT_MAX 16

struct collected {
    int n; /* reports received; may exceed COLLECT_MAX */
    char msg[COLLECT_MAX][600];
};

/* Line 0 is the whole file and col 0 no column, as report.h says. */
static void collect_report(void *ud, const char *file, int line, int col, const char *msg)
{
    struct collected *c = ud;
    if (c->n < COLLECT_MAX) {
        if (col > 0)
            snprintf(c->msg[c->n], sizeof(c->msg[0]), "%s:%d:%d: %s", file, line, col, msg);
        else if (line > 0)
            snprintf(c->msg[c->n], sizeof(c->msg[0]), "%s:%d: %s", file, line, msg);
        else
            snprintf(c->msg[c->n], sizeof(c->msg[0]), "%s: %s", file, msg);
    }
    c->n++;
}

/* Asserts that c holds exactly the NULL-terminated list want, in order. */
#define COLLECT_ASSERT(c, want)                                                                    \
    do {                                                                                           \
        int n_want_ = 0;                                                                           \
        while ((want)[n_want_] != NULL)                                                            \
            n_want_++;                                                                             \
        for (int k_ = 0; k_ < (c)->n && k_ < COLLECT_MAX; k_++)                                    \
            if (k_ >= n_want_ || strcmp((c)->msg[k_], (want)[k_]) != 0)                            \
                ck_abort_msg("report %d:\n  got  %s\n  want %s", k_, (c)->msg[k_],                 \
                             k_ < n_want_ ? (want)[k_] : "(nothing)");                             \
        ck_assert_int_eq((c)->n, n_want_);                                                         \
    } while (0)

/* Loads every instrument in dir, which must load without a single report. */
static inline struct instrument_set *collect_load_instruments(const char *dir)
{
    struct collected c = {0};
    struct instrument_set *set = NULL;
    int rc = instrument_set_load(dir, collect_report, &c, &set);
    ck_assert_msg(rc == 0 && c.n == 0, "%s: %d reports, first: %s", dir, c.n,
                  c.n > 0 ? c.msg[0] : "");
    ck_assert_ptr_nonnull(set);
    return set;
}

#endif /* REPORT_COLLECT_H */
