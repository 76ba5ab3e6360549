/*
 * web.c: the server behind `casehost serve`. libmicrohttpd's thread pool
 * takes the requests; each request borrows one worker: its own host config,
 * plugins and PostgreSQL connection as the authenticator. A page is one or
 * more typed commands run exactly as in a terminal (cli_run) in a
 * transaction acting as the logged-in person's role, their output trees
 * rendered as HTML. GET runs only commands that show (CH_CMD_VIEW); every
 * other command runs from a form posted with the session's CSRF token.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "args.h"
#include "cli.h"
#include "html.h"
#include "web.h"
#include "webform.h"

#define COOKIE "casehost_session"
#define MAX_POST (1u << 20) /* a form never needs more */
/* Workers look at the live generations when a deploy is announced, and at least this often. */
#define LIVE_CHECK_SECONDS 60

struct worker {
    struct cli cli;
    struct diag diag;
    int busy;
    int built;
    unsigned reload_seen;
    unsigned deploy_seen;
    time_t live_checked;
};

struct server {
    const struct web_options *opt;
    struct worker *workers;
    size_t n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned reload_gen; /* under mu: bumped by SIGHUP */
    unsigned deploy_gen; /* under mu: bumped by each deploy announced (LISTEN casehost_deploy) */
    int stopping;        /* under mu */
    pthread_t listener;
    char conninfo[1024]; /* the authenticator's; password checks use it with another user */
};

/* One HTTP request while its body arrives. */
struct request {
    struct MHD_PostProcessor *pp;
    struct web_fields fields; /* posted fields */
    size_t posted;
    int too_big;
    struct timespec start;
};

/* One response under construction. */
struct page {
    FILE *f;
    char *body;
    size_t len;
    unsigned status;
    char cookie[200];
    const char *location;     /* a redirect */
    const char *content_type; /* NULL: HTML */
    int cacheable;            /* the style sheet; everything else is no-store */
};

#define web_log(level, ...) diag_log("serve", level, __VA_ARGS__)

/* ------------------------------------------------------------ workers --- */

static void worker_release(struct worker *w)
{
    if (!w->built)
        return;
    if (w->cli.ctx.conn != NULL)
        PQfinish(w->cli.ctx.conn);
    loader_release(&w->cli.loader);
    live_release(&w->cli);
    hostcfg_release(&w->cli.hc);
    memset(&w->cli, 0, sizeof(w->cli));
    w->built = 0;
}

/* Reads the host config, the live generations and the plugins. 0 or -1 (logged). */
static int worker_build(struct server *s, struct worker *w)
{
    memset(&w->cli, 0, sizeof(w->cli));
    diag_init(&w->diag, stderr);
    w->built = 1;
    w->cli.config_path = s->opt->config_path;
    if (hostcfg_load(&w->cli.hc, hostcfg_default_path(s->opt->config_path), &w->diag) != 0)
        return -1;
    if (live_prepare(&w->cli) != 0 || loader_load_all(&w->cli.loader, &w->cli.hc, &w->diag) == -2)
        return -1;
    w->live_checked = time(NULL);
    return 0;
}

/* A free worker, rebuilt after SIGHUP and following deploys; NULL when it cannot start. */
static struct worker *worker_get(struct server *s)
{
    struct worker *w = NULL;
    unsigned gen, deploy;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        for (size_t i = 0; i < s->n && w == NULL; i++)
            if (!s->workers[i].busy)
                w = &s->workers[i];
        if (w != NULL)
            break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    w->busy = 1;
    gen = s->reload_gen;
    deploy = s->deploy_gen;
    pthread_mutex_unlock(&s->mu);

    if (w->built && w->reload_seen != gen)
        worker_release(w);
    if (!w->built) {
        w->reload_seen = gen;
        if (worker_build(s, w) != 0) {
            web_log("error", "cannot start a worker: see the messages above");
            worker_release(w);
        }
    }
    if (w->built && w->cli.ctx.conn != NULL && PQstatus(w->cli.ctx.conn) == CONNECTION_BAD)
        PQreset(w->cli.ctx.conn);
    if (w->built && w->cli.ctx.conn == NULL)
        w->cli.ctx.conn = db_connect(s->conninfo, w->cli.ctx.err, sizeof(w->cli.ctx.err));
    if (w->built && w->cli.ctx.conn != NULL &&
        (w->deploy_seen != deploy || time(NULL) - w->live_checked >= LIVE_CHECK_SECONDS)) {
        w->live_checked = time(NULL);
        w->deploy_seen = deploy;
        if (live_refresh(&w->cli) == 1)
            web_log("info", "a new configuration generation is live: plugins reloaded");
    }
    return w;
}

