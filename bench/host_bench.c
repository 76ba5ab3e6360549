/*
 * host_bench.c: figures for `make bench` on the host core.
 *   host_bench load CONFIG N       plugin load time (dlopen, init, fini, dlclose)
 *   host_bench cases CONFIG N USER case creation against a bare single-row INSERT
 *                                  transaction on the same server (CASEHOST_DB)
 * Prints figures; asserts nothing about speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases.h"
#include "bench_db.h"
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

static int bench_load(const char *cfgpath, long n)
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
        printf("plugin load %-12s %8.1f us per load (dlopen + init + fini + dlclose, %ld runs)\n",
               hc.plugins[p].name, (now() - t0) / (double)n * 1e6, n);
    }
    hostcfg_release(&hc);
    return 0;
}

static int bench_cases(const char *cfgpath, long n, const char *user)
{
    static const char baseline_sql[] =
        "INSERT INTO bench.baseline (agency_id, title) VALUES ($1, $2)";
    struct hostcfg hc;
    struct diag d;
    struct loader l;
    struct ch_ctx ctx;
    const char *conninfo = getenv("CASEHOST_DB");
    PGconn *base;
    double t0, base_tps, case_tps;
    unsigned long rt0;
    char err[1024];

    if (load_config(cfgpath, &hc, &d) != 0 || loader_load_all(&l, &hc, &d) != 0)
        return 1;
    memset(&ctx, 0, sizeof(ctx));
    ctx.out = out_new(0);
    ctx.conn = db_connect(bench_conninfo(user), err, sizeof(err));
    base = db_connect(conninfo, err, sizeof(err));
    if (ctx.conn == NULL || base == NULL) {
        fprintf(stderr, "host_bench: %s\n", err);
        return 1;
    }

    /* Baseline: one autocommitted single-row INSERT per transaction. */
    t0 = now();
    for (long i = 0; i < n; i++) {
        const char *params[2] = {"1", "baseline row"};
        if (db_run(base, baseline_sql, 2, params, err, sizeof(err)) != 0) {
            fprintf(stderr, "host_bench: baseline: %s\n", err);
            return 1;
        }
    }
    base_tps = (double)n / (now() - t0);

    /* The CLI's path for `case new`, without process start and connect. */
    rt0 = db_round_trips;
    t0 = now();
    for (long i = 0; i < n; i++) {
        int64_t id;
        if (db_start(ctx.conn, &ctx.dbuser, ctx.err, sizeof(ctx.err)) != 0 ||
            case_create(&ctx, &l, "{\"title\":\"bench case\",\"state\":\"CA\"}", &id) != 0 ||
            db_run(ctx.conn, "COMMIT", 0, NULL, ctx.err, sizeof(ctx.err)) != 0) {
            fprintf(stderr, "host_bench: case new: %s\n", ctx.err);
            return 1;
        }
    }
    case_tps = (double)n / (now() - t0);

    printf("baseline single-row INSERT transaction  %8.0f tx/s (%ld runs)\n", base_tps, n);
    printf("case new (%zu plugin%s loaded)           %8.0f cases/s\n", l.n_plugins,
           l.n_plugins == 1 ? "" : "s", case_tps);
    printf("ratio case new / baseline               %8.2f\n", case_tps / base_tps);
    printf("host round trips per case new           %8.1f (BEGIN+whoami pipelined, case_new(), "
           "COMMIT; plugin hooks add their own)\n",
           (double)(db_round_trips - rt0 - (unsigned long)n) / (double)n);
    PQfinish(base);
    PQfinish(ctx.conn);
    out_free(ctx.out);
    loader_release(&l);
    hostcfg_release(&hc);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "load") == 0)
        return bench_load(argv[2], strtol(argv[3], NULL, 10));
    if (argc >= 5 && strcmp(argv[1], "cases") == 0)
        return bench_cases(argv[2], strtol(argv[3], NULL, 10), argv[4]);
    fprintf(stderr, "usage: host_bench load CONFIG N | cases CONFIG N USER\n");
    return 2;
}
