/*
 * check_routing_config.c: loading destinations.cfg and routing.cfg (every
 * problem with its exact file:line[:col] message, over a corpus of broken
 * files), the shipped configuration and its fixtures, the fixture runner's
 * report, and the `routing test` / `route what-if` verbs through a fake host
 * vtable and the host's own argument parser (they are registered without a
 * database, CH_CMD_NO_DB, and show the instructions first). Pure: no PostgreSQL.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "args.h"
#include "check_main.h"
#include "cli/cmd_routing.h"
#include "report_collect.h"
#include "routing/routing.h"
#include "routing/routing_test.h"
#include "routing/webhook_url.h"

#define B "tests/data/broken/routing/"
#define SHIP "conf/trafficking/"

struct broken_case {
    const char *dest, *rules;
    int with_instruments;
    const char *want[COLLECT_MAX];
};

static const struct broken_case broken[] = {
    {B "dest_unknown_kind.cfg",
     B "ok_routing.cfg",
     0,
     {B "dest_unknown_kind.cfg:2: destination 'le': unknown destination kind 'police' (expected "
        "one of emergency, law_enforcement, child_welfare, task_force, hotline, hhs_otip, "
        "forensic_interview, ngo_shelter, legal_aid, medical, victim_services, assessment, "
        "adult_forensic_interview, labour_investigation, missing_child, young_adult_services)",
      NULL}},
    {B "dest_fields.cfg",
     B "ok_routing.cfg",
     0,
     {B "dest_fields.cfg:4: destination 'le': fields: unknown field 'ssn' (expected one of "
        "case_id, agency, person_name, date_of_birth, age, age_basis, gender, language, "
        "interpreter_needed, nationality_status, state, county, location, screening_instrument, "
        "screening_result, screening_band, indicators, trafficking_type, imminent_danger, "
        "urgency, basis, safe_contact, caseworker, caseworker_phone)",
      B "dest_fields.cfg:4: destination 'le': fields: 'case_id' is listed twice",
      B "dest_fields.cfg:7: destination 'cw': 'fields' needs at least 1 entry", NULL}},
    {B "dest_channels.cfg",
     B "ok_routing.cfg",
     0,
     {B "dest_channels.cfg:3: destination 'le': channel: unknown channel type 'email' (expected "
        "one of webhook, command, spool)",
      B "dest_channels.cfg:6: destination 'cw': channel: a webhook needs exactly one of "
        "'secret' and 'secret_file'",
      B "dest_channels.cfg:7: destination 'cw': channel: url 'ftp://cw.example.org' must start "
        "with https:// (http:// only to a loopback address)",
      B "dest_channels.cfg:12: destination 'hot': channel: unknown member 'url'",
      B "dest_channels.cfg:15: destination 'vs': channel: a webhook needs exactly one of "
        "'secret' and 'secret_file'",
      B "dest_channels.cfg:19: destination 'cmd': channel: missing member 'command'", NULL}},
    {B "dest_webhooks.cfg",
     B "ok_routing.cfg",
     0,
     {B "dest_webhooks.cfg:5: destination 'le': channel: url 'http://police.example.org/in' must "
        "use https:// (plain http:// only to a loopback address: 127.0.0.0/8, [::1], localhost)",
      B "dest_webhooks.cfg:10: destination 'cw': channel: a literal 'secret' is only for a "
        "loopback url (tests, demos): name a 'secret_file' of mode 0600 or 0640 instead",
      B "dest_webhooks.cfg:14: destination 'a': channel: url 'http://127.0.0.1.example.org/in' "
        "must use https:// (plain http:// only to a loopback address: 127.0.0.0/8, [::1], "
        "localhost)",
      B "dest_webhooks.cfg:14: destination 'a': channel: a literal 'secret' is only for a "
        "loopback url (tests, demos): name a 'secret_file' of mode 0600 or 0640 instead",
      B "dest_webhooks.cfg:18: destination 'b': channel: mutual TLS needs both 'client_cert' and "
        "'client_key'",
      NULL}},
    {B "dest_ids_and_escalation.cfg",
     B "ok_routing.cfg",
     0,
     {B "dest_ids_and_escalation.cfg:4: destination 'le': escalate_to: unknown destination "
        "'chief'",
      B "dest_ids_and_escalation.cfg:7: destination 'cw': escalate_to: a destination cannot "
        "escalate to itself",
      B "dest_ids_and_escalation.cfg:8: duplicate destination id 'le' (first at line 2)",
      B "dest_ids_and_escalation.cfg:11: destination 4: 'id' must be lowercase letters, digits "
        "and '_', starting with a letter (got 'Bad-Id')",
      NULL}},
    {B "dest_escalation_cycle.cfg",
     B "ok_routing.cfg",
     0,
     {B "dest_escalation_cycle.cfg:4: destination 'le': escalate_to: escalation goes round in a "
        "cycle",
      B "dest_escalation_cycle.cfg:7: destination 'cw': escalate_to: escalation goes round in a "
        "cycle",
      NULL}},
    {B "dest_jurisdictions.cfg",
     B "ok_routing.cfg",
     0,
     {B "dest_jurisdictions.cfg:2: destination 'le': jurisdiction: needs 'states' or 'any = "
        "true'",
      B "dest_jurisdictions.cfg:6: destination 'cw': jurisdiction: 'any = true' excludes "
        "'states' and 'counties'",
      B "dest_jurisdictions.cfg:10: destination 'vs': jurisdiction: unknown member 'county'",
      B "dest_jurisdictions.cfg:10: destination 'vs': jurisdiction: 'California' is not a "
        "two-letter state code in capitals",
      B "dest_jurisdictions.cfg:12: destination 'vs': 'ack_sla_hours' must be between 1 and 720 "
        "(got 0)",
      NULL}},
    {B "dest_missing_members.cfg",
     B "ok_routing.cfg",
     0,
     {B "dest_missing_members.cfg:5: destination 'cw': missing member 'name'",
      B "dest_missing_members.cfg:5: destination 'cw': missing member 'channel'",
      B "dest_missing_members.cfg:5: destination 'cw': missing member 'fields'",
      B "dest_missing_members.cfg:5: destination 'cw': missing member 'contacts_person'",
      B "dest_missing_members.cfg:5: destination 'cw': missing member 'ack_sla_hours'",
      B "dest_missing_members.cfg:5: destination 'cw': missing member 'escalate_to'",
      B "dest_missing_members.cfg:6: destination 'cw': 'needs_consent' must be true or false",
      NULL}},
    {B "dest_syntax.cfg", B "ok_routing.cfg", 0, {B "dest_syntax.cfg:3: syntax error", NULL}},
    {B "no_such_file.cfg",
     B "no_such_rules.cfg",
     0,
     {B "no_such_file.cfg: cannot open: No such file or directory",
      B "no_such_rules.cfg: cannot open: No such file or directory", NULL}},
    {B "ok_destinations.cfg",
     B "rules_priorities.cfg",
     0,
     {B "rules_priorities.cfg:4: rule 'b': priority 10 is also the priority of rule 'a' (line "
        "2): every rule needs its own",
      B "rules_priorities.cfg:6: duplicate rule name 'a' (first at line 2)",
      B "rules_priorities.cfg:6: rule 'a': 'priority' must be between 1 and 1000000 (got 0)",
      NULL}},
    {B "ok_destinations.cfg",
     B "rules_refer.cfg",
     0,
     {B "rules_refer.cfg:3: rule 'a': refer: unknown destination 'police' (a destination id, or "
        "'kind:KIND')",
      B "rules_refer.cfg:3: rule 'a': refer: unknown destination kind 'cops' in 'kind:cops'",
      B "rules_refer.cfg:3: rule 'a': refer: no destination of kind 'hotline' is configured",
      B "rules_refer.cfg:3: rule 'a': refer: 'le' is listed twice",
      B "rules_refer.cfg:5: rule 'b': 'refer' needs at least 1 entry", NULL}},
    {B "ok_destinations.cfg",
     B "rules_expressions.cfg",
     1,
     {B "rules_expressions.cfg:2:10: rule 'syntax': when: unexpected end of expression",
      B "rules_expressions.cfg:4:11: rule 'unknown_name': when: unknown name 'foreign_natonal'",
      B "rules_expressions.cfg:6:1: rule 'unknown_function': when: unknown function 'indicatr' "
        "(expected one of indicator, domain_score, consent, safe_channel, evidence)",
      B "rules_expressions.cfg:8:11: rule 'bad_domain': when: domain_score: unknown domain "
        "'contrl' (expected one of control, recruitment, conditions, sex_trafficking, labour, "
        "minors, health)",
      B "rules_expressions.cfg:10:1: rule 'not_bool': when: expression must be true/false, "
        "found number",
      B "rules_expressions.cfg:12:1: rule 'bad_item': when: indicator: no item 'no_such_item' "
        "in any loaded instrument",
      NULL}},
    {B "ok_destinations.cfg",
     B "rules_basis_urgency.cfg",
     0,
     {B "rules_basis_urgency.cfg:2: rule 'consent_to_legal_only': refer: destination 'cw' has "
        "needs_consent = false: refer it on basis 'mandatory_report' or 'imminent_danger', not "
        "'consent'",
      B "rules_basis_urgency.cfg:5: rule 'too_late': due_hours 48 is longer than urgency '24h' "
        "allows (24)",
      B "rules_basis_urgency.cfg:7: rule 'bad_names': unknown basis 'law' (expected one of "
        "consent, mandatory_report, imminent_danger)",
      B "rules_basis_urgency.cfg:7: rule 'bad_names': unknown urgency 'soon' (expected one of "
        "immediate, 24h, 72h, routine)",
      B "rules_basis_urgency.cfg:10: rule 'purpose_needs_consent': 'purpose' applies only to "
        "basis 'consent'",
      B "rules_basis_urgency.cfg:11: rule 'typo': missing member 'stop'",
      B "rules_basis_urgency.cfg:12: rule 'typo': unknown member 'stopp'", NULL}},
    {B "ok_destinations.cfg",
     B "rules_instruction.cfg",
     0,
     {B "rules_instruction.cfg:5: rule 'two_lines': instruction has a control character (byte "
        "10): it must be one plain line",
      B "rules_instruction.cfg:8: rule 'too_long': instruction is 319 bytes long: at most 300 "
        "fit on a screen",
      B "rules_instruction.cfg:11: rule 'blank': instruction is empty: say what to do, or leave "
        "it out",
      B "rules_instruction.cfg:14: rule 'not_text': 'instruction' must be a string", NULL}},
    {B "ok_destinations.cfg",
     B "rules_empty.cfg",
     0,
     {B "rules_empty.cfg:2: 'rules' is empty", NULL}},
    {B "ok_destinations.cfg",
     B "rules_include.cfg",
     0,
     {B "rules_include.cfg:2: @include is not allowed: a definition must be one self-contained "
        "file",
      NULL}},
    /* Both files broken: one run reports both, the destinations first. */
    {B "dest_fields.cfg",
     B "rules_priorities.cfg",
     0,
     {B "dest_fields.cfg:4: destination 'le': fields: unknown field 'ssn' (expected one of "
        "case_id, agency, person_name, date_of_birth, age, age_basis, gender, language, "
        "interpreter_needed, nationality_status, state, county, location, screening_instrument, "
        "screening_result, screening_band, indicators, trafficking_type, imminent_danger, "
        "urgency, basis, safe_contact, caseworker, caseworker_phone)",
      B "dest_fields.cfg:4: destination 'le': fields: 'case_id' is listed twice",
      B "dest_fields.cfg:7: destination 'cw': 'fields' needs at least 1 entry",
      B "rules_priorities.cfg:4: rule 'b': priority 10 is also the priority of rule 'a' (line "
        "2): every rule needs its own",
      B "rules_priorities.cfg:6: duplicate rule name 'a' (first at line 2)",
      B "rules_priorities.cfg:6: rule 'a': 'priority' must be between 1 and 1000000 (got 0)",
      NULL}},
};

