/*
 * check_sql_surface.c: a plugin's SQL touches schema casehost only through
 * the versioned surface plugin.h lists (CH_SQL_SURFACE_V1). Every string of
 * every plugin C file and every plugin migration newer than those already
 * applied in the field is read for casehost.NAME, and a name off the surface
 * fails naming file:line. Against a real database: each surface name exists,
 * each view runs as its caller, and another agency's caseworker sees nothing
 * of agency A through the views.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <casehost/plugin.h>

#include "check_main.h"
#include "testlib.h"

/*
 * Plugin migrations applied in the field before the surface existed: their
 * checksums are recorded, so they are never edited, and they keep what they
 * named. Any other plugin migration is held to the surface.
 */
static const char *const applied_before_surface[] = {
    "sql/trafficking/001_screening.sql",   "sql/trafficking/002_referrals.sql",
    "sql/trafficking/003_routing.sql",     "sql/trafficking/004_access.sql",
    "sql/trafficking/005_live_config.sql",
};

/* ------------------------------------------------------------ scanner --- */

/* Text to scan, each byte with the line it came from. */
struct text {
    char *s;
    int *line;
    size_t n, cap;
};

static void text_add(struct text *t, char c, int line)
{
    if (t->n + 2 > t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4096;
        t->s = realloc(t->s, t->cap);
        t->line = realloc(t->line, t->cap * sizeof(int));
        ck_assert(t->s != NULL && t->line != NULL);
    }
    t->s[t->n] = c;
    t->line[t->n++] = line;
    t->s[t->n] = '\0';
}

static void text_free(struct text *t)
{
    free(t->s);
    free(t->line);
    memset(t, 0, sizeof(*t));
}

/*
 * The string literals of C source src, in order. Literals that only
 * whitespace or comments separate are joined, as the compiler joins them;
 * others are kept apart by a newline. Comments and character constants are
 * not read.
 */
static void c_strings(const char *src, struct text *out)
{
    int line = 1, joined = 0;
    const char *p = src;
    while (*p != '\0') {
        if (p[0] == '/' && p[1] == '*') {
            for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
                line += *p == '\n';
            p += *p != '\0' ? 2 : 0;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p != '\0' && *p != '\n')
                p++;
        } else if (*p == '\'') {
            for (p++; *p != '\0' && *p != '\''; p++)
                p += p[0] == '\\' && p[1] != '\0';
            p += *p != '\0';
            joined = 0;
        } else if (*p == '"') {
            if (!joined)
                text_add(out, '\n', line);
            for (p++; *p != '\0' && *p != '"'; p++) {
                if (p[0] == '\\' && p[1] != '\0') {
                    text_add(out, p[1] == 'n' ? '\n' : p[1], line);
                    p++;
                } else {
                    text_add(out, *p, line);
                }
                line += *p == '\n';
            }
            p += *p != '\0';
            joined = 1;
        } else {
            if (*p == '\n')
                line++;
            else if (*p != ' ' && *p != '\t' && *p != '\r')
                joined = 0;
            p++;
        }
    }
}

/* SQL text src without its comments (-- to the end of the line, and block comments). */
static void sql_text(const char *src, struct text *out)
{
    int line = 1;
    const char *p = src;
    while (*p != '\0') {
        if (p[0] == '-' && p[1] == '-') {
            while (*p != '\0' && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
                line += *p == '\n';
            p += *p != '\0' ? 2 : 0;
        } else {
            text_add(out, *p, line);
            line += *p == '\n';
            p++;
        }
    }
}

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* 1 when word w is one of the space-separated words of list. */
static int listed(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/*
 * Whether the use of casehost.NAME at t->s[at] (at: just past the dot) is
 * on the surface: NAME itself is listed, or NAME(id) is listed and the use
 * is "REFERENCES casehost.NAME(id)".
 */
static int on_surface(const struct text *t, size_t at, const char *name, size_t name_end)
{
    char fk[80];
    size_t q = name_end, b;
    if (listed(CH_SQL_SURFACE_V3, name))
        return 1;
    snprintf(fk, sizeof(fk), "%s(id)", name);
    if (!listed(CH_SQL_SURFACE_V3, fk))
        return 0;
    while (t->s[q] == ' ')
        q++;
    if (strncmp(t->s + q, "(id)", 4) != 0)
        return 0;
    b = at - strlen("casehost.");
    while (b > 0 && (t->s[b - 1] == ' ' || t->s[b - 1] == '\n' || t->s[b - 1] == '\t'))
        b--;
    return b >= 10 && strncasecmp(t->s + b - 10, "REFERENCES", 10) == 0 &&
           (b == 10 || !ident_char(t->s[b - 11]));
}

/*
 * Appends "file:line: casehost.NAME" to out for every use in t off the
 * surface. Returns how many.
 */
static int off_surface(const char *file, const struct text *t, char *out, size_t len)
{
    static const char prefix[] = "casehost.";
    int bad = 0;
    if (t->s == NULL)
        return 0;
    for (const char *p = t->s; (p = strstr(p, prefix)) != NULL; p++) {
        size_t at = (size_t)(p - t->s) + strlen(prefix), end = at;
        char name[64];
        int ok;
        if (p > t->s && ident_char(p[-1]))
            continue; /* "xcasehost." is another schema */
        while (ident_char(t->s[end]) && end - at < sizeof(name) - 1)
            end++;
        if (end == at)
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)(end - at), t->s + at);
        ok = on_surface(t, at, name, end);
        if (!ok) {
            size_t used = strlen(out);
            snprintf(out + used, len - used, "\n  %s:%d: casehost.%s", file, t->line[at], name);
            bad++;
        }
    }
    return bad;
}

