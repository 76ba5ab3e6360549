/*
 * check_trafficking_plugin.c: trafficking.so loaded through the host's real
 * loader: it exports one symbol, registers its verbs, refuses to start on a
 * broken configuration with file:line messages, a reload that fails keeps
 * the previous configuration working, and a compiled configuration in a
 * cache_dir is used only while the files it came from are unchanged.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "check_main.h"
#include "loader.h"

static char dir[1024], cfgpath[1200];

/* Runs a shell command or fails the test. */
static void sh(const char *cmd)
{
    ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

/* The host config naming the private copy, with more plugin settings (line 5 on). */
static void write_host_cfg(const char *more)
{
    FILE *f;
    snprintf(cfgpath, sizeof(cfgpath), "%s/host.cfg", dir);
    f = fopen(cfgpath, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "paths = { plugin_dir = \"%s/plugins\"; };\n"
            "plugins = ( { name = \"trafficking\"; required = true; settings = {\n"
            "    instruments = \"trafficking/instruments\";\n"
            "    screening = \"trafficking/screening.cfg\";\n"
            "    %s }; } );\n",
            getenv("CASEHOST_TEST_BUILD"), more);
    fclose(f);
}

/* A private copy of the shipped plugin configuration and a host config naming it. */
static void setup(void)
{
    char cmd[4096];
    snprintf(dir, sizeof(dir), "%s/trf_%d", getenv("CASEHOST_TEST_TMP"), (int)getpid());
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && cp -R '%s/conf/trafficking' '%s/'",
             dir, dir, getenv("CASEHOST_TEST_ROOT"), dir);
    sh(cmd);
    write_host_cfg("");
}

/* Loads the host config; the diag messages land in msgs. */
static int load(struct hostcfg *hc, struct loader *l, struct diag *d, char *msgs, size_t len,
                FILE **mem)
{
    *mem = fmemopen(msgs, len, "w");
    diag_init(d, *mem);
    ck_assert_int_eq(hostcfg_load(hc, cfgpath, d), 0);
    return loader_load_all(l, hc, d);
}

/* Loads a configuration the required plugin must refuse; its messages land in msgs. */
static void load_refused(char *msgs, size_t len)
{
    struct hostcfg hc;
    struct loader l;
    struct diag d;
    FILE *mem;
    ck_assert_int_eq(load(&hc, &l, &d, msgs, len, &mem), -2);
    fclose(mem);
    ck_assert_msg(strstr(msgs, "it is required, stopping") != NULL, "%s", msgs);
    ck_assert_uint_eq(l.n_plugins, 0);
    loader_release(&l);
    hostcfg_release(&hc);
}

