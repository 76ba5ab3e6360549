/*
 * check_svg.c: charts drawn as SVG (core/svg.c) from a table and a chart
 * hint, and from an output document (out_chart, out_flush_svg). Hostile
 * labels must come back escaped and inert, every bar must carry its value
 * in a <title>, small multiples must share one scale, and the same input
 * must give the same bytes. Pure: no database.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "out.h"
#include "svg.h"

#define ck_has(text, s)                                                                            \
    ck_assert_msg(strstr((text), (s)) != NULL, "missing: %s\nin:\n%s", (s), (text))
#define ck_lacks(text, s)                                                                          \
    ck_assert_msg(strstr((text), (s)) == NULL, "present: %s\nin:\n%s", (s), (text))

static const char *const two[] = {"positive", "negative", NULL};

/* The SVG of rows (JSON text) drawn as hint says; caller frees. NULL when svg_render failed. */
static char *draw(const char *rows_json, const struct ch_chart *hint, const char *id)
{
    json_error_t e;
    json_t *rows = json_loads(rows_json, 0, &e);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc;
    ck_assert_msg(rows != NULL, "bad test JSON: %s", e.text);
    ck_assert_ptr_nonnull(f);
    rc = svg_render(f, rows, hint, id, 0);
    ck_assert_int_eq(fclose(f), 0);
    json_decref(rows);
    if (rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static size_t count(const char *text, const char *s)
{
    size_t n = 0;
    for (const char *p = strstr(text, s); p != NULL; p = strstr(p + 1, s))
        n++;
    return n;
}

/* Nothing that runs or loads: no script, no event attribute, no style, no link of any kind. */
static void ck_inert(const char *svg)
{
    char *lower = strdup(svg);
    for (char *p = lower; *p != '\0'; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    ck_lacks(lower, "<script");
    for (const char *on = strstr(lower, " on"); on != NULL; on = strstr(on + 1, " on")) {
        const char *q = on + 3;
        while (*q >= 'a' && *q <= 'z')
            q++;
        ck_assert_msg(!(q[0] == '=' && q[1] == '"'), "an event attribute in:\n%s", svg);
    }
    ck_lacks(lower, "style");
    ck_lacks(lower, "href");
    ck_lacks(lower, "javascript:");
    ck_lacks(lower, "<foreignobject");
    ck_lacks(lower, "<image");
    ck_assert_int_eq(count(lower, "http"), 1); /* the SVG namespace only */
    ck_has(lower, "xmlns=\"http://www.w3.org/2000/svg\"");
    free(lower);
}

/* The heights of the rects filled with fill, in document order, into h (at most n); how many. */
static size_t heights(const char *svg, const char *fill, double *h, size_t n)
{
    size_t got = 0;
    char want[64];
    snprintf(want, sizeof(want), "fill=\"%s\" stroke=\"#000\" stroke-width=\"0.5\"", fill);
    for (const char *p = strstr(svg, want); p != NULL && got < n; p = strstr(p + 1, want)) {
        const char *rect = p;
        while (rect > svg && strncmp(rect, "<rect ", 6) != 0)
            rect--;
        const char *hp = strstr(rect, "height=\"");
        ck_assert_ptr_nonnull(hp);
        h[got++] = strtod(hp + 8, NULL);
    }
    return got;
}

START_TEST(hostile_labels_are_escaped_and_inert)
{
    static const char *const series[] = {"a<b", NULL};
    const struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, "Title \"><script>alert(1)</script>",
                                  "x<y",        series,        NULL};
    char *svg = draw("[{\"x<y\": \"<img src=x onerror=alert(1)>\", \"a<b\": 3},"
                     " {\"x<y\": \"tab\\there \\u001b[2J & 'q'\", \"a<b\": 4}]",
                     &hint, "c1");
    ck_assert_ptr_nonnull(svg);
    ck_inert(svg);
    ck_lacks(svg, "<img");
    ck_has(svg, "&lt;img src=x onerror=alert(1)&gt;");
    ck_has(svg, "Title &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    ck_has(svg, "A&lt;b");   /* the series' label, in the legend and the titles */
    ck_has(svg, "\\x1b[2J"); /* a control character is shown, never sent */
    ck_lacks(svg, "\x1b");
    ck_has(svg, "tab\\there");
    ck_has(svg, "&amp; &#39;q&#39;");
    free(svg);
}
END_TEST

START_TEST(the_chart_names_itself_for_a_screen_reader)
{
    const struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, "Screenings by week",
                                  "week",       two,           NULL};
    char *svg = draw("[{\"week\": \"W1\", \"positive\": 2, \"negative\": 5}]", &hint, "r7");
    ck_assert_ptr_nonnull(svg);
    ck_has(svg, "role=\"img\"");
    ck_has(svg, "aria-labelledby=\"r7-title r7-desc\"");
    ck_has(svg, "<title id=\"r7-title\">Screenings by week</title>");
    ck_has(svg, "<desc id=\"r7-desc\">One bar for each Week, stacked: Positive, Negative. 1 bars;"
                " the largest total is 7.");
    /* the bar's own title holds its values; the legend names both series */
    ck_has(svg, "<g><title>W1: Positive 2, Negative 5</title>");
    ck_has(svg, ">Positive</text>");
    ck_has(svg, ">Negative</text>");
    /* black and white: a dark grey and a light grey, each outlined */
    ck_assert_int_eq(count(svg, "fill=\"#333333\" stroke=\"#000\""), 2); /* bar and legend */
    ck_assert_int_eq(count(svg, "fill=\"#bbbbbb\" stroke=\"#000\""), 2);
    ck_inert(svg);
    free(svg);
}
END_TEST

START_TEST(an_empty_table_draws_an_axis_and_says_so)
{
    const struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, "Nothing yet", "week", two, NULL};
    char *svg = draw("[]", &hint, "e");
    ck_assert_ptr_nonnull(svg);
    ck_has(svg, ">No rows</text>");
    ck_has(svg, "0 bars; the largest total is 0.");
    ck_has(svg, ">0</text>");
    ck_has(svg, ">1</text>"); /* a scale of 0 to 1, not a division by zero */
    ck_lacks(svg, "nan");
    ck_lacks(svg, "inf");
    ck_lacks(svg, "<g><title>");
    ck_inert(svg);
    free(svg);
}
END_TEST

START_TEST(zero_values_draw_no_bar_but_keep_their_title)
{
    const struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, "Zero", "week", two, NULL};
    char *svg = draw("[{\"week\": \"W1\", \"positive\": 0, \"negative\": 0},"
                     " {\"week\": \"W2\", \"positive\": \"<11\", \"negative\": null}]",
                     &hint, "z");
    double h[4];
    ck_assert_ptr_nonnull(svg);
    ck_assert_uint_eq(heights(svg, "#333333", h, 4), 0);
    ck_assert_uint_eq(heights(svg, "#bbbbbb", h, 4), 0);
    ck_has(svg, "<title>W1: Positive 0, Negative 0</title>");
    /* a suppressed cell draws nothing and reads as the table shows it */
    ck_has(svg, "<title>W2: Positive &lt;11, Negative -</title>");
    ck_lacks(svg, "nan");
    free(svg);
}
END_TEST