START_TEST(broken_file_reports_exact_messages)
{
    const struct broken_case *bc = &broken[_i];
    struct collected c = {0};
    struct instrument_set *set = NULL;
    struct routing_config *cfg = (struct routing_config *)1;
    if (bc->with_instruments)
        ck_assert_int_eq(instrument_set_load("tests/data/instruments", NULL, NULL, &set), 0);
    ck_assert_int_eq(
        routing_config_load_checked(bc->dest, bc->rules, set, collect_report, &c, &cfg), -1);
    ck_assert_ptr_null(cfg);
    COLLECT_ASSERT(&c, bc->want);
    instrument_set_free(set);
}
END_TEST

/* ------------------------------------------------------------- shipped --- */

static struct routing_config *load_shipped(struct instrument_set **set)
{
    struct collected c = {0};
    struct routing_config *cfg = NULL;
    ck_assert_int_eq(instrument_set_load(SHIP "instruments", collect_report, &c, set), 0);
    int rc = routing_config_load_checked(SHIP "destinations.cfg", SHIP "routing.cfg", *set,
                                         collect_report, &c, &cfg);
    ck_assert_msg(rc == 0 && c.n == 0, "shipped routing does not load: %s", c.n ? c.msg[0] : "");
    return cfg;
}

START_TEST(shipped_configuration_loads_sorted_with_zero_errors)
{
    struct instrument_set *set = NULL;
    struct routing_config *cfg = load_shipped(&set);
    ck_assert_uint_ge(cfg->n_rules, 8);
    for (size_t i = 1; i < cfg->n_rules; i++)
        ck_assert_int_lt(cfg->rules[i - 1].priority, cfg->rules[i].priority);
    ck_assert_str_eq(cfg->rules[0].name, "imminent_danger");
    /* Danger is the first step, not a stop, and tells the person what to do at once. */
    ck_assert(!cfg->rules[0].stop);
    ck_assert_ptr_nonnull(cfg->rules[0].instruction);
    ck_assert_int_eq(strncmp(cfg->rules[0].instruction, "CALL 911 NOW", 12), 0);
    /* The destinations the law needs are all there, with the consent rule they imply. */
    static const char *const ids[] = {"emergency_911", "le_ca",         "le_nv", "cw_ca",
                                      "cw_nv",         "hhs_otip",      "nhth",  "fic_ca",
                                      "vs_ca",         "legal_aid_west"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        ck_assert_msg(routing_config_destination(cfg, ids[i]) >= 0, "no destination %s", ids[i]);
    const struct routing_destination *nhth =
        &cfg->destinations[routing_config_destination(cfg, "nhth")];
    ck_assert(nhth->contacts_person && nhth->jurisdiction.any);
    ck_assert_int_eq(nhth->kind, ROUTING_KIND_HOTLINE);
    const struct routing_destination *le_nv =
        &cfg->destinations[routing_config_destination(cfg, "le_nv")];
    ck_assert_int_eq(le_nv->channel.type, ROUTING_CHANNEL_WEBHOOK);
    /* The shipped configuration names a secret file, never holds a secret. */
    ck_assert_ptr_null(le_nv->channel.secret);
    ck_assert_str_eq(le_nv->channel.secret_file, SHIP "../../var/secrets/le_nv_webhook");
    /* A relative spool folder is taken from the destinations file's folder. */
    const struct routing_destination *cw =
        &cfg->destinations[routing_config_destination(cfg, "cw_ca")];
    ck_assert_str_eq(cw->channel.spool_dir, SHIP "../../var/spool/cw_ca");
    ck_assert_int_eq(cfg->destinations[routing_config_destination(cfg, "le_ca")].escalate_to,
                     routing_config_destination(cfg, "task_force_ca"));
    /* HHS receives the fewest fields of all. */
    const struct routing_destination *hhs =
        &cfg->destinations[routing_config_destination(cfg, "hhs_otip")];
    ck_assert(!(hhs->fields & (1u << ROUTING_FIELD_PERSON_NAME)));
    routing_config_free(cfg);
    instrument_set_free(set);
}
END_TEST

/*
 * Plain http only to this machine, a literal secret only with it; https with
 * a secret file and a client certificate (paths taken from the file's folder).
 */
START_TEST(loopback_http_and_https_webhooks_load)
{
    struct collected c = {0};
    struct routing_config *cfg = NULL;
    int rc = routing_config_load("tests/data/routing/destinations_webhooks.cfg", B "ok_routing.cfg",
                                 collect_report, &c, &cfg);
    ck_assert_msg(rc == 0 && c.n == 0, "does not load: %s", c.n ? c.msg[0] : "");
    const struct routing_channel *le =
        &cfg->destinations[routing_config_destination(cfg, "le")].channel;
    ck_assert_str_eq(le->secret_file, "tests/data/routing/keys/le");
    ck_assert_str_eq(le->client_cert, "tests/data/routing/tls/casehost.pem");
    ck_assert_str_eq(le->client_key, "/etc/casehost/tls/key.pem");
    ck_assert_str_eq(cfg->destinations[routing_config_destination(cfg, "cw")].channel.secret,
                     "demo");
    routing_config_free(cfg);
}
END_TEST

static const struct {
    const char *url;
    int loopback;
    int ok; /* may carry referrals */
} urls[] = {
    {"https://referrals.example.org/in", 0, 1},
    {"HTTPS://referrals.example.org", 0, 1},
    {"http://referrals.example.org/in", 0, 0},
    {"http://127.0.0.1:8080/in", 1, 1},
    {"http://127.255.3.4/", 1, 1},
    {"http://localhost/in", 1, 1},
    {"http://LOCALHOST:80", 1, 1},
    {"http://[::1]:9/in", 1, 1},
    {"http://[0:0:0:0:0:0:0:1]/", 1, 1},
    {"http://user:pw@127.0.0.1/in", 1, 1},
    {"http://127.0.0.1@evil.example.org/", 0, 0},
    {"http://127.0.0.1.example.org/", 0, 0},
    {"http://localhost.example.org/", 0, 0},
    {"http://128.0.0.1/", 0, 0},
    {"http://127.0.0.256/", 0, 0},
    {"http://127.1/", 0, 0},
    {"http://[::2]/", 0, 0},
    {"http://[1::]/", 0, 0},
    {"http://[::1/", 0, 0},
    {"http://10.0.0.1/", 0, 0},
    {"ftp://127.0.0.1/", 0, 0},
    {"https://", 0, 0},
    {"", 0, 0},
};

START_TEST(webhook_url_is_https_or_loopback)
{
    ck_assert_msg(routing_url_is_loopback(urls[_i].url) == urls[_i].loopback, "%s", urls[_i].url);
    ck_assert_msg((routing_webhook_url_problem(urls[_i].url) == NULL) == urls[_i].ok, "%s",
                  urls[_i].url);
}
END_TEST

/* The hash is SHA-256 over the destinations text, a NUL, and the routing text. */
static void expected_hash(const char *a, const char *b, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    char *text[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    const char *paths[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(paths[i], "rb");
        ck_assert_ptr_nonnull(f);
        text[i] = malloc(1 << 20);
        len[i] = fread(text[i], 1, 1 << 20, f);
        fclose(f);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, text[0], len[0]);
    EVP_DigestUpdate(ctx, "", 1);
    EVP_DigestUpdate(ctx, text[1], len[1]);
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[64] = '\0';
    free(text[0]);
    free(text[1]);
}

START_TEST(hash_covers_both_files)
{
    struct routing_config *a = NULL, *b = NULL;
    char want[65];
    ck_assert_int_eq(
        routing_config_load(B "ok_destinations.cfg", B "ok_routing.cfg", NULL, NULL, &a), 0);
    ck_assert_int_eq(
        routing_config_load(SHIP "destinations.cfg", SHIP "routing.cfg", NULL, NULL, &b), 0);
    expected_hash(B "ok_destinations.cfg", B "ok_routing.cfg", want);
    ck_assert_str_eq(a->hash, want);
    ck_assert_str_ne(a->hash, b->hash);
    /* Paths resolve against the destinations folder; absolute ones stay. */
    ck_assert_str_eq(a->destinations[0].channel.spool_dir, B "spool/le");
    ck_assert_str_eq(a->destinations[1].channel.secret_file, B "keys/cw");
    ck_assert_int_eq(a->destinations[1].escalate_to, 0);
    routing_config_free(a);
    routing_config_free(b);
}
END_TEST

START_TEST(shipped_fixtures_pass_and_cover_every_rule)
{
    struct instrument_set *set = NULL;
    struct routing_config *cfg = load_shipped(&set);
    struct routing_test_result res;
    struct collected c = {0};
    ck_assert_int_eq(
        routing_test_run(cfg, SHIP "routing-tests.cfg", stderr, collect_report, &c, &res), 0);
    ck_assert_int_eq(c.n, 0);
    ck_assert_int_ge(res.fixtures, 60);
    ck_assert_int_eq(res.failed, 0);

    /* Every shipped rule matches in at least one fixture. */
    config_t f;
    int *hits = calloc(cfg->n_rules, sizeof(*hits));
    config_init(&f);
    ck_assert_int_eq(config_read_file(&f, SHIP "routing-tests.cfg"), CONFIG_TRUE);
    const config_setting_t *list = config_lookup(&f, "fixtures");
    for (int i = 0; i < config_setting_length(list); i++) {
        struct cfgread r = {.file = "fixtures"};
        struct routing_input in;
        struct routing_decision d;
        const config_setting_t *g =
            config_setting_get_member(config_setting_get_elem(list, i), "case");
        ck_assert_int_eq(routing_input_from_setting(&r, g, &in), 0);
        cfgread_flush(&r);
        ck_assert_int_eq(routing_decide(cfg, &in, &d), 0);
        for (size_t k = 0; k < d.n_rules; k++)
            hits[k] += d.rules[k].matched;
        routing_decision_release(&d);
        routing_input_release(&in);
    }
    for (size_t k = 0; k < cfg->n_rules; k++)
        ck_assert_msg(hits[k] > 0, "no fixture matches rule '%s'", cfg->rules[k].name);
    free(hits);
    config_destroy(&f);
    routing_config_free(cfg);
    instrument_set_free(set);
}
END_TEST

/*
 * The shipped policy reads evidence, never domain scores (they stay for
 * reporting), and no consent rule, so no adult rule, can reach a children's
 * advocacy centre: those take no consent-based referral.
 */
START_TEST(shipped_policy_reads_evidence_not_domain_scores)
{
    struct instrument_set *set = NULL;
    struct routing_config *cfg = load_shipped(&set);
    int evidence = 0;
    size_t n = facts_resolver_slot_count(&cfg->resolver);
    for (size_t slot = FACTS__COUNT; slot < n; slot++)
        ck_assert_int_ne(facts_resolver_call(&cfg->resolver, slot)->fn, ROUTING__FN_DOMAIN_SCORE);
    for (size_t i = 0; i < cfg->n_rules; i++)
        for (int slot = FACTS_EVIDENCE_FIRST; slot <= FACTS_DISCLOSURE_KIND; slot++)
            evidence += rule_uses_slot(cfg->rules[i].when, slot);
    ck_assert_int_ge(evidence, 10);
    ck_assert_ptr_eq(cfg->instruments, set);
    for (size_t i = 0; i < cfg->n_destinations; i++) {
        const struct routing_destination *d = &cfg->destinations[i];
        if (d->kind == ROUTING_KIND_FORENSIC_INTERVIEW || d->kind == ROUTING_KIND_ASSESSMENT)
            ck_assert_msg(!d->needs_consent, "%s takes consent referrals", d->id);
    }
    /* every kind a rule names has a destination, the adult interview one included */
    ck_assert_int_ge(routing_config_destination(cfg, "fi_adult_ca"), 0);
    ck_assert_int_ge(routing_config_destination(cfg, "labour_ca"), 0);
    ck_assert_int_ge(routing_config_destination(cfg, "csec_assessment"), 0);
    routing_config_free(cfg);
    instrument_set_free(set);
}
END_TEST

/* A fixture whose screening the instruments cannot read is an error, not a silent "no evidence". */
START_TEST(fixture_screening_must_be_readable_by_the_instruments)
{
    static const char *const want[] = {
        B "fixtures_screening.cfg:4: fixture 'no_such_version': screening: instrument "
          "'youth_quick' version 9 is not loaded",
        B "fixtures_screening.cfg:9: fixture 'no_such_item': indicators: 'made_to_work' is no item "
          "of instrument 'youth_quick' version 1",
        B "fixtures_screening.cfg:14: fixture 'no_such_instrument': screening: no instrument "
          "'cse_it' is loaded",
        NULL};
    struct instrument_set *set = NULL;
    struct routing_config *cfg = load_shipped(&set);
    struct routing_test_result res;
    struct collected c = {0};
    ck_assert_int_eq(
        routing_test_run(cfg, B "fixtures_screening.cfg", NULL, collect_report, &c, &res), -1);
    ck_assert_int_eq(res.fixtures, 0);
    COLLECT_ASSERT(&c, want);
    routing_config_free(cfg);
    instrument_set_free(set);
}
END_TEST

/* Each DOMAIN rule names its home in routing.cfg: a rule, a trigger or a code invariant. */
START_TEST(shipped_policy_names_the_home_of_every_domain_rule)
{
    char *text = NULL, err[200], line[32];
    size_t len = 0;
    ck_assert_int_eq(cfgread_read_file(SHIP "routing.cfg", &text, &len, err, sizeof(err)), 0);
    const char *where = strstr(text, "Where each DOMAIN rule lives:");
    ck_assert_ptr_nonnull(where);
    for (int rule = 1; rule <= 7; rule++) {
        snprintf(line, sizeof(line), "\n#   %d  ", rule);
        ck_assert_msg(strstr(where, line) != NULL, "DOMAIN rule %d has no home", rule);
    }
    free(text);
}
END_TEST

START_TEST(fixture_mismatch_is_explained)
{
    struct instrument_set *set = NULL;
    struct routing_config *cfg = load_shipped(&set);
    struct routing_test_result res;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_int_eq(routing_test_run(cfg, B "fixtures_mismatch.cfg", out, NULL, NULL, &res), 1);
    fclose(out);
    ck_assert_int_eq(res.fixtures, 2);
    ck_assert_int_eq(res.failed, 1);
    ck_assert_str_eq(
        text,
        "fixture 'wrong_basis_and_missing' (" B "fixtures_mismatch.cfg:3): 5 differences\n"
        "  different  le_ca: expected mandatory_report, queued, due 24h; got consent, "
        "pending_consent, due 72h, urgency 72h, consent 0 (rule "
        "'adult_trafficking_law_enforcement')\n"
        "  missing    le_nv: expected consent, pending_consent, due 72h; not referred\n"
        "  unexpected legal_aid_west: consent, pending_consent, due 72h, urgency 72h, consent 0 "
        "(rule 'adult_support_offer')\n"
        "  rules matched: expected [adult_trafficking_law_enforcement]; got "
        "[adult_trafficking_law_enforcement, adult_hotline_offer, adult_support_offer, "
        "adult_shelter_offer]\n"
        "  not used   nhth: expected a reason containing 'unsafe channel'; got: nothing (it was "
        "not among the unused)\n");
    free(text);
    routing_config_free(cfg);
    instrument_set_free(set);
}
END_TEST

START_TEST(fixture_file_errors_run_nothing)
{
    static const char *const want[] = {
        B "fixtures_errors.cfg:3: fixture 'one': unknown destination 'police'",
        B "fixtures_errors.cfg:3: fixture 'one': unknown basis 'law' (expected one of consent, "
          "mandatory_report, imminent_danger)",
        B "fixtures_errors.cfg:5: duplicate fixture name 'one' (first at line 2)",
        B "fixtures_errors.cfg:5: input: unknown member 'agee'",
        B "fixtures_errors.cfg:5: age: say whether it is known (age_known) or estimated "
          "(age_estimated)",
        B "fixtures_errors.cfg:6: fixture 'one': matched: unknown rule 'no_such_rule'",
        B "fixtures_errors.cfg:7: screening: needs 'instrument'",
        B "fixtures_errors.cfg:7: screening.result: unknown result 'maybe' (expected one of "
          "negative, possible, positive, incomplete)",
        B "fixtures_errors.cfg:9: fixture 'three': unknown referral state 'sent' (expected one "
          "of queued, pending_consent)",
        NULL};
    struct routing_config *cfg = NULL;
    struct routing_test_result res;
    struct collected c = {0};
    ck_assert_int_eq(
        routing_config_load(SHIP "destinations.cfg", SHIP "routing.cfg", NULL, NULL, &cfg), 0);
    ck_assert_int_eq(routing_test_run(cfg, B "fixtures_errors.cfg", NULL, collect_report, &c, &res),
                     -1);
    ck_assert_int_eq(res.fixtures, 0);
    COLLECT_ASSERT(&c, want);
    routing_config_free(cfg);
}
END_TEST

/* ---------------------------------------------------- verbs, fake host --- */

/* The host side of one invocation, as far as the routing verbs use it. */
struct ch_ctx {
    int json;
    json_t *root;
    json_t *stack[16];
    int depth;
    char err[2048];
    int config_errors;
};

static struct ch_command_spec registered[8];
static int n_registered;

static int fake_command_typed(struct ch_plugin *self, const struct ch_command_spec *spec)
{
    char err[256];
    (void)self;
    ck_assert_int_lt(n_registered, 8);
    /* The host's own check of a table, as at registration. */
    ck_assert_msg(args_check_spec(spec, err, sizeof(err)) == 0, "%s", err);
    registered[n_registered++] = *spec;
    return 0;
}

static const char *fake_config_dir(struct ch_plugin *self)
{
    (void)self;
    return "conf";
}

static struct ch_ctx *current;

static void fake_config_error(struct ch_plugin *self, const char *file, int line, int col,
                              const char *fmt, ...)
{
    (void)self, (void)file, (void)line, (void)col, (void)fmt;
    current->config_errors++;
}

static void fake_fail(struct ch_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
    va_end(ap);
}

static int fake_json(struct ch_ctx *ctx)
{
    return ctx->json;
}

static void put(struct ch_ctx *ctx, const char *key, json_t *v)
{
    json_t *cur = ctx->stack[ctx->depth];
    if (json_is_array(cur))
        json_array_append_new(cur, v);
    else
        json_object_set_new(cur, key, v);
}

static void fake_out_object(struct ch_ctx *ctx, const char *key)
{
    json_t *o = json_object();
    put(ctx, key, o);
    ctx->stack[++ctx->depth] = o;
}

static void fake_out_array(struct ch_ctx *ctx, const char *key)
{
    json_t *a = json_array();
    put(ctx, key, a);
    ctx->stack[++ctx->depth] = a;
}

static void fake_out_end(struct ch_ctx *ctx)
{
    ctx->depth--;
}

static void fake_out_str(struct ch_ctx *ctx, const char *key, const char *v)
{
    put(ctx, key, v ? json_string(v) : json_null());
}

static void fake_out_int(struct ch_ctx *ctx, const char *key, int64_t v)
{
    put(ctx, key, json_integer((json_int_t)v));
}

static void fake_out_bool(struct ch_ctx *ctx, const char *key, int v)
{
    put(ctx, key, json_boolean(v));
}

static void fake_out_message(struct ch_ctx *ctx, const char *fmt, ...)
{
    char line[1000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    json_t *m = json_object_get(ctx->root, "messages");
    if (m == NULL) {
        m = json_array();
        json_object_set_new(ctx->root, "messages", m);
    }
    json_array_append_new(m, json_string(line));
}

static void fake_out_alert(struct ch_ctx *ctx, enum ch_severity sev, const char *fmt, ...)
{
    char line[1000];
    va_list ap;
    json_t *a = json_object_get(ctx->root, "alerts");
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (a == NULL) {
        a = json_array();
        json_object_set_new(ctx->root, "alerts", a);
    }
    json_array_append_new(a, json_pack("{s:s,s:s}", "severity",
                                       sev == CH_SEV_DANGER ? "danger" : "other", "text", line));
}

static const struct ch_host_api fake_api = {
    .size = sizeof(struct ch_host_api),
    .abi_major = CH_ABI_MAJOR,
    .abi_minor = CH_ABI_MINOR,
    .config_dir = fake_config_dir,
    .config_error = fake_config_error,
    .command_typed = fake_command_typed,
    .fail = fake_fail,
    .json = fake_json,
    .out_object = fake_out_object,
    .out_array = fake_out_array,
    .out_end = fake_out_end,
    .out_str = fake_out_str,
    .out_int = fake_out_int,
    .out_bool = fake_out_bool,
    .out_message = fake_out_message,
    .out_alert = fake_out_alert,
};

static struct trf trf_state = {.api = &fake_api};

/* The registered table of verb sub. */
static const struct ch_command_spec *verb(const char *name, const char *sub)
{
    if (n_registered == 0)
        ck_assert_int_eq(trf_register_routing_commands(&trf_state), 0);
    for (int i = 0; i < n_registered; i++)
        if (strcmp(registered[i].verb, name) == 0 && strcmp(registered[i].sub, sub) == 0)
            return &registered[i];
    ck_abort_msg("verb '%s %s' not registered", name, sub);
    return NULL;
}

static const struct {
    const char *argv[8];
    int json;
    int rc;
    const char *want; /* substring of the JSON output, or of the error */
} verb_cases[] = {
    {{"routing", "test", SHIP "routing-tests.cfg", NULL}, 1, CH_OK, "\"failed\": 0"},
    {{"routing", "test", B "fixtures_mismatch.cfg", "--config-dir", SHIP, NULL},
     1,
     CH_ERROR,
     "1 of 2 routing fixtures do not match (configuration "},
    {{"routing", "test", SHIP "routing-tests.cfg", "--config-dir", B, NULL},
     0,
     CH_ERROR,
     "the routing configuration in '" B "' has 2 errors (listed above)"},
    {{"routing", "test", B "fixtures_errors.cfg", NULL},
     0,
     CH_ERROR,
     "fixture file '" B "fixtures_errors.cfg' has 9 errors (listed above); nothing was run"},
    /* without FILE: the folder's own fixtures, else those in force */
    {{"routing", "test", "--config-dir", SHIP, NULL}, 1, CH_OK, "\"failed\": 0"},
    {{"routing", "test", NULL}, 0, CH_ERROR, "routing test: no fixtures: give FILE"},
    /* people first: one line per referral, the trace only when asked for */
    {{"route", "what-if", "--input", "tests/data/routing/case_adult.cfg", NULL},
     0,
     CH_OK,
     "\"  le_nv (law_enforcement, Nevada law enforcement (human trafficking unit)): queued, due "
     "within 72 h; "},
    {{"route", "what-if", "--input", "tests/data/routing/case_adult.cfg", NULL},
     0,
     CH_OK,
     "\"(--trace shows every rule and its conditions)\""},
    {{"route", "what-if", "--input", "tests/data/routing/case_adult.cfg", "--trace", NULL},
     0,
     CH_OK,
     "le_nv (law_enforcement) by rule 'adult_trafficking_law_enforcement': consent, queued, due "
     "within "
     "72h (72h), ack within 24h"},
    {{"route", "what-if", "--input", "tests/data/routing/danger_minor.cfg", NULL},
     0,
     CH_OK,
     "\"alerts\": [\n  {\n   \"severity\": \"danger\",\n   \"text\": \"CALL 911 NOW"},
    {{"route", "what-if", "--input", "tests/data/routing/danger_minor.cfg", NULL},
     1,
     CH_OK,
     "\"instructions\": [\n    \"CALL 911 NOW"},
    {{"route", "what-if", "--input", "tests/data/routing/case_adult.json", NULL},
     1,
     CH_OK,
     "\"consent_id\": 31"},
    {{"route", "what-if", "--input", "tests/data/routing/case_adult.cfg", "--config-dir", SHIP,
      "--trace", NULL},
     0,
     CH_OK,
     "[10] imminent_danger: no match"},
    /* a stored version 1 screening, with version 1's classes: no police report on it */
    {{"route", "what-if", "--input", "tests/data/routing/case_minor_v1.cfg", "--trace", NULL},
     0,
     CH_OK,
     "fic_ca (forensic_interview) by rule 'disclosure_minor': mandatory_report, queued"},
    {{"route", "what-if", "--input", "tests/data/routing/case_minor_v1.cfg", "--trace", NULL},
     0,
     CH_OK,
     "[20] minor_commercial_sex: no match"},
    {{"route", "what-if", NULL}, 0, CH_USAGE, "a case file (--input) or its facts"},
    /* the facts typed instead of a file (a web form), read by the same reader */
    {{"route", "what-if", "--age", "15", "--flag", "imminent_danger", NULL},
     0,
     CH_OK,
     "\"text\": \"CALL 911 NOW"},
    {{"route", "what-if", "--input", "tests/data/routing/case_adult.cfg", "--age", "15", NULL},
     0,
     CH_USAGE,
     "a case file or its facts, not both"},
    {{"route", "what-if", "--age", "15", "--result", "positive", NULL},
     0,
     CH_ERROR,
     "a screening result needs its instrument"},
    {{"route", "what-if", "--input", "tests/data/routing/nope.json", NULL},
     0,
     CH_ERROR,
     "tests/data/routing/nope.json: cannot open: No such file or directory"},
    {{"route", "what-if", "--input", B "ok_routing.cfg", NULL},
     0,
     CH_ERROR,
     "case file '" B "ok_routing.cfg' has errors (listed above)"},
    {{"route", "what-if", "--bogus", NULL}, 0, CH_USAGE, "unknown option '--bogus'"},
};

/* Runs a verb as the host does: its table parses argv (CH_USAGE on a refusal), then it runs. */
START_TEST(verb_runs_without_a_database)
{
    const struct ch_command_spec *spec;
    struct ch_value vals[16];
    struct ch_ctx ctx;
    char *argv[8];
    int argc = 0, rc;
    memset(&ctx, 0, sizeof(ctx));
    ctx.json = verb_cases[_i].json;
    ctx.root = ctx.stack[0] = json_object();
    current = &ctx;
    while (verb_cases[_i].argv[argc] != NULL) {
        argv[argc] = (char *)verb_cases[_i].argv[argc];
        argc++;
    }
    argv[argc] = NULL;
    spec = verb(argv[0], argv[1]);
    /* Files only: no connection (and, from a host without the flag, no transaction). */
    ck_assert_uint_eq(spec->flags & (CH_CMD_OWN_TX | CH_CMD_NO_DB), CH_CMD_OWN_TX | CH_CMD_NO_DB);
    ck_assert_uint_le(spec->n_args, 16);
    if (args_parse(spec, argc, argv, 2, vals, ctx.err, sizeof(ctx.err)) != 0) {
        rc = CH_USAGE;
    } else {
        rc = spec->run(&ctx, vals, spec->ud);
        args_release(spec, vals);
    }
    char *out = json_dumps(ctx.root, JSON_INDENT(1));
    ck_assert_msg(rc == verb_cases[_i].rc, "rc %d, want %d; err '%s'", rc, verb_cases[_i].rc,
                  ctx.err);
    ck_assert_msg(strstr(rc == CH_OK ? out : ctx.err, verb_cases[_i].want) != NULL,
                  "'%s' not in:\n%s", verb_cases[_i].want, rc == CH_OK ? out : ctx.err);
    free(out);
    json_decref(ctx.root);
}
END_TEST

static char *usage_of(const struct ch_command_spec *spec)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    args_usage(spec, f);
    fclose(f);
    return text;
}

START_TEST(verbs_register_with_usage_from_their_tables)
{
    static const struct {
        const char *verb, *sub, *usage;
    } want[] = {
        {"routing", "test",
         "routing test [FILE] [--config DIR] [--config-dir DIR] [--candidate ID]"},
        {"routing", "replay", "routing replay [--config DIR] [--since DATE] [--candidate ID]"},
        {"route", "what-if",
         "route what-if [--input CASEFILE] [--config DIR] [--config-dir DIR] [--candidate ID] "
         "[--trace] [--age N] [--age-high N] [--age-known] [--state XX] [--county TEXT] "
         "[--flag foreign_national|imminent_danger|recruitment|control|runaway_return|cw_history|"
         "jj_history]... [--indicator ID]... [--result negative|possible|positive] "
         "[--instrument ID]"},
        {"route", "explain", "route explain CASE [--decision ID] [--trace]"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char *u = usage_of(verb(want[i].verb, want[i].sub));
        ck_assert_str_eq(u, want[i].usage);
        free(u);
    }
}
END_TEST

static Suite *routing_config_suite(void)
{
    Suite *s = suite_create("routing_config");
    TCase *tc = tcase_create("broken");
    tcase_add_loop_test(tc, broken_file_reports_exact_messages, 0,
                        sizeof(broken) / sizeof(broken[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("shipped");
    tcase_add_test(tc, loopback_http_and_https_webhooks_load);
    tcase_add_loop_test(tc, webhook_url_is_https_or_loopback, 0,
                        (int)(sizeof(urls) / sizeof(urls[0])));
    tcase_add_test(tc, shipped_configuration_loads_sorted_with_zero_errors);
    tcase_add_test(tc, hash_covers_both_files);
    tcase_add_test(tc, shipped_fixtures_pass_and_cover_every_rule);
    tcase_add_test(tc, shipped_policy_reads_evidence_not_domain_scores);
    tcase_add_test(tc, shipped_policy_names_the_home_of_every_domain_rule);
    tcase_add_test(tc, fixture_screening_must_be_readable_by_the_instruments);
    tcase_add_test(tc, fixture_mismatch_is_explained);
    tcase_add_test(tc, fixture_file_errors_run_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("verbs");
    tcase_add_loop_test(tc, verb_runs_without_a_database, 0,
                        sizeof(verb_cases) / sizeof(verb_cases[0]));
    tcase_add_test(tc, verbs_register_with_usage_from_their_tables);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(routing_config_suite())
