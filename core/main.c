/*
 * main.c: the casehost command line. Reads the host config, loads plugins,
 * finds the verb (host or plugin), parses its arguments against its typed
 * table (core/args.c, the one parser) and runs it as the acting user inside
 * one transaction. The only place that decides exit codes and calls exit.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "candidate.h"
#include "generation.h"
#include "cli.h"
#include "migrate.h"
#include "typed.h"

#ifndef CASEHOST_VERSION
#define CASEHOST_VERSION "0.1.0"
#endif

static int cmd_help(struct cli *cli, const struct ch_value *v);
static int cmd_plugin_list(struct cli *cli, const struct ch_value *v);
static int cmd_db_migrate(struct cli *cli, const struct ch_value *v);
static int cmd_db_status(struct cli *cli, const struct ch_value *v);

static const struct ch_arg help_args[] = {
    {"verb", CH_ARG_TEXT, 0, "the command to explain", NULL, NULL, 0, 0},
    {"sub", CH_ARG_TEXT, 0, "only this subcommand of it", NULL, NULL, 0, 0},
};

static const struct cli_command plugin_commands[] = {
    {CLI_SPEC_NO_ARGS("plugin", "list",
                      "the plugins the host config names, and whether they loaded"),
     cmd_plugin_list},
};

static const struct cli_command db_commands[] = {
    {CLI_SPEC_NO_ARGS("db", "migrate", "apply the host's and every plugin's pending migrations"),
     cmd_db_migrate},
    {CLI_SPEC_NO_ARGS("db", "status", "list the migrations, applied and pending"), cmd_db_status},
};

static const struct cli_command help_commands[] = {
    {CLI_SPEC("help", NULL, "list the commands, or show the usage of one", help_args), cmd_help},
};

/* help and plugin list show what is on disk, without a database; db needs no plugin. */
static const struct cli_verb plugin_verb = {"plugin", "list loaded plugins", plugin_commands,
                                            CLI_N(plugin_commands), CLI_PLUGINS};
static const struct cli_verb db_verb = {"db", "apply or list database migrations", db_commands,
                                        CLI_N(db_commands), 0};
static const struct cli_verb help_verb = {"help", "show commands, or the usage of one",
                                          help_commands, CLI_N(help_commands), CLI_PLUGINS};

/* Every host verb, in the order `help` lists them. */
static const struct cli_verb *const verbs[] = {
    &cli_verb_case,  &cli_verb_note,   &cli_verb_person,    &cli_verb_user, &cli_verb_agency,
    &plugin_verb,    &cli_verb_config, &cli_verb_candidate, &db_verb,       &cli_verb_tick,
    &cli_verb_serve, &cli_verb_bridge, &help_verb,
};

#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

/* The verbs no plugin may take (help and every host verb). */
static const char *host_verbs[N_VERBS + 1];

static const struct cli_verb *host_verb(const char *name)
{
    for (size_t i = 0; i < N_VERBS; i++)
        if (strcmp(verbs[i]->name, name) == 0)
            return verbs[i];
    return NULL;
}

static int check_typed_times(struct cli *cli);

/* ------------------------------------------------------------ session --- */

int cli_fail(struct cli *cli, int code, const char *fmt, ...)
{
    FILE *f = cli->errf != NULL ? cli->errf : stderr;
    va_list ap;
    if (cli->errf == NULL)
        fputs("casehost: ", f);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    if (cli->in_tx && cli->ctx.conn != NULL) {
        PQclear(PQexec(cli->ctx.conn, "ROLLBACK"));
        cli->in_tx = 0;
    }
    return code;
}

int cli_db_fail(struct cli *cli, const char *what)
{
    return cli_fail(cli, EXIT_RUNTIME, "%s: %s", what, cli->ctx.err);
}

void ctx_bind_user(struct ch_ctx *ctx)
{
    ctx->user.id = ctx->dbuser.id;
    ctx->user.name = ctx->dbuser.name;
    ctx->user.role = ctx->dbuser.role;
    ctx->user.agency_id = ctx->dbuser.agency_id;
    ctx->user.agency_name = ctx->dbuser.agency_name;
}

const char *cli_conninfo(const struct cli *cli)
{
    const char *env = getenv("CASEHOST_DB");
    return env != NULL && env[0] != '\0' ? env : cli->hc.conninfo;
}

