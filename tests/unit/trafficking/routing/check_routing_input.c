/*
 * check_routing_input.c: the whole picture of a routing input
 * (plugins/trafficking/routing/routing_input.c and routing_time.c): UTC
 * times read without timegm, each new member (now, consent times,
 * declines, ledger, episode, screenings) in both written forms with its
 * default, every bad value named by its path, a round trip that writes only
 * what is not the default, and how several screenings combine
 * (routing_evidence.c over screening/evidence.c). Pure: no database.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "report_collect.h"
#include "routing/routing.h"

/* The shipped instruments, loaded once per test process (reachable until exit). */
static const struct instrument_set *shipped_instruments(void)
{
    static struct instrument_set *set;
    if (set == NULL)
        set = collect_load_instruments("conf/trafficking/instruments");
    return set;
}

/* Reads JSON text into in, asserting it has no error. */
static void from_json(const char *text, struct routing_input *in)
{
    char err[400];
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    ck_assert_msg(j != NULL, "bad JSON in the test: %s: %s", je.text, text);
    ck_assert_msg(routing_input_from_json(j, in, err, sizeof(err)) == 0, "%s: %s", err, text);
    json_decref(j);
}

/* ----------------------------------------------------------------- times --- */

static const struct {
    const char *text;
    const char *formatted; /* NULL: refused */
    const char *why;       /* part of the refusal */
} times[] = {
    {"2026-11-02T10:00:00Z", "2026-11-02T10:00:00Z", NULL},
    {"2026-11-02", "2026-11-02T00:00:00Z", NULL},
    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", NULL},
    {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z", NULL},
    {"2028-02-29T23:59:59Z", "2028-02-29T23:59:59Z", NULL},
    {"2000-02-29", "2000-02-29T00:00:00Z", NULL},
    {"2026-11-02T10:00:00.5Z", "2026-11-02T10:00:00.500000Z", NULL},
    {"2026-11-02T10:00:00.123456Z", "2026-11-02T10:00:00.123456Z", NULL},
    {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z", NULL},
    {"2026-02-29", NULL, "no such day in that month"},
    {"2100-02-29", NULL, "no such day in that month"},
    {"2026-04-31T00:00:00Z", NULL, "no such day in that month"},
    {"2026-13-01", NULL, "the month must be 01 to 12"},
    {"2026-00-10", NULL, "the month must be 01 to 12"},
    {"0000-01-01", NULL, "the year must be 0001 or later"},
    {"2026-11-02T24:00:00Z", NULL, "the time must be 00:00:00 to 23:59:59"},
    {"2026-11-02T10:60:00Z", NULL, "the time must be 00:00:00 to 23:59:59"},
    {"2026-11-02T10:00:60Z", NULL, "the time must be 00:00:00 to 23:59:59"},
    {"2026-11-02T10:00:00", NULL, "a time must be UTC, ending in Z"},
    {"2026-11-02T10:00:00+02:00", NULL, "a time must be UTC, ending in Z"},
    {"2026-11-02 10:00:00Z", NULL, "expected a date YYYY-MM-DD or a UTC time"},
    {"2026-1-02", NULL, "expected a date YYYY-MM-DD or a UTC time"},
    {"26-11-02", NULL, "expected a date YYYY-MM-DD or a UTC time"},
    {"2026-11-02T10:00Z", NULL, "expected a date YYYY-MM-DD or a UTC time"},
    {"2026-11-02T10:00:00.Z", NULL, "fractions of a second take 1 to 6 digits"},
    {"2026-11-02T10:00:00.1234567Z", NULL, "fractions of a second take 1 to 6 digits"},
    {"", NULL, "expected a date YYYY-MM-DD or a UTC time"},
};

START_TEST(time_is_read_and_written_as_utc_without_timegm)
{
    routing_time t = 0;
    char buf[ROUTING_TIME_LEN];
    const char *why = routing_time_parse(times[_i].text, &t);
    if (times[_i].formatted == NULL) {
        ck_assert_msg(why != NULL, "'%s' was accepted", times[_i].text);
        ck_assert_msg(strstr(why, times[_i].why) != NULL, "'%s': got '%s', want '%s'",
                      times[_i].text, why, times[_i].why);
        return;
    }
    ck_assert_msg(why == NULL, "'%s' refused: %s", times[_i].text, why);
    ck_assert_str_eq(routing_time_format(t, buf, sizeof(buf)), times[_i].formatted);
    /* and back: the text written reads as the same instant */
    routing_time back = 0;
    ck_assert_ptr_null(routing_time_parse(buf, &back));
    ck_assert(back == t);
    ck_assert_int_eq(strncmp(routing_time_date(t, buf, sizeof(buf)), times[_i].formatted, 10), 0);
    ck_assert_uint_eq(strlen(buf), 10);
}
END_TEST

START_TEST(time_is_microseconds_since_the_epoch)
{
    routing_time t;
    ck_assert_ptr_null(routing_time_parse("1970-01-02T00:00:01Z", &t));
    ck_assert(t == (86400LL + 1) * 1000000LL);
    ck_assert_ptr_null(routing_time_parse("2026-11-02T10:00:00.000001Z", &t));
    routing_time u;
    ck_assert_ptr_null(routing_time_parse("2026-11-02T10:00:00Z", &u));
    ck_assert(t - u == 1);
    /* the clock is after every time in these tests' past */
    ck_assert_ptr_null(routing_time_parse("2026-01-01", &u));
    ck_assert(routing_time_now() > u);
}
END_TEST

/* ------------------------------------------------------ members, defaults --- */

START_TEST(absent_members_err_toward_protecting_the_person)
{
    struct routing_input in;
    from_json("{\"case_id\": 4}", &in);
    ck_assert(in.now == ROUTING_TIME_NONE);
    ck_assert(in.episode == ROUTING_TIME_NONE);
    ck_assert_uint_eq(in.n_declines, 0);
    ck_assert_uint_eq(in.n_ledger, 0);
    ck_assert_uint_eq(in.n_screenings, 0);
    /* without now, the decision time is the clock */
    routing_time before = routing_time_now();
    ck_assert(routing_input_now(&in) >= before);
    routing_input_release(&in);

    /* a ledger entry's defaults: this case, no episode, no class, not delivered */
    from_json("{\"case_id\": 4, \"ledger\": [{\"referral\": 9, \"destination\": \"le_ca\","
              " \"basis\": \"mandatory_report\", \"state\": \"sent\"}]}",
              &in);
    ck_assert_uint_eq(in.n_ledger, 1);
    ck_assert_int_eq(in.ledger[0].case_id, 4);
    ck_assert(in.ledger[0].episode == ROUTING_TIME_NONE);
    ck_assert(in.ledger[0].delivered_at == ROUTING_TIME_NONE);
    ck_assert_uint_eq(in.ledger[0].n_evidence, 0);
    ck_assert_int_eq(in.ledger[0].disclosure, 0);
    ck_assert_str_eq(in.ledger[0].kind, "");
    ck_assert_str_eq(in.ledger[0].outbox, "");
    routing_input_release(&in);
}
END_TEST

/* Consents: active derived at now from the times, or checked against them. */
static const struct {
    const char *consent; /* the members after id, purpose and recipients */
    int active;
} consent_cases[] = {
    {"\"granted_at\": \"2026-11-01\", \"expires_at\": \"2027-11-01\"", 1},
    {"\"granted_at\": \"2026-12-01\", \"expires_at\": \"2027-11-01\"", 0}, /* not yet */
    {"\"granted_at\": \"2025-11-01\", \"expires_at\": \"2026-11-01\"", 0}, /* expired */
    {"\"granted_at\": \"2026-11-01\", \"expires_at\": \"2027-11-01\","
     " \"revoked_at\": \"2026-11-15T08:00:00Z\"",
     0},
    /* revoked only later than now: in force now */
    {"\"granted_at\": \"2026-11-01\", \"expires_at\": \"2027-11-01\","
     " \"revoked_at\": \"2026-12-15T08:00:00Z\"",
     1},
    /* a grant or expiry not given counts against it */
    {"\"granted_at\": \"2026-11-01\"", 0},
    {"\"expires_at\": \"2027-11-01\"", 0},
    /* null is absent; revoked_at null is not revoked */
    {"\"granted_at\": \"2026-11-01\", \"expires_at\": \"2027-11-01\", \"revoked_at\": null", 1},
    /* active settles what the times leave open */
    {"\"granted_at\": \"2026-11-01\", \"active\": true", 1},
    {"\"expires_at\": \"2027-11-01\", \"active\": false", 0},
    /* a time in the same second as now proves nothing (fractions lost in writing) */
    {"\"granted_at\": \"2026-11-01\", \"expires_at\": \"2026-11-30T12:00:00Z\", \"active\": true",
     1},
    {"\"granted_at\": \"2026-11-30T12:00:00Z\", \"expires_at\": \"2027-01-01\", \"active\": false",
     0},
    {"\"active\": true", 1},
};

START_TEST(consent_active_is_derived_at_now_from_its_times)
{
    char text[600];
    struct routing_input in;
    snprintf(text, sizeof(text),
             "{\"now\": \"2026-11-30T12:00:00Z\", \"consents\": [{\"id\": 1, \"purpose\":"
             " \"referral\", \"recipients\": [\"le_ca\"], %s}]}",
             consent_cases[_i].consent);
    from_json(text, &in);
    ck_assert_msg(in.consents[0].active == consent_cases[_i].active, "%s: active %d",
                  consent_cases[_i].consent, in.consents[0].active);
    routing_input_release(&in);
}
END_TEST

START_TEST(now_decides_consents_and_reads_before_them)
{
    struct routing_input in;
    /* the same consent, read at two decision times */
    static const char fmt[] = "{\"consents\": [{\"id\": 1, \"purpose\": \"referral\","
                              " \"recipients\": [\"le_ca\"], \"granted_at\": \"2026-11-01\","
                              " \"expires_at\": \"2026-12-01\"}], \"now\": \"%s\"}";
    char text[400];
    snprintf(text, sizeof(text), fmt, "2026-11-15");
    from_json(text, &in);
    ck_assert_int_eq(in.consents[0].active, 1);
    routing_input_release(&in);
    snprintf(text, sizeof(text), fmt, "2026-12-01T00:00:00Z");
    from_json(text, &in);
    ck_assert_int_eq(in.consents[0].active, 0);
    routing_input_release(&in);
}
END_TEST

START_TEST(screenings_give_the_latest_as_screening)
{
    struct routing_input in;
    from_json("{\"screenings\": [{\"id\": 8, \"instrument\": \"youth_quick\", \"version\": 2,"
              " \"result\": \"negative\", \"band\": null, \"score\": 0, \"stopped\": false,"
              " \"finished_at\": \"2026-11-20T10:00:00Z\", \"indicators\": []},"
              " {\"id\": 5, \"instrument\": \"youth_quick\", \"version\": 1,"
              " \"result\": \"positive\", \"band\": \"positive\", \"score\": 1, \"stopped\": true,"
              " \"finished_at\": \"2026-11-02T10:00:00Z\", \"indicators\": [\"exchanged_sex\"]}]}",
              &in);
    ck_assert(in.screening.present);
    ck_assert_int_eq(in.screening.id, 8);
    ck_assert_str_eq(in.screening.result, "negative");
    ck_assert_uint_eq(in.n_indicators, 0);
    ck_assert_uint_eq(in.n_screenings, 2);
    ck_assert_int_eq(in.screenings[1].version, 1);
    ck_assert_str_eq(in.screenings[1].indicators[0], "exchanged_sex");
    /* the decision's disclosure is the latest's (as decision_store_body takes it): none here */
    ck_assert_int_eq(routing_input_disclosure(&in), 0);
    routing_input_release(&in);
    /* screening and indicators equal to the first entry are accepted */
    from_json("{\"screening\": {\"id\": 8, \"instrument\": \"youth_quick\", \"version\": 2,"
              " \"result\": \"positive\", \"band\": null, \"score\": 1, \"stopped\": true},"
              " \"indicators\": [\"exchanged_sex\", \"someone_making_you_now\"],"
              " \"screenings\": [{\"id\": 8, \"instrument\": \"youth_quick\", \"version\": 2,"
              " \"result\": \"positive\", \"score\": 1.0, \"stopped\": true,"
              " \"indicators\": [\"someone_making_you_now\", \"exchanged_sex\"]}]}",
              &in);
    ck_assert_uint_eq(in.n_indicators, 2);
    ck_assert_int_eq(routing_input_disclosure(&in), 8);
    routing_input_release(&in);
}
END_TEST

/* ------------------------------------------------------- bad values, paths --- */

static const struct {
    const char *json; /* the members of the input object */
    const char *err;  /* what the message must contain */
} bad[] = {
    {"\"now\": \"2026-13-01\"", "now: '2026-13-01': the month must be 01 to 12"},
    {"\"now\": 20261130", "now: must be a string"},
    {"\"now\": \"2026-11-30T12:00:00\"", "now: '2026-11-30T12:00:00': a time must be UTC"},
    {"\"episode\": \"yesterday\"",
     "episode: 'yesterday': expected a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM:SSZ"},
    {"\"consents\": [{\"id\": 1, \"purpose\": \"referral\", \"recipients\": [\"le_ca\"]}]",
     "consents[0]: needs 'active', or its times (granted_at, expires_at, revoked_at)"},
    {"\"consents\": [{\"id\": 1, \"purpose\": \"referral\", \"recipients\": [\"le_ca\"],"
     " \"granted_at\": \"2026-02-30\", \"active\": true}]",
     "consents[0].granted_at: '2026-02-30': no such day in that month"},
    {"\"consents\": [{\"id\": 1, \"purpose\": \"referral\", \"recipients\": [\"le_ca\"],"
     " \"granted_at\": \"2026-11-02\", \"expires_at\": \"2026-11-01\"}]",
     "consents[0].expires_at: must be after granted_at"},
    {"\"now\": \"2026-11-30T12:00:00Z\", \"consents\": [{\"id\": 1, \"purpose\": \"referral\","
     " \"recipients\": [\"le_ca\"], \"granted_at\": \"2026-12-01\", \"active\": true}]",
     "consents[0].active: is true, but granted_at is after now (2026-11-30T12:00:00Z); give one "
     "or make them agree"},
    {"\"now\": \"2026-11-30T12:00:00Z\", \"consents\": [{\"id\": 1, \"purpose\": \"referral\","
     " \"recipients\": [\"le_ca\"], \"expires_at\": \"2026-11-29\", \"active\": true}]",
     "consents[0].active: is true, but the consent expired before now"},
    {"\"now\": \"2026-11-30T12:00:00Z\", \"consents\": [{\"id\": 1, \"purpose\": \"referral\","
     " \"recipients\": [\"le_ca\"], \"revoked_at\": \"2026-11-29\", \"active\": true}]",
     "consents[0].active: is true, but the consent was revoked before now"},
    {"\"now\": \"2026-11-30T12:00:00Z\", \"consents\": [{\"id\": 1, \"purpose\": \"referral\","
     " \"recipients\": [\"le_ca\"], \"granted_at\": \"2026-11-01\", \"expires_at\":"
     " \"2027-11-01\", \"active\": false}]",
     "consents[0].active: is false, but its times put it in force at now"},
    {"\"declines\": {}", "declines: must be a list"},
    {"\"declines\": [3]", "declines[0]: must be a group"},
    {"\"declines\": [{\"id\": 1, \"recipient\": \"kind:police\", \"declined_at\": \"2026-11-01\"}]",
     "declines[0].recipient: unknown destination kind 'police'"},
    {"\"declines\": [{\"id\": 1, \"recipient\": \"Le CA\", \"declined_at\": \"2026-11-01\"}]",
     "declines[0].recipient: 'Le CA' must be lowercase letters, digits and '_'"},
    {"\"declines\": [{\"id\": 1, \"recipient\": \"le_ca\"}]", "declines[0]: needs 'declined_at'"},
    {"\"declines\": [{\"recipient\": \"le_ca\", \"declined_at\": \"2026-11-01\"}]",
     "declines[0]: needs 'id'"},
    {"\"declines\": [{\"id\": 1, \"recipient\": \"le_ca\", \"declined_at\": \"2026-11-01\","
     " \"note\": \"x\"}]",
     "declines[0]: unknown member 'note'"},
    {"\"declines\": [{\"id\": 1, \"recipient\": \"le_ca\", \"declined_at\": \"soon\"}]",
     "declines[0].declined_at: 'soon': expected a date"},
    {"\"ledger\": [{\"destination\": \"le_ca\", \"basis\": \"consent\", \"state\": \"sent\"}]",
     "ledger[0]: needs 'referral'"},
    {"\"ledger\": [{\"referral\": 1, \"basis\": \"consent\", \"state\": \"sent\"}]",
     "ledger[0]: needs 'destination'"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"state\": \"sent\"}]",
     "ledger[0]: needs 'basis'"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"consent\"}]",
     "ledger[0]: needs 'state'"},
    {"\"ledger\": [{\"referral\": 0, \"destination\": \"le_ca\", \"basis\": \"consent\","
     " \"state\": \"sent\"}]",
     "ledger[0].referral: must be between 1 and"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"law\","
     " \"state\": \"sent\"}]",
     "ledger[0].basis: unknown basis 'law' (expected one of consent, mandatory_report, "
     "imminent_danger)"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"consent\","
     " \"state\": \"lost\"}]",
     "ledger[0].state: unknown referral state 'lost' (expected one of pending_consent, queued, "
     "sent, acknowledged, accepted, rejected, closed, revoked)"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"consent\","
     " \"state\": \"sent\", \"outbox\": \"gone\"}]",
     "ledger[0].outbox: unknown outbox state 'gone' (expected one of pending, sent, held, "
     "failed)"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"consent\","
     " \"state\": \"sent\", \"kind\": \"police\"}]",
     "ledger[0].kind: unknown destination kind 'police'"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"consent\","
     " \"state\": \"sent\", \"evidence\": [\"comercial_sex\"]}]",
     "ledger[0].evidence: unknown evidence class 'comercial_sex' (expected one of "
     "commercial_sex"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"consent\","
     " \"state\": \"sent\", \"delivered_at\": \"2026-02-30T00:00:00Z\"}]",
     "ledger[0].delivered_at: '2026-02-30T00:00:00Z': no such day in that month"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"consent\","
     " \"state\": \"sent\", \"episode\": \"2026-11\"}]",
     "ledger[0].episode: '2026-11': expected a date"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"consent\","
     " \"state\": \"sent\", \"disclosure\": -2}]",
     "ledger[0].disclosure: must be between 0 and"},
    {"\"ledger\": [{\"referral\": 1, \"destination\": \"le_ca\", \"basis\": \"consent\","
     " \"state\": \"sent\", \"why\": \"x\"}]",
     "ledger[0]: unknown member 'why'"},
    {"\"screenings\": [{\"instrument\": \"youth_quick\", \"result\": \"maybe\"}]",
     "screenings[0].result: unknown result 'maybe' (expected one of negative, possible, "
     "positive, incomplete)"},
    {"\"screenings\": [{\"result\": \"negative\"}]", "screenings[0]: needs 'instrument'"},
    {"\"screenings\": [{\"instrument\": \"youth_quick\", \"result\": \"negative\","
     " \"answers\": []}]",
     "screenings[0]: unknown member 'answers'"},
    {"\"screenings\": [{\"instrument\": \"youth_quick\", \"result\": \"negative\","
     " \"indicators\": [\"Ran away\"]}]",
     "screenings[0].indicators: 'Ran away' must be lowercase letters, digits and '_'"},
    {"\"screenings\": [{\"instrument\": \"youth_quick\", \"result\": \"negative\","
     " \"finished_at\": \"2026-11-01\"}, {\"instrument\": \"youth_quick\", \"result\":"
     " \"negative\", \"finished_at\": \"2026-11-05\"}]",
     "screenings[1].finished_at: is later than screenings[0]'s: list the screenings newest "
     "first"},
    {"\"screening\": {\"id\": 2, \"instrument\": \"youth_quick\", \"version\": 2, \"result\":"
     " \"positive\", \"score\": 1, \"stopped\": false}, \"screenings\": [{\"id\": 1,"
     " \"instrument\": \"youth_quick\", \"version\": 2, \"result\": \"positive\", \"score\": 1,"
     " \"stopped\": false}]",
     "screening: must equal screenings[0] (the latest screening) or be left out: its id differs"},
    {"\"screening\": {\"id\": 1, \"instrument\": \"youth_quick\", \"version\": 2, \"result\":"
     " \"positive\", \"score\": 2, \"stopped\": false}, \"screenings\": [{\"id\": 1,"
     " \"instrument\": \"youth_quick\", \"version\": 2, \"result\": \"positive\", \"score\": 1,"
     " \"stopped\": false}]",
     "screening: must equal screenings[0] (the latest screening) or be left out: its score "
     "differs"},
    {"\"indicators\": [\"exchanged_sex\"], \"screenings\": [{\"id\": 1, \"instrument\":"
     " \"youth_quick\", \"version\": 2, \"result\": \"positive\", \"score\": 1,"
     " \"stopped\": false, \"indicators\": [\"could_not_leave\"]}]",
     "indicators: must equal screenings[0].indicators (the latest screening's) or be left out"},
    {"\"screening\": {\"instrument\": \"youth_quick\", \"result\": \"negative\","
     " \"finished_at\": \"2026-11-01\"}",
     "screening: unknown member 'finished_at'"},
};

START_TEST(bad_members_are_named_by_their_path)
{
    struct routing_input in;
    char text[1200], err[400];
    snprintf(text, sizeof(text), "{%s}", bad[_i].json);
    json_t *j = json_loads(text, 0, NULL);
    ck_assert_msg(j != NULL, "bad JSON in the test: %s", text);
    ck_assert_int_eq(routing_input_from_json(j, &in, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, bad[_i].err) != NULL, "got  '%s'\nwant '%s'", err, bad[_i].err);
    routing_input_release(&in);
    json_decref(j);
}
END_TEST

/* The libconfig form names the same path, with its file and line. */
START_TEST(libconfig_form_reads_the_whole_picture_and_names_file_and_line)
{
    static const char good[] =
        "case = {\n"
        "  case_id = 3; now = \"2026-11-30T12:00:00Z\"; episode = \"2026-11-20\";\n"
        "  consents = ( { id = 2; purpose = \"referral\"; recipients = [\"le_ca\"];\n"
        "                 granted_at = \"2026-11-01\"; expires_at = \"2027-11-01\"; } );\n"
        "  declines = ( { id = 4; recipient = \"kind:hotline\"; declined_at = \"2026-11-02\"; } "
        ");\n"
        "  ledger = ( { referral = 9; destination = \"le_ca\"; basis = \"mandatory_report\";\n"
        "               state = \"closed\"; episode = \"\"; disclosure = 0;\n"
        "               evidence = [\"commercial_sex\", \"disclosure:sex\"];\n"
        "               delivered_at = \"2026-11-03T10:00:00Z\"; } );\n"
        "  screenings = ( { id = 7; instrument = \"youth_quick\"; version = 2;\n"
        "                   result = \"positive\"; score = 1; stopped = false;\n"
        "                   indicators = [\"exchanged_sex\"]; } );\n"
        "};\n";
    static const char broken[] = "case = {\n"
                                 "  case_id = 3;\n"
                                 "  ledger = ( { referral = 9; destination = \"le_ca\";\n"
                                 "               basis = \"consent\"; state = \"lost\"; } );\n"
                                 "};\n";
    const char *want[] = {"case:4: ledger[0].state: unknown referral state 'lost' (expected one "
                          "of pending_consent, queued, sent, acknowledged, accepted, rejected, "
                          "closed, revoked)",
                          NULL};
    for (int k = 0; k < 2; k++) {
        struct collected c = {0};
        struct cfgread r = {.file = "case", .report = collect_report, .ud = &c};
        struct routing_input in;
        config_t cf;
        r.text = k == 0 ? good : broken;
        config_init(&cf);
        ck_assert_msg(config_read_string(&cf, r.text) == CONFIG_TRUE, "syntax: %s",
                      config_error_text(&cf));
        int rc = routing_input_from_setting(&r, config_lookup(&cf, "case"), &in);
        cfgread_flush(&r);
        if (k == 0) {
            ck_assert_msg(rc == 0 && c.n == 0, "%s", c.n ? c.msg[0] : "?");
            ck_assert(in.consents[0].active);
            ck_assert_uint_eq(in.n_declines, 1);
            ck_assert(in.ledger[0].episode == ROUTING_TIME_NONE);
            ck_assert_int_eq(in.ledger[0].disclosure, 0);
            ck_assert_str_eq(in.ledger[0].evidence[1], "disclosure:sex");
            ck_assert_int_eq(in.screening.id, 7);
            ck_assert_str_eq(in.indicators[0], "exchanged_sex");
        } else {
            ck_assert_int_eq(rc, -1);
            COLLECT_ASSERT(&c, want);
        }
        routing_input_release(&in);
        config_destroy(&cf);
    }
}
END_TEST

/* ------------------------------------------------------------ round trip --- */

START_TEST(whole_picture_round_trips_and_writes_only_what_is_not_default)
{
    static const char text[] =
        "{\"case_id\": 3, \"now\": \"2026-11-30T12:00:00Z\", \"episode\": \"2026-11-20T08:00:00Z\","
        " \"consents\": [{\"id\": 2, \"purpose\": \"referral\", \"recipients\": [\"le_ca\"],"
        " \"granted_at\": \"2026-11-01T00:00:00Z\", \"expires_at\": \"2027-11-01T00:00:00Z\","
        " \"revoked_at\": \"2026-11-29T00:00:00.25Z\"}],"
        " \"declines\": [{\"id\": 4, \"recipient\": \"kind:hotline\","
        " \"declined_at\": \"2026-11-02T00:00:00Z\"}],"
        " \"ledger\": [{\"referral\": 9, \"case\": 8, \"destination\": \"le_ca\","
        " \"kind\": \"law_enforcement\", \"basis\": \"mandatory_report\", \"state\": \"closed\","
        " \"episode\": null, \"evidence\": [\"commercial_sex\"], \"disclosure\": 6,"
        " \"delivered_at\": \"2026-11-03T10:00:00Z\", \"outbox\": \"sent\"}],"
        " \"screenings\": [{\"id\": 7, \"instrument\": \"youth_quick\", \"version\": 2,"
        " \"result\": \"positive\", \"band\": \"positive\", \"score\": 1, \"stopped\": false,"
        " \"finished_at\": \"2026-11-29T10:00:00Z\", \"indicators\": [\"exchanged_sex\"]}]}";
    struct routing_input in, back;
    char err[300];
    from_json(text, &in);
    ck_assert_int_eq(in.consents[0].active, 0); /* revoked the day before */
    json_t *j = routing_input_to_json(&in);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "now")), "2026-11-30T12:00:00Z");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(j, "consents"), 0), "revoked_at")),
                     "2026-11-29T00:00:00.250000Z");
    json_t *entry = json_array_get(json_object_get(j, "ledger"), 0);
    ck_assert_ptr_null(json_object_get(entry, "episode")); /* none: not written */
    ck_assert_int_eq(json_integer_value(json_object_get(entry, "disclosure")), 6);
    ck_assert_int_eq(routing_input_from_json(j, &back, err, sizeof(err)), 0);
    json_t *j2 = routing_input_to_json(&back);
    ck_assert_msg(json_equal(j, j2), "round trip differs:\n%s\n%s", json_dumps(j, 0),
                  json_dumps(j2, 0));
    ck_assert_int_eq(back.ledger[0].case_id, 8);
    ck_assert(back.consents[0].active == 0);
    json_decref(j);
    json_decref(j2);
    routing_input_release(&back);
    routing_input_release(&in);

    /* an input without them writes none of them: stored inputs stay small */
    from_json("{\"case_id\": 3}", &in);
    j = routing_input_to_json(&in);
    static const char *const members[] = {"now", "episode", "declines", "ledger", "screenings"};
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
        ck_assert_msg(json_object_get(j, members[i]) == NULL, "'%s' written", members[i]);
    json_decref(j);
    routing_input_release(&in);
}
END_TEST

