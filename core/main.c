/*
 * main.c: the casehost command line. Reads the host config, loads plugins,
 * finds the verb (host or plugin) and runs it as the acting user inside one
 * transaction. The only place that decides exit codes and calls exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "migrate.h"

#ifndef CASEHOST_VERSION
#define CASEHOST_VERSION "0.1.0"
#endif

struct verb {
    const char *name;
    const char *help;
    const char *usage;
    int (*run)(struct cli *cli, int argc, char **argv);
};

static int cmd_help(struct cli *cli, int argc, char **argv);
static int cmd_plugin(struct cli *cli, int argc, char **argv);
static int cmd_db(struct cli *cli, int argc, char **argv);
static int cmd_tick(struct cli *cli, int argc, char **argv);

static const struct verb verbs[] = {
    {"case", "create, list, show, update and close cases",
     "case new --title TEXT [--person ID] [--assignee USER] [--state XX] [--county NAME]\n"
     "         [--runaway-start TIME] [--runaway-return TIME] [--cw-history] [--jj-history]\n"
     "         [--flags a,b]\n"
     "case list [--status open|in_progress|waiting|closed|all] [--mine]\n"
     "case show ID\n"
     "case update ID [--title TEXT] [--status STATUS] [--assignee USER|none] [--person ID|none]\n"
     "         [--state XX] [--county NAME] [--runaway-start TIME|none] [--runaway-return "
     "TIME|none]\n"
     "         [--cw-history yes|no] [--jj-history yes|no] [--flags a,b]\n"
     "case close ID --reason TEXT",
     cmd_case},
    {"note", "add a note to a case", "note add CASE TEXT", cmd_note},
    {"person", "record and show people",
     "person add [--given NAME] [--family NAME] [--dob YYYY-MM-DD | --age-estimate YEARS]\n"
     "           [--gender TEXT] [--language TEXT] [--interpreter]\n"
     "person show ID",
     cmd_person},
    {"user", "add, disable and show users; each is a PostgreSQL login role",
     "user add NAME --agency AGENCY --role caseworker|supervisor|admin|service\n"
     "         [--full-name TEXT] [--password-file FILE]\n"
     "user passwd NAME [--password-file FILE]\n"
     "user disable NAME\n"
     "user show NAME\n"
     "user list\n"
     "user config-admin NAME on|off",
     cmd_user},
    {"agency", "add agencies (the database owner); show and set your agency's settings",
     "agency add NAME [--kind KIND] [--state XX] [--county NAME]\n"
     "agency show\n"
     "agency set [--time-zone ZONE] [--case-visibility agency|assigned]\n"
     "           [--notification-channel TEXT] [--assessment-destination ID]",
     cmd_agency},
    {"plugin", "list loaded plugins", "plugin list", cmd_plugin},
    {"config", "check, deploy, list and roll back configuration generations",
     "config check [DIR]\n"
     "config deploy [DIR] [--note TEXT]\n"
     "config history\n"
     "config rollback HASH [--plugin NAME]",
     cmd_config},
    {"db", "apply or list database migrations", "db migrate\ndb status", cmd_db},
    {"tick", "run every plugin's periodic work once, or every N seconds (follows deploys)",
     "tick [--every SECONDS]", cmd_tick},
    {"help", "show commands, or the usage of one", "help [VERB]", cmd_help},
};

#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

/* ------------------------------------------------------------ session --- */

