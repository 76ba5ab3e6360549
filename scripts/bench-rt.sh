#!/usr/bin/env bash
# bench-rt.sh BUILD TMP: the Request Tracker bridge's figures (issue 12), run
# by scripts/bench.sh on its private cluster (socket in TMP/pg) once the bench
# database is migrated and agency 'Bench' with admin 'bench' (password in
# TMP/pw, found through PGPASSFILE) exists; CASEHOST_DB is that database as
# the cluster's superuser.
#
# A throwaway RT 5 (scripts/rt.sh: its own database in the same cluster,
# rt-server on loopback) with a watched queue; RT's read-only role and the
# optional NOTIFY trigger (sql/bridge/rt_notify.sql) as INSTALL has RT's admin
# make them; in casehost the bridge's service user and the intake caseworker
# it acts as; then `casehost bridge rt` runs as a service (listen = true) while
# bench/rt_bench makes tickets through REST2:
#   - lag: tickets one at a time, each from its commit (and from REST2's
#     answer) until its case exists in casehost (polled every millisecond);
#   - throughput: tickets per second through REST2 with 1 and 4 clients, next
#     to `casehost case new` (the whole CLI process, as the bench admin, with
#     the same host configuration as the bridge) with 1 and 4 clients, and the
#     ratio; and how long the bridge takes to have every one of them a case.
# Everything it makes lives in TMP/rt-bench and the cluster; RT and the bridge
# are stopped on exit. The bridge runs without its writeback group (it only
# reads RT), so the lag is RT -> casehost alone. BENCH_RT_N: tickets for the
# lag (default 100); BENCH_RT_LOAD: tickets (and case new commands) for each
# throughput run (default 100; a fifth of it with basic auth).
set -euo pipefail

