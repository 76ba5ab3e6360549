/*
 * check_chaos.c: a week of bad delivery days in a few seconds. 1,000 real
 * referrals (made through decision_store, as routing stores them) to 5
 * loopback receivers that are down for a while, answer 500, answer past the
 * timeout, or accept; two long-running dispatchers, each SIGKILLed once at a
 * random moment and restarted; PostgreSQL restarted once under them. At the
 * end nothing is lost, every referral not delivery_failed was received, and
 * repeats carry the referral's own idempotency key. It runs on a cluster of
 * its own (scripts/test-cluster.sh), never on the one other suites share.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "http_sink.h"
#include "testlib.h"

#define SECRET "chaos-secret"
#define N_DEST 5
#define N_CASES 200   /* one decision per case, a referral to each destination: 1,000 */
#define N_UPFRONT 100 /* cases routed before the dispatchers start; the rest while they run */
#define BATCH 10      /* cases per routing transaction while the dispatchers run */
#define BATCH_MS 150
#define MAX_RECORDS 20000
#define DEADLINE_MS 60000 /* everything settled by then, or the test fails */

/* One receiver: the destination it stands for and how it misbehaves. */
static const struct chaos_dest {
    const char *id, *kind, *rule;
    int ack_sla_hours;
    const char *behaviour;
    struct sink_faults faults;
} dests[N_DEST] = {
    {"cw_ca", "child_welfare", "minor_commercial_sex", 24, "accepts", {.down_ms = 0}},
    {"le_ca",
     "law_enforcement",
     "minor_commercial_sex",
     24,
     "down (refuses) for the first 4 s",
     {.down_ms = 4000}},
    {"hhs_otip",
     "hhs_otip",
     "minor_foreign_national_hhs",
     72,
     "500 for the first 3 s, and always to every 10th key",
     {.fail_ms = 3000, .fail_every = 10}},
    {"fic_ca",
     "forensic_interview",
     "disclosure_minor",
     24,
     "500 to each key's first try",
     {.fail_each_key = 1}},
    {"missing_le_ca",
     "missing_child",
     "missing_child_report",
     24,
     "every 2nd key's first try answered after 600 ms (timeout 250 ms)",
     {.slow_every = 2, .slow_ms = 600}},
};

/* The dispatcher's options: short timeouts and millisecond backoff. */
static const char *const dispatch_args[] = {"dispatch", "--timeout-ms",   "250", "--lease-ms",
                                            "1000",     "--idle-ms",      "300", "--backoff-ms",
                                            "5",        "--max-attempts", "8",   NULL};

/* The cluster of this suite (unchecked fixture: made once, in the parent). */
static char cluster[1024], cluster_error[1200];

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    if (ms > 0)
        nanosleep(&ts, NULL);
}

/* Runs a script of the tree quietly, its output appended to the cluster's log; its exit status. */
static int script(const char *args)
{
    return tl_cluster_script(cluster, "chaos", args);
}

/*
 * A cluster of our own with the migrated, deployed template, and the test
 * environment pointed at it: tl_db_new() and the roles live there. Errors
 * are kept for the test to report (an unchecked fixture cannot fail a test).
 */
static void cluster_up(void)
{
    tl_cluster_own("chaos", cluster, sizeof(cluster), cluster_error, sizeof(cluster_error));
}

static void cluster_down(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "scripts/pg.sh stop '%s/pg'", cluster);
    script(cmd);
}

/* Stops the server (fast: every session is terminated) and starts it again. */
static void cluster_restart(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "scripts/pg.sh stop '%s/pg'", cluster);
    ck_assert_msg(script(cmd) == 0, "cannot stop PostgreSQL: see %s/chaos.log", cluster);
    sleep_ms(300);
    snprintf(cmd, sizeof(cmd), "scripts/pg.sh start '%s/pg' --throwaway", cluster);
    ck_assert_msg(script(cmd) == 0, "cannot start PostgreSQL again: see %s/chaos.log", cluster);
}

