/*
 * migrate.h: applies sql/<component>/NNN_name.sql files in order, each in its
 * own transaction, and remembers each file's checksum. An applied migration
 * whose file changed is an error naming the file, never a silent re-run.
 */
#ifndef CASEHOST_MIGRATE_H
#define CASEHOST_MIGRATE_H

#include <libpq-fe.h>

#include "hostcfg.h"
#include "out.h"

/* Applies pending migrations of the core and of every configured plugin. 0 or -1 (err set). */
int migrate_apply(PGconn *c, const struct hostcfg *hc, struct out *o, char *err, size_t errlen);

/* Lists applied and pending migrations; 0 or -1. */
int migrate_status(PGconn *c, const struct hostcfg *hc, struct out *o, char *err, size_t errlen);

#endif
