#!/usr/bin/env bash
# pg.sh: a private PostgreSQL cluster in one directory, for the demo and the
# tests. Unix socket only (no TCP). Only the cluster superuser "casehost" is
# trusted (it migrates and bootstraps); every other role, that is every
# casehost person and service, must authenticate with a SCRAM password.
# Never touches a system cluster.
#
#   pg.sh start DIR [--throwaway]   start (initdb first if needed); reuses a running one
#   pg.sh stop DIR                  stop if running
#   pg.sh conninfo DIR [DBNAME]     print the conninfo of database DBNAME (default postgres)
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: pg.sh start|stop|conninfo DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
    for v in 17 16 15; do
        if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then bindir=/usr/lib/postgresql/$v/bin; break; fi
    done
fi
[ -n "$bindir" ] || bindir=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")
[ -x "$bindir/pg_ctl" ] || { echo "pg.sh: PostgreSQL server binaries not found (install postgresql, or set PG_BINDIR)" >&2; exit 1; }

# initdb refuses to run as root: the cluster then belongs to "postgres".
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "pg.sh: user 'postgres' missing (install postgresql)" >&2; exit 1; }
        chown postgres "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "pg.sh: user 'postgres' cannot reach $dir (a parent directory is not searchable); use a checkout under a world-searchable path or set CASEHOST_DB" >&2
            exit 1
        fi
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$dir/data" -A trust -U casehost -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # Written on every start, so an older cluster gets it too.
    as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<'HBA'
# casehost: trust for the cluster superuser only; SCRAM for every other role.
local   all   casehost                 trust
local   all   all                      scram-sha-256
HBA
    if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" reload >/dev/null
        exit 0
    fi
    opts="-k $dir -c listen_addresses= -c unix_socket_permissions=0770 -c password_encryption=scram-sha-256"
    if [ "${3:-}" = "--throwaway" ]; then
        opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_owner "$bindir/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" -o "$opts" start >/dev/null \
        || { tail -20 "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    if [ -f "$dir/data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -w -m fast stop >/dev/null
    fi
    ;;
conninfo)
    echo "host=$dir dbname=${3:-postgres} user=casehost"
    ;;
*)
    echo "pg.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
