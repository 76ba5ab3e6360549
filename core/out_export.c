/*
 * out_export.c: the output document's table as CSV and its chart as an SVG
 * file (out.h: out_flush_csv, out_flush_svg), for `--csv`, `--svg FILE`
 * and a page's CSV download. Each renders aside first: a refusal or a
 * failure writes nothing, and a spreadsheet can never be made to run a
 * cell as a formula.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "out.h"
#include "out_tree.h"
#include "svg.h"

/*
 * Text a spreadsheet would read as a formula (or, after a tab or CR, as
 * the start of one) gets a single quote before it: shown, never run.
 */
static int formula_like(const char *s)
{
    return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
}

/* One field, quoted when it must be (RFC 4180), quotes doubled. */
static void csv_field(FILE *f, const char *s, int neutralise)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    if (neutralise && formula_like(s))
        fputc('\'', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    if (quote)
        fputc('"', f);
}

/* A cell: numbers as numbers, text neutralised, null empty, nested values as compact JSON. */
static int csv_cell(FILE *f, const json_t *v)
{
    char *dump;
    switch (v != NULL ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        csv_field(f, json_string_value(v), 1);
        return 0;
    case JSON_INTEGER:
        fprintf(f, "%lld", (long long)json_integer_value(v));
        return 0;
    case JSON_REAL:
        fprintf(f, "%.17g", json_real_value(v));
        return 0;
    case JSON_TRUE:
        fputs("yes", f);
        return 0;
    case JSON_FALSE:
        fputs("no", f);
        return 0;
    case JSON_NULL:
        return 0;
    default:
        dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (dump == NULL)
            return -1;
        csv_field(f, dump, 1);
        free(dump);
        return 0;
    }
}

/*
 * The header's columns: the rows' members in order first seen; for a
 * table without rows, the members the chart names (facet, x, series).
 */
static long csv_columns(const struct out *o, const json_t *table, const char ***cols)
{
    const struct ch_chart *c = o->chart;
    size_t n = 0;
    if (json_array_size(table) > 0 || c == NULL || json_object_get(o->root, o->chart_key) != table)
        return out_table_keys(table, cols);
    for (size_t i = 0; c->series != NULL && c->series[i] != NULL; i++)
        n++;
    if ((*cols = malloc((n + 2) * sizeof(char *))) == NULL)
        return -1;
    n = 0;
    if (c->kind == CH_CHART_SMALL_MULTIPLES)
        (*cols)[n++] = c->facet;
    (*cols)[n++] = c->x;
    for (size_t i = 0; c->series != NULL && c->series[i] != NULL; i++)
        (*cols)[n++] = c->series[i];
    return (long)n;
}

static int csv_write(FILE *m, const struct out *o, const json_t *table)
{
    const char **cols;
    long n = csv_columns(o, table, &cols);
    size_t i;
    json_t *row;
    int rc = 0;
    if (n < 0)
        return -1;
    for (long k = 0; k < n; k++) {
        fputs(k ? "," : "", m);
        csv_field(m, cols[k], 1);
    }
    if (n > 0)
        fputs("\r\n", m);
    json_array_foreach(table, i, row)
    {
        for (long k = 0; k < n; k++) {
            fputs(k ? "," : "", m);
            rc |= csv_cell(m, json_is_object(row) ? json_object_get(row, cols[k]) : NULL);
        }
        fputs("\r\n", m);
    }
    free(cols);
    return rc;
}

/* Writes what render put into a memory stream to f, all or (on failure) nothing. */
static int write_aside(FILE *f, char *buf, size_t len, int rc, char *err, size_t errlen)
{
    if (rc != 0) {
        snprintf(err, errlen, "out of memory");
    } else if (fwrite(buf, 1, len, f) != len || fflush(f) != 0) {
        snprintf(err, errlen, "cannot write the output");
        rc = -1;
    }
    free(buf);
    return rc;
}

int out_has_table(const struct out *o, char *err, size_t errlen)
{
    return out_table(o, err, errlen) != NULL;
}

int out_flush_csv(struct out *o, FILE *f, char *err, size_t errlen)
{
    const json_t *table;
    char *buf = NULL;
    size_t len = 0;
    FILE *m;
    int rc;
    out_attach_lists(o);
    if ((table = out_table(o, err, errlen)) == NULL)
        return -1;
    if ((m = open_memstream(&buf, &len)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = csv_write(m, o, table);
    rc |= fclose(m) != 0 ? -1 : 0;
    return write_aside(f, buf, len, rc, err, errlen);
}

int out_flush_svg(struct out *o, FILE *f, char *err, size_t errlen)
{
    const json_t *rows;
    char *buf = NULL;
    size_t len = 0;
    FILE *m;
    int rc;
    if (o->chart == NULL) {
        snprintf(err, errlen, "the command drew no chart");
        return -1;
    }
    rows = json_object_get(o->root, o->chart_key);
    if (!json_is_array(rows)) {
        snprintf(err, errlen, "the chart's table '%s' is not in the output", o->chart_key);
        return -1;
    }
    if ((m = open_memstream(&buf, &len)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = svg_render(m, rows, o->chart, "chart", 1);
    rc |= fclose(m) != 0 ? -1 : 0;
    return write_aside(f, buf, len, rc, err, errlen);
}
