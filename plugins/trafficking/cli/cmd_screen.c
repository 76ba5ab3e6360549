/*
 * cmd_screen.c: the caseworker's verbs `screen` and `instrument`. A
 * screening is asked one question at a time on a terminal (skip logic and
 * stop-on-disclosure as it goes) or taken from --answers FILE / item=value
 * arguments; it is stored only when finished, so quitting halfway writes
 * nothing.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfgread.h"
#include "cli/cmd_args.h"
#include "db/route.h"
#include "db/screening.h"

#define USAGE_SCREEN                                                                               \
    "screen start CASE [--instrument ID] [--supersedes SCREENING] [--answers FILE] "               \
    "[ITEM=ANSWER ...]\n"                                                                          \
    "  screen decline CASE [--instrument ID] --reason TEXT\n"                                      \
    "  screen show SCREENING\n"                                                                    \
    "  screen list CASE\n"                                                                         \
    "  screen due [--hours N]\n"                                                                   \
    "answers: yes|y, no|n, unknown|?, declined|d; a number for count items; a choice or its "      \
    "number"
#define USAGE_INSTRUMENT "instrument list\n  instrument show ID [--version N]"

struct args {
    const char *pos[4];
    int npos;
    const char *instrument, *supersedes, *answers_file, *reason, *hours, *version;
    const char *pairs[128]; /* ITEM=ANSWER */
    int npairs;
};

/* Parses what every subcommand may take; what does not fit is a usage error. */
static int parse_args(struct trf *t, struct ch_ctx *ctx, int argc, char **argv, struct args *a)
{
    static const struct {
        const char *name;
        size_t off;
    } opts[] = {
        {"--instrument", offsetof(struct args, instrument)},
        {"--supersedes", offsetof(struct args, supersedes)},
        {"--answers", offsetof(struct args, answers_file)},
        {"--reason", offsetof(struct args, reason)},
        {"--hours", offsetof(struct args, hours)},
        {"--version", offsetof(struct args, version)},
    };
    memset(a, 0, sizeof(*a));
    for (int i = 2; i < argc; i++) {
        size_t k;
        for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
            if (strcmp(argv[i], opts[k].name) == 0)
                break;
        if (k < sizeof(opts) / sizeof(opts[0])) {
            if (i + 1 >= argc) {
                t->api->fail(ctx, "option '%s' needs a value", argv[i]);
                return -1;
            }
            *(const char **)((char *)a + opts[k].off) = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0) {
            t->api->fail(ctx, "unknown option '%s'", argv[i]);
            return -1;
        } else if (strchr(argv[i], '=') != NULL && a->npairs < 128) {
            a->pairs[a->npairs++] = argv[i];
        } else if (a->npos < 4) {
            a->pos[a->npos++] = argv[i];
        } else {
            t->api->fail(ctx, "unexpected argument '%s'", argv[i]);
            return -1;
        }
    }
    return 0;
}

/*
 * Reads one answer for item it. Returns 0, or -1 with the reason in err.
 * Choice items take a label or its 1-based number.
 */
