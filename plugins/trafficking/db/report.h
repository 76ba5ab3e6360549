/*
 * report.h: the agency reports (screenings, referrals, deadlines, equity,
 * consent) as the database computes them. Each report is one statement that
 * groups, counts and takes percentiles in SQL over the caller's rows
 * (row-level security keeps them to the agency; a caseworker's to their own
 * work); nothing is fetched to be counted here. Values reach SQL only as
 * parameters. Never writes, never audits (the command does).
 */
#ifndef TRF_DB_REPORT_H
#define TRF_DB_REPORT_H

#include <stddef.h>

#include <casehost/plugin.h>

/* One report: its name, the key its rows are emitted under and how it groups. */
struct report_def {
    const char *name;      /* "screenings": the sub of `report` */
    const char *title;     /* of its chart: what the bars count */
    const char *const *by; /* what --by allows, NULL-terminated; the first is the default */
    const char *sql;       /* $1 from, $2 to (dates or NULL), $3 by: see report_run */
    /* A second table of the same filters (deadlines: runaway returns), or NULL. */
    const char *extra_key;
    const char *extra_sql;
};

/* What --by allows for each report, NULL-terminated; the first is the default. */
extern const char *const report_screenings_by[];
extern const char *const report_referrals_by[];
extern const char *const report_deadlines_by[];
extern const char *const report_equity_by[];
extern const char *const report_consent_by[];

/* The five reports. */
extern const struct report_def report_defs[];
extern const size_t report_n_defs;

/* The report named name, or NULL. */
const struct report_def *report_find(const char *name);

/*
 * The name of the grouping column for a --by value: "period" for week and
 * month (a bar per period), else the value itself. Static storage.
 */
const char *report_group_label(const char *by);

/*
 * Runs report d on conn from day from to day to (YYYY-MM-DD or 'today' in
 * the session's time zone; NULL: open ended), grouped by by (one of d->by;
 * NULL: the default). The result's first column is the group (NULL in the
 * total row), its last column "total" is true on exactly one row, the
 * totals, which comes last; between them the figures, integers or numbers
 * of one decimal. Returns the result (caller PQclear()s) or NULL with the
 * message in err. *usage is set to 1 when the call itself was wrong (from
 * after to, a --by the report does not know): a person's mistake, not the
 * database's.
 */
PGresult *report_run(PGconn *conn, const struct report_def *d, const char *from, const char *to,
                     const char *by, int *usage, char *err, size_t errlen);

/* The same for d->extra_sql: one row of totals (caller PQclear()s), or NULL with err set. */
PGresult *report_run_extra(PGconn *conn, const struct report_def *d, const char *from,
                           const char *to, char *err, size_t errlen);

#endif /* TRF_DB_REPORT_H */
