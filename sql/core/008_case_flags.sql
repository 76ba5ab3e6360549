-- 008_case_flags.sql: case flags come from a declared vocabulary. A flag is
-- a fact a caseworker records about a case (imminent_danger, ...) that
-- plugins act on, so a misspelt one ("imminent_dangr") must be refused, not
-- stored and silently ignored. The host declares none itself; each plugin
-- declares its own in a migration through casehost.case_flag_declare_v1 (on
-- the plugin SQL surface). Stored flags outside the vocabulary are reported
-- by casehost.case_flags_unknown_v1 and never dropped.

CREATE TABLE casehost.case_flag_kinds (
    flag        text PRIMARY KEY CHECK (flag ~ '^[a-z][a-z0-9_]{0,40}$'),
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 300),
    component   text NOT NULL CHECK (component ~ '^[a-z][a-z0-9_]{0,40}$')
);
-- The vocabulary is the same for every agency; everyone may read it, no
-- session may write it (declarations run as the owner, in migrations).
ALTER TABLE casehost.case_flag_kinds ENABLE ROW LEVEL SECURITY;
ALTER TABLE casehost.case_flag_kinds FORCE ROW LEVEL SECURITY;
CREATE POLICY case_flag_kinds_read ON casehost.case_flag_kinds FOR SELECT USING (true);
-- Written only by case_flag_declare_v1, which runs as the objects' owner.
CREATE POLICY case_flag_kinds_declare ON casehost.case_flag_kinds FOR ALL TO casehost_definer
    USING (true) WITH CHECK (true);
GRANT SELECT ON casehost.case_flag_kinds TO casehost_app, casehost_service;

-- Declares (or re-describes) a flag: for plugin migrations, which run as the
-- database owner. Never callable by a person or a service.
CREATE FUNCTION casehost.case_flag_declare_v1(p_flag text, p_description text, p_component text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO casehost.case_flag_kinds (flag, description, component)
    VALUES (p_flag, p_description, p_component)
    ON CONFLICT (flag) DO UPDATE SET description = excluded.description,
                                     component = excluded.component;
$$;
REVOKE ALL ON FUNCTION casehost.case_flag_declare_v1(text, text, text) FROM PUBLIC;

-- Refuses flags outside the vocabulary (22023, naming each and listing the
-- valid ones), so the CLI reports a usage error before anything is written.
CREATE FUNCTION casehost.case_flags_check_v1(p_flags text[])
RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(quote_literal(f), ', ' ORDER BY f) INTO bad
      FROM unnest(coalesce(p_flags, '{}')) f
     WHERE NOT EXISTS (SELECT 1 FROM casehost.case_flag_kinds k WHERE k.flag = f);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'unknown flag %', bad USING ERRCODE = 'invalid_parameter_value',
            HINT = 'flags: ' || coalesce((SELECT string_agg(flag, ', ' ORDER BY flag)
                                            FROM casehost.case_flag_kinds), 'none declared');
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION casehost.case_flags_check_v1(text[]) TO casehost_app;

-- Flags stored on cases that no component declares, with how many cases
-- carry each: what an admin reviews after an upgrade (never dropped).
CREATE FUNCTION casehost.case_flags_unknown_v1()
RETURNS TABLE (flag text, cases bigint)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
    SELECT f, count(*) FROM casehost.cases c, unnest(c.flags) f
     WHERE NOT EXISTS (SELECT 1 FROM casehost.case_flag_kinds k WHERE k.flag = f)
     GROUP BY f ORDER BY f;
$$;
GRANT EXECUTE ON FUNCTION casehost.case_flags_unknown_v1() TO casehost_app;

-- Case writes check flags, and an update may add and remove single flags
-- (add_flags, remove_flags) instead of replacing the list: two caseworkers
-- adding different flags no longer undo each other.
CREATE OR REPLACE FUNCTION casehost.case_input(p jsonb) RETURNS jsonb
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
    IF p ? 'flags' THEN
        PERFORM casehost.case_flags_check_v1(ARRAY(SELECT jsonb_array_elements_text(p->'flags')));
    END IF;
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

CREATE OR REPLACE FUNCTION casehost.case_update(p_case bigint, p jsonb)
RETURNS TABLE (field text, old_value text, new_value text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old casehost.cases := casehost.case_load_for_update(p_case);
    c casehost.cases;
    adds text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(p->'add_flags', '[]')));
    removes text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(p->'remove_flags', '[]')));
BEGIN
    IF old.status = 'closed' AND NOT (p ? 'status') THEN
        RAISE EXCEPTION 'case % is closed', p_case USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'reopen it with: casehost case update ' || p_case || ' --status open';
    END IF;
    IF (p ? 'add_flags' OR p ? 'remove_flags') THEN
        IF p ? 'flags' THEN
            RAISE EXCEPTION 'flags are either replaced or added and removed, not both'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- Removing a flag nobody declares is allowed: that is how an unknown one is cleaned up.
        PERFORM casehost.case_flags_check_v1(adds);
        p := (p - 'add_flags' - 'remove_flags')
             || jsonb_build_object('flags', to_jsonb(ARRAY(
                    SELECT f FROM (SELECT f, min(o) AS o
                                     FROM unnest(old.flags || adds) WITH ORDINALITY AS x(f, o)
                                    WHERE f <> ALL (removes) GROUP BY f) y ORDER BY o)));
        -- the new list holds only old flags and checked ones: no check of the old ones again
        c := jsonb_populate_record(old, casehost.case_input(p - 'flags'));
        c.flags := ARRAY(SELECT jsonb_array_elements_text(p->'flags'));
    ELSE
        c := jsonb_populate_record(old, casehost.case_input(p));
    END IF;
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
