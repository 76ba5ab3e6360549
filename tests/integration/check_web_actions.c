/*
 * check_web_actions.c: the trafficking plugin's commands as web pages see
 * them, through the real casehost binary and a real PostgreSQL: which
 * commands only show (CH_CMD_VIEW: a link runs them) and which make up a
 * person's home page (CH_CMD_HOME), read through the host's own loader; and
 * the next steps (out_action) each page offers, read from --json's root
 * "actions": screen now (`screen resume`, a view) and the step forms (posted:
 * each saves the answers so far) from the case page to the review of the
 * answers, the moves a referral's state allows the person looking,
 * consents to revoke, the safe contact to change. Every offered argv fits
 * its command's typed table (positionals first, then options), so the form
 * a link opens parses prefilled.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "check_main.h"
#include "loader.h"
#include "testlib.h"

static struct tl_result r;
static char db[1024], cfg[1024];
static json_t *doc; /* the last RUN_JSON output */

#include "testcli.h"

static const struct tl_cli cli = {db, cfg, &r, &doc};

/* Every destination the shipped routing reaches in CA, delivered to one spool. */
static void setup(void)
{
    static const char *const dests[] = {"cw_ca",  "le_ca",          "nhth",         "vs_ca",
                                        "fic_ca", "legal_aid_west", "emergency_911"};
    tl_cli_setup(&cli, tl_spool_targets("actions", dests, sizeof(dests) / sizeof(dests[0])));
    tl_add_user(db, "a_admin", "a_sup", "supervisor", "A");
}

static void teardown(void)
{
    json_decref(doc);
    doc = NULL;
}

#define db_value(...) tl_db_valuef(db, __VA_ARGS__)
#define db_exec(...) tl_db_execf(db, __VA_ARGS__)

/* ------------------------------------------------------------- the flags --- */

enum { V = CH_CMD_VIEW, H = CH_CMD_HOME };

/*
 * Every command of the plugin and whether it only shows (V) and is part of
 * the home page (H). A command added without a line here fails the test, so
 * each new one is classified.
 */
static const struct {
    const char *verb, *sub;
    unsigned want;
} classified[] = {
    {"screen", "start", 0},
    {"screen", "decline", 0},
    {"screen", "step", 0},
    {"screen", "resume", V},
    {"screen", "discard", 0},
    {"screen", "show", V},
    {"screen", "list", V},
    {"screen", "due", V | H},
    {"instrument", "list", V},
    {"instrument", "show", V},
    {"consent", "add", 0},
    {"consent", "revoke", 0},
    {"consent", "decline", 0},
    {"consent", "undecline", 0},
    {"consent", "list", V},
    {"safety", "set", 0},
    {"safety", "show", V},
    {"referral", "list", V},
    {"referral", "show", V},
    {"referral", "ack", 0},
    {"referral", "accept", 0},
    {"referral", "reject", 0},
    {"referral", "close", 0},
    {"referral", "revoke", 0},
    {"referral", "ledger", V},
    {"referral", "report-again", 0},
    {"referral", "retry", 0},
    {"referral", "overdue", V},
    {"referral", "attention", V | H},
    {"episode", "add", 0},
    {"episode", "list", V},
    {"episode", "remove", 0},
    {"determination", "set", 0},
    {"determination", "show", V},
    {"routing", "test", V},
    {"routing", "replay", V},
    {"route", "what-if", V},
    {"route", "explain", V},
    {"dispatch", NULL, 0},
    {"report", "screenings", V},
    {"report", "referrals", V},
    {"report", "deadlines", V},
    {"report", "equity", V},
    {"report", "consent", V},
    {"report", "taskforce", V},
};

