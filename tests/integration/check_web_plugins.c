/*
 * check_web_plugins.c: a plugin's web pages come for free. The contract
 * test plugin (tests/plugins/testplug.c), built from the public header
 * only, is loaded by `casehost serve`: its typed command is listed, its
 * typed table is its form, the posted form runs it and its output tree is
 * the page, and its render section is on the case page. Its ABI 1.0
 * command, which has no table, is offered nowhere.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "testlib.h"
#include "webclient.h"

static char db[1024], cfg[1024];

#define db_value(...) tl_db_valuef(db, __VA_ARGS__)

/* Agencies A and B, a host config loading testplug (its SQL is in the template), the server. */
static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_testplug(NULL)));
    tl_seed_agencies(db, cfg);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    web_server_start(db, cfg, NULL);
}

static void teardown(void)
{
    web_server_stop();
    curl_global_cleanup();
}

START_TEST(the_commands_page_lists_the_typed_command_and_not_the_abi_1_0_one)
{
    char token[65];
    struct http h;
    login("a_worker", token);
    http_do(&h, "/commands", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "<a href=\"/run?a=tp-typed\">tp-typed </a>: echo typed arguments");
    HASNT(h.body, "tp-events");
    http_release(&h);
    /* and no address runs the untyped one */
    get(&h, token, (const char *[]){"tp-events", "1", NULL});
    ck_assert_int_eq(h.status, 404);
    http_release(&h);
}
END_TEST

/* Each argument of tp-typed's table as its form shows it: the label, the control, the help. */
static const struct {
    const char *label, *control, *help;
} typed_fields[] = {
    {"<label for=\"f-case\">Case <span class=\"required\">(required)</span></label>",
     "<input type=\"number\" min=\"1\" id=\"f-case\" name=\"case\" required",
     "<p class=\"help\" id=\"help-f-case\">the case</p>"},
    {"<label for=\"o-kind\">Kind</label>", "<select id=\"o-kind\" name=\"--kind\"",
     "<p class=\"help\" id=\"help-o-kind\">which kind</p>"},
    {"<label for=\"o-count\">Count</label>",
     "<input type=\"number\" min=\"1\" max=\"10\" id=\"o-count\" name=\"--count\"",
     "<p class=\"help\" id=\"help-o-count\">how many</p>"},
    {"<label for=\"o-when\">When</label>", "id=\"o-when\" name=\"--when\"",
     "<p class=\"help\" id=\"help-o-when\">when</p>"},
    {"<label for=\"o-tag\">Tag</label>", "id=\"o-tag\" name=\"--tag\"",
     "<p class=\"help\" id=\"help-o-tag\">a tag</p>"},
    {"<label for=\"o-loud\">Loud</label>", "<select id=\"o-loud\" name=\"--loud\"",
     "<p class=\"help\" id=\"help-o-loud\">shout</p>"},
};

