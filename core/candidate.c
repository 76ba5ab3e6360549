/*
 * candidate.c: configuration candidates kept in the database, so a config
 * admin prepares a change without naming a folder on a server (the web
 * pages): `candidate new` copies the live generations, `put` and `rm` change
 * one .cfg file, `show` says what differs from live, and a private copy
 * (candidate_materialize) is what `config check|deploy --candidate` and a
 * plugin's `--candidate` read. Every write goes through the SECURITY
 * DEFINER functions of sql/core/013_config_candidates.sql; nothing here
 * makes configuration live.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "candidate.h"
#include "cli.h"
#include "generation.h"

/* The file whose lock says a private directory's process is alive. */
#define OWNER_FILE ".casehost-owner"

/* The owner lock each private directory of this process holds. */
static pthread_mutex_t owned_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct owned {
    char *dir;
    int fd;
} * owned;
static size_t n_owned, cap_owned;
static int swept;

/*
 * Removes tmp's private directories of this user whose owner file nobody
 * holds a lock on: their process has ended. A lock this process holds is
 * held through another open file, so its own are never taken.
 */
static void sweep_orphans(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char full[4096], owner[4200];
        struct stat st;
        int fd;
        if (strncmp(e->d_name, "casehost-", 9) != 0)
            continue;
        snprintf(full, sizeof(full), "%s/%s", tmp, e->d_name);
        if (lstat(full, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        snprintf(owner, sizeof(owner), "%s/" OWNER_FILE, full);
        if ((fd = open(owner, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
            continue; /* being made (the owner file comes last), or not one of ours */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            dir_remove_tree(full);
        close(fd);
    }
    closedir(d);
}

/*
 * Locks dir's owner file for the life of this process: made under another
 * name, locked, then renamed, so a sweep never finds it unlocked. 0, or -1
 * (dir then has no owner file and is never swept).
 */
static int own(const char *dir)
{
    char made[4200], owner[4200];
    struct owned *grown;
    int fd;
    snprintf(made, sizeof(made), "%s/.casehost-owner-new", dir);
    snprintf(owner, sizeof(owner), "%s/" OWNER_FILE, dir);
    fd = open(made, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || rename(made, owner) != 0) {
        unlink(made);
        close(fd);
        return -1;
    }
    if (n_owned == cap_owned) {
        size_t cap = cap_owned ? 2 * cap_owned : 8;
        if ((grown = realloc(owned, cap * sizeof(*owned))) == NULL) {
            close(fd); /* the lock goes with it: a sweep may take dir from now on */
            return -1;
        }
        owned = grown;
        cap_owned = cap;
    }
    if ((owned[n_owned].dir = strdup(dir)) == NULL) {
        close(fd);
        return -1;
    }
    owned[n_owned++].fd = fd;
    return 0;
}

char *candidate_private_dir(const char *what, char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    char *dir;
    size_t n;
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    n = strlen(tmp) + strlen(what) + 32;
    if ((dir = malloc(n)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(dir, n, "%s/casehost-%s-XXXXXX", tmp, what); /* mkdtemp's template */
    pthread_mutex_lock(&owned_mutex);
    if (!swept) {
        sweep_orphans(tmp);
        swept = 1;
    }
    if (mkdtemp(dir) == NULL) {
        pthread_mutex_unlock(&owned_mutex);
        snprintf(err, errlen, "cannot make a private directory in %s: %s", tmp, strerror(errno));
        free(dir);
        return NULL;
    }
    if (own(dir) != 0) {
        pthread_mutex_unlock(&owned_mutex);
        snprintf(err, errlen, "cannot lock private directory %s: %s", dir, strerror(errno));
        dir_remove_tree(dir);
        free(dir);
        return NULL;
    }
    pthread_mutex_unlock(&owned_mutex);
    return dir;
}

void candidate_private_remove(const char *dir)
{
    dir_remove_tree(dir);
    pthread_mutex_lock(&owned_mutex);
    for (size_t i = 0; i < n_owned; i++)
        if (strcmp(owned[i].dir, dir) == 0) {
            close(owned[i].fd);
            free(owned[i].dir);
            owned[i] = owned[--n_owned];
            break;
        }
    if (n_owned == 0) { /* nothing held: nothing left allocated at exit */
        free(owned);
        owned = NULL;
        cap_owned = 0;
    }
    pthread_mutex_unlock(&owned_mutex);
}

int candidate_materialize(struct cli *cli, const char *id, char **dir)
{
    /* One row per plugin the candidate was copied for, with that plugin's files. */
    static const char sql[] =
        "SELECT p.key, (SELECT jsonb_object_agg(f.key, f.value) FROM jsonb_each(c.files) f"
        "                WHERE starts_with(f.key, p.key || '/'))::text"
        "  FROM casehost.config_candidates_v1($1) c, jsonb_each(c.based_on) p";
    const char *params[1] = {id};
    PGresult *r = db_exec(cli->ctx.conn, sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err));
    int rc = 0;
    *dir = NULL;
    if (r == NULL)
        return cli_db_fail(cli, "cannot read the candidate");
    if ((*dir = candidate_private_dir("candidate", cli->ctx.err, sizeof(cli->ctx.err))) == NULL)
        rc = cli_fail(cli, EXIT_RUNTIME, "%s", cli->ctx.err);
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        struct generation g;
        if (PQgetisnull(r, i, 1))
            continue; /* every file of this plugin removed: nothing of it to read */
        if (generation_from_json(&g, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), cli->ctx.err,
                                 sizeof(cli->ctx.err)) != 0 ||
            generation_write(&g, *dir, cli->ctx.err, sizeof(cli->ctx.err)) != 0)
            rc = cli_fail(cli, EXIT_RUNTIME, "candidate %s: %s", id, cli->ctx.err);
        generation_release(&g);
    }
    PQclear(r);
    if (rc != 0 && *dir != NULL) {
        candidate_private_remove(*dir);
        free(*dir);
        *dir = NULL;
    }
    return rc;
}

void candidate_unprivate(const char *text, const char *dir, FILE *to)
{
    size_t n = strlen(dir);
    const char *at;
    while ((at = strstr(text, dir)) != NULL && at[n] == '/') {
        fwrite(text, 1, (size_t)(at - text), to);
        text = at + n + 1;
    }
    fputs(text, to);
}

/* ------------------------------------------------------------ commands --- */

/* A candidate id as typed: the parser checked its digits. */
static const char *id_of(const struct ch_value *v)
{
    return v->text;
}

static int candidate_new(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] = "SELECT casehost.config_candidate_new_v1($1)";
    const char *params[1] = {v[0].text};
    char id[32];
    PGresult *r;
    int rc;
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "no candidate was made");
    snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if ((rc = cli_commit(cli)) != 0)
        return rc;
    out_str(cli->out, "candidate", id);
    out_message(cli->out, "a new candidate: a copy of the live configuration; nothing is live "
                          "until it is deployed");
    {
        const char *show[] = {"candidate", "show", id, NULL};
        out_action(cli->out, "show the candidate", show);
    }
    return EXIT_OK;
}

static int candidate_list(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] =
        "SELECT id, state, note, created_by, to_char(created_at, 'YYYY-MM-DD HH24:MI') AS created,"
        "       to_char(changed_at, 'YYYY-MM-DD HH24:MI') AS changed,"
        "       (SELECT count(*) FROM jsonb_object_keys(files)) AS files"
        "  FROM casehost.config_candidates_v1(NULL)";
    static const char *const new_argv[] = {"candidate", "new", NULL};
    static const char *const history_argv[] = {"config", "history", NULL};
    PGresult *r;
    int rc;
    (void)v;
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, 0, NULL, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, "cannot read the candidates");
    out_result(cli->out, "candidates", r, 1);
    for (int i = 0; i < PQntuples(r); i++) {
        const char *show[] = {"candidate", "show", PQgetvalue(r, i, 0), NULL};
        char label[200];
        if (strcmp(PQgetvalue(r, i, 1), "open") != 0)
            continue;
        snprintf(label, sizeof(label), "candidate %s: %.150s", PQgetvalue(r, i, 0),
                 PQgetisnull(r, i, 2) ? "(no note)" : PQgetvalue(r, i, 2));
        out_action(cli->out, label, show);
    }
    out_action(cli->out, "start a new candidate from the live configuration", new_argv);
    out_action(cli->out, "configuration history (and rollback)", history_argv);
    PQclear(r);
    return cli_commit(cli);
}

