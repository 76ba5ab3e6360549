/*
 * check_age.c: age as the law sees it, end to end through the real casehost
 * binary and PostgreSQL (sql/core/009_age.sql, core/cmd_people.c): an
 * estimate is a range with who made it, a date of birth replaces it, a
 * dispute needs a note, bad input writes nothing, the age on any date comes
 * from casehost.person_age_on_v1 alone. Then what the trafficking plugin does
 * with those facts live: a possible minor is reported like a minor, a young
 * adult is offered services with consent, exploitation before 18 makes an
 * adult's police referral a consent one; and deadlines run from the event
 * (a late return is overdue at once, a missing child is reported within 24
 * hours of going missing by a child-welfare agency only).
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

/* A fresh database (the shipped configuration live), agencies A (CA) and B (NV). */
static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(tl_trafficking()));
    tl_seed_agencies(db, cfg);
}

static void teardown(void)
{
    (void)has_message; /* testcli.h's; these tests read the database instead */
    json_decref(doc);
    doc = NULL;
}

/* ------------------------------------------------- the database, directly --- */

/* As the superuser (no row-level security): testlib's printf-style queries on db. */
#define db_value(...) tl_db_valuef(db, __VA_ARGS__)
#define db_text(...) tl_db_textf(db, __VA_ARGS__)
#define db_exec(...) tl_db_execf(db, __VA_ARGS__)

