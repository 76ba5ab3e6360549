/*
 * check_out.c: the output document rendered as JSON and as text: nested
 * objects as sections, arrays of objects as tables, null, booleans, messages,
 * and out_result's typing of PostgreSQL columns (results built with libpq's
 * PQmakeEmptyPGresult, so no server is needed). Asserts exact text, and that
 * control characters in values reach a terminal only as visible escapes
 * while JSON keeps every value exact.
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
    return s;
}

CHECK_MAIN(out_suite())
