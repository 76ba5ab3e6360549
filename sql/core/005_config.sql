-- 005_config.sql: configuration is deployed, not edited live. Each deployed
-- generation of a plugin's configuration folder (its files' text, hash, who
-- deployed it and when) is a row; one generation per plugin is live, and
-- every host runs the live one (files on disk are only a candidate).
-- Routing and destinations serve the whole database, so deploying needs the
-- casehost_config_admin grant, which only the database owner gives; agency
-- admins do not have it by being admins. Secrets never travel in a
-- generation: configuration names secret files, which stay on each machine.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casehost_config_admin') THEN
        CREATE ROLE casehost_config_admin NOLOGIN;
    END IF;
END
$$;

CREATE TABLE casehost.config_generations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plugin       text NOT NULL CHECK (plugin ~ '^[a-z][a-z0-9_]*$'),
    hash         text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    -- {"relative/path.cfg": "text", ...}: the plugin's configuration folder
    files        jsonb NOT NULL CHECK (jsonb_typeof(files) = 'object'),
    deployed_by  bigint REFERENCES casehost.users(id),
    deployed_role name NOT NULL,
    deployed_at  timestamptz NOT NULL DEFAULT now(),
    live         boolean NOT NULL DEFAULT false,
    note         text,
    UNIQUE (plugin, hash)
);
CREATE UNIQUE INDEX config_generations_one_live ON casehost.config_generations (plugin) WHERE live;

-- Who may put configuration live: an admin holding the grant, or the owner.
CREATE FUNCTION casehost.require_config_admin() RETURNS casehost.identities
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.current_user_v1();
BEGIN
    IF casehost.is_installer() THEN
        RETURN me;
    END IF;
    IF me.kind IS DISTINCT FROM 'admin'
       OR NOT pg_has_role(casehost.acting_role_v1(), 'casehost_config_admin', 'MEMBER') THEN
        RAISE EXCEPTION 'deploying configuration needs an admin with the config_admin grant'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the database owner grants it: casehost user config-admin NAME on';
    END IF;
    RETURN me;
END
$$;

-- Stores a generation (or finds the same one stored before) and makes it
-- live. Returns its hash and the hash it replaced. The caller runs the
-- plugin's deploy checks in the same transaction; any failure rolls all back.
CREATE FUNCTION casehost.config_deploy_v1(p_plugin text, p_files jsonb, p_note text)
RETURNS TABLE (hash text, previous text, files integer, unchanged boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    me casehost.identities := casehost.require_config_admin();
    h text := encode(sha256(convert_to(p_files::text, 'UTF8')), 'hex');
    prev text;
BEGIN
    IF jsonb_typeof(p_files) IS DISTINCT FROM 'object' OR p_files = '{}'::jsonb THEN
        RAISE EXCEPTION 'a configuration generation of plugin "%" has no files', p_plugin
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One deploy at a time per plugin: the second waits, then sees the first.
    PERFORM pg_advisory_xact_lock(hashtext('casehost.config_deploy.' || p_plugin));
    SELECT g.hash INTO prev FROM casehost.config_generations g
     WHERE g.plugin = p_plugin AND g.live;
    IF prev = h THEN
        RETURN QUERY SELECT h, prev, (SELECT count(*)::integer FROM jsonb_object_keys(p_files)), true;
        RETURN;
    END IF;
    UPDATE casehost.config_generations SET live = false WHERE plugin = p_plugin AND live;
    INSERT INTO casehost.config_generations (plugin, hash, files, deployed_by, deployed_role, live,
                                             note)
    VALUES (p_plugin, h, p_files, me.user_id, casehost.acting_role_v1(), true, p_note)
    ON CONFLICT (plugin, hash) DO UPDATE SET live = true, deployed_by = EXCLUDED.deployed_by,
        deployed_role = EXCLUDED.deployed_role, deployed_at = now(), note = EXCLUDED.note;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'deploy', 'config', NULL,
            p_plugin || ' ' || h || coalesce(' replacing ' || prev, ''));
    RETURN QUERY SELECT h, prev, (SELECT count(*)::integer FROM jsonb_object_keys(p_files)), false;
END
$$;

-- Puts an earlier generation back (a unique hash prefix of 8+ characters).
CREATE FUNCTION casehost.config_rollback_v1(p_plugin text, p_hash text)
RETURNS TABLE (hash text, previous text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    me casehost.identities := casehost.require_config_admin();
    target text;
    prev text;
    n integer;
BEGIN
    IF p_hash IS NULL OR p_hash !~ '^[0-9a-f]{8,64}$' THEN
        RAISE EXCEPTION 'a generation is named by its hash (at least 8 hex digits), not "%"', p_hash
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('casehost.config_deploy.' || p_plugin));
    SELECT count(*), min(g.hash) INTO n, target FROM casehost.config_generations g
     WHERE g.plugin = p_plugin AND g.hash LIKE p_hash || '%';
    IF n = 0 THEN
        RAISE EXCEPTION 'plugin "%" has no generation %', p_plugin, p_hash
            USING ERRCODE = 'no_data_found', HINT = 'casehost config history lists them';
    ELSIF n > 1 THEN
        RAISE EXCEPTION 'hash % names % generations of plugin "%"', p_hash, n, p_plugin
            USING ERRCODE = 'invalid_parameter_value', HINT = 'give more of the hash';
    END IF;
    SELECT g.hash INTO prev FROM casehost.config_generations g WHERE g.plugin = p_plugin AND g.live;
    UPDATE casehost.config_generations SET live = false WHERE plugin = p_plugin AND live;
    UPDATE casehost.config_generations g SET live = true WHERE g.plugin = p_plugin AND g.hash = target;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'rollback', 'config', NULL,
            p_plugin || ' ' || target || coalesce(' replacing ' || prev, ''));
    RETURN QUERY SELECT target, prev;
END
$$;

-- The database owner gives or takes the config_admin grant.
CREATE FUNCTION casehost.user_config_admin_v1(p_name text, p_on boolean) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u casehost.users;
BEGIN
    IF NOT casehost.is_installer() THEN
        RAISE EXCEPTION 'only the database owner gives the config_admin grant'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    u := casehost.user_find(p_name);
    IF p_on AND u.role <> 'admin' THEN
        RAISE EXCEPTION 'user "%" is a %: only admins may deploy configuration', p_name, u.role
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM casehost.role_admin_v1(CASE WHEN p_on THEN 'config_admin_on' ELSE 'config_admin_off' END,
                                   u.db_role, u.role, NULL);
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (NULL, u.agency_id, CASE WHEN p_on THEN 'grant' ELSE 'revoke' END, 'user', u.id,
            'config_admin');
    RETURN u.db_role;
END
$$;

GRANT SELECT ON casehost.config_generations TO casehost_app, casehost_service;
GRANT EXECUTE ON FUNCTION casehost.require_config_admin(),
    casehost.config_deploy_v1(text, jsonb, text), casehost.config_rollback_v1(text, text),
    casehost.user_config_admin_v1(text, boolean)
    TO casehost_app;
