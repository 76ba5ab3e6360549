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
 * Evidence: what a yes (a concern answer) to an instrument item establishes.
 * A fixed vocabulary: every item declares its classes, and rules read them as
 * evidence("commercial_sex"), ffc, risk_count and disclosure_kind. Never
 * reorder: FACTS_EVIDENCE_FIRST + class is a fact slot and bit class of an
 * evidence mask. Names are what files and stored outcomes use.
 *   commercial_sex       anything of value given or received for a sex act, by or
 *                        for the person (for a minor this alone is sex trafficking)
 *   force, fraud,        the means of DOMAIN "Evidence versus risk"; coercion is
 *   coercion             debt, documents or earnings held, threats, not free to
 *                        leave, isolation
 *   labour_exploitation  work under such conditions, forced crime, domestic servitude
 *   risk                 a reason to assess, never a finding (running away,
 *                        homelessness, older partner, branding, street language,
 *                        school absence, substance use, system involvement, ...)
 *   disclosure           the person says it is happening; it has a kind
 */
enum facts_evidence {
    FACTS_EVIDENCE_COMMERCIAL_SEX = 0,
    FACTS_EVIDENCE_FORCE,
    FACTS_EVIDENCE_FRAUD,
    FACTS_EVIDENCE_COERCION,
    FACTS_EVIDENCE_LABOUR_EXPLOITATION,
    FACTS_EVIDENCE_RISK,
    FACTS_EVIDENCE_DISCLOSURE,
    FACTS_EVIDENCE__COUNT
};

/* A set of evidence classes: bit i is enum facts_evidence i. */
typedef unsigned facts_evidence_mask;
#define FACTS_EVIDENCE_BIT(c) (1u << (unsigned)(c))
#define FACTS_EVIDENCE_FFC                                                                         \
    (FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_FORCE) | FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_FRAUD) |         \
     FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COERCION))

/* What a disclosure is about; it decides where the forensic interview goes. */
enum facts_disclosure_kind {
    FACTS_DISCLOSURE_NONE = 0, /* no disclosure */
    FACTS_DISCLOSURE_SEX,
    FACTS_DISCLOSURE_LABOUR,
    FACTS_DISCLOSURE_BOTH,
    FACTS_DISCLOSURE_UNCLEAR,
    FACTS_DISCLOSURE__COUNT
};

/*
 * The time a deadline (a referral's or a suggested screening's due_hours)
 * counts from. DOMAIN: deadlines run from the event, not from when it was
 * typed in: a return recorded a week late is overdue at once. "now" is the
 * decision or the trigger; a time the case does not have counts from now.
 * The database applies it (it holds the case's times).
 */
enum facts_due_from {
    FACTS_DUE_FROM_NOW = 0,
    FACTS_DUE_FROM_RUNAWAY_START,
    FACTS_DUE_FROM_RUNAWAY_RETURN,
    FACTS_DUE_FROM__COUNT
};

/* "now", "runaway_start", "runaway_return"; NULL when out of range. */
const char *facts_due_from_name(enum facts_due_from f);

/* Static names ("commercial_sex"; "sex", NULL for none); NULL when out of range. */
const char *facts_evidence_name(enum facts_evidence c);
const char *facts_disclosure_kind_name(enum facts_disclosure_kind k);
/* Class or kind of a name, or -1 ("none" is no kind a file may write). */
int facts_evidence_lookup(const char *name);
int facts_disclosure_kind_lookup(const char *name);
/* "commercial_sex, force, ..." into buf (size len), for messages; returns buf. */
const char *facts_evidence_names(char *buf, size_t len);
const char *facts_disclosure_kind_names(char *buf, size_t len);

/*
 * The kind two disclosures add up to: sex and labour make both; unclear
 * yields to a known kind; none yields to anything.
 */
enum facts_disclosure_kind facts_disclosure_kind_join(enum facts_disclosure_kind a,
                                                      enum facts_disclosure_kind b);

