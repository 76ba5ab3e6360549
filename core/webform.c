/*
 * webform.c: a typed command's table as an HTML form, and a posted form back
 * into argv for the one parser (see webform.h). It never interprets a value:
 * what a field holds is checked by args_parse exactly as if typed, so the
 * web surface cannot accept what the terminal refuses. Every text reaches
 * HTML through the html_* escapers only.
 */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "html.h"
#include "webform.h"

/* ------------------------------------------------------------- fields --- */

int web_fields_add(struct web_fields *f, const char *name, const char *value)
{
    char *n, *v;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct web_field *grown = realloc(f->v, cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        f->v = grown;
        f->cap = cap;
    }
    n = strdup(name != NULL ? name : "");
    v = strdup(value != NULL ? value : "");
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return -1;
    }
    f->v[f->n++] = (struct web_field){n, v};
    return 0;
}

const char *web_fields_get(const struct web_fields *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].name, name) == 0)
            return f->v[i].value;
    return NULL;
}

void web_fields_release(struct web_fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].value);
    }
    free(f->v);
    f->v = NULL;
    f->n = f->cap = 0;
}

/* ------------------------------------------------------------- render --- */

static int is_option(const struct ch_arg *a)
{
    return strncmp(a->name, "--", 2) == 0;
}

/* The name without its dashes: what ids and labels are made of. */
static const char *bare_name(const struct ch_arg *a)
{
    return is_option(a) ? a->name + 2 : a->name;
}

/*
 * Writes the id of control k of a (k 0: the one its label names first):
 * "f-case", "o-instrument", "o-tag.2". Positionals and options have their
 * own prefix, since "case" and "--case" may both be declared, and '.' is in
 * no argument name, so no two controls share an id.
 */
static void control_id(FILE *f, const struct ch_arg *a, size_t k)
{
    fputs(is_option(a) ? "o-" : "f-", f);
    html_attr(f, bare_name(a));
    if (k > 0)
        fprintf(f, ".%zu", k + 1);
}

/* "help-f-case": the help line's id, one per argument. */
static void help_id(FILE *f, const struct ch_arg *a)
{
    fputs("help-", f);
    control_id(f, a, 0);
}

/* "Instrument" for "--instrument", "Date of birth" for "date_of_birth". */
static void arg_label(FILE *f, const struct ch_arg *a)
{
    const char *s = bare_name(a);
    for (size_t i = 0; s[i] != '\0'; i++) {
        char one[2] = {s[i], '\0'};
        if (s[i] == '_' || s[i] == '-')
            one[0] = ' ';
        else if (i == 0 && s[i] >= 'a' && s[i] <= 'z')
            one[0] = (char)(s[i] - 'a' + 'A');
        html_text(f, one);
    }
}

static void hidden(FILE *f, const char *name, const char *value)
{
    fputs("<input type=\"hidden\" name=\"", f);
    html_attr(f, name);
    fputs("\" value=\"", f);
    html_attr(f, value);
    fputs("\">\n", f);
}

/*
 * The attributes every control of a shares: id, name (after prefix: an
 * upload's is WEBFORM_UPLOAD), required, the help it is described by.
 */
static void control_attrs(FILE *f, const struct ch_arg *a, size_t k, const char *prefix)
{
    fputs(" id=\"", f);
    control_id(f, a, k);
    fputs("\" name=\"", f);
    fputs(prefix, f);
    html_attr(f, a->name);
    fputc('"', f);
    if (k == 0 && (a->flags & CH_ARG_REQUIRED))
        fputs(" required", f);
    if (a->help != NULL) {
        fputs(" aria-describedby=\"", f);
        help_id(f, a);
        fputc('"', f);
    }
}

static void option(FILE *f, const char *value, const char *shown, int selected)
{
    fputs("<option value=\"", f);
    html_attr(f, value);
    fputc('"', f);
    if (selected)
        fputs(" selected", f);
    fputc('>', f);
    html_text(f, shown);
    fputs("</option>\n", f);
}

