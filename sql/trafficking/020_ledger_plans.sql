-- 020_ledger_plans.sql: the report ledger (007) read at the cost of the
-- person's own referrals, not of the agency's. Same rows, same row-level
-- security, same callers; only the plan changes.
--
-- A routing decision reads trafficking.ledger_entries six times per
-- referral it proposes (report_verdict) and once more per case_facts_v1.
-- As a SQL function with its own search_path it was planned afresh on every
-- call (about 1 ms with the row-level security of four tables), and its
-- "case in the cases OR referral in the person's reports" filter scanned
-- every referral of the agency. Here it is PL/pgSQL with one generic plan
-- per session (a custom plan per call costs more to make than to run, and
-- the cost model would always pick it), and the plan does not depend on the
-- statistics of the moment: the referral ids come first, from two indexed
-- lookups (referrals by case, reports by person) instead of that OR, then
-- each referral, its case, report and outbox row by key.

CREATE OR REPLACE FUNCTION trafficking.ledger_entries(p_cases bigint[], p_person bigint)
RETURNS TABLE (referral_id bigint, case_id bigint, person_id bigint, destination_id text,
               destination_kind text, basis text, rule text, state text, episode timestamptz,
               evidence text[], disclosure bigint, why text, forced_by bigint,
               force_reason text, created_at timestamptz, delivered_at timestamptz,
               outcome text, reference text, outbox text)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
    SELECT r.id, r.case_id, coalesce(l.person_id, c.subject_id), r.destination_id,
           r.destination_kind, r.basis, r.rule, r.state,
           CASE WHEN l.id IS NULL THEN c.runaway_start ELSE l.episode END,
           coalesce(l.evidence, '{}'), l.disclosure,
           coalesce(l.why, CASE WHEN r.escalation_of IS NOT NULL
                                THEN 'escalation of referral ' || r.escalation_of
                                ELSE 'made before the ledger' END),
           l.forced_by, l.force_reason, r.created_at, coalesce(r.sent_at, o.sent_at),
           coalesce(r.outcome, r.reason), r.reference, o.state
      FROM unnest(ARRAY(SELECT x.id FROM trafficking.referrals x
                         WHERE x.case_id = ANY (p_cases)
                        UNION
                        SELECT x.referral_id FROM trafficking.reports x
                         WHERE x.person_id = p_person)) AS k(id)
      -- Each row by its key (OFFSET 0 keeps every lookup where it is): a
      -- plan that starts from the agency's referrals or cases is never made.
      CROSS JOIN LATERAL (SELECT * FROM trafficking.referrals y WHERE y.id = k.id OFFSET 0) r
      CROSS JOIN LATERAL (SELECT v.subject_id, v.runaway_start FROM casehost.plugin_case_v1 v
                           WHERE v.id = r.case_id OFFSET 0) c
      LEFT JOIN LATERAL (SELECT * FROM trafficking.reports y WHERE y.referral_id = r.id
                          OFFSET 0) l ON true
      LEFT JOIN LATERAL (SELECT y.sent_at, y.state FROM trafficking.outbox y
                          WHERE y.referral_id = r.id OFFSET 0) o ON true
     ORDER BY r.id;
END
$$;
