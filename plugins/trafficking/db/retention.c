/*
 * retention.c: the bytes sent are kept only for a while. The setting
 * sent_retention_days lives in the host config (the machine's operator
 * decides how long personal data stays, not a deployed generation), and the
 * tick purges what is older through trafficking.outbox_purge_sent_v1, which
 * keeps the hash and the sent time. It never touches a row that may still
 * leave: the SQL function decides which rows qualify. The same tick purges
 * screening drafts untouched for 30 days (the database's rule).
 */
#include <stdio.h>
#include <stdlib.h>

#include "db/query.h"
#include "db/retention.h"

static const char setting[] = "sent_retention_days";

int trf_retention_load(struct trf *t)
{
    const config_setting_t *set = t->api->config(t->self);
    const config_setting_t *s = set != NULL ? config_setting_get_member(set, setting) : NULL;
    long long days;
    t->sent_retention_days = TRF_SENT_RETENTION_DEFAULT;
    if (s == NULL)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
        t->api->config_error(t->self, config_setting_source_file(s),
                             (int)config_setting_source_line(s), 0,
                             "%s: must be a whole number of days (0: purge the bytes sent at the "
                             "next tick), e.g. %s = %d;",
                             setting, setting, TRF_SENT_RETENTION_DEFAULT);
        return -1;
    }
    days = config_setting_get_int64(s);
    if (days < 0 || days > TRF_SENT_RETENTION_MAX) {
        t->api->config_error(t->self, config_setting_source_file(s),
                             (int)config_setting_source_line(s), 0,
                             "%s: %lld days is not from 0 to %d (0: purge the bytes sent at the "
                             "next tick)",
                             setting, days, TRF_SENT_RETENTION_MAX);
        return -1;
    }
    t->sent_retention_days = (int)days;
    return 0;
}

/* The number of rows whose bytes were purged; see 015_retention.sql. */
static const char purge_sql[] = "SELECT trafficking.outbox_purge_sent_v1($1::integer)";
/* The number of screening drafts purged; see 016_screening_drafts.sql. */
static const char drafts_sql[] = "SELECT trafficking.screening_drafts_purge_v1()";

/* What purge sql (n params) returns: how many went, or -1 after fail (what: the head). */
static long long purge(struct trf *t, struct ch_ctx *ctx, const char *sql, int n,
                       const char *const *params, const char *what)
{
    char err[1024];
    PGresult *r = trf_query(t->api->conn(ctx), sql, n, params, err, sizeof(err), "%s", what);
    long long count;
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return -1;
    }
    count = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return count;
}

int trf_retention_on_tick(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud)
{
    struct trf *t = ud;
    char days[24], what[128];
    const char *params[1] = {days};
    long long n;
    (void)ev;
    snprintf(days, sizeof(days), "%d", t->sent_retention_days);
    snprintf(what, sizeof(what), "cannot purge the bytes of referrals sent %s days ago", days);
    n = purge(t, ctx, purge_sql, 1, params, what);
    if (n < 0)
        return CH_ERROR;
    if (n > 0)
        t->api->out_message(ctx,
                            "purged the bytes of %lld referral(s) sent %s or more days ago "
                            "(sent_retention_days); their sha-256 and sent time are kept",
                            n, days);
    n = purge(t, ctx, drafts_sql, 0, NULL, "cannot purge old screening drafts");
    if (n < 0)
        return CH_ERROR;
    if (n > 0)
        t->api->out_message(ctx, "purged %lld screening draft(s) untouched for 30 days", n);
    return CH_OK;
}