#define DB_EQ(want, ...)                                                                           \
    do {                                                                                           \
        long long got_ = db_value(__VA_ARGS__);                                                    \
        ck_assert_msg(got_ == (want), "%lld, want %lld: %s", got_, (long long)(want),              \
                      #__VA_ARGS__);                                                               \
    } while (0)

/* The age columns of person p as one line, to prove a refusal changed nothing. Static. */
static const char *age_row(long long p)
{
    return db_text("SELECT concat_ws('|', date_of_birth, estimated_age, estimated_age_high,"
                   " estimated_on, estimated_by, age_disputed, age_dispute_note)"
                   " FROM casehost.people WHERE id = %lld",
                   p);
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

/* The date years and days before today, as YYYY-MM-DD (one of four rotating buffers). */
static const char *date_ago(int years, int days)
{
    static char buf[4][16];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof(buf[0]), "%s",
             db_text("SELECT to_char(current_date - make_interval(years => %d, days => %d),"
                     " 'YYYY-MM-DD')",
                     years, days));
    return b;
}

/* Up to six age options of person add (NULL ends them); the person's id. */
static long long add_person(const char *o1, const char *o2, const char *o3, const char *o4,
                            const char *o5, const char *o6)
{
    RUN_JSON("person", "add", "--given", "Jo", o1, o2, o3, o4, o5, o6);
    return jint(doc, "person");
}

/* A case in CA for person p (runaway start and return: NULL for none); its id. */
static long long add_case(long long p, const char *start, const char *ret)
{
    if (start != NULL && ret != NULL)
        RUN_JSON("case", "new", "--title", "Age", "--person", id_text(p), "--state", "CA",
                 "--runaway-start", start, "--runaway-return", ret);
    else if (start != NULL)
        RUN_JSON("case", "new", "--title", "Age", "--person", id_text(p), "--state", "CA",
                 "--runaway-start", start);
    else
        RUN_JSON("case", "new", "--title", "Age", "--person", id_text(p), "--state", "CA");
    return jint(doc, "case");
}

/* The youth quick screen with an exchange of sex for something needed (commercial_sex). */
static void screen_exchanged_sex(long long c)
{
    RUN_JSON("screen", "start", id_text(c), "--instrument", "youth_quick",
             "offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
             "exchanged_sex=yes");
}

/* A case's referrals as "destination/basis/state/rule" in destination order. Static. */
static const char *referrals_of(long long c)
{
    return db_text("SELECT coalesce(string_agg(destination_id || '/' || basis || '/' || state"
                   " || '/' || rule, ',' ORDER BY destination_id, id), '')"
                   " FROM trafficking.referrals WHERE case_id = %lld",
                   c);
}

/* ------------------------------------------------------ the age, recorded --- */

/* The value on r.out's text line "Label: value" ("(none)" without one). Static storage. */
static const char *shown(const char *label)
{
    static char buf[256];
    size_t n = strlen(label);
    for (const char *line = r.out; *line != '\0';) {
        const char *end = strchr(line, '\n'), *p = line;
        if (end == NULL)
            end = line + strlen(line);
        while (*p == ' ')
            p++;
        if (strncmp(p, label, n) == 0 && p[n] == ':') {
            for (p += n + 1; *p == ' '; p++)
                ;
            snprintf(buf, sizeof(buf), "%.*s", (int)(end - p), p);
            return buf;
        }
        line = *end != '\0' ? end + 1 : end;
    }
    return "(none)";
}

START_TEST(estimate_range_is_stored_with_who_made_it_and_shown)
{
    long long p =
        add_person("--age-estimate", "17-21", "--estimated-by", "intake nurse", NULL, NULL);
    char want[128];
    snprintf(want, sizeof(want), "17|21|%s|intake nurse|f", date_ago(0, 0));
    ck_assert_str_eq(age_row(p), want);

    RUN_JSON("person", "show", id_text(p));
    {
        json_t *o = json_object_get(doc, "person");
        ck_assert_int_eq(jint(o, "age_now"), 17);
        ck_assert_int_eq(jint(o, "age_now_high"), 21);
        ck_assert_int_eq(jint(o, "estimated_age"), 17);
        ck_assert_int_eq(jint(o, "estimated_age_high"), 21);
        ck_assert_str_eq(jstr(o, "estimated_by"), "intake nurse");
        ck_assert_str_eq(jstr(o, "age_basis"), "estimated");
        ck_assert(json_is_false(json_object_get(o, "age_disputed")));
    }
    RUN_OK(TL_AS, "a_worker", "person", "show", id_text(p));
    ck_assert_str_eq(shown("Age now"), "17");
    ck_assert_str_eq(shown("Age now high"), "21");
    ck_assert_str_eq(shown("Estimated by"), "intake nurse");

    /* a single number is a range of one year */
    p = add_person("--age-estimate", "16", NULL, NULL, NULL, NULL);
    snprintf(want, sizeof(want), "16|16|%s|f", date_ago(0, 0));
    ck_assert_str_eq(age_row(p), want);
    RUN_JSON("person", "show", id_text(p));
    ck_assert_int_eq(jint(json_object_get(doc, "person"), "age_now"), 16);
    ck_assert_int_eq(jint(json_object_get(doc, "person"), "age_now_high"), 16);
}
END_TEST

#define MAX_OPTS 6

/* Age input the program refuses, with what it says (person add and person age alike). */
static const struct {
    const char *name;
    const char *opts[MAX_OPTS];
    const char *message;
} bad_age[] = {
    {"a range that runs backwards",
     {"--age-estimate", "21-17"},
     "--age-estimate: '21-17' runs backwards (give LOW-HIGH)"},
    {"a range without its high end",
     {"--age-estimate", "17-"},
     "--age-estimate: '17-' is not an age in years (0-120) or a range LOW-HIGH"},
    {"no number",
     {"--age-estimate", "abc"},
     "--age-estimate: 'abc' is not an age in years (0-120) or a range LOW-HIGH"},
    {"past 120",
     {"--age-estimate", "130"},
     "--age-estimate: '130' is not an age in years (0-120) or a range LOW-HIGH"},
    {"a date of birth and an estimate",
     {"--dob", "2009-01-02", "--age-estimate", "16"},
     "give --dob or --age-estimate, not both"},
    {"a dispute without a note",
     {"--age-estimate", "16", "--age-disputed", "yes"},
     "a disputed age needs --dispute-note: what is doubted, and by whom"},
    {"who estimated, without an estimate",
     {"--estimated-by", "intake nurse"},
     "--estimated-by needs --age-estimate"},
};

#define N_BAD_AGE (sizeof(bad_age) / sizeof(bad_age[0]))

/* Rows a refusal must not have written: people, and every audit record. */
static long long rows_written(void)
{
    return db_value("SELECT (SELECT count(*) FROM casehost.people) * 1000000"
                    " + (SELECT count(*) FROM casehost.audit_log)");
}

START_TEST(bad_age_input_to_person_add_exits_2_and_writes_nothing)
{
    for (size_t i = 0; i < N_BAD_AGE; i++) {
        const char *const *o = bad_age[i].opts;
        long long before = rows_written();
        ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "person", "add", "--given", "Jo", o[0],
                             o[1], o[2], o[3], o[4], o[5], NULL) == 2,
                      "%s: exit %d, want 2\n%s%s", bad_age[i].name, r.status, r.out, r.err);
        ck_assert_msg(strstr(r.err, bad_age[i].message) != NULL, "%s: want '%s' in:\n%s",
                      bad_age[i].name, bad_age[i].message, r.err);
        ck_assert_msg(rows_written() == before, "%s: rows written", bad_age[i].name);
    }
    DB_EQ(0, "SELECT count(*) FROM casehost.people");
}
END_TEST

