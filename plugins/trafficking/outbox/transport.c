/*
 * transport.c: delivery of one payload by webhook (libcurl, opened on the
 * first webhook send; https except to loopback, HMAC over timestamp.key.body,
 * optional client certificate),
 * command (/bin/sh -c, JSON on stdin, bounded in time) or spool (a temp file
 * made O_EXCL|O_NOFOLLOW in a directory only this user may write, fsync,
 * rename). It must never report success for a delivery the target did not
 * confirm, and never leave a half-written spool file under its final name.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "outbox/transport.h"
#include "routing/webhook_url.h"

#define KEY_MAX 200
#define REPLY_KEEP 240 /* bytes of a reply or command output quoted in an error */

extern char **environ;

/*
 * libcurl is opened with dlopen on the first webhook send, not linked into
 * the plugin: its dependencies (TLS, LDAP, SSH, HTTP/2, IDN libraries) cost
 * about 2.6 ms to map and relocate at every plugin load, and every command
 * loads the plugin while only a dispatcher sending webhooks needs them. The
 * library is named by its soname, so the version the headers describe
 * (libcurl 4.x ABI) is the one opened.
 */
#define CURL_SONAME "libcurl.so.4"

struct curl_fns {
    CURLcode (*global_init)(long flags);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_reset)(CURL *curl);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    void (*easy_cleanup)(CURL *curl);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *line);
    void (*slist_free_all)(struct curl_slist *list);
};

static const struct {
    const char *name;
    size_t off;
} curl_syms[] = {
    {"curl_global_init", offsetof(struct curl_fns, global_init)},
    {"curl_global_cleanup", offsetof(struct curl_fns, global_cleanup)},
    {"curl_easy_init", offsetof(struct curl_fns, easy_init)},
    {"curl_easy_reset", offsetof(struct curl_fns, easy_reset)},
    {"curl_easy_setopt", offsetof(struct curl_fns, easy_setopt)},
    {"curl_easy_perform", offsetof(struct curl_fns, easy_perform)},
    {"curl_easy_getinfo", offsetof(struct curl_fns, easy_getinfo)},
    {"curl_easy_strerror", offsetof(struct curl_fns, easy_strerror)},
    {"curl_easy_cleanup", offsetof(struct curl_fns, easy_cleanup)},
    {"curl_slist_append", offsetof(struct curl_fns, slist_append)},
    {"curl_slist_free_all", offsetof(struct curl_fns, slist_free_all)},
};

struct transport {
    void *curl_lib; /* dlopen handle, on the first webhook send */
    struct curl_fns fn;
    CURL *curl; /* created on the first webhook send, reused to keep connections */
    int curl_global;
};

struct reply {
    char text[REPLY_KEEP + 1];
    size_t len;
};

struct transport *transport_new(char *err, size_t errlen)
{
    struct transport *tp = calloc(1, sizeof(*tp));
    if (tp == NULL)
        snprintf(err, errlen, "out of memory");
    return tp;
}

void transport_free(struct transport *tp)
{
    if (tp == NULL)
        return;
    if (tp->curl != NULL)
        tp->fn.easy_cleanup(tp->curl);
    if (tp->curl_global)
        tp->fn.global_cleanup();
    if (tp->curl_lib != NULL)
        dlclose(tp->curl_lib);
    free(tp);
}

/* Opens libcurl and initialises it once per transport. 0, or -1 with err. */
static int curl_open(struct transport *tp, char *err, size_t errlen)
{
    if (tp->curl_global)
        return 0;
    if (tp->curl_lib == NULL) {
        void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL) {
            snprintf(err, errlen, "webhook delivery needs %s (Debian: libcurl4): %s", CURL_SONAME,
                     dlerror());
            return -1;
        }
        for (size_t i = 0; i < sizeof(curl_syms) / sizeof(curl_syms[0]); i++) {
            void *sym = dlsym(lib, curl_syms[i].name);
            if (sym == NULL) {
                snprintf(err, errlen, "%s has no %s: not the libcurl this plugin was built for",
                         CURL_SONAME, curl_syms[i].name);
                dlclose(lib);
                return -1;
            }
            /* POSIX: a function's address from dlsym fits a function pointer */
            memcpy((char *)&tp->fn + curl_syms[i].off, &sym, sizeof(sym));
        }
        tp->curl_lib = lib;
    }
    if (tp->fn.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return -1;
    }
    tp->curl_global = 1;
    return 0;
}

