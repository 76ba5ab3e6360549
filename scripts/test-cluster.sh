#!/usr/bin/env bash
# test-cluster.sh DIR BUILD: a throwaway PostgreSQL in DIR/pg (fsync off)
# holding casehost_tmpl, every component's migrations applied (test plugin
# included) and the shipped configuration deployed: what every test database
# is cloned from. run-tests.sh makes the shared one; a suite that restarts
# its server (check_chaos) makes its own, so no other suite is touched.
# Stop it with: scripts/pg.sh stop DIR/pg. Never touches another cluster.
set -uo pipefail

dir=${1:?usage: test-cluster.sh DIR BUILD}
build=${2:?usage: test-cluster.sh DIR BUILD}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)

"$root/scripts/pg.sh" start "$dir/pg" --throwaway || { echo "cannot start PostgreSQL" >&2; exit 1; }
server=$("$root/scripts/pg.sh" conninfo "$dir/pg" postgres)
sock="host=$dir/pg user=casehost"
psql "$server" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE casehost_tmpl" || exit 1

# The template holds every component's migrations, test plugin included
# (sql/bridge holds SQL for a help desk's database, not casehost's).
cat > "$dir/migrate.cfg" <<CFG
paths = { plugin_dir = "$build/plugins"; sql_dir = "$root/sql"; };
plugins = (
  { name = "testplug"; sql = "$root/tests/sql/testplug"; }
$(for d in "$root"/sql/*/; do n=$(basename "$d"); case "$n" in core|bridge) continue ;; esac; echo "  , { name = \"$n\"; }"; done)
);
CFG
CASEHOST_DB="$sock dbname=casehost_tmpl" "$build/casehost" -c "$dir/migrate.cfg" db migrate >"$dir/migrate.log" 2>&1 \
    || { cat "$dir/migrate.log" >&2; exit 1; }
# ...and the shipped configuration deployed (as every installation has one live).
cat > "$dir/deploy.cfg" <<CFG
paths = { plugin_dir = "$build/plugins"; sql_dir = "$root/sql"; };
plugins = ( { name = "trafficking"; } );
CFG
CASEHOST_DB="$sock dbname=casehost_tmpl" "$build/casehost" -c "$dir/deploy.cfg" config deploy "$root/conf" \
    --note "test template" >"$dir/deploy.log" 2>&1 || { cat "$dir/deploy.log" >&2; exit 1; }
exit 0
