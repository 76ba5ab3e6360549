/*
 * instrument_item.c: reads and validates the items of one instrument file and
 * compiles their show_if expressions.
 *
 * An item may only be shown or hidden by what came before it, so show_if must
 * never refer to the item itself or to a later item.
 */
#include "screening/instrument_item.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const domain_names[INSTRUMENT_DOMAIN__COUNT] = {
    "control", "recruitment", "conditions", "sex_trafficking", "labour", "minors", "health",
};
static const char *const kind_names[] = {"yes_no", "choice", "count"};

const char *const *instrument__domain_names(size_t *n)
{
    *n = sizeof(domain_names) / sizeof(domain_names[0]);
    return domain_names;
}

const char *const *instrument__kind_names(size_t *n)
{
    *n = sizeof(kind_names) / sizeof(kind_names[0]);
    return kind_names;
}

int instrument__item_find(const struct instrument_item *items, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].id != NULL && strcmp(items[i].id, id) == 0)
            return (int)i;
    return -1;
}

static void item_ctx(const char *id, size_t i, char *buf, size_t len)
{
    if (id != NULL)
        snprintf(buf, len, "item '%s'", id);
    else
        snprintf(buf, len, "item %zu", i + 1);
}

void instrument__item_release(struct instrument_item *item)
{
    for (size_t i = 0; i < item->n_choices; i++)
        free(item->choices[i]);
    free(item->choices);
    free(item->concern);
    free(item->id);
    free(item->prompt);
    if (item->show_if != NULL)
        rule_free(item->show_if);
    memset(item, 0, sizeof(*item));
}

/* A member that belongs to another kind of item would be silently ignored: refuse it. */
static void refuse(struct instrument_loader *l, const config_setting_t *s, const char *ctx,
                   const char *name, const char *owner)
{
    const config_setting_t *m = config_setting_get_member(s, name);
    if (m != NULL)
        cfgread_error(&l->r, cfgread_line(m), 0, ctx, "'%s' is only for %s items", name, owner);
}

static void parse_choices(struct instrument_loader *l, const config_setting_t *s, const char *ctx,
                          struct instrument_item *it)
{
    struct cfgread *r = &l->r;
    const config_setting_t *a = cfgread_strings(r, s, ctx, "choices", 2);
    const config_setting_t *c = cfgread_strings(r, s, ctx, "concern", 1);
    if (a == NULL)
        return;
    size_t n = (size_t)config_setting_length(a);
    it->choices = calloc(n, sizeof(*it->choices));
    it->concern = calloc(n, 1);
    if (it->choices == NULL || it->concern == NULL) {
        cfgread_error(r, 0, 0, NULL, "out of memory");
        return;
    }
    for (size_t k = 0; k < n; k++) {
        const char *v = config_setting_get_string_elem(a, (int)k);
        if (v[0] == '\0')
            cfgread_error(r, cfgread_line(a), 0, ctx, "choice %zu is empty", k + 1);
        for (size_t j = 0; j < it->n_choices; j++)
            if (strcmp(it->choices[j], v) == 0)
                cfgread_error(r, cfgread_line(a), 0, ctx, "duplicate choice '%s'", v);
        it->choices[k] = cfgread_strdup(r, v);
        if (it->choices[k] == NULL)
            return;
        it->n_choices++;
    }
    if (c == NULL)
        return;
    for (int k = 0; k < config_setting_length(c); k++) {
        const char *v = config_setting_get_string_elem(c, k);
        size_t j = 0;
        while (j < n && strcmp(it->choices[j], v) != 0)
            j++;
        if (j == n)
            cfgread_error(r, cfgread_line(c), 0, ctx, "concern '%s' is not one of the choices", v);
        else
            it->concern[j] = 1;
    }
}

