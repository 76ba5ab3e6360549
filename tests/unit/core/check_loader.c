/*
 * check_loader.c: the plugin contract as the loader enforces it: a good
 * plugin loads with its commands and hooks; a wrong ABI major, a newer
 * minor, a missing entry symbol, a file that is not a shared object and a
 * failing init are refused with messages naming the file and versions.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "loader.h"

static char path[1024];

static const char *build_path(const char *so)
{
    const char *b = getenv("CASEHOST_TEST_BUILD");
    ck_assert_msg(b != NULL, "CASEHOST_TEST_BUILD not set: run with make check");
    snprintf(path, sizeof(path), "%s/tests/plugins/%s", b, so);
    return path;
}

/* Loads one file as plugin "testplug"; returns loader_load_one's result and its message. */
static int load(const char *so, struct loader *l, char *err, size_t errlen)
{
    static struct plugin_conf pc;
    static struct diag d;
    static const char *const host_verbs[] = {"case", "help", NULL};
    memset(l, 0, sizeof(*l));
    loader_set_host_verbs(host_verbs);
    diag_init(&d, NULL);
    l->diag = &d;
    l->config_dir = "/nonexistent";
    memset(&pc, 0, sizeof(pc));
    pc.name = "testplug";
    pc.path = (char *)build_path(so);
    return loader_load_one(l, &pc, err, errlen);
}

START_TEST(good_plugin_loads_and_registers)
{
    struct loader l;
    char err[1024] = "";
    ck_assert_int_eq(load("testplug.so", &l, err, sizeof(err)), 0);
    ck_assert_uint_eq(l.n_plugins, 1);
    ck_assert_str_eq(l.plugins[0]->desc->name, "testplug");
    ck_assert_ptr_nonnull(loader_command(&l, "tp-events"));
    ck_assert_ptr_null(loader_command(&l, "no-such-verb"));
    /* two hooks for each of the five events, one render section */
    ck_assert_uint_eq(l.n_hooks, 2 * CH_EV__COUNT);
    ck_assert_uint_eq(l.n_renders, 1);
    loader_release(&l);
    ck_assert_uint_eq(l.n_plugins, 0);
}
END_TEST

static const struct {
    const char *so;
    const char *expect[3]; /* substrings the message must hold */
} refused[] = {
    {"testplug_major.so", {"built for plugin ABI 99.2", "this host provides 1.2", "major"}},
    {"testplug_minor.so", {"built for plugin ABI 1.3", "newer than this host's 1.2", "upgrade"}},
    {"testplug_nosym.so", {"not a casehost plugin", "casehost_plugin_entry", "testplug_nosym.so"}},
    {"not_a_plugin.so", {"cannot load", "not_a_plugin.so", "testplug"}},
    {"missing.so", {"no file", "missing.so", "testplug"}},
    {"testplug_libconfig.so",
     {"built against libconfig 1.6", "this host uses 1.5", "rebuild the plugin"}},
};

