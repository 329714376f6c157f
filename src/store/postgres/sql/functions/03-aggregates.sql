-- Aggregates: what relation changes do to relation_stats and relation_tops, and their rebuild.

-- ties_account's arithmetic as a set, for profile deletion (many relations at once): what one
-- relation changing from p_old to p_new weights does to the aggregates. p_side_a / p_side_b skip
-- the profile being deleted.
CREATE FUNCTION ties_deltas(
  p_rel integer, p_props jsonb, p_a text, p_b text, p_old jsonb, p_new jsonb,
  p_side_a boolean, p_side_b boolean
) RETURNS SETOF ties_delta LANGUAGE sql IMMUTABLE AS $f$
  WITH total AS (SELECT (p_new IS NOT NULL)::integer - (p_old IS NOT NULL)::integer AS d)
  SELECT p_a, p_rel, 'a', 0, '', d::bigint, 0::numeric, NULL::float8, NULL::float8
    FROM total WHERE p_side_a AND d <> 0
  UNION ALL
  SELECT p_b, p_rel, 'b', 0, '', d::bigint, 0::numeric, NULL::float8, NULL::float8
    FROM total WHERE p_side_b AND d <> 0
  UNION ALL
  SELECT p_a, p_rel, 'a', pr.ord::integer, pr.name, c.cnt::bigint,
         CASE WHEN pr.sums = 'int' THEN coalesce(n.v::numeric, 0) - coalesce(o.v::numeric, 0) ELSE 0 END,
         CASE WHEN pr.sums = 'float' AND o.v IS DISTINCT FROM n.v
           THEN coalesce(-(o.v::float8), n.v::float8) END,
         CASE WHEN pr.sums = 'float' AND o.v IS DISTINCT FROM n.v AND o.v IS NOT NULL THEN n.v::float8 END
    FROM (SELECT e->>'name' AS name, CASE WHEN ties_keeps_sum(e) THEN e->>'type' ELSE '' END AS sums, ord
            FROM jsonb_array_elements(p_props) WITH ORDINALITY AS x(e, ord)) pr
   CROSS JOIN LATERAL (SELECT p_old -> pr.name AS v) o
   CROSS JOIN LATERAL (SELECT p_new -> pr.name AS v) n
   CROSS JOIN LATERAL (SELECT (n.v IS NOT NULL)::integer - (o.v IS NOT NULL)::integer AS cnt) c
   WHERE p_side_a
     AND (o.v IS NOT NULL OR n.v IS NOT NULL)
     AND (c.cnt <> 0 OR CASE pr.sums
            WHEN 'int' THEN o.v::numeric <> n.v::numeric
            WHEN 'float' THEN o.v <> n.v
            ELSE false END)
$f$;

