-- 013_delivery.sql: delivery a task force can rely on. A referral whose
-- delivery failed for good becomes 'delivery_failed' with its reason (never a
-- silent state change) until a person retries it under the same idempotency
-- key; a worker claims a row with a lease (SKIP LOCKED on every table it
-- locks), sends after the claim committed, and records the outcome only if
-- the lease is still its own; the payload is built and consent, declines and
-- safe contact are checked again under the claim; the hash of the bytes sent
-- is kept. It never edits an older migration: functions are replaced whole.

-- ------------------------------------------------------------- tables ---

ALTER TABLE trafficking.referrals DROP CONSTRAINT referrals_state_check;
ALTER TABLE trafficking.referrals ADD CONSTRAINT referrals_state_check
    CHECK (state IN ('pending_consent', 'queued', 'sent', 'acknowledged', 'accepted', 'rejected',
                     'closed', 'revoked', 'delivery_failed'));

-- A failed delivery is not delivered: it still blocks a second referral of
-- the case to the destination (routing again never doubles it; a retry
-- sends the same one).
DROP INDEX trafficking.referrals_one_undelivered;
CREATE UNIQUE INDEX referrals_one_undelivered ON trafficking.referrals (case_id, destination_id)
    WHERE state IN ('pending_consent', 'queued', 'delivery_failed');
CREATE INDEX referrals_delivery_failed ON trafficking.referrals (agency_id, destination_id)
    WHERE state = 'delivery_failed';

-- claimed_until/claim_token: the lease of the worker sending the row now (the
-- row lock is gone by then); attempt_series: 1, plus one per retry by a
-- person (attempts counts the current series); payload_sha256: of the bytes
-- sent, with sent_at.
ALTER TABLE trafficking.outbox
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN claim_token uuid,
    ADD COLUMN attempt_series integer NOT NULL DEFAULT 1 CHECK (attempt_series > 0),
    ADD COLUMN payload_sha256 text CHECK (payload_sha256 ~ '^[0-9a-f]{64}$');

GRANT SELECT (claimed_until, attempt_series, payload_sha256) ON trafficking.outbox
    TO casehost_app;

-- ---------------------------------------------------------- lifecycle ---

CREATE OR REPLACE FUNCTION trafficking.referral_moves(p_state text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_state
        WHEN 'pending_consent' THEN ARRAY['queued', 'revoked']
        WHEN 'queued'          THEN ARRAY['sent', 'revoked', 'delivery_failed']
        WHEN 'delivery_failed' THEN ARRAY['queued', 'revoked']
        WHEN 'sent'            THEN ARRAY['acknowledged', 'revoked']
        WHEN 'acknowledged'    THEN ARRAY['accepted', 'rejected', 'revoked']
        WHEN 'accepted'        THEN ARRAY['closed', 'revoked']
        WHEN 'rejected'        THEN ARRAY['closed']
        ELSE ARRAY[]::text[]
    END
$$;

-- As 002's, with the reason of a failed delivery kept (and cleared when it
-- is queued again).
CREATE OR REPLACE FUNCTION trafficking.referral_move(p_id bigint, p_to text, p_detail text)
RETURNS trafficking.referrals
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r trafficking.referrals;
    prev text;
    allowed text[];