START_TEST(every_command_says_whether_it_only_shows_and_the_home_ones_need_no_argument)
{
    struct hostcfg hc;
    struct loader l;
    struct diag d;
    char msgs[8192] = "";
    FILE *mem = fmemopen(msgs, sizeof(msgs), "w");
    size_t seen = 0;
    diag_init(&d, mem);
    ck_assert_int_eq(hostcfg_load(&hc, cfg, &d), 0);
    ck_assert_int_eq(loader_load_all(&l, &hc, &d), 0);
    fclose(mem);
    ck_assert_msg(d.errors == 0, "%s", msgs);
    for (size_t i = 0; i < l.n_commands; i++) {
        const struct ch_command_spec *spec = &l.commands[i].spec;
        unsigned got = spec->flags & (V | H);
        size_t k;
        ck_assert_msg(l.commands[i].typed, "'%s' is not a typed command", l.commands[i].cmd.verb);
        for (k = 0; k < sizeof(classified) / sizeof(classified[0]); k++)
            if (strcmp(classified[k].verb, spec->verb) == 0 &&
                (classified[k].sub == NULL
                     ? spec->sub == NULL
                     : spec->sub != NULL && strcmp(classified[k].sub, spec->sub) == 0))
                break;
        ck_assert_msg(k < sizeof(classified) / sizeof(classified[0]),
                      "'%s %s' is not classified here: does it only show?", spec->verb,
                      spec->sub ? spec->sub : "");
        ck_assert_msg(got == classified[k].want, "'%s %s': flags view %d home %d, want %d %d",
                      spec->verb, spec->sub ? spec->sub : "", (got & V) != 0, (got & H) != 0,
                      (classified[k].want & V) != 0, (classified[k].want & H) != 0);
        /* A home part runs with no argument: none may be required. */
        for (size_t a = 0; (got & H) && a < spec->n_args; a++)
            ck_assert_msg(!(args_at(spec, a)->flags & CH_ARG_REQUIRED),
                          "'%s %s' is on the home page but requires %s", spec->verb, spec->sub,
                          args_at(spec, a)->name);
        seen++;
    }
    ck_assert_uint_eq(seen, sizeof(classified) / sizeof(classified[0]));
    loader_release(&l);
    hostcfg_release(&hc);
}
END_TEST

/* ----------------------------------------------------------- the actions --- */

/* `help VERB` of the program as JSON, read once per verb (kept for the life of the process). */
static json_t *help_of(const char *verb)
{
    static json_t *cache[16];
    static char verbs[16][32];
    static size_t n;
    json_error_t e;
    json_t *j;
    for (size_t i = 0; i < n; i++)
        if (strcmp(verbs[i], verb) == 0)
            return cache[i];
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", "--json", "help", verb, NULL) == 0,
                  "help %s: %s", verb, r.err);
    j = json_loads(r.out, 0, &e);
    ck_assert_msg(j != NULL && n < 16, "help %s: %s", verb, r.out);
    snprintf(verbs[n], sizeof(verbs[n]), "%s", verb);
    cache[n++] = j;
    return j;
}

/* Non-zero when verb is one of the plugin's (the host's own actions are the host's to test). */
static int plugin_verb(const char *verb)
{
    for (size_t k = 0; k < sizeof(classified) / sizeof(classified[0]); k++)
        if (strcmp(classified[k].verb, verb) == 0)
            return 1;
    return 0;
}

/*
 * Holds every action of doc naming a plugin command to that command's
 * table, as `help VERB` reads it: the sub exists, positionals come first and
 * are declared, and every option is declared and has its value.
 */
