/*
 * check_cfgcache.c: the compiled-configuration cache (cache/cfgcache.c).
 * A copy of the shipped configuration read back from the cache decides
 * exactly as the parsed files (routing fixtures, decisions with traces,
 * every instrument field, show_if programs, scoring, triggers), also when
 * it serves the same files under another root, and writes back to the same
 * bytes. A copy is refused, with its reason, whenever a file or folder
 * listing it was compiled from changed, it is for other paths, damaged, or
 * it, this user's folder or a cache folder that is not sticky may be
 * written by others. A write leaves one file of mode 0600 in this user's
 * folder (user-EUID) or nothing; damaged bytes, even behind a valid digest,
 * never crash the reader. Each test works on its own copy of
 * conf/trafficking in a temp folder. Pure: no PostgreSQL.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "cache/cfgcache.h"
#include "check_main.h"
#include "report_collect.h"
#include "routing/routing.h"
#include "routing/routing_test.h"
#include "rules/facts.h"
#include "rules/rule.h"
#include "screening/instrument.h"
#include "screening/scoring.h"
#include "screening/trigger.h"

#define SHIP "conf/trafficking"
#define FIXTURES SHIP "/routing-tests.cfg"
#define MISMATCH "tests/data/broken/routing/fixtures_mismatch.cfg"
#define NOW "now = \"2026-11-30T12:00:00Z\"; "

/* The file's layout (cfgcache.c): magic, key digest, payload SHA-256, payload length. */
#define HEADER 80
#define SUM_AT 40
#define LEN_AT 72

#if defined(__GNUC__)
#define CK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CK_PRINTF(f, a)
#endif

/* ----------------------------------------------------------- the folders --- */

#define TPATH 1024

/*
 * One test's temp folder (the key's root): a copy of conf/trafficking in
 * trafficking/, and the cache folder cache/ (mode 0700) whose user-EUID
 * folder holds the compiled copy.
 */
struct tree {
    char root[256];
    char cache[TPATH];
    char user[TPATH];      /* cache/user-EUID */
    char file[TPATH + 32]; /* user/CFGCACHE_FILE */
    char idir[TPATH], spath[TPATH], dpath[TPATH], rpath[TPATH];
    struct cfgcache_key key;
};

/* Runs a shell command, formatted, or fails the test. */
static void sh(const char *fmt, ...) CK_PRINTF(1, 2);
static void sh(const char *fmt, ...)
{
    char cmd[4 * TPATH];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

/* The four paths of the configuration in root/conf, and the key (rooted at t->root). */
static void tree_paths(struct tree *t, const char *conf)
{
    snprintf(t->idir, sizeof(t->idir), "%s/%s/instruments", t->root, conf);
    snprintf(t->spath, sizeof(t->spath), "%s/%s/screening.cfg", t->root, conf);
    snprintf(t->dpath, sizeof(t->dpath), "%s/%s/destinations.cfg", t->root, conf);
    snprintf(t->rpath, sizeof(t->rpath), "%s/%s/routing.cfg", t->root, conf);
    t->key = (struct cfgcache_key){.root = t->root,
                                   .instruments = t->idir,
                                   .screening = t->spath,
                                   .destinations = t->dpath,
                                   .routing = t->rpath};
}

/* The cache folder of t is dir: its user folder and file. */
static void tree_cache(struct tree *t, const char *dir)
{
    snprintf(t->cache, sizeof(t->cache), "%s", dir);
    snprintf(t->user, sizeof(t->user), "%s/user-%lu", dir, (unsigned long)geteuid());
    snprintf(t->file, sizeof(t->file), "%s/" CFGCACHE_FILE, t->user);
}

/*
 * The folder every tree of a tcase is made in: made before its tests and
 * removed after them by the tcase's unchecked fixture, so that a test that
 * fails (and so skips its own cleanup) leaves nothing behind either.
 */
static char base[200];

static void base_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof(base), "%s/check_cfgcache.XXXXXX",
             tmp != NULL && tmp[0] == '/' && strlen(tmp) < 100 ? tmp : "/tmp");
    ck_assert_msg(mkdtemp(base) != NULL, "mkdtemp %s: %s", base, strerror(errno));
}

static void base_teardown(void)
{
    sh("chmod -R u+rwX '%s' 2>/dev/null; rm -rf '%s'", base, base);
}

/* A fresh temp folder holding trafficking/ (cp -R of the shipped one) and cache/ (0700). */
static void tree_new(struct tree *t)
{
    char dir[TPATH];
    memset(t, 0, sizeof(*t));
    snprintf(t->root, sizeof(t->root), "%s/tree.XXXXXX", base);
    ck_assert_msg(mkdtemp(t->root) != NULL, "mkdtemp %s: %s", t->root, strerror(errno));
    sh("cp -R " SHIP " '%s/trafficking'", t->root);
    snprintf(dir, sizeof(dir), "%s/cache", t->root);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(chmod(dir, 0700), 0);
    tree_cache(t, dir);
    tree_paths(t, "trafficking");
}

static void tree_remove(struct tree *t)
{
    if (t->root[0] != '\0')
        sh("chmod -R u+rwX '%s' 2>/dev/null; rm -rf '%s'", t->root, t->root);
    t->root[0] = '\0';
}

/* The names in dir (not . and ..), sorted, joined by spaces (static storage). */
static const char *listing(const char *dir)
{
    static char buf[2048];
    char *names[32];
    size_t n = 0, off = 0;
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && n < 32)
            names[n++] = strdup(e->d_name);
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *x = names[j];
            names[j] = names[j - 1];
            names[j - 1] = x;
        }
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "", names[i]);
        free(names[i]);
    }
    return buf;
}

/* "user-EUID", this user's folder's name in a cache folder (static storage). */
static const char *user_name(void)
{
    static char name[64];
    snprintf(name, sizeof(name), "user-%lu", (unsigned long)geteuid());
    return name;
}

/* ----------------------------------------------------------- whole files --- */

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Replaces the bytes of an existing file (its owner and mode stay). */
static void spit(const char *path, const unsigned char *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
    ck_assert_int_eq(close(fd), 0);
}

/* Sets the payload length and SHA-256 of a file image of len bytes, as cfgcache_write does. */
static void reseal(unsigned char *buf, size_t len)
{
    uint64_t payload = len - HEADER;
    unsigned int mdlen = 0;
    for (int i = 0; i < 8; i++)
        buf[LEN_AT + i] = (unsigned char)(payload >> (8 * i));
    ck_assert(EVP_Digest(buf + HEADER, len - HEADER, buf + SUM_AT, &mdlen, EVP_sha256(), NULL));
    ck_assert_uint_eq(mdlen, 32);
}

/* --------------------------------------------------- loading and the cache --- */

/*
 * Loads the configuration of t as the plugin does, recording what it read
 * into deps; nothing may be reported. Recording stops before any assertion.
 */
static void load(const struct tree *t, struct cfgcache_config *a, struct cfgread_deps *deps)
{
    struct collected c = {0};
    int rc = 0;
    memset(a, 0, sizeof(*a));
    cfgread_deps_record(deps);
    rc |= instrument_set_load(t->idir, collect_report, &c, &a->instruments);
    rc |= trigger_set_load(t->spath, a->instruments, collect_report, &c, &a->triggers);
    rc |= routing_config_load_checked(t->dpath, t->rpath, a->instruments, collect_report, &c,
                                      &a->routing);
    cfgread_deps_record(NULL);
    ck_assert_msg(rc == 0 && c.n == 0, "%d reports, first: %s", c.n, c.n > 0 ? c.msg[0] : "");
    ck_assert(deps == NULL || (deps->n > 0 && !deps->failed));
}

/* Loads t and writes its compiled copy; the loaded configuration is released. */
static void load_and_write(const struct tree *t)
{
    struct cfgread_deps deps = {0};
    struct cfgcache_config a;
    char why[600] = "";
    load(t, &a, &deps);
    int rc = cfgcache_write(t->cache, &t->key, &deps, &a, why, sizeof(why));
    cfgread_deps_release(&deps);
    cfgcache_config_release(&a);
    ck_assert_msg(rc == 0, "cfgcache_write: %s", why);
}

static void read_hit(const struct tree *t, const struct cfgcache_key *key,
                     struct cfgcache_config *b)
{
    char why[600] = "";
    int rc = cfgcache_read(t->cache, key, b, why, sizeof(why));
    ck_assert_msg(rc == 0, "cfgcache_read missed: %s", why);
    ck_assert(b->instruments != NULL && b->triggers != NULL && b->routing != NULL);
}

/* Asserts that the copy in t->cache is not used for key, with want in the reason. */
static void read_miss(const struct tree *t, const struct cfgcache_key *key, const char *want)
{
    static struct instrument_set si;
    static struct trigger_set st;
    static struct routing_config sr;
    struct cfgcache_config out = {&si, &st, &sr}; /* must come back zeroed */
    char why[600] = "";
    int rc = cfgcache_read(t->cache, key, &out, why, sizeof(why));
    if (rc == 0)
        cfgcache_config_release(&out);
    ck_assert_msg(rc == -1, "cfgcache_read used the copy (want a miss: %s)", want);
    ck_assert_msg(out.instruments == NULL && out.triggers == NULL && out.routing == NULL,
                  "*out not zeroed after a miss (%s)", why);
    ck_assert_msg(strstr(why, want) != NULL, "why: '%s', want '%s'", why, want);
}

