/*
 * check_scoring.c: tests of skip logic, stop on disclosure, scoring of every
 * method (with declined, unknown, not-asked and partial answers) and the age
 * facts that choose the minor pathway.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "rules/facts.h"
#include "screening/instrument.h"
#include "report_collect.h"
#include "screening/evidence.h"
#include "screening/scoring.h"

#define MAX_ITEMS 32

static struct instrument_set *fixtures;
static struct instrument_set *shipped;

/* Checked fixture: every forked test loads and frees its own sets. */
static void setup(void)
{
    fixtures = collect_load_instruments("tests/data/instruments");
    shipped = collect_load_instruments("conf/trafficking/instruments");
}

static void teardown(void)
{
    instrument_set_free(fixtures);
    instrument_set_free(shipped);
    fixtures = shipped = NULL;
}

/* "id" is the highest version, "id:N" version N; fixtures first, then shipped. */
static const struct instrument *find(const char *spec)
{
    char id[64];
    int version = 0;
    const char *colon = strchr(spec, ':');
    size_t len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    ck_assert_uint_lt(len, sizeof(id));
    memcpy(id, spec, len);
    id[len] = '\0';
    if (colon != NULL)
        version = (int)strtol(colon + 1, NULL, 10);
    const struct instrument *inst = instrument_set_find(fixtures, id, version);
    if (inst == NULL)
        inst = instrument_set_find(shipped, id, version);
    ck_assert_msg(inst != NULL, "no instrument '%s'", spec);
    return inst;
}

/*
 * One character per item: y yes, n no, u unknown, d declined, - not asked,
 * 0-9 a value (choice index or count).
 */
static void parse_answers(const struct instrument *inst, const char *s, struct answer *a)
{
    ck_assert_uint_eq(strlen(s), inst->n_items);
    for (size_t i = 0; i < inst->n_items; i++) {
        a[i].value = 0;
        switch (s[i]) {
        case 'y':
            a[i].kind = ANSWER_YES;
            break;
        case 'n':
            a[i].kind = ANSWER_NO;
            break;
        case 'u':
            a[i].kind = ANSWER_UNKNOWN;
            break;
        case 'd':
            a[i].kind = ANSWER_DECLINED;
            break;
        case '-':
            a[i].kind = ANSWER_NOT_ASKED;
            break;
        default:
            ck_assert(s[i] >= '0' && s[i] <= '9');
            a[i].kind = ANSWER_VALUE;
            a[i].value = s[i] - '0';
        }
    }
}

/*
 * Case facts from an age: NULL gives no facts at all (every fact null), "?"
 * an unknown age, otherwise an estimated age in years.
 */
static const struct rule_value *case_facts(const char *age, struct rule_value *facts)
{
    struct scoring_age a;
    char err[200];
    if (age == NULL)
        return NULL;
    facts_clear(facts, FACTS__COUNT);
    int est = strcmp(age, "?") == 0 ? -1 : (int)strtol(age, NULL, 10);
    ck_assert_int_eq(scoring_age(NULL, est, "2024-05-01", &a, err, sizeof(err)), 0);
    scoring_age_fill(&a, facts);
    return facts;
}

struct score_case {
    const char *why;
    const char *inst;
    const char *age; /* see case_facts */
    const char *answers;
    enum scoring_result result;
    long long score;
    long long reachable;
    int answered;
    int next;
    int stop_item;
    const char *shown; /* one 0/1 per item, or NULL to skip the check */
    const char *band;  /* NULL to skip */
};

#define NEG SCORING_NEGATIVE
#define POS SCORING_POSITIVE
#define MAYBE SCORING_POSSIBLE
#define INC SCORING_INCOMPLETE

