-- 020_case_list_order.sql: the case lists read in their own order. `case
-- list` (the Cases page) shows an agency's cases most recently changed
-- first, 500 at most; `case list --mine` (My work) the caller's own. With
-- no index in that order, each list read every case of the agency and
-- sorted them: with 200,000 cases, 265 ms for the Cases list and 630 ms for
-- My work, growing with every case the agency ever opened. These indexes
-- give the order directly (the agency's, or the assignee's), so a list
-- stops after the rows it shows: 8 ms and 0.1 ms on the same data. The rows
-- and their order are unchanged; row-level security still decides which
-- rows a person sees.
--
-- The price: updated_at is now indexed, and every case update changes it,
-- so no case update is a HOT update any more: each writes an entry into
-- every index of cases (six with these), not only these two. The indexes
-- are built in the migration's transaction, which holds writes to cases
-- while they are built (0.4 s for both with 200,000 cases here).
CREATE INDEX cases_agency_updated ON casehost.cases (agency_id, updated_at DESC, id DESC);
CREATE INDEX cases_assignee_updated ON casehost.cases (assignee_id, updated_at DESC, id DESC)
    WHERE assignee_id IS NOT NULL;
