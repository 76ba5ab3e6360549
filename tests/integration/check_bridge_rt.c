/*
 * check_bridge_rt.c: `casehost bridge rt` against a real Request Tracker 5
 * (Debian's packages) on the run's throwaway PostgreSQL, served by
 * rt-server on loopback (scripts/rt.sh, started once for the suite and
 * stopped at its end). Tickets are made and changed only through RT's REST2
 * API; RT's tables are only read, by the bridge's read-only role and here
 * by the superuser to build a role with too much. Each test gets a queue of
 * its own, so the tickets of the others are "unwatched" to it.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "check_main.h"
#include "loopback.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024];
static json_t *doc;
static const struct tl_cli cli = {db, cfg, &r, &doc};

/* Set once in main, inherited by every forked test. */
static char rt_dir[1100], rt_url[128], rt_root_pw[128], rt_conninfo[1400];
static char rt_super[1400]; /* RT's database as the cluster's superuser */
static char rt_token[256];  /* a REST2 token of RT user casehost-bridge */
static int rt_port;

#define HAS(text, part)                                                                            \
    ck_assert_msg(strstr((text), (part)) != NULL, "want '%s' in:\n%s", (part), (text))

/* RT's initial data, in RT's own format: the custom fields the mapping names, on every queue. */
static const char initdata[] =
    "@Queues = ( { Name => 'Facilities', Description => 'never watched' } );\n"
    "@CustomFields = (\n"
    "  { Name => 'Runaway left', Type => 'DateTime', LookupType => 'RT::Queue-RT::Ticket',\n"
    "    MaxValues => 1, Queue => 0 },\n"
    "  { Name => 'Runaway returned', Type => 'DateTime', LookupType => 'RT::Queue-RT::Ticket',\n"
    "    MaxValues => 1, Queue => 0 },\n"
    "  { Name => 'Assessment', Type => 'Freeform', LookupType => 'RT::Queue-RT::Ticket',\n"
    "    MaxValues => 1, Queue => 0 },\n"
    "  { Name => 'casehost case', Type => 'Freeform', LookupType => 'RT::Queue-RT::Ticket',\n"
    "    MaxValues => 1, Queue => 0, LinkValueTo => '__CustomField__' },\n"
    ");\n"
    "@Users = ( { Name => 'casehost-bridge', Privileged => 1,\n"
    "             EmailAddress => 'casehost-bridge@example.org' } );\n"
    "1;\n";

/* ---------------------------------------------------------------- REST2 --- */

/*
 * One REST2 call as RT's root (basic auth), JSON in and out. Fails the test
 * on a transport error, an HTTP status other than 200 or 201, and on a
 * refusal RT reports with 200 ("Permission Denied" in its message list).
 * Returns the parsed answer (caller json_decref()s).
 */
static json_t *rt_api(const char *method, const char *path, const char *json)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct body b = {NULL, 0};
    char url[512], auth[200];
    long status = 0;
    json_error_t e;
    json_t *answer;
    CURLcode rc;

    ck_assert(c != NULL);
    snprintf(url, sizeof(url), "%s%s", rt_url, path);
    snprintf(auth, sizeof(auth), "root:%s", rt_root_pw);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERPWD, auth);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (json != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
    ck_assert_msg(status == 200 || status == 201, "%s %s: HTTP %ld: %s", method, path, status,
                  b.text != NULL ? b.text : "");
    ck_assert_msg(b.text == NULL || strstr(b.text, "Permission Denied") == NULL,
                  "%s %s refused: %s", method, path, b.text);
    answer = json_loads(b.text != NULL ? b.text : "null", JSON_DECODE_ANY, &e);
    ck_assert_msg(answer != NULL, "%s %s: not JSON: %s", method, path, b.text);
    free(b.text);
    return answer;
}

/* A new ticket through REST2; its id. */
static long long ticket_new(const char *queue, const char *subject)
{
    char body[512];
    json_t *a;
    long long id;
    snprintf(body, sizeof(body),
             "{\"Queue\": \"%s\", \"Subject\": \"%s\", \"Requestor\": \"worker@example.org\"}",
             queue, subject);
    a = rt_api("POST", "/ticket", body);
    id = strtoll(json_string_value(json_object_get(a, "id")), NULL, 10);
    json_decref(a);
    ck_assert_msg(id > 0, "no ticket id");
    return id;
}

static void ticket_set(long long id, const char *json)
{
    char path[64];
    snprintf(path, sizeof(path), "/ticket/%lld", id);
    json_decref(rt_api("PUT", path, json));
}

/* A queue of the test's own, through REST2. */
static const char *queue_new(const char *tag)
{
    static char name[64];
    char body[128];
    snprintf(name, sizeof(name), "Intake %s %ld", tag, (long)getpid());
    snprintf(body, sizeof(body), "{\"Name\": \"%s\"}", name);
    json_decref(rt_api("POST", "/queue", body));
    return name;
}

/* --------------------------------------------------------------- bridge --- */

static char token_path[1200];

/*
 * This test's casehost: agencies A and B, the bridge's service a_rtbridge,
 * allowed to act as a_worker (as the database owner grants it, INSTALL),
 * and a private token file.
 */
