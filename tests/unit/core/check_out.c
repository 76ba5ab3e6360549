/*
 * check_out.c: the output document rendered as JSON and as text: nested
 * objects as sections, arrays of objects as tables, null, booleans, messages,
 * and out_result's typing of PostgreSQL columns (results built with libpq's
 * PQmakeEmptyPGresult, so no server is needed). Asserts exact text, and that
 * control characters in values reach a terminal only as visible escapes
 * while JSON keeps every value exact. Alerts, actions and forms: alerts
 * print first whenever they were raised, actions paste into a shell,
 * forms read only the question members the caller's struct has.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "out.h"

/* Renders o into a new string; caller frees. */
static char *render(struct out *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(out_flush(o, mem), 0);
    fclose(mem);
    return buf;
}

/* PostgreSQL type oids, as pg_type has them. */
enum {
    T_BOOL = 16,
    T_INT8 = 20,
    T_INT2 = 21,
    T_INT4 = 23,
    T_TEXT = 25,
    T_JSON = 114,
    T_NUMERIC = 1700,
    T_JSONB = 3802
};

struct col {
    const char *name;
    unsigned oid;
};

/*
 * A result with the given columns and rows (ncols values per row, row after
 * row; NULL is SQL NULL), as a query would return it. Caller PQclear()s.
 */
static PGresult *result(const struct col *cols, int ncols, const char *const *cells, int nrows)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc att[16];
    ck_assert_ptr_nonnull(res);
    ck_assert_int_le(ncols, 16);
    memset(att, 0, sizeof(att));
    for (int c = 0; c < ncols; c++) {
        att[c].name = (char *)cols[c].name;
        att[c].typid = cols[c].oid;
        att[c].typlen = -1;
        att[c].atttypmod = -1;
    }
    ck_assert_int_eq(PQsetResultAttrs(res, ncols, att), 1);
    for (int r = 0; r < nrows; r++)
        for (int c = 0; c < ncols; c++) {
            const char *v = cells[r * ncols + c];
            ck_assert_int_eq(PQsetvalue(res, r, c, (char *)v, v ? (int)strlen(v) : -1), 1);
        }
    return res;
}

/* ------------------------------------------------------- documents --- */

static void doc_scalars(struct out *o)
{
    out_str(o, "title", "Runaway return");
    out_int(o, "case_id", 7);
    out_bool(o, "urgent", 1);
    out_bool(o, "closed", 0);
    out_str(o, "county", NULL);
    out_int(o, "big", INT64_MAX);
}

static void doc_nested(struct out *o)
{
    out_int(o, "case", 3);
    out_object(o, "person");
    out_str(o, "given_name", "Jo");
    out_int(o, "age", 15);
    out_object(o, "placement");
    out_str(o, "kind", "foster home");
    out_end(o);
    out_end(o);
    out_str(o, "status", "open"); /* back at the root after out_end */
}

static void doc_table(struct out *o)
{
    out_array(o, "cases");
    out_object(o, NULL);
    out_int(o, "id", 1);
    out_str(o, "status", "open");
    out_str(o, "title", "Long title");
    out_str(o, "assignee", NULL);
    out_end(o);
    out_object(o, NULL);
    out_int(o, "id", 12);
    out_str(o, "status", "in_progress");
    out_str(o, "title", "T");
    out_str(o, "assignee", "a_worker");
    out_end(o);
    out_end(o);
}

/* Keys are ignored inside arrays; an array of scalars is one line of text. */
static void doc_scalar_array(struct out *o)
{
    out_array(o, "flags");
    out_str(o, "ignored", "recruitment");
    out_str(o, NULL, "runaway");
    out_bool(o, NULL, 1);
    out_end(o);
}

/* A list opened with out_array and left empty says so, instead of looking like a value. */
static void doc_empty_list(struct out *o)
{
    out_array(o, "cases");
    out_end(o);
}

/* Messages go to the root wherever they are written, and print last as text. */
static void doc_messages(struct out *o)
{
    out_object(o, "case");
    out_int(o, "id", 4);
    out_message(o, "case 4 created");
    out_end(o);
    out_message(o, "assigned to a_worker");
    out_str(o, "note", "x");
}

static const struct col typed_cols[] = {
    {"id", T_INT4},     {"total", T_INT8},   {"delta", T_INT2},    {"urgent", T_BOOL},
    {"closed", T_BOOL}, {"answers", T_JSON}, {"tags", T_JSONB},    {"name", T_TEXT},
    {"county", T_TEXT}, {"consent", T_BOOL}, {"score", T_NUMERIC}, {"raw", T_JSON},
};
#define N_TYPED (int)(sizeof(typed_cols) / sizeof(typed_cols[0]))

static const char *const typed_rows[] = {
    "7",    "9007199254740993", "-3", "t", "f", "{\"q1\": [1, 2]}", "[\"a\"]", "Jo", NULL, NULL,
    "1.50", "not json",
};

/* One row as an object: each column keeps its type; NULL of any type is null. */
static void doc_result_row(struct out *o)
{
    PGresult *res = result(typed_cols, N_TYPED, typed_rows, 1);
    out_result(o, "person", res, 0);
    PQclear(res);
}

static void doc_result_rows(struct out *o)
{
    static const struct col cols[] = {
        {"id", T_INT8}, {"interpreter_needed", T_BOOL}, {"family_name", T_TEXT}};
    static const char *const rows[] = {"1", "t", "Ng", "2", "f", NULL};
    PGresult *res = result(cols, 3, rows, 2);
    out_result(o, "people", res, 1);
    PQclear(res);
}

