/*
 * check_rule.c: tests of the rule language (plugins/trafficking/rule.c): parsing,
 * precedence, null semantics, traces, explanations, compile errors, and that
 * evaluation allocates nothing. Must never depend on the facts vocabulary of facts.c.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "rules/rule.h"

/* ---- allocation counting: honest in both the sanitizer and the plain (valgrind) build ---- */

static volatile unsigned long alloc_count;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RULE_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RULE_TEST_ASAN 1
#endif

#if defined(RULE_TEST_ASAN)
/* libasan calls these on every allocation; declared here because GCC ships no header. */
int __sanitizer_install_malloc_and_free_hooks(void (*on_malloc)(const volatile void *, size_t),
                                              void (*on_free)(const volatile void *));

static void count_malloc(const volatile void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
    alloc_count++;
}

static void ignore_free(const volatile void *ptr)
{
    (void)ptr;
}

static void start_counting(void)
{
    static int installed;
    if (!installed)
        installed = __sanitizer_install_malloc_and_free_hooks(count_malloc, ignore_free) != 0;
}
#elif defined(__GLIBC__)
/*
 * Without ASan, this binary replaces malloc and friends (glibc allows it) with
 * counters over glibc's own allocator, so every allocation in the process is seen.
 */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);

void *malloc(size_t size)
{
    alloc_count++;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    alloc_count++;
    return __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
    alloc_count++;
    return __libc_realloc(ptr, size);
}

void free(void *ptr)
{
    __libc_free(ptr);
}

static void start_counting(void) {}
#else
static void start_counting(void) {}
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define RULE_TEST_VALGRIND 1
#endif
#endif

static int on_valgrind(void)
{
#if defined(RULE_TEST_VALGRIND)
    return RUNNING_ON_VALGRIND != 0;
#else
    return 0;
#endif
}

/*
 * 1 when the counter sees this process's allocations. Valgrind swaps the
 * replacement above for its own malloc unless run with
 * --soname-synonyms=somalloc=nouserintercepts.
 */
static int counter_sees_allocations(void)
{
    start_counting();
    unsigned long before = alloc_count;
    void *volatile probe = malloc(16);
    free(probe);
    return alloc_count != before;
}

/* ---- the test schema ---- */

#define MAX_SLOTS 64
#define MAX_CALLS 32

static const struct {
    const char *name;
    enum rule_type type;
} fixed_names[] = {
    {"minor", RULE_BOOL}, {"age", RULE_NUM},   {"age_known", RULE_BOOL},      {"state", RULE_STR},
    {"band", RULE_STR},   {"score", RULE_NUM}, {"runaway_return", RULE_BOOL},
};
#define N_FIXED ((int)(sizeof fixed_names / sizeof fixed_names[0]))

static const struct {
    const char *name;
    enum rule_type type;
} functions[] = {
    {"indicator", RULE_BOOL},
    {"answered", RULE_BOOL},
    {"domain_score", RULE_NUM},
    {"consent", RULE_BOOL},
};

/* Calls get slots from N_FIXED on, in order of first use; a repeated call shares its slot. */
struct test_schema {
    struct {
        const char *fn; /* static, from functions[] */
        char arg[64];
    } calls[MAX_CALLS];
    int n_calls;
};

static int test_resolve(void *ud, const char *fn, const char *name, enum rule_type *type, char *err,
                        size_t errlen)
{
    struct test_schema *ts = ud;
    if (fn == NULL) {
        for (int i = 0; i < N_FIXED; i++) {
            if (strcmp(fixed_names[i].name, name) == 0) {
                *type = fixed_names[i].type;
                return i;
            }
        }
        snprintf(err, errlen, "no fact '%s' in the test schema", name);
        return -1;
    }
    for (size_t f = 0; f < sizeof functions / sizeof functions[0]; f++) {
        if (strcmp(functions[f].name, fn) != 0)
            continue;
        *type = functions[f].type;
        for (int i = 0; i < ts->n_calls; i++)
            if (ts->calls[i].fn == functions[f].name && strcmp(ts->calls[i].arg, name) == 0)
                return N_FIXED + i;
        if (ts->n_calls == MAX_CALLS || strlen(name) >= sizeof ts->calls[0].arg) {
            snprintf(err, errlen, "test schema is full");
            return -1;
        }
        ts->calls[ts->n_calls].fn = functions[f].name;
        snprintf(ts->calls[ts->n_calls].arg, sizeof ts->calls[0].arg, "%s", name);
        return N_FIXED + ts->n_calls++;
    }
    snprintf(err, errlen, "no function '%s' in the test schema", fn);
    return -1;
}

/* ---- people: the facts a case might have; anything not listed is unknown ---- */

