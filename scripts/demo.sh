#!/usr/bin/env bash
# demo.sh: what a caseworker does, on a private PostgreSQL under ./var (or on
# the database in CASEHOST_DB): migrate, add an agency and its people (each a
# PostgreSQL login role with a password kept under ./var, mode 0600), then
# create a case with a person, screen them and send the referrals. Re-running
# reuses the cluster, the roles and their passwords, and adds a fresh case.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin="$root/build/casehost"
cfg="$root/conf/casehost.cfg"
# var/ is searchable (the postgres user reaches var/pg) but not listable.
mkdir -p var
chmod 711 var
umask 077

if [ -z "${CASEHOST_DB:-}" ]; then
    scripts/pg.sh start var/pg
    admin=$(scripts/pg.sh conninfo var/pg postgres)
    if [ "$(psql "$admin" -qtAX -c "SELECT 1 FROM pg_database WHERE datname = 'casehost'")" != 1 ]; then
        psql "$admin" -qX -c "CREATE DATABASE casehost" >/dev/null
    fi
    owner_db="$(scripts/pg.sh conninfo var/pg casehost)"
    people_db="host=$root/var/pg dbname=casehost"
    echo "PostgreSQL: private cluster in ./var/pg (socket only; 'make demo-stop' stops it)"
else
    owner_db="$CASEHOST_DB"
    people_db="$CASEHOST_DB"
    echo "PostgreSQL: CASEHOST_DB=$CASEHOST_DB (as the database owner)"
fi
prefix=ch_

