/*
 * redteam_attacks.h: the red team's tables, read by check_redteam.c. Every
 * table, view and SECURITY DEFINER function of the attacked schemas needs an
 * entry here: the suite reads the catalog at run time and fails on any object
 * without one. Text in {{KEY}} is a value seeded at run time (check_redteam.c
 * lists them); {{ID}} is the entry's id_key value, then an id or name that
 * does not exist at all, and the refusal must read the same for both.
 */
#ifndef REDTEAM_ATTACKS_H
#define REDTEAM_ATTACKS_H

/* The attackers: agency A's own roles. */
enum who { WORKER, SERVICE, ADMIN, N_WHO };

/*
 * How an attack must end. value alone: it succeeds with that first cell.
 * error or sqlstate alone: it is refused with that exact primary message ("":
 * any) and SQLSTATE. value with error or sqlstate: either of the two.
 */
struct expect {
    const char *value;
    const char *error;
    const char *sqlstate;
};

#define REFUSED(msg)                                                                               \
    {                                                                                              \
        NULL, (msg), NULL                                                                          \
    }
#define DENIED                                                                                     \
    {                                                                                              \
        NULL, NULL, "42501"                                                                        \
    }
#define VALUE(v)                                                                                   \
    {                                                                                              \
        (v), NULL, NULL                                                                            \
    }
#define NOT_A_PERSON(fn) REFUSED("permission denied for function " fn)
#define NOT_A_SERVICE                                                                              \
    REFUSED("dispatch and escalation needs the role service or admin; you are caseworker")

/*
 * A table or view. b_rows selects agency B's rows (NULL: its rows belong to
 * no agency). read, per attacker (worker, service, admin): 'z' reads its own
 * agency's rows and none of B's, 'd' permission denied, 's' shared rows.
 */
struct relation {
    const char *name;
    const char *b_rows;
    const char *read;
};

static const struct relation relations[] = {
    {"casehost.agencies", "id = {{B_AGENCY}}", "zzz"},
    {"casehost.audit_log", "agency_id = {{B_AGENCY}}", "zdz"},
    {"casehost.case_flag_kinds", NULL, "sss"},
    {"casehost.case_history", "agency_id = {{B_AGENCY}}", "zdz"},
    {"casehost.cases", "agency_id = {{B_AGENCY}}", "zdz"},
    {"casehost.config_generations", NULL, "sss"},
    {"casehost.identities", "agency_id = {{B_AGENCY}}", "ddd"},
    {"casehost.installation", NULL, "sss"},
    {"casehost.notes", "agency_id = {{B_AGENCY}}", "zdz"},
    {"casehost.people", "agency_id = {{B_AGENCY}}", "zdz"},
    {"casehost.plugin_case_v1", "agency_id = {{B_AGENCY}}", "zdz"},
    {"casehost.plugin_person_v1", "agency_id = {{B_AGENCY}}", "zdz"},
    {"casehost.plugin_person_v2", "agency_id = {{B_AGENCY}}", "zdz"},
    {"casehost.plugin_agency_v1", "id = {{B_AGENCY}}", "zdz"},
    {"casehost.plugin_user_v1", "agency_id = {{B_AGENCY}}", "zdz"},
    {"casehost.schema_migrations", NULL, "sss"},
    {"casehost.users", "agency_id = {{B_AGENCY}}", "zdz"},
    {"testplug.events", "agency_id = {{B_AGENCY}}", "zzz"},
    {"trafficking.answers", "agency_id = {{B_AGENCY}}", "ddd"},
    {"trafficking.consents", "agency_id = {{B_AGENCY}}", "ddd"},
    {"trafficking.decisions", "agency_id = {{B_AGENCY}}", "zdz"},
    {"trafficking.declines", "agency_id = {{B_AGENCY}}", "ddd"},
    {"trafficking.determinations", "agency_id = {{B_AGENCY}}", "ddd"},
    {"trafficking.exploitation_episodes", "agency_id = {{B_AGENCY}}", "ddd"},
    {"trafficking.instruments", NULL, "sss"},
    {"trafficking.live_destinations", NULL, "sss"},
    {"trafficking.live_instruments", NULL, "sss"},
    {"trafficking.live_rule_targets", NULL, "sss"},
    {"trafficking.outbox", "agency_id = {{B_AGENCY}}", "zdz"},
    {"trafficking.referral_history", "agency_id = {{B_AGENCY}}", "zdz"},
    {"trafficking.referrals", "agency_id = {{B_AGENCY}}", "zdz"},
    {"trafficking.reports", "agency_id = {{B_AGENCY}}", "ddd"},
    {"trafficking.safe_contact", "agency_id = {{B_AGENCY}}", "ddd"},
    {"trafficking.screening_history", "agency_id = {{B_AGENCY}}", "zdz"},
    {"trafficking.screenings", "agency_id = {{B_AGENCY}}", "zdz"},
};
#define N_RELATIONS (sizeof(relations) / sizeof(relations[0]))

/* The writes tried on every relation; each must be refused as insufficient_privilege. */
enum write_op { OP_INSERT, OP_UPDATE, OP_DELETE, OP_TRUNCATE, N_OPS };

/*
 * Tricks a session can play on its own identity. After each (refused or not),
 * agency B's rows must stay invisible and the session must still be the
 * attacker (or one of its group roles). relogin: look from a new login.
 * undo: run by the superuser afterwards, so that the next test starts clean.
 */
struct trick {
    const char *name;
    const char *sql;
    int relogin;
    const char *undo;
};

static const struct trick tricks[] = {
    {"set_config casehost.agency_id to agency B",
     "SELECT set_config('casehost.agency_id', '{{B_AGENCY}}', false)", 0, NULL},
    {"set_config casehost.user_id to b_worker",
     "SELECT set_config('casehost.user_id', '{{B_WORKER_ID}}', false)", 0, NULL},
    {"set_config casehost.role to admin", "SELECT set_config('casehost.role', 'admin', false)", 0,
     NULL},
    {"all three casehost settings the old login set, as b_admin",
     "SELECT set_config('casehost.agency_id', '{{B_AGENCY}}', false),"
     " set_config('casehost.user_id', '{{B_ADMIN_ID}}', false),"
     " set_config('casehost.role', 'admin', false)",
     0, NULL},
    {"SET casehost.agency_id TO agency B", "SET casehost.agency_id TO '{{B_AGENCY}}'", 0, NULL},
    {"set_config casehost.agency_id local to an open transaction",
     "BEGIN; SELECT set_config('casehost.agency_id', '{{B_AGENCY}}', true)", 0, NULL},
    {"set_config role to b_worker's role", "SELECT set_config('role', '{{B_ROLE}}', false)", 0,
     NULL},
    {"set_config session_authorization to b_worker's role",
     "SELECT set_config('session_authorization', '{{B_ROLE}}', false)", 0, NULL},
    {"SET ROLE b_worker", "SET ROLE {{B_ROLE}}", 0, NULL},
    {"SET ROLE b_admin", "SET ROLE {{B_ADMIN_ROLE}}", 0, NULL},
    {"SET ROLE b_svc", "SET ROLE {{B_SVC_ROLE}}", 0, NULL},
    {"SET LOCAL ROLE b_worker in a transaction", "BEGIN; SET LOCAL ROLE {{B_ROLE}}", 0, NULL},
    {"SET ROLE the owner of every object", "SET ROLE {{OWNER}}", 0, NULL},
    {"SET ROLE the owner of role_admin_v1", "SET ROLE {{USERADMIN}}", 0, NULL},
    {"SET ROLE casehost_authenticator", "SET ROLE casehost_authenticator", 0, NULL},
    {"SET ROLE casehost_config_admin", "SET ROLE casehost_config_admin", 0, NULL},
    {"SET ROLE casehost_service", "SET ROLE casehost_service", 0, NULL},
    {"SET ROLE casehost_app", "SET ROLE casehost_app", 0, NULL},
    {"SET ROLE the cluster superuser", "SET ROLE {{SUPERUSER}}", 0, NULL},
    {"SET ROLE pg_read_all_data", "SET ROLE pg_read_all_data", 0, NULL},
    {"SET SESSION AUTHORIZATION b_worker", "SET SESSION AUTHORIZATION {{B_ROLE}}", 0, NULL},
    {"SET SESSION AUTHORIZATION the superuser", "SET SESSION AUTHORIZATION {{SUPERUSER}}", 0, NULL},
    {"GRANT b_worker's role to itself", "GRANT {{B_ROLE}} TO CURRENT_USER", 0, NULL},
    {"SET row_security off", "SET row_security = off", 0, NULL},
    {"ALTER ROLE itself SET role b_worker, then log in again",
     "ALTER ROLE CURRENT_USER SET role = '{{B_ROLE}}'", 1, "ALTER ROLE {{ME}} RESET ALL"},
    {"ALTER ROLE itself SET casehost.agency_id, then log in again",
     "ALTER ROLE CURRENT_USER SET casehost.agency_id = '{{B_AGENCY}}'", 1,
     "ALTER ROLE {{ME}} RESET ALL"},
    {"ALTER ROLE itself RENAME TO a name of agency B",
     "ALTER ROLE CURRENT_USER RENAME TO {{PREFIX}}b_other", 0, NULL},
    {"SET ROLE to its group, then ALTER ROLE group LOGIN",
     "SET ROLE {{GROUP}}; ALTER ROLE {{GROUP}} LOGIN", 0, NULL},
    /* PostgreSQL 15 lets a role that SET ROLE to a group change the group's
       password and settings; both are inert (NOLOGIN, settings not inherited). */
    {"SET ROLE to its group, then give the group a password and settings",
     "SET ROLE {{GROUP}}; ALTER ROLE {{GROUP}} PASSWORD 'x';"
     " ALTER ROLE {{GROUP}} SET casehost.agency_id = '{{B_AGENCY}}'",
     0, "ALTER ROLE {{GROUP}} PASSWORD NULL; ALTER ROLE {{GROUP}} RESET ALL"},
    {"a temp table identities first on search_path",
     "SET search_path = pg_temp, casehost, trafficking, public;"
     " CREATE TEMP TABLE identities AS SELECT CURRENT_USER::name AS db_role,"
     " {{B_ADMIN_ID}}::bigint AS user_id, {{B_AGENCY}}::bigint AS agency_id, 'admin'::text AS kind,"
     " 'b_admin'::text AS name, false AS disabled",
     0, NULL},
    {"a temp function current_agency returning agency B",
     "CREATE TEMP TABLE redteam (x int); SET search_path = pg_temp, casehost;"
     " CREATE FUNCTION pg_temp.current_agency() RETURNS bigint"
     " LANGUAGE sql AS 'SELECT {{B_AGENCY}}::bigint'",
     0, NULL},
    {"a temp SECURITY DEFINER function that sets role b_worker",
     "CREATE TEMP TABLE redteam (x int);"
     " CREATE FUNCTION pg_temp.become() RETURNS bigint LANGUAGE sql SECURITY DEFINER"
     " SET role = '{{B_ROLE}}' AS 'SELECT count(*) FROM casehost.cases';"
     " SELECT pg_temp.become()",
     0, NULL},
    {"CREATE SCHEMA with the identity function's name",
     "CREATE SCHEMA evil; CREATE FUNCTION evil.current_agency() RETURNS bigint LANGUAGE sql"
     " AS 'SELECT {{B_AGENCY}}::bigint'; SET search_path = evil, casehost",
     0, NULL},
    {"CREATE FUNCTION in schema public",
     "CREATE FUNCTION public.x() RETURNS int LANGUAGE sql AS 'SELECT 1'", 0, NULL},
    {"CREATE EXTENSION dblink to reconnect as another role", "CREATE EXTENSION dblink", 0, NULL},
    {"COPY TO PROGRAM", "COPY (SELECT 1) TO PROGRAM 'id'", 0, NULL},
    {"pg_read_file of the server's files", "SELECT pg_read_file('pg_hba.conf')", 0, NULL},
};
#define N_TRICKS (sizeof(tricks) / sizeof(tricks[0]))

