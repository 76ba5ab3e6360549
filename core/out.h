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
/*
 * Asks for a chart of the array emitted under key at the root (plugin.h,
 * struct ch_chart; members are read within chart->size and copied). One
 * chart per document: a later call replaces it. A hint without key or x,
 * or small multiples without facet, records no chart; a kind this host does
 * not know (a newer plugin's) is drawn as bars. Text and JSON are
 * unchanged by it; the HTML page and out_flush_svg draw it.
 */
void out_chart(struct out *o, const char *key, const struct ch_chart *chart);
/* 1 when o holds a chart hint. */
int out_has_chart(const struct out *o);
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
 * As out_flush_html; with csv_argv (the command that made o, verb first,
 * NULL-terminated) a figure holding a chart also links to its CSV
 * (/run?a=ARGV...&format=csv) when every word may sit in an address.
 */
int out_flush_html_page(struct out *o, FILE *f, const char *csrf, const char *const *csv_argv);

/*
 * The document's table as CSV (RFC 4180: a header row of the member names,
 * CRLF line ends, a field quoted when it holds a comma, a quote, CR or LF,
 * quotes doubled; UTF-8 as it is, no byte-order mark). The table is the
 * array the chart names (empty: the header of the columns the chart names),
 * else the one root array of objects (an empty array without a chart is
 * no table: it may as well be a list of words). A text cell
 * starting with '=', '+', '-', '@', a tab or CR is written with a single
 * quote before it, so a spreadsheet shows it as text and never runs it as
 * a formula; numbers are written as numbers. null is an empty field,
 * booleans "yes"/"no", a nested value its compact JSON. Writes nothing and
 * returns -1 with why in err when there is no table (or several and no
 * chart); -1 on a write error too. 0 when written.
 */
int out_flush_csv(struct out *o, FILE *f, char *err, size_t errlen);
/* 1 when o holds the table out_flush_csv writes, else 0 with why in err. */
int out_has_table(const struct out *o, char *err, size_t errlen);

/*
 * The chart as a standalone SVG document (svg.h). Writes nothing and
 * returns -1 with why in err when o holds no chart or its array is
 * missing; -1 on a write error. 0 when written.
 */
int out_flush_svg(struct out *o, FILE *f, char *err, size_t errlen);

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
