/*
 * casehost/plugin.h: the one contract between the casehost host and its plugins.
 *
 * A plugin includes this header (plus libpq and libconfig headers) and nothing
 * else of the host. It exports exactly one function, CH_PLUGIN_ENTRY, which
 * returns a descriptor; everything else reaches it through struct ch_host_api.
 *
 * Compatibility rules (SQLite's): struct ch_host_api is append-only and starts
 * with its size. Adding a member bumps CH_ABI_MINOR; removing or changing one
 * bumps CH_ABI_MAJOR. A host loads a plugin built for the same major and an
 * equal or older minor. Members added after 1.0 are marked "since 1.1"; a
 * plugin checks CH_API_HAS(api, member) for each it uses (a 1.0 plugin never
 * sees them). Structures a plugin passes to the host start with their size
 * too (ch_command_spec, ch_question), except the 1.0 ones noted below, which
 * are frozen until 2.0.
 *
 * The whole contract is here: this header, and the SQL surface below
 * (CH_SQL_SURFACE_V1), which is all a plugin's SQL may name in schema
 * casehost.
 */
#ifndef CASEHOST_PLUGIN_H
#define CASEHOST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>
#include <libpq-fe.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CH_ABI_MAJOR 1
#define CH_ABI_MINOR 2

/* The single symbol a plugin exports. */
#define CH_PLUGIN_ENTRY casehost_plugin_entry
#define CH_PLUGIN_ENTRY_NAME "casehost_plugin_entry"

#if defined(__GNUC__)
#define CH_PLUGIN_EXPORT __attribute__((visibility("default")))
#define CH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CH_PLUGIN_EXPORT
#define CH_PRINTF(f, a)
#endif

/*
 * Outcomes of plugin callbacks. CH_DECLINED means "not for me, carry on"
 * (for example a plugin with nothing configured); CH_ERROR means the
 * operation failed and the plugin has said why with api->fail().
 */
enum ch_rc {
    CH_OK = 0,
    CH_DECLINED = 1,
    CH_ERROR = -1,
    CH_USAGE = -2, /* a command was called wrongly; the host prints its usage */
    /*
     * A command did its work (committed like CH_OK) and found something a
     * person must look at now: the host exits 3, so cron alerts. Commands
     * only; a host before it reads it as a failure (exit 1).
     */
    CH_ATTENTION = 3,
};

enum ch_log_level { CH_LOG_DEBUG, CH_LOG_INFO, CH_LOG_WARN, CH_LOG_ERROR };

enum ch_event {
    CH_EV_CASE_CREATED,
    CH_EV_CASE_UPDATED,
    CH_EV_NOTE_ADDED,
    CH_EV_CASE_CLOSED,
    CH_EV_TICK,
    CH_EV__COUNT
};

/*
 * One changed case field; a NULL value is SQL NULL. Passed as an array
 * (ch_event_data.changes), so its layout is frozen until ABI 2.0.
 */
struct ch_change {
    const char *field;
    const char *old_value;
    const char *new_value;
};

/* What a hook is told. Everything is borrowed for the duration of the call. */
struct ch_event_data {
    size_t size; /* sizeof(struct ch_event_data) of the host */
    enum ch_event kind;
    int64_t case_id;                 /* 0 for CH_EV_TICK */
    int64_t note_id;                 /* CH_EV_NOTE_ADDED only, else 0 */
    const struct ch_change *changes; /* CH_EV_CASE_UPDATED/CLOSED; else NULL */
    size_t n_changes;
};

/* The acting user; borrowed, valid for the whole invocation. */
struct ch_user {
    int64_t id;
    const char *name;
    const char *role; /* "caseworker", "supervisor" or "admin" */
    int64_t agency_id;
    const char *agency_name;
};

struct ch_plugin; /* host-owned handle of one loaded plugin */
struct ch_ctx;    /* host-owned context of one invocation (command, hook, render) */

/*
 * A hook runs inside the transaction of the change that fired it (the case
 * write and every row the hook writes commit together), after the change's
 * own rows are written and before COMMIT. CH_ERROR (after api->fail) rolls
 * the whole change back and the person sees the message; CH_OK and
 * CH_DECLINED let it commit. A hook may read and write through api->conn,
 * but must not COMMIT, ROLLBACK, SET ROLE or open another connection, must
 * not block on the outside world (no network: referrals leave through the
 * outbox), and must not ask the person anything.
 */
