-- 016_bridge_rt_writeback.sql: what a help desk linked to a case may be
-- told, and the outbox that tells it.
--
-- A plugin publishes neutral words about a case (plugin SQL surface v3,
-- case_external_status_v1): a status ("Assessment: done", "Follow-up: 2
-- open") and, when something needs the caseworker, an attention line
-- ("action needed by 2026-12-02 14:00 MST"). The words are kept only for
-- cases that carry an external reference (a help-desk ticket), and only
-- when they change; then each ticket of the case gets an outbox row in the
-- same transaction as the change. `casehost bridge rt` claims those rows
-- (a lease, never a lock held over the network), sets RT's custom fields
-- through REST2 and marks them sent. The words never name a person, an
-- answer, an indicator or what the assessment is about: the host refuses
-- anything but short plain words.

-- Words a help desk may be told: short, plain, and none of the words that
-- would say what the assessment is about.
CREATE FUNCTION casehost.neutral_words(p text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT p IS NULL OR (length(p) <= 100 AND p ~ '^[A-Za-z0-9 :;,.()/+-]+$'
                         AND p !~* '(traffick|exploit|sex|abuse|victim|rape|porn|groom)')
$$;

CREATE TABLE casehost.case_external_status (
    case_id     bigint NOT NULL REFERENCES casehost.cases(id),
    agency_id   bigint NOT NULL REFERENCES casehost.agencies(id),
    source      text NOT NULL CHECK (source ~ '^[a-z][a-z0-9_]{0,31}$'),
    status      text CHECK (casehost.neutral_words(status)),
    attention   text CHECK (casehost.neutral_words(attention)),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, source)
);

-- One row per write a ticket is owed. comment: a pointer comment to post
-- with it (NULL: the custom fields only). The status itself is read when
-- the row is claimed (the case's words then), so an older row never sets an
-- older status after a newer one. superseded: a fields-only row a later row
-- of the same ticket made needless.
CREATE TABLE casehost.bridge_rt_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id       bigint NOT NULL REFERENCES casehost.agencies(id),
    instance        text NOT NULL,
    ticket_id       bigint NOT NULL CHECK (ticket_id > 0),
    case_id         bigint NOT NULL REFERENCES casehost.cases(id),
    comment         text,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'superseded')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bridge_rt_outbox_ready ON casehost.bridge_rt_outbox (agency_id, instance, id)
    WHERE state = 'pending';
CREATE INDEX bridge_rt_outbox_sent ON casehost.bridge_rt_outbox (agency_id, instance, sent_at)
    WHERE state = 'sent';

SELECT casehost.agency_rls('casehost', ARRAY['case_external_status', 'bridge_rt_outbox']);

-- The case's words for a help desk: every source's status, in source order.
CREATE FUNCTION casehost.case_external_words(p_case bigint) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(status, '; ' ORDER BY source) FROM casehost.case_external_status
     WHERE case_id = p_case AND status IS NOT NULL
$$;

-- Owes every ticket of the case (its own tickets, not those merged into it)
-- a write; p_ticket narrows it to one.
CREATE FUNCTION casehost.bridge_rt_owe(p_case bigint, p_ticket bigint, p_comment text)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO casehost.bridge_rt_outbox (agency_id, instance, ticket_id, case_id, comment)
    SELECT t.agency_id, t.instance, t.ticket_id, t.case_id, p_comment
      FROM casehost.bridge_rt_tickets t
     WHERE t.case_id = p_case AND t.merged_into IS NULL
       AND (p_ticket IS NULL OR t.ticket_id = p_ticket)
$$;

-- Plugin SQL surface v3: whether anyone outside may be told about the case
-- (it has an external reference), so a plugin computes words only then.
-- Asked for every screening and referral row written: PL/pgSQL, so its
-- query is planned once per session (a SQL function with its own
-- search_path is planned on every call: 0.14 ms against 0.02).
CREATE FUNCTION casehost.case_is_external_v1(p_case bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM casehost.cases
                    WHERE id = p_case AND external_system IS NOT NULL);
END
$$;

-- Plugin SQL surface v3. Called from a plugin's own SECURITY DEFINER code
-- (in the transaction of the change); granted to no role. Nothing happens
-- for a case without an external reference or when the words are the ones
-- already published. A new attention line also owes a pointer comment.
CREATE FUNCTION casehost.case_external_status_v1(p_case bigint, p_source text, p_status text,
                                                 p_attention text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c casehost.cases;
    old casehost.case_external_status;
    w text;
BEGIN
    SELECT * INTO c FROM casehost.cases WHERE id = p_case;
    IF NOT FOUND OR c.external_system IS NULL THEN
        RETURN;
    END IF;
    FOREACH w IN ARRAY ARRAY[p_status, p_attention] LOOP
        IF NOT casehost.neutral_words(w) THEN
            RAISE EXCEPTION 'words for a help desk must be short and neutral: "%"', w
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    SELECT * INTO old FROM casehost.case_external_status
     WHERE case_id = p_case AND source = p_source FOR UPDATE;
    IF FOUND AND old.status IS NOT DISTINCT FROM p_status
       AND old.attention IS NOT DISTINCT FROM p_attention THEN
        RETURN;
    END IF;
    INSERT INTO casehost.case_external_status (case_id, agency_id, source, status, attention)
    VALUES (p_case, c.agency_id, p_source, p_status, p_attention)
    ON CONFLICT (case_id, source) DO UPDATE
       SET status = EXCLUDED.status, attention = EXCLUDED.attention, updated_at = now();
    PERFORM casehost.bridge_rt_owe(p_case, NULL,
        CASE WHEN p_attention IS NOT NULL AND p_attention IS DISTINCT FROM old.attention
             THEN p_attention || ': open casehost case ' || p_case END);
END
$$;

-- A ticket that becomes a case's own is owed its fields (the link to the
-- case's page, and the words published so far).
CREATE FUNCTION casehost.bridge_rt_tickets_owe() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.merged_into IS NULL AND (TG_OP = 'INSERT' OR OLD.merged_into IS NOT NULL
                                    OR OLD.case_id <> NEW.case_id) THEN
        PERFORM casehost.bridge_rt_owe(NEW.case_id, NEW.ticket_id, NULL);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER bridge_rt_tickets_owe AFTER INSERT OR UPDATE ON casehost.bridge_rt_tickets
    FOR EACH ROW EXECUTE FUNCTION casehost.bridge_rt_tickets_owe();

-- Claims up to p_limit writes of this agency's instance for p_lease_seconds
-- (a crashed bridge's claims come back then), oldest first, within the
-- rate limits: at most p_per_minute sent in any minute, p_per_ticket_hour
-- to a ticket in any hour (the rest wait; nothing is dropped). Each row
-- carries the case's words as they are now.
CREATE FUNCTION casehost.bridge_rt_claim_v1(p_instance text, p_limit integer,
                                            p_lease_seconds integer, p_per_minute integer,
                                            p_per_ticket_hour integer)
RETURNS TABLE (id bigint, ticket_id bigint, case_id bigint, status text, comment text,
               attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.bridge_rt_require();
    budget integer;
BEGIN
    IF p_limit < 1 OR p_lease_seconds < 1 OR p_per_minute < 1 OR p_per_ticket_hour < 1 THEN
        RAISE EXCEPTION 'claim limits must be positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE casehost.bridge_rt_outbox o SET state = 'superseded'
     WHERE o.agency_id = me.agency_id AND o.instance = p_instance AND o.state = 'pending'
       AND o.comment IS NULL AND o.next_attempt_at <= now()
       AND EXISTS (SELECT 1 FROM casehost.bridge_rt_outbox l
                    WHERE l.agency_id = o.agency_id AND l.instance = o.instance
                      AND l.ticket_id = o.ticket_id AND l.state = 'pending' AND l.id > o.id);
    SELECT p_per_minute - count(*) INTO budget FROM casehost.bridge_rt_outbox s
     WHERE s.agency_id = me.agency_id AND s.instance = p_instance AND s.state = 'sent'
       AND s.sent_at > now() - interval '1 minute';
    RETURN QUERY
    WITH pick AS (
        SELECT o.id FROM casehost.bridge_rt_outbox o
         WHERE o.agency_id = me.agency_id AND o.instance = p_instance AND o.state = 'pending'
           AND o.next_attempt_at <= now()
           AND (SELECT count(*) FROM casehost.bridge_rt_outbox s
                 WHERE s.agency_id = o.agency_id AND s.instance = o.instance
                   AND s.ticket_id = o.ticket_id AND s.state = 'sent'
                   AND s.sent_at > now() - interval '1 hour') < p_per_ticket_hour
         ORDER BY o.id LIMIT greatest(least(p_limit, budget), 0)
         FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE casehost.bridge_rt_outbox o
           SET attempts = o.attempts + 1,
               next_attempt_at = now() + make_interval(secs => p_lease_seconds)
          FROM pick WHERE o.id = pick.id
        RETURNING o.id, o.ticket_id, o.case_id, o.comment, o.attempts)
    SELECT c.id, c.ticket_id, c.case_id, casehost.case_external_words(c.case_id), c.comment,
           c.attempts
      FROM claimed c ORDER BY c.id;
END
$$;

-- A claimed write RT took: sent, audited (ticket and what was set, never
-- the words' case facts).
CREATE FUNCTION casehost.bridge_rt_sent_v1(p_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.bridge_rt_require();
    o casehost.bridge_rt_outbox;
BEGIN
    UPDATE casehost.bridge_rt_outbox SET state = 'sent', sent_at = now(), last_error = NULL
     WHERE id = p_id AND agency_id = me.agency_id AND state IN ('pending', 'superseded')
    RETURNING * INTO o;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no unsent write % of this agency', p_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM casehost.audit('bridge_write', 'case', o.case_id,
                           format('%s ticket %s: custom fields%s (write %s, attempt %s)',
                                  o.instance, o.ticket_id,
                                  CASE WHEN o.comment IS NULL THEN '' ELSE ' and a comment' END,
                                  o.id, o.attempts));
END
$$;

-- A claimed write that failed: tried again after p_delay_seconds; the
-- error is kept (and shown by bridge_rt_pending_v1) and audited.
CREATE FUNCTION casehost.bridge_rt_retry_v1(p_id bigint, p_error text, p_delay_seconds integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.bridge_rt_require();
    o casehost.bridge_rt_outbox;
BEGIN
    UPDATE casehost.bridge_rt_outbox
       SET last_error = left(p_error, 500),
           next_attempt_at = now() + make_interval(secs => greatest(p_delay_seconds, 1))
     WHERE id = p_id AND agency_id = me.agency_id AND state = 'pending'
    RETURNING * INTO o;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no pending write % of this agency', p_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM casehost.audit('bridge_write_failed', 'case', o.case_id,
                           format('%s ticket %s (write %s, attempt %s): %s', o.instance,
                                  o.ticket_id, o.id, o.attempts, left(p_error, 200)));
END
$$;

-- What is owed: pending writes, the age of the oldest, and its last error.
CREATE FUNCTION casehost.bridge_rt_pending_v1(p_instance text,
    OUT pending bigint, OUT oldest_seconds bigint, OUT last_error text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*),
           extract(epoch FROM now() - min(o.created_at))::bigint,
           (array_agg(o.last_error ORDER BY o.id) FILTER (WHERE o.last_error IS NOT NULL))[1]
      FROM casehost.bridge_rt_outbox o
     WHERE o.agency_id = (casehost.bridge_rt_require()).agency_id AND o.instance = p_instance
       AND o.state = 'pending'
$$;

-- How many comments were sent to the tickets of the case: the bridge
-- compares it with the comments RT holds before posting one again.
CREATE FUNCTION casehost.bridge_rt_comments_sent_v1(p_instance text, p_case bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM casehost.bridge_rt_outbox o
     WHERE o.agency_id = (casehost.bridge_rt_require()).agency_id AND o.instance = p_instance
       AND o.case_id = p_case AND o.comment IS NOT NULL AND o.state = 'sent'
$$;

REVOKE ALL ON FUNCTION casehost.case_external_words(bigint), casehost.case_is_external_v1(bigint),
    casehost.bridge_rt_owe(bigint, bigint, text),
    casehost.case_external_status_v1(bigint, text, text, text),
    casehost.bridge_rt_tickets_owe(),
    casehost.bridge_rt_claim_v1(text, integer, integer, integer, integer),
    casehost.bridge_rt_sent_v1(bigint), casehost.bridge_rt_retry_v1(bigint, text, integer),
    casehost.bridge_rt_pending_v1(text), casehost.bridge_rt_comments_sent_v1(text, bigint)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION casehost.bridge_rt_claim_v1(text, integer, integer, integer, integer),
    casehost.bridge_rt_sent_v1(bigint), casehost.bridge_rt_retry_v1(bigint, text, integer),
    casehost.bridge_rt_pending_v1(text), casehost.bridge_rt_comments_sent_v1(text, bigint)
    TO casehost_service;
