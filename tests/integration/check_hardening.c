/*
 * check_hardening.c: what the security review of "who may do what" asked of
 * input and output, through the real casehost binary and a real PostgreSQL:
 * ids that are out of range or carry garbage are usage errors in every host
 * and plugin command; 'infinity', 'epoch', BC and 5-digit years are refused
 * in every date option with nothing written; configuration files over 4 MiB
 * are refused before parsing; a case title or note with terminal escapes is
 * shown escaped by `case show` and `case list`.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024], root[1024];
static json_t *doc;

#include "testcli.h"

static void teardown(void);

/*
 * One database for a whole TCase (an unchecked fixture, run once in the
 * parent): the refusals it checks write nothing, so the tests can share it.
 * Person 1 and case 1 exist, so a refusal that slipped through would write.
 */
static void shared_setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    snprintf(root, sizeof(root), "%s", tl_env("CASEHOST_TEST_ROOT"));
    tl_seed_agencies(db, cfg);
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Jo", "--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "existing", "--person", "1");
}

/* Every row a refused command could have written, summed: it only ever grows. */
static long long footprint(void)
{
    PGconn *c = tl_connect(db);
    long long n = tl_value(c, "SELECT (SELECT count(*) FROM casehost.cases)"
                              " + (SELECT count(*) FROM casehost.case_history)"
                              " + (SELECT count(*) FROM casehost.people)"
                              " + (SELECT count(*) FROM casehost.notes)"
                              " + (SELECT count(*) FROM casehost.audit_log)"
                              " + (SELECT count(*) FROM trafficking.consents)"
                              " + (SELECT count(*) FROM trafficking.safe_contact)"
                              " + (SELECT count(*) FROM trafficking.screenings)");
    PQfinish(c);
    ck_assert_int_ge(n, 0);
    return n;
}

/* ------------------------------------------------------------------- ids --- */

/* Each is refused as an id, whatever strtoll would make of it. */
static const char *const bad_ids[] = {
    "99999999999999999999", /* beyond 64 bits: strtoll clamps with ERANGE */
    "9223372036854775808",  /* one past INT64_MAX */
    "12abc",
    "-3",
    "0",
    " 7",
    "+7",
    "7 ",
    "0x10",
    "",
};
#define N_BAD_IDS (sizeof(bad_ids) / sizeof(bad_ids[0]))

#define ID "\001id" /* where a command takes the id under test */

/*
 * Commands with an id or number argument, and the word the message names it
 * by. A typed command's id is refused by the host's parser, which names the
 * argument as declared: "person: 'x' is not an id", "--case: 'x' is not an id".
 */
static const struct {
    const char *args[12];
    const char *what; /* "case" gives "case 'x' is not a valid id" */
    int typed;        /* parsed by the host from a typed table */
} id_commands[] = {
    {{"case", "show", ID}, "case", 1},
    {{"case", "update", ID, "--title", "x"}, "case", 1},
    {{"case", "close", ID, "--reason", "x"}, "case", 1},
    {{"case", "new", "--title", "x", "--person", ID}, "--person", 1},
    {{"case", "update", "1", "--person", ID}, "--person", 1},
    {{"note", "add", ID, "text"}, "case", 1},
    {{"person", "show", ID}, "person", 1},
    {{"screen", "start", ID, "--instrument", "youth_quick", "offer_not_as_promised=no"}, "case", 1},
    {{"screen", "start", "1", "--instrument", "youth_quick", "--supersedes", ID,
      "offer_not_as_promised=no"},
     "--supersedes",
     1},
    {{"screen", "decline", ID, "--instrument", "youth_quick", "--reason", "x"}, "case", 1},
    {{"screen", "show", ID}, "screening", 1},
    {{"screen", "list", ID}, "case", 1},
    {{"screen", "step", ID}, "case", 1},
    {{"screen", "resume", ID}, "case", 1},
    {{"screen", "discard", ID}, "case", 1},
    {{"consent", "add", ID, "--purpose", "referral", "--recipients", "kind:legal_aid", "--regime",
      "vawa_voca", "--expires", "2099-12-31"},
     "person",
     1},
    {{"consent", "revoke", ID, "--reason", "x"}, "consent", 1},
    {{"consent", "list", ID}, "person", 1},
    {{"safety", "set", ID, "--phone", "555-0100"}, "person", 1},
    {{"safety", "show", ID}, "person", 1},
    {{"referral", "ack", ID}, "referral", 1},
    {{"referral", "reject", ID, "--reason", "x"}, "referral", 1},
    {{"referral", "show", ID}, "referral", 1},
    {{"referral", "list", "--case", ID}, "--case", 1},
    {{"route", "explain", ID}, "case", 1},
    {{"route", "explain", "1", "--decision", ID}, "--decision", 1},
};

