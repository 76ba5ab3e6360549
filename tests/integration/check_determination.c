/*
 * check_determination.c: exploitation episodes and determinations
 * (sql/trafficking/010_determinations.sql, plugins/trafficking/cli/
 * cmd_determination.c) end to end through the real casehost binary and a
 * real PostgreSQL: episodes are recorded with their own dates, listed, and
 * removed without being lost; a new determination supersedes the current
 * one and the history stays; a confirmed one needs a supervisor or admin;
 * bad input is a usage error that names the option and writes nothing; a
 * screening is never a determination; another agency reaches none of it,
 * by the CLI or by SQL; and every write and read is audited.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024];
static json_t *doc; /* the last RUN_JSON output */

#include "testcli.h"

static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    tl_seed_agencies(db, cfg);
    tl_add_user(db, "a_admin", "a_sup", "supervisor", "A");
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

/* ------------------------------------------------- the database, directly --- */

/* As the superuser (no row-level security): testlib's printf-style queries on db. */
#define db_value(...) tl_db_valuef(db, __VA_ARGS__)
#define db_text(...) tl_db_textf(db, __VA_ARGS__)

#define DB_EQ(want, ...)                                                                           \
    do {                                                                                           \
        long long got_ = db_value(__VA_ARGS__);                                                    \
        ck_assert_msg(got_ == (want), "%lld, want %lld: %s", got_, (long long)(want),              \
                      #__VA_ARGS__);                                                               \
    } while (0)

/* Rows in everything these commands write: a refused command changes none. */
static long long footprint(void)
{
    return db_value("SELECT (SELECT count(*) FROM trafficking.exploitation_episodes)"
                    " + (SELECT count(*) FROM trafficking.exploitation_episodes"
                    "     WHERE removed_at IS NOT NULL)"
                    " + (SELECT count(*) FROM trafficking.determinations)"
                    " + (SELECT count(*) FROM trafficking.determinations"
                    "     WHERE superseded_by IS NOT NULL)"
                    " + (SELECT count(*) FROM casehost.audit_log)");
}

/* Audit rows of object_type and action. */
static long long audited(const char *type, const char *action)
{
    return db_value("SELECT count(*) FROM casehost.audit_log WHERE object_type = '%s'"
                    " AND action = '%s'",
                    type, action);
}

/* ------------------------------------------------------ people and cases --- */

static char idbuf[8][24];

/* id as text, in one of eight rotating buffers. */
static const char *id_text(long long id)
{
    static int next;
    char *b = idbuf[next++ % 8];
    snprintf(b, sizeof(idbuf[0]), "%lld", id);
    return b;
}

/* A case in CA of a person born on 2008-05-01 (so exploited as a child in 2023), as a_worker. */
static long long add_case(void)
{
    long long person;
    RUN_JSON("person", "add", "--given", "Jo", "--dob", "2008-05-01");
    person = jint(doc, "person");
    RUN_JSON("case", "new", "--title", "Exploited", "--person", id_text(person), "--state", "CA");
    return jint(doc, "case");
}

static long long add_episode(long long c, const char *from, const char *to, const char *note)
{
    if (to == NULL)
        RUN_JSON("episode", "add", id_text(c), "--from", from, "--note", note);
    else
        RUN_JSON("episode", "add", id_text(c), "--from", from, "--to", to, "--kind", "sex",
                 "--note", note);
    return jint(json_object_get(doc, "episode"), "episode");
}

/* Records a determination as user; returns its id. type NULL: none. */
static long long determine(const char *user, long long c, const char *level, const char *type)
{
    if (type == NULL)
        ck_assert_msg(tl_run(&r, db, cfg, TL_AS, user, "--json", "determination", "set", id_text(c),
                             "--level", level, "--reason", "seen by the worker", NULL) == 0,
                      "%s: exit %d\n%s%s", user, r.status, r.out, r.err);
    else
        ck_assert_msg(tl_run(&r, db, cfg, TL_AS, user, "--json", "determination", "set", id_text(c),
                             "--level", level, "--type", type, "--reason", "disclosed in interview",
                             NULL) == 0,
                      "%s: exit %d\n%s%s", user, r.status, r.out, r.err);
    parse_doc();
    return jint(json_object_get(doc, "determination"), "determination");
}

/* ------------------------------------------------------------ episodes --- */

START_TEST(episodes_are_recorded_listed_and_removed_but_kept)
{
    long long c = add_case(), e1, e2, e3;
    json_t *list, *x;

    e2 = add_episode(c, "2025-01-10", NULL, "ongoing, says a friend");
    HAS_MESSAGE("exploitation episode recorded for case ");
    x = json_object_get(doc, "episode");
    ck_assert_int_eq(jint(x, "case"), c);
    ck_assert_str_eq(jstr(x, "started_on"), "2025-01-10");
    ck_assert(json_is_null(json_object_get(x, "ended_on")));
    ck_assert(json_is_null(json_object_get(x, "kind")));
    e1 = add_episode(c, "2023-06-01", "2023-09-30", "forced to sell sex at 15, she said");
    /* 'today' is a day like any other, stored as the date */
    e3 = add_episode(c, "today", NULL, "seen at a motel today");
    ck_assert_str_eq(jstr(json_object_get(doc, "episode"), "started_on"),
                     db_text("SELECT to_char(current_date, 'YYYY-MM-DD')"));

    /* earliest first, with their own dates: the age at exploitation follows from them */
    RUN_JSON("episode", "list", id_text(c));
    list = json_object_get(doc, "episodes");
    ck_assert_uint_eq(json_array_size(list), 3);
    x = json_array_get(list, 0);
    ck_assert_int_eq(jint(x, "episode"), e1);
    ck_assert_str_eq(jstr(x, "started_on"), "2023-06-01");
    ck_assert_str_eq(jstr(x, "ended_on"), "2023-09-30");
    ck_assert_str_eq(jstr(x, "kind"), "sex");
    ck_assert_str_eq(jstr(x, "note"), "forced to sell sex at 15, she said");
    ck_assert_str_eq(jstr(x, "recorded_by"), "a_worker");
    ck_assert(json_is_false(json_object_get(x, "removed")));
    ck_assert_int_eq(jint(json_array_get(list, 1), "episode"), e2);
    ck_assert_int_eq(jint(json_array_get(list, 2), "episode"), e3);

    /* removed: gone from the case, kept in the list and the table, with who and why */
    RUN_JSON("episode", "remove", id_text(e3), "--reason", "a duplicate of episode 2");
    ck_assert_int_eq(jint(json_object_get(doc, "episode"), "case"), c);
    RUN_JSON("episode", "list", id_text(c));
    x = json_array_get(json_object_get(doc, "episodes"), 2);
    ck_assert(json_is_true(json_object_get(x, "removed")));
    ck_assert_str_eq(jstr(x, "removed_by"), "a_worker");
    ck_assert_str_eq(jstr(x, "removed_reason"), "a duplicate of episode 2");
    DB_EQ(3, "SELECT count(*) FROM trafficking.exploitation_episodes WHERE case_id = %lld", c);
    RUN_JSON("case", "show", id_text(c));
    list = json_object_get(doc, "exploitation_episodes");
    ck_assert_uint_eq(json_array_size(list), 2);
    ck_assert_int_eq(jint(json_array_get(list, 0), "episode"), e1);
    ck_assert_int_eq(jint(json_array_get(list, 1), "episode"), e2);

    /* removed once only */
    RUN_FAILS(1, "episode", "remove", id_text(e3), "--reason", "again");
    HAS(r.err, "was already removed on ");
    ck_assert_str_eq(db_text("SELECT removed_reason FROM trafficking.exploitation_episodes"
                             " WHERE id = %lld",
                             e3),
                     "a duplicate of episode 2");

    /* text output names the episode and says it is kept */
    RUN_OK(TL_AS, "a_worker", "episode", "remove", id_text(e2), "--reason", "recorded in error");
    HAS(r.out, "it stays in the case's history");

    /* every write and every read audited */
    ck_assert_int_eq(audited("exploitation_episode", "create"), 3);
    ck_assert_int_eq(audited("exploitation_episode", "remove"), 2);
    /* two lists and the case show */
    ck_assert_int_eq(audited("exploitation_episode", "read"), 3);
}
END_TEST

/* ------------------------------------------------------ determinations --- */

START_TEST(a_new_determination_supersedes_the_current_one_and_history_stays)
{
    long long c = add_case(), d1, d2;
    json_t *cur, *hist;

    /* no determination yet: case show says so */
    RUN_JSON("case", "show", id_text(c));
    ck_assert(json_is_null(json_object_get(doc, "determination")));

    d1 = determine("a_worker", c, "at_risk", NULL);
    ck_assert_str_eq(jstr(json_object_get(doc, "determination"), "level"), "at_risk");
    d2 = determine("a_worker", c, "suspected", "sex");
    ck_assert_int_gt(d2, d1);
    DB_EQ(d2, "SELECT superseded_by FROM trafficking.determinations WHERE id = %lld", d1);
    DB_EQ(1,
          "SELECT count(*) FROM trafficking.determinations WHERE case_id = %lld"
          " AND superseded_by IS NULL",
          c);

    RUN_JSON("determination", "show", id_text(c));
    cur = json_object_get(doc, "determination");
    ck_assert_int_eq(jint(cur, "determination"), d2);
    ck_assert_str_eq(jstr(cur, "level"), "suspected");
    ck_assert_str_eq(jstr(cur, "type"), "sex");
    ck_assert_str_eq(jstr(cur, "determined_by"), "a_worker");
    ck_assert_str_eq(jstr(cur, "reason"), "disclosed in interview");
    hist = json_object_get(doc, "history");
    ck_assert_uint_eq(json_array_size(hist), 2);
    ck_assert_int_eq(jint(json_array_get(hist, 0), "determination"), d2);
    ck_assert(json_is_true(json_object_get(json_array_get(hist, 0), "current")));
    ck_assert_int_eq(jint(json_array_get(hist, 1), "determination"), d1);
    ck_assert(json_is_false(json_object_get(json_array_get(hist, 1), "current")));
    ck_assert_int_eq(jint(json_array_get(hist, 1), "superseded_by"), d2);
    ck_assert(json_is_null(json_object_get(json_array_get(hist, 1), "type")));

    /* the case shows the current one: level, type, who, when, reason */
    RUN_JSON("case", "show", id_text(c));
    cur = json_object_get(doc, "determination");
    ck_assert_str_eq(jstr(cur, "level"), "suspected");
    ck_assert_str_eq(jstr(cur, "type"), "sex");
    ck_assert_str_eq(jstr(cur, "determined_by"), "a_worker");
    ck_assert_str_eq(jstr(cur, "reason"), "disclosed in interview");
    ck_assert_str_eq(jstr(cur, "determined_at"),
                     db_text("SELECT to_char(determined_at, 'YYYY-MM-DD HH24:MI')"
                             " FROM trafficking.determinations WHERE id = %lld",
                             d2));

    /* in text too */
    RUN_OK(TL_AS, "a_worker", "determination", "show", id_text(c));
    HAS(r.out, "suspected");
    HAS(r.out, "disclosed in interview");
    RUN_OK(TL_AS, "a_worker", "determination", "set", id_text(c), "--level", "suspected", "--type",
           "both", "--reason", "also made to work unpaid");
    HAS(r.out, "the earlier ones stay in its history");

    ck_assert_int_eq(audited("determination", "create"), 3);
    /* show twice, case show twice */
    ck_assert_int_eq(audited("determination", "read"), 4);
}
END_TEST

START_TEST(confirmed_needs_a_supervisor_or_admin_and_so_does_replacing_it)
{
    long long c = add_case(), before, d;
    determine("a_worker", c, "suspected", "labour");
    before = footprint();
    RUN_FAILS(2, "determination", "set", id_text(c), "--level", "confirmed", "--type", "labour",
              "--reason", "police confirmed it");
    HAS(r.err, "a confirmed determination needs the role supervisor or admin; you are caseworker");
    ck_assert_int_eq(footprint(), before);

    d = determine("a_sup", c, "confirmed", "labour");
    ck_assert_str_eq(
        db_text("SELECT u.name || ' ' || d.level || ' ' || d.trafficking_type"
                " FROM trafficking.determinations d JOIN casehost.users u ON u.id = d.determined_by"
                " WHERE d.superseded_by IS NULL AND d.case_id = %lld",
                c),
        "a_sup confirmed labour");

    /* a caseworker cannot undo the finding by recording a lower level */
    before = footprint();
    RUN_FAILS(2, "determination", "set", id_text(c), "--level", "at_risk", "--reason", "unsure");
    HAS(r.err, "replacing a confirmed determination needs the role supervisor or admin; you are "
               "caseworker");
    ck_assert_int_eq(footprint(), before);
    DB_EQ(d,
          "SELECT id FROM trafficking.determinations WHERE case_id = %lld"
          " AND superseded_by IS NULL",
          c);

    /* an admin may */
    determine("a_admin", c, "suspected", "both");
    DB_EQ(3, "SELECT count(*) FROM trafficking.determinations WHERE case_id = %lld", c);
}
END_TEST

/* A positive screen asks for an assessment; it is not a finding (DOMAIN rule 7). */
START_TEST(a_positive_screening_is_no_determination)
{
    long long c = add_case();
    RUN_JSON("screen", "start", id_text(c), "--instrument", "youth_quick",
             "offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
             "exchanged_sex=yes");
    ck_assert_str_eq(jstr(doc, "result"), "positive");
    DB_EQ(0, "SELECT count(*) FROM trafficking.determinations");
    RUN_JSON("case", "show", id_text(c));
    ck_assert(json_is_null(json_object_get(doc, "determination")));
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "screenings")), 1);
}
END_TEST