/*
 * What one screening's evidence is, as every reader sees it. classes holds
 * the classes some concern answer established; risk_count the number of
 * risk items with a concern; disclosure the kind (NONE unless the class
 * disclosure is in classes).
 */
struct facts_evidence_set {
    facts_evidence_mask classes;
    int risk_count;
    enum facts_disclosure_kind disclosure;
};

/* Sets the evidence facts (evidence(...), ffc, risk_count, disclosure_kind) from ev. */
void facts_evidence_fill(const struct facts_evidence_set *ev, struct rule_value *facts);

/*
 * Fixed slots of every fact vector; dynamic slots (calls) follow from
 * FACTS__COUNT. Numbers live only as long as a loaded configuration: programs
 * are compiled at each load and stored traces name facts by their names, so
 * never store a slot number.
 */
enum facts_slot_id {
    /* case facts: known whenever a case exists */
    FACTS_MINOR = 0,        /* bool: the minor pathway: under 18, or possibly (below) */
    FACTS_AGE,              /* num: years, null if unknown */
    FACTS_AGE_KNOWN,        /* bool: age from a date of birth */
    FACTS_AGE_ESTIMATED,    /* bool: age from an estimate */
    FACTS_PATHWAY,          /* str: "minor", "adult", "minor_unknown_age", "possibly_minor" */
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
    /* age as the law sees it (screening/scoring.h "Age") */
    FACTS_POSSIBLY_MINOR,     /* bool: age unknown, disputed, or a range reaching under 18 */
    FACTS_AGE_HIGH,           /* num: high end of the age range; null if unknown */
    FACTS_AGE_DISPUTED,       /* bool */
    FACTS_EXPLOITATION_AGE,   /* num: low end of the age when exploitation began; null */
    FACTS_EXPLOITED_AS_MINOR, /* bool: exploitation began (possibly) under 18 */
    FACTS_MISSING,            /* bool: a runaway episode started and no return yet */
    FACTS_AGENCY_KIND,        /* str: the case's agency's kind ("child_welfare", ...) */
    /* routing policy facts: known where the routing configuration is */
    FACTS_CHILD_WELFARE_AGE,       /* num: age up to which the state's child welfare serves */
    FACTS_UNDER_CHILD_WELFARE_AGE, /* bool: 18 or over and under child_welfare_age */
    FACTS_EVENT,                   /* str: "created", "updated", "note_added", "closed", "tick" */
    /* screening facts: known only once a screening has been scored */
    FACTS_BAND,       /* str */
    FACTS_RESULT,     /* str: "negative", "possible", "positive", "incomplete" */
    FACTS_SCORE,      /* num */
    FACTS_DISCLOSURE, /* bool */
    /* what the screening's concern answers are evidence of (see "Evidence" below) */
    FACTS_EVIDENCE_FIRST, /* bool each: evidence("class"), FACTS_EVIDENCE_FIRST + class */
    FACTS_EVIDENCE_LAST = FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE__COUNT - 1,
    FACTS_FFC,             /* bool: evidence of force, fraud or coercion */
    FACTS_RISK_COUNT,      /* num: risk items answered with a concern */
    FACTS_DISCLOSURE_KIND, /* str: "sex", "labour", "both", "unclear"; null without disclosure */
    FACTS__COUNT
};

/* Which fixed facts a context may name. */
enum facts_group {
    FACTS_GROUP_CASE = 1u << 0,
    FACTS_GROUP_SCREENING = 1u << 1,
    FACTS_GROUP_POLICY = 1u << 2, /* routing only: from the routing configuration */
    FACTS_GROUP_ALL = FACTS_GROUP_CASE | FACTS_GROUP_SCREENING | FACTS_GROUP_POLICY,
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
 * release with facts_resolver_release. A new field here or in facts_call is
 * packed in cache/cfgcache.c too.
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