/* clang-format off */
#define B(x) {.type = RULE_BOOL, .u.b = (x)}
#define N(x) {.type = RULE_NUM, .u.n = (x)}
#define S(x) {.type = RULE_STR, .u.s = (x)}
/* clang-format on */

struct fact {
    const char *fn; /* NULL for a fixed name */
    const char *name;
    struct rule_value v;
};

enum person_id { MINOR_CA, ADULT_NV, UNKNOWN_AGE, NOBODY, ODD_TYPES, N_PERSONS };

static const struct fact people[N_PERSONS][16] = {
    [MINOR_CA] =
        {
            {NULL, "minor", B(1)},
            {NULL, "age", N(15)},
            {NULL, "age_known", B(1)},
            {NULL, "state", S("CA")},
            {NULL, "band", S("high")},
            {NULL, "score", N(4)},
            {NULL, "runaway_return", B(1)},
            {"indicator", "exchanged_sex", B(1)},
            {"indicator", "paid_for_sex", B(0)},
            {"domain_score", "sex_trafficking", N(3)},
            {"consent", "law_enforcement", B(0)},
            {"answered", "q1", B(1)},
        },
    [ADULT_NV] =
        {
            {NULL, "minor", B(0)},
            {NULL, "age", N(30)},
            {NULL, "age_known", B(1)},
            {NULL, "state", S("NV")},
            {NULL, "band", S("low")},
            {NULL, "score", N(0)},
            {NULL, "runaway_return", B(0)},
            {"indicator", "exchanged_sex", B(0)},
            {"indicator", "paid_for_sex", B(1)},
            {"domain_score", "sex_trafficking", N(1)},
            {"consent", "law_enforcement", B(1)},
        },
    [UNKNOWN_AGE] =
        {
            {NULL, "age_known", B(0)},
            {NULL, "state", S("TX")},
            {"indicator", "exchanged_sex", B(1)},
        },
    [NOBODY] = {{NULL, NULL, {.type = RULE_NULL}}},
    /* facts of the wrong type, a NaN and a NULL string read as unknown; any non-zero b is true */
    [ODD_TYPES] =
        {
            {NULL, "minor", B(5)},
            {NULL, "age", S("15")},
            {NULL, "score", N(NAN)},
            {NULL, "state", {.type = RULE_STR, .u.s = NULL}},
            {NULL, "band", S("a\"b")},
        },
};

static void fill_facts(const struct test_schema *ts, enum person_id who, int n,
                       struct rule_value *facts)
{
    for (int slot = 0; slot < n; slot++) {
        const char *fn = slot < N_FIXED ? NULL : ts->calls[slot - N_FIXED].fn;
        const char *name = slot < N_FIXED ? fixed_names[slot].name : ts->calls[slot - N_FIXED].arg;
        facts[slot] = (struct rule_value){.type = RULE_NULL};
        for (const struct fact *f = people[who]; f->name != NULL; f++) {
            int same_fn = (fn == NULL && f->fn == NULL) ||
                          (fn != NULL && f->fn != NULL && strcmp(fn, f->fn) == 0);
            if (same_fn && strcmp(name, f->name) == 0)
                facts[slot] = f->v;
        }
    }
}

/* Compiles src against a fresh test schema; fails the test with the compile error if any. */
static struct rule_prog *compile_ok(const char *src, struct test_schema *ts)
{
    struct rule_schema schema = {.resolve = test_resolve, .ud = ts};
    struct rule_error err;
    memset(ts, 0, sizeof *ts);
    struct rule_prog *prog = rule_compile(src, &schema, &err);
    ck_assert_msg(prog != NULL, "'%s' did not compile: col %d: %s", src, err.col, err.msg);
    ck_assert_int_le(rule_slot_count(prog), MAX_SLOTS);
    return prog;
}

/* ---- evaluation ---- */

