-- 027_revoked_in_flight.sql: a referral revoked while its bytes are on their
-- way is recorded as having left.
--
-- `consent revoke` (and every move to 'revoked') holds the referral's outbox
-- row and cleared its claim. When the dispatcher had the row on its way (a
-- send runs up to --timeout-ms), the send could not be recorded any more:
-- outbox_sent_v2 found no claim to match and recorded nothing, so the
-- database said the referral never left although the receiver had it.
-- Now a row whose lease is still running keeps its claim when it is held:
-- outbox_sent_v2's existing branch records the send ("..., although it
-- became revoked while on its way", the bytes and their sha-256 kept). Every
-- other use of the claim of a row that is no longer pending clears it and
-- answers false, recording nothing: a failed attempt (outbox_retry_v2,
-- outbox_failed_v2: the row stays held, nothing is "tried again" or "failed
-- for good"), a release (dispatch_release_v1: there is nothing to give back)
-- and the check before a batch's later send (outbox_confirm_v1: 'lost', not
-- sent). No claim takes a held row. Recording a send or a final failure
-- locks the referral before the outbox row, as a revoke does, so the two
-- no longer deadlock.

-- As 013's, but a row on its way keeps its claim when it is held.
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
    -- A referral that will not be sent holds its outbox row. A row whose
    -- lease is running may be on its way: its claim stays, so that the
    -- dispatcher can still record that it left (outbox_sent_v2: sent,
    -- "although it became revoked while on its way"); no claim takes a held
    -- row, and a later check of the batch finds it held and sends nothing.
    IF p_to = 'revoked' THEN
        UPDATE trafficking.outbox
           SET state = 'held', last_error = 'referral revoked', claimed_until = NULL,
               claim_token = CASE WHEN claimed_until > clock_timestamp() THEN claim_token END
         WHERE referral_id = p_id AND state IN ('pending', 'failed');
    END IF;
    PERFORM casehost.audit(p_to, 'referral', p_id, p_detail);
    RETURN r;
END
$$;

-- Locks the referral of outbox row p_outbox, before the row itself: the
-- order referral_move takes them in (the referral, then its outbox row).
-- Recording a send took them the other way round, so a revoke and the
-- outcome of a send could deadlock, and PostgreSQL aborted one of them: a
-- caseworker's revoke, or the record that the referral left. Internal: no
-- grants.
CREATE FUNCTION trafficking.outbox_lock_referral(p_outbox bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM 1 FROM trafficking.referrals y
     WHERE y.id = (SELECT x.referral_id FROM trafficking.outbox x WHERE x.id = p_outbox)
       FOR UPDATE;
END
$$;
REVOKE EXECUTE ON FUNCTION trafficking.outbox_lock_referral(bigint) FROM PUBLIC;

-- As 013's, but the referral is locked before the outbox row.
CREATE OR REPLACE FUNCTION trafficking.outbox_sent_v2(p_outbox bigint, p_claim text,
                                                     p_detail text, p_sent text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    r trafficking.referrals;
BEGIN
    PERFORM trafficking.require_service();
    PERFORM trafficking.outbox_lock_referral(p_outbox);
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

-- The row p_outbox if p_claim is its lease and it is still pending. A row
-- held since it was claimed has that claim spent here (it records nothing
-- more); NULL then, as for a claim that is not its lease. Internal: no
-- grants; the outcome functions below run it.
CREATE FUNCTION trafficking.outbox_pending_leased(p_outbox bigint, p_claim text)
RETURNS trafficking.outbox
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox := trafficking.outbox_leased(p_outbox, p_claim);
BEGIN
    IF o.id IS NOT NULL AND o.state <> 'pending' THEN
        UPDATE trafficking.outbox x SET claim_token = NULL WHERE x.id = o.id;
        RETURN NULL;
    END IF;
    RETURN o;
END
$$;
REVOKE EXECUTE ON FUNCTION trafficking.outbox_pending_leased(bigint, text) FROM PUBLIC;

-- As 013's, but a failed attempt at a row held while it was on its way is
-- not "tried again": the row stays held, its claim is cleared, and false
-- tells the dispatcher that nothing was recorded (it logs why).
CREATE OR REPLACE FUNCTION trafficking.outbox_retry_v2(p_outbox bigint, p_claim text,
                                                       p_error text, p_delay_ms bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
BEGIN
    PERFORM trafficking.require_service();
    o := trafficking.outbox_pending_leased(p_outbox, p_claim);
    IF o.id IS NULL THEN
        RETURN false;
    END IF;
    UPDATE trafficking.outbox x
       SET attempts = x.attempts + 1, last_error = p_error, claimed_until = NULL,
           claim_token = NULL,
           next_attempt_at = clock_timestamp()
                             + greatest(0, least(p_delay_ms, 86400000)) * interval '1 millisecond'
     WHERE x.id = o.id;
    RETURN true;
END
$$;

-- As 013's, but the last failed attempt at a row held while it was on its
-- way does not make its referral 'delivery_failed' or write that it failed
-- for good: the row stays held, its claim is cleared, false. The referral
-- is locked before the outbox row.
CREATE OR REPLACE FUNCTION trafficking.outbox_failed_v2(p_outbox bigint, p_claim text,
                                                        p_error text, p_detail text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    r trafficking.referrals;
BEGIN
    PERFORM trafficking.require_service();
    PERFORM trafficking.outbox_lock_referral(p_outbox);
    o := trafficking.outbox_pending_leased(p_outbox, p_claim);
    IF o.id IS NULL THEN
        RETURN false;
    END IF;
    UPDATE trafficking.outbox x
       SET state = 'failed', attempts = x.attempts + 1, last_error = p_error,
           claimed_until = NULL, claim_token = NULL
     WHERE x.id = o.id;
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

-- As 014's, but a claimed outbox row that is no longer pending (held while
-- it was claimed) has nothing to give back: its claim is cleared, false.
CREATE OR REPLACE FUNCTION trafficking.dispatch_release_v1(p_what text, p_id bigint,
                                                           p_claim text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    n trafficking.notices;
BEGIN
    PERFORM trafficking.require_service();
    IF p_what = 'outbox' THEN
        o := trafficking.outbox_pending_leased(p_id, p_claim);
        IF o.id IS NULL THEN
            RETURN false;
        END IF;
        UPDATE trafficking.outbox x SET claimed_until = NULL, claim_token = NULL WHERE x.id = o.id;
    ELSIF p_what = 'notice' THEN
        n := trafficking.notice_leased(p_id, p_claim);
        IF n.id IS NULL THEN
            RETURN false;
        END IF;
        UPDATE trafficking.notices x SET claimed_until = NULL, claim_token = NULL WHERE x.id = n.id;
    ELSE
        RAISE EXCEPTION 'unknown row kind "%"', p_what
            USING ERRCODE = 'invalid_parameter_value', HINT = 'outbox or notice';
    END IF;
    RETURN true;
END
$$;