/* --------------------------------------------------------------- run state --- */

static char db[1024], cfg[1024];
static struct sink sinks[N_DEST];
static char records[N_DEST][1200];

/* A dispatcher slot: the process now, and every process it had (for the logs). */
struct slot {
    struct tl_proc p;
    int generation;
    char errs[4][sizeof(((struct tl_proc *)0)->err)]; /* stderr file of each generation */
    int alive_at_restart[4];
};
static struct slot slots[2];

static void dispatcher_start(int i)
{
    char tag[32];
    struct slot *s = &slots[i];
    snprintf(tag, sizeof(tag), "chaos_d%d_%d", i, s->generation);
    tl_spawn(&s->p, db, cfg, "a_svc", tag, 100, dispatch_args);
    memcpy(s->errs[s->generation], s->p.err, sizeof(s->errs[0]));
    s->generation++;
}

/*
 * 1 once process pid catches SIGTERM (/proc/PID/status, SigCgt): a
 * dispatcher started a moment ago may not have set its handler yet, and a
 * SIGTERM then ends it as the default action does (143), which is not what
 * the test means to check.
 */
static int catches_sigterm(pid_t pid)
{
    char path[64], line[256];
    unsigned long long mask = 0;
    int found = 0;
    FILE *f;
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = sscanf(line, "SigCgt: %llx", &mask) == 1;
    fclose(f);
    return found && (mask & (1ULL << (SIGTERM - 1))) != 0;
}

/* SIGKILL, as an OOM killer or a power cut would, then a new process in its place. */
static void dispatcher_kill(int i)
{
    ck_assert_msg(slots[i].p.pid > 0 && waitpid(slots[i].p.pid, NULL, WNOHANG) == 0,
                  "dispatcher %d ended before it was killed: see %s", i, slots[i].p.err);
    kill(slots[i].p.pid, SIGKILL);
    ck_assert_int_eq(tl_reap(&slots[i].p), 128 + SIGKILL);
    dispatcher_start(i);
}

/* The settings sending each destination to its receiver. */
static const char *targets(void)
{
    static char text[4096];
    size_t used = (size_t)snprintf(text, sizeof(text), "dispatch_targets = {");
    for (int i = 0; i < N_DEST; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used,
                                 " %s = { channel = \"webhook\";"
                                 " url = \"http://127.0.0.1:%d/referrals\"; secret = \"" SECRET
                                 "\"; };",
                                 dests[i].id, sinks[i].port);
    ck_assert(used + 3 < sizeof(text));
    snprintf(text + used, sizeof(text) - used, " };");
    return text;
}

/* What routing would store for a case: a referral to every destination, as a live rule makes it. */
static const char *decision_referrals(void)
{
    static char text[4096];
    size_t used = (size_t)snprintf(text, sizeof(text), "[");
    for (int i = 0; i < N_DEST; i++)
        used += (size_t)snprintf(
            text + used, sizeof(text) - used,
            "%s{\"destination\": \"%s\", \"kind\": \"%s\", \"rule\": \"%s\","
            " \"basis\": \"mandatory_report\", \"state\": \"queued\", \"consent\": 0,"
            " \"urgency\": \"24h\", \"due_hours\": 24, \"ack_sla_hours\": %d,"
            " \"fields\": [\"case_id\", \"age\", \"state\", \"urgency\", \"basis\"]}",
            i ? ", " : "", dests[i].id, dests[i].kind, dests[i].rule, dests[i].ack_sla_hours);
    ck_assert(used + 2 < sizeof(text));
    snprintf(text + used, sizeof(text) - used, "]");
    return text;
}

/*
 * Routes cases first .. first + n - 1 (of the N_CASES made) in one
 * transaction as the caseworker a_worker: decision_store checks each
 * referral against the live configuration and writes it and its outbox row
 * (whose trigger NOTIFYs the dispatchers). Fails unless all 5 per case exist.
 */
