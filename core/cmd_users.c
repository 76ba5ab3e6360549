/*
 * cmd_users.c: `user add|passwd|disable|show|list` and `agency add|show|set`.
 * Every person is a PostgreSQL login role; these commands call the SECURITY
 * DEFINER functions that alone may create or change such roles. A password
 * never travels in clear: the client turns it into a SCRAM verifier
 * (PQencryptPasswordConn) and never takes it from the command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

#define PASSWORD_MAX 1024

/* The roles a user has, declared once (casehost.users.role takes the same). */
static const char *const on_off[] = {"on", "off", NULL};
enum { ON, OFF }; /* indexes of on_off */

/* Reads one line from f into buf without its newline; -1 when none or too long. */
static int read_secret_line(FILE *f, char *buf, size_t size)
{
    size_t n;
    if (fgets(buf, (int)size, f) == NULL)
        return -1;
    n = strcspn(buf, "\r\n");
    if (buf[n] == '\0' && n == size - 1 && !feof(f))
        return -1;
    buf[n] = '\0';
    return 0;
}

/*
 * The password from FILE (first line; the file must not be readable by
 * others), or asked twice on the terminal with echo off. 0, or an exit code
 * after saying why.
 */
static int read_password(struct cli *cli, const char *file, char *buf, size_t size)
{
    if (file != NULL) {
        struct stat st;
        FILE *f = fopen(file, "r");
        int rc;
        if (f == NULL)
            return cli_fail(cli, EXIT_USAGE, "cannot read password file '%s': %s", file,
                            strerror(errno));
        if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRWXO | S_IWGRP)) != 0) {
            fclose(f);
            return cli_fail(cli, EXIT_USAGE,
                            "password file '%s' has mode %04o: others may read or change it\n"
                            "hint: chmod 600 '%s'",
                            file, (unsigned)(st.st_mode & 07777), file);
        }
        rc = read_secret_line(f, buf, size);
        fclose(f);
        if (rc != 0 || buf[0] == '\0')
            return cli_fail(cli, EXIT_USAGE,
                            "password file '%s': the first line must hold the password "
                            "(1 to %d bytes)",
                            file, (int)size - 2);
        return 0;
    }
    if (!isatty(STDIN_FILENO))
        return cli_fail(cli, EXIT_USAGE,
                        "no password: give --password-file FILE, or run on a terminal to be "
                        "asked (a password is never taken from the command line)");
    {
        struct termios old, quiet;
        char again[PASSWORD_MAX];
        int ok;
        if (tcgetattr(STDIN_FILENO, &old) != 0)
            return cli_fail(cli, EXIT_RUNTIME, "cannot read the terminal: %s", strerror(errno));
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fputs("New password: ", stderr);
        ok = read_secret_line(stdin, buf, size) == 0;
        fputs("\nAgain: ", stderr);
        ok = ok && read_secret_line(stdin, again, sizeof(again)) == 0;
        fputc('\n', stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        ok = ok && buf[0] != '\0' && strcmp(buf, again) == 0;
        memset(again, 0, sizeof(again));
        if (!ok)
            return cli_fail(cli, EXIT_USAGE, "the passwords were empty or did not match");
    }
    return 0;
}

/*
 * The SCRAM verifier of the password for role (malloc'd, caller frees), or
 * NULL after saying why. The clear password is wiped from buf.
 */
static char *verifier_of(struct cli *cli, char *password, const char *role)
{
    char *v = PQencryptPasswordConn(cli->ctx.conn, password, role, "scram-sha-256");
    char *copy = NULL;
    memset(password, 0, strlen(password));
    if (v == NULL) {
        snprintf(cli->ctx.err, sizeof(cli->ctx.err), "%s", PQerrorMessage(cli->ctx.conn));
        cli_db_fail(cli, "cannot encrypt the password");
        return NULL;
    }
    copy = strdup(v);
    PQfreemem(v);
    return copy;
}

static const struct ch_arg add_args[] = {
    {"name", CH_ARG_TEXT, CH_ARG_REQUIRED, "the user name (also names the PostgreSQL role)", NULL,
     NULL, 0, 0},
    {"--agency", CH_ARG_TEXT, CH_ARG_REQUIRED, "the agency the user works for", NULL, "AGENCY", 0,
     0},
    {"--role", CH_ARG_ENUM, CH_ARG_REQUIRED, "what the user may do", host_user_roles, NULL, 0, 0},
    {"--full-name", CH_ARG_TEXT, 0, "the user's full name", NULL, NULL, 0, 0},
    {"--password-file", CH_ARG_FILE, 0, "first line: the password (mode 600); else peer login only",
     NULL, NULL, 0, 0},
};

