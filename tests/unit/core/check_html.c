/*
 * check_html.c: the web surface's pure half. The escapers (core/html.c) for
 * each context, a typed command as a form and a posted form back into argv
 * (core/webform.c), and the output document as HTML (out_flush_html).
 * Hostile values (script tags, quotes, javascript: URLs) must come back
 * escaped wherever they land; every control has a label and a unique id.
 * Pure: no database, no server.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "check_main.h"
#include "html.h"
#include "out.h"
#include "webform.h"

#define HOSTILE "\"><script>alert(1)</script>"
#define HOSTILE_ESCAPED "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"

/* Captured output: open with mem_open, take the text (caller frees) with mem_text. */
struct mem {
    char *buf;
    size_t len;
    FILE *f;
};

static FILE *mem_open(struct mem *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    ck_assert_ptr_nonnull(m->f);
    return m->f;
}

static char *mem_text(struct mem *m)
{
    ck_assert_int_eq(fclose(m->f), 0);
    return m->buf;
}

#define ck_has(html, s)                                                                            \
    ck_assert_msg(strstr((html), (s)) != NULL, "missing: %s\nin:\n%s", (s), (html))
#define ck_lacks(html, s)                                                                          \
    ck_assert_msg(strstr((html), (s)) == NULL, "present: %s\nin:\n%s", (s), (html))

/* a and b both in html, a first. */
static void ck_before(const char *html, const char *a, const char *b)
{
    const char *pa = strstr(html, a), *pb = strstr(html, b);
    ck_assert_msg(pa != NULL && pb != NULL && pa < pb, "'%s' not before '%s' in:\n%s", a, b, html);
}

