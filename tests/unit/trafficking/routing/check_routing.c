/*
 * check_routing.c: the routing engine (plugins/trafficking/routing.c and its
 * input and decision forms): priority order and stop (which never skips a
 * duty), first rule wins per destination, jurisdiction, consent coverage,
 * unsafe channels, instructions, every DOMAIN rule 1-7 over the shipped
 * configuration (imminent danger with tests/data/routing/danger-tests.cfg),
 * summaries for people, explanations, JSON round trips and decision diffs.
 * Pure computation: no database.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "report_collect.h"
#include "routing/routing.h"
#include "routing/routing_test.h"

#define TEST_DEST "tests/data/routing/destinations.cfg"
#define TEST_RULES "tests/data/routing/routing.cfg"
#define SHIP_DEST "conf/trafficking/destinations.cfg"
#define SHIP_RULES "conf/trafficking/routing.cfg"

/*
 * The shipped instruments, loaded once per test process: the shipped rules
 * read each screening's evidence classes from them (reachable until exit).
 */
static const struct instrument_set *shipped_instruments(void)
{
    static struct instrument_set *set;
    if (set == NULL)
        set = collect_load_instruments("conf/trafficking/instruments");
    return set;
}

static struct routing_config *load(const char *dest, const char *rules)
{
    struct collected c = {0};
    struct routing_config *cfg = NULL;
    const struct instrument_set *set = strcmp(dest, SHIP_DEST) == 0 ? shipped_instruments() : NULL;
    int rc = routing_config_load_checked(dest, rules, set, collect_report, &c, &cfg);
    ck_assert_msg(rc == 0, "config did not load: %s", c.n ? c.msg[0] : "?");
    ck_assert_int_eq(c.n, 0);
    return cfg;
}

/* Parses "case = { <text> };" into in, asserting it has no error. */
static void parse_case(const char *text, struct routing_input *in)
{
    struct collected c = {0};
    config_t cf;
    char *src = NULL;
    size_t n = strlen(text) + 32;
    struct cfgread r = {.file = "case", .report = collect_report, .ud = &c};
    src = malloc(n);
    ck_assert_ptr_nonnull(src);
    snprintf(src, n, "case = { %s };", text);
    r.text = src;
    config_init(&cf);
    ck_assert_msg(config_read_string(&cf, src) == CONFIG_TRUE, "syntax: %s (%s)",
                  config_error_text(&cf), text);
    int rc = routing_input_from_setting(&r, config_lookup(&cf, "case"), in);
    cfgread_flush(&r);
    ck_assert_msg(rc == 0 && c.n == 0, "case has errors: %s", c.n ? c.msg[0] : "?");
    config_destroy(&cf);
    free(src);
}

/* "dest:basis:state:due[:cN]" of every referral, in decision order, space-separated. */
static void summary(const struct routing_decision *d, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < d->n_referrals && off < len; i++) {
        const struct routing_referral *r = &d->referrals[i];
        off += (size_t)snprintf(buf + off, len - off, "%s%s:%s:%s:%d", i ? " " : "", r->destination,
                                routing_basis_name(r->basis), routing_state_name(r->state),
                                r->due_hours);
        if (r->consent_id > 0 && off < len)
            off += (size_t)snprintf(buf + off, len - off, ":c%lld", (long long)r->consent_id);
    }
}

/* 1 when d has an unused entry "dest|reason substring" (dest "-" for none). */
static int has_unused(const struct routing_decision *d, const char *spec)
{
    const char *bar = strchr(spec, '|');
    size_t dl = (size_t)(bar - spec);
    for (size_t i = 0; i < d->n_unused; i++) {
        const struct routing_unused *u = &d->unused[i];
        int same = (dl == 1 && spec[0] == '-')
                       ? u->destination == NULL
                       : u->destination != NULL && strlen(u->destination) == dl &&
                             strncmp(u->destination, spec, dl) == 0;
        if (same && strstr(u->reason, bar + 1) != NULL)
            return 1;
    }
    return 0;
}

/* Any referral on basis consent either names its consent or waits for one (the DB CHECK). */
static void assert_consent_invariant(const struct routing_decision *d)
{
    for (size_t i = 0; i < d->n_referrals; i++) {
        const struct routing_referral *r = &d->referrals[i];
        if (r->basis == ROUTING_BASIS_CONSENT)
            ck_assert_msg(r->consent_id > 0 || r->state == ROUTING_STATE_PENDING_CONSENT,
                          "%s: consent basis, queued without a consent", r->destination);
        else
            ck_assert_int_eq(r->state, ROUTING_STATE_QUEUED);
    }
}

struct engine_case {
    const char *name;
    const char *input;   /* members of the case group */
    const char *want;    /* summary() of the referrals */
    const char *matched; /* names of matching rules, space-separated */
    const char *unused[4];
};

static void run_case(const struct routing_config *cfg, const struct engine_case *c)
{
    struct routing_input in;
    struct routing_decision d;
    char got[1200], matched[400] = "";
    size_t off = 0;
    parse_case(c->input, &in);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    summary(&d, got, sizeof(got));
    ck_assert_msg(strcmp(got, c->want) == 0, "%s:\n  got  %s\n  want %s", c->name, got, c->want);
    for (size_t i = 0; i < d.n_rules; i++)
        if (d.rules[i].matched)
            off += (size_t)snprintf(matched + off, sizeof(matched) - off, "%s%s", off ? " " : "",
                                    d.rules[i].name);
    ck_assert_msg(strcmp(matched, c->matched) == 0, "%s: matched [%s], want [%s]", c->name, matched,
                  c->matched);
    for (int k = 0; k < 4 && c->unused[k] != NULL; k++)
        ck_assert_msg(has_unused(&d, c->unused[k]), "%s: no unused '%s'", c->name, c->unused[k]);
    assert_consent_invariant(&d);
    routing_decision_release(&d);
    routing_input_release(&in);
}

#define ADULT_CA "age = 30; age_known = true; state = \"CA\"; county = \"Alameda\"; "
#define MINOR_SEX                                                                                  \
    "age = 15; age_known = true; state = \"CA\"; screening = { instrument = \"q\"; "               \
    "result = \"positive\"; }; domain_scores = { sex_trafficking = 1; }; "