# Each demo person's password: made once, kept in var/secrets (0600), found
# by libpq through var/pgpass (0600), never on a command line.
mkdir -p var/secrets
chmod 700 var/secrets
: > var/pgpass
for who in dana maria svc; do
    [ -s "var/secrets/$who" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' > "var/secrets/$who"
    printf '*:*:*:%s%s:%s\n' "$prefix" "$who" "$(cat "var/secrets/$who")" >> var/pgpass
done
# The Nevada webhook's signing secret (named by destinations.cfg, never deployed).
[ -s var/secrets/le_nv_webhook ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > var/secrets/le_nv_webhook
chmod 600 var/pgpass var/secrets/*
export PGPASSFILE="$root/var/pgpass"

step() { printf '\n\033[1m== %s\033[0m\n' "$1"; }
show() {
    printf '%s$ casehost' "$1"
    shift
    for a in "$@"; do
        case "$a" in *[[:space:]\'\"]*) printf ' "%s"' "$a" ;; *) printf ' %s' "$a" ;; esac
    done
    printf '\n'
}
# owner CMD...: as the database owner (migrations, agencies, first admin).
owner() {
    show "[owner] " "$@"
    CASEHOST_DB="$owner_db" "$bin" -c "$cfg" "$@"
}
# as USER CMD...: as USER's own PostgreSQL role, as that person would connect.
as() {
    local who=$1
    shift
    show "[$who] " "$@"
    CASEHOST_DB="$people_db user=$prefix$who" "$bin" -c "$cfg" "$@"
}
quiet_as() {
    local who=$1
    shift
    CASEHOST_DB="$people_db user=$prefix$who" "$bin" -c "$cfg" "$@"
}

step "Install: apply migrations (core and plugins), as the database owner"
owner db migrate

step "Plugins named in conf/casehost.cfg"
owner plugin list

step "Put the shipped configuration live: checked, fixtures run, stored as a generation in the database"
owner config deploy --note "make demo"

if ! quiet_as dana case list >/dev/null 2>&1; then
    step "First run: an agency and its first admin (the database owner), then the admin adds people"
    owner agency add "Harbor Youth Services" --kind ngo_shelter --state CA --county Alameda
    owner user add dana --agency "Harbor Youth Services" --role admin --full-name "Dana Reyes" \
        --password-file var/secrets/dana
    as dana user add maria --agency "Harbor Youth Services" --role caseworker \
        --full-name "Maria Chen" --password-file var/secrets/maria
    as dana user add svc --agency "Harbor Youth Services" --role service \
        --full-name "Dispatcher and escalation" --password-file var/secrets/svc
    as dana user show maria
fi

step "A youth comes back after running away: record the person"
out=$(quiet_as maria --json person add --given Jordan --age-estimate 15 --gender "non-binary" --language en)
person=$(printf '%s' "$out" | sed -nE 's/.*"person": ([0-9]+).*/\1/p')
echo "[maria] \$ casehost person add --given Jordan --age-estimate 15 --gender non-binary --language en"
echo "person $person added"

step "Open a case for them"
out=$(quiet_as maria --json case new --title "Jordan: missing from placement" \
      --person "$person" --state CA --county Alameda --runaway-start "$(date -u -d '3 days ago' '+%Y-%m-%d %H:%M')" \
      --cw-history --assignee maria)
case_id=$(printf '%s' "$out" | sed -nE 's/.*"case": ([0-9]+).*/\1/p')
echo "[maria] \$ casehost case new --title \"Jordan: missing from placement\" --person $person --state CA ..."
echo "case $case_id created"

step "Add what the caseworker learned"
as maria note add "$case_id" "Jordan was found at a friend's place; says an older man online offered a job in LA."

step "Jordan is back: record the return (the trafficking plugin suggests a screening)"
as maria case update "$case_id" --runaway-return "$(date -u '+%Y-%m-%d %H:%M')" --status in_progress \
    --flags recruitment

step "What is due: screenings past or near their due time, soonest first"
as maria screen due

step "The suggested instrument"
as maria instrument show youth_quick

step "Jordan's safe contact: the person who recruited them controls their phone"
as maria safety set "$person" --safe-channels email,via_caseworker --email jordan.safe@example.org \
    --trafficker-controls-phone yes

step "Screen Jordan (on a terminal this asks one question at a time; here the answers are given).
   Routing runs in the same transaction: an exchange of sex for something needed is evidence
   of commercial sex, so a minor is reported to child welfare and law enforcement within
   24 hours, whatever the consent (risk signs alone would ask for an assessment instead)."
as maria screen start "$case_id" offer_not_as_promised=yes could_not_leave=no \
    id_money_phone_held=declined exchanged_sex=yes made_to_work=no someone_making_you_now=no

step "Referrals leave only through the outbox: the service role's dispatcher sends them (spool files here)"
as svc dispatch --once
ls -1 var/spool/*/ 2>/dev/null | sed 's/^/  /'

step "Child welfare acknowledges the report"
ref=$(quiet_as maria --json referral list --case "$case_id" | sed -nE 's/.*"id": ([0-9]+).*/\1/p' | head -1)
as maria referral ack "$ref" --reference "CW-2026-0042"
as maria referral list --case "$case_id"

step "The case as the caseworker sees it, with its history and screenings"
as maria case show "$case_id"

step "Open cases of the agency"
as maria case list

step "Why these referrals: every rule, its sub-conditions, and why a destination was not used"
as maria route explain "$case_id"

printf '\nThe demo people log in with passwords kept in var/secrets (mode 0600); for example:\n'
printf '  PGPASSFILE=%s/var/pgpass CASEHOST_DB="%s user=%smaria" %s case list\n' "$root" "$people_db" "$prefix" "$bin"

# ---------------------------------------------------------------- web pages ---
# The same work in a browser: `casehost serve` on 127.0.0.1 only, as an
# unprivileged user, connected as the authenticator (its password made once,
# kept in var/web, readable by that user alone). PostgreSQL checks each
# person's password at login.
if [ -z "${CASEHOST_DB:-}" ]; then
    step "The web pages: casehost serve (127.0.0.1 only; 'make demo-stop' stops it)"
    port=${DEMO_PORT:-8080}
    runas=$(id -un)
    [ "$(id -u)" = 0 ] && runas=postgres
    if [ -s var/web/serve.pid ] && kill -0 "$(cat var/web/serve.pid)" 2>/dev/null; then
        kill "$(cat var/web/serve.pid)" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$(cat var/web/serve.pid)" 2>/dev/null || break; sleep 0.3; done
    fi
    mkdir -p var/web
    [ -s var/secrets/authenticator ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' > var/secrets/authenticator
    chmod 600 var/secrets/authenticator
    psql "$owner_db" -qX -v ON_ERROR_STOP=1 -v pw="$(cat var/secrets/authenticator)" >/dev/null <<'SQL'
SET password_encryption = 'scram-sha-256';
ALTER ROLE casehost_authenticator LOGIN PASSWORD :'pw';
SQL
    printf '*:*:*:casehost_authenticator:%s\n' "$(cat var/secrets/authenticator)" > var/web/pgpass
    chmod 600 var/web/pgpass
    : > var/web/serve.log
    chmod 700 var/web
    chown -R "$runas" var/web
    run() { if [ "$runas" = "$(id -un)" ]; then "$@"; else runuser -u "$runas" -- "$@"; fi; }
    run env PGPASSFILE="$root/var/web/pgpass" CASEHOST_DB="$people_db user=casehost_authenticator" \
        setsid "$bin" -c "$cfg" serve --listen "127.0.0.1:$port" >>var/web/serve.log 2>&1 </dev/null &
    for _ in $(seq 1 50); do
        grep -q "listening on\|cannot" var/web/serve.log 2>/dev/null && break
        sleep 0.1
    done
    # The server's own pid (not runuser's), for demo-stop.
    pgrep -u "$runas" -f -n "casehost -c $cfg serve --listen 127.0.0.1:$port" > var/web/serve.pid || true
    if grep -q "listening on" var/web/serve.log; then
        printf '\nOpen http://127.0.0.1:%s/ and log in as maria (caseworker) or dana (admin);\n' "$port"
        printf 'their passwords are in var/secrets/maria and var/secrets/dana. Server log: var/web/serve.log\n'
    else
        echo "the web server did not start:" >&2
        cat var/web/serve.log >&2
        exit 1
    fi
fi