static int user_add(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] =
        "SELECT user_id, db_role FROM casehost.user_add_v1($1, $2, $3, $4, $5)";
    const char *name = v[0].text, *password_file = v[4].text, *params[5];
    char password[PASSWORD_MAX], *verifier = NULL, msg[400];
    PGresult *r;
    int rc;

    if (password_file != NULL &&
        (rc = read_password(cli, password_file, password, sizeof(password))) != 0)
        return rc;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    if (password_file != NULL && (verifier = verifier_of(cli, password, name)) == NULL)
        return EXIT_RUNTIME;
    params[0] = name;
    params[1] = v[3].text;
    params[2] = v[2].text;
    params[3] = v[1].text;
    params[4] = verifier;
    r = db_exec(cli->ctx.conn, sql, 5, params, cli->ctx.err, sizeof(cli->ctx.err));
    free(verifier);
    if (r == NULL) {
        char what[200];
        snprintf(what, sizeof(what), "cannot add user '%s'", name);
        return cli_db_fail(cli, what);
    }
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_int(cli->out, "user", strtoll(PQgetvalue(r, 0, 0), NULL, 10));
    out_str(cli->out, "name", name);
    out_str(cli->out, "db_role", PQgetvalue(r, 0, 1));
    /* On the web the next step is the password page; in a terminal, `user passwd`. */
    snprintf(msg, sizeof(msg), "user '%s' added; PostgreSQL role '%s'%s", name, PQgetvalue(r, 0, 1),
             password_file != NULL
                 ? ""
                 : (cli->web ? " (no password yet: an admin sets one under Change my password)"
                             : " (no password yet: peer login only until 'user passwd')"));
    out_message(cli->out, msg);
    PQclear(r);
    return EXIT_OK;
}

static const struct ch_arg passwd_args[] = {
    {"name", CH_ARG_TEXT, CH_ARG_REQUIRED, "the user", NULL, NULL, 0, 0},
    {"--password-file", CH_ARG_FILE, 0, "first line: the password (mode 600); else asked twice",
     NULL, NULL, 0, 0},
};

static int user_passwd(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT casehost.user_passwd_v1($1, $2)";
    const char *name = v[0].text, *params[2];
    char password[PASSWORD_MAX], *verifier;
    PGresult *r;
    int rc;
    if ((rc = read_password(cli, v[1].text, password, sizeof(password))) != 0)
        return rc;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    if ((verifier = verifier_of(cli, password, name)) == NULL)
        return EXIT_RUNTIME;
    params[0] = name;
    params[1] = verifier;
    r = db_exec(cli->ctx.conn, sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
    free(verifier);
    if (r == NULL)
        return cli_db_fail(cli, "cannot set the password");
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_str(cli->out, "name", name);
    out_str(cli->out, "db_role", PQgetvalue(r, 0, 0));
    snprintf(password, sizeof(password), "password of '%s' set", name);
    out_message(cli->out, password);
    PQclear(r);
    return EXIT_OK;
}

static const struct ch_arg name_args[] = {
    {"name", CH_ARG_TEXT, CH_ARG_REQUIRED, "the user", NULL, NULL, 0, 0},
};

static int user_disable(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT casehost.user_disable_v1($1)";
    const char *params[1] = {v[0].text};
    PGresult *r;
    int rc;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot disable the user");
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_str(cli->out, "name", params[0]);
    out_str(cli->out, "db_role", PQgetvalue(r, 0, 0));
    {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "user '%s' disabled: it can no longer log in or act, its open sessions end, its "
                 "history stays",
                 params[0]);
        out_message(cli->out, msg);
    }
    PQclear(r);
    return EXIT_OK;
}

/* `user unlock NAME`: an admin ends a web login lock (and its count of failures) early. */
static int user_unlock(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT casehost.web_unlock_v1($1)";
    const char *params[1] = {v[0].text};
    char msg[300];
    PGresult *r;
    int rc, was;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot unlock the user");
    was = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if ((rc = cli_commit(cli)) != 0)
        return rc;
    out_str(cli->out, "name", params[0]);
    out_bool(cli->out, "was_locked", was);
    snprintf(msg, sizeof(msg), "user '%s' %s; failed logins forgotten", params[0],
             was ? "unlocked: they may log in on the web again" : "was not locked");
    out_message(cli->out, msg);
    return EXIT_OK;
}

