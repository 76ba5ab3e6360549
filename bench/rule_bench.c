/*
 * rule_bench.c: measures how fast the rule language (plugins/trafficking/rule.c)
 * evaluates and compiles. A standalone program for tuning; never linked into the
 * plugin, and it must print a checksum so the measured work cannot be optimised away.
 * Each figure also prints a FIGURE line (figure.h).
 *
 *   rule_bench [N]             evaluate a routing rule N times (default 1000000),
 *                              without a trace (the flat form) and with one (the tree walk)
 *   rule_bench --plain [N]     only without a trace; --traced [N] only with one
 *   rule_bench --compile [N]   compile N distinct rules (default 10000)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "figure.h"
#include "rules/rule.h"

#define N_FIXED 4
#define CALL_SLOTS 1024 /* calls hash into this many slots after the fixed names */

static const char routing_rule[] =
    "(minor or age == null) and (indicator(\"exchanged_sex\") or indicator(\"paid_for_sex\") "
    "or domain_score(\"sex_trafficking\") >= 2) and state in [\"CA\",\"NV\",\"OR\",\"WA\"] "
    "and not consent(\"law_enforcement\")";

static const struct {
    const char *name;
    enum rule_type type;
} fixed_names[N_FIXED] = {
    {"minor", RULE_BOOL},
    {"age", RULE_NUM},
    {"age_known", RULE_BOOL},
    {"state", RULE_STR},
};

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/*
 * A resolver that costs next to nothing, so the compile figures are the
 * compiler's: calls hash to a slot (collisions do not matter for timing).
 */
static int bench_resolve(void *ud, const char *fn, const char *name, enum rule_type *type,
                         char *err, size_t errlen)
{
    (void)ud;
    if (fn == NULL) {
        for (int i = 0; i < N_FIXED; i++) {
            if (strcmp(fixed_names[i].name, name) == 0) {
                *type = fixed_names[i].type;
                return i;
            }
        }
        snprintf(err, errlen, "unknown name '%s'", name);
        return -1;
    }
    if (strcmp(fn, "indicator") == 0 || strcmp(fn, "consent") == 0)
        *type = RULE_BOOL;
    else if (strcmp(fn, "domain_score") == 0)
        *type = RULE_NUM;
    else {
        snprintf(err, errlen, "unknown function '%s'", fn);
        return -1;
    }
    return N_FIXED + (int)((hash(fn) ^ hash(name)) % CALL_SLOTS);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a positive count; returns -1 on anything else. */
static long parse_count(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || n <= 0)
        return -1;
    return n;
}

static struct rule_value b(int v)
{
    return (struct rule_value){.type = RULE_BOOL, .u.b = v};
}

static struct rule_value num(double v)
{
    return (struct rule_value){.type = RULE_NUM, .u.n = v};
}

static struct rule_value str(const char *v)
{
    return (struct rule_value){.type = RULE_STR, .u.s = v};
}

static void set_call(struct rule_value *facts, const char *fn, const char *arg, struct rule_value v)
{
    enum rule_type type;
    char err[64];
    facts[bench_resolve(NULL, fn, arg, &type, err, sizeof err)] = v;
}

/* Four people: a matching minor, an adult, an unknown age out of state, nobody known. */
static void fill_people(struct rule_value facts[4][N_FIXED + CALL_SLOTS])
{
    for (int p = 0; p < 4; p++)
        for (int i = 0; i < N_FIXED + CALL_SLOTS; i++)
            facts[p][i] = (struct rule_value){.type = RULE_NULL};
    facts[0][0] = b(1);
    facts[0][1] = num(15);
    facts[0][3] = str("CA");
    set_call(facts[0], "indicator", "paid_for_sex", b(1));
    set_call(facts[0], "consent", "law_enforcement", b(0));
    facts[1][0] = b(0);
    facts[1][1] = num(34);
    facts[1][3] = str("WA");
    set_call(facts[1], "domain_score", "sex_trafficking", num(3));
    facts[2][0] = b(0);
    facts[2][3] = str("TX");
    set_call(facts[2], "indicator", "exchanged_sex", b(1));
}

