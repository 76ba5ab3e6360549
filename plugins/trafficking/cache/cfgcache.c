/*
 * cfgcache.c: writes and reads the compiled configuration (cfgcache.h says
 * when a copy is used). One function per structure describes its fields for
 * both directions (cfg/pack.h), and rebuilds it with the allocations its
 * loader makes, so the usual free functions free a copy read from here.
 *
 * Never uses a copy it cannot prove current, and never trusts a byte of it
 * before its owner, mode, build, key and digest have been checked.
 */
/* dl_iterate_phdr, to read this build's id, is a GNU extension (the BSDs have it too). */
#define _GNU_SOURCE
#include "cache/cfgcache.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <openssl/evp.h>

#include "cfg/pack.h"
#include "rules/facts.h"
#include "rules/rule.h"
#include "screening/instrument_item.h"

/*
 * Every field of these structures is packed below. A new field changes the
 * size, and this stops the build until the field is packed too.
 */
#if defined(__x86_64__) && defined(__LP64__)
#define CFGCACHE_SIZE(type, n)                                                                     \
    _Static_assert(sizeof(type) == (n), "pack every field of " #type " in cfgcache.c")
CFGCACHE_SIZE(struct instrument_item, 96);
CFGCACHE_SIZE(struct instrument, 264);
CFGCACHE_SIZE(struct instrument_set, 16);
CFGCACHE_SIZE(struct trigger, 56);
CFGCACHE_SIZE(struct trigger_set, 96);
CFGCACHE_SIZE(struct routing_jurisdiction, 40);
CFGCACHE_SIZE(struct routing_channel, 72);
CFGCACHE_SIZE(struct routing_destination, 160);
CFGCACHE_SIZE(struct routing_target, 8);
CFGCACHE_SIZE(struct routing_rule, 96);
CFGCACHE_SIZE(struct routing_cw_age, 24);
CFGCACHE_SIZE(struct routing_config, 208);
CFGCACHE_SIZE(struct facts_resolver, 56);
CFGCACHE_SIZE(struct facts_call, 24);
#endif

#define CFGCACHE_MAGIC "trfcfgc1" /* 8 bytes; the 1 is the format */
#define DIGEST 32
#define HEADER (8 + DIGEST + DIGEST + 8)
#define CFGCACHE_MAX ((size_t)64 * 1024 * 1024)

void cfgcache_config_release(struct cfgcache_config *c)
{
    trigger_set_free(c->triggers);
    routing_config_free(c->routing);
    instrument_set_free(c->instruments);
    memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------- structures --- */

/* A resolver borrows fns (the owner's table); only the calls are packed. */
static void pack_resolver(struct pack *p, struct facts_resolver *r, const struct facts_fn *fns,
                          size_t n_fns)
{
    unsigned char has_fns = r->fns != NULL;
    if (!p->reading && r->fns != NULL && (r->fns != fns || r->n_fns != n_fns))
        pack_fail(p); /* a table this file does not know: never write an address */
    PACK(p, has_fns);
    PACK(p, r->groups);
    if (p->reading) {
        r->fns = has_fns ? fns : NULL;
        r->n_fns = has_fns ? n_fns : 0;
        r->ud = NULL; /* only used while compiling */
    }
    PACK_ARRAY(p, r->calls, r->n_calls);
    for (size_t i = 0; i < r->n_calls && !p->failed; i++) {
        struct facts_call *c = &r->calls[i];
        PACK(p, c->fn);
        pack_str(p, &c->arg);
        PACK(p, c->target);
        if (p->reading && (c->fn < 0 || (size_t)c->fn >= r->n_fns))
            pack_fail(p);
    }
    if (p->reading)
        r->cap = r->n_calls;
}

static void pack_item(struct pack *p, struct instrument_item *it)
{
    pack_str(p, &it->id);
    pack_str(p, &it->prompt);
    PACK(p, it->domain);
    PACK(p, it->kind);
    PACK(p, it->key);
    PACK(p, it->disclosure);
    PACK(p, it->weight);
    pack_strs(p, &it->choices, &it->n_choices);
    if (pack_present(p, it->concern)) {
        if (p->reading && it->n_choices > 0 && (it->concern = malloc(it->n_choices)) == NULL)
            pack_fail(p);
        if (it->n_choices > 0)
            pack_raw(p, it->concern, it->n_choices);
    }
    PACK(p, it->concern_at);
    rule_pack(p, &it->show_if);
    PACK(p, it->line);
    PACK(p, it->evidence);
    PACK(p, it->disclosure_kind);
}

static void pack_instrument(struct pack *p, struct instrument *in)
{
    pack_str(p, &in->id);
    PACK(p, in->version);
    pack_str(p, &in->title);
    pack_str(p, &in->purpose);
    pack_str(p, &in->source);
    PACK(p, in->min_age);
    PACK(p, in->max_age);
    PACK(p, in->mode);
    PACK(p, in->requires_training);
    PACK(p, in->min_answered);
    PACK(p, in->method);
    PACK(p, in->at_least);
    PACK(p, in->possible_at);
    PACK(p, in->clear_at);
    PACK_ARRAY(p, in->items, in->n_items);
    for (size_t i = 0; i < in->n_items && !p->failed; i++)
        pack_item(p, &in->items[i]);
    pack_resolver(p, &in->resolver, instrument__show_if_fns, INSTRUMENT_FN__COUNT);
    pack_path(p, &in->path, 1);
    /* The text is kept exactly as hashed; it has no NUL inside (cfgread refuses one). */
    pack_str(p, &in->text);
    if (p->reading)
        in->text_len = in->text != NULL ? strlen(in->text) : 0;
    else if (in->text == NULL || strlen(in->text) != in->text_len)
        pack_fail(p);
    PACK(p, in->hash);
    PACK(p, in->line);
    PACK(p, in->classes_declared);
    pack_path(p, &in->classes_path, 1);
}

static void pack_instruments(struct pack *p, struct instrument_set *set)
{
    PACK_ARRAY(p, set->v, set->n);
    for (size_t i = 0; i < set->n && !p->failed; i++) {
        if (p->reading && (set->v[i] = calloc(1, sizeof(*set->v[i]))) == NULL)
            pack_fail(p);
        if (!p->failed)
            pack_instrument(p, set->v[i]);
    }
}

static void pack_triggers(struct pack *p, struct trigger_set *set)
{
    PACK_ARRAY(p, set->v, set->n);
    for (size_t i = 0; i < set->n && !p->failed; i++) {
        struct trigger *t = &set->v[i];
        pack_str(p, &t->name);
        PACK(p, t->events);
        rule_pack(p, &t->when);
        pack_str(p, &t->instrument);
        PACK(p, t->due_hours);
        PACK(p, t->due_from);
        pack_str(p, &t->reason);
        PACK(p, t->line);
    }
    pack_path(p, &set->path, 1);
    PACK(p, set->hash);
}

static void pack_destination(struct pack *p, struct routing_destination *d)
{
    struct routing_channel *ch = &d->channel;
    pack_str(p, &d->id);
    pack_str(p, &d->name);
    PACK(p, d->kind);
    PACK(p, d->jurisdiction.any);
    pack_strs(p, &d->jurisdiction.states, &d->jurisdiction.n_states);
    pack_strs(p, &d->jurisdiction.counties, &d->jurisdiction.n_counties);
    PACK(p, ch->type);
    PACK(p, ch->written_relative);
    pack_str(p, &ch->url);
    pack_str(p, &ch->secret);
    /* Only what the file wrote relative follows the folder (pack_path). */
    pack_path(p, &ch->secret_file, ch->written_relative & ROUTING_PATH_SECRET_FILE);
    pack_path(p, &ch->client_cert, ch->written_relative & ROUTING_PATH_CLIENT_CERT);
    pack_path(p, &ch->client_key, ch->written_relative & ROUTING_PATH_CLIENT_KEY);
    pack_str(p, &ch->command);
    pack_path(p, &ch->spool_dir, ch->written_relative & ROUTING_PATH_SPOOL_DIR);
    PACK(p, d->fields);
    PACK(p, d->needs_consent);
    PACK(p, d->contacts_person);
    PACK(p, d->ack_sla_hours);
    PACK(p, d->escalate_to);
    PACK(p, d->line);
}

static void pack_rule(struct pack *p, struct routing_rule *r)
{
    pack_str(p, &r->name);
    PACK(p, r->priority);
    rule_pack(p, &r->when);
    PACK_ARRAY(p, r->refer, r->n_refer);
    for (size_t i = 0; i < r->n_refer && !p->failed; i++) {
        PACK(p, r->refer[i].destination);
        PACK(p, r->refer[i].kind);
    }
    PACK(p, r->basis);
    PACK(p, r->urgency);
    PACK(p, r->due_hours);
    PACK(p, r->stop);
    pack_str(p, &r->purpose);
    pack_str(p, &r->note);
    PACK(p, r->line);
    pack_str(p, &r->instruction);
    PACK(p, r->due_from);
}

static void pack_routing(struct pack *p, struct routing_config *c)
{
    if (!p->reading && c->own_instruments != NULL)
        pack_fail(p); /* a candidate folder's configuration is never cached */
    PACK_ARRAY(p, c->destinations, c->n_destinations);
    for (size_t i = 0; i < c->n_destinations && !p->failed; i++)
        pack_destination(p, &c->destinations[i]);
    PACK_ARRAY(p, c->rules, c->n_rules);
    for (size_t i = 0; i < c->n_rules && !p->failed; i++)
        pack_rule(p, &c->rules[i]);
    PACK_ARRAY(p, c->cw_ages, c->n_cw_ages);
    for (size_t i = 0; i < c->n_cw_ages && !p->failed; i++) {
        struct routing_cw_age *a = &c->cw_ages[i];
        pack_strs(p, &a->states, &a->n_states);
        PACK(p, a->age);
        PACK(p, a->line);
    }
    pack_resolver(p, &c->resolver, routing__fns, ROUTING__FN_COUNT);
    pack_path(p, &c->destinations_path, 1);
    pack_path(p, &c->routing_path, 1);
    PACK(p, c->hash);
}

static void pack_deps(struct pack *p, struct cfgread_deps *d)
{
    PACK_ARRAY(p, d->v, d->n);
    for (size_t i = 0; i < d->n && !p->failed; i++) {
        PACK(p, d->v[i].kind);
        pack_path(p, &d->v[i].path, 1);
        PACK(p, d->v[i].hash);
        if (p->reading && (d->v[i].path == NULL || d->v[i].hash[CFGREAD_HASH_LEN] != '\0'))
            pack_fail(p);
    }
    if (p->reading)
        d->cap = d->n;
}

/* The configuration after the deps, each part in its own fresh structure. */
static void pack_config(struct pack *p, struct cfgcache_config *c)
{
    if (p->reading) {
        c->instruments = calloc(1, sizeof(*c->instruments));
        c->triggers = calloc(1, sizeof(*c->triggers));
        c->routing = calloc(1, sizeof(*c->routing));
        if (c->instruments == NULL || c->triggers == NULL || c->routing == NULL) {
            pack_fail(p);
            return;
        }
    }
    pack_instruments(p, c->instruments);
    pack_triggers(p, c->triggers);
    pack_routing(p, c->routing);
    if (p->reading)
        c->routing->instruments = c->instruments;
}

/* ---------------------------------------------------------- the build id --- */

struct find_build {
    uintptr_t addr;
    unsigned char id[64];
    size_t len;
};

/* The GNU build id note of the object that holds f->addr, when it has one. */
static int find_build_note(struct dl_phdr_info *info, size_t size, void *ud)
{
    struct find_build *f = ud;
    int mine = 0;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum && !mine; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        mine = ph->p_type == PT_LOAD && f->addr >= lo && f->addr - lo < ph->p_memsz;
    }
    for (int i = 0; i < info->dlpi_phnum && mine; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        const unsigned char *n = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t left = ph->p_memsz;
        if (ph->p_type != PT_NOTE)
            continue;
        while (left >= sizeof(ElfW(Nhdr))) {
            const ElfW(Nhdr) *h = (const ElfW(Nhdr) *)(const void *)n;
            size_t name = (h->n_namesz + 3u) & ~3u, desc = (h->n_descsz + 3u) & ~3u;
            size_t whole = sizeof(*h) + name + desc;
            if (whole > left)
                break;
            if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 &&
                memcmp(n + sizeof(*h), "GNU", 4) == 0 && h->n_descsz > 0 &&
                h->n_descsz <= sizeof(f->id)) {
                memcpy(f->id, n + sizeof(*h) + name, h->n_descsz);
                f->len = h->n_descsz;
                return 1;
            }
            n += whole;
            left -= whole;
        }
    }
    return mine; /* the object is found: stop, with or without a note */
}

