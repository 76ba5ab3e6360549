/*
 * bench_db.h: how the bench programs connect: CASEHOST_DB is the database
 * owner's conninfo (seeding, baselines); a person or service connects as its
 * own role by adding user= (the password comes from PGPASSFILE, as for the CLI);
 * and the bare INSERT every commit ratio is measured against.
 */
#ifndef BENCH_DB_H
#define BENCH_DB_H

#include <stdio.h>
#include <stdlib.h>

#include "db.h"

/* CASEHOST_DB with user=role appended (static storage; role NULL: the owner's). */
static inline const char *bench_conninfo(const char *role)
{
    static char buf[1024];
    const char *base = getenv("CASEHOST_DB");
    snprintf(buf, sizeof(buf), "%s%s%s", base ? base : "", role ? " user=" : "", role ? role : "");
    return buf;
}

/*
 * One autocommitted single-row INSERT into bench.baseline (made by bench.sh)
 * on c (borrowed): the baseline every commit ratio is measured against. 0, or
 * -1 after saying why on stderr, prefixed with who.
 */
static inline int bench_baseline_insert(PGconn *c, const char *who)
{
    static const char sql[] = "INSERT INTO bench.baseline (agency_id, title) VALUES ($1, $2)";
    const char *params[2] = {"1", "baseline row"};
    char err[512];
    if (db_run(c, sql, 2, params, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: baseline: %s\n", who, err);
        return -1;
    }
    return 0;
}

#endif
