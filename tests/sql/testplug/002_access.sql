-- The contract test plugin follows the same rules as any plugin: its rows
-- carry their agency under forced row-level security, and its one write is
-- a SECURITY DEFINER function that takes the agency and actor from
-- casehost.current_user_v1(), never from the caller.
ALTER TABLE testplug.events ADD COLUMN agency_id bigint REFERENCES casehost.agencies(id);
SELECT casehost.agency_rls('testplug', ARRAY['events']);
REVOKE ALL ON testplug.events FROM casehost_app;
GRANT USAGE ON SCHEMA testplug TO casehost_app, casehost_service;
GRANT SELECT ON testplug.events TO casehost_app, casehost_service;

CREATE FUNCTION testplug.event_add(p_case bigint, p_hook text, p_event text, p_detail text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.current_user_v1();
    new_id bigint;
BEGIN
    IF me.user_id IS NULL THEN
        RAISE EXCEPTION 'role "%" is not a casehost user', casehost.acting_role_v1()
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF p_case IS NOT NULL THEN
        PERFORM casehost.case_check_v1(p_case);
    END IF;
    INSERT INTO testplug.events (agency_id, case_id, hook, event, detail, actor)
    VALUES (me.agency_id, p_case, p_hook, p_event, p_detail, me.name) RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION testplug.event_add(bigint, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION testplug.event_add(bigint, text, text, text)
    TO casehost_app, casehost_service;
