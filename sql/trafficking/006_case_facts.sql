-- 006_case_facts.sql: one path from a case to its facts. Screening triggers
-- and routing read a case through trafficking.case_facts_v1 alone, in one
-- round trip, and db/casefacts.c turns its answer into the facts both use,
-- so the two can never see two versions of one case. It reads the host only
-- through the plugin surface (core 007: plugin_case_v1, plugin_person_v1).
--
-- It replaces routing_input_v1 and is held as tightly: SECURITY DEFINER,
-- executable by people only (services are refused as for routing_input_v1),
-- and every row it reads is filtered by the caller's agency (FORCEd
-- row-level security keys on the acting role, not on the owner). Like
-- routing_input_v1 it shows flags and facts: which consents exist, with
-- their purpose and recipients, and which safe channels a person has, never
-- a phone number, address, code word or answer; so, like routing_input_v1,
-- it writes no audit record of its own.

-- The routing input (routing_input_from_json's shape) plus "closed". Age is
-- the surface's age; minor and pathway are derived in C (scoring_age_of).
CREATE FUNCTION trafficking.case_facts_v1(p_case bigint) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- PL/pgSQL, not SQL: every case event runs it, and PL/pgSQL keeps its
    -- plan for the session.
    RETURN (
    WITH c AS (SELECT * FROM casehost.plugin_case_v1 WHERE id = p_case),
     p AS (SELECT p.* FROM casehost.plugin_person_v1 p JOIN c ON c.subject_id = p.id),
     s AS (SELECT * FROM trafficking.screenings
            WHERE case_id = p_case AND state IN ('completed', 'stopped') AND superseded_by IS NULL
            ORDER BY finished_at DESC, id DESC LIMIT 1),
     sc AS (SELECT sc.* FROM trafficking.safe_contact sc JOIN p ON p.id = sc.person_id)
    SELECT json_build_object(
       'case_id', c.id,
       'closed', c.status = 'closed',
       'age', (SELECT p.age FROM p),
       'age_known', coalesce((SELECT p.date_of_birth IS NOT NULL FROM p), false),
       'age_estimated', coalesce((SELECT p.date_of_birth IS NULL AND p.estimated_age IS NOT NULL
                                   FROM p), false),
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
                                     AND k.granted_at <= now()) ORDER BY k.id)
                   FROM trafficking.consents k JOIN p ON p.id = k.person_id), '[]'::json),
       'safe_contact', json_build_object(
          'do_not_contact', coalesce((SELECT do_not_contact FROM sc), false),
          'trafficker_controls_phone', coalesce((SELECT trafficker_controls_phone FROM sc), false),
          'safe_channels', coalesce((SELECT to_json(safe_channels) FROM sc), '[]'::json)))
      FROM c);
END
$$;

-- One path: the routing-only reading is gone (nothing else called it).
DROP FUNCTION trafficking.routing_input_v1(bigint);

REVOKE ALL ON FUNCTION trafficking.case_facts_v1(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.case_facts_v1(bigint) TO casehost_app;
