/*
 * rt_bench.c: the Request Tracker bridge's figures (scripts/bench-rt.sh runs
 * it against a throwaway RT 5 and a running `casehost bridge rt`). Tickets
 * are made only through RT's REST2 API, as RT's root with basic auth, like
 * tests/integration/check_bridge_rt.c; casehost's database is read as
 * CASEHOST_DB (the cluster's superuser), RT's database only LISTENed to.
 *
 *   rt_bench port
 *       a loopback port nobody listens on now
 *   rt_bench lag AUTH URL PWFILE RTDB QUEUE N
 *       N tickets, one at a time; for each, the time from its commit to the
 *       case with its external reference existing in casehost (casehost's
 *       database polled every millisecond). The commit is when RTDB's
 *       listener receives the notification of sql/bridge/rt_notify.sql (the
 *       one the bridge wakes on, so both hear it at the same moment); the lag
 *       is also given from REST2's create response, which RT sends after it
 *       committed. Prints human lines and FIGURE lines.
 *   rt_bench create AUTH URL PWFILE QUEUE N CLIENTS
 *       N tickets made by CLIENTS processes at once, each one at a time;
 *       prints "TICKETS_PER_S FIRST_S LAST_S": the creation rate, and the
 *       seconds from the first create, and from the last create's answer, to
 *       the last of their cases existing (-1 when they did not all appear
 *       within 120 s).
 * AUTH is how REST2 knows RT's root (PWFILE holds its password): "basic"
 * (basic auth on every request) or "session" (logged in once; see rt_handle).
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "../tests/loopback.h"
#include "figure.h"

#define MAX_CLIENTS 16
#define CATCHUP_LIMIT_S 120.0

static char rt_url[512], rt_base[512], rt_auth[256];
static int session_auth;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1e3), (long)(fmod(ms, 1e3) * 1e6)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "rt_bench: %s: %s\n", what, why);
    exit(1);
}

/* ---------------------------------------------------------------- REST2 --- */

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static void rt_setup(const char *url, const char *pwfile, const char *auth)
{
    const char *rest = strstr(url, "/REST/2.0");
    char pw[200] = "";
    FILE *f = fopen(pwfile, "r");
    if (f == NULL || fgets(pw, sizeof(pw), f) == NULL)
        die(pwfile, "cannot read RT's root password");
    fclose(f);
    pw[strcspn(pw, "\n")] = '\0';
    snprintf(rt_url, sizeof(rt_url), "%s/ticket", url);
    snprintf(rt_base, sizeof(rt_base), "%.*s", rest != NULL ? (int)(rest - url) : (int)strlen(url),
             url);
    if (strcmp(auth, "session") == 0)
        session_auth = 1;
    else if (strcmp(auth, "basic") != 0)
        die(auth, "AUTH must be basic or session");
    snprintf(rt_auth, sizeof(rt_auth), "root:%s", pw);
}

/*
 * A handle for POST /ticket, kept per client so its connection is reused.
 * "basic": RT's root by basic auth on every request (RT checks the password,
 * bcrypt at BcryptCost 12, each time; as the tests do). "session": RT's root
 * logs in once through RT's login page and REST2 takes the session cookie,
 * as RT's own web pages use REST2 (a write then needs an Origin header that
 * RT's CSRF check accepts: RT's own address).
 */
static CURL *rt_handle(struct curl_slist **headers)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        die("curl", "cannot make a handle");
    *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (session_auth) {
        char login[600], origin[600], form[300];
        char *pw = curl_easy_escape(c, rt_auth + 5, 0); /* rt_auth: "root:PASSWORD" */
        long status = 0;
        CURLcode rc;
        snprintf(login, sizeof(login), "%s/NoAuth/Login.html", rt_base);
        snprintf(form, sizeof(form), "user=root&pass=%s", pw != NULL ? pw : "");
        curl_free(pw);
        curl_easy_setopt(c, CURLOPT_COOKIEFILE, ""); /* cookies in memory, this handle's */
        curl_easy_setopt(c, CURLOPT_URL, login);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        rc = curl_easy_perform(c);
        if (rc != CURLE_OK)
            die("RT login", curl_easy_strerror(rc));
        /* RT answers a refused login with its form again: ask REST2 who is logged in. */
        snprintf(login, sizeof(login), "%s/REST/2.0/rt", rt_base);
        curl_easy_setopt(c, CURLOPT_URL, login);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK)
            die("RT login", curl_easy_strerror(rc));
        if (status != 200)
            die("RT login", "refused (REST2 does not take the session)");
        snprintf(origin, sizeof(origin), "Origin: %s", rt_base);
        *headers = curl_slist_append(*headers, origin);
    } else {
        curl_easy_setopt(c, CURLOPT_USERPWD, rt_auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, rt_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_collect);
    return c;
}

