/*
 * cmd_instrument.c: the verb `instrument`: the screening instruments of the
 * configuration in force and their items, as people and tools read them.
 * Reads the configuration only; never the database.
 */
#include "cli/cmd_instrument.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "screening/evidence.h"

static int instrument_list(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    const struct instrument_set *set = t->cfg->instruments;
    const struct ch_host_api *api = t->api;
    (void)v;
    api->out_array(ctx, "instruments");
    for (size_t i = 0; i < set->n; i++) {
        const struct instrument *in = set->v[i];
        char ages[32];
        snprintf(ages, sizeof(ages), "%d-%d", in->min_age, in->max_age);
        api->out_object(ctx, NULL);
        api->out_str(ctx, "id", in->id);
        api->out_int(ctx, "version", in->version);
        api->out_str(ctx, "title", in->title);
        api->out_str(ctx, "mode", instrument_mode_name(in->mode));
        api->out_str(ctx, "ages", ages);
        api->out_int(ctx, "items", (int64_t)in->n_items);
        api->out_str(ctx, "scoring", instrument_method_name(in->method));
        api->out_end(ctx);
    }
    api->out_end(ctx);
    return CH_OK;
}

static int instrument_show(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    const struct instrument_set *set = t->cfg->instruments;
    const struct ch_host_api *api = t->api;
    const struct instrument *in = instrument_set_find(set, v[0].text, (int)v[1].num);
    if (in == NULL) {
        api->fail(ctx, "no instrument '%s'%s", v[0].text, v[1].given ? " in that version" : "");
        return CH_ERROR;
    }
    api->out_object(ctx, "instrument");
    api->out_str(ctx, "id", in->id);
    api->out_int(ctx, "version", in->version);
    api->out_str(ctx, "title", in->title);
    api->out_str(ctx, "purpose", in->purpose);
    api->out_str(ctx, "source", in->source);
    api->out_str(ctx, "mode", instrument_mode_name(in->mode));
    api->out_bool(ctx, "requires_training", in->requires_training);
    api->out_int(ctx, "min_age", in->min_age);
    api->out_int(ctx, "max_age", in->max_age);
    api->out_str(ctx, "scoring", instrument_method_name(in->method));
    api->out_int(ctx, "min_answered", in->min_answered);
    api->out_str(ctx, "hash", in->hash);
    /* Where the classes come from: the definition, or classes/<file> for an earlier version. */
    const char *from = in->classes_path != NULL ? strstr(in->classes_path, "/classes/") : NULL;
    api->out_str(ctx, "classes_from",
                 from != NULL               ? from + 1
                 : in->classes_path != NULL ? in->classes_path
                                            : "definition");
    api->out_end(ctx);
    api->out_array(ctx, "items");
    for (size_t i = 0; i < in->n_items; i++) {
        const struct instrument_item *it = &in->items[i];
        char classes[200];
        api->out_object(ctx, NULL);
        api->out_int(ctx, "n", (int64_t)i + 1);
        api->out_str(ctx, "id", it->id);
        api->out_str(ctx, "domain", instrument_domain_name(it->domain));
        api->out_str(ctx, "kind", instrument_kind_name(it->kind));
        /* What a yes establishes, and all routing reads from it (rules/facts.h "Evidence"). */
        api->out_str(ctx, "evidence", evidence_mask_text(it->evidence, classes, sizeof(classes)));
        api->out_str(ctx, "disclosure_kind", facts_disclosure_kind_name(it->disclosure_kind));
        api->out_bool(ctx, "key", it->key);
        api->out_bool(ctx, "disclosure", it->disclosure);
        api->out_int(ctx, "weight", it->weight);
        api->out_str(ctx, "show_if", it->show_if ? rule_source(it->show_if) : NULL);
        api->out_str(ctx, "prompt", it->prompt);
        api->out_end(ctx);
    }
    api->out_end(ctx);
    return CH_OK;
}

static const struct ch_arg instrument_show_args[] = {
    {"id", CH_ARG_TEXT, CH_ARG_REQUIRED, "the instrument", NULL, NULL, 0, 0},
    {"--version", CH_ARG_INT, 0, "a version (default: the newest)", NULL, NULL, 1, INT_MAX},
};

int trf_register_instrument_commands(struct trf *t)
{
    /* Both only show: a web page runs them from a link. */
    const struct ch_command_spec specs[] = {
        {sizeof(specs[0]), "instrument", "list", "the screening instruments", NULL, 0,
         sizeof(struct ch_arg), instrument_list, t, CH_CMD_VIEW,
         "list and show screening instruments"},
        {sizeof(specs[0]), "instrument", "show", "an instrument and its items",
         CH_SPEC_ARGS(instrument_show_args), instrument_show, t, CH_CMD_VIEW, NULL},
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (t->api->command_typed(t->self, &specs[i]) != 0)
            return -1;
    return 0;
}
