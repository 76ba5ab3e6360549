/*
 * trigger.c: loads and validates screening triggers and finds the ones a case
 * event matches.
 *
 * Suggests screenings only; never records or decides anything. Loading
 * reports every problem; matching allocates nothing.
 */
#include "screening/trigger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void trigger_release(struct trigger *t)
{
    free(t->name);
    free(t->instrument);
    free(t->reason);
    if (t->when != NULL)
        rule_free(t->when);
}

void trigger_set_free(struct trigger_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        trigger_release(&set->v[i]);
    free(set->v);
    free(set->path);
    free(set);
}

static void parse_events(struct cfgread *r, const config_setting_t *s, const char *ctx,
                         struct trigger *t)
{
    const config_setting_t *a = cfgread_strings(r, s, ctx, "on", 1);
    if (a == NULL)
        return;
    for (int k = 0; k < config_setting_length(a); k++) {
        const char *name = config_setting_get_string_elem(a, k);
        int ev = facts_event_lookup(name);
        if (ev < 0) {
            const char *names[FACTS_EV__COUNT];
            char list[200];
            for (int e = 0; e < FACTS_EV__COUNT; e++)
                names[e] = facts_event_name((enum facts_event)e);
            cfgread_error(r, cfgread_line(a), 0, ctx, "unknown event '%s' (expected one of %s)",
                          name, cfgread_join(names, FACTS_EV__COUNT, list, sizeof(list)));
        } else if (t->events & (1u << ev)) {
            cfgread_error(r, cfgread_line(a), 0, ctx, "event '%s' is listed twice", name);
        } else {
            t->events |= 1u << ev;
        }
    }
}

/* "unknown instrument 'x' (expected one of a, b)": the ids that loaded, each once. */
static void unknown_instrument(struct cfgread *r, int line, const char *ctx, const char *id,
                               const struct instrument_set *instruments)
{
    char list[400];
    size_t off = 0;
    list[0] = '\0';
    for (size_t i = 0; i < instruments->n && off < sizeof(list); i++) {
        const char *name = instruments->v[i]->id;
        size_t j = 0;
        while (j < i && strcmp(instruments->v[j]->id, name) != 0)
            j++;
        if (j == i)
            off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "", name);
    }
    if (list[0] == '\0')
        cfgread_error(r, line, 0, ctx, "unknown instrument '%s' (no instruments are loaded)", id);
    else
        cfgread_error(r, line, 0, ctx, "unknown instrument '%s' (expected one of %s)", id, list);
}

static void parse_trigger(struct cfgread *r, const config_setting_t *s, struct trigger_set *set,
                          size_t i, const struct instrument_set *instruments,
                          struct facts_resolver *res)
{
    static const char *const members[] = {"name",      "on",     "when",     "instrument",
                                          "due_hours", "reason", "due_from", NULL};
    const char *due_from[FACTS_DUE_FROM__COUNT];
    int e = 0;
    struct trigger *t = &set->v[i];
    char ctx[120];
    const char *str = NULL;
    long long v = 0;

