/*
 * check_instrument.c: tests of instrument loading and validation: the shipped
 * instruments, the fixtures, and a corpus of broken files with the exact
 * reports each must produce.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "check_main.h"
#include "screening/instrument.h"
#include "report_collect.h"

#define SHIPPED "conf/trafficking/instruments"
#define FIXTURES "tests/data/instruments"
#define P(name) "tests/data/broken/instruments/" name ".cfg"
#define D(name) "tests/data/broken/instrument_dirs/" name

/* One broken file: every report it must produce, in order. */
struct broken_case {
    const char *name;
    const char *want[COLLECT_MAX];
};

static const struct broken_case broken[] = {
    {"age_out_of_range",
     {P("age_out_of_range") ":4: population: 'max_age' must be between 0 and 120 (got 200)", NULL}},
    {"age_range_inverted",
     {P("age_range_inverted") ":4: population: 'min_age' (20) is more than 'max_age' (12)", NULL}},
    {"bad_id",
     {P("bad_id") ":3: 'id' must be lowercase letters, digits and '_', starting with a letter (got "
                  "'Youth-Quick')",
      NULL}},
    {"choice_concern_not_a_choice",
     {P("choice_concern_not_a_choice") ":10: item 'b': concern 'streets' is not one of the choices",
      NULL}},
    {"choice_too_few",
     {P("choice_too_few") ":10: item 'b': 'choices' needs at least 2 entries", NULL}},
    {"clear_unreachable",
     {P("clear_unreachable") ":6: scoring: 'clear_at' (9) can never be reached: the weights add up "
                             "to 5",
      NULL}},
    {"count_missing_concern_at",
     {P("count_missing_concern_at") ":9: item 'b': missing member 'concern_at'", NULL}},
    {"count_n_too_big",
     {P("count_n_too_big") ":6: scoring: 'n' (3) is more than the number of items (2)", NULL}},
    {"disclosure_not_yes_no",
     {P("disclosure_not_yes_no") ":10: item 'b': 'disclosure' is only for yes_no items", NULL}},
    {"duplicate_item", {P("duplicate_item") ":9: duplicate item id 'a' (first at line 8)", NULL}},
    {"duplicate_setting", {P("duplicate_setting") ":3: duplicate setting name", NULL}},
    {"empty_file", {P("empty_file") ": missing member 'instrument'", NULL}},
    {"empty_items", {P("empty_items") ":7: 'items' must not be empty", NULL}},
    {"empty_prompt", {P("empty_prompt") ":9: item 'b': 'prompt' must not be empty", NULL}},
    {"evidence_defects",
     {P("evidence_defects") ":8: item 'a': unknown evidence class 'forse' (expected one of "
                            "commercial_sex, force, fraud, coercion, labour_exploitation, risk, "
                            "disclosure)",
      P("evidence_defects") ":9: item 'b': evidence: 'risk' stands alone: a risk item is a reason "
                            "to assess, never evidence of anything more",
      P("evidence_defects") ":11: item 'c': evidence: 'force' is listed twice",
      P("evidence_defects") ":12: item 'd': 'evidence' must be a class name or a list of them, "
                            "such as \"risk\" or [\"commercial_sex\", \"coercion\"]",
      P("evidence_defects") ":13: item 'e': 'evidence' must be a class name or a list of them, "
                            "such as \"risk\" or [\"commercial_sex\", \"coercion\"]",
      P("evidence_defects") ":15: item 'f': 'evidence' must include 'disclosure': a yes to this "
                            "item stops the screening as a disclosure",
      P("evidence_defects") ":16: item 'g': evidence 'disclosure' is only for disclosure items "
                            "(disclosure = true)",
      P("evidence_defects") ":18: item 'h': missing member 'disclosure_kind'",
      P("evidence_defects") ":21: item 'i': unknown disclosure kind 'sexual' (expected one of "
                            "sex, labour, both, unclear)",
      P("evidence_defects") ":23: item 'j': 'disclosure_kind' is only for items whose evidence "
                            "includes 'disclosure'",
      NULL}},
    {"evidence_partial",
     {P("evidence_partial") ":9: item 'b': missing member 'evidence' (once one item declares its "
                            "evidence classes, every item does)",
      NULL}},
    {"include",
     {P("include") ":2: @include is not allowed: a definition must be one self-contained file",
      NULL}},
    {"item_not_group", {P("item_not_group") ":10: item 2 must be a group { ... }", NULL}},
    {"key_not_bool", {P("key_not_bool") ":8: item 'a': 'key' must be true or false", NULL}},
    {"kind_member_mismatch",
     {P("kind_member_mismatch") ":9: item 'b': 'concern_at' is only for count items", NULL}},
    {"method_member_mismatch",
     {P("method_member_mismatch") ":6: scoring: 'n' is only used by method 'count_at_least'",
      NULL}},
    {"min_answered_too_many",
     {P("min_answered_too_many") ":5: 'min_answered' (3) is more than the number of items (2)",
      NULL}},
    {"missing_title", {P("missing_title") ":2: missing member 'title'", NULL}},
    {"no_instrument_group",
     {P("no_instrument_group") ": missing member 'instrument'",
      P("no_instrument_group") ":2: unknown member 'instrumnet'", NULL}},
    {"possible_not_below_clear",
     {P("possible_not_below_clear") ":6: scoring: 'possible_at' (3) must be less than 'clear_at' "
                                    "(3)",
      NULL}},
    {"several_defects",
     {P("several_defects") ":3: 'version' must be between 1 and 2147483647 (got 0)",
      P("several_defects") ":5: unknown mode 'chat' (expected one of interview, observation)",
      P("several_defects") ":8: item 'a': unknown domain 'contrl' (expected one of control, "
                           "recruitment, conditions, sex_trafficking, labour, minors, health)",
      P("several_defects") ":8:1: item 'a': show_if: no item 'b' in this instrument",
      P("several_defects") ":9: duplicate item id 'a' (first at line 8)",
      P("several_defects") ":9: item 'a': missing member 'prompt'",
      P("several_defects") ":9: item 'a': missing member 'concern_at'", NULL}},
    {"several_defects_weighted",
     {P("several_defects_weighted") ":4: population: missing member 'max_age'",
      P("several_defects_weighted") ":6: scoring: 'n' is only used by method 'count_at_least'",
      P("several_defects_weighted") ":6: scoring: 'possible_at' must be between 1 and 100000 (got "
                                    "0)",
      P("several_defects_weighted") ":8: item 'a': 'weight' must be between 1 and 100 (got 101)",
      P("several_defects_weighted") ":9: item 'b': missing member 'weight'", NULL}},
    {"show_if_later",
     {P("show_if_later") ":8:5: item 'a': show_if: item 'b' comes later: show_if may refer only to "
                         "earlier items",
      NULL}},
    {"show_if_not_bool",
     {P("show_if_not_bool") ":9:1: item 'b': show_if: expression must be true/false, found number",
      NULL}},
    {"show_if_screening_fact",
     {P("show_if_screening_fact") ":9:1: item 'b': show_if: 'result' is only known after a "
                                  "screening is scored",
      NULL}},
    {"show_if_self",
     {P("show_if_self") ":9:1: item 'b': show_if: item 'b' is this item: show_if may refer only to "
                        "earlier items",
      NULL}},
    {"show_if_syntax",
     {P("show_if_syntax") ":9:8: item 'b': show_if: unexpected end of expression", NULL}},
    {"show_if_unknown_domain",
     {P("show_if_unknown_domain") ":9:1: item 'b': show_if: unknown domain 'contrl' (expected one "
                                  "of control, recruitment, conditions, sex_trafficking, labour, "
                                  "minors, health)",
      NULL}},
    {"show_if_unknown_item",
     {P("show_if_unknown_item") ":9:11: item 'b': show_if: no item 'c' in this instrument", NULL}},
    {"syntax_error", {P("syntax_error") ":5: syntax error", NULL}},
    {"unknown_domain",
     {P("unknown_domain") ":8: item 'a': unknown domain 'contrl' (expected one of control, "
                          "recruitment, conditions, sex_trafficking, labour, minors, health)",
      NULL}},
    {"unknown_kind",
     {P("unknown_kind") ":9: item 'b': unknown kind 'yesno' (expected one of yes_no, choice, "
                        "count)",
      NULL}},
    {"unknown_member",
     {P("unknown_member") ":2: missing member 'min_answered'",
      P("unknown_member") ":5: unknown member 'min_answerd'", NULL}},
    {"unknown_method",
     {P("unknown_method") ":6: scoring: unknown method 'majority' (expected one of any_yes, "
                          "count_at_least, weighted)",
      NULL}},
    {"version_int64",
     {P("version_int64") ":3: 'version' must be between 1 and 2147483647 (got 5000000000)", NULL}},
    {"version_string", {P("version_string") ":3: 'version' must be an integer", NULL}},
    {"version_wrapped",
     {P("version_wrapped") ":3: 'version' must be between 1 and 2147483647 (got 4294967297)",
      NULL}},
    {"version_zero",
     {P("version_zero") ":3: 'version' must be between 1 and 2147483647 (got 0)", NULL}},
    {"weight_not_weighted",
     {P("weight_not_weighted") ":9: item 'b': 'weight' is only used by weighted scoring", NULL}},
    {"weighted_missing_weight",
     {P("weighted_missing_weight") ":9: item 'b': missing member 'weight'", NULL}},
};

