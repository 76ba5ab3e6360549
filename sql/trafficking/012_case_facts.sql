-- 012_case_facts.sql: the whole picture routing reads, in one round trip,
-- and deadlines that run from the event.
--
-- trafficking.case_facts_v1 (006) returns, besides what it returned:
--   age_high, age_disputed       the age range today and a dispute (core 009)
--   exploitation                 the earliest recorded exploitation episode
--                                of the person's cases (010) and the age
--                                range then: {from, age, age_high}, or null
--   missing                      a runaway episode without a return
--   agency_kind                  the case's agency's kind (its duties)
--   now                          the decision time (UTC)
--   consents[]                   with granted_at, expires_at, revoked_at
--   declines[]                   the person's active declines
--   ledger[]                     earlier referrals of the person's cases
--                                (trafficking.ledger_entries), delivered or not
--   episode                      the current runaway episode's start, or null
--   screenings[]                 every current finished screening, newest first
-- so that `route what-if` can be given exactly what live routing reads
-- (what-if and live routing share one reader, routing_input_from_json). It
-- stays a reading of flags and facts: destinations, states and times, never
-- a phone number, an address, a note or an answer.
--
-- Deadlines: a suggested screening and a referral count their hours from
-- the event they are about when the trigger or rule says so (due_from:
-- runaway_start or runaway_return), never later than now + hours. A return
-- recorded a week late makes its screening overdue at once.

-- A screening's pathway may be possibly_minor (an age range reaching under
-- 18, or a disputed age: screening/scoring.h "Age").
ALTER TABLE trafficking.screenings DROP CONSTRAINT screenings_pathway_check;
ALTER TABLE trafficking.screenings ADD CONSTRAINT screenings_pathway_check
    CHECK (pathway IN ('minor', 'adult', 'minor_unknown_age', 'possibly_minor'));

CREATE OR REPLACE FUNCTION trafficking.case_facts_v1(p_case bigint) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    utc constant text := 'YYYY-MM-DD"T"HH24:MI:SS"Z"';
BEGIN
    RETURN (
    WITH c AS (SELECT * FROM casehost.plugin_case_v1 WHERE id = p_case),
     p AS (SELECT p.* FROM casehost.plugin_person_v2 p JOIN c ON c.subject_id = p.id),
     cases AS (SELECT trafficking.ledger_cases(c.id, c.subject_id) AS ids FROM c),
     ss AS (SELECT * FROM trafficking.screenings
             WHERE case_id = p_case AND state IN ('completed', 'stopped') AND superseded_by IS NULL),
     s AS (SELECT * FROM ss ORDER BY finished_at DESC, id DESC LIMIT 1),
     sc AS (SELECT sc.* FROM trafficking.safe_contact sc JOIN p ON p.id = sc.person_id),
     ex AS (SELECT e.started_on, a.low, a.high
              FROM trafficking.exploitation_episodes e, cases, p,
                   casehost.person_age_on_v1(p.id, e.started_on) a
             WHERE e.case_id = ANY (cases.ids) AND e.removed_at IS NULL
             ORDER BY e.started_on, e.id LIMIT 1)
    SELECT json_build_object(
       'case_id', c.id,
       'closed', c.status = 'closed',
       'age', (SELECT p.age FROM p),
       'age_known', coalesce((SELECT p.date_of_birth IS NOT NULL FROM p), false),
       'age_estimated', coalesce((SELECT p.date_of_birth IS NULL AND p.estimated_age IS NOT NULL
                                   FROM p), false),
       'age_high', (SELECT p.age_high FROM p),
       'age_disputed', coalesce((SELECT p.age_disputed FROM p), false),
       'exploitation', (SELECT json_build_object('from', to_char(ex.started_on, 'YYYY-MM-DD'),
                                                 'age', ex.low, 'age_high', ex.high) FROM ex),
       'missing', c.runaway_start IS NOT NULL AND c.runaway_return IS NULL,
       'agency_kind', (SELECT a.kind FROM casehost.plugin_agency_v1 a WHERE a.id = c.agency_id),
       'gender', (SELECT p.gender_identity FROM p), 'state', c.state, 'county', c.county,
       'flags', json_build_object(
          'foreign_national', 'foreign_national' = ANY (c.flags),
          'imminent_danger', 'imminent_danger' = ANY (c.flags),
          'recruitment', 'recruitment' = ANY (c.flags),
          'control', 'control' = ANY (c.flags),
          'runaway_return', c.runaway_return IS NOT NULL,
          'cw_history', c.cw_history, 'jj_history', c.jj_history),
       'runaway_episodes', CASE WHEN c.runaway_start IS NOT NULL THEN 1 ELSE 0 END,
       'screening', (SELECT json_build_object('id', s.id, 'instrument', s.instrument_id,
                       'version', s.instrument_version, 'result', s.result, 'band', s.band,
                       'score', s.score, 'stopped', s.state = 'stopped') FROM s),
       'indicators', coalesce((SELECT s.outcome->'concerns' FROM s), '[]'::jsonb),
       'domain_scores', (SELECT s.outcome->'domain_scores' FROM s),
       'consents', coalesce((SELECT json_agg(json_build_object('id', k.id, 'purpose', k.purpose,
                       'recipients', k.recipients,
                       'active', k.revoked_at IS NULL AND k.expires_at > now()
                                     AND k.granted_at <= now(),
                       'granted_at', to_char(k.granted_at AT TIME ZONE 'UTC', utc),
                       'expires_at', to_char(k.expires_at AT TIME ZONE 'UTC', utc),
                       'revoked_at', to_char(k.revoked_at AT TIME ZONE 'UTC', utc)) ORDER BY k.id)
                   FROM trafficking.consents k JOIN p ON p.id = k.person_id), '[]'::json),
       'safe_contact', json_build_object(
          'do_not_contact', coalesce((SELECT do_not_contact FROM sc), false),
          'trafficker_controls_phone', coalesce((SELECT trafficker_controls_phone FROM sc), false),
          'safe_channels', coalesce((SELECT to_json(safe_channels) FROM sc), '[]'::json)),
       'now', to_char(now() AT TIME ZONE 'UTC', utc),
       'declines', coalesce((SELECT json_agg(json_build_object('id', d.id, 'recipient', d.recipient,
                       'declined_at', to_char(d.declined_at AT TIME ZONE 'UTC', utc)) ORDER BY d.id)
                   FROM trafficking.declines d JOIN p ON p.id = d.person_id
                  WHERE d.ended_at IS NULL), '[]'::json),
       'ledger', coalesce((SELECT json_agg(json_build_object('referral', e.referral_id,
                       'case', e.case_id, 'destination', e.destination_id,
                       'kind', e.destination_kind, 'basis', e.basis, 'state', e.state,
                       'episode', to_char(e.episode AT TIME ZONE 'UTC', utc),
                       'evidence', to_json(e.evidence), 'disclosure', e.disclosure,
                       'delivered_at', to_char(e.delivered_at AT TIME ZONE 'UTC', utc),
                       'outbox', e.outbox) ORDER BY e.referral_id)
                   FROM cases, trafficking.ledger_entries(cases.ids, c.subject_id) e), '[]'::json),
       'episode', to_char(c.runaway_start AT TIME ZONE 'UTC', utc),
       'screenings', coalesce((SELECT json_agg(json_build_object('id', x.id,
                       'instrument', x.instrument_id, 'version', x.instrument_version,
                       'result', x.result, 'band', x.band, 'score', x.score,
                       'stopped', x.state = 'stopped',
                       'finished_at', to_char(x.finished_at AT TIME ZONE 'UTC', utc),
                       'indicators', coalesce(x.outcome->'concerns', '[]'::jsonb))
                       ORDER BY x.finished_at DESC, x.id DESC) FROM ss x), '[]'::json))
      FROM c);
