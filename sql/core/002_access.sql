-- 002_access.sql: who may see and change what. Identity lives in three
-- session settings that only casehost.login() sets; row-level security keeps
-- every agency's people, cases, notes, history and audit to itself. The
-- application role gets no UPDATE or DELETE on history or audit.

CREATE FUNCTION casehost.current_agency() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('casehost.agency_id', true), '')::bigint
$$;

CREATE FUNCTION casehost.current_actor() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('casehost.user_id', true), '')::bigint
$$;

CREATE FUNCTION casehost.current_app_role() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('casehost.role', true), '')
$$;

-- Binds this session to a named user. SECURITY DEFINER because the user must
-- be found before any agency is known to row-level security.
CREATE FUNCTION casehost.login(p_name text)
RETURNS TABLE (user_id bigint, user_name text, role text, agency_id bigint, agency_name text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    SELECT u.id, u.name, u.role, u.agency_id, a.name AS agency_name INTO r
      FROM casehost.users u JOIN casehost.agencies a ON a.id = u.agency_id
     WHERE u.name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown user "%"', p_name USING ERRCODE = 'invalid_authorization_specification',
            HINT = 'an admin adds users with: casehost user add NAME --agency AGENCY --role ROLE';
    END IF;
    PERFORM set_config('casehost.user_id', r.id::text, false),
            set_config('casehost.agency_id', r.agency_id::text, false),
            set_config('casehost.role', r.role, false);
    RETURN QUERY SELECT r.id, r.name, r.role, r.agency_id, r.agency_name;
END
$$;

CREATE FUNCTION casehost.audit(p_action text, p_object_type text, p_object_id bigint, p_detail text)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (casehost.current_actor(), casehost.current_agency(), p_action, p_object_type,
            p_object_id, p_detail);
$$;

-- The first agency and its first admin may be created before anyone exists
-- (bootstrap); after that only an admin may add agencies and users.
CREATE FUNCTION casehost.bootstrapping() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT NOT EXISTS (SELECT 1 FROM casehost.users)
$$;

CREATE FUNCTION casehost.agency_add(p_name text, p_kind text, p_state text, p_county text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_id bigint;
BEGIN
    IF casehost.current_app_role() IS DISTINCT FROM 'admin' AND NOT casehost.bootstrapping() THEN
        RAISE EXCEPTION 'only an admin may add agencies' USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO casehost.agencies (name, kind, state, county)
    VALUES (p_name, coalesce(p_kind, 'other'), p_state, p_county) RETURNING id INTO new_id;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (casehost.current_actor(), coalesce(casehost.current_agency(), new_id), 'create',
            'agency', new_id, p_name);
    RETURN new_id;
END
$$;

CREATE FUNCTION casehost.user_add(p_name text, p_full_name text, p_role text, p_agency text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    agency bigint;
    new_id bigint;
BEGIN
    IF casehost.current_app_role() IS DISTINCT FROM 'admin' THEN
        IF NOT casehost.bootstrapping() THEN
            RAISE EXCEPTION 'only an admin may add users' USING ERRCODE = 'insufficient_privilege';
        ELSIF p_role <> 'admin' THEN
            RAISE EXCEPTION 'the first user must be an admin'
                USING ERRCODE = 'insufficient_privilege', HINT = 'add it with --role admin';
        END IF;
    END IF;
    SELECT id INTO agency FROM casehost.agencies WHERE name = p_agency;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown agency "%"', p_agency USING ERRCODE = 'no_data_found',
            HINT = 'add it first with: casehost agency add NAME';
    END IF;
    INSERT INTO casehost.users (name, full_name, role, agency_id)
    VALUES (p_name, p_full_name, p_role, agency) RETURNING id INTO new_id;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (casehost.current_actor(), agency, 'create', 'user', new_id, p_name || ' ' || p_role);
    RETURN new_id;
END
$$;

ALTER TABLE casehost.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_visible ON casehost.users FOR SELECT
    USING (agency_id = casehost.current_agency() OR casehost.current_app_role() = 'admin');

-- Keeps every row of the named tables to the acting user's agency. Plugins
-- call it for their own tables, so there is one definition of the policy.
CREATE FUNCTION casehost.agency_rls(p_schema text, p_tables text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY p_tables LOOP
        EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', p_schema, t);
        EXECUTE format('CREATE POLICY agency_only ON %I.%I USING '
                       '(agency_id = casehost.current_agency()) '
                       'WITH CHECK (agency_id = casehost.current_agency())', p_schema, t);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION casehost.agency_rls(text, text[]) FROM PUBLIC;

SELECT casehost.agency_rls('casehost', ARRAY['people', 'cases', 'notes', 'case_history',
                                              'audit_log']);

GRANT USAGE ON SCHEMA casehost TO casehost_app;
GRANT SELECT ON casehost.agencies, casehost.users TO casehost_app;
GRANT SELECT, INSERT, UPDATE ON casehost.people, casehost.cases TO casehost_app;
GRANT SELECT, INSERT ON casehost.notes, casehost.case_history, casehost.audit_log TO casehost_app;
REVOKE ALL ON FUNCTION casehost.login(text), casehost.agency_add(text, text, text, text),
    casehost.user_add(text, text, text, text), casehost.bootstrapping() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION casehost.login(text), casehost.agency_add(text, text, text, text),
    casehost.user_add(text, text, text, text), casehost.bootstrapping() TO casehost_app;
