-- 014_notifications.sql: people are told. A referral whose delivery failed
-- for good, a held one, an escalation (with a target or, above all, without
-- one) and an overdue acknowledgement queue a notice to the case's assignee
-- (and the agency's supervisors for a mandatory report, an imminent danger,
-- or an escalation nobody else receives). Notices leave through the same
-- dispatcher as referrals, with the same claim, lease and wake-up, to the
-- agency's channel named in the plugin settings (`notify`). A notice names
-- the referral, the case, the destination and what a person must do; never
-- the person's name, answers or contact details, and never free text a person
-- typed (a revocation reason could hold any of those). Dispatchers also
-- record when they last ran and sent, for `dispatch --health`.
-- It never edits an older migration: functions are replaced whole.

-- ------------------------------------------------------------- tables ---

-- One notice per event, to its recipients (users of the referral's agency,
-- named by login: staff, never the person the case is about). The payload
-- is frozen when queued: it holds nothing that could go stale or be private.
CREATE TABLE trafficking.notices (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id        bigint NOT NULL REFERENCES casehost.agencies(id),
    referral_id      bigint NOT NULL REFERENCES trafficking.referrals(id),
    case_id          bigint NOT NULL REFERENCES casehost.cases(id),
    kind             text NOT NULL CHECK (kind IN ('delivery_failed', 'held', 'not_sent',
                                                   'ack_overdue', 'escalation')),
    recipients       bigint[] NOT NULL,
    payload          jsonb NOT NULL,
    idempotency_key  text NOT NULL UNIQUE,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    claimed_until    timestamptz,
    claim_token      uuid,
    last_error       text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notices_ready ON trafficking.notices (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notices_referral ON trafficking.notices (referral_id);

-- One row per dispatcher (agency, worker name): when it last completed a
-- cycle without error and last sent something. `dispatch --health` reads it.
CREATE TABLE trafficking.dispatch_workers (
    agency_id      bigint NOT NULL REFERENCES casehost.agencies(id),
    worker         text NOT NULL CHECK (worker ~ '^[A-Za-z0-9._:@-]{1,100}$'),
    pid            integer,
    started_at     timestamptz,
    last_ok_at     timestamptz,
    last_sent_at   timestamptz,
    sent_total     bigint NOT NULL DEFAULT 0,
    last_error     text,
    last_error_at  timestamptz,
    stopped_at     timestamptz,
    PRIMARY KEY (agency_id, worker)
);

SELECT casehost.agency_rls('trafficking', ARRAY['notices', 'dispatch_workers']);

-- What was said to whom is no secret to the agency's people: no payload is
-- personal. The dispatcher's table is read only through dispatch_health_v1.
GRANT SELECT ON trafficking.notices TO casehost_app;

-- ----------------------------------------------------------- queueing ---

-- Queues one notice about referral r. The recipients: the case's assignee
-- (else the referral's follow-up owner), and the agency's supervisors when
-- p_supervisors or when there is no assignee; admins when nobody else is
-- left. Internal: no grants; it runs inside the functions and triggers below.
CREATE FUNCTION trafficking.notice_queue(r trafficking.referrals, p_kind text, p_subject text,
                                         p_action text, p_supervisors boolean, p_extra jsonb)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    assignee bigint;
    who bigint[];
    dest jsonb;
    k text := 'notice-' || gen_random_uuid();
    new_id bigint;
BEGIN
    SELECT coalesce(c.assignee_id, r.follow_up_owner) INTO assignee
      FROM casehost.plugin_case_v1 c WHERE c.id = r.case_id;
    assignee := coalesce(assignee, r.follow_up_owner);
    who := CASE WHEN assignee IS NULL THEN ARRAY[]::bigint[] ELSE ARRAY[assignee] END;
    IF p_supervisors OR assignee IS NULL THEN
        who := who || ARRAY(SELECT u.id FROM casehost.plugin_user_v1 u
                             WHERE u.agency_id = r.agency_id AND u.role = 'supervisor'
                               AND u.id IS DISTINCT FROM assignee ORDER BY u.id);
    END IF;
    IF cardinality(who) = 0 THEN
        who := ARRAY(SELECT u.id FROM casehost.plugin_user_v1 u
                      WHERE u.agency_id = r.agency_id AND u.role = 'admin' ORDER BY u.id);
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'user', u.name,
               'as', CASE WHEN u.id = assignee THEN 'assignee' ELSE u.role END)
               ORDER BY u.id = assignee DESC, u.id), '[]'::jsonb)
      INTO dest
      FROM casehost.plugin_user_v1 u WHERE u.id = ANY (who);
    INSERT INTO trafficking.notices (agency_id, referral_id, case_id, kind, recipients, payload,
                                     idempotency_key)
    VALUES (r.agency_id, r.id, r.case_id, p_kind, who,
            jsonb_build_object('notice', k, 'kind', p_kind,
                               'agency', (SELECT a.name FROM casehost.plugin_agency_v1 a
                                           WHERE a.id = r.agency_id),
                               'referral', r.id, 'case', r.case_id,
                               'destination', r.destination_id, 'basis', r.basis,
                               'to', dest, 'subject', p_subject, 'action', p_action,
                               'queued_at', to_char(now() AT TIME ZONE 'UTC',
                                                    'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
            || coalesce(p_extra, '{}'::jsonb),
            k)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Whether a referral's basis puts the supervisors on its notices.
CREATE FUNCTION trafficking.notice_to_supervisors(r trafficking.referrals) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.basis IN ('mandatory_report', 'imminent_danger')
$$;

-- A delivery that failed for good (outbox_failed_v2 moved the referral).
-- The transport's error stays on the referral: it is for the person who
-- looks it up, not for a message that travels.
CREATE FUNCTION trafficking.notice_on_referral() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tries integer;
    mandatory boolean := trafficking.notice_to_supervisors(NEW);
BEGIN
    SELECT o.attempts INTO tries FROM trafficking.outbox o WHERE o.referral_id = NEW.id;
    PERFORM trafficking.notice_queue(
        NEW, 'delivery_failed',
        format('%s %s (case %s) could not be delivered to %s',
               CASE WHEN mandatory THEN 'mandatory report' ELSE 'referral' END,
               NEW.id, NEW.case_id, NEW.destination_id),
        CASE WHEN mandatory
             THEN format('call %s now and make the report by phone: its delivery failed after '
                         '%s attempts. Then note it on case %s; `casehost referral show %s` says '
                         'why, and `casehost referral retry %s` sends it again once the channel '
                         'works (same key, the receiver keeps one)',
                         NEW.destination_id, coalesce(tries, 0), NEW.case_id, NEW.id, NEW.id)
             ELSE format('contact %s: the referral was not delivered after %s attempts. '
                         '`casehost referral show %s` says why; `casehost referral retry %s` '
                         'sends it again', NEW.destination_id, coalesce(tries, 0), NEW.id, NEW.id)
        END,
        mandatory, jsonb_build_object('attempts', coalesce(tries, 0)));
    RETURN NULL;
END
$$;
CREATE TRIGGER referral_delivery_failed_notice AFTER UPDATE OF state ON trafficking.referrals
    FOR EACH ROW WHEN (NEW.state = 'delivery_failed' AND OLD.state IS DISTINCT FROM 'delivery_failed')
    EXECUTE FUNCTION trafficking.notice_on_referral();

-- An outbox row held by the dispatcher's check: 'held' (safe contact: the
-- referral stays queued) or 'not_sent' (consent or a decline: revoked). A
-- row held because a person withdrew the referral tells nobody: they know.
CREATE FUNCTION trafficking.notice_on_hold() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r trafficking.referrals;
BEGIN
    SELECT * INTO r FROM trafficking.referrals x WHERE x.id = NEW.referral_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF r.state = 'queued' THEN
        PERFORM trafficking.notice_queue(
            r, 'held',
            format('referral %s (case %s) to %s is held: it was not sent', r.id, r.case_id,
                   r.destination_id),
            format('review the safe-contact plan on case %s: %s contacts the person and the plan '
                   'no longer allows it (do not contact, or no safe channel left). Once it is '
                   'safe, `casehost referral retry %s` sends it; otherwise withdraw it',
                   r.case_id, r.destination_id, r.id),
            trafficking.notice_to_supervisors(r), NULL);
    ELSE
        PERFORM trafficking.notice_queue(
            r, 'not_sent',
            format('referral %s (case %s) to %s was not sent and is now %s', r.id, r.case_id,
                   r.destination_id, r.state),
            format('nothing left: its consent or a decline no longer allows it (`casehost '
                   'referral show %s` says which). If the person still wants it, record a new '
                   'consent on case %s and refer again', r.id, r.case_id),
            trafficking.notice_to_supervisors(r), NULL);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_held_notice AFTER UPDATE OF state, last_error ON trafficking.outbox
    FOR EACH ROW WHEN (NEW.state = 'held'
                       AND (OLD.state IS DISTINCT FROM 'held'
                            OR OLD.last_error IS DISTINCT FROM NEW.last_error)
                       AND NEW.last_error IS DISTINCT FROM 'referral revoked')
    EXECUTE FUNCTION trafficking.notice_on_hold();

-- A notice ready to leave wakes the dispatchers like a referral does.
CREATE TRIGGER notice_ready_notify AFTER INSERT OR UPDATE OF state ON trafficking.notices
    FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION trafficking.outbox_notify();

-- As 004's, and every escalation tells people: the assignee, and the
-- supervisors for a mandatory report, an imminent danger or an escalation
-- with no target (nobody else is told then: never a silent state change).
CREATE OR REPLACE FUNCTION trafficking.referral_escalate_v1(p_referral bigint, p_detail text,
                                                            p_target jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r trafficking.referrals;
    covered boolean;
    t jsonb;
    new_id bigint;
    failed boolean;
    what text;
    target text := p_target->>'destination';
BEGIN
    PERFORM trafficking.require_service();
    SELECT * INTO r FROM trafficking.referrals WHERE id = p_referral;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'referral % not found', p_referral USING ERRCODE = 'no_data_found';
    END IF;
    IF r.escalated_at IS NULL THEN
        RAISE EXCEPTION 'referral % was not claimed for escalation', p_referral
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    INSERT INTO trafficking.referral_history (referral_id, agency_id, actor_id, from_state,
                                              to_state, detail)
    VALUES (r.id, r.agency_id, casehost.current_actor(), r.state, r.state, p_detail);
    IF p_target IS NOT NULL THEN
        covered := r.basis <> 'consent' OR EXISTS (
            SELECT 1 FROM trafficking.consents k
             WHERE k.id = r.consent_id AND k.revoked_at IS NULL AND k.expires_at > now()
               AND (p_target->>'destination' = ANY (k.recipients)
                    OR 'kind:' || (p_target->>'kind') = ANY (k.recipients)));
        t := p_target || jsonb_build_object(
            'rule', 'escalation', 'basis', r.basis,
            'consent', CASE WHEN covered THEN coalesce(r.consent_id, 0) ELSE 0 END,
            'state', CASE WHEN covered THEN 'queued' ELSE 'pending_consent' END,
            'escalation_of', r.id);
        PERFORM trafficking.referral_check(r.case_id, t);
        new_id := trafficking.referral_create(r.case_id, NULL, t);
    END IF;
    failed := r.state = 'delivery_failed';
    what := CASE WHEN failed AND r.basis = 'mandatory_report' THEN 'mandatory report'
                 ELSE 'referral' END;
    PERFORM trafficking.notice_queue(
        r, CASE WHEN failed THEN 'escalation' ELSE 'ack_overdue' END,
        CASE WHEN failed
             THEN format('%s %s (case %s) could not be delivered to %s: %s', what, r.id,
                         r.case_id, r.destination_id,
                         CASE WHEN new_id IS NULL THEN 'no escalation target'
                              ELSE 'escalated to ' || target END)
             ELSE format('referral %s (case %s) to %s was not acknowledged within %s h: %s',
                         r.id, r.case_id, r.destination_id, r.ack_sla_hours,
                         CASE WHEN new_id IS NULL THEN 'no escalation target'
                              ELSE 'escalated to ' || target END)
        END,
        CASE WHEN new_id IS NULL AND failed
             THEN format('a supervisor must call %s now and make the report by phone: nobody '
                         'else has been told (%s has no escalation target). Then note it on '
                         'case %s', r.destination_id, r.destination_id, r.case_id)
             WHEN new_id IS NULL
             THEN format('a supervisor must follow up with %s by phone now: nobody else has '
                         'been told (%s has no escalation target)', r.destination_id,
                         r.destination_id)
             WHEN failed
             THEN format('make sure %s receives referral %s now (call them), and call %s: its '
                         'channel is down', target, new_id, r.destination_id)
             ELSE format('follow up with %s; referral %s to %s was made in its place', r.destination_id,
                         new_id, target)
        END,
        trafficking.notice_to_supervisors(r) OR new_id IS NULL,
        jsonb_build_object('escalated_to', target, 'escalation_referral', new_id));
    RETURN new_id;
END
$$;

-- ------------------------------------------------------------ sending ---

-- Claims the oldest ready notice of the caller's agency for p_lease_ms
-- (SKIP LOCKED: dispatchers take disjoint rows), as outbox_claim_v1 does for
-- referrals; the caller sends after this committed and records the outcome
-- with the claim.
CREATE FUNCTION trafficking.notice_claim_v1(p_lease_ms bigint)
RETURNS TABLE (id bigint, referral_id bigint, kind text, payload text, idempotency_key text,
               attempts integer, claim text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n trafficking.notices;
    token uuid := gen_random_uuid();
BEGIN
    PERFORM trafficking.require_service();
    SELECT x.* INTO n FROM trafficking.notices x
     WHERE x.state = 'pending' AND x.next_attempt_at <= now()
       AND (x.claimed_until IS NULL OR x.claimed_until <= clock_timestamp())
     ORDER BY x.next_attempt_at, x.id LIMIT 1
       FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE trafficking.notices x
       SET claimed_until = clock_timestamp()
                           + greatest(1000, least(p_lease_ms, 86400000)) * interval '1 millisecond',
           claim_token = token
     WHERE x.id = n.id;
    RETURN QUERY SELECT n.id, n.referral_id, n.kind, n.payload::text, n.idempotency_key,
                        n.attempts, token::text;
END
$$;

-- The notice p_notice locked, if claim p_claim is still its lease; NULL otherwise.
CREATE FUNCTION trafficking.notice_leased(p_notice bigint, p_claim text) RETURNS trafficking.notices
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n trafficking.notices;
BEGIN
    SELECT * INTO n FROM trafficking.notices x WHERE x.id = p_notice FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'notice % not found', p_notice USING ERRCODE = 'no_data_found';
    END IF;
    IF n.claim_token IS NULL OR n.claim_token::text IS DISTINCT FROM p_claim THEN
        RETURN NULL;
    END IF;
    RETURN n;
END
$$;

-- The outcome of a claimed notice: p_outcome 'sent', 'retry' (after
-- p_delay_ms) or 'failed' (for good: the dispatcher logs it at error level;
-- nothing notifies about a notice). false: the lease was lost, nothing recorded.
CREATE FUNCTION trafficking.notice_done_v1(p_notice bigint, p_claim text, p_outcome text,
                                           p_error text, p_delay_ms bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n trafficking.notices;
BEGIN
    PERFORM trafficking.require_service();
    IF p_outcome IS NULL OR p_outcome NOT IN ('sent', 'retry', 'failed') THEN
        RAISE EXCEPTION 'unknown notice outcome "%"', p_outcome
            USING ERRCODE = 'invalid_parameter_value', HINT = 'sent, retry or failed';
    END IF;
    n := trafficking.notice_leased(p_notice, p_claim);
    IF n.id IS NULL THEN
        RETURN false;
    END IF;
    UPDATE trafficking.notices x
       SET state = CASE p_outcome WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed'
                                  ELSE 'pending' END,
           attempts = x.attempts + 1,
           sent_at = CASE WHEN p_outcome = 'sent' THEN now() ELSE x.sent_at END,
           last_error = CASE WHEN p_outcome = 'sent' THEN NULL ELSE left(p_error, 600) END,
           next_attempt_at = CASE WHEN p_outcome = 'retry'
                                  THEN clock_timestamp() + greatest(0, least(p_delay_ms, 86400000))
                                                           * interval '1 millisecond'
                                  ELSE x.next_attempt_at END,
           claimed_until = NULL, claim_token = NULL
     WHERE x.id = n.id;
    RETURN true;
END
$$;

-- Gives a claimed row back at once (a dispatcher stopping before or while
-- it sends: the attempt is not counted, and another worker need not wait
-- for the lease to run out). p_what: 'outbox' or 'notice'. false when the
-- lease was no longer the caller's.
CREATE FUNCTION trafficking.dispatch_release_v1(p_what text, p_id bigint, p_claim text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o trafficking.outbox;
    n trafficking.notices;
BEGIN
    PERFORM trafficking.require_service();
    IF p_what = 'outbox' THEN
        o := trafficking.outbox_leased(p_id, p_claim);
        IF o.id IS NULL THEN
            RETURN false;
        END IF;
        UPDATE trafficking.outbox x SET claimed_until = NULL, claim_token = NULL WHERE x.id = o.id;
    ELSIF p_what = 'notice' THEN
        n := trafficking.notice_leased(p_id, p_claim);
        IF n.id IS NULL THEN
            RETURN false;
        END IF;
        UPDATE trafficking.notices x SET claimed_until = NULL, claim_token = NULL WHERE x.id = n.id;
    ELSE
        RAISE EXCEPTION 'unknown row kind "%"', p_what
            USING ERRCODE = 'invalid_parameter_value', HINT = 'outbox or notice';
    END IF;
    RETURN true;
END
$$;

-- Milliseconds until the next pending referral or notice (of the caller's
-- agency) is due or its lease runs out; NULL when there is none.
CREATE FUNCTION trafficking.dispatch_next_due_v1() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM trafficking.require_service();
    RETURN (SELECT greatest(0, ceil(extract(epoch FROM m - clock_timestamp()) * 1000))::bigint
              FROM (SELECT min(m) AS m
                      FROM (SELECT greatest(next_attempt_at, coalesce(claimed_until,
                                                                      next_attempt_at)) AS m
                              FROM trafficking.outbox WHERE state = 'pending'
                            UNION ALL
                            SELECT greatest(next_attempt_at, coalesce(claimed_until,
                                                                      next_attempt_at))
                              FROM trafficking.notices WHERE state = 'pending') a) x
             WHERE m IS NOT NULL);
END
$$;

-- ------------------------------------------------------------- health ---

-- A dispatcher says how it is: p_event 'start', 'ok' (a cycle ended without
-- error; p_sent rows were sent since its last word), 'error' (p_error) or
-- 'stop'. The worker is named by the dispatcher (default: the host name).
CREATE FUNCTION trafficking.dispatch_heartbeat_v1(p_worker text, p_pid integer, p_event text,
                                                  p_sent bigint, p_error text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := trafficking.require_service();
BEGIN
    IF p_event IS NULL OR p_event NOT IN ('start', 'ok', 'error', 'stop') THEN
        RAISE EXCEPTION 'unknown dispatcher event "%"', p_event
            USING ERRCODE = 'invalid_parameter_value', HINT = 'start, ok, error or stop';
    END IF;
    INSERT INTO trafficking.dispatch_workers AS w (agency_id, worker, pid, started_at)
    VALUES (me.agency_id, p_worker, p_pid, now())
    ON CONFLICT (agency_id, worker) DO UPDATE
       SET pid = EXCLUDED.pid,
           started_at = CASE WHEN p_event = 'start' THEN now() ELSE w.started_at END;
    UPDATE trafficking.dispatch_workers w
       SET last_ok_at = CASE WHEN p_event IN ('ok', 'stop') THEN now() ELSE w.last_ok_at END,
           last_sent_at = CASE WHEN coalesce(p_sent, 0) > 0 THEN now() ELSE w.last_sent_at END,
           sent_total = w.sent_total + greatest(coalesce(p_sent, 0), 0),
           last_error = CASE WHEN p_event = 'error' THEN left(p_error, 600) ELSE w.last_error END,
           last_error_at = CASE WHEN p_event = 'error' THEN now() ELSE w.last_error_at END,
           stopped_at = CASE WHEN p_event = 'stop' THEN now()
                             WHEN p_event = 'start' THEN NULL ELSE w.stopped_at END
     WHERE w.agency_id = me.agency_id AND w.worker = p_worker;
END
$$;

-- The caller's agency's dispatchers, with seconds since their last good
-- cycle, and how many referrals and notices wait.
CREATE FUNCTION trafficking.dispatch_health_v1()
RETURNS TABLE (worker text, pid integer, started_at timestamptz, last_ok_at timestamptz,
               last_sent_at timestamptz, sent_total bigint, last_error text,
               last_error_at timestamptz, stopped_at timestamptz, ok_age_s bigint,
               pending_referrals bigint, pending_notices bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.current_user_v1();
BEGIN
    IF me.user_id IS NULL THEN
        RAISE EXCEPTION 'dispatch health needs a user of an agency'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT w.worker, w.pid, w.started_at, w.last_ok_at, w.last_sent_at, w.sent_total,
           w.last_error, w.last_error_at, w.stopped_at,
           floor(extract(epoch FROM now() - w.last_ok_at))::bigint,
           (SELECT count(*) FROM trafficking.outbox o WHERE o.state = 'pending'),
           (SELECT count(*) FROM trafficking.notices n WHERE n.state = 'pending')
      FROM trafficking.dispatch_workers w
     WHERE w.agency_id = me.agency_id
     ORDER BY w.last_ok_at DESC NULLS LAST, w.worker;
END
$$;

-- ------------------------------------------------------------- grants ---
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA trafficking FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    trafficking.notice_claim_v1(bigint),
    trafficking.notice_done_v1(bigint, text, text, text, bigint),
    trafficking.dispatch_release_v1(text, bigint, text), trafficking.dispatch_next_due_v1(),
    trafficking.dispatch_heartbeat_v1(text, integer, text, bigint, text)
    TO casehost_service, casehost_app;
GRANT EXECUTE ON FUNCTION trafficking.dispatch_health_v1() TO casehost_service, casehost_app;
