-- 016_screening_drafts.sql: the answers of a screening still being asked,
-- kept per case and instrument, so that an interview that outlasts a web
-- session (15 minutes idle) resumes after a new login where it stopped.
-- A draft is no screening: it is never scored, routed or reported, and it
-- goes when a screening of its case and instrument is stored or declined
-- (a trigger on trafficking.screenings, in the same transaction), when a
-- person discards it, or after 30 days untouched (the plugin's tick).
--
-- Agency data under FORCEd row-level security that follows the case's
-- visibility (casehost.case_rls). No role has a grant on the table: people
-- save, read and discard a draft only through the SECURITY DEFINER
-- functions below, which take actor and agency from the role, check the case
-- and audit; services and admins purge old ones. It reads the host only
-- through the plugin surface (core 007). It never edits an older migration.

-- ------------------------------------------------------------- tables ---

-- answers: {"item id": "answer as typed"} for the items answered so far
-- (yes, no, unknown, declined, a count or a choice), read back by `screen
-- resume` as the ITEM=ANSWER arguments of `screen step`.
CREATE TABLE trafficking.screening_drafts (
    agency_id           bigint NOT NULL REFERENCES casehost.agencies(id),
    case_id             bigint NOT NULL REFERENCES casehost.cases(id),
    instrument_id       text NOT NULL,
    instrument_version  integer NOT NULL CHECK (instrument_version >= 1),
    answers             jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    saved_by            bigint NOT NULL REFERENCES casehost.users(id),
    saved_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, instrument_id)
);
-- What the purge looks for.
CREATE INDEX screening_drafts_saved ON trafficking.screening_drafts (saved_at);

SELECT casehost.case_rls('trafficking', ARRAY['screening_drafts']);

-- ------------------------------------------------------ stored: gone ---

-- A screening stored (completed, stopped) or declined ends the draft of its
-- case and instrument. It runs inside screening_submit, as its owner and
-- under the caller's row-level security (its case is the caller's).
CREATE FUNCTION trafficking.screening_draft_end() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM trafficking.screening_drafts d
     WHERE d.case_id = NEW.case_id AND d.instrument_id = NEW.instrument_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER screening_draft_end
    AFTER INSERT OR UPDATE OF state ON trafficking.screenings
    FOR EACH ROW WHEN (NEW.state IN ('completed', 'stopped', 'declined'))
    EXECUTE FUNCTION trafficking.screening_draft_end();

-- ---------------------------------------------------------- functions ---

-- Saves the answers so far of a screening of case p_case with instrument
-- p_instrument, version p_version of the live configuration, replacing the
-- draft there was: p_answers is an object of item id to answer text (1 to
-- 255 characters), every item one of the instrument's. Returns the number
-- of answers saved.
CREATE FUNCTION trafficking.screening_draft_save_v1(p_case bigint, p_instrument text,
                                                    p_version integer, p_answers jsonb)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    items text[];
    bad text;
    n integer;