/* Nothing executable: no script element, event handler, inline style or javascript: link. */
static void ck_inert(const char *html)
{
    char *lower = strdup(html);
    ck_assert_ptr_nonnull(lower);
    for (char *p = lower; *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    ck_lacks(lower, "<script");
    ck_lacks(lower, " style=");
    ck_lacks(lower, " onclick=");
    ck_lacks(lower, " onerror=");
    ck_lacks(lower, "href=\"javascript:");
    free(lower);
}

/* The value of the attribute that starts at p (just after its opening quote), in buf. */
static void attr_value(const char *p, char *buf, size_t n)
{
    size_t i = 0;
    while (p[i] != '"' && p[i] != '\0' && i + 1 < n) {
        buf[i] = p[i];
        i++;
    }
    buf[i] = '\0';
}

static size_t count(const char *html, const char *s)
{
    size_t n = 0;
    for (const char *p = strstr(html, s); p != NULL; p = strstr(p + 1, s))
        n++;
    return n;
}

/*
 * Every id is unique, every <label for=X> names a control with id X, every
 * aria-describedby an element that exists, and every input or select that
 * is not hidden has a label.
 */
static void ck_labelled(const char *html)
{
    static const char *const refs[] = {"for=\"", "aria-describedby=\""};
    char id[256], want[300];
    for (const char *p = strstr(html, " id=\""); p != NULL; p = strstr(p + 1, " id=\"")) {
        attr_value(p + 5, id, sizeof(id));
        snprintf(want, sizeof(want), " id=\"%s\"", id);
        ck_assert_msg(count(html, want) == 1, "id '%s' not unique in:\n%s", id, html);
    }
    for (size_t r = 0; r < 2; r++)
        for (const char *p = strstr(html, refs[r]); p != NULL; p = strstr(p + 1, refs[r])) {
            attr_value(p + strlen(refs[r]), id, sizeof(id));
            snprintf(want, sizeof(want), " id=\"%s\"", id);
            ck_assert_msg(count(html, want) == 1, "%s'%s' names no element in:\n%s", refs[r], id,
                          html);
        }
    for (const char *p = strstr(html, "<input"); p != NULL; p = strstr(p + 1, "<input")) {
        if (strncmp(p, "<input type=\"hidden\"", 20) == 0)
            continue;
        const char *at = strstr(p, " id=\"");
        ck_assert_ptr_nonnull(at);
        attr_value(at + 5, id, sizeof(id));
        snprintf(want, sizeof(want), "<label for=\"%s\">", id);
        ck_assert_msg(strstr(html, want) != NULL, "control '%s' has no label in:\n%s", id, html);
    }
    for (const char *p = strstr(html, "<select"); p != NULL; p = strstr(p + 1, "<select")) {
        attr_value(strstr(p, " id=\"") + 5, id, sizeof(id));
        snprintf(want, sizeof(want), "<label for=\"%s\">", id);
        ck_assert_msg(strstr(html, want) != NULL, "select '%s' has no label in:\n%s", id, html);
    }
}

/* ----------------------------------------------------------- escapers --- */

static const struct {
    const char *name;
    const char *in;
    const char *text; /* html_text and html_attr */
    const char *url;
} escapes[] = {
    {"script element", "<script>alert(\"x\")</script>",
     "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
     "%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E"},
    {"quotes and ampersand", "it's \"quoted\" & more", "it&#39;s &quot;quoted&quot; &amp; more",
     "it%27s%20%22quoted%22%20%26%20more"},
    {"javascript url", "javascript:alert(1)", "javascript:alert(1)", "javascript%3Aalert%281%29"},
    {"query separators", "a b&c=d/e?f#g", "a b&amp;c=d/e?f#g", "a%20b%26c%3Dd%2Fe%3Ff%23g"},
    {"utf-8 bytes", "\xc3\xa9\xe2\x98\x83", "\xc3\xa9\xe2\x98\x83", "%C3%A9%E2%98%83"},
    {"unreserved kept", "AZaz09-._~", "AZaz09-._~", "AZaz09-._~"},
    {"percent and plus", "100%+1", "100%+1", "100%25%2B1"},
    {"entity already", "&amp;", "&amp;amp;", "%26amp%3B"},
    {"empty", "", "", ""},
};

START_TEST(each_context_escapes_its_specials)
{
    struct mem m;
    char *got;
    html_text(mem_open(&m), escapes[_i].in);
    got = mem_text(&m);
    ck_assert_msg(strcmp(got, escapes[_i].text) == 0, "%s: text %s", escapes[_i].name, got);
    free(got);
    html_attr(mem_open(&m), escapes[_i].in);
    got = mem_text(&m);
    ck_assert_msg(strcmp(got, escapes[_i].text) == 0, "%s: attr %s", escapes[_i].name, got);
    free(got);
    html_url(mem_open(&m), escapes[_i].in);
    got = mem_text(&m);
    ck_assert_msg(strcmp(got, escapes[_i].url) == 0, "%s: url %s", escapes[_i].name, got);
    free(got);
}
END_TEST

START_TEST(null_writes_nothing)
{
    struct mem m;
    FILE *f = mem_open(&m);
    char *got;
    html_text(f, NULL);
    html_attr(f, NULL);
    html_url(f, NULL);
    got = mem_text(&m);
    ck_assert_str_eq(got, "");
    free(got);
}
END_TEST

/* Every byte from 1 to 255: the url form holds only unreserved characters and %XX. */
START_TEST(url_components_hold_only_unreserved_characters)
{
    char all[256];
    struct mem m;
    char *got;
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    html_url(mem_open(&m), all);
    got = mem_text(&m);
    for (const char *p = got; *p != '\0'; p++)
        ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%",
                             *p) != NULL,
                      "byte 0x%02x kept", (unsigned char)*p);
    ck_assert_uint_eq(strlen(got), 66 + (255 - 66) * 3);
    free(got);
}
END_TEST

/* --------------------------------------------------------------- forms --- */

static int noop(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    (void)ctx, (void)v, (void)ud;
    return 0;
}