static const struct engine_case engine_cases[] = {
    /* The danger rule stops: the offers after it do not run... */
    {"imminent_danger_first_and_stops_the_offers",
     ADULT_CA "flags = { imminent_danger = true; control = true; };",
     "e911:imminent_danger:queued:0",
     "danger",
     {NULL}},
    /* ...but a duty does: a stop never swallows a mandatory report. */
    {"danger_that_stops_never_swallows_a_duty",
     MINOR_SEX "flags = { imminent_danger = true; };",
     "e911:imminent_danger:queued:0 cw_ca:mandatory_report:queued:24 "
     "le_ca:mandatory_report:queued:24",
     "danger minor_sex",
     {NULL}},
    {"kind_reaches_every_destination_serving_the_state",
     MINOR_SEX,
     "cw_ca:mandatory_report:queued:24 le_ca:mandatory_report:queued:24",
     "minor_sex",
     {"le_nv|wrong jurisdiction: serves NV, case is in CA", NULL}},
    {"first_rule_wins_per_destination",
     MINOR_SEX "indicators = [\"again\"];",
     "cw_ca:mandatory_report:queued:24 le_ca:mandatory_report:queued:24",
     "minor_sex minor_again",
     {"cw_ca|already referred by rule 'minor_sex'", NULL}},
    {"explicit_id_outside_jurisdiction_is_not_used",
     "age = 30; age_known = true; state = \"NV\"; flags = { control = true; };",
     "hot:consent:pending_consent:72",
     "le_by_id offers",
     {"le_ca|wrong jurisdiction: serves CA, case is in NV",
      "vs_ca|wrong jurisdiction: serves CA (counties Alameda), case is in NV",
      "-|no destination of kind victim_services serves the case (case is in NV)", NULL}},
    {"consent_covers_by_destination_id",
     ADULT_CA "flags = { control = true; }; consents = ( { id = 3; purpose = \"referral\"; "
              "recipients = [\"le_ca\"]; active = true; } );",
     "le_ca:consent:queued:72:c3 hot:consent:pending_consent:72 vs_ca:consent:pending_consent:72",
     "le_by_id offers",
     {NULL}},
    {"consent_covers_by_kind",
     ADULT_CA "flags = { control = true; }; consents = ( { id = 4; purpose = \"referral\"; "
              "recipients = [\"kind:hotline\", \"kind:victim_services\"]; active = true; } );",
     "le_ca:consent:pending_consent:72 hot:consent:queued:72:c4 vs_ca:consent:queued:72:c4",
     "le_by_id offers",
     {NULL}},
    {"inactive_consent_is_no_consent",
     ADULT_CA "flags = { control = true; }; consents = ( { id = 5; purpose = \"referral\"; "
              "recipients = [\"le_ca\"]; active = false; } );",
     "le_ca:consent:pending_consent:72 hot:consent:pending_consent:72 "
     "vs_ca:consent:pending_consent:72",
     "le_by_id offers",
     {NULL}},
    {"consent_for_another_destination_does_not_cover",
     ADULT_CA "flags = { control = true; }; consents = ( { id = 6; purpose = \"referral\"; "
              "recipients = [\"le_nv\", \"kind:child_welfare\"]; active = true; } );",
     "le_ca:consent:pending_consent:72 hot:consent:pending_consent:72 "
     "vs_ca:consent:pending_consent:72",
     "le_by_id offers",
     {NULL}},
    {"rule_purpose_must_match_the_consent",
     ADULT_CA "flags = { recruitment = true; }; consents = ( { id = 7; purpose = \"other\"; "
              "recipients = [\"kind:law_enforcement\"]; active = true; } );",
     "le_ca:consent:pending_consent:70 hot:consent:pending_consent:72 "
     "vs_ca:consent:pending_consent:72",
     "le_by_kind offers",
     {"le_nv|wrong jurisdiction", NULL}},
    {"rule_purpose_matched",
     ADULT_CA "flags = { recruitment = true; }; consents = ( { id = 8; purpose = \"police\"; "
              "recipients = [\"kind:law_enforcement\"]; active = true; } );",
     "le_ca:consent:queued:70:c8 hot:consent:pending_consent:72 vs_ca:consent:pending_consent:72",
     "le_by_kind offers",
     {NULL}},
    {"trafficker_controls_phone_blocks_contact",
     ADULT_CA "flags = { control = true; }; safe_contact = { trafficker_controls_phone = true; };",
     "le_ca:consent:pending_consent:72",
     "le_by_id offers",
     {"hot|unsafe channel: the trafficker controls the phone",
      "vs_ca|unsafe channel: the trafficker controls the phone", NULL}},
    {"a_safe_channel_makes_contact_possible",
     ADULT_CA "flags = { control = true; }; safe_contact = { trafficker_controls_phone = true; "
              "safe_channels = [\"email\"]; };",
     "le_ca:consent:pending_consent:72 hot:consent:pending_consent:72 "
     "vs_ca:consent:pending_consent:72 legal:consent:pending_consent:240",
     "le_by_id offers stopper after_stop",
     {NULL}},
    /* sms reaches the phone the trafficker holds: it is no safe channel */
    {"sms_on_a_controlled_phone_is_no_safe_channel",
     ADULT_CA "flags = { control = true; }; safe_contact = { trafficker_controls_phone = true; "
              "safe_channels = [\"sms\", \"phone\"]; };",
     "le_ca:consent:pending_consent:72",
     "le_by_id offers",
     {"hot|unsafe channel: the trafficker controls the phone",
      "vs_ca|unsafe channel: the trafficker controls the phone", NULL}},
    {"do_not_contact_blocks_contact_even_with_safe_channel",
     ADULT_CA "flags = { control = true; }; safe_contact = { do_not_contact = true; "
              "safe_channels = [\"sms\"]; };",
     "le_ca:consent:pending_consent:72",
     "le_by_id offers",
     {"hot|unsafe channel: the person must not be contacted", "vs_ca|do not contact", NULL}},
    /* offer_after_stop is not evaluated; after_stop, a duty, is (hot was referred already) */
    {"stop_ends_the_offers_after_it_but_never_a_duty",
     ADULT_CA "flags = { control = true; }; safe_contact = { safe_channels = [\"email\"]; };",
     "le_ca:consent:pending_consent:72 hot:consent:pending_consent:72 "
     "vs_ca:consent:pending_consent:72 legal:consent:pending_consent:240",
     "le_by_id offers stopper after_stop",
     {"hot|already referred by rule 'offers'", NULL}},
    {"without_the_stop_later_rules_run",
     "age = 16; age_known = true; state = \"NV\"; safe_contact = { safe_channels = [\"email\"]; };",
     "hot:mandatory_report:queued:12 legal:consent:pending_consent:240",
     "after_stop offer_after_stop",
     {NULL}},
    {"county_unknown_misses_a_county_destination",
     "age = 30; age_known = true; state = \"CA\"; flags = { control = true; };",
     "le_ca:consent:pending_consent:72 hot:consent:pending_consent:72",
     "le_by_id offers",
     {"vs_ca|wrong jurisdiction: serves CA (counties Alameda), case is in CA", NULL}},
    {"state_unknown_only_any_destinations",
     "age = 30; age_known = true; flags = { recruitment = true; };",
     "hot:consent:pending_consent:72",
     "le_by_kind offers",
     {"-|no destination of kind law_enforcement serves the case (the case's state is unknown)",
      "le_ca|wrong jurisdiction: serves CA, the case's state is unknown", NULL}},
    {"no_screening_means_unknown_indicators",
     "age = 15; age_known = true; state = \"CA\";",
     "",
     "",
     {NULL}},
};