static void worker_put(struct server *s, struct worker *w)
{
    PGconn *c = w->cli.ctx.conn;
    if (c != NULL && PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK"));
    pthread_mutex_lock(&s->mu);
    w->busy = 0;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static PGconn *worker_conn(struct worker *w)
{
    return w->built ? w->cli.ctx.conn : NULL;
}

/*
 * LISTENs for deploys on a connection of its own and announces each to the
 * workers; reconnects with backoff when the database goes away.
 */
static void *listener(void *arg)
{
    struct server *s = arg;
    PGconn *c = NULL;
    unsigned backoff = 1;
    for (;;) {
        struct pollfd pfd;
        PGnotify *n;
        int got = 0;
        pthread_mutex_lock(&s->mu);
        if (s->stopping) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        pthread_mutex_unlock(&s->mu);
        if (c == NULL || PQstatus(c) == CONNECTION_BAD) {
            char err[512];
            PGresult *r;
            if (c != NULL)
                PQfinish(c);
            c = db_connect(s->conninfo, err, sizeof(err));
            r = c != NULL ? PQexec(c, "LISTEN casehost_deploy") : NULL;
            if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
                PQclear(r);
                sleep(backoff < 5 ? backoff : 5);
                backoff *= 2;
                continue;
            }
            PQclear(r);
            backoff = 1;
            got = 1; /* anything deployed while away counts as announced */
        }
        pfd.fd = PQsocket(c);
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 1000) > 0 && PQconsumeInput(c) != 1)
            continue; /* the connection broke: made again above */
        while ((n = PQnotifies(c)) != NULL) {
            got = 1;
            PQfreemem(n);
        }
        if (got) {
            pthread_mutex_lock(&s->mu);
            s->deploy_gen++;
            pthread_mutex_unlock(&s->mu);
        }
    }
    PQfinish(c);
    return NULL;
}

/* ------------------------------------------------------------- pages --- */

static const char css[] =
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#111;background:#fff}\n"
    "header{background:#1d3557;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;"
    "gap:1rem;align-items:center}\n"
    "header a,header button{color:#fff;font:inherit}\n"
    "header nav a{margin-right:1rem}\n"
    "header form{margin:0 0 0 auto}\n"
    "header button{background:none;border:1px solid #fff;padding:.2rem .6rem;cursor:pointer}\n"
    "main{padding:1rem;max-width:70rem}\n"
    "a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #e76f51;"
    "outline-offset:2px}\n"
    ".alert{padding:.75rem 1rem;margin:0 0 1rem;border-left:.5rem solid}\n"
    ".alert.danger{background:#fde2e2;border-color:#b00020;color:#6b0010;font-weight:bold;"
    "font-size:1.2rem}\n"
    ".alert.warning{background:#fff4d6;border-color:#b26a00}\n"
    ".alert.info{background:#e7f1fb;border-color:#1d6fb8}\n"
    ".error{background:#fde2e2;border-left:.5rem solid #b00020;padding:.75rem 1rem}\n"
    "table{border-collapse:collapse;margin:.5rem 0 1rem;display:block;overflow-x:auto}\n"
    "th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}\n"
    "th{background:#f0f0f0}\n"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}\n"
    "dt{font-weight:bold}dd{margin:0}\n"
    "label{display:block;font-weight:bold;margin-top:.75rem}\n"
    "input,select,textarea{font:inherit;padding:.3rem;max-width:100%}\n"
    ".help{color:#444;margin:.1rem 0 .5rem;font-size:.9rem}\n"
    "fieldset{margin:.75rem 0;border:1px solid #bbb}\n"
    ".choice{margin:.3rem 0}.choice label{display:inline;margin:0 0 0 .4rem}\n"
    "button,input[type=submit]{font:inherit;padding:.4rem 1rem;margin-top:1rem;cursor:pointer}\n"
    ".actions li{margin:.3rem 0}\n"
    "form.action{display:inline;margin:0}form.action button{margin:0;padding:.1rem .5rem}\n"
    "section{margin-bottom:2rem}\n"
    "@media print{header{display:none}}\n";

static void page_init(struct page *p)
{
    memset(p, 0, sizeof(*p));
    p->status = MHD_HTTP_OK;
    p->f = open_memstream(&p->body, &p->len);
}

