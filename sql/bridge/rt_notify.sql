-- rt_notify.sql: OPTIONAL, for RT's database (not casehost's), run by RT's
-- database admin: wakes `casehost bridge rt` (with rt.listen = true) as soon
-- as RT commits a transaction, instead of at its next poll. The bridge works
-- the same without it; it only shortens the wait.
--
-- What it costs RT: one pg_notify per INSERT statement on RT's transactions
-- table, with an empty payload. PostgreSQL queues notifications at commit
-- under one cluster-wide lock, so RT's committing writers take turns for a
-- moment; at help-desk rates that is nothing, but it is why this is off by
-- default. It reads nothing and writes no table; its schema holds only it.
--
-- Remove it with:  DROP SCHEMA casehost_bridge CASCADE;
BEGIN;
CREATE SCHEMA casehost_bridge;
REVOKE ALL ON SCHEMA casehost_bridge FROM PUBLIC;

CREATE FUNCTION casehost_bridge.rt_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_notify('casehost_bridge_rt', '');
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION casehost_bridge.rt_notify() FROM PUBLIC;

-- transactions: RT's own table, in the schema RT was installed in (public).
CREATE TRIGGER casehost_bridge_rt_notify AFTER INSERT ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION casehost_bridge.rt_notify();
COMMIT;