/* Reads what depends on the kind; the members of other kinds are refused. */
static void parse_kind(struct instrument_loader *l, const config_setting_t *s, const char *ctx,
                       struct instrument_item *it)
{
    long long v = 0;
    switch (it->kind) {
    case INSTRUMENT_KIND_YES_NO:
        refuse(l, s, ctx, "choices", "choice");
        refuse(l, s, ctx, "concern", "choice");
        refuse(l, s, ctx, "concern_at", "count");
        break;
    case INSTRUMENT_KIND_CHOICE:
        refuse(l, s, ctx, "concern_at", "count");
        parse_choices(l, s, ctx, it);
        break;
    case INSTRUMENT_KIND_COUNT:
        refuse(l, s, ctx, "choices", "choice");
        refuse(l, s, ctx, "concern", "choice");
        if (cfgread_int(&l->r, s, ctx, "concern_at", 1, 1, 1000000, &v) == 1)
            it->concern_at = v;
        break;
    }
    if (it->disclosure && it->kind != INSTRUMENT_KIND_YES_NO)
        refuse(l, s, ctx, "disclosure", "yes_no");
}

static void parse_weight(struct instrument_loader *l, const config_setting_t *s, const char *ctx,
                         struct instrument_item *it)
{
    long long v = 0;
    int weighted = l->method_known && l->inst->method == INSTRUMENT_WEIGHTED;
    if (l->method_known && !weighted) {
        const config_setting_t *w = config_setting_get_member(s, "weight");
        if (w != NULL)
            cfgread_error(&l->r, cfgread_line(w), 0, ctx,
                          "'weight' is only used by weighted scoring");
        return;
    }
    /* With an unknown method, still check a weight that is there, but do not demand one. */
    if (cfgread_int(&l->r, s, ctx, "weight", weighted, 1, 100, &v) == 1)
        it->weight = (int)v;
    else
        l->weights_ok = 0;
}

/* One class name of `evidence` at line; adds it to *mask or reports why not. */
static void add_class(struct cfgread *r, int line, const char *ctx, const char *name,
                      facts_evidence_mask *mask)
{
    char list[200];
    int c = facts_evidence_lookup(name);
    if (c < 0) {
        cfgread_error(r, line, 0, ctx, "unknown evidence class '%s' (expected one of %s)", name,
                      facts_evidence_names(list, sizeof(list)));
        return;
    }
    if (*mask & FACTS_EVIDENCE_BIT(c))
        cfgread_error(r, line, 0, ctx, "evidence: '%s' is listed twice", name);
    *mask |= FACTS_EVIDENCE_BIT(c);
}

int instrument__parse_evidence(struct cfgread *r, const config_setting_t *s, const char *ctx,
                               const struct instrument_item *it, int required,
                               facts_evidence_mask *mask, enum facts_disclosure_kind *kind)
{
    const config_setting_t *e = config_setting_get_member(s, "evidence");
    const config_setting_t *k = config_setting_get_member(s, "disclosure_kind");
    const facts_evidence_mask disclosure = FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_DISCLOSURE);
    const facts_evidence_mask risk = FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK);
    facts_evidence_mask m = 0;
    int line;

    *mask = 0;
    *kind = FACTS_DISCLOSURE_NONE;
    if (e == NULL) {
        if (required)
            cfgread_error(r, cfgread_line(s), 0, ctx, "missing member 'evidence'");
        if (k != NULL)
            cfgread_error(r, cfgread_line(k), 0, ctx,
                          "'disclosure_kind' is only for items whose evidence includes "
                          "'disclosure'");
        return 0;
    }
    line = cfgread_line(e);
    if (config_setting_type(e) == CONFIG_TYPE_STRING) {
        add_class(r, line, ctx, config_setting_get_string(e), &m);
    } else if (config_setting_type(e) == CONFIG_TYPE_ARRAY && config_setting_length(e) > 0 &&
               config_setting_type(config_setting_get_elem(e, 0)) == CONFIG_TYPE_STRING) {
        for (int i = 0; i < config_setting_length(e); i++)
            add_class(r, line, ctx, config_setting_get_string_elem(e, i), &m);
    } else {
        cfgread_error(r, line, 0, ctx,
                      "'evidence' must be a class name or a list of them, such as \"risk\" "
                      "or [\"commercial_sex\", \"coercion\"]");
        return 1;
    }
    /* A risk sign is a reason to assess; an item that establishes more is not a risk item. */
    if ((m & risk) && (m & ~risk))
        cfgread_error(r, line, 0, ctx,
                      "evidence: 'risk' stands alone: a risk item is a reason to assess, never "
                      "evidence of anything more");
    if (it->disclosure && !(m & disclosure))
        cfgread_error(r, line, 0, ctx,
                      "'evidence' must include 'disclosure': a yes to this item stops the "
                      "screening as a disclosure");
    if (!it->disclosure && (m & disclosure))
        cfgread_error(r, line, 0, ctx,
                      "evidence 'disclosure' is only for disclosure items (disclosure = true)");
    if (m & disclosure) {
        size_t n = 0;
        const char *names[FACTS_DISCLOSURE__COUNT];
        for (int i = 1; i < FACTS_DISCLOSURE__COUNT; i++)
            names[n++] = facts_disclosure_kind_name((enum facts_disclosure_kind)i);
        int v = 0;
        if (cfgread_enum(r, s, ctx, "disclosure_kind", 1, "disclosure kind", names, n, &v) == 1)
            *kind = (enum facts_disclosure_kind)(v + 1);
    } else if (k != NULL) {
        cfgread_error(r, cfgread_line(k), 0, ctx,
                      "'disclosure_kind' is only for items whose evidence includes 'disclosure'");
    }
    *mask = m;
    return 1;
}