/* 1 when deps has an entry of kind for path. */
static int has_dep(const struct cfgread_deps *deps, enum cfgread_dep_kind kind, const char *path)
{
    for (size_t i = 0; i < deps->n; i++)
        if (deps->v[i].kind == kind && strcmp(deps->v[i].path, path) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------ comparing A and B --- */

/* A small deterministic generator (xorshift64*), so a failure replays. */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    rng_state = seed ? seed : 0x9e3779b97f4a7c15u;
}

static unsigned rng(unsigned n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (unsigned)((rng_state * 0x2545f4914f6cdd1du) >> 33) % n;
}

#define SAME_STR(a, b, what)                                                                       \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        ck_assert_msg((sa_ == NULL && sb_ == NULL) ||                                              \
                          (sa_ != NULL && sb_ != NULL && strcmp(sa_, sb_) == 0),                   \
                      "%s: '%s' vs '%s'", what, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");       \
    } while (0)

/* What a callback writes to a FILE, as a new string (caller frees). */
struct memout {
    char *buf;
    size_t len;
    FILE *f;
};

static FILE *memout_open(struct memout *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    ck_assert_ptr_nonnull(m->f);
    return m->f;
}

static char *memout_close(struct memout *m)
{
    ck_assert_int_eq(fclose(m->f), 0);
    return m->buf;
}

/* A JSON value as compact text (caller frees); the value is released. */
static char *json_text(json_t *j)
{
    ck_assert_ptr_nonnull(j);
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* A random value of type, or null one time in four. */
static struct rule_value random_value(enum rule_type type)
{
    static const char *const strs[] = {"minor", "adult", "possibly_minor", "minor_unknown_age",
                                       "CA",    "NV",    "positive",       "negative",
                                       "sex",   "",      "child_welfare",  "clear_concern"};
    static const double nums[] = {-1, 0, 1, 2, 3, 5, 12, 13, 17, 18, 20, 21, 24, 25, 30, 99};
    if (rng(4) == 0 || type == RULE_NULL)
        return (struct rule_value){.type = RULE_NULL};
    switch (type) {
    case RULE_BOOL:
        return (struct rule_value){.type = RULE_BOOL, .u.b = (int)rng(2)};
    case RULE_NUM:
        return (struct rule_value){.type = RULE_NUM, .u.n = nums[rng(16)]};
    default:
        return (struct rule_value){.type = RULE_STR, .u.s = strs[rng(12)]};
    }
}

/* The type of slot in programs compiled through r (a fixed fact or a call). */
static enum rule_type slot_type(const struct facts_resolver *r, size_t slot)
{
    if (slot < FACTS__COUNT)
        return facts_table[slot].type;
    const struct facts_call *call = facts_resolver_call(r, slot);
    ck_assert_ptr_nonnull(call);
    return r->fns[call->fn].type;
}

/* Fills facts[0 .. n-1] with random values of the slots' types. */
static void random_facts(const struct facts_resolver *r, struct rule_value *facts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        facts[i] = random_value(r != NULL ? slot_type(r, i) : facts_table[i].type);
}

/* Two programs are the same: source, shape, and the value and trace over facts. */
static void same_prog(const struct rule_prog *a, const struct rule_prog *b,
                      const struct rule_value *facts, size_t n_facts, const char *what)
{
    ck_assert_msg((a == NULL) == (b == NULL), "%s: program present in one copy only", what);
    if (a == NULL)
        return;
    SAME_STR(rule_source(a), rule_source(b), what);
    ck_assert_uint_eq(rule_node_count(a), rule_node_count(b));
    ck_assert_int_eq(rule_slot_count(a), rule_slot_count(b));
    ck_assert_uint_le((size_t)rule_slot_count(a), n_facts);
    for (int s = 0; s < rule_slot_count(a) + 2; s++)
        ck_assert_int_eq(rule_uses_slot(a, s), rule_uses_slot(b, s));
    size_t nodes = rule_node_count(a);
    struct rule_value *ta = calloc(nodes, sizeof(*ta)), *tb = calloc(nodes, sizeof(*tb));
    char ea[4096], eb[4096];
    ck_assert(ta != NULL && tb != NULL);
    int va = rule_eval(a, facts, ta), vb = rule_eval(b, facts, tb);
    ck_assert_msg(va == vb, "%s: %d vs %d", what, va, vb);
    ck_assert_int_eq(rule_eval(a, facts, NULL), va); /* the flat program agrees */
    ck_assert_int_eq(rule_eval(b, facts, NULL), vb);
    rule_explain(a, ta, ea, sizeof(ea));
    rule_explain(b, tb, eb, sizeof(eb));
    ck_assert_msg(strcmp(ea, eb) == 0, "%s: trace\n%s\nvs\n%s", what, ea, eb);
    for (size_t i = 0; i < nodes; i++) {
        size_t oa, la, ob, lb;
        int da, db;
        rule_node_span(a, i, &oa, &la, &da);
        rule_node_span(b, i, &ob, &lb, &db);
        ck_assert(oa == ob && la == lb && da == db);
    }
    free(ta);
    free(tb);
}

static void same_resolver(const struct facts_resolver *a, const struct facts_resolver *b)
{
    ck_assert_uint_eq(a->groups, b->groups);
    ck_assert_ptr_eq(a->fns, b->fns);
    ck_assert_uint_eq(a->n_fns, b->n_fns);
    ck_assert_uint_eq(a->n_calls, b->n_calls);
    ck_assert_uint_eq(facts_resolver_slot_count(a), facts_resolver_slot_count(b));
    for (size_t i = 0; i < a->n_calls; i++) {
        ck_assert_int_eq(a->calls[i].fn, b->calls[i].fn);
        SAME_STR(a->calls[i].arg, b->calls[i].arg, "call argument");
        ck_assert_int_eq(a->calls[i].target, b->calls[i].target);
    }
}

static void same_strs(char *const *a, size_t na, char *const *b, size_t nb, const char *what)
{
    ck_assert_msg(na == nb, "%s: %zu vs %zu", what, na, nb);
    for (size_t i = 0; i < na; i++)
        SAME_STR(a[i], b[i], what);
}

/* Every field of two items; show_if over each fact vector. */
static void same_item(const struct instrument_item *a, const struct instrument_item *b,
                      struct rule_value *const *facts, size_t n_vectors, size_t n_facts)
{
    SAME_STR(a->id, b->id, "item id");
    SAME_STR(a->prompt, b->prompt, a->id);
    ck_assert_int_eq(a->domain, b->domain);
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_int_eq(a->key, b->key);
    ck_assert_int_eq(a->disclosure, b->disclosure);
    ck_assert_int_eq(a->weight, b->weight);
    same_strs(a->choices, a->n_choices, b->choices, b->n_choices, a->id);
    ck_assert((a->concern == NULL) == (b->concern == NULL));
    if (a->concern != NULL)
        ck_assert_int_eq(memcmp(a->concern, b->concern, a->n_choices), 0);
    ck_assert(a->concern_at == b->concern_at);
    ck_assert_int_eq(a->line, b->line);
    ck_assert_uint_eq(a->evidence, b->evidence);
    ck_assert_int_eq(a->disclosure_kind, b->disclosure_kind);
    for (size_t v = 0; v < n_vectors; v++)
        same_prog(a->show_if, b->show_if, facts[v], n_facts, a->id);
}

/* A scoring outcome as text, every field. */
static void outcome_text(const struct instrument *inst, int rc, const char *err,
                         const struct scoring_outcome *o, const unsigned char *shown, char *buf,
                         size_t len)
{
    struct rule_value facts[FACTS__COUNT];
    size_t off;
    off = (size_t)snprintf(buf, len, "rc %d %s|", rc, rc ? err : "");
    if (rc != 0)
        return;
    off += (size_t)snprintf(buf + off, len - off,
                            "%s %lld %lld st%d %d key%d %d next%d shown%d skip%d after%d ans%d "
                            "band %s|",
                            scoring_result_name(o->result), o->score, o->reachable, o->stopped,
                            o->stop_item, o->key_item, o->key_open, o->next, o->shown, o->skipped,
                            o->after_stop, o->answered, scoring_band(inst, o));
    for (int k = 0; k < ANSWER__COUNT; k++)
        off += (size_t)snprintf(buf + off, len - off, "%d ", o->counts[k]);
    for (int d = 0; d < INSTRUMENT_DOMAIN__COUNT; d++)
        off += (size_t)snprintf(buf + off, len - off, "%lld/%d ", o->domain_score[d],
                                o->domain_concerns[d]);
    off += (size_t)snprintf(buf + off, len - off, "ev %u %d %d|", o->evidence.classes,
                            o->evidence.risk_count, o->evidence.disclosure);
    for (size_t i = 0; i < inst->n_items; i++)
        off += (size_t)snprintf(buf + off, len - off, "%d", shown[i]);
    facts_clear(facts, FACTS__COUNT);
    scoring_fill_facts(inst, o, facts);
    for (int i = 0; i < FACTS__COUNT && off < len; i++) {
        const struct rule_value *v = &facts[i];
        if (v->type == RULE_BOOL)
            off += (size_t)snprintf(buf + off, len - off, " b%d", v->u.b);
        else if (v->type == RULE_NUM)
            off += (size_t)snprintf(buf + off, len - off, " n%g", v->u.n);
        else if (v->type == RULE_STR)
            off += (size_t)snprintf(buf + off, len - off, " s%s", v->u.s);
        else
            off += (size_t)snprintf(buf + off, len - off, " -");
    }
}

/* A random answer that fits item it. */
static struct answer random_answer(const struct instrument_item *it)
{
    struct answer a = {.kind = (enum answer_kind)rng(ANSWER__COUNT)};
    if (it->kind == INSTRUMENT_KIND_YES_NO && a.kind == ANSWER_VALUE)
        a.kind = ANSWER_YES;
    if (it->kind != INSTRUMENT_KIND_YES_NO && (a.kind == ANSWER_YES || a.kind == ANSWER_NO))
        a.kind = ANSWER_VALUE;
    if (a.kind == ANSWER_VALUE)
        a.value = it->kind == INSTRUMENT_KIND_CHOICE ? (long long)rng((unsigned)it->n_choices)
                                                     : (long long)rng(6);
    return a;
}

#define VECTORS 6
#define ANSWER_SETS 12

/* Every field of two instruments; show_if over random fact vectors; scoring of random answers. */
static void same_instrument(const struct instrument *a, const struct instrument *b)
{
    SAME_STR(a->id, b->id, "instrument id");
    ck_assert_int_eq(a->version, b->version);
    SAME_STR(a->title, b->title, a->id);
    SAME_STR(a->purpose, b->purpose, a->id);
    SAME_STR(a->source, b->source, a->id);
    ck_assert_int_eq(a->min_age, b->min_age);
    ck_assert_int_eq(a->max_age, b->max_age);
    ck_assert_int_eq(a->mode, b->mode);
    ck_assert_int_eq(a->requires_training, b->requires_training);
    ck_assert_int_eq(a->min_answered, b->min_answered);
    ck_assert_int_eq(a->method, b->method);
    ck_assert_int_eq(a->at_least, b->at_least);
    ck_assert_int_eq(a->possible_at, b->possible_at);
    ck_assert_int_eq(a->clear_at, b->clear_at);
    SAME_STR(a->path, b->path, a->id);
    ck_assert_uint_eq(a->text_len, b->text_len);
    SAME_STR(a->text, b->text, a->id);
    SAME_STR(a->hash, b->hash, a->id);
    ck_assert_int_eq(a->line, b->line);
    ck_assert_int_eq(a->classes_declared, b->classes_declared);
    SAME_STR(a->classes_path, b->classes_path, a->id);
    same_resolver(&a->resolver, &b->resolver);
    ck_assert_uint_eq(a->n_items, b->n_items);
    ck_assert_uint_eq(instrument_slot_count(a), instrument_slot_count(b));

    size_t n_facts = instrument_slot_count(a);
    struct rule_value *facts[VECTORS];
    for (int v = 0; v < VECTORS; v++) {
        facts[v] = calloc(n_facts, sizeof(*facts[v]));
        ck_assert_ptr_nonnull(facts[v]);
        random_facts(&a->resolver, facts[v], n_facts);
    }
    for (size_t i = 0; i < a->n_items; i++)
        same_item(&a->items[i], &b->items[i], facts, VECTORS, n_facts);

    struct answer *answers = calloc(a->n_items, sizeof(*answers));
    unsigned char *sa = calloc(a->n_items + 1, 1), *sb = calloc(a->n_items + 1, 1);
    ck_assert(answers != NULL && sa != NULL && sb != NULL);
    for (int set = 0; set < ANSWER_SETS; set++) {
        struct scoring_outcome oa, ob;
        char ea[300] = "", eb[300] = "", ta[2048], tb[2048];
        for (size_t i = 0; i < a->n_items; i++)
            answers[i] = set == 0 ? (struct answer){.kind = ANSWER_YES, .value = 0}
                                  : random_answer(&a->items[i]);
        if (set == 0) /* every item a concern, as far as the kinds allow */
            for (size_t i = 0; i < a->n_items; i++)
                if (a->items[i].kind != INSTRUMENT_KIND_YES_NO)
                    answers[i] = (struct answer){.kind = ANSWER_VALUE, .value = 0};
        const struct rule_value *cf = set % 3 == 0 ? NULL : facts[set % VECTORS];
        memset(&oa, 0, sizeof(oa));
        memset(&ob, 0, sizeof(ob));
        int ra = scoring_run(a, answers, cf, &oa, sa, ea, sizeof(ea));
        int rb = scoring_run(b, answers, cf, &ob, sb, eb, sizeof(eb));
        outcome_text(a, ra, ea, &oa, sa, ta, sizeof(ta));
        outcome_text(b, rb, eb, &ob, sb, tb, sizeof(tb));
        ck_assert_msg(strcmp(ta, tb) == 0, "%s v%d answers %d:\n%s\nvs\n%s", a->id, a->version, set,
                      ta, tb);
    }
    free(answers);
    free(sa);
    free(sb);
    for (int v = 0; v < VECTORS; v++)
        free(facts[v]);
}

static void same_routing_config(const struct routing_config *a, const struct routing_config *b)
{
    ck_assert_uint_eq(a->n_destinations, b->n_destinations);
    for (size_t i = 0; i < a->n_destinations; i++) {
        const struct routing_destination *x = &a->destinations[i], *y = &b->destinations[i];
        SAME_STR(x->id, y->id, "destination id");
        SAME_STR(x->name, y->name, x->id);
        ck_assert_int_eq(x->kind, y->kind);
        ck_assert_int_eq(x->jurisdiction.any, y->jurisdiction.any);
        same_strs(x->jurisdiction.states, x->jurisdiction.n_states, y->jurisdiction.states,
                  y->jurisdiction.n_states, x->id);
        same_strs(x->jurisdiction.counties, x->jurisdiction.n_counties, y->jurisdiction.counties,
                  y->jurisdiction.n_counties, x->id);
        ck_assert_int_eq(x->channel.type, y->channel.type);
        SAME_STR(x->channel.url, y->channel.url, x->id);
        SAME_STR(x->channel.secret, y->channel.secret, x->id);
        SAME_STR(x->channel.secret_file, y->channel.secret_file, x->id);
        SAME_STR(x->channel.client_cert, y->channel.client_cert, x->id);
        SAME_STR(x->channel.client_key, y->channel.client_key, x->id);
        SAME_STR(x->channel.command, y->channel.command, x->id);
        SAME_STR(x->channel.spool_dir, y->channel.spool_dir, x->id);
        ck_assert_uint_eq(x->fields, y->fields);
        ck_assert_int_eq(x->needs_consent, y->needs_consent);
        ck_assert_int_eq(x->contacts_person, y->contacts_person);
        ck_assert_int_eq(x->ack_sla_hours, y->ack_sla_hours);
        ck_assert_int_eq(x->escalate_to, y->escalate_to);
        ck_assert_int_eq(x->line, y->line);
    }
    ck_assert_uint_eq(a->n_rules, b->n_rules);
    for (size_t i = 0; i < a->n_rules; i++) {
        const struct routing_rule *x = &a->rules[i], *y = &b->rules[i];
        SAME_STR(x->name, y->name, "rule name");
        ck_assert_int_eq(x->priority, y->priority);
        SAME_STR(rule_source(x->when), rule_source(y->when), x->name);
        ck_assert_uint_eq(x->n_refer, y->n_refer);
        for (size_t k = 0; k < x->n_refer; k++) {
            ck_assert_int_eq(x->refer[k].destination, y->refer[k].destination);
            ck_assert_int_eq(x->refer[k].kind, y->refer[k].kind);
        }
        ck_assert_int_eq(x->basis, y->basis);
        ck_assert_int_eq(x->urgency, y->urgency);
        ck_assert_int_eq(x->due_hours, y->due_hours);
        ck_assert_int_eq(x->stop, y->stop);
        SAME_STR(x->purpose, y->purpose, x->name);
        SAME_STR(x->note, y->note, x->name);
        ck_assert_int_eq(x->line, y->line);
        SAME_STR(x->instruction, y->instruction, x->name);
        ck_assert_int_eq(x->due_from, y->due_from);
    }
    ck_assert_uint_eq(a->n_cw_ages, b->n_cw_ages);
    for (size_t i = 0; i < a->n_cw_ages; i++) {
        same_strs(a->cw_ages[i].states, a->cw_ages[i].n_states, b->cw_ages[i].states,
                  b->cw_ages[i].n_states, "child_welfare_age");
        ck_assert_int_eq(a->cw_ages[i].age, b->cw_ages[i].age);
        ck_assert_int_eq(a->cw_ages[i].line, b->cw_ages[i].line);
    }
    same_resolver(&a->resolver, &b->resolver);
    SAME_STR(a->destinations_path, b->destinations_path, "destinations_path");
    SAME_STR(a->routing_path, b->routing_path, "routing_path");
    SAME_STR(a->hash, b->hash, "routing hash");
    ck_assert_ptr_null(b->own_instruments);
}

/* ------------------------------------------------------------ round trip --- */

/* The tree of a test of the tcases with a checked fixture (one per test). */
static struct tree t;

static void tree_setup(void)
{
    tree_new(&t);
}

static void tree_teardown(void)
{
    tree_remove(&t);
}

/*
 * The round trip every test of the tcase "round_trip" reads: the shipped
 * configuration parsed (a, with deps), written, and read back (b). Set up
 * once per tcase; nothing in it is changed by a test.
 */
static struct tree rt_tree;
static struct cfgcache_config rt_a, rt_b;
static struct cfgread_deps rt_deps;

static void round_trip_setup(void)
{
    char why[600] = "";
    base_setup();
    tree_new(&rt_tree);
    load(&rt_tree, &rt_a, &rt_deps);
    ck_assert_msg(cfgcache_write(rt_tree.cache, &rt_tree.key, &rt_deps, &rt_a, why, sizeof(why)) ==
                      0,
                  "cfgcache_write: %s", why);
    read_hit(&rt_tree, &rt_tree.key, &rt_b);
}

static void round_trip_teardown(void)
{
    cfgcache_config_release(&rt_a);
    cfgcache_config_release(&rt_b);
    cfgread_deps_release(&rt_deps);
    tree_remove(&rt_tree);
    base_teardown();
}

/* Runs a fixture file against cfg; the runner's text into *text (caller frees). */
static int run_fixtures(const struct routing_config *cfg, const char *path,
                        struct routing_test_result *res, char **text)
{
    struct collected c = {0};
    struct memout m;
    int rc = routing_test_run(cfg, path, memout_open(&m), collect_report, &c, res);
    *text = memout_close(&m);
    ck_assert_msg(c.n == 0, "%s: %d reports, first: %s", path, c.n, c.n ? c.msg[0] : "");
    return rc;
}

START_TEST(shipped_fixtures_run_the_same_from_the_copy)
{
    struct routing_test_result ra = {0}, rb = {0};
    char *ta = NULL, *tb = NULL;
    ck_assert_int_eq(run_fixtures(rt_a.routing, FIXTURES, &ra, &ta), 0);
    ck_assert_int_eq(run_fixtures(rt_b.routing, FIXTURES, &rb, &tb), 0);
    ck_assert_int_eq(ra.fixtures, 97);
    ck_assert_int_eq(rb.fixtures, ra.fixtures);
    ck_assert_int_eq(rb.failed, 0);
    ck_assert_str_eq(tb, ta);
    free(ta);
    free(tb);
    /* A file with a mismatch: the same explanation, byte for byte. */
    ck_assert_int_eq(run_fixtures(rt_a.routing, MISMATCH, &ra, &ta), 1);
    ck_assert_int_eq(run_fixtures(rt_b.routing, MISMATCH, &rb, &tb), 1);
    ck_assert_int_eq(rb.fixtures, ra.fixtures);
    ck_assert_int_eq(rb.failed, ra.failed);
    ck_assert_int_gt(strlen(ta), 0);
    ck_assert_str_eq(tb, ta);
    free(ta);
    free(tb);
}
END_TEST

/* Case groups (routing_input_from_setting) decided under both copies. */
static const struct {
    const char *name;
    const char *input;
} decisions[] = {
    {"minor_commercial_sex_v2",
     "case_id = 1; age = 15; age_known = true; state = \"CA\"; " NOW
     "screening = { id = 11; instrument = \"youth_quick\"; version = 2; result = \"positive\"; "
     "band = \"positive\"; score = 1; stopped = false; }; indicators = [\"exchanged_sex\"];"},
    {"minor_fraud_alone_county",
     "case_id = 2; age = 14; age_known = true; state = \"CA\"; county = \"Alameda\"; " NOW
     "screening = { id = 12; instrument = \"youth_quick\"; version = 2; result = \"positive\"; "
     "band = \"positive\"; score = 1; stopped = false; }; "
     "indicators = [\"offer_not_as_promised\"];"},
    {"minor_disclosure_v1_class_mapping",
     "case_id = 3; age = 16; age_known = true; state = \"CA\"; gender = \"female\"; " NOW
     "screening = { id = 13; instrument = \"youth_quick\"; version = 1; result = \"positive\"; "
     "band = \"positive\"; score = 2; stopped = true; }; "
     "indicators = [\"could_not_leave\", \"someone_making_you_now\"];"},
    {"adult_sex_by_force_with_consent",
     "case_id = 4; age = 26; age_known = true; state = \"CA\"; " NOW
     "screening = { id = 14; instrument = \"adult\"; version = 2; result = \"positive\"; "
     "band = \"positive\"; score = 2; stopped = false; }; "
     "indicators = [\"sex_for_value\", \"sex_by_force\"]; "
     "consents = ( { id = 7; purpose = \"referral\"; recipients = [\"le_ca\", "
     "\"kind:hotline\"]; active = true; } );"},
    {"adult_v1_in_nevada",
     "case_id = 5; age = 33; age_known = true; state = \"NV\"; " NOW
     "screening = { id = 15; instrument = \"adult\"; version = 1; result = \"positive\"; "
     "band = \"positive\"; score = 2; stopped = false; }; "
     "indicators = [\"forced_sexual_activity\", \"threats\"];"},
    {"unknown_age_in_danger",
     "case_id = 6; state = \"CA\"; " NOW
     "flags = { imminent_danger = true; control = true; recruitment = true; };"},
    {"estimated_disputed_age",
     "case_id = 7; age = 17; age_estimated = true; age_high = 19; age_disputed = true; "
     "state = \"CA\"; " NOW
     "screening = { id = 17; instrument = \"staff_observation\"; version = 2; "
     "result = \"possible\"; band = \"possible_concern\"; score = 5; stopped = false; }; "
     "indicators = [\"staying_where\", \"branding_or_street_language\"];"},
    {"observation_disclosure_exploited_as_minor",
     "case_id = 8; age = 19; age_known = true; state = \"CA\"; " NOW
     "exploitation = { from = \"2023-03-01\"; age = 16; age_high = 16; }; "
     "screening = { id = 18; instrument = \"staff_observation\"; version = 1; "
     "result = \"positive\"; band = \"clear_concern\"; score = 10; stopped = true; }; "
     "indicators = [\"told_staff\"]; domain_scores = { control = 2; health = 1; };"},
    {"missing_child_welfare_history",
     "case_id = 9; age = 15; age_known = true; state = \"CA\"; missing = true; " NOW
     "agency_kind = \"child_welfare\"; runaway_episodes = 2; "
     "flags = { cw_history = true; jj_history = true; runaway_return = true; };"},
    {"unsafe_phone_and_a_decline",
     "case_id = 10; age = 30; age_known = true; state = \"CA\"; county = \"Fresno\"; " NOW
     "screening = { id = 20; instrument = \"adult\"; version = 2; result = \"positive\"; "
     "band = \"positive\"; score = 2; stopped = false; }; "
     "indicators = [\"papers_kept\", \"threats\"]; "
     "consents = ( { id = 8; purpose = \"referral\"; recipients = [\"kind:law_enforcement\", "
     "\"nhth\"]; granted_at = \"2026-10-01T09:00:00Z\"; expires_at = \"2027-10-01T09:00:00Z\"; "
     "} ); declines = ( { id = 3; recipient = \"kind:law_enforcement\"; "
     "declined_at = \"2026-11-01T09:00:00Z\"; } ); "
     "safe_contact = { trafficker_controls_phone = true; safe_channels = []; };"},
    {"ledger_and_repeat_screens",
     "case_id = 11; age = 15; age_known = true; state = \"CA\"; " NOW
     "screenings = ( { id = 2062; instrument = \"youth_quick\"; version = 2; "
     "result = \"negative\"; band = \"negative\"; score = 0; stopped = false; "
     "finished_at = \"2026-11-20T10:00:00Z\"; indicators = []; }, "
     "{ id = 2061; instrument = \"youth_quick\"; version = 2; result = \"positive\"; "
     "band = \"positive\"; score = 2; stopped = true; finished_at = \"2026-11-02T10:00:00Z\"; "
     "indicators = [\"exchanged_sex\", \"someone_making_you_now\"]; } ); "
     "ledger = ( { referral = 51; destination = \"le_ca\"; basis = \"mandatory_report\"; "
     "state = \"closed\"; evidence = [\"coercion\", \"commercial_sex\"]; disclosure = 2061; "
     "delivered_at = \"2026-11-03T10:00:00Z\"; }, { referral = 52; case = 99; "
     "destination = \"cw_ca\"; basis = \"mandatory_report\"; state = \"queued\"; "
     "evidence = [\"commercial_sex\"]; outbox = \"failed\"; } );"},
    {"young_adult_labour_health_screen",
     "case_id = 12; age = 20; age_known = true; state = \"CA\"; county = \"Alameda\"; " NOW
     "screening = { id = 22; instrument = \"youth_health\"; version = 1; "
     "result = \"positive\"; band = \"positive\"; score = 3; stopped = false; }; "
     "indicators = [\"ran_away\", \"older_partner_in_control\", \"exchanged_anything\"]; "
     "consents = ( { id = 9; purpose = \"referral\"; recipients = [\"kind:victim_services\", "
     "\"kind:young_adult_services\"]; active = true; } ); "
     "safe_contact = { do_not_contact = false; safe_channels = [\"email\", \"in_person\"]; };"},
};

static void parse_case(const char *text, struct routing_input *in)
{
    struct collected c = {0};
    config_t cf;
    size_t n = strlen(text) + 32;
    char *src = malloc(n);
    struct cfgread r = {.file = "case", .report = collect_report, .ud = &c};
    ck_assert_ptr_nonnull(src);
    snprintf(src, n, "case = { %s };", text);
    r.text = src;
    config_init(&cf);
    ck_assert_msg(config_read_string(&cf, src) == CONFIG_TRUE, "syntax: %s line %d",
                  config_error_text(&cf), config_error_line(&cf));
    int rc = routing_input_from_setting(&r, config_lookup(&cf, "case"), in);
    cfgread_flush(&r);
    config_destroy(&cf);
    free(src);
    ck_assert_msg(rc == 0 && c.n == 0, "case has errors: %s", c.n ? c.msg[0] : "?");
}

/* Everything a decision under cfg shows, as one text: JSON, explanation, summary, ledger. */
static char *decision_text(const struct routing_config *cfg, const struct routing_input *in)
{
    struct routing_decision d;
    struct routing_ledger l;
    struct memout m;
    FILE *f;
    ck_assert_int_eq(routing_decide(cfg, in, &d), 0);
    ck_assert_int_eq(routing_ledger_of(cfg, in, &d, &l), 0);
    char *dj = json_text(routing_decision_to_json(&d));
    json_t *summary = routing_summary(&d, cfg, NULL, 0);
    ck_assert_ptr_nonnull(summary);
    f = memout_open(&m);
    fprintf(f, "decision %s\n", dj);
    routing_explain_text(&d, f);
    routing_summary_text(summary, f);
    char *sj = json_text(summary);
    char *lj = json_text(routing_ledger_to_json(&l));
    char *ej = json_text(routing_input_evidence_json(in, cfg->instruments));
    fprintf(f, "summary %s\nledger %s\nevidence %s type %s classes %u\n", sj, lj, ej,
            routing_input_trafficking_type(in, cfg->instruments),
            routing_input_report_classes(in, cfg->instruments));
    free(dj);
    free(sj);
    free(lj);
    free(ej);
    routing_ledger_release(&l);
    routing_decision_release(&d);
    return memout_close(&m);
}

START_TEST(decisions_with_traces_are_the_same)
{
    struct routing_input in;
    parse_case(decisions[_i].input, &in);
    char *ta = decision_text(rt_a.routing, &in);
    char *tb = decision_text(rt_b.routing, &in);
    ck_assert_msg(strcmp(ta, tb) == 0, "%s:\n--- parsed\n%s\n--- compiled\n%s", decisions[_i].name,
                  ta, tb);
    /* The trace is there: at least one rule was evaluated and explained. */
    ck_assert_msg(strstr(ta, "\"trace\":\"") != NULL, "%s: no trace in\n%s", decisions[_i].name,
                  ta);
    free(ta);
    free(tb);
    routing_input_release(&in);
}
END_TEST

static void same_instruments(const struct instrument_set *a, const struct instrument_set *b)
{
    ck_assert_uint_eq(b->n, a->n);
    for (size_t i = 0; i < a->n; i++)
        same_instrument(a->v[i], b->v[i]);
}

START_TEST(instruments_are_the_same_field_by_field)
{
    rng_seed(20261130);
    ck_assert_uint_ge(rt_a.instruments->n, 8);
    same_instruments(rt_a.instruments, rt_b.instruments);
}
END_TEST

/* Same triggers; the same ones match every event over random case facts. */
static void same_triggers(const struct trigger_set *a, const struct trigger_set *b)
{
    size_t matched = 0;
    ck_assert_uint_eq(b->n, a->n);
    ck_assert_uint_gt(a->n, 0);
    SAME_STR(a->path, b->path, "trigger path");
    SAME_STR(a->hash, b->hash, "trigger hash");
    for (size_t i = 0; i < a->n; i++) {
        const struct trigger *x = &a->v[i], *y = &b->v[i];
        SAME_STR(x->name, y->name, "trigger");
        ck_assert_uint_eq(x->events, y->events);
        SAME_STR(x->instrument, y->instrument, x->name);
        ck_assert_int_eq(x->due_hours, y->due_hours);
        ck_assert_int_eq(x->due_from, y->due_from);
        SAME_STR(x->reason, y->reason, x->name);
        ck_assert_int_eq(x->line, y->line);
    }
    for (int round = 0; round < 64; round++) {
        struct rule_value fa[FACTS__COUNT], fb[FACTS__COUNT];
        random_facts(NULL, fa, FACTS__COUNT);
        memcpy(fb, fa, sizeof(fa));
        for (int ev = 0; ev < FACTS_EV__COUNT; ev++) {
            const struct trigger *ma[8], *mb[8];
            size_t na = trigger_match(a, (enum facts_event)ev, fa, ma, 8);
            size_t nb = trigger_match(b, (enum facts_event)ev, fb, mb, 8);
            ck_assert_uint_eq(na, nb);
            for (size_t k = 0; k < na && k < 8; k++)
                SAME_STR(ma[k]->name, mb[k]->name, "matched trigger");
            for (size_t k = 0; k < a->n; k++) /* the traced evaluation agrees too */
                same_prog(a->v[k].when, b->v[k].when, fa, FACTS__COUNT, a->v[k].name);
            matched += na;
        }
    }
    ck_assert_uint_gt(matched, 0); /* the vectors reached some trigger */
}

START_TEST(triggers_match_the_same)
{
    rng_seed(4242);
    same_triggers(rt_a.triggers, rt_b.triggers);
}
END_TEST

START_TEST(routing_configuration_is_the_same_field_by_field)
{
    same_routing_config(rt_a.routing, rt_b.routing);
    ck_assert_ptr_eq(rt_b.routing->instruments, rt_b.instruments);
    ck_assert_ptr_eq(rt_a.routing->instruments, rt_a.instruments);
    /* Every file and folder it came from was recorded. */
    ck_assert(has_dep(&rt_deps, CFGREAD_DEP_DIR, rt_tree.idir));
    ck_assert(has_dep(&rt_deps, CFGREAD_DEP_FILE, rt_tree.spath));
    ck_assert(has_dep(&rt_deps, CFGREAD_DEP_FILE, rt_tree.dpath));
    ck_assert(has_dep(&rt_deps, CFGREAD_DEP_FILE, rt_tree.rpath));
    for (size_t i = 0; i < rt_a.instruments->n; i++) {
        ck_assert(has_dep(&rt_deps, CFGREAD_DEP_FILE, rt_a.instruments->v[i]->path));
        if (rt_a.instruments->v[i]->classes_path != NULL)
            ck_assert(has_dep(&rt_deps, CFGREAD_DEP_FILE, rt_a.instruments->v[i]->classes_path));
    }
}
END_TEST

START_TEST(writing_the_copy_again_gives_the_same_bytes)
{
    struct tree second = rt_tree;
    char dir2[TPATH], why[600] = "";
    size_t n1, n2;
    snprintf(dir2, sizeof(dir2), "%s/cache2", rt_tree.root);
    ck_assert_int_eq(mkdir(dir2, 0700), 0);
    tree_cache(&second, dir2);
    ck_assert_msg(cfgcache_write(dir2, &rt_tree.key, &rt_deps, &rt_b, why, sizeof(why)) == 0, "%s",
                  why);
    unsigned char *f1 = slurp(rt_tree.file, &n1), *f2 = slurp(second.file, &n2);
    ck_assert_uint_gt(n1, HEADER);
    ck_assert_uint_eq(n2, n1);
    for (size_t i = 0; i < n1; i++)
        ck_assert_msg(f1[i] == f2[i], "byte %zu of %zu differs", i, n1);
    free(f1);
    free(f2);
    sh("rm -rf '%s'", dir2);
}
END_TEST

/* ----------------------------------------------------------- another root --- */

/*
 * The same files copied under another root: the copy written from the
 * first serves the second, and what it gives is what parsing the second's
 * files gives, its paths included (every path under the root is rebased).
 */
START_TEST(copy_serves_the_same_files_under_another_root)
{
    struct tree u;
    struct cfgread_deps deps = {0};
    struct cfgcache_config a2, b2;
    struct routing_test_result ra, rb;
    char *ta, *tb;
    tree_new(&u);
    load(&u, &a2, &deps);
    cfgread_deps_release(&deps);
    tree_cache(&u, rt_tree.cache); /* the copy written from rt_tree */
    read_hit(&u, &u.key, &b2);
    ck_assert_str_eq(b2.routing->routing_path, u.rpath);
    ck_assert_str_eq(b2.instruments->v[0]->path + strlen(u.root),
                     rt_b.instruments->v[0]->path + strlen(rt_tree.root));
    rng_seed(77);
    same_instruments(a2.instruments, b2.instruments);
    same_triggers(a2.triggers, b2.triggers);
    same_routing_config(a2.routing, b2.routing);
    ck_assert_ptr_eq(b2.routing->instruments, b2.instruments);
    ck_assert_int_eq(run_fixtures(a2.routing, FIXTURES, &ra, &ta), 0);
    ck_assert_int_eq(run_fixtures(b2.routing, FIXTURES, &rb, &tb), 0);
    ck_assert_int_eq(rb.fixtures, ra.fixtures);
    ck_assert_str_eq(tb, ta);
    free(ta);
    free(tb);
    for (size_t i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++) {
        struct routing_input in;
        parse_case(decisions[i].input, &in);
        ta = decision_text(a2.routing, &in);
        tb = decision_text(b2.routing, &in);
        ck_assert_msg(strcmp(ta, tb) == 0, "%s:\n%s\nvs\n%s", decisions[i].name, ta, tb);
        free(ta);
        free(tb);
        routing_input_release(&in);
    }
    cfgcache_config_release(&b2);
    /* One file of the second root differs: not used there, still used at the first. */
    sh("printf '# x\\n' >> '%s'", u.spath);
    read_miss(&u, &u.key, "changed since");
    read_hit(&rt_tree, &rt_tree.key, &b2);
    cfgcache_config_release(&b2);
    cfgcache_config_release(&a2);
    tree_remove(&u);
}
END_TEST

/*
 * A path the destinations file writes absolute, which happens to lie under
 * the root the copy was written from, is a path of the file, not of the
 * root: parsing the same file under another root keeps it as written, and
 * so must the copy.
 */
START_TEST(absolute_path_in_a_file_is_kept_as_written_under_another_root)
{
    struct tree u;
    struct cfgread_deps deps = {0};
    struct cfgcache_config a1, a2, b2;
    char why[600] = "";
    tree_new(&u);
    /* Both copies name the first root's spool folder, absolute. */
    sh("sed -i 's|spool_dir = \"../../var/spool/|spool_dir = \"%s/spool/|' "
       "'%s/trafficking/destinations.cfg' '%s/trafficking/destinations.cfg'",
       t.root, t.root, u.root);
    load(&t, &a1, &deps);
    ck_assert_int_eq(cfgcache_write(t.cache, &t.key, &deps, &a1, why, sizeof(why)), 0);
    cfgread_deps_release(&deps);
    load(&u, &a2, NULL);
    ck_assert_ptr_nonnull(strstr(a2.routing->destinations[0].channel.spool_dir, t.root));
    tree_cache(&u, t.cache);
    read_hit(&u, &u.key, &b2);
    SAME_STR(b2.routing->destinations[0].channel.spool_dir,
             a2.routing->destinations[0].channel.spool_dir, "absolute spool_dir");
    cfgcache_config_release(&b2);
    cfgcache_config_release(&a2);
    cfgcache_config_release(&a1);
    tree_remove(&u);
}
END_TEST

/* ---------------------------------------------------------------- misses --- */

/*
 * One change made after the copy was written (a shell command run in the
 * tree's root, whose configuration is in trafficking/), and what a read
 * says then: want is a part of the reason, or NULL when the copy is still
 * used (a change no load could see).
 */
static const struct {
    const char *name;
    const char *change;
    const char *want;
} changes[] = {
    {"routing_cfg_changed", "printf '# x\\n' >> trafficking/routing.cfg", "changed since"},
    {"destinations_cfg_changed", "printf '# x\\n' >> trafficking/destinations.cfg",
     "changed since"},
    {"screening_cfg_changed", "printf '# x\\n' >> trafficking/screening.cfg", "changed since"},
    {"instrument_file_changed", "printf '# x\\n' >> trafficking/instruments/adult.cfg",
     "changed since"},
    {"old_instrument_version_changed",
     "printf '# x\\n' >> trafficking/instruments/youth_quick.v1.cfg", "changed since"},
    {"class_mapping_file_changed",
     "printf '# x\\n' >> trafficking/instruments/classes/youth_quick.v1.cfg", "changed since"},
    {"same_length_edit", "sed -i 's/priority = /priority =\\t/' trafficking/routing.cfg",
     "changed since"},
    {"instrument_file_added",
     "cp trafficking/instruments/adult.cfg trafficking/instruments/zz_adult.cfg", "changed since"},
    {"instrument_file_removed", "rm trafficking/instruments/youth_health.cfg", "changed since"},
    {"instrument_file_renamed",
     "mv trafficking/instruments/youth_health.cfg trafficking/instruments/youth_health2.cfg",
     "changed since"},
    {"class_mapping_file_added",
     "cp trafficking/instruments/classes/adult.v1.cfg trafficking/instruments/classes/x.cfg",
     "changed since"},
    {"class_mapping_file_removed", "rm trafficking/instruments/classes/adult.v1.cfg",
     "changed since"},
    {"classes_folder_removed", "rm -r trafficking/instruments/classes", "changed since"},
    {"classes_folder_made_a_file",
     "rm -r trafficking/instruments/classes && touch trafficking/instruments/classes",
     "changed since"},
    {"routing_cfg_removed", "rm trafficking/routing.cfg", "changed since"},
    {"instrument_file_made_a_folder",
     "rm trafficking/instruments/adult.cfg && mkdir trafficking/instruments/adult.cfg",
     "changed since"},
    /* What no load reads: the copy stays in use. */
    {"times_changed_bytes_the_same",
     "touch -d '2001-01-01' trafficking/routing.cfg trafficking/instruments "
     "trafficking/instruments/adult.cfg",
     NULL},
    {"file_rewritten_with_the_same_bytes",
     "cp trafficking/routing.cfg x && rm trafficking/routing.cfg && mv x trafficking/routing.cfg",
     NULL},
    {"other_files_added_to_the_folders",
     "touch trafficking/instruments/README trafficking/instruments/.hidden.cfg "
     "trafficking/instruments/classes/notes.txt",
     NULL},
    {"fixtures_changed", "printf '# x\\n' >> trafficking/routing-tests.cfg", NULL},
};

START_TEST(copy_is_not_used_once_a_source_changed)
{
    struct cfgcache_config b;
    load_and_write(&t);
    sh("cd '%s' && %s", t.root, changes[_i].change);
    if (changes[_i].want != NULL) {
        read_miss(&t, &t.key, changes[_i].want);
        return;
    }
    read_hit(&t, &t.key, &b);
    cfgcache_config_release(&b);
}
END_TEST

START_TEST(no_copy_yet)
{
    read_miss(&t, &t.key, "no compiled copy yet"); /* no user folder */
    ck_assert_str_eq(listing(t.cache), "");
    ck_assert_int_eq(mkdir(t.user, 0700), 0);
    read_miss(&t, &t.key, "no compiled copy yet"); /* an empty one */
}
END_TEST

/* After a miss the caller loads the files and writes again: the new copy is used. */
START_TEST(copy_written_again_after_a_change_is_used)
{
    struct cfgcache_config b;
    load_and_write(&t);
    sh("printf '# x\\n' >> '%s'", t.rpath);
    read_miss(&t, &t.key, "changed since");
    load_and_write(&t);
    read_hit(&t, &t.key, &b);
    ck_assert_str_eq(listing(t.user), CFGCACHE_FILE);
    cfgcache_config_release(&b);
}
END_TEST

/*
 * The same files under other path strings: the copy is for its four paths
 * and its root only (each path in turn with a doubled slash, a trailing
 * "/.", a folder reached through a symbolic link, the paths in other roles,
 * no root or another root).
 */
START_TEST(copy_is_for_its_own_paths_only)
{
    char other[TPATH], alt[TPATH];
    load_and_write(&t);
    for (int k = 0; k < 4; k++) {
        struct cfgcache_key key = t.key;
        const char **parts[4] = {&key.instruments, &key.screening, &key.destinations, &key.routing};
        snprintf(other, sizeof(other), "%s/trafficking//%s", t.root, strrchr(*parts[k], '/') + 1);
        *parts[k] = other;
        read_miss(&t, &key, "other paths");
    }
    struct cfgcache_key key = t.key;
    snprintf(other, sizeof(other), "%s/trafficking/instruments/.", t.root);
    key.instruments = other;
    read_miss(&t, &key, "other paths");
    key = (struct cfgcache_key){t.root, t.idir, t.dpath, t.spath, t.rpath};
    read_miss(&t, &key, "other paths");
    key = t.key;
    key.root = NULL;
    read_miss(&t, &key, "other paths");
    snprintf(other, sizeof(other), "%s/trafficking", t.root);
    key.root = other;
    read_miss(&t, &key, "other paths");
    snprintf(other, sizeof(other), "%s/", t.root);
    key.root = other;
    read_miss(&t, &key, "other paths");

    /* The whole configuration through a symlinked folder. */
    struct tree link = t;
    snprintf(alt, sizeof(alt), "%s/linked", t.root);
    ck_assert_int_eq(symlink("trafficking", alt), 0);
    tree_paths(&link, "linked");
    read_miss(&link, &link.key, "other paths");

    /* A copy written for the linked paths replaces the first: now that one misses. */
    load_and_write(&link);
    struct cfgcache_config b;
    read_hit(&link, &link.key, &b);
    cfgcache_config_release(&b);
    read_miss(&t, &t.key, "other paths");
}
END_TEST

/* Without a root every path is kept whole; such a copy serves only those paths. */
START_TEST(copy_without_a_root_keeps_whole_paths)
{
    struct tree noroot = t;
    struct cfgcache_config b;
    noroot.key.root = NULL;
    load_and_write(&noroot);
    read_hit(&noroot, &noroot.key, &b);
    ck_assert_str_eq(b.routing->destinations_path, t.dpath);
    ck_assert_ptr_nonnull(strstr(b.instruments->v[0]->path, t.idir));
    cfgcache_config_release(&b);
    read_miss(&t, &t.key, "other paths");
    /* A root that is no prefix of any path keeps them whole too: the same key. */
    noroot.key.root = "/nonexistent-root";
    read_hit(&noroot, &noroot.key, &b);
    ck_assert_str_eq(b.routing->routing_path, t.rpath);
    cfgcache_config_release(&b);
}
END_TEST

/* One change to the bytes of a valid copy, and the reason it is refused for. */
static const struct {
    const char *name;
    long at;      /* offset; negative: from the end */
    int truncate; /* 1: cut the file to `at` bytes instead */
    const char *want;
} damages[] = {
    {"payload_first_byte_flipped", HEADER, 0, "damaged"},
    {"payload_middle_byte_flipped", -5000, 0, "damaged"},
    {"payload_last_byte_flipped", -1, 0, "damaged"},
    {"payload_digest_flipped", SUM_AT + 7, 0, "damaged"},
    {"length_field_flipped", LEN_AT, 0, "damaged"},
    {"length_field_high_byte_flipped", LEN_AT + 7, 0, "damaged"},
    {"magic_changed", 0, 0, "other paths"},
    {"format_digit_changed", 7, 0, "other paths"},
    {"key_digest_changed", 8 + 31, 0, "other paths"},
    {"truncated_by_one", -1, 1, "damaged"},
    {"truncated_to_the_header", HEADER, 1, "damaged"},
    {"shorter_than_the_header", HEADER - 1, 1, "wrong size"},
    {"empty", 0, 1, "wrong size"},
};

START_TEST(damaged_copy_is_not_used)
{
    size_t len;
    load_and_write(&t);
    unsigned char *buf = slurp(t.file, &len);
    long at = damages[_i].at < 0 ? (long)len + damages[_i].at : damages[_i].at;
    ck_assert(at >= 0 && (size_t)at <= len);
    if (damages[_i].truncate) {
        spit(t.file, buf, (size_t)at);
    } else {
        buf[at] ^= 0x20;
        spit(t.file, buf, len);
    }
    read_miss(&t, &t.key, damages[_i].want);
    free(buf);
}
END_TEST

/* Modes of the copy, of this user's folder and of the cache folder. */
static const struct {
    const char *name;
    mode_t file, user, cache;
    const char *want; /* NULL: used */
} modes[] = {
    {"all_private", 0600, 0700, 0700, NULL},
    {"file_0400", 0400, 0700, 0700, NULL},
    /* Readable by others is no risk to what is loaded: the checks are about writing. */
    {"file_0644", 0644, 0700, 0700, NULL},
    {"file_0620", 0620, 0700, 0700, "compiled copy '@' may be written by others (mode 0620)"},
    {"file_0602", 0602, 0700, 0700, "may be written by others (mode 0602)"},
    {"file_0666", 0666, 0700, 0700, "may be written by others (mode 0666)"},
    {"user_0755", 0600, 0755, 0700, NULL},
    {"user_0770", 0600, 0770, 0700, "cache folder '@' may be written by others (mode 0770)"},
    {"user_0707", 0600, 0707, 0700, "may be written by others (mode 0707)"},
    {"user_1777", 0600, 01777, 0700, "may be written by others (mode 1777)"},
    {"cache_0755", 0600, 0700, 0755, NULL},
    {"cache_0770", 0600, 0700, 0770, "may be written by others and is not sticky"},
    {"cache_0777", 0600, 0700, 0777, "may be written by others and is not sticky"},
    {"cache_0703", 0600, 0700, 0703, "may be written by others and is not sticky"},
    /* A sticky folder, as /tmp: each user keeps to a folder of their own. */
    {"cache_1777", 0600, 0700, 01777, NULL},
    {"cache_1770", 0600, 0700, 01770, NULL},
};

START_TEST(copy_others_may_write_is_not_used)
{
    char why[600] = "", want[TPATH + 200];
    load_and_write(&t);
    ck_assert_int_eq(chmod(t.file, modes[_i].file), 0);
    ck_assert_int_eq(chmod(t.user, modes[_i].user), 0);
    ck_assert_int_eq(chmod(t.cache, modes[_i].cache), 0);
    char *user = cfgcache_user_dir(t.cache, 0, why, sizeof(why));
    int user_bad = (modes[_i].user & 022) != 0 ||
                   ((modes[_i].cache & 022) != 0 && (modes[_i].cache & 01000) == 0);
    ck_assert_msg((user == NULL) == user_bad, "cfgcache_user_dir: %s", user ? user : why);
    if (user != NULL)
        ck_assert_str_eq(user, t.user);
    free(user);
    if (modes[_i].want == NULL) {
        struct cfgcache_config b;
        read_hit(&t, &t.key, &b);
        cfgcache_config_release(&b);
        return;
    }
    const char *at = strchr(modes[_i].want, '@');
    if (at != NULL) /* '@' stands for the file or folder named */
        snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - modes[_i].want), modes[_i].want,
                 strstr(modes[_i].want, "copy") != NULL ? t.file : t.user, at + 1);
    else
        snprintf(want, sizeof(want), "%s", modes[_i].want);
    read_miss(&t, &t.key, want);
}
END_TEST