static void setup(void)
{
    tl_cli_setup(&cli, NULL);
    tl_add_user(db, "a_admin", "a_rtbridge", "service", "A");
    char worker[128];
    snprintf(worker, sizeof(worker), "%s", tl_role(db, "a_worker")); /* tl_role: static storage */
    tl_db_execf(db, "GRANT %s TO %s", worker, tl_role(db, "a_rtbridge"));
    snprintf(token_path, sizeof(token_path), "%s/rt-token-%ld", tl_env("CASEHOST_TEST_TMP"),
             (long)getpid());
    FILE *f = fopen(token_path, "w");
    ck_assert(f != NULL);
    fprintf(f, "%s\n", rt_token);
    fclose(f);
    ck_assert(chmod(token_path, 0600) == 0);
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

/* What the bridge writes back to RT, as INSTALL sets it up. */
#define WRITEBACK                                                                                  \
    "writeback = { rt_user = \"casehost-bridge\"; status_cf = \"Assessment\";\n"                   \
    "  link_cf = \"casehost case\"; web_url = \"https://casehost.example.org/\"; };\n"

/*
 * The bridge configuration for queue, RT's database as role (NULL: the
 * reader), with more settings after the others (NULL: none).
 */
static const char *bridge_cfg_with(const char *queue, const char *role, const char *more)
{
    static char text[4096];
    char name[64];
    snprintf(text, sizeof(text),
             "name = \"rt\";\n"
             "rt = { conninfo = \"%s user=%s\"; url = \"%s\"; token_file = \"%s\"; };\n"
             "poll_seconds = 1;\n"
             "act_as = \"a_worker\";\n"
             "queues = ( { queue = \"%s\"; agency = \"A\"; } );\n"
             "fields = ( { cf = \"Runaway left\"; field = \"runaway_start\"; },\n"
             "           { cf = \"Runaway returned\"; field = \"runaway_return\"; } );\n"
             "statuses = ( { rt = \"new\"; casehost = \"open\"; },\n"
             "             { rt = \"open\"; casehost = \"in_progress\"; },\n"
             "             { rt = \"stalled\"; casehost = \"waiting\"; },\n"
             "             { rt = \"resolved\"; casehost = \"closed\"; } );\n%s",
             rt_conninfo, role != NULL ? role : "casehost_rt_reader", rt_url, token_path, queue,
             more != NULL ? more : "");
    snprintf(name, sizeof(name), "bridge-rt-%ld.cfg", (long)getpid());
    return tl_write_file(name, text);
}

static const char *bridge_cfg(const char *queue, const char *role)
{
    return bridge_cfg_with(queue, role, NULL);
}

static int bridge_once(const char *config)
{
    return tl_run(&r, db, cfg, TL_AS, "a_rtbridge", "bridge", "rt", "--once", "--config", config,
                  NULL);
}

/* The case of ticket id (its external reference); 0 when none. */
static long long case_of(long long ticket)
{
    long long id = tl_db_valuef(db,
                                "SELECT coalesce(max(id), 0) FROM casehost.cases"
                                " WHERE external_system = 'rt' AND external_ref = '%lld'",
                                ticket);
    return id;
}

/* ---------------------------------------------------------------- tests --- */

START_TEST(test_watched_ticket_becomes_one_case_and_follows_rt)
{
    const char *queue = queue_new("follow");
    const char *config = bridge_cfg(queue, NULL);
    long long watched = ticket_new(queue, "Youth seen at the bus station");
    long long other = ticket_new("Facilities", "Heater broken in room 4");
    long long case_id, person;

    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s %s", r.status, r.out, r.err);
    case_id = case_of(watched);
    ck_assert_msg(case_id > 0, "no case for ticket %lld: %s", watched, r.out);
    ck_assert_int_eq(case_of(other), 0);
    TL_DB_EQ(db, 1, "SELECT count(*) FROM casehost.cases");
    ck_assert_str_eq(tl_db_textf(db, "SELECT title FROM casehost.cases WHERE id = %lld", case_id),
                     "Youth seen at the bus station");
    ck_assert_str_eq(tl_db_textf(db, "SELECT status FROM casehost.cases WHERE id = %lld", case_id),
                     "open");
    /* Made by the person the bridge acts as, through case new's function. */
    ck_assert_str_eq(tl_db_textf(db,
                                 "SELECT u.name FROM casehost.cases c JOIN casehost.users u"
                                 " ON u.id = c.created_by WHERE c.id = %lld",
                                 case_id),
                     "a_worker");

    /* A restart reads from the stored state: nothing twice. */
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s", r.status, r.err);
    TL_DB_EQ(db, 1, "SELECT count(*) FROM casehost.cases");

    /* The caseworker links the young person in casehost (no personal data goes to RT)... */
    person = tl_person_add(&cli, "--age-estimate", "15");
    tl_cli_json(
        &cli, "a_worker",
        (const char *[]){"case", "update", tl_id(case_id), "--person", tl_id(person), NULL});
    /* ...and RT records the runaway episode: the plugin suggests a screening. */
    ticket_set(watched, "{\"CustomFields\": {\"Runaway left\": \"2026-11-20 08:00:00\","
                        " \"Runaway returned\": \"2026-11-25 18:00:00\"}}");
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s %s", r.status, r.out, r.err);
    ck_assert_str_eq(tl_db_textf(db,
                                 "SELECT runaway_return AT TIME ZONE 'UTC' FROM casehost.cases"
                                 " WHERE id = %lld",
                                 case_id),
                     "2026-11-25 18:00:00");
    TL_DB_EQ(db, 1,
             "SELECT count(*) FROM trafficking.screenings WHERE case_id = %lld"
             " AND state = 'suggested' AND instrument_id = 'youth_quick'",
             case_id);

    /* Status: stalled in RT is waiting here; resolved closes the case. */
    ticket_set(watched, "{\"Status\": \"stalled\"}");
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(tl_db_textf(db, "SELECT status FROM casehost.cases WHERE id = %lld", case_id),
                     "waiting");
    ticket_set(watched, "{\"Status\": \"resolved\"}");
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(tl_db_textf(db, "SELECT status FROM casehost.cases WHERE id = %lld", case_id),
                     "closed");
    TL_DB_EQ(db, 1, "SELECT count(*) FROM casehost.cases");
    TL_DB_EQ(db, 1, "SELECT count(*) FROM trafficking.screenings WHERE case_id = %lld", case_id);
    /* Every write the bridge made is audited, its scans too. */
    ck_assert(tl_db_valuef(db, "SELECT count(*) FROM casehost.audit_log"
                               " WHERE action IN ('bridge_scan', 'bridge_link')") >= 2);
}
END_TEST

START_TEST(test_merged_ticket_keeps_one_case)
{
    const char *queue = queue_new("merge");
    const char *config = bridge_cfg(queue, NULL);
    long long a = ticket_new(queue, "First report");
    long long b = ticket_new(queue, "Same youth, second report");
    long long case_a, case_b;
    char body[64];

    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s", r.status, r.err);
    case_a = case_of(a);
    case_b = case_of(b);
    ck_assert(case_a > 0 && case_b > 0 && case_a != case_b);

    snprintf(body, sizeof(body), "{\"MergeInto\": %lld}", a);
    ticket_set(b, body);
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s %s", r.status, r.out, r.err);
    TL_DB_EQ(db, 1, "SELECT count(*) FROM casehost.cases WHERE status <> 'closed'");
    ck_assert_str_eq(tl_db_textf(db, "SELECT status FROM casehost.cases WHERE id = %lld", case_b),
                     "closed");
    HAS(tl_db_textf(db, "SELECT close_reason FROM casehost.cases WHERE id = %lld", case_b),
        tl_id(case_a));
    /* The merged ticket's reference points at the case that goes on. */
    TL_DB_EQ(db, case_a,
             "SELECT case_id FROM casehost.bridge_rt_tickets WHERE ticket_id = %lld"
             " AND merged_into = %lld",
             b, a);
    /* A change on the survivor afterwards still finds one case. */
    ticket_set(a, "{\"Status\": \"open\"}");
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s", r.status, r.err);
    TL_DB_EQ(db, 2, "SELECT count(*) FROM casehost.cases");
    ck_assert_str_eq(tl_db_textf(db, "SELECT status FROM casehost.cases WHERE id = %lld", case_a),
                     "in_progress");
}
END_TEST

/*
 * The watermark waits for every transaction that was running when the ids
 * above it were read: one held open here (xids are the cluster's, so any
 * database of it will do, and RT's tables are not touched) keeps it below
 * the new ticket's ids, which stay in the handled set and are not handled
 * twice; once it ends, the next scans move the watermark past them.
 */
START_TEST(test_watermark_waits_for_running_transactions)
{
    const char *queue = queue_new("watermark");
    const char *config = bridge_cfg(queue, NULL);
    PGconn *held = PQconnectdb(rt_super);
    PGresult *res;
    long long t, last;

    ck_assert(PQstatus(held) == CONNECTION_OK);
    res = PQexec(held, "BEGIN; SELECT pg_current_xact_id()");
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(held));
    PQclear(res);
    t = ticket_new(queue, "Held back");
    res = PQexec(held, "SELECT 1"); /* still open: its xid is below every later snapshot's xmin */
    PQclear(res);
    {
        PGconn *rt = PQconnectdb(rt_super);
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "SELECT max(id) FROM transactions WHERE objecttype = 'RT::Ticket'"
                 " AND objectid = %lld",
                 t);
        res = PQexec(rt, sql);
        ck_assert(PQresultStatus(res) == PGRES_TUPLES_OK);
        last = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        PQfinish(rt);
    }
    for (int run = 0; run < 2; run++) {
        ck_assert_msg(bridge_once(config) == 0, "exit %d: %s", r.status, r.err);
        TL_DB_EQ(db, 1, "SELECT count(*) FROM casehost.cases");
        ck_assert(tl_db_valuef(db, "SELECT watermark FROM casehost.bridge_rt_state") < last);
        TL_DB_EQ(db, 1, "SELECT count(*) FROM casehost.bridge_rt_state WHERE %lld = ANY (handled)",
                 last);
    }
    res = PQexec(held, "COMMIT");
    PQclear(res);
    PQfinish(held);
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s", r.status, r.err);
    ck_assert(tl_db_valuef(db, "SELECT watermark FROM casehost.bridge_rt_state") >= last);
    TL_DB_EQ(db, 0, "SELECT cardinality(handled) FROM casehost.bridge_rt_state");
    TL_DB_EQ(db, 1, "SELECT count(*) FROM casehost.cases");
}
END_TEST

