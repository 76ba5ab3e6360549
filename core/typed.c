/*
 * typed.c: typed verbs (see typed.h), the host's and the plugins' alike.
 * Parsing is args.c's alone: nothing here reads an argument but the sub's
 * name, and nothing here touches the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "typed.h"

void typed_verb_release(struct typed_verb *tv)
{
    free(tv->specs);
    tv->specs = NULL;
    tv->n = 0;
}

/* hv's commands as a typed verb; 0 or -1 out of memory. Release with typed_verb_release. */
int typed_host(struct typed_verb *tv, const struct cli_verb *hv)
{
    tv->name = hv->name;
    tv->help = hv->help;
    tv->plugin = NULL;
    tv->n = 0;
    tv->specs = calloc(hv->n_cmds + 1, sizeof(*tv->specs));
    if (tv->specs == NULL)
        return -1;
    for (size_t i = 0; i < hv->n_cmds; i++)
        tv->specs[tv->n++] = &hv->cmds[i].spec;
    return 0;
}

/* Every sub of the typed plugin verb of ce; 0 or -1 as typed_host. */
int typed_plugin(struct typed_verb *tv, const struct loader *l, const struct command_entry *ce)
{
    tv->name = ce->cmd.verb;
    tv->help = ce->cmd.help;
    tv->plugin = ce->plugin->conf->name;
    tv->n = 0;
    tv->specs = calloc(l->n_commands + 1, sizeof(*tv->specs));
    if (tv->specs == NULL)
        return -1;
    for (size_t i = 0; i < l->n_commands; i++)
        if (strcmp(l->commands[i].cmd.verb, tv->name) == 0)
            tv->specs[tv->n++] = &l->commands[i].spec;
    return 0;
}

/* The usage lines of every sub of tv (or of one), for messages; caller frees. */
static char *typed_usage(const struct typed_verb *tv, const struct ch_command_spec *one)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int first = 1;
    if (f == NULL)
        return NULL;
    for (size_t i = 0; i < tv->n; i++) {
        if (one != NULL && tv->specs[i] != one)
            continue;
        fputs(first ? "" : "\n       ", f);
        args_usage(tv->specs[i], f);
        first = 0;
    }
    fclose(f);
    return text;
}

static void subs_list(const struct typed_verb *tv, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < tv->n && n < len; i++)
        if (tv->specs[i]->sub != NULL)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", tv->specs[i]->sub);
}

/* The sub of tv named sub; NULL when there is none. */
static const struct ch_command_spec *typed_sub(const struct typed_verb *tv, const char *sub)
{
    for (size_t i = 0; i < tv->n; i++)
        if (tv->specs[i]->sub != NULL && strcmp(tv->specs[i]->sub, sub) == 0)
            return tv->specs[i];
    return NULL;
}

const struct ch_command_spec *typed_find(const struct typed_verb *tv, int argc, char **argv)
{
    if (tv->n == 0)
        return NULL;
    if (tv->specs[0]->sub == NULL)
        return tv->specs[0];
    return argc >= 2 && argv[1][0] != '-' ? typed_sub(tv, argv[1]) : NULL;
}

/* 1 when spec takes a date or time, which only the database checks. */
static int takes_time(const struct ch_command_spec *spec)
{
    for (size_t i = 0; i < spec->n_args; i++)
        if (args_at(spec, i)->type == CH_ARG_DATE || args_at(spec, i)->type == CH_ARG_TIMESTAMP)
            return 1;
    return 0;
}

/* One argument of a table as JSON, for tools that build commands (or forms) from it. */
static void arg_json(struct out *o, const struct ch_arg *a)
{
    static const char *const types[] = {
        [CH_ARG_ID] = "id",
        [CH_ARG_INT] = "int",
        [CH_ARG_TEXT] = "text",
        [CH_ARG_DATE] = "date",
        [CH_ARG_TIMESTAMP] = "timestamp",
        [CH_ARG_ENUM] = "enum",
        [CH_ARG_BOOL] = "bool",
        [CH_ARG_FILE] = "file",
    };
    out_object(o, NULL);
    out_str(o, "name", a->name);
    /* Plugin tables passed args_check_spec, which knows the types; ours are ours. */
    out_str(o, "type", a->type >= CH_ARG_ID && a->type <= CH_ARG_FILE ? types[a->type] : NULL);
    out_bool(o, "required", (a->flags & CH_ARG_REQUIRED) != 0);
    out_bool(o, "repeat", (a->flags & CH_ARG_REPEAT) != 0);
    out_str(o, "help", a->help);
    out_str(o, "metavar", a->metavar);
    if (a->values != NULL) {
        out_array(o, "values");
        for (const char *const *w = a->values; *w != NULL; w++)
            out_str(o, NULL, *w);
        out_end(o);
    } else {
        out_str(o, "values", NULL);
    }
    if (a->type == CH_ARG_INT) {
        out_int(o, "min", a->min);
        if (a->max != 0)
            out_int(o, "max", a->max);
        else
            out_str(o, "max", NULL);
    } else {
        out_str(o, "min", NULL);
        out_str(o, "max", NULL);
    }
    out_end(o);
}