/* The copy replaced by a symbolic link to a valid copy, or by a folder. */
START_TEST(copy_that_is_no_plain_file_is_not_used)
{
    char other[TPATH];
    load_and_write(&t);
    snprintf(other, sizeof(other), "%s/valid.copy", t.root);
    ck_assert_int_eq(rename(t.file, other), 0);
    ck_assert_int_eq(symlink(other, t.file), 0);
    read_miss(&t, &t.key, "cannot open");
    ck_assert_int_eq(unlink(t.file), 0);
    ck_assert_int_eq(mkdir(t.file, 0700), 0);
    read_miss(&t, &t.key, "is not a plain file");
    /* The valid copy itself, moved back, is used: the link was the only reason. */
    ck_assert_int_eq(rmdir(t.file), 0);
    ck_assert_int_eq(rename(other, t.file), 0);
    struct cfgcache_config b;
    read_hit(&t, &t.key, &b);
    cfgcache_config_release(&b);
}
END_TEST

/*
 * The cache folder missing, a file, or a symbolic link to a good folder
 * (followed: it is the administrator's setting); this user's folder in it
 * a symbolic link to a good folder (not followed) or a file.
 */
START_TEST(cache_folder_missing_or_not_a_folder)
{
    char why[600] = "", link[TPATH], moved_user[TPATH];
    struct tree moved = t;
    struct cfgcache_config b;
    load_and_write(&t);
    tree_cache(&moved, "/nonexistent-cache-folder");
    ck_assert_ptr_null(cfgcache_user_dir(moved.cache, 0, why, sizeof(why)));
    ck_assert_ptr_nonnull(strstr(why, "No such file or directory"));
    read_miss(&moved, &t.key, "No such file or directory");
    tree_cache(&moved, t.rpath);
    read_miss(&moved, &t.key, "is not a folder");
    snprintf(link, sizeof(link), "%s/cachelink", t.root);
    ck_assert_int_eq(symlink(t.cache, link), 0);
    tree_cache(&moved, link);
    read_hit(&moved, &t.key, &b);
    cfgcache_config_release(&b);

    snprintf(moved_user, sizeof(moved_user), "%s/elsewhere", t.root);
    ck_assert_int_eq(rename(t.user, moved_user), 0);
    ck_assert_int_eq(symlink(moved_user, t.user), 0);
    read_miss(&t, &t.key, "is not a folder");
    ck_assert_ptr_null(cfgcache_user_dir(t.cache, 1, why, sizeof(why)));
    ck_assert_int_eq(unlink(t.user), 0);
    sh("touch '%s'", t.user);
    read_miss(&t, &t.key, "is not a folder");
    ck_assert_int_eq(unlink(t.user), 0);
    ck_assert_int_eq(rename(moved_user, t.user), 0);
    read_hit(&t, &t.key, &b);
    cfgcache_config_release(&b);
}
END_TEST