START_TEST(bad_age_input_to_person_age_exits_2_and_changes_nothing)
{
    long long p = add_person("--dob", "2009-01-02", NULL, NULL, NULL, NULL);
    char was[512];
    snprintf(was, sizeof(was), "%s", age_row(p));
    ck_assert_str_eq(was, "2009-01-02|f");
    for (size_t i = 0; i < N_BAD_AGE; i++) {
        const char *const *o = bad_age[i].opts;
        long long before = rows_written();
        ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "person", "age", id_text(p), o[0],
                             o[1], o[2], o[3], o[4], o[5], NULL) == 2,
                      "%s: exit %d, want 2\n%s%s", bad_age[i].name, r.status, r.out, r.err);
        ck_assert_msg(strstr(r.err, bad_age[i].message) != NULL, "%s: want '%s' in:\n%s",
                      bad_age[i].name, bad_age[i].message, r.err);
        ck_assert_msg(rows_written() == before, "%s: rows written", bad_age[i].name);
        ck_assert_str_eq(age_row(p), was);
    }
    /* nothing to change is no change either */
    RUN_FAILS(2, "person", "age", id_text(p));
    HAS(r.err, "person age: nothing to change");
    ck_assert_str_eq(age_row(p), was);
}
END_TEST

/* The latest audit record of person p's age changes (action update). Static storage. */
static const char *last_age_audit(long long p)
{
    return db_text("SELECT coalesce((SELECT detail FROM casehost.audit_log"
                   " WHERE action = 'update' AND object_type = 'person' AND object_id = %lld"
                   " ORDER BY id DESC LIMIT 1), 'none')",
                   p);
}

START_TEST(person_age_records_a_dispute_and_a_date_of_birth_with_the_old_age_audited)
{
    long long p =
        add_person("--age-estimate", "17-21", "--estimated-by", "intake nurse", NULL, NULL);
    const char *today = date_ago(0, 0);
    char want[256];

    RUN_OK(TL_AS, "a_worker", "person", "age", id_text(p), "--age-disputed", "yes",
           "--dispute-note", "says she is 15; the intake nurse doubts it");
    /* a dispute leaves the estimate as it was */
    snprintf(want, sizeof(want),
             "17|21|%s|intake nurse|t|says she is 15; the intake nurse doubts it", today);
    ck_assert_str_eq(age_row(p), want);
    snprintf(want, sizeof(want), "age was estimated 17-21 on %s", today);
    ck_assert_str_eq(last_age_audit(p), want);

    /* a date of birth learnt later replaces the estimate (who made it goes with it) */
    RUN_OK(TL_AS, "a_worker", "person", "age", id_text(p), "--dob", "2009-01-02");
    ck_assert_str_eq(age_row(p), "2009-01-02|t|says she is 15; the intake nurse doubts it");
    snprintf(want, sizeof(want), "age was estimated 17-21 on %s, disputed", today);
    ck_assert_str_eq(last_age_audit(p), want);
    RUN_JSON("person", "show", id_text(p));
    ck_assert_str_eq(jstr(json_object_get(doc, "person"), "age_basis"), "date of birth");
    ck_assert_str_eq(jstr(json_object_get(doc, "person"), "estimated_by"), "");

    /* the dispute settled: its note goes with it */
    RUN_OK(TL_AS, "a_worker", "person", "age", id_text(p), "--age-disputed", "no");
    ck_assert_str_eq(age_row(p), "2009-01-02|f");
    ck_assert_str_eq(last_age_audit(p), "age was born 2009-01-02, disputed");
    DB_EQ(3,
          "SELECT count(*) FROM casehost.audit_log WHERE action = 'update'"
          " AND object_type = 'person' AND object_id = %lld",
          p);
}
END_TEST

