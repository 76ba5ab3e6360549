/*
 * check_web_config.c: configuration from a browser, over loopback with
 * libcurl against `casehost serve` and a real PostgreSQL. A config admin
 * starts a candidate, uploads a changed routing.cfg (multipart, as a file
 * input sends it), checks it (a broken file named with its line), runs its
 * fixtures, replays it over stored decisions (the diff as a table), asks a
 * what-if from a form of case facts, deploys it and rolls back. A
 * caseworker and another agency's admin are refused; an upload without the
 * CSRF token, a path with '..' and a browser naming a server path are
 * refused; what a page echoes is escaped.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "testlib.h"
#include "webclient.h"

static struct tl_result r;
static char db[1024], dir[1024], cfg[1100], routing[1200];

#define LIVE "SELECT hash FROM casehost.config_generations WHERE plugin = 'trafficking' AND live"

#define RUN_OK(...)                                                                                \
    ck_assert_msg(tl_run(&r, db, cfg, __VA_ARGS__, NULL) == 0, "exit %d\nstdout: %s\nstderr: %s",  \
                  r.status, r.out, r.err)

/*
 * Agencies A and B, the shipped configuration live, a stored decision to
 * replay (a 15-year-old's disclosed commercial sex: two 24-hour reports),
 * a_admin holding the config_admin grant, and the server.
 */
static void setup(void)
{
    snprintf(db, sizeof(db), "%s", tl_db_new());
    tl_seed_agencies(db, NULL);
    /* a host config whose plugin reads the folder it is pointed at (live, or a candidate) */
    snprintf(cfg, sizeof(cfg), "%s", tl_candidate_config(dir, sizeof(dir), "webconfig"));
    snprintf(routing, sizeof(routing), "%s/trafficking/routing.cfg", dir);
    RUN_OK(TL_AS, "a_worker", "person", "add", "--given", "Jo", "--age-estimate", "15");
    RUN_OK(TL_AS, "a_worker", "case", "new", "--title", "T", "--person", "1", "--state", "CA");
    RUN_OK(TL_AS, "a_worker", "screen", "start", "1", "--instrument", "youth_quick",
           "offer_not_as_promised=no", "could_not_leave=no", "id_money_phone_held=no",
           "exchanged_sex=yes", "someone_making_you_now=no");
    RUN_OK("user", "config-admin", "a_admin", "on");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    web_server_start(db, cfg, NULL);
}