/* One user (name), or every user (name NULL). */
static int user_read(struct cli *cli, const char *name)
{
    static const char sql[] =
        "SELECT u.name, u.full_name, u.role, a.name AS agency, u.db_role,"
        "       u.disabled_at IS NOT NULL AS disabled,"
        "       to_char(u.created_at, 'YYYY-MM-DD HH24:MI') AS created"
        "  FROM casehost.users u JOIN casehost.agencies a ON a.id = u.agency_id"
        " WHERE $1::text IS NULL OR u.name = $1 ORDER BY a.name, u.name";
    const char *params[1] = {name};
    int list = name == NULL;
    PGresult *r;
    int rc;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot read users");
    if (!list && PQntuples(r) == 0) {
        PQclear(r);
        return cli_fail(cli, EXIT_RUNTIME, "unknown user \"%s\"", params[0]);
    }
    out_result(cli->out, list ? "users" : "user", r, list);
    PQclear(r);
    return cli_commit(cli);
}

static int user_show(struct cli *cli, const struct ch_value *v)
{
    return user_read(cli, v[0].text);
}

static int user_list(struct cli *cli, const struct ch_value *v)
{
    (void)v;
    return user_read(cli, NULL);
}

static const struct ch_arg config_admin_args[] = {
    {"name", CH_ARG_TEXT, CH_ARG_REQUIRED, "an admin", NULL, NULL, 0, 0},
    {"grant", CH_ARG_ENUM, CH_ARG_REQUIRED, "on: may deploy configuration; off: may not", on_off,
     NULL, 0, 0},
};

/* The database owner gives or takes an admin's right to deploy configuration. */
static int user_config_admin(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT casehost.user_config_admin_v1($1, $2::boolean)";
    const char *params[2];
    int on = v[1].num == ON;
    PGresult *r;
    int rc;
    char msg[300];
    params[0] = v[0].text;
    params[1] = on ? "true" : "false";
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot change the config_admin grant");
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_str(cli->out, "name", v[0].text);
    out_str(cli->out, "db_role", PQgetvalue(r, 0, 0));
    out_bool(cli->out, "config_admin", on);
    snprintf(msg, sizeof(msg), "%s %s deploy configuration", v[0].text,
             on ? "may now" : "may no longer");
    out_message(cli->out, msg);
    PQclear(r);
    return EXIT_OK;
}

static const struct cli_command user_commands[] = {
    {CLI_SPEC("user", "add", "add a user and their PostgreSQL login role (an admin)", add_args),
     user_add},
    {CLI_SPEC("user", "passwd", "set a user's password (asks on a terminal without a file)",
              passwd_args),
     user_passwd},
    {CLI_SPEC("user", "disable", "disable a user: no more logins, the history stays", name_args),
     user_disable},
    {CLI_SPEC("user", "unlock", "end a web login lock early (an admin)", name_args), user_unlock},
    {CLI_VIEW("user", "show", "show a user", name_args), user_show},
    {CLI_VIEW_NO_ARGS("user", "list", "list users"), user_list},
    {CLI_SPEC("user", "config-admin",
              "let an admin deploy configuration, or stop them (the database owner)",
              config_admin_args),
     user_config_admin},
};

const struct cli_verb cli_verb_user = {"user",
                                       "add, disable and show users; each is a PostgreSQL login "
                                       "role",
                                       user_commands, CLI_N(user_commands),
                                       CLI_PLUGINS | CLI_LIVE | CLI_WEB};

/* ------------------------------------------------------------- agency --- */

/* How widely an agency's cases are seen, declared once (casehost.agencies takes the same). */

static const char agency_cols[] =
    "id, name, kind, state, county, time_zone, case_visibility, notification_channel,"
    " assessment_destination, CASE WHEN taskforce_share THEN 'on' ELSE 'off' END AS"
    " taskforce_share, taskforce_share_by, taskforce_share_at";

