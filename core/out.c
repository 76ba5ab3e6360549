/*
 * out.c: builds the output document with jansson and renders it as JSON
 * or as aligned text (out_html.c renders it as HTML). Text rendering is generic: scalars as "Label:
 * value", nested objects as titled sections, arrays of objects as tables; alerts come first, then
 * the fields, messages and the actions to take next. Never prints anything before out_flush(), so a
 * failed command shows no half-finished result, and never prints a control character from a value,
 * so a value cannot forge a line or drive the terminal (see out_escape()).
 */
#include <ctype.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "out.h"
#include "out_tree.h"

struct out *out_new(int json)
{
    struct out *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return NULL;
    o->root = json_object();
    o->stack[0] = o->root;
    o->json = json;
    return o;
}

/* Forgets the chart hint, freeing the strings it owns. */
static void chart_free(struct out *o)
{
    struct ch_chart *c = o->chart;
    if (c != NULL) {
        free((char *)c->title);
        free((char *)c->x);
        free((char *)c->facet);
        for (size_t i = 0; c->series != NULL && c->series[i] != NULL; i++)
            free((char *)c->series[i]);
        free((char **)c->series);
        free(c);
    }
    free(o->chart_key);
    o->chart = NULL;
    o->chart_key = NULL;
}

void out_free(struct out *o)
{
    if (o == NULL)
        return;
    for (; o->depth > 0; o->depth--)
        json_decref(o->stack[o->depth]);
    json_decref(o->messages);
    json_decref(o->alerts);
    json_decref(o->actions);
    json_decref(o->root);
    for (size_t i = 0; i < o->n_marks; i++)
        json_decref(o->marks[i].node);
    free(o->marks);
    chart_free(o);
    free(o);
}

/*
 * Remembers that node renders as kind. Without memory for the mark the node
 * still renders, as the plain value it is.
 */
static void mark(struct out *o, json_t *node, enum mark_kind kind)
{
    if (node == NULL)
        return;
    if (o->n_marks == o->cap_marks) {
        size_t cap = o->cap_marks ? o->cap_marks * 2 : 8;
        struct mark *v = realloc(o->marks, cap * sizeof(*v));
        if (v == NULL)
            return;
        o->marks = v;
        o->cap_marks = cap;
    }
    o->marks[o->n_marks++] = (struct mark){json_incref(node), kind};
}

int out_is_marked(const struct out *o, const json_t *v, enum mark_kind kind)
{
    for (size_t i = 0; i < o->n_marks; i++)
        if (o->marks[i].node == v)
            return o->marks[i].kind == kind;
    return 0;
}

/* Adds v (stealing the reference) to the current container; 0, or -1 when it was dropped. */
static int put(struct out *o, const char *key, json_t *v)
{
    json_t *cur = o->stack[o->depth];
    if (v == NULL)
        return -1;
    if (json_is_array(cur))
        return json_array_append_new(cur, v);
    return json_object_set_new(cur, key != NULL ? key : "value", v);
}

/*
 * Opens c (stealing the reference) under key. The stack keeps its own
 * reference, so a container its parent refused (a key that is not UTF-8)
 * still takes what is written into it until out_end, and is then freed.
 * A NULL c (no memory) is pushed too, to keep out_end in step; writes into
 * it are dropped.
 */
static void push(struct out *o, const char *key, json_t *c)
{
    put(o, key, json_incref(c));
    if (o->depth + 1 < OUT_MAX_DEPTH)
        o->stack[++o->depth] = c;
    else
        json_decref(c);
}

void out_object(struct out *o, const char *key)
{
    push(o, key, json_object());
}

void out_array(struct out *o, const char *key)
{
    json_t *a = json_array();
    mark(o, a, MARK_LIST);
    push(o, key, a);
}

void out_end(struct out *o)
{
    if (o->depth > 0)
        json_decref(o->stack[o->depth--]);
}

void out_str(struct out *o, const char *key, const char *value)
{
    put(o, key, value != NULL ? json_string(value) : json_null());
}

