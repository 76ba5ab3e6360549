/*
 * check_web_password.c: passwords set from the web pages of `casehost
 * serve`, end to end with the real server and PostgreSQL checking every
 * login: a person's own change (the current password checked as a login
 * checks it, counted as one when wrong), an admin's reset of a user of
 * their agency and of a user they just added on the web, and every refusal
 * changing nothing. No page and no log line may hold a password.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "testlib.h"
#include "webclient.h"

#define PASSWORD tl_env("CASEHOST_TEST_PASSWORD")
#define NEW_PASSWORD "correct horse battery staple"
#define LOCK_AFTER 3

static char db[1024], cfg[1024];

#define db_value(...) tl_db_valuef(db, __VA_ARGS__)

/* Agencies A and B on a fresh database (no plugin: passwords are the host's), and the server. */
static void setup(void)
{
    static const char *const args[] = {"--lock-after", "3", "--lock-minutes", "5", NULL};
    snprintf(db, sizeof(db), "%s", tl_db_new());
    snprintf(cfg, sizeof(cfg), "%s", tl_config(""));
    tl_seed_agencies(db, cfg);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    web_server_start(db, cfg, args);
}

/* The server's log never held a password, then it stops cleanly. */
static void teardown(void)
{
    if (web_server.pid > 0) {
        char *log = tl_read_file(web_server.err);
        HASNT(log, NEW_PASSWORD);
        HASNT(log, PASSWORD);
        free(log);
    }
    web_server_stop();
    curl_global_cleanup();
}

/* 1 when user logs in with password (the session is ended again at once). */
static int logs_in(const char *user, const char *password)
{
    struct http h;
    int ok;
    try_login(&h, user, password);
    ok = h.status == 303;
    ck_assert_msg(ok || h.status == 401, "login as %s: %ld\n%.3000s", user, h.status, h.body);
    http_release(&h);
    return ok;
}

/* The 'password' audit records of user's password set by actor. */
static long long password_audits(const char *actor, const char *user)
{
    return db_value("SELECT count(*) FROM casehost.audit_log a"
                    "  JOIN casehost.users by ON by.id = a.actor_id"
                    "  JOIN casehost.users u ON u.id = a.object_id"
                    " WHERE a.action = 'password' AND a.object_type = 'user'"
                    "   AND by.name = '%s' AND u.name = '%s'",
                    actor, user);
}

/*
 * POST /password as token's session: user (NULL: one's own), current (NULL:
 * not sent), the new password and again; csrf the token to send (NULL: none).
 */
static void post_password(struct http *h, const char *token, const char *csrf, const char *user,
                          const char *current, const char *next, const char *again)
{
    const char *pairs[12];
    size_t n = 0;
    if (csrf != NULL) {
        pairs[n++] = "_csrf";
        pairs[n++] = csrf;
    }
    if (user != NULL) {
        pairs[n++] = "user";
        pairs[n++] = user;
    }
    if (current != NULL) {
        pairs[n++] = "current";
        pairs[n++] = current;
    }
    pairs[n++] = "password";
    pairs[n++] = next;
    pairs[n++] = "again";
    pairs[n++] = again;
    pairs[n] = NULL;
    post(h, "/password", token, NULL, pairs);
}

/* A password form with no password in it: every password input is empty. */
static void assert_empty_password_form(const struct http *h, int own)
{
    HAS(h->body, "<form method=\"post\" action=\"/password\">");
    HAS(h->body, "name=\"password\" type=\"password\"");
    HAS(h->body, "name=\"again\" type=\"password\"");
    if (own)
        HAS(h->body, "name=\"current\" type=\"password\"");
    else
        HASNT(h->body, "name=\"current\"");
    HASNT(h->body, "type=\"password\" value=");
    HASNT(h->body, NEW_PASSWORD);
    HASNT(h->body, PASSWORD);
}

