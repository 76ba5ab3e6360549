/*
 * svg.c: draws a table as a bar chart or small multiples in SVG (svg.h).
 * It must never write a value into the SVG except through svg_text (which
 * ends in html_text), never an attribute that runs or loads anything, and
 * never depend on anything but its input, so the same table gives the same
 * bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "out_tree.h"
#include "svg.h"

/* Geometry, in SVG user units (pixels at 100%). */
#define SVG_WIDTH 640 /* a bar chart's least width */
#define SVG_LEFT 64   /* room for the tick labels */
#define SVG_RIGHT 16
#define SVG_TOP 40      /* below the chart's title */
#define BARS_PLOT_H 220 /* a bar chart's plot height */
#define BARS_MIN_SLOT 8 /* a bar chart grows wider rather than thinner */
#define BAR_MAX_W 56
#define PANEL_W 300 /* one small multiple, with its axis */
#define PANEL_H 210 /* one small multiple, with its title and labels */
#define PANEL_PLOT_H 130
#define PANEL_COLS 2
#define CHAR_W 7           /* an estimate of a character's width at font-size 12 */
#define LABEL_MAX_CHARS 16 /* an axis label longer than this is cut (the title holds it whole) */
#define LEGEND_ROW 20
#define N_TICKS 5

/*
 * One fill per series, told apart without colour: greys far enough apart
 * and hatchings. A pattern entry is drawn in <defs> and used as url(#ID-pN).
 */
static const struct fill {
    const char *solid;   /* a grey, or NULL for the pattern */
    const char *pattern; /* the pattern's drawing on a white 6x6 tile */
} fills[] = {
    {"#333333", NULL},
    {"#bbbbbb", NULL},
    {NULL, "<path d=\"M0,6 L6,0\" stroke=\"#000\" stroke-width=\"1\"/>"},
    {"#777777", NULL},
    {NULL, "<circle cx=\"3\" cy=\"3\" r=\"1.2\" fill=\"#000\"/>"},
    {NULL, "<path d=\"M0,0 L6,6 M0,6 L6,0\" stroke=\"#000\" stroke-width=\"0.8\"/>"},
    {"#ffffff", NULL},
    {NULL, "<path d=\"M0,3 L6,3\" stroke=\"#000\" stroke-width=\"1\"/>"},
};
#define N_FILLS (sizeof(fills) / sizeof(fills[0]))

/* A group of rows drawn as one set of bars: the whole table, or one facet's rows. */
struct panel {
    char *name; /* the facet's value as shown; NULL for the one panel of a bar chart */
    const json_t **rows;
    size_t n;
};

struct chart {
    FILE *f;
    const char *id;
    const struct ch_chart *hint;
    const char **series;
    size_t n_series;
    struct panel *panels;
    size_t n_panels;
    double top, step; /* the shared scale: its top value and the step between ticks */
    double largest;
    size_t n_bars;
};

/* Text of a cell as the table shows it (missing: "-"), into buf of n. */
static void cell_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v))
        snprintf(buf, n, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, n, "%s", json_is_true(v) ? "yes" : "no");
    else
        snprintf(buf, n, "-");
}

/* The value a cell draws: a number of at least zero, else 0 (nothing drawn). */
static double cell_value(const json_t *v)
{
    double d = json_is_number(v) ? json_number_value(v) : 0;
    return d > 0 ? d : 0;
}

/*
 * Writes s as text of the SVG: control characters shown (out_escape),
 * cut to max characters with an ellipsis (0: whole), then html_text.
 */
