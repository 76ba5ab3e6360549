/*
 * routing_test.c: runs routing fixtures (sample cases with expected referrals
 * and, optionally, what the report ledger makes of them) through the routing
 * engine and the C ledger verdict, and says, fixture by fixture, what differs.
 *
 * Reads only the fixture file; never touches the database. A fixture file
 * with any error runs nothing, so a typo can never pass as "no differences".
 */
#include "routing/routing_test.h"

#include <stdlib.h>
#include <string.h>

struct expected_ref {
    const char *destination; /* borrowed from the parsed file */
    enum routing_basis basis;
    int due_hours;
    enum routing_state state;
    const char *rule;     /* NULL: not checked */
    int urgency;          /* -1: not checked */
    long long consent_id; /* -1: not checked */
};

struct expected_unused {
    const char *destination; /* "-": no destination of the kind */
    const char *reason;      /* substring */
};

/* What the report ledger must make of a proposed referral (expect.ledger). */
struct expected_verdict {
    const char *destination;
    int action;         /* enum routing_verdict_action */
    const char *reason; /* substring, or NULL: not checked */
};

struct fixture {
    const char *name;
    int line;
    struct routing_input in;
    struct expected_ref *refs;
    size_t n_refs;
    const config_setting_t *matched; /* array of rule names, or NULL */
    struct expected_unused *unused;
    size_t n_unused;
    struct expected_verdict *verdicts;
    size_t n_verdicts;
};

static void fixture_release(struct fixture *f)
{
    routing_input_release(&f->in);
    free(f->refs);
    free(f->unused);
    free(f->verdicts);
}

/*
 * Reads member `name` naming one of n values of a vocabulary (name_of gives
 * each, lookup finds one); 1 when present and valid, else 0 (reported if wrong).
 */
static int read_name(struct cfgread *r, const config_setting_t *g, const char *ctx,
                     const char *name, int required, const char *what, const char *(*name_of)(int),
                     int n, int *out)
{
    const char *s = NULL, *names[16];
    char list[300];
    if (cfgread_string(r, g, ctx, name, required, &s) != 1)
        return 0;
    for (int i = 0; i < n && i < 16; i++)
        if (strcmp(name_of(i), s) == 0) {
            *out = i;
            return 1;
        }
    for (int i = 0; i < n && i < 16; i++)
        names[i] = name_of(i);
    cfgread_error(r, cfgread_line(config_setting_get_member(g, name)), 0, ctx,
                  "unknown %s '%s' (expected one of %s)", what, s,
                  cfgread_join(names, (size_t)(n < 16 ? n : 16), list, sizeof(list)));
    return 0;
}

/* The vocabularies as read_name takes them. */
static const char *basis_at(int i)
{
    return routing_basis_name((enum routing_basis)i);
}

static const char *state_at(int i)
{
    return routing_state_name((enum routing_state)i);
}

static const char *urgency_at(int i)
{
    return routing_urgency_name((enum routing_urgency)i);
}

static const char *action_at(int i)
{
    return routing_verdict_action_name((enum routing_verdict_action)i);
}

static void parse_ref(struct cfgread *r, const config_setting_t *g, const char *ctx,
                      const struct routing_config *cfg, struct expected_ref *e)
{
    static const char *const members[] = {"destination", "basis",   "due_hours",  "state",
                                          "rule",        "urgency", "consent_id", NULL};
    long long v = 0;
    int k = 0;
    cfgread_members(r, g, ctx, members);
    e->urgency = -1;
    e->consent_id = -1;
    if (cfgread_string(r, g, ctx, "destination", 1, &e->destination) == 1 &&
        routing_config_destination(cfg, e->destination) < 0)
        cfgread_error(r, cfgread_line(g), 0, ctx, "unknown destination '%s'", e->destination);
    if (read_name(r, g, ctx, "basis", 1, "basis", basis_at, ROUTING_BASIS__COUNT, &k))
        e->basis = (enum routing_basis)k;
    if (cfgread_int(r, g, ctx, "due_hours", 1, 0, ROUTING_MAX_DUE_HOURS, &v) == 1)
        e->due_hours = (int)v;
    if (read_name(r, g, ctx, "state", 1, "referral state", state_at, ROUTING_STATE__COUNT, &k))
        e->state = (enum routing_state)k;
    cfgread_string(r, g, ctx, "rule", 0, &e->rule);
    if (read_name(r, g, ctx, "urgency", 0, "urgency", urgency_at, ROUTING_URGENCY__COUNT, &k))
        e->urgency = k;
    if (cfgread_int(r, g, ctx, "consent_id", 0, 0, INT64_MAX, &v) == 1)
        e->consent_id = v;
}

