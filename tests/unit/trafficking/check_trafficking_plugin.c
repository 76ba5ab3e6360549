/*
 * check_trafficking_plugin.c: trafficking.so loaded through the host's real
 * loader: it exports one symbol, registers its verbs, refuses to start on a
 * broken configuration with file:line messages, and a reload that fails
 * keeps the previous configuration working.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "loader.h"

static char dir[1024], cfgpath[1200];

/* Runs a shell command or fails the test. */
static void sh(const char *cmd)
{
    ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

/* A private copy of the shipped plugin configuration and a host config naming it. */
static void setup(void)
{
    char cmd[4096];
    FILE *f;
    snprintf(dir, sizeof(dir), "%s/trf_%d", getenv("CASEHOST_TEST_TMP"), (int)getpid());
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && cp -R '%s/conf/trafficking' '%s/'",
             dir, dir, getenv("CASEHOST_TEST_ROOT"), dir);
    sh(cmd);
    snprintf(cfgpath, sizeof(cfgpath), "%s/host.cfg", dir);
    f = fopen(cfgpath, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "paths = { plugin_dir = \"%s/plugins\"; };\n"
            "plugins = ( { name = \"trafficking\"; required = true; settings = {\n"
            "    instruments = \"trafficking/instruments\";\n"
            "    screening = \"trafficking/screening.cfg\"; }; } );\n",
            getenv("CASEHOST_TEST_BUILD"));
    fclose(f);
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
    struct hostcfg hc;
    struct loader l;
    struct diag d;
    char msgs[8192] = "", cmd[2048];
    FILE *mem;
    /* an unknown domain on line 28 of youth_quick.cfg, and an unknown trigger instrument */
    snprintf(cmd, sizeof(cmd),
             "sed -i 's/domain = \"recruitment\"/domain = \"recruting\"/' "
             "'%s/trafficking/instruments/youth_quick.cfg'",
             dir);
    sh(cmd);
    ck_assert_int_eq(load(&hc, &l, &d, msgs, sizeof(msgs), &mem), -2);
    fclose(mem);
    ck_assert_msg(strstr(msgs, "youth_quick.cfg:28: trafficking: item 'offer_not_as_promised': "
                               "unknown domain 'recruting'") != NULL,
                  "%s", msgs);
    ck_assert_msg(strstr(msgs, "it is required, stopping") != NULL, "%s", msgs);
    ck_assert_uint_eq(l.n_plugins, 0);
    loader_release(&l);
    hostcfg_release(&hc);
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

static Suite *trafficking_plugin_suite(void)
{
    Suite *s = suite_create("trafficking_plugin");
    TCase *tc = tcase_create("loader");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, exports_one_symbol_and_registers_its_verbs);
    tcase_add_test(tc, broken_configuration_stops_a_required_plugin_with_file_and_line);
    tcase_add_test(tc, failed_reload_keeps_the_previous_configuration);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(trafficking_plugin_suite())
