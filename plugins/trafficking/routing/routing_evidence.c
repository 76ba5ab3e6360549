/*
 * routing_evidence.c: what a routing input's screenings establish, each
 * read through the evidence classes of its own instrument version, and the
 * screening facts routing gives its rules (routing.h "evidence").
 *
 * Pure computation over loaded instruments. Never reads evidence as false
 * when it cannot be known (the facts stay null), and never lets a later
 * screen erase what an earlier one established.
 */
#include "routing/routing.h"
#include "screening/evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The instrument version screening (instrument, version) was taken with, or NULL. */
static const struct instrument *version_of(const struct instrument_set *instruments,
                                           const char *instrument, int version)
{
    /* The screening's own version: an earlier one has its classes from its mapping file. */
    return instrument_set_find(instruments, instrument, version);
}

int routing_input_evidence(const struct routing_input *in, const struct instrument_set *instruments,
                           struct facts_evidence_set *out)
{
    const struct instrument *latest;
    struct evidence_screening *all;
    evidence_init(out);
    if (!in->screening.present || instruments == NULL)
        return 0;
    latest = version_of(instruments, in->screening.instrument, in->screening.version);
    if (latest == NULL)
        return 0;
    if (in->n_screenings == 0) {
        evidence_of_items(latest, in->indicators, in->n_indicators, out);
        return 1;
    }
    /* Without memory the evidence is unknown (null), never read as "none". */
    if ((all = calloc(in->n_screenings, sizeof(*all))) == NULL)
        return 0;
    for (size_t i = 0; i < in->n_screenings; i++) {
        const struct routing_screening *s = &in->screenings[i];
        all[i] = (struct evidence_screening){version_of(instruments, s->instrument, s->version),
                                             s->indicators, s->n_indicators};
    }
    evidence_of_screenings(all, in->n_screenings, out);
    free(all);
    return 1;
}

/* Checks one screening (what: "screening" or "screenings[i]"); 0, or -1 with err. */
static int check_one(const struct instrument_set *instruments, const char *what,
                     const char *indicators_path, const char *instrument, int version,
                     char *const *indicators, size_t n, char *err, size_t errlen)
{
    const struct instrument *inst = version_of(instruments, instrument, version);
    if (inst == NULL) {
        if (version > 0)
            snprintf(err, errlen, "%s: instrument '%s' version %d is not loaded", what, instrument,
                     version);
        else
            snprintf(err, errlen, "%s: no instrument '%s' is loaded", what, instrument);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (instrument_item_index(inst, indicators[i]) < 0) {
            snprintf(err, errlen, "%s: '%s' is no item of instrument '%s' version %d",
                     indicators_path, indicators[i], inst->id, inst->version);
            return -1;
        }
    return 0;
}

int routing_input_check_screening(const struct routing_input *in,
                                  const struct instrument_set *instruments, char *err,
                                  size_t errlen)
{
    char what[48], path[64];
    if (!in->screening.present || instruments == NULL)
        return 0;
    if (in->n_screenings == 0)
        return check_one(instruments, "screening", "indicators", in->screening.instrument,
                         in->screening.version, in->indicators, in->n_indicators, err, errlen);
    for (size_t i = 0; i < in->n_screenings; i++) {
        const struct routing_screening *s = &in->screenings[i];
        snprintf(what, sizeof(what), "screenings[%zu]", i);
        snprintf(path, sizeof(path), "screenings[%zu].indicators", i);
        if (check_one(instruments, what, path, s->instrument, s->version, s->indicators,
                      s->n_indicators, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* 1 when a current screening stopped on a disclosure: it stays one whatever came after. */
static int any_disclosure(const struct routing_input *in)
{
    for (size_t i = 0; i < in->n_screenings; i++)
        if (in->screenings[i].stopped)
            return 1;
    return in->screening.present && in->screening.stopped;
}

void routing_input_screening_facts(const struct routing_input *in,
                                   const struct instrument_set *instruments,
                                   struct rule_value *facts)
{
    struct facts_evidence_set ev;
    if (!in->screening.present)
        return;
    facts[FACTS_BAND] = in->screening.band[0] != '\0'
                            ? (struct rule_value){.type = RULE_STR, .u.s = in->screening.band}
                            : (struct rule_value){.type = RULE_NULL};
    facts[FACTS_RESULT] = in->screening.result[0] != '\0'
                              ? (struct rule_value){.type = RULE_STR, .u.s = in->screening.result}
                              : (struct rule_value){.type = RULE_NULL};
    facts[FACTS_SCORE] = (struct rule_value){.type = RULE_NUM, .u.n = in->screening.score};
    facts[FACTS_DISCLOSURE] = (struct rule_value){.type = RULE_BOOL, .u.b = any_disclosure(in)};
    /* Unknown classes stay null: a rule reading them then matches nothing, never "no". */
    if (routing_input_evidence(in, instruments, &ev))
        facts_evidence_fill(&ev, facts);
}

const char *routing_input_trafficking_type(const struct routing_input *in,
                                           const struct instrument_set *instruments)
{
    struct facts_evidence_set ev;
    if (!routing_input_evidence(in, instruments, &ev))
        return "undetermined";
    int sex = (ev.classes & FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COMMERCIAL_SEX)) ||
              ev.disclosure == FACTS_DISCLOSURE_SEX || ev.disclosure == FACTS_DISCLOSURE_BOTH;
    int labour = (ev.classes & FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_LABOUR_EXPLOITATION)) ||
                 ev.disclosure == FACTS_DISCLOSURE_LABOUR || ev.disclosure == FACTS_DISCLOSURE_BOTH;
    return sex && labour ? "sex_and_labour" : sex ? "sex" : labour ? "labour" : "undetermined";
}

/* Risk is never what a report is about; a disclosure is its screening's (the ledger's). */
static facts_evidence_mask report_classes(const struct facts_evidence_set *ev)
{
    return ev->classes & ~(FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK) |
                           FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_DISCLOSURE));
}

facts_evidence_mask routing_input_report_classes(const struct routing_input *in,
                                                 const struct instrument_set *instruments)
{
    struct facts_evidence_set ev;
    return routing_input_evidence(in, instruments, &ev) ? report_classes(&ev) : 0;
}

json_t *routing_input_evidence_json(const struct routing_input *in,
                                    const struct instrument_set *instruments)
{
    struct facts_evidence_set ev;
    facts_evidence_mask mask;
    json_t *a;
    if (!routing_input_evidence(in, instruments, &ev))
        return json_null();
    mask = report_classes(&ev);
    a = json_array();
    for (int c = 0; a != NULL && c < FACTS_EVIDENCE__COUNT; c++) {
        if (!(mask & FACTS_EVIDENCE_BIT(c)))
            continue;
        if (json_array_append_new(a, json_string(facts_evidence_name((enum facts_evidence)c))) !=
            0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int64_t routing_input_disclosure(const struct routing_input *in)
{
    return in->screening.present && in->screening.stopped ? in->screening.id : 0;
}