/* -------------------------------------------------------------- bad input --- */

/*
 * Calls refused as usage errors (exit 2) with a message naming the option:
 * by the host's parser (a word not in the list, a day that is none) or by
 * the database (what only it can check). {C} is the case, {E} an episode of
 * it. Nothing is written.
 */
static const struct {
    const char *name;
    const char *argv[12];
    const char *message;
} bad_calls[] = {
    {"a blank reason",
     {"determination", "set", "{C}", "--level", "at_risk", "--reason", "   "},
     "--reason: a determination needs a reason"},
    {"an unknown level",
     {"determination", "set", "{C}", "--level", "probable", "--reason", "x"},
     "--level: 'probable' is not one of at_risk, suspected, confirmed"},
    {"an unknown type",
     {"determination", "set", "{C}", "--level", "suspected", "--type", "organs", "--reason", "x"},
     "--type: 'organs' is not one of sex, labour, both"},
    {"suspected without a type",
     {"determination", "set", "{C}", "--level", "suspected", "--reason", "x"},
     "--type: a suspected determination says which trafficking: sex, labour or both"},
    {"confirmed without a type",
     {"determination", "set", "{C}", "--level", "confirmed", "--reason", "x"},
     "--type: a confirmed determination says which trafficking: sex, labour or both"},
    {"--to before --from",
     {"episode", "add", "{C}", "--from", "2026-02-01", "--to", "2026-01-01", "--note", "x"},
     "--to: 2026-01-01 is before --from 2026-02-01"},
    {"a future --from",
     {"episode", "add", "{C}", "--from", "2999-01-01", "--note", "x"},
     "--from: 2999-01-01 is in the future"},
    {"a future --to",
     {"episode", "add", "{C}", "--from", "2024-01-01", "--to", "2999-01-01", "--note", "x"},
     "--to: 2999-01-01 is in the future"},
    {"--from before the date of birth",
     {"episode", "add", "{C}", "--from", "2001-01-01", "--note", "x"},
     "--from: 2001-01-01 is before the person's date of birth, 2008-05-01"},
    {"a day that is none",
     {"episode", "add", "{C}", "--from", "2026-02-30", "--note", "x"},
     "--from: '2026-02-30' is not a date and time"},
    {"a blank note",
     {"episode", "add", "{C}", "--from", "2024-01-01", "--note", ""},
     "--note: an episode needs a note"},
    {"an unknown kind",
     {"episode", "add", "{C}", "--from", "2024-01-01", "--kind", "begging", "--note", "x"},
     "--kind: 'begging' is not one of sex, labour, both, unclear"},
    {"removing without a reason",
     {"episode", "remove", "{E}", "--reason", " "},
     "--reason: removing an episode needs a reason"},
};