int cli_session(struct cli *cli, int need_user)
{
    struct ch_ctx *ctx = &cli->ctx;

    if (ctx->conn == NULL)
        ctx->conn = db_connect(cli_conninfo(cli), ctx->err, sizeof(ctx->err));
    if (ctx->conn == NULL)
        return cli_fail(cli, EXIT_RUNTIME, "%s", ctx->err);
    if (db_start_as(ctx->conn, cli->act_as, &ctx->dbuser, ctx->err, sizeof(ctx->err)) != 0)
        return cli_fail(cli, EXIT_RUNTIME, "%s", ctx->err);
    cli->in_tx = 1;
    if (ctx->dbuser.id == 0 && need_user)
        return cli_fail(cli, EXIT_RUNTIME,
                        "connected as PostgreSQL role '%s', which is no casehost user (or is "
                        "disabled)\nhint: connect as your own role: user= in CASEHOST_DB or "
                        "database.conninfo, PGUSER, a service file, or peer authentication",
                        PQuser(ctx->conn));
    if (ctx->dbuser.id != 0)
        ctx_bind_user(ctx);
    return check_typed_times(cli);
}

int cli_role_refusal(const struct cli *cli, const char *verb, const char *const *roles, char *msg,
                     size_t len)
{
    char list[128] = "";
    size_t n = 0;
    for (const char *const *r = roles; *r != NULL; r++) {
        if (strcmp(cli->ctx.dbuser.role, *r) == 0)
            return 0;
        n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
                              r == roles ? "" : " or ", *r);
    }
    snprintf(msg, len, "%s needs the role %s; '%s' is a %s", verb, list, cli->ctx.dbuser.name,
             cli->ctx.dbuser.role);
    return -1;
}

int cli_require_role(struct cli *cli, const char *verb, const char *const *roles)
{
    char msg[256];
    if (cli_role_refusal(cli, verb, roles, msg, sizeof(msg)) == 0)
        return 0;
    return cli_fail(cli, EXIT_USAGE, "%s", msg);
}

int cli_commit(struct cli *cli)
{
    if (db_run(cli->ctx.conn, "COMMIT", 0, NULL, cli->ctx.err, sizeof(cli->ctx.err)) != 0)
        return cli_db_fail(cli, "commit failed, nothing was saved");
    cli->in_tx = 0;
    return 0;
}

/* ------------------------------------------------------- dates and times --- */

int cli_check_input(struct cli *cli, const char *sql, int n, const char *const *params,
                    const char *refusal, const char *what)
{
    PGresult *r = PQexecParams(cli->ctx.conn, sql, n, NULL, params, NULL, NULL, 0);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    int rc = 0;
    db_round_trips++;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_error(cli->ctx.conn, r, cli->ctx.err, sizeof(cli->ctx.err));
        rc = state != NULL && strcmp(state, refusal) == 0
                 ? cli_fail(cli, EXIT_USAGE, "%s", cli->ctx.err)
                 : cli_db_fail(cli, what);
    }
    PQclear(r);
    return rc;
}

/*
 * Checks a date or time with casehost.time_input_v1 (no infinity, epoch, BC
 * or 5-digit years; 22007 is its refusal) in the open session, before
 * anything is written.
 */
static int cli_check_time(struct cli *cli, const char *option, const char *value)
{
    static const char sql[] = "SELECT casehost.time_input_v1($1, $2)";
    const char *params[2] = {option, value};
    return cli_check_input(cli, sql, 2, params, "22007", "cannot check the date");
}

static int is_one_of(const char *const *words, const char *text)
{
    for (; words != NULL && *words != NULL; words++)
        if (strcmp(*words, text) == 0)
            return 1;
    return 0;
}

/*
 * The dates and times given to the typed command being run, checked once,
 * as its session opens. A date argument may list words it takes besides
 * dates in its values ("none" clears a time): those are the handler's.
 */
static int check_typed_times(struct cli *cli)
{
    const struct ch_command_spec *spec = cli->typed;
    int rc = 0;
    cli->typed = NULL;
    for (size_t i = 0; spec != NULL && i < spec->n_args && rc == 0; i++) {
        const struct ch_arg *a = args_at(spec, i);
        const struct ch_value *v = &cli->typed_vals[i];
        if (a->type != CH_ARG_DATE && a->type != CH_ARG_TIMESTAMP)
            continue;
        for (unsigned k = 0; k < v->given && rc == 0; k++) {
            const char *text = v->list != NULL ? v->list[k] : v->text;
            if (!is_one_of(a->values, text))
                rc = cli_check_time(cli, a->name, text);
        }
    }
    return rc;
}

/* ----------------------------------------------------------- commands --- */

