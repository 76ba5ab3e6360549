-- 003_routing.sql: storing a routing decision with its referrals and outbox
-- rows in one statement, the payload a destination may receive (its fields
-- only, never an unsafe contact), and claiming overdue referrals for
-- escalation so that several hosts escalate each one once.

-- Everything a referral could carry, filtered down to the destination's
-- fields. Contact details appear only when safe.
CREATE FUNCTION trafficking.referral_payload(p_case bigint, p_fields text[], p_extra jsonb)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(f.key, f.value), '{}'::jsonb)
      FROM casehost.cases c
      JOIN casehost.agencies a ON a.id = c.agency_id
      LEFT JOIN casehost.people p ON p.id = c.subject_id
      LEFT JOIN casehost.users u ON u.id = c.assignee_id
      LEFT JOIN trafficking.safe_contact sc ON sc.person_id = p.id,
      LATERAL jsonb_each(jsonb_build_object(
          'case_id', c.id,
          'agency', a.name,
          'person_name', nullif(concat_ws(' ', p.given_name, p.family_name), ''),
          'date_of_birth', p.date_of_birth,
          'age', casehost.person_age(p),
          'age_basis', CASE WHEN p.date_of_birth IS NOT NULL THEN 'date of birth'
                            WHEN p.estimated_age IS NOT NULL THEN 'estimated'
                            ELSE 'unknown' END,
          'gender', p.gender_identity,
          'language', p.language,
          'interpreter_needed', p.interpreter_needed,
          'state', c.state,
          'county', c.county,
          'caseworker', u.name,
          'safe_contact', CASE
              WHEN sc.person_id IS NULL THEN NULL
              WHEN sc.do_not_contact THEN jsonb_build_object('do_not_contact', true)
              ELSE jsonb_strip_nulls(jsonb_build_object(
                  'channels', to_jsonb(ARRAY(
                      SELECT ch FROM unnest(sc.safe_channels) ch
                       WHERE NOT (sc.trafficker_controls_phone AND ch IN ('phone', 'sms'))
                       ORDER BY ch)),
                  'phone', CASE WHEN NOT sc.trafficker_controls_phone
                                 AND sc.safe_channels && ARRAY['phone', 'sms']
                                THEN sc.phone END,
                  'email', CASE WHEN 'email' = ANY (sc.safe_channels) THEN sc.email END,
                  'times', sc.safe_times,
                  'code_word', sc.code_word,
                  'trafficker_controls_phone', sc.trafficker_controls_phone))
          END) || coalesce(p_extra, '{}'::jsonb)) f
     WHERE c.id = p_case AND f.key = ANY (p_fields) AND f.value <> 'null'::jsonb
$$;

-- Creates one referral (and its outbox row when it may leave now). An open
-- referral to the same destination is never doubled: if it waits for consent
-- and consent now covers it, it is queued instead. Returns the referral id, or
-- NULL when an open one already existed and nothing changed.
CREATE FUNCTION trafficking.referral_create(p_case bigint, p_decision bigint, r jsonb)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    rid bigint;
    existing trafficking.referrals;
    key text := 'ref-' || gen_random_uuid();
BEGIN
    INSERT INTO trafficking.referrals (agency_id, case_id, decision_id, destination_id,
                                       destination_kind, rule, basis, consent_id, urgency,
                                       due_at, ack_sla_hours, state, fields, escalation_of,
                                       follow_up_owner, idempotency_key)
    SELECT casehost.current_agency(), p_case, p_decision, r->>'destination', r->>'kind',
           r->>'rule', r->>'basis', nullif((r->>'consent')::bigint, 0), r->>'urgency',
           now() + make_interval(hours => (r->>'due_hours')::integer),
           (r->>'ack_sla_hours')::integer, r->>'state',
           ARRAY(SELECT jsonb_array_elements_text(r->'fields')),
           nullif((r->>'escalation_of')::bigint, 0),
           (SELECT assignee_id FROM casehost.cases WHERE id = p_case), key
    ON CONFLICT (case_id, destination_id) WHERE state NOT IN ('rejected', 'closed', 'revoked')
    DO NOTHING
    RETURNING id INTO rid;

    IF rid IS NULL THEN
        SELECT * INTO existing FROM trafficking.referrals
         WHERE case_id = p_case AND destination_id = r->>'destination'
           AND state NOT IN ('rejected', 'closed', 'revoked') FOR UPDATE;
        IF existing.state = 'pending_consent' AND r->>'state' = 'queued' THEN
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
        INSERT INTO trafficking.outbox (agency_id, referral_id, destination_id, payload,
                                        idempotency_key)
        VALUES (casehost.current_agency(), rid, r->>'destination',
                -- Every payload names the referral; the rest is the destination's fields.
                jsonb_build_object('referral_id', rid, 'destination', r->>'destination')
                || trafficking.referral_payload(
                    p_case, ARRAY(SELECT jsonb_array_elements_text(r->'fields')),
                    jsonb_build_object('urgency', r->>'urgency', 'basis', r->>'basis')
                    || coalesce(r->'payload', '{}'::jsonb)),
                key);
    END IF;
    RETURN rid;
END
$$;

-- Stores a decision and creates its referrals, in one statement. p:
--   {case, screening, cause, config_hash, input, rules, outcome,
--    referrals: [{destination, kind, rule, basis, consent, urgency, due_hours,
--                 ack_sla_hours, state, fields: [...], payload: {...}}]}
-- Returns the decision id and the ids of the referrals created or queued now.
CREATE FUNCTION trafficking.decision_store(p jsonb)
RETURNS TABLE (decision_id bigint, referral_ids bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    ref jsonb;
    rid bigint;
BEGIN
    INSERT INTO trafficking.decisions (agency_id, case_id, screening_id, cause, config_hash,
                                       input, rules, outcome, decided_by)
    VALUES (casehost.current_agency(), (p->>'case')::bigint,
            nullif((p->>'screening')::bigint, 0), p->>'cause', p->>'config_hash',
            p->'input', p->'rules', p->'outcome', casehost.current_actor())
    RETURNING id INTO decision_id;
    referral_ids := '{}';
    FOR ref IN SELECT * FROM jsonb_array_elements(coalesce(p->'referrals', '[]'::jsonb)) LOOP
        rid := trafficking.referral_create((p->>'case')::bigint, decision_id, ref);
        IF rid IS NOT NULL THEN
            referral_ids := referral_ids || rid;
        END IF;
    END LOOP;
    RETURN NEXT;
END
$$;

-- Claims the sent referrals whose acknowledgement is overdue and that were
-- not escalated yet. SKIP LOCKED and the escalated_at mark make concurrent
-- ticks on several hosts take each referral exactly once.
CREATE FUNCTION trafficking.referrals_claim_overdue()
RETURNS SETOF trafficking.referrals
LANGUAGE sql AS $$
    WITH due AS (
        SELECT id FROM trafficking.referrals
         WHERE state = 'sent' AND escalated_at IS NULL
           AND sent_at + make_interval(hours => ack_sla_hours) < now()
         ORDER BY id
         FOR UPDATE SKIP LOCKED)
    UPDATE trafficking.referrals r SET escalated_at = now()
      FROM due WHERE r.id = due.id
    RETURNING r.*
$$;