START_TEST(test_broken_file)
{
    const struct broken_case *bc = &broken[_i];
    char path[200];
    struct collected c = {0};
    struct instrument *inst = (struct instrument *)1;
    snprintf(path, sizeof(path), P("%s"), bc->name);
    ck_assert_msg(instrument_load_file(path, collect_report, &c, &inst) == -1, "%s loaded",
                  bc->name);
    ck_assert_ptr_null(inst);
    COLLECT_ASSERT(&c, bc->want);
}
END_TEST

/* Directories: problems that only show across files. */
struct dir_case {
    const char *dir;
    const char *want[COLLECT_MAX];
};

static const struct dir_case dirs[] = {
    {D("duplicate_version"),
     {D("duplicate_version") "/b_second.cfg:2: instrument 't_any' version 1 is already defined "
                             "in " D("duplicate_version") "/a_first.cfg:2",
      NULL}},
    {D("no_cfg_files"),
     {D("no_cfg_files") ": no instrument files (*.cfg) in this directory", NULL}},
    {D("one_bad_file"),
     {D("one_bad_file") "/b_bad.cfg:9: item 'b': unknown kind 'yesno' (expected one of yes_no, "
                        "choice, count)",
      NULL}},
    {D("does_not_exist"),
     {D("does_not_exist") ": cannot open directory: No such file or directory", NULL}},
    /* Every version has its evidence classes, from its definition or a class-mapping file. */
    {D("classes_missing"),
     {D("classes_missing") "/a_one.cfg:2: instrument 't_old' version 1 declares no evidence "
                           "classes: give each item 'evidence', or, for an earlier version whose "
                           "text must not change, write a class-mapping file in " D(
                               "classes_missing") "/classes",
      NULL}},
    {D("classes_defects"),
     {D("classes_defects") "/classes/a_items.cfg:5: item 'b' of instrument 't_old' version 1 has "
                           "no classes here: every item is mapped",
      D("classes_defects") "/classes/a_items.cfg:7: item 'a' is mapped twice (first at line 6)",
      D("classes_defects") "/classes/a_items.cfg:8: instrument 't_old' version 1 has no item 'zz'",
      D("classes_defects") "/classes/a_items.cfg:9: item 'c': 'evidence' must include "
                           "'disclosure': a yes to this item stops the screening as a disclosure",
      D("classes_defects") "/classes/b_hash.cfg:4: hash '000000000000...' is not the hash of "
                           "instrument 't_old' version 1 (5cdb1cb4b7ef..., " D(
                               "classes_defects") "/a_old.cfg): these classes were written for "
                                                  "another text",
      D("classes_defects") "/classes/c_declared.cfg:3: instrument 't_old' version 2 declares its "
                           "classes in its definition (" D(
                               "classes_defects") "/b_new.cfg:2); a class-mapping file is only "
                                                  "for an earlier version written without them",
      D("classes_defects") "/classes/d_unknown.cfg:3: no instrument 't_old' version 7 is loaded: "
                           "a class-mapping file gives the classes of a version whose definition "
                           "is in the instruments folder",
      D("classes_defects") "/classes/d_unknown.cfg:6: unknown member 'note'",
      /* A mapping with any problem changes nothing: version 1 still has no classes. */
      D("classes_defects") "/a_old.cfg:2: instrument 't_old' version 1 declares no evidence "
                           "classes: give each item 'evidence', or, for an earlier version whose "
                           "text must not change, write a class-mapping file in " D(
                               "classes_defects") "/classes",
      NULL}},
};

