/*
 * check_args.c: the one argument parser. Every type takes what it should and
 * refuses the rest with the exact message a person sees; usage and help are
 * printed from the table; a malformed table is refused when registered.
 * Pure: no database, no plugin.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "check_main.h"

enum { A_CASE, A_KIND, A_COUNT, A_WHEN, A_TAG, A_LOUD, A_FILE, A_REST };
static const char *const kinds[] = {"open", "in_progress", "closed", NULL};
static const struct ch_arg args[] = {
    [A_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [A_KIND] = {"--status", CH_ARG_ENUM, 0, "status", kinds, NULL, 0, 0},
    [A_COUNT] = {"--hours", CH_ARG_INT, 0, "hours", NULL, NULL, 1, 100},
    [A_WHEN] = {"--since", CH_ARG_DATE, 0, "since", NULL, NULL, 0, 0},
    [A_TAG] = {"--tag", CH_ARG_TEXT, CH_ARG_REPEAT, "a tag", NULL, NULL, 0, 0},
    [A_LOUD] = {"--loud", CH_ARG_BOOL, 0, "shout", NULL, NULL, 0, 0},
    [A_FILE] = {"--answers", CH_ARG_FILE, 0, "answers", NULL, NULL, 0, 0},
    [A_REST] = {"answer", CH_ARG_TEXT, CH_ARG_REPEAT, "ITEM=ANSWER", NULL, "ITEM=ANSWER", 0, 0},
};
static int noop(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    (void)ctx, (void)v, (void)ud;
    return 0;
}
static const struct ch_command_spec spec = {
    sizeof(spec), "screen", "start", "start a screening", CH_SPEC_ARGS(args), noop, NULL, 0, NULL};

/* Parses a NULL-terminated argument list (after "screen start"). */
static int parse(struct ch_value *v, char *err, size_t len, ...)
{
    char *argv[32] = {"screen", "start"};
    int argc = 2, rc;
    va_list ap;
    va_start(ap, len);
    for (char *a = va_arg(ap, char *); a != NULL; a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    err[0] = '\0';
    rc = args_parse(&spec, argc, argv, 2, v, err, len);
    return rc;
}

START_TEST(every_type_is_read)
{
    struct ch_value v[A_REST + 1];
    char err[256];
    ck_assert_int_eq(parse(v, err, sizeof(err), "12", "--status", "closed", "--hours=7", "--since",
                           "2026-01-02", "--tag", "a", "--tag", "b c", "--loud", "no", "--answers",
                           "-", "x=yes", "y=2", NULL),
                     0);
    ck_assert_int_eq(v[A_CASE].num, 12);
    ck_assert_str_eq(v[A_CASE].text, "12");
    ck_assert_int_eq(v[A_KIND].num, 2);
    ck_assert_str_eq(v[A_KIND].text, "closed");
    ck_assert_int_eq(v[A_COUNT].num, 7);
    ck_assert_str_eq(v[A_WHEN].text, "2026-01-02");
    ck_assert_uint_eq(v[A_TAG].given, 2);
    ck_assert_str_eq(v[A_TAG].list[0], "a");
    ck_assert_str_eq(v[A_TAG].list[1], "b c");
    ck_assert_ptr_null(v[A_TAG].list[2]);
    ck_assert_uint_eq(v[A_LOUD].given, 1);
    ck_assert_int_eq(v[A_LOUD].num, 0);
    ck_assert_str_eq(v[A_FILE].text, "-");
    ck_assert_uint_eq(v[A_REST].given, 2);
    ck_assert_str_eq(v[A_REST].list[1], "y=2");
    args_release(&spec, v);
}
END_TEST

START_TEST(absent_values_are_zero_and_a_bare_bool_is_yes)
{
    struct ch_value v[A_REST + 1];
    char err[256];
    ck_assert_int_eq(parse(v, err, sizeof(err), "--loud", "--", "--7", NULL), -1);
    ck_assert_str_eq(err, "case: '--7' is not an id");
    ck_assert_int_eq(parse(v, err, sizeof(err), "--loud", "3", NULL), 0);
    ck_assert_int_eq(v[A_LOUD].num, 1);
    args_release(&spec, v);
    /* yes or no as the next word is the bool's value, not a positional */
    ck_assert_int_eq(parse(v, err, sizeof(err), "--loud", "yes", "3", NULL), 0);
    ck_assert_int_eq(v[A_LOUD].num, 1);
    ck_assert_int_eq(v[A_CASE].num, 3);
    args_release(&spec, v);
    ck_assert_int_eq(parse(v, err, sizeof(err), "3", "--loud", "off", NULL), 0);
    ck_assert_int_eq(v[A_LOUD].num, 0);
    ck_assert_uint_eq(v[A_KIND].given, 0);
    ck_assert_ptr_null(v[A_KIND].text);
    ck_assert_int_eq(v[A_COUNT].num, 0);
    ck_assert_ptr_null(v[A_TAG].list);
    args_release(&spec, v);
}
END_TEST

/* Each wrong call and the exact message. */
static const struct {
    const char *argv[6];
    const char *message;
} wrong[] = {
    {{"abc"}, "case: 'abc' is not an id"},
    {{"12abc"}, "case: '12abc' is not an id"},
    {{"+7"}, "case: '+7' is not an id"},
    {{" 7"}, "case: ' 7' is not an id"},
    {{"0"}, "case: '0' is not an id"},
    {{"99999999999999999999"}, "case: '99999999999999999999' is not an id"},
    {{"1", "--status", "bogus"}, "--status: 'bogus' is not one of open, in_progress, closed"},
    {{"1", "--hours", "0"}, "--hours: '0' is not a whole number from 1 to 100"},
    {{"1", "--hours", "5x"}, "--hours: '5x' is not a whole number from 1 to 100"},
    {{"1", "--hours", "-3"}, "--hours: '-3' is not a whole number from 1 to 100"},
    {{"1", "--loud=maybe"}, "--loud: 'maybe' is not yes or no"},
    {{"1", "--bogus"}, "unknown option '--bogus'"},
    {{"1", "--bogus=1"}, "unknown option '--bogus'"},
    {{"1", "--status"}, "--status needs a value"},
    {{"1", "--status", "open", "--status", "closed"}, "--status given twice"},
    {{"1", "--since", ""}, "--since: empty value"},
    {{"1", "--tag", "a\033[2Jb"}, "--tag: control characters are not allowed"},
    {{"--status", "open"}, "missing case"},
    {{NULL}, "missing case"},
};

START_TEST(a_wrong_call_gets_its_exact_message)
{
    struct ch_value v[A_REST + 1];
    char *argv[16] = {"screen", "start"};
    char err[256] = "";
    int argc = 2;
    for (int k = 0; k < 6 && wrong[_i].argv[k] != NULL; k++)
        argv[argc++] = (char *)wrong[_i].argv[k];
    ck_assert_int_eq(args_parse(&spec, argc, argv, 2, v, err, sizeof(err)), -1);
    ck_assert_str_eq(err, wrong[_i].message);
    args_release(&spec, v);
}
END_TEST

START_TEST(an_extra_positional_is_unexpected_without_a_repeated_one)
{
    static const struct ch_arg one[] = {{"case", CH_ARG_ID, CH_ARG_REQUIRED, "", NULL, NULL, 0, 0}};
    static const struct ch_command_spec s1 = {sizeof(s1), "screen", "show", "x", CH_SPEC_ARGS(one),
                                              noop,       NULL,     0,      NULL};
    char *argv[] = {"screen", "show", "1", "2"};
    struct ch_value v[1];
    char err[128];
    ck_assert_int_eq(args_parse(&s1, 4, argv, 2, v, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "unexpected argument '2'");
}
END_TEST

static char *printed(void (*fn)(const struct ch_command_spec *, FILE *),
                     const struct ch_command_spec *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fn(s, f);
    fclose(f);
    return text;
}

START_TEST(usage_and_help_come_from_the_table)
{
    char *usage = printed(args_usage, &spec), *help = printed(args_help, &spec);
    ck_assert_str_eq(usage, "screen start CASE [ITEM=ANSWER]... [--status open|in_progress|closed] "
                            "[--hours N] [--since DATE] [--tag TEXT]... [--loud] [--answers FILE]");
    ck_assert_ptr_nonnull(strstr(help, "  screen start CASE"));
    ck_assert_ptr_nonnull(strstr(help, "\n      start a screening\n"));
    ck_assert_ptr_nonnull(strstr(help, "--hours N"));
    ck_assert_ptr_nonnull(strstr(help, " hours\n"));
    free(usage);
    free(help);
}
END_TEST

/* Tables the host refuses at registration, and why. */
static const struct ch_arg bad_name[] = {{"Case", CH_ARG_ID, 0, "", NULL, NULL, 0, 0}};
static const struct ch_arg bad_enum[] = {{"--s", CH_ARG_ENUM, 0, "", NULL, NULL, 0, 0}};
static const struct ch_arg bad_bool[] = {{"flag", CH_ARG_BOOL, 0, "", NULL, NULL, 0, 0}};
static const struct ch_arg bad_twice[] = {{"--a", CH_ARG_TEXT, 0, "", NULL, NULL, 0, 0},
                                          {"--a", CH_ARG_TEXT, 0, "", NULL, NULL, 0, 0}};
static const struct ch_arg bad_order[] = {
    {"a", CH_ARG_TEXT, 0, "", NULL, NULL, 0, 0},
    {"b", CH_ARG_TEXT, CH_ARG_REQUIRED, "", NULL, NULL, 0, 0}};
static const struct ch_arg bad_bounds[] = {{"--n", CH_ARG_INT, 0, "", NULL, NULL, 5, 2}};
static const struct {
    struct ch_command_spec spec;
    const char *message;
} bad_specs[] = {
    {{sizeof(struct ch_command_spec), "Screen", NULL, "", NULL, 0, sizeof(struct ch_arg), noop,
      NULL, 0, NULL},
     "command 'Screen': a verb and sub are lower-case words and it needs a handler"},
    {{sizeof(struct ch_command_spec), "x", NULL, "", CH_SPEC_ARGS(bad_name), noop, NULL, 0, NULL},
     "command 'x': argument 1 has no well-formed name"},
    {{sizeof(struct ch_command_spec), "x", NULL, "", CH_SPEC_ARGS(bad_enum), noop, NULL, 0, NULL},
     "command 'x': enum --s has no values"},
    {{sizeof(struct ch_command_spec), "x", NULL, "", CH_SPEC_ARGS(bad_bool), noop, NULL, 0, NULL},
     "command 'x': flag: a yes/no argument must be an option"},
    {{sizeof(struct ch_command_spec), "x", NULL, "", CH_SPEC_ARGS(bad_twice), noop, NULL, 0, NULL},
     "command 'x': --a declared twice"},
    {{sizeof(struct ch_command_spec), "x", NULL, "", CH_SPEC_ARGS(bad_order), noop, NULL, 0, NULL},
     "command 'x': positional b follows an optional or repeated one"},
    {{sizeof(struct ch_command_spec), "x", NULL, "", CH_SPEC_ARGS(bad_bounds), noop, NULL, 0, NULL},
     "command 'x': --n: bounds must be 0 <= min <= max"},
};

START_TEST(a_malformed_table_is_refused)
{
    char err[256] = "";
    ck_assert_int_eq(args_check_spec(&bad_specs[_i].spec, err, sizeof(err)), -1);
    ck_assert_str_eq(err, bad_specs[_i].message);
}
END_TEST

START_TEST(a_good_table_passes)
{
    char err[256] = "";
    ck_assert_int_eq(args_check_spec(&spec, err, sizeof(err)), 0);
}
END_TEST

static Suite *args_suite(void)
{
    Suite *s = suite_create("args");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, every_type_is_read);
    tcase_add_test(tc, absent_values_are_zero_and_a_bare_bool_is_yes);
    tcase_add_loop_test(tc, a_wrong_call_gets_its_exact_message, 0,
                        (int)(sizeof(wrong) / sizeof(wrong[0])));
    tcase_add_test(tc, an_extra_positional_is_unexpected_without_a_repeated_one);
    suite_add_tcase(s, tc);
    tc = tcase_create("tables");
    tcase_add_test(tc, usage_and_help_come_from_the_table);
    tcase_add_loop_test(tc, a_malformed_table_is_refused, 0,
                        (int)(sizeof(bad_specs) / sizeof(bad_specs[0])));
    tcase_add_test(tc, a_good_table_passes);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(args_suite())
