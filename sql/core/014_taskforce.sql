-- 014_taskforce.sql: a task force sees figures across agencies, never a
-- person. Its members are users of kind 'taskforce' (a login role each, like
-- everyone); their group role, casehost_taskforce, may read no table or view
-- of casehost or of any plugin and executes only what logging in needs and
-- the plugins' task-force functions, which return suppressed aggregates.
--
-- A task force is itself an agency, of kind 'taskforce': its admin adds its
-- members, and no other agency's admin can make a user who sees across
-- agencies. Such an agency holds admins and task-force members only, and a
-- task-force member belongs to no other kind of agency.
--
-- An agency's figures count only while its admin has opted in (agency set
-- --taskforce-share on), recorded with who and when, audited. The
-- aggregates are counted as casehost_taskforce_reader: NOLOGIN, no member,
-- neither superuser nor BYPASSRLS; its policies admit the rows of opted-in
-- agencies only, so opting out removes an agency from every figure at once.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casehost_taskforce') THEN
        CREATE ROLE casehost_taskforce NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casehost_taskforce_reader') THEN
        CREATE ROLE casehost_taskforce_reader NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE
            NOCREATEDB NOINHERIT;
    END IF;
END
$$;

-- ------------------------------------------------------------ opt-in ---
ALTER TABLE casehost.agencies
    ADD COLUMN taskforce_share boolean NOT NULL DEFAULT false,
    ADD COLUMN taskforce_share_by bigint REFERENCES casehost.users(id),
    ADD COLUMN taskforce_share_at timestamptz;

-- Changes the caller's agency's settings (its admin only). p: any of
-- time_zone, case_visibility, notification_channel, assessment_destination,
-- taskforce_share ("on" or "off": the agency's figures count in the task
-- force's aggregates; who and when are kept).
CREATE OR REPLACE FUNCTION casehost.agency_settings_set_v1(p jsonb) RETURNS casehost.agencies
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_kind(ARRAY['admin'], 'changing agency settings');
    k text;
    a casehost.agencies;
    share boolean;
BEGIN
    FOR k IN SELECT jsonb_object_keys(p) LOOP
        IF k NOT IN ('time_zone', 'case_visibility', 'notification_channel',
                     'assessment_destination', 'taskforce_share') THEN
            RAISE EXCEPTION 'agency setting "%" cannot be set', k
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'settings: time_zone, case_visibility, notification_channel, assessment_destination, taskforce_share';
        END IF;
    END LOOP;
    IF p ? 'time_zone' AND NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p->>'time_zone') THEN
        RAISE EXCEPTION 'unknown time zone "%"', p->>'time_zone'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'use a name such as America/Los_Angeles';
    END IF;
    IF p ? 'taskforce_share' THEN
        IF p->>'taskforce_share' IS NULL OR p->>'taskforce_share' NOT IN ('on', 'off') THEN
            RAISE EXCEPTION 'taskforce_share: "%" is not on or off', p->>'taskforce_share'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        share := p->>'taskforce_share' = 'on';
    END IF;
    UPDATE casehost.agencies
       SET time_zone = coalesce(p->>'time_zone', time_zone),
           case_visibility = coalesce(p->>'case_visibility', case_visibility),
           notification_channel = CASE WHEN p ? 'notification_channel'
                                       THEN p->>'notification_channel' ELSE notification_channel END,
           assessment_destination = CASE WHEN p ? 'assessment_destination'
                                         THEN p->>'assessment_destination'
                                         ELSE assessment_destination END,
           taskforce_share = coalesce(share, taskforce_share),
           taskforce_share_by = CASE WHEN share IS DISTINCT FROM taskforce_share AND share IS NOT NULL
                                     THEN me.user_id ELSE taskforce_share_by END,
           taskforce_share_at = CASE WHEN share IS DISTINCT FROM taskforce_share AND share IS NOT NULL
                                     THEN now() ELSE taskforce_share_at END
     WHERE id = me.agency_id RETURNING * INTO a;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'update', 'agency', me.agency_id, p::text);
    RETURN a;
END
$$;

-- ------------------------------------------------------- the role kind ---
ALTER TABLE casehost.users DROP CONSTRAINT users_role_check;
ALTER TABLE casehost.users
    ADD CONSTRAINT users_role_check
    CHECK (role IN ('caseworker', 'supervisor', 'admin', 'service', 'taskforce'));

