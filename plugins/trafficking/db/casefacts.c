/*
 * casefacts.c: reads a case and its subject person and computes the facts
 * rules may name. Reads only; never writes, never decides anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/casefacts.h"

/* Age from the date of birth, else the estimate grown by the time since it was made. */
static const char load_sql[] =
    "SELECT c.state, c.county, p.gender_identity, p.date_of_birth::text,"
    "       CASE WHEN p.date_of_birth IS NULL THEN casehost.person_age(p) END,"
    "       current_date::text, p.id IS NOT NULL, c.runaway_start IS NOT NULL,"
    "       c.runaway_return IS NOT NULL, c.cw_history, c.jj_history,"
    "       ',' || array_to_string(c.flags, ',') || ',', c.status = 'closed'"
    "  FROM casehost.cases c LEFT JOIN casehost.people p ON p.id = c.subject_id"
    " WHERE c.id = $1";

static void copy(char *dst, size_t n, const PGresult *r, int col)
{
    snprintf(dst, n, "%s", PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

static int flag(const PGresult *r, int col)
{
    return PQgetvalue(r, 0, col)[0] == 't';
}

int casefacts_load(PGconn *conn, int64_t case_id, struct casefacts *cf, char *err, size_t errlen)
{
    char id[24];
    const char *params[1] = {id};
    PGresult *r;
    int rc = -1;

    memset(cf, 0, sizeof(*cf));
    cf->case_id = case_id;
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    r = PQexecParams(conn, load_sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read case %s: %s", id, PQresultErrorMessage(r));
        goto out;
    }
    if (PQntuples(r) == 0) {
        rc = 1;
        goto out;
    }
    copy(cf->state, sizeof(cf->state), r, 0);
    copy(cf->county, sizeof(cf->county), r, 1);
    copy(cf->gender, sizeof(cf->gender), r, 2);
    copy(cf->dob, sizeof(cf->dob), r, 3);
    cf->estimated_age = PQgetisnull(r, 0, 4) ? -1 : (int)strtol(PQgetvalue(r, 0, 4), NULL, 10);
    copy(cf->today, sizeof(cf->today), r, 5);
    cf->has_person = flag(r, 6);
    cf->runaway_start = flag(r, 7);
    cf->runaway_returned = flag(r, 8);
    cf->cw_history = flag(r, 9);
    cf->jj_history = flag(r, 10);
    copy(cf->flags, sizeof(cf->flags), r, 11);
    cf->closed = flag(r, 12);
    if (scoring_age(cf->dob[0] ? cf->dob : NULL, cf->estimated_age, cf->today, &cf->age, err,
                    errlen) != 0)
        goto out;
    rc = 0;
out:
    PQclear(r);
    return rc;
}

static int has_flag(const struct casefacts *cf, const char *name)
{
    char needle[80];
    snprintf(needle, sizeof(needle), ",%s,", name);
    return strstr(cf->flags, needle) != NULL;
}

static struct rule_value b(int v)
{
    return (struct rule_value){.type = RULE_BOOL, .u.b = v};
}

static struct rule_value s(const char *v)
{
    if (v[0] == '\0')
        return (struct rule_value){.type = RULE_NULL};
    return (struct rule_value){.type = RULE_STR, .u.s = v};
}

void casefacts_fill(const struct casefacts *cf, struct rule_value *facts)
{
    facts_clear(facts, FACTS__COUNT);
    scoring_age_fill(&cf->age, facts);
    facts[FACTS_GENDER] = s(cf->gender);
    facts[FACTS_STATE] = s(cf->state);
    facts[FACTS_COUNTY] = s(cf->county);
    facts[FACTS_RUNAWAY_RETURN] = b(cf->runaway_returned);
    facts[FACTS_RUNAWAY_EPISODES] =
        (struct rule_value){.type = RULE_NUM, .u.n = cf->runaway_start ? 1 : 0};
    facts[FACTS_CW_HISTORY] = b(cf->cw_history);
    facts[FACTS_JJ_HISTORY] = b(cf->jj_history);
    facts[FACTS_RECRUITMENT_FLAG] = b(has_flag(cf, "recruitment"));
    facts[FACTS_CONTROL_FLAG] = b(has_flag(cf, "control"));
    facts[FACTS_FOREIGN_NATIONAL] = b(has_flag(cf, "foreign_national"));
    facts[FACTS_IMMINENT_DANGER] = b(has_flag(cf, "imminent_danger"));
}

int casefacts_field_feeds(const char *field, int slot)
{
    static const struct {
        const char *field;
        int first, last; /* slots, inclusive */
    } feeds[] = {
        {"subject_id", FACTS_MINOR, FACTS_GENDER},
        {"state", FACTS_STATE, FACTS_STATE},
        {"county", FACTS_COUNTY, FACTS_COUNTY},
        {"runaway_start", FACTS_RUNAWAY_RETURN, FACTS_RUNAWAY_EPISODES},
        {"runaway_return", FACTS_RUNAWAY_RETURN, FACTS_RUNAWAY_EPISODES},
        {"cw_history", FACTS_CW_HISTORY, FACTS_CW_HISTORY},
        {"jj_history", FACTS_JJ_HISTORY, FACTS_JJ_HISTORY},
        {"flags", FACTS_RECRUITMENT_FLAG, FACTS_IMMINENT_DANGER},
    };
    for (size_t i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++)
        if (strcmp(feeds[i].field, field) == 0 && slot >= feeds[i].first && slot <= feeds[i].last)
            return 1;
    return 0;
}
