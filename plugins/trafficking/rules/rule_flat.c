/*
 * rule_flat.c: turns a compiled rule's node tree into the flat form
 * (struct rule__op, rule_prog.h) that rule_eval runs when no trace is asked
 * for, and runs it.
 *
 * Why a second form: the tree walk pays a call and a switch per node, a value
 * copy per operand and a fact normalisation per read; most nodes of a routing
 * rule are and/or/not, a fact and a literal. Here and/or/not cost nothing (they
 * become the jump targets of their leaves: short-circuit jumps), a comparison
 * of a fact with a literal is one op that reads the fact once, and the loop
 * needs no stack. The tree stays the reference: the traced evaluation walks
 * it, and the unit tests check that both forms agree on every rule they
 * compile.
 */
#include "rules/rule.h"
#include "rules/rule_prog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Ops the bool subtree at i compiles to (one per leaf), stored in ops[i]; returns it. */
static int count_ops(const struct rule_prog *prog, int i, int *ops)
{
    const struct rule__node *n = &prog->nodes[i];
    int total = 1;
    if (n->kind == RULE__NOT) {
        total = count_ops(prog, i + 1, ops);
    } else if (n->kind == RULE__AND || n->kind == RULE__OR) {
        total = 0;
        for (int c = i + 1; c < i + n->size; c += prog->nodes[c].size)
            total += count_ops(prog, c, ops);
    }
    ops[i] = total;
    return total;
}

static int is_slot(const struct rule__node *n)
{
    return n->kind == RULE__SLOT;
}

/* The op for a leaf: a fused comparison when the shape allows, else the subtree. */
static struct rule__op leaf_op(const struct rule_prog *prog, int i, int t, int f)
{
    const struct rule__node *n = &prog->nodes[i];
    struct rule__op op = {.code = RULE__OP_TREE, .slot = i, .t = t, .f = f};
    const struct rule__node *l = n + 1, *r = NULL, *fact = NULL, *lit = NULL;
    int mirrored = 0; /* the literal is on the left */

    if (n->kind >= RULE__EQ && n->kind <= RULE__GE) {
        r = l + l->size;
        if (is_slot(l) && r->kind == RULE__LIT) {
            fact = l;
            lit = r;
        } else if (l->kind == RULE__LIT && is_slot(r)) {
            fact = r;
            lit = l;
            mirrored = 1;
        }
    }
    switch (n->kind) {
    case RULE__LIT:
        op.code = RULE__OP_CONST;
        op.k = n->u.lit;
        break;
    case RULE__SLOT:
        op.code = RULE__OP_TRUTHY;
        op.slot = n->u.slot;
        op.type = n->type;
        break;
    case RULE__EQ:
    case RULE__NE:
        if (fact == NULL)
            break;
        op.slot = fact->u.slot;
        op.type = fact->type;
        op.k = lit->u.lit;
        if (lit->type == RULE_NULL)
            op.code = RULE__OP_IS_NULL;
        else if (fact->type == RULE_BOOL)
            op.code = RULE__OP_EQ_BOOL;
        else if (fact->type == RULE_NUM)
            op.code = RULE__OP_EQ_NUM;
        else
            op.code = RULE__OP_EQ_STR;
        if (n->kind == RULE__NE) { /* != is exactly not == */
            op.t = f;
            op.f = t;
        }
        break;
    case RULE__LT:
    case RULE__LE:
    case RULE__GT:
    case RULE__GE: {
        /* k < x is x > k: the mirror of each ordering, in enum order LT LE GT GE */
        static const enum rule__op_code plain[] = {RULE__OP_LT, RULE__OP_LE, RULE__OP_GT,
                                                   RULE__OP_GE};
        static const enum rule__op_code mirror[] = {RULE__OP_GT, RULE__OP_GE, RULE__OP_LT,
                                                    RULE__OP_LE};
        if (fact == NULL || lit->type != RULE_NUM)
            break;
        op.code = (mirrored ? mirror : plain)[n->kind - RULE__LT];
        op.slot = fact->u.slot;
        op.type = fact->type;
        op.k = lit->u.lit;
        break;
    }
    case RULE__IN:
    case RULE__NOT_IN:
        if (!is_slot(l))
            break;
        op.code = RULE__OP_IN;
        op.slot = l->u.slot;
        op.type = l->type;
        op.first = n->u.list.first;
        op.count = n->u.list.count;
        if (n->kind == RULE__NOT_IN) { /* not in is exactly not (x in list) */
            op.t = f;
            op.f = t;
        }
        break;
    default:
        break;
    }
    return op;
}

