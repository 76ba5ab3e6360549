/*
 * dispatch_bench.c: outbox dispatch throughput (rows/s) to a webhook receiver
 * on loopback (tests/http_sink.h, answering at once), with 1 and WORKERS
 * dispatcher processes (and WORKERS claiming one row at a time, as before
 * batches), against a baseline in the same run: the bare
 * claim-and-mark transaction (lock one row SKIP LOCKED, mark it sent, commit)
 * without the re-checks, the referral move or any send.
 *   dispatch_bench USER N [WORKERS]     (WORKERS defaults to 2)
 * CASEHOST_DB names a database migrated with the trafficking plugin in which
 * USER is an application user; each run queues N fresh referrals (one case
 * each) in USER's agency, then analyzes the tables when the connection may.
 * Then the latency from commit to delivery: a long-running dispatcher that
 * polls only once a minute, so only LISTEN/NOTIFY can wake it; referrals
 * committed one at a time, each once the previous one arrived; the receiver
 * timestamps each arrival. Prints figures and checks that every row was
 * sent and accepted once (and their FIGURE lines, figure.h); asserts no speed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/http_sink.h"
#include "bench_db.h"
#include "db.h"
#include "figure.h"
#include "outbox/dispatch.h"

#define SECRET "bench-secret"
#define LATENCY_N 200 /* referrals committed one by one for the latency figure */

static struct dispatch_target target = {.channel = DISPATCH_WEBHOOK, .secret = SECRET};