typedef int (*ch_hook_fn)(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud);
/*
 * An untyped (ABI 1.0) command: argv[0] is the verb ("screen"), argv[1..]
 * its arguments, --json removed; the command parses them itself. New
 * plugins register typed commands (ch_command_spec) instead.
 */
typedef int (*ch_command_fn)(struct ch_ctx *ctx, int argc, char **argv, void *ud);
/* Adds a section to `case show` through the ctx output functions. */
typedef int (*ch_render_fn)(struct ch_ctx *ctx, int64_t case_id, void *ud);
/* (since 1.2) Adds a section to `person show` through the ctx output functions. */
typedef int (*ch_person_render_fn)(struct ch_ctx *ctx, int64_t person_id, void *ud);
/*
 * A plugin's deploy check (since 1.1), run by `config check` and `config
 * deploy` on the candidate configuration the plugin was just started with.
 * It runs the plugin's own fixtures and returns CH_ERROR (after api->fail)
 * when any fails. Under `config deploy` api->conn(ctx) is the deploy's
 * transaction and generation_hash the generation being made live: the plugin
 * records there, through its own functions, what the generation allows.
 * Under `config check` there is no connection (conn is NULL) and the hash "".
 */
typedef int (*ch_deploy_fn)(struct ch_ctx *ctx, const char *generation_hash, void *ud);

/* How the host runs a command. */
enum ch_command_flags {
    /*
     * The host logs the user in but opens no transaction: the command runs
     * its own (for long-running work such as a dispatcher). The host rolls
     * back whatever is left open when it returns.
     */
    CH_CMD_OWN_TX = 1u << 0,
    /*
     * (since 1.1) The command needs no database (it reads files only, such
     * as a what-if on a case file): the host opens no session and the
     * command runs with no connection and no user. api->conn returns NULL,
     * api->user a zeroed user (id 0, every name NULL), api->audit fails.
     * It runs on the plugins' configuration on disk (config_root() is
     * config_dir()), never on the live generation. A plugin's command flags
     * are known only after its init, which runs on the live generation when
     * a database answers: the host then closes that connection (no session
     * was opened, no user read) and starts the plugins again from the files
     * on disk before the command runs. Such a command may
     * declare no CH_ARG_DATE or CH_ARG_TIMESTAMP argument (the database
     * checks those); the host refuses to run one that does. A host older
     * than the flag ignores it and runs the command with a session.
     */
    CH_CMD_NO_DB = 1u << 1,
    /*
     * (since 1.1; a host before it ignores it) The command only shows: it
     * changes nothing but the audit log (a sensitive read is audited). A web
     * page runs it on a plain GET (a link); any other command runs only from
     * a form posted with the session's CSRF token.
     */
    CH_CMD_VIEW = 1u << 2,
    /*
     * (since 1.1; ignored before) With CH_CMD_VIEW and no required
     * argument: part of a person's home page ("My work" on the web), run
     * as them, such as the screenings due or the referrals that need them.
     */
    CH_CMD_HOME = 1u << 3,
    /*
     * (since 1.2; a host before it ignores it) With CH_CMD_VIEW: a report.
     * Its queries only read aggregates, so the host may run it on the
     * reports connection (a streaming replica, the host config's `reports`
     * group) in a read-only transaction as the same person; api->audit
     * still writes to the primary. The host says what time the data is
     * as of. A report must not write anything but its audit record.
     * Without a reports group (or when the host falls back to the primary
     * as configured) api->conn is the primary's, as for any view.
     */
    CH_CMD_REPORT = 1u << 4,
};

/* (since 1.2) How a chart draws an array of objects the command emitted. */
enum ch_chart_kind {
    CH_CHART_BARS = 0,           /* one bar per row, its series stacked */
    CH_CHART_SMALL_MULTIPLES = 1 /* one small bar panel per value of facet */
};

/*
 * (since 1.2) A chart of the array the command emitted under key (at the
 * root). Every member is borrowed for the call. The table stays beside the
 * chart on a page (a chart is never the only form of a figure).
 */
struct ch_chart {
    size_t size; /* sizeof(struct ch_chart) */
    enum ch_chart_kind kind;
    const char *title;         /* one sentence: the chart's title and description */
    const char *x;             /* the member naming each bar (a period, a destination) */
    const char *const *series; /* NULL-terminated integer members, stacked in order */
    const char *facet;         /* CH_CHART_SMALL_MULTIPLES: the member splitting panels */
};