START_TEST(bad_ids_are_usage_errors_naming_the_argument)
{
    long long before = footprint();
    for (size_t k = 0; k < N_BAD_IDS; k++) {
        const char *a[12], *v = bad_ids[k];
        char want[160];
        /* case update --person "" means "no person", as "none" does */
        if (v[0] == '\0' && strcmp(id_commands[_i].args[1], "update") == 0 &&
            strcmp(id_commands[_i].what, "--person") == 0)
            continue;
        for (size_t j = 0; j < 12; j++) {
            const char *x = id_commands[_i].args[j];
            a[j] = x != NULL && strcmp(x, ID) == 0 ? v : x;
        }
        tl_run(&r, db, cfg, TL_AS, "a_worker", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
               a[9], a[10], a[11], NULL);
        ck_assert_msg(r.status == 2, "%s %s '%s': exit %d, want 2\n%s%s", a[0], a[1], v, r.status,
                      r.out, r.err);
        ck_assert_str_eq(r.out, "");
        snprintf(want, sizeof(want),
                 id_commands[_i].typed ? "%s: '%s' is not an id"
                                       : "%s '%s' is not a valid id (a positive number)",
                 id_commands[_i].what, v);
        ck_assert_msg(strstr(r.err, want) != NULL, "%s %s '%s': want '%s' in:\n%s", a[0], a[1], v,
                      want, r.err);
    }
    ck_assert_int_eq(footprint(), before);
}
END_TEST

/*
 * The plugin's whole-number options: the same digits-only rule, the option
 * named. (`instrument show ID --version N` cannot be reached from the command
 * line: the host takes --version anywhere as its own.)
 */
static const struct {
    const char *args[6];
    const char *want; /* printf format taking the value */
} number_options[] = {
    {{"screen", "due", "--hours", ID}, "--hours: '%s' is not a whole number from 0 to 8760"},
    {{"dispatch", "--once", "--max-attempts", ID},
     "--max-attempts: '%s' is not a whole number from 1 to 1000"},
    {{"dispatch", "--once", "--idle-ms", ID},
     "--idle-ms: '%s' is not a whole number from 1 to 3600000"},
};

START_TEST(bad_numbers_are_usage_errors_naming_the_option)
{
    static const char *const bad[] = {"99999999999999999999", "12abc", " 7", "+7", "-3", ""};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        const char *a[6], *v = bad[k];
        char want[200];
        for (size_t j = 0; j < 6; j++) {
            const char *x = number_options[_i].args[j];
            a[j] = x != NULL && strcmp(x, ID) == 0 ? v : x;
        }
        tl_run(&r, db, cfg, TL_AS, "a_svc", a[0], a[1], a[2], a[3], a[4], a[5], NULL);
        ck_assert_msg(r.status == 2, "%s %s '%s': exit %d, want 2\n%s%s", a[0], a[2], v, r.status,
                      r.out, r.err);
        snprintf(want, sizeof(want), number_options[_i].want, v);
        ck_assert_msg(strstr(r.err, want) != NULL, "want '%s' in:\n%s", want, r.err);
    }
}
END_TEST

