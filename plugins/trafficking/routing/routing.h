/*
 * routing.h: referral routing of the trafficking plugin: the destinations and
 * routing rules configuration, the input facts routing looks at, the decision
 * it makes (with every rule's trace and every destination's reason), and the
 * JSON forms under which inputs and decisions are stored and replayed.
 *
 * Pure computation: never does I/O beyond reading the two configuration files
 * and the FILE* a caller hands in, never touches the database, and never sends
 * anything. Whatever leaves the system leaves through the outbox, which the
 * database side fills from a decision.
 *
 * destinations.cfg (libconfig):
 *   destinations = (
 *     { id = "le_ca"; name = "California law enforcement"; kind = "law_enforcement";
 *       jurisdiction = { states = ["CA"]; counties = ["Los Angeles"]; };  # counties optional
 *         # or jurisdiction = { any = true; };
 *       channel = { type = "spool"; spool_dir = "../../var/spool/le_ca"; };
 *         # or { type = "webhook"; url = "https://..."; secret_file = "...";
 *         #      client_cert = "..."; client_key = "..."; }   (mutual TLS: both or neither)
 *         # or { type = "command"; command = "/usr/local/bin/send-referral"; }
 *       fields = ["case_id", "age", ...];   # minimum necessary: routing_field names
 *       needs_consent = true;       # a consent-basis referral needs a covering consent
 *       contacts_person = false;    # the destination contacts the person directly
 *       ack_sla_hours = 24;         # 1..720
 *       escalate_to = "none";       # or a destination id
 *     }, ...
 *   );
 * Every member is required: no hidden defaults. A relative spool_dir,
 * secret_file, client_cert or client_key is taken relative to the folder of
 * destinations.cfg. A webhook url is https://, or http:// only to a loopback
 * host (routing/webhook_url.h); a literal `secret` is accepted only with a
 * loopback url (tests and demos): anything else names a secret_file. A
 * destination with needs_consent = false may be referred only on a legal basis
 * (mandatory_report or imminent_danger): a consent-basis rule that can reach it
 * is a configuration error, because nothing leaves without consent or a
 * recorded legal basis (DOMAIN rule 6).
 *
 * routing.cfg (libconfig):
 *   rules = (
 *     { name = "imminent_danger"; priority = 10; when = "imminent_danger";
 *       refer = ["emergency_911"];           # ids and/or "kind:law_enforcement"
 *       basis = "imminent_danger";           # consent | mandatory_report | imminent_danger
 *       urgency = "immediate"; due_hours = 1; # immediate (<= 1h), 24h, 72h, routine
 *       stop = false; purpose = "...";        # purpose optional: the consent purpose required
 *       note = "DOMAIN: imminent danger overrides every other flow";  # note optional
 *       instruction = "CALL 911 NOW: someone is in danger."; },      # instruction optional
 *   );
 *       due_from = "runaway_start"; },      # optional: what due_hours count from
 *   child_welfare_age = ( { states = ["CA"]; age = 21; } );   # optional; 18 elsewhere
 * purpose, note, instruction and due_from are optional; every other member is required.
 * due_from (rules/facts.h enum facts_due_from: now, runaway_start,
 * runaway_return) makes the deadline run from the case's event, never later
 * than the decision plus due_hours: a missing-child report recorded a day
 * late is overdue at once. child_welfare_age (18 to 26) is the age up to
 * which a state's child welfare serves young people: the facts
 * child_welfare_age and under_child_welfare_age; it adds services, never a
 * mandatory report.
 * Rules run in ascending priority (lower first); two rules with one priority
 * are an error, so the order is always written down. "kind:x" refers every
 * destination of kind x that serves the case's jurisdiction.
 *
 * stop ends the evaluation of later rules on basis consent only: a rule on a
 * legal basis (mandatory_report, imminent_danger) is evaluated whatever
 * matched before it, so no rule can swallow a duty. An emergency is the first
 * step of a decision, never its end.
 *
 * instruction is what a person must do at once when the rule matches (one
 * line of at most ROUTING_MAX_INSTRUCTION bytes, no control characters). A
 * decision carries the instructions of every matching rule, in priority
 * order, and everything that shows a decision to a person shows them first,
 * as an alert of severity danger.
 *
 * Rule functions (besides the fixed facts of facts.h; `event` is always null here):
 *   indicator("item_id")   bool: the latest finished screening marked item_id a concern
 *                          (null when there is no screening)
 *   domain_score("domain") num:  that screening's concern weight in a domain
 *                          (control, recruitment, conditions, sex_trafficking, labour,
 *                          minors, health; null when there is no screening)
 *   consent("purpose")     bool: an active consent with that purpose exists
 *   safe_channel("name")   bool: the person has that safe contact channel
 * The fact `disclosure` is true when a current screening stopped on a
 * disclosure; the screening facts (result, band, score: the latest
 * screening's; disclosure) are null without one.
 *
 * Evidence (rules/facts.h "Evidence"): what the current screenings' concern
 * answers establish, each read through the evidence classes of its own
 * instrument version (routing_input_evidence: their union; an earlier
 * version's come from its class-mapping file, so a stored screening replays
 * as it was):
 *   evidence("class")      bool: commercial_sex, force, fraud, coercion,
 *                          labour_exploitation, risk or disclosure
 *   ffc                    bool: force, fraud or coercion
 *   risk_count             num:  risk items with a concern
 *   disclosure_kind        str:  "sex", "labour", "both", "unclear"; null without one
 * All are null without a screening, and when its version is not loaded.
 * Domain scores are for reporting; the shipped policy never reads them.
 */
