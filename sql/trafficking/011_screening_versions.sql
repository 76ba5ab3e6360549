-- 011_screening_versions.sql: which instrument versions stored screenings
-- use, of every agency, so that `config deploy` refuses a configuration
-- that no longer loads one of them: a screening is routed (and replayed)
-- with the evidence classes of its own instrument version. The answer is
-- (instrument, version, screenings) and nothing else: no case, person,
-- agency or answer leaves.
--
-- Row-level security is FORCEd, so casehost_definer, which owns every
-- SECURITY DEFINER function, sees only the caller's agency even inside one.
-- Counting across agencies therefore runs as a role of its own,
-- casehost_trafficking_counter: NOLOGIN, no member, neither superuser nor
-- BYPASSRLS, allowed SELECT on three columns of trafficking.screenings
-- (instrument_id, instrument_version, state) and by one policy all of their
-- rows. It owns exactly one function, screening_version_counts(), which only
-- casehost_definer may execute; config admins reach it through
-- screening_versions_v1(), which checks the config_admin grant first.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casehost_trafficking_counter') THEN
        CREATE ROLE casehost_trafficking_counter NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE
            NOCREATEDB NOINHERIT;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA trafficking TO casehost_trafficking_counter;
GRANT SELECT (instrument_id, instrument_version, state) ON trafficking.screenings
    TO casehost_trafficking_counter;
-- Permissive policies add up: this role sees every agency's rows (of the
-- three columns it may read); every other role keeps agency_only alone.
CREATE POLICY screening_versions ON trafficking.screenings FOR SELECT
    TO casehost_trafficking_counter USING (true);

-- Internal: the screenings routing reads (completed or stopped, superseded
-- ones too, since stored decisions name them and replay routes them again)
-- per instrument version.
CREATE FUNCTION trafficking.screening_version_counts()
RETURNS TABLE (instrument text, version integer, screenings bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.instrument_id, s.instrument_version, count(*)
      FROM trafficking.screenings s
     WHERE s.state IN ('completed', 'stopped') AND s.instrument_version IS NOT NULL
     GROUP BY s.instrument_id, s.instrument_version
     ORDER BY s.instrument_id, s.instrument_version
$$;
REVOKE ALL ON FUNCTION trafficking.screening_version_counts() FROM PUBLIC;

-- Handing the function to the counter: the migrating role must be able to
-- become it, and it must be able to create in the schema, for the moment of
-- the change only. adopt_v1 leaves it alone (it takes only what the
-- migrating role owns).
GRANT casehost_trafficking_counter TO CURRENT_USER;
GRANT CREATE ON SCHEMA trafficking TO casehost_trafficking_counter;
ALTER FUNCTION trafficking.screening_version_counts() OWNER TO casehost_trafficking_counter;
REVOKE CREATE ON SCHEMA trafficking FROM casehost_trafficking_counter;
GRANT EXECUTE ON FUNCTION trafficking.screening_version_counts() TO casehost_definer;
REVOKE casehost_trafficking_counter FROM CURRENT_USER;

-- The instrument versions stored screenings of every agency use, with how
-- many use each: for the deploy check of a config admin (db/deploy.c).
CREATE FUNCTION trafficking.screening_versions_v1()
RETURNS TABLE (instrument text, version integer, screenings bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_config_admin();
    RETURN QUERY SELECT c.instrument, c.version, c.screenings
                   FROM trafficking.screening_version_counts() c;
END
$$;
REVOKE ALL ON FUNCTION trafficking.screening_versions_v1() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.screening_versions_v1() TO casehost_app;