static void page_head(struct page *p, const char *title, const struct web_session *s)
{
    FILE *f = p->f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          "<link rel=\"stylesheet\" href=\"/static/casehost.css\"><title>",
          f);
    html_text(f, title);
    fputs(" - casehost</title></head><body>\n<header><strong>casehost</strong>", f);
    if (s != NULL) {
        fputs("<nav aria-label=\"main\"><a href=\"/\">My work</a>"
              "<a href=\"/run?a=case&amp;a=list\">Cases</a>"
              "<a href=\"/run?a=person&amp;a=find\">Find a person</a>"
              "<a href=\"/run?a=person&amp;a=add\">Add a person</a>"
              "<a href=\"/commands\">All commands</a></nav>"
              "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"_csrf\" "
              "value=\"",
              f);
        html_attr(f, s->csrf);
        fputs("\"><button type=\"submit\">Log out ", f);
        html_text(f, s->user_name);
        fputs("</button></form>", f);
    }
    fputs("</header>\n<main id=\"main\">\n<h1>", f);
    html_text(f, title);
    fputs("</h1>\n", f);
}

static void page_foot(struct page *p)
{
    fputs("</main></body></html>\n", p->f);
}

static void page_error(struct page *p, const char *text)
{
    fputs("<div class=\"error\" role=\"alert\">", p->f);
    for (const char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        char *one = strndup(line, n);
        fputs("<p>", p->f);
        html_text(p->f, one);
        fputs("</p>", p->f);
        free(one);
        line += n + (line[n] == '\n');
    }
    fputs("</div>\n", p->f);
}

/* A whole page saying one thing (errors before any command ran). */
static void page_message(struct page *p, unsigned status, const char *title, const char *text,
                         const struct web_session *s)
{
    p->status = status;
    page_head(p, title, s);
    page_error(p, text);
    page_foot(p);
}

static void page_redirect(struct page *p, const char *to)
{
    p->status = MHD_HTTP_SEE_OTHER;
    p->location = to;
    fputs("<!DOCTYPE html><html lang=\"en\"><title>moved</title><a href=\"", p->f);
    html_attr(p->f, to);
    fputs("\">continue</a></html>\n", p->f);
}

/* ----------------------------------------------------------- commands --- */

/* What one command run left: its exit code, output tree and error text. */
struct run {
    int rc;
    struct out *out;
    char *err;
    size_t errlen;
};

static void run_release(struct run *r)
{
    out_free(r->out);
    free(r->err);
    memset(r, 0, sizeof(*r));
}

/* Runs argv as the session's person, as the terminal would. */
static void run_command(struct worker *w, const struct web_session *s, int argc, char **argv,
                        struct run *r)
{
    struct cli *cli = &w->cli;
    memset(r, 0, sizeof(*r));
    r->out = out_new(0);
    cli->errf = open_memstream(&r->err, &r->errlen);
    if (r->out == NULL || cli->errf == NULL || cli->ctx.conn == NULL) {
        r->rc = EXIT_RUNTIME;
        if (cli->errf != NULL)
            fputs(cli->ctx.conn == NULL ? "the database is not reachable" : "out of memory",
                  cli->errf);
    } else {
        cli->out = r->out;
        cli->ctx.out = r->out;
        cli->ctx.json = 0;
        cli->ctx.interactive = 0;
        cli->ctx.err[0] = '\0';
        cli->json = 0;
        cli->in_tx = 0;
        cli->web = 1;
        cli->act_as = s->db_role;
        r->rc = cli_run(cli, argc, argv);
    }
    if (cli->errf != NULL)
        fclose(cli->errf);
    cli->errf = NULL;
    cli->out = NULL;
    cli->ctx.out = NULL;
    cli->act_as = NULL;
    cli->in_tx = 0;
    if (cli->ctx.conn != NULL && PQtransactionStatus(cli->ctx.conn) != PQTRANS_IDLE)
        PQclear(PQexec(cli->ctx.conn, "ROLLBACK"));
}

static int run_ok(const struct run *r)
{
    return r->rc == EXIT_OK || r->rc == EXIT_ATTENTION;
}

/* The HTTP status of a failed command: another agency's case is "not found", never forbidden. */
static unsigned run_status(const struct run *r)
{
    if (r->err != NULL && strstr(r->err, "not found") != NULL)
        return MHD_HTTP_NOT_FOUND;
    if (r->rc == EXIT_USAGE)
        return MHD_HTTP_BAD_REQUEST;
    return MHD_HTTP_UNPROCESSABLE_CONTENT;
}