build=$(cd "${1:?usage: bench-rt.sh BUILD TMP}" && pwd)
tmp=$(cd "${2:?usage: bench-rt.sh BUILD TMP}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
N=${BENCH_RT_N:-100}
LOAD=${BENCH_RT_LOAD:-100}

if [ ! -x /usr/sbin/rt-setup-database-5 ]; then
    echo "RT bridge: skipped (Request Tracker 5 is not installed; make test-deps installs it)"
    exit 0
fi
: "${CASEHOST_DB:?CASEHOST_DB must name the bench database as the cluster superuser}"

dir="$tmp/rt-bench"
rtdir="$dir/rt"
mkdir -p "$dir"
bridge_pid=
cleanup() {
    if [ -n "$bridge_pid" ] && kill -0 "$bridge_pid" 2>/dev/null; then
        kill -TERM "$bridge_pid" 2>/dev/null || true
        wait "$bridge_pid" 2>/dev/null || true
    fi
    "$root/scripts/rt.sh" stop "$rtdir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
    echo "RT bridge: failed: $*" >&2
    exit 1
}

rt_bench="$build/bench/rt_bench"
cfg="$tmp/trafficking.cfg" # written by bench.sh: the trafficking plugin and its conf/
[ -f "$cfg" ] || fail "$cfg is missing: run me from scripts/bench.sh"
# as ROLE ARGS...: the CLI as that person's or service's own role.
as() { CASEHOST_DB="$CASEHOST_DB user=$1" "$build/casehost" -c "$cfg" "${@:2}"; }

# RT, with a watched queue, an unwatched one and the custom fields the mapping names.
cat > "$dir/initdata.pl" <<'PL'
@Queues = ( { Name => 'Bench intake', Description => 'watched by the bridge' },
            { Name => 'Facilities', Description => 'never watched' } );
@CustomFields = (
  { Name => 'Runaway left', Type => 'DateTime', LookupType => 'RT::Queue-RT::Ticket',
    MaxValues => 1, Queue => 0 },
  { Name => 'Runaway returned', Type => 'DateTime', LookupType => 'RT::Queue-RT::Ticket',
    MaxValues => 1, Queue => 0 },
);
1;
PL
pgdir=$(sed -nE 's/.*host=([^ ]+).*/\1/p' <<<"$CASEHOST_DB")
[ -d "$pgdir" ] || fail "no socket directory in CASEHOST_DB"
port=$("$rt_bench" port)
t0=$(date +%s.%N)
"$root/scripts/rt.sh" start "$rtdir" "$pgdir" "$port" "$dir/initdata.pl" \
    || fail "scripts/rt.sh could not start RT (its log: $rtdir/setup.log, $rtdir/server.log)"
t1=$(date +%s.%N)
url="http://127.0.0.1:$port/REST/2.0"
rtdb="host=$pgdir dbname=rt5 user=casehost"
printf '  RT %s started in %.1f s on 127.0.0.1:%s (rt-server, 2 workers, database rt5 in the bench cluster)\n' \
    "$(dpkg-query -W -f='${Version}' request-tracker5 2>/dev/null || echo 5)" \
    "$(echo "$t1 - $t0" | bc)" "$port"

# RT's admin: the bridge's read-only role, and the optional trigger that wakes it.
read -r pw < "$tmp/pw"
psql "$rtdb" -qX -v ON_ERROR_STOP=1 -v pw="$pw" >/dev/null <<'SQL' || fail "cannot make RT's reader"
CREATE ROLE casehost_rt_reader LOGIN PASSWORD :'pw';
GRANT SELECT ON ALL TABLES IN SCHEMA public TO casehost_rt_reader;
SQL
psql "$rtdb" -qX -v ON_ERROR_STOP=1 -f "$root/sql/bridge/rt_notify.sql" >/dev/null \
    || fail "cannot install sql/bridge/rt_notify.sql"

# casehost: the bridge's service user, and the caseworker it acts as (the owner grants that role).
as ch_bench user add rtbridge --agency Bench --role service --password-file "$tmp/pw" >/dev/null
as ch_bench user add rtintake --agency Bench --role caseworker --password-file "$tmp/pw" >/dev/null
psql "$CASEHOST_DB" -qX -v ON_ERROR_STOP=1 -c "GRANT ch_rtintake TO ch_rtbridge" >/dev/null
printf 'bench-token\n' > "$dir/rt-token"
chmod 600 "$dir/rt-token"
cat > "$dir/rt.cfg" <<CFG
name = "rt";
rt = { conninfo = "host=$pgdir dbname=rt5 user=casehost_rt_reader"; url = "$url";
       token_file = "$dir/rt-token"; listen = true; };
poll_seconds = 10;
batch = 500;
act_as = "rtintake";
queues = ( { queue = "Bench intake"; agency = "Bench"; } );
fields = ( { cf = "Runaway left"; field = "runaway_start"; },
           { cf = "Runaway returned"; field = "runaway_return"; } );
statuses = ( { rt = "new"; casehost = "open"; },
             { rt = "open"; casehost = "in_progress"; },
             { rt = "stalled"; casehost = "waiting"; },
             { rt = "resolved"; casehost = "closed"; } );
CFG

# The bridge, as a service.
CASEHOST_DB="$CASEHOST_DB user=ch_rtbridge" "$build/casehost" -c "$cfg" bridge rt \
    --config "$dir/rt.cfg" >"$dir/bridge.log" 2>&1 &
bridge_pid=$!
for _ in $(seq 1 200); do
    grep -q "started:" "$dir/bridge.log" && break
    kill -0 "$bridge_pid" 2>/dev/null || { cat "$dir/bridge.log" >&2; fail "the bridge did not start"; }
    sleep 0.05
done
grep -q "started:" "$dir/bridge.log" || fail "the bridge did not say it started"
if grep -q "woken by RT's trigger" "$dir/bridge.log"; then
    mode="woken by RT's NOTIFY trigger (sql/bridge/rt_notify.sql, rt.listen = true)"
else
    mode="polling only (no trigger heard)"
fi
echo "  bridge: casehost bridge rt as ch_rtbridge, acting as rtintake; $mode, poll_seconds = 10"

# REST2 as RT's root logged in once (a session, as RT's own pages use REST2);
# basic auth makes RT check the password (bcrypt, BcryptCost 12) on every
# request, which is measured once below for scale.
# Warm-up: the first requests load RT's code in each worker and make the requestor.
"$rt_bench" create session "$url" "$rtdir/root-password" "Bench intake" 4 2 >/dev/null \
    || fail "REST2 warm-up"

echo "-- lag, ticket commit to case (casehost's database polled every 1 ms)"
"$rt_bench" lag session "$url" "$rtdir/root-password" "$rtdb" "Bench intake" "$N" || fail "lag"

echo "-- throughput: RT ticket creation through REST2 next to casehost case new"
# casehost case new: the whole process as the bench admin (exec, config, connect,
# commit), with the host configuration the bridge runs with.
case_new_rate() { # CLIENTS: commands per second, LOAD commands in all
    local clients=$1 t0 t1 k
    t0=$(date +%s%N)
    for k in $(seq 1 "$clients"); do
        (for _ in $(seq 1 $((LOAD / clients))); do
            as ch_bench case new --title "cli bench" >/dev/null
        done) &
    done
    wait
    t1=$(date +%s%N)
    echo "$((LOAD / clients * clients)) $t0 $t1" | awk '{ printf "%.1f", $1 / (($3 - $2) / 1e9) }'
}
for clients in 1 4; do
    read -r rt_rate first last < <("$rt_bench" create session "$url" "$rtdir/root-password" \
        "Bench intake" "$LOAD" "$clients") || fail "throughput"
    [ -n "${last:-}" ] || fail "throughput: rt_bench said nothing"
    cn_rate=$(case_new_rate "$clients")
    ratio=$(awk -v a="$rt_rate" -v b="$cn_rate" 'BEGIN { printf "%.2f", a / b }')
    printf '  %d client(s): RT ticket create %s/s, casehost case new %s/s: RT / case new = %s\n' \
        "$clients" "$rt_rate" "$cn_rate" "$ratio"
    if [ "$last" = "-1.000" ]; then
        echo "    the bridge did not make all $LOAD cases within 120 s"
    else
        printf '    bridge: all %d tickets were cases %s s after the last create answered\n' \
            "$LOAD" "$last"
    fi
    printf 'FIGURE\tRT ticket create through REST2, %d client(s)\t-\t%s tickets/s\n' "$clients" "$rt_rate"
    printf 'FIGURE\tcasehost case new next to RT, whole process, %d client(s)\t-\t%s cases/s\n' \
        "$clients" "$cn_rate"
    printf 'FIGURE\tRT ticket create / casehost case new, %d client(s)\t-\t%s\n' "$clients" "$ratio"
done
echo "  (rt-server runs 2 workers (scripts/rt.sh) on $(nproc) cores; the bridge runs meanwhile)"
read -r basic_rate _ _ < <("$rt_bench" create basic "$url" "$rtdir/root-password" "Bench intake" \
    $(( LOAD / 5 > 0 ? LOAD / 5 : 1 )) 1) || fail "throughput (basic auth)"
printf '  with basic auth on every request instead (RT checks the password each time): %s tickets/s, 1 client\n' \
    "$basic_rate"
printf 'FIGURE\tRT ticket create through REST2, basic auth per request, 1 client\t-\t%s tickets/s\n' \
    "$basic_rate"

dupes=$(psql "$CASEHOST_DB" -qtAX -c "SELECT count(*) - count(DISTINCT external_ref)
    FROM casehost.cases WHERE external_system = 'rt'")
made=$(psql "$CASEHOST_DB" -qtAX -c "SELECT count(*) FROM casehost.cases WHERE external_system = 'rt'")
echo "  cases from RT: $made, duplicates: $dupes"
[ "$dupes" = 0 ] || fail "the bridge made duplicate cases"
exit 0
