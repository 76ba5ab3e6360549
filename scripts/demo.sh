#!/usr/bin/env bash
# demo.sh: what a caseworker does, on a private PostgreSQL under ./var (or on
# the database in CASEHOST_DB): migrate, load the configured plugins, then
# create a case with a person, add a note, update it and show it with its
# history. Re-running reuses the cluster and adds a fresh case.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin="$root/build/casehost"
cfg="$root/conf/casehost.cfg"

if [ -z "${CASEHOST_DB:-}" ]; then
    scripts/pg.sh start var/pg
    admin=$(scripts/pg.sh conninfo var/pg postgres)
    if [ "$(psql "$admin" -qtAX -c "SELECT 1 FROM pg_database WHERE datname = 'casehost'")" != 1 ]; then
        psql "$admin" -qX -c "CREATE DATABASE casehost" >/dev/null
    fi
    export CASEHOST_DB="$(scripts/pg.sh conninfo var/pg casehost)"
    echo "PostgreSQL: private cluster in ./var/pg (socket only; 'make demo-stop' stops it)"
else
    echo "PostgreSQL: CASEHOST_DB=$CASEHOST_DB"
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$1"; }
show() {
    printf '$ casehost'
    for a in "$@"; do
        case "$a" in *[[:space:]\'\"]*) printf ' "%s"' "$a" ;; *) printf ' %s' "$a" ;; esac
    done
    printf '\n'
}
run() {
    show "$@"
    "$bin" -c "$cfg" "$@"
}

step "Install: apply migrations (core and plugins)"
run db migrate

step "Plugins named in conf/casehost.cfg"
run plugin list

if ! "$bin" -c "$cfg" --as dana case list >/dev/null 2>&1; then
    step "First run: an agency, its admin (bootstrap) and a caseworker"
    run agency add "Harbor Youth Services" --kind ngo_shelter --state CA --county Alameda
    run user add dana --agency "Harbor Youth Services" --role admin --full-name "Dana Reyes"
    run --as dana user add maria --agency "Harbor Youth Services" --role caseworker --full-name "Maria Chen"
fi

step "A youth comes back after running away: record the person"
out=$("$bin" -c "$cfg" --as maria --json person add --given Jordan --age-estimate 15 \
      --gender "non-binary" --language en)
person=$(printf '%s' "$out" | sed -nE 's/.*"person": ([0-9]+).*/\1/p')
echo "\$ casehost --as maria person add --given Jordan --age-estimate 15 --gender non-binary --language en"
echo "person $person added"

step "Open a case for them"
out=$("$bin" -c "$cfg" --as maria --json case new --title "Jordan: missing from placement" \
      --person "$person" --state CA --county Alameda --runaway-start "$(date -u -d '3 days ago' '+%Y-%m-%d %H:%M')" \
      --cw-history --assignee maria)
case_id=$(printf '%s' "$out" | sed -nE 's/.*"case": ([0-9]+).*/\1/p')
echo "\$ casehost --as maria case new --title \"Jordan: missing from placement\" --person $person --state CA ..."
echo "case $case_id created"

step "Add what the caseworker learned"
run --as maria note add "$case_id" "Jordan was found at a friend's place; says an older man online offered a job in LA."

step "Jordan is back: record the return (the trafficking plugin suggests a screening)"
run --as maria case update "$case_id" --runaway-return "$(date -u '+%Y-%m-%d %H:%M')" --status in_progress \
    --flags recruitment

step "What is due: screenings past or near their due time, soonest first"
run --as maria screen due

step "The suggested instrument"
run --as maria instrument show youth_quick

step "Jordan's safe contact: the person who recruited them controls their phone"
run --as maria safety set "$person" --safe-channels email,via_caseworker --email jordan.safe@example.org \
    --trafficker-controls-phone yes

step "Screen Jordan (on a terminal this asks one question at a time; here the answers are given).
   Routing runs in the same transaction: a minor with a commercial-sex indicator is reported
   to child welfare and law enforcement within 24 hours, whatever the consent."
run --as maria screen start "$case_id" offer_not_as_promised=yes could_not_leave=no \
    id_money_phone_held=declined exchanged_sex=yes someone_making_you_now=no

step "Referrals leave only through the outbox: the dispatcher sends them (spool files for the demo)"
run --as maria dispatch --once
ls -1 var/spool/*/ 2>/dev/null | sed 's/^/  /'

step "Child welfare acknowledges the report"
ref=$("$bin" -c "$cfg" --as maria --json referral list --case "$case_id" | sed -nE 's/.*"id": ([0-9]+).*/\1/p' | head -1)
run --as maria referral ack "$ref" --reference "CW-2026-0042"
run --as maria referral list --case "$case_id"

step "The case as the caseworker sees it, with its history and screenings"
run --as maria case show "$case_id"

step "Open cases of the agency"
run --as maria case list

step "Why these referrals: every rule, its sub-conditions, and why a destination was not used"
run --as maria route explain "$case_id"