START_TEST(copy_of_another_user_is_not_used)
{
    struct cfgcache_config b;
    if (geteuid() != 0) {
        /* Only root can give a file away: nothing to check as an ordinary user. */
        return;
    }
    load_and_write(&t);
    ck_assert_int_eq(chown(t.file, 65534, 65534), 0);
    read_miss(&t, &t.key, "belongs to another user");
    ck_assert_int_eq(chown(t.file, 0, 0), 0);
    ck_assert_int_eq(chown(t.user, 65534, 65534), 0);
    read_miss(&t, &t.key, "belongs to another user");
    ck_assert_int_eq(chown(t.user, 0, 0), 0);
    /* The cache folder's owner could swap the folders in it: root's or this user's only. */
    ck_assert_int_eq(chown(t.cache, 65534, 65534), 0);
    read_miss(&t, &t.key, "belongs to another user");
    ck_assert_int_eq(chown(t.cache, 0, 0), 0);
    read_hit(&t, &t.key, &b);
    cfgcache_config_release(&b);
}
END_TEST

/*
 * A folder the instruments load without (no earlier versions, so no class
 * mapping): the copy records it absent, is used while it stays absent, and
 * not once it is created.
 */
static void tree_without_classes(struct tree *tr)
{
    sh("cd '%s/trafficking/instruments' && rm -r classes *.v1.cfg", tr->root);
}

