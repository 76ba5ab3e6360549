/*
 * cmd_referral.c: the caseworker's verbs for what leaves the agency:
 * `consent` (an object with purpose, recipients, time limit, revocation),
 * `safety` (how a person may be reached safely) and `referral` (the
 * lifecycle after routing). Every move goes through SQL functions that refuse
 * invalid transitions; nothing here sends anything (the dispatcher does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmd_args.h"
#include "db/route.h"
#include "trf.h"

#define USAGE_CONSENT                                                                              \
    "consent add PERSON --purpose P --recipients ID|kind:KIND[,...] --regime "                     \
    "vawa_voca|hipaa|part2|state_law|other --expires YYYY-MM-DD [--verbal] [--note TEXT]\n"        \
    "  consent revoke CONSENT --reason TEXT\n"                                                     \
    "  consent list PERSON"
#define USAGE_SAFETY                                                                               \
    "safety set PERSON [--safe-channels phone,sms,email,in_person,via_caseworker] "                \
    "[--phone N] [--email A] [--safe-times TEXT] [--code-word W] [--do-not-contact yes|no] "       \
    "[--trafficker-controls-phone yes|no]\n"                                                       \
    "  safety show PERSON"
#define USAGE_REFERRAL                                                                             \
    "referral list [--case CASE] [--state STATE]\n"                                                \
    "  referral show REFERRAL\n"                                                                   \
    "  referral ack REFERRAL [--reference REF]\n"                                                  \
    "  referral accept REFERRAL\n"                                                                 \
    "  referral reject REFERRAL --reason TEXT\n"                                                   \
    "  referral close REFERRAL --outcome TEXT\n"                                                   \
    "  referral revoke REFERRAL --reason TEXT\n"                                                   \
    "  referral overdue"

struct kv {
    const char *name;
    const char *value; /* NULL when not given; "yes" for a bare flag */
    int flag;          /* takes no value */
};

/* Parses argv[2..] into one positional and the named options; -1 after fail(). */
static int parse(struct trf *t, struct ch_ctx *ctx, int argc, char **argv, struct kv *opts,
                 const char **pos)
{
    *pos = NULL;
    for (int i = 2; i < argc; i++) {
        struct kv *o = NULL;
        for (struct kv *k = opts; k->name != NULL; k++)
            if (strcmp(k->name, argv[i]) == 0)
                o = k;
        if (o != NULL) {
            if (o->flag) {
                o->value = "yes";
            } else if (i + 1 < argc) {
                o->value = argv[++i];
            } else {
                t->api->fail(ctx, "option '%s' needs a value", argv[i]);
                return -1;
            }
        } else if (strncmp(argv[i], "--", 2) == 0) {
            t->api->fail(ctx, "unknown option '%s'", argv[i]);
            return -1;
        } else if (*pos == NULL) {
            *pos = argv[i];
        } else {
            t->api->fail(ctx, "unexpected argument '%s'", argv[i]);
            return -1;
        }
    }
    return 0;
}

static const char *opt(const struct kv *opts, const char *name)
{
    for (; opts->name != NULL; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts->value;
    return NULL;
}

/* The one argument of `VERB SUB ID` (consent list, safety show, referral show); 0 or -1. */
static int only_id(struct trf *t, struct ch_ctx *ctx, int argc, char **argv, const char *what,
                   int64_t *id)
{
    if (argc != 3) {
        t->api->fail(ctx, "%s %s needs one %s id", argv[0], argv[1], what);
        return -1;
    }
    return trf_arg_id(t, ctx, what, argv[2], id);
}

/*
 * Runs sql with params; shows the rows under key (as_array) or the first
 * row's columns at the top level (key NULL). Returns CH_OK or CH_ERROR with
 * the database's message prefixed by what.
 */
static int query(struct trf *t, struct ch_ctx *ctx, const char *what, const char *sql, int n,
                 const char *const *params, const char *key, int as_array)
{
    PGresult *r = PQexecParams(t->api->conn(ctx), sql, n, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) {
        const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        const char *h = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
        t->api->fail(ctx, "%s: %s%s%s", what, m ? m : PQresultErrorMessage(r), h ? "\nhint: " : "",
                     h ? h : "");
    } else if (key != NULL) {
        t->api->out_result(ctx, key, r, as_array);
    } else if (PQntuples(r) > 0) {
        for (int c = 0; c < PQnfields(r); c++)
            t->api->out_str(ctx, PQfname(r, c), PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c));
    }
    PQclear(r);
    return ok ? CH_OK : CH_ERROR;
}

/* ------------------------------------------------------------- consent --- */

