#!/usr/bin/env bash
# bench-growth.sh BUILD CONFIG USER: how the commands a caseworker runs all
# day grow with the data stored. Called by bench.sh on its private server
# (CASEHOST_DB, PGPASSFILE set) after the bench agency (id 1) exists. Grows
# that agency by SQL to each size (default 10k, 100k and 1M cases; override
# with BENCH_GROWTH_SIZES), with a suggested screening on one case in ten
# (half of them overdue) and a sent referral on another one in ten, then
# times, as USER, whole commands (exec, connect, plugin load, query, commit):
# `screen due`, `referral list --case`, `referral attention`, and the
# screening submit ratio of screening_bench at 1 client. Each time is the
# median of 7 runs. Prints figures; asserts nothing.
set -euo pipefail

build=$1
cfg=$2
user=$3
root=$(pwd)
sizes=${BENCH_GROWTH_SIZES:-10000 100000 1000000}

run() { CASEHOST_DB="$CASEHOST_DB user=$user" "$build/casehost" -c "$cfg" "$@" >/dev/null; }

# The median wall time of 7 runs of the command, in milliseconds.
median_ms() {
    local t=() s e
    for _ in 1 2 3 4 5 6 7; do
        s=$(date +%s%N)
        "$@"
        e=$(date +%s%N)
        t+=($(((e - s) / 1000)))
    done
    printf '%s\n' "${t[@]}" | sort -n | sed -n 4p | awk '{ printf "%.1f", $1 / 1000 }'
}

# Adds people, cases, screenings and referrals until agency 1 has $1 cases.
grow_to() {
    psql "$CASEHOST_DB" -qtAX -v ON_ERROR_STOP=1 <<SQL
WITH have AS (SELECT count(*) AS n FROM casehost.cases WHERE agency_id = 1),
p AS (
    INSERT INTO casehost.people (agency_id, given_name, estimated_age, estimated_age_high,
                                 estimated_on)
    SELECT 1, 'growth ' || g, 15, 15, current_date
      FROM have, generate_series(1, greatest($1 - have.n, 0)) g
    RETURNING id),
c AS (
    INSERT INTO casehost.cases (agency_id, title, subject_id, state)
    SELECT 1, 'growth', p.id, 'CA' FROM p RETURNING id),
s AS (
    INSERT INTO trafficking.screenings (agency_id, case_id, instrument_id, state, trigger, due_at)
    SELECT 1, c.id, 'youth_quick', 'suggested', 'runaway_return',
           now() + ((c.id % 48) - 24) * interval '1 hour'
      FROM c WHERE c.id % 10 = 0
    RETURNING 1)
INSERT INTO trafficking.referrals (agency_id, case_id, destination_id, destination_kind, rule,
                                   basis, urgency, due_at, ack_sla_hours, state, fields,
                                   idempotency_key, sent_at)
SELECT 1, c.id, 'nhth', 'hotline', 'growth', 'mandatory_report', 'routine',
       now() + interval '72 hours', 72, 'sent', '{case_id}', 'growth-' || c.id,
       now() - interval '1 hour'
  FROM c WHERE c.id % 10 = 5;
ANALYZE;
SQL
}

printf '%-9s %14s %20s %20s %16s\n' "cases" "screen due ms" "referral list ms" "attention ms" \
    "submit/INSERT"
for n in $sizes; do
    grow_to "$n"
    case_id=$(psql "$CASEHOST_DB" -qtAX -c "SELECT max(case_id) FROM trafficking.referrals")
    due=$(median_ms run screen due)
    list=$(median_ms run referral list --case "$case_id")
    attention=$(median_ms run referral attention)
    # Fresh cases for the submits, as bench.sh makes them (each run screens new ones).
    first=$(psql "$CASEHOST_DB" -qtAX -c "
        WITH p AS (
            INSERT INTO casehost.people (agency_id, given_name, estimated_age, estimated_age_high,
                                         estimated_on)
            SELECT 1, 'growth submit ' || g, 16, 16, current_date FROM generate_series(1, 801) g
            RETURNING id),
        c AS (INSERT INTO casehost.cases (agency_id, title, subject_id, state)
              SELECT 1, 'growth submit', p.id, 'CA' FROM p RETURNING id)
        SELECT min(id) FROM c" | tail -1)
    ratio=$("$build/bench/screening_bench" "$BENCH_INSTRUMENTS" 200 1 "$user" "$first" \
        "$root/conf/trafficking/destinations.cfg" "$root/conf/trafficking/routing.cfg" 2>/dev/null |
        sed -nE 's/.*submit \+ route.*ratio ([0-9.]+).*/\1/p' | head -1)
    printf '%-9s %14s %20s %20s %16s\n' "$n" "$due" "$list" "$attention" "${ratio:--}"
done