/* out_row puts the row's columns into the object currently open. */
static void doc_out_row(struct out *o)
{
    static const struct col cols[] = {{"id", T_INT4}, {"status", T_TEXT}};
    static const char *const rows[] = {"5", "open", "6", "closed"};
    PGresult *res = result(cols, 2, rows, 2);
    out_object(o, "case");
    out_row(o, res, 1);
    out_end(o);
    PQclear(res);
}

static void doc_empty_result(struct out *o)
{
    static const struct col cols[] = {{"id", T_INT4}};
    PGresult *res = result(cols, 1, NULL, 0);
    out_result(o, "person", res, 0);
    PQclear(res);
}

/* ------------------------------------------- alerts, actions, forms --- */

#define RULE "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"

static const char *const yes_no_unsure[] = {"yes", "no", "unsure", NULL};
static const char *const answer_argv[] = {"screen", "answer", "4", NULL};

static const struct ch_question safety_questions[] = {
    {sizeof(struct ch_question), "safe_now", "Are you safe right now?", yes_no_unsure,
     "Ask when the person is alone."},
    {sizeof(struct ch_question), "where", "Where are you staying tonight?", NULL, NULL},
};

static void doc_alert_danger(struct out *o)
{
    out_alert(o, CH_SEV_DANGER, "call 911 now");
}

/* Each severity has its prefix; a second line hangs under the first, off the margin. */
static void doc_alerts_in_order(struct out *o)
{
    out_alert(o, CH_SEV_INFO, "interpreter booked");
    out_alert(o, CH_SEV_WARNING, "second report in 30 days\nreview the safety plan");
}

/* Raised after fields and a message, the alert still prints first, then a blank line. */
static void doc_alert_after_fields(struct out *o)
{
    out_str(o, "title", "Runaway return");
    out_message(o, "screening saved");
    out_alert(o, CH_SEV_DANGER, "call 911 now");
}

/* A section brings its own blank line: no second one after the alerts. */
static void doc_alert_before_section(struct out *o)
{
    out_object(o, "case");
    out_int(o, "id", 4);
    out_end(o);
    out_alert(o, CH_SEV_WARNING, "no safety plan");
}

static void doc_action_quoted(struct out *o)
{
    static const char *const argv[] = {"case", "note", "4", "--text", "O'Brien house", NULL};
    out_action(o, "Add a note", argv);
}

static void doc_action_without_command(struct out *o)
{
    out_action(o, NULL, NULL);
}

/* Actions come last, after a blank line, wherever they were written. */
static void doc_action_after_fields(struct out *o)
{
    static const char *const argv[] = {"case", "show", "4", NULL};
    out_action(o, "Show the case", argv);
    out_int(o, "case", 4);
    out_message(o, "case 4 updated");
}

static void doc_form(struct out *o)
{
    out_int(o, "case", 4);
    out_form(o, "step", "Safety", safety_questions, 2, answer_argv);
}

/* No title: the key names it; no argv: no command line; a NULL prompt is "-". */
static void doc_form_untitled_without_command(struct out *o)
{
    static const char *const yes_no[] = {"yes", "no", NULL};
    static const struct ch_question q[] = {
        {sizeof(struct ch_question), "others", NULL, yes_no, NULL}};
    out_form(o, "next_step", NULL, q, 1, NULL);
}

