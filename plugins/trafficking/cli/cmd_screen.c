/*
 * cmd_screen.c: the caseworker's verb `screen`. A screening is asked one
 * question at a time on a terminal (skip logic and stop-on-disclosure as it
 * goes), as step forms (`screen step`, a web page's way), or taken from
 * --answers FILE / item=value arguments; it is stored only when finished, so
 * quitting halfway stores nothing. Step forms keep the answers so far as the
 * case's draft, which `screen resume` takes up after a new login.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfgread.h"
#include "cfg/lines.h"
#include "cli/actions.h"
#include "cli/answers.h"
#include "cli/cmd_instrument.h"
#include "cli/show.h"
#include "cli/step_form.h"
#include "db/draft.h"
#include "db/query.h"
#include "db/route.h"
#include "db/screening.h"

/* Arguments of screen start and step (S_REASON: decline's, handed on by screen_decline_cmd). */
enum { S_CASE, S_INSTRUMENT, S_SUPERSEDES, S_ANSWERS, S_PAIRS, S_REASON };
/* Arguments of screen decline. */
enum { D_CASE, D_INSTRUMENT, D_SUPERSEDES, D_REASON };

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
            if (trf_answer_parse(it, in.line, &answers[o.next], err, errlen) == 0)
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
        trf_answers_read_file(inst, answers, v[S_ANSWERS].text, err, sizeof(err)) != 0) {
        t->api->fail(ctx, "%s", err);
        return -1;
    }
    for (unsigned i = 0; i < v[S_PAIRS].given; i++) {
        const char *pair = v[S_PAIRS].list[i];
        char where[160];
        snprintf(where, sizeof(where), "answer '%.120s'", pair);
        if (strchr(pair, '=') == NULL)
            snprintf(err, sizeof(err), "%s: expected ITEM=ANSWER", where);
        else if (trf_answer_set_pair(inst, answers, pair, where, err, sizeof(err)) == 0)
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

/* Open screenings due within $1 hours on open cases, as the caller may see them. */
#define DUE_FROM                                                                                   \
    "  FROM trafficking.screenings s JOIN casehost.plugin_case_v1 c ON c.id = s.case_id"           \
    " WHERE s.state IN ('suggested', 'in_progress') AND c.status <> 'closed'"                      \
    "   AND s.due_at < now() + make_interval(hours => $1::integer)"

/*
 * The soonest due first, --limit of them (default 100): the list a person
 * works through stays one page however many cases the agency keeps (the
 * partial index on open screenings by due time is read in order and left
 * after the last row shown), and says when more are due.
 */
static int screen_due(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] =
        "SELECT s.id AS screening, s.case_id AS case, c.title, s.instrument_id AS instrument,"
        "       s.trigger, to_char(s.due_at, 'YYYY-MM-DD HH24:MI') AS due,"
        "       s.due_at < now() AS overdue,"
        "       (SELECT u.name FROM casehost.plugin_user_v1 u WHERE u.id = c.assignee_id)"
        "       AS assignee" DUE_FROM " ORDER BY s.due_at, s.id LIMIT $2::integer";
    static const char more_sql[] =
        "SELECT EXISTS (SELECT 1" DUE_FROM " ORDER BY s.due_at, s.id OFFSET $2::integer)";
    struct trf *t = ud;
    char hours[24], limit[24];
    const char *params[2] = {hours, limit};
    PGresult *r;
    snprintf(hours, sizeof(hours), "%lld", v[0].given ? v[0].num : 24);
    snprintf(limit, sizeof(limit), "%lld", v[1].given ? v[1].num : 100);
    r = trf_show_result(ud, ctx, "due screenings", sql, 2, params, "due", TRF_SHOW_ROWS);
    if (r == NULL)
        return CH_ERROR;
    if (PQntuples(r) == atoi(limit)) {
        char err[512];
        PGresult *more = trf_query(t->api->conn(ctx), more_sql, 2, params, err, sizeof(err),
                                   "cannot tell whether more screenings are due");
        if (more == NULL) {
            PQclear(r);
            t->api->fail(ctx, "%s", err);
            return CH_ERROR;
        }
        if (strcmp(PQgetvalue(more, 0, 0), "t") == 0)
            t->api->out_message(ctx,
                                "More screenings are due than the %s shown (the soonest first): "
                                "raise --limit or narrow --hours.",
                                limit);
        PQclear(more);
    }
    /* Each one a link away from its first question, with the instrument that is due. */
    for (int i = 0; i < PQntuples(r); i++) {
        const char *case_id = PQgetvalue(r, i, 1), *instrument = PQgetvalue(r, i, 3);
        char label[160];
        snprintf(label, sizeof(label), "screen case %s now (%.100s)", case_id, instrument);
        trf_action(ud, ctx, label, "screen", "resume", case_id, "--instrument", instrument, NULL);
    }
    PQclear(r);
    return CH_OK;
}

