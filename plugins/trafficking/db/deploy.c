/*
 * deploy.c: the plugin's part of `config deploy` and `config check`. It runs
 * the routing fixtures against the candidate configuration the plugin was
 * started with, and, when deploying, refuses a candidate that no longer loads
 * an instrument version stored screenings use, then records in the deploy's
 * transaction what the new generation allows (destinations with their
 * fields, the targets and bases each rule may produce, the instruments with
 * their items), so that the database checks every referral and screening a
 * caller writes against the live configuration. It never changes anything
 * else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db/deploy.h"
#include "db/query.h"
#include "routing/routing_test.h"

static json_t *strings(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* What the generation allows, as trafficking.live_config_store_v1 reads it. */
static json_t *allowed(const struct trf_config *c)
{
    const struct routing_config *rc = c->routing;
    json_t *dests = json_array(), *targets = json_array(), *insts = json_array();
    for (size_t i = 0; i < rc->n_destinations; i++) {
        const struct routing_destination *d = &rc->destinations[i];
        json_array_append_new(
            dests,
            json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:b, s:b, s:i, s:s?}", "id", d->id, "kind",
                      routing_kind_name(d->kind), "any_jurisdiction", d->jurisdiction.any, "states",
                      strings(d->jurisdiction.states, d->jurisdiction.n_states), "counties",
                      strings(d->jurisdiction.counties, d->jurisdiction.n_counties), "fields",
                      routing_fields_to_json(d->fields), "needs_consent", d->needs_consent,
                      "contacts_person", d->contacts_person, "ack_sla_hours", d->ack_sla_hours,
                      "escalate_to",
                      d->escalate_to >= 0 ? rc->destinations[d->escalate_to].id : NULL));
    }
    for (size_t i = 0; i < rc->n_rules; i++) {
        const struct routing_rule *r = &rc->rules[i];
        for (size_t k = 0; k < r->n_refer; k++) {
            char target[96];
            if (r->refer[k].destination >= 0)
                snprintf(target, sizeof(target), "%s",
                         rc->destinations[r->refer[k].destination].id);
            else
                snprintf(target, sizeof(target), "kind:%s", routing_kind_name(r->refer[k].kind));
            json_array_append_new(
                targets, json_pack("{s:s, s:s, s:s, s:s, s:i}", "rule", r->name, "target", target,
                                   "basis", routing_basis_name(r->basis), "urgency",
                                   routing_urgency_name(r->urgency), "due_hours", r->due_hours));
        }
    }
    for (size_t i = 0; i < c->instruments->n; i++) {
        const struct instrument *in = c->instruments->v[i];
        json_t *items = json_array();
        for (size_t k = 0; k < in->n_items; k++)
            json_array_append_new(items, json_string(in->items[k].id));
        json_array_append_new(insts,
                              json_pack("{s:s, s:i, s:s, s:s, s:s%, s:o}", "id", in->id, "version",
                                        in->version, "hash", in->hash, "title", in->title,
                                        "definition", in->text, in->text_len, "items", items));
    }
    return json_pack("{s:o, s:o, s:o}", "destinations", dests, "rule_targets", targets,
                     "instruments", insts);
}

/* Runs the fixtures of the candidate; CH_OK when every one matches. */
static int run_fixtures(struct trf *t, struct ch_ctx *ctx)
{
    struct routing_test_result res = {0, 0};
    char *text = NULL;
    size_t len = 0;
    FILE *mem;
    int rc;
    if (t->cfg->fixtures_path == NULL)
        return CH_OK;
    mem = open_memstream(&text, &len);
    rc = routing_test_run(t->cfg->routing, t->cfg->fixtures_path, mem, trf_report, t, &res);
    if (mem != NULL)
        fclose(mem);
    if (rc != 0)
        t->api->fail(ctx, "%s: %s%s", t->cfg->fixtures_path,
                     rc < 0 ? "the fixture file has errors (listed above)"
                            : "routing fixtures fail against this configuration:\n",
                     rc < 0 || text == NULL ? "" : text);
    free(text);
    return rc == 0 ? CH_OK : CH_ERROR;
}

/*
 * "2" or "1, 2": the versions of instrument id that set loads, into buf;
 * "" when it loads none.
 */
static const char *versions_of(const struct instrument_set *set, const char *id, char *buf,
                               size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < set->n && used < len; i++)
        if (strcmp(set->v[i]->id, id) == 0) {
            int k = snprintf(buf + used, len - used, "%s%d", used ? ", " : "", set->v[i]->version);
            used = k < 0 ? len : used + (size_t)k;
        }
    return buf;
}

