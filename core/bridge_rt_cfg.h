/*
 * bridge_rt_cfg.h: the RT bridge's configuration (conf/bridge/rt.cfg):
 * where RT's database and REST2 API are, which queues it watches for which
 * agency, how RT users, custom fields and statuses map onto casehost's.
 * Loading validates everything and reports every error with file:line; a
 * configuration with any error is never used. No I/O beyond reading files.
 */
#ifndef CASEHOST_BRIDGE_RT_CFG_H
#define CASEHOST_BRIDGE_RT_CFG_H

#include <stddef.h>

#include <libconfig.h>

#include "diag.h"

/* The case fields an RT custom field may feed. */
enum brt_field_kind { BRT_TEXT, BRT_TIME, BRT_BOOL };

struct brt_queue {
    const char *queue;  /* RT queue name; borrowed from cfg */
    const char *agency; /* casehost agency name; borrowed */
    const char *file;   /* where the entry was written */
    int line;
};

struct brt_user {
    const char *rt;       /* RT user name or email address; borrowed */
    const char *casehost; /* casehost user name; borrowed */
};

struct brt_field {
    const char *cf;    /* RT custom field name; borrowed */
    const char *field; /* casehost case field (casehost.case_new's member); borrowed */
    enum brt_field_kind kind;
};

struct brt_status {
    const char *rt;       /* RT status; borrowed */
    const char *casehost; /* one of HOST_CASE_STATUSES; borrowed */
};

/*
 * casehost -> RT (the `writeback` group; absent: the bridge only reads and
 * the writes cases owe their tickets wait in the outbox). All borrowed.
 */
struct brt_writeback {
    int on;
    const char *rt_user;   /* the RT user whose token token_file holds */
    const char *status_cf; /* the custom field that gets the neutral words */
    const char *link_cf;   /* the custom field that gets the case page's URL */
    const char *web_url;   /* casehost's web server, as caseworkers reach it */
    int per_minute;        /* writes to RT in any minute, at most */
    int per_ticket_hour;   /* writes to one ticket in any hour, at most */
};

struct brt_cfg {
    config_t cfg;
    char *path;              /* owned */
    const char *name;        /* the instance: a case's external_system; borrowed */
    const char *rt_conninfo; /* RT's database, as a read-only role; borrowed */
    const char *rt_url;      /* RT's REST2 base URL; borrowed */
    char *token_file;        /* resolved against the file's folder; owned */
    int listen;              /* LISTEN on the optional trigger's channel */
    int poll_seconds;
    int batch;                /* RT transactions read per scan at most */
    const char *act_as;       /* the casehost person case writes run as; borrowed */
    struct brt_queue *queues; /* owned arrays */
    size_t n_queues;
    struct brt_user *users;
    size_t n_users;
    struct brt_field *fields;
    size_t n_fields;
    struct brt_status *statuses;
    size_t n_statuses;
    struct brt_writeback wb;
};

/* The channel the optional trigger (sql/bridge/rt_notify.sql) notifies. */
#define BRT_NOTIFY_CHANNEL "casehost_bridge_rt"

/*
 * Reads and validates path. Returns 0, or -1 after reporting every problem
 * to d. On any return the caller releases c with brt_cfg_release().
 */
int brt_cfg_load(struct brt_cfg *c, const char *path, struct diag *d);
void brt_cfg_release(struct brt_cfg *c);

/* The mapping entries for an RT name or value; NULL when none (borrowed from c). */
const struct brt_queue *brt_cfg_queue(const struct brt_cfg *c, const char *rt_queue);
const char *brt_cfg_user(const struct brt_cfg *c, const char *rt_name, const char *rt_email);
const char *brt_cfg_status(const struct brt_cfg *c, const char *rt_status);

#endif