void out_int(struct out *o, const char *key, int64_t value)
{
    put(o, key, json_integer((json_int_t)value));
}

void out_bool(struct out *o, const char *key, int value)
{
    put(o, key, json_boolean(value));
}

/* The root list *list named name, made on first use (NULL without memory). */
static json_t *host_list(struct out *o, json_t **list, const char *name)
{
    if (*list == NULL) {
        *list = json_array();
        json_object_set(o->root, name, *list);
    }
    return *list;
}

int out_is_host_list(const struct out *o, const json_t *v)
{
    return v != NULL && (v == o->messages || v == o->alerts || v == o->actions);
}

void out_message(struct out *o, const char *text)
{
    json_array_append_new(host_list(o, &o->messages, "messages"), json_string(text));
}

/*
 * A JSON string of s, or null for NULL. jansson refuses text that is not
 * UTF-8; such text is kept with each byte above ASCII shown as '?', since an
 * alert or an action that vanished would be worse than a garbled one.
 */
static json_t *text_or_null(const char *s)
{
    json_t *j;
    char *copy;
    if (s == NULL)
        return json_null();
    if ((j = json_string(s)) != NULL || (copy = strdup(s)) == NULL)
        return j;
    for (char *p = copy; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* argv (NULL-terminated) as an array of strings; NULL as null. */
static json_t *argv_json(const char *const *argv)
{
    json_t *a;
    if (argv == NULL)
        return json_null();
    a = json_array();
    for (; *argv != NULL; argv++)
        json_array_append_new(a, text_or_null(*argv));
    return a;
}

/* Bytes a POSIX shell takes literally anywhere in an argument after the first word. */
static int shell_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("@%+=:,./_-", c) != NULL);
}

/*
 * Writes word so that a shell reads it back as one argument: as it is when
 * every byte is safe, else in single quotes, a quote inside written '\''.
 */