#ifndef TRF_ROUTING_H
#define TRF_ROUTING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <libconfig.h>

#include "cfg/cfgread.h"
#include "rules/facts.h"
#include "screening/instrument.h"
#include "cfg/report.h"
#include "rules/rule.h"

#define ROUTING_MAX_DUE_HOURS 720
#define ROUTING_MAX_SLA_HOURS 720
#define ROUTING_MAX_INSTRUCTION 300

/* ------------------------------------------------------------ vocabulary --- */

enum routing_kind {
    ROUTING_KIND_EMERGENCY = 0,
    ROUTING_KIND_LAW_ENFORCEMENT,
    ROUTING_KIND_CHILD_WELFARE,
    ROUTING_KIND_TASK_FORCE,
    ROUTING_KIND_HOTLINE,
    ROUTING_KIND_HHS_OTIP,
    ROUTING_KIND_FORENSIC_INTERVIEW,
    ROUTING_KIND_NGO_SHELTER,
    ROUTING_KIND_LEGAL_AID,
    ROUTING_KIND_MEDICAL,
    ROUTING_KIND_VICTIM_SERVICES,
    ROUTING_KIND_ASSESSMENT,               /* the agency's own CSEC / child-welfare assessment */
    ROUTING_KIND_ADULT_FORENSIC_INTERVIEW, /* adults: never a children's advocacy centre */
    ROUTING_KIND_LABOUR_INVESTIGATION,     /* a labour disclosure's investigation */
    ROUTING_KIND_MISSING_CHILD,            /* missing-child reports: NCIC entry by police, NCMEC */
    ROUTING_KIND_YOUNG_ADULT_SERVICES, /* child welfare's services for 18 to child_welfare_age */
    ROUTING_KIND__COUNT
};

enum routing_channel_type {
    ROUTING_CHANNEL_WEBHOOK = 0,
    ROUTING_CHANNEL_COMMAND,
    ROUTING_CHANNEL_SPOOL,
    ROUTING_CHANNEL__COUNT
};

enum routing_basis {
    ROUTING_BASIS_CONSENT = 0,
    ROUTING_BASIS_MANDATORY_REPORT,
    ROUTING_BASIS_IMMINENT_DANGER,
    ROUTING_BASIS__COUNT
};

/* Each urgency caps due_hours: immediate 1, 24h 24, 72h 72, routine 720. */
enum routing_urgency {
    ROUTING_URGENCY_IMMEDIATE = 0,
    ROUTING_URGENCY_24H,
    ROUTING_URGENCY_72H,
    ROUTING_URGENCY_ROUTINE,
    ROUTING_URGENCY__COUNT
};

/* State a decision gives a referral; the lifecycle after that is the database's. */
enum routing_state {
    ROUTING_STATE_QUEUED = 0,
    ROUTING_STATE_PENDING_CONSENT,
    ROUTING_STATE__COUNT
};

/*
 * The fixed vocabulary of fields a destination may receive ("minimum
 * necessary"). Bit i of a fields mask is field i. Never renumber: masks are
 * only held in memory, names are what is stored.
 */
enum routing_field {
    ROUTING_FIELD_CASE_ID = 0,
    ROUTING_FIELD_AGENCY,
    ROUTING_FIELD_PERSON_NAME,   /* identifying */
    ROUTING_FIELD_DATE_OF_BIRTH, /* identifying */
    ROUTING_FIELD_AGE,
    ROUTING_FIELD_AGE_BASIS, /* known / estimated / unknown */
    ROUTING_FIELD_GENDER,
    ROUTING_FIELD_LANGUAGE,
    ROUTING_FIELD_INTERPRETER_NEEDED,
    ROUTING_FIELD_NATIONALITY_STATUS, /* restricted */
    ROUTING_FIELD_STATE,
    ROUTING_FIELD_COUNTY,
    ROUTING_FIELD_LOCATION, /* identifying: where the person is now */
    ROUTING_FIELD_SCREENING_INSTRUMENT,
    ROUTING_FIELD_SCREENING_RESULT,
    ROUTING_FIELD_SCREENING_BAND,
    ROUTING_FIELD_INDICATORS,
    ROUTING_FIELD_TRAFFICKING_TYPE,
    ROUTING_FIELD_IMMINENT_DANGER,
    ROUTING_FIELD_URGENCY,
    ROUTING_FIELD_BASIS,
    ROUTING_FIELD_SAFE_CONTACT, /* identifying: safe channels and times */
    ROUTING_FIELD_CASEWORKER,
    ROUTING_FIELD_CASEWORKER_PHONE,
    ROUTING_FIELD__COUNT
};

typedef uint32_t routing_fields; /* one bit per enum routing_field */

/* Static names ("law_enforcement", "webhook", "mandatory_report", "24h",
 * "pending_consent", "person_name"); NULL when out of range. */
const char *routing_kind_name(enum routing_kind k);
const char *routing_channel_type_name(enum routing_channel_type t);
const char *routing_basis_name(enum routing_basis b);
const char *routing_urgency_name(enum routing_urgency u);
const char *routing_state_name(enum routing_state s);
const char *routing_field_name(enum routing_field f);
/* Index of a name in the tables above, or -1. */
int routing_kind_lookup(const char *name);
int routing_channel_type_lookup(const char *name);
int routing_basis_lookup(const char *name);
int routing_urgency_lookup(const char *name);
int routing_state_lookup(const char *name);
int routing_field_lookup(const char *name);
/* Longest due_hours an urgency allows. */
int routing_urgency_max_hours(enum routing_urgency u);

