/*
 * webclient.h: what the web tests share: `casehost serve` started on a
 * loopback port and stopped cleanly, and libcurl requests to it as a browser
 * sends them (a session cookie, forms, the Fetch Metadata headers), with
 * logins and CSRF tokens read from the pages. Header-only, like http_sink.h:
 * each test binary is built from one source file.
 */
#ifndef WEBCLIENT_H
#define WEBCLIENT_H

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "testlib.h"

#define HAS(text, part)                                                                            \
    ck_assert_msg(strstr((text), (part)) != NULL, "want '%s' in:\n%.3000s", (part), (text))
#define HASNT(text, part)                                                                          \
    ck_assert_msg(strstr((text), (part)) == NULL, "'%s' must not be in:\n%.3000s", (part), (text))

/* The server under test and the port the kernel gave it. */
static struct tl_proc web_server;
static int web_port;
/* Where requests come from: NULL is 127.0.0.1; another loopback address is another PC. */
static const char *web_client_ip;

/* ------------------------------------------------------------- server --- */

/*
 * Starts `casehost serve` on db with cfg on a free loopback port as the
 * authenticator, with 2 threads and args (NULL-terminated, 8 at most).
 */
static inline void web_server_start(const char *db, const char *cfg, const char *const *args)
{
    const char *all[12] = {"--threads", "2"};
    size_t n = 2;
    char *log;
    for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
        ck_assert(n < 11);
        all[n++] = args[i];
    }
    all[n] = NULL;
    web_client_ip = NULL;
    web_port = tl_serve(&web_server, db, cfg, 90, all);
    log = tl_read_file(web_server.err);
    HAS(log, " with 2 threads");
    free(log);
}

/* SIGTERM: the server stops with exit 0 and its log shows no sanitizer report. */
static inline void web_server_stop(void)
{
    char *log;
    int st;
    if (web_server.pid <= 0)
        return;
    kill(web_server.pid, SIGTERM);
    st = tl_reap(&web_server);
    log = tl_read_file(web_server.err);
    ck_assert_msg(st == 0, "serve exited %d on SIGTERM:\n%.3000s", st, log);
    HAS(log, "casehost: info: serve: stopping");
    HASNT(log, "runtime error");
    HASNT(log, "AddressSanitizer");
    free(log);
}

/* --------------------------------------------------------------- HTTP --- */

/* One answer: status, header lines as received, body (both NUL-terminated, owned). */
struct http {
    long status;
    char *head, *body;
    size_t head_len, body_len;
};

static inline void http_release(struct http *h)
{
    free(h->head);
    free(h->body);
    memset(h, 0, sizeof(*h));
}

static inline size_t take(char *data, size_t size, size_t n, void *stream)
{
    return fwrite(data, 1, size * n, stream);
}

/*
 * One request to the server: GET, or POST of form (urlencoded text) when
 * form is not NULL; with the session cookie token (NULL: none) and one
 * extra header line (NULL: none). Never follows a redirect.
 */
static inline void http_do(struct http *h, const char *path, const char *token, const char *form,
                           const char *extra)
{
    CURL *c = curl_easy_init();
    struct curl_slist *headers = extra != NULL ? curl_slist_append(NULL, extra) : NULL;
    char url[2048], cookie[128];
    FILE *hf, *bf;
    CURLcode rc;
    memset(h, 0, sizeof(*h));
    ck_assert_ptr_nonnull(c);
    hf = open_memstream(&h->head, &h->head_len);
    bf = open_memstream(&h->body, &h->body_len);
    ck_assert(hf != NULL && bf != NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", web_port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, take);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, bf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (token != NULL) {
        snprintf(cookie, sizeof(cookie), "casehost_session=%s", token);
        curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
    }
    if (headers != NULL)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (web_client_ip != NULL)
        curl_easy_setopt(c, CURLOPT_INTERFACE, web_client_ip);
    if (form != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    fclose(hf);
    fclose(bf);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", form != NULL ? "POST" : "GET", path,
                  curl_easy_strerror(rc));
}

