#!/usr/bin/env bash
# bench-growth.sh BUILD CONFIG USER: how the commands a caseworker runs all
# day grow with the data stored. Called by bench.sh on its private server
# (CASEHOST_DB, PGPASSFILE set) after the bench agency (id 1) exists. Grows
# that agency by SQL to each size (default 10k, 100k and 1M cases; override
# with BENCH_GROWTH_SIZES), with a suggested screening on one case in ten
# (half of them overdue), a sent referral (with its outbox row) on another
# one in ten, and one case in a hundred assigned to USER, each with a sent
# referral (`referral list --case` and `case show` read one of those: a
# caseworker may see only their own cases). Then times, as USER, whole
# commands (exec, connect, plugin load, query, commit): `screen due`,
# `referral list --case`, `referral attention`, `case show` (what the case
# page shows, with the case's report ledger), `case list` and `case list
# --mine` (the Cases and My work pages), and the screening submit ratio of
# screening_bench at 1 client, with its routed submits per second (the
# ratio's baseline, a commit-bound single-row INSERT, swings with the disk
# more than the submit does: the rate is the steadier reading of growth).
# Each time is the median of 7 runs. Prints figures, each also as a FIGURE
# line (as bench/figure.h prints them), and how much each grew from the
# first size to the last; asserts nothing.
set -euo pipefail
shopt -s inherit_errexit # a command that fails inside $(...) (a timed run) stops the bench

build=$1
cfg=$2
user=$3
root=$(pwd)
sizes=${BENCH_GROWTH_SIZES:-10000 100000 1000000}

run() { CASEHOST_DB="$CASEHOST_DB user=$user" "$build/casehost" -c "$cfg" "$@" >/dev/null; }

# fig NAME GOAL VALUE: a figure line for bench.sh's summary table.
fig() { printf 'FIGURE\t%s\t%s\t%s\n' "$1" "$2" "$3"; }

# 10000 -> 10k, 1000000 -> 1M: sizes as the issue names them.
short() {
    if [ $(($1 % 1000000)) = 0 ]; then echo "$(($1 / 1000000))M"
    elif [ $(($1 % 1000)) = 0 ]; then echo "$(($1 / 1000))k"
    else echo "$1"; fi
}

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

# Adds $1 people, each with a case; one case in $2 is USER's. One case in
# ten gets a suggested screening; another one in ten, and each of USER's, a
# sent referral with its outbox row.
add_cases() {
    psql "$CASEHOST_DB" -qtAX -v ON_ERROR_STOP=1 <<SQL >/dev/null
WITH p AS (
    INSERT INTO casehost.people (agency_id, given_name, estimated_age, estimated_age_high,
                                 estimated_on)
    SELECT 1, 'growth ' || g, 15, 15, current_date FROM generate_series(1, $1) g
    RETURNING id),
c AS (
    INSERT INTO casehost.cases (agency_id, title, subject_id, state, assignee_id)
    SELECT 1, 'growth', p.id, 'CA', CASE WHEN p.id % $2 = 0 THEN $user_id END
      FROM p RETURNING id, assignee_id),
s AS (
    INSERT INTO trafficking.screenings (agency_id, case_id, instrument_id, state, trigger, due_at)
    SELECT 1, c.id, 'youth_quick', 'suggested', 'runaway_return',
           now() + ((c.id % 48) - 24) * interval '1 hour'
      FROM c WHERE c.id % 10 = 0
    RETURNING 1),
r AS (
    INSERT INTO trafficking.referrals (agency_id, case_id, destination_id, destination_kind,
                                       rule, basis, urgency, due_at, ack_sla_hours, state, fields,
                                       idempotency_key, sent_at)
    SELECT 1, c.id, 'nhth', 'hotline', 'growth', 'mandatory_report', 'routine',
           now() + interval '72 hours', 72, 'sent', '{case_id}', 'growth-' || c.id,
           now() - interval '1 hour'
      FROM c WHERE c.id % 10 = 5 OR c.assignee_id IS NOT NULL
    RETURNING id, case_id, idempotency_key, sent_at)
INSERT INTO trafficking.outbox (agency_id, referral_id, destination_id, idempotency_key, state,
                                sent_at, extra)
SELECT 1, r.id, 'nhth', r.idempotency_key, 'sent', r.sent_at, '{}' FROM r;
SQL
}

# Adds cases (add_cases, one in a hundred USER's) until agency 1 has $1.
grow_to() {
    local have
    have=$(psql "$CASEHOST_DB" -qtAX -c "SELECT count(*) FROM casehost.cases WHERE agency_id = 1")
    if [ "$1" -gt "$have" ]; then add_cases $(($1 - have)) 100; fi
    # Vacuumed and analysed before anything is timed: the bulk insert would
    # otherwise set autovacuum to work on the new rows during the timings,
    # which measures the load's aftermath, not the size (a table grows a
    # case at a time in life).
    psql "$CASEHOST_DB" -qtAX -v ON_ERROR_STOP=1 \
        -c "VACUUM (ANALYZE) casehost.people, casehost.cases, trafficking.screenings, trafficking.referrals, trafficking.outbox" >/dev/null
}

