/*
 * typed.h: one verb's typed commands, the host's or a plugin's, handled one
 * way: the sub found, argv parsed by the one parser (core/args.c), usage
 * lines and `help VERB` (text or JSON) made from the tables. Opens no
 * session: running the command is the caller's callback.
 */
#ifndef CASEHOST_TYPED_H
#define CASEHOST_TYPED_H

#include "cli.h"

/* A verb's typed commands: the spec of each sub, in declaration order. */
struct typed_verb {
    const char *name;
    const char *help;
    const char *plugin;                   /* NULL: the host's */
    const struct ch_command_spec **specs; /* owned array; the specs are borrowed */
    size_t n;
};

/*
 * Fills tv with the commands of host verb hv (borrowed: static tables), or
 * with every sub of the typed plugin verb of ce (borrowed from l: valid
 * until the loader is released). 0, or -1 out of memory. Release with
 * typed_verb_release in both cases.
 */
int typed_host(struct typed_verb *tv, const struct cli_verb *hv);
int typed_plugin(struct typed_verb *tv, const struct loader *l, const struct command_entry *ce);
void typed_verb_release(struct typed_verb *tv);

/*
 * Runs the command of spec with its parsed values (borrowed for the call);
 * usage is its usage line, for messages. Returns an exit code.
 */
typedef int (*typed_run_fn)(struct cli *cli, const struct ch_command_spec *spec,
                            const struct ch_value *vals, const char *usage);

/*
 * The spec argv names (argv[0] the verb, argv[1] the sub when tv has subs),
 * without parsing its arguments: what main needs to know before it
 * connects. Borrowed from tv; NULL when argv names no sub of tv.
 */
const struct ch_command_spec *typed_find(const struct typed_verb *tv, int argc, char **argv);

/*
 * Finds the sub of tv named in argv[1] (argv[0] is the verb), parses the
 * rest against its table and calls run. A usage error is printed with the
 * usage and returns EXIT_USAGE before any connection. While run runs,
 * cli->typed names the command, so that cli_session checks its dates and
 * times. Returns run's exit code or EXIT_USAGE / EXIT_RUNTIME.
 */
int typed_run(struct cli *cli, const struct typed_verb *tv, int argc, char **argv,
              typed_run_fn run);

/*
 * `help VERB [SUB]`: "VERB: help" and each sub's usage, help and arguments
 * on stdout, or the same tables as JSON through cli->out (--json). A SUB tv
 * does not have is a usage error. Returns an exit code.
 */
int typed_help(struct cli *cli, const struct typed_verb *tv, const char *sub);

#endif