static const char route_sql[] =
    "SELECT coalesce(sum(cardinality(d.referral_ids)), 0) FROM"
    " (SELECT id FROM casehost.cases WHERE title LIKE 'chaos %' ORDER BY id"
    "   OFFSET $1::int LIMIT $2::int) c,"
    " LATERAL trafficking.decision_store(jsonb_build_object('case', c.id, 'cause', 'chaos',"
    "   'config_hash', 'chaos', 'input', '{}'::jsonb, 'rules', '[]'::jsonb,"
    "   'outcome', '{}'::jsonb, 'referrals', $3::jsonb)) d";

/* Sends the routing of cases first .. first + n - 1 on worker (route_wait collects it). */
static void route_send(PGconn *worker, int first, int n)
{
    const char *params[3] = {tl_id(first), tl_id(n), decision_referrals()};
    ck_assert_msg(PQsendQueryParams(worker, route_sql, 3, NULL, params, NULL, NULL, 0) == 1,
                  "routing cases %d..%d: %s", first, first + n - 1, PQerrorMessage(worker));
}

/* Waits for the routing sent on worker; fails unless it made n cases' referrals. */
static void route_wait(PGconn *worker, int n)
{
    PGresult *r, *last = NULL;
    while ((r = PQgetResult(worker)) != NULL) {
        PQclear(last);
        last = r;
    }
    ck_assert_msg(PQresultStatus(last) == PGRES_TUPLES_OK, "routing: %s",
                  PQresultErrorMessage(last));
    ck_assert_msg(strtol(PQgetvalue(last, 0, 0), NULL, 10) == (long)n * N_DEST,
                  "routing %d cases made %s referrals, want %d", n, PQgetvalue(last, 0, 0),
                  n * N_DEST);
    PQclear(last);
}

static void route_cases(PGconn *worker, int first, int n)
{
    route_send(worker, first, n);
    route_wait(worker, n);
}

/* The first cases on several connections at once: routing a case takes tens of milliseconds. */
static void route_upfront(void)
{
    PGconn *w[4];
    int each = N_UPFRONT / 4;
    for (int i = 0; i < 4; i++) {
        w[i] = tl_as_app(db, "a_worker");
        route_send(w[i], i * each, i < 3 ? each : N_UPFRONT - 3 * each);
    }
    for (int i = 0; i < 4; i++) {
        route_wait(w[i], i < 3 ? each : N_UPFRONT - 3 * each);
        PQfinish(w[i]);
    }
}

/* ------------------------------------------------------------- the checks --- */

/* One referral as the database has it at the end, and what its receiver saw. */
struct outcome {
    long long id;
    int dest;
    char state[24], key[SINK_KEY];
    int requests, accepted;
};

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct outcome *)a)->key, ((const struct outcome *)b)->key);
}

/* Every referral of the run, sorted by idempotency key; their number in *n. */
static struct outcome *load_outcomes(int *n)
{
    PGconn *c = tl_connect(db);
    PGresult *r = PQexec(c, "SELECT r.id, r.destination_id, r.state, o.idempotency_key"
                            "  FROM trafficking.referrals r"
                            "  JOIN trafficking.outbox o ON o.referral_id = r.id"
                            "  JOIN casehost.cases c ON c.id = r.case_id"
                            " WHERE c.title LIKE 'chaos %'");
    struct outcome *out;
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
    *n = PQntuples(r);
    out = calloc((size_t)*n + 1, sizeof(*out));
    ck_assert(out != NULL);
    for (int i = 0; i < *n; i++) {
        out[i].id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        out[i].dest = -1;
        for (int d = 0; d < N_DEST; d++)
            if (strcmp(PQgetvalue(r, i, 1), dests[d].id) == 0)
                out[i].dest = d;
        snprintf(out[i].state, sizeof(out[i].state), "%s", PQgetvalue(r, i, 2));
        snprintf(out[i].key, sizeof(out[i].key), "%s", PQgetvalue(r, i, 3));
    }
    PQclear(r);
    PQfinish(c);
    qsort(out, (size_t)*n, sizeof(*out), by_key);
    return out;
}

