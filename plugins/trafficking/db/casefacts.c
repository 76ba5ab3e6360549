/*
 * casefacts.c: reads a case's facts with trafficking.case_facts_v1 (one
 * statement for triggers and routing alike) and turns them into the trigger
 * facts and the routing input. Reads only; never writes, never decides
 * anything, and never reads a case any other way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/casefacts.h"
#include "db/query.h"

/* Shaped as routing_input_from_json reads it, plus "closed" (006_case_facts.sql). */
static const char facts_sql[] = "SELECT trafficking.case_facts_v1($1)";

/* The case's own facts of all: what owns no memory and belongs to the case itself. */
static void case_part(const struct routing_input *all, struct routing_input *out)
{
    routing_input_init(out);
    out->case_id = all->case_id;
    out->age = all->age;
    out->age_known = all->age_known;
    out->age_estimated = all->age_estimated;
    out->age_high = all->age_high;
    out->age_disputed = all->age_disputed;
    out->exploitation = all->exploitation;
    out->missing = all->missing;
    memcpy(out->agency_kind, all->agency_kind, sizeof(out->agency_kind));
    memcpy(out->gender, all->gender, sizeof(out->gender));
    memcpy(out->state, all->state, sizeof(out->state));
    memcpy(out->county, all->county, sizeof(out->county));
    out->foreign_national = all->foreign_national;
    out->imminent_danger = all->imminent_danger;
    out->recruitment = all->recruitment;
    out->control = all->control;
    out->runaway_return = all->runaway_return;
    out->runaway_episodes = all->runaway_episodes;
    out->cw_history = all->cw_history;
    out->jj_history = all->jj_history;
}

int casefacts_from_json(const json_t *j, struct casefacts *cf, struct routing_input *in, char *err,
                        size_t errlen)
{
    struct routing_input all;
    const json_t *closed = json_object_get(j, "closed");
    json_t *rest = NULL;
    int rc = -1;

    routing_input_init(&all);
    if (in != NULL)
        routing_input_init(in);
    if (!json_is_object(j)) {
        snprintf(err, errlen, "case facts must be an object");
        goto out;
    }
    if (!json_is_boolean(closed)) {
        snprintf(err, errlen, "closed: must be true or false");
        goto out;
    }
    /* The rest is the routing input, read by its one reader (unknown members are errors). */
    rest = json_copy((json_t *)j);
    if (rest == NULL || json_object_del(rest, "closed") != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (routing_input_from_json(rest, &all, err, errlen) != 0)
        goto out;
    if (cf != NULL) {
        memset(cf, 0, sizeof(*cf));
        cf->case_id = all.case_id;
        cf->closed = json_is_true(closed);
        cf->age = scoring_age_range(all.age, all.age_high, all.age_known, all.age_estimated,
                                    all.age_disputed);
        case_part(&all, &cf->in);
    }
    if (in != NULL) {
        *in = all; /* moved: in owns what all owned */
        routing_input_init(&all);
    }
    rc = 0;
out:
    routing_input_release(&all);
    json_decref(rest);
    return rc;
}

int casefacts_query(PGconn *conn, int64_t case_id, struct casefacts *cf, struct routing_input *in,
                    char *err, size_t errlen)
{
    char id[24], why[512];
    const char *params[1] = {id};
    PGresult *r;
    json_t *j = NULL;
    json_error_t je;
    int rc = -1;

    if (in != NULL)
        routing_input_init(in);
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    r = trf_query(conn, facts_sql, 1, params, err, errlen, "cannot read case %s", id);
    if (r == NULL)
        goto out;
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
        rc = 1;
        goto out;
    }
    j = json_loads(PQgetvalue(r, 0, 0), 0, &je);
    if (j == NULL) {
        snprintf(err, errlen, "case %s: its facts are not JSON: %s", id, je.text);
        goto out;
    }
    if (casefacts_from_json(j, cf, in, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "case %s: %s", id, why);
        goto out;
    }
    rc = 0;
out:
    json_decref(j);
    PQclear(r);
    return rc;
}

int casefacts_load(PGconn *conn, int64_t case_id, struct casefacts *cf, char *err, size_t errlen)
{
    return casefacts_query(conn, case_id, cf, NULL, err, errlen);
}

void casefacts_fill(const struct casefacts *cf, struct rule_value *facts)
{
    facts_clear(facts, FACTS__COUNT);
    routing_input_case_facts(&cf->in, facts);
}

/*
 * Which case fields feed which facts: the columns case_facts_v1 reads for
 * each. subject_id is the person, whose age and gender are facts.
 */
static const struct {
    const char *field;
    int first, last; /* slots, inclusive */
} feeds[] = {
    {"subject_id", FACTS_MINOR, FACTS_GENDER},
    {"subject_id", FACTS_POSSIBLY_MINOR, FACTS_EXPLOITED_AS_MINOR},
    {"state", FACTS_STATE, FACTS_STATE},
    {"county", FACTS_COUNTY, FACTS_COUNTY},
    {"runaway_start", FACTS_RUNAWAY_RETURN, FACTS_RUNAWAY_EPISODES},
    {"runaway_return", FACTS_RUNAWAY_RETURN, FACTS_RUNAWAY_EPISODES},
    {"runaway_start", FACTS_MISSING, FACTS_MISSING},
    {"runaway_return", FACTS_MISSING, FACTS_MISSING},
    {"cw_history", FACTS_CW_HISTORY, FACTS_CW_HISTORY},
    {"jj_history", FACTS_JJ_HISTORY, FACTS_JJ_HISTORY},
    {"flags", FACTS_RECRUITMENT_FLAG, FACTS_IMMINENT_DANGER},
};

int casefacts_field_feeds(const char *field, int slot)
{
    for (size_t i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++)
        if (strcmp(feeds[i].field, field) == 0 && slot >= feeds[i].first && slot <= feeds[i].last)
            return 1;
    return 0;
}

int casefacts_field_moves_person(const char *field)
{
    return strcmp(field, "subject_id") == 0;
}
