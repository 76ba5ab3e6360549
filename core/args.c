/*
 * args.c: the one argument parser (see args.h). Values are refused, never
 * fixed up: " 7", "+7", "12abc" and 99999999999999999999 are not ids.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

const struct ch_arg *args_at(const struct ch_command_spec *spec, size_t i)
{
    return (const struct ch_arg *)(const void *)((const char *)spec->args + i * spec->arg_size);
}

static int is_option(const struct ch_arg *a)
{
    return strncmp(a->name, "--", 2) == 0;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Decimal digits only, in [lo, hi]. */
static int whole(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v;
    if (s == NULL || !(s[0] >= '0' && s[0] <= '9'))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static void enum_list(const struct ch_arg *a, char *buf, size_t len, const char *sep)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *const *v = a->values; v != NULL && *v != NULL && n < len; v++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", v == a->values ? "" : sep, *v);
}

static int yes_no(const char *s, long long *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false",
                                                                                "off", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0)
            return (int)(*out = 1);
        if (strcmp(s, no[i]) == 0)
            return (int)(*out = 0);
    }
    return -1;
}

/* Converts one value of a; 0 or -1 with the message. */
static int convert(const struct ch_arg *a, const char *text, struct ch_value *v, char *err,
                   size_t errlen)
{
    char list[256];
    switch (a->type) {
    case CH_ARG_ID:
        if (whole(text, 1, INT64_MAX, &v->num) != 0)
            return fail(err, errlen, "%s: '%s' is not an id", a->name, text);
        break;
    case CH_ARG_INT: {
        long long lo = a->min, hi = a->max;
        if (hi == 0) /* no upper bound */
            hi = INT64_MAX;
        if (whole(text, lo < 0 ? 0 : lo, hi, &v->num) != 0) {
            if (hi == INT64_MAX)
                return fail(err, errlen, "%s: '%s' is not a whole number of at least %lld", a->name,
                            text, lo);
            return fail(err, errlen, "%s: '%s' is not a whole number from %lld to %lld", a->name,
                        text, lo, hi);
        }
        break;
    }
    case CH_ARG_ENUM:
        for (const char *const *w = a->values; *w != NULL; w++)
            if (strcmp(*w, text) == 0) {
                v->num = w - a->values;
                goto ok;
            }
        enum_list(a, list, sizeof(list), ", ");
        return fail(err, errlen, "%s: '%s' is not one of %s", a->name, text, list);
    case CH_ARG_BOOL:
        if (yes_no(text, &v->num) < 0)
            return fail(err, errlen, "%s: '%s' is not yes or no", a->name, text);
        break;
    case CH_ARG_TEXT:
    case CH_ARG_DATE:
    case CH_ARG_TIMESTAMP:
    case CH_ARG_FILE:
        for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
            if (iscntrl(*c) && !(a->type == CH_ARG_TEXT && (*c == '\n' || *c == '\t')))
                return fail(err, errlen, "%s: control characters are not allowed", a->name);
        if (a->type != CH_ARG_TEXT && text[0] == '\0')
            return fail(err, errlen, "%s: empty value", a->name);
        break;
    }
ok:
    v->text = text;
    return 0;
}

/* Records one more value of a repeated argument. */
static int add(const struct ch_arg *a, const char *text, struct ch_value *v, char *err,
               size_t errlen)
{
    const char **list;
    if (v->given > 0 && !(a->flags & CH_ARG_REPEAT))
        return fail(err, errlen, "%s given twice", a->name);
    if (convert(a, text, v, err, errlen) != 0)
        return -1;
    if (a->flags & CH_ARG_REPEAT) {
        list = realloc((void *)v->list, (v->given + 2) * sizeof(*list));
        if (list == NULL)
            return fail(err, errlen, "out of memory");
        list[v->given] = text;
        list[v->given + 1] = NULL;
        v->list = list;
    }
    v->given++;
    return 0;
}

static const struct ch_arg *find_option(const struct ch_command_spec *spec, const char *name,
                                        size_t len, size_t *index)
{
    for (size_t i = 0; i < spec->n_args; i++) {
        const struct ch_arg *a = args_at(spec, i);
        if (is_option(a) && strlen(a->name) == len && strncmp(a->name, name, len) == 0) {
            *index = i;
            return a;
        }
    }
    return NULL;
}

static int parse(const struct ch_command_spec *spec, int argc, char **argv, int from,
                 struct ch_value *vals, int complete, char *err, size_t errlen)
{
    size_t next_pos = 0; /* index into the table of the next positional to fill */
    int options_done = 0;

