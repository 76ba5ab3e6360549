-- 010_determinations.sql: what a person has found about a case, apart from
-- any screening result, and when the exploitation happened.
--
-- A determination (at risk, suspected, confirmed; sex, labour or both) is
-- recorded by a person with a reason. A positive screen asks for an
-- assessment and is no finding (DOMAIN rule 7): nothing here is derived
-- from a screening, and no screening writes here. A case has one current
-- determination, the one not superseded; a new one supersedes it and both
-- are kept.
--
-- An exploitation episode carries its own dates, so that the age at
-- exploitation can be computed from them (a person exploited before 18 was
-- a child victim even if an adult now). A removed episode is kept, marked
-- with who removed it and why; nothing is ever deleted.
--
-- Who may record what: a caseworker records at_risk and suspected; a
-- confirmed determination needs a supervisor or an admin (it is the finding
-- that a person is a victim). For the same reason only a supervisor or an
-- admin replaces a confirmed determination, with any level: a caseworker
-- cannot undo a supervisor's finding by recording a lower one.
--
-- Both tables are agency data under FORCEd row-level security that also
-- follows the case's visibility (casehost.case_rls). People read them only
-- through audited functions and write them only through SECURITY DEFINER
-- functions that take actor and agency from the role. It reads the host
-- only through the plugin surface (core 007).

-- ------------------------------------------------------------- tables ---

CREATE TABLE trafficking.exploitation_episodes (
    id              bigserial PRIMARY KEY,
    agency_id       bigint NOT NULL REFERENCES casehost.agencies(id),
    case_id         bigint NOT NULL REFERENCES casehost.cases(id),
    -- Not in the future (episode_record_v1 checks it: a CHECK cannot read
    -- the clock); no year a person now in care could have been exploited in.
    started_on      date NOT NULL CHECK (started_on BETWEEN '1900-01-01' AND '9999-12-31'),
    ended_on        date CHECK (ended_on >= started_on AND ended_on <= '9999-12-31'),
    kind            text CHECK (kind IN ('sex', 'labour', 'both', 'unclear')),
    note            text NOT NULL CHECK (btrim(note) <> ''),
    recorded_by     bigint NOT NULL REFERENCES casehost.users(id),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    removed_at      timestamptz,
    removed_by      bigint REFERENCES casehost.users(id),
    removed_reason  text CHECK (btrim(removed_reason) <> ''),
    CHECK ((removed_at IS NULL) = (removed_by IS NULL)
           AND (removed_at IS NULL) = (removed_reason IS NULL))
);
CREATE INDEX exploitation_episodes_case ON trafficking.exploitation_episodes (case_id);

-- superseded_by is set in the transaction that records its successor, whose
-- id is drawn first: the key is checked at commit.
CREATE TABLE trafficking.determinations (
    id                bigserial PRIMARY KEY,
    agency_id         bigint NOT NULL REFERENCES casehost.agencies(id),
    case_id           bigint NOT NULL REFERENCES casehost.cases(id),
    level             text NOT NULL CHECK (level IN ('at_risk', 'suspected', 'confirmed')),
    trafficking_type  text CHECK (trafficking_type IN ('sex', 'labour', 'both')),
    reason            text NOT NULL CHECK (btrim(reason) <> ''),
    determined_by     bigint NOT NULL REFERENCES casehost.users(id),
    determined_at     timestamptz NOT NULL DEFAULT now(),
    superseded_by     bigint REFERENCES trafficking.determinations(id)
                          DEFERRABLE INITIALLY DEFERRED,
    CHECK (level = 'at_risk' OR trafficking_type IS NOT NULL),
    CHECK (superseded_by <> id)
);
-- One current determination per case.
CREATE UNIQUE INDEX determinations_one_current ON trafficking.determinations (case_id)
    WHERE superseded_by IS NULL;

SELECT casehost.case_rls('trafficking', ARRAY['exploitation_episodes', 'determinations']);

-- ------------------------------------------------------------ episodes ---