static const struct {
    const char *name;
    void (*build)(struct out *o);
    const char *text;
    const char *json;
} docs[] = {
    {"scalars", doc_scalars,
     "Title:    Runaway return\n"
     "Case id:  7\n"
     "Urgent:   yes\n"
     "Closed:   no\n"
     "County:   -\n"
     "Big:      9223372036854775807\n",
     "{\n"
     "  \"title\": \"Runaway return\",\n"
     "  \"case_id\": 7,\n"
     "  \"urgent\": true,\n"
     "  \"closed\": false,\n"
     "  \"county\": null,\n"
     "  \"big\": 9223372036854775807\n"
     "}\n"},
    {"nested", doc_nested,
     "Case:    3\n"
     "Status:  open\n"
     "\n"
     "Person\n"
     "  Given name:  Jo\n"
     "  Age:         15\n"
     "\n"
     "  Placement\n"
     "    Kind:  foster home\n",
     "{\n"
     "  \"case\": 3,\n"
     "  \"person\": {\n"
     "    \"given_name\": \"Jo\",\n"
     "    \"age\": 15,\n"
     "    \"placement\": {\n"
     "      \"kind\": \"foster home\"\n"
     "    }\n"
     "  },\n"
     "  \"status\": \"open\"\n"
     "}\n"},
    {"table", doc_table,
     "\n"
     "Cases\n"
     "  Id  Status       Title       Assignee\n"
     "  1   open         Long title  -\n"
     "  12  in_progress  T           a_worker\n",
     "{\n"
     "  \"cases\": [\n"
     "    {\n"
     "      \"id\": 1,\n"
     "      \"status\": \"open\",\n"
     "      \"title\": \"Long title\",\n"
     "      \"assignee\": null\n"
     "    },\n"
     "    {\n"
     "      \"id\": 12,\n"
     "      \"status\": \"in_progress\",\n"
     "      \"title\": \"T\",\n"
     "      \"assignee\": \"a_worker\"\n"
     "    }\n"
     "  ]\n"
     "}\n"},
    {"empty_list", doc_empty_list, "\nCases\n  (none)\n", "{\n  \"cases\": []\n}\n"},
    {"scalar_array", doc_scalar_array, "\nFlags\n  recruitment\n  runaway\n  yes\n",
     "{\n"
     "  \"flags\": [\n"
     "    \"recruitment\",\n"
     "    \"runaway\",\n"
     "    true\n"
     "  ]\n"
     "}\n"},
    {"messages", doc_messages,
     "Note:  x\n"
     "\n"
     "Case\n"
     "  Id:  4\n"
     "case 4 created\n"
     "assigned to a_worker\n",
     "{\n"
     "  \"case\": {\n"
     "    \"id\": 4\n"
     "  },\n"
     "  \"messages\": [\n"
     "    \"case 4 created\",\n"
     "    \"assigned to a_worker\"\n"
     "  ],\n"
     "  \"note\": \"x\"\n"
     "}\n"},
    {"result_row", doc_result_row,
     "\n"
     "Person\n"
     "  Id:       7\n"
     "  Total:    9007199254740993\n"
     "  Delta:    -3\n"
     "  Urgent:   yes\n"
     "  Closed:   no\n"
     "  Tags:     a\n"
     "  Name:     Jo\n"
     "  County:   -\n"
     "  Consent:  -\n"
     "  Score:    1.50\n"
     "  Raw:      not json\n"
     "\n"
     "  Answers\n"
     "    Q1:  1, 2\n",
     "{\n"
     "  \"person\": {\n"
     "    \"id\": 7,\n"
     "    \"total\": 9007199254740993,\n"
     "    \"delta\": -3,\n"
     "    \"urgent\": true,\n"
     "    \"closed\": false,\n"
     "    \"answers\": {\n"
     "      \"q1\": [\n"
     "        1,\n"
     "        2\n"
     "      ]\n"
     "    },\n"
     "    \"tags\": [\n"
     "      \"a\"\n"
     "    ],\n"
     "    \"name\": \"Jo\",\n"
     "    \"county\": null,\n"
     "    \"consent\": null,\n"
     "    \"score\": \"1.50\",\n"
     "    \"raw\": \"not json\"\n"
     "  }\n"
     "}\n"},
    {"result_rows", doc_result_rows,
     "\n"
     "People\n"
     "  Id  Interpreter needed  Family name\n"
     "  1   yes                 Ng\n"
     "  2   no                  -\n",
     "{\n"
     "  \"people\": [\n"
     "    {\n"
     "      \"id\": 1,\n"
     "      \"interpreter_needed\": true,\n"
     "      \"family_name\": \"Ng\"\n"
     "    },\n"
     "    {\n"
     "      \"id\": 2,\n"
     "      \"interpreter_needed\": false,\n"
     "      \"family_name\": null\n"
     "    }\n"
     "  ]\n"
     "}\n"},
    {"out_row", doc_out_row,
     "\n"
     "Case\n"
     "  Id:      6\n"
     "  Status:  closed\n",
     "{\n"
     "  \"case\": {\n"
     "    \"id\": 6,\n"
     "    \"status\": \"closed\"\n"
     "  }\n"
     "}\n"},
    {"empty_result", doc_empty_result,
     "\n"
     "Person\n",
     "{\n"
     "  \"person\": {}\n"
     "}\n"},
    {"alert_danger", doc_alert_danger, RULE "DANGER: call 911 now\n" RULE,
     "{\n"
     "  \"alerts\": [\n"
     "    {\n"
     "      \"severity\": \"danger\",\n"
     "      \"text\": \"call 911 now\"\n"
     "    }\n"
     "  ]\n"
     "}\n"},
    {"alerts_in_order", doc_alerts_in_order,
     "note: interpreter booked\n"
     "WARNING: second report in 30 days\n"
     "         review the safety plan\n",
     "{\n"
     "  \"alerts\": [\n"
     "    {\n"
     "      \"severity\": \"info\",\n"
     "      \"text\": \"interpreter booked\"\n"
     "    },\n"
     "    {\n"
     "      \"severity\": \"warning\",\n"
     "      \"text\": \"second report in 30 days\\nreview the safety plan\"\n"
     "    }\n"
     "  ]\n"
     "}\n"},
    {"alert_after_fields", doc_alert_after_fields,
     RULE "DANGER: call 911 now\n" RULE "\n"
          "Title:  Runaway return\n"
          "screening saved\n",
     "{\n"
     "  \"title\": \"Runaway return\",\n"
     "  \"messages\": [\n"
     "    \"screening saved\"\n"
     "  ],\n"
     "  \"alerts\": [\n"
     "    {\n"
     "      \"severity\": \"danger\",\n"
     "      \"text\": \"call 911 now\"\n"
     "    }\n"
     "  ]\n"
     "}\n"},
    {"alert_before_section", doc_alert_before_section,
     "WARNING: no safety plan\n"
     "\n"
     "Case\n"
     "  Id:  4\n",
     "{\n"
     "  \"case\": {\n"
     "    \"id\": 4\n"
     "  },\n"
     "  \"alerts\": [\n"
     "    {\n"
     "      \"severity\": \"warning\",\n"
     "      \"text\": \"no safety plan\"\n"
     "    }\n"
     "  ]\n"
     "}\n"},
    {"action_quoted", doc_action_quoted,
     "  -> Add a note: casehost case note 4 --text 'O'\\''Brien house'\n",
     "{\n"
     "  \"actions\": [\n"
     "    {\n"
     "      \"label\": \"Add a note\",\n"
     "      \"argv\": [\n"
     "        \"case\",\n"
     "        \"note\",\n"
     "        \"4\",\n"
     "        \"--text\",\n"
     "        \"O'Brien house\"\n"
     "      ],\n"
     "      \"command\": \"casehost case note 4 --text 'O'\\\\''Brien house'\"\n"
     "    }\n"
     "  ]\n"
     "}\n"},
    {"action_without_command", doc_action_without_command, "  -> -\n",
     "{\n"
     "  \"actions\": [\n"
     "    {\n"
     "      \"label\": null,\n"
     "      \"argv\": null,\n"
     "      \"command\": null\n"
     "    }\n"
     "  ]\n"
     "}\n"},
    {"action_after_fields", doc_action_after_fields,
     "Case:  4\n"
     "case 4 updated\n"
     "\n"
     "  -> Show the case: casehost case show 4\n",
     "{\n"
     "  \"actions\": [\n"
     "    {\n"
     "      \"label\": \"Show the case\",\n"
     "      \"argv\": [\n"
     "        \"case\",\n"
     "        \"show\",\n"
     "        \"4\"\n"
     "      ],\n"
     "      \"command\": \"casehost case show 4\"\n"
     "    }\n"
     "  ],\n"
     "  \"case\": 4,\n"
     "  \"messages\": [\n"
     "    \"case 4 updated\"\n"
     "  ]\n"
     "}\n"},
    {"form", doc_form,
     "Case:  4\n"
     "\n"
     "Safety\n"
     "  1. Are you safe right now? (yes / no / unsure)\n"
     "     Ask when the person is alone.\n"
     "  2. Where are you staying tonight? (free text)\n"
     "  To answer: casehost screen answer 4 safe_now=CHOICE where=TEXT\n",
     "{\n"
     "  \"case\": 4,\n"
     "  \"step\": {\n"
     "    \"type\": \"form\",\n"
     "    \"title\": \"Safety\",\n"
     "    \"questions\": [\n"
     "      {\n"
     "        \"id\": \"safe_now\",\n"
     "        \"prompt\": \"Are you safe right now?\",\n"
     "        \"choices\": [\n"
     "          \"yes\",\n"
     "          \"no\",\n"
     "          \"unsure\"\n"
     "        ],\n"
     "        \"help\": \"Ask when the person is alone.\"\n"
     "      },\n"
     "      {\n"
     "        \"id\": \"where\",\n"
     "        \"prompt\": \"Where are you staying tonight?\",\n"
     "        \"choices\": null,\n"
     "        \"help\": null\n"
     "      }\n"
     "    ],\n"
     "    \"argv\": [\n"
     "      \"screen\",\n"
     "      \"answer\",\n"
     "      \"4\"\n"
     "    ]\n"
     "  }\n"
     "}\n"},
    {"form_untitled_without_command", doc_form_untitled_without_command,
     "\n"
     "Next step\n"
     "  1. - (yes / no)\n",
     "{\n"
     "  \"next_step\": {\n"
     "    \"type\": \"form\",\n"
     "    \"title\": null,\n"
     "    \"questions\": [\n"
     "      {\n"
     "        \"id\": \"others\",\n"
     "        \"prompt\": null,\n"
     "        \"choices\": [\n"
     "          \"yes\",\n"
     "          \"no\"\n"
     "        ],\n"
     "        \"help\": null\n"
     "      }\n"
     "    ],\n"
     "    \"argv\": null\n"
     "  }\n"
     "}\n"},
};