/*
 * A new JSON array of the names of the fields in mask, in enum order (for
 * referrals.fields). Caller owns the reference (json_decref); NULL without memory.
 */
json_t *routing_fields_to_json(routing_fields mask);

/* --------------------------------------------------------- configuration --- */

/*
 * A new field in the structures of this section is packed in
 * cache/cfgcache.c too: a compiled configuration must decide exactly as the
 * files do.
 */

struct routing_jurisdiction {
    int any;       /* serves every state */
    char **states; /* two-letter codes, upper case */
    size_t n_states;
    char **counties; /* optional: only these counties of those states; 0 = all */
    size_t n_counties;
};

/* A path of a channel that its file wrote relative (to the destinations folder). */
enum routing_path_bit {
    ROUTING_PATH_SECRET_FILE = 1u,
    ROUTING_PATH_CLIENT_CERT = 2u,
    ROUTING_PATH_CLIENT_KEY = 4u,
    ROUTING_PATH_SPOOL_DIR = 8u,
};

struct routing_channel {
    enum routing_channel_type type;
    char *url;         /* webhook */
    char *secret;      /* webhook: literal secret, or NULL */
    char *secret_file; /* webhook: path resolved against the destinations folder, or NULL */
    char *client_cert; /* webhook, optional mutual TLS: PEM certificate path (resolved), or NULL */
    char *client_key;  /* webhook: its PEM private key path (resolved); set with client_cert */
    char *command;     /* command */
    char *spool_dir;   /* spool: path resolved against the destinations folder */
    unsigned written_relative; /* enum routing_path_bit: which paths were written relative */
};

struct routing_destination {
    char *id;
    char *name;
    enum routing_kind kind;
    struct routing_jurisdiction jurisdiction;
    struct routing_channel channel;
    routing_fields fields;
    int needs_consent;
    int contacts_person;
    int ack_sla_hours;
    int escalate_to; /* index into routing_config.destinations, or -1 for none */
    int line;
};

/* One entry of a rule's refer list: a destination, or every destination of a kind. */
struct routing_target {
    int destination;        /* index into routing_config.destinations, or -1 */
    enum routing_kind kind; /* the kind when destination is -1, else that destination's */
};

struct routing_rule {
    char *name;
    int priority;
    struct rule_prog *when;
    struct routing_target *refer;
    size_t n_refer;
    enum routing_basis basis;
    enum routing_urgency urgency;
    int due_hours;
    int stop;
    char *purpose; /* consent purpose a consent-basis referral needs, or NULL: any purpose */
    char *note;    /* optional prose shown in explanations, or NULL */
    int line;
    char *instruction;            /* what a person must do at once when the rule matches, or NULL */
    enum facts_due_from due_from; /* the time due_hours counts from */
};

/* Child welfare serves young people up to age (exclusive) in these states. */
struct routing_cw_age {
    char **states;
    size_t n_states;
    int age;
    int line;
};

struct routing_config {
    struct routing_destination *destinations; /* file order */
    size_t n_destinations;
    struct routing_rule *rules; /* ascending priority */
    size_t n_rules;
    struct routing_cw_age *cw_ages; /* routing.cfg child_welfare_age, file order */
    size_t n_cw_ages;
    struct facts_resolver resolver; /* slots of the calls in every rule's `when` */
    char *destinations_path;
    char *routing_path;
    char hash[CFGREAD_HASH_LEN + 1]; /* SHA-256 over both files' text, lowercase hex */
    /*
     * The instruments given to routing_config_load_checked (borrowed: the
     * caller keeps them alive as long as the configuration), or NULL. Each
     * screening is routed with the evidence classes of its own instrument
     * version, read from here (routing_input_evidence).
     */
    const struct instrument_set *instruments;
    /* A set this configuration owns (a candidate folder's), freed with it; or NULL. */
    struct instrument_set *own_instruments;
};

/*
 * Loads and validates both files, reporting every problem through report
 * (may be NULL) as file:line[:col] (cfgread's order: by line in each file).
 * instruments, when not NULL, is borrowed for the configuration's life: to check that every
 * indicator("x") names an item of some instrument; NULL accepts any identifier.
 * Returns 0 and *out (caller frees with routing_config_free), or -1 with *out
 * NULL. Paths are copied.
 */
int routing_config_load(const char *destinations_path, const char *routing_path,
                        trf_report_fn report, void *ud, struct routing_config **out);
int routing_config_load_checked(const char *destinations_path, const char *routing_path,
                                const struct instrument_set *instruments, trf_report_fn report,
                                void *ud, struct routing_config **out);
void routing_config_free(struct routing_config *cfg);

/* Index of a destination id, or -1. */
int routing_config_destination(const struct routing_config *cfg, const char *id);

/* The age up to which child welfare serves in state ("" unknown): 18 unless configured. */
int routing_child_welfare_age(const struct routing_config *cfg, const char *state);

/* 1 when d serves state/county ("" when unknown), else 0. */
int routing_destination_serves(const struct routing_destination *d, const char *state,
                               const char *county);

/* ------------------------------------------------------------------ time --- */

