/*
 * out_html.c: the output document as an HTML fragment for the web pages.
 * Every value goes through html.h's escapers; nothing else writes user data
 * into HTML.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "html.h"
#include "out.h"
#include "out_tree.h"
#include "svg.h"

/*
 * One HTML rendering: where it goes, the session's token for its forms, how
 * many step forms so far (their controls' ids are numbered, never made of
 * data), and -1 once memory ran out.
 */
struct html {
    FILE *f;
    const struct out *o;
    const char *csrf;
    const json_t *csv_argv; /* the command, for the chart's CSV link; NULL: no link */
    unsigned forms;
    int rc;
};

#define HTML_MAX_HEADING 6

static void html_value(struct html *h, const json_t *v, int level);
static void html_object(struct html *h, const json_t *obj, int level);
static int argv_addressable(const json_t *argv);
static void html_chart(struct html *h, const json_t *rows);

/*
 * Text as the text form shows it (out_escape(): control characters visible),
 * then through html_text; with keep_newline each line break is a <br>.
 */
static void html_shown(struct html *h, const char *s, int keep_newline)
{
    size_t len = out_escape(s, keep_newline, NULL, 0);
    char *safe = malloc(len + 1), *line, *nl;
    if (safe == NULL) {
        h->rc = -1;
        return;
    }
    out_escape(s, keep_newline, safe, len + 1);
    for (line = safe; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        html_text(h->f, line);
        fputs("<br>\n", h->f);
    }
    html_text(h->f, line);
    free(safe);
}

/* A key as a label: "case_id" is "Case id". */
static void html_label(struct html *h, const char *key)
{
    char lab[128];
    out_label(lab, sizeof(lab), key);
    html_text(h->f, lab);
}

static void html_heading(struct html *h, int level, const char *key, const json_t *title)
{
    level = level < HTML_MAX_HEADING ? level : HTML_MAX_HEADING;
    fprintf(h->f, "<h%d>", level);
    if (json_is_string(title))
        html_shown(h, json_string_value(title), 0);
    else
        html_label(h, key);
    fprintf(h->f, "</h%d>\n", level);
}