START_TEST(a_plugin_built_against_abi_1_0_still_loads)
{
    struct loader l;
    char err[1024] = "";
    ck_assert_msg(load("testplug_abi10.so", &l, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(l.plugins[0]->desc->abi_minor, 0);
    ck_assert_ptr_nonnull(loader_command(&l, "tp-events"));
    /* its 1.0 command keeps the argv path; the typed one needs 1.1 */
    ck_assert_int_eq(loader_command(&l, "tp-events")->typed, 0);
    ck_assert_ptr_null(loader_command(&l, "tp-typed"));
    loader_release(&l);
}
END_TEST

START_TEST(a_typed_command_is_registered_with_its_table)
{
    struct loader l;
    char err[1024] = "";
    const struct command_entry *ce;
    ck_assert_int_eq(load("testplug.so", &l, err, sizeof(err)), 0);
    ce = loader_command(&l, "tp-typed");
    ck_assert_ptr_nonnull(ce);
    ck_assert_int_eq(ce->typed, 1);
    ck_assert_uint_eq(ce->spec.n_args, 6);
    ck_assert_str_eq(ce->spec.args[0].name, "case");
    loader_release(&l);
}
END_TEST

START_TEST(a_verb_that_collides_refuses_the_load_naming_both)
{
    struct loader l;
    char err[1024] = "";
    ck_assert_int_eq(load("testplug_collide.so", &l, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "plugin 'testplug' command 'case' collides with the host's command "
                              "'case'") != NULL,
                  "%s", err);
    ck_assert_ptr_nonnull(strstr(err, "testplug_collide.so"));
    ck_assert_uint_eq(l.n_plugins, 0);
    ck_assert_uint_eq(l.n_commands, 0);
    ck_assert_uint_eq(l.n_hooks, 0);
    loader_release(&l);
}
END_TEST

START_TEST(a_verb_of_another_plugin_refuses_the_second_naming_both)
{
    struct loader l;
    char err[1024] = "";
    static struct plugin_conf second;
    ck_assert_int_eq(load("testplug.so", &l, err, sizeof(err)), 0);
    memset(&second, 0, sizeof(second));
    second.name = "testplug";
    second.path = (char *)build_path("testplug_abi10.so");
    ck_assert_int_eq(loader_load_one(&l, &second, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "command 'tp-events' collides with plugin 'testplug''s command "
                              "'tp-events'") != NULL,
                  "%s", err);
    ck_assert_uint_eq(l.n_plugins, 1);
    loader_release(&l);
}
END_TEST

START_TEST(contract_breakers_are_refused)
{
    struct loader l;
    char err[1024] = "";
    if (strcmp(refused[_i].so, "not_a_plugin.so") == 0) {
        FILE *f = fopen(build_path("not_a_plugin.so"), "w");
        ck_assert_ptr_nonnull(f);
        fputs("this is a text file, not a shared object\n", f);
        fclose(f);
    }
    ck_assert_int_eq(load(refused[_i].so, &l, err, sizeof(err)), -1);
    for (int k = 0; k < 3; k++)
        ck_assert_msg(strstr(err, refused[_i].expect[k]) != NULL, "%s: '%s' not in: %s",
                      refused[_i].so, refused[_i].expect[k], err);
    ck_assert_uint_eq(l.n_plugins, 0);
    ck_assert_uint_eq(l.n_hooks, 0);
    loader_release(&l);
}
END_TEST

/* Writes a host config naming testplug with the given entry text; loads it. */
static int load_all(const char *entry, char *msgs, size_t msgslen, struct hostcfg *hc,
                    struct loader *l)
{
    char cfg[2048], file[1024];
    struct diag d;
    FILE *mem = fmemopen(msgs, msgslen, "w");
    FILE *f;
    int rc;
    snprintf(file, sizeof(file), "%s/loader_test_%d.cfg", getenv("CASEHOST_TEST_TMP"),
             (int)getpid());
    snprintf(cfg, sizeof(cfg),
             "paths = { plugin_dir = \"%s/tests/plugins\"; };\n"
             "plugins = (\n  %s\n);\n",
             getenv("CASEHOST_TEST_BUILD"), entry);
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs(cfg, f);
    fclose(f);
    diag_init(&d, mem);
    ck_assert_int_eq(hostcfg_load(hc, file, &d), 0);
    rc = loader_load_all(l, hc, &d);
    fclose(mem);
    return rc;
}

START_TEST(optional_init_failure_is_skipped_with_message)
{
    struct hostcfg hc;
    struct loader l;
    char msgs[4096] = "";
    int rc = load_all("{ name = \"testplug\";\n    settings = {\n      fail_init = true; }; }",
                      msgs, sizeof(msgs), &hc, &l);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(l.n_plugins, 0);
    ck_assert_uint_eq(l.n_hooks, 0);
    ck_assert_msg(strstr(msgs, "_test_") && strstr(msgs, ".cfg:5: testplug: fail_init is set"),
                  "no file:line message: %s", msgs);
    ck_assert_msg(strstr(msgs, "continuing without it") != NULL, "%s", msgs);
    loader_release(&l);
    hostcfg_release(&hc);
}
END_TEST

START_TEST(required_init_failure_stops_the_host)
{
    struct hostcfg hc;
    struct loader l;
    char msgs[4096] = "";
    int rc = load_all("{ name = \"testplug\"; required = true; settings = { fail_init = true; }; }",
                      msgs, sizeof(msgs), &hc, &l);
    ck_assert_int_eq(rc, -2);
    ck_assert_msg(strstr(msgs, "it is required, stopping") != NULL, "%s", msgs);
    loader_release(&l);
    hostcfg_release(&hc);
}
END_TEST

START_TEST(declining_plugin_is_not_an_error)
{
    struct hostcfg hc;
    struct loader l;
    char msgs[4096] = "";
    int rc = load_all("{ name = \"testplug\"; required = true; settings = { decline = true; }; }",
                      msgs, sizeof(msgs), &hc, &l);
    /* Declining is not failing, but a required plugin that declines is not running. */
    ck_assert_int_eq(rc, -2);
    ck_assert_msg(strstr(msgs, "not started (nothing configured)") != NULL, "%s", msgs);
    loader_release(&l);
    hostcfg_release(&hc);
}
END_TEST

START_TEST(name_mismatch_is_refused)
{
    struct hostcfg hc;
    struct loader l;
    char msgs[4096] = "";
    int rc = load_all("{ name = \"other\"; file = \"testplug.so\"; }", msgs, sizeof(msgs), &hc, &l);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(l.n_plugins, 0);
    ck_assert_msg(strstr(msgs, "the file says it is plugin 'testplug'") != NULL, "%s", msgs);
    loader_release(&l);
    hostcfg_release(&hc);
}
END_TEST

START_TEST(reload_failure_keeps_the_plugin)
{
    struct hostcfg hc;
    struct loader l;
    char msgs[4096] = "";
    struct diag d;
    config_setting_t *set, *fi;
    ck_assert_int_eq(load_all("{ name = \"testplug\"; settings = { fail_title = \"X\"; }; }", msgs,
                              sizeof(msgs), &hc, &l),
                     0);
    ck_assert_uint_eq(l.n_plugins, 1);
    diag_init(&d, NULL);
    l.diag = &d;
    /* Break the settings in memory, as an edited file would on reload. */
    set = (config_setting_t *)hc.plugins[0].settings;
    fi = config_setting_add(set, "fail_init", CONFIG_TYPE_BOOL);
    config_setting_set_bool(fi, 1);
    ck_assert_int_eq(loader_reload(&l), 1);
    ck_assert_uint_eq(l.n_plugins, 1);
    ck_assert_ptr_nonnull(loader_command(&l, "tp-events"));
    config_setting_set_bool(fi, 0);
    ck_assert_int_eq(loader_reload(&l), 0);
    loader_release(&l);
    hostcfg_release(&hc);
}
END_TEST

static Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("contract");
    tcase_add_test(tc, good_plugin_loads_and_registers);
    tcase_add_test(tc, a_plugin_built_against_abi_1_0_still_loads);
    tcase_add_test(tc, a_typed_command_is_registered_with_its_table);
    tcase_add_test(tc, a_verb_that_collides_refuses_the_load_naming_both);
    tcase_add_test(tc, a_verb_of_another_plugin_refuses_the_second_naming_both);
    tcase_add_loop_test(tc, contract_breakers_are_refused, 0,
                        (int)(sizeof(refused) / sizeof(refused[0])));
    tcase_add_test(tc, optional_init_failure_is_skipped_with_message);
    tcase_add_test(tc, required_init_failure_stops_the_host);
    tcase_add_test(tc, declining_plugin_is_not_an_error);
    tcase_add_test(tc, name_mismatch_is_refused);
    tcase_add_test(tc, reload_failure_keeps_the_plugin);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(loader_suite())