START_TEST(bad_input_is_a_usage_error_naming_the_option_and_writes_nothing)
{
    long long c = add_case(), e = add_episode(c, "2024-03-01", NULL, "a first one"), before;
    const char *argv[12] = {0};
    determine("a_worker", c, "at_risk", NULL);
    before = footprint();
    for (int k = 0; k < 12 && bad_calls[_i].argv[k] != NULL; k++) {
        const char *a = bad_calls[_i].argv[k];
        argv[k] = strcmp(a, "{C}") == 0 ? id_text(c) : strcmp(a, "{E}") == 0 ? id_text(e) : a;
    }
    tl_run(&r, db, cfg, TL_AS, "a_worker", argv[0], argv[1], argv[2], argv[3], argv[4], argv[5],
           argv[6], argv[7], argv[8], argv[9], argv[10], argv[11], NULL);
    ck_assert_msg(r.status == 2, "%s: exit %d, want 2\n%s%s", bad_calls[_i].name, r.status, r.out,
                  r.err);
    HAS(r.err, bad_calls[_i].message);
    ck_assert_msg(r.out[0] == '\0', "%s printed: %s", bad_calls[_i].name, r.out);
    ck_assert_int_eq(footprint(), before);
}
END_TEST

/* The functions refuse what the parser would have stopped, for any caller of SQL. */
START_TEST(the_functions_check_every_value_themselves)
{
    static const struct {
        const char *sql, *message;
    } calls[] = {
        {"SELECT trafficking.determination_record_v1(%lld, 'probable', NULL, 'x')",
         "--level: \"probable\" is not at_risk, suspected or confirmed"},
        {"SELECT trafficking.determination_record_v1(%lld, 'suspected', 'organs', 'x')",
         "--type: \"organs\" is not sex, labour or both"},
        {"SELECT trafficking.determination_record_v1(%lld, 'at_risk', NULL, NULL)",
         "--reason: a determination needs a reason (what it rests on)"},
        {"SELECT trafficking.episode_record_v1(%lld, NULL, NULL, NULL, 'x')",
         "--from: the day the exploitation began is needed"},
        {"SELECT trafficking.episode_record_v1(%lld, 'infinity', NULL, NULL, 'x')",
         "--from: infinity is no day"},
        {"SELECT trafficking.episode_record_v1(%lld, '2024-01-01', 'infinity', NULL, 'x')",
         "--to: infinity is no day"},
        {"SELECT trafficking.episode_record_v1(%lld, '1899-12-31', NULL, NULL, 'x')",
         "--from: 1899-12-31 is too long ago"},
        {"SELECT trafficking.episode_record_v1(%lld, '2024-01-01', NULL, 'begging', 'x')",
         "--kind: \"begging\" is not sex, labour, both or unclear"},
    };
    long long c = add_case(), before = footprint();
    PGconn *a = tl_as_app(db, "a_worker");
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        char sql[512];
        PGresult *res;
        snprintf(sql, sizeof(sql), calls[i].sql, c);
        res = PQexec(a, sql);
        ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "not refused: %s", sql);
        ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "22023");
        ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), calls[i].message);
        PQclear(res);
    }
    PQfinish(a);
    ck_assert_int_eq(footprint(), before);
}
END_TEST

