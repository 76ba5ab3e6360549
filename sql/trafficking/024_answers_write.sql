-- 024_answers_write.sql: a screening's answers written at the cost of the
-- rows, not of the session's identity.
--
-- Writing the 30 answers of a screening was the dearest statement of a
-- submit (pg_stat_statements, track = all: 1.7 ms of an unrouted submit):
-- for each row the agency was looked up again (casehost.current_agency() in
-- the select list is a call per row, each a lookup of the session's
-- identity), and two foreign keys were checked (the screening, the agency).
--
-- Here the submit reads the agency and the actor once, as it starts (the
-- session's identity cannot change inside one call), and an answer's two
-- foreign keys become one: (screening_id, agency_id) references the
-- screening's own (id, agency_id), one check a row instead of two, and
-- stricter than before: an answer can no longer carry an agency other than
-- its screening's (the screening's agency_id references the agency, so the
-- agency key is kept through it).

CREATE UNIQUE INDEX screenings_id_agency ON trafficking.screenings (id, agency_id);
ALTER TABLE trafficking.answers
    ADD CONSTRAINT answers_screening_agency_fkey FOREIGN KEY (screening_id, agency_id)
        REFERENCES trafficking.screenings (id, agency_id),
    DROP CONSTRAINT answers_screening_id_fkey,
    DROP CONSTRAINT answers_agency_id_fkey;

-- The body of 001 (renamed screening_submit_body and made SECURITY DEFINER
-- with a pinned search_path in 004), with the agency and actor read once.
CREATE OR REPLACE FUNCTION trafficking.screening_submit_body(p jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ag bigint := casehost.current_agency();
    who bigint := casehost.current_actor();
    sid bigint;
    prev text;
    old trafficking.screenings;
BEGIN
    IF p->>'supersedes' IS NOT NULL THEN
        SELECT * INTO old FROM trafficking.screenings WHERE id = (p->>'supersedes')::bigint
            FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'screening % not found', p->>'supersedes' USING ERRCODE = 'no_data_found';
        END IF;
        IF old.case_id <> (p->>'case')::bigint THEN
            RAISE EXCEPTION 'screening % belongs to case %, not case %', old.id, old.case_id,
                p->>'case' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF old.instrument_id <> p->>'instrument' THEN
            RAISE EXCEPTION 'screening % used instrument %, a correction must use it too',
                old.id, old.instrument_id USING ERRCODE = 'invalid_parameter_value',
                HINT = 'scores belong to one instrument: start a separate screening instead';
        END IF;
        IF old.state NOT IN ('completed', 'stopped', 'declined') THEN
            RAISE EXCEPTION 'screening % is %: only a finished screening can be superseded',
                old.id, old.state USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        IF old.superseded_by IS NOT NULL THEN
            RAISE EXCEPTION 'screening % was already superseded by screening %', old.id,
                old.superseded_by USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;

    INSERT INTO trafficking.instruments (id, version, hash, title, definition)
    VALUES (p->>'instrument', (p->>'version')::integer, p->>'hash', p->>'title', p->>'definition')
    ON CONFLICT DO NOTHING;

    -- Fulfil the open suggestion for this instrument, if there is one.
    SELECT id, state INTO sid, prev FROM trafficking.screenings
     WHERE case_id = (p->>'case')::bigint AND instrument_id = p->>'instrument'
       AND state IN ('suggested', 'in_progress')
     FOR UPDATE;
    IF sid IS NULL THEN
        INSERT INTO trafficking.screenings (agency_id, case_id, instrument_id, state, trigger,
                                            created_by)
        VALUES (ag, (p->>'case')::bigint, p->>'instrument', 'in_progress',
                'manual', who)
        RETURNING id INTO sid;
        prev := NULL;
    END IF;
    UPDATE trafficking.screenings
       SET instrument_version = (p->>'version')::integer, instrument_hash = p->>'hash',
           state = p->>'state', result = p->>'result', band = p->>'band',
           score = (p->>'score')::integer, outcome = p->'outcome', pathway = p->>'pathway',
           age_at_screening = (p->>'age')::integer, decline_reason = p->>'decline_reason',
           supersedes = (p->>'supersedes')::bigint, screener_id = who,
           started_at = coalesce(started_at, now()), finished_at = now()
     WHERE id = sid;
    INSERT INTO trafficking.answers (screening_id, agency_id, item_index, item_id, answer, value)
    SELECT sid, ag, a.i, a.id, a.answer, a.value
      FROM jsonb_to_recordset(coalesce(p->'answers', '[]')) AS a(i integer, id text, answer text,
                                                                value bigint);
    INSERT INTO trafficking.screening_history (screening_id, agency_id, actor_id, from_state,
                                               to_state, detail)
    VALUES (sid, ag, who, prev, p->>'state',
            coalesce(p->>'result', p->>'decline_reason'));
    IF p->>'supersedes' IS NOT NULL THEN
        UPDATE trafficking.screenings SET superseded_by = sid WHERE id = old.id;
        INSERT INTO trafficking.screening_history (screening_id, agency_id, actor_id, from_state,
                                                   to_state, detail)
        VALUES (old.id, ag, who, old.state, old.state,
                'superseded by screening ' || sid);
    END IF;
    PERFORM casehost.audit(p->>'state', 'screening', sid, p->>'instrument');
    RETURN sid;
END
$$;
