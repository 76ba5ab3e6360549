-- 005_live_config.sql: what the deployed configuration allows, as rows, so
-- that SQL write functions check every referral and screening against the
-- configuration live in the database without parsing libconfig. The plugin
-- writes these rows while `config deploy` stores the generation (same
-- transaction); rows are kept per generation hash, so a rollback only moves
-- the live mark. A caseworker who calls the write functions by hand is held
-- to exactly what a live rule or instrument could produce.

CREATE TABLE trafficking.live_destinations (
    generation       text NOT NULL,
    id               text NOT NULL,
    kind             text NOT NULL,
    any_jurisdiction boolean NOT NULL,
    states           text[] NOT NULL,
    counties         text[] NOT NULL,
    fields           text[] NOT NULL,
    needs_consent    boolean NOT NULL,
    contacts_person  boolean NOT NULL,
    ack_sla_hours    integer NOT NULL,
    escalate_to      text,
    PRIMARY KEY (generation, id)
);

-- Each (rule, target, basis) a rule of the generation may produce, with the
-- rule's urgency and due time; target is a destination id or 'kind:KIND'.
CREATE TABLE trafficking.live_rule_targets (
    generation  text NOT NULL,
    rule        text NOT NULL,
    target      text NOT NULL,
    basis       text NOT NULL,
    urgency     text NOT NULL,
    due_hours   integer NOT NULL,
    PRIMARY KEY (generation, rule, target, basis)
);

-- The instruments of the generation with their item ids.
CREATE TABLE trafficking.live_instruments (
    generation  text NOT NULL,
    id          text NOT NULL,
    version     integer NOT NULL,
    hash        text NOT NULL,
    title       text NOT NULL,
    definition  text NOT NULL,
    items       text[] NOT NULL,
    PRIMARY KEY (generation, id, version)
);

-- The live generation of this plugin, or NULL when none was ever deployed.
CREATE FUNCTION trafficking.live_generation() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT hash FROM casehost.config_generations WHERE plugin = 'trafficking' AND live);
END
$$;