static int parse_answer(const struct instrument_item *it, const char *v, struct answer *out,
                        char *err, size_t errlen)
{
    static const struct {
        const char *text;
        enum answer_kind kind;
    } words[] = {{"yes", ANSWER_YES},
                 {"y", ANSWER_YES},
                 {"no", ANSWER_NO},
                 {"n", ANSWER_NO},
                 {"unknown", ANSWER_UNKNOWN},
                 {"?", ANSWER_UNKNOWN},
                 {"declined", ANSWER_DECLINED},
                 {"d", ANSWER_DECLINED}};
    long long n;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcmp(v, words[i].text) != 0)
            continue;
        if (it->kind != INSTRUMENT_KIND_YES_NO &&
            (words[i].kind == ANSWER_YES || words[i].kind == ANSWER_NO))
            break;
        *out = (struct answer){words[i].kind, 0};
        return 0;
    }
    if (it->kind == INSTRUMENT_KIND_COUNT) {
        if (trf_arg_whole(v, 0, LLONG_MAX, &n) == 0) {
            *out = (struct answer){ANSWER_VALUE, n};
            return 0;
        }
        snprintf(err, errlen, "item '%s': '%s' is not a count (a number, ? or d)", it->id, v);
        return -1;
    }
    if (it->kind == INSTRUMENT_KIND_CHOICE) {
        if (trf_arg_whole(v, 1, (long long)it->n_choices, &n) == 0) {
            *out = (struct answer){ANSWER_VALUE, n - 1};
            return 0;
        }
        for (size_t c = 0; c < it->n_choices; c++)
            if (strcmp(it->choices[c], v) == 0) {
                *out = (struct answer){ANSWER_VALUE, (long long)c};
                return 0;
            }
        snprintf(err, errlen, "item '%s': '%s' is not one of its choices", it->id, v);
        return -1;
    }
    snprintf(err, errlen, "item '%s': '%s' is not an answer (yes, no, unknown or declined)", it->id,
             v);
    return -1;
}

/* Sets one "item=answer" pair; where says where it came from for the message. */
static int set_pair(const struct instrument *inst, struct answer *answers, const char *pair,
                    const char *where, char *err, size_t errlen)
{
    char item[128], msg[300];
    const char *eq = strchr(pair, '=');
    const char *v = eq + 1;
    size_t n = (size_t)(eq - pair);
    int idx;
    while (n > 0 && pair[n - 1] == ' ')
        n--;
    while (*v == ' ')
        v++;
    snprintf(item, sizeof(item), "%.*s", (int)n, pair);
    idx = instrument_item_index(inst, item);
    if (idx < 0) {
        snprintf(err, errlen, "%s: instrument '%s' has no item '%s'", where, inst->id, item);
        return -1;
    }
    if (answers[idx].kind != ANSWER_NOT_ASKED) {
        snprintf(err, errlen, "%s: item '%s' is answered twice", where, item);
        return -1;
    }
    if (parse_answer(&inst->items[idx], v, &answers[idx], msg, sizeof(msg)) != 0) {
        snprintf(err, errlen, "%s: %s", where, msg);
        return -1;
    }
    return 0;
}

/*
 * Reads "item = answer" lines ('#' starts a comment) from path, through the
 * plugin's one file reader (so with the same 4 MiB cap as every file it parses).
 */
static int read_answers_file(const struct instrument *inst, struct answer *answers,
                             const char *path, char *err, size_t errlen)
{
    char *text = NULL, *line, *next, where[960], why[200];
    size_t len = 0;
    int lineno = 0, rc = 0;
    if (cfgread_read_file(path, &text, &len, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "cannot read answers file '%.700s': %s", path, why);
        return -1;
    }
    for (line = text; rc == 0 && line != NULL; line = next) {
        char *p = line, *end;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        line[strcspn(line, "#\r")] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*p == '\0')
            continue;
        snprintf(where, sizeof(where), "%.900s:%d", path, lineno);
        if (strchr(p, '=') == NULL) {
            snprintf(err, errlen, "%.900s: expected ITEM = ANSWER", where);
            rc = -1;
        } else {
            rc = set_pair(inst, answers, p, where, err, errlen);
        }
    }
    free(text);
    return rc;
}

static void print_choices(const struct instrument_item *it)
{
    if (it->kind == INSTRUMENT_KIND_YES_NO) {
        printf("  [y] yes  [n] no  [?] don't know  [d] declined to answer\n");
    } else if (it->kind == INSTRUMENT_KIND_COUNT) {
        printf("  a number, [?] don't know, [d] declined\n");
    } else {
        for (size_t c = 0; c < it->n_choices; c++)
            printf("  [%zu] %s\n", c + 1, it->choices[c]);
        printf("  [?] don't know  [d] declined\n");
    }
}

/*
 * Asks the shown items one at a time. Returns 0 when finished (or stopped on
 * disclosure), 1 when the caseworker quit (nothing is stored), -1 on error.
 */
