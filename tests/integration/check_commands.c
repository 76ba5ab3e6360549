/*
 * check_commands.c: every command, host and plugin, is declared in a typed
 * table, and the one parser holds it to that table. The tables are read
 * back from the program itself (`casehost --json help VERB`), so a command
 * added later is covered without touching this file. For each subcommand:
 * a bad id, a bad enum word, each missing required argument and an unknown
 * option give the exact message, the subcommand's usage, exit 2, nothing on
 * standard output, and nothing written.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

static char db[1024], cfg[1024];
static struct tl_result r;

static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    tl_seed_agencies(db, cfg);
}

/* Rows in every table a command could write; a refused command changes none. */
static long long footprint(void)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM casehost.audit_log) + (SELECT count(*) FROM casehost.cases)"
        "     + (SELECT count(*) FROM casehost.people) + (SELECT count(*) FROM casehost.users)"
        "     + (SELECT count(*) FROM trafficking.screenings)"
        "     + (SELECT count(*) FROM trafficking.referrals)"
        "     + (SELECT count(*) FROM trafficking.consents)";
    PGconn *c = tl_connect(db);
    PGresult *res = PQexec(c, sql);
    long long n;
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(c);
    return n;
}

/* The JSON of `casehost --json help [VERB]`. */
static json_t *help_json(const char *verb)
{
    json_error_t e;
    json_t *j;
    tl_run(&r, db, cfg, TL_AS, "a_admin", "--json", "help", verb, NULL);
    ck_assert_msg(r.status == 0, "help %s: exit %d\n%s", verb ? verb : "", r.status, r.err);
    j = json_loads(r.out, 0, &e);
    ck_assert_msg(j != NULL, "help %s: not JSON: %s\n%s", verb ? verb : "", e.text, r.out);
    return j;
}

/* A value the parser accepts for an argument of this type. */
static const char *good_value(const json_t *arg)
{
    const char *type = json_string_value(json_object_get(arg, "type"));
    static char num[32];
    if (strcmp(type, "id") == 0)
        return "1";
    if (strcmp(type, "int") == 0) {
        snprintf(num, sizeof(num), "%lld",
                 (long long)json_integer_value(json_object_get(arg, "min")));
        return num;
    }
    if (strcmp(type, "enum") == 0)
        return json_string_value(json_array_get(json_object_get(arg, "values"), 0));
    if (strcmp(type, "date") == 0 || strcmp(type, "timestamp") == 0)
        return "2026-01-02";
    if (strcmp(type, "bool") == 0)
        return "yes";
    if (strcmp(type, "file") == 0)
        return "/dev/null";
    return "x";
}

struct call {
    const char *argv[48];
    int argc;
};

static void push(struct call *c, const char *s)
{
    ck_assert_int_lt(c->argc, 46);
    c->argv[c->argc++] = s;
}

/*
 * The call of verb sub with every required argument given a good value,
 * except skip (not given) and bad (given value instead); then extra.
 */
static void build(struct call *c, const char *verb, const json_t *sub, const json_t *skip,
                  const json_t *bad, const char *value, const char *extra)
{
    const json_t *args = json_object_get(sub, "args"), *a;
    size_t i;
    c->argc = 0;
    push(c, TL_AS);
    push(c, "a_admin");
    push(c, verb);
    if (json_is_string(json_object_get(sub, "sub")))
        push(c, json_string_value(json_object_get(sub, "sub")));
    json_array_foreach(args, i, a)
    {
        const char *name = json_string_value(json_object_get(a, "name"));
        if (a == skip || (!json_is_true(json_object_get(a, "required")) && a != bad))
            continue;
        if (strncmp(name, "--", 2) == 0)
            push(c, name);
        push(c, a == bad ? value : good_value(a));
    }
    if (extra != NULL)
        push(c, extra);
    c->argv[c->argc] = NULL;
}

static int run_call(const struct call *c)
{
    const char *a[48] = {0};
    for (int i = 0; i < c->argc; i++)
        a[i] = c->argv[i];
    return tl_run(&r, db, cfg, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10],
                  a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21],
                  a[22], a[23], a[24], a[25], a[26], a[27], a[28], a[29], a[30], a[31], NULL);
}