static void actions_fit_their_tables(void)
{
    size_t i, k;
    json_t *a, *sub = NULL, *s;
    json_array_foreach(json_object_get(doc, "actions"), i, a)
    {
        json_t *argv = json_object_get(a, "argv"), *args;
        const char *verb = json_string_value(json_array_get(argv, 0));
        const char *want = json_string_value(json_array_get(argv, 1));
        size_t positional = 0, at, declared = 0;
        int options_seen = 0, repeat = 0;
        ck_assert_ptr_nonnull(verb);
        if (!plugin_verb(verb))
            continue;
        sub = NULL;
        json_array_foreach(json_object_get(help_of(verb), "subs"), k, s)
        {
            if (strcmp(jstr(s, "sub"), want) == 0)
                sub = s;
        }
        ck_assert_msg(sub != NULL, "action '%s': '%s' has no sub '%s'", jstr(a, "label"), verb,
                      want);
        args = json_object_get(sub, "args");
        json_array_foreach(args, k, s)
        {
            if (strncmp(jstr(s, "name"), "--", 2) != 0) {
                declared++;
                repeat = json_is_true(json_object_get(s, "repeat"));
            }
        }
        for (at = 2; at < json_array_size(argv); at++) {
            const char *w = json_string_value(json_array_get(argv, at));
            json_t *opt = NULL;
            if (strncmp(w, "--", 2) != 0) {
                ck_assert_msg(!options_seen, "action '%s': positional '%s' after an option",
                              jstr(a, "label"), w);
                positional++;
                ck_assert_msg(positional <= declared || repeat,
                              "action '%s': '%s %s' takes %zu positional(s)", jstr(a, "label"),
                              verb, want, declared);
                continue;
            }
            options_seen = 1;
            json_array_foreach(args, k, s)
            {
                if (strcmp(jstr(s, "name"), w) == 0)
                    opt = s;
            }
            ck_assert_msg(opt != NULL, "action '%s': '%s %s' has no option %s", jstr(a, "label"),
                          verb, want, w);
            if (strcmp(jstr(opt, "type"), "bool") != 0)
                ck_assert_msg(++at < json_array_size(argv), "action '%s': %s without its value",
                              jstr(a, "label"), w);
        }
    }
}

/* Runs argv (a JSON array) as user with --json, as a link on a page would. */
static int run_argv(const char *user, const json_t *argv)
{
    const char *a[40] = {0};
    size_t n = json_array_size(argv);
    ck_assert_uint_lt(n, 36);
    for (size_t i = 0; i < n; i++)
        a[i] = json_string_value(json_array_get(argv, i));
    return tl_run(&r, db, cfg, TL_AS, user, "--json", a[0], a[1], a[2], a[3], a[4], a[5], a[6],
                  a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18],
                  a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28], a[29],
                  a[30], a[31], a[32], a[33], a[34], a[35], NULL);
}

/* A 15-year-old back from running away in CA: a youth_quick screening is suggested. */
static long long runaway_case(void)
{
    long long person = tl_person_add(&cli, "--age-estimate", "15");
    return tl_case_new(&cli, person, "Back from running away",
                       (const char *const[]){"--runaway-start", tl_hours_ago(72),
                                             "--runaway-return", tl_hours_ago(2), NULL});
}

START_TEST(case_page_with_a_suggested_screening_offers_screen_now_and_the_decline)
{
    long long c = runaway_case();
    const char *id = tl_id(c);
    RUN_JSON("case", "show", id);
    OFFERS("screen now", "screen", "resume", id);
    OFFERS("record that the person declined", "screen", "decline", id);
    OFFERS("screenings of this case", "screen", "list", id);
    OFFERS("referrals of this case", "referral", "list", "--case", id);
    actions_fit_their_tables();
    /* screen list is the same part: it offers the case instead of itself */
    RUN_JSON("screen", "list", id);
    OFFERS("screen now", "screen", "resume", id);
    OFFERS("show the case", "case", "show", id);
    NOT_OFFERED("screenings of this case");
    /* a closed case is reopened before screening: nothing to screen now */
    RUN_JSON("case", "close", id, "--reason", "moved away");
    RUN_JSON("case", "show", id);
    NOT_OFFERED("screen now");
    NOT_OFFERED("record that the person declined");
    RUN_FAILS(1, "screen", "step", id);
    HAS(r.err, "is closed: reopen it before screening");
    RUN_FAILS(1, "screen", "resume", id);
    HAS(r.err, "is closed: reopen it before screening");
}
END_TEST

/*
 * From the case page's "screen now" to the review: each step's form posts
 * its argv with the answer appended (as a page does), the disclosure stops
 * it with the danger alert, and "store the screening" is `screen start`
 * with every answer, positionals first, which stores without asking.
 */
