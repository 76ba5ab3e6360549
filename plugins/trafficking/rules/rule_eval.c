/*
 * rule_eval.c: evaluation, traces and explanations of compiled rules (rule.h).
 *
 * Must never allocate, do I/O or keep state between calls: rule_eval runs per
 * case and per rule, and its recursion is bounded by the depth rule.c checked.
 */
#include "rules/rule.h"
#include "rules/rule_prog.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

size_t rule_node_count(const struct rule_prog *prog)
{
    return (size_t)prog->n_nodes;
}

int rule_slot_count(const struct rule_prog *prog)
{
    return prog->slot_count;
}

int rule_uses_slot(const struct rule_prog *prog, int slot)
{
    for (int i = 0; i < prog->n_nodes; i++)
        if (prog->nodes[i].kind == RULE__SLOT && prog->nodes[i].u.slot == slot)
            return 1;
    return 0;
}

const char *rule_source(const struct rule_prog *prog)
{
    return prog->text;
}

void rule_node_span(const struct rule_prog *prog, size_t i, size_t *offset, size_t *length,
                    int *depth)
{
    assert(i < (size_t)prog->n_nodes);
    const struct rule__node *n = &prog->nodes[i];
    if (offset != NULL)
        *offset = (size_t)n->off;
    if (length != NULL)
        *length = (size_t)n->len;
    if (depth != NULL)
        *depth = n->depth;
}

static int truthy(struct rule_value v)
{
    return v.type == RULE_BOOL && v.u.b;
}

/*
 * A fact of another type than the schema promised, a NULL string or a NaN is
 * treated as unknown: rule_eval must never read the wrong union member.
 */
static struct rule_value load_fact(const struct rule__node *n, const struct rule_value *facts)
{
    struct rule_value v = facts[n->u.slot];
    if (v.type != n->type)
        return rule__null();
    if ((v.type == RULE_STR && v.u.s == NULL) || (v.type == RULE_NUM && isnan(v.u.n)))
        return rule__null();
    if (v.type == RULE_BOOL)
        v.u.b = v.u.b != 0;
    return v;
}

/* Both known; the compiler made their types equal. */
static int values_equal(struct rule_value a, struct rule_value b)
{
    if (a.type != b.type)
        return 0;
    switch (a.type) {
    case RULE_BOOL:
        return !a.u.b == !b.u.b;
    case RULE_NUM:
        return a.u.n == b.u.n;
    case RULE_STR:
        return strcmp(a.u.s, b.u.s) == 0;
    case RULE_NULL:
        break;
    }
    return 1;
}

/*
 * == and != treat null as a value of its own (so != is exactly `not ==`); the
 * ordering operators are false when either side is null.
 */
static int compare(enum rule__kind kind, struct rule_value l, struct rule_value r)
{
    if (kind == RULE__EQ || kind == RULE__NE) {
        int eq = l.type == RULE_NULL || r.type == RULE_NULL ? l.type == r.type : values_equal(l, r);
        return kind == RULE__EQ ? eq : !eq;
    }
    if (l.type != RULE_NUM || r.type != RULE_NUM)
        return 0;
    switch (kind) {
    case RULE__LT:
        return l.u.n < r.u.n;
    case RULE__LE:
        return l.u.n <= r.u.n;
    case RULE__GT:
        return l.u.n > r.u.n;
    default:
        return l.u.n >= r.u.n;
    }
}

/* `in` with a null operand is false; `not in` is exactly `not (x in list)`, so true then. */
static int in_list(const struct rule_prog *prog, const struct rule__node *n, struct rule_value v)
{
    int found = 0;
    if (v.type != RULE_NULL) {
        for (int k = n->u.list.first; k < n->u.list.first + n->u.list.count && !found; k++)
            found = values_equal(v, prog->items[k]);
    }
    return n->kind == RULE__IN ? found : !found;
}

static void mark_skipped(struct rule_value *trace, int from, int to)
{
    if (trace == NULL)
        return;
    for (int i = from; i < to; i++)
        trace[i] = (struct rule_value){.type = RULE_NULL, .u.b = -1};
}

/*
 * Why evaluation needs no memory of its own: the program is a preorder array
 * (children follow their parent), so the walk needs only node indices; the
 * recursion is at most RULE__MAX_DEPTH frames deep because rule_compile refuses
 * deeper programs; values travel by value, strings are borrowed from the program
 * or the facts, and the trace is the caller's buffer.
 */