/* One control of a, k-th of its kind, showing value (NULL: empty). */
static void control(FILE *f, const struct ch_arg *a, size_t k, const char *value)
{
    switch (a->type) {
    case CH_ARG_ENUM:
    case CH_ARG_BOOL: {
        static const char *const yes_no[] = {"yes", "no", NULL};
        const char *const *words = a->type == CH_ARG_BOOL ? yes_no : a->values;
        fputs("<select", f);
        control_attrs(f, a, k, "");
        fputs(">\n", f);
        /* Not given is a choice of its own, unless an enum must be given. */
        if (a->type == CH_ARG_BOOL || !(a->flags & CH_ARG_REQUIRED))
            option(f, "", "", 0);
        for (; words != NULL && *words != NULL; words++)
            option(f, *words, *words, value != NULL && strcmp(value, *words) == 0);
        fputs("</select>\n", f);
        return;
    }
    case CH_ARG_ID:
        fputs("<input type=\"number\" min=\"1\"", f);
        break;
    case CH_ARG_INT:
        fprintf(f, "<input type=\"number\" min=\"%lld\"", a->min);
        if (a->max != 0)
            fprintf(f, " max=\"%lld\"", a->max);
        break;
    case CH_ARG_DATE:
        fputs("<input type=\"date\"", f);
        break;
    case CH_ARG_TIMESTAMP:
        fputs("<input type=\"text\" placeholder=\"YYYY-MM-DD HH:MM or now\"", f);
        break;
    case CH_ARG_TEXT:
        fputs("<input type=\"text\"", f);
        break;
    case CH_ARG_FILE:
        /* An upload, never a path: the server writes it to a private folder (webform.h). */
        fputs("<input type=\"file\"", f);
        control_attrs(f, a, k, WEBFORM_UPLOAD);
        fputs(">\n", f);
        return;
    }
    control_attrs(f, a, k, "");
    if (value != NULL) {
        fputs(" value=\"", f);
        html_attr(f, value);
        fputc('"', f);
    }
    fputs(">\n", f);
}

/* The initial value of control k of a from its prefill v (NULL: none). */
static const char *initial(const struct ch_arg *a, const struct ch_value *v, size_t k)
{
    if (v == NULL || v->given == 0)
        return NULL;
    if (a->type == CH_ARG_BOOL)
        return v->num ? "yes" : "no";
    if (v->list != NULL)
        return k < v->given ? v->list[k] : NULL;
    return k == 0 ? v->text : NULL;
}

/*
 * One argument: a label and a control per value, then its help line. A
 * repeated argument shows each prefilled value and one empty control more.
 * A file is an upload, shown empty: a browser never sees a server's path.
 */
static void field(FILE *f, const struct ch_arg *a, const struct ch_value *v)
{
    size_t n = 1;
    fputs("<div class=\"field\">\n", f);
    if (a->type == CH_ARG_FILE)
        v = NULL;
    else if ((a->flags & CH_ARG_REPEAT) && v != NULL && v->list != NULL)
        n = v->given + 1;
    for (size_t k = 0; k < n; k++) {
        fputs("<label for=\"", f);
        control_id(f, a, k);
        fputs("\">", f);
        arg_label(f, a);
        if (k > 0)
            fprintf(f, " (%zu)", k + 1);
        else if (a->flags & CH_ARG_REQUIRED)
            fputs(" <span class=\"required\">(required)</span>", f);
        fputs("</label>\n", f);
        control(f, a, k, initial(a, v, k));
    }
    if (a->help != NULL) {
        fputs("<p class=\"help\" id=\"", f);
        help_id(f, a);
        fputs("\">", f);
        html_text(f, a->help);
        fputs("</p>\n", f);
    }
    fputs("</div>\n", f);
}

