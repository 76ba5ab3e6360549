/*
 * cli.h: what every host command shares: the loaded configuration and
 * plugins, the session with the database, the typed table a command is
 * declared by and the way a command fails. Commands return an exit code: 0 ok, 1 runtime failure,
 * 2 usage or configuration error.
 */
#ifndef CASEHOST_CLI_H
#define CASEHOST_CLI_H

#include "host.h"
#include "loader.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_ATTENTION = 3 };

struct cli {
    struct hostcfg hc;
    struct loader loader;
    struct diag diag;
    struct ch_ctx ctx;
    struct out *out;
    const char *config_path;
    int json;
    int csv;              /* --csv: the output's table as CSV (out_flush_csv) */
    const char *svg_path; /* --svg FILE: the output's chart written there (out_flush_svg) */
    int in_tx;
    char *live_dir;        /* private copy of the live generations; NULL when none */
    char live_hashes[512]; /* "plugin=hash;..." of what runs, to notice a deploy */
    /*
     * The typed command being run and its parsed values (borrowed, for the
     * run): cli_session checks its dates and times once the session is open,
     * before the command writes anything. NULL once checked.
     */
    const struct ch_command_spec *typed;
    const struct ch_value *typed_vals;
    /*
     * Set by the web server (core/web.c) for one request: messages of
     * cli_fail go to errf (NULL: stderr); each session's transaction acts as
     * the role act_as in its agency's time zone (db_start_as); web refuses what a web
     * page may not run (host verbs without CLI_WEB, ABI 1.0 commands,
     * own-transaction commands and database-less ones that are no view,
     * file arguments but the uploads in upload_dir).
     */
    FILE *errf;
    const char *act_as;
    int web;
    /*
     * The private folder the server wrote this request's uploaded files to
     * (NULL: none): a file argument on the web is accepted only from there.
     */
    const char *upload_dir;
    /*
     * The connection to the reports server (the host config's `reports`),
     * opened the first time a report runs and kept (a web worker reuses
     * it); owned, closed by whoever releases the cli. NULL when none.
     */
    PGconn *reports;
};

/*
 * Runs the command argv names (argv[0] the verb): a host verb, a plugin's
 * typed verb or an ABI 1.0 plugin command, as main does after the plugins
 * are loaded. Returns an exit code (EXIT_*), after cli_fail said why.
 */
int cli_run(struct cli *cli, int argc, char **argv);

/*
 * The typed command argv names (argv[0] the verb, argv[1] its sub), without
 * parsing its arguments; NULL when there is none (or only an ABI 1.0
 * command). Borrowed: static tables or the loader's.
 */
const struct ch_command_spec *cli_spec(const struct cli *cli, int argc, char **argv);

/*
 * With cli->web set: 0 when a web page may run spec with vals, else -1
 * with why in msg (a file argument reads the server's disk, unless the
 * server wrote it from an upload to cli->upload_dir; an own-transaction
 * command is a service's, and a database-less one may only show).
 */
int cli_web_refusal(const struct cli *cli, const struct ch_command_spec *spec,
                    const struct ch_value *vals, char *msg, size_t len);

/*
 * Connects, opens a transaction and reads who the connected role is. need_user
 * 0 allows a role that is no casehost user (the database owner adding an
 * agency or its first admin). Then checks the dates and times of the typed
 * command being run (cli->typed) with casehost.time_input_v1: no infinity,
 * epoch, BC or 5-digit years. Returns 0 or an exit code after printing why
 * (EXIT_USAGE naming the option of a refused date).
 */
int cli_session(struct cli *cli, int need_user);

/* 0 when the session's user has one of roles (NULL-terminated), else a usage failure. */
int cli_require_role(struct cli *cli, const char *verb, const char *const *roles);

/* The same check, printing nothing: 0, or -1 with why in msg ("tick needs the role ..."). */
int cli_role_refusal(const struct cli *cli, const char *verb, const char *const *roles, char *msg,
                     size_t len);

/* What to connect with: CASEHOST_DB when set, else database.conninfo (borrowed). */
const char *cli_conninfo(const struct cli *cli);

/*
 * Runs a checking query in the open session before anything is written: 0,
 * or EXIT_USAGE with the database's words when it fails with SQLSTATE
 * refusal (the check refused the input), else EXIT_RUNTIME headed by what.
 */
int cli_check_input(struct cli *cli, const char *sql, int n, const char *const *params,
                    const char *refusal, const char *what);

/*
 * Before a command flagged CH_CMD_REPORT runs, in the open session on the
 * primary: opens a read-only transaction as the same person on the reports
 * server (cli->reports, connected lazily) for api->conn, or, without a
 * `reports` group or (with fallback_to_primary) when that server cannot
 * serve, leaves the report on the primary and says so. Adds "data_as_of"
 * to the output. 0, or an exit code after saying why (the reports server
 * named).
 */