static const struct score_case cases[] = {
    /* any_yes, min_answered 2 */
    {"any_yes all no", "t_any:1", "15", "nnnn", NEG, 0, 0, 4, -1, -1, "1111", "negative"},
    {"any_yes one yes", "t_any:1", "15", "ynnn", POS, 1, 1, 4, -1, -1, NULL, "positive"},
    {"any_yes declined is not no", "t_any:1", "15", "nnnd", MAYBE, 0, 1, 3, -1, -1, NULL, NULL},
    {"any_yes unknown is not no", "t_any:1", "15", "nnnu", MAYBE, 0, 1, 3, -1, -1, NULL, NULL},
    {"any_yes too few answers", "t_any:1", "15", "n---", INC, 0, 0, 1, 1, -1, NULL, "incomplete"},
    {"any_yes not asked is no concern", "t_any:1", "15", "nn--", NEG, 0, 0, 2, 2, -1, NULL, NULL},
    {"any_yes positive beats incomplete", "t_any:1", "15", "y---", POS, 1, 1, 1, 1, -1, NULL, NULL},
    {"any_yes all declined", "t_any:1", "15", "dddd", INC, 0, 4, 0, -1, -1, NULL, NULL},
    {"any_yes nothing asked", "t_any:1", "15", "----", INC, 0, 0, 0, 0, -1, NULL, NULL},

    /* count_at_least 2, c is key, min_answered 3 */
    {"count all no", "t_count", "15", "nnnnn", NEG, 0, 0, 5, -1, -1, NULL, NULL},
    {"count one yes below n", "t_count", "15", "ynnnn", NEG, 1, 1, 5, -1, -1, NULL, NULL},
    {"count n yes", "t_count", "15", "yynnn", POS, 2, 2, 5, -1, -1, NULL, NULL},
    {"count key item alone", "t_count", "15", "nnynn", POS, 1, 1, 5, -1, -1, NULL, NULL},
    {"count yes plus declined reaches n", "t_count", "15", "ydnnn", MAYBE, 1, 2, 4, -1, -1, NULL,
     "possible"},
    {"count two unknown reach n", "t_count", "15", "uunnn", MAYBE, 0, 2, 3, -1, -1, NULL, NULL},
    {"count one declined below n", "t_count", "15", "dnnnn", NEG, 0, 1, 4, -1, -1, NULL, NULL},
    {"count declined key item", "t_count", "15", "nndnn", MAYBE, 0, 1, 4, -1, -1, NULL, NULL},
    {"count partial", "t_count", "15", "y-n--", INC, 1, 1, 2, 1, -1, NULL, NULL},
    {"count possible but partial", "t_count", "15", "yd---", INC, 1, 2, 1, 2, -1, NULL, NULL},
    {"count positive when partial", "t_count", "15", "yy---", POS, 2, 2, 2, 2, -1, NULL, NULL},

    /* weighted: a2 b3 c2(choice z) d2(count >= 2) e4 f1(key); possible 3, clear 6 */
    {"weighted all no", "t_weighted", "15", "nn00nn", NEG, 0, 0, 6, -1, -1, NULL, "no_concern"},
    {"weighted below possible", "t_weighted", "15", "yn00nn", NEG, 2, 2, 6, -1, -1, NULL,
     "no_concern"},
    {"weighted at possible", "t_weighted", "15", "ny00nn", MAYBE, 3, 3, 6, -1, -1, NULL,
     "possible_concern"},
    {"weighted below clear", "t_weighted", "15", "yy00nn", MAYBE, 5, 5, 6, -1, -1, NULL, NULL},
    {"weighted clear via choice and count", "t_weighted", "15", "nn22yn", POS, 8, 8, 6, -1, -1,
     NULL, "clear_concern"},
    {"weighted values below concern", "t_weighted", "15", "nn01nn", NEG, 0, 0, 6, -1, -1, NULL,
     NULL},
    {"weighted key item", "t_weighted", "15", "nn00ny", POS, 1, 1, 6, -1, -1, NULL,
     "clear_concern"},
    {"weighted declined could reach", "t_weighted", "15", "yn00dn", MAYBE, 2, 6, 5, -1, -1, NULL,
     NULL},
    {"weighted declined key item", "t_weighted", "15", "nn00nd", MAYBE, 0, 1, 5, -1, -1, NULL,
     NULL},
    {"weighted unknown cannot reach", "t_weighted", "15", "nnu0nn", NEG, 0, 2, 5, -1, -1, NULL,
     NULL},
    {"weighted large count", "t_weighted", "15", "yn05nn", MAYBE, 4, 4, 6, -1, -1, NULL, NULL},
    {"weighted partial", "t_weighted", "15", "y-----", INC, 2, 2, 1, 1, -1, NULL, "incomplete"},

    /* skip: b if a is a concern, c if minor, d (disclosure) if a answered, e if control >= 2 */
    {"skip adult, min_answered capped at shown", "t_skip", "30", "n--n-", NEG, 0, 0, 2, -1, -1,
     "10010", NULL},
    {"skip hidden answers ignored", "t_skip", "30", "nyyny", NEG, 0, 0, 2, -1, -1, "10010", NULL},
    {"skip hidden invalid answer ignored", "t_skip", "30", "n9-n-", NEG, 0, 0, 2, -1, -1, "10010",
     NULL},
    {"skip minor shows c", "t_skip", "15", "n-nn-", NEG, 0, 0, 3, -1, -1, "10110", NULL},
    {"skip minor partial", "t_skip", "15", "n-n--", INC, 0, 0, 2, 3, -1, "10110", NULL},
    {"skip follow-ups shown", "t_skip", "15", "yynnn", POS, 2, 2, 5, -1, -1, "11111", NULL},
    {"skip unknown age is minor", "t_skip", "?", "n-nn-", NEG, 0, 0, 3, -1, -1, "10110", NULL},
    {"skip unknown fact is false", "t_skip", NULL, "y----", INC, 1, 1, 1, 1, -1, "11010", NULL},
    {"skip next is a follow-up", "t_skip", "15", "y-n--", INC, 1, 1, 2, 1, -1, "11110", NULL},
    {"skip declined hides answered()", "t_skip", "30", "d----", INC, 0, 1, 0, -1, -1, "10000",
     NULL},

    /* disclosure stops the screening */
    {"disclosure stops", "t_skip", "15", "ynnyy", POS, 2, 2, 4, -1, 3, "11110", NULL},
    {"disclosure no goes on", "t_skip", "15", "yynny", POS, 3, 3, 5, -1, -1, "11111", NULL},

    /* shipped instruments */
    {"youth_quick all no", "youth_quick:1", "15", "nnnn-", NEG, 0, 0, 4, -1, -1, "11110", NULL},
    {"youth_quick follow-up hidden", "youth_quick:1", "15", "nnnny", NEG, 0, 0, 4, -1, -1, "11110",
     NULL},
    {"youth_quick one yes", "youth_quick:1", "15", "ynnnn", POS, 1, 1, 5, -1, -1, "11111", NULL},
    {"youth_quick disclosure", "youth_quick:1", "15", "nnnyy", POS, 2, 2, 5, -1, 4, "11111", NULL},
    {"youth_quick declined", "youth_quick:1", "15", "dnnn-", MAYBE, 0, 1, 3, -1, -1, "11110", NULL},
    {"youth_health two yes", "youth_health", "15", "yynnnn", POS, 2, 2, 6, -1, -1, NULL, NULL},
    {"youth_health one yes", "youth_health", "15", "ynnnnn", NEG, 1, 1, 6, -1, -1, NULL, NULL},
    {"youth_health exchange is key", "youth_health", "15", "nnnnny", POS, 1, 1, 6, -1, -1, NULL,
     NULL},
    {"youth_health declined key", "youth_health", "15", "ynnnnd", MAYBE, 1, 2, 5, -1, -1, NULL,
     NULL},
    {"youth_health partial", "youth_health", "15", "yu----", INC, 1, 2, 1, 2, -1, NULL, NULL},
    {"adult one yes", "adult:1", "30", "ynnnnnnn", NEG, 1, 1, 8, -1, -1, NULL, NULL},
    {"adult two yes", "adult:1", "30", "yynnnnnn", POS, 2, 2, 8, -1, -1, NULL, NULL},
    {"adult forced sex is key", "adult:1", "30", "nnnnnnyn", POS, 1, 1, 8, -1, -1, NULL, NULL},
    {"adult declined", "adult:1", "30", "ydnnnnnn", MAYBE, 1, 2, 7, -1, -1, NULL, NULL},
    {"observation all no", "staff_observation:1", "15", "nnnnnn0nnnnnn0nnnnnnn", NEG, 0, 0, 21, -1,
     -1, "111111111111111111111", "no_concern"},
    {"observation school hidden for adults", "staff_observation:1", "30", "nnnnnn0nnnnnn0nnnnnnn",
     NEG, 0, 0, 20, -1, -1, "111111111111111110111", NULL},
    {"observation running away and system contact", "staff_observation:1", "15",
     "nnnnnn0nnnnnn3ynnnnnn", MAYBE, 5, 5, 21, -1, -1, NULL, "possible_concern"},
    {"observation clear concern", "staff_observation:1", "15", "nnynyn0nnynnn2nnnnnnn", POS, 12, 12,
     21, -1, -1, NULL, "clear_concern"},
    {"observation exchange is key", "staff_observation:1", "15", "nnnnnn0nynnnn0nnnnnnn", POS, 6, 6,
     21, -1, -1, NULL, "clear_concern"},
    {"observation one unknown", "staff_observation:1", "15", "nnnnnu0nnnnnn0nnnnnnn", NEG, 0, 2, 20,
     -1, -1, NULL, "no_concern"},
    {"observation no fixed place and unknown", "staff_observation:1", "15", "nnunnn3nnnnnn0nnnnnnn",
     MAYBE, 2, 4, 20, -1, -1, NULL, NULL},
    {"observation told staff", "staff_observation:1", "15", "y--------------------", POS, 10, 10, 1,
     -1, 0, "100000000000000000000", NULL},

    /* version 2 of the shipped instruments */
    {"youth_quick v2 all no", "youth_quick", "15", "nnnnn-", NEG, 0, 0, 5, -1, -1, "111110", NULL},
    {"youth_quick v2 made to work", "youth_quick", "15", "nnnnyn", POS, 1, 1, 6, -1, -1, "111111",
     NULL},
    {"youth_quick v2 labour disclosure", "youth_quick", "15", "nnnnyy", POS, 2, 2, 6, -1, 5,
     "111111", NULL},
    {"adult v2 all no, the means follow-ups hidden", "adult", "30", "nnnnnnnn---", NEG, 0, 0, 8, -1,
     -1, "11111111000", NULL},
    {"adult v2 exchange alone is no positive", "adult", "30", "nnnnnnnynnn", NEG, 1, 1, 11, -1, -1,
     "11111111111", NULL},
    {"adult v2 exchange by force is key", "adult", "30", "nnnnnnnyynn", POS, 2, 2, 11, -1, -1, NULL,
     "positive"},
    {"adult v2 threats and papers", "adult", "30", "nnnyynnn---", POS, 2, 2, 8, -1, -1, NULL, NULL},
    {"observation v2 all no", "staff_observation", "15", "nnnnnn0nnnnnnn0nnnnnnn", NEG, 0, 0, 22,
     -1, -1, "1111111111111111111111", "no_concern"},
    {"observation v2 debt bondage", "staff_observation", "15", "nnnnnn0nnnnnny0nnnnnnn", MAYBE, 4,
     4, 22, -1, -1, NULL, "possible_concern"},
};

