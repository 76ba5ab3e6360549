/*
 * web_bench.c: the web pages' throughput and latency. A case page (a
 * session lookup, the case read as the person, the plugins' sections, the
 * audit record, the HTML) against the style sheet served by the same server
 * in the same run, at 1 and at C concurrent clients, each client a thread
 * with its own keep-alive connection and session.
 *
 *   web_bench BASE_URL USER PASSWORD CASE_ID REQUESTS CLIENTS
 * Prints figures (and their FIGURE lines, figure.h); asserts no speed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "figure.h"

struct client {
    const char *url;
    CURL *h;
    long n;
    double *lat_ms; /* n of them */
    long failures;
};

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p, (void)ud;
    return size * n;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A handle logged in as user (its cookie engine keeps the session). NULL on failure. */
static CURL *login(const char *base, const char *user, const char *password)
{
    CURL *h = curl_easy_init();
    char url[512], *body, *u, *pw;
    size_t body_len;
    long code = 0;
    if (h == NULL)
        return NULL;
    u = curl_easy_escape(h, user, 0);
    pw = curl_easy_escape(h, password, 0);
    body_len = strlen(u) + strlen(pw) + 32;
    body = malloc(body_len);
    snprintf(body, body_len, "user=%s&password=%s", u, pw);
    snprintf(url, sizeof(url), "%s/login", base);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(h) != CURLE_OK ||
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 303) {
        fprintf(stderr, "web_bench: login as %s failed (HTTP %ld)\n", user, code);
        curl_easy_cleanup(h);
        h = NULL;
    }
    free(body);
    curl_free(u);
    curl_free(pw);
    if (h != NULL)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    return h;
}

static void *run_client(void *arg)
{
    struct client *c = arg;
    curl_easy_setopt(c->h, CURLOPT_URL, c->url);
    for (long i = 0; i < c->n; i++) {
        long code = 0;
        double t0 = now_ms();
        if (curl_easy_perform(c->h) != CURLE_OK ||
            curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200)
            c->failures++;
        c->lat_ms[i] = now_ms() - t0;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct figure {
    double per_s, p50, p99;
    long failures;
};

/* requests spread over clients (each logged in), against url. */
static int measure(const char *url, CURL **handles, int clients, long requests, struct figure *f)
{
    struct client *c = calloc((size_t)clients, sizeof(*c));
    pthread_t *t = calloc((size_t)clients, sizeof(*t));
    double *all = calloc((size_t)requests, sizeof(*all)), t0, t1;
    long per = requests / clients, k = 0;
    if (c == NULL || t == NULL || all == NULL)
        return -1;
    t0 = now_ms();
    for (int i = 0; i < clients; i++) {
        c[i] = (struct client){url, handles[i], per, all + (long)i * per, 0};
        pthread_create(&t[i], NULL, run_client, &c[i]);
    }
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < clients; i++) {
        pthread_join(t[i], NULL);
        f->failures += c[i].failures;
        k += c[i].n;
    }
    t1 = now_ms();
    qsort(all, (size_t)k, sizeof(*all), cmp_double);
    f->per_s = (double)k / ((t1 - t0) / 1e3);
    f->p50 = all[k / 2];
    f->p99 = all[(k * 99) / 100 < k ? (k * 99) / 100 : k - 1];
    free(c);
    free(t);
    free(all);
    return 0;
}

int main(int argc, char **argv)
{
    const char *base, *user, *password;
    char page[512], css[512], name[64];
    long requests;
    int clients, levels[2];
    CURL **handles;
    if (argc != 7) {
        fprintf(stderr, "usage: web_bench BASE_URL USER PASSWORD CASE_ID REQUESTS CLIENTS\n");
        return 2;
    }
    base = argv[1];
    user = argv[2];
    password = argv[3];
    requests = atol(argv[5]);
    clients = atoi(argv[6]);
    if (requests < 10 || clients < 1 || clients > 64) {
        fprintf(stderr, "web_bench: REQUESTS >= 10, CLIENTS 1..64\n");
        return 2;
    }
    snprintf(page, sizeof(page), "%s/run?a=case&a=show&a=%s", base, argv[4]);
    snprintf(css, sizeof(css), "%s/static/casehost.css", base);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    handles = calloc((size_t)clients, sizeof(*handles));
    for (int i = 0; i < clients; i++)
        if ((handles[i] = login(base, user, password)) == NULL)
            return 1;
    levels[0] = 1;
    levels[1] = clients;
    for (int l = 0; l < (clients > 1 ? 2 : 1); l++) {
        struct figure fp, fs;
        if (measure(css, handles, levels[l], requests, &fs) != 0 ||
            measure(page, handles, levels[l], requests, &fp) != 0)
            return 1;
        printf("web, %d client%s: case page %.0f req/s (p50 %.2f ms, p99 %.2f ms); style sheet "
               "%.0f req/s (p50 %.2f ms, p99 %.2f ms); ratio page/static %.3f%s\n",
               levels[l], levels[l] == 1 ? "" : "s", fp.per_s, fp.p50, fp.p99, fs.per_s, fs.p50,
               fs.p99, fp.per_s / fs.per_s,
               fp.failures + fs.failures ? " (SOME REQUESTS FAILED)" : "");
        if (fp.failures + fs.failures)
            return 1;
        snprintf(name, sizeof(name), "web case page, %d client%s", levels[l],
                 levels[l] == 1 ? "" : "s");
        bench_figure(name, "-", "%.0f req/s (p50 %.2f ms, p99 %.2f ms; %.3f of style sheet)",
                     fp.per_s, fp.p50, fp.p99, fp.per_s / fs.per_s);
    }
    for (int i = 0; i < clients; i++)
        curl_easy_cleanup(handles[i]);
    free(handles);
    curl_global_cleanup();
    return 0;
}