/*
 * A point in time: microseconds since 1970-01-01T00:00:00Z, UTC (PostgreSQL
 * keeps microseconds, so a time read from the database compares as the
 * database compares it). ROUTING_TIME_NONE: absent.
 */
typedef int64_t routing_time;
#define ROUTING_TIME_NONE INT64_MIN
#define ROUTING_TIME_LEN 32 /* "2026-11-02T10:00:00.123456Z" and its NUL, with room */

/*
 * Reads s: a date "YYYY-MM-DD" (its midnight, UTC) or a UTC time
 * "YYYY-MM-DDTHH:MM:SSZ" (optionally with 1 to 6 digits of fractions:
 * "...:SS.123456Z"). Computes the calendar itself (no timegm, no time
 * zone). Returns NULL and *out, or a static message saying what is wrong
 * ("no such day in that month").
 */
const char *routing_time_parse(const char *s, routing_time *out);
/* t as "YYYY-MM-DDTHH:MM:SSZ" (with ".ffffff" when not whole seconds) in buf; returns buf. */
const char *routing_time_format(routing_time t, char *buf, size_t len);
/* The UTC date of t, "YYYY-MM-DD", in buf; returns buf. */
const char *routing_time_date(routing_time t, char *buf, size_t len);
/* The clock now. The only place routing reads it: an input without `now` is decided now. */
routing_time routing_time_now(void);

/* ----------------------------------------------------------------- input --- */

struct routing_consent {
    int64_t id;
    char *purpose;
    char **recipients; /* destination ids or "kind:x" */
    size_t n_recipients;
    int active; /* granted, not expired and not revoked at decision time */
    /* When known (ROUTING_TIME_NONE: not given). active is derived from them at `now`. */
    routing_time granted_at, expires_at, revoked_at;
};

/* A person's active refusal of a recipient (sql/trafficking/007: trafficking.declines). */
struct routing_decline {
    int64_t id;
    char *recipient; /* a destination id or "kind:x" */
    routing_time declined_at;
};

/*
 * An earlier referral of the case or of its person's other cases, with what
 * told it apart when it was made (trafficking.ledger_entries): what the
 * report ledger holds a new referral against.
 */
struct routing_ledger_entry {
    int64_t referral;
    int64_t case_id;
    char *destination;
    char kind[32]; /* "" when not given */
    enum routing_basis basis;
    char state[24];       /* pending_consent, queued, sent, acknowledged, ... closed */
    routing_time episode; /* the runaway episode it was for; NONE: none */
    char **evidence;      /* evidence classes it carried ("commercial_sex", ...) */
    size_t n_evidence;
    int64_t disclosure;        /* the screening that stopped on a disclosure, or 0 */
    routing_time delivered_at; /* NONE: not delivered */
    char outbox[16];           /* its outbox row's state (failed, held, ...), "" when none */
};

/* One finished screening of the case (the `screenings` member). */
struct routing_screening {
    int64_t id;
    char instrument[64];
    int version;
    char result[16];
    char band[32];
    double score;
    int stopped; /* stopped on a disclosure */
    routing_time finished_at;
    char **indicators; /* item ids answered with a concern */
    size_t n_indicators;
};

/*
 * Everything routing looks at, as plain data. Strings in fixed arrays are
 * NUL-terminated ("" when unknown); pointers are owned by the input and freed
 * by routing_input_release. Initialise with routing_input_init.
 */
struct routing_input {
    int64_t case_id;
    /* age: minor and pathway are derived, never stored (unknown age is a minor) */
    int age;           /* whole years (an estimate's low end), -1 when unknown */
    int age_known;     /* from a date of birth */
    int age_estimated; /* from an estimate only */
    int age_high;      /* an estimate's high end; -1: the same as age */
    int age_disputed;  /* someone disputes the recorded age (possibly a minor) */
    /* the earliest recorded exploitation episode: its start and the age range then */
    struct {
        int present;
        char from[16]; /* YYYY-MM-DD */
        int age;       /* low end, -1 when the age is unknown */
        int age_high;  /* -1: the same as age */
    } exploitation;
    int missing;          /* a runaway episode started and has no return */
    char agency_kind[64]; /* the case's agency's kind ("" when unknown) */
    char gender[64];
    char state[8];
    char county[128];
    /* case flags */
    int foreign_national;
    int imminent_danger;
    int recruitment;
    int control;
    int runaway_return;
    int runaway_episodes;
    int cw_history;
    int jj_history;
    /* the latest finished (completed or stopped) screening */
    struct {
        int present;
        int64_t id;
        char instrument[64];
        int version;
        char result[16]; /* negative, possible, positive, incomplete */
        char band[32];
        double score;
        int stopped; /* stopped on a disclosure */
    } screening;
    char **indicators; /* item ids answered with a concern */
    size_t n_indicators;
    double domain_score[INSTRUMENT_DOMAIN__COUNT]; /* meaningful when screening.present */
    struct routing_consent *consents;
    size_t n_consents;
    struct {
        int do_not_contact;
        int trafficker_controls_phone;
        char **safe_channels; /* "sms", "email", "in_person", ... */
        size_t n_safe_channels;
    } safe_contact;
    /*
     * The whole picture: what the report ledger holds a decision against.
     * Each is optional in the written forms, and absent errs toward
     * protecting the person (see "Members of the whole picture" below).
     */
    routing_time now;     /* the decision time; NONE: the clock (routing_input_now) */
    routing_time episode; /* the case's current runaway episode start; NONE: none */
    struct routing_decline *declines;
    size_t n_declines;
    struct routing_ledger_entry *ledger;
    size_t n_ledger;
    /* The current (not superseded) finished screenings, newest first; screening is the first. */
    struct routing_screening *screenings;
    size_t n_screenings;
};

