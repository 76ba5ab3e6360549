/*
 * enums.c: the word lists of enums.h. A list here and its CHECK constraint
 * change together (check_enums holds them to it); nothing here reads or
 * writes the database.
 */
#include "cli/enums.h"

#include <stdio.h>
#include <string.h>

const char *const trf_referral_states[TRF_REFERRAL__COUNT + 1] = {
    [TRF_REFERRAL_PENDING_CONSENT] = "pending_consent",
    [TRF_REFERRAL_QUEUED] = "queued",
    [TRF_REFERRAL_SENT] = "sent",
    [TRF_REFERRAL_ACKNOWLEDGED] = "acknowledged",
    [TRF_REFERRAL_ACCEPTED] = "accepted",
    [TRF_REFERRAL_REJECTED] = "rejected",
    [TRF_REFERRAL_CLOSED] = "closed",
    [TRF_REFERRAL_REVOKED] = "revoked",
    [TRF_REFERRAL_DELIVERY_FAILED] = "delivery_failed",
    [TRF_REFERRAL__COUNT] = NULL,
};

const char *const trf_consent_regimes[] = {
    "vawa_voca", "hipaa", "part2", "state_law", "other", NULL,
};

const char *const trf_safe_channels[] = {
    "phone", "sms", "email", "in_person", "via_caseworker", NULL,
};

const char *const trf_episode_kinds[] = {
    "sex", "labour", "both", "unclear", NULL,
};

const char *const trf_determination_levels[] = {
    "at_risk",
    "suspected",
    "confirmed",
    NULL,
};

const char *const trf_trafficking_types[] = {
    "sex",
    "labour",
    "both",
    NULL,
};

int trf_enum_index(const char *const *values, const char *word, size_t len)
{
    for (int i = 0; values[i] != NULL; i++)
        if (strlen(values[i]) == len && strncmp(values[i], word, len) == 0)
            return i;
    return -1;
}

char *trf_enum_join(const char *const *values, const char *sep, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; values[i] != NULL && n < len; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", i > 0 ? sep : "", values[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return buf;
}
