/*
 * cmd_config.c: configuration is deployed, not edited live. `config check`
 * validates a candidate folder (every plugin's files and fixtures) without
 * touching the database; `config deploy` does the same and then stores each
 * plugin's generation and makes it live in one transaction; `config history`
 * and `config rollback` show and move the live mark. Every other command
 * runs the live generations (live_prepare): a broken file on disk never
 * stops anyone's work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "generation.h"

/* ------------------------------------------------------ live generations --- */

/* A private directory for this process's copies of live generations; caller frees. */
static char *private_dir(char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    char *dir;
    size_t n;
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    n = strlen(tmp) + 32;
    dir = malloc(n);
    if (dir == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(dir, n, "%s/casehost-live-XXXXXX", tmp);
    if (mkdtemp(dir) == NULL) {
        snprintf(err, errlen, "cannot make a private directory in %s: %s", tmp, strerror(errno));
        free(dir);
        return NULL;
    }
    return dir;
}

static struct plugin_conf *plugin_named(struct hostcfg *hc, const char *name)
{
    for (size_t i = 0; i < hc->n_plugins; i++)
        if (strcmp(hc->plugins[i].name, name) == 0)
            return &hc->plugins[i];
    return NULL;
}

static int set_root(struct plugin_conf *pc, const char *root)
{
    free(pc->config_root);
    pc->config_root = root != NULL ? strdup(root) : NULL;
    return root == NULL || pc->config_root != NULL ? 0 : -1;
}

/*
 * Writes the stored generation of plugin (files: JSON text) under dir and
 * points the plugin there. 0 or -1 with err.
 */
static int materialize(struct hostcfg *hc, const char *plugin, const char *files, const char *dir,
                       char *err, size_t errlen)
{
    struct generation g;
    struct plugin_conf *pc = plugin_named(hc, plugin);
    int rc = -1;
    if (pc == NULL)
        return 0; /* a plugin this host does not load */
    if (generation_from_json(&g, plugin, files, err, errlen) == 0 &&
        generation_write(&g, dir, err, errlen) == 0 && set_root(pc, dir) == 0)
        rc = 0;
    generation_release(&g);
    return rc;
}

int live_prepare(struct cli *cli)
{
    static const char sql[] = "SELECT plugin, hash, files FROM casehost.live_generations_v1()";
    struct ch_ctx *ctx = &cli->ctx;
    PGresult *r;
    int rc = 0;

    if (ctx->conn == NULL) {
        /*
         * Without a database the command cannot run anyway: it says so itself
         * when it connects, after the plugins on disk had their say.
         */
        ctx->conn = db_connect(cli_conninfo(cli), ctx->err, sizeof(ctx->err));
        if (ctx->conn == NULL)
            return 0;
    }
    r = db_exec(ctx->conn, sql, 0, NULL, ctx->err, sizeof(ctx->err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot read the live configuration");
    snprintf(cli->live_hashes, sizeof(cli->live_hashes), "%s", "");
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        size_t n = strlen(cli->live_hashes);
        if (plugin_named(&cli->hc, PQgetvalue(r, i, 0)) == NULL)
            continue;
        snprintf(cli->live_hashes + n, sizeof(cli->live_hashes) - n, "%s=%s;", PQgetvalue(r, i, 0),
                 PQgetvalue(r, i, 1));
        if (cli->live_dir == NULL &&
            (cli->live_dir = private_dir(ctx->err, sizeof(ctx->err))) == NULL) {
            rc = cli_fail(cli, EXIT_RUNTIME, "%s", ctx->err);
            break;
        }
        if (materialize(&cli->hc, PQgetvalue(r, i, 0), PQgetvalue(r, i, 2), cli->live_dir, ctx->err,
                        sizeof(ctx->err)) != 0)
            rc = cli_fail(cli, EXIT_RUNTIME, "cannot use the live configuration of '%s': %s",
                          PQgetvalue(r, i, 0), ctx->err);
    }
    PQclear(r);
    return rc;
}

/* Drops the copy live_prepare just made and points the plugins back at old_dir. */
static void keep_old_copy(struct cli *cli, char *old_dir)
{
    if (cli->live_dir != NULL) {
        dir_remove_tree(cli->live_dir);
        free(cli->live_dir);
    }
    cli->live_dir = old_dir;
    for (size_t i = 0; i < cli->hc.n_plugins; i++)
        if (cli->hc.plugins[i].config_root != NULL)
            set_root(&cli->hc.plugins[i], old_dir);
}

int live_refresh(struct cli *cli)
{
    char before[sizeof(cli->live_hashes)];
    char *old_dir = cli->live_dir;
    snprintf(before, sizeof(before), "%s", cli->live_hashes);
    cli->live_dir = NULL;
    if (live_prepare(cli) != 0) {
        keep_old_copy(cli, old_dir); /* the previous generation stays in force */
        return -1;
    }
    if (strcmp(before, cli->live_hashes) == 0) {
        keep_old_copy(cli, old_dir); /* the same generations */
        return 0;
    }
    loader_reload(&cli->loader);
    if (old_dir != NULL) {
        dir_remove_tree(old_dir);
        free(old_dir);
    }
    return 1;
}

void live_release(struct cli *cli)
{
    if (cli->live_dir != NULL) {
        dir_remove_tree(cli->live_dir);
        free(cli->live_dir);
        cli->live_dir = NULL;
    }
}

/* ------------------------------------------------------------ candidate --- */

struct candidate {
    struct generation gens[16];
    size_t n;
};

static void candidate_release(struct candidate *c)
{
    for (size_t i = 0; i < c->n; i++)
        generation_release(&c->gens[i]);
    c->n = 0;
}

/*
 * Reads each plugin's folder under dir, points every plugin at dir and loads
 * them all (validating every file). 0, or an exit code after the verdict.
 */
static int candidate_load(struct cli *cli, const char *dir, struct candidate *c)
{
    char err[1024];
    c->n = 0;
    for (size_t i = 0; i < cli->hc.n_plugins; i++) {
        struct plugin_conf *pc = &cli->hc.plugins[i];
        int r;
        if (c->n == sizeof(c->gens) / sizeof(c->gens[0]))
            return cli_fail(cli, EXIT_USAGE, "more than %zu plugins to deploy", c->n);
        r = generation_read(&c->gens[c->n], dir, pc->name, err, sizeof(err));
        if (r < 0) {
            generation_release(&c->gens[c->n]);
            diag_error(&cli->diag, NULL, 0, 0, "%s", err);
        } else if (r == 1) {
            generation_release(&c->gens[c->n]);
        } else {
            c->n++;
        }
        if (set_root(pc, dir) != 0)
            return cli_fail(cli, EXIT_RUNTIME, "out of memory");
    }
    if (loader_load_all(&cli->loader, &cli->hc, &cli->diag) == -2 || cli->diag.errors > 0 ||
        cli->loader.n_plugins < cli->hc.n_plugins)
        return EXIT_USAGE;
    return 0;
}

static void verdict(struct cli *cli, const char *dir)
{
    out_str(cli->out, "config", cli->hc.path);
    out_str(cli->out, "candidate", dir);
    out_int(cli->out, "plugins_loaded", (int64_t)cli->loader.n_plugins);
    out_int(cli->out, "errors", cli->diag.errors);
    out_int(cli->out, "warnings", cli->diag.warnings);
}

static int config_check(struct cli *cli, const char *dir)
{
    struct candidate c;
    int rc = candidate_load(cli, dir, &c);
    verdict(cli, dir);
    if (rc == 0 && loader_deploy_check(&cli->loader, &cli->ctx, NULL, "") != 0) {
        fprintf(stderr, "casehost: %s\n", cli->ctx.err);
        rc = EXIT_USAGE;
    }
    candidate_release(&c);
    if (rc != 0) {
        out_flush(cli->out, stdout);
        return EXIT_USAGE;
    }
    out_message(cli->out, "configuration is valid and its fixtures pass");
    return EXIT_OK;
}

static int config_deploy(struct cli *cli, const char *dir, const char *note)
{
    static const char sql[] =
        "SELECT hash, previous, files, unchanged FROM casehost.config_deploy_v1($1, $2::jsonb, $3)";
    struct candidate c;
    int rc = candidate_load(cli, dir, &c);
    verdict(cli, dir);
    if (rc != 0) {
        out_flush(cli->out, stdout);
        candidate_release(&c);
        return EXIT_USAGE;
    }
    if (c.n == 0) {
        candidate_release(&c);
        return cli_fail(cli, EXIT_USAGE,
                        "nothing to deploy: no plugin has a configuration folder in %s", dir);
    }
    if ((rc = cli_session(cli, 0)) != 0)
        goto out;
    out_array(cli->out, "deployed");
    for (size_t i = 0; i < c.n; i++) {
        char err[512];
        json_t *files = generation_to_json(&c.gens[i], err, sizeof(err));
        char *text = files ? json_dumps(files, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        const char *params[3] = {c.gens[i].plugin, text, note};
        PGresult *r;
        json_decref(files);
        if (text == NULL) {
            rc = cli_fail(cli, EXIT_USAGE, "%s", files ? "out of memory" : err);
            goto out;
        }
        r = db_exec(cli->ctx.conn, sql, 3, params, cli->ctx.err, sizeof(cli->ctx.err));
        free(text);
        if (r == NULL) {
            rc = cli_db_fail(cli, "deploy refused, nothing changed");
            goto out;
        }
        if (loader_deploy_check(&cli->loader, &cli->ctx, c.gens[i].plugin, PQgetvalue(r, 0, 0)) !=
            0) {
            PQclear(r);
            rc = cli_fail(cli, EXIT_USAGE, "deploy refused, nothing changed: %s", cli->ctx.err);
            goto out;
        }
        out_object(cli->out, NULL);
        out_str(cli->out, "plugin", c.gens[i].plugin);
        out_str(cli->out, "hash", PQgetvalue(r, 0, 0));
        out_str(cli->out, "previous", PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1));
        out_int(cli->out, "files", strtoll(PQgetvalue(r, 0, 2), NULL, 10));
        out_bool(cli->out, "unchanged", PQgetvalue(r, 0, 3)[0] == 't');
        out_end(cli->out);
        PQclear(r);
    }
    out_end(cli->out);
    if ((rc = cli_commit(cli)) != 0)
        goto out;
    out_message(cli->out, "the candidate is live; every host runs it from now on");
out:
    candidate_release(&c);
    return rc;
}

static int config_history(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] =
        "SELECT g.plugin, g.hash, g.live, coalesce(u.name, g.deployed_role) AS deployed_by,"
        "       to_char(g.deployed_at, 'YYYY-MM-DD HH24:MI:SS') AS deployed_at,"
        "       (SELECT count(*) FROM jsonb_object_keys(g.files)) AS files, g.note"
        "  FROM casehost.config_generations g LEFT JOIN casehost.users u ON u.id = g.deployed_by"
        " ORDER BY g.deployed_at DESC, g.id DESC";
    PGresult *r;
    int rc;
    (void)v;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 0, NULL, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot read the configuration history");
    out_result(cli->out, "generations", r, 1);
    PQclear(r);
    return cli_commit(cli);
}

/*
 * Makes an earlier generation live: it is loaded and checked like a
 * candidate first (the host of today must be able to run it).
 */
static int config_rollback(struct cli *cli, const char *hash, const char *plugin)
{
    static const char find_sql[] =
        "SELECT plugin, hash, files::text FROM casehost.config_generations"
        " WHERE hash LIKE $1 || '%' AND ($2::text IS NULL OR plugin = $2)";
    static const char sql[] = "SELECT hash, previous FROM casehost.config_rollback_v1($1, $2)";
    const char *params[2] = {hash, plugin};
    char *dir = NULL;
    PGresult *g = NULL, *r = NULL;
    int rc;
    if ((rc = cli_session(cli, 0)) != 0)
        return rc;
    g = db_exec(cli->ctx.conn, find_sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (g == NULL) {
        rc = cli_db_fail(cli, "cannot read the configuration history");
        goto out;
    }
    if (PQntuples(g) != 1) {
        rc = cli_fail(cli, EXIT_RUNTIME, "%s %s: %s", PQntuples(g) ? "hash" : "no generation", hash,
                      PQntuples(g) ? "names several generations; give more of it or --plugin"
                                   : "casehost config history lists them");
        goto out;
    }
    if ((dir = private_dir(cli->ctx.err, sizeof(cli->ctx.err))) == NULL ||
        materialize(&cli->hc, PQgetvalue(g, 0, 0), PQgetvalue(g, 0, 2), dir, cli->ctx.err,
                    sizeof(cli->ctx.err)) != 0) {
        rc = cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
        goto out;
    }
    if (loader_load_all(&cli->loader, &cli->hc, &cli->diag) == -2 || cli->diag.errors > 0) {
        rc = cli_fail(cli, EXIT_USAGE, "generation %.12s no longer loads; nothing changed",
                      PQgetvalue(g, 0, 1));
        goto out;
    }
    params[0] = PQgetvalue(g, 0, 0);
    params[1] = PQgetvalue(g, 0, 1);
    r = db_exec(cli->ctx.conn, sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL) {
        rc = cli_db_fail(cli, "rollback refused, nothing changed");
        goto out;
    }
    if (loader_deploy_check(&cli->loader, &cli->ctx, PQgetvalue(g, 0, 0), PQgetvalue(g, 0, 1)) !=
        0) {
        rc = cli_fail(cli, EXIT_USAGE, "rollback refused, nothing changed: %s", cli->ctx.err);
        goto out;
    }
    if ((rc = cli_commit(cli)) != 0)
        goto out;
    out_str(cli->out, "plugin", PQgetvalue(g, 0, 0));
    out_str(cli->out, "hash", PQgetvalue(r, 0, 0));
    out_str(cli->out, "previous", PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1));
    out_message(cli->out, "the earlier generation is live again");
out:
    PQclear(g);
    PQclear(r);
    if (dir != NULL) {
        dir_remove_tree(dir);
        free(dir);
    }
    return rc;
}

/* config check [DIR]: the default candidate is the host config's folder. */
static int config_check_cmd(struct cli *cli, const struct ch_value *v)
{
    return config_check(cli, v[0].text != NULL ? v[0].text : cli->hc.dir);
}

static int config_deploy_cmd(struct cli *cli, const struct ch_value *v)
{
    return config_deploy(cli, v[0].text != NULL ? v[0].text : cli->hc.dir, v[1].text);
}

static int config_rollback_cmd(struct cli *cli, const struct ch_value *v)
{
    const char *hash = v[0].text;
    if (strlen(hash) < 8 || strlen(hash) > 64 || strspn(hash, "0123456789abcdef") != strlen(hash))
        return cli_fail(cli, EXIT_USAGE,
                        "config rollback: '%s' is not a generation hash (8 to 64 lower-case "
                        "hex digits, as config history shows)",
                        hash);
    return config_rollback(cli, hash, v[1].text);
}

static const struct ch_arg check_args[] = {
    {"dir", CH_ARG_FILE, 0, "the candidate folder (default: the host config's folder)", NULL, NULL,
     0, 0},
};

static const struct ch_arg deploy_args[] = {
    {"dir", CH_ARG_FILE, 0, "the candidate folder (default: the host config's folder)", NULL, NULL,
     0, 0},
    {"--note", CH_ARG_TEXT, 0, "why, kept with the generation", NULL, NULL, 0, 0},
};

static const struct ch_arg rollback_args[] = {
    {"hash", CH_ARG_TEXT, CH_ARG_REQUIRED, "the generation (8 to 64 hex digits of its hash)", NULL,
     NULL, 0, 0},
    {"--plugin", CH_ARG_TEXT, 0, "the plugin, when the hash is not enough", NULL, "NAME", 0, 0},
};

static const struct cli_command config_commands[] = {
    {CLI_SPEC("config", "check", "validate a candidate and run its fixtures, without the database",
              check_args),
     config_check_cmd},
    {CLI_SPEC("config", "deploy", "validate, run fixtures, make it live (config admins)",
              deploy_args),
     config_deploy_cmd},
    {CLI_SPEC_NO_ARGS("config", "history", "every generation deployed, newest first"),
     config_history},
    {CLI_SPEC("config", "rollback", "make an earlier generation live again", rollback_args),
     config_rollback_cmd},
};

/* Neither live generations nor plugins: config loads its candidate itself. */
const struct cli_verb cli_verb_config = {
    "config", "check, deploy, list and roll back configuration generations", config_commands,
    CLI_N(config_commands), 0};
