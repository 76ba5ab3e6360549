-- 004_identity.sql: PostgreSQL says who you are. Every person and service is
-- a login role of its own; identity inside the database is one function,
-- casehost.current_user_v1(), keyed on the role chosen by SET ROLE or else
-- on session_user, never on a setting a session can change itself. Users
-- and services get no INSERT, UPDATE or DELETE on any table: every write is
-- a SECURITY DEFINER function that takes the actor and agency from that
-- identity. Row-level security is FORCEd, so it filters by the caller even
-- inside those functions (a foreign key into another agency's rows then
-- fails as "not found", exactly like a missing row).

-- ------------------------------------------------------------- roles ---
-- casehost_definer: NOLOGIN, neither superuser nor BYPASSRLS; owns every
--   table and function of casehost and its plugins (casehost.adopt_v1, run
--   by `db migrate` after each migration). So forced row-level security
--   holds inside SECURITY DEFINER functions even where a superuser migrated.
-- casehost_app: the group of people (caseworker, supervisor, admin).
-- casehost_service: the group of long-running services (dispatch, tick).
-- casehost_useradmin: NOLOGIN, the only role with CREATEROLE; it owns the
--   one function that creates and alters login roles.
-- casehost_authenticator: NOINHERIT, a member of every person's role, for a
--   trusted server that SET ROLEs to the person it authenticated. Created
--   NOLOGIN here; the DBA gives it LOGIN and a password (INSTALL).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casehost_definer') THEN
        CREATE ROLE casehost_definer NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casehost_service') THEN
        CREATE ROLE casehost_service NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casehost_useradmin') THEN
        CREATE ROLE casehost_useradmin NOLOGIN CREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casehost_authenticator') THEN
        CREATE ROLE casehost_authenticator NOLOGIN NOINHERIT;
    END IF;
    -- So that a disabled user's open sessions can be ended. Only a superuser
    -- may grant it; without it, disabling still takes effect at once (the
    -- identity function ignores disabled users) and INSTALL says how to add it.
    BEGIN
        GRANT pg_signal_backend TO casehost_useradmin;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'casehost_useradmin was not granted pg_signal_backend';
    END;
END
$$;