START_TEST(classes_folder_created_where_there_was_none)
{
    struct cfgcache_config b;
    tree_without_classes(&t);
    load_and_write(&t);
    read_hit(&t, &t.key, &b);
    cfgcache_config_release(&b);
    sh("mkdir '%s/classes'", t.idir);
    read_miss(&t, &t.key, "changed since");
}
END_TEST

/*
 * The same, with the dependency list grown into memory that held other
 * bytes before (as a heap that was used does): an absent folder's entry
 * must still read back. cfgread.c note() writes only the first byte of the
 * empty hash of a CFGREAD_DEP_NO_DIR entry; the rest, written into the
 * copy, is whatever the memory held, and the reader refuses an entry whose
 * byte 64 is not NUL.
 */
START_TEST(absent_folder_dependency_reads_back_whatever_memory_held)
{
    struct cfgread_deps deps = {0};
    struct cfgcache_config a, b;
    char why[600] = "", classes[TPATH + 16];
    tree_without_classes(&t);
    deps.cap = 64;
    deps.v = malloc(deps.cap * sizeof(*deps.v));
    ck_assert_ptr_nonnull(deps.v);
    memset(deps.v, 0xa5, deps.cap * sizeof(*deps.v));
    load(&t, &a, &deps);
    snprintf(classes, sizeof(classes), "%s/classes", t.idir);
    ck_assert(has_dep(&deps, CFGREAD_DEP_NO_DIR, classes));
    int rc = cfgcache_write(t.cache, &t.key, &deps, &a, why, sizeof(why));
    cfgread_deps_release(&deps);
    cfgcache_config_release(&a);
    ck_assert_msg(rc == 0, "%s", why);
    read_hit(&t, &t.key, &b);
    cfgcache_config_release(&b);
}
END_TEST