enum { W_CASE, W_STATUS, W_KIND, W_HOURS, W_SINCE, W_AT, W_NOTE, W_TAG, W_LOUD, W_FILE, W_N };
static const char *const statuses[] = {"open", "in_progress", "closed", NULL};
static const char *const kinds[] = {"a", "b", NULL};
static const struct ch_arg form_args[] = {
    [W_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [W_STATUS] = {"--status", CH_ARG_ENUM, 0, "the new status", statuses, NULL, 0, 0},
    [W_KIND] = {"--kind", CH_ARG_ENUM, CH_ARG_REQUIRED, "a kind", kinds, NULL, 0, 0},
    [W_HOURS] = {"--hours", CH_ARG_INT, 0, "hours", NULL, NULL, 1, 72},
    [W_SINCE] = {"--since", CH_ARG_DATE, 0, "since", NULL, NULL, 0, 0},
    [W_AT] = {"--runaway_start", CH_ARG_TIMESTAMP, 0, "when", NULL, NULL, 0, 0},
    [W_NOTE] = {"--note", CH_ARG_TEXT, 0, "a <b>note</b> & \"more\"", NULL, NULL, 0, 0},
    [W_TAG] = {"--tag", CH_ARG_TEXT, CH_ARG_REPEAT, "a tag", NULL, NULL, 0, 0},
    [W_LOUD] = {"--loud", CH_ARG_BOOL, 0, NULL, NULL, NULL, 0, 0},
    [W_FILE] = {"--answers", CH_ARG_FILE, 0, "a file of answers", NULL, NULL, 0, 0},
};
static const struct ch_command_spec form_spec = {sizeof(form_spec),
                                                 "case",
                                                 "update",
                                                 "Update the case",
                                                 CH_SPEC_ARGS(form_args),
                                                 noop,
                                                 NULL,
                                                 0,
                                                 NULL};

static char *form(const struct ch_value *prefill, const char *csrf)
{
    struct mem m;
    webform_render(mem_open(&m), &form_spec, "case", prefill, csrf);
    return mem_text(&m);
}

START_TEST(the_table_is_a_form_of_labelled_controls)
{
    char err[256];
    char *html;
    ck_assert_int_eq(args_check_spec(&form_spec, err, sizeof(err)), 0);
    html = form(NULL, "tok&1");
    ck_has(html, "<form method=\"post\" action=\"/run\"");
    ck_has(html, "<input type=\"hidden\" name=\"_csrf\" value=\"tok&amp;1\">");
    ck_has(html, "<input type=\"hidden\" name=\"_verb\" value=\"case\">");
    ck_has(html, "<input type=\"hidden\" name=\"_sub\" value=\"update\">");
    /* ID: a number from 1, required, described by its help */
    ck_has(html, "<label for=\"f-case\">Case <span class=\"required\">(required)</span></label>");
    ck_has(html, "<input type=\"number\" min=\"1\" id=\"f-case\" name=\"case\" required "
                 "aria-describedby=\"help-f-case\">");
    ck_has(html, "<p class=\"help\" id=\"help-f-case\">the case</p>");
    /* ENUM: an empty first choice unless required */
    ck_has(html, "<label for=\"o-status\">Status</label>");
    ck_has(html, "<select id=\"o-status\" name=\"--status\" aria-describedby=\"help-o-status\">\n"
                 "<option value=\"\"></option>\n<option value=\"open\">open</option>\n"
                 "<option value=\"in_progress\">in_progress</option>\n");
    ck_has(html, "<select id=\"o-kind\" name=\"--kind\" required "
                 "aria-describedby=\"help-o-kind\">\n<option value=\"a\">a</option>\n");
    /* INT with its bounds, DATE, TIMESTAMP, TEXT */
    ck_has(html, "<input type=\"number\" min=\"1\" max=\"72\" id=\"o-hours\" name=\"--hours\"");
    ck_has(html, "<input type=\"date\" id=\"o-since\" name=\"--since\"");
    ck_has(html, "<label for=\"o-runaway_start\">Runaway start</label>");
    ck_has(html, "<input type=\"text\" placeholder=\"YYYY-MM-DD HH:MM or now\" "
                 "id=\"o-runaway_start\" name=\"--runaway_start\"");
    ck_has(html, "<input type=\"text\" id=\"o-note\" name=\"--note\"");
    ck_has(html, "<p class=\"help\" id=\"help-o-note\">a &lt;b&gt;note&lt;/b&gt; &amp; "
                 "&quot;more&quot;</p>");
    ck_has(html,
           "<input type=\"text\" id=\"o-tag\" name=\"--tag\" aria-describedby=\"help-o-tag\">");
    /* BOOL: not given, yes, no; without help no describedby */
    ck_has(html, "<select id=\"o-loud\" name=\"--loud\">\n<option value=\"\"></option>\n"
                 "<option value=\"yes\">yes</option>\n<option value=\"no\">no</option>\n</select>");
    /* FILE: an upload, never a path the browser names; the form is sent as multipart */
    ck_lacks(html, "name=\"--answers\"");
    ck_has(html, "<input type=\"file\" id=\"o-answers\" name=\"_upload:--answers\" "
                 "aria-describedby=\"help-o-answers\">");
    ck_has(html, "enctype=\"multipart/form-data\"");
    ck_has(html, "<button type=\"submit\">Update the case</button>\n</form>\n");
    ck_assert_uint_eq(count(html, "(required)"), 2);
    ck_assert_uint_eq(count(html, " required"), 2);
    ck_labelled(html);
    ck_inert(html);
    free(html);
}
END_TEST

START_TEST(prefilled_values_are_initial_and_escaped)
{
    static const char *const tags[] = {"a", "b'c", NULL};
    struct ch_value v[W_N];
    char *html;
    memset(v, 0, sizeof(v));
    v[W_CASE] = (struct ch_value){1, 12, "12", NULL};
    v[W_STATUS] = (struct ch_value){1, 2, "closed", NULL};
    v[W_HOURS] = (struct ch_value){1, 5, "5", NULL};
    v[W_AT] = (struct ch_value){1, 0, "now", NULL};
    v[W_NOTE] = (struct ch_value){1, 0, HOSTILE, NULL};
    v[W_TAG] = (struct ch_value){2, 0, "b'c", tags};
    v[W_LOUD] = (struct ch_value){1, 0, "off", NULL};
    html = form(v, HOSTILE);
    ck_has(html, "name=\"_csrf\" value=\"" HOSTILE_ESCAPED "\">");
    ck_has(html, "id=\"f-case\" name=\"case\" required aria-describedby=\"help-f-case\" "
                 "value=\"12\">");
    ck_has(html, "<option value=\"\"></option>\n<option value=\"open\">open</option>\n"
                 "<option value=\"in_progress\">in_progress</option>\n"
                 "<option value=\"closed\" selected>closed</option>\n");
    ck_has(html, "name=\"--hours\" aria-describedby=\"help-o-hours\" value=\"5\">");
    ck_has(html, "name=\"--runaway_start\" aria-describedby=\"help-o-runaway_start\" "
                 "value=\"now\">");
    ck_has(html, "name=\"--note\" aria-describedby=\"help-o-note\" value=\"" HOSTILE_ESCAPED "\">");
    /* a repeated option: each value, then one more empty control, each labelled */
    ck_has(html, "id=\"o-tag\" name=\"--tag\" aria-describedby=\"help-o-tag\" value=\"a\">");
    ck_has(html, "<label for=\"o-tag.2\">Tag (2)</label>");
    ck_has(html,
           "id=\"o-tag.2\" name=\"--tag\" aria-describedby=\"help-o-tag\" value=\"b&#39;c\">");
    ck_has(html, "id=\"o-tag.3\" name=\"--tag\" aria-describedby=\"help-o-tag\">");
    /* a bool shows its word, whatever word was typed */
    ck_has(html, "<select id=\"o-loud\" name=\"--loud\">\n<option value=\"\"></option>\n"
                 "<option value=\"yes\">yes</option>\n<option value=\"no\" selected>no</option>\n");
    ck_assert_uint_eq(count(html, " selected"), 2);
    ck_labelled(html);
    ck_inert(html);
    free(html);
}
END_TEST

START_TEST(a_command_without_sub_or_help_posts_no_sub)
{
    static const struct ch_arg one[] = {
        {"case", CH_ARG_ID, CH_ARG_REQUIRED, NULL, NULL, NULL, 0, 0}};
    static const struct ch_command_spec s1 = {sizeof(s1), "show", NULL, NULL, CH_SPEC_ARGS(one),
                                              noop,       NULL,   0,    NULL};
    struct mem m;
    char *html;
    webform_render(mem_open(&m), &s1, NULL, NULL, "t");
    html = mem_text(&m);
    ck_has(html, "name=\"_verb\" value=\"show\">");
    ck_lacks(html, "_sub");
    ck_lacks(html, "class=\"help\"");
    ck_lacks(html, "aria-describedby");
    ck_has(html, "<button type=\"submit\">Run</button>");
    ck_labelled(html);
    free(html);
}
END_TEST

/* ---------------------------------------------------------------- argv --- */

enum { V_CASE, V_STATUS, V_TAG, V_LOUD, V_ANSWER, V_ITEM, V_N };
static const struct ch_arg argv_args[] = {
    [V_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "", NULL, NULL, 0, 0},
    [V_STATUS] = {"--status", CH_ARG_ENUM, 0, "", statuses, NULL, 0, 0},
    [V_TAG] = {"--tag", CH_ARG_TEXT, CH_ARG_REPEAT, "", NULL, NULL, 0, 0},
    [V_LOUD] = {"--loud", CH_ARG_BOOL, 0, "", NULL, NULL, 0, 0},
    [V_ANSWER] = {"--answer", CH_ARG_TEXT, CH_ARG_REPEAT, "", NULL, NULL, 0, 0},
    [V_ITEM] = {"item", CH_ARG_TEXT, CH_ARG_REPEAT, "", NULL, NULL, 0, 0},
};
static const struct ch_command_spec argv_spec = {
    sizeof(argv_spec), "screen", "step", "x", CH_SPEC_ARGS(argv_args), noop, NULL, 0, NULL};

#define F(name, value)                                                                             \
    {                                                                                              \
        name, value                                                                                \
    }
static const struct {
    const char *name;
    const char *fields[12][2]; /* until a NULL name */
    const char *argv[20];      /* NULL-terminated */
} posts[] = {
    {"positionals in table order, then options in table order",
     {F("--loud", "yes"), F("item", "x=1"), F("--status", "open"), F("case", "4"),
      F("item", "y=2")},
     {"screen", "step", "4", "x=1", "y=2", "--status", "open", "--loud", "yes", NULL}},
    {"a bool passes yes or no as its value",
     {F("case", "4"), F("--loud", "no")},
     {"screen", "step", "4", "--loud", "no", NULL}},
    {"a bool's other word stays attached for the parser to refuse",
     {F("case", "4"), F("--loud", "maybe")},
     {"screen", "step", "4", "--loud=maybe", NULL}},
    {"a repeated option once per field",
     {F("--tag", "a"), F("case", "4"), F("--tag", "b c")},
     {"screen", "step", "4", "--tag", "a", "--tag", "b c", NULL}},
    {"option:id fields are option and id=value, bare ones id=value",
     {F("case", "4"), F("--answer:q1", "yes"), F(":q2", "no, never"), F("--answer:q3", "a=b")},
     {"screen", "step", "4", "--answer", "q1=yes", "q2=no, never", "--answer", "q3=a=b", NULL}},
    {"answers to undeclared options or odd ids are dropped",
     {F("case", "4"), F("--json:q1", "yes"), F("--:q1", "x"), F(":", "x"), F(":-x", "x"),
      F(":a=b", "x"), F("_x:q", "x")},
     {"screen", "step", "4", NULL}},
    {"server fields and undeclared names are dropped",
     {F("_csrf", "t"), F("_verb", "x"), F("_sub", "y"), F("case", "4"), F("bogus", "1"),
      F("--bogus", "1"), F("--json", ""), F("_case", "5")},
     {"screen", "step", "4", NULL}},
    {"empty fields are not given",
     {F("case", ""), F("--status", ""), F("--tag", ""), F("--loud", ""), F("--answer:q", ""),
      F("item", "")},
     {"screen", "step", NULL}},
    {"a step form's argv comes first, as given, then its answers",
     {F("_csrf", "t"), F("_argv", "screen"), F("_argv", "step"), F("_argv", "4"), F("_argv", ""),
      F(":q1", "yes"), F("case", "9"), F("--tag", "x"), F("--answer:q2", "no")},
     {"screen", "step", "4", "", "q1=yes", "--answer", "q2=no", NULL}},
    {"a positional that looks like an option stays a value after --",
     {F("case", "4"), F("item", "--status"), F("--status", "open"), F(":q1", "y"),
      F("--answer:q2", "n")},
     {"screen", "step", "--status", "open", "--answer", "q2=n", "--", "4", "--status", "q1=y",
      NULL}},
};

static void fields_of(struct web_fields *wf, size_t i)
{
    memset(wf, 0, sizeof(*wf));
    for (size_t k = 0; k < 12 && posts[i].fields[k][0] != NULL; k++)
        ck_assert_int_eq(web_fields_add(wf, posts[i].fields[k][0], posts[i].fields[k][1]), 0);
}

START_TEST(a_posted_form_is_the_argv_a_terminal_would_type)
{
    struct web_fields wf;
    char **argv;
    int argc, k;
    fields_of(&wf, (size_t)_i);
    argc = webform_argv(&argv_spec, "screen", &wf, &argv);
    for (k = 0; posts[_i].argv[k] != NULL; k++) {
        ck_assert_msg(k < argc, "%s: argv ends at %d", posts[_i].name, argc);
        ck_assert_msg(strcmp(argv[k], posts[_i].argv[k]) == 0, "%s: argv[%d] '%s', want '%s'",
                      posts[_i].name, k, argv[k], posts[_i].argv[k]);
    }
    ck_assert_msg(argc == k, "%s: argc %d, want %d", posts[_i].name, argc, k);
    ck_assert_ptr_null(argv[argc]);
    webform_argv_free(argv);
    web_fields_release(&wf);
}
END_TEST

/* What webform_argv makes, the one parser reads back: the option-like text is the item's. */
START_TEST(the_argv_parses_back_to_the_posted_values)
{
    struct web_fields wf;
    struct ch_value v[V_N];
    char **argv, err[256] = "";
    int argc;
    fields_of(&wf, sizeof(posts) / sizeof(posts[0]) - 1);
    argc = webform_argv(&argv_spec, "screen", &wf, &argv);
    ck_assert_int_eq(args_parse(&argv_spec, argc, argv, 2, v, err, sizeof(err)), 0);
    ck_assert_int_eq(v[V_CASE].num, 4);
    ck_assert_str_eq(v[V_STATUS].text, "open");
    ck_assert_uint_eq(v[V_ITEM].given, 2);
    ck_assert_str_eq(v[V_ITEM].list[0], "--status");
    ck_assert_str_eq(v[V_ITEM].list[1], "q1=y");
    ck_assert_str_eq(v[V_ANSWER].list[0], "q2=n");
    args_release(&argv_spec, v);
    webform_argv_free(argv);
    web_fields_release(&wf);
}
END_TEST

START_TEST(fields_keep_their_order_and_the_first_value_wins)
{
    struct web_fields wf = {NULL, 0, 0};
    char name[16];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "f%d", i % 20);
        ck_assert_int_eq(web_fields_add(&wf, name, i < 20 ? "first" : "second"), 0);
    }
    ck_assert_uint_eq(wf.n, 40);
    ck_assert_str_eq(wf.v[25].name, "f5");
    ck_assert_str_eq(wf.v[25].value, "second");
    ck_assert_str_eq(web_fields_get(&wf, "f5"), "first");
    ck_assert_ptr_null(web_fields_get(&wf, "f20"));
    web_fields_release(&wf);
    ck_assert_ptr_null(wf.v);
    ck_assert_uint_eq(wf.n, 0);
    web_fields_release(&wf); /* twice is harmless */
}
END_TEST