-- Records an exploitation episode of case p_case: from p_from, until p_to
-- (NULL: still going on, or not known), of kind p_kind (NULL: not said).
-- Returns its id. Refusals name the command's option, since that is where
-- the person typed the value.
CREATE FUNCTION trafficking.episode_record_v1(p_case bigint, p_from date, p_to date,
                                              p_kind text, p_note text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    born date;
    new_id bigint;
BEGIN
    PERFORM casehost.case_check_v1(p_case);
    IF p_from IS NULL THEN
        RAISE EXCEPTION '--from: the day the exploitation began is needed'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'an approximate day will do; say so in --note';
    END IF;
    IF NOT isfinite(p_from) OR NOT isfinite(coalesce(p_to, p_from)) THEN
        RAISE EXCEPTION '--%: % is no day', CASE WHEN isfinite(p_from) THEN 'to' ELSE 'from' END,
            CASE WHEN isfinite(p_from) THEN p_to ELSE p_from END
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_from < '1900-01-01' OR p_from > current_date THEN
        RAISE EXCEPTION '--from: % is %', to_char(p_from, 'YYYY-MM-DD'),
            CASE WHEN p_from > current_date THEN 'in the future' ELSE 'too long ago' END
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_to < p_from THEN
        RAISE EXCEPTION '--to: % is before --from %', to_char(p_to, 'YYYY-MM-DD'),
            to_char(p_from, 'YYYY-MM-DD') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_to > current_date THEN
        RAISE EXCEPTION '--to: % is in the future', to_char(p_to, 'YYYY-MM-DD')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'leave --to out while the exploitation goes on';
    END IF;
    IF p_kind IS NOT NULL AND p_kind NOT IN ('sex', 'labour', 'both', 'unclear') THEN
        RAISE EXCEPTION '--kind: "%" is not sex, labour, both or unclear', p_kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_note IS NULL OR btrim(p_note) = '' THEN
        RAISE EXCEPTION '--note: an episode needs a note (what is known of it, and from whom)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT p.date_of_birth INTO born
      FROM casehost.plugin_case_v1 c JOIN casehost.plugin_person_v1 p ON p.id = c.subject_id
     WHERE c.id = p_case;
    IF p_from < born THEN
        RAISE EXCEPTION '--from: % is before the person''s date of birth, %',
            to_char(p_from, 'YYYY-MM-DD'), to_char(born, 'YYYY-MM-DD')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO trafficking.exploitation_episodes (agency_id, case_id, started_on, ended_on, kind,
                                                   note, recorded_by)
    VALUES (me.agency_id, p_case, p_from, p_to, p_kind, btrim(p_note), me.user_id)
    RETURNING id INTO new_id;
    PERFORM casehost.audit('create', 'exploitation_episode', new_id,
                           'case ' || p_case || coalesce(', ' || p_kind, ''));
    RETURN new_id;
END
$$;

-- Marks an episode removed (recorded in error, or a duplicate); the row and
-- its history stay.
CREATE FUNCTION trafficking.episode_remove_v1(p_episode bigint, p_reason text)
RETURNS TABLE (episode bigint, "case" bigint, removed text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    e trafficking.exploitation_episodes;
BEGIN
    SELECT * INTO e FROM trafficking.exploitation_episodes x WHERE x.id = p_episode FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'episode % not found', coalesce(p_episode::text, '(none)')
            USING ERRCODE = 'no_data_found';
    END IF;
    IF e.removed_at IS NOT NULL THEN
        RAISE EXCEPTION 'episode % was already removed on %', e.id,
            to_char(e.removed_at, 'YYYY-MM-DD') USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION '--reason: removing an episode needs a reason (it is kept with the episode)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE trafficking.exploitation_episodes x
       SET removed_at = now(), removed_by = me.user_id, removed_reason = btrim(p_reason)
     WHERE x.id = e.id;
    PERFORM casehost.audit('remove', 'exploitation_episode', e.id, btrim(p_reason));
    RETURN QUERY SELECT e.id, e.case_id, to_char(now(), 'YYYY-MM-DD HH24:MI');
END
$$;

-- The episodes of a case, removed ones too, earliest first; audited as a read.
CREATE FUNCTION trafficking.episodes_v1(p_case bigint)
RETURNS TABLE (episode bigint, started_on text, ended_on text, kind text, note text,
               recorded_by text, recorded_at text, removed boolean, removed_at text,
               removed_by text, removed_reason text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.case_check_v1(p_case);
    PERFORM casehost.audit('read', 'exploitation_episode', p_case, 'episodes of case');
    RETURN QUERY
    SELECT e.id, to_char(e.started_on, 'YYYY-MM-DD'), to_char(e.ended_on, 'YYYY-MM-DD'), e.kind,
           e.note, u.name, to_char(e.recorded_at, 'YYYY-MM-DD HH24:MI'), e.removed_at IS NOT NULL,
           to_char(e.removed_at, 'YYYY-MM-DD HH24:MI'), x.name, e.removed_reason
      FROM trafficking.exploitation_episodes e
      LEFT JOIN casehost.plugin_user_v1 u ON u.id = e.recorded_by
      LEFT JOIN casehost.plugin_user_v1 x ON x.id = e.removed_by
     WHERE e.case_id = p_case
     ORDER BY e.started_on, e.id;
END
$$;

-- ------------------------------------------------------ determinations ---

-- Records the determination of case p_case (level p_level, trafficking type
-- p_type, required unless at_risk) with reason p_reason; it supersedes the
-- case's current one. Returns its id. See the head of the file for who may.
CREATE FUNCTION trafficking.determination_record_v1(p_case bigint, p_level text, p_type text,
                                                    p_reason text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    prev trafficking.determinations;
    new_id bigint;
BEGIN
    PERFORM casehost.case_check_v1(p_case);
    IF p_level IS NULL OR p_level NOT IN ('at_risk', 'suspected', 'confirmed') THEN
        RAISE EXCEPTION '--level: "%" is not at_risk, suspected or confirmed',
            coalesce(p_level, '') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_type IS NOT NULL AND p_type NOT IN ('sex', 'labour', 'both') THEN
        RAISE EXCEPTION '--type: "%" is not sex, labour or both', p_type
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_type IS NULL AND p_level <> 'at_risk' THEN
        RAISE EXCEPTION '--type: a % determination says which trafficking: sex, labour or both',
            p_level USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'only an at_risk determination may leave the type open';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION '--reason: a determination needs a reason (what it rests on)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One at a time per case, so that two never both supersede the same one.
    PERFORM pg_advisory_xact_lock(hashtextextended('trafficking determination ' || p_case, 0));
    SELECT * INTO prev FROM trafficking.determinations d
     WHERE d.case_id = p_case AND d.superseded_by IS NULL FOR UPDATE;
    IF p_level = 'confirmed' THEN
        PERFORM casehost.require_kind(ARRAY['supervisor', 'admin'], 'a confirmed determination');
    ELSIF prev.level = 'confirmed' THEN
        PERFORM casehost.require_kind(ARRAY['supervisor', 'admin'],
                                      'replacing a confirmed determination');
    END IF;
    new_id := nextval(pg_get_serial_sequence('trafficking.determinations', 'id'));
    UPDATE trafficking.determinations d SET superseded_by = new_id WHERE d.id = prev.id;
    INSERT INTO trafficking.determinations (id, agency_id, case_id, level, trafficking_type,
                                            reason, determined_by)
    VALUES (new_id, me.agency_id, p_case, p_level, p_type, btrim(p_reason), me.user_id);
    PERFORM casehost.audit('create', 'determination', new_id,
                           concat_ws(' ', 'case ' || p_case, p_level, p_type,
                                     '(supersedes ' || prev.id || ')'));
    RETURN new_id;
END
$$;

-- The determinations of a case, newest first (the first is current, unless
-- none is); audited as a read.
CREATE FUNCTION trafficking.determinations_v1(p_case bigint)
RETURNS TABLE (determination bigint, level text, type text, reason text, determined_by text,
               determined_at text, current boolean, superseded_by bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.case_check_v1(p_case);
    PERFORM casehost.audit('read', 'determination', p_case, 'determinations of case');
    RETURN QUERY
    SELECT d.id, d.level, d.trafficking_type, d.reason, u.name,
           to_char(d.determined_at, 'YYYY-MM-DD HH24:MI'), d.superseded_by IS NULL,
           d.superseded_by
      FROM trafficking.determinations d
      LEFT JOIN casehost.plugin_user_v1 u ON u.id = d.determined_by
     WHERE d.case_id = p_case
     ORDER BY d.id DESC;
END
$$;

-- ------------------------------------------------------------- grants ---
-- No table grants: people read through the audited functions above.
REVOKE ALL ON FUNCTION trafficking.episode_record_v1(bigint, date, date, text, text),
    trafficking.episode_remove_v1(bigint, text), trafficking.episodes_v1(bigint),
    trafficking.determination_record_v1(bigint, text, text, text),
    trafficking.determinations_v1(bigint)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.episode_record_v1(bigint, date, date, text, text),
    trafficking.episode_remove_v1(bigint, text), trafficking.episodes_v1(bigint),
    trafficking.determination_record_v1(bigint, text, text, text),
    trafficking.determinations_v1(bigint)
    TO casehost_app;