/* A run's output (or error) into the page. */
static void run_render(struct page *p, const struct run *r, const struct web_session *s)
{
    if (!run_ok(r))
        page_error(p, r->err != NULL && r->err[0] != '\0' ? r->err : "the command failed");
    if (r->out != NULL)
        out_flush_html(r->out, p->f, s->csrf);
}

/* "verb sub" of a spec, for titles. */
static void spec_title(const struct ch_command_spec *spec, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s", spec->verb, spec->sub ? " " : "", spec->sub ? spec->sub : "");
}

/* The form of spec, prefilled from argv when it parses. */
static void render_form(struct page *p, struct worker *w, const struct ch_command_spec *spec,
                        int argc, char **argv, const struct web_session *s)
{
    struct ch_value *vals = calloc(spec->n_args + 1, sizeof(*vals));
    char err[512];
    int parsed = vals != NULL && argc > 0 &&
                 args_prefill(spec, argc, argv, spec->sub ? 2 : 1, vals, err, sizeof(err)) == 0;
    (void)w;
    fputs("<p>", p->f);
    html_text(p->f, spec->help);
    fputs("</p>\n", p->f);
    webform_render(p->f, spec, spec->verb, parsed ? vals : NULL, s->csrf);
    if (vals != NULL)
        args_release(spec, vals);
    free(vals);
}

static int has_required(const struct ch_command_spec *spec)
{
    for (size_t i = 0; i < spec->n_args; i++)
        if (args_at(spec, i)->flags & CH_ARG_REQUIRED)
            return 1;
    return 0;
}

/* GET /run?a=VERB&a=SUB&a=...: a command that shows runs; any other shows its form. */
static void page_run_get(struct page *p, struct worker *w, const struct web_session *s, int argc,
                         char **argv)
{
    const struct ch_command_spec *spec = argc > 0 ? cli_spec(&w->cli, argc, argv) : NULL;
    char title[128];
    struct run r;
    if (spec == NULL) {
        page_message(p, MHD_HTTP_NOT_FOUND, "Not found", "There is no such page.", s);
        return;
    }
    spec_title(spec, title, sizeof(title));
    if (!(spec->flags & CH_CMD_VIEW)) {
        page_head(p, title, s);
        render_form(p, w, spec, argc, argv, s);
        page_foot(p);
        return;
    }
    run_command(w, s, argc, argv, &r);
    page_head(p, title, s);
    if (!run_ok(&r) && argc <= (spec->sub ? 2 : 1) && spec->n_args > 0) {
        /* nothing asked yet (a search without terms): the form alone */
        render_form(p, w, spec, argc, argv, s);
    } else {
        if (!run_ok(&r))
            p->status = run_status(&r);
        if (spec->n_args > 0 && (!run_ok(&r) || !has_required(spec)))
            render_form(p, w, spec, argc, argv, s); /* a filter or search: ask again */
        run_render(p, &r, s);
    }
    page_foot(p);
    run_release(&r);
}

/* POST /run: the posted form becomes argv and runs; a refusal shows the form again. */
static void page_run_post(struct page *p, struct worker *w, const struct web_session *s,
                          const struct web_fields *fields)
{
    const char *verb = web_fields_get(fields, "_verb"), *sub = web_fields_get(fields, "_sub");
    char *head[3] = {NULL, NULL, NULL}, **argv = NULL, title[128];
    const struct ch_command_spec *spec;
    struct run r;
    int argc;

    if (web_fields_get(fields, "_open") !=
        NULL) { /* an action: its words were not for an address */
        char *open_argv[64];
        int n = 0;
        for (size_t i = 0; i < fields->n && n < 63; i++)
            if (strcmp(fields->v[i].name, "_argv") == 0)
                open_argv[n++] = fields->v[i].value;
        open_argv[n] = NULL;
        page_run_get(p, w, s, n, open_argv);
        return;
    }
    if (verb == NULL) { /* a step form: its argv came as _argv fields */
        size_t k = 0;
        for (size_t i = 0; i < fields->n && k < 2; i++)
            if (strcmp(fields->v[i].name, "_argv") == 0)
                head[k++] = fields->v[i].value;
        verb = head[0];
        sub = head[1];
    }
    head[0] = (char *)verb;
    head[1] = (char *)sub;
    spec = verb != NULL ? cli_spec(&w->cli, sub != NULL ? 2 : 1, head) : NULL;
    if (spec == NULL) {
        page_message(p, MHD_HTTP_NOT_FOUND, "Not found", "There is no such command.", s);
        return;
    }
    argc = webform_argv(spec, spec->verb, fields, &argv);
    if (argc < 0) {
        page_message(p, MHD_HTTP_INTERNAL_SERVER_ERROR, "Error", "out of memory", s);
        return;
    }
    spec_title(spec, title, sizeof(title));
    run_command(w, s, argc, argv, &r);
    if (!run_ok(&r))
        p->status = run_status(&r);
    page_head(p, title, s);
    run_render(p, &r, s);
    if (!run_ok(&r) && !(spec->flags & CH_CMD_VIEW))
        render_form(p, w, spec, argc, argv, s);
    page_foot(p);
    run_release(&r);
    webform_argv_free(argv);
}