    t->line = cfgread_line(s);
    snprintf(ctx, sizeof(ctx), "trigger %zu", i + 1);
    if (cfgread_ident(r, s, ctx, "name", 1, &str) == 1) {
        for (size_t j = 0; j < i; j++)
            if (set->v[j].name != NULL && strcmp(set->v[j].name, str) == 0)
                cfgread_error(r, cfgread_line(config_setting_get_member(s, "name")), 0, NULL,
                              "duplicate trigger name '%s' (first at line %d)", str,
                              set->v[j].line);
        t->name = cfgread_strdup(r, str);
        snprintf(ctx, sizeof(ctx), "trigger '%s'", str);
    }
    cfgread_members(r, s, ctx, members);
    parse_events(r, s, ctx, t);
    if (cfgread_ident(r, s, ctx, "instrument", 1, &str) == 1) {
        /* NULL instruments: they failed to load; still check everything else. */
        if (instruments != NULL && instrument_set_find(instruments, str, 0) == NULL)
            unknown_instrument(r, cfgread_line(config_setting_get_member(s, "instrument")), ctx,
                               str, instruments);
        t->instrument = cfgread_strdup(r, str);
    }
    if (cfgread_int(r, s, ctx, "due_hours", 1, 1, TRIGGER_MAX_DUE_HOURS, &v) == 1)
        t->due_hours = (int)v;
    for (int f = 0; f < FACTS_DUE_FROM__COUNT; f++)
        due_from[f] = facts_due_from_name((enum facts_due_from)f);
    if (cfgread_enum(r, s, ctx, "due_from", 0, "due_from", due_from, FACTS_DUE_FROM__COUNT, &e) ==
        1)
        t->due_from = (enum facts_due_from)e;
    if (cfgread_string(r, s, ctx, "reason", 1, &str) == 1)
        t->reason = cfgread_strdup(r, str);
    if (cfgread_string(r, s, ctx, "when", 1, &str) == 1) {
        struct rule_schema schema = facts_resolver_schema(res);
        struct rule_error e = {0};
        t->when = rule_compile(str, &schema, &e);
        if (t->when == NULL)
            cfgread_error(r, cfgread_line(config_setting_get_member(s, "when")), e.col, ctx,
                          "when: %s", e.msg);
    }
}

int trigger_set_load(const char *path, const struct instrument_set *instruments,
                     trf_report_fn report, void *ud, struct trigger_set **out)
{
    static const char *const top[] = {"triggers", NULL};
    int rc = -1;
    config_t c;
    char *text = NULL;
    size_t len = 0;
    struct cfgread r = {.file = path, .report = report, .ud = ud};
    struct facts_resolver res;
    struct trigger_set *set = calloc(1, sizeof(*set));

    *out = NULL;
    config_init(&c);
    /* Triggers run before any screening: case facts only, no functions. */
    facts_resolver_init(&res, FACTS_GROUP_CASE, NULL, 0, NULL);
    if (set == NULL || (set->path = strdup(path)) == NULL) {
        cfgread_error(&r, 0, 0, NULL, "out of memory");
        goto out;
    }
    if (cfgread_load(&r, &c, &text, &len, set->hash) != 0)
        goto out;
    const config_setting_t *root = config_root_setting(&c);
    cfgread_members(&r, root, NULL, top);
    const config_setting_t *list =
        cfgread_aggregate(&r, root, NULL, "triggers", 1, CONFIG_TYPE_LIST);
    if (list == NULL)
        goto out;
    size_t n = (size_t)config_setting_length(list);
    set->v = calloc(n ? n : 1, sizeof(*set->v));
    if (set->v == NULL) {
        cfgread_error(&r, 0, 0, NULL, "out of memory");
        goto out;
    }
    set->n = n;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        if (config_setting_type(s) != CONFIG_TYPE_GROUP)
            cfgread_error(&r, cfgread_line(s), 0, NULL, "trigger %zu must be a group { ... }",
                          i + 1);
        else
            parse_trigger(&r, s, set, i, instruments, &res);
    }
    if (r.errors == 0) {
        *out = set;
        set = NULL;
        rc = 0;
    }
out:
    cfgread_flush(&r);
    trigger_set_free(set);
    facts_resolver_release(&res);
    free(text);
    config_destroy(&c);
    return rc;
}

size_t trigger_match(const struct trigger_set *set, enum facts_event ev, struct rule_value *facts,
                     const struct trigger **out, size_t max)
{
    size_t n = 0;
    if (facts_event_name(ev) == NULL)
        return 0;
    facts[FACTS_EVENT] = (struct rule_value){.type = RULE_STR, .u.s = facts_event_name(ev)};
    for (size_t i = 0; i < set->n; i++) {
        const struct trigger *t = &set->v[i];
        if (!(t->events & (1u << ev)) || !rule_eval(t->when, facts, NULL))
            continue;
        if (n < max)
            out[n] = t;
        n++;
    }
    return n;
}
