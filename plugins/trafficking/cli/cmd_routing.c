/*
 * cmd_routing.c: the admin verbs `routing` (test FILE) and `route` (what-if),
 * each a table of subcommands so more can be added as one entry, and how a
 * decision is shown to a person (instructions first, then a summary).
 *
 * These two subcommands need no database and are registered with
 * CH_CMD_NO_DB: the host gives them no connection and no user, and the
 * plugin's configuration is the one on disk. They must never call
 * api->conn() or api->audit(). A subcommand added later that needs the
 * database is registered with CH_CMD_OWN_TX and opens its own transaction.
 */
#include "cli/cmd_routing.h"
#include "db/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "routing/routing_test.h"

/* Arguments of the routing verbs (one table each, same indexes). */
enum {
    R_FILE,
    R_CONFIG,
    R_CONFIG_DIR,
    R_CANDIDATE,
    R_TRACE,
    /* route what-if's case facts, typed instead of a case file */
    R_AGE,
    R_AGE_HIGH,
    R_AGE_KNOWN,
    R_STATE,
    R_COUNTY,
    R_FLAG,
    R_INDICATOR,
    R_RESULT,
    R_INSTRUMENT,
    R_INPUT = R_FILE
};

/*
 * The candidate folder: --config DIR or --config-dir DIR (the same); NULL:
 * the live one. A stored candidate (--candidate ID) arrives as --config: the
 * host copies it to a private folder first.
 */
static const char *config_dir_of(const struct ch_value *v)
{
    return v[R_CONFIG].given ? v[R_CONFIG].text : v[R_CONFIG_DIR].text;
}

/* Configuration and fixture problems, reported as the host reports configuration errors. */
struct report_ctx {
    struct trf *t;
    int n;
};

static void report(void *ud, const char *file, int line, int col, const char *msg)
{
    struct report_ctx *r = ud;
    r->n++;
    r->t->api->config_error(r->t->self, file, line, col, "%s", msg);
}

