/*
 * bench_db.h: how the bench programs connect: CASEHOST_DB is the database
 * owner's conninfo (seeding, baselines); a person or service connects as its
 * own role by adding user= (the password comes from PGPASSFILE, as for the CLI).
 */
#ifndef BENCH_DB_H
#define BENCH_DB_H

#include <stdio.h>
#include <stdlib.h>

/* CASEHOST_DB with user=role appended (static storage; role NULL: the owner's). */
static inline const char *bench_conninfo(const char *role)
{
    static char buf[1024];
    const char *base = getenv("CASEHOST_DB");
    snprintf(buf, sizeof(buf), "%s%s%s", base ? base : "", role ? " user=" : "", role ? role : "");
    return buf;
}

#endif
