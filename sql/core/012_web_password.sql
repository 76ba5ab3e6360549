-- 012_web_password.sql: a new password ends the user's other web sessions.
-- Whoever set it (the user on another device, an admin after a reset, the
-- command line) means the old password may be known to someone else: every
-- session opened with it ends, except the one the user changed it in (the
-- server names it, for this transaction only, in casehost.web_session; a
-- session that names itself spares only itself).
CREATE FUNCTION casehost.web_sessions_end_on_password() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM casehost.web_sessions s
     WHERE s.user_id = NEW.object_id
       AND s.token_sha256 IS DISTINCT FROM
           nullif(current_setting('casehost.web_session', true), '')::bytea;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_password_ends_web_sessions AFTER INSERT ON casehost.audit_log
    FOR EACH ROW WHEN (NEW.action = 'password' AND NEW.object_type = 'user')
    EXECUTE FUNCTION casehost.web_sessions_end_on_password();
REVOKE ALL ON FUNCTION casehost.web_sessions_end_on_password() FROM PUBLIC;
