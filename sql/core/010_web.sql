-- 010_web.sql: the web server's sessions and login throttling. The server
-- connects as casehost_authenticator and may do exactly two things: SET
-- ROLE to a person it authenticated, and call the functions below. A
-- password is checked by PostgreSQL itself (the server makes a connection
-- attempt as the person's role); this schema holds no password, only the
-- SHA-256 of each session token (the token itself lives in the browser's
-- cookie), and counts failures so that guessing slows down and stops.

-- One row per logged-in browser. Read and written only by the functions
-- here (FORCEd row-level security admits only their owner).
CREATE TABLE casehost.web_sessions (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    user_id      bigint NOT NULL REFERENCES casehost.users(id),
    agency_id    bigint NOT NULL REFERENCES casehost.agencies(id),
    csrf         text NOT NULL CHECK (length(csrf) >= 32),
    address      text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    idle_limit   interval NOT NULL,
    life_limit   interval NOT NULL
);
CREATE INDEX web_sessions_user ON casehost.web_sessions (user_id);
ALTER TABLE casehost.web_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE casehost.web_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_only ON casehost.web_sessions TO casehost_definer USING (true) WITH CHECK (true);

-- Failed logins, per user name as typed and per client address. A user is
-- locked for a fixed time after too many failures in a row; failures while
-- locked never push the end of the lock later, so nobody can keep a
-- caseworker out in an emergency by guessing on. An admin may clear a lock.
CREATE TABLE casehost.web_login_failures (
    kind         text NOT NULL CHECK (kind IN ('user', 'address')),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    failures     integer NOT NULL DEFAULT 0,
    last_failure timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    PRIMARY KEY (kind, key)
);
ALTER TABLE casehost.web_login_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE casehost.web_login_failures FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_only ON casehost.web_login_failures TO casehost_definer
    USING (true) WITH CHECK (true);

-- Failures older than this are forgotten (the count starts again).
CREATE FUNCTION casehost.web_failure_window() RETURNS interval
LANGUAGE sql IMMUTABLE AS $$ SELECT interval '15 minutes' $$;

-- Before a password is tried: the person's role (NULL for a name that is no
-- enabled person: the server then fails the attempt the same way, so a
-- guesser learns nothing), how long the server waits first (it grows with
-- the failures of that name and of that address: 0.25, 0.5, 1, 2, 4, 8 s), and
-- the end of a lock still running.
CREATE FUNCTION casehost.web_login_begin_v1(p_name text, p_address text)
RETURNS TABLE (db_role name, delay_ms integer, locked_until timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    SELECT coalesce(max(f.failures), 0) INTO n FROM casehost.web_login_failures f
     WHERE ((f.kind = 'user' AND f.key = p_name) OR (f.kind = 'address' AND f.key = p_address))
       AND f.last_failure > now() - casehost.web_failure_window();
    RETURN QUERY
    SELECT (SELECT i.db_role FROM casehost.identities i
             WHERE i.name = p_name AND NOT i.disabled AND i.kind <> 'service'),
           CASE WHEN n = 0 THEN 0 ELSE least(8000, 250 * (1 << least(n, 6)) / 2) END,
           (SELECT f.locked_until FROM casehost.web_login_failures f
             WHERE f.kind = 'user' AND f.key = p_name AND f.locked_until > now());
END
$$;

-- A failed attempt: counted for the name and the address; the name is
-- locked for p_lock after p_max failures in a row (the lock's end is set
-- once, never moved; attempts while locked are audited, not counted). Audited, with the agency when the name is a user's.
-- Returns the end of the lock when there is one.
CREATE FUNCTION casehost.web_login_failed_v1(p_name text, p_address text, p_max integer,
                                             p_lock interval)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u casehost.identities;
    f casehost.web_login_failures;
    k record;
BEGIN
    IF p_max < 1 OR p_lock < interval '1 minute' OR p_lock > interval '1 day' THEN
        RAISE EXCEPTION 'login limits out of range' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k IN SELECT * FROM (VALUES ('user', left(p_name, 200)), ('address', left(p_address, 200))) v(kind, key)
              WHERE v.key IS NOT NULL AND v.key <> '' LOOP
        INSERT INTO casehost.web_login_failures AS w (kind, key, failures, last_failure)
        VALUES (k.kind, k.key, 1, now())
        ON CONFLICT (kind, key) DO UPDATE
           SET failures = CASE WHEN w.locked_until > now() THEN w.failures
                               WHEN w.last_failure > now() - casehost.web_failure_window()
                               THEN w.failures + 1 ELSE 1 END,
               last_failure = now();
    END LOOP;
    UPDATE casehost.web_login_failures w
       SET locked_until = now() + p_lock
     WHERE w.kind = 'user' AND w.key = left(p_name, 200) AND w.failures >= p_max
       AND (w.locked_until IS NULL OR w.locked_until <= now())
       AND w.failures % p_max = 0;
    SELECT * INTO f FROM casehost.web_login_failures w
     WHERE w.kind = 'user' AND w.key = left(p_name, 200);
    SELECT * INTO u FROM casehost.identities i WHERE i.name = p_name;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (NULL, u.agency_id, 'login_failed', 'user', u.user_id,
            format('web login as %s from %s failed (%s in a row)%s', left(p_name, 200),
                   coalesce(p_address, '?'), f.failures,
                   CASE WHEN f.locked_until > now()
                        THEN ', locked until ' || to_char(f.locked_until, 'YYYY-MM-DD HH24:MI:SS TZ')
                        ELSE '' END));
    RETURN CASE WHEN f.locked_until > now() THEN f.locked_until END;
END
$$;

-- A password PostgreSQL accepted: the session (token hash and CSRF token
-- made by the server), the name's failures cleared, audited. Refuses a
-- locked, disabled or unknown name (the server checks first; this holds
-- even if it did not).
CREATE FUNCTION casehost.web_login_ok_v1(p_name text, p_address text, p_token_sha256 bytea,
                                         p_csrf text, p_idle interval, p_life interval)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities;
BEGIN
    SELECT i.* INTO me FROM casehost.identities i
     WHERE i.name = p_name AND NOT i.disabled AND i.kind <> 'service';
    IF me.user_id IS NULL THEN
        RAISE EXCEPTION 'no such user' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF EXISTS (SELECT 1 FROM casehost.web_login_failures f
                WHERE f.kind = 'user' AND f.key = p_name AND f.locked_until > now()) THEN
        RAISE EXCEPTION 'user is locked' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF p_idle <= interval '0' OR p_life < p_idle THEN
        RAISE EXCEPTION 'session limits out of range' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM casehost.web_login_failures f WHERE f.kind = 'user' AND f.key = p_name;
    DELETE FROM casehost.web_sessions s
     WHERE s.user_id = me.user_id
       AND (s.last_seen < now() - s.idle_limit OR s.created_at < now() - s.life_limit);
    INSERT INTO casehost.web_sessions (token_sha256, user_id, agency_id, csrf, address, idle_limit,
                                       life_limit)
    VALUES (p_token_sha256, me.user_id, me.agency_id, p_csrf, left(p_address, 200), p_idle, p_life);
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, me.agency_id, 'login', 'user', me.user_id,
            'web login from ' || coalesce(left(p_address, 200), '?'));