/* "a/b" into a new string; NULL without memory. */
static char *join_path(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

struct routing_config *trf_routing_config_open(struct trf *t, struct ch_ctx *ctx, const char *dir)
{
    struct routing_config *cfg = NULL;
    struct report_ctx rc = {.t = t};
    /*
     * Without a folder: the files of the configuration in force, as live
     * routing reads them (or, before one is loaded, the plugin's default folder).
     */
    int in_force = dir == NULL && t->cfg != NULL && t->cfg->routing != NULL;
    char *base =
        dir != NULL || in_force ? NULL : join_path(t->api->config_dir(t->self), "trafficking");
    const char *folder = dir != NULL ? dir : in_force ? "the configuration in force" : base;
    char *dpath = in_force ? strdup(t->cfg->routing->destinations_path)
                  : folder ? join_path(folder, "destinations.cfg")
                           : NULL;
    char *rpath = in_force ? strdup(t->cfg->routing->routing_path)
                  : folder ? join_path(folder, "routing.cfg")
                           : NULL;
    /*
     * A candidate folder's own instruments give the evidence classes its rules
     * read (a folder without instruments/ uses those in force).
     */
    struct instrument_set *own = NULL;
    char *idir = in_force || folder == NULL ? NULL : join_path(folder, "instruments");
    struct stat st;
    if (idir != NULL && stat(idir, &st) == 0 && S_ISDIR(st.st_mode) &&
        instrument_set_load(idir, report, &rc, &own) != 0)
        own = NULL;
    if (dpath == NULL || rpath == NULL)
        t->api->fail(ctx, "out of memory");
    else if (routing_config_load_checked(dpath, rpath,
                                         own != NULL ? own
                                         : t->cfg    ? t->cfg->instruments
                                                     : NULL,
                                         report, &rc, &cfg) != 0 ||
             rc.n > 0) {
        t->api->fail(ctx, "the routing configuration in '%s' has %d error%s (listed above)", folder,
                     rc.n, rc.n == 1 ? "" : "s");
        routing_config_free(cfg);
        cfg = NULL;
    }
    if (cfg != NULL)
        cfg->own_instruments = own;
    else
        instrument_set_free(own);
    free(idir);
    free(base);
    free(dpath);
    free(rpath);
    return cfg;
}

void trf_out_json(struct trf *t, struct ch_ctx *ctx, const char *key, const json_t *v)
{
    const char *k;
    json_t *m;
    size_t i;
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        t->api->out_object(ctx, key);
        json_object_foreach((json_t *)v, k, m) trf_out_json(t, ctx, k, m);
        t->api->out_end(ctx);
        break;
    case JSON_ARRAY:
        t->api->out_array(ctx, key);
        json_array_foreach(v, i, m) trf_out_json(t, ctx, NULL, m);
        t->api->out_end(ctx);
        break;
    case JSON_STRING:
        t->api->out_str(ctx, key, json_string_value(v));
        break;
    case JSON_INTEGER:
        t->api->out_int(ctx, key, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        /* The host's output has no real numbers: whole ones stay numbers. */
        if (json_real_value(v) == (double)(int64_t)json_real_value(v)) {
            t->api->out_int(ctx, key, (int64_t)json_real_value(v));
        } else {
            snprintf(num, sizeof(num), "%g", json_real_value(v));
            t->api->out_str(ctx, key, num);
        }
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        t->api->out_bool(ctx, key, json_is_true(v));
        break;
    default:
        t->api->out_str(ctx, key, NULL);
        break;
    }
}

/* ------------------------------------------------ a decision for people --- */

/* Each line of text as one message: in JSON a list of lines, in text the lines. */
static void out_lines(struct trf *t, struct ch_ctx *ctx, char *text)
{
    for (char *line = text, *nl; line != NULL && *line != '\0'; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        t->api->out_message(ctx, "%s", line);
    }
}

/* What fn prints to a FILE, as messages; -1 without memory. */
static int out_printed(struct trf *t, struct ch_ctx *ctx, void (*fn)(const void *, FILE *),
                       const void *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return -1;
    fn(arg, f);
    if (fclose(f) != 0) {
        free(text);
        return -1;
    }
    out_lines(t, ctx, text);
    free(text);
    return 0;
}

static void print_summary(const void *summary, FILE *f)
{
    routing_summary_text(summary, f);
}

static void print_trace(const void *d, FILE *f)
{
    routing_explain_text(d, f);
}

/*
 * One line per referral the decision proposed, saying what the report
 * ledger made of it: not made (already reported), not referred (declined),
 * a new report and why, or the open one that stands.
 */
static void out_ledger(struct trf *t, struct ch_ctx *ctx, const json_t *ledger)
{
    size_t i;
    json_t *n;
    if (json_array_size(ledger) == 0)
        return;
    t->api->out_message(ctx, "Report ledger (what became of each report this decision proposed):");
    json_array_foreach(ledger, i, n)
    {
        const char *dest = json_string_value(json_object_get(n, "destination"));
        const char *action = json_string_value(json_object_get(n, "action"));
        const char *reason = json_string_value(json_object_get(n, "reason"));
        const char *decline = json_string_value(json_object_get(n, "decline"));
        int not_made = action != NULL && strcmp(action, "already_reported") == 0;
        if (reason == NULL)
            reason = action != NULL ? action : "?";
        t->api->out_message(ctx, "  %s: %s%s%s%s", dest != NULL ? dest : "?",
                            not_made ? "not made: " : "", reason, decline != NULL ? "; " : "",
                            decline != NULL ? decline : "");
    }
}

int trf_out_decision(struct trf *t, struct ch_ctx *ctx, const struct routing_decision *d,
                     const struct routing_config *cfg, const struct routing_referral_now *now,
                     size_t n_now, json_t *ledger, const char *heading, const char *trace_hint,
                     int trace)
{
    json_t *summary = routing_summary(d, cfg, now, n_now);
    int rc = 0;
    if (summary == NULL || (ledger != NULL && json_object_set(summary, "ledger", ledger) != 0)) {
        json_decref(summary);
        return -1;
    }
    /* The first thing a person reads: what to do at once (the host prints alerts first). */
    for (size_t i = 0; i < d->n_instructions; i++)
        t->api->out_alert(ctx, CH_SEV_DANGER, "%s", d->instructions[i]);
    if (t->api->json(ctx)) {
        trf_out_json(t, ctx, "summary", summary);
    } else {
        if (heading != NULL)
            t->api->out_message(ctx, "%s", heading);
        rc = out_printed(t, ctx, print_summary, summary);
        if (rc == 0)
            out_ledger(t, ctx, ledger);
        if (rc == 0 && trace) {
            t->api->out_message(ctx, "%s", "");
            rc = out_printed(t, ctx, print_trace, d);
        } else if (rc == 0 && trace_hint != NULL)
            t->api->out_message(ctx, "%s", trace_hint);
    }
    json_decref(summary);
    return rc;
}

/* --------------------------------------------------------- routing test --- */

/*
 * The fixtures to run: FILE, else the candidate folder's own
 * routing-tests.cfg, else those of the configuration in force. NULL after
 * saying why; caller frees.
 */
static char *fixtures_of(struct trf *t, struct ch_ctx *ctx, const struct ch_value *v)
{
    const char *dir = config_dir_of(v);
    char *path = NULL;
    if (v[R_FILE].text != NULL)
        path = strdup(v[R_FILE].text);
    else if (dir != NULL)
        path = join_path(dir, "routing-tests.cfg");
    else if (t->cfg != NULL && t->cfg->fixtures_path != NULL)
        path = strdup(t->cfg->fixtures_path);
    else {
        t->api->fail(ctx, "routing test: no fixtures: give FILE, or a configuration that has "
                          "routing-tests.cfg");
        return NULL;
    }
    if (path == NULL)
        t->api->fail(ctx, "out of memory");
    return path;
}

/* Writes text with each occurrence of path shown as file. */
static void put_shown(const char *text, const char *path, const char *file, FILE *to)
{
    size_t n = strlen(path);
    for (const char *at; (at = strstr(text, path)) != NULL; text = at + n) {
        fwrite(text, 1, (size_t)(at - text), to);
        fputs(file, to);
    }
    fputs(text, to);
}

/*
 * The heading line of each fixture that differs ("fixture 'x' (file:8): 1
 * difference"), each on a line of its own after a newline, path shown as
 * file; "" when there is none.
 */
static void failing_fixtures(const char *text, const char *path, const char *file, char *buf,
                             size_t len)
{
    size_t n = 0, plen = strlen(path);
    buf[0] = '\0';
    for (const char *line = text; line != NULL && *line != '\0' && n + 1 < len;) {
        const char *nl = strchr(line, '\n'), *at;
        size_t k = nl != NULL ? (size_t)(nl - line) : strlen(line);
        if (strncmp(line, "fixture ", 8) == 0) {
            n += (size_t)snprintf(buf + n, len - n, "\n");
            at = strstr(line, path);
            if (at != NULL && at < line + k) {
                n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%.*s%s", (int)(at - line),
                                      line, file);
                k -= (size_t)(at - line) + plen;
                line = at + plen;
            }
            if (n < len)
                n += (size_t)snprintf(buf + n, len - n, "%.*s", (int)k, line);
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
}

static int routing_test_cmd(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    struct routing_test_result res;
    struct report_ctx rep = {.t = t};
    struct routing_config *cfg;
    char *path = fixtures_of(t, ctx, v), *text = NULL;
    size_t len = 0;
    FILE *diffs;
    /* Messages name the fixtures as given, or as the folder names them. */
    const char *file = v[R_FILE].text != NULL                     ? v[R_FILE].text
                       : path != NULL && config_dir_of(v) != NULL ? "routing-tests.cfg"
                                                                  : path;
    int rc;
    if (path == NULL)
        return CH_ERROR;
    if ((cfg = trf_routing_config_open(t, ctx, config_dir_of(v))) == NULL) {
        free(path);
        return CH_ERROR;
    }
    /* A failing run shows no host output, only the error: the differences go out now. */
    diffs = open_memstream(&text, &len);
    rc = diffs != NULL ? routing_test_run(cfg, path, diffs, report, &rep, &res) : -1;
    if (diffs != NULL && fclose(diffs) == 0 && text != NULL)
        put_shown(text, path, file, t->api->json(ctx) ? stderr : stdout);
    if (diffs == NULL) {
        t->api->fail(ctx, "out of memory");
    } else if (rc < 0) {
        t->api->fail(ctx, "fixture file '%s' has %d error%s (listed above); nothing was run", file,
                     rep.n, rep.n == 1 ? "" : "s");
    } else if (rc > 0) {
        /* Which fixtures, in the message too: a web page shows the message alone. */
        char which[1200];
        failing_fixtures(text, path, file, which, sizeof(which));
        t->api->fail(ctx, "%d of %d routing fixture%s do not match (configuration %.12s)%s",
                     res.failed, res.fixtures, res.fixtures == 1 ? "" : "s", cfg->hash, which);
    } else {
        t->api->out_str(ctx, "fixtures_file", file);
        t->api->out_str(ctx, "config_hash", cfg->hash);
        t->api->out_int(ctx, "fixtures", res.fixtures);
        t->api->out_int(ctx, "failed", 0);
        t->api->out_message(ctx, "all %d routing fixtures match", res.fixtures);
    }
    routing_config_free(cfg);
    free(path);
    free(text);
    return rc == 0 ? CH_OK : CH_ERROR;
}

/* ------------------------------------------------------- route what-if --- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/*
 * Reads a case file: JSON (*.json, the shape of routing_input_to_json, as a
 * decision stores it) or libconfig with a `case` group. 0, or -1 after
 * reporting through the host.
 */
static int read_case_file(struct trf *t, struct ch_ctx *ctx, const char *path,
                          struct routing_input *in)
{
    static const char *const top[] = {"case", NULL};
    struct report_ctx rep = {.t = t};
    int rc = -1;
    routing_input_init(in);
    if (ends_with(path, ".json")) {
        json_error_t e;
        char err[300], *text = NULL;
        size_t len = 0;
        json_t *j = NULL;
        /* Read through the plugin's one file reader: the same size cap as every config file. */
        if (cfgread_read_file(path, &text, &len, err, sizeof(err)) != 0)
            t->api->fail(ctx, "%s: %s", path, err);
        else if ((j = json_loadb(text, len, 0, &e)) == NULL)
            t->api->fail(ctx, "%s:%d:%d: %s", path, e.line, e.column, e.text);
        else if (routing_input_from_json(j, in, err, sizeof(err)) != 0)
            t->api->fail(ctx, "%s: %s", path, err);
        else
            rc = 0;
        json_decref(j);
        free(text);
        return rc;
    }
    struct cfgread r = {.file = path, .report = report, .ud = &rep};
    config_t c;
    char *text = NULL;
    size_t len = 0;
    char hash[CFGREAD_HASH_LEN + 1];
    config_init(&c);
    if (cfgread_load(&r, &c, &text, &len, hash) == 0) {
        cfgread_members(&r, config_root_setting(&c), NULL, top);
        const config_setting_t *g =
            cfgread_aggregate(&r, config_root_setting(&c), NULL, "case", 1, CONFIG_TYPE_GROUP);
        if (g != NULL && routing_input_from_setting(&r, g, in) == 0 && r.errors == 0)
            rc = 0;
    }
    cfgread_flush(&r);
    free(text);
    config_destroy(&c);
    if (rc != 0)
        t->api->fail(ctx, "case file '%s' has errors (listed above)", path);
    return rc;
}

/* The case flags a what-if takes (routing_input.c reads them under "flags"). */
static const char *const what_if_flags[] = {
    "foreign_national", "imminent_danger", "recruitment", "control",
    "runaway_return",   "cw_history",      "jj_history",  NULL};
static const char *const what_if_results[] = {"negative", "possible", "positive", NULL};

/* 1 when any case fact is given as an option. */
static int facts_given(const struct ch_value *v)
{
    for (int i = R_AGE; i <= R_INSTRUMENT; i++)
        if (v[i].given)
            return 1;
    return 0;
}

/*
 * The case facts given as options, in the shape a stored decision keeps its
 * input, read by the one reader of case files (routing_input_from_json), so
 * a form and a file say the same thing. 0, or -1 after saying why.
 */
static int read_case_facts(struct trf *t, struct ch_ctx *ctx, const struct ch_value *v,
                           struct routing_input *in)
{
    json_t *j = json_object(), *flags = json_object(), *ind = json_array();
    char err[300];
    int rc = -1;
    if (v[R_RESULT].given != (v[R_INSTRUMENT].given != 0)) {
        t->api->fail(ctx, "route what-if: a screening result needs its instrument "
                          "(--result with --instrument)");
        goto out;
    }
    json_object_set_new(j, "case_id", json_integer(0));
    /* An age is an estimate unless a date of birth gives it (--age-known). */
    if (v[R_AGE].given) {
        json_object_set_new(j, "age", json_integer(v[R_AGE].num));
        json_object_set_new(j, "age_known", json_boolean(v[R_AGE_KNOWN].num != 0));
        json_object_set_new(j, "age_estimated", json_boolean(v[R_AGE_KNOWN].num == 0));
    }
    if (v[R_AGE_HIGH].given)
        json_object_set_new(j, "age_high", json_integer(v[R_AGE_HIGH].num));
    if (v[R_STATE].given)
        json_object_set_new(j, "state", json_string(v[R_STATE].text));
    if (v[R_COUNTY].given)
        json_object_set_new(j, "county", json_string(v[R_COUNTY].text));
    for (unsigned i = 0; i < v[R_FLAG].given; i++)
        json_object_set_new(flags, v[R_FLAG].list[i], json_true());
    json_object_set(j, "flags", flags);
    for (unsigned i = 0; i < v[R_INDICATOR].given; i++)
        json_array_append_new(ind, json_string(v[R_INDICATOR].list[i]));
    json_object_set(j, "indicators", ind);
    if (v[R_RESULT].given)
        json_object_set_new(j, "screening",
                            json_pack("{s:i, s:s, s:i, s:s, s:s, s:i, s:b}", "id", 1, "instrument",
                                      v[R_INSTRUMENT].text, "version", 1, "result",
                                      v[R_RESULT].text, "band", v[R_RESULT].text, "score",
                                      strcmp(v[R_RESULT].text, "negative") != 0, "stopped", 0));
    if (routing_input_from_json(j, in, err, sizeof(err)) != 0)
        t->api->fail(ctx, "route what-if: %s", err);
    else
        rc = 0;
out:
    json_decref(flags);
    json_decref(ind);
    json_decref(j);
    return rc;
}

static int route_what_if_cmd(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct trf *t = ud;
    struct routing_input in;
    struct routing_decision d;
    struct routing_ledger ledger;
    struct routing_config *cfg = NULL;
    json_t *jd = NULL, *ji = NULL, *jl = NULL;
    char heading[200];
    int rc = CH_ERROR;
    routing_input_init(&in);
    routing_decision_init(&d);
    routing_ledger_init(&ledger);
    if ((v[R_INPUT].given != 0) == facts_given(v)) {
        t->api->fail(ctx, "route what-if: give %s",
                     v[R_INPUT].given
                         ? "a case file or its facts, not both"
                         : "a case file (--input) or its facts (--age, --state, --flag, "
                           "--indicator, ...)");
        return CH_USAGE;
    }
    if ((v[R_INPUT].given ? read_case_file(t, ctx, v[R_INPUT].text, &in)
                          : read_case_facts(t, ctx, v, &in)) != 0 ||
        (cfg = trf_routing_config_open(t, ctx, config_dir_of(v))) == NULL)
        goto out;
    /*
     * What the report ledger makes of each referral, held against the case
     * file's ledger, declines, consents and episode as the database holds a
     * stored decision (the same sentences as route explain shows).
     */
    if (routing_decide(cfg, &in, &d) != 0 || routing_ledger_of(cfg, &in, &d, &ledger) != 0 ||
        (jl = routing_ledger_to_json(&ledger)) == NULL) {
        t->api->fail(ctx, "out of memory while routing");
        goto out;
    }
    if (t->api->json(ctx)) {
        if ((jd = routing_decision_to_json(&d)) == NULL ||
            (ji = routing_input_to_json(&in)) == NULL) {
            t->api->fail(ctx, "out of memory");
            goto out;
        }
        trf_out_json(t, ctx, "input", ji);
        trf_out_json(t, ctx, "decision", jd);
    }
    if (v[R_INPUT].given)
        snprintf(heading, sizeof(heading),
                 "What-if for case %lld (configuration %.12s): nothing was stored or sent.",
                 (long long)d.case_id, cfg->hash);
    else
        snprintf(heading, sizeof(heading),
                 "What-if for the facts given (configuration %.12s): nothing was stored or sent.",
                 cfg->hash);
    if (trf_out_decision(t, ctx, &d, cfg, NULL, 0, jl, heading,
                         "(--trace shows every rule and its conditions)",
                         v[R_TRACE].num != 0) != 0) {
        t->api->fail(ctx, "out of memory");
        goto out;
    }
    rc = CH_OK;
out:
    json_decref(jd);
    json_decref(ji);
    json_decref(jl);
    routing_decision_release(&d);
    routing_ledger_release(&ledger);
    routing_input_release(&in);
    routing_config_free(cfg);
    return rc;
}

/* ---------------------------------------------------------------- verbs --- */

#define CONFIG_ARGS(what)                                                                          \
    [R_CONFIG] = {"--config", CH_ARG_FILE, 0, what, NULL, "DIR", 0, 0},                            \
    [R_CONFIG_DIR] = {"--config-dir", CH_ARG_FILE, 0, "the same as --config", NULL, "DIR", 0, 0},  \
    [R_CANDIDATE] = {"--candidate",                                                                \
                     CH_ARG_ID,                                                                    \
                     0,                                                                            \
                     "a candidate stored in the database (candidate list; config admins)",         \
                     NULL,                                                                         \
                     "ID",                                                                         \
                     0,                                                                            \
                     0}

static const struct ch_arg test_args[] = {
    [R_FILE] = {"file", CH_ARG_FILE, 0,
                "the fixture cases and their expected decisions (default: the configuration's "
                "routing-tests.cfg)",
                NULL, NULL, 0, 0},
    CONFIG_ARGS("a candidate configuration folder (default: the one on disk)"),
};
#define TRACE_ARG                                                                                  \
    {                                                                                              \
        "--trace", CH_ARG_BOOL, 0, "also every rule, its conditions and values (for admins)",      \
            NULL, NULL, 0, 0                                                                       \
    }

static const struct ch_arg what_if_args[] = {
    [R_INPUT] = {"--input", CH_ARG_FILE, 0,
                 "a case file (.json as a decision stores it, or libconfig with a case group); "
                 "or the facts below",
                 NULL, "CASEFILE", 0, 0},
    CONFIG_ARGS("a candidate configuration folder (default: the one on disk)"),
    [R_TRACE] = TRACE_ARG,
    [R_AGE] = {"--age", CH_ARG_INT, 0, "age in whole years (an estimate's low end; none: unknown)",
               NULL, "N", 0, 130},
    [R_AGE_HIGH] = {"--age-high", CH_ARG_INT, 0, "an estimate's high end", NULL, "N", 0, 130},
    [R_AGE_KNOWN] = {"--age-known", CH_ARG_BOOL, 0, "the age comes from a date of birth", NULL,
                     NULL, 0, 0},
    [R_STATE] = {"--state", CH_ARG_TEXT, 0, "the case's state (CA)", NULL, "XX", 0, 0},
    [R_COUNTY] = {"--county", CH_ARG_TEXT, 0, "the case's county", NULL, NULL, 0, 0},
    [R_FLAG] = {"--flag", CH_ARG_ENUM, CH_ARG_REPEAT, "a case flag (repeat for more)",
                what_if_flags, NULL, 0, 0},
    [R_INDICATOR] = {"--indicator", CH_ARG_TEXT, CH_ARG_REPEAT,
                     "an item answered with a concern (exchanged_sex; repeat for more)", NULL, "ID",
                     0, 0},
    [R_RESULT] = {"--result", CH_ARG_ENUM, 0, "the latest screening's result", what_if_results,
                  NULL, 0, 0},
    [R_INSTRUMENT] = {"--instrument", CH_ARG_TEXT, 0, "the latest screening's instrument", NULL,
                      "ID", 0, 0},
};
static const struct ch_arg explain_args[] = {
    [TRF_X_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [TRF_X_DECISION] = {"--decision", CH_ARG_ID, 0, "one decision (default: the latest)", NULL,
                        NULL, 0, 0},
    [TRF_X_TRACE] = TRACE_ARG,
};
static const struct ch_arg replay_args[] = {
    {"--config", CH_ARG_FILE, 0, "the candidate configuration folder", NULL, "DIR", 0, 0},
    {"--since", CH_ARG_DATE, 0, "decisions made on or after this date (default: all)", NULL, NULL,
     0, 0},
    {"--candidate", CH_ARG_ID, 0, "a candidate stored in the database instead (config admins)",
     NULL, "ID", 0, 0},
};

/*
 * All four only show (CH_CMD_VIEW): test and what-if read files only (no
 * database: a web page may run them on the configuration the server runs,
 * or on a stored candidate, which the host copies to a folder and hands in
 * as --config), replay reads in the command's transaction, explain's one
 * write is the audit of its read.
 */
int trf_register_routing_commands(struct trf *t)
{
    const struct ch_command_spec specs[] = {
        {sizeof(specs[0]), "routing", "test",
         "run fixture cases through the routing rules, without the database",
         CH_SPEC_ARGS(test_args), routing_test_cmd, t, CH_CMD_OWN_TX | CH_CMD_NO_DB | CH_CMD_VIEW,
         "check the routing rules: fixtures, and a replay of stored decisions"},
        {sizeof(specs[0]), "routing", "replay",
         "what a candidate configuration would change in stored decisions (writes nothing)",
         CH_SPEC_ARGS(replay_args), routing_replay, t, CH_CMD_VIEW, NULL},
        {sizeof(specs[0]), "route", "what-if",
         "route a case file or typed case facts, without the database", CH_SPEC_ARGS(what_if_args),
         route_what_if_cmd, t, CH_CMD_OWN_TX | CH_CMD_NO_DB | CH_CMD_VIEW,
         "route a case: what-if on a case file; explain a stored decision"},
        {sizeof(specs[0]), "route", "explain",
         "what a stored decision asks of you, and (--trace) why each rule fired",
         CH_SPEC_ARGS(explain_args), route_explain, t, CH_CMD_VIEW, NULL},
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (t->api->command_typed(t->self, &specs[i]) != 0)
            return -1;
    return 0;
}