int cli_report_begin(struct cli *cli);

/* After the report ran: ends its transaction on the reports server, if any. */
void cli_report_end(struct cli *cli);

/* Commits the open transaction; 0 or EXIT_RUNTIME after printing why. */
int cli_commit(struct cli *cli);

/* Prints "casehost: message" (and ctx.err details) to stderr, rolls back, returns code. */
int cli_fail(struct cli *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same with the database's message of the last failed statement in cli->ctx.err. */
int cli_db_fail(struct cli *cli, const char *what);

/* ---- commands ---- */

/*
 * A host command: one verb-and-sub declared as the same typed table plugins
 * use (core/args.c parses it, `help` prints it), and its handler. The
 * handler gets one value per declared argument, in table order, after the
 * parse succeeded; it opens its own session (cli_session) when it needs one,
 * and the dates and times it was given are checked as that session opens.
 */
struct cli_command {
    struct ch_command_spec spec; /* spec.run and spec.ud are unused */
    int (*run)(struct cli *cli, const struct ch_value *v);
};

/* What main() prepares before a verb runs. */
enum cli_needs {
    CLI_PLUGINS = 1u << 0, /* the plugins loaded (their verbs, hooks and help) */
    CLI_LIVE = 1u << 1,    /* the live configuration generations, from the database */
    CLI_WEB = 1u << 2,     /* offered on the web pages (casehost serve) */
};

/* A host verb: its subcommands (or one command without a sub). */
struct cli_verb {
    const char *name;
    const char *help; /* one line for `help` */
    const struct cli_command *cmds;
    size_t n_cmds;
    unsigned needs; /* enum cli_needs */
};

/* Fills a spec of a host command with an argument table (an array) or none. */
#define CLI_SPEC(verb, sub, help, args)                                                            \
    {                                                                                              \
        sizeof(struct ch_command_spec), verb, sub, help, CH_SPEC_ARGS(args), NULL, NULL, 0, NULL   \
    }
#define CLI_SPEC_NO_ARGS(verb, sub, help)                                                          \
    {                                                                                              \
        sizeof(struct ch_command_spec), verb, sub, help, NULL, 0, sizeof(struct ch_arg), NULL,     \
            NULL, 0, NULL                                                                          \
    }
/* The same for a command that only shows (CH_CMD_VIEW: a web page runs it from a link). */
#define CLI_VIEW(verb, sub, help, args)                                                            \
    {                                                                                              \
        sizeof(struct ch_command_spec), verb, sub, help, CH_SPEC_ARGS(args), NULL, NULL,           \
            CH_CMD_VIEW, NULL                                                                      \
    }
#define CLI_VIEW_NO_ARGS(verb, sub, help)                                                          \
    {                                                                                              \
        sizeof(struct ch_command_spec), verb, sub, help, NULL, 0, sizeof(struct ch_arg), NULL,     \
            NULL, CH_CMD_VIEW, NULL                                                                \
    }
#define CLI_N(array) (sizeof(array) / sizeof((array)[0]))

/* An action that opens case id ("case 12: title"), for lists of cases. */
void case_action(struct out *o, const char *id, const char *title);

/* The verbs, one group per file. */
extern const struct cli_verb cli_verb_case, cli_verb_note;   /* cmd_case.c */
extern const struct cli_verb cli_verb_person;                /* cmd_people.c */
extern const struct cli_verb cli_verb_user, cli_verb_agency; /* cmd_users.c */
extern const struct cli_verb cli_verb_config;                /* cmd_config.c */
extern const struct cli_verb cli_verb_tick;                  /* cmd_tick.c */
extern const struct cli_verb cli_verb_serve;                 /* cmd_serve.c */
extern const struct cli_verb cli_verb_bridge;                /* cmd_bridge_rt.c */

/*
 * Connects (the connection stays in cli->ctx for the command) and points every
 * plugin that has a live configuration generation in the database at a
 * private copy of it. 0 or an exit code after saying why.
 */
int live_prepare(struct cli *cli);

/* Between cycles of a long-running command: 1 when a new generation went live (plugins
 * reloaded; the caller says so), 0 when nothing changed, -1 when it cannot tell (the old
 * one stays). */
int live_refresh(struct cli *cli);

/* Removes the private copy. */
void live_release(struct cli *cli);

/*
 * The host's word lists, declared once: the typed tables take them and a
 * test compares each with the database CHECK constraint that mirrors it.
 */
#define HOST_CASE_STATUSES "open", "in_progress", "waiting", "closed"
extern const char *const host_case_statuses[];     /* casehost.cases.status */
extern const char *const host_user_roles[];        /* casehost.users.role */
extern const char *const host_case_visibilities[]; /* casehost.agencies.case_visibility */

#endif