static const struct ch_arg agency_add_args[] = {
    {"name", CH_ARG_TEXT, CH_ARG_REQUIRED, "the agency's name", NULL, NULL, 0, 0},
    {"--kind", CH_ARG_TEXT, 0, "what kind of agency it is", NULL, "KIND", 0, 0},
    {"--state", CH_ARG_TEXT, 0, "two-letter state code", NULL, "XX", 0, 0},
    {"--county", CH_ARG_TEXT, 0, "county", NULL, "NAME", 0, 0},
};

static int agency_add(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT casehost.agency_add($1, $2, $3, $4)";
    const char *name = v[0].text, *params[4] = {v[0].text, v[1].text, v[2].text, v[3].text};
    PGresult *r;
    int rc;
    if (name[0] == '\0')
        return cli_fail(cli, EXIT_USAGE, "agency add: the name is empty");
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 4, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL) {
        char what[300];
        snprintf(what, sizeof(what), "cannot add agency '%s'", name);
        return cli_db_fail(cli, what);
    }
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_int(cli->out, "agency", strtoll(PQgetvalue(r, 0, 0), NULL, 10));
    out_str(cli->out, "name", name);
    {
        char msg[300];
        snprintf(msg, sizeof(msg), "agency '%s' added", name);
        out_message(cli->out, msg);
    }
    PQclear(r);
    return EXIT_OK;
}

static const struct ch_arg agency_set_args[] = {
    {"--time-zone", CH_ARG_TEXT, 0, "the agency's time zone (as PostgreSQL names it)", NULL, "ZONE",
     0, 0},
    {"--case-visibility", CH_ARG_ENUM, 0,
     "agency: every worker sees every case; assigned: only their own", host_case_visibilities, NULL,
     0, 0},
    {"--notification-channel", CH_ARG_TEXT, 0, "where notifications go", NULL, NULL, 0, 0},
    {"--assessment-destination", CH_ARG_TEXT, 0, "where assessments are sent", NULL, "ID", 0, 0},
    {"--taskforce-share", CH_ARG_ENUM, 0,
     "on: the agency's figures count in the task force's suppressed totals; off: from now on not",
     on_off, NULL, 0, 0},
};

/*
 * The settings of the user's agency: shown, or changed first when settings
 * (a JSON object, NULL: show only) is given.
 */
static int agency_settings(struct cli *cli, const char *settings)
{
    char sql[640];
    const char *params[1] = {settings};
    PGresult *r;
    int rc;
    if (settings != NULL)
        snprintf(sql, sizeof(sql), "SELECT %s FROM casehost.agency_settings_set_v1($1::jsonb)",
                 agency_cols);
    else
        snprintf(sql, sizeof(sql),
                 "SELECT %s FROM casehost.agencies WHERE id = casehost.current_agency()",
                 agency_cols);
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, settings != NULL ? 1 : 0, params, cli->ctx.err,
                sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, settings != NULL ? "cannot change the agency's settings"
                                                 : "cannot read the agency");
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_result(cli->out, "agency", r, 0);
    PQclear(r);
    return EXIT_OK;
}

static int agency_show(struct cli *cli, const struct ch_value *v)
{
    (void)v;
    return agency_settings(cli, NULL);
}

static int agency_set(struct cli *cli, const struct ch_value *v)
{
    /* The member of casehost.agency_settings_set_v1's object each option sets. */
    static const char *const keys[] = {"time_zone", "case_visibility", "notification_channel",
                                       "assessment_destination", "taskforce_share"};
    json_t *p = json_object();
    char *text;
    int rc;
    for (size_t i = 0; i < CLI_N(keys); i++)
        if (v[i].given)
            json_object_set_new(p, keys[i], json_string(v[i].text));
    if (json_object_size(p) == 0) {
        json_decref(p);
        return cli_fail(cli, EXIT_USAGE,
                        "agency set needs a setting; 'casehost help agency' lists them");
    }
    text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    rc = agency_settings(cli, text);
    free(text);
    return rc;
}

static const struct cli_command agency_commands[] = {
    {CLI_SPEC("agency", "add", "add an agency (the database owner)", agency_add_args), agency_add},
    {CLI_VIEW_NO_ARGS("agency", "show", "show your agency's settings"), agency_show},
    {CLI_SPEC("agency", "set", "change your agency's settings (its admin)", agency_set_args),
     agency_set},
};

const struct cli_verb cli_verb_agency = {
    "agency", "add agencies (the database owner); show and set your agency's settings",
    agency_commands, CLI_N(agency_commands), CLI_PLUGINS | CLI_LIVE | CLI_WEB};