static int ask(const struct instrument *inst, struct answer *answers,
               const struct rule_value *facts, char *err, size_t errlen)
{
    char line[256];
    printf("\n%s (version %d)\n%s\n", inst->title, inst->version, inst->purpose);
    if (inst->mode == INSTRUMENT_OBSERVATION)
        printf("Staff observation: answer from what you know. Do not read these items aloud.\n");
    if (inst->requires_training)
        printf("This instrument is for trained staff only.\n");
    printf("Enter q to stop without saving anything.\n");
    for (;;) {
        struct scoring_outcome o;
        const struct instrument_item *it;
        if (scoring_run(inst, answers, facts, &o, NULL, err, errlen) != 0)
            return -1;
        if (o.stopped || o.next < 0)
            return 0;
        it = &inst->items[o.next];
        printf("\n%d. %s\n", o.next + 1, it->prompt);
        print_choices(it);
        for (;;) {
            printf("> ");
            fflush(stdout);
            if (fgets(line, sizeof(line), stdin) == NULL)
                return 1;
            line[strcspn(line, "\r\n")] = '\0';
            if (strcmp(line, "q") == 0)
                return 1;
            if (parse_answer(it, line, &answers[o.next], err, errlen) == 0)
                break;
            printf("%s\n", err);
        }
    }
}

