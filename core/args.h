/*
 * args.h: the one argument parser. Every typed command (the host's and the
 * plugins') declares its arguments in a ch_command_spec; this reads argv
 * against it, says exactly what is wrong, and prints usage and help from the
 * same table. Pure: no database, no output but the FILE it is given.
 */
#ifndef CASEHOST_ARGS_H
#define CASEHOST_ARGS_H

#include <stddef.h>
#include <stdio.h>

#include <casehost/plugin.h>

/* The i-th declared argument (specs carry their element size: tables may grow). */
const struct ch_arg *args_at(const struct ch_command_spec *spec, size_t i);

/*
 * Parses argv[from..argc) against spec into vals (spec->n_args of them,
 * zeroed here). Returns 0, or -1 with the message in err ("case: 'abc' is
 * not an id", "unknown option '--x'", "missing case"). Text values point
 * into argv; args_release frees the lists of repeated arguments.
 */
int args_parse(const struct ch_command_spec *spec, int argc, char **argv, int from,
               struct ch_value *vals, char *err, size_t errlen);
void args_release(const struct ch_command_spec *spec, struct ch_value *vals);

/*
 * The same without requiring the required arguments: what a form is
 * prefilled with ("note add 12" opens the note form for case 12). Every
 * return, failed or not, is released with args_release.
 */
int args_prefill(const struct ch_command_spec *spec, int argc, char **argv, int from,
                 struct ch_value *vals, char *err, size_t errlen);

/* "screen start CASE [--instrument ID]" */
void args_usage(const struct ch_command_spec *spec, FILE *f);

/* The usage line, the help line, then one line per argument. */
void args_help(const struct ch_command_spec *spec, FILE *f);

/*
 * Checks a table when it is registered: names well formed (positional a
 * lower-case word, option "--word"), no name twice, enums with values, a
 * repeated or optional positional only last, int bounds ordered. 0, or -1
 * with why in err.
 */
int args_check_spec(const struct ch_command_spec *spec, char *err, size_t errlen);

#endif /* CASEHOST_ARGS_H */
