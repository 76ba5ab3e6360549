/*
 * cmd_routing.c: the admin verbs `routing` (test FILE) and `route` (what-if),
 * each a table of subcommands so more can be added as one entry.
 *
 * These two subcommands need no database: they never call api->conn() and
 * the verbs are registered with CH_CMD_OWN_TX so no transaction is held. A
 * subcommand added later that needs the database opens its own transaction.
 */
#include "cli/cmd_routing.h"
#include "db/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing/routing_test.h"

#define MAX_POS 4

/* What any routing subcommand may take; what does not fit is a usage error. */
struct route_args {
    const char *pos[MAX_POS];
    int npos;
    const char *config_dir;
    const char *input;
};

/*
 * Parses argv[2..]. The host takes `--config` anywhere on the command line as
 * its own configuration file, so the routing configuration folder is
 * `--config-dir DIR`; `--config DIR` is read too for hosts that leave it to the verb.
 */
static int parse_args(struct trf *t, struct ch_ctx *ctx, int argc, char **argv,
                      struct route_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 2; i < argc; i++) {
        const char **dest = NULL;
        if (strcmp(argv[i], "--config-dir") == 0 || strcmp(argv[i], "--config") == 0)
            dest = &a->config_dir;
        else if (strcmp(argv[i], "--input") == 0)
            dest = &a->input;
        if (dest != NULL) {
            if (i + 1 >= argc) {
                t->api->fail(ctx, "option '%s' needs a value", argv[i]);
                return -1;
            }
            *dest = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0) {
            t->api->fail(ctx, "unknown option '%s'", argv[i]);
            return -1;
        } else if (a->npos < MAX_POS) {
            a->pos[a->npos++] = argv[i];
        } else {
            t->api->fail(ctx, "unexpected argument '%s'", argv[i]);
            return -1;
        }
    }
    return 0;
}

/* Configuration and fixture problems, reported as the host reports configuration errors. */
struct report_ctx {
    struct trf *t;
    int n;
};

static void report(void *ud, const char *file, int line, int col, const char *msg)
{
    struct report_ctx *r = ud;
    r->n++;
    r->t->api->config_error(r->t->self, file, line, col, "%s", msg);
}