static const struct eval_case {
    const char *src;
    enum person_id who;
    int want;
} eval_cases[] = {
    /* precedence: not > and > or; comparisons bind tighter than not */
    {"true or false and false", NOBODY, 1},
    {"false and false or true", NOBODY, 1},
    {"(true or false) and false", NOBODY, 0},
    {"not false and false", NOBODY, 0},
    {"not (false and false)", NOBODY, 1},
    {"not not true", NOBODY, 1},
    {"not 1 == 2", NOBODY, 1},
    {"minor or age_known and false", MINOR_CA, 1},
    {"minor or age_known and false", ADULT_NV, 0},
    {"minor\n\tand\r\nage_known", MINOR_CA, 1},
    /* comparisons */
    {"age < 18", MINOR_CA, 1},
    {"age < 18", ADULT_NV, 0},
    {"age <= 15", MINOR_CA, 1},
    {"age > 15", MINOR_CA, 0},
    {"age >= 15", MINOR_CA, 1},
    {"age == 15.0", MINOR_CA, 1},
    {"age != 15", MINOR_CA, 0},
    {"007 == 7", NOBODY, 1},
    {"0.5 < 0.75", NOBODY, 1},
    {"0.1 == 0.10", NOBODY, 1},
    {"state == \"CA\"", MINOR_CA, 1},
    {"state == \"CA\"", ADULT_NV, 0},
    {"\"a\\\"b\\\\\" == \"a\\\"b\\\\\"", NOBODY, 1},
    {"band == \"a\\\"b\"", ODD_TYPES, 1},
    {"minor == false", ADULT_NV, 1},
    {"minor != age_known", ADULT_NV, 1},
    {"domain_score(\"sex_trafficking\") >= 2", MINOR_CA, 1},
    {"domain_score(\"sex_trafficking\") >= 2", ADULT_NV, 0},
    /* null semantics: unknown is false in and/or/not and in ordering; == null finds it */
    {"age < 18", UNKNOWN_AGE, 0},
    {"age >= 18", UNKNOWN_AGE, 0},
    {"not (age < 18)", UNKNOWN_AGE, 1},
    {"age == null", UNKNOWN_AGE, 1},
    {"age == null", MINOR_CA, 0},
    {"null == age", UNKNOWN_AGE, 1},
    {"age != null", MINOR_CA, 1},
    {"age != 18", UNKNOWN_AGE, 1},
    {"null == null", NOBODY, 1},
    {"minor or age == null", UNKNOWN_AGE, 1},
    {"minor or age == null", MINOR_CA, 1},
    {"minor or age == null", ADULT_NV, 0},
    {"minor", UNKNOWN_AGE, 0},
    {"not minor", UNKNOWN_AGE, 1},
    {"minor and true", UNKNOWN_AGE, 0},
    {"state != \"CA\"", NOBODY, 1},
    {"indicator(\"never_recorded\") == null", MINOR_CA, 1},
    /* lists */
    {"state in [\"CA\", \"NV\"]", MINOR_CA, 1},
    {"state in [\"CA\", \"NV\"]", ADULT_NV, 1},
    {"state in [\"CA\", \"NV\"]", UNKNOWN_AGE, 0},
    {"state in [\"CA\", \"NV\"]", NOBODY, 0},
    {"state not in [\"CA\", \"NV\"]", UNKNOWN_AGE, 1},
    {"state not in [\"CA\", \"NV\"]", MINOR_CA, 0},
    {"state not in [\"CA\", \"NV\"]", NOBODY, 1},
    {"not state in [\"CA\"]", NOBODY, 1},
    {"age in [15, 16, 17]", MINOR_CA, 1},
    {"age in [15, 16, 17]", ADULT_NV, 0},
    {"score in [4.0]", MINOR_CA, 1},
    {"minor in [true]", MINOR_CA, 1},
    {"state in []", MINOR_CA, 0},
    {"state not in []", MINOR_CA, 1},
    /* calls */
    {"indicator(\"exchanged_sex\") or indicator(\"paid_for_sex\")", MINOR_CA, 1},
    {"indicator(\"exchanged_sex\") or indicator(\"paid_for_sex\")", ADULT_NV, 1},
    {"indicator(\"paid_for_sex\") or indicator(\"paid_for_sex\")", UNKNOWN_AGE, 0},
    {"consent(\"law_enforcement\")", ADULT_NV, 1},
    {"answered(\"q1\")", MINOR_CA, 1},
    {"answered(\"q1\")", NOBODY, 0},
    /* a realistic routing rule */
    {"(minor or age == null) and (indicator(\"exchanged_sex\") or indicator(\"paid_for_sex\") "
     "or domain_score(\"sex_trafficking\") >= 2) and state in [\"CA\",\"NV\",\"OR\",\"WA\"] "
     "and not consent(\"law_enforcement\")",
     MINOR_CA, 1},
    {"(minor or age == null) and (indicator(\"exchanged_sex\") or indicator(\"paid_for_sex\") "
     "or domain_score(\"sex_trafficking\") >= 2) and state in [\"CA\",\"NV\",\"OR\",\"WA\"] "
     "and not consent(\"law_enforcement\")",
     ADULT_NV, 0},
    {"(minor or age == null) and indicator(\"exchanged_sex\") and state in [\"TX\"]", UNKNOWN_AGE,
     1},
    /* facts of the wrong type read as unknown */
    {"minor == true", ODD_TYPES, 1},
    {"age == null", ODD_TYPES, 1},
    {"score == null", ODD_TYPES, 1},
    {"state == null", ODD_TYPES, 1},
};