/* `help`: every verb, the host's and then each plugin's once. */
static void help_list(struct cli *cli)
{
    const struct loader *l = &cli->loader;
    if (cli->json) {
        out_array(cli->out, "verbs");
        for (size_t i = 0; i < N_VERBS + l->n_commands; i++) {
            const struct command_entry *c = i < N_VERBS ? NULL : &l->commands[i - N_VERBS];
            if (c != NULL && loader_command(l, c->cmd.verb) != c) /* each verb once */
                continue;
            out_object(cli->out, NULL);
            out_str(cli->out, "verb", c ? c->cmd.verb : verbs[i]->name);
            out_str(cli->out, "help", c ? c->cmd.help : verbs[i]->help);
            out_str(cli->out, "plugin", c ? c->plugin->conf->name : NULL);
            out_bool(cli->out, "typed", c ? c->typed : 1);
            out_end(cli->out);
        }
        out_end(cli->out);
        return;
    }
    printf("casehost %s: case management with plugins\n\n"
           "usage: casehost [-c CONFIG] [--json|--csv] [--svg FILE] VERB ...\n\ncommands:\n",
           CASEHOST_VERSION);
    for (size_t i = 0; i < N_VERBS; i++)
        printf("  %-12s %s\n", verbs[i]->name, verbs[i]->help);
    for (size_t i = 0; i < l->n_commands; i++) {
        const struct command_entry *c = &l->commands[i];
        if (loader_command(l, c->cmd.verb) == c) /* each verb once */
            printf("  %-12s %s (plugin %s)\n", c->cmd.verb, c->cmd.help, c->plugin->conf->name);
    }
    printf("\n'casehost help VERB' shows a command's usage. Exit codes: 0 ok, 1 failure, "
           "2 usage or configuration error.\n");
}

static int cmd_help(struct cli *cli, const struct ch_value *v)
{
    const char *verb = v[0].text, *sub = v[1].text;
    const struct cli_verb *hv;
    const struct command_entry *ce;
    struct typed_verb tv = {NULL, NULL, NULL, NULL, 0};
    int rc;
    if (verb == NULL) {
        help_list(cli);
        return EXIT_OK;
    }
    hv = host_verb(verb);
    ce = hv == NULL ? loader_command(&cli->loader, verb) : NULL;
    if (hv == NULL && ce == NULL)
        return cli_fail(cli, EXIT_USAGE, "no command '%s'; 'casehost help' lists them", verb);
    if (ce != NULL && !ce->typed) { /* an ABI 1.0 command: its usage text */
        if (sub != NULL)
            return cli_fail(cli, EXIT_USAGE, "help: '%s' has no subcommands", verb);
        if (cli->json) {
            out_str(cli->out, "verb", ce->cmd.verb);
            out_str(cli->out, "help", ce->cmd.help);
            out_str(cli->out, "plugin", ce->plugin->conf->name);
            out_bool(cli->out, "typed", 0);
            out_str(cli->out, "usage", ce->cmd.usage ? ce->cmd.usage : ce->cmd.verb);
            out_array(cli->out, "subs");
            out_end(cli->out);
        } else {
            printf("%s: %s (plugin %s)\n\nusage:\n  %s\n", ce->cmd.verb, ce->cmd.help,
                   ce->plugin->conf->name, ce->cmd.usage ? ce->cmd.usage : ce->cmd.verb);
        }
        return EXIT_OK;
    }
    if ((hv != NULL ? typed_host(&tv, hv) : typed_plugin(&tv, &cli->loader, ce)) != 0)
        return cli_fail(cli, EXIT_RUNTIME, "out of memory");
    rc = typed_help(cli, &tv, sub);
    typed_verb_release(&tv);
    return rc;
}

static const struct ch_plugin *loaded_plugin(const struct loader *l, const char *name)
{
    for (size_t i = 0; i < l->n_plugins; i++)
        if (strcmp(l->plugins[i]->conf->name, name) == 0)
            return l->plugins[i];
    return NULL;
}

static int cmd_plugin_list(struct cli *cli, const struct ch_value *v)
{
    char abi[32];
    (void)v;
    out_array(cli->out, "plugins");
    for (size_t i = 0; i < cli->hc.n_plugins; i++) {
        const struct plugin_conf *pc = &cli->hc.plugins[i];
        const struct ch_plugin *p = loaded_plugin(&cli->loader, pc->name);
        out_object(cli->out, NULL);
        out_str(cli->out, "name", pc->name);
        out_str(cli->out, "version", p ? p->desc->version : NULL);
        if (p != NULL)
            snprintf(abi, sizeof(abi), "%u.%u", p->desc->abi_major, p->desc->abi_minor);
        out_str(cli->out, "abi", p ? abi : NULL);
        out_str(cli->out, "state", p ? "loaded" : "not loaded");
        out_bool(cli->out, "required", pc->required);
        out_str(cli->out, "file", pc->path);
        out_end(cli->out);
    }
    out_end(cli->out);
    snprintf(abi, sizeof(abi), "%d.%d", CH_ABI_MAJOR, CH_ABI_MINOR);
    out_str(cli->out, "host_abi", abi);
    return EXIT_OK;
}

