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

static const char user_usage[] =
    "user add NAME --agency AGENCY --role caseworker|supervisor|admin|service\n"
    "         [--full-name TEXT] [--password-file FILE]\n"
    "user passwd NAME [--password-file FILE]   (asks on a terminal otherwise)\n"
    "user disable NAME\n"
    "user show NAME\n"
    "user list\n"
    "user config-admin NAME on|off   (the database owner: may NAME deploy configuration)";

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

static int user_add(struct cli *cli, int argc, char **argv)
{
    static const char sql[] = "SELECT user_id, db_role FROM casehost.user_add_v1($1, $2, $3, $4, $5)";
    struct opt opts[] = {{"--agency", 1, NULL, 0},        {"--role", 1, NULL, 0},
                         {"--full-name", 1, NULL, 0},     {"--password-file", 1, NULL, 0},
                         {NULL, 0, NULL, 0}};
    const char *pos[1] = {NULL}, *params[5];
    char password[PASSWORD_MAX], *verifier = NULL, msg[400];
    PGresult *r;
    int rc;

    if (opts_parse(argc, argv, 2, opts, pos, 1, user_usage) < 0)
        return EXIT_USAGE;
    if (pos[0] == NULL || !opts[0].given || !opts[1].given)
        return cli_fail(cli, EXIT_USAGE, "user add needs NAME, --agency and --role\nusage: %s",
                        user_usage);
    if (strcmp(opts[1].value, "caseworker") != 0 && strcmp(opts[1].value, "supervisor") != 0 &&
        strcmp(opts[1].value, "admin") != 0 && strcmp(opts[1].value, "service") != 0)
        return cli_fail(cli, EXIT_USAGE,
                        "user add %s: unknown role '%s' (caseworker, supervisor, admin or "
                        "service)",
                        pos[0], opts[1].value);
    if (opts[3].given && (rc = read_password(cli, opts[3].value, password, sizeof(password))) != 0)
        return rc;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    if (opts[3].given && (verifier = verifier_of(cli, password, pos[0])) == NULL)
        return EXIT_RUNTIME;
    params[0] = pos[0];
    params[1] = opts[2].given ? opts[2].value : NULL;
    params[2] = opts[1].value;
    params[3] = opts[0].value;
    params[4] = verifier;
    r = db_exec(cli->ctx.conn, sql, 5, params, cli->ctx.err, sizeof(cli->ctx.err));
    free(verifier);
    if (r == NULL) {
        char what[200];
        snprintf(what, sizeof(what), "cannot add user '%s'", pos[0]);
        return cli_db_fail(cli, what);
    }
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_int(cli->out, "user", strtoll(PQgetvalue(r, 0, 0), NULL, 10));
    out_str(cli->out, "name", pos[0]);
    out_str(cli->out, "db_role", PQgetvalue(r, 0, 1));
    snprintf(msg, sizeof(msg), "user '%s' added; PostgreSQL role '%s'%s", pos[0],
             PQgetvalue(r, 0, 1),
             opts[3].given ? "" : " (no password yet: peer login only until 'user passwd')");
    out_message(cli->out, msg);
    PQclear(r);
    return EXIT_OK;
}

static int user_passwd(struct cli *cli, int argc, char **argv)
{
    static const char sql[] = "SELECT casehost.user_passwd_v1($1, $2)";
    struct opt opts[] = {{"--password-file", 1, NULL, 0}, {NULL, 0, NULL, 0}};
    const char *pos[1] = {NULL}, *params[2];
    char password[PASSWORD_MAX], *verifier;
    PGresult *r;
    int rc;
    if (opts_parse(argc, argv, 2, opts, pos, 1, user_usage) < 0)
        return EXIT_USAGE;
    if (pos[0] == NULL)
        return cli_fail(cli, EXIT_USAGE, "user passwd needs NAME\nusage: %s", user_usage);
    if ((rc = read_password(cli, opts[0].given ? opts[0].value : NULL, password,
                            sizeof(password))) != 0)
        return rc;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    if ((verifier = verifier_of(cli, password, pos[0])) == NULL)
        return EXIT_RUNTIME;
    params[0] = pos[0];
    params[1] = verifier;
    r = db_exec(cli->ctx.conn, sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
    free(verifier);
    if (r == NULL)
        return cli_db_fail(cli, "cannot set the password");
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_str(cli->out, "name", pos[0]);
    out_str(cli->out, "db_role", PQgetvalue(r, 0, 0));
    snprintf(password, sizeof(password), "password of '%s' set", pos[0]);
    out_message(cli->out, password);
    PQclear(r);
    return EXIT_OK;
}

static int user_disable(struct cli *cli, int argc, char **argv)
{
    static const char sql[] = "SELECT casehost.user_disable_v1($1)";
    const char *pos[1] = {NULL};
    PGresult *r;
    int rc;
    if (opts_parse(argc, argv, 2, (struct opt[]){{NULL, 0, NULL, 0}}, pos, 1, user_usage) < 0)
        return EXIT_USAGE;
    if (pos[0] == NULL)
        return cli_fail(cli, EXIT_USAGE, "user disable needs NAME\nusage: %s", user_usage);
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 1, pos, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot disable the user");
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_str(cli->out, "name", pos[0]);
    out_str(cli->out, "db_role", PQgetvalue(r, 0, 0));
    {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "user '%s' disabled: it can no longer log in or act, its open sessions end, its "
                 "history stays",
                 pos[0]);
        out_message(cli->out, msg);
    }
    PQclear(r);
    return EXIT_OK;
}