START_TEST(test_broken_dir)
{
    struct collected c = {0};
    struct instrument_set *set = (struct instrument_set *)1;
    ck_assert_int_eq(instrument_set_load(dirs[_i].dir, collect_report, &c, &set), -1);
    ck_assert_ptr_null(set);
    COLLECT_ASSERT(&c, dirs[_i].want);
}
END_TEST

START_TEST(test_missing_file)
{
    static const char *const want[] = {
        P("does_not_exist") ": cannot open: No such file or directory", NULL};
    struct collected c = {0};
    struct instrument *inst = NULL;
    ck_assert_int_eq(instrument_load_file(P("does_not_exist"), collect_report, &c, &inst), -1);
    COLLECT_ASSERT(&c, want);
}
END_TEST

START_TEST(test_null_reporter)
{
    struct instrument *inst = NULL;
    ck_assert_int_eq(instrument_load_file(P("several_defects"), NULL, NULL, &inst), -1);
    ck_assert_ptr_null(inst);
}
END_TEST

START_TEST(test_shipped_load_clean)
{
    /* Version 2 of each (with its classes), and version 1 kept for its screenings. */
    static const char *const ids[] = {
        "adult",        "adult",        "staff_observation", "staff_observation",
        "youth_health", "youth_health", "youth_quick",       "youth_quick"};
    struct instrument_set *set = collect_load_instruments(SHIPPED);
    ck_assert_uint_eq(set->n, 8);
    for (size_t i = 0; i < set->n; i++) {
        ck_assert_str_eq(set->v[i]->id, ids[i]); /* file-name order: x.cfg before x.v1.cfg */
        ck_assert_int_eq(set->v[i]->version, i % 2 == 0 ? 2 : 1);
    }
    instrument_set_free(set);
}
END_TEST