/* ------------------------------------------------------------- files --- */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

typedef void (*file_fn)(const char *rel, const char *path, void *ud);

/* Calls fn for every regular file under root/rel (rel relative to the checkout), sorted by name. */
static void walk(const char *root, const char *rel, file_fn fn, void *ud)
{
    char path[2048], sub[1024];
    struct dirent **names = NULL;
    DIR *d;
    struct dirent *e;
    size_t n = 0, cap = 0;
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    d = opendir(path);
    ck_assert_msg(d != NULL, "%s: %s", path, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof(*names));
            ck_assert(names != NULL);
        }
        names[n] = malloc(sizeof(struct dirent));
        ck_assert(names[n] != NULL);
        memcpy(names[n++], e, sizeof(struct dirent));
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort: a folder holds a few dozen */
        for (size_t j = i; j > 0 && strcmp(names[j - 1]->d_name, names[j]->d_name) > 0; j--) {
            struct dirent *x = names[j];
            names[j] = names[j - 1];
            names[j - 1] = x;
        }
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        snprintf(sub, sizeof(sub), "%s/%s", rel, names[i]->d_name);
        snprintf(path, sizeof(path), "%s/%s", root, sub);
        if (lstat(path, &st) != 0)
            ck_abort_msg("%s: %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode))
            walk(root, sub, fn, ud);
        else if (S_ISREG(st.st_mode))
            fn(sub, path, ud);
        free(names[i]);
    }
    free(names);
}

struct scan {
    char found[16384];
    int bad;
    int files;
};

static void scan_c(const char *rel, const char *path, void *ud)
{
    struct scan *sc = ud;
    struct text t = {0};
    char *src;
    if (!ends_with(rel, ".c") && !ends_with(rel, ".h"))
        return;
    src = tl_read_file(path);
    c_strings(src, &t);
    sc->bad += off_surface(rel, &t, sc->found, sizeof(sc->found));
    sc->files++;
    text_free(&t);
    free(src);
}

static void scan_migration(const char *rel, const char *path, void *ud)
{
    struct scan *sc = ud;
    struct text t = {0};
    char *src;
    if (!ends_with(rel, ".sql") || strncmp(rel, "sql/core/", 9) == 0)
        return;
    for (size_t i = 0; i < sizeof(applied_before_surface) / sizeof(applied_before_surface[0]); i++)
        if (strcmp(applied_before_surface[i], rel) == 0)
            return;
    src = tl_read_file(path);
    sql_text(src, &t);
    sc->bad += off_surface(rel, &t, sc->found, sizeof(sc->found));
    sc->files++;
    text_free(&t);
    free(src);
}

/* -------------------------------------------------------------- tests --- */

