/*
 * check_config_deploy.c: configuration is deployed, not edited live. A
 * broken candidate is refused and the live generation keeps serving, also
 * for a host whose files on disk are broken; fixtures and inline secrets
 * refuse a deploy; only the owner and admins holding the config_admin grant
 * deploy; history and rollback; the write functions hold a caller to
 * what the live configuration allows, whoever calls them by hand; and a
 * compiled configuration (cache_dir) serves every command of a generation,
 * each from its own private copy, until another generation goes live.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], dir[1024], cfg[1100];

#define RUN_OK(...)                                                                                \
    ck_assert_msg(tl_run(&r, db, cfg, __VA_ARGS__, NULL) == 0, "exit %d\nstdout: %s\nstderr: %s",  \
                  r.status, r.out, r.err)

#define HAS(text, part)                                                                            \
    ck_assert_msg(strstr((text), (part)) != NULL, "want '%s' in:\n%s", (part), (text))

#define db_value(sql) tl_db_value(db, (sql))
#define db_text(sql) tl_db_text(db, (sql))

#define LIVE "SELECT hash FROM casehost.config_generations WHERE plugin = 'trafficking' AND live"

/* Appends text to dir/rel. */
static void append(const char *rel, const char *text)
{
    char path[1200];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "a");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* Replaces the first occurrence of from by to in dir/rel. */
static void edit(const char *rel, const char *from, const char *to)
{
    char path[1200], *text, *at;
    FILE *f;
    long n;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = calloc(1, (size_t)n + 1);
    ck_assert(fread(text, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    at = strstr(text, from);
    ck_assert_msg(at != NULL, "'%s' not in %s", from, path);
    f = fopen(path, "w");
    fwrite(text, 1, (size_t)(at - text), f);
    fputs(to, f);
    fputs(at + strlen(from), f);
    fclose(f);
    free(text);
}

/*
 * A fresh database (the template has the shipped configuration live), the
 * agencies, and a host configuration folder of our own holding a copy of
 * the shipped trafficking folder: the candidate the tests change.
 */
static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    tl_seed_agencies(db, NULL);
    snprintf(cfg, sizeof(cfg), "%s", tl_candidate_config(dir, sizeof(dir), "deploy"));
}

static void teardown(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* A 15-year-old's case whose screening discloses commercial sex: two mandatory reports. */
static void minor_reported(void)
{
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Jo", "--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "T", "--person", "1", "--state", "CA");
    RUN_OK(TL_AS, "a_worker", "screen", "start", "1", "--instrument", "youth_quick",
           "offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
           "exchanged_sex=yes", "someone_making_you_now=no");
}

START_TEST(the_shipped_configuration_deploys_unchanged_with_its_fixtures)
{
    char live[80];
    snprintf(live, sizeof(live), "%s", db_text(LIVE));
    RUN_OK("config", "check");
    HAS(r.out, "configuration is valid and its fixtures pass");
    /* what only a deploy can check, config check says it did not */
    HAS(r.out, "not checked without a database: that every instrument version stored screenings "
               "use still loads");
    RUN_OK("--json", "config", "deploy");
    HAS(r.out, live);
    HAS(r.out, "\"unchanged\": true");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.config_generations"), 1);
}
END_TEST

START_TEST(deploy_of_a_broken_candidate_leaves_the_live_generation_serving)
{
    char live[80];
    long long gens = db_value("SELECT count(*) FROM casehost.config_generations");
    snprintf(live, sizeof(live), "%s", db_text(LIVE));
    append("trafficking/routing.cfg", "\nrules = oops;\n");
    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "deploy", NULL), 2);
    HAS(r.err, "trafficking/routing.cfg:");
    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "check", NULL), 2);
    HAS(r.err, "trafficking/routing.cfg:");
    ck_assert_str_eq(db_text(LIVE), live);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.config_generations"), gens);
    /* the same host, with the broken file on its disk, runs the live generation */
    minor_reported();
    HAS(r.out, "referral to le_ca (mandatory_report");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.decisions"
                              " WHERE config_hash IS NOT NULL"),
                     1);
}
END_TEST