/* An ABI 1.0 command. It has no size member and can never grow: see ch_command_spec. */
struct ch_command {
    const char *verb;  /* one word, unique across host and plugins */
    const char *help;  /* one line */
    const char *usage; /* "screen start CASE [--instrument ID]\n..." */
    ch_command_fn run;
    void *ud;
    unsigned flags; /* enum ch_command_flags; 0: one transaction, committed on CH_OK */
};

/* ------------------------------------------------ typed commands (since 1.1) --- */

/*
 * A typed command declares its arguments; the host parses argv for it (one
 * parser, one set of messages), prints its usage and `help VERB` from the
 * same table, checks dates and times with the database's one rule before the
 * handler runs, and hands the handler typed values. A web form is generated
 * from the same table. A wrong call never reaches the handler: the host says
 * what is wrong ("screen start: case: 'abc' is not an id"), prints the usage
 * and exits 2.
 */
enum ch_arg_type {
    CH_ARG_ID = 1,    /* a positive 64-bit id, digits only: value.num */
    CH_ARG_INT,       /* a whole number >= min, <= max (max 0: no bound): value.num */
    CH_ARG_TEXT,      /* any text without control characters: value.text */
    CH_ARG_DATE,      /* a date (YYYY-MM-DD or 'today'), checked by the database */
    CH_ARG_TIMESTAMP, /* a date and time ('now' allowed), checked by the database */
    CH_ARG_ENUM,      /* one of values: value.num is its index, value.text the word */
    CH_ARG_BOOL,      /* an option: bare, or followed by yes|no: value.num 1 or 0 */
    CH_ARG_FILE,      /* a path, '-' for standard input: value.text */
};

enum ch_arg_flags {
    CH_ARG_REQUIRED = 1u << 0, /* must be given */
    CH_ARG_REPEAT = 1u << 1,   /* may be given more than once (a positional: the last one) */
};

/* One positional argument ("case") or option ("--instrument"). */
struct ch_arg {
    const char *name; /* positional: lower-case word; option: "--word" */
    enum ch_arg_type type;
    unsigned flags;   /* enum ch_arg_flags */
    const char *help; /* one line, for `help VERB` and web forms */
    /*
     * CH_ARG_ENUM: the allowed words, NULL-terminated. CH_ARG_DATE and
     * CH_ARG_TIMESTAMP: words also allowed and passed on unchecked ("none"
     * to clear a date); NULL for none.
     */
    const char *const *values;
    const char *metavar; /* placeholder in usage; NULL: CASE, ID, N, TEXT, ... */
    long long min, max;  /* CH_ARG_INT bounds */
};

/*
 * What the handler is given: one value per declared argument, in the order of
 * the table. Frozen until ABI 2.0 (the handler indexes the array).
 */
struct ch_value {
    unsigned given;          /* times given (0 or 1 unless CH_ARG_REPEAT) */
    long long num;           /* ID, INT, ENUM (index), BOOL (0/1); 0 when not given */
    const char *text;        /* as typed (the last one if repeated); NULL when not given */
    const char *const *list; /* CH_ARG_REPEAT: all `given` values as typed; else NULL */
};

typedef int (*ch_typed_fn)(struct ch_ctx *ctx, const struct ch_value *args, void *ud);

struct ch_command_spec {
    size_t size;      /* sizeof(struct ch_command_spec) the plugin was built with */
    const char *verb; /* "screen"; unique to one plugin (or the host) */
    const char *sub;  /* "start"; NULL for a verb without subcommands */
    const char *help; /* one line: what this verb (and sub) does */
    const struct ch_arg *args;
    size_t n_args;
    size_t arg_size; /* sizeof(struct ch_arg) the plugin was built with */
    ch_typed_fn run;
    void *ud;
    unsigned flags;        /* enum ch_command_flags */
    const char *verb_help; /* one line for the verb in `help`; the first spec of a verb that
                              sets it wins */
};

/* Fills the size members of a spec for the table args (an array). */
#define CH_SPEC_ARGS(args) (args), sizeof(args) / sizeof((args)[0]), sizeof((args)[0])

/* ------------------------------------------------- output nodes (since 1.1) --- */

/* How urgent an alert is; the host renders danger so no one can miss it. */
enum ch_severity { CH_SEV_INFO, CH_SEV_WARNING, CH_SEV_DANGER };

/*
 * One question of a step form: the person answers it with one of choices
 * (NULL: free text). A form is a step of a longer conversation (a screening
 * with skip logic): submitting it runs the form's command with each answer
 * appended as one more argument "ID=CHOICE", and that command's output holds
 * the next step (`screen step` works this way).
 */
