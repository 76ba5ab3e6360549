/*
 * check_web_reports.c: a report's chart and CSV, generically, through the
 * contract test plugin's tp-chart (a CH_CMD_VIEW | CH_CMD_REPORT command
 * that emits a table and asks for a chart of it; tests/plugins/testplug.c).
 * On the web: the page draws the chart as inline SVG beside the table, a
 * link downloads exactly the table's rows as CSV, and the reports are
 * offered to those who lead. In a terminal: --csv and --svg FILE. Against
 * the real `casehost serve` and the throwaway PostgreSQL.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "testlib.h"
#include "webclient.h"

static char db[1024], cfg[1024];

/* tp-chart's table as CSV: formulas neutralised, quotes doubled, UTF-8 kept, CRLF. */
static const char chart_csv[] =
    "week,group,positive,negative,note\r\n"
    "2026-W01,girls,3,5,\"'=HYPERLINK(\"\"http://example.invalid\"\")\"\r\n"
    "2026-W02,boys,0,7,\"<script>alert(1)</script>, \"\"quoted\"\"\"\r\n"
    "2026-W03,girls,12,1,Zo\xC3\xAB\r\n"
    "2026-W04,boys,3,5,'-1\r\n";

/* Agencies A and B, a supervisor in A, testplug loaded. */
static void setup_cli(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_testplug(NULL)));
    tl_seed_agencies(db, cfg);
    tl_add_user(db, "a_admin", "a_super", "supervisor", "A");
}

/* The same, and the server. */
static void setup(void)
{
    setup_cli();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    web_server_start(db, cfg, NULL);
}

static void teardown(void)
{
    web_server_stop();
    curl_global_cleanup();
}

static size_t count(const char *text, const char *s)
{
    size_t n = 0;
    for (const char *p = strstr(text, s); p != NULL; p = strstr(p + 1, s))
        n++;
    return n;
}

/* a before b in text, both present. */
static void before(const char *text, const char *a, const char *b)
{
    const char *pa = strstr(text, a), *pb = strstr(text, b);
    ck_assert_msg(pa != NULL && pb != NULL && pa < pb, "'%s' not before '%s' in:\n%.4000s", a, b,
                  text);
}

START_TEST(the_report_page_draws_the_chart_beside_its_table)
{
    char token[65];
    struct http h;
    const char *csp;
    login("a_super", token);
    get(&h, token, (const char *[]){"tp-chart", NULL});
    ck_assert_msg(h.status == 200, "tp-chart: %ld\n%.3000s", h.status, h.body);
    HASNT(h.body, "class=\"error\"");
    /* the chart first, inline, then the table that holds every figure */
    before(h.body, "<figure class=\"chart\">", "<table>");
    HAS(h.body, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"");
    HAS(h.body, "<title id=\"chart-title\">Screenings &lt;by&gt; week</title>");
    HAS(h.body, "<g><title>2026-W03: Positive 12, Negative 1</title>");
    HAS(h.body, "<figcaption>Screenings &lt;by&gt; week (the table below holds every figure) "
                "<a class=\"csv\" href=\"/run?a=tp-chart&amp;format=csv\" download>Download "
                "CSV</a></figcaption>");
    ck_assert_uint_eq(count(h.body, "<tr>"), 5); /* the header and four rows */
    HAS(h.body, "<td>&lt;script&gt;alert(1)&lt;/script&gt;, &quot;quoted&quot;</td>");
    HASNT(h.body, "<script");
    /* the page's policy holds: inline SVG needs no inline style, nothing is loaded */
    HASNT(h.body, " style=");
    HASNT(h.body, "<style");
    csp = header(&h, "Content-Security-Policy");
    ck_assert_ptr_nonnull(csp);
    HAS(csp, "default-src 'none'");
    HASNT(csp, "unsafe-inline");
    http_release(&h);
}
END_TEST

