-- 018_taskforce.sql: the task-force view (`casehost report taskforce`):
-- counts across the agencies that opted in, by month, age band, trafficking
-- type, referral kind and outcome, and county; never a row about a person,
-- and no count under the threshold (11 unless a config admin sets another).
--
-- Counting runs as casehost_taskforce_reader (core 014): its policies admit
-- the rows of opted-in agencies and no others, here as on the host's tables.
-- It owns one function, taskforce_cells(), that only casehost_definer may
-- execute; members (kind taskforce) reach it through taskforce_report_v1(),
-- which suppresses small cells, and their complements, before anything
-- leaves. It reads the host only through the plugin surface (core 007, 009).

-- ----------------------------------------------------------- settings ---
-- One row: the threshold under which a count is not shown. No one reads it
-- directly (a member learns it from the marker "<11" the view prints).
CREATE TABLE trafficking.taskforce_settings (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    threshold  integer NOT NULL DEFAULT 11 CHECK (threshold BETWEEN 2 AND 1000),
    set_by     bigint REFERENCES casehost.users(id),
    set_at     timestamptz
);
INSERT INTO trafficking.taskforce_settings DEFAULT VALUES;
ALTER TABLE trafficking.taskforce_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE trafficking.taskforce_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_only ON trafficking.taskforce_settings TO casehost_definer
    USING (true) WITH CHECK (true);