static void parse_item(struct instrument_loader *l, const config_setting_t *s, size_t i)
{
    static const char *const members[] = {
        "id",      "domain",  "kind",    "prompt",     "key",      "disclosure",      "weight",
        "show_if", "choices", "concern", "concern_at", "evidence", "disclosure_kind", NULL,
    };
    struct cfgread *r = &l->r;
    struct instrument *inst = l->inst;
    struct instrument_item *it = &inst->items[i];
    char num[32], ctx[120];
    const char *id = NULL, *str = NULL;
    int v = 0;

    it->line = cfgread_line(s);
    it->weight = 1;
    item_ctx(NULL, i, num, sizeof(num));
    if (cfgread_ident(r, s, num, "id", 1, &id) == 1) {
        int first = instrument__item_find(inst->items, inst->n_items, id);
        if (first >= 0)
            cfgread_error(r, cfgread_line(config_setting_get_member(s, "id")), 0, NULL,
                          "duplicate item id '%s' (first at line %d)", id, inst->items[first].line);
        /* Kept even when duplicate, so later messages name the item as written. */
        it->id = cfgread_strdup(r, id);
    }
    item_ctx(id, i, ctx, sizeof(ctx));
    cfgread_members(r, s, ctx, members);

    size_t n = 0;
    const char *const *names = instrument__domain_names(&n);
    if (cfgread_enum(r, s, ctx, "domain", 1, "domain", names, n, &v) == 1)
        it->domain = (enum instrument_domain)v;
    names = instrument__kind_names(&n);
    int kind_ok = cfgread_enum(r, s, ctx, "kind", 1, "kind", names, n, &v) == 1;
    if (kind_ok)
        it->kind = (enum instrument_kind)v;
    if (cfgread_string(r, s, ctx, "prompt", 1, &str) == 1)
        it->prompt = cfgread_strdup(r, str);
    if (cfgread_bool(r, s, ctx, "key", 0, &v) == 1)
        it->key = v;
    if (cfgread_bool(r, s, ctx, "disclosure", 0, &v) == 1)
        it->disclosure = v;
    parse_weight(l, s, ctx, it);
    if (kind_ok)
        parse_kind(l, s, ctx, it);
    if (cfgread_string(r, s, ctx, "show_if", 0, &str) == 1)
        l->show_if[i] = config_setting_get_member(s, "show_if");
    if (instrument__parse_evidence(r, s, ctx, it, 0, &it->evidence, &it->disclosure_kind) == 1)
        l->with_evidence++;
}

