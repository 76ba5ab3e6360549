#!/usr/bin/env bash
# run-tests.sh BUILD [NAME...]: runs every Check suite (or those whose file
# name contains one of NAME) under BUILD/tests against a
# throwaway PostgreSQL started in a temp dir (fsync off), which is always
# stopped and removed. Prints each suite's summary line and a total; exits
# non-zero if any suite failed or ran no test.
set -uo pipefail

build=${1:?usage: run-tests.sh BUILD [NAME...]}
shift
only=("$@")
root=$(pwd)
build=$(cd "$build" && pwd)
tmp=$(mktemp -d /tmp/casehost-test.XXXXXX)
chmod 755 "$tmp"
cleanup() {
    # A suite that started RT (check_bridge_rt) stops it itself; this covers its crash.
    [ -d "$tmp/rt" ] && "$root/scripts/rt.sh" stop "$tmp/rt" >/dev/null 2>&1
    "$root/scripts/pg.sh" stop "$tmp/pg" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The shared cluster and its migrated, deployed template (scripts/test-cluster.sh).
"$root/scripts/test-cluster.sh" "$tmp" "$build" || exit 1
server=$("$root/scripts/pg.sh" conninfo "$tmp/pg" postgres)
sock="host=$tmp/pg user=casehost"

# Every test role gets this password; libpq finds it here (mode 0600), so
# each person's connection really authenticates with SCRAM.
printf '*:*:*:*:%s\n' "casehost-test-pw" > "$tmp/pgpass"
chmod 600 "$tmp/pgpass"
export PGPASSFILE="$tmp/pgpass"
export CASEHOST_TEST_PASSWORD="casehost-test-pw"
export CASEHOST_TEST_SERVER="$server"
export CASEHOST_TEST_SOCKET_INFO="$sock"
export CASEHOST_TEST_BUILD="$build"
export CASEHOST_TEST_ROOT="$root"
export CASEHOST_TEST_TMP="$tmp"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
unset CASEHOST_DB CASEHOST_USER CASEHOST_CONFIG PGUSER PGDATABASE PGHOST PGSERVICE

failed=0; suites=0; checks=0; bad=0
for t in $(find "$build"/tests/unit "$build"/tests/integration -type f -name 'check_*' | sort); do
    [ -x "$t" ] || continue
    name=${t#"$build"/tests/}
    if [ ${#only[@]} -gt 0 ]; then
        keep=0
        for o in "${only[@]}"; do case "$name" in *"$o"*) keep=1 ;; esac; done
        [ "$keep" = 1 ] || continue
    fi
    suites=$((suites + 1))
    log="$tmp/$(basename "$t").log"
    t0=$(date +%s)
    "$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    summary=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -1)
    n=$(echo "$summary" | sed -nE 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1/p')
    f=$(echo "$summary" | sed -nE 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\2+\3/p')
    checks=$((checks + ${n:-0}))
    if [ "$rc" != 0 ] || [ -z "$summary" ] || [ "${n:-0}" = 0 ]; then
        failed=$((failed + 1))
        bad=$((bad + ${f:-0}))
        [ "${f:-0}" = "0+0" ] && bad=$((bad + 1))
        echo "FAIL $name (exit $rc, ${secs} s): ${summary:-no summary}"
        grep -vE '^Running suite' "$log" | head -60
    else
        echo "ok   $name (${secs} s): $summary"
    fi
done
if [ "$suites" = 0 ]; then
    echo "no test suites were built" >&2
    exit 1
fi
bad=$(( bad ))
echo "$suites suites, $checks checks"
echo "$((checks - bad)) passed, $bad failed"
[ "$failed" = 0 ]
