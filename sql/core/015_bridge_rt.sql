-- 015_bridge_rt.sql: what `casehost bridge rt` keeps in casehost's database.
-- A case made from a help-desk ticket carries the ticket as its external
-- reference (unique per agency and system, so a lost bridge state can never
-- make a second case); the bridge's scan state (watermark, ids handled above
-- it) and its ticket -> case map are its own tables, written only by the
-- functions below, as the bridge's service role, in the same transaction as
-- the cases they describe. Nothing here ever reaches into RT's database.
-- The bridge looks cases up (by external reference) as the person it acts
-- as, under that person's row-level security.

ALTER TABLE casehost.cases
    ADD COLUMN external_system text,
    ADD COLUMN external_ref    text,
    ADD CONSTRAINT cases_external_both
        CHECK ((external_system IS NULL) = (external_ref IS NULL));
CREATE UNIQUE INDEX cases_external_ref ON casehost.cases (agency_id, external_system, external_ref)
    WHERE external_system IS NOT NULL;

-- One row per agency and RT instance (the bridge config's `name`).
-- watermark: every RT transaction id at or below it is handled, or belongs
-- to no ticket of interest, and no transaction still running can commit one
-- below it. handled: the ids above it already handled (ids commit out of
-- order, so some below the highest handled may still appear).
-- scan_xmax / scan_max_id: pg_snapshot_xmax of the snapshot of the last scan
-- that read a new id, and the highest id it read; the next scans compare
-- their pg_snapshot_xmin with scan_xmax to move the watermark.
CREATE TABLE casehost.bridge_rt_state (
    agency_id   bigint NOT NULL REFERENCES casehost.agencies(id),
    instance    text NOT NULL CHECK (instance ~ '^[a-z][a-z0-9_-]{0,31}$'),
    watermark   bigint NOT NULL DEFAULT 0 CHECK (watermark >= 0),
    handled     bigint[] NOT NULL DEFAULT '{}',
    scan_xmax   bigint,
    scan_max_id bigint,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, instance)
);

-- Which case a ticket is: a merged ticket keeps its row and points at the
-- case of the ticket it was merged into (merged_into).
CREATE TABLE casehost.bridge_rt_tickets (
    agency_id   bigint NOT NULL REFERENCES casehost.agencies(id),
    instance    text NOT NULL,
    ticket_id   bigint NOT NULL CHECK (ticket_id > 0),
    case_id     bigint NOT NULL REFERENCES casehost.cases(id),
    merged_into bigint CHECK (merged_into > 0),
    linked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, instance, ticket_id)
);
CREATE INDEX bridge_rt_tickets_case ON casehost.bridge_rt_tickets (case_id);

SELECT casehost.agency_rls('casehost', ARRAY['bridge_rt_state', 'bridge_rt_tickets']);

-- The bridge is a service; nobody else calls these.
CREATE FUNCTION casehost.bridge_rt_require() RETURNS casehost.identities
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT casehost.require_kind(ARRAY['service'], 'the RT bridge')
$$;

-- The person the bridge acts as for case writes (so that the host's case
-- paths and every plugin hook run as a person, as for `case new`): a person
-- of the bridge's own agency whose role the bridge's login is a member of
-- (the database owner grants it: INSTALL, "RT bridge"). Returns that role.
CREATE FUNCTION casehost.bridge_rt_actor_v1(p_name text) RETURNS name
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.bridge_rt_require();
    who casehost.identities;
BEGIN
    SELECT i.* INTO who FROM casehost.identities i
     WHERE i.name = p_name AND i.agency_id = me.agency_id AND NOT i.disabled
       AND i.kind IN ('caseworker', 'supervisor', 'admin');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user "%" is no person of this agency', p_name
            USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT pg_has_role(session_user, who.db_role, 'MEMBER') THEN
        RAISE EXCEPTION 'the bridge''s role % may not act as user "%"', session_user, p_name
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('as the database owner: GRANT %I TO %I (INSTALL, RT bridge)',
                                who.db_role, session_user);
    END IF;
    RETURN who.db_role;
END
$$;

-- Starts a scan: the state of this agency's instance, locked until the
-- scan commits (a second bridge process on it waits, then sees the new
-- state). The first scan makes the row, audited.
CREATE FUNCTION casehost.bridge_rt_begin_v1(p_instance text) RETURNS casehost.bridge_rt_state
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.bridge_rt_require();
    st casehost.bridge_rt_state;