/*
 * What an open candidate can do next: check, deploy, put, discard, and
 * every plugin command that declares --candidate (fixtures, replay,
 * what-if), so a plugin's checks reach the page without the host naming them.
 */
static void candidate_actions(struct cli *cli, const char *id)
{
    const char *check[] = {"config", "check", "--candidate", id, NULL};
    const char *put[] = {"candidate", "put", id, NULL};
    const char *deploy[] = {"config", "deploy", "--candidate", id, NULL};
    const char *discard[] = {"candidate", "discard", id, NULL};
    out_action(cli->out, "check every file and run the fixtures", check);
    out_action(cli->out, "upload a file into it", put);
    for (size_t i = 0; i < cli->loader.n_commands; i++) {
        const struct command_entry *ce = &cli->loader.commands[i];
        if (!ce->typed)
            continue;
        for (size_t k = 0; k < ce->spec.n_args; k++)
            if (strcmp(args_at(&ce->spec, k)->name, "--candidate") == 0) {
                const char *argv[] = {ce->spec.verb, ce->spec.sub, "--candidate", id, NULL};
                if (ce->spec.sub == NULL) {
                    argv[1] = "--candidate";
                    argv[2] = id;
                    argv[3] = NULL;
                }
                out_action(cli->out, ce->spec.help, argv);
                break;
            }
    }
    out_action(cli->out, "deploy it: make it live", deploy);
    out_action(cli->out, "discard it", discard);
}