    memset(vals, 0, spec->n_args * sizeof(*vals));
    for (int i = from; i < argc; i++) {
        const char *s = argv[i];
        if (!options_done && strcmp(s, "--") == 0) {
            options_done = 1;
            continue;
        }
        if (!options_done && strncmp(s, "--", 2) == 0) {
            const char *eq = strchr(s, '=');
            size_t len = eq != NULL ? (size_t)(eq - s) : strlen(s), idx;
            const struct ch_arg *a = find_option(spec, s, len, &idx);
            const char *value = eq != NULL ? eq + 1 : NULL;
            long long yn;
            if (a == NULL)
                return fail(err, errlen, "unknown option '%.*s'", (int)len, s);
            if (a->type == CH_ARG_BOOL) {
                /* Bare means yes; a following yes/no is its value. */
                if (value == NULL && i + 1 < argc && yes_no(argv[i + 1], &yn) >= 0)
                    value = argv[++i];
                if (add(a, value != NULL ? value : "yes", &vals[idx], err, errlen) != 0)
                    return -1;
                continue;
            }
            if (value == NULL) {
                if (i + 1 >= argc)
                    return fail(err, errlen, "%s needs a value", a->name);
                value = argv[++i];
            }
            if (add(a, value, &vals[idx], err, errlen) != 0)
                return -1;
            continue;
        }
        /* A positional: the next one in the table, or more of a repeated last one. */
        while (next_pos < spec->n_args && is_option(args_at(spec, next_pos)))
            next_pos++;
        if (next_pos >= spec->n_args) {
            size_t last = spec->n_args;
            while (last-- > 0)
                if (!is_option(args_at(spec, last)))
                    break;
            if (last < spec->n_args && (args_at(spec, last)->flags & CH_ARG_REPEAT)) {
                if (add(args_at(spec, last), s, &vals[last], err, errlen) != 0)
                    return -1;
                continue;
            }
            return fail(err, errlen, "unexpected argument '%s'", s);
        }
        if (add(args_at(spec, next_pos), s, &vals[next_pos], err, errlen) != 0)
            return -1;
        if (!(args_at(spec, next_pos)->flags & CH_ARG_REPEAT))
            next_pos++;
    }
    for (size_t i = 0; i < spec->n_args && complete; i++) {
        const struct ch_arg *a = args_at(spec, i);
        if ((a->flags & CH_ARG_REQUIRED) && vals[i].given == 0)
            return fail(err, errlen, "missing %s", a->name);
    }
    return 0;
}

int args_parse(const struct ch_command_spec *spec, int argc, char **argv, int from,
               struct ch_value *vals, char *err, size_t errlen)
{
    return parse(spec, argc, argv, from, vals, 1, err, errlen);
}

int args_prefill(const struct ch_command_spec *spec, int argc, char **argv, int from,
                 struct ch_value *vals, char *err, size_t errlen)
{
    return parse(spec, argc, argv, from, vals, 0, err, errlen);
}

void args_release(const struct ch_command_spec *spec, struct ch_value *vals)
{
    for (size_t i = 0; i < spec->n_args; i++) {
        free((void *)vals[i].list);
        vals[i].list = NULL;
    }
}

/* ------------------------------------------------------------- usage --- */

static void metavar(const struct ch_arg *a, char *buf, size_t len)
{
    static const char *const by_type[] = {
        [CH_ARG_ID] = "ID",       [CH_ARG_INT] = "N",          [CH_ARG_TEXT] = "TEXT",
        [CH_ARG_DATE] = "DATE",   [CH_ARG_TIMESTAMP] = "TIME", [CH_ARG_ENUM] = "",
        [CH_ARG_BOOL] = "yes|no", [CH_ARG_FILE] = "FILE",
    };
    if (a->metavar != NULL) {
        snprintf(buf, len, "%s", a->metavar);
    } else if (a->type == CH_ARG_ENUM) {
        enum_list(a, buf, len, "|");
    } else if (!is_option(a)) {
        size_t i = 0;
        for (; a->name[i] != '\0' && i + 1 < len; i++)
            buf[i] = (char)toupper((unsigned char)a->name[i]);
        buf[i] = '\0';
    } else {
        snprintf(buf, len, "%s", by_type[a->type]);
    }
}