/* The same ids written plainly still work: the rule refuses garbage, not numbers. */
START_TEST(plain_ids_still_work)
{
    RUN_OK(TL_AS, "a_worker", "case", "show", "1");
    RUN_OK(TL_AS, "a_worker", "case", "show", "0001");
    RUN_OK(TL_AS, "a_worker", "person", "show", "1");
    RUN_OK(TL_AS, "a_worker", "consent", "list", "1");
    RUN_OK(TL_AS, "a_worker", "screen", "list", "1");
    RUN_OK(TL_AS, "a_worker", "referral", "list", "--case", "1");
    RUN_OK(TL_AS, "a_worker", "screen", "due", "--hours", "48");
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "case", "show", "9223372036854775807", NULL), 1);
    HAS(r.err, "case 9223372036854775807 not found");
}
END_TEST

/* ----------------------------------------------------------------- dates --- */

/* Each is accepted by PostgreSQL's input parser and is no date a caseworker means. */
static const char *const bad_dates[] = {
    "infinity",      "-infinity",           "+infinity", "Infinity", "epoch",
    "EPOCH",         "10000-01-01",         "100000101", /* 1 January 10000, as YYYYMMDD */
    "2000-01-01 BC", "9999-12-31 23:00-05",              /* year 10000 in UTC */
    "294276-01-01",  "tomorrow or so",
};
#define N_BAD_DATES (sizeof(bad_dates) / sizeof(bad_dates[0]))

#define DATE "\001date"

static const struct {
    const char *args[12];
    const char *option;
} date_commands[] = {
    {{"case", "new", "--title", "t", "--runaway-start", DATE}, "--runaway-start"},
    {{"case", "new", "--title", "t", "--runaway-return", DATE}, "--runaway-return"},
    {{"case", "update", "1", "--runaway-start", DATE}, "--runaway-start"},
    {{"case", "update", "1", "--title", "changed", "--runaway-return", DATE}, "--runaway-return"},
    {{"person", "add", "--given", "Sam", "--dob", DATE}, "--dob"},
    {{"consent", "add", "1", "--purpose", "referral", "--recipients", "kind:legal_aid", "--regime",
      "vawa_voca", "--expires", DATE},
     "--expires"},
    {{"routing", "replay", "--config", "\001confdir", "--since", DATE}, "--since"},
};

START_TEST(impossible_dates_are_refused_naming_the_option_and_nothing_is_written)
{
    char confdir[1100];
    long long before = footprint();
    snprintf(confdir, sizeof(confdir), "%s/conf/trafficking", root);
    for (size_t k = 0; k < N_BAD_DATES; k++) {
        const char *a[12], *v = bad_dates[k];
        char want[200];
        for (size_t j = 0; j < 12; j++) {
            const char *x = date_commands[_i].args[j];
            a[j] = x == NULL                       ? NULL
                   : strcmp(x, DATE) == 0          ? v
                   : strcmp(x, "\001confdir") == 0 ? confdir
                                                   : x;
        }
        tl_run(&r, db, cfg, TL_AS, "a_worker", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
               a[9], a[10], a[11], NULL);
        ck_assert_msg(r.status == 2, "%s %s '%s': exit %d, want 2\n%s%s", a[0], a[1], v, r.status,
                      r.out, r.err);
        ck_assert_str_eq(r.out, "");
        snprintf(want, sizeof(want), "%s: '%s' is not a date and time", date_commands[_i].option,
                 v);
        ck_assert_msg(strstr(r.err, want) != NULL, "want '%s' in:\n%s", want, r.err);
    }
    ck_assert_int_eq(footprint(), before);
}
END_TEST