-- A config admin sets the threshold (2 to 1000); audited. Returns the old one.
CREATE FUNCTION trafficking.taskforce_threshold_set_v1(p_threshold integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_config_admin();
    old integer;
BEGIN
    IF p_threshold IS NULL OR p_threshold NOT BETWEEN 2 AND 1000 THEN
        RAISE EXCEPTION 'task-force threshold: % is not a whole number from 2 to 1000',
            coalesce(p_threshold::text, '(none)') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.threshold INTO old FROM trafficking.taskforce_settings s FOR UPDATE;
    UPDATE trafficking.taskforce_settings
       SET threshold = p_threshold, set_by = me.user_id, set_at = now();
    PERFORM casehost.audit('update', 'taskforce_threshold', NULL, old || ' -> ' || p_threshold);
    RETURN old;
END
$$;

-- ----------------------------------------------------------- the reader ---
GRANT USAGE ON SCHEMA trafficking TO casehost_taskforce_reader;
GRANT SELECT ON trafficking.determinations, trafficking.referrals TO casehost_taskforce_reader;
-- The reader sees a row when it sees its case (an opted-in agency's), and
-- only then (restrictive: not its members' own agency's).
CREATE POLICY taskforce_reader ON trafficking.determinations FOR SELECT
    TO casehost_taskforce_reader
    USING (EXISTS (SELECT 1 FROM casehost.plugin_case_v1 c WHERE c.id = case_id));
CREATE POLICY taskforce_reader_only ON trafficking.determinations AS RESTRICTIVE FOR SELECT
    TO casehost_taskforce_reader
    USING (EXISTS (SELECT 1 FROM casehost.plugin_case_v1 c WHERE c.id = case_id));
CREATE POLICY taskforce_reader ON trafficking.referrals FOR SELECT
    TO casehost_taskforce_reader
    USING (EXISTS (SELECT 1 FROM casehost.plugin_case_v1 c WHERE c.id = case_id));
CREATE POLICY taskforce_reader_only ON trafficking.referrals AS RESTRICTIVE FOR SELECT
    TO casehost_taskforce_reader
    USING (EXISTS (SELECT 1 FROM casehost.plugin_case_v1 c WHERE c.id = case_id));

-- Internal: the counts of cases (or, when p_d1 or p_d2 is referral_kind or
-- outcome, of referrals) made from p_from to p_to (whole days, UTC; NULL:
-- open ended), grouped by p_d1 and p_d2 (NULL: one dimension). Cases: by the
-- month opened, the age band on that day (the low end of the person's age
-- range), the type of the case's current determination ('none' without
-- one) and the case's county. Referrals: by the month made, the
-- destination's kind and the state it is in (its outcome so far), and the
-- same of their case. Unchecked: only taskforce_report_v1 calls it.
CREATE FUNCTION trafficking.taskforce_cells(p_from date, p_to date, p_d1 text, p_d2 text)
RETURNS TABLE (k1 text, k2 text, n bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH unit AS (
        SELECT c.id AS case_id, c.created_at AS at, NULL::text AS referral_kind,
               NULL::text AS outcome
          FROM casehost.plugin_case_v1 c
         WHERE NOT (p_d1 IN ('referral_kind', 'outcome')
                    OR coalesce(p_d2, '') IN ('referral_kind', 'outcome'))
        UNION ALL
        SELECT r.case_id, r.created_at, r.destination_kind, r.state
          FROM trafficking.referrals r
         WHERE p_d1 IN ('referral_kind', 'outcome')
            OR coalesce(p_d2, '') IN ('referral_kind', 'outcome')),
    facts AS (
        SELECT to_char(u.at AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
               CASE WHEN a.low IS NULL THEN 'unknown'
                    WHEN a.low < 12 THEN '00-11' WHEN a.low < 15 THEN '12-14'
                    WHEN a.low < 18 THEN '15-17' WHEN a.low < 25 THEN '18-24'
                    ELSE '25+' END AS age_band,
               coalesce(d.trafficking_type, 'none') AS type,
               u.referral_kind, u.outcome,
               coalesce(nullif(btrim(c.county), ''), 'unknown') AS county
          FROM unit u
          JOIN casehost.plugin_case_v1 c ON c.id = u.case_id
          LEFT JOIN trafficking.determinations d
                 ON d.case_id = c.id AND d.superseded_by IS NULL
          -- (the person of a case is of its agency: the reader sees them too)
          CROSS JOIN LATERAL (
                SELECT (casehost.person_age_on_v1(c.subject_id,
                                                  (c.created_at AT TIME ZONE 'UTC')::date)).low
                 WHERE c.subject_id IS NOT NULL
                UNION ALL SELECT NULL WHERE c.subject_id IS NULL) a(low)
         WHERE (p_from IS NULL OR u.at >= (p_from::timestamp AT TIME ZONE 'UTC'))
           AND (p_to IS NULL OR u.at < ((p_to + 1)::timestamp AT TIME ZONE 'UTC'))),
    keyed AS (
        SELECT CASE p_d1 WHEN 'month' THEN f.month WHEN 'age_band' THEN f.age_band
                         WHEN 'type' THEN f.type WHEN 'referral_kind' THEN f.referral_kind
                         WHEN 'outcome' THEN f.outcome ELSE f.county END AS k1,
               CASE p_d2 WHEN 'month' THEN f.month WHEN 'age_band' THEN f.age_band
                         WHEN 'type' THEN f.type WHEN 'referral_kind' THEN f.referral_kind
                         WHEN 'outcome' THEN f.outcome WHEN 'county' THEN f.county END AS k2
          FROM facts f)
    SELECT k.k1, k.k2, count(*) FROM keyed k GROUP BY k.k1, k.k2
$$;
REVOKE ALL ON FUNCTION trafficking.taskforce_cells(date, date, text, text) FROM PUBLIC;

-- Handing the function to the reader, as 011 does for its counter: the
-- migrating role becomes able to, for the moment of the change only.
GRANT casehost_taskforce_reader TO CURRENT_USER;
GRANT CREATE ON SCHEMA trafficking TO casehost_taskforce_reader;
ALTER FUNCTION trafficking.taskforce_cells(date, date, text, text)
    OWNER TO casehost_taskforce_reader;
REVOKE CREATE ON SCHEMA trafficking FROM casehost_taskforce_reader;
GRANT EXECUTE ON FUNCTION trafficking.taskforce_cells(date, date, text, text) TO casehost_definer;
REVOKE casehost_taskforce_reader FROM CURRENT_USER;

-- -------------------------------------------------------- suppression ---
-- Which cells of a table to withhold. The table has n_rows x n_cols cells
-- (p_n, row after row) and, as the last row and column, its totals; each
-- line of this bordered table (a row with its total, a column with its
-- total) is one equation a reader knows. Returned, for every cell of the
-- bordered table in the same order: 0 shown, 1 under the threshold, 2
-- withheld to protect one (complementary). Rules, to a fixed point:
--   a line with exactly one withheld cell withholds its next smallest cell
--   (a cell before the total when they are equal); so does a line whose
--   total is shown and whose withheld cells could only be what they are
--   (they sum to 0 with the cells under the threshold, to the threshold
--   each with the complements, or to the threshold less one each);
--   a withheld cell that the others would still determine (a bridge in the
--   graph of withheld cells, rows and columns as its vertices) joins a cycle:
--   the smallest shown cell linking the two sides is withheld.
-- At the fixed point no withheld cell is a linear function of what is shown
-- (the withheld cells lie on cycles, along which an amount can move while
-- every line keeps its sum), and no single line pins its withheld cells.
CREATE FUNCTION trafficking.taskforce_suppress(p_n bigint[], n_rows integer, n_cols integer,
                                               p_threshold integer)
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    w integer := n_cols + 1;       -- the bordered table's width
    h integer := n_rows + 1;       -- and height
    v bigint[] := array_fill(0::bigint, ARRAY[h * w]);
    s integer[] := array_fill(0, ARRAY[h * w]);
    i integer; j integer; k integer; cnt integer; best integer; changed boolean;
    line integer; total integer; sum_w bigint; n_small integer; n_comp integer;
    seen_r boolean[]; seen_c boolean[]; queue integer[]; x integer;
BEGIN
    FOR i IN 1..n_rows LOOP
        FOR j IN 1..n_cols LOOP
            v[(i - 1) * w + j] := p_n[(i - 1) * n_cols + j];
            v[(i - 1) * w + w] := v[(i - 1) * w + w] + p_n[(i - 1) * n_cols + j];
            v[(h - 1) * w + j] := v[(h - 1) * w + j] + p_n[(i - 1) * n_cols + j];
            v[h * w] := v[h * w] + p_n[(i - 1) * n_cols + j];
        END LOOP;
    END LOOP;
    FOR k IN 1..h * w LOOP
        IF v[k] < p_threshold THEN
            s[k] := 1;
        END IF;
    END LOOP;
    LOOP
        changed := false;
        -- Each line: its withheld cells, its smallest shown one and, when
        -- its total is shown, the sum its withheld parts must make.
        FOR line IN 1..h + w LOOP
            cnt := 0; best := NULL; sum_w := 0; n_small := 0; n_comp := 0;
            FOR x IN 1..CASE WHEN line <= h THEN w ELSE h END LOOP
                k := CASE WHEN line <= h THEN (line - 1) * w + x ELSE (x - 1) * w + line - h END;
                IF s[k] = 0 THEN
                    IF best IS NULL OR v[k] < v[best] THEN
                        best := k;
                    END IF;
                    CONTINUE;
                END IF;
                cnt := cnt + 1;
                sum_w := sum_w + v[k];
                IF s[k] = 1 THEN
                    n_small := n_small + 1;
                ELSE
                    n_comp := n_comp + 1;
                END IF;
            END LOOP;
            total := CASE WHEN line <= h THEN line * w ELSE h * w - w + line - h END;
            IF best IS NOT NULL
               AND (cnt = 1
                    OR (cnt > 1 AND s[total] = 0
                        AND (sum_w = p_threshold * n_comp
                             OR (n_comp = 0 AND sum_w = (p_threshold - 1) * n_small)))) THEN
                s[best] := 2; changed := true;
            END IF;
        END LOOP;
        CONTINUE WHEN changed;
        -- Bridges: is row i still joined to column j without the cell (i, j)?
        <<bridges>>
        FOR k IN 1..h * w LOOP
            CONTINUE WHEN s[k] = 0;
            i := (k - 1) / w + 1; j := (k - 1) % w + 1;
            seen_r := array_fill(false, ARRAY[h]); seen_c := array_fill(false, ARRAY[w]);
            seen_r[i] := true; queue := ARRAY[i];      -- rows as i, columns as -j
            WHILE cardinality(queue) > 0 LOOP
                x := queue[1]; queue := queue[2:];
                IF x > 0 THEN
                    FOR cnt IN 1..w LOOP
                        IF s[(x - 1) * w + cnt] <> 0 AND NOT seen_c[cnt]
                           AND (x - 1) * w + cnt <> k THEN
                            seen_c[cnt] := true; queue := queue || -cnt;
                        END IF;
                    END LOOP;
                ELSE
                    FOR cnt IN 1..h LOOP
                        IF s[(cnt - 1) * w - x] <> 0 AND NOT seen_r[cnt]
                           AND (cnt - 1) * w - x <> k THEN
                            seen_r[cnt] := true; queue := queue || cnt;
                        END IF;
                    END LOOP;
                END IF;
            END LOOP;
            CONTINUE WHEN seen_c[j];
            -- A bridge: the side of row i is what was reached; link a row of
            -- the other side to a column of this one by its smallest shown cell.
            best := NULL;
            FOR x IN 1..h LOOP
                CONTINUE WHEN seen_r[x];
                FOR cnt IN 1..w LOOP
                    CONTINUE WHEN NOT seen_c[cnt] OR s[(x - 1) * w + cnt] <> 0;
                    IF best IS NULL OR v[(x - 1) * w + cnt] < v[best] THEN
                        best := (x - 1) * w + cnt;
                    END IF;
                END LOOP;
            END LOOP;
            -- None: a table of one row, whose cells are its totals; nothing to hide.
            CONTINUE WHEN best IS NULL;
            s[best] := 2; changed := true;
            EXIT bridges;
        END LOOP;
        EXIT WHEN NOT changed;
    END LOOP;
    RETURN s;
END
$$;
REVOKE ALL ON FUNCTION trafficking.taskforce_suppress(bigint[], integer, integer, integer)
    FROM PUBLIC;

-- ---------------------------------------------------------- the view ---
-- The task-force view for a member (kind taskforce): counts from p_from to
-- p_to (whole days, UTC; NULL: open ended) by one or two of month,
-- age_band, type, referral_kind, outcome, county (p_by). One row per cell
-- of the bordered table: row_key (NULL on the totals row), col_key (NULL in
-- the totals column; always NULL by one dimension), and shown: the count,
-- "<11" (under the threshold) or "suppressed" (withheld so that no count
-- under it can be worked out from the totals). Each run is audited (the
-- filters, never a figure) when the transaction may write; on a read-only
-- replica audited is false and the command audits on the primary.
CREATE FUNCTION trafficking.taskforce_report_v1(p_from date, p_to date, p_by text[])
RETURNS TABLE (row_key text, col_key text, shown text, audited boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me casehost.identities := casehost.require_kind(ARRAY['taskforce'], 'the task-force view');
    dims constant text[] := ARRAY['month', 'age_band', 'type', 'referral_kind', 'outcome',
                                  'county'];
    d1 text; d2 text; t integer;
    rows_k text[]; cols_k text[]; n bigint[]; s integer[];
    got_k1 text[]; got_k2 text[]; got_n bigint[];
    nr integer; nc integer; i integer; j integer; w integer;
    wrote boolean := current_setting('transaction_read_only') = 'off';
BEGIN
    IF p_by IS NULL OR cardinality(p_by) = 0 THEN
        p_by := ARRAY['month'];
    END IF;
    IF cardinality(p_by) > 2 THEN
        RAISE EXCEPTION '--by: at most two at once (a table and its totals), not %',
            array_to_string(p_by, ', ') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 1..cardinality(p_by) LOOP
        IF p_by[i] IS NULL OR NOT (p_by[i] = ANY (dims)) THEN
            RAISE EXCEPTION '--by: "%" is not one of %', coalesce(p_by[i], '(none)'),
                array_to_string(dims, ', ') USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    d1 := p_by[1]; d2 := p_by[2];
    IF d1 = d2 THEN
        RAISE EXCEPTION '--by: % twice', d1 USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_from > p_to THEN
        RAISE EXCEPTION '--from % is after --to %', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT x.threshold INTO t FROM trafficking.taskforce_settings x;
    -- Counted once; the keys and the full grid (0 where no row fell) from that.
    SELECT coalesce(array_agg(c.k1), '{}'), coalesce(array_agg(c.k2), '{}'),
           coalesce(array_agg(c.n), '{}')
      INTO got_k1, got_k2, got_n
      FROM trafficking.taskforce_cells(p_from, p_to, d1, d2) c;
    SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') INTO rows_k FROM unnest(got_k1) x;
    IF d2 IS NULL THEN
        cols_k := ARRAY[NULL::text];
    ELSE
        SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') INTO cols_k FROM unnest(got_k2) x;
    END IF;
    nr := cardinality(rows_k); nc := cardinality(cols_k);
    SELECT coalesce(array_agg(coalesce(g.n, 0) ORDER BY r.i, k.j), '{}') INTO n
      FROM unnest(rows_k) WITH ORDINALITY r(key, i)
     CROSS JOIN unnest(cols_k) WITH ORDINALITY k(key, j)
      LEFT JOIN unnest(got_k1, got_k2, got_n) g(k1, k2, n)
             ON g.k1 = r.key AND g.k2 IS NOT DISTINCT FROM k.key;
    s := trafficking.taskforce_suppress(n, nr, nc, t);
    w := nc + 1;
    IF wrote THEN
        PERFORM casehost.audit('report', 'taskforce', NULL,
            'by ' || array_to_string(p_by, ',') || coalesce(' from ' || p_from, '')
            || coalesce(' to ' || p_to, ''));
    END IF;
    FOR i IN 1..nr + 1 LOOP
        FOR j IN 1..nc + 1 LOOP
            -- By one dimension the totals column repeats the cells: left out.
            CONTINUE WHEN d2 IS NULL AND j = nc + 1 AND nc > 0;
            row_key := CASE WHEN i <= nr THEN rows_k[i] END;
            col_key := CASE WHEN j <= nc THEN cols_k[j] END;
            shown := CASE s[(i - 1) * w + j]
                         WHEN 1 THEN '<' || t
                         WHEN 2 THEN 'suppressed'
                         ELSE (CASE WHEN i <= nr AND j <= nc THEN n[(i - 1) * nc + j]
                                    WHEN i <= nr THEN (SELECT sum(x) FROM unnest(
                                        n[(i - 1) * nc + 1:i * nc]) x)
                                    WHEN j <= nc THEN (SELECT sum(n[(y - 1) * nc + j])
                                        FROM generate_series(1, nr) y)
                                    ELSE (SELECT sum(x) FROM unnest(n) x) END)::text END;
            audited := wrote;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION trafficking.taskforce_report_v1(date, date, text[]),
    trafficking.taskforce_threshold_set_v1(integer) FROM PUBLIC;
GRANT USAGE ON SCHEMA trafficking TO casehost_taskforce;
GRANT EXECUTE ON FUNCTION trafficking.taskforce_report_v1(date, date, text[])
    TO casehost_taskforce;
GRANT EXECUTE ON FUNCTION trafficking.taskforce_threshold_set_v1(integer) TO casehost_app;