static void shell_word(FILE *f, const char *word)
{
    const char *p = word;
    while (*p != '\0' && shell_safe((unsigned char)*p))
        p++;
    if (*word != '\0' && *p == '\0') {
        fputs(word, f);
        return;
    }
    fputc('\'', f);
    for (p = word; *p != '\0'; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}

/*
 * "casehost ARGV..." from a JSON argv, each argument quoted for the shell,
 * then for each of questions (a form's) one more argument "ID=CHOICE", or
 * ID=TEXT for a free-text one (plugin.h: answers are appended as arguments). NULL when argv is not
 * an array (no command) or without memory; caller frees.
 */
static char *command_line(const json_t *argv, const json_t *questions)
{
    char *s = NULL;
    size_t len = 0, i;
    json_t *e;
    FILE *m;
    if (!json_is_array(argv) || (m = open_memstream(&s, &len)) == NULL)
        return NULL;
    fputs("casehost", m);
    json_array_foreach(argv, i, e)
    {
        fputc(' ', m);
        shell_word(m, json_is_string(e) ? json_string_value(e) : "");
    }
    json_array_foreach(questions, i, e)
    {
        const json_t *id = json_object_get(e, "id");
        fputc(' ', m);
        shell_word(m, json_is_string(id) ? json_string_value(id) : "-");
        fputs(json_is_array(json_object_get(e, "choices")) ? "=CHOICE" : "=TEXT", m);
    }
    if (fclose(m) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

const struct out_severity out_severities[] = {
    [CH_SEV_INFO] = {"info", "note: ", "status", "Note:"},
    [CH_SEV_WARNING] = {"warning", "WARNING: ", "alert", "WARNING:"},
    [CH_SEV_DANGER] = {"danger", "DANGER: ", "alert", "DANGER:"},
};

void out_alert(struct out *o, enum ch_severity sev, const char *text)
{
    json_t *a = json_object();
    /* A severity this host does not know (a newer plugin's) is shown as the gravest. */
    unsigned i = (unsigned)sev < N_SEVERITIES ? (unsigned)sev : CH_SEV_DANGER;
    json_object_set_new(a, "severity", json_string(out_severities[i].name));
    json_object_set_new(a, "text", text_or_null(text));
    json_array_append_new(host_list(o, &o->alerts, "alerts"), a);
}

void out_action(struct out *o, const char *label, const char *const *argv)
{
    json_t *a = json_object(), *args = argv_json(argv);
    char *cmd = command_line(args, NULL);
    json_object_set_new(a, "label", text_or_null(label));
    json_object_set_new(a, "argv", args);
    json_object_set_new(a, "command", text_or_null(cmd));
    free(cmd);
    json_array_append_new(host_list(o, &o->actions, "actions"), a);
}

/* Non-zero when a struct ch_question of size bytes has member (CH_API_HAS's rule). */
#define QUESTION_HAS(size, member)                                                                 \
    ((size) >= offsetof(struct ch_question, member) + sizeof(((struct ch_question *)0)->member))

/*
 * Question i of q as JSON. The array's stride is the caller's sizeof (its
 * first question's size), which is ours only when it was built against the
 * same header: members past that size are absent (null). A size too small
 * or odd to step by (never set) reads every question as empty, not guessed.
 */
static json_t *question_json(const struct ch_question *q, size_t i)
{
    size_t size = q->size;
    const struct ch_question *e = q;
    const char *id = NULL, *prompt = NULL, *help = NULL;
    const char *const *choices = NULL;
    json_t *j = json_object(), *c;
    if (size >= sizeof(q->size) && size % alignof(struct ch_question) == 0) {
        e = (const struct ch_question *)(const void *)((const char *)q + i * size);
        id = QUESTION_HAS(size, id) ? e->id : NULL;
        prompt = QUESTION_HAS(size, prompt) ? e->prompt : NULL;
        choices = QUESTION_HAS(size, choices) ? e->choices : NULL;
        help = QUESTION_HAS(size, help) ? e->help : NULL;
    }
    json_object_set_new(j, "id", text_or_null(id));
    json_object_set_new(j, "prompt", text_or_null(prompt));
    c = choices != NULL ? json_array() : json_null();
    for (; choices != NULL && *choices != NULL; choices++)
        json_array_append_new(c, text_or_null(*choices));
    json_object_set_new(j, "choices", c);
    json_object_set_new(j, "help", text_or_null(help));
    return j;
}

void out_form(struct out *o, const char *key, const char *title, const struct ch_question *q,
              size_t n, const char *const *argv)
{
    json_t *form = json_object(), *qs = json_array();
    json_object_set_new(form, "type", json_string("form"));
    json_object_set_new(form, "title", text_or_null(title));
    for (size_t i = 0; q != NULL && i < n; i++)
        json_array_append_new(qs, question_json(q, i));
    json_object_set_new(form, "questions", qs);
    json_object_set_new(form, "argv", argv_json(argv));
    mark(o, form, MARK_FORM);
    put(o, key, form);
}

/* Non-zero when a struct ch_chart of size bytes has member (CH_API_HAS's rule). */
#define CHART_HAS(size, member)                                                                    \
    ((size) >= offsetof(struct ch_chart, member) + sizeof(((struct ch_chart *)0)->member))

/* A copy of s (NULL stays NULL) that is UTF-8: text_or_null's rule. *ok 0 without memory. */
static char *text_copy(const char *s, int *ok)
{
    json_t *j;
    char *copy;
    if (s == NULL)
        return NULL;
    j = text_or_null(s);
    copy = json_is_string(j) ? strdup(json_string_value(j)) : NULL;
    json_decref(j);
    if (copy == NULL)
        *ok = 0;
    return copy;
}

void out_chart(struct out *o, const char *key, const struct ch_chart *chart)
{
    struct ch_chart *c;
    size_t size = chart != NULL ? chart->size : 0, n = 0;
    const char *const *series;
    int ok = 1;
    chart_free(o);
    /* Without what to draw from (the array's key, the member naming each bar) there is no chart. */
    if (key == NULL || !CHART_HAS(size, x) || chart->x == NULL ||
        (c = calloc(1, sizeof(*c))) == NULL)
        return;
    o->chart = c;
    c->size = sizeof(*c);
    c->kind = CHART_HAS(size, kind) ? chart->kind : CH_CHART_BARS;
    c->title = CHART_HAS(size, title) ? text_copy(chart->title, &ok) : NULL;
    c->x = text_copy(chart->x, &ok);
    c->facet = CHART_HAS(size, facet) ? text_copy(chart->facet, &ok) : NULL;
    series = CHART_HAS(size, series) ? chart->series : NULL;
    while (series != NULL && series[n] != NULL)
        n++;
    if (series != NULL && (c->series = calloc(n + 1, sizeof(char *))) == NULL)
        ok = 0;
    for (size_t i = 0; c->series != NULL && i < n; i++)
        ((const char **)c->series)[i] = text_copy(series[i], &ok);
    o->chart_key = text_copy(key, &ok);
    if (!ok || (c->kind == CH_CHART_SMALL_MULTIPLES && c->facet == NULL))
        chart_free(o); /* half a chart would draw something else than asked */
}

int out_has_chart(const struct out *o)
{
    return o->chart != NULL;
}

long out_table_keys(const json_t *arr, const char ***keys)
{
    const char **k = NULL, *key;
    size_t n = 0, cap = 0, i, j;
    json_t *row, *v;
    json_array_foreach(arr, i, row){json_object_foreach((json_t *)row, key, v){
        for (j = 0; j < n && strcmp(k[j], key) != 0; j++);
    if (j < n)
        continue;
    if (n == cap) {
        const char **grown = realloc(k, (cap ? cap * 2 : 8) * sizeof(*k));
        if (grown == NULL) {
            free(k);
            *keys = NULL;
            return -1;
        }
        k = grown;
        cap = cap ? cap * 2 : 8;
    }
    k[n++] = key;
}
}
*keys = k;
return (long)n;
}

/* 1 when v is a table: an array of objects (the host's own lists are none). */
static int is_table(const struct out *o, const json_t *v)
{
    return json_is_array(v) && !out_is_host_list(o, v) && json_is_object(json_array_get(v, 0));
}

const json_t *out_table(const struct out *o, char *err, size_t errlen)
{
    const json_t *found = NULL, *v;
    const char *key, *first = NULL;
    /* An empty array is a table only when the chart names it: otherwise it may be a list of words.
     */
    v = o->chart_key != NULL ? json_object_get(o->root, o->chart_key) : NULL;
    if (json_is_array(v) && (json_array_size(v) == 0 || is_table(o, v)))
        return v;
    json_object_foreach(o->root, key, v)
    {
        if (!is_table(o, v))
            continue;
        if (found != NULL) {
            snprintf(err, errlen, "the output has more than one table ('%s', '%s', ...)", first,
                     key);
            return NULL;
        }
        found = v;
        first = key;
    }
    if (found == NULL)
        snprintf(err, errlen, "the output has no table");
    return found;
}

/* PostgreSQL type oids of the values we keep typed. */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_JSON = 114,
    OID_JSONB = 3802
};

static json_t *cell(const PGresult *res, int row, int col)
{
    const char *v;
    if (PQgetisnull(res, row, col))
        return json_null();
    v = PQgetvalue(res, row, col);
    switch (PQftype(res, col)) {
    case OID_BOOL:
        return json_boolean(v[0] == 't');
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        return json_integer((json_int_t)strtoll(v, NULL, 10));
    case OID_JSON:
    case OID_JSONB: {
        json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
        return j != NULL ? j : json_string(v);
    }
    default:
        return json_string(v);
    }
}

void out_row(struct out *o, const PGresult *res, int row)
{
    for (int c = 0; c < PQnfields(res); c++)
        put(o, PQfname(res, c), cell(res, row, c));
}

void out_result(struct out *o, const char *key, const PGresult *res, int as_array)
{
    if (!as_array) {
        out_object(o, key);
        if (PQntuples(res) > 0)
            out_row(o, res, 0);
        out_end(o);
        return;
    }
    out_array(o, key);
    for (int r = 0; r < PQntuples(res); r++) {
        out_object(o, NULL);
        out_row(o, res, r);
        out_end(o);
    }
    out_end(o);
}

/* ---- text rendering ---- */

/* Bytes in the UTF-8 sequence that starts at p (1 for a stray or broken byte). */
static size_t utf8_len(const unsigned char *p)
{
    size_t want = *p >= 0xF0 && *p <= 0xF7 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
    size_t n = 1;
    while (n < want && (p[n] & 0xC0) == 0x80)
        n++;
    return n;
}

/*
 * Copies s into buf (n bytes, always NUL-terminated, never cut inside an
 * escape or a UTF-8 sequence) with every control character shown as a
 * visible escape: "\n", "\r", "\t", other C0 and DEL as "\x1b", C1 (U+0080
 * to U+009F, which terminals may obey as CSI and the like) as "\u009b". A
 * case title or note then cannot clear the screen, move the cursor or forge a
 * line such as "Status: closed" in a caseworker's terminal.
 *
 * Values are shown on one line (tables and "Label: value" lines have no
 * block form), so their newlines are escaped too; keep_newline is for the
 * program's own prose (messages, alerts), whose lines are meant. A backslash is left
 * as it is: the text form is for reading, --json is the exact form.
 * Returns the length the whole escaped text needs, as snprintf does.
 */
size_t out_escape(const char *s, int keep_newline, char *buf, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t need = 0, used = 0;
    int full = n == 0;
    while (*p != '\0') {
        char esc[8];
        const char *piece = esc;
        size_t len, take = 1;
        if (*p == '\n' && keep_newline) {
            piece = "\n";
            len = 1;
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            len = (size_t)snprintf(esc, sizeof(esc), "\\%c",
                                   *p == '\n'   ? 'n'
                                   : *p == '\r' ? 'r'
                                                : 't');
        } else if (*p < 0x20 || *p == 0x7F) {
            len = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
        } else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            len = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", p[1]);
            take = 2;
        } else {
            piece = (const char *)p;
            len = take = utf8_len(p);
        }
        if (!full && used + len < n) {
            memcpy(buf + used, piece, len);
            used += len;
        } else {
            full = 1; /* nothing after a piece that did not fit, so no hole in the text */
        }
        need += len;
        p += take;
    }
    if (n > 0)
        buf[used] = '\0';
    return need;
}

void out_label(char *buf, size_t n, const char *key)
{
    out_escape(key, 0, buf, n);
    for (char *p = buf; *p != '\0'; p++)
        if (*p == '_')
            *p = ' ';
    buf[0] = (char)toupper((unsigned char)buf[0]);
}

/* Text of a scalar (or a short array of scalars) into buf. */
static void scalar_text(const json_t *v, char *buf, size_t n)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        out_escape(json_string_value(v), 0, buf, n);
        break;
    case JSON_INTEGER:
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(buf, n, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(buf, n, "yes");
        break;
    case JSON_FALSE:
        snprintf(buf, n, "no");
        break;
    case JSON_NULL:
        snprintf(buf, n, "-");
        break;
    case JSON_ARRAY: {
        size_t used = 0, i;
        json_t *e;
        buf[0] = '\0';
        json_array_foreach(v, i, e)
        {
            char one[256];
            scalar_text(e, one, sizeof(one));
            used +=
                (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s", i ? ", " : "", one);
            if (used >= n)
                break;
        }
        if (json_array_size(v) == 0)
            snprintf(buf, n, "-");
        break;
    }
    case JSON_OBJECT:
        snprintf(buf, n, "{...}");
        break;
    }
}

/* Printed on one "Label: value" line: scalars and arrays of scalars that are not record lists. */
int out_is_scalarish(const struct out *o, const json_t *v)
{
    size_t i;
    json_t *e;
    if (json_is_object(v) || out_is_marked(o, v, MARK_LIST))
        return 0;
    if (!json_is_array(v))
        return 1;
    json_array_foreach(v, i, e) if (json_is_object(e) || json_is_array(e)) return 0;
    return 1;
}

/* Characters, not bytes, so columns of non-ASCII text line up. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Cuts s to at most max characters, never inside a UTF-8 sequence. */
static void cut(char *s, size_t max)
{
    size_t chars = 0;
    for (char *p = s; *p != '\0'; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80 && chars++ == max) {
            *p = '\0';
            return;
        }
    }
}

