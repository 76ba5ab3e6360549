/*
 * rule.c: the compiler of the rule language declared in rule.h: lexer, parser
 * and type checker, building the node array that rule_eval.c walks.
 * Must never let through a program deeper than RULE__MAX_DEPTH or ill-typed.
 */
#include "rules/rule.h"
#include "rules/rule_prog.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest source in bytes; keeps offsets, node counts and columns well inside int. */
#define RULE_MAX_SOURCE 65536
/* A decimal of at most 15 significant digits converts to double exactly rounded. */
#define RULE_MAX_DIGITS 15

#if defined(__GNUC__)
#define RULE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RULE_PRINTF(f, a)
#endif

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
    {"and", T_AND},   {"or", T_OR},       {"not", T_NOT},   {"in", T_IN},
    {"true", T_TRUE}, {"false", T_FALSE}, {"null", T_NULL},
};

static const char *const op_names[] = {
    [RULE__NOT] = "not", [RULE__AND] = "and", [RULE__OR] = "or",         [RULE__EQ] = "==",
    [RULE__NE] = "!=",   [RULE__LT] = "<",    [RULE__LE] = "<=",         [RULE__GT] = ">",
    [RULE__GE] = ">=",   [RULE__IN] = "in",   [RULE__NOT_IN] = "not in",
};

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

/* Records the error that ends the compile; returns -1 so callers can `return fail(...)`. */
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
    return len > RULE__QUOTE_MAX ? RULE__QUOTE_MAX : len;
}

