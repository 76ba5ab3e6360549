/*
 * diag.c: error collection for configuration and usage problems.
 * Formats only; never decides what to do about an error.
 */
#include <stdarg.h>

#include "diag.h"

void diag_init(struct diag *d, FILE *out)
{
    d->out = out;
    d->errors = 0;
    d->warnings = 0;
}

void diag_verror(struct diag *d, const char *file, int line, int col, const char *fmt, va_list ap)
{
    d->errors++;
    if (d->out == NULL)
        return;
    if (file != NULL && line > 0 && col > 0)
        fprintf(d->out, "%s:%d:%d: ", file, line, col);
    else if (file != NULL && line > 0)
        fprintf(d->out, "%s:%d: ", file, line);
    else if (file != NULL)
        fprintf(d->out, "%s: ", file);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    fflush(d->out);
}

void diag_error(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_verror(d, file, line, col, fmt, ap);
    va_end(ap);
}

void diag_at(struct diag *d, const config_setting_t *s, const char *fallback_file, const char *fmt,
             ...)
{
    const char *file = s != NULL ? config_setting_source_file(s) : NULL;
    int line = s != NULL ? (int)config_setting_source_line(s) : 0;
    va_list ap;
    va_start(ap, fmt);
    diag_verror(d, file != NULL ? file : fallback_file, line, 0, fmt, ap);
    va_end(ap);
}

void diag_warn(struct diag *d, const char *fmt, ...)
{
    va_list ap;
    d->warnings++;
    if (d->out == NULL)
        return;
    fputs("warning: ", d->out);
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
    fputc('\n', d->out);
}

void diag_log(const char *component, const char *level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (char *p = line; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "casehost: %s: %s: %s\n", level, component, line);
    fflush(stderr);
}