START_TEST(a_host_with_a_broken_instrument_on_disk_still_screens_with_the_live_one)
{
    append("trafficking/instruments/youth_quick.cfg", "\n@@@ not libconfig\n");
    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "check", NULL), 2);
    HAS(r.err, "youth_quick.cfg:");
    minor_reported();
    HAS(r.out, "Result:");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referrals"), 2);
}
END_TEST

START_TEST(failing_fixtures_refuse_the_deploy)
{
    char live[80];
    snprintf(live, sizeof(live), "%s", db_text(LIVE));
    /* a rule change the fixtures do not expect: minors' reports due in 48 h */
    edit("trafficking/routing.cfg",
         "basis = \"mandatory_report\"; urgency = \"24h\"; due_hours = 24;",
         "basis = \"mandatory_report\"; urgency = \"72h\"; due_hours = 48;");
    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "deploy", NULL), 2);
    HAS(r.err, "routing fixtures fail against this configuration");
    HAS(r.err, "deploy refused, nothing changed");
    ck_assert_str_eq(db_text(LIVE), live);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.config_generations"), 1);
}
END_TEST

START_TEST(an_inline_secret_is_never_deployed)
{
    /* The loader takes a literal secret only with a loopback url; the deploy never. */
    edit("trafficking/destinations.cfg", "https://referrals.example.org/nv/law-enforcement",
         "http://127.0.0.1:9/nv");
    edit("trafficking/destinations.cfg", "secret_file = \"../../var/secrets/le_nv_webhook\";",
         "secret = \"s3cret\";");
    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "deploy", NULL), 2);
    HAS(r.err, "destination 'le_nv' holds its webhook secret inline");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.config_generations"
                              " WHERE files::text LIKE '%s3cret%'"),
                     0);
}
END_TEST

START_TEST(a_secret_file_others_may_read_is_a_configuration_error)
{
    char secret[1200];
    snprintf(secret, sizeof(secret), "%s/le_nv.secret", dir);
    FILE *f = fopen(secret, "w");
    ck_assert_ptr_nonnull(f);
    fputs("k3y\n", f);
    fclose(f);
    ck_assert_int_eq(chmod(secret, 0644), 0);
    edit("trafficking/destinations.cfg", "../../var/secrets/le_nv_webhook", "../le_nv.secret");
    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "check", NULL), 2);
    HAS(r.err, "destination 'le_nv': secret file");
    HAS(r.err, "le_nv.secret' has mode 0644");
    ck_assert_int_eq(chmod(secret, 0600), 0);
    RUN_OK("config", "check");
}
END_TEST

/* A link could point anywhere and be re-pointed later: the file itself is named. */
START_TEST(a_symlinked_secret_file_is_a_configuration_error)
{
    char secret[1200], link[1200];
    snprintf(secret, sizeof(secret), "%s/le_nv.secret", dir);
    snprintf(link, sizeof(link), "%s/le_nv.link", dir);
    FILE *f = fopen(secret, "w");
    ck_assert_ptr_nonnull(f);
    fputs("k3y\n", f);
    fclose(f);
    ck_assert_int_eq(chmod(secret, 0600), 0);
    ck_assert_int_eq(symlink(secret, link), 0);
    edit("trafficking/destinations.cfg", "../../var/secrets/le_nv_webhook", "../le_nv.link");
    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "check", NULL), 2);
    HAS(r.err, "destination 'le_nv': secret file");
    HAS(r.err, "le_nv.link' is a symbolic link: name the file itself");
}
END_TEST

/* Personal data goes over TLS: plain http is a configuration error off loopback. */
START_TEST(a_plain_http_webhook_is_a_configuration_error)
{
    edit("trafficking/destinations.cfg", "https://referrals.example.org/nv/law-enforcement",
         "http://referrals.example.org/nv/law-enforcement");
    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "check", NULL), 2);
    HAS(r.err, "destinations.cfg:");
    HAS(r.err,
        "destination 'le_nv': channel: url 'http://referrals.example.org/nv/law-enforcement' "
        "must use https://");
}
END_TEST