-- The migrating role may hand its objects to casehost_definer, which may
-- create schemas (plugins' migrations) in this database.
DO $$
BEGIN
    EXECUTE format('GRANT casehost_definer TO %I', current_user);
    EXECUTE format('GRANT casehost_useradmin TO %I', current_user);
    -- When a superuser migrates a database another role owns, that owner
    -- (who runs the later migrations) gets the same.
    IF (SELECT d.datdba::regrole::text FROM pg_database d WHERE d.datname = current_database())
       IS DISTINCT FROM current_user::text
       AND NOT (SELECT r.rolsuper FROM pg_roles r JOIN pg_database d ON d.datdba = r.oid
                 WHERE d.datname = current_database()) THEN
        EXECUTE format('GRANT casehost_definer, casehost_useradmin TO %s',
                       (SELECT d.datdba::regrole FROM pg_database d
                         WHERE d.datname = current_database()));
    END IF;
    EXECUTE format('GRANT CREATE ON DATABASE %I TO casehost_definer', current_database());
END
$$;

-- Functions are executable only by those they are granted to.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE casehost_definer REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA casehost FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA casehost FROM casehost_app;
REVOKE CREATE ON SCHEMA casehost FROM PUBLIC;

-- ---------------------------------------------------------- settings ---
-- One row: how this database names the login roles it creates. Role names
-- are cluster-wide, so two casehost databases in one cluster use two prefixes.
CREATE TABLE casehost.installation (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    role_prefix  text NOT NULL DEFAULT 'ch_' CHECK (role_prefix ~ '^[a-z][a-z0-9_]{0,23}$')
);
-- A database that already has users gets its roles in this migration; a
-- second casehost database in the cluster names its prefix at that moment:
--   PGOPTIONS='-c casehost.role_prefix=x_' casehost db migrate
INSERT INTO casehost.installation (role_prefix)
VALUES (coalesce(nullif(current_setting('casehost.role_prefix', true), ''), 'ch_'));

-- Per-agency settings, changed by that agency's admin.
ALTER TABLE casehost.agencies
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC',
    ADD COLUMN case_visibility text NOT NULL DEFAULT 'agency'
        CHECK (case_visibility IN ('agency', 'assigned')),
    ADD COLUMN notification_channel text,
    ADD COLUMN assessment_destination text;

ALTER TABLE casehost.users DROP CONSTRAINT users_role_check;
ALTER TABLE casehost.users
    ADD CONSTRAINT users_role_check CHECK (role IN ('caseworker', 'supervisor', 'admin', 'service')),
    ADD COLUMN db_role name UNIQUE,
    ADD COLUMN disabled_at timestamptz,
    ADD COLUMN disabled_by bigint REFERENCES casehost.users(id);

-- The role -> user map the identity function reads. Nobody but the owner
-- reads or writes it (no grants); like every table with agency_id its
-- row-level security is FORCEd, with one policy that admits its owner (the
-- identity functions) to every row, so that identity can be resolved before
-- any agency is known and a stray grant would still show nobody a row.
CREATE TABLE casehost.identities (
    db_role    name PRIMARY KEY,
    user_id    bigint NOT NULL UNIQUE REFERENCES casehost.users(id),
    agency_id  bigint NOT NULL REFERENCES casehost.agencies(id),
    kind       text NOT NULL,
    name       text NOT NULL,
    disabled   boolean NOT NULL DEFAULT false
);
ALTER TABLE casehost.identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE casehost.identities FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_only ON casehost.identities TO casehost_definer USING (true) WITH CHECK (true);

-- ---------------------------------------------------------- identity ---
-- The role acting now: the one chosen by SET ROLE, else the session's login.
-- Not current_user: inside a SECURITY DEFINER function that is the owner.
-- (No SET clause, and only pg_catalog names, so that it is inlined.)
CREATE FUNCTION casehost.acting_role_v1() RETURNS name
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN pg_catalog.current_setting('role') OPERATOR(pg_catalog.=) 'none'
                THEN session_user ELSE pg_catalog.current_setting('role')::pg_catalog.name END
$$;

-- PL/pgSQL, not SQL: every policy and write calls it, and a SQL function
-- that cannot be inlined is planned again at each call; PL/pgSQL keeps its
-- plan for the session.
CREATE FUNCTION casehost.current_user_v1() RETURNS casehost.identities
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities;
BEGIN
    SELECT i.* INTO me FROM casehost.identities i
     WHERE i.db_role = CASE WHEN current_setting('role') = 'none' THEN session_user
                            ELSE current_setting('role')::name END
       AND NOT i.disabled;
    RETURN me;
END
$$;

CREATE OR REPLACE FUNCTION casehost.current_agency() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT (casehost.current_user_v1()).agency_id
$$;

CREATE OR REPLACE FUNCTION casehost.current_actor() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT (casehost.current_user_v1()).user_id
$$;

CREATE OR REPLACE FUNCTION casehost.current_app_role() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT (casehost.current_user_v1()).kind
$$;

-- The database owner (the role that ran `db migrate`) or a superuser: may
-- add agencies and an agency's first admin, and nothing else of an agency's.
CREATE FUNCTION casehost.is_installer() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN coalesce((SELECT r.rolsuper OR r.oid = d.datdba
                       FROM pg_roles r, pg_database d
                      WHERE r.rolname = casehost.acting_role_v1()
                        AND d.datname = current_database()), false);
END
$$;

-- Raises unless the caller is one of the given kinds.
CREATE FUNCTION casehost.require_kind(p_kinds text[], p_what text) RETURNS casehost.identities
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.current_user_v1();
BEGIN
    IF me.user_id IS NULL THEN
        RAISE EXCEPTION 'role "%" is not a casehost user', casehost.acting_role_v1()
            USING ERRCODE = 'invalid_authorization_specification',
                  HINT = 'connect as your own casehost role (libpq user=, PGUSER or peer)';
    END IF;
    IF NOT (me.kind = ANY (p_kinds)) THEN
        RAISE EXCEPTION '% needs the role %; you are %', p_what, array_to_string(p_kinds, ' or '),
            me.kind USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN me;
END
$$;

-- Who the session is, for the host: one row, or none for a role that is no user.
CREATE FUNCTION casehost.whoami_v1()
RETURNS TABLE (user_id bigint, user_name text, role text, agency_id bigint, agency_name text,
               db_role name)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT i.user_id, i.name, i.kind, i.agency_id, a.name, i.db_role
      FROM casehost.identities i JOIN casehost.agencies a ON a.id = i.agency_id
     WHERE i.db_role = casehost.acting_role_v1() AND NOT i.disabled
$$;

-- The old settings-based login is gone: identity comes from the role.
DROP FUNCTION casehost.login(text);
DROP FUNCTION casehost.bootstrapping();

-- ---------------------------------------------------- row-level security ---
-- One definition of the agency policy, FORCEd so that the owner's SECURITY
-- DEFINER functions are filtered by the caller too. The identity is read once
-- per statement (a sub-select), not once per row.
CREATE OR REPLACE FUNCTION casehost.agency_rls(p_schema text, p_tables text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY p_tables LOOP
        EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', p_schema, t);
        EXECUTE format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', p_schema, t);
        EXECUTE format('DROP POLICY IF EXISTS agency_only ON %I.%I', p_schema, t);
        EXECUTE format('CREATE POLICY agency_only ON %I.%I USING '
                       '(agency_id = (SELECT casehost.current_agency())) '
                       'WITH CHECK (agency_id = (SELECT casehost.current_agency()))', p_schema, t);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION casehost.agency_rls(text, text[]) FROM PUBLIC;

SELECT casehost.agency_rls('casehost', ARRAY['people', 'notes', 'case_history']);

-- Cases: the agency's, unless the agency's settings hide cases from
-- caseworkers who neither hold nor created them.
CREATE FUNCTION casehost.sees_all_cases() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN coalesce((SELECT i.kind <> 'caseworker' OR a.case_visibility = 'agency'
                       FROM casehost.identities i JOIN casehost.agencies a ON a.id = i.agency_id
                      WHERE i.db_role = casehost.acting_role_v1() AND NOT i.disabled), false);
END
$$;
ALTER TABLE casehost.cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE casehost.cases FORCE ROW LEVEL SECURITY;
DROP POLICY agency_only ON casehost.cases;
CREATE POLICY agency_only ON casehost.cases
    USING (agency_id = (SELECT casehost.current_agency())
           AND ((SELECT casehost.sees_all_cases())
                OR assignee_id = (SELECT casehost.current_actor())
                OR created_by = (SELECT casehost.current_actor())))
    WITH CHECK (agency_id = (SELECT casehost.current_agency()));

-- A case's notes and history follow the case: where the agency's settings
-- hide a case from a caseworker, they hide what is written in it too.
-- Plugins may call this for their own tables that have a case_id.
CREATE FUNCTION casehost.case_rls(p_schema text, p_tables text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    PERFORM casehost.agency_rls(p_schema, p_tables);
    FOREACH t IN ARRAY p_tables LOOP
        EXECUTE format('DROP POLICY agency_only ON %I.%I', p_schema, t);
        EXECUTE format('CREATE POLICY agency_only ON %I.%I USING '
                       '(agency_id = (SELECT casehost.current_agency()) '
                       'AND EXISTS (SELECT 1 FROM casehost.cases c WHERE c.id = case_id)) '
                       'WITH CHECK (agency_id = (SELECT casehost.current_agency()))', p_schema, t);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION casehost.case_rls(text, text[]) FROM PUBLIC;

SELECT casehost.case_rls('casehost', ARRAY['notes', 'case_history']);

-- The audit log: read within the agency; written by functions only, also
-- for the installer's bootstrap (agency and first admin).
ALTER TABLE casehost.audit_log FORCE ROW LEVEL SECURITY;
DROP POLICY agency_only ON casehost.audit_log;
CREATE POLICY audit_read ON casehost.audit_log FOR SELECT
    USING (agency_id = (SELECT casehost.current_agency()));
CREATE POLICY audit_write ON casehost.audit_log FOR INSERT
    WITH CHECK (agency_id = (SELECT casehost.current_agency()) OR (SELECT casehost.is_installer()));

-- Agencies: a user sees their own; the installer sees and adds all.
ALTER TABLE casehost.agencies ENABLE ROW LEVEL SECURITY;
ALTER TABLE casehost.agencies FORCE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON casehost.agencies
    USING (id = (SELECT casehost.current_agency()) OR (SELECT casehost.is_installer()))
    WITH CHECK (id = (SELECT casehost.current_agency()) OR (SELECT casehost.is_installer()));

-- Users: of the caller's agency; the installer sees all.
DROP POLICY users_visible ON casehost.users;
ALTER TABLE casehost.users FORCE ROW LEVEL SECURITY;
CREATE POLICY agency_only ON casehost.users
    USING (agency_id = (SELECT casehost.current_agency()) OR (SELECT casehost.is_installer()))
    WITH CHECK (agency_id = (SELECT casehost.current_agency()) OR (SELECT casehost.is_installer()));

-- ------------------------------------------------------- login roles ---
-- Creates or changes a login role. The only code that runs with
-- CREATEROLE: it touches only roles named with this database's prefix and
-- grants only the project's group roles (and, for config admins, the deploy
-- grant of 005). p_verifier is a SCRAM verifier made by the client (never a
-- clear-text password) or NULL.
CREATE FUNCTION casehost.role_admin_v1(p_action text, p_role name, p_kind text, p_verifier text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    prefix text := (SELECT role_prefix FROM casehost.installation);
    grp text := CASE WHEN p_kind = 'service' THEN 'casehost_service' ELSE 'casehost_app' END;
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
    IF p_kind IS NULL OR p_kind NOT IN ('caseworker', 'supervisor', 'admin', 'service') THEN
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
        -- Ending open sessions needs pg_signal_backend (INSTALL); without it
        -- the disable still holds: the identity function ignores the user.
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
-- The new owner needs CREATE on the schema for the change of owner, only.
GRANT USAGE, CREATE ON SCHEMA casehost TO casehost_useradmin;
ALTER FUNCTION casehost.role_admin_v1(text, name, text, text) OWNER TO casehost_useradmin;
REVOKE CREATE ON SCHEMA casehost FROM casehost_useradmin;
GRANT SELECT ON casehost.installation TO casehost_useradmin;
GRANT EXECUTE ON FUNCTION casehost.role_admin_v1(text, name, text, text) TO casehost_definer;

-- The same message whichever agency (or none) holds a name.
CREATE FUNCTION casehost.name_taken(p_name text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'the name "%" is taken', p_name USING ERRCODE = 'duplicate_object',
        HINT = 'login names are unique across the whole database server; choose another';
END
$$;

-- A user of the caller's agency (or any, for the installer) by name, locked;
-- "unknown user" whether it is missing or another agency's.
CREATE FUNCTION casehost.user_find(p_name text) RETURNS casehost.users
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u casehost.users;
BEGIN
    SELECT * INTO u FROM casehost.users WHERE name = p_name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown user "%"', p_name USING ERRCODE = 'no_data_found';
    END IF;
    RETURN u;
END
$$;

-- Adds a user of kind p_role to agency p_agency with a login role of its own.
-- An admin adds users to their own agency only; the installer adds an
-- agency's first admin (when it has no enabled admin). p_verifier: SCRAM
-- verifier or NULL (then the role can log in only by peer authentication).
CREATE FUNCTION casehost.user_add_v1(p_name text, p_full_name text, p_role text, p_agency text,
                                     p_verifier text)
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
    IF p_role IS NULL OR p_role NOT IN ('caseworker', 'supervisor', 'admin', 'service') THEN
        RAISE EXCEPTION 'unknown role "%" (caseworker, supervisor, admin or service)', p_role
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_name IS NULL OR p_name !~ '^[a-z][a-z0-9_.-]{0,62}$'
       OR length(prefix || p_name) > 63 THEN
        RAISE EXCEPTION 'user name "%" must be lower-case letters, digits, "_", "." or "-", start with a letter and be at most % characters',
            p_name, 63 - length(prefix) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Row-level security shows an admin their own agency only.
    SELECT * INTO ag FROM casehost.agencies WHERE name = p_agency;
    IF NOT FOUND OR (me.user_id IS NOT NULL AND ag.id <> me.agency_id) THEN
        RAISE EXCEPTION 'unknown agency "%"', p_agency USING ERRCODE = 'no_data_found';
    END IF;
    IF me.user_id IS NULL THEN
        -- The installer: an agency's first admin only.
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

-- Sets a SCRAM verifier: one's own, or (an admin) a user's of the same
-- agency, or (the installer) anyone's. Also enables a login that was
-- created disabled by the upgrade of an older database.
CREATE FUNCTION casehost.user_passwd_v1(p_name text, p_verifier text) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.current_user_v1();
    u casehost.users;
BEGIN
    IF me.user_id IS NULL AND NOT casehost.is_installer() THEN
        RAISE EXCEPTION 'role "%" is not a casehost user', casehost.acting_role_v1()
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    u := casehost.user_find(p_name);
    IF me.user_id IS NOT NULL AND u.id <> me.user_id AND me.kind <> 'admin' THEN
        RAISE EXCEPTION 'only an admin may set another user''s password'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF u.disabled_at IS NOT NULL THEN
        RAISE EXCEPTION 'user "%" is disabled', p_name USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF p_verifier IS NULL THEN
        RAISE EXCEPTION 'a password is needed' USING ERRCODE = 'invalid_password';
    END IF;
    PERFORM casehost.role_admin_v1('password', u.db_role, u.role, p_verifier);
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, u.agency_id, 'password', 'user', u.id, p_name);
    RETURN u.db_role;
END
$$;

-- Disables a user of the caller's agency (an admin) or of any (installer):
-- the role can no longer log in, its open sessions end, its identity stops
-- at once, and its history stays.
CREATE FUNCTION casehost.user_disable_v1(p_name text) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.current_user_v1();
    u casehost.users;
BEGIN
    IF me.kind IS DISTINCT FROM 'admin' AND NOT casehost.is_installer() THEN
        RAISE EXCEPTION 'only an admin may disable users' USING ERRCODE = 'insufficient_privilege';
    END IF;
    u := casehost.user_find(p_name);
    IF u.id = me.user_id THEN
        RAISE EXCEPTION 'an admin cannot disable their own login'
            USING ERRCODE = 'insufficient_privilege', HINT = 'ask another admin of the agency';
    END IF;
    IF u.disabled_at IS NOT NULL THEN
        RAISE EXCEPTION 'user "%" is already disabled', p_name
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE casehost.users SET disabled_at = now(), disabled_by = me.user_id WHERE id = u.id;
    UPDATE casehost.identities SET disabled = true WHERE user_id = u.id;
    PERFORM casehost.role_admin_v1('disable', u.db_role, u.role, NULL);
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, u.agency_id, 'disable', 'user', u.id, p_name);
    RETURN u.db_role;
END
$$;

-- Adds an agency: the installer only.
CREATE OR REPLACE FUNCTION casehost.agency_add(p_name text, p_kind text, p_state text, p_county text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_id bigint;
BEGIN
    IF NOT casehost.is_installer() THEN
        RAISE EXCEPTION 'only the database owner may add agencies'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO casehost.agencies (name, kind, state, county)
    VALUES (p_name, coalesce(p_kind, 'other'), p_state, p_county) RETURNING id INTO new_id;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (NULL, new_id, 'create', 'agency', new_id, p_name);
    RETURN new_id;
END
$$;

-- Changes the caller's agency's settings (its admin only). p: any of
-- time_zone, case_visibility, notification_channel, assessment_destination.
CREATE FUNCTION casehost.agency_settings_set_v1(p jsonb) RETURNS casehost.agencies
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_kind(ARRAY['admin'], 'changing agency settings');
    k text;
    a casehost.agencies;
BEGIN
    FOR k IN SELECT jsonb_object_keys(p) LOOP
        IF k NOT IN ('time_zone', 'case_visibility', 'notification_channel',
                     'assessment_destination') THEN
            RAISE EXCEPTION 'agency setting "%" cannot be set', k
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'settings: time_zone, case_visibility, notification_channel, assessment_destination';
        END IF;
    END LOOP;
    IF p ? 'time_zone' AND NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p->>'time_zone') THEN
        RAISE EXCEPTION 'unknown time zone "%"', p->>'time_zone'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'use a name such as America/Los_Angeles';
    END IF;
    UPDATE casehost.agencies
       SET time_zone = coalesce(p->>'time_zone', time_zone),
           case_visibility = coalesce(p->>'case_visibility', case_visibility),
           notification_channel = CASE WHEN p ? 'notification_channel'
                                       THEN p->>'notification_channel' ELSE notification_channel END,
           assessment_destination = CASE WHEN p ? 'assessment_destination'
                                         THEN p->>'assessment_destination'
                                         ELSE assessment_destination END
     WHERE id = me.agency_id RETURNING * INTO a;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'update', 'agency', me.agency_id, p::text);
    RETURN a;
END
$$;

DROP FUNCTION casehost.user_add(text, text, text, text);

-- --------------------------------------------------- upgrade of users ---
-- Users of a database migrated before roles per person get a role each,
-- with logins disabled until an admin (or the owner) sets a password.
DO $$
DECLARE
    u casehost.users;
    prefix text := (SELECT role_prefix FROM casehost.installation);
BEGIN
    FOR u IN SELECT * FROM casehost.users ORDER BY id LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = prefix || u.name) THEN
            RAISE EXCEPTION 'cannot give user "%" a role: "%" exists already', u.name, prefix || u.name;
        END IF;
        UPDATE casehost.users SET db_role = (prefix || u.name)::name WHERE id = u.id;
        INSERT INTO casehost.identities (db_role, user_id, agency_id, kind, name)
        VALUES ((prefix || u.name)::name, u.id, u.agency_id, u.role, u.name);
        PERFORM casehost.role_admin_v1('create_disabled', (prefix || u.name)::name, u.role, NULL);
    END LOOP;