static void html_scalar(struct html *h, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        html_shown(h, json_string_value(v), 1);
        break;
    case JSON_INTEGER:
        fprintf(h->f, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        fprintf(h->f, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
        fputs("yes", h->f);
        break;
    case JSON_FALSE:
        fputs("no", h->f);
        break;
    default:
        fputs("-", h->f);
        break;
    }
}

/* An array of objects: the union of their keys, in the order first seen, is the header. */
static void html_table(struct html *h, const json_t *arr, int level)
{
    const char **keys = NULL;
    long got = out_table_keys(arr, &keys);
    size_t n = got > 0 ? (size_t)got : 0, i, k;
    json_t *row;
    if (got < 0) {
        h->rc = -1;
        return;
    }
    fputs("<table>\n<thead><tr>", h->f);
    for (k = 0; k < n; k++) {
        fputs("<th scope=\"col\">", h->f);
        html_label(h, keys[k]);
        fputs("</th>", h->f);
    }
    fputs("</tr></thead>\n<tbody>\n", h->f);
    json_array_foreach(arr, i, row)
    {
        fputs("<tr>", h->f);
        if (!json_is_object(row)) {
            /* A stray value among the records still shows, across the row. */
            fprintf(h->f, "<td colspan=\"%zu\">", n ? n : 1);
            html_value(h, row, level + 1);
            fputs("</td>", h->f);
        }
        for (k = 0; json_is_object(row) && k < n; k++) {
            const json_t *cell = json_object_get(row, keys[k]);
            fputs("<td>", h->f);
            html_value(h, cell != NULL ? cell : json_null(), level + 1);
            fputs("</td>", h->f);
        }
        fputs("</tr>\n", h->f);
    }
    fputs("</tbody>\n</table>\n", h->f);
    free(keys);
}

/*
 * A step form: the command's argv in hidden fields, a fieldset per
 * question. Each answer is named ":ID", the bare argument "ID=VALUE" that
 * plugin.h appends (webform_argv). Without argv there is no command to post
 * to: the questions show, disabled, outside a form.
 */
static void html_form(struct html *h, const char *key, const json_t *form, int level)
{
    const json_t *argv = json_object_get(form, "argv"), *qs = json_object_get(form, "questions");
    int live = json_is_array(argv);
    unsigned n = ++h->forms;
    size_t i, c;
    json_t *e, *q, *choice;
    if (live) {
        fputs("<form method=\"post\" action=\"/run\" class=\"step\">\n", h->f);
        fputs("<input type=\"hidden\" name=\"_csrf\" value=\"", h->f);
        html_attr(h->f, h->csrf);
        fputs("\">\n", h->f);
        json_array_foreach(argv, i, e)
        {
            fputs("<input type=\"hidden\" name=\"_argv\" value=\"", h->f);
            html_attr(h->f, json_is_string(e) ? json_string_value(e) : "");
            fputs("\">\n", h->f);
        }
    } else {
        fputs("<div class=\"step\">\n", h->f);
    }
    html_heading(h, level, key, json_object_get(form, "title"));
    json_array_foreach(qs, i, q)
    {
        const json_t *choices = json_object_get(q, "choices"), *help = json_object_get(q, "help");
        const char *id = out_text_of(json_object_get(q, "id"));
        fputs(live ? "<fieldset>\n<legend>" : "<fieldset disabled>\n<legend>", h->f);
        html_shown(h, out_text_of(json_object_get(q, "prompt")), 0);
        fputs("</legend>\n", h->f);
        json_array_foreach(choices, c, choice)
        {
            fprintf(h->f,
                    "<div class=\"choice\"><input type=\"radio\" id=\"s%u-q%zu-c%zu\" name=\":", n,
                    i + 1, c + 1);
            html_attr(h->f, id);
            fputs("\" value=\"", h->f);
            html_attr(h->f, out_text_of(choice));
            fputc('"', h->f);
            if (json_is_string(help))
                fprintf(h->f, " aria-describedby=\"s%u-q%zu-help\"", n, i + 1);
            fprintf(h->f, "><label for=\"s%u-q%zu-c%zu\">", n, i + 1, c + 1);
            html_shown(h, out_text_of(choice), 0);
            fputs("</label></div>\n", h->f);
        }
        if (!json_is_array(choices)) {
            fprintf(h->f, "<label for=\"s%u-q%zu\">Answer</label>\n", n, i + 1);
            fprintf(h->f, "<input type=\"text\" id=\"s%u-q%zu\" name=\":", n, i + 1);
            html_attr(h->f, id);
            fputc('"', h->f);
            if (json_is_string(help))
                fprintf(h->f, " aria-describedby=\"s%u-q%zu-help\"", n, i + 1);
            fputs(">\n", h->f);
        }
        if (json_is_string(help)) {
            fprintf(h->f, "<p class=\"help\" id=\"s%u-q%zu-help\">", n, i + 1);
            html_shown(h, json_string_value(help), 0);
            fputs("</p>\n", h->f);
        }
        fputs("</fieldset>\n", h->f);
    }
    fputs(live ? "<button type=\"submit\">Save and continue</button>\n</form>\n" : "</div>\n",
          h->f);
}

/* Any value where it stands: a cell, a definition, a list item. */
static void html_value(struct html *h, const json_t *v, int level)
{
    size_t i;
    json_t *e;
    if (out_is_marked(h->o, v, MARK_FORM)) {
        html_form(h, "form", v, level);
    } else if (json_is_object(v)) {
        html_object(h, v, level);
    } else if (!json_is_array(v)) {
        html_scalar(h, v);
    } else if (json_array_size(v) == 0) {
        fputs(out_is_marked(h->o, v, MARK_LIST) ? "(none)" : "-", h->f);
    } else if (json_is_object(json_array_get(v, 0))) {
        html_table(h, v, level);
    } else {
        fputs("<ul>\n", h->f);
        json_array_foreach(v, i, e)
        {
            fputs("<li>", h->f);
            html_value(h, e, level + 1);
            fputs("</li>\n", h->f);
        }
        fputs("</ul>\n", h->f);
    }
}

/*
 * As in text: the short values as a definition list, then each container
 * as a section under its label (a form under its own title). The root's
 * messages, alerts and actions are rendered apart.
 */
static void html_object(struct html *h, const json_t *obj, int level)
{
    const char *key;
    json_t *v;
    int dl = 0;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!out_is_scalarish(h->o, v) || out_is_host_list(h->o, v))
            continue;
        fputs(dl++ ? "<dt>" : "<dl>\n<dt>", h->f);
        html_label(h, key);
        fputs("</dt><dd>", h->f);
        html_value(h, v, level + 1);
        fputs("</dd>\n", h->f);
    }
    if (dl)
        fputs("</dl>\n", h->f);
    json_object_foreach((json_t *)obj, key, v)
    {
        if (out_is_scalarish(h->o, v) || out_is_host_list(h->o, v))
            continue;
        if (out_is_marked(h->o, v, MARK_FORM)) {
            html_form(h, key, v, level);
            continue;
        }
        fputs("<section>\n", h->f);
        html_heading(h, level, key, NULL);
        if (obj == h->o->root && h->o->chart != NULL && strcmp(key, h->o->chart_key) == 0 &&
            json_is_array(v))
            html_chart(h, v);
        html_value(h, v, level + 1);
        fputs("</section>\n", h->f);
    }
}

static void html_alert(struct html *h, const json_t *alert)
{
    size_t i = out_severity_of(alert);
    fprintf(h->f, "<div class=\"alert %s\" role=\"%s\"><strong>%s</strong> ",
            out_severities[i].name, out_severities[i].role, out_severities[i].word);
    html_shown(h, out_text_of(json_object_get(alert, "text")), 1);
    fputs("</div>\n", h->f);
}