START_TEST(document_renders_as_text)
{
    struct out *o = out_new(0);
    char *text;
    ck_assert_ptr_nonnull(o);
    docs[_i].build(o);
    text = render(o);
    ck_assert_msg(strcmp(text, docs[_i].text) == 0, "%s as text:\n got:\n%s\nwant:\n%s",
                  docs[_i].name, text, docs[_i].text);
    free(text);
    out_free(o);
}
END_TEST

START_TEST(document_renders_as_json)
{
    struct out *o = out_new(1);
    char *text;
    ck_assert_ptr_nonnull(o);
    docs[_i].build(o);
    text = render(o);
    ck_assert_msg(strcmp(text, docs[_i].json) == 0, "%s as JSON:\n got:\n%s\nwant:\n%s",
                  docs[_i].name, text, docs[_i].json);
    free(text);
    out_free(o);
}
END_TEST

START_TEST(empty_document_renders_as_empty_text_and_empty_object)
{
    struct out *t = out_new(0), *j = out_new(1);
    char *a = render(t), *b = render(j);
    ck_assert_str_eq(a, "");
    ck_assert_str_eq(b, "{}\n");
    free(a);
    free(b);
    out_free(t);
    out_free(j);
}
END_TEST

START_TEST(long_table_cells_are_cut_to_sixty_columns_except_the_last)
{
    static const char long60[] = "012345678901234567890123456789012345678901234567890123456789";
    struct out *o = out_new(0);
    char *text, cell[128], want[512];
    snprintf(cell, sizeof(cell), "%sTAIL", long60);
    out_array(o, "rows");
    out_object(o, NULL);
    out_str(o, "body", cell);
    out_str(o, "by", cell);
    out_end(o);
    out_end(o);
    text = render(o);
    snprintf(want, sizeof(want), "\nRows\n  %-60s  By\n  %s  %s\n", "Body", long60, cell);
    ck_assert_str_eq(text, want);
    free(text);
    out_free(o);
}
END_TEST

START_TEST(flush_reports_a_write_error)
{
    struct out *o = out_new(1);
    FILE *ro = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(ro);
    out_str(o, "title", "x");
    ck_assert_int_eq(out_flush(o, ro), -1);
    fclose(ro);
    out_free(o);
}
END_TEST

