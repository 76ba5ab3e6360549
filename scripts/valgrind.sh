#!/usr/bin/env bash
# valgrind.sh BUILD: the loader and configuration code under valgrind (a
# build without sanitizers): the unit suites that load plugins and read every
# configuration file, and `casehost config check` on the shipped and a broken
# config. Fails on any error or definite/indirect leak.
set -uo pipefail
build=$(cd "${1:?usage: valgrind.sh BUILD}" && pwd)
root=$(pwd)
tmp=$(mktemp -d /tmp/casehost-vg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export CASEHOST_TEST_ROOT="$root" CASEHOST_TEST_BUILD="$build" CASEHOST_TEST_TMP="$tmp" CK_FORK=no
vg=(valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 -q)
failed=0
for t in core/check_loader core/check_hostcfg core/check_args trafficking/screening/check_instrument \
         trafficking/screening/check_trigger trafficking/routing/check_routing_config \
         trafficking/check_trafficking_plugin trafficking/cache/check_cfgcache; do
    log="$tmp/$(basename "$t").log"
    "${vg[@]}" "$build/tests/unit/$t" >"$log" 2>&1
    rc=$?
    echo "$t: exit $rc, $(tail -1 "$log")"
    [ "$rc" = 0 ] || { failed=1; grep -E "==[0-9]+==" "$log" | head -20; }
done
for cfg in conf/casehost.cfg tests/data/hostcfg/several_errors.cfg; do
    "${vg[@]}" "$build/casehost" -c "$cfg" config check >"$tmp/cc.log" 2>&1
    rc=$?
    echo "casehost -c $cfg config check: exit $rc"
    if [ "$rc" = 99 ]; then failed=1; grep -E "==[0-9]+==" "$tmp/cc.log" | head -20; fi
done
[ "$failed" = 0 ] && echo "valgrind: no errors, no leaks"
exit "$failed"
