/*
 * routing_input.c: the routing input as plain data, and its two written forms:
 * JSON (what a decision stores, so it can be replayed) and a libconfig group
 * (fixtures and what-if case files). One reader serves both forms, so they
 * can never disagree about a member.
 *
 * Never fills an input from the database (the caller does) and never guesses:
 * an absent flag is false, an absent age is unknown (the minor pathway).
 */
#include "routing/routing.h"
#include "screening/evidence.h"
#include "screening/scoring.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTING_MAX_AGE 130

/* ------------------------------------------------------------ plain data --- */

void routing_input_init(struct routing_input *in)
{
    memset(in, 0, sizeof(*in));
    in->age = -1;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void routing_input_release(struct routing_input *in)
{
    free_strings(in->indicators, in->n_indicators);
    for (size_t i = 0; i < in->n_consents; i++) {
        free(in->consents[i].purpose);
        free_strings(in->consents[i].recipients, in->consents[i].n_recipients);
    }
    free(in->consents);
    free_strings(in->safe_contact.safe_channels, in->safe_contact.n_safe_channels);
    routing_input_init(in);
}

/* Appends a copy of s to *v; 0 or -1 without memory. Grows one at a time: inputs are small. */
static int push_string(char ***v, size_t *n, const char *s)
{
    char **grown = realloc(*v, (*n + 1) * sizeof(**v));
    if (grown == NULL)
        return -1;
    *v = grown;
    if ((grown[*n] = strdup(s)) == NULL)
        return -1;
    (*n)++;
    return 0;
}

int routing_input_add_indicator(struct routing_input *in, const char *item_id)
{
    return push_string(&in->indicators, &in->n_indicators, item_id);
}

int routing_input_add_safe_channel(struct routing_input *in, const char *channel)
{
    return push_string(&in->safe_contact.safe_channels, &in->safe_contact.n_safe_channels, channel);
}

int routing_input_add_consent(struct routing_input *in, int64_t id, const char *purpose,
                              const char *const *recipients, size_t n, int active)
{
    struct routing_consent *grown = realloc(in->consents, (in->n_consents + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    in->consents = grown;
    struct routing_consent *c = &grown[in->n_consents++];
    memset(c, 0, sizeof(*c));
    c->id = id;
    c->active = active != 0;
    if ((c->purpose = strdup(purpose)) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (push_string(&c->recipients, &c->n_recipients, recipients[i]) != 0)
            return -1;
    return 0;
}

/* The age rule is scoring's (scoring_age_of): screening and routing share one. */
int routing_input_minor(const struct routing_input *in)
{
    return scoring_age_of(in->age, in->age_known, in->age_estimated).minor;
}

const char *routing_input_pathway(const struct routing_input *in)
{
    return scoring_age_of(in->age, in->age_known, in->age_estimated).pathway;
}

/* -------------------------------------------------------------- evidence --- */

int routing_input_evidence(const struct routing_input *in, const struct instrument_set *instruments,
                           struct facts_evidence_set *out)
{
    const struct instrument *inst = NULL;
    evidence_init(out);
    if (!in->screening.present || instruments == NULL)
        return 0;
    /* The screening's own version: an earlier one has its classes from its mapping file. */
    inst = instrument_set_find(instruments, in->screening.instrument, in->screening.version);
    if (inst == NULL)
        return 0;
    evidence_of_items(inst, in->indicators, in->n_indicators, out);
    return 1;
}

int routing_input_check_screening(const struct routing_input *in,
                                  const struct instrument_set *instruments, char *err,
                                  size_t errlen)
{
    const struct instrument *inst;
    if (!in->screening.present || instruments == NULL)
        return 0;
    inst = instrument_set_find(instruments, in->screening.instrument, in->screening.version);
    if (inst == NULL) {
        if (in->screening.version > 0)
            snprintf(err, errlen, "screening: instrument '%s' version %d is not loaded",
                     in->screening.instrument, in->screening.version);
        else
            snprintf(err, errlen, "screening: no instrument '%s' is loaded",
                     in->screening.instrument);
        return -1;
    }
    for (size_t i = 0; i < in->n_indicators; i++)
        if (instrument_item_index(inst, in->indicators[i]) < 0) {
            snprintf(err, errlen, "indicators: '%s' is no item of instrument '%s' version %d",
                     in->indicators[i], inst->id, inst->version);
            return -1;
        }
    return 0;
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
    facts[FACTS_DISCLOSURE] = (struct rule_value){.type = RULE_BOOL, .u.b = in->screening.stopped};
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

json_t *routing_input_evidence_json(const struct routing_input *in,
                                    const struct instrument_set *instruments)
{
    struct facts_evidence_set ev;
    json_t *a;
    if (!routing_input_evidence(in, instruments, &ev))
        return json_null();
    a = json_array();
    for (int c = 0; a != NULL && c < FACTS_EVIDENCE__COUNT; c++) {
        /* Risk is never what a report is about; a disclosure is its screening's (the ledger's). */
        if (!(ev.classes & FACTS_EVIDENCE_BIT(c)) || c == FACTS_EVIDENCE_RISK ||
            c == FACTS_EVIDENCE_DISCLOSURE)
            continue;
        if (json_array_append_new(a, json_string(facts_evidence_name((enum facts_evidence)c))) !=
            0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* ----------------------------------------------------------------- flags --- */

static const struct {
    const char *name;
    size_t off;
} flag_members[] = {
    {"foreign_national", offsetof(struct routing_input, foreign_national)},
    {"imminent_danger", offsetof(struct routing_input, imminent_danger)},
    {"recruitment", offsetof(struct routing_input, recruitment)},
    {"control", offsetof(struct routing_input, control)},
    {"runaway_return", offsetof(struct routing_input, runaway_return)},
    {"cw_history", offsetof(struct routing_input, cw_history)},
    {"jj_history", offsetof(struct routing_input, jj_history)},
};
#define N_FLAGS (sizeof(flag_members) / sizeof(flag_members[0]))

static int *flag_at(struct routing_input *in, size_t i)
{
    return (int *)((char *)in + flag_members[i].off);
}

static int flag_get(const struct routing_input *in, size_t i)
{
    return *(const int *)((const char *)in + flag_members[i].off);
}

/* --------------------------------------------------------------- to JSON --- */

static json_t *str_or_null(const char *s)
{
    return s[0] != '\0' ? json_string(s) : json_null();
}

/* A new array of copies of v[0 .. n-1]; NULL without memory. */
static json_t *string_array(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *routing_input_to_json(const struct routing_input *in)
{
    json_t *j = json_object(), *flags = json_object(), *consents = json_array();
    json_t *safe = json_object(), *scores = NULL, *screening = json_null();
    if (j == NULL || flags == NULL || consents == NULL || safe == NULL)
        goto fail;
    for (size_t i = 0; i < N_FLAGS; i++)
        json_object_set_new(flags, flag_members[i].name, json_boolean(flag_get(in, i)));
    for (size_t i = 0; i < in->n_consents; i++) {
        const struct routing_consent *c = &in->consents[i];
        json_t *one = json_pack("{s:I,s:s,s:o,s:b}", "id", (json_int_t)c->id, "purpose", c->purpose,
                                "recipients", string_array(c->recipients, c->n_recipients),
                                "active", c->active);
        if (json_array_append_new(consents, one) != 0)
            goto fail;
    }
    json_object_set_new(safe, "do_not_contact", json_boolean(in->safe_contact.do_not_contact));
    json_object_set_new(safe, "trafficker_controls_phone",
                        json_boolean(in->safe_contact.trafficker_controls_phone));
    json_object_set_new(
        safe, "safe_channels",
        string_array(in->safe_contact.safe_channels, in->safe_contact.n_safe_channels));
    if (in->screening.present) {
        json_decref(screening);
        screening =
            json_pack("{s:I,s:s,s:i,s:s,s:o,s:f,s:b}", "id", (json_int_t)in->screening.id,
                      "instrument", in->screening.instrument, "version", in->screening.version,
                      "result", in->screening.result, "band", str_or_null(in->screening.band),
                      "score", in->screening.score, "stopped", in->screening.stopped);
        scores = json_object();
        for (int d = 0; scores != NULL && d < INSTRUMENT_DOMAIN__COUNT; d++)
            json_object_set_new(scores, instrument_domain_name((enum instrument_domain)d),
                                json_real(in->domain_score[d]));
    }
    if (screening == NULL || (in->screening.present && scores == NULL))
        goto fail;
    json_object_set_new(j, "case_id", json_integer((json_int_t)in->case_id));
    json_object_set_new(j, "age", in->age >= 0 ? json_integer(in->age) : json_null());
    json_object_set_new(j, "age_known", json_boolean(in->age_known));
    json_object_set_new(j, "age_estimated", json_boolean(in->age_estimated));
    json_object_set_new(j, "gender", str_or_null(in->gender));
    json_object_set_new(j, "state", str_or_null(in->state));
    json_object_set_new(j, "county", str_or_null(in->county));
    json_object_set_new(j, "flags", flags);
    json_object_set_new(j, "runaway_episodes", json_integer(in->runaway_episodes));
    json_object_set_new(j, "screening", screening);
    json_object_set_new(j, "indicators", string_array(in->indicators, in->n_indicators));
    json_object_set_new(j, "domain_scores", scores != NULL ? scores : json_null());
    json_object_set_new(j, "consents", consents);
    json_object_set_new(j, "safe_contact", safe);
    return j;
fail:
    json_decref(j);
    json_decref(flags);
    json_decref(consents);
    json_decref(safe);
    json_decref(scores);
    json_decref(screening);
    return NULL;
}

/* ---------------------------------------------- one reader, two sources --- */

/* A value in either written form: exactly one of j and s is set, or neither (absent). */
struct src {
    const json_t *j;
    const config_setting_t *s;
};

enum src_type { SRC_ABSENT, SRC_NULL, SRC_BOOL, SRC_INT, SRC_REAL, SRC_STR, SRC_LIST, SRC_GROUP };

struct reader {
    struct cfgread *r; /* libconfig form: problems are reported here */
    char *err;         /* JSON form: the first problem is written here */
    size_t errlen;
    int failed;
    int line; /* libconfig form: the line of the enclosing group, for absent members */
};

static enum src_type src_type(struct src v)
{
    if (v.j != NULL) {
        switch (json_typeof(v.j)) {
        case JSON_NULL:
            return SRC_NULL;
        case JSON_TRUE:
        case JSON_FALSE:
            return SRC_BOOL;
        case JSON_INTEGER:
            return SRC_INT;
        case JSON_REAL:
            return SRC_REAL;
        case JSON_STRING:
            return SRC_STR;
        case JSON_ARRAY:
            return SRC_LIST;
        default:
            return SRC_GROUP;
        }
    }
    if (v.s == NULL)
        return SRC_ABSENT;
    switch (config_setting_type(v.s)) {
    case CONFIG_TYPE_BOOL:
        return SRC_BOOL;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return SRC_INT;
    case CONFIG_TYPE_FLOAT:
        return SRC_REAL;
    case CONFIG_TYPE_STRING:
        return SRC_STR;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST:
        return SRC_LIST;
    default:
        return SRC_GROUP;
    }
}

static struct src src_member(struct src v, const char *name)
{
    struct src m = {0};
    if (v.j != NULL && json_is_object(v.j))
        m.j = json_object_get(v.j, name);
    else if (v.s != NULL && config_setting_is_group(v.s))
        m.s = config_setting_get_member(v.s, name);
    return m;
}

static size_t src_len(struct src v)
{
    return v.j != NULL ? json_array_size(v.j) : (size_t)config_setting_length(v.s);
}

static struct src src_elem(struct src v, size_t i)
{
    struct src e = {0};
    if (v.j != NULL)
        e.j = json_array_get(v.j, i);
    else
        e.s = config_setting_get_elem(v.s, (unsigned)i);
    return e;
}

static const char *src_key(struct src v, size_t i)
{
    if (v.j != NULL) {
        /* jansson keeps insertion order; walk to the i-th key. */
        const char *key;
        json_t *val;
        size_t k = 0;
        json_object_foreach((json_t *)v.j, key, val)
        {
            (void)val;
            if (k++ == i)
                return key;
        }
        return NULL;
    }
    return config_setting_name(config_setting_get_elem(v.s, (unsigned)i));
}

static size_t src_n_keys(struct src v)
{
    return v.j != NULL ? json_object_size(v.j) : (size_t)config_setting_length(v.s);
}

static void fail(struct reader *rd, struct src at, const char *path, const char *fmt, ...)
    CFGREAD_PRINTF(4, 5);

static void fail(struct reader *rd, struct src at, const char *path, const char *fmt, ...)
{
    char body[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    if (rd->r != NULL)
        cfgread_error(rd->r, at.s != NULL ? cfgread_line(at.s) : rd->line, 0, NULL, "%s: %s", path,
                      body);
    else if (!rd->failed)
        snprintf(rd->err, rd->errlen, "%s: %s", path, body);
    rd->failed = 1;
}

static const char *type_word(enum src_type t)
{
    static const char *const words[] = {"absent",   "null",     "true or false", "an integer",
                                        "a number", "a string", "a list",        "a group"};
    return words[t];
}

/* 1 when v has type want (or is null/absent and may be); reports otherwise. */
static int expect(struct reader *rd, struct src v, const char *path, enum src_type want)
{
    enum src_type t = src_type(v);
    if (t == want || (want == SRC_REAL && t == SRC_INT))
        return 1;
    if (t != SRC_ABSENT && t != SRC_NULL)
        fail(rd, v, path, "must be %s", type_word(want));
    return 0;
}

static int read_bool(struct reader *rd, struct src g, const char *name, const char *path, int *out)
{
    struct src v = src_member(g, name);
    if (!expect(rd, v, path, SRC_BOOL))
        return 0;
    *out = v.j != NULL ? json_is_true(v.j) : config_setting_get_bool(v.s) != 0;
    return 1;
}

static int read_int(struct reader *rd, struct src g, const char *name, const char *path,
                    long long min, long long max, long long *out)
{
    struct src v = src_member(g, name);
    if (!expect(rd, v, path, SRC_INT))
        return 0;
    long long x = v.j != NULL ? (long long)json_integer_value(v.j) : config_setting_get_int64(v.s);
    if (x < min || x > max) {
        fail(rd, v, path, "must be between %lld and %lld (got %lld)", min, max, x);
        return 0;
    }
    *out = x;
    return 1;
}

static int read_real(struct reader *rd, struct src g, const char *name, const char *path,
                     double *out)
{
    struct src v = src_member(g, name);
    if (!expect(rd, v, path, SRC_REAL))
        return 0;
    if (v.j != NULL)
        *out = json_number_value(v.j);
    else
        *out = src_type(v) == SRC_INT ? (double)config_setting_get_int64(v.s)
                                      : config_setting_get_float(v.s);
    return 1;
}

/* Copies a string member into buf (size len); too long is an error. */
static int read_str(struct reader *rd, struct src g, const char *name, const char *path, char *buf,
                    size_t len)
{
    struct src v = src_member(g, name);
    if (!expect(rd, v, path, SRC_STR))
        return 0;
    const char *s = v.j != NULL ? json_string_value(v.j) : config_setting_get_string(v.s);
    if (strlen(s) >= len) {
        fail(rd, v, path, "is longer than %zu characters", len - 1);
        return 0;
    }
    memcpy(buf, s, strlen(s) + 1);
    return 1;
}

static const char *str_value(struct src v)
{
    return v.j != NULL ? json_string_value(v.j) : config_setting_get_string(v.s);
}

/* Appends the strings of list member `name` to *v, each passing check (may be NULL); 0 or -1. */
static int read_strings(struct reader *rd, struct src g, const char *name, const char *path,
                        int (*check)(struct reader *, struct src, const char *, const char *),
                        char ***v, size_t *n)
{
    struct src a = src_member(g, name);
    if (!expect(rd, a, path, SRC_LIST))
        return 0;
    for (size_t i = 0; i < src_len(a); i++) {
        struct src e = src_elem(a, i);
        if (src_type(e) != SRC_STR) {
            fail(rd, a, path, "must hold strings");
            return -1;
        }
        if (check != NULL && check(rd, a, path, str_value(e)) != 0)
            continue;
        if (push_string(v, n, str_value(e)) != 0) {
            fail(rd, a, path, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Every key of group g must be one of allowed (NULL-terminated). */
static void known_keys(struct reader *rd, struct src g, const char *path,
                       const char *const *allowed)
{
    for (size_t i = 0; i < src_n_keys(g); i++) {
        const char *key = src_key(g, i);
        size_t k = 0;
        while (allowed[k] != NULL && strcmp(allowed[k], key) != 0)
            k++;
        if (allowed[k] == NULL) {
            struct src at =
                g.j != NULL ? g : (struct src){.s = config_setting_get_elem(g.s, (unsigned)i)};
            fail(rd, at, path[0] ? path : "input", "unknown member '%s'", key);
        }
    }
}

static int check_ident(struct reader *rd, struct src at, const char *path, const char *s)
{
    if (cfgread_is_ident(s))
        return 0;
    fail(rd, at, path, "'%s' must be lowercase letters, digits and '_'", s);
    return -1;
}

static int check_recipient(struct reader *rd, struct src at, const char *path, const char *s)
{
    if (strncmp(s, "kind:", 5) == 0 && routing_kind_lookup(s + 5) < 0) {
        fail(rd, at, path, "unknown destination kind '%s'", s + 5);
        return -1;
    }
    return strncmp(s, "kind:", 5) == 0 ? 0 : check_ident(rd, at, path, s);
}

/* ------------------------------------------------------------- sections --- */

static void read_screening(struct reader *rd, struct src g, struct routing_input *in)
{
    static const char *const members[] = {"id",   "instrument", "version", "result",
                                          "band", "score",      "stopped", NULL};
    static const char *const results[] = {"negative", "possible", "positive", "incomplete"};
    long long v = 0;
    if (!expect(rd, g, "screening", SRC_GROUP))
        return;
    known_keys(rd, g, "screening", members);
    in->screening.present = 1;
    if (read_int(rd, g, "id", "screening.id", 0, INT64_MAX, &v))
        in->screening.id = v;
    if (!read_str(rd, g, "instrument", "screening.instrument", in->screening.instrument,
                  sizeof(in->screening.instrument)))
        fail(rd, g, "screening", "needs 'instrument'");
    if (read_int(rd, g, "version", "screening.version", 1, 1000000, &v))
        in->screening.version = (int)v;
    if (read_str(rd, g, "result", "screening.result", in->screening.result,
                 sizeof(in->screening.result))) {
        size_t k = 0;
        while (k < 4 && strcmp(results[k], in->screening.result) != 0)
            k++;
        if (k == 4)
            fail(rd, src_member(g, "result"), "screening.result",
                 "unknown result '%s' (expected one of negative, possible, positive, "
                 "incomplete)",
                 in->screening.result);
    } else {
        fail(rd, g, "screening", "needs 'result'");
    }
    read_str(rd, g, "band", "screening.band", in->screening.band, sizeof(in->screening.band));
    read_real(rd, g, "score", "screening.score", &in->screening.score);
    read_bool(rd, g, "stopped", "screening.stopped", &in->screening.stopped);
}

static void read_domain_scores(struct reader *rd, struct src g, struct routing_input *in)
{
    const char *names[INSTRUMENT_DOMAIN__COUNT + 1];
    char path[64];
    if (!expect(rd, g, "domain_scores", SRC_GROUP))
        return;
    for (int d = 0; d < INSTRUMENT_DOMAIN__COUNT; d++)
        names[d] = instrument_domain_name((enum instrument_domain)d);
    names[INSTRUMENT_DOMAIN__COUNT] = NULL;
    known_keys(rd, g, "domain_scores", names);
    for (int d = 0; d < INSTRUMENT_DOMAIN__COUNT; d++) {
        snprintf(path, sizeof(path), "domain_scores.%s", names[d]);
        read_real(rd, g, names[d], path, &in->domain_score[d]);
    }
}

static void read_consents(struct reader *rd, struct src a, struct routing_input *in)
{
    static const char *const members[] = {"id", "purpose", "recipients", "active", NULL};
    char path[64];
    if (!expect(rd, a, "consents", SRC_LIST))
        return;
    for (size_t i = 0; i < src_len(a); i++) {
        struct src g = src_elem(a, i);
        char purpose[64] = "";
        long long id = 0;
        int active = 0;
        snprintf(path, sizeof(path), "consents[%zu]", i);
        if (src_type(g) != SRC_GROUP) {
            fail(rd, g, path, "must be a group");
            continue;
        }
        known_keys(rd, g, path, members);
        if (!read_int(rd, g, "id", path, 1, INT64_MAX, &id))
            fail(rd, g, path, "needs 'id'");
        if (!read_str(rd, g, "purpose", path, purpose, sizeof(purpose)))
            fail(rd, g, path, "needs 'purpose'");
        else
            check_ident(rd, src_member(g, "purpose"), path, purpose);
        if (!read_bool(rd, g, "active", path, &active))
            fail(rd, g, path, "needs 'active'");
        if (routing_input_add_consent(in, id, purpose, NULL, 0, active) != 0) {
            fail(rd, g, path, "out of memory");
            return;
        }
        struct routing_consent *c = &in->consents[in->n_consents - 1];
        read_strings(rd, g, "recipients", path, check_recipient, &c->recipients, &c->n_recipients);
        if (c->n_recipients == 0)
            fail(rd, g, path, "needs at least one recipient");
    }
}

static void read_safe_contact(struct reader *rd, struct src g, struct routing_input *in)
{
    static const char *const members[] = {"do_not_contact", "trafficker_controls_phone",
                                          "safe_channels", NULL};
    if (!expect(rd, g, "safe_contact", SRC_GROUP))
        return;
    known_keys(rd, g, "safe_contact", members);
    read_bool(rd, g, "do_not_contact", "safe_contact.do_not_contact",
              &in->safe_contact.do_not_contact);
    read_bool(rd, g, "trafficker_controls_phone", "safe_contact.trafficker_controls_phone",
              &in->safe_contact.trafficker_controls_phone);
    read_strings(rd, g, "safe_channels", "safe_contact.safe_channels", check_ident,
                 &in->safe_contact.safe_channels, &in->safe_contact.n_safe_channels);
}

static void read_age(struct reader *rd, struct src g, struct routing_input *in)
{
    long long age = -1;
    struct src v = src_member(g, "age");
    if (src_type(v) == SRC_INT &&
        (v.j != NULL ? json_integer_value(v.j) : config_setting_get_int64(v.s)) == -1)
        age = -1; /* libconfig has no null: -1 is unknown */
    else if (read_int(rd, g, "age", "age", 0, ROUTING_MAX_AGE, &age) == 0)
        age = -1;
    in->age = (int)age;
    read_bool(rd, g, "age_known", "age_known", &in->age_known);
    read_bool(rd, g, "age_estimated", "age_estimated", &in->age_estimated);
    if (in->age_known && in->age_estimated)
        fail(rd, g, "age_known", "an age is known or estimated, not both");
    else if (in->age >= 0 && !in->age_known && !in->age_estimated)
        fail(rd, src_member(g, "age"), "age",
             "say whether it is known (age_known) or "
             "estimated (age_estimated)");
    else if (in->age < 0 && (in->age_known || in->age_estimated))
        fail(rd, g, "age", "age_known or age_estimated needs an age");
}

static void read_flags(struct reader *rd, struct src g, struct routing_input *in)
{
    const char *names[N_FLAGS + 1];
    char path[64];
    if (!expect(rd, g, "flags", SRC_GROUP))
        return;
    for (size_t i = 0; i < N_FLAGS; i++)
        names[i] = flag_members[i].name;
    names[N_FLAGS] = NULL;
    known_keys(rd, g, "flags", names);
    for (size_t i = 0; i < N_FLAGS; i++) {
        snprintf(path, sizeof(path), "flags.%s", names[i]);
        read_bool(rd, g, names[i], path, flag_at(in, i));
    }
}

static int read_input(struct reader *rd, struct src g, struct routing_input *out)
{
    static const char *const members[] = {
        "case_id",    "age",           "age_known", "age_estimated",    "gender",
        "state",      "county",        "flags",     "runaway_episodes", "screening",
        "indicators", "domain_scores", "consents",  "safe_contact",     NULL};
    long long v = 0;
    routing_input_init(out);
    if (src_type(g) != SRC_GROUP) {
        fail(rd, g, "input", "must be %s", g.j != NULL ? "an object" : "a group");
        return -1;
    }
    known_keys(rd, g, "", members);
    if (read_int(rd, g, "case_id", "case_id", 0, INT64_MAX, &v))
        out->case_id = v;
    read_age(rd, g, out);
    read_str(rd, g, "gender", "gender", out->gender, sizeof(out->gender));
    if (read_str(rd, g, "state", "state", out->state, sizeof(out->state)) &&
        !(out->state[0] >= 'A' && out->state[0] <= 'Z' && out->state[1] >= 'A' &&
          out->state[1] <= 'Z' && out->state[2] == '\0'))
        fail(rd, src_member(g, "state"), "state", "'%s' is not a two-letter state code in capitals",
             out->state);
    read_str(rd, g, "county", "county", out->county, sizeof(out->county));
    read_flags(rd, src_member(g, "flags"), out);
    if (read_int(rd, g, "runaway_episodes", "runaway_episodes", 0, 100000, &v))
        out->runaway_episodes = (int)v;
    struct src screening = src_member(g, "screening");
    if (src_type(screening) != SRC_ABSENT && src_type(screening) != SRC_NULL)
        read_screening(rd, screening, out);
    read_strings(rd, g, "indicators", "indicators", check_ident, &out->indicators,
                 &out->n_indicators);
    struct src scores = src_member(g, "domain_scores");
    if (src_type(scores) != SRC_ABSENT && src_type(scores) != SRC_NULL) {
        if (!out->screening.present)
            fail(rd, scores, "domain_scores", "needs a 'screening'");
        read_domain_scores(rd, scores, out);
    }
    if (out->n_indicators > 0 && !out->screening.present)
        fail(rd, src_member(g, "indicators"), "indicators", "needs a 'screening'");
    read_consents(rd, src_member(g, "consents"), out);
    read_safe_contact(rd, src_member(g, "safe_contact"), out);
    return rd->failed ? -1 : 0;
}

int routing_input_from_json(const json_t *j, struct routing_input *out, char *err, size_t errlen)
{
    struct reader rd = {.err = err, .errlen = errlen};
    if (errlen > 0)
        err[0] = '\0';
    return read_input(&rd, (struct src){.j = j}, out);
}

int routing_input_from_setting(struct cfgread *r, const config_setting_t *group,
                               struct routing_input *out)
{
    struct reader rd = {.r = r, .line = cfgread_line(group)};
    return read_input(&rd, (struct src){.s = group}, out);
}