/* ------------------------------------------- control characters --- */

/* Each value as the text form shows it: on its line, nothing a terminal would obey. */
static const struct {
    const char *name;
    const char *value;
    const char *shown;
} controls[] = {
    {"clear screen", "\x1b[2J\x1b[Hcase", "\\x1b[2J\\x1b[Hcase"},
    {"carriage return", "Runaway\rClosed ", "Runaway\\rClosed "},
    {"C1 CSI",
     "\xc2\x9b"
     "31mred",
     "\\u009b31mred"},
    {"C1 first and last", "\xc2\x80-\xc2\x9f", "\\u0080-\\u009f"},
    {"forged line", "title\nStatus: closed", "title\\nStatus: closed"},
    {"tab, bell, DEL", "a\tb\ac\x7f", "a\\tb\\x07c\\x7f"},
    {"other C0", "\x01\x1f", "\\x01\\x1f"},
    {"printable non-ASCII stays", "Zo\xc3\xab \xe2\x80\x94 \xc2\xa0\xf0\x9f\x99\x82",
     "Zo\xc3\xab \xe2\x80\x94 \xc2\xa0\xf0\x9f\x99\x82"},
    {"backslash stays", "C:\\x1b", "C:\\x1b"},
};

START_TEST(control_characters_in_values_are_escaped_in_text)
{
    struct out *o = out_new(0);
    char *text, want[256];
    out_str(o, "title", controls[_i].value);
    text = render(o);
    snprintf(want, sizeof(want), "Title:  %s\n", controls[_i].shown);
    ck_assert_msg(strcmp(text, want) == 0, "%s:\n got: %s\nwant: %s", controls[_i].name, text,
                  want);
    free(text);
    out_free(o);
}
END_TEST

START_TEST(control_characters_stay_exact_in_json)
{
    struct out *o = out_new(1);
    json_t *doc;
    char *text;
    out_str(o, "title", controls[_i].value);
    text = render(o);
    doc = json_loads(text, 0, NULL);
    ck_assert_msg(doc != NULL, "not JSON: %s", text);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "title")), controls[_i].value);
    ck_assert_ptr_null(strchr(text, '\x1b'));
    json_decref(doc);
    free(text);
    out_free(o);
}
END_TEST

/* Tables, section titles, labels and arrays of scalars go through the same escaping. */
START_TEST(control_characters_are_escaped_in_tables_titles_and_lists)
{
    struct out *o = out_new(0);
    char *text;
    out_array(o, "cases");
    out_object(o, NULL);
    out_int(o, "id", 1);
    out_str(o, "title", "\x1b[2Jx\nStatus: closed");
    out_str(o, "by", "a\rb");
    out_end(o);
    out_end(o);
    out_object(o, "sec\x1b]0;t\x07");
    out_str(o, "k\ney", "v");
    out_end(o);
    out_array(o, "flags");
    out_str(o, NULL,
            "\xc2\x9b"
            "2J");
    out_end(o);
    text = render(o);
    ck_assert_str_eq(text, "\n"
                           "Cases\n"
                           "  Id  Title                     By\n"
                           "  1   \\x1b[2Jx\\nStatus: closed  a\\rb\n"
                           "\n"
                           "Sec\\x1b]0;t\\x07\n"
                           "  K\\ney:  v\n"
                           "\n"
                           "Flags\n"
                           "  \\u009b2J\n");
    free(text);
    out_free(o);
}
END_TEST

/* The program's own messages keep their lines; a value inside one still cannot drive the terminal.
 */
START_TEST(messages_keep_their_lines_and_escape_other_controls)
{
    struct out *o = out_new(0);
    char *text;
    out_message(o, "rule 'a' matched\n  destination \x1b[31mx\xc2\x9b\r");
    text = render(o);
    ck_assert_str_eq(text, "rule 'a' matched\n  destination \\x1b[31mx\\u009b\\r\n");
    free(text);
    out_free(o);
}
END_TEST