/* "a/b" into a new string; NULL without memory. */
static char *join_path(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

struct routing_config *trf_routing_config_open(struct trf *t, struct ch_ctx *ctx, const char *dir)
{
    struct routing_config *cfg = NULL;
    struct report_ctx rc = {.t = t};
    /*
     * Without a folder: the files of the configuration in force, as live
     * routing reads them (or, before one is loaded, the plugin's default folder).
     */
    int in_force = dir == NULL && t->cfg != NULL && t->cfg->routing != NULL;
    char *base =
        dir != NULL || in_force ? NULL : join_path(t->api->config_dir(t->self), "trafficking");
    const char *folder = dir != NULL ? dir : in_force ? "the configuration in force" : base;
    char *dpath = in_force ? strdup(t->cfg->routing->destinations_path)
                  : folder ? join_path(folder, "destinations.cfg")
                           : NULL;
    char *rpath = in_force ? strdup(t->cfg->routing->routing_path)
                  : folder ? join_path(folder, "routing.cfg")
                           : NULL;
    if (dpath == NULL || rpath == NULL)
        t->api->fail(ctx, "out of memory");
    else if (routing_config_load_checked(dpath, rpath, t->cfg ? t->cfg->instruments : NULL, report,
                                         &rc, &cfg) != 0)
        t->api->fail(ctx, "the routing configuration in '%s' has %d error%s (listed above)", folder,
                     rc.n, rc.n == 1 ? "" : "s");
    free(base);
    free(dpath);
    free(rpath);
    return cfg;
}

void trf_out_json(struct trf *t, struct ch_ctx *ctx, const char *key, const json_t *v)
{
    const char *k;
    json_t *m;
    size_t i;
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        t->api->out_object(ctx, key);
        json_object_foreach((json_t *)v, k, m) trf_out_json(t, ctx, k, m);
        t->api->out_end(ctx);
        break;
    case JSON_ARRAY:
        t->api->out_array(ctx, key);
        json_array_foreach(v, i, m) trf_out_json(t, ctx, NULL, m);
        t->api->out_end(ctx);
        break;
    case JSON_STRING:
        t->api->out_str(ctx, key, json_string_value(v));
        break;
    case JSON_INTEGER:
        t->api->out_int(ctx, key, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        /* The host's output has no real numbers: whole ones stay numbers. */
        if (json_real_value(v) == (double)(int64_t)json_real_value(v)) {
            t->api->out_int(ctx, key, (int64_t)json_real_value(v));
        } else {
            snprintf(num, sizeof(num), "%g", json_real_value(v));
            t->api->out_str(ctx, key, num);
        }
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        t->api->out_bool(ctx, key, json_is_true(v));
        break;
    default:
        t->api->out_str(ctx, key, NULL);
        break;
    }
}

/* --------------------------------------------------------- routing test --- */

static int routing_test_cmd(struct trf *t, struct ch_ctx *ctx, int argc, char **argv)
{
    struct route_args a;
    struct routing_test_result res;
    struct report_ctx rep = {.t = t};
    struct routing_config *cfg;
    int rc;
    if (parse_args(t, ctx, argc, argv, &a) != 0 || a.input != NULL)
        return CH_USAGE;
    if (a.npos != 1) {
        t->api->fail(ctx, "routing test needs one fixture FILE");
        return CH_USAGE;
    }
    if ((cfg = trf_routing_config_open(t, ctx, a.config_dir)) == NULL)
        return CH_ERROR;
    /* A failing run shows no host output, only the error: the differences go out now. */
    rc = routing_test_run(cfg, a.pos[0], t->api->json(ctx) ? stderr : stdout, report, &rep, &res);
    if (rc < 0) {
        t->api->fail(ctx, "fixture file '%s' has %d error%s (listed above); nothing was run",
                     a.pos[0], rep.n, rep.n == 1 ? "" : "s");
    } else if (rc > 0) {
        t->api->fail(ctx, "%d of %d routing fixture%s do not match (configuration %.12s)",
                     res.failed, res.fixtures, res.fixtures == 1 ? "" : "s", cfg->hash);
    } else {
        t->api->out_str(ctx, "fixtures_file", a.pos[0]);
        t->api->out_str(ctx, "config_hash", cfg->hash);
        t->api->out_int(ctx, "fixtures", res.fixtures);
        t->api->out_int(ctx, "failed", 0);
        t->api->out_message(ctx, "all %d routing fixtures match", res.fixtures);
    }
    routing_config_free(cfg);
    return rc == 0 ? CH_OK : CH_ERROR;
}

/* ------------------------------------------------------- route what-if --- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/*
 * Reads a case file: JSON (*.json, the shape of routing_input_to_json, as a
 * decision stores it) or libconfig with a `case` group. 0, or -1 after
 * reporting through the host.
 */
static int read_case_file(struct trf *t, struct ch_ctx *ctx, const char *path,
                          struct routing_input *in)
{
    static const char *const top[] = {"case", NULL};
    struct report_ctx rep = {.t = t};
    int rc = -1;
    routing_input_init(in);
    if (ends_with(path, ".json")) {
        json_error_t e;
        char err[300], *text = NULL;
        size_t len = 0;
        json_t *j = NULL;
        /* Read through the plugin's one file reader: the same size cap as every config file. */
        if (cfgread_read_file(path, &text, &len, err, sizeof(err)) != 0)
            t->api->fail(ctx, "%s: %s", path, err);
        else if ((j = json_loadb(text, len, 0, &e)) == NULL)
            t->api->fail(ctx, "%s:%d:%d: %s", path, e.line, e.column, e.text);
        else if (routing_input_from_json(j, in, err, sizeof(err)) != 0)
            t->api->fail(ctx, "%s: %s", path, err);
        else
            rc = 0;
        json_decref(j);
        free(text);
        return rc;
    }
    struct cfgread r = {.file = path, .report = report, .ud = &rep};
    config_t c;
    char *text = NULL;
    size_t len = 0;
    char hash[CFGREAD_HASH_LEN + 1];
    config_init(&c);
    if (cfgread_load(&r, &c, &text, &len, hash) == 0) {
        cfgread_members(&r, config_root_setting(&c), NULL, top);
        const config_setting_t *g =
            cfgread_aggregate(&r, config_root_setting(&c), NULL, "case", 1, CONFIG_TYPE_GROUP);
        if (g != NULL && routing_input_from_setting(&r, g, in) == 0 && r.errors == 0)
            rc = 0;
    }
    cfgread_flush(&r);
    free(text);
    config_destroy(&c);
    if (rc != 0)
        t->api->fail(ctx, "case file '%s' has errors (listed above)", path);
    return rc;
}

static int route_what_if_cmd(struct trf *t, struct ch_ctx *ctx, int argc, char **argv)
{
    struct route_args a;
    struct routing_input in;
    struct routing_decision d;
    struct routing_config *cfg = NULL;
    json_t *jd = NULL, *ji = NULL;
    int rc = CH_ERROR;
    if (parse_args(t, ctx, argc, argv, &a) != 0)
        return CH_USAGE;
    if (a.input == NULL || a.npos != 0) {
        t->api->fail(ctx, "route what-if needs --input CASEFILE and nothing else");
        return CH_USAGE;
    }
    routing_input_init(&in);
    routing_decision_init(&d);
    if (read_case_file(t, ctx, a.input, &in) != 0 ||
        (cfg = trf_routing_config_open(t, ctx, a.config_dir)) == NULL)
        goto out;
    if (routing_decide(cfg, &in, &d) != 0) {
        t->api->fail(ctx, "out of memory while routing");
        goto out;
    }
    if (t->api->json(ctx)) {
        if ((jd = routing_decision_to_json(&d)) == NULL ||
            (ji = routing_input_to_json(&in)) == NULL) {
            t->api->fail(ctx, "out of memory");
            goto out;
        }
        trf_out_json(t, ctx, "input", ji);
        trf_out_json(t, ctx, "decision", jd);
    } else {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (f == NULL) {
            t->api->fail(ctx, "out of memory");
            goto out;
        }
        routing_explain_text(&d, f);
        fclose(f);
        for (char *line = text, *nl; line != NULL && *line != '\0'; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (nl != NULL)
                *nl = '\0';
            t->api->out_message(ctx, "%s", line);
        }
        free(text);
    }
    rc = CH_OK;
out:
    json_decref(jd);
    json_decref(ji);
    routing_decision_release(&d);
    routing_input_release(&in);
    routing_config_free(cfg);
    return rc;
}

/* ---------------------------------------------------------------- verbs --- */

static const struct trf_subcommand routing_subcommands[] = {
    {"test", "routing test FILE [--config DIR]", routing_test_cmd},
    {"replay", "routing replay --config DIR [--since YYYY-MM-DD]", routing_replay},
};

static const struct trf_subcommand route_subcommands[] = {
    {"what-if", "route what-if --input CASEFILE [--config DIR] [--json]", route_what_if_cmd},
    {"explain", "route explain CASE [--decision ID]", route_explain},
};

struct verb_def {
    const char *verb;
    const char *help;
    const struct trf_subcommand *subs;
    size_t n_subs;
    struct trf *t;    /* set at registration */
    char usage[1024]; /* built from the subcommands at registration */
};

/* One plugin instance registers once; the host keeps pointers into this table. */
static struct verb_def verbs[] = {
    {"routing", "check the routing rules: run fixture cases through them", routing_subcommands,
     sizeof(routing_subcommands) / sizeof(routing_subcommands[0]), NULL, ""},
    {"route", "route a case: what-if on a case file, without the database", route_subcommands,
     sizeof(route_subcommands) / sizeof(route_subcommands[0]), NULL, ""},
};

static int run_verb(struct ch_ctx *ctx, int argc, char **argv, void *ud)
{
    const struct verb_def *v = ud;
    if (argc < 2) {
        v->t->api->fail(ctx, "'%s' needs a subcommand", v->verb);
        return CH_USAGE;
    }
    for (size_t i = 0; i < v->n_subs; i++)
        if (strcmp(v->subs[i].name, argv[1]) == 0)
            return v->subs[i].run(v->t, ctx, argc, argv);
    v->t->api->fail(ctx, "unknown subcommand '%s %s'", v->verb, argv[1]);
    return CH_USAGE;
}

int trf_register_routing_commands(struct trf *t)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        struct verb_def *v = &verbs[i];
        size_t off = 0;
        v->t = t;
        v->usage[0] = '\0';
        for (size_t k = 0; k < v->n_subs && off < sizeof(v->usage); k++)
            off += (size_t)snprintf(v->usage + off, sizeof(v->usage) - off, "%s%s", k ? "\n  " : "",
                                    v->subs[k].usage);
        struct ch_command cmd = {
            .verb = v->verb,
            .help = v->help,
            .usage = v->usage,
            .run = run_verb,
            .ud = v,
            .flags = CH_CMD_OWN_TX,
        };
        if (t->api->command(t->self, &cmd) != 0)
            return -1;
    }
    return 0;
}