/* The home page: my cases, then every command that declares itself part of a person's work. */
static void page_home(struct page *p, struct worker *w, const struct web_session *s)
{
    static char *mine[] = {"case", "list", "--mine", NULL};
    const struct loader *l = &w->cli.loader;
    page_head(p, "My work", s);
    for (size_t i = 0; i <= l->n_commands; i++) {
        char *plugin_argv[3] = {NULL, NULL, NULL}, **argv = mine;
        const struct ch_command_spec *spec;
        struct run r;
        int argc = 3;
        if (i > 0) {
            const struct command_entry *ce = &l->commands[i - 1];
            if (!ce->typed || !(ce->spec.flags & CH_CMD_HOME) || !(ce->spec.flags & CH_CMD_VIEW))
                continue;
            plugin_argv[0] = (char *)ce->spec.verb;
            plugin_argv[1] = (char *)ce->spec.sub;
            argv = plugin_argv;
            argc = ce->spec.sub != NULL ? 2 : 1;
        }
        spec = cli_spec(&w->cli, argc, argv);
        if (spec == NULL)
            continue;
        fputs("<section><h2>", p->f);
        html_text(p->f, i == 0 ? "My cases" : spec->help);
        fputs("</h2>\n", p->f);
        run_command(w, s, argc, argv, &r);
        run_render(p, &r, s);
        run_release(&r);
        fputs("</section>\n", p->f);
    }
    page_foot(p);
}

/* Every command a web page may run, with a link to its form (or its view). */
static void page_commands(struct page *p, struct worker *w, const struct web_session *s)
{
    static const char *const host[] = {"case", "note", "person", "user", "agency"};
    page_head(p, "All commands", s);
    fputs("<ul>\n", p->f);
    for (size_t i = 0; i < sizeof(host) / sizeof(host[0]) + w->cli.loader.n_commands; i++) {
        const struct ch_command_spec *spec = NULL;
        if (i >= sizeof(host) / sizeof(host[0])) {
            const struct command_entry *ce =
                &w->cli.loader.commands[i - sizeof(host) / sizeof(host[0])];
            if (ce->typed && !(ce->spec.flags & (CH_CMD_OWN_TX | CH_CMD_NO_DB)))
                spec = &ce->spec;
            if (spec != NULL) {
                fputs("<li><a href=\"/run?a=", p->f);
                html_url(p->f, spec->verb);
                if (spec->sub != NULL) {
                    fputs("&amp;a=", p->f);
                    html_url(p->f, spec->sub);
                }
                fputs("\">", p->f);
                html_text(p->f, spec->verb);
                fputs(" ", p->f);
                html_text(p->f, spec->sub);
                fputs("</a>: ", p->f);
                html_text(p->f, spec->help);
                fputs("</li>\n", p->f);
            }
            continue;
        }
        fputs("<li><a href=\"/run?a=", p->f);
        html_url(p->f, host[i]);
        fputs("\">", p->f);
        html_text(p->f, host[i]);
        fputs("</a></li>\n", p->f);
    }
    fputs("</ul>\n", p->f);
    page_foot(p);
}

static void page_login_form(struct page *p, const char *msg)
{
    page_head(p, "Log in", NULL);
    if (msg != NULL)
        page_error(p, msg);
    fputs("<form method=\"post\" action=\"/login\">\n"
          "<label for=\"user\">User name</label>"
          "<input id=\"user\" name=\"user\" autocomplete=\"username\" required autofocus>\n"
          "<label for=\"password\">Password</label>"
          "<input id=\"password\" name=\"password\" type=\"password\" "
          "autocomplete=\"current-password\" required>\n"
          "<button type=\"submit\">Log in</button>\n</form>\n",
          p->f);
    page_foot(p);
}