END
$$;

-- ------------------------------------------------------ write functions ---
-- The writes of 003 run as their owner from now on, still filtered by the
-- caller's agency (FORCE), with actor and agency from the identity function.
ALTER FUNCTION casehost.case_new(jsonb) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION casehost.case_update(bigint, jsonb) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION casehost.case_close(bigint, text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION casehost.note_add(bigint, text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION casehost.person_add(jsonb) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- An audit record by the caller, for reads and for plugins' own writes.
CREATE OR REPLACE FUNCTION casehost.audit(p_action text, p_object_type text, p_object_id bigint,
                                          p_detail text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.current_user_v1();
BEGIN
    IF me.user_id IS NULL THEN
        RAISE EXCEPTION 'role "%" is not a casehost user', casehost.acting_role_v1()
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, p_action, p_object_type, p_object_id, p_detail);
END
$$;

-- The write functions refuse a session that is no user, and services.
CREATE FUNCTION casehost.require_person() RETURNS casehost.identities
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT casehost.require_kind(ARRAY['caseworker', 'supervisor', 'admin'], 'this')
$$;

-- A case or person the caller may see, or the same "not found" as for a
-- missing one: foreign keys ignore row-level security, so every write
-- function that takes an id checks it here first.
CREATE FUNCTION casehost.case_check_v1(p_case bigint) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_case IS NULL OR NOT EXISTS (SELECT 1 FROM casehost.cases WHERE id = p_case) THEN
        RAISE EXCEPTION 'case % not found', coalesce(p_case::text, '(none)')
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN p_case;
END
$$;

CREATE FUNCTION casehost.person_check_v1(p_person bigint) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_person IS NULL OR NOT EXISTS (SELECT 1 FROM casehost.people WHERE id = p_person) THEN
        RAISE EXCEPTION 'person % not found', coalesce(p_person::text, '(none)')
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN p_person;
END
$$;

-- Hands every object the migrating role owns in casehost's schemas (and in
-- any schema it creates for a plugin) to casehost_definer. `db migrate` runs it
-- after each migration; sequences of identity columns follow their table.
CREATE FUNCTION casehost.adopt_v1() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o record;
    me oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
    owner oid := (SELECT oid FROM pg_roles WHERE rolname = 'casehost_definer');
BEGIN
    FOR o IN SELECT n.oid, n.nspname FROM pg_namespace n
              WHERE n.nspowner = me
                AND n.nspname NOT IN ('public', 'information_schema')
                AND n.nspname NOT LIKE 'pg\_%' LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO casehost_definer', o.nspname);
    END LOOP;
    FOR o IN SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspowner = owner
                AND c.relowner = me
                AND c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S')
                AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                   AND d.deptype IN ('a', 'i') AND c.relkind = 'S') LOOP
        EXECUTE format('ALTER %s %s OWNER TO casehost_definer',
                       CASE o.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                      WHEN 'm' THEN 'MATERIALIZED VIEW'
                                      WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                       o.oid::regclass);
    END LOOP;
    FOR o IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspowner = owner
                AND p.proowner = me LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO casehost_definer', o.oid::regprocedure);
    END LOOP;
    FOR o IN SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspowner = owner
                AND t.typowner = me AND t.typrelid = 0
                AND t.typelem = 0 LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO casehost_definer', o.oid::regtype);
    END LOOP;
