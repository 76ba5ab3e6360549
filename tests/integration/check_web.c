/*
 * check_web.c: `casehost serve` end to end: the real binary listening on
 * loopback, connected as casehost_authenticator to a throwaway database,
 * driven over HTTP with libcurl as a browser would. Logins (checked by
 * PostgreSQL), lock-outs, session ends, CSRF, agency separation, escaping
 * of everything a person types and the security headers. Never starts a
 * server on anything but 127.0.0.1, and every server it starts ends.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_main.h"
#include "testlib.h"
#include "webclient.h"

#define PASSWORD tl_env("CASEHOST_TEST_PASSWORD")
#define LOCK_AFTER "3"

/* Every field a person can type is sent as this; it must come back as text. */
#define XSS "<script>alert(\"x\")</script>' \"onmouseover="
#define XSS_ESCAPED "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &quot;onmouseover="
#define JS_URL "javascript:alert(1)"

static struct tl_result r;
static char db[1024], cfg[1024];
static json_t *doc;
static const struct tl_cli cli = {db, cfg, &r, &doc};

#define db_value(...) tl_db_valuef(db, __VA_ARGS__)
#define db_text(...) tl_db_textf(db, __VA_ARGS__)

/* ------------------------------------------------------------- server --- */

/* A fresh database with agencies A and B, and the server with short login limits. */
static void setup(void)
{
    static const char *const args[] = {"--lock-after", LOCK_AFTER, "--lock-minutes", "5", NULL};
    tl_cli_setup(&cli, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    web_server_start(db, cfg, args);
}

static void teardown(void)
{
    web_server_stop();
    curl_global_cleanup();
    json_decref(doc);
    doc = NULL;
}

/* h tells the browser to forget its session cookie. */
static void assert_cookie_cleared(const struct http *h)
{
    const char *c = header(h, "Set-Cookie");
    ck_assert_msg(c != NULL, "no Set-Cookie in:\n%.3000s", h->head);
    HAS(c, "casehost_session=;");
    HAS(c, "Max-Age=0");
}

/* How many web sessions user has on the server. */
static long long sessions_of(const char *user)
{
    return db_value("SELECT count(*) FROM casehost.web_sessions s"
                    "  JOIN casehost.users u ON u.id = s.user_id WHERE u.name = '%s'",
                    user);
}

/* GET / with token: the login page's redirect, the session gone. */
static void assert_logged_out(const char *token)
{
    struct http h;
    const char *loc;
    http_do(&h, "/", token, NULL, NULL);
    ck_assert_msg(h.status == 303, "GET / with an ended session: %ld\n%.3000s", h.status, h.body);
    loc = header(&h, "Location");
    ck_assert_msg(loc != NULL && strcmp(loc, "/login") == 0, "Location: %s", loc ? loc : "-");
    HASNT(h.body, "Log out");
    http_release(&h);
}

/* ------------------------------------------------------------- tests --- */

START_TEST(login_sets_a_strict_httponly_cookie_and_refuses_alike_without_naming_the_user)
{
    struct http ok, wrong, unknown, home;
    char token[65];
    const char *c;

    try_login(&ok, "a_worker", PASSWORD);
    ck_assert_int_eq(ok.status, 303);
    ck_assert_str_eq(header(&ok, "Location"), "/");
    c = header(&ok, "Set-Cookie");
    ck_assert_ptr_nonnull(c);
    HAS(c, "; HttpOnly");
    HAS(c, "; SameSite=Strict");
    HAS(c, "; Path=/");
    cookie_token(&ok, token);

    http_do(&home, "/", token, NULL, NULL);
    ck_assert_int_eq(home.status, 200);
    HAS(home.body, "<h1>My work</h1>");
    HAS(home.body, "a_worker");
    HASNT(home.body, "b_worker");

    /* a wrong password and a name nobody has: the same status, page and no cookie */
    try_login(&wrong, "a_worker", "not-the-password");
    try_login(&unknown, "nobody_here", "not-the-password");
    ck_assert_int_eq(wrong.status, 401);
    ck_assert_int_eq(unknown.status, 401);
    ck_assert_ptr_null(header(&wrong, "Set-Cookie"));
    ck_assert_ptr_null(header(&unknown, "Set-Cookie"));
    HAS(wrong.body, "The user name or password is wrong.");
    ck_assert_msg(strcmp(wrong.body, unknown.body) == 0,
                  "a wrong password:\n%.1500s\nan unknown user:\n%.1500s", wrong.body,
                  unknown.body);

    /* a session only for the right password */
    ck_assert_int_eq(sessions_of("a_worker"), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.web_sessions"), 1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log a"
                              "  JOIN casehost.users u ON u.id = a.actor_id"
                              " WHERE a.action = 'login' AND u.name = 'a_worker'"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log a"
                              "  JOIN casehost.users u ON u.id = a.object_id"
                              " WHERE a.action = 'login_failed' AND u.name = 'a_worker'"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log"
                              " WHERE action = 'login_failed' AND object_id IS NULL"
                              "   AND detail LIKE 'web login as nobody_here %%'"),
                     1);
    http_release(&ok);
    http_release(&wrong);
    http_release(&unknown);
    http_release(&home);
}
END_TEST