/*
 * A FIFO in place of the copy (only this user can put one there) is no
 * plain file: the read must say so, not wait for a writer forever.
 */
struct fifo_read {
    const struct tree *t;
    atomic_int done;
    int rc;
    char why[600];
};

static void *fifo_reader(void *arg)
{
    struct fifo_read *fr = arg;
    struct cfgcache_config out;
    fr->rc = cfgcache_read(fr->t->cache, &fr->t->key, &out, fr->why, sizeof(fr->why));
    if (fr->rc == 0)
        cfgcache_config_release(&out);
    atomic_store(&fr->done, 1);
    return NULL;
}

START_TEST(fifo_in_place_of_the_copy_is_refused_without_blocking)
{
    struct fifo_read fr = {.t = &t};
    pthread_t th;
    struct timespec step = {0, 10 * 1000 * 1000};
    int waited = 0;
    ck_assert_int_eq(mkdir(t.user, 0700), 0);
    ck_assert_int_eq(mkfifo(t.file, 0600), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, fifo_reader, &fr), 0);
    while (!atomic_load(&fr.done) && waited++ < 30) /* 0.3 s: a read takes a millisecond */
        nanosleep(&step, NULL);
    int blocked = !atomic_load(&fr.done);
    if (blocked) { /* a writer end releases the reader's open */
        int fd = open(t.file, O_WRONLY | O_NONBLOCK);
        if (fd >= 0)
            close(fd);
    }
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_msg(!blocked, "cfgcache_read waited on a FIFO for a writer (%s)", fr.why);
    ck_assert_int_eq(fr.rc, -1);
    ck_assert_ptr_nonnull(strstr(fr.why, "is not a plain file"));
}
END_TEST