START_TEST(test_dry_run_writes_nothing)
{
    const char *queue = queue_new("dry");
    const char *config = bridge_cfg(queue, NULL);
    long long t = ticket_new(queue, "Dry run ticket");
    int rc = tl_run(&r, db, cfg, TL_AS, "a_rtbridge", "bridge", "rt", "--once", "--dry-run",
                    "--config", config, NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, r.err);
    HAS(r.out, "dry run: nothing was written");
    HAS(r.out, tl_id(t));
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.cases");
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.bridge_rt_state");
}
END_TEST

/* An RT role that may write, in every way the start check must see. */
static const struct {
    const char *grant; /* run in RT's database as its superuser, %s the role */
    const char *says;
} too_much[] = {
    {"GRANT INSERT ON tickets TO %s", "may insert tickets"},
    {"GRANT UPDATE (subject) ON tickets TO %s", "may update tickets"},
    {"GRANT TRUNCATE ON transactions TO %s", "may truncate transactions"},
    {"GRANT CREATE ON SCHEMA public TO %s", "may create in schema public"},
    {"ALTER ROLE %s BYPASSRLS", "has BYPASSRLS"},
};

START_TEST(test_rt_role_that_can_write_is_refused)
{
    char role[64], sql[512];
    const char *queue = queue_new("role");
    PGconn *rt;
    PGresult *res;

    snprintf(role, sizeof(role), "rt_writer_%ld_%d", (long)getpid(), _i);
    rt = PQconnectdb(rt_super);
    ck_assert(PQstatus(rt) == CONNECTION_OK);
    snprintf(sql, sizeof(sql),
             "CREATE ROLE %s LOGIN PASSWORD '%s'; GRANT SELECT ON ALL TABLES IN SCHEMA public"
             " TO %s",
             role, tl_env("CASEHOST_TEST_PASSWORD"), role);
    res = PQexec(rt, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQerrorMessage(rt));
    PQclear(res);
    snprintf(sql, sizeof(sql), too_much[_i].grant, role);
    res = PQexec(rt, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQerrorMessage(rt));
    PQclear(res);
    PQfinish(rt);

    ck_assert_int_eq(bridge_once(bridge_cfg(queue, role)), 2);
    HAS(r.err, "refusing to start");
    HAS(r.err, too_much[_i].says);
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.cases");
}
END_TEST

