/*
 * cmd_report_taskforce.h: `report taskforce`, the task force's view across
 * the agencies that opted in: suppressed counts only (cmd_report_taskforce.c).
 */
#ifndef TRF_CMD_REPORT_TASKFORCE_H
#define TRF_CMD_REPORT_TASKFORCE_H

#include <casehost/plugin.h>

/* The command; its ud must be the plugin's struct trf (set it at registration). */
extern const struct ch_command_spec trf_report_taskforce_spec;

#endif