static int candidate_show(struct cli *cli, const struct ch_value *v)
{
    static const char head_sql[] =
        "SELECT id, state, note, created_by, to_char(created_at, 'YYYY-MM-DD HH24:MI') AS created,"
        "       to_char(changed_at, 'YYYY-MM-DD HH24:MI') AS changed, based_on::text AS based_on,"
        "       deployed::text AS deployed"
        "  FROM casehost.config_candidates_v1($1)";
    static const char files_sql[] =
        "SELECT path, bytes, sha256, against_live FROM casehost.config_candidate_files_v1($1)";
    static const char text_sql[] = "SELECT files ->> $2 FROM casehost.config_candidates_v1($1)";
    const char *params[2] = {id_of(&v[0]), v[1].text};
    PGresult *h, *f;
    int rc;
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    h = db_exec(cli->ctx.conn, head_sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (h == NULL)
        return cli_db_fail(cli, "cannot read the candidate");
    f = db_exec(cli->ctx.conn, files_sql, 1, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (f == NULL) {
        PQclear(h);
        return cli_db_fail(cli, "cannot read the candidate's files");
    }
    out_result(cli->out, "candidate", h, 0);
    if (params[1] != NULL) { /* one file's text, to read or to edit and put back */
        PGresult *t =
            db_exec(cli->ctx.conn, text_sql, 2, params, cli->ctx.err, sizeof(cli->ctx.err));
        int missing = t != NULL && PQgetisnull(t, 0, 0);
        if (t == NULL || missing) {
            PQclear(t);
            PQclear(h);
            PQclear(f);
            return t == NULL ? cli_db_fail(cli, "cannot read the candidate's file")
                             : cli_fail(cli, EXIT_RUNTIME,
                                        "configuration candidate %s has no "
                                        "file \"%s\"",
                                        params[0], params[1]);
        }
        out_str(cli->out, "path", params[1]);
        out_str(cli->out, "text", PQgetvalue(t, 0, 0));
        PQclear(t);
    }
    out_result(cli->out, "files", f, 1);
    {
        int differ = 0;
        for (int i = 0; i < PQntuples(f); i++) {
            const char *read[] = {"candidate",         "show", params[0], "--file",
                                  PQgetvalue(f, i, 0), NULL};
            char label[300];
            differ += strcmp(PQgetvalue(f, i, 3), "same") != 0;
            if (strcmp(PQgetvalue(f, i, 3), "removed") == 0)
                continue;
            snprintf(label, sizeof(label), "read %.200s (%s)", PQgetvalue(f, i, 0),
                     PQgetvalue(f, i, 3));
            out_action(cli->out, label, read);
        }
        out_int(cli->out, "differ_from_live", differ);
    }
    if (strcmp(PQgetvalue(h, 0, 1), "open") == 0)
        candidate_actions(cli, params[0]);
    PQclear(h);
    PQclear(f);
    return cli_commit(cli);
}

/* Reads a whole text file (path, or '-' for standard input) up to the generation's cap. */
static char *read_text(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf;
    size_t n;
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(GENERATION_FILE_MAX + 2);
    n = buf != NULL ? fread(buf, 1, GENERATION_FILE_MAX + 1, f) : 0;
    if (buf == NULL || ferror(f))
        snprintf(err, errlen, "%s: %s", path, buf == NULL ? "out of memory" : strerror(errno));
    else if (n > GENERATION_FILE_MAX)
        snprintf(err, errlen, "%s: more than %u bytes; a configuration file holds at most 4 MiB",
                 path, GENERATION_FILE_MAX);
    else if (memchr(buf, '\0', n) != NULL)
        snprintf(err, errlen, "%s: holds a NUL byte: not a configuration text", path);
    else
        err[0] = '\0';
    if (f != stdin)
        fclose(f);
    if (buf == NULL || err[0] != '\0') {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int candidate_put(struct cli *cli, const struct ch_value *v)
{
    static const char sql[] =
        "SELECT bytes, changed FROM casehost.config_candidate_put_v1($1, $2, $3)";
    char err[512];
    size_t len = 0;
    char *text = read_text(v[2].text, &len, err, sizeof(err));
    const char *params[3] = {id_of(&v[0]), v[1].text, text};
    PGresult *r;
    int rc;
    if (text == NULL)
        return cli_fail(cli, EXIT_USAGE, "candidate put: %s", err);
    if ((rc = cli_session(cli, 1)) != 0)
        goto out;
    r = db_exec(cli->ctx.conn, sql, 3, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL) {
        rc = cli_db_fail(cli, "the file was not put into the candidate");
        goto out;
    }
    out_str(cli->out, "candidate", params[0]);
    out_str(cli->out, "path", params[1]);
    out_int(cli->out, "bytes", strtoll(PQgetvalue(r, 0, 0), NULL, 10));
    out_bool(cli->out, "changed", PQgetvalue(r, 0, 1)[0] == 't');
    PQclear(r);
    if ((rc = cli_commit(cli)) != 0)
        goto out;
    out_message(cli->out, "the file is in the candidate; check it before a deploy");
    {
        const char *show[] = {"candidate", "show", params[0], NULL};
        out_action(cli->out, "show the candidate", show);
    }
out:
    free(text);
    return rc;
}

/* rm and discard: one function call, then the candidate (or the list) again. */
static int candidate_change(struct cli *cli, const char *sql, int n, const char *const *params,
                            const char *what, const char *done)
{
    PGresult *r;
    int rc;
    if ((rc = cli_session(cli, 1)) != 0)
        return rc;
    r = db_exec(cli->ctx.conn, sql, n, params, cli->ctx.err, sizeof(cli->ctx.err));
    if (r == NULL)
        return cli_db_fail(cli, what);
    PQclear(r);
    if ((rc = cli_commit(cli)) != 0)
        return rc;
    out_str(cli->out, "candidate", params[0]);
    out_message(cli->out, done);
    return EXIT_OK;
}

static int candidate_rm(struct cli *cli, const struct ch_value *v)
{
    const char *params[2] = {id_of(&v[0]), v[1].text};
    return candidate_change(cli, "SELECT casehost.config_candidate_rm_v1($1, $2)", 2, params,
                            "the file was not removed", "the file is removed from the candidate");
}

static int candidate_discard(struct cli *cli, const struct ch_value *v)
{
    const char *params[1] = {id_of(&v[0])};
    return candidate_change(cli, "SELECT casehost.config_candidate_discard_v1($1)", 1, params,
                            "the candidate was not discarded",
                            "the candidate is discarded; the live configuration is unchanged");
}

static const struct ch_arg new_args[] = {
    {"--note", CH_ARG_TEXT, 0, "what the change is for", NULL, NULL, 0, 0},
};
static const struct ch_arg id_args[] = {
    {"id", CH_ARG_ID, CH_ARG_REQUIRED, "the candidate", NULL, NULL, 0, 0},
};
static const struct ch_arg show_args[] = {
    {"id", CH_ARG_ID, CH_ARG_REQUIRED, "the candidate", NULL, NULL, 0, 0},
    {"--file", CH_ARG_TEXT, 0, "also the text of this file (trafficking/routing.cfg)", NULL, "PATH",
     0, 0},
};
static const struct ch_arg put_args[] = {
    {"id", CH_ARG_ID, CH_ARG_REQUIRED, "the candidate", NULL, NULL, 0, 0},
    {"path", CH_ARG_TEXT, CH_ARG_REQUIRED,
     "the file in the candidate: plugin/name.cfg, e.g. trafficking/routing.cfg", NULL, "PATH", 0,
     0},
    {"file", CH_ARG_FILE, CH_ARG_REQUIRED, "the file's new text ('-': standard input)", NULL,
     "FILE", 0, 0},
};
static const struct ch_arg rm_args[] = {
    {"id", CH_ARG_ID, CH_ARG_REQUIRED, "the candidate", NULL, NULL, 0, 0},
    {"path", CH_ARG_TEXT, CH_ARG_REQUIRED, "the file to remove, as candidate show lists it", NULL,
     "PATH", 0, 0},
};

static const struct cli_command candidate_commands[] = {
    {CLI_SPEC("candidate", "new", "start a candidate: a copy of the live configuration", new_args),
     candidate_new},
    {CLI_VIEW_NO_ARGS("candidate", "list", "configuration candidates (config admins)"),
     candidate_list},
    {CLI_VIEW("candidate", "show", "a candidate's files and how they differ from live", show_args),
     candidate_show},
    {CLI_SPEC("candidate", "put", "put a file's text into a candidate", put_args), candidate_put},
    {CLI_SPEC("candidate", "rm", "remove a file from a candidate", rm_args), candidate_rm},
    {CLI_SPEC("candidate", "discard", "discard a candidate", id_args), candidate_discard},
};

/* Plugins loaded (show offers each plugin command that takes --candidate); on the web pages. */
const struct cli_verb cli_verb_candidate = {
    "candidate", "prepare configuration in the database: new, put, show, discard (config admins)",
    candidate_commands, CLI_N(candidate_commands), CLI_PLUGINS | CLI_LIVE | CLI_WEB};
