-- 002_referrals.sql: consent, safe contact, routing decisions (with their
-- input facts and traces), referrals with their lifecycle, and the outbox
-- through which alone a referral leaves. Every row carries its agency for
-- row-level security.

-- Consent is an object, not a flag: purpose, recipients, time limits,
-- revocation, legal regime and who recorded it.
CREATE TABLE trafficking.consents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id     bigint NOT NULL REFERENCES casehost.agencies(id),
    person_id     bigint NOT NULL REFERENCES casehost.people(id),
    purpose       text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
    -- destination ids, or destination kinds written as 'kind:child_welfare'
    recipients    text[] NOT NULL CHECK (cardinality(recipients) > 0),
    legal_regime  text NOT NULL CHECK (legal_regime IN ('vawa_voca', 'hipaa', 'part2',
                                                        'state_law', 'other')),
    written       boolean NOT NULL DEFAULT true,
    granted_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text,
    recorded_by   bigint NOT NULL REFERENCES casehost.users(id),
    note          text,
    CHECK (expires_at > granted_at)
);
CREATE INDEX consents_person ON trafficking.consents (person_id);

-- How a person may be reached safely. A referral payload never carries a
-- channel marked unsafe, and nothing is sent when contact is forbidden.
CREATE TABLE trafficking.safe_contact (
    person_id                  bigint PRIMARY KEY REFERENCES casehost.people(id),
    agency_id                  bigint NOT NULL REFERENCES casehost.agencies(id),
    safe_channels              text[] NOT NULL DEFAULT '{}',
    safe_times                 text,
    phone                      text,
    email                      text,
    code_word                  text,
    do_not_contact             boolean NOT NULL DEFAULT false,
    trafficker_controls_phone  boolean NOT NULL DEFAULT false,
    updated_by                 bigint REFERENCES casehost.users(id),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);

-- Every routing decision, with what it saw and why it chose.
CREATE TABLE trafficking.decisions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id    bigint NOT NULL REFERENCES casehost.agencies(id),
    case_id      bigint NOT NULL REFERENCES casehost.cases(id),
    screening_id bigint REFERENCES trafficking.screenings(id),
    cause        text NOT NULL,       -- screening_completed, case_updated, tick, manual
    config_hash  text NOT NULL,
    input        jsonb NOT NULL,      -- the facts, as routing saw them
    rules        jsonb NOT NULL,      -- every rule evaluated: result and trace
    outcome      jsonb NOT NULL,      -- referrals and destinations not used, with reasons
    decided_by   bigint REFERENCES casehost.users(id),
    decided_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_case ON trafficking.decisions (case_id, id);

CREATE TABLE trafficking.referrals (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id         bigint NOT NULL REFERENCES casehost.agencies(id),
    case_id           bigint NOT NULL REFERENCES casehost.cases(id),
    decision_id       bigint REFERENCES trafficking.decisions(id),
    destination_id    text NOT NULL,
    destination_kind  text NOT NULL,
    rule              text NOT NULL,
    basis             text NOT NULL CHECK (basis IN ('consent', 'mandatory_report',
                                                     'imminent_danger')),
    consent_id        bigint REFERENCES trafficking.consents(id),
    urgency           text NOT NULL,
    due_at            timestamptz NOT NULL,
    ack_sla_hours     integer NOT NULL CHECK (ack_sla_hours > 0),
    state             text NOT NULL CHECK (state IN ('pending_consent', 'queued', 'sent',
                                                     'acknowledged', 'accepted', 'rejected',
                                                     'closed', 'revoked')),
    fields            text[] NOT NULL,
    reason            text,           -- of a rejection or revocation
    outcome           text,           -- when closed
    reference         text,           -- the recipient's reference number
    follow_up_owner   bigint REFERENCES casehost.users(id),
    escalation_of     bigint REFERENCES trafficking.referrals(id),
    escalated_at      timestamptz,
    sent_at           timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    idempotency_key   text NOT NULL UNIQUE,
    CHECK (basis <> 'consent' OR consent_id IS NOT NULL OR state = 'pending_consent'
           OR state = 'revoked')
);
-- One open referral per case and destination: routing again never doubles one.
CREATE UNIQUE INDEX referrals_one_open ON trafficking.referrals (case_id, destination_id)
    WHERE state NOT IN ('rejected', 'closed', 'revoked');
