/*
 * cmd_people.c: `person add|show`. People belong to the acting user's agency;
 * the write and its audit record are one SQL function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const struct ch_arg add_args[] = {
    {"--given", CH_ARG_TEXT, 0, "given name", NULL, "NAME", 0, 0},
    {"--family", CH_ARG_TEXT, 0, "family name", NULL, "NAME", 0, 0},
    {"--dob", CH_ARG_DATE, 0, "date of birth (or --age-estimate)", NULL, "YYYY-MM-DD", 0, 0},
    {"--age-estimate", CH_ARG_INT, 0, "age in years as estimated today (or --dob)", NULL, "YEARS",
     0, 120},
    {"--gender", CH_ARG_TEXT, 0, "gender identity, in the person's words", NULL, NULL, 0, 0},
    {"--language", CH_ARG_TEXT, 0, "preferred language", NULL, NULL, 0, 0},
    {"--interpreter", CH_ARG_BOOL, 0, "needs an interpreter", NULL, NULL, 0, 0},
};
enum { A_GIVEN, A_FAMILY, A_DOB, A_AGE, A_GENDER, A_LANGUAGE, A_INTERPRETER };

static int person_add(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT casehost.person_add($1::jsonb)";
    /* The member of casehost.person_add's object each text option sets. */
    static const char *const text_keys[] = {[A_GIVEN] = "given_name",
                                            [A_FAMILY] = "family_name",
                                            [A_DOB] = "date_of_birth",
                                            [A_GENDER] = "gender_identity",
                                            [A_LANGUAGE] = "language"};
    json_t *p = NULL;
    char *text = NULL;
    PGresult *r = NULL;
    int rc;

    if (v[A_DOB].given && v[A_AGE].given)
        return cli_fail(cli, EXIT_USAGE, "person add: give --dob or --age-estimate, not both");
    p = json_object();
    for (size_t i = 0; i < sizeof(text_keys) / sizeof(text_keys[0]); i++)
        if (v[i].given && text_keys[i] != NULL)
            json_object_set_new(p, text_keys[i], json_string(v[i].text));
    if (v[A_AGE].given)
        json_object_set_new(p, "estimated_age", json_integer(v[A_AGE].num));
    if (v[A_INTERPRETER].given)
        json_object_set_new(p, "interpreter_needed", json_boolean(v[A_INTERPRETER].num));
    text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if ((rc = cli_session(cli, 1)) != 0)
        goto out;
    r = db_exec(cli->ctx.conn, sql, 1, (const char *const *)&text, cli->ctx.err,
                sizeof(cli->ctx.err));
    if (r == NULL) {
        rc = cli_db_fail(cli, "cannot add the person");
        goto out;
    }
    if ((rc = cli_commit(cli)) != 0)
        goto out;
    out_int(cli->out, "person", strtoll(PQgetvalue(r, 0, 0), NULL, 10));
    out_message(cli->out, "person added");
out:
    PQclear(r);
    free(text);
    return rc;
}

static const struct ch_arg show_args[] = {
    {"person", CH_ARG_ID, CH_ARG_REQUIRED, "the person", NULL, NULL, 0, 0},
};

static int person_show(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] =
        "SELECT p.id, p.given_name, p.family_name, p.date_of_birth, p.estimated_age,"
        "       p.estimated_on, casehost.person_age(p) AS age_now,"
        "       CASE WHEN p.date_of_birth IS NOT NULL THEN 'date of birth'"
        "            WHEN p.estimated_age IS NOT NULL THEN 'estimated' ELSE 'unknown' END"
        "         AS age_basis, p.gender_identity, p.language, p.interpreter_needed,"
        "       (SELECT json_agg(json_build_object('id', c.id, 'title', c.title,"
        "                                          'status', c.status) ORDER BY c.id)"
        "          FROM casehost.cases c WHERE c.subject_id = p.id) AS cases"
        "  FROM casehost.people p WHERE p.id = $1";
    static const char audit_sql[] = "SELECT casehost.audit('read', 'person', $1, NULL)";
    char idbuf[24];
    const char *params[1] = {idbuf};
    PGresult *r;
    long long id = v[0].num;
    int rc;
    snprintf(idbuf, sizeof(idbuf), "%lld", id);
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot read the person");
    if (PQntuples(r) == 0) {
        PQclear(r);
        return cli_fail(cli, EXIT_RUNTIME, "person %lld not found", id);
    }
    out_result(cli->out, "person", r, 0);
    PQclear(r);
    if (db_run(cli->ctx.conn, audit_sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err)) != 0)
        return cli_db_fail(cli, "cannot audit the read");
    return cli_commit(cli);
}

static const struct cli_command person_commands[] = {
    {CLI_SPEC("person", "add", "record a person (the youth a case is about)", add_args),
     person_add},
    {CLI_SPEC("person", "show", "show a person and their cases", show_args), person_show},
};

const struct cli_verb cli_verb_person = {"person", "record and show people", person_commands,
                                         CLI_N(person_commands), CLI_PLUGINS | CLI_LIVE};
