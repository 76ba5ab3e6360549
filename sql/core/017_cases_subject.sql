-- 017_cases_subject.sql: a person's cases found by the person. The report
-- ledger (trafficking.ledger_cases) reads "this case or any case of its
-- subject" three times per routed screening, and the person page lists a
-- person's cases; without this index each read scanned every case of the
-- agency (about 3 ms at 8k cases, growing with the agency).
CREATE INDEX cases_subject ON casehost.cases (subject_id);