/* The build id of the object holding addr, into f (f->len 0 when it has none). */
static void build_of(const void *addr, struct find_build *f)
{
    memset(f, 0, sizeof(*f));
    f->addr = (uintptr_t)addr;
    dl_iterate_phdr(find_build_note, f);
}

/*
 * What compiled the copy: this build of the plugin, and the libconfig that
 * parsed its files (an upgrade may parse differently). Written into id
 * (static); NULL when either has no build id: then nothing is cached.
 */
static const unsigned char *build_id(size_t *len)
{
    static struct find_build mine, parser;
    static unsigned char id[2 * sizeof(mine.id) + 2];
    static int done;
    if (!done) {
        build_of(&mine, &mine);
        build_of((const void *)(uintptr_t)&config_read_string, &parser);
        done = 1;
    }
    if (mine.len == 0 || parser.len == 0)
        return NULL;
    id[0] = (unsigned char)mine.len;
    memcpy(id + 1, mine.id, mine.len);
    id[1 + mine.len] = (unsigned char)parser.len;
    memcpy(id + 2 + mine.len, parser.id, parser.len);
    *len = 2 + mine.len + parser.len;
    return id;
}

/* --------------------------------------------------------------- the file --- */

static int sha256(const void *a, size_t n, unsigned char out[DIGEST])
{
    unsigned int len = 0;
    return EVP_Digest(a, n, out, &len, EVP_sha256(), NULL) && len == DIGEST ? 0 : -1;
}