/* "expected X but found 'tok'", or the end-of-input message when input ran out. */
static int fail_expected(struct parser *p, const char *what)
{
    const struct token *t = &p->tok;
    if (t->kind == T_END)
        return fail(p, t->off, "unexpected end of expression");
    return fail(p, t->off, "expected %s but found '%.*s%s'", what, quoted_len(t->len),
                p->src + t->off, t->len > RULE__QUOTE_MAX ? "..." : "");
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
    while (rule__is_space(s[off]))
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
static int insert_node(struct parser *p, int at, const struct rule__node *n)
{
    struct rule_prog *prog = p->prog;
    if (prog->n_nodes == p->cap_nodes) {
        int cap = p->cap_nodes ? p->cap_nodes * 2 : 16;
        struct rule__node *nodes = realloc(prog->nodes, (size_t)cap * sizeof *nodes);
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
static int insert_operator(struct parser *p, int start, enum rule__kind kind, int last)
{
    struct rule__node n = {.kind = kind, .type = RULE_BOOL};
    const struct rule__node *first = &p->prog->nodes[start];
    const struct rule__node *end = &p->prog->nodes[last];
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
    struct rule__node *n = &p->prog->nodes[start];
    const struct rule__node *end = &p->prog->nodes[last];
    n->size = p->prog->n_nodes - start;
    n->len = end->off + end->len - n->off;
}

static int enter(struct parser *p)
{
    if (++p->nesting > RULE__MAX_DEPTH)
        return fail(p, p->tok.off, "expression nested too deeply");
    return 0;
}

static int check_bool(struct parser *p, int i, const char *what)
{
    const struct rule__node *n = &p->prog->nodes[i];
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
    struct rule__node n = {.kind = RULE__SLOT, .type = type, .size = 1, .off = off, .len = len};
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
        return rule__null();
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
        struct rule__node *n = &p->prog->nodes[start];
        n->len = p->tok.off + 1 - off;
        n->off = off;
        p->nesting--;
        return advance(p);
    }
    if (!is_literal(p->tok.kind))
        return fail_expected(p, "a value");
    struct rule_value v = token_literal(p);
    struct rule__node n = {
        .kind = RULE__LIT, .type = v.type, .size = 1, .off = p->tok.off, .len = p->tok.len};
    n.u.lit = v;
    if (insert_node(p, p->prog->n_nodes, &n) < 0)
        return -1;
    return advance(p);
}

/* "[" literal ("," literal)* "]" after `in`; items share one type, that of the left operand. */
static int parse_list(struct parser *p, int start, enum rule__kind kind)
{
    enum rule_type left = p->prog->nodes[start].type;
    enum rule_type type = RULE_NULL;
    int first = p->prog->n_items;
    if (p->tok.kind != T_LBRACK)
        return fail_expected(p, kind == RULE__IN ? "'[' after 'in'" : "'[' after 'not in'");
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
    struct rule__node n = {.kind = kind, .type = RULE_BOOL};
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
_Static_assert(T_GE - T_EQ == RULE__GE - RULE__EQ && T_NE - T_EQ == RULE__NE - RULE__EQ &&
                   T_LT - T_EQ == RULE__LT - RULE__EQ && T_GT - T_EQ == RULE__GT - RULE__EQ,
               "comparison tokens and nodes must be in the same order");

static int is_comparison(enum tok_kind k)
{
    return k >= T_EQ && k <= T_GE;
}

static int check_comparison(struct parser *p, enum rule__kind kind, int left, int right)
{
    const struct rule__node *l = &p->prog->nodes[left], *r = &p->prog->nodes[right];
    if (kind == RULE__EQ || kind == RULE__NE) {
        if (l->type != r->type && l->type != RULE_NULL && r->type != RULE_NULL)
            return fail(p, r->off, "'%s' needs operands of one type, found %s and %s",
                        op_names[kind], type_name(l->type), type_name(r->type));
        return 0;
    }
    const struct rule__node *bad = l->type != RULE_NUM ? l : r->type != RULE_NUM ? r : NULL;
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
        enum rule__kind kind = (enum rule__kind)(RULE__EQ + (op - T_EQ));
        if (advance(p) < 0)
            return -1;
        int right = p->prog->n_nodes;
        if (parse_primary(p) < 0 || check_comparison(p, kind, start, right) < 0 ||
            insert_operator(p, start, kind, right) < 0)
            return -1;
    } else if (op == T_IN) {
        if (advance(p) < 0 || parse_list(p, start, RULE__IN) < 0)
            return -1;
    } else if (op == T_NOT) {
        struct token next;
        if (lex(p, p->tok.off + p->tok.len, &next) < 0)
            return -1;
        p->tok = next;
        if (next.kind != T_IN)
            return fail_expected(p, "'in' after 'not'");
        if (advance(p) < 0 || parse_list(p, start, RULE__NOT_IN) < 0)
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
    struct rule__node n = {.kind = RULE__NOT, .type = RULE_BOOL, .off = off};
    const struct rule__node *operand = &p->prog->nodes[start];
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
        enum rule__kind kind;
        const char *need;
    } ops[] = {
        {T_OR, RULE__OR, "'or' needs true/false operands"},
        {T_AND, RULE__AND, "'and' needs true/false operands"},
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
    struct rule__node *n = &p->prog->nodes[i];
    int end = i + n->size;
    if (depth >= RULE__MAX_DEPTH) {
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
    const struct rule__node *root = &p->prog->nodes[0];
    if (root->type != RULE_BOOL)
        return fail(p, root->off, "expression must be true/false, found %s", type_name(root->type));
    return set_depth(p, 0, 0) < 0 ? -1 : 0;
}

/*
 * src and schema are borrowed for the call only; err (may be NULL) is filled on
 * failure and cleared on success. The program is the caller's: rule_free().
 */
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
    if (rc == 0) {
        /* a resolver may have written into msg while succeeding */
        p.err->col = 0;
        p.err->msg[0] = '\0';
    }
    if (rc == 0 && prog->n_nodes < p.cap_nodes) {
        struct rule__node *fit = realloc(prog->nodes, (size_t)prog->n_nodes * sizeof *fit);
        if (fit != NULL)
            prog->nodes = fit;
    }
    if (rc == 0 && rule__flatten(prog) < 0) {
        p.err->col = 1;
        snprintf(p.err->msg, sizeof p.err->msg, "out of memory");
        rc = -1;
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
    free(prog->code);
    free(prog->nodes);
    free(prog->items);
    free(prog);
}