/* Zeroes in; age -1; now and episode ROUTING_TIME_NONE. */
void routing_input_init(struct routing_input *in);
/* Frees what in owns and re-initialises it. */
void routing_input_release(struct routing_input *in);

/* Copies id (0 or -1 without memory). */
int routing_input_add_indicator(struct routing_input *in, const char *item_id);
/* Copies purpose and recipients; recipients[0 .. n-1] are copied. 0 or -1. */
int routing_input_add_consent(struct routing_input *in, int64_t id, const char *purpose,
                              const char *const *recipients, size_t n, int active);
int routing_input_add_safe_channel(struct routing_input *in, const char *channel);

/*
 * The case facts of in (age and pathway, gender, place, runaway, history,
 * flags) into their slots of facts, the one place they are filled: routing
 * and screening triggers read a case the same way. Strings are borrowed.
 */
void routing_input_case_facts(const struct routing_input *in, struct rule_value *facts);

/*
 * 1 when the input puts the case on a minor pathway: under 18, or possibly
 * (unknown, disputed, or a range reaching under 18): screening/scoring.h "Age".
 */
int routing_input_minor(const struct routing_input *in);
/* "minor", "adult", "minor_unknown_age" or "possibly_minor" (static). */
const char *routing_input_pathway(const struct routing_input *in);
/*
 * 1 when exploitation began (possibly) under 18: the age range at the
 * earliest recorded episode reaches under 18 or is unknown; without a
 * recorded episode, routing_input_minor (the exploitation is taken as now).
 * It decides the determination (a 19-year-old exploited at 16 was a child
 * victim); the age now decides consent and recipients.
 */
int routing_input_exploited_as_minor(const struct routing_input *in);
/* The age facts (scoring_age_fill's, exploitation_age, exploited_as_minor) into facts. */
void routing_input_age_facts(const struct routing_input *in, struct rule_value *facts);

/*
 * The input as JSON (what decisions.input stores). Caller owns the reference
 * (json_decref); NULL without memory. Shape:
 *   {"case_id":1,"age":15|null,"age_known":true,"age_estimated":false,
 *    "gender":"female","state":"CA","county":"Alameda",
 *    "flags":{"foreign_national":false,...},"runaway_episodes":0,
 *    "screening":null|{"id":3,"instrument":"youth_quick","version":1,"result":"positive",
 *                      "band":"positive","score":2,"stopped":false},
 *    "indicators":["paid_for_sex"],"domain_scores":{"sex_trafficking":1,...},
 *    "consents":[{"id":7,"purpose":"referral","recipients":["kind:hotline"],"active":true}],
 *    "safe_contact":{"do_not_contact":false,"trafficker_controls_phone":true,
 *                    "safe_channels":["email"]}}
 * and, written only when they say something (absent: the default in
 * brackets, which errs toward protecting the person):
 *    "age_high":21 [age: a single number], "age_disputed":true [false],
 *    "exploitation":{"from":"2023-03-01","age":16|null,"age_high":16|null}
 *      [none: the exploitation is taken as now; an unknown age then is
 *      possibly a minor then], "missing":true [false],
 *    "agency_kind":"child_welfare" [unknown: no duty that depends on it]
 *
 * Members of the whole picture: what the report ledger holds a decision
 * against (routing_ledger_judge). All optional, written only when not the
 * default so stored inputs stay small; JSON null is the same as absent. An
 * absent member errs toward protecting the person. Times are UTC,
 * "YYYY-MM-DDTHH:MM:SSZ" (or a date "YYYY-MM-DD": its midnight), see
 * routing_time_parse.
 *   "now":"2026-11-02T10:00:00Z"
 *       the decision time. Default: the clock when the input is read (consents)
 *       and when the ledger judges (declines).
 *   consents[]: "granted_at", "expires_at", "revoked_at"
 *       with any of them "active" may be left out: it is derived at now as
 *       granted_at <= now < expires_at and not revoked at or before now. A
 *       grant or expiry not given counts against it (nothing leaves without a
 *       consent shown to be in force); no revoked_at is not revoked. Given
 *       beside them, "active" settles only what they leave open (a time not
 *       given, or one in the same second as now, since written times may have
 *       lost their fractions); a time that contradicts it is an error.
 *   "declines":[{"id":4,"recipient":"kind:law_enforcement","declined_at":"..."}]
 *       the person's active declines, every member required. Default: none.
 *   "ledger":[{"referral":14,"case":3,"destination":"le_ca","kind":"law_enforcement",
 *              "basis":"mandatory_report","state":"closed","episode":null,
 *              "evidence":["commercial_sex"],"disclosure":null,
 *              "delivered_at":"2026-11-02T10:00:00Z","outbox":"sent"}]
 *       earlier referrals of the case and of its person's other cases.
 *       referral, destination, basis and state are required; case defaults
 *       to the input's case_id, kind to unknown, episode to none, evidence
 *       to no class, disclosure to none, delivered_at to not delivered (a
 *       report never counts as told unless its delivery is given), outbox to
 *       none. Default: an empty ledger (nothing reported yet: every report is
 *       made).
 *   "episode":"2026-11-20T12:00:00Z"
 *       the case's current runaway episode start. Default: none.
 *   "screenings":[{"id","instrument","version","result","band","score","stopped",
 *                  "finished_at","indicators":[...]}]
 *       the case's current (not superseded) finished screenings, newest first
 *       (finished_at optional). "screening" and "indicators" are then the
 *       first entry's: absent, or equal to it (an error otherwise).
 *       Default: the one "screening". How they combine: routing_input_evidence.
 */
