/*
 * host_bench.c: figures for `make bench` on the host core.
 *   host_bench load CONFIG N [HOW GOAL]
 *                                  plugin load time (dlopen, init, fini, dlclose);
 *                                  HOW names the way it loads ("files parsed",
 *                                  "compiled copy") and GOAL its goal ("-": none)
 *   host_bench cases CONFIG N USER [CLIENTS]
 *                                  case creation against a bare single-row INSERT
 *                                  transaction on the same server (CASEHOST_DB), at
 *                                  1 client and at CLIENTS processes (default 1)
 * Prints figures (and their FIGURE lines, figure.h); asserts nothing about speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "bench_db.h"
#include "figure.h"
#include "db.h"
#include "loader.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load_config(const char *path, struct hostcfg *hc, struct diag *d)
{
    diag_init(d, stderr);
    if (hostcfg_load(hc, path, d) != 0) {
        fprintf(stderr, "host_bench: bad config %s\n", path);
        return -1;
    }
    return 0;
}

static int bench_load(const char *cfgpath, long n, const char *how, const char *goal)
{
    struct hostcfg hc;
    struct diag d;
    if (load_config(cfgpath, &hc, &d) != 0)
        return 1;
    for (size_t p = 0; p < hc.n_plugins; p++) {
        double t0 = now();
        for (long i = 0; i < n; i++) {
            struct loader l;
            char err[1024];
            memset(&l, 0, sizeof(l));
            l.diag = &d;
            l.config_dir = hc.dir;
            if (loader_load_one(&l, &hc.plugins[p], err, sizeof(err)) != 0) {
                fprintf(stderr, "host_bench: %s\n", err);
                return 1;
            }
            loader_release(&l);
        }
        double us = (now() - t0) / (double)n * 1e6;
        char name[256];
        printf(
            "plugin load %-12s %8.1f us per load (dlopen + init + fini + dlclose, %ld runs%s%s)\n",
            hc.plugins[p].name, us, n, how != NULL ? ", " : "", how != NULL ? how : "");
        snprintf(name, sizeof(name), "plugin load of %s.so%s%s (dlopen + init + fini)",
                 hc.plugins[p].name, how != NULL ? ", " : "", how != NULL ? how : "");
        bench_figure(name, goal != NULL ? goal : "-", "%.2f ms", us / 1000.0);
    }
    hostcfg_release(&hc);
    return 0;
}

/* The CLI's path for `case new` (ctx and l borrowed), without process start and connect. */
static int case_one(struct ch_ctx *ctx, struct loader *l)
{
    int64_t id;
    if (db_start(ctx->conn, &ctx->dbuser, ctx->err, sizeof(ctx->err)) != 0 ||
        case_create(ctx, l, "{\"title\":\"bench case\",\"state\":\"CA\"}", &id) != 0 ||
        db_run(ctx->conn, "COMMIT", 0, NULL, ctx->err, sizeof(ctx->err)) != 0) {
        fprintf(stderr, "host_bench: case new: %s\n", ctx->err);
        return -1;
    }
    return 0;
}

/*
 * One client's share (units k, k + clients, ...) of n, on a connection of
 * its own as user (NULL: the owner's, for the baseline); l (borrowed) NULL:
 * the baseline. 0, or -1 after saying why.
 */
static int client_run(long n, int k, int clients, const char *user, struct loader *l)
{
    struct ch_ctx ctx;
    char err[1024];
    int rc = -1;
    memset(&ctx, 0, sizeof(ctx));
    ctx.out = out_new(0);
    ctx.conn = db_connect(bench_conninfo(user), err, sizeof(err));
    if (ctx.conn == NULL) {
        fprintf(stderr, "host_bench: %s\n", err);
        goto out;
    }
    for (long i = k; i < n; i += clients)
        if ((l != NULL ? case_one(&ctx, l) : bench_baseline_insert(ctx.conn, "host_bench")) != 0)
            goto out;
    rc = 0;
out:
    PQfinish(ctx.conn);
    out_free(ctx.out);
    return rc;
}