/*
 * db migrate and db status connect without a session: the casehost schema
 * they read may not exist yet.
 */
static int cmd_db(struct cli *cli, int migrate)
{
    int rc;
    cli->ctx.conn = db_connect(cli_conninfo(cli), cli->ctx.err, sizeof(cli->ctx.err));
    if (cli->ctx.conn == NULL)
        return cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
    if (migrate)
        rc = migrate_apply(cli->ctx.conn, &cli->hc, cli->out, cli->ctx.err, sizeof(cli->ctx.err));
    else
        rc = migrate_status(cli->ctx.conn, &cli->hc, cli->out, cli->ctx.err, sizeof(cli->ctx.err));
    return rc == 0 ? EXIT_OK : cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
}

static int cmd_db_migrate(struct cli *cli, const struct ch_value *v)
{
    (void)v;
    return cmd_db(cli, 1);
}

static int cmd_db_status(struct cli *cli, const struct ch_value *v)
{
    (void)v;
    return cmd_db(cli, 0);
}

/*
 * After a plugin command returned rc: its usage on CH_USAGE, its message on
 * failure, the commit of the host's transaction (or the check that an
 * own-transaction command left none open).
 */
static int plugin_command_done(struct cli *cli, const struct command_entry *ce, int rc,
                               const char *usage)
{
    int own_tx = (ce->cmd.flags & (CH_CMD_OWN_TX | CH_CMD_NO_DB)) != 0;
    int done = rc == CH_ATTENTION ? EXIT_ATTENTION : EXIT_OK; /* once all is committed */
    cli_report_end(cli);
    if (rc == CH_ATTENTION)
        rc = CH_OK;
    if (rc == CH_USAGE)
        return cli_fail(cli, EXIT_USAGE, "%s%susage: %s", cli->ctx.err, cli->ctx.err[0] ? "\n" : "",
                        usage);
    if (own_tx && cli->ctx.conn != NULL && PQtransactionStatus(cli->ctx.conn) != PQTRANS_IDLE)
        cli->in_tx = 1; /* left open: cli_fail or the check below rolls it back */
    if (rc != CH_OK && rc != CH_DECLINED)
        return cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err[0] ? cli->ctx.err : "failed");
    if (own_tx) {
        if (cli->in_tx)
            return cli_fail(cli, EXIT_RUNTIME,
                            "command '%s' left a transaction open; "
                            "it was rolled back",
                            ce->cmd.verb);
        return done;
    }
    rc = cli_commit(cli);
    return rc == 0 ? done : rc;
}

/*
 * Logs in; an own-transaction command keeps the login but not the
 * transaction, and a command without a database gets neither. A report (a
 * view flagged CH_CMD_REPORT) may read the reports server.
 */
static int plugin_command_session(struct cli *cli, const struct command_entry *ce)
{
    const unsigned report = CH_CMD_VIEW | CH_CMD_REPORT;
    int rc = (ce->cmd.flags & CH_CMD_NO_DB) ? 0 : cli_session(cli, 1);
    if (rc == 0 && (ce->cmd.flags & CH_CMD_OWN_TX) && cli->in_tx)
        rc = cli_commit(cli);
    if (rc == 0 && (ce->cmd.flags & report) == report &&
        !(ce->cmd.flags & (CH_CMD_OWN_TX | CH_CMD_NO_DB)))
        rc = cli_report_begin(cli);
    cli->ctx.plugin = ce->plugin;
    cli->ctx.err[0] = '\0';
    return rc;
}

/* The flags of the plugin command argv names (its sub's, for a typed verb). */
static unsigned plugin_command_flags(const struct cli *cli, const struct command_entry *ce,
                                     int argc, char **argv)
{
    struct typed_verb tv;
    const struct ch_command_spec *spec;
    unsigned flags;
    if (!ce->typed)
        return ce->cmd.flags;
    if (typed_plugin(&tv, &cli->loader, ce) != 0)
        return 0;
    spec = typed_find(&tv, argc, argv);
    flags = spec != NULL ? spec->flags : 0;
    typed_verb_release(&tv);
    return flags;
}

/*
 * A command flagged CH_CMD_NO_DB runs with no connection, on the
 * configuration on disk. Its flag is known only once the plugins are
 * started, and they start on the live generation when a database answers:
 * then the connection is closed and the plugins start again from the files
 * on disk, as on a machine without a database. 0 or an exit code.
 */