int transport_key_ok(const char *key)
{
    size_t n = key != NULL ? strlen(key) : 0;
    if (n == 0 || n > KEY_MAX || key[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

int transport_sign(const char *secret, const char *body, size_t len, char hex[TRANSPORT_SIG_HEX])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, md,
             &mdlen) == NULL ||
        mdlen != 32) {
        hex[0] = '\0';
        return -1;
    }
    for (unsigned int i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * mdlen] = '\0';
    return 0;
}

int transport_signature(const char *secret, long long timestamp, const char *key, const char *body,
                        size_t len, char hex[TRANSPORT_SIG_HEX])
{
    char prefix[KEY_MAX + 32];
    int n = snprintf(prefix, sizeof(prefix), "%lld.%s.", timestamp, key);
    char *msg;
    int rc;
    if (n < 0 || (size_t)n >= sizeof(prefix) || (msg = malloc((size_t)n + len + 1)) == NULL) {
        hex[0] = '\0';
        return -1;
    }
    memcpy(msg, prefix, (size_t)n);
    memcpy(msg + n, body, len);
    rc = transport_sign(secret, msg, (size_t)n + len, hex);
    free(msg);
    return rc;
}

/* Control characters would garble last_error and the logs; they become '?'. */
static void quote_reply(const char *text, size_t len, char *out, size_t outlen)
{
    size_t j = 0;
    for (size_t i = 0; i < len && j + 1 < outlen; i++)
        out[j++] = (text[i] >= 32 && text[i] < 127) ? text[i] : (text[i] == '\n' ? ' ' : '?');
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

/* ----------------------------------------------------------- webhook --- */

static size_t keep_reply(char *data, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t total = size * n;
    size_t room = REPLY_KEEP - r->len;
    size_t take = total < room ? total : room;
    memcpy(r->text + r->len, data, take);
    r->len += take;
    return total;
}

static int send_webhook(struct transport *tp, const struct dispatch_target *tg, const char *key,
                        const char *body, size_t len, long timeout_ms, char *err, size_t errlen)
{
    char sig[TRANSPORT_SIG_HEX], hdr_key[KEY_MAX + 32], hdr_sig[TRANSPORT_SIG_HEX + 40];
    char hdr_ts[64];
    const char *why;
    long long now = (long long)time(NULL);
    char quoted[REPLY_KEEP + 1], curl_err[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL, *h;
    struct reply reply = {{0}, 0};
    long status = 0;
    CURLcode cc;
    int rc = -1;

    if (tg->url == NULL || tg->secret == NULL || tg->secret[0] == '\0') {
        snprintf(err, errlen, "webhook target needs a url and a secret");
        return -1;
    }
    if (strncmp(tg->url, "http://", 7) != 0 && strncmp(tg->url, "https://", 8) != 0) {
        snprintf(err, errlen, "webhook url must start with http:// or https://");
        return -1;
    }
    /* The loader refuses these too; a dispatch_targets override or a caller may not have. */
    if ((why = routing_webhook_url_problem(tg->url)) != NULL) {
        snprintf(err, errlen, "webhook url %s", why);
        return -1;
    }
    if ((tg->client_cert == NULL) != (tg->client_key == NULL)) {
        snprintf(err, errlen, "webhook mutual TLS needs both a client_cert and a client_key");
        return -1;
    }
    if (transport_signature(tg->secret, now, key, body, len, sig) != 0) {
        snprintf(err, errlen, "cannot compute the HMAC-SHA256 signature");
        return -1;
    }
    if (curl_open(tp, err, errlen) != 0)
        return -1;
    if (tp->curl == NULL && (tp->curl = tp->fn.easy_init()) == NULL) {
        snprintf(err, errlen, "cannot create a libcurl handle");
        return -1;
    }
    snprintf(hdr_key, sizeof(hdr_key), "Idempotency-Key: %s", key);
    snprintf(hdr_ts, sizeof(hdr_ts), "X-Casehost-Timestamp: %lld", now);
    snprintf(hdr_sig, sizeof(hdr_sig), "X-Casehost-Signature: v1=%s", sig);
    /* "Expect:" stops curl from waiting for a 100-continue on larger bodies. */
    const char *lines[] = {"Content-Type: application/json", hdr_key, hdr_ts, hdr_sig, "Expect:"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if ((h = tp->fn.slist_append(headers, lines[i])) == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        headers = h;
    }
    tp->fn.easy_reset(tp->curl); /* keeps the connection cache, drops the previous options */
    tp->fn.easy_setopt(tp->curl, CURLOPT_URL, tg->url);
    /* Plain http only where the url check allowed it: to this machine. */
    tp->fn.easy_setopt(tp->curl, CURLOPT_PROTOCOLS_STR,
                       routing_url_is_loopback(tg->url) ? "http,https" : "https");
    if (tg->client_cert != NULL) {
        tp->fn.easy_setopt(tp->curl, CURLOPT_SSLCERT, tg->client_cert);
        tp->fn.easy_setopt(tp->curl, CURLOPT_SSLCERTTYPE, "PEM");
        tp->fn.easy_setopt(tp->curl, CURLOPT_SSLKEY, tg->client_key);
        tp->fn.easy_setopt(tp->curl, CURLOPT_SSLKEYTYPE, "PEM");
    }
    tp->fn.easy_setopt(tp->curl, CURLOPT_NOSIGNAL, 1L);
    tp->fn.easy_setopt(tp->curl, CURLOPT_POST, 1L);
    tp->fn.easy_setopt(tp->curl, CURLOPT_POSTFIELDS, body);
    tp->fn.easy_setopt(tp->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    tp->fn.easy_setopt(tp->curl, CURLOPT_HTTPHEADER, headers);
    tp->fn.easy_setopt(tp->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    tp->fn.easy_setopt(tp->curl, CURLOPT_CONNECTTIMEOUT_MS,
                       timeout_ms < 10000 ? timeout_ms : 10000L);
    tp->fn.easy_setopt(tp->curl, CURLOPT_WRITEFUNCTION, keep_reply);
    tp->fn.easy_setopt(tp->curl, CURLOPT_WRITEDATA, &reply);
    tp->fn.easy_setopt(tp->curl, CURLOPT_ERRORBUFFER, curl_err);
    tp->fn.easy_setopt(tp->curl, CURLOPT_USERAGENT, "casehost-dispatch");
    cc = tp->fn.easy_perform(tp->curl);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "webhook: %s", curl_err[0] ? curl_err : tp->fn.easy_strerror(cc));
        goto out;
    }
    tp->fn.easy_getinfo(tp->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        quote_reply(reply.text, reply.len, quoted, sizeof(quoted));
        snprintf(err, errlen, "webhook: HTTP %ld%s%s", status, quoted[0] ? ": " : "", quoted);
        goto out;
    }
    rc = 0;
out:
    /* The handle must not keep pointers into this frame. */
    tp->fn.easy_setopt(tp->curl, CURLOPT_HTTPHEADER, NULL);
    tp->fn.easy_setopt(tp->curl, CURLOPT_ERRORBUFFER, NULL);
    tp->fn.easy_setopt(tp->curl, CURLOPT_WRITEDATA, NULL);
    tp->fn.slist_free_all(headers);
    return rc;
}

/* ----------------------------------------------------------- command --- */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The environment of the command: ours with CASEHOST_IDEMPOTENCY_KEY set.
 * Built before fork because the child may only call async-signal-safe
 * functions. Caller frees the array (not the strings but var, which it owns).
 */
static char **command_env(const char *key, char **var)
{
    static const char name[] = "CASEHOST_IDEMPOTENCY_KEY=";
    size_t n = 0, j = 0, vlen = sizeof(name) + strlen(key);
    char **envp;
    while (environ[n] != NULL)
        n++;
    envp = calloc(n + 2, sizeof(*envp));
    *var = malloc(vlen);
    if (envp == NULL || *var == NULL) {
        free(envp);
        free(*var);
        *var = NULL;
        return NULL;
    }
    snprintf(*var, vlen, "%s%s", name, key);
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], name, sizeof(name) - 1) != 0)
            envp[j++] = environ[i];
    envp[j++] = *var;
    envp[j] = NULL;
    return envp;
}

