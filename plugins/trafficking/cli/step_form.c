/*
 * step_form.c: a screening one question at a time (see step_form.h): the
 * step form of the next question or the review that stores the answers, and
 * the answers so far to and from the case's draft. Stores no screening.
 */
#include "cli/step_form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/answers.h"

int step_form_out(struct trf *t, struct ch_ctx *ctx, long long case_id,
                  const struct instrument *inst, const struct rule_value *facts,
                  const struct answer *answers, const char *const *pairs, size_t n_pairs,
                  const char *supersedes, const char *answers_file)
{
    static const char *const yes_no[] = {"yes", "no", "unknown", "declined", NULL};
    const struct ch_host_api *api = t->api;
    struct scoring_outcome o;
    const char **argv = calloc(n_pairs + 10, sizeof(*argv)), **choices = NULL;
    char err[1024], case_arg[24];
    size_t n = 0;
    int rc = CH_ERROR;

    if (argv == NULL) {
        api->fail(ctx, "out of memory");
        return CH_ERROR;
    }
    if (scoring_run(inst, answers, facts, &o, NULL, err, sizeof(err)) != 0) {
        api->fail(ctx, "%s", err);
        goto out;
    }
    /*
     * The command that continues, as step_args/start_args take it: the case
     * and the answers so far (a step form appends the next one), then the
     * options, the instrument pinned so a new suggestion cannot change it.
     */
    snprintf(case_arg, sizeof(case_arg), "%lld", case_id);
    argv[n++] = "screen";
    argv[n++] = o.stopped || o.next < 0 ? "start" : "step";
    argv[n++] = case_arg;
    for (size_t i = 0; i < n_pairs; i++)
        argv[n++] = pairs[i];
    argv[n++] = "--instrument";
    argv[n++] = inst->id;
    if (supersedes != NULL) {
        argv[n++] = "--supersedes";
        argv[n++] = supersedes;
    }
    if (answers_file != NULL) {
        argv[n++] = "--answers";
        argv[n++] = answers_file;
    }
    argv[n] = NULL;
    api->out_str(ctx, "instrument", inst->id);
    api->out_int(ctx, "version", inst->version);
    if (o.stopped || o.next < 0) {
        if (o.stopped)
            api->out_alert(ctx, CH_SEV_DANGER,
                           "Disclosure at item '%s': stop asking. Make sure the person is safe "
                           "now, and arrange a forensic interview through your protocol.",
                           inst->items[o.stop_item].id);
        api->out_message(ctx, "No more questions: check the answers and store the screening.");
        api->out_action(ctx, "store the screening", argv);
        rc = CH_OK;
        goto out;
    }
    {
        const struct instrument_item *it = &inst->items[o.next];
        struct ch_question q = {sizeof(q), it->id, it->prompt, NULL, NULL};
        char title[300];
        if (it->kind == INSTRUMENT_KIND_YES_NO) {
            q.choices = yes_no;
        } else if (it->kind == INSTRUMENT_KIND_CHOICE) {
            choices = calloc(it->n_choices + 3, sizeof(*choices));
            if (choices == NULL) {
                api->fail(ctx, "out of memory");
                goto out;
            }
            for (size_t c = 0; c < it->n_choices; c++)
                choices[c] = it->choices[c];
            choices[it->n_choices] = "unknown";
            choices[it->n_choices + 1] = "declined";
            q.choices = choices;
        } else {
            q.help = "a number, unknown or declined";
        }
        snprintf(title, sizeof(title), "%s (version %d), question %d of %zu", inst->title,
                 inst->version, o.next + 1, inst->n_items);
        api->out_form(ctx, "step", title, &q, 1, argv);
    }
    rc = CH_OK;
out:
    free(choices);
    free(argv);
    return rc;
}

int step_form_save_draft(struct trf *t, struct ch_ctx *ctx, long long case_id,
                         const struct instrument *inst, const struct answer *answers)
{
    json_t *o = json_object();
    char text[256], err[1024];
    int rc = 0;
    if (o == NULL) {
        t->api->fail(ctx, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < inst->n_items; i++)
        if (answers[i].kind != ANSWER_NOT_ASKED &&
            json_object_set_new(o, inst->items[i].id,
                                json_string(trf_answer_text(&inst->items[i], &answers[i], text,
                                                            sizeof(text)))) != 0)
            rc = -1;
    if (rc != 0)
        t->api->fail(ctx, "out of memory");
    else if (json_object_size(o) > 0 &&
             screening_draft_save(t->api->conn(ctx), case_id, inst, o, err, sizeof(err)) < 0) {
        t->api->fail(ctx, "%s", err);
        rc = -1;
    }
    json_decref(o);
    return rc;
}

int step_form_draft_pairs(struct trf *t, struct ch_ctx *ctx, const struct screening_draft *d,
                          const struct instrument *inst, struct answer *answers, char **pairs)
{
    const char *key;
    json_t *value;
    char err[1024];
    int n = 0;
    json_object_foreach(d->answers, key, value)
    {
        if (instrument_item_index(inst, key) < 0)
            t->api->out_alert(ctx, CH_SEV_WARNING,
                              "saved answer to '%s': version %d of instrument '%s' has no such "
                              "item; it is left out",
                              key, inst->version, inst->id);
    }
    for (size_t i = 0; i < inst->n_items; i++) {
        const char *text = json_string_value(json_object_get(d->answers, inst->items[i].id));
        size_t len;
        if (text == NULL)
            continue;
        len = strlen(inst->items[i].id) + strlen(text) + 2;
        pairs[n] = malloc(len);
        if (pairs[n] == NULL) {
            while (n > 0)
                free(pairs[--n]);
            t->api->fail(ctx, "out of memory");
            return -1;
        }
        snprintf(pairs[n], len, "%s=%s", inst->items[i].id, text);
        if (trf_answer_set_pair(inst, answers, pairs[n], "saved answer", err, sizeof(err)) != 0) {
            t->api->out_alert(ctx, CH_SEV_WARNING, "%s: it is left out, ask it again", err);
            free(pairs[n]);
            pairs[n] = NULL;
            continue;
        }
        n++;
    }
    return n;
}