START_TEST(one_row_is_one_bar_with_its_total)
{
    const struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, "One", "week", two, NULL};
    char *svg = draw("[{\"week\": \"W1\", \"positive\": 3, \"negative\": 4}]", &hint, "o");
    double a[2], b[2];
    ck_assert_ptr_nonnull(svg);
    ck_assert_uint_eq(count(svg, "<g><title>"), 1);
    ck_assert_uint_eq(heights(svg, "#333333", a, 2), 1);
    ck_assert_uint_eq(heights(svg, "#bbbbbb", b, 2), 1);
    ck_assert_double_eq_tol(a[0] / b[0], 3.0 / 4.0, 1e-3); /* stacked in proportion */
    ck_has(svg, "text-anchor=\"middle\">7</text>");        /* the total over the bar */
    free(svg);
}
END_TEST

START_TEST(many_rows_widen_the_chart_and_thin_the_labels)
{
    const struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, "Many", "day", two, NULL};
    char *rows = NULL, *svg;
    size_t len = 0;
    FILE *f = open_memstream(&rows, &len);
    double w;
    fputc('[', f);
    for (int i = 0; i < 500; i++)
        fprintf(f, "%s{\"day\": \"d%03d\", \"positive\": %d, \"negative\": 1}", i ? "," : "", i,
                i % 7);
    fputc(']', f);
    ck_assert_int_eq(fclose(f), 0);
    svg = draw(rows, &hint, "m");
    ck_assert_ptr_nonnull(svg);
    ck_assert_uint_eq(count(svg, "<g><title>"), 500);
    ck_has(svg, "<title>d499: Positive 2, Negative 1</title>");
    w = strtod(strstr(svg, "width=\"") + 7, NULL);
    ck_assert_msg(w >= 500 * 8, "a bar chart of 500 rows is only %g wide", w);
    /* the x labels do not overlap: far fewer than the bars */
    ck_assert_uint_lt(count(svg, "\">d"), 150);
    ck_has(svg, ">d000</text>");
    free(svg);
    free(rows);
}
END_TEST

