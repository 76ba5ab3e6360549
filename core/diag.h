/*
 * diag.h: collects user-facing configuration and usage errors so every one of
 * them is reported ("file:line[:col]: message"), not just the first.
 * Never exits; the caller decides the exit code from the count.
 */
#ifndef CASEHOST_DIAG_H
#define CASEHOST_DIAG_H

#include <stdarg.h>
#include <stdio.h>

#include <libconfig.h>

struct diag {
    FILE *out; /* borrowed; where messages go (stderr, or a memory stream in tests) */
    int errors;
    int warnings;
};

void diag_init(struct diag *d, FILE *out);

/*
 * A long-running command's log line on stderr, "casehost: LEVEL: COMPONENT:
 * message", newlines flattened so a journal keeps one line. Never give it
 * personal data.
 */
void diag_log(const char *component, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "file:line[:col]: message"; file NULL prints the message alone, line 0 omits the line. */
void diag_error(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void diag_verror(struct diag *d, const char *file, int line, int col, const char *fmt, va_list ap);

/* An error located at a libconfig setting (its file and line). */
void diag_at(struct diag *d, const config_setting_t *s, const char *fallback_file, const char *fmt,
             ...) __attribute__((format(printf, 4, 5)));

void diag_warn(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
