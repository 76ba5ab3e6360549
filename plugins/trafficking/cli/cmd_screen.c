/*
 * cmd_screen.c: the caseworker's verb `screen`. A screening is asked one
 * question at a time on a terminal (skip logic and stop-on-disclosure as it
 * goes), as step forms (`screen step`, a web page's way), or taken from
 * --answers FILE / item=value arguments; it is stored only when finished, so
 * quitting halfway writes nothing.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfgread.h"
#include "cfg/lines.h"
#include "cli/actions.h"
#include "cli/cmd_instrument.h"
#include "cli/show.h"
#include "db/query.h"
#include "db/route.h"
#include "db/screening.h"

/* Arguments of screen start and step (S_REASON: decline's, handed on by screen_decline_cmd). */
enum { S_CASE, S_INSTRUMENT, S_SUPERSEDES, S_ANSWERS, S_PAIRS, S_REASON };
/* Arguments of screen decline. */
enum { D_CASE, D_INSTRUMENT, D_SUPERSEDES, D_REASON };

/* Decimal digits only (no sign, blank or trailing text), in [lo, hi]; 0 or -1. */
static int whole(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v;
    if (s == NULL || !(s[0] >= '0' && s[0] <= '9'))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
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
        if (whole(v, 0, LLONG_MAX, &n) == 0) {
            *out = (struct answer){ANSWER_VALUE, n};
            return 0;
        }
        snprintf(err, errlen, "item '%s': '%s' is not a count (a number, ? or d)", it->id, v);
        return -1;
    }
    if (it->kind == INSTRUMENT_KIND_CHOICE) {
        if (whole(v, 1, (long long)it->n_choices, &n) == 0) {
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
 * plugin's one line reader: a comment however long stays one comment, and a
 * NUL byte refuses the file (with the same 4 MiB cap as every file it parses).
 */
static int read_answers_file(const struct instrument *inst, struct answer *answers,
                             const char *path, char *err, size_t errlen)
{
    char where[960], why[1000];
    struct lines in;
    int rc = 0, got;
    if (lines_open(&in, path, CFGREAD_MAX_FILE, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "cannot read answers file '%.600s': %.300s", path, why);
        lines_release(&in);
        return -1;
    }
    while (rc == 0 && (got = lines_next(&in, why, sizeof(why))) == 1) {
        char *p = in.line, *end;
        p[strcspn(p, "#")] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*p == '\0')
            continue;
        snprintf(where, sizeof(where), "%.900s:%lld", path, in.lineno);
        if (strchr(p, '=') == NULL) {
            snprintf(err, errlen, "%.900s: expected ITEM = ANSWER", where);
            rc = -1;
        } else {
            rc = set_pair(inst, answers, p, where, err, errlen);
        }
    }
    if (rc == 0 && got < 0) {
        snprintf(err, errlen, "answers file %.990s", why);
        rc = -1;
    }
    lines_release(&in);
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
    struct lines in;
    int rc = -1;
    /* A long line is one (wrong) answer, never the next answers too. */
    lines_from(&in, stdin, "standard input", CFGREAD_MAX_FILE);
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
            goto out;
        if (o.stopped || o.next < 0) {
            rc = 0;
            goto out;
        }
        it = &inst->items[o.next];
        printf("\n%d. %s\n", o.next + 1, it->prompt);
        print_choices(it);
        for (;;) {
            int got;
            printf("> ");
            fflush(stdout);
            got = lines_next(&in, err, errlen);
            if (got <= 0) {
                rc = got == 0 ? 1 : -1;
                goto out;
            }
            if (strcmp(in.line, "q") == 0) {
                rc = 1;
                goto out;
            }
            if (parse_answer(it, in.line, &answers[o.next], err, errlen) == 0)
                break;
            printf("%s\n", err);
        }
    }
out:
    lines_release(&in);
    return rc;
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
        trf_query_error(conn, r, err, errlen, NULL);
    else if (PQntuples(r) == 1)
        out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

/* Finds the instrument for a start/decline: --instrument, else the case's suggestion. */
static const struct instrument *pick_instrument(struct trf *t, struct ch_ctx *ctx,
                                                const char *instrument, int64_t case_id)
{
    const struct instrument *inst;
    char err[512] = "", *sugg = NULL;
    const char *id = instrument;
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
        t->api->out_alert(ctx, CH_SEV_DANGER,
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

/*
 * Applies --answers FILE, then the ITEM=ANSWER arguments; 0 or -1 after
 * api->fail. With dropped (a step), a wrong last answer (the one just given:
 * a step form appends it) is not a failure: a warning says why, *dropped is
 * its index (else v[S_PAIRS].given) and its question is asked again.
 */
static int given_answers(struct trf *t, struct ch_ctx *ctx, const struct instrument *inst,
                         const struct ch_value *v, struct answer *answers, unsigned *dropped)
{
    char err[1024];
    if (dropped != NULL)
        *dropped = v[S_PAIRS].given;
    if (v[S_ANSWERS].given &&
        read_answers_file(inst, answers, v[S_ANSWERS].text, err, sizeof(err)) != 0) {
        t->api->fail(ctx, "%s", err);
        return -1;
    }
    for (unsigned i = 0; i < v[S_PAIRS].given; i++) {
        const char *pair = v[S_PAIRS].list[i];
        char where[160];
        snprintf(where, sizeof(where), "answer '%.120s'", pair);
        if (strchr(pair, '=') == NULL)
            snprintf(err, sizeof(err), "%s: expected ITEM=ANSWER", where);
        else if (set_pair(inst, answers, pair, where, err, sizeof(err)) == 0)
            continue;
        if (dropped != NULL && i + 1 == v[S_PAIRS].given) {
            t->api->out_alert(ctx, CH_SEV_WARNING, "%s: answer again", err);
            *dropped = i;
            return 0;
        }
        t->api->fail(ctx, "%s", err);
        return -1;
    }
    return 0;
}

/*
 * What a screening of case v[S_CASE] starts from: the case's facts (cf,
 * facts) and the instrument (--instrument, else the case's suggestion),
 * which must fit the person's age. A closed case is reopened before
 * screening. CH_OK; CH_USAGE or CH_ERROR after api->fail.
 */
static int screen_prepare(struct trf *t, struct ch_ctx *ctx, const struct ch_value *v,
                          struct casefacts *cf, struct rule_value *facts,
                          const struct instrument **inst)
{
    char err[1024];
    long long case_id = v[S_CASE].num;
    int r = casefacts_load(t->api->conn(ctx), case_id, cf, err, sizeof(err));
    if (r > 0)
        t->api->fail(ctx, "case %lld not found", case_id);
    else if (r < 0)
        t->api->fail(ctx, "%s", err);
    if (r != 0)
        return CH_ERROR;
    if (cf->closed) {
        t->api->fail(ctx, "case %lld is closed: reopen it before screening", case_id);
        return CH_ERROR;
    }
    casefacts_fill(cf, facts);
    *inst = pick_instrument(t, ctx, v[S_INSTRUMENT].text, case_id);
    if (*inst == NULL)
        return CH_ERROR;
    if (!scoring_population_fits(*inst, &cf->age)) {
        t->api->fail(ctx,
                     "instrument '%s' is for ages %d to %d; the person on case %lld is %d (%s): "
                     "choose another with --instrument",
                     (*inst)->id, (*inst)->min_age, (*inst)->max_age, case_id, cf->age.age,
                     cf->age.known ? "date of birth" : "estimated");
        return CH_USAGE;
    }
    return CH_OK;
}

static int screen_start(struct trf *t, struct ch_ctx *ctx, const struct ch_value *v, int decline)
{
    const struct instrument *inst;
    struct casefacts cf;
    struct rule_value facts[FACTS__COUNT];
    struct answer *answers = NULL;
    struct scoring_outcome o;
    struct screening_submit s;
    char err[1024];
    int64_t case_id = v[S_CASE].num, sid;
    int rc = CH_ERROR, r;

    memset(&s, 0, sizeof(s));
    s.supersedes = v[S_SUPERSEDES].num;
    r = screen_prepare(t, ctx, v, &cf, facts, &inst);
    if (r != CH_OK)
        return r;
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
        s.decline_reason = v[S_REASON].text;
        goto store;
    }
    if (given_answers(t, ctx, inst, v, answers, NULL) != 0) {
        rc = CH_USAGE;
        goto out;
    }
    if (v[S_ANSWERS].given == 0 && v[S_PAIRS].given == 0) {
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

static int screen_show(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char head_sql[] =
        "SELECT s.id, s.case_id AS case, s.instrument_id AS instrument,"
        "       s.instrument_version AS version, left(s.instrument_hash, 12) AS definition_hash,"
        "       s.state, s.result, s.band, s.score, s.pathway, s.age_at_screening,"
        "       s.trigger, s.reason, to_char(s.due_at, 'YYYY-MM-DD HH24:MI') AS due,"
        "       u.name AS screener, to_char(s.finished_at, 'YYYY-MM-DD HH24:MI') AS finished,"
        "       s.decline_reason, s.supersedes, s.superseded_by, s.outcome"
        "  FROM trafficking.screenings s LEFT JOIN casehost.plugin_user_v1 u ON u.id = "
        "s.screener_id"
        " WHERE s.id = $1";
    static const char answers_sql[] = "SELECT item_index + 1 AS n, item_id AS item, answer, value"
                                      "  FROM trafficking.answers_of_v1($1) ORDER BY item_index";
    static const char history_sql[] =
        "SELECT to_char(h.at, 'YYYY-MM-DD HH24:MI:SS') AS at, u.name AS by, h.from_state,"
        "       h.to_state, h.detail FROM trafficking.screening_history h"
        "  LEFT JOIN casehost.plugin_user_v1 u ON u.id = h.actor_id WHERE h.screening_id = $1"
        " ORDER BY h.id";
    struct trf *t = ud;
    char what[64], case_id[24];
    const char *params[1] = {v[0].text};
    PGresult *head;
    snprintf(what, sizeof(what), "screening %lld", v[0].num);
    head = trf_show_result(t, ctx, what, head_sql, 1, params, "screening", TRF_SHOW_MUST_EXIST);
    if (head == NULL)
        return CH_ERROR;
    snprintf(case_id, sizeof(case_id), "%s", PQgetvalue(head, 0, PQfnumber(head, "case")));
    PQclear(head);
    if (trf_show(t, ctx, what, answers_sql, 1, params, "answers", TRF_SHOW_ROWS) != CH_OK ||
        trf_show(t, ctx, what, history_sql, 1, params, "history", TRF_SHOW_ROWS) != CH_OK)
        return CH_ERROR;
    trf_action(t, ctx, "show the case", "case", "show", case_id, NULL);
    return CH_OK; /* answers_of_v1 audited the read */
}

static int screen_list(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    struct casefacts cf;
    char err[512];
    int64_t id = v[0].num;
    int r;
    r = casefacts_load(t->api->conn(ctx), id, &cf, err, sizeof(err));
    if (r != 0) {
        if (r > 0)
            t->api->fail(ctx, "case %lld not found", (long long)id);
        else
            t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    if (screening_render(t, ctx, id, 0) != CH_OK)
        return CH_ERROR;
    return t->api->audit(ctx, "read", "screenings", id, "list") == 0 ? CH_OK : CH_ERROR;
}

static int screen_due(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] =
        "SELECT s.id AS screening, s.case_id AS case, c.title, s.instrument_id AS instrument,"
        "       s.trigger, to_char(s.due_at, 'YYYY-MM-DD HH24:MI') AS due,"
        "       s.due_at < now() AS overdue, u.name AS assignee"
        "  FROM trafficking.screenings s JOIN casehost.plugin_case_v1 c ON c.id = s.case_id"
        "  LEFT JOIN casehost.plugin_user_v1 u ON u.id = c.assignee_id"
        " WHERE s.state IN ('suggested', 'in_progress') AND c.status <> 'closed'"
        "   AND s.due_at < now() + make_interval(hours => $1::integer)"
        " ORDER BY s.due_at, s.id";
    char hours[24];
    const char *params[1] = {hours};
    PGresult *r;
    snprintf(hours, sizeof(hours), "%lld", v[0].given ? v[0].num : 24);
    r = trf_show_result(ud, ctx, "due screenings", sql, 1, params, "due", TRF_SHOW_ROWS);
    if (r == NULL)
        return CH_ERROR;
    /* Each one a link away from its first question, with the instrument that is due. */
    for (int i = 0; i < PQntuples(r); i++) {
        const char *case_id = PQgetvalue(r, i, 1), *instrument = PQgetvalue(r, i, 3);
        char label[160];
        snprintf(label, sizeof(label), "screen case %s now (%.100s)", case_id, instrument);
        trf_action(ud, ctx, label, "screen", "step", case_id, "--instrument", instrument, NULL);
    }
    PQclear(r);
    return CH_OK;
}

/*
 * screen step CASE [ITEM=ANSWER...] [--instrument ID]: the next question of
 * a screening, given the answers so far, as a step form (skip logic and
 * stop-on-disclosure applied), so a screening can be asked on any surface
 * one question at a time: a web page posts each answer back here. Writes
 * nothing; when nothing is left to ask it offers the `screen start` that
 * stores the answers (on a page: its form, prefilled, where any answer can
 * be changed before storing).
 */
static int screen_step(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char *const yes_no[] = {"yes", "no", "unknown", "declined", NULL};
    struct trf *t = ud;
    const struct ch_host_api *api = t->api;
    const struct instrument *inst;
    struct casefacts cf;
    struct rule_value facts[FACTS__COUNT];
    struct answer *answers;
    struct scoring_outcome o;
    const char **argv = NULL, **choices = NULL;
    char err[1024], case_arg[24];
    size_t n = 0;
    unsigned dropped;
    int rc;

    rc = screen_prepare(t, ctx, v, &cf, facts, &inst);
    if (rc != CH_OK)
        return rc;
    rc = CH_ERROR;
    answers = calloc(inst->n_items ? inst->n_items : 1, sizeof(*answers));
    argv = calloc(v[S_PAIRS].given + 10, sizeof(*argv));
    if (answers == NULL || argv == NULL) {
        api->fail(ctx, "out of memory");
        goto out;
    }
    if (given_answers(t, ctx, inst, v, answers, &dropped) != 0) {
        rc = CH_USAGE;
        goto out;
    }
    if (scoring_run(inst, answers, facts, &o, NULL, err, sizeof(err)) != 0) {
        api->fail(ctx, "%s", err);
        goto out;
    }
    /*
     * The command that continues, as step_args/start_args take it: the case
     * and the answers so far (a step form appends the next one), then the
     * options, the instrument pinned so a new suggestion cannot change it.
     */
    snprintf(case_arg, sizeof(case_arg), "%lld", v[S_CASE].num);
    argv[n++] = "screen";
    argv[n++] = o.stopped || o.next < 0 ? "start" : "step";
    argv[n++] = case_arg;
    for (unsigned i = 0; i < v[S_PAIRS].given; i++)
        if (i != dropped)
            argv[n++] = v[S_PAIRS].list[i];
    argv[n++] = "--instrument";
    argv[n++] = inst->id;
    if (v[S_SUPERSEDES].given) {
        argv[n++] = "--supersedes";
        argv[n++] = v[S_SUPERSEDES].text;
    }
    if (v[S_ANSWERS].given) {
        argv[n++] = "--answers";
        argv[n++] = v[S_ANSWERS].text;
    }
    argv[n] = NULL;
    api->out_str(ctx, "instrument", inst->id);
    api->out_int(ctx, "version", inst->version);
    if (o.stopped || o.next < 0) {
        if (o.stopped)
            api->out_alert(ctx, CH_SEV_DANGER,
                           "Disclosure at item '%s': stop asking. Make sure the person is safe "
                           "now, and arrange a forensic interview through your protocol.",
                           inst->items[o.stop_item].id);
        api->out_message(ctx, "No more questions: check the answers and store the screening.");
        api->out_action(ctx, "store the screening", argv);
        rc = CH_OK;
        goto out;
    }
    {
        const struct instrument_item *it = &inst->items[o.next];
        struct ch_question q = {sizeof(q), it->id, it->prompt, NULL, NULL};
        char title[300];
        if (it->kind == INSTRUMENT_KIND_YES_NO) {
            q.choices = yes_no;
        } else if (it->kind == INSTRUMENT_KIND_CHOICE) {
            choices = calloc(it->n_choices + 3, sizeof(*choices));
            if (choices == NULL) {
                api->fail(ctx, "out of memory");
                goto out;
            }
            for (size_t c = 0; c < it->n_choices; c++)
                choices[c] = it->choices[c];
            choices[it->n_choices] = "unknown";
            choices[it->n_choices + 1] = "declined";
            q.choices = choices;
        } else {
            q.help = "a number, unknown or declined";
        }
        snprintf(title, sizeof(title), "%s (version %d), question %d of %zu", inst->title,
                 inst->version, o.next + 1, inst->n_items);
        api->out_form(ctx, "step", title, &q, 1, argv);
    }
    rc = CH_OK;
out:
    free(choices);
    free(argv);
    free(answers);
    return rc;
}

static int screen_start_cmd(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    return screen_start(ud, ctx, v, 0);
}

static int screen_decline_cmd(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct ch_value sv[S_REASON + 1];
    memset(sv, 0, sizeof(sv));
    sv[S_CASE] = v[D_CASE];
    sv[S_INSTRUMENT] = v[D_INSTRUMENT];
    sv[S_SUPERSEDES] = v[D_SUPERSEDES];
    sv[S_REASON] = v[D_REASON];
    return screen_start(ud, ctx, sv, 1);
}

/* screen start and step take the same arguments; step's answers are those so far. */
#define SCREEN_ARGS(answers_help)                                                                  \
    [S_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case to screen", NULL, NULL, 0, 0},       \
    [S_INSTRUMENT] = {"--instrument",                                                              \
                      CH_ARG_TEXT,                                                                 \
                      0,                                                                           \
                      "instrument id (default: the case's suggested screening)",                   \
                      NULL,                                                                        \
                      "ID",                                                                        \
                      0,                                                                           \
                      0},                                                                          \
    [S_SUPERSEDES] = {"--supersedes", CH_ARG_ID,   0, "the screening this one replaces",           \
                      NULL,           "SCREENING", 0, 0},                                          \
    [S_ANSWERS] =                                                                                  \
        {"--answers", CH_ARG_FILE, 0, "a file of ITEM = ANSWER lines", NULL, NULL, 0, 0},          \
    [S_PAIRS] = {"answer", CH_ARG_TEXT, CH_ARG_REPEAT, answers_help, NULL, "ITEM=ANSWER", 0, 0}

static const struct ch_arg start_args[] = {
    SCREEN_ARGS("yes|y, no|n, unknown|?, declined|d; a number for counts; a choice or its number")};
static const struct ch_arg step_args[] = {SCREEN_ARGS("the answers so far")};

static const struct ch_arg decline_args[] = {
    [D_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [D_INSTRUMENT] = {"--instrument", CH_ARG_TEXT, 0,
                      "instrument id (default: the case's suggested screening)", NULL, "ID", 0, 0},
    [D_SUPERSEDES] = {"--supersedes", CH_ARG_ID, 0, "the screening this one replaces", NULL,
                      "SCREENING", 0, 0},
    [D_REASON] = {"--reason", CH_ARG_TEXT, CH_ARG_REQUIRED, "why the person declined", NULL, NULL,
                  0, 0},
};
static const struct ch_arg screening_arg[] = {
    {"screening", CH_ARG_ID, CH_ARG_REQUIRED, "the screening", NULL, NULL, 0, 0},
};
static const struct ch_arg case_arg[] = {
    {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
};
static const struct ch_arg due_args[] = {
    {"--hours", CH_ARG_INT, 0, "due within this many hours (default 24)", NULL, NULL, 0, 24 * 365},
};

int trf_register_commands(struct trf *t)
{
    const char *screen_help = "start, decline, show and list screenings; see what is due";
    const struct ch_command_spec specs[] = {
        {sizeof(specs[0]), "screen", "start", "screen a case: ask the questions or take answers",
         CH_SPEC_ARGS(start_args), screen_start_cmd, t, 0, screen_help},
        {sizeof(specs[0]), "screen", "decline", "record that the person declined a screening",
         CH_SPEC_ARGS(decline_args), screen_decline_cmd, t, 0, NULL},
        /* The rest only show (step writes nothing): a web page runs them from a link. */
        {sizeof(specs[0]), "screen", "step",
         "the next question given the answers so far (writes nothing)", CH_SPEC_ARGS(step_args),
         screen_step, t, CH_CMD_VIEW, NULL},
        {sizeof(specs[0]), "screen", "show", "a screening, its answers and history",
         CH_SPEC_ARGS(screening_arg), screen_show, t, CH_CMD_VIEW, NULL},
        {sizeof(specs[0]), "screen", "list", "a case's screenings", CH_SPEC_ARGS(case_arg),
         screen_list, t, CH_CMD_VIEW, NULL},
        {sizeof(specs[0]), "screen", "due", "screenings due or overdue across your cases",
         CH_SPEC_ARGS(due_args), screen_due, t, CH_CMD_VIEW | CH_CMD_HOME, NULL},
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (t->api->command_typed(t->self, &specs[i]) != 0)
            return -1;
    return trf_register_instrument_commands(t);
}