START_TEST(screen_now_walks_the_step_forms_to_a_review_that_stores_without_asking)
{
    long long c = runaway_case();
    const char *id = tl_id(c);
    json_t *argv, *store;
    int steps = 0;
    RUN_JSON("case", "show", id);
    argv = json_deep_copy(json_object_get(action("screen now"), "argv"));
    for (;;) {
        json_t *form, *q;
        const char *item;
        char pair[128];
        ck_assert_msg(run_argv("a_worker", argv) == 0, "%s", r.err);
        parse_doc();
        form = json_object_get(doc, "step");
        if (form == NULL)
            break;
        if (steps == 0) /* the first question, pinned to the suggested instrument */
            ck_assert_str_eq(jstr(doc, "instrument"), "youth_quick");
        q = json_array_get(json_object_get(form, "questions"), 0);
        item = jstr(q, "id");
        ck_assert_msg(json_is_array(json_object_get(q, "choices")), "%s has no choices", item);
        json_decref(argv);
        argv = json_deep_copy(json_object_get(form, "argv"));
        ck_assert_str_eq(json_string_value(json_array_get(argv, 1)), "step");
        ck_assert_str_eq(json_string_value(json_array_get(argv, 2)), id);
        snprintf(pair, sizeof(pair), "%s=%s", item,
                 strcmp(item, "exchanged_sex") == 0 || strcmp(item, "someone_making_you_now") == 0
                     ? "yes"
                     : "no");
        json_array_append_new(argv, json_string(pair));
        ck_assert_int_lt(++steps, 30);
    }
    json_decref(argv);
    ck_assert_int_gt(steps, 3);
    HAS_ALERT("danger", "Disclosure at item 'someone_making_you_now'");
    HAS_MESSAGE("No more questions: check the answers and store the screening");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings WHERE case_id = %lld"
                              " AND state NOT IN ('suggested', 'in_progress')",
                              c),
                     0);
    /* what was answered is kept as the case's draft until it is stored */
    ck_assert_int_eq(
        db_value("SELECT count(*) FROM trafficking.screening_drafts WHERE case_id = %lld", c), 1);
    store = action("store the screening");
    ck_assert_msg(store != NULL, "no store action: %s", labels());
    actions_fit_their_tables();
    store = json_deep_copy(json_object_get(action("store the screening"), "argv"));
    /* screen start CASE ANSWER... --instrument youth_quick */
    ck_assert_str_eq(json_string_value(json_array_get(store, 1)), "start");
    ck_assert_str_eq(json_string_value(json_array_get(store, 2)), id);
    ck_assert_uint_eq(json_array_size(store), 3 + (size_t)steps + 2);
    ck_assert_str_eq(json_string_value(json_array_get(store, 3 + (size_t)steps)), "--instrument");
    ck_assert_str_eq(json_string_value(json_array_get(store, 4 + (size_t)steps)), "youth_quick");
    ck_assert_msg(run_argv("a_worker", store) == 0, "%s", r.err); /* no terminal: no question */
    json_decref(store);
    parse_doc();
    ck_assert_str_eq(jstr(doc, "state"), "stopped");
    HAS_ALERT("danger", "Do not ask further questions");
    ck_assert_int_eq(db_value("SELECT count(*) FROM trafficking.screenings WHERE case_id = %lld"
                              " AND state = 'stopped'",
                              c),
                     1);
    ck_assert_int_eq(
        db_value("SELECT count(*) FROM trafficking.screening_drafts WHERE case_id = %lld", c), 0);
    /* the stored screening's page leads back to the case */
    RUN_JSON("screen", "show", tl_id(jint(doc, "screening")));
    OFFERS("show the case", "case", "show", id);
}
END_TEST