/*
 * Stored screenings name version 1 by its hash: the version 1 files must
 * stay byte for byte what was deployed (these are the hashes of the files
 * before version 2 existed), and their classes come from classes/.
 */
START_TEST(test_shipped_version1_definitions_never_change)
{
    static const struct {
        const char *id, *hash;
    } v1[] = {
        {"adult", "2f837a18bdd523bb338fa7cc7c20420ae8d86aea2d27da43cf7d2e29ce42c29f"},
        {"staff_observation", "6041ec53be3facf0cc1fdb0c3ba4273b37fff88f2baa8d96bbac9a16f4a64e72"},
        {"youth_health", "361a541b8ebbb9ba92c8029cde7273b6741978a51efab10514c52d0de9842aaf"},
        {"youth_quick", "7456fc6e3ec03bf53dac46c0edd68ce656d427a290befed33d02d27291e70b88"},
    };
    struct instrument_set *set = collect_load_instruments(SHIPPED);
    for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
        const struct instrument *one = instrument_set_find(set, v1[i].id, 1);
        const struct instrument *two = instrument_set_find(set, v1[i].id, 2);
        ck_assert_ptr_nonnull(one);
        ck_assert_str_eq(one->hash, v1[i].hash);
        ck_assert_ptr_nonnull(one->classes_path);
        ck_assert_ptr_nonnull(strstr(one->classes_path, "/classes/"));
        ck_assert_ptr_nonnull(two);
        ck_assert_ptr_null(two->classes_path); /* declared in the definition */
        ck_assert_ptr_eq(instrument_set_find(set, v1[i].id, 0), two);
    }
    instrument_set_free(set);
}
END_TEST

/*
 * Every item of every shipped version says what a yes establishes: some
 * class, risk never mixed with more, the disclosure class exactly on the
 * disclosure items and with a kind.
 */
START_TEST(test_shipped_items_all_carry_evidence)
{
    const facts_evidence_mask risk = FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK);
    const facts_evidence_mask disc = FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_DISCLOSURE);
    struct instrument_set *set = collect_load_instruments(SHIPPED);
    for (size_t i = 0; i < set->n; i++) {
        const struct instrument *inst = set->v[i];
        ck_assert(inst->classes_declared);
        for (size_t k = 0; k < inst->n_items; k++) {
            const struct instrument_item *it = &inst->items[k];
            ck_assert_msg(it->evidence != 0, "%s v%d %s: no class", inst->id, inst->version,
                          it->id);
            ck_assert(!(it->evidence & risk) || it->evidence == risk);
            ck_assert_int_eq((it->evidence & disc) != 0, it->disclosure);
            ck_assert_int_eq(it->disclosure_kind != FACTS_DISCLOSURE_NONE, it->disclosure);
        }
    }
    instrument_set_free(set);
}
END_TEST

