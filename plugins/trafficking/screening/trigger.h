/*
 * trigger.h: screening triggers of the trafficking plugin, loaded from
 * conf/trafficking/screening.cfg: which case events and facts suggest which
 * instrument, with a due time.
 *
 * A trigger only suggests a screening; it never decides anything about the
 * person. Loading reports every problem; evaluation allocates nothing.
 *
 * File format (libconfig):
 *   triggers = (
 *     { name = "runaway_return"; on = ["created", "updated"]; when = "runaway_return";
 *       instrument = "youth_quick"; due_hours = 24; reason = "..."; },
 *   );
 * name: unique identifier; on: events from "created", "updated",
 * "note_added", "closed", "tick"; when: a rule over case facts (screening
 * results are not known yet); instrument: an instrument id (its highest
 * version is used); due_hours: 1..720; reason: shown to the caseworker.
 */
#ifndef TRF_TRIGGER_H
#define TRF_TRIGGER_H

#include <stddef.h>

#include "cfg/cfgread.h"
#include "rules/facts.h"
#include "screening/instrument.h"
#include "cfg/report.h"
#include "rules/rule.h"

#define TRIGGER_MAX_DUE_HOURS 720

/* A new field here or in trigger_set is packed in cache/cfgcache.c too. */
struct trigger {
    char *name;
    unsigned events; /* bit (1u << enum facts_event) per event it listens to */
    struct rule_prog *when;
    char *instrument; /* id; exists in the set the triggers were loaded against */
    int due_hours;
    enum facts_due_from due_from; /* what due_hours counts from (default: now) */
    char *reason;
    int line;
};

/* Triggers in file order. */
struct trigger_set {
    struct trigger *v;
    size_t n;
    char *path;
    char hash[CFGREAD_HASH_LEN + 1]; /* SHA-256 of the file text, lowercase hex */
};

/*
 * Loads path, checking instrument ids against instruments (borrowed, only
 * during the call; NULL skips that check, when the instruments failed to load). Returns 0 and *out
 * (caller frees with trigger_set_free), or -1 with *out NULL after reporting every problem through
 * report.
 */
int trigger_set_load(const char *path, const struct instrument_set *instruments,
                     trf_report_fn report, void *ud, struct trigger_set **out);
void trigger_set_free(struct trigger_set *set);

/*
 * The triggers that listen to ev and whose `when` is true over facts
 * (FACTS__COUNT values; facts[FACTS_EVENT] is set to the event's name first).
 * Writes up to max borrowed pointers, in file order, into out and returns how
 * many matched in all (which may exceed max). Allocates nothing.
 */
size_t trigger_match(const struct trigger_set *set, enum facts_event ev, struct rule_value *facts,
                     const struct trigger **out, size_t max);

#endif /* TRF_TRIGGER_H */