static int without_database(struct cli *cli)
{
    if (cli->ctx.conn != NULL) {
        PQfinish(cli->ctx.conn);
        cli->ctx.conn = NULL;
    }
    if (cli->live_dir == NULL)
        return 0; /* the plugins already run the files on disk */
    for (size_t i = 0; i < cli->hc.n_plugins; i++) {
        free(cli->hc.plugins[i].config_root);
        cli->hc.plugins[i].config_root = NULL;
    }
    loader_release(&cli->loader);
    live_release(cli);
    return loader_load_all(&cli->loader, &cli->hc, &cli->diag) == -2 ? EXIT_USAGE : 0;
}

static int run_plugin_command(struct cli *cli, const struct command_entry *ce, int argc,
                              char **argv)
{
    int rc;
    if (cli->web)
        return cli_fail(cli, EXIT_USAGE, "'%s' is not available on the web pages", ce->cmd.verb);
    rc = plugin_command_session(cli, ce);
    if (rc != 0)
        return rc;
    rc = ce->cmd.run(&cli->ctx, argc, argv, ce->cmd.ud);
    cli->ctx.plugin = NULL;
    return plugin_command_done(cli, ce, rc, ce->cmd.usage);
}

/* The index of the argument of spec named name, or -1. */
static int arg_named(const struct ch_command_spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->n_args; i++)
        if (strcmp(args_at(spec, i)->name, name) == 0)
            return (int)i;
    return -1;
}

/*
 * A plugin command given --candidate ID (a typed command that declares it
 * next to --config DIR): the host reads the stored candidate as the person
 * running the command (only config admins may), writes it to a private
 * folder and hands the plugin that folder as --config, so the plugin reads
 * a candidate as it reads a folder on disk and needs no code of its own
 * for it, on the command line and on the web pages alike. 0 with *dir and
 * *copy (the values with --config filled; caller frees both, removing
 * *dir), or an exit code after saying why.
 */
static int plugin_candidate(struct cli *cli, const struct command_entry *ce,
                            const struct ch_command_spec *spec, const struct ch_value *vals,
                            char **dir, struct ch_value **copy, char **folder)
{
    int cand = arg_named(spec, "--candidate"), conf = arg_named(spec, "--config"), rc;
    size_t n;
    *dir = *folder = NULL;
    *copy = NULL;
    if (conf < 0 || args_at(spec, (size_t)conf)->type != CH_ARG_FILE)
        return cli_fail(cli, EXIT_RUNTIME,
                        "%s %s declares --candidate without --config DIR: a fault of plugin '%s'",
                        spec->verb, spec->sub ? spec->sub : "", ce->plugin->conf->name);
    for (size_t i = 0; i < spec->n_args; i++)
        if (args_at(spec, i)->type == CH_ARG_FILE && vals[i].given &&
            strncmp(args_at(spec, i)->name, "--config", 8) == 0)
            return cli_fail(cli, EXIT_USAGE, "%s: give a folder or --candidate, not both",
                            args_at(spec, i)->name);
    if ((rc = cli_session(cli, 1)) != 0 ||
        (rc = candidate_materialize(cli, vals[cand].text, dir)) != 0 || (rc = cli_commit(cli)) != 0)
        return rc;
    n = strlen(*dir) + strlen(ce->plugin->conf->name) + 2;
    *folder = malloc(n);
    *copy = calloc(spec->n_args + 1, sizeof(**copy));
    if (*folder == NULL || *copy == NULL)
        return cli_fail(cli, EXIT_RUNTIME, "out of memory");
    snprintf(*folder, n, "%s/%s", *dir, ce->plugin->conf->name);
    memcpy(*copy, vals, spec->n_args * sizeof(**copy));
    (*copy)[conf].given = 1;
    (*copy)[conf].text = *folder;
    return 0;
}

/*
 * Runs a plugin's handler on the private copy dir of a candidate: what the
 * plugin says about its files (through the host's configuration messages
 * and its failure) names them as the candidate does,
 * "trafficking/routing.cfg:12", never the private path.
 */
static int run_on_candidate(struct cli *cli, const struct ch_command_spec *spec,
                            const struct ch_value *vals, const char *dir)
{
    struct diag *d = cli->loader.diag;
    FILE *saved = d != NULL ? d->out : NULL, *mem = NULL;
    char *msgs = NULL, *err = NULL;
    size_t len = 0, errlen = 0;
    int rc;
    if (d != NULL && (mem = open_memstream(&msgs, &len)) != NULL)
        d->out = mem;
    rc = spec->run(&cli->ctx, vals, spec->ud);
    if (mem != NULL) {
        d->out = saved;
        if (fclose(mem) == 0 && msgs != NULL)
            candidate_unprivate(msgs, dir, cli->errf != NULL ? cli->errf : stderr);
        free(msgs);
    }
    if ((mem = open_memstream(&err, &errlen)) != NULL) {
        candidate_unprivate(cli->ctx.err, dir, mem);
        if (fclose(mem) == 0 && err != NULL)
            snprintf(cli->ctx.err, sizeof(cli->ctx.err), "%s", err);
        free(err);
    }
    return rc;
}

