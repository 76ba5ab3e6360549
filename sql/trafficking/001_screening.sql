-- 001_screening.sql: instruments as loaded (definition and hash), screenings
-- with their answers and state history. Completed screenings never change: a
-- correction is a new screening that supersedes the old one. Every row with
-- case data carries its agency for row-level security.

CREATE SCHEMA trafficking;
GRANT USAGE ON SCHEMA trafficking TO casehost_app;

-- Each distinct definition ever used, so an old screening stays readable and
-- scorable after its file changes. Instruments are shared by all agencies.
CREATE TABLE trafficking.instruments (
    id          text NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    hash        text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    title       text NOT NULL,
    definition  text NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, version, hash)
);

CREATE TABLE trafficking.screenings (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id           bigint NOT NULL REFERENCES casehost.agencies(id),
    case_id             bigint NOT NULL REFERENCES casehost.cases(id),
    instrument_id       text NOT NULL,
    instrument_version  integer,
    instrument_hash     text,
    state               text NOT NULL CHECK (state IN ('suggested', 'in_progress', 'completed',
                                                       'stopped', 'declined')),
    trigger             text,          -- the trigger that suggested it, or 'manual'
    reason              text,
    due_at              timestamptz,
    pathway             text CHECK (pathway IN ('minor', 'adult', 'minor_unknown_age')),
    age_at_screening    integer,
    result              text CHECK (result IN ('negative', 'possible', 'positive', 'incomplete')),
    band                text,
    score               integer,
    outcome             jsonb,         -- counts per answer kind, domain scores, stop item
    decline_reason      text,
    supersedes          bigint REFERENCES trafficking.screenings(id),
    superseded_by       bigint REFERENCES trafficking.screenings(id),
    screener_id         bigint REFERENCES casehost.users(id),
    created_by          bigint REFERENCES casehost.users(id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    FOREIGN KEY (instrument_id, instrument_version, instrument_hash)
        REFERENCES trafficking.instruments (id, version, hash),
    CHECK ((state IN ('completed', 'stopped')) = (result IS NOT NULL)),
    CHECK (state <> 'declined' OR decline_reason IS NOT NULL)
);
-- One open screening per case and instrument: a second suggestion is a no-op.
CREATE UNIQUE INDEX screenings_one_open ON trafficking.screenings (case_id, instrument_id)
    WHERE state IN ('suggested', 'in_progress');
CREATE INDEX screenings_due ON trafficking.screenings (agency_id, due_at)
    WHERE state IN ('suggested', 'in_progress');
CREATE INDEX screenings_case ON trafficking.screenings (case_id);

CREATE TABLE trafficking.answers (
    screening_id  bigint NOT NULL REFERENCES trafficking.screenings(id),
    agency_id     bigint NOT NULL REFERENCES casehost.agencies(id),
    item_index    integer NOT NULL,
    item_id       text NOT NULL,
    answer        text NOT NULL CHECK (answer IN ('not_asked', 'yes', 'no', 'unknown',
                                                  'declined', 'value')),
    value         bigint,
    PRIMARY KEY (screening_id, item_index),
    CHECK ((answer = 'value') = (value IS NOT NULL))
);

CREATE TABLE trafficking.screening_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    screening_id  bigint NOT NULL REFERENCES trafficking.screenings(id),
    agency_id     bigint NOT NULL REFERENCES casehost.agencies(id),
    at            timestamptz NOT NULL DEFAULT now(),
    actor_id      bigint REFERENCES casehost.users(id),
    from_state    text,
    to_state      text NOT NULL,
    detail        text
);
CREATE INDEX screening_history_screening ON trafficking.screening_history (screening_id);

-- A finished screening is a record: only its superseded_by may be set, once.
CREATE FUNCTION trafficking.screening_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state IN ('completed', 'stopped', 'declined') THEN
        -- Only a correction that names this screening may mark it superseded.
        IF OLD.superseded_by IS NULL AND NEW.superseded_by IS NOT NULL
           AND (to_jsonb(NEW) - 'superseded_by') = (to_jsonb(OLD) - 'superseded_by')
           AND EXISTS (SELECT 1 FROM trafficking.screenings
                        WHERE id = NEW.superseded_by AND supersedes = OLD.id) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'screening % is %, and a finished screening cannot change', OLD.id, OLD.state
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'record a correction as a new screening that supersedes it';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER screening_immutable BEFORE UPDATE ON trafficking.screenings
    FOR EACH ROW EXECUTE FUNCTION trafficking.screening_immutable();

