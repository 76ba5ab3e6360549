/*
 * svg.h: a chart of a table (an array of objects) as SVG, drawn on the
 * server for the web pages and `--svg FILE`. Self-contained: no script, no
 * style element or attribute, no external reference, no event attribute;
 * every text goes through html.h's escaper.
 */
#ifndef CASEHOST_SVG_H
#define CASEHOST_SVG_H

#include <stdio.h>

#include <jansson.h>

#include <casehost/plugin.h>

/*
 * Draws rows as chart says (plugin.h, struct ch_chart): bars, one per row
 * and labelled by its x member, the series members stacked in order; or
 * small multiples, one panel of such bars per value of facet (in order of
 * first appearance), every panel on one shared scale. A cell that is not a
 * number of at least zero (a suppressed "<11", null) draws nothing; every
 * bar's <title> shows its cells as the table does. Without series, every
 * integer member of the first row but x and facet is one. Readable in
 * black and white: each series has its own grey or hatching, a legend names
 * them, each bar carries its total, a figure above zero is at least one unit
 * high. Accessible: role="img" with <title> (the
 * chart's title) and <desc> (what is drawn, how many bars, the largest
 * total). The same input gives the same bytes.
 *
 * id prefixes every element id (ASCII letters, digits and '-' only: two
 * charts on one page need two ids). standalone adds the XML declaration,
 * for a file. rows and chart are borrowed. 0, or -1 without memory, on a
 * write error or when id is not such a word.
 */
int svg_render(FILE *f, const json_t *rows, const struct ch_chart *chart, const char *id,
               int standalone);

#endif /* CASEHOST_SVG_H */