void instrument__parse_items(struct instrument_loader *l, const config_setting_t *group)
{
    struct cfgread *r = &l->r;
    struct instrument *inst = l->inst;
    const config_setting_t *list = cfgread_aggregate(r, group, NULL, "items", 1, CONFIG_TYPE_LIST);
    if (list == NULL)
        return;
    size_t n = (size_t)config_setting_length(list);
    if (n == 0) {
        cfgread_error(r, cfgread_line(list), 0, NULL, "'items' must not be empty");
        return;
    }
    inst->items = calloc(n, sizeof(*inst->items));
    l->show_if = calloc(n, sizeof(*l->show_if));
    if (inst->items == NULL || l->show_if == NULL) {
        cfgread_error(r, 0, 0, NULL, "out of memory");
        return;
    }
    inst->n_items = n;
    l->items_ok = 1;
    l->weights_ok = 1;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
            cfgread_error(r, cfgread_line(s), 0, NULL, "item %zu must be a group { ... }", i + 1);
            l->weights_ok = 0;
            continue;
        }
        parse_item(l, s, i);
    }
    /*
     * A version declares the classes of all its items or of none (an earlier
     * version, whose classes come from a class-mapping file): half a
     * declaration would leave some yes answers establishing nothing.
     */
    if (l->with_evidence == 0)
        return;
    inst->classes_declared = 1;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        char ctx[120];
        if (config_setting_type(s) != CONFIG_TYPE_GROUP ||
            config_setting_get_member(s, "evidence") != NULL)
            continue;
        item_ctx(inst->items[i].id, i, ctx, sizeof(ctx));
        cfgread_error(r, cfgread_line(s), 0, ctx,
                      "missing member 'evidence' (once one item declares its evidence classes, "
                      "every item does)");
    }
}

/* indicator("x") and answered("x"): x must be an item before the one being compiled. */
static int check_item(void *ud, const char *arg, char *err, size_t errlen)
{
    const struct instrument_loader *l = ud;
    int j = instrument__item_find(l->inst->items, l->inst->n_items, arg);
    if (j < 0) {
        snprintf(err, errlen, "no item '%s' in this instrument", arg);
        return -1;
    }
    if ((size_t)j >= l->cur) {
        snprintf(err, errlen, "item '%s' %s: show_if may refer only to earlier items", arg,
                 (size_t)j == l->cur ? "is this item" : "comes later");
        return -1;
    }
    return j;
}

static int check_domain(void *ud, const char *arg, char *err, size_t errlen)
{
    (void)ud;
    size_t n = 0;
    const char *const *names = instrument__domain_names(&n);
    for (size_t d = 0; d < n; d++)
        if (strcmp(names[d], arg) == 0)
            return (int)d;
    char list[200];
    snprintf(err, errlen, "unknown domain '%s' (expected one of %s)", arg,
             cfgread_join(names, n, list, sizeof(list)));
    return -1;
}

const struct facts_fn instrument__show_if_fns[INSTRUMENT_FN__COUNT] = {
    [INSTRUMENT_FN_INDICATOR] = {"indicator", RULE_BOOL, check_item},
    [INSTRUMENT_FN_ANSWERED] = {"answered", RULE_BOOL, check_item},
    [INSTRUMENT_FN_DOMAIN_SCORE] = {"domain_score", RULE_NUM, check_domain},
};

void instrument__compile_show_if(struct instrument_loader *l)
{
    struct instrument *inst = l->inst;
    /* Case facts only: a screening's own result cannot decide what it asks. */
    facts_resolver_init(&inst->resolver, FACTS_GROUP_CASE, instrument__show_if_fns,
                        INSTRUMENT_FN__COUNT, l);
    for (size_t i = 0; l->show_if != NULL && i < inst->n_items; i++) {
        if (l->show_if[i] == NULL)
            continue;
        struct rule_schema schema = facts_resolver_schema(&inst->resolver);
        struct rule_error e = {0};
        l->cur = i;
        inst->items[i].show_if =
            rule_compile(config_setting_get_string(l->show_if[i]), &schema, &e);
        if (inst->items[i].show_if == NULL) {
            char ctx[120];
            item_ctx(inst->items[i].id, i, ctx, sizeof(ctx));
            cfgread_error(&l->r, cfgread_line(l->show_if[i]), e.col, ctx, "show_if: %s", e.msg);
        }
    }
    inst->resolver.ud = NULL; /* the loader is gone once loading returns */
}