/*
 * One call of a SECURITY DEFINER function (fn, as the catalog names it) by
 * attacker who. With id_key, it is made with that seeded id of agency B and
 * again with none_key's value ("NONE" when NULL), and must end the same way.
 * Attacks that would write run in a transaction the suite rolls back.
 */
struct fn_attack {
    const char *fn;
    enum who who;
    const char *name;
    const char *sql;
    const char *id_key;
    const char *none_key;
    struct expect expect;
};

/* A decision for A's case with one referral (printf-free: placeholders only). */
#define DECISION(ref)                                                                              \
    "SELECT decision_id FROM trafficking.decision_store('{\"case\": {{A_CASE}},"                   \
    " \"cause\": \"manual\", \"config_hash\": \"redteam\", \"input\": {}, \"rules\": [],"          \
    " \"outcome\": {}, \"referrals\": [" ref "]}')"
#define HOTLINE(state, consent)                                                                    \
    "{\"destination\": \"nhth\", \"kind\": \"hotline\", \"rule\": \"adult_hotline_offer\","        \
    " \"basis\": \"consent\", \"state\": \"" state "\", \"consent\": " consent ","                 \
    " \"fields\": [], \"urgency\": \"72h\", \"due_hours\": 72, \"ack_sla_hours\": 72}"
#define REPORT(dest, kind, fields, consent)                                                        \
    "{\"destination\": \"" dest "\", \"kind\": \"" kind "\", \"rule\": \"minor_commercial_sex\","  \
    " \"basis\": \"mandatory_report\", \"state\": \"queued\", \"consent\": " consent ","           \
    " \"fields\": " fields ", \"urgency\": \"24h\", \"due_hours\": 24, \"ack_sla_hours\": 24}"
/* A declined screening of A's case with the instrument A really used. */
#define SCREENING(extra)                                                                           \
    "SELECT trafficking.screening_submit('{\"case\": {{A_CASE}}, \"instrument\": \"youth_quick\"," \
    " \"version\": {{INSTRUMENT_VERSION}}, \"hash\": \"{{INSTRUMENT_HASH}}\","                     \
    " \"title\": \"youth_quick\", \"definition\": \"-\", \"state\": \"declined\","                 \
    " \"decline_reason\": \"redteam\", \"answers\": []" extra "}')"
#define SET_B_SETTINGS                                                                             \
    "SELECT set_config('casehost.agency_id', '{{B_AGENCY}}', false),"                              \
    " set_config('casehost.user_id', '{{B_ADMIN_ID}}', false),"                                    \
    " set_config('casehost.role', 'admin', false); "

