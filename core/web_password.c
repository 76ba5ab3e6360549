/*
 * web_password.c: passwords set from a browser: a person's own (after
 * PostgreSQL accepted the current one, as at login) or, by an admin, a
 * user's of their agency. The clear password never reaches SQL, a log or a
 * page: the server makes the SCRAM verifier and the database function that
 * stores it decides, as the person, whether they may.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db.h"
#include "html.h"
#include "web.h"

/* Characters, not bytes: a UTF-8 continuation byte starts none. */
static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

/* 1 with what is wrong with the form in msg, before any database work; 0 when nothing is. */
static int form_refusal(const struct web_password_form *form, int own, char *msg, size_t msglen)
{
    if (own && (form->current == NULL || form->current[0] == '\0'))
        snprintf(msg, msglen, "Enter your current password.");
    else if (form->next == NULL || form->next[0] == '\0' || form->again == NULL ||
             form->again[0] == '\0')
        snprintf(msg, msglen, "Enter the new password twice.");
    else if (strcmp(form->next, form->again) != 0)
        snprintf(msg, msglen, "The two new passwords are not the same. Type them again.");
    else if (utf8_length(form->next) < WEB_PASSWORD_MIN)
        snprintf(msg, msglen,
                 "The new password is too short: use at least %d characters (a few unrelated "
                 "words make a good one).",
                 WEB_PASSWORD_MIN);
    else if (strlen(form->next) > WEB_PASSWORD_MAX)
        snprintf(msg, msglen, "The new password is too long: use at most %d bytes.",
                 WEB_PASSWORD_MAX);
    else if (own && strlen(form->current) > WEB_PASSWORD_MAX)
        snprintf(msg, msglen, "Your current password is wrong."); /* as a login would say */
    else
        return 0;
    return 1;
}

/* Ends c's transaction, if one is open (ROLLBACK outside one would warn in the log). */
static void rollback(PGconn *c)
{
    if (PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK"));
}

/*
 * Stores verifier as name's password in a transaction acting as the
 * session's person; every other web session of name ends with it (sql/core/
 * 012), this one goes on. 0, 1 refused by the database (msg: its words), -1
 * failure (msg).
 */
static int store(PGconn *c, const struct web_session *s, const char *name, const char *verifier,
                 char *msg, size_t msglen)
{
    static const char sql[] = "SELECT casehost.user_passwd_v1($1, $2)"
                              "  FROM pg_catalog.set_config('casehost.web_session', $3, true)";
    const char *params[3] = {name, verifier, s->token_hash};
    struct db_user u;
    char err[1024];
    PGresult *r;
    if (db_start_as(c, s->db_role, &u, err, sizeof(err)) != 0) {
        rollback(c);
        snprintf(msg, msglen, "cannot start a transaction as %s: %s", s->db_role, err);
        return -1;
    }
    r = db_exec(c, sql, 3, params, err, sizeof(err));
    if (r == NULL) {
        rollback(c);
        snprintf(msg, msglen, "The password was not set: %s", err);
        return 1;
    }
    PQclear(r);
    if (db_run(c, "COMMIT", 0, NULL, err, sizeof(err)) != 0) {
        snprintf(msg, msglen, "cannot commit a new password: %s", err);
        return -1;
    }
    return 0;
}

int web_password_set(PGconn *c, const char *login_conninfo, const struct web_session *s,
                     const struct web_password_form *form, const char *address,
                     const struct web_options *opt, char *msg, size_t msglen)
{
    int own = form->user == NULL || form->user[0] == '\0' || strcmp(form->user, s->user_name) == 0;
    const char *name = own ? s->user_name : form->user;
    char *verifier;
    int rc;

    if (form_refusal(form, own, msg, msglen))
        return 1;
    if (own) {
        rc = web_password_check(c, login_conninfo, s->user_name, form->current, address, opt,
                                "Your current password is wrong.", msg, msglen);
        if (rc != 0)
            return rc;
    }
    /* The algorithm named, so libpq asks the server nothing: the password stays here. */
    verifier = PQencryptPasswordConn(c, form->next, name, "scram-sha-256");
    if (verifier == NULL) {
        snprintf(msg, msglen, "cannot make a SCRAM verifier: %s", PQerrorMessage(c));
        return -1;
    }
    rc = store(c, s, name, verifier, msg, msglen);
    OPENSSL_cleanse(verifier, strlen(verifier));
    PQfreemem(verifier);
    if (rc == 0 && own)
        snprintf(msg, msglen, "Your password is changed: log in with the new one from now on.");
    else if (rc == 0)
        snprintf(msg, msglen, "The password of %s is set: they log in with it from now on.", name);
    return rc;
}

int web_session_is_admin(PGconn *c, const struct web_session *s)
{
    struct db_user u;
    char err[512];
    int rc =
        db_start_as(c, s->db_role, &u, err, sizeof(err)) == 0 ? strcmp(u.role, "admin") == 0 : -1;
    rollback(c);
    return rc;
}

/* One labelled password input; never with a value. */
static void password_input(FILE *f, const char *id, const char *label, const char *autocomplete)
{
    fprintf(f,
            "<label for=\"%s\">%s</label><input id=\"%s\" name=\"%s\" type=\"password\" "
            "autocomplete=\"%s\" required",
            id, label, id, id, autocomplete);
    if (strcmp(autocomplete, "new-password") == 0)
        fprintf(f, " minlength=\"%d\"", WEB_PASSWORD_MIN);
    fputs(">\n", f);
}

void web_password_form_render(FILE *f, const char *user, int opener, const char *csrf)
{
    fputs("<form method=\"post\" action=\"/password\">\n<input type=\"hidden\" name=\"_csrf\" "
          "value=\"",
          f);
    html_attr(f, csrf);
    fputs("\">\n", f);
    if (user != NULL) {
        fputs("<input type=\"hidden\" name=\"user\" value=\"", f);
        html_attr(f, user);
        fputs("\">\n<p>The new password of user <strong>", f);
        html_text(f, user);
        fputs("</strong>: they log in with it from now on.</p>\n", f);
    } else {
        password_input(f, "current", "Current password", "current-password");
    }
    password_input(f, "password", "New password", "new-password");
    fprintf(f,
            "<p class=\"help\">At least %d characters; a few unrelated words make a good "
            "one.</p>\n",
            WEB_PASSWORD_MIN);
    password_input(f, "again", "New password again", "new-password");
    fputs(user != NULL ? "<button type=\"submit\">Set the password</button>\n</form>\n"
                       : "<button type=\"submit\">Change my password</button>\n</form>\n",
          f);
    if (opener)
        fputs("<section><h2>Set a user's password</h2>\n"
              "<p>For a user of your agency who forgot theirs, or a new one.</p>\n"
              "<form method=\"get\" action=\"/password\">\n"
              "<label for=\"user\">User name</label><input id=\"user\" name=\"user\" required>\n"
              "<button type=\"submit\">Open</button>\n</form></section>\n",
              f);
}