/* A wrong answer posted from a step form is asked again with a warning, and kept out. */
START_TEST(wrong_answer_in_a_step_is_asked_again_with_a_warning)
{
    long long c = runaway_case();
    const char *id = tl_id(c);
    json_t *form, *argv;
    RUN_JSON("screen", "step", id, "offer_not_as_promised=no", "could_not_leave=maybe");
    HAS_ALERT("warning", "'maybe' is not an answer");
    form = json_object_get(doc, "step");
    ck_assert_str_eq(jstr(json_array_get(json_object_get(form, "questions"), 0), "id"),
                     "could_not_leave");
    argv = json_object_get(form, "argv");
    ck_assert_uint_eq(json_array_size(argv), 6);
    ck_assert_str_eq(json_string_value(json_array_get(argv, 3)), "offer_not_as_promised=no");
    ck_assert_str_eq(json_string_value(json_array_get(argv, 4)), "--instrument");
    /* an earlier wrong answer is still a wrong call */
    RUN_FAILS(2, "screen", "step", id, "could_not_leave=maybe", "offer_not_as_promised=no");
    HAS(r.err, "'maybe' is not an answer");
    /* an instrument for other ages is refused before the first question, not at the end */
    RUN_FAILS(2, "screen", "step", id, "--instrument", "adult");
    HAS(r.err, "is for ages");
}
END_TEST

/* Answers that report a 15-year-old's exchange of sex: cw_ca and le_ca, mandatory reports. */
static long long reported_case(void)
{
    static const char *const exchanged_sex[] = {"offer_not_as_promised=no", "could_not_leave=no",
                                                "id_money_phone_held=no", "exchanged_sex=yes",
                                                NULL};
    long long c = tl_case_new(&cli, tl_person_add(&cli, "--age-estimate", "15"), "Reported", NULL);
    tl_screen(&cli, c, "youth_quick", exchanged_sex);
    return c;
}

START_TEST(referral_page_offers_the_moves_its_state_allows_the_person_looking)
{
    long long c = reported_case();
    long long ref = db_value("SELECT id FROM trafficking.referrals WHERE case_id = %lld"
                             " AND destination_id = 'cw_ca'",
                             c);
    const char *id = tl_id(ref), *case_id = tl_id(c);
    char rid[24], cid[24], label[64];
    snprintf(rid, sizeof(rid), "%s", id);
    snprintf(cid, sizeof(cid), "%s", case_id);
    /* the case page leads to each report's referral */
    RUN_JSON("case", "show", cid);
    snprintf(label, sizeof(label), "show referral %s", rid);
    OFFERS(label, "referral", "show", rid);
    NOT_OFFERED("screen now");

    /* queued, a mandatory report: a caseworker may not withdraw it, a supervisor may */
    RUN_JSON("referral", "show", rid);
    OFFERS("show the case", "case", "show", cid);
    snprintf(label, sizeof(label), "revoke referral %s", rid);
    NOT_OFFERED(label);
    snprintf(label, sizeof(label), "acknowledge referral %s", rid);
    NOT_OFFERED(label);
    tl_cli_json(&cli, "a_sup", (const char *[]){"referral", "show", rid, NULL});
    snprintf(label, sizeof(label), "revoke referral %s", rid);
    OFFERS(label, "referral", "revoke", rid);
    NOT_OFFERED("report again to cw_ca");

    /* sent: acknowledge; a supervisor may also make it again */
    tl_dispatch_once(&cli);
    RUN_JSON("referral", "show", rid);
    ck_assert_str_eq(jstr(json_object_get(doc, "referral"), "state"), "sent");
    snprintf(label, sizeof(label), "acknowledge referral %s", rid);
    OFFERS(label, "referral", "ack", rid);
    actions_fit_their_tables();
    tl_cli_json(&cli, "a_sup", (const char *[]){"referral", "show", rid, NULL});
    OFFERS("report again to cw_ca", "referral", "report-again", cid, "--destination", "cw_ca");
    actions_fit_their_tables();

    /* acknowledged: accept or reject; accepted: close */
    RUN_JSON("referral", "ack", rid);
    RUN_JSON("referral", "show", rid);
    snprintf(label, sizeof(label), "accept referral %s", rid);
    OFFERS(label, "referral", "accept", rid);
    snprintf(label, sizeof(label), "reject referral %s", rid);
    OFFERS(label, "referral", "reject", rid);
    snprintf(label, sizeof(label), "acknowledge referral %s", rid);
    NOT_OFFERED(label);
    RUN_JSON("referral", "accept", rid);
    RUN_JSON("referral", "show", rid);
    snprintf(label, sizeof(label), "close referral %s", rid);
    OFFERS(label, "referral", "close", rid);
    snprintf(label, sizeof(label), "accept referral %s", rid);
    NOT_OFFERED(label);
}
END_TEST

