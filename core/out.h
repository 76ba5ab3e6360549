/*
 * out.h: structured command output. Commands and plugins describe what they
 * show as objects, arrays and scalars; out_flush() renders it as JSON
 * (--json) or as text for people. Nothing here knows what a case is.
 */
#ifndef CASEHOST_OUT_H
#define CASEHOST_OUT_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

struct out;

/* A new document whose root is an object. Caller frees with out_free(). */
struct out *out_new(int json);
void out_free(struct out *o);

void out_object(struct out *o, const char *key);
void out_array(struct out *o, const char *key);
void out_end(struct out *o);
void out_str(struct out *o, const char *key, const char *value);
void out_int(struct out *o, const char *key, int64_t value);
void out_bool(struct out *o, const char *key, int value);
void out_message(struct out *o, const char *text);
void out_result(struct out *o, const char *key, const PGresult *res, int as_array);
/* Stores one row of res as members of the current object. */
void out_row(struct out *o, const PGresult *res, int row);

/* Renders the document; 0 or -1 on a write error. */
int out_flush(struct out *o, FILE *f);

#endif