static void pad(FILE *f, const char *s, size_t width)
{
    size_t w = text_width(s);
    fputs(s, f);
    for (; w < width; w++)
        fputc(' ', f);
}

#define TABLE_CELL_MAX 60

static void render_object(FILE *f, const struct out *o, const json_t *obj, int indent);

static void render_table(FILE *f, const json_t *arr, int indent)
{
    const json_t *first = json_array_get(arr, 0);
    const char *key;
    json_t *v, *row;
    size_t ncol = json_object_size(first), c, i;
    size_t *width = calloc(ncol ? ncol : 1, sizeof(size_t));
    char buf[512];
    if (width == NULL)
        return;
    c = 0;
    json_object_foreach((json_t *)first, key, v)
    {
        out_label(buf, sizeof(buf), key);
        width[c++] = text_width(buf);
    }
    json_array_foreach(arr, i, row)
    {
        c = 0;
        json_object_foreach((json_t *)first, key, v)
        {
            const json_t *cellv = json_object_get(row, key);
            scalar_text(cellv ? cellv : json_null(), buf, sizeof(buf));
            cut(buf, TABLE_CELL_MAX);
            if (text_width(buf) > width[c])
                width[c] = text_width(buf);
            c++;
        }
    }
    for (i = 0; i <= json_array_size(arr); i++) {
        row = i == 0 ? NULL : json_array_get(arr, i - 1);
        fprintf(f, "%*s", indent, "");
        c = 0;
        json_object_foreach((json_t *)first, key, v)
        {
            const json_t *cellv = row ? json_object_get(row, key) : NULL;
            if (row == NULL)
                out_label(buf, sizeof(buf), key);
            else
                scalar_text(cellv ? cellv : json_null(), buf, sizeof(buf));
            if (c + 1 < ncol) {
                cut(buf, TABLE_CELL_MAX);
                pad(f, buf, width[c] + 2);
            } else {
                fprintf(f, "%s\n", buf); /* the last column is never cut */
            }
            c++;
        }
    }
    free(width);
}