/* now (the README's --runaway-return now), today, and ordinary dates and times still work. */
START_TEST(real_dates_and_now_still_work)
{
    char confdir[1100];
    snprintf(confdir, sizeof(confdir), "%s/conf/trafficking", root);
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "t", "--runaway-start", "2020-01-01 10:00",
           "--runaway-return", "now");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--runaway-start", "today", "--runaway-return",
           "none");
    RUN_OK(TL_AS, "a_worker", "case", "update", "1", "--runaway-start", "May 3 2024 14:30");
    RUN_OK(TL_AS, "a_worker", "person", "add", "--dob", "2010-05-06");
    RUN_JSON("consent", "add", "1", "--purpose", "referral", "--recipients", "kind:legal_aid",
             "--regime", "vawa_voca", "--expires", "2099-12-31");
    ck_assert_int_gt(jint(json_object_get(doc, "consent"), "consent"), 0);
    RUN_OK(TL_AS, "a_worker", "routing", "replay", "--config", confdir, "--since", "2026-01-01");
    {
        PGconn *c = tl_connect(db);
        ck_assert_int_eq(tl_value(c, "SELECT count(*) FROM casehost.cases WHERE runaway_return"
                                     " > now() - interval '1 hour'"),
                         1);
        PQfinish(c);
    }
}
END_TEST

/* ------------------------------------------------------ files over 4 MiB --- */

#define MIB (1024L * 1024L)

/*
 * Writes base (a file that would load) padded with blank lines to size bytes
 * into the test's temp dir, so only its size can make it fail. Returns the
 * path (static storage).
 */
static const char *padded(const char *name, const char *base_path, long size)
{
    static char path[1100];
    char line[64];
    long n = 0;
    FILE *in, *out;
    int ch;
    snprintf(path, sizeof(path), "%s/%ld_%s", tl_env("CASEHOST_TEST_TMP"), (long)getpid(), name);
    out = fopen(path, "w");
    ck_assert_msg(out != NULL, "cannot write %s", path);
    if (base_path != NULL) {
        in = fopen(base_path, "r");
        ck_assert_msg(in != NULL, "cannot read %s", base_path);
        while ((ch = fgetc(in)) != EOF && n < size) {
            fputc(ch, out);
            n++;
        }
        fclose(in);
    }
    memset(line, ' ', sizeof(line) - 1);
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = '\0';
    for (; n + (long)strlen(line) <= size; n += (long)strlen(line))
        fputs(line, out);
    for (; n < size; n++)
        fputc('\n', out);
    fclose(out);
    return path;
}

/* A host config that loads: the trafficking plugin with the shipped files. */
static const char *host_base(void)
{
    return tl_config(tl_trafficking());
}

START_TEST(host_config_over_4_mib_is_refused_before_parsing)
{
    char base[1100], big[1100], want[1200];
    snprintf(base, sizeof(base), "%s", host_base());
    /* exactly 4 MiB still loads */
    snprintf(big, sizeof(big), "%s", padded("host_4mib.cfg", base, 4 * MIB));
    ck_assert_int_eq(tl_run(&r, NULL, big, "plugin", "list", NULL), 0);
    HAS(r.out, "trafficking");
    /* one byte more, and 5 MiB, do not */
    for (int i = 0; i < 2; i++) {
        snprintf(big, sizeof(big), "%s",
                 padded(i ? "host_5mib.cfg" : "host_4mib_1.cfg", base, i ? 5 * MIB : 4 * MIB + 1));
        ck_assert_int_eq(tl_run(&r, NULL, big, "plugin", "list", NULL), 2);
        snprintf(want, sizeof(want), "%s: larger than 4 MiB, refused before parsing", big);
        HAS(r.err, want);
        ck_assert_ptr_null(strstr(r.err, "syntax error"));
    }
}
END_TEST

/* Where a plugin file is read, and how the program is made to read it. */
enum big_where {
    BIG_SCREENING,  /* settings.screening: loaded at start */
    BIG_INSTRUMENT, /* a file in settings.instruments */
    BIG_ROUTING,    /* settings.routing */
    BIG_DESTINATIONS /* settings.destinations */,
    BIG_CANDIDATE, /* routing.cfg of a candidate folder: route what-if --config-dir */
    BIG_FIXTURES,  /* routing test FILE */
    BIG_CASE_CFG,  /* route what-if --input FILE.cfg */
    BIG_CASE_JSON, /* route what-if --input FILE.json */
    BIG_ANSWERS,   /* screen start --answers FILE */
};