/* The scanner itself, on snippets: what it must report (as "x:LINE: casehost.NAME") and not. */
static const struct {
    const char *name;
    int sql; /* 1: migration text; 0: C source */
    const char *text;
    const char *want; /* every report, "" for none */
} snippets[] = {
    {"a table read in a C string", 0, "q = \"SELECT id FROM casehost.cases WHERE id = $1\";",
     "\n  x:1: casehost.cases"},
    {"a surface view in a C string", 0, "q = \"SELECT id FROM casehost.plugin_case_v1\";", ""},
    {"a name split over joined literals, on the line it ends", 0,
     "q = \"SELECT *\"\n  \" FROM casehost.\" /* joined */\n  \"people\";",
     "\n  x:3: casehost.people"},
    {"a C comment is no SQL", 0, "/* reads casehost.cases */ // casehost.users\nint x;", ""},
    {"a character constant is no string", 0, "char c = '\"'; int casehost_x;", ""},
    {"a surface function", 0, "\"SELECT casehost.time_input_v1($1, $2)\"", ""},
    {"a host function off the surface", 0, "\"SELECT 1\";\n\"SELECT casehost.person_age(p)\"",
     "\n  x:2: casehost.person_age"},
    {"a foreign key to a surface target", 1, "case_id bigint REFERENCES casehost.cases(id),", ""},
    {"a foreign key across lines", 1, "person_id bigint references\n    casehost.people (id)", ""},
    {"a join on a foreign-key target is a read", 1, "JOIN casehost.cases(id) x",
     "\n  x:1: casehost.cases"},
    {"a foreign key to a table off the surface", 1, "REFERENCES casehost.notes(id)",
     "\n  x:1: casehost.notes"},
    {"an SQL comment is not read", 1, "-- casehost.cases\nSELECT 1; /* casehost.users */", ""},
    {"identities as a type", 1, "me casehost.identities := casehost.current_user_v1();", ""},
    {"another schema that ends in casehost", 1, "SELECT * FROM notcasehost.cases", ""},
    {"two in one statement", 1, "SELECT casehost.audit_log.id\nFROM casehost.users",
     "\n  x:1: casehost.audit_log\n  x:2: casehost.users"},
};

START_TEST(the_scanner_finds_names_off_the_surface_and_nothing_else)
{
    struct text t = {0};
    char found[1024] = "";
    if (snippets[_i].sql)
        sql_text(snippets[_i].text, &t);
    else
        c_strings(snippets[_i].text, &t);
    off_surface("x", &t, found, sizeof(found));
    ck_assert_msg(strcmp(found, snippets[_i].want) == 0, "%s: found '%s', want '%s'",
                  snippets[_i].name, found, snippets[_i].want);
    text_free(&t);
}
END_TEST

START_TEST(plugin_c_strings_name_only_the_sql_surface)
{
    struct scan sc = {.bad = 0};
    walk(tl_env("CASEHOST_TEST_ROOT"), "plugins", scan_c, &sc);
    ck_assert_msg(sc.files > 10, "only %d plugin files found", sc.files);
    ck_assert_msg(sc.bad == 0,
                  "%d uses of schema casehost off the plugin SQL surface (CH_SQL_SURFACE_V3 in "
                  "plugin.h; use its views and functions):%.8000s",
                  sc.bad, sc.found);
}
END_TEST

START_TEST(new_plugin_migrations_name_only_the_sql_surface)
{
    struct scan sc = {.bad = 0};
    walk(tl_env("CASEHOST_TEST_ROOT"), "sql", scan_migration, &sc);
    ck_assert_msg(sc.files > 0, "no plugin migration after the surface: expected at least one");
    ck_assert_msg(sc.bad == 0,
                  "%d uses of schema casehost off the plugin SQL surface (CH_SQL_SURFACE_V3 in "
                  "plugin.h) in plugin migrations:%.8000s",
                  sc.bad, sc.found);
}
END_TEST

/* ---------------------------------------------------------- database --- */

static char db[1024];

static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    tl_seed_agencies(db, NULL);
}