START_TEST(the_csv_link_downloads_exactly_the_rows_shown)
{
    char token[65];
    struct http page, h;
    login("a_super", token);
    get(&page, token, (const char *[]){"tp-chart", NULL});
    ck_assert_int_eq(page.status, 200);
    http_do(&h, "/run?a=tp-chart&format=csv", token, NULL, NULL);
    ck_assert_msg(h.status == 200, "csv: %ld\n%.3000s", h.status, h.body);
    ck_assert_str_eq(header(&h, "Content-Type"), "text/csv; charset=utf-8");
    ck_assert_str_eq(header(&h, "Content-Disposition"), "attachment; filename=\"tp-chart.csv\"");
    ck_assert_str_eq(header(&h, "Cache-Control"), "no-store");
    ck_assert_str_eq(h.body, chart_csv);
    /* every row of the page's table is a line of the file, and nothing more */
    ck_assert_uint_eq(count(h.body, "\r\n") - 1, count(page.body, "<tr>") - 1);
    HAS(page.body, "<td>2026-W04</td><td>boys</td><td>3</td><td>5</td><td>-1</td>");
    http_release(&h);
    http_release(&page);
}
END_TEST

START_TEST(the_csv_link_keeps_the_filters_of_the_page)
{
    char token[65];
    struct http h;
    login("a_super", token);
    get(&h, token, (const char *[]){"tp-chart", "--panels", "--from", "2026-01-01", NULL});
    ck_assert_msg(h.status == 200, "tp-chart: %ld\n%.3000s", h.status, h.body);
    HAS(h.body, "href=\"/run?a=tp-chart&amp;a=--panels&amp;a=--from&amp;a=2026-01-01&amp;"
                "format=csv\" download>Download CSV</a>");
    HAS(h.body, "2 panels, one for each Group, on one shared scale");
    /* the form of the report's table, prefilled, above it */
    HAS(h.body, "name=\"--from\"");
    http_release(&h);
    http_do(&h, "/run?a=tp-chart&a=--panels&a=--from&a=2026-01-01&format=csv", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    ck_assert_str_eq(h.body, chart_csv);
    http_release(&h);
    /* a bad date is the page's usage error, not a file */
    http_do(&h, "/run?a=tp-chart&a=--from&a=2026-02-30&format=csv", token, NULL, NULL);
    ck_assert_int_eq(h.status, 400);
    ck_assert_str_eq(header(&h, "Content-Type"), "text/html; charset=utf-8");
    ck_assert_ptr_null(header(&h, "Content-Disposition"));
    HAS(h.body, "--from");
    http_release(&h);
    /* an empty report is a header row: the columns the chart names */
    http_do(&h, "/run?a=tp-chart&a=--empty&format=csv", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    ck_assert_str_eq(h.body, "week,positive,negative\r\n");
    http_release(&h);
}
END_TEST

START_TEST(only_a_view_with_a_table_downloads_as_csv)
{
    char token[65];
    struct http h;
    login("a_super", token);
    http_do(&h, "/run?a=tp-report&format=csv", token, NULL, NULL);
    ck_assert_int_eq(h.status, 400);
    ck_assert_ptr_null(header(&h, "Content-Disposition"));
    HAS(h.body, "There is nothing to download as CSV: the output has no table.");
    http_release(&h);
    /* a command that changes something never runs from an address */
    http_do(&h, "/run?a=tp-typed&a=1&format=csv", token, NULL, NULL);
    ck_assert_int_eq(h.status, 400);
    HAS(h.body, "Only a command that shows something can be downloaded as CSV.");
    http_release(&h);
    /* without a session: the login page, no data */
    http_do(&h, "/run?a=tp-chart&format=csv", NULL, NULL, NULL);
    ck_assert_int_eq(h.status, 303);
    ck_assert_str_eq(header(&h, "Location"), "/login");
    HASNT(h.body, "2026-W01");
    http_release(&h);
}
END_TEST

START_TEST(reports_are_offered_to_those_who_lead)
{
    static const char link[] = "<li><a href=\"/run?a=tp-chart\">tp-chart </a>: screenings by "
                               "week, as a chart (a report)</li>";
    char token[65];
    struct http h;
    login("a_super", token);
    http_do(&h, "/", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    before(h.body, "<h2>Reports</h2>", link);
    http_release(&h);
    http_do(&h, "/commands", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    before(h.body, "<h2>Reports</h2>", link);
    ck_assert_uint_eq(count(h.body, link), 1); /* in the reports, not among the other commands */
    http_release(&h);
    login("a_admin", token);
    http_do(&h, "/", token, NULL, NULL);
    HAS(h.body, "<h2>Reports</h2>");
    http_release(&h);
    /* a caseworker's home is their work; the commands page still lists everything */
    login("a_worker", token);
    http_do(&h, "/", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    HASNT(h.body, "<h2>Reports</h2>");
    http_release(&h);
    http_do(&h, "/commands", token, NULL, NULL);
    HAS(h.body, link);
    http_release(&h);
}
END_TEST

/* ------------------------------------------------------------------ CLI --- */

START_TEST(csv_in_a_terminal_is_the_same_file)
{
    struct tl_result r;
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "tp-chart", "--csv", NULL), 0);
    ck_assert_str_eq(r.out, chart_csv);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "--csv", "tp-chart", "--panels", NULL),
                     0);
    ck_assert_str_eq(r.out, chart_csv);
    /* a command without a table refuses, writing nothing */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "tp-typed", "1", "--csv", NULL), 2);
    ck_assert_str_eq(r.out, "");
    HAS(r.err, "casehost: --csv: 'tp-typed': the output has no table");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "tp-chart", "--csv", "--json", NULL), 2);
    HAS(r.err, "--csv and --json are two output formats; choose one");
    /* text stays text */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "tp-chart", NULL), 0);
    HAS(r.out, "Weeks\n");
    HASNT(r.out, "<svg");
}
END_TEST