/* How a refusal reads: the host prints a plugin's configuration errors as "FILE: plugin: ...". */
#define AS_CONFIG_ERROR "%s: trafficking: larger than 4 MiB, refused before parsing"

static const struct {
    const char *name;
    enum big_where where;
    const char *base; /* under the checkout: a file that would load */
    int status;
    const char *want; /* printf format taking the big file's path */
} big_files[] = {
    {"screening.cfg", BIG_SCREENING, "conf/trafficking/screening.cfg", 2, AS_CONFIG_ERROR},
    {"an instrument", BIG_INSTRUMENT, "conf/trafficking/instruments/youth_quick.cfg", 2,
     AS_CONFIG_ERROR},
    {"routing.cfg", BIG_ROUTING, "conf/trafficking/routing.cfg", 2, AS_CONFIG_ERROR},
    {"destinations.cfg", BIG_DESTINATIONS, "conf/trafficking/destinations.cfg", 2, AS_CONFIG_ERROR},
    {"candidate routing.cfg", BIG_CANDIDATE, "conf/trafficking/routing.cfg", 1, AS_CONFIG_ERROR},
    {"routing-tests.cfg", BIG_FIXTURES, "conf/trafficking/routing-tests.cfg", 1, AS_CONFIG_ERROR},
    {"what-if case.cfg", BIG_CASE_CFG, "tests/data/routing/case_adult.cfg", 1, AS_CONFIG_ERROR},
    {"what-if case.json", BIG_CASE_JSON, "tests/data/routing/case_adult.json", 1,
     "%s: larger than 4 MiB, refused before parsing"},
    {"answers file", BIG_ANSWERS, "tests/data/hardening/answers_youth_quick.txt", 2,
     "cannot read answers file '%s': larger than 4 MiB, refused before parsing"},
};

/* The trafficking entry with the shipped files, the one named setting pointing at path. */
static const char *plugin_entry(const char *setting, const char *path)
{
    static const char *const names[] = {"instruments", "screening", "destinations", "routing"};
    static const char *const shipped[] = {"instruments", "screening.cfg", "destinations.cfg",
                                          "routing.cfg"};
    static char buf[8192];
    size_t off = (size_t)snprintf(buf, sizeof(buf),
                                  "{ name = \"trafficking\"; required = true;"
                                  " file = \"%s/plugins/trafficking.so\";"
                                  " sql = \"%s/sql/trafficking\"; settings = {",
                                  tl_env("CASEHOST_TEST_BUILD"), root);
    for (size_t i = 0; i < 4 && off < sizeof(buf); i++) {
        if (strcmp(names[i], setting) == 0)
            off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s = \"%s\";", names[i], path);
        else
            off +=
                (size_t)snprintf(buf + off, sizeof(buf) - off, " %s = \"%s/conf/trafficking/%s\";",
                                 names[i], root, shipped[i]);
    }
    if (off < sizeof(buf))
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, " }; }");
    ck_assert_msg(off < sizeof(buf), "plugin entry too long");
    return buf;
}

/* Copies a file byte for byte. */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int ch;
    ck_assert_msg(in != NULL && out != NULL, "cannot copy %s to %s", from, to);
    while ((ch = fgetc(in)) != EOF)
        fputc(ch, out);
    fclose(in);
    fclose(out);
}