START_TEST(only_config_admins_deploy_and_roll_back)
{
    char first[80], second[80];
    snprintf(first, sizeof(first), "%s", db_text(LIVE));
    append("trafficking/routing.cfg", "\n# reviewed by the task force, 2026-11\n");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "config", "deploy", NULL), 1);
    HAS(r.err, "needs an admin with the config_admin grant");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_admin", "config", "deploy", NULL), 1);
    HAS(r.err, "needs an admin with the config_admin grant");
    /* an agency admin cannot give the grant; the database owner can */
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_admin", "user", "config-admin", "a_admin", "on", NULL), 1);
    HAS(r.err, "only the database owner gives the config_admin grant");
    ck_assert_int_eq(tl_run(&r, db, cfg, "user", "config-admin", "a_worker", "on", NULL), 1);
    HAS(r.err, "only admins may deploy configuration");
    RUN_OK("user", "config-admin", "a_admin", "on");
    RUN_OK(TL_AS, "a_admin", "config", "deploy", "--note", "comment only");
    snprintf(second, sizeof(second), "%s", db_text(LIVE));
    ck_assert_str_ne(first, second);
    ck_assert_str_eq(db_text("SELECT u.name || '/' || g.note FROM casehost.config_generations g"
                             " JOIN casehost.users u ON u.id = g.deployed_by WHERE g.live"),
                     "a_admin/comment only");
    RUN_OK(TL_AS, "a_admin", "config", "history");
    HAS(r.out, "comment only");
    HAS(r.out, "a_admin");
    /* rollback by a unique prefix of the earlier hash */
    {
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "%.10s", first);
        RUN_OK(TL_AS, "a_admin", "config", "rollback", prefix);
    }
    ck_assert_str_eq(db_text(LIVE), first);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log a JOIN casehost.users u"
                              " ON u.id = a.actor_id WHERE a.object_type = 'config'"
                              " AND a.action IN ('deploy', 'rollback') AND u.name = 'a_admin'"),
                     2);
    /* and taking the grant back stops the next deploy */
    RUN_OK("user", "config-admin", "a_admin", "off");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_admin", "config", "deploy", NULL), 1);
    ck_assert_str_eq(db_text(LIVE), first);
}
END_TEST

/* Renames dir/from to dir/to (a file the candidate no longer has, or has again). */
static void move(const char *from, const char *to)
{
    char a[1200], b[1200];
    snprintf(a, sizeof(a), "%s/%s", dir, from);
    snprintf(b, sizeof(b), "%s/%s", dir, to);
    ck_assert_msg(rename(a, b) == 0, "rename %s: %s", a, strerror(errno));
}

/*
 * A completed screening of youth_quick version 1 on a new case of user's
 * agency, stored as the database owner would find it after an upgrade
 * (`screen start` always uses the newest version).
 */
static void stored_v1_screening(const char *user)
{
    PGconn *c;
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, user, "case", "new", "--title", "Old screening",
                         "--state", "CA", NULL) == 0,
                  "%s", r.err);
    c = tl_connect(db);
    tl_sql_ok(c,
              "INSERT INTO trafficking.instruments (id, version, hash, title, definition)"
              " SELECT id, version, hash, title, definition FROM trafficking.live_instruments"
              " WHERE id = 'youth_quick' AND version = 1 AND generation = (" LIVE ")"
              " ON CONFLICT DO NOTHING",
              0, NULL);
    tl_sql_ok(c,
              "INSERT INTO trafficking.screenings (agency_id, case_id, instrument_id,"
              " instrument_version, instrument_hash, state, result, finished_at)"
              " SELECT c.agency_id, c.id, i.id, i.version, i.hash, 'completed', 'negative', now()"
              " FROM casehost.cases c, trafficking.instruments i"
              " WHERE c.id = (SELECT max(id) FROM casehost.cases) AND i.id = 'youth_quick'"
              " AND i.version = 1",
              0, NULL);
    PQfinish(c);
}

/*
 * A screening is routed with the evidence classes of its own instrument
 * version: a candidate that no longer loads a version stored screenings of
 * any agency use is refused, naming the version, how many use it and what
 * to keep, also for a config admin, who cannot read another agency's
 * screenings but is told they count.
 */
