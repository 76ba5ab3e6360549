-- 023_verdict_reads.sql: a report verdict reads the report ledger once.
--
-- trafficking.report_verdict (007) decides, for each referral a routing
-- decision proposes, whether it is a new report, one still open, or one
-- already delivered. It asked trafficking.ledger_entries the same question
-- six times (once per test), each call a query of four tables under
-- row-level security: 12 readings of the ledger for a routed screening that
-- proposes two referrals, about 0.2 ms each. Here it reads the ledger once
-- into an array and asks the array. The function is STABLE and writes
-- nothing between its tests, so all six always saw the same rows: the
-- verdicts are the same, row for row (check_ledger).
--
-- Its first test read the case's own referrals (ledger_entries(ARRAY[case],
-- NULL)); those are the rows of the one reading whose case is the case, as
-- the case is always one of p_cases (ledger_cases starts from it). Should a
-- caller ever pass p_cases without the case, that test reads the case as it
-- did before.

-- One row of trafficking.ledger_entries, so that a reading can be kept.
CREATE TYPE trafficking.ledger_entry AS (
    referral_id bigint, case_id bigint, person_id bigint, destination_id text,
    destination_kind text, basis text, rule text, state text, episode timestamptz,
    evidence text[], disclosure bigint, why text, forced_by bigint, force_reason text,
    created_at timestamptz, delivered_at timestamptz, outcome text, reference text,
    outbox text);

CREATE OR REPLACE FUNCTION trafficking.report_verdict(p_case bigint, p_cases bigint[],
                                                      p_person bigint, p_episode timestamptz,
                                                      p_evidence text[], p_disclosure bigint,
                                                      r jsonb, OUT action text, OUT reason text,
                                                      OUT referral bigint, OUT note text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dest text := r->>'destination';
    b text := r->>'basis';
    dec trafficking.declines := trafficking.decline_of(p_person, dest, r->>'kind');
    led trafficking.ledger_entry[] := ARRAY(
        SELECT ROW(e.*)::trafficking.ledger_entry
          FROM trafficking.ledger_entries(p_cases, p_person) e);
    own trafficking.ledger_entry[];
    o record;
    covered text[];
    disclosures bigint[];
    fresh text[];
    latest record;
BEGIN
    IF dec.id IS NOT NULL THEN
        IF b = 'consent' THEN
            action := 'declined';
            reason := format('not referred: the person declined %s on %s (decline %s); no '
                             'consent-based referral until they change their mind',
                             dec.recipient, to_char(dec.declined_at, 'YYYY-MM-DD'), dec.id);
            RETURN;
        END IF;
        note := format('the person declined %s on %s (decline %s), but %s is made whatever the '
                       'consent: the law overrides a refusal', dec.recipient,
                       to_char(dec.declined_at, 'YYYY-MM-DD'), dec.id,
                       CASE WHEN b = 'imminent_danger' THEN 'an emergency referral'
                            ELSE 'a mandatory report' END);
    END IF;

    -- An undelivered referral of this case to the destination stands.
    own := CASE WHEN p_case = ANY (p_cases) THEN led
                ELSE ARRAY(SELECT ROW(e.*)::trafficking.ledger_entry
                             FROM trafficking.ledger_entries(ARRAY[p_case], NULL) e) END;
    SELECT e.* INTO o FROM unnest(own) e
     WHERE e.case_id = p_case AND e.destination_id = dest
       AND e.state IN ('pending_consent', 'queued');
    IF FOUND THEN
        referral := o.referral_id;
        IF o.basis = 'consent' AND b <> 'consent' THEN
            action := 'replaces';
            reason := format('%s: referral %s (consent, %s, not delivered) gives way to it',
                             CASE WHEN b = 'imminent_danger' THEN 'emergency referral'
                                  ELSE 'mandatory report' END, o.referral_id, o.state);
        ELSE
            action := 'open';
            reason := format('the same report is open, not delivered yet: referral %s (%s%s); it '
                             'stands', o.referral_id, o.state,
                             CASE WHEN o.outbox IN ('failed', 'held')
                                  THEN ', delivery ' || o.outbox ELSE '' END);
        END IF;
        RETURN;
    END IF;
    -- ... and so does one of another case of the person for the same episode.
    SELECT e.* INTO o FROM unnest(led) e
     WHERE e.case_id <> p_case AND e.destination_id = dest AND e.basis = b
       AND e.state IN ('pending_consent', 'queued') AND e.episode IS NOT DISTINCT FROM p_episode
     ORDER BY e.referral_id LIMIT 1;
    IF FOUND THEN
        action := 'open';
        referral := o.referral_id;
        reason := format('the same report is open in case %s, not delivered yet: referral %s '
                         '(%s); it stands', o.case_id, o.referral_id, o.state);
        RETURN;
    END IF;

    -- Delivered reports to the destination on this basis, for this episode.
    SELECT coalesce(array_agg(DISTINCT u.cls), '{}') INTO covered
      FROM unnest(led) e, unnest(e.evidence) AS u(cls)
     WHERE e.destination_id = dest AND e.basis = b AND e.delivered_at IS NOT NULL
       AND e.episode IS NOT DISTINCT FROM p_episode;
    SELECT coalesce(array_agg(e.disclosure), '{}') INTO disclosures
      FROM unnest(led) e
     WHERE e.destination_id = dest AND e.basis = b AND e.delivered_at IS NOT NULL
       AND e.episode IS NOT DISTINCT FROM p_episode AND e.disclosure IS NOT NULL;
    SELECT e.* INTO latest FROM unnest(led) e
     WHERE e.destination_id = dest AND e.basis = b AND e.delivered_at IS NOT NULL
       AND e.episode IS NOT DISTINCT FROM p_episode
     ORDER BY e.delivered_at DESC, e.referral_id DESC LIMIT 1;
    IF FOUND THEN
        fresh := ARRAY(SELECT x FROM unnest(p_evidence) x WHERE NOT (x = ANY (covered)) ORDER BY x);
        reason := concat_ws('; ',
                            'new evidence: ' || nullif(array_to_string(fresh, ', '), ''),
                            CASE WHEN p_disclosure IS NOT NULL
                                      AND NOT (p_disclosure = ANY (disclosures))
                                 THEN format('new disclosure (screening %s)', p_disclosure) END);
        IF reason <> '' THEN
            action := 'new';
            reason := 'new report: ' || reason;
        ELSE
            action := 'already_reported';
            referral := latest.referral_id;
            reason := format('already reported to %s on %s (referral %s, %s)', dest,
                             to_char(latest.delivered_at, 'YYYY-MM-DD'), latest.referral_id,
                             latest.state);
        END IF;
        RETURN;
    END IF;

    action := 'new';
    IF EXISTS (SELECT 1 FROM unnest(led) e
                WHERE e.destination_id = dest AND e.basis = b AND e.delivered_at IS NOT NULL) THEN
        reason := CASE WHEN p_episode IS NULL
                       THEN 'new report: no runaway episode now; earlier reports were for one'
                       ELSE 'new report: new episode of ' || to_char(p_episode, 'YYYY-MM-DD') END;
    ELSE
        reason := 'first report';
    END IF;
END
$$;
