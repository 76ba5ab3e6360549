/*
 * routing_bench.c: how fast routing compiles its rules and decides a case
 * (plugins/trafficking/routing*.c). A standalone program for tuning; never
 * linked into the plugin. It prints a checksum so the work cannot be optimised away,
 * and a FIGURE line (figure.h) per figure.
 *
 *   routing_bench [N [CONFDIR]]     N decisions over sample cases with CONFDIR's
 *                                   destinations.cfg, routing.cfg and instruments/
 *                                   (default 200000, conf/trafficking)
 *   routing_bench --compile [N]     compile N generated rules (default 10000), and
 *                                   load a generated routing.cfg as large as the
 *                                   loader's 1 MiB file limit allows
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "figure.h"
#include "routing/routing.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void report(void *ud, const char *file, int line, int col, const char *msg)
{
    (void)ud;
    fprintf(stderr, "%s:%d:%d: %s\n", file, line, col, msg);
}

/* The i-th generated rule expression: every one distinct, each with its own indicator call. */
static void generated_when(size_t i, char *buf, size_t len)
{
    static const char *const shapes[] = {
        "minor and (domain_score(\"sex_trafficking\") > %zu or indicator(\"item_%zu\"))",
        "not minor and result in [\"positive\", \"possible\"] and (score >= %zu or "
        "indicator(\"item_%zu\"))",
        "state == \"CA\" and age < %zu and not consent(\"p_%zu\")",
        "(control_flag or recruitment_flag) and runaway_episodes > %zu and "
        "safe_channel(\"c_%zu\")",
    };
    snprintf(buf, len, shapes[i % 4], i % 7, i);
}

/* Compiles n rules as the loader does (one shared resolver, routing's functions). */
static int bench_compile(size_t n)
{
    struct facts_resolver res;
    struct rule_prog **progs = calloc(n, sizeof(*progs));
    char src[300];
    size_t nodes = 0;
    if (progs == NULL)
        return 1;
    facts_resolver_init(&res, FACTS_GROUP_ALL, routing__fns, ROUTING__FN_COUNT, NULL);
    struct rule_schema schema = facts_resolver_schema(&res);
    double t0 = now_ms();
    for (size_t i = 0; i < n; i++) {
        struct rule_error err;
        generated_when(i, src, sizeof(src));
        progs[i] = rule_compile(src, &schema, &err);
        if (progs[i] == NULL) {
            fprintf(stderr, "rule %zu: col %d: %s\n", i, err.col, err.msg);
            return 1;
        }
        nodes += rule_node_count(progs[i]);
    }
    double ms = now_ms() - t0;
    printf("routing compile: %zu rules in %.1f ms (%.2f us/rule; %zu nodes, %zu fact slots)\n", n,
           ms, ms * 1000.0 / (double)n, nodes, facts_resolver_slot_count(&res));
    bench_figure("routing compile, generated rule", "-", "%.2f us per rule",
                 ms * 1000.0 / (double)n);
    for (size_t i = 0; i < n; i++)
        rule_free(progs[i]);
    free(progs);
    facts_resolver_release(&res);
    return 0;
}

/* Writes a routing.cfg of n generated rules into path; returns its size in bytes. */
static long write_rules(const char *path, size_t n)
{
    static const char *const refer[] = {"\"kind:child_welfare\", \"kind:law_enforcement\"",
                                        "\"kind:hotline\"", "\"kind:victim_services\"",
                                        "\"kind:law_enforcement\""};
    char when[300];
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "rules = (\n");
    for (size_t i = 0; i < n; i++) {
        generated_when(i, when, sizeof(when));
        /* escape the quotes of the expression for libconfig */
        fprintf(f, "{name=\"r%zu\";priority=%zu;when=\"", i, i + 1);
        for (const char *p = when; *p; p++) {
            if (*p == '"')
                fputc('\\', f);
            fputc(*p, f);
        }
        fprintf(f, "\";refer=[%s];basis=\"%s\";urgency=\"72h\";due_hours=72;stop=false;}%s\n",
                refer[i % 4], i % 4 == 0 ? "mandatory_report" : "consent", i + 1 < n ? "," : "");
    }
    fprintf(f, ");\n");
    long size = ftell(f);
    fclose(f);
    return size;
}

/* Loads the shipped destinations with the largest generated routing.cfg under 1 MiB. */
static int bench_load(void)
{
    char path[] = "/tmp/routing_bench_XXXXXX";
    int fd = mkstemp(path);
    size_t n = 4000;
    long size;
    if (fd < 0)
        return 1;
    close(fd);
    while ((size = write_rules(path, n + 500)) > 0 && size < 1024 * 1024)
        n += 500;
    size = write_rules(path, n);
    struct routing_config *cfg = NULL;
    double t0 = now_ms();
    int rc = routing_config_load("conf/trafficking/destinations.cfg", path, report, NULL, &cfg);
    double ms = now_ms() - t0;
    unlink(path);
    if (rc != 0)
        return 1;
    printf("routing load: %zu rules (%ld bytes) parsed, checked and compiled in %.1f ms "
           "(%.2f us/rule)\n",
           n, size, ms, ms * 1000.0 / (double)n);
    bench_figure("routing load, largest routing.cfg (1 MiB)", "-", "%.1f ms (%zu rules)", ms, n);
    routing_config_free(cfg);
    return 0;
}