/*
 * screen step CASE [ITEM=ANSWER...] [--instrument ID]: the next question of
 * a screening, given the answers so far, as a step form (step_form_out), so a
 * screening can be asked on any surface one question at a time: a web page
 * posts each answer back here. The answers so far are saved as the case's
 * draft (they outlast a login: `screen resume`); nothing is stored as a
 * screening until `screen start`.
 */
static int screen_step(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    const struct instrument *inst;
    struct casefacts cf;
    struct rule_value facts[FACTS__COUNT];
    struct answer *answers;
    const char **pairs;
    size_t n = 0;
    unsigned dropped;
    int rc = screen_prepare(t, ctx, v, &cf, facts, &inst);
    if (rc != CH_OK)
        return rc;
    rc = CH_ERROR;
    answers = calloc(inst->n_items ? inst->n_items : 1, sizeof(*answers));
    pairs = calloc(v[S_PAIRS].given + 1, sizeof(*pairs));
    if (answers == NULL || pairs == NULL) {
        t->api->fail(ctx, "out of memory");
        goto out;
    }
    if (given_answers(t, ctx, inst, v, answers, &dropped) != 0) {
        rc = CH_USAGE;
        goto out;
    }
    for (unsigned i = 0; i < v[S_PAIRS].given; i++)
        if (i != dropped)
            pairs[n++] = v[S_PAIRS].list[i];
    if (step_form_save_draft(t, ctx, v[S_CASE].num, inst, answers) != 0)
        goto out;
    rc = step_form_out(t, ctx, v[S_CASE].num, inst, facts, answers, pairs, n,
                       v[S_SUPERSEDES].given ? v[S_SUPERSEDES].text : NULL,
                       v[S_ANSWERS].given ? v[S_ANSWERS].text : NULL);
out:
    free(pairs);
    free(answers);
    return rc;
}

/* Arguments of screen resume and screen discard. */
enum { R_CASE, R_INSTRUMENT };

/*
 * screen resume CASE [--instrument ID]: where a screening of the case
 * stands, as screen step shows it, from the answers saved last (the draft of
 * --instrument, else the case's latest, else none: the suggested
 * screening's first question). A link runs it: it changes nothing (the
 * draft's read is audited).
 */
static int screen_resume(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    const struct instrument *inst;
    struct casefacts cf;
    struct rule_value facts[FACTS__COUNT];
    struct ch_value sv[S_REASON + 1];
    struct screening_draft d;
    struct answer *answers = NULL;
    char **pairs = NULL, err[1024];
    long long case_id = v[R_CASE].num;
    int rc = CH_ERROR, n = 0, found;

    found = screening_draft_load(t->api->conn(ctx), case_id,
                                 v[R_INSTRUMENT].given ? v[R_INSTRUMENT].text : NULL, &d, err,
                                 sizeof(err));
    if (found < 0) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    memset(sv, 0, sizeof(sv));
    sv[S_CASE] = v[R_CASE];
    sv[S_INSTRUMENT] = v[R_INSTRUMENT];
    if (found && !v[R_INSTRUMENT].given) {
        sv[S_INSTRUMENT].text = d.instrument;
        sv[S_INSTRUMENT].given = 1;
    }
    rc = screen_prepare(t, ctx, sv, &cf, facts, &inst);
    if (rc != CH_OK)
        goto out;
    rc = CH_ERROR;
    answers = calloc(inst->n_items ? inst->n_items : 1, sizeof(*answers));
    pairs = calloc(inst->n_items + 1, sizeof(*pairs));
    if (answers == NULL || pairs == NULL) {
        t->api->fail(ctx, "out of memory");
        goto out;
    }
    if (found) {
        n = step_form_draft_pairs(t, ctx, &d, inst, answers, pairs);
        if (n < 0)
            goto out;
        t->api->out_message(ctx, "%d answer%s saved by %s at %s", d.answered,
                            d.answered == 1 ? "" : "s", d.saved_by[0] ? d.saved_by : "(unknown)",
                            d.saved_at);
        if (d.version != inst->version)
            t->api->out_alert(ctx, CH_SEV_WARNING,
                              "the answers were saved with version %d of '%s'; version %d asks "
                              "now: check them before storing",
                              d.version, inst->id, inst->version);
    }
    rc = step_form_out(t, ctx, case_id, inst, facts, answers, (const char *const *)pairs, (size_t)n,
                       NULL, NULL);
    if (rc == CH_OK && found) {
        char case_arg[24];
        snprintf(case_arg, sizeof(case_arg), "%lld", case_id);
        trf_action(t, ctx, "start again (discard the saved answers)", "screen", "discard", case_arg,
                   "--instrument", inst->id, NULL);
    }
out:
    for (int i = 0; pairs != NULL && i < n; i++)
        free(pairs[i]);
    free(pairs);
    free(answers);
    screening_draft_release(&d);
    return rc;
}

