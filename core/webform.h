/*
 * webform.h: a typed command as a web form, and a posted form back into the
 * argv the one parser (core/args.c) reads. The web surface never parses
 * arguments itself: a form's fields become argv, exactly as typed in a
 * terminal, so a command behaves the same on both surfaces.
 *
 * Field names: a positional argument's name ("case"), an option's name with
 * its dashes ("--instrument"). An answer field is named "OPTION:ID" (an
 * option of the spec and a question id, "--answer:exchanged_sex"); it
 * becomes "OPTION" "ID=VALUE". A step form (out_form) has no option: it
 * posts one field per question named ":ID", which becomes the bare argument
 * "ID=VALUE" (plugin.h: each answer is appended as one more argument).
 * Fields whose name starts with '_' belong to the server (_csrf, _verb, _sub).
 * A file argument is an upload field named "_upload:NAME" ("_upload:file"):
 * the server writes its content to a private folder of the request and
 * passes that path as NAME (web_pages.c); a field the browser names NAME
 * itself is never passed on, so a browser never names a server path.
 */
#ifndef CASEHOST_WEBFORM_H
#define CASEHOST_WEBFORM_H

#include <stddef.h>
#include <stdio.h>

#include <casehost/plugin.h>

/* The name prefix of an upload field: "_upload:" and a file argument's name. */
#define WEBFORM_UPLOAD "_upload:"

/* One posted (or query) field; both strings owned by the form. */
struct web_field {
    char *name;
    char *value;
};

/* The fields of one request, in the order they came. */
struct web_fields {
    struct web_field *v;
    size_t n, cap;
};

/* Appends a copy of name and value; 0 or -1 (out of memory). */
int web_fields_add(struct web_fields *f, const char *name, const char *value);
/* The first value of name, or NULL. */
const char *web_fields_get(const struct web_fields *f, const char *name);
void web_fields_release(struct web_fields *f);

/*
 * Writes the form of spec: a <form method="post" action="/run"> with hidden
 * _csrf, _verb and _sub, one labelled control per argument (ID and INT:
 * number input; TEXT: text input; DATE: date input; TIMESTAMP: text input
 * taking what the terminal takes; ENUM: select of its words; BOOL: select
 * of "", yes, no; FILE: a file upload, and the form is then sent as
 * multipart/form-data), a help line under each, required ones marked, and one submit button
 * labelled with the spec's help. prefill (NULL: none) holds one value per
 * argument as args_parse fills them; each given value is the control's
 * initial value. Every text goes through the html_* escapers.
 */
void webform_render(FILE *f, const struct ch_command_spec *spec, const char *verb,
                    const struct ch_value *prefill, const char *csrf);

/*
 * The argv a posted form stands for. A step form (out_form, rendered by
 * out_flush_html) posts its argv as hidden "_argv" fields, in order: they
 * come first as given, then every "OPTION:ID" field. Any other form: verb,
 * sub (when spec has one), the positional arguments in table order, then the options in table order
 * ("--opt" "value"; a BOOL given as yes or no passes "--opt" "yes|no"; a
 * repeated option once per field of that name), then every "OPTION:ID"
 * field as "OPTION" "ID=VALUE". A positional value starting with "--" would
 * be read as an option: then the options come first, then "--", then the
 * positionals. Empty fields are not given. Fields starting
 * with '_' and names the spec does not declare are left out, never passed
 * on. *argv is a NULL-terminated array of owned strings; free it with
 * webform_argv_free. Returns argc, or -1 out of memory.
 */
int webform_argv(const struct ch_command_spec *spec, const char *verb,
                 const struct web_fields *fields, char ***argv);
void webform_argv_free(char **argv);

#endif /* CASEHOST_WEBFORM_H */