START_TEST(test_eval)
{
    const struct eval_case *c = &eval_cases[_i];
    struct test_schema ts;
    struct rule_value facts[MAX_SLOTS];
    struct rule_prog *prog = compile_ok(c->src, &ts);
    fill_facts(&ts, c->who, rule_slot_count(prog), facts);
    int got = rule_eval(prog, facts, NULL);
    ck_assert_msg(got == c->want, "'%s' for person %d: got %d, want %d", c->src, (int)c->who, got,
                  c->want);
    /* recording a trace must not change the result */
    struct rule_value trace[128];
    ck_assert_uint_le(rule_node_count(prog), 128);
    ck_assert_int_eq(rule_eval(prog, facts, trace), got);
    /* the root's trace is its value: a bare unknown name stays null, which counts as false */
    ck_assert_int_eq(trace[0].type == RULE_BOOL && trace[0].u.b, got);
    ck_assert_int_eq(trace[0].type == RULE_BOOL || trace[0].type == RULE_NULL, 1);
    rule_free(prog);
}
END_TEST

/*
 * rule_eval runs a flat program without a trace and walks the tree with one
 * (rule_flat.c): the two must agree for every rule above and below, and for
 * every person, not only the one each case names.
 */
static const char *const flat_shapes[] = {
    "18 > age",
    "14 < age",
    "4 >= score",
    "2 <= domain_score(\"sex_trafficking\")",
    "15 == age",
    "\"CA\" != state",
    "true == minor",
    "minor != true",
    "null != score",
    "(minor and age_known) == false",
    "age == score",
    "minor == age_known or band == state",
    "not (minor or not age_known) and state != null",
    "false or minor and (true and not runaway_return)",
    "band in [\"high\", \"a\\\"b\"] or score not in [0, 4]",
    "runaway_return not in [false] and not (age >= 18 or age == null)",
    "not (not (not minor))",
};

START_TEST(test_flat_agrees_with_tree)
{
    size_t n_cases = sizeof eval_cases / sizeof eval_cases[0];
    const char *src = (size_t)_i < n_cases ? eval_cases[_i].src : flat_shapes[(size_t)_i - n_cases];
    struct test_schema ts;
    struct rule_value facts[MAX_SLOTS], trace[128];
    struct rule_prog *prog = compile_ok(src, &ts);
    ck_assert_uint_le(rule_node_count(prog), 128);
    for (int who = 0; who < N_PERSONS; who++) {
        fill_facts(&ts, (enum person_id)who, rule_slot_count(prog), facts);
        int flat = rule_eval(prog, facts, NULL), walked = rule_eval(prog, facts, trace);
        ck_assert_msg(flat == walked, "'%s' for person %d: flat %d, tree %d", src, who, flat,
                      walked);
    }
    rule_free(prog);
}
END_TEST

/* ---- compile errors ---- */