/* ------------------------------------------------------------ requests --- */

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    web_fields_add(cls, key, value != NULL ? value : "");
    return MHD_YES;
}

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data, uint64_t off,
                                  size_t size)
{
    struct request *rq = cls;
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    rq->posted += size + strlen(key);
    if (rq->posted > MAX_POST) {
        rq->too_big = 1;
        return MHD_NO;
    }
    if (off > 0 && rq->fields.n > 0 && strcmp(rq->fields.v[rq->fields.n - 1].name, key) == 0) {
        /* the rest of the last field's value */
        struct web_field *f = &rq->fields.v[rq->fields.n - 1];
        size_t have = strlen(f->value);
        char *v = realloc(f->value, have + size + 1);
        if (v == NULL)
            return MHD_NO;
        memcpy(v + have, data, size);
        v[have + size] = '\0';
        f->value = v;
        return MHD_YES;
    }
    {
        char *v = strndup(data != NULL ? data : "", size);
        int rc = v != NULL ? web_fields_add(&rq->fields, key, v) : -1;
        free(v);
        return rc == 0 ? MHD_YES : MHD_NO;
    }
}

static void client_address(struct MHD_Connection *c, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, len, "?");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  buf, (socklen_t)len);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6,
                  &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr, buf,
                  (socklen_t)len);
}

static void set_cookie(struct page *p, const struct server *s, const char *token)
{
    if (token != NULL)
        snprintf(p->cookie, sizeof(p->cookie), COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s",
                 token, s->opt->secure_cookie ? "; Secure" : "");
    else
        snprintf(p->cookie, sizeof(p->cookie),
                 COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                 s->opt->secure_cookie ? "; Secure" : "");
}

