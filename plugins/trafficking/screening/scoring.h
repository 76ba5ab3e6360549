/*
 * scoring.h: skip logic, stop-on-disclosure and scoring of one screening
 * against one loaded instrument, and the age facts that choose the minor pathway.
 *
 * Pure computation: no I/O, no database. A result belongs to one instrument
 * version; it is never pooled with another instrument's. A positive screen
 * means "assess further", never "confirmed victim".
 *
 * Answers. yes_no items take yes, no, unknown ("don't know"), declined or
 * not_asked. choice items take a value (the index of the choice) and count
 * items a value >= 0; both also take unknown, declined or not_asked.
 * Declined, unknown and not_asked are NEVER treated as no.
 *
 * Skip logic. Items are walked in order. An item with show_if is shown only
 * when show_if is true over the case facts and the answers of the earlier
 * (shown) items; a hidden item counts as not_asked, whatever was stored for it.
 *
 * Disclosure. A yes to a disclosure item stops the screening there: the
 * outcome says stopped, every later item counts as not_asked, and the
 * caller must route to a forensic interview instead of asking more.
 *
 * Scoring. A concern is a yes (yes_no), a choice listed in `concern`, or a
 * count >= concern_at. Each concern adds the item's weight (1 unless the
 * method is weighted) to the score and to its domain's score. An open item
 * is a shown item answered unknown or declined: it might be a concern.
 *   1. a concern on a key item, or a disclosure       -> positive
 *   2. any_yes:        score >= 1                       -> positive
 *      count_at_least: score >= n                       -> positive
 *      weighted:       score >= clear_at                -> positive (clear concern)
 *                      score >= possible_at             -> possible (possible concern)
 *   3. score + weights of open items reaches the first threshold (1, n or
 *      possible_at), or a key item is open: the concern cannot be ruled
 *      out                                              -> possible
 *   4. otherwise                                        -> negative
 *   5. if fewer shown items have a yes, no or value answer than min_answered
 *      (capped at the number of shown items, since a skipped item is not
 *      missing) and the result is not positive          -> incomplete
 *
 * Evidence. Each concern adds its item's evidence classes (evidence.h); the
 * result and band say how strong the concern is, the evidence says what it
 * is. Routing reads the evidence, never the domain scores.
 */
#ifndef TRF_SCORING_H
#define TRF_SCORING_H

#include <stddef.h>

#include "screening/instrument.h"
#include "rules/rule.h"

enum answer_kind {
    ANSWER_NOT_ASKED = 0,
    ANSWER_YES,
    ANSWER_NO,
    ANSWER_UNKNOWN,
    ANSWER_DECLINED,
    ANSWER_VALUE, /* choice index or count, in struct answer.value */
    ANSWER__COUNT
};

struct answer {
    enum answer_kind kind;
    long long value; /* ANSWER_VALUE only */
};

/* Static name ("not_asked", "yes", ..., "value"), or NULL out of range. */
const char *answer_kind_name(enum answer_kind k);
/* Kind of a name, or -1. */
int answer_kind_lookup(const char *name);

enum scoring_result {
    SCORING_NEGATIVE = 0,
    SCORING_POSSIBLE,
    SCORING_POSITIVE,
    SCORING_INCOMPLETE,
};

/* 1 when answer a to item it is a concern (see "Scoring" above). */
int scoring_is_concern(const struct instrument_item *it, const struct answer *a);

/* Static name ("negative", "possible", "positive", "incomplete"), or NULL. */
const char *scoring_result_name(enum scoring_result r);

struct scoring_outcome {
    enum scoring_result result;
    long long score;           /* sum of concern weights: the yes count unless weighted */
    long long reachable;       /* score plus the weights of open (unknown/declined) items */
    int stopped;               /* a disclosure item was answered yes */
    int stop_item;             /* its index, or -1 */
    int key_item;              /* first key item with a concern, or -1 */
    int key_open;              /* a key item was answered unknown or declined */
    int next;                  /* first shown item still not asked, or -1 (none, or stopped) */
    int shown;                 /* items shown by skip logic, up to the stop */
    int skipped;               /* items hidden by show_if */
    int after_stop;            /* items not reached because of a stop */
    int answered;              /* shown items answered yes, no or with a value */
    int counts[ANSWER__COUNT]; /* answers of shown items */
    long long domain_score[INSTRUMENT_DOMAIN__COUNT]; /* concern weight per domain */
    int domain_concerns[INSTRUMENT_DOMAIN__COUNT];    /* concern items per domain */
    /* What the concern answers establish (evidence.h); domain scores are for reporting only. */
    struct facts_evidence_set evidence;
};