/* A failed delivery: its page and the home page's attention list offer the retry. */
START_TEST(failed_delivery_offers_its_retry_on_its_page_and_in_attention)
{
    long long c = reported_case();
    long long ref = db_value("SELECT id FROM trafficking.referrals WHERE case_id = %lld"
                             " AND destination_id = 'le_ca'",
                             c);
    char rid[24], label[80];
    snprintf(rid, sizeof(rid), "%lld", ref);
    /* as the dispatcher leaves it after its last attempt */
    db_exec("UPDATE trafficking.outbox SET state = 'failed', last_error = 'HTTP 500'"
            " WHERE referral_id = %lld;"
            " UPDATE trafficking.referrals SET state = 'delivery_failed', reason = 'HTTP 500'"
            " WHERE id = %lld",
            ref, ref);
    RUN_JSON("referral", "show", rid);
    snprintf(label, sizeof(label), "retry the delivery of referral %s", rid);
    OFFERS(label, "referral", "retry", rid);
    RUN_JSON("referral", "attention");
    OFFERS(label, "referral", "retry", rid);
    snprintf(label, sizeof(label), "show referral %s", rid);
    OFFERS(label, "referral", "show", rid);
    actions_fit_their_tables();
}
END_TEST

START_TEST(due_screenings_offer_their_first_question)
{
    long long c = runaway_case();
    char label[80];
    RUN_JSON("screen", "due");
    snprintf(label, sizeof(label), "screen case %lld now (youth_quick)", c);
    OFFERS(label, "screen", "resume", tl_id(c), "--instrument", "youth_quick");
}
END_TEST

START_TEST(consents_offer_their_revocation_and_safety_its_change)
{
    long long person = tl_person_add(&cli, "--age-estimate", "15");
    long long k = tl_consent_add(&cli, person, "nhth");
    char pid[24], kid[24], label[64];
    snprintf(pid, sizeof(pid), "%lld", person);
    snprintf(kid, sizeof(kid), "%lld", k);
    snprintf(label, sizeof(label), "revoke consent %s", kid);
    RUN_JSON("consent", "list", pid);
    OFFERS(label, "consent", "revoke", kid);
    OFFERS("record a decline", "consent", "decline", pid);
    OFFERS("record a consent", "consent", "add", pid);
    actions_fit_their_tables();
    /* a revoked consent is not offered again; an active decline offers its end */
    RUN_JSON("consent", "revoke", kid, "--reason", "withdrawn");
    RUN_JSON("consent", "decline", pid, "--recipients", "kind:law_enforcement");
    RUN_JSON("consent", "list", pid);
    NOT_OFFERED(label);
    OFFERS("end the decline of kind:law_enforcement", "consent", "undecline", pid, "--recipients",
           "kind:law_enforcement");
    actions_fit_their_tables();
    RUN_JSON("safety", "show", pid);
    OFFERS("change safe contact", "safety", "set", pid);
    actions_fit_their_tables();
}
END_TEST

/* The alert of severity sev whose text holds part, or NULL. */
static const json_t *alert_with(const char *sev, const char *part)
{
    const json_t *alerts = json_object_get(doc, "alerts"), *a;
    size_t i;
    json_array_foreach(alerts, i, a)
    {
        if (strcmp(jstr(a, "severity"), sev) == 0 && strstr(jstr(a, "text"), part) != NULL)
            return a;
    }
    return NULL;
}

