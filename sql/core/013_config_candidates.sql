-- 013_config_candidates.sql: candidate configuration kept in the database,
-- so that a config admin can prepare a change where no server path is named
-- (the web pages). A candidate starts as a copy of every live generation
-- (its files keyed "<plugin>/<relative path>", as config_generations keys
-- them), is changed one .cfg file at a time, checked and replayed by the
-- host from a private copy, and deployed through config_deploy_v1 like any
-- folder. Only config admins read or change candidates; every change is
-- audited. Nothing here ever makes configuration live by itself.

CREATE TABLE casehost.config_candidates (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- {"trafficking/routing.cfg": "text", ...}: every plugin's folder
    files        jsonb NOT NULL CHECK (jsonb_typeof(files) = 'object'),
    -- {"trafficking": "<hash>", ...}: the live generations it was copied from
    based_on     jsonb NOT NULL CHECK (jsonb_typeof(based_on) = 'object'),
    created_by   bigint REFERENCES casehost.users(id),
    created_role name NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    changed_at   timestamptz NOT NULL DEFAULT now(),
    note         text CHECK (length(note) <= 500),
    state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'deployed', 'discarded')),
    -- {"trafficking": "<hash>", ...}: what its deploy made live
    deployed     jsonb,
    deployed_at  timestamptz
);
ALTER TABLE casehost.config_candidates ENABLE ROW LEVEL SECURITY;
ALTER TABLE casehost.config_candidates FORCE ROW LEVEL SECURITY;
-- Read and written only by the functions below (their owner): no role has a grant on it.
CREATE POLICY owner_only ON casehost.config_candidates TO casehost_definer
    USING (true) WITH CHECK (true);

-- A candidate's file name: a plugin's folder, then folders and a .cfg file,
-- no part starting with '.' (so no '..'), no absolute path.
CREATE FUNCTION casehost.config_candidate_path_ok(p_path text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_path IS NOT NULL AND length(p_path) <= 200
       AND p_path ~ '^[a-z][a-z0-9_]*/([A-Za-z0-9_][A-Za-z0-9_.-]*/)*[A-Za-z0-9_][A-Za-z0-9_.-]*\.cfg$'
$$;

-- The open candidate p_id, locked for a change; raises when it is not there
-- or not open. Called only by the functions below, as their owner.
CREATE FUNCTION casehost.config_candidate_open(p_id bigint) RETURNS casehost.config_candidates
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c casehost.config_candidates;
BEGIN
    SELECT * INTO c FROM casehost.config_candidates WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no configuration candidate %', p_id
            USING ERRCODE = 'no_data_found', HINT = 'casehost candidate list shows them';
    END IF;
    IF c.state <> 'open' THEN
        RAISE EXCEPTION 'configuration candidate % is %: it cannot change', p_id, c.state
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'start a new one: casehost candidate new';
    END IF;
    RETURN c;
END
$$;

-- A new candidate: a copy of every live generation. Returns its id.
CREATE FUNCTION casehost.config_candidate_new_v1(p_note text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_config_admin();
    f jsonb := '{}'::jsonb;
    b jsonb := '{}'::jsonb;
    g record;
    new_id bigint;
BEGIN
    FOR g IN SELECT plugin, hash, files FROM casehost.config_generations WHERE live ORDER BY plugin
    LOOP
        f := f || g.files;
        b := b || jsonb_build_object(g.plugin, g.hash);
    END LOOP;
    IF b = '{}'::jsonb THEN
        RAISE EXCEPTION 'no configuration is live yet: there is nothing to copy'
            USING ERRCODE = 'no_data_found', HINT = 'deploy one first: casehost config deploy';
    END IF;
    INSERT INTO casehost.config_candidates (files, based_on, created_by, created_role, note)
    VALUES (f, b, me.user_id, casehost.acting_role_v1(), p_note)
    RETURNING id INTO new_id;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'create', 'config_candidate', new_id, 'from ' || b::text);
    RETURN new_id;
END
$$;

-- Puts one file's text into an open candidate (new or replacing). Returns
-- its size in bytes and whether it differs from what the candidate held.
CREATE FUNCTION casehost.config_candidate_put_v1(p_id bigint, p_path text, p_text text)
RETURNS TABLE (bytes integer, changed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_config_admin();
    c casehost.config_candidates;
    n integer := octet_length(p_text);
BEGIN
    IF NOT casehost.config_candidate_path_ok(p_path) THEN
        RAISE EXCEPTION 'a candidate file is named "plugin/path/name.cfg" (no "..", no leading "/"), not "%"',
                        left(p_path, 200)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    c := casehost.config_candidate_open(p_id);
    IF NOT c.based_on ? split_part(p_path, '/', 1) THEN
        RAISE EXCEPTION '"%" is not under the folder of a plugin with a live configuration (%)',
                        p_path, (SELECT string_agg(k, ', ') FROM jsonb_object_keys(c.based_on) k)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_text IS NULL OR n > 4 * 1024 * 1024 THEN
        RAISE EXCEPTION '%: % bytes; a configuration file holds at most 4 MiB', p_path,
                        coalesce(n, 0)
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    IF octet_length(c.files::text) - coalesce(octet_length(c.files ->> p_path), 0) + n
       > 32 * 1024 * 1024 THEN
        RAISE EXCEPTION 'candidate %: all its files together may hold at most 32 MiB', p_id
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN QUERY SELECT n, c.files ->> p_path IS DISTINCT FROM p_text;
    UPDATE casehost.config_candidates
       SET files = files || jsonb_build_object(p_path, p_text), changed_at = now()
     WHERE id = p_id;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'update', 'config_candidate', p_id, 'put ' || p_path);
END
$$;

-- Removes one file from an open candidate.
CREATE FUNCTION casehost.config_candidate_rm_v1(p_id bigint, p_path text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_config_admin();
    c casehost.config_candidates := casehost.config_candidate_open(p_id);
BEGIN
    IF NOT c.files ? coalesce(p_path, '') THEN
        RAISE EXCEPTION 'configuration candidate % has no file "%"', p_id, left(p_path, 200)
            USING ERRCODE = 'no_data_found', HINT = 'casehost candidate show lists its files';
    END IF;
    UPDATE casehost.config_candidates SET files = files - p_path, changed_at = now()
     WHERE id = p_id;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'update', 'config_candidate', p_id, 'rm ' || p_path);
END
$$;

-- Discards an open candidate (kept, as every change is, for the record).
CREATE FUNCTION casehost.config_candidate_discard_v1(p_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_config_admin();
    c casehost.config_candidates := casehost.config_candidate_open(p_id);
BEGIN
    UPDATE casehost.config_candidates SET state = 'discarded', changed_at = now()
     WHERE id = c.id;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'discard', 'config_candidate', p_id, NULL);
END
$$;

-- Marks an open candidate deployed, in the transaction of the deploy that
-- made each of its plugins' files live (p_deployed: {"plugin": "hash"}, each
-- the live generation now).
CREATE FUNCTION casehost.config_candidate_deployed_v1(p_id bigint, p_deployed jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_config_admin();
    c casehost.config_candidates := casehost.config_candidate_open(p_id);
BEGIN
    IF jsonb_typeof(p_deployed) IS DISTINCT FROM 'object' OR p_deployed = '{}'::jsonb
       OR EXISTS (SELECT 1 FROM jsonb_each_text(p_deployed) d
                   WHERE NOT EXISTS (SELECT 1 FROM casehost.config_generations g
                                      WHERE g.plugin = d.key AND g.hash = d.value AND g.live)) THEN
        RAISE EXCEPTION 'candidate %: what it deployed is not live', p_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE casehost.config_candidates
       SET state = 'deployed', deployed = p_deployed, deployed_at = now(), changed_at = now()
     WHERE id = c.id;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'deploy', 'config_candidate', p_id, p_deployed::text);