/*
 * Matches receiver d's records to the referrals: each names a known key, came
 * to the referral's own destination, is signed, and its body is that
 * referral's (so a repeat carries the same key as the first delivery).
 */
static void match_records(struct outcome *out, int n, int d, struct sink_record *recs)
{
    int nrec = sink_load(records[d], recs, MAX_RECORDS);
    ck_assert_msg(nrec >= 0 && nrec < MAX_RECORDS, "%s: %d records", records[d], nrec);
    for (int i = 0; i < nrec; i++) {
        struct outcome probe, *o;
        json_t *body;
        snprintf(probe.key, sizeof(probe.key), "%s", recs[i].key);
        o = bsearch(&probe, out, (size_t)n, sizeof(*out), by_key);
        ck_assert_msg(o != NULL, "%s received key '%s', which no referral has", dests[d].id,
                      recs[i].key);
        ck_assert_msg(o->dest == d, "referral %lld of %s reached %s", o->id,
                      dests[o->dest < 0 ? 0 : o->dest].id, dests[d].id);
        ck_assert_msg(recs[i].sig_ok, "referral %lld: a request with a bad signature", o->id);
        body = json_loads(recs[i].body, 0, NULL);
        ck_assert_msg(
            body != NULL && json_integer_value(json_object_get(body, "referral_id")) == o->id,
            "key %s (referral %lld) carried another body: %s", o->key, o->id, recs[i].body);
        json_decref(body);
        o->requests++;
        o->accepted += recs[i].accepted;
    }
}

/* The end of a file (for a failure message; static storage). */
static const char *tail_of(const char *path)
{
    static char buf[1500];
    FILE *f = fopen(path, "r");
    long size;
    size_t k;
    buf[0] = '\0';
    if (f == NULL)
        return buf;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, size > 1400 ? size - 1400 : 0, SEEK_SET);
    k = fread(buf, 1, sizeof(buf) - 1, f);
    buf[k] = '\0';
    fclose(f);
    return buf;
}

/* -------------------------------------------------------------- the test --- */

