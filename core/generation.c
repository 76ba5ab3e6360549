/*
 * generation.c: reading a plugin's configuration folder into memory, to and
 * from JSON, and writing it back under a private directory. Paths are
 * checked both ways so a stored generation can never write outside the
 * directory it is given.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "generation.h"

void generation_release(struct generation *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->files[i].path);
        free(g->files[i].text);
    }
    free(g->files);
    free(g->plugin);
    memset(g, 0, sizeof(*g));
}

/* A relative path made of plain names: no "..", no "//", nothing odd. */
static int safe_relative(const char *p, const char *plugin)
{
    size_t pl = strlen(plugin);
    if (strncmp(p, plugin, pl) != 0 || p[pl] != '/' || p[pl + 1] == '\0')
        return 0;
    for (const char *s = p; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(c == '/' || c == '.' || c == '_' || c == '-' || (c >= '0' && c <= '9') ||
              (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return 0;
        if (c == '/' && (s[1] == '/' || s[1] == '.' || s[1] == '\0'))
            return 0;
    }
    return 1;
}

static int add_file(struct generation *g, const char *path, char *text, size_t len)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct gen_file *v = realloc(g->files, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        g->files = v;
        g->cap = cap;
    }
    g->files[g->n].path = strdup(path);
    if (g->files[g->n].path == NULL)
        return -1;
    g->files[g->n].text = text;
    g->files[g->n].len = len;
    g->n++;
    return 0;
}

/* Reads a whole regular file of at most GENERATION_FILE_MAX bytes; malloc'd, NUL-terminated. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    if ((size_t)st.st_size > GENERATION_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %u MiB, refused", path, GENERATION_FILE_MAX >> 20);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(err, errlen, "%s: cannot read: %s", path, k < 0 ? strerror(errno) : "short");
            goto fail;
        }
        got += (size_t)k;
    }
    buf[got] = '\0';
    if (memchr(buf, '\0', got) != NULL) {
        snprintf(err, errlen, "%s: holds a NUL byte; configuration files are text", path);
        goto fail;
    }
    close(fd);
    *len = got;
    return buf;
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

/* Adds every file under root/rel (a directory), depth first. */
static int walk(struct generation *g, const char *root, const char *rel, size_t *total, char *err,
                size_t errlen)
{
    char dirpath[4096];
    DIR *d;
    struct dirent *e;
    int rc = 0;
    snprintf(dirpath, sizeof(dirpath), "%s/%s", root, rel);
    d = opendir(dirpath);
    if (d == NULL) {
        snprintf(err, errlen, "%s: cannot read: %s", dirpath, strerror(errno));
        return -1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char child[4096], full[4200];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(child, sizeof(child), "%s/%s", rel, e->d_name);
        snprintf(full, sizeof(full), "%s/%s", root, child);
        if (lstat(full, &st) != 0) {
            snprintf(err, errlen, "%s: %s", full, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(g, root, child, total, err, errlen);
        } else if (!S_ISREG(st.st_mode)) {
            snprintf(err, errlen,
                     "%s: not a regular file (a configuration folder holds plain files only)",
                     full);
            rc = -1;
        } else if (!safe_relative(child, g->plugin)) {
            snprintf(err, errlen, "%s: file names may hold only letters, digits, '.', '_' and '-'",
                     full);
            rc = -1;
        } else {
            size_t len;
            char *text = slurp(full, &len, err, errlen);
            if (text == NULL)
                rc = -1;
            else if ((*total += len) > GENERATION_TOTAL_MAX) {
                snprintf(err, errlen, "%s/%s: the folder holds more than %u MiB", root, g->plugin,
                         GENERATION_TOTAL_MAX >> 20);
                free(text);
                rc = -1;
            } else if (add_file(g, child, text, len) != 0) {
                free(text);
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
        }
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct gen_file *)a)->path, ((const struct gen_file *)b)->path);
}

int generation_read(struct generation *g, const char *root, const char *plugin, char *err,
                    size_t errlen)
{
    char dir[4096];
    struct stat st;
    size_t total = 0;
    memset(g, 0, sizeof(*g));
    if ((g->plugin = strdup(plugin)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s/%s", root, plugin);
    if (lstat(dir, &st) != 0 && errno == ENOENT)
        return 1;
    if (walk(g, root, plugin, &total, err, errlen) != 0)
        return -1;
    qsort(g->files, g->n, sizeof(g->files[0]), by_path);
    return 0;
}

json_t *generation_to_json(const struct generation *g, char *err, size_t errlen)
{
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < g->n; i++) {
        json_t *s = json_stringn(g->files[i].text, g->files[i].len);
        if (s == NULL) {
            snprintf(err, errlen, "%s: not UTF-8 text", g->files[i].path);
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, g->files[i].path, s);
    }
    if (o == NULL)
        snprintf(err, errlen, "out of memory");
    return o;
}

int generation_from_json(struct generation *g, const char *plugin, const char *json_text, char *err,
                         size_t errlen)
{
    json_error_t je;
    json_t *o = json_loads(json_text, 0, &je), *v;
    const char *path;
    int rc = 0;
    memset(g, 0, sizeof(*g));
    if ((g->plugin = strdup(plugin)) == NULL || o == NULL || !json_is_object(o)) {
        snprintf(err, errlen, "stored generation of '%s' is not a JSON object", plugin);
        json_decref(o);
        return -1;
    }
    json_object_foreach(o, path, v)
    {
        char *text;
        if (!safe_relative(path, plugin) || !json_is_string(v)) {
            snprintf(err, errlen, "stored generation of '%s' names a bad file '%s'", plugin, path);
            rc = -1;
            break;
        }
        text = strndup(json_string_value(v), json_string_length(v));
        if (text == NULL || add_file(g, path, text, json_string_length(v)) != 0) {
            free(text);
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    json_decref(o);
    if (rc == 0)
        qsort(g->files, g->n, sizeof(g->files[0]), by_path);
    return rc;
}

/* mkdir -p of the directories of root/path, mode 0700. */
static int make_parents(const char *root, const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s/%s", root, path);
    for (char *s = buf + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return 0;
}

int generation_write(const struct generation *g, const char *root, char *err, size_t errlen)
{
    for (size_t i = 0; i < g->n; i++) {
        char full[4096];
        size_t done = 0;
        int fd;
        snprintf(full, sizeof(full), "%s/%s", root, g->files[i].path);
        if (make_parents(root, g->files[i].path) != 0 ||
            (fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600)) < 0) {
            snprintf(err, errlen, "%s: cannot write: %s", full, strerror(errno));
            return -1;
        }
        while (done < g->files[i].len) {
            ssize_t k = write(fd, g->files[i].text + done, g->files[i].len - done);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                snprintf(err, errlen, "%s: cannot write: %s", full, strerror(errno));
                close(fd);
                return -1;
            }
            done += (size_t)k;
        }
        if (close(fd) != 0) {
            snprintf(err, errlen, "%s: cannot write: %s", full, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int dir_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((e = readdir(d)) != NULL) {
        char full[4096];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode))
            rc |= dir_remove_tree(full);
        else
            rc |= unlink(full);
    }
    closedir(d);
    return rmdir(dir) | rc;
}
