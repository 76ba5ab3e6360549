/*
 * check_enums.c: each word list the commands accept (the plugin's
 * cli/enums.c, the host's in cli.h) against the database CHECK constraint it
 * mirrors, in a freshly migrated
 * database: a referral state or legal regime added on one side only fails
 * here, naming the word, the C array and the constraint. And the commands
 * take their words from these lists: a word not in one is a usage error.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cli.h"
#include "cli/enums.h"
#include "testlib.h"

static char db[1024], cfg[1024];
static struct tl_result r;

static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
}

/* Agencies, the trafficking plugin and person 1, for running the commands. */
static void setup_commands(void)
{
    setup();
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    tl_seed_agencies(db, cfg);
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "person", "add", "--given", "Jo",
                         "--age-estimate", "15", NULL) == 0,
                  "%s", r.err);
}

static const struct {
    const char *array; /* the C name, for messages */
    const char *const *values;
    const char *table, *column; /* table with its schema */
    int constraint_optional;    /* the column has no CHECK yet: compare only once it has one */
} mirrors[] = {
    {"trf_referral_states", trf_referral_states, "trafficking.referrals", "state", 0},
    {"trf_consent_regimes", trf_consent_regimes, "trafficking.consents", "legal_regime", 0},
    {"trf_safe_channels", trf_safe_channels, "trafficking.safe_contact", "safe_channels", 1},
    {"trf_episode_kinds", trf_episode_kinds, "trafficking.exploitation_episodes", "kind", 0},
    {"trf_determination_levels", trf_determination_levels, "trafficking.determinations", "level",
     0},
    {"trf_trafficking_types", trf_trafficking_types, "trafficking.determinations",
     "trafficking_type", 0},
    {"host_case_statuses", host_case_statuses, "casehost.cases", "status", 0},
    {"host_user_roles", host_user_roles, "casehost.users", "role", 0},
    {"host_case_visibilities", host_case_visibilities, "casehost.agencies", "case_visibility", 0},
};

/* The CHECK constraints on table.column alone (not those naming other columns too). */
static const char constraints_sql[] =
    "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c"
    " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = $2"
    " WHERE c.conrelid = $1::regclass AND c.contype = 'c'"
    "   AND c.conkey = ARRAY[a.attnum]";

#define MAX_WORDS 64

/*
 * The quoted literals of a constraint's text ('a'::text, 'it''s'), copied
 * into buf; returns how many (at most MAX_WORDS).
 */
static size_t quoted_words(const char *def, char *buf, size_t len, const char *words[MAX_WORDS])
{
    size_t n = 0, used = 0;
    for (const char *p = strchr(def, '\''); p != NULL && n < MAX_WORDS; p = strchr(p, '\'')) {
        words[n] = buf + used;
        for (p++; *p != '\0' && used + 1 < len; p++) {
            if (*p == '\'' && p[1] == '\'')
                p++;
            else if (*p == '\'')
                break;
            buf[used++] = *p;
        }
        ck_assert_msg(*p == '\'', "unterminated literal in: %s", def);
        buf[used++] = '\0';
        n++;
        p++;
    }
    return n;
}

static int in_list(const char *const *list, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], word) == 0)
            return 1;
    return 0;
}

START_TEST(each_word_list_equals_the_check_constraint_it_mirrors)
{
    const char *params[2] = {mirrors[_i].table, mirrors[_i].column};
    const char *const *c_words = mirrors[_i].values;
    const char *db_words[MAX_WORDS], *def;
    char buf[4096], diff[2048] = "";
    size_t n_c = 0, n_db, used = 0;
    PGconn *conn = tl_connect(db);
    PGresult *r = PQexecParams(conn, constraints_sql, 2, NULL, params, NULL, NULL, 0);

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
    while (c_words[n_c] != NULL) {
        ck_assert_msg(!in_list(c_words, n_c, c_words[n_c]), "%s holds '%s' twice",
                      mirrors[_i].array, c_words[n_c]);
        n_c++;
    }
    ck_assert_msg(n_c > 0, "%s is empty", mirrors[_i].array);
    if (PQntuples(r) == 0 && mirrors[_i].constraint_optional)
        goto out;
    ck_assert_msg(PQntuples(r) == 1,
                  "trafficking.%s.%s has %d CHECK constraints on it alone, want exactly one to "
                  "compare %s with",
                  mirrors[_i].table, mirrors[_i].column, PQntuples(r), mirrors[_i].array);
    def = PQgetvalue(r, 0, 0);
    n_db = quoted_words(def, buf, sizeof(buf), db_words);
    for (size_t i = 0; i < n_c && used < sizeof(diff); i++)
        if (!in_list(db_words, n_db, c_words[i]))
            used += (size_t)snprintf(diff + used, sizeof(diff) - used,
                                     "\n  '%s' is in %s but not in the constraint", c_words[i],
                                     mirrors[_i].array);
    for (size_t i = 0; i < n_db && used < sizeof(diff); i++)
        if (!in_list(c_words, n_c, db_words[i]))
            used += (size_t)snprintf(diff + used, sizeof(diff) - used,
                                     "\n  '%s' is in the constraint but not in %s", db_words[i],
                                     mirrors[_i].array);
    ck_assert_msg(diff[0] == '\0', "%s differs from the CHECK on trafficking.%s.%s (%s):%s",
                  mirrors[_i].array, mirrors[_i].table, mirrors[_i].column, def, diff);
out:
    PQclear(r);
    PQfinish(conn);
}
END_TEST

