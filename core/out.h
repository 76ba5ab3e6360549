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

#include <casehost/plugin.h>

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
/* A line of prose (text borrowed, copied): printed after the fields, "messages" in JSON. */
void out_message(struct out *o, const char *text);
/*
 * The root's "messages", "alerts" and "actions" belong to out_message,
 * out_alert and out_action: a command's own root member of one of those
 * names is replaced by them. In the three functions below, strings and
 * arrays are borrowed and copied; a NULL string is "-" in text, null in JSON.
 *
 * An alert: printed before everything else in text ("DANGER: ..." between
 * two lines of '!', "WARNING: ...", "note: ..."), {"severity": "danger" |
 * "warning" | "info", "text"} in the root's "alerts" in JSON. A severity
 * this host does not know is shown as danger.
 */
void out_alert(struct out *o, enum ch_severity sev, const char *text);
/*
 * An action the person can take next: argv NULL-terminated, verb first
 * (NULL: no command). Printed last in text as "  -> LABEL: casehost ARGV..."
 * with arguments quoted for a POSIX shell; {"label", "argv", "command"} in the
 * root's "actions" in JSON ("argv" and "command" null without argv).
 */
void out_action(struct out *o, const char *label, const char *const *argv);
/*
 * A step form under key: {"type": "form", "title", "questions": [{"id",
 * "prompt", "choices" (null: free text), "help"}], "argv"}. Only the members
 * within each question's size are read; the array's stride is q[0].size.
 * Text shows the title, the numbered questions and the command line that
 * answers them (argv plus "ID=CHOICE" or "ID=TEXT" per question).
 */
void out_form(struct out *o, const char *key, const char *title, const struct ch_question *q,
              size_t n, const char *const *argv);
void out_result(struct out *o, const char *key, const PGresult *res, int as_array);
/* Stores one row of res as members of the current object. */
void out_row(struct out *o, const PGresult *res, int row);

/* Renders the document; 0 or -1 on a write error. */
int out_flush(struct out *o, FILE *f);

/*
 * Renders the document as an HTML fragment (no <html> or <body>: the page
 * around it is the server's), every value through the html_* escapers:
 * alerts first (danger as role="alert" class="alert danger", the text
 * unmissable), then the fields (an object as a definition list, an array of
 * objects as a table with a header row, an array of scalars as a list),
 * messages as paragraphs, step forms as a form posting to /run (hidden
 * _csrf and "_argv" fields, one fieldset per question: radio buttons for
 * choices, a text input without, named ":ID": webform.h), and actions last as
 * links to /run?a=ARGV0&a=ARGV1... (GET: the server shows the command's form
 * prefilled, or runs it when it only shows). csrf is the session's token.
 * 0 or -1 on a write error.
 */
int out_flush_html(struct out *o, FILE *f, const char *csrf);

/*
 * Prints only the alerts, as text, to f: a command that fails after raising
 * one ("call 911 now") still shows it, on standard error. 0 or -1.
 */
int out_flush_alerts(struct out *o, FILE *f);

/* How many messages o holds (a long-running command logs the count of each cycle's). */
size_t out_message_count(const struct out *o);

/* 1 when o holds no field, message, alert or action: nothing worth printing. */
int out_is_empty(const struct out *o);

#endif