static enum MHD_Result respond(struct MHD_Connection *c, struct page *p)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;
    fclose(p->f);
    p->f = NULL;
    resp = MHD_create_response_from_buffer(p->len, p->body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(p->body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type",
                            p->content_type ? p->content_type : "text/html; charset=utf-8");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; style-src 'self'; img-src 'self'; "
                            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cache-Control",
                            p->cacheable ? "public, max-age=3600" : "no-store");
    if (p->cookie[0] != '\0')
        MHD_add_response_header(resp, "Set-Cookie", p->cookie);
    if (p->location != NULL)
        MHD_add_response_header(resp, "Location", p->location);
    rc = MHD_queue_response(c, p->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* 0 when the browser says the request comes from another site (Fetch Metadata). */
static int same_site(struct MHD_Connection *c)
{
    const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    return site == NULL || strcmp(site, "same-origin") == 0 || strcmp(site, "none") == 0;
}

/* 1 when a posted form carries the session's CSRF token and no cross-site marker. */
static int csrf_ok(struct MHD_Connection *c, const struct request *rq, const struct web_session *s)
{
    const char *token = web_fields_get(&rq->fields, "_csrf");
    return same_site(c) && token != NULL && web_token_equal(token, s->csrf);
}

static void handle(struct server *sv, struct MHD_Connection *c, const char *url, int post,
                   struct request *rq, struct page *p)
{
    const char *token = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
    struct web_session s;
    struct worker *w;
    int found;
    char addr[64];

    if (!post && strcmp(url, "/static/casehost.css") == 0) {
        fputs(css, p->f);
        p->content_type = "text/css; charset=utf-8";
        p->cacheable = 1;
        return;
    }
    if (rq->too_big) {
        page_message(p, MHD_HTTP_CONTENT_TOO_LARGE, "Too large", "The form is too large.", NULL);
        return;
    }
    client_address(c, addr, sizeof(addr));
    w = worker_get(sv);
    if (worker_conn(w) == NULL) {
        page_message(p, MHD_HTTP_SERVICE_UNAVAILABLE, "Unavailable",
                     "The database cannot be reached; try again in a minute.", NULL);
        goto done;
    }
    if (strcmp(url, "/login") == 0) {
        const char *user = web_fields_get(&rq->fields, "user");
        const char *pw = web_fields_get(&rq->fields, "password");
        char tok[65], msg[512];
        int rc;
        if (!post) {
            page_login_form(p, NULL);
            goto done;
        }
        if (!same_site(c)) { /* another site may not log a browser in to an account of its choice */
            p->status = MHD_HTTP_FORBIDDEN;
            page_login_form(p, "Log in from this server's own login page.");
            goto done;
        }
        rc = web_login(worker_conn(w), sv->conninfo, user ? user : "", pw ? pw : "", addr, sv->opt,
                       tok, msg, sizeof(msg));
        if (rc == 0) {
            set_cookie(p, sv, tok);
            page_redirect(p, "/");
        } else if (rc > 0) {
            p->status = MHD_HTTP_UNAUTHORIZED;
            page_login_form(p, msg);
        } else {
            web_log("error", "login: %s", msg);
            p->status = MHD_HTTP_SERVICE_UNAVAILABLE;
            page_login_form(p, "Logging in is not possible now; tell your administrator.");
        }
        goto done;
    }
    found = web_session_find(worker_conn(w), token, &s);
    if (found < 0) {
        page_message(p, MHD_HTTP_SERVICE_UNAVAILABLE, "Unavailable",
                     "The database cannot be reached; try again in a minute.", NULL);
        goto done;
    }
    if (found == 0) {
        if (token != NULL)
            set_cookie(p, sv, NULL);
        page_redirect(p, "/login");
        goto done;
    }
    if (post && !csrf_ok(c, rq, &s)) {
        page_message(p, MHD_HTTP_FORBIDDEN, "Refused",
                     "This form was not sent from a page of this server (its security token is "
                     "missing or old). Open the page again and resend it.",
                     &s);
        goto done;
    }
    if (post && strcmp(url, "/logout") == 0) {
        if (web_logout(worker_conn(w), token) != 0)
            web_log("warning", "logout: the session could not be ended");
        set_cookie(p, sv, NULL);
        page_redirect(p, "/login");
    } else if (!post && strcmp(url, "/") == 0) {
        page_home(p, w, &s);
    } else if (!post && strcmp(url, "/commands") == 0) {
        page_commands(p, w, &s);
    } else if (strcmp(url, "/run") == 0 && !post) {
        struct web_fields q = {NULL, 0, 0};
        char *argv[32];
        int argc = 0;
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &q);
        for (size_t i = 0; i < q.n && argc < 31; i++)
            if (strcmp(q.v[i].name, "a") == 0)
                argv[argc++] = q.v[i].value;
        argv[argc] = NULL;
        page_run_get(p, w, &s, argc, argv);
        web_fields_release(&q);
    } else if (strcmp(url, "/run") == 0) {
        page_run_post(p, w, &s, &rq->fields);
    } else {
        page_message(p, MHD_HTTP_NOT_FOUND, "Not found", "There is no such page.", &s);
    }
done:
    worker_put(sv, w);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct server *sv = cls;
    struct request *rq = *con_cls;
    int post = strcmp(method, "POST") == 0;
    struct page p;
    enum MHD_Result rc;
    struct timespec end;
    (void)version;

    if (rq == NULL) {
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &rq->start);
        if (post)
            rq->pp = MHD_create_post_processor(c, 16384, post_field, rq);
        *con_cls = rq;
        return MHD_YES;
    }
    if (post && *upload_size != 0) {
        if (rq->pp != NULL && !rq->too_big &&
            MHD_post_process(rq->pp, upload, *upload_size) != MHD_YES)
            rq->too_big = rq->posted > MAX_POST;
        *upload_size = 0;
        return MHD_YES;
    }
    page_init(&p);
    if (p.f == NULL)
        return MHD_NO;
    if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        page_message(&p, MHD_HTTP_METHOD_NOT_ALLOWED, "Not allowed", "Method not allowed.", NULL);
    else if (post && rq->pp == NULL)
        page_message(&p, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Refused", "Send a form.", NULL);
    else
        handle(sv, c, url, post, rq, &p);
    clock_gettime(CLOCK_MONOTONIC, &end);
    /* One line per request: the path only (a query may name a person), status, time. */
    web_log("info", "%s %s %u %ld ms", post ? "POST" : method, url, p.status,
            (long)((end.tv_sec - rq->start.tv_sec) * 1000 +
                   (end.tv_nsec - rq->start.tv_nsec) / 1000000));
    rc = respond(c, &p);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *rq = *con_cls;
    (void)cls, (void)c, (void)toe;
    if (rq == NULL)
        return;
    if (rq->pp != NULL)
        MHD_destroy_post_processor(rq->pp);
    web_fields_release(&rq->fields);
    free(rq);
    *con_cls = NULL;
}

