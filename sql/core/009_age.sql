-- 009_age.sql: age as the law sees it. A person's age is a date of birth, or
-- an estimate with a range and who made it, or unknown; any of them may be
-- disputed (with a note). The age on any date (at an exploitation episode,
-- at a report) is computed here, once, for every component: a plugin never
-- computes an age of its own.
--
-- estimated_age stays the estimate's lower bound (what it always meant for
-- a single-number estimate); estimated_age_high is its upper bound (equal
-- for a single number). Existing estimates become ranges of one year.

ALTER TABLE casehost.people
    ADD COLUMN estimated_age_high integer CHECK (estimated_age_high BETWEEN 0 AND 120),
    ADD COLUMN estimated_by       text CHECK (length(estimated_by) BETWEEN 1 AND 200),
    ADD COLUMN age_disputed       boolean NOT NULL DEFAULT false,
    ADD COLUMN age_dispute_note   text CHECK (length(btrim(age_dispute_note)) BETWEEN 1 AND 2000);

UPDATE casehost.people SET estimated_age_high = estimated_age WHERE estimated_age IS NOT NULL;

ALTER TABLE casehost.people
    ADD CHECK ((estimated_age_high IS NULL) = (estimated_age IS NULL)),
    ADD CHECK (estimated_age_high >= estimated_age),
    ADD CHECK (estimated_by IS NULL OR estimated_age IS NOT NULL),
    -- A dispute says why: the next caseworker must know what is doubted.
    ADD CHECK (NOT age_disputed OR age_dispute_note IS NOT NULL);

-- The age range [low, high] in whole years on date p_on: from the date of
-- birth (low = high), else the estimate moved by the whole years between
-- the estimate and p_on (before the estimate, the low end moves down by a
-- started year too, so the range always holds the true age); NULLs when
-- the age is unknown. Never below 0.
CREATE FUNCTION casehost.age_range_on(p casehost.people, p_on date,
                                      OUT low integer, OUT high integer)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    years integer;
BEGIN
    IF p.date_of_birth IS NOT NULL THEN
        low := greatest(0, extract(year FROM age(p_on, p.date_of_birth))::integer);
        high := low;
    ELSIF p.estimated_age IS NOT NULL THEN
        IF p_on >= p.estimated_on THEN
            years := extract(year FROM age(p_on, p.estimated_on))::integer;
            low := p.estimated_age + years;
            high := p.estimated_age_high + years;
        ELSE
            years := extract(year FROM age(p.estimated_on, p_on))::integer;
            low := greatest(0, p.estimated_age - years
                               - CASE WHEN p_on + make_interval(years => years) = p.estimated_on
                                      THEN 0 ELSE 1 END);
            high := greatest(0, p.estimated_age_high - years);
        END IF;
    END IF;
END
$$;

