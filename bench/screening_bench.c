/*
 * screening_bench.c: submitting a completed screening, as the plugin does it,
 * alone and with routing (decision, referrals, outbox) in the same
 * transaction, against a bare single-row INSERT transaction on the same
 * server.
 *   screening_bench INSTRUMENT_DIR N CLIENTS USER FIRST_CASE DESTINATIONS ROUTING
 * Runs at 1 client and, when CLIENTS > 1, at CLIENTS processes. Cases
 * FIRST_CASE .. FIRST_CASE + 4N must exist (2N + 1 with CLIENTS 1; each run
 * screens fresh cases, so every routed screening makes its referrals and
 * outbox rows). (CASEHOST_DB names the database.) Also counts the round trips
 * of one submit from libpq's protocol trace. Prints figures (and their FIGURE
 * lines, figure.h); asserts no speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db/casefacts.h"
#include "bench_db.h"
#include "db.h"
#include "figure.h"
#include "db/route.h"
#include "db/screening.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct job {
    const struct instrument *inst;
    const char *user;
    int64_t case_id; /* the first case of this run */
    struct answer *answers;
    const struct routing_config *routing; /* NULL: submit only */
};

static void report(void *ud, const char *file, int line, int col, const char *msg)
{
    (void)ud;
    fprintf(stderr, "%s:%d:%d: %s\n", file, line, col, msg);
}

/* One screening submit (and routing) in its own transaction, as `screen start` runs it. */
static int submit_one(PGconn *c, const struct job *j, int64_t case_id, FILE *trace)
{
    struct db_user u;
    struct casefacts cf;
    struct rule_value facts[FACTS__COUNT];
    struct scoring_outcome o;
    struct screening_submit s = {0};
    char err[1024];
    int64_t sid;
    if (db_start(c, &u, err, sizeof(err)) != 0 ||
        casefacts_load(c, case_id, &cf, err, sizeof(err)) != 0)
        goto fail;
    casefacts_fill(&cf, facts);
    if (scoring_run(j->inst, j->answers, facts, &o, NULL, err, sizeof(err)) != 0)
        goto fail;
    s.case_id = case_id;
    s.inst = j->inst;
    s.answers = j->answers;
    s.outcome = &o;
    s.age = &cf.age;
    if (trace != NULL) {
        PQtrace(c, trace);
        PQsetTraceFlags(c, PQTRACE_SUPPRESS_TIMESTAMPS);
    }
    if ((sid = screening_store(c, &s, err, sizeof(err))) < 0)
        goto fail;
    if (trace != NULL)
        PQuntrace(c);
    if (j->routing != NULL) {
        struct routing_decision d;
        int rc = route_decide_store(c, j->routing, case_id, sid, "screening_completed", 1, &d, err,
                                    sizeof(err));
        routing_decision_release(&d);
        if (rc != 0)
            goto fail;
    }
    if (db_run(c, "COMMIT", 0, NULL, err, sizeof(err)) != 0 ||
        db_run(c, "RESET ROLE", 0, NULL, err, sizeof(err)) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "screening_bench: %s\n", err);
    return -1;
}

/* Runs n units split over clients processes; returns units per second, or -1. */
static double run(long n, int clients, const struct job *j)
{
    double t0 = now();
    for (int k = 0; k < clients; k++) {
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            char err[512];
            /* The baseline is a bare INSERT as the owner; submits run as the person. */
            PGconn *c = db_connect(bench_conninfo(j ? j->user : NULL), err, sizeof(err));
            if (c == NULL)
                _exit(1);
            for (long i = k; i < n; i += clients)
                if ((j ? submit_one(c, j, j->case_id + i, NULL)
                       : bench_baseline_insert(c, "screening_bench")) != 0)
                    _exit(1);
            PQfinish(c);
            _exit(0);
        }
    }
    for (int k = 0; k < clients; k++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return -1;
    }
    return (double)n / (now() - t0);
}