/* ------------------------------------------------------------ out_flush_html --- */

static char *page(struct out *o, const char *csrf)
{
    struct mem m;
    ck_assert_int_eq(out_flush_html(o, mem_open(&m), csrf), 0);
    return mem_text(&m);
}

static const char *const yes_no[] = {"yes", "no", "<b>declined</b>", NULL};
static const struct ch_question questions[] = {
    {sizeof(struct ch_question), "exchanged_sex", "Exchanged sex for <anything>?", yes_no,
     "ask gently"},
    {sizeof(struct ch_question), "age", "Age?", NULL, "a number, unknown or declined"},
};
static const char *const step_argv[] = {"screen", "step", "4", HOSTILE, NULL};

static struct out *document(void)
{
    static const char *const hostile[] = {
        "case", "note", "4", "--text", HOSTILE "&x=1 javascript:alert(1)", NULL};
    static const char *const open_case[] = {"case", "show", "4", NULL};
    struct out *o = out_new(0);
    out_str(o, "title", "<script>alert(\"x\")</script>");
    out_int(o, "case_id", 7);
    out_bool(o, "urgent", 1);
    out_bool(o, "closed", 0);
    out_str(o, "county", NULL);
    out_object(o, "person");
    out_str(o, "given_name", "Jo & 'Al'");
    out_end(o);
    out_array(o, "cases");
    out_object(o, NULL);
    out_int(o, "id", 1);
    out_str(o, "status", "open");
    out_end(o);
    out_object(o, NULL);
    out_int(o, "id", 2);
    out_str(o, "title", HOSTILE);
    out_object(o, "detail");
    out_str(o, "k", "v");
    out_end(o);
    out_end(o);
    out_end(o);
    out_array(o, "notes");
    out_end(o);
    out_form(o, "step", "Safety <now>", questions, 2, step_argv);
    out_message(o, "saved\n<line two>");
    out_action(o, "Add a <note>", hostile);
    out_action(o, "Wait", NULL);
    out_action(o, "Open case 4", open_case);
    out_alert(o, CH_SEV_INFO, "a note");
    out_alert(o, CH_SEV_WARNING, "look");
    out_alert(o, CH_SEV_DANGER, "call 911 <now>");
    return o;
}