static const struct instrument_item *item_of(const struct instrument *inst, const char *id)
{
    int k = instrument_item_index(inst, id);
    ck_assert_msg(k >= 0, "%s v%d has no item '%s'", inst->id, inst->version, id);
    return &inst->items[k];
}

/* The classes the issue turned on, item by item (the reasons are in the files). */
START_TEST(test_shipped_classes_of_the_items_that_matter)
{
    struct instrument_set *set = collect_load_instruments(SHIPPED);
    const struct instrument *q2 = instrument_set_find(set, "youth_quick", 2);
    const struct instrument *q1 = instrument_set_find(set, "youth_quick", 1);
    const struct instrument *o2 = instrument_set_find(set, "staff_observation", 2);
    const struct instrument *o1 = instrument_set_find(set, "staff_observation", 1);
    const struct instrument *a2 = instrument_set_find(set, "adult", 2);
    const struct instrument *h2 = instrument_set_find(set, "youth_health", 2);
#define B(c) FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_##c)
    /* the youth quick screen asks about labour now, and a yes is exploitation with coercion */
    ck_assert_uint_eq(item_of(q2, "made_to_work")->evidence, B(LABOUR_EXPLOITATION) | B(COERCION));
    ck_assert_int_eq(instrument_item_index(q1, "made_to_work"), -1);
    ck_assert_uint_eq(item_of(q2, "exchanged_sex")->evidence, B(COMMERCIAL_SEX));
    /* its disclosure is no exchange: version 1's sex_trafficking domain misled the old policy */
    ck_assert_uint_eq(item_of(q1, "someone_making_you_now")->evidence, B(DISCLOSURE) | B(COERCION));
    ck_assert_int_eq(item_of(q2, "someone_making_you_now")->disclosure_kind,
                     FACTS_DISCLOSURE_UNCLEAR);
    /* risk signs in the sex_trafficking domain are risk */
    ck_assert_uint_eq(item_of(o2, "older_controlling_partner")->evidence, B(RISK));
    ck_assert_uint_eq(item_of(o2, "branding_or_street_language")->evidence, B(RISK));
    ck_assert_uint_eq(item_of(o2, "someone_benefits")->evidence, B(RISK));
    ck_assert_uint_eq(item_of(h2, "older_partner_in_control")->evidence, B(RISK));
    /* homelessness and long hours are risk, not coercion; debt bondage is coercion */
    ck_assert_uint_eq(item_of(o2, "staying_where")->evidence, B(RISK));
    ck_assert_uint_eq(item_of(o2, "long_hours_or_lives_at_work")->evidence, B(RISK));
    ck_assert_uint_eq(item_of(o2, "works_off_debt")->evidence,
                      B(LABOUR_EXPLOITATION) | B(COERCION));
    ck_assert_uint_eq(item_of(o1, "phone_or_money_controlled")->evidence, B(RISK));
    ck_assert_uint_eq(item_of(o2, "phone_or_money_controlled")->evidence, B(COERCION));
    /* the adult screen asks the act and each means apart */
    ck_assert_uint_eq(item_of(a2, "sex_for_value")->evidence, B(COMMERCIAL_SEX));
    ck_assert_uint_eq(item_of(a2, "sex_by_force")->evidence, B(FORCE));
    ck_assert_uint_eq(item_of(a2, "sex_by_threats")->evidence, B(COERCION));
    ck_assert_uint_eq(item_of(a2, "sex_by_lies")->evidence, B(FRAUD));
    ck_assert_uint_eq(item_of(a2, "threats")->evidence, B(COERCION) | B(LABOUR_EXPLOITATION));
#undef B
    instrument_set_free(set);
}
END_TEST

static size_t count_if(const struct instrument *inst, int (*pred)(const struct instrument_item *))
{
    size_t n = 0;
    for (size_t i = 0; i < inst->n_items; i++)
        n += pred(&inst->items[i]) != 0;
    return n;
}

static int is_disclosure(const struct instrument_item *it)
{
    return it->disclosure;
}

static int is_key(const struct instrument_item *it)
{
    return it->key;
}