START_TEST(my_own_change_makes_the_old_password_stop_working_and_is_audited)
{
    char token[65], other[65], csrf[80];
    struct http h;
    login("a_worker", other); /* on another device, with the old password */
    login("a_worker", token);

    /* the link in every page's header, and the form behind it */
    http_do(&h, "/", token, NULL, NULL);
    HAS(h.body, "<a href=\"/password\">Change my password</a>");
    HAS(h.body, "<a href=\"/run?a=user&amp;a=list\">Users</a>");
    csrf_in(h.body, csrf);
    http_release(&h);
    http_do(&h, "/password", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "<h1>Change my password</h1>");
    assert_empty_password_form(&h, 1);
    HASNT(h.body, "Set a user's password"); /* an admin's only */
    http_release(&h);

    post_password(&h, token, csrf, NULL, PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
    ck_assert_msg(h.status == 200, "change: %ld\n%.3000s", h.status, h.body);
    HAS(h.body, "Your password is changed");
    HASNT(h.body, NEW_PASSWORD);
    HASNT(h.body, PASSWORD);
    http_release(&h);

    ck_assert_int_eq(logs_in("a_worker", PASSWORD), 0);
    ck_assert_int_eq(logs_in("a_worker", NEW_PASSWORD), 1);
    ck_assert_int_eq(password_audits("a_worker", "a_worker"), 1);
    /* the database holds a SCRAM verifier, never the password */
    ck_assert_int_eq(db_value("SELECT count(*) FROM pg_authid a JOIN casehost.users u"
                              "  ON u.db_role = a.rolname WHERE u.name = 'a_worker'"
                              "   AND a.rolpassword LIKE 'SCRAM-SHA-256$%%'"),
                     1);
    /* the session it was changed in goes on; the other one, opened with the old password, ends */
    http_do(&h, "/", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    http_release(&h);
    http_do(&h, "/", other, NULL, NULL);
    ck_assert_int_eq(h.status, 303);
    HAS(header(&h, "Location"), "/login");
    http_release(&h);
}
END_TEST

/* Forms refused before anything is set: what is wrong, and what the page says. */
static const struct {
    const char *what, *current, *next, *again, *says;
} refused_forms[] = {
    {"a wrong current password", "not my password at all", NEW_PASSWORD, NEW_PASSWORD,
     "Your current password is wrong."},
    {"no current password", "", NEW_PASSWORD, NEW_PASSWORD, "Enter your current password."},
    {"two different new ones", NULL, NEW_PASSWORD, NEW_PASSWORD "!", "are not the same"},
    {"no new one", NULL, "", "", "Enter the new password twice."},
    {"11 characters", NULL, "short-pw-11", "short-pw-11", "too short"},
    {"11 characters in 22 bytes", NULL,
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
     "too short"},
};

START_TEST(a_refused_change_says_why_shows_an_empty_form_and_changes_nothing)
{
    char token[65], csrf[80];
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    for (size_t i = 0; i < sizeof(refused_forms) / sizeof(refused_forms[0]); i++) {
        const char *current = refused_forms[i].current ? refused_forms[i].current : PASSWORD;
        post_password(&h, token, csrf, NULL, current, refused_forms[i].next,
                      refused_forms[i].again);
        ck_assert_msg(h.status == 422, "%s: %ld\n%.3000s", refused_forms[i].what, h.status, h.body);
        HAS(h.body, "class=\"error\"");
        HAS(h.body, refused_forms[i].says);
        assert_empty_password_form(&h, 1);
        if (refused_forms[i].next[0] != '\0')
            HASNT(h.body, refused_forms[i].next);
        http_release(&h);
    }
    /* the wrong current password counted as a failed login, and only that one */
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log a"
                              "  JOIN casehost.users u ON u.id = a.object_id"
                              " WHERE a.action = 'login_failed' AND u.name = 'a_worker'"),
                     1);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log WHERE action = 'password'"),
                     0);
    ck_assert_int_eq(logs_in("a_worker", NEW_PASSWORD), 0);
    ck_assert_int_eq(logs_in("a_worker", PASSWORD), 1);
}
END_TEST

