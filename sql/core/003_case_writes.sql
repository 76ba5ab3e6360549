-- 003_case_writes.sql: every write to a case, a person or a note is one call
-- here, so the row, its history and its audit record are one statement and
-- one round trip. These run as the caller: row-level security still applies.

-- Turns the fields a client sends into column values, refusing anything a
-- client may not set. Names and ids given by the client are checked against
-- what this agency can see, because foreign keys do not see row-level security.
CREATE FUNCTION casehost.case_input(p jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    k text;
    out jsonb := p - 'assignee' - 'subject_id';
    uid bigint;
BEGIN
    FOR k IN SELECT jsonb_object_keys(p) LOOP
        IF k NOT IN ('title', 'status', 'assignee', 'subject_id', 'state', 'county',
                     'runaway_start', 'runaway_return', 'cw_history', 'jj_history', 'flags') THEN
            RAISE EXCEPTION 'case field "%" cannot be set', k USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    IF p ? 'assignee' THEN
        IF jsonb_typeof(p->'assignee') = 'null' THEN
            out := out || jsonb_build_object('assignee_id', NULL);
        ELSE
            SELECT id INTO uid FROM casehost.users
             WHERE name = p->>'assignee' AND agency_id = casehost.current_agency();
            IF NOT FOUND THEN
                RAISE EXCEPTION 'assignee "%" is not a user of this agency', p->>'assignee'
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            out := out || jsonb_build_object('assignee_id', uid);
        END IF;
    END IF;
    IF p ? 'subject_id' THEN
        IF jsonb_typeof(p->'subject_id') <> 'null' AND NOT EXISTS
               (SELECT 1 FROM casehost.people WHERE id = (p->>'subject_id')::bigint) THEN
            RAISE EXCEPTION 'person % not found', p->>'subject_id'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        out := out || jsonb_build_object('subject_id', p->'subject_id');
    END IF;
    IF p->>'status' = 'closed' THEN
        RAISE EXCEPTION 'a case is closed with "case close", which records the reason'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN out;
END
$$;

-- Records every field that differs between two versions of a case.
CREATE FUNCTION casehost.case_record_changes(old casehost.cases, new casehost.cases)
RETURNS TABLE (field text, old_value text, new_value text)
LANGUAGE sql AS $$
    INSERT INTO casehost.case_history (agency_id, case_id, actor_id, field, old_value, new_value)
    SELECT new.agency_id, new.id, casehost.current_actor(), n.key,
           o.value #>> '{}', n.value #>> '{}'
      FROM jsonb_each(to_jsonb(new)) n
      LEFT JOIN jsonb_each(to_jsonb(old)) o ON o.key = n.key
     WHERE n.key NOT IN ('id', 'agency_id', 'created_by', 'created_at', 'updated_at', 'closed_at')
       AND (CASE WHEN old IS NULL
                 THEN n.value NOT IN ('null', 'false', '[]')
                 ELSE o.value IS DISTINCT FROM n.value END)
    RETURNING field, old_value, new_value
$$;

CREATE FUNCTION casehost.case_new(p jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    c casehost.cases;
BEGIN
    IF casehost.current_agency() IS NULL THEN
        RAISE EXCEPTION 'no acting user' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    c := jsonb_populate_record(NULL::casehost.cases, casehost.case_input(p));
    INSERT INTO casehost.cases (agency_id, title, status, assignee_id, subject_id, state, county,
                                runaway_start, runaway_return, cw_history, jj_history, flags,
                                created_by)
    VALUES (casehost.current_agency(), c.title, coalesce(c.status, 'open'), c.assignee_id,
            c.subject_id, c.state, c.county, c.runaway_start, c.runaway_return,
            coalesce(c.cw_history, false), coalesce(c.jj_history, false),
            coalesce(c.flags, '{}'), casehost.current_actor())
    RETURNING * INTO c;
    PERFORM casehost.case_record_changes(NULL, c);
    PERFORM casehost.audit('create', 'case', c.id, NULL);
    RETURN c.id;
END
$$;

CREATE FUNCTION casehost.case_load_for_update(p_case bigint) RETURNS casehost.cases
LANGUAGE plpgsql AS $$
DECLARE
    c casehost.cases;
BEGIN
    SELECT * INTO c FROM casehost.cases WHERE id = p_case FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'case % not found', p_case USING ERRCODE = 'no_data_found';
    END IF;
    RETURN c;
END
$$;

CREATE FUNCTION casehost.case_update(p_case bigint, p jsonb)
RETURNS TABLE (field text, old_value text, new_value text)
LANGUAGE plpgsql AS $$
DECLARE
    old casehost.cases := casehost.case_load_for_update(p_case);
    c casehost.cases;
BEGIN
    IF old.status = 'closed' AND NOT (p ? 'status') THEN
        RAISE EXCEPTION 'case % is closed', p_case USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'reopen it with: casehost case update ' || p_case || ' --status open';
    END IF;
    c := jsonb_populate_record(old, casehost.case_input(p));
    IF c.status <> 'closed' THEN
        c.closed_at := NULL;
        c.close_reason := NULL;
    END IF;
    IF c IS NOT DISTINCT FROM old THEN
        RETURN;
    END IF;
    c.updated_at := now();
    UPDATE casehost.cases
       SET (title, status, assignee_id, subject_id, state, county, runaway_start, runaway_return,
            cw_history, jj_history, flags, close_reason, closed_at, updated_at)
         = (c.title, c.status, c.assignee_id, c.subject_id, c.state, c.county, c.runaway_start,
            c.runaway_return, c.cw_history, c.jj_history, c.flags, c.close_reason, c.closed_at,
            c.updated_at)
     WHERE id = p_case;
    RETURN QUERY SELECT * FROM casehost.case_record_changes(old, c);
    PERFORM casehost.audit('update', 'case', p_case, NULL);
END
$$;

CREATE FUNCTION casehost.case_close(p_case bigint, p_reason text)
RETURNS TABLE (field text, old_value text, new_value text)
LANGUAGE plpgsql AS $$
DECLARE
    old casehost.cases := casehost.case_load_for_update(p_case);
    c casehost.cases;
BEGIN
    IF old.status = 'closed' THEN
        RAISE EXCEPTION 'case % is already closed', p_case
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    c := old;
    c.status := 'closed';
    c.close_reason := p_reason;
    c.closed_at := now();
    c.updated_at := now();
    UPDATE casehost.cases
       SET status = c.status, close_reason = c.close_reason, closed_at = c.closed_at,
           updated_at = c.updated_at
     WHERE id = p_case;
    RETURN QUERY SELECT * FROM casehost.case_record_changes(old, c);
    PERFORM casehost.audit('close', 'case', p_case, p_reason);
END
$$;

CREATE FUNCTION casehost.note_add(p_case bigint, p_body text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    c casehost.cases := casehost.case_load_for_update(p_case);
    new_id bigint;
BEGIN
    INSERT INTO casehost.notes (agency_id, case_id, author_id, body)
    VALUES (c.agency_id, p_case, casehost.current_actor(), p_body) RETURNING id INTO new_id;
    UPDATE casehost.cases SET updated_at = now() WHERE id = p_case;
    PERFORM casehost.audit('create', 'note', new_id, 'case ' || p_case);
    RETURN new_id;
END
$$;

CREATE FUNCTION casehost.person_add(p jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r casehost.people;
    k text;
BEGIN
    FOR k IN SELECT jsonb_object_keys(p) LOOP
        IF k NOT IN ('given_name', 'family_name', 'date_of_birth', 'estimated_age',
                     'gender_identity', 'language', 'interpreter_needed') THEN
            RAISE EXCEPTION 'person field "%" cannot be set', k
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    r := jsonb_populate_record(NULL::casehost.people, p);
    INSERT INTO casehost.people (agency_id, given_name, family_name, date_of_birth, estimated_age,
                                 estimated_on, gender_identity, language, interpreter_needed,
                                 created_by)
    VALUES (casehost.current_agency(), r.given_name, r.family_name, r.date_of_birth,
            r.estimated_age, CASE WHEN r.estimated_age IS NOT NULL THEN current_date END,
            r.gender_identity, r.language, coalesce(r.interpreter_needed, false),
            casehost.current_actor())
    RETURNING id INTO r.id;
    PERFORM casehost.audit('create', 'person', r.id, NULL);
    RETURN r.id;
END
$$;

-- Age in whole years today: from the date of birth, else the estimate grown
-- by the time since it was made; NULL when unknown.
CREATE FUNCTION casehost.person_age(p casehost.people) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p.date_of_birth IS NOT NULL
            THEN extract(year FROM age(current_date, p.date_of_birth))::integer
        WHEN p.estimated_age IS NOT NULL
            THEN p.estimated_age + extract(year FROM age(current_date, p.estimated_on))::integer
    END
$$;