/* The names in dir, one per line (static storage). */
static const char *listing(const char *dir)
{
    static char names[4096];
    char cmd[1200];
    FILE *p;
    size_t n;
    snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(names, 1, sizeof(names) - 1, p);
    names[n] = '\0';
    pclose(p);
    return names;
}

START_TEST(svg_writes_the_chart_whole_or_not_at_all)
{
    struct tl_result r;
    char dir[1024], path[1100], missing[1100];
    char *one, *two;
    snprintf(dir, sizeof(dir), "%s/svg-%d", tl_env("CASEHOST_TEST_TMP"), (int)getpid());
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/chart.svg", dir);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "tp-chart", "--svg", path, NULL), 0);
    HAS(r.out, "2026-W03"); /* the text output as ever */
    one = tl_read_file(path);
    ck_assert(strncmp(one, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
    HAS(one, "<title id=\"chart-title\">Screenings &lt;by&gt; week</title>");
    HAS(one, "</svg>\n");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "--svg", path, "tp-chart", NULL), 0);
    two = tl_read_file(path);
    ck_assert_str_eq(one, two);                    /* the same report, the same bytes */
    ck_assert_str_eq(listing(dir), "chart.svg\n"); /* no temporary file left */
    free(one);
    free(two);

    /* a command that draws no chart: refused, the old file untouched, nothing printed */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "tp-typed", "1", "--svg", path, NULL),
                     2);
    HAS(r.err, "--svg: 'tp-typed' draws no chart");
    ck_assert_str_eq(r.out, "");
    two = tl_read_file(path);
    HAS(two, "Screenings &lt;by&gt; week");
    free(two);
    snprintf(missing, sizeof(missing), "%s/no/such/dir/chart.svg", dir);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "tp-chart", "--svg", missing, NULL), 1);
    HAS(r.err, "--svg: cannot create a file beside");
    HAS(r.err, "no/such/dir/chart.svg");
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_super", "tp-chart", "--svg", NULL), 2);
    HAS(r.err, "option '--svg' needs a file name");
    ck_assert_str_eq(listing(dir), "chart.svg\n");
}
END_TEST

static Suite *web_reports_suite(void)
{
    Suite *s = suite_create("web_reports");
    TCase *tc = tcase_create("web");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, the_report_page_draws_the_chart_beside_its_table);
    tcase_add_test(tc, the_csv_link_downloads_exactly_the_rows_shown);
    tcase_add_test(tc, the_csv_link_keeps_the_filters_of_the_page);
    tcase_add_test(tc, only_a_view_with_a_table_downloads_as_csv);
    tcase_add_test(tc, reports_are_offered_to_those_who_lead);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup_cli, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, csv_in_a_terminal_is_the_same_file);
    tcase_add_test(tc, svg_writes_the_chart_whole_or_not_at_all);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(web_reports_suite())
