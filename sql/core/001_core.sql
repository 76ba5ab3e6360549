-- 001_core.sql: the host's tables. Every row that names a person or a case
-- carries its agency, so row-level security (002) can keep agencies apart.
-- The application role owns nothing here: it gets only the grants in 002.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casehost_app') THEN
        CREATE ROLE casehost_app NOLOGIN;
    END IF;
END
$$;

CREATE TABLE casehost.agencies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL DEFAULT 'other',
    state       text CHECK (state ~ '^[A-Z]{2}$'),
    county      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE casehost.users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    full_name   text,
    role        text NOT NULL CHECK (role IN ('caseworker', 'supervisor', 'admin')),
    agency_id   bigint NOT NULL REFERENCES casehost.agencies(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE casehost.people (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id           bigint NOT NULL REFERENCES casehost.agencies(id),
    given_name          text,
    family_name         text,
    -- Age is known from a date of birth, estimated, or unknown (both NULL).
    date_of_birth       date CHECK (date_of_birth <= current_date),
    estimated_age       integer CHECK (estimated_age BETWEEN 0 AND 120),
    estimated_on        date,
    gender_identity     text,
    language            text,
    interpreter_needed  boolean NOT NULL DEFAULT false,
    created_by          bigint REFERENCES casehost.users(id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (date_of_birth IS NULL OR estimated_age IS NULL),
    CHECK ((estimated_age IS NULL) = (estimated_on IS NULL))
);

CREATE TABLE casehost.cases (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id       bigint NOT NULL REFERENCES casehost.agencies(id),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'in_progress', 'waiting', 'closed')),
    assignee_id     bigint REFERENCES casehost.users(id),
    subject_id      bigint REFERENCES casehost.people(id),
    state           text CHECK (state ~ '^[A-Z]{2}$'),
    county          text,
    runaway_start   timestamptz,
    runaway_return  timestamptz,
    cw_history      boolean NOT NULL DEFAULT false,
    jj_history      boolean NOT NULL DEFAULT false,
    flags           text[] NOT NULL DEFAULT '{}',
    close_reason    text,
    created_by      bigint REFERENCES casehost.users(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz,
    CHECK (runaway_return IS NULL OR runaway_start IS NOT NULL),
    CHECK (runaway_return IS NULL OR runaway_return >= runaway_start),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX cases_agency_status ON casehost.cases (agency_id, status);

CREATE TABLE casehost.notes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id   bigint NOT NULL REFERENCES casehost.agencies(id),
    case_id     bigint NOT NULL REFERENCES casehost.cases(id),
    author_id   bigint NOT NULL REFERENCES casehost.users(id),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_case ON casehost.notes (case_id);

CREATE TABLE casehost.case_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id   bigint NOT NULL REFERENCES casehost.agencies(id),
    case_id     bigint NOT NULL REFERENCES casehost.cases(id),
    actor_id    bigint REFERENCES casehost.users(id),
    field       text NOT NULL,
    old_value   text,
    new_value   text,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_history_case ON casehost.case_history (case_id, id);

-- Append-only: the application role may INSERT and SELECT, never UPDATE or
-- DELETE (002), and a trigger refuses both for everyone else too.
CREATE TABLE casehost.audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     bigint REFERENCES casehost.users(id),
    agency_id    bigint REFERENCES casehost.agencies(id),
    action       text NOT NULL,
    object_type  text NOT NULL,
    object_id    bigint,
    detail       text
);
CREATE INDEX audit_log_agency_at ON casehost.audit_log (agency_id, at);

CREATE FUNCTION casehost.audit_log_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON casehost.audit_log FOR EACH STATEMENT EXECUTE FUNCTION casehost.audit_log_immutable();
