-- 026_claim_batches.sql: a dispatcher claims up to a batch of ready rows in
-- one short transaction instead of one row per transaction.
--
-- Per referral the dispatcher ran two transactions (claim; outcome), each
-- with its commit and its fixed cost (the caller's identity checked, a round
-- trip). A batch claim takes the first p_max ready rows of the caller's
-- agency in claim order, each checked and leased exactly as a single claim
-- checks and leases it (each with a claim token of its own, so an outcome is
-- recorded only under that row's lease); the dispatcher sends them one by
-- one and records their outcomes together. A worker that dies leaves each
-- row's lease to run out, as before, and another sends it again under the
-- same idempotency key.

-- Claims up to p_max (1 to 100) of the oldest ready outbox rows of the
-- caller's agency: each row and its referral locked with SKIP LOCKED (a row
-- someone else holds is passed over, never waited for), checked again as it
-- is now, and then either held (action 'held', with the reason) or leased to
-- the caller for p_lease_ms with the payload built now from the live facts
-- and the referral's fields (action 'send'). Rows come in claim order
-- (next_attempt_at, id). The caller sends after this statement committed and
-- records each outcome with the row's claim; when a lease ran out and another
-- worker took the row, its outcome is not recorded.
CREATE FUNCTION trafficking.outbox_claim_v2(p_lease_ms bigint, p_max integer)
RETURNS TABLE (id bigint, referral_id bigint, destination_id text, payload text,
               idempotency_key text, attempts integer, action text, reason text, claim text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    r trafficking.referrals;
    u record;
    token uuid;
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
        SELECT * INTO r FROM trafficking.referrals y WHERE y.id = o.referral_id;
        SELECT * INTO u FROM trafficking.outbox_unsafe(o, r);
        IF u.why IS NOT NULL THEN
            IF u.must_revoke THEN
                PERFORM trafficking.referral_move(r.id, 'revoked', u.why);
            ELSIF r.state = 'queued' THEN
                -- The caseworker sees it in the referral's history and in `referral attention`.
                INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id,
                                                          from_state, to_state, detail)
                VALUES (r.id, r.agency_id, casehost.current_actor(), r.state, r.state, u.why);
            END IF;
            UPDATE trafficking.outbox x SET state = 'held', last_error = u.why,
                                            claimed_until = NULL, claim_token = NULL
             WHERE x.id = o.id;
            RETURN QUERY SELECT o.id, o.referral_id, o.destination_id, NULL::text,
                                o.idempotency_key, o.attempts, 'held'::text, u.why, NULL::text;
            CONTINUE;
        END IF;
        token := gen_random_uuid();
        UPDATE trafficking.outbox x
           SET claimed_until = clock_timestamp()
                               + greatest(1000, least(p_lease_ms, 86400000)) * interval '1 millisecond',
               claim_token = token
         WHERE x.id = o.id;
        RETURN QUERY SELECT o.id, o.referral_id, o.destination_id,
                            trafficking.outbox_payload(o)::text, o.idempotency_key, o.attempts,
                            'send'::text, NULL::text, token::text;
    END LOOP;
END
$$;

-- The single-row claim is a batch of one: one body decides what may leave.
CREATE OR REPLACE FUNCTION trafficking.outbox_claim_v1(p_lease_ms bigint)
RETURNS TABLE (id bigint, referral_id bigint, destination_id text, payload text,
               idempotency_key text, attempts integer, action text, reason text, claim text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT * FROM trafficking.outbox_claim_v2(p_lease_ms, 1);
END
$$;

REVOKE EXECUTE ON FUNCTION trafficking.outbox_claim_v2(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.outbox_claim_v2(bigint, integer)
    TO casehost_service, casehost_app;