/* A value longer than the line buffer is cut between escapes, never inside one. */
START_TEST(a_long_value_is_cut_between_escapes)
{
    struct out *o = out_new(0);
    char value[3001], *text, *start, *end;
    memset(value, '\x1b', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    out_str(o, "t", value);
    text = render(o);
    start = strstr(text, "\\x1b");
    ck_assert_ptr_nonnull(start);
    end = strchr(start, '\n');
    ck_assert_ptr_nonnull(end);
    ck_assert_ptr_null(strchr(text, '\x1b'));
    ck_assert_int_eq((end - start) % 4, 0);
    ck_assert_int_eq(strncmp(end - 4, "\\x1b", 4), 0);
    free(text);
    out_free(o);
}
END_TEST

/* ------------------------------------------- alerts, actions, forms --- */

/* One argument as an action shows it: as it is when a shell takes it literally, else quoted. */
static const struct {
    const char *name;
    const char *arg;
    const char *shown;
} shell_args[] = {
    {"plain", "case-4_b.c/d:e,f@g%h+i=j", "case-4_b.c/d:e,f@g%h+i=j"},
    {"empty", "", "''"},
    {"space", "O Brien", "'O Brien'"},
    {"single quote", "O'Brien", "'O'\\''Brien'"},
    {"space and both quotes", "it's a \"test\"", "'it'\\''s a \"test\"'"},
    {"only a quote", "'", "''\\'''"},
    {"command substitution", "$(rm -rf ~)", "'$(rm -rf ~)'"},
    {"backticks and semicolon", "`id`;ls", "'`id`;ls'"},
    {"pipe, ampersand, redirect", "a|b&c>d", "'a|b&c>d'"},
    {"glob", "*.txt", "'*.txt'"},
    {"tilde", "~root", "'~root'"},
    {"comment", "#1", "'#1'"},
    {"backslash", "a\\b", "'a\\b'"},
    {"variable", "$HOME", "'$HOME'"},
    {"non-ASCII", "Zo\xc3\xab", "'Zo\xc3\xab'"},
};

START_TEST(action_arguments_are_quoted_for_the_shell)
{
    const char *argv[] = {"case", shell_args[_i].arg, NULL};
    struct out *t = out_new(0), *j = out_new(1);
    char *text, *js, want[256];
    json_t *doc, *action;
    out_action(t, "Run", argv);
    out_action(j, "Run", argv);
    text = render(t);
    js = render(j);
    snprintf(want, sizeof(want), "  -> Run: casehost case %s\n", shell_args[_i].shown);
    ck_assert_msg(strcmp(text, want) == 0, "%s:\n got: %s\nwant: %s", shell_args[_i].name, text,
                  want);
    doc = json_loads(js, 0, NULL);
    ck_assert_msg(doc != NULL, "not JSON: %s", js);
    action = json_array_get(json_object_get(doc, "actions"), 0);
    snprintf(want, sizeof(want), "casehost case %s", shell_args[_i].shown);
    ck_assert_str_eq(json_string_value(json_object_get(action, "command")), want);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(action, "argv"), 1)),
                     shell_args[_i].arg);
    json_decref(doc);
    free(text);
    free(js);
    out_free(t);
    out_free(j);
}
END_TEST

/* What is shown pastes: sh reads the command line back into the very same arguments. */
START_TEST(an_action_command_line_reads_back_unchanged_in_sh)
{
    const char *argv[] = {"case", shell_args[_i].arg, "x y", NULL};
    struct out *o = out_new(1);
    char *js, cmd[512], got[512], want[512];
    json_t *doc;
    const char *line;
    FILE *p;
    size_t n;
    out_action(o, "Run", argv);
    js = render(o);
    doc = json_loads(js, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    line = json_string_value(
        json_object_get(json_array_get(json_object_get(doc, "actions"), 0), "command"));
    ck_assert_int_eq(strncmp(line, "casehost ", 9), 0);
    /* printf in place of casehost prints each argument between '<' and '>'. */
    snprintf(cmd, sizeof(cmd), "printf '<%%s>' %s", line + 9);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(got, 1, sizeof(got) - 1, p);
    got[n] = '\0';
    ck_assert_int_eq(pclose(p), 0);
    snprintf(want, sizeof(want), "<case><%s><x y>", shell_args[_i].arg);
    ck_assert_msg(strcmp(got, want) == 0, "%s:\n got: %s\nwant: %s", shell_args[_i].name, got,
                  want);
    json_decref(doc);
    free(js);
    out_free(o);
}
END_TEST

/* The case that matters most: whatever came before, a caseworker reads the danger first, once. */
START_TEST(a_danger_alert_raised_last_is_printed_first)
{
    static const char *const argv[] = {"case", "show", "4", NULL};
    static const char head[] = RULE "DANGER: call 911 now\n" RULE "\nTitle:";
    struct out *o = out_new(0);
    char *text;
    out_str(o, "title", "Runaway return");
    doc_table(o);
    out_form(o, "step", "Safety", safety_questions, 2, answer_argv);
    out_message(o, "screening saved");
    out_action(o, "Show the case", argv);
    out_alert(o, CH_SEV_DANGER, "call 911 now");
    text = render(o);
    ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "not first:\n%s", text);
    ck_assert_ptr_null(strstr(text + strlen(head), "DANGER"));
    ck_assert_ptr_nonnull(strstr(text, "\n  -> Show the case: casehost case show 4\n"));
    free(text);
    out_free(o);
}
END_TEST

/* Every node at once, with quotes and control characters: valid JSON, every value exact. */
START_TEST(alerts_actions_and_forms_are_valid_json_with_exact_values)
{
    static const char *const argv[] = {"case", "note", "4", "--text", "say \"hi\"\n\x1b[2J", NULL};
    struct out *o = out_new(1);
    char *js;
    json_t *doc, *alert, *action, *form, *q;
    json_error_t err;
    out_int(o, "case", 4);
    out_alert(o, CH_SEV_WARNING, "tab\there \"quoted\"");
    out_action(o, "Note \\ it", argv);
    out_form(o, "step", "Safety", safety_questions, 2, answer_argv);
    js = render(o);
    doc = json_loads(js, 0, &err);
    ck_assert_msg(doc != NULL, "not JSON (%s): %s", err.text, js);
    alert = json_array_get(json_object_get(doc, "alerts"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(alert, "severity")), "warning");
    ck_assert_str_eq(json_string_value(json_object_get(alert, "text")), "tab\there \"quoted\"");
    action = json_array_get(json_object_get(doc, "actions"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(action, "label")), "Note \\ it");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(action, "argv"), 4)),
                     "say \"hi\"\n\x1b[2J");
    ck_assert_str_eq(json_string_value(json_object_get(action, "command")),
                     "casehost case note 4 --text 'say \"hi\"\n\x1b[2J'");
    form = json_object_get(doc, "step");
    ck_assert_str_eq(json_string_value(json_object_get(form, "type")), "form");
    ck_assert_int_eq(json_array_size(json_object_get(form, "questions")), 2);
    q = json_array_get(json_object_get(form, "questions"), 1);
    ck_assert(json_is_null(json_object_get(q, "choices")));
    ck_assert(json_is_null(json_object_get(q, "help")));
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "case")), 4);
    ck_assert_ptr_null(strchr(js, '\x1b'));
    json_decref(doc);
    free(js);
    out_free(o);
}
END_TEST

