/*
 * cmd_referral.c: the caseworker's verbs for what leaves the agency:
 * `consent` (an object with purpose, recipients, time limit, revocation, and
 * a person's lasting refusal of recipients), `safety` (how a person may be
 * reached safely) and `referral` (the lifecycle after routing, and the
 * ledger of what was reported). Every move goes through SQL functions that
 * refuse invalid transitions and decide who may make them; nothing here
 * sends anything (the dispatcher does). The host parses the arguments from
 * the typed tables below.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli/actions.h"
#include "cli/enums.h"
#include "cli/show.h"
#include "db/ledger.h"
#include "db/query.h"
#include "db/route.h"
#include "trf.h"

/* ------------------------------------------------------------- consent --- */

enum { CA_PERSON, CA_PURPOSE, CA_RECIPIENTS, CA_REGIME, CA_EXPIRES, CA_VERBAL, CA_NOTE };
static const struct ch_arg consent_add_args[] = {
    [CA_PERSON] = {"person", CH_ARG_ID, CH_ARG_REQUIRED, "the person who consents", NULL, NULL, 0,
                   0},
    [CA_PURPOSE] = {"--purpose", CH_ARG_TEXT, CH_ARG_REQUIRED,
                    "what the information may be used for (a lower-case word: referral)", NULL,
                    "PURPOSE", 0, 0},
    [CA_RECIPIENTS] = {"--recipients", CH_ARG_TEXT, CH_ARG_REQUIRED,
                       "destination ids or kinds (kind:legal_aid), comma-separated", NULL,
                       "ID|kind:KIND[,...]", 0, 0},
    [CA_REGIME] = {"--regime", CH_ARG_ENUM, CH_ARG_REQUIRED, "the law the consent is given under",
                   trf_consent_regimes, NULL, 0, 0},
    [CA_EXPIRES] = {"--expires", CH_ARG_DATE, CH_ARG_REQUIRED,
                    "the last day it holds (consent is time-limited)", NULL, "YYYY-MM-DD", 0, 0},
    [CA_VERBAL] = {"--verbal", CH_ARG_BOOL, 0, "given by word of mouth, not in writing", NULL, NULL,
                   0, 0},
    [CA_NOTE] = {"--note", CH_ARG_TEXT, 0, "a note kept with the consent", NULL, NULL, 0, 0},
};

static int consent_add(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] =
        "SELECT * FROM trafficking.consent_add_v1($1, $2, $3, $4, $5::boolean, $6::date, $7)";
    struct trf *t = ud;
    const char *person = v[CA_PERSON].text;
    const char *params[7] = {person,
                             v[CA_PURPOSE].text,
                             v[CA_RECIPIENTS].text,
                             v[CA_REGIME].text,
                             v[CA_VERBAL].num ? "false" : "true",
                             v[CA_EXPIRES].text,
                             v[CA_NOTE].text};
    PGresult *r;
    int rc;
    r = PQexecParams(t->api->conn(ctx), sql, 7, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        t->api->fail(ctx, "person %s: %s", person,
                     PQresultStatus(r) == PGRES_TUPLES_OK ? "not found" : (m ? m : "failed"));
        PQclear(r);
        return CH_ERROR;
    }
    t->api->out_result(ctx, "consent", r, 0);
    PQclear(r);
    rc = trf_consent_changed(t, ctx, v[CA_PERSON].num);
    if (rc == CH_OK && !t->api->json(ctx))
        t->api->out_message(ctx, "consent recorded; services never depend on it");
    return rc;
}

enum { CR_CONSENT, CR_REASON };
static const struct ch_arg consent_revoke_args[] = {
    [CR_CONSENT] = {"consent", CH_ARG_ID, CH_ARG_REQUIRED, "the consent to revoke", NULL, NULL, 0,
                    0},
    [CR_REASON] = {"--reason", CH_ARG_TEXT, CH_ARG_REQUIRED, "why (kept with the consent)", NULL,
                   NULL, 0, 0},
};

/*
 * Revoking a consent revokes the referrals that rest on it and have not left
 * yet, and holds their outbox rows, in the same transaction.
 */