/* which: 0 both, 1 without a trace only, 2 with a trace only */
static int bench_eval(long n, int which)
{
    static struct rule_value facts[4][N_FIXED + CALL_SLOTS];
    struct rule_schema schema = {.resolve = bench_resolve, .ud = NULL};
    struct rule_error err;
    struct rule_value *trace = NULL;
    int rc = EXIT_FAILURE;

    struct rule_prog *prog = rule_compile(routing_rule, &schema, &err);
    if (prog == NULL) {
        fprintf(stderr, "rule_bench: col %d: %s\n", err.col, err.msg);
        goto out;
    }
    trace = calloc(rule_node_count(prog), sizeof *trace);
    if (trace == NULL) {
        fprintf(stderr, "rule_bench: out of memory\n");
        goto out;
    }
    fill_people(facts);
    for (int with_trace = 0; with_trace < 2; with_trace++) {
        long checksum = 0;
        char name[96];
        if (which != 0 && which != 1 + with_trace)
            continue;
        double t0 = now_seconds();
        for (long i = 0; i < n; i++)
            checksum += rule_eval(prog, facts[i & 3], with_trace ? trace : NULL) * (1 + (i & 3));
        double dt = now_seconds() - t0;
        printf("eval%-7s %ld evaluations of %zu nodes in %.3f s: %.0f per second (checksum %ld)\n",
               with_trace ? "+trace" : "", n, rule_node_count(prog), dt, dt > 0 ? n / dt : 0.0,
               checksum);
        snprintf(name, sizeof(name), "rule evaluation, %zu-node routing rule, %s (wall)",
                 rule_node_count(prog), with_trace ? "traced" : "plain");
        bench_figure(name, "-", "%.1f ns per evaluation", dt * 1e9 / (double)n);
    }
    rc = EXIT_SUCCESS;
out:
    free(trace);
    rule_free(prog);
    return rc;
}

/* Rule i of the compile benchmark: the routing shape with literals that vary. */
static void make_rule(char *buf, size_t len, long i)
{
    snprintf(buf, len,
             "(minor or age == null or age < %ld) and (indicator(\"item_%ld\") or "
             "indicator(\"paid_for_sex\") or domain_score(\"domain_%ld\") >= %ld.%ld) and "
             "state in [\"S%ld\", \"NV\", \"OR\", \"WA\"] and not consent(\"purpose_%ld\")",
             12 + i % 12, i, i % 97, i % 5, i % 10, i % 50, i % 7);
}

static int bench_compile(long n)
{
    struct rule_schema schema = {.resolve = bench_resolve, .ud = NULL};
    struct rule_prog **progs = calloc((size_t)n, sizeof *progs);
    char src[512];
    long checksum = 0;
    double total = 0;
    int rc = EXIT_FAILURE;

    if (progs == NULL) {
        fprintf(stderr, "rule_bench: out of memory\n");
        goto out;
    }
    for (long i = 0; i < n; i++) {
        struct rule_error err;
        make_rule(src, sizeof src, i);
        double t0 = now_seconds();
        progs[i] = rule_compile(src, &schema, &err);
        total += now_seconds() - t0;
        if (progs[i] == NULL) {
            fprintf(stderr, "rule_bench: rule %ld: col %d: %s\n", i, err.col, err.msg);
            goto out;
        }
        checksum += (long)rule_node_count(progs[i]) + rule_slot_count(progs[i]);
    }
    printf("compile: %ld rules in %.1f ms: %.2f us per rule (checksum %ld)\n", n, total * 1e3,
           total * 1e6 / (double)n, checksum);
    bench_figure("rule compile, routing-shaped rule", "-", "%.2f us per rule",
                 total * 1e6 / (double)n);
    rc = EXIT_SUCCESS;
out:
    for (long i = 0; progs != NULL && i < n; i++)
        rule_free(progs[i]);
    free(progs);
    return rc;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = {"--compile", "--plain", "--traced"};
    int mode = -1; /* index in modes, or -1: evaluate with and without a trace */
    for (int m = 0; m < 3 && argc > 1; m++)
        if (strcmp(argv[1], modes[m]) == 0)
            mode = m;
    int shift = mode >= 0;
    const char *count = argc > 1 + shift ? argv[1 + shift] : NULL;
    long n = count == NULL ? (mode == 0 ? 10000 : 1000000) : parse_count(count);
    if (n < 0 || argc > 2 + shift) {
        fprintf(stderr, "usage: rule_bench [--plain | --traced] [N] | rule_bench --compile [N]\n");
        return 2;
    }
    return mode == 0 ? bench_compile(n) : bench_eval(n, mode < 0 ? 0 : mode);
}
