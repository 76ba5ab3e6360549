-- 026_claim_batches.sql: a dispatcher claims up to a batch of ready rows in
-- one short transaction instead of one row per transaction.
--
-- Per referral the dispatcher ran two transactions (claim; outcome), each
-- with its commit and its fixed cost (the caller's identity checked, a round
-- trip). A batch claim takes the first p_max ready rows of the caller's
-- agency in claim order, each checked and leased exactly as a single claim
-- checks and leases it (each with a claim token of its own, so an outcome is
-- recorded only under that row's lease). The dispatcher sends them one by
-- one, each later row only after outbox_confirm_v1 checked it again and
-- built its payload anew (a consent revoked while an earlier row was on its
-- way stops it), and records each outcome as its send ends. A worker that
-- dies leaves each row's lease to run out, as before, and another sends the
-- one it had in flight again under the same idempotency key.

-- Vets the outbox row o of referral r as it is now (consent, declines, safe
-- contact, the referral's state: outbox_unsafe) and either holds it (action
-- 'held' with the reason; a referral whose consent no longer allows it is
-- revoked, any other hold is written to the referral's history) or builds
-- the payload it must leave with, from the live facts (action 'send').
-- Internal: no grants; it runs inside outbox_claim_v2 and outbox_confirm_v1.
CREATE FUNCTION trafficking.outbox_vet(o trafficking.outbox, r trafficking.referrals,
                                       OUT action text, OUT reason text, OUT payload text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u record;
BEGIN
    SELECT * INTO u FROM trafficking.outbox_unsafe(o, r);
    IF u.why IS NULL THEN
        action := 'send';
        payload := trafficking.outbox_payload(o)::text;
        RETURN;
    END IF;
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
    action := 'held';
    reason := u.why;
END
$$;

-- Claims up to p_max (1 to 100) of the oldest ready outbox rows of the
-- caller's agency: each row and its referral locked with SKIP LOCKED (a row
-- someone else holds is passed over, never waited for) and leased to the
-- caller for p_lease_ms. Rows come in claim order (next_attempt_at, id).
-- Rows are vetted as they are now (outbox_vet) until one may leave: each
-- held comes back as 'held' with the reason, the first that may leave as
-- 'send' with the payload built now, to be sent once this statement
-- committed. The rows after it come as 'send' with no payload and are not
-- vetted here: the caller gets each one's payload only from
-- outbox_confirm_v1, which vets it just before its send (vetting them here
-- too, some sends earlier, would be work thrown away). The caller records
-- each outcome with the row's claim; when a lease ran out and another worker
-- took the row, its outcome is not recorded.
CREATE FUNCTION trafficking.outbox_claim_v2(p_lease_ms bigint, p_max integer)
RETURNS TABLE (id bigint, referral_id bigint, destination_id text, payload text,
               idempotency_key text, attempts integer, action text, reason text, claim text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    r trafficking.referrals;
    v record;
    token uuid;
    pay text;
    vetted boolean := false; -- a row that may leave was found: the rest wait for their check
BEGIN
    PERFORM trafficking.require_service();
    IF p_max IS NULL OR p_max < 1 OR p_max > 100 THEN
        RAISE EXCEPTION 'a claim takes 1 to 100 rows, not %', coalesce(p_max::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR o IN SELECT x.* FROM trafficking.outbox x
               JOIN trafficking.referrals y ON y.id = x.referral_id
              WHERE x.state = 'pending' AND x.next_attempt_at <= now()
                AND (x.claimed_until IS NULL OR x.claimed_until <= clock_timestamp())
              ORDER BY x.next_attempt_at, x.id LIMIT p_max
                FOR UPDATE OF x, y SKIP LOCKED
    LOOP
        pay := NULL;
        IF NOT vetted THEN
            SELECT * INTO r FROM trafficking.referrals y WHERE y.id = o.referral_id;
            SELECT * INTO v FROM trafficking.outbox_vet(o, r);
            IF v.action = 'held' THEN
                RETURN QUERY SELECT o.id, o.referral_id, o.destination_id, NULL::text,
                                    o.idempotency_key, o.attempts, 'held'::text, v.reason,
                                    NULL::text;
                CONTINUE;
            END IF;
            vetted := true;
            pay := v.payload;
        END IF;
        token := gen_random_uuid();
        UPDATE trafficking.outbox x
           SET claimed_until = clock_timestamp()
                               + greatest(1000, least(p_lease_ms, 86400000)) * interval '1 millisecond',
               claim_token = token
         WHERE x.id = o.id;
        RETURN QUERY SELECT o.id, o.referral_id, o.destination_id, pay, o.idempotency_key,
                            o.attempts, 'send'::text, NULL::text, token::text;
    END LOOP;
END
$$;

-- Vets the claimed row p_outbox again just before it is sent, when it was
-- claimed some sends ago in a batch: 'send' with the payload built now;
-- 'held' with the reason when it may not leave now (held by this call, as a
-- claim holds it); 'lost' with the reason when it is no longer the caller's
-- to send (held by someone since the claim, a consent revoked say, or the
-- claim p_claim is no longer its lease). It takes no lock and writes nothing
-- unless it holds the row or spends the claim of a row held meanwhile, so
-- that it usually costs no commit of its own: a change
-- committed after it is found when the outcome is recorded, as for a row
-- sent right after its claim.
CREATE FUNCTION trafficking.outbox_confirm_v1(p_outbox bigint, p_claim text,
                                              OUT action text, OUT reason text, OUT payload text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    r trafficking.referrals;
BEGIN
    PERFORM trafficking.require_service();
    SELECT * INTO o FROM trafficking.outbox x WHERE x.id = p_outbox;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'outbox row % not found', p_outbox USING ERRCODE = 'no_data_found';
    END IF;
    IF o.state <> 'pending' THEN
        -- Held since the claim: the claim is spent (the only write besides a hold).
        IF o.claim_token::text = p_claim THEN
            UPDATE trafficking.outbox x SET claim_token = NULL WHERE x.id = o.id;
        END IF;
        action := 'lost';
        reason := format('it became %s since it was claimed%s', o.state,
                         coalesce(' (' || o.last_error || ')', ''));
        RETURN;
    END IF;
    IF o.claim_token IS NULL OR o.claim_token::text <> p_claim
       OR o.claimed_until <= clock_timestamp() THEN
        action := 'lost';
        reason := 'its lease ran out';
        RETURN;
    END IF;
    SELECT * INTO r FROM trafficking.referrals y WHERE y.id = o.referral_id;
    SELECT * INTO action, reason, payload FROM trafficking.outbox_vet(o, r);
END
$$;

REVOKE EXECUTE ON FUNCTION trafficking.outbox_vet(trafficking.outbox, trafficking.referrals),
    trafficking.outbox_claim_v2(bigint, integer), trafficking.outbox_confirm_v1(bigint, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.outbox_claim_v2(bigint, integer),
    trafficking.outbox_confirm_v1(bigint, text)
    TO casehost_service, casehost_app;