START_TEST(test_shipped_shapes)
{
    struct instrument_set *set = collect_load_instruments(SHIPPED);
    const struct instrument *q = instrument_set_find(set, "youth_quick", 0);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(q->method, INSTRUMENT_ANY_YES);
    ck_assert(q->n_items >= 4 && q->n_items <= 6);
    ck_assert_uint_eq(count_if(q, is_disclosure), 1);
    ck_assert_int_eq(q->mode, INSTRUMENT_INTERVIEW);

    const struct instrument *h = instrument_set_find(set, "youth_health", 0);
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(h->n_items, 6);
    ck_assert_int_eq(h->method, INSTRUMENT_COUNT_AT_LEAST);
    ck_assert_int_eq(h->at_least, 2);

    const struct instrument *a = instrument_set_find(set, "adult", 0);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->n_items, 11);
    ck_assert_int_eq(a->method, INSTRUMENT_COUNT_AT_LEAST);
    ck_assert_ptr_nonnull(strstr(a->purpose, "count_at_least 2"));
    ck_assert_int_ge(a->min_age, 18);
    ck_assert_uint_ge(count_if(a, is_key), 1);
    instrument_set_free(set);
}
END_TEST

START_TEST(test_shipped_observation_covers_every_domain)
{
    static const char *const themes[] = {
        "times_ran_away",        "online_false_promises", "system_contact",
        "familial_sexual_abuse", "someone_benefits",      "cut_off_from_family",
    };
    struct instrument_set *set = collect_load_instruments(SHIPPED);
    const struct instrument *o = instrument_set_find(set, "staff_observation", 0);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->mode, INSTRUMENT_OBSERVATION);
    ck_assert(o->requires_training);
    ck_assert_int_eq(o->method, INSTRUMENT_WEIGHTED);
    ck_assert_int_lt(o->possible_at, o->clear_at);
    int seen[INSTRUMENT_DOMAIN__COUNT] = {0};
    for (size_t i = 0; i < o->n_items; i++)
        seen[o->items[i].domain]++;
    for (int d = 0; d < INSTRUMENT_DOMAIN__COUNT; d++)
        ck_assert_msg(seen[d] > 0, "no item in domain '%s'",
                      instrument_domain_name((enum instrument_domain)d));
    for (size_t i = 0; i < sizeof(themes) / sizeof(themes[0]); i++)
        ck_assert_msg(instrument_item_index(o, themes[i]) >= 0, "no item '%s'", themes[i]);
    ck_assert_int_eq(o->items[instrument_item_index(o, "times_ran_away")].kind,
                     INSTRUMENT_KIND_COUNT);
    instrument_set_free(set);
}
END_TEST

/* The stored text is the file's bytes and the hash is their SHA-256. */
START_TEST(test_text_and_hash)
{
    struct instrument_set *set = collect_load_instruments(FIXTURES);
    for (size_t i = 0; i < set->n; i++) {
        const struct instrument *inst = set->v[i];
        FILE *f = fopen(inst->path, "rb");
        ck_assert_ptr_nonnull(f);
        char buf[8192];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        ck_assert_uint_eq(n, inst->text_len);
        ck_assert_int_eq(memcmp(buf, inst->text, n), 0);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        ck_assert(EVP_Digest(buf, n, md, &mdlen, EVP_sha256(), NULL));
        char hex[65];
        for (unsigned k = 0; k < mdlen; k++)
            snprintf(hex + 2 * k, 3, "%02x", md[k]);
        ck_assert_str_eq(inst->hash, hex);
        if (i > 0)
            ck_assert_str_ne(inst->hash, set->v[i - 1]->hash);
    }
    instrument_set_free(set);
}
END_TEST

START_TEST(test_find_versions)
{
    struct instrument_set *set = collect_load_instruments(FIXTURES);
    ck_assert_uint_eq(set->n, 5);
    ck_assert_int_eq(instrument_set_find(set, "t_any", 0)->version, 2);
    ck_assert_int_eq(instrument_set_find(set, "t_any", 1)->version, 1);
    ck_assert_uint_eq(instrument_set_find(set, "t_any", 1)->n_items, 4);
    ck_assert_ptr_null(instrument_set_find(set, "t_any", 3));
    ck_assert_ptr_null(instrument_set_find(set, "nope", 0));
    instrument_set_free(set);
}
END_TEST