CREATE FUNCTION trafficking.answers_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'answers of a screening are never changed or removed'
        USING ERRCODE = 'object_not_in_prerequisite_state';
END
$$;
CREATE TRIGGER answers_immutable BEFORE UPDATE OR DELETE ON trafficking.answers
    FOR EACH ROW EXECUTE FUNCTION trafficking.answers_immutable();

SELECT casehost.agency_rls('trafficking', ARRAY['screenings', 'answers', 'screening_history']);

GRANT SELECT, INSERT ON trafficking.instruments TO casehost_app;
GRANT SELECT, INSERT, UPDATE ON trafficking.screenings TO casehost_app;
GRANT SELECT, INSERT ON trafficking.answers, trafficking.screening_history TO casehost_app;

-- Suggests a screening unless one for the same instrument is already open.
-- Returns the new id, or NULL when it was a duplicate.
CREATE FUNCTION trafficking.screening_suggest(p_case bigint, p_instrument text, p_trigger text,
                                              p_reason text, p_due_hours integer)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO trafficking.screenings (agency_id, case_id, instrument_id, state, trigger, reason,
                                        due_at, created_by)
    VALUES (casehost.current_agency(), p_case, p_instrument, 'suggested', p_trigger, p_reason,
            now() + make_interval(hours => p_due_hours), casehost.current_actor())
    ON CONFLICT (case_id, instrument_id) WHERE state IN ('suggested', 'in_progress') DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NOT NULL THEN
        INSERT INTO trafficking.screening_history (screening_id, agency_id, actor_id, to_state,
                                                   detail)
        VALUES (new_id, casehost.current_agency(), casehost.current_actor(), 'suggested',
                p_trigger || ': ' || p_reason);
        PERFORM casehost.audit('suggest', 'screening', new_id, p_instrument);
    END IF;
    RETURN new_id;
END
$$;

-- Records a finished screening in one statement: the screening (new, or the
-- open suggestion it fulfils), every answer, its history row and the audit
-- record. p is a JSON object built by the plugin:
--   {case, instrument, version, hash, title, definition, state, result, band,
--    score, pathway, age,
--    outcome, supersedes, decline_reason, answers: [{i, id, answer, value}]}
CREATE FUNCTION trafficking.screening_submit(p jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
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
        VALUES (casehost.current_agency(), (p->>'case')::bigint, p->>'instrument', 'in_progress',
                'manual', casehost.current_actor())
        RETURNING id INTO sid;
        prev := NULL;
    END IF;
    UPDATE trafficking.screenings
       SET instrument_version = (p->>'version')::integer, instrument_hash = p->>'hash',
           state = p->>'state', result = p->>'result', band = p->>'band',
           score = (p->>'score')::integer, outcome = p->'outcome', pathway = p->>'pathway',
           age_at_screening = (p->>'age')::integer, decline_reason = p->>'decline_reason',
           supersedes = (p->>'supersedes')::bigint, screener_id = casehost.current_actor(),
           started_at = coalesce(started_at, now()), finished_at = now()
     WHERE id = sid;
    INSERT INTO trafficking.answers (screening_id, agency_id, item_index, item_id, answer, value)
    SELECT sid, casehost.current_agency(), a.i, a.id, a.answer, a.value
      FROM jsonb_to_recordset(coalesce(p->'answers', '[]')) AS a(i integer, id text, answer text,
                                                                value bigint);
    INSERT INTO trafficking.screening_history (screening_id, agency_id, actor_id, from_state,
                                               to_state, detail)
    VALUES (sid, casehost.current_agency(), casehost.current_actor(), prev, p->>'state',
            coalesce(p->>'result', p->>'decline_reason'));
    IF p->>'supersedes' IS NOT NULL THEN
        UPDATE trafficking.screenings SET superseded_by = sid WHERE id = old.id;
        INSERT INTO trafficking.screening_history (screening_id, agency_id, actor_id, from_state,
                                                   to_state, detail)
        VALUES (old.id, casehost.current_agency(), casehost.current_actor(), old.state, old.state,
                'superseded by screening ' || sid);
    END IF;
    PERFORM casehost.audit(p->>'state', 'screening', sid, p->>'instrument');
    RETURN sid;
END
$$;
