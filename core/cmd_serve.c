/*
 * cmd_serve.c: the serve verb, the host's web pages (core/web.c) as a
 * long-running service: options checked here, the rest is the server's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "web.h"

static int cmd_serve(struct cli *cli, const struct ch_value *v);

enum { S_LISTEN, S_CERT, S_KEY, S_THREADS, S_IDLE, S_LIFE, S_LOCK_AFTER, S_LOCK_MIN, S_PROXY };

static const struct ch_arg serve_args[] = {
    [S_LISTEN] = {"--listen", CH_ARG_TEXT, 0,
                  "address and port (default 127.0.0.1:8080; port 0: any free one, logged)", NULL,
                  "ADDRESS:PORT", 0, 0},
    [S_CERT] = {"--tls-cert", CH_ARG_TEXT, 0, "serve HTTPS with this certificate (PEM)", NULL,
                "FILE", 0, 0},
    [S_KEY] = {"--tls-key", CH_ARG_TEXT, 0, "and this private key (PEM)", NULL, "FILE", 0, 0},
    [S_THREADS] = {"--threads", CH_ARG_INT, 0, "worker threads, each with a connection (default 4)",
                   NULL, "N", 1, 64},
    [S_IDLE] = {"--idle-minutes", CH_ARG_INT, 0,
                "a session unused this long ends (default 15: shared office PCs)", NULL, "N", 1,
                24 * 60},
    [S_LIFE] = {"--lifetime-hours", CH_ARG_INT, 0, "a session ends after this long (default 12)",
                NULL, "N", 1, 7 * 24},
    [S_LOCK_AFTER] = {"--lock-after", CH_ARG_INT, 0,
                      "failed logins in a row that lock a user (default 5)", NULL, "N", 1, 100},
    [S_LOCK_MIN] = {"--lock-minutes", CH_ARG_INT, 0,
                    "how long such a lock lasts; never extended (default 15)", NULL, "N", 1, 1440},
    [S_PROXY] = {"--behind-tls-proxy", CH_ARG_BOOL, 0, "a TLS proxy in front: mark cookies Secure",
                 NULL, NULL, 0, 0},
};

static const struct cli_command serve_commands[] = {
    {CLI_SPEC("serve", NULL, "serve the web pages (SIGHUP re-reads the host config)", serve_args),
     cmd_serve},
};

const struct cli_verb cli_verb_serve = {"serve",
                                        "serve the web pages for caseworkers, supervisors and "
                                        "admins",
                                        serve_commands, CLI_N(serve_commands), 0};

static unsigned opt_uint(const struct ch_value *v, unsigned dflt)
{
    return v->given ? (unsigned)v->num : dflt;
}

static int cmd_serve(struct cli *cli, const struct ch_value *v)
{
    struct web_options o;
    const char *listen = v[S_LISTEN].given ? v[S_LISTEN].text : "127.0.0.1:8080";
    const char *colon = strrchr(listen, ':');
    char *end = NULL;
    long port;

    memset(&o, 0, sizeof(o));
    if (colon == NULL || (size_t)(colon - listen) >= sizeof(o.host) || colon == listen)
        return cli_fail(cli, EXIT_USAGE, "--listen: '%s' is not ADDRESS:PORT", listen);
    memcpy(o.host, listen, (size_t)(colon - listen));
    port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
        return cli_fail(cli, EXIT_USAGE,
                        "--listen: '%s' has no port between 0 (any free one) and 65535", listen);
    if (v[S_CERT].given != v[S_KEY].given)
        return cli_fail(cli, EXIT_USAGE, "--tls-cert and --tls-key go together");
    o.config_path = cli->config_path;
    o.port = (unsigned)port;
    o.tls_cert = v[S_CERT].text;
    o.tls_key = v[S_KEY].text;
    o.threads = opt_uint(&v[S_THREADS], 4);
    o.idle_minutes = opt_uint(&v[S_IDLE], 15);
    o.lifetime_hours = opt_uint(&v[S_LIFE], 12);
    o.lock_after = opt_uint(&v[S_LOCK_AFTER], 5);
    o.lock_minutes = opt_uint(&v[S_LOCK_MIN], 15);
    o.secure_cookie = v[S_CERT].given || (v[S_PROXY].given && v[S_PROXY].num);
    if (o.idle_minutes > o.lifetime_hours * 60)
        return cli_fail(cli, EXIT_USAGE, "--idle-minutes is longer than --lifetime-hours");
    return web_serve(&o);
}