static const struct fn_attack fn_attacks[] = {
    /* ------------------------------------------------- case flag words --- */
    {"casehost.case_flag_declare_v1(text,text,text)", ADMIN, "declaring a case flag of its own",
     "SELECT casehost.case_flag_declare_v1('redteam', 'x', 'redteam')", NULL, NULL,
     NOT_A_PERSON("case_flag_declare_v1")},
    {"casehost.case_flag_declare_v1(text,text,text)", SERVICE, "declaring a case flag",
     "SELECT casehost.case_flag_declare_v1('redteam', 'x', 'redteam')", NULL, NULL,
     NOT_A_PERSON("case_flag_declare_v1")},
    {"casehost.case_flags_check_v1(text[])", WORKER, "an undeclared flag passes the check",
     "SELECT casehost.case_flags_check_v1(ARRAY['imminent_dangr'])", NULL, NULL,
     REFUSED("unknown flag 'imminent_dangr'")},
    {"casehost.case_flags_check_v1(text[])", SERVICE, "checking flags as a service",
     "SELECT casehost.case_flags_check_v1(ARRAY['control'])", NULL, NULL,
     NOT_A_PERSON("case_flags_check_v1")},
    /* ------------------------------------------------ identity itself --- */
    {"casehost.current_user_v1()", WORKER, "current_user_v1 after setting B's ids in the session",
     SET_B_SETTINGS "SELECT (u).agency_id || ' ' || (u).user_id || ' ' || (u).kind"
                    " FROM (SELECT casehost.current_user_v1() AS u) s",
     NULL, NULL, VALUE("{{A_AGENCY}} {{A_WORKER_ID}} caseworker")},
    {"casehost.current_user_v1()", SERVICE, "current_user_v1 after setting B's ids in the session",
     SET_B_SETTINGS "SELECT (u).agency_id || ' ' || (u).user_id || ' ' || (u).kind"
                    " FROM (SELECT casehost.current_user_v1() AS u) s",
     NULL, NULL, VALUE("{{A_AGENCY}} {{A_SVC_ID}} service")},
    {"casehost.whoami_v1()", WORKER, "whoami_v1 after setting B's ids in the session",
     SET_B_SETTINGS "SELECT user_name || ' ' || agency_id FROM casehost.whoami_v1()", NULL, NULL,
     VALUE("a_worker {{A_AGENCY}}")},
    {"casehost.whoami_v1()", WORKER, "whoami_v1 as its group role casehost_app",
     "SET ROLE casehost_app; SELECT count(*) FROM casehost.whoami_v1()", NULL, NULL, VALUE("0")},
    {"casehost.is_installer()", ADMIN, "is_installer for an agency admin",
     "SELECT casehost.is_installer()", NULL, NULL, VALUE("f")},
    {"casehost.is_installer()", WORKER, "is_installer as its group role casehost_app",
     "SET ROLE casehost_app; SELECT casehost.is_installer()", NULL, NULL, VALUE("f")},
    {"casehost.require_kind(text[],text)", WORKER, "require_kind admin after setting role admin",
     "SELECT set_config('casehost.role', 'admin', false);"
     " SELECT casehost.require_kind(ARRAY['admin'], 'adding users')",
     NULL, NULL, REFUSED("adding users needs the role admin; you are caseworker")},
    {"casehost.sees_all_cases()", WORKER, "sees_all_cases as its group role casehost_app",
     "SET ROLE casehost_app; SELECT casehost.sees_all_cases()", NULL, NULL, VALUE("f")},
    {"casehost.audit(text,text,bigint,text)", WORKER, "audit record filed under agency B",
     "BEGIN; SELECT casehost.audit('read', 'case', {{B_CASE}}, 'redteam');"
     " SELECT agency_id || ' ' || actor_id FROM casehost.audit_log WHERE detail = 'redteam'",
     NULL, NULL, VALUE("{{A_AGENCY}} {{A_WORKER_ID}}")},
    {"casehost.audit(text,text,bigint,text)", WORKER, "audit as its group role casehost_app",
     "SET ROLE casehost_app; SELECT casehost.audit('read', 'case', 1, 'redteam')", NULL, NULL,
     REFUSED("role \"casehost_app\" is not a casehost user")},

    /* ---------------------------------------------- agencies and users --- */
    {"casehost.agency_add(text,text,text,text)", ADMIN, "agency_add by an agency admin",
     "SELECT casehost.agency_add('C', NULL, 'CA', NULL)", NULL, NULL,
     REFUSED("only the database owner may add agencies")},
    {"casehost.agency_add(text,text,text,text)", WORKER, "agency_add by a caseworker",
     "SELECT casehost.agency_add('C', NULL, 'CA', NULL)", NULL, NULL,
     REFUSED("only the database owner may add agencies")},
    {"casehost.agency_add(text,text,text,text)", SERVICE, "agency_add by a service",
     "SELECT casehost.agency_add('C', NULL, 'CA', NULL)", NULL, NULL, NOT_A_PERSON("agency_add")},
    {"casehost.agency_settings_set_v1(jsonb)", WORKER, "agency settings by a caseworker",
     "SELECT casehost.agency_settings_set_v1('{\"case_visibility\": \"agency\"}')", NULL, NULL,
     REFUSED("changing agency settings needs the role admin; you are caseworker")},
    {"casehost.agency_settings_set_v1(jsonb)", ADMIN, "agency settings naming agency B's id",
     "SELECT casehost.agency_settings_set_v1('{\"id\": {{B_AGENCY}}, \"time_zone\": \"UTC\"}')",
     NULL, NULL, REFUSED("agency setting \"id\" cannot be set")},
    {"casehost.role_admin_v1(text,name,text,text)", ADMIN, "role_admin_v1 creating an admin role",
     "SELECT casehost.role_admin_v1('create', '{{PREFIX}}evil', 'admin', NULL)", NULL, NULL,
     NOT_A_PERSON("role_admin_v1")},
    {"casehost.role_admin_v1(text,name,text,text)", WORKER, "role_admin_v1 disabling b_worker",
     "SELECT casehost.role_admin_v1('disable', '{{B_ROLE}}', 'caseworker', NULL)", NULL, NULL,
     NOT_A_PERSON("role_admin_v1")},
    {"casehost.role_admin_v1(text,name,text,text)", SERVICE, "role_admin_v1 setting a password",
     "SELECT casehost.role_admin_v1('password', '{{B_SVC_ROLE}}', 'service', '{{VERIFIER}}')", NULL,
     NULL, NOT_A_PERSON("role_admin_v1")},
    {"casehost.user_add_v1(text,text,text,text,text)", ADMIN, "user_add_v1 into agency B",
     "SELECT user_id FROM casehost.user_add_v1('evil_b', NULL, 'caseworker', '{{ID}}', NULL)",
     "B_AGENCY_NAME", "NO_AGENCY", REFUSED("unknown agency \"{{ID}}\"")},
    {"casehost.user_add_v1(text,text,text,text,text)", ADMIN, "user_add_v1 of an admin of agency B",
     "SELECT user_id FROM casehost.user_add_v1('evil_b', NULL, 'admin', '{{ID}}', '{{VERIFIER}}')",
     "B_AGENCY_NAME", "NO_AGENCY", REFUSED("unknown agency \"{{ID}}\"")},
    {"casehost.user_add_v1(text,text,text,text,text)", WORKER, "user_add_v1 by a caseworker",
     "SELECT user_id FROM casehost.user_add_v1('evil_a', NULL, 'admin', 'A', NULL)", NULL, NULL,
     REFUSED("only an admin may add users")},
    {"casehost.user_disable_v1(text)", ADMIN, "user_disable_v1 of b_worker",
     "SELECT casehost.user_disable_v1('{{ID}}')", "B_WORKER", "NO_USER",
     REFUSED("unknown user \"{{ID}}\"")},
    {"casehost.user_disable_v1(text)", WORKER, "user_disable_v1 by a caseworker",
     "SELECT casehost.user_disable_v1('a_admin')", NULL, NULL,
     REFUSED("only an admin may disable users")},
    {"casehost.user_passwd_v1(text,text)", ADMIN, "user_passwd_v1 of b_worker",
     "SELECT casehost.user_passwd_v1('{{ID}}', '{{VERIFIER}}')", "B_WORKER", "NO_USER",
     REFUSED("unknown user \"{{ID}}\"")},
    {"casehost.user_passwd_v1(text,text)", SERVICE, "user_passwd_v1 of b_svc",
     "SELECT casehost.user_passwd_v1('{{ID}}', '{{VERIFIER}}')", "B_SVC", "NO_USER",
     REFUSED("unknown user \"{{ID}}\"")},
    {"casehost.user_passwd_v1(text,text)", WORKER, "user_passwd_v1 of its admin",
     "SELECT casehost.user_passwd_v1('a_admin', '{{VERIFIER}}')", NULL, NULL,
     REFUSED("only an admin may set another user's password")},

    /* ----------------------------------------- cases, people and notes --- */
    {"casehost.case_new(jsonb)", WORKER, "case_new about agency B's person",
     "SELECT casehost.case_new('{\"title\": \"x\", \"subject_id\": {{ID}}}')", "B_PERSON", NULL,
     REFUSED("person {{ID}} not found")},
    {"casehost.case_new(jsonb)", WORKER, "case_new assigned to b_worker",
     "SELECT casehost.case_new('{\"title\": \"x\", \"assignee\": \"{{ID}}\"}')", "B_WORKER",
     "NO_USER", REFUSED("assignee \"{{ID}}\" is not a user of this agency")},
    {"casehost.case_new(jsonb)", WORKER, "case_new in agency B",
     "SELECT casehost.case_new('{\"title\": \"x\", \"agency_id\": {{B_AGENCY}}}')", NULL, NULL,
     REFUSED("case field \"agency_id\" cannot be set")},
    {"casehost.case_new(jsonb)", WORKER, "case_new created by b_worker",
     "SELECT casehost.case_new('{\"title\": \"x\", \"created_by\": {{B_WORKER_ID}}}')", NULL, NULL,
     REFUSED("case field \"created_by\" cannot be set")},
    {"casehost.case_new(jsonb)", WORKER, "case_new as its group role casehost_app",
     "SET ROLE casehost_app; SELECT casehost.case_new('{\"title\": \"x\"}')", NULL, NULL,
     REFUSED("no acting user")},
    {"casehost.case_new(jsonb)", SERVICE, "case_new by a service",
     "SELECT casehost.case_new('{\"title\": \"x\"}')", NULL, NULL, NOT_A_PERSON("case_new")},
    {"casehost.case_update(bigint,jsonb)", WORKER, "case_update of agency B's case",
     "SELECT * FROM casehost.case_update({{ID}}, '{\"title\": \"x\"}')", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"casehost.case_update(bigint,jsonb)", WORKER, "case_update moving A's case to agency B",
     "SELECT * FROM casehost.case_update({{A_CASE}}, '{\"agency_id\": {{B_AGENCY}}}')", NULL, NULL,
     REFUSED("case field \"agency_id\" cannot be set")},
    {"casehost.case_update(bigint,jsonb)", WORKER, "case_update giving A's case B's person",
     "SELECT * FROM casehost.case_update({{A_CASE}}, '{\"subject_id\": {{ID}}}')", "B_PERSON", NULL,
     REFUSED("person {{ID}} not found")},
    {"casehost.case_close(bigint,text)", WORKER, "case_close of agency B's case",
     "SELECT * FROM casehost.case_close({{ID}}, 'x')", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"casehost.case_close(bigint,text)", SERVICE, "case_close by a service",
     "SELECT * FROM casehost.case_close({{A_CASE}}, 'x')", NULL, NULL, NOT_A_PERSON("case_close")},
    {"casehost.note_add(bigint,text)", WORKER, "note_add to agency B's case",
     "SELECT casehost.note_add({{ID}}, 'x')", "B_CASE", NULL, REFUSED("case {{ID}} not found")},
    {"casehost.note_add(bigint,text)", ADMIN, "note_add to agency B's case",
     "SELECT casehost.note_add({{ID}}, 'x')", "B_CASE", NULL, REFUSED("case {{ID}} not found")},
    {"casehost.note_add(bigint,text)", SERVICE, "note_add by a service",
     "SELECT casehost.note_add({{A_CASE}}, 'x')", NULL, NULL, NOT_A_PERSON("note_add")},
    {"casehost.person_age_set_v1(bigint,jsonb)", WORKER, "person_age_set_v1 on agency B's person",
     "SELECT casehost.person_age_set_v1({{ID}}, '{\"estimated_age\": 30}')", "B_PERSON", NULL,
     REFUSED("person {{ID}} not found")},
    {"casehost.person_age_set_v1(bigint,jsonb)", WORKER, "person_age_set_v1 moving a person",
     "SELECT casehost.person_age_set_v1({{A_PERSON}}, '{\"agency_id\": {{B_AGENCY}}}')", NULL, NULL,
     REFUSED("person field \"agency_id\" cannot be changed here")},
    {"casehost.person_age_set_v1(bigint,jsonb)", SERVICE, "person_age_set_v1 by a service",
     "SELECT casehost.person_age_set_v1({{A_PERSON}}, '{\"estimated_age\": 30}')", NULL, NULL,
     NOT_A_PERSON("person_age_set_v1")},
    {"casehost.person_add(jsonb)", WORKER, "person_add into agency B",
     "SELECT casehost.person_add('{\"given_name\": \"x\", \"agency_id\": {{B_AGENCY}}}')", NULL,
     NULL, REFUSED("person field \"agency_id\" cannot be set")},
    {"casehost.person_add(jsonb)", WORKER, "person_add created by b_worker",
     "SELECT casehost.person_add('{\"created_by\": {{B_WORKER_ID}}}')", NULL, NULL,
     REFUSED("person field \"created_by\" cannot be set")},
    {"casehost.person_add(jsonb)", SERVICE, "person_add by a service",
     "SELECT casehost.person_add('{}')", NULL, NULL, NOT_A_PERSON("person_add")},
    {"testplug.event_add(bigint,text,text,text)", WORKER, "event_add on agency B's case",
     "SELECT testplug.event_add({{ID}}, 'h', 'e', 'd')", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"testplug.event_add(bigint,text,text,text)", SERVICE, "event_add on agency B's case",
     "SELECT testplug.event_add({{ID}}, 'h', 'e', 'd')", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"testplug.event_add(bigint,text,text,text)", WORKER, "event_add with a forged actor",
     "BEGIN; SELECT testplug.event_add(NULL, 'h', 'redteam', 'b_worker');"
     " SELECT agency_id || ' ' || actor FROM testplug.events WHERE event = 'redteam'",
     NULL, NULL, VALUE("{{A_AGENCY}} a_worker")},

    /* ------------------------------------------------------ screening --- */
    {"trafficking.screening_suggest(bigint,text,text,text,integer)", WORKER,
     "screening_suggest on agency B's case",
     "SELECT trafficking.screening_suggest({{ID}}, 'youth_quick', 'manual', 'x', 24)", "B_CASE",
     NULL, REFUSED("case {{ID}} not found")},
    {"trafficking.screening_suggest(bigint,text,text,text,integer)", SERVICE,
     "screening_suggest by a service",
     "SELECT trafficking.screening_suggest({{A_CASE}}, 'youth_quick', 'manual', 'x', 24)", NULL,
     NULL, NOT_A_PERSON("screening_suggest")},
    {"trafficking.screening_suggest_from_v1(bigint,text,text,text,integer,text)", WORKER,
     "screening_suggest_from_v1 on agency B's case",
     "SELECT * FROM trafficking.screening_suggest_from_v1({{ID}}, 'youth_quick', 'manual', 'x', "
     "24, 'runaway_return')",
     "B_CASE", NULL, REFUSED("case {{ID}} not found")},
    {"trafficking.screening_suggest_from_v1(bigint,text,text,text,integer,text)", WORKER,
     "screening_suggest_from_v1 with a made-up due_from",
     "SELECT * FROM trafficking.screening_suggest_from_v1({{A_CASE}}, 'youth_quick', 'manual', "
     "'x', 24, 'next_year')",
     NULL, NULL, REFUSED("due_from \"next_year\" is not now, runaway_start or runaway_return")},
    {"trafficking.screening_suggest_from_v1(bigint,text,text,text,integer,text)", SERVICE,
     "screening_suggest_from_v1 by a service",
     "SELECT * FROM trafficking.screening_suggest_from_v1({{A_CASE}}, 'youth_quick', 'manual', "
     "'x', 24, 'now')",
     NULL, NULL, NOT_A_PERSON("screening_suggest_from_v1")},
    {"trafficking.screening_submit(jsonb)", WORKER, "screening_submit on agency B's case",
     "SELECT trafficking.screening_submit('{\"case\": {{ID}}, \"instrument\": \"youth_quick\","
     " \"version\": {{INSTRUMENT_VERSION}}, \"hash\": \"{{INSTRUMENT_HASH}}\","
     " \"state\": \"declined\", \"decline_reason\": \"x\", \"answers\": []}')",
     "B_CASE", NULL, REFUSED("case {{ID}} not found")},
    {"trafficking.screening_submit(jsonb)", WORKER, "screening_submit superseding B's screening",
     SCREENING(", \"supersedes\": {{ID}}"), "B_SCREENING", NULL,
     REFUSED("screening {{ID}} not found")},
    {"trafficking.screening_submit(jsonb)", WORKER,
     "screening_submit with a forged screener and agency",
     "BEGIN; " SCREENING(
         ", \"screener_id\": {{B_WORKER_ID}}, \"agency_id\": {{B_AGENCY}}") "; SELECT agency_id || "
                                                                            "' ' || screener_id "
                                                                            "FROM "
                                                                            "trafficking.screenings"
                                                                            " ORDER BY id DESC "
                                                                            "LIMIT 1",
     NULL, NULL, VALUE("{{A_AGENCY}} {{A_WORKER_ID}}")},
    {"trafficking.screening_submit(jsonb)", WORKER,
     "screening_submit writing a made-up instrument definition",
     "SELECT trafficking.screening_submit('{\"case\": {{A_CASE}}, \"instrument\": \"youth_quick\","
     " \"version\": 99, \"hash\": \"" /* 64 hex digits */
     "00000000000000000000000000000000000000000000000000000000000000aa\","
     " \"title\": \"forged\", \"definition\": \"forged\", \"state\": \"declined\","
     " \"decline_reason\": \"x\", \"answers\": []}')",
     NULL, NULL, DENIED},
    {"trafficking.screening_submit(jsonb)", SERVICE, "screening_submit by a service", SCREENING(""),
     NULL, NULL, NOT_A_PERSON("screening_submit")},
    {"trafficking.screening_submit_body(jsonb)", WORKER, "screening_submit_body without checks",
     "SELECT trafficking.screening_submit_body('{\"case\": {{B_CASE}}}')", NULL, NULL,
     NOT_A_PERSON("screening_submit_body")},
    {"trafficking.answers_of_v1(bigint)", WORKER, "answers_of_v1 of agency B's screening",
     "SELECT count(*) FROM trafficking.answers_of_v1({{ID}})", "B_SCREENING", NULL,
     REFUSED("screening {{ID}} not found")},
    {"trafficking.answers_of_v1(bigint)", SERVICE, "answers_of_v1 by a service",
     "SELECT count(*) FROM trafficking.answers_of_v1({{A_SCREENING}})", NULL, NULL,
     NOT_A_PERSON("answers_of_v1")},

    /* ------------------------------------------------ consent, safety --- */
    {"trafficking.consent_add_v1(bigint,text,text,text,boolean,date,text)", WORKER,
     "consent_add_v1 for agency B's person",
     "SELECT consent FROM trafficking.consent_add_v1({{ID}}, 'referral', 'kind:law_enforcement',"
     " 'vawa_voca', true, '2099-12-31', NULL)",
     "B_PERSON", NULL, REFUSED("person {{ID}} not found")},
    {"trafficking.consent_revoke_v1(bigint,text)", WORKER, "consent_revoke_v1 of B's consent",
     "SELECT consent FROM trafficking.consent_revoke_v1({{ID}}, 'x')", "B_CONSENT", NULL,
     REFUSED("consent {{ID}} not found")},
    {"trafficking.consents_of_v1(bigint)", WORKER, "consents_of_v1 of agency B's person",
     "SELECT count(*) FROM trafficking.consents_of_v1({{ID}})", "B_PERSON", NULL,
     REFUSED("person {{ID}} not found")},
    {"trafficking.consents_of_v1(bigint)", SERVICE, "consents_of_v1 by a service",
     "SELECT count(*) FROM trafficking.consents_of_v1({{A_PERSON}})", NULL, NULL,
     NOT_A_PERSON("consents_of_v1")},
    {"trafficking.consent_decline_v1(bigint,text,text)", WORKER,
     "consent_decline_v1 for agency B's person",
     "SELECT decline FROM trafficking.consent_decline_v1({{ID}}, 'kind:law_enforcement', 'x')",
     "B_PERSON", NULL, REFUSED("person {{ID}} not found")},
    {"trafficking.consent_decline_v1(bigint,text,text)", WORKER,
     "consent_decline_v1 for agency B's person after setting B's ids",
     SET_B_SETTINGS "SELECT decline FROM trafficking.consent_decline_v1({{ID}}, 'nhth', 'x')",
     "B_PERSON", NULL, REFUSED("person {{ID}} not found")},
    {"trafficking.consent_decline_v1(bigint,text,text)", SERVICE, "consent_decline_v1 by a service",
     "SELECT decline FROM trafficking.consent_decline_v1({{A_PERSON}}, 'nhth', 'x')", NULL, NULL,
     NOT_A_PERSON("consent_decline_v1")},
    {"trafficking.consent_undecline_v1(bigint,text,text)", WORKER,
     "consent_undecline_v1 for agency B's person",
     "SELECT decline FROM trafficking.consent_undecline_v1({{ID}}, 'kind:law_enforcement', 'x')",
     "B_PERSON", NULL, REFUSED("person {{ID}} not found")},
    {"trafficking.consent_undecline_v1(bigint,text,text)", SERVICE,
     "consent_undecline_v1 by a service",
     "SELECT decline FROM trafficking.consent_undecline_v1({{A_PERSON}}, 'nhth', 'x')", NULL, NULL,
     NOT_A_PERSON("consent_undecline_v1")},
    {"trafficking.declines_of_v1(bigint)", WORKER, "declines_of_v1 of agency B's person",
     "SELECT count(*) FROM trafficking.declines_of_v1({{ID}})", "B_PERSON", NULL,
     REFUSED("person {{ID}} not found")},
    {"trafficking.declines_of_v1(bigint)", SERVICE, "declines_of_v1 by a service",
     "SELECT count(*) FROM trafficking.declines_of_v1({{A_PERSON}})", NULL, NULL,
     NOT_A_PERSON("declines_of_v1")},
    {"trafficking.safe_contact_set_v1(bigint,text,text,text,text,text,boolean,boolean)", WORKER,
     "safe_contact_set_v1 for agency B's person",
     "SELECT person FROM trafficking.safe_contact_set_v1({{ID}}, 'phone', '555-0000', NULL, NULL,"
     " NULL, false, false)",
     "B_PERSON", NULL, REFUSED("person {{ID}} not found")},
    {"trafficking.safe_contact_of_v1(bigint)", WORKER, "safe_contact_of_v1 of agency B's person",
     "SELECT count(*) FROM trafficking.safe_contact_of_v1({{ID}})", "B_PERSON", NULL,
     REFUSED("person {{ID}} not found")},
    {"trafficking.safe_contact_of_v1(bigint)", SERVICE, "safe_contact_of_v1 by a service",
     "SELECT count(*) FROM trafficking.safe_contact_of_v1({{A_PERSON}})", NULL, NULL,
     NOT_A_PERSON("safe_contact_of_v1")},

    /* ----------------------------------- determinations and episodes --- */
    {"trafficking.determination_record_v1(bigint,text,text,text)", WORKER,
     "determination_record_v1 on agency B's case",
     "SELECT trafficking.determination_record_v1({{ID}}, 'at_risk', NULL, 'x')", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"trafficking.determination_record_v1(bigint,text,text,text)", ADMIN,
     "determination_record_v1 confirming agency B's case after setting B's ids",
     SET_B_SETTINGS "SELECT trafficking.determination_record_v1({{ID}}, 'confirmed', 'sex', 'x')",
     "B_CASE", NULL, REFUSED("case {{ID}} not found")},
    {"trafficking.determination_record_v1(bigint,text,text,text)", WORKER,
     "determination_record_v1 confirming its own case as a caseworker",
     "SELECT trafficking.determination_record_v1({{A_CASE}}, 'confirmed', 'sex', 'x')", NULL, NULL,
     REFUSED("a confirmed determination needs the role supervisor or admin; you are caseworker")},
    {"trafficking.determination_record_v1(bigint,text,text,text)", WORKER,
     "determination_record_v1 after setting B's ids records as itself",
     SET_B_SETTINGS "SELECT trafficking.determination_record_v1({{A_CASE}}, 'at_risk', NULL, 'x');"
                    " SELECT determined_by FROM trafficking.determinations_v1({{A_CASE}})",
     NULL, NULL, VALUE("a_worker")},
    {"trafficking.determination_record_v1(bigint,text,text,text)", SERVICE,
     "determination_record_v1 by a service",
     "SELECT trafficking.determination_record_v1({{A_CASE}}, 'at_risk', NULL, 'x')", NULL, NULL,
     NOT_A_PERSON("determination_record_v1")},
    {"trafficking.determinations_v1(bigint)", WORKER, "determinations_v1 of agency B's case",
     "SELECT count(*) FROM trafficking.determinations_v1({{ID}})", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"trafficking.determinations_v1(bigint)", SERVICE, "determinations_v1 by a service",
     "SELECT count(*) FROM trafficking.determinations_v1({{A_CASE}})", NULL, NULL,
     NOT_A_PERSON("determinations_v1")},
    {"trafficking.episode_record_v1(bigint,date,date,text,text)", WORKER,
     "episode_record_v1 on agency B's case",
     "SELECT trafficking.episode_record_v1({{ID}}, '2024-01-01', NULL, NULL, 'x')", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"trafficking.episode_record_v1(bigint,date,date,text,text)", SERVICE,
     "episode_record_v1 by a service",
     "SELECT trafficking.episode_record_v1({{A_CASE}}, '2024-01-01', NULL, NULL, 'x')", NULL, NULL,
     NOT_A_PERSON("episode_record_v1")},
    {"trafficking.episode_remove_v1(bigint,text)", WORKER,
     "episode_remove_v1 of agency B's episode",
     "SELECT episode FROM trafficking.episode_remove_v1({{ID}}, 'x')", "B_EPISODE", NULL,
     REFUSED("episode {{ID}} not found")},
    {"trafficking.episode_remove_v1(bigint,text)", ADMIN,
     "episode_remove_v1 of agency B's episode after setting B's ids",
     SET_B_SETTINGS "SELECT episode FROM trafficking.episode_remove_v1({{ID}}, 'x')", "B_EPISODE",
     NULL, REFUSED("episode {{ID}} not found")},
    {"trafficking.episode_remove_v1(bigint,text)", SERVICE, "episode_remove_v1 by a service",
     "SELECT episode FROM trafficking.episode_remove_v1({{B_EPISODE}}, 'x')", NULL, NULL,
     NOT_A_PERSON("episode_remove_v1")},
    {"trafficking.episodes_v1(bigint)", WORKER, "episodes_v1 of agency B's case",
     "SELECT count(*) FROM trafficking.episodes_v1({{ID}})", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"trafficking.episodes_v1(bigint)", SERVICE, "episodes_v1 by a service",
     "SELECT count(*) FROM trafficking.episodes_v1({{A_CASE}})", NULL, NULL,
     NOT_A_PERSON("episodes_v1")},

    /* -------------------------------------------------------- routing --- */
    {"trafficking.case_facts_v1(bigint)", WORKER, "case_facts_v1 of agency B's case",
     "SELECT coalesce(trafficking.case_facts_v1({{ID}})::text, 'none')", "B_CASE", NULL,
     VALUE("none")},
    {"trafficking.case_facts_v1(bigint)", SERVICE, "case_facts_v1 by a service",
     "SELECT trafficking.case_facts_v1({{A_CASE}})", NULL, NULL, NOT_A_PERSON("case_facts_v1")},
    {"trafficking.decision_store(jsonb)", WORKER, "decision_store on agency B's case",
     "SELECT decision_id FROM trafficking.decision_store('{\"case\": {{ID}}, \"cause\": \"manual\","
     " \"config_hash\": \"x\", \"input\": {}, \"rules\": [], \"outcome\": {}}')",
     "B_CASE", NULL, REFUSED("case {{ID}} not found")},
    {"trafficking.decision_store(jsonb)", WORKER, "decision_store naming B's screening",
     "SELECT decision_id FROM trafficking.decision_store('{\"case\": {{A_CASE}},"
     " \"screening\": {{ID}}, \"cause\": \"manual\", \"config_hash\": \"x\", \"input\": {},"
     " \"rules\": [], \"outcome\": {}}')",
     "B_SCREENING", NULL, REFUSED("screening {{ID}} not found")},
    {"trafficking.decision_store(jsonb)", WORKER, "decision_store queueing on B's consent",
     DECISION(HOTLINE("queued", "{{ID}}")), "B_CONSENT", NULL, REFUSED("consent {{ID}} not found")},
    {"trafficking.decision_store(jsonb)", WORKER,
     "decision_store of a pending referral naming B's consent",
     DECISION(HOTLINE("pending_consent", "{{ID}}")), "B_CONSENT", NULL,
     REFUSED("consent {{ID}} not found")},
    {"trafficking.decision_store(jsonb)", WORKER,
     "decision_store of a mandatory report naming B's consent",
     DECISION(REPORT("cw_ca", "child_welfare", "[]", "{{ID}}")), "B_CONSENT", NULL,
     REFUSED("consent {{ID}} not found")},
    {"trafficking.decision_store(jsonb)", WORKER, "decision_store escalating B's referral",
     DECISION("{\"destination\": \"nhth\", \"kind\": \"hotline\", \"rule\": \"escalation\","
              " \"basis\": \"consent\", \"state\": \"pending_consent\", \"consent\": 0,"
              " \"fields\": [], \"urgency\": \"72h\", \"due_hours\": 72,"
              " \"ack_sla_hours\": 72, \"escalation_of\": {{ID}}}"),
     "B_REFERRAL", NULL, REFUSED("referral {{ID}} not found")},
    {"trafficking.decision_store(jsonb)", WORKER, "decision_store with a made-up basis",
     DECISION("{\"destination\": \"le_ca\", \"kind\": \"law_enforcement\", \"rule\": \"r\","
              " \"basis\": \"because\", \"state\": \"queued\", \"consent\": 0, \"fields\": [],"
              " \"urgency\": \"24h\", \"due_hours\": 24, \"ack_sla_hours\": 24}"),
     NULL, NULL,
     REFUSED("referral basis \"because\" is not consent, mandatory_report or imminent_danger")},
    {"trafficking.decision_store(jsonb)", WORKER, "decision_store of a referral already sent",
     DECISION("{\"destination\": \"le_ca\", \"kind\": \"law_enforcement\", \"rule\": \"r\","
              " \"basis\": \"mandatory_report\", \"state\": \"sent\", \"consent\": 0,"
              " \"fields\": [], \"urgency\": \"24h\", \"due_hours\": 24, \"ack_sla_hours\": 24}"),
     NULL, NULL, REFUSED("a new referral is queued or pending consent, not sent")},
    {"trafficking.decision_store(jsonb)", WORKER,
     "decision_store of a mandatory report to a made-up destination",
     DECISION(REPORT("evil_sink", "law_enforcement", "[\"person_name\"]", "0")), NULL, NULL,
     DENIED},
    {"trafficking.decision_store(jsonb)", WORKER,
     "decision_store sending fields the destination may not receive",
     DECISION(REPORT("hhs_otip", "hhs_otip", "[\"person_name\", \"safe_contact\"]", "0")), NULL,
     NULL, DENIED},
    {"trafficking.decision_store(jsonb)", WORKER, "decision_store with a forged actor and agency",
     "BEGIN; SELECT decision_id FROM trafficking.decision_store('{\"case\": {{A_CASE}},"
     " \"cause\": \"manual\", \"config_hash\": \"x\", \"input\": {}, \"rules\": [],"
     " \"outcome\": {}, \"decided_by\": {{B_ADMIN_ID}}, \"agency_id\": {{B_AGENCY}}}');"
     " SELECT agency_id || ' ' || decided_by FROM trafficking.decisions ORDER BY id DESC LIMIT 1",
     NULL, NULL, VALUE("{{A_AGENCY}} {{A_WORKER_ID}}")},
    {"trafficking.decision_store(jsonb)", SERVICE, "decision_store by a service", DECISION(""),
     NULL, NULL, NOT_A_PERSON("decision_store")},
    {"trafficking.decision_store_body(jsonb)", WORKER, "decision_store_body without checks",
     "SELECT * FROM trafficking.decision_store_body('{\"case\": {{B_CASE}}}')", NULL, NULL,
     NOT_A_PERSON("decision_store_body")},
    {"trafficking.decision_store_unledgered(jsonb)", WORKER,
     "decision_store_unledgered without checks or ledger",
     "SELECT * FROM trafficking.decision_store_unledgered('{\"case\": {{B_CASE}}}')", NULL, NULL,
     NOT_A_PERSON("decision_store_unledgered")},
    {"trafficking.ledger_of_v1(bigint)", WORKER, "ledger_of_v1 of agency B's case",
     "SELECT count(*) FROM trafficking.ledger_of_v1({{ID}})", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"trafficking.ledger_of_v1(bigint)", ADMIN,
     "ledger_of_v1 of agency B's case after setting B's ids",
     SET_B_SETTINGS "SELECT count(*) FROM trafficking.ledger_of_v1({{ID}})", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"trafficking.ledger_of_v1(bigint)", SERVICE, "ledger_of_v1 by a service",
     "SELECT count(*) FROM trafficking.ledger_of_v1({{A_CASE}})", NULL, NULL,
     NOT_A_PERSON("ledger_of_v1")},
    {"trafficking.report_again_v1(bigint,text,text)", WORKER,
     "report_again_v1 by a caseworker on its own case",
     "SELECT referral FROM trafficking.report_again_v1({{A_CASE}}, 'cw_ca', 'x')", NULL, NULL,
     REFUSED("forcing a repeat report needs the role supervisor or admin; you are caseworker")},
    {"trafficking.report_again_v1(bigint,text,text)", ADMIN, "report_again_v1 of agency B's report",
     "SELECT referral FROM trafficking.report_again_v1({{ID}}, 'cw_ca', 'x')", "B_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {"trafficking.report_again_v1(bigint,text,text)", ADMIN,
     "report_again_v1 of agency B's report after setting B's ids",
     SET_B_SETTINGS "SELECT referral FROM trafficking.report_again_v1({{ID}}, 'cw_ca', 'x')",
     "B_CASE", NULL, REFUSED("case {{ID}} not found")},
    {"trafficking.report_again_v1(bigint,text,text)", SERVICE, "report_again_v1 by a service",
     "SELECT referral FROM trafficking.report_again_v1({{A_CASE}}, 'cw_ca', 'x')", NULL, NULL,
     NOT_A_PERSON("report_again_v1")},
    {"trafficking.referral_create(bigint,bigint,jsonb)", WORKER, "referral_create without checks",
     "SELECT trafficking.referral_create({{B_CASE}}, NULL, '{}')", NULL, NULL,
     NOT_A_PERSON("referral_create")},
    {"trafficking.referral_payload(bigint,text[],jsonb)", WORKER,
     "referral_payload of agency B's case",
     "SELECT trafficking.referral_payload({{B_CASE}}, ARRAY['person_name', 'safe_contact'], NULL)",
     NULL, NULL, NOT_A_PERSON("referral_payload")},
    {"trafficking.referral_payload(bigint,text[],jsonb)", SERVICE,
     "referral_payload of agency B's case",
     "SELECT trafficking.referral_payload({{B_CASE}}, ARRAY['person_name', 'safe_contact'], NULL)",
     NULL, NULL, NOT_A_PERSON("referral_payload")},

    /* ------------------------------------------------------ referrals --- */
    {"trafficking.referral_move_v1(bigint,text,text,text)", WORKER,
     "referral_move_v1 marking its own referral sent",
     "SELECT state FROM trafficking.referral_move_v1({{A_SENT_REFERRAL}}, 'sent', 'x', NULL)", NULL,
     NULL, REFUSED("a referral becomes sent only by the system")},
    {"trafficking.referral_move_v1(bigint,text,text,text)", WORKER,
     "referral_move_v1 queueing its own referral",
     "SELECT state FROM trafficking.referral_move_v1({{A_SENT_REFERRAL}}, 'queued', 'x', NULL)",
     NULL, NULL, REFUSED("a referral becomes queued only by the system")},
    {"trafficking.referral_move_v1(bigint,text,text,text)", WORKER,
     "referral_move_v1 acknowledging agency B's referral",
     "SELECT state FROM trafficking.referral_move_v1({{ID}}, 'acknowledged', NULL, 'REF')",
     "B_REFERRAL", NULL, REFUSED("referral {{ID}} not found")},
    {"trafficking.referral_move_v1(bigint,text,text,text)", WORKER,
     "referral_move_v1 revoking agency B's referral",
     "SELECT state FROM trafficking.referral_move_v1({{ID}}, 'revoked', 'x', NULL)",
     "B_QUEUED_REFERRAL", NULL, REFUSED("referral {{ID}} not found")},
    {"trafficking.referral_move_v1(bigint,text,text,text)", SERVICE,
     "referral_move_v1 by a service",
     "SELECT state FROM trafficking.referral_move_v1({{A_SENT_REFERRAL}}, 'acknowledged', NULL,"
     " NULL)",
     NULL, NULL, NOT_A_PERSON("referral_move_v1")},
    {"trafficking.referral_move(bigint,text,text)", WORKER, "referral_move without checks",
     "SELECT trafficking.referral_move({{A_SENT_REFERRAL}}, 'sent', 'x')", NULL, NULL,
     NOT_A_PERSON("referral_move")},
    {"trafficking.referral_move(bigint,text,text)", SERVICE, "referral_move without checks",
     "SELECT trafficking.referral_move({{B_QUEUED_REFERRAL}}, 'sent', 'x')", NULL, NULL,
     NOT_A_PERSON("referral_move")},

    /* -------------------------------------------------------- services --- */
    {"trafficking.outbox_take_v1()", WORKER, "outbox_take_v1 by a caseworker",
     "SELECT count(*) FROM trafficking.outbox_take_v1()", NULL, NULL, NOT_A_SERVICE},
    {"trafficking.outbox_take_v1()", SERVICE, "outbox_take_v1 reaching agency B's due row",
     "SELECT count(*) FROM trafficking.outbox_take_v1() t WHERE t.id = {{B_OUTBOX}}", NULL, NULL,
     VALUE("0")},
    {"trafficking.outbox_take_v1()", ADMIN, "outbox_take_v1 reaching agency B's due row",
     "SELECT count(*) FROM trafficking.outbox_take_v1() t WHERE t.id = {{B_OUTBOX}}", NULL, NULL,
     VALUE("0")},
    {"trafficking.outbox_consent_v1(bigint)", WORKER, "outbox_consent_v1 by a caseworker",
     "SELECT count(*) FROM trafficking.outbox_consent_v1({{A_CONSENT}})", NULL, NULL,
     NOT_A_SERVICE},
    {"trafficking.outbox_consent_v1(bigint)", SERVICE, "outbox_consent_v1 of agency B's consent",
     "SELECT count(*) FROM trafficking.outbox_consent_v1({{ID}})", "B_CONSENT", NULL, VALUE("0")},
    {"trafficking.outbox_hold_v1(bigint,text,boolean)", WORKER, "outbox_hold_v1 by a caseworker",
     "SELECT trafficking.outbox_hold_v1({{A_OUTBOX}}, 'x', true)", NULL, NULL, NOT_A_SERVICE},
    {"trafficking.outbox_hold_v1(bigint,text,boolean)", SERVICE,
     "outbox_hold_v1 revoking agency B's referral",
     "SELECT trafficking.outbox_hold_v1({{ID}}, 'x', true)", "B_OUTBOX", NULL,
     REFUSED("outbox row {{ID}} not found")},
    {"trafficking.outbox_hold_v1(bigint,text,boolean)", ADMIN,
     "outbox_hold_v1 revoking agency B's referral",
     "SELECT trafficking.outbox_hold_v1({{ID}}, 'x', true)", "B_OUTBOX", NULL,
     REFUSED("outbox row {{ID}} not found")},
    {"trafficking.outbox_sent_v1(bigint,text,text)", WORKER, "outbox_sent_v1 by a caseworker",
     "SELECT trafficking.outbox_sent_v1({{A_OUTBOX}}, 'x', NULL)", NULL, NULL, NOT_A_SERVICE},
    {"trafficking.outbox_sent_v1(bigint,text,text)", SERVICE, "outbox_sent_v1 of agency B's row",
     "SELECT trafficking.outbox_sent_v1({{ID}}, 'x', NULL)", "B_OUTBOX", NULL,
     REFUSED("outbox row {{ID}} not found")},
    {"trafficking.outbox_payload(trafficking.outbox)", WORKER,
     "outbox_payload of agency B's row by a caseworker",
     "SELECT trafficking.outbox_payload(o) FROM trafficking.outbox o", NULL, NULL,
     REFUSED("permission denied for table outbox")},
    {"trafficking.outbox_payload(trafficking.outbox)", SERVICE,
     "outbox_payload read directly by a service",
     "SELECT trafficking.outbox_payload(o) FROM trafficking.outbox o", NULL, NULL,
     REFUSED("permission denied for table outbox")},
    {"trafficking.outbox_retry_v1(bigint,text,bigint)", WORKER, "outbox_retry_v1 by a caseworker",
     "SELECT trafficking.outbox_retry_v1({{A_OUTBOX}}, 'x', 0)", NULL, NULL, NOT_A_SERVICE},
    {"trafficking.outbox_retry_v1(bigint,text,bigint)", SERVICE,
     "outbox_retry_v1 delaying agency B's row",
     "SELECT trafficking.outbox_retry_v1({{ID}}, 'x', 86400000)", "B_OUTBOX", NULL,
     REFUSED("outbox row {{ID}} not found")},
    {"trafficking.outbox_failed_v1(bigint,text,text)", WORKER, "outbox_failed_v1 by a caseworker",
     "SELECT trafficking.outbox_failed_v1({{A_OUTBOX}}, 'x', 'x')", NULL, NULL, NOT_A_SERVICE},
    {"trafficking.outbox_failed_v1(bigint,text,text)", SERVICE,
     "outbox_failed_v1 failing agency B's row",
     "SELECT trafficking.outbox_failed_v1({{ID}}, 'x', 'x')", "B_OUTBOX", NULL,
     REFUSED("outbox row {{ID}} not found")},
    {"trafficking.outbox_next_due_v1()", WORKER, "outbox_next_due_v1 by a caseworker",
     "SELECT trafficking.outbox_next_due_v1()", NULL, NULL, NOT_A_SERVICE},
    {"trafficking.outbox_next_due_v1()", SERVICE, "outbox_next_due_v1 seeing agency B's due row",
     "SELECT coalesce(trafficking.outbox_next_due_v1()::text, 'none')", NULL, NULL, VALUE("none")},
    {"trafficking.referrals_claim_overdue()", WORKER, "referrals_claim_overdue by a caseworker",
     "SELECT count(*) FROM trafficking.referrals_claim_overdue()", NULL, NULL, NOT_A_SERVICE},
    {"trafficking.referrals_claim_overdue()", SERVICE,
     "referrals_claim_overdue claiming agency B's overdue referral",
     "BEGIN; SELECT count(*) FROM trafficking.referrals_claim_overdue()", NULL, NULL, VALUE("0")},
    {"trafficking.referrals_claim_overdue_body()", SERVICE,
     "referrals_claim_overdue_body without checks",
     "SELECT count(*) FROM trafficking.referrals_claim_overdue_body()", NULL, NULL,
     NOT_A_PERSON("referrals_claim_overdue_body")},
    {"trafficking.referral_escalate_v1(bigint,text,jsonb)", WORKER,
     "referral_escalate_v1 by a caseworker",
     "SELECT trafficking.referral_escalate_v1({{A_SENT_REFERRAL}}, 'x', NULL)", NULL, NULL,
     NOT_A_SERVICE},
    {"trafficking.referral_escalate_v1(bigint,text,jsonb)", SERVICE,
     "referral_escalate_v1 of agency B's referral",
     "SELECT trafficking.referral_escalate_v1({{ID}}, 'x', '{\"destination\": \"le_ca\","
     " \"kind\": \"law_enforcement\", \"fields\": [\"person_name\"], \"urgency\": \"24h\","
     " \"due_hours\": 24, \"ack_sla_hours\": 24}')",
     "B_REFERRAL", NULL, REFUSED("referral {{ID}} not found")},

    /* ----------------------------------------- deployed configuration --- */
    {"casehost.require_config_admin()", ADMIN, "require_config_admin without the grant",
     "SELECT (casehost.require_config_admin()).user_id", NULL, NULL,
     REFUSED("deploying configuration needs an admin with the config_admin grant")},
    {"casehost.config_deploy_v1(text,jsonb,text)", ADMIN, "config_deploy_v1 without the grant",
     "SELECT hash FROM casehost.config_deploy_v1('trafficking', '{\"routing.cfg\": \"rules = "
     "();\"}',"
     " 'redteam')",
     NULL, NULL, REFUSED("deploying configuration needs an admin with the config_admin grant")},
    {"casehost.config_deploy_v1(text,jsonb,text)", WORKER, "config_deploy_v1 by a caseworker",
     "SELECT hash FROM casehost.config_deploy_v1('trafficking', '{\"routing.cfg\": \"rules = "
     "();\"}',"
     " 'redteam')",
     NULL, NULL, REFUSED("deploying configuration needs an admin with the config_admin grant")},
    {"casehost.config_deploy_v1(text,jsonb,text)", SERVICE, "config_deploy_v1 by a service",
     "SELECT hash FROM casehost.config_deploy_v1('trafficking', '{\"routing.cfg\": \"rules = "
     "();\"}',"
     " 'redteam')",
     NULL, NULL, NOT_A_PERSON("config_deploy_v1")},
    {"casehost.config_rollback_v1(text,text)", ADMIN, "config_rollback_v1 without the grant",
     "SELECT hash FROM casehost.config_rollback_v1('trafficking', '00000000')", NULL, NULL,
     REFUSED("deploying configuration needs an admin with the config_admin grant")},
    {"casehost.user_config_admin_v1(text,boolean)", ADMIN, "user_config_admin_v1 granting itself",
     "SELECT casehost.user_config_admin_v1('a_admin', true)", NULL, NULL,
     REFUSED("only the database owner gives the config_admin grant")},
    {"casehost.user_config_admin_v1(text,boolean)", ADMIN, "user_config_admin_v1 granting b_admin",
     "SELECT casehost.user_config_admin_v1('b_admin', true)", NULL, NULL,
     REFUSED("only the database owner gives the config_admin grant")},
    {"trafficking.live_generation()", WORKER, "live_generation after setting B's ids",
     SET_B_SETTINGS "SELECT trafficking.live_generation() IS NOT DISTINCT FROM"
                    " (SELECT hash FROM casehost.config_generations"
                    " WHERE plugin = 'trafficking' AND live)",
     NULL, NULL, VALUE("t")},
    {"trafficking.live_config_store_v1(text,jsonb)", ADMIN,
     "live_config_store_v1 without the grant",
     "SELECT trafficking.live_config_store_v1('0000', '{\"destinations\": [{\"id\": \"evil\"}]}')",
     NULL, NULL, REFUSED("deploying configuration needs an admin with the config_admin grant")},
    {"trafficking.live_config_store_v1(text,jsonb)", WORKER, "live_config_store_v1 by a caseworker",
     "SELECT trafficking.live_config_store_v1('0000', '{\"destinations\": [{\"id\": \"evil\"}]}')",
     NULL, NULL, REFUSED("deploying configuration needs an admin with the config_admin grant")},
    /* every agency's count of screenings per instrument version: config admins only */
    {"trafficking.screening_versions_v1()", ADMIN, "screening_versions_v1 without the grant",
     "SELECT count(*) FROM trafficking.screening_versions_v1()", NULL, NULL,
     REFUSED("deploying configuration needs an admin with the config_admin grant")},
    {"trafficking.screening_versions_v1()", WORKER, "screening_versions_v1 by a caseworker",
     SET_B_SETTINGS "SELECT count(*) FROM trafficking.screening_versions_v1()", NULL, NULL,
     REFUSED("deploying configuration needs an admin with the config_admin grant")},
    {"trafficking.screening_versions_v1()", SERVICE, "screening_versions_v1 by a service",
     "SELECT count(*) FROM trafficking.screening_versions_v1()", NULL, NULL,
     NOT_A_PERSON("screening_versions_v1")},
    {"trafficking.screening_version_counts()", ADMIN,
     "screening_version_counts (every agency's rows) without the grant's check",
     "SELECT count(*) FROM trafficking.screening_version_counts()", NULL, NULL,
     NOT_A_PERSON("screening_version_counts")},
    {"trafficking.screening_version_counts()", WORKER, "screening_version_counts by a caseworker",
     "SELECT count(*) FROM trafficking.screening_version_counts()", NULL, NULL,
     NOT_A_PERSON("screening_version_counts")},
    {"trafficking.screening_version_counts()", SERVICE, "screening_version_counts by a service",
     "SELECT count(*) FROM trafficking.screening_version_counts()", NULL, NULL,
     NOT_A_PERSON("screening_version_counts")},
};
#define N_FN_ATTACKS (sizeof(fn_attacks) / sizeof(fn_attacks[0]))

