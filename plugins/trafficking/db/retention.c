/*
 * retention.c: the bytes sent are kept only for a while. The setting
 * sent_retention_days lives in the host config (the machine's operator
 * decides how long personal data stays, not a deployed generation), and the
 * tick purges what is older through trafficking.outbox_purge_sent_v1, which
 * keeps the hash and the sent time. It never touches a row that may still
 * leave: the SQL function decides which rows qualify.
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

int trf_retention_on_tick(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud)
{
    struct trf *t = ud;
    char days[24], err[1024];
    const char *params[1] = {days};
    PGresult *r;
    long long n;
    (void)ev;
    snprintf(days, sizeof(days), "%d", t->sent_retention_days);
    r = trf_query(t->api->conn(ctx), purge_sql, 1, params, err, sizeof(err),
                  "cannot purge the bytes of referrals sent %s days ago", days);
    if (r == NULL) {
        t->api->fail(ctx, "%s", err);
        return CH_ERROR;
    }
    n = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    if (n > 0)
        t->api->out_message(ctx,
                            "purged the bytes of %lld referral(s) sent %s or more days ago "
                            "(sent_retention_days); their sha-256 and sent time are kept",
                            n, days);
    return CH_OK;
}