/* The open suggestion's instrument for a case, or NULL (caller frees). */
static char *suggested_instrument(PGconn *conn, int64_t case_id, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT instrument_id FROM trafficking.screenings WHERE case_id = $1"
        "   AND state IN ('suggested', 'in_progress') ORDER BY due_at NULLS LAST, id LIMIT 1";
    char id[24];
    const char *params[1] = {id};
    char *out = NULL;
    PGresult *r;
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    r = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    else if (PQntuples(r) == 1)
        out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

/* Finds the instrument for a start/decline: --instrument, else the case's suggestion. */
static const struct instrument *pick_instrument(struct trf *t, struct ch_ctx *ctx,
                                                const struct args *a, int64_t case_id)
{
    const struct instrument *inst;
    char err[512] = "", *sugg = NULL;
    const char *id = a->instrument;
    if (id == NULL) {
        sugg = suggested_instrument(t->api->conn(ctx), case_id, err, sizeof(err));
        if (sugg == NULL && err[0] != '\0') {
            t->api->fail(ctx, "case %lld: %s", (long long)case_id, err);
            return NULL;
        }
        if (sugg == NULL) {
            t->api->fail(ctx,
                         "case %lld has no suggested screening: choose one with "
                         "--instrument ID ('casehost instrument list')",
                         (long long)case_id);
            return NULL;
        }
        id = sugg;
    }
    inst = instrument_set_find(t->cfg->instruments, id, 0);
    if (inst == NULL)
        t->api->fail(ctx, "no instrument '%s' ('casehost instrument list' shows them)", id);
    free(sugg);
    return inst;
}

static void guidance(struct trf *t, struct ch_ctx *ctx, const struct instrument *inst,
                     const struct scoring_outcome *o, const struct scoring_age *age)
{
    if (o->stopped) {
        t->api->out_message(ctx,
                            "Disclosure at item '%s': the screening stopped there. Do not ask "
                            "further questions. Make sure the person is safe now, and arrange a "
                            "forensic interview through your protocol.",
                            inst->items[o->stop_item].id);
    } else if (o->result == SCORING_POSITIVE) {
        t->api->out_message(ctx, "Positive screen: assess further. A positive screen is a "
                                 "reason to look closer, not a finding that the person is a "
                                 "victim.");
    } else if (o->result == SCORING_POSSIBLE) {
        t->api->out_message(ctx, "Possible concern: declined or unknown answers mean it cannot "
                                 "be ruled out. Plan a follow-up conversation.");
    } else if (o->result == SCORING_INCOMPLETE) {
        t->api->out_message(ctx,
                            "Incomplete: too few answers for a valid result (at least %d "
                            "needed). Declined and unknown are not 'no'.",
                            inst->min_answered);
    }
    if (age->minor)
        t->api->out_message(ctx, "Minor pathway (%s): treat as a child for reporting.",
                            age->pathway);
}

static int screen_start(struct trf *t, struct ch_ctx *ctx, const struct args *a, int decline)
{
    const struct instrument *inst;
    struct casefacts cf;
    struct rule_value facts[FACTS__COUNT];
    struct answer *answers = NULL;
    struct scoring_outcome o;
    struct screening_submit s;
    char err[1024];
    int64_t case_id, sid;
    int rc = CH_ERROR, r;

    if (a->npos != 1) {
        t->api->fail(ctx, "screen %s needs a CASE id", decline ? "decline" : "start");
        return CH_USAGE;
    }
    if (trf_arg_id(t, ctx, "case", a->pos[0], &case_id) != 0)
        return CH_USAGE;
    if (decline && (a->reason == NULL || a->reason[0] == '\0')) {
        t->api->fail(ctx, "screen decline needs --reason TEXT");
        return CH_USAGE;
    }
    memset(&s, 0, sizeof(s));
    if (a->supersedes && trf_arg_id(t, ctx, "screening", a->supersedes, &s.supersedes) != 0)
        return CH_USAGE;
    r = casefacts_load(t->api->conn(ctx), case_id, &cf, err, sizeof(err));
    if (r > 0)
        t->api->fail(ctx, "case %lld not found", (long long)case_id);
    else if (r < 0)
        t->api->fail(ctx, "%s", err);
    if (r != 0)
        return CH_ERROR;
    if (cf.closed) {
        t->api->fail(ctx, "case %lld is closed: reopen it before screening", (long long)case_id);
        return CH_ERROR;
    }
    casefacts_fill(&cf, facts);
    inst = pick_instrument(t, ctx, a, case_id);
    if (inst == NULL)
        return CH_ERROR;
    if (!scoring_population_fits(inst, &cf.age)) {
        t->api->fail(ctx,
                     "instrument '%s' is for ages %d to %d; the person on case %lld is %d (%s): "
                     "choose another with --instrument",
                     inst->id, inst->min_age, inst->max_age, (long long)case_id, cf.age.age,
                     cf.age.known ? "date of birth" : "estimated");
        return CH_USAGE;
    }
    answers = calloc(inst->n_items ? inst->n_items : 1, sizeof(*answers));
    if (answers == NULL) {
        t->api->fail(ctx, "out of memory");
        return CH_ERROR;
    }
    s.case_id = case_id;
    s.inst = inst;
    s.answers = answers;
    s.age = &cf.age;
    if (decline) {
        s.decline_reason = a->reason;
        goto store;
    }
    if (a->answers_file != NULL &&
        read_answers_file(inst, answers, a->answers_file, err, sizeof(err)) != 0) {
        t->api->fail(ctx, "%s", err);
        rc = CH_USAGE;
        goto out;
    }
    for (int i = 0; i < a->npairs; i++) {
        char where[160];
        snprintf(where, sizeof(where), "answer '%s'", a->pairs[i]);
        if (set_pair(inst, answers, a->pairs[i], where, err, sizeof(err)) != 0) {
            t->api->fail(ctx, "%s", err);
            rc = CH_USAGE;
            goto out;
        }
    }
    if (a->answers_file == NULL && a->npairs == 0) {
        if (!t->api->interactive(ctx)) {
            t->api->fail(ctx, "no answers: without a terminal, give --answers FILE or "
                              "ITEM=ANSWER arguments");
            rc = CH_USAGE;
            goto out;
        }
        r = ask(inst, answers, facts, err, sizeof(err));
        if (r == 1) {
            t->api->fail(ctx, "screening of case %lld stopped before the end; nothing was saved",
                         (long long)case_id);
            goto out;
        }
        if (r < 0) {
            t->api->fail(ctx, "%s", err);
            goto out;
        }
    }
    {
        unsigned char *shown = calloc(inst->n_items ? inst->n_items : 1, 1);
        if (shown == NULL || scoring_run(inst, answers, facts, &o, shown, err, sizeof(err)) != 0) {
            free(shown);
            t->api->fail(ctx, "%s", shown ? err : "out of memory");
            goto out;
        }
        /* What is stored is what was asked: hidden or unreached items are not_asked. */
        for (size_t i = 0; i < inst->n_items; i++) {
            int reached = !o.stopped || (int)i <= o.stop_item;
            if ((!shown[i] || !reached) && answers[i].kind != ANSWER_NOT_ASKED) {
                t->api->out_message(ctx, "item '%s' was %s; its answer is not recorded",
                                    inst->items[i].id,
                                    reached ? "skipped by its condition" : "after the disclosure");
                answers[i] = (struct answer){ANSWER_NOT_ASKED, 0};
            }
        }
        free(shown);
    }
    s.outcome = &o;
store:
    sid = screening_store(t->api->conn(ctx), &s, err, sizeof(err));
    if (sid < 0) {
        t->api->fail(ctx, "case %lld: %s", (long long)case_id, err);
        goto out;
    }
    /* Routing runs in the same transaction: the screening and its referrals commit together. */
    if (route_case(t, ctx, case_id, sid, "screening_completed", 1) != CH_OK)
        goto out;
    t->api->out_int(ctx, "screening", sid);
    t->api->out_int(ctx, "case", case_id);
    t->api->out_str(ctx, "instrument", inst->id);
    t->api->out_int(ctx, "version", inst->version);
    t->api->out_str(ctx, "state", screening_final_state(s.outcome));
    t->api->out_str(ctx, "pathway", cf.age.pathway);
    if (s.outcome != NULL) {
        t->api->out_str(ctx, "result", scoring_result_name(o.result));
        t->api->out_str(ctx, "band", scoring_band(inst, &o));
        t->api->out_int(ctx, "score", o.score);
        t->api->out_int(ctx, "answered", o.answered);
        guidance(t, ctx, inst, &o, &cf.age);
    } else {
        t->api->out_message(ctx, "Screening declined and recorded. Services never depend on "
                                 "answering; offer it again later.");
    }
    rc = CH_OK;
out:
    free(answers);
    return rc;
}

/* Runs one read query with $1 = arg and shows it under key; audits the read. */
static int show_query(struct trf *t, struct ch_ctx *ctx, const char *key, const char *sql,
                      const char *arg, int as_array, int must_exist, const char *what)
{
    const char *params[1] = {arg};
    PGresult *r = PQexecParams(t->api->conn(ctx), sql, arg ? 1 : 0, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        t->api->fail(ctx, "%s: %s", what, PQresultErrorMessage(r));
        PQclear(r);
        return CH_ERROR;
    }
    if (must_exist && PQntuples(r) == 0) {
        t->api->fail(ctx, "%s not found", what);
        PQclear(r);
        return CH_ERROR;
    }
    t->api->out_result(ctx, key, r, as_array);
    PQclear(r);
    return CH_OK;
}

static int screen_show(struct trf *t, struct ch_ctx *ctx, const struct args *a)
{
    static const char head_sql[] =
        "SELECT s.id, s.case_id AS case, s.instrument_id AS instrument,"
        "       s.instrument_version AS version, left(s.instrument_hash, 12) AS definition_hash,"
        "       s.state, s.result, s.band, s.score, s.pathway, s.age_at_screening,"
        "       s.trigger, s.reason, to_char(s.due_at, 'YYYY-MM-DD HH24:MI') AS due,"
        "       u.name AS screener, to_char(s.finished_at, 'YYYY-MM-DD HH24:MI') AS finished,"
        "       s.decline_reason, s.supersedes, s.superseded_by, s.outcome"
        "  FROM trafficking.screenings s LEFT JOIN casehost.users u ON u.id = s.screener_id"
        " WHERE s.id = $1";
    static const char answers_sql[] = "SELECT item_index + 1 AS n, item_id AS item, answer, value"
                                      "  FROM trafficking.answers_of_v1($1) ORDER BY item_index";
    static const char history_sql[] =
        "SELECT to_char(h.at, 'YYYY-MM-DD HH24:MI:SS') AS at, u.name AS by, h.from_state,"
        "       h.to_state, h.detail FROM trafficking.screening_history h"
        "  LEFT JOIN casehost.users u ON u.id = h.actor_id WHERE h.screening_id = $1"
        " ORDER BY h.id";
    int64_t id;
    char what[64];
    if (a->npos != 1 || trf_arg_id(t, ctx, "screening", a->pos[0], &id) != 0)
        return CH_USAGE;
    snprintf(what, sizeof(what), "screening %lld", (long long)id);
    if (show_query(t, ctx, "screening", head_sql, a->pos[0], 0, 1, what) != CH_OK ||
        show_query(t, ctx, "answers", answers_sql, a->pos[0], 1, 0, what) != CH_OK ||
        show_query(t, ctx, "history", history_sql, a->pos[0], 1, 0, what) != CH_OK)
        return CH_ERROR;
    return CH_OK; /* answers_of_v1 audited the read */
}

static int screen_list(struct trf *t, struct ch_ctx *ctx, const struct args *a)
{
    struct casefacts cf;
    char err[512];
    int64_t id;
    int r;
    if (a->npos != 1 || trf_arg_id(t, ctx, "case", a->pos[0], &id) != 0)
        return CH_USAGE;
    r = casefacts_load(t->api->conn(ctx), id, &cf, err, sizeof(err));
    if (r != 0) {
        if (r > 0)
            t->api->fail(ctx, "case %lld not found", (long long)id);
        else
            t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    if (trf_render_case(ctx, id, t) != CH_OK)
        return CH_ERROR;
    return t->api->audit(ctx, "read", "screenings", id, "list") == 0 ? CH_OK : CH_ERROR;
}

static int screen_due(struct trf *t, struct ch_ctx *ctx, const struct args *a)
{
    static const char sql[] =
        "SELECT s.id AS screening, s.case_id AS case, c.title, s.instrument_id AS instrument,"
        "       s.trigger, to_char(s.due_at, 'YYYY-MM-DD HH24:MI') AS due,"
        "       s.due_at < now() AS overdue, u.name AS assignee"
        "  FROM trafficking.screenings s JOIN casehost.cases c ON c.id = s.case_id"
        "  LEFT JOIN casehost.users u ON u.id = c.assignee_id"
        " WHERE s.state IN ('suggested', 'in_progress') AND c.status <> 'closed'"
        "   AND s.due_at < now() + make_interval(hours => $1::integer)"
        " ORDER BY s.due_at, s.id";
    const char *hours = a->hours ? a->hours : "24";
    long long h;
    if (trf_arg_whole(hours, 0, 24 * 365, &h) != 0) {
        t->api->fail(ctx, "--hours '%s' is not a number of hours (0 to %d)", hours, 24 * 365);
        return CH_USAGE;
    }
    return show_query(t, ctx, "due", sql, hours, 1, 0, "due screenings");
}

static int cmd_screen(struct ch_ctx *ctx, int argc, char **argv, void *ud)
{
    struct trf *t = ud;
    struct args a;
    const char *sub = argc >= 2 ? argv[1] : "";
    if (parse_args(t, ctx, argc, argv, &a) != 0)
        return CH_USAGE;
    if (strcmp(sub, "start") == 0)
        return screen_start(t, ctx, &a, 0);
    if (strcmp(sub, "decline") == 0)
        return screen_start(t, ctx, &a, 1);
    if (strcmp(sub, "show") == 0)
        return screen_show(t, ctx, &a);
    if (strcmp(sub, "list") == 0)
        return screen_list(t, ctx, &a);
    if (strcmp(sub, "due") == 0)
        return screen_due(t, ctx, &a);
    t->api->fail(ctx, "screen: unknown subcommand '%s'", sub);
    return CH_USAGE;
}

static int cmd_instrument(struct ch_ctx *ctx, int argc, char **argv, void *ud)
{
    struct trf *t = ud;
    const struct instrument_set *set = t->cfg->instruments;
    const struct ch_host_api *api = t->api;
    struct args a;
    const char *sub = argc >= 2 ? argv[1] : "";
    if (parse_args(t, ctx, argc, argv, &a) != 0)
        return CH_USAGE;
    if (strcmp(sub, "list") == 0 && a.npos == 0) {
        api->out_array(ctx, "instruments");
        for (size_t i = 0; i < set->n; i++) {
            const struct instrument *in = set->v[i];
            char ages[32];
            snprintf(ages, sizeof(ages), "%d-%d", in->min_age, in->max_age);
            api->out_object(ctx, NULL);
            api->out_str(ctx, "id", in->id);
            api->out_int(ctx, "version", in->version);
            api->out_str(ctx, "title", in->title);
            api->out_str(ctx, "mode", instrument_mode_name(in->mode));
            api->out_str(ctx, "ages", ages);
            api->out_int(ctx, "items", (int64_t)in->n_items);
            api->out_str(ctx, "scoring", instrument_method_name(in->method));
            api->out_end(ctx);
        }
        api->out_end(ctx);
        return CH_OK;
    }
    if (strcmp(sub, "show") == 0 && a.npos == 1) {
        long long version = 0;
        const struct instrument *in;
        if (a.version != NULL &&
            trf_arg_number(t, ctx, "--version", a.version, 1, INT_MAX, &version) != 0)
            return CH_USAGE;
        in = instrument_set_find(set, a.pos[0], (int)version);
        if (in == NULL) {
            api->fail(ctx, "no instrument '%s'%s", a.pos[0], a.version ? " in that version" : "");
            return CH_ERROR;
        }
        api->out_object(ctx, "instrument");
        api->out_str(ctx, "id", in->id);
        api->out_int(ctx, "version", in->version);
        api->out_str(ctx, "title", in->title);
        api->out_str(ctx, "purpose", in->purpose);
        api->out_str(ctx, "source", in->source);
        api->out_str(ctx, "mode", instrument_mode_name(in->mode));
        api->out_bool(ctx, "requires_training", in->requires_training);
        api->out_int(ctx, "min_age", in->min_age);
        api->out_int(ctx, "max_age", in->max_age);
        api->out_str(ctx, "scoring", instrument_method_name(in->method));
        api->out_int(ctx, "min_answered", in->min_answered);
        api->out_str(ctx, "hash", in->hash);
        api->out_end(ctx);
        api->out_array(ctx, "items");
        for (size_t i = 0; i < in->n_items; i++) {
            const struct instrument_item *it = &in->items[i];
            api->out_object(ctx, NULL);
            api->out_int(ctx, "n", (int64_t)i + 1);
            api->out_str(ctx, "id", it->id);
            api->out_str(ctx, "domain", instrument_domain_name(it->domain));
            api->out_str(ctx, "kind", instrument_kind_name(it->kind));
            api->out_bool(ctx, "key", it->key);
            api->out_bool(ctx, "disclosure", it->disclosure);
            api->out_int(ctx, "weight", it->weight);
            api->out_str(ctx, "show_if", it->show_if ? rule_source(it->show_if) : NULL);
            api->out_str(ctx, "prompt", it->prompt);
            api->out_end(ctx);
        }
        api->out_end(ctx);
        return CH_OK;
    }
    api->fail(ctx, "instrument: expected 'list' or 'show ID'");
    return CH_USAGE;
}

int trf_register_commands(struct trf *t)
{
    const struct ch_command screen = {"screen",
                                      "start, decline, show and list screenings; see what is due",
                                      USAGE_SCREEN,
                                      cmd_screen,
                                      t,
                                      0};
    const struct ch_command instrument = {"instrument",
                                          "list and show screening instruments",
                                          USAGE_INSTRUMENT,
                                          cmd_instrument,
                                          t,
                                          0};
    if (t->api->command(t->self, &screen) != 0 || t->api->command(t->self, &instrument) != 0)
        return -1;
    return 0;
}
