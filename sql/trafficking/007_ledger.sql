-- 007_ledger.sql: what has been reported, so that a report is made once;
-- refusals that last; revocation per recipient.
--
-- A report is a referral. The ledger is every referral of a person's (and a
-- case's) cases with what told it apart when it was made: the runaway
-- episode (the case's runaway_start, or none), the evidence classes it
-- carried and the disclosure (a screening stopped on one). A report counts
-- once it was delivered. decision_store_body (which decision_store calls
-- after its checks) holds every referral a decision proposes against the
-- ledger and the person's declines, records what it did and why in the
-- decision's ledger column, and never queues a delivered report again
-- unless something new (evidence, a disclosure, an episode) makes it a new
-- one. Reads of the ledger and of declines are audited functions; writes are
-- SECURITY DEFINER functions that take actor and agency from the role. It
-- reads the host only through the plugin surface (core 007).

-- ------------------------------------------------------------- tables ---

-- The facts of a report that routing made (or a supervisor forced), one row
-- per referral. Referrals without a row (made before this migration, or by
-- escalation) are read as reports of the case's episode now, without
-- evidence classes: trafficking.ledger_entries.
CREATE TABLE trafficking.reports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id     bigint NOT NULL REFERENCES casehost.agencies(id),
    case_id       bigint NOT NULL REFERENCES casehost.cases(id),
    person_id     bigint REFERENCES casehost.people(id),
    referral_id   bigint NOT NULL UNIQUE REFERENCES trafficking.referrals(id),
    decision_id   bigint REFERENCES trafficking.decisions(id),
    episode       timestamptz,                 -- the case's runaway_start then, or none
    evidence      text[] NOT NULL DEFAULT '{}', -- evidence classes the decision carried
    disclosure    bigint REFERENCES trafficking.screenings(id), -- stopped on a disclosure
    why           text NOT NULL,               -- "first report", "new report: new episode of ..."
    forced_by     bigint REFERENCES casehost.users(id),
    force_reason  text,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((forced_by IS NULL) = (force_reason IS NULL))
);
CREATE INDEX reports_person ON trafficking.reports (person_id);
CREATE INDEX referrals_case ON trafficking.referrals (case_id);

-- A person's refusal of a destination or a kind of destination. It lasts
-- until the person changes their mind: `consent undecline`, or a consent
-- recorded later that names the same recipient (ended_by is who recorded
-- it). Consent-based referrals are never made to a declined recipient;
-- reports the law requires and emergency referrals are (the law overrides a
-- refusal), and the decision says so.
CREATE TABLE trafficking.declines (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id    bigint NOT NULL REFERENCES casehost.agencies(id),
    person_id    bigint NOT NULL REFERENCES casehost.people(id),
    recipient    text NOT NULL CHECK (recipient ~ '^(kind:)?[a-z][a-z0-9_]*$'),
    note         text,
    declined_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  bigint NOT NULL REFERENCES casehost.users(id),
    ended_at     timestamptz,
    ended_by     bigint REFERENCES casehost.users(id),
    end_reason   text,
    CHECK ((ended_at IS NULL) = (ended_by IS NULL) AND (ended_at IS NULL) = (end_reason IS NULL))
);
CREATE UNIQUE INDEX declines_one_active ON trafficking.declines (person_id, recipient)
    WHERE ended_at IS NULL;

SELECT casehost.agency_rls('trafficking', ARRAY['reports', 'declines']);

-- What the ledger and the declines did to each referral a decision proposed:
-- [{destination, basis, rule, action, referral, reason, decline}], action
-- one of new, open, replaces, already_reported, declined. Kept beside the
-- engine's outcome (whose shape route explain and replay read strictly).
ALTER TABLE trafficking.decisions ADD COLUMN ledger jsonb NOT NULL DEFAULT '[]';

-- One undelivered referral per case and destination. A delivered one no
-- longer blocks a new report (a new episode, new evidence): the ledger,
-- not this index, keeps a delivered report from being made twice.
DROP INDEX trafficking.referrals_one_open;
CREATE UNIQUE INDEX referrals_one_undelivered ON trafficking.referrals (case_id, destination_id)
    WHERE state IN ('pending_consent', 'queued');

-- ------------------------------------------------------------ helpers ---
-- Internal: no grants. They run inside the SECURITY DEFINER functions
-- below, where row-level security keys on the acting role's agency.

-- Serialises reports and declines of one person (or of a case without one),
-- so two decisions never both find "not reported yet".
CREATE FUNCTION trafficking.report_lock(p_case bigint, p_person bigint) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_advisory_xact_lock(hashtextextended(
        'trafficking report ' || coalesce('person ' || p_person, 'case ' || p_case), 0))
$$;