START_TEST(test_item_details)
{
    struct instrument_set *set = collect_load_instruments(FIXTURES);
    const struct instrument *w = instrument_set_find(set, "t_weighted", 1);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(w->possible_at, 3);
    ck_assert_int_eq(w->clear_at, 6);
    ck_assert_int_eq(w->min_answered, 3);
    ck_assert_int_eq(w->min_age, 10);
    ck_assert_int_eq(w->max_age, 24);
    const struct instrument_item *c = &w->items[instrument_item_index(w, "c")];
    ck_assert_int_eq(c->kind, INSTRUMENT_KIND_CHOICE);
    ck_assert_uint_eq(c->n_choices, 3);
    ck_assert_str_eq(c->choices[2], "z");
    ck_assert(!c->concern[0] && !c->concern[1] && c->concern[2]);
    const struct instrument_item *d = &w->items[instrument_item_index(w, "d")];
    ck_assert_int_eq(d->kind, INSTRUMENT_KIND_COUNT);
    ck_assert_int_eq(d->concern_at, 2);
    ck_assert_int_eq(w->items[instrument_item_index(w, "e")].weight, 4);
    ck_assert(w->items[instrument_item_index(w, "f")].key);
    ck_assert_int_eq(instrument_item_index(w, "zz"), -1);

    /* Non-weighted items weigh 1; show_if calls get slots after the fixed facts. */
    const struct instrument *s = instrument_set_find(set, "t_skip", 1);
    ck_assert_int_eq(s->items[0].weight, 1);
    ck_assert_ptr_null(s->items[0].show_if);
    ck_assert_ptr_nonnull(s->items[1].show_if);
    ck_assert_uint_eq(instrument_slot_count(s), FACTS__COUNT + 3);
    ck_assert_uint_eq(instrument_slot_count(w), FACTS__COUNT);

    /* Classes: declared in the definition, or given to version 1 by classes/t_any.v1.cfg. */
    const struct instrument_item *sd = &s->items[instrument_item_index(s, "d")];
    ck_assert_uint_eq(sd->evidence, FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_DISCLOSURE) |
                                        FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COERCION));
    ck_assert_int_eq(sd->disclosure_kind, FACTS_DISCLOSURE_UNCLEAR);
    ck_assert_uint_eq(c->evidence, FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK));
    const struct instrument *v1 = instrument_set_find(set, "t_any", 1);
    ck_assert_str_eq(v1->classes_path, FIXTURES "/classes/t_any.v1.cfg");
    ck_assert_uint_eq(v1->items[2].evidence, FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_RISK));
    ck_assert_ptr_null(instrument_set_find(set, "t_any", 2)->classes_path);
    instrument_set_free(set);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(instrument_domain_name(INSTRUMENT_DOMAIN_SEX_TRAFFICKING), "sex_trafficking");
    ck_assert_str_eq(instrument_kind_name(INSTRUMENT_KIND_COUNT), "count");
    ck_assert_str_eq(instrument_method_name(INSTRUMENT_COUNT_AT_LEAST), "count_at_least");
    ck_assert_str_eq(instrument_mode_name(INSTRUMENT_OBSERVATION), "observation");
    ck_assert_ptr_null(instrument_domain_name(INSTRUMENT_DOMAIN__COUNT));
    ck_assert_ptr_null(instrument_kind_name((enum instrument_kind)3));
}
END_TEST

static Suite *instrument_suite(void)
{
    Suite *s = suite_create("instrument");
    TCase *tc = tcase_create("broken");
    tcase_add_loop_test(tc, test_broken_file, 0, (int)(sizeof(broken) / sizeof(broken[0])));
    tcase_add_loop_test(tc, test_broken_dir, 0, (int)(sizeof(dirs) / sizeof(dirs[0])));
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_null_reporter);
    suite_add_tcase(s, tc);

    tc = tcase_create("loaded");
    tcase_add_test(tc, test_shipped_load_clean);
    tcase_add_test(tc, test_shipped_version1_definitions_never_change);
    tcase_add_test(tc, test_shipped_items_all_carry_evidence);
    tcase_add_test(tc, test_shipped_classes_of_the_items_that_matter);
    tcase_add_test(tc, test_shipped_shapes);
    tcase_add_test(tc, test_shipped_observation_covers_every_domain);
    tcase_add_test(tc, test_text_and_hash);
    tcase_add_test(tc, test_find_versions);
    tcase_add_test(tc, test_item_details);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(instrument_suite())