int cli_fail(struct cli *cli, int code, const char *fmt, ...)
{
    va_list ap;
    fputs("casehost: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
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

int cli_session(struct cli *cli, int need_user)
{
    const char *env = getenv("CASEHOST_DB");
    const char *conninfo = env != NULL && env[0] != '\0' ? env : cli->hc.conninfo;
    struct ch_ctx *ctx = &cli->ctx;

    if (ctx->conn == NULL)
        ctx->conn = db_connect(conninfo, ctx->err, sizeof(ctx->err));
    if (ctx->conn == NULL)
        return cli_fail(cli, EXIT_RUNTIME, "%s", ctx->err);
    if (db_start(ctx->conn, &ctx->dbuser, ctx->err, sizeof(ctx->err)) != 0)
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
    return 0;
}

int cli_require_role(struct cli *cli, const char *verb, const char *const *roles)
{
    char list[128] = "";
    size_t n = 0;
    for (const char *const *r = roles; *r != NULL; r++) {
        if (strcmp(cli->ctx.dbuser.role, *r) == 0)
            return 0;
        n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
                              r == roles ? "" : " or ", *r);
    }
    return cli_fail(cli, EXIT_USAGE, "%s needs the role %s; '%s' is a %s", verb, list,
                    cli->ctx.dbuser.name, cli->ctx.dbuser.role);
}

int cli_commit(struct cli *cli)
{
    if (db_run(cli->ctx.conn, "COMMIT", 0, NULL, cli->ctx.err, sizeof(cli->ctx.err)) != 0)
        return cli_db_fail(cli, "commit failed, nothing was saved");
    cli->in_tx = 0;
    return 0;
}

/* ------------------------------------------------------------ options --- */

struct opt *opt_get(struct opt *opts, const char *name)
{
    for (; opts->name != NULL; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

int opts_parse(int argc, char **argv, int from, struct opt *opts, const char **pos, int npos,
               const char *usage)
{
    int n = 0;
    for (int i = from; i < argc; i++) {
        const char *a = argv[i];
        struct opt *o;
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
            if (strcmp(a, "--") == 0 && i + 1 < argc)
                a = argv[++i];
            if (n >= npos) {
                fprintf(stderr, "casehost: unexpected argument '%s'\nusage: %s\n", a, usage);
                return -1;
            }
            pos[n++] = a;
            continue;
        }
        o = opt_get(opts, a);
        if (o == NULL) {
            fprintf(stderr, "casehost: unknown option '%s'\nusage: %s\n", a, usage);
            return -1;
        }
        if (o->given) {
            fprintf(stderr, "casehost: option '%s' given twice\n", a);
            return -1;
        }
        o->given = 1;
        o->value = "";
        /* takes_value 2: an optional value; a bare flag means "yes". */
        if (o->takes_value == 2 && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
            o->value = "yes";
        } else if (o->takes_value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "casehost: option '%s' needs a value\nusage: %s\n", a, usage);
                return -1;
            }
            o->value = argv[++i];
        }
    }
    return n;
}

/*
 * Digits only: strtoll alone would take " 7", "+7" and "-3", and clamp
 * 99999999999999999999 to LLONG_MAX with ERANGE instead of refusing it.
 */
int parse_id(const char *text, const char *what, long long *id)
{
    char *end = (char *)text;
    long long v;
    if (text == NULL) {
        fprintf(stderr, "casehost: missing %s id\n", what);
        return -1;
    }
    errno = 0;
    v = text[0] >= '0' && text[0] <= '9' ? strtoll(text, &end, 10) : 0;
    if (v <= 0 || errno == ERANGE || *end != '\0') {
        fprintf(stderr, "casehost: %s '%s' is not a valid id (a positive number)\n", what, text);
        return -1;
    }
    *id = v;
    return 0;
}

int cli_check_time(struct cli *cli, const char *option, const char *value)
{
    static const char sql[] = "SELECT casehost.time_input_v1($1, $2)";
    const char *params[2] = {option, value};
    PGresult *r = PQexecParams(cli->ctx.conn, sql, 2, NULL, params, NULL, NULL, 0);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    int rc = 0;
    db_round_trips++;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_error(cli->ctx.conn, r, cli->ctx.err, sizeof(cli->ctx.err));
        /* 22007 is the function's refusal; anything else is the database failing. */
        rc = state != NULL && strcmp(state, "22007") == 0
                 ? cli_fail(cli, EXIT_USAGE, "%s", cli->ctx.err)
                 : cli_db_fail(cli, "cannot check the date");
    }
    PQclear(r);
    return rc;
}

/* ----------------------------------------------------------- commands --- */

static int cmd_help(struct cli *cli, int argc, char **argv)
{
    if (argc >= 2) {
        const struct command_entry *ce = loader_command(&cli->loader, argv[1]);
        for (size_t i = 0; i < N_VERBS; i++)
            if (strcmp(verbs[i].name, argv[1]) == 0) {
                printf("%s: %s\n\nusage:\n  %s\n", verbs[i].name, verbs[i].help, verbs[i].usage);
                return EXIT_OK;
            }
        if (ce != NULL) {
            printf("%s: %s (plugin %s)\n\nusage:\n  %s\n", ce->cmd.verb, ce->cmd.help,
                   ce->plugin->conf->name, ce->cmd.usage ? ce->cmd.usage : ce->cmd.verb);
            return EXIT_OK;
        }
        return cli_fail(cli, EXIT_USAGE, "no command '%s'; 'casehost help' lists them", argv[1]);
    }
    printf("casehost %s: case management with plugins\n\n"
           "usage: casehost [-c CONFIG] [--json] VERB ...\n\ncommands:\n",
           CASEHOST_VERSION);
    for (size_t i = 0; i < N_VERBS; i++)
        printf("  %-12s %s\n", verbs[i].name, verbs[i].help);
    for (size_t i = 0; i < cli->loader.n_commands; i++)
        printf("  %-12s %s (plugin %s)\n", cli->loader.commands[i].cmd.verb,
               cli->loader.commands[i].cmd.help, cli->loader.commands[i].plugin->conf->name);
    printf("\n'casehost help VERB' shows a command's usage. Exit codes: 0 ok, 1 failure, "
           "2 usage or configuration error.\n");
    return EXIT_OK;
}

