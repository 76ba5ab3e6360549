-- 025_attention.sql: `referral attention` at the cost of what needs
-- attention, not of every referral the agency ever made.
--
-- The list (plugins/trafficking/cli/cmd_referral.c) is: delivery failed,
-- held before it left, not sent by its due time, or sent and not
-- acknowledged within its own SLA (sent_at + ack_sla_hours < now). Its
-- one WHERE of ORs over referrals and their outbox rows read every
-- referral of the agency: 2x from 10k to 1M stored cases (make bench). Each
-- branch now has an index of its own, and the command gathers the ids
-- branch by branch before it applies the same condition as before.
--
-- The SLA branch needs the acknowledgement's due time as a stored value:
-- an index on an expression of sent_at and ack_sla_hours would not serve,
-- since under row-level security only leakproof operators reach an index
-- before the policy, and timestamptz + interval is not one. ack_due_at is
-- kept by a trigger on every insert and on every change of either column,
-- so it always equals sent_at + ack_sla_hours hours.

ALTER TABLE trafficking.referrals ADD COLUMN ack_due_at timestamptz;

CREATE FUNCTION trafficking.referral_ack_due() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.ack_due_at := NEW.sent_at + make_interval(hours => NEW.ack_sla_hours);
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION trafficking.referral_ack_due() FROM PUBLIC;
CREATE TRIGGER referrals_ack_due BEFORE INSERT OR UPDATE OF sent_at, ack_sla_hours
    ON trafficking.referrals FOR EACH ROW EXECUTE FUNCTION trafficking.referral_ack_due();

-- The referrals sent before this migration, every agency's: row-level
-- security is lifted for this one statement of the migration's own
-- transaction (the table is locked until it commits) and forced again.
ALTER TABLE trafficking.referrals NO FORCE ROW LEVEL SECURITY;
UPDATE trafficking.referrals SET ack_due_at = sent_at + make_interval(hours => ack_sla_hours)
 WHERE sent_at IS NOT NULL;
ALTER TABLE trafficking.referrals FORCE ROW LEVEL SECURITY;

-- Sent and waiting for an acknowledgement, by when it is due.
CREATE INDEX referrals_ack_overdue ON trafficking.referrals (agency_id, ack_due_at)
    WHERE state = 'sent';
-- Not sent yet, by when it is due.
CREATE INDEX referrals_open_due ON trafficking.referrals (agency_id, due_at)
    WHERE state IN ('pending_consent', 'queued');
-- Held before it left (safe contact, consent).
CREATE INDEX outbox_held ON trafficking.outbox (agency_id) WHERE state = 'held';