/* In the child between fork and exec: async-signal-safe calls only. */
static void command_child(const char *command, char **envp, int in_fd, int out_fd, int max_fd)
{
    static const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    sigset_t none;
    char *const argv[] = {(char *)"sh", (char *)"-c", (char *)command, NULL};
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Its own process group, so a timeout can stop whatever it started. */
    setpgid(0, 0);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(126);
    /* The database and HTTP sockets are none of the command's business. */
    for (int fd = 3; fd < max_fd; fd++)
        close(fd);
    execve("/bin/sh", argv, envp);
    _exit(127);
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Appends what out_fd has now (non-blocking) to out; 0 at end of file, 1 when more may come. */
static int read_output(int out_fd, struct reply *out)
{
    char buf[4096];
    for (;;) {
        ssize_t k = read(out_fd, buf, sizeof(buf));
        if (k > 0) {
            size_t room = REPLY_KEEP - out->len;
            size_t take = (size_t)k < room ? (size_t)k : room;
            memcpy(out->text + out->len, buf, take);
            out->len += take;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        return k < 0 && errno == EAGAIN ? 1 : 0;
    }
}

/*
 * Feeds body to the child's stdin (closed when written) and collects the
 * start of its output until it exits or the deadline passes. Returns the wait
 * status, or -1 on timeout after killing its process group. Closes in_fd.
 */
static int command_wait(pid_t pid, int in_fd, int out_fd, const char *body, size_t len,
                        long deadline, struct reply *out)
{
    size_t off = 0;
    int st = -1, out_open = 1;
    for (;;) {
        struct pollfd p[2];
        nfds_t np = 0;
        long left = deadline - now_ms();
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            /* Output a grandchild still holds open is not waited for. */
            if (out_open)
                read_output(out_fd, out);
            break;
        }
        if (left <= 0) {
            kill(-pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            st = -1;
            break;
        }
        if (in_fd >= 0 && off == len) {
            close(in_fd);
            in_fd = -1;
        }
        if (in_fd >= 0)
            p[np++] = (struct pollfd){in_fd, POLLOUT, 0};
        if (out_open)
            p[np++] = (struct pollfd){out_fd, POLLIN, 0};
        if (poll(p, np, left < 20 ? (int)left : 20) < 0 && errno != EINTR)
            continue;
        for (nfds_t i = 0; i < np; i++) {
            if (p[i].revents == 0)
                continue;
            if (p[i].fd == in_fd) {
                ssize_t k = write(in_fd, body + off, len - off);
                if (k > 0)
                    off += (size_t)k;
                else if (k < 0 && errno != EAGAIN && errno != EINTR)
                    off = len; /* EPIPE: the command does not read stdin; its exit decides */
            } else if (read_output(out_fd, out) == 0) {
                out_open = 0;
            }
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    return st;
}

static int send_command(const struct dispatch_target *tg, const char *key, const char *body,
                        size_t len, long timeout_ms, char *err, size_t errlen)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, st, rc = -1, max_fd = 1024;
    char **envp = NULL, *var = NULL, quoted[REPLY_KEEP + 1];
    struct reply output = {{0}, 0};
    struct sigaction ign, old_pipe;
    struct rlimit rl;
    pid_t pid;

    if (tg->command == NULL || tg->command[0] == '\0') {
        snprintf(err, errlen, "command target has no command");
        return -1;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        max_fd = rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
    if ((envp = command_env(key, &var)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (pipe(in) != 0 || pipe(out) != 0) {
        snprintf(err, errlen, "command: cannot create a pipe: %s", strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "command: cannot fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        command_child(tg->command, envp, in[0], out[1], max_fd);
    setpgid(pid, pid); /* also here: no race with the kill on timeout */
    close(in[0]);
    close(out[1]);
    in[0] = out[1] = -1;
    set_nonblock(in[1]);
    set_nonblock(out[0]);
    /* A command that exits without reading stdin must not end this process. */
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);
    st = command_wait(pid, in[1], out[0], body, len, now_ms() + timeout_ms, &output);
    sigaction(SIGPIPE, &old_pipe, NULL);
    in[1] = -1; /* closed by command_wait */
    quote_reply(output.text, output.len, quoted, sizeof(quoted));
    if (st == -1)
        snprintf(err, errlen, "command: no exit within %ld ms (stopped)", timeout_ms);
    else if (WIFSIGNALED(st))
        snprintf(err, errlen, "command: killed by signal %d%s%s", WTERMSIG(st),
                 quoted[0] ? ": " : "", quoted);
    else if (WEXITSTATUS(st) != 0)
        snprintf(err, errlen, "command: exit %d%s%s", WEXITSTATUS(st), quoted[0] ? ": " : "",
                 quoted);
    else
        rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (out[i] >= 0)
            close(out[i]);
    }
    free(envp);
    free(var);
    return rc;
}

/* ------------------------------------------------------------- spool --- */

/* mkdir -p with mode 0700: referral files are for the spool's reader only. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(path)) {
        snprintf(err, errlen, "spool: bad directory name");
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "spool: cannot create directory '%.400s': %s", path,
                     strerror(errno));
            return -1;
        }
        path[i] = c;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

/*
 * The spool directory, opened: an existing one must belong to this user and
 * be writable by nobody else, since whoever can write it can plant a link
 * where a referral is about to be written or swap a delivered one. Returns
 * an fd (caller closes) or -1 with err.
 */
static int open_spool_dir(const char *dir, char *err, size_t errlen)
{
    struct stat sb;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fstat(dfd, &sb) != 0) {
        snprintf(err, errlen, "spool: cannot open directory '%.400s': %s", dir, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    if (sb.st_uid != geteuid()) {
        snprintf(err, errlen,
                 "spool: directory '%.300s' belongs to uid %ld, not to this user (uid %ld): "
                 "chown it to the service user, mode 0700",
                 dir, (long)sb.st_uid, (long)geteuid());
        close(dfd);
        return -1;
    }
    if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        snprintf(err, errlen,
                 "spool: directory '%.250s' has mode %04o: group or others may write it "
                 "(chmod 700 '%.250s')",
                 dir, (unsigned)(sb.st_mode & 07777), dir);
        close(dfd);
        return -1;
    }
    return dfd;
}

static int send_spool(const struct dispatch_target *tg, const char *key, const char *body,
                      size_t len, char *err, size_t errlen)
{
    char final[KEY_MAX + 16], tmp[KEY_MAX + 48];
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    struct stat sb;
    int fd = -1, rc = -1, dfd = -1, made = 0;

    if (tg->spool_dir == NULL || tg->spool_dir[0] == '\0') {
        snprintf(err, errlen, "spool target has no spool_dir");
        return -1;
    }
    if (make_dirs(tg->spool_dir, err, errlen) != 0)
        return -1;
    if ((dfd = open_spool_dir(tg->spool_dir, err, errlen)) < 0)
        return -1;
    /* Names relative to the directory opened and checked, never re-resolved. */
    snprintf(final, sizeof(final), "%s.json", key);
    /* The key names the file: one already there is this referral, delivered before. */
    if (fstatat(dfd, final, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        close(dfd);
        return 0;
    }
    snprintf(tmp, sizeof(tmp), ".%s.json.%ld.tmp", key, (long)getpid());
    fd = openat(dfd, tmp, flags, 0600);
    if (fd < 0 && errno == EEXIST) {
        /* Left by a crashed run of this pid, or planted: removed, never followed. */
        unlinkat(dfd, tmp, 0);
        fd = openat(dfd, tmp, flags, 0600);
    }
    if (fd < 0) {
        snprintf(err, errlen, "spool: cannot create '%.150s/%.210s': %s", tg->spool_dir, tmp,
                 strerror(errno));
        goto out;
    }
    made = 1;
    if (write_all(fd, body, len) != 0 || write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "spool: cannot write '%.150s/%.210s': %s", tg->spool_dir, tmp,
                 strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "spool: cannot write '%.150s/%.210s': %s", tg->spool_dir, tmp,
                 strerror(errno));
        goto out;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, final) != 0) {
        snprintf(err, errlen, "spool: cannot rename to '%.150s/%.210s': %s", tg->spool_dir, final,
                 strerror(errno));
        goto out;
    }
    /* The rename is durable only once the directory is synced. */
    fsync(dfd);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && made)
        unlinkat(dfd, tmp, 0);
    close(dfd);
    return rc;
}

int transport_send(struct transport *tp, const struct dispatch_target *target, const char *key,
                   const char *body, size_t len, long timeout_ms, char *err, size_t errlen)
{
    char msg[600];
    int rc;
    if (!transport_key_ok(key)) {
        snprintf(err, errlen, "idempotency key is not usable (1-200 of A-Z a-z 0-9 _ . : -)");
        return -1;
    }
    msg[0] = '\0';
    switch (target->channel) {
    case DISPATCH_WEBHOOK:
        rc = send_webhook(tp, target, key, body, len, timeout_ms, msg, sizeof(msg));
        break;
    case DISPATCH_COMMAND:
        rc = send_command(target, key, body, len, timeout_ms, msg, sizeof(msg));
        break;
    case DISPATCH_SPOOL:
        rc = send_spool(target, key, body, len, msg, sizeof(msg));
        break;
    default:
        snprintf(msg, sizeof(msg), "unknown channel %d", (int)target->channel);
        rc = -1;
    }
    if (rc != 0)
        snprintf(err, errlen, "%s", msg);
    return rc;
}