START_TEST(test_score_case)
{
    const struct score_case *sc = &cases[_i];
    const struct instrument *inst = find(sc->inst);
    struct answer answers[MAX_ITEMS];
    struct rule_value facts[FACTS__COUNT];
    unsigned char shown[MAX_ITEMS];
    struct scoring_outcome o;
    char err[200] = "";

    parse_answers(inst, sc->answers, answers);
    int rc = scoring_run(inst, answers, case_facts(sc->age, facts), &o, shown, err, sizeof(err));
    ck_assert_msg(rc == 0, "%s: %s", sc->why, err);
    ck_assert_msg(o.result == sc->result, "%s: result %s, want %s", sc->why,
                  scoring_result_name(o.result), scoring_result_name(sc->result));
    ck_assert_msg(o.score == sc->score, "%s: score %lld", sc->why, o.score);
    ck_assert_msg(o.reachable == sc->reachable, "%s: reachable %lld", sc->why, o.reachable);
    ck_assert_msg(o.answered == sc->answered, "%s: answered %d", sc->why, o.answered);
    ck_assert_msg(o.next == sc->next, "%s: next %d", sc->why, o.next);
    ck_assert_msg(o.stop_item == sc->stop_item, "%s: stop_item %d", sc->why, o.stop_item);
    ck_assert_int_eq(o.stopped, sc->stop_item >= 0);
    if (sc->shown != NULL) {
        char got[MAX_ITEMS + 1];
        for (size_t i = 0; i < inst->n_items; i++)
            got[i] = shown[i] ? '1' : '0';
        got[inst->n_items] = '\0';
        ck_assert_msg(strcmp(got, sc->shown) == 0, "%s: shown %s", sc->why, got);
    }
    if (sc->band != NULL)
        ck_assert_str_eq(scoring_band(inst, &o), sc->band);
}
END_TEST