/*
 * Prints s escaped as out_escape() does, without a final newline. Continuation
 * lines (keep_newline) are indented by hang columns, so a line of an alert
 * cannot start at the margin and pass for another alert. -1 without memory.
 */
static int print_escaped(FILE *f, const char *s, int keep_newline, int hang)
{
    size_t len = out_escape(s, keep_newline, NULL, 0);
    char *safe = malloc(len + 1);
    if (safe == NULL)
        return -1;
    out_escape(s, keep_newline, safe, len + 1);
    for (const char *p = safe; *p != '\0'; p++) {
        fputc(*p, f);
        if (*p == '\n')
            fprintf(f, "%*s", hang, "");
    }
    free(safe);
    return 0;
}

/* The string v, or "-" when it is null or missing. */
const char *out_text_of(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "-";
}

/*
 * A form: its title (the key's label when it has none), each question
 * numbered with its choices or "(free text)" and its help under the prompt,
 * then the command line that answers it.
 */
static void render_form(FILE *f, const char *key, const json_t *form, int indent)
{
    const json_t *title = json_object_get(form, "title");
    const json_t *qs = json_object_get(form, "questions");
    char *cmd = command_line(json_object_get(form, "argv"), qs);
    size_t i;
    json_t *q;
    fprintf(f, "\n%*s", indent, "");
    if (json_is_string(title)) {
        print_escaped(f, json_string_value(title), 0, 0);
    } else {
        char lab[128];
        out_label(lab, sizeof(lab), key);
        fputs(lab, f);
    }
    fputc('\n', f);
    json_array_foreach(qs, i, q)
    {
        const json_t *choices = json_object_get(q, "choices"), *help = json_object_get(q, "help");
        int hang = fprintf(f, "%*s%zu. ", indent + 2, "", i + 1);
        size_t c;
        json_t *choice;
        print_escaped(f, out_text_of(json_object_get(q, "prompt")), 0, 0);
        if (json_is_array(choices)) {
            fputs(" (", f);
            json_array_foreach(choices, c, choice)
            {
                fputs(c ? " / " : "", f);
                print_escaped(f, out_text_of(choice), 0, 0);
            }
            fputs(")\n", f);
        } else {
            fputs(" (free text)\n", f);
        }
        if (json_is_string(help)) {
            fprintf(f, "%*s", hang > 0 ? hang : 0, "");
            print_escaped(f, json_string_value(help), 0, 0);
            fputc('\n', f);
        }
    }
    if (cmd != NULL) {
        fprintf(f, "%*sTo answer: ", indent + 2, "");
        print_escaped(f, cmd, 0, 0);
        fputc('\n', f);
    }
    free(cmd);
}

