-- 004_access.sql: the plugin's side of "who may do what". Row-level security
-- is FORCEd on every table with agency data; users and services have no
-- INSERT, UPDATE or DELETE anywhere; every write is a SECURITY DEFINER
-- function that takes actor and agency from casehost.current_user_v1() and
-- checks every id it is given (foreign keys ignore row-level security).
-- Answers, safe contact and consent details reach people only through
-- functions that audit the read; payloads reach only services.

SELECT casehost.agency_rls('trafficking', ARRAY['screenings', 'answers', 'screening_history',
                                                 'consents', 'safe_contact', 'decisions',
                                                 'referrals', 'referral_history', 'outbox']);

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA trafficking FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA trafficking FROM casehost_app;
REVOKE CREATE ON SCHEMA trafficking FROM PUBLIC;

-- ------------------------------------------------------------ helpers ---

-- The referral lifecycle as the database enforces it (internal: no grants).
-- Moves that only the system makes ('queued', 'sent') are checked by the
-- public functions below, not here.
ALTER FUNCTION trafficking.referral_move(bigint, text, text)
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
-- Internal, no grants: it runs inside the service's take function only.
ALTER FUNCTION trafficking.referral_payload(bigint, text[], jsonb)
    SET search_path = pg_catalog, pg_temp;

-- ------------------------------------------------------------ payloads ---
-- A payload is built when it is sent, by the service's take function, from
-- the live facts and the destination's fields: a person's transaction never
-- builds one, and a safe-contact change after queueing reaches the next
-- send. A queued row keeps what the payload adds to the facts (extra); the
-- bytes sent are kept in payload once sent. Rows queued before this change
-- keep the payload they were queued with.
ALTER TABLE trafficking.outbox ALTER COLUMN payload DROP NOT NULL,
    ADD COLUMN extra jsonb,
    ADD CONSTRAINT outbox_payload_or_extra CHECK (payload IS NOT NULL OR extra IS NOT NULL);