END
$$;

-- ------------------------------------------------------------ deadlines ---

-- When something about case p_case is due: p_hours after the event p_from
-- names (now, runaway_start, runaway_return; a time the case lacks is now),
-- and never later than now + p_hours (a forged or future time cannot
-- postpone a duty).
CREATE FUNCTION trafficking.due_at(p_case bigint, p_from text, p_hours integer)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    anchor timestamptz;
BEGIN
    IF coalesce(p_from, 'now') NOT IN ('now', 'runaway_start', 'runaway_return') THEN
        RAISE EXCEPTION 'due_from "%" is not now, runaway_start or runaway_return', p_from
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT CASE p_from WHEN 'runaway_start' THEN c.runaway_start
                       WHEN 'runaway_return' THEN c.runaway_return END
      INTO anchor FROM casehost.plugin_case_v1 c WHERE c.id = p_case;
    RETURN least(coalesce(anchor, now()), now()) + make_interval(hours => p_hours);
END
$$;

-- A suggestion whose hours count from an event (the trigger's due_from).
-- Returns the new screening (NULL when one for the instrument is open), its
-- due time and whether it is overdue already.
CREATE FUNCTION trafficking.screening_suggest_from_v1(p_case bigint, p_instrument text,
                                                      p_trigger text, p_reason text,
                                                      p_due_hours integer, p_due_from text,
                                                      OUT screening bigint, OUT due_at timestamptz,
                                                      OUT overdue boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
BEGIN
    PERFORM casehost.case_check_v1(p_case);
    IF p_due_hours IS NULL OR p_due_hours NOT BETWEEN 0 AND 8760 THEN
        RAISE EXCEPTION 'a screening is due within 0 to 8760 hours, not %', p_due_hours
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM trafficking.live_instruments
                    WHERE generation = trafficking.live_generation() AND id = p_instrument) THEN
        RAISE EXCEPTION 'instrument "%" is not in the live configuration', p_instrument
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    due_at := trafficking.due_at(p_case, p_due_from, p_due_hours);
    overdue := due_at < now();
    INSERT INTO trafficking.screenings (agency_id, case_id, instrument_id, state, trigger, reason,
                                        due_at, created_by)
    VALUES (me.agency_id, p_case, p_instrument, 'suggested', p_trigger, p_reason, due_at,
            me.user_id)
    ON CONFLICT (case_id, instrument_id) WHERE state IN ('suggested', 'in_progress') DO NOTHING
    RETURNING id INTO screening;
    IF screening IS NOT NULL THEN
        INSERT INTO trafficking.screening_history (screening_id, agency_id, actor_id, to_state,
                                                   detail)
        VALUES (screening, me.agency_id, me.user_id, 'suggested',
                p_trigger || ': ' || p_reason
                || CASE WHEN overdue THEN ' (overdue on suggestion: due '
                                          || to_char(due_at, 'YYYY-MM-DD HH24:MI') || ')'
                        ELSE '' END);
        PERFORM casehost.audit('suggest', 'screening', screening, p_instrument);
    END IF;
END
$$;

-- The 005 form, hours from now: one body serves both.
CREATE OR REPLACE FUNCTION trafficking.screening_suggest(p_case bigint, p_instrument text,
                                                         p_trigger text, p_reason text,
                                                         p_due_hours integer)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.screening
      FROM trafficking.screening_suggest_from_v1(p_case, p_instrument, p_trigger, p_reason,
                                                 p_due_hours, 'now') s
$$;

-- As 007's, but due_at from trafficking.due_at (the rule's due_from).
CREATE OR REPLACE FUNCTION trafficking.referral_create(p_case bigint, p_decision bigint, r jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rid bigint;
    existing trafficking.referrals;
    key text := 'ref-' || gen_random_uuid();
BEGIN
    IF r->>'basis' = 'consent' AND (trafficking.decline_of(
           (SELECT c.subject_id FROM casehost.plugin_case_v1 c WHERE c.id = p_case),
           r->>'destination', r->>'kind')).id IS NOT NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO trafficking.referrals (agency_id, case_id, decision_id, destination_id,
                                       destination_kind, rule, basis, consent_id, urgency,
                                       due_at, ack_sla_hours, state, fields, escalation_of,
                                       follow_up_owner, idempotency_key)
    SELECT casehost.current_agency(), p_case, p_decision, r->>'destination', r->>'kind',
           r->>'rule', r->>'basis', nullif((r->>'consent')::bigint, 0), r->>'urgency',
           trafficking.due_at(p_case, r->>'due_from', (r->>'due_hours')::integer),
           (r->>'ack_sla_hours')::integer, r->>'state',
           ARRAY(SELECT jsonb_array_elements_text(r->'fields')),
           nullif((r->>'escalation_of')::bigint, 0),
           (SELECT c.assignee_id FROM casehost.plugin_case_v1 c WHERE c.id = p_case), key
    ON CONFLICT (case_id, destination_id) WHERE state IN ('pending_consent', 'queued')
    DO NOTHING
    RETURNING id INTO rid;

    IF rid IS NULL THEN
        SELECT * INTO existing FROM trafficking.referrals
         WHERE case_id = p_case AND destination_id = r->>'destination'
           AND state IN ('pending_consent', 'queued') FOR UPDATE;
        IF existing.state = 'pending_consent' AND r->>'state' = 'queued'
           AND existing.basis = r->>'basis' THEN
            UPDATE trafficking.referrals
               SET consent_id = nullif((r->>'consent')::bigint, 0), decision_id = p_decision
             WHERE id = existing.id;
            PERFORM trafficking.referral_move(existing.id, 'queued', 'consent now covers it');
            rid := existing.id;
            key := existing.idempotency_key;
        ELSE
            RETURN NULL;
        END IF;
    ELSE
        INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, to_state,
                                                  detail)
        VALUES (rid, casehost.current_agency(), casehost.current_actor(), r->>'state',
                'rule ' || (r->>'rule') || ', basis ' || (r->>'basis'));
        PERFORM casehost.audit('create', 'referral', rid, r->>'destination');
    END IF;

    IF r->>'state' = 'queued' THEN
        INSERT INTO trafficking.outbox (agency_id, referral_id, destination_id, extra,
                                        idempotency_key)
        VALUES (casehost.current_agency(), rid, r->>'destination',
                jsonb_build_object('urgency', r->>'urgency', 'basis', r->>'basis')
                || coalesce(r->'payload', '{}'::jsonb),
                key);
    END IF;
    RETURN rid;
END
$$;

REVOKE ALL ON FUNCTION trafficking.due_at(bigint, text, integer),
    trafficking.screening_suggest_from_v1(bigint, text, text, text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.screening_suggest_from_v1(bigint, text, text, text, integer,
                                                                text) TO casehost_app;