void webform_render(FILE *f, const struct ch_command_spec *spec, const char *verb,
                    const struct ch_value *prefill, const char *csrf)
{
    int upload = 0;
    for (size_t i = 0; i < spec->n_args; i++)
        upload |= args_at(spec, i)->type == CH_ARG_FILE;
    fprintf(f, "<form method=\"post\" action=\"/run\" class=\"command\"%s>\n",
            upload ? " enctype=\"multipart/form-data\"" : "");
    hidden(f, "_csrf", csrf);
    hidden(f, "_verb", verb != NULL ? verb : spec->verb);
    if (spec->sub != NULL)
        hidden(f, "_sub", spec->sub);
    for (size_t i = 0; i < spec->n_args; i++)
        field(f, args_at(spec, i), prefill != NULL ? &prefill[i] : NULL);
    fputs("<button type=\"submit\">", f);
    html_text(f, spec->help != NULL ? spec->help : "Run");
    fputs("</button>\n</form>\n", f);
}

/* --------------------------------------------------------------- argv --- */

/* argv being built: owned strings, v[n] always NULL; oom once anything failed. */
struct argv_build {
    char **v;
    size_t n, cap;
    int oom;
};

/* Appends one argument made of a, then b and c when not NULL ("ID" "=" "VALUE"). */
static void push(struct argv_build *b, const char *a, const char *sep, const char *c)
{
    const char *part[3] = {a, sep, c};
    size_t len = 0, at = 0;
    char *s;
    if (b->oom)
        return;
    if (b->n + 1 >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        char **grown = realloc(b->v, cap * sizeof(*grown));
        if (grown == NULL) {
            b->oom = 1;
            return;
        }
        b->v = grown;
        b->cap = cap;
    }
    for (int i = 0; i < 3; i++)
        len += part[i] != NULL ? strlen(part[i]) : 0;
    if ((s = malloc(len + 1)) == NULL) {
        b->oom = 1;
        return;
    }
    for (int i = 0; i < 3; i++) {
        size_t n = part[i] != NULL ? strlen(part[i]) : 0;
        memcpy(s + at, part[i] != NULL ? part[i] : "", n);
        at += n;
    }
    s[len] = '\0';
    b->v[b->n++] = s;
    b->v[b->n] = NULL;
}

/* The option spec declares under the first len bytes of name, or NULL. */
static const struct ch_arg *declared_option(const struct ch_command_spec *spec, const char *name,
                                            size_t len)
{
    for (size_t i = 0; i < spec->n_args; i++) {
        const struct ch_arg *a = args_at(spec, i);
        if (is_option(a) && strlen(a->name) == len && strncmp(a->name, name, len) == 0)
            return a;
    }
    return NULL;
}

enum answers_which { ANSWERS_ALL, ANSWERS_OPTION, ANSWERS_BARE };

/*
 * The "OPTION:ID" fields as "OPTION" "ID=VALUE" (":ID": the bare argument
 * "ID=VALUE", as plugin.h appends a step form's answers). OPTION must be an
 * option of spec. An ID that is empty, starts with '-' or holds '=' could
 * not be read back as one answer, and is left out.
 */
static void answers(struct argv_build *b, const struct ch_command_spec *spec,
                    const struct web_fields *fields, enum answers_which which)
{
    for (size_t i = 0; i < fields->n; i++) {
        const struct web_field *w = &fields->v[i];
        const char *colon = strchr(w->name, ':'), *id;
        const struct ch_arg *opt = NULL;
        if (colon == NULL || w->name[0] == '_' || w->value[0] == '\0')
            continue;
        id = colon + 1;
        if (id[0] == '\0' || id[0] == '-' || strchr(id, '=') != NULL)
            continue;
        if (colon > w->name &&
            (opt = declared_option(spec, w->name, (size_t)(colon - w->name))) == NULL)
            continue;
        if ((opt != NULL && which == ANSWERS_BARE) || (opt == NULL && which == ANSWERS_OPTION))
            continue;
        if (opt != NULL)
            push(b, opt->name, NULL, NULL);
        push(b, id, "=", w->value);
    }
}