/* The index enum and the array agree: every state named, the list ending right after. */
START_TEST(referral_state_indexes_name_every_state)
{
    for (int i = 0; i < TRF_REFERRAL__COUNT; i++)
        ck_assert_msg(trf_referral_states[i] != NULL, "trf_referral_states[%d] is NULL", i);
    ck_assert_ptr_null(trf_referral_states[TRF_REFERRAL__COUNT]);
    ck_assert_str_eq(trf_referral_states[TRF_REFERRAL_ACKNOWLEDGED], "acknowledged");
    ck_assert_int_eq(trf_enum_index(trf_referral_states, "revoked", 7), TRF_REFERRAL_REVOKED);
    ck_assert_int_eq(trf_enum_index(trf_referral_states, "revoke", 6), -1);
}
END_TEST

/* ------------------------------------------------------------ commands --- */

static const struct {
    const char *args[12];
    const char *want; /* in stderr; %s: the list, joined by ", " */
    const char *const *list;
} refusals[] = {
    {{"referral", "list", "--state", "queud"},
     "--state: 'queud' is not one of %s",
     trf_referral_states},
    {{"consent", "add", "1", "--purpose", "referral", "--recipients", "kind:legal_aid", "--regime",
      "gdpr", "--expires", "2099-12-31"},
     "--regime: 'gdpr' is not one of %s",
     trf_consent_regimes},
    {{"safety", "set", "1", "--safe-channels", "phone, carrier_pigeon"},
     "--safe-channels: 'carrier_pigeon' is not one of %s",
     trf_safe_channels},
    {{"safety", "set", "1", "--safe-channels", "phone,,sms"},
     "--safe-channels: '' is not one of %s",
     trf_safe_channels},
};

START_TEST(a_word_not_in_the_list_is_a_usage_error_naming_the_list)
{
    const char *const *a = refusals[_i].args;
    char list[512], want[800];
    tl_run(&r, db, cfg, TL_AS, "a_worker", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
           a[9], a[10], a[11], NULL);
    ck_assert_msg(r.status == 2, "%s %s: exit %d, want 2\n%s%s", a[0], a[1], r.status, r.out,
                  r.err);
    ck_assert_str_eq(r.out, "");
    snprintf(want, sizeof(want), refusals[_i].want,
             trf_enum_join(refusals[_i].list, ", ", list, sizeof(list)));
    ck_assert_msg(strstr(r.err, want) != NULL, "want '%s' in:\n%s", want, r.err);
    ck_assert_int_eq(tl_db_value(db, "SELECT count(*) FROM trafficking.consents"), 0);
    ck_assert_int_eq(tl_db_value(db, "SELECT count(*) FROM trafficking.safe_contact"), 0);
}
END_TEST

START_TEST(every_word_of_the_lists_is_taken)
{
    for (const char *const *w = trf_referral_states; *w != NULL; w++)
        ck_assert_msg(
            tl_run(&r, db, cfg, TL_AS, "a_worker", "referral", "list", "--state", *w, NULL) == 0,
            "--state %s: %s", *w, r.err);
    for (const char *const *w = trf_consent_regimes; *w != NULL; w++)
        ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "consent", "add", "1", "--purpose",
                             "referral", "--recipients", "kind:legal_aid", "--regime", *w,
                             "--expires", "2099-12-31", NULL) == 0,
                      "--regime %s: %s", *w, r.err);
    for (const char *const *w = trf_safe_channels; *w != NULL; w++) {
        ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "safety", "set", "1",
                             "--safe-channels", *w, NULL) == 0,
                      "--safe-channels %s: %s", *w, r.err);
        ck_assert_str_eq(tl_db_text(db, "SELECT array_to_string(safe_channels, ',')"
                                        " FROM trafficking.safe_contact WHERE person_id = 1"),
                         *w);
    }
    /* blanks are ignored, as the database ignores them; nothing at all means none */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "safety", "set", "1", "--safe-channels",
                            " sms , email ", NULL),
                     0);
    ck_assert_str_eq(tl_db_text(db, "SELECT array_to_string(safe_channels, ',')"
                                    " FROM trafficking.safe_contact WHERE person_id = 1"),
                     "sms,email");
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "safety", "set", "1", "--safe-channels", " ", NULL),
        0);
    ck_assert_int_eq(tl_db_value(db, "SELECT cardinality(safe_channels)"
                                     " FROM trafficking.safe_contact WHERE person_id = 1"),
                     0);
}
END_TEST

static Suite *enums_suite(void)
{
    Suite *s = suite_create("enums");
    TCase *db_tc = tcase_create("mirrors");
    TCase *pure = tcase_create("indexes");
    TCase *cmds = tcase_create("commands");
    tcase_add_checked_fixture(db_tc, setup, NULL);
    tcase_set_timeout(db_tc, 60);
    tcase_add_checked_fixture(cmds, setup_commands, NULL);
    tcase_set_timeout(cmds, 120);
    tcase_add_loop_test(cmds, a_word_not_in_the_list_is_a_usage_error_naming_the_list, 0,
                        (int)(sizeof(refusals) / sizeof(refusals[0])));
    tcase_add_test(cmds, every_word_of_the_lists_is_taken);
    tcase_add_loop_test(db_tc, each_word_list_equals_the_check_constraint_it_mirrors, 0,
                        (int)(sizeof(mirrors) / sizeof(mirrors[0])));
    tcase_add_test(pure, referral_state_indexes_name_every_state);
    suite_add_tcase(s, db_tc);
    suite_add_tcase(s, pure);
    suite_add_tcase(s, cmds);
    return s;
}

CHECK_MAIN(enums_suite())