static int user_show(struct cli *cli, int argc, char **argv, int list)
{
    static const char sql[] =
        "SELECT u.name, u.full_name, u.role, a.name AS agency, u.db_role,"
        "       u.disabled_at IS NOT NULL AS disabled,"
        "       to_char(u.created_at, 'YYYY-MM-DD HH24:MI') AS created"
        "  FROM casehost.users u JOIN casehost.agencies a ON a.id = u.agency_id"
        " WHERE $1::text IS NULL OR u.name = $1 ORDER BY a.name, u.name";
    const char *pos[1] = {NULL};
    PGresult *r;
    int rc;
    if (opts_parse(argc, argv, 2, (struct opt[]){{NULL, 0, NULL, 0}}, pos, list ? 0 : 1,
                   user_usage) < 0)
        return EXIT_USAGE;
    if (!list && pos[0] == NULL)
        return cli_fail(cli, EXIT_USAGE, "user show needs NAME\nusage: %s", user_usage);
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 1, pos, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot read users");
    if (!list && PQntuples(r) == 0) {
        PQclear(r);
        return cli_fail(cli, EXIT_RUNTIME, "unknown user \"%s\"", pos[0]);
    }
    out_result(cli->out, list ? "users" : "user", r, list);
    PQclear(r);
    return cli_commit(cli);
}

/* The database owner gives or takes an admin's right to deploy configuration. */
static int user_config_admin(struct cli *cli, int argc, char **argv)
{
    static const char sql[] = "SELECT casehost.user_config_admin_v1($1, $2::boolean)";
    const char *pos[2] = {NULL, NULL}, *params[2];
    PGresult *r;
    int rc;
    char msg[300];
    if (opts_parse(argc, argv, 2, (struct opt[]){{NULL, 0, NULL, 0}}, pos, 2, user_usage) < 0)
        return EXIT_USAGE;
    if (pos[0] == NULL || pos[1] == NULL ||
        (strcmp(pos[1], "on") != 0 && strcmp(pos[1], "off") != 0))
        return cli_fail(cli, EXIT_USAGE, "user config-admin needs NAME and on or off\nusage: %s",
                        user_usage);
    params[0] = pos[0];
    params[1] = strcmp(pos[1], "on") == 0 ? "true" : "false";
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot change the config_admin grant");
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_str(cli->out, "name", pos[0]);
    out_str(cli->out, "db_role", PQgetvalue(r, 0, 0));
    out_bool(cli->out, "config_admin", strcmp(pos[1], "on") == 0);
    snprintf(msg, sizeof(msg), "%s %s deploy configuration", pos[0],
             strcmp(pos[1], "on") == 0 ? "may now" : "may no longer");
    out_message(cli->out, msg);
    PQclear(r);
    return EXIT_OK;
}

int cmd_user(struct cli *cli, int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "add") == 0)
        return user_add(cli, argc, argv);
    if (strcmp(sub, "passwd") == 0)
        return user_passwd(cli, argc, argv);
    if (strcmp(sub, "disable") == 0)
        return user_disable(cli, argc, argv);
    if (strcmp(sub, "show") == 0)
        return user_show(cli, argc, argv, 0);
    if (strcmp(sub, "list") == 0)
        return user_show(cli, argc, argv, 1);
    if (strcmp(sub, "config-admin") == 0)
        return user_config_admin(cli, argc, argv);
    return cli_fail(cli, EXIT_USAGE, "user: unknown subcommand '%s'\nusage: %s", sub, user_usage);
}

/* ------------------------------------------------------------- agency --- */

static const char agency_usage[] =
    "agency add NAME [--kind KIND] [--state XX] [--county NAME]   (the database owner)\n"
    "agency show\n"
    "agency set [--time-zone ZONE] [--case-visibility agency|assigned]\n"
    "           [--notification-channel TEXT] [--assessment-destination ID]   (its admin)";