/*
 * n units split over clients processes (forked after the plugins loaded, as
 * a preforking server would); units per second, or -1.
 */
static double run(long n, int clients, const char *user, struct loader *l)
{
    double t0 = now();
    for (int k = 0; k < clients; k++) {
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0)
            _exit(client_run(n, k, clients, user, l) != 0);
    }
    for (int k = 0; k < clients; k++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return -1;
    }
    return (double)n / (now() - t0);
}

/* The round trips of one `case new` as user (l borrowed) beyond the pipelined BEGIN; -1: failed. */
static double round_trips_of_case(const char *user, struct loader *l)
{
    struct ch_ctx ctx;
    char err[1024];
    unsigned long rt0;
    double rt = -1;
    memset(&ctx, 0, sizeof(ctx));
    ctx.out = out_new(0);
    ctx.conn = db_connect(bench_conninfo(user), err, sizeof(err));
    rt0 = db_round_trips;
    if (ctx.conn != NULL && case_one(&ctx, l) == 0)
        rt = (double)(db_round_trips - rt0 - 1);
    PQfinish(ctx.conn);
    out_free(ctx.out);
    return rt;
}

static int bench_cases(const char *cfgpath, long n, const char *user, int clients)
{
    struct hostcfg hc;
    struct diag d;
    struct loader l;
    char plugins[256] = "", name[512];
    int levels[2] = {1, clients};
    int traff = 0;
    double rt;

    if (load_config(cfgpath, &hc, &d) != 0 || loader_load_all(&l, &hc, &d) != 0)
        return 1;
    for (size_t p = 0; p < l.n_plugins; p++) {
        size_t used = strlen(plugins);
        snprintf(plugins + used, sizeof(plugins) - used, "%s%s", p ? ", " : "", hc.plugins[p].name);
        traff |= strcmp(hc.plugins[p].name, "trafficking") == 0;
    }
    rt = round_trips_of_case(user, &l);
    printf("case new with %s: %.0f host round trip(s) per case new (BEGIN+whoami pipelined, "
           "case_new(), COMMIT; plugin hooks add their own)\n",
           l.n_plugins ? plugins : "no plugin", rt);
    for (int k = 0; k < (clients > 1 ? 2 : 1); k++) {
        double base_tps = run(n, levels[k], NULL, NULL);
        double case_tps = base_tps < 0 ? -1 : run(n, levels[k], user, &l);
        if (base_tps < 0 || case_tps < 0) {
            fprintf(stderr, "host_bench: a client failed\n");
            return 1;
        }
        printf("%d client%s: baseline single-row INSERT %6.0f tx/s | case new %6.0f cases/s, "
               "ratio %.2f (%ld runs)\n",
               levels[k], levels[k] == 1 ? " " : "s", base_tps, case_tps, case_tps / base_tps, n);
        snprintf(name, sizeof(name), "case new (%s) / bare INSERT, %d client%s",
                 l.n_plugins ? plugins : "no plugin", levels[k], levels[k] == 1 ? "" : "s");
        /* The goal is for the trafficking plugin; the others are for comparison. */
        bench_figure(name, traff ? ">= 0.8" : "-", "%.3f (%.0f cases/s vs %.0f tx/s)",
                     case_tps / base_tps, case_tps, base_tps);
    }
    loader_release(&l);
    hostcfg_release(&hc);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "load") == 0)
        return bench_load(argv[2], strtol(argv[3], NULL, 10), argc >= 6 ? argv[4] : NULL,
                          argc >= 6 ? argv[5] : NULL);
    if (argc >= 5 && strcmp(argv[1], "cases") == 0) {
        int clients = argc >= 6 ? (int)strtol(argv[5], NULL, 10) : 1;
        if (clients < 1 || clients > 64) {
            fprintf(stderr, "host_bench: CLIENTS 1..64\n");
            return 2;
        }
        return bench_cases(argv[2], strtol(argv[3], NULL, 10), argv[4], clients);
    }
    fprintf(stderr, "usage: host_bench load CONFIG N [HOW GOAL] | cases CONFIG N USER [CLIENTS]\n");
    return 2;
}