START_TEST(test_token_file_readable_by_others_is_refused)
{
    const char *config = bridge_cfg(queue_new("token"), NULL);
    ck_assert(chmod(token_path, 0644) == 0);
    ck_assert_int_eq(bridge_once(config), 2);
    HAS(r.err, token_path);
    HAS(r.err, "mode 0644");
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.bridge_rt_state");
}
END_TEST

/* Broken configurations: each must be refused at file:line, before anything connects. */
static const struct {
    const char *text;
    int line;
    const char *says;
} bad_configs[] = {
    {"name = \"rt\";\nrt = { conninfo = \"x\"; url = \"http://x\"; token_file = \"t\"; };\n"
     "act_as = \"a\";\nqueus = ( );\nqueues = ( { queue = \"Q\"; agency = \"A\"; } );\n"
     "statuses = ( { rt = \"new\"; casehost = \"open\"; } );\n",
     4, "unknown setting 'queus'"},
    {"name = \"rt\";\nrt = { conninfo = \"x\"; url = \"http://x\"; token_file = \"t\"; };\n"
     "act_as = \"a\";\npoll_seconds = \"ten\";\nqueues = ( { queue = \"Q\"; agency = \"A\"; } );\n"
     "statuses = ( { rt = \"new\"; casehost = \"open\"; } );\n",
     4, "'poll_seconds' must be an integer"},
    {"name = \"rt\";\nrt = { conninfo = \"x\"; url = \"http://x\"; token_file = \"t\"; };\n"
     "act_as = \"a\";\nqueues = (\n  { queue = \"Q\"; }\n);\n"
     "statuses = ( { rt = \"new\"; casehost = \"open\"; } );\n",
     5, "a queue: 'agency' is missing"},
    {"name = \"rt\";\nrt = { conninfo = \"x\"; url = \"http://x\"; token_file = \"t\"; };\n"
     "act_as = \"a\";\nqueues = ( { queue = \"Q\"; agency = \"A\"; } );\n"
     "fields = ( { cf = \"Age\";\n  field = \"age\"; } );\n"
     "statuses = ( { rt = \"new\"; casehost = \"open\"; } );\n",
     6, "field 'age' is no case field"},
    {"name = \"rt\";\nrt = { conninfo = \"x\"; url = \"http://x\"; token_file = \"t\"; };\n"
     "act_as = \"a\";\nqueues = ( { queue = \"Q\"; agency = \"A\"; } );\n"
     "statuses = ( { rt = \"new\";\n casehost = \"done\"; } );\n",
     6, "'done' is no case status"},
    {"name = \"rt\";\nrt = { conninfo = \"x\"; url = \"http://x\"; token_file = \"t\";\n"
     "  listen = 1; };\nact_as = \"a\";\nqueues = ( { queue = \"Q\"; agency = \"A\"; } );\n"
     "statuses = ( { rt = \"new\"; casehost = \"open\"; } );\n",
     3, "'listen' must be true or false"},
    {"name = \"rt\";\nrt = { conninfo = \"x\"; url = \"http://x\"; token_file = \"t\"; };\n"
     "act_as = \"a\";\nqueues = ( );\nstatuses = ( { rt = \"new\"; casehost = \"open\"; } );\n",
     4, "'queues' is empty"},
    {"name = \"rt\";\nrt = { conninfo = \"x\"; url = \"http://x\"; token_file = \"t\"; };\n"
     "act_as = \"a\";\nqueues = ( { queue = \"Q\"; agency = \"A\"; } );\n"
     "statuses = ( { rt = \"new\"; casehost = \"open\"; } );\n"
     "writeback = { rt_user = \"b\"; status_cf = \"S\"; link_cf = \"L\";\n"
     "  web_url = \"casehost.example.org\"; };\n",
     7, "writeback.web_url must start with http:// or https://"},
    {"name = \"rt\";\nrt = { conninfo = \"x\"; url = \"http://x\"; token_file = \"t\"; };\n"
     "act_as = \"a\";\nqueues = ( { queue = \"Q\"; agency = \"A\"; } );\n"
     "statuses = ( { rt = \"new\"; casehost = \"open\"; } );\n"
     "writeback = { rt_user = \"b\"; status_cf = \"S\"; link_cf = \"S\";\n"
     "  web_url = \"https://x\"; per_minute = 0; };\n",
     7, "'per_minute' must be between 1 and 6000, not 0"},
};

