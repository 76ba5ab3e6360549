/*
 * cmd_case.c: `case new|list|show|update|close` and `note add`. Each write is
 * one call of a casehost.* SQL function followed by the plugins' hooks, all in
 * one transaction: if a hook fails, the case change is rolled back with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "cases.h"
#include "cli.h"

/* Case statuses, declared once: a case has one of them; `case list` also takes all. */
static const char *const case_filters[] = {HOST_CASE_STATUSES, "all", NULL};
/* A time option also takes none (clears it); the host checks only real times. */
static const char *const time_or_none[] = {"none", NULL};

/* The fields new and update both set, after --title; indexed by enum case_field. */
/* clang-format off */
#define CASE_FIELD_ARGS                                                                            \
    {"--status", CH_ARG_ENUM, 0, "where the case stands", host_case_statuses, NULL, 0, 0},              \
    {"--assignee", CH_ARG_TEXT, 0, "who works the case (a user name); none: nobody", NULL,         \
     "USER|none", 0, 0},                                                                           \
    {"--person", CH_ARG_TEXT, 0, "whom the case is about (a person id); none: nobody", NULL,       \
     "ID|none", 0, 0},                                                                             \
    {"--state", CH_ARG_TEXT, 0, "two-letter state code; none clears it", NULL, "XX", 0, 0},        \
    {"--county", CH_ARG_TEXT, 0, "county; none clears it", NULL, "NAME", 0, 0},                   \
    {"--runaway-start", CH_ARG_TIMESTAMP, 0, "when the youth left; none clears it", time_or_none,  \
     "TIME|none", 0, 0},                                                                           \
    {"--runaway-return", CH_ARG_TIMESTAMP, 0, "when the youth came back; none clears it",          \
     time_or_none, "TIME|none", 0, 0},                                                             \
    {"--cw-history", CH_ARG_BOOL, 0, "child welfare history: bare or yes|no", NULL, NULL, 0, 0},   \
    {"--jj-history", CH_ARG_BOOL, 0, "juvenile justice history: bare or yes|no", NULL, NULL, 0,    \
     0},                                                                                           \
    {"--flags", CH_ARG_TEXT, 0, "comma-separated flags, replacing the old ones; none: no flags",   \
     NULL, "a,b", 0, 0}
/* clang-format on */

enum case_field {
    F_TITLE,
    F_STATUS,
    F_ASSIGNEE,
    F_PERSON,
    F_STATE,
    F_COUNTY,
    F_RUNAWAY_START,
    F_RUNAWAY_RETURN,
    F_CW_HISTORY,
    F_JJ_HISTORY,
    F_FLAGS,
    N_FIELDS
};

/* The member of casehost.case_new/case_update's object each field sets. */
static const char *const field_keys[N_FIELDS] = {
    [F_TITLE] = "title",
    [F_STATUS] = "status",
    [F_ASSIGNEE] = "assignee",
    [F_PERSON] = "subject_id",
    [F_STATE] = "state",
    [F_COUNTY] = "county",
    [F_RUNAWAY_START] = "runaway_start",
    [F_RUNAWAY_RETURN] = "runaway_return",
    [F_CW_HISTORY] = "cw_history",
    [F_JJ_HISTORY] = "jj_history",
    [F_FLAGS] = "flags",
};

static const struct ch_arg new_args[] = {
    {"--title", CH_ARG_TEXT, CH_ARG_REQUIRED, "a short title", NULL, NULL, 0, 0},
    CASE_FIELD_ARGS,
};