static const struct error_case {
    const char *src;
    int col;
    const char *msg;
} error_cases[] = {
    {"", 1, "empty expression"},
    {"   ", 1, "empty expression"},
    {"minor and", 10, "unexpected end of expression"},
    {"(minor and age_known", 21, "unexpected end of expression"},
    {"not", 4, "unexpected end of expression"},
    {"indicator(\"x\" and minor)", 15, "expected ')' but found 'and'"},
    {"(minor age_known)", 8, "expected ')' but found 'age_known'"},
    {"minor age_known", 7, "expected 'and', 'or' or end of expression but found 'age_known'"},
    {"minor)", 6, "unmatched ')'"},
    {"()", 2, "expected a value but found ')'"},
    {"minor and or", 11, "expected a value but found 'or'"},
    {"state == \"CA", 10, "unterminated string"},
    {"state == \"CA\\", 10, "unterminated string"},
    {"state == \"C\\A\"", 12, "unknown escape '\\A' in string; only \\\" and \\\\ exist"},
    {"ag < 18", 1, "no fact 'ag' in the test schema"},
    {"minor and indicatr(\"x\")", 11, "no function 'indicatr' in the test schema"},
    {"age and minor", 1, "'and' needs true/false operands, found number"},
    {"minor and state", 11, "'and' needs true/false operands, found string"},
    {"minor or 1", 10, "'or' needs true/false operands, found number"},
    {"minor and null", 11, "'and' needs true/false operands, found null"},
    {"not age", 5, "'not' needs a true/false operand, found number"},
    {"state < 3", 1, "'<' needs numbers, found string"},
    {"age >= \"18\"", 8, "'>=' needs numbers, found string"},
    {"age > null", 7, "'>' needs numbers, found null"},
    {"age == \"x\"", 8, "'==' needs operands of one type, found number and string"},
    {"minor != 1", 10, "'!=' needs operands of one type, found true/false and number"},
    {"state in [\"CA\", 1]", 17, "list mixes string and number"},
    {"age in [1, true]", 12, "list mixes number and true/false"},
    {"age in [\"CA\"]", 8, "'in' needs a list of numbers, found a list of strings"},
    {"minor not in [1]", 14, "'not in' needs a list of true/false values, found a list of numbers"},
    {"state in [null]", 11, "a list cannot hold null; use '== null'"},
    {"null in [1]", 1, "'in' needs a value on its left, found null; use '== null'"},
    {"state in [\"CA\",]", 16,
     "expected a number, string, true or false in the list but found ']'"},
    {"state in [band]", 11,
     "expected a number, string, true or false in the list but found 'band'"},
    {"state in \"CA\"", 10, "expected '[' after 'in' but found '\"CA\"'"},
    {"state in [\"CA\" \"NV\"]", 16, "expected ',' or ']' but found '\"NV\"'"},
    {"state in [\"CA\"", 15, "unexpected end of expression"},
    {"minor not minor", 11, "expected 'in' after 'not' but found 'minor'"},
    {"state not [\"CA\"]", 11, "expected 'in' after 'not' but found '['"},
    {"indicator(x)", 11, "argument of 'indicator' must be a string literal"},
    {"indicator()", 11, "argument of 'indicator' must be a string literal"},
    {"indicator(", 11, "unexpected end of expression"},
    {"indicator(\"x\", \"y\")", 14, "expected ')' but found ','"},
    {"age", 1, "expression must be true/false, found number"},
    {"  state", 3, "expression must be true/false, found string"},
    {"null", 1, "expression must be true/false, found null"},
    {"age < 18 < 20", 10, "comparisons do not chain; join them with 'and'"},
    {"age == 1 in [true]", 10, "comparisons do not chain; join them with 'and'"},
    {"minor = true", 7, "unexpected character '='; use '==' to compare"},
    {"!minor", 1, "unexpected character '!'; use 'not'"},
    {"age < -1", 7, "unexpected character '-'"},
    {"minor # why", 7, "unexpected character '#'"},
    {"minor and \x01", 11, "unexpected byte 0x01"},
    {"age < 1.", 7, "malformed number '1.'"},
    {"age < 12abc", 7, "malformed number '12abc'"},
    {"age < 1234567890123456", 7, "number '1234567890123456' has too many digits"},
    {"Minor", 1, "no fact 'Minor' in the test schema"},
    {"minor AND age_known", 7, "expected 'and', 'or' or end of expression but found 'AND'"},
    /* columns count characters: the two-byte e-acute is one column */
    {"state == \"\xc3\xa9\" and 1", 18, "'and' needs true/false operands, found number"},
    /* long tokens are quoted up to 40 characters */
    {"minor and (age_known abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz)", 22,
     "expected ')' but found 'abcdefghijklmnopqrstuvwxyzabcdefghijklmn...'"},
    {"minor \"0123456789012345678901234567890123456789XYZ\"", 7,
     "expected 'and', 'or' or end of expression but found "
     "'\"012345678901234567890123456789012345678...'"},
};

START_TEST(test_errors)
{
    const struct error_case *c = &error_cases[_i];
    struct test_schema ts = {.n_calls = 0};
    struct rule_schema schema = {.resolve = test_resolve, .ud = &ts};
    struct rule_error err = {.col = -7};
    struct rule_prog *prog = rule_compile(c->src, &schema, &err);
    ck_assert_msg(prog == NULL, "'%s' compiled but should not", c->src);
    ck_assert_msg(err.col == c->col && strcmp(err.msg, c->msg) == 0,
                  "'%s': got col %d \"%s\", want col %d \"%s\"", c->src, err.col, err.msg, c->col,
                  c->msg);
}
END_TEST

/* ---- traces and explanations ---- */