START_TEST(test_config_errors_name_file_and_line)
{
    char name[64], want[1400];
    const char *path;
    snprintf(name, sizeof(name), "bad-rt-%ld-%d.cfg", (long)getpid(), _i);
    path = tl_write_file(name, bad_configs[_i].text);
    ck_assert_int_eq(bridge_once(path), 2);
    snprintf(want, sizeof(want), "%s:%d: ", path, bad_configs[_i].line);
    HAS(r.err, want);
    HAS(r.err, bad_configs[_i].says);
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.bridge_rt_state");
}
END_TEST

/* ---------------------------------------------------------- writeback --- */

static int run(const char *const *argv);

/* scripts/rt.sh with its arguments after the command and RT's folder. */
static int rt_script(const char *cmd, const char *const *args)
{
    char script[1200];
    const char *argv[16] = {script, cmd, rt_dir};
    size_t n = 3;
    snprintf(script, sizeof(script), "%s/scripts/rt.sh", tl_env("CASEHOST_TEST_ROOT"));
    for (; args != NULL && *args != NULL && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    return run(argv);
}

/* The rights INSTALL gives the bridge's RT user, in queue; all of them unless one is skipped. */
static void grant_bridge(const char *queue, const char *skip)
{
    const char *args[12] = {"casehost-bridge", queue};
    const char *const rights[] = {"SeeQueue",           "ShowTicket",     "CommentOnTicket",
                                  "ShowTicketComments", "SeeCustomField", "ModifyCustomField"};
    size_t n = 2;
    for (size_t i = 0; i < sizeof(rights) / sizeof(rights[0]); i++)
        if (skip == NULL || strcmp(skip, rights[i]) != 0)
            args[n++] = rights[i];
    args[n] = NULL;
    ck_assert_int_eq(rt_script("grant", args), 0);
}

/* One value read from RT's database (read only; "" for none). Static storage. */
static const char *rt_read(const char *fmt, ...) TL_PRINTF(1, 2);
static const char *rt_read(const char *fmt, ...)
{
    static char value[4096];
    char sql[1024];
    va_list ap;
    PGconn *c = PQconnectdb(rt_super);
    PGresult *res;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    res = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    snprintf(value, sizeof(value), "%s",
             PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    PQfinish(c);
    return value;
}

/* The value of ticket's custom field cf in RT ("" when none). */
static const char *cf_of(long long ticket, const char *cf)
{
    return rt_read("SELECT v.content FROM objectcustomfieldvalues v JOIN customfields f"
                   " ON f.id = v.customfield WHERE v.objecttype = 'RT::Ticket'"
                   " AND v.objectid = %lld AND f.name = '%s' AND v.disabled = 0",
                   ticket, cf);
}

/* The comments on ticket in RT: how many, and their text joined by '|'. */
static long long comments_on(long long ticket)
{
    return strtoll(rt_read("SELECT count(*) FROM transactions WHERE objecttype = 'RT::Ticket'"
                           " AND objectid = %lld AND type = 'Comment'",
                           ticket),
                   NULL, 10);
}

static const char *comment_text(long long ticket)
{
    return rt_read("SELECT string_agg(a.content, '|' ORDER BY t.id) FROM transactions t"
                   " JOIN attachments a ON a.transactionid = t.id"
                   " WHERE t.objecttype = 'RT::Ticket' AND t.objectid = %lld"
                   " AND t.type = 'Comment'",
                   ticket);
}

/* The youth quick screen with an exchange of sex for something needed (two mandatory reports). */
static const char *const exchanged_sex[] = {"offer_not_as_promised=no", "could_not_leave=no",
                                            "id_money_phone_held=no", "exchanged_sex=yes", NULL};

/*
 * The whole way back: the ticket links to the case's page; a runaway return
 * recorded in RT suggests a screening, whose neutral status and one pointer
 * comment reach the ticket; a restart sends nothing twice; with RT down, the
 * completed screening's status waits in the outbox and arrives once RT is
 * back. Nothing RT holds names the person, an answer or the subject.
 */
START_TEST(test_writeback_status_link_comment_and_rt_down)
{
    const char *queue = queue_new("write");
    const char *config;
    long long t, case_id, person;
    char url[128], want[128];
    const char *status, *text;

    grant_bridge(queue, NULL);
    config = bridge_cfg_with(queue, NULL, WRITEBACK);
    t = ticket_new(queue, "Youth at the shelter door");
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s %s", r.status, r.out, r.err);
    case_id = case_of(t);
    ck_assert(case_id > 0);
    snprintf(url, sizeof(url), "https://casehost.example.org/run?a=case&a=show&a=%lld", case_id);
    ck_assert_str_eq(cf_of(t, "casehost case"), url);
    ck_assert_str_eq(cf_of(t, "Assessment"), "");
    ck_assert_int_eq(comments_on(t), 0);

    /* The caseworker adds the young person in casehost; RT records the runaway episode. */
    person = tl_person_add(&cli, "--age-estimate", "15");
    tl_cli_json(&cli, "a_worker",
                (const char *[]){"case", "update", tl_id(case_id), "--person", tl_id(person),
                                 "--state", "CA", NULL});
    ticket_set(t, "{\"CustomFields\": {\"Runaway left\": \"2026-11-20 08:00:00\","
                  " \"Runaway returned\": \"2026-11-25 18:00:00\"}}");
    /* A dry run says what it would write, and writes nothing. */
    ck_assert_int_eq(tl_run(&r, db, cfg, TL_AS, "a_rtbridge", "bridge", "rt", "--once", "--dry-run",
                            "--config", config, NULL),
                     0);
    ck_assert_int_eq(comments_on(t), 0);
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s %s", r.status, r.out, r.err);
    status = cf_of(t, "Assessment");
    ck_assert_msg(strncmp(status, "Assessment: action needed by 20", 31) == 0, "status '%s'",
                  status);
    ck_assert_int_eq(comments_on(t), 1);
    text = comment_text(t);
    snprintf(want, sizeof(want), ": open casehost case %lld (casehost write ", case_id);
    HAS(text, "action needed by 20");
    HAS(text, want);
    for (const char *const *w = (const char *const[]){"Jo", "raffick", "outh", "unaway", "sex",
                                                      "xploit", "creening", NULL};
         *w != NULL; w++)
        ck_assert_msg(strstr(text, *w) == NULL, "comment says '%s': %s", *w, text);
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.bridge_rt_outbox WHERE state = 'pending'");

    /* A restart: no second case, no second comment. */
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s", r.status, r.err);
    TL_DB_EQ(db, 1, "SELECT count(*) FROM casehost.cases");
    ck_assert_int_eq(comments_on(t), 1);

    /*
     * A crash after RT took the comment and before casehost recorded it
     * leaves the write pending, claimed once already: the next run finds
     * the comment in RT and records it sent instead of posting it again.
     */
    tl_db_execf(db, "UPDATE casehost.bridge_rt_outbox SET state = 'pending', sent_at = NULL,"
                    " next_attempt_at = now() WHERE comment IS NOT NULL"); /* its lease ran out */
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s", r.status, r.err);
    HAS(r.err, "had arrived before; not sent again");
    ck_assert_int_eq(comments_on(t), 1);
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.bridge_rt_outbox WHERE state = 'pending'");
    TL_DB_EQ(db, 1,
             "SELECT count(*) FROM casehost.audit_log WHERE action = 'bridge_write'"
             " AND detail LIKE '%%and a comment (write %%, attempt 2)'");

    /* RT goes down; the screening is done in casehost meanwhile, with two reports. */
    ck_assert_int_eq(rt_script("stop", NULL), 0);
    tl_screen(&cli, case_id, "youth_quick", exchanged_sex);
    ck_assert_int_eq(bridge_once(config), 3);
    HAS(r.err, "RT unreachable");
    TL_DB_EQ(db, 1,
             "SELECT count(*) FROM casehost.bridge_rt_outbox WHERE state = 'pending'"
             " AND last_error LIKE 'RT unreachable%%'");
    ck_assert_str_eq(cf_of(t, "Assessment"), status);
    ck_assert_int_eq(rt_script("serve", NULL), 0);
    for (int i = 0; i < 40 && strcmp(cf_of(t, "Assessment"), status) == 0; i++) {
        nanosleep(&(struct timespec){0, 250000000}, NULL);
        ck_assert_msg(bridge_once(config) == 0 || r.status == 3, "exit %d: %s", r.status, r.err);
    }
    ck_assert_str_eq(cf_of(t, "Assessment"), "Assessment: done; Follow-up: 2 open");
    ck_assert_int_eq(comments_on(t), 1); /* nothing needs the caseworker now */
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.bridge_rt_outbox WHERE state = 'pending'");
    ck_assert(tl_db_valuef(db, "SELECT count(*) FROM casehost.audit_log"
                               " WHERE action = 'bridge_write_failed'") >= 1);
    ck_assert(tl_db_valuef(db, "SELECT count(*) FROM casehost.audit_log"
                               " WHERE action = 'bridge_write'") >= 3);
}
END_TEST

/*
 * The database keeps what a help desk may be told to short, neutral words
 * (a plugin's slip, a result, a name or the word for what is screened, is
 * refused, whoever writes the row); and a case without an external
 * reference is never described at all, however its screening goes.
 */
START_TEST(test_words_for_a_help_desk_are_refused_unless_neutral)
{
    static const char *const bad[] = {"Trafficking screen: positive", "Assessment: Jo <b>",
                                      "Sexual exploitation indicated", NULL};
    long long plain = tl_case_new(&cli, tl_person_add(&cli, "--age-estimate", "15"), "Plain", NULL);
    PGconn *c = tl_connect(db);
    for (const char *const *w = bad; *w != NULL; w++) {
        char sql[320];
        PGresult *res;
        snprintf(sql, sizeof(sql),
                 "INSERT INTO casehost.case_external_status (case_id, agency_id, source, status)"
                 " SELECT id, agency_id, 'x', '%s' FROM casehost.cases WHERE id = %lld",
                 *w, plain);
        res = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "'%s' was taken", *w);
        HAS(PQresultErrorMessage(res), "case_external_status_status_check");
        PQclear(res);
    }
    TL_DB_EQ(db, 1,
             "SELECT count(*) FROM (VALUES (casehost.neutral_words('Assessment: action"
             " needed by 2026-12-02 14:00 MST; Follow-up: 2 open'))) v(ok) WHERE ok");
    tl_screen(&cli, plain, "youth_quick", exchanged_sex);
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.case_external_status");
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.bridge_rt_outbox");
    PQfinish(c);
}
END_TEST

/*
 * The rate limit holds writes back without dropping them: with one write
 * per ticket an hour, the link goes out, and the status the case owes next
 * waits in the outbox (no error, no attempt) while the bridge reports it.
 */
START_TEST(test_writeback_rate_limit_holds_writes_back)
{
    const char *queue = queue_new("limit");
    const char *config;
    long long t, case_id;

    grant_bridge(queue, NULL);
    config = bridge_cfg_with(queue, NULL,
                             "writeback = { rt_user = \"casehost-bridge\"; status_cf = "
                             "\"Assessment\"; link_cf = \"casehost case\";\n"
                             "  web_url = \"https://casehost.example.org\"; "
                             "per_ticket_per_hour = 1; };\n");
    t = ticket_new(queue, "Limited");
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s %s", r.status, r.out, r.err);
    case_id = case_of(t);
    HAS(cf_of(t, "casehost case"), "https://casehost.example.org/run?a=case&a=show&a=");
    tl_cli_json(&cli, "a_worker",
                (const char *[]){"case", "update", tl_id(case_id), "--person",
                                 tl_id(tl_person_add(&cli, "--age-estimate", "16")), "--state",
                                 "CA", "--runaway-start", "2026-11-20T08:00:00Z",
                                 "--runaway-return", "2026-11-25T18:00:00Z", NULL});
    TL_DB_EQ(db, 1, "SELECT count(*) FROM trafficking.screenings WHERE case_id = %lld", case_id);
    ck_assert_msg(bridge_once(config) == 0, "exit %d: %s %s", r.status, r.out, r.err);
    ck_assert_str_eq(cf_of(t, "Assessment"), "");
    ck_assert_int_eq(comments_on(t), 0);
    TL_DB_EQ(db, 1,
             "SELECT count(*) FROM casehost.bridge_rt_outbox WHERE state = 'pending'"
             " AND attempts = 0 AND last_error IS NULL");
    HAS(r.out, "Writes pending:   1");
}
END_TEST

/* Rights in RT that would let a requestor read what the bridge writes, or too few to write. */
static const struct {
    const char *who, *right; /* granted in the test's queue too (who NULL: nothing more) */
    const char *skip;        /* a right the bridge's user is not given */
    const char *says;
} bad_rights[] = {
    {"Everyone", "SeeCustomField", NULL, "Everyone may SeeCustomField in queue"},
    {"Requestor", "ShowTicketComments", NULL, "Requestor may ShowTicketComments in queue"},
    {"Unprivileged", "ShowTicketComments", NULL, "Unprivileged may ShowTicketComments in queue"},
    {NULL, NULL, "ModifyCustomField", "lacks ModifyCustomField in queue"},
};

START_TEST(test_writeback_refused_when_rt_rights_are_wrong)
{
    const char *queue = queue_new("rights");
    grant_bridge(queue, bad_rights[_i].skip);
    if (bad_rights[_i].who != NULL) {
        const char *args[] = {bad_rights[_i].who, queue, bad_rights[_i].right, NULL};
        ck_assert_int_eq(rt_script("grant", args), 0);
    }
    ticket_new(queue, "Rights check");
    ck_assert_int_eq(bridge_once(bridge_cfg_with(queue, NULL, WRITEBACK)), 2);
    HAS(r.err, "refusing to start");
    HAS(r.err, bad_rights[_i].says);
    TL_DB_EQ(db, 0, "SELECT count(*) FROM casehost.cases");
}
END_TEST

/* ------------------------------------------------------------------ RT --- */

static int run(const char *const *argv)
{
    pid_t pid = fork();
    int st;
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Starts RT for the whole suite; 0, or -1 after saying why. */
static int rt_start(void)
{
    const char *tmp = getenv("CASEHOST_TEST_TMP"), *root = getenv("CASEHOST_TEST_ROOT");
    char script[1200], pgdir[1200], port[16], data[1300], pw[1300];
    FILE *f;
    PGconn *c;
    PGresult *res;
    size_t n;
    if (tmp == NULL || root == NULL) {
        fprintf(stderr, "run with scripts/run-tests.sh (CASEHOST_TEST_TMP is not set)\n");
        return -1;
    }
    snprintf(rt_dir, sizeof(rt_dir), "%s/rt", tmp);
    snprintf(pgdir, sizeof(pgdir), "%s/pg", tmp);
    snprintf(script, sizeof(script), "%s/scripts/rt.sh", root);
    snprintf(data, sizeof(data), "%s/rt-initdata.pl", tmp);
    rt_port = loopback_free_port();
    snprintf(port, sizeof(port), "%d", rt_port);
    if ((f = fopen(data, "w")) == NULL)
        return -1;
    fputs(initdata, f);
    fclose(f);
    if (run((const char *const[]){script, "start", rt_dir, pgdir, port, data, NULL}) != 0) {
        fprintf(stderr, "scripts/rt.sh could not start RT\n");
        return -1;
    }
    snprintf(rt_url, sizeof(rt_url), "http://127.0.0.1:%d/REST/2.0", rt_port);
    snprintf(pw, sizeof(pw), "%s/root-password", rt_dir);
    if ((f = fopen(pw, "r")) == NULL || fgets(rt_root_pw, sizeof(rt_root_pw), f) == NULL)
        return -1;
    fclose(f);
    n = strcspn(rt_root_pw, "\n");
    rt_root_pw[n] = '\0';
    snprintf(rt_conninfo, sizeof(rt_conninfo), "host=%s dbname=rt5", pgdir);
    snprintf(rt_super, sizeof(rt_super), "host=%s dbname=rt5 user=casehost", pgdir);
    /* The bridge's reader, as INSTALL has RT's admin make it. */
    c = PQconnectdb(rt_super);
    res = PQexec(c, "CREATE ROLE casehost_rt_reader LOGIN PASSWORD 'casehost-test-pw';"
                    " GRANT SELECT ON ALL TABLES IN SCHEMA public TO casehost_rt_reader");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "cannot make RT's reader: %s\n", PQerrorMessage(c));
        PQclear(res);
        PQfinish(c);
        return -1;
    }
    PQclear(res);
    PQfinish(c);
    /* The bridge's REST2 token, made with RT's own API. */
    {
        char cmd[2600];
        FILE *p;
        snprintf(cmd, sizeof(cmd), "'%s' token '%s' casehost-bridge", script, rt_dir);
        if ((p = popen(cmd, "r")) == NULL || fgets(rt_token, sizeof(rt_token), p) == NULL ||
            pclose(p) != 0) {
            fprintf(stderr, "cannot make the bridge's RT token\n");
            return -1;
        }
        rt_token[strcspn(rt_token, "\n")] = '\0';
    }
    return 0;
}