START_TEST(another_agency_cannot_change_or_read_a_persons_age)
{
    long long p = add_person("--age-estimate", "17-21", NULL, NULL, NULL, NULL);
    char was[512], want[64];
    long long audit = db_value("SELECT count(*) FROM casehost.audit_log");
    snprintf(was, sizeof(was), "%s", age_row(p));
    snprintf(want, sizeof(want), "person %lld not found", p);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "person", "age", id_text(p), "--dob",
                            "2001-01-01", NULL),
                     1);
    HAS(r.err, want);
    ck_assert_str_eq(age_row(p), was);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "b_worker", "person", "show", id_text(p), NULL), 1);
    HAS(r.err, want);
    ck_assert_ptr_null(strstr(r.out, "17"));
    DB_EQ(audit, "SELECT count(*) FROM casehost.audit_log");
}
END_TEST

/* ------------------------------------------------- the age on another day --- */

/* person_age_on_v1(p, on) as "low-high" ("-" for null), or the error, as c's caller. Static. */
static const char *age_on(PGconn *c, long long p, const char *on)
{
    static char buf[512];
    char id[24];
    const char *params[2] = {id, on};
    PGresult *res;
    snprintf(id, sizeof(id), "%lld", p);
    res = PQexecParams(c,
                       "SELECT coalesce(low::text, '-') || '-' || coalesce(high::text, '-')"
                       "  FROM casehost.person_age_on_v1($1::bigint, $2::date)",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(buf, sizeof(buf), "%s", PQgetvalue(res, 0, 0));
    else
        snprintf(buf, sizeof(buf), "error: %s", PQresultErrorMessage(res));
    PQclear(res);
    return buf;
}

START_TEST(person_age_on_a_date_follows_the_date_of_birth_or_moves_the_estimate)
{
    long long born = add_person("--dob", "2008-06-15", NULL, NULL, NULL, NULL);
    long long est = add_person("--age-estimate", "17-21", NULL, NULL, NULL, NULL);
    long long unknown = add_person(NULL, NULL, NULL, NULL, NULL, NULL);
    PGconn *a = tl_as_app(db, "a_worker"), *b;
    const char *got;

    ck_assert_str_eq(age_on(a, born, "2024-07-01"), "16-16");
    ck_assert_str_eq(age_on(a, born, "2024-06-14"), "15-15"); /* the day before the birthday */
    ck_assert_str_eq(age_on(a, born, "2024-06-15"), "16-16");

    ck_assert_str_eq(age_on(a, est, date_ago(0, 0)), "17-21");
    ck_assert_str_eq(age_on(a, est, date_ago(-2, 0)), "19-23"); /* two years on */
    /* before the estimate the low end moves down by a started year: the range holds the age */
    ck_assert_str_eq(age_on(a, est, date_ago(0, 1)), "16-21");
    got = age_on(a, est, date_ago(1, 0));
    ck_assert_msg(strcmp(got, "16-20") == 0 || strcmp(got, "15-20") == 0,
                  "a year before an estimate of 17-21: %s, want 16-20 (or 15-20)", got);
    ck_assert_str_eq(age_on(a, est, date_ago(1, 1)), "15-20");

    ck_assert_str_eq(age_on(a, unknown, "2024-07-01"), "---");

    /* another agency's caseworker: the same "not found" as for no person at all */
    b = tl_as_app(db, "b_worker");
    got = age_on(b, born, "2024-07-01");
    {
        char want[64];
        snprintf(want, sizeof(want), "person %lld not found", born);
        ck_assert_msg(strstr(got, want) != NULL, "want '%s', got %s", want, got);
    }
    PQfinish(b);
    PQfinish(a);
}
END_TEST

/* -------------------------------------------------- routing on the age facts --- */

/* A person, a case in CA and a commercial-sex screen; which referrals follow. */
static const struct {
    const char *name;
    const char *opt, *val; /* an age option; val NULL: --dob born dob_years and 30 days ago */
    int dob_years;
    const char *dispute_note; /* NULL: not disputed */
    int episode_years;        /* an exploitation episode that many years ago; 0: none */
    const char *want;         /* referrals_of() */
} age_routes[] = {
    /* DOMAIN rule 1: possibly a minor is a minor */
    {"estimate 17-21 is possibly a minor: reported", "--age-estimate", "17-21", 0, NULL, 0,
     "cw_ca/mandatory_report/queued/minor_commercial_sex,"
     "le_ca/mandatory_report/queued/minor_commercial_sex"},
    /* an adult: consent only, and California's child welfare serves to 21 */
    {"estimate 19-23 is an adult: offers with consent", "--age-estimate", "19-23", 0, NULL, 0,
     "cw_ca_extended/consent/pending_consent/young_adult_child_welfare,"
     "legal_aid_west/consent/pending_consent/adult_support_offer,"
     "nhth/consent/pending_consent/adult_hotline_offer,"
     "vs_ca/consent/pending_consent/adult_support_offer"},
    {"20 by date of birth, disputed: reported like a minor", "--dob", NULL, 20,
     "says he is 16, has no papers", 0,
     "cw_ca/mandatory_report/queued/minor_commercial_sex,"
     "le_ca/mandatory_report/queued/minor_commercial_sex"},
    /* exploited at 16, 19 now: a child victim then, the police with consent now */
    {"19 exploited at 16: police with consent", "--dob", NULL, 19, NULL, 3,
     "cw_ca_extended/consent/pending_consent/young_adult_child_welfare,"
     "le_ca/consent/pending_consent/adult_trafficking_law_enforcement,"
     "legal_aid_west/consent/pending_consent/adult_support_offer,"
     "nhth/consent/pending_consent/adult_hotline_offer,"
     "vs_ca/consent/pending_consent/adult_support_offer"},
    /* the same without the episode: no force, no exploitation as a minor, no police */
    {"19 with no episode: no police", "--dob", NULL, 19, NULL, 0,
     "cw_ca_extended/consent/pending_consent/young_adult_child_welfare,"
     "legal_aid_west/consent/pending_consent/adult_support_offer,"
     "nhth/consent/pending_consent/adult_hotline_offer,"
     "vs_ca/consent/pending_consent/adult_support_offer"},
};

START_TEST(routing_reads_the_age_range_dispute_and_exploitation_age)
{
    const char *val = age_routes[_i].val;
    long long p, c;
    if (val == NULL)
        val = date_ago(age_routes[_i].dob_years, 30);
    if (age_routes[_i].dispute_note != NULL)
        p = add_person(age_routes[_i].opt, val, "--age-disputed", "yes", "--dispute-note",
                       age_routes[_i].dispute_note);
    else
        p = add_person(age_routes[_i].opt, val, NULL, NULL, NULL, NULL);
    c = add_case(p, NULL, NULL);
    if (age_routes[_i].episode_years > 0) {
        RUN_OK(TL_AS, "a_worker", "episode", "add", id_text(c), "--from",
               date_ago(age_routes[_i].episode_years, 0), "--note",
               "sold sex for a place to stay, she said");
    }
    screen_exchanged_sex(c);
    ck_assert_msg(strcmp(referrals_of(c), age_routes[_i].want) == 0, "%s:\n got %s\nwant %s",
                  age_routes[_i].name, referrals_of(c), age_routes[_i].want);
    /* never a mandatory police report for an adult whose age nobody disputes */
    if (strstr(age_routes[_i].want, "le_ca/mandatory_report") == NULL)
        DB_EQ(0,
              "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
              " AND destination_kind = 'law_enforcement' AND basis = 'mandatory_report'",
              c);
}
END_TEST

/* ------------------------------------------------- deadlines from the event --- */

/* Seconds from now to the due time of case c's one youth_quick screening. */
static long long screening_due_in(long long c)
{
    return db_value("SELECT extract(epoch FROM due_at - now())::bigint FROM trafficking.screenings"
                    " WHERE case_id = %lld AND instrument_id = 'youth_quick'",
                    c);
}

/* case c's entry in `screen due --json` (borrowed from doc), or NULL. */
static json_t *due_entry(long long c)
{
    size_t i;
    json_t *d;
    RUN_JSON("screen", "due");
    json_array_foreach(json_object_get(doc, "due"), i, d)
    {
        if (jint(d, "case") == c)
            return d;
    }
    return NULL;
}

START_TEST(a_return_recorded_late_makes_the_screening_overdue_at_once)
{
    long long p = add_person("--age-estimate", "15", NULL, NULL, NULL, NULL);
    long long late = add_case(p, NULL, NULL), soon = add_case(p, NULL, NULL);
    long long due;
    json_t *d;

    /* back three days ago, recorded only now: due 24 hours after the return, 48 hours ago */
    RUN_OK(TL_AS, "a_worker", "case", "update", id_text(late), "--runaway-start", tl_hours_ago(100),
           "--runaway-return", tl_hours_ago(72));
    HAS(r.out, "overdue since");
    due = screening_due_in(late);
    ck_assert_msg(due > -48 * 3600 - 600 && due < -48 * 3600 + 600, "due in %lld s, want -48 h",
                  due);
    ck_assert_str_eq(db_text("SELECT state || '/' || trigger FROM trafficking.screenings"
                             " WHERE case_id = %lld",
                             late),
                     "suggested/runaway_return");
    d = due_entry(late);
    ck_assert_msg(d != NULL, "case %lld is not in screen due:\n%s", late, r.out);
    ck_assert(json_is_true(json_object_get(d, "overdue")));

    /* back two hours ago: due in 22 hours, not overdue */
    RUN_OK(TL_AS, "a_worker", "case", "update", id_text(soon), "--runaway-start", tl_hours_ago(30),
           "--runaway-return", tl_hours_ago(2));
    ck_assert_ptr_null(strstr(r.out, "overdue"));
    HAS(r.out, "screening suggested: youth_quick");
    due = screening_due_in(soon);
    ck_assert_msg(due > 22 * 3600 - 600 && due < 22 * 3600 + 600, "due in %lld s, want 22 h", due);
    d = due_entry(soon);
    ck_assert_msg(d != NULL, "case %lld is not in screen due:\n%s", soon, r.out);
    ck_assert(json_is_false(json_object_get(d, "overdue")));
}
END_TEST

/* Case c's missing-child referrals as "destination/basis/state" in destination order. Static. */
static const char *missing_reports(long long c)
{
    return db_text("SELECT coalesce(string_agg(destination_id || '/' || basis || '/' || state,"
                   " ',' ORDER BY destination_id), '') FROM trafficking.referrals"
                   " WHERE case_id = %lld AND rule = 'missing_child_report'",
                   c);
}

START_TEST(a_child_welfare_agency_reports_a_missing_child_24_hours_from_the_start)
{
    long long child, adult, c, later, grown;
    db_exec("UPDATE casehost.agencies SET kind = 'child_welfare' WHERE name = 'A'");
    child = add_person("--age-estimate", "15", NULL, NULL, NULL, NULL);

    /* gone 30 hours, recorded now: due 24 hours from the start, 6 hours ago */
    c = add_case(child, tl_hours_ago(30), NULL);
    ck_assert_str_eq(missing_reports(c), "missing_le_ca/mandatory_report/queued,"
                                         "ncmec/mandatory_report/queued");
    DB_EQ(2,
          "SELECT count(*) FROM trafficking.referrals WHERE case_id = %lld"
          " AND rule = 'missing_child_report' AND destination_kind = 'missing_child'"
          " AND abs(extract(epoch FROM due_at - (now() - interval '6 hours'))) < 600",
          c);

    /* the return recorded later: no new missing report, the first ones stay */
    RUN_OK(TL_AS, "a_worker", "case", "update", id_text(c), "--runaway-return", tl_hours_ago(2));
    DB_EQ(2, "SELECT count(*) FROM trafficking.referrals WHERE destination_kind = 'missing_child'");
    ck_assert_str_eq(missing_reports(c), "missing_le_ca/mandatory_report/queued,"
                                         "ncmec/mandatory_report/queued");

    /* a start recorded on an existing case routes it again */
    later = add_case(child, NULL, NULL);
    ck_assert_str_eq(missing_reports(later), "");
    RUN_OK(TL_AS, "a_worker", "case", "update", id_text(later), "--runaway-start",
           tl_hours_ago(30));
    ck_assert_str_eq(missing_reports(later), "missing_le_ca/mandatory_report/queued,"
                                             "ncmec/mandatory_report/queued");

    /* possibly a minor (an estimate whose low end is under 18) is a missing child */
    c = add_case(add_person("--age-estimate", "17-21", NULL, NULL, NULL, NULL), tl_hours_ago(30),
                 NULL);
    ck_assert_str_eq(missing_reports(c), "missing_le_ca/mandatory_report/queued,"
                                         "ncmec/mandatory_report/queued");

    /* an adult missing is no missing child */
    adult = add_person("--dob", "1990-01-01", NULL, NULL, NULL, NULL);
    grown = add_case(adult, tl_hours_ago(30), NULL);
    ck_assert_str_eq(missing_reports(grown), "");
}
END_TEST

/* The duty is the child-welfare agency's: a shelter (or an agency of no kind) has none. */
START_TEST(an_agency_not_in_child_welfare_makes_no_missing_child_report)
{
    static const char *const kinds[] = {"ngo_shelter", "other"};
    long long child = add_person("--age-estimate", "15", NULL, NULL, NULL, NULL), c;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        db_exec("UPDATE casehost.agencies SET kind = '%s' WHERE name = 'A'", kinds[i]);
        c = add_case(child, tl_hours_ago(30), NULL);
        ck_assert_msg(strcmp(referrals_of(c), "") == 0, "agency kind %s: %s", kinds[i],
                      referrals_of(c));
    }
}
END_TEST