START_TEST(test_tallies)
{
    const struct instrument *w = find("t_weighted");
    struct answer a[MAX_ITEMS];
    struct scoring_outcome o;
    char err[200];
    parse_answers(w, "nn22dy", a);
    ck_assert_int_eq(scoring_run(w, a, NULL, &o, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(o.counts[ANSWER_NO], 2);
    ck_assert_int_eq(o.counts[ANSWER_VALUE], 2);
    ck_assert_int_eq(o.counts[ANSWER_DECLINED], 1);
    ck_assert_int_eq(o.counts[ANSWER_YES], 1);
    ck_assert_int_eq(o.counts[ANSWER_UNKNOWN], 0);
    ck_assert_int_eq(o.domain_score[INSTRUMENT_DOMAIN_CONDITIONS], 2);
    ck_assert_int_eq(o.domain_score[INSTRUMENT_DOMAIN_MINORS], 2);
    ck_assert_int_eq(o.domain_score[INSTRUMENT_DOMAIN_LABOUR], 0);
    ck_assert_int_eq(o.domain_score[INSTRUMENT_DOMAIN_SEX_TRAFFICKING], 1);
    ck_assert_int_eq(o.domain_concerns[INSTRUMENT_DOMAIN_MINORS], 1);
    ck_assert_int_eq(o.key_item, 5);
    ck_assert_int_eq(o.shown, 6);
    ck_assert_int_eq(o.result, SCORING_POSITIVE);
}
END_TEST

START_TEST(test_disclosure_counts)
{
    const struct instrument *s = find("t_skip");
    struct answer a[MAX_ITEMS];
    struct rule_value facts[FACTS__COUNT];
    struct scoring_outcome o;
    char err[200];
    parse_answers(s, "ynnyy", a);
    ck_assert_int_eq(scoring_run(s, a, case_facts("15", facts), &o, NULL, err, sizeof(err)), 0);
    ck_assert(o.stopped);
    ck_assert_int_eq(o.after_stop, 1);
    ck_assert_int_eq(o.skipped, 0);
    ck_assert_int_eq(o.counts[ANSWER_YES], 2); /* e's yes was never asked */

    scoring_fill_facts(s, &o, facts);
    ck_assert_int_eq(facts[FACTS_DISCLOSURE].type, RULE_BOOL);
    ck_assert(facts[FACTS_DISCLOSURE].u.b);
    ck_assert_str_eq(facts[FACTS_RESULT].u.s, "positive");
    ck_assert_str_eq(facts[FACTS_BAND].u.s, "positive");
    ck_assert(facts[FACTS_SCORE].type == RULE_NUM && facts[FACTS_SCORE].u.n == 2.0);
}
END_TEST

/* ------------------------------------------------------------ evidence --- */

struct evidence_case {
    const char *why;
    const char *inst;
    const char *age;
    const char *answers;
    const char *classes; /* evidence_mask_text of the classes */
    int risk_count;
    enum facts_disclosure_kind kind;
};

static const struct evidence_case evidence_cases[] = {
    {"an exchange is commercial sex", "youth_quick:2", "15", "nnnyn-", "commercial_sex", 0,
     FACTS_DISCLOSURE_NONE},
    {"made to work is exploitation with coercion", "youth_quick:2", "15", "nnnnyn",
     "coercion, labour_exploitation", 0, FACTS_DISCLOSURE_NONE},
    {"an unclear disclosure after an exchange is about sex", "youth_quick:2", "15", "nnnyny",
     "commercial_sex, coercion, disclosure", 0, FACTS_DISCLOSURE_SEX},
    {"... after made to work about labour", "youth_quick:2", "15", "nnnnyy",
     "coercion, labour_exploitation, disclosure", 0, FACTS_DISCLOSURE_LABOUR},
    {"... after both about both", "youth_quick:2", "16", "nnnyyy",
     "commercial_sex, coercion, labour_exploitation, disclosure", 0, FACTS_DISCLOSURE_BOTH},
    {"... after a false offer it stays unclear", "youth_quick:2", "15", "ynnnny",
     "fraud, coercion, disclosure", 0, FACTS_DISCLOSURE_UNCLEAR},
    {"declined is not no, and not evidence either", "youth_quick:2", "15", "nnndn-", "", 0,
     FACTS_DISCLOSURE_NONE},
    {"risk signs are counted, never more", "youth_health:2", "15", "yyynnn", "risk", 3,
     FACTS_DISCLOSURE_NONE},
    {"a choice and a count are risk when they are a concern", "staff_observation:2", "15",
     "nnnnnn3nnnnnnn2nnnnnnn", "risk", 2, FACTS_DISCLOSURE_NONE},
    {"homelessness and long hours stay risk beside low pay", "staff_observation:2", "15",
     "nnnnnn3ynnnnyn0nnnnnnn", "labour_exploitation, risk", 2, FACTS_DISCLOSURE_NONE},
    {"the told-staff disclosure stops first: unclear", "staff_observation:2", "15",
     "y---------------------", "disclosure", 0, FACTS_DISCLOSURE_UNCLEAR},
    {"an exchange by force", "adult:2", "30", "nnnnnnnyynn", "commercial_sex, force", 0,
     FACTS_DISCLOSURE_NONE},
    {"hidden items establish nothing", "t_skip", "30", "nyyny", "", 0, FACTS_DISCLOSURE_NONE},
    {"nothing after a disclosure counts", "t_skip", "15", "ynnyy", "fraud, coercion, disclosure", 0,
     FACTS_DISCLOSURE_UNCLEAR},
    {"version 1 by its class-mapping file", "youth_quick:1", "15", "nnnyy",
     "commercial_sex, coercion, disclosure", 0, FACTS_DISCLOSURE_SEX},
    {"version 1's held phone or money watched is risk", "staff_observation:1", "15",
     "nnnynn0nnnnnn0nnnnnnn", "risk", 1, FACTS_DISCLOSURE_NONE},
};

/*
 * Scoring computes what the concern answers establish; routing, which has
 * only the concern item ids of a stored screening, computes the same.
 */
START_TEST(test_evidence_case)
{
    const struct evidence_case *ec = &evidence_cases[_i];
    const struct instrument *inst = find(ec->inst);
    struct answer answers[MAX_ITEMS];
    struct rule_value facts[FACTS__COUNT];
    unsigned char shown[MAX_ITEMS];
    struct scoring_outcome o;
    struct facts_evidence_set again;
    char err[200] = "", got[200];
    char *ids[MAX_ITEMS];
    size_t n = 0;

    parse_answers(inst, ec->answers, answers);
    ck_assert_msg(
        scoring_run(inst, answers, case_facts(ec->age, facts), &o, shown, err, sizeof(err)) == 0,
        "%s: %s", ec->why, err);
    evidence_mask_text(o.evidence.classes, got, sizeof(got));
    ck_assert_msg(strcmp(got, ec->classes) == 0, "%s: classes '%s', want '%s'", ec->why, got,
                  ec->classes);
    ck_assert_int_eq(o.evidence.risk_count, ec->risk_count);
    ck_assert_msg(o.evidence.disclosure == ec->kind, "%s: kind %d", ec->why, o.evidence.disclosure);

    /* what is stored: the shown, reached items with a concern */
    for (size_t i = 0; i < inst->n_items; i++) {
        int reached = !o.stopped || (int)i <= o.stop_item;
        if (shown[i] && reached && scoring_is_concern(&inst->items[i], &answers[i]))
            ids[n++] = inst->items[i].id;
    }
    ck_assert_uint_eq(evidence_of_items(inst, ids, n, &again), 0);
    ck_assert_uint_eq(again.classes, o.evidence.classes);
    ck_assert_int_eq(again.risk_count, o.evidence.risk_count);
    ck_assert_int_eq(again.disclosure, o.evidence.disclosure);
}
END_TEST

/* The facts routing reads: evidence("class"), ffc, risk_count, disclosure_kind. */
START_TEST(test_evidence_facts)
{
    const struct instrument *q = find("youth_quick:2");
    struct answer a[MAX_ITEMS];
    struct rule_value facts[FACTS__COUNT];
    struct scoring_outcome o;
    char err[200];
    parse_answers(q, "nnnyyy", a);
    ck_assert_int_eq(scoring_run(q, a, case_facts("15", facts), &o, NULL, err, sizeof(err)), 0);
    scoring_fill_facts(q, &o, facts);
    for (int c = 0; c < FACTS_EVIDENCE__COUNT; c++) {
        ck_assert_int_eq(facts[FACTS_EVIDENCE_FIRST + c].type, RULE_BOOL);
        ck_assert_int_eq(facts[FACTS_EVIDENCE_FIRST + c].u.b,
                         c == FACTS_EVIDENCE_COMMERCIAL_SEX || c == FACTS_EVIDENCE_COERCION ||
                             c == FACTS_EVIDENCE_LABOUR_EXPLOITATION ||
                             c == FACTS_EVIDENCE_DISCLOSURE);
    }
    ck_assert(facts[FACTS_FFC].type == RULE_BOOL && facts[FACTS_FFC].u.b);
    ck_assert(facts[FACTS_RISK_COUNT].type == RULE_NUM && facts[FACTS_RISK_COUNT].u.n == 0.0);
    ck_assert_str_eq(facts[FACTS_DISCLOSURE_KIND].u.s, "both");

    /* no disclosure: the kind is null; risk alone is no ffc */
    const struct instrument *h = find("youth_health:2");
    parse_answers(h, "ynnynn", a);
    ck_assert_int_eq(scoring_run(h, a, case_facts("15", facts), &o, NULL, err, sizeof(err)), 0);
    scoring_fill_facts(h, &o, facts);
    ck_assert_int_eq(facts[FACTS_DISCLOSURE_KIND].type, RULE_NULL);
    ck_assert(!facts[FACTS_FFC].u.b);
    ck_assert(facts[FACTS_RISK_COUNT].u.n == 2.0);
    ck_assert(facts[FACTS_EVIDENCE_FIRST + FACTS_EVIDENCE_RISK].u.b);
}
END_TEST

/* An id that is no item of the version establishes nothing, and is counted. */
START_TEST(test_evidence_of_unknown_items)
{
    const struct instrument *q = find("youth_quick:2");
    char *ids[] = {"exchanged_sex", "no_such_item", "made_to_work"};
    struct facts_evidence_set ev;
    ck_assert_uint_eq(evidence_of_items(q, ids, 3, &ev), 1);
    ck_assert_uint_eq(ev.classes, FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COMMERCIAL_SEX) |
                                      FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_LABOUR_EXPLOITATION) |
                                      FACTS_EVIDENCE_BIT(FACTS_EVIDENCE_COERCION));
    ck_assert_uint_eq(evidence_of_items(q, ids, 0, &ev), 0);
    ck_assert_uint_eq(ev.classes, 0);
    ck_assert_int_eq(ev.disclosure, FACTS_DISCLOSURE_NONE);
}
END_TEST

