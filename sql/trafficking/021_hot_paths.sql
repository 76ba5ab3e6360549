-- 021_hot_paths.sql: the plugin's hot SQL functions as PL/pgSQL, and the
-- dispatchers' claims read in their own order from an index. Same
-- signatures, results, errors, volatility and grants (CREATE OR REPLACE
-- keeps the owner and grants); only the cost per call changes.
--
-- A LANGUAGE sql function that cannot be inlined (here: a SET clause) is
-- parsed and planned again on every call; PL/pgSQL keeps its plans for the
-- session. Self time per call before (pg_stat_user_functions, PostgreSQL
-- 15): ledger_cases 0.42 ms (twice per routed submit), evidence_classes
-- 0.26 ms, decline_of 0.26 ms, report_lock 0.15 ms, require_service
-- 0.06 ms (twice per dispatched referral).

-- Serialises reports and declines of one person (or of a case without one).
CREATE OR REPLACE FUNCTION trafficking.report_lock(p_case bigint, p_person bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(
        'trafficking report ' || coalesce('person ' || p_person, 'case ' || p_case), 0));
END
$$;

-- The evidence classes of a decision's evidence (see 007): sorted, without repeats.
CREATE OR REPLACE FUNCTION trafficking.evidence_classes(j jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT coalesce(array_agg(DISTINCT s.c ORDER BY s.c), '{}')
              FROM (SELECT e AS c
                      FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(j) = 'array' THEN j
                                                          ELSE '[]' END) e
                    UNION ALL
                    SELECT CASE WHEN jsonb_typeof(x.v) = 'string' THEN x.k || ':' || (x.v #>> '{}')
                                ELSE x.k END
                      FROM jsonb_each(CASE WHEN jsonb_typeof(j) = 'object' THEN j
                                           ELSE '{}' END) x(k, v)
                     WHERE x.v = 'true'::jsonb
                        OR (jsonb_typeof(x.v) = 'number' AND (x.v #>> '{}')::numeric > 0)
                        OR (jsonb_typeof(x.v) = 'string' AND (x.v #>> '{}') NOT IN ('', 'none', 'no'))) s
             WHERE s.c <> '');
END
$$;

-- The cases whose reports count for case p_case: itself and the other cases
-- of its person p_person that the caller may see.
CREATE OR REPLACE FUNCTION trafficking.ledger_cases(p_case bigint, p_person bigint) RETURNS bigint[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN ARRAY(SELECT c.id FROM casehost.plugin_case_v1 c
                  WHERE c.id = p_case OR c.subject_id = p_person ORDER BY c.id);
END
$$;

-- The person's active decline that keeps a consent-based referral from
-- destination p_dest (of kind p_kind), or NULL (see 007). NULL itself, not a
-- row of NULLs, when there is none.
CREATE OR REPLACE FUNCTION trafficking.decline_of(p_person bigint, p_dest text, p_kind text)
RETURNS trafficking.declines
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_decline trafficking.declines;
BEGIN
    SELECT d.* INTO found_decline FROM trafficking.declines d
     WHERE d.person_id = p_person AND d.ended_at IS NULL
       AND (d.recipient = p_dest
            OR (d.recipient = 'kind:' || p_kind
                AND NOT EXISTS (SELECT 1 FROM trafficking.consents k
                                 WHERE k.person_id = p_person AND k.granted_at > d.declined_at
                                   AND k.revoked_at IS NULL AND k.expires_at > now()
                                   AND p_dest = ANY (k.recipients))))
     ORDER BY d.id LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN found_decline;
END
$$;

-- Dispatch and escalation: for services (and admins), never for others.
CREATE OR REPLACE FUNCTION trafficking.require_service() RETURNS casehost.identities
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN casehost.require_kind(ARRAY['service', 'admin'], 'dispatch and escalation');
END
$$;

-- ------------------------------------------------------- claim order ---
-- outbox_claim_v1 and notice_claim_v1 take the first pending row by
-- (next_attempt_at, id). On an index of next_attempt_at alone every claim
-- read and sorted all the due rows that share the first due time (all
-- referrals of one transaction share it): O(pending) per claim, 1.97 ms self
-- per claim at 1000 pending, 0.49 ms with this index. agency_id comes first:
-- row-level security makes every service read its own agency's rows, so one
-- agency's backlog is never scanned for another.
CREATE INDEX outbox_ready_order ON trafficking.outbox (agency_id, next_attempt_at, id)
    WHERE state = 'pending';
DROP INDEX trafficking.outbox_ready;

CREATE INDEX notices_ready_order ON trafficking.notices (agency_id, next_attempt_at, id)
    WHERE state = 'pending';
DROP INDEX trafficking.notices_ready;
