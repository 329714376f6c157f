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

-- Top rows (migration 009). A profile A keeps relation_tops rows for a type only once it has
-- more than ties_top_rows_from() relations of it (64, SQLite's TOP_ROWS.from): below that,
-- get_counter ranks A's few relations itself (ties_counter), and an attach writes no top row —
-- on a store of many small profiles, most of the B-tree entries a relation cost. The aggregate
-- row (A, type, side 't', prop '', slot 0) says that A keeps them; it is never counted (reads
-- take side 'a' or 'b'). Once built, A's top rows are kept when A shrinks again: a detach never
-- rebuilds or drops a profile's top rows; they go with the type, the profile, or a rebuild.
--
-- Invariant: an A with the row has a top row for every relation and top-keeping property. A
-- writer holds a shared advisory lock per (type, A) from before it reads A's mark until COMMIT
-- (attach_batch: the lock of A's bucket, for unmarked As only, then reads the mark again; see
-- ties_lock_bucket); the writer that builds holds A's lock and A's bucket exclusive, so it waits
-- for both kinds of writers and then reads every relation they wrote. The lock comes after the
-- relation row is written and before any aggregate row (lock order: type, profile, relation
-- rows, this lock, aggregate rows).
CREATE FUNCTION ties_top_rows_from() RETURNS integer LANGUAGE sql IMMUTABLE AS $f$
  SELECT 64
$f$;

-- The top rows one bulk chunk may build (ties_attach_many): ~9 s of a build on the machine of
-- docs/benchmarks.md (~6 µs a row), inside the 30 s statement timeout with room for a slower
-- server. Not less: the chunk that builds holds its As' buckets exclusive, so the import's other
-- chunk waits for it, and a build spread over more chunks serialises more of the import (500,000
-- made the full bench's import 6-8% slower; its 10,000 As pass 64 relations together, 1.3 million
-- rows, docs/benchmarks.md "a budget for the build").
CREATE FUNCTION ties_top_build_budget() RETURNS integer LANGUAGE sql IMMUTABLE AS $f$
  SELECT 1500000
$f$;

CREATE FUNCTION ties_top_lock_key(p_rel integer, p_a text) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$
  SELECT hashtext(p_rel::text || '/' || p_a)
$f$;

-- The value a relation with weights p_w has in the top rows of property p_name (NULL: no row, the
-- property absent or not a number). Every writer of top rows takes the value from here, so the
-- writers that find a row by its ranked key (ties_account; migration 011) derive the same key.
CREATE FUNCTION ties_top_value(p_w jsonb, p_name text) RETURNS float8 LANGUAGE sql IMMUTABLE AS $f$
  SELECT CASE WHEN jsonb_typeof(p_w -> p_name) = 'number' THEN (p_w -> p_name)::float8 END
$f$;

-- The names of the properties of a type that keep a top.
CREATE FUNCTION ties_top_props(p_props jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE AS $f$
  SELECT ARRAY(SELECT e->>'name' FROM jsonb_array_elements(p_props) e WHERE ties_keeps_top(e))
$f$;

-- Under the exclusive lock: marks A as keeping top rows and writes them from its relations (all
-- of them, this transaction's included), unless another call did so first. True when built here.
CREATE FUNCTION ties_tops_build(p_rel integer, p_top text[], p_a text) RETURNS boolean
LANGUAGE plpgsql AS $f$
BEGIN
  INSERT INTO relation_stats (profile_id, rel_id, side, prop, slot, count)
  VALUES (p_a, p_rel, 't', '', 0, 1) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  INSERT INTO relation_tops (a, rel_id, prop, b, value)
  SELECT p_a, p_rel, n.name, r.b, ties_top_value(r.weights, n.name)
    FROM relations r CROSS JOIN unnest(p_top) AS n(name)
   WHERE r.a = p_a AND r.rel_id = p_rel AND ties_top_value(r.weights, n.name) IS NOT NULL;
  RETURN true;
END
$f$;

-- A single write taking unmarked A past the threshold, holding A's lock shared: takes it and its
-- bucket exclusive (waiting for A's other writers to commit) and builds A's rows from every
-- relation, this transaction's included.
CREATE FUNCTION ties_tops_claim(p_rel integer, p_props jsonb, p_a text) RETURNS void
LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM pg_advisory_xact_lock(ties_ns('tops'), ties_top_lock_key(p_rel, p_a));
  PERFORM pg_advisory_xact_lock(ties_ns('tops-bucket'), ties_lock_bucket(ties_top_lock_key(p_rel, p_a)));
  PERFORM ties_tops_build(p_rel, ties_top_props(p_props), p_a);
END
$f$;

-- Whether A keeps top rows of the type once its total grows by p_grow (its relation row written
-- already): A's lock taken shared, then one read of its mark and total. A call taking an unmarked
-- A past the threshold takes the lock and its bucket exclusive (waiting for A's other writers to
-- commit) and builds the rows. Two calls doing that for one A at once deadlock there: PostgreSQL
-- aborts one (after deadlock_timeout), the store runs it again (postgres-statements.ts) and it
-- finds A marked — once in A's life, against one statement less on every other call.
-- p_chunk: called for ties_attach_many's one-by-one path, whose chunk holds the buckets of its
-- As and has built the top rows of those it takes past the threshold: A's mark is only read.
CREATE FUNCTION ties_tops_kept(p_rel integer, p_props jsonb, p_a text, p_grow integer,
  p_chunk boolean DEFAULT false) RETURNS boolean
LANGUAGE plpgsql AS $f$
DECLARE
  v_kept boolean;
  v_total bigint;
BEGIN
  IF NOT p_chunk THEN
    PERFORM pg_advisory_xact_lock_shared(ties_ns('tops'), ties_top_lock_key(p_rel, p_a));
  END IF;
  SELECT coalesce(bool_or(side = 't'), false), coalesce(sum(count) FILTER (WHERE side = 'a'), 0)
    INTO v_kept, v_total
    FROM relation_stats WHERE profile_id = p_a AND rel_id = p_rel AND side IN ('a', 't') AND prop = '';
  IF NOT v_kept AND NOT p_chunk AND v_total + p_grow > ties_top_rows_from() THEN
    PERFORM ties_tops_claim(p_rel, p_props, p_a);
    RETURN true;
  END IF;
  RETURN v_kept;
END
$f$;

-- What one relation changing from p_old to p_new weights (NULL: absent) does to both aggregate
-- tables: one statement for the aggregate rows (in this connection's slot), and when A keeps top
-- rows, for each top-keeping property whose value changed, its row with the old value goes and
-- one with the new value comes. relation_tops has no key by B (migration 011): the row is found
-- by its ranked key, the value taken from the weights it was written from. The row of either value
-- goes, so that the step is right too when ties_tops_kept has just built A's rows from the relation
-- as written (with the new value). The type test is a plain expression (no query) on the hot path.
-- p_chunk: as ties_tops_kept's.
CREATE FUNCTION ties_account(t relation_types, p_a text, p_b text, p_old jsonb, p_new jsonb,
  p_chunk boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  v_top text[];
BEGIN
  IF t.properties @? '$[*] ? (@.top > 0 && (@.type == "int" || @.type == "float"))' THEN
    IF ties_tops_kept(t.rel_id, t.properties, p_a, (p_new IS NOT NULL)::integer - (p_old IS NOT NULL)::integer,
                      p_chunk) THEN
      v_top := ties_top_props(t.properties);
    END IF;
  END IF;
  PERFORM ties_apply(
    ARRAY(SELECT d FROM ties_deltas(t.rel_id, t.properties, p_a, p_b, p_old, p_new, true, true, ties_slot()) d),
    p_old IS NOT NULL AND p_new IS NOT NULL,
    p_old IS NOT NULL);
  IF v_top IS NOT NULL THEN
    DELETE FROM relation_tops x USING unnest(v_top) AS n(name)
     WHERE (p_old -> n.name) IS DISTINCT FROM (p_new -> n.name)
       AND x.a = p_a AND x.rel_id = t.rel_id AND x.prop = n.name AND x.b = p_b
       AND x.value IN (ties_top_value(p_old, n.name), ties_top_value(p_new, n.name));
    IF p_new IS NOT NULL THEN
      INSERT INTO relation_tops (a, rel_id, prop, b, value)
      SELECT p_a, t.rel_id, n.name, p_b, ties_top_value(p_new, n.name)
        FROM unnest(v_top) AS n(name)
       WHERE ties_top_value(p_new, n.name) IS NOT NULL AND (p_old -> n.name) IS DISTINCT FROM (p_new -> n.name);
    END IF;
  END IF;
END
$f$;

-- Recomputes one property's aggregates from the relations of its type (the total rows, side 'a'
-- and 'b' prop '', are the caller's).
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
    -- Profiles past the threshold keep top rows (see ties_tops_kept), as do those marked before.
    INSERT INTO relation_stats (profile_id, rel_id, side, prop, slot, count)
    SELECT a, p_rel, 't', '', 0, 1 FROM relations WHERE rel_id = p_rel
     GROUP BY a HAVING count(*) > ties_top_rows_from()
    ON CONFLICT DO NOTHING;
    INSERT INTO relation_tops (a, rel_id, prop, b, value)
    SELECT r.a, p_rel, v_name, r.b, ties_top_value(r.weights, v_name)
      FROM relations r JOIN relation_stats k
        ON k.profile_id = r.a AND k.rel_id = p_rel AND k.side = 't' AND k.prop = '' AND k.slot = 0
     WHERE r.rel_id = p_rel AND ties_top_value(r.weights, v_name) IS NOT NULL;
  END IF;
END
$f$;