struct bad_answer {
    const char *inst;
    const char *answers;
    const char *err;
};

static const struct bad_answer bad_answers[] = {
    {"t_weighted", "9n00nn", "item 'a': answer 'value' does not fit a yes_no item"},
    {"t_weighted", "nny0nn", "item 'c': answer 'yes' does not fit a choice item"},
    {"t_weighted", "nn30nn", "item 'c': choice 3 is out of range (0 to 2)"},
    {"t_weighted", "nn0nnn", "item 'd': answer 'no' does not fit a count item"},
};

START_TEST(test_bad_answer)
{
    const struct bad_answer *b = &bad_answers[_i];
    const struct instrument *inst = find(b->inst);
    struct answer a[MAX_ITEMS];
    struct scoring_outcome o;
    char err[200] = "";
    parse_answers(inst, b->answers, a);
    ck_assert_int_eq(scoring_run(inst, a, NULL, &o, NULL, err, sizeof(err)), -1);
    ck_assert_str_eq(err, b->err);
}
END_TEST

START_TEST(test_bad_answer_values)
{
    const struct instrument *w = find("t_weighted");
    struct answer a[MAX_ITEMS];
    struct scoring_outcome o;
    char err[200] = "";
    parse_answers(w, "nn0-nn", a);
    a[3] = (struct answer){.kind = ANSWER_VALUE, .value = -1};
    ck_assert_int_eq(scoring_run(w, a, NULL, &o, NULL, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "item 'd': count -1 is negative");
    a[3] = (struct answer){.kind = (enum answer_kind)99};
    ck_assert_int_eq(scoring_run(w, a, NULL, &o, NULL, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "item 'd': answer kind 99 is not valid");
}
END_TEST

struct age_case {
    const char *dob;
    int estimate;
    const char *on;
    int known, estimated, age, minor;
    const char *pathway; /* NULL when an error is expected */
    const char *err;
};

static const struct age_case ages[] = {
    {"2010-06-15", -1, "2024-06-14", 1, 0, 13, 1, "minor", NULL},
    {"2006-06-15", -1, "2024-06-15", 1, 0, 18, 0, "adult", NULL},
    {"2006-06-15", -1, "2024-06-14", 1, 0, 17, 1, "minor", NULL},
    /* age at exploitation differs from age now */
    {"2006-06-15", -1, "2019-01-01", 1, 0, 12, 1, "minor", NULL},
    {NULL, 16, "2024-01-01", 0, 1, 16, 1, "minor", NULL},
    {NULL, 17, "2024-01-01", 0, 1, 17, 1, "minor", NULL},
    {NULL, 25, "2024-01-01", 0, 1, 25, 0, "adult", NULL},
    {NULL, -1, "2024-01-01", 0, 0, -1, 1, "minor_unknown_age", NULL},
    {"2000-01-01", 15, "2024-01-01", 1, 0, 24, 0, "adult", NULL}, /* birth date wins */
    {"2008-02-29", -1, "2026-02-28", 1, 0, 17, 1, "minor", NULL},
    {"2008-02-29", -1, "2026-03-01", 1, 0, 18, 0, "adult", NULL},
    {"2008-02-29", -1, "2024-02-29", 1, 0, 16, 1, "minor", NULL},
    {"2030-01-01", -1, "2024-01-01", 0, 0, 0, 0, NULL,
     "date of birth 2030-01-01 is after 2024-01-01"},
    {"2023-02-29", -1, "2024-01-01", 0, 0, 0, 0, NULL,
     "date of birth '2023-02-29' is not a valid YYYY-MM-DD date"},
    {"2024-1-01", -1, "2024-01-01", 0, 0, 0, 0, NULL,
     "date of birth '2024-1-01' is not a valid YYYY-MM-DD date"},
    {NULL, 200, "2024-01-01", 0, 0, 0, 0, NULL, "estimated age 200 is out of range (0 to 130)"},
    {NULL, -5, "2024-01-01", 0, 0, 0, 0, NULL, "estimated age -5 is out of range (0 to 130)"},
    {NULL, 16, NULL, 0, 0, 0, 0, NULL, "date '(none)' is not a valid YYYY-MM-DD date"},
    {NULL, 16, "2024-13-01", 0, 0, 0, 0, NULL, "date '2024-13-01' is not a valid YYYY-MM-DD date"},
    {"1800-01-01", -1, "2024-01-01", 0, 0, 0, 0, NULL,
     "date of birth 1800-01-01 gives an age of 224"},
};

START_TEST(test_age)
{
    const struct age_case *ac = &ages[_i];
    struct scoring_age a;
    char err[200] = "";
    int rc = scoring_age(ac->dob, ac->estimate, ac->on, &a, err, sizeof(err));
    if (ac->pathway == NULL) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err, ac->err);
        return;
    }
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_int_eq(a.known, ac->known);
    ck_assert_int_eq(a.estimated, ac->estimated);
    ck_assert_int_eq(a.age, ac->age);
    ck_assert_int_eq(a.minor, ac->minor);
    ck_assert_str_eq(a.pathway, ac->pathway);
}
END_TEST