/* The end of a_worker's lock as the database has it ("" when there is none). */
static const char *lock_of_a_worker(void)
{
    return db_text("SELECT locked_until::text FROM casehost.web_login_failures"
                   " WHERE kind = 'user' AND key = 'a_worker'");
}

START_TEST(failures_lock_a_user_for_a_fixed_time_until_an_admin_unlocks_them)
{
    struct http h;
    char until[64], token[65];

    for (int i = 1; i <= 3; i++) {
        try_login(&h, "a_worker", "guess");
        ck_assert_int_eq(h.status, 401);
        ck_assert_ptr_null(header(&h, "Set-Cookie"));
        if (i < 3)
            ck_assert_str_eq(lock_of_a_worker(), "");
        else
            HAS(h.body, "locked");
        http_release(&h);
    }
    snprintf(until, sizeof(until), "%s", lock_of_a_worker());
    ck_assert_msg(until[0] != '\0', "no lock after " LOCK_AFTER " failures");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.web_login_failures"
                              " WHERE kind = 'user' AND key = 'a_worker'"
                              "   AND locked_until BETWEEN now() + interval '4 minutes'"
                              "                        AND now() + interval '5 minutes'"),
                     1);

    /* the right password is refused while locked, and saying so, from her own PC too */
    web_client_ip = "host!127.0.0.2";
    try_login(&h, "a_worker", PASSWORD);
    ck_assert_int_eq(h.status, 401);
    ck_assert_ptr_null(header(&h, "Set-Cookie"));
    HAS(h.body, "This user is locked");
    http_release(&h);
    /* guessing on never moves the end of the lock */
    web_client_ip = NULL;
    try_login(&h, "a_worker", "guess again");
    ck_assert_int_eq(h.status, 401);
    HAS(h.body, "This user is locked");
    http_release(&h);
    ck_assert_str_eq(lock_of_a_worker(), until);
    ck_assert_int_eq(db_value("SELECT failures FROM casehost.web_login_failures"
                              " WHERE kind = 'user' AND key = 'a_worker'"),
                     3);
    ck_assert_int_eq(sessions_of("a_worker"), 0);
    /* each attempt while locked is audited */
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log a"
                              "  JOIN casehost.users u ON u.id = a.object_id"
                              " WHERE a.action = 'login_failed' AND u.name = 'a_worker'"),
                     5);
    ck_assert_int_eq(
        db_value("SELECT count(*) FROM casehost.audit_log"
                 " WHERE action = 'login_failed'"
                 "   AND detail LIKE 'web login as a_worker from 127.0.0.2 failed %%'"),
        1);

    /* a caseworker may not unlock; their admin may */
    ck_assert_int_ne(tl_run(&r, db, cfg, TL_AS, "a_worker", "user", "unlock", "a_worker", NULL), 0);
    ck_assert_str_eq(lock_of_a_worker(), until);
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_admin", "user", "unlock", "a_worker", NULL) == 0,
                  "user unlock: exit %d\n%.2000s%.2000s", r.status, r.out, r.err);
    HAS(r.out, "unlocked");
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.web_login_failures"
                              " WHERE kind = 'user' AND key = 'a_worker'"),
                     0);
    web_client_ip = "host!127.0.0.2";
    login("a_worker", token);
    ck_assert_int_eq(sessions_of("a_worker"), 1);
}
END_TEST

