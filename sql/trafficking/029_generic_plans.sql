-- 029_generic_plans.sql: three hot functions keep one plan per statement
-- for the session instead of planning some statements again on every call.
-- Same bodies, results, rights and grants; only when planning happens
-- changes.
--
-- PostgreSQL plans a statement of a PL/pgSQL function with custom plans for
-- its first five calls, then keeps a generic plan only when the cost model
-- rates it no dearer than the custom ones. For these statements it never
-- did (an array of case ids, a row-level security InitPlan, a LIMIT taken
-- from an argument), so they were planned afresh on every call. Measured
-- with pg_stat_statements (track all, planning tracked) over 300 routed
-- screening submits and a dispatch run, before this change:
--   case_facts_v1, the person's part (age, exploitation, consents, safe
--     contact, declines): planned on 903 of 901 calls, 0.6 ms each, against
--     0.1 ms to run it; case_facts_v1 runs twice per routed submit;
--   decision_store_body, the insert of the new referrals into the report
--     ledger: planned on every call, 0.35 ms each;
--   outbox_claim_v2, the claim of ready outbox rows: planned on every call,
--     0.33 ms each, against 0.08 ms to run it.
-- Each generic plan was read (auto_explain) and is the plan the custom ones
-- were: every table by its key or by the index made for the lookup; the
-- claim walks outbox_ready_order in claim order and stops at the LIMIT.
-- Backend CPU per case_facts_v1 call of a case with a person and a
-- screening, warm, in one session: 1,130-1,180 us before, 590 us after.
ALTER FUNCTION trafficking.case_facts_v1(bigint) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION trafficking.decision_store_body(jsonb) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION trafficking.outbox_claim_v2(bigint, integer)
    SET plan_cache_mode = force_generic_plan;
