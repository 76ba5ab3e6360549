/*
 * generation.h: a plugin's deployable configuration, one "generation": every
 * regular file under <root>/<plugin>/ with its text, keyed by its path
 * relative to root ("trafficking/routing.cfg"). Read from a candidate
 * folder, stored in the database as JSON by `config deploy`, and written back
 * to a private directory when the host runs the live generation. Never holds
 * a secret: configuration names secret files, which stay on each machine.
 */
#ifndef CASEHOST_GENERATION_H
#define CASEHOST_GENERATION_H

#include <stddef.h>

#include <jansson.h>

/* Caps, refused with the file's name: a file, and a whole generation. */
#define GENERATION_FILE_MAX (4u << 20)
#define GENERATION_TOTAL_MAX (32u << 20)

struct gen_file {
    char *path; /* relative to the root, starting with "<plugin>/" */
    char *text;
    size_t len;
};

struct generation {
    char *plugin;
    struct gen_file *files; /* sorted by path */
    size_t n, cap;
};

/*
 * Reads every regular file under root/plugin/ (recursively; names starting
 * with '.' are skipped). 0; 1 when root/plugin/ does not exist (nothing to
 * deploy); -1 with the reason in err. Release g in every case.
 */
int generation_read(struct generation *g, const char *root, const char *plugin, char *err,
                    size_t errlen);

/* {"path": "text", ...}; NULL when out of memory or a file is not UTF-8 text (err says which). */
json_t *generation_to_json(const struct generation *g, char *err, size_t errlen);

/* Fills g from a stored generation's files object (text); 0 or -1 with err. */
int generation_from_json(struct generation *g, const char *plugin, const char *json_text, char *err,
                         size_t errlen);

/* Writes every file under root (directories 0700, files 0600); 0 or -1 with err. */
int generation_write(const struct generation *g, const char *root, char *err, size_t errlen);

void generation_release(struct generation *g);

/* Removes dir and everything under it; 0 or -1. */
int dir_remove_tree(const char *dir);

#endif