-- Records what generation p_hash allows; the deploying config admin only,
-- and only for the generation this transaction just made live.
CREATE FUNCTION trafficking.live_config_store_v1(p_hash text, p jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM casehost.require_config_admin();
    IF NOT EXISTS (SELECT 1 FROM casehost.config_generations
                    WHERE plugin = 'trafficking' AND hash = p_hash AND live) THEN
        RAISE EXCEPTION 'generation % is not the live configuration of trafficking', p_hash
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF EXISTS (SELECT 1 FROM trafficking.live_destinations WHERE generation = p_hash)
       OR EXISTS (SELECT 1 FROM trafficking.live_instruments WHERE generation = p_hash) THEN
        RETURN; -- stored when this generation was first deployed
    END IF;
    INSERT INTO trafficking.live_destinations
    SELECT p_hash, d.id, d.kind, d.any_jurisdiction, d.states, d.counties, d.fields,
           d.needs_consent, d.contacts_person, d.ack_sla_hours, d.escalate_to
      FROM jsonb_to_recordset(p->'destinations')
           AS d(id text, kind text, any_jurisdiction boolean, states text[], counties text[],
                fields text[], needs_consent boolean, contacts_person boolean,
                ack_sla_hours integer, escalate_to text);
    INSERT INTO trafficking.live_rule_targets
    SELECT DISTINCT p_hash, t.rule, t.target, t.basis, t.urgency, t.due_hours
      FROM jsonb_to_recordset(p->'rule_targets')
           AS t(rule text, target text, basis text, urgency text, due_hours integer);
    INSERT INTO trafficking.live_instruments
    SELECT p_hash, i.id, i.version, i.hash, i.title, i.definition, i.items
      FROM jsonb_to_recordset(p->'instruments')
           AS i(id text, version integer, hash text, title text, definition text, items text[]);
    -- Every instrument definition ever live stays readable for old screenings.
    INSERT INTO trafficking.instruments (id, version, hash, title, definition)
    SELECT i.id, i.version, i.hash, i.title, i.definition
      FROM trafficking.live_instruments i WHERE i.generation = p_hash
    ON CONFLICT DO NOTHING;
END
$$;

-- A referral a caller asks to create, against the live configuration: the
-- destination exists, serves the case's jurisdiction, receives only its
-- fields and keeps its acknowledgement time; the (rule, destination or kind,
-- basis) is one a live rule may produce, with that rule's urgency and due
-- time; an escalation goes only to the escalation target of the referral it
-- escalates, on that referral's basis, at once.
CREATE FUNCTION trafficking.referral_check_live(p_case bigint, r jsonb) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    gen text := trafficking.live_generation();
    d trafficking.live_destinations;
    c casehost.cases;
    orig trafficking.referrals;
BEGIN
    IF gen IS NULL THEN
        RAISE EXCEPTION 'no trafficking configuration is deployed: no referral can be made'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'an admin with the config_admin grant runs: casehost config deploy';
    END IF;
    SELECT * INTO d FROM trafficking.live_destinations
     WHERE generation = gen AND id = r->>'destination';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'destination "%" is not in the live configuration', r->>'destination'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF d.kind IS DISTINCT FROM r->>'kind' THEN
        RAISE EXCEPTION 'destination "%" is a %, not a %', d.id, d.kind, r->>'kind'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements_text(r->'fields') f
                WHERE NOT (f = ANY (d.fields))) THEN
        RAISE EXCEPTION 'destination "%" may receive only %', d.id, array_to_string(d.fields, ', ')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO c FROM casehost.cases WHERE id = p_case;
    IF NOT d.any_jurisdiction AND NOT (c.state = ANY (d.states)
                                       AND (cardinality(d.counties) = 0
                                            OR c.county = ANY (d.counties))) THEN
        RAISE EXCEPTION 'destination "%" does not serve case %''s jurisdiction', d.id, p_case
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (r->>'ack_sla_hours')::integer IS DISTINCT FROM d.ack_sla_hours THEN
        RAISE EXCEPTION 'destination "%" acknowledges within % h, not %', d.id, d.ack_sla_hours,
            coalesce(r->>'ack_sla_hours', '(none)') USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF r->>'basis' = 'consent' AND NOT d.needs_consent THEN
        RAISE EXCEPTION 'destination "%" takes no consent-based referrals', d.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF nullif(r->>'escalation_of', '0') IS NOT NULL THEN
        SELECT * INTO orig FROM trafficking.referrals WHERE id = (r->>'escalation_of')::bigint;
        IF r->>'rule' <> 'escalation' OR orig.basis <> r->>'basis'
           OR r->>'urgency' IS DISTINCT FROM 'immediate'
           OR (r->>'due_hours')::integer IS DISTINCT FROM 1
           OR NOT EXISTS (SELECT 1 FROM trafficking.live_destinations x
                           WHERE x.generation = gen AND x.id = orig.destination_id
                             AND x.escalate_to = d.id) THEN
            RAISE EXCEPTION 'referral % escalates only to its destination''s escalation target',
                orig.id USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM trafficking.live_rule_targets t
                    WHERE t.generation = gen AND t.rule = r->>'rule' AND t.basis = r->>'basis'
                      AND t.target IN (d.id, 'kind:' || d.kind)) THEN
        RAISE EXCEPTION 'no live rule "%" refers to % on the basis %', r->>'rule', d.id,
            r->>'basis' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM trafficking.live_rule_targets t
                    WHERE t.generation = gen AND t.rule = r->>'rule' AND t.basis = r->>'basis'
                      AND t.target IN (d.id, 'kind:' || d.kind) AND t.urgency = r->>'urgency'
                      AND t.due_hours = (r->>'due_hours')::integer) THEN
        RAISE EXCEPTION 'rule "%" makes its referrals % (due within the rule''s hours), not % in % h',
            r->>'rule', (SELECT min(t.urgency) FROM trafficking.live_rule_targets t
                          WHERE t.generation = gen AND t.rule = r->>'rule'),
            r->>'urgency', r->>'due_hours' USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- Checks one referral a caller asks to create: its shape, its state, that a
-- consent it rests on is this person's, active and names the recipient, and
-- the live configuration (above).
CREATE FUNCTION trafficking.referral_check(p_case bigint, r jsonb) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF r->>'destination' IS NULL OR r->>'destination' !~ '^[a-z][a-z0-9_]*$'
       OR r->>'kind' IS NULL OR r->>'rule' IS NULL THEN
        RAISE EXCEPTION 'a referral needs a destination, its kind and the rule that made it'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF r->>'basis' NOT IN ('consent', 'mandatory_report', 'imminent_danger') THEN
        RAISE EXCEPTION 'referral basis "%" is not consent, mandatory_report or imminent_danger',
            r->>'basis' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF r->>'state' NOT IN ('queued', 'pending_consent') THEN
        RAISE EXCEPTION 'a new referral is queued or pending consent, not %', r->>'state'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(r->'fields') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'a referral names the fields it shares' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF nullif(r->>'escalation_of', '0') IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM trafficking.referrals x
            WHERE x.id = (r->>'escalation_of')::bigint AND x.case_id = p_case) THEN
        RAISE EXCEPTION 'referral % not found', r->>'escalation_of' USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM trafficking.referral_check_live(p_case, r);
    IF r->>'basis' = 'consent' AND r->>'state' = 'queued' AND NOT EXISTS (
           SELECT 1 FROM trafficking.consents k JOIN casehost.cases c ON c.subject_id = k.person_id
            WHERE c.id = p_case AND k.id = nullif(r->>'consent', '')::bigint
              AND k.revoked_at IS NULL AND k.expires_at > now() AND k.granted_at <= now()
              AND (r->>'destination' = ANY (k.recipients)
                   OR 'kind:' || (r->>'kind') = ANY (k.recipients))) THEN
        RAISE EXCEPTION 'referral to % rests on consent %, which does not cover it',
            r->>'destination', coalesce(r->>'consent', '(none)')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- A submitted screening must use an instrument of the live configuration,