static int consent_add(struct trf *t, struct ch_ctx *ctx, int argc, char **argv)
{
    static const char sql[] =
        "SELECT * FROM trafficking.consent_add_v1($1, $2, $3, $4, $5::boolean, $6::date, $7)";
    struct kv o[] = {{"--purpose", NULL, 0}, {"--recipients", NULL, 0}, {"--regime", NULL, 0},
                     {"--expires", NULL, 0}, {"--verbal", NULL, 1},     {"--note", NULL, 0},
                     {NULL, NULL, 0}};
    const char *person, *params[7];
    int64_t person_id;
    PGresult *r;
    int rc;
    if (parse(t, ctx, argc, argv, o, &person) != 0)
        return CH_USAGE;
    if (person == NULL || !opt(o, "--purpose") || !opt(o, "--recipients") || !opt(o, "--regime") ||
        !opt(o, "--expires")) {
        t->api->fail(ctx, "consent add needs PERSON, --purpose, --recipients, --regime and "
                          "--expires (consent is time-limited)");
        return CH_USAGE;
    }
    if (trf_arg_id(t, ctx, "person", person, &person_id) != 0)
        return CH_USAGE;
    if ((rc = trf_arg_time(t, ctx, "--expires", opt(o, "--expires"))) != CH_OK)
        return rc;
    params[0] = person;
    params[1] = opt(o, "--purpose");
    params[2] = opt(o, "--recipients");
    params[3] = opt(o, "--regime");
    params[4] = opt(o, "--verbal") ? "false" : "true";
    params[5] = opt(o, "--expires");
    params[6] = opt(o, "--note");
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
    rc = trf_consent_changed(t, ctx, person_id);
    if (rc == CH_OK && !t->api->json(ctx))
        t->api->out_message(ctx, "consent recorded; services never depend on it");
    return rc;
}

/*
 * Revoking a consent revokes the referrals that rest on it and have not left
 * yet, and holds their outbox rows, in the same transaction.
 */
