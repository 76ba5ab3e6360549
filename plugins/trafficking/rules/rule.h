/*
 * rule.h: the one small expression language of the trafficking plugin, used by
 * skip logic (show_if), screening triggers and routing rules.
 *
 * Source is compiled once per configuration load into a flat node array
 * (the tree, walked when a trace is asked for) and a jump program (run when
 * not: rule_flat.c); evaluation reads a caller-filled fact vector, allocates
 * nothing and can record the value of every sub-expression (the trace) for
 * explanations.
 * Never does I/O; never touches the database.
 *
 * Grammar (lowest precedence first):
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | cmp
 *   cmp     := primary (("==" | "!=" | "<" | "<=" | ">" | ">=") primary
 *                       | "in" list | "not" "in" list)?
 *   primary := NUMBER | STRING | "true" | "false" | "null" | NAME
 *            | NAME "(" STRING ")" | "(" expr ")"
 *   list    := "[" (literal ("," literal)*)? "]"     literals of one type
 * NAME is [A-Za-z_][A-Za-z0-9_.]*; STRING is "..." with \" and \\ escapes;
 * NUMBER is decimal with optional fraction. Keywords are lowercase.
 *
 * Types: bool, number, string, and null (an unknown fact). Types are checked
 * at compile time: and/or/not need bool operands; < <= > >= need numbers;
 * == != need equal types (or either side null literal); `in` needs a list of
 * the left operand's type; the whole expression must be bool.
 * At evaluation, null is false in and/or/not; ordering comparisons and `in`
 * with a null operand are false; `x == null` is true when x is unknown.
 */
#ifndef TRF_RULE_H
#define TRF_RULE_H

#include <stddef.h>

#include "rules/rule_value.h"

/*
 * Names and function calls are resolved at compile time to slots of the fact
 * vector: the caller keeps one value per slot and fills it before evaluating.
 * A call's argument must be a string literal, so `indicator("paid_for_sex")`
 * is a slot just like `minor`.
 *
 * resolve() returns the slot (>= 0) and its static type, or -1 after writing
 * a message ("unknown name 'ag'", "no item 'x' in this instrument") to err.
 * fn is NULL for a plain name.
 */
struct rule_schema {
    int (*resolve)(void *ud, const char *fn, const char *name, enum rule_type *type, char *err,
                   size_t errlen);
    void *ud;
};

/* Where a compile error is; col counts from 1 within the expression text. */
struct rule_error {
    int col;
    char msg[200];
};

struct rule_prog; /* opaque compiled expression */

/*
 * Compiles src. Returns NULL and fills *err on a syntax, name or type error.
 * Caller frees the result with rule_free(). The program keeps its own copy of
 * src (for traces).
 */
struct rule_prog *rule_compile(const char *src, const struct rule_schema *schema,
                               struct rule_error *err);
void rule_free(struct rule_prog *prog);

struct pack;
/*
 * Writes *prog into a cache pack, or reads a program back into *prog (the
 * caller frees it with rule_free, also after a failed read). A string
 * literal must point into the program's own text; one that does not fails
 * the pack rather than be written as an address (rule_pack.c).
 */
void rule_pack(struct pack *p, struct rule_prog **prog);

/* Number of nodes: the size of a trace buffer. */
size_t rule_node_count(const struct rule_prog *prog);

/* The highest slot number the program reads, plus one (0 if none). */
int rule_slot_count(const struct rule_prog *prog);

/*
 * Evaluates prog over facts[0 .. rule_slot_count(prog)-1]. Returns 1 for true,
 * 0 for false or null. If trace is not NULL it must hold rule_node_count()
 * values; each node's value is stored, and a node not evaluated because of
 * short-circuiting gets type RULE_NULL with u.b = -1. Allocates nothing.
 */
int rule_eval(const struct rule_prog *prog, const struct rule_value *facts,
              struct rule_value *trace);

/*
 * Writes a readable explanation of a trace: one line per node, indented by
 * depth, "value  source-text", e.g.
 *     true   minor and indicator("paid_for_sex")
 *       true   minor
 *       true   indicator("paid_for_sex")
 * Returns the length it would have written (like snprintf).
 */
size_t rule_explain(const struct rule_prog *prog, const struct rule_value *trace, char *buf,
                    size_t len);

/* Source text of the whole program (borrowed, valid until rule_free). */
const char *rule_source(const struct rule_prog *prog);

/* Source span of node i, for callers that build their own explanation. */
void rule_node_span(const struct rule_prog *prog, size_t i, size_t *offset, size_t *length,
                    int *depth);

/* 1 when prog reads facts[slot], else 0: lets a caller skip computing unread facts. */
int rule_uses_slot(const struct rule_prog *prog, int slot);

#endif /* TRF_RULE_H */
