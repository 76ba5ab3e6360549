-- 007_plugin_surface.sql: what a plugin's SQL may read and call in schema
-- casehost, as one versioned set: CH_SQL_SURFACE_V1 in
-- core/include/casehost/plugin.h lists it, and tests/integration/
-- check_sql_surface.c holds every plugin string and new plugin migration to
-- it. The views show the columns plugins read and nothing else. They run as
-- the caller (security_invoker), so the grants and the FORCEd row-level
-- security of the tables behind them hold exactly as on the tables, also
-- inside a plugin's SECURITY DEFINER functions (their policies key on the
-- acting role, never on the owner). A _v1 view never changes shape: a plugin
-- that needs more gets a _v2 beside it. Nothing here writes.

-- A case, as plugins read it. status is open, in_progress, waiting or closed.
CREATE VIEW casehost.plugin_case_v1 WITH (security_invoker = true) AS
SELECT c.id, c.agency_id, c.title, c.status, c.assignee_id, c.subject_id, c.state, c.county,
       c.runaway_start, c.runaway_return, c.cw_history, c.jj_history, c.flags,
       c.created_at, c.updated_at, c.closed_at
  FROM casehost.cases c;

-- A person. age is whole years today: from the date of birth, else the
-- estimate grown by the time since it was made; NULL when unknown. So a
-- plugin never computes an age of its own.
CREATE VIEW casehost.plugin_person_v1 WITH (security_invoker = true) AS
SELECT p.id, p.agency_id, p.given_name, p.family_name, p.date_of_birth, p.estimated_age,
       p.estimated_on, casehost.person_age(p) AS age, p.gender_identity, p.language,
       p.interpreter_needed
  FROM casehost.people p;

-- A user of the caller's agency: who screened, decided or follows up.
CREATE VIEW casehost.plugin_user_v1 WITH (security_invoker = true) AS
SELECT u.id, u.agency_id, u.name, u.full_name, u.role
  FROM casehost.users u;

COMMENT ON VIEW casehost.plugin_case_v1 IS 'plugin SQL surface v1 (plugin.h CH_SQL_SURFACE_V1)';
COMMENT ON VIEW casehost.plugin_person_v1 IS 'plugin SQL surface v1 (plugin.h CH_SQL_SURFACE_V1)';
COMMENT ON VIEW casehost.plugin_user_v1 IS 'plugin SQL surface v1 (plugin.h CH_SQL_SURFACE_V1)';

-- People read them as they read the tables; services read neither.
GRANT SELECT ON casehost.plugin_case_v1, casehost.plugin_person_v1, casehost.plugin_user_v1
    TO casehost_app;
