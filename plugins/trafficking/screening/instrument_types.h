/*
 * instrument_types.h: the types of a loaded screening instrument and its
 * items, shared by instrument.c (files and sets) and instrument_item.c (items).
 *
 * Definitions only: no .c file owns this header, so both modules can use the
 * types without depending on each other. Functions live in instrument.h.
 */
#ifndef TRF_INSTRUMENT_TYPES_H
#define TRF_INSTRUMENT_TYPES_H

#include <stddef.h>

#include "cfg/cfgread.h"
#include "rules/facts.h"
#include "rules/rule.h"

enum instrument_domain {
    INSTRUMENT_DOMAIN_CONTROL = 0,
    INSTRUMENT_DOMAIN_RECRUITMENT,
    INSTRUMENT_DOMAIN_CONDITIONS,
    INSTRUMENT_DOMAIN_SEX_TRAFFICKING,
    INSTRUMENT_DOMAIN_LABOUR,
    INSTRUMENT_DOMAIN_MINORS,
    INSTRUMENT_DOMAIN_HEALTH,
    INSTRUMENT_DOMAIN__COUNT
};

enum instrument_kind { INSTRUMENT_KIND_YES_NO = 0, INSTRUMENT_KIND_CHOICE, INSTRUMENT_KIND_COUNT };

enum instrument_method {
    INSTRUMENT_ANY_YES = 0,
    INSTRUMENT_COUNT_AT_LEAST,
    INSTRUMENT_WEIGHTED,
};

enum instrument_mode { INSTRUMENT_INTERVIEW = 0, INSTRUMENT_OBSERVATION };

/* Functions show_if may call; the fn index of a struct facts_call. */
enum instrument_fn {
    INSTRUMENT_FN_INDICATOR = 0, /* bool: the item's answer is a concern; target = item index */
    INSTRUMENT_FN_ANSWERED,      /* bool: yes, no or a value; target = item index */
    INSTRUMENT_FN_DOMAIN_SCORE,  /* num: concern weight so far; target = domain */
    INSTRUMENT_FN__COUNT
};

/*
 * A new field in these structures is packed in cache/cfgcache.c too: a
 * compiled configuration must decide exactly as the files do.
 */
struct instrument_item {
    char *id;
    char *prompt;
    enum instrument_domain domain;
    enum instrument_kind kind;
    int key;                /* a concern answer makes the screen positive */
    int disclosure;         /* a yes stops the screening */
    int weight;             /* 1 unless the method is weighted */
    char **choices;         /* choice items: n_choices labels */
    unsigned char *concern; /* choice items: concern[i] != 0 when choice i is a concern */
    size_t n_choices;
    long long concern_at;      /* count items: a value >= concern_at is a concern */
    struct rule_prog *show_if; /* NULL: always shown */
    int line;
    /* What a concern answer establishes (rules/facts.h "Evidence"): declared in the
     * file, or by the class-mapping file of an earlier version. 0 until known. */
    facts_evidence_mask evidence;
    enum facts_disclosure_kind disclosure_kind; /* NONE unless evidence has disclosure */
};

struct instrument {
    char *id;
    int version;
    char *title;
    char *purpose;
    char *source;
    int min_age; /* valid age range, inclusive */
    int max_age;
    enum instrument_mode mode;
    int requires_training;
    int min_answered;
    enum instrument_method method;
    int at_least;    /* count_at_least: n; any_yes: 1; weighted: 0 */
    int possible_at; /* weighted only */
    int clear_at;    /* weighted only */
    struct instrument_item *items;
    size_t n_items;
    struct facts_resolver resolver; /* slots of the calls in show_if programs */
    char *path;                     /* file it was loaded from */
    char *text;                     /* raw file text, exactly what was hashed */
    size_t text_len;
    char hash[CFGREAD_HASH_LEN + 1]; /* SHA-256 of text, lowercase hex */
    int line;                        /* of the instrument group */
    /*
     * Where the items' evidence classes come from: the definition itself (a
     * version written with classes), a class-mapping file (an earlier version,
     * whose text and hash must not change), or nowhere yet (0): a set never
     * holds an instrument without classes.
     */
    int classes_declared;
    char *classes_path; /* the class-mapping file, or NULL when declared in the definition */
};

/* Instruments in file-name order. */
struct instrument_set {
    struct instrument **v;
    size_t n;
};

#endif /* TRF_INSTRUMENT_TYPES_H */