/*
 * Steps of the trusted server's login, casehost_authenticator (NOINHERIT,
 * granted every person's role, no service's), each on a fresh connection.
 */
struct auth_step {
    const char *name;
    const char *sql;
    struct expect expect;
};

static const struct auth_step auth_steps[] = {
    {"alone it is no casehost user",
     "SELECT count(*) FROM casehost.whoami_v1()",
     {"0", NULL, "42501"}},
    {"alone it reads no case", "SELECT count(*) FROM casehost.cases", {"0", NULL, "42501"}},
    {"alone it reads no person", "SELECT count(*) FROM casehost.people", {"0", NULL, "42501"}},
    {"alone it reads no note", "SELECT count(*) FROM casehost.notes", {"0", NULL, "42501"}},
    {"alone it reads no referral",
     "SELECT count(*) FROM trafficking.referrals",
     {"0", NULL, "42501"}},
    {"alone it adds no note", "SELECT casehost.note_add({{A_CASE}}, 'x')", DENIED},
    {"alone it adds no person", "SELECT casehost.person_add('{}')", DENIED},
    {"alone it takes no outbox row", "SELECT count(*) FROM trafficking.outbox_take_v1()", DENIED},
    {"SET LOCAL ROLE a_worker makes it a_worker",
     "BEGIN; SET LOCAL ROLE {{A_ROLE}};"
     " SELECT user_name || ' ' || role || ' ' || agency_id FROM casehost.whoami_v1()",
     VALUE("a_worker caseworker {{A_AGENCY}}")},
    {"SET LOCAL ROLE a_worker sees exactly a_worker's cases",
     "BEGIN; SET LOCAL ROLE {{A_ROLE}}; SELECT string_agg(id::text, ',' ORDER BY id)"
     " FROM casehost.cases",
     VALUE("{{A_CASES}}")},
    {"SET LOCAL ROLE a_worker finds no case of agency B",
     "BEGIN; SET LOCAL ROLE {{A_ROLE}}; SELECT casehost.note_add({{B_CASE}}, 'x')",
     REFUSED("case {{B_CASE}} not found")},
    {"SET LOCAL ROLE a_worker writes as a_worker in agency A",
     "BEGIN; SET LOCAL ROLE {{A_ROLE}};"
     " SELECT casehost.person_add('{\"given_name\": \"via the server\"}');"
     " SELECT agency_id || ' ' || created_by FROM casehost.people ORDER BY id DESC LIMIT 1",
     VALUE("{{A_AGENCY}} {{A_WORKER_ID}}")},
    {"after COMMIT it is nobody again",
     "BEGIN; SET LOCAL ROLE {{A_ROLE}}; COMMIT;"
     " SELECT current_user || ' ' || current_setting('role')",
     VALUE("casehost_authenticator none")},
    {"after COMMIT it reads nothing again",
     "BEGIN; SET LOCAL ROLE {{A_ROLE}}; COMMIT; SELECT count(*) FROM casehost.cases",
     {"0", NULL, "42501"}},
    {"after ROLLBACK it is nobody again",
     "BEGIN; SET LOCAL ROLE {{A_ROLE}}; ROLLBACK;"
     " SELECT current_user || ' ' || current_setting('role')",
     VALUE("casehost_authenticator none")},
    {"SET ROLE a_svc is refused (services are not granted to it)", "SET ROLE {{A_SVC_ROLE}}",
     REFUSED("permission denied to set role \"{{A_SVC_ROLE}}\"")},
    {"SET ROLE b_svc is refused", "SET ROLE {{B_SVC_ROLE}}",
     REFUSED("permission denied to set role \"{{B_SVC_ROLE}}\"")},
    {"SET ROLE casehost_service is refused", "SET ROLE casehost_service",
     REFUSED("permission denied to set role \"casehost_service\"")},
    {"SET ROLE the owner of every object is refused", "SET ROLE {{OWNER}}",
     REFUSED("permission denied to set role \"{{OWNER}}\"")},
    {"SET ROLE the owner of role_admin_v1 is refused", "SET ROLE {{USERADMIN}}",
     REFUSED("permission denied to set role \"{{USERADMIN}}\"")},
    {"SET ROLE the superuser is refused", "SET ROLE {{SUPERUSER}}",
     REFUSED("permission denied to set role \"{{SUPERUSER}}\"")},
    {"SET SESSION AUTHORIZATION a_worker is refused", "SET SESSION AUTHORIZATION {{A_ROLE}}",
     DENIED},
};
#define N_AUTH_STEPS (sizeof(auth_steps) / sizeof(auth_steps[0]))

