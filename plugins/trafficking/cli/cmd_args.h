/*
 * cmd_args.h: the values a person types after one of the plugin's verbs:
 * ids, whole numbers and dates. One reader each, so every command refuses the
 * same things in the same words ("case '12abc' is not a valid id (a positive
 * number)"); a command returns CH_USAGE (exit 2) for a refused value.
 * Reading never writes anything; the date check only asks the database.
 */
#ifndef TRF_CMD_ARGS_H
#define TRF_CMD_ARGS_H

#include <stdint.h>

#include "trf.h"

/*
 * Decimal digits only (no sign, no blanks, no trailing text) whose value is
 * in [lo, hi]; 0 and *out set, or -1 (also on overflow). Reports nothing.
 */
int trf_arg_whole(const char *s, long long lo, long long hi, long long *out);

/*
 * A positive id; what names it in the message ("case", "person"). 0, or -1
 * after api->fail: "missing case id" or "case '12abc' is not a valid id (a
 * positive number)".
 */
int trf_arg_id(struct trf *t, struct ch_ctx *ctx, const char *what, const char *s, int64_t *id);

/*
 * An option's whole number in [lo, hi]. 0, or -1 after api->fail: "--idle-ms
 * takes a whole number from 1 to 3600000, not 'x'".
 */
int trf_arg_number(struct trf *t, struct ch_ctx *ctx, const char *option, const char *s,
                   long long lo, long long hi, long long *out);

/*
 * A date or time option, checked by the host's one rule for dates
 * (casehost.time_input_v1: no infinity, epoch, BC or 5-digit years; 'now'
 * is fine) on api->conn(ctx). Returns CH_OK; CH_USAGE after api->fail naming
 * the option ("--expires: 'infinity' is not a date and time"); CH_ERROR when
 * the database failed. A refusal aborts an open transaction: return at once.
 */
int trf_arg_time(struct trf *t, struct ch_ctx *ctx, const char *option, const char *value);

#endif /* TRF_CMD_ARGS_H */
