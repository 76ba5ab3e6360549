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

#include "candidate.h"
#include "cli.h"
#include "generation.h"

/* ------------------------------------------------------ live generations --- */

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
            (cli->live_dir = candidate_private_dir("live", ctx->err, sizeof(ctx->err))) == NULL) {
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
        candidate_private_remove(cli->live_dir);
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
        candidate_private_remove(old_dir);
        free(old_dir);
    }
    return 1;
}

void live_release(struct cli *cli)
{
    if (cli->live_dir != NULL) {
        candidate_private_remove(cli->live_dir);
        free(cli->live_dir);
        cli->live_dir = NULL;
    }
}

/* --------------------------------------------------------------- folder --- */

/*
 * A folder being checked, deployed or rolled back to: each plugin's
 * generation read from it, and the plugins started on it in a loader of
 * its own, so that a web worker's plugins go on running the live
 * generation meanwhile. Configuration messages are collected and said
 * naming the folder as a person knows it (a stored candidate's files as
 * "trafficking/routing.cfg", never the server's private copy).
 */
struct folder {
    const char *dir;     /* borrowed */
    const char *private; /* the private copy's path to leave out of messages; NULL: none */
    struct generation gens[16];
    size_t n;
    struct loader loader;
    int loaded;
    struct diag diag;
    FILE *mem;
    char *msgs;
    size_t msgs_len, said;
    char *roots[16]; /* each plugin's root before, put back by folder_release */
    size_t n_roots;
};

/* Says the messages collected since the last time, where the command's errors go. */
static void folder_say(struct cli *cli, struct folder *f)
{
    FILE *to = cli->errf != NULL ? cli->errf : stderr;
    if (f->mem == NULL || fflush(f->mem) != 0 || f->msgs == NULL || f->said >= f->msgs_len)
        return;
    if (f->private != NULL)
        candidate_unprivate(f->msgs + f->said, f->private, to);
    else
        fputs(f->msgs + f->said, to);
    f->said = f->msgs_len;
}

static void folder_release(struct cli *cli, struct folder *f)
{
    folder_say(cli, f);
    if (f->loaded)
        loader_release(&f->loader);
    f->loaded = 0;
    for (size_t i = 0; i < f->n_roots; i++) {
        free(cli->hc.plugins[i].config_root);
        cli->hc.plugins[i].config_root = f->roots[i];
    }
    f->n_roots = 0;
    for (size_t i = 0; i < f->n; i++)
        generation_release(&f->gens[i]);
    f->n = 0;
    if (f->mem != NULL)
        fclose(f->mem);
    f->mem = NULL;
    free(f->msgs);
    f->msgs = NULL;
}

/*
 * Reads each plugin's folder under dir, points those plugins at dir (every
 * plugin, for a folder on disk; only those it has a folder for, for a
 * stored copy) and starts them all, validating every file. 0, or an exit
 * code after the verdict. Release f in every case.
 */
static int folder_load(struct cli *cli, struct folder *f, const char *dir, const char *private)
{
    char err[1024];
    memset(f, 0, sizeof(*f));
    f->dir = dir;
    f->private = private;
    f->mem = open_memstream(&f->msgs, &f->msgs_len);
    if (f->mem == NULL)
        return cli_fail(cli, EXIT_RUNTIME, "out of memory");
    diag_init(&f->diag, f->mem);
    if (cli->hc.n_plugins > sizeof(f->roots) / sizeof(f->roots[0]))
        return cli_fail(cli, EXIT_USAGE, "more than %zu plugins to deploy",
                        sizeof(f->roots) / sizeof(f->roots[0]));
    for (size_t i = 0; i < cli->hc.n_plugins; i++) {
        struct plugin_conf *pc = &cli->hc.plugins[i];
        int r = generation_read(&f->gens[f->n], dir, pc->name, err, sizeof(err));
        if (r < 0) {
            generation_release(&f->gens[f->n]);
            diag_error(&f->diag, NULL, 0, 0, "%s", err);
        } else if (r == 1) {
            generation_release(&f->gens[f->n]);
        } else {
            f->n++;
        }
        f->roots[i] = pc->config_root;
        pc->config_root = NULL;
        f->n_roots = i + 1;
        if (set_root(pc, private != NULL && r == 1 ? f->roots[i] : dir) != 0)
            return cli_fail(cli, EXIT_RUNTIME, "out of memory");
    }
    f->loaded = 1;
    if (loader_load_all(&f->loader, &cli->hc, &f->diag) == -2 || f->diag.errors > 0 ||
        f->loader.n_plugins < cli->hc.n_plugins)
        return EXIT_USAGE;
    return 0;
}