START_TEST(an_idle_session_ends_on_the_server)
{
    char token[65], other[65];
    struct http h;
    login("a_worker", token);
    login("a_admin", other);
    http_do(&h, "/", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    http_release(&h);
    /* as if nobody had used it for longer than its idle limit */
    tl_db_execf(db, "UPDATE casehost.web_sessions s SET last_seen = now() - s.idle_limit"
                    "                                              - interval '1 second'"
                    "  FROM casehost.users u WHERE u.id = s.user_id AND u.name = 'a_worker'");
    http_do(&h, "/", token, NULL, NULL);
    ck_assert_int_eq(h.status, 303);
    ck_assert_str_eq(header(&h, "Location"), "/login");
    assert_cookie_cleared(&h);
    http_release(&h);
    ck_assert_int_eq(sessions_of("a_worker"), 0);
    assert_logged_out(token);
    /* nobody else's session ended */
    ck_assert_int_eq(sessions_of("a_admin"), 1);
    http_do(&h, "/", other, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    http_release(&h);
}
END_TEST

START_TEST(logout_ends_the_session_on_the_server)
{
    char token[65], csrf[80];
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    post(&h, "/logout", token, NULL, (const char *[]){"_csrf", csrf, NULL});
    ck_assert_int_eq(h.status, 303);
    ck_assert_str_eq(header(&h, "Location"), "/login");
    assert_cookie_cleared(&h);
    http_release(&h);
    ck_assert_int_eq(sessions_of("a_worker"), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log"
                              " WHERE action = 'logout' AND detail = 'web logout'"),
                     1);
    /* the old cookie, sent again, is nobody */
    assert_logged_out(token);
}
END_TEST

START_TEST(disabling_a_user_ends_their_web_sessions)
{
    char token[65];
    struct http h;
    login("a_worker", token);
    http_do(&h, "/", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    http_release(&h);
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_admin", "user", "disable", "a_worker", NULL) == 0,
                  "user disable: exit %d\n%.2000s%.2000s", r.status, r.out, r.err);
    ck_assert_int_eq(sessions_of("a_worker"), 0);
    assert_logged_out(token);
    /* and no new one */
    try_login(&h, "a_worker", PASSWORD);
    ck_assert_int_eq(h.status, 401);
    ck_assert_ptr_null(header(&h, "Set-Cookie"));
    http_release(&h);
}
END_TEST

/* The ways a form can come without this session's own page behind it. */
static const struct {
    const char *what;
    int token;          /* send the session's CSRF token */
    const char *forged; /* or this one (NULL: no _csrf field) */
    const char *header; /* and this header line (NULL: none) */
} forged_posts[] = {
    {"no _csrf field", 0, NULL, NULL},
    {"an empty _csrf", 0, "", NULL},
    {"another token", 0, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL},
    {"the right token from another site", 1, NULL, "Sec-Fetch-Site: cross-site"},
    {"the right token from a sibling site", 1, NULL, "Sec-Fetch-Site: same-site"},
};

START_TEST(a_post_without_this_sessions_csrf_token_is_refused_and_writes_nothing)
{
    char token[65], csrf[80];
    long long case_id = tl_case_new(&cli, 0, "csrf case", NULL);
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    for (size_t i = 0; i < sizeof(forged_posts) / sizeof(forged_posts[0]); i++) {
        const char *value = forged_posts[i].token ? csrf : forged_posts[i].forged;
        const char *pairs[12] = {"_verb", "note",         "_sub", "add",
                                 "case",  tl_id(case_id), "text", "forged note"};
        const char *out[3] = {NULL, NULL, NULL};
        if (value != NULL) {
            pairs[8] = out[0] = "_csrf";
            pairs[9] = out[1] = value;
        }
        post(&h, "/run", token, forged_posts[i].header, pairs);
        ck_assert_msg(h.status == 403, "%s: %ld\n%.3000s", forged_posts[i].what, h.status, h.body);
        HAS(h.body, "security token");
        http_release(&h);
        ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.notes"), 0);
        /* logging out needs the token too */
        post(&h, "/logout", token, forged_posts[i].header, out);
        ck_assert_msg(h.status == 403, "logout with %s: %ld", forged_posts[i].what, h.status);
        http_release(&h);
        ck_assert_int_eq(sessions_of("a_worker"), 1);
    }
    /* the same form from the server's own page is taken */
    post(&h, "/run", token, "Sec-Fetch-Site: same-origin",
         (const char *[]){"_csrf", csrf, "_verb", "note", "_sub", "add", "case", tl_id(case_id),
                          "text", "real note", NULL});
    ck_assert_msg(h.status == 200, "the real form: %ld\n%.3000s", h.status, h.body);
    http_release(&h);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.notes WHERE body = 'real note'"), 1);
}
END_TEST

START_TEST(another_agencys_case_and_person_are_not_found_never_forbidden)
{
    char a_token[65], b_token[65];
    struct http theirs, none, own;
    long long b_person, b_case, max_case;
    /* B's caseworker records a person and a case */
    tl_cli_json(&cli, "b_worker",
                (const char *[]){"person", "add", "--given", "Bea", "--family", "Other", NULL});
    b_person = json_integer_value(json_object_get(doc, "person"));
    tl_cli_json(&cli, "b_worker",
                (const char *[]){"case", "new", "--title", "b agency secret", "--state", "NV",
                                 "--person", tl_id(b_person), NULL});
    b_case = json_integer_value(json_object_get(doc, "case"));
    ck_assert(b_person > 0 && b_case > 0);
    max_case = db_value("SELECT max(id) FROM casehost.cases");
    login("a_worker", a_token);
    login("b_worker", b_token);

    get(&theirs, a_token, (const char *[]){"case", "show", tl_id(b_case), NULL});
    get(&none, a_token, (const char *[]){"case", "show", tl_id(max_case + 100), NULL});
    ck_assert_int_eq(theirs.status, 404);
    ck_assert_int_eq(none.status, 404);
    HAS(theirs.body, "not found");
    HASNT(theirs.body, "b agency secret");
    HASNT(theirs.body, "Bea");
    http_release(&theirs);
    http_release(&none);

    get(&theirs, a_token, (const char *[]){"person", "show", tl_id(b_person), NULL});
    ck_assert_int_eq(theirs.status, 404);
    HAS(theirs.body, "not found");
    HASNT(theirs.body, "Bea");
    HASNT(theirs.body, "Other");
    http_release(&theirs);

    /* not in A's list either */
    http_do(&theirs, "/", a_token, NULL, NULL);
    ck_assert_int_eq(theirs.status, 200);
    HASNT(theirs.body, "b agency secret");
    http_release(&theirs);

    /* while B's own caseworker sees both */
    get(&own, b_token, (const char *[]){"case", "show", tl_id(b_case), NULL});
    ck_assert_int_eq(own.status, 200);
    HAS(own.body, "b agency secret");
    HAS(own.body, "Bea");
    http_release(&own);
    get(&own, b_token, (const char *[]){"person", "show", tl_id(b_person), NULL});
    ck_assert_int_eq(own.status, 200);
    HAS(own.body, "Bea");
    http_release(&own);
}
END_TEST

/* POST /run of a command's form (pairs after _csrf, _verb, _sub); expects 200. */
static void run_form(const char *token, const char *csrf, const char *verb, const char *sub,
                     const char *const *pairs)
{
    const char *all[40] = {"_csrf", csrf, "_verb", verb, "_sub", sub};
    size_t n = 6;
    struct http h;
    for (size_t i = 0; pairs[i] != NULL; i++) {
        ck_assert(n < 39);
        all[n++] = pairs[i];
    }
    all[n] = NULL;
    post(&h, "/run", token, NULL, all);
    ck_assert_msg(h.status == 200, "%s %s: %ld\n%.3000s", verb, sub, h.status, h.body);
    HASNT(h.body, "class=\"error\"");
    http_release(&h);
}

START_TEST(a_person_case_and_note_made_on_the_web_show_on_the_case_page)
{
    char token[65], csrf[80];
    long long person, case_id;
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    run_form(token, csrf, "person", "add",
             (const char *[]){"--given", "Robin", "--family", "Webster", NULL});
    person = db_value("SELECT id FROM casehost.people WHERE given_name = 'Robin'");
    ck_assert_int_gt(person, 0);
    run_form(token, csrf, "case", "new",
             (const char *[]){"--title", "met at the shelter", "--state", "CA", "--person",
                              tl_id(person), NULL});
    case_id = db_value("SELECT id FROM casehost.cases WHERE title = 'met at the shelter'");
    ck_assert_int_gt(case_id, 0);
    ck_assert_int_eq(db_value("SELECT subject_id FROM casehost.cases WHERE id = %lld", case_id),
                     person);
    run_form(token, csrf, "note", "add",
             (const char *[]){"case", tl_id(case_id), "text", "asked about school today", NULL});

    get(&h, token, (const char *[]){"case", "show", tl_id(case_id), NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "met at the shelter");
    HAS(h.body, "Robin");
    HAS(h.body, "asked about school today");
    http_release(&h);
    get(&h, token, (const char *[]){"person", "show", tl_id(person), NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "Robin");
    HAS(h.body, "Webster");
    http_release(&h);
    /* written as the person, not as the server */
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.notes n"
                              "  JOIN casehost.users u ON u.id = n.author_id"
                              " WHERE u.name = 'a_worker' AND n.case_id = %lld",
                              case_id),
                     1);
}
END_TEST

/* How often part occurs in text. */
static int occurrences(const char *text, const char *part)
{
    int n = 0;
    for (const char *p = strstr(text, part); p != NULL; p = strstr(p + 1, part))
        n++;
    return n;
}

/* The attributes whose value a browser follows or fetches. */
static const char *const url_attrs[] = {"href=\"", "src=\"", "action=\"", "formaction=\""};

/*
 * A page holding XSS values at least want times: each escaped, none able to
 * start a script, end an attribute, or become a link.
 */
static void assert_escaped(const struct http *h, const char *what, int want)
{
    ck_assert_msg(occurrences(h->body, XSS_ESCAPED) >= want,
                  "%s: %d escaped values, want %d:\n%.3000s", what,
                  occurrences(h->body, XSS_ESCAPED), want, h->body);
    HASNT(h->body, "<script");
    HASNT(h->body, "\"onmouseover");
    HASNT(h->body, "&lt;/script&gt;'");
    /* every link and form stays on this server: a typed javascript: URL is only ever text */
    for (size_t i = 0; i < sizeof(url_attrs) / sizeof(url_attrs[0]); i++)
        for (const char *p = strstr(h->body, url_attrs[i]); p != NULL;
             p = strstr(p + 1, url_attrs[i]))
            ck_assert_msg(p[strlen(url_attrs[i])] == '/', "%s: a URL off the server: %.80s", what,
                          p);
}

START_TEST(everything_a_person_types_comes_back_escaped)
{
    char token[65], csrf[80];
    long long person, case_id;
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    run_form(token, csrf, "person", "add",
             (const char *[]){"--given", XSS, "--family", JS_URL, "--gender", XSS, "--language",
                              XSS, NULL});
    person = db_value("SELECT max(id) FROM casehost.people");
    run_form(token, csrf, "case", "new",
             (const char *[]){"--title", XSS, "--state", "CA", "--county", XSS, "--person",
                              tl_id(person), NULL});
    case_id = db_value("SELECT max(id) FROM casehost.cases");
    run_form(token, csrf, "note", "add",
             (const char *[]){"case", tl_id(case_id), "text", XSS, NULL});
    /* the values arrived as typed */
    ck_assert_str_eq(db_text("SELECT given_name FROM casehost.people WHERE id = %lld", person),
                     XSS);
    ck_assert_str_eq(db_text("SELECT body FROM casehost.notes WHERE case_id = %lld", case_id), XSS);

    get(&h, token, (const char *[]){"person", "show", tl_id(person), NULL});
    ck_assert_int_eq(h.status, 200);
    assert_escaped(&h, "person show (given name, gender, language)", 3);
    HAS(h.body, JS_URL); /* as text */
    http_release(&h);

    get(&h, token, (const char *[]){"case", "show", tl_id(case_id), NULL});
    ck_assert_int_eq(h.status, 200);
    assert_escaped(&h, "case show (title, county, person's name, note)", 4);
    http_release(&h);

    get(&h, token, (const char *[]){"case", "list", NULL});
    ck_assert_int_eq(h.status, 200);
    assert_escaped(&h, "the case list (title)", 1);
    http_release(&h);

    /* a form prefilled from the address: the value inside an attribute */
    get(&h, token, (const char *[]){"note", "add", tl_id(case_id), XSS, NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "<form method=\"post\"");
    HAS(h.body, "value=\"" XSS_ESCAPED "\"");
    assert_escaped(&h, "note add form", 1);
    http_release(&h);
    get(&h, token, (const char *[]){"case", "new", "--title", XSS, "--county", JS_URL, NULL});
    ck_assert_int_eq(h.status, 200);
    assert_escaped(&h, "case new form", 1);
    http_release(&h);

    /* a refused value echoed in the error message, and the form shown again */
    post(&h, "/run", token, NULL,
         (const char *[]){"_csrf", csrf, "_verb", "case", "_sub", "update", "case", tl_id(case_id),
                          "--add-flag", XSS, NULL});
    ck_assert_msg(h.status >= 400 && h.status < 500, "unknown flag: %ld", h.status);
    HAS(h.body, "class=\"error\"");
    assert_escaped(&h, "unknown flag error and form", 1);
    http_release(&h);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.cases WHERE flags <> '{}'"), 0);
}
END_TEST

/* The answers whose headers are checked: each with a session or not, what it is. */
enum page_kind { LOGIN_PAGE, LOGIN_FAILED, HOME, VIEW, CSS, NOT_FOUND, NO_SESSION, REFUSED };

static const struct {
    const char *what;
    enum page_kind kind;
    long status;
} header_pages[] = {
    {"the login page", LOGIN_PAGE, 200},
    {"a failed login", LOGIN_FAILED, 401},
    {"the home page", HOME, 200},
    {"a case page", VIEW, 200},
    {"the style sheet", CSS, 200},
    {"an unknown page", NOT_FOUND, 404},
    {"a page without a session", NO_SESSION, 303},
    {"a refused form", REFUSED, 403},
};

/* One answer of header_pages[i]'s kind into h. */
static void fetch_page(struct http *h, size_t i, const char *token, long long case_id)
{
    switch (header_pages[i].kind) {
    case LOGIN_PAGE:
        http_do(h, "/login", NULL, NULL, NULL);
        break;
    case LOGIN_FAILED:
        try_login(h, "a_worker", "wrong");
        break;
    case HOME:
        http_do(h, "/", token, NULL, NULL);
        break;
    case VIEW:
        get(h, token, (const char *[]){"case", "show", tl_id(case_id), NULL});
        break;
    case CSS:
        http_do(h, "/static/casehost.css", NULL, NULL, NULL);
        break;
    case NOT_FOUND:
        http_do(h, "/no/such/page", token, NULL, NULL);
        break;
    case NO_SESSION:
        http_do(h, "/commands", NULL, NULL, NULL);
        break;
    case REFUSED:
        post(h, "/run", token, NULL, (const char *[]){"_verb", "note", NULL});
        break;
    }
}

START_TEST(every_answer_carries_the_security_headers)
{
    char token[65];
    long long case_id = tl_case_new(&cli, 0, "headers", NULL);
    login("a_worker", token);
    for (size_t i = 0; i < sizeof(header_pages) / sizeof(header_pages[0]); i++) {
        const char *what = header_pages[i].what, *v;
        struct http h;
        fetch_page(&h, i, token, case_id);
        ck_assert_msg(h.status == header_pages[i].status, "%s: %ld, want %ld", what, h.status,
                      header_pages[i].status);
        v = header(&h, "Content-Security-Policy");
        ck_assert_msg(v != NULL, "%s: no Content-Security-Policy:\n%.3000s", what, h.head);
        HASNT(v, "unsafe-inline");
        HASNT(v, "unsafe-eval");
        HAS(v, "frame-ancestors 'none'");
        HAS(v, "default-src 'none'");
        v = header(&h, "X-Content-Type-Options");
        ck_assert_msg(v != NULL && strcmp(v, "nosniff") == 0, "%s: X-Content-Type-Options: %s",
                      what, v ? v : "-");
        v = header(&h, "Referrer-Policy");
        ck_assert_msg(v != NULL && strcmp(v, "no-referrer") == 0, "%s: Referrer-Policy: %s", what,
                      v ? v : "-");
        v = header(&h, "Content-Type");
        ck_assert_msg(v != NULL, "%s: no Content-Type", what);
        HAS(v, header_pages[i].kind == CSS ? "text/css" : "text/html");
        HAS(v, "charset=utf-8");
        v = header(&h, "Cache-Control");
        ck_assert_msg(v != NULL, "%s: no Cache-Control", what);
        if (header_pages[i].kind != CSS)
            ck_assert_msg(strcmp(v, "no-store") == 0, "%s: Cache-Control: %s", what, v);
        http_release(&h);
    }
}
END_TEST

START_TEST(a_get_of_a_command_that_writes_shows_its_form_and_writes_nothing)
{
    char token[65], admin[65];
    long long case_id = tl_case_new(&cli, 0, "get must not write", NULL);
    struct http h;
    login("a_worker", token);
    login("a_admin", admin);

    get(&h, token, (const char *[]){"note", "add", tl_id(case_id), "a note by GET", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "<form method=\"post\"");
    HAS(h.body, "name=\"_csrf\"");
    http_release(&h);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.notes"), 0);

    get(&h, token, (const char *[]){"case", "close", tl_id(case_id), "--reason", "by GET", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "<form method=\"post\"");
    http_release(&h);
    ck_assert_str_eq(db_text("SELECT status FROM casehost.cases WHERE id = %lld", case_id), "open");

    get(&h, token,
        (const char *[]){"case", "new", "--title", "made by GET", "--state", "CA", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "<form method=\"post\"");
    http_release(&h);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.cases WHERE title = 'made by GET'"),
                     0);

    get(&h, admin, (const char *[]){"user", "disable", "a_worker", NULL});
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "<form method=\"post\"");
    http_release(&h);
    ck_assert_int_eq(
        db_value("SELECT count(*) FROM casehost.identities WHERE name = 'a_worker' AND disabled"),
        0);
    ck_assert_int_eq(sessions_of("a_worker"), 1);
}
END_TEST

START_TEST(a_role_postgresql_lets_in_without_a_password_is_refused)
{
    struct http h;
    char *log;
    /*
     * a_worker's role made the cluster superuser's, whom this cluster trusts
     * (scripts/pg.sh): PostgreSQL would let anyone in as them.
     */
    tl_db_execf(db,
                "UPDATE casehost.identities SET db_role = current_user WHERE name = 'a_worker'");
    try_login(&h, "a_worker", "anything at all");
    ck_assert_msg(h.status != 303 && h.status >= 400, "a trusted role: %ld", h.status);
    ck_assert_ptr_null(header(&h, "Set-Cookie"));
    HASNT(h.body, "Log out");
    http_release(&h);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.web_sessions"), 0);
    log = tl_read_file(web_server.err);
    HAS(log, "without asking for a password");
    free(log);
}
END_TEST

static Suite *web_suite(void)
{
    Suite *s = suite_create("web");
    TCase *tc = tcase_create("web");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc,
                   login_sets_a_strict_httponly_cookie_and_refuses_alike_without_naming_the_user);
    tcase_add_test(tc, failures_lock_a_user_for_a_fixed_time_until_an_admin_unlocks_them);
    tcase_add_test(tc, an_idle_session_ends_on_the_server);
    tcase_add_test(tc, logout_ends_the_session_on_the_server);
    tcase_add_test(tc, disabling_a_user_ends_their_web_sessions);
    tcase_add_test(tc, a_post_without_this_sessions_csrf_token_is_refused_and_writes_nothing);
    tcase_add_test(tc, another_agencys_case_and_person_are_not_found_never_forbidden);
    tcase_add_test(tc, a_person_case_and_note_made_on_the_web_show_on_the_case_page);
    tcase_add_test(tc, everything_a_person_types_comes_back_escaped);
    tcase_add_test(tc, every_answer_carries_the_security_headers);
    tcase_add_test(tc, a_get_of_a_command_that_writes_shows_its_form_and_writes_nothing);
    tcase_add_test(tc, a_role_postgresql_lets_in_without_a_password_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(web_suite())