/* A plugin's typed command: logged in as a plugin command is, then its handler. */
static int run_plugin_typed(struct cli *cli, const struct ch_command_spec *spec,
                            const struct ch_value *vals, const char *usage)
{
    const struct command_entry *ce = NULL;
    int cand = arg_named(spec, "--candidate"), rc = 0;
    char *dir = NULL, *folder = NULL;
    struct ch_value *copy = NULL;
    for (size_t i = 0; i < cli->loader.n_commands && ce == NULL; i++)
        if (&cli->loader.commands[i].spec == spec)
            ce = &cli->loader.commands[i];
    if (cand >= 0 && vals[cand].given &&
        (rc = plugin_candidate(cli, ce, spec, vals, &dir, &copy, &folder)) != 0)
        goto out;
    if ((rc = plugin_command_session(cli, ce)) != 0)
        goto out;
    if (dir != NULL)
        rc = run_on_candidate(cli, spec, copy, dir);
    else
        rc = spec->run(&cli->ctx, vals, spec->ud);
    cli->ctx.plugin = NULL;
    rc = plugin_command_done(cli, ce, rc, usage);
out:
    if (dir != NULL) {
        candidate_private_remove(dir);
        free(dir);
    }
    free(folder);
    free(copy);
    return rc;
}

/* A host command: its handler decides what session it needs. */
static int run_host_typed(struct cli *cli, const struct ch_command_spec *spec,
                          const struct ch_value *vals, const char *usage)
{
    /* spec is the first member of its struct cli_command (see typed_host). */
    const struct cli_command *cmd = (const struct cli_command *)(const void *)spec;
    (void)usage;
    return cmd->run(cli, vals);
}

static int run_typed_command(struct cli *cli, const struct command_entry *ce, int argc, char **argv)
{
    struct typed_verb tv;
    int rc;
    if (typed_plugin(&tv, &cli->loader, ce) != 0)
        return cli_fail(cli, EXIT_RUNTIME, "out of memory");
    rc = typed_run(cli, &tv, argc, argv, run_plugin_typed);
    typed_verb_release(&tv);
    return rc;
}

static int run_host_verb(struct cli *cli, const struct cli_verb *hv, int argc, char **argv)
{
    struct typed_verb tv;
    int rc;
    if (typed_host(&tv, hv) != 0)
        return cli_fail(cli, EXIT_RUNTIME, "out of memory");
    rc = typed_run(cli, &tv, argc, argv, run_host_typed);
    typed_verb_release(&tv);
    return rc;
}

int cli_run(struct cli *cli, int argc, char **argv)
{
    const struct cli_verb *hv = host_verb(argv[0]);
    const struct command_entry *ce = hv == NULL ? loader_command(&cli->loader, argv[0]) : NULL;
    if (hv != NULL && cli->web && !(hv->needs & CLI_WEB))
        return cli_fail(cli, EXIT_USAGE, "'%s' is not available on the web pages", argv[0]);
    if (hv != NULL)
        return run_host_verb(cli, hv, argc, argv);
    if (ce != NULL && ce->typed)
        return run_typed_command(cli, ce, argc, argv);
    if (ce != NULL)
        return run_plugin_command(cli, ce, argc, argv);
    return cli_fail(cli, EXIT_USAGE, "unknown command '%s'; 'casehost help' lists them", argv[0]);
}

const struct ch_command_spec *cli_spec(const struct cli *cli, int argc, char **argv)
{
    const struct cli_verb *hv = argc > 0 ? host_verb(argv[0]) : NULL;
    const struct command_entry *ce =
        argc > 0 && hv == NULL ? loader_command(&cli->loader, argv[0]) : NULL;
    const struct ch_command_spec *spec = NULL;
    struct typed_verb tv;
    if (hv != NULL && cli->web && !(hv->needs & CLI_WEB))
        return NULL;
    if (hv != NULL ? typed_host(&tv, hv) != 0
                   : ce == NULL || !ce->typed || typed_plugin(&tv, &cli->loader, ce) != 0)
        return NULL;
    spec = typed_find(&tv, argc, argv); /* borrowed from the tables, not from tv */
    typed_verb_release(&tv);
    return spec;
}

