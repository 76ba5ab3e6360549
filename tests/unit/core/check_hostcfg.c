/*
 * check_hostcfg.c: the host config loader against a corpus of broken files
 * (tests/data/hostcfg/), asserting the exact "file:line: message" text
 * of every error in order, and against good files: defaults, overrides,
 * @include, path_join. Never touches a database or loads a plugin.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "hostcfg.h"

/*
 * Every test runs in the corpus directory, so file names in messages are
 * the short names written in the tables below.
 */
static void enter_corpus(void)
{
    const char *root = getenv("CASEHOST_TEST_ROOT");
    char dir[1024];
    ck_assert_msg(root != NULL, "CASEHOST_TEST_ROOT not set: run with make check");
    snprintf(dir, sizeof(dir), "%s/tests/data/hostcfg", root);
    ck_assert_msg(chdir(dir) == 0, "cannot enter %s", dir);
}

/*
 * Loads path with diag writing into a memory stream. Returns hostcfg_load's
 * result; *text gets everything diag printed (static storage, valid until
 * the next call) and *errors the error count. The caller releases hc.
 */
static int load(struct hostcfg *hc, const char *path, const char **text, int *errors)
{
    static char buf[8192];
    struct diag d;
    FILE *mem;
    int rc;
    memset(buf, 0, sizeof(buf));
    mem = fmemopen(buf, sizeof(buf) - 1, "w");
    ck_assert_ptr_nonnull(mem);
    diag_init(&d, mem);
    rc = hostcfg_load(hc, path, &d);
    fclose(mem);
    *text = buf;
    *errors = d.errors;
    return rc;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* ------------------------------------------------------------ broken --- */

static const struct {
    const char *file;
    const char *expect; /* everything diag prints, in order */
} broken[] = {
    {"syntax_error.cfg", "syntax_error.cfg:3: syntax error\n"},
    {"missing.cfg", "missing.cfg: cannot read host config: No such file or directory\n"},
    {"unknown_top_level.cfg",
     "unknown_top_level.cfg:3: unknown setting 'plugin' in the host config\n"},
    {"unknown_database_member.cfg",
     "unknown_database_member.cfg:4: unknown setting 'rol' in 'database'\n"},
    {"unknown_paths_member.cfg",
     "unknown_paths_member.cfg:4: unknown setting 'sql_directory' in 'paths'\n"},
    {"unknown_plugin_member.cfg",
     "unknown_plugin_member.cfg:4: unknown setting 'requird' in a plugin entry\n"},
    {"database_not_group.cfg", "database_not_group.cfg:2: 'database' must be a group\n"},
    {"paths_not_group.cfg", "paths_not_group.cfg:2: 'paths' must be a group\n"},
    {"conninfo_not_string.cfg", "conninfo_not_string.cfg:3: 'conninfo' must be a string\n"},
    {"role_not_string.cfg", "role_not_string.cfg:4: 'role' must be a string\n"},
    {"role_is_gone.cfg",
     "role_is_gone.cfg:5: 'database.role' is no longer used: every person connects as their own "
     "PostgreSQL role; remove the line (INSTALL: roles per person)\n"},
    {"sql_dir_not_string.cfg", "sql_dir_not_string.cfg:4: 'sql_dir' must be a string\n"},
    {"required_not_bool.cfg", "required_not_bool.cfg:4: 'required' must be true or false\n"},
    {"plugin_file_not_string.cfg", "plugin_file_not_string.cfg:4: 'file' must be a string\n"},
    {"plugins_not_list.cfg",
     "plugins_not_list.cfg:2: 'plugins' must be a list: plugins = ( { name = \"...\"; } );\n"},
    {"plugin_entry_not_group.cfg",
     "plugin_entry_not_group.cfg:5: plugin entry 2 must be a group { name = \"...\"; }\n"},
    {"plugin_without_name.cfg", "plugin_without_name.cfg:4: plugin entry 2 has no 'name'\n"},
    {"bad_plugin_name.cfg",
     "bad_plugin_name.cfg:3: plugin name 'Traffic-Check' must be lowercase letters, digits "
     "and '_'\n"},
    {"duplicate_plugin.cfg",
     "duplicate_plugin.cfg:5: plugin 'alpha' is listed twice (first at line 3)\n"},
    {"settings_not_group.cfg",
     "settings_not_group.cfg:4: 'settings' of plugin 'alpha' must be a group\n"},
    /* errors inside an @include'd file name that file, as the @include wrote it */
    {"include_syntax_error.cfg", "included/syntax_error_part.cfg:4: syntax error\n"},
    {"include_unknown_member.cfg",
     "included/unknown_member_part.cfg:4: unknown setting 'sqldir' in 'paths'\n"},
    {"include_missing.cfg", "include_missing.cfg:3: cannot open include file\n"},
    {"reports_not_group.cfg",
     "reports_not_group.cfg:2: 'reports' must be a group: reports = { conninfo = \"...\"; };\n"},
    {"reports_unknown_member.cfg",
     "reports_unknown_member.cfg:4: unknown setting 'fallback' in 'reports'\n"},
    {"reports_fallback_not_bool.cfg",
     "reports_fallback_not_bool.cfg:3: 'fallback_to_primary' must be true or false\n"},
    {"reports_names_user.cfg",
     "reports_names_user.cfg:3: 'reports.conninfo' names user 'reporter': a report runs as the "
     "person logged in on the primary; remove user=\n"},
    {"reports_bad_conninfo.cfg",
     "reports_bad_conninfo.cfg:2: 'reports.conninfo' is not a libpq conninfo: invalid connection "
     "option \"colour\"\n"},
    {"reports_without_conninfo.cfg",
     "reports_without_conninfo.cfg:1: 'reports' has no 'conninfo' (the replica reports read "
     "from)\n"},
    {"several_errors.cfg",
     "several_errors.cfg:2: unknown setting 'colour' in the host config\n"
     "several_errors.cfg:4: unknown setting 'rol' in 'database'\n"
     "several_errors.cfg:5: 'conninfo' must be a string\n"
     "several_errors.cfg:8: unknown setting 'sqldir' in 'paths'\n"
     "several_errors.cfg:9: 'plugin_dir' must be a string\n"
     "several_errors.cfg:12: plugin entry 1 must be a group { name = \"...\"; }\n"
     "several_errors.cfg:13: plugin name 'Beta' must be lowercase letters, digits and '_'\n"
     "several_errors.cfg:14: plugin entry 3 has no 'name'\n"
     "several_errors.cfg:16: 'required' must be true or false\n"
     "several_errors.cfg:17: 'settings' of plugin 'delta' must be a group\n"
     "several_errors.cfg:18: plugin 'delta' is listed twice (first at line 15)\n"},
};

START_TEST(broken_config_reports_every_error_with_file_and_line)
{
    struct hostcfg hc;
    const char *text;
    int errors;
    enter_corpus();
    ck_assert_msg(load(&hc, broken[_i].file, &text, &errors) == -1, "%s loaded", broken[_i].file);
    ck_assert_msg(strcmp(text, broken[_i].expect) == 0, "%s:\n got: %s\nwant: %s", broken[_i].file,
                  text, broken[_i].expect);
    ck_assert_int_eq(errors, count_lines(broken[_i].expect));
    hostcfg_release(&hc);
}
END_TEST

/* -------------------------------------------------------------- good --- */

struct want_plugin {
    const char *name, *path, *sql_dir;
    int required, has_settings, line;
};

static const struct {
    const char *file;
    const char *plugin_dir, *sql_dir, *conninfo;
    size_t n_plugins;
    struct want_plugin plugins[3];
} good[] = {
    /* no paths group: plugins/ and sql/ beside the config, NAME.so, sql/NAME */
    {"good/defaults.cfg",
     "good/plugins",
     "good/sql",
     "dbname=casehost",
     2,
     {{"alpha", "good/plugins/alpha.so", "good/sql/alpha", 0, 0, 4},
      {"beta_2", "good/plugins/beta_2.so", "good/sql/beta_2", 1, 1, 5}}},
    /* file joins plugin_dir, sql joins the config's dir; absolute ones stay as written */
    {"good/overrides.cfg",
     "good/../lib/casehost",
     "/usr/share/casehost/sql",
     "",
     3,
     {{"alpha", "good/../lib/casehost/alpha-1.2.so", "/usr/share/casehost/sql/alpha", 0, 0, 5},
      {"beta", "/opt/beta/beta.so", "good/beta-migrations", 0, 0, 6},
      {"gamma", "good/../lib/casehost/gamma.so", "/srv/gamma/sql", 0, 0, 7}}},
    {"good/empty.cfg", "good/plugins", "good/sql", "", 0, {{0}}},
    {"good/with_include.cfg",
     "good/plugins",
     "good/sql",
     "dbname=included",
     1,
     {{"alpha", "good/plugins/alpha.so", "good/sql/alpha", 0, 0, 3}}},
};

START_TEST(good_config_resolves_paths_against_its_directory)
{
    struct hostcfg hc;
    const char *text;
    int errors;
    enter_corpus();
    ck_assert_msg(load(&hc, good[_i].file, &text, &errors) == 0, "%s: %s", good[_i].file, text);
    ck_assert_str_eq(text, "");
    ck_assert_str_eq(hc.path, good[_i].file);
    ck_assert_str_eq(hc.dir, "good");
    ck_assert_str_eq(hc.plugin_dir, good[_i].plugin_dir);
    ck_assert_str_eq(hc.sql_dir, good[_i].sql_dir);
    ck_assert_str_eq(hc.conninfo, good[_i].conninfo);
    ck_assert_uint_eq(hc.n_plugins, good[_i].n_plugins);
    for (size_t k = 0; k < hc.n_plugins; k++) {
        const struct want_plugin *w = &good[_i].plugins[k];
        const struct plugin_conf *pc = &hc.plugins[k];
        ck_assert_str_eq(pc->name, w->name);
        ck_assert_str_eq(pc->path, w->path);
        ck_assert_str_eq(pc->sql_dir, w->sql_dir);
        ck_assert_int_eq(pc->required, w->required);
        ck_assert_int_eq(pc->settings != NULL, w->has_settings);
        ck_assert_str_eq(pc->file, good[_i].file);
        ck_assert_int_eq(pc->line, w->line);
    }
    hostcfg_release(&hc);
}
END_TEST

START_TEST(absolute_config_path_gives_absolute_defaults)
{
    struct hostcfg hc;
    const char *text;
    int errors;
    char cwd[1024], path[1200], want[1300];
    enter_corpus();
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    snprintf(path, sizeof(path), "%s/good/defaults.cfg", cwd);
    ck_assert_int_eq(load(&hc, path, &text, &errors), 0);
    snprintf(want, sizeof(want), "%s/good", cwd);
    ck_assert_str_eq(hc.dir, want);
    snprintf(want, sizeof(want), "%s/good/plugins/alpha.so", cwd);
    ck_assert_str_eq(hc.plugins[0].path, want);
    snprintf(want, sizeof(want), "%s/good/sql/beta_2", cwd);
    ck_assert_str_eq(hc.plugins[1].sql_dir, want);
    hostcfg_release(&hc);
}
END_TEST

START_TEST(earlier_errors_in_the_diag_do_not_fail_a_good_config)
{
    struct hostcfg hc;
    struct diag d;
    enter_corpus();
    diag_init(&d, NULL);
    d.errors = 3;
    ck_assert_int_eq(hostcfg_load(&hc, "good/defaults.cfg", &d), 0);
    ck_assert_int_eq(d.errors, 3);
    hostcfg_release(&hc);
}
END_TEST

/* The reports group: absent, no replica; present, its conninfo and fallback as written. */
START_TEST(reports_group_names_the_replica_and_the_fallback)
{
    struct hostcfg hc;
    const char *text;
    int errors;
    enter_corpus();
    ck_assert_int_eq(load(&hc, "good/defaults.cfg", &text, &errors), 0);
    ck_assert_ptr_null(hc.reports_conninfo);
    ck_assert_int_eq(hc.reports_fallback, 0);
    hostcfg_release(&hc);
    ck_assert_msg(load(&hc, "good/reports.cfg", &text, &errors) == 0, "%s", text);
    ck_assert_str_eq(hc.reports_conninfo, "host=replica.example.org dbname=casehost");
    ck_assert_int_eq(hc.reports_fallback, 1);
    hostcfg_release(&hc);
}
END_TEST

static const struct {
    const char *dir, *rel, *want;
} joins[] = {
    {"conf", "plugins", "conf/plugins"},
    {"conf", "/usr/lib/casehost", "/usr/lib/casehost"},
    {"/etc/casehost", "../sql", "/etc/casehost/../sql"},
    {".", "sql", "./sql"},
    {"", "sql", "sql"},
    {NULL, "sql", "sql"},
};

START_TEST(path_join_keeps_absolute_paths)
{
    char *p = path_join(joins[_i].dir, joins[_i].rel);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, joins[_i].want);
    free(p);
}
END_TEST

