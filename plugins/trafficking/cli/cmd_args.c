/*
 * cmd_args.c: reads ids, whole numbers and dates from a plugin command's
 * arguments with one rule each, and says which argument was wrong.
 * Never accepts what strtoll would quietly fix up (" 7", "+7", "12abc",
 * 99999999999999999999); never writes to the database.
 */
#include "cli/cmd_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int trf_arg_whole(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v;
    if (s == NULL || !(s[0] >= '0' && s[0] <= '9'))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int trf_arg_id(struct trf *t, struct ch_ctx *ctx, const char *what, const char *s, int64_t *id)
{
    long long v;
    if (s == NULL) {
        t->api->fail(ctx, "missing %s id", what);
        return -1;
    }
    if (trf_arg_whole(s, 1, INT64_MAX, &v) != 0) {
        t->api->fail(ctx, "%s '%s' is not a valid id (a positive number)", what, s);
        return -1;
    }
    *id = v;
    return 0;
}

int trf_arg_number(struct trf *t, struct ch_ctx *ctx, const char *option, const char *s,
                   long long lo, long long hi, long long *out)
{
    if (trf_arg_whole(s, lo, hi, out) != 0) {
        t->api->fail(ctx, "%s takes a whole number from %lld to %lld, not '%s'", option, lo, hi,
                     s != NULL ? s : "");
        return -1;
    }
    return 0;
}

int trf_arg_time(struct trf *t, struct ch_ctx *ctx, const char *option, const char *value)
{
    static const char sql[] = "SELECT casehost.time_input_v1($1, $2)";
    const char *params[2] = {option, value};
    PGresult *r = PQexecParams(t->api->conn(ctx), sql, 2, NULL, params, NULL, NULL, 0);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    int rc = CH_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        /* 22007 is the function's refusal; anything else is the database failing. */
        rc = state != NULL && strcmp(state, "22007") == 0 ? CH_USAGE : CH_ERROR;
        t->api->fail(ctx, "%s%s%s%s", rc == CH_USAGE ? "" : "cannot check the date: ",
                     msg != NULL ? msg : PQresultErrorMessage(r), hint != NULL ? "\nhint: " : "",
                     hint != NULL ? hint : "");
    }
    PQclear(r);
    return rc;
}