/* The parts of document()'s page, each as it must appear (csrf c"t). */
static const struct {
    const char *name;
    const char *has[8];
} parts[] = {
    {"alerts, each with its severity",
     {"<div class=\"alert info\" role=\"status\"><strong>Note:</strong> a note</div>\n",
      "<div class=\"alert warning\" role=\"alert\"><strong>WARNING:</strong> look</div>\n",
      "<div class=\"alert danger\" role=\"alert\"><strong>DANGER:</strong> call 911 "
      "&lt;now&gt;</div>\n"}},
    {"scalars as a definition list",
     {"<dl>\n<dt>Title</dt><dd>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</dd>\n"
      "<dt>Case id</dt><dd>7</dd>\n<dt>Urgent</dt><dd>yes</dd>\n"
      "<dt>Closed</dt><dd>no</dd>\n<dt>County</dt><dd>-</dd>\n</dl>\n",
      "<section>\n<h2>Person</h2>\n<dl>\n<dt>Given name</dt><dd>Jo &amp; &#39;Al&#39;</dd>\n"
      "</dl>\n</section>\n",
      "<h2>Notes</h2>\n(none)</section>\n"}},
    {"records as a table of every key, in the order first seen, nested values inside",
     {"<h2>Cases</h2>\n<table>\n<thead><tr><th scope=\"col\">Id</th>"
      "<th scope=\"col\">Status</th><th scope=\"col\">Title</th>"
      "<th scope=\"col\">Detail</th></tr></thead>\n<tbody>\n",
      "<tr><td>1</td><td>open</td><td>-</td><td>-</td></tr>\n",
      "<tr><td>2</td><td>-</td><td>" HOSTILE_ESCAPED
      "</td><td><dl>\n<dt>K</dt><dd>v</dd>\n</dl>\n</td></tr>\n"}},
    {"messages as paragraphs, their lines kept",
     {"<p class=\"message\">saved<br>\n&lt;line two&gt;</p>\n"}},
    {"actions: words that may sit in an address as a link, anything else (text, answers) "
     "posted; no command, no link",
     {"<ul class=\"actions\">\n<li><form method=\"post\" action=\"/run\" class=\"action\">"
      "<input type=\"hidden\" name=\"_csrf\" value=\"c&quot;t\">"
      "<input type=\"hidden\" name=\"_open\" value=\"1\">"
      "<input type=\"hidden\" name=\"_argv\" value=\"case\">",
      "<input type=\"hidden\" name=\"_argv\" value=\"" HOSTILE_ESCAPED
      "&amp;x=1 javascript:alert(1)\">"
      "<button type=\"submit\">Add a &lt;note&gt;</button></form></li>\n<li>Wait</li>\n",
      "<li><a href=\"/run?a=case&amp;a=show&amp;a=4\">Open case 4</a></li>\n</ul>\n"}},
    {"a step form: its argv hidden, a fieldset per question, answers named :ID",
     {"<form method=\"post\" action=\"/run\" class=\"step\">\n"
      "<input type=\"hidden\" name=\"_csrf\" value=\"c&quot;t\">\n"
      "<input type=\"hidden\" name=\"_argv\" value=\"screen\">\n"
      "<input type=\"hidden\" name=\"_argv\" value=\"step\">\n"
      "<input type=\"hidden\" name=\"_argv\" value=\"4\">\n"
      "<input type=\"hidden\" name=\"_argv\" value=\"" HOSTILE_ESCAPED "\">\n"
      "<h2>Safety &lt;now&gt;</h2>\n",
      "<fieldset>\n<legend>Exchanged sex for &lt;anything&gt;?</legend>\n",
      "<input type=\"radio\" id=\"s1-q1-c1\" name=\":exchanged_sex\" value=\"yes\" "
      "aria-describedby=\"s1-q1-help\"><label for=\"s1-q1-c1\">yes</label>",
      "value=\"&lt;b&gt;declined&lt;/b&gt;\" aria-describedby=\"s1-q1-help\">"
      "<label for=\"s1-q1-c3\">&lt;b&gt;declined&lt;/b&gt;</label>",
      "<p class=\"help\" id=\"s1-q1-help\">ask gently</p>\n</fieldset>\n",
      "<label for=\"s1-q2\">Answer</label>\n<input type=\"text\" id=\"s1-q2\" "
      "name=\":age\" aria-describedby=\"s1-q2-help\">\n",
      "<button type=\"submit\">Save and continue</button>\n</form>\n"}},
};