/* The value of response header name (static storage), or NULL when it is missing. */
static inline const char *header(const struct http *h, const char *name)
{
    static char value[2048];
    size_t n = strlen(name);
    for (const char *line = h->head; line != NULL && *line != '\0';) {
        size_t len = strcspn(line, "\r\n");
        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof(value), "%.*s", (int)(len - (size_t)(v - line)), v);
            return value;
        }
        line += len;
        line += strspn(line, "\r\n");
    }
    return NULL;
}

static inline void url_encode(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            fputc(*p, f);
        else
            fprintf(f, "%%%02X", *p);
    }
}

/* name=value&... of pairs (name, value, ..., NULL), urlencoded; caller frees. */
static inline char *form_of(const char *const *pairs)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; pairs[i] != NULL; i += 2) {
        if (i > 0)
            fputc('&', f);
        url_encode(f, pairs[i]);
        fputc('=', f);
        url_encode(f, pairs[i + 1]);
    }
    fclose(f);
    return text;
}

/* "/run?a=ARG&a=ARG..." of args (NULL-terminated), urlencoded (static storage). */
static inline const char *run_path(const char *const *args)
{
    static char path[4096];
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    fputs("/run", f);
    for (size_t i = 0; args[i] != NULL; i++) {
        fputs(i == 0 ? "?a=" : "&a=", f);
        url_encode(f, args[i]);
    }
    fclose(f);
    snprintf(path, sizeof(path), "%s", text);
    free(text);
    return path;
}

static inline void get(struct http *h, const char *token, const char *const *args)
{
    http_do(h, run_path(args), token, NULL, NULL);
}

/* POSTs pairs to path; extra: one more header line (NULL: none). */
static inline void post(struct http *h, const char *path, const char *token, const char *extra,
                        const char *const *pairs)
{
    char *form = form_of(pairs);
    http_do(h, path, token, form, extra);
    free(form);
}

/* ------------------------------------------------------------ logins --- */

/* POST /login; the answer in h. */
static inline void try_login(struct http *h, const char *user, const char *password)
{
    post(h, "/login", NULL, NULL, (const char *[]){"user", user, "password", password, NULL});
}

/* The session token h's Set-Cookie gives (64 hex digits), or the test fails. */
static inline void cookie_token(const struct http *h, char token[65])
{
    const char *c = header(h, "Set-Cookie");
    ck_assert_msg(c != NULL, "no Set-Cookie in:\n%.3000s", h->head);
    ck_assert_msg(strncmp(c, "casehost_session=", 17) == 0, "Set-Cookie: %s", c);
    ck_assert_msg(strspn(c + 17, "0123456789abcdef") == 64, "not a token: %s", c);
    snprintf(token, 65, "%.64s", c + 17);
}

/* Logs user in with the test password; their session token into token. */
static inline void login(const char *user, char token[65])
{
    struct http h;
    try_login(&h, user, tl_env("CASEHOST_TEST_PASSWORD"));
    ck_assert_msg(h.status == 303, "login as %s: %ld\n%.3000s", user, h.status, h.body);
    cookie_token(&h, token);
    http_release(&h);
}

/* The CSRF token in a page (the logout form of every page carries it). */
static inline void csrf_in(const char *body, char csrf[80])
{
    static const char mark[] = "name=\"_csrf\" value=\"";
    const char *at = strstr(body, mark);
    size_t n;
    ck_assert_msg(at != NULL, "no CSRF token in:\n%.3000s", body);
    at += strlen(mark);
    n = strcspn(at, "\"");
    ck_assert_msg(n >= 32 && n < 80, "CSRF token of %zu characters", n);
    snprintf(csrf, 80, "%.*s", (int)n, at);
}

/* The CSRF token of token's session, read from the home page. */
static inline void csrf_of(const char *token, char csrf[80])
{
    struct http h;
    http_do(&h, "/", token, NULL, NULL);
    ck_assert_msg(h.status == 200, "GET /: %ld", h.status);
    csrf_in(h.body, csrf);
    http_release(&h);
}

#endif /* WEBCLIENT_H */