START_TEST(chaos_1000_referrals_5_receivers_2_killed_dispatchers_1_restart_none_lost)
{
    const char *seed_env = getenv("CHAOS_SEED");
    unsigned seed = seed_env != NULL ? (unsigned)strtoul(seed_env, NULL, 10)
                                     : (unsigned)time(NULL) ^ (unsigned)getpid();
    long t0, kill_at[2], restart_at, restarted = 0, settled;
    int killed = 0, routed = N_UPFRONT, n, failed = 0, sent = 0, delivered = 0, requests = 0;
    int reached = 0; /* referrals with at least one request */
    int victim[2], bad_state = 0;
    struct outcome *out;
    struct sink_record *recs;
    PGconn *worker;

    ck_assert_msg(cluster_error[0] == '\0', "%s", cluster_error);
    srand(seed);
    snprintf(db, sizeof(db), "%s", tl_db_new());
    tl_seed_agencies(db, NULL);
    tl_db_execf(db,
                "INSERT INTO casehost.cases (agency_id, title, state)"
                " SELECT a.id, 'chaos ' || g, 'CA' FROM casehost.agencies a,"
                " generate_series(1, %d) g WHERE a.name = 'A'",
                N_CASES);
    t0 = now_ms();
    route_upfront();
    printf("chaos: routed %d cases in %ld ms\n", N_UPFRONT, now_ms() - t0);
    worker = tl_as_app(db, "a_worker");

    for (int d = 0; d < N_DEST; d++) {
        struct sink_options o = {SECRET, records[d], 0, 0, 0, MAX_RECORDS - 1, 110, 0, 0};
        snprintf(records[d], sizeof(records[d]), "%s/%s.records", cluster, dests[d].id);
        ck_assert_msg(sink_start_faulty(&sinks[d], &o, &dests[d].faults) == 0,
                      "cannot start receiver %s: %s", dests[d].id, strerror(errno));
    }
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking_with(targets())));
    t0 = now_ms();
    dispatcher_start(0);
    dispatcher_start(1);

    /* A kill while routing goes on, a restart, a kill after it; each at a random moment. */
    kill_at[0] = 300 + rand() % 1500;
    restart_at = 2200 + rand() % 1000;
    kill_at[1] = -1; /* set once the server is back */
    victim[0] = rand() % 2;
    victim[1] = rand() % 2;
    while (killed < 2 || !restarted || routed < N_CASES) {
        long t = now_ms() - t0;
        if (routed < N_CASES && t >= (routed - N_UPFRONT) / BATCH * BATCH_MS) {
            route_cases(worker, routed, BATCH);
            routed += BATCH;
        }
        if (killed == 0 && t >= kill_at[0]) {
            dispatcher_kill(victim[0]);
            killed++;
        }
        if (!restarted && routed >= N_CASES && t >= restart_at) {
            PQfinish(worker);
            worker = NULL;
            for (int i = 0; i < 2; i++)
                slots[i].alive_at_restart[slots[i].generation - 1] = 1;
            cluster_restart();
            restarted = now_ms() - t0;
            kill_at[1] = restarted + 300 + rand() % 2000;
        }
        if (killed == 1 && kill_at[1] >= 0 && t >= kill_at[1]) {
            dispatcher_kill(victim[1]);
            killed++;
        }
        sleep_ms(10);
    }
    ck_assert(worker == NULL);

    /* Bounded: every outbox row sent or failed for good, and both dispatchers still running. */
    for (;;) {
        long long pending = tl_db_valuef(db, "SELECT count(*) FROM trafficking.outbox"
                                             " WHERE state = 'pending'");
        for (int i = 0; i < 2; i++)
            ck_assert_msg(waitpid(slots[i].p.pid, NULL, WNOHANG) == 0,
                          "dispatcher %d ended (did it reconnect?): %s", i,
                          tail_of(slots[i].p.err));
        if (pending == 0)
            break;
        ck_assert_msg(now_ms() - t0 < DEADLINE_MS,
                      "%lld outbox rows still pending after %d s; dispatcher logs:\n%s", pending,
                      DEADLINE_MS / 1000, tail_of(slots[0].p.err));
        sleep_ms(100);
    }
    settled = now_ms() - t0;
    for (int i = 0; i < 2; i++) {
        int st;
        long since = now_ms();
        while (!catches_sigterm(slots[i].p.pid)) {
            ck_assert_msg(now_ms() - since < 30000,
                          "dispatcher %d never set its SIGTERM handler: %s", i,
                          tail_of(slots[i].p.err));
            sleep_ms(10);
        }
        kill(slots[i].p.pid, SIGTERM);
        st = tl_reap(&slots[i].p);
        /* 3: something failed for good in this run, which the chaos makes likely */
        ck_assert_msg(st == 0 || st == 3, "dispatcher %d ended with %d after SIGTERM: %s", i, st,
                      tail_of(slots[i].p.err));
    }
    /*
     * Each process that lived through the restart and ran to the end says it
     * reconnected (one killed after the restart may have died still trying).
     */
    for (int i = 0; i < 2; i++)
        for (int g = 0; g < slots[i].generation; g++)
            if (slots[i].alive_at_restart[g] && g == slots[i].generation - 1) {
                char *log = tl_read_file(slots[i].errs[g]);
                ck_assert_msg(strstr(log, "reconnected") != NULL,
                              "dispatcher %d (process %d) never reconnected:\n%s", i, g,
                              tail_of(slots[i].errs[g]));
                free(log);
            }
    for (int d = 0; d < N_DEST; d++)
        sink_stop(&sinks[d]);

    out = load_outcomes(&n);
    ck_assert_int_eq(n, N_CASES * N_DEST);
    recs = calloc(MAX_RECORDS, sizeof(*recs));
    ck_assert(recs != NULL);
    for (int d = 0; d < N_DEST; d++)
        match_records(out, n, d, recs);
    free(recs);
    for (int i = 0; i < n; i++) {
        const struct outcome *o = &out[i];
        requests += o->requests;
        reached += o->requests > 0;
        delivered += o->accepted > 0;
        if (strcmp(o->state, "delivery_failed") == 0) {
            failed++;
            ck_assert_msg(o->accepted == 0,
                          "referral %lld is delivery_failed although %s accepted it", o->id,
                          dests[o->dest].id);
        } else if (strcmp(o->state, "sent") == 0 || strcmp(o->state, "acknowledged") == 0) {
            sent++;
            ck_assert_msg(o->accepted == 1, "referral %lld is %s but %s accepted it %d times",
                          o->id, o->state, dests[o->dest].id, o->accepted);
        } else {
            bad_state++;
            fprintf(stderr, "lost: referral %lld to %s is %s\n", o->id, dests[o->dest].id,
                    o->state);
        }
    }
    printf("chaos (seed %u): %d referrals to %d receivers; dispatcher %d killed at %ld ms,"
           " PostgreSQL restarted (back at %ld ms), dispatcher %d killed at %ld ms;"
           " settled at %ld ms\n",
           seed, n, N_DEST, victim[0], kill_at[0], restarted, victim[1], kill_at[1], settled);
    printf("chaos: received %d requests, %d referrals de-duplicated, repeats %d (same key),"
           " failed %d (delivery_failed), sent %d, lost %d\n",
           requests, delivered, requests - reached, failed, sent, bad_state);
    for (int d = 0; d < N_DEST; d++) {
        int req = 0, del = 0, fail = 0;
        for (int i = 0; i < n; i++)
            if (out[i].dest == d) {
                req += out[i].requests;
                del += out[i].accepted > 0;
                fail += strcmp(out[i].state, "delivery_failed") == 0;
            }
        printf("chaos:   %-14s %-72s %5d requests, %4d received, %4d failed\n", dests[d].id,
               dests[d].behaviour, req, del, fail);
    }
    fflush(stdout);
    /* No failure is silent: each delivery_failed referral has one notice queued for people. */
    if (tl_db_valuef(db, "SELECT count(*) FROM pg_class WHERE oid = "
                         "coalesce(to_regclass('trafficking.notices'), 0)") == 1) {
        long long unnoticed = tl_db_valuef(
            db, "SELECT count(*) FROM trafficking.referrals r WHERE r.state = 'delivery_failed'"
                " AND (SELECT count(*) FROM trafficking.notices n WHERE n.referral_id = r.id"
                "       AND n.kind = 'delivery_failed') <> 1");
        printf("chaos: %d delivery_failed referrals, %lld without exactly one notice\n", failed,
               unnoticed);
        ck_assert_msg(unnoticed == 0, "%lld delivery_failed referrals without exactly one notice",
                      unnoticed);
    }
    ck_assert_msg(bad_state == 0, "%d referrals neither sent nor delivery_failed", bad_state);
    ck_assert_int_eq(sent + failed, n);
    ck_assert_int_eq(delivered, n - failed);
    free(out);
}
END_TEST

static Suite *chaos_suite(void)
{
    Suite *s = suite_create("chaos");
    TCase *tc = tcase_create("delivery");
    tcase_add_unchecked_fixture(tc, cluster_up, cluster_down);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, chaos_1000_referrals_5_receivers_2_killed_dispatchers_1_restart_none_lost);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(chaos_suite())