static const struct ch_plugin *loaded_plugin(const struct loader *l, const char *name)
{
    for (size_t i = 0; i < l->n_plugins; i++)
        if (strcmp(l->plugins[i]->conf->name, name) == 0)
            return l->plugins[i];
    return NULL;
}

static int cmd_plugin(struct cli *cli, int argc, char **argv)
{
    char abi[32];
    if (argc != 2 || strcmp(argv[1], "list") != 0)
        return cli_fail(cli, EXIT_USAGE, "usage: plugin list");
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

static int cmd_db(struct cli *cli, int argc, char **argv)
{
    int rc;
    if (argc != 2 || (strcmp(argv[1], "migrate") != 0 && strcmp(argv[1], "status") != 0))
        return cli_fail(cli, EXIT_USAGE, "usage: db migrate | db status");
    {
        const char *env = getenv("CASEHOST_DB");
        cli->ctx.conn =
            db_connect(env && env[0] ? env : cli->hc.conninfo, cli->ctx.err, sizeof(cli->ctx.err));
    }
    if (cli->ctx.conn == NULL)
        return cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
    if (strcmp(argv[1], "migrate") == 0)
        rc = migrate_apply(cli->ctx.conn, &cli->hc, cli->out, cli->ctx.err, sizeof(cli->ctx.err));
    else
        rc = migrate_status(cli->ctx.conn, &cli->hc, cli->out, cli->ctx.err, sizeof(cli->ctx.err));
    return rc == 0 ? EXIT_OK : cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
}

static volatile sig_atomic_t reload_requested, stop_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

/* One tick: every plugin's periodic work in one transaction, as a service or an admin. */
static int tick_once(struct cli *cli)
{
    static const char *const roles[] = {"service", "admin", NULL};
    struct ch_event_data ev = {sizeof(ev), CH_EV_TICK, 0, 0, NULL, 0};
    int rc;
    if (cli->ctx.conn == NULL) {
        if ((rc = cli_session(cli, 1)) != 0)
            return rc;
    } else {
        if (PQstatus(cli->ctx.conn) != CONNECTION_OK)
            PQreset(cli->ctx.conn);
        if (db_start(cli->ctx.conn, &cli->ctx.dbuser, cli->ctx.err, sizeof(cli->ctx.err)) != 0)
            return cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
        cli->in_tx = 1;
        if (cli->ctx.dbuser.id == 0)
            return cli_fail(cli, EXIT_RUNTIME, "role '%s' is no longer a casehost user",
                            PQuser(cli->ctx.conn));
        ctx_bind_user(&cli->ctx);
    }
    if ((rc = cli_require_role(cli, "tick", roles)) != 0)
        return rc;
    if (loader_fire(&cli->loader, &cli->ctx, &ev) != 0)
        return cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
    return cli_commit(cli);
}

/*
 * `tick` runs once (for cron); `tick --every SECONDS` keeps running, and on
 * SIGHUP re-reads every plugin's own configuration: a plugin whose new
 * configuration is broken says so and keeps the previous one.
 */
static int cmd_tick(struct cli *cli, int argc, char **argv)
{
    struct opt opts[] = {{"--every", 1, NULL, 0}, {NULL, 0, NULL, 0}};
    struct sigaction sa;
    long every;
    char *end;
    int rc;
    if (opts_parse(argc, argv, 1, opts, NULL, 0, "tick [--every SECONDS]") < 0)
        return EXIT_USAGE;
    if (!opts[0].given)
        return tick_once(cli);
    every = strtol(opts[0].value, &end, 10);
    if (opts[0].value[0] == '\0' || *end != '\0' || every < 1 || every > 86400)
        return cli_fail(cli, EXIT_USAGE, "tick --every takes 1 to 86400 seconds, not '%s'",
                        opts[0].value);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!stop_requested) {
        if (reload_requested) {
            reload_requested = 0;
            fprintf(stderr, "casehost: reloading plugin configuration\n");
            loader_reload(&cli->loader);
        }
        /* A deploy elsewhere: the new live generation from the next cycle on. */
        if (live_refresh(cli) < 0)
            fprintf(stderr, "casehost: cannot check the live configuration; keeping it\n");
        if ((rc = tick_once(cli)) != 0)
            return rc;
        for (long s = 0; s < every && !stop_requested && !reload_requested; s++)
            sleep(1);
    }
    return EXIT_OK;
}

