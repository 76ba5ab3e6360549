/*
 * cases.h: the case operations themselves, apart from any command line: each
 * runs one casehost.* SQL function and then the plugins' hooks on the same
 * connection, inside the caller's open transaction. The caller commits or
 * rolls back; nothing here does either.
 */
#ifndef CASEHOST_CASES_H
#define CASEHOST_CASES_H

#include <stdint.h>

#include "host.h"
#include "loader.h"

enum { CASE_DB_ERROR = -1, CASE_HOOK_ERROR = -2 };

/* Creates a case from a JSON object of fields; *id gets its id. 0 or CASE_*_ERROR (ctx->err). */
int case_create(struct ch_ctx *ctx, struct loader *l, const char *fields_json, int64_t *id);

/*
 * Updates (closing 0, arg = JSON fields) or closes (closing 1, arg = reason)
 * case id. *changes gets the (field, old_value, new_value) rows; caller
 * PQclear()s it. Hooks run only when something changed.
 */
int case_modify(struct ch_ctx *ctx, struct loader *l, int64_t id, int closing, const char *arg,
                PGresult **changes);

/* Adds a note; *note_id gets its id. */
int case_note(struct ch_ctx *ctx, struct loader *l, int64_t case_id, const char *body,
              int64_t *note_id);

#endif