static int svg_text(FILE *f, const char *s, size_t max)
{
    size_t len = out_escape(s != NULL ? s : "-", 0, NULL, 0), chars = 0;
    char *safe = malloc(len + 4), *p, *keep = NULL;
    if (safe == NULL)
        return -1;
    out_escape(s != NULL ? s : "-", 0, safe, len + 1);
    for (p = safe; max > 0 && *p != '\0'; p++) {
        if (((unsigned char)*p & 0xC0) == 0x80)
            continue;
        if (++chars == max)
            keep = p; /* where the ellipsis goes if there is more */
        else if (chars > max)
            break;
    }
    if (max > 0 && chars > max)
        strcpy(keep, "\xE2\x80\xA6"); /* U+2026; 3 bytes spare were allocated */
    html_text(f, safe);
    free(safe);
    return 0;
}

/* A member's label ("positive_rate" is "Positive rate"), escaped. */
static void svg_label(FILE *f, const char *key)
{
    char lab[128];
    out_label(lab, sizeof(lab), key);
    html_text(f, lab);
}

/* A number for an axis: whole numbers, and 1000s as k, M, G, T, P, E when they divide evenly. */
static void tick_text(char *buf, size_t n, double v, double step)
{
    static const char units[] = " kMGTPE";
    size_t u = 0;
    double div = 1;
    while (u + 1 < sizeof(units) - 1 && step >= div * 1000) {
        div *= 1000;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.0f%c", v / div, units[u]);
}

/* A scale over [0, largest]: a step of 1, 2 or 5 times a power of ten, about N_TICKS of them. */
static void scale(struct chart *c)
{
    double raw = c->largest / N_TICKS, mag = 1;
    if (c->largest <= 0) {
        c->top = c->step = 1;
        return;
    }
    while (mag * 10 <= raw)
        mag *= 10;
    c->step = raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
    c->top = c->step;
    while (c->top < c->largest)
        c->top += c->step;
}

static double row_total(const struct chart *c, const json_t *row)
{
    double t = 0;
    for (size_t s = 0; s < c->n_series; s++)
        t += cell_value(json_object_get(row, c->series[s]));
    return t;
}

/* The series: the hint's, or every integer member of the first row but x and facet. */
static int find_series(struct chart *c, const json_t *rows)
{
    const char *key;
    json_t *v;
    size_t n = 0;
    if (c->hint->series != NULL) {
        while (c->hint->series[n] != NULL)
            n++;
        c->series = malloc((n ? n : 1) * sizeof(char *));
        if (c->series == NULL)
            return -1;
        memcpy(c->series, c->hint->series, n * sizeof(char *));
        c->n_series = n;
        return 0;
    }
    c->series = malloc((json_object_size(json_array_get(rows, 0)) + 1) * sizeof(char *));
    if (c->series == NULL)
        return -1;
    json_object_foreach(json_array_get(rows, 0), key, v)
    {
        if (json_is_integer(v) && strcmp(key, c->hint->x) != 0 &&
            (c->hint->facet == NULL || strcmp(key, c->hint->facet) != 0))
            c->series[c->n_series++] = key;
    }
    return 0;
}

/* Adds row to the panel named name (made when new). */
static int panel_add(struct chart *c, const char *name, const json_t *row)
{
    struct panel *p = NULL;
    const json_t **grown;
    for (size_t i = 0; i < c->n_panels && p == NULL; i++)
        if ((name == NULL) == (c->panels[i].name == NULL) &&
            (name == NULL || strcmp(name, c->panels[i].name) == 0))
            p = &c->panels[i];
    if (p == NULL) {
        struct panel *more = realloc(c->panels, (c->n_panels + 1) * sizeof(*more));
        if (more == NULL)
            return -1;
        c->panels = more;
        p = &c->panels[c->n_panels];
        memset(p, 0, sizeof(*p));
        if (name != NULL && (p->name = strdup(name)) == NULL)
            return -1;
        c->n_panels++;
    }
    grown = realloc(p->rows, (p->n + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    p->rows = grown;
    p->rows[p->n++] = row;
    return 0;
}

static int group_rows(struct chart *c, const json_t *rows)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char name[256];
        double t;
        if (!json_is_object(row))
            continue;
        if (c->hint->kind == CH_CHART_SMALL_MULTIPLES)
            cell_text(json_object_get(row, c->hint->facet), name, sizeof(name));
        if (panel_add(c, c->hint->kind == CH_CHART_SMALL_MULTIPLES ? name : NULL, row) != 0)
            return -1;
        t = row_total(c, row);
        c->largest = t > c->largest ? t : c->largest;
        c->n_bars++;
    }
    return 0;
}

static void chart_release(struct chart *c)
{
    for (size_t i = 0; i < c->n_panels; i++) {
        free(c->panels[i].name);
        free(c->panels[i].rows);
    }
    free(c->panels);
    free(c->series);
}

static void fill_attr(const struct chart *c, size_t s)
{
    const struct fill *fl = &fills[s % N_FILLS];
    if (fl->solid != NULL)
        fprintf(c->f, "fill=\"%s\"", fl->solid);
    else
        fprintf(c->f, "fill=\"url(#%s-p%zu)\"", c->id, s % N_FILLS);
}

/* The patterns the series use, once each. */
static void defs(const struct chart *c)
{
    fputs("<defs>", c->f);
    for (size_t s = 0; s < c->n_series && s < N_FILLS; s++) {
        if (fills[s].pattern == NULL)
            continue;
        fprintf(c->f,
                "<pattern id=\"%s-p%zu\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
                "<rect width=\"6\" height=\"6\" fill=\"#fff\"/>%s</pattern>",
                c->id, s, fills[s].pattern);
    }
    fputs("</defs>\n", c->f);
}

/* The y axis of a plot whose baseline is at (x0, base), height h: ticks, grid and labels. */
static void axis(const struct chart *c, double x0, double x1, double base, double h)
{
    fputs("<g font-size=\"11\" text-anchor=\"end\">", c->f);
    for (double v = 0; v <= c->top + c->step / 2; v += c->step) {
        double y = base - v / c->top * h;
        char t[32];
        tick_text(t, sizeof(t), v, c->step);
        fprintf(c->f,
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#cccccc\" "
                "stroke-width=\"0.5\"/><line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                "stroke=\"#000\"/><text x=\"%.2f\" y=\"%.2f\">%s</text>",
                x0, y, x1, y, x0 - 4, y, x0, y, x0 - 6, y + 4, t);
    }
    fprintf(c->f,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\"/>"
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\"/></g>\n",
            x0, base - h, x0, base, x0, base, x1, base);
}

/* One bar: a group whose <title> names the row and each of its cells, its segments stacked. */
static int bar(const struct chart *c, const json_t *row, double x, double w, double base, double h,
               int total_label)
{
    char text[256];
    double y = base, total = row_total(c, row);
    int rc = 0;
    fputs("<g><title>", c->f);
    cell_text(json_object_get(row, c->hint->x), text, sizeof(text));
    rc |= svg_text(c->f, text, 0);
    for (size_t s = 0; s < c->n_series; s++) {
        fputs(s ? ", " : ": ", c->f);
        svg_label(c->f, c->series[s]);
        cell_text(json_object_get(row, c->series[s]), text, sizeof(text));
        fputc(' ', c->f);
        rc |= svg_text(c->f, text, 0);
    }
    fputs("</title>", c->f);
    for (size_t s = 0; s < c->n_series; s++) {
        double v = cell_value(json_object_get(row, c->series[s])), sh = v / c->top * h;
        if (v <= 0)
            continue;
        sh = sh < 1 ? 1 : sh; /* a figure above zero is never too thin to see */
        y -= sh;
        fprintf(c->f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" ", x, y, w, sh);
        fill_attr(c, s);
        fputs(" stroke=\"#000\" stroke-width=\"0.5\"/>", c->f);
    }
    if (total_label) {
        snprintf(text, sizeof(text), "%.0f", total);
        fprintf(c->f,
                "<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
                x + w / 2, y - 3, text);
    }
    fputs("</g>\n", c->f);
    return rc;
}

/*
 * A panel's bars between x0 and x1 over the baseline base, h high, with
 * its axis and its x labels; every k-th label only when they would touch.
 */
static int plot(const struct chart *c, const struct panel *p, double x0, double x1, double base,
                double h)
{
    double slot = p->n ? (x1 - x0) / (double)p->n : 0, w = slot * 0.7;
    w = w > BAR_MAX_W ? BAR_MAX_W : w; /* one bar is a bar, not a wall */
    size_t every = 1, max_chars;
    int rc = 0;
    axis(c, x0, x1, base, h);
    while (slot * (double)every < 9 * CHAR_W && every < p->n)
        every++;
    max_chars = (size_t)(slot * (double)every / CHAR_W);
    max_chars = max_chars < 3 ? 3 : max_chars > LABEL_MAX_CHARS ? LABEL_MAX_CHARS : max_chars;
    for (size_t i = 0; i < p->n; i++)
        rc |= bar(c, p->rows[i], x0 + (double)i * slot + (slot - w) / 2, w < 1 ? 1 : w, base, h,
                  slot >= 18);
    fputs("<g font-size=\"11\" text-anchor=\"middle\">", c->f);
    for (size_t i = 0; i < p->n; i += every) {
        char text[256];
        cell_text(json_object_get(p->rows[i], c->hint->x), text, sizeof(text));
        fprintf(c->f, "<text x=\"%.2f\" y=\"%.2f\">", x0 + ((double)i + 0.5) * slot, base + 15);
        rc |= svg_text(c->f, text, max_chars);
        fputs("</text>", c->f);
    }
    fputs("</g>\n", c->f);
    return rc;
}

/*
 * The legend from y down, wrapping at width (draw 0: only measures);
 * returns the height it takes.
 */
static double legend(const struct chart *c, double y, double width, int draw)
{
    double x = SVG_LEFT, rows = 1;
    if (draw)
        fputs("<g font-size=\"12\">", c->f);
    for (size_t s = 0; s < c->n_series; s++) {
        char lab[128];
        double item;
        out_label(lab, sizeof(lab), c->series[s]);
        item = 18 + CHAR_W * (double)strlen(lab) + 16;
        if (x > SVG_LEFT && x + item > width - SVG_RIGHT) {
            x = SVG_LEFT;
            y += LEGEND_ROW;
            rows++;
        }
        if (draw) {
            fprintf(c->f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"12\" height=\"12\" ", x, y);
            fill_attr(c, s);
            fprintf(c->f, " stroke=\"#000\"/><text x=\"%.2f\" y=\"%.2f\">", x + 18, y + 11);
            html_text(c->f, lab);
            fputs("</text>", c->f);
        }
        x += item;
    }
    if (draw)
        fputs("</g>\n", c->f);
    return rows * LEGEND_ROW;
}

/* What the chart shows, in words, for <desc>. */
static void describe(const struct chart *c)
{
    char big[32];
    snprintf(big, sizeof(big), "%.0f", c->largest);
    if (c->hint->kind == CH_CHART_SMALL_MULTIPLES) {
        fprintf(c->f, "%zu panels, one for each ", c->n_panels);
        svg_label(c->f, c->hint->facet);
        fputs(", on one shared scale; in each, one bar for each ", c->f);
    } else {
        fputs("One bar for each ", c->f);
    }
    svg_label(c->f, c->hint->x);
    fputs(c->n_series > 1 ? ", stacked: " : ": ", c->f);
    for (size_t s = 0; s < c->n_series; s++) {
        fputs(s ? ", " : "", c->f);
        svg_label(c->f, c->series[s]);
    }
    fprintf(c->f, ". %zu bars; the largest total is %s. The table holds every figure.", c->n_bars,
            big);
}

static int valid_id(const char *id)
{
    if (id == NULL || *id == '\0')
        return 0;
    for (; *id != '\0'; id++)
        if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
              (*id >= '0' && *id <= '9') || *id == '-'))
            return 0;
    return 1;
}