-- As in 004, with the task-force kind: its members join casehost_taskforce
-- (and a trusted server may act as them, for the web pages).
CREATE OR REPLACE FUNCTION casehost.role_admin_v1(p_action text, p_role name, p_kind text,
                                                  p_verifier text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    prefix text := (SELECT role_prefix FROM casehost.installation);
    grp text := CASE p_kind WHEN 'service' THEN 'casehost_service'
                            WHEN 'taskforce' THEN 'casehost_taskforce' ELSE 'casehost_app' END;
BEGIN
    IF p_role IS NULL OR left(p_role, length(prefix)) <> prefix
       OR p_role !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION 'role "%" is not a casehost role', p_role
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_verifier IS NOT NULL AND p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION 'a password must reach the database as a SCRAM verifier'
            USING ERRCODE = 'invalid_password';
    END IF;
    IF p_kind IS NULL OR p_kind NOT IN ('caseworker', 'supervisor', 'admin', 'service', 'taskforce') THEN
        RAISE EXCEPTION 'unknown role kind "%"', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_action IN ('create', 'create_disabled') THEN
        EXECUTE format('CREATE ROLE %I %s INHERIT PASSWORD %L', p_role,
                       CASE WHEN p_action = 'create' THEN 'LOGIN' ELSE 'NOLOGIN' END, p_verifier);
        EXECUTE format('GRANT %I TO %I', grp, p_role);
        IF p_kind <> 'service' THEN
            EXECUTE format('GRANT %I TO casehost_authenticator', p_role);
        END IF;
    ELSIF p_action = 'password' THEN
        EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', p_role, p_verifier);
    ELSIF p_action = 'disable' THEN
        EXECUTE format('ALTER ROLE %I NOLOGIN', p_role);
        BEGIN
            PERFORM pg_terminate_backend(a.pid) FROM pg_stat_activity a
             WHERE a.usename = p_role AND a.pid <> pg_backend_pid();
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'the open sessions of role % were not ended', p_role
                USING HINT = 'GRANT pg_signal_backend TO casehost_useradmin (INSTALL)';
        END;
    ELSIF p_action = 'config_admin_on' AND p_kind = 'admin' THEN
        EXECUTE format('GRANT casehost_config_admin TO %I', p_role);
    ELSIF p_action = 'config_admin_off' THEN
        EXECUTE format('REVOKE casehost_config_admin FROM %I', p_role);
    ELSE
        RAISE EXCEPTION 'unknown role action "%"', p_action;
    END IF;
END
$$;

-- As in 004, with the task-force kind and where it may be.
CREATE OR REPLACE FUNCTION casehost.user_add_v1(p_name text, p_full_name text, p_role text,
                                                p_agency text, p_verifier text)
RETURNS TABLE (user_id bigint, db_role name)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.current_user_v1();
    ag casehost.agencies;
    rname name;
    prefix text := (SELECT role_prefix FROM casehost.installation);
    new_id bigint;
BEGIN
    IF me.kind IS DISTINCT FROM 'admin' AND NOT casehost.is_installer() THEN
        RAISE EXCEPTION 'only an admin may add users' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_role IS NULL OR p_role NOT IN ('caseworker', 'supervisor', 'admin', 'service', 'taskforce') THEN
        RAISE EXCEPTION 'unknown role "%" (caseworker, supervisor, admin, service or taskforce)',
            p_role USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_name IS NULL OR p_name !~ '^[a-z][a-z0-9_.-]{0,62}$'
       OR length(prefix || p_name) > 63 THEN
        RAISE EXCEPTION 'user name "%" must be lower-case letters, digits, "_", "." or "-", start with a letter and be at most % characters',
            p_name, 63 - length(prefix) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO ag FROM casehost.agencies WHERE name = p_agency;
    IF NOT FOUND OR (me.user_id IS NOT NULL AND ag.id <> me.agency_id) THEN
        RAISE EXCEPTION 'unknown agency "%"', p_agency USING ERRCODE = 'no_data_found';
    END IF;
    -- A member sees across agencies: only a task force's own admin adds one,
    -- and a task force works with no case of its own.
    IF p_role = 'taskforce' AND ag.kind <> 'taskforce' THEN
        RAISE EXCEPTION 'a taskforce user belongs to an agency of kind taskforce; "%" is %',
            p_agency, ag.kind USING ERRCODE = 'insufficient_privilege',
            HINT = 'the database owner adds the task force with: casehost agency add NAME --kind taskforce';
    END IF;
    IF ag.kind = 'taskforce' AND p_role NOT IN ('admin', 'taskforce') THEN
        RAISE EXCEPTION 'a task force has admins and taskforce users only, not %', p_role
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF me.user_id IS NULL THEN
        IF p_role <> 'admin' THEN
            RAISE EXCEPTION 'the database owner adds only an agency''s first admin'
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'add it with --role admin; that admin adds everyone else';
        END IF;
        IF EXISTS (SELECT 1 FROM casehost.users u
                    WHERE u.agency_id = ag.id AND u.role = 'admin' AND u.disabled_at IS NULL) THEN
            RAISE EXCEPTION 'agency "%" already has an admin', p_agency
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'its admin adds further users';
        END IF;
    END IF;
    rname := (prefix || p_name)::name;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = rname) THEN
        PERFORM casehost.name_taken(p_name);
    END IF;
    BEGIN
        INSERT INTO casehost.users (name, full_name, role, agency_id, db_role)
        VALUES (p_name, p_full_name, p_role, ag.id, rname) RETURNING id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM casehost.name_taken(p_name);
    END;
    INSERT INTO casehost.identities (db_role, user_id, agency_id, kind, name)
    VALUES (rname, new_id, ag.id, p_role, p_name);
    PERFORM casehost.role_admin_v1('create', rname, p_role, p_verifier);
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, ag.id, 'create', 'user', new_id, p_name || ' ' || p_role);
    RETURN QUERY SELECT new_id, rname;