-- answer only its items, and its definition comes from the deployment, not
-- from the caller.
CREATE FUNCTION trafficking.screening_submit(p jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    gen text := trafficking.live_generation();
    i trafficking.live_instruments;
    bad text;
BEGIN
    PERFORM casehost.require_person();
    PERFORM casehost.case_check_v1((p->>'case')::bigint);
    IF p->>'state' NOT IN ('completed', 'stopped', 'declined') THEN
        RAISE EXCEPTION 'a submitted screening is completed, stopped or declined, not %',
            coalesce(p->>'state', '(none)') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF gen IS NULL THEN
        RAISE EXCEPTION 'no trafficking configuration is deployed: no screening can be recorded'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'an admin with the config_admin grant runs: casehost config deploy';
    END IF;
    SELECT * INTO i FROM trafficking.live_instruments
     WHERE generation = gen AND id = p->>'instrument' AND version = (p->>'version')::integer
       AND hash = p->>'hash';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instrument % version % (%) is not in the live configuration',
            p->>'instrument', p->>'version', left(p->>'hash', 12)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT a->>'id' INTO bad FROM jsonb_array_elements(coalesce(p->'answers', '[]')) a
     WHERE NOT (a->>'id' = ANY (i.items))
        OR (a->>'i')::integer IS DISTINCT FROM array_position(i.items, a->>'id') - 1
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'instrument % has no item "%" at that position', i.id, bad
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN trafficking.screening_submit_body(
        p || jsonb_build_object('title', i.title, 'definition', i.definition));
END
$$;

-- A suggestion names an instrument of the live configuration too.
CREATE OR REPLACE FUNCTION trafficking.screening_suggest(p_case bigint, p_instrument text,
                                                         p_trigger text, p_reason text,
                                                         p_due_hours integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_person();
    new_id bigint;
BEGIN
    PERFORM casehost.case_check_v1(p_case);
    IF p_due_hours IS NULL OR p_due_hours NOT BETWEEN 0 AND 8760 THEN
        RAISE EXCEPTION 'a screening is due within 0 to 8760 hours, not %', p_due_hours
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM trafficking.live_instruments
                    WHERE generation = trafficking.live_generation() AND id = p_instrument) THEN
        RAISE EXCEPTION 'instrument "%" is not in the live configuration', p_instrument
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO trafficking.screenings (agency_id, case_id, instrument_id, state, trigger, reason,
                                        due_at, created_by)
    VALUES (me.agency_id, p_case, p_instrument, 'suggested', p_trigger, p_reason,
            now() + make_interval(hours => p_due_hours), me.user_id)
    ON CONFLICT (case_id, instrument_id) WHERE state IN ('suggested', 'in_progress') DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NOT NULL THEN
        INSERT INTO trafficking.screening_history (screening_id, agency_id, actor_id, to_state,
                                                   detail)
        VALUES (new_id, me.agency_id, me.user_id, 'suggested', p_trigger || ': ' || p_reason);
        PERFORM casehost.audit('suggest', 'screening', new_id, p_instrument);
    END IF;
    RETURN new_id;
END
$$;

-- Shared, read-only: what the live configuration allows is no secret.
GRANT SELECT ON trafficking.live_destinations, trafficking.live_rule_targets,
    trafficking.live_instruments TO casehost_app, casehost_service;
GRANT EXECUTE ON FUNCTION trafficking.live_generation(),
    trafficking.live_config_store_v1(text, jsonb), trafficking.screening_submit(jsonb)
    TO casehost_app;
GRANT EXECUTE ON FUNCTION trafficking.live_generation() TO casehost_service;