int svg_render(FILE *f, const json_t *rows, const struct ch_chart *hint, const char *id,
               int standalone)
{
    struct chart c = {f, id, hint, NULL, 0, NULL, 0, 0, 0, 0, 0};
    const struct panel empty = {NULL, NULL, 0};
    double width, height, base;
    size_t cols = 0, grid_rows = 0;
    int rc = -1;
    if (!valid_id(id) || hint == NULL || hint->x == NULL ||
        (hint->kind == CH_CHART_SMALL_MULTIPLES && hint->facet == NULL) ||
        find_series(&c, rows) != 0 || group_rows(&c, rows) != 0)
        goto out;
    scale(&c);
    if (hint->kind == CH_CHART_SMALL_MULTIPLES && c.n_panels > 0) {
        cols = c.n_panels < PANEL_COLS ? c.n_panels : PANEL_COLS;
        grid_rows = (c.n_panels + cols - 1) / cols;
        width = (double)cols * PANEL_W + SVG_RIGHT;
        width = width < SVG_WIDTH ? SVG_WIDTH : width;
        base = SVG_TOP + (double)grid_rows * PANEL_H;
    } else {
        double need = SVG_LEFT + (double)c.n_bars * BARS_MIN_SLOT + SVG_RIGHT;
        width = need > SVG_WIDTH ? need : SVG_WIDTH;
        base = SVG_TOP + BARS_PLOT_H + 30;
    }
    height = base + 10 + legend(&c, base + 10, width, 0) + 10;
    if (standalone)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" aria-labelledby=\"%s-title %s-desc\" "
            "font-family=\"sans-serif\" class=\"chart\">\n<title id=\"%s-title\">",
            width, height, width, height, id, id, id);
    rc = svg_text(f, hint->title != NULL ? hint->title : "Chart", 0);
    fprintf(f, "</title>\n<desc id=\"%s-desc\">", id);
    describe(&c);
    fputs("</desc>\n", f);
    defs(&c);
    fputs("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n", f);
    fputs("<text x=\"16\" y=\"22\" font-size=\"14\" font-weight=\"bold\">", f);
    rc |= svg_text(f, hint->title != NULL ? hint->title : "Chart", 0);
    fputs("</text>\n", f);
    if (cols == 0) {
        const struct panel *p = c.n_panels ? &c.panels[0] : &empty;
        rc |= plot(&c, p, SVG_LEFT, width - SVG_RIGHT, SVG_TOP + BARS_PLOT_H, BARS_PLOT_H);
        if (p->n == 0)
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">No rows</text>\n",
                    (SVG_LEFT + width - SVG_RIGHT) / 2, SVG_TOP + BARS_PLOT_H / 2.0);
    }
    for (size_t i = 0; cols > 0 && i < c.n_panels; i++) {
        double px = (double)(i % cols) * PANEL_W, py = SVG_TOP + (double)(i / cols) * PANEL_H;
        fprintf(f, "<g><text x=\"%.2f\" y=\"%.2f\" font-size=\"12\" font-weight=\"bold\">",
                px + SVG_LEFT, py + 14);
        rc |= svg_text(f, c.panels[i].name, 2 * LABEL_MAX_CHARS);
        fputs("</text>\n", f);
        rc |= plot(&c, &c.panels[i], px + SVG_LEFT, px + PANEL_W - SVG_RIGHT,
                   py + 28 + PANEL_PLOT_H, PANEL_PLOT_H);
        fputs("</g>\n", f);
    }
    legend(&c, base + 10, width, 1);
    fputs("</svg>\n", f);
out:
    chart_release(&c);
    return rc != 0 || ferror(f) ? -1 : 0;
}