END
$$;

-- The session of a token: the person's role and CSRF token; no row when
-- the token is unknown, idle too long, past its lifetime, or its user
-- disabled (such a row is deleted here: the session has ended on the
-- server). Touches last_seen.
CREATE FUNCTION casehost.web_session_v1(p_token_sha256 bytea)
RETURNS TABLE (db_role name, user_name text, csrf text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s casehost.web_sessions;
BEGIN
    SELECT * INTO s FROM casehost.web_sessions w WHERE w.token_sha256 = p_token_sha256 FOR UPDATE;
    IF s.user_id IS NULL THEN
        RETURN;
    END IF;
    IF s.last_seen < now() - s.idle_limit OR s.created_at < now() - s.life_limit
       OR NOT EXISTS (SELECT 1 FROM casehost.identities i
                       WHERE i.user_id = s.user_id AND NOT i.disabled) THEN
        DELETE FROM casehost.web_sessions w WHERE w.token_sha256 = p_token_sha256;
        RETURN;
    END IF;
    UPDATE casehost.web_sessions w SET last_seen = now() WHERE w.token_sha256 = p_token_sha256;
    RETURN QUERY SELECT i.db_role, i.name, s.csrf FROM casehost.identities i
                  WHERE i.user_id = s.user_id;
END
$$;

-- Logout: the session ends on the server, audited.
CREATE FUNCTION casehost.web_logout_v1(p_token_sha256 bytea) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s casehost.web_sessions;
BEGIN
    DELETE FROM casehost.web_sessions w WHERE w.token_sha256 = p_token_sha256 RETURNING * INTO s;
    IF s.user_id IS NOT NULL THEN
        INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
        VALUES (s.user_id, s.agency_id, 'logout', 'user', s.user_id, 'web logout');
    END IF;
END
$$;

-- An admin clears a lock (and the count) of a user of their agency; the
-- installer, of anyone. Ends nothing else. Audited.
CREATE FUNCTION casehost.web_unlock_v1(p_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.current_user_v1();
    u casehost.users;
    was boolean;
BEGIN
    IF me.kind IS DISTINCT FROM 'admin' AND NOT casehost.is_installer() THEN
        RAISE EXCEPTION 'only an admin may unlock users' USING ERRCODE = 'insufficient_privilege';
    END IF;
    u := casehost.user_find(p_name);
    was := EXISTS (SELECT 1 FROM casehost.web_login_failures f
                    WHERE f.kind = 'user' AND f.key = p_name AND f.locked_until > now());
    DELETE FROM casehost.web_login_failures f WHERE f.kind = 'user' AND f.key = p_name;
    INSERT INTO casehost.audit_log (actor_id, agency_id, action, object_type, object_id, detail)
    VALUES (me.user_id, u.agency_id, 'unlock', 'user', u.id,
            p_name || CASE WHEN was THEN ' (was locked)' ELSE ' (was not locked)' END);
    RETURN was;
END
$$;

-- Disabling a user ends their web sessions at once (the session function
-- refuses them too, this only tidies).
CREATE FUNCTION casehost.web_sessions_end_disabled() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.disabled AND NOT OLD.disabled THEN
        DELETE FROM casehost.web_sessions s WHERE s.user_id = NEW.user_id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER identities_end_web_sessions AFTER UPDATE OF disabled ON casehost.identities
    FOR EACH ROW EXECUTE FUNCTION casehost.web_sessions_end_disabled();

-- The login functions write their audit records with no person acting yet:
-- allowed for exactly those actions, and only to a session that logged in
-- as the authenticator and has not SET ROLE (it has no grant on the table:
-- only the functions above, run by their owner, can insert).
CREATE POLICY web_login_write ON casehost.audit_log FOR INSERT
    WITH CHECK (action IN ('login', 'login_failed', 'logout')
                AND pg_catalog.current_setting('role') = 'none'
                AND pg_catalog.pg_has_role(session_user, 'casehost_authenticator', 'MEMBER'));

REVOKE ALL ON casehost.web_sessions, casehost.web_login_failures FROM PUBLIC;
REVOKE ALL ON FUNCTION casehost.web_failure_window(), casehost.web_login_begin_v1(text, text),
    casehost.web_login_failed_v1(text, text, integer, interval),
    casehost.web_login_ok_v1(text, text, bytea, text, interval, interval),
    casehost.web_session_v1(bytea), casehost.web_logout_v1(bytea), casehost.web_unlock_v1(text),
    casehost.web_sessions_end_disabled() FROM PUBLIC;
GRANT USAGE ON SCHEMA casehost TO casehost_authenticator;
GRANT EXECUTE ON FUNCTION casehost.web_login_begin_v1(text, text),
    casehost.web_login_failed_v1(text, text, integer, interval),
    casehost.web_login_ok_v1(text, text, bytea, text, interval, interval),
    casehost.web_session_v1(bytea), casehost.web_logout_v1(bytea)
    TO casehost_authenticator;
GRANT EXECUTE ON FUNCTION casehost.web_unlock_v1(text) TO casehost_app;

-- The live configuration generations, for every long-running program and
-- command that runs them (no personal data). The authenticator reads them
-- through this function only: it has no grant on any table.
CREATE FUNCTION casehost.live_generations_v1()
RETURNS TABLE (plugin text, hash text, files text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT g.plugin, g.hash, g.files::text FROM casehost.config_generations g
     WHERE g.live ORDER BY g.plugin
$$;
REVOKE ALL ON FUNCTION casehost.live_generations_v1() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION casehost.live_generations_v1()
    TO casehost_app, casehost_service, casehost_authenticator;

-- A deploy or rollback wakes every long-running program that runs the
-- live generations (the web server LISTENs on casehost_deploy).
CREATE FUNCTION casehost.config_generations_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('casehost_deploy', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER config_generations_notify AFTER INSERT OR UPDATE ON casehost.config_generations
    FOR EACH STATEMENT EXECUTE FUNCTION casehost.config_generations_notify();
REVOKE ALL ON FUNCTION casehost.config_generations_notify() FROM PUBLIC;