/* ------------------------------------------------------ agency separation --- */

START_TEST(another_agency_reaches_no_episode_or_determination)
{
    long long c = add_case(), e, d, before;
    PGconn *b;
    char sql[300];
    e = add_episode(c, "2023-06-01", "2023-09-30", "kept from agency B");
    d = determine("a_worker", c, "suspected", "sex");
    before = footprint();

    /* by the CLI: the same "not found" as for a case or episode that does not exist */
    static const struct {
        const char *user, *argv[10], *message;
    } calls[] = {
        {"b_worker", {"episode", "list", "{C}"}, "case {C} not found"},
        {"b_worker",
         {"episode", "add", "{C}", "--from", "2024-01-01", "--note", "x"},
         "case {C} not found"},
        {"b_worker", {"episode", "remove", "{E}", "--reason", "x"}, "episode {E} not found"},
        {"b_worker", {"determination", "show", "{C}"}, "case {C} not found"},
        {"b_worker",
         {"determination", "set", "{C}", "--level", "at_risk", "--reason", "x"},
         "case {C} not found"},
        {"b_admin",
         {"determination", "set", "{C}", "--level", "confirmed", "--type", "sex", "--reason", "x"},
         "case {C} not found"},
        {"b_admin", {"case", "show", "{C}"}, "case {C} not found"},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        const char *argv[10] = {0};
        char want[128];
        const char *m = calls[i].message, *brace = strchr(m, '{');
        for (int k = 0; k < 10 && calls[i].argv[k] != NULL; k++) {
            const char *a = calls[i].argv[k];
            argv[k] = strcmp(a, "{C}") == 0 ? id_text(c) : strcmp(a, "{E}") == 0 ? id_text(e) : a;
        }
        snprintf(want, sizeof(want), "%.*s%lld%s", (int)(brace - m), m, brace[1] == 'C' ? c : e,
                 brace + 3);
        tl_run(&r, db, cfg, TL_AS, calls[i].user, argv[0], argv[1], argv[2], argv[3], argv[4],
               argv[5], argv[6], argv[7], argv[8], argv[9], NULL);
        ck_assert_msg(r.status == 1, "%s %s %s: exit %d, want 1\n%s%s", calls[i].user, argv[0],
                      argv[1], r.status, r.out, r.err);
        HAS(r.err, want);
        ck_assert_msg(strstr(r.out, "kept from agency B") == NULL, "agency B sees: %s", r.out);
    }

    /* by SQL as b_worker's own role: no table grant, and row-level security in the functions */
    b = tl_as_app(db, "b_worker");
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.exploitation_episodes"), -1);
    ck_assert_int_eq(tl_value(b, "SELECT count(*) FROM trafficking.determinations"), -1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM trafficking.episodes_v1(%lld)", c);
    ck_assert_int_eq(tl_value(b, sql), -1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM trafficking.determinations_v1(%lld)", c);
    ck_assert_int_eq(tl_value(b, sql), -1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM trafficking.episode_remove_v1(%lld, 'x')", e);
    ck_assert_int_eq(tl_value(b, sql), -1);
    snprintf(sql, sizeof(sql),
             "SELECT trafficking.determination_record_v1(%lld, 'at_risk', NULL, 'x')", c);
    ck_assert_int_eq(tl_value(b, sql), -1);
    PQfinish(b);
    /* the tables force row-level security: the owner's functions are filtered too */
    DB_EQ(2,
          "SELECT count(*) FROM pg_class WHERE oid IN"
          " ('trafficking.exploitation_episodes'::regclass, 'trafficking.determinations'::regclass)"
          " AND relrowsecurity AND relforcerowsecurity");

    ck_assert_int_eq(footprint(), before);
    DB_EQ(d, "SELECT id FROM trafficking.determinations WHERE superseded_by IS NULL");
    DB_EQ(0, "SELECT count(*) FROM trafficking.exploitation_episodes WHERE removed_at IS NOT NULL");
}
END_TEST

/* With case_visibility = assigned, a case hidden from a caseworker hides its episodes too. */
START_TEST(a_case_hidden_from_a_caseworker_hides_its_episodes_and_determination)
{
    long long c, e;
    RUN_OK(TL_AS, "a_admin", "case", "new", "--title", "Admin only");
    c = db_value("SELECT max(id) FROM casehost.cases");
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_admin", "--json", "episode", "add", id_text(c),
                         "--from", "2024-01-01", "--note", "x", NULL) == 0,
                  "%s", r.err);
    parse_doc();
    e = jint(json_object_get(doc, "episode"), "episode");
    RUN_OK(TL_AS, "a_admin", "agency", "set", "--case-visibility", "assigned");
    RUN_FAILS(1, "episode", "list", id_text(c));
    HAS(r.err, "not found");
    RUN_FAILS(1, "episode", "remove", id_text(e), "--reason", "x");
    HAS(r.err, "not found");
    RUN_FAILS(1, "determination", "show", id_text(c));
    HAS(r.err, "not found");
    RUN_OK(TL_AS, "a_admin", "episode", "list", id_text(c));
}
END_TEST

static Suite *determination_suite(void)
{
    Suite *s = suite_create("determination");
    TCase *tc = tcase_create("determination");
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, episodes_are_recorded_listed_and_removed_but_kept);
    tcase_add_test(tc, a_new_determination_supersedes_the_current_one_and_history_stays);
    tcase_add_test(tc, confirmed_needs_a_supervisor_or_admin_and_so_does_replacing_it);
    tcase_add_test(tc, a_positive_screening_is_no_determination);
    tcase_add_loop_test(tc, bad_input_is_a_usage_error_naming_the_option_and_writes_nothing, 0,
                        N(bad_calls));
    tcase_add_test(tc, the_functions_check_every_value_themselves);
    tcase_add_test(tc, another_agency_reaches_no_episode_or_determination);
    tcase_add_test(tc, a_case_hidden_from_a_caseworker_hides_its_episodes_and_determination);
    suite_add_tcase(s, tc);
#undef N
    return s;
}

CHECK_MAIN(determination_suite())