/*
 * `help VERB [SUB]` of a typed verb: "VERB: help" and each sub's usage, help
 * and arguments (args_help), or the same as JSON (--json). A SUB it does
 * not have is a usage error.
 */
int typed_help(struct cli *cli, const struct typed_verb *tv, const char *sub)
{
    char subs[256];
    if (sub != NULL && typed_sub(tv, sub) == NULL) {
        subs_list(tv, subs, sizeof(subs));
        return cli_fail(cli, EXIT_USAGE, "help: '%s' has no subcommand '%s'%s%s%s", tv->name, sub,
                        subs[0] ? " (" : "", subs, subs[0] ? ")" : "");
    }
    if (!cli->json) {
        printf("%s: %s", tv->name, tv->help);
        if (tv->plugin != NULL)
            printf(" (plugin %s)", tv->plugin);
        printf("\n\nusage:\n");
        for (size_t i = 0; i < tv->n; i++)
            if (sub == NULL || tv->specs[i] == typed_sub(tv, sub))
                args_help(tv->specs[i], stdout);
        return EXIT_OK;
    }
    out_str(cli->out, "verb", tv->name);
    out_str(cli->out, "help", tv->help);
    out_str(cli->out, "plugin", tv->plugin);
    out_bool(cli->out, "typed", 1);
    out_array(cli->out, "subs");
    for (size_t i = 0; i < tv->n; i++) {
        const struct ch_command_spec *spec = tv->specs[i];
        char *usage;
        if (sub != NULL && spec != typed_sub(tv, sub))
            continue;
        if ((usage = typed_usage(tv, spec)) == NULL)
            return cli_fail(cli, EXIT_RUNTIME, "out of memory");
        out_object(cli->out, NULL);
        out_str(cli->out, "sub", spec->sub);
        out_str(cli->out, "help", spec->help);
        out_str(cli->out, "usage", usage);
        free(usage);
        out_array(cli->out, "args");
        for (size_t k = 0; k < spec->n_args; k++)
            arg_json(cli->out, args_at(spec, k));
        out_end(cli->out);
        out_end(cli->out);
    }
    out_end(cli->out);
    return EXIT_OK;
}

/*
 * The one way a typed command runs, the host's or a plugin's: the sub is
 * found, argv parsed against its table (usage errors exit 2 before any
 * connection), then run is called with typed values. The dates and times
 * among them are checked by the database's one rule when the command opens
 * its session (cli_session), before it writes anything.
 */
int typed_run(struct cli *cli, const struct typed_verb *tv, int argc, char **argv, typed_run_fn run)
{
    const struct ch_command_spec *spec = tv->specs[0];
    struct ch_value *vals = NULL;
    char err[512], subs[256] = "", *usage = NULL;
    int from = 1, rc;

    if (spec->sub != NULL) {
        subs_list(tv, subs, sizeof(subs));
        if (argc < 2 || argv[1][0] == '-') {
            usage = typed_usage(tv, NULL);
            rc = cli_fail(cli, EXIT_USAGE, "%s needs a subcommand (%s)\nusage: %s", tv->name, subs,
                          usage ? usage : "");
            goto out;
        }
        spec = typed_sub(tv, argv[1]);
        from = 2;
    }
    if (spec == NULL) {
        usage = typed_usage(tv, NULL);
        rc = cli_fail(cli, EXIT_USAGE, "%s: unknown subcommand '%s' (%s)\nusage: %s", tv->name,
                      argv[1], subs, usage ? usage : "");
        goto out;
    }
    if ((spec->flags & CH_CMD_NO_DB) && takes_time(spec)) {
        rc = cli_fail(cli, EXIT_RUNTIME,
                      "%s %s: declared without a database (CH_CMD_NO_DB) but takes a date or "
                      "time, which only the database checks: a fault of plugin '%s'",
                      tv->name, spec->sub ? spec->sub : "", tv->plugin ? tv->plugin : "host");
        goto out;
    }
    usage = typed_usage(tv, spec);
    vals = calloc(spec->n_args + 1, sizeof(*vals));
    if (vals == NULL || usage == NULL) {
        rc = cli_fail(cli, EXIT_RUNTIME, "out of memory");
        goto out;
    }
    if (args_parse(spec, argc, argv, from, vals, err, sizeof(err)) != 0) {
        rc = cli_fail(cli, EXIT_USAGE, "%s\nusage: %s", err, usage);
        goto out;
    }
    if (cli_web_refusal(cli, spec, vals, err, sizeof(err)) != 0) {
        rc = cli_fail(cli, EXIT_USAGE, "%s", err);
        goto out;
    }
    cli->typed = spec;
    cli->typed_vals = vals;
    rc = run(cli, spec, vals, usage);
    cli->typed = NULL;
    cli->typed_vals = NULL;
out:
    if (vals != NULL)
        args_release(spec, vals);
    free(vals);
    free(usage);
    return rc;
}
