-- 017_reports.sql: what the agency reports (`casehost report ...`) need of
-- the database: the indexes their date ranges and groupings scan, and the
-- one aggregate people may not compute themselves, consent, whose rows they
-- may not read (consent details reach a person only through an audited
-- function of a person's own).
--
-- The reports read aggregates only; the plugin's C sends each report as one
-- statement (db/report.c) and audits each run. Nothing here returns a row
-- about a person. It reads the host only through the plugin surface (core
-- 007) and never edits an older migration.

-- ------------------------------------------------------------ indexes ---

-- Screenings and referrals by when they were made, within the agency (the
-- row-level security predicate): the period of every report.
CREATE INDEX screenings_agency_created ON trafficking.screenings (agency_id, created_at);
CREATE INDEX referrals_agency_created ON trafficking.referrals (agency_id, created_at);
-- Screenings due after a runaway return, by their due time (deadlines).
CREATE INDEX screenings_runaway_due ON trafficking.screenings (agency_id, due_at)
    WHERE trigger = 'runaway_return';
-- The lifecycle moves of a referral by state: when it was queued and acknowledged.
CREATE INDEX referral_history_referral_state ON trafficking.referral_history
    (referral_id, to_state, at);
-- The decision a referral came from, and its screening (time from screening to referral).
CREATE INDEX decisions_screening ON trafficking.decisions (id, screening_id);
-- Consent events by when they happened.
CREATE INDEX consents_agency_granted ON trafficking.consents (agency_id, granted_at);
CREATE INDEX consents_agency_revoked ON trafficking.consents (agency_id, revoked_at)
    WHERE revoked_at IS NOT NULL;
CREATE INDEX consents_agency_expires ON trafficking.consents (agency_id, expires_at);
CREATE INDEX declines_agency_declined ON trafficking.declines (agency_id, declined_at);

-- ------------------------------------------------------------ consent ---

-- Consent events of the caller's agency from p_from to p_to (whole days in
-- the session's time zone, which the host sets to the agency's; NULL: open
-- ended) counted by p_by: 'purpose', 'recipient_kind', 'week' or 'month'.
-- Each event counts in the period it happened: granted at granted_at,
-- revoked at revoked_at, expired at expires_at (not revoked before, and
-- past), declined (a person's lasting refusal of a recipient) at
-- declined_at. A refusal has no purpose: it counts under 'any'. By
-- recipient kind a consent naming two kinds counts under each; the total
-- row (total true, grp NULL) counts each event once. A caseworker counts
-- only what they recorded; supervisors and admins their agency's (row-level
-- security). Counts only, never a row about a person; the command audits
-- the run.
CREATE FUNCTION trafficking.report_consent_v1(p_from date, p_to date, p_by text)
RETURNS TABLE (grp text, granted bigint, declined bigint, revoked bigint, expired bigint,
               total boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities;
BEGIN
    me := casehost.require_kind(ARRAY['caseworker', 'supervisor', 'admin'], 'reading reports');
    IF p_by IS NULL OR p_by NOT IN ('purpose', 'recipient_kind', 'week', 'month') THEN
        RAISE EXCEPTION 'consent report: cannot group by "%"', coalesce(p_by, '(none)')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'group by one of: purpose, recipient_kind, week, month';
    END IF;
    IF p_from > p_to THEN
        RAISE EXCEPTION 'consent report: from % is after to %', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH ev AS (
        SELECT c.granted_at AS at, 'granted' AS what, c.purpose, c.recipients
          FROM trafficking.consents c
         WHERE (me.kind <> 'caseworker' OR c.recorded_by = me.user_id)
        UNION ALL
        SELECT c.revoked_at, 'revoked', c.purpose, c.recipients
          FROM trafficking.consents c
         WHERE c.revoked_at IS NOT NULL
           AND (me.kind <> 'caseworker' OR c.recorded_by = me.user_id)
        UNION ALL
        SELECT c.expires_at, 'expired', c.purpose, c.recipients
          FROM trafficking.consents c
         WHERE c.expires_at <= now() AND (c.revoked_at IS NULL OR c.revoked_at > c.expires_at)
           AND (me.kind <> 'caseworker' OR c.recorded_by = me.user_id)
        UNION ALL
        SELECT d.declined_at, 'declined', 'any', ARRAY[d.recipient]
          FROM trafficking.declines d
         WHERE (me.kind <> 'caseworker' OR d.recorded_by = me.user_id)),
    inrange AS (
        SELECT * FROM ev
         WHERE (p_from IS NULL OR ev.at >= p_from::timestamptz)
           AND (p_to IS NULL OR ev.at < (p_to + 1)::timestamptz)),
    grouped AS (
        SELECT g.grp, e.what
          FROM inrange e
         CROSS JOIN LATERAL (
               SELECT DISTINCT CASE WHEN r LIKE 'kind:%' THEN substr(r, 6)
                                    ELSE coalesce((SELECT min(l.kind)
                                                     FROM trafficking.live_destinations l
                                                    WHERE l.id = r), 'unknown') END
                 FROM unnest(e.recipients) r
                WHERE p_by = 'recipient_kind'
               UNION ALL
               SELECT CASE p_by WHEN 'purpose' THEN e.purpose
                                WHEN 'week' THEN to_char(date_trunc('week', e.at), 'YYYY-MM-DD')
                                ELSE to_char(date_trunc('month', e.at), 'YYYY-MM') END
                WHERE p_by <> 'recipient_kind') g(grp))
    SELECT x.grp, count(*) FILTER (WHERE x.what = 'granted'),
           count(*) FILTER (WHERE x.what = 'declined'), count(*) FILTER (WHERE x.what = 'revoked'),
           count(*) FILTER (WHERE x.what = 'expired'), false
      FROM grouped x GROUP BY x.grp
    UNION ALL
    SELECT NULL, count(*) FILTER (WHERE i.what = 'granted'),
           count(*) FILTER (WHERE i.what = 'declined'), count(*) FILTER (WHERE i.what = 'revoked'),
           count(*) FILTER (WHERE i.what = 'expired'), true
      FROM inrange i
     ORDER BY 6, 1;
END
$$;

-- ------------------------------------------------------------- grants ---
REVOKE ALL ON FUNCTION trafficking.report_consent_v1(date, date, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.report_consent_v1(date, date, text) TO casehost_app;
