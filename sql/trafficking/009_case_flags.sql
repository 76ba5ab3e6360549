-- 009_case_flags.sql: the case flags this plugin reads (case_facts_v1 turns
-- each into a rule fact), declared so that any other word is refused when a
-- caseworker sets it (casehost 008). Stored flags nobody declares are kept
-- and reported here, once, for an admin to review.

SELECT casehost.case_flag_declare_v1('imminent_danger',
    'someone is in danger now: routing puts the emergency instruction first', 'trafficking');
SELECT casehost.case_flag_declare_v1('foreign_national',
    'the person is not a US national: an HHS notice for a minor victim', 'trafficking');
SELECT casehost.case_flag_declare_v1('control',
    'a caseworker saw signs of control (force, fraud or coercion) outside a screening',
    'trafficking');
SELECT casehost.case_flag_declare_v1('recruitment',
    'a caseworker saw signs of recruitment outside a screening', 'trafficking');

DO $$
DECLARE
    u record;
BEGIN
    FOR u IN SELECT * FROM casehost.case_flags_unknown_v1() LOOP
        RAISE WARNING 'case flag "%" on % case(s) is declared by no component; it is kept, and '
                      'can be removed with: casehost case update CASE --remove-flag %',
                      u.flag, u.cases, u.flag;
    END LOOP;
END
$$;