static void teardown(void)
{
    char cmd[1200];
    web_server_stop();
    curl_global_cleanup();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* The shipped routing.cfg with from replaced by to; caller frees. */
static char *routing_with(const char *from, const char *to)
{
    char *text = tl_read_file(routing), *at = strstr(text, from), *out;
    ck_assert_msg(at != NULL, "'%s' not in routing.cfg", from);
    out = calloc(1, strlen(text) + strlen(to) + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, text, (size_t)(at - text));
    strcat(out, to);
    strcat(out, at + strlen(from));
    free(text);
    return out;
}

/*
 * POSTs a multipart form to /run, as a browser sends a form with a file
 * input: pairs (name, value, ..., NULL) and, when upload is not NULL, one
 * file part named upload_name holding upload.
 */
static void post_upload_n(struct http *h, const char *token, const char *const *pairs,
                          const char *upload_name, const char *upload, size_t upload_len)
{
    CURL *c = curl_easy_init();
    curl_mime *mime;
    curl_mimepart *part;
    char url[256], cookie[128];
    FILE *hf, *bf;
    CURLcode rc;
    memset(h, 0, sizeof(*h));
    ck_assert_ptr_nonnull(c);
    mime = curl_mime_init(c);
    for (size_t i = 0; pairs[i] != NULL; i += 2) {
        part = curl_mime_addpart(mime);
        curl_mime_name(part, pairs[i]);
        curl_mime_data(part, pairs[i + 1], CURL_ZERO_TERMINATED);
    }
    if (upload != NULL) {
        part = curl_mime_addpart(mime);
        curl_mime_name(part, upload_name);
        curl_mime_filename(part, "routing.cfg");
        curl_mime_type(part, "application/octet-stream");
        curl_mime_data(part, upload, upload_len);
    }
    hf = open_memstream(&h->head, &h->head_len);
    bf = open_memstream(&h->body, &h->body_len);
    ck_assert(hf != NULL && bf != NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/run", web_port);
    snprintf(cookie, sizeof(cookie), "casehost_session=%s", token);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, take);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, bf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    fclose(hf);
    fclose(bf);
    ck_assert_msg(rc == CURLE_OK, "POST /run: %s", curl_easy_strerror(rc));
}

static void post_upload(struct http *h, const char *token, const char *const *pairs,
                        const char *upload_name, const char *upload)
{
    post_upload_n(h, token, pairs, upload_name, upload, upload != NULL ? strlen(upload) : 0);
}

/* Uploads text as the candidate's path through the form of `candidate put`. */
static void put(struct http *h, const char *token, const char *csrf, const char *path,
                const char *text)
{
    post_upload(h, token,
                (const char *[]){"_csrf", csrf, "_verb", "candidate", "_sub", "put", "id", "1",
                                 "path", path, NULL},
                "_upload:file", text);
}

/* POSTs one command's form fields (after _verb and _sub) with the session's token. */
static void run(struct http *h, const char *token, const char *csrf, const char *verb,
                const char *sub, const char *const *fields)
{
    const char *pairs[32] = {"_csrf", csrf, "_verb", verb, "_sub", sub};
    size_t n = 6;
    for (size_t i = 0; fields[i] != NULL; i++) {
        ck_assert(n < 31);
        pairs[n++] = fields[i];
    }
    pairs[n] = NULL;
    post(h, "/run", token, NULL, pairs);
}

START_TEST(an_admin_changes_checks_replays_deploys_and_rolls_back_from_the_browser)
{
    char token[65], csrf[80], first[80], *broken, *slower, *good;
    struct http h;
    snprintf(first, sizeof(first), "%s", tl_db_text(db, LIVE));
    login("a_admin", token);
    csrf_of(token, csrf);

    /* the commands page leads a config admin to the configuration pages */
    http_do(&h, "/commands", token, NULL, NULL);
    HAS(h.body, "<a href=\"/run?a=candidate&amp;a=list\">");
    http_release(&h);
    run(&h, token, csrf, "candidate", "new", (const char *[]){"--note", "slower reports", NULL});
    ck_assert_msg(h.status == 200, "%ld\n%s", h.status, h.body);
    http_release(&h);
    get(&h, token, (const char *[]){"candidate", "list", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "candidate 1: slower reports");
    http_release(&h);
    get(&h, token, (const char *[]){"candidate", "show", "1", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "trafficking/routing.cfg");
    HAS(h.body, "check every file and run the fixtures");
    HAS(h.body, "upload a file into it");
    HAS(h.body, "run fixture cases through the routing rules");
    HAS(h.body, "what a candidate configuration would change in stored decisions");
    HAS(h.body, "deploy it: make it live");
    http_release(&h);
    /* the upload form is a file input sent as multipart */
    get(&h, token, (const char *[]){"candidate", "put", "1", NULL});
    HAS(h.body, "enctype=\"multipart/form-data\"");
    HAS(h.body, "<input type=\"file\" id=\"f-file\" name=\"_upload:file\" required");
    http_release(&h);

    /* a broken file: the check names it with its line, and nothing goes live */
    broken = routing_with("rules = (", "rules = ( oops");
    put(&h, token, csrf, "trafficking/routing.cfg", broken);
    ck_assert_msg(h.status == 200, "%ld\n%s", h.status, h.body);
    HAS(h.body, "the file is in the candidate");
    http_release(&h);
    ck_assert_int_eq(
        tl_db_value(db, "SELECT count(*) FROM casehost.config_candidates"
                        " WHERE files->>'trafficking/routing.cfg' LIKE '%rules = ( oops%'"),
        1);
    run(&h, token, csrf, "config", "check", (const char *[]){"--candidate", "1", NULL});
    ck_assert_msg(h.status != 200, "%.4000s", h.body);
    HAS(h.body, "trafficking/routing.cfg:");
    HASNT(h.body, "casehost-candidate-");
    http_release(&h);
    run(&h, token, csrf, "config", "deploy", (const char *[]){"--candidate", "1", NULL});
    ck_assert_int_ne(h.status, 200);
    http_release(&h);
    ck_assert_str_eq(tl_db_text(db, LIVE), first);

    /* reports due in 12 hours: the fixtures say what differs, replay shows the diff as a table */
    slower = routing_with("due_hours = 24;\n    stop = false;\n    note = \"child sex",
                          "due_hours = 12;\n    stop = false;\n    note = \"child sex");
    put(&h, token, csrf, "trafficking/routing.cfg", slower);
    ck_assert_int_eq(h.status, 200);
    http_release(&h);
    get(&h, token, (const char *[]){"routing", "test", "--candidate", "1", NULL});
    ck_assert_msg(h.status != 200, "%.3000s", h.body);
    HAS(h.body, "routing fixtures do not match");
    HAS(h.body, "(routing-tests.cfg:");
    http_release(&h);
    get(&h, token, (const char *[]){"routing", "replay", "--candidate", "1", NULL});
    ck_assert_msg(h.status == 200, "%ld\n%s", h.status, h.body);
    HAS(h.body, "<table");
    HAS(h.body, "cw_ca: due 24h -&gt; 12h");
    HAS(h.body, "1 of 1 stored decisions would change");
    http_release(&h);

    /* what-if from a form of case facts, on the candidate and on live */
    get(&h, token,
        (const char *[]){"route", "what-if", "--candidate", "1", "--age", "15", "--state", "CA",
                         "--indicator", "exchanged_sex", "--result", "positive", "--instrument",
                         "youth_quick", NULL});
    ck_assert_msg(h.status == 200, "%ld\n%s", h.status, h.body);
    HAS(h.body, "What-if for the facts given");
    HAS(h.body, "due within 12 h");
    http_release(&h);
    get(&h, token,
        (const char *[]){"route", "what-if", "--age", "15", "--state", "CA", "--flag",
                         "imminent_danger", "--indicator", "exchanged_sex", "--result", "positive",
                         "--instrument", "youth_quick", NULL});
    ck_assert_msg(h.status == 200, "%ld\n%s", h.status, h.body);
    HAS(h.body, "CALL 911 NOW");
    HAS(h.body, "due within 24 h");
    http_release(&h);

    /* a good change with markup in it: checked, read back escaped, deployed */
    good = routing_with("rules = (", "rules = ( # <script>alert(1)</script> reviewed\n");
    put(&h, token, csrf, "trafficking/routing.cfg", good);
    ck_assert_int_eq(h.status, 200);
    http_release(&h);
    get(&h, token,
        (const char *[]){"candidate", "show", "1", "--file", "trafficking/routing.cfg", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "# &lt;script&gt;alert(1)&lt;/script&gt; reviewed");
    HASNT(h.body, "<script>");
    http_release(&h);
    run(&h, token, csrf, "config", "check", (const char *[]){"--candidate", "1", NULL});
    ck_assert_msg(h.status == 200, "%ld\n%s", h.status, h.body);
    HAS(h.body, "configuration is valid and its fixtures pass");
    HASNT(h.body, cfg); /* nor the server's own paths */
    http_release(&h);
    run(&h, token, csrf, "config", "deploy",
        (const char *[]){"--candidate", "1", "--note", "reviewed", NULL});
    ck_assert_msg(h.status == 200, "%ld\n%s", h.status, h.body);
    HAS(h.body, "the candidate is live");
    http_release(&h);
    ck_assert_str_ne(tl_db_text(db, LIVE), first);
    ck_assert_str_eq(tl_db_text(db, "SELECT state FROM casehost.config_candidates WHERE id = 1"),
                     "deployed");

    /* history offers the earlier generation back; rollback puts it live */
    get(&h, token, (const char *[]){"config", "history", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "reviewed");
    HAS(h.body, "roll trafficking back to");
    http_release(&h);
    run(&h, token, csrf, "config", "rollback",
        (const char *[]){"hash", first, "--plugin", "trafficking", NULL});
    ck_assert_msg(h.status == 200, "%ld\n%s", h.status, h.body);
    HAS(h.body, "the earlier generation is live again");
    http_release(&h);
    ck_assert_str_eq(tl_db_text(db, LIVE), first);
    free(broken);
    free(slower);
    free(good);
}
END_TEST

/*
 * Refusals: a caseworker and another agency's admin (neither holds the
 * grant) read and change nothing and are not led there; an upload without
 * the CSRF token, a path out of the plugin's folder and a browser naming a
 * server path change nothing; an echoed path is escaped.
 */
START_TEST(the_configuration_pages_refuse_what_they_must)
{
    char token[65], csrf[80];
    struct http h;
    RUN_OK(TL_AS, "a_admin", "candidate", "new");
    for (int who = 0; who < 2; who++) {
        login(who == 0 ? "a_worker" : "b_admin", token);
        csrf_of(token, csrf);
        http_do(&h, "/commands", token, NULL, NULL);
        HASNT(h.body, "a=candidate");
        http_release(&h);
        get(&h, token, (const char *[]){"candidate", "show", "1", NULL});
        ck_assert_int_ne(h.status, 200);
        HAS(h.body, "needs an admin with the config_admin grant");
        HASNT(h.body, "read trafficking/routing.cfg");
        http_release(&h);
        put(&h, token, csrf, "trafficking/routing.cfg", "rules = ();\n");
        ck_assert_int_ne(h.status, 200);
        http_release(&h);
        get(&h, token, (const char *[]){"routing", "replay", "--candidate", "1", NULL});
        ck_assert_int_ne(h.status, 200);
        http_release(&h);
    }
    ck_assert_int_eq(tl_db_value(db, "SELECT count(*) FROM casehost.config_candidates"
                                     " WHERE changed_at > created_at"),
                     0);

    login("a_admin", token);
    csrf_of(token, csrf);
    /* without the CSRF token */
    post_upload(&h, token,
                (const char *[]){"_verb", "candidate", "_sub", "put", "id", "1", "path",
                                 "trafficking/routing.cfg", NULL},
                "_upload:file", "rules = ();\n");
    ck_assert_int_eq(h.status, 403);
    http_release(&h);
    /* past the server's form limit: refused, saying the limit */
    {
        char *big = malloc((1u << 20) + 4096);
        ck_assert_ptr_nonnull(big);
        memset(big, '#', (1u << 20) + 4095);
        big[(1u << 20) + 4095] = '\0';
        put(&h, token, csrf, "trafficking/routing.cfg", big);
        ck_assert_int_eq(h.status, 413);
        HAS(h.body, "may hold 1 MiB");
        http_release(&h);
        free(big);
    }
    /* a NUL byte would cut the file short unseen: refused, nothing stored */
    {
        static const char with_nul[] = "rules = ();\n\0# the rest";
        post_upload_n(&h, token,
                      (const char *[]){"_csrf", csrf, "_verb", "candidate", "_sub", "put", "id",
                                       "1", "path", "trafficking/routing.cfg", NULL},
                      "_upload:file", with_nul, sizeof(with_nul) - 1);
        ck_assert_int_eq(h.status, 400);
        HAS(h.body, "NUL byte");
        http_release(&h);
        ck_assert_int_eq(tl_db_value(db, "SELECT count(*) FROM casehost.config_candidates"
                                         " WHERE changed_at > created_at"),
                         0);
    }
    /* out of the plugin's folder, escaped when echoed */
    put(&h, token, csrf, "trafficking/../../<script>x</script>.cfg", "rules = ();\n");
    ck_assert_int_ne(h.status, 200);
    HAS(h.body, "a candidate file is named");
    HAS(h.body, "&lt;script&gt;x&lt;/script&gt;");
    HASNT(h.body, "<script>");
    http_release(&h);
    /* a server path typed into the form is never read */
    run(&h, token, csrf, "candidate", "put",
        (const char *[]){"id", "1", "path", "trafficking/routing.cfg", "file", routing, NULL});
    ck_assert_int_ne(h.status, 200);
    http_release(&h);
    run(&h, token, csrf, "config", "check", (const char *[]){"dir", "/etc", NULL});
    ck_assert_int_ne(h.status, 200);
    HAS(h.body, "on the web pages, name a stored candidate");
    http_release(&h);
    ck_assert_int_eq(tl_db_value(db, "SELECT count(*) FROM casehost.config_candidates"
                                     " WHERE changed_at > created_at"),
                     0);
}
END_TEST

static Suite *web_config_suite(void)
{
    Suite *s = suite_create("web_config");
    TCase *tc = tcase_create("configuration");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, an_admin_changes_checks_replays_deploys_and_rolls_back_from_the_browser);
    tcase_add_test(tc, the_configuration_pages_refuse_what_they_must);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(web_config_suite())