int cli_web_refusal(const struct cli *cli, const struct ch_command_spec *spec,
                    const struct ch_value *vals, char *msg, size_t len)
{
    size_t up = cli->upload_dir != NULL ? strlen(cli->upload_dir) : 0;
    if (!cli->web)
        return 0;
    /*
     * A view that needs no database reads only the configuration the server
     * runs (or a stored candidate the host copies for it): it may run.
     */
    if ((spec->flags & (CH_CMD_OWN_TX | CH_CMD_NO_DB)) &&
        (spec->flags & (CH_CMD_NO_DB | CH_CMD_VIEW)) != (CH_CMD_NO_DB | CH_CMD_VIEW)) {
        snprintf(msg, len, "'%s%s%s' runs from the command line only", spec->verb,
                 spec->sub ? " " : "", spec->sub ? spec->sub : "");
        return -1;
    }
    /* A file the browser uploaded: the server wrote it to this request's private folder. */
    for (size_t i = 0; i < spec->n_args; i++)
        if (args_at(spec, i)->type == CH_ARG_FILE && vals[i].given &&
            !(up > 0 && strncmp(vals[i].text, cli->upload_dir, up) == 0 &&
              vals[i].text[up] == '/' && strstr(vals[i].text + up, "/..") == NULL)) {
            snprintf(msg, len, "%s: files are given on the command line only",
                     args_at(spec, i)->name);
            return -1;
        }
    return 0;
}

/* ---------------------------------------------------------------- main --- */

static const char as_gone[] =
    "--as is gone: casehost acts as the PostgreSQL role it connects as\n"
    "hint: connect as your own role: user= in CASEHOST_DB or database.conninfo, PGUSER, a "
    "service file, or peer authentication (INSTALL)";

/*
 * Takes --json, --csv and --svg FILE out of argv wherever they are (so
 * `report screenings --csv` works), and -c/--config before the verb
 * (after it, --config belongs to the command, as in routing replay --config
 * DIR). A leftover --as is a usage error. Returns the new argc or -1.
 */
static int global_options(struct cli *cli, int argc, char **argv)
{
    int n = 1;
    for (int i = 1; i < argc; i++) {
        int before_verb = n == 1;
        if (strcmp(argv[i], "--as") == 0 || strncmp(argv[i], "--as=", 5) == 0) {
            fprintf(stderr, "casehost: %s\n", as_gone);
            return -1;
        }
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && before_verb) {
            if (i + 1 >= argc) {
                fprintf(stderr, "casehost: option '%s' needs a value\n", argv[i]);
                return -1;
            }
            cli->config_path = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            cli->json = 1;
        } else if (strcmp(argv[i], "--csv") == 0) {
            cli->csv = 1;
        } else if (strcmp(argv[i], "--svg") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                fprintf(stderr, "casehost: option '--svg' needs a file name\n");
                return -1;
            }
            cli->svg_path = argv[++i];
        } else if (strcmp(argv[i], "--version") == 0 && before_verb) {
            /* The second line tells an admin which file an installed program reads. */
            printf("casehost %s (plugin ABI %d.%d)\nconfig: %s\n", CASEHOST_VERSION, CH_ABI_MAJOR,
                   CH_ABI_MINOR, hostcfg_default_path(cli->config_path));
            exit(EXIT_OK);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            argv[n++] = (char *)"help";
        } else {
            argv[n++] = argv[i];
        }
    }
    argv[n] = NULL;
    if (cli->csv && cli->json) {
        fprintf(stderr, "casehost: --csv and --json are two output formats; choose one\n");
        return -1;
    }
    if (getenv("CASEHOST_USER") != NULL) {
        fprintf(stderr, "casehost: CASEHOST_USER is no longer read; %s\n", as_gone);
        return -1;
    }
    return n;
}

/*
 * Writes path whole or not at all: into a temporary file beside it, then
 * renamed over it. 0 or EXIT_RUNTIME after saying why.
 */
