-- 030_escalation_due.sql: the overdue referrals each tick escalates, found
-- by index. Same rows claimed, in the same order, with the same locks; the
-- function keeps its signature, definer rights and grants (CREATE OR
-- REPLACE keeps the owner and grants).
--
-- referrals_claim_overdue_body (013) found the sent referrals whose
-- acknowledgement is overdue with sent_at + ack_sla_hours < now(), which no
-- index can serve (under row-level security only leakproof operators reach
-- an index before the policy, and timestamptz + interval is not one): every
-- tick read every referral the agency ever made. With 46,440 referrals:
-- 55 ms a tick, growing with each one. ack_due_at (025) holds that sum,
-- kept by a trigger on every insert and every change of either column. The
-- index 002 made for this claim, on sent_at, served the claim of 003 and
-- nothing since; it gives way to one on ack_due_at over the same rows
-- (sent, not escalated). The same claim: 0.4-1.3 ms.
DROP INDEX trafficking.referrals_ack_due;
CREATE INDEX referrals_escalation_due ON trafficking.referrals (agency_id, ack_due_at)
    WHERE state = 'sent' AND escalated_at IS NULL;

CREATE OR REPLACE FUNCTION trafficking.referrals_claim_overdue_body()
RETURNS SETOF trafficking.referrals
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH due AS (
        SELECT id FROM trafficking.referrals
         WHERE escalated_at IS NULL
           AND ((state = 'sent' AND ack_due_at < now())
                OR (state = 'delivery_failed' AND basis = 'mandatory_report'))
         ORDER BY id
         FOR UPDATE SKIP LOCKED)
    UPDATE trafficking.referrals r SET escalated_at = now()
      FROM due WHERE r.id = due.id
    RETURNING r.*
$$;
