/*
 * cmd_people.c: `person add|show|age|find|alias`. People belong to the
 * acting user's agency; each write and its audit record are one SQL function.
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
    {"--age-estimate", CH_ARG_TEXT, 0,
     "age in years as estimated today, or a range LOW-HIGH (or --dob)", NULL, "YEARS|LOW-HIGH", 0,
     0},
    {"--estimated-by", CH_ARG_TEXT, 0, "who estimated the age, and how", NULL, "WHO", 0, 0},
    {"--age-disputed", CH_ARG_BOOL, 0, "the age is disputed (needs --dispute-note)", NULL, NULL, 0,
     0},
    {"--dispute-note", CH_ARG_TEXT, 0, "what is doubted about the age, and by whom", NULL, "TEXT",
     0, 0},
    {"--gender", CH_ARG_TEXT, 0, "gender identity, in the person's words", NULL, NULL, 0, 0},
    {"--language", CH_ARG_TEXT, 0, "preferred language", NULL, NULL, 0, 0},
    {"--interpreter", CH_ARG_BOOL, 0, "needs an interpreter", NULL, NULL, 0, 0},
};
enum {
    A_GIVEN,
    A_FAMILY,
    A_DOB,
    A_AGE,
    A_ESTIMATED_BY,
    A_DISPUTED,
    A_DISPUTE_NOTE,
    A_GENDER,
    A_LANGUAGE,
    A_INTERPRETER
};

/*
 * "16" or "17-21" into *low and *high (whole years, 0..120, low <= high);
 * 0, or a usage failure naming the option.
 */
static int parse_age_estimate(struct cli *cli, const char *text, long *low, long *high)
{
    char *end;
    const char *p = text;
    if (*p < '0' || *p > '9')
        goto bad;
    *low = strtol(p, &end, 10);
    *high = *low;
    if (*end == '-') {
        p = end + 1;
        if (*p < '0' || *p > '9')
            goto bad;
        *high = strtol(p, &end, 10);
    }
    if (*end != '\0' || *low > 120 || *high > 120)
        goto bad;
    if (*high < *low)
        return cli_fail(cli, EXIT_USAGE, "--age-estimate: '%s' runs backwards (give LOW-HIGH)",
                        text);
    return 0;
bad:
    return cli_fail(cli, EXIT_USAGE,
                    "--age-estimate: '%s' is not an age in years (0-120) or a range LOW-HIGH",
                    text);
}

/*
 * The age members into p, as casehost.person_add and person_age_set_v1 take
 * them, from the values of the five age options in add_args' order (v points
 * at --dob's); 0 or a usage failure.
 */
static int age_members(struct cli *cli, const struct ch_value *age, json_t *p)
{
    enum { DOB, ESTIMATE, BY, DISPUTED, NOTE }; /* A_DOB .. A_DISPUTE_NOTE, from A_DOB */
    long low = 0, high = 0;
    if (age[DOB].given && age[ESTIMATE].given)
        return cli_fail(cli, EXIT_USAGE, "give --dob or --age-estimate, not both");
    if (age[DOB].given)
        json_object_set_new(p, "date_of_birth", json_string(age[DOB].text));
    if (age[ESTIMATE].given) {
        if (parse_age_estimate(cli, age[ESTIMATE].text, &low, &high) != 0)
            return EXIT_USAGE;
        json_object_set_new(p, "estimated_age", json_integer(low));
        json_object_set_new(p, "estimated_age_high", json_integer(high));
    }
    if (age[BY].given)
        json_object_set_new(p, "estimated_by", json_string(age[BY].text));
    if (age[DISPUTED].given)
        json_object_set_new(p, "age_disputed", json_boolean(age[DISPUTED].num));
    if (age[NOTE].given)
        json_object_set_new(p, "age_dispute_note", json_string(age[NOTE].text));
    return 0;
}

_Static_assert(A_ESTIMATED_BY == A_DOB + 2 && A_DISPUTE_NOTE == A_DOB + 4,
               "age_members reads the age options in this order");

/* Refuses age members the database would refuse, as a usage error, before any write. */
static int check_age(struct cli *cli, const char *person_json)
{
    static const char sql[] =
        "SELECT casehost.person_age_check(jsonb_populate_record(NULL::casehost.people, $1::jsonb))";
    return cli_check_input(cli, sql, 1, &person_json, "22023", "cannot check the age");
}

