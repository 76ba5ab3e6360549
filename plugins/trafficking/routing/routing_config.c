/*
 * routing_config.c: loads and validates destinations.cfg and routing.cfg into
 * one routing configuration, compiling every rule once.
 *
 * Reports every problem with file:line[:col] and keeps going; a configuration
 * with any error is never returned. Never guesses an order or a default: rule
 * priorities are explicit and unique, and every destination member is written.
 */
#include "routing/routing.h"
#include "routing/webhook_url.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define ROUTING_MAX_PRIORITY 1000000

_Static_assert(ROUTING_BASIS__COUNT <= 8 && ROUTING_URGENCY__COUNT <= 8, "names[8] in parse_rule");

/* What the check() callbacks of the rule functions need while compiling (ud may be NULL). */
struct fn_env {
    const struct instrument_set *instruments; /* NULL: any identifier is an item */
};

static int check_indicator(void *ud, const char *arg, char *err, size_t errlen)
{
    const struct fn_env *env = ud;
    if (!cfgread_is_ident(arg)) {
        snprintf(err, errlen, "indicator: '%s' is not an item id", arg);
        return -1;
    }
    if (env == NULL || env->instruments == NULL)
        return 0;
    for (size_t i = 0; i < env->instruments->n; i++)
        if (instrument_item_index(env->instruments->v[i], arg) >= 0)
            return 0;
    snprintf(err, errlen, "indicator: no item '%s' in any loaded instrument", arg);
    return -1;
}

static int check_domain(void *ud, const char *arg, char *err, size_t errlen)
{
    const char *names[INSTRUMENT_DOMAIN__COUNT];
    char list[200];
    (void)ud;
    for (int d = 0; d < INSTRUMENT_DOMAIN__COUNT; d++) {
        names[d] = instrument_domain_name((enum instrument_domain)d);
        if (strcmp(names[d], arg) == 0)
            return d;
    }
    snprintf(err, errlen, "domain_score: unknown domain '%s' (expected one of %s)", arg,
             cfgread_join(names, INSTRUMENT_DOMAIN__COUNT, list, sizeof(list)));
    return -1;
}

static int check_word(void *ud, const char *arg, char *err, size_t errlen)
{
    (void)ud;
    if (cfgread_is_ident(arg))
        return 0;
    snprintf(err, errlen, "'%s' must be lowercase letters, digits and '_'", arg);
    return -1;
}

/* The functions routing rules may call; routing.c fills their slots by this index. */
const struct facts_fn routing__fns[ROUTING__FN_COUNT] = {
    [ROUTING__FN_INDICATOR] = {"indicator", RULE_BOOL, check_indicator},
    [ROUTING__FN_DOMAIN_SCORE] = {"domain_score", RULE_NUM, check_domain},
    [ROUTING__FN_CONSENT] = {"consent", RULE_BOOL, check_word},
    [ROUTING__FN_SAFE_CHANNEL] = {"safe_channel", RULE_BOOL, check_word},
};

/* ------------------------------------------------------------- freeing --- */

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void destination_release(struct routing_destination *d)
{
    free(d->id);
    free(d->name);
    free_strings(d->jurisdiction.states, d->jurisdiction.n_states);
    free_strings(d->jurisdiction.counties, d->jurisdiction.n_counties);
    free(d->channel.url);
    free(d->channel.secret);
    free(d->channel.secret_file);
    free(d->channel.client_cert);
    free(d->channel.client_key);
    free(d->channel.command);
    free(d->channel.spool_dir);
}

static void rule_release(struct routing_rule *r)
{
    free(r->name);
    if (r->when != NULL)
        rule_free(r->when);
    free(r->refer);
    free(r->purpose);
    free(r->note);
    free(r->instruction);
}

void routing_config_free(struct routing_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_destinations; i++)
        destination_release(&cfg->destinations[i]);
    free(cfg->destinations);
    for (size_t i = 0; i < cfg->n_rules; i++)
        rule_release(&cfg->rules[i]);
    free(cfg->rules);
    for (size_t i = 0; i < cfg->n_cw_ages; i++)
        free_strings(cfg->cw_ages[i].states, cfg->cw_ages[i].n_states);
    free(cfg->cw_ages);
    facts_resolver_release(&cfg->resolver);
    instrument_set_free(cfg->own_instruments);
    free(cfg->destinations_path);
    free(cfg->routing_path);
    free(cfg);
}

int routing_config_destination(const struct routing_config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->n_destinations; i++)
        if (cfg->destinations[i].id != NULL && strcmp(cfg->destinations[i].id, id) == 0)
            return (int)i;
    return -1;
}