/*
 * A new ticket in queue through REST2; its id. Exits on a transport error, an
 * HTTP status other than 201, or an answer without an id (RT reports some
 * refusals with 200 and a message list).
 */
static long long ticket_new(CURL *c, const char *queue, const char *subject)
{
    char json[512];
    struct body b = {NULL, 0};
    json_error_t e;
    json_t *a;
    long status = 0;
    long long id = 0;
    CURLcode rc;
    snprintf(json, sizeof(json),
             "{\"Queue\": \"%s\", \"Subject\": \"%s\", \"Requestor\": \"worker@example.org\"}",
             queue, subject);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK)
        die("POST /ticket", curl_easy_strerror(rc));
    a = json_loads(b.text != NULL ? b.text : "null", JSON_DECODE_ANY, &e);
    if (status == 201 && json_is_string(json_object_get(a, "id")))
        id = strtoll(json_string_value(json_object_get(a, "id")), NULL, 10);
    if (id <= 0) {
        fprintf(stderr, "rt_bench: POST /ticket: HTTP %ld: %s\n", status,
                b.text != NULL ? b.text : "");
        exit(1);
    }
    json_decref(a);
    free(b.text);
    return id;
}

/* ------------------------------------------------------------- casehost --- */

static PGconn *connect_db(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        die("cannot connect", PQerrorMessage(c));
    return c;
}