/* Runs the call and checks exit 2, the exact message and the usage line. */
static void expect_usage_error(const struct call *c, const char *message, const char *usage, int *n)
{
    char want[2048];
    run_call(c);
    snprintf(want, sizeof(want), "casehost: %s\nusage: %s\n", message, usage);
    ck_assert_msg(r.status == 2, "%s %s: exit %d, want 2 for '%s'\n%s", c->argv[2], c->argv[3],
                  r.status, message, r.err);
    ck_assert_msg(strcmp(r.err, want) == 0, "%s %s:\nwant: %s\ngot:  %s", c->argv[2], c->argv[3],
                  want, r.err);
    ck_assert_msg(r.out[0] == '\0', "%s %s printed to stdout: %s", c->argv[2], c->argv[3], r.out);
    (*n)++;
}

START_TEST(every_command_refuses_bad_calls_by_its_table)
{
    json_t *all = help_json(NULL), *v;
    long long before = footprint();
    size_t i;
    int checked = 0, verbs = 0;
    json_array_foreach(json_object_get(all, "verbs"), i, v)
    {
        const char *verb = json_string_value(json_object_get(v, "verb"));
        json_t *one, *sub;
        size_t k;
        ck_assert_msg(json_is_true(json_object_get(v, "typed")), "verb %s has no typed table",
                      verb);
        one = help_json(verb);
        verbs++;
        json_array_foreach(json_object_get(one, "subs"), k, sub)
        {
            const char *usage = json_string_value(json_object_get(sub, "usage"));
            json_t *a;
            size_t m;
            struct call c;
            char msg[512];
            /* An unknown option. */
            build(&c, verb, sub, NULL, NULL, NULL, "--no-such-option");
            expect_usage_error(&c, "unknown option '--no-such-option'", usage, &checked);
            const json_t *last_positional = NULL;
            json_array_foreach(json_object_get(sub, "args"), m, a)
            {
                const char *name = json_string_value(json_object_get(a, "name"));
                if (strncmp(name, "--", 2) != 0 && json_is_true(json_object_get(a, "required")))
                    last_positional = a;
            }
            json_array_foreach(json_object_get(sub, "args"), m, a)
            {
                const char *name = json_string_value(json_object_get(a, "name"));
                const char *type = json_string_value(json_object_get(a, "type"));
                int option = strncmp(name, "--", 2) == 0;
                /*
                 * Leaving out a positional other than the last shifts the
                 * rest left: it is the last one that is then missing.
                 */
                if (json_is_true(json_object_get(a, "required")) &&
                    (option || a == last_positional)) {
                    build(&c, verb, sub, a, NULL, NULL, NULL);
                    snprintf(msg, sizeof(msg), "missing %s", name);
                    expect_usage_error(&c, msg, usage, &checked);
                }
                if (strcmp(type, "id") == 0) {
                    build(&c, verb, sub, NULL, a, "12abc", NULL);
                    snprintf(msg, sizeof(msg), "%s: '12abc' is not an id", name);
                    expect_usage_error(&c, msg, usage, &checked);
                }
                if (strcmp(type, "enum") == 0) {
                    char list[400] = "";
                    json_t *w;
                    size_t q, n = 0;
                    json_array_foreach(json_object_get(a, "values"), q, w) n += (size_t)snprintf(
                        list + n, sizeof(list) - n, "%s%s", q ? ", " : "", json_string_value(w));
                    build(&c, verb, sub, NULL, a, "bogus-word", NULL);
                    snprintf(msg, sizeof(msg), "%s: 'bogus-word' is not one of %s", name, list);
                    expect_usage_error(&c, msg, usage, &checked);
                }
            }
        }
        json_decref(one);
    }
    json_decref(all);
    /* Host and plugin verbs were all there, and nothing was written by any refusal. */
    ck_assert_int_ge(verbs, 15);
    ck_assert_int_ge(checked, 100);
    ck_assert_int_eq(footprint(), before);
}
END_TEST

START_TEST(help_of_a_verb_is_its_table)
{
    /* `help screen` prints every sub's usage line exactly as --json help gives it. */
    json_t *one = help_json("screen"), *sub;
    size_t k;
    tl_run(&r, db, cfg, TL_AS, "a_worker", "help", "screen", NULL);
    ck_assert_int_eq(r.status, 0);
    json_array_foreach(json_object_get(one, "subs"), k, sub)
    {
        const char *usage = json_string_value(json_object_get(sub, "usage"));
        ck_assert_msg(strstr(r.out, usage) != NULL, "help screen lacks '%s':\n%s", usage, r.out);
    }
    ck_assert_ptr_nonnull(strstr(r.out, "(plugin trafficking)"));
    json_decref(one);
}
END_TEST

static Suite *commands_suite(void)
{
    Suite *s = suite_create("commands");
    TCase *tc = tcase_create("tables");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_command_refuses_bad_calls_by_its_table);
    tcase_add_test(tc, help_of_a_verb_is_its_table);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(commands_suite())