static int consent_revoke(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.consent_revoke_v1($1, $2)";
    struct trf *t = ud;
    const char *id = v[CR_CONSENT].text, *params[2] = {id, v[CR_REASON].text};
    PGresult *r;
    int rc = CH_ERROR;
    r = PQexecParams(t->api->conn(ctx), sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        t->api->fail(ctx, "%s", TRF_QUERY_ERROR(t->api->conn(ctx), r, "consent %s", id));
    else if (PQntuples(r) == 0)
        t->api->fail(ctx, "consent %s not found, or already revoked", id);
    else {
        t->api->out_result(ctx, "revoked", r, 0);
        rc = CH_OK;
    }
    PQclear(r);
    return rc;
}

/* The one argument of `consent list` and `safety show`. */
enum { P_PERSON };
static const struct ch_arg person_args[] = {
    [P_PERSON] = {"person", CH_ARG_ID, CH_ARG_REQUIRED, "the person", NULL, NULL, 0, 0},
};

/*
 * A person's consents and declines (each read audited by its function), and
 * what can be done next: revoke an active consent, end a decline, record one.
 */
static int consent_list(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.consents_of_v1($1)";
    static const char declines_sql[] = "SELECT * FROM trafficking.declines_of_v1($1)";
    const char *params[1] = {v[P_PERSON].text};
    PGresult *consents, *declines = NULL;
    consents = trf_show_result(ud, ctx, "consents", sql, 1, params, "consents", TRF_SHOW_ROWS);
    if (consents != NULL)
        declines = trf_show_result(ud, ctx, "declines", declines_sql, 1, params, "declines",
                                   TRF_SHOW_ROWS);
    if (declines != NULL)
        trf_actions_consents(ud, ctx, v[P_PERSON].text, consents, declines);
    PQclear(consents);
    PQclear(declines);
    return declines != NULL ? CH_OK : CH_ERROR;
}

/* ------------------------------------------------------------ declines --- */

/* The arguments of `consent decline` and `consent undecline`. */
enum { CD_PERSON, CD_RECIPIENTS, CD_NOTE };
static const struct ch_arg consent_decline_args[] = {
    [CD_PERSON] = {"person", CH_ARG_ID, CH_ARG_REQUIRED, "the person", NULL, NULL, 0, 0},
    [CD_RECIPIENTS] = {"--recipients", CH_ARG_TEXT, CH_ARG_REQUIRED,
                       "destination ids or kinds (kind:law_enforcement), comma-separated", NULL,
                       "ID|kind:KIND[,...]", 0, 0},
    [CD_NOTE] = {"--note", CH_ARG_TEXT, 0, "in the person's words, kept with the record", NULL,
                 NULL, 0, 0},
};

/* Runs sql (a decline function: person, recipients, note) and shows its rows under key. */
static int decline_run(struct trf *t, struct ch_ctx *ctx, const struct ch_value *v, const char *sql,
                       const char *key)
{
    const char *params[3] = {v[CD_PERSON].text, v[CD_RECIPIENTS].text, v[CD_NOTE].text};
    char what[64];
    snprintf(what, sizeof(what), "person %s", v[CD_PERSON].text);
    return trf_show(t, ctx, what, sql, 3, params, key, TRF_SHOW_ROWS);
}

/*
 * A refusal lasts: no consent-based referral is made to these recipients
 * until the person changes their mind, and those not yet sent are revoked.
 * Reports the law requires are still made (the database says so in each
 * decision).
 */
static int consent_decline(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.consent_decline_v1($1, $2, $3)";
    struct trf *t = ud;
    if (decline_run(t, ctx, v, sql, "declines") != CH_OK)
        return CH_ERROR;
    t->api->out_message(ctx, "declined: no consent-based referral goes to these recipients until "
                             "the person changes their mind; a report the law requires is still "
                             "made");
    return CH_OK;
}

/* The person changed their mind: the case is routed again, as after a new consent. */
static int consent_undecline(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.consent_undecline_v1($1, $2, $3)";
    struct trf *t = ud;
    if (decline_run(t, ctx, v, sql, "ended") != CH_OK)
        return CH_ERROR;
    return trf_consent_changed(t, ctx, v[CD_PERSON].num);
}

/* -------------------------------------------------------------- safety --- */

/* The usage of --safe-channels ("phone,sms,..."), joined from trf_safe_channels at registration. */
static char safe_channels_metavar[128];

enum { SS_PERSON, SS_CHANNELS, SS_PHONE, SS_EMAIL, SS_TIMES, SS_CODE_WORD, SS_DNC, SS_TCP };
static const struct ch_arg safety_set_args[] = {
    [SS_PERSON] = {"person", CH_ARG_ID, CH_ARG_REQUIRED, "the person", NULL, NULL, 0, 0},
    [SS_CHANNELS] = {"--safe-channels", CH_ARG_TEXT, 0,
                     "the channels safe to use, comma-separated ('' for none)", NULL,
                     safe_channels_metavar, 0, 0},
    [SS_PHONE] = {"--phone", CH_ARG_TEXT, 0, "a phone number safe to call", NULL, "NUMBER", 0, 0},
    [SS_EMAIL] = {"--email", CH_ARG_TEXT, 0, "an email address safe to write to", NULL, "ADDRESS",
                  0, 0},
    [SS_TIMES] = {"--safe-times", CH_ARG_TEXT, 0, "when contact is safe", NULL, NULL, 0, 0},
    [SS_CODE_WORD] = {"--code-word", CH_ARG_TEXT, 0, "the word that confirms it is safe to talk",
                      NULL, "WORD", 0, 0},
    [SS_DNC] = {"--do-not-contact", CH_ARG_BOOL, 0, "nobody may contact the person", NULL, NULL, 0,
                0},
    [SS_TCP] = {"--trafficker-controls-phone", CH_ARG_BOOL, 0,
                "the phone is not safe: the trafficker controls it", NULL, NULL, 0, 0},
};

/*
 * Every comma-separated word of --safe-channels (blanks ignored, as the
 * database ignores them) is a known channel: a misspelt one would be stored
 * and silently never match. All blank means "none". 0, or -1 after fail().
 */
static int check_safe_channels(struct trf *t, struct ch_ctx *ctx, const char *list)
{
    const char *p = list;
    char known[128];
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0')
        return 0;
    for (p = list;;) {
        const char *end = strchr(p, ','), *b;
        if (end == NULL)
            end = p + strlen(p);
        while (p < end && isspace((unsigned char)*p))
            p++;
        for (b = end; b > p && isspace((unsigned char)b[-1]); b--)
            ;
        if (trf_enum_index(trf_safe_channels, p, (size_t)(b - p)) < 0) {
            t->api->fail(ctx, "--safe-channels: '%.*s' is not one of %s", (int)(b - p), p,
                         trf_enum_join(trf_safe_channels, ", ", known, sizeof(known)));
            return -1;
        }
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

static int safety_set(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.safe_contact_set_v1($1, $2, $3, $4, $5,"
                              " $6, $7::boolean, $8::boolean)";
    struct trf *t = ud;
    const char *person = v[SS_PERSON].text, *params[8];
    PGresult *r;
    int rc = CH_ERROR;
    if (v[SS_CHANNELS].given && check_safe_channels(t, ctx, v[SS_CHANNELS].text) != 0)
        return CH_USAGE;
    /* The table is in the function's parameter order; what is not given stays as stored. */
    params[0] = person;
    for (int i = SS_CHANNELS; i <= SS_TCP; i++)
        params[i] = !v[i].given                  ? NULL
                    : i != SS_DNC && i != SS_TCP ? v[i].text
                    : v[i].num                   ? "true"
                                                 : "false";
    r = PQexecParams(t->api->conn(ctx), sql, 8, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        t->api->fail(ctx, "%s", TRF_QUERY_ERROR(t->api->conn(ctx), r, "person %s", person));
    else if (PQntuples(r) == 0)
        t->api->fail(ctx, "person %s not found", person);
    else {
        t->api->out_result(ctx, "safe_contact", r, 0);
        rc = CH_OK;
    }
    PQclear(r);
    return rc;
}

static int safety_show(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.safe_contact_of_v1($1)";
    const char *params[1] = {v[P_PERSON].text};
    if (trf_show(ud, ctx, "safe contact", sql, 1, params, "safe_contact", 0) != CH_OK)
        return CH_ERROR;
    trf_action(ud, ctx, "change safe contact", "safety", "set", v[P_PERSON].text, NULL);
    return CH_OK;
}

/*
 * The person's page (`person show`): how they may be contacted safely, with
 * its warnings first, and their consents and declines with what can be done
 * next. The phone number, address and code word stay on `safety show`: the
 * page shows what everyone who opens it must know, not more. Each read is
 * audited by its function.
 */
int trf_render_person(struct ch_ctx *ctx, int64_t person_id, void *ud)
{
    static const char safety_sql[] =
        "SELECT safe_channels, safe_times, do_not_contact, trafficker_controls_phone, updated"
        "  FROM trafficking.safe_contact_of_v1($1)";
    static const char consents_sql[] = "SELECT * FROM trafficking.consents_of_v1($1)";
    static const char declines_sql[] = "SELECT * FROM trafficking.declines_of_v1($1)";
    struct trf *t = ud;
    char id[24];
    const char *params[1] = {id};
    PGresult *safety, *consents = NULL, *declines = NULL;
    int rc = CH_ERROR;

    snprintf(id, sizeof(id), "%lld", (long long)person_id);
    safety = trf_show_result(t, ctx, "safe contact", safety_sql, 1, params, "contact_safety", 0);
    if (safety == NULL)
        return CH_ERROR;
    if (PQntuples(safety) == 1 && strcmp(PQgetvalue(safety, 0, 2), "t") == 0)
        t->api->out_alert(ctx, CH_SEV_WARNING,
                          "Do not contact this person: no call, text, mail or visit, by anyone.");
    if (PQntuples(safety) == 1 && strcmp(PQgetvalue(safety, 0, 3), "t") == 0)
        t->api->out_alert(ctx, CH_SEV_WARNING,
                          "The person who exploits them may control their phone: never call or "
                          "text it; use only the safe channels recorded.");
    consents =
        trf_show_result(t, ctx, "consents", consents_sql, 1, params, "consents", TRF_SHOW_ROWS);
    if (consents != NULL)
        declines =
            trf_show_result(t, ctx, "declines", declines_sql, 1, params, "declines", TRF_SHOW_ROWS);
    if (declines != NULL) {
        trf_action(t, ctx, "how to contact them safely", "safety", "show", id, NULL);
        trf_actions_consents(t, ctx, id, consents, declines);
        rc = CH_OK;
    }
    PQclear(safety);
    PQclear(consents);
    PQclear(declines);
    return rc;
}

/* ------------------------------------------------------------ referral --- */

enum { RL_CASE, RL_STATE };
static const struct ch_arg referral_list_args[] = {
    [RL_CASE] = {"--case", CH_ARG_ID, 0, "only the referrals of this case", NULL, "CASE", 0, 0},
    [RL_STATE] = {"--state", CH_ARG_ENUM, 0, "only the referrals in this state",
                  trf_referral_states, NULL, 0, 0},
};

static int referral_list(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char list_sql[] =
        "SELECT r.id, r.case_id AS case, r.destination_id AS destination, r.destination_kind"
        "       AS kind, r.basis, r.urgency, r.state,"
        "       to_char(r.due_at, 'YYYY-MM-DD HH24:MI') AS due, r.rule"
        "  FROM trafficking.referrals r"
        " WHERE ($1::bigint IS NULL OR r.case_id = $1::bigint) AND ($2::text IS NULL OR"
        "       r.state = $2) ORDER BY r.id";
    const char *params[2] = {v[RL_CASE].text, v[RL_STATE].text};
    return trf_show(ud, ctx, "referrals", list_sql, 2, params, "referrals", TRF_SHOW_ROWS);
}

/* The one argument of `referral show`, and the first of every move. */
enum { M_REFERRAL, M_DETAIL };
#define REFERRAL_ARG                                                                               \
    [M_REFERRAL] = {"referral", CH_ARG_ID, CH_ARG_REQUIRED, "the referral", NULL, NULL, 0, 0}

static const struct ch_arg referral_args[] = {REFERRAL_ARG};

static int referral_show(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char show_sql[] =
        "SELECT r.id, r.case_id AS case, r.destination_id AS destination, r.destination_kind"
        "       AS kind, r.rule, r.basis, r.consent_id AS consent, r.urgency, r.state,"
        "       to_char(r.due_at, 'YYYY-MM-DD HH24:MI') AS due, r.ack_sla_hours,"
        "       array_to_string(r.fields, ', ') AS fields_shared, r.reference, r.reason,"
        "       r.outcome, r.escalation_of, to_char(r.escalated_at, 'YYYY-MM-DD HH24:MI')"
        "       AS escalated, o.state AS outbox, o.attempts, o.last_error, r.idempotency_key,"
        "       to_char(o.sent_at, 'YYYY-MM-DD HH24:MI:SS') AS sent_at, o.payload_sha256"
        "       AS sent_sha256,"
        "       CASE WHEN o.payload_purged_at IS NOT NULL"
        "            THEN 'purged after ' || o.payload_retention_days || ' days ('"
        "                 || to_char(o.payload_purged_at, 'YYYY-MM-DD') || ')'"
        "            WHEN o.state = 'sent' THEN 'kept until its retention ends' END AS sent_bytes"
        "  FROM trafficking.referrals r LEFT JOIN trafficking.outbox o ON o.referral_id = r.id"
        " WHERE r.id = $1";
    static const char history_sql[] =
        "SELECT to_char(h.at, 'YYYY-MM-DD HH24:MI:SS') AS at, u.name AS by, h.from_state,"
        "       h.to_state, h.detail FROM trafficking.referral_history h"
        "  LEFT JOIN casehost.plugin_user_v1 u ON u.id = h.actor_id WHERE h.referral_id = $1 ORDER "
        "BY h.id";
    struct trf *t = ud;
    const char *id = v[M_REFERRAL].text, *params[1] = {id};
    char what[64];
    PGresult *r;
    int found;
    snprintf(what, sizeof(what), "referral %s", id);
    r = PQexecParams(t->api->conn(ctx), show_sql, 1, NULL, params, NULL, NULL, 0);
    found = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (found) {
        t->api->out_result(ctx, "referral", r, 0);
        trf_actions_referral(t, ctx, r);
    }
    PQclear(r);
    if (!found) {
        t->api->fail(ctx, "referral %s not found", id);
        return CH_ERROR;
    }
    if (trf_show(t, ctx, what, history_sql, 1, params, "history", TRF_SHOW_ROWS) != CH_OK)
        return CH_ERROR;
    return t->api->audit(ctx, "read", "referral", v[M_REFERRAL].num, NULL) == 0 ? CH_OK : CH_ERROR;
}

/*
 * Moves the referral to the state to; detail is the reason, outcome or (for
 * an acknowledgement) the reference, which is also recorded as such.
 */
static int referral_move(struct trf *t, struct ch_ctx *ctx, const struct ch_value *v,
                         enum trf_referral_state to, const char *detail, const char *reference)
{
    static const char sql[] = "SELECT * FROM trafficking.referral_move_v1($1, $2, $3, $4)";
    const char *params[4] = {v[M_REFERRAL].text, trf_referral_states[to], detail, reference};
    char what[64];
    snprintf(what, sizeof(what), "referral %s", v[M_REFERRAL].text);
    return trf_show(t, ctx, what, sql, 4, params, NULL, 0);
}

static const struct ch_arg referral_ack_args[] = {
    REFERRAL_ARG,
    [M_DETAIL] = {"--reference", CH_ARG_TEXT, 0, "the recipient's reference number", NULL, "REF", 0,
                  0},
};
static const struct ch_arg referral_reject_args[] = {
    REFERRAL_ARG,
    [M_DETAIL] = {"--reason", CH_ARG_TEXT, CH_ARG_REQUIRED, "why the recipient rejected it", NULL,
                  NULL, 0, 0},
};
static const struct ch_arg referral_close_args[] = {
    REFERRAL_ARG,
    [M_DETAIL] = {"--outcome", CH_ARG_TEXT, CH_ARG_REQUIRED, "what came of it", NULL, NULL, 0, 0},
};
static const struct ch_arg referral_revoke_args[] = {
    REFERRAL_ARG,
    [M_DETAIL] = {"--reason", CH_ARG_TEXT, CH_ARG_REQUIRED, "why it is withdrawn", NULL, NULL, 0,
                  0},
};

/* One handler per move: the host hands each only its own arguments. */
static int referral_ack(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    return referral_move(ud, ctx, v, TRF_REFERRAL_ACKNOWLEDGED, v[M_DETAIL].text, v[M_DETAIL].text);
}
static int referral_accept(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    return referral_move(ud, ctx, v, TRF_REFERRAL_ACCEPTED, NULL, NULL);
}
static int referral_reject(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    return referral_move(ud, ctx, v, TRF_REFERRAL_REJECTED, v[M_DETAIL].text, NULL);
}
static int referral_close(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    return referral_move(ud, ctx, v, TRF_REFERRAL_CLOSED, v[M_DETAIL].text, NULL);
}
static int referral_revoke(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    return referral_move(ud, ctx, v, TRF_REFERRAL_REVOKED, v[M_DETAIL].text, NULL);
}

static int referral_overdue(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char overdue_sql[] =
        "SELECT r.id, r.case_id AS case, r.destination_id AS destination, r.state,"
        "       CASE WHEN r.state IN ('pending_consent', 'queued') THEN 'not sent by due time'"
        "            ELSE 'not acknowledged within ' || r.ack_sla_hours || ' h' END AS problem,"
        "       to_char(CASE WHEN r.state IN ('pending_consent', 'queued') THEN r.due_at"
        "                    ELSE r.sent_at + make_interval(hours => r.ack_sla_hours) END,"
        "               'YYYY-MM-DD HH24:MI') AS since,"
        "       to_char(r.escalated_at, 'YYYY-MM-DD HH24:MI') AS escalated"
        "  FROM trafficking.referrals r"
        " WHERE (r.state IN ('pending_consent', 'queued', 'delivery_failed') AND r.due_at < now())"
        "    OR (r.state = 'sent' AND r.sent_at + make_interval(hours => r.ack_sla_hours) < now())"
        " ORDER BY 6, r.id";
    (void)v;
    return trf_show(ud, ctx, "overdue referrals", overdue_sql, 0, NULL, "overdue", TRF_SHOW_ROWS);
}

/*
 * What needs a person now, most urgent first: deliveries that failed for
 * good, referrals held before they left (safe contact, say), then the
 * overdue ones. A failure shows here the moment it happens, not at its due
 * time.
 */
static int referral_attention(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    /*
     * The candidates branch by branch, each read from an index of its own
     * (025_attention.sql), so the list costs what needs attention, not the
     * agency's every referral; then each candidate by its key (OFFSET 0
     * keeps the lookups where they are: under row-level security the
     * planner cannot tell how few there are) and the condition itself, as
     * it always read.
     */
    static const char attention_sql[] =
        "WITH ids AS ("
        " SELECT x.id FROM trafficking.referrals x WHERE x.state = 'delivery_failed'"
        " UNION SELECT y.referral_id FROM trafficking.outbox y WHERE y.state = 'held'"
        " UNION SELECT x.id FROM trafficking.referrals x"
        "  WHERE x.state IN ('pending_consent', 'queued') AND x.due_at < now()"
        " UNION SELECT x.id FROM trafficking.referrals x"
        "  WHERE x.state = 'sent' AND x.ack_due_at < now())"
        " SELECT r.id, r.case_id AS case, r.destination_id AS destination, r.basis, r.state,"
        "       CASE WHEN r.state = 'delivery_failed'"
        "                 THEN 'delivery failed: ' || coalesce(r.reason, o.last_error, '')"
        "            WHEN o.state = 'held' THEN 'held: ' || coalesce(o.last_error, '')"
        "            WHEN r.state IN ('pending_consent', 'queued') THEN 'not sent by due time'"
        "            ELSE 'not acknowledged within ' || r.ack_sla_hours || ' h' END AS problem,"
        "       to_char(CASE WHEN r.state = 'delivery_failed' OR o.state = 'held'"
        "                    THEN (SELECT max(h.at) FROM trafficking.referral_history h"
        "                           WHERE h.referral_id = r.id)"
        "                    WHEN r.state IN ('pending_consent', 'queued') THEN r.due_at"
        "                    ELSE r.sent_at + make_interval(hours => r.ack_sla_hours) END,"
        "               'YYYY-MM-DD HH24:MI') AS since,"
        "       to_char(r.escalated_at, 'YYYY-MM-DD HH24:MI') AS escalated,"
        "       CASE WHEN r.state = 'delivery_failed' OR o.state = 'held'"
        "            THEN 'casehost referral retry ' || r.id END AS action"
        "  FROM ids CROSS JOIN LATERAL"
        "       (SELECT x.id, x.case_id, x.destination_id, x.basis, x.state, x.reason, x.due_at,"
        "               x.sent_at, x.ack_sla_hours, x.escalated_at FROM trafficking.referrals x"
        "         WHERE x.id = ids.id OFFSET 0) r"
        "  LEFT JOIN LATERAL (SELECT y.state, y.last_error FROM trafficking.outbox y"
        "                      WHERE y.referral_id = r.id OFFSET 0) o ON true"
        " WHERE r.state = 'delivery_failed' OR (r.state = 'queued' AND o.state = 'held')"
        "    OR (r.state IN ('pending_consent', 'queued') AND r.due_at < now())"
        "    OR (r.state = 'sent' AND r.sent_at + make_interval(hours => r.ack_sla_hours) < now())"
        " ORDER BY CASE WHEN r.state = 'delivery_failed' THEN 0 WHEN o.state = 'held' THEN 1"
        "          ELSE 2 END, 7, r.id";
    PGresult *r;
    (void)v;
    r = trf_show_result(ud, ctx, "referrals needing attention", attention_sql, 0, NULL, "attention",
                        TRF_SHOW_ROWS);
    if (r == NULL)
        return CH_ERROR;
    /* Each one a link away; a failed or held delivery also offers its retry. */
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0);
        char label[64];
        snprintf(label, sizeof(label), "show referral %s", id);
        trf_action(ud, ctx, label, "referral", "show", id, NULL);
        if (!PQgetisnull(r, i, PQfnumber(r, "action"))) {
            snprintf(label, sizeof(label), "retry the delivery of referral %s", id);
            trf_action(ud, ctx, label, "referral", "retry", id, NULL);
        }
    }
    PQclear(r);
    return CH_OK;
}

enum { RT_REFERRAL, RT_ALL_FAILED, RT_DESTINATION };
static const struct ch_arg referral_retry_args[] = {
    [RT_REFERRAL] = {"referral", CH_ARG_ID, 0, "the referral whose delivery failed or is held",
                     NULL, NULL, 0, 0},
    [RT_ALL_FAILED] = {"--all-failed", CH_ARG_BOOL, 0,
                       "every referral to --destination whose delivery failed", NULL, NULL, 0, 0},
    [RT_DESTINATION] = {"--destination", CH_ARG_TEXT, 0, "with --all-failed: the destination", NULL,
                        "ID", 0, 0},
};

/*
 * Queues again a referral whose delivery failed (or was held): a new
 * attempt series under the same idempotency key, so a receiver that got an
 * earlier attempt recognises it. The dispatcher checks it again before it
 * leaves.
 */
static int referral_retry(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.referral_retry_v1($1, $2)";
    struct trf *t = ud;
    const char *params[2] = {v[RT_REFERRAL].text, v[RT_DESTINATION].text};
    char what[64];
    if ((v[RT_REFERRAL].given != 0) == (v[RT_ALL_FAILED].num != 0) ||
        (v[RT_ALL_FAILED].num != 0) != (v[RT_DESTINATION].given != 0)) {
        t->api->fail(ctx, "referral retry: give a referral id, or --all-failed with --destination");
        return CH_USAGE;
    }
    if (v[RT_REFERRAL].given)
        snprintf(what, sizeof(what), "referral %s", v[RT_REFERRAL].text);
    else
        snprintf(what, sizeof(what), "failed referrals to %s", v[RT_DESTINATION].text);
    if (trf_show(t, ctx, what, sql, 2, params, "retried", TRF_SHOW_ROWS) != CH_OK)
        return CH_ERROR;
    if (!t->api->json(ctx))
        t->api->out_message(ctx, "queued again under the same idempotency key; the dispatcher "
                                 "sends it");
    return CH_OK;
}

/* -------------------------------------------------------------- ledger --- */

enum { LG_CASE };
static const struct ch_arg ledger_args[] = {
    [LG_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
};

/*
 * What was reported for the case and its person (the audited read of the
 * ledger), then what routing did not make again and why (db/ledger.c).
 */
static int referral_ledger(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    return trf_ledger_out(ud, ctx, v[LG_CASE].text, TRF_LEDGER_FULL);
}

enum { RA_CASE, RA_DESTINATION, RA_REASON };
static const struct ch_arg report_again_args[] = {
    [RA_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [RA_DESTINATION] = {"--destination", CH_ARG_TEXT, CH_ARG_REQUIRED,
                        "the destination the delivered report went to", NULL, "ID", 0, 0},
    [RA_REASON] = {"--reason", CH_ARG_TEXT, CH_ARG_REQUIRED, "why it must be made again (kept)",
                   NULL, NULL, 0, 0},
};

/*
 * A supervisor or admin makes a delivered report again; the database
 * refuses anyone else, and a report not delivered yet (it stands).
 */
static int referral_report_again(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const char sql[] = "SELECT * FROM trafficking.report_again_v1($1, $2, $3)";
    struct trf *t = ud;
    const char *params[3] = {v[RA_CASE].text, v[RA_DESTINATION].text, v[RA_REASON].text};
    char what[64];
    snprintf(what, sizeof(what), "case %s", v[RA_CASE].text);
    if (trf_show(t, ctx, what, sql, 3, params, NULL, TRF_SHOW_MUST_EXIST) != CH_OK)
        return CH_ERROR;
    t->api->out_message(ctx, "the report is made again; the dispatcher sends it");
    return CH_OK;
}

/* ------------------------------------------------------------ register --- */

/* A spec without its ud: registering fills in the struct trf. */
#define SPEC_FLAGS(flags, verb, sub, help, args, run, verb_help)                                   \
    {                                                                                              \
        sizeof(struct ch_command_spec), verb, sub, help, CH_SPEC_ARGS(args), run, NULL, flags,     \
            verb_help                                                                              \
    }
/* A command that writes: a web page runs it only from a posted form. */
#define SPEC(...) SPEC_FLAGS(0, __VA_ARGS__)
/* A command that only shows (its one write the audit of the read): a link runs it. */
#define SHOW(...) SPEC_FLAGS(CH_CMD_VIEW, __VA_ARGS__)

static const struct ch_command_spec specs[] = {
    SPEC("consent", "add", "record a person's time-limited consent to share", consent_add_args,
         consent_add, "record, revoke, decline and list a person's consent to share"),
    SPEC("consent", "revoke", "revoke a consent and the referrals resting on it not yet sent",
         consent_revoke_args, consent_revoke, NULL),
    SPEC("consent", "decline",
         "record that the person declines recipients: no consent-based referral to them",
         consent_decline_args, consent_decline, NULL),
    SPEC("consent", "undecline", "the person changed their mind: end their declines of recipients",
         consent_decline_args, consent_undecline, NULL),
    SHOW("consent", "list", "list a person's consents and declines", person_args, consent_list,
         NULL),
    SPEC("safety", "set", "record how a person may be contacted safely; what is not given stays",
         safety_set_args, safety_set, "record how a person may be contacted safely"),
    SHOW("safety", "show", "show how a person may be contacted safely", person_args, safety_show,
         NULL),
    SHOW("referral", "list", "list referrals, of one case or in one state", referral_list_args,
         referral_list,
         "follow referrals: acknowledge, accept, reject, close, revoke, retry, attention, overdue, "
         "ledger"),
    SHOW("referral", "show", "show a referral and its history", referral_args, referral_show, NULL),
    SPEC("referral", "ack", "record the recipient's acknowledgement", referral_ack_args,
         referral_ack, NULL),
    SPEC("referral", "accept", "record that the recipient accepted it", referral_args,
         referral_accept, NULL),
    SPEC("referral", "reject", "record that the recipient rejected it", referral_reject_args,
         referral_reject, NULL),
    SPEC("referral", "close", "close a referral with its outcome", referral_close_args,
         referral_close, NULL),
    SPEC("referral", "revoke", "withdraw a referral", referral_revoke_args, referral_revoke, NULL),
    SHOW("referral", "ledger",
         "what was reported for a case and its person, and what was not made again", ledger_args,
         referral_ledger, NULL),
    SPEC("referral", "report-again",
         "make a delivered report again, with a reason (supervisor or admin)", report_again_args,
         referral_report_again, NULL),
    SPEC("referral", "retry",
         "queue again a referral whose delivery failed or is held (same idempotency key)",
         referral_retry_args, referral_retry, NULL),
    /* no arguments: C has no empty array to take CH_SPEC_ARGS of */
    {sizeof(struct ch_command_spec), "referral", "overdue",
     "list referrals not sent by their due time or not acknowledged in time", NULL, 0,
     sizeof(struct ch_arg), referral_overdue, NULL, CH_CMD_VIEW, NULL},
    {sizeof(struct ch_command_spec), "referral", "attention",
     "what needs a person now: failed deliveries, held referrals, overdue ones", NULL, 0,
     sizeof(struct ch_arg), referral_attention, NULL, CH_CMD_VIEW | CH_CMD_HOME, NULL},
};

int trf_register_referral_commands(struct trf *t)
{
    if (!CH_API_HAS(t->api, command_typed)) {
        t->api->log(t->self, CH_LOG_ERROR,
                    "consent, safety and referral need a host with typed commands (ABI 1.1)");
        return -1;
    }
    trf_enum_join(trf_safe_channels, ",", safe_channels_metavar, sizeof(safe_channels_metavar));
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct ch_command_spec spec = specs[i];
        spec.ud = t;
        if (t->api->command_typed(t->self, &spec) != 0)
            return -1;
    }
    return 0;
}