static PGconn *casehost_db(void)
{
    const char *conninfo = getenv("CASEHOST_DB");
    PGconn *c;
    PGresult *r;
    if (conninfo == NULL)
        die("CASEHOST_DB", "not set");
    c = connect_db(conninfo);
    r = PQprepare(c, "case_of",
                  "SELECT 1 FROM casehost.cases WHERE external_system = $1 AND external_ref = $2",
                  2, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("prepare", PQerrorMessage(c));
    PQclear(r);
    r = PQprepare(c, "count", "SELECT count(*) FROM casehost.cases WHERE external_system = $1", 1,
                  NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("prepare", PQerrorMessage(c));
    PQclear(r);
    return c;
}

static int case_exists(PGconn *c, const char *system, long long ticket)
{
    char ref[24];
    const char *params[2] = {system, ref};
    PGresult *r;
    int found;
    snprintf(ref, sizeof(ref), "%lld", ticket);
    r = PQexecPrepared(c, "case_of", 2, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die("casehost", PQerrorMessage(c));
    found = PQntuples(r) > 0;
    PQclear(r);
    return found;
}

static long long case_count(PGconn *c, const char *system)
{
    const char *params[1] = {system};
    PGresult *r = PQexecPrepared(c, "count", 1, params, NULL, NULL, 0);
    long long n;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die("casehost", PQerrorMessage(c));
    n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* ------------------------------------------------------------- listener --- */

/* Arrival times of the trigger's notifications, in order. */
static pthread_mutex_t heard_lock = PTHREAD_MUTEX_INITIALIZER;
static double *heard;
static size_t n_heard, cap_heard;

static void *listen_loop(void *arg)
{
    PGconn *c = arg;
    for (;;) {
        struct pollfd pfd = {PQsocket(c), POLLIN, 0};
        PGnotify *n;
        double t;
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            die("poll", strerror(errno));
        t = now_ms();
        if (PQconsumeInput(c) != 1)
            die("RT's database", PQerrorMessage(c));
        while ((n = PQnotifies(c)) != NULL) {
            PQfreemem(n);
            pthread_mutex_lock(&heard_lock);
            if (n_heard == cap_heard) {
                cap_heard = cap_heard ? cap_heard * 2 : 1024;
                heard = realloc(heard, cap_heard * sizeof(*heard));
                if (heard == NULL)
                    die("listener", "out of memory");
            }
            heard[n_heard++] = t;
            pthread_mutex_unlock(&heard_lock);
        }
    }
    return NULL;
}

/* How many notifications arrived so far, and (when last) the time of the latest. */
static size_t heard_count(double *last)
{
    size_t n;
    pthread_mutex_lock(&heard_lock);
    n = n_heard;
    if (last != NULL)
        *last = n > 0 ? heard[n - 1] : 0;
    pthread_mutex_unlock(&heard_lock);
    return n;
}

static double heard_at(size_t i)
{
    double t;
    pthread_mutex_lock(&heard_lock);
    t = heard[i];
    pthread_mutex_unlock(&heard_lock);
    return t;
}

/* ------------------------------------------------------------------ lag --- */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank) of v[0..n), which it sorts. */
static double percentile(double *v, int n, double p)
{
    int rank = (int)ceil(p / 100.0 * n);
    qsort(v, (size_t)n, sizeof(*v), by_value);
    return v[rank < 1 ? 0 : rank - 1];
}

static int lag(const char *queue, int n, const char *rtdb)
{
    PGconn *ch = casehost_db(), *rt = connect_db(rtdb);
    struct curl_slist *headers;
    CURL *curl = rt_handle(&headers);
    double *from_commit = calloc((size_t)n, sizeof(double));
    double *from_response = calloc((size_t)n, sizeof(double));
    double *create = calloc((size_t)n, sizeof(double));
    int already = 0, unheard = 0, extra = 0;
    pthread_t listener;
    PGresult *res;

    if (from_commit == NULL || from_response == NULL || create == NULL)
        die("lag", "out of memory");
    res = PQexec(rt, "LISTEN casehost_bridge_rt");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        die("LISTEN", PQerrorMessage(rt));
    PQclear(res);
    if (pthread_create(&listener, NULL, listen_loop, rt) != 0)
        die("listener", "cannot start");

    for (int i = 0; i < n; i++) {
        char subject[64];
        double sent, answered, seen, committed = 0, last;
        size_t before;
        long long ticket;
        int looks;
        /* Quiet first: 30 ms without a notification, so the next one is this ticket's commit. */
        for (int waited = 0; waited < 1000; waited++) {
            heard_count(&last);
            if (last == 0 || now_ms() - last >= 30)
                break;
            sleep_ms(1);
        }
        before = heard_count(NULL);
        snprintf(subject, sizeof(subject), "Bench lag ticket %d", i + 1);
        sent = now_ms();
        ticket = ticket_new(curl, queue, subject);
        answered = now_ms();
        looks = 0;
        while (looks++, !case_exists(ch, "rt", ticket)) {
            if (now_ms() - answered > 60e3) {
                fprintf(stderr, "rt_bench: no case for RT ticket %lld after 60 s\n", ticket);
                exit(1);
            }
            sleep_ms(1);
        }
        seen = now_ms();
        if (looks == 1)
            already++; /* there before RT's answer was read */
        if (heard_count(NULL) > before) {
            committed = heard_at(before);
            extra += (int)(heard_count(NULL) - before - 1);
        } else {
            unheard++; /* the listener has not heard it yet: the response stands in */
            committed = answered;
        }
        from_commit[i] = seen > committed ? seen - committed : 0;
        from_response[i] = seen > answered ? seen - answered : 0;
        create[i] = answered - sent;
    }
    printf("  %d tickets, one at a time (REST2 create as RT's root, %s)\n", n,
           session_auth ? "logged in once: session cookie" : "basic auth");
    {
        double med_c = percentile(from_commit, n, 50), p99_c = percentile(from_commit, n, 99);
        double med_r = percentile(from_response, n, 50), p99_r = percentile(from_response, n, 99);
        double med_k = percentile(create, n, 50), p99_k = percentile(create, n, 99);
        printf("  ticket commit (NOTIFY heard) -> case exists: median %.1f ms, p99 %.1f ms\n",
               med_c, p99_c);
        printf("  REST2 create response -> case exists:        median %.1f ms, p99 %.1f ms"
               " (%d of %d found at the first look)\n",
               med_r, p99_r, already, n);
        printf("  REST2 create round trip (for scale):         median %.1f ms, p99 %.1f ms\n",
               med_k, p99_k);
        if (unheard > 0 || extra > 0)
            printf("  note: %d ticket(s) without a notification before the case (response used),"
                   " %d later notification(s) during a ticket\n",
                   unheard, extra);
        bench_figure("RT bridge lag, ticket commit to case, median", "-", "%.1f ms", med_c);
        bench_figure("RT bridge lag, ticket commit to case, p99", "-", "%.1f ms", p99_c);
        bench_figure("RT bridge lag, REST2 create response to case, median", "-", "%.1f ms", med_r);
        bench_figure("RT bridge lag, REST2 create response to case, p99", "-", "%.1f ms", p99_r);
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    PQfinish(ch);
    free(from_commit);
    free(from_response);
    free(create);
    return 0; /* the listener thread ends with the process */
}

/* ----------------------------------------------------------- throughput --- */

static int create(const char *queue, int n, int clients)
{
    const char *system = "rt";
    PGconn *ch = casehost_db();
    long long base = case_count(ch, system);
    pid_t pids[MAX_CLIENTS];
    int go[2], failed = 0;
    double t0, t1, t2 = -1;
    char byte = 0;

    if (clients < 1 || clients > MAX_CLIENTS || n < clients)
        die("create", "CLIENTS must be 1..16 and at most N");
    if (pipe(go) != 0)
        die("pipe", strerror(errno));
    fflush(stdout);
    for (int k = 0; k < clients; k++) {
        int share = n / clients + (k < n % clients);
        pids[k] = fork();
        if (pids[k] < 0)
            die("fork", strerror(errno));
        if (pids[k] == 0) {
            struct curl_slist *headers;
            CURL *curl = rt_handle(&headers);
            close(go[1]);
            if (read(go[0], &byte, 1) < 0) /* EOF: everybody starts at once */
                _exit(1);
            for (int i = 0; i < share; i++) {
                char subject[64];
                snprintf(subject, sizeof(subject), "Bench load ticket %d.%d", k + 1, i + 1);
                ticket_new(curl, queue, subject);
            }
            _exit(0);
        }
    }
    close(go[0]);
    t0 = now_ms();
    close(go[1]);
    for (int k = 0; k < clients; k++) {
        int st;
        if (waitpid(pids[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed = 1;
    }
    t1 = now_ms();
    if (failed)
        die("create", "a client failed");
    while (now_ms() - t0 < CATCHUP_LIMIT_S * 1e3) {
        if (case_count(ch, system) >= base + n) {
            t2 = now_ms();
            break;
        }
        sleep_ms(1);
    }
    printf("%.2f %.3f %.3f\n", n / ((t1 - t0) / 1e3), t2 < 0 ? -1.0 : (t2 - t0) / 1e3,
           t2 < 0 ? -1.0 : (t2 - t1) / 1e3);
    PQfinish(ch);
    return 0;
}

/* ----------------------------------------------------------------- main --- */

static void usage(void)
{
    fprintf(stderr, "usage: rt_bench port\n"
                    "       rt_bench lag AUTH URL PWFILE RTDB QUEUE N\n"
                    "       rt_bench create AUTH URL PWFILE QUEUE N CLIENTS\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int rc;
    if (argc == 2 && strcmp(argv[1], "port") == 0) {
        int port = loopback_free_port();
        if (port == 0)
            die("port", "no free loopback port");
        printf("%d\n", port);
        return 0;
    }
    if (argc < 2)
        usage();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(argv[1], "lag") == 0 && argc == 8) {
        rt_setup(argv[3], argv[4], argv[2]);
        rc = lag(argv[6], atoi(argv[7]), argv[5]);
    } else if (strcmp(argv[1], "create") == 0 && argc == 8) {
        rt_setup(argv[3], argv[4], argv[2]);
        rc = create(argv[5], atoi(argv[6]), atoi(argv[7]));
    } else {
        usage();
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}