/*
 * A command line run as attacker who. With id_key, run with that seeded
 * value and again with none_key's ("NONE" when NULL): the exit status and
 * every byte of stderr must be the same, but for the id. err: a part of
 * stderr; absent: what stdout must not hold.
 */
struct cli_attack {
    enum who who;
    const char *name;
    const char *argv[12];
    const char *id_key;
    const char *none_key;
    int status;
    const char *err;
    const char *absent;
};

static const struct cli_attack cli_attacks[] = {
    {WORKER,
     "episode list of agency B's case",
     {"episode", "list", "{{ID}}"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}} not found",
     NULL},
    {WORKER,
     "episode remove of agency B's episode",
     {"episode", "remove", "{{ID}}", "--reason", "x"},
     "B_EPISODE",
     NULL,
     1,
     "episode {{ID}} not found",
     NULL},
    {WORKER,
     "determination show of agency B's case",
     {"determination", "show", "{{ID}}"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}} not found",
     NULL},
    {ADMIN,
     "determination set confirmed on agency B's case",
     {"determination", "set", "{{ID}}", "--level", "confirmed", "--type", "sex", "--reason", "x"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}} not found",
     NULL},
    {WORKER,
     "--as b_worker",
     {"--as", "{{B_WORKER}}", "case", "list"},
     NULL,
     NULL,
     2,
     "--as is gone",
     NULL},
    {WORKER,
     "--as=b_worker",
     {"--as={{B_WORKER}}", "case", "list"},
     NULL,
     NULL,
     2,
     "--as is gone",
     NULL},
    {WORKER,
     "--as after the verb",
     {"case", "list", "--as", "{{B_WORKER}}"},
     NULL,
     NULL,
     2,
     "--as is gone",
     NULL},
    {WORKER,
     "note add to agency B's case",
     {"note", "add", "{{ID}}", "x"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}} not found",
     NULL},
    {WORKER,
     "case show of agency B's case",
     {"case", "show", "{{ID}}"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}} not found",
     NULL},
    {WORKER,
     "case update of agency B's case",
     {"case", "update", "{{ID}}", "--title", "x"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}} not found",
     NULL},
    {WORKER,
     "case close of agency B's case",
     {"case", "close", "{{ID}}", "--reason", "x"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}} not found",
     NULL},
    {WORKER,
     "case update giving A's case B's person",
     {"case", "update", "{{A_CASE}}", "--person", "{{ID}}"},
     "B_PERSON",
     NULL,
     1,
     "person {{ID}} not found",
     NULL},
    {WORKER,
     "case list shows no case of agency B",
     {"case", "list", "--status", "all"},
     NULL,
     NULL,
     0,
     NULL,
     "(B)"},
    {WORKER,
     "person show of agency B's person",
     {"person", "show", "{{ID}}"},
     "B_PERSON",
     NULL,
     1,
     "person {{ID}} not found",
     NULL},
    {WORKER,
     "consent add for agency B's person",
     {"consent", "add", "{{ID}}", "--purpose", "referral", "--recipients", "kind:law_enforcement",
      "--regime", "vawa_voca", "--expires", "2099-12-31"},
     "B_PERSON",
     NULL,
     1,
     "person {{ID}} not found",
     NULL},
    {WORKER,
     "consent list of agency B's person",
     {"consent", "list", "{{ID}}"},
     "B_PERSON",
     NULL,
     1,
     "person {{ID}} not found",
     NULL},
    {WORKER,
     "consent revoke of agency B's consent",
     {"consent", "revoke", "{{ID}}", "--reason", "x"},
     "B_CONSENT",
     NULL,
     1,
     "consent {{ID}} not found",
     NULL},
    {WORKER,
     "safety set for agency B's person",
     {"safety", "set", "{{ID}}", "--phone", "555-0000"},
     "B_PERSON",
     NULL,
     1,
     "person {{ID}} not found",
     NULL},
    {WORKER,
     "safety show of agency B's person",
     {"safety", "show", "{{ID}}"},
     "B_PERSON",
     NULL,
     1,
     "person {{ID}} not found",
     NULL},
    {WORKER,
     "screen start on agency B's case",
     {"screen", "start", "{{ID}}", "--instrument", "youth_quick", "offer_not_as_promised=no",
      "could_not_leave=no", "id_money_phone_held=no", "exchanged_sex=yes"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}} not found",
     NULL},
    {WORKER,
     "screen show of agency B's screening",
     {"screen", "show", "{{ID}}"},
     "B_SCREENING",
     NULL,
     1,
     "screening {{ID}} not found",
     NULL},
    {WORKER,
     "screen list of agency B's case",
     {"screen", "list", "{{ID}}"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}} not found",
     NULL},
    {WORKER,
     "referral show of agency B's referral",
     {"referral", "show", "{{ID}}"},
     "B_REFERRAL",
     NULL,
     1,
     "referral {{ID}} not found",
     NULL},
    {WORKER,
     "referral ack of agency B's referral",
     {"referral", "ack", "{{ID}}"},
     "B_REFERRAL",
     NULL,
     1,
     "referral {{ID}} not found",
     NULL},
    {WORKER,
     "referral revoke of agency B's referral",
     {"referral", "revoke", "{{ID}}", "--reason", "x"},
     "B_QUEUED_REFERRAL",
     NULL,
     1,
     "referral {{ID}} not found",
     NULL},
    {WORKER,
     "referral list shows no referral of agency B",
     {"--json", "referral", "list"},
     NULL,
     NULL,
     0,
     NULL,
     "\"case\": {{B_CASE}},"},
    {WORKER,
     "route explain of agency B's case",
     {"route", "explain", "{{ID}}"},
     "B_CASE",
     NULL,
     1,
     "case {{ID}}",
     NULL},
    {ADMIN,
     "user add into agency B",
     {"user", "add", "evil_b", "--agency", "{{ID}}", "--role", "caseworker", "--password-file",
      "{{PASSWORD_FILE}}"},
     "B_AGENCY_NAME",
     "NO_AGENCY",
     1,
     "unknown agency \"{{ID}}\"",
     NULL},
    {ADMIN,
     "user disable of b_worker",
     {"user", "disable", "{{ID}}"},
     "B_WORKER",
     "NO_USER",
     1,
     "unknown user \"{{ID}}\"",
     NULL},
    {ADMIN,
     "user passwd of b_worker",
     {"user", "passwd", "{{ID}}", "--password-file", "{{PASSWORD_FILE}}"},
     "B_WORKER",
     "NO_USER",
     1,
     "unknown user \"{{ID}}\"",
     NULL},
    {ADMIN,
     "user show of b_worker",
     {"user", "show", "{{ID}}"},
     "B_WORKER",
     "NO_USER",
     1,
     "unknown user \"{{ID}}\"",
     NULL},
    {ADMIN, "user list shows no user of agency B", {"user", "list"}, NULL, NULL, 0, NULL, "b_"},
    {ADMIN,
     "agency add",
     {"agency", "add", "C"},
     NULL,
     NULL,
     1,
     "only the database owner may add agencies",
     NULL},
    {ADMIN,
     "config deploy without the config_admin grant",
     {"config", "deploy", "{{CONF_DIR}}"},
     NULL,
     NULL,
     1,
     "needs an admin with the config_admin grant",
     NULL},
    {WORKER,
     "config deploy",
     {"config", "deploy", "{{CONF_DIR}}"},
     NULL,
     NULL,
     1,
     "needs an admin with the config_admin grant",
     NULL},
    {ADMIN,
     "config rollback without the config_admin grant",
     {"config", "rollback", "{{LIVE_HASH}}"},
     NULL,
     NULL,
     1,
     "needs an admin with the config_admin grant",
     NULL},
    {SERVICE,
     "case list",
     {"case", "list"},
     NULL,
     NULL,
     1,
     "permission denied for table cases",
     NULL},
    {SERVICE,
     "person show of its own agency's person",
     {"person", "show", "{{A_PERSON}}"},
     NULL,
     NULL,
     1,
     "permission denied for table people",
     NULL},
    {SERVICE,
     "note add",
     {"note", "add", "{{A_CASE}}", "x"},
     NULL,
     NULL,
     1,
     "permission denied for function note_add",
     NULL},
    {SERVICE,
     "screen show of its own agency's screening",
     {"screen", "show", "{{A_SCREENING}}"},
     NULL,
     NULL,
     1,
     "permission denied for view plugin_user_v1",
     NULL},
};
#define N_CLI_ATTACKS (sizeof(cli_attacks) / sizeof(cli_attacks[0]))