-- The evidence classes of a decision's evidence: an array of class names,
-- or an object whose true, positive or named members are classes
-- ({"commercial_sex": true, "disclosure": "sex"} gives commercial_sex and
-- disclosure:sex). Anything else is none. Sorted, without repeats.
CREATE FUNCTION trafficking.evidence_classes(j jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{}')
      FROM (SELECT e AS c
              FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(j) = 'array' THEN j
                                                  ELSE '[]' END) e
            UNION ALL
            SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN k || ':' || (v #>> '{}') ELSE k END
              FROM jsonb_each(CASE WHEN jsonb_typeof(j) = 'object' THEN j ELSE '{}' END) x(k, v)
             WHERE v = 'true'::jsonb
                OR (jsonb_typeof(v) = 'number' AND (v #>> '{}')::numeric > 0)
                OR (jsonb_typeof(v) = 'string' AND (v #>> '{}') NOT IN ('', 'none', 'no'))) s
     WHERE c <> ''
$$;

-- The cases whose reports count for case p_case: itself and the other cases
-- of its person p_person that the caller may see.
CREATE FUNCTION trafficking.ledger_cases(p_case bigint, p_person bigint) RETURNS bigint[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY(SELECT c.id FROM casehost.plugin_case_v1 c
                  WHERE c.id = p_case OR c.subject_id = p_person ORDER BY c.id)
$$;

-- The ledger of the cases p_cases (trafficking.ledger_cases) and of person
-- p_person: each referral with what told it apart and when it was delivered
-- (NULL: not delivered). A referral without a reports row is read as a
-- report of its case's episode now, without evidence classes.
CREATE FUNCTION trafficking.ledger_entries(p_cases bigint[], p_person bigint)
RETURNS TABLE (referral_id bigint, case_id bigint, person_id bigint, destination_id text,
               destination_kind text, basis text, rule text, state text, episode timestamptz,
               evidence text[], disclosure bigint, why text, forced_by bigint,
               force_reason text, created_at timestamptz, delivered_at timestamptz,
               outcome text, reference text, outbox text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.id, r.case_id, coalesce(l.person_id, c.subject_id), r.destination_id,
           r.destination_kind, r.basis, r.rule, r.state,
           CASE WHEN l.id IS NULL THEN c.runaway_start ELSE l.episode END,
           coalesce(l.evidence, '{}'), l.disclosure,
           coalesce(l.why, CASE WHEN r.escalation_of IS NOT NULL
                                THEN 'escalation of referral ' || r.escalation_of
                                ELSE 'made before the ledger' END),
           l.forced_by, l.force_reason, r.created_at, coalesce(r.sent_at, o.sent_at),
           coalesce(r.outcome, r.reason), r.reference, o.state
      FROM trafficking.referrals r
      JOIN casehost.plugin_case_v1 c ON c.id = r.case_id
      LEFT JOIN trafficking.reports l ON l.referral_id = r.id
      LEFT JOIN trafficking.outbox o ON o.referral_id = r.id
     WHERE r.case_id = ANY (p_cases)
        OR r.id IN (SELECT x.referral_id FROM trafficking.reports x WHERE x.person_id = p_person)
$$;

-- The person's active decline that keeps a consent-based referral from
-- destination p_dest (of kind p_kind), or NULL. A declined kind yields to a
-- destination that an active consent recorded after the decline names by
-- its id: the person chose that one recipient of the kind.
CREATE FUNCTION trafficking.decline_of(p_person bigint, p_dest text, p_kind text)
RETURNS trafficking.declines
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT d.* FROM trafficking.declines d
     WHERE d.person_id = p_person AND d.ended_at IS NULL
       AND (d.recipient = p_dest
            OR (d.recipient = 'kind:' || p_kind
                AND NOT EXISTS (SELECT 1 FROM trafficking.consents k
                                 WHERE k.person_id = p_person AND k.granted_at > d.declined_at
                                   AND k.revoked_at IS NULL AND k.expires_at > now()
                                   AND p_dest = ANY (k.recipients))))
     ORDER BY d.id LIMIT 1
$$;

-- The recipients of a comma-separated list (blanks ignored): destination ids
-- or kind:KIND. With p_live, each must be a destination or kind of the live
-- configuration (a misspelt refusal would silently never hold).
CREATE FUNCTION trafficking.recipients_checked(p_list text, p_live boolean) RETURNS text[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    gen text := trafficking.live_generation();
    list text[] := ARRAY(SELECT DISTINCT x FROM unnest(string_to_array(
                             regexp_replace(coalesce(p_list, ''), '\s+', '', 'g'), ',')) x
                          WHERE x <> '' ORDER BY x);
    bad text;
BEGIN
    IF cardinality(list) = 0 THEN
        RAISE EXCEPTION 'name at least one recipient' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'destination ids or kinds, comma-separated: --recipients le_ca,kind:hotline';
    END IF;
    SELECT x INTO bad FROM unnest(list) x WHERE x !~ '^(kind:)?[a-z][a-z0-9_]*$' LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'recipient "%" is neither a destination id nor kind:KIND', bad
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT p_live OR gen IS NULL THEN
        RETURN list;
    END IF;
    SELECT x INTO bad FROM unnest(list) x
     WHERE NOT EXISTS (SELECT 1 FROM trafficking.live_destinations d
                        WHERE d.generation = gen AND x IN (d.id, 'kind:' || d.kind))
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'recipient "%" is no destination or kind of the live configuration', bad
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'one of: ' || (SELECT string_agg(DISTINCT y, ', ' ORDER BY y)
                                          FROM trafficking.live_destinations d,
                                               LATERAL (VALUES (d.id), ('kind:' || d.kind)) v(y)
                                         WHERE d.generation = gen);
    END IF;
    RETURN list;
END
$$;

-- ------------------------------------------------------- the verdict ---

-- What becomes of referral r (as decision_store takes it) that a decision
-- proposes for case p_case (of person p_person, whose reports count from
-- cases p_cases; runaway episode p_episode, evidence classes p_evidence,
-- disclosure p_disclosure):
--   declined          consent-based, to a recipient the person declined: not made
--   open              an undelivered referral to the destination stands (for
--                     this case it goes on to referral_create, which queues a
--                     waiting one that consent now covers, and never doubles it)
--   replaces          a consent-based referral not yet delivered gives way to
--                     a report the law requires or an emergency referral
--   already_reported  delivered for this episode with these classes: not again
--   new               first report, or new evidence, disclosure or episode
-- reason says it in one line; note tells of a decline the law overrides.
CREATE FUNCTION trafficking.report_verdict(p_case bigint, p_cases bigint[], p_person bigint,
                                           p_episode timestamptz, p_evidence text[],
                                           p_disclosure bigint, r jsonb,
                                           OUT action text, OUT reason text, OUT referral bigint,
                                           OUT note text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dest text := r->>'destination';
    b text := r->>'basis';
    dec trafficking.declines := trafficking.decline_of(p_person, dest, r->>'kind');
    o record;
    covered text[];
    disclosures bigint[];
    fresh text[];
    latest record;
BEGIN
    IF dec.id IS NOT NULL THEN
        IF b = 'consent' THEN
            action := 'declined';
            reason := format('not referred: the person declined %s on %s (decline %s); no '
                             'consent-based referral until they change their mind',
                             dec.recipient, to_char(dec.declined_at, 'YYYY-MM-DD'), dec.id);
            RETURN;
        END IF;
        note := format('the person declined %s on %s (decline %s), but %s is made whatever the '
                       'consent: the law overrides a refusal', dec.recipient,
                       to_char(dec.declined_at, 'YYYY-MM-DD'), dec.id,
                       CASE WHEN b = 'imminent_danger' THEN 'an emergency referral'
                            ELSE 'a mandatory report' END);
    END IF;

    -- An undelivered referral of this case to the destination stands.
    SELECT e.* INTO o FROM trafficking.ledger_entries(ARRAY[p_case], NULL) e
     WHERE e.case_id = p_case AND e.destination_id = dest
       AND e.state IN ('pending_consent', 'queued');
    IF FOUND THEN
        referral := o.referral_id;
        IF o.basis = 'consent' AND b <> 'consent' THEN
            action := 'replaces';
            reason := format('%s: referral %s (consent, %s, not delivered) gives way to it',
                             CASE WHEN b = 'imminent_danger' THEN 'emergency referral'
                                  ELSE 'mandatory report' END, o.referral_id, o.state);
        ELSE
            action := 'open';
            reason := format('the same report is open, not delivered yet: referral %s (%s%s); it '
                             'stands', o.referral_id, o.state,
                             CASE WHEN o.outbox IN ('failed', 'held')
                                  THEN ', delivery ' || o.outbox ELSE '' END);
        END IF;
        RETURN;
    END IF;
    -- ... and so does one of another case of the person for the same episode.
    SELECT e.* INTO o FROM trafficking.ledger_entries(p_cases, p_person) e
     WHERE e.case_id <> p_case AND e.destination_id = dest AND e.basis = b
       AND e.state IN ('pending_consent', 'queued') AND e.episode IS NOT DISTINCT FROM p_episode
     ORDER BY e.referral_id LIMIT 1;
    IF FOUND THEN
        action := 'open';
        referral := o.referral_id;
        reason := format('the same report is open in case %s, not delivered yet: referral %s '
                         '(%s); it stands', o.case_id, o.referral_id, o.state);
        RETURN;
    END IF;

    -- Delivered reports to the destination on this basis, for this episode.
    SELECT coalesce(array_agg(DISTINCT u.cls), '{}') INTO covered
      FROM trafficking.ledger_entries(p_cases, p_person) e, unnest(e.evidence) AS u(cls)
     WHERE e.destination_id = dest AND e.basis = b AND e.delivered_at IS NOT NULL
       AND e.episode IS NOT DISTINCT FROM p_episode;
    SELECT coalesce(array_agg(e.disclosure), '{}') INTO disclosures
      FROM trafficking.ledger_entries(p_cases, p_person) e
     WHERE e.destination_id = dest AND e.basis = b AND e.delivered_at IS NOT NULL
       AND e.episode IS NOT DISTINCT FROM p_episode AND e.disclosure IS NOT NULL;
    SELECT e.* INTO latest FROM trafficking.ledger_entries(p_cases, p_person) e
     WHERE e.destination_id = dest AND e.basis = b AND e.delivered_at IS NOT NULL
       AND e.episode IS NOT DISTINCT FROM p_episode
     ORDER BY e.delivered_at DESC, e.referral_id DESC LIMIT 1;
    IF FOUND THEN
        fresh := ARRAY(SELECT x FROM unnest(p_evidence) x WHERE NOT (x = ANY (covered)) ORDER BY x);
        reason := concat_ws('; ',
                            'new evidence: ' || nullif(array_to_string(fresh, ', '), ''),
                            CASE WHEN p_disclosure IS NOT NULL
                                      AND NOT (p_disclosure = ANY (disclosures))
                                 THEN format('new disclosure (screening %s)', p_disclosure) END);
        IF reason <> '' THEN
            action := 'new';
            reason := 'new report: ' || reason;
        ELSE
            action := 'already_reported';
            referral := latest.referral_id;
            reason := format('already reported to %s on %s (referral %s, %s)', dest,
                             to_char(latest.delivered_at, 'YYYY-MM-DD'), latest.referral_id,
                             latest.state);
        END IF;
        RETURN;
    END IF;

    action := 'new';
    IF EXISTS (SELECT 1 FROM trafficking.ledger_entries(p_cases, p_person) e
                WHERE e.destination_id = dest AND e.basis = b AND e.delivered_at IS NOT NULL) THEN
        reason := CASE WHEN p_episode IS NULL
                       THEN 'new report: no runaway episode now; earlier reports were for one'
                       ELSE 'new report: new episode of ' || to_char(p_episode, 'YYYY-MM-DD') END;
    ELSE
        reason := 'first report';
    END IF;
END
$$;

-- ---------------------------------------------------- decision store ---

-- The body 003 wrote (referrals and outbox rows, no checks) keeps its work
-- under a new name; decision_store (004) calls decision_store_body after its
-- checks, which is now this: the ledger and the declines between the checks
-- and the writes, so every path that stores a decision goes through them.
ALTER FUNCTION trafficking.decision_store_body(jsonb) RENAME TO decision_store_unledgered;

CREATE FUNCTION trafficking.decision_store_body(p jsonb)
RETURNS TABLE (decision_id bigint, referral_ids bigint[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c_id bigint := (p->>'case')::bigint;
    person bigint;
    episode timestamptz;
    disclosure bigint;
    cases bigint[];
    kept jsonb := '[]';
    notes jsonb := '[]';
    why jsonb := '{}';
    facts jsonb := '{}';
    ref jsonb;
    v record;
    ev text[];
    stored record;
BEGIN
    SELECT c.subject_id, c.runaway_start INTO person, episode
      FROM casehost.plugin_case_v1 c WHERE c.id = c_id;
    PERFORM trafficking.report_lock(c_id, person);
    cases := trafficking.ledger_cases(c_id, person);
    -- A disclosure is the case's own screening that stopped on one.
    IF p->'input'->'screening'->'stopped' = 'true'::jsonb
       AND jsonb_typeof(p->'input'->'screening'->'id') = 'number' THEN
        SELECT s.id INTO disclosure FROM trafficking.screenings s
         WHERE s.id = (p->'input'->'screening'->>'id')::bigint AND s.case_id = c_id
           AND s.state = 'stopped';
    END IF;
    FOR ref IN SELECT * FROM jsonb_array_elements(coalesce(p->'referrals', '[]')) LOOP
        ev := trafficking.evidence_classes(coalesce(ref->'evidence', p->'input'->'evidence'));
        v := trafficking.report_verdict(c_id, cases, person, episode, ev, disclosure, ref);
        IF v.action = 'replaces' THEN
            PERFORM trafficking.referral_move(v.referral, 'revoked', v.reason);
        END IF;
        IF v.action IN ('new', 'open', 'replaces') THEN
            kept := kept || jsonb_build_array(ref);
        END IF;
        why := why || jsonb_build_object(ref->>'destination', v.reason);
        facts := facts || jsonb_build_object(ref->>'destination', to_jsonb(ev));
        notes := notes || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
            'destination', ref->>'destination', 'basis', ref->>'basis', 'rule', ref->>'rule',
            'action', v.action, 'referral', v.referral, 'reason', v.reason, 'decline', v.note)));
    END LOOP;

    SELECT d.decision_id, d.referral_ids INTO stored
      FROM trafficking.decision_store_unledgered(jsonb_set(p, '{referrals}', kept)) d;
    decision_id := stored.decision_id;
    referral_ids := stored.referral_ids;
    UPDATE trafficking.decisions x SET ledger = notes WHERE x.id = stored.decision_id;
    -- Each referral made now enters the ledger with what told it apart.
    INSERT INTO trafficking.reports (agency_id, case_id, person_id, referral_id, decision_id,
                                     episode, evidence, disclosure, why)
    SELECT x.agency_id, x.case_id, person, x.id, stored.decision_id, episode,
           ARRAY(SELECT jsonb_array_elements_text(coalesce(facts->x.destination_id, '[]'))),
           disclosure, coalesce(why->>x.destination_id, 'made by decision ' || stored.decision_id)
      FROM trafficking.referrals x
     WHERE x.id = ANY (stored.referral_ids)
       AND NOT EXISTS (SELECT 1 FROM trafficking.reports l WHERE l.referral_id = x.id);
    RETURN NEXT;
END
$$;

-- ------------------------------------------------- referral creation ---

-- As 004's, but one undelivered referral per case and destination (the
-- index above), and never a consent-based referral to a recipient the
-- person declined, whoever asks (escalation included).
CREATE OR REPLACE FUNCTION trafficking.referral_create(p_case bigint, p_decision bigint, r jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rid bigint;
    existing trafficking.referrals;
    key text := 'ref-' || gen_random_uuid();
BEGIN
    IF r->>'basis' = 'consent' AND (trafficking.decline_of(
           (SELECT c.subject_id FROM casehost.plugin_case_v1 c WHERE c.id = p_case),
           r->>'destination', r->>'kind')).id IS NOT NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO trafficking.referrals (agency_id, case_id, decision_id, destination_id,
                                       destination_kind, rule, basis, consent_id, urgency,
                                       due_at, ack_sla_hours, state, fields, escalation_of,
                                       follow_up_owner, idempotency_key)
    SELECT casehost.current_agency(), p_case, p_decision, r->>'destination', r->>'kind',
           r->>'rule', r->>'basis', nullif((r->>'consent')::bigint, 0), r->>'urgency',
           now() + make_interval(hours => (r->>'due_hours')::integer),
           (r->>'ack_sla_hours')::integer, r->>'state',
           ARRAY(SELECT jsonb_array_elements_text(r->'fields')),
           nullif((r->>'escalation_of')::bigint, 0),
           (SELECT c.assignee_id FROM casehost.plugin_case_v1 c WHERE c.id = p_case), key
    ON CONFLICT (case_id, destination_id) WHERE state IN ('pending_consent', 'queued')
    DO NOTHING
    RETURNING id INTO rid;

    IF rid IS NULL THEN
        SELECT * INTO existing FROM trafficking.referrals
         WHERE case_id = p_case AND destination_id = r->>'destination'
           AND state IN ('pending_consent', 'queued') FOR UPDATE;
        IF existing.state = 'pending_consent' AND r->>'state' = 'queued'
           AND existing.basis = r->>'basis' THEN
            UPDATE trafficking.referrals
               SET consent_id = nullif((r->>'consent')::bigint, 0), decision_id = p_decision
             WHERE id = existing.id;
            PERFORM trafficking.referral_move(existing.id, 'queued', 'consent now covers it');
            rid := existing.id;
            key := existing.idempotency_key;
        ELSE
            RETURN NULL;
        END IF;
    ELSE
        INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, to_state,
                                                  detail)
        VALUES (rid, casehost.current_agency(), casehost.current_actor(), r->>'state',
                'rule ' || (r->>'rule') || ', basis ' || (r->>'basis'));
        PERFORM casehost.audit('create', 'referral', rid, r->>'destination');
    END IF;

    IF r->>'state' = 'queued' THEN
        INSERT INTO trafficking.outbox (agency_id, referral_id, destination_id, extra,
                                        idempotency_key)
        VALUES (casehost.current_agency(), rid, r->>'destination',
                jsonb_build_object('urgency', r->>'urgency', 'basis', r->>'basis')
                || coalesce(r->'payload', '{}'::jsonb),
                key);
    END IF;
    RETURN rid;
END
$$;

-- ------------------------------------------------ a repeat, by force ---

-- A supervisor or admin makes the latest delivered report of the case to
-- p_destination again, with a reason that is kept: same rule and basis, the
-- destination's fields and times as the live configuration has them now, the
-- payload built from the case as it is when sent. A consent-based repeat
-- rests on an active consent that covers it (else it waits for one) and is
-- refused to a recipient the person declined. An undelivered report is not
-- repeated: it stands.
CREATE FUNCTION trafficking.report_again_v1(p_case bigint, p_destination text, p_reason text)
RETURNS TABLE (referral bigint, destination text, basis text, state text, repeats bigint,
               why text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_kind(ARRAY['supervisor', 'admin'],
                                                    'forcing a repeat report');
    gen text := trafficking.live_generation();
    person bigint;
    episode timestamptz;
    prev record;
    src trafficking.referrals;
    d trafficking.live_destinations;
    t trafficking.live_rule_targets;
    dec trafficking.declines;
    k bigint;
    r jsonb;
    rid bigint;
    because text;
BEGIN
    PERFORM casehost.case_check_v1(p_case);
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'forcing a repeat report needs a reason' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c.subject_id, c.runaway_start INTO person, episode
      FROM casehost.plugin_case_v1 c WHERE c.id = p_case;
    PERFORM trafficking.report_lock(p_case, person);
    SELECT e.* INTO prev FROM trafficking.ledger_entries(ARRAY[p_case], NULL) e
     WHERE e.case_id = p_case AND e.destination_id = p_destination
       AND e.state IN ('pending_consent', 'queued');
    IF FOUND THEN
        RAISE EXCEPTION 'referral % to % is not delivered yet (%): it stands', prev.referral_id,
            p_destination, prev.state USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT e.* INTO prev FROM trafficking.ledger_entries(ARRAY[p_case], NULL) e
     WHERE e.case_id = p_case AND e.destination_id = p_destination AND e.delivered_at IS NOT NULL
     ORDER BY e.delivered_at DESC, e.referral_id DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'case % has no delivered report to "%" to repeat', p_case, p_destination
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'casehost referral ledger ' || p_case || ' lists what was reported';
    END IF;
    SELECT * INTO src FROM trafficking.referrals x WHERE x.id = prev.referral_id;
    SELECT * INTO d FROM trafficking.live_destinations x
     WHERE x.generation = gen AND x.id = src.destination_id;
    SELECT * INTO t FROM trafficking.live_rule_targets x
     WHERE x.generation = gen AND x.rule = src.rule AND x.basis = src.basis
       AND x.target IN (src.destination_id, 'kind:' || src.destination_kind)
     ORDER BY x.target = src.destination_id DESC LIMIT 1;
    IF src.basis = 'consent' THEN
        dec := trafficking.decline_of(person, src.destination_id, src.destination_kind);
        IF dec.id IS NOT NULL THEN
            RAISE EXCEPTION 'the person declined % on % (decline %): no consent-based report',
                dec.recipient, to_char(dec.declined_at, 'YYYY-MM-DD'), dec.id
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        SELECT x.id INTO k FROM trafficking.consents x
         WHERE x.person_id = person AND x.revoked_at IS NULL AND x.expires_at > now()
           AND x.granted_at <= now()
           AND (src.destination_id = ANY (x.recipients)
                OR 'kind:' || src.destination_kind = ANY (x.recipients))
         ORDER BY x.id LIMIT 1;
    END IF;
    r := jsonb_build_object(
        'destination', src.destination_id, 'kind', src.destination_kind, 'rule', src.rule,
        'basis', src.basis, 'consent', coalesce(k, 0),
        'state', CASE WHEN src.basis = 'consent' AND k IS NULL THEN 'pending_consent'
                      ELSE 'queued' END,
        'urgency', CASE WHEN src.escalation_of IS NOT NULL THEN src.urgency
                        ELSE coalesce(t.urgency, src.urgency) END,
        'due_hours', CASE WHEN src.escalation_of IS NOT NULL THEN 1
                          ELSE coalesce(t.due_hours, 24) END,
        'ack_sla_hours', coalesce(d.ack_sla_hours, src.ack_sla_hours),
        'fields', to_jsonb(coalesce(d.fields, src.fields)),
        'escalation_of', coalesce(src.escalation_of, 0),
        'payload', coalesce((SELECT o.extra - 'urgency' - 'basis' FROM trafficking.outbox o
                              WHERE o.referral_id = src.id), '{}'::jsonb));
    PERFORM trafficking.referral_check(p_case, r);
    rid := trafficking.referral_create(p_case, NULL, r);
    IF rid IS NULL THEN
        RAISE EXCEPTION 'referral % to % could not be repeated', src.id, src.destination_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    because := format('repeat of referral %s forced by %s: %s', src.id, me.name, p_reason);
    INSERT INTO trafficking.reports (agency_id, case_id, person_id, referral_id, episode,
                                     evidence, disclosure, why, forced_by, force_reason)
    VALUES (me.agency_id, p_case, person, rid, episode, prev.evidence, prev.disclosure, because,
            me.user_id, p_reason);
    INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                              to_state, detail)
    SELECT x.id, x.agency_id, me.user_id, x.state, x.state, because
      FROM trafficking.referrals x WHERE x.id = rid;
    PERFORM casehost.audit('report_again', 'referral', rid, p_reason);
    RETURN QUERY SELECT x.id, x.destination_id, x.basis, x.state, src.id, because
                   FROM trafficking.referrals x WHERE x.id = rid;
END
$$;

-- The ledger of a case (and of the person's other cases the caller may
-- see), audited as a read of the case's ledger.
CREATE FUNCTION trafficking.ledger_of_v1(p_case bigint)
RETURNS TABLE (referral bigint, "case" bigint, destination text, kind text, basis text,
               state text, episode text, evidence text, delivered text, outcome text, why text,
               forced_by text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.case_check_v1(p_case);
    PERFORM casehost.audit('read', 'ledger', p_case, NULL);
    RETURN QUERY
    SELECT e.referral_id, e.case_id, e.destination_id, e.destination_kind, e.basis, e.state,
           to_char(e.episode, 'YYYY-MM-DD HH24:MI'),
           nullif(array_to_string(e.evidence, ', '), ''),
           to_char(e.delivered_at, 'YYYY-MM-DD HH24:MI'),
           concat_ws('; ', e.outcome, 'reference ' || e.reference), e.why, u.name
      FROM (SELECT c.subject_id FROM casehost.plugin_case_v1 c WHERE c.id = p_case) p,
           trafficking.ledger_entries(trafficking.ledger_cases(p_case, p.subject_id),
                                      p.subject_id) e
      LEFT JOIN casehost.plugin_user_v1 u ON u.id = e.forced_by
     WHERE e.case_id = p_case OR e.person_id = p.subject_id
     ORDER BY e.referral_id;
END
$$;

-- ------------------------------------------------------------ declines ---

-- Records that the person declines each recipient, and revokes the
-- consent-based referrals of the person's cases to it that have not left
-- (their outbox rows are held). Reports the law requires stay.
CREATE FUNCTION trafficking.consent_decline_v1(p_person bigint, p_recipients text, p_note text)
RETURNS TABLE (decline bigint, person bigint, recipient text, declined text,
               referrals_revoked bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    rec text;
    d trafficking.declines;
    n bigint;
BEGIN
    PERFORM casehost.person_check_v1(p_person);
    PERFORM trafficking.report_lock(NULL, p_person);
    FOREACH rec IN ARRAY trafficking.recipients_checked(p_recipients, true) LOOP
        SELECT * INTO d FROM trafficking.declines x
         WHERE x.person_id = p_person AND x.recipient = rec AND x.ended_at IS NULL;
        IF NOT FOUND THEN
            INSERT INTO trafficking.declines (agency_id, person_id, recipient, note, recorded_by)
            VALUES (me.agency_id, p_person, rec, nullif(btrim(p_note), ''), me.user_id)
            RETURNING * INTO d;
            PERFORM casehost.audit('create', 'decline', d.id, rec);
        END IF;
        SELECT count(*) INTO n
          FROM trafficking.referrals x JOIN casehost.plugin_case_v1 c ON c.id = x.case_id,
               LATERAL trafficking.referral_move(x.id, 'revoked',
                                                 format('the person declined %s (decline %s)',
                                                        rec, d.id)) m
         WHERE c.subject_id = p_person AND x.basis = 'consent'
           AND x.state IN ('pending_consent', 'queued')
           AND (x.destination_id = rec OR 'kind:' || x.destination_kind = rec);
        RETURN QUERY SELECT d.id, d.person_id, d.recipient, to_char(d.declined_at, 'YYYY-MM-DD'), n;
    END LOOP;
END
$$;

-- The person changed their mind: the declines of these recipients end.
CREATE FUNCTION trafficking.consent_undecline_v1(p_person bigint, p_recipients text, p_note text)
RETURNS TABLE (decline bigint, person bigint, recipient text, declined text, ended text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    rec text;
    d trafficking.declines;
BEGIN
    PERFORM casehost.person_check_v1(p_person);
    PERFORM trafficking.report_lock(NULL, p_person);
    FOREACH rec IN ARRAY trafficking.recipients_checked(p_recipients, false) LOOP
        UPDATE trafficking.declines x
           SET ended_at = now(), ended_by = me.user_id,
               end_reason = 'the person changed their mind'
                            || coalesce(': ' || nullif(btrim(p_note), ''), '')
         WHERE x.person_id = p_person AND x.recipient = rec AND x.ended_at IS NULL
        RETURNING * INTO d;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'person % has not declined "%"', p_person, rec
                USING ERRCODE = 'no_data_found',
                      HINT = 'casehost consent list ' || p_person || ' shows the declines';
        END IF;
        PERFORM casehost.audit('end', 'decline', d.id, rec);
        RETURN QUERY SELECT d.id, d.person_id, d.recipient, to_char(d.declined_at, 'YYYY-MM-DD'),
                            to_char(d.ended_at, 'YYYY-MM-DD');
    END LOOP;
END
$$;

-- A person's declines, ended ones too, audited as a read.
CREATE FUNCTION trafficking.declines_of_v1(p_person bigint)
RETURNS TABLE (decline bigint, recipient text, declined text, recorded_by text, note text,
               active boolean, ended text, ended_by text, end_reason text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.person_check_v1(p_person);
    PERFORM casehost.audit('read', 'decline', p_person, 'declines of person');
    RETURN QUERY
    SELECT d.id, d.recipient, to_char(d.declined_at, 'YYYY-MM-DD'), u.name, d.note,
           d.ended_at IS NULL, to_char(d.ended_at, 'YYYY-MM-DD'), e.name, d.end_reason
      FROM trafficking.declines d
      LEFT JOIN casehost.plugin_user_v1 u ON u.id = d.recorded_by
      LEFT JOIN casehost.plugin_user_v1 e ON e.id = d.ended_by
     WHERE d.person_id = p_person ORDER BY d.id;
END
$$;

-- A consent that names a declined recipient is the person changing their
-- mind: the decline ends, recorded with who recorded the consent and when.
CREATE FUNCTION trafficking.consent_ends_declines() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE trafficking.declines d
       SET ended_at = NEW.granted_at, ended_by = NEW.recorded_by,
           end_reason = format('consent %s names %s', NEW.id, d.recipient)
     WHERE d.person_id = NEW.person_id AND d.ended_at IS NULL AND d.recipient = ANY (NEW.recipients);
    RETURN NULL;
END
$$;
CREATE TRIGGER consents_end_declines AFTER INSERT ON trafficking.consents
    FOR EACH ROW EXECUTE FUNCTION trafficking.consent_ends_declines();

-- ------------------------------------------------- consent revocation ---

-- Revoking a consent touches only the referrals that rest on it, that it
-- covers and that have not left yet; the person's other referrals keep their
-- state. One that another active consent of the person (same purpose) also
-- covers moves to that consent, since the person still consents to that
-- recipient; the others are revoked and their outbox rows held, in the same
-- transaction. To withdraw one recipient of a consent that names several,
-- the person declines it (consent_decline_v1).
CREATE OR REPLACE FUNCTION trafficking.consent_revoke_v1(p_consent bigint, p_reason text)
RETURNS TABLE (consent bigint, referrals_revoked bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    k trafficking.consents;
    ref trafficking.referrals;
    other bigint;
    n bigint := 0;
BEGIN
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'revoking a consent needs a reason' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO k FROM trafficking.consents x WHERE x.id = p_consent FOR UPDATE;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM casehost.plugin_person_v1 p WHERE p.id = k.person_id) THEN
        RAISE EXCEPTION 'consent % not found', p_consent USING ERRCODE = 'no_data_found';
    END IF;
    IF k.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'consent % was already revoked', p_consent
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE trafficking.consents x SET revoked_at = now(), revoke_reason = p_reason
     WHERE x.id = k.id;
    FOR ref IN SELECT r.* FROM trafficking.referrals r
                WHERE r.consent_id = k.id AND r.basis = 'consent'
                  AND r.state IN ('pending_consent', 'queued')
                  AND (r.destination_id = ANY (k.recipients)
                       OR 'kind:' || r.destination_kind = ANY (k.recipients))
                ORDER BY r.id FOR UPDATE LOOP
        SELECT x.id INTO other FROM trafficking.consents x
         WHERE x.person_id = k.person_id AND x.id <> k.id AND x.purpose = k.purpose
           AND x.revoked_at IS NULL AND x.expires_at > now() AND x.granted_at <= now()
           AND (ref.destination_id = ANY (x.recipients)
                OR 'kind:' || ref.destination_kind = ANY (x.recipients))
         ORDER BY x.id LIMIT 1;
        IF other IS NOT NULL THEN
            UPDATE trafficking.referrals x SET consent_id = other, updated_at = now()
             WHERE x.id = ref.id;
            INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                                      to_state, detail)
            VALUES (ref.id, ref.agency_id, me.user_id, ref.state, ref.state,
                    format('consent %s revoked: %s; consent %s covers it too and it rests on '
                           'that now', k.id, p_reason, other));
        ELSE
            PERFORM trafficking.referral_move(ref.id, 'revoked',
                                              'consent ' || k.id || ' revoked: ' || p_reason);
            n := n + 1;
        END IF;
    END LOOP;
    PERFORM casehost.audit('revoke', 'consent', k.id, p_reason);
    RETURN QUERY SELECT k.id, n;
END
$$;

-- ------------------------------------------------------------- grants ---
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA trafficking FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trafficking.report_again_v1(bigint, text, text),
    trafficking.ledger_of_v1(bigint),
    trafficking.consent_decline_v1(bigint, text, text),
    trafficking.consent_undecline_v1(bigint, text, text),
    trafficking.declines_of_v1(bigint)
    TO casehost_app;
