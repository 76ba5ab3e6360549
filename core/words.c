/*
 * words.c: the host's fixed word lists (cli.h), each mirrored by a CHECK
 * constraint in sql/core; check_enums compares the two.
 */
#include <stddef.h>

#include "cli.h"

const char *const host_case_statuses[] = {HOST_CASE_STATUSES, NULL};
const char *const host_user_roles[] = {"caseworker", "supervisor", "admin",
                                       "service",    "taskforce",  NULL};
const char *const host_case_visibilities[] = {"agency", "assigned", NULL};
