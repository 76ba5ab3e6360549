/*
 * trf.h: the trafficking plugin's state as the host sees it: the host API,
 * this plugin's handle, and the configuration generation in force. Shared by
 * the plugin's entry, hooks and commands; nothing outside the plugin sees it.
 */
#ifndef TRF_TRF_H
#define TRF_TRF_H

#include <casehost/plugin.h>

#include "screening/instrument.h"
#include "routing/routing.h"
#include "screening/trigger.h"

/* One loaded, validated configuration. Replaced whole on reload, never edited. */
struct trf_config {
    struct instrument_set *instruments;
    struct trigger_set *triggers;
    struct routing_config *routing;
    char *fixtures_path; /* routing-tests.cfg of this configuration, or NULL when it has none */
};

struct trf {
    const struct ch_host_api *api;
    struct ch_plugin *self;
    struct trf_config *cfg;
    int sent_retention_days; /* how long the bytes sent are kept (db/retention.c) */
    int reports;             /* configuration problems reported so far (trf_report) */
};

/* Reports a configuration problem through the host (ud: the struct trf). */
void trf_report(void *ud, const char *file, int line, int col, const char *msg);

/* Loads the configuration named in the plugin's settings; NULL after reporting every error. */
struct trf_config *trf_config_load(struct trf *t);
void trf_config_free(struct trf_config *c);

/* Registers the plugin's commands (cmd_screen.c). 0 or -1. */
int trf_register_commands(struct trf *t);

/* Registers consent, safety and referral (cmd_referral.c). 0 or -1. */
int trf_register_referral_commands(struct trf *t);

/* Registers episode and determination (cmd_determination.c). 0 or -1. */
int trf_register_determination_commands(struct trf *t);

/* `case show` part: the determination and exploitation episodes (cmd_determination.c). */
int trf_render_determination(struct ch_ctx *ctx, int64_t case_id, void *ud);

/* Case-event hook: suggests screenings from the triggers, then routes the case (screening.c). */
int trf_on_case_event(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud);

/* `case show` section: the case's screenings (screening.c) and reports (db/ledger.c). */
int trf_render_case(struct ch_ctx *ctx, int64_t case_id, void *ud);

/* `person show` section: contact safety, consents and declines (cmd_referral.c). */
int trf_render_person(struct ch_ctx *ctx, int64_t person_id, void *ud);

#endif