/* ---------------------------------------------------- several screenings --- */

static void evidence_of(const char *text, struct facts_evidence_set *ev, int *known)
{
    struct routing_input in;
    from_json(text, &in);
    *known = routing_input_evidence(&in, shipped_instruments(), ev);
    routing_input_release(&in);
}

#define QUICK(id, result, stopped, version, finished, indicators)                                  \
    "{\"id\": " #id ", \"instrument\": \"youth_quick\", \"version\": " #version                    \
    ", \"result\": \"" result "\", \"score\": 0, \"stopped\": " #stopped                           \
    ", \"finished_at\": \"" finished "\", \"indicators\": " indicators "}"

START_TEST(a_later_negative_screen_never_erases_earlier_evidence)
{
    struct facts_evidence_set ev;
    struct routing_input in;
    struct rule_value facts[FACTS__COUNT];
    int known;
    static const char text[] = "{\"age\": 15, \"age_known\": true, \"screenings\": [" QUICK(
        9, "negative", false, 2, "2026-11-20", "[]") ", " QUICK(8, "positive", true, 1,
                                                                "2026-11-02",
                                                                "[\"exchanged_sex\", "
                                                                "\"someone_making_you_now\"]") "]}";
    evidence_of(text, &ev, &known);
    ck_assert_int_eq(known, 1);
    ck_assert(ev.classes & FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COMMERCIAL_SEX));
    ck_assert(ev.classes & FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_DISCLOSURE));
    /* version 1's unclear disclosure took its kind from its own screening's exchange */
    ck_assert_int_eq(ev.disclosure, FACTS_DISCLOSURE_SEX);

    /* the screening facts are the latest's; the disclosure stays one */
    from_json(text, &in);
    facts_clear(facts, FACTS__COUNT);
    routing_input_screening_facts(&in, shipped_instruments(), facts);
    ck_assert_str_eq(facts[FACTS_RESULT].u.s, "negative");
    ck_assert(facts[FACTS_DISCLOSURE].type == RULE_BOOL && facts[FACTS_DISCLOSURE].u.b);
    ck_assert(facts[FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_COMMERCIAL_SEX].u.b);
    ck_assert_str_eq(routing_input_trafficking_type(&in, shipped_instruments()), "sex");
    ck_assert_uint_eq(routing_input_report_classes(&in, shipped_instruments()),
                      FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COMMERCIAL_SEX) |
                          FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COERCION));
    routing_input_release(&in);
}
END_TEST