int routing_destination_serves(const struct routing_destination *d, const char *state,
                               const char *county)
{
    const struct routing_jurisdiction *j = &d->jurisdiction;
    int in_state = 0;
    if (j->any)
        return 1;
    for (size_t i = 0; i < j->n_states && !in_state; i++)
        in_state = strcmp(j->states[i], state) == 0;
    if (!in_state || j->n_counties == 0)
        return in_state;
    for (size_t i = 0; i < j->n_counties; i++)
        if (strcmp(j->counties[i], county) == 0)
            return 1;
    return 0;
}

/* -------------------------------------------------------- destinations --- */

/* Copies the strings of array a (already checked to hold strings) into *v. */
static int copy_strings(struct cfgread *r, const config_setting_t *a, char ***v, size_t *n)
{
    size_t len = (size_t)config_setting_length(a);
    *v = calloc(len ? len : 1, sizeof(**v));
    if (*v == NULL) {
        cfgread_error(r, 0, 0, NULL, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        (*v)[i] = cfgread_strdup(r, config_setting_get_string_elem(a, (int)i));
        if ((*v)[i] == NULL)
            return -1;
        *n = i + 1;
    }
    return 0;
}

static int is_state_code(const char *s)
{
    return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0';
}

static void parse_jurisdiction(struct cfgread *r, const config_setting_t *s, const char *ctx,
                               struct routing_jurisdiction *j)
{
    static const char *const members[] = {"any", "states", "counties", NULL};
    const config_setting_t *g = cfgread_aggregate(r, s, ctx, "jurisdiction", 1, CONFIG_TYPE_GROUP);
    char jctx[160];
    if (g == NULL)
        return;
    snprintf(jctx, sizeof(jctx), "%s: jurisdiction", ctx);
    cfgread_members(r, g, jctx, members);
    int has_any = cfgread_bool(r, g, jctx, "any", 0, &j->any) == 1;
    int has_states = config_setting_get_member(g, "states") != NULL;
    if (has_any && j->any && (has_states || config_setting_get_member(g, "counties") != NULL)) {
        cfgread_error(r, cfgread_line(g), 0, jctx, "'any = true' excludes 'states' and 'counties'");
        return;
    }
    if (has_any && j->any)
        return;
    if (!has_states) {
        cfgread_error(r, cfgread_line(g), 0, jctx, "needs 'states' or 'any = true'");
        return;
    }
    const config_setting_t *a = cfgread_strings(r, g, jctx, "states", 1);
    if (a != NULL) {
        for (int i = 0; i < config_setting_length(a); i++)
            if (!is_state_code(config_setting_get_string_elem(a, i)))
                cfgread_error(r, cfgread_line(a), 0, jctx,
                              "'%s' is not a two-letter state code in capitals",
                              config_setting_get_string_elem(a, i));
        copy_strings(r, a, &j->states, &j->n_states);
    }
    if (config_setting_get_member(g, "counties") != NULL) {
        a = cfgread_strings(r, g, jctx, "counties", 1);
        if (a != NULL)
            copy_strings(r, a, &j->counties, &j->n_counties);
    }
}

/*
 * dir of the destinations file + rel, unless rel is absolute; caller frees.
 * A relative one sets bit in ch->written_relative.
 */
static char *resolve_path(struct cfgread *r, const char *rel, struct routing_channel *ch,
                          unsigned bit)
{
    const char *slash = strrchr(r->file, '/');
    size_t dlen = slash ? (size_t)(slash - r->file) : 1;
    const char *dir = slash ? r->file : ".";
    if (rel[0] == '/')
        return cfgread_strdup(r, rel);
    ch->written_relative |= bit;
    size_t n = dlen + strlen(rel) + 2;
    char *p = malloc(n);
    if (p == NULL) {
        cfgread_error(r, 0, 0, NULL, "out of memory");
        return NULL;
    }
    snprintf(p, n, "%.*s/%s", (int)dlen, dir, rel);
    return p;
}

/*
 * A webhook's url, secret and optional client certificate. Personal data
 * travels only over TLS (plain http only to this machine), and a secret
 * written into the file (which is deployed into the database) only for such
 * a loopback test or demo receiver.
 */
static void parse_webhook(struct cfgread *r, const config_setting_t *g, const char *cctx,
                          struct routing_channel *ch)
{
    const char *str = NULL, *why;
    int has_secret = config_setting_get_member(g, "secret") != NULL;
    int has_file = config_setting_get_member(g, "secret_file") != NULL;
    int has_cert = config_setting_get_member(g, "client_cert") != NULL;
    int has_key = config_setting_get_member(g, "client_key") != NULL;
    if (cfgread_string(r, g, cctx, "url", 1, &str) == 1) {
        if ((why = routing_webhook_url_problem(str)) != NULL)
            cfgread_error(r, cfgread_line(config_setting_get_member(g, "url")), 0, cctx,
                          "url '%s' %s", str, why);
        ch->url = cfgread_strdup(r, str);
    }
    if (has_secret == has_file)
        cfgread_error(r, cfgread_line(g), 0, cctx,
                      "a webhook needs exactly one of 'secret' and 'secret_file'");
    else if (has_secret && cfgread_string(r, g, cctx, "secret", 1, &str) == 1) {
        if (ch->url != NULL && !routing_url_is_loopback(ch->url))
            cfgread_error(r, cfgread_line(config_setting_get_member(g, "secret")), 0, cctx,
                          "a literal 'secret' is only for a loopback url (tests, demos): name "
                          "a 'secret_file' of mode 0600 or 0640 instead");
        ch->secret = cfgread_strdup(r, str);
    } else if (has_file && cfgread_string(r, g, cctx, "secret_file", 1, &str) == 1)
        ch->secret_file = resolve_path(r, str, ch, ROUTING_PATH_SECRET_FILE);
    if (has_cert != has_key)
        cfgread_error(r, cfgread_line(g), 0, cctx,
                      "mutual TLS needs both 'client_cert' and 'client_key'");
    if (has_cert && cfgread_string(r, g, cctx, "client_cert", 1, &str) == 1)
        ch->client_cert = resolve_path(r, str, ch, ROUTING_PATH_CLIENT_CERT);
    if (has_key && cfgread_string(r, g, cctx, "client_key", 1, &str) == 1)
        ch->client_key = resolve_path(r, str, ch, ROUTING_PATH_CLIENT_KEY);
}

static void parse_channel(struct cfgread *r, const config_setting_t *s, const char *ctx,
                          struct routing_channel *ch)
{
    static const char *const by_type[ROUTING_CHANNEL__COUNT][6] = {
        [ROUTING_CHANNEL_WEBHOOK] = {"type", "url", "secret", "secret_file", "client_cert",
                                     "client_key"},
        [ROUTING_CHANNEL_COMMAND] = {"type", "command"},
        [ROUTING_CHANNEL_SPOOL] = {"type", "spool_dir"},
    };
    const char *names[ROUTING_CHANNEL__COUNT];
    const config_setting_t *g = cfgread_aggregate(r, s, ctx, "channel", 1, CONFIG_TYPE_GROUP);
    char cctx[160];
    const char *str = NULL;
    int type = -1;
    if (g == NULL)
        return;
    snprintf(cctx, sizeof(cctx), "%s: channel", ctx);
    for (int t = 0; t < ROUTING_CHANNEL__COUNT; t++)
        names[t] = routing_channel_type_name((enum routing_channel_type)t);
    if (cfgread_enum(r, g, cctx, "type", 1, "channel type", names, ROUTING_CHANNEL__COUNT, &type) !=
        1)
        return;
    ch->type = (enum routing_channel_type)type;
    const char *allowed[7] = {by_type[type][0],
                              by_type[type][1],
                              by_type[type][2],
                              by_type[type][3],
                              by_type[type][4],
                              by_type[type][5],
                              NULL};
    cfgread_members(r, g, cctx, allowed);
    switch (ch->type) {
    case ROUTING_CHANNEL_WEBHOOK:
        parse_webhook(r, g, cctx, ch);
        break;
    case ROUTING_CHANNEL_COMMAND:
        if (cfgread_string(r, g, cctx, "command", 1, &str) == 1)
            ch->command = cfgread_strdup(r, str);
        break;
    default:
        if (cfgread_string(r, g, cctx, "spool_dir", 1, &str) == 1)
            ch->spool_dir = resolve_path(r, str, ch, ROUTING_PATH_SPOOL_DIR);
        break;
    }
}

static void parse_fields(struct cfgread *r, const config_setting_t *s, const char *ctx,
                         routing_fields *mask)
{
    const config_setting_t *a = cfgread_strings(r, s, ctx, "fields", 1);
    if (a == NULL)
        return;
    for (int i = 0; i < config_setting_length(a); i++) {
        const char *name = config_setting_get_string_elem(a, i);
        int f = routing_field_lookup(name);
        if (f < 0) {
            const char *names[ROUTING_FIELD__COUNT];
            char list[400];
            for (int k = 0; k < ROUTING_FIELD__COUNT; k++)
                names[k] = routing_field_name((enum routing_field)k);
            cfgread_error(r, cfgread_line(a), 0, ctx,
                          "fields: unknown field '%s' (expected one of %s)", name,
                          cfgread_join(names, ROUTING_FIELD__COUNT, list, sizeof(list)));
        } else if (*mask & (1u << f))
            cfgread_error(r, cfgread_line(a), 0, ctx, "fields: '%s' is listed twice", name);
        else
            *mask |= 1u << f;
    }
}

/* Member `escalate_to`, as written: resolved once every id is known. */
struct pending_escalation {
    const char *target; /* borrowed from the config; NULL for "none" */
    int line;
};

static void parse_destination(struct cfgread *r, const config_setting_t *s,
                              struct routing_config *cfg, size_t i, struct pending_escalation *esc)
{
    static const char *const members[] = {"id",
                                          "name",
                                          "kind",
                                          "jurisdiction",
                                          "channel",
                                          "fields",
                                          "needs_consent",
                                          "contacts_person",
                                          "ack_sla_hours",
                                          "escalate_to",
                                          NULL};
    struct routing_destination *d = &cfg->destinations[i];
    const char *kinds[ROUTING_KIND__COUNT];
    char ctx[120];
    const char *str = NULL;
    long long v = 0;
    int kind = 0;

    d->line = cfgread_line(s);
    d->escalate_to = -1;
    snprintf(ctx, sizeof(ctx), "destination %zu", i + 1);
    if (cfgread_ident(r, s, ctx, "id", 1, &str) == 1) {
        int first = routing_config_destination(cfg, str);
        if (first >= 0)
            cfgread_error(r, cfgread_line(config_setting_get_member(s, "id")), 0, NULL,
                          "duplicate destination id '%s' (first at line %d)", str,
                          cfg->destinations[first].line);
        d->id = cfgread_strdup(r, str);
        snprintf(ctx, sizeof(ctx), "destination '%s'", str);
    }
    cfgread_members(r, s, ctx, members);
    if (cfgread_string(r, s, ctx, "name", 1, &str) == 1)
        d->name = cfgread_strdup(r, str);
    for (int k = 0; k < ROUTING_KIND__COUNT; k++)
        kinds[k] = routing_kind_name((enum routing_kind)k);
    if (cfgread_enum(r, s, ctx, "kind", 1, "destination kind", kinds, ROUTING_KIND__COUNT, &kind) ==
        1)
        d->kind = (enum routing_kind)kind;
    parse_jurisdiction(r, s, ctx, &d->jurisdiction);
    parse_channel(r, s, ctx, &d->channel);
    parse_fields(r, s, ctx, &d->fields);
    cfgread_bool(r, s, ctx, "needs_consent", 1, &d->needs_consent);
    cfgread_bool(r, s, ctx, "contacts_person", 1, &d->contacts_person);
    if (cfgread_int(r, s, ctx, "ack_sla_hours", 1, 1, ROUTING_MAX_SLA_HOURS, &v) == 1)
        d->ack_sla_hours = (int)v;
    if (cfgread_string(r, s, ctx, "escalate_to", 1, &str) == 1) {
        esc->line = cfgread_line(config_setting_get_member(s, "escalate_to"));
        esc->target = strcmp(str, "none") == 0 ? NULL : str;
    }
}

/* Resolves escalate_to ids and refuses self-escalation and cycles. */
static void resolve_escalations(struct cfgread *r, struct routing_config *cfg,
                                const struct pending_escalation *esc)
{
    for (size_t i = 0; i < cfg->n_destinations; i++) {
        struct routing_destination *d = &cfg->destinations[i];
        if (esc[i].target == NULL || d->id == NULL)
            continue;
        int to = routing_config_destination(cfg, esc[i].target);
        if (to < 0)
            cfgread_error(r, esc[i].line, 0, NULL,
                          "destination '%s': escalate_to: unknown destination '%s'", d->id,
                          esc[i].target);
        else if ((size_t)to == i)
            cfgread_error(r, esc[i].line, 0, NULL,
                          "destination '%s': escalate_to: a destination cannot escalate to "
                          "itself",
                          d->id);
        else
            d->escalate_to = to;
    }
    /* A chain longer than the number of destinations has gone round a cycle. */
    for (size_t i = 0; i < cfg->n_destinations; i++) {
        int at = (int)i;
        size_t steps = 0;
        while (at >= 0 && steps <= cfg->n_destinations) {
            at = cfg->destinations[at].escalate_to;
            steps++;
        }
        if (at >= 0)
            cfgread_error(r, esc[i].line, 0, NULL,
                          "destination '%s': escalate_to: escalation goes round in a cycle",
                          cfg->destinations[i].id);
    }
}

/* Parses destinations.cfg into cfg; 1 when the list could be read (ids are known), else 0. */
static int load_destinations(struct cfgread *r, config_t *c, struct routing_config *cfg,
                             char **text, size_t *len)
{
    static const char *const top[] = {"destinations", NULL};
    char hash[CFGREAD_HASH_LEN + 1];
    struct pending_escalation *esc = NULL;
    int known = 0;

    if (cfgread_load(r, c, text, len, hash) != 0)
        goto out;
    const config_setting_t *root = config_root_setting(c);
    cfgread_members(r, root, NULL, top);
    const config_setting_t *list =
        cfgread_aggregate(r, root, NULL, "destinations", 1, CONFIG_TYPE_LIST);
    if (list == NULL)
        goto out;
    size_t n = (size_t)config_setting_length(list);
    cfg->destinations = calloc(n ? n : 1, sizeof(*cfg->destinations));
    esc = calloc(n ? n : 1, sizeof(*esc));
    if (cfg->destinations == NULL || esc == NULL) {
        cfgread_error(r, 0, 0, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        cfg->n_destinations = i + 1;
        cfg->destinations[i].escalate_to = -1;
        if (config_setting_type(s) != CONFIG_TYPE_GROUP)
            cfgread_error(r, cfgread_line(s), 0, NULL, "destination %zu must be a group { ... }",
                          i + 1);
        else
            parse_destination(r, s, cfg, i, &esc[i]);
    }
    if (n == 0)
        cfgread_error(r, cfgread_line(list), 0, NULL, "'destinations' is empty");
    resolve_escalations(r, cfg, esc);
    known = 1;
out:
    free(esc);
    return known;
}

/* --------------------------------------------------------------- rules --- */

static void parse_refer(struct cfgread *r, const config_setting_t *s, const char *ctx,
                        const struct routing_config *cfg, int dest_known, struct routing_rule *rule)
{
    const config_setting_t *a = cfgread_strings(r, s, ctx, "refer", 1);
    if (a == NULL)
        return;
    size_t n = (size_t)config_setting_length(a);
    int line = cfgread_line(a);
    rule->refer = calloc(n, sizeof(*rule->refer));
    if (rule->refer == NULL) {
        cfgread_error(r, 0, 0, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = config_setting_get_string_elem(a, (int)i);
        struct routing_target target = {.destination = -1};
        if (strncmp(t, "kind:", 5) == 0) {
            int k = routing_kind_lookup(t + 5);
            if (k < 0) {
                cfgread_error(r, line, 0, ctx, "refer: unknown destination kind '%s' in '%s'",
                              t + 5, t);
                continue;
            }
            target.kind = (enum routing_kind)k;
            size_t d = 0;
            while (d < cfg->n_destinations && cfg->destinations[d].kind != target.kind)
                d++;
            if (dest_known && d == cfg->n_destinations) {
                cfgread_error(r, line, 0, ctx, "refer: no destination of kind '%s' is configured",
                              t + 5);
                continue;
            }
        } else {
            target.destination = dest_known ? routing_config_destination(cfg, t) : -1;
            if (dest_known && target.destination < 0) {
                cfgread_error(r, line, 0, ctx,
                              "refer: unknown destination '%s' (a destination id, or "
                              "'kind:KIND')",
                              t);
                continue;
            }
            if (target.destination >= 0)
                target.kind = cfg->destinations[target.destination].kind;
        }
        int dup = 0;
        for (size_t j = 0; j < rule->n_refer; j++)
            dup |= rule->refer[j].destination == target.destination &&
                   rule->refer[j].kind == target.kind;
        if (dup && dest_known)
            cfgread_error(r, line, 0, ctx, "refer: '%s' is listed twice", t);
        else if (dest_known)
            rule->refer[rule->n_refer++] = target;
    }
}

/*
 * A consent-basis rule must reach only destinations that take consent:
 * nothing leaves without consent or a recorded legal basis (DOMAIN rule 6).
 */
static void check_consent_targets(struct cfgread *r, int line, const char *ctx,
                                  const struct routing_config *cfg, const struct routing_rule *rule)
{
    if (rule->basis != ROUTING_BASIS_CONSENT)
        return;
    for (size_t i = 0; i < rule->n_refer; i++) {
        for (size_t d = 0; d < cfg->n_destinations; d++) {
            const struct routing_destination *dest = &cfg->destinations[d];
            int reached = rule->refer[i].destination >= 0 ? rule->refer[i].destination == (int)d
                                                          : dest->kind == rule->refer[i].kind;
            if (reached && !dest->needs_consent)
                cfgread_error(r, line, 0, ctx,
                              "refer: destination '%s' has needs_consent = false: refer it on "
                              "basis 'mandatory_report' or 'imminent_danger', not 'consent'",
                              dest->id ? dest->id : "?");
        }
    }
}

/*
 * Member `instruction`: shown to a person as the first thing they read, so
 * one plain line that fits on a screen; an empty one would show nothing.
 */
static void parse_instruction(struct cfgread *r, const config_setting_t *s, const char *ctx,
                              struct routing_rule *rule)
{
    const char *str = NULL;
    int line;
    if (cfgread_string(r, s, ctx, "instruction", 0, &str) != 1)
        return;
    line = cfgread_line(config_setting_get_member(s, "instruction"));
    if (str[strspn(str, " ")] == '\0') {
        cfgread_error(r, line, 0, ctx, "instruction is empty: say what to do, or leave it out");
        return;
    }
    if (strlen(str) > ROUTING_MAX_INSTRUCTION) {
        cfgread_error(r, line, 0, ctx, "instruction is %zu bytes long: at most %d fit on a screen",
                      strlen(str), ROUTING_MAX_INSTRUCTION);
        return;
    }
    for (const unsigned char *c = (const unsigned char *)str; *c != '\0'; c++)
        if (*c < 0x20 || *c == 0x7f) {
            cfgread_error(r, line, 0, ctx,
                          "instruction has a control character (byte %u): it must be one "
                          "plain line",
                          (unsigned)*c);
            return;
        }
    rule->instruction = cfgread_strdup(r, str);
}

static void parse_rule(struct cfgread *r, const config_setting_t *s, struct routing_config *cfg,
                       size_t i, int dest_known)
{
    static const char *const members[] = {"name",        "priority",  "when", "refer",   "basis",
                                          "urgency",     "due_hours", "stop", "purpose", "note",
                                          "instruction", "due_from",  NULL};
    struct routing_rule *rule = &cfg->rules[i];
    const char *names[8]; /* basis or urgency names */
    char ctx[120];
    const char *str = NULL;
    long long v = 0;
    int e = 0, has_basis = 0, has_urgency = 0;

    rule->line = cfgread_line(s);
    snprintf(ctx, sizeof(ctx), "rule %zu", i + 1);
    if (cfgread_ident(r, s, ctx, "name", 1, &str) == 1) {
        for (size_t j = 0; j < i; j++)
            if (cfg->rules[j].name != NULL && strcmp(cfg->rules[j].name, str) == 0)
                cfgread_error(r, cfgread_line(config_setting_get_member(s, "name")), 0, NULL,
                              "duplicate rule name '%s' (first at line %d)", str,
                              cfg->rules[j].line);
        rule->name = cfgread_strdup(r, str);
        snprintf(ctx, sizeof(ctx), "rule '%s'", str);
    }
    cfgread_members(r, s, ctx, members);
    if (cfgread_int(r, s, ctx, "priority", 1, 1, ROUTING_MAX_PRIORITY, &v) == 1) {
        rule->priority = (int)v;
        for (size_t j = 0; j < i; j++)
            if (cfg->rules[j].priority == rule->priority)
                cfgread_error(r, cfgread_line(config_setting_get_member(s, "priority")), 0, ctx,
                              "priority %d is also the priority of rule '%s' (line %d): every "
                              "rule needs its own",
                              rule->priority, cfg->rules[j].name ? cfg->rules[j].name : "?",
                              cfg->rules[j].line);
    }
    if (cfgread_string(r, s, ctx, "when", 1, &str) == 1) {
        struct rule_schema schema = facts_resolver_schema(&cfg->resolver);
        struct rule_error err = {0};
        rule->when = rule_compile(str, &schema, &err);
        if (rule->when == NULL)
            cfgread_error(r, cfgread_line(config_setting_get_member(s, "when")), err.col, ctx,
                          "when: %s", err.msg);
    }
    parse_refer(r, s, ctx, cfg, dest_known, rule);
    for (int b = 0; b < ROUTING_BASIS__COUNT; b++)
        names[b] = routing_basis_name((enum routing_basis)b);
    if (cfgread_enum(r, s, ctx, "basis", 1, "basis", names, ROUTING_BASIS__COUNT, &e) == 1) {
        rule->basis = (enum routing_basis)e;
        has_basis = 1;
    }
    for (int u = 0; u < ROUTING_URGENCY__COUNT; u++)
        names[u] = routing_urgency_name((enum routing_urgency)u);
    if (cfgread_enum(r, s, ctx, "urgency", 1, "urgency", names, ROUTING_URGENCY__COUNT, &e) == 1) {
        rule->urgency = (enum routing_urgency)e;
        has_urgency = 1;
    }
    if (cfgread_int(r, s, ctx, "due_hours", 1, 0, ROUTING_MAX_DUE_HOURS, &v) == 1) {
        rule->due_hours = (int)v;
        if (has_urgency && v > routing_urgency_max_hours(rule->urgency))
            cfgread_error(r, cfgread_line(config_setting_get_member(s, "due_hours")), 0, ctx,
                          "due_hours %lld is longer than urgency '%s' allows (%d)", v,
                          routing_urgency_name(rule->urgency),
                          routing_urgency_max_hours(rule->urgency));
    }
    for (int f = 0; f < FACTS_DUE_FROM__COUNT; f++)
        names[f] = facts_due_from_name((enum facts_due_from)f);
    if (cfgread_enum(r, s, ctx, "due_from", 0, "due_from", names, FACTS_DUE_FROM__COUNT, &e) == 1)
        rule->due_from = (enum facts_due_from)e;
    cfgread_bool(r, s, ctx, "stop", 1, &rule->stop);
    if (cfgread_ident(r, s, ctx, "purpose", 0, &str) == 1) {
        if (has_basis && rule->basis != ROUTING_BASIS_CONSENT)
            cfgread_error(r, cfgread_line(config_setting_get_member(s, "purpose")), 0, ctx,
                          "'purpose' applies only to basis 'consent'");
        rule->purpose = cfgread_strdup(r, str);
    }
    if (cfgread_string(r, s, ctx, "note", 0, &str) == 1)
        rule->note = cfgread_strdup(r, str);
    parse_instruction(r, s, ctx, rule);
    if (has_basis && dest_known)
        check_consent_targets(r, cfgread_line(config_setting_get_member(s, "refer")), ctx, cfg,
                              rule);
}

/* child_welfare_age = ( { states = ["CA"]; age = 21; }, ... ): optional. */
static void load_cw_ages(struct cfgread *r, const config_setting_t *root,
                         struct routing_config *cfg)
{
    static const char *const members[] = {"states", "age", NULL};
    if (config_setting_get_member(root, "child_welfare_age") == NULL)
        return;
    const config_setting_t *list =
        cfgread_aggregate(r, root, NULL, "child_welfare_age", 1, CONFIG_TYPE_LIST);
    size_t n = list != NULL ? (size_t)config_setting_length(list) : 0;
    if (n == 0)
        return;
    if ((cfg->cw_ages = calloc(n, sizeof(*cfg->cw_ages))) == NULL) {
        cfgread_error(r, 0, 0, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct routing_cw_age *a = &cfg->cw_ages[i];
        char ctx[64];
        long long v = 0;
        cfg->n_cw_ages = i + 1;
        a->line = cfgread_line(g);
        snprintf(ctx, sizeof(ctx), "child_welfare_age %zu", i + 1);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            cfgread_error(r, a->line, 0, ctx, "must be a group { states = [...]; age = N; }");
            continue;
        }
        cfgread_members(r, g, ctx, members);
        /* 18 is the federal line; some states serve young people up to 21 or 24. */
        if (cfgread_int(r, g, ctx, "age", 1, 18, 26, &v) == 1)
            a->age = (int)v;
        const config_setting_t *states = cfgread_strings(r, g, ctx, "states", 1);
        if (states == NULL)
            continue;
        for (int k = 0; k < config_setting_length(states); k++) {
            const char *st = config_setting_get_string_elem(states, k);
            if (!is_state_code(st))
                cfgread_error(r, cfgread_line(states), 0, ctx,
                              "'%s' is not a two-letter state code in capitals", st);
            for (size_t j = 0; j < i; j++)
                for (size_t m = 0; m < cfg->cw_ages[j].n_states; m++)
                    if (strcmp(cfg->cw_ages[j].states[m], st) == 0)
                        cfgread_error(r, cfgread_line(states), 0, ctx,
                                      "state %s already has a child_welfare_age (line %d)", st,
                                      cfg->cw_ages[j].line);
        }
        copy_strings(r, states, &a->states, &a->n_states);
    }
}

int routing_child_welfare_age(const struct routing_config *cfg, const char *state)
{
    for (size_t i = 0; i < cfg->n_cw_ages; i++)
        for (size_t k = 0; k < cfg->cw_ages[i].n_states; k++)
            if (strcmp(cfg->cw_ages[i].states[k], state) == 0)
                return cfg->cw_ages[i].age;
    return 18;
}

static void load_rules(struct cfgread *r, config_t *c, struct routing_config *cfg, int dest_known,
                       char **text, size_t *len)
{
    static const char *const top[] = {"rules", "child_welfare_age", NULL};
    char hash[CFGREAD_HASH_LEN + 1];
    if (cfgread_load(r, c, text, len, hash) != 0)
        return;
    const config_setting_t *root = config_root_setting(c);
    cfgread_members(r, root, NULL, top);
    load_cw_ages(r, root, cfg);
    const config_setting_t *list = cfgread_aggregate(r, root, NULL, "rules", 1, CONFIG_TYPE_LIST);
    if (list == NULL)
        return;
    size_t n = (size_t)config_setting_length(list);
    cfg->rules = calloc(n ? n : 1, sizeof(*cfg->rules));
    if (cfg->rules == NULL) {
        cfgread_error(r, 0, 0, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        cfg->n_rules = i + 1;
        if (config_setting_type(s) != CONFIG_TYPE_GROUP)
            cfgread_error(r, cfgread_line(s), 0, NULL, "rule %zu must be a group { ... }", i + 1);
        else
            parse_rule(r, s, cfg, i, dest_known);
    }
    if (n == 0)
        cfgread_error(r, cfgread_line(list), 0, NULL, "'rules' is empty");
}

static int cmp_priority(const void *a, const void *b)
{
    const struct routing_rule *x = a, *y = b;
    return (x->priority > y->priority) - (x->priority < y->priority);
}

/* SHA-256 over the destinations text, a NUL, and the routing text. */
static int hash_both(const char *a, size_t alen, const char *b, size_t blen,
                     char hash[CFGREAD_HASH_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, a, alen) && EVP_DigestUpdate(ctx, "", 1) &&
             EVP_DigestUpdate(ctx, b, blen) && EVP_DigestFinal_ex(ctx, md, &mdlen) &&
             mdlen * 2 == CFGREAD_HASH_LEN;
    EVP_MD_CTX_free(ctx);
    hash[0] = '\0';
    for (unsigned i = 0; ok && i < mdlen; i++) {
        hash[2 * i] = hex[md[i] >> 4];
        hash[2 * i + 1] = hex[md[i] & 0xf];
    }
    if (ok)
        hash[CFGREAD_HASH_LEN] = '\0';
    return ok ? 0 : -1;
}

int routing_config_load_checked(const char *destinations_path, const char *routing_path,
                                const struct instrument_set *instruments, trf_report_fn report,
                                void *ud, struct routing_config **out)
{
    int rc = -1;
    config_t cd, cr;
    char *dtext = NULL, *rtext = NULL;
    size_t dlen = 0, rlen = 0;
    struct cfgread rd = {.file = destinations_path, .report = report, .ud = ud};
    struct cfgread rr = {.file = routing_path, .report = report, .ud = ud};
    struct fn_env env = {.instruments = instruments};
    struct routing_config *cfg = calloc(1, sizeof(*cfg));

    *out = NULL;
    config_init(&cd);
    config_init(&cr);
    if (cfg == NULL || (cfg->destinations_path = strdup(destinations_path)) == NULL ||
        (cfg->routing_path = strdup(routing_path)) == NULL) {
        cfgread_error(&rd, 0, 0, NULL, "out of memory");
        goto out;
    }
    facts_resolver_init(&cfg->resolver, FACTS_GROUP_ALL, routing__fns, ROUTING__FN_COUNT, &env);
    /* Both files are read even when the first fails, so one run shows every error. */
    int dest_known = load_destinations(&rd, &cd, cfg, &dtext, &dlen);
    load_rules(&rr, &cr, cfg, dest_known, &rtext, &rlen);
    cfg->resolver.ud = NULL; /* env lives only during the load */
    if (rd.errors + rr.errors > 0)
        goto out;
    qsort(cfg->rules, cfg->n_rules, sizeof(*cfg->rules), cmp_priority);
    if (hash_both(dtext, dlen, rtext, rlen, cfg->hash) != 0) {
        cfgread_error(&rr, 0, 0, NULL, "cannot compute sha-256");
        goto out;
    }
    cfg->instruments = instruments; /* evidence classes for routing_decide */
    *out = cfg;
    cfg = NULL;
    rc = 0;
out:
    cfgread_flush(&rd);
    cfgread_flush(&rr);
    routing_config_free(cfg);
    free(dtext);
    free(rtext);
    config_destroy(&cd);
    config_destroy(&cr);
    return rc;
}

int routing_config_load(const char *destinations_path, const char *routing_path,
                        trf_report_fn report, void *ud, struct routing_config **out)
{
    return routing_config_load_checked(destinations_path, routing_path, NULL, report, ud, out);
}