END
$$;

-- Every candidate, newest first (p_id NULL), or one: what a list shows and
-- the files a check, replay or deploy writes to its private copy.
CREATE FUNCTION casehost.config_candidates_v1(p_id bigint)
RETURNS TABLE (id bigint, state text, note text, created_by text, created_at timestamptz,
               changed_at timestamptz, based_on jsonb, deployed jsonb, files jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    me casehost.identities := casehost.require_config_admin();
BEGIN
    RETURN QUERY
        SELECT c.id, c.state, c.note, coalesce(u.name, c.created_role::text), c.created_at,
               c.changed_at, c.based_on, c.deployed, c.files
          FROM casehost.config_candidates c LEFT JOIN casehost.users u ON u.id = c.created_by
         WHERE p_id IS NULL OR c.id = p_id
         ORDER BY c.id DESC;
    IF p_id IS NOT NULL AND NOT FOUND THEN
        RAISE EXCEPTION 'no configuration candidate %', p_id
            USING ERRCODE = 'no_data_found', HINT = 'casehost candidate list shows them';
    END IF;
END
$$;

-- The files of candidate p_id against the live generations: each with its
-- size, SHA-256 and 'same', 'changed' or 'new'; a live file the candidate
-- no longer has is 'removed'.
CREATE FUNCTION casehost.config_candidate_files_v1(p_id bigint)
RETURNS TABLE (path text, bytes integer, sha256 text, against_live text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    me casehost.identities := casehost.require_config_admin();
    f jsonb;
    live jsonb := '{}'::jsonb;
    g record;
BEGIN
    SELECT c.files INTO f FROM casehost.config_candidates c WHERE c.id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no configuration candidate %', p_id
            USING ERRCODE = 'no_data_found', HINT = 'casehost candidate list shows them';
    END IF;
    FOR g IN SELECT files FROM casehost.config_generations WHERE live LOOP
        live := live || g.files;
    END LOOP;
    RETURN QUERY
        SELECT coalesce(c.key, l.key), octet_length(c.value)::integer,
               encode(sha256(convert_to(c.value, 'UTF8')), 'hex'),
               CASE WHEN c.key IS NULL THEN 'removed' WHEN l.key IS NULL THEN 'new'
                    WHEN c.value = l.value THEN 'same' ELSE 'changed' END
          FROM jsonb_each_text(f) c FULL JOIN jsonb_each_text(live) l ON l.key = c.key
         ORDER BY 1;
END
$$;

REVOKE EXECUTE ON FUNCTION casehost.config_candidate_open(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION casehost.config_candidate_new_v1(text),
    casehost.config_candidate_put_v1(bigint, text, text),
    casehost.config_candidate_rm_v1(bigint, text), casehost.config_candidate_discard_v1(bigint),
    casehost.config_candidate_deployed_v1(bigint, jsonb), casehost.config_candidates_v1(bigint),
    casehost.config_candidate_files_v1(bigint)
    TO casehost_app;