START_TEST(a_deploy_that_drops_an_instrument_version_stored_screenings_use_is_refused)
{
    char live[80];
    const char *want = "instrument youth_quick version 1 is used by 3 stored screenings: keep "
                       "instruments/youth_quick.v1.cfg and its class-mapping file "
                       "instruments/classes/youth_quick.v1.cfg (this configuration loads "
                       "youth_quick version 2 only)";
    snprintf(live, sizeof(live), "%s", db_text(LIVE));
    stored_v1_screening("a_worker");
    stored_v1_screening("a_worker");
    stored_v1_screening("b_worker");
    /* the newest version, as screened today, is still loaded: not named */
    minor_reported();
    move("trafficking/instruments/youth_quick.v1.cfg", "youth_quick.v1.cfg.old");
    move("trafficking/instruments/classes/youth_quick.v1.cfg", "classes_youth_quick.v1.cfg.old");

    ck_assert_int_eq(tl_run(&r, db, cfg, "config", "deploy", NULL), 2);
    HAS(r.err, "deploy refused, nothing changed: ");
    HAS(r.err, want);
    HAS(r.err, "hint: a screening is routed with the evidence classes of its own instrument "
               "version");
    ck_assert_msg(strstr(r.err, "version 2 is used") == NULL, "version 2 named:\n%s", r.err);
    ck_assert_str_eq(db_text(LIVE), live);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.config_generations"), 1);

    /* a config admin of agency A is refused the same, B's screening counted */
    RUN_OK("user", "config-admin", "a_admin", "on");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_admin", "config", "deploy", NULL), 2);
    HAS(r.err, want);
    {
        PGconn *a = tl_as_app(db, "a_admin");
        ck_assert_int_eq(tl_value(a, "SELECT count(*) FROM trafficking.screenings"
                                     " WHERE instrument_version = 1"),
                         2);
        ck_assert_int_eq(tl_value(a, "SELECT sum(screenings) FROM"
                                     " trafficking.screening_versions_v1() WHERE version = 1"),
                         3);
        PQfinish(a);
    }
    ck_assert_str_eq(db_text(LIVE), live);

    /* with the files back, the same admin deploys */
    move("youth_quick.v1.cfg.old", "trafficking/instruments/youth_quick.v1.cfg");
    move("classes_youth_quick.v1.cfg.old", "trafficking/instruments/classes/youth_quick.v1.cfg");
    RUN_OK(TL_AS, "a_admin", "config", "deploy");
}
END_TEST

/* A referral written by hand through decision_store, as a_worker, on case 1 (CA). */
static PGresult *store_by_hand(PGconn *c, const char *referral)
{
    char p[1500];
    const char *params[1] = {p};
    snprintf(p, sizeof(p),
             "{\"case\": 1, \"cause\": \"manual\", \"config_hash\": \"x\", \"input\": {},"
             " \"rules\": [], \"outcome\": {}, \"referrals\": [%s]}",
             referral);
    return PQexecParams(c, "SELECT * FROM trafficking.decision_store($1::jsonb)", 1, NULL, params,
                        NULL, NULL, 0);
}

#define REFERRAL(dest, kind, rule, basis, fields)                                                  \
    "{\"destination\": \"" dest "\", \"kind\": \"" kind "\", \"rule\": \"" rule                    \
    "\", \"basis\": \"" basis "\", \"state\": \"queued\", \"urgency\": \"24h\","                   \
    " \"due_hours\": 24, \"ack_sla_hours\": 24, \"fields\": " fields "}"

