/*
 * out.c: builds the output document with jansson and renders it as JSON or
 * as aligned text. Text rendering is generic: scalars as "Label: value",
 * nested objects as titled sections, arrays of objects as tables.
 * Never prints anything before out_flush(), so a failed command shows no
 * half-finished result, and never prints a control character from a value,
 * so a value cannot forge a line or drive the terminal (see escape()).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "out.h"

#define OUT_MAX_DEPTH 16

struct out {
    json_t *root;
    json_t *stack[OUT_MAX_DEPTH];
    int depth;
    int json;
    /* Arrays opened with out_array are lists of records: shown as sections, "(none)" when empty. */
    const json_t **lists;
    size_t n_lists, cap_lists;
};

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

void out_free(struct out *o)
{
    if (o == NULL)
        return;
    json_decref(o->root);
    free(o->lists);
    free(o);
}

/* Adds v (stealing the reference) to the current container. */
static void put(struct out *o, const char *key, json_t *v)
{
    json_t *cur = o->stack[o->depth];
    if (v == NULL)
        return;
    if (json_is_array(cur))
        json_array_append_new(cur, v);
    else
        json_object_set_new(cur, key != NULL ? key : "value", v);
}

static void push(struct out *o, const char *key, json_t *c)
{
    put(o, key, c);
    if (o->depth + 1 < OUT_MAX_DEPTH)
        o->stack[++o->depth] = c;
}

void out_object(struct out *o, const char *key)
{
    push(o, key, json_object());
}

void out_array(struct out *o, const char *key)
{
    json_t *a = json_array();
    if (o->n_lists == o->cap_lists) {
        size_t cap = o->cap_lists ? o->cap_lists * 2 : 8;
        const json_t **v = realloc(o->lists, cap * sizeof(*v));
        if (v != NULL) {
            o->lists = v;
            o->cap_lists = cap;
        }
    }
    if (o->n_lists < o->cap_lists)
        o->lists[o->n_lists++] = a;
    push(o, key, a);
}

void out_end(struct out *o)
{
    if (o->depth > 0)
        o->depth--;
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

void out_message(struct out *o, const char *text)
{
    json_t *m = json_object_get(o->root, "messages");
    if (m == NULL) {
        m = json_array();
        json_object_set_new(o->root, "messages", m);
    }
    json_array_append_new(m, json_string(text));
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
 * program's own prose messages, whose lines are meant. A backslash is left
 * as it is: the text form is for reading, --json is the exact form.
 * Returns the length the whole escaped text needs, as snprintf does.
 */
static size_t escape(const char *s, int keep_newline, char *buf, size_t n)
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

static void label(char *buf, size_t n, const char *key)
{
    escape(key, 0, buf, n);
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
        escape(json_string_value(v), 0, buf, n);
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

static int is_list(const struct out *o, const json_t *v)
{
    for (size_t i = 0; i < o->n_lists; i++)
        if (o->lists[i] == v)
            return 1;
    return 0;
}

/* Printed on one "Label: value" line: scalars and arrays of scalars that are not record lists. */
static int is_scalarish(const struct out *o, const json_t *v)
{
    size_t i;
    json_t *e;
    if (json_is_object(v) || is_list(o, v))
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
        label(buf, sizeof(buf), key);
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
                label(buf, sizeof(buf), key);
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

static void render_value(FILE *f, const struct out *o, const char *key, const json_t *v, int indent)
{
    char title[128];
    label(title, sizeof(title), key);
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

/* The root's "messages" are prose printed last, not a field. */
static int is_root_messages(const struct out *o, const json_t *obj, const char *key)
{
    return obj == o->root && strcmp(key, "messages") == 0;
}

static void render_object(FILE *f, const struct out *o, const json_t *obj, int indent)
{
    const char *key;
    json_t *v;
    size_t w = 0;
    char lab[128], buf[4096];
    json_object_foreach((json_t *)obj, key, v)
    {
        if (is_scalarish(o, v) && !is_root_messages(o, obj, key)) {
            label(lab, sizeof(lab), key);
            if (text_width(lab) > w)
                w = text_width(lab);
        }
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!is_scalarish(o, v) || is_root_messages(o, obj, key))
            continue;
        label(lab, sizeof(lab), key);
        scalar_text(v, buf, sizeof(buf));
        fprintf(f, "%*s%s:", indent, "", lab);
        pad(f, "", w - text_width(lab) + 2);
        fprintf(f, "%s\n", buf);
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!is_scalarish(o, v) && !is_root_messages(o, obj, key))
            render_value(f, o, key, v, indent);
    }
}

int out_flush(struct out *o, FILE *f)
{
    if (o->json) {
        if (json_dumpf(o->root, f, JSON_INDENT(2)) != 0)
            return -1;
        fputc('\n', f);
    } else {
        const json_t *msgs = json_object_get(o->root, "messages");
        size_t i;
        json_t *m;
        render_object(f, o, o->root, 0);
        json_array_foreach(msgs, i, m)
        {
            const char *text = json_string_value(m);
            size_t len = escape(text, 1, NULL, 0);
            char *safe = malloc(len + 1);
            if (safe == NULL)
                return -1;
            escape(text, 1, safe, len + 1);
            fprintf(f, "%s\n", safe);
            free(safe);
        }
    }
    return fflush(f) == 0 ? 0 : -1;
}
