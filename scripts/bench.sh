#!/usr/bin/env bash
# bench.sh BUILD: performance figures on a private PostgreSQL started for
# the run (durable settings, socket only). Every figure is a ratio against a
# baseline measured in the same run on the same server, or an instruction
# count under callgrind; none is a pass/fail threshold.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
root=$(pwd)
tmp=$(mktemp -d /tmp/casehost-bench.XXXXXX)
chmod 755 "$tmp"
trap '"$root/scripts/pg.sh" stop "$tmp/pg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT INT TERM
N=${BENCH_N:-2000}

"$root/scripts/pg.sh" start "$tmp/pg"
admin=$("$root/scripts/pg.sh" conninfo "$tmp/pg" postgres)
psql "$admin" -qX -c "CREATE DATABASE bench" >/dev/null
export CASEHOST_DB=$("$root/scripts/pg.sh" conninfo "$tmp/pg" bench)

cat > "$tmp/core.cfg" <<CFG
database = { role = "casehost_app"; };
paths = { plugin_dir = "$build/plugins"; sql_dir = "$root/sql"; };
plugins = ();
CFG
cat > "$tmp/testplug.cfg" <<CFG
database = { role = "casehost_app"; };
paths = { plugin_dir = "$build/tests/plugins"; sql_dir = "$root/sql"; };
plugins = ( { name = "testplug"; sql = "$root/tests/sql/testplug"; } );
CFG
ch() { "$build/casehost" -c "$tmp/testplug.cfg" "$@" >/dev/null; }
ch db migrate
ch agency add Bench --state CA
ch user add bench --agency Bench --role admin
psql "$CASEHOST_DB" -qX -c "CREATE SCHEMA bench; CREATE TABLE bench.baseline (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, agency_id bigint, title text, created_at timestamptz DEFAULT now())"

echo "== host core (PostgreSQL $(psql "$admin" -qtAX -c 'SHOW server_version'), $(nproc) cores, durable commits)"
"$build/bench/host_bench" load "$tmp/testplug.cfg" 2000
"$build/bench/host_bench" cases "$tmp/core.cfg" "$N" bench
"$build/bench/host_bench" cases "$tmp/testplug.cfg" "$N" bench

t0=$(date +%s%N)
for i in $(seq 1 100); do
    "$build/casehost" -c "$tmp/core.cfg" --as bench case new --title "cli bench" >/dev/null
done
t1=$(date +%s%N)
echo "casehost case new, whole process (exec, config, connect, commit): $(( (t1 - t0) / 100000 )) us per command"

for b in "$build"/bench/*; do
    case "$(basename "$b")" in host_bench) continue ;; esac
    [ -x "$b" ] && [ -f "$root/scripts/bench-$(basename "$b").sh" ] && \
        bash "$root/scripts/bench-$(basename "$b").sh" "$build" "$b"
done
exit 0