static void arg_usage(const struct ch_arg *a, FILE *f)
{
    char mv[256];
    int optional = !(a->flags & CH_ARG_REQUIRED);
    metavar(a, mv, sizeof(mv));
    fputc(' ', f);
    if (optional)
        fputc('[', f);
    if (is_option(a) && a->type == CH_ARG_BOOL)
        fputs(a->name, f);
    else if (is_option(a))
        fprintf(f, "%s %s", a->name, mv);
    else
        fputs(mv, f);
    if (optional)
        fputc(']', f);
    if (a->flags & CH_ARG_REPEAT)
        fputs("...", f);
}

void args_usage(const struct ch_command_spec *spec, FILE *f)
{
    fputs(spec->verb, f);
    if (spec->sub != NULL)
        fprintf(f, " %s", spec->sub);
    /* Positionals first, as they are typed. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < spec->n_args; i++) {
            const struct ch_arg *a = args_at(spec, i);
            if (is_option(a) == pass)
                arg_usage(a, f);
        }
}

void args_help(const struct ch_command_spec *spec, FILE *f)
{
    fputs("  ", f);
    args_usage(spec, f);
    fprintf(f, "\n      %s\n", spec->help != NULL ? spec->help : "");
    for (size_t i = 0; i < spec->n_args; i++) {
        const struct ch_arg *a = args_at(spec, i);
        char mv[256], left[320];
        metavar(a, mv, sizeof(mv));
        if (!is_option(a))
            snprintf(left, sizeof(left), "%s", mv);
        else if (a->type == CH_ARG_BOOL)
            snprintf(left, sizeof(left), "%s", a->name);
        else
            snprintf(left, sizeof(left), "%s %s", a->name, mv);
        fprintf(f, "        %-28s %s\n", left, a->help != NULL ? a->help : "");
    }
}

/* ------------------------------------------------------------- checks --- */

static int word(const char *s)
{
    if (s == NULL || !islower((unsigned char)s[0]))
        return 0;
    for (; *s != '\0'; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' && *s != '_')
            return 0;
    return 1;
}

int args_check_spec(const struct ch_command_spec *spec, char *err, size_t errlen)
{
    int seen_optional_positional = 0, seen_repeat = 0;
    if (spec->size < offsetof(struct ch_command_spec, flags) + sizeof(spec->flags))
        return fail(err, errlen, "command spec is %zu bytes, older than ABI 1.1's", spec->size);
    if (!word(spec->verb) || (spec->sub != NULL && !word(spec->sub)) || spec->run == NULL)
        return fail(err, errlen,
                    "command '%s%s%s': a verb and sub are lower-case words and it "
                    "needs a handler",
                    spec->verb ? spec->verb : "(null)", spec->sub ? " " : "",
                    spec->sub ? spec->sub : "");
    if (spec->n_args > 0 && (spec->args == NULL || spec->arg_size < sizeof(struct ch_arg)))
        return fail(err, errlen, "command '%s': argument table missing or of the wrong size",
                    spec->verb);
    for (size_t i = 0; i < spec->n_args; i++) {
        const struct ch_arg *a = args_at(spec, i);
        int opt = a->name != NULL && is_option(a);
        if (a->name == NULL || !word(opt ? a->name + 2 : a->name))
            return fail(err, errlen, "command '%s': argument %zu has no well-formed name",
                        spec->verb, i + 1);
        if (a->type < CH_ARG_ID || a->type > CH_ARG_FILE)
            return fail(err, errlen, "command '%s': %s has an unknown type", spec->verb, a->name);
        if (a->type == CH_ARG_ENUM && (a->values == NULL || a->values[0] == NULL))
            return fail(err, errlen, "command '%s': enum %s has no values", spec->verb, a->name);
        if (a->type == CH_ARG_BOOL && !opt)
            return fail(err, errlen, "command '%s': %s: a yes/no argument must be an option",
                        spec->verb, a->name);
        if (a->type == CH_ARG_INT && (a->min < 0 || (a->max != 0 && a->min > a->max)))
            return fail(err, errlen, "command '%s': %s: bounds must be 0 <= min <= max", spec->verb,
                        a->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(args_at(spec, j)->name, a->name) == 0)
                return fail(err, errlen, "command '%s': %s declared twice", spec->verb, a->name);
        if (!opt) {
            /* Optional positionals may follow each other; nothing follows a repeated one. */
            if (seen_repeat || (seen_optional_positional && (a->flags & CH_ARG_REQUIRED)))
                return fail(err, errlen,
                            "command '%s': positional %s follows an optional or repeated one",
                            spec->verb, a->name);
            if (!(a->flags & CH_ARG_REQUIRED))
                seen_optional_positional = 1;
            if (a->flags & CH_ARG_REPEAT)
                seen_repeat = 1;
        }
    }
    return 0;
}