/* Sample cases: a minor report, a foreign-national minor's disclosure, an adult with and
 * without consent, an unsafe phone, imminent danger, a labour screen, a negative screen.
 * Their evidence comes from the items named, through the shipped instruments' classes. */
static const char *const cases[] = {
    "{\"age\":15,\"age_known\":true,\"state\":\"CA\",\"screening\":{\"instrument\":\"youth_quick\","
    "\"result\":\"positive\"},\"indicators\":[\"exchanged_sex\"]}",
    "{\"age\":14,\"age_known\":true,\"state\":\"NV\",\"flags\":{\"foreign_national\":true},"
    "\"screening\":{\"instrument\":\"youth_quick\",\"result\":\"positive\",\"stopped\":true},"
    "\"indicators\":[\"exchanged_sex\",\"someone_making_you_now\"]}",
    "{\"age\":30,\"age_known\":true,\"state\":\"CA\",\"county\":\"Alameda\",\"screening\":"
    "{\"instrument\":\"adult\",\"result\":\"positive\"},\"indicators\":[\"papers_kept\","
    "\"threats\",\"not_free_to_leave\"]}",
    "{\"age\":30,\"age_known\":true,\"state\":\"CA\",\"screening\":{\"instrument\":\"adult\","
    "\"result\":\"positive\"},\"indicators\":[\"papers_kept\",\"threats\"],\"consents\":[{\"id\":7,"
    "\"purpose\":\"referral\",\"recipients\":[\"kind:law_enforcement\",\"nhth\"],\"active\":true}]"
    "}",
    "{\"age\":30,\"age_known\":true,\"state\":\"NV\",\"flags\":{\"control\":true},"
    "\"safe_contact\":{\"trafficker_controls_phone\":true}}",
    "{\"age\":30,\"age_known\":true,\"state\":\"CA\",\"flags\":{\"imminent_danger\":true}}",
    "{\"age\":16,\"age_known\":true,\"state\":\"CA\",\"screening\":{\"instrument\":"
    "\"staff_observation\",\"result\":\"possible\"},\"indicators\":[\"works_for_little_or_no_pay\"]"
    "}",
    "{\"age\":50,\"age_known\":true,\"state\":\"NV\",\"screening\":{\"instrument\":\"adult\","
    "\"result\":\"negative\"}}",
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static int bench_decide(long n, const char *dir)
{
    char dpath[1024], rpath[1024], ipath[1024], err[300];
    struct routing_input in[N_CASES];
    struct routing_config *cfg = NULL;
    struct instrument_set *set = NULL;
    unsigned long checksum = 0;
    snprintf(dpath, sizeof(dpath), "%s/destinations.cfg", dir);
    snprintf(rpath, sizeof(rpath), "%s/routing.cfg", dir);
    snprintf(ipath, sizeof(ipath), "%s/instruments", dir);
    /* The rules read each screening's evidence through its instrument's classes. */
    if (instrument_set_load(ipath, report, NULL, &set) != 0 ||
        routing_config_load_checked(dpath, rpath, set, report, NULL, &cfg) != 0) {
        instrument_set_free(set);
        return 1;
    }
    for (size_t i = 0; i < N_CASES; i++) {
        json_t *j = json_loads(cases[i], 0, NULL);
        if (j == NULL || routing_input_from_json(j, &in[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "case %zu: %s\n", i, err);
            return 1;
        }
        json_decref(j);
    }
    for (int pass = 0; pass < 2; pass++) {
        double t0 = now_ms();
        for (long k = 0; k < n; k++) {
            struct routing_decision d;
            if (routing_decide(cfg, &in[k % N_CASES], &d) != 0)
                return 1;
            checksum += d.n_referrals + d.n_unused;
            if (pass == 1) {
                json_t *j = routing_decision_to_json(&d);
                checksum += json_array_size(json_object_get(j, "rules"));
                json_decref(j);
            }
            routing_decision_release(&d);
        }
        double ms = now_ms() - t0;
        printf("routing decide%s: %ld decisions over %zu rules in %.1f ms: %.0f decisions/s "
               "(%.2f us each)\n",
               pass ? " + to_json" : "", n, cfg->n_rules, ms, (double)n / (ms / 1000.0),
               ms * 1000.0 / (double)n);
        bench_figure(pass ? "routing decide + to_json, shipped rules"
                          : "routing decide, shipped rules",
                     "-", "%.2f us per decision", ms * 1000.0 / (double)n);
    }
    printf("checksum %lu\n", checksum);
    for (size_t i = 0; i < N_CASES; i++)
        routing_input_release(&in[i]);
    routing_config_free(cfg);
    instrument_set_free(set);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--compile") == 0) {
        long n = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
        if (n <= 0)
            return 2;
        return bench_compile((size_t)n) || bench_load();
    }
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (n <= 0)
        return 2;
    return bench_decide(n, argc > 2 ? argv[2] : "conf/trafficking");
}