static int write_svg_file(struct out *out, const char *path)
{
    char *tmp = NULL, err[256] = "";
    size_t n = strlen(path) + sizeof(".XXXXXX");
    int fd = -1, rc = EXIT_RUNTIME;
    FILE *f = NULL;
    if ((tmp = malloc(n)) == NULL) {
        fprintf(stderr, "casehost: --svg '%s': out of memory\n", path);
        goto out;
    }
    snprintf(tmp, n, "%s.XXXXXX", path); /* mkstemp's template */
    /* mkstemp makes it 0600, and so it stays: it holds an agency's figures */
    if ((fd = mkstemp(tmp)) < 0 || (f = fdopen(fd, "w")) == NULL) {
        fprintf(stderr, "casehost: --svg: cannot create a file beside '%s': %s\n", path,
                strerror(errno));
        goto out;
    }
    fd = -1;
    if (out_flush_svg(out, f, err, sizeof(err)) != 0 || fsync(fileno(f)) != 0) {
        fprintf(stderr, "casehost: --svg '%s': %s\n", path, err[0] ? err : strerror(errno));
        goto out;
    }
    if (fclose(f) != 0 || (f = NULL, rename(tmp, path) != 0)) {
        f = NULL;
        fprintf(stderr, "casehost: --svg: cannot write '%s': %s\n", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (f != NULL)
        fclose(f);
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp != NULL)
        unlink(tmp);
    free(tmp);
    return rc;
}

/*
 * The output of a command that succeeded (rc): its chart to --svg's file,
 * then the document as CSV, JSON or text. A command without a chart (for
 * --svg) or a table (for --csv) is refused before anything is written.
 */
static int flush_output(struct cli *cli, const char *verb, int rc)
{
    char err[256];
    if (cli->svg_path != NULL && !out_has_chart(cli->out)) {
        fprintf(stderr,
                "casehost: --svg: '%s' draws no chart; only a command that draws one (a "
                "report) can write --svg\n",
                verb);
        return EXIT_USAGE;
    }
    if (cli->csv && !out_has_table(cli->out, err, sizeof(err))) {
        fprintf(stderr, "casehost: --csv: '%s': %s; --csv writes a command's one table\n", verb,
                err);
        return EXIT_USAGE;
    }
    if (cli->svg_path != NULL && write_svg_file(cli->out, cli->svg_path) != 0)
        return EXIT_RUNTIME;
    if (cli->csv ? out_flush_csv(cli->out, stdout, err, sizeof(err)) != 0
                 : out_flush(cli->out, stdout) != 0)
        return EXIT_RUNTIME;
    return rc;
}

int main(int argc, char **argv)
{
    struct cli cli;
    const struct cli_verb *hv;
    const struct command_entry *ce;
    unsigned needs;
    int rc;

    memset(&cli, 0, sizeof(cli));
    for (size_t i = 0; i < N_VERBS; i++)
        host_verbs[i] = verbs[i]->name;
    loader_set_host_verbs(host_verbs);
    diag_init(&cli.diag, stderr);
    argc = global_options(&cli, argc, argv);
    if (argc < 0)
        return EXIT_USAGE;
    if (argc < 2) {
        fprintf(stderr, "usage: casehost [-c CONFIG] [--json|--csv] [--svg FILE] VERB ...\n"
                        "'casehost help' lists the commands\n");
        return EXIT_USAGE;
    }
    cli.out = out_new(cli.json);
    cli.ctx.out = cli.out;
    cli.ctx.json = cli.json;
    cli.ctx.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !cli.json && !cli.csv;
    if (cli.out == NULL)
        return EXIT_RUNTIME;

    if (hostcfg_load(&cli.hc, hostcfg_default_path(cli.config_path), &cli.diag) != 0) {
        /* config check still reports its verdict; every other command stops here. */
        if (strcmp(argv[1], "config") == 0) {
            out_str(cli.out, "config", cli.hc.path);
            out_int(cli.out, "plugins_loaded", 0);
            out_int(cli.out, "errors", cli.diag.errors);
            out_int(cli.out, "warnings", cli.diag.warnings);
            out_flush(cli.out, stdout);
        }
        rc = EXIT_USAGE;
        goto out;
    }
    /*
     * config loads its candidate itself, and migrations must run even when a
     * plugin's configuration is broken (each host verb says what it needs).
     * Every other command runs the configuration generations live in the
     * database; a plugin's verb needs both.
     */
    hv = host_verb(argv[1]);
    needs = hv != NULL ? hv->needs : CLI_PLUGINS | CLI_LIVE;
    if ((needs & CLI_LIVE) && (rc = live_prepare(&cli)) != 0)
        goto out;
    if ((needs & CLI_PLUGINS) && loader_load_all(&cli.loader, &cli.hc, &cli.diag) == -2) {
        rc = EXIT_USAGE;
        goto out;
    }

    ce = hv == NULL ? loader_command(&cli.loader, argv[1]) : NULL;
    if (ce != NULL && (plugin_command_flags(&cli, ce, argc - 1, argv + 1) & CH_CMD_NO_DB)) {
        if ((rc = without_database(&cli)) != 0)
            goto out;
    }
    rc = cli_run(&cli, argc - 1, argv + 1);
    /* EXIT_ATTENTION: done and committed, with something a person must see: output too. */
    if (rc != EXIT_OK && rc != EXIT_ATTENTION && cli.out != NULL)
        out_flush_alerts(cli.out, stderr); /* a failed command's alerts still reach a person */
    if (rc == EXIT_OK || rc == EXIT_ATTENTION)
        rc = flush_output(&cli, argv[1], rc);
out:
    if (cli.reports != NULL)
        PQfinish(cli.reports);
    if (cli.ctx.conn != NULL)
        PQfinish(cli.ctx.conn);
    loader_release(&cli.loader);
    live_release(&cli);
    hostcfg_release(&cli.hc);
    out_free(cli.out);
    return rc;
}
