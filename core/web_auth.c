/*
 * web_auth.c: who is at the browser. PostgreSQL checks the password (a
 * connection attempt as the person's role: it holds the only verifier);
 * sessions are random 256-bit tokens whose SHA-256 alone is stored, through
 * the authenticator's functions of sql/core/010_web.sql. Failures slow down
 * and lock as the database counts them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "db.h"
#include "web.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int web_token_new(char token[65])
{
    unsigned char b[32];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    hex(b, sizeof(b), token);
    return 0;
}

void web_token_hash(const char *token, char out[68])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\\';
    out[1] = 'x';
    if (EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        memset(md, 0, n = 32); /* never matches a stored hash of a real token */
    hex(md, 32, out + 2);
}

int web_token_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && n > 0 && CRYPTO_memcmp(a, b, n) == 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/*
 * 1 when PostgreSQL accepted password for role, having asked for it; 0
 * refused; -1 when the server did not ask for a password (trust or peer:
 * anyone could log in as anyone, so no one may).
 */
static int password_ok(const char *conninfo, const char *role, const char *password)
{
    const char *const keys[] = {"dbname", "user", "password", "passfile", "connect_timeout", NULL};
    const char *const vals[] = {conninfo, role, password, "/dev/null", "10", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    int rc = 0;
    if (c != NULL && PQstatus(c) == CONNECTION_OK)
        rc = PQconnectionUsedPassword(c) ? 1 : -1;
    PQfinish(c);
    return rc;
}

/*
 * The failure counted and audited; msg says what the person sees: wrong,
 * then whether the name is now locked.
 */
static int refuse(PGconn *c, const char *name, const char *address, const struct web_options *opt,
                  const char *wrong, char *msg, size_t msglen)
{
    static const char sql[] = "SELECT casehost.web_login_failed_v1($1, $2, $3::integer, "
                              "make_interval(mins => $4::integer))";
    char max[16], mins[16], err[512];
    const char *params[4] = {name, address, max, mins};
    PGresult *r;
    snprintf(max, sizeof(max), "%u", opt->lock_after);
    snprintf(mins, sizeof(mins), "%u", opt->lock_minutes);
    r = db_exec(c, sql, 4, params, err, sizeof(err));
    if (r == NULL) {
        snprintf(msg, msglen, "cannot record a failed login: %s", err);
        return -1;
    }
    if (!PQgetisnull(r, 0, 0))
        snprintf(msg, msglen,
                 "%s Too many failed attempts: this user is locked for %u minutes, or until an "
                 "admin unlocks them.",
                 wrong, opt->lock_minutes);
    else
        snprintf(msg, msglen, "%s", wrong);
    PQclear(r);
    return 1;
}

int web_password_check(PGconn *c, const char *login_conninfo, const char *name,
                       const char *password, const char *address, const struct web_options *opt,
                       const char *wrong, char *msg, size_t msglen)
{
    static const char begin_sql[] = "SELECT db_role, delay_ms, locked_until IS NOT NULL"
                                    "  FROM casehost.web_login_begin_v1($1, $2)";
    const char *params[2] = {name, address};
    char err[512], role[64] = "";
    PGresult *r;
    int locked, ok;

    r = db_exec(c, begin_sql, 2, params, err, sizeof(err));
    if (r == NULL) {
        snprintf(msg, msglen, "cannot check the login throttle: %s", err);
        return -1;
    }
    if (!PQgetisnull(r, 0, 0))
        snprintf(role, sizeof(role), "%s", PQgetvalue(r, 0, 0));
    sleep_ms(strtol(PQgetvalue(r, 0, 1), NULL, 10));
    locked = PQgetvalue(r, 0, 2)[0] == 't';
    PQclear(r);
    if (locked) {
        /* Counted and audited like any failure; the lock's end does not move. */
        if (refuse(c, name, address, opt, wrong, msg, msglen) < 0)
            return -1;
        snprintf(msg, msglen,
                 "This user is locked after too many failed attempts: try again in up to %u "
                 "minutes, or ask an admin to unlock you.",
                 opt->lock_minutes);
        return 1;
    }
    /*
     * A name that is no person still costs a connection attempt (PostgreSQL
     * answers an unknown role with a mock SCRAM exchange), so that the time a
     * refusal takes does not tell which names exist.
     */
    ok = password_ok(login_conninfo, role[0] != '\0' ? role : "casehost_no_such_login", password);
    if (role[0] == '\0')
        ok = 0;
    if (ok < 0) {
        snprintf(msg, msglen,
                 "PostgreSQL let role %s in without asking for a password: web logins are "
                 "refused until pg_hba.conf asks for one (scram-sha-256)",
                 role);
        return -1;
    }
    return ok == 0 ? refuse(c, name, address, opt, wrong, msg, msglen) : 0;
}

int web_login(PGconn *c, const char *login_conninfo, const char *name, const char *password,
              const char *address, const struct web_options *opt, char token[65], char *msg,
              size_t msglen)
{
    static const char ok_sql[] =
        "SELECT casehost.web_login_ok_v1($1, $2, $3::bytea, $4, make_interval(mins => $5::integer),"
        " make_interval(hours => $6::integer))";
    char err[512], hash[68], csrf[65], idle[16], life[16];
    const char *params[6] = {name, address, hash, csrf, idle, life};
    int rc;

    if (name[0] == '\0' || password[0] == '\0' || strlen(name) > 200 ||
        strlen(password) > WEB_PASSWORD_MAX) {
        snprintf(msg, msglen, "Enter your user name and password.");
        return 1;
    }
    rc = web_password_check(c, login_conninfo, name, password, address, opt,
                            "The user name or password is wrong.", msg, msglen);
    if (rc != 0)
        return rc;
    if (web_token_new(token) != 0 || web_token_new(csrf) != 0) {
        snprintf(msg, msglen, "no random numbers for a session token");
        return -1;
    }
    web_token_hash(token, hash);
    snprintf(idle, sizeof(idle), "%u", opt->idle_minutes);
    snprintf(life, sizeof(life), "%u", opt->lifetime_hours);
    if (db_run(c, ok_sql, 6, params, err, sizeof(err)) != 0) {
        snprintf(msg, msglen, "cannot start a session: %s", err);
        return -1;
    }
    return 0;
}

int web_session_find(PGconn *c, const char *token, struct web_session *s)
{
    static const char sql[] =
        "SELECT db_role, user_name, csrf FROM casehost.web_session_v1($1::bytea)";
    char hash[68], err[512];
    const char *params[1] = {hash};
    PGresult *r;
    int found;
    if (token == NULL || strlen(token) != 64 || strspn(token, "0123456789abcdef") != 64)
        return 0;
    web_token_hash(token, hash);
    r = db_exec(c, sql, 1, params, err, sizeof(err));
    if (r == NULL)
        return -1;
    found = PQntuples(r) == 1;
    if (found) {
        snprintf(s->db_role, sizeof(s->db_role), "%s", PQgetvalue(r, 0, 0));
        snprintf(s->user_name, sizeof(s->user_name), "%s", PQgetvalue(r, 0, 1));
        snprintf(s->csrf, sizeof(s->csrf), "%s", PQgetvalue(r, 0, 2));
        snprintf(s->token_hash, sizeof(s->token_hash), "%s", hash);
    }
    PQclear(r);
    return found;
}

int web_logout(PGconn *c, const char *token)
{
    char hash[68], err[512];
    const char *params[1] = {hash};
    web_token_hash(token, hash);
    return db_run(c, "SELECT casehost.web_logout_v1($1::bytea)", 1, params, err, sizeof(err));
}