json_t *routing_input_to_json(const struct routing_input *in);

/* The decision time of in: its `now`, or the clock when it has none. */
routing_time routing_input_now(const struct routing_input *in);

/*
 * Reads the shape above into out (initialised here; release it also on
 * failure). Unknown keys, wrong types and unknown names are errors. Returns 0,
 * or -1 with a message naming the key in err.
 */
int routing_input_from_json(const json_t *j, struct routing_input *out, char *err, size_t errlen);

/*
 * Reads a libconfig group with the same members as the JSON shape (flags as a
 * group of bools, screening as a group or absent, age absent or -1 when
 * unknown; libconfig has no null: a time or a disclosure is absent, or
 * "" and 0) into out (initialised here; release it also on failure). Problems
 * are reported through r with file:line. Returns 0, or -1 when anything was
 * reported.
 */
int routing_input_from_setting(struct cfgread *r, const config_setting_t *group,
                               struct routing_input *out);

/* -------------------------------------------------------------- decision --- */

struct routing_rule_result {
    char *name;
    int priority;
    int evaluated; /* 0: an earlier rule matched and stopped */
    int matched;
    int stopped; /* matched and has stop */
    char *trace; /* rule_explain text ("" when not evaluated) */
    char *note;  /* the rule's note (why, in words), or NULL */
};

struct routing_referral {
    char *destination; /* id */
    enum routing_kind kind;
    char *rule;
    enum routing_basis basis;
    enum routing_urgency urgency;
    int due_hours;
    enum facts_due_from due_from;
    int ack_sla_hours;
    routing_fields fields;
    int64_t consent_id; /* the consent used, or 0 */
    enum routing_state state;
    char *reason; /* why this basis and state: "consent 7 covers 'kind:hotline'" */
};

/* A destination a rule pointed at but that was not used, and why. */
struct routing_unused {
    char *destination; /* id, or NULL when no destination of the kind serves the case */
    enum routing_kind kind;
    char *rule;
    char *reason; /* "wrong jurisdiction: serves CA, case is in NV", "unsafe channel: ..." */
};

/* Everything is owned by the decision; release with routing_decision_release. */
struct routing_decision {
    int64_t case_id;
    char config_hash[CFGREAD_HASH_LEN + 1];
    struct routing_rule_result *rules; /* every configured rule, in priority order */
    size_t n_rules;
    struct routing_referral *referrals; /* in the order they were made */
    size_t n_referrals;
    struct routing_unused *unused;
    size_t n_unused;
    /* The instructions of the matching rules, in priority order, each text once. */
    char **instructions;
    size_t n_instructions;
};

void routing_decision_init(struct routing_decision *d);
void routing_decision_release(struct routing_decision *d);

/*
 * Evaluates every rule of cfg (borrowed) over in (borrowed) in priority order
 * into out (initialised here; release it also on failure):
 *  - a rule that matches and has stop ends the evaluation of later rules on
 *    basis consent (recorded as not evaluated); later rules on a legal basis
 *    are evaluated all the same: a stop never swallows a duty;
 *  - a matching rule's instruction is added to out->instructions (each text once);
 *  - a destination is referred at most once: the first rule that reaches it
 *    wins, later ones are recorded as unused ("already referred by rule 'x'");
 *  - "kind:x" reaches every destination of kind x serving the case's state and
 *    county; an explicit id that does not serve it is unused (wrong jurisdiction);
 *  - basis consent: needs an active consent whose recipients name the
 *    destination id or "kind:<its kind>" (and whose purpose is the rule's
 *    purpose, when it names one), else the referral is pending_consent;
 *    mandatory_report and imminent_danger are queued whatever the consent;
 *  - contacts_person destinations are unused when the person must not be
 *    contacted or the trafficker controls the phone and no safe channel exists.
 * Returns 0, or -1 without memory (out is then incomplete).
 */
int routing_decide(const struct routing_config *cfg, const struct routing_input *in,
                   struct routing_decision *out);

/*
 * The decision as JSON. Caller owns the reference; NULL without memory.
 *   {"case_id":1,"config_hash":"...",
 *    "rules":[{"name","priority","evaluated","matched","stopped","trace","note":"..."|null}],
 *    "outcome":{"instructions":["CALL 911 NOW: ..."],
 *               "referrals":[{"destination","kind","rule","basis","urgency","due_hours",
 *                             "ack_sla_hours","fields":[...],"consent_id":7|null,"state",
 *                             "reason"}],
 *               "not_used":[{"destination":"x"|null,"kind","rule","reason"}]}}
 * decisions.rules stores "rules" and decisions.outcome stores "outcome".
 */
json_t *routing_decision_to_json(const struct routing_decision *d);

/*
 * Reads the shape above (as stored: give {"rules": ..., "outcome": ...};
 * case_id and config_hash may be absent, and so may a rule's note and the
 * outcome's instructions, which decisions stored before them lack) into out
 * (initialised here; release it also on failure). Returns 0, or -1 with a
 * message in err.
 */