/* Group-list member `name` of expect: its elements, each a group (checked). */
static const config_setting_t *group_list(struct cfgread *r, const config_setting_t *g,
                                          const char *ctx, const char *name, int required)
{
    const config_setting_t *l = cfgread_aggregate(r, g, ctx, name, required, CONFIG_TYPE_LIST);
    for (int i = 0; l != NULL && i < config_setting_length(l); i++)
        if (!config_setting_is_group(config_setting_get_elem(l, (unsigned)i))) {
            cfgread_error(r, cfgread_line(l), 0, ctx, "'%s' must hold groups { ... }", name);
            return NULL;
        }
    return l;
}

/* expect.ledger: each entry a destination, the verdict's action and a reason substring. */
static void parse_verdicts(struct cfgread *r, const config_setting_t *g, const char *ctx,
                           const struct routing_config *cfg, struct fixture *f)
{
    static const char *const members[] = {"destination", "action", "reason", NULL};
    const config_setting_t *l = group_list(r, g, ctx, "ledger", 1);
    size_t n = l ? (size_t)config_setting_length(l) : 0;
    if ((f->verdicts = calloc(n ? n : 1, sizeof(*f->verdicts))) == NULL) {
        cfgread_error(r, 0, 0, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *v = config_setting_get_elem(l, (unsigned)i);
        struct expected_verdict *e = &f->verdicts[i];
        cfgread_members(r, v, ctx, members);
        if (cfgread_string(r, v, ctx, "destination", 1, &e->destination) == 1 &&
            routing_config_destination(cfg, e->destination) < 0)
            cfgread_error(r, cfgread_line(v), 0, ctx, "ledger: unknown destination '%s'",
                          e->destination);
        read_name(r, v, ctx, "action", 1, "ledger action", action_at, ROUTING_VERDICT__COUNT,
                  &e->action);
        cfgread_string(r, v, ctx, "reason", 0, &e->reason);
        f->n_verdicts = i + 1;
    }
}

static void parse_expect(struct cfgread *r, const config_setting_t *g, const char *ctx,
                         const struct routing_config *cfg, struct fixture *f)
{
    static const char *const members[] = {"referrals", "matched", "not_used", "ledger", NULL};
    static const char *const unused_members[] = {"destination", "reason", NULL};
    cfgread_members(r, g, ctx, members);
    const config_setting_t *refs = group_list(r, g, ctx, "referrals", 1);
    size_t n = refs ? (size_t)config_setting_length(refs) : 0;
    f->refs = calloc(n ? n : 1, sizeof(*f->refs));
    for (size_t i = 0; f->refs != NULL && i < n; i++) {
        parse_ref(r, config_setting_get_elem(refs, (unsigned)i), ctx, cfg, &f->refs[i]);
        for (size_t j = 0; j < i; j++)
            if (f->refs[i].destination && f->refs[j].destination &&
                strcmp(f->refs[i].destination, f->refs[j].destination) == 0)
                cfgread_error(r, cfgread_line(config_setting_get_elem(refs, (unsigned)i)), 0, ctx,
                              "destination '%s' is expected twice", f->refs[i].destination);
        f->n_refs = i + 1;
    }
    if (config_setting_get_member(g, "matched") != NULL) {
        f->matched = cfgread_strings(r, g, ctx, "matched", 0);
        for (int i = 0; f->matched != NULL && i < config_setting_length(f->matched); i++) {
            const char *name = config_setting_get_string_elem(f->matched, i);
            size_t k = 0;
            while (k < cfg->n_rules && strcmp(cfg->rules[k].name, name) != 0)
                k++;
            if (k == cfg->n_rules)
                cfgread_error(r, cfgread_line(f->matched), 0, ctx, "matched: unknown rule '%s'",
                              name);
        }
    }
    const config_setting_t *un = config_setting_get_member(g, "not_used") != NULL
                                     ? group_list(r, g, ctx, "not_used", 1)
                                     : NULL;
    n = un ? (size_t)config_setting_length(un) : 0;
    f->unused = calloc(n ? n : 1, sizeof(*f->unused));
    for (size_t i = 0; f->unused != NULL && i < n; i++) {
        const config_setting_t *u = config_setting_get_elem(un, (unsigned)i);
        cfgread_members(r, u, ctx, unused_members);
        cfgread_string(r, u, ctx, "destination", 1, &f->unused[i].destination);
        cfgread_string(r, u, ctx, "reason", 1, &f->unused[i].reason);
        f->n_unused = i + 1;
    }
    if (f->refs == NULL || f->unused == NULL)
        cfgread_error(r, 0, 0, NULL, "out of memory");
    if (config_setting_get_member(g, "ledger") != NULL)
        parse_verdicts(r, g, ctx, cfg, f);
}

static void parse_fixture(struct cfgread *r, const config_setting_t *g,
                          const struct routing_config *cfg, struct fixture *all, size_t i)
{
    static const char *const members[] = {"name", "note", "case", "expect", NULL};
    struct fixture *f = &all[i];
    char ctx[120];
    const char *note = NULL;
    f->line = cfgread_line(g);
    snprintf(ctx, sizeof(ctx), "fixture %zu", i + 1);
    if (cfgread_ident(r, g, ctx, "name", 1, &f->name) == 1) {
        for (size_t j = 0; j < i; j++)
            if (all[j].name != NULL && strcmp(all[j].name, f->name) == 0)
                cfgread_error(r, f->line, 0, NULL, "duplicate fixture name '%s' (first at line %d)",
                              f->name, all[j].line);
        snprintf(ctx, sizeof(ctx), "fixture '%s'", f->name);
    }
    cfgread_members(r, g, ctx, members);
    cfgread_string(r, g, ctx, "note", 0, &note);
    const config_setting_t *c = cfgread_aggregate(r, g, ctx, "case", 1, CONFIG_TYPE_GROUP);
    char why[300];
    /* A screening the instruments cannot read would be routed with unknown evidence. */
    if (c != NULL && routing_input_from_setting(r, c, &f->in) == 0 &&
        routing_input_check_screening(&f->in, cfg->instruments, why, sizeof(why)) != 0)
        cfgread_error(r, cfgread_line(c), 0, ctx, "%s", why);
    const config_setting_t *e = cfgread_aggregate(r, g, ctx, "expect", 1, CONFIG_TYPE_GROUP);
    if (e != NULL)
        parse_expect(r, e, ctx, cfg, f);
}

/* ------------------------------------------------------------ comparing --- */

static const struct routing_referral *actual_ref(const struct routing_decision *d, const char *id)
{
    for (size_t i = 0; i < d->n_referrals; i++)
        if (strcmp(d->referrals[i].destination, id) == 0)
            return &d->referrals[i];
    return NULL;
}

static int ref_matches(const struct expected_ref *e, const struct routing_referral *a)
{
    return e->basis == a->basis && e->due_hours == a->due_hours && e->state == a->state &&
           (e->rule == NULL || strcmp(e->rule, a->rule) == 0) &&
           (e->urgency < 0 || e->urgency == (int)a->urgency) &&
           (e->consent_id < 0 || e->consent_id == (long long)a->consent_id);
}

static void print_actual(FILE *out, const struct routing_referral *a)
{
    fprintf(out, "%s, %s, due %dh, urgency %s, consent %lld (rule '%s')",
            routing_basis_name(a->basis), routing_state_name(a->state), a->due_hours,
            routing_urgency_name(a->urgency), (long long)a->consent_id, a->rule);
}

static void print_expected(FILE *out, const struct expected_ref *e)
{
    fprintf(out, "%s, %s, due %dh", routing_basis_name(e->basis), routing_state_name(e->state),
            e->due_hours);
    if (e->urgency >= 0)
        fprintf(out, ", urgency %s", routing_urgency_name((enum routing_urgency)e->urgency));
    if (e->consent_id >= 0)
        fprintf(out, ", consent %lld", e->consent_id);
    if (e->rule != NULL)
        fprintf(out, " (rule '%s')", e->rule);
}

/* Lines about the rules that matched; the count of differences (0 or 1). */
static int compare_matched(const struct fixture *f, const struct routing_decision *d, FILE *out)
{
    char want[600] = "", got[600] = "";
    size_t wo = 0, go = 0;
    int n_want = config_setting_length(f->matched), k = 0, same = 1;
    for (int i = 0; i < n_want && wo < sizeof(want); i++)
        wo += (size_t)snprintf(want + wo, sizeof(want) - wo, "%s%s", i ? ", " : "",
                               config_setting_get_string_elem(f->matched, i));
    for (size_t i = 0; i < d->n_rules; i++) {
        if (!d->rules[i].matched)
            continue;
        if (go < sizeof(got))
            go += (size_t)snprintf(got + go, sizeof(got) - go, "%s%s", k ? ", " : "",
                                   d->rules[i].name);
        same &= k < n_want &&
                strcmp(config_setting_get_string_elem(f->matched, k), d->rules[i].name) == 0;
        k++;
    }
    if (same && k == n_want)
        return 0;
    if (out != NULL)
        fprintf(out, "  rules matched: expected [%s]; got [%s]\n", want, got);
    return 1;
}

static int compare_unused(const struct fixture *f, const struct routing_decision *d, FILE *out)
{
    int n = 0;
    for (size_t i = 0; i < f->n_unused; i++) {
        const struct expected_unused *e = &f->unused[i];
        int none = strcmp(e->destination, "-") == 0, found = 0;
        for (size_t k = 0; k < d->n_unused && !found; k++) {
            const struct routing_unused *u = &d->unused[k];
            int same = none ? u->destination == NULL
                            : u->destination != NULL && strcmp(u->destination, e->destination) == 0;
            found = same && strstr(u->reason, e->reason) != NULL;
        }
        if (found)
            continue;
        n++;
        if (out == NULL)
            continue;
        fprintf(out, "  not used   %s: expected a reason containing '%s'; got:", e->destination,
                e->reason);
        int any = 0;
        for (size_t k = 0; k < d->n_unused; k++)
            if (none ? d->unused[k].destination == NULL
                     : d->unused[k].destination != NULL &&
                           strcmp(d->unused[k].destination, e->destination) == 0) {
                fprintf(out, " '%s'", d->unused[k].reason);
                any = 1;
            }
        fprintf(out, "%s\n", any ? "" : " nothing (it was not among the unused)");
    }
    return n;
}

/* Lines about what the report ledger made of the referrals; the count of differences. */
static int compare_ledger(const struct fixture *f, const struct routing_ledger *l, FILE *out)
{
    int n = 0;
    for (size_t i = 0; i < f->n_verdicts; i++) {
        const struct expected_verdict *e = &f->verdicts[i];
        const struct routing_verdict *a = NULL;
        for (size_t k = 0; k < l->n_verdicts && a == NULL; k++)
            if (strcmp(l->verdicts[k].destination, e->destination) == 0)
                a = &l->verdicts[k];
        if (a != NULL && (int)a->action == e->action &&
            (e->reason == NULL || strstr(a->reason, e->reason) != NULL))
            continue;
        n++;
        if (out == NULL)
            continue;
        fprintf(out, "  ledger     %s: expected %s", e->destination, action_at(e->action));
        if (e->reason != NULL)
            fprintf(out, " with a reason containing '%s'", e->reason);
        if (a != NULL)
            fprintf(out, "; got %s: %s\n", action_at((int)a->action), a->reason);
        else
            fprintf(out, "; no referral to it was proposed\n");
    }
    return n;
}

/*
 * Every difference of fixture f from decision d and its ledger verdicts l,
 * printed to out (may be NULL); their count.
 */
static int compare(const struct fixture *f, const struct routing_decision *d,
                   const struct routing_ledger *l, FILE *out)
{
    int n = 0;
    for (size_t i = 0; i < f->n_refs; i++) {
        const struct expected_ref *e = &f->refs[i];
        const struct routing_referral *a = actual_ref(d, e->destination);
        if (a != NULL && ref_matches(e, a))
            continue;
        n++;
        if (out == NULL)
            continue;
        fprintf(out, "  %s %s: expected ", a ? "different " : "missing   ", e->destination);
        print_expected(out, e);
        if (a != NULL) {
            fprintf(out, "; got ");
            print_actual(out, a);
        } else {
            fprintf(out, "; not referred");
        }
        fputc('\n', out);
    }
    for (size_t i = 0; i < d->n_referrals; i++) {
        size_t k = 0;
        while (k < f->n_refs && strcmp(f->refs[k].destination, d->referrals[i].destination) != 0)
            k++;
        if (k < f->n_refs)
            continue;
        n++;
        if (out != NULL) {
            fprintf(out, "  unexpected %s: ", d->referrals[i].destination);
            print_actual(out, &d->referrals[i]);
            fputc('\n', out);
        }
    }
    if (f->matched != NULL)
        n += compare_matched(f, d, out);
    return n + compare_unused(f, d, out) + compare_ledger(f, l, out);
}

int routing_test_run(const struct routing_config *cfg, const char *path, FILE *out,
                     trf_report_fn report, void *ud, struct routing_test_result *res)
{
    static const char *const top[] = {"fixtures", NULL};
    struct cfgread r = {.file = path, .report = report, .ud = ud};
    struct fixture *fx = NULL;
    size_t n = 0;
    config_t c;
    char *text = NULL;
    size_t len = 0;
    char hash[CFGREAD_HASH_LEN + 1];
    int rc = -1;

    memset(res, 0, sizeof(*res));
    config_init(&c);
    if (cfgread_load(&r, &c, &text, &len, hash) != 0)
        goto out;
    cfgread_members(&r, config_root_setting(&c), NULL, top);
    const config_setting_t *list = group_list(&r, config_root_setting(&c), NULL, "fixtures", 1);
    if (list == NULL)
        goto out;
    n = (size_t)config_setting_length(list);
    fx = calloc(n ? n : 1, sizeof(*fx));
    if (fx == NULL) {
        cfgread_error(&r, 0, 0, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        routing_input_init(&fx[i].in);
        parse_fixture(&r, config_setting_get_elem(list, (unsigned)i), cfg, fx, i);
    }
    if (n == 0)
        cfgread_error(&r, cfgread_line(list), 0, NULL, "'fixtures' is empty");
    if (r.errors > 0)
        goto out;
    rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct routing_decision d;
        struct routing_ledger l;
        int diff;
        res->fixtures++;
        routing_ledger_init(&l);
        if (routing_decide(cfg, &fx[i].in, &d) != 0 ||
            routing_ledger_of(cfg, &fx[i].in, &d, &l) != 0) {
            routing_decision_release(&d);
            routing_ledger_release(&l);
            cfgread_error(&r, fx[i].line, 0, NULL, "fixture '%s': out of memory", fx[i].name);
            rc = -1;
            break;
        }
        diff = compare(&fx[i], &d, &l, NULL);
        if (diff > 0) {
            res->failed++;
            rc = 1;
            if (out != NULL) {
                fprintf(out, "fixture '%s' (%s:%d): %d difference%s\n", fx[i].name, path,
                        fx[i].line, diff, diff == 1 ? "" : "s");
                compare(&fx[i], &d, &l, out);
            }
        }
        routing_decision_release(&d);
        routing_ledger_release(&l);
    }
out:
    cfgread_flush(&r);
    for (size_t i = 0; fx != NULL && i < n; i++)
        fixture_release(&fx[i]);
    free(fx);
    free(text);
    config_destroy(&c);
    return rc;
}
