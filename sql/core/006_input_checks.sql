-- 006_input_checks.sql: one rule for every date and time a person types on
-- the command line, for the host and its plugins alike. PostgreSQL's input
-- parser accepts much that is no date: 'infinity', 'epoch', Julian days, BC
-- years and years past 9999 ('100000101' is 1 January 10000). Commands check
-- each such option here, naming the option, before they write anything.
-- It never writes and never reads a table.

-- The value as a timestamptz, or an invalid_datetime_format error (SQLSTATE
-- 22007) whose message names the field: "--expires: 'infinity' is not a date
-- and time". NULL stays NULL; 'now' and 'today' are dates like any other.
-- The year is checked both as written and in UTC, so neither a time zone nor
-- a later cast to date can turn an accepted value into year 0 or 10000.
CREATE FUNCTION casehost.time_input_v1(p_field text, p_value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t timestamptz;
    as_written timestamp;
    refused boolean := p_value ~* '(infinity|epoch)';
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT refused THEN
        BEGIN
            t := p_value::timestamptz;
            as_written := p_value::timestamp;
        EXCEPTION WHEN data_exception THEN
            refused := true;
        END;
    END IF;
    IF refused OR NOT isfinite(t)
       OR extract(year FROM as_written) NOT BETWEEN 1 AND 9999
       OR t < '0001-01-01 00:00:00+00'::timestamptz
       OR t >= '10000-01-01 00:00:00+00'::timestamptz THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_datetime_format',
            MESSAGE = format('%s: ''%s'' is not a date and time', p_field, p_value),
            HINT = 'give a date such as 2026-11-20 or a date and time such as '
                   '"2026-11-20 14:30" (or now), in the years 1 to 9999';
    END IF;
    RETURN t;
END
$$;

REVOKE ALL ON FUNCTION casehost.time_input_v1(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION casehost.time_input_v1(text, text) TO casehost_app, casehost_service;
