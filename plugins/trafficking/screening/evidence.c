/*
 * evidence.c: adds up the evidence classes of a screening's concern answers,
 * and of several screenings of one case (see evidence.h). No I/O; never
 * invents a class an item does not declare, never lets one screen erase
 * another's evidence.
 */
#include "screening/evidence.h"

#include <stdio.h>
#include <string.h>

#include "screening/instrument.h"

void evidence_init(struct facts_evidence_set *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->disclosure = FACTS_DISCLOSURE_NONE;
}

void evidence_add_item(struct facts_evidence_set *ev, const struct instrument_item *it)
{
    ev->classes |= it->evidence;
    if (it->evidence & FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK))
        ev->risk_count++;
    if (it->evidence & FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_DISCLOSURE))
        ev->disclosure = facts_disclosure_kind_join(ev->disclosure, it->disclosure_kind);
}

void evidence_finish(struct facts_evidence_set *ev)
{
    enum facts_disclosure_kind k = FACTS_DISCLOSURE_NONE;
    if (ev->disclosure != FACTS_DISCLOSURE_UNCLEAR)
        return;
    if (ev->classes & FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COMMERCIAL_SEX))
        k = facts_disclosure_kind_join(k, FACTS_DISCLOSURE_SEX);
    if (ev->classes & FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_LABOUR_EXPLOITATION))
        k = facts_disclosure_kind_join(k, FACTS_DISCLOSURE_LABOUR);
    if (k != FACTS_DISCLOSURE_NONE)
        ev->disclosure = k;
}

size_t evidence_of_items(const struct instrument *inst, char *const *ids, size_t n,
                         struct facts_evidence_set *out)
{
    size_t unknown = 0;
    evidence_init(out);
    for (size_t i = 0; i < n; i++) {
        int k = instrument_item_index(inst, ids[i]);
        if (k < 0)
            unknown++;
        else
            evidence_add_item(out, &inst->items[k]);
    }
    evidence_finish(out);
    return unknown;
}

/* 1 when item id of screening s is a risk item of its instrument version. */
static int marks_risk(const struct evidence_screening *s, const char *id)
{
    int k = instrument_item_index(s->inst, id);
    return k >= 0 && (s->inst->items[k].evidence & FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK));
}

/* 1 when a screening before s[i] already counted risk item id of the same instrument. */
static int risk_counted_before(const struct evidence_screening *s, size_t i, const char *id)
{
    for (size_t j = 0; j < i; j++) {
        if (s[j].inst == NULL || strcmp(s[j].inst->id, s[i].inst->id) != 0)
            continue;
        for (size_t k = 0; k < s[j].n; k++)
            if (strcmp(s[j].ids[k], id) == 0 && marks_risk(&s[j], id))
                return 1;
    }
    return 0;
}

size_t evidence_of_screenings(const struct evidence_screening *s, size_t n,
                              struct facts_evidence_set *out)
{
    size_t unknown = 0;
    evidence_init(out);
    for (size_t i = 0; i < n; i++) {
        struct facts_evidence_set one;
        if (s[i].inst == NULL)
            continue;
        unknown += evidence_of_items(s[i].inst, s[i].ids, s[i].n, &one);
        out->classes |= one.classes;
        out->disclosure = facts_disclosure_kind_join(out->disclosure, one.disclosure);
        out->risk_count += one.risk_count;
        /* A sign answered again in a later screening is the same sign, not a second one. */
        for (size_t k = 0; k < s[i].n; k++)
            if (marks_risk(&s[i], s[i].ids[k]) && risk_counted_before(s, i, s[i].ids[k]))
                out->risk_count--;
    }
    return unknown;
}

const char *evidence_mask_text(facts_evidence_mask mask, char *buf, size_t len)
{
    size_t off = 0;
    if (len > 0)
        buf[0] = '\0';
    for (int c = 0; c < FACTS_EVIDENCE__COUNT && off < len; c++)
        if (mask & FACTS_EVIDENCE_BIT(c))
            off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
                                    facts_evidence_name((enum facts_evidence)c));
    return buf;
}
