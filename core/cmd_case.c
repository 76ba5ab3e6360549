/*
 * cmd_case.c: `case new|list|show|update|close` and `note add`. Each write is
 * one call of a casehost.* SQL function followed by the plugins' hooks, all in
 * one transaction: if a hook fails, the case change is rolled back with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cases.h"
#include "cli.h"

static const char case_usage[] = "see 'casehost help case'";

/* Options that set case fields; shared by new and update. */
static struct opt *case_field_opts(void)
{
    static struct opt opts[] = {
        {"--title", 1, NULL, 0},
        {"--status", 1, NULL, 0},
        {"--assignee", 1, NULL, 0},
        {"--person", 1, NULL, 0},
        {"--state", 1, NULL, 0},
        {"--county", 1, NULL, 0},
        {"--runaway-start", 1, NULL, 0},
        {"--runaway-return", 1, NULL, 0},
        {"--cw-history", 2, NULL, 0},
        {"--jj-history", 2, NULL, 0},
        {"--flags", 1, NULL, 0},
        {"--reason", 1, NULL, 0},
        {NULL, 0, NULL, 0},
    };
    for (struct opt *o = opts; o->name != NULL; o++) {
        o->given = 0;
        o->value = NULL;
    }
    return opts;
}

/* "yes"/"no" (and true/false) to a JSON boolean; NULL on anything else. */
static json_t *yes_no(const char *opt, const char *v)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
        return json_true();
    if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
        return json_false();
    fprintf(stderr, "casehost: %s takes yes or no, not '%s'\n", opt, v);
    return NULL;
}

static int is_none(const char *v)
{
    return strcmp(v, "none") == 0 || v[0] == '\0';
}

/*
 * Builds the field object casehost.case_new/case_update take from the options
 * given. Returns NULL after printing a usage error. Caller json_decref()s.
 */
static json_t *case_fields(struct opt *opts, int creating)
{
    static const struct {
        const char *opt, *field;
    } text[] = {{"--title", "title"},
                {"--status", "status"},
                {"--assignee", "assignee"},
                {"--state", "state"},
                {"--county", "county"},
                {"--runaway-start", "runaway_start"},
                {"--runaway-return", "runaway_return"}};
    json_t *f = json_object();
    struct opt *o;
    for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
        o = opt_get(opts, text[i].opt);
        if (!o->given)
            continue;
        if (is_none(o->value) && strcmp(text[i].field, "title") != 0 &&
            strcmp(text[i].field, "status") != 0)
            json_object_set_new(f, text[i].field, json_null());
        else
            json_object_set_new(f, text[i].field, json_string(o->value));
    }
    if ((o = opt_get(opts, "--person"))->given) {
        long long id;
        if (is_none(o->value) && !creating) {
            json_object_set_new(f, "subject_id", json_null());
        } else if (parse_id(o->value, "person", &id) != 0) {
            goto fail;
        } else {
            json_object_set_new(f, "subject_id", json_integer(id));
        }
    }
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "--jj-history" : "--cw-history";
        json_t *b;
        o = opt_get(opts, name);
        if (!o->given)
            continue;
        b = yes_no(name, o->value);
        if (b == NULL)
            goto fail;
        json_object_set_new(f, i ? "jj_history" : "cw_history", b);
    }
    if ((o = opt_get(opts, "--flags"))->given) {
        json_t *arr = json_array();
        const char *p = o->value;
        while (*p != '\0') {
            size_t n = strcspn(p, ",");
            if (n > 0 && !(n == 4 && strncmp(p, "none", 4) == 0))
                json_array_append_new(arr, json_stringn(p, n));
            p += n + (p[n] == ',');
        }
        json_object_set_new(f, "flags", arr);
    }
    return f;
fail:
    json_decref(f);
    return NULL;
}

/*
 * The time options given (other than "none") are checked by the database's
 * one rule for dates before the case function sees them: no infinity, epoch,
 * BC or 5-digit years. Needs the session; 0 or an exit code after printing why.
 */
static int check_times(struct cli *cli, struct opt *opts)
{
    static const char *const times[] = {"--runaway-start", "--runaway-return"};
    int rc;
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        struct opt *o = opt_get(opts, times[i]);
        if (o->given && !is_none(o->value) && (rc = cli_check_time(cli, o->name, o->value)) != 0)
            return rc;
    }
    return 0;
}

/* Commits after a case operation, or says why nothing was saved. */
static int finish(struct cli *cli, int rc, const char *what)
{
    if (rc == CASE_HOOK_ERROR)
        return cli_fail(cli, EXIT_RUNTIME, "%s\nnothing was saved", cli->ctx.err);
    if (rc != 0)
        return cli_db_fail(cli, what);
    return cli_commit(cli);
}