-- The payload of an outbox row as it would leave now (internal: no grants;
-- it runs inside the service's take function).
-- (PL/pgSQL keeps its plans for the session; a SQL function like this one
-- would be planned again for every row sent.)
CREATE FUNCTION trafficking.outbox_payload(o trafficking.outbox) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF o.state = 'sent' OR o.extra IS NULL THEN
        RETURN o.payload;
    END IF;
    -- Every payload names the referral; the rest is the destination's fields.
    RETURN (SELECT jsonb_build_object('referral_id', o.referral_id, 'destination', o.destination_id)
                   || trafficking.referral_payload(r.case_id, r.fields, o.extra)
              FROM trafficking.referrals r WHERE r.id = o.referral_id);
END
$$;

CREATE OR REPLACE FUNCTION trafficking.referral_create(p_case bigint, p_decision bigint, r jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- ---------------------------------------------------------- screening ---

-- screening_suggest is replaced in 005, with the live instrument check.

-- screening_submit keeps its body (003 of this plugin), which now runs as
-- the owner; 005 puts the checking function in front of it.
ALTER FUNCTION trafficking.screening_submit(jsonb) RENAME TO screening_submit_body;
ALTER FUNCTION trafficking.screening_submit_body(jsonb)
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- A screening's answers, for a person, audited as a read of the screening.
CREATE FUNCTION trafficking.answers_of_v1(p_screening bigint)
RETURNS TABLE (item_index integer, item_id text, answer text, value bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_person();
    IF NOT EXISTS (SELECT 1 FROM trafficking.screenings s
                    WHERE s.id = p_screening
                      AND EXISTS (SELECT 1 FROM casehost.cases c WHERE c.id = s.case_id)) THEN
        RAISE EXCEPTION 'screening % not found', p_screening USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM casehost.audit('read', 'screening', p_screening, 'answers');
    RETURN QUERY SELECT a.item_index, a.item_id, a.answer, a.value FROM trafficking.answers a
                  WHERE a.screening_id = p_screening ORDER BY a.item_index;
END
$$;

-- ---------------------------------------------------- consent, safety ---

CREATE FUNCTION trafficking.consent_add_v1(p_person bigint, p_purpose text, p_recipients text,
                                           p_regime text, p_written boolean, p_expires date,
                                           p_note text)
RETURNS TABLE (consent bigint, person bigint, purpose text, recipients text, legal_regime text,
               valid_through text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    k trafficking.consents;
BEGIN
    PERFORM casehost.person_check_v1(p_person);
    IF p_expires IS NULL OR p_expires < current_date OR p_expires > '9999-12-30'::date THEN
        RAISE EXCEPTION 'consent expiry % is not a date from today on', coalesce(p_expires::text, '(none)')
            USING ERRCODE = 'invalid_parameter_value', HINT = 'consent is time-limited: --expires YYYY-MM-DD';
    END IF;
    INSERT INTO trafficking.consents (agency_id, person_id, purpose, recipients, legal_regime,
                                      written, expires_at, recorded_by, note)
    VALUES (me.agency_id, p_person, p_purpose,
            string_to_array(regexp_replace(p_recipients, '\s+', '', 'g'), ','), p_regime,
            coalesce(p_written, true), (p_expires + 1)::timestamptz, me.user_id, p_note)
    RETURNING * INTO k;
    PERFORM casehost.audit('create', 'consent', k.id, p_purpose);
    RETURN QUERY SELECT k.id, k.person_id, k.purpose, array_to_string(k.recipients, ', '),
                        k.legal_regime,
                        to_char(k.expires_at - interval '1 second', 'YYYY-MM-DD');
END
$$;

-- Revoking a consent revokes the referrals that rest on it and have not
-- left yet, and holds their outbox rows, in the same transaction.
CREATE FUNCTION trafficking.consent_revoke_v1(p_consent bigint, p_reason text)
RETURNS TABLE (consent bigint, referrals_revoked bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    k trafficking.consents;
    n bigint;
BEGIN
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'revoking a consent needs a reason' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO k FROM trafficking.consents WHERE id = p_consent FOR UPDATE;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM casehost.people WHERE id = k.person_id) THEN
        RAISE EXCEPTION 'consent % not found', p_consent USING ERRCODE = 'no_data_found';
    END IF;
    IF k.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'consent % was already revoked', p_consent
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE trafficking.consents SET revoked_at = now(), revoke_reason = p_reason WHERE id = k.id;
    SELECT count(*) INTO n
      FROM trafficking.referrals r,
           LATERAL trafficking.referral_move(r.id, 'revoked',
                                             'consent ' || k.id || ' revoked: ' || p_reason) m
     WHERE r.consent_id = k.id AND r.basis = 'consent'
       AND r.state IN ('pending_consent', 'queued');
    PERFORM casehost.audit('revoke', 'consent', k.id, p_reason);
    RETURN QUERY SELECT k.id, n;
END
$$;

CREATE FUNCTION trafficking.consents_of_v1(p_person bigint)
RETURNS TABLE (id bigint, purpose text, recipients text, legal_regime text, written boolean,
               granted text, valid_through text, revoked text, active boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.person_check_v1(p_person);
    PERFORM casehost.audit('read', 'consent', p_person, 'consents of person');
    RETURN QUERY
    SELECT k.id, k.purpose, array_to_string(k.recipients, ', '), k.legal_regime, k.written,
           to_char(k.granted_at, 'YYYY-MM-DD'),
           to_char(k.expires_at - interval '1 second', 'YYYY-MM-DD'),
           to_char(k.revoked_at, 'YYYY-MM-DD'),
           (k.revoked_at IS NULL AND k.expires_at > now())
      FROM trafficking.consents k WHERE k.person_id = p_person ORDER BY k.id;
END
$$;

-- Sets safe contact; a NULL argument keeps what was recorded.
CREATE FUNCTION trafficking.safe_contact_set_v1(p_person bigint, p_channels text, p_phone text,
                                                p_email text, p_times text, p_code_word text,
                                                p_do_not_contact boolean,
                                                p_trafficker_controls_phone boolean)
RETURNS TABLE (person bigint, safe_channels text, do_not_contact boolean,
               trafficker_controls_phone boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    ch text[] := string_to_array(regexp_replace(p_channels, '\s+', '', 'g'), ',');
    s trafficking.safe_contact;
BEGIN
    PERFORM casehost.person_check_v1(p_person);
    INSERT INTO trafficking.safe_contact AS sc (person_id, agency_id, safe_channels, phone, email,
                                                safe_times, code_word, do_not_contact,
                                                trafficker_controls_phone, updated_by)
    VALUES (p_person, me.agency_id, coalesce(ch, '{}'), p_phone, p_email, p_times, p_code_word,
            coalesce(p_do_not_contact, false), coalesce(p_trafficker_controls_phone, false),
            me.user_id)
    ON CONFLICT (person_id) DO UPDATE SET
        safe_channels = coalesce(ch, sc.safe_channels),
        phone = coalesce(p_phone, sc.phone), email = coalesce(p_email, sc.email),
        safe_times = coalesce(p_times, sc.safe_times), code_word = coalesce(p_code_word, sc.code_word),
        do_not_contact = coalesce(p_do_not_contact, sc.do_not_contact),
        trafficker_controls_phone = coalesce(p_trafficker_controls_phone,
                                             sc.trafficker_controls_phone),
        updated_by = me.user_id, updated_at = now()
    RETURNING * INTO s;
    PERFORM casehost.audit('update', 'safe_contact', p_person, NULL);
    RETURN QUERY SELECT s.person_id, array_to_string(s.safe_channels, ', '), s.do_not_contact,
                        s.trafficker_controls_phone;
END
$$;

CREATE FUNCTION trafficking.safe_contact_of_v1(p_person bigint)
RETURNS TABLE (person bigint, safe_channels text, phone text, email text, safe_times text,
               code_word text, do_not_contact boolean, trafficker_controls_phone boolean,
               updated text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.person_check_v1(p_person);
    PERFORM casehost.audit('read', 'safe_contact', p_person, NULL);
    RETURN QUERY
    SELECT s.person_id, array_to_string(s.safe_channels, ', '), s.phone, s.email, s.safe_times,
           s.code_word, s.do_not_contact, s.trafficker_controls_phone,
           to_char(s.updated_at, 'YYYY-MM-DD HH24:MI')
      FROM trafficking.safe_contact s WHERE s.person_id = p_person;
END
$$;

-- ------------------------------------------------------------ routing ---

-- What routing reads about a case, shaped as routing_input_from_json reads
-- it: flags and facts, never a phone number, address or answer.
CREATE FUNCTION trafficking.routing_input_v1(p_case bigint) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH c AS (SELECT * FROM casehost.cases WHERE id = p_case),
     p AS (SELECT p.* FROM casehost.people p JOIN c ON c.subject_id = p.id),
     s AS (SELECT * FROM trafficking.screenings
            WHERE case_id = p_case AND state IN ('completed', 'stopped') AND superseded_by IS NULL
            ORDER BY finished_at DESC, id DESC LIMIT 1),
     sc AS (SELECT sc.* FROM trafficking.safe_contact sc JOIN p ON p.id = sc.person_id)
    SELECT json_build_object(
       'case_id', c.id,
       'age', (SELECT casehost.person_age(p) FROM p),
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
      FROM c
$$;

-- decision_store and referral_escalate_v1 check every referral with
-- trafficking.referral_check (005: its shape, the consent it rests on, and
-- the live configuration).


ALTER FUNCTION trafficking.decision_store(jsonb) RENAME TO decision_store_body;
ALTER FUNCTION trafficking.decision_store_body(jsonb)
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION trafficking.decision_store(p jsonb)
RETURNS TABLE (decision_id bigint, referral_ids bigint[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k text;
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.case_check_v1((p->>'case')::bigint);
    -- A referral names only a consent of this case's person, whatever its
    -- state or basis: the foreign key alone would accept (and so reveal) any
    -- agency's consent.
    SELECT r->>'consent' INTO k FROM jsonb_array_elements(coalesce(p->'referrals', '[]')) r
     WHERE nullif(r->>'consent', '0') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM trafficking.consents c
                         JOIN casehost.cases x ON x.subject_id = c.person_id
                        WHERE x.id = (p->>'case')::bigint AND c.id = (r->>'consent')::bigint)
     LIMIT 1;
    IF k IS NOT NULL THEN
        RAISE EXCEPTION 'consent % not found', k USING ERRCODE = 'no_data_found';
    END IF;
    IF p->>'screening' IS NOT NULL AND (p->>'screening')::bigint <> 0
       AND NOT EXISTS (SELECT 1 FROM trafficking.screenings
                        WHERE id = (p->>'screening')::bigint AND case_id = (p->>'case')::bigint) THEN
        RAISE EXCEPTION 'screening % not found', p->>'screening' USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM trafficking.referral_check((p->>'case')::bigint, r)
       FROM jsonb_array_elements(coalesce(p->'referrals', '[]')) r;
    RETURN QUERY SELECT * FROM trafficking.decision_store_body(p);
END
$$;

-- ---------------------------------------------------------- referrals ---

-- The moves a person makes; 'queued' and 'sent' are the system's. An
-- acknowledgement may record the recipient's reference number.
CREATE FUNCTION trafficking.referral_move_v1(p_id bigint, p_to text, p_detail text,
                                             p_reference text)
RETURNS TABLE (referral bigint, state text, destination text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    r trafficking.referrals;
BEGIN
    IF p_to NOT IN ('acknowledged', 'accepted', 'rejected', 'closed', 'revoked') THEN
        RAISE EXCEPTION 'a referral becomes % only by the system', p_to
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'people acknowledge, accept, reject, close or revoke referrals';
    END IF;
    IF p_to IN ('rejected', 'revoked', 'closed') AND (p_detail IS NULL OR btrim(p_detail) = '') THEN
        RAISE EXCEPTION 'a referral becomes % only with a reason', p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_reference IS NOT NULL AND p_to <> 'acknowledged' THEN
        RAISE EXCEPTION 'a reference number is recorded with the acknowledgement'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO r FROM trafficking.referrals x
     WHERE x.id = p_id AND EXISTS (SELECT 1 FROM casehost.cases c WHERE c.id = x.case_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'referral % not found', p_id USING ERRCODE = 'no_data_found';
    END IF;
    -- A report the law requires (or an emergency call) is made whatever the
    -- consent: a caseworker cannot withdraw it; a supervisor or admin may
    -- withdraw one made in error, with the reason, which is kept.
    IF p_to = 'revoked' AND r.basis <> 'consent' AND me.kind = 'caseworker'
       AND p_to = ANY (trafficking.referral_moves(r.state)) THEN
        RAISE EXCEPTION 'referral % is a % referral: only a supervisor or admin may withdraw it',
            p_id, replace(r.basis, '_', ' ') USING ERRCODE = 'insufficient_privilege',
            HINT = 'a mandatory report is made whatever the consent; ask a supervisor if it was made in error';
    END IF;
    r := trafficking.referral_move(p_id, p_to, p_detail);
    IF p_reference IS NOT NULL THEN
        UPDATE trafficking.referrals SET reference = p_reference WHERE id = p_id;
    END IF;
    RETURN QUERY SELECT r.id, r.state, r.destination_id;
END
$$;

-- ----------------------------------------------------------- services ---
-- Dispatch and escalation: for services (and admins), never for others.

CREATE FUNCTION trafficking.require_service() RETURNS casehost.identities
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT casehost.require_kind(ARRAY['service', 'admin'], 'dispatch and escalation')
$$;

-- The oldest ready outbox row, locked (SKIP LOCKED: dispatchers take
-- disjoint rows), with its referral locked too (NOWAIT: a referral being
-- changed now is taken again afterwards). The only way a payload is read.
CREATE FUNCTION trafficking.outbox_take_v1()
RETURNS TABLE (id bigint, referral_id bigint, destination_id text, payload text,
               idempotency_key text, attempts integer, state text, basis text, consent_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM trafficking.require_service();
    RETURN QUERY
    SELECT o.id, o.referral_id, o.destination_id, trafficking.outbox_payload(o)::text,
           o.idempotency_key,
           o.attempts, r.state, r.basis, r.consent_id
      FROM (SELECT * FROM trafficking.outbox x
             WHERE x.state = 'pending' AND x.next_attempt_at <= now()
             ORDER BY x.next_attempt_at LIMIT 1
               FOR UPDATE SKIP LOCKED) o
      JOIN trafficking.referrals r ON r.id = o.referral_id
       FOR UPDATE OF r NOWAIT;
END
$$;

-- The consent of a referral about to leave, share-locked so a revocation
-- waits for the send to commit (NOWAIT: a revocation in progress wins).
CREATE FUNCTION trafficking.outbox_consent_v1(p_consent bigint)
RETURNS TABLE (revoked boolean, expired boolean, revoked_at text, expires_at text, reason text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM trafficking.require_service();
    RETURN QUERY
    SELECT k.revoked_at IS NOT NULL, k.expires_at <= clock_timestamp(),
           to_char(k.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC',
           to_char(k.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC',
           coalesce(k.revoke_reason, '')
      FROM trafficking.consents k WHERE k.id = p_consent FOR SHARE NOWAIT;
END
$$;

CREATE FUNCTION trafficking.outbox_row(p_outbox bigint) RETURNS trafficking.outbox
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
BEGIN
    SELECT * INTO o FROM trafficking.outbox WHERE id = p_outbox FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'outbox row % not found', p_outbox USING ERRCODE = 'no_data_found';
    END IF;
    RETURN o;
END
$$;

-- Holds a row that must not leave (and revokes its referral when its
-- consent no longer covers it).
CREATE FUNCTION trafficking.outbox_hold_v1(p_outbox bigint, p_why text, p_revoke boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
BEGIN
    PERFORM trafficking.require_service();
    o := trafficking.outbox_row(p_outbox);
    IF p_revoke THEN
        PERFORM trafficking.referral_move(o.referral_id, 'revoked', p_why);
    END IF;
    UPDATE trafficking.outbox SET state = 'held', last_error = p_why WHERE id = o.id;
END
$$;

-- The row and its referral become 'sent' together; the bytes sent are kept.
CREATE FUNCTION trafficking.outbox_sent_v1(p_outbox bigint, p_detail text, p_sent text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
BEGIN
    PERFORM trafficking.require_service();
    o := trafficking.outbox_row(p_outbox);
    IF o.state <> 'pending' THEN
        RAISE EXCEPTION 'outbox row % is %, not pending', o.id, o.state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE trafficking.outbox SET state = 'sent', sent_at = now(), attempts = attempts + 1,
                                  last_error = NULL, payload = coalesce(p_sent::jsonb, payload)
     WHERE id = o.id;
    PERFORM trafficking.referral_move(o.referral_id, 'sent', p_detail);
    RETURN o.referral_id;
END
$$;

CREATE FUNCTION trafficking.outbox_retry_v1(p_outbox bigint, p_error text, p_delay_ms bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
BEGIN
    PERFORM trafficking.require_service();
    o := trafficking.outbox_row(p_outbox);
    UPDATE trafficking.outbox
       SET attempts = attempts + 1, last_error = p_error,
           next_attempt_at = clock_timestamp()
                             + greatest(0, least(p_delay_ms, 86400000)) * interval '1 millisecond'
     WHERE id = o.id AND state = 'pending';
END
$$;

-- Failed for good: the row is marked and the referral's history says so.
CREATE FUNCTION trafficking.outbox_failed_v1(p_outbox bigint, p_error text, p_detail text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
BEGIN
    PERFORM trafficking.require_service();
    o := trafficking.outbox_row(p_outbox);
    UPDATE trafficking.outbox SET state = 'failed', attempts = attempts + 1, last_error = p_error
     WHERE id = o.id AND state = 'pending';
    INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                              to_state, detail)
    SELECT r.id, r.agency_id, casehost.current_actor(), r.state, r.state, p_detail
      FROM trafficking.referrals r WHERE r.id = o.referral_id;
END
$$;

-- Milliseconds until the next pending row is due (NULL when there is none).
CREATE FUNCTION trafficking.outbox_next_due_v1() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM trafficking.require_service();
    -- (greatest() skips a NULL: without the WHERE, no row would read as "due now")
    RETURN (SELECT greatest(0, ceil(extract(epoch FROM m - clock_timestamp()) * 1000))::bigint
              FROM (SELECT min(next_attempt_at) AS m FROM trafficking.outbox
                     WHERE state = 'pending') x
             WHERE m IS NOT NULL);
END
$$;

ALTER FUNCTION trafficking.referrals_claim_overdue() RENAME TO referrals_claim_overdue_body;
ALTER FUNCTION trafficking.referrals_claim_overdue_body()
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION trafficking.referrals_claim_overdue()
RETURNS SETOF trafficking.referrals
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM trafficking.require_service();
    RETURN QUERY SELECT * FROM trafficking.referrals_claim_overdue_body();
END
$$;

-- Escalates one claimed referral: records the event and, when there is a
-- target, refers the case to it with the same legal basis. On a consent
-- basis the new referral leaves only if the same consent names the target.
CREATE FUNCTION trafficking.referral_escalate_v1(p_referral bigint, p_detail text, p_target jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r trafficking.referrals;
    covered boolean;
    t jsonb;
BEGIN
    PERFORM trafficking.require_service();
    SELECT * INTO r FROM trafficking.referrals WHERE id = p_referral;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'referral % not found', p_referral USING ERRCODE = 'no_data_found';
    END IF;
    IF r.escalated_at IS NULL THEN
        RAISE EXCEPTION 'referral % was not claimed for escalation', p_referral
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                              to_state, detail)
    VALUES (r.id, r.agency_id, casehost.current_actor(), r.state, r.state, p_detail);
    IF p_target IS NULL THEN
        RETURN NULL;
    END IF;
    covered := r.basis <> 'consent' OR EXISTS (
        SELECT 1 FROM trafficking.consents k
         WHERE k.id = r.consent_id AND k.revoked_at IS NULL AND k.expires_at > now()
           AND (p_target->>'destination' = ANY (k.recipients)
                OR 'kind:' || (p_target->>'kind') = ANY (k.recipients)));
    t := p_target || jsonb_build_object(
        'rule', 'escalation', 'basis', r.basis,
        'consent', CASE WHEN covered THEN coalesce(r.consent_id, 0) ELSE 0 END,
        'state', CASE WHEN covered THEN 'queued' ELSE 'pending_consent' END,
        'escalation_of', r.id);
    PERFORM trafficking.referral_check(r.case_id, t);
    RETURN trafficking.referral_create(r.case_id, NULL, t);
END
$$;

-- ------------------------------------------------------------- grants ---
GRANT USAGE ON SCHEMA trafficking TO casehost_app, casehost_service;
GRANT SELECT ON trafficking.instruments, trafficking.screenings, trafficking.screening_history,
    trafficking.decisions, trafficking.referrals, trafficking.referral_history TO casehost_app;
-- The outbox's state, not its payload.
GRANT SELECT (id, agency_id, referral_id, destination_id, idempotency_key, state, attempts,
              next_attempt_at, last_error, sent_at, created_at) ON trafficking.outbox
    TO casehost_app;
GRANT SELECT ON trafficking.instruments TO casehost_service;

GRANT EXECUTE ON FUNCTION
    trafficking.screening_suggest(bigint, text, text, text, integer),
    trafficking.answers_of_v1(bigint),
    trafficking.consent_add_v1(bigint, text, text, text, boolean, date, text),
    trafficking.consent_revoke_v1(bigint, text), trafficking.consents_of_v1(bigint),
    trafficking.safe_contact_set_v1(bigint, text, text, text, text, text, boolean, boolean),
    trafficking.safe_contact_of_v1(bigint), trafficking.routing_input_v1(bigint),
    trafficking.decision_store(jsonb), trafficking.referral_move_v1(bigint, text, text, text),
    trafficking.referral_moves(text)
    TO casehost_app;
GRANT EXECUTE ON FUNCTION
    trafficking.outbox_take_v1(), trafficking.outbox_consent_v1(bigint),
    trafficking.outbox_hold_v1(bigint, text, boolean), trafficking.outbox_sent_v1(bigint, text, text),
    trafficking.outbox_retry_v1(bigint, text, bigint),
    trafficking.outbox_failed_v1(bigint, text, text), trafficking.outbox_next_due_v1(),
    trafficking.referrals_claim_overdue(), trafficking.referral_escalate_v1(bigint, text, jsonb),
    trafficking.require_service(), trafficking.referral_moves(text)
    TO casehost_service, casehost_app;