BEGIN
    SELECT * INTO st FROM casehost.bridge_rt_state
     WHERE agency_id = me.agency_id AND instance = p_instance FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO casehost.bridge_rt_state (agency_id, instance) VALUES (me.agency_id, p_instance)
        ON CONFLICT DO NOTHING;
        SELECT * INTO st FROM casehost.bridge_rt_state
         WHERE agency_id = me.agency_id AND instance = p_instance FOR UPDATE;
        PERFORM casehost.audit('bridge_start', 'bridge_rt', NULL, p_instance);
    END IF;
    RETURN st;
END
$$;

-- Saves one scan's state. The watermark never moves back; handled keeps
-- only ids above it.
CREATE FUNCTION casehost.bridge_rt_save_v1(p_instance text, p_watermark bigint, p_handled bigint[],
                                           p_scan_xmax bigint, p_scan_max_id bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.bridge_rt_require();
    old casehost.bridge_rt_state;
BEGIN
    SELECT * INTO old FROM casehost.bridge_rt_state
     WHERE agency_id = me.agency_id AND instance = p_instance FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no scan of "%" was begun', p_instance USING ERRCODE = 'no_data_found';
    END IF;
    IF p_watermark < old.watermark THEN
        RAISE EXCEPTION 'the watermark of "%" cannot move back from % to %', p_instance,
            old.watermark, p_watermark USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE casehost.bridge_rt_state
       SET watermark = p_watermark,
           handled = ARRAY(SELECT DISTINCT h FROM unnest(coalesce(p_handled, '{}')) h
                            WHERE h > p_watermark ORDER BY h),
           scan_xmax = p_scan_xmax, scan_max_id = p_scan_max_id, updated_at = now()
     WHERE agency_id = me.agency_id AND instance = p_instance;
    PERFORM casehost.audit('bridge_scan', 'bridge_rt', NULL,
                           format('%s: watermark %s, %s handled above it', p_instance, p_watermark,
                                  cardinality(coalesce(p_handled, '{}'))));
END
$$;

-- Links ticket p_ticket to case p_case (a case of the agency). A ticket of
-- its own (p_merged_into NULL) also becomes the case's external reference
-- when the case has none yet; a merged one only points at the case. True
-- when something changed (and only then is it written and audited).
CREATE FUNCTION casehost.bridge_rt_link_v1(p_instance text, p_ticket bigint, p_case bigint,
                                           p_merged_into bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.bridge_rt_require();
    old casehost.cases;
    c casehost.cases;
    m casehost.bridge_rt_tickets;
BEGIN
    SELECT * INTO old FROM casehost.cases WHERE id = p_case FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'case % not found', coalesce(p_case::text, '(none)')
            USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO m FROM casehost.bridge_rt_tickets
     WHERE agency_id = me.agency_id AND instance = p_instance AND ticket_id = p_ticket;
    IF FOUND AND m.case_id = p_case AND m.merged_into IS NOT DISTINCT FROM p_merged_into THEN
        RETURN false;
    END IF;
    INSERT INTO casehost.bridge_rt_tickets (agency_id, instance, ticket_id, case_id, merged_into)
    VALUES (me.agency_id, p_instance, p_ticket, p_case, p_merged_into)
    ON CONFLICT (agency_id, instance, ticket_id) DO UPDATE
       SET case_id = EXCLUDED.case_id, merged_into = EXCLUDED.merged_into, linked_at = now();
    IF p_merged_into IS NULL AND old.external_system IS NULL THEN
        UPDATE casehost.cases SET external_system = p_instance, external_ref = p_ticket::text
         WHERE id = p_case RETURNING * INTO c;
        PERFORM casehost.case_record_changes(old, c);
    END IF;
    PERFORM casehost.audit('bridge_link', 'case', p_case,
                           format('%s ticket %s%s', p_instance, p_ticket,
                                  CASE WHEN p_merged_into IS NULL THEN ''
                                       ELSE ' (merged into ' || p_merged_into || ')' END));
    RETURN true;
END
$$;

-- No role reads or writes the two tables directly: the bridge reaches them
-- only through the functions above.
REVOKE ALL ON FUNCTION casehost.bridge_rt_require(), casehost.bridge_rt_actor_v1(text),
    casehost.bridge_rt_begin_v1(text),
    casehost.bridge_rt_save_v1(text, bigint, bigint[], bigint, bigint),
    casehost.bridge_rt_link_v1(text, bigint, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION casehost.bridge_rt_require(), casehost.bridge_rt_actor_v1(text),
    casehost.bridge_rt_begin_v1(text),
    casehost.bridge_rt_save_v1(text, bigint, bigint[], bigint, bigint),
    casehost.bridge_rt_link_v1(text, bigint, bigint, bigint) TO casehost_service;