static const struct explain_case {
    const char *src;
    enum person_id who;
    const char *want;
} explain_cases[] = {
    {"minor and indicator(\"paid_for_sex\")", ADULT_NV,
     "false  minor and indicator(\"paid_for_sex\")\n"
     "  false  minor\n"
     "  skipped indicator(\"paid_for_sex\")\n"},
    {"minor or age == null or state in [\"CA\"]", MINOR_CA,
     "true   minor or age == null or state in [\"CA\"]\n"
     "  true   minor\n"
     "  skipped age == null\n"
     "    skipped age\n"
     "    skipped null\n"
     "  skipped state in [\"CA\"]\n"
     "    skipped state\n"},
    {"minor or age == null or state in [\"CA\"]", UNKNOWN_AGE,
     "true   minor or age == null or state in [\"CA\"]\n"
     "  null   minor\n"
     "  true   age == null\n"
     "    null   age\n"
     "    null   null\n"
     "  skipped state in [\"CA\"]\n"
     "    skipped state\n"},
    {"age < 18", UNKNOWN_AGE,
     "false  age < 18\n"
     "  null   age\n"
     "  18     18\n"},
    {"state == \"CA\"", MINOR_CA,
     "true   state == \"CA\"\n"
     "  \"CA\"   state\n"
     "  \"CA\"   \"CA\"\n"},
    {"score >= 2.5", MINOR_CA,
     "true   score >= 2.5\n"
     "  4      score\n"
     "  2.5    2.5\n"},
    {"band == \"a\\\"b\"", ODD_TYPES,
     "true   band == \"a\\\"b\"\n"
     "  \"a\\\"b\" band\n"
     "  \"a\\\"b\" \"a\\\"b\"\n"},
    {"(minor\n   or  age == null)\n and  not consent(\"law  enforcement\")", ADULT_NV,
     "false  (minor or age == null) and not consent(\"law  enforcement\")\n"
     "  false  (minor or age == null)\n"
     "    false  minor\n"
     "    false  age == null\n"
     "      30     age\n"
     "      null   null\n"
     "  skipped not consent(\"law  enforcement\")\n"
     "    skipped consent(\"law  enforcement\")\n"},
    {"not not ((minor))", MINOR_CA,
     "true   not not ((minor))\n"
     "  false  not ((minor))\n"
     "    true   ((minor))\n"},
    {"state not in [\"CA\", \"NV\"] and runaway_return", UNKNOWN_AGE,
     "false  state not in [\"CA\", \"NV\"] and runaway_return\n"
     "  true   state not in [\"CA\", \"NV\"]\n"
     "    \"TX\"   state\n"
     "  null   runaway_return\n"},
};

START_TEST(test_explain)
{
    const struct explain_case *c = &explain_cases[_i];
    struct test_schema ts;
    struct rule_value facts[MAX_SLOTS], trace[64];
    char buf[1024];
    struct rule_prog *prog = compile_ok(c->src, &ts);
    ck_assert_uint_le(rule_node_count(prog), 64);
    fill_facts(&ts, c->who, rule_slot_count(prog), facts);
    rule_eval(prog, facts, trace);
    size_t n = rule_explain(prog, trace, buf, sizeof buf);
    ck_assert_str_eq(buf, c->want);
    ck_assert_uint_eq(n, strlen(c->want));
    rule_free(prog);
}
END_TEST

