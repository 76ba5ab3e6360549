/*
 * cmd_people.c: `person add|show`. People belong to the acting user's agency;
 * the write and its audit record are one SQL function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static int person_add(struct cli *cli, int argc, char **argv)
{
    static const char sql[] = "SELECT casehost.person_add($1::jsonb)";
    static const char usage[] = "person add [--given NAME] [--family NAME] "
                                "[--dob YYYY-MM-DD | --age-estimate YEARS] [--gender TEXT] "
                                "[--language TEXT] [--interpreter]";
    struct opt opts[] = {{"--given", 1, NULL, 0},       {"--family", 1, NULL, 0},
                         {"--dob", 1, NULL, 0},         {"--age-estimate", 1, NULL, 0},
                         {"--gender", 1, NULL, 0},      {"--language", 1, NULL, 0},
                         {"--interpreter", 0, NULL, 0}, {NULL, 0, NULL, 0}};
    static const char *const fields[] = {"given_name", "family_name",     "date_of_birth",
                                         NULL,         "gender_identity", "language"};
    json_t *p = NULL;
    char *text = NULL;
    PGresult *r = NULL;
    int rc;

    if (opts_parse(argc, argv, 2, opts, NULL, 0, usage) < 0)
        return EXIT_USAGE;
    if (opts[2].given && opts[3].given)
        return cli_fail(cli, EXIT_USAGE, "person add: give --dob or --age-estimate, not both");
    p = json_object();
    for (size_t i = 0; i < 6; i++)
        if (opts[i].given && fields[i] != NULL)
            json_object_set_new(p, fields[i], json_string(opts[i].value));
    if (opts[3].given) {
        char *end;
        long age = strtol(opts[3].value, &end, 10);
        if (opts[3].value[0] == '\0' || *end != '\0' || age < 0 || age > 120) {
            json_decref(p);
            return cli_fail(cli, EXIT_USAGE,
                            "person add: --age-estimate '%s' is not an age in years (0-120)",
                            opts[3].value);
        }
        json_object_set_new(p, "estimated_age", json_integer(age));
    }
    if (opts[6].given)
        json_object_set_new(p, "interpreter_needed", json_true());
    text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if ((rc = cli_session(cli, 1)) != 0 ||
        (opts[2].given && (rc = cli_check_time(cli, "--dob", opts[2].value)) != 0))
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

static int person_show(struct cli *cli, int argc, char **argv)
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
    const char *pos[1] = {NULL};
    char idbuf[24];
    const char *params[1] = {idbuf};
    PGresult *r;
    long long id;
    int rc;
    if (opts_parse(argc, argv, 2, (struct opt[]){{NULL, 0, NULL, 0}}, pos, 1, "person show ID") < 0)
        return EXIT_USAGE;
    if (parse_id(pos[0], "person", &id) != 0)
        return EXIT_USAGE;
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

int cmd_person(struct cli *cli, int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "add") == 0)
        return person_add(cli, argc, argv);
    if (strcmp(sub, "show") == 0)
        return person_show(cli, argc, argv);
    return cli_fail(cli, EXIT_USAGE, "person: unknown subcommand '%s'; 'casehost help person'",
                    sub);
}
