-- Aggregates: what relation changes do to relation_stats and relation_tops, and their rebuild.

-- What one relation changing from p_old to p_new weights (NULL: absent) does to the aggregate
-- rows, as a set: B's total, A's total, and A's row of each property the change touches (its count,
-- int sum, and up to two float steps: a replaced value is taken away first, x1 = -old, then the
-- new one added, x2 = +new, as the SQLite store does). p_side_a / p_side_b skip a side (profile
-- deletion skips the profile being deleted). Rows go to p_slot, except a property keeping a float
-- sum, whose row stays in slot 0 (its steps must run in one order; see migration 002).
CREATE FUNCTION ties_deltas(
  p_rel integer, p_props jsonb, p_a text, p_b text, p_old jsonb, p_new jsonb,
  p_side_a boolean, p_side_b boolean, p_slot smallint
) RETURNS SETOF ties_delta LANGUAGE sql IMMUTABLE AS $f$
  WITH total AS (SELECT (p_new IS NOT NULL)::integer - (p_old IS NOT NULL)::integer AS d)
  SELECT p_a, p_rel, 'a', 0, '', d::bigint, 0::numeric, NULL::float8, NULL::float8, p_slot
    FROM total WHERE p_side_a AND d <> 0
  UNION ALL
  SELECT p_b, p_rel, 'b', 0, '', d::bigint, 0::numeric, NULL::float8, NULL::float8, p_slot
    FROM total WHERE p_side_b AND d <> 0
  UNION ALL
  SELECT p_a, p_rel, 'a', pr.ord::integer, pr.name, c.cnt::bigint,
         CASE WHEN pr.sums = 'int' THEN coalesce(n.v::numeric, 0) - coalesce(o.v::numeric, 0) ELSE 0 END,
         CASE WHEN pr.sums = 'float' AND o.v IS DISTINCT FROM n.v
           THEN coalesce(-(o.v::float8), n.v::float8) END,
         CASE WHEN pr.sums = 'float' AND o.v IS DISTINCT FROM n.v AND o.v IS NOT NULL THEN n.v::float8 END,
         CASE WHEN pr.sums = 'float' THEN 0::smallint ELSE p_slot END
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

-- Applies deltas (at most one per aggregate row) in one statement, rows in one order for every
-- call (profile, type, side, then the total before properties in the type's order, then slot), so
-- two calls never wait on each other crosswise. A float step is a compensated addition whose
-- expressions all read the row's old values. p_replaces: some delta has a second float step;
-- p_shrinks: some delta lowers a count, so rows may have come to nothing. A slot row is removed
-- when both its count and its int sum are 0 (in a slot, a count may be negative: a relation
-- attached through one connection and detached through another); a float row lives in slot 0
-- only, so its count is the property's, and it goes at 0 with whatever rounding its sum kept.
CREATE FUNCTION ties_apply(p_deltas ties_delta[], p_replaces boolean, p_shrinks boolean)
RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  v_d ties_delta;
  v_id text;
BEGIN
  INSERT INTO relation_stats AS s (profile_id, rel_id, side, prop, slot, count, isum, fsum, fsum_c)
  SELECT d.profile_id, d.rel_id, d.side, d.prop, d.slot, d.dcount, d.disum, coalesce(d.x1, 0), 0
    FROM unnest(p_deltas) d
   ORDER BY d.profile_id, d.rel_id, d.side, d.ord, d.slot
  ON CONFLICT (profile_id, rel_id, side, prop, slot) DO UPDATE SET
    count = s.count + EXCLUDED.count,
    isum = s.isum + EXCLUDED.isum,
    fsum = CASE WHEN abs(s.fsum) > 8e307 OR abs(EXCLUDED.fsum) > 8e307
      THEN (ties_fstep(s.fsum, s.fsum_c, EXCLUDED.fsum, s.prop))[1] ELSE s.fsum + EXCLUDED.fsum END,
    fsum_c = CASE WHEN abs(s.fsum) > 8e307 OR abs(EXCLUDED.fsum) > 8e307
      THEN (ties_fstep(s.fsum, s.fsum_c, EXCLUDED.fsum, s.prop))[2]
      ELSE s.fsum_c + CASE WHEN abs(s.fsum) >= abs(EXCLUDED.fsum)
        THEN (s.fsum - (s.fsum + EXCLUDED.fsum)) + EXCLUDED.fsum
        ELSE (EXCLUDED.fsum - (s.fsum + EXCLUDED.fsum)) + s.fsum END END;
  IF p_replaces THEN
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
           AND s.prop = v_d.prop AND s.slot = v_d.slot;
      END IF;
    END LOOP;
  END IF;
  -- Emptied rows go, one statement per profile that lost something: on Citus each names its
  -- profile's shard (a DELETE joined with unnest() alone would be sent to every shard).
  IF p_shrinks THEN
    FOR v_id IN SELECT DISTINCT d.profile_id FROM unnest(p_deltas) d WHERE d.dcount < 0 LOOP
      DELETE FROM relation_stats s USING unnest(p_deltas) d
       WHERE s.profile_id = v_id AND d.profile_id = v_id AND d.dcount < 0 AND s.rel_id = d.rel_id
         AND s.side = d.side AND s.prop = d.prop AND s.slot = d.slot AND s.count = 0 AND s.isum = 0;
    END LOOP;
  END IF;
END
$f$;

-- What one relation changing from p_old to p_new weights (NULL: absent) does to both aggregate
-- tables: one statement for the aggregate rows (in this connection's slot), one for the tops
-- it enters or moves in, one for those it leaves.
CREATE FUNCTION ties_account(t relation_types, p_a text, p_b text, p_old jsonb, p_new jsonb)
RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM ties_apply(
    ARRAY(SELECT d FROM ties_deltas(t.rel_id, t.properties, p_a, p_b, p_old, p_new, true, true, ties_slot()) d),
    p_old IS NOT NULL AND p_new IS NOT NULL,
    p_old IS NOT NULL);
  IF p_new IS NOT NULL THEN
    INSERT INTO relation_tops AS x (a, rel_id, prop, b, value)
    SELECT p_a, t.rel_id, e->>'name', p_b, (p_new -> (e->>'name'))::float8
      FROM jsonb_array_elements(t.properties) e
     WHERE ties_keeps_top(e) AND p_new ? (e->>'name')
       AND (p_old -> (e->>'name')) IS DISTINCT FROM (p_new -> (e->>'name'))
    ON CONFLICT (a, rel_id, prop, b) DO UPDATE SET value = EXCLUDED.value;
  END IF;
  IF p_old IS NOT NULL THEN
    DELETE FROM relation_tops x USING jsonb_array_elements(t.properties) e
     WHERE ties_keeps_top(e) AND p_old ? (e->>'name') AND NOT coalesce(p_new ? (e->>'name'), false)
       AND x.a = p_a AND x.rel_id = t.rel_id AND x.prop = e->>'name' AND x.b = p_b;
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