static int person_add(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT casehost.person_add($1::jsonb)";
    /* The member of casehost.person_add's object each text option sets. */
    static const char *const text_keys[] = {[A_GIVEN] = "given_name",
                                            [A_FAMILY] = "family_name",
                                            [A_GENDER] = "gender_identity",
                                            [A_LANGUAGE] = "language"};
    json_t *p = NULL;
    char *text = NULL;
    PGresult *r = NULL;
    int rc;

    p = json_object();
    if ((rc = age_members(cli, &v[A_DOB], p)) != 0) {
        json_decref(p);
        return rc;
    }
    for (size_t i = 0; i < sizeof(text_keys) / sizeof(text_keys[0]); i++)
        if (v[i].given && text_keys[i] != NULL)
            json_object_set_new(p, text_keys[i], json_string(v[i].text));
    if (v[A_INTERPRETER].given)
        json_object_set_new(p, "interpreter_needed", json_boolean(v[A_INTERPRETER].num));
    text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if ((rc = cli_session(cli, 1)) != 0 || (rc = check_age(cli, text)) != 0)
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
        "       p.estimated_age_high, p.estimated_on, p.estimated_by,"
        "       casehost.person_age(p) AS age_now, a.high AS age_now_high, p.age_disputed,"
        "       p.age_dispute_note,"
        "       CASE WHEN p.date_of_birth IS NOT NULL THEN 'date of birth'"
        "            WHEN p.estimated_age IS NOT NULL THEN 'estimated' ELSE 'unknown' END"
        "         AS age_basis, p.gender_identity, p.language, p.interpreter_needed,"
        "       (SELECT json_agg(json_build_object('id', c.id, 'title', c.title,"
        "                                          'status', c.status) ORDER BY c.id)"
        "          FROM casehost.cases c WHERE c.subject_id = p.id) AS cases,"
        "       nullif(array_to_string(p.aliases, ', '), '') AS aliases"
        "  FROM casehost.people p, casehost.age_range_on(p, current_date) a WHERE p.id = $1";
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
    /* Every plugin's sections (consents, contact safety): the person's whole page. */
    if (loader_render_person(&cli->loader, &cli->ctx, id) != 0)
        return cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
    r = db_exec(cli->ctx.conn,
                "SELECT c.id, c.title FROM casehost.cases c WHERE c.subject_id = $1 ORDER BY c.id"
                " LIMIT 25",
                1, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot read the person's cases");
    for (int i = 0; i < PQntuples(r); i++)
        case_action(cli->out, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    {
        const char *new_case[] = {"case", "new", "--person", idbuf, NULL};
        const char *age[] = {"person", "age", idbuf, NULL};
        const char *alias[] = {"person", "alias", idbuf, NULL};
        out_action(cli->out, "open a case for this person", new_case);
        out_action(cli->out, "correct the age or record a dispute", age);
        out_action(cli->out, "add another name they use", alias);
    }
    return cli_commit(cli);
}

static const struct ch_arg find_args[] = {
    {"name", CH_ARG_TEXT, 0, "a name, part of one, or an alias", NULL, "NAME", 0, 0},
    {"--dob", CH_ARG_DATE, 0, "date of birth", NULL, "YYYY-MM-DD", 0, 0},
};

/* `person find [NAME] [--dob DATE]`: by name, alias and date of birth, within the agency. */
static int person_find(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT id, name, aliases, date_of_birth, age, cases"
                              "  FROM casehost.person_find_v1($1, $2::date)";
    const char *params[2] = {v[0].text, v[1].text};
    PGresult *r;
    int rc;
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot search");
    out_result(cli->out, "people", r, 1);
    for (int i = 0; i < PQntuples(r) && i < 10; i++) {
        char label[96];
        const char *argv[] = {"person", "show", PQgetvalue(r, i, 0), NULL};
        snprintf(label, sizeof(label), "show person %s", PQgetvalue(r, i, 0));
        out_action(cli->out, label, argv);
    }
    if (PQntuples(r) == 0)
        out_message(cli->out, "nobody found; 'person add' records a new person");
    PQclear(r);
    return cli_commit(cli);
}

static const struct ch_arg alias_args[] = {
    {"person", CH_ARG_ID, CH_ARG_REQUIRED, "the person", NULL, NULL, 0, 0},
    {"alias", CH_ARG_TEXT, CH_ARG_REQUIRED, "another name they use or are called", NULL, "NAME", 0,
     0},
    {"--remove", CH_ARG_BOOL, 0, "remove this alias instead", NULL, NULL, 0, 0},
};

/* `person alias PERSON NAME [--remove]`. */
static int person_alias(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] =
        "SELECT array_to_string(casehost.person_alias_v1($1, $2, $3::boolean), ', ')";
    char idbuf[24];
    const char *params[3] = {idbuf, v[1].text, v[2].given && v[2].num ? "true" : "false"};
    PGresult *r;
    int rc;
    snprintf(idbuf, sizeof(idbuf), "%lld", v[0].num);
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 3, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot change the aliases");
    out_int(cli->out, "person", v[0].num);
    out_str(cli->out, "aliases", PQgetvalue(r, 0, 0));
    PQclear(r);
    return cli_commit(cli);
}

/* The person, then add_args' age options in their order (A_DOB .. A_DISPUTE_NOTE). */
static const struct ch_arg age_args[] = {
    {"person", CH_ARG_ID, CH_ARG_REQUIRED, "the person", NULL, NULL, 0, 0},
    {"--dob", CH_ARG_DATE, 0, "date of birth (replaces an estimate)", NULL, "YYYY-MM-DD", 0, 0},
    {"--age-estimate", CH_ARG_TEXT, 0,
     "age in years as estimated today, or a range LOW-HIGH (replaces a date of birth)", NULL,
     "YEARS|LOW-HIGH", 0, 0},
    {"--estimated-by", CH_ARG_TEXT, 0, "who estimated the age, and how", NULL, "WHO", 0, 0},
    {"--age-disputed", CH_ARG_BOOL, 0, "the age is disputed (yes needs --dispute-note)", NULL, NULL,
     0, 0},
    {"--dispute-note", CH_ARG_TEXT, 0, "what is doubted about the age, and by whom", NULL, "TEXT",
     0, 0},
};

/*
 * `person age PERSON ...`: a date of birth or an estimate learnt later, or a
 * dispute recorded or cleared. The old values go to the audit log.
 */
static int person_age(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT casehost.person_age_set_v1($1, $2::jsonb)";
    char idbuf[24];
    const char *params[2] = {idbuf, NULL};
    json_t *p = json_object();
    char *text = NULL;
    int rc;

    if ((rc = age_members(cli, &v[1], p)) != 0) {
        json_decref(p);
        return rc;
    }
    if (json_object_size(p) == 0) {
        json_decref(p);
        return cli_fail(cli, EXIT_USAGE,
                        "person age: nothing to change (give --dob, --age-estimate, "
                        "--estimated-by, --age-disputed or --dispute-note)");
    }
    text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    params[1] = text;
    snprintf(idbuf, sizeof(idbuf), "%lld", v[0].num);
    if ((rc = cli_session(cli, 1)) != 0 ||
        (rc = cli_check_input(cli, sql, 2, params, "22023", "cannot record the age")) != 0)
        goto out;
    if ((rc = cli_commit(cli)) != 0)
        goto out;
    out_int(cli->out, "person", v[0].num);
    out_message(cli->out, "age recorded");
out:
    free(text);
    return rc;
}

static const struct cli_command person_commands[] = {
    {CLI_SPEC("person", "add", "record a person (the youth a case is about)", add_args),
     person_add},
    {CLI_VIEW("person", "show", "show a person and their cases", show_args), person_show},
    {CLI_VIEW("person", "find", "find people by name, alias or date of birth", find_args),
     person_find},
    {CLI_SPEC("person", "alias", "add (or remove) another name a person uses", alias_args),
     person_alias},
    {CLI_SPEC("person", "age", "record a date of birth, an age estimate or an age dispute",
              age_args),
     person_age},
};

const struct cli_verb cli_verb_person = {"person", "record and show people", person_commands,
                                         CLI_N(person_commands), CLI_PLUGINS | CLI_LIVE | CLI_WEB};