/* Unknown age reaches rules as minor with a null age: "possibly a minor" is a minor. */
START_TEST(test_unknown_age_facts)
{
    struct rule_value facts[FACTS__COUNT];
    struct facts_resolver r;
    struct rule_error e;
    case_facts("?", facts);
    ck_assert_int_eq(facts[FACTS_AGE].type, RULE_NULL);
    ck_assert(facts[FACTS_MINOR].type == RULE_BOOL && facts[FACTS_MINOR].u.b);
    ck_assert(facts[FACTS_AGE_KNOWN].type == RULE_BOOL && !facts[FACTS_AGE_KNOWN].u.b);
    ck_assert(facts[FACTS_AGE_ESTIMATED].type == RULE_BOOL && !facts[FACTS_AGE_ESTIMATED].u.b);
    ck_assert_str_eq(facts[FACTS_PATHWAY].u.s, "minor_unknown_age");

    facts_resolver_init(&r, FACTS_GROUP_CASE, NULL, 0, NULL);
    struct rule_schema schema = facts_resolver_schema(&r);
    struct rule_prog *p =
        rule_compile("minor and age == null and pathway == \"minor_unknown_age\"", &schema, &e);
    ck_assert_msg(p != NULL, "%d: %s", e.col, e.msg);
    ck_assert_int_eq(rule_eval(p, facts, NULL), 1);
    rule_free(p);
    facts_resolver_release(&r);
}
END_TEST