BEGIN
    SELECT * INTO r FROM trafficking.referrals WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'referral % not found', p_id USING ERRCODE = 'no_data_found';
    END IF;
    prev := r.state;
    allowed := trafficking.referral_moves(r.state);
    IF NOT (p_to = ANY (allowed)) THEN
        RAISE EXCEPTION 'referral % is %: it cannot become %', p_id, r.state, p_to
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = CASE WHEN cardinality(allowed) = 0
                              THEN 'a ' || r.state || ' referral is final'
                              ELSE 'allowed from ' || r.state || ': '
                                   || array_to_string(allowed, ', ') END;
    END IF;
    UPDATE trafficking.referrals
       SET state = p_to, updated_at = now(),
           reason = CASE WHEN p_to IN ('rejected', 'revoked', 'delivery_failed') THEN p_detail
                         WHEN p_to = 'queued' AND prev = 'delivery_failed' THEN NULL
                         ELSE reason END,
           outcome = CASE WHEN p_to = 'closed' THEN p_detail ELSE outcome END,
           sent_at = CASE WHEN p_to = 'sent' THEN now() ELSE sent_at END,
           -- a failure is escalated once per attempt series
           escalated_at = CASE WHEN prev = 'delivery_failed' AND p_to = 'queued' THEN NULL
                               ELSE escalated_at END
     WHERE id = p_id RETURNING * INTO r;
    INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                              to_state, detail)
    VALUES (p_id, r.agency_id, casehost.current_actor(), prev, p_to, p_detail);
    -- A referral that will not be sent holds its outbox row.
    IF p_to = 'revoked' THEN
        UPDATE trafficking.outbox SET state = 'held', last_error = 'referral revoked',
                                      claimed_until = NULL, claim_token = NULL
         WHERE referral_id = p_id AND state IN ('pending', 'failed');
    END IF;
    PERFORM casehost.audit(p_to, 'referral', p_id, p_detail);
    RETURN r;
END
$$;

-- ------------------------------------------------------------- wake-up ---