struct ch_question {
    size_t size; /* sizeof(struct ch_question) */
    const char *id;
    const char *prompt;
    const char *const *choices; /* NULL-terminated; NULL: free text */
    const char *help;           /* NULL or a line for the interviewer */
};

/*
 * Services of the host. Members are only ever appended; a plugin checks
 * CH_API_HAS(api, member) before using a member added after 1.0 (each is
 * marked with the minor version that added it).
 */
struct ch_host_api {
    size_t size;
    unsigned abi_major;
    unsigned abi_minor;

    /* --- logging and configuration (any time after init starts) --- */
    void (*log)(struct ch_plugin *self, enum ch_log_level level, const char *fmt, ...)
        CH_PRINTF(3, 4);
    /* The plugin's own `settings` group from the host config; NULL if absent. */
    const config_setting_t *(*config)(struct ch_plugin *self);
    /* Directory of the host config file, to resolve relative paths. */
    const char *(*config_dir)(struct ch_plugin *self);
    /*
     * Reports a configuration error as "file:line[:col]: plugin: message" and
     * counts it; col 0 omits the column. The plugin keeps going to report
     * every error, then fails init/reload.
     */
    void (*config_error)(struct ch_plugin *self, const char *file, int line, int col,
                         const char *fmt, ...) CH_PRINTF(5, 6);

    /* --- registration (during init only) --- */
    /* Lower priority runs first; equal priorities run in registration order. */
    int (*hook)(struct ch_plugin *self, enum ch_event ev, int priority, ch_hook_fn fn, void *ud);
    int (*command)(struct ch_plugin *self, const struct ch_command *cmd);
    int (*render)(struct ch_plugin *self, int priority, ch_render_fn fn, void *ud);

    /* --- per invocation --- */
    /* The connection of the current transaction; borrowed. */
    PGconn *(*conn)(struct ch_ctx *ctx);
    const struct ch_user *(*user)(struct ch_ctx *ctx);
    /* Sets the message the user sees when the callback returns CH_ERROR. */
    void (*fail)(struct ch_ctx *ctx, const char *fmt, ...) CH_PRINTF(2, 3);
    /* Appends an audit record in the current transaction; 0 or -1. */
    int (*audit)(struct ch_ctx *ctx, const char *action, const char *object_type, int64_t object_id,
                 const char *detail);
    /* Non-zero when the caller asked for --json. */
    int (*json)(struct ch_ctx *ctx);
    /* Non-zero when stdin and stdout are a terminal (questions may be asked). */
    int (*interactive)(struct ch_ctx *ctx);

    /*
     * Structured output, rendered by the host as text or JSON. Keys are
     * ignored inside arrays. A NULL string value is JSON null / "-".
     */
    void (*out_object)(struct ch_ctx *ctx, const char *key);
    void (*out_array)(struct ch_ctx *ctx, const char *key);
    void (*out_end)(struct ch_ctx *ctx);
    void (*out_str)(struct ch_ctx *ctx, const char *key, const char *value);
    void (*out_int)(struct ch_ctx *ctx, const char *key, int64_t value);
    void (*out_bool)(struct ch_ctx *ctx, const char *key, int value);
    /* A line of prose for people: printed as text, collected under "messages" in JSON. */
    void (*out_message)(struct ch_ctx *ctx, const char *fmt, ...) CH_PRINTF(2, 3);
    /*
     * Every row of res as an object (one row, as_array 0) or an array of
     * objects; columns keep their names and types (bool, integers, json).
     */
    void (*out_result)(struct ch_ctx *ctx, const char *key, const PGresult *res, int as_array);

