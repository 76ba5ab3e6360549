/*
 * instrument.c: loads and validates screening instrument files into immutable
 * struct instrument values, compiling each item's show_if.
 *
 * Reports every problem and returns nothing half-valid; reads only the
 * definition files; never pools instruments (each keeps its own hash).
 */
#include "screening/instrument.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screening/instrument_classes.h"
#include "screening/instrument_item.h"

static const char *const method_names[] = {"any_yes", "count_at_least", "weighted"};
static const char *const mode_names[] = {"interview", "observation"};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, int i)
{
    return i >= 0 && (size_t)i < n ? names[i] : NULL;
}

/* Domains and kinds are item vocabulary: instrument_item.c owns their names. */
const char *instrument_domain_name(enum instrument_domain d)
{
    size_t n = 0;
    const char *const *names = instrument__domain_names(&n);
    return name_of(names, n, (int)d);
}

const char *instrument_kind_name(enum instrument_kind k)
{
    size_t n = 0;
    const char *const *names = instrument__kind_names(&n);
    return name_of(names, n, (int)k);
}

const char *instrument_method_name(enum instrument_method m)
{
    return name_of(method_names, COUNT_OF(method_names), (int)m);
}

const char *instrument_mode_name(enum instrument_mode m)
{
    return name_of(mode_names, COUNT_OF(mode_names), (int)m);
}

int instrument_item_index(const struct instrument *inst, const char *id)
{
    return instrument__item_find(inst->items, inst->n_items, id);
}

size_t instrument_slot_count(const struct instrument *inst)
{
    return facts_resolver_slot_count(&inst->resolver);
}

void instrument_free(struct instrument *inst)
{
    if (inst == NULL)
        return;
    for (size_t i = 0; i < inst->n_items; i++)
        instrument__item_release(&inst->items[i]);
    free(inst->items);
    facts_resolver_release(&inst->resolver);
    free(inst->id);
    free(inst->title);
    free(inst->purpose);
    free(inst->source);
    free(inst->path);
    free(inst->text);
    free(inst->classes_path);
    free(inst);
}

static void parse_population(struct instrument_loader *l, const config_setting_t *group)
{
    static const char *const members[] = {"min_age", "max_age", NULL};
    struct cfgread *r = &l->r;
    const config_setting_t *p =
        cfgread_aggregate(r, group, NULL, "population", 1, CONFIG_TYPE_GROUP);
    if (p == NULL)
        return;
    cfgread_members(r, p, "population", members);
    long long lo = 0, hi = 0;
    int a = cfgread_int(r, p, "population", "min_age", 1, 0, 120, &lo);
    int b = cfgread_int(r, p, "population", "max_age", 1, 0, 120, &hi);
    if (a == 1 && b == 1 && lo > hi)
        cfgread_error(r, cfgread_line(config_setting_get_member(p, "max_age")), 0, "population",
                      "'min_age' (%lld) is more than 'max_age' (%lld)", lo, hi);
    l->inst->min_age = (int)lo;
    l->inst->max_age = (int)hi;
}

/* A member that the chosen method does not read is a mistake, not a no-op. */
static void refuse_for_method(struct instrument_loader *l, const config_setting_t *s,
                              const char *name, const char *owner)
{
    const config_setting_t *m = config_setting_get_member(s, name);
    if (m != NULL)
        cfgread_error(&l->r, cfgread_line(m), 0, "scoring", "'%s' is only used by method '%s'",
                      name, owner);
}

static void parse_scoring(struct instrument_loader *l, const config_setting_t *group)
{
    static const char *const members[] = {"method", "n", "possible_at", "clear_at", NULL};
    struct cfgread *r = &l->r;
    struct instrument *inst = l->inst;
    const config_setting_t *s = cfgread_aggregate(r, group, NULL, "scoring", 1, CONFIG_TYPE_GROUP);
    if (s == NULL)
        return;
    cfgread_members(r, s, "scoring", members);
    int m = 0;
    if (cfgread_enum(r, s, "scoring", "method", 1, "method", method_names, COUNT_OF(method_names),
                     &m) != 1)
        return;
    inst->method = (enum instrument_method)m;
    l->method_known = 1;
    if (inst->method != INSTRUMENT_COUNT_AT_LEAST)
        refuse_for_method(l, s, "n", "count_at_least");
    if (inst->method != INSTRUMENT_WEIGHTED) {
        refuse_for_method(l, s, "possible_at", "weighted");
        refuse_for_method(l, s, "clear_at", "weighted");
    }
    long long v = 0;
    switch (inst->method) {
    case INSTRUMENT_ANY_YES:
        inst->at_least = 1;
        break;
    case INSTRUMENT_COUNT_AT_LEAST:
        if (cfgread_int(r, s, "scoring", "n", 1, 1, 1000, &v) == 1) {
            inst->at_least = (int)v;
            l->n_line = cfgread_line(config_setting_get_member(s, "n"));
        }
        break;
    case INSTRUMENT_WEIGHTED: {
        long long clear = 0;
        int a = cfgread_int(r, s, "scoring", "possible_at", 1, 1, 100000, &v);
        int b = cfgread_int(r, s, "scoring", "clear_at", 1, 1, 100000, &clear);
        if (a == 1 && b == 1 && v >= clear)
            cfgread_error(r, cfgread_line(config_setting_get_member(s, "possible_at")), 0,
                          "scoring", "'possible_at' (%lld) must be less than 'clear_at' (%lld)", v,
                          clear);
        inst->possible_at = (int)v;
        inst->clear_at = (int)clear;
        if (b == 1)
            l->clear_line = cfgread_line(config_setting_get_member(s, "clear_at"));
        break;
    }
    }
}

