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

#include "web.h"
#include "web_int.h"

#define COOKIE "casehost_session"
#define MAX_POST (1u << 20) /* a form never needs more */
/* Workers look at the live generations when a deploy is announced, and at least this often. */
#define LIVE_CHECK_SECONDS 60

/* One HTTP request while its body arrives. */
struct request {
    struct MHD_PostProcessor *pp;
    struct web_fields fields; /* posted fields */
    size_t posted;
    int too_big;
    int has_nul; /* a field or uploaded file held a NUL byte: never text */
    struct timespec start;
};

/* ------------------------------------------------------------ workers --- */

static void worker_release(struct worker *w)
{
    if (!w->built)
        return;
    if (w->cli.ctx.conn != NULL)
        PQfinish(w->cli.ctx.conn);
    if (w->cli.reports != NULL) /* opened by the first report the worker ran */
        PQfinish(w->cli.reports);
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
    c = w->cli.reports;
    if (c != NULL && PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK"));
    pthread_mutex_lock(&s->mu);
    w->busy = 0;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

PGconn *worker_conn(struct worker *w)
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
    /* Fields are C strings: a NUL would cut a value (a configuration file) short unseen. */
    if (size > 0 && data != NULL && memchr(data, '\0', size) != NULL) {
        rq->has_nul = 1;
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
    if (p->disposition[0] != '\0')
        MHD_add_response_header(resp, "Content-Disposition", p->disposition);
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
        fputs(web_css, p->f);
        p->content_type = "text/css; charset=utf-8";
        p->cacheable = 1;
        return;
    }
    if (rq->too_big) {
        page_message(p, MHD_HTTP_CONTENT_TOO_LARGE, "Too large",
                     "The form is too large: a form with its uploaded files may hold 1 MiB. "
                     "Nothing was changed.",
                     NULL);
        return;
    }
    if (rq->has_nul) {
        page_message(p, MHD_HTTP_BAD_REQUEST, "Not text",
                     "A field or an uploaded file holds a NUL byte: only text (UTF-8) is "
                     "accepted. Nothing was changed.",
                     NULL);
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
        if (web_fields_get(&q, "format") != NULL &&
            strcmp(web_fields_get(&q, "format"), "csv") == 0)
            page_run_csv(p, w, &s, argc, argv);
        else
            page_run_get(p, w, &s, argc, argv);
        web_fields_release(&q);
    } else if (strcmp(url, "/run") == 0) {
        page_run_post(p, w, &s, &rq->fields);
    } else if (strcmp(url, "/password") == 0) {
        page_password(p, sv, w, &s,
                      post ? web_fields_get(&rq->fields, "user")
                           : MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "user"),
                      post ? &rq->fields : NULL, addr);
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