/* ---------------------------------------------------------------- writes --- */

/* A write that must fail with rc: want in the reason. */
static void write_fails(const char *dir, const struct cfgcache_key *key,
                        const struct cfgread_deps *deps, const struct cfgcache_config *cfg, int rc,
                        const char *want)
{
    char why[600] = "";
    int got = cfgcache_write(dir, key, deps, cfg, why, sizeof(why));
    ck_assert_msg(got == rc, "cfgcache_write: %d (%s), want %d", got, why, rc);
    ck_assert_msg(strstr(why, want) != NULL, "why: '%s', want '%s'", why, want);
}

START_TEST(write_into_a_folder_others_may_write_fails_and_leaves_nothing)
{
    static const mode_t bad[] = {0770, 0777, 0730, 0702};
    struct cfgread_deps deps = {0};
    struct cfgcache_config a;
    load(&t, &a, &deps);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(chmod(t.cache, bad[i]), 0);
        write_fails(t.cache, &t.key, &deps, &a, -1, "may be written by others and is not sticky");
        ck_assert_str_eq(listing(t.cache), "");
    }
    /* This user's folder that others may write: nothing written into it. */
    ck_assert_int_eq(chmod(t.cache, 0700), 0);
    ck_assert_int_eq(mkdir(t.user, 0700), 0);
    ck_assert_int_eq(chmod(t.user, 0770), 0);
    write_fails(t.cache, &t.key, &deps, &a, -1, "may be written by others (mode 0770)");
    ck_assert_str_eq(listing(t.user), "");
    cfgread_deps_release(&deps);
    cfgcache_config_release(&a);
}
END_TEST

START_TEST(write_into_a_missing_folder_or_a_file_fails)
{
    struct cfgread_deps deps = {0};
    struct cfgcache_config a;
    char missing[TPATH];
    load(&t, &a, &deps);
    snprintf(missing, sizeof(missing), "%s/nothing", t.root);
    write_fails(missing, &t.key, &deps, &a, -1, "No such file or directory");
    write_fails(t.rpath, &t.key, &deps, &a, -1, "is not a folder");
    ck_assert_int_ne(access(missing, F_OK), 0);
    cfgread_deps_release(&deps);
    cfgcache_config_release(&a);
}
END_TEST

