/*
 * routing_input.c: the routing input as plain data, and its two written forms:
 * JSON (what a decision stores, so it can be replayed) and a libconfig group
 * (fixtures and what-if case files). One reader serves both forms, so they
 * can never disagree about a member.
 *
 * Never fills an input from the database (the caller does) and never guesses:
 * an absent flag is false, an absent age is unknown (the minor pathway), a
 * consent whose grant or expiry is not given is not in force, a referral
 * whose delivery is not given was not delivered (routing.h, "Members of the
 * whole picture").
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
    in->age_high = -1;
    in->exploitation.age = -1;
    in->exploitation.age_high = -1;
    in->now = ROUTING_TIME_NONE;
    in->episode = ROUTING_TIME_NONE;
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
    for (size_t i = 0; i < in->n_declines; i++)
        free(in->declines[i].recipient);
    free(in->declines);
    for (size_t i = 0; i < in->n_ledger; i++) {
        free(in->ledger[i].destination);
        free_strings(in->ledger[i].evidence, in->ledger[i].n_evidence);
    }
    free(in->ledger);
    for (size_t i = 0; i < in->n_screenings; i++)
        free_strings(in->screenings[i].indicators, in->screenings[i].n_indicators);
    free(in->screenings);
    routing_input_init(in);
}

routing_time routing_input_now(const struct routing_input *in)
{
    return in->now != ROUTING_TIME_NONE ? in->now : routing_time_now();
}

/*
 * v (n elements of size sz) grown by one zeroed element, or NULL without
 * memory (v is then unchanged). One at a time: inputs are small.
 */
static void *grow_one(void *v, size_t n, size_t sz)
{
    char *grown = realloc(v, (n + 1) * sz);
    if (grown != NULL)
        memset(grown + n * sz, 0, sz);
    return grown;
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
    c->granted_at = c->expires_at = c->revoked_at = ROUTING_TIME_NONE;
    if ((c->purpose = strdup(purpose)) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (push_string(&c->recipients, &c->n_recipients, recipients[i]) != 0)
            return -1;
    return 0;
}

/* The age rule is scoring's (scoring_age_range): screening and routing share one. */
static struct scoring_age input_age(const struct routing_input *in)
{
    return scoring_age_range(in->age, in->age_high, in->age_known, in->age_estimated,
                             in->age_disputed);
}

int routing_input_minor(const struct routing_input *in)
{
    return input_age(in).minor;
}

const char *routing_input_pathway(const struct routing_input *in)
{
    return input_age(in).pathway;
}

void routing_input_age_facts(const struct routing_input *in, struct rule_value *facts)
{
    struct scoring_age a = input_age(in);
    scoring_age_fill(&a, facts);
    if (in->exploitation.present && in->exploitation.age >= 0)
        facts[FACTS_EXPLOITATION_AGE] =
            (struct rule_value){.type = RULE_NUM, .u.n = in->exploitation.age};
    else
        facts[FACTS_EXPLOITATION_AGE] = (struct rule_value){.type = RULE_NULL};
    facts[FACTS_EXPLOITED_AS_MINOR] =
        (struct rule_value){.type = RULE_BOOL, .u.b = routing_input_exploited_as_minor(in)};
}

int routing_input_exploited_as_minor(const struct routing_input *in)
{
    if (!in->exploitation.present)
        return routing_input_minor(in);
    /* Unknown then: possibly a minor then, as an unknown age is now (rule 1). */
    return scoring_age_range(in->exploitation.age, in->exploitation.age_high, 0, 0, 0).minor;
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

/* Sets obj[key] to time t when t is given; 0, or -1 without memory. */
static int set_time(json_t *obj, const char *key, routing_time t)
{
    char buf[ROUTING_TIME_LEN];
    if (t == ROUTING_TIME_NONE)
        return 0;
    return json_object_set_new(obj, key, json_string(routing_time_format(t, buf, sizeof(buf))));
}

static int ledger_entry_json(const struct routing_ledger_entry *e, json_t *a)
{
    json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s}", "referral", (json_int_t)e->referral, "case",
                          (json_int_t)e->case_id, "destination", e->destination, "basis",
                          routing_basis_name(e->basis), "state", e->state);
    if (json_array_append_new(a, o) != 0)
        return -1;
    /* Only what tells the entry apart: an absent member reads back as the same default. */
    return (e->kind[0] != '\0' && json_object_set_new(o, "kind", json_string(e->kind)) != 0) ||
                   set_time(o, "episode", e->episode) != 0 ||
                   (e->n_evidence > 0 &&
                    json_object_set_new(o, "evidence", string_array(e->evidence, e->n_evidence)) !=
                        0) ||
                   (e->disclosure != 0 &&
                    json_object_set_new(o, "disclosure", json_integer(e->disclosure)) != 0) ||
                   set_time(o, "delivered_at", e->delivered_at) != 0 ||
                   (e->outbox[0] != '\0' &&
                    json_object_set_new(o, "outbox", json_string(e->outbox)) != 0)
               ? -1
               : 0;
}