/* Checks that need the items and the scoring rule together. */
static void check_totals(struct instrument_loader *l)
{
    struct instrument *inst = l->inst;
    struct cfgread *r = &l->r;
    if (!l->items_ok)
        return;
    if (l->min_answered_line > 0 && (size_t)inst->min_answered > inst->n_items)
        cfgread_error(r, l->min_answered_line, 0, NULL,
                      "'min_answered' (%d) is more than the number of items (%zu)",
                      inst->min_answered, inst->n_items);
    if (l->n_line > 0 && (size_t)inst->at_least > inst->n_items)
        cfgread_error(r, l->n_line, 0, "scoring", "'n' (%d) is more than the number of items (%zu)",
                      inst->at_least, inst->n_items);
    if (l->clear_line > 0 && l->weights_ok) {
        long long total = 0;
        for (size_t i = 0; i < inst->n_items; i++)
            total += inst->items[i].weight;
        if (inst->clear_at > total)
            cfgread_error(r, l->clear_line, 0, "scoring",
                          "'clear_at' (%d) can never be reached: the weights add up to %lld",
                          inst->clear_at, total);
    }
}

static void parse_instrument(struct instrument_loader *l, const config_setting_t *g)
{
    static const char *const members[] = {
        "id",   "version",           "title",        "purpose", "source", "population",
        "mode", "requires_training", "min_answered", "scoring", "items",  NULL,
    };
    struct cfgread *r = &l->r;
    struct instrument *inst = l->inst;
    const char *s = NULL;
    long long v = 0;
    int b = 0;

    inst->line = cfgread_line(g);
    cfgread_members(r, g, NULL, members);
    if (cfgread_ident(r, g, NULL, "id", 1, &s) == 1)
        inst->id = cfgread_strdup(r, s);
    if (cfgread_int(r, g, NULL, "version", 1, 1, INT_MAX, &v) == 1)
        inst->version = (int)v;
    if (cfgread_string(r, g, NULL, "title", 1, &s) == 1)
        inst->title = cfgread_strdup(r, s);
    if (cfgread_string(r, g, NULL, "purpose", 1, &s) == 1)
        inst->purpose = cfgread_strdup(r, s);
    if (cfgread_string(r, g, NULL, "source", 1, &s) == 1)
        inst->source = cfgread_strdup(r, s);
    parse_population(l, g);
    int m = 0;
    if (cfgread_enum(r, g, NULL, "mode", 1, "mode", mode_names, COUNT_OF(mode_names), &m) == 1)
        inst->mode = (enum instrument_mode)m;
    if (cfgread_bool(r, g, NULL, "requires_training", 0, &b) == 1)
        inst->requires_training = b;
    if (cfgread_int(r, g, NULL, "min_answered", 1, 0, INT_MAX, &v) == 1) {
        inst->min_answered = (int)v;
        l->min_answered_line = cfgread_line(config_setting_get_member(g, "min_answered"));
    }
    parse_scoring(l, g);
    instrument__parse_items(l, g);
    check_totals(l);
    instrument__compile_show_if(l);
}

int instrument_load_file(const char *path, trf_report_fn report, void *ud, struct instrument **out)
{
    int rc = -1;
    config_t c;
    struct instrument_loader l = {.r = {.file = path, .report = report, .ud = ud}};

    *out = NULL;
    config_init(&c);
    l.inst = calloc(1, sizeof(*l.inst));
    if (l.inst == NULL) {
        cfgread_error(&l.r, 0, 0, NULL, "out of memory");
        goto out;
    }
    if (cfgread_load(&l.r, &c, &l.inst->text, &l.inst->text_len, l.inst->hash) != 0)
        goto out;
    l.inst->path = cfgread_strdup(&l.r, path);

    static const char *const top[] = {"instrument", NULL};
    const config_setting_t *root = config_root_setting(&c);
    cfgread_members(&l.r, root, NULL, top);
    const config_setting_t *g =
        cfgread_aggregate(&l.r, root, NULL, "instrument", 1, CONFIG_TYPE_GROUP);
    if (g != NULL)
        parse_instrument(&l, g);
    if (l.r.errors == 0) {
        *out = l.inst;
        l.inst = NULL;
        rc = 0;
    }
out:
    free(l.show_if);
    cfgread_flush(&l.r);
    instrument_free(l.inst);
    config_destroy(&c);
    return rc;
}