/*
 * The key digest: format, build and the four paths, each as "r" and its part
 * under the root or "a" and the whole path. -1 without a build id.
 */
static int key_digest(const struct cfgcache_key *key, unsigned char out[DIGEST])
{
    const char *parts[] = {key->instruments, key->screening, key->destinations, key->routing};
    size_t idlen, total = sizeof(CFGCACHE_MAGIC);
    const unsigned char *id = build_id(&idlen);
    int rc;
    if (id == NULL)
        return -1;
    total += idlen;
    for (size_t i = 0; i < 4; i++)
        total += 1 + strlen(parts[i]) + 1;
    unsigned char *buf = malloc(total), *at = buf;
    if (buf == NULL)
        return -1;
    memcpy(at, CFGCACHE_MAGIC, sizeof(CFGCACHE_MAGIC));
    at += sizeof(CFGCACHE_MAGIC);
    memcpy(at, id, idlen);
    at += idlen;
    for (size_t i = 0; i < 4; i++) {
        const char *rel = pack_relative(key->root, parts[i]);
        const char *part = rel != NULL ? rel : parts[i];
        size_t l = strlen(part) + 1;
        *at++ = rel != NULL ? 'r' : 'a';
        memcpy(at, part, l);
        at += l;
    }
    total = (size_t)(at - buf);
    rc = sha256(buf, total, out);
    free(buf);
    return rc;
}