START_TEST(engine_case)
{
    struct routing_config *cfg = load(TEST_DEST, TEST_RULES);
    run_case(cfg, &engine_cases[_i]);
    routing_config_free(cfg);
}
END_TEST

/* ------------------------------------------------ DOMAIN rules, shipped --- */

#define SCREEN(inst, res) "screening = { id = 1; instrument = \"" inst "\"; result = \"" res "\"; "
static const struct engine_case domain_cases[] = {
    {"rule1_minor_commercial_sex_reports_within_24h",
     "age = 15; age_known = true; state = \"CA\"; " SCREEN(
         "youth_quick", "positive") "}; "
                                    "indicators = [\"exchanged_sex\"];",
     "cw_ca:mandatory_report:queued:24 le_ca:mandatory_report:queued:24",
     "minor_commercial_sex",
     {NULL}},
    {"rule1_unknown_age_is_the_minor_path",
     "state = \"NV\"; " SCREEN("staff_observation",
                               "positive") "}; "
                                           "indicators = [\"exchange_for_value\"];",
     "cw_nv:mandatory_report:queued:24 le_nv:mandatory_report:queued:24",
     "minor_commercial_sex",
     {"le_ca|wrong jurisdiction: serves CA, case is in NV", NULL}},
    {"rule1_foreign_national_minor_adds_hhs",
     "age = 12; age_known = true; state = \"CA\"; flags = { foreign_national = true; }; " SCREEN(
         "youth_quick", "positive") "}; indicators = [\"exchanged_sex\"];",
     "cw_ca:mandatory_report:queued:24 le_ca:mandatory_report:queued:24 "
     "hhs_otip:mandatory_report:queued:24",
     "minor_commercial_sex minor_foreign_national_hhs",
     {NULL}},
    {"rule1_whatever_the_consent",
     "age = 17; age_known = true; state = \"CA\"; " SCREEN(
         "youth_quick",
         "positive") "}; "
                     "indicators = [\"exchanged_sex\"]; consents = ( { id = 2; purpose = \"x\"; "
                     "recipients = [\"le_ca\"]; active = false; } );",
     "cw_ca:mandatory_report:queued:24 le_ca:mandatory_report:queued:24",
     "minor_commercial_sex",
     {NULL}},
    /* The first case: risk signs in the sex_trafficking domain are no exchange. */
    {"rule1_risk_in_the_sex_trafficking_domain_is_assessed_not_reported",
     "age = 15; age_known = true; state = \"CA\"; " SCREEN(
         "staff_observation",
         "positive") "}; "
                     "indicators = [\"someone_benefits\", \"older_controlling_partner\", "
                     "\"branding_or_street_language\"]; domain_scores = { sex_trafficking = 10; };",
     "csec_assessment:mandatory_report:queued:72",
     "minor_assessment_risk",
     {NULL}},
    {"rule2_minor_labour_needs_force_fraud_coercion",
     "age = 16; age_known = true; state = \"CA\"; " SCREEN(
         "staff_observation", "negative") "}; "
                                          "indicators = [\"works_for_little_or_no_pay\"];",
     "csec_assessment:mandatory_report:queued:24",
     "minor_assessment_means",
     {NULL}},
    {"rule2_minor_labour_with_coercion_is_reported",
     "age = 16; age_known = true; state = \"CA\"; " SCREEN(
         "staff_observation", "possible") "}; "
                                          "indicators = [\"phone_or_money_controlled\", "
                                          "\"works_for_little_or_no_pay\"];",
     "cw_ca:mandatory_report:queued:24 le_ca:mandatory_report:queued:24",
     "minor_labour_trafficking",
     {NULL}},
    /* The second case: no fixed place is risk, not coercion. */
    {"rule2_homelessness_is_no_coercion",
     "age = 16; age_known = true; state = \"CA\"; " SCREEN(
         "staff_observation",
         "possible") "}; "
                     "indicators = [\"staying_where\", \"works_for_little_or_no_pay\"]; "
                     "domain_scores = { conditions = 2; labour = 3; };",
     "csec_assessment:mandatory_report:queued:24",
     "minor_assessment_means",
     {NULL}},
    {"rule2_adult_labour_alone_never_reaches_police",
     "age = 40; age_known = true; state = \"CA\"; " SCREEN(
         "adult", "possible") "}; "
                              "indicators = [\"pay_withheld\"];",
     "nhth:consent:pending_consent:72 vs_ca:consent:pending_consent:72 "
     "legal_aid_west:consent:pending_consent:72",
     "adult_hotline_offer adult_support_offer",
     {NULL}},
    {"rule3_runaway_return_is_a_screening_not_a_referral",
     "age = 15; age_known = true; state = \"CA\"; flags = { runaway_return = true; }; "
     "runaway_episodes = 2;",
     "",
     "",
     {NULL}},
    {"rule4_disclosure_routes_to_forensic_interview",
     "age = 13; age_known = true; state = \"NV\"; " SCREEN(
         "youth_quick",
         "positive") "stopped = "
                     "true; }; indicators = [\"exchanged_sex\", \"someone_making_you_now\"];",
     "cw_nv:mandatory_report:queued:24 le_nv:mandatory_report:queued:24 "
     "fic_nv:mandatory_report:queued:24",
     "minor_commercial_sex disclosure_minor",
     {"cw_nv|already referred by rule 'minor_commercial_sex'", NULL}},
    {"rule4_adult_disclosure_never_goes_to_a_childrens_centre",
     "age = 22; age_known = true; state = \"CA\"; " SCREEN(
         "staff_observation", "positive") "stopped "
                                          "= true; }; indicators = [\"told_staff\"];",
     "fi_adult_ca:consent:pending_consent:24 le_ca:consent:pending_consent:72 "
     "nhth:consent:pending_consent:72 vs_ca:consent:pending_consent:72 "
     "legal_aid_west:consent:pending_consent:72",
     "disclosure_adult_interview adult_trafficking_law_enforcement adult_hotline_offer "
     "adult_support_offer",
     {NULL}},
    {"rule5_adult_police_only_with_consent_hotline_always",
     "age = 30; age_known = true; state = \"CA\"; " SCREEN(
         "adult", "positive") "}; "
                              "indicators = [\"papers_kept\", \"threats\"];",
     "le_ca:consent:pending_consent:72 nhth:consent:pending_consent:72 "
     "vs_ca:consent:pending_consent:72 legal_aid_west:consent:pending_consent:72",
     "adult_trafficking_law_enforcement adult_hotline_offer adult_support_offer "
     "adult_shelter_offer",
     {"-|no destination of kind ngo_shelter serves the case", NULL}},
    {"rule5_adult_with_consent_is_queued",
     "age = 30; age_known = true; state = \"CA\"; " SCREEN(
         "adult",
         "positive") "}; "
                     "indicators = [\"papers_kept\", \"threats\"]; consents = ( { id = 9; purpose "
                     "= "
                     "\"referral\"; recipients = [\"kind:law_enforcement\"]; active = true; } );",
     "le_ca:consent:queued:72:c9 nhth:consent:pending_consent:72 "
     "vs_ca:consent:pending_consent:72 legal_aid_west:consent:pending_consent:72",
     "adult_trafficking_law_enforcement adult_hotline_offer adult_support_offer "
     "adult_shelter_offer",
     {NULL}},
    {"rule5_imminent_danger_overrides_consent",
     "age = 30; age_known = true; state = \"CA\"; flags = { imminent_danger = true; };",
     "emergency_911:imminent_danger:queued:1",
     "imminent_danger",
     {NULL}},
    {"rule6_never_to_an_unsafe_channel",
     "age = 30; age_known = true; state = \"CA\"; " SCREEN(
         "adult", "positive") "}; "
                              "indicators = [\"papers_kept\", \"threats\"]; safe_contact = { "
                              "trafficker_controls_phone = true; };",
     "le_ca:consent:pending_consent:72",
     "adult_trafficking_law_enforcement adult_hotline_offer adult_support_offer "
     "adult_shelter_offer",
     {"nhth|unsafe channel", "vs_ca|unsafe channel", "legal_aid_west|unsafe channel", NULL}},
    {"rule7_positive_without_coercion_is_not_a_finding",
     "age = 22; age_known = true; state = \"CA\"; " SCREEN(
         "youth_quick", "positive") "}; "
                                    "indicators = [\"exchanged_sex\"];",
     "nhth:consent:pending_consent:72 vs_ca:consent:pending_consent:72 "
     "legal_aid_west:consent:pending_consent:72",
     "adult_hotline_offer adult_support_offer",
     {NULL}},
    {"rule7_minor_risk_is_assessed_not_reported",
     "age = 14; age_known = true; state = \"CA\"; " SCREEN(
         "youth_health", "positive") "}; "
                                     "indicators = [\"ran_away\", \"substance_use\"];",
     "csec_assessment:mandatory_report:queued:72",
     "minor_assessment_risk",
     {NULL}},
};

