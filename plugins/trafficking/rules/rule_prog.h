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

/*
 * The flat form rule_eval runs when no trace is asked for: one op per leaf of
 * the and/or/not tree (a fact, a comparison of a fact with a literal, a fact
 * `in` a list, or any other subtree as one op), and no op at all for and, or,
 * not: each op jumps straight to where its value decides the next step (t
 * when true, f when false). Jumps only go forward; RULE__END_TRUE and
 * RULE__END_FALSE past the last op end the run. Built once by rule_compile
 * (rule_flat.c); evaluation is a loop with no recursion and no call, except
 * RULE__OP_TREE, which walks its subtree as the traced evaluation does.
 */
enum rule__op_code {
    RULE__OP_CONST,   /* k.u.b */
    RULE__OP_TRUTHY,  /* a bool fact that is true */
    RULE__OP_IS_NULL, /* fact == null: the fact is unknown */
    RULE__OP_EQ_BOOL, /* known fact == k (bool, number, string) */
    RULE__OP_EQ_NUM,
    RULE__OP_EQ_STR,
    RULE__OP_LT, /* known number fact < k ... */
    RULE__OP_LE,
    RULE__OP_GT,
    RULE__OP_GE,
    RULE__OP_IN,  /* known fact in items[first .. first + count) */
    RULE__OP_TREE /* truthy value of the subtree at node */
};

#define RULE__END_TRUE(prog) ((prog)->n_code)
#define RULE__END_FALSE(prog) ((prog)->n_code + 1)

struct rule__op {
    enum rule__op_code code;
    enum rule_type type; /* the fact's type (its slot's) */
    int slot;            /* the fact; the node for RULE__OP_TREE */
    int t, f;            /* next op when the value is true, false */
    int first, count;    /* RULE__OP_IN: the list */
    struct rule_value k; /* the literal compared with */
};

/* A new field here is packed in rules/rule_pack.c too (the compiled-configuration cache). */
struct rule_prog {
    struct rule__op *code;
    int n_code;
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

/* Builds prog->code from prog->nodes; 0, or -1 when out of memory (rule_flat.c). */
int rule__flatten(struct rule_prog *prog);

/* Runs prog->code: 1 for true, 0 for false or null (rule_flat.c). */
int rule__run(const struct rule_prog *prog, const struct rule_value *facts);

/* The truthy value of node i's subtree, walked without a trace (rule_eval.c). */
int rule__eval_subtree(const struct rule_prog *prog, int i, const struct rule_value *facts);

static inline int rule__is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

#endif /* TRF_RULE_PROG_H */