BEGIN
    PERFORM casehost.case_check_v1(p_case);
    SELECT i.items INTO items FROM trafficking.live_instruments i
     WHERE i.generation = trafficking.live_generation() AND i.id = p_instrument
       AND i.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instrument % version % is not in the live configuration',
            coalesce(p_instrument, '(none)'), coalesce(p_version::text, '(none)')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_answers IS NULL OR jsonb_typeof(p_answers) <> 'object' THEN
        RAISE EXCEPTION 'the answers of a draft are an object of item to answer'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT a.key INTO bad FROM jsonb_each(p_answers) a
     WHERE NOT (a.key = ANY (items)) OR jsonb_typeof(a.value) <> 'string'
        OR length(a.value #>> '{}') NOT BETWEEN 1 AND 255
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'instrument % has no item "%", or its answer is no short text',
            p_instrument, bad USING ERRCODE = 'invalid_parameter_value';
    END IF;
    n := (SELECT count(*) FROM jsonb_object_keys(p_answers));
    INSERT INTO trafficking.screening_drafts AS d (agency_id, case_id, instrument_id,
                                                   instrument_version, answers, saved_by)
    VALUES (me.agency_id, p_case, p_instrument, p_version, p_answers, me.user_id)
    ON CONFLICT (case_id, instrument_id) DO UPDATE SET
        instrument_version = EXCLUDED.instrument_version, answers = EXCLUDED.answers,
        saved_by = EXCLUDED.saved_by, saved_at = now();
    PERFORM casehost.audit('update', 'screening_draft', p_case,
                           p_instrument || ': ' || n || ' answer(s) saved');
    RETURN n;
END
$$;

-- The draft of case p_case for instrument p_instrument (NULL: the case's
-- latest), with its answers: no row when there is none. A draft found is
-- audited as a read.
CREATE FUNCTION trafficking.screening_draft_of_v1(p_case bigint, p_instrument text)
RETURNS TABLE (instrument text, version integer, answers jsonb, answered integer,
               saved_by text, saved_at text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d trafficking.screening_drafts;
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.case_check_v1(p_case);
    SELECT * INTO d FROM trafficking.screening_drafts x
     WHERE x.case_id = p_case AND (p_instrument IS NULL OR x.instrument_id = p_instrument)
     ORDER BY x.saved_at DESC, x.instrument_id LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM casehost.audit('read', 'screening_draft', p_case, d.instrument_id);
    RETURN QUERY
    SELECT d.instrument_id, d.instrument_version, d.answers,
           (SELECT count(*)::integer FROM jsonb_object_keys(d.answers)), u.name,
           to_char(d.saved_at, 'YYYY-MM-DD HH24:MI')
      FROM (SELECT 1) one LEFT JOIN casehost.plugin_user_v1 u ON u.id = d.saved_by;
END
$$;

-- The drafts of case p_case, latest first: which instrument, how many
-- answers, who saved them and when; never an answer (what the case page
-- offers to resume, read with the case).
CREATE FUNCTION trafficking.screening_drafts_v1(p_case bigint)
RETURNS TABLE (instrument text, answered integer, saved_by text, saved_at text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.case_check_v1(p_case);
    RETURN QUERY
    SELECT d.instrument_id, (SELECT count(*)::integer FROM jsonb_object_keys(d.answers)), u.name,
           to_char(d.saved_at, 'YYYY-MM-DD HH24:MI')
      FROM trafficking.screening_drafts d
      LEFT JOIN casehost.plugin_user_v1 u ON u.id = d.saved_by
     WHERE d.case_id = p_case
     ORDER BY d.saved_at DESC, d.instrument_id;
END
$$;

-- Throws away the draft of case p_case for instrument p_instrument (NULL:
-- every draft of the case): the person starts again. Returns how many went.
CREATE FUNCTION trafficking.screening_draft_discard_v1(p_case bigint, p_instrument text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.case_check_v1(p_case);
    DELETE FROM trafficking.screening_drafts d
     WHERE d.case_id = p_case AND (p_instrument IS NULL OR d.instrument_id = p_instrument);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM casehost.audit('discard', 'screening_draft', p_case,
                               coalesce(p_instrument, 'every instrument'));
    END IF;
    RETURN n;
END
$$;

-- Purges the caller's agency's drafts untouched for 30 days: an interview
-- that long ago is started again, not resumed. A draft another session
-- holds is left for the next tick. One audit record with the count when
-- anything went; returns the count.
CREATE FUNCTION trafficking.screening_drafts_purge_v1()
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM casehost.require_kind(ARRAY['service', 'admin'], 'purging old screening drafts');
    WITH due AS (
        SELECT x.case_id, x.instrument_id FROM trafficking.screening_drafts x
         WHERE x.saved_at <= now() - interval '30 days'
         ORDER BY x.case_id, x.instrument_id
           FOR UPDATE SKIP LOCKED),
    gone AS (
        DELETE FROM trafficking.screening_drafts d USING due
         WHERE d.case_id = due.case_id AND d.instrument_id = due.instrument_id
        RETURNING d.case_id)
    SELECT count(*) INTO n FROM gone;
    IF n > 0 THEN
        PERFORM casehost.audit('purge', 'screening_draft', NULL,
                               format('purged %s screening draft(s) untouched for 30 days', n));
    END IF;
    RETURN n;
END
$$;

-- ------------------------------------------------------------- grants ---
-- No table grants: people reach drafts through the functions above.
REVOKE ALL ON trafficking.screening_drafts FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION trafficking.screening_draft_end(),
    trafficking.screening_draft_save_v1(bigint, text, integer, jsonb),
    trafficking.screening_draft_of_v1(bigint, text), trafficking.screening_drafts_v1(bigint),
    trafficking.screening_draft_discard_v1(bigint, text), trafficking.screening_drafts_purge_v1()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.screening_draft_save_v1(bigint, text, integer, jsonb),
    trafficking.screening_draft_of_v1(bigint, text), trafficking.screening_drafts_v1(bigint),
    trafficking.screening_draft_discard_v1(bigint, text)
    TO casehost_app;
GRANT EXECUTE ON FUNCTION trafficking.screening_drafts_purge_v1()
    TO casehost_service, casehost_app;