/* The one value of sql (params $1 = arg) on c as text; "" for NULL. Static storage. */
static const char *text_of(PGconn *c, const char *sql, const char *arg)
{
    static char buf[1024];
    const char *params[1] = {arg};
    PGresult *res = PQexecParams(c, sql, arg != NULL, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", sql,
                  PQresultErrorMessage(res));
    snprintf(buf, sizeof(buf), "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return buf;
}

/*
 * Each surface name, by what it is: a view running as its caller, a
 * function, a type, or a foreign-key target whose id is its primary key.
 */
START_TEST(every_surface_name_exists_and_every_view_runs_as_its_caller)
{
    PGconn *c = tl_connect(db);
    char list[] = CH_SQL_SURFACE_V3;
    int views = 0;
    for (char *w = strtok(list, " "); w != NULL; w = strtok(NULL, " ")) {
        char *paren = strchr(w, '(');
        const char *kind;
        if (paren != NULL) {
            *paren = '\0';
            kind = text_of(c,
                           "SELECT coalesce((SELECT 'key' FROM pg_constraint k"
                           " WHERE k.conrelid = to_regclass('casehost.' || $1) AND k.contype = 'p'"
                           " AND k.conkey = ARRAY[(SELECT attnum FROM pg_attribute"
                           " WHERE attrelid = k.conrelid AND attname = 'id')]), 'none')",
                           w);
            ck_assert_msg(strcmp(kind, "key") == 0, "casehost.%s(id) is no primary key", w);
        } else if (strncmp(w, "plugin_", 7) == 0) {
            kind =
                text_of(c,
                        "SELECT coalesce((SELECT c.relkind::text || ' '"
                        " || coalesce(array_to_string(c.reloptions, ','), '')"
                        " FROM pg_class c WHERE c.oid = to_regclass('casehost.' || $1)), 'none')",
                        w);
            ck_assert_msg(strcmp(kind, "v security_invoker=true") == 0,
                          "casehost.%s: want a view with security_invoker=true, got '%s'", w, kind);
            views++;
        } else {
            kind = text_of(c,
                           "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_proc"
                           " WHERE pronamespace = 'casehost'::regnamespace AND proname = $1)"
                           " THEN 'function' WHEN to_regtype('casehost.' || $1) IS NOT NULL"
                           " THEN 'type' ELSE 'none' END",
                           w);
            ck_assert_msg(strcmp(kind, "none") != 0, "casehost.%s does not exist", w);
        }
    }
    ck_assert_int_eq(views, 5); /* v1: case, person, user; v2: person, agency */
    PQfinish(c);
}
END_TEST

/* What each of the views shows of agency A to user; "cases people users" counts. Static. */
static const char *seen_by(const char *user, const char *case_id, const char *person_id)
{
    static char buf[128];
    PGconn *c = tl_as_app(db, user);
    snprintf(buf, sizeof(buf), "%s",
             text_of(c, "SELECT count(*) FROM casehost.plugin_case_v1 WHERE id = $1", case_id));
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %s",
             text_of(c, "SELECT count(*) FROM casehost.plugin_person_v1 WHERE id = $1", person_id));
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %s",
             text_of(c,
                     "SELECT count(*) FROM casehost.plugin_user_v1 u"
                     " WHERE u.agency_id = (SELECT agency_id FROM casehost.plugin_user_v1"
                     " WHERE name = 'a_worker') OR u.name LIKE 'a\\_%'",
                     NULL));
    PQfinish(c);
    return buf;
}

START_TEST(a_caseworker_of_agency_b_sees_nothing_of_agency_a_through_the_views)
{
    PGconn *a = tl_as_app(db, "a_worker");
    char person[24], case_id[24];
    snprintf(
        person, sizeof(person), "%s",
        text_of(a, "SELECT casehost.person_add('{\"given_name\": \"Jo\", \"estimated_age\": 15}')",
                NULL));
    snprintf(case_id, sizeof(case_id), "%s",
             text_of(a,
                     "SELECT casehost.case_new(jsonb_build_object('title', 'T', 'subject_id',"
                     " $1::bigint, 'state', 'CA'))",
                     person));
    /* through the surface, agency A sees its own (and the age the host computes) */
    ck_assert_str_eq(text_of(a, "SELECT age FROM casehost.plugin_person_v1 WHERE id = $1", person),
                     "15");
    PQfinish(a);
    ck_assert_str_eq(seen_by("a_worker", case_id, person), "1 1 3");
    /* agency B's caseworker: nothing of it, neither the case, its person nor A's users */
    ck_assert_str_eq(seen_by("b_worker", case_id, person), "0 0 0");
    ck_assert_str_eq(seen_by("b_admin", case_id, person), "0 0 0");
    /* nor through the plugin's one reading of a case */
    {
        PGconn *b = tl_as_app(db, "b_worker");
        ck_assert_str_eq(text_of(b, "SELECT trafficking.case_facts_v1($1::bigint)", case_id), "");
        PQfinish(b);
    }
}
END_TEST

static Suite *surface_suite(void)
{
    Suite *s = suite_create("sql_surface");
    TCase *tc = tcase_create("sources");
    tcase_add_loop_test(tc, the_scanner_finds_names_off_the_surface_and_nothing_else, 0,
                        (int)(sizeof(snippets) / sizeof(snippets[0])));
    tcase_add_test(tc, plugin_c_strings_name_only_the_sql_surface);
    tcase_add_test(tc, new_plugin_migrations_name_only_the_sql_surface);
    suite_add_tcase(s, tc);
    tc = tcase_create("database");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_surface_name_exists_and_every_view_runs_as_its_caller);
    tcase_add_test(tc, a_caseworker_of_agency_b_sees_nothing_of_agency_a_through_the_views);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(surface_suite())