END
$$;

-- The time zone of the caller's agency ('UTC' for a role that is no user):
-- the host sets each session's from it, also for a member who may read no
-- table.
CREATE FUNCTION casehost.agency_time_zone_v1() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT a.time_zone FROM casehost.agencies a
                      WHERE a.id = casehost.current_agency()), 'UTC')
$$;

-- ------------------------------------------------------ the reader ---
-- Permissive policies add up: the reader sees the rows of opted-in
-- agencies; every other role keeps its policies alone. What the reader sees
-- never leaves but as an aggregate (the plugins' counting functions).
CREATE POLICY taskforce_reader ON casehost.agencies FOR SELECT TO casehost_taskforce_reader
    USING (taskforce_share);
CREATE POLICY taskforce_reader ON casehost.cases FOR SELECT TO casehost_taskforce_reader
    USING (agency_id IN (SELECT a.id FROM casehost.agencies a WHERE a.taskforce_share));
CREATE POLICY taskforce_reader ON casehost.people FOR SELECT TO casehost_taskforce_reader
    USING (agency_id IN (SELECT a.id FROM casehost.agencies a WHERE a.taskforce_share));
-- And only those: not the task force's own agency, which the policies of
-- everyone admit to its members' roles.
CREATE POLICY taskforce_reader_only ON casehost.agencies AS RESTRICTIVE FOR SELECT
    TO casehost_taskforce_reader USING (taskforce_share);
CREATE POLICY taskforce_reader_only ON casehost.cases AS RESTRICTIVE FOR SELECT
    TO casehost_taskforce_reader
    USING (agency_id IN (SELECT a.id FROM casehost.agencies a WHERE a.taskforce_share));
CREATE POLICY taskforce_reader_only ON casehost.people AS RESTRICTIVE FOR SELECT
    TO casehost_taskforce_reader
    USING (agency_id IN (SELECT a.id FROM casehost.agencies a WHERE a.taskforce_share));

GRANT USAGE ON SCHEMA casehost TO casehost_taskforce_reader, casehost_taskforce;
GRANT SELECT ON casehost.agencies, casehost.cases, casehost.people, casehost.plugin_case_v1,
    casehost.plugin_person_v2 TO casehost_taskforce_reader;
GRANT EXECUTE ON FUNCTION casehost.acting_role_v1(), casehost.current_user_v1(),
    casehost.current_agency(), casehost.current_actor(), casehost.current_app_role(),
    casehost.is_installer(), casehost.sees_all_cases(), casehost.person_age(casehost.people),
    casehost.age_range_on(casehost.people, date), casehost.person_check_v1(bigint),
    casehost.person_age_on_v1(bigint, date)
    TO casehost_taskforce_reader;

-- ------------------------------------------------------- the members ---
-- Logging in, who they are, their own password, the checks of typed dates,
-- the live configuration and their audit records; nothing else of casehost.
REVOKE ALL ON FUNCTION casehost.agency_time_zone_v1() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION casehost.agency_time_zone_v1()
    TO casehost_app, casehost_service, casehost_taskforce;
GRANT EXECUTE ON FUNCTION casehost.acting_role_v1(), casehost.current_user_v1(),
    casehost.current_agency(), casehost.current_actor(), casehost.current_app_role(),
    casehost.is_installer(), casehost.whoami_v1(), casehost.require_kind(text[], text),
    casehost.audit(text, text, bigint, text), casehost.user_passwd_v1(text, text),
    casehost.time_input_v1(text, text), casehost.live_generations_v1()
    TO casehost_taskforce;
