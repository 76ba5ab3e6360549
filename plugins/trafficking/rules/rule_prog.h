/*
 * rule_prog.h: the compiled form of a rule, shared by rule.c (which builds it)
 * and rule_eval.c (which walks it). Internal to the rule language: nothing
 * outside rule*.c may include it.
 */
#ifndef TRF_RULE_PROG_H
#define TRF_RULE_PROG_H

#include "rules/rule_value.h"

/*
 * Deepest node rule_compile accepts (the root is at depth 0). rule_eval recurses
 * once per level, so this is what bounds its stack.
 */
#define RULE__MAX_DEPTH 64

/* How much of a token or string value a message or explanation quotes. */
#define RULE__QUOTE_MAX 40

enum rule__kind {
    RULE__LIT,
    RULE__SLOT,
    RULE__NOT,
    RULE__AND,
    RULE__OR,
    RULE__EQ,
    RULE__NE,
    RULE__LT,
    RULE__LE,
    RULE__GT,
    RULE__GE,
    RULE__IN,
    RULE__NOT_IN,
};

/*
 * Nodes are stored in preorder: a node's first child is the next node and each
 * following child starts where the previous child's subtree (size nodes) ends.
 * So a skipped operand is one contiguous range, and evaluation needs no pointers.
 */
struct rule__node {
    enum rule__kind kind;
    enum rule_type type; /* static type; RULE_NULL only for the null literal */
    int size;            /* nodes in this subtree, itself included */
    int depth;           /* 0 for the root */
    int off, len;        /* source span in bytes, parentheses included */
    union {
        struct rule_value lit; /* RULE__LIT; strings point into prog->text */
        int slot;              /* RULE__SLOT */
        struct {
            int first, count; /* RULE__IN, RULE__NOT_IN: range of prog->items */
        } list;
    } u;
};

struct rule_prog {
    struct rule__node *nodes;
    int n_nodes;
    struct rule_value *items; /* list literals of every `in`, one run per list */
    int n_items;
    int slot_count;
    /* the source, its NUL, then the decoded string literals (each at most as long as its span) */
    char text[];
};

/* An unknown value; u.b = -1 would mean "not evaluated" in a trace. */
static inline struct rule_value rule__null(void)
{
    return (struct rule_value){.type = RULE_NULL, .u.b = 0};
}

static inline int rule__is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

#endif /* TRF_RULE_PROG_H */