static const char agency_cols[] =
    "id, name, kind, state, county, time_zone, case_visibility, notification_channel,"
    " assessment_destination";

static int agency_add(struct cli *cli, int argc, char **argv)
{
    static const char sql[] = "SELECT casehost.agency_add($1, $2, $3, $4)";
    struct opt opts[] = {{"--kind", 1, NULL, 0},
                         {"--state", 1, NULL, 0},
                         {"--county", 1, NULL, 0},
                         {NULL, 0, NULL, 0}};
    const char *pos[1] = {NULL}, *params[4];
    PGresult *r;
    int rc;
    if (opts_parse(argc, argv, 2, opts, pos, 1, agency_usage) < 0)
        return EXIT_USAGE;
    if (pos[0] == NULL || pos[0][0] == '\0')
        return cli_fail(cli, EXIT_USAGE, "agency add needs a NAME\nusage: %s", agency_usage);
    params[0] = pos[0];
    for (int i = 0; i < 3; i++)
        params[i + 1] = opts[i].given ? opts[i].value : NULL;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 4, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL) {
        char what[300];
        snprintf(what, sizeof(what), "cannot add agency '%s'", pos[0]);
        return cli_db_fail(cli, what);
    }
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_int(cli->out, "agency", strtoll(PQgetvalue(r, 0, 0), NULL, 10));
    out_str(cli->out, "name", pos[0]);
    {
        char msg[300];
        snprintf(msg, sizeof(msg), "agency '%s' added", pos[0]);
        out_message(cli->out, msg);
    }
    PQclear(r);
    return EXIT_OK;
}

static int agency_show_or_set(struct cli *cli, int argc, char **argv, int set)
{
    static const char *const keys[] = {"time_zone", "case_visibility", "notification_channel",
                                       "assessment_destination"};
    struct opt opts[] = {{"--time-zone", 1, NULL, 0},
                         {"--case-visibility", 1, NULL, 0},
                         {"--notification-channel", 1, NULL, 0},
                         {"--assessment-destination", 1, NULL, 0},
                         {NULL, 0, NULL, 0}};
    char sql[400];
    char *text = NULL;
    const char *params[1];
    PGresult *r;
    int rc, any = 0;
    if (opts_parse(argc, argv, 2, set ? opts : opts + 4, NULL, 0, agency_usage) < 0)
        return EXIT_USAGE;
    if (set) {
        json_t *p = json_object();
        for (int i = 0; i < 4; i++)
            if (opts[i].given) {
                json_object_set_new(p, keys[i], json_string(opts[i].value));
                any = 1;
            }
        if (opts[1].given && strcmp(opts[1].value, "agency") != 0 &&
            strcmp(opts[1].value, "assigned") != 0) {
            json_decref(p);
            return cli_fail(cli, EXIT_USAGE,
                            "agency set: --case-visibility takes agency or assigned, not '%s'",
                            opts[1].value);
        }
        text = json_dumps(p, JSON_COMPACT);
        json_decref(p);
        if (!any) {
            free(text);
            return cli_fail(cli, EXIT_USAGE, "agency set needs a setting\nusage: %s",
                            agency_usage);
        }
        snprintf(sql, sizeof(sql), "SELECT %s FROM casehost.agency_settings_set_v1($1::jsonb)",
                 agency_cols);
    } else {
        snprintf(sql, sizeof(sql),
                 "SELECT %s FROM casehost.agencies WHERE id = casehost.current_agency()",
                 agency_cols);
    }
    params[0] = text;
    if ((rc = cli_session(cli, 1)) != 0) {
        free(text);
        return rc;
    }
    r = db_exec(cli->ctx.conn, sql, set ? 1 : 0, params, cli->ctx.err, sizeof(cli->ctx.err));
    free(text);
    if (r == NULL)
        return cli_db_fail(cli, set ? "cannot change the agency's settings"
                                    : "cannot read the agency");
    if ((rc = cli_commit(cli)) != 0) {
        PQclear(r);
        return rc;
    }
    out_result(cli->out, "agency", r, 0);
    PQclear(r);
    return EXIT_OK;
}

int cmd_agency(struct cli *cli, int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "add") == 0)
        return agency_add(cli, argc, argv);
    if (strcmp(sub, "show") == 0)
        return agency_show_or_set(cli, argc, argv, 0);
    if (strcmp(sub, "set") == 0)
        return agency_show_or_set(cli, argc, argv, 1);
    return cli_fail(cli, EXIT_USAGE, "agency: unknown subcommand '%s'\nusage: %s", sub,
                    agency_usage);
}