static const struct {
    const char *name, *referral, *error; /* error NULL: accepted */
} by_hand[] = {
    {"a referral a live rule could make is accepted",
     REFERRAL("le_ca", "law_enforcement", "minor_commercial_sex", "mandatory_report",
              "[\"case_id\", \"age\"]"),
     NULL},
    {"a destination outside the live configuration",
     REFERRAL("evil_corp", "law_enforcement", "minor_commercial_sex", "mandatory_report",
              "[\"case_id\"]"),
     "destination \"evil_corp\" is not in the live configuration"},
    {"a destination's kind forged",
     REFERRAL("le_ca", "hotline", "minor_commercial_sex", "mandatory_report", "[\"case_id\"]"),
     "destination \"le_ca\" is a law_enforcement, not a hotline"},
    {"fields beyond the destination's",
     REFERRAL("hhs_otip", "hhs_otip", "minor_foreign_national_hhs", "mandatory_report",
              "[\"case_id\", \"person_name\", \"date_of_birth\"]"),
     "destination \"hhs_otip\" may receive only"},
    {"a basis the rule never uses",
     REFERRAL("le_ca", "law_enforcement", "adult_ffc_law_enforcement", "mandatory_report",
              "[\"case_id\"]"),
     "no live rule \"adult_ffc_law_enforcement\" refers to le_ca on the basis mandatory_report"},
    {"a rule that does not exist",
     REFERRAL("le_ca", "law_enforcement", "because_i_said_so", "imminent_danger", "[\"case_id\"]"),
     "no live rule \"because_i_said_so\""},
    {"a ten-year acknowledgement time, so it never escalates",
     "{\"destination\": \"le_ca\", \"kind\": \"law_enforcement\", \"rule\":"
     " \"minor_commercial_sex\", \"basis\": \"mandatory_report\", \"state\": \"queued\","
     " \"urgency\": \"24h\", \"due_hours\": 24, \"ack_sla_hours\": 87600,"
     " \"fields\": [\"case_id\"]}",
     "destination \"le_ca\" acknowledges within 24 h, not 87600"},
    {"a 24-hour report made routine",
     "{\"destination\": \"le_ca\", \"kind\": \"law_enforcement\", \"rule\":"
     " \"minor_commercial_sex\", \"basis\": \"mandatory_report\", \"state\": \"queued\","
     " \"urgency\": \"routine\", \"due_hours\": 720, \"ack_sla_hours\": 24,"
     " \"fields\": [\"case_id\"]}",
     "rule \"minor_commercial_sex\" makes its referrals 24h"},
    {"another state's destination",
     REFERRAL("le_nv", "law_enforcement", "minor_commercial_sex", "mandatory_report",
              "[\"case_id\"]"),
     "destination \"le_nv\" does not serve case 1's jurisdiction"},
};

START_TEST(write_functions_hold_a_caller_to_the_live_configuration)
{
    PGconn *c;
    PGresult *res;
    long long before;
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "T", "--state", "CA");
    before = db_value("SELECT count(*) FROM trafficking.referrals");
    c = tl_as_app(db, "a_worker");
    res = store_by_hand(c, by_hand[_i].referral);
    if (by_hand[_i].error == NULL) {
        ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", by_hand[_i].name,
                      PQresultErrorMessage(res));
        ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referrals"), before + 1);
        ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log a JOIN casehost.users u"
                                  " ON u.id = a.actor_id WHERE a.object_type = 'referral'"
                                  " AND u.name = 'a_worker'"),
                         1);
    } else {
        ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "%s: accepted", by_hand[_i].name);
        HAS(PQresultErrorMessage(res), by_hand[_i].error);
        ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.referrals"), before);
    }
    PQclear(res);
    PQfinish(c);
}
END_TEST

START_TEST(a_screening_must_use_a_live_instrument_and_its_items)
{
    PGconn *c;
    PGresult *res;
    const char *params[1];
    char p[1200];
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "T", "--state", "CA");
    c = tl_as_app(db, "a_worker");
    snprintf(p, sizeof(p),
             "{\"case\": 1, \"instrument\": \"youth_quick\", \"version\": 1, \"hash\": \"%064d\","
             " \"title\": \"forged\", \"definition\": \"forged\", \"state\": \"completed\","
             " \"result\": \"negative\", \"answers\": []}",
             0);
    params[0] = p;
    res = PQexecParams(c, "SELECT trafficking.screening_submit($1::jsonb)", 1, NULL, params, NULL,
                       NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    HAS(PQresultErrorMessage(res), "is not in the live configuration");
    PQclear(res);
    ck_assert_int_eq(
        db_value("SELECT count(*) FROM trafficking.instruments WHERE title = 'forged'"), 0);
    PQfinish(c);
}
END_TEST

/* ------------------------------------------------- stored candidates --- */

/* The shipped routing.cfg with from replaced by to (the first one); caller frees. */
static char *routing_with(const char *from, const char *to)
{
    char path[1200], *text, *at, *out;
    snprintf(path, sizeof(path), "%s/trafficking/routing.cfg", dir);
    text = tl_read_file(path);
    at = strstr(text, from);
    ck_assert_msg(at != NULL, "'%s' not in routing.cfg", from);
    out = calloc(1, strlen(text) + strlen(to) + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, text, (size_t)(at - text));
    strcat(out, to);
    strcat(out, at + strlen(from));
    free(text);
    return out;
}