START_TEST(test_population)
{
    const struct instrument *q = find("youth_quick"); /* 12 to 24 */
    struct scoring_age a;
    char err[200];
    static const struct {
        int estimate;
        int fits;
    } rows[] = {{-1, 1}, {11, 0}, {12, 1}, {24, 1}, {25, 0}};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ck_assert_int_eq(scoring_age(NULL, rows[i].estimate, "2024-01-01", &a, err, sizeof(err)),
                         0);
        ck_assert_msg(scoring_population_fits(q, &a) == rows[i].fits, "age %d", rows[i].estimate);
    }
}
END_TEST

START_TEST(test_names)
{
    for (int k = 0; k < ANSWER__COUNT; k++)
        ck_assert_int_eq(answer_kind_lookup(answer_kind_name((enum answer_kind)k)), k);
    ck_assert_int_eq(answer_kind_lookup("maybe"), -1);
    ck_assert_ptr_null(answer_kind_name(ANSWER__COUNT));
    ck_assert_str_eq(scoring_result_name(SCORING_INCOMPLETE), "incomplete");
    ck_assert_ptr_null(scoring_result_name((enum scoring_result)4));
}
END_TEST

static Suite *scoring_suite(void)
{
    Suite *s = suite_create("scoring");
    TCase *tc = tcase_create("score");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_score_case, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_tallies);
    tcase_add_test(tc, test_disclosure_counts);
    tcase_add_loop_test(tc, test_evidence_case, 0,
                        (int)(sizeof(evidence_cases) / sizeof(evidence_cases[0])));
    tcase_add_test(tc, test_evidence_facts);
    tcase_add_test(tc, test_evidence_of_unknown_items);
    tcase_add_loop_test(tc, test_bad_answer, 0,
                        (int)(sizeof(bad_answers) / sizeof(bad_answers[0])));
    tcase_add_test(tc, test_bad_answer_values);
    tcase_add_test(tc, test_population);
    suite_add_tcase(s, tc);

    tc = tcase_create("age");
    tcase_add_loop_test(tc, test_age, 0, (int)(sizeof(ages) / sizeof(ages[0])));
    tcase_add_test(tc, test_unknown_age_facts);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(scoring_suite())
