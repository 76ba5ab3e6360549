#!/usr/bin/env bash
# pg-standby.sh PRIMARY DIR: a hot standby in DIR of the running private
# cluster PRIMARY (a scripts/pg.sh directory), streaming from it over the
# Unix socket: lets the primary's superuser "casehost" replicate, copies it
# with pg_basebackup -R and starts the copy with scripts/pg.sh (fsync off).
# Stop it with: scripts/pg.sh stop DIR. For the tests; never touches
# another cluster.
set -euo pipefail

primary=${1:?usage: pg-standby.sh PRIMARY DIR}
dir=${2:?usage: pg-standby.sh PRIMARY DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
primary=$(cd "$primary" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ ! -e "$dir/data" ] || { echo "pg-standby.sh: $dir/data exists already" >&2; exit 1; }

# The cluster belongs to "postgres" when we are root (scripts/pg.sh).
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" != 0 ] || chown postgres "$dir"

# Replication over the local socket for the cluster superuser only; pg.sh
# rewrites pg_hba.conf when it starts the primary, so this lasts until then.
if ! as_owner grep -q '^local *replication *casehost' "$primary/data/pg_hba.conf"; then
    echo 'local   replication   casehost       trust' | as_owner tee -a "$primary/data/pg_hba.conf" >/dev/null
    psql "host=$primary dbname=postgres user=casehost" -qXAt -c 'SELECT pg_reload_conf()' >/dev/null
fi

# -R writes standby.signal and primary_conninfo (the socket directory, user casehost).
as_owner pg_basebackup -h "$primary" -U casehost -D "$dir/data" -R -X stream --checkpoint=fast \
    --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
"$root/scripts/pg.sh" start "$dir" --throwaway
