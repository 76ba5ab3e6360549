-- 015_retention.sql: the bytes a referral was sent with are personal data.
-- They are kept for the retention the host config sets (the plugin setting
-- sent_retention_days, default 30) and then purged by the tick, leaving their
-- sha-256 and when they left, so what a receiver holds can still be checked
-- against what was sent. Only a row that can never leave again loses its
-- bytes: a queued, retrying, held or failed one is never touched.
-- It never edits an older migration: functions are replaced whole.

-- ------------------------------------------------------------- tables ---

-- payload_purged_at: when the bytes sent were purged; payload_retention_days:
-- the retention in force then (what `referral show` says). A purged row has
-- no payload and was sent; it needs neither a payload nor extra to be valid.
ALTER TABLE trafficking.outbox
    ADD COLUMN payload_purged_at timestamptz,
    ADD COLUMN payload_retention_days integer CHECK (payload_retention_days >= 0),
    ADD CONSTRAINT outbox_purged_only_when_sent
        CHECK (payload_purged_at IS NULL
               OR (state = 'sent' AND payload IS NULL AND sent_at IS NOT NULL
                   AND payload_retention_days IS NOT NULL));
ALTER TABLE trafficking.outbox DROP CONSTRAINT outbox_payload_or_extra;
ALTER TABLE trafficking.outbox ADD CONSTRAINT outbox_payload_or_extra
    CHECK (payload IS NOT NULL OR extra IS NOT NULL OR payload_purged_at IS NOT NULL);

-- What the purge looks for, without reading the whole outbox every tick.
CREATE INDEX outbox_sent_kept ON trafficking.outbox (sent_at)
    WHERE state = 'sent' AND payload IS NOT NULL;

-- Whether and when the bytes sent were purged is no secret to the agency's
-- people; the bytes themselves never were theirs to read (004).
GRANT SELECT (payload_purged_at, payload_retention_days) ON trafficking.outbox TO casehost_app;

-- ------------------------------------------------------------- purging ---

-- Purges the bytes of the caller's agency's outbox rows sent at least
-- p_days days ago (0: every sent row): the payload goes, its sha-256 and
-- sent time stay, and the row records when and under which retention. A
-- row another session holds is left for the next tick (SKIP LOCKED: a tick
-- never waits on a dispatcher). One audit record with the count when
-- anything was purged; returns the count.
CREATE FUNCTION trafficking.outbox_purge_sent_v1(p_days integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM casehost.require_kind(ARRAY['service', 'admin'], 'purging the bytes sent');
    IF p_days IS NULL OR p_days < 0 THEN
        RAISE EXCEPTION 'a retention of % days: it must be 0 or more', coalesce(p_days::text, 'no')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'sent_retention_days in the trafficking plugin''s settings';
    END IF;
    WITH due AS (
        SELECT x.id FROM trafficking.outbox x
         WHERE x.state = 'sent' AND x.payload IS NOT NULL AND x.sent_at IS NOT NULL
           AND x.sent_at <= now() - make_interval(days => p_days)
         ORDER BY x.id
           FOR UPDATE SKIP LOCKED),
    gone AS (
        UPDATE trafficking.outbox o
           SET payload = NULL, payload_purged_at = now(), payload_retention_days = p_days
          FROM due WHERE o.id = due.id
        RETURNING o.id)
    SELECT count(*) INTO n FROM gone;
    IF n > 0 THEN
        PERFORM casehost.audit('purge_sent', 'outbox', NULL,
                               format('purged the bytes of %s referral(s) sent %s day(s) ago or '
                                      'earlier; their sha-256 and sent time are kept', n, p_days));
    END IF;
    RETURN n;
END
$$;

-- ------------------------------------------------------------- grants ---
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA trafficking FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.outbox_purge_sent_v1(integer)
    TO casehost_service, casehost_app;