/* -------------------------------------------------------------- serve --- */

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *m;
    int ch;
    if (f == NULL)
        return NULL;
    m = open_memstream(&buf, &len);
    if (m == NULL) {
        fclose(f);
        return NULL;
    }
    while ((ch = fgetc(f)) != EOF)
        fputc(ch, m);
    fclose(f);
    fclose(m);
    return buf;
}

int web_serve(const struct web_options *opt)
{
    struct server sv;
    struct MHD_Daemon *d;
    struct sockaddr_in sa;
    sigset_t set;
    char *cert = NULL, *key = NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    int sig, rc = 0, listening = 0;
    const char *env = getenv("CASEHOST_DB");

    memset(&sv, 0, sizeof(sv));
    memset(&sa, 0, sizeof(sa));
    sv.opt = opt;
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)opt->port);
    if (inet_pton(AF_INET, opt->host, &sa.sin_addr) != 1) {
        fprintf(stderr, "casehost: serve: --listen: '%s' is not an IPv4 address\n", opt->host);
        return EXIT_USAGE;
    }
    pthread_mutex_init(&sv.mu, NULL);
    pthread_cond_init(&sv.cv, NULL);
    sv.n = opt->threads;
    sv.workers = calloc(sv.n, sizeof(*sv.workers));
    if (sv.workers == NULL)
        return EXIT_RUNTIME;
    /* The first worker now, so that a broken config or database stops the start. */
    if (worker_build(&sv, &sv.workers[0]) != 0 || sv.workers[0].cli.ctx.conn == NULL) {
        fprintf(stderr, "casehost: serve: cannot start: %s\n",
                sv.workers[0].cli.ctx.err[0] ? sv.workers[0].cli.ctx.err
                                             : "see the messages above");
        worker_release(&sv.workers[0]);
        free(sv.workers);
        return EXIT_RUNTIME;
    }
    snprintf(sv.conninfo, sizeof(sv.conninfo), "%s",
             env != NULL && env[0] != '\0' ? env : sv.workers[0].cli.hc.conninfo);
    for (size_t i = 1; i < sv.n; i++)
        if (worker_build(&sv, &sv.workers[i]) != 0)
            worker_release(&sv.workers[i]); /* built again at its first request */

    if (opt->tls_cert != NULL) {
        cert = read_pem(opt->tls_cert);
        key = read_pem(opt->tls_key);
        if (cert == NULL || key == NULL) {
            fprintf(stderr, "casehost: serve: cannot read %s: %s\n",
                    cert == NULL ? opt->tls_cert : opt->tls_key, strerror(errno));
            rc = EXIT_USAGE;
            goto out;
        }
        flags |= MHD_USE_TLS;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* MHD's threads inherit it: signals come here */
    if (cert != NULL)
        d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &sv, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_THREAD_POOL_SIZE, opt->threads, MHD_OPTION_NOTIFY_COMPLETED,
                             on_completed, &sv, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                             MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
                             MHD_OPTION_END);
    else
        d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &sv, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_THREAD_POOL_SIZE, opt->threads, MHD_OPTION_NOTIFY_COMPLETED,
                             on_completed, &sv, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "casehost: serve: cannot listen on %s:%u\n", opt->host, opt->port);
        rc = EXIT_RUNTIME;
        goto out;
    }
    listening = pthread_create(&sv.listener, NULL, listener, &sv) == 0;
    {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        web_log("info", "listening on %s://%s:%u/ with %u threads", cert ? "https" : "http",
                opt->host, di != NULL ? (unsigned)di->port : opt->port, opt->threads);
    }
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            pthread_mutex_lock(&sv.mu);
            sv.reload_gen++;
            pthread_mutex_unlock(&sv.mu);
            web_log("info", "SIGHUP: every worker reads the host config again");
        } else if (sig == SIGTERM || sig == SIGINT) {
            web_log("info", "stopping");
            break;
        }
    }
    MHD_stop_daemon(d);
    if (listening) {
        pthread_mutex_lock(&sv.mu);
        sv.stopping = 1;
        pthread_mutex_unlock(&sv.mu);
        pthread_join(sv.listener, NULL);
    }
out:
    for (size_t i = 0; i < sv.n; i++)
        worker_release(&sv.workers[i]);
    free(sv.workers);
    free(cert);
    free(key);
    pthread_mutex_destroy(&sv.mu);
    pthread_cond_destroy(&sv.cv);
    return rc;
}
