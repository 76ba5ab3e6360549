/*
 * routing_vocab.c: the fixed names of routing: destination kinds, channels,
 * bases, urgencies, referral states and the fields a destination may receive.
 *
 * Names are what configurations and stored decisions use; never reorder or
 * rename one without a migration of stored JSON.
 */
#include "routing/routing.h"

#include <string.h>

static const char *const kind_names[ROUTING_KIND__COUNT] = {
    [ROUTING_KIND_EMERGENCY] = "emergency",
    [ROUTING_KIND_LAW_ENFORCEMENT] = "law_enforcement",
    [ROUTING_KIND_CHILD_WELFARE] = "child_welfare",
    [ROUTING_KIND_TASK_FORCE] = "task_force",
    [ROUTING_KIND_HOTLINE] = "hotline",
    [ROUTING_KIND_HHS_OTIP] = "hhs_otip",
    [ROUTING_KIND_FORENSIC_INTERVIEW] = "forensic_interview",
    [ROUTING_KIND_NGO_SHELTER] = "ngo_shelter",
    [ROUTING_KIND_LEGAL_AID] = "legal_aid",
    [ROUTING_KIND_MEDICAL] = "medical",
    [ROUTING_KIND_VICTIM_SERVICES] = "victim_services",
    [ROUTING_KIND_ASSESSMENT] = "assessment",
    [ROUTING_KIND_ADULT_FORENSIC_INTERVIEW] = "adult_forensic_interview",
    [ROUTING_KIND_LABOUR_INVESTIGATION] = "labour_investigation",
    [ROUTING_KIND_MISSING_CHILD] = "missing_child",
    [ROUTING_KIND_YOUNG_ADULT_SERVICES] = "young_adult_services",
};

static const char *const channel_names[ROUTING_CHANNEL__COUNT] = {
    [ROUTING_CHANNEL_WEBHOOK] = "webhook",
    [ROUTING_CHANNEL_COMMAND] = "command",
    [ROUTING_CHANNEL_SPOOL] = "spool",
};

static const char *const basis_names[ROUTING_BASIS__COUNT] = {
    [ROUTING_BASIS_CONSENT] = "consent",
    [ROUTING_BASIS_MANDATORY_REPORT] = "mandatory_report",
    [ROUTING_BASIS_IMMINENT_DANGER] = "imminent_danger",
};

static const char *const urgency_names[ROUTING_URGENCY__COUNT] = {
    [ROUTING_URGENCY_IMMEDIATE] = "immediate",
    [ROUTING_URGENCY_24H] = "24h",
    [ROUTING_URGENCY_72H] = "72h",
    [ROUTING_URGENCY_ROUTINE] = "routine",
};

static const int urgency_hours[ROUTING_URGENCY__COUNT] = {
    [ROUTING_URGENCY_IMMEDIATE] = 1,
    [ROUTING_URGENCY_24H] = 24,
    [ROUTING_URGENCY_72H] = 72,
    [ROUTING_URGENCY_ROUTINE] = ROUTING_MAX_DUE_HOURS,
};

static const char *const state_names[ROUTING_STATE__COUNT] = {
    [ROUTING_STATE_QUEUED] = "queued",
    [ROUTING_STATE_PENDING_CONSENT] = "pending_consent",
};

static const char *const field_names[ROUTING_FIELD__COUNT] = {
    [ROUTING_FIELD_CASE_ID] = "case_id",
    [ROUTING_FIELD_AGENCY] = "agency",
    [ROUTING_FIELD_PERSON_NAME] = "person_name",
    [ROUTING_FIELD_DATE_OF_BIRTH] = "date_of_birth",
    [ROUTING_FIELD_AGE] = "age",
    [ROUTING_FIELD_AGE_BASIS] = "age_basis",
    [ROUTING_FIELD_GENDER] = "gender",
    [ROUTING_FIELD_LANGUAGE] = "language",
    [ROUTING_FIELD_INTERPRETER_NEEDED] = "interpreter_needed",
    [ROUTING_FIELD_NATIONALITY_STATUS] = "nationality_status",
    [ROUTING_FIELD_STATE] = "state",
    [ROUTING_FIELD_COUNTY] = "county",
    [ROUTING_FIELD_LOCATION] = "location",
    [ROUTING_FIELD_SCREENING_INSTRUMENT] = "screening_instrument",
    [ROUTING_FIELD_SCREENING_RESULT] = "screening_result",
    [ROUTING_FIELD_SCREENING_BAND] = "screening_band",
    [ROUTING_FIELD_INDICATORS] = "indicators",
    [ROUTING_FIELD_TRAFFICKING_TYPE] = "trafficking_type",
    [ROUTING_FIELD_IMMINENT_DANGER] = "imminent_danger",
    [ROUTING_FIELD_URGENCY] = "urgency",
    [ROUTING_FIELD_BASIS] = "basis",
    [ROUTING_FIELD_SAFE_CONTACT] = "safe_contact",
    [ROUTING_FIELD_CASEWORKER] = "caseworker",
    [ROUTING_FIELD_CASEWORKER_PHONE] = "caseworker_phone",
};

/* A routing_fields mask must hold every field. */
_Static_assert(ROUTING_FIELD__COUNT <= 32, "routing_fields has 32 bits");

static const char *name_at(const char *const *names, int n, int i)
{
    return i >= 0 && i < n ? names[i] : NULL;
}

static int lookup(const char *const *names, int n, const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *routing_kind_name(enum routing_kind k)
{
    return name_at(kind_names, ROUTING_KIND__COUNT, (int)k);
}

const char *routing_channel_type_name(enum routing_channel_type t)
{
    return name_at(channel_names, ROUTING_CHANNEL__COUNT, (int)t);
}

const char *routing_basis_name(enum routing_basis b)
{
    return name_at(basis_names, ROUTING_BASIS__COUNT, (int)b);
}

const char *routing_urgency_name(enum routing_urgency u)
{
    return name_at(urgency_names, ROUTING_URGENCY__COUNT, (int)u);
}

const char *routing_state_name(enum routing_state s)
{
    return name_at(state_names, ROUTING_STATE__COUNT, (int)s);
}

const char *routing_field_name(enum routing_field f)
{
    return name_at(field_names, ROUTING_FIELD__COUNT, (int)f);
}

int routing_kind_lookup(const char *name)
{
    return lookup(kind_names, ROUTING_KIND__COUNT, name);
}

int routing_channel_type_lookup(const char *name)
{
    return lookup(channel_names, ROUTING_CHANNEL__COUNT, name);
}

int routing_basis_lookup(const char *name)
{
    return lookup(basis_names, ROUTING_BASIS__COUNT, name);
}

int routing_urgency_lookup(const char *name)
{
    return lookup(urgency_names, ROUTING_URGENCY__COUNT, name);
}

int routing_state_lookup(const char *name)
{
    return lookup(state_names, ROUTING_STATE__COUNT, name);
}

int routing_field_lookup(const char *name)
{
    return lookup(field_names, ROUTING_FIELD__COUNT, name);
}

int routing_urgency_max_hours(enum routing_urgency u)
{
    return (int)u >= 0 && u < ROUTING_URGENCY__COUNT ? urgency_hours[u] : 0;
}

json_t *routing_fields_to_json(routing_fields mask)
{
    json_t *a = json_array();
    for (int f = 0; a != NULL && f < ROUTING_FIELD__COUNT; f++) {
        if (!(mask & (1u << f)))
            continue;
        if (json_array_append_new(a, json_string(field_names[f])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
