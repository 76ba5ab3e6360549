/*
 * deploy.h: the trafficking plugin's deploy check (see ch_deploy_fn in
 * casehost/plugin.h): routing fixtures, and the rows that tell the database
 * what a deployed generation allows.
 */
#ifndef TRF_DEPLOY_H
#define TRF_DEPLOY_H

#include "trf.h"

/* ud is the plugin's struct trf. */
int trf_deploy_check(struct ch_ctx *ctx, const char *generation_hash, void *ud);

#endif