static int case_new(struct cli *cli, int argc, char **argv)
{
    struct opt *opts = case_field_opts();
    const char *pos[1];
    json_t *fields = NULL;
    char *text = NULL, msg[64];
    int64_t id = 0;
    int rc;

    if (opts_parse(argc, argv, 2, opts, pos, 0, case_usage) < 0)
        return EXIT_USAGE;
    if (!opt_get(opts, "--title")->given || opt_get(opts, "--reason")->given)
        return cli_fail(cli, EXIT_USAGE, "case new needs --title TEXT (and takes no --reason)");
    fields = case_fields(opts, 1);
    if (fields == NULL)
        return EXIT_USAGE;
    text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    if ((rc = cli_session(cli, 1)) != 0 || (rc = check_times(cli, opts)) != 0)
        goto out;
    rc = finish(cli, case_create(&cli->ctx, &cli->loader, text, &id), "cannot create the case");
    if (rc != 0)
        goto out;
    out_int(cli->out, "case", id);
    snprintf(msg, sizeof(msg), "case %lld created", (long long)id);
    out_message(cli->out, msg);
out:
    free(text);
    return rc;
}

/* update and close share everything but the SQL and the event. */
static int case_change(struct cli *cli, int argc, char **argv, int closing)
{
    struct opt *opts = case_field_opts();
    const char *pos[1] = {NULL};
    char *text = NULL, what[64], msg[96];
    PGresult *changes = NULL;
    long long id;
    int rc;

    if (opts_parse(argc, argv, 2, opts, pos, 1, case_usage) < 0)
        return EXIT_USAGE;
    if (parse_id(pos[0], "case", &id) != 0)
        return EXIT_USAGE;
    if (closing) {
        struct opt *reason = opt_get(opts, "--reason");
        if (!reason->given || reason->value[0] == '\0')
            return cli_fail(cli, EXIT_USAGE, "case close needs --reason TEXT");
        for (struct opt *o = opts; o->name != NULL; o++)
            if (o->given && o != reason)
                return cli_fail(cli, EXIT_USAGE, "case close takes only --reason, not %s", o->name);
        text = strdup(reason->value);
    } else {
        json_t *fields;
        if (opt_get(opts, "--reason")->given)
            return cli_fail(cli, EXIT_USAGE, "--reason belongs to 'case close'");
        fields = case_fields(opts, 0);
        if (fields == NULL)
            return EXIT_USAGE;
        if (json_object_size(fields) == 0) {
            json_decref(fields);
            return cli_fail(cli, EXIT_USAGE,
                            "case update %lld: nothing to change; "
                            "'casehost help case' lists the fields",
                            id);
        }
        text = json_dumps(fields, JSON_COMPACT);
        json_decref(fields);
    }
    if ((rc = cli_session(cli, 1)) != 0 || (rc = check_times(cli, opts)) != 0)
        goto out;
    snprintf(what, sizeof(what), "case %lld", id);
    rc = finish(cli, case_modify(&cli->ctx, &cli->loader, id, closing, text, &changes), what);
    if (rc != 0)
        goto out;
    out_int(cli->out, "case", id);
    out_result(cli->out, "changes", changes, 1);
    snprintf(msg, sizeof(msg),
             PQntuples(changes) == 0 ? "case %lld: nothing changed"
             : closing               ? "case %lld closed"
                                     : "case %lld updated",
             id);
    out_message(cli->out, msg);
out:
    PQclear(changes);
    free(text);
    return rc;
}

static int case_list(struct cli *cli, int argc, char **argv)
{
    static const char sql[] =
        "SELECT c.id, c.status, c.title, u.name AS assignee, c.state, c.county,"
        "       to_char(c.updated_at, 'YYYY-MM-DD HH24:MI') AS updated "
        "  FROM casehost.cases c LEFT JOIN casehost.users u ON u.id = c.assignee_id "
        " WHERE ($1 = 'all' OR ($1 = 'active' AND c.status <> 'closed') OR c.status = $1)"
        "   AND ($2 = '' OR c.assignee_id = casehost.current_actor())"
        " ORDER BY c.updated_at DESC, c.id DESC LIMIT 500";
    struct opt opts[] = {{"--status", 1, NULL, 0}, {"--mine", 0, NULL, 0}, {NULL, 0, NULL, 0}};
    const char *params[2];
    PGresult *r;
    int rc;
    if (opts_parse(argc, argv, 2, opts, NULL, 0, case_usage) < 0)
        return EXIT_USAGE;
    params[0] = opts[0].given ? opts[0].value : "active";
    params[1] = opts[1].given ? "mine" : "";
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot list cases");
    out_result(cli->out, "cases", r, 1);
    PQclear(r);
    return cli_commit(cli);
}

