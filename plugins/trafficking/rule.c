/*
 * rule.c: compiler and evaluator of the rule language declared in rule.h.
 *
 * Compiling may allocate; rule_eval() must never allocate, do I/O or keep state
 * between calls: it walks a preorder node array with recursion bounded at compile time.
 */
#include "rule.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest node allowed; rule_eval recurses once per level, so this bounds its stack. */
#define RULE_MAX_DEPTH 64
/* Longest source in bytes; keeps offsets, node counts and columns well inside int. */
#define RULE_MAX_SOURCE 65536
/* A decimal of at most 15 significant digits converts to double exactly rounded. */
#define RULE_MAX_DIGITS 15
/* How much of a token or string value a message or explanation quotes. */
#define RULE_QUOTE_MAX 40

#if defined(__GNUC__)
#define RULE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RULE_PRINTF(f, a)
#endif

enum node_kind {
    N_LIT,
    N_SLOT,
    N_NOT,
    N_AND,
    N_OR,
    N_EQ,
    N_NE,
    N_LT,
    N_LE,
    N_GT,
    N_GE,
    N_IN,
    N_NOT_IN,
};

/*
 * Nodes are stored in preorder: a node's first child is the next node and each
 * following child starts where the previous child's subtree (size nodes) ends.
 * So a skipped operand is one contiguous range, and evaluation needs no pointers.
 */
struct node {
    enum node_kind kind;
    enum rule_type type; /* static type; RULE_NULL only for the null literal */
    int size;            /* nodes in this subtree, itself included */
    int depth;           /* 0 for the root */
    int off, len;        /* source span in bytes, parentheses included */
    union {
        struct rule_value lit; /* N_LIT; strings point into prog->text */
        int slot;              /* N_SLOT */
        struct {
            int first, count; /* N_IN, N_NOT_IN: range of prog->items */
        } list;
    } u;
};

struct rule_prog {
    struct node *nodes;
    int n_nodes;
    struct rule_value *items; /* list literals of every `in`, one run per list */
    int n_items;
    int slot_count;
    /* the source, its NUL, then the decoded string literals (each at most as long as its span) */
    char text[];
};

enum tok_kind {
    T_END,
    T_NUM,
    T_STR,
    T_NAME,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT,
    T_IN,
    T_TRUE,
    T_FALSE,
    T_NULL,
};

struct token {
    enum tok_kind kind;
    int off, len;
    double num; /* T_NUM */
};

struct parser {
    struct rule_prog *prog;
    const char *src; /* prog->text */
    int cap_nodes, cap_items;
    char *strings; /* arena after the source copy */
    size_t str_used, str_cap;
    char *scratch; /* NUL-terminated name handed to the resolver */
    const struct rule_schema *schema;
    struct rule_error *err;
    struct token tok; /* current token */
    int nesting;      /* open parentheses and prefix nots: bounds the parser's recursion */
};

static const struct {
    const char *word;
    enum tok_kind kind;
} keywords[] = {
    {"and", T_AND},   {"or", T_OR},     {"not", T_NOT},   {"in", T_IN},
    {"true", T_TRUE}, {"false", T_FALSE}, {"null", T_NULL},
};

static const char *const op_names[] = {
    [N_NOT] = "not", [N_AND] = "and", [N_OR] = "or",  [N_EQ] = "==", [N_NE] = "!=",
    [N_LT] = "<",    [N_LE] = "<=",   [N_GT] = ">",   [N_GE] = ">=", [N_IN] = "in",
    [N_NOT_IN] = "not in",
};

/* An unknown value; u.b = -1 would mean "not evaluated" in a trace. */
static const struct rule_value null_value = {.type = RULE_NULL, .u.b = 0};

static const char *type_name(enum rule_type t)
{
    static const char *const names[] = {"null", "true/false", "number", "string"};
    return names[t];
}