static void verdict(struct cli *cli, const struct folder *f, const char *shown)
{
    if (!cli->web) /* a page never shows the server's paths */
        out_str(cli->out, "config", cli->hc.path);
    out_str(cli->out, "candidate", shown);
    out_int(cli->out, "plugins_loaded", (int64_t)f->loader.n_plugins);
    out_int(cli->out, "errors", f->diag.errors);
    out_int(cli->out, "warnings", f->diag.warnings);
}

/* A refused check or deploy: its verdict still reaches a terminal (a page shows the messages). */
static int refused(struct cli *cli, struct folder *f)
{
    folder_say(cli, f);
    if (cli->errf == NULL)
        out_flush(cli->out, stdout);
    return EXIT_USAGE;
}

static int config_check(struct cli *cli, const char *dir, const char *private, const char *shown)
{
    struct folder f;
    int rc = folder_load(cli, &f, dir, private);
    verdict(cli, &f, shown);
    if (rc == 0 && loader_deploy_check(&f.loader, &cli->ctx, NULL, "") != 0) {
        folder_say(cli, &f);
        fprintf(cli->errf != NULL ? cli->errf : stderr, "%s%s\n",
                cli->errf ? "" : "casehost: ", cli->ctx.err);
        rc = EXIT_USAGE;
    }
    if (rc != 0)
        rc = refused(cli, &f);
    else
        out_message(cli->out, "configuration is valid and its fixtures pass");
    folder_release(cli, &f);
    return rc;
}

/*
 * Stores each plugin's generation of the folder and makes it live, and
 * (candidate not NULL) marks the stored candidate deployed, all in one
 * transaction with every plugin's deploy checks.
 */