/* A link to the command's page; every argument a query component of its own. */
/*
 * 1 when every word of argv may sit in an address (browser history, server
 * logs): verbs, options, ids and codes. Anything else (an answer, a name, a
 * note) goes in a posted form instead.
 */
static int argv_addressable(const json_t *argv)
{
    size_t i;
    json_t *e;
    json_array_foreach(argv, i, e)
    {
        const char *w = json_is_string(e) ? json_string_value(e) : "";
        if (w[0] == '\0' || strlen(w) > 64 ||
            strspn(w, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(w))
            return 0;
    }
    return 1;
}

/*
 * An action: a link to /run?a=ARGV0&a=ARGV1... when its words may sit in an
 * address, else a button posting them (hidden "_argv" fields and "_open":
 * the server shows the command's form prefilled, or runs one that shows).
 */
static void html_action(struct html *h, const json_t *action)
{
    const json_t *argv = json_object_get(action, "argv");
    const char *label = out_text_of(json_object_get(action, "label"));
    size_t i;
    json_t *e;
    fputs("<li>", h->f);
    if (!json_is_array(argv)) {
        html_shown(h, label, 0);
        fputs("</li>\n", h->f);
        return;
    }
    if (argv_addressable(argv)) {
        fputs("<a href=\"/run", h->f);
        json_array_foreach(argv, i, e)
        {
            fputs(i ? "&amp;a=" : "?a=", h->f);
            html_url(h->f, json_string_value(e));
        }
        fputs("\">", h->f);
        html_shown(h, label, 0);
        fputs("</a></li>\n", h->f);
        return;
    }
    fputs("<form method=\"post\" action=\"/run\" class=\"action\">"
          "<input type=\"hidden\" name=\"_csrf\" value=\"",
          h->f);
    html_attr(h->f, h->csrf);
    fputs("\"><input type=\"hidden\" name=\"_open\" value=\"1\">", h->f);
    json_array_foreach(argv, i, e)
    {
        fputs("<input type=\"hidden\" name=\"_argv\" value=\"", h->f);
        html_attr(h->f, json_is_string(e) ? json_string_value(e) : "");
        fputs("\">", h->f);
    }
    fputs("<button type=\"submit\">", h->f);
    html_shown(h, label, 0);
    fputs("</button></form></li>\n", h->f);
}

/*
 * The chart of rows, drawn inline above its table in a <figure>, with a
 * link to the table as CSV when the command's words may sit in an address.
 * Presentation attributes only (no style): the page's policy allows no
 * inline style.
 */
static void html_chart(struct html *h, const json_t *rows)
{
    const json_t *argv = h->csv_argv;
    size_t i;
    json_t *e;
    fputs("<figure class=\"chart\">\n", h->f);
    if (svg_render(h->f, rows, h->o->chart, "chart", 0) != 0)
        h->rc = -1;
    fputs("<figcaption>", h->f);
    html_shown(h, h->o->chart->title != NULL ? h->o->chart->title : "Chart", 0);
    fputs(" (the table below holds every figure)", h->f);
    if (json_is_array(argv) && json_array_size(argv) > 0 && argv_addressable(argv)) {
        fputs(" <a class=\"csv\" href=\"/run", h->f);
        json_array_foreach(argv, i, e)
        {
            fputs(i ? "&amp;a=" : "?a=", h->f);
            html_url(h->f, json_string_value(e));
        }
        fputs("&amp;format=csv\" download>Download CSV</a>", h->f);
    }
    fputs("</figcaption>\n</figure>\n", h->f);
}

int out_flush_html(struct out *o, FILE *f, const char *csrf)
{
    return out_flush_html_page(o, f, csrf, NULL);
}

int out_flush_html_page(struct out *o, FILE *f, const char *csrf, const char *const *csv_argv)
{
    struct html h = {f, o, csrf, NULL, 0, 0};
    size_t i;
    json_t *e;
    json_t *argv = csv_argv != NULL ? json_array() : NULL;
    int rc, whole = 1;
    for (i = 0; argv != NULL && csv_argv[i] != NULL; i++)
        if (json_array_append_new(argv, json_string(csv_argv[i])) != 0)
            whole = 0; /* a word that is not UTF-8: no link rather than one to another command */
    h.csv_argv = whole ? argv : NULL;
    out_attach_lists(o);
    json_array_foreach(o->alerts, i, e) html_alert(&h, e);
    html_object(&h, o->root, 2);
    json_array_foreach(o->messages, i, e)
    {
        fputs("<p class=\"message\">", f);
        html_shown(&h, out_text_of(e), 1);
        fputs("</p>\n", f);
    }
    if (json_array_size(o->actions) > 0) {
        fputs("<ul class=\"actions\">\n", f);
        json_array_foreach(o->actions, i, e) html_action(&h, e);
        fputs("</ul>\n", f);
    }
    rc = h.rc != 0 || ferror(f) || fflush(f) != 0 ? -1 : 0;
    json_decref(argv);
    return rc;
}