static void render_value(FILE *f, const struct out *o, const char *key, const json_t *v, int indent)
{
    char title[128];
    if (out_is_marked(o, v, MARK_FORM)) {
        render_form(f, key, v, indent);
        return;
    }
    out_label(title, sizeof(title), key);
    fprintf(f, "\n%*s%s\n", indent, "", title);
    if (json_is_object(v)) {
        render_object(f, o, v, indent + 2);
    } else if (json_array_size(v) == 0) {
        fprintf(f, "%*s(none)\n", indent + 2, "");
    } else if (json_is_object(json_array_get(v, 0))) {
        render_table(f, v, indent + 2);
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            char buf[1024];
            scalar_text(e, buf, sizeof(buf));
            fprintf(f, "%*s%s\n", indent + 2, "", buf);
        }
    }
}

/* Fields only: the root's messages, alerts and actions are printed apart from them. */
static void render_object(FILE *f, const struct out *o, const json_t *obj, int indent)
{
    const char *key;
    json_t *v;
    size_t w = 0;
    char lab[128], buf[4096];
    json_object_foreach((json_t *)obj, key, v)
    {
        if (out_is_scalarish(o, v) && !out_is_host_list(o, v)) {
            out_label(lab, sizeof(lab), key);
            if (text_width(lab) > w)
                w = text_width(lab);
        }
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!out_is_scalarish(o, v) || out_is_host_list(o, v))
            continue;
        out_label(lab, sizeof(lab), key);
        scalar_text(v, buf, sizeof(buf));
        fprintf(f, "%*s%s:", indent, "", lab);
        pad(f, "", w - text_width(lab) + 2);
        fprintf(f, "%s\n", buf);
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!out_is_scalarish(o, v) && !out_is_host_list(o, v))
            render_value(f, o, key, v, indent);
    }
}