static int consent_revoke(struct trf *t, struct ch_ctx *ctx, int argc, char **argv)
{
    static const char sql[] = "SELECT * FROM trafficking.consent_revoke_v1($1, $2)";
    struct kv o[] = {{"--reason", NULL, 0}, {NULL, NULL, 0}};
    const char *id, *params[2];
    int64_t consent_id;
    PGresult *r;
    int rc = CH_ERROR;
    if (parse(t, ctx, argc, argv, o, &id) != 0)
        return CH_USAGE;
    if (id == NULL || opt(o, "--reason") == NULL) {
        t->api->fail(ctx, "consent revoke needs CONSENT and --reason TEXT");
        return CH_USAGE;
    }
    if (trf_arg_id(t, ctx, "consent", id, &consent_id) != 0)
        return CH_USAGE;
    params[0] = id;
    params[1] = opt(o, "--reason");
    r = PQexecParams(t->api->conn(ctx), sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        t->api->fail(ctx, "consent %s: %s", id, PQresultErrorMessage(r));
    else if (PQntuples(r) == 0)
        t->api->fail(ctx, "consent %s not found, or already revoked", id);
    else {
        t->api->out_result(ctx, "revoked", r, 0);
        rc = CH_OK;
    }
    PQclear(r);
    return rc;
}

static int cmd_consent(struct ch_ctx *ctx, int argc, char **argv, void *ud)
{
    static const char list_sql[] = "SELECT * FROM trafficking.consents_of_v1($1)";
    struct trf *t = ud;
    const char *sub = argc >= 2 ? argv[1] : "";
    int64_t id;
    if (strcmp(sub, "add") == 0)
        return consent_add(t, ctx, argc, argv);
    if (strcmp(sub, "revoke") == 0)
        return consent_revoke(t, ctx, argc, argv);
    if (strcmp(sub, "list") == 0) {
        const char *params[1] = {argv[argc - 1]};
        if (only_id(t, ctx, argc, argv, "person", &id) != 0)
            return CH_USAGE;
        return query(t, ctx, "consents", list_sql, 1, params, "consents", 1);
    }
    t->api->fail(ctx, "consent: expected add, revoke or list");
    return CH_USAGE;
}

/* -------------------------------------------------------------- safety --- */

static int safety_set(struct trf *t, struct ch_ctx *ctx, int argc, char **argv)
{
    static const char sql[] = "SELECT * FROM trafficking.safe_contact_set_v1($1, $2, $3, $4, $5,"
                              " $6, $7::boolean, $8::boolean)";
    struct kv o[] = {{"--safe-channels", NULL, 0},
                     {"--phone", NULL, 0},
                     {"--email", NULL, 0},
                     {"--safe-times", NULL, 0},
                     {"--code-word", NULL, 0},
                     {"--do-not-contact", NULL, 0},
                     {"--trafficker-controls-phone", NULL, 0},
                     {NULL, NULL, 0}};
    const char *person, *params[8];
    int64_t person_id;
    PGresult *r;
    int rc = CH_ERROR;
    if (parse(t, ctx, argc, argv, o, &person) != 0)
        return CH_USAGE;
    if (person == NULL) {
        t->api->fail(ctx, "safety set needs a PERSON id");
        return CH_USAGE;
    }
    if (trf_arg_id(t, ctx, "person", person, &person_id) != 0)
        return CH_USAGE;
    for (int i = 5; i < 7; i++)
        if (o[i].value != NULL && strcmp(o[i].value, "yes") != 0 && strcmp(o[i].value, "no") != 0) {
            t->api->fail(ctx, "%s takes yes or no, not '%s'", o[i].name, o[i].value);
            return CH_USAGE;
        }
    params[0] = person;
    for (int i = 0; i < 7; i++)
        params[i + 1] = o[i].value == NULL               ? NULL
                        : i < 5                          ? o[i].value
                        : strcmp(o[i].value, "yes") == 0 ? "true"
                                                         : "false";
    r = PQexecParams(t->api->conn(ctx), sql, 8, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        t->api->fail(ctx, "person %s: %s", person, PQresultErrorMessage(r));
    else if (PQntuples(r) == 0)
        t->api->fail(ctx, "person %s not found", person);
    else {
        t->api->out_result(ctx, "safe_contact", r, 0);
        rc = CH_OK;
    }
    PQclear(r);
    return rc;
}

static int cmd_safety(struct ch_ctx *ctx, int argc, char **argv, void *ud)
{
    static const char show_sql[] = "SELECT * FROM trafficking.safe_contact_of_v1($1)";
    struct trf *t = ud;
    const char *sub = argc >= 2 ? argv[1] : "";
    int64_t id;
    if (strcmp(sub, "set") == 0)
        return safety_set(t, ctx, argc, argv);
    if (strcmp(sub, "show") == 0) {
        const char *params[1] = {argv[argc - 1]};
        if (only_id(t, ctx, argc, argv, "person", &id) != 0)
            return CH_USAGE;
        return query(t, ctx, "safe contact", show_sql, 1, params, "safe_contact", 0);
    }
    t->api->fail(ctx, "safety: expected set or show");
    return CH_USAGE;
}

/* ------------------------------------------------------------ referral --- */

static int referral_move(struct trf *t, struct ch_ctx *ctx, int argc, char **argv, const char *to,
                         const char *need)
{
    static const char sql[] = "SELECT * FROM trafficking.referral_move_v1($1, $2, $3, $4)";
    struct kv o[] = {
        {"--reason", NULL, 0}, {"--outcome", NULL, 0}, {"--reference", NULL, 0}, {NULL, NULL, 0}};
    const char *id, *params[4];
    int64_t referral_id;
    char what[64];
    if (parse(t, ctx, argc, argv, o, &id) != 0)
        return CH_USAGE;
    if (id == NULL || (need != NULL && opt(o, need) == NULL)) {
        t->api->fail(ctx, "referral %s needs a REFERRAL id%s%s%s", argv[1], need ? " and " : "",
                     need ? need : "", need ? " TEXT" : "");
        return CH_USAGE;
    }
    if (trf_arg_id(t, ctx, "referral", id, &referral_id) != 0)
        return CH_USAGE;
    params[0] = id;
    params[1] = to;
    params[2] = need ? opt(o, need) : opt(o, "--reference");
    params[3] = opt(o, "--reference");
    snprintf(what, sizeof(what), "referral %s", id);
    return query(t, ctx, what, sql, 4, params, NULL, 0);
}

static int cmd_referral(struct ch_ctx *ctx, int argc, char **argv, void *ud)
{
    static const char list_sql[] =
        "SELECT r.id, r.case_id AS case, r.destination_id AS destination, r.destination_kind"
        "       AS kind, r.basis, r.urgency, r.state,"
        "       to_char(r.due_at, 'YYYY-MM-DD HH24:MI') AS due, r.rule"
        "  FROM trafficking.referrals r"
        " WHERE ($1::bigint IS NULL OR r.case_id = $1::bigint) AND ($2::text IS NULL OR"
        "       r.state = $2) ORDER BY r.id";
    static const char show_sql[] =
        "SELECT r.id, r.case_id AS case, r.destination_id AS destination, r.destination_kind"
        "       AS kind, r.rule, r.basis, r.consent_id AS consent, r.urgency, r.state,"
        "       to_char(r.due_at, 'YYYY-MM-DD HH24:MI') AS due, r.ack_sla_hours,"
        "       array_to_string(r.fields, ', ') AS fields_shared, r.reference, r.reason,"
        "       r.outcome, r.escalation_of, to_char(r.escalated_at, 'YYYY-MM-DD HH24:MI')"
        "       AS escalated, o.state AS outbox, o.attempts, o.last_error, r.idempotency_key"
        "  FROM trafficking.referrals r LEFT JOIN trafficking.outbox o ON o.referral_id = r.id"
        " WHERE r.id = $1";
    static const char history_sql[] =
        "SELECT to_char(h.at, 'YYYY-MM-DD HH24:MI:SS') AS at, u.name AS by, h.from_state,"
        "       h.to_state, h.detail FROM trafficking.referral_history h"
        "  LEFT JOIN casehost.users u ON u.id = h.actor_id WHERE h.referral_id = $1 ORDER BY h.id";
    static const char overdue_sql[] =
        "SELECT r.id, r.case_id AS case, r.destination_id AS destination, r.state,"
        "       CASE WHEN r.state IN ('pending_consent', 'queued') THEN 'not sent by due time'"
        "            ELSE 'not acknowledged within ' || r.ack_sla_hours || ' h' END AS problem,"
        "       to_char(CASE WHEN r.state IN ('pending_consent', 'queued') THEN r.due_at"
        "                    ELSE r.sent_at + make_interval(hours => r.ack_sla_hours) END,"
        "               'YYYY-MM-DD HH24:MI') AS since,"
        "       to_char(r.escalated_at, 'YYYY-MM-DD HH24:MI') AS escalated"
        "  FROM trafficking.referrals r"
        " WHERE (r.state IN ('pending_consent', 'queued') AND r.due_at < now())"
        "    OR (r.state = 'sent' AND r.sent_at + make_interval(hours => r.ack_sla_hours) < now())"
        " ORDER BY 6, r.id";
    static const struct {
        const char *sub, *to, *need;
    } moves[] = {{"ack", "acknowledged", NULL},
                 {"accept", "accepted", NULL},
                 {"reject", "rejected", "--reason"},
                 {"close", "closed", "--outcome"},
                 {"revoke", "revoked", "--reason"}};
    struct trf *t = ud;
    const char *sub = argc >= 2 ? argv[1] : "";
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++)
        if (strcmp(sub, moves[i].sub) == 0)
            return referral_move(t, ctx, argc, argv, moves[i].to, moves[i].need);
    if (strcmp(sub, "list") == 0) {
        struct kv o[] = {{"--case", NULL, 0}, {"--state", NULL, 0}, {NULL, NULL, 0}};
        const char *pos, *params[2];
        int64_t case_id;
        if (parse(t, ctx, argc, argv, o, &pos) != 0)
            return CH_USAGE;
        if (pos != NULL) {
            t->api->fail(ctx, "unexpected argument '%s'", pos);
            return CH_USAGE;
        }
        if (o[0].value != NULL && trf_arg_id(t, ctx, "case", o[0].value, &case_id) != 0)
            return CH_USAGE;
        params[0] = o[0].value;
        params[1] = o[1].value;
        return query(t, ctx, "referrals", list_sql, 2, params, "referrals", 1);
    }
    if (strcmp(sub, "show") == 0) {
        const char *params[1] = {argv[argc - 1]};
        char what[64];
        PGresult *r;
        int64_t id;
        int found;
        if (only_id(t, ctx, argc, argv, "referral", &id) != 0)
            return CH_USAGE;
        snprintf(what, sizeof(what), "referral %s", argv[2]);
        r = PQexecParams(t->api->conn(ctx), show_sql, 1, NULL, params, NULL, NULL, 0);
        found = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        if (found)
            t->api->out_result(ctx, "referral", r, 0);
        PQclear(r);
        if (!found) {
            t->api->fail(ctx, "referral %s not found", argv[2]);
            return CH_ERROR;
        }
        if (query(t, ctx, what, history_sql, 1, params, "history", 1) != CH_OK)
            return CH_ERROR;
        return t->api->audit(ctx, "read", "referral", id, NULL) == 0 ? CH_OK : CH_ERROR;
    }
    if (strcmp(sub, "overdue") == 0 && argc == 2)
        return query(t, ctx, "overdue referrals", overdue_sql, 0, NULL, "overdue", 1);
    t->api->fail(ctx, "referral: unknown subcommand '%s'", sub);
    return CH_USAGE;
}

int trf_register_referral_commands(struct trf *t)
{
    const struct ch_command cmds[] = {
        {"consent", "record, revoke and list a person's consent to share", USAGE_CONSENT,
         cmd_consent, t, 0},
        {"safety", "record how a person may be contacted safely", USAGE_SAFETY, cmd_safety, t, 0},
        {"referral", "follow referrals: acknowledge, accept, reject, close, revoke, overdue",
         USAGE_REFERRAL, cmd_referral, t, 0},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (t->api->command(t->self, &cmds[i]) != 0)
            return -1;
    return 0;
}