static int screening_json(const struct routing_screening *s, json_t *a)
{
    json_t *o = json_pack("{s:I,s:s,s:i,s:s,s:o,s:f,s:b,s:o}", "id", (json_int_t)s->id,
                          "instrument", s->instrument, "version", s->version, "result", s->result,
                          "band", str_or_null(s->band), "score", s->score, "stopped", s->stopped,
                          "indicators", string_array(s->indicators, s->n_indicators));
    if (json_array_append_new(a, o) != 0)
        return -1;
    return set_time(o, "finished_at", s->finished_at);
}

/*
 * The members of the whole picture (routing.h) into j, each only when it is
 * not the default, so a stored input stays small. 0, or -1 without memory.
 */
static int whole_picture_json(const struct routing_input *in, json_t *j)
{
    json_t *a;
    if (set_time(j, "now", in->now) != 0 || set_time(j, "episode", in->episode) != 0)
        return -1;
    if (in->n_declines > 0) {
        if (json_object_set_new(j, "declines", a = json_array()) != 0)
            return -1;
        for (size_t i = 0; i < in->n_declines; i++) {
            const struct routing_decline *d = &in->declines[i];
            json_t *o = json_pack("{s:I,s:s}", "id", (json_int_t)d->id, "recipient", d->recipient);
            if (json_array_append_new(a, o) != 0 || set_time(o, "declined_at", d->declined_at) != 0)
                return -1;
        }
    }
    if (in->n_ledger > 0) {
        if (json_object_set_new(j, "ledger", a = json_array()) != 0)
            return -1;
        for (size_t i = 0; i < in->n_ledger; i++)
            if (ledger_entry_json(&in->ledger[i], a) != 0)
                return -1;
    }
    if (in->n_screenings > 0) {
        if (json_object_set_new(j, "screenings", a = json_array()) != 0)
            return -1;
        for (size_t i = 0; i < in->n_screenings; i++)
            if (screening_json(&in->screenings[i], a) != 0)
                return -1;
    }
    return 0;
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
        if (json_array_append_new(consents, one) != 0 ||
            set_time(one, "granted_at", c->granted_at) != 0 ||
            set_time(one, "expires_at", c->expires_at) != 0 ||
            set_time(one, "revoked_at", c->revoked_at) != 0)
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
    /* Members added since: written only when they say something, so older stores read alike. */
    if (in->age_high >= 0 && in->age_high != in->age)
        json_object_set_new(j, "age_high", json_integer(in->age_high));
    if (in->age_disputed)
        json_object_set_new(j, "age_disputed", json_true());
    if (in->exploitation.present)
        json_object_set_new(
            j, "exploitation",
            json_pack("{s:s,s:o,s:o}", "from", in->exploitation.from, "age",
                      in->exploitation.age >= 0 ? json_integer(in->exploitation.age) : json_null(),
                      "age_high",
                      in->exploitation.age_high >= 0 ? json_integer(in->exploitation.age_high)
                                                     : json_null()));
    if (in->missing)
        json_object_set_new(j, "missing", json_true());
    if (in->agency_kind[0] != '\0')
        json_object_set_new(j, "agency_kind", json_string(in->agency_kind));
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
    if (whole_picture_json(in, j) != 0) {
        json_decref(j);
        return NULL;
    }
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

/* 1 when v says something: not absent and not null. */
static int given(struct src v)
{
    return src_type(v) != SRC_ABSENT && src_type(v) != SRC_NULL;
}

/*
 * A time member (routing_time_parse) into *out; 1 when read. Absent, null
 * and "" (libconfig has no null) leave *out alone and return 0.
 */
static int read_time(struct reader *rd, struct src g, const char *name, const char *path,
                     routing_time *out)
{
    struct src v = src_member(g, name);
    const char *why;
    if (!expect(rd, v, path, SRC_STR) || str_value(v)[0] == '\0')
        return 0;
    if ((why = routing_time_parse(str_value(v), out)) != NULL) {
        fail(rd, v, path, "'%s': %s", str_value(v), why);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------- sections --- */

/* 1 when s is one of names (NULL-terminated); else reports it with the names allowed. */
static int check_one_of(struct reader *rd, struct src at, const char *path, const char *s,
                        const char *what, const char *const *names)
{
    char list[300];
    size_t n = 0;
    for (; names[n] != NULL; n++)
        if (strcmp(names[n], s) == 0)
            return 1;
    fail(rd, at, path, "unknown %s '%s' (expected one of %s)", what, s,
         cfgread_join(names, n, list, sizeof(list)));
    return 0;
}

/* "path.member" in buf; returns buf. */
static const char *member_path(char *buf, size_t len, const char *path, const char *member)
{
    snprintf(buf, len, "%s.%s", path, member);
    return buf;
}

/*
 * One screening group at path ("screening", or "screenings[i]": an entry
 * of the list, which also has finished_at and its own indicators) into *s.
 * 1 when g is a group.
 */
static int read_screening_group(struct reader *rd, struct src g, const char *path, int entry,
                                struct routing_screening *s)
{
    static const char *const members[] = {"id",         "instrument", "version", "result",
                                          "band",       "score",      "stopped", "finished_at",
                                          "indicators", NULL};
    static const char *const latest[] = {"id",   "instrument", "version", "result",
                                         "band", "score",      "stopped", NULL};
    static const char *const results[] = {"negative", "possible", "positive", "incomplete", NULL};
    char at[96];
    long long v = 0;
    if (!expect(rd, g, path, SRC_GROUP))
        return 0;
    known_keys(rd, g, path, entry ? members : latest);
    if (read_int(rd, g, "id", member_path(at, sizeof(at), path, "id"), 0, INT64_MAX, &v))
        s->id = v;
    if (!read_str(rd, g, "instrument", member_path(at, sizeof(at), path, "instrument"),
                  s->instrument, sizeof(s->instrument)))
        fail(rd, g, path, "needs 'instrument'");
    if (read_int(rd, g, "version", member_path(at, sizeof(at), path, "version"), 1, 1000000, &v))
        s->version = (int)v;
    if (read_str(rd, g, "result", member_path(at, sizeof(at), path, "result"), s->result,
                 sizeof(s->result)))
        check_one_of(rd, src_member(g, "result"), at, s->result, "result", results);
    else
        fail(rd, g, path, "needs 'result'");
    read_str(rd, g, "band", member_path(at, sizeof(at), path, "band"), s->band, sizeof(s->band));
    read_real(rd, g, "score", member_path(at, sizeof(at), path, "score"), &s->score);
    read_bool(rd, g, "stopped", member_path(at, sizeof(at), path, "stopped"), &s->stopped);
    if (entry) {
        read_time(rd, g, "finished_at", member_path(at, sizeof(at), path, "finished_at"),
                  &s->finished_at);
        read_strings(rd, g, "indicators", member_path(at, sizeof(at), path, "indicators"),
                     check_ident, &s->indicators, &s->n_indicators);
    }
    return 1;
}

/* The facts of s as the latest screening of in. */
static void set_latest(struct routing_input *in, const struct routing_screening *s)
{
    in->screening.present = 1;
    in->screening.id = s->id;
    memcpy(in->screening.instrument, s->instrument, sizeof(in->screening.instrument));
    in->screening.version = s->version;
    memcpy(in->screening.result, s->result, sizeof(in->screening.result));
    memcpy(in->screening.band, s->band, sizeof(in->screening.band));
    in->screening.score = s->score;
    in->screening.stopped = s->stopped;
}

static void read_screening(struct reader *rd, struct src g, struct routing_input *in)
{
    struct routing_screening s = {.finished_at = ROUTING_TIME_NONE};
    if (read_screening_group(rd, g, "screening", 0, &s))
        set_latest(in, &s);
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

/* Where t stands to now to the second: -1 before, 1 after, 0 in the same second. */
static int second_cmp(routing_time t, routing_time now)
{
    long long a = t / 1000000 - (t % 1000000 < 0), b = now / 1000000 - (now % 1000000 < 0);
    return a < b ? -1 : a > b;
}

/* The times of consent group g (path "consents[i]") into c; 1 when any is given. */
static int read_consent_times(struct reader *rd, struct src g, const char *path,
                              struct routing_consent *c)
{
    char at[96];
    c->granted_at = c->expires_at = c->revoked_at = ROUTING_TIME_NONE;
    int granted = read_time(rd, g, "granted_at", member_path(at, sizeof(at), path, "granted_at"),
                            &c->granted_at);
    int expires = read_time(rd, g, "expires_at", member_path(at, sizeof(at), path, "expires_at"),
                            &c->expires_at);
    int revoked = read_time(rd, g, "revoked_at", member_path(at, sizeof(at), path, "revoked_at"),
                            &c->revoked_at);
    if (granted && expires && c->expires_at <= c->granted_at)
        fail(rd, src_member(g, "expires_at"), member_path(at, sizeof(at), path, "expires_at"),
             "must be after granted_at");
    return granted || expires || revoked;
}

/*
 * Whether consent c (its times read) is in force at now: derived from the
 * times (a grant or expiry not given counts against it), or, when active
 * is given (has_active), active, which a time must not contradict; a time
 * in the same second as now proves nothing, as written times may have lost
 * their fractions. Reports a contradiction at "path.active".
 */
static int consent_active(struct reader *rd, struct src g, const char *path,
                          const struct routing_consent *c, routing_time now, int has_active,
                          int active)
{
    char at[96], nw[ROUTING_TIME_LEN];
    const char *why = NULL;
    if (!has_active)
        return c->granted_at != ROUTING_TIME_NONE && c->granted_at <= now &&
               c->expires_at != ROUTING_TIME_NONE && now < c->expires_at &&
               !(c->revoked_at != ROUTING_TIME_NONE && c->revoked_at <= now);
    if (active && c->granted_at != ROUTING_TIME_NONE && second_cmp(c->granted_at, now) > 0)
        why = "is true, but granted_at is after now";
    else if (active && c->expires_at != ROUTING_TIME_NONE && second_cmp(c->expires_at, now) < 0)
        why = "is true, but the consent expired before now";
    else if (active && c->revoked_at != ROUTING_TIME_NONE && second_cmp(c->revoked_at, now) < 0)
        why = "is true, but the consent was revoked before now";
    else if (!active && c->granted_at != ROUTING_TIME_NONE && second_cmp(c->granted_at, now) < 0 &&
             c->expires_at != ROUTING_TIME_NONE && second_cmp(c->expires_at, now) > 0 &&
             (c->revoked_at == ROUTING_TIME_NONE || second_cmp(c->revoked_at, now) > 0))
        why = "is false, but its times put it in force at now (granted before, expiring after, "
              "not revoked)";
    if (why != NULL)
        fail(rd, src_member(g, "active"), member_path(at, sizeof(at), path, "active"),
             "%s (%s); give one or make them agree", why, routing_time_format(now, nw, sizeof(nw)));
    return active;
}

static void read_consents(struct reader *rd, struct src a, struct routing_input *in)
{
    static const char *const members[] = {"id",         "purpose",    "recipients", "active",
                                          "granted_at", "expires_at", "revoked_at", NULL};
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
        struct routing_consent times;
        int has_active = read_bool(rd, g, "active", path, &active);
        int timed = read_consent_times(rd, g, path, &times);
        if (!has_active && !timed)
            fail(rd, g, path, "needs 'active', or its times (granted_at, expires_at, revoked_at)");
        else if (timed)
            active = consent_active(rd, g, path, &times, routing_input_now(in), has_active, active);
        if (routing_input_add_consent(in, id, purpose, NULL, 0, active) != 0) {
            fail(rd, g, path, "out of memory");
            return;
        }
        struct routing_consent *c = &in->consents[in->n_consents - 1];
        c->granted_at = times.granted_at;
        c->expires_at = times.expires_at;
        c->revoked_at = times.revoked_at;
        read_strings(rd, g, "recipients", path, check_recipient, &c->recipients, &c->n_recipients);
        if (c->n_recipients == 0)
            fail(rd, g, path, "needs at least one recipient");
    }
}

/* ------------------------------------------------------ the whole picture --- */

/* 1 when v says something: given, and not an empty string (libconfig's "no value"). */
static int filled(struct src v)
{
    return given(v) && !(src_type(v) == SRC_STR && str_value(v)[0] == '\0');
}

static void read_declines(struct reader *rd, struct src a, struct routing_input *in)
{
    static const char *const members[] = {"id", "recipient", "declined_at", NULL};
    char path[64], at[96], recipient[128];
    if (!expect(rd, a, "declines", SRC_LIST))
        return;
    for (size_t i = 0; i < src_len(a); i++) {
        struct src g = src_elem(a, i);
        struct routing_decline d = {.declined_at = ROUTING_TIME_NONE}, *grown;
        long long id = 0;
        snprintf(path, sizeof(path), "declines[%zu]", i);
        if (src_type(g) != SRC_GROUP) {
            fail(rd, g, path, "must be a group");
            continue;
        }
        known_keys(rd, g, path, members);
        if (read_int(rd, g, "id", member_path(at, sizeof(at), path, "id"), 1, INT64_MAX, &id))
            d.id = id;
        else if (!given(src_member(g, "id")))
            fail(rd, g, path, "needs 'id'");
        recipient[0] = '\0';
        if (read_str(rd, g, "recipient", member_path(at, sizeof(at), path, "recipient"), recipient,
                     sizeof(recipient)))
            check_recipient(rd, src_member(g, "recipient"), at, recipient);
        else if (!given(src_member(g, "recipient")))
            fail(rd, g, path, "needs 'recipient'");
        read_time(rd, g, "declined_at", member_path(at, sizeof(at), path, "declined_at"),
                  &d.declined_at);
        if (!filled(src_member(g, "declined_at")))
            fail(rd, g, path, "needs 'declined_at'");
        if ((grown = grow_one(in->declines, in->n_declines, sizeof(*grown))) == NULL ||
            (in->declines = grown, (d.recipient = strdup(recipient)) == NULL)) {
            fail(rd, g, path, "out of memory");
            return;
        }
        grown[in->n_declines++] = d;
    }
}

/*
 * An evidence class a ledger entry carried: a class name, or "class:word"
 * as the database records an object's named member ("disclosure:sex").
 */
static int check_evidence_class(struct reader *rd, struct src at, const char *path, const char *s)
{
    char cls[64], names[300];
    const char *colon = strchr(s, ':');
    size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s);
    if (n < sizeof(cls)) {
        memcpy(cls, s, n);
        cls[n] = '\0';
        if (facts_evidence_lookup(cls) >= 0 && (colon == NULL || cfgread_is_ident(colon + 1)))
            return 0;
    }
    fail(rd, at, path, "unknown evidence class '%s' (expected one of %s)", s,
         facts_evidence_names(names, sizeof(names)));
    return -1;
}

/* One earlier referral at path ("ledger[i]") appended to in->ledger. */
static void read_ledger_entry(struct reader *rd, struct src g, const char *path,
                              struct routing_input *in)
{
    static const char *const members[] = {"referral",   "case",         "destination", "kind",
                                          "basis",      "state",        "episode",     "evidence",
                                          "disclosure", "delivered_at", "outbox",      NULL};
    static const char *const states[] = {"pending_consent", "queued",   "sent",
                                         "acknowledged",    "accepted", "rejected",
                                         "closed",          "revoked",  NULL};
    static const char *const outbox[] = {"pending", "sent", "held", "failed", NULL};
    const char *bases[ROUTING_BASIS__COUNT + 1];
    struct routing_ledger_entry e = {
        .case_id = in->case_id, .episode = ROUTING_TIME_NONE, .delivered_at = ROUTING_TIME_NONE};
    struct routing_ledger_entry *grown;
    char at[96], dest[128] = "", basis[32] = "";
    long long v = 0;
    for (int b = 0; b <= ROUTING_BASIS__COUNT; b++)
        bases[b] = b < ROUTING_BASIS__COUNT ? routing_basis_name((enum routing_basis)b) : NULL;
    known_keys(rd, g, path, members);
    if (read_int(rd, g, "referral", member_path(at, sizeof(at), path, "referral"), 1, INT64_MAX,
                 &v))
        e.referral = v;
    else if (!given(src_member(g, "referral")))
        fail(rd, g, path, "needs 'referral'");
    if (read_int(rd, g, "case", member_path(at, sizeof(at), path, "case"), 0, INT64_MAX, &v))
        e.case_id = v;
    if (read_str(rd, g, "destination", member_path(at, sizeof(at), path, "destination"), dest,
                 sizeof(dest)))
        check_ident(rd, src_member(g, "destination"), at, dest);
    else if (!given(src_member(g, "destination")))
        fail(rd, g, path, "needs 'destination'");
    if (read_str(rd, g, "kind", member_path(at, sizeof(at), path, "kind"), e.kind,
                 sizeof(e.kind)) &&
        e.kind[0] != '\0' && routing_kind_lookup(e.kind) < 0)
        fail(rd, src_member(g, "kind"), at, "unknown destination kind '%s'", e.kind);
    if (read_str(rd, g, "basis", member_path(at, sizeof(at), path, "basis"), basis,
                 sizeof(basis))) {
        if (check_one_of(rd, src_member(g, "basis"), at, basis, "basis", bases))
            e.basis = (enum routing_basis)routing_basis_lookup(basis);
    } else if (!given(src_member(g, "basis"))) {
        fail(rd, g, path, "needs 'basis'");
    }
    if (read_str(rd, g, "state", member_path(at, sizeof(at), path, "state"), e.state,
                 sizeof(e.state)))
        check_one_of(rd, src_member(g, "state"), at, e.state, "referral state", states);
    else if (!given(src_member(g, "state")))
        fail(rd, g, path, "needs 'state'");
    read_time(rd, g, "episode", member_path(at, sizeof(at), path, "episode"), &e.episode);
    if (read_int(rd, g, "disclosure", member_path(at, sizeof(at), path, "disclosure"), 0, INT64_MAX,
                 &v))
        e.disclosure = v;
    read_time(rd, g, "delivered_at", member_path(at, sizeof(at), path, "delivered_at"),
              &e.delivered_at);
    if (read_str(rd, g, "outbox", member_path(at, sizeof(at), path, "outbox"), e.outbox,
                 sizeof(e.outbox)) &&
        e.outbox[0] != '\0')
        check_one_of(rd, src_member(g, "outbox"), at, e.outbox, "outbox state", outbox);
    read_strings(rd, g, "evidence", member_path(at, sizeof(at), path, "evidence"),
                 check_evidence_class, &e.evidence, &e.n_evidence);
    if ((grown = grow_one(in->ledger, in->n_ledger, sizeof(*grown))) == NULL ||
        (in->ledger = grown, (e.destination = strdup(dest)) == NULL)) {
        free_strings(e.evidence, e.n_evidence);
        fail(rd, g, path, "out of memory");
        return;
    }
    grown[in->n_ledger++] = e;
}

static void read_ledger(struct reader *rd, struct src a, struct routing_input *in)
{
    char path[64];
    if (!expect(rd, a, "ledger", SRC_LIST))
        return;
    for (size_t i = 0; i < src_len(a); i++) {
        struct src g = src_elem(a, i);
        snprintf(path, sizeof(path), "ledger[%zu]", i);
        if (src_type(g) != SRC_GROUP)
            fail(rd, g, path, "must be a group");
        else
            read_ledger_entry(rd, g, path, in);
    }
}

/* The first fact in which the latest screening of in differs from s, or NULL. */
static const char *latest_differs(const struct routing_input *in, const struct routing_screening *s)
{
    if (in->screening.id != s->id)
        return "id";
    if (strcmp(in->screening.instrument, s->instrument) != 0)
        return "instrument";
    if (in->screening.version != s->version)
        return "version";
    if (strcmp(in->screening.result, s->result) != 0)
        return "result";
    if (strcmp(in->screening.band, s->band) != 0)
        return "band";
    if (in->screening.score != s->score)
        return "score";
    return in->screening.stopped != s->stopped ? "stopped" : NULL;
}

/* 1 when a[0 .. na-1] and b[0 .. nb-1] hold the same strings, in any order. */
static int same_strings(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++) {
        size_t k = 0;
        while (k < nb && strcmp(a[i], b[k]) != 0)
            k++;
        if (k == nb)
            return 0;
    }
    return 1;
}

/*
 * The screenings list of group g: each entry, newest first; then screening
 * and indicators are the first entry's (absent, or equal to it).
 */
static void read_screenings(struct reader *rd, struct src g, struct routing_input *in)
{
    struct src a = src_member(g, "screenings");
    const struct routing_screening *first;
    char path[64], at[96];
    if (!expect(rd, a, "screenings", SRC_LIST))
        return;
    for (size_t i = 0; i < src_len(a); i++) {
        struct src e = src_elem(a, i);
        struct routing_screening s = {.finished_at = ROUTING_TIME_NONE}, *grown;
        snprintf(path, sizeof(path), "screenings[%zu]", i);
        read_screening_group(rd, e, path, 1, &s);
        if ((grown = grow_one(in->screenings, in->n_screenings, sizeof(*grown))) == NULL) {
            free_strings(s.indicators, s.n_indicators);
            fail(rd, e, path, "out of memory");
            return;
        }
        in->screenings = grown;
        grown[in->n_screenings++] = s;
        if (i > 0 && s.finished_at != ROUTING_TIME_NONE &&
            grown[i - 1].finished_at != ROUTING_TIME_NONE &&
            s.finished_at > grown[i - 1].finished_at)
            fail(rd, src_member(e, "finished_at"), member_path(at, sizeof(at), path, "finished_at"),
                 "is later than screenings[%zu]'s: list the screenings newest first", i - 1);
    }
    if (in->n_screenings == 0)
        return;
    first = &in->screenings[0];
    const char *differs = in->screening.present ? latest_differs(in, first) : NULL;
    if (differs != NULL)
        fail(rd, src_member(g, "screening"), "screening",
             "must equal screenings[0] (the latest screening) or be left out: its %s differs",
             differs);
    if (given(src_member(g, "indicators"))) {
        if (!same_strings(in->indicators, in->n_indicators, first->indicators, first->n_indicators))
            fail(rd, src_member(g, "indicators"), "indicators",
                 "must equal screenings[0].indicators (the latest screening's) or be left out");
    } else {
        for (size_t i = 0; i < first->n_indicators; i++)
            if (routing_input_add_indicator(in, first->indicators[i]) != 0) {
                fail(rd, a, "screenings", "out of memory");
                return;
            }
    }
    set_latest(in, first);
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

/* An age member: whole years, or -1 / null / absent for unknown (libconfig has no null). */
static int read_age_value(struct reader *rd, struct src g, const char *name, const char *path)
{
    long long age = -1;
    struct src v = src_member(g, name);
    if (src_type(v) == SRC_INT &&
        (v.j != NULL ? json_integer_value(v.j) : config_setting_get_int64(v.s)) == -1)
        return -1;
    if (read_int(rd, g, name, path, 0, ROUTING_MAX_AGE, &age) == 0)
        return -1;
    return (int)age;
}

/* A date member "YYYY-MM-DD" into buf (size 16); 1 when read. */
static int read_date(struct reader *rd, struct src g, const char *name, const char *path, char *buf)
{
    int y, m, d, n = 0;
    if (!read_str(rd, g, name, path, buf, 16))
        return 0;
    if (sscanf(buf, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || buf[n] != '\0' || m < 1 ||
        m > 12 || d < 1 || d > 31) {
        fail(rd, src_member(g, name), path, "'%s' is not a date YYYY-MM-DD", buf);
        return 0;
    }
    return 1;
}

static void read_exploitation(struct reader *rd, struct src g, struct routing_input *in)
{
    static const char *const members[] = {"from", "age", "age_high", NULL};
    if (!expect(rd, g, "exploitation", SRC_GROUP))
        return;
    known_keys(rd, g, "exploitation", members);
    in->exploitation.present = 1;
    if (!read_date(rd, g, "from", "exploitation.from", in->exploitation.from))
        fail(rd, g, "exploitation", "needs 'from' (the date the episode began)");
    in->exploitation.age = read_age_value(rd, g, "age", "exploitation.age");
    in->exploitation.age_high = read_age_value(rd, g, "age_high", "exploitation.age_high");
    if (in->exploitation.age_high >= 0 && in->exploitation.age_high < in->exploitation.age)
        fail(rd, src_member(g, "age_high"), "exploitation.age_high", "is below exploitation.age");
    else if (in->exploitation.age_high >= 0 && in->exploitation.age < 0)
        fail(rd, src_member(g, "age_high"), "exploitation.age_high",
             "needs exploitation.age (the low end)");
}

static void read_age(struct reader *rd, struct src g, struct routing_input *in)
{
    in->age = read_age_value(rd, g, "age", "age");
    in->age_high = read_age_value(rd, g, "age_high", "age_high");
    read_bool(rd, g, "age_known", "age_known", &in->age_known);
    read_bool(rd, g, "age_estimated", "age_estimated", &in->age_estimated);
    read_bool(rd, g, "age_disputed", "age_disputed", &in->age_disputed);
    if (in->age_known && in->age_estimated)
        fail(rd, g, "age_known", "an age is known or estimated, not both");
    else if (in->age >= 0 && !in->age_known && !in->age_estimated)
        fail(rd, src_member(g, "age"), "age",
             "say whether it is known (age_known) or "
             "estimated (age_estimated)");
    else if (in->age < 0 && (in->age_known || in->age_estimated))
        fail(rd, g, "age", "age_known or age_estimated needs an age");
    if (in->age_high >= 0 && !in->age_estimated && in->age_high != in->age)
        fail(rd, src_member(g, "age_high"), "age_high",
             "a range needs an estimate (age_estimated)");
    else if (in->age_high >= 0 && in->age_high < in->age)
        fail(rd, src_member(g, "age_high"), "age_high",
             "is below age (give the range low to high)");
    struct src ex = src_member(g, "exploitation");
    if (src_type(ex) != SRC_ABSENT && src_type(ex) != SRC_NULL)
        read_exploitation(rd, ex, in);
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
        "case_id", "age", "age_known", "age_estimated", "gender", "state", "county", "flags",
        "runaway_episodes", "screening", "indicators", "domain_scores", "consents", "safe_contact",
        /* the whole picture: what the report ledger holds a decision against */
        "now", "episode", "declines", "ledger", "screenings",
        /* age as the law sees it, the missing-child and agency facts */
        "age_high", "age_disputed", "exploitation", "missing", "agency_kind", NULL};
    long long v = 0;
    routing_input_init(out);
    if (src_type(g) != SRC_GROUP) {
        fail(rd, g, "input", "must be %s", g.j != NULL ? "an object" : "a group");
        return -1;
    }
    known_keys(rd, g, "", members);
    if (read_int(rd, g, "case_id", "case_id", 0, INT64_MAX, &v))
        out->case_id = v;
    /* First: consents are read as of now, ledger entries default to this case. */
    read_time(rd, g, "now", "now", &out->now);
    read_time(rd, g, "episode", "episode", &out->episode);
    read_age(rd, g, out);
    read_str(rd, g, "gender", "gender", out->gender, sizeof(out->gender));
    if (read_str(rd, g, "state", "state", out->state, sizeof(out->state)) &&
        !(out->state[0] >= 'A' && out->state[0] <= 'Z' && out->state[1] >= 'A' &&
          out->state[1] <= 'Z' && out->state[2] == '\0'))
        fail(rd, src_member(g, "state"), "state", "'%s' is not a two-letter state code in capitals",
             out->state);
    read_str(rd, g, "county", "county", out->county, sizeof(out->county));
    read_flags(rd, src_member(g, "flags"), out);
    read_bool(rd, g, "missing", "missing", &out->missing);
    read_str(rd, g, "agency_kind", "agency_kind", out->agency_kind, sizeof(out->agency_kind));
    if (read_int(rd, g, "runaway_episodes", "runaway_episodes", 0, 100000, &v))
        out->runaway_episodes = (int)v;
    struct src screening = src_member(g, "screening");
    if (src_type(screening) != SRC_ABSENT && src_type(screening) != SRC_NULL)
        read_screening(rd, screening, out);
    read_strings(rd, g, "indicators", "indicators", check_ident, &out->indicators,
                 &out->n_indicators);
    read_screenings(rd, g, out);
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
    read_declines(rd, src_member(g, "declines"), out);
    read_ledger(rd, src_member(g, "ledger"), out);
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