/* The options in table order, each once per non-empty field of its name. */
static void options(struct argv_build *b, const struct ch_command_spec *spec,
                    const struct web_fields *fields)
{
    for (size_t i = 0; i < spec->n_args; i++) {
        const struct ch_arg *a = args_at(spec, i);
        if (!is_option(a))
            continue;
        for (size_t j = 0; j < fields->n; j++) {
            const struct web_field *w = &fields->v[j];
            if (strcmp(w->name, a->name) != 0 || w->value[0] == '\0')
                continue;
            if (a->type != CH_ARG_BOOL) {
                push(b, a->name, NULL, NULL);
                push(b, w->value, NULL, NULL);
            } else if (strcmp(w->value, "yes") == 0 || strcmp(w->value, "no") == 0) {
                push(b, a->name, NULL, NULL);
                push(b, w->value, NULL, NULL);
            } else {
                /*
                 * Any other word stays attached, so the parser refuses it by
                 * name: on its own after a bare "--opt" it would be read as
                 * the next positional.
                 */
                push(b, a->name, "=", w->value);
            }
        }
    }
}

/* The positional arguments in table order, each once per non-empty field of its name. */
static void positionals(struct argv_build *b, const struct ch_command_spec *spec,
                        const struct web_fields *fields)
{
    for (size_t i = 0; i < spec->n_args; i++) {
        const struct ch_arg *a = args_at(spec, i);
        if (is_option(a))
            continue;
        for (size_t j = 0; j < fields->n; j++)
            if (strcmp(fields->v[j].name, a->name) == 0 && fields->v[j].value[0] != '\0')
                push(b, fields->v[j].value, NULL, NULL);
    }
}

/* Non-zero when a positional's value would be read as an option ("--x") or as "--". */
static int positional_looks_like_option(const struct ch_command_spec *spec,
                                        const struct web_fields *fields)
{
    for (size_t i = 0; i < spec->n_args; i++) {
        const struct ch_arg *a = args_at(spec, i);
        if (is_option(a))
            continue;
        for (size_t j = 0; j < fields->n; j++)
            if (strcmp(fields->v[j].name, a->name) == 0 &&
                strncmp(fields->v[j].value, "--", 2) == 0)
                return 1;
    }
    return 0;
}

int webform_argv(const struct ch_command_spec *spec, const char *verb,
                 const struct web_fields *fields, char ***argv)
{
    struct argv_build b = {calloc(16, sizeof(char *)), 0, 16, 0};
    int step = web_fields_get(fields, "_argv") != NULL;
    *argv = NULL;
    if (b.v == NULL)
        return -1;
    if (step) {
        /* The command's own argv, exactly: an empty argument of it is still an argument. */
        for (size_t i = 0; i < fields->n; i++)
            if (strcmp(fields->v[i].name, "_argv") == 0)
                push(&b, fields->v[i].value, NULL, NULL);
        answers(&b, spec, fields, ANSWERS_ALL);
    } else {
        push(&b, verb != NULL ? verb : spec->verb, NULL, NULL);
        if (spec->sub != NULL)
            push(&b, spec->sub, NULL, NULL);
        if (!positional_looks_like_option(spec, fields)) {
            positionals(&b, spec, fields);
            options(&b, spec, fields);
            answers(&b, spec, fields, ANSWERS_ALL);
        } else {
            /* As a terminal needs it: the options, then "--" so what follows stays values. */
            options(&b, spec, fields);
            answers(&b, spec, fields, ANSWERS_OPTION);
            push(&b, "--", NULL, NULL);
            positionals(&b, spec, fields);
            answers(&b, spec, fields, ANSWERS_BARE);
        }
    }
    if (b.oom) {
        webform_argv_free(b.v);
        return -1;
    }
    *argv = b.v;
    return (int)b.n;
}

void webform_argv_free(char **argv)
{
    if (argv == NULL)
        return;
    for (char **p = argv; *p != NULL; p++)
        free(*p);
    free(argv);
}