static TCase *tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return tc;
}

static Suite *age_suite(void)
{
    Suite *s = suite_create("age");
    TCase *tc = tcase(s, "recorded");
    tcase_add_test(tc, estimate_range_is_stored_with_who_made_it_and_shown);
    tcase_add_test(tc, bad_age_input_to_person_add_exits_2_and_writes_nothing);
    tcase_add_test(tc, bad_age_input_to_person_age_exits_2_and_changes_nothing);
    tcase_add_test(tc, person_age_records_a_dispute_and_a_date_of_birth_with_the_old_age_audited);
    tcase_add_test(tc, another_agency_cannot_change_or_read_a_persons_age);
    tcase_add_test(tc, person_age_on_a_date_follows_the_date_of_birth_or_moves_the_estimate);
    tc = tcase(s, "routing");
    tcase_add_loop_test(tc, routing_reads_the_age_range_dispute_and_exploitation_age, 0,
                        (int)(sizeof(age_routes) / sizeof(age_routes[0])));
    tc = tcase(s, "deadlines");
    tcase_add_test(tc, a_return_recorded_late_makes_the_screening_overdue_at_once);
    tcase_add_test(tc, a_child_welfare_agency_reports_a_missing_child_24_hours_from_the_start);
    tcase_add_test(tc, an_agency_not_in_child_welfare_makes_no_missing_child_report);
    return s;
}

CHECK_MAIN(age_suite())