START_TEST(the_page_shows_each_part_escaped)
{
    struct out *o = document();
    char *html = page(o, "c\"t");
    for (size_t k = 0; k < 8 && parts[_i].has[k] != NULL; k++)
        ck_assert_msg(strstr(html, parts[_i].has[k]) != NULL, "%s: missing %s\nin:\n%s",
                      parts[_i].name, parts[_i].has[k], html);
    ck_labelled(html);
    ck_inert(html);
    free(html);
    out_free(o);
}
END_TEST

/* Alerts before anything else, in the order raised (as in text); the actions last. */
START_TEST(the_page_reads_alerts_fields_messages_then_actions)
{
    static const char first[] = "<div class=\"alert info\" role=\"status\">";
    struct out *o = document();
    char *html = page(o, "t");
    ck_assert_msg(strncmp(html, first, strlen(first)) == 0, "%s", html);
    ck_before(html, "DANGER:", "<dl>");
    ck_before(html, "</form>", "class=\"message\"");
    ck_before(html, "class=\"message\"", "class=\"actions\"");
    ck_assert_str_eq(html + strlen(html) - 6, "</ul>\n");
    free(html);
    out_free(o);
}
END_TEST

/* The form out_flush_html writes, posted back, is its argv with each answer appended. */
START_TEST(a_posted_step_form_is_its_argv_and_answers)
{
    struct web_fields wf = {NULL, 0, 0};
    char **argv;
    ck_assert_int_eq(web_fields_add(&wf, "_csrf", "t"), 0);
    for (size_t i = 0; step_argv[i] != NULL; i++)
        ck_assert_int_eq(web_fields_add(&wf, "_argv", step_argv[i]), 0);
    ck_assert_int_eq(web_fields_add(&wf, ":exchanged_sex", "no"), 0);
    ck_assert_int_eq(web_fields_add(&wf, ":age", "15"), 0);
    ck_assert_int_eq(webform_argv(&argv_spec, "screen", &wf, &argv), 6);
    ck_assert_str_eq(argv[3], HOSTILE);
    ck_assert_str_eq(argv[4], "exchanged_sex=no");
    ck_assert_str_eq(argv[5], "age=15");
    webform_argv_free(argv);
    web_fields_release(&wf);
}
END_TEST

