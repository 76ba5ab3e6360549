/*
 * instrument_classes.c: class-mapping files, the evidence classes of an
 * earlier instrument version (see instrument_classes.h).
 *
 * A mapping is all or nothing: a file with any problem changes no item, so
 * a version is never routed with half of its classes. Never touches the
 * definition itself: its text and hash stay what stored screenings name.
 */
#include "screening/instrument_classes.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "screening/instrument_item.h"

/* The version id of set, or NULL (instrument.c calls in here, never the other way). */
static struct instrument *find_version(struct instrument_set *set, const char *id, int version)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i]->id, id) == 0 && set->v[i]->version == version)
            return set->v[i];
    return NULL;
}

/* The version named by group g, or NULL after reporting why. */
static struct instrument *named_instrument(struct cfgread *r, struct instrument_set *set,
                                           const config_setting_t *g)
{
    const char *id = NULL, *hash = NULL;
    long long version = 0;
    int a = cfgread_ident(r, g, NULL, "instrument", 1, &id);
    int b = cfgread_int(r, g, NULL, "version", 1, 1, INT_MAX, &version);
    int c = cfgread_string(r, g, NULL, "hash", 1, &hash);
    if (a != 1 || b != 1 || c != 1)
        return NULL;
    struct instrument *inst = find_version(set, id, (int)version);
    int line = cfgread_line(config_setting_get_member(g, "instrument"));
    if (inst == NULL) {
        cfgread_error(r, line, 0, NULL,
                      "no instrument '%s' version %lld is loaded: a class-mapping file gives the "
                      "classes of a version whose definition is in the instruments folder",
                      id, version);
        return NULL;
    }
    if (inst->classes_declared && inst->classes_path == NULL) {
        cfgread_error(r, line, 0, NULL,
                      "instrument '%s' version %d declares its classes in its definition (%s:%d); "
                      "a class-mapping file is only for an earlier version written without them",
                      inst->id, inst->version, inst->path, inst->line);
        return NULL;
    }
    if (inst->classes_path != NULL) {
        cfgread_error(r, line, 0, NULL,
                      "instrument '%s' version %d already has its classes from %s", inst->id,
                      inst->version, inst->classes_path);
        return NULL;
    }
    if (strcmp(hash, inst->hash) != 0) {
        cfgread_error(r, cfgread_line(config_setting_get_member(g, "hash")), 0, NULL,
                      "hash '%.12s...' is not the hash of instrument '%s' version %d (%.12s..., "
                      "%s): these classes were written for another text",
                      hash, inst->id, inst->version, inst->hash, inst->path);
        return NULL;
    }
    return inst;
}

/* Reads items into mask[] and kind[] (one per item of inst); every item exactly once. */
static void read_items(struct cfgread *r, const config_setting_t *g, const struct instrument *inst,
                       facts_evidence_mask *mask, enum facts_disclosure_kind *kind, int *seen)
{
    static const char *const members[] = {"id", "evidence", "disclosure_kind", NULL};
    const config_setting_t *list = cfgread_aggregate(r, g, NULL, "items", 1, CONFIG_TYPE_LIST);
    if (list == NULL)
        return;
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        const char *id = NULL;
        char ctx[120];
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
            cfgread_error(r, cfgread_line(s), 0, NULL, "item %d must be a group { ... }", i + 1);
            continue;
        }
        snprintf(ctx, sizeof(ctx), "item %d", i + 1);
        if (cfgread_ident(r, s, ctx, "id", 1, &id) != 1)
            continue;
        snprintf(ctx, sizeof(ctx), "item '%s'", id);
        cfgread_members(r, s, ctx, members);
        int k = instrument__item_find(inst->items, inst->n_items, id);
        if (k < 0) {
            cfgread_error(r, cfgread_line(s), 0, NULL,
                          "instrument '%s' version %d has no item '%s'", inst->id, inst->version,
                          id);
            continue;
        }
        if (seen[k] > 0) {
            cfgread_error(r, cfgread_line(s), 0, NULL,
                          "item '%s' is mapped twice (first at line %d)", id, seen[k]);
            continue;
        }
        seen[k] = cfgread_line(s);
        instrument__parse_evidence(r, s, ctx, &inst->items[k], 1, &mask[k], &kind[k]);
    }
    for (size_t k = 0; k < inst->n_items; k++)
        if (seen[k] == 0)
            cfgread_error(r, cfgread_line(list), 0, NULL,
                          "item '%s' of instrument '%s' version %d has no classes here: every "
                          "item is mapped",
                          inst->items[k].id, inst->id, inst->version);
}

int instrument__classes_load_file(struct instrument_set *set, const char *path,
                                  trf_report_fn report, void *ud)
{
    static const char *const top[] = {"classes", NULL};
    static const char *const members[] = {"instrument", "version", "hash", "items", NULL};
    struct cfgread r = {.file = path, .report = report, .ud = ud};
    facts_evidence_mask *mask = NULL;
    enum facts_disclosure_kind *kind = NULL;
    int *seen = NULL;
    char *text = NULL, hash[CFGREAD_HASH_LEN + 1];
    size_t len = 0;
    config_t c;

    config_init(&c);
    if (cfgread_load(&r, &c, &text, &len, hash) != 0)
        goto out;
    const config_setting_t *root = config_root_setting(&c);
    cfgread_members(&r, root, NULL, top);
    const config_setting_t *g = cfgread_aggregate(&r, root, NULL, "classes", 1, CONFIG_TYPE_GROUP);
    if (g == NULL)
        goto out;
    cfgread_members(&r, g, NULL, members);
    struct instrument *inst = named_instrument(&r, set, g);
    if (inst == NULL)
        goto out;
    size_t n = inst->n_items ? inst->n_items : 1;
    mask = calloc(n, sizeof(*mask));
    kind = calloc(n, sizeof(*kind));
    seen = calloc(n, sizeof(*seen));
    if (mask == NULL || kind == NULL || seen == NULL) {
        cfgread_error(&r, 0, 0, NULL, "out of memory");
        goto out;
    }
    read_items(&r, g, inst, mask, kind, seen);
    if (r.errors > 0)
        goto out;
    inst->classes_path = cfgread_strdup(&r, path);
    if (inst->classes_path == NULL)
        goto out;
    for (size_t k = 0; k < inst->n_items; k++) {
        inst->items[k].evidence = mask[k];
        inst->items[k].disclosure_kind = kind[k];
    }
    inst->classes_declared = 1;
out:
    cfgread_flush(&r);
    free(mask);
    free(kind);
    free(seen);
    free(text);
    config_destroy(&c);
    return r.errors;
}
