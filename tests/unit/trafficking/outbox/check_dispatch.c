/*
 * check_dispatch.c (unit): the parts of the dispatcher that need no database:
 * the backoff schedule, which idempotency keys may travel, the webhook
 * signature, and each transport (spool files, commands, webhooks against
 * the loopback receiver of tests/http_sink.h).
 */
#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "outbox/dispatch.h"
#include "http_sink.h"
#include "outbox/transport.h"

static char tmp[256];
static struct transport *tp;
static char err[1024];

static void setup(void)
{
    snprintf(tmp, sizeof(tmp), "/tmp/check_dispatch.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    tp = transport_new(err, sizeof(err));
    ck_assert_ptr_nonnull(tp);
    err[0] = '\0';
}

static void teardown(void)
{
    char cmd[400];
    transport_free(tp);
    tp = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
}

static void read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t k;
    ck_assert_msg(f != NULL, "cannot read %s", path);
    k = fread(buf, 1, size - 1, f);
    buf[k] = '\0';
    fclose(f);
}

/* ------------------------------------------------------------ backoff --- */

static const struct {
    long base;
    int failures;
    long cap;
    long want;
} backoffs[] = {
    {1000, 1, 3600000, 1000},
    {1000, 2, 3600000, 2000},
    {1000, 3, 3600000, 4000},
    {1000, 12, 3600000, 2048000},
    {1000, 13, 3600000, 3600000}, /* 4096000 is past the cap */
    {1000, 1000, 3600000, 3600000},
    {0, 5, 3600000, 0},
    {5000, 1, 2000, 2000},                     /* the cap wins even on the first failure */
    {LONG_MAX / 2 + 1, 3, LONG_MAX, LONG_MAX}, /* no overflow */
};

START_TEST(backoff_doubles_per_failure_up_to_the_cap)
{
    ck_assert_int_eq(
        dispatch_backoff_ms(backoffs[_i].base, backoffs[_i].failures, backoffs[_i].cap),
        backoffs[_i].want);
}
END_TEST

/* --------------------------------------------------------------- keys --- */

static const struct {
    const char *key;
    int ok;
} keys[] = {
    {"casehost:le_ca-42", 1}, {"ref-1.2_3", 1},         {"", 0},
    {".hidden", 0},           {"../etc/passwd", 0},     {"a/b", 0},
    {"with space", 0},        {"cr\r\nInjected: 1", 0}, {"caf\xc3\xa9", 0},
};

START_TEST(only_safe_keys_travel)
{
    char long_key[202];
    ck_assert_int_eq(transport_key_ok(keys[_i].key), keys[_i].ok);
    memset(long_key, 'k', 201);
    long_key[201] = '\0';
    ck_assert_int_eq(transport_key_ok(long_key), 0);
    long_key[200] = '\0';
    ck_assert_int_eq(transport_key_ok(long_key), 1);
}
END_TEST