#define DANGER_RULE "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"

/* The index in severities of alert's; one this host does not know is danger. */
size_t out_severity_of(const json_t *alert)
{
    const char *sev = out_text_of(json_object_get(alert, "severity"));
    size_t i = 0;
    while (i < N_SEVERITIES && strcmp(out_severities[i].name, sev) != 0)
        i++;
    return i < N_SEVERITIES ? i : CH_SEV_DANGER;
}

/*
 * One alert on its own lines, its severity first; danger between two rules
 * of '!' so it cannot be missed in a scrolling terminal (plain ASCII: the
 * output may be a log or a pipe, not a colour terminal).
 */
static int render_alert(FILE *f, const json_t *alert)
{
    size_t i = out_severity_of(alert);
    int rc;
    if (i == CH_SEV_DANGER)
        fputs(DANGER_RULE "\n", f);
    fputs(out_severities[i].prefix, f);
    rc = print_escaped(f, out_text_of(json_object_get(alert, "text")), 1,
                       (int)strlen(out_severities[i].prefix));
    fputc('\n', f);
    if (i == CH_SEV_DANGER)
        fputs(DANGER_RULE "\n", f);
    return rc;
}

int out_flush_alerts(struct out *o, FILE *f)
{
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(o->alerts, i, e) rc |= render_alert(f, e);
    return rc != 0 || fflush(f) != 0 ? -1 : 0;
}