START_TEST(plugin_files_over_4_mib_are_refused_before_parsing)
{
    char base[1100], big[1200], dir[1100], want[1400], cmd_cfg[1100];
    const char *tmp = tl_env("CASEHOST_TEST_TMP");
    enum big_where w = big_files[_i].where;
    snprintf(base, sizeof(base), "%s/%s", root, big_files[_i].base);
    snprintf(cmd_cfg, sizeof(cmd_cfg), "%s", cfg);
    if (w == BIG_INSTRUMENT || w == BIG_CANDIDATE) {
        /* a folder of its own, holding the big file and (candidate) the shipped destinations */
        snprintf(dir, sizeof(dir), "%s/%ld_big_%d", tmp, (long)getpid(), _i);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        snprintf(big, sizeof(big), "%s/%s", dir,
                 w == BIG_INSTRUMENT ? "youth_quick.cfg" : "routing.cfg");
        rename(padded("big.cfg", base, 5 * MIB), big);
        if (w == BIG_CANDIDATE) {
            char dest[1200], src[1100];
            snprintf(src, sizeof(src), "%s/conf/trafficking/destinations.cfg", root);
            snprintf(dest, sizeof(dest), "%s/destinations.cfg", dir);
            copy_file(src, dest);
        }
    } else {
        snprintf(big, sizeof(big), "%s",
                 padded(strrchr(big_files[_i].base, '/') + 1, base, 5 * MIB));
    }
    switch (w) {
    case BIG_SCREENING:
    case BIG_INSTRUMENT:
    case BIG_ROUTING:
    case BIG_DESTINATIONS: {
        static const char *const setting[] = {"screening", "instruments", "routing",
                                              "destinations"};
        snprintf(cmd_cfg, sizeof(cmd_cfg), "%s",
                 tl_config(plugin_entry(setting[w], w == BIG_INSTRUMENT ? dir : big)));
        tl_run(&r, db, cmd_cfg, TL_AS, "a_worker", "plugin", "list", NULL);
        break;
    }
    case BIG_CANDIDATE:
        tl_run(&r, db, cmd_cfg, TL_AS, "a_worker", "route", "what-if", "--input",
               "tests/data/routing/case_adult.cfg", "--config-dir", dir, NULL);
        break;
    case BIG_FIXTURES:
        tl_run(&r, db, cmd_cfg, TL_AS, "a_worker", "routing", "test", big, NULL);
        break;
    case BIG_CASE_CFG:
    case BIG_CASE_JSON:
        tl_run(&r, db, cmd_cfg, TL_AS, "a_worker", "route", "what-if", "--input", big, NULL);
        break;
    case BIG_ANSWERS:
        tl_run(&r, db, cmd_cfg, TL_AS, "a_worker", "screen", "start", "1", "--instrument",
               "youth_quick", "--answers", big, NULL);
        break;
    }
    ck_assert_msg(r.status == big_files[_i].status, "%s: exit %d, want %d\n%s%s",
                  big_files[_i].name, r.status, big_files[_i].status, r.out, r.err);
    snprintf(want, sizeof(want), big_files[_i].want, big);
    HAS(r.err, want);
}
END_TEST

/* The same bases, unpadded, load: the refusal above is the size and nothing else. */
START_TEST(the_bases_of_the_big_files_load)
{
    char fixtures[1100], answers[1100];
    snprintf(fixtures, sizeof(fixtures), "%s/conf/trafficking/routing-tests.cfg", root);
    snprintf(answers, sizeof(answers), "%s/tests/data/hardening/answers_youth_quick.txt", root);
    RUN_OK(TL_AS, "a_worker", "routing", "test", fixtures);
    RUN_OK(TL_AS, "a_worker", "route", "what-if", "--input", "tests/data/routing/case_adult.json");
    RUN_OK(TL_AS, "a_worker", "screen", "start", "1", "--instrument", "youth_quick", "--answers",
           answers);
}
END_TEST

/* ---------------------------------------------------- escapes in output --- */

static void escapes_setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    snprintf(root, sizeof(root), "%s", tl_env("CASEHOST_TEST_ROOT"));
    tl_seed_agencies(db, cfg);
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

/* Clears the screen, homes the cursor, forges a status line, and a C1 CSI. */
#define EVIL_TITLE                                                                                 \
    "Jo\x1b[2J\x1b[H\rStatus:  closed\nAssignee:  nobody\xc2\x9b"                                  \
    "31m"
#define EVIL_TITLE_SHOWN "Jo\\x1b[2J\\x1b[H\\rStatus:  closed\\nAssignee:  nobody\\u009b31m"
#define EVIL_NOTE "fine\x1b]0;owned\x07\nStatus: closed"
#define EVIL_NOTE_SHOWN "fine\\x1b]0;owned\\x07\\nStatus: closed"

