/*
 * out_tree.h: the output document's inside, shared by its renderers
 * (out.c: JSON and text; out_html.c: HTML; out_csv.c: CSV; svg.c: the
 * chart). Nothing outside core/out*.c and core/svg.c includes it.
 */
#ifndef CASEHOST_OUT_TREE_H
#define CASEHOST_OUT_TREE_H

#include <stddef.h>

#include <jansson.h>

#include <casehost/plugin.h>

#define OUT_MAX_DEPTH 16

/*
 * Containers that render differently from a plain value of their type:
 * arrays opened with out_array are lists of records (shown as sections,
 * "(none)" when empty), objects made by out_form are forms.
 */
enum mark_kind { MARK_LIST = 1, MARK_FORM };

struct mark {
    json_t *node; /* a reference: a marked node's address is never reused while marked */
    enum mark_kind kind;
};

struct out {
    json_t *root;
    /* Open containers; each entry above the root holds a reference, dropped by out_end. */
    json_t *stack[OUT_MAX_DEPTH];
    int depth;
    int json;
    /*
     * The root's "messages", "alerts" and "actions": prose and next steps,
     * not fields. NULL until first used; each holds its own reference, so a
     * command's member of the same name cannot free or hide them.
     */
    json_t *messages, *alerts, *actions;
    struct mark *marks;
    size_t n_marks, cap_marks;
    /*
     * The chart asked for with out_chart (NULL: none), every string owned
     * (series NULL-terminated), and the root key of the array it draws.
     */
    struct ch_chart *chart;
    char *chart_key;
};

/*
 * Per severity: its name in JSON, the prefix that starts its text, and in
 * HTML its ARIA role (danger and warning interrupt a screen reader, a note
 * waits) and the word that starts it.
 */
struct out_severity {
    const char *name;
    const char *prefix;
    const char *role;
    const char *word;
};
extern const struct out_severity out_severities[];
#define N_SEVERITIES 3

/* 1 when v was opened as kind (a list of records, a form). */
int out_is_marked(const struct out *o, const json_t *v, enum mark_kind kind);
/* 1 when v is the root's messages, alerts or actions. */
int out_is_host_list(const struct out *o, const json_t *v);
/*
 * s with control characters shown (\n kept when keep_newline), into buf of
 * n (NULL, 0: only measures). Returns the length it needs.
 */
size_t out_escape(const char *s, int keep_newline, char *buf, size_t n);
/* A key as a label, escaped: '_' as spaces, the first letter upper case. */
void out_label(char *buf, size_t n, const char *key);
/* 1 when v is shown on one "Label: value" line: a scalar, or an array of scalars not a record list.
 */
int out_is_scalarish(const struct out *o, const json_t *v);
/* The string v, or "-" when it is null or missing. */
const char *out_text_of(const json_t *v);
/* The index in out_severities of an alert's severity (unknown: danger). */
size_t out_severity_of(const json_t *alert);
/* Puts the root's messages, alerts and actions in place before rendering. */
void out_attach_lists(struct out *o);

/*
 * The columns of a table (an array of objects): the union of its rows'
 * keys, in the order first seen, into *keys (borrowed from arr; caller
 * frees the array with free()). Returns how many, or -1 without memory.
 */
long out_table_keys(const json_t *arr, const char ***keys);
/*
 * The document's table: the array the chart names (even empty), else the
 * one root array of objects. NULL, with why in err, when there is none or
 * more than one and no chart to choose.
 */
const json_t *out_table(const struct out *o, char *err, size_t errlen);

#endif /* CASEHOST_OUT_TREE_H */