static int run_plugin_command(struct cli *cli, const struct command_entry *ce, int argc,
                              char **argv)
{
    int rc = cli_session(cli, 1);
    int own_tx = (ce->cmd.flags & CH_CMD_OWN_TX) != 0;
    if (rc != 0)
        return rc;
    /* The login stays for the session; the command opens its own transactions. */
    if (own_tx && (rc = cli_commit(cli)) != 0)
        return rc;
    cli->ctx.plugin = ce->plugin;
    cli->ctx.err[0] = '\0';
    rc = ce->cmd.run(&cli->ctx, argc, argv, ce->cmd.ud);
    cli->ctx.plugin = NULL;
    if (rc == CH_USAGE)
        return cli_fail(cli, EXIT_USAGE, "%s%susage: %s", cli->ctx.err, cli->ctx.err[0] ? "\n" : "",
                        ce->cmd.usage);
    if (own_tx && PQtransactionStatus(cli->ctx.conn) != PQTRANS_IDLE)
        cli->in_tx = 1; /* left open: cli_fail or the check below rolls it back */
    if (rc != CH_OK && rc != CH_DECLINED)
        return cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err[0] ? cli->ctx.err : "failed");
    if (own_tx) {
        if (cli->in_tx)
            return cli_fail(cli, EXIT_RUNTIME,
                            "command '%s' left a transaction open; "
                            "it was rolled back",
                            ce->cmd.verb);
        return EXIT_OK;
    }
    return cli_commit(cli);
}

/* ---------------------------------------------------------------- main --- */

static const char as_gone[] =
    "--as is gone: casehost acts as the PostgreSQL role it connects as\n"
    "hint: connect as your own role: user= in CASEHOST_DB or database.conninfo, PGUSER, a "
    "service file, or peer authentication (INSTALL)";

/*
 * Takes --json out of argv wherever it is, and -c/--config before the verb
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
        } else if (strcmp(argv[i], "--version") == 0 && before_verb) {
            printf("casehost %s (plugin ABI %d.%d)\n", CASEHOST_VERSION, CH_ABI_MAJOR,
                   CH_ABI_MINOR);
            exit(EXIT_OK);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            argv[n++] = (char *)"help";
        } else {
            argv[n++] = argv[i];
        }
    }
    argv[n] = NULL;
    if (getenv("CASEHOST_USER") != NULL) {
        fprintf(stderr, "casehost: CASEHOST_USER is no longer read; %s\n", as_gone);
        return -1;
    }
    return n;
}

int main(int argc, char **argv)
{
    struct cli cli;
    const struct verb *v = NULL;
    const struct command_entry *ce;
    int rc;

    memset(&cli, 0, sizeof(cli));
    diag_init(&cli.diag, stderr);
    argc = global_options(&cli, argc, argv);
    if (argc < 0)
        return EXIT_USAGE;
    if (argc < 2) {
        fprintf(stderr, "usage: casehost [-c CONFIG] [--json] VERB ...\n"
                        "'casehost help' lists the commands\n");
        return EXIT_USAGE;
    }
    cli.out = out_new(cli.json);
    cli.ctx.out = cli.out;
    cli.ctx.json = cli.json;
    cli.ctx.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !cli.json;
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
     * plugin's configuration is broken. Every other command runs the
     * configuration generations live in the database (help and plugin list
     * show what is on disk, without a database).
     */
    if (strcmp(argv[1], "db") != 0 && strcmp(argv[1], "config") != 0) {
        if (strcmp(argv[1], "help") != 0 && strcmp(argv[1], "plugin") != 0 &&
            (rc = live_prepare(&cli)) != 0)
            goto out;
        if (loader_load_all(&cli.loader, &cli.hc, &cli.diag) == -2) {
            rc = EXIT_USAGE;
            goto out;
        }
    }

    for (size_t i = 0; i < N_VERBS; i++)
        if (strcmp(verbs[i].name, argv[1]) == 0)
            v = &verbs[i];
    ce = loader_command(&cli.loader, argv[1]);
    if (v != NULL)
        rc = v->run(&cli, argc - 1, argv + 1);
    else if (ce != NULL)
        rc = run_plugin_command(&cli, ce, argc - 1, argv + 1);
    else
        rc =
            cli_fail(&cli, EXIT_USAGE, "unknown command '%s'; 'casehost help' lists them", argv[1]);
    if (rc == EXIT_OK && out_flush(cli.out, stdout) != 0)
        rc = EXIT_RUNTIME;
out:
    if (cli.ctx.conn != NULL)
        PQfinish(cli.ctx.conn);
    loader_release(&cli.loader);
    live_release(&cli);
    hostcfg_release(&cli.hc);
    out_free(cli.out);
    return rc;
}
