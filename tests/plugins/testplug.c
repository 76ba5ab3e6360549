/*
 * testplug.c: the smallest real plugin, built only from the public header,
 * proving the contract is enough. It records every event it sees in its own
 * table (in the caller's transaction), registers two hooks of different
 * priority, a command and a render section, and can be told by its settings
 * to fail init, decline, or fail a hook. Built in variants that break the
 * ABI on purpose (see the Makefile).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <casehost/plugin.h>

#ifndef TP_ABI_MAJOR
#define TP_ABI_MAJOR CH_ABI_MAJOR
#endif
#ifndef TP_ABI_MINOR_BUMP
#define TP_ABI_MINOR_BUMP 0
#endif
#ifndef TP_LIBCONFIG_MINOR_BUMP
#define TP_LIBCONFIG_MINOR_BUMP 0
#endif
/* The TP_COLLIDE variant also claims a verb: "case" is the host's. */
#ifndef TP_COLLIDE
#define TP_COLLIDE NULL
#endif

struct tp_state {
    const struct ch_host_api *api;
    struct ch_plugin *self;
    char fail_title[128];
};

static const char *const event_names[] = {"case_created", "case_updated", "note_added",
                                          "case_closed", "tick"};

static int record(struct tp_state *st, struct ch_ctx *ctx, const char *hook,
                  const struct ch_event_data *ev, const char *detail)
{
    /* The agency and the actor come from the connected role, inside the function. */
    static const char sql[] = "SELECT testplug.event_add(nullif($1, '0')::bigint, $2, $3, $4)";
    char id[24];
    const char *params[4] = {id, hook, event_names[ev->kind], detail};
    PGresult *r;
    int ok;
    snprintf(id, sizeof(id), "%lld", (long long)ev->case_id);
    r = PQexecParams(st->api->conn(ctx), sql, 4, NULL, params, NULL, NULL, 0);
    ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        st->api->fail(ctx, "cannot record event: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? CH_OK : CH_ERROR;
}

/* Runs first (priority 10). Refuses a case whose title is the configured one. */
static int hook_early(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud)
{
    struct tp_state *st = ud;
    char detail[512] = "";
    if (ev->kind == CH_EV_CASE_CREATED && st->fail_title[0] != '\0') {
        char id[24];
        const char *params[1] = {id};
        PGresult *r;
        int refuse;
        snprintf(id, sizeof(id), "%lld", (long long)ev->case_id);
        r = PQexecParams(st->api->conn(ctx), "SELECT title FROM casehost.cases WHERE id = $1", 1,
                         NULL, params, NULL, NULL, 0);
        refuse = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                 strcmp(PQgetvalue(r, 0, 0), st->fail_title) == 0;
        PQclear(r);
        if (refuse) {
            /* Written first, so the test sees the plugin's own write rolled back too. */
            if (record(st, ctx, "early", ev, "about to refuse") != CH_OK)
                return CH_ERROR;
            st->api->fail(ctx, "refusing case titled '%s'", st->fail_title);
            return CH_ERROR;
        }
    }
    for (size_t i = 0; i < ev->n_changes; i++) {
        size_t n = strlen(detail);
        snprintf(detail + n, sizeof(detail) - n, "%s%s", i ? "," : "", ev->changes[i].field);
    }
    return record(st, ctx, "early", ev, detail);
}

static int hook_late(struct ch_ctx *ctx, const struct ch_event_data *ev, void *ud)
{
    return record(ud, ctx, "late", ev, NULL);
}

static int cmd_events(struct ch_ctx *ctx, int argc, char **argv, void *ud)
{
    struct tp_state *st = ud;
    static const char sql[] = "SELECT id, hook, event, detail FROM testplug.events "
                              "WHERE case_id = $1 ORDER BY id";
    const char *params[1];
    PGresult *r;
    if (argc != 2) {
        st->api->fail(ctx, "tp-events needs a CASE id");
        return CH_USAGE;
    }
    params[0] = argv[1];
    r = PQexecParams(st->api->conn(ctx), sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        st->api->fail(ctx, "case '%s': %s", argv[1], PQresultErrorMessage(r));
        PQclear(r);
        return CH_ERROR;
    }
    st->api->out_result(ctx, "events", r, 1);
    st->api->out_str(ctx, "user", st->api->user(ctx)->name);
    PQclear(r);
    return st->api->audit(ctx, "read", "testplug_events", 0, argv[1]) == 0 ? CH_OK : CH_ERROR;
}

#if CH_ABI_MINOR >= 1
/*
 * tp-typed CASE [--kind a|b] [--count N] [--when TIME] [--tag TEXT]...: a
 * typed command, parsed by the host; echoes what it was handed.
 */
enum { TP_CASE, TP_KIND, TP_COUNT, TP_WHEN, TP_TAG, TP_LOUD };
static const char *const tp_kinds[] = {"a", "b", NULL};
static const struct ch_arg tp_typed_args[] = {
    [TP_CASE] = {"case", CH_ARG_ID, CH_ARG_REQUIRED, "the case", NULL, NULL, 0, 0},
    [TP_KIND] = {"--kind", CH_ARG_ENUM, 0, "which kind", tp_kinds, NULL, 0, 0},
    [TP_COUNT] = {"--count", CH_ARG_INT, 0, "how many", NULL, NULL, 1, 10},
    [TP_WHEN] = {"--when", CH_ARG_TIMESTAMP, 0, "when", NULL, NULL, 0, 0},
    [TP_TAG] = {"--tag", CH_ARG_TEXT, CH_ARG_REPEAT, "a tag", NULL, NULL, 0, 0},
    [TP_LOUD] = {"--loud", CH_ARG_BOOL, 0, "shout", NULL, NULL, 0, 0},
};

static int cmd_typed(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct tp_state *st = ud;
    const struct ch_host_api *api = st->api;
    static const char *const again[] = {"tp-typed", "1", "--kind", "b", NULL};
    api->out_int(ctx, "case", v[TP_CASE].num);
    api->out_str(ctx, "kind", v[TP_KIND].text);
    api->out_int(ctx, "kind_index", v[TP_KIND].num);
    api->out_int(ctx, "count", v[TP_COUNT].num);
    api->out_str(ctx, "when", v[TP_WHEN].text);
    api->out_bool(ctx, "loud", (int)v[TP_LOUD].num);
    api->out_array(ctx, "tags");
    for (unsigned i = 0; i < v[TP_TAG].given; i++)
        api->out_str(ctx, NULL, v[TP_TAG].list[i]);
    api->out_end(ctx);
    if (v[TP_LOUD].num)
        api->out_alert(ctx, CH_SEV_DANGER, "loud was asked for");
    api->out_action(ctx, "again with kind b", again);
    return CH_OK;
}
#endif

#if CH_ABI_MINOR >= 2
/*
 * tp-report: a report (CH_CMD_REPORT) counting the cases the person may
 * see, and saying whether it read a server in recovery (a replica); its
 * run is audited, as a report's is.
 */
static int cmd_report(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    struct tp_state *st = ud;
    const struct ch_host_api *api = st->api;
    PGresult *r;
    (void)v;
    r = PQexec(api->conn(ctx), "SELECT count(*), count(*) FILTER (WHERE status <> 'closed'),"
                               " pg_catalog.pg_is_in_recovery() FROM casehost.plugin_case_v1");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        api->fail(ctx, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return CH_ERROR;
    }
    api->out_int(ctx, "cases", strtoll(PQgetvalue(r, 0, 0), NULL, 10));
    api->out_int(ctx, "open_cases", strtoll(PQgetvalue(r, 0, 1), NULL, 10));
    api->out_bool(ctx, "read_a_replica", PQgetvalue(r, 0, 2)[0] == 't');
    PQclear(r);
    return api->audit(ctx, "report", "testplug", 0, "tp-report") == 0 ? CH_OK : CH_ERROR;
}
#endif

#if CH_ABI_MINOR >= 2
/*
 * tp-chart [--panels] [--empty] [--from DATE]: a report of fixed figures
 * (hostile labels and cells among them) with a chart hint, so the host's
 * chart, page and CSV are proven without the trafficking plugin.
 */
enum { TP_PANELS, TP_EMPTY, TP_FROM };
static const struct ch_arg tp_chart_args[] = {
    [TP_PANELS] = {"--panels", CH_ARG_BOOL, 0, "one panel per group", NULL, NULL, 0, 0},
    [TP_EMPTY] = {"--empty", CH_ARG_BOOL, 0, "no rows at all", NULL, NULL, 0, 0},
    [TP_FROM] = {"--from", CH_ARG_DATE, 0, "from this date", NULL, NULL, 0, 0},
};

static int cmd_chart(struct ch_ctx *ctx, const struct ch_value *v, void *ud)
{
    static const struct {
        const char *week, *group;
        int64_t positive, negative;
        const char *note;
    } rows[] = {
        {"2026-W01", "girls", 3, 5, "=HYPERLINK(\"http://example.invalid\")"},
        {"2026-W02", "boys", 0, 7, "<script>alert(1)</script>, \"quoted\""},
        {"2026-W03", "girls", 12, 1, "Zo\xC3\xAB"},
        {"2026-W04", "boys", 3, 5, "-1"},
    };
    static const char *const series[] = {"positive", "negative", NULL};
    const struct ch_host_api *api = ((struct tp_state *)ud)->api;
    struct ch_chart chart = {sizeof(chart), CH_CHART_BARS, "Screenings <by> week",
                             "week",        series,        NULL};
    if (v[TP_PANELS].num) {
        chart.kind = CH_CHART_SMALL_MULTIPLES;
        chart.facet = "group";
    }
    api->out_str(ctx, "from", v[TP_FROM].text);
    api->out_array(ctx, "weeks");
    for (size_t i = 0; !v[TP_EMPTY].num && i < sizeof(rows) / sizeof(rows[0]); i++) {
        api->out_object(ctx, NULL);
        api->out_str(ctx, "week", rows[i].week);
        api->out_str(ctx, "group", rows[i].group);
        api->out_int(ctx, "positive", rows[i].positive);
        api->out_int(ctx, "negative", rows[i].negative);
        api->out_str(ctx, "note", rows[i].note);
        api->out_end(ctx);
    }
    api->out_end(ctx);
    if (CH_API_HAS(api, out_chart))
        api->out_chart(ctx, "weeks", &chart);
    return CH_OK;
}
#endif

static int render(struct ch_ctx *ctx, int64_t case_id, void *ud)
{
    struct tp_state *st = ud;
    char id[24];
    const char *params[1] = {id};
    PGresult *r;
    snprintf(id, sizeof(id), "%lld", (long long)case_id);
    r = PQexecParams(st->api->conn(ctx), "SELECT count(*) FROM testplug.events WHERE case_id = $1",
                     1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        st->api->fail(ctx, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return CH_ERROR;
    }
    st->api->out_object(ctx, "testplug");
    st->api->out_int(ctx, "events_seen", strtoll(PQgetvalue(r, 0, 0), NULL, 10));
    st->api->out_end(ctx);
    PQclear(r);
    return CH_OK;
}

/* Reads settings; reports every problem with its file and line. */
static int read_settings(struct tp_state *st, int *decline)
{
    const config_setting_t *set = st->api->config(st->self);
    const config_setting_t *s;
    const char *str;
    int b = 0, errors = 0;
    *decline = 0;
    st->fail_title[0] = '\0';
    if (set == NULL)
        return 0;
    if (config_setting_lookup_bool(set, "decline", &b) == CONFIG_TRUE && b)
        *decline = 1;
    if (config_setting_lookup_string(set, "fail_title", &str) == CONFIG_TRUE)
        snprintf(st->fail_title, sizeof(st->fail_title), "%s", str);
    s = config_setting_get_member(set, "fail_init");
    if (s != NULL && config_setting_get_bool(s)) {
        st->api->config_error(st->self, config_setting_source_file(s),
                              (int)config_setting_source_line(s), 0,
                              "fail_init is set, refusing to start");
        errors++;
    }
    return errors ? -1 : 0;
}

static int tp_init(struct ch_plugin *self, const struct ch_host_api *api, void **state)
{
    static const struct ch_command events_cmd = {"tp-events",
                                                 "list the events the test plugin saw for a case",
                                                 "tp-events CASE",
                                                 cmd_events,
                                                 NULL,
                                                 0};
    struct ch_command cmd = events_cmd;
    struct tp_state *st;
    int decline;
    /* 1.0 members only are required: this plugin also builds against the 1.0 header. */
    if (api->size < offsetof(struct ch_host_api, out_result) + sizeof(api->out_result) ||
        api->abi_major != CH_ABI_MAJOR)
        return CH_ERROR;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return CH_ERROR;
    st->api = api;
    st->self = self;
    *state = st;
    if (read_settings(st, &decline) != 0)
        return CH_ERROR;
    if (decline)
        return CH_DECLINED;
    /* Registered late-first, so order can only come from the priorities. */
    for (int ev = 0; ev < CH_EV__COUNT; ev++) {
        if (api->hook(self, (enum ch_event)ev, 20, hook_late, st) != 0 ||
            api->hook(self, (enum ch_event)ev, 10, hook_early, st) != 0)
            return CH_ERROR;
    }
    cmd.ud = st;
    if (api->command(self, &cmd) != 0 || api->render(self, 50, render, st) != 0)
        return CH_ERROR;
    if (TP_COLLIDE != NULL) {
        /* Ignores the refusal on purpose: the host must refuse the load anyway. */
        cmd.verb = TP_COLLIDE;
        (void)api->command(self, &cmd);
    }
#if CH_ABI_MINOR >= 1
    if (CH_API_HAS(api, command_typed)) {
        const struct ch_command_spec typed = {sizeof(typed),
                                              "tp-typed",
                                              NULL,
                                              "echo typed arguments",
                                              CH_SPEC_ARGS(tp_typed_args),
                                              cmd_typed,
                                              st,
                                              0,
                                              NULL};
        if (api->command_typed(self, &typed) != 0)
            return CH_ERROR;
    }
#endif
#if CH_ABI_MINOR >= 2
    if (CH_API_HAS(api, command_typed)) {
        const struct ch_command_spec report = {sizeof(report),
                                               "tp-report",
                                               NULL,
                                               "count the cases one may see (a report)",
                                               NULL,
                                               0,
                                               sizeof(struct ch_arg),
                                               cmd_report,
                                               st,
                                               CH_CMD_VIEW | CH_CMD_REPORT,
                                               NULL};
        if (api->command_typed(self, &report) != 0)
            return CH_ERROR;
    }
    if (CH_API_HAS(api, command_typed)) {
        const struct ch_command_spec chart = {sizeof(chart),
                                              "tp-chart",
                                              NULL,
                                              "screenings by week, as a chart (a report)",
                                              CH_SPEC_ARGS(tp_chart_args),
                                              cmd_chart,
                                              st,
                                              CH_CMD_VIEW | CH_CMD_REPORT,
                                              NULL};
        if (api->command_typed(self, &chart) != 0)
            return CH_ERROR;
    }
#endif
    return CH_OK;
}

static int tp_reload(struct ch_plugin *self, void *state)
{
    struct tp_state *st = state, next = *st;
    int decline;
    (void)self;
    if (read_settings(&next, &decline) != 0)
        return CH_ERROR; /* st untouched: the old settings stay */
    *st = next;
    return CH_OK;
}

static void tp_fini(void *state)
{
    free(state);
}

/* The TP_NO_ENTRY variant keeps the function but does not export it. */
#ifdef TP_NO_ENTRY
static __attribute__((used))
#else
CH_PLUGIN_EXPORT
#endif
const struct ch_plugin_desc *
CH_PLUGIN_ENTRY(void)
{
    static const struct ch_plugin_desc desc = {
        sizeof(struct ch_plugin_desc),
        TP_ABI_MAJOR,
        CH_ABI_MINOR + TP_ABI_MINOR_BUMP,
        "testplug",
        "1.0",
        "contract test plugin",
        tp_init,
        tp_reload,
        tp_fini,
#ifdef CH_PLUGIN_DESC_LIBCONFIG
        LIBCONFIG_VER_MAJOR,
        LIBCONFIG_VER_MINOR + TP_LIBCONFIG_MINOR_BUMP,
#endif
    };
    return &desc;
}