int routing_decision_from_json(const json_t *j, struct routing_decision *out, char *err,
                               size_t errlen);

/*
 * Prints d readably to f, for admins: the instructions, each rule with
 * matched / no match / not evaluated and its trace (so false sub-conditions
 * show), then each referral with its basis, state, due and fields, then each
 * unused destination with its reason.
 */
void routing_explain_text(const struct routing_decision *d, FILE *f);

/*
 * Where a referral of a decision stands now, when the caller knows (route
 * explain reads it from the database). Strings are borrowed; due and sent
 * are display times ("" or NULL when unknown or not sent).
 */
struct routing_referral_now {
    const char *destination;
    const char *state;  /* pending_consent, queued, sent, acknowledged, ... */
    const char *due;    /* when it is due */
    const char *sent;   /* when it was sent, or NULL */
    const char *reason; /* of a rejection or revocation, or NULL */
};

/*
 * What a person acts on, from decision d (borrowed), for people first:
 *   {"instructions":["CALL 911 NOW: ..."],
 *    "referrals":[{"destination","name","kind","state","basis","due","sent","why"}],
 *    "waiting_for_consent":[{"destination","name","kind","due","why"}],
 *    "not_sent":[{"destination":"x"|null,"name","kind","why"}]}
 * "referrals" are those made (queued, sent, acknowledged, ...), "not_sent"
 * also those rejected or revoked. "why" is one line: the rule's note (or its
 * name) and what the basis means for it. "name" is the destination's name in
 * cfg (borrowed, may be NULL: null). now[0 .. n_now - 1] (may be NULL) says
 * where each destination's referral stands; without it the decision's own
 * state and "within N h" are shown. A destination a rule could not use but
 * another did is no "not sent". Caller owns the reference; NULL without memory.
 */
json_t *routing_summary(const struct routing_decision *d, const struct routing_config *cfg,
                        const struct routing_referral_now *now, size_t n_now);

/*
 * Prints a routing_summary to f as a few lines a person can act on (without
 * the instructions, which the caller raises as alerts so they come first).
 */
void routing_summary_text(const json_t *summary, FILE *f);

/*
 * Compares the referrals of a (before) and b (after) by destination and prints
 * one line per referral added, removed or changed to f (may be NULL):
 * "+ le_nv ...", "- hotline ...", "~ cw_ca: basis consent -> mandatory_report;
 * due 72h -> 24h". Compared: rule, basis, urgency, due_hours, state, fields,
 * consent_id; then one line per instruction added or dropped ("+ instruction:
 * CALL 911 NOW ..."). Returns the number of lines (0: the same referrals and
 * instructions).
 */
int routing_decision_diff(const struct routing_decision *a, const struct routing_decision *b,
                          FILE *f);

/* ------------------------------------------------------- shared-internal --- */

/* The functions routing rules may call: the fn index of a struct facts_call. */
enum routing__fn {
    ROUTING__FN_INDICATOR = 0,
    ROUTING__FN_DOMAIN_SCORE,
    ROUTING__FN_CONSENT,
    ROUTING__FN_SAFE_CHANNEL,
    ROUTING__FN_COUNT
};
extern const struct facts_fn routing__fns[ROUTING__FN_COUNT];

/* ------------------------------------------------------------ evidence --- */

/*
 * What the input's screenings establish, from instruments (borrowed; a
 * configuration's cfg->instruments). Each screening is read through the
 * evidence classes of its own instrument version (0 is the highest loaded):
 * in->screenings when given, else the one in->screening with in->indicators.
 *
 * Several screenings combine as a child-protection lead reads a file
 * (DOMAIN "repeat screens that disagree"): the evidence is the union over
 * the current (not superseded: a correction replaces what it corrects, and
 * only current screenings are listed) screenings (screening/evidence.h,
 * evidence_of_screenings), so a later negative screen never erases earlier
 * evidence; a disclosure in any of them stays a disclosure, its kind the
 * join of theirs; a risk item counts once however often it was answered.
 * The screening facts (result, band, score, indicator(), domain scores) are
 * the latest's alone.
 *
 * Returns 1 and fills *out, or 0 when that cannot be known: no screening, no
 * instruments, or the latest screening's version is not loaded (the
 * evidence facts are then null, never false). An earlier screening whose
 * version is not loaded adds nothing: what cannot be read never hides what
 * can (routing_input_check_screening refuses such a case file or fixture).
 */
int routing_input_evidence(const struct routing_input *in, const struct instrument_set *instruments,
                           struct facts_evidence_set *out);

/*
 * 0 when the input's screenings can be read with instruments (borrowed):
 * each one's instrument version is loaded and every indicator is an item of
 * it (or there is no screening, or no instruments to check against); else -1
 * with a message in err ("screenings[1]: instrument 'adult' version 3 is not
 * loaded"). A case
 * file or fixture that fails this would be routed with unknown evidence.
 */
int routing_input_check_screening(const struct routing_input *in,
                                  const struct instrument_set *instruments, char *err,
                                  size_t errlen);

/*
 * The screening facts of in into facts[0 .. FACTS__COUNT-1] (band, result
 * and score of the latest screening; disclosure, true when any current
 * screening stopped on one; the evidence facts through
 * routing_input_evidence); all stay null without a screening. Strings are
 * borrowed from in.
 */
void routing_input_screening_facts(const struct routing_input *in,
                                   const struct instrument_set *instruments,
                                   struct rule_value *facts);