START_TEST(domain_case)
{
    struct routing_config *cfg = load(SHIP_DEST, SHIP_RULES);
    run_case(cfg, &domain_cases[_i]);
    routing_config_free(cfg);
}
END_TEST

/* DOMAIN rule 6: only the destination's fields leave. */
START_TEST(rule6_referral_carries_only_the_destination_fields)
{
    struct routing_config *cfg = load(SHIP_DEST, SHIP_RULES);
    struct routing_input in;
    struct routing_decision d;
    parse_case(
        "age = 14; age_known = true; state = \"CA\"; flags = { foreign_national = true; };" SCREEN(
            "youth_quick", "positive") "}; indicators = [\"exchanged_sex\"];",
        &in);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    ck_assert_uint_eq(d.n_referrals, 3);
    for (size_t i = 0; i < d.n_referrals; i++) {
        int k = routing_config_destination(cfg, d.referrals[i].destination);
        ck_assert_int_ge(k, 0);
        ck_assert_uint_eq(d.referrals[i].fields, cfg->destinations[k].fields);
        ck_assert_int_eq(d.referrals[i].ack_sla_hours, cfg->destinations[k].ack_sla_hours);
    }
    /* HHS gets no name and no contact details. */
    ck_assert_str_eq(d.referrals[2].destination, "hhs_otip");
    ck_assert(!(d.referrals[2].fields & (1u << ROUTING_FIELD_PERSON_NAME)));
    ck_assert(!(d.referrals[2].fields & (1u << ROUTING_FIELD_SAFE_CONTACT)));
    routing_decision_release(&d);
    routing_input_release(&in);
    routing_config_free(cfg);
}
END_TEST

/* ------------------------------------------------- order, stop, traces --- */

START_TEST(rules_run_in_priority_order_and_a_stop_skips_only_the_offers_after_it)
{
    static const int want[] = {10, 20, 25, 30, 40, 50, 70, 80, 90};
    struct routing_config *cfg = load(TEST_DEST, TEST_RULES);
    struct routing_input in;
    struct routing_decision d;
    parse_case(ADULT_CA "flags = { control = true; }; safe_contact = { safe_channels = "
                        "[\"email\"]; };",
               &in);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    ck_assert_uint_eq(d.n_rules, 9);
    for (size_t i = 0; i < d.n_rules; i++) {
        ck_assert_int_eq(d.rules[i].priority, want[i]);
        ck_assert_int_eq(d.rules[i].evaluated, i != 8);
        ck_assert_int_eq(d.rules[i].stopped, i == 6);
    }
    ck_assert_str_eq(d.rules[7].name, "after_stop"); /* mandatory_report: evaluated */
    ck_assert_int_eq(d.rules[7].matched, 1);
    ck_assert_str_eq(d.rules[8].name, "offer_after_stop"); /* consent: skipped */
    ck_assert_str_eq(d.rules[8].trace, "");
    ck_assert_str_eq(d.rules[6].note, "ends evaluation");
    ck_assert_ptr_null(d.rules[7].note);
    ck_assert_ptr_nonnull(strstr(d.rules[0].trace, "false  imminent_danger"));
    ck_assert_str_eq(d.config_hash, cfg->hash);
    routing_decision_release(&d);
    routing_input_release(&in);
    routing_config_free(cfg);
}
END_TEST