START_TEST(huge_numbers_keep_their_digits_and_a_readable_axis)
{
    const struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, "Huge", "week", two, NULL};
    char *svg = draw("[{\"week\": \"W1\", \"positive\": 9223372036854775807, \"negative\": "
                     "9223372036854775807}, {\"week\": \"W2\", \"positive\": 1, \"negative\": 0}]",
                     &hint, "h");
    double a[2];
    ck_assert_ptr_nonnull(svg);
    ck_has(svg, "<title>W1: Positive 9223372036854775807, Negative 9223372036854775807</title>");
    ck_has(svg, "E</text>"); /* ticks in exa: "5E", "10E", ... */
    ck_lacks(svg, "nan");
    ck_lacks(svg, "inf");
    ck_lacks(svg, "e+");
    ck_assert_uint_eq(heights(svg, "#333333", a, 2), 2);
    ck_assert(a[0] > 50 && a[0] <= 220);
    ck_assert_double_eq(a[1], 1.0); /* 1 beside 1.8e19: still seen, one unit high */
    free(svg);
}
END_TEST

START_TEST(small_multiples_share_one_scale)
{
    const struct ch_chart hint = {sizeof(hint), CH_CHART_SMALL_MULTIPLES, "By group", "week", two,
                                  "group"};
    char *svg = draw("[{\"week\": \"W1\", \"group\": \"girls\", \"positive\": 3, \"negative\": 5},"
                     " {\"week\": \"W2\", \"group\": \"boys\", \"positive\": 1, \"negative\": 7},"
                     " {\"week\": \"W3\", \"group\": \"girls\", \"positive\": 12, \"negative\": 1},"
                     " {\"week\": \"W4\", \"group\": \"boys\", \"positive\": 3, \"negative\": 5}]",
                     &hint, "s");
    double pos[4], neg[4];
    const char *boys, *girls;
    ck_assert_ptr_nonnull(svg);
    girls = strstr(svg, ">girls</text>");
    boys = strstr(svg, ">boys</text>");
    ck_assert_ptr_nonnull(girls);
    ck_assert_ptr_nonnull(boys);
    ck_assert(girls < boys); /* panels in order of first appearance */
    ck_has(svg, "2 panels, one for each Group, on one shared scale");
    ck_assert_uint_eq(heights(svg, "#333333", pos, 4), 4); /* W1, W3 (girls), W2, W4 (boys) */
    ck_assert_uint_eq(heights(svg, "#bbbbbb", neg, 4), 4);
    /* 3 and 5 in the girls' panel are exactly as tall as 3 and 5 in the boys' */
    ck_assert_double_eq_tol(pos[0], pos[3], 1e-9);
    ck_assert_double_eq_tol(neg[0], neg[3], 1e-9);
    ck_assert_double_eq_tol(pos[2] * 3, pos[3], 0.02);
    /* both panels have the same ticks, up to 15 (13 is the largest total of either) */
    ck_assert_uint_eq(count(svg, ">15</text>"), 2);
    ck_inert(svg);
    free(svg);
}
END_TEST

