-- 011_person_find.sql: finding a person again. Young people give other
-- names (street names, a name a trafficker uses for them); a caseworker
-- searches by any name, alias or date of birth, within their agency
-- (row-level security), and every search is audited with what was asked.

ALTER TABLE casehost.people ADD COLUMN aliases text[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(aliases) <= 20);

-- Adds (or, with p_remove, removes) one alias of a person of the caller's agency.
CREATE FUNCTION casehost.person_alias_v1(p_person bigint, p_alias text, p_remove boolean)
RETURNS text[]
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a text := btrim(p_alias);
    result text[];
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.person_check_v1(p_person);
    IF a IS NULL OR length(a) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'an alias is 1 to 200 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE casehost.people p
       SET aliases = CASE WHEN p_remove THEN array_remove(p.aliases, a)
                          WHEN a = ANY (p.aliases) THEN p.aliases
                          ELSE p.aliases || a END
     WHERE p.id = p_person
    RETURNING p.aliases INTO result;
    PERFORM casehost.audit('update', 'person', p_person,
                           CASE WHEN p_remove THEN 'alias removed' ELSE 'alias added' END);
    RETURN result;
END
$$;

-- People of the caller's agency whose name or alias contains p_name (any
-- case, either order of given and family name) and, when given, born on
-- p_dob; at most 50, best matches first. Audited with the terms' shape,
-- never the terms (a search for a name is itself personal data).
CREATE FUNCTION casehost.person_find_v1(p_name text, p_dob date)
RETURNS TABLE (id bigint, name text, aliases text, date_of_birth date, age integer, cases bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    q text := lower(btrim(coalesce(p_name, '')));
BEGIN
    PERFORM casehost.require_person();
    IF q = '' AND p_dob IS NULL THEN
        RAISE EXCEPTION 'give a name (or part of one) or a date of birth'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM casehost.audit('search', 'person', NULL,
                           concat_ws(', ', CASE WHEN q <> '' THEN 'by name' END,
                                     CASE WHEN p_dob IS NOT NULL THEN 'by date of birth' END));
    RETURN QUERY
    SELECT p.id, concat_ws(' ', p.given_name, p.family_name),
           nullif(array_to_string(p.aliases, ', '), ''), p.date_of_birth, casehost.person_age(p),
           (SELECT count(*) FROM casehost.cases c WHERE c.subject_id = p.id)
      FROM casehost.people p
     WHERE (q = '' OR strpos(lower(concat_ws(' ', p.given_name, p.family_name)), q) > 0
            OR strpos(lower(concat_ws(' ', p.family_name, p.given_name)), q) > 0
            OR EXISTS (SELECT 1 FROM unnest(p.aliases) al WHERE strpos(lower(al), q) > 0))
       AND (p_dob IS NULL OR p.date_of_birth = p_dob)
     ORDER BY (lower(concat_ws(' ', p.given_name, p.family_name)) = q) DESC, p.family_name,
              p.given_name, p.id
     LIMIT 50;
END
$$;

REVOKE ALL ON FUNCTION casehost.person_alias_v1(bigint, text, boolean),
    casehost.person_find_v1(text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION casehost.person_alias_v1(bigint, text, boolean),
    casehost.person_find_v1(text, date) TO casehost_app;