/* Writes text to a file of the test folder (outside the candidate) and returns its path. */
static const char *upload_file(const char *name, const char *text)
{
    static char path[1200];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    return path;
}

#define RULE_24 "due_hours = 24;\n    stop = false;\n    note = \"child sex"
#define RULE_12 "due_hours = 12;\n    stop = false;\n    note = \"child sex"

/*
 * A config admin prepares a change in the database: a copy of live, one file
 * replaced, checked (a broken file named as the candidate names it, with
 * its line), its own fixtures run, replayed over stored decisions, deployed
 * through the deploy path; a caseworker and an admin without the grant
 * read and change nothing; every change is audited.
 */
START_TEST(a_stored_candidate_is_changed_checked_replayed_and_deployed)
{
    char *broken = routing_with("rules = (", "rules = ( oops");
    char *slower = routing_with(RULE_24, RULE_12);
    char *good = routing_with("rules = (", "rules = ( # reviewed by the task force\n"), before[80];
    snprintf(before, sizeof(before), "%s", db_text(LIVE));
    minor_reported(); /* a stored decision to replay */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_admin", "candidate", "new", NULL), 1);
    HAS(r.err, "needs an admin with the config_admin grant");
    RUN_OK("user", "config-admin", "a_admin", "on");
    RUN_OK(TL_AS, "a_admin", "--json", "candidate", "new", "--note", "slower reports");
    HAS(r.out, "\"candidate\": \"1\"");
    RUN_OK(TL_AS, "a_admin", "--json", "candidate", "show", "1");
    HAS(r.out, "\"path\": \"trafficking/routing.cfg\"");
    HAS(r.out, "\"differ_from_live\": 0");
    /* a caseworker neither reads nor changes it, nor runs a plugin command on it */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "candidate", "show", "1", NULL), 1);
    HAS(r.err, "needs an admin with the config_admin grant");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_worker", "candidate", "put", "1",
                            "trafficking/routing.cfg", upload_file("w.cfg", good), NULL),
                     1);
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_worker", "routing", "test", "--candidate", "1", NULL), 1);
    HAS(r.err, "needs an admin with the config_admin grant");

    /* a broken file: check names it as the candidate does, with its line */
    RUN_OK(TL_AS, "a_admin", "candidate", "put", "1", "trafficking/routing.cfg",
           upload_file("broken.cfg", broken));
    RUN_OK(TL_AS, "a_admin", "--json", "candidate", "show", "1");
    HAS(r.out, "\"against_live\": \"changed\"");
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_admin", "config", "check", "--candidate", "1", NULL), 2);
    HAS(r.err, "trafficking/routing.cfg:");
    ck_assert_msg(strstr(r.err, "casehost-candidate-") == NULL, "a private path shown:\n%s", r.err);
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_admin", "config", "deploy", "--candidate", "1", NULL), 2);
    ck_assert_str_eq(db_text(LIVE), before);

    /* slower reports: its own fixtures fail, and replay shows the decision that would change */
    RUN_OK(TL_AS, "a_admin", "candidate", "put", "1", "trafficking/routing.cfg",
           upload_file("slower.cfg", slower));
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_admin", "routing", "test", "--candidate", "1", NULL), 1);
    HAS(r.err, "routing fixtures do not match");
    HAS(r.err, "fixture '");
    HAS(r.err, "(routing-tests.cfg:");
    HAS(r.out, "due 12h");
    ck_assert_msg(strstr(r.err, "casehost-candidate-") == NULL &&
                      strstr(r.out, "casehost-candidate-") == NULL,
                  "a private path shown:\n%s\n%s", r.out, r.err);
    RUN_OK(TL_AS, "a_admin", "routing", "replay", "--candidate", "1");
    HAS(r.out, "1 of 1 stored decisions would change");
    HAS(r.out, "cw_ca: due 24h -> 12h");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_admin", "routing", "replay", "--candidate", "1",
                            "--config", dir, NULL),
                     2);
    HAS(r.err, "not both");

    /* names outside a plugin's folder of .cfg files are refused */
    {
        static const char *const bad[] = {"../trafficking/routing.cfg", "/etc/x.cfg",
                                          "trafficking/../../x.cfg",    "trafficking/notes.txt",
                                          "nosuchplugin/x.cfg",         "trafficking/.hidden.cfg"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_admin", "candidate", "put", "1", bad[i],
                                    upload_file("x.cfg", "x = 1;\n"), NULL),
                             1);
            ck_assert_msg(strstr(r.err, "a candidate file is named") != NULL ||
                              strstr(r.err, "is not under the folder of a plugin") != NULL,
                          "%s: %s", bad[i], r.err);
        }
    }
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.config_candidates c,"
                              " jsonb_object_keys(c.files) k WHERE k NOT LIKE 'trafficking/%'"),
                     0);

    /* a good change deploys through the deploy path, and the candidate is done */
    RUN_OK(TL_AS, "a_admin", "candidate", "put", "1", "trafficking/routing.cfg",
           upload_file("good.cfg", good));
    RUN_OK(TL_AS, "a_admin", "config", "check", "--candidate", "1");
    HAS(r.out, "configuration is valid and its fixtures pass");
    RUN_OK(TL_AS, "a_admin", "routing", "test", "--candidate", "1");
    HAS(r.out, "routing fixtures match");
    RUN_OK(TL_AS, "a_admin", "config", "deploy", "--candidate", "1", "--note", "whitespace");
    ck_assert_str_ne(db_text(LIVE), before);
    ck_assert_str_eq(db_text("SELECT state || ' ' || (deployed->>'trafficking' = (" LIVE "))"
                             " FROM casehost.config_candidates WHERE id = 1"),
                     "deployed true");
    ck_assert_str_eq(db_text("SELECT files->>'trafficking/routing.cfg' = (SELECT"
                             " files->>'trafficking/routing.cfg' FROM casehost.config_generations"
                             " WHERE live) FROM casehost.config_candidates WHERE id = 1"),
                     "t");
    RUN_OK(TL_AS, "a_admin", "config", "history");
    HAS(r.out, "whitespace");
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_admin", "candidate", "put", "1",
                         "trafficking/routing.cfg", upload_file("good.cfg", good), NULL) == 1,
                  "exit %d: %s", r.status, r.err);
    HAS(r.err, "configuration candidate 1 is deployed: it cannot change");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log a JOIN casehost.users u"
                              " ON u.id = a.actor_id WHERE a.object_type = 'config_candidate'"
                              " AND a.object_id = 1 AND u.name = 'a_admin'"),
                     5); /* create, three puts, deploy */
    free(broken);
    free(slower);
    free(good);
}
END_TEST