/*
 * A screening is routed (and replayed) with the evidence classes of its own
 * instrument version, so every version a stored screening of any agency
 * uses must load in the candidate. The database counts them
 * (trafficking.screening_versions_v1: instrument, version, count; nothing
 * personal). CH_OK, or CH_ERROR naming each version missing.
 */
static int stored_versions_load(struct trf *t, struct ch_ctx *ctx, PGconn *conn)
{
    static const char sql[] =
        "SELECT instrument, version, screenings FROM trafficking.screening_versions_v1()";
    const struct instrument_set *set = t->cfg->instruments;
    char err[1024], *text = NULL;
    size_t len = 0;
    FILE *mem;
    int missing = 0;
    PGresult *r = trf_query(conn, sql, 0, NULL, err, sizeof(err),
                            "cannot read which instrument versions stored screenings use");
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    if ((mem = open_memstream(&text, &len)) == NULL) {
        PQclear(r);
        t->api->fail(ctx, "out of memory");
        return CH_ERROR;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0), *version = PQgetvalue(r, i, 1);
        const char *n = PQgetvalue(r, i, 2);
        char loaded[200];
        if (instrument_set_find(set, id, (int)strtol(version, NULL, 10)) != NULL)
            continue;
        fprintf(mem,
                "%sinstrument %s version %s is used by %s stored screening%s: keep "
                "instruments/%s.v%s.cfg and its class-mapping file instruments/classes/%s.v%s.cfg ",
                missing++ ? "\n" : "", id, version, n, strcmp(n, "1") == 0 ? "" : "s", id, version,
                id, version);
        if (versions_of(set, id, loaded, sizeof(loaded))[0] != '\0')
            fprintf(mem, "(this configuration loads %s version %s only)", id, loaded);
        else
            fprintf(mem, "(this configuration loads no version of %s)", id);
    }
    PQclear(r);
    if (fclose(mem) != 0 || text == NULL) {
        free(text);
        t->api->fail(ctx, "out of memory");
        return CH_ERROR;
    }
    if (missing > 0)
        t->api->fail(ctx,
                     "%s\nhint: a screening is routed with the evidence classes of its own "
                     "instrument version; an earlier version's definition stays byte-identical "
                     "and gets its classes from its class-mapping file",
                     text);
    free(text);
    return missing > 0 ? CH_ERROR : CH_OK;
}

/* A generation is stored in the database: it may name secret files, never hold a secret. */
static int no_inline_secrets(struct trf *t, struct ch_ctx *ctx)
{
    const struct routing_config *rc = t->cfg->routing;
    for (size_t i = 0; i < rc->n_destinations; i++)
        if (rc->destinations[i].channel.secret != NULL) {
            t->api->fail(ctx,
                         "%s:%d: destination '%s' holds its webhook secret inline; a deployed "
                         "configuration is stored in the database and never holds a secret: "
                         "write secret_file = \"PATH\" (mode 0600 or 0640 on each machine that "
                         "dispatches)",
                         rc->destinations_path, rc->destinations[i].line, rc->destinations[i].id);
            return CH_ERROR;
        }
    return CH_OK;
}

int trf_deploy_check(struct ch_ctx *ctx, const char *generation_hash, void *ud)
{
    static const char sql[] = "SELECT trafficking.live_config_store_v1($1, $2::jsonb)";
    struct trf *t = ud;
    PGconn *conn = t->api->conn(ctx);
    json_t *rows;
    char *text;
    const char *params[2];
    char err[1024];
    PGresult *r;
    int ok, deploying = conn != NULL && generation_hash[0] != '\0';
    /* A missing version first: the fixtures that name it would only fail after it. */
    if (no_inline_secrets(t, ctx) != CH_OK ||
        (deploying && stored_versions_load(t, ctx, conn) != CH_OK) || run_fixtures(t, ctx) != CH_OK)
        return CH_ERROR;
    if (!deploying) {
        /* config check: nothing to record, and no stored screening to ask about */
        t->api->out_message(ctx, "not checked without a database: that every instrument version "
                                 "stored screenings use still loads (config deploy checks it)");
        return CH_OK;
    }
    rows = allowed(t->cfg);
    text = rows != NULL ? json_dumps(rows, JSON_COMPACT) : NULL;
    json_decref(rows);
    if (text == NULL) {
        t->api->fail(ctx, "out of memory");
        return CH_ERROR;
    }
    params[0] = generation_hash;
    params[1] = text;
    r = trf_query(conn, sql, 2, params, err, sizeof(err),
                  "cannot record what the configuration allows");
    ok = r != NULL;
    if (!ok)
        t->api->fail(ctx, "%s", err);
    PQclear(r);
    free(text);
    return ok ? CH_OK : CH_ERROR;
}