/*
 * The person's page carries the plugin's section (ABI 1.2 render_person):
 * the contact-safety warnings first, consents with their revocation, the
 * way to the full safe contact; never the phone number or code word, which
 * stay on `safety show`. Each read is audited.
 */
START_TEST(person_page_warns_about_contact_safety_and_lists_consents)
{
    long long person = tl_person_add(&cli, "--age-estimate", "16");
    long long bare = tl_person_add(&cli, "--age-estimate", "17");
    long long k = tl_consent_add(&cli, person, "nhth");
    char pid[24], bid[24], kid[24], label[64], *text;
    snprintf(pid, sizeof(pid), "%lld", person);
    snprintf(bid, sizeof(bid), "%lld", bare);
    snprintf(kid, sizeof(kid), "%lld", k);
    RUN_JSON("safety", "set", pid, "--safe-channels", "in_person", "--phone", "555-0100",
             "--code-word", "bluebird", "--trafficker-controls-phone");
    long long audits = db_value("SELECT count(*) FROM casehost.audit_log"
                                " WHERE object_type = 'safe_contact' AND object_id = %s",
                                pid);

    RUN_JSON("person", "show", pid);
    ck_assert_ptr_nonnull(alert_with("warning", "may control their phone"));
    ck_assert_ptr_null(alert_with("warning", "Do not contact"));
    ck_assert_int_eq(json_is_true(json_object_get(json_object_get(doc, "contact_safety"),
                                                  "trafficker_controls_phone")),
                     1);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "consents")), 1);
    text = json_dumps(doc, JSON_COMPACT);
    ck_assert_ptr_null(strstr(text, "bluebird"));
    ck_assert_ptr_null(strstr(text, "555-0100"));
    free(text);
    snprintf(label, sizeof(label), "revoke consent %s", kid);
    OFFERS(label, "consent", "revoke", kid);
    OFFERS("how to contact them safely", "safety", "show", pid);
    OFFERS("record a decline", "consent", "decline", pid);
    actions_fit_their_tables();
    ck_assert_int_gt(db_value("SELECT count(*) FROM casehost.audit_log"
                              " WHERE object_type = 'safe_contact' AND object_id = %s",
                              pid),
                     audits);

    RUN_JSON("safety", "set", pid, "--do-not-contact");
    RUN_JSON("person", "show", pid);
    ck_assert_ptr_nonnull(alert_with("warning", "Do not contact this person"));

    /* nobody recorded anything: no warning, no consent, still the way to record them */
    RUN_JSON("person", "show", bid);
    ck_assert_ptr_null(json_object_get(doc, "alerts"));
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "consents")), 0);
    OFFERS("record a consent", "consent", "add", bid);
    /* another agency's caseworker gets no page at all */
    ck_assert_int_ne(tl_run(&r, db, cfg, TL_AS, "b_worker", "person", "show", pid, NULL), 0);
}
END_TEST

static Suite *web_actions_suite(void)
{
    Suite *s = suite_create("web_actions");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, every_command_says_whether_it_only_shows_and_the_home_ones_need_no_argument);
    tcase_add_test(tc, case_page_with_a_suggested_screening_offers_screen_now_and_the_decline);
    tcase_add_test(tc, screen_now_walks_the_step_forms_to_a_review_that_stores_without_asking);
    tcase_add_test(tc, wrong_answer_in_a_step_is_asked_again_with_a_warning);
    tcase_add_test(tc, referral_page_offers_the_moves_its_state_allows_the_person_looking);
    tcase_add_test(tc, failed_delivery_offers_its_retry_on_its_page_and_in_attention);
    tcase_add_test(tc, due_screenings_offer_their_first_question);
    tcase_add_test(tc, consents_offer_their_revocation_and_safety_its_change);
    tcase_add_test(tc, person_page_warns_about_contact_safety_and_lists_consents);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(web_actions_suite())
