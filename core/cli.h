/*
 * cli.h: what every host command shares: the loaded configuration and
 * plugins, the session with the database, option parsing and the way a
 * command fails. Commands return an exit code: 0 ok, 1 runtime failure,
 * 2 usage or configuration error.
 */
#ifndef CASEHOST_CLI_H
#define CASEHOST_CLI_H

#include "host.h"
#include "loader.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct cli {
    struct hostcfg hc;
    struct loader loader;
    struct diag diag;
    struct ch_ctx ctx;
    struct out *out;
    const char *config_path;
    int json;
    int in_tx;
    char *live_dir;        /* private copy of the live generations; NULL when none */
    char live_hashes[512]; /* "plugin=hash;..." of what runs, to notice a deploy */
};

/*
 * Connects, opens a transaction and reads who the connected role is. need_user
 * 0 allows a role that is no casehost user (the database owner adding an
 * agency or its first admin). Returns 0 or an exit code after printing why.
 */
int cli_session(struct cli *cli, int need_user);

/* 0 when the session's user has one of roles (NULL-terminated), else a usage failure. */
int cli_require_role(struct cli *cli, const char *verb, const char *const *roles);

/* Commits the open transaction; 0 or EXIT_RUNTIME after printing why. */
int cli_commit(struct cli *cli);

/* Prints "casehost: message" (and ctx.err details) to stderr, rolls back, returns code. */
int cli_fail(struct cli *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same with the database's message of the last failed statement in cli->ctx.err. */
int cli_db_fail(struct cli *cli, const char *what);

/* ---- options ---- */

struct opt {
    const char *name;  /* "--title" */
    int takes_value;   /* 0 flag, 1 required value, 2 optional value (bare = "yes") */
    const char *value; /* set by opts_parse; "" for a flag that was given */
    int given;
};

/*
 * Parses argv[from..] into opts and positional arguments (stored in pos,
 * at most npos). Returns the number of positionals, or -1 after printing a
 * usage error naming the option.
 */
int opts_parse(int argc, char **argv, int from, struct opt *opts, const char **pos, int npos,
               const char *usage);

/* Finds the option by name (must exist in the table). */
struct opt *opt_get(struct opt *opts, const char *name);

/* Parses a positive id or prints "what 'text' is not a valid id". */
int parse_id(const char *text, const char *what, long long *id);

/*
 * Checks a date or time option with casehost.time_input_v1 (no infinity,
 * epoch, BC or 5-digit years) in the open session, before anything is
 * written. 0, or an exit code after printing why (EXIT_USAGE naming option).
 */
int cli_check_time(struct cli *cli, const char *option, const char *value);

/* Commands, one per verb group. */
int cmd_case(struct cli *cli, int argc, char **argv);
int cmd_note(struct cli *cli, int argc, char **argv);
int cmd_person(struct cli *cli, int argc, char **argv);
int cmd_user(struct cli *cli, int argc, char **argv);
int cmd_agency(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);

/*
 * Connects (the connection stays in cli->ctx for the command) and points every
 * plugin that has a live configuration generation in the database at a
 * private copy of it. 0 or an exit code after saying why.
 */
int live_prepare(struct cli *cli);

/* Between cycles of a long-running command: 1 when a new generation went live (plugins
 * reloaded), 0 when nothing changed, -1 when it cannot tell (the old one stays). */
int live_refresh(struct cli *cli);

/* Removes the private copy. */
void live_release(struct cli *cli);

#endif