static struct rule_value eval_node(const struct rule_prog *prog, int i,
                                   const struct rule_value *facts, struct rule_value *trace)
{
    const struct rule__node *n = &prog->nodes[i];
    struct rule_value v = {.type = RULE_BOOL, .u.b = 0};
    int a = i + 1, end = i + n->size;

    switch (n->kind) {
    case RULE__LIT:
        v = n->u.lit;
        break;
    case RULE__SLOT:
        v = load_fact(n, facts);
        break;
    case RULE__NOT:
        v.u.b = !truthy(eval_node(prog, a, facts, trace));
        break;
    case RULE__AND:
    case RULE__OR: {
        int stop = n->kind == RULE__OR; /* the operand value that decides the chain */
        v.u.b = !stop;
        for (int c = a; c < end; c += prog->nodes[c].size) {
            if (truthy(eval_node(prog, c, facts, trace)) == stop) {
                v.u.b = stop;
                mark_skipped(trace, c + prog->nodes[c].size, end);
                break;
            }
        }
        break;
    }
    case RULE__IN:
    case RULE__NOT_IN:
        v.u.b = in_list(prog, n, eval_node(prog, a, facts, trace));
        break;
    default: {
        struct rule_value l = eval_node(prog, a, facts, trace);
        struct rule_value r = eval_node(prog, a + prog->nodes[a].size, facts, trace);
        v.u.b = compare(n->kind, l, r);
        break;
    }
    }
    if (trace != NULL)
        trace[i] = v;
    return v;
}

int rule__eval_subtree(const struct rule_prog *prog, int i, const struct rule_value *facts)
{
    return truthy(eval_node(prog, i, facts, NULL));
}

/* Without a trace, the flat form (rule_flat.c); with one, the walk that records every node. */
int rule_eval(const struct rule_prog *prog, const struct rule_value *facts,
              struct rule_value *trace)
{
    assert(prog != NULL && prog->n_nodes > 0);
    assert(facts != NULL || prog->slot_count == 0);
    if (trace == NULL)
        return rule__run(prog, facts);
    return truthy(eval_node(prog, 0, facts, trace));
}

/* ---- explanation ---- */

/* snprintf-style output: counts everything, stores what fits, always terminates. */
struct explain_out {
    char *buf;
    size_t len, pos;
};

static void out_char(struct explain_out *o, char c)
{
    if (o->pos + 1 < o->len)
        o->buf[o->pos] = c;
    o->pos++;
}

static void out_text(struct explain_out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out_char(o, s[i]);
}

/* Quotes a string value, escaped as in the source and cut at RULE__QUOTE_MAX characters. */
static size_t out_string(struct explain_out *o, const char *s)
{
    size_t start = o->pos, n = 0;
    out_char(o, '"');
    for (; s[n] != '\0' && n < RULE__QUOTE_MAX; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c == '"' || c == '\\')
            out_char(o, '\\');
        out_char(o, c < 0x20 ? ' ' : (char)c);
    }
    if (s[n] != '\0')
        out_text(o, "...", 3);
    out_char(o, '"');
    return o->pos - start;
}

static size_t out_value(struct explain_out *o, struct rule_value v)
{
    char num[32];
    const char *text = "null";
    switch (v.type) {
    case RULE_NULL:
        text = v.u.b == -1 ? "skipped" : "null";
        break;
    case RULE_BOOL:
        text = v.u.b ? "true" : "false";
        break;
    case RULE_NUM:
        snprintf(num, sizeof num, "%.15g", v.u.n);
        text = num;
        break;
    case RULE_STR:
        if (v.u.s != NULL)
            return out_string(o, v.u.s);
        break;
    }
    out_text(o, text, strlen(text));
    return strlen(text);
}

/* Source text on one line: whitespace runs outside string literals become one space. */
static void out_source(struct explain_out *o, const char *s, size_t n)
{
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\' && i + 1 < n) {
                out_char(o, c);
                c = s[++i];
            } else if (c == '"') {
                in_str = 0;
            }
            out_char(o, (unsigned char)c < 0x20 ? ' ' : c);
        } else if (rule__is_space(c)) {
            while (i + 1 < n && rule__is_space(s[i + 1]))
                i++;
            out_char(o, ' ');
        } else {
            in_str = c == '"';
            out_char(o, c);
        }
    }
}

size_t rule_explain(const struct rule_prog *prog, const struct rule_value *trace, char *buf,
                    size_t len)
{
    struct explain_out o = {.buf = buf, .len = len};
    for (int i = 0; i < prog->n_nodes; i++) {
        const struct rule__node *n = &prog->nodes[i];
        for (int d = 0; d < n->depth; d++)
            out_text(&o, "  ", 2);
        if (trace != NULL) {
            size_t w = out_value(&o, trace[i]);
            do
                out_char(&o, ' ');
            while (++w < 7);
        }
        out_source(&o, prog->text + n->off, (size_t)n->len);
        out_char(&o, '\n');
    }
    if (len > 0)
        buf[o.pos < len ? o.pos : len - 1] = '\0';
    return o.pos;
}