START_TEST(a_form_without_a_command_is_shown_but_cannot_post)
{
    struct out *o = out_new(0);
    char *html;
    out_form(o, "next_step", NULL, questions, 2, NULL);
    html = page(o, "t");
    ck_has(html, "<div class=\"step\">\n<h2>Next step</h2>\n<fieldset disabled>\n");
    ck_lacks(html, "<form");
    ck_lacks(html, "<button");
    ck_lacks(html, "_argv");
    ck_labelled(html);
    free(html);
    out_free(o);
}
END_TEST

START_TEST(two_step_forms_have_distinct_ids)
{
    struct out *o = out_new(0);
    char *html;
    out_form(o, "one", "One", questions, 2, step_argv);
    out_form(o, "two", "Two", questions, 2, step_argv);
    html = page(o, "t");
    ck_has(html, "id=\"s2-q1-c1\"");
    ck_labelled(html);
    free(html);
    out_free(o);
}
END_TEST

START_TEST(an_unknown_severity_is_danger_and_an_empty_document_is_empty)
{
    struct out *o = out_new(0);
    char *html = page(o, "t");
    ck_assert_str_eq(html, "");
    free(html);
    out_alert(o, (enum ch_severity)7, "x");
    html = page(o, "t");
    ck_assert_str_eq(
        html, "<div class=\"alert danger\" role=\"alert\"><strong>DANGER:</strong> x</div>\n");
    free(html);
    out_free(o);
}
END_TEST