void instrument_set_free(struct instrument_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        instrument_free(set->v[i]);
    free(set->v);
    free(set);
}

const struct instrument *instrument_set_find(const struct instrument_set *set, const char *id,
                                             int version)
{
    const struct instrument *best = NULL;
    for (size_t i = 0; i < set->n; i++) {
        const struct instrument *inst = set->v[i];
        if (strcmp(inst->id, id) != 0)
            continue;
        if (version == 0 ? (best == NULL || inst->version > best->version)
                         : inst->version == version)
            best = inst;
    }
    return best;
}

/* Reports, in the later file, every id + version an earlier file already defined. */
static int check_duplicates(const struct instrument_set *set, trf_report_fn report, void *ud)
{
    int errors = 0;
    for (size_t i = 1; i < set->n; i++) {
        const struct instrument *b = set->v[i];
        for (size_t j = 0; j < i; j++) {
            const struct instrument *a = set->v[j];
            if (strcmp(a->id, b->id) != 0 || a->version != b->version)
                continue;
            struct cfgread r = {.file = b->path, .report = report, .ud = ud};
            cfgread_error(&r, b->line, 0, NULL,
                          "instrument '%s' version %d is already defined in %s:%d", b->id,
                          b->version, a->path, a->line);
            cfgread_flush(&r);
            errors++;
            break;
        }
    }
    return errors;
}

/*
 * Gives the earlier versions their classes from the class-mapping files in
 * dir/classes (a folder that may be absent), then reports every version that
 * still has none. Returns the number of problems.
 */
static int load_classes(struct instrument_set *set, const char *dir, trf_report_fn report, void *ud)
{
    char err[200], sub[4096];
    char **paths = NULL;
    size_t n = 0;
    int errors = 0;
    struct cfgread dr = {.report = report, .ud = ud};

    snprintf(sub, sizeof(sub), "%s%s" INSTRUMENT_CLASSES_DIR, dir,
             dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/");
    dr.file = sub;
    if (cfgread_is_dir(sub)) {
        if (cfgread_list_cfg_files(sub, &paths, &n, err, sizeof(err)) != 0) {
            cfgread_error(&dr, 0, 0, NULL, "%s", err);
            errors++;
        }
        for (size_t i = 0; i < n; i++)
            errors += instrument__classes_load_file(set, paths[i], report, ud) > 0;
    }
    cfgread_flush(&dr);
    if (paths != NULL)
        cfgread_free_names(paths, n);
    for (size_t i = 0; i < set->n; i++) {
        const struct instrument *inst = set->v[i];
        if (inst->classes_declared)
            continue;
        struct cfgread r = {.file = inst->path, .report = report, .ud = ud};
        cfgread_error(&r, inst->line, 0, NULL,
                      "instrument '%s' version %d declares no evidence classes: give each item "
                      "'evidence', or, for an earlier version whose text must not change, write "
                      "a class-mapping file in %s",
                      inst->id, inst->version, sub);
        cfgread_flush(&r);
        errors++;
    }
    return errors;
}

int instrument_set_load(const char *dir, trf_report_fn report, void *ud,
                        struct instrument_set **out)
{
    int errors = 0;
    char err[200];
    char **paths = NULL;
    size_t n_paths = 0;
    struct cfgread dr = {.file = dir, .report = report, .ud = ud};
    struct instrument_set *set = calloc(1, sizeof(*set));

    *out = NULL;
    if (set == NULL) {
        cfgread_error(&dr, 0, 0, NULL, "out of memory");
        goto out;
    }
    if (cfgread_list_cfg_files(dir, &paths, &n_paths, err, sizeof(err)) != 0) {
        cfgread_error(&dr, 0, 0, NULL, "%s", err);
        goto out;
    }
    if (n_paths == 0) {
        cfgread_error(&dr, 0, 0, NULL, "no instrument files (*.cfg) in this directory");
        goto out;
    }
    set->v = calloc(n_paths, sizeof(*set->v));
    if (set->v == NULL) {
        cfgread_error(&dr, 0, 0, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_paths; i++) {
        struct instrument *inst = NULL;
        if (instrument_load_file(paths[i], report, ud, &inst) != 0)
            errors++;
        else
            set->v[set->n++] = inst;
    }
    errors += check_duplicates(set, report, ud);
    /* Classes only for a set whose files all loaded: a missing version is no mapping error. */
    if (errors == 0)
        errors += load_classes(set, dir, report, ud);
out:
    cfgread_flush(&dr);
    if (paths != NULL)
        cfgread_free_names(paths, n_paths);
    if (errors > 0 || dr.errors > 0) {
        instrument_set_free(set);
        return -1;
    }
    *out = set;
    return 0;
}
