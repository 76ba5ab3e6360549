/*
 * web_pages.c: the pages of `casehost serve`. A page is one or more typed
 * commands run exactly as in a terminal (cli_run) in a transaction acting
 * as the logged-in person; their output trees become HTML (out_flush_html)
 * and their typed tables forms (webform_render). GET runs only commands
 * that show (CH_CMD_VIEW); every other command runs from a posted form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "args.h"
#include "candidate.h"
#include "db.h"
#include "generation.h"
#include "html.h"
#include "web.h"
#include "web_int.h"

const char web_css[] =
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
    "figure.chart{margin:0 0 1rem}figure.chart svg{max-width:100%;height:auto}\n"
    "figcaption{font-size:.9rem;color:#333}\n"
    "@media print{header{display:none}figure.chart{break-inside:avoid}a.csv{display:none}}\n";

void page_init(struct page *p)
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
              "<a href=\"/run?a=user&amp;a=list\">Users</a>"
              "<a href=\"/commands\">All commands</a>"
              "<a href=\"/password\">Change my password</a></nav>"
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
void page_message(struct page *p, unsigned status, const char *title, const char *text,
                  const struct web_session *s)
{
    p->status = status;
    page_head(p, title, s);
    page_error(p, text);
    page_foot(p);
}

void page_redirect(struct page *p, const char *to)
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

/* A run's output (or error) into the page; a chart links to its CSV (argv: the command run). */
static void run_render(struct page *p, const struct run *r, const struct web_session *s,
                       char **argv)
{
    if (!run_ok(r))
        page_error(p, r->err != NULL && r->err[0] != '\0' ? r->err : "the command failed");
    if (r->out != NULL)
        out_flush_html_page(r->out, p->f, s->csrf, (const char *const *)argv);
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
void page_run_get(struct page *p, struct worker *w, const struct web_session *s, int argc,
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
        run_render(p, &r, s, argv);
    }
    page_foot(p);
    run_release(&r);
}

/* "attachment; filename=VERB-SUB.csv", every byte of the name a safe one. */
static void csv_disposition(struct page *p, const struct ch_command_spec *spec)
{
    char name[96];
    snprintf(name, sizeof(name), "%s%s%s", spec->verb, spec->sub ? "-" : "",
             spec->sub ? spec->sub : "");
    for (char *c = name; *c != '\0'; c++)
        if (strchr("abcdefghijklmnopqrstuvwxyz0123456789-_", *c) == NULL)
            *c = '_';
    snprintf(p->disposition, sizeof(p->disposition), "attachment; filename=\"%s.csv\"", name);
}

void page_run_csv(struct page *p, struct worker *w, const struct web_session *s, int argc,
                  char **argv)
{
    const struct ch_command_spec *spec = argc > 0 ? cli_spec(&w->cli, argc, argv) : NULL;
    char title[128], err[256], why[400];
    struct run r;
    if (spec == NULL) {
        page_message(p, MHD_HTTP_NOT_FOUND, "Not found", "There is no such page.", s);
        return;
    }
    spec_title(spec, title, sizeof(title));
    if (!(spec->flags & CH_CMD_VIEW)) {
        page_message(p, MHD_HTTP_BAD_REQUEST, title,
                     "Only a command that shows something can be downloaded as CSV.", s);
        return;
    }
    run_command(w, s, argc, argv, &r);
    if (!run_ok(&r)) {
        page_message(p, run_status(&r), title,
                     r.err != NULL && r.err[0] != '\0' ? r.err : "the command failed", s);
    } else if (!out_has_table(r.out, err, sizeof(err))) {
        snprintf(why, sizeof(why), "There is nothing to download as CSV: %s.", err);
        page_message(p, MHD_HTTP_BAD_REQUEST, title, why, s);
    } else if (out_flush_csv(r.out, p->f, err, sizeof(err)) != 0) {
        page_message(p, MHD_HTTP_INTERNAL_SERVER_ERROR, title, err, s);
    } else {
        p->content_type = "text/csv; charset=utf-8";
        csv_disposition(p, spec);
    }
    run_release(&r);
}

/* The file argument of spec named name, or NULL. */
static const struct ch_arg *file_arg(const struct ch_command_spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->n_args; i++)
        if (args_at(spec, i)->type == CH_ARG_FILE && strcmp(args_at(spec, i)->name, name) == 0)
            return args_at(spec, i);
    return NULL;
}