START_TEST(guessing_the_current_password_locks_like_guessing_at_the_login)
{
    char token[65], csrf[80];
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    for (int i = 1; i <= LOCK_AFTER; i++) {
        post_password(&h, token, csrf, NULL, "a guess", NEW_PASSWORD, NEW_PASSWORD);
        ck_assert_int_eq(h.status, 422);
        HAS(h.body, i < LOCK_AFTER ? "Your current password is wrong." : "locked");
        http_release(&h);
    }
    /* locked now: the right current password is refused too, and so is a login */
    post_password(&h, token, csrf, NULL, PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
    ck_assert_int_eq(h.status, 422);
    HAS(h.body, "This user is locked");
    http_release(&h);
    ck_assert_int_eq(logs_in("a_worker", PASSWORD), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log WHERE action = 'password'"),
                     0);
}
END_TEST

START_TEST(a_password_form_without_this_sessions_csrf_token_is_refused)
{
    static const char other[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char token[65], csrf[80];
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    post_password(&h, token, NULL, NULL, PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
    ck_assert_int_eq(h.status, 403);
    HAS(h.body, "security token");
    http_release(&h);
    post_password(&h, token, other, NULL, PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
    ck_assert_int_eq(h.status, 403);
    http_release(&h);
    /* the right token sent from another site */
    post(&h, "/password", token, "Sec-Fetch-Site: cross-site",
         (const char *[]){"_csrf", csrf, "current", PASSWORD, "password", NEW_PASSWORD, "again",
                          NEW_PASSWORD, NULL});
    ck_assert_int_eq(h.status, 403);
    http_release(&h);
    ck_assert_int_eq(logs_in("a_worker", PASSWORD), 1);
    ck_assert_int_eq(logs_in("a_worker", NEW_PASSWORD), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log WHERE action = 'password'"),
                     0);
}
END_TEST

START_TEST(a_caseworker_cannot_set_another_users_password)
{
    char token[65], csrf[80];
    struct http h;
    login("a_worker", token);
    csrf_of(token, csrf);
    http_do(&h, "/password?user=a_admin", token, NULL, NULL);
    ck_assert_int_eq(h.status, 403);
    HAS(h.body, "Only an admin");
    http_release(&h);
    /* the form posted anyway: the database refuses */
    post_password(&h, token, csrf, "a_admin", NULL, NEW_PASSWORD, NEW_PASSWORD);
    ck_assert_msg(h.status == 422, "%ld\n%.3000s", h.status, h.body);
    HAS(h.body, "only an admin may set another user");
    http_release(&h);
    ck_assert_int_eq(logs_in("a_admin", PASSWORD), 1);
    ck_assert_int_eq(logs_in("a_admin", NEW_PASSWORD), 0);
    ck_assert_int_eq(db_value("SELECT count(*) FROM casehost.audit_log WHERE action = 'password'"),
                     0);
}
END_TEST

START_TEST(an_admin_sets_the_password_of_a_user_of_their_agency_only)
{
    char token[65], worker[65], csrf[80];
    struct http h;
    login("a_worker", worker);
    login("a_admin", token);
    csrf_of(token, csrf);
    /* the admin's own page opens another user's form */
    http_do(&h, "/password", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "Set a user's password");
    HAS(h.body, "<form method=\"get\" action=\"/password\">");
    http_release(&h);
    http_do(&h, "/password?user=a_worker", token, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "<h1>Set the password of a_worker</h1>");
    HAS(h.body, "name=\"user\" value=\"a_worker\"");
    assert_empty_password_form(&h, 0);
    http_release(&h);

    post_password(&h, token, csrf, "a_worker", NULL, NEW_PASSWORD, NEW_PASSWORD);
    ck_assert_msg(h.status == 200, "%ld\n%.3000s", h.status, h.body);
    HAS(h.body, "The password of a_worker is set");
    HASNT(h.body, NEW_PASSWORD);
    http_release(&h);
    /* the worker's session, opened with the old password, has ended */
    http_do(&h, "/", worker, NULL, NULL);
    ck_assert_int_eq(h.status, 303);
    http_release(&h);
    ck_assert_int_eq(logs_in("a_worker", NEW_PASSWORD), 1);
    ck_assert_int_eq(logs_in("a_worker", PASSWORD), 0);
    ck_assert_int_eq(password_audits("a_admin", "a_worker"), 1);

    /* another agency's user is nobody this admin knows */
    post_password(&h, token, csrf, "b_worker", NULL, NEW_PASSWORD, NEW_PASSWORD);
    ck_assert_msg(h.status == 422, "%ld\n%.3000s", h.status, h.body);
    HAS(h.body, "unknown user");
    http_release(&h);
    ck_assert_int_eq(logs_in("b_worker", PASSWORD), 1);
    ck_assert_int_eq(logs_in("b_worker", NEW_PASSWORD), 0);
    ck_assert_int_eq(password_audits("a_admin", "b_worker"), 0);
}
END_TEST

START_TEST(an_admin_adds_a_user_on_the_web_and_sets_their_first_password)
{
    char token[65], csrf[80], theirs[65];
    struct http h;
    login("a_admin", token);
    csrf_of(token, csrf);
    post(&h, "/run", token, NULL,
         (const char *[]){"_csrf", csrf, "_verb", "user", "_sub", "add", "name", "a_new",
                          "--agency", "A", "--role", "caseworker", "--full-name", "Ana New", NULL});
    ck_assert_msg(h.status == 200, "user add: %ld\n%.3000s", h.status, h.body);
    HASNT(h.body, "class=\"error\"");
    HAS(h.body, "no password yet");
    http_release(&h);
    /* no password yet: no login */
    ck_assert_int_eq(logs_in("a_new", PASSWORD), 0);

    post_password(&h, token, csrf, "a_new", NULL, NEW_PASSWORD, NEW_PASSWORD);
    ck_assert_msg(h.status == 200, "%ld\n%.3000s", h.status, h.body);
    http_release(&h);
    try_login(&h, "a_new", NEW_PASSWORD);
    ck_assert_msg(h.status == 303, "login as a_new: %ld\n%.3000s", h.status, h.body);
    cookie_token(&h, theirs);
    http_release(&h);
    http_do(&h, "/", theirs, NULL, NULL);
    ck_assert_int_eq(h.status, 200);
    HAS(h.body, "Log out a_new");
    http_release(&h);
    ck_assert_int_eq(password_audits("a_admin", "a_new"), 1);
}
END_TEST

static Suite *web_password_suite(void)
{
    Suite *s = suite_create("web_password");
    TCase *tc = tcase_create("web_password");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, my_own_change_makes_the_old_password_stop_working_and_is_audited);
    tcase_add_test(tc, a_refused_change_says_why_shows_an_empty_form_and_changes_nothing);
    tcase_add_test(tc, guessing_the_current_password_locks_like_guessing_at_the_login);
    tcase_add_test(tc, a_password_form_without_this_sessions_csrf_token_is_refused);
    tcase_add_test(tc, a_caseworker_cannot_set_another_users_password);
    tcase_add_test(tc, an_admin_sets_the_password_of_a_user_of_their_agency_only);
    tcase_add_test(tc, an_admin_adds_a_user_on_the_web_and_sets_their_first_password);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(web_password_suite())
