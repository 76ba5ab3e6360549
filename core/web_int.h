/*
 * web_int.h: what the server (web.c) and its pages (web_pages.c) share:
 * workers, the server, a response under construction. Only core/web*.c
 * include it.
 */
#ifndef CASEHOST_WEB_INT_H
#define CASEHOST_WEB_INT_H

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "webform.h"

struct web_options;
struct web_session;

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
    char disposition[128];    /* Content-Disposition ("attachment; ..."); empty: none */
};

#define web_log(level, ...) diag_log("serve", level, __VA_ARGS__)

/* The worker's connection as the authenticator; NULL when it could not start. */
PGconn *worker_conn(struct worker *w);

/* The one style sheet, served at /static/casehost.css. */
extern const char web_css[];

/* A response: page_init opens its body (200, HTML); the rest write into it. */
void page_init(struct page *p);
/* A whole page saying one thing with status (s NULL: no session, no menu). */
void page_message(struct page *p, unsigned status, const char *title, const char *text,
                  const struct web_session *s);
/* 303 to another path of this server. */
void page_redirect(struct page *p, const char *to);
/* The login form, with msg (NULL: none) above it. */
void page_login_form(struct page *p, const char *msg);
/* My work: my cases, then every command flagged CH_CMD_HOME. */
void page_home(struct page *p, struct worker *w, const struct web_session *s);
/* Every command a page may run, each a link to its form or view. */
void page_commands(struct page *p, struct worker *w, const struct web_session *s);
/* GET /run?a=VERB&a=...: a view runs; any other command shows its form prefilled. */
void page_run_get(struct page *p, struct worker *w, const struct web_session *s, int argc,
                  char **argv);
/*
 * GET /run?a=VERB&a=...&format=csv: a view runs as for its page and its
 * table comes back as text/csv, an attachment (out_flush_csv): exactly the
 * rows the page shows. Anything else is an HTML page saying why.
 */
void page_run_csv(struct page *p, struct worker *w, const struct web_session *s, int argc,
                  char **argv);
/* POST /run: a posted form (or action) becomes argv and runs, or shows its form again. */
void page_run_post(struct page *p, struct worker *w, const struct web_session *s,
                   const struct web_fields *fields);
/* GET and POST /password: one's own password, or (an admin) a user's. */
void page_password(struct page *p, const struct server *sv, struct worker *w,
                   const struct web_session *s, const char *user, const struct web_fields *posted,
                   const char *addr);

#endif /* CASEHOST_WEB_INT_H */