START_TEST(the_same_table_gives_the_same_bytes)
{
    const struct ch_chart hint = {sizeof(hint), CH_CHART_SMALL_MULTIPLES, "Again", "week", two,
                                  "group"};
    const char *rows = "[{\"week\": \"W1\", \"group\": \"a\", \"positive\": 3, \"negative\": 5},"
                       " {\"week\": \"W2\", \"group\": \"b\", \"positive\": 9, \"negative\": 0}]";
    char *one = draw(rows, &hint, "d"), *again = draw(rows, &hint, "d");
    ck_assert_ptr_nonnull(one);
    ck_assert_str_eq(one, again);
    free(one);
    free(again);
}
END_TEST

START_TEST(without_series_every_integer_member_is_one)
{
    const struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, "Derived", "week", NULL, NULL};
    char *svg =
        draw("[{\"week\": \"W1\", \"label\": \"x\", \"done\": 2, \"missed\": 1}]", &hint, "v");
    ck_assert_ptr_nonnull(svg);
    ck_has(svg, "<title>W1: Done 2, Missed 1</title>");
    ck_lacks(svg, "Label");
    free(svg);
}
END_TEST

START_TEST(a_bad_id_or_hint_draws_nothing)
{
    const struct ch_chart no_facet = {
        sizeof(no_facet), CH_CHART_SMALL_MULTIPLES, "t", "week", two, NULL};
    const struct ch_chart ok = {sizeof(ok), CH_CHART_BARS, "t", "week", two, NULL};
    ck_assert_ptr_null(draw("[]", &ok, "a\"b"));
    ck_assert_ptr_null(draw("[]", &ok, ""));
    ck_assert_ptr_null(draw("[]", &no_facet, "ok"));
}
END_TEST

/* ------------------------------------------------------ out_chart, out_flush_svg --- */

static struct out *report(int with_chart)
{
    struct out *o = out_new(0);
    char title[32], x[8];
    static const char *const series[] = {"positive", NULL};
    struct ch_chart hint = {sizeof(hint), CH_CHART_BARS, title, x, series, NULL};
    out_str(o, "data_as_of", "2026-01-01");
    out_array(o, "weeks");
    for (int i = 0; i < 3; i++) {
        out_object(o, NULL);
        out_str(o, "week", i == 1 ? "<b>W2</b>" : "W");
        out_int(o, "positive", i * 10);
        out_end(o);
    }
    out_end(o);
    if (with_chart) {
        snprintf(title, sizeof(title), "Positive by week");
        snprintf(x, sizeof(x), "week");
        out_chart(o, "weeks", &hint);
        memset(title, 'X', sizeof(title) - 1); /* the document keeps its own copy */
        memset(x, 'X', sizeof(x) - 1);
    }
    return o;
}