static void rt_stop(void)
{
    char script[1200];
    const char *root = getenv("CASEHOST_TEST_ROOT");
    if (root == NULL || rt_dir[0] == '\0')
        return;
    snprintf(script, sizeof(script), "%s/scripts/rt.sh", root);
    run((const char *const[]){script, "stop", rt_dir, NULL});
}

static Suite *bridge_rt_suite(void)
{
    Suite *s = suite_create("bridge_rt");
    TCase *tc = tcase_create("rt_to_casehost");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_watched_ticket_becomes_one_case_and_follows_rt);
    tcase_add_test(tc, test_merged_ticket_keeps_one_case);
    tcase_add_test(tc, test_watermark_waits_for_running_transactions);
    tcase_add_test(tc, test_dry_run_writes_nothing);
    tcase_add_loop_test(tc, test_rt_role_that_can_write_is_refused, 0,
                        (int)(sizeof(too_much) / sizeof(too_much[0])));
    tcase_add_test(tc, test_token_file_readable_by_others_is_refused);
    tcase_add_loop_test(tc, test_config_errors_name_file_and_line, 0,
                        (int)(sizeof(bad_configs) / sizeof(bad_configs[0])));
    tcase_add_test(tc, test_writeback_status_link_comment_and_rt_down);
    tcase_add_test(tc, test_words_for_a_help_desk_are_refused_unless_neutral);
    tcase_add_test(tc, test_writeback_rate_limit_holds_writes_back);
    tcase_add_loop_test(tc, test_writeback_refused_when_rt_rights_are_wrong, 0,
                        (int)(sizeof(bad_rights) / sizeof(bad_rights[0])));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rt_start() != 0) {
        rt_stop();
        return EXIT_FAILURE;
    }
    /* RT is stopped whatever the tests did: they run in forked children. */
    rc = ck_run_suites(bridge_rt_suite(), NULL);
    rt_stop();
    curl_global_cleanup();
    return rc;
}