/*
 * Scores answers[0 .. inst->n_items-1] (borrowed) with case_facts[0 ..
 * FACTS__COUNT-1] (borrowed; NULL means every fact unknown) for show_if.
 * shown, when not NULL, receives n_items flags: 1 if the item is shown.
 * Returns 0, or -1 with a message in err when an answer does not fit its
 * item ("item 'x': answer 'yes' does not fit a count item") or memory ran out.
 */
int scoring_run(const struct instrument *inst, const struct answer *answers,
                const struct rule_value *case_facts, struct scoring_outcome *out,
                unsigned char *shown, char *err, size_t errlen);

/*
 * Band of an outcome as staff read it: for weighted instruments "no_concern",
 * "possible_concern", "clear_concern" or "incomplete"; otherwise the result
 * name. Static string.
 */
const char *scoring_band(const struct instrument *inst, const struct scoring_outcome *o);

/*
 * Sets the screening facts (band, result, score, disclosure, and the evidence
 * facts: evidence("class"), ffc, risk_count, disclosure_kind) of
 * facts[0 .. FACTS__COUNT-1].
 */
void scoring_fill_facts(const struct instrument *inst, const struct scoring_outcome *o,
                        struct rule_value *facts);

/*
 * Age facts at one date. A date of birth wins over an estimate; with neither
 * the age is unknown. Age unknown, or known or estimated under 18, puts the
 * case on a minor pathway: the law treats a possible minor as a minor.
 */
/*
 * Age as the law sees it (DOMAIN "Age", rule 1). An age is whole years from a
 * date of birth (known), or an estimate with a range [age, age_high]
 * (estimated), or unknown; any of them may be disputed. "minor" is under 18,
 * fixed (the federal test); the minor pathway also takes everyone who is
 * possibly a minor, because rule 1 does: an unknown age, a disputed one, or
 * an estimate whose low end is under 18. A person recorded under 18 stays a
 * minor whatever is disputed.
 */
struct scoring_age {
    int known;           /* from a date of birth */
    int estimated;       /* from an estimate only */
    int age;             /* whole years at the date (the low end); -1 when unknown */
    int age_high;        /* the high end (= age with a date of birth); -1 when unknown */
    int disputed;        /* someone disputes the recorded age */
    int minor;           /* the minor pathway: under 18, or possibly_minor */
    int possibly_minor;  /* on the minor pathway only because the age is uncertain */
    const char *pathway; /* static: "minor", "adult", "minor_unknown_age" or "possibly_minor" */
};

/*
 * The one age rule, for screening and routing alike: the age facts of a
 * whole-years age (-1: unknown) that is known from a date of birth (known)
 * or estimated (estimated), undisputed.
 */
struct scoring_age scoring_age_of(int age, int known, int estimated);

/*
 * The same for a range [low, high] (high < low is read as low: a single
 * number) and a dispute.
 */
struct scoring_age scoring_age_range(int low, int high, int known, int estimated, int disputed);

/*
 * dob: "YYYY-MM-DD" or NULL; estimated_age: 0..130, or -1 for none; on:
 * "YYYY-MM-DD", the date the age is wanted for (an event date, since age at
 * exploitation may differ from age now). A birthday on 29 February counts
 * from 1 March in other years. Returns 0, or -1 with a message in err.
 */
int scoring_age(const char *dob, int estimated_age, const char *on, struct scoring_age *out,
                char *err, size_t errlen);

/* Sets the age facts (minor, age, age_known, age_estimated, pathway, possibly_minor,
 * age_high, age_disputed) of facts[0 .. FACTS__COUNT-1]. */
void scoring_age_fill(const struct scoring_age *a, struct rule_value *facts);

/*
 * 1 when the age is inside the instrument's population range, or unknown (the
 * screener decides); 0 when it is known or estimated outside it.
 */
int scoring_population_fits(const struct instrument *inst, const struct scoring_age *a);

#endif /* TRF_SCORING_H */
