/*
 * bridge_rt_write.h: the casehost -> RT half of `casehost bridge rt`. Cases
 * linked to tickets owe those tickets writes (casehost.bridge_rt_outbox,
 * made in the transaction of the change); the bridge claims them with a
 * lease, sets two custom fields through RT's REST2 API (the neutral words
 * and the URL of the case's page) and posts a pointer comment when the case
 * needs the caseworker, then marks them sent. A failed write waits and is
 * tried again; none is dropped, and a comment is never posted twice (before
 * posting one again, RT's own record of the bridge's comments is read).
 */
#ifndef CASEHOST_BRIDGE_RT_WRITE_H
#define CASEHOST_BRIDGE_RT_WRITE_H

#include <stddef.h>

#include <libpq-fe.h>

#include "bridge_rt.h"

/*
 * Reads RT's ACL tables (never tries a write): the writeback user exists,
 * both custom fields apply to every watched queue, the user holds SeeQueue,
 * ShowTicket, CommentOnTicket, ShowTicketComments, SeeCustomField and
 * ModifyCustomField on each, and neither Everyone, Unprivileged nor the
 * Requestor role may see the custom fields or the comments there. Sets
 * r->rt_uid. 0, or -1 with every refusal in err; rights beyond those are
 * logged as warnings.
 */
int brt_check_rt_rights(struct brt_run *r, char *err, size_t errlen);

/*
 * Reads the REST2 token (the first line of the token file). 0, or -1 with
 * why in err.
 */
int brt_writer_open(struct brt_run *r, char *err, size_t errlen);
void brt_writer_close(struct brt_run *r);

/*
 * Delivers what is owed, a batch at a time, until nothing is ready (or the
 * rate limits hold the rest back). Dry run: says what it would write and
 * writes nothing anywhere. 0, or -1 with why in r->cli->ctx.err when
 * casehost's database failed (a failed REST2 call is no error: the write
 * is tried again later, and counted).
 */
int brt_deliver(struct brt_run *r);

#endif