CREATE INDEX referrals_ack_due ON trafficking.referrals (agency_id, sent_at)
    WHERE state = 'sent' AND escalated_at IS NULL;

CREATE TABLE trafficking.referral_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referral_id  bigint NOT NULL REFERENCES trafficking.referrals(id),
    agency_id    bigint NOT NULL REFERENCES casehost.agencies(id),
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     bigint REFERENCES casehost.users(id),
    from_state   text,
    to_state     text NOT NULL,
    detail       text
);
CREATE INDEX referral_history_referral ON trafficking.referral_history (referral_id);

-- The only way out. Written in the decision's transaction; a dispatcher
-- takes rows with FOR UPDATE SKIP LOCKED and sends each with its key.
CREATE TABLE trafficking.outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id        bigint NOT NULL REFERENCES casehost.agencies(id),
    referral_id      bigint NOT NULL UNIQUE REFERENCES trafficking.referrals(id),
    destination_id   text NOT NULL,
    payload          jsonb NOT NULL,
    idempotency_key  text NOT NULL UNIQUE,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sent', 'held', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_ready ON trafficking.outbox (next_attempt_at) WHERE state = 'pending';

SELECT casehost.agency_rls('trafficking', ARRAY['consents', 'safe_contact', 'decisions', 'referrals',
                                                 'referral_history', 'outbox']);

GRANT SELECT, INSERT, UPDATE ON trafficking.consents, trafficking.safe_contact,
    trafficking.referrals, trafficking.outbox TO casehost_app;
GRANT SELECT, INSERT ON trafficking.decisions, trafficking.referral_history TO casehost_app;

-- The referral lifecycle. Any move not listed is refused with a message that
-- names the referral, its state and the moves it allows.
CREATE FUNCTION trafficking.referral_moves(p_state text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_state
        WHEN 'pending_consent' THEN ARRAY['queued', 'revoked']
        WHEN 'queued'          THEN ARRAY['sent', 'revoked']
        WHEN 'sent'            THEN ARRAY['acknowledged', 'revoked']
        WHEN 'acknowledged'    THEN ARRAY['accepted', 'rejected', 'revoked']
        WHEN 'accepted'        THEN ARRAY['closed', 'revoked']
        WHEN 'rejected'        THEN ARRAY['closed']
        ELSE ARRAY[]::text[]
    END
$$;

CREATE FUNCTION trafficking.referral_move(p_id bigint, p_to text, p_detail text)
RETURNS trafficking.referrals
LANGUAGE plpgsql AS $$
DECLARE
    r trafficking.referrals;
    prev text;
    allowed text[];
BEGIN
    SELECT * INTO r FROM trafficking.referrals WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'referral % not found', p_id USING ERRCODE = 'no_data_found';
    END IF;
    prev := r.state;
    allowed := trafficking.referral_moves(r.state);
    IF NOT (p_to = ANY (allowed)) THEN
        RAISE EXCEPTION 'referral % is %: it cannot become %', p_id, r.state, p_to
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = CASE WHEN cardinality(allowed) = 0
                              THEN 'a ' || r.state || ' referral is final'
                              ELSE 'allowed from ' || r.state || ': '
                                   || array_to_string(allowed, ', ') END;
    END IF;
    UPDATE trafficking.referrals
       SET state = p_to, updated_at = now(),
           reason = CASE WHEN p_to IN ('rejected', 'revoked') THEN p_detail ELSE reason END,
           outcome = CASE WHEN p_to = 'closed' THEN p_detail ELSE outcome END,
           sent_at = CASE WHEN p_to = 'sent' THEN now() ELSE sent_at END
     WHERE id = p_id RETURNING * INTO r;
    INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                              to_state, detail)
    VALUES (p_id, r.agency_id, casehost.current_actor(), prev, p_to, p_detail);
    -- A referral that will not be sent holds its outbox row.
    IF p_to = 'revoked' THEN
        UPDATE trafficking.outbox SET state = 'held', last_error = 'referral revoked'
         WHERE referral_id = p_id AND state = 'pending';
    END IF;
    PERFORM casehost.audit(p_to, 'referral', p_id, p_detail);
    RETURN r;
END
$$;