/* screen discard CASE [--instrument ID]: throws the saved answers away, to start again. */
static int screen_discard(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    const char *instrument = v[R_INSTRUMENT].given ? v[R_INSTRUMENT].text : NULL;
    char err[1024], case_arg[24];
    int n = screening_draft_discard(t->api->conn(ctx), v[R_CASE].num, instrument, err, sizeof(err));
    if (n < 0) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    snprintf(case_arg, sizeof(case_arg), "%lld", v[R_CASE].num);
    t->api->out_int(ctx, "case", v[R_CASE].num);
    t->api->out_int(ctx, "discarded", n);
    if (n > 0)
        t->api->out_message(ctx, "the saved answers of case %s%s%s were thrown away", case_arg,
                            instrument ? " for " : "", instrument ? instrument : "");
    else
        t->api->out_message(ctx, "case %s had no saved answers%s%s", case_arg,
                            instrument ? " for " : "", instrument ? instrument : "");
    if (instrument != NULL)
        trf_action(t, ctx, "screen now", "screen", "resume", case_arg, "--instrument", instrument,
                   NULL);
    else
        trf_action(t, ctx, "screen now", "screen", "resume", case_arg, NULL);
    trf_action(t, ctx, "show the case", "case", "show", case_arg, NULL);
    return CH_OK;
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
static const struct ch_arg resume_args[] = {
    [R_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [R_INSTRUMENT] = {"--instrument", CH_ARG_TEXT, 0,
                      "instrument id (default: the case's latest saved answers, else its "
                      "suggested screening)",
                      NULL, "ID", 0, 0},
};
static const struct ch_arg discard_args[] = {
    [R_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [R_INSTRUMENT] = {"--instrument", CH_ARG_TEXT, 0,
                      "only the answers saved for this instrument (default: all of the case's)",
                      NULL, "ID", 0, 0},
};
static const struct ch_arg due_args[] = {
    {"--hours", CH_ARG_INT, 0, "due within this many hours (default 24)", NULL, NULL, 0, 24 * 365},
    {"--limit", CH_ARG_INT, 0, "show this many, the soonest due first (default 100)", NULL, NULL, 1,
     10000},
};

int trf_register_commands(struct trf *t)
{
    const char *screen_help = "start, resume, decline, show and list screenings; see what is due";
    const struct ch_command_spec specs[] = {
        {sizeof(specs[0]), "screen", "start", "screen a case: ask the questions or take answers",
         CH_SPEC_ARGS(start_args), screen_start_cmd, t, 0, screen_help},
        {sizeof(specs[0]), "screen", "decline", "record that the person declined a screening",
         CH_SPEC_ARGS(decline_args), screen_decline_cmd, t, 0, NULL},
        /* Step saves the answers so far (a draft): a page posts it, never runs it from a link. */
        {sizeof(specs[0]), "screen", "step",
         "the next question given the answers so far, which are saved to resume later",
         CH_SPEC_ARGS(step_args), screen_step, t, 0, NULL},
        {sizeof(specs[0]), "screen", "discard",
         "throw away the answers saved so far, to start a screening again",
         CH_SPEC_ARGS(discard_args), screen_discard, t, 0, NULL},
        /* The rest only show: a web page runs them from a link. */
        {sizeof(specs[0]), "screen", "resume",
         "the next question of a screening, from the answers saved last", CH_SPEC_ARGS(resume_args),
         screen_resume, t, CH_CMD_VIEW, NULL},
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
