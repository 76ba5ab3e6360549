-- 019_external_status.sql: what a help desk linked to a case (the RT
-- bridge) is told about this plugin's work on it, in neutral words only
-- (plugin SQL surface v3): "Assessment: action needed by DATE",
-- "Assessment: done" or "Assessment: declined", and "Follow-up: N open";
-- the attention line "action needed by DATE" while a screening is open, or
-- "action needed on a follow-up" while a referral waits for consent or a
-- failed delivery. Never an answer, a result, a score, an indicator, a
-- destination or anything from the person's record.
--
-- Deferred constraint triggers: the words are computed once the
-- transaction's own writes are all made (a case the RT bridge creates is
-- linked to its ticket after the plugin's hooks suggested a screening), and
-- every row of one transaction arrives at the same words, which the host
-- keeps only when they change.

CREATE FUNCTION trafficking.external_status_publish() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_case bigint := NEW.case_id;
    due timestamptz;
    open_s bigint;
    done_s bigint;
    declined_s bigint;
    open_r bigint;
    waiting_r bigint;
    by_due text;
    words text;
BEGIN
    IF NOT casehost.case_is_external_v1(v_case) THEN
        RETURN NULL;
    END IF;
    SELECT min(s.due_at) FILTER (WHERE s.state IN ('suggested', 'in_progress')),
           count(*) FILTER (WHERE s.state IN ('suggested', 'in_progress')),
           count(*) FILTER (WHERE s.state IN ('completed', 'stopped')),
           count(*) FILTER (WHERE s.state = 'declined')
      INTO due, open_s, done_s, declined_s
      FROM trafficking.screenings s WHERE s.case_id = v_case;
    SELECT count(*) FILTER (WHERE r.state NOT IN ('rejected', 'closed', 'revoked')),
           count(*) FILTER (WHERE r.state IN ('pending_consent', 'delivery_failed'))
      INTO open_r, waiting_r
      FROM trafficking.referrals r WHERE r.case_id = v_case;
    by_due := coalesce(' by ' || to_char(due, 'YYYY-MM-DD HH24:MI TZ'), '');
    words := CASE WHEN open_s > 0 THEN 'Assessment: action needed' || by_due
                  WHEN done_s > 0 THEN 'Assessment: done'
                  WHEN declined_s > 0 THEN 'Assessment: declined' END;
    IF open_r > 0 THEN
        words := concat_ws('; ', words, 'Follow-up: ' || open_r || ' open');
    END IF;
    PERFORM casehost.case_external_status_v1(v_case, 'trafficking', words,
        CASE WHEN open_s > 0 THEN 'action needed' || by_due
             WHEN waiting_r > 0 THEN 'action needed on a follow-up' END);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION trafficking.external_status_publish() FROM PUBLIC;

CREATE CONSTRAINT TRIGGER screenings_external_status
    AFTER INSERT OR UPDATE OF state, due_at ON trafficking.screenings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION trafficking.external_status_publish();
CREATE CONSTRAINT TRIGGER referrals_external_status
    AFTER INSERT OR UPDATE OF state ON trafficking.referrals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION trafficking.external_status_publish();
