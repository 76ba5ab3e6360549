/*
 * bridge_rt.h: the RT -> casehost half of `casehost bridge rt`. It reads
 * RT's database as a read-only role (short REPEATABLE READ READ ONLY
 * transactions, no locks beyond a reader's) and turns new RT transactions on
 * tickets of watched queues into casehost cases through the host's own case
 * paths, so plugin hooks run. It never writes RT's database.
 */
#ifndef CASEHOST_BRIDGE_RT_H
#define CASEHOST_BRIDGE_RT_H

#include <stddef.h>

#include <libpq-fe.h>

#include "bridge_rt_cfg.h"
#include "cli.h"

struct brt_writer;

/* One bridge process: borrowed configuration and sessions, and its counts. */
struct brt_run {
    const struct brt_cfg *cfg; /* borrowed */
    struct cli *cli;           /* casehost: connection (as the bridge's service), loader, output */
    PGconn *rt;                /* RT's database as the read-only role; borrowed */
    char actor_role[128];      /* the role of cfg->act_as, which case writes run as */
    int dry_run;               /* roll every scan back after reporting it */
    long long created, linked, updated, closed, merged, ignored, failed, scans;
    struct brt_writer *writer; /* casehost -> RT (bridge_rt_write.h); NULL: writeback off */
    long long rt_uid;          /* the writeback user's id in RT */
    long long written, write_failed;
};

/*
 * Reads RT's catalogs (never tries a write): the connected role must not be
 * superuser nor BYPASSRLS, must hold no INSERT, UPDATE, DELETE, TRUNCATE,
 * REFERENCES or TRIGGER on any table of RT's schema, no CREATE on it, must
 * not be a member of a table owner, and must read the tables the bridge
 * reads. 0, or -1 with every problem found in err.
 */
int brt_check_rt_role(PGconn *rt, char *err, size_t errlen);

/*
 * The REST2 token file: a regular file, readable by its owner only (no group
 * or world bit), not empty. 0, or -1 with why in err.
 */
int brt_check_token_file(const char *path, char *err, size_t errlen);

/*
 * Makes RT's connection a reader that cannot slow RT: read-only by
 * default, short statement and lock timeouts. 0 or -1 with err.
 */
int brt_rt_session(PGconn *rt, char *err, size_t errlen);

/*
 * The checks made once against casehost: the session is a service, every
 * watched queue maps to its agency (file:line of a queue that does not) and
 * the act_as person is one it may act as. 0, or an exit code after saying why.
 */
int brt_check_casehost(struct brt_run *r);

/*
 * One scan: reads RT transactions above the stored watermark, handles each
 * ticket they touch (once), saves the new state with the cases in one
 * casehost transaction. *more is set when the batch was full. 0, or -1 with
 * why in r->cli->ctx.err (nothing was committed).
 */
int brt_scan(struct brt_run *r, int *more);

#endif
