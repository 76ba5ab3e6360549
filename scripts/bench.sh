#!/usr/bin/env bash
# bench.sh BUILD: performance figures on a private PostgreSQL started for
# the run (durable settings, socket only). Every figure is a ratio against a
# baseline measured in the same run on the same server, or an instruction
# count under callgrind; none is a pass/fail threshold. Each figure also
# comes as a line "FIGURE<tab>name<tab>goal<tab>value" (bench/figure.h; the
# scripts use printf); the whole output is kept in the run's temp dir and,
# at the end, those lines become one summary table, from this one run.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
root=$(pwd)
tmp=$(mktemp -d /tmp/casehost-bench.XXXXXX)
chmod 755 "$tmp"
trap '"$root/scripts/pg.sh" stop "$tmp/pg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT INT TERM
N=${BENCH_N:-2000}

# fig NAME GOAL VALUE: a figure line as the C programs print it (bench/figure.h).
fig() { printf 'FIGURE\t%s\t%s\t%s\n' "$1" "$2" "$3"; }

# The whole run; its output goes through tee into $tmp/bench.log. It stops at
# the first failing step (set -e again: it runs in a pipeline's subshell).
run_bench() {
set -e
"$root/scripts/pg.sh" start "$tmp/pg"
admin=$("$root/scripts/pg.sh" conninfo "$tmp/pg" postgres)
psql "$admin" -qX -c "CREATE DATABASE bench" >/dev/null
export CASEHOST_DB=$("$root/scripts/pg.sh" conninfo "$tmp/pg" bench)

cat > "$tmp/core.cfg" <<CFG
paths = { plugin_dir = "$build/plugins"; sql_dir = "$root/sql"; };
plugins = ();
CFG
cat > "$tmp/testplug.cfg" <<CFG
paths = { plugin_dir = "$build/tests/plugins"; sql_dir = "$root/sql"; };
plugins = ( { name = "testplug"; sql = "$root/tests/sql/testplug"; } );
CFG
cat > "$tmp/trafficking.cfg" <<CFG
paths = { plugin_dir = "$build/plugins"; sql_dir = "$root/sql"; };
plugins = ( { name = "trafficking"; settings = {
    instruments = "$root/conf/trafficking/instruments";
    screening = "$root/conf/trafficking/screening.cfg";
    destinations = "$root/conf/trafficking/destinations.cfg";
    routing = "$root/conf/trafficking/routing.cfg"; }; } );
CFG
mkdir -m 700 "$tmp/cfgcache"
sed "s|routing.cfg\"; }; } );|routing.cfg\"; cache_dir = \"$tmp/cfgcache\"; }; } );|" \
    "$tmp/trafficking.cfg" > "$tmp/trafficking-cached.cfg"
grep -q cache_dir "$tmp/trafficking-cached.cfg"
ch() { "$build/casehost" -c "$tmp/$1.cfg" "${@:2}" >/dev/null; }
# as ROLE CONFIG ARGS...: a person or service runs the CLI as their own role.
as() { CASEHOST_DB="$CASEHOST_DB user=$1" "$build/casehost" -c "$tmp/$2.cfg" "${@:3}" >/dev/null; }
ch testplug db migrate
ch trafficking db migrate

# Every person and service is a role with a password (libpq reads it from PGPASSFILE).
printf 'bench-pw\n' > "$tmp/pw"
printf '*:*:*:*:bench-pw\n' > "$tmp/pgpass"
chmod 600 "$tmp/pw" "$tmp/pgpass"
export PGPASSFILE="$tmp/pgpass"
ch core agency add Bench --state CA
ch core user add bench --agency Bench --role admin --password-file "$tmp/pw"
as ch_bench core user add benchsvc --agency Bench --role service --password-file "$tmp/pw"

# A 30-item instrument: the size the screening figure is quoted for. It is
# deployed with the shipped configuration: screenings use live instruments only.
mkdir -p "$tmp/instruments" "$tmp/conf"
{
    echo 'instrument = { id = "bench30"; version = 1; title = "Bench 30"; purpose = "bench";'
    echo '  source = "generated"; population = { min_age = 0; max_age = 120; }; mode = "interview";'
    echo '  min_answered = 20; scoring = { method = "count_at_least"; n = 2; }; items = ('
    for i in $(seq 1 30); do
        sep=","; [ "$i" = 30 ] && sep=""
        domain=control; evidence=coercion
        [ $((i % 3)) = 0 ] && domain=sex_trafficking && evidence=commercial_sex
        echo "    { id = \"item_$i\"; domain = \"$domain\"; kind = \"yes_no\"; evidence = \"$evidence\";"
        echo "      prompt = \"Question $i?\"; }$sep"
    done
    echo '  ); };'
} > "$tmp/instruments/bench30.cfg"
cp -R "$root/conf/trafficking" "$tmp/conf/trafficking"
cp "$tmp/instruments/bench30.cfg" "$tmp/conf/trafficking/instruments/"
cat > "$tmp/conf/casehost.cfg" <<CFG
paths = { plugin_dir = "$build/plugins"; sql_dir = "$root/sql"; };
plugins = ( { name = "trafficking"; } );
CFG
"$build/casehost" -c "$tmp/conf/casehost.cfg" config deploy >/dev/null
psql "$CASEHOST_DB" -qX -c "CREATE SCHEMA bench; CREATE TABLE bench.baseline (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, agency_id bigint, title text, created_at timestamptz DEFAULT now())"

echo "== host core (PostgreSQL $(psql "$admin" -qtAX -c 'SHOW server_version'), $(nproc) cores, durable commits)"
"$build/bench/host_bench" load "$tmp/testplug.cfg" 2000
"$build/bench/host_bench" load "$tmp/trafficking.cfg" 200 "files parsed" -
# The same files through the compiled copy (cache_dir): the first load writes it.
"$build/bench/host_bench" load "$tmp/trafficking-cached.cfg" 1 >/dev/null
"$build/bench/host_bench" load "$tmp/trafficking-cached.cfg" 1000 "compiled copy" "< 1 ms"
"$build/bench/host_bench" cases "$tmp/core.cfg" "$N" ch_bench 4
"$build/bench/host_bench" cases "$tmp/testplug.cfg" "$N" ch_bench 4
"$build/bench/host_bench" cases "$tmp/trafficking.cfg" "$N" ch_bench 4

t0=$(date +%s%N)
for i in $(seq 1 100); do
    as ch_bench core case new --title "cli bench"
done
t1=$(date +%s%N)
echo "casehost case new, whole process (exec, config, connect, commit): $(( (t1 - t0) / 100000 )) us per command"
fig "casehost case new, whole process (exec, config, connect, commit)" - \
    "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 100 / 1e6 }') ms per command"

# The same with the trafficking plugin, which loads the live generation from a
# private copy each command: files parsed, then through the compiled copy.
whole_case_new() {
    local t0 t1
    t0=$(date +%s%N)
    for i in $(seq 1 50); do
        as ch_bench "$1" case new --title "cli bench"
    done
    t1=$(date +%s%N)
    echo "casehost case new with the trafficking plugin, whole process, $2: $(( (t1 - t0) / 50000 )) us per command"
    fig "casehost case new with the trafficking plugin, whole process, $2" - \
        "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 50 / 1e6 }') ms per command"
}
whole_case_new trafficking "files parsed"
as ch_bench trafficking-cached case new --title "cli bench"
whole_case_new trafficking-cached "compiled copy"

as ch_bench core person add --given Sam --age-estimate 16
# Fresh cases for every screening, so each routed one makes its referrals and
# outbox rows, each about a person of its own (as in life: a person has a
# handful of cases, and the report ledger reads all of a person's cases).
case_id=$(psql "$CASEHOST_DB" -qtAX -c "
    WITH p AS (
        INSERT INTO casehost.people (agency_id, given_name, estimated_age, estimated_age_high,
                                     estimated_on)
        SELECT 1, 'bench ' || g, 16, 16, current_date FROM generate_series(1, 4 * $N + 1) g
        RETURNING id)
    INSERT INTO casehost.cases (agency_id, title, subject_id, state)
    SELECT 1, 'screening bench ' || p.id, p.id, 'CA' FROM p;
    SELECT min(id) FROM casehost.cases WHERE title LIKE 'screening bench%'" | tail -1)

echo
echo "== screening submit, and submit + route + outbox in one transaction (trafficking plugin)"
"$build/bench/screening_bench" "$tmp/instruments" "$N" 4 ch_bench "$case_id" \
    "$root/conf/trafficking/destinations.cfg" "$root/conf/trafficking/routing.cfg"
psql "$CASEHOST_DB" -qtAX -c "SELECT 'outbox rows written: ' || count(*) FROM trafficking.outbox"

echo
echo "== dispatch (outbox to a loopback webhook)"
"$build/bench/dispatch_bench" ch_benchsvc "$N" 2

echo
echo "== web pages (casehost serve on loopback; a case page against the style sheet)"
psql "$admin" -qX -c "ALTER ROLE casehost_authenticator LOGIN PASSWORD 'bench-pw'" >/dev/null
web_case=$(psql "$CASEHOST_DB" -qtAX -c "SELECT max(id) FROM casehost.cases WHERE title LIKE 'screening bench%'")
CASEHOST_DB="$CASEHOST_DB user=casehost_authenticator" "$build/casehost" -c "$tmp/trafficking.cfg" \
    serve --listen 127.0.0.1:0 --threads 8 >/dev/null 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$tmp/serve.log" && break; sleep 0.05; done
web_url=$(sed -nE 's/.*listening on (http:[^ ]*)\/ with.*/\1/p' "$tmp/serve.log")
"$build/bench/web_bench" "$web_url" bench bench-pw "$web_case" "${BENCH_WEB_N:-2000}" 8 || true
kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true

echo
echo "== agency reports (each report once, as the agency's admin, over generated screenings)"
# The data is generated by SQL into an agency of its own; the 1M step takes
# several minutes on a small machine, so it runs only with BENCH_REPORT_1M=1.
ch core agency add Reports --state MT
ch core user add rlead --agency Reports --role admin --password-file "$tmp/pw"
"$build/bench/report_bench" ch_rlead 10000 100000 ${BENCH_REPORT_1M:+1000000}

echo
echo "== routing engine"
"$build/bench/routing_bench" 50000 "$root/conf/trafficking"
"$build/bench/routing_bench" --compile 10000

echo
echo "== rule language"
"$build/bench/rule_bench" 2000000
"$build/bench/rule_bench" --compile 10000
if command -v valgrind >/dev/null; then
    evals=100000
    # Without a trace (skip logic, triggers) the flat program runs; with one
    # (a routing decision, which keeps why each rule fired) the tree is walked.
    for mode in plain traced; do
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$mode" --toggle-collect=rule_eval \
            "$build/bench/rule_bench" --$mode "$evals" >/dev/null 2>"$tmp/cg.log"
        ir=$(sed -nE 's/^summary: ([0-9]+).*/\1/p' "$tmp/cg.$mode")
        # Calls into the allocator while rule_eval runs (callgrind records only those).
        allocs=$(awk '
            /^c?fn=\(/ { id = $1; sub(/^c?fn=/, "", id); if (NF > 1) name[id] = $2 }
            /^cfn=\(/ { callee = name[id] }
            /^calls=/ { split($1, c, "=")
                        if (callee ~ /^(malloc|calloc|realloc|strdup|strndup|posix_memalign)$/)
                            n += c[2] }
            END { print n + 0 }' "$tmp/cg.$mode")
        echo "callgrind: rule_eval $mode: $((ir / evals)) instructions per evaluation of the" \
             "16-node routing rule ($ir for $evals); $allocs allocations"
        fig "rule evaluation, 16-node routing rule, $mode (callgrind)" \
            "<= 160 instructions, zero allocation" \
            "$((ir / evals)) instructions, $allocs allocations in $evals evaluations"
    done
else
    fig "rule evaluation, 16-node routing rule (callgrind)" "<= 160 instructions" \
        "not measured (no valgrind)"
fi

echo
echo "== cost growth (agency 'Bench' grown by SQL; whole commands as a caseworker would run them)"
as ch_bench core user add growth --agency Bench --role caseworker --password-file "$tmp/pw"
BENCH_INSTRUMENTS="$tmp/instruments" "$root/scripts/bench-growth.sh" "$build" \
    "$tmp/trafficking.cfg" ch_growth

if [ -x "$root/scripts/bench-rt.sh" ]; then echo; echo "== RT bridge"; "$root/scripts/bench-rt.sh" "$build" "$tmp" || echo "RT bridge bench failed"; fi
}

# The figure lines are for the table; the screen shows the human lines as they come.
set +e
run_bench 2>&1 | tee "$tmp/bench.log" | grep --line-buffered -v '^FIGURE'$'\t'
rc=${PIPESTATUS[0]}
set -e

echo
echo "== summary (one run, same server)"
awk -F'\t' '
    $1 == "FIGURE" { n++; name[n] = $2; goal[n] = $3; value[n] = $4
                     if (length($2) > w1) w1 = length($2)
                     if (length($3) > w2) w2 = length($3) }
    END {
        if (w1 < 6) w1 = 6
        if (w2 < 4) w2 = 4
        printf "%-" w1 "s | %-" w2 "s | %s\n", "figure", "goal", "measured"
        line1 = sprintf("%" w1 "s", ""); gsub(/ /, "-", line1)
        line2 = sprintf("%" w2 "s", ""); gsub(/ /, "-", line2)
        printf "%s-+-%s-+-%s\n", line1, line2, "--------"
        for (i = 1; i <= n; i++)
            printf "%-" w1 "s | %-" w2 "s | %s\n", name[i], goal[i], value[i]
    }' "$tmp/bench.log"
if [ "$rc" != 0 ]; then
    echo "bench: a step failed (exit $rc); the table holds the figures measured before it" >&2
    exit "$rc"
fi