/*
 * Emits the ops of the bool subtree at i from code[pc]: control goes to t
 * when the subtree is true, to f when it is false. An and's operand that is
 * true goes on to the next operand, false goes to the and's f; or the
 * reverse; not swaps the targets. Recursion is bounded by the depth
 * rule_compile checked.
 */
static void emit(struct rule_prog *prog, const int *ops, int i, int pc, int t, int f)
{
    const struct rule__node *n = &prog->nodes[i];
    if (n->kind == RULE__NOT) {
        emit(prog, ops, i + 1, pc, f, t);
        return;
    }
    if (n->kind != RULE__AND && n->kind != RULE__OR) {
        prog->code[pc] = leaf_op(prog, i, t, f);
        return;
    }
    for (int c = i + 1, end = i + n->size; c < end;) {
        int next = c + prog->nodes[c].size, after = pc + ops[c];
        if (next >= end)
            emit(prog, ops, c, pc, t, f);
        else if (n->kind == RULE__AND)
            emit(prog, ops, c, pc, after, f);
        else
            emit(prog, ops, c, pc, t, after);
        pc = after;
        c = next;
    }
}

int rule__flatten(struct rule_prog *prog)
{
    int *ops = malloc((size_t)prog->n_nodes * sizeof *ops);
    if (ops == NULL)
        return -1;
    prog->n_code = count_ops(prog, 0, ops);
    prog->code = malloc((size_t)prog->n_code * sizeof *prog->code);
    if (prog->code != NULL)
        emit(prog, ops, 0, 0, RULE__END_TRUE(prog), RULE__END_FALSE(prog));
    free(ops);
    return prog->code != NULL ? 0 : -1;
}

/* A fact of its slot's type that is not null: a NULL string or a NaN is unknown. */
static int known(struct rule_value v, enum rule_type type)
{
    if (v.type != type)
        return 0;
    return type == RULE_STR ? v.u.s != NULL : type != RULE_NUM || !isnan(v.u.n);
}

/* Equal strings; the first byte settles most unequal ones without a call. */
static int same_string(const char *a, const char *b)
{
    return a[0] == b[0] && (a[0] == '\0' || strcmp(a + 1, b + 1) == 0);
}

static int in_items(const struct rule_prog *prog, const struct rule__op *op, struct rule_value v)
{
    const struct rule_value *it = &prog->items[op->first], *end = it + op->count;
    if (!known(v, op->type))
        return 0;
    for (; it < end; it++) {
        if (op->type == RULE_STR   ? same_string(v.u.s, it->u.s)
            : op->type == RULE_NUM ? v.u.n == it->u.n
                                   : !v.u.b == !it->u.b)
            return 1;
    }
    return 0;
}

int rule__run(const struct rule_prog *prog, const struct rule_value *facts)
{
    const struct rule__op *code = prog->code;
    int pc = 0, n = prog->n_code;
    while (pc < n) {
        const struct rule__op *op = &code[pc];
        struct rule_value v;
        int acc;
        switch (op->code) {
        case RULE__OP_CONST:
            acc = op->k.type == RULE_BOOL && op->k.u.b;
            break;
        case RULE__OP_TRUTHY:
            v = facts[op->slot];
            acc = v.type == RULE_BOOL && v.u.b;
            break;
        case RULE__OP_IS_NULL:
            acc = !known(facts[op->slot], op->type);
            break;
        case RULE__OP_EQ_BOOL:
            v = facts[op->slot];
            acc = v.type == RULE_BOOL && !v.u.b == !op->k.u.b;
            break;
        case RULE__OP_EQ_NUM:
            v = facts[op->slot];
            acc = v.type == RULE_NUM && v.u.n == op->k.u.n;
            break;
        case RULE__OP_EQ_STR:
            v = facts[op->slot];
            acc = v.type == RULE_STR && v.u.s != NULL && same_string(v.u.s, op->k.u.s);
            break;
        /* a NaN compares false with everything, as an unknown must */
        case RULE__OP_LT:
            v = facts[op->slot];
            acc = v.type == RULE_NUM && v.u.n < op->k.u.n;
            break;
        case RULE__OP_LE:
            v = facts[op->slot];
            acc = v.type == RULE_NUM && v.u.n <= op->k.u.n;
            break;
        case RULE__OP_GT:
            v = facts[op->slot];
            acc = v.type == RULE_NUM && v.u.n > op->k.u.n;
            break;
        case RULE__OP_GE:
            v = facts[op->slot];
            acc = v.type == RULE_NUM && v.u.n >= op->k.u.n;
            break;
        case RULE__OP_IN:
            acc = in_items(prog, op, facts[op->slot]);
            break;
        default:
            acc = rule__eval_subtree(prog, op->slot, facts);
            break;
        }
        pc = acc ? op->t : op->f;
    }
    return pc == RULE__END_TRUE(prog);
}