/* rm, discard and a candidate that is not there. */
START_TEST(a_candidate_file_is_removed_and_a_candidate_discarded)
{
    RUN_OK("user", "config-admin", "a_admin", "on");
    RUN_OK(TL_AS, "a_admin", "candidate", "new");
    RUN_OK(TL_AS, "a_admin", "candidate", "rm", "1", "trafficking/routing-tests.cfg");
    RUN_OK(TL_AS, "a_admin", "--json", "candidate", "show", "1");
    HAS(r.out, "\"against_live\": \"removed\"");
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_admin", "candidate", "rm", "1",
                            "trafficking/routing-tests.cfg", NULL),
                     1);
    HAS(r.err, "configuration candidate 1 has no file \"trafficking/routing-tests.cfg\"");
    RUN_OK(TL_AS, "a_admin", "candidate", "discard", "1");
    RUN_OK(TL_AS, "a_admin", "--json", "candidate", "list");
    HAS(r.out, "\"state\": \"discarded\"");
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_admin", "config", "deploy", "--candidate", "1", NULL), 1);
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_admin", "candidate", "show", "7", NULL), 1);
    HAS(r.err, "no configuration candidate 7");
    ck_assert_int_eq(
        tl_run(&r, db, cfg, TL_AS, "a_admin", "config", "check", dir, "--candidate", "1", NULL), 2);
    HAS(r.err, "give a folder or --candidate, not both");
}
END_TEST