static const struct dispatch_target *lookup(void *ud, const char *destination_id)
{
    (void)ud;
    (void)destination_id;
    return &target;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A connection as role (NULL: the database owner), outside any transaction;
 * NULL after saying why.
 */
static PGconn *session(const char *role)
{
    char err[512];
    struct db_user u;
    PGconn *c = db_connect(bench_conninfo(role), err, sizeof(err));
    if (c == NULL || db_start(c, &u, err, sizeof(err)) != 0 ||
        db_run(c, "COMMIT", 0, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "dispatch_bench: %s\n", err);
        PQfinish(c);
        return NULL;
    }
    return c;
}

/*
 * n queued referrals with outbox rows (about 400 bytes of payload each) in
 * role's agency, written directly by the database owner.
 */
static int seed(const char *role, long n)
{
    static const char sql[] =
        "WITH a AS (SELECT agency_id AS id FROM casehost.users WHERE db_role = $2),"
        " c AS (INSERT INTO casehost.cases (agency_id, title)"
        "   SELECT a.id, 'bench ' || g FROM a, generate_series(1, $1::int) g RETURNING id),"
        " r AS (INSERT INTO trafficking.referrals (agency_id, case_id, destination_id,"
        "         destination_kind, rule, basis, urgency, due_at, ack_sla_hours, state, fields,"
        "         idempotency_key)"
        "   SELECT a.id, c.id, 'bench_hotline', 'hotline', 'bench',"
        "          'mandatory_report', '24h', now() + interval '1 day', 24, 'queued',"
        "          ARRAY['case_id', 'age', 'state'], 'ref-' || c.id FROM a, c RETURNING id, "
        "case_id)"
        " INSERT INTO trafficking.outbox (agency_id, referral_id, destination_id, payload,"
        "                                 idempotency_key)"
        " SELECT (SELECT id FROM a), r.id, 'bench_hotline',"
        "        jsonb_build_object('referral', r.id, 'case_id', r.case_id, 'age', 15,"
        "          'state', 'CA', 'urgency', '24h', 'basis', 'mandatory_report',"
        "          'summary', repeat('x', 300)), 'bench-' || r.id FROM r";
    /*
     * Rows other benches left pending (the screening bench's referrals) are
     * marked sent first, outside the timing, as the baseline's claim-and-mark
     * would: each run times its own n rows, whatever ran before.
     */
    static const char set_aside[] =
        "UPDATE trafficking.outbox SET state = 'sent', sent_at = now() WHERE state = 'pending'";
    char count[24], err[512];
    const char *params[2] = {count, role};
    PGconn *c = session(NULL);
    int rc;
    if (c == NULL)
        return -1;
    snprintf(count, sizeof(count), "%ld", n);
    rc = db_run(c, set_aside, 0, NULL, err, sizeof(err));
    if (rc == 0)
        rc = db_run(c, sql, 2, params, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "dispatch_bench: seed: %s\n", err);
    PQfinish(c);
    if (rc == 0 && (c = db_connect(bench_conninfo(NULL), err, sizeof(err))) != NULL) {
        /* Steady state: statistics as autovacuum keeps them (needs the tables' owner). */
        db_run(c, "ANALYZE trafficking.outbox, trafficking.referrals, trafficking.referral_history",
               0, NULL, err, sizeof(err));
        PQfinish(c);
    }
    return rc;
}

/*
 * The baseline: lock one ready row, mark it sent, commit; until none is
 * left. In the order of the ready index (agency, due time, id), as the
 * dispatcher's claim reads it: the owner sees every agency, so the order
 * names the agency too.
 */
static int claim_and_mark(PGconn *c)
{
    static const char take[] =
        "SELECT id FROM trafficking.outbox WHERE state = 'pending' AND next_attempt_at <= now()"
        " ORDER BY agency_id, next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED";
    static const char mark[] =
        "UPDATE trafficking.outbox SET state = 'sent', sent_at = now() WHERE id = $1";
    char err[512], id[24];
    const char *params[1] = {id};
    for (;;) {
        PGresult *r;
        if (db_run(c, "BEGIN", 0, NULL, err, sizeof(err)) != 0 ||
            (r = db_exec(c, take, 0, NULL, err, sizeof(err))) == NULL)
            return -1;
        if (PQntuples(r) == 0) {
            PQclear(r);
            return db_run(c, "COMMIT", 0, NULL, err, sizeof(err));
        }
        snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        if (db_run(c, mark, 1, params, err, sizeof(err)) != 0 ||
            db_run(c, "COMMIT", 0, NULL, err, sizeof(err)) != 0)
            return -1;
    }
}

/*
 * workers processes, each dispatching (or claim-and-mark) until no row is
 * ready, claiming batch rows at a time (0: the default); rows/s.
 */
static double run(const char *user, long n, int workers, int baseline, int batch)
{
    pid_t pids[64];
    double t0;
    if (seed(user, n) != 0)
        return -1;
    t0 = now();
    for (int k = 0; k < workers; k++) {
        pid_t pid = pids[k] = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            struct dispatch_options opt;
            struct dispatch_stats st;
            char err[1024];
            /* The baseline is the bare table work, as the owner; dispatch runs as the service. */
            PGconn *c = session(baseline ? NULL : user);
            int rc;
            if (c == NULL)
                _exit(1);
            dispatch_options_init(&opt);
            opt.once = 1;
            opt.timeout_ms = 10000;
            if (batch > 0)
                opt.batch = batch;
            rc = baseline ? claim_and_mark(c)
                          : dispatch_run(c, lookup, NULL, &opt, &st, err, sizeof(err));
            if (rc != 0 || (!baseline && (st.retried > 0 || st.failed > 0 || st.held > 0)))
                fprintf(stderr, "dispatch_bench: worker %d: %s\n", k,
                        rc != 0 ? err : "some rows were not sent");
            PQfinish(c);
            _exit(rc != 0);
        }
    }
    /* waitpid, not wait: the receiver is a child too. */
    for (int k = 0; k < workers; k++) {
        int st;
        if (waitpid(pids[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return -1;
    }
    return (double)n / (now() - t0);
}

static long long realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/*
 * Whether the receiver recorded key since *offset (advanced past the
 * complete lines read): the arrival the latency run waits for.
 */
static int arrived(const char *records, long *offset, const char *key)
{
    char line[SINK_KEY + SINK_BODY + 512];
    size_t klen = strlen(key);
    int found = 0;
    FILE *f = fopen(records, "r");
    if (f == NULL || fseek(f, *offset, SEEK_SET) != 0) {
        if (f != NULL)
            fclose(f);
        return 0;
    }
    while (!found && fgets(line, sizeof(line), f) != NULL && strchr(line, '\n') != NULL) {
        *offset = ftell(f);
        found = strncmp(line, key, klen) == 0 && line[klen] == '\t';
    }
    fclose(f);
    return found;
}

/*
 * Commit-to-delivery latency: a long-running dispatcher as user (woken by
 * NOTIFY: it polls once a minute) sending to the receiver at url; LATENCY_N
 * referrals committed one at a time by the owner, each after the previous
 * one arrived (records grew). Median and p99 in microseconds into lat[0],
 * lat[1]. 0, or -1.
 */
static int latency(const char *user, const char *records, long long *lat)
{
    static const char one[] =
        "WITH a AS (SELECT agency_id AS id FROM casehost.users WHERE db_role = $1),"
        " c AS (INSERT INTO casehost.cases (agency_id, title) SELECT a.id, 'latency' FROM a"
        "   RETURNING id),"
        " r AS (INSERT INTO trafficking.referrals (agency_id, case_id, destination_id,"
        "         destination_kind, rule, basis, urgency, due_at, ack_sla_hours, state, fields,"
        "         idempotency_key)"
        "   SELECT a.id, c.id, 'bench_hotline', 'hotline', 'bench', 'mandatory_report', '24h',"
        "          now() + interval '1 day', 24, 'queued', ARRAY['case_id', 'age', 'state'],"
        "          'lat-' || c.id FROM a, c RETURNING id, case_id)"
        " INSERT INTO trafficking.outbox (agency_id, referral_id, destination_id, payload,"
        "                                 idempotency_key)"
        " SELECT (SELECT id FROM a), r.id, 'bench_hotline',"
        "        jsonb_build_object('referral', r.id, 'case_id', r.case_id, 'age', 15,"
        "          'state', 'CA', 'summary', repeat('x', 300)), 'lat-' || r.id FROM r"
        " RETURNING idempotency_key";
    char keys[LATENCY_N][64], err[512];
    long long committed[LATENCY_N], d[LATENCY_N];
    struct sink_record *recs = NULL;
    const char *params[1] = {user};
    PGconn *c = NULL;
    pid_t pid;
    int rc = -1, n = 0, nrec;
    long offset = 0;
    if ((pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        struct dispatch_options opt;
        struct dispatch_stats st;
        PGconn *w = session(user);
        dispatch_options_init(&opt);
        opt.timeout_ms = 10000;
        opt.idle_ms = 60000; /* longer than the whole run: only a NOTIFY wakes it */
        if (w == NULL || dispatch_run(w, lookup, NULL, &opt, &st, err, sizeof(err)) != 0)
            fprintf(stderr, "dispatch_bench: latency dispatcher: %s\n", w ? err : "no session");
        PQfinish(w);
        _exit(0);
    }
    if ((c = session(NULL)) == NULL)
        goto out;
    sleep_us(300 * 1000); /* the dispatcher is listening (and has sent nothing pending) */
    for (int i = 0; i < LATENCY_N; i++) {
        PGresult *r;
        double give_up;
        if ((r = db_exec(c, one, 1, params, err, sizeof(err))) == NULL)
            goto out;
        committed[i] = realtime_us(); /* autocommit: the statement's answer follows its commit */
        snprintf(keys[i], sizeof(keys[i]), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        give_up = now() + 5;
        while (!arrived(records, &offset, keys[i]) && now() < give_up)
            sleep_us(100);
        if (now() >= give_up) {
            fprintf(stderr, "dispatch_bench: referral %s not delivered within 5 s\n", keys[i]);
            goto out;
        }
    }
    recs = calloc(4 * LATENCY_N, sizeof(*recs));
    nrec = recs != NULL ? sink_load(records, recs, 4 * LATENCY_N) : -1;
    for (int i = 0; i < LATENCY_N; i++)
        for (int k = 0; k < nrec; k++)
            if (strcmp(recs[k].key, keys[i]) == 0 && recs[k].accepted) {
                d[n++] = recs[k].arrived_us - committed[i];
                break;
            }
    if (n != LATENCY_N) {
        fprintf(stderr, "dispatch_bench: latency: %d of %d referrals arrived (%d records)\n", n,
                LATENCY_N, nrec);
        goto out;
    }
    qsort(d, (size_t)n, sizeof(d[0]), cmp_ll);
    lat[0] = d[n / 2];
    lat[1] = d[(n * 99) / 100 - ((n * 99) % 100 == 0)];
    rc = 0;
out:
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    PQfinish(c);
    free(recs);
    return rc;
}

/* Every key accepted once by the receiver; the raw deliveries in *raw. */
static int accepted(const char *records, int max, int *raw)
{
    struct sink_record *recs = calloc((size_t)max, sizeof(*recs));
    int n = recs != NULL ? sink_load(records, recs, max) : -1, acc = 0;
    for (int i = 0; i < n; i++)
        acc += recs[i].accepted && recs[i].sig_ok;
    *raw = n;
    free(recs);
    return acc;
}

int main(int argc, char **argv)
{
    char records[256], url[64], lat_records[256], lat_url[64], name[128];
    struct sink sink = {0, 0}, lat_sink = {0, 0};
    struct sink_options o = {SECRET, records, 0, 0, 0, 0, 600, 0, 0};
    struct sink_options lat_o = {SECRET, lat_records, 0, 0, 0, 4 * LATENCY_N, 600, 0, 0};
    long long lat[2] = {0, 0};
    int lat_rc;
    const char *user;
    long n;
    int workers = 2, sizes[2], raw = 0, acc;
    double base, one, many, single;
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: dispatch_bench SERVICE_ROLE N [WORKERS]\n");
        return 2;
    }
    user = argv[1];
    n = strtol(argv[2], NULL, 10);
    if (argc == 4)
        workers = (int)strtol(argv[3], NULL, 10);
    if (n < 1 || n > 100000 || workers < 1 || workers > 64 || getenv("CASEHOST_DB") == NULL) {
        fprintf(stderr, "dispatch_bench: N 1..100000, WORKERS 1..64, CASEHOST_DB set\n");
        return 2;
    }
    snprintf(records, sizeof(records), "/tmp/dispatch_bench.%ld.records", (long)getpid());
    o.max_requests = (int)(4 * n + 10);
    if (sink_start(&sink, &o) != 0) {
        perror("dispatch_bench: receiver");
        return 1;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/referrals", sink.port);
    target.url = url;
    sizes[0] = 1;
    sizes[1] = workers;
    base = run(user, n, workers, 1, 0);
    one = run(user, n, sizes[0], 0, 0);
    many = run(user, n, sizes[1], 0, 0);
    single = run(user, n, sizes[1], 0, 1);
    sink_stop(&sink);
    acc = accepted(records, (int)(4 * n + 10), &raw);
    unlink(records);

    /* The latency, to a receiver of its own (its records are the arrivals). */
    snprintf(lat_records, sizeof(lat_records), "/tmp/dispatch_bench.%ld.latency", (long)getpid());
    if (sink_start(&lat_sink, &lat_o) != 0) {
        perror("dispatch_bench: receiver");
        return 1;
    }
    snprintf(lat_url, sizeof(lat_url), "http://127.0.0.1:%d/referrals", lat_sink.port);
    target.url = lat_url;
    lat_rc = latency(user, lat_records, lat);
    sink_stop(&lat_sink);
    unlink(lat_records);
    if (base < 0 || one < 0 || many < 0 || single < 0 || lat_rc != 0) {
        fprintf(stderr, "dispatch_bench: a worker failed\n");
        return 1;
    }
    if (acc != 3 * n || raw != 3 * n) {
        fprintf(stderr, "dispatch_bench: receiver accepted %d of %ld (%d raw)\n", acc, 3 * n, raw);
        return 1;
    }
    printf("dispatch to a loopback webhook, %ld rows per run, every row accepted once:\n", n);
    printf("  baseline claim-and-mark, %d workers: %7.0f rows/s\n", workers, base);
    printf("  dispatch, 1 worker:                 %7.0f rows/s\n", one);
    printf("  dispatch, %d workers:                %7.0f rows/s (%.2f of baseline, %.2fx one "
           "worker)\n",
           workers, many, many / base, many / one);
    printf("  dispatch, %d workers, one row a claim:%6.0f rows/s (batches of 16: %.2fx)\n", workers,
           single, many / single);
    printf("commit to delivery, long-running dispatcher woken by LISTEN/NOTIFY (polling once a "
           "minute), %d referrals committed one by one: median %.2f ms, p99 %.2f ms\n",
           LATENCY_N, (double)lat[0] / 1000.0, (double)lat[1] / 1000.0);
    snprintf(name, sizeof(name), "dispatch, baseline claim-and-mark, %d workers", workers);
    bench_figure(name, "-", "%.0f rows/s", base);
    bench_figure("dispatch, 1 worker, loopback webhook", "-", "%.0f referrals/s", one);
    snprintf(name, sizeof(name), "dispatch, %d workers, loopback webhook (each delivered once)",
             workers);
    bench_figure(name, ">= 2000/s", "%.0f referrals/s (%.2f of baseline)", many, many / base);
    snprintf(name, sizeof(name), "dispatch, %d workers, one row a claim (--batch 1)", workers);
    bench_figure(name, "-", "%.0f referrals/s", single);
    bench_figure("commit-to-delivery latency p50 (LISTEN/NOTIFY)", "-", "%.2f ms",
                 (double)lat[0] / 1000.0);
    bench_figure("commit-to-delivery latency p99 (LISTEN/NOTIFY)", "< 50 ms", "%.2f ms",
                 (double)lat[1] / 1000.0);
    return 0;
}