/* Writes text to a new file path (mode 0600 under the umask set); 0 or -1. */
static int write_upload(const char *path, const char *text)
{
    FILE *f = fopen(path, "wx");
    size_t n = strlen(text);
    int rc;
    if (f == NULL)
        return -1;
    rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

/*
 * The posted fields with each uploaded file ("_upload:NAME" of a file
 * argument of spec) written to a private folder of this request and given
 * as NAME, the path. A field the browser named NAME itself is dropped: a
 * browser never names a server path. *dir is the folder (NULL when nothing
 * was uploaded; caller removes it and frees). 0, or -1 (out of memory or
 * the disk refused).
 */
static int spill_uploads(const struct ch_command_spec *spec, const struct web_fields *in,
                         struct web_fields *out, char **dir)
{
    char err[256];
    size_t n = 0;
    *dir = NULL;
    for (size_t i = 0; i < in->n; i++) {
        const struct web_field *f = &in->v[i];
        const char *name = f->name + strlen(WEBFORM_UPLOAD);
        char path[4200];
        if (file_arg(spec, f->name) != NULL)
            continue;
        if (strncmp(f->name, WEBFORM_UPLOAD, strlen(WEBFORM_UPLOAD)) != 0) {
            if (web_fields_add(out, f->name, f->value) != 0)
                return -1;
            continue;
        }
        if (file_arg(spec, name) == NULL || f->value[0] == '\0')
            continue; /* not a file of this command, or no file chosen */
        if (*dir == NULL && (*dir = candidate_private_dir("upload", err, sizeof(err))) == NULL)
            return -1;
        snprintf(path, sizeof(path), "%s/upload-%zu", *dir, ++n);
        if (write_upload(path, f->value) != 0 || web_fields_add(out, name, path) != 0)
            return -1;
    }
    return 0;
}

/* POST /run: the posted form becomes argv and runs; a refusal shows the form again. */
void page_run_post(struct page *p, struct worker *w, const struct web_session *s,
                   const struct web_fields *fields)
{
    const char *verb = web_fields_get(fields, "_verb"), *sub = web_fields_get(fields, "_sub");
    char *head[3] = {NULL, NULL, NULL}, **argv = NULL, title[128], *upload_dir = NULL;
    struct web_fields posted = {NULL, 0, 0};
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
    if (spill_uploads(spec, fields, &posted, &upload_dir) != 0 ||
        (argc = webform_argv(spec, spec->verb, &posted, &argv)) < 0) {
        web_log("error", "a posted form could not be taken: out of memory or disk");
        page_message(p, MHD_HTTP_INTERNAL_SERVER_ERROR, "Error",
                     "The form could not be taken (out of memory or disk).", s);
        goto out;
    }
    spec_title(spec, title, sizeof(title));
    w->cli.upload_dir = upload_dir;
    run_command(w, s, argc, argv, &r);
    w->cli.upload_dir = NULL;
    if (!run_ok(&r))
        p->status = run_status(&r);
    page_head(p, title, s);
    run_render(p, &r, s, (spec->flags & CH_CMD_VIEW) ? argv : NULL);
    if (!run_ok(&r) && !(spec->flags & CH_CMD_VIEW))
        render_form(p, w, spec, argc, argv, s);
    page_foot(p);
    run_release(&r);
out:
    webform_argv_free(argv);
    web_fields_release(&posted);
    if (upload_dir != NULL) {
        candidate_private_remove(upload_dir);
        free(upload_dir);
    }
}

/* 1 when spec is a report: a view flagged CH_CMD_REPORT. */
static int is_report(const struct ch_command_spec *spec)
{
    return (spec->flags & (CH_CMD_VIEW | CH_CMD_REPORT)) == (CH_CMD_VIEW | CH_CMD_REPORT);
}

/* A plugin's typed command a page may run (not its own transaction's, nor database-less). */
static const struct ch_command_spec *page_spec(const struct command_entry *ce)
{
    return ce->typed && !(ce->spec.flags & (CH_CMD_OWN_TX | CH_CMD_NO_DB)) ? &ce->spec : NULL;
}

/* "<li><a href=/run?a=VERB&a=SUB>VERB SUB</a>: HELP</li>" */
static void command_link(struct page *p, const struct ch_command_spec *spec)
{
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

/* A "Reports" section linking every report the plugins declare; nothing when there is none. */
static void reports_section(struct page *p, const struct loader *l)
{
    int any = 0;
    for (size_t i = 0; i < l->n_commands; i++) {
        const struct ch_command_spec *spec = page_spec(&l->commands[i]);
        if (spec == NULL || !is_report(spec))
            continue;
        if (!any++)
            fputs("<section><h2>Reports</h2>\n<ul class=\"reports\">\n", p->f);
        command_link(p, spec);
    }
    if (any)
        fputs("</ul>\n</section>\n", p->f);
}

/*
 * The session's person's role kind (caseworker, supervisor, admin,
 * taskforce) into kind, "" when it cannot be read. It only decides what a
 * home page offers: leads (supervisors and admins) get the reports, a task
 * force member only them (they may read no case, so no list of cases).
 */
static void session_kind(struct worker *w, const struct web_session *s, char *kind, size_t n)
{
    struct db_user u;
    char err[256];
    PGconn *c = worker_conn(w);
    kind[0] = '\0';
    if (db_start_as(c, s->db_role, &u, err, sizeof(err)) == 0)
        snprintf(kind, n, "%s", u.role);
    if (PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK"));
}

/* The home page: my cases, then every command that declares itself part of a person's work. */
void page_home(struct page *p, struct worker *w, const struct web_session *s)
{
    static char *mine[] = {"case", "list", "--mine", NULL};
    const struct loader *l = &w->cli.loader;
    char kind[32];
    session_kind(w, s, kind, sizeof(kind));
    page_head(p, "My work", s);
    for (size_t i = 0; i <= l->n_commands && strcmp(kind, "taskforce") != 0; i++) {
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
        run_render(p, &r, s, argv);
        run_release(&r);
        fputs("</section>\n", p->f);
    }
    if (strcmp(kind, "supervisor") == 0 || strcmp(kind, "admin") == 0 ||
        strcmp(kind, "taskforce") == 0)
        reports_section(p, l);
    page_foot(p);
}

/* Every command a web page may run, with a link to its form (or its view); reports apart. */
/*
 * 1 when the session's person holds the config_admin grant: only they are
 * offered the configuration pages (the database refuses anyone else anyway).
 */
static int config_admin(struct worker *w, const struct web_session *s)
{
    static const char sql[] = "SELECT pg_has_role($1, 'casehost_config_admin', 'MEMBER')";
    const char *params[1] = {s->db_role};
    char err[256];
    PGresult *r = db_exec(worker_conn(w), sql, 1, params, err, sizeof(err));
    int yes = r != NULL && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return yes;
}

void page_commands(struct page *p, struct worker *w, const struct web_session *s)
{
    static const char *const host[] = {"case", "note", "person", "user", "agency"};
    const struct loader *l = &w->cli.loader;
    page_head(p, "All commands", s);
    fputs("<ul>\n", p->f);
    for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
        fputs("<li><a href=\"/run?a=", p->f);
        html_url(p->f, host[i]);
        fputs("\">", p->f);
        html_text(p->f, host[i]);
        fputs("</a></li>\n", p->f);
    }
    for (size_t i = 0; i < l->n_commands; i++) {
        const struct ch_command_spec *spec = page_spec(&l->commands[i]);
        if (spec != NULL && !is_report(spec))
            command_link(p, spec);
    }
    fputs("</ul>\n", p->f);
    reports_section(p, l);
    if (config_admin(w, s))
        fputs("<section><h2>Configuration</h2>\n<p><a href=\"/run?a=candidate&amp;a=list\">"
              "Candidates: upload files, check, run fixtures, replay, what-if, deploy</a> &middot; "
              "<a href=\"/run?a=config&amp;a=history\">History and rollback</a></p>\n</section>\n",
              p->f);
    page_foot(p);
}

void page_login_form(struct page *p, const char *msg)
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

/*
 * GET /password: the person's own password form (an admin's also opens
 * another user's); GET /password?user=NAME: an admin's form for NAME.
 * POST /password sets it (web_password_set: the database decides who may
 * set whose). A refused form comes back empty: no password is ever echoed.
 */
void page_password(struct page *p, const struct server *sv, struct worker *w,
                   const struct web_session *s, const char *user, const struct web_fields *posted,
                   const char *addr)
{
    int own = user == NULL || user[0] == '\0' || strcmp(user, s->user_name) == 0;
    int admin = 0, rc = 1;
    char title[128], msg[512];
    if (own)
        snprintf(title, sizeof(title), "Change my password");
    else
        snprintf(title, sizeof(title), "Set the password of %s", user);
    if (posted != NULL) {
        const struct web_password_form form = {user, web_fields_get(posted, "current"),
                                               web_fields_get(posted, "password"),
                                               web_fields_get(posted, "again")};
        rc = web_password_set(worker_conn(w), sv->conninfo, s, &form, addr, sv->opt, msg,
                              sizeof(msg));
        if (rc < 0) {
            web_log("error", "password of %s: %s", own ? s->user_name : user, msg);
            snprintf(msg, sizeof(msg),
                     "The password cannot be set now; try again later or tell your administrator.");
            p->status = MHD_HTTP_SERVICE_UNAVAILABLE;
        } else if (rc > 0) {
            p->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
        }
    } else {
        admin = web_session_is_admin(worker_conn(w), s) == 1;
        if (!own && !admin) {
            page_message(p, MHD_HTTP_FORBIDDEN, title,
                         "Only an admin may set another user's password.", s);
            return;
        }
    }
    page_head(p, title, s);
    if (rc == 0) {
        fputs("<p role=\"status\">", p->f);
        html_text(p->f, msg);
        fputs("</p>\n", p->f);
    } else {
        if (posted != NULL)
            page_error(p, msg);
        web_password_form_render(p->f, own ? NULL : user, own && admin, s->csrf);
    }
    page_foot(p);
}