static int config_deploy(struct cli *cli, const char *dir, const char *private, const char *shown,
                         const char *note, const char *candidate)
{
    static const char sql[] =
        "SELECT hash, previous, files, unchanged FROM casehost.config_deploy_v1($1, $2::jsonb, $3)";
    static const char mark_sql[] = "SELECT casehost.config_candidate_deployed_v1($1, $2::jsonb)";
    struct folder f;
    json_t *deployed = json_object();
    int rc = folder_load(cli, &f, dir, private);
    verdict(cli, &f, shown);
    if (rc != 0) {
        rc = refused(cli, &f);
        goto out;
    }
    if (f.n == 0) {
        rc = cli_fail(cli, EXIT_USAGE,
                      "nothing to deploy: no plugin has a configuration folder in %s", shown);
        goto out;
    }
    if ((rc = cli_session(cli, 0)) != 0)
        goto out;
    out_array(cli->out, "deployed");
    for (size_t i = 0; i < f.n; i++) {
        char err[512];
        json_t *files = generation_to_json(&f.gens[i], err, sizeof(err));
        char *text = files ? json_dumps(files, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        const char *params[3] = {f.gens[i].plugin, text, note};
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
        if (loader_deploy_check(&f.loader, &cli->ctx, f.gens[i].plugin, PQgetvalue(r, 0, 0)) != 0) {
            PQclear(r);
            folder_say(cli, &f);
            rc = cli_fail(cli, EXIT_USAGE, "deploy refused, nothing changed: %s", cli->ctx.err);
            goto out;
        }
        json_object_set_new(deployed, f.gens[i].plugin, json_string(PQgetvalue(r, 0, 0)));
        out_object(cli->out, NULL);
        out_str(cli->out, "plugin", f.gens[i].plugin);
        out_str(cli->out, "hash", PQgetvalue(r, 0, 0));
        out_str(cli->out, "previous", PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1));
        out_int(cli->out, "files", strtoll(PQgetvalue(r, 0, 2), NULL, 10));
        out_bool(cli->out, "unchanged", PQgetvalue(r, 0, 3)[0] == 't');
        out_end(cli->out);
        PQclear(r);
    }
    out_end(cli->out);
    if (candidate != NULL) {
        char *text = json_dumps(deployed, JSON_COMPACT | JSON_SORT_KEYS);
        const char *params[2] = {candidate, text};
        PGresult *r = text != NULL ? db_exec(cli->ctx.conn, mark_sql, 2, params, cli->ctx.err,
                                             sizeof(cli->ctx.err))
                                   : NULL;
        free(text);
        if (r == NULL) {
            rc = cli_db_fail(cli, "deploy refused, nothing changed");
            goto out;
        }
        PQclear(r);
    }
    if ((rc = cli_commit(cli)) != 0)
        goto out;
    out_message(cli->out, "the candidate is live; every host runs it from now on");
out:
    json_decref(deployed);
    folder_release(cli, &f);
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
    /* Each earlier generation can be put back: a button on a page, the command in a terminal. */
    for (int i = 0; i < PQntuples(r); i++) {
        const char *argv[] = {"config",   "rollback",          PQgetvalue(r, i, 1),
                              "--plugin", PQgetvalue(r, i, 0), NULL};
        char label[160];
        if (PQgetvalue(r, i, 2)[0] == 't')
            continue;
        snprintf(label, sizeof(label), "roll %s back to %.12s (%s)", PQgetvalue(r, i, 0),
                 PQgetvalue(r, i, 1), PQgetvalue(r, i, 4));
        out_action(cli->out, label, argv);
    }
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
    struct folder f;
    struct generation gen;
    int rc;
    memset(&f, 0, sizeof(f));
    memset(&gen, 0, sizeof(gen));
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
    if ((dir = candidate_private_dir("live", cli->ctx.err, sizeof(cli->ctx.err))) == NULL ||
        generation_from_json(&gen, PQgetvalue(g, 0, 0), PQgetvalue(g, 0, 2), cli->ctx.err,
                             sizeof(cli->ctx.err)) != 0 ||
        generation_write(&gen, dir, cli->ctx.err, sizeof(cli->ctx.err)) != 0) {
        rc = cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
        goto out;
    }
    if (folder_load(cli, &f, dir, dir) != 0) {
        folder_say(cli, &f);
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
    if (loader_deploy_check(&f.loader, &cli->ctx, PQgetvalue(g, 0, 0), PQgetvalue(g, 0, 1)) != 0) {
        folder_say(cli, &f);
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
    folder_release(cli, &f);
    generation_release(&gen);
    PQclear(g);
    PQclear(r);
    if (dir != NULL) {
        candidate_private_remove(dir);
        free(dir);
    }
    return rc;
}

/* Arguments of config check and config deploy (same indexes). */
enum { C_DIR, C_CANDIDATE, C_NOTE };

/*
 * Runs check (note unused) or deploy on the folder the arguments name: DIR,
 * a stored candidate (--candidate, copied to a private folder first), or the
 * host config's folder. A web page names a stored candidate: the server's
 * own folders are for its administrator's terminal.
 */
static int config_on_folder(struct cli *cli, const struct ch_value *v, int deploy)
{
    const char *id = v[C_CANDIDATE].text;
    char *dir = NULL, shown[64];
    int rc;
    if (id != NULL && v[C_DIR].text != NULL)
        return cli_fail(cli, EXIT_USAGE, "config %s: give a folder or --candidate, not both",
                        deploy ? "deploy" : "check");
    if (id == NULL && cli->web)
        return cli_fail(cli, EXIT_USAGE,
                        "config %s: on the web pages, name a stored candidate (--candidate ID; "
                        "candidate list shows them)",
                        deploy ? "deploy" : "check");
    if (id == NULL) {
        const char *folder = v[C_DIR].text != NULL ? v[C_DIR].text : cli->hc.dir;
        return deploy ? config_deploy(cli, folder, NULL, folder, v[C_NOTE].text, NULL)
                      : config_check(cli, folder, NULL, folder);
    }
    /* Read as the person running the command: only config admins read candidates. */
    if ((rc = cli_session(cli, 1)) != 0 || (rc = candidate_materialize(cli, id, &dir)) != 0)
        return rc;
    if ((rc = cli_commit(cli)) == 0) {
        snprintf(shown, sizeof(shown), "candidate %s", id);
        rc = deploy ? config_deploy(cli, dir, dir, shown, v[C_NOTE].text, id)
                    : config_check(cli, dir, dir, shown);
    }
    candidate_private_remove(dir);
    free(dir);
    return rc;
}

static int config_check_cmd(struct cli *cli, const struct ch_value *v)
{
    return config_on_folder(cli, v, 0);
}

static int config_deploy_cmd(struct cli *cli, const struct ch_value *v)
{
    return config_on_folder(cli, v, 1);
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

#define FOLDER_ARGS                                                                                \
    [C_DIR] = {"dir", CH_ARG_FILE, 0, "the candidate folder (default: the host config's folder)",  \
               NULL,  NULL,        0, 0},                                                          \
    [C_CANDIDATE] = {"--candidate",                                                                \
                     CH_ARG_ID,                                                                    \
                     0,                                                                            \
                     "a candidate stored in the database instead (candidate list)",                \
                     NULL,                                                                         \
                     "ID",                                                                         \
                     0,                                                                            \
                     0}

static const struct ch_arg check_args[] = {FOLDER_ARGS};

static const struct ch_arg deploy_args[] = {
    FOLDER_ARGS,
    [C_NOTE] = {"--note", CH_ARG_TEXT, 0, "why, kept with the generation", NULL, NULL, 0, 0},
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
    {CLI_VIEW_NO_ARGS("config", "history", "every generation deployed, newest first"),
     config_history},
    {CLI_SPEC("config", "rollback", "make an earlier generation live again", rollback_args),
     config_rollback_cmd},
};

/*
 * Neither live generations nor plugins: config starts the plugins on its
 * candidate itself, in a loader of its own. On the web pages with stored
 * candidates only.
 */
const struct cli_verb cli_verb_config = {
    "config", "check, deploy, list and roll back configuration generations", config_commands,
    CLI_N(config_commands), CLI_WEB};