/*
 * With agency A's case_visibility = 'assigned', a case a_admin created and
 * did not assign ({{HIDDEN_CASE}}) and everything in it stay hidden from
 * a_worker; a_admin (who sees every case) is the control.
 */
static const struct fn_attack hidden_attacks[] = {
    {NULL, WORKER, "reads the case hidden from it",
     "SELECT count(*) FROM casehost.cases WHERE id = {{HIDDEN_CASE}}", NULL, NULL, VALUE("0")},
    {NULL, WORKER, "reads the notes of the case hidden from it",
     "SELECT count(*) FROM casehost.notes WHERE case_id = {{HIDDEN_CASE}}", NULL, NULL, VALUE("0")},
    {NULL, WORKER, "reads the history of the case hidden from it",
     "SELECT count(*) FROM casehost.case_history WHERE case_id = {{HIDDEN_CASE}}", NULL, NULL,
     VALUE("0")},
    {NULL, WORKER, "adds a note to the case hidden from it",
     "SELECT casehost.note_add({{ID}}, 'x')", "HIDDEN_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {NULL, WORKER, "updates the case hidden from it",
     "SELECT * FROM casehost.case_update({{ID}}, '{\"title\": \"x\"}')", "HIDDEN_CASE", NULL,
     REFUSED("case {{ID}} not found")},
    {NULL, ADMIN, "reads the notes of a case it did not create (control)",
     "SELECT count(*) FROM casehost.notes WHERE case_id = {{HIDDEN_CASE}}", NULL, NULL, VALUE("1")},
    {NULL, ADMIN, "reads the history of a case it did not create (control)",
     "SELECT count(*) > 0 FROM casehost.case_history WHERE case_id = {{HIDDEN_CASE}}", NULL, NULL,
     VALUE("t")},
};
#define N_HIDDEN_ATTACKS (sizeof(hidden_attacks) / sizeof(hidden_attacks[0]))

#endif
