/*
 * figure.h: the one machine-readable line a bench figure prints beside its
 * human text, "FIGURE\t<name>\t<goal>\t<value>", which scripts/bench.sh
 * gathers into the summary table. It only reports: it never judges a figure
 * against its goal, and it stays free of I/O other than stdout.
 */
#ifndef BENCH_FIGURE_H
#define BENCH_FIGURE_H

#include <stdarg.h>
#include <stdio.h>

/*
 * Prints one figure line: name and goal are borrowed ("-" or NULL: the issue
 * gives no goal); the value is formatted by fmt and carries its unit. Flushed
 * at once so a later fork() cannot print it twice.
 */
__attribute__((format(printf, 3, 4))) static inline void
bench_figure(const char *name, const char *goal, const char *fmt, ...)
{
    va_list ap;
    printf("FIGURE\t%s\t%s\t", name, goal != NULL ? goal : "-");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

#endif