/* Values in the new nodes reach a terminal as visible escapes; no line of an alert can be forged.
 */
START_TEST(control_characters_in_alerts_actions_and_forms_are_escaped_in_text)
{
    static const char *const argv[] = {"case", "a\nb\x1b[2J", NULL};
    static const char *const choices[] = {"y\x1b[31m", NULL};
    static const struct ch_question q[] = {
        {sizeof(struct ch_question), "q\r1", "p\x07?", choices, "h\xc2\x9b"}};
    struct out *o = out_new(0);
    char *text;
    out_alert(o, CH_SEV_INFO, "x\x1b[2J\nDANGER: forged\r");
    out_action(o, "l\rabel", argv);
    out_form(o, "f", "T\x1b]0;t\x07", q, 1, argv);
    text = render(o);
    ck_assert_str_eq(text, "note: x\\x1b[2J\n"
                           "      DANGER: forged\\r\n"
                           "\n"
                           "T\\x1b]0;t\\x07\n"
                           "  1. p\\x07? (y\\x1b[31m)\n"
                           "     h\\u009b\n"
                           "  To answer: casehost case 'a\\nb\\x1b[2J' 'q\\r1'=CHOICE\n"
                           "\n"
                           "  -> l\\rabel: casehost case 'a\\nb\\x1b[2J'\n");
    free(text);
    out_free(o);
}
END_TEST

/* A question as an older header would have had it: no choices, no help. */
struct question_id_prompt {
    size_t size;
    const char *id;
    const char *prompt;
};

/* A question as a newer header might have it: a member this host does not know. */
struct question_grown {
    struct ch_question q;
    const char *added_later;
};

/*
 * Only the members within each question's size are read, and the array is
 * stepped by that size. The questions are copied to the heap at exactly the
 * caller's size, so ASan reports any read past them.
 */
START_TEST(form_questions_are_read_only_within_the_callers_size)
{
    static const struct question_id_prompt small[] = {
        {sizeof(struct question_id_prompt), "a", "First?"},
        {sizeof(struct question_id_prompt), "b", "Second?"}};
    static const struct question_grown grown[] = {
        {{sizeof(struct question_grown), "c", "Third?", yes_no_unsure, NULL}, "x"},
        {{sizeof(struct question_grown), "d", "Fourth?", NULL, "Help."}, "y"}};
    void *heap_small = malloc(sizeof(small)), *heap_grown = malloc(sizeof(grown));
    struct out *o = out_new(0);
    char *text;
    ck_assert_ptr_nonnull(heap_small);
    ck_assert_ptr_nonnull(heap_grown);
    memcpy(heap_small, small, sizeof(small));
    memcpy(heap_grown, grown, sizeof(grown));
    out_form(o, "old", "Old", heap_small, 2, NULL);
    out_form(o, "new", "New", heap_grown, 2, NULL);
    text = render(o);
    ck_assert_str_eq(text, "\n"
                           "Old\n"
                           "  1. First? (free text)\n"
                           "  2. Second? (free text)\n"
                           "\n"
                           "New\n"
                           "  1. Third? (yes / no / unsure)\n"
                           "  2. Fourth? (free text)\n"
                           "     Help.\n");
    free(text);
    out_free(o);
    free(heap_small);
    free(heap_grown);
}
END_TEST

/* A size never set gives no stride to step by: every question reads as empty, nothing guessed. */
START_TEST(form_questions_without_a_size_read_as_empty)
{
    static const struct ch_question q[] = {{0, "a", "First?", yes_no_unsure, "h"},
                                           {0, "b", "Second?", NULL, NULL}};
    struct out *t = out_new(0), *j = out_new(1);
    char *text, *js;
    out_form(t, "f", "F", q, 2, answer_argv);
    out_form(j, "f", "F", q, 2, answer_argv);
    text = render(t);
    js = render(j);
    ck_assert_str_eq(text, "\n"
                           "F\n"
                           "  1. - (free text)\n"
                           "  2. - (free text)\n"
                           "  To answer: casehost screen answer 4 -=TEXT -=TEXT\n");
    ck_assert_ptr_nonnull(strstr(js, "\"id\": null,\n"
                                     "        \"prompt\": null,\n"
                                     "        \"choices\": null,\n"
                                     "        \"help\": null\n"));
    free(text);
    free(js);
    out_free(t);
    out_free(j);
}
END_TEST

/* A form with no questions (a NULL array) still shows its title and command. */
START_TEST(a_form_without_questions_shows_title_and_command)
{
    struct out *o = out_new(0);
    char *text;
    out_form(o, "done", "Screening complete", NULL, 3, answer_argv);
    text = render(o);
    ck_assert_str_eq(text, "\n"
                           "Screening complete\n"
                           "  To answer: casehost screen answer 4\n");
    free(text);
    out_free(o);
}
END_TEST

/* A severity this host does not know (a newer plugin's) cannot be missed either. */
START_TEST(an_unknown_severity_is_shown_as_danger)
{
    struct out *t = out_new(0), *j = out_new(1);
    char *text, *js;
    out_alert(t, (enum ch_severity)7, "x");
    out_alert(j, (enum ch_severity) - 1, "x");
    text = render(t);
    js = render(j);
    ck_assert_str_eq(text, RULE "DANGER: x\n" RULE);
    ck_assert_ptr_nonnull(strstr(js, "\"severity\": \"danger\""));
    free(text);
    free(js);
    out_free(t);
    out_free(j);
}
END_TEST