static int case_show(struct cli *cli, int argc, char **argv)
{
    static const char case_sql[] =
        "SELECT c.id, c.title, c.status, a.name AS agency, u.name AS assignee,"
        "       c.state, c.county, to_char(c.runaway_start, 'YYYY-MM-DD HH24:MI TZ') AS "
        "runaway_start,"
        "       to_char(c.runaway_return, 'YYYY-MM-DD HH24:MI TZ') AS runaway_return,"
        "       c.cw_history AS child_welfare_history, c.jj_history AS juvenile_justice_history,"
        "       to_jsonb(c.flags) AS flags, c.close_reason, cu.name AS created_by,"
        "       to_char(c.created_at, 'YYYY-MM-DD HH24:MI TZ') AS created_at,"
        "       to_char(c.updated_at, 'YYYY-MM-DD HH24:MI TZ') AS updated_at "
        "  FROM casehost.cases c JOIN casehost.agencies a ON a.id = c.agency_id"
        "  LEFT JOIN casehost.users u ON u.id = c.assignee_id"
        "  LEFT JOIN casehost.users cu ON cu.id = c.created_by WHERE c.id = $1";
    static const char person_sql[] =
        "SELECT p.id, concat_ws(' ', p.given_name, p.family_name) AS name,"
        "       casehost.person_age(p) AS age,"
        "       CASE WHEN p.date_of_birth IS NOT NULL THEN 'date of birth'"
        "            WHEN p.estimated_age IS NOT NULL THEN 'estimated' ELSE 'unknown' END"
        "         AS age_basis, p.gender_identity, p.language, p.interpreter_needed"
        "  FROM casehost.people p JOIN casehost.cases c ON c.subject_id = p.id WHERE c.id = $1";
    static const char notes_sql[] =
        "SELECT n.id, to_char(n.created_at, 'YYYY-MM-DD HH24:MI') AS at, u.name AS author,"
        "       n.body FROM casehost.notes n JOIN casehost.users u ON u.id = n.author_id"
        " WHERE n.case_id = $1 ORDER BY n.id";
    static const char history_sql[] =
        "SELECT to_char(h.changed_at, 'YYYY-MM-DD HH24:MI:SS') AS at, u.name AS by, h.field,"
        "       h.old_value AS \"from\", h.new_value AS \"to\""
        "  FROM casehost.case_history h LEFT JOIN casehost.users u ON u.id = h.actor_id"
        " WHERE h.case_id = $1 ORDER BY h.id";
    static const char audit_sql[] = "SELECT casehost.audit('read', 'case', $1, NULL)";
    const char *pos[1] = {NULL};
    char idbuf[24];
    const char *params[1] = {idbuf};
    PGresult *r = NULL;
    long long id;
    int rc;

    if (opts_parse(argc, argv, 2, (struct opt[]){{NULL, 0, NULL, 0}}, pos, 1, case_usage) < 0)
        return EXIT_USAGE;
    if (parse_id(pos[0], "case", &id) != 0)
        return EXIT_USAGE;
    snprintf(idbuf, sizeof(idbuf), "%lld", id);
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, case_sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot read the case");
    if (PQntuples(r) == 0) {
        PQclear(r);
        return cli_fail(cli, EXIT_RUNTIME, "case %lld not found", id);
    }
    out_object(cli->out, "case");
    out_row(cli->out, r, 0);
    PQclear(r);
    out_end(cli->out);
    {
        static const char *const sections[][2] = {
            {"person", person_sql}, {"notes", notes_sql}, {"history", history_sql}};
        for (size_t i = 0; i < 3; i++) {
            r = db_exec(cli->ctx.conn, sections[i][1], 1, params, cli->ctx.err,
                        sizeof(cli->ctx.err));
            if (r == NULL)
                return cli_db_fail(cli, "cannot read the case");
            if (i == 0 && PQntuples(r) == 0)
                out_str(cli->out, "person", NULL);
            else
                out_result(cli->out, sections[i][0], r, i != 0);
            PQclear(r);
        }
    }
    if (loader_render(&cli->loader, &cli->ctx, id) != 0)
        return cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
    if (db_run(cli->ctx.conn, audit_sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err)) != 0)
        return cli_db_fail(cli, "cannot audit the read");
    return cli_commit(cli);
}

int cmd_case(struct cli *cli, int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "new") == 0)
        return case_new(cli, argc, argv);
    if (strcmp(sub, "list") == 0)
        return case_list(cli, argc, argv);
    if (strcmp(sub, "show") == 0)
        return case_show(cli, argc, argv);
    if (strcmp(sub, "update") == 0)
        return case_change(cli, argc, argv, 0);
    if (strcmp(sub, "close") == 0)
        return case_change(cli, argc, argv, 1);
    return cli_fail(cli, EXIT_USAGE, "case: unknown subcommand '%s'; 'casehost help case'", sub);
}

int cmd_note(struct cli *cli, int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL};
    int64_t note_id = 0;
    long long id;
    int rc;
    if (argc < 2 || strcmp(argv[1], "add") != 0)
        return cli_fail(cli, EXIT_USAGE, "usage: note add CASE TEXT");
    if (opts_parse(argc, argv, 2, (struct opt[]){{NULL, 0, NULL, 0}}, pos, 2,
                   "note add CASE TEXT") < 0)
        return EXIT_USAGE;
    if (parse_id(pos[0], "case", &id) != 0)
        return EXIT_USAGE;
    if (pos[1] == NULL || pos[1][0] == '\0')
        return cli_fail(cli, EXIT_USAGE, "note add %lld: the note text is empty", id);
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    rc = finish(cli, case_note(&cli->ctx, &cli->loader, id, pos[1], &note_id),
                "cannot add the note");
    if (rc != 0)
        return rc;
    out_int(cli->out, "note", note_id);
    out_int(cli->out, "case", id);
    out_message(cli->out, "note added");
    return EXIT_OK;
}