START_TEST(a_get_of_the_typed_command_shows_the_form_its_table_makes)
{
    char token[65];
    struct http h;
    login("a_worker", token);
    get(&h, token, (const char *[]){"tp-typed", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "<h1>tp-typed</h1>");
    HAS(h.body, "<form method=\"post\" action=\"/run\" class=\"command\">");
    HAS(h.body, "<input type=\"hidden\" name=\"_verb\" value=\"tp-typed\">");
    HASNT(h.body, "name=\"_sub\"");
    for (size_t i = 0; i < sizeof(typed_fields) / sizeof(typed_fields[0]); i++) {
        HAS(h.body, typed_fields[i].label);
        HAS(h.body, typed_fields[i].control);
        HAS(h.body, typed_fields[i].help);
    }
    HAS(h.body, "<option value=\"a\">a</option>");
    HAS(h.body, "<option value=\"b\">b</option>");
    HAS(h.body, "<button type=\"submit\">echo typed arguments</button>");
    http_release(&h);

    /* prefilled from the address, as a link to it would be */
    get(&h, token, (const char *[]){"tp-typed", "7", "--kind", "b", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "name=\"case\" required aria-describedby=\"help-f-case\" value=\"7\"");
    HAS(h.body, "<option value=\"b\" selected>b</option>");
    http_release(&h);
}
END_TEST

START_TEST(its_form_posted_runs_it_and_shows_its_output_tree)
{
    char token[65], csrf[80];
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    post(&h, "/run", token, NULL,
         (const char *[]){"_csrf", csrf, "_verb", "tp-typed", "case", "7", "--kind", "b", "--count",
                          "3", "--tag", "first <tag>", "--tag", "second", "--loud", "yes", NULL});
    ck_assert_msg(h.status == 200, "tp-typed: %ld\n%.3000s", h.status, h.body);
    HASNT(h.body, "class=\"error\"");
    /* the alert first, then the fields, then the action as a link */
    HAS(h.body, "<div class=\"alert danger\" role=\"alert\">");
    HAS(h.body, "loud was asked for");
    HAS(h.body, "<dt>Case</dt><dd>7</dd>");
    HAS(h.body, "<dt>Kind</dt><dd>b</dd>");
    HAS(h.body, "<dt>Count</dt><dd>3</dd>");
    HAS(h.body, "first &lt;tag&gt;");
    HAS(h.body, "second");
    HAS(h.body, "<a href=\"/run?a=tp-typed&amp;a=1&amp;a=--kind&amp;a=b\">again with kind b</a>");
    ck_assert_ptr_nonnull(strstr(h.body, "loud was asked for"));
    ck_assert(strstr(h.body, "loud was asked for") < strstr(h.body, "<dt>Case</dt>"));
    ck_assert(strstr(h.body, "<dt>Case</dt>") < strstr(h.body, "again with kind b"));
    http_release(&h);

    /* a value its table refuses: the parser's message and the form again, nothing run */
    post(&h, "/run", token, NULL,
         (const char *[]){"_csrf", csrf, "_verb", "tp-typed", "case", "7", "--count", "11", NULL});
    ck_assert_msg(h.status == 400, "--count 11: %ld\n%.3000s", h.status, h.body);
    HAS(h.body, "class=\"error\"");
    HAS(h.body, "--count");
    HAS(h.body, "<form method=\"post\" action=\"/run\" class=\"command\">");
    HASNT(h.body, "<dt>Count</dt>");
    http_release(&h);
}
END_TEST

START_TEST(its_render_section_is_on_the_case_page)
{
    char token[65], csrf[80], want[128];
    long long case_id, seen;
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    /* a case made on the web: the plugin's hooks see it in the same transaction */
    post(&h, "/run", token, NULL,
         (const char *[]){"_csrf", csrf, "_verb", "case", "_sub", "new", "--title",
                          "seen by the plugin", "--state", "CA", NULL});
    ck_assert_msg(h.status == 200, "case new: %ld\n%.3000s", h.status, h.body);
    http_release(&h);
    case_id = db_value("SELECT id FROM casehost.cases WHERE title = 'seen by the plugin'");
    ck_assert_int_gt(case_id, 0);
    seen = db_value("SELECT count(*) FROM testplug.events WHERE case_id = %lld", case_id);
    ck_assert_int_gt(seen, 0);

    get(&h, token, (const char *[]){"case", "show", tl_id(case_id), NULL});
    ck_assert_msg(h.status == 200, "case show: %ld\n%.3000s", h.status, h.body);
    HAS(h.body, "seen by the plugin");
    HAS(h.body, "<h2>Testplug</h2>");
    snprintf(want, sizeof(want), "<dt>Events seen</dt><dd>%lld</dd>", seen);
    HAS(h.body, want);
    http_release(&h);
}
END_TEST

static Suite *web_plugins_suite(void)
{
    Suite *s = suite_create("web_plugins");
    TCase *tc = tcase_create("web_plugins");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_commands_page_lists_the_typed_command_and_not_the_abi_1_0_one);
    tcase_add_test(tc, a_get_of_the_typed_command_shows_the_form_its_table_makes);
    tcase_add_test(tc, its_form_posted_runs_it_and_shows_its_output_tree);
    tcase_add_test(tc, its_render_section_is_on_the_case_page);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(web_plugins_suite())
