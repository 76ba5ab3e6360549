/*
 * actions.c: the next steps commands offer a person (see actions.h). Every
 * argv names a command of this plugin (or the host's `case show`) as its
 * typed table takes it; what an offer allows is decided again by the
 * database when the person acts. Never reads or writes the database.
 */
#include "cli/actions.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/enums.h"

#define MAX_ARGV 8 /* the longest argv offered here, with its NULL */

void trf_action(struct trf *t, struct ch_ctx *ctx, const char *label, ...)
{
    const char *argv[MAX_ARGV + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, label);
    while (n < MAX_ARGV && (argv[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    t->api->out_action(ctx, label, argv);
}

/* The value of column in row of r; NULL when SQL NULL or the column is missing. */
static const char *cell(const PGresult *r, int row, const char *column)
{
    int c = PQfnumber(r, column);
    if (c < 0 || row >= PQntuples(r) || PQgetisnull(r, row, c))
        return NULL;
    return PQgetvalue(r, row, c);
}

void trf_actions_screening(struct trf *t, struct ch_ctx *ctx, const char *case_id, int due,
                           const PGresult *drafts)
{
    int n = drafts != NULL ? PQntuples(drafts) : 0;
    char label[200];
    for (int i = 0; i < n; i++) {
        const char *instrument = cell(drafts, i, "instrument");
        const char *answered = cell(drafts, i, "answered");
        int one = answered != NULL && strcmp(answered, "1") == 0;
        if (instrument == NULL)
            continue;
        /* One draft is the one `screen resume CASE` takes up; of more, each names its own. */
        if (n == 1) {
            snprintf(label, sizeof(label), "resume the screening (%s answer%s saved)",
                     answered ? answered : "0", one ? "" : "s");
            trf_action(t, ctx, label, "screen", "resume", case_id, NULL);
        } else {
            snprintf(label, sizeof(label), "resume the %.100s screening (%s answer%s saved)",
                     instrument, answered ? answered : "0", one ? "" : "s");
            trf_action(t, ctx, label, "screen", "resume", case_id, "--instrument", instrument,
                       NULL);
        }
    }
    if (n == 0 && due)
        trf_action(t, ctx, "screen now", "screen", "resume", case_id, NULL);
    if (due)
        trf_action(t, ctx, "record that the person declined", "screen", "decline", case_id, NULL);
}

void trf_actions_per_row(struct trf *t, struct ch_ctx *ctx, const PGresult *r, const char *column,
                         const char *label_head, const char *verb, const char *sub)
{
    for (int i = 0; i < PQntuples(r); i++) {
        const char *v = cell(r, i, column);
        char label[160];
        if (v == NULL)
            continue;
        snprintf(label, sizeof(label), "%s%s", label_head, v);
        trf_action(t, ctx, label, verb, sub, v, NULL);
    }
}

#define BIT(state) (1u << (state))

/* The moves a person makes, from which states (trafficking.referral_moves, 013_delivery.sql). */
static const struct {
    const char *sub;   /* referral SUB REFERRAL */
    const char *label; /* then " referral N" */
    unsigned from;     /* BIT(enum trf_referral_state) of each state it is allowed from */
} moves[] = {
    {"ack", "acknowledge", BIT(TRF_REFERRAL_SENT)},
    {"accept", "accept", BIT(TRF_REFERRAL_ACKNOWLEDGED)},
    {"reject", "reject", BIT(TRF_REFERRAL_ACKNOWLEDGED)},
    {"close", "close", BIT(TRF_REFERRAL_ACCEPTED) | BIT(TRF_REFERRAL_REJECTED)},
    /* retry: a failed delivery, or a queued one whose outbox row is held or failed (below) */
    {"retry", "retry the delivery of", BIT(TRF_REFERRAL_DELIVERY_FAILED)},
    {"revoke", "revoke",
     BIT(TRF_REFERRAL_PENDING_CONSENT) | BIT(TRF_REFERRAL_QUEUED) |
         BIT(TRF_REFERRAL_DELIVERY_FAILED) | BIT(TRF_REFERRAL_SENT) |
         BIT(TRF_REFERRAL_ACKNOWLEDGED) | BIT(TRF_REFERRAL_ACCEPTED)},
};

/* States in which the report reached its recipient: it may be made again. */
static const unsigned delivered = BIT(TRF_REFERRAL_SENT) | BIT(TRF_REFERRAL_ACKNOWLEDGED) |
                                  BIT(TRF_REFERRAL_ACCEPTED) | BIT(TRF_REFERRAL_REJECTED) |
                                  BIT(TRF_REFERRAL_CLOSED);

static int is(const char *s, const char *word)
{
    return s != NULL && strcmp(s, word) == 0;
}

void trf_actions_referral(struct trf *t, struct ch_ctx *ctx, const PGresult *r)
{
    const char *id = cell(r, 0, "id"), *case_id = cell(r, 0, "case");
    const char *state = cell(r, 0, "state"), *outbox = cell(r, 0, "outbox");
    const char *dest = cell(r, 0, "destination"), *basis = cell(r, 0, "basis");
    const struct ch_user *me = t->api->user(ctx);
    /* Supervisors and admins withdraw a mandatory report made in error, and repeat reports. */
    int senior = me != NULL && (is(me->role, "supervisor") || is(me->role, "admin"));
    int s = state != NULL ? trf_enum_index(trf_referral_states, state, strlen(state)) : -1;
    char label[160];
    if (id == NULL || s < 0)
        return;
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
        int allowed = (moves[i].from & BIT(s)) != 0;
        if (is(moves[i].sub, "retry"))
            allowed |= s == TRF_REFERRAL_QUEUED && (is(outbox, "held") || is(outbox, "failed"));
        if (is(moves[i].sub, "revoke"))
            allowed &= is(basis, "consent") || senior;
        if (!allowed)
            continue;
        snprintf(label, sizeof(label), "%s referral %s", moves[i].label, id);
        trf_action(t, ctx, label, "referral", moves[i].sub, id, NULL);
    }
    if (senior && (delivered & BIT(s)) && case_id != NULL && dest != NULL) {
        snprintf(label, sizeof(label), "report again to %s", dest);
        trf_action(t, ctx, label, "referral", "report-again", case_id, "--destination", dest, NULL);
    }
    if (case_id != NULL)
        trf_action(t, ctx, "show the case", "case", "show", case_id, NULL);
}

void trf_actions_consents(struct trf *t, struct ch_ctx *ctx, const char *person,
                          const PGresult *consents, const PGresult *declines)
{
    char label[300];
    for (int i = 0; i < PQntuples(consents); i++) {
        const char *id = cell(consents, i, "id");
        if (id == NULL || !is(cell(consents, i, "active"), "t"))
            continue;
        snprintf(label, sizeof(label), "revoke consent %s", id);
        trf_action(t, ctx, label, "consent", "revoke", id, NULL);
    }
    for (int i = 0; declines != NULL && i < PQntuples(declines); i++) {
        const char *recipient = cell(declines, i, "recipient");
        if (recipient == NULL || !is(cell(declines, i, "active"), "t"))
            continue;
        snprintf(label, sizeof(label), "end the decline of %.200s", recipient);
        trf_action(t, ctx, label, "consent", "undecline", person, "--recipients", recipient, NULL);
    }
    trf_action(t, ctx, "record a consent", "consent", "add", person, NULL);
    trf_action(t, ctx, "record a decline", "consent", "decline", person, NULL);
}
