/*
 * enums.h: the fixed word lists the plugin's commands accept, each declared
 * once, NULL-terminated (a CH_ARG_ENUM's values) and mirroring the database
 * CHECK constraint named beside it; tests/integration/check_enums.c fails
 * when the two differ. Never reorder a list without its index enum.
 */
#ifndef TRF_CLI_ENUMS_H
#define TRF_CLI_ENUMS_H

#include <stddef.h>

/* A referral's lifecycle: trafficking.referrals CHECK (state IN (...)). */
enum trf_referral_state {
    TRF_REFERRAL_PENDING_CONSENT,
    TRF_REFERRAL_QUEUED,
    TRF_REFERRAL_SENT,
    TRF_REFERRAL_ACKNOWLEDGED,
    TRF_REFERRAL_ACCEPTED,
    TRF_REFERRAL_REJECTED,
    TRF_REFERRAL_CLOSED,
    TRF_REFERRAL_REVOKED,
    TRF_REFERRAL_DELIVERY_FAILED,
    TRF_REFERRAL__COUNT
};
extern const char *const trf_referral_states[TRF_REFERRAL__COUNT + 1];

/* The law a consent is given under: trafficking.consents CHECK (legal_regime IN (...)). */
extern const char *const trf_consent_regimes[];

/*
 * How a person may be reached safely. trafficking.safe_contact.safe_channels
 * has no CHECK (routing rules test the words), so `safety set` is the only
 * gate; check_enums compares the list should a constraint ever be added.
 */
extern const char *const trf_safe_channels[];

/* An exploitation episode's kind: trafficking.exploitation_episodes CHECK (kind IN (...)). */
extern const char *const trf_episode_kinds[];

/* A determination's level: trafficking.determinations CHECK (level IN (...)). */
extern const char *const trf_determination_levels[];

/*
 * The trafficking a determination names: trafficking.determinations
 * CHECK (trafficking_type IN (...)).
 */
extern const char *const trf_trafficking_types[];

/* The index of the len bytes at word in values, or -1. */
int trf_enum_index(const char *const *values, const char *word, size_t len);

/*
 * values joined by sep into buf (truncated to len - 1 bytes, always
 * terminated): "phone, sms, email". Returns buf.
 */
char *trf_enum_join(const char *const *values, const char *sep, char *buf, size_t len);

#endif /* TRF_CLI_ENUMS_H */