/* "  -> Label: casehost ARGV...", or just the label for an action without a command. */
static int render_action(FILE *f, const json_t *action)
{
    const json_t *cmd = json_object_get(action, "command");
    int rc;
    fputs("  -> ", f);
    rc = print_escaped(f, out_text_of(json_object_get(action, "label")), 0, 0);
    if (json_is_string(cmd)) {
        fputs(": ", f);
        rc |= print_escaped(f, json_string_value(cmd), 0, 0);
    }
    fputc('\n', f);
    return rc;
}

/* The fields, then the messages. */
static int render_body(FILE *f, const struct out *o)
{
    size_t i;
    json_t *m;
    int rc = 0;
    render_object(f, o, o->root, 0);
    json_array_foreach(o->messages, i, m)
    {
        rc |= print_escaped(f, out_text_of(m), 1, 0);
        fputc('\n', f);
    }
    return rc;
}

/*
 * Text: alerts first, whenever the command raised them ("call 911 now" must
 * be the first thing read), then the body, then the actions to take next;
 * a blank line between the parts. The body is rendered aside first to know
 * whether it starts with a blank line of its own (a section does).
 */
static int render_text(FILE *f, const struct out *o)
{
    char *body = NULL;
    size_t len = 0, i;
    json_t *e;
    int rc;
    FILE *m = open_memstream(&body, &len);
    if (m == NULL)
        return -1;
    rc = render_body(m, o);
    if (fclose(m) != 0) {
        free(body);
        return -1;
    }
    json_array_foreach(o->alerts, i, e) rc |= render_alert(f, e);
    if (json_array_size(o->alerts) > 0 && len > 0 && body[0] != '\n')
        fputc('\n', f);
    fwrite(body, 1, len, f);
    free(body);
    if (json_array_size(o->actions) > 0 && (json_array_size(o->alerts) > 0 || len > 0))
        fputc('\n', f);
    json_array_foreach(o->actions, i, e) rc |= render_action(f, e);
    return rc;
}

/* The host's lists win over a command's root member of the same name. */
static void attach(struct out *o, const char *name, json_t *list)
{
    if (list != NULL && json_object_get(o->root, name) != list)
        json_object_set(o->root, name, list);
}

size_t out_message_count(const struct out *o)
{
    return json_array_size(o->messages); /* 0 for NULL: none yet */
}

int out_is_empty(const struct out *o)
{
    return json_object_size(o->root) == 0 && json_array_size(o->messages) == 0 &&
           json_array_size(o->alerts) == 0 && json_array_size(o->actions) == 0;
}

/* Before rendering: the root's "messages", "alerts" and "actions" are the host's. */
void out_attach_lists(struct out *o)
{
    attach(o, "messages", o->messages);
    attach(o, "alerts", o->alerts);
    attach(o, "actions", o->actions);
}

int out_flush(struct out *o, FILE *f)
{
    out_attach_lists(o);
    if (o->json) {
        if (json_dumpf(o->root, f, JSON_INDENT(2)) != 0)
            return -1;
        fputc('\n', f);
    } else if (render_text(f, o) != 0) {
        return -1;
    }
    return fflush(f) == 0 ? 0 : -1;
}
