/*
 * cmd_report.h: the `report` verb's agency reports (cmd_report.c). The
 * task-force report registers itself beside them (cmd_report_taskforce.h).
 */
#ifndef TRF_CMD_REPORT_H
#define TRF_CMD_REPORT_H

struct trf;

/* Registers report screenings, referrals, deadlines, equity and consent. 0 or -1. */
int trf_register_report_commands(struct trf *t);

#endif