START_TEST(default_path_prefers_explicit_then_environment)
{
    /* Not in a build tree: the installed SYSCONFDIR/casehost/casehost.cfg, absolute. */
    static const char tail[] = "/casehost/casehost.cfg";
    const char *installed;
    unsetenv("CASEHOST_CONFIG");
    installed = hostcfg_default_path(NULL);
    ck_assert_msg(installed[0] == '/' && strlen(installed) > strlen(tail) &&
                      strcmp(installed + strlen(installed) - strlen(tail), tail) == 0,
                  "default config '%s' is not SYSCONFDIR%s", installed, tail);
    setenv("CASEHOST_CONFIG", "", 1);
    ck_assert_str_eq(hostcfg_default_path(NULL), installed);
    setenv("CASEHOST_CONFIG", "/etc/casehost/casehost.cfg", 1);
    ck_assert_str_eq(hostcfg_default_path(NULL), "/etc/casehost/casehost.cfg");
    ck_assert_str_eq(hostcfg_default_path("mine.cfg"), "mine.cfg");
    unsetenv("CASEHOST_CONFIG");
}
END_TEST

static Suite *hostcfg_suite(void)
{
    Suite *s = suite_create("hostcfg");
    TCase *tb = tcase_create("broken");
    TCase *tg = tcase_create("good");
    tcase_add_loop_test(tb, broken_config_reports_every_error_with_file_and_line, 0,
                        (int)(sizeof(broken) / sizeof(broken[0])));
    suite_add_tcase(s, tb);
    tcase_add_loop_test(tg, good_config_resolves_paths_against_its_directory, 0,
                        (int)(sizeof(good) / sizeof(good[0])));
    tcase_add_test(tg, absolute_config_path_gives_absolute_defaults);
    tcase_add_test(tg, earlier_errors_in_the_diag_do_not_fail_a_good_config);
    tcase_add_test(tg, reports_group_names_the_replica_and_the_fallback);
    tcase_add_loop_test(tg, path_join_keeps_absolute_paths, 0,
                        (int)(sizeof(joins) / sizeof(joins[0])));
    tcase_add_test(tg, default_path_prefers_explicit_then_environment);
    suite_add_tcase(s, tg);
    return s;
}

CHECK_MAIN(hostcfg_suite())