START_TEST(write_leaves_one_file_of_mode_0600)
{
    struct cfgread_deps deps = {0};
    struct cfgcache_config a, b;
    struct stat st;
    char why[600] = "", target[TPATH];
    size_t n;
    mode_t was = umask(0);
    load(&t, &a, &deps);
    int rc = cfgcache_write(t.cache, &t.key, &deps, &a, why, sizeof(why));
    umask(was);
    ck_assert_msg(rc == 0, "%s", why);
    ck_assert_str_eq(listing(t.cache), user_name());
    ck_assert_int_eq(lstat(t.user, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    ck_assert_str_eq(listing(t.user), CFGCACHE_FILE);
    ck_assert_int_eq(lstat(t.file, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_uint_eq(st.st_uid, geteuid());

    /* Over an old copy of another mode: replaced, 0600 again, still one file. */
    ck_assert_int_eq(chmod(t.file, 0644), 0);
    ck_assert_int_eq(cfgcache_write(t.cache, &t.key, &deps, &a, why, sizeof(why)), 0);
    ck_assert_int_eq(lstat(t.file, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_str_eq(listing(t.user), CFGCACHE_FILE);

    /* Over a symbolic link: the link is replaced, what it pointed at is untouched. */
    snprintf(target, sizeof(target), "%s/target", t.root);
    sh("printf 'keep' > '%s'", target);
    ck_assert_int_eq(unlink(t.file), 0);
    ck_assert_int_eq(symlink(target, t.file), 0);
    ck_assert_int_eq(cfgcache_write(t.cache, &t.key, &deps, &a, why, sizeof(why)), 0);
    ck_assert_int_eq(lstat(t.file, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    unsigned char *kept = slurp(target, &n);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(memcmp(kept, "keep", 4), 0);
    free(kept);
    ck_assert_str_eq(listing(t.user), CFGCACHE_FILE);

    /* Into a sticky folder others may write, as /tmp: this user's folder is made in it. */
    sh("rm -r '%s' && chmod 1777 '%s'", t.user, t.cache);
    ck_assert_int_eq(cfgcache_write(t.cache, &t.key, &deps, &a, why, sizeof(why)), 0);
    ck_assert_str_eq(listing(t.user), CFGCACHE_FILE);
    read_hit(&t, &t.key, &b);
    cfgcache_config_release(&b);
    cfgread_deps_release(&deps);
    cfgcache_config_release(&a);
}
END_TEST

START_TEST(write_without_known_sources_fails)
{
    struct cfgread_deps deps = {0}, none = {0};
    struct cfgcache_config a, c;
    load(&t, &a, &deps);
    write_fails(t.cache, &t.key, &none, &a, -2, "the files it was compiled from are not known");
    deps.failed = 1;
    write_fails(t.cache, &t.key, &deps, &a, -2, "the files it was compiled from are not known");
    deps.failed = 0;
    /* A load that was not recorded has no sources either. */
    load(&t, &c, NULL);
    write_fails(t.cache, &t.key, &none, &c, -2, "not known");
    ck_assert_str_eq(listing(t.user), "");
    cfgcache_config_release(&c);
    cfgread_deps_release(&deps);
    cfgcache_config_release(&a);
}
END_TEST

/* A candidate folder's configuration (it owns its instruments) is never cached. */
START_TEST(write_refuses_a_configuration_that_owns_its_instruments)
{
    struct cfgread_deps deps = {0};
    struct cfgcache_config a;
    load(&t, &a, &deps);
    a.routing->own_instruments = a.instruments;
    write_fails(t.cache, &t.key, &deps, &a, -2, "the configuration cannot be written compiled");
    a.routing->own_instruments = NULL; /* a.instruments is freed once, by the release */
    ck_assert_str_eq(listing(t.user), "");
    cfgread_deps_release(&deps);
    cfgcache_config_release(&a);
}
END_TEST

/* The lowest free file descriptor: a leak moves it. */
static int lowest_free_fd(void)
{
    int fd = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return fd;
}

/*
 * A write that fails half-way (the file size limit stands in for a full
 * disk): -2, no file left behind, and no file descriptor left open.
 */
START_TEST(write_that_fails_half_way_leaves_nothing_open_or_behind)
{
    struct cfgread_deps deps = {0};
    struct cfgcache_config a;
    struct rlimit was, small;
    char why[600] = "";
    load(&t, &a, &deps);
    int fd0 = lowest_free_fd();
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &was), 0);
    small = was;
    small.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = cfgcache_write(t.cache, &t.key, &deps, &a, why, sizeof(why));
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &was), 0);
    signal(SIGXFSZ, SIG_DFL);
    int fd1 = lowest_free_fd();
    cfgread_deps_release(&deps);
    cfgcache_config_release(&a);
    ck_assert_msg(rc == -2, "cfgcache_write: %d (%s)", rc, why);
    ck_assert_msg(strstr(why, "cannot write") != NULL, "why: %s", why);
    ck_assert_str_eq(listing(t.user), "");
    ck_assert_msg(fd1 == fd0, "a file descriptor was left open (lowest free %d, was %d)", fd1, fd0);
}
END_TEST

/* ---------------------------------------------------------- damaged data --- */

/* Flips one byte at a time in the payload, the digest left as written: always refused. */
START_TEST(random_payload_bytes_are_caught_by_the_digest)
{
    size_t len;
    load_and_write(&t);
    unsigned char *buf = slurp(t.file, &len);
    int fd = open(t.file, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    rng_seed(97);
    for (int i = 0; i < 200; i++) {
        size_t at = HEADER + rng((unsigned)(len - HEADER));
        unsigned char bad = (unsigned char)(buf[at] ^ (1 + rng(255)));
        ck_assert_int_eq(pwrite(fd, &bad, 1, (off_t)at), 1);
        read_miss(&t, &t.key, "damaged");
        ck_assert_int_eq(pwrite(fd, &buf[at], 1, (off_t)at), 1);
    }
    close(fd);
    struct cfgcache_config b; /* restored: used again */
    read_hit(&t, &t.key, &b);
    cfgcache_config_release(&b);
    free(buf);
}
END_TEST

/*
 * The payload cut short at many points, with its length and digest made
 * valid again: the reader runs out of bytes somewhere and refuses the copy,
 * in the dependencies ("changed since") or the configuration ("damaged").
 */
START_TEST(truncated_payload_with_a_valid_digest_is_refused)
{
    static struct instrument_set si;
    size_t len, cuts = 0;
    load_and_write(&t);
    unsigned char *buf = slurp(t.file, &len);
    size_t payload = len - HEADER;
    int fd = open(t.file, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    /* Every byte of the first 400 (counts, the first paths), then every 97th. */
    for (size_t cut = 0; cut < payload; cut += cut < 400 ? 1 : 97) {
        struct cfgcache_config out = {&si, NULL, NULL};
        char why[600] = "";
        reseal(buf, HEADER + cut);
        ck_assert_int_eq(ftruncate(fd, (off_t)(HEADER + cut)), 0);
        ck_assert_int_eq(pwrite(fd, buf, HEADER, 0), HEADER);
        int rc = cfgcache_read(t.cache, &t.key, &out, why, sizeof(why));
        if (rc == 0)
            cfgcache_config_release(&out);
        ck_assert_msg(rc == -1, "payload cut at %zu of %zu was used", cut, payload);
        ck_assert(out.instruments == NULL && out.triggers == NULL && out.routing == NULL);
        ck_assert_msg(strstr(why, "damaged") != NULL || strstr(why, "changed since") != NULL,
                      "cut at %zu: %s", cut, why);
        cuts++;
    }
    ck_assert_uint_gt(cuts, 400);
    close(fd);
    /* Whole again, resealed as it was: used. */
    reseal(buf, len);
    spit(t.file, buf, len);
    struct cfgcache_config b;
    read_hit(&t, &t.key, &b);
    cfgcache_config_release(&b);
    free(buf);
}
END_TEST

/*
 * Garbled bytes behind a valid digest (single bytes, and runs of 0xff that
 * make counts and lengths absurd): whatever the reader makes of them, it
 * neither crashes nor leaks (ASan, valgrind), and a refusal zeroes *out.
 */
START_TEST(garbled_payload_with_a_valid_digest_never_crashes)
{
    size_t len;
    int used = 0, refused = 0;
    load_and_write(&t);
    unsigned char *buf = slurp(t.file, &len);
    unsigned char *img = malloc(len);
    ck_assert_ptr_nonnull(img);
    rng_seed(1234);
    for (int i = 0; i < 300; i++) {
        memcpy(img, buf, len);
        size_t at = HEADER + rng((unsigned)(len - HEADER));
        if (i % 2 == 0) {
            img[at] ^= (unsigned char)(1 + rng(255));
        } else {
            for (size_t k = at; k < at + 8 && k < len; k++)
                img[k] = 0xff;
        }
        reseal(img, len);
        spit(t.file, img, len);
        struct cfgcache_config out;
        char why[600] = "";
        if (cfgcache_read(t.cache, &t.key, &out, why, sizeof(why)) == 0) {
            used++;
            cfgcache_config_release(&out);
        } else {
            refused++;
            ck_assert(out.instruments == NULL && out.triggers == NULL && out.routing == NULL);
            ck_assert_msg(strstr(why, "damaged") != NULL || strstr(why, "changed since") != NULL,
                          "%s", why);
        }
    }
    ck_assert_int_gt(refused, 0);
    ck_assert_int_eq(used + refused, 300);
    free(img);
    free(buf);
}
END_TEST

/* ---------------------------------------------------------------- suite --- */

static Suite *cfgcache_suite(void)
{
    Suite *s = suite_create("cfgcache");
    TCase *tc = tcase_create("round_trip");
    tcase_add_unchecked_fixture(tc, round_trip_setup, round_trip_teardown);
    tcase_add_test(tc, shipped_fixtures_run_the_same_from_the_copy);
    tcase_add_loop_test(tc, decisions_with_traces_are_the_same, 0,
                        (int)(sizeof(decisions) / sizeof(decisions[0])));
    tcase_add_test(tc, instruments_are_the_same_field_by_field);
    tcase_add_test(tc, triggers_match_the_same);
    tcase_add_test(tc, routing_configuration_is_the_same_field_by_field);
    tcase_add_test(tc, writing_the_copy_again_gives_the_same_bytes);
    tcase_add_test(tc, copy_serves_the_same_files_under_another_root);
    suite_add_tcase(s, tc);

    tc = tcase_create("misses");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
    tcase_add_loop_test(tc, copy_is_not_used_once_a_source_changed, 0,
                        (int)(sizeof(changes) / sizeof(changes[0])));
    tcase_add_test(tc, no_copy_yet);
    tcase_add_test(tc, copy_written_again_after_a_change_is_used);
    tcase_add_test(tc, copy_is_for_its_own_paths_only);
    tcase_add_test(tc, copy_without_a_root_keeps_whole_paths);
    tcase_add_loop_test(tc, damaged_copy_is_not_used, 0,
                        (int)(sizeof(damages) / sizeof(damages[0])));
    tcase_add_loop_test(tc, copy_others_may_write_is_not_used, 0,
                        (int)(sizeof(modes) / sizeof(modes[0])));
    tcase_add_test(tc, copy_that_is_no_plain_file_is_not_used);
    tcase_add_test(tc, cache_folder_missing_or_not_a_folder);
    tcase_add_test(tc, copy_of_another_user_is_not_used);
    tcase_add_test(tc, classes_folder_created_where_there_was_none);
    tcase_add_test(tc, absent_folder_dependency_reads_back_whatever_memory_held);
    tcase_add_test(tc, fifo_in_place_of_the_copy_is_refused_without_blocking);
    tcase_add_test(tc, absolute_path_in_a_file_is_kept_as_written_under_another_root);
    suite_add_tcase(s, tc);

    tc = tcase_create("writes");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
    tcase_add_test(tc, write_into_a_folder_others_may_write_fails_and_leaves_nothing);
    tcase_add_test(tc, write_into_a_missing_folder_or_a_file_fails);
    tcase_add_test(tc, write_leaves_one_file_of_mode_0600);
    tcase_add_test(tc, write_without_known_sources_fails);
    tcase_add_test(tc, write_refuses_a_configuration_that_owns_its_instruments);
    tcase_add_test(tc, write_that_fails_half_way_leaves_nothing_open_or_behind);
    suite_add_tcase(s, tc);

    tc = tcase_create("damaged");
    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, random_payload_bytes_are_caught_by_the_digest);
    tcase_add_test(tc, truncated_payload_with_a_valid_digest_is_refused);
    tcase_add_test(tc, garbled_payload_with_a_valid_digest_never_crashes);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(cfgcache_suite())