END
$$;

-- ------------------------------------------------------------- grants ---
GRANT USAGE ON SCHEMA casehost TO casehost_app, casehost_service;
GRANT SELECT ON casehost.agencies, casehost.users, casehost.people, casehost.cases,
    casehost.notes, casehost.case_history, casehost.audit_log, casehost.installation
    TO casehost_app;
GRANT SELECT ON casehost.agencies, casehost.installation TO casehost_service;
GRANT SELECT ON casehost.schema_migrations TO casehost_app, casehost_service;

GRANT EXECUTE ON FUNCTION casehost.acting_role_v1(), casehost.current_user_v1(),
    casehost.current_agency(), casehost.current_actor(), casehost.current_app_role(),
    casehost.is_installer(), casehost.sees_all_cases(), casehost.whoami_v1(),
    casehost.require_kind(text[], text), casehost.require_person(),
    casehost.audit(text, text, bigint, text),
    casehost.user_passwd_v1(text, text), casehost.case_check_v1(bigint),
    casehost.person_check_v1(bigint)
    TO casehost_app, casehost_service;
GRANT EXECUTE ON FUNCTION casehost.case_new(jsonb), casehost.case_update(bigint, jsonb),
    casehost.case_close(bigint, text), casehost.note_add(bigint, text),
    casehost.person_add(jsonb), casehost.person_age(casehost.people),
    casehost.user_add_v1(text, text, text, text, text), casehost.user_disable_v1(text),
    casehost.agency_settings_set_v1(jsonb)
    TO casehost_app;