static const char *type_plural(enum rule_type t)
{
    static const char *const names[] = {"nulls", "true/false values", "numbers", "strings"};
    return names[t];
}

/* Columns count characters, not bytes, so a caret lines up under UTF-8 text. */
static int column(const char *src, int off)
{
    int col = 1;
    for (int i = 0; i < off; i++)
        if (((unsigned char)src[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static int fail(struct parser *p, int off, const char *fmt, ...) RULE_PRINTF(3, 4);

/* Records the first error; returns -1 so callers can `return fail(...)`. */
static int fail(struct parser *p, int off, const char *fmt, ...)
{
    va_list ap;
    p->err->col = column(p->src, off);
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int quoted_len(int len)
{
    return len > RULE_QUOTE_MAX ? RULE_QUOTE_MAX : len;
}

/* "expected X but found 'tok'", or the end-of-input message when input ran out. */
static int fail_expected(struct parser *p, const char *what)
{
    const struct token *t = &p->tok;
    if (t->kind == T_END)
        return fail(p, t->off, "unexpected end of expression");
    return fail(p, t->off, "expected %s but found '%.*s%s'", what, quoted_len(t->len),
                p->src + t->off, t->len > RULE_QUOTE_MAX ? "..." : "");
}

static int is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_name_char(char c)
{
    return is_name_start(c) || is_digit(c) || c == '.';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Reads a number by hand rather than with strtod, whose decimal point follows
 * the locale (and libconfig swaps the locale while it parses).
 */
static int lex_number(struct parser *p, int off, struct token *t)
{
    const char *s = p->src;
    int i = off, sig = 0, frac = 0;
    double mant = 0.0, scale = 1.0;
    for (; is_digit(s[i]); i++) {
        if (mant > 0.0 || s[i] != '0')
            sig++;
        mant = mant * 10.0 + (s[i] - '0');
    }
    if (s[i] == '.' && is_digit(s[i + 1])) {
        for (i++; is_digit(s[i]); i++, frac++) {
            if (mant > 0.0 || s[i] != '0')
                sig++;
            mant = mant * 10.0 + (s[i] - '0');
            scale *= 10.0;
        }
    }
    if (is_name_char(s[i])) {
        while (is_name_char(s[i]))
            i++;
        return fail(p, off, "malformed number '%.*s'", quoted_len(i - off), s + off);
    }
    if (sig > RULE_MAX_DIGITS || frac > RULE_MAX_DIGITS)
        return fail(p, off, "number '%.*s' has too many digits", quoted_len(i - off), s + off);
    t->kind = T_NUM;
    t->len = i - off;
    t->num = mant / scale;
    return 0;
}

/* Finds the end of a string literal and checks its escapes; decoding waits for the parser. */
static int lex_string(struct parser *p, int off, struct token *t)
{
    const char *s = p->src;
    int i = off + 1;
    for (;;) {
        if (s[i] == '\0')
            return fail(p, off, "unterminated string");
        if (s[i] == '"')
            break;
        if (s[i] == '\\') {
            if (s[i + 1] == '\0')
                return fail(p, off, "unterminated string");
            if (s[i + 1] != '"' && s[i + 1] != '\\')
                return fail(p, i, "unknown escape '\\%c' in string; only \\\" and \\\\ exist",
                            s[i + 1]);
            i++;
        }
        i++;
    }
    t->kind = T_STR;
    t->len = i + 1 - off;
    return 0;
}

static int lex_name(struct parser *p, int off, struct token *t)
{
    const char *s = p->src;
    int i = off;
    while (is_name_char(s[i]))
        i++;
    t->kind = T_NAME;
    t->len = i - off;
    for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
        if (strlen(keywords[k].word) == (size_t)t->len &&
            memcmp(keywords[k].word, s + off, (size_t)t->len) == 0)
            t->kind = keywords[k].kind;
    }
    return 0;
}

/* Two-character operators, and the one-character ones that share their first character. */
static int lex_operator(struct parser *p, int off, struct token *t)
{
    const char *s = p->src;
    unsigned char c = (unsigned char)s[off];
    int eq = s[off + 1] == '=';
    t->len = eq ? 2 : 1;
    switch (c) {
    case '=':
        if (!eq)
            return fail(p, off, "unexpected character '='; use '==' to compare");
        t->kind = T_EQ;
        return 0;
    case '!':
        if (!eq)
            return fail(p, off, "unexpected character '!'; use 'not'");
        t->kind = T_NE;
        return 0;
    case '<':
        t->kind = eq ? T_LE : T_LT;
        return 0;
    case '>':
        t->kind = eq ? T_GE : T_GT;
        return 0;
    }
    if (c >= 0x21 && c < 0x7F)
        return fail(p, off, "unexpected character '%c'", c);
    return fail(p, off, "unexpected byte 0x%02X", c);
}

/* Lexes the token starting at or after off into *t; has no effect on the parser's state. */
static int lex(struct parser *p, int off, struct token *t)
{
    static const char singles[] = "()[],";
    static const enum tok_kind single_kinds[] = {T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA};
    const char *s = p->src;
    while (is_space(s[off]))
        off++;
    t->off = off;
    t->len = 0;
    if (s[off] == '\0') {
        t->kind = T_END;
        return 0;
    }
    if (is_digit(s[off]))
        return lex_number(p, off, t);
    if (s[off] == '"')
        return lex_string(p, off, t);
    if (is_name_start(s[off]))
        return lex_name(p, off, t);
    const char *single = strchr(singles, s[off]);
    if (single != NULL) {
        t->kind = single_kinds[single - singles];
        t->len = 1;
        return 0;
    }
    return lex_operator(p, off, t);
}

static int advance(struct parser *p)
{
    return lex(p, p->tok.off + p->tok.len, &p->tok);
}

/* Decodes the current string token into the arena; the pointer lives as long as the program. */
static const char *decode_string(struct parser *p)
{
    const char *s = p->src + p->tok.off + 1;
    const char *end = p->src + p->tok.off + p->tok.len - 1;
    char *out = p->strings + p->str_used;
    size_t n = 0;
    /* each literal decodes to fewer bytes than its quoted span, so the arena cannot overflow */
    assert(p->str_used + (size_t)p->tok.len - 1 <= p->str_cap);
    while (s < end) {
        if (*s == '\\')
            s++;
        out[n++] = *s++;
    }
    out[n] = '\0';
    p->str_used += n + 1;
    return out;
}

static int out_of_memory(struct parser *p)
{
    return fail(p, p->tok.off, "out of memory");
}

/* Inserts n at index at, shifting later nodes; sizes are relative, so nothing else changes. */
static int insert_node(struct parser *p, int at, const struct node *n)
{
    struct rule_prog *prog = p->prog;
    if (prog->n_nodes == p->cap_nodes) {
        int cap = p->cap_nodes ? p->cap_nodes * 2 : 16;
        struct node *nodes = realloc(prog->nodes, (size_t)cap * sizeof *nodes);
        if (nodes == NULL)
            return out_of_memory(p);
        prog->nodes = nodes;
        p->cap_nodes = cap;
    }
    memmove(&prog->nodes[at + 1], &prog->nodes[at], (size_t)(prog->n_nodes - at) * sizeof *n);
    prog->nodes[at] = *n;
    prog->n_nodes++;
    return 0;
}

static int push_item(struct parser *p, struct rule_value v)
{
    struct rule_prog *prog = p->prog;
    if (prog->n_items == p->cap_items) {
        int cap = p->cap_items ? p->cap_items * 2 : 8;
        struct rule_value *items = realloc(prog->items, (size_t)cap * sizeof *items);
        if (items == NULL)
            return out_of_memory(p);
        prog->items = items;
        p->cap_items = cap;
    }
    prog->items[prog->n_items++] = v;
    return 0;
}

/* Inserts an operator node above the subtree at start; its span runs to the end of node last. */
static int insert_operator(struct parser *p, int start, enum node_kind kind, int last)
{
    struct node n = {.kind = kind, .type = RULE_BOOL};
    const struct node *first = &p->prog->nodes[start];
    const struct node *end = &p->prog->nodes[last];
    n.off = first->off;
    n.len = end->off + end->len - first->off;
    if (insert_node(p, start, &n) < 0)
        return -1;
    p->prog->nodes[start].size = p->prog->n_nodes - start;
    return 0;
}

/* Closes an operator inserted earlier: it now spans its whole subtree. */
static void close_operator(struct parser *p, int start, int last)
{
    struct node *n = &p->prog->nodes[start];
    const struct node *end = &p->prog->nodes[last];
    n->size = p->prog->n_nodes - start;
    n->len = end->off + end->len - n->off;
}

static int enter(struct parser *p)
{
    if (++p->nesting > RULE_MAX_DEPTH)
        return fail(p, p->tok.off, "expression nested too deeply");
    return 0;
}

static int check_bool(struct parser *p, int i, const char *what)
{
    const struct node *n = &p->prog->nodes[i];
    if (n->type != RULE_BOOL)
        return fail(p, n->off, "%s, found %s", what, type_name(n->type));
    return 0;
}

static int parse_or(struct parser *p);

/* Hands a name or call to the schema and appends the slot node it yields. */
static int resolve(struct parser *p, int off, int len, const char *fn, const char *name)
{
    const struct rule_schema *schema = p->schema;
    enum rule_type type = RULE_NULL;
    int slot = -1;
    p->err->msg[0] = '\0';
    if (schema != NULL && schema->resolve != NULL)
        slot = schema->resolve(schema->ud, fn, name, &type, p->err->msg, sizeof p->err->msg);
    p->err->msg[sizeof p->err->msg - 1] = '\0';
    if (slot < 0) {
        if (p->err->msg[0] != '\0') {
            p->err->col = column(p->src, off);
            return -1;
        }
        if (fn != NULL)
            return fail(p, off, "unknown function '%s'", fn);
        return fail(p, off, "unknown name '%s'", name);
    }
    if (slot == INT_MAX || (type != RULE_BOOL && type != RULE_NUM && type != RULE_STR))
        return fail(p, off, "'%.*s' resolved to an unusable slot or type", quoted_len(len),
                    p->src + off);
    struct node n = {.kind = N_SLOT, .type = type, .size = 1, .off = off, .len = len};
    n.u.slot = slot;
    if (slot >= p->prog->slot_count)
        p->prog->slot_count = slot + 1;
    return insert_node(p, p->prog->n_nodes, &n);
}

/* NAME or NAME "(" STRING ")"; the current token is the name. */
static int parse_name(struct parser *p)
{
    int off = p->tok.off, len = p->tok.len;
    memcpy(p->scratch, p->src + off, (size_t)len);
    p->scratch[len] = '\0';
    if (advance(p) < 0)
        return -1;
    if (p->tok.kind != T_LPAREN)
        return resolve(p, off, len, NULL, p->scratch);
    if (advance(p) < 0)
        return -1;
    if (p->tok.kind == T_END)
        return fail_expected(p, "a string");
    if (p->tok.kind != T_STR)
        return fail(p, p->tok.off, "argument of '%s' must be a string literal", p->scratch);
    const char *arg = decode_string(p);
    if (advance(p) < 0)
        return -1;
    if (p->tok.kind != T_RPAREN)
        return fail_expected(p, "')'");
    int end = p->tok.off + 1;
    if (advance(p) < 0)
        return -1;
    return resolve(p, off, end - off, p->scratch, arg);
}

static int is_literal(enum tok_kind k)
{
    return k == T_NUM || k == T_STR || k == T_TRUE || k == T_FALSE || k == T_NULL;
}

/* The value of the current token, which is_literal() accepted. */
static struct rule_value token_literal(struct parser *p)
{
    switch (p->tok.kind) {
    case T_NUM:
        return (struct rule_value){.type = RULE_NUM, .u.n = p->tok.num};
    case T_STR:
        return (struct rule_value){.type = RULE_STR, .u.s = decode_string(p)};
    case T_TRUE:
    case T_FALSE:
        return (struct rule_value){.type = RULE_BOOL, .u.b = p->tok.kind == T_TRUE};
    default:
        assert(p->tok.kind == T_NULL);
        return null_value;
    }
}

static int parse_primary(struct parser *p)
{
    if (p->tok.kind == T_NAME)
        return parse_name(p);
    if (p->tok.kind == T_LPAREN) {
        int off = p->tok.off, start = p->prog->n_nodes;
        if (enter(p) < 0 || advance(p) < 0 || parse_or(p) < 0)
            return -1;
        if (p->tok.kind != T_RPAREN)
            return fail_expected(p, "')'");
        /* the parentheses belong to the operand's text, so a parent's span covers them */
        struct node *n = &p->prog->nodes[start];
        n->len = p->tok.off + 1 - off;
        n->off = off;
        p->nesting--;
        return advance(p);
    }
    if (!is_literal(p->tok.kind))
        return fail_expected(p, "a value");
    struct rule_value v = token_literal(p);
    struct node n = {.kind = N_LIT, .type = v.type, .size = 1, .off = p->tok.off,
                     .len = p->tok.len};
    n.u.lit = v;
    if (insert_node(p, p->prog->n_nodes, &n) < 0)
        return -1;
    return advance(p);
}

/* "[" literal ("," literal)* "]" after `in`; items share one type, that of the left operand. */
static int parse_list(struct parser *p, int start, enum node_kind kind)
{
    enum rule_type left = p->prog->nodes[start].type;
    enum rule_type type = RULE_NULL;
    int first = p->prog->n_items;
    if (p->tok.kind != T_LBRACK)
        return fail_expected(p, kind == N_IN ? "'[' after 'in'" : "'[' after 'not in'");
    int list_off = p->tok.off;
    if (left == RULE_NULL)
        return fail(p, p->prog->nodes[start].off,
                    "'%s' needs a value on its left, found null; use '== null'", op_names[kind]);
    if (advance(p) < 0)
        return -1;
    while (p->tok.kind != T_RBRACK) {
        int item_off = p->tok.off;
        if (p->tok.kind == T_NULL)
            return fail(p, item_off, "a list cannot hold null; use '== null'");
        if (!is_literal(p->tok.kind))
            return fail_expected(p, "a number, string, true or false in the list");
        struct rule_value v = token_literal(p);
        if (type != RULE_NULL && v.type != type)
            return fail(p, item_off, "list mixes %s and %s", type_name(type), type_name(v.type));
        type = v.type;
        if (push_item(p, v) < 0 || advance(p) < 0)
            return -1;
        if (p->tok.kind == T_COMMA) {
            /* a comma promises another item: `[1,]` is an error, not an empty tail */
            if (advance(p) < 0)
                return -1;
            if (p->tok.kind == T_RBRACK)
                return fail_expected(p, "a number, string, true or false in the list");
        } else if (p->tok.kind != T_RBRACK) {
            return fail_expected(p, "',' or ']'");
        }
    }
    if (type != RULE_NULL && type != left)
        return fail(p, list_off, "'%s' needs a list of %s, found a list of %s", op_names[kind],
                    type_plural(left), type_plural(type));
    struct node n = {.kind = kind, .type = RULE_BOOL};
    n.off = p->prog->nodes[start].off;
    n.len = p->tok.off + 1 - n.off;
    n.u.list.first = first;
    n.u.list.count = p->prog->n_items - first;
    if (insert_node(p, start, &n) < 0)
        return -1;
    p->prog->nodes[start].size = p->prog->n_nodes - start;
    return advance(p);
}

/* parse_cmp maps a comparison token to its node kind by offset */
_Static_assert(T_GE - T_EQ == N_GE - N_EQ && T_NE - T_EQ == N_NE - N_EQ &&
                   T_LT - T_EQ == N_LT - N_EQ && T_GT - T_EQ == N_GT - N_EQ,
               "comparison tokens and nodes must be in the same order");

static int is_comparison(enum tok_kind k)
{
    return k >= T_EQ && k <= T_GE;
}

static int check_comparison(struct parser *p, enum node_kind kind, int left, int right)
{
    const struct node *l = &p->prog->nodes[left], *r = &p->prog->nodes[right];
    if (kind == N_EQ || kind == N_NE) {
        if (l->type != r->type && l->type != RULE_NULL && r->type != RULE_NULL)
            return fail(p, r->off, "'%s' needs operands of one type, found %s and %s",
                        op_names[kind], type_name(l->type), type_name(r->type));
        return 0;
    }
    const struct node *bad = l->type != RULE_NUM ? l : r->type != RULE_NUM ? r : NULL;
    if (bad != NULL)
        return fail(p, bad->off, "'%s' needs numbers, found %s", op_names[kind],
                    type_name(bad->type));
    return 0;
}

/* primary (op primary | "in" list | "not" "in" list)?; comparisons do not chain. */
static int parse_cmp(struct parser *p)
{
    int start = p->prog->n_nodes;
    if (parse_primary(p) < 0)
        return -1;
    enum tok_kind op = p->tok.kind;
    if (is_comparison(op)) {
        enum node_kind kind = (enum node_kind)(N_EQ + (op - T_EQ));
        if (advance(p) < 0)
            return -1;
        int right = p->prog->n_nodes;
        if (parse_primary(p) < 0 || check_comparison(p, kind, start, right) < 0 ||
            insert_operator(p, start, kind, right) < 0)
            return -1;
    } else if (op == T_IN) {
        if (advance(p) < 0 || parse_list(p, start, N_IN) < 0)
            return -1;
    } else if (op == T_NOT) {
        struct token next;
        if (lex(p, p->tok.off + p->tok.len, &next) < 0)
            return -1;
        p->tok = next;
        if (next.kind != T_IN)
            return fail_expected(p, "'in' after 'not'");
        if (advance(p) < 0 || parse_list(p, start, N_NOT_IN) < 0)
            return -1;
    } else {
        return 0;
    }
    if (is_comparison(p->tok.kind) || p->tok.kind == T_IN)
        return fail(p, p->tok.off, "comparisons do not chain; join them with 'and'");
    return 0;
}

static int parse_not(struct parser *p)
{
    if (p->tok.kind != T_NOT)
        return parse_cmp(p);
    int off = p->tok.off;
    if (enter(p) < 0 || advance(p) < 0)
        return -1;
    int start = p->prog->n_nodes;
    if (parse_not(p) < 0 || check_bool(p, start, "'not' needs a true/false operand") < 0)
        return -1;
    struct node n = {.kind = N_NOT, .type = RULE_BOOL, .off = off};
    const struct node *operand = &p->prog->nodes[start];
    n.len = operand->off + operand->len - off;
    if (insert_node(p, start, &n) < 0)
        return -1;
    p->prog->nodes[start].size = p->prog->n_nodes - start;
    p->nesting--;
    return 0;
}

/*
 * level 0: or-chain of level 1; level 1: and-chain of `not`. A chain becomes one
 * node with n operands, so `a or b or c ...` does not deepen the tree.
 */
static int parse_chain(struct parser *p, int level)
{
    static const struct {
        enum tok_kind tok;
        enum node_kind kind;
        const char *need;
    } ops[] = {
        {T_OR, N_OR, "'or' needs true/false operands"},
        {T_AND, N_AND, "'and' needs true/false operands"},
    };
    int start = p->prog->n_nodes, last = start;
    if ((level == 0 ? parse_chain(p, 1) : parse_not(p)) < 0)
        return -1;
    if (p->tok.kind != ops[level].tok)
        return 0;
    if (check_bool(p, start, ops[level].need) < 0 ||
        insert_operator(p, start, ops[level].kind, start) < 0)
        return -1;
    while (p->tok.kind == ops[level].tok) {
        if (advance(p) < 0)
            return -1;
        last = p->prog->n_nodes;
        if ((level == 0 ? parse_chain(p, 1) : parse_not(p)) < 0 ||
            check_bool(p, last, ops[level].need) < 0)
            return -1;
    }
    close_operator(p, start, last);
    return 0;
}

static int parse_or(struct parser *p)
{
    return parse_chain(p, 0);
}

/* Sets depths below node i and returns the index after its subtree, or -1 when too deep. */
static int set_depth(struct parser *p, int i, int depth)
{
    struct node *n = &p->prog->nodes[i];
    int end = i + n->size;
    if (depth >= RULE_MAX_DEPTH) {
        fail(p, n->off, "expression nested too deeply");
        return -1;
    }
    n->depth = depth;
    for (int c = i + 1; c < end;) {
        c = set_depth(p, c, depth + 1);
        if (c < 0)
            return -1;
    }
    return end;
}

static int parse_program(struct parser *p)
{
    if (lex(p, 0, &p->tok) < 0)
        return -1;
    if (p->tok.kind == T_END)
        return fail(p, 0, "empty expression");
    if (parse_or(p) < 0)
        return -1;
    if (p->tok.kind == T_RPAREN)
        return fail(p, p->tok.off, "unmatched ')'");
    if (p->tok.kind != T_END)
        return fail_expected(p, "'and', 'or' or end of expression");
    const struct node *root = &p->prog->nodes[0];
    if (root->type != RULE_BOOL)
        return fail(p, root->off, "expression must be true/false, found %s",
                    type_name(root->type));
    return set_depth(p, 0, 0) < 0 ? -1 : 0;
}

struct rule_prog *rule_compile(const char *src, const struct rule_schema *schema,
                               struct rule_error *err)
{
    struct rule_error local;
    struct parser p = {.schema = schema, .err = err != NULL ? err : &local};
    struct rule_prog *prog = NULL;
    size_t len = src != NULL ? strlen(src) : 0;
    int rc = -1;

    p.err->col = 0;
    p.err->msg[0] = '\0';
    if (src == NULL || len > RULE_MAX_SOURCE) {
        p.err->col = 1;
        if (src == NULL)
            snprintf(p.err->msg, sizeof p.err->msg, "empty expression");
        else
            snprintf(p.err->msg, sizeof p.err->msg, "expression longer than %d bytes",
                     RULE_MAX_SOURCE);
        goto out;
    }
    prog = calloc(1, sizeof *prog + 2 * (len + 1));
    p.scratch = malloc(len + 1);
    if (prog == NULL || p.scratch == NULL) {
        p.err->col = 1;
        snprintf(p.err->msg, sizeof p.err->msg, "out of memory");
        goto out;
    }
    memcpy(prog->text, src, len + 1);
    p.prog = prog;
    p.src = prog->text;
    p.strings = prog->text + len + 1;
    p.str_cap = len + 1;
    rc = parse_program(&p);
    if (rc == 0 && prog->n_nodes < p.cap_nodes) {
        struct node *fit = realloc(prog->nodes, (size_t)prog->n_nodes * sizeof *fit);
        if (fit != NULL)
            prog->nodes = fit;
    }
out:
    free(p.scratch);
    if (rc < 0) {
        rule_free(prog);
        prog = NULL;
    }
    return prog;
}

void rule_free(struct rule_prog *prog)
{
    if (prog == NULL)
        return;
    free(prog->nodes);
    free(prog->items);
    free(prog);
}

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
        if (prog->nodes[i].kind == N_SLOT && prog->nodes[i].u.slot == slot)
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
    const struct node *n = &prog->nodes[i];
    if (offset != NULL)
        *offset = (size_t)n->off;
    if (length != NULL)
        *length = (size_t)n->len;
    if (depth != NULL)
        *depth = n->depth;
}

/* ---- evaluation: nothing below allocates ---- */

static int truthy(struct rule_value v)
{
    return v.type == RULE_BOOL && v.u.b;
}

/*
 * A fact of another type than the schema promised, a NULL string or a NaN is
 * treated as unknown: rule_eval must never read the wrong union member.
 */
static struct rule_value load_fact(const struct node *n, const struct rule_value *facts)
{
    struct rule_value v = facts[n->u.slot];
    if (v.type != n->type)
        return null_value;
    if ((v.type == RULE_STR && v.u.s == NULL) || (v.type == RULE_NUM && isnan(v.u.n)))
        return null_value;
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
static int compare(enum node_kind kind, struct rule_value l, struct rule_value r)
{
    if (kind == N_EQ || kind == N_NE) {
        int eq = l.type == RULE_NULL || r.type == RULE_NULL ? l.type == r.type
                                                            : values_equal(l, r);
        return kind == N_EQ ? eq : !eq;
    }
    if (l.type != RULE_NUM || r.type != RULE_NUM)
        return 0;
    switch (kind) {
    case N_LT:
        return l.u.n < r.u.n;
    case N_LE:
        return l.u.n <= r.u.n;
    case N_GT:
        return l.u.n > r.u.n;
    default:
        return l.u.n >= r.u.n;
    }
}

/* `in` with a null operand is false; `not in` is exactly `not (x in list)`, so true then. */
static int in_list(const struct rule_prog *prog, const struct node *n, struct rule_value v)
{
    int found = 0;
    if (v.type != RULE_NULL) {
        const struct rule_value *item = &prog->items[n->u.list.first];
        for (int k = 0; k < n->u.list.count && !found; k++)
            found = values_equal(v, item[k]);
    }
    return n->kind == N_IN ? found : !found;
}

static void mark_skipped(struct rule_value *trace, int from, int to)
{
    if (trace == NULL)
        return;
    for (int i = from; i < to; i++)
        trace[i] = (struct rule_value){.type = RULE_NULL, .u.b = -1};
}

/* Recursion depth is the node's depth, which rule_compile bounded by RULE_MAX_DEPTH. */
static struct rule_value eval_node(const struct rule_prog *prog, int i,
                                   const struct rule_value *facts, struct rule_value *trace)
{
    const struct node *n = &prog->nodes[i];
    struct rule_value v = {.type = RULE_BOOL, .u.b = 0};
    int a = i + 1, end = i + n->size;

    switch (n->kind) {
    case N_LIT:
        v = n->u.lit;
        break;
    case N_SLOT:
        v = load_fact(n, facts);
        break;
    case N_NOT:
        v.u.b = !truthy(eval_node(prog, a, facts, trace));
        break;
    case N_AND:
    case N_OR: {
        int stop = n->kind == N_OR; /* the operand value that decides the chain */
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
    case N_IN:
    case N_NOT_IN:
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

int rule_eval(const struct rule_prog *prog, const struct rule_value *facts,
              struct rule_value *trace)
{
    assert(prog != NULL && prog->n_nodes > 0);
    assert(facts != NULL || prog->slot_count == 0);
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

/* Quotes a string value, escaped as in the source and cut at RULE_QUOTE_MAX characters. */
static size_t out_string(struct explain_out *o, const char *s)
{
    size_t start = o->pos, n = 0;
    out_char(o, '"');
    for (; s[n] != '\0' && n < RULE_QUOTE_MAX; n++) {
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
        } else if (is_space(c)) {
            while (i + 1 < n && is_space(s[i + 1]))
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
        const struct node *n = &prog->nodes[i];
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
