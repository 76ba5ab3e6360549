/*
 * check_csv.c: an output document's table as CSV (out_flush_csv in
 * core/out_export.c): RFC 4180 quoting, a header row, UTF-8 kept, cells a
 * spreadsheet would run as formulas neutralised, and a document without
 * exactly one table refused with nothing written. Pure: no database.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "out.h"

/* The CSV of o, its return code in *rc and why in err; caller frees. */
static char *csv(struct out *o, int *rc, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    err[0] = '\0';
    *rc = out_flush_csv(o, f, err, errlen);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

/* A document with one table of one text column, "cell", holding value. */
static struct out *one_cell(const char *value)
{
    struct out *o = out_new(0);
    out_array(o, "rows");
    out_object(o, NULL);
    out_str(o, "cell", value);
    out_end(o);
    out_end(o);
    return o;
}

static const struct {
    const char *value, *field;
} cells[] = {
    {"plain", "plain"},
    {"a,b", "\"a,b\""},
    {"say \"hi\"", "\"say \"\"hi\"\"\""},
    {"two\nlines", "\"two\nlines\""},
    {"cr\r\nlf", "\"cr\r\nlf\""},
    {"", ""},
    {" spaced ", " spaced "},
    /* a spreadsheet would run these: a single quote makes them text */
    {"=1+1", "'=1+1"},
    {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
    {"+41", "'+41"},
    {"-2+3", "'-2+3"},
    {"@SUM(A1)", "'@SUM(A1)"},
    {"\t=1", "'\t=1"},
    {"\r=1", "\"'\r=1\""},
    {"a=1", "a=1"}, /* only the first character counts */
    /* UTF-8 as it is */
    {"Zo\xC3\xAB", "Zo\xC3\xAB"},
    {"\xE6\x97\xA5\xE6\x9C\xAC, \xF0\x9F\x99\x82",
     "\"\xE6\x97\xA5\xE6\x9C\xAC, \xF0\x9F\x99\x82\""},
};

START_TEST(each_cell_is_quoted_and_neutralised)
{
    struct out *o = one_cell(cells[_i].value);
    char err[128], want[256], *got;
    int rc;
    got = csv(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, 0);
    snprintf(want, sizeof(want), "cell\r\n%s\r\n", cells[_i].field);
    ck_assert_str_eq(got, want);
    free(got);
    out_free(o);
}
END_TEST

START_TEST(values_keep_their_types_and_columns_their_order)
{
    struct out *o = out_new(0);
    char err[128], *got;
    int rc;
    out_str(o, "title", "not in the table");
    out_array(o, "rows");
    out_object(o, NULL);
    out_str(o, "name", "a");
    out_int(o, "count", -5); /* a number, not a formula */
    out_bool(o, "open", 1);
    out_end(o);
    out_object(o, NULL);
    out_int(o, "count", 9223372036854775807);
    out_str(o, "name", NULL);
    out_str(o, "extra", "late");
    out_array(o, "tags");
    out_str(o, NULL, "x");
    out_str(o, NULL, "y");
    out_end(o);
    out_end(o);
    out_end(o);
    out_message(o, "a message is not a row");
    got = csv(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got, "name,count,open,extra,tags\r\n"
                          "a,-5,yes,,\r\n"
                          ",9223372036854775807,,late,\"[\"\"x\"\",\"\"y\"\"]\"\r\n");
    free(got);
    out_free(o);
}
END_TEST

START_TEST(no_table_writes_nothing_and_says_so)
{
    struct out *o = out_new(0);
    char err[128], *got;
    int rc;
    out_str(o, "case", "1");
    out_array(o, "tags"); /* a list of words is no table */
    out_str(o, NULL, "x");
    out_end(o);
    out_alert(o, CH_SEV_INFO, "alerts are no table either");
    ck_assert(!out_has_table(o, err, sizeof(err)));
    got = csv(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(got, "");
    ck_assert_str_eq(err, "the output has no table");
    free(got);
    out_free(o);
}
END_TEST

static void two_tables(struct out *o)
{
    out_array(o, "first");
    out_object(o, NULL);
    out_int(o, "a", 1);
    out_end(o);
    out_end(o);
    out_array(o, "second");
    out_object(o, NULL);
    out_int(o, "b", 2);
    out_end(o);
    out_end(o);
}

START_TEST(two_tables_need_the_chart_to_choose)
{
    static const char *const series[] = {"b", NULL};
    const struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, "t", "b", series, NULL};
    struct out *o = out_new(0);
    char err[128], *got;
    int rc;
    two_tables(o);
    got = csv(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(got, "");
    ck_assert_str_eq(err, "the output has more than one table ('first', 'second', ...)");
    free(got);
    out_chart(o, "second", &hint);
    got = csv(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got, "b\r\n2\r\n");
    free(got);
    out_free(o);
}
END_TEST

START_TEST(an_empty_table_is_the_charts_columns_or_none)
{
    static const char *const series[] = {"positive", "negative", NULL};
    const struct ch_chart hint = {sizeof(hint), CH_CHART_SMALL_MULTIPLES, "t", "week", series,
                                  "group"};
    struct out *o = out_new(0);
    char err[128], *got;
    int rc;
    out_array(o, "weeks");
    out_end(o);
    got = csv(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, -1); /* an empty list without a chart could be a list of words */
    ck_assert_str_eq(got, "");
    ck_assert_str_eq(err, "the output has no table");
    free(got);
    out_chart(o, "weeks", &hint);
    got = csv(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got, "group,week,positive,negative\r\n");
    free(got);
    out_free(o);
}
END_TEST

START_TEST(a_write_error_is_reported)
{
    struct out *o = one_cell("x");
    char err[128];
    FILE *ro = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(ro);
    ck_assert_int_eq(out_flush_csv(o, ro, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "cannot write the output");
    fclose(ro);
    out_free(o);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("out_flush_csv");
    tcase_add_loop_test(tc, each_cell_is_quoted_and_neutralised, 0,
                        (int)(sizeof(cells) / sizeof(cells[0])));
    tcase_add_test(tc, values_keep_their_types_and_columns_their_order);
    tcase_add_test(tc, no_table_writes_nothing_and_says_so);
    tcase_add_test(tc, two_tables_need_the_chart_to_choose);
    tcase_add_test(tc, an_empty_table_is_the_charts_columns_or_none);
    tcase_add_test(tc, a_write_error_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(csv_suite())
