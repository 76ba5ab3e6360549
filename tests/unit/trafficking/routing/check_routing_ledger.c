/*
 * check_routing_ledger.c: the report ledger's verdict in C
 * (plugins/trafficking/routing/routing_ledger.c) against every branch of
 * trafficking.report_verdict (sql/trafficking/007_ledger.sql), with the
 * database's exact wording: declined, a decline the law overrides, a kind
 * declined but one destination chosen after, replaces, open (this case,
 * another case), already reported, new evidence, a new disclosure, a new
 * episode, no episode now, a first report; and the JSON and the what-if
 * decision over the shipped configuration. Pure: no database.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "report_collect.h"
#include "routing/routing.h"

#define LE "\"destination\": \"le_ca\", \"kind\": \"law_enforcement\""
#define MR "\"basis\": \"mandatory_report\""
#define DELIVERED(ts) "\"delivered_at\": \"" ts "\""

static const struct verdict_case {
    const char *name;
    const char *input; /* members of the input besides case_id 7 and now 2026-11-30T12:00 */
    const char *dest, *kind, *basis;
    facts_evidence_mask evidence;
    int64_t disclosure;
    const char *action;
    int64_t referral;
    const char *reason;
    const char *decline; /* NULL: none */
} cases[] = {
#define SEX FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COMMERCIAL_SEX)
#define COERCION FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COERCION)
#define FRAUD FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_FRAUD)
    {"first report with an empty ledger", "", "le_ca", "law_enforcement", "mandatory_report", SEX,
     0, "new", 0, "first report", NULL},
    {"a delivery on another basis does not count",
     "\"ledger\": [{\"referral\": 3, " LE ", \"basis\": \"consent\", \"state\": \"closed\","
     " \"evidence\": [\"commercial_sex\"], " DELIVERED("2026-11-01T10:00:00Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "new", 0, "first report", NULL},
    {"already reported: the latest delivery, by time then by referral",
     "\"ledger\": [{\"referral\": 3, " LE ", " MR ", \"state\": \"closed\","
     " \"evidence\": [\"commercial_sex\"], " DELIVERED(
         "2026-11-01T10:00:00Z") "},"
                                 " {\"referral\": 5, " LE ", " MR ", \"state\": \"rejected\","
                                 " \"evidence\": [\"coercion\"], " DELIVERED(
                                     "2026-11-02T23:59:59Z") "},"
                                                             " {\"referral\": 4, " LE ", " MR
                                                             ", \"state\": \"acknowledged\","
                                                             " " DELIVERED(
                                                                 "2026-11-02T23:59:59Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX | COERCION, 0, "already_reported", 5,
     "already reported to le_ca on 2026-11-02 (referral 5, rejected)", NULL},
    {"new evidence: the classes no delivery told, by name",
     "\"ledger\": [{\"referral\": 3, " LE ", " MR ", \"state\": \"closed\","
     " \"evidence\": [\"commercial_sex\"], " DELIVERED("2026-11-01T10:00:00Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX | FRAUD | COERCION, 0, "new", 0,
     "new report: new evidence: coercion, fraud", NULL},
    {"risk and disclosure bits are never evidence a report is about",
     "\"ledger\": [{\"referral\": 3, " LE ", " MR ", \"state\": \"closed\","
     " \"evidence\": [\"commercial_sex\"], " DELIVERED("2026-11-01T10:00:00Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report",
     SEX | FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK) | FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_DISCLOSURE),
     0, "already_reported", 3, "already reported to le_ca on 2026-11-01 (referral 3, closed)",
     NULL},
    {"a new disclosure",
     "\"ledger\": [{\"referral\": 3, " LE ", " MR ", \"state\": \"closed\", \"disclosure\": 40,"
     " \"evidence\": [\"commercial_sex\"], " DELIVERED("2026-11-01T10:00:00Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 41, "new", 0,
     "new report: new disclosure (screening 41)", NULL},
    {"new evidence and a new disclosure, in one line",
     "\"ledger\": [{\"referral\": 3, " LE ", " MR ", \"state\": \"closed\","
     " \"evidence\": [\"commercial_sex\"], " DELIVERED("2026-11-01T10:00:00Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX | COERCION, 41, "new", 0,
     "new report: new evidence: coercion; new disclosure (screening 41)", NULL},
    {"a disclosure already delivered is no new one",
     "\"ledger\": [{\"referral\": 3, " LE ", " MR ", \"state\": \"sent\", \"disclosure\": 41,"
     " \"evidence\": [\"commercial_sex\"], " DELIVERED("2026-11-01T10:00:00Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 41, "already_reported", 3,
     "already reported to le_ca on 2026-11-01 (referral 3, sent)", NULL},
    {"a new episode",
     "\"episode\": \"2026-11-25T22:00:00Z\", \"ledger\": [{\"referral\": 3, " LE ", " MR ","
     " \"state\": \"closed\", \"episode\": \"2026-10-01T00:00:00Z\","
     " \"evidence\": [\"commercial_sex\"], " DELIVERED("2026-10-02T10:00:00Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "new", 0,
     "new report: new episode of 2026-11-25", NULL},
    {"no episode now, earlier reports were for one",
     "\"ledger\": [{\"referral\": 3, " LE ", " MR ", \"state\": \"closed\","
     " \"episode\": \"2026-10-01T00:00:00Z\", \"evidence\": [\"commercial_sex\"],"
     " " DELIVERED("2026-10-02T10:00:00Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "new", 0,
     "new report: no runaway episode now; earlier reports were for one", NULL},
    {"the same episode, reported",
     "\"episode\": \"2026-10-01T00:00:00Z\", \"ledger\": [{\"referral\": 3, " LE ", " MR ","
     " \"state\": \"closed\", \"episode\": \"2026-10-01T00:00:00Z\","
     " \"evidence\": [\"commercial_sex\"], " DELIVERED("2026-10-02T10:00:00Z") "}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "already_reported", 3,
     "already reported to le_ca on 2026-10-02 (referral 3, closed)", NULL},
    {"open: this case's undelivered referral stands, whatever its basis",
     "\"ledger\": [{\"referral\": 3, \"case\": 7, " LE ", \"basis\": \"imminent_danger\","
     " \"state\": \"queued\", \"outbox\": \"pending\"}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "open", 3,
     "the same report is open, not delivered yet: referral 3 (queued); it stands", NULL},
    {"open: a held delivery says so",
     "\"ledger\": [{\"referral\": 3, " LE ", \"basis\": \"consent\", \"state\": \"queued\","
     " \"outbox\": \"held\"}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "open", 3,
     "the same report is open, not delivered yet: referral 3 (queued, delivery held); it stands",
     NULL},
    {"open: waiting for consent, and consent is asked again",
     "\"ledger\": [{\"referral\": 3, " LE ", \"basis\": \"consent\","
     " \"state\": \"pending_consent\"}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "open", 3,
     "the same report is open, not delivered yet: referral 3 (pending_consent); it stands", NULL},
    {"replaces: a mandatory report takes over a waiting consent referral",
     "\"ledger\": [{\"referral\": 3, " LE ", \"basis\": \"consent\", \"state\": \"queued\"}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "replaces", 3,
     "mandatory report: referral 3 (consent, queued, not delivered) gives way to it", NULL},
    {"replaces: an emergency referral says so",
     "\"ledger\": [{\"referral\": 3, \"destination\": \"emergency_911\", \"basis\": \"consent\","
     " \"state\": \"pending_consent\"}]",
     "emergency_911", "emergency", "imminent_danger", 0, 0, "replaces", 3,
     "emergency referral: referral 3 (consent, pending_consent, not delivered) gives way to it",
     NULL},
    {"open in another case of the person, same episode and basis (lowest referral)",
     "\"ledger\": [{\"referral\": 12, \"case\": 9, " LE ", " MR ", \"state\": \"queued\"},"
     " {\"referral\": 11, \"case\": 8, " LE ", " MR ", \"state\": \"pending_consent\"}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "open", 11,
     "the same report is open in case 8, not delivered yet: referral 11 (pending_consent); it "
     "stands",
     NULL},
    {"another case's, for another episode, does not stand for this one",
     "\"episode\": \"2026-11-25T22:00:00Z\", \"ledger\": [{\"referral\": 12, \"case\": 9, " LE
     ", " MR ", \"state\": \"queued\"}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "new", 0, "first report", NULL},
    {"another case's on another basis does not stand either",
     "\"ledger\": [{\"referral\": 12, \"case\": 9, " LE ", \"basis\": \"consent\","
     " \"state\": \"queued\"}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "new", 0, "first report", NULL},
    {"declined: a consent referral to a declined kind",
     "\"declines\": [{\"id\": 8, \"recipient\": \"kind:hotline\", \"declined_at\":"
     " \"2026-11-01T09:00:00Z\"}, {\"id\": 3, \"recipient\": \"kind:law_enforcement\","
     " \"declined_at\": \"2026-10-31T23:30:00Z\"}, {\"id\": 5, \"recipient\": \"le_ca\","
     " \"declined_at\": \"2026-11-02T09:00:00Z\"}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "declined", 0,
     "not referred: the person declined kind:law_enforcement on 2026-10-31 (decline 3); no "
     "consent-based referral until they change their mind",
     NULL},
    {"a mandatory report is made whatever the decline, and says so",
     "\"declines\": [{\"id\": 5, \"recipient\": \"le_ca\", \"declined_at\": \"2026-11-02\"}]",
     "le_ca", "law_enforcement", "mandatory_report", SEX, 0, "new", 0, "first report",
     "the person declined le_ca on 2026-11-02 (decline 5), but a mandatory report is made "
     "whatever the consent: the law overrides a refusal"},
    {"an emergency referral too",
     "\"declines\": [{\"id\": 2, \"recipient\": \"kind:emergency\", \"declined_at\":"
     " \"2026-11-02\"}], \"ledger\": [{\"referral\": 3, \"destination\": \"emergency_911\","
     " \"basis\": \"imminent_danger\", \"state\": \"closed\","
     " " DELIVERED("2026-11-03T01:00:00Z") "}]",
     "emergency_911", "emergency", "imminent_danger", 0, 0, "already_reported", 3,
     "already reported to emergency_911 on 2026-11-03 (referral 3, closed)",
     "the person declined kind:emergency on 2026-11-02 (decline 2), but an emergency referral is "
     "made whatever the consent: the law overrides a refusal"},
    {"a consent after the decline that names the destination lifts the kind",
     "\"declines\": [{\"id\": 3, \"recipient\": \"kind:law_enforcement\", \"declined_at\":"
     " \"2026-11-01T09:00:00Z\"}], \"consents\": [{\"id\": 9, \"purpose\": \"referral\","
     " \"recipients\": [\"le_ca\"], \"granted_at\": \"2026-11-01T09:00:01Z\","
     " \"expires_at\": \"2027-11-01\"}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "new", 0, "first report", NULL},
    {"... but not one that names only the kind",
     "\"declines\": [{\"id\": 3, \"recipient\": \"kind:law_enforcement\", \"declined_at\":"
     " \"2026-11-01T09:00:00Z\"}], \"consents\": [{\"id\": 9, \"purpose\": \"referral\","
     " \"recipients\": [\"kind:law_enforcement\"], \"granted_at\": \"2026-11-05\","
     " \"expires_at\": \"2027-11-01\"}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "declined", 0,
     "not referred: the person declined kind:law_enforcement on 2026-11-01 (decline 3); no "
     "consent-based referral until they change their mind",
     NULL},
    {"... nor one revoked since",
     "\"declines\": [{\"id\": 3, \"recipient\": \"kind:law_enforcement\", \"declined_at\":"
     " \"2026-11-01T09:00:00Z\"}], \"consents\": [{\"id\": 9, \"purpose\": \"referral\","
     " \"recipients\": [\"le_ca\"], \"granted_at\": \"2026-11-05\", \"expires_at\":"
     " \"2027-11-01\", \"revoked_at\": \"2026-11-20\"}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "declined", 0,
     "not referred: the person declined kind:law_enforcement on 2026-11-01 (decline 3); no "
     "consent-based referral until they change their mind",
     NULL},
    {"... nor one expired",
     "\"declines\": [{\"id\": 3, \"recipient\": \"kind:law_enforcement\", \"declined_at\":"
     " \"2026-11-01T09:00:00Z\"}], \"consents\": [{\"id\": 9, \"purpose\": \"referral\","
     " \"recipients\": [\"le_ca\"], \"granted_at\": \"2026-11-05\", \"expires_at\":"
     " \"2026-11-29\"}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "declined", 0,
     "not referred: the person declined kind:law_enforcement on 2026-11-01 (decline 3); no "
     "consent-based referral until they change their mind",
     NULL},
    {"... nor one whose grant is not known",
     "\"declines\": [{\"id\": 3, \"recipient\": \"kind:law_enforcement\", \"declined_at\":"
     " \"2026-11-01T09:00:00Z\"}], \"consents\": [{\"id\": 9, \"purpose\": \"referral\","
     " \"recipients\": [\"le_ca\"], \"active\": true}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "declined", 0,
     "not referred: the person declined kind:law_enforcement on 2026-11-01 (decline 3); no "
     "consent-based referral until they change their mind",
     NULL},
    {"a decline of the destination itself is not lifted by a later consent",
     "\"declines\": [{\"id\": 3, \"recipient\": \"le_ca\", \"declined_at\":"
     " \"2026-11-01T09:00:00Z\"}], \"consents\": [{\"id\": 9, \"purpose\": \"referral\","
     " \"recipients\": [\"le_ca\"], \"granted_at\": \"2026-11-05\", \"expires_at\":"
     " \"2027-11-01\"}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "declined", 0,
     "not referred: the person declined le_ca on 2026-11-01 (decline 3); no consent-based "
     "referral until they change their mind",
     NULL},
    {"a decline comes before an open referral",
     "\"declines\": [{\"id\": 3, \"recipient\": \"le_ca\", \"declined_at\": \"2026-11-01\"}],"
     " \"ledger\": [{\"referral\": 3, " LE ", \"basis\": \"consent\", \"state\": \"queued\"}]",
     "le_ca", "law_enforcement", "consent", SEX, 0, "declined", 0,
     "not referred: the person declined le_ca on 2026-11-01 (decline 3); no consent-based "
     "referral until they change their mind",
     NULL},
#undef SEX
#undef COERCION
#undef FRAUD
};

START_TEST(verdict_follows_report_verdict_word_for_word)
{
    const struct verdict_case *c = &cases[_i];
    struct routing_input in;
    struct routing_verdict v;
    char text[3000], err[400];
    snprintf(text, sizeof(text), "{\"case_id\": 7, \"now\": \"2026-11-30T12:00:00Z\"%s%s}",
             c->input[0] ? ", " : "", c->input);
    json_t *j = json_loads(text, 0, NULL);
    ck_assert_msg(j != NULL, "%s: bad JSON in the test: %s", c->name, text);
    ck_assert_msg(routing_input_from_json(j, &in, err, sizeof(err)) == 0, "%s: %s", c->name, err);
    json_decref(j);
    struct routing_referral rf = {
        .destination = (char *)c->dest,
        .kind = (enum routing_kind)routing_kind_lookup(c->kind),
        .rule = (char *)"a_rule",
        .basis = (enum routing_basis)routing_basis_lookup(c->basis),
    };
    ck_assert_int_eq(routing_ledger_judge(&in, c->evidence, c->disclosure, &rf, &v), 0);
    ck_assert_msg(strcmp(routing_verdict_action_name(v.action), c->action) == 0, "%s: %s: %s",
                  c->name, routing_verdict_action_name(v.action), v.reason);
    ck_assert_msg(strcmp(v.reason, c->reason) == 0, "%s:\n  got  %s\n  want %s", c->name, v.reason,
                  c->reason);
    ck_assert_msg(v.referral == c->referral, "%s: referral %lld", c->name, (long long)v.referral);
    if (c->decline == NULL)
        ck_assert_msg(v.decline == NULL, "%s: decline note %s", c->name, v.decline);
    else
        ck_assert_msg(v.decline != NULL && strcmp(v.decline, c->decline) == 0,
                      "%s:\n  got  %s\n  want %s", c->name, v.decline ? v.decline : "(none)",
                      c->decline);
    ck_assert_int_eq(routing_verdict_made(v.action), strcmp(c->action, "already_reported") != 0 &&
                                                         strcmp(c->action, "declined") != 0);
    routing_verdict_release(&v);
    routing_input_release(&in);
}
END_TEST

START_TEST(action_names_look_up_to_themselves)
{
    for (int a = 0; a < ROUTING_VERDICT__COUNT; a++)
        ck_assert_int_eq(routing_verdict_action_lookup(
                             routing_verdict_action_name((enum routing_verdict_action)a)),
                         a);
    ck_assert_int_eq(routing_verdict_action_lookup("made"), -1);
    ck_assert_ptr_null(routing_verdict_action_name(ROUTING_VERDICT__COUNT));
}
END_TEST

/* ------------------------------------- a decision over the shipped policy --- */

static const struct instrument_set *shipped_instruments(void)
{
    static struct instrument_set *set;
    if (set == NULL)
        set = collect_load_instruments("conf/trafficking/instruments");
    return set;
}

/*
 * A minor's repeat screens: an earlier one stopped on a disclosure after an
 * exchange (reported to le_ca then), the latest negative. The decision
 * still makes the reports; the ledger makes le_ca "already reported" and
 * the rest first reports, in the decisions.ledger shape.
 */
START_TEST(ledger_of_a_decision_is_stored_in_the_shape_of_decisions_ledger)
{
    static const char text[] =
        "{\"case_id\": 7, \"age\": 15, \"age_known\": true, \"state\": \"CA\","
        " \"now\": \"2026-11-30T12:00:00Z\","
        " \"declines\": [{\"id\": 2, \"recipient\": \"kind:law_enforcement\","
        " \"declined_at\": \"2026-11-10T00:00:00Z\"}],"
        " \"screenings\": [{\"id\": 9, \"instrument\": \"youth_quick\", \"version\": 2,"
        " \"result\": \"negative\", \"score\": 0, \"stopped\": false, \"indicators\": []},"
        " {\"id\": 8, \"instrument\": \"youth_quick\", \"version\": 2, \"result\": \"positive\","
        " \"score\": 2, \"stopped\": true,"
        " \"indicators\": [\"exchanged_sex\", \"someone_making_you_now\"]}],"
        " \"ledger\": [{\"referral\": 14, \"case\": 7, \"destination\": \"le_ca\","
        " \"basis\": \"mandatory_report\", \"state\": \"closed\","
        " \"evidence\": [\"coercion\", \"commercial_sex\"], \"disclosure\": 8,"
        " \"delivered_at\": \"2026-11-02T10:00:00Z\"}]}";
    struct collected col = {0};
    struct routing_config *cfg = NULL;
    struct routing_input in;
    struct routing_decision d;
    struct routing_ledger l;
    char err[300];
    json_t *j = json_loads(text, 0, NULL);
    ck_assert_int_eq(routing_input_from_json(j, &in, err, sizeof(err)), 0);
    json_decref(j);
    ck_assert_int_eq(routing_config_load_checked("conf/trafficking/destinations.cfg",
                                                 "conf/trafficking/routing.cfg",
                                                 shipped_instruments(), collect_report, &col, &cfg),
                     0);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    ck_assert_int_eq(routing_ledger_of(cfg, &in, &d, &l), 0);
    ck_assert_uint_eq(l.n_verdicts, d.n_referrals);
    json_t *a = routing_ledger_to_json(&l);
    ck_assert_ptr_nonnull(a);
    int seen = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *o = json_array_get(a, i);
        const char *dest = json_string_value(json_object_get(o, "destination"));
        ck_assert_str_eq(json_string_value(json_object_get(o, "destination")),
                         d.referrals[i].destination);
        if (strcmp(dest, "le_ca") == 0) {
            ck_assert_str_eq(json_string_value(json_object_get(o, "action")), "already_reported");
            ck_assert_str_eq(json_string_value(json_object_get(o, "reason")),
                             "already reported to le_ca on 2026-11-02 (referral 14, closed)");
            ck_assert_int_eq(json_integer_value(json_object_get(o, "referral")), 14);
            ck_assert_str_eq(json_string_value(json_object_get(o, "basis")), "mandatory_report");
            ck_assert_str_eq(json_string_value(json_object_get(o, "rule")), "minor_commercial_sex");
            ck_assert(json_is_string(json_object_get(o, "decline")));
            seen++;
        } else {
            ck_assert_str_eq(json_string_value(json_object_get(o, "action")), "new");
            ck_assert_str_eq(json_string_value(json_object_get(o, "reason")), "first report");
            /* left out, as jsonb_strip_nulls leaves them out */
            ck_assert_ptr_null(json_object_get(o, "referral"));
            ck_assert_ptr_null(json_object_get(o, "decline"));
        }
    }
    ck_assert_int_eq(seen, 1);
    ck_assert_uint_ge(json_array_size(a), 3); /* cw_ca, le_ca and the forensic interview */
    json_decref(a);
    routing_ledger_release(&l);
    routing_decision_release(&d);
    routing_input_release(&in);
    routing_config_free(cfg);
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("routing_ledger");
    TCase *tc = tcase_create("verdict");
    tcase_add_loop_test(tc, verdict_follows_report_verdict_word_for_word, 0,
                        sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, action_names_look_up_to_themselves);
    tcase_add_test(tc, ledger_of_a_decision_is_stored_in_the_shape_of_decisions_ledger);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(ledger_suite())
