-- The contract test plugin's table: one row per hook call, written in the
-- transaction of the change that fired it.
CREATE SCHEMA testplug;
CREATE TABLE testplug.events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint REFERENCES casehost.cases(id),
    hook        text NOT NULL,
    event       text NOT NULL,
    detail      text,
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
GRANT USAGE ON SCHEMA testplug TO casehost_app;
GRANT SELECT, INSERT ON testplug.events TO casehost_app;
