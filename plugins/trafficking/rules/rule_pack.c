/*
 * rule_pack.c: a compiled rule program written into, or read back from, the
 * compiled-configuration cache (cache/cfgcache.c). The program is rebuilt
 * with the allocations rule_compile makes, so rule_free frees either.
 *
 * Never writes an address: string literals are kept as offsets into the
 * program's text, and a literal that lies outside it fails the pack.
 */
#include "rules/rule.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/pack.h"
#include "rules/rule_prog.h"

/* Every field is packed below: a new one changes a size and stops the build here. */
#if defined(__x86_64__) && defined(__LP64__)
_Static_assert(sizeof(struct rule_prog) == 48, "pack every field of struct rule_prog");
_Static_assert(sizeof(struct rule__node) == 40, "pack every field of struct rule__node");
_Static_assert(sizeof(struct rule__op) == 48, "pack every field of struct rule__op");
_Static_assert(sizeof(struct rule_value) == 16, "pack every field of struct rule_value");
#endif

/* A value: bool and number as their bytes, a string as its offset into text. */
static void pack_value(struct pack *p, char *text, size_t text_size, struct rule_value *v)
{
    PACK(p, v->type);
    if (v->type != RULE_STR) {
        PACK(p, v->u);
        return;
    }
    uint64_t off = 0;
    if (!p->reading) {
        if (v->u.s == NULL || v->u.s < text || v->u.s >= text + text_size) {
            pack_fail(p);
            return;
        }
        off = (uint64_t)(v->u.s - text);
    }
    PACK(p, off);
    if (p->reading && !p->failed) {
        if (off >= text_size)
            pack_fail(p);
        else
            v->u.s = text + off;
    }
}

static void pack_node(struct pack *p, char *text, size_t text_size, struct rule__node *n)
{
    PACK(p, n->kind);
    PACK(p, n->type);
    PACK(p, n->size);
    PACK(p, n->depth);
    PACK(p, n->off);
    PACK(p, n->len);
    switch (n->kind) {
    case RULE__LIT:
        pack_value(p, text, text_size, &n->u.lit);
        break;
    case RULE__SLOT:
        PACK(p, n->u.slot);
        break;
    case RULE__IN:
    case RULE__NOT_IN:
        PACK(p, n->u.list.first);
        PACK(p, n->u.list.count);
        break;
    default:
        break;
    }
}

static void pack_op(struct pack *p, char *text, size_t text_size, struct rule__op *op)
{
    PACK(p, op->code);
    PACK(p, op->type);
    PACK(p, op->slot);
    PACK(p, op->t);
    PACK(p, op->f);
    PACK(p, op->first);
    PACK(p, op->count);
    pack_value(p, text, text_size, &op->k);
}

/* An int count of an array packed as pack_array's size_t; -1 on a bad count. */
static void *pack_run(struct pack *p, void *cur, int *n, size_t size)
{
    size_t count = *n > 0 ? (size_t)*n : 0;
    void *v = pack_array(p, cur, &count, size);
    if (p->reading) {
        if (count > INT32_MAX) {
            pack_fail(p);
            count = 0;
        }
        *n = (int)count;
    }
    return v;
}

void rule_pack(struct pack *p, struct rule_prog **pp)
{
    struct rule_prog *prog = p->reading ? NULL : *pp;
    uint64_t text_size = 0;
    if (!pack_present(p, prog)) {
        if (p->reading)
            *pp = NULL;
        return;
    }
    /* The text holds the source, its NUL, then the decoded literals (rule_compile). */
    if (!p->reading)
        text_size = 2 * ((uint64_t)strlen(prog->text) + 1);
    PACK(p, text_size);
    if (p->reading) {
        if (p->failed || text_size == 0 || text_size > p->len - p->at) {
            pack_fail(p);
            *pp = NULL;
            return;
        }
        prog = calloc(1, sizeof(*prog) + (size_t)text_size);
        *pp = prog;
        if (prog == NULL) {
            pack_fail(p);
            return;
        }
    }
    pack_raw(p, prog->text, (size_t)text_size);
    if (p->reading && prog->text[text_size - 1] != '\0' && !p->failed)
        prog->text[text_size - 1] = '\0';
    PACK(p, prog->slot_count);
    prog->nodes = pack_run(p, prog->nodes, &prog->n_nodes, sizeof(*prog->nodes));
    for (int i = 0; i < prog->n_nodes && !p->failed; i++)
        pack_node(p, prog->text, (size_t)text_size, &prog->nodes[i]);
    prog->code = pack_run(p, prog->code, &prog->n_code, sizeof(*prog->code));
    for (int i = 0; i < prog->n_code && !p->failed; i++)
        pack_op(p, prog->text, (size_t)text_size, &prog->code[i]);
    prog->items = pack_run(p, prog->items, &prog->n_items, sizeof(*prog->items));
    for (int i = 0; i < prog->n_items && !p->failed; i++)
        pack_value(p, prog->text, (size_t)text_size, &prog->items[i]);
}