START_TEST(signature_is_hmac_sha256_hex)
{
    char hex[TRANSPORT_SIG_HEX];
    static const char data[] = "what do ya want for nothing?";
    /* RFC 4231, test case 2 */
    ck_assert_int_eq(transport_sign("Jefe", data, strlen(data), hex), 0);
    ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

/* -------------------------------------------------------------- spool --- */

START_TEST(spool_writes_atomically_and_once)
{
    char dir[400], path[600], text[256];
    struct dispatch_target t = {.channel = DISPATCH_SPOOL};
    struct dirent *e;
    DIR *d;
    int n = 0;
    snprintf(dir, sizeof(dir), "%s/a/b", tmp);
    t.spool_dir = dir;
    ck_assert_msg(transport_send(tp, &t, "k-1", "{\"a\":1}", 7, 1000, err, sizeof(err)) == 0, "%s",
                  err);
    snprintf(path, sizeof(path), "%s/k-1.json", dir);
    read_text(path, text, sizeof(text));
    ck_assert_str_eq(text, "{\"a\":1}\n");
    /* the same key again: delivered already, the file stays as it was */
    ck_assert_int_eq(transport_send(tp, &t, "k-1", "{\"a\":2}", 7, 1000, err, sizeof(err)), 0);
    read_text(path, text, sizeof(text));
    ck_assert_str_eq(text, "{\"a\":1}\n");
    d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(n, 1); /* no temp file left behind */
}
END_TEST

START_TEST(spool_reports_a_directory_it_cannot_make)
{
    char file[400], dir[500];
    struct dispatch_target t = {.channel = DISPATCH_SPOOL};
    FILE *f;
    snprintf(file, sizeof(file), "%s/plain", tmp);
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(dir, sizeof(dir), "%s/sub", file);
    t.spool_dir = dir;
    ck_assert_int_eq(transport_send(tp, &t, "k", "{}", 2, 1000, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "spool: cannot create directory") != NULL, "%s", err);
}
END_TEST

START_TEST(spool_makes_its_directories_0700)
{
    char dir[400], sub[420];
    struct dispatch_target t = {.channel = DISPATCH_SPOOL};
    struct stat sb;
    snprintf(sub, sizeof(sub), "%s/new", tmp);
    snprintf(dir, sizeof(dir), "%s/new/spool", tmp);
    t.spool_dir = dir;
    ck_assert_msg(transport_send(tp, &t, "k", "{}", 2, 1000, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(stat(sub, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 07777, 0700);
    ck_assert_int_eq(stat(dir, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 07777, 0700);
}
END_TEST

/* Existing spool directories others could write or that are not ours. */
static const struct {
    const char *name;
    mode_t mode;
    int other_owner; /* chown to nobody (root only) */
    const char *error;
} unsafe_spools[] = {
    {"world_writable", 0777, 0, "' has mode 0777: group or others may write it (chmod 700 '"},
    {"sticky_world_writable", 01777, 0, "' has mode 1777: group or others may write it"},
    {"group_writable", 0770, 0, "' has mode 0770: group or others may write it"},
    {"owned_by_nobody", 0700, 1, "not to this user (uid "},
};

START_TEST(spool_refuses_a_directory_others_may_write_or_own)
{
    char dir[400], path[500];
    struct dispatch_target t = {.channel = DISPATCH_SPOOL};
    struct stat sb;
    snprintf(dir, sizeof(dir), "%s/%s", tmp, unsafe_spools[_i].name);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(chmod(dir, unsafe_spools[_i].mode), 0);
    if (unsafe_spools[_i].other_owner) {
        struct passwd *pw = getpwnam("nobody");
        if (geteuid() != 0 || pw == NULL)
            return; /* only root can hand a directory to another user */
        ck_assert_int_eq(chown(dir, pw->pw_uid, pw->pw_gid), 0);
    }
    t.spool_dir = dir;
    ck_assert_int_eq(transport_send(tp, &t, "k-1", "{}", 2, 1000, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "spool: directory '") == err, "%s", err);
    ck_assert_msg(strstr(err, unsafe_spools[_i].error) != NULL, "%s", err);
    snprintf(path, sizeof(path), "%s/k-1.json", dir);
    ck_assert_int_ne(stat(path, &sb), 0); /* nothing written there */
}
END_TEST

/* A link planted at the temp file's name is replaced, never written through. */
START_TEST(spool_never_follows_a_link_at_the_temp_path)
{
    char dir[400], link[600], victim[500], absent[500], path[600], text[256];
    struct dispatch_target t = {.channel = DISPATCH_SPOOL};
    struct stat sb;
    FILE *f;
    snprintf(dir, sizeof(dir), "%s/spool", tmp);
    snprintf(victim, sizeof(victim), "%s/victim", tmp);
    snprintf(absent, sizeof(absent), "%s/created-through-link", tmp);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    f = fopen(victim, "w");
    ck_assert_ptr_nonnull(f);
    fputs("untouched\n", f);
    fclose(f);
    t.spool_dir = dir;
    for (int i = 0; i < 2; i++) {
        const char *key = i == 0 ? "k-1" : "k-2";
        snprintf(link, sizeof(link), "%s/.%s.json.%ld.tmp", dir, key, (long)getpid());
        ck_assert_int_eq(symlink(i == 0 ? victim : absent, link), 0);
        ck_assert_msg(transport_send(tp, &t, key, "{\"a\":1}", 7, 1000, err, sizeof(err)) == 0,
                      "%s", err);
        snprintf(path, sizeof(path), "%s/%s.json", dir, key);
        ck_assert_int_eq(lstat(path, &sb), 0);
        ck_assert(S_ISREG(sb.st_mode));
        ck_assert_int_eq(sb.st_mode & 07777, 0600);
        read_text(path, text, sizeof(text));
        ck_assert_str_eq(text, "{\"a\":1}\n");
        ck_assert_int_ne(lstat(link, &sb), 0); /* the link is gone */
    }
    read_text(victim, text, sizeof(text));
    ck_assert_str_eq(text, "untouched\n");
    ck_assert_int_ne(stat(absent, &sb), 0);
}
END_TEST

/* ------------------------------------------------------------ command --- */

START_TEST(command_reads_stdin_and_sees_the_key)
{
    char cmd[800], path[400], text[256];
    struct dispatch_target t = {.channel = DISPATCH_COMMAND};
    snprintf(cmd, sizeof(cmd), "cat > %s/body; printf %%s \"$CASEHOST_IDEMPOTENCY_KEY\" > %s/key",
             tmp, tmp);
    t.command = cmd;
    ck_assert_msg(transport_send(tp, &t, "k:9", "{\"x\":true}", 10, 5000, err, sizeof(err)) == 0,
                  "%s", err);
    snprintf(path, sizeof(path), "%s/body", tmp);
    read_text(path, text, sizeof(text));
    ck_assert_str_eq(text, "{\"x\":true}");
    snprintf(path, sizeof(path), "%s/key", tmp);
    read_text(path, text, sizeof(text));
    ck_assert_str_eq(text, "k:9");
}
END_TEST

/* A body larger than a pipe buffer, to a command that reads it all and to one that reads none. */
START_TEST(command_takes_a_large_body_or_none_of_it)
{
    size_t len = 1 << 20;
    char *body = malloc(len), cmd[600], path[400], text[64];
    struct dispatch_target t = {.channel = DISPATCH_COMMAND};
    ck_assert_ptr_nonnull(body);
    memset(body, 'x', len);
    snprintf(cmd, sizeof(cmd), "wc -c < /dev/stdin | tr -d ' ' > %s/n", tmp);
    t.command = cmd;
    ck_assert_msg(transport_send(tp, &t, "k", body, len, 10000, err, sizeof(err)) == 0, "%s", err);
    snprintf(path, sizeof(path), "%s/n", tmp);
    read_text(path, text, sizeof(text));
    ck_assert_str_eq(text, "1048576\n");
    t.command = "exit 0";
    ck_assert_msg(transport_send(tp, &t, "k", body, len, 10000, err, sizeof(err)) == 0, "%s", err);
    t.command = "exit 4";
    ck_assert_int_eq(transport_send(tp, &t, "k", body, len, 10000, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command: exit 4");
    free(body);
}
END_TEST

static const struct {
    const char *command;
    long timeout_ms;
    const char *error;
} command_failures[] = {
    {"echo 'no such queue' >&2; exit 2", 5000, "command: exit 2: no such queue"},
    {"kill -KILL $$", 5000, "command: killed by signal 9"},
    {"sleep 30", 300, "command: no exit within 300 ms (stopped)"},
    /* a background child that keeps the output pipe open is stopped with it */
    {"sleep 30 & sleep 30", 300, "command: no exit within 300 ms (stopped)"},
    {"", 5000, "command target has no command"},
};

START_TEST(command_failures_say_why)
{
    struct dispatch_target t = {.channel = DISPATCH_COMMAND};
    struct timespec t0, t1;
    t.command = command_failures[_i].command;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(
        transport_send(tp, &t, "k", "{}", 2, command_failures[_i].timeout_ms, err, sizeof(err)),
        -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_str_eq(err, command_failures[_i].error);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
}
END_TEST

/* ------------------------------------------------------------ webhook --- */

/*
 * The receiver's check, computed here with OpenSSL rather than through
 * transport_signature: X-Casehost-Timestamp is recent, and
 * X-Casehost-Signature is v1= hex HMAC-SHA256(secret, "timestamp.key.body").
 */
static int signed_over_timestamp_key_body(const char *secret, const struct sink_record *r)
{
    char msg[SINK_KEY + SINK_BODY + 64], want[2 * EVP_MAX_MD_SIZE + 4] = "v1=";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    long long ts = strtoll(r->timestamp, NULL, 10);
    int n = snprintf(msg, sizeof(msg), "%s.%s.%s", r->timestamp, r->key, r->body);
    ck_assert_msg(r->timestamp[0] != '\0', "no X-Casehost-Timestamp for %s", r->key);
    ck_assert_msg(llabs((long long)time(NULL) - ts) <= 300, "timestamp %s is not now",
                  r->timestamp);
    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
                               (const unsigned char *)msg, (size_t)n, md, &mdlen));
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(want + 3 + 2 * i, 3, "%02x", md[i]);
    return strcmp(r->signature, want) == 0;
}

START_TEST(webhook_signs_timestamp_key_and_body)
{
    char hex[TRANSPORT_SIG_HEX], plain[TRANSPORT_SIG_HEX];
    static const char msg[] = "1700000000.casehost:le_ca-42.{\"a\":1}";
    ck_assert_int_eq(
        transport_signature("k", 1700000000LL, "casehost:le_ca-42", "{\"a\":1}", 7, hex), 0);
    ck_assert_int_eq(transport_sign("k", msg, strlen(msg), plain), 0);
    ck_assert_str_eq(hex, plain);
    /* another key or another time is another signature: neither can be moved */
    ck_assert_int_eq(
        transport_signature("k", 1700000001LL, "casehost:le_ca-42", "{\"a\":1}", 7, plain), 0);
    ck_assert_str_ne(hex, plain);
    ck_assert_int_eq(
        transport_signature("k", 1700000000LL, "casehost:le_ca-43", "{\"a\":1}", 7, plain), 0);
    ck_assert_str_ne(hex, plain);
}
END_TEST

START_TEST(webhook_posts_signed_json_and_wants_2xx)
{
    char records[400], url[100];
    struct sink s = {0, 0};
    struct sink_options o = {"sekrit", records, 1, 0, 0, 100, 30, 0, 0};
    struct sink_record rec[4];
    struct dispatch_target t = {.channel = DISPATCH_WEBHOOK, .secret = "sekrit"};
    snprintf(records, sizeof(records), "%s/records", tmp);
    ck_assert_int_eq(sink_start(&s, &o), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/in", s.port);
    t.url = url;
    /* the sink answers the first request with 500 */
    ck_assert_int_eq(transport_send(tp, &t, "key-1", "{\"n\":1}", 7, 5000, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "webhook: HTTP 500: please retry");
    ck_assert_msg(transport_send(tp, &t, "key-1", "{\"n\":1}", 7, 5000, err, sizeof(err)) == 0,
                  "%s", err);
    t.secret = "wrong";
    ck_assert_int_eq(transport_send(tp, &t, "key-2", "{\"n\":2}", 7, 5000, err, sizeof(err)), 0);
    sink_stop(&s);
    ck_assert_int_eq(sink_load(records, rec, 4), 3);
    ck_assert_str_eq(rec[0].key, "key-1");
    ck_assert_int_eq(rec[0].sig_ok && rec[0].ct_ok, 1);
    ck_assert_int_eq(rec[1].raw, 2);
    ck_assert_int_eq(rec[1].accepted, 1);
    ck_assert_str_eq(rec[1].body, "{\"n\":1}");
    ck_assert_int_eq(rec[2].sig_ok, 0); /* the receiver can tell a wrong secret */
    for (int i = 0; i < 2; i++)
        ck_assert_msg(signed_over_timestamp_key_body("sekrit", &rec[i]), "request %d", i);
    /* nobody listens there any more */
    t.secret = "sekrit";
    ck_assert_int_eq(transport_send(tp, &t, "key-3", "{}", 2, 2000, err, sizeof(err)), -1);
    ck_assert_msg(strncmp(err, "webhook: ", 9) == 0, "%s", err);
}
END_TEST

static const struct {
    const char *url, *secret, *key, *error;
} webhook_refusals[] = {
    {"ftp://127.0.0.1/x", "s", "k", "webhook url must start with http:// or https://"},
    {"http://127.0.0.1:9/x", "", "k", "webhook target needs a url and a secret"},
    {NULL, "s", "k", "webhook target needs a url and a secret"},
    {"http://127.0.0.1:9/x", "s", "bad key", "idempotency key is not usable"},
    {"http://referrals.example.org/x", "s", "k", "webhook url must use https://"},
    {"http://127.0.0.1.example.org/x", "s", "k", "webhook url must use https://"},
    {"http://localhost.example.org:80/x", "s", "k", "webhook url must use https://"},
    {"http://user@10.0.0.1/x", "s", "k", "webhook url must use https://"},
};

START_TEST(webhook_refuses_what_it_cannot_send_safely)
{
    struct dispatch_target t = {.channel = DISPATCH_WEBHOOK,
                                .url = webhook_refusals[_i].url,
                                .secret = webhook_refusals[_i].secret};
    ck_assert_int_eq(
        transport_send(tp, &t, webhook_refusals[_i].key, "{}", 2, 1000, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, webhook_refusals[_i].error) == err, "%s", err);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *dispatch_unit_suite(void)
{
    Suite *s = suite_create("dispatch_unit");
    TCase *tc = tcase_create("transport");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, backoff_doubles_per_failure_up_to_the_cap, 0, N(backoffs));
    tcase_add_loop_test(tc, only_safe_keys_travel, 0, N(keys));
    tcase_add_test(tc, signature_is_hmac_sha256_hex);
    tcase_add_test(tc, spool_writes_atomically_and_once);
    tcase_add_test(tc, spool_reports_a_directory_it_cannot_make);
    tcase_add_test(tc, spool_makes_its_directories_0700);
    tcase_add_loop_test(tc, spool_refuses_a_directory_others_may_write_or_own, 0, N(unsafe_spools));
    tcase_add_test(tc, spool_never_follows_a_link_at_the_temp_path);
    tcase_add_test(tc, command_reads_stdin_and_sees_the_key);
    tcase_add_test(tc, command_takes_a_large_body_or_none_of_it);
    tcase_add_loop_test(tc, command_failures_say_why, 0, N(command_failures));
    tcase_add_test(tc, webhook_signs_timestamp_key_and_body);
    tcase_add_test(tc, webhook_posts_signed_json_and_wants_2xx);
    tcase_add_loop_test(tc, webhook_refuses_what_it_cannot_send_safely, 0, N(webhook_refusals));
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(dispatch_unit_suite())