/* update's own, after the fields: one flag at a time, the others kept. */
enum { U_ADD_FLAG = 1 + N_FIELDS, U_REMOVE_FLAG };
static const struct ch_arg update_args[] = {
    {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case to change", NULL, NULL, 0, 0},
    {"--title", CH_ARG_TEXT, 0, "a short title", NULL, NULL, 0, 0},
    CASE_FIELD_ARGS,
    [U_ADD_FLAG] = {"--add-flag", CH_ARG_TEXT, CH_ARG_REPEAT, "add one flag, keeping the others",
                    NULL, "FLAG", 0, 0},
    [U_REMOVE_FLAG] = {"--remove-flag", CH_ARG_TEXT, CH_ARG_REPEAT,
                       "remove one flag, keeping the others", NULL, "FLAG", 0, 0},
};

_Static_assert(CLI_N(new_args) == N_FIELDS && CLI_N(update_args) == U_REMOVE_FLAG + 1,
               "case new and update declare every field of enum case_field, in its order");

static const struct ch_arg close_args[] = {
    {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case to close", NULL, NULL, 0, 0},
    {"--reason", CH_ARG_TEXT, CH_ARG_REQUIRED, "why it is closed", NULL, NULL, 0, 0},
};

static const struct ch_arg list_args[] = {
    {"--status", CH_ARG_ENUM, 0, "only cases in this status (default: every one not closed)",
     case_filters, NULL, 0, 0},
    {"--mine", CH_ARG_BOOL, 0, "only cases assigned to you", NULL, NULL, 0, 0},
};

static const struct ch_arg show_args[] = {
    {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
};

static const struct ch_arg note_args[] = {
    {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    {"text", CH_ARG_TEXT, CH_ARG_REQUIRED, "the note", NULL, NULL, 0, 0},
};

static int is_none(const char *v)
{
    return strcmp(v, "none") == 0 || v[0] == '\0';
}

/*
 * --person ID|none: the id read by the one parser (its rule and message,
 * "--person: 'x' is not an id"); none is the caller's. 0 or -1 with err.
 */
static int person_id(const char *text, long long *id, char *err, size_t errlen)
{
    static const struct ch_arg arg[] = {{"--person", CH_ARG_ID, 0, NULL, NULL, NULL, 0, 0}};
    static const struct ch_command_spec spec = CLI_SPEC("case", NULL, NULL, arg);
    char *argv[] = {(char *)"--person", (char *)text};
    struct ch_value v;
    int rc = args_parse(&spec, 2, argv, 0, &v, err, errlen);
    args_release(&spec, &v);
    *id = v.num;
    return rc;
}

/* "a,b" as a JSON array; empty items and none are dropped. */
static json_t *flag_list(const char *p)
{
    json_t *arr = json_array();
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (n > 0 && !(n == 4 && strncmp(p, "none", 4) == 0))
            json_array_append_new(arr, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    return arr;
}

/*
 * Builds the field object casehost.case_new/case_update take from the
 * fields given (f indexed by enum case_field). 0 with *out (caller
 * json_decref()s), or an exit code after printing why.
 */
static int case_fields(struct cli *cli, const struct ch_value *f, int creating, json_t **out)
{
    json_t *fields = json_object();
    char err[256];
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *text = f[i].text;
        json_t *value;
        long long id;
        if (f[i].given == 0)
            continue;
        switch ((enum case_field)i) {
        case F_TITLE:
        case F_STATUS:
            value = json_string(text);
            break;
        case F_PERSON:
            if (is_none(text) && !creating) {
                value = json_null();
            } else if (person_id(text, &id, err, sizeof(err)) != 0) {
                json_decref(fields);
                return cli_fail(cli, EXIT_USAGE, "%s", err);
            } else {
                value = json_integer(id);
            }
            break;
        case F_CW_HISTORY:
        case F_JJ_HISTORY:
            value = json_boolean(f[i].num);
            break;
        case F_FLAGS:
            value = flag_list(text);
            break;
        default:
            value = is_none(text) ? json_null() : json_string(text);
            break;
        }
        json_object_set_new(fields, field_keys[i], value);
    }
    *out = fields;
    return 0;
}

/*
 * Flags come from the declared vocabulary (casehost.case_flag_kinds): an
 * unknown one is a usage error listing the valid ones, before any write.
 */
static int check_flags(struct cli *cli, const char *fields_json)
{
    static const char sql[] =
        "SELECT casehost.case_flags_check_v1(ARRAY(SELECT jsonb_array_elements_text("
        "    coalesce($1::jsonb->'flags', '[]') || coalesce($1::jsonb->'add_flags', '[]'))))";
    return cli_check_input(cli, sql, 1, &fields_json, "22023", "cannot check the flags");
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

static int case_new(struct cli *cli, const struct ch_value *v)
{
    json_t *fields = NULL;
    char *text = NULL, msg[64];
    int64_t id = 0;
    int rc;

    if ((rc = case_fields(cli, v, 1, &fields)) != 0)
        return rc;
    text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    if ((rc = cli_session(cli, 1)) != 0 || (rc = check_flags(cli, text)) != 0)
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

/* update and close share everything but the SQL and the event; text is the change. */
static int case_change(struct cli *cli, long long id, int closing, const char *text)
{
    char what[64], msg[96];
    PGresult *changes = NULL;
    int rc;

    if ((rc = cli_session(cli, 1)) != 0 || (!closing && (rc = check_flags(cli, text)) != 0))
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
    return rc;
}

static int case_update(struct cli *cli, const struct ch_value *v)
{
    json_t *fields;
    char *text;
    int rc;
    if ((rc = case_fields(cli, v + 1, 0, &fields)) != 0)
        return rc;
    if ((v[U_ADD_FLAG].given || v[U_REMOVE_FLAG].given) && v[1 + F_FLAGS].given) {
        json_decref(fields);
        return cli_fail(cli, EXIT_USAGE,
                        "case update %lld: --flags replaces the list; use it or "
                        "--add-flag/--remove-flag, not both",
                        v[0].num);
    }
    for (int k = U_ADD_FLAG; k <= U_REMOVE_FLAG; k++) {
        json_t *list = json_array();
        for (unsigned i = 0; i < v[k].given; i++)
            json_array_append_new(list, json_string(v[k].list[i]));
        if (v[k].given)
            json_object_set_new(fields, k == U_ADD_FLAG ? "add_flags" : "remove_flags", list);
        else
            json_decref(list);
    }
    if (json_object_size(fields) == 0) {
        json_decref(fields);
        return cli_fail(cli, EXIT_USAGE,
                        "case update %lld: nothing to change; "
                        "'casehost help case' lists the fields",
                        v[0].num);
    }
    text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    rc = case_change(cli, v[0].num, 0, text);
    free(text);
    return rc;
}

static int case_close(struct cli *cli, const struct ch_value *v)
{
    if (v[1].text[0] == '\0')
        return cli_fail(cli, EXIT_USAGE, "case close %lld: the reason is empty", v[0].num);
    return case_change(cli, v[0].num, 1, v[1].text);
}

void case_action(struct out *o, const char *id, const char *title)
{
    char label[300];
    const char *argv[] = {"case", "show", id, NULL};
    snprintf(label, sizeof(label), "case %s: %.250s", id, title);
    out_action(o, label, argv);
}

static int case_list(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] =
        "SELECT c.id, c.status, c.title, u.name AS assignee, c.state, c.county,"
        "       to_char(c.updated_at, 'YYYY-MM-DD HH24:MI') AS updated "
        "  FROM casehost.cases c LEFT JOIN casehost.users u ON u.id = c.assignee_id "
        " WHERE ($1 = 'all' OR ($1 = 'active' AND c.status <> 'closed') OR c.status = $1)"
        "   AND ($2 = '' OR c.assignee_id = casehost.current_actor())"
        " ORDER BY c.updated_at DESC, c.id DESC LIMIT 500";
    const char *params[2];
    PGresult *r;
    int rc;
    params[0] = v[0].given ? v[0].text : "active";
    params[1] = v[1].num ? "mine" : "";
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot list cases");
    out_result(cli->out, "cases", r, 1);
    for (int i = 0; i < PQntuples(r) && i < 25; i++) /* a link to each of the first */
        case_action(cli->out, PQgetvalue(r, i, 0), PQgetvalue(r, i, 2));
    PQclear(r);
    return cli_commit(cli);
}

static int case_show(struct cli *cli, const struct ch_value *v)
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
        "       h.old_value AS \"from\", h.new_value AS \"to\","
        "       concat(coalesce(u.name, 'the system'), ' changed ', replace(h.field, '_', ' '),"
        "              ' from ', coalesce(h.old_value, 'nothing'), ' to ',"
        "              coalesce(h.new_value, 'nothing')) AS what"
        "  FROM casehost.case_history h LEFT JOIN casehost.users u ON u.id = h.actor_id"
        " WHERE h.case_id = $1 ORDER BY h.id";
    static const char audit_sql[] = "SELECT casehost.audit('read', 'case', $1, NULL)";
    char idbuf[24], person[24] = "";
    const char *params[1] = {idbuf};
    PGresult *r = NULL;
    long long id = v[0].num;
    int rc, closed;

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
    closed = strcmp(PQgetvalue(r, 0, 2), "closed") == 0;
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
            if (i == 0 && PQntuples(r) == 1)
                snprintf(person, sizeof(person), "%s", PQgetvalue(r, 0, 0));
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
    {
        const char *note[] = {"note", "add", idbuf, NULL};
        const char *update[] = {"case", "update", idbuf, NULL};
        const char *close[] = {"case", "close", idbuf, NULL};
        const char *who[] = {"person", "show", person, NULL};
        out_action(cli->out, "add a note", note);
        out_action(cli->out, "change the case", update);
        if (!closed)
            out_action(cli->out, "close the case", close);
        if (person[0] != '\0')
            out_action(cli->out, "the person", who);
    }
    return cli_commit(cli);
}

static int note_add(struct cli *cli, const struct ch_value *v)
{
    int64_t note_id = 0;
    long long id = v[0].num;
    int rc;
    if (v[1].text[0] == '\0')
        return cli_fail(cli, EXIT_USAGE, "note add %lld: the note text is empty", id);
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    rc = finish(cli, case_note(&cli->ctx, &cli->loader, id, v[1].text, &note_id),
                "cannot add the note");
    if (rc != 0)
        return rc;
    out_int(cli->out, "note", note_id);
    out_int(cli->out, "case", id);
    out_message(cli->out, "note added");
    return EXIT_OK;
}

static const struct cli_command case_commands[] = {
    {CLI_SPEC("case", "new", "create a case", new_args), case_new},
    {CLI_VIEW("case", "list", "list cases, most recently changed first", list_args), case_list},
    {CLI_VIEW("case", "show", "show a case with its person, notes, history and plugin sections",
              show_args),
     case_show},
    {CLI_SPEC("case", "update", "change fields of a case", update_args), case_update},
    {CLI_SPEC("case", "close", "close a case", close_args), case_close},
};

static const struct cli_command note_commands[] = {
    {CLI_SPEC("note", "add", "add a note to a case", note_args), note_add},
};

const struct cli_verb cli_verb_case = {"case", "create, list, show, update and close cases",
                                       case_commands, CLI_N(case_commands),
                                       CLI_PLUGINS | CLI_LIVE | CLI_WEB};
const struct cli_verb cli_verb_note = {"note", "add a note to a case", note_commands,
                                       CLI_N(note_commands), CLI_PLUGINS | CLI_LIVE | CLI_WEB};