/* A folder or file of this user that nobody else may change. */
static int owned_problem(const char *what, const char *path, const struct stat *st, char *why,
                         size_t whylen)
{
    if (st->st_uid != geteuid())
        snprintf(why, whylen, "%s '%s' belongs to another user", what, path);
    else if ((st->st_mode & 022) != 0)
        snprintf(why, whylen, "%s '%s' may be written by others (mode %04o)", what, path,
                 (unsigned)(st->st_mode & 07777));
    else
        return 0;
    return -1;
}

static char *file_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *cfgcache_user_dir(const char *dir, int make, char *why, size_t whylen)
{
    struct stat st;
    char name[64], *path = NULL;
    if (stat(dir, &st) != 0) {
        snprintf(why, whylen, "cache folder '%s': %s", dir, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "cache folder '%s' is not a folder", dir);
        return NULL;
    }
    /* Its owner could swap the user folders in it: root or this user only. */
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        snprintf(why, whylen, "cache folder '%s' belongs to another user", dir);
        return NULL;
    }
    if ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0) {
        snprintf(why, whylen, "cache folder '%s' may be written by others and is not sticky", dir);
        return NULL;
    }
    snprintf(name, sizeof(name), "user-%lu", (unsigned long)geteuid());
    if ((path = file_path(dir, name)) == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    if (lstat(path, &st) != 0 && errno == ENOENT && make && mkdir(path, 0700) != 0 &&
        errno != EEXIST) {
        snprintf(why, whylen, "cannot make '%s': %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            snprintf(why, whylen, "no compiled copy yet");
        else
            snprintf(why, whylen, "'%s': %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "cache folder '%s' is not a folder", path);
        free(path);
        return NULL;
    }
    if (owned_problem("cache folder", path, &st, why, whylen) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

/* The whole copy, after its owner and mode are checked; caller frees *buf. */
static int read_copy(const char *path, unsigned char **buf, size_t *len, char *why, size_t whylen)
{
    struct stat st;
    /* O_NONBLOCK: a FIFO put in its place must not hang the load (it is refused below). */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int rc = -1;
    size_t got = 0;
    *buf = NULL;
    if (fd < 0) {
        snprintf(why, whylen, errno == ENOENT ? "no compiled copy yet" : "cannot open '%s': %s",
                 path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "'%s' is not a plain file", path);
        goto out;
    }
    if (owned_problem("compiled copy", path, &st, why, whylen) != 0)
        goto out;
    if ((size_t)st.st_size < HEADER || (uint64_t)st.st_size > CFGCACHE_MAX) {
        snprintf(why, whylen, "'%s' has the wrong size", path);
        goto out;
    }
    *len = (size_t)st.st_size;
    if ((*buf = malloc(*len)) == NULL) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    while (got < *len) {
        ssize_t n = read(fd, *buf + got, *len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, whylen, "cannot read '%s'", path);
            goto out;
        }
        got += (size_t)n;
    }
    rc = 0;
out:
    if (rc != 0) {
        free(*buf);
        *buf = NULL;
    }
    close(fd);
    return rc;
}

int cfgcache_read(const char *dir, const struct cfgcache_key *key, struct cfgcache_config *out,
                  char *why, size_t whylen)
{
    unsigned char want[DIGEST], digest[DIGEST], *buf = NULL;
    uint64_t payload = 0;
    size_t len = 0;
    struct cfgread_deps deps = {0};
    struct pack p;
    char *mine = NULL, *path = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    pack_reader(&p, NULL, 0);
    if (key_digest(key, want) != 0) {
        snprintf(why, whylen, "this build of the plugin or of libconfig has no build id");
        goto out;
    }
    if ((mine = cfgcache_user_dir(dir, 0, why, whylen)) == NULL)
        goto out;
    if ((path = file_path(mine, CFGCACHE_FILE)) == NULL) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    if (read_copy(path, &buf, &len, why, whylen) != 0)
        goto out;
    memcpy(&payload, buf + 8 + 2 * DIGEST, sizeof(payload));
    if (memcmp(buf, CFGCACHE_MAGIC, 8) != 0 || memcmp(buf + 8, want, DIGEST) != 0) {
        snprintf(why, whylen, "compiled by another build or for other paths");
        goto out;
    }
    if (payload != len - HEADER || sha256(buf + HEADER, len - HEADER, digest) != 0 ||
        memcmp(digest, buf + 8 + DIGEST, DIGEST) != 0) {
        snprintf(why, whylen, "the compiled copy is damaged");
        goto out;
    }
    pack_reader(&p, buf + HEADER, len - HEADER);
    p.root = key->root;
    pack_deps(&p, &deps);
    if (p.failed || !cfgread_deps_same(&deps)) {
        snprintf(why, whylen, "compiled from files that have changed since");
        goto out;
    }
    pack_config(&p, out);
    if (p.failed || p.at != p.len) {
        snprintf(why, whylen, "the compiled copy is damaged");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        cfgcache_config_release(out);
    cfgread_deps_release(&deps);
    free(buf);
    free(path);
    free(mine);
    return rc;
}

static int write_all(int fd, const unsigned char *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int cfgcache_write(const char *dir, const struct cfgcache_key *key, const struct cfgread_deps *deps,
                   const struct cfgcache_config *cfg, char *why, size_t whylen)
{
    unsigned char head[HEADER];
    struct cfgread_deps d = *deps;
    struct cfgcache_config c = *cfg;
    struct pack p;
    char *mine = cfgcache_user_dir(dir, 1, why, whylen), *path = NULL, *tmp = NULL;
    int fd = -1, rc = -2;

    pack_writer(&p);
    if (mine == NULL) {
        rc = -1;
        goto out;
    }
    path = file_path(mine, CFGCACHE_FILE);
    tmp = file_path(mine, ".trafficking.XXXXXX");
    if (path == NULL || tmp == NULL) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    if (deps->failed || deps->n == 0) {
        snprintf(why, whylen, "the files it was compiled from are not known");
        goto out;
    }
    if (key_digest(key, head + 8) != 0) {
        snprintf(why, whylen, "this build of the plugin or of libconfig has no build id");
        goto out;
    }
    p.root = key->root;
    pack_deps(&p, &d);
    pack_config(&p, &c);
    if (p.failed) {
        snprintf(why, whylen, "the configuration cannot be written compiled");
        goto out;
    }
    uint64_t payload = p.len;
    memcpy(head, CFGCACHE_MAGIC, 8);
    memcpy(head + 8 + 2 * DIGEST, &payload, sizeof(payload));
    if (sha256(p.buf, p.len, head + 8 + DIGEST) != 0) {
        snprintf(why, whylen, "cannot compute sha-256");
        goto out;
    }
    if ((fd = mkstemp(tmp)) < 0) {
        snprintf(why, whylen, "cannot create a file in '%s': %s", mine, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, head, sizeof(head)) != 0 ||
        write_all(fd, p.buf, p.len) != 0) {
        snprintf(why, whylen, "cannot write '%s': %s", tmp, strerror(errno));
        goto out; /* closed and removed below */
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(why, whylen, "cannot write '%s': %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(why, whylen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    pack_release(&p);
    free(mine);
    free(path);
    free(tmp);
    return rc;
}