START_TEST(explain_names_false_subconditions_and_reasons)
{
    struct routing_config *cfg = load(TEST_DEST, TEST_RULES);
    struct routing_input in;
    struct routing_decision d;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    parse_case("case_id = 77; age = 30; age_known = true; state = \"NV\"; flags = { control = "
               "true; }; safe_contact = { safe_channels = [\"email\"]; };",
               &in);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    routing_explain_text(&d, f);
    fclose(f);
    static const char *const want[] = {
        "routing decision for case 77",
        "  [10] danger: no match\n        false  imminent_danger\n",
        "  [20] minor_sex: no match\n        false  minor and domain_score(\"sex_trafficking\") "
        "> 0\n          false  minor\n",
        "  [30] le_by_id: MATCHED\n",
        "  [70] stopper: MATCHED, stop: later rules on basis consent are not evaluated\n",
        "  [80] after_stop: MATCHED (after the stop of rule 'stopper': a legal duty is never "
        "skipped)\n",
        "  [90] offer_after_stop: not evaluated (rule 'stopper' matched and stops)\n",
        "  hot (hotline) by rule 'offers': consent, pending_consent, due within 72h (72h), ack "
        "within 72h\n      fields: case_id, safe_contact\n      why: no consent for hotline: no "
        "active consent names 'hot' or 'kind:hotline'; pending consent\n",
        "  le_ca (law_enforcement) by rule 'le_by_id': wrong jurisdiction: serves CA, case is in "
        "NV\n",
        "  - (victim_services) by rule 'offers': no destination of kind victim_services serves",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(strstr(text, want[i]) != NULL, "missing:\n%s\nin:\n%s", want[i], text);
    free(text);
    routing_decision_release(&d);
    routing_input_release(&in);
    routing_config_free(cfg);
}
END_TEST

/* ------------------------------------------------- imminent danger first --- */

START_TEST(a_decision_carries_the_instructions_of_its_rules_in_priority_order_once)
{
    struct routing_config *cfg = load(TEST_DEST, TEST_RULES);
    struct routing_input in;
    struct routing_decision d;
    /* danger, minor_sex and minor_again match; the last two share one instruction */
    parse_case(MINOR_SEX "indicators = [\"again\"]; flags = { imminent_danger = true; };", &in);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    ck_assert_uint_eq(d.n_instructions, 2);
    ck_assert_str_eq(d.instructions[0], "CALL 911 NOW");
    ck_assert_str_eq(d.instructions[1],
                     "Tell your supervisor today: a child must be reported within 24 hours");
    routing_decision_release(&d);
    routing_input_release(&in);
    /* a rule without an instruction adds none */
    parse_case(ADULT_CA "flags = { control = true; };", &in);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    ck_assert_uint_eq(d.n_instructions, 0);
    routing_decision_release(&d);
    routing_input_release(&in);
    routing_config_free(cfg);
}
END_TEST

/* Every fixture of tests/data/routing/danger-tests.cfg against the shipped configuration. */
START_TEST(shipped_imminent_danger_is_a_first_step_with_every_duty_in_the_same_decision)
{
    struct routing_config *cfg = load(SHIP_DEST, SHIP_RULES);
    struct routing_test_result res = {0, 0};
    struct collected c = {0};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int rc =
        routing_test_run(cfg, "tests/data/routing/danger-tests.cfg", f, collect_report, &c, &res);
    fclose(f);
    ck_assert_msg(rc == 0, "danger fixtures (rc %d, %d of %d failed):\n%s%s", rc, res.failed,
                  res.fixtures, text, c.n ? c.msg[0] : "");
    ck_assert_int_eq(res.fixtures, 5);
    free(text);
    routing_config_free(cfg);
}
END_TEST

START_TEST(shipped_danger_decision_says_call_911_first)
{
    struct routing_config *cfg = load(SHIP_DEST, SHIP_RULES);
    struct routing_input in;
    struct routing_decision d;
    parse_case(MINOR_SEX "flags = { imminent_danger = true; };", &in);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    ck_assert_uint_ge(d.n_instructions, 1);
    ck_assert_int_eq(strncmp(d.instructions[0], "CALL 911 NOW", 12), 0);
    ck_assert_str_eq(d.referrals[0].destination, "emergency_911");
    routing_decision_release(&d);
    routing_input_release(&in);
    routing_config_free(cfg);
}
END_TEST

/* -------------------------------------------------- summary, for people --- */

/* The summary of a decision on the test configuration as compact JSON; caller frees. */
static char *summary_of(const char *input, const struct routing_referral_now *now, size_t n,
                        char **text)
{
    struct routing_config *cfg = load(TEST_DEST, TEST_RULES);
    struct routing_input in;
    struct routing_decision d;
    size_t len = 0;
    FILE *f = open_memstream(text, &len);
    parse_case(input, &in);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    json_t *s = routing_summary(&d, cfg, now, n);
    ck_assert_ptr_nonnull(s);
    routing_summary_text(s, f);
    fclose(f);
    char *out = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    routing_decision_release(&d);
    routing_input_release(&in);
    routing_config_free(cfg);
    return out;
}

#define HAS(text, part)                                                                            \
    ck_assert_msg(strstr((text), (part)) != NULL, "want '%s' in:\n%s", (part), (text))

START_TEST(summary_gives_each_referral_one_line_with_whom_why_and_when)
{
    char *text = NULL;
    char *j = summary_of(MINOR_SEX "indicators = [\"again\"]; flags = { imminent_danger = true; };",
                         NULL, 0, &text);
    HAS(j, "\"instructions\":[\"CALL 911 NOW\",\"Tell your supervisor today");
    HAS(text, "Referrals:\n"
              "  e911 (emergency, Emergency): queued, due within 0 h; danger (imminent danger: "
              "whatever the consent)\n"
              "  cw_ca (child_welfare, CA child welfare): queued, due within 24 h; child sex "
              "trafficking: report within 24 hours (a mandatory report: whatever the consent)\n"
              "  le_ca (law_enforcement, CA police): queued, due within 24 h; ");
    /* cw_ca again by minor_again, already referred: nothing a person need read */
    ck_assert_ptr_null(strstr(text, "already referred"));
    HAS(text, "Not sent:\n  le_nv (law_enforcement, NV police): wrong jurisdiction: serves NV, "
              "case is in CA\n");
    ck_assert_ptr_null(strstr(text, "Waiting for consent"));
    ck_assert_ptr_null(strstr(text, "CALL 911")); /* the caller raises instructions as alerts */
    free(j);
    free(text);
}
END_TEST

START_TEST(summary_lists_what_waits_for_consent_and_what_was_not_sent)
{
    char *text = NULL;
    char *j = summary_of("age = 30; age_known = true; state = \"NV\"; flags = { control = true; "
                         "}; safe_contact = { do_not_contact = true; };",
                         NULL, 0, &text);
    HAS(j, "\"referrals\":[]");
    HAS(text, "No referral: no rule asks for one.\n");
    HAS(text, "  le_ca (law_enforcement, CA police): wrong jurisdiction: serves CA, case is in "
              "NV\n");
    HAS(text, "  hot (hotline, Hotline): unsafe channel: the person must not be contacted");
    HAS(text, "  no victim_services destination: no destination of kind victim_services serves");
    free(j);
    free(text);
    j = summary_of(ADULT_CA "flags = { control = true; }; consents = ( { id = 3; purpose = "
                            "\"r\"; recipients = [\"le_ca\"]; active = true; } );",
                   NULL, 0, &text);
    HAS(text, "Referrals:\n  le_ca (law_enforcement, CA police): queued, due within 72 h; "
              "le_by_id (with the person's consent)\n");
    HAS(text, "Waiting for consent (ask the person; nothing leaves without it):\n"
              "  hot (hotline, Hotline): due within 72 h once given; offers (no consent for "
              "hotline: no active consent names 'hot' or 'kind:hotline'; pending consent)\n");
    free(j);
    free(text);
}
END_TEST

/* route explain knows where each referral stands now: sent, rejected, ... */
START_TEST(summary_shows_where_each_referral_stands_now)
{
    static const struct routing_referral_now now[] = {
        {"cw_ca", "sent", "2026-11-21 10:00", "2026-11-20 10:05", NULL},
        {"le_ca", "rejected", "2026-11-21 10:00", NULL, "not our jurisdiction"},
    };
    char *text = NULL;
    char *j = summary_of(MINOR_SEX, now, 2, &text);
    HAS(text, "  cw_ca (child_welfare, CA child welfare): sent 2026-11-20 10:05, due 2026-11-21 "
              "10:00; child sex trafficking: report within 24 hours (a mandatory report: "
              "whatever the consent)\n");
    HAS(text, "Not sent:\n  le_ca (law_enforcement, CA police): rejected: child sex trafficking: "
              "report within 24 hours (not our jurisdiction)\n");
    HAS(j, "\"sent\":\"2026-11-20 10:05\"");
    free(j);
    free(text);
}
END_TEST

/* ------------------------------------------------------ JSON round trips --- */

START_TEST(decision_json_round_trip)
{
    struct routing_config *cfg = load(TEST_DEST, TEST_RULES);
    struct routing_input in;
    struct routing_decision d, back;
    char err[300];
    parse_case(ADULT_CA "flags = { control = true; }; consents = ( { id = 3; purpose = \"r\"; "
                        "recipients = [\"le_ca\"]; active = true; } ); safe_contact = { "
                        "safe_channels = [\"email\"]; };",
               &in);
    ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
    json_t *j = routing_decision_to_json(&d);
    ck_assert_ptr_nonnull(j);
    char *s = json_dumps(j, JSON_COMPACT);
    json_t *j2 = json_loads(s, 0, NULL);
    ck_assert_int_eq(routing_decision_from_json(j2, &back, err, sizeof(err)), 0);
    json_t *j3 = routing_decision_to_json(&back);
    ck_assert(json_equal(j, j3));
    ck_assert_int_eq(routing_decision_diff(&d, &back, NULL), 0);
    ck_assert_int_eq(back.referrals[0].consent_id, 3);
    ck_assert_uint_eq(back.referrals[0].fields, d.referrals[0].fields);
    ck_assert_str_eq(back.rules[6].note, "ends evaluation");
    /* Stored as two columns: rules and outcome alone read back too. */
    json_t *parts = json_pack("{s:O,s:O}", "rules", json_object_get(j, "rules"), "outcome",
                              json_object_get(j, "outcome"));
    routing_decision_release(&back);
    ck_assert_int_eq(routing_decision_from_json(parts, &back, err, sizeof(err)), 0);
    ck_assert_uint_eq(back.n_referrals, d.n_referrals);
    json_decref(parts);
    free(s);
    json_decref(j);
    json_decref(j2);
    json_decref(j3);
    routing_decision_release(&back);
    routing_decision_release(&d);
    routing_input_release(&in);
    routing_config_free(cfg);
}
END_TEST

static const struct {
    const char *json;
    const char *err;
} bad_decisions[] = {
    {"{\"rules\": [], \"outcome\": {\"referrals\": []}}",
     "decision: Object item not found: not_used"},
    {"{\"rules\": [], \"outcome\": {\"referrals\": [], \"not_used\": [{\"destination\": null, "
     "\"kind\": \"police\", \"rule\": \"r\", \"reason\": \"x\"}]}}",
     "outcome.not_used[0]: unknown kind 'police'"},
    {"{\"rules\": [{\"name\": \"a\", \"priority\": 1, \"evaluated\": true, \"matched\": 1, "
     "\"stopped\": false, \"trace\": \"\"}], \"outcome\": {\"referrals\": [], \"not_used\": []}}",
     "rules[0]: Expected true or false, got integer"},
    {"{\"rules\": [], \"outcome\": {\"instructions\": \"CALL 911\", \"referrals\": [], "
     "\"not_used\": []}}",
     "outcome.instructions must be an array"},
    {"{\"rules\": [], \"outcome\": {\"instructions\": [911], \"referrals\": [], "
     "\"not_used\": []}}",
     "outcome.instructions[0] must be a string"},
};

/* Decisions stored before instructions and notes existed still read back. */
START_TEST(decision_stored_before_instructions_reads_back)
{
    struct routing_decision d;
    char err[300];
    json_t *j = json_loads("{\"rules\": [{\"name\": \"a\", \"priority\": 1, \"evaluated\": "
                           "true, \"matched\": true, \"stopped\": true, \"trace\": \"x\"}], "
                           "\"outcome\": {\"referrals\": [], \"not_used\": []}}",
                           0, NULL);
    ck_assert_int_eq(routing_decision_from_json(j, &d, err, sizeof(err)), 0);
    ck_assert_uint_eq(d.n_instructions, 0);
    ck_assert_ptr_null(d.rules[0].note);
    routing_decision_release(&d);
    json_decref(j);
}
END_TEST

START_TEST(decision_from_json_refuses_what_it_cannot_read)
{
    struct routing_decision d;
    char err[300];
    json_t *j = json_loads(bad_decisions[_i].json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(routing_decision_from_json(j, &d, err, sizeof(err)), -1);
    ck_assert_str_eq(err, bad_decisions[_i].err);
    routing_decision_release(&d);
    json_decref(j);
}
END_TEST

START_TEST(input_json_round_trip)
{
    struct routing_input in, back;
    const char *const rec[] = {"le_ca", "kind:hotline"};
    char err[300];
    routing_input_init(&in);
    in.case_id = 42;
    in.age = 16;
    in.age_estimated = 1;
    snprintf(in.gender, sizeof(in.gender), "nonbinary");
    snprintf(in.state, sizeof(in.state), "NV");
    snprintf(in.county, sizeof(in.county), "Washoe");
    in.foreign_national = in.runaway_return = in.jj_history = 1;
    in.runaway_episodes = 4;
    in.screening.present = 1;
    in.screening.id = 9;
    snprintf(in.screening.instrument, sizeof(in.screening.instrument), "staff_observation");
    in.screening.version = 2;
    snprintf(in.screening.result, sizeof(in.screening.result), "possible");
    snprintf(in.screening.band, sizeof(in.screening.band), "possible_concern");
    in.screening.score = 5.5;
    in.screening.stopped = 1;
    in.domain_score[INSTRUMENT_DOMAIN_CONTROL] = 2;
    in.domain_score[INSTRUMENT_DOMAIN_HEALTH] = 0.5;
    ck_assert_int_eq(routing_input_add_indicator(&in, "told_staff"), 0);
    ck_assert_int_eq(routing_input_add_consent(&in, 3, "referral", rec, 2, 1), 0);
    ck_assert_int_eq(routing_input_add_consent(&in, 4, "medical", rec, 1, 0), 0);
    ck_assert_int_eq(routing_input_add_safe_channel(&in, "email"), 0);
    in.safe_contact.trafficker_controls_phone = 1;

    json_t *j = routing_input_to_json(&in);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(routing_input_from_json(j, &back, err, sizeof(err)), 0);
    json_t *j2 = routing_input_to_json(&back);
    ck_assert_msg(json_equal(j, j2), "round trip differs");
    ck_assert_int_eq(back.age, 16);
    ck_assert_str_eq(back.county, "Washoe");
    ck_assert_uint_eq(back.consents[0].n_recipients, 2);
    ck_assert_str_eq(back.consents[0].recipients[1], "kind:hotline");
    ck_assert(back.domain_score[INSTRUMENT_DOMAIN_HEALTH] == 0.5);
    json_decref(j);
    json_decref(j2);
    routing_input_release(&back);
    /* Unknown age travels as null and comes back as unknown. */
    in.age = -1;
    in.age_estimated = 0;
    j = routing_input_to_json(&in);
    ck_assert(json_is_null(json_object_get(j, "age")));
    ck_assert_int_eq(routing_input_from_json(j, &back, err, sizeof(err)), 0);
    ck_assert_int_eq(back.age, -1);
    ck_assert_str_eq(routing_input_pathway(&back), "minor_unknown_age");
    json_decref(j);
    routing_input_release(&back);
    routing_input_release(&in);
}
END_TEST

static const struct {
    const char *json;
    const char *err;
} bad_inputs[] = {
    {"{\"agee\": 3}", "input: unknown member 'agee'"},
    {"{\"age\": \"ten\"}", "age: must be an integer"},
    {"{\"age\": 200, \"age_known\": true}", "age: must be between 0 and 130 (got 200)"},
    {"{\"age\": 20}", "age: say whether it is known (age_known) or estimated (age_estimated)"},
    {"{\"state\": \"California\"}", "state: is longer than 7 characters"},
    {"{\"state\": \"nv\"}", "state: 'nv' is not a two-letter state code in capitals"},
    {"{\"flags\": {\"danger\": true}}", "flags: unknown member 'danger'"},
    {"{\"screening\": {\"instrument\": \"q\", \"result\": \"maybe\"}}",
     "screening.result: unknown result 'maybe' (expected one of negative, possible, positive, "
     "incomplete)"},
    {"{\"indicators\": [\"x\"]}", "indicators: needs a 'screening'"},
    {"{\"consents\": [{\"id\": 1, \"purpose\": \"p\", \"active\": true, \"recipients\": "
     "[\"kind:police\"]}]}",
     "consents[0]: unknown destination kind 'police'"},
    {"{\"safe_contact\": {\"safe_channels\": [1]}}",
     "safe_contact.safe_channels: must hold strings"},
};

START_TEST(input_from_json_names_the_bad_member)
{
    struct routing_input in;
    char err[300];
    json_t *j = json_loads(bad_inputs[_i].json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(routing_input_from_json(j, &in, err, sizeof(err)), -1);
    ck_assert_str_eq(err, bad_inputs[_i].err);
    routing_input_release(&in);
    json_decref(j);
}
END_TEST

/* ----------------------------------------------------------------- diff --- */

static const struct {
    const char *before, *after;
    int n;
    const char *line;
} diff_cases[] = {
    {ADULT_CA "flags = { control = true; };", ADULT_CA "flags = { control = true; };", 0, ""},
    {ADULT_CA "flags = { control = true; };",
     ADULT_CA "flags = { control = true; }; consents = ( { id = 3; purpose = \"r\"; recipients = "
              "[\"le_ca\", \"hot\"]; active = true; } );",
     2, "~ le_ca: state pending_consent -> queued; consent 0 -> 3\n"},
    {ADULT_CA "flags = { control = true; };",
     ADULT_CA "flags = { control = true; }; safe_contact = { do_not_contact = true; };", 2,
     "- hot (hotline): rule 'offers', consent, pending_consent, due 72h\n"},
    {"age = 30; age_known = true; state = \"NV\"; flags = { control = true; };",
     ADULT_CA "flags = { control = true; };", 2,
     "+ le_ca (law_enforcement): rule 'le_by_id', consent, pending_consent, due 72h\n"},
    /* an instruction that comes or goes is a change too */
    {MINOR_SEX, MINOR_SEX "flags = { imminent_danger = true; };", 2,
     "+ instruction: CALL 911 NOW\n"},
    /* four referral lines and "- instruction: Tell your supervisor today: ..." */
    {MINOR_SEX, ADULT_CA "flags = { control = true; };", 5,
     "~ le_ca: rule minor_sex -> le_by_id; basis mandatory_report -> consent; urgency 24h -> "
     "72h; due 24h -> 72h; state queued -> pending_consent\n"},
};

START_TEST(diff_counts_added_removed_and_changed_referrals)
{
    struct routing_config *cfg = load(TEST_DEST, TEST_RULES);
    struct routing_input a, b;
    struct routing_decision da, db;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    parse_case(diff_cases[_i].before, &a);
    parse_case(diff_cases[_i].after, &b);
    ck_assert_int_eq(routing_decide(cfg, &a, &da), 0);
    ck_assert_int_eq(routing_decide(cfg, &b, &db), 0);
    ck_assert_int_eq(routing_decision_diff(&da, &db, f), diff_cases[_i].n);
    fclose(f);
    ck_assert_msg(strstr(text, diff_cases[_i].line) != NULL, "missing '%s' in:\n%s",
                  diff_cases[_i].line, text);
    free(text);
    routing_decision_release(&da);
    routing_decision_release(&db);
    routing_input_release(&a);
    routing_input_release(&b);
    routing_config_free(cfg);
}
END_TEST

/* ----------------------------------------------------------- vocabulary --- */

START_TEST(every_name_looks_up_to_itself)
{
    for (int i = 0; i < ROUTING_KIND__COUNT; i++)
        ck_assert_int_eq(routing_kind_lookup(routing_kind_name((enum routing_kind)i)), i);
    for (int i = 0; i < ROUTING_CHANNEL__COUNT; i++)
        ck_assert_int_eq(
            routing_channel_type_lookup(routing_channel_type_name((enum routing_channel_type)i)),
            i);
    for (int i = 0; i < ROUTING_BASIS__COUNT; i++)
        ck_assert_int_eq(routing_basis_lookup(routing_basis_name((enum routing_basis)i)), i);
    for (int i = 0; i < ROUTING_URGENCY__COUNT; i++)
        ck_assert_int_eq(routing_urgency_lookup(routing_urgency_name((enum routing_urgency)i)), i);
    for (int i = 0; i < ROUTING_STATE__COUNT; i++)
        ck_assert_int_eq(routing_state_lookup(routing_state_name((enum routing_state)i)), i);
    for (int i = 0; i < ROUTING_FIELD__COUNT; i++)
        ck_assert_int_eq(routing_field_lookup(routing_field_name((enum routing_field)i)), i);
    ck_assert_ptr_null(routing_kind_name(ROUTING_KIND__COUNT));
    ck_assert_int_eq(routing_kind_lookup("police"), -1);
    ck_assert_int_eq(routing_urgency_max_hours(ROUTING_URGENCY_24H), 24);
    json_t *a = routing_fields_to_json((1u << ROUTING_FIELD_AGE) | (1u << ROUTING_FIELD_CASE_ID));
    char *s = json_dumps(a, JSON_COMPACT);
    ck_assert_str_eq(s, "[\"case_id\",\"age\"]");
    free(s);
    json_decref(a);
}
END_TEST

static Suite *routing_suite(void)
{
    Suite *s = suite_create("routing");
    TCase *tc = tcase_create("engine");
    tcase_add_loop_test(tc, engine_case, 0, sizeof(engine_cases) / sizeof(engine_cases[0]));
    tcase_add_test(tc, rules_run_in_priority_order_and_a_stop_skips_only_the_offers_after_it);
    tcase_add_test(tc, explain_names_false_subconditions_and_reasons);
    tcase_add_loop_test(tc, diff_counts_added_removed_and_changed_referrals, 0,
                        sizeof(diff_cases) / sizeof(diff_cases[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("danger");
    tcase_add_test(tc, a_decision_carries_the_instructions_of_its_rules_in_priority_order_once);
    tcase_add_test(tc,
                   shipped_imminent_danger_is_a_first_step_with_every_duty_in_the_same_decision);
    tcase_add_test(tc, shipped_danger_decision_says_call_911_first);
    suite_add_tcase(s, tc);
    tc = tcase_create("summary");
    tcase_add_test(tc, summary_gives_each_referral_one_line_with_whom_why_and_when);
    tcase_add_test(tc, summary_lists_what_waits_for_consent_and_what_was_not_sent);
    tcase_add_test(tc, summary_shows_where_each_referral_stands_now);
    suite_add_tcase(s, tc);
    tc = tcase_create("domain");
    tcase_add_loop_test(tc, domain_case, 0, sizeof(domain_cases) / sizeof(domain_cases[0]));
    tcase_add_test(tc, rule6_referral_carries_only_the_destination_fields);
    suite_add_tcase(s, tc);
    tc = tcase_create("json");
    tcase_add_test(tc, decision_json_round_trip);
    tcase_add_loop_test(tc, decision_from_json_refuses_what_it_cannot_read, 0,
                        sizeof(bad_decisions) / sizeof(bad_decisions[0]));
    tcase_add_test(tc, decision_stored_before_instructions_reads_back);
    tcase_add_test(tc, input_json_round_trip);
    tcase_add_loop_test(tc, input_from_json_names_the_bad_member, 0,
                        sizeof(bad_inputs) / sizeof(bad_inputs[0]));
    tcase_add_test(tc, every_name_looks_up_to_itself);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(routing_suite())
