-- 028_case_facts_steps.sql: trafficking.case_facts_v1 (012) in steps. Same
-- signature, JSON (every key, in the same order, with the same text), NULL
-- for a case the caller cannot see, definer rights and grants (CREATE OR
-- REPLACE keeps the owner and grants); only the cost per call changes.
--
-- It was one statement of about 60 plan nodes. Profile before (perf on the
-- backend, a case without a person): more than half of its time went to
-- starting the executor for that plan (ExecInitNode), most of it for parts
-- that read the person (age, consents, safe contact, declines, exploitation)
-- and come out empty for a case with nobody linked yet, as a case usually
-- is when it is opened. Backend CPU per call, warm: 360-376 us; the first
-- call of a session (every CLI command): 38 ms.
--
-- Now: the case row first; the person's part only when the case names one
-- (one statement); then the screenings and the ledger. What each part reads,
-- and every policy it reads under, is unchanged. The figures after are in
-- the report of the change.
CREATE OR REPLACE FUNCTION trafficking.case_facts_v1(p_case bigint) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    utc constant text := 'YYYY-MM-DD"T"HH24:MI:SS"Z"';
    c casehost.plugin_case_v1;
    case_ids bigint[];
    who_age integer;
    who_age_known boolean;
    who_age_estimated boolean;
    who_age_high integer;
    who_age_disputed boolean;
    who_gender text;
    who_exploitation json;
    who_consents json;
    who_no_contact boolean;
    who_controls_phone boolean;
    who_channels json;
    who_declines json;
BEGIN
    SELECT * INTO c FROM casehost.plugin_case_v1 v WHERE v.id = p_case;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- The cases whose ledger counts: this one, and the person's other cases.
    IF c.subject_id IS NULL THEN
        case_ids := ARRAY[c.id];
    ELSE
        case_ids := trafficking.ledger_cases(c.id, c.subject_id);
        SELECT p.age, p.date_of_birth IS NOT NULL,
               p.date_of_birth IS NULL AND p.estimated_age IS NOT NULL, p.age_high,
               p.age_disputed, p.gender_identity,
               (SELECT json_build_object('from', to_char(ex.started_on, 'YYYY-MM-DD'),
                                         'age', ex.low, 'age_high', ex.high)
                  FROM (SELECT e.started_on, a.low, a.high
                          FROM trafficking.exploitation_episodes e,
                               casehost.person_age_on_v1(p.id, e.started_on) a
                         WHERE e.case_id = ANY (case_ids) AND e.removed_at IS NULL
                         ORDER BY e.started_on, e.id LIMIT 1) ex),
               (SELECT json_agg(json_build_object('id', k.id, 'purpose', k.purpose,
                           'recipients', k.recipients,
                           'active', k.revoked_at IS NULL AND k.expires_at > now()
                                         AND k.granted_at <= now(),
                           'granted_at', to_char(k.granted_at AT TIME ZONE 'UTC', utc),
                           'expires_at', to_char(k.expires_at AT TIME ZONE 'UTC', utc),
                           'revoked_at', to_char(k.revoked_at AT TIME ZONE 'UTC', utc))
                           ORDER BY k.id)
                  FROM trafficking.consents k WHERE k.person_id = p.id),
               sc.do_not_contact, sc.trafficker_controls_phone, to_json(sc.safe_channels),
               (SELECT json_agg(json_build_object('id', d.id, 'recipient', d.recipient,
                           'declined_at', to_char(d.declined_at AT TIME ZONE 'UTC', utc))
                           ORDER BY d.id)
                  FROM trafficking.declines d
                 WHERE d.person_id = p.id AND d.ended_at IS NULL)
          INTO who_age, who_age_known, who_age_estimated, who_age_high, who_age_disputed,
               who_gender, who_exploitation, who_consents, who_no_contact, who_controls_phone,
               who_channels, who_declines
          FROM casehost.plugin_person_v2 p
          LEFT JOIN trafficking.safe_contact sc ON sc.person_id = p.id
         WHERE p.id = c.subject_id;
    END IF;
    RETURN (
    WITH ss AS (SELECT * FROM trafficking.screenings
                 WHERE case_id = p_case AND state IN ('completed', 'stopped')
                   AND superseded_by IS NULL),
     s AS (SELECT * FROM ss ORDER BY finished_at DESC, id DESC LIMIT 1)
    SELECT json_build_object(
       'case_id', c.id,
       'closed', c.status = 'closed',
       'age', who_age,
       'age_known', coalesce(who_age_known, false),
       'age_estimated', coalesce(who_age_estimated, false),
       'age_high', who_age_high,
       'age_disputed', coalesce(who_age_disputed, false),
       'exploitation', who_exploitation,
       'missing', c.runaway_start IS NOT NULL AND c.runaway_return IS NULL,
       'agency_kind', (SELECT a.kind FROM casehost.plugin_agency_v1 a WHERE a.id = c.agency_id),
       'gender', who_gender, 'state', c.state, 'county', c.county,
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
       'consents', coalesce(who_consents, '[]'::json),
       'safe_contact', json_build_object(
          'do_not_contact', coalesce(who_no_contact, false),
          'trafficker_controls_phone', coalesce(who_controls_phone, false),
          'safe_channels', coalesce(who_channels, '[]'::json)),
       'now', to_char(now() AT TIME ZONE 'UTC', utc),
       'declines', coalesce(who_declines, '[]'::json),
       'ledger', coalesce((SELECT json_agg(json_build_object('referral', e.referral_id,
                       'case', e.case_id, 'destination', e.destination_id,
                       'kind', e.destination_kind, 'basis', e.basis, 'state', e.state,
                       'episode', to_char(e.episode AT TIME ZONE 'UTC', utc),
                       'evidence', to_json(e.evidence), 'disclosure', e.disclosure,
                       'delivered_at', to_char(e.delivered_at AT TIME ZONE 'UTC', utc),
                       'outbox', e.outbox) ORDER BY e.referral_id)
                   FROM trafficking.ledger_entries(case_ids, c.subject_id) e), '[]'::json),
       'episode', to_char(c.runaway_start AT TIME ZONE 'UTC', utc),
       'screenings', coalesce((SELECT json_agg(json_build_object('id', x.id,
                       'instrument', x.instrument_id, 'version', x.instrument_version,
                       'result', x.result, 'band', x.band, 'score', x.score,
                       'stopped', x.state = 'stopped',
                       'finished_at', to_char(x.finished_at AT TIME ZONE 'UTC', utc),
                       'indicators', coalesce(x.outcome->'concerns', '[]'::jsonb))
                       ORDER BY x.finished_at DESC, x.id DESC) FROM ss x), '[]'::json)));
END
$$;