/* Runs `instrument list` through the plugin's typed command; returns its JSON text. */
static char *instrument_list(struct loader *l)
{
    const struct command_entry *ce = NULL;
    struct ch_ctx ctx;
    struct ch_value none[1] = {{0, 0, NULL, NULL}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (size_t i = 0; i < l->n_commands; i++)
        if (l->commands[i].typed && strcmp(l->commands[i].spec.verb, "instrument") == 0 &&
            strcmp(l->commands[i].spec.sub, "list") == 0)
            ce = &l->commands[i];
    ck_assert_ptr_nonnull(ce);
    memset(&ctx, 0, sizeof(ctx));
    ctx.out = out_new(1);
    ctx.json = 1;
    ck_assert_int_eq(ce->spec.run(&ctx, none, ce->spec.ud), CH_OK);
    out_flush(ctx.out, f);
    fclose(f);
    out_free(ctx.out);
    return buf;
}

START_TEST(exports_one_symbol_and_registers_its_verbs)
{
    char cmd[2048];
    struct hostcfg hc;
    struct loader l;
    struct diag d;
    char msgs[4096] = "";
    FILE *mem;
    snprintf(cmd, sizeof(cmd),
             "test \"$(nm -D --defined-only '%s/plugins/trafficking.so' | awk '$2 ~ /^[TDBR]$/ "
             "{print $3}' | grep -v '^_' )\" = casehost_plugin_entry",
             getenv("CASEHOST_TEST_BUILD"));
    sh(cmd);
    ck_assert_int_eq(load(&hc, &l, &d, msgs, sizeof(msgs), &mem), 0);
    fclose(mem);
    ck_assert_msg(d.errors == 0, "%s", msgs);
    ck_assert_ptr_nonnull(loader_command(&l, "screen"));
    ck_assert_ptr_nonnull(loader_command(&l, "instrument"));
    /* one section of the case page, one of the person page (ABI 1.2) */
    ck_assert_uint_eq(l.n_renders, 2);
    ck_assert_uint_eq((l.renders[0].fn != NULL) + (l.renders[1].fn != NULL), 1);
    ck_assert_uint_eq((l.renders[0].person_fn != NULL) + (l.renders[1].person_fn != NULL), 1);
    loader_release(&l);
    hostcfg_release(&hc);
}
END_TEST

START_TEST(broken_configuration_stops_a_required_plugin_with_file_and_line)
{
    char msgs[8192] = "", cmd[2048];
    /* an unknown domain on line 28 of youth_quick.cfg, and an unknown trigger instrument */
    snprintf(cmd, sizeof(cmd),
             "sed -i 's/domain = \"recruitment\"/domain = \"recruting\"/' "
             "'%s/trafficking/instruments/youth_quick.cfg'",
             dir);
    sh(cmd);
    load_refused(msgs, sizeof(msgs));
    ck_assert_msg(strstr(msgs, "youth_quick.cfg:28: trafficking: item 'offer_not_as_promised': "
                               "unknown domain 'recruting'") != NULL,
                  "%s", msgs);
}
END_TEST

START_TEST(failed_reload_keeps_the_previous_configuration)
{
    struct hostcfg hc;
    struct loader l;
    struct diag d;
    char msgs[8192] = "", cmd[4096], *json;
    FILE *mem;
    ck_assert_int_eq(load(&hc, &l, &d, msgs, sizeof(msgs), &mem), 0);
    json = instrument_list(&l);
    ck_assert_msg(strstr(json, "\"youth_quick\"") != NULL, "%s", json);
    free(json);

    /* Break the triggers file: the reload must fail and say where. */
    snprintf(cmd, sizeof(cmd),
             "sed -i 's/instrument = \"youth_quick\"/instrument = \"no_such\"/' "
             "'%s/trafficking/screening.cfg'",
             dir);
    sh(cmd);
    ck_assert_int_eq(loader_reload(&l), 1);
    fflush(mem);
    ck_assert_msg(strstr(msgs, "screening.cfg:") && strstr(msgs, "no_such"), "%s", msgs);
    ck_assert_msg(strstr(msgs, "the previous configuration stays") != NULL, "%s", msgs);
    json = instrument_list(&l);
    ck_assert_msg(strstr(json, "\"youth_quick\"") != NULL, "old configuration gone: %s", json);
    free(json);

    /* Mend it and add a new instrument version: the reload takes both. */
    snprintf(cmd, sizeof(cmd),
             "cd '%s/trafficking' && sed -i 's/\"no_such\"/\"youth_quick\"/' screening.cfg && "
             "sed 's/version = 2;/version = 3;/' instruments/youth_quick.cfg "
             "> instruments/youth_quick_v3.cfg",
             dir);
    sh(cmd);
    ck_assert_int_eq(loader_reload(&l), 0);
    json = instrument_list(&l);
    ck_assert_msg(strstr(json, "\"version\": 3") != NULL, "%s", json);
    free(json);
    fclose(mem);
    loader_release(&l);
    hostcfg_release(&hc);
}
END_TEST

/* The inode of this user's compiled copy in DIR/cache, or 0 when there is none. */
static ino_t copy_inode(void)
{
    char path[1400];
    struct stat st;
    snprintf(path, sizeof(path), "%s/cache/user-%lu/trafficking.cfgcache", dir,
             (unsigned long)geteuid());
    if (stat(path, &st) != 0)
        return 0;
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    return st.st_ino;
}

/* Loads, expecting no problem; returns `instrument list` as JSON (caller frees). */
static char *load_and_list(void)
{
    struct hostcfg hc;
    struct loader l;
    struct diag d;
    char msgs[8192] = "", *json;
    FILE *mem;
    ck_assert_int_eq(load(&hc, &l, &d, msgs, sizeof(msgs), &mem), 0);
    fclose(mem);
    ck_assert_msg(d.errors == 0, "%s", msgs);
    json = instrument_list(&l);
    loader_release(&l);
    hostcfg_release(&hc);
    return json;
}

START_TEST(compiled_configuration_is_used_until_a_file_changes)
{
    char cmd[4096], *first, *again, *changed;
    ino_t written, kept;
    snprintf(cmd, sizeof(cmd), "mkdir -m 700 '%s/cache'", dir);
    sh(cmd);
    write_host_cfg("cache_dir = \"cache\";");

    first = load_and_list();
    written = copy_inode();
    ck_assert_msg(written != 0, "the first load kept no compiled copy");
    /* A second load reads the copy: a load that parsed would have written a new file. */
    again = load_and_list();
    kept = copy_inode();
    ck_assert_uint_eq(kept, written);
    ck_assert_str_eq(again, first);

    /* One changed title: the copy is not used, and the change is seen. */
    snprintf(cmd, sizeof(cmd),
             "sed -i 's/^  title = .*/  title = \"Youth quick, changed\";/' "
             "'%s/trafficking/instruments/youth_quick.cfg'",
             dir);
    sh(cmd);
    changed = load_and_list();
    ck_assert_msg(strstr(changed, "Youth quick, changed") != NULL, "%s", changed);
    ck_assert_msg(strstr(first, "Youth quick, changed") == NULL, "%s", first);
    ck_assert_uint_ne(copy_inode(), written);
    free(first);
    free(again);
    free(changed);
}
END_TEST

START_TEST(cache_dir_missing_or_not_a_folder_is_an_error_with_file_and_line)
{
    static const struct {
        const char *make; /* shell, in dir */
        const char *want;
    } cases[] = {
        {"true", ": trafficking: cache_dir: there is no folder '"},
        {"echo x > cache", ": trafficking: cache_dir: '"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char msgs[8192] = "", cmd[4096], want[1400];
        snprintf(cmd, sizeof(cmd), "cd '%s' && rm -rf cache && %s", dir, cases[i].make);
        sh(cmd);
        write_host_cfg("cache_dir = \"cache\";");
        load_refused(msgs, sizeof(msgs));
        snprintf(want, sizeof(want), "host.cfg:5%s", cases[i].want);
        ck_assert_msg(strstr(msgs, want) != NULL, "case %zu: want '%s' in: %s", i, want, msgs);
        ck_assert_msg(i == 0 || strstr(msgs, "is not a folder") != NULL, "%s", msgs);
    }
}
END_TEST

START_TEST(cache_dir_others_may_write_is_used_only_when_sticky)
{
    char cmd[4096], *json;
    /* Anyone could swap files in it: not used, and no error. */
    snprintf(cmd, sizeof(cmd), "mkdir '%s/cache' && chmod 777 '%s/cache'", dir, dir);
    sh(cmd);
    write_host_cfg("cache_dir = \"cache\";");
    json = load_and_list();
    ck_assert_msg(strstr(json, "\"youth_quick\"") != NULL, "%s", json);
    ck_assert_uint_eq(copy_inode(), 0);
    free(json);
    /* Sticky, as /tmp: each user keeps to a folder of their own, mode 0700. */
    snprintf(cmd, sizeof(cmd), "chmod 1777 '%s/cache' && test ! -e '%s/cache/user-%lu'", dir, dir,
             (unsigned long)geteuid());
    sh(cmd);
    free(load_and_list());
    ck_assert_uint_ne(copy_inode(), 0);
    snprintf(cmd, sizeof(cmd), "test \"$(stat -c %%a '%s/cache/user-%lu')\" = 700", dir,
             (unsigned long)geteuid());
    sh(cmd);
}
END_TEST

START_TEST(a_wrong_path_setting_still_reports_the_other_files_errors)
{
    char msgs[8192] = "", cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "sed -i 's/instrument = \"youth_quick\"/instrument = \"no_such\"/' "
             "'%s/trafficking/screening.cfg'",
             dir);
    sh(cmd);
    write_host_cfg("routing = 5;");
    load_refused(msgs, sizeof(msgs));
    ck_assert_msg(strstr(msgs, "host.cfg:5: trafficking: 'routing' must be a string") != NULL, "%s",
                  msgs);
    ck_assert_msg(strstr(msgs, "screening.cfg:") != NULL && strstr(msgs, "no_such") != NULL, "%s",
                  msgs);
}
END_TEST

static Suite *trafficking_plugin_suite(void)
{
    Suite *s = suite_create("trafficking_plugin");
    TCase *tc = tcase_create("loader");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, exports_one_symbol_and_registers_its_verbs);
    tcase_add_test(tc, broken_configuration_stops_a_required_plugin_with_file_and_line);
    tcase_add_test(tc, failed_reload_keeps_the_previous_configuration);
    tcase_add_test(tc, compiled_configuration_is_used_until_a_file_changes);
    tcase_add_test(tc, cache_dir_missing_or_not_a_folder_is_an_error_with_file_and_line);
    tcase_add_test(tc, cache_dir_others_may_write_is_used_only_when_sticky);
    tcase_add_test(tc, a_wrong_path_setting_still_reports_the_other_files_errors);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(trafficking_plugin_suite())