-- Dispatchers LISTEN on trafficking_outbox: a row that becomes ready to send
-- (queued, or queued again by a retry) wakes them at once. The payload is
-- empty: a notification says "look", never what or whose.
CREATE FUNCTION trafficking.outbox_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_notify('trafficking_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_ready_notify AFTER INSERT OR UPDATE OF state ON trafficking.outbox
    FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION trafficking.outbox_notify();

-- ------------------------------------------------------------ claiming ---

-- Why the locked row o (of referral r) must not leave now, or NULL; must_revoke
-- when its referral must become 'revoked' (its consent or the person no
-- longer allows it). Consent, declines and safe contact as they are now.
-- Internal: no grants; it runs inside outbox_claim_v1.
CREATE FUNCTION trafficking.outbox_unsafe(o trafficking.outbox, r trafficking.referrals,
                                          OUT why text, OUT must_revoke boolean)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k trafficking.consents;
    person bigint;
    dec trafficking.declines;
    sc trafficking.safe_contact;
    contacts boolean;
BEGIN
    must_revoke := false;
    IF r.state <> 'queued' THEN
        why := format('not sent: referral %s is %s, not queued', r.id, r.state);
        RETURN;
    END IF;
    SELECT c.subject_id INTO person FROM casehost.plugin_case_v1 c WHERE c.id = r.case_id;
    IF r.basis = 'consent' THEN
        must_revoke := true;
        SELECT * INTO k FROM trafficking.consents x WHERE x.id = r.consent_id;
        IF r.consent_id IS NULL THEN
            why := format('not sent: referral %s has basis consent but no consent', r.id);
        ELSIF NOT FOUND THEN
            why := format('not sent: consent %s of referral %s is not found', r.consent_id, r.id);
        ELSIF k.revoked_at IS NOT NULL THEN
            why := format('not sent: consent %s was revoked at %s%s', k.id,
                          to_char(k.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC',
                          coalesce(' (' || nullif(k.revoke_reason, '') || ')', ''));
        ELSIF k.expires_at <= clock_timestamp() THEN
            why := format('not sent: consent %s expired at %s', k.id,
                          to_char(k.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC');
        ELSE
            dec := trafficking.decline_of(person, r.destination_id, r.destination_kind);
            IF dec.id IS NOT NULL THEN
                why := format('not sent: the person declined %s on %s (decline %s)',
                              dec.recipient, to_char(dec.declined_at, 'YYYY-MM-DD'), dec.id);
            END IF;
        END IF;
        IF why IS NOT NULL THEN
            RETURN;
        END IF;
        must_revoke := false;
    END IF;
    -- Safe contact, for a destination that contacts the person (one the live
    -- configuration does not know is taken to contact them).
    SELECT * INTO sc FROM trafficking.safe_contact x WHERE x.person_id = person;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT d.contacts_person INTO contacts FROM trafficking.live_destinations d
     WHERE d.generation = trafficking.live_generation() AND d.id = r.destination_id;
    IF NOT coalesce(contacts, true) THEN
        RETURN;
    END IF;
    IF sc.do_not_contact THEN
        why := format('held: person %s must not be contacted (do not contact, recorded %s) and '
                      '%s contacts the person', person,
                      to_char(sc.updated_at, 'YYYY-MM-DD HH24:MI'), r.destination_id);
    ELSIF sc.trafficker_controls_phone
          AND NOT EXISTS (SELECT 1 FROM unnest(sc.safe_channels) ch
                           WHERE ch NOT IN ('phone', 'sms')) THEN
        why := format('held: the trafficker controls the phone of person %s and no other safe '
                      'channel is recorded (recorded %s); %s contacts the person', person,
                      to_char(sc.updated_at, 'YYYY-MM-DD HH24:MI'), r.destination_id);
    END IF;
END
$$;

-- Claims the oldest ready outbox row of the caller's agency: row and
-- referral locked with SKIP LOCKED (a row someone else holds is passed over,
-- never waited for or retried in a loop), checked again as it is now, and
-- then either held (action 'held', with the reason) or leased to the caller
-- for p_lease_ms with the payload built now from the live facts and the
-- referral's fields (action 'send'). The caller sends after this statement
-- committed and records the outcome with the returned claim; when the lease
-- ran out and another worker took the row, its outcome is not recorded.
CREATE FUNCTION trafficking.outbox_claim_v1(p_lease_ms bigint)
RETURNS TABLE (id bigint, referral_id bigint, destination_id text, payload text,
               idempotency_key text, attempts integer, action text, reason text, claim text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    r trafficking.referrals;
    u record;
    token uuid := gen_random_uuid();
BEGIN
    PERFORM trafficking.require_service();
    SELECT x.* INTO o FROM trafficking.outbox x
      JOIN trafficking.referrals y ON y.id = x.referral_id
     WHERE x.state = 'pending' AND x.next_attempt_at <= now()
       AND (x.claimed_until IS NULL OR x.claimed_until <= clock_timestamp())
     ORDER BY x.next_attempt_at, x.id LIMIT 1
       FOR UPDATE OF x, y SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO r FROM trafficking.referrals y WHERE y.id = o.referral_id;
    SELECT * INTO u FROM trafficking.outbox_unsafe(o, r);
    IF u.why IS NOT NULL THEN
        IF u.must_revoke THEN
            PERFORM trafficking.referral_move(r.id, 'revoked', u.why);
        ELSIF r.state = 'queued' THEN
            -- The caseworker sees it in the referral's history and in `referral attention`.
            INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                                      to_state, detail)
            VALUES (r.id, r.agency_id, casehost.current_actor(), r.state, r.state, u.why);
        END IF;
        UPDATE trafficking.outbox x SET state = 'held', last_error = u.why, claimed_until = NULL,
                                        claim_token = NULL
         WHERE x.id = o.id;
        RETURN QUERY SELECT o.id, o.referral_id, o.destination_id, NULL::text, o.idempotency_key,
                            o.attempts, 'held'::text, u.why, NULL::text;
        RETURN;
    END IF;
    UPDATE trafficking.outbox x
       SET claimed_until = clock_timestamp()
                           + greatest(1000, least(p_lease_ms, 86400000)) * interval '1 millisecond',
           claim_token = token
     WHERE x.id = o.id;
    RETURN QUERY SELECT o.id, o.referral_id, o.destination_id, trafficking.outbox_payload(o)::text,
                        o.idempotency_key, o.attempts, 'send'::text, NULL::text, token::text;
END
$$;

-- The row p_outbox locked, if the claim p_claim is still its lease; NULL
-- when another worker has taken it since (its outcome is not recorded).
CREATE FUNCTION trafficking.outbox_leased(p_outbox bigint, p_claim text) RETURNS trafficking.outbox
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox := trafficking.outbox_row(p_outbox);
BEGIN
    IF o.claim_token IS NULL OR o.claim_token::text IS DISTINCT FROM p_claim THEN
        RETURN NULL;
    END IF;
    RETURN o;
END
$$;

-- Sent under claim p_claim: the row and its referral become 'sent'; the
-- bytes sent, their sha-256 and the time are kept. A referral revoked while
-- the bytes were on their way stays revoked, and its history says they left.
-- false: the lease was lost and nothing was recorded.
CREATE FUNCTION trafficking.outbox_sent_v2(p_outbox bigint, p_claim text, p_detail text,
                                           p_sent text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    r trafficking.referrals;
BEGIN
    PERFORM trafficking.require_service();
    o := trafficking.outbox_leased(p_outbox, p_claim);
    IF o.id IS NULL THEN
        RETURN false;
    END IF;
    UPDATE trafficking.outbox x
       SET state = 'sent', sent_at = now(), attempts = x.attempts + 1, last_error = NULL,
           payload = coalesce(p_sent::jsonb, x.payload),
           payload_sha256 = encode(sha256(convert_to(p_sent, 'UTF8')), 'hex'),
           claimed_until = NULL, claim_token = NULL
     WHERE x.id = o.id;
    SELECT * INTO r FROM trafficking.referrals y WHERE y.id = o.referral_id FOR UPDATE;
    IF r.state = 'queued' THEN
        PERFORM trafficking.referral_move(r.id, 'sent', p_detail);
    ELSE
        INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                                  to_state, detail)
        VALUES (r.id, r.agency_id, casehost.current_actor(), r.state, r.state,
                p_detail || ', although it became ' || r.state || ' while on its way');
    END IF;
    RETURN true;
END
$$;

-- A failed attempt under claim p_claim: tried again after p_delay_ms.
CREATE FUNCTION trafficking.outbox_retry_v2(p_outbox bigint, p_claim text, p_error text,
                                            p_delay_ms bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
BEGIN
    PERFORM trafficking.require_service();
    o := trafficking.outbox_leased(p_outbox, p_claim);
    IF o.id IS NULL THEN
        RETURN false;
    END IF;
    UPDATE trafficking.outbox x
       SET attempts = x.attempts + 1, last_error = p_error, claimed_until = NULL,
           claim_token = NULL,
           next_attempt_at = clock_timestamp()
                             + greatest(0, least(p_delay_ms, 86400000)) * interval '1 millisecond'
     WHERE x.id = o.id AND x.state = 'pending';
    RETURN true;
END
$$;

-- Failed for good under claim p_claim: the row is 'failed' and the referral
-- 'delivery_failed' with the reason, in its history too; tick escalates a
-- mandatory report in that state, `referral attention` lists it and
-- `referral retry` queues it again.
CREATE FUNCTION trafficking.outbox_failed_v2(p_outbox bigint, p_claim text, p_error text,
                                             p_detail text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    r trafficking.referrals;
BEGIN
    PERFORM trafficking.require_service();
    o := trafficking.outbox_leased(p_outbox, p_claim);
    IF o.id IS NULL THEN
        RETURN false;
    END IF;
    UPDATE trafficking.outbox x
       SET state = 'failed', attempts = x.attempts + 1, last_error = p_error,
           claimed_until = NULL, claim_token = NULL
     WHERE x.id = o.id AND x.state = 'pending';
    SELECT * INTO r FROM trafficking.referrals y WHERE y.id = o.referral_id FOR UPDATE;
    IF r.state = 'queued' THEN
        PERFORM trafficking.referral_move(r.id, 'delivery_failed', p_detail);
    ELSE
        INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                                  to_state, detail)
        VALUES (r.id, r.agency_id, casehost.current_actor(), r.state, r.state, p_detail);
    END IF;
    RETURN true;
END
$$;

-- Milliseconds until the next pending row is due or its lease runs out
-- (NULL when there is none).
CREATE OR REPLACE FUNCTION trafficking.outbox_next_due_v1() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM trafficking.require_service();
    RETURN (SELECT greatest(0, ceil(extract(epoch FROM m - clock_timestamp()) * 1000))::bigint
              FROM (SELECT min(greatest(next_attempt_at, coalesce(claimed_until, next_attempt_at)))
                           AS m
                      FROM trafficking.outbox WHERE state = 'pending') x
             WHERE m IS NOT NULL);
END
$$;

-- ------------------------------------------------------------ retrying ---

-- A person queues again a referral whose delivery failed (p_referral), or
-- every one to destination p_destination (p_referral NULL): a new attempt
-- series of the same outbox row, so the same idempotency key (the key names
-- the referral). A queued referral whose row is held (safe contact, say) is
-- released the same way; the dispatcher checks it again before it leaves.
CREATE FUNCTION trafficking.referral_retry_v1(p_referral bigint, p_destination text)
RETURNS TABLE (referral bigint, destination text, state text, attempt_series integer,
               idempotency_key text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    r trafficking.referrals;
    o trafficking.outbox;
    detail text;
    n integer := 0;
BEGIN
    IF (p_referral IS NULL) = (p_destination IS NULL) THEN
        RAISE EXCEPTION 'retry one referral or every failed one to a destination'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'referral retry ID, or referral retry --all-failed --destination D';
    END IF;
    FOR r IN SELECT x.* FROM trafficking.referrals x
              WHERE (x.id = p_referral
                     OR (p_referral IS NULL AND x.destination_id = p_destination
                         AND x.state = 'delivery_failed'))
                AND EXISTS (SELECT 1 FROM casehost.plugin_case_v1 c WHERE c.id = x.case_id)
              ORDER BY x.id FOR UPDATE OF x LOOP
        n := n + 1;
        SELECT * INTO o FROM trafficking.outbox x WHERE x.referral_id = r.id FOR UPDATE;
        IF NOT FOUND OR NOT (r.state = 'delivery_failed'
                             OR (r.state = 'queued' AND o.state IN ('held', 'failed'))) THEN
            RAISE EXCEPTION 'referral % is %: only a failed or held delivery is retried', r.id,
                r.state || CASE WHEN o.state IS NOT NULL AND r.state = 'queued'
                                THEN ' (delivery ' || o.state || ')' ELSE '' END
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'referral attention lists what needs a person now';
        END IF;
        detail := format('retried by %s: attempt series %s (was: %s)', me.name,
                         o.attempt_series + 1, coalesce(r.reason, o.last_error, o.state));
        UPDATE trafficking.outbox x
           SET state = 'pending', attempts = 0, attempt_series = x.attempt_series + 1,
               next_attempt_at = now(), last_error = NULL, claimed_until = NULL,
               claim_token = NULL
         WHERE x.id = o.id;
        IF r.state = 'delivery_failed' THEN
            PERFORM trafficking.referral_move(r.id, 'queued', detail);
        ELSE
            INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id,
                                                      from_state, to_state, detail)
            VALUES (r.id, r.agency_id, me.user_id, r.state, r.state, detail);
            PERFORM casehost.audit('retry', 'referral', r.id, detail);
        END IF;
        RETURN QUERY SELECT r.id, r.destination_id, 'queued'::text, o.attempt_series + 1,
                            o.idempotency_key;
    END LOOP;
    IF n = 0 AND p_referral IS NOT NULL THEN
        RAISE EXCEPTION 'referral % not found', p_referral USING ERRCODE = 'no_data_found';
    END IF;
END
$$;

-- ---------------------------------------------------------- escalation ---

-- As 003's, and a mandatory report whose delivery failed for good: claimed
-- on the next tick, escalated to the destination's fallback (or recorded as
-- having none), once per attempt series.
CREATE OR REPLACE FUNCTION trafficking.referrals_claim_overdue_body()
RETURNS SETOF trafficking.referrals
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH due AS (
        SELECT id FROM trafficking.referrals
         WHERE escalated_at IS NULL
           AND ((state = 'sent' AND sent_at + make_interval(hours => ack_sla_hours) < now())
                OR (state = 'delivery_failed' AND basis = 'mandatory_report'))
         ORDER BY id
         FOR UPDATE SKIP LOCKED)
    UPDATE trafficking.referrals r SET escalated_at = now()
      FROM due WHERE r.id = due.id
    RETURNING r.*
$$;

-- ------------------------------------------------------------- grants ---
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA trafficking FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.referral_retry_v1(bigint, text),
    trafficking.referral_moves(text)
    TO casehost_app;
GRANT EXECUTE ON FUNCTION
    trafficking.outbox_claim_v1(bigint), trafficking.outbox_sent_v2(bigint, text, text, text),
    trafficking.outbox_retry_v2(bigint, text, text, bigint),
    trafficking.outbox_failed_v2(bigint, text, text, text)
    TO casehost_service, casehost_app;