    /* --- since 1.1 --- */
    /*
     * Where the plugin reads its deployable configuration: relative paths of
     * its configuration files resolve against this directory, whose
     * <plugin name>/ folder is the generation. It is the host's copy of the
     * live generation when the database has one, the candidate folder under
     * `config deploy DIR` / `config check DIR`, and config_dir() otherwise.
     * Machine-local paths (spool directories, secret files) still resolve
     * against config_dir(). Valid for the plugin's lifetime.
     */
    const char *(*config_root)(struct ch_plugin *self);
    /* Registers the plugin's deploy check (during init only); see ch_deploy_fn. */
    int (*deploy_check)(struct ch_plugin *self, ch_deploy_fn fn, void *ud);
    /*
     * Registers a typed command (during init only). A verb (or verb and sub)
     * already taken by the host or another plugin refuses the plugin's load,
     * naming both. Every sub of one verb must come from the same plugin.
     */
    int (*command_typed)(struct ch_plugin *self, const struct ch_command_spec *spec);
    /* An alert: prose with a severity (the imminent-danger instruction is CH_SEV_DANGER). */
    void (*out_alert)(struct ch_ctx *ctx, enum ch_severity severity, const char *fmt, ...)
        CH_PRINTF(3, 4);
    /*
     * An action the person can take next: a command with prefilled arguments
     * (argv NULL-terminated, verb first), shown as a button on a page and as
     * the command line in a terminal.
     */
    void (*out_action)(struct ch_ctx *ctx, const char *label, const char *const *argv);
    /*
     * A step form: a title, questions, and the command (argv as for
     * out_action) that takes the answers and returns the next step.
     */
    void (*out_form)(struct ch_ctx *ctx, const char *key, const char *title,
                     const struct ch_question *questions, size_t n_questions,
                     const char *const *argv);

    /* --- since 1.2 --- */
    /*
     * Asks for a chart of the array already emitted under key at the root:
     * drawn as SVG on a web page (beside its table) and by `--svg FILE` in a
     * terminal; text and JSON output are unchanged by it.
     */
    void (*out_chart)(struct ch_ctx *ctx, const char *key, const struct ch_chart *chart);
    /*
     * Registers a section of a person's page (during init only), as render
     * does for a case: fn runs in `person show` (and so on the person's web
     * page) after the host's own fields, in the same transaction, sections
     * in priority order. A failing section fails the command.
     */
    int (*render_person)(struct ch_plugin *self, int priority, ch_person_render_fn fn, void *ud);
};

/* Non-zero when the host's api table has member (members after 1.0 need the check). */
#define CH_API_HAS(api, member)                                                                    \
    ((api)->size >= offsetof(struct ch_host_api, member) + sizeof((api)->member))

/* ------------------------------------------------------- the SQL surface --- */

/*
 * What a plugin's SQL (its C strings and its migrations) may read and call in
 * schema casehost: the names below, and nothing else of that schema. The
 * tables behind the views, the identity map and the host's own write
 * functions may change in any release; these do not. A name never changes
 * meaning: more columns or other behaviour come as a _v2 beside the _v1, and
 * CH_SQL_SURFACE_V2 will list the set that has them. Created by core
 * migration sql/core/007_plugin_surface.sql (the views) and earlier ones.
 *
 * Views, for people (casehost_app), never for services. They run as the
 * caller (security_invoker): grants and row-level security hold exactly as
 * on the tables, also inside a plugin's SECURITY DEFINER functions.
 *   plugin_case_v1    id, agency_id, title, status ('open', 'in_progress',
 *                     'waiting' or 'closed'), assignee_id (a plugin_user_v1),
 *                     subject_id (a plugin_person_v1, or NULL), state (two
 *                     capitals, or NULL), county, runaway_start,
 *                     runaway_return (timestamptz), cw_history, jj_history
 *                     (boolean), flags (text[]), created_at, updated_at,
 *                     closed_at
 *   plugin_person_v1  id, agency_id, given_name, family_name, date_of_birth,
 *                     estimated_age, estimated_on, age (whole years today:
 *                     from date_of_birth, else the estimate grown since
 *                     estimated_on; NULL when unknown), gender_identity,
 *                     language, interpreter_needed
 *   plugin_user_v1    id, agency_id, name (login name), full_name, role
 *                     ('caseworker', 'supervisor', 'admin' or 'service')
 * Functions (identity comes from the connected role, never from a parameter):
 *   current_user_v1()            the acting user as a casehost.identities row
 *                                (user_id, agency_id, kind, name, ...), all
 *                                NULL when the role is no user
 *   current_agency(), current_actor()   its agency id and user id, or NULL
 *   require_person(), require_kind(kinds text[], what text),
 *   require_config_admin()       the acting user, or an insufficient_privilege
 *                                error that says who may
 *   audit(action, object_type, object_id, detail)   an audit record by the
 *                                acting user, for reads and the plugin's writes
 *   case_check_v1(id), person_check_v1(id)   the id, or the same "not found"
 *                                for a missing one and one the caller may not see
 *   time_input_v1(field, value)  a date and time a person typed, or an
 *                                invalid_datetime_format error naming field
 *   agency_rls(schema, tables[]), case_rls(schema, tables[])   in migrations:
 *                                the host's row-level security on the plugin's
 *                                own tables (by agency_id; and by case_id)
 *   case_flag_declare_v1(flag, description, component)   in migrations: a
 *                                case flag the plugin reads (others are refused)
 *   case_flags_unknown_v1()      stored flags no component declares, with counts
 * Types: identities, as what current_user_v1() returns (the table itself is
 *   no one's to read).
 * Foreign-key targets, in a REFERENCES clause only (a key cannot point at a
 *   view): agencies(id), users(id), cases(id), people(id).
 */
