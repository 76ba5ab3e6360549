/*
 * facts.h: the vocabulary of case facts that rules (show_if, triggers, routing)
 * may name, and a resolver that maps calls such as indicator("item") to slots.
 *
 * It only names and numbers facts; it never computes them from a case and never
 * does I/O. Callers fill the fact vector; the slot numbers here are the contract.
 */
#ifndef TRF_FACTS_H
#define TRF_FACTS_H

#include <stddef.h>

#include "rules/rule.h"

/*
 * Fixed slots of every fact vector; dynamic slots (calls) follow from
 * FACTS__COUNT. Numbers live only as long as a loaded configuration: programs
 * are compiled at each load and stored traces name facts by their names, so
 * never store a slot number.
 */
enum facts_slot_id {
    /* case facts: known whenever a case exists */
    FACTS_MINOR = 0,        /* bool: under 18, age unknown, or estimated under 18 */
    FACTS_AGE,              /* num: years, null if unknown */
    FACTS_AGE_KNOWN,        /* bool: age from a date of birth */
    FACTS_AGE_ESTIMATED,    /* bool: age from an estimate */
    FACTS_PATHWAY,          /* str: "minor", "adult", "minor_unknown_age" */
    FACTS_GENDER,           /* str */
    FACTS_STATE,            /* str: two-letter state code */
    FACTS_COUNTY,           /* str */
    FACTS_RUNAWAY_RETURN,   /* bool: a runaway episode with a return time */
    FACTS_RUNAWAY_EPISODES, /* num */
    FACTS_CW_HISTORY,       /* bool: child-welfare history */
    FACTS_JJ_HISTORY,       /* bool: juvenile-justice history */
    FACTS_RECRUITMENT_FLAG, /* bool */
    FACTS_CONTROL_FLAG,     /* bool */
    FACTS_FOREIGN_NATIONAL, /* bool */
    FACTS_IMMINENT_DANGER,  /* bool */
    FACTS_EVENT,            /* str: "created", "updated", "note_added", "closed", "tick" */
    /* screening facts: known only once a screening has been scored */
    FACTS_BAND,       /* str */
    FACTS_RESULT,     /* str: "negative", "possible", "positive", "incomplete" */
    FACTS_SCORE,      /* num */
    FACTS_DISCLOSURE, /* bool */
    FACTS__COUNT
};

/* Which fixed facts a context may name. */
enum facts_group {
    FACTS_GROUP_CASE = 1u << 0,
    FACTS_GROUP_SCREENING = 1u << 1,
    FACTS_GROUP_ALL = FACTS_GROUP_CASE | FACTS_GROUP_SCREENING,
};

struct facts_def {
    const char *name;
    enum rule_type type;
    enum facts_group group;
    const char *description;
};

/* The fixed table, indexed by enum facts_slot_id (static storage). */
extern const struct facts_def facts_table[FACTS__COUNT];

/* Slot of a fixed fact and its type, or -1 when name is not a fact. */
int facts_lookup(const char *name, enum rule_type *type);

/* Events a rule may see in the `event` fact; index is enum facts_event. */
enum facts_event {
    FACTS_EV_CREATED = 0,
    FACTS_EV_UPDATED,
    FACTS_EV_NOTE_ADDED,
    FACTS_EV_CLOSED,
    FACTS_EV_TICK,
    FACTS_EV__COUNT
};

/* Static name of an event ("created"), or NULL when out of range. */
const char *facts_event_name(enum facts_event ev);
/* Event of a name, or -1. */
int facts_event_lookup(const char *name);

/* Sets every slot of facts[0 .. n-1] to null. */
void facts_clear(struct rule_value *facts, size_t n);

/*
 * A function a context lets rules call with one string argument, such as
 * indicator("paid_for_sex") or, in routing, consent("law_enforcement").
 * check() validates the argument and returns a non-negative target (an item
 * index, a domain, a purpose) that the code filling the slot uses, or -1
 * after writing a message to err. check may be NULL: any argument, target 0.
 */
struct facts_fn {
    const char *name;
    enum rule_type type;
    int (*check)(void *ud, const char *arg, char *err, size_t errlen);
};

/* One dynamic slot: the call fns[fn](arg). */
struct facts_call {
    int fn;     /* index into the resolver's fns */
    char *arg;  /* owned by the resolver */
    int target; /* what check() returned */
};

/*
 * Resolves names and calls for rule_compile. Fixed facts keep their slots;
 * each distinct call gets the next slot from FACTS__COUNT on, so two rules
 * naming indicator("x") share one slot. Initialise with facts_resolver_init,
 * release with facts_resolver_release.
 */
struct facts_resolver {
    unsigned groups;            /* enum facts_group bits allowed */
    const struct facts_fn *fns; /* borrowed, n_fns entries */
    size_t n_fns;
    void *ud; /* passed to check(); only used while compiling */
    struct facts_call *calls;
    size_t n_calls;
    size_t cap;
};

/* fns is borrowed and must outlive the resolver; ud is borrowed. */
void facts_resolver_init(struct facts_resolver *r, unsigned groups, const struct facts_fn *fns,
                         size_t n_fns, void *ud);
void facts_resolver_release(struct facts_resolver *r);

/* A schema for rule_compile that resolves through r (borrowed for the compile). */
struct rule_schema facts_resolver_schema(struct facts_resolver *r);

/* Size a fact vector needs for every program compiled through r. */
size_t facts_resolver_slot_count(const struct facts_resolver *r);

/*
 * The call behind a dynamic slot, or NULL for a fixed slot or out of range.
 * Borrowed: valid until the resolver is released or resolves a new call.
 */
const struct facts_call *facts_resolver_call(const struct facts_resolver *r, size_t slot);

#endif /* TRF_FACTS_H */