/* jansson refuses text that is not UTF-8; an alert must not vanish for that. */
START_TEST(an_alert_that_is_not_utf8_is_kept)
{
    struct out *t = out_new(0), *j = out_new(1);
    char *text, *js;
    json_t *doc;
    out_alert(t, CH_SEV_DANGER, "Jos\xe9 is at risk");
    out_alert(j, CH_SEV_DANGER, "Jos\xe9 is at risk");
    text = render(t);
    js = render(j);
    ck_assert_str_eq(text, RULE "DANGER: Jos? is at risk\n" RULE);
    doc = json_loads(js, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(doc, "alerts"), 0), "text")),
                     "Jos? is at risk");
    json_decref(doc);
    free(text);
    free(js);
    out_free(t);
    out_free(j);
}
END_TEST

/* A command's own root member named alerts, actions or messages cannot hide or free the host's. */
START_TEST(the_root_lists_win_over_a_command_member_of_the_same_name)
{
    static const char *const argv[] = {"case", "show", "4", NULL};
    struct out *t = out_new(0), *j = out_new(1);
    struct out *both[] = {t, j};
    char *text, *js;
    json_t *doc;
    for (int k = 0; k < 2; k++) {
        out_str(both[k], "alerts", "before");
        out_alert(both[k], CH_SEV_DANGER, "call 911 now");
        out_action(both[k], "Show", argv);
        out_message(both[k], "saved");
        out_str(both[k], "alerts", "after");
        out_int(both[k], "actions", 1);
        out_bool(both[k], "messages", 1);
    }
    text = render(t);
    js = render(j);
    ck_assert_str_eq(text, RULE "DANGER: call 911 now\n" RULE "\n"
                                "saved\n"
                                "\n"
                                "  -> Show: casehost case show 4\n");
    doc = json_loads(js, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(json_array_size(json_object_get(doc, "alerts")), 1);
    ck_assert_int_eq(json_array_size(json_object_get(doc, "actions")), 1);
    ck_assert_int_eq(json_array_size(json_object_get(doc, "messages")), 1);
    json_decref(doc);
    free(text);
    free(js);
    out_free(t);
    out_free(j);
}
END_TEST

/* A container whose key its parent refuses (not UTF-8) takes its members and is then dropped. */
START_TEST(a_container_under_a_key_that_is_not_utf8_is_dropped_safely)
{
    struct out *o = out_new(1);
    char *js;
    out_object(o, "bad\xff");
    out_str(o, "inside", "x");
    out_array(o, "list");
    out_int(o, NULL, 1);
    out_end(o);
    out_end(o);
    out_str(o, "after", "y");
    out_object(o, "left_open\xff"); /* still open at out_free, which frees it */
    js = render(o);
    ck_assert_str_eq(js, "{\n  \"after\": \"y\"\n}\n");
    free(js);
    out_free(o);
}
END_TEST

static Suite *out_suite(void)
{
    Suite *s = suite_create("out");
    TCase *tc = tcase_create("render");
    int n = (int)(sizeof(docs) / sizeof(docs[0]));
    tcase_add_loop_test(tc, document_renders_as_text, 0, n);
    tcase_add_loop_test(tc, document_renders_as_json, 0, n);
    tcase_add_test(tc, empty_document_renders_as_empty_text_and_empty_object);
    tcase_add_test(tc, long_table_cells_are_cut_to_sixty_columns_except_the_last);
    tcase_add_test(tc, flush_reports_a_write_error);
    suite_add_tcase(s, tc);
    tc = tcase_create("controls");
    n = (int)(sizeof(controls) / sizeof(controls[0]));
    tcase_add_loop_test(tc, control_characters_in_values_are_escaped_in_text, 0, n);
    tcase_add_loop_test(tc, control_characters_stay_exact_in_json, 0, n);
    tcase_add_test(tc, control_characters_are_escaped_in_tables_titles_and_lists);
    tcase_add_test(tc, messages_keep_their_lines_and_escape_other_controls);
    tcase_add_test(tc, a_long_value_is_cut_between_escapes);
    suite_add_tcase(s, tc);
    tc = tcase_create("nodes");
    n = (int)(sizeof(shell_args) / sizeof(shell_args[0]));
    tcase_add_loop_test(tc, action_arguments_are_quoted_for_the_shell, 0, n);
    tcase_add_loop_test(tc, an_action_command_line_reads_back_unchanged_in_sh, 0, n);
    tcase_add_test(tc, a_danger_alert_raised_last_is_printed_first);
    tcase_add_test(tc, alerts_actions_and_forms_are_valid_json_with_exact_values);
    tcase_add_test(tc, control_characters_in_alerts_actions_and_forms_are_escaped_in_text);
    tcase_add_test(tc, form_questions_are_read_only_within_the_callers_size);
    tcase_add_test(tc, form_questions_without_a_size_read_as_empty);
    tcase_add_test(tc, a_form_without_questions_shows_title_and_command);
    tcase_add_test(tc, an_unknown_severity_is_shown_as_danger);
    tcase_add_test(tc, an_alert_that_is_not_utf8_is_kept);
    tcase_add_test(tc, the_root_lists_win_over_a_command_member_of_the_same_name);
    tcase_add_test(tc, a_container_under_a_key_that_is_not_utf8_is_dropped_safely);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(out_suite())