/* Counts the Sync messages the client sent during one submit: one per round trip. */
static int round_trips_of_submit(const struct job *j)
{
    char *buf = NULL, err[512];
    size_t len = 0;
    int syncs = 0;
    FILE *f = open_memstream(&buf, &len);
    PGconn *c = db_connect(bench_conninfo(j->user), err, sizeof(err));
    if (f == NULL || c == NULL)
        return -1;
    if (submit_one(c, j, j->case_id, f) != 0)
        return -1;
    fclose(f);
    for (char *line = buf; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (strncmp(line, "F\t", 2) == 0 && strstr(line, "\tSync") != NULL)
            syncs++;
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(buf);
    PQfinish(c);
    return syncs;
}

int main(int argc, char **argv)
{
    struct instrument_set *set = NULL;
    struct routing_config *routing = NULL;
    struct job j;
    long n;
    int64_t next_case;
    int clients_list[2] = {1, 4};
    int rt;
    char name[256];
    if (argc != 8) {
        fprintf(stderr, "usage: screening_bench INSTRUMENT_DIR N CLIENTS USER FIRST_CASE "
                        "DESTINATIONS ROUTING\n");
        return 2;
    }
    n = strtol(argv[2], NULL, 10);
    clients_list[1] = (int)strtol(argv[3], NULL, 10);
    if (instrument_set_load(argv[1], report, NULL, &set) != 0 || set->n == 0 ||
        routing_config_load_checked(argv[6], argv[7], set, report, NULL, &routing) != 0)
        return 1;
    j.inst = set->v[0];
    j.user = argv[4];
    next_case = strtoll(argv[5], NULL, 10);
    j.answers = calloc(j.inst->n_items, sizeof(*j.answers));
    for (size_t i = 0; i < j.inst->n_items; i++)
        j.answers[i] = (struct answer){i % 7 == 3 ? ANSWER_YES : ANSWER_NO, 0};

    j.routing = NULL;
    j.case_id = next_case++;
    rt = round_trips_of_submit(&j);
    printf("screening submit: %zu-item instrument '%s', %d round trip(s) for the submit itself\n",
           j.inst->n_items, j.inst->id, rt);
    bench_figure("screening submit, round trips for the submit itself", "-", "%d", rt);
    for (int k = 0; k < (clients_list[1] > 1 ? 2 : 1); k++) {
        int clients = clients_list[k];
        double base = run(n, clients, NULL), subm, routed;
        j.routing = NULL;
        j.case_id = next_case;
        next_case += n;
        subm = run(n, clients, &j);
        j.routing = routing;
        j.case_id = next_case;
        next_case += n;
        routed = run(n, clients, &j);
        if (base < 0 || subm < 0 || routed < 0) {
            fprintf(stderr, "screening_bench: a client failed\n");
            return 1;
        }
        printf("%d client%s: baseline INSERT %6.0f tx/s | screening submit %5.0f/s, ratio %.2f | "
               "submit + route + outbox %5.0f/s, ratio %.2f\n",
               clients, clients == 1 ? " " : "s", base, subm, subm / base, routed, routed / base);
        snprintf(name, sizeof(name), "screening submit (%zu answers) / bare INSERT, %d client%s",
                 j.inst->n_items, clients, clients == 1 ? "" : "s");
        bench_figure(name, "-", "%.3f (%.0f/s vs %.0f tx/s)", subm / base, subm, base);
        snprintf(name, sizeof(name),
                 "screening submit + score + route + referrals + outbox / bare INSERT, "
                 "%d client%s",
                 clients, clients == 1 ? "" : "s");
        bench_figure(name, ">= 0.8", "%.3f (%.0f/s vs %.0f tx/s)", routed / base, routed, base);
    }
    free(j.answers);
    routing_config_free(routing); /* it read the instruments' evidence classes */
    instrument_set_free(set);
    return 0;
}