START_TEST(a_risk_sign_answered_twice_counts_once)
{
    struct facts_evidence_set ev;
    int known;
    evidence_of("{\"screenings\": [{\"id\": 2, \"instrument\": \"youth_health\", \"version\": 2,"
                " \"result\": \"possible\", \"score\": 2, \"stopped\": false,"
                " \"indicators\": [\"ran_away\", \"substance_use\"]},"
                " {\"id\": 1, \"instrument\": \"youth_health\", \"version\": 2,"
                " \"result\": \"possible\", \"score\": 1, \"stopped\": false,"
                " \"indicators\": [\"ran_away\"]}]}",
                &ev, &known);
    ck_assert_int_eq(known, 1);
    ck_assert_int_eq(ev.risk_count, 2);
    ck_assert_uint_eq(ev.classes, FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK));
}
END_TEST

START_TEST(evidence_is_unknown_only_when_the_latest_cannot_be_read)
{
    struct facts_evidence_set ev;
    struct routing_input in;
    char err[300];
    int known;
    /* an earlier screening of a version not loaded adds nothing; the latest still counts */
    static const char earlier_unread[] = "{\"screenings\": [" QUICK(
        9, "positive", false, 2, "2026-11-20",
        "[\"exchanged_sex\"]") ", " QUICK(8, "positive", false, 77, "2026-11-02",
                                          "[\"could_not_leave\"]") "]}";
    evidence_of(earlier_unread, &ev, &known);
    ck_assert_int_eq(known, 1);
    ck_assert_uint_eq(ev.classes, FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COMMERCIAL_SEX));
    /* ... and a case file or fixture with it is refused, naming the entry */
    from_json(earlier_unread, &in);
    ck_assert_int_eq(routing_input_check_screening(&in, shipped_instruments(), err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "screenings[1]: instrument 'youth_quick' version 77 is not loaded");
    routing_input_release(&in);
    from_json("{\"screenings\": [" QUICK(9, "positive", false, 2, "2026-11-20",
                                         "[\"exchanged_sex\", \"x_item\"]") "]}",
              &in);
    ck_assert_int_eq(routing_input_check_screening(&in, shipped_instruments(), err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "screenings[0].indicators: 'x_item' is no item of instrument "
                          "'youth_quick' version 2");
    routing_input_release(&in);
    /* the latest unreadable: unknown (null facts), never "none" */
    evidence_of("{\"screenings\": [" QUICK(9, "positive", false, 77, "2026-11-20", "[]") ", " QUICK(
                    8, "positive", false, 2, "2026-11-02", "[\"exchanged_sex\"]") "]}",
                &ev, &known);
    ck_assert_int_eq(known, 0);
}
END_TEST

static Suite *input_suite(void)
{
    Suite *s = suite_create("routing_input");
    TCase *tc = tcase_create("whole_picture");
    tcase_add_loop_test(tc, time_is_read_and_written_as_utc_without_timegm, 0,
                        sizeof(times) / sizeof(times[0]));
    tcase_add_test(tc, time_is_microseconds_since_the_epoch);
    tcase_add_test(tc, absent_members_err_toward_protecting_the_person);
    tcase_add_loop_test(tc, consent_active_is_derived_at_now_from_its_times, 0,
                        sizeof(consent_cases) / sizeof(consent_cases[0]));
    tcase_add_test(tc, now_decides_consents_and_reads_before_them);
    tcase_add_test(tc, screenings_give_the_latest_as_screening);
    tcase_add_loop_test(tc, bad_members_are_named_by_their_path, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, libconfig_form_reads_the_whole_picture_and_names_file_and_line);
    tcase_add_test(tc, whole_picture_round_trips_and_writes_only_what_is_not_default);
    tcase_add_test(tc, a_later_negative_screen_never_erases_earlier_evidence);
    tcase_add_test(tc, a_risk_sign_answered_twice_counts_once);
    tcase_add_test(tc, evidence_is_unknown_only_when_the_latest_cannot_be_read);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(input_suite())
