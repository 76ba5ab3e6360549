-- 018_hot_functions.sql: the host's hot SQL functions as PL/pgSQL. Same
-- signatures, results, errors, volatility, definer rights and grants (CREATE
-- OR REPLACE keeps the owner and grants); only the cost per call changes.
--
-- A LANGUAGE sql function that cannot be inlined (a SET clause, SECURITY
-- DEFINER, a set returned by a non-SELECT, an INSERT body) is parsed and
-- planned again on every call; PL/pgSQL keeps its plans for the session.
-- Self time per call before (pg_stat_user_functions, PostgreSQL 15):
-- case_record_changes ~0.9-1.0 ms (every case new and update), whoami_v1
-- 0.34 ms (every command), agency_time_zone_v1 0.31 ms (every session
-- start), require_person 0.06 ms. The figures after are in the report of
-- the change; each definer function still takes the caller from the session
-- (acting_role_v1, current_agency) at each call, never from its plan.

-- Records every field that differs between two versions of a case. The
-- RETURNING columns are qualified: the OUT parameters share their names.
-- The actor is read once per call, not once per changed field.
-- It gains the pinned search_path every other function has; its callers
-- (definer functions with the same path) resolve the same names with it.
CREATE OR REPLACE FUNCTION casehost.case_record_changes(old casehost.cases, new casehost.cases)
RETURNS TABLE (field text, old_value text, new_value text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
    INSERT INTO casehost.case_history AS h (agency_id, case_id, actor_id, field, old_value,
                                             new_value)
    SELECT new.agency_id, new.id, (SELECT casehost.current_actor()), n.key,
           o.value #>> '{}', n.value #>> '{}'
      FROM jsonb_each(to_jsonb(new)) n
      LEFT JOIN jsonb_each(to_jsonb(old)) o ON o.key = n.key
     WHERE n.key NOT IN ('id', 'agency_id', 'created_by', 'created_at', 'updated_at', 'closed_at')
       AND (CASE WHEN old IS NULL
                 THEN n.value NOT IN ('null', 'false', '[]')
                 ELSE o.value IS DISTINCT FROM n.value END)
    RETURNING h.field, h.old_value, h.new_value;
END
$$;

-- Who the session is, for the host: one row, or none for a role that is no user.
CREATE OR REPLACE FUNCTION casehost.whoami_v1()
RETURNS TABLE (user_id bigint, user_name text, role text, agency_id bigint, agency_name text,
               db_role name)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
    SELECT i.user_id, i.name, i.kind, i.agency_id, a.name, i.db_role
      FROM casehost.identities i JOIN casehost.agencies a ON a.id = i.agency_id
     WHERE i.db_role = casehost.acting_role_v1() AND NOT i.disabled;
END
$$;

-- The time zone of the caller's agency ('UTC' for a role that is no user).
CREATE OR REPLACE FUNCTION casehost.agency_time_zone_v1() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN coalesce((SELECT a.time_zone FROM casehost.agencies a
                      WHERE a.id = casehost.current_agency()), 'UTC');
END
$$;

-- The write functions refuse a session that is no user, and services.
CREATE OR REPLACE FUNCTION casehost.require_person() RETURNS casehost.identities
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN casehost.require_kind(ARRAY['caseworker', 'supervisor', 'admin'], 'this');
END
$$;