/*
 * "sex", "labour", "sex_and_labour" or "undetermined": what the evidence of
 * in (as routing_input_evidence reads it) says the trafficking is, for the
 * referral payload. Risk alone is undetermined. Static string.
 */
const char *routing_input_trafficking_type(const struct routing_input *in,
                                           const struct instrument_set *instruments);

/*
 * The evidence of in (as routing_input_evidence reads it) as a new JSON list
 * of what a report can be about: the class names it establishes, such as
 * ["commercial_sex", "coercion"]. Risk is left out (never what a report is
 * about), and so is disclosure (the ledger knows a disclosure by the
 * screening that stopped on it). JSON null when the evidence cannot be
 * known. What the report ledger records per report. Caller owns the
 * reference; NULL without memory.
 */
json_t *routing_input_evidence_json(const struct routing_input *in,
                                    const struct instrument_set *instruments);

/*
 * The classes of routing_input_evidence_json as a mask (0 when the evidence
 * cannot be known): what the report ledger records a report is about.
 */
facts_evidence_mask routing_input_report_classes(const struct routing_input *in,
                                                 const struct instrument_set *instruments);

/*
 * The screening a decision's reports take as their disclosure, as the
 * database's decision_store_body takes it: the latest screening when it
 * stopped on a disclosure, else 0. (An earlier disclosure still routes as a
 * disclosure, routing_input_evidence; the ledger has it under its screening.)
 */
int64_t routing_input_disclosure(const struct routing_input *in);

/* -------------------------------------------------------- report ledger --- */

/*
 * What the report ledger does with each referral a decision proposes,
 * computed as trafficking.report_verdict (sql/trafficking/007_ledger.sql)
 * computes it, with the same one-line reason, so a person reads one sentence
 * whichever surface shows it. The SQL stays authoritative (it decides under
 * a lock when the decision is stored); this is what `route what-if` and
 * `routing test` show. Dates in reasons are UTC dates.
 */
enum routing_verdict_action {
    ROUTING_VERDICT_NEW = 0,          /* first report; new evidence, disclosure or episode: made */
    ROUTING_VERDICT_OPEN,             /* an undelivered referral to it stands: not doubled */
    ROUTING_VERDICT_REPLACES,         /* a legal basis takes over an undelivered consent one */
    ROUTING_VERDICT_ALREADY_REPORTED, /* delivered for this episode with these classes */
    ROUTING_VERDICT_DECLINED,         /* consent-based, to a recipient the person declined */
    ROUTING_VERDICT__COUNT
};

/* "new", "open", "replaces", "already_reported", "declined" (static; NULL out of range). */
const char *routing_verdict_action_name(enum routing_verdict_action a);
int routing_verdict_action_lookup(const char *name);
/*
 * 1 when a referral with this verdict goes on (new, open, replaces), 0 when
 * it is not made (already_reported, declined).
 */
int routing_verdict_made(enum routing_verdict_action a);

/* Strings are owned by the verdict: routing_verdict_release. */
struct routing_verdict {
    char *destination;
    enum routing_basis basis;
    char *rule;
    enum routing_verdict_action action;
    int64_t referral; /* the ledger's referral it stands on, replaces or repeats; 0: none */
    char *reason;  /* one line: "already reported to le_ca on 2026-11-02 (referral 14, closed)" */
    char *decline; /* a decline the law overrides, in words; or NULL */
};

void routing_verdict_release(struct routing_verdict *v);

/*
 * The verdict on referral rf (borrowed) proposed for in (borrowed: its
 * case_id, now, episode, consents, declines and ledger), whose decision
 * carries evidence classes `evidence` (routing_input_report_classes; risk
 * and disclosure bits are ignored) and disclosure `disclosure` (a screening
 * id, 0: none; routing_input_disclosure). In the order of report_verdict:
 * a consent-based referral to a declined recipient is declined (a legal
 * basis only notes the decline); an undelivered referral of this case to the
 * destination stands (open) or, consent-based under a legal-basis proposal,
 * is replaced; one of another case of the person for the same episode and
 * basis stands; a delivery for this episode and basis already told these
 * classes and this disclosure (already_reported), else the new ones make a
 * new report; otherwise new: "first report" or a new episode. Fills out
 * (release it also on failure); 0, or -1 without memory.
 */
int routing_ledger_judge(const struct routing_input *in, facts_evidence_mask evidence,
                         int64_t disclosure, const struct routing_referral *rf,
                         struct routing_verdict *out);

/* The verdicts on every referral of a decision, in its order. */
struct routing_ledger {
    struct routing_verdict *verdicts;
    size_t n_verdicts;
};

void routing_ledger_init(struct routing_ledger *l);
void routing_ledger_release(struct routing_ledger *l);

/*
 * Judges every referral of d (borrowed), decided from in (borrowed) under
 * cfg (borrowed: its instruments give the evidence classes), into out
 * (initialised here; release it also on failure). 0, or -1 without memory.
 */
int routing_ledger_of(const struct routing_config *cfg, const struct routing_input *in,
                      const struct routing_decision *d, struct routing_ledger *out);

/*
 * The verdicts in the shape of decisions.ledger:
 *   [{"destination","basis","rule","action","referral","reason","decline"}]
 * with "referral" and "decline" left out when there is none. Caller owns
 * the reference; NULL without memory.
 */
json_t *routing_ledger_to_json(const struct routing_ledger *l);

#endif /* TRF_ROUTING_H */
