/*
 * check_config_corpus.c: `casehost config check` over the whole corpus of
 * broken instrument files and a trigger file with several defects reports
 * every problem in one run, each as file:line: trafficking: message, counts
 * them, and exits 2; the required plugin then stops every other command.
 * (The exact text of each message is asserted by the unit suites.)
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;

static const char *corpus_config(void)
{
    static char entry[4096];
    const char *root = tl_env("CASEHOST_TEST_ROOT");
    snprintf(entry, sizeof(entry),
             "{ name = \"trafficking\"; required = true; file = \"%s/plugins/trafficking.so\";"
             " settings = { instruments = \"%s/tests/data/broken/instruments\";"
             " screening = \"%s/tests/data/broken/triggers/several_defects.cfg\"; }; }",
             tl_env("CASEHOST_TEST_BUILD"), root, root);
    return tl_config(entry);
}

/* Lines of text that contain needle. */
static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[2048];
        snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
        n += strstr(buf, needle) != NULL;
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

START_TEST(config_check_reports_every_broken_file_in_one_run)
{
    const char *cfg = corpus_config();
    char dir[1024], want[1400], errors[64];
    struct dirent *e;
    DIR *d;
    int files = 0, lines;
    ck_assert_int_eq(tl_run(&r, NULL, cfg, "config", "check", NULL), 2);
    snprintf(dir, sizeof(dir), "%s/tests/data/broken/instruments", tl_env("CASEHOST_TEST_ROOT"));
    d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".cfg") == NULL)
            continue;
        files++;
        snprintf(want, sizeof(want), "%s/%s:", dir, e->d_name);
        ck_assert_msg(strstr(r.err, want) != NULL, "no error reported for %s:\n%s", e->d_name,
                      r.err);
    }
    closedir(d);
    ck_assert_int_ge(files, 25);
    /* the trigger file's defects come in the same run */
    ck_assert_int_ge(count_lines(r.err, "several_defects.cfg:"), 2);
    lines = count_lines(r.err, ": trafficking: ");
    ck_assert_int_ge(lines, files);
    /* the verdict on stdout counts those lines and the host's "required, stopping" */
    ck_assert_int_eq(count_lines(r.err, "it is required, stopping"), 1);
    snprintf(errors, sizeof(errors), "Errors:          %d\n", lines + 1);
    ck_assert_msg(strstr(r.out, errors) != NULL, "want '%s' in:\n%s", errors, r.out);
    ck_assert_msg(strstr(r.out, "configuration is valid") == NULL, "%s", r.out);
}
END_TEST

START_TEST(broken_required_plugin_stops_other_commands)
{
    const char *cfg = corpus_config();
    ck_assert_int_eq(tl_run(&r, NULL, cfg, TL_AS, "a_worker", "case", "list", NULL), 2);
    ck_assert_msg(strstr(r.err, "plugin 'trafficking'") && strstr(r.err, "required, stopping"),
                  "%s", r.err);
    ck_assert_str_eq(r.out, "");
}
END_TEST

static Suite *corpus_suite(void)
{
    Suite *s = suite_create("config_corpus");
    TCase *tc = tcase_create("config_check");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, config_check_reports_every_broken_file_in_one_run);
    tcase_add_test(tc, broken_required_plugin_stops_other_commands);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(corpus_suite())