/* No byte a terminal would obey: C0 except the renderer's own newlines, DEL, C1. */
static void assert_no_controls(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        ck_assert_msg((*p >= 0x20 && *p != 0x7f) || *p == '\n', "control byte 0x%02x in:\n%s", *p,
                      text);
        ck_assert_msg(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f), "C1 control in:\n%s", text);
    }
}

START_TEST(escape_sequences_in_a_title_and_note_are_shown_escaped)
{
    const char *title[1] = {EVIL_TITLE}, *note[1] = {EVIL_NOTE};
    PGconn *c;
    /* The command line refuses control characters in any text... */
    RUN_FAILS(2, "case", "new", "--title", EVIL_TITLE);
    HAS(r.err, "--title: control characters are not allowed");
    RUN_FAILS(2, "note", "add", "1", EVIL_NOTE);
    HAS(r.err, "text: control characters are not allowed");
    /* ...but another client of the same functions may store them: shown escaped. */
    RUN_JSON("case", "new", "--title", "plain");
    HAS_MESSAGE("case 1 created");
    c = tl_as_app(db, "a_worker");
    tl_sql_ok(c, "SELECT casehost.case_update(1, jsonb_build_object('title', $1::text))", 1, title);
    tl_sql_ok(c, "SELECT casehost.note_add(1, $1)", 1, note);
    PQfinish(c);
    RUN_OK(TL_AS, "a_worker", "case", "show", "1");
    assert_no_controls(r.out);
    HAS(r.out, EVIL_TITLE_SHOWN);
    HAS(r.out, EVIL_NOTE_SHOWN);
    /* the one status line is the real one */
    ck_assert_ptr_null(strstr(r.out, "\nStatus:  closed"));
    ck_assert_ptr_null(strstr(r.out, "\nAssignee:  nobody"));
    RUN_OK(TL_AS, "a_worker", "case", "list");
    assert_no_controls(r.out);
    HAS(r.out, "Jo\\x1b[2J\\x1b[H\\rStatus:  closed\\nAssignee:  nob"); /* cut at 60 columns */
    /* --json keeps the title exact */
    RUN_JSON("case", "show", "1");
    ck_assert_str_eq(jstr(json_object_get(doc, "case"), "title"), EVIL_TITLE);
    ck_assert_str_eq(jstr(json_array_get(json_object_get(doc, "notes"), 0), "body"), EVIL_NOTE);
}
END_TEST

static Suite *hardening_suite(void)
{
    Suite *s = suite_create("hardening");
    TCase *tc = tcase_create("ids");
    tcase_add_unchecked_fixture(tc, shared_setup, NULL);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, bad_ids_are_usage_errors_naming_the_argument, 0,
                        (int)(sizeof(id_commands) / sizeof(id_commands[0])));
    tcase_add_loop_test(tc, bad_numbers_are_usage_errors_naming_the_option, 0,
                        (int)(sizeof(number_options) / sizeof(number_options[0])));
    tcase_add_test(tc, plain_ids_still_work);
    suite_add_tcase(s, tc);

    tc = tcase_create("dates");
    tcase_add_unchecked_fixture(tc, shared_setup, NULL);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, impossible_dates_are_refused_naming_the_option_and_nothing_is_written,
                        0, (int)(sizeof(date_commands) / sizeof(date_commands[0])));
    tcase_add_test(tc, real_dates_and_now_still_work);
    suite_add_tcase(s, tc);

    tc = tcase_create("big_files");
    tcase_add_unchecked_fixture(tc, shared_setup, NULL);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, host_config_over_4_mib_is_refused_before_parsing);
    tcase_add_loop_test(tc, plugin_files_over_4_mib_are_refused_before_parsing, 0,
                        (int)(sizeof(big_files) / sizeof(big_files[0])));
    tcase_add_test(tc, the_bases_of_the_big_files_load);
    suite_add_tcase(s, tc);

    tc = tcase_create("escapes");
    tcase_add_checked_fixture(tc, escapes_setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, escape_sequences_in_a_title_and_note_are_shown_escaped);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(hardening_suite())