START_TEST(html_flush_reports_a_write_error)
{
    struct out *o = out_new(0);
    FILE *ro = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(ro);
    out_str(o, "title", "x");
    ck_assert_int_eq(out_flush_html(o, ro, "t"), -1);
    fclose(ro);
    out_free(o);
}
END_TEST

static Suite *html_suite(void)
{
    Suite *s = suite_create("html");
    TCase *tc = tcase_create("escapers");
    tcase_add_loop_test(tc, each_context_escapes_its_specials, 0,
                        (int)(sizeof(escapes) / sizeof(escapes[0])));
    tcase_add_test(tc, null_writes_nothing);
    tcase_add_test(tc, url_components_hold_only_unreserved_characters);
    suite_add_tcase(s, tc);
    tc = tcase_create("webform");
    tcase_add_test(tc, the_table_is_a_form_of_labelled_controls);
    tcase_add_test(tc, prefilled_values_are_initial_and_escaped);
    tcase_add_test(tc, a_command_without_sub_or_help_posts_no_sub);
    tcase_add_loop_test(tc, a_posted_form_is_the_argv_a_terminal_would_type, 0,
                        (int)(sizeof(posts) / sizeof(posts[0])));
    tcase_add_test(tc, the_argv_parses_back_to_the_posted_values);
    tcase_add_test(tc, fields_keep_their_order_and_the_first_value_wins);
    suite_add_tcase(s, tc);
    tc = tcase_create("out_html");
    tcase_add_loop_test(tc, the_page_shows_each_part_escaped, 0,
                        (int)(sizeof(parts) / sizeof(parts[0])));
    tcase_add_test(tc, the_page_reads_alerts_fields_messages_then_actions);
    tcase_add_test(tc, a_posted_step_form_is_its_argv_and_answers);
    tcase_add_test(tc, a_form_without_a_command_is_shown_but_cannot_post);
    tcase_add_test(tc, two_step_forms_have_distinct_ids);
    tcase_add_test(tc, an_unknown_severity_is_danger_and_an_empty_document_is_empty);
    tcase_add_test(tc, html_flush_reports_a_write_error);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(html_suite())