#define CH_SQL_SURFACE_V1                                                                          \
    "plugin_case_v1 plugin_person_v1 plugin_user_v1 current_user_v1 current_agency "               \
    "current_actor require_person require_kind require_config_admin audit case_check_v1 "          \
    "person_check_v1 time_input_v1 agency_rls case_rls case_flag_declare_v1 "                      \
    "case_flags_unknown_v1 identities agencies(id) users(id) cases(id) people(id)"

/*
 * Surface v2 (core migration sql/core/009_age.sql): v1 and
 *   plugin_person_v2  v1's columns, then age_high (the high end of the age
 *                     range today: equal to age with a date of birth, the
 *                     estimate's upper bound grown since estimated_on, NULL
 *                     when unknown), estimated_by (who estimated, or NULL),
 *                     age_disputed (boolean), age_dispute_note
 *   plugin_agency_v1  id, name, kind (free text: 'child_welfare', ...),
 *                     state, county: an agency the caller may see
 *   person_age_on_v1(person, date)   OUT low, OUT high: the person's age
 *                     range in whole years on that date (NULLs when unknown)
 */
#define CH_SQL_SURFACE_V2 CH_SQL_SURFACE_V1 " plugin_person_v2 plugin_agency_v1 person_age_on_v1"

/*
 * Surface v3 (core migration sql/core/016_bridge_rt_writeback.sql): v2 and,
 * for a help desk linked to a case (the RT bridge), from the plugin's own
 * SECURITY DEFINER code only (granted to no role):
 *   case_is_external_v1(case)   true when the case has an external reference
 *   case_external_status_v1(case, source, status, attention)   publishes
 *                     neutral words about the case ("Assessment: done"; an
 *                     attention line, "action needed by DATE", also owes a
 *                     pointer comment). Kept, and owed to the case's tickets,
 *                     only when they change; refused unless short plain words.
 */
#define CH_SQL_SURFACE_V3 CH_SQL_SURFACE_V2 " case_is_external_v1 case_external_status_v1"

/* What CH_PLUGIN_ENTRY returns; static storage in the plugin. */
struct ch_plugin_desc {
    size_t size; /* sizeof(struct ch_plugin_desc) */
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *name; /* must match the name in the host config */
    const char *version;
    const char *description;
    /*
     * Reads config, registers hooks and commands. Returns CH_OK, CH_DECLINED
     * (nothing to do, plugin stays unloaded) or CH_ERROR after api->log or
     * api->config_error said why. *state is passed to reload and fini.
     */
    int (*init)(struct ch_plugin *self, const struct ch_host_api *api, void **state);
    /*
     * Re-reads configuration. On CH_ERROR the plugin must keep its previous
     * configuration working. May be NULL.
     */
    int (*reload)(struct ch_plugin *self, void *state);
    /* Releases state; also called after init declined or failed. May be NULL. */
    void (*fini)(void *state);

    /* --- since 1.1 --- */
    /*
     * The libconfig the plugin was compiled against (CH_PLUGIN_DESC_HEAD
     * fills them): config_setting_t crosses the boundary and libconfig's
     * accessors are macros over its layout, so a host linked with another
     * major or minor refuses the plugin as it refuses an ABI mismatch
     * (CH_PLUGIN_DESC_LIBCONFIG fills them).
     */
    uint16_t libconfig_major;
    uint16_t libconfig_minor;
};

typedef const struct ch_plugin_desc *(*ch_plugin_entry_fn)(void);

/* Fills the fixed head of a descriptor. */
#define CH_PLUGIN_DESC_HEAD sizeof(struct ch_plugin_desc), CH_ABI_MAJOR, CH_ABI_MINOR
/*
 * Fills its last members (since 1.1; a 1.1 plugin without them is refused):
 *   {CH_PLUGIN_DESC_HEAD, "name", "1.0", "what", init, reload, fini, CH_PLUGIN_DESC_LIBCONFIG}
 */
#define CH_PLUGIN_DESC_LIBCONFIG LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR

#ifdef __cplusplus
}
#endif

#endif /* CASEHOST_PLUGIN_H */