-- Applies deltas (at most one per aggregate row) in one statement, rows in the order ties_account
-- writes them (profile, type, side, then total before properties in the type's order): every call
-- locks the aggregate rows it changes in the same order, so two calls never deadlock on them.
-- A float step is a compensated addition whose expressions all read the row's old values.
CREATE FUNCTION ties_apply(p_deltas ties_delta[]) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  v_d ties_delta;
BEGIN
  IF coalesce(cardinality(p_deltas), 0) = 0 THEN
    RETURN;
  END IF;
  INSERT INTO relation_stats AS s (profile_id, rel_id, side, prop, count, isum, fsum, fsum_c)
  SELECT d.profile_id, d.rel_id, d.side, d.prop, d.dcount, d.disum, coalesce(d.x1, 0), 0
    FROM unnest(p_deltas) d
   ORDER BY d.profile_id, d.rel_id, d.side, d.ord
  ON CONFLICT (profile_id, rel_id, side, prop) DO UPDATE SET
    count = s.count + EXCLUDED.count,
    isum = s.isum + EXCLUDED.isum,
    fsum = CASE WHEN abs(s.fsum) > 8e307 OR abs(EXCLUDED.fsum) > 8e307
      THEN (ties_fstep(s.fsum, s.fsum_c, EXCLUDED.fsum, s.prop))[1] ELSE s.fsum + EXCLUDED.fsum END,
    fsum_c = CASE WHEN abs(s.fsum) > 8e307 OR abs(EXCLUDED.fsum) > 8e307
      THEN (ties_fstep(s.fsum, s.fsum_c, EXCLUDED.fsum, s.prop))[2]
      ELSE s.fsum_c + CASE WHEN abs(s.fsum) >= abs(EXCLUDED.fsum)
        THEN (s.fsum - (s.fsum + EXCLUDED.fsum)) + EXCLUDED.fsum
        ELSE (EXCLUDED.fsum - (s.fsum + EXCLUDED.fsum)) + s.fsum END END;
  -- Second float steps (a value replaced: the new one is added) touch rows locked above.
  FOREACH v_d IN ARRAY p_deltas LOOP
    IF v_d.x2 IS NOT NULL THEN
      UPDATE relation_stats s SET
        fsum = CASE WHEN abs(s.fsum) > 8e307 OR abs(v_d.x2) > 8e307
          THEN (ties_fstep(s.fsum, s.fsum_c, v_d.x2, s.prop))[1] ELSE s.fsum + v_d.x2 END,
        fsum_c = CASE WHEN abs(s.fsum) > 8e307 OR abs(v_d.x2) > 8e307
          THEN (ties_fstep(s.fsum, s.fsum_c, v_d.x2, s.prop))[2]
          ELSE s.fsum_c + CASE WHEN abs(s.fsum) >= abs(v_d.x2)
            THEN (s.fsum - (s.fsum + v_d.x2)) + v_d.x2 ELSE (v_d.x2 - (s.fsum + v_d.x2)) + s.fsum END END
       WHERE s.profile_id = v_d.profile_id AND s.rel_id = v_d.rel_id AND s.side = v_d.side
         AND s.prop = v_d.prop;
    END IF;
  END LOOP;
  DELETE FROM relation_stats s USING unnest(p_deltas) d
   WHERE d.dcount < 0 AND s.profile_id = d.profile_id AND s.rel_id = d.rel_id
     AND s.side = d.side AND s.prop = d.prop AND s.count <= 0;
END
$f$;

-- What one relation changing from p_old to p_new weights (NULL: absent) does to both aggregate
-- tables, one single-row statement per aggregate row (plans cached; an SQL function would be
-- planned again on every call). Rows are locked in one order for every call: by profile id (B's
-- total before or after A's rows), then A's total, then A's properties in the type's order, so two
-- calls never wait on each other crosswise. A float property replaced in place takes two
-- compensated steps, -old then +new, as in SQLite.
CREATE FUNCTION ties_account(t relation_types, p_a text, p_b text, p_old jsonb, p_new jsonb)
RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  v_total integer := (p_new IS NOT NULL)::integer - (p_old IS NOT NULL)::integer;
  v_prop jsonb;
  v_name text;
  v_type text;
  v_old jsonb;
  v_new jsonb;
  v_cnt integer;
  v_isum numeric;
  v_x1 float8;
  v_x2 float8;
  i integer;
BEGIN
  IF v_total <> 0 AND p_b COLLATE "C" < p_a THEN
    PERFORM ties_bump(p_b, t.rel_id, 'b', v_total);
  END IF;
  IF v_total <> 0 THEN
    PERFORM ties_bump(p_a, t.rel_id, 'a', v_total);
  END IF;
  FOR i IN 0 .. jsonb_array_length(t.properties) - 1 LOOP
    v_prop := t.properties -> i;
    v_name := v_prop->>'name';
    v_old := p_old -> v_name;
    v_new := p_new -> v_name;
    CONTINUE WHEN v_old IS NULL AND v_new IS NULL;
    v_type := v_prop->>'type';
    IF v_old IS DISTINCT FROM v_new AND ties_keeps_top(v_prop) THEN
      IF v_new IS NULL THEN
        DELETE FROM relation_tops WHERE a = p_a AND rel_id = t.rel_id AND prop = v_name AND b = p_b;
      ELSE
        INSERT INTO relation_tops AS x (a, rel_id, prop, b, value)
        VALUES (p_a, t.rel_id, v_name, p_b, v_new::float8)
        ON CONFLICT (a, rel_id, prop, b) DO UPDATE SET value = EXCLUDED.value;
      END IF;
    END IF;
    v_cnt := (v_new IS NOT NULL)::integer - (v_old IS NOT NULL)::integer;
    v_isum := 0;
    v_x1 := 0;
    v_x2 := NULL;
    IF ties_keeps_sum(v_prop) AND v_type = 'int' THEN
      CONTINUE WHEN v_cnt = 0 AND v_old::numeric = v_new::numeric;
      v_isum := coalesce(v_new::numeric, 0) - coalesce(v_old::numeric, 0);
    ELSIF ties_keeps_sum(v_prop) AND v_type = 'float' THEN
      CONTINUE WHEN v_cnt = 0 AND v_old = v_new;
      -- The old value goes first: a value replaced by a similar one never takes the sum past the
      -- double range on the way.
      v_x1 := coalesce(-(v_old::float8), v_new::float8);
      IF v_old IS NOT NULL AND v_new IS NOT NULL THEN
        v_x2 := v_new::float8;
      END IF;
    ELSE
      CONTINUE WHEN v_cnt = 0;
    END IF;
    INSERT INTO relation_stats AS s (profile_id, rel_id, side, prop, count, isum, fsum, fsum_c)
    VALUES (p_a, t.rel_id, 'a', v_name, v_cnt, v_isum, v_x1, 0)
    ON CONFLICT (profile_id, rel_id, side, prop) DO UPDATE SET
      count = s.count + EXCLUDED.count,
      isum = s.isum + EXCLUDED.isum,
      fsum = CASE WHEN abs(s.fsum) > 8e307 OR abs(EXCLUDED.fsum) > 8e307
        THEN (ties_fstep(s.fsum, s.fsum_c, EXCLUDED.fsum, s.prop))[1] ELSE s.fsum + EXCLUDED.fsum END,
      fsum_c = CASE WHEN abs(s.fsum) > 8e307 OR abs(EXCLUDED.fsum) > 8e307
        THEN (ties_fstep(s.fsum, s.fsum_c, EXCLUDED.fsum, s.prop))[2]
        ELSE s.fsum_c + CASE WHEN abs(s.fsum) >= abs(EXCLUDED.fsum)
          THEN (s.fsum - (s.fsum + EXCLUDED.fsum)) + EXCLUDED.fsum ELSE (EXCLUDED.fsum - (s.fsum + EXCLUDED.fsum)) + s.fsum END END;
    IF v_x2 IS NOT NULL THEN
      UPDATE relation_stats s SET
        fsum = CASE WHEN abs(s.fsum) > 8e307 OR abs(v_x2) > 8e307
          THEN (ties_fstep(s.fsum, s.fsum_c, v_x2, s.prop))[1] ELSE s.fsum + v_x2 END,
        fsum_c = CASE WHEN abs(s.fsum) > 8e307 OR abs(v_x2) > 8e307
          THEN (ties_fstep(s.fsum, s.fsum_c, v_x2, s.prop))[2]
          ELSE s.fsum_c + CASE WHEN abs(s.fsum) >= abs(v_x2)
            THEN (s.fsum - (s.fsum + v_x2)) + v_x2 ELSE (v_x2 - (s.fsum + v_x2)) + s.fsum END END
       WHERE s.profile_id = p_a AND s.rel_id = t.rel_id AND s.side = 'a' AND s.prop = v_name;
    END IF;
    IF v_cnt < 0 THEN
      DELETE FROM relation_stats
       WHERE profile_id = p_a AND rel_id = t.rel_id AND side = 'a' AND prop = v_name AND count <= 0;
    END IF;
  END LOOP;
  IF v_total <> 0 AND p_b COLLATE "C" > p_a THEN
    PERFORM ties_bump(p_b, t.rel_id, 'b', v_total);
  END IF;
END
$f$;

-- Adds to a profile's total of relations on one side; the row goes when it reaches 0.
CREATE FUNCTION ties_bump(p_id text, p_rel integer, p_side text, p_count integer) RETURNS void
LANGUAGE plpgsql AS $f$
DECLARE
  v_left bigint;
BEGIN
  INSERT INTO relation_stats AS s (profile_id, rel_id, side, prop, count)
  VALUES (p_id, p_rel, p_side, '', p_count)
  ON CONFLICT (profile_id, rel_id, side, prop) DO UPDATE SET count = s.count + EXCLUDED.count
  RETURNING count INTO v_left;
  IF v_left <= 0 THEN
    DELETE FROM relation_stats WHERE profile_id = p_id AND rel_id = p_rel AND side = p_side AND prop = '';
  END IF;
END
$f$;

-- Recomputes one property's aggregates from the relations of its type.
CREATE FUNCTION ties_rebuild(p_rel integer, p jsonb) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  v_name text := p->>'name';
  v_sums text := CASE WHEN ties_keeps_sum(p) THEN p->>'type' ELSE '' END;
BEGIN
  DELETE FROM relation_stats WHERE rel_id = p_rel AND side = 'a' AND prop = v_name;
  -- Aggregates are computed whatever a CASE around them says: one statement per kind of sum.
  IF v_sums = 'int' THEN
    INSERT INTO relation_stats (profile_id, rel_id, side, prop, count, isum)
    SELECT a, p_rel, 'a', v_name, count(*), sum((weights -> v_name)::numeric)
      FROM relations WHERE rel_id = p_rel AND weights ? v_name GROUP BY a;
  ELSIF v_sums = 'float' THEN
    INSERT INTO relation_stats (profile_id, rel_id, side, prop, count, fsum)
    SELECT a, p_rel, 'a', v_name, count(*), ties_fsum((weights -> v_name)::float8 ORDER BY b)
      FROM relations WHERE rel_id = p_rel AND weights ? v_name GROUP BY a;
  ELSE
    INSERT INTO relation_stats (profile_id, rel_id, side, prop, count)
    SELECT a, p_rel, 'a', v_name, count(*)
      FROM relations WHERE rel_id = p_rel AND weights ? v_name GROUP BY a;
  END IF;
  DELETE FROM relation_tops WHERE rel_id = p_rel AND prop = v_name;
  IF ties_keeps_top(p) THEN
    INSERT INTO relation_tops (a, rel_id, prop, b, value)
    SELECT a, p_rel, v_name, b, (weights -> v_name)::float8
      FROM relations WHERE rel_id = p_rel AND jsonb_typeof(weights -> v_name) = 'number';
  END IF;
END
$f$;