# USER's id, for the cases assigned to them (My work must not time an empty list).
user_id=$(psql "$CASEHOST_DB" -qtAX -v ON_ERROR_STOP=1 -v role="$user" \
    <<< "SELECT id FROM casehost.users WHERE db_role = :'role'")
if [ -z "$user_id" ]; then
    echo "bench-growth: no user with the role $user" >&2
    exit 1
fi
# One case of USER's with a referral even when the agency is already past the first size.
add_cases 1 1

printf '%-9s %14s %17s %13s %13s %13s %13s %14s %10s\n' "cases" "screen due ms" \
    "referral list ms" "attention ms" "case show ms" "case list ms" "my cases ms" "submit/INSERT" \
    "submits/s"
first_n="" at_first=() at_last=()
for n in $sizes; do
    grow_to "$n"
    # A case of USER's with a sent referral: a caseworker may see only their own.
    case_id=$(psql "$CASEHOST_DB" -qtAX -c "SELECT max(r.case_id) FROM trafficking.referrals r
        JOIN casehost.cases c ON c.id = r.case_id WHERE c.assignee_id = $user_id")
    [ -n "$case_id" ] || { echo "bench-growth: no case of $user with a referral" >&2; exit 1; }
    due=$(median_ms run screen due)
    list=$(median_ms run referral list --case "$case_id")
    attention=$(median_ms run referral attention)
    shown=$(median_ms run case show "$case_id")
    listed=$(median_ms run case list)
    mine=$(median_ms run case list --mine)
    # Fresh cases for the submits, as bench.sh makes them (each run screens new ones).
    first=$(psql "$CASEHOST_DB" -qtAX -c "
        WITH p AS (
            INSERT INTO casehost.people (agency_id, given_name, estimated_age, estimated_age_high,
                                         estimated_on)
            SELECT 1, 'growth submit ' || g, 16, 16, current_date FROM generate_series(1, 401) g
            RETURNING id),
        c AS (INSERT INTO casehost.cases (agency_id, title, subject_id, state)
              SELECT 1, 'growth submit', p.id, 'CA' FROM p RETURNING id)
        SELECT min(id) FROM c" | tail -1)
    # At 1 client it screens 2 * 200 + 1 fresh cases; its routed figure line is the one kept.
    # Its value reads "RATIO (RATE/s vs BASE tx/s)".
    routed=$("$build/bench/screening_bench" "$BENCH_INSTRUMENTS" 200 1 "$user" "$first" \
        "$root/conf/trafficking/destinations.cfg" "$root/conf/trafficking/routing.cfg" 2>/dev/null |
        awk -F'\t' '$1 == "FIGURE" && $2 ~ /^screening submit \+ .*, 1 client$/ { print $4 }' |
        head -1)
    ratio=$(echo "$routed" | cut -d' ' -f1)
    rate=$(echo "$routed" | cut -d' ' -f2 | tr -d '(' | sed 's,/s$,,')
    printf '%-9s %14s %17s %13s %13s %13s %13s %14s %10s\n' "$n" "$due" "$list" "$attention" \
        "$shown" "$listed" "$mine" "${ratio:--}" "${rate:--}"
    at="$(short "$n") stored cases"
    fig "screen due (whole command), $at" "flat" "$due ms"
    fig "referral list --case (whole command), $at" "flat" "$list ms"
    fig "referral attention (whole command), $at" "flat" "$attention ms"
    fig "case show, a case with a sent referral (whole command), $at" "flat" "$shown ms"
    fig "case list (whole command), $at" "flat" "$listed ms"
    fig "case list --mine (whole command), $at" "flat" "$mine ms"
    fig "screening submit + route + outbox / bare INSERT, 1 client, $at" ">= 0.8, flat" \
        "${ratio:-not measured}"
    fig "screening submit + route + outbox, 1 client, $at" "flat" "${rate:-not measured}/s"
    [ -n "$first_n" ] || {
        first_n=$n
        at_first=("$due" "$list" "$attention" "$shown" "$listed" "$mine" "${ratio:-}" "${rate:-}")
    }
    last_n=$n at_last=("$due" "$list" "$attention" "$shown" "$listed" "$mine" "${ratio:-}"
        "${rate:-}")
done

# Growth from the first size to the last: 1.00x is flat.
if [ -n "$first_n" ] && [ "$first_n" != "$last_n" ]; then
    names=("screen due" "referral list --case" "referral attention" "case show" "case list"
           "case list --mine" "screening submit ratio" "screening submits per second")
    for i in 0 1 2 3 4 5 6 7; do
        g=$(awk -v a="${at_first[$i]}" -v b="${at_last[$i]}" \
            'BEGIN { if (a + 0 > 0 && b != "") printf "%.2fx", b / a; else print "-" }')
        fig "${names[$i]}, $(short "$last_n") / $(short "$first_n") stored cases" "~1.00x (flat)" "$g"
    done
fi