-- The surface's age range of a person the caller may see on a date (the
-- same "not found" as person_check_v1 otherwise).
CREATE FUNCTION casehost.person_age_on_v1(p_person bigint, p_on date,
                                          OUT low integer, OUT high integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.low, r.high
      FROM casehost.people p, casehost.age_range_on(p, p_on) r
     WHERE p.id = casehost.person_check_v1(p_person)
$$;

-- person_add learns the new members; the rest is as 003 wrote it.
CREATE OR REPLACE FUNCTION casehost.person_add(p jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r casehost.people;
    k text;
BEGIN
    FOR k IN SELECT jsonb_object_keys(p) LOOP
        IF k NOT IN ('given_name', 'family_name', 'date_of_birth', 'estimated_age',
                     'estimated_age_high', 'estimated_by', 'age_disputed', 'age_dispute_note',
                     'gender_identity', 'language', 'interpreter_needed') THEN
            RAISE EXCEPTION 'person field "%" cannot be set', k
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    r := jsonb_populate_record(NULL::casehost.people, p);
    PERFORM casehost.person_age_check(r);
    INSERT INTO casehost.people (agency_id, given_name, family_name, date_of_birth, estimated_age,
                                 estimated_age_high, estimated_on, estimated_by, age_disputed,
                                 age_dispute_note, gender_identity, language, interpreter_needed,
                                 created_by)
    VALUES (casehost.current_agency(), r.given_name, r.family_name, r.date_of_birth,
            r.estimated_age, coalesce(r.estimated_age_high, r.estimated_age),
            CASE WHEN r.estimated_age IS NOT NULL THEN current_date END, r.estimated_by,
            coalesce(r.age_disputed, false), nullif(btrim(r.age_dispute_note), ''),
            r.gender_identity, r.language, coalesce(r.interpreter_needed, false),
            casehost.current_actor())
    RETURNING id INTO r.id;
    PERFORM casehost.audit('create', 'person', r.id, NULL);
    RETURN r.id;
END
$$;

-- The age members of a person as a caller gives them, checked with messages
-- that name the option (the table's CHECKs would only name a constraint).
CREATE FUNCTION casehost.person_age_check(r casehost.people) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF r.date_of_birth IS NOT NULL AND r.estimated_age IS NOT NULL THEN
        RAISE EXCEPTION 'give a date of birth or an age estimate, not both'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF r.estimated_age_high IS NOT NULL AND r.estimated_age IS NULL THEN
        RAISE EXCEPTION 'an upper age needs the estimate''s lower age'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF r.estimated_age_high < r.estimated_age THEN
        RAISE EXCEPTION '--age-estimate: %-% runs backwards (give LOW-HIGH)', r.estimated_age,
            r.estimated_age_high USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF r.estimated_by IS NOT NULL AND r.estimated_age IS NULL THEN
        RAISE EXCEPTION '--estimated-by needs --age-estimate' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(r.age_disputed, false) AND nullif(btrim(r.age_dispute_note), '') IS NULL THEN
        RAISE EXCEPTION 'a disputed age needs --dispute-note: what is doubted, and by whom'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

-- Changes a person's age facts (and only those): a new date of birth or
-- estimate replaces the old one (the change is in the audit log with the
-- old values), a dispute is recorded or cleared. Members absent from p keep
-- their value; "date_of_birth" and "estimated_age" each clear the other.
CREATE FUNCTION casehost.person_age_set_v1(p_person bigint, p jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old casehost.people;
    r casehost.people;
    k text;
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.person_check_v1(p_person);
    FOR k IN SELECT jsonb_object_keys(p) LOOP
        IF k NOT IN ('date_of_birth', 'estimated_age', 'estimated_age_high', 'estimated_by',
                     'age_disputed', 'age_dispute_note') THEN
            RAISE EXCEPTION 'person field "%" cannot be changed here', k
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    SELECT * INTO old FROM casehost.people WHERE id = p_person FOR UPDATE;
    r := jsonb_populate_record(old, p);
    IF p ? 'date_of_birth' THEN
        r.estimated_age := NULL; r.estimated_age_high := NULL; r.estimated_by := NULL;
        r.estimated_on := NULL;
    END IF;
    IF p ? 'estimated_age' THEN
        r.date_of_birth := NULL;
        r.estimated_on := current_date;
        r.estimated_age_high := coalesce((p->>'estimated_age_high')::integer, r.estimated_age);
        r.estimated_by := p->>'estimated_by';
    END IF;
    IF p ? 'age_disputed' AND NOT r.age_disputed THEN
        r.age_dispute_note := NULL;
    END IF;
    r.age_dispute_note := nullif(btrim(r.age_dispute_note), '');
    PERFORM casehost.person_age_check(r);
    UPDATE casehost.people
       SET (date_of_birth, estimated_age, estimated_age_high, estimated_on, estimated_by,
            age_disputed, age_dispute_note)
         = (r.date_of_birth, r.estimated_age, r.estimated_age_high, r.estimated_on,
            r.estimated_by, r.age_disputed, r.age_dispute_note)
     WHERE id = p_person;
    PERFORM casehost.audit('update', 'person', p_person,
        'age was ' || CASE WHEN old.date_of_birth IS NOT NULL THEN 'born ' || old.date_of_birth
                           WHEN old.estimated_age IS NOT NULL
                               THEN 'estimated ' || old.estimated_age || '-' || old.estimated_age_high
                                    || ' on ' || old.estimated_on
                           ELSE 'unknown' END
        || CASE WHEN old.age_disputed THEN ', disputed' ELSE '' END);
END
$$;

-- The person as plugins read it, with the age facts (surface v2: v1 stays
-- as it was). age is the low end today; age_high the high end (equal with a
-- date of birth; NULL when unknown).
CREATE VIEW casehost.plugin_person_v2 WITH (security_invoker = true) AS
SELECT p.id, p.agency_id, p.given_name, p.family_name, p.date_of_birth, p.estimated_age,
       p.estimated_on, casehost.person_age(p) AS age, p.gender_identity, p.language,
       p.interpreter_needed, (casehost.age_range_on(p, current_date)).high AS age_high,
       p.estimated_by, p.age_disputed, p.age_dispute_note
  FROM casehost.people p;

-- An agency of the caller's kind of interest: what it is and where (its
-- duties follow from its kind: a child-welfare agency reports missing
-- children). No personal data.
CREATE VIEW casehost.plugin_agency_v1 WITH (security_invoker = true) AS
SELECT a.id, a.name, a.kind, a.state, a.county FROM casehost.agencies a;

COMMENT ON VIEW casehost.plugin_person_v2 IS 'plugin SQL surface v2 (plugin.h CH_SQL_SURFACE_V2)';
COMMENT ON VIEW casehost.plugin_agency_v1 IS 'plugin SQL surface v2 (plugin.h CH_SQL_SURFACE_V2)';

REVOKE ALL ON FUNCTION casehost.age_range_on(casehost.people, date),
    casehost.person_age_check(casehost.people), casehost.person_age_set_v1(bigint, jsonb),
    casehost.person_age_on_v1(bigint, date) FROM PUBLIC;
GRANT SELECT ON casehost.plugin_person_v2, casehost.plugin_agency_v1 TO casehost_app;
GRANT EXECUTE ON FUNCTION casehost.age_range_on(casehost.people, date),
    casehost.person_age_check(casehost.people), casehost.person_age_on_v1(bigint, date),
    casehost.person_age_set_v1(bigint, jsonb)
    TO casehost_app;