static char *flush_svg(struct out *o, int *rc, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *rc = out_flush_svg(o, f, err, errlen);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

START_TEST(the_document_draws_the_chart_it_was_asked_for)
{
    struct out *o = report(1);
    char err[128] = "", *svg, *again;
    int rc;
    ck_assert(out_has_chart(o));
    svg = flush_svg(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, 0);
    ck_assert(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
    ck_has(svg, "<title id=\"chart-title\">Positive by week</title>");
    ck_has(svg, "<title>&lt;b&gt;W2&lt;/b&gt;: Positive 10</title>");
    ck_has(svg, "</svg>\n");
    again = flush_svg(o, &rc, err, sizeof(err));
    ck_assert_str_eq(svg, again);
    free(svg);
    free(again);
    out_free(o);
}
END_TEST

START_TEST(a_document_without_a_chart_writes_no_svg)
{
    struct out *o = report(0);
    static const char *const series[] = {"positive", NULL};
    const struct ch_chart no_x = {sizeof(no_x), CH_CHART_BARS, "t", NULL, series, NULL};
    const struct ch_chart old = {
        offsetof(struct ch_chart, x), CH_CHART_BARS, "t", "week", series, NULL};
    char err[128] = "", *svg;
    int rc;
    ck_assert(!out_has_chart(o));
    svg = flush_svg(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(svg, "");
    ck_assert_str_eq(err, "the command drew no chart");
    free(svg);
    out_chart(o, "weeks", &no_x); /* nothing to name the bars by */
    ck_assert(!out_has_chart(o));
    out_chart(o, "weeks", &old); /* a size that stops before x: x is not read */
    ck_assert(!out_has_chart(o));
    out_chart(
        o, "missing",
        &(struct ch_chart){sizeof(struct ch_chart), CH_CHART_BARS, "t", "week", series, NULL});
    ck_assert(out_has_chart(o));
    svg = flush_svg(o, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(svg, "");
    ck_assert_str_eq(err, "the chart's table 'missing' is not in the output");
    free(svg);
    out_free(o);
}
END_TEST

static char *html_of(struct out *o, const char *const *argv)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(out_flush_html_page(o, f, "tok", argv), 0);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

START_TEST(a_page_draws_the_figure_above_its_table_and_links_its_csv)
{
    struct out *o = report(1);
    char *html = html_of(o, (const char *const[]){"report", "screenings", "--by", "week", NULL});
    const char *fig = strstr(html, "<figure class=\"chart\">"), *table = strstr(html, "<table>");
    ck_assert(fig != NULL && table != NULL && fig < table);
    ck_has(html, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"");
    ck_lacks(html, "<?xml"); /* inline: no declaration inside a page */
    ck_has(html, "<figcaption>Positive by week (the table below holds every figure) <a "
                 "class=\"csv\" href=\"/run?a=report&amp;a=screenings&amp;a=--by&amp;a=week&amp;"
                 "format=csv\" download>Download CSV</a></figcaption>");
    free(html);
    /* words that must not sit in an address (a name, a note): no link; nor without a command */
    html = html_of(o, (const char *const[]){"report", "screenings", "Jo Smith", NULL});
    ck_has(html, "<figure class=\"chart\">");
    ck_lacks(html, "Download CSV");
    free(html);
    html = html_of(o, NULL);
    ck_has(html, "<figure class=\"chart\">");
    ck_lacks(html, "Download CSV");
    free(html);
    out_free(o);
    o = report(0); /* no chart: the table alone, as ever */
    html = html_of(o, (const char *const[]){"report", "screenings", NULL});
    ck_lacks(html, "<figure");
    ck_lacks(html, "<svg");
    ck_has(html, "<table>");
    free(html);
    out_free(o);
}
END_TEST

static Suite *svg_suite(void)
{
    Suite *s = suite_create("svg");
    TCase *tc = tcase_create("svg_render");
    tcase_add_test(tc, hostile_labels_are_escaped_and_inert);
    tcase_add_test(tc, the_chart_names_itself_for_a_screen_reader);
    tcase_add_test(tc, an_empty_table_draws_an_axis_and_says_so);
    tcase_add_test(tc, zero_values_draw_no_bar_but_keep_their_title);
    tcase_add_test(tc, one_row_is_one_bar_with_its_total);
    tcase_add_test(tc, many_rows_widen_the_chart_and_thin_the_labels);
    tcase_add_test(tc, huge_numbers_keep_their_digits_and_a_readable_axis);
    tcase_add_test(tc, small_multiples_share_one_scale);
    tcase_add_test(tc, the_same_table_gives_the_same_bytes);
    tcase_add_test(tc, without_series_every_integer_member_is_one);
    tcase_add_test(tc, a_bad_id_or_hint_draws_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("out_chart");
    tcase_add_test(tc, the_document_draws_the_chart_it_was_asked_for);
    tcase_add_test(tc, a_document_without_a_chart_writes_no_svg);
    tcase_add_test(tc, a_page_draws_the_figure_above_its_table_and_links_its_csv);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(svg_suite())