/* Skipped nodes are {RULE_NULL, -1}; an evaluated unknown is {RULE_NULL, 0}. */
START_TEST(test_trace_marks_short_circuit)
{
    static const struct {
        const char *src;
        enum person_id who;
        const char *skipped; /* one character per node: 's' skipped, 'n' null, '.' other */
    } cases[] = {
        {"minor and age < 18 and state == \"CA\"", ADULT_NV, "..ssssss"},
        {"minor and age < 18 and state == \"CA\"", MINOR_CA, "........"},
        {"age_known or (minor and age == null)", UNKNOWN_AGE, "...nsss"},
        {"age_known or (runaway_return == null and age == null)", UNKNOWN_AGE, "....nn.nn"},
        {"age_known or minor or age == null", MINOR_CA, "..ssss"},
        {"not (age_known and minor)", ADULT_NV, "...."},
        {"age == null and band == null", NOBODY, "..nn.nn"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct test_schema ts;
        struct rule_value facts[MAX_SLOTS], trace[32];
        struct rule_prog *prog = compile_ok(cases[k].src, &ts);
        size_t n = rule_node_count(prog);
        ck_assert_msg(n == strlen(cases[k].skipped), "'%s' has %zu nodes", cases[k].src, n);
        fill_facts(&ts, cases[k].who, rule_slot_count(prog), facts);
        for (size_t i = 0; i < n; i++)
            trace[i] = (struct rule_value){.type = RULE_NUM, .u.n = -99};
        rule_eval(prog, facts, trace);
        for (size_t i = 0; i < n; i++) {
            char want = cases[k].skipped[i];
            int is_skip = trace[i].type == RULE_NULL && trace[i].u.b == -1;
            int is_null = trace[i].type == RULE_NULL && trace[i].u.b == 0;
            ck_assert_msg(trace[i].type != RULE_NUM || trace[i].u.n != -99,
                          "'%s' node %zu was not written", cases[k].src, i);
            ck_assert_msg(is_skip == (want == 's') && is_null == (want == 'n'),
                          "'%s' node %zu: type %d b %d, want '%c'", cases[k].src, i,
                          (int)trace[i].type, trace[i].u.b, want);
        }
        rule_free(prog);
    }
}
END_TEST

START_TEST(test_spans_and_slots)
{
    static const char src[] = "(minor or age == null) and not consent(\"x\")";
    static const struct {
        const char *text;
        int depth;
    } want[] = {
        {src, 0},
        {"(minor or age == null)", 1},
        {"minor", 2},
        {"age == null", 2},
        {"age", 3},
        {"null", 3},
        {"not consent(\"x\")", 1},
        {"consent(\"x\")", 2},
    };
    struct test_schema ts;
    struct rule_prog *prog = compile_ok(src, &ts);
    ck_assert_uint_eq(rule_node_count(prog), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t off, len;
        int depth;
        rule_node_span(prog, i, &off, &len, &depth);
        ck_assert_msg(len == strlen(want[i].text) && memcmp(src + off, want[i].text, len) == 0,
                      "node %zu spans '%.*s', want '%s'", i, (int)len, src + off, want[i].text);
        ck_assert_int_eq(depth, want[i].depth);
    }
    /* minor is slot 0, age 1, the first call N_FIXED */
    ck_assert_int_eq(rule_slot_count(prog), N_FIXED + 1);
    ck_assert_int_eq(rule_uses_slot(prog, 0), 1);
    ck_assert_int_eq(rule_uses_slot(prog, 1), 1);
    ck_assert_int_eq(rule_uses_slot(prog, 2), 0);
    ck_assert_int_eq(rule_uses_slot(prog, N_FIXED), 1);
    ck_assert_str_eq(rule_source(prog), src);
    ck_assert_ptr_ne(rule_source(prog), src);
    rule_free(prog);

    prog = compile_ok("true and 1 < 2", &ts);
    ck_assert_int_eq(rule_slot_count(prog), 0);
    ck_assert_int_eq(rule_eval(prog, NULL, NULL), 1);
    rule_free(prog);
}
END_TEST

START_TEST(test_explain_truncates_like_snprintf)
{
    struct test_schema ts;
    struct rule_value facts[MAX_SLOTS], trace[8];
    char full[256], small[10];
    struct rule_prog *prog = compile_ok("minor and age < 18", &ts);
    fill_facts(&ts, MINOR_CA, rule_slot_count(prog), facts);
    rule_eval(prog, facts, trace);
    size_t n = rule_explain(prog, trace, full, sizeof full);
    ck_assert_uint_eq(n, strlen(full));
    ck_assert_uint_eq(rule_explain(prog, trace, NULL, 0), n);
    memset(small, 'x', sizeof small);
    ck_assert_uint_eq(rule_explain(prog, trace, small, sizeof small), n);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_int_eq(memcmp(small, full, sizeof small - 1), 0);
    /* without a trace, only the tree of source text */
    rule_explain(prog, NULL, full, sizeof full);
    ck_assert_str_eq(full, "minor and age < 18\n  minor\n  age < 18\n    age\n    18\n");
    rule_free(prog);
}
END_TEST

/* Nesting is bounded at compile time, which is what bounds rule_eval's recursion. */
START_TEST(test_nesting_limits)
{
    static const struct {
        const char *unit, *tail; /* unit repeated, then tail, then one ')' per '(' in unit */
        int repeat;
        int col; /* 0: compiles */
    } cases[] = {
        {"not ", "minor", 63, 0},
        {"not ", "minor", 64, 257},
        {"not ", "minor", 65, 257},
        {"(", "minor", 64, 0},
        {"(", "minor", 65, 65},
        /* each level adds an `or` and an `and` node: the tree gets too deep before the parser */
        {"(minor or minor and ", "minor", 31, 0},
        {"(minor or minor and ", "minor", 40, 631},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char src[2048] = "";
        size_t used = 0;
        int parens = strchr(cases[k].unit, '(') != NULL;
        for (int r = 0; r < cases[k].repeat; r++)
            used += (size_t)snprintf(src + used, sizeof src - used, "%s", cases[k].unit);
        used += (size_t)snprintf(src + used, sizeof src - used, "%s", cases[k].tail);
        for (int r = 0; parens && r < cases[k].repeat; r++)
            used += (size_t)snprintf(src + used, sizeof src - used, ")");
        ck_assert_uint_lt(used, sizeof src);

        struct test_schema ts = {.n_calls = 0};
        struct rule_schema schema = {.resolve = test_resolve, .ud = &ts};
        struct rule_error err;
        struct rule_prog *prog = rule_compile(src, &schema, &err);
        if (cases[k].col == 0) {
            ck_assert_msg(prog != NULL, "case %zu: col %d: %s", k, err.col, err.msg);
            struct rule_value facts[MAX_SLOTS];
            fill_facts(&ts, MINOR_CA, rule_slot_count(prog), facts);
            ck_assert_int_eq(rule_eval(prog, facts, NULL), parens || cases[k].repeat % 2 == 0);
            rule_free(prog);
        } else {
            ck_assert_msg(prog == NULL, "case %zu compiled", k);
            ck_assert_int_eq(err.col, cases[k].col);
            ck_assert_str_eq(err.msg, "expression nested too deeply");
        }
    }
}
END_TEST

/* Without a resolver, or when it says nothing, the compiler names the problem itself. */
START_TEST(test_default_messages)
{
    struct rule_error err;
    ck_assert_ptr_null(rule_compile("true and minor", NULL, &err));
    ck_assert_int_eq(err.col, 10);
    ck_assert_str_eq(err.msg, "unknown name 'minor'");
    ck_assert_ptr_null(rule_compile("indicator(\"x\")", NULL, &err));
    ck_assert_int_eq(err.col, 1);
    ck_assert_str_eq(err.msg, "unknown function 'indicator'");
    ck_assert_ptr_null(rule_compile(NULL, NULL, &err));
    ck_assert_str_eq(err.msg, "empty expression");
    ck_assert_ptr_null(rule_compile("1 <", NULL, NULL)); /* err may be NULL */
    static char huge[65538];
    memset(huge, ' ', sizeof huge - 5);
    memcpy(huge + sizeof huge - 5, "true", 5);
    ck_assert_ptr_null(rule_compile(huge, NULL, &err));
    ck_assert_int_eq(err.col, 1);
    ck_assert_str_eq(err.msg, "expression longer than 65536 bytes");
    struct rule_prog *fits = rule_compile(huge + 2, NULL, &err); /* 65535 bytes */
    ck_assert_ptr_nonnull(fits);
    ck_assert_int_eq(rule_eval(fits, NULL, NULL), 1);
    rule_free(fits);

    struct rule_prog *prog = rule_compile("not (1 > 2) and \"x\" in [\"y\", \"x\"]", NULL, &err);
    ck_assert_ptr_nonnull(prog);
    ck_assert_int_eq(err.col, 0);
    ck_assert_str_eq(err.msg, "");
    ck_assert_int_eq(rule_eval(prog, NULL, NULL), 1);
    rule_free(prog);
    rule_free(NULL);
}
END_TEST

/*
 * rule_eval must not allocate. Every malloc/calloc/realloc in the process is
 * counted (ASan hooks, or a counting replacement of glibc's malloc) across
 * 100000 evaluations with and without a trace.
 */
START_TEST(test_eval_allocates_nothing)
{
    static const char src[] =
        "(minor or age == null) and (indicator(\"exchanged_sex\") or indicator(\"paid_for_sex\") "
        "or domain_score(\"sex_trafficking\") >= 2) and state in [\"CA\",\"NV\",\"OR\",\"WA\"] "
        "and not consent(\"law_enforcement\")";
    static const enum person_id who[] = {MINOR_CA, ADULT_NV, UNKNOWN_AGE, NOBODY};
    struct test_schema ts;
    struct rule_value facts[4][MAX_SLOTS], trace[64];
    struct rule_prog *prog = compile_ok(src, &ts);
    ck_assert_uint_le(rule_node_count(prog), 64);
    for (int p = 0; p < 4; p++)
        fill_facts(&ts, who[p], rule_slot_count(prog), facts[p]);
    int counting = counter_sees_allocations();

    unsigned long before = alloc_count;
    long matches = 0;
    for (int i = 0; i < 100000; i++)
        matches += rule_eval(prog, facts[i & 3], (i & 4) ? trace : NULL);
    unsigned long during = alloc_count - before;
    rule_free(prog);

    ck_assert_int_eq(matches, 25000); /* only MINOR_CA matches */
    if (!counting) {
        /* plain valgrind: its leak check watches this run; the other builds count */
        ck_assert_msg(on_valgrind(), "allocations cannot be counted in this build");
        return;
    }
    ck_assert_uint_eq(during, 0);
}
END_TEST

static Suite *rule_suite(void)
{
    Suite *s = suite_create("rule");
    TCase *tc = tcase_create("eval");
    tcase_add_loop_test(tc, test_eval, 0, (int)(sizeof eval_cases / sizeof eval_cases[0]));
    tcase_add_test(tc, test_eval_allocates_nothing);
    tcase_add_loop_test(tc, test_flat_agrees_with_tree, 0,
                        (int)(sizeof eval_cases / sizeof eval_cases[0] +
                              sizeof flat_shapes / sizeof flat_shapes[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof error_cases / sizeof error_cases[0]));
    tcase_add_test(tc, test_nesting_limits);
    tcase_add_test(tc, test_default_messages);
    suite_add_tcase(s, tc);

    tc = tcase_create("trace");
    tcase_add_loop_test(tc, test_explain, 0, (int)(sizeof explain_cases / sizeof explain_cases[0]));
    tcase_add_test(tc, test_trace_marks_short_circuit);
    tcase_add_test(tc, test_spans_and_slots);
    tcase_add_test(tc, test_explain_truncates_like_snprintf);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(rule_suite())