/* The inode of this user's compiled copy in dir/cache, or 0 when there is none. */
static ino_t compiled_copy(void)
{
    char path[1300];
    struct stat st;
    snprintf(path, sizeof(path), "%s/cache/user-%lu/trafficking.cfgcache", dir,
             (unsigned long)geteuid());
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* The host config again, with the plugin settings given. */
static void host_settings(const char *settings)
{
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "paths = { plugin_dir = \"%s/plugins\"; sql_dir = \"%s/sql\"; };\n"
            "plugins = ( { name = \"trafficking\"; required = true; settings = { %s }; } );\n",
            tl_env("CASEHOST_TEST_BUILD"), tl_env("CASEHOST_TEST_ROOT"), settings);
    fclose(f);
}

/* A routed what-if with its trace: every rule, condition and value. */
#define WHAT_IF                                                                                    \
    TL_AS, "a_worker", "--json", "route", "what-if", "--trace", "--age", "15", "--state", "CA",    \
        "--instrument", "youth_quick", "--result", "positive", "--indicator", "exchanged_sex"

START_TEST(a_compiled_configuration_serves_each_command_until_another_generation_is_live)
{
    static char list[65536], parsed[65536];
    char cmd[1300];
    ino_t first;
    snprintf(cmd, sizeof(cmd), "mkdir -m 700 '%s/cache'", dir);
    ck_assert_int_eq(system(cmd), 0);

    /* Without a cache folder: what the files decide. */
    RUN_OK(WHAT_IF);
    snprintf(parsed, sizeof(parsed), "%s", r.out);
    ck_assert_uint_eq(compiled_copy(), 0);

    host_settings("cache_dir = \"cache\";");
    RUN_OK(TL_AS, "a_worker", "--json", "instrument", "list");
    snprintf(list, sizeof(list), "%s", r.out);
    first = compiled_copy();
    ck_assert_msg(first != 0, "no compiled copy after a command");
    /* Each command runs the generation from a new private copy; the compiled one serves them. */
    RUN_OK(TL_AS, "a_worker", "--json", "instrument", "list");
    ck_assert_str_eq(r.out, list);
    RUN_OK(WHAT_IF);
    ck_assert_str_eq(r.out, parsed);
    ck_assert_uint_eq(compiled_copy(), first);

    /* A new generation: its files decide, and the compiled copy follows. */
    edit("trafficking/instruments/youth_quick.cfg", "title = \"Youth quick screen\"",
         "title = \"Youth quick screen, as deployed\"");
    RUN_OK("config", "deploy");
    RUN_OK(TL_AS, "a_worker", "--json", "instrument", "list");
    HAS(r.out, "Youth quick screen, as deployed");
    ck_assert_uint_ne(compiled_copy(), first);
}
END_TEST

static Suite *deploy_suite(void)
{
    Suite *s = suite_create("config_deploy");
    TCase *tc = tcase_create("deploy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_shipped_configuration_deploys_unchanged_with_its_fixtures);
    tcase_add_test(tc, deploy_of_a_broken_candidate_leaves_the_live_generation_serving);
    tcase_add_test(tc, a_host_with_a_broken_instrument_on_disk_still_screens_with_the_live_one);
    tcase_add_test(tc, failing_fixtures_refuse_the_deploy);
    tcase_add_test(tc, an_inline_secret_is_never_deployed);
    tcase_add_test(tc, a_secret_file_others_may_read_is_a_configuration_error);
    tcase_add_test(tc, a_symlinked_secret_file_is_a_configuration_error);
    tcase_add_test(tc, a_plain_http_webhook_is_a_configuration_error);
    tcase_add_test(tc, only_config_admins_deploy_and_roll_back);
    tcase_add_test(tc, a_deploy_that_drops_an_instrument_version_stored_screenings_use_is_refused);
    tcase_add_loop_test(tc, write_functions_hold_a_caller_to_the_live_configuration, 0,
                        (int)(sizeof(by_hand) / sizeof(by_hand[0])));
    tcase_add_test(tc, a_screening_must_use_a_live_instrument_and_its_items);
    tcase_add_test(tc, a_stored_candidate_is_changed_checked_replayed_and_deployed);
    tcase_add_test(tc, a_candidate_file_is_removed_and_a_candidate_discarded);
    tcase_add_test(tc,
                   a_compiled_configuration_serves_each_command_until_another_generation_is_live);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(deploy_suite())
