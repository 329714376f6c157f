// Schema version 1 of the PostgreSQL store, kept as a TypeScript string so that `tsc` ships it in dist.

/**
 * Tables are laid out for Citus (DESIGN §4, docs/scaling.md): every table holding per-profile data
 * is keyed first by the profile it belongs to, which is its distribution column, and no sequence
 * appears in those keys. Catalogue tables (databases, resources, relation_types, tokens) are small
 * and meant to become reference tables. match_keys, the matching index, is keyed by the looked-up
 * value so that a lookup reads one shard.
 *
 * Every write call of the store is one server-side function, called in one statement: one round
 * trip, one transaction, and each step sees the previous one's writes (a data-modifying CTE would
 * not). Increments happen inside PostgreSQL on rows locked in a fixed order; nothing is read into
 * JavaScript, changed there and written back. The schema is the same whatever relation types
 * exist: no DDL at run time.
 *
 * Locks, always taken in this order so that calls never wait on each other crosswise:
 *   1. per relation type, advisory (shared for relation writes, exclusive for type update/delete);
 *   2. per profile, advisory on hashtext(id) (shared for relation writes, exclusive for delete);
 *   3. relation rows, then aggregate rows in one order: by profile id, then type, side, the total
 *      before the properties, properties in the type's order.
 */
export const INITIAL_SCHEMA = `
-- Catalogue -----------------------------------------------------------------------------------

CREATE TABLE databases (
  id serial PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL,
  custom_fields jsonb NOT NULL,
  created_at text NOT NULL
);

CREATE TABLE resources (
  id serial PRIMARY KEY,
  name text NOT NULL,
  channels jsonb NOT NULL,
  db_ids jsonb NOT NULL,
  created_at text NOT NULL
);

-- A sequence never hands a deleted type's rel_id to a new type that old clients would then reach.
CREATE TABLE relation_types (
  rel_id serial PRIMARY KEY,
  name text NOT NULL,
  db_a integer NOT NULL,
  db_b integer NOT NULL,
  properties jsonb NOT NULL,
  created_at text NOT NULL
);

CREATE TABLE tokens (
  id serial PRIMARY KEY,
  name text NOT NULL,
  rights jsonb NOT NULL,
  hash text COLLATE "C" NOT NULL UNIQUE,
  created_at text NOT NULL,
  last_used_at text
);
CREATE INDEX tokens_by_name ON tokens (name);

-- Profiles (distributed by id) ----------------------------------------------------------------

-- keys: the [kind, key] pairs this profile's fields put in match_keys, so that a change or a
-- deletion removes exactly those rows without searching match_keys by profile.
CREATE TABLE profiles (
  id text COLLATE "C" PRIMARY KEY,
  db_id integer NOT NULL,
  fields jsonb NOT NULL,
  keys jsonb NOT NULL,
  created_at text NOT NULL,
  updated_at text NOT NULL
);

CREATE TABLE subscriptions (
  profile_id text COLLATE "C" NOT NULL,
  resource_id integer NOT NULL,
  channel text COLLATE "C" NOT NULL,
  contact_key text COLLATE "C" NOT NULL,
  contact text NOT NULL,
  status text NOT NULL,
  PRIMARY KEY (profile_id, resource_id, channel, contact_key)
);

-- The matching index (distributed by key): kind 'e' the profile's email, 'p' each phone's digits,
-- 'f:<field>' each custom field key (one per tag), 'se' / 'ss' the contact of an email / sms
-- subscription (resource_id is 0 for the profile's own fields).
CREATE TABLE match_keys (
  key text COLLATE "C" NOT NULL,
  db_id integer NOT NULL,
  kind text COLLATE "C" NOT NULL,
  resource_id integer NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (key, db_id, kind, resource_id, profile_id)
);

-- Relations (distributed by A; the B side by B) -----------------------------------------------

CREATE TABLE relations (
  a text COLLATE "C" NOT NULL,
  rel_id integer NOT NULL,
  b text COLLATE "C" NOT NULL,
  weights jsonb NOT NULL,
  created_at text NOT NULL,
  updated_at text NOT NULL,
  PRIMARY KEY (a, rel_id, b)
);

-- The same relations keyed by B, written in the same transaction: relations/get side b and
-- profile deletion find a B's relations here without reading every shard of relations.
CREATE TABLE relations_by_b (
  b text COLLATE "C" NOT NULL,
  rel_id integer NOT NULL,
  a text COLLATE "C" NOT NULL,
  PRIMARY KEY (b, rel_id, a)
);

-- Aggregates, keyed by the profile they aggregate. side 'a', prop '': relations pointing at the
-- profile; side 'b', prop '': relations it initiated; side 'a', prop '<name>': relations having
-- the property. isum is the exact sum of an int property, fsum + fsum_c the Kahan-Neumaier sum of
-- a float property (float8 like SQLite's REAL, so both engines answer the same doubles); each is
-- read only when the property keeps a sum.
CREATE TABLE relation_stats (
  profile_id text COLLATE "C" NOT NULL,
  rel_id integer NOT NULL,
  side text COLLATE "C" NOT NULL,
  prop text COLLATE "C" NOT NULL,
  count bigint NOT NULL,
  isum numeric NOT NULL DEFAULT 0,
  fsum float8 NOT NULL DEFAULT 0,
  fsum_c float8 NOT NULL DEFAULT 0,
  PRIMARY KEY (profile_id, rel_id, side, prop)
);

-- One row per relation and numeric property that keeps a top, read in get_counter's order by
-- relation_tops_ranked (value descending, ties by B ascending), never sorted at read time.
CREATE TABLE relation_tops (
  a text COLLATE "C" NOT NULL,
  rel_id integer NOT NULL,
  prop text COLLATE "C" NOT NULL,
  b text COLLATE "C" NOT NULL,
  value float8 NOT NULL,
  PRIMARY KEY (a, rel_id, prop, b)
);
CREATE INDEX relation_tops_ranked ON relation_tops (a, rel_id, prop, value DESC, b);

-- Helpers -------------------------------------------------------------------------------------

-- One change to one aggregate row, for profile deletion (ties_account does the same for one
-- relation without this type): count and int sum deltas, and up to two float steps (add x1, then
-- x2), applied as separate compensated additions like the SQLite store does: a replaced value is
-- taken away first (x1 = -old), then the new one added (x2 = +new).
CREATE TYPE ties_delta AS (
  profile_id text COLLATE "C",
  rel_id integer,
  side text COLLATE "C",
  -- 0 for the total, else the property's position in the type: rows are locked in this order.
  ord integer,
  prop text COLLATE "C",
  dcount bigint,
  disum numeric,
  x1 float8,
  x2 float8
);

-- Advisory lock namespaces, per schema so that stores in two schemas of one database never share
-- a lock.
CREATE FUNCTION ties_ns(p_kind text) RETURNS integer LANGUAGE sql STABLE AS $f$
  SELECT hashtext(current_schema() || '/' || p_kind)
$f$;

-- Kahan-Babuska-Neumaier summation as SQLite's sum() does it (a rebuilt float sum starts exact).
CREATE FUNCTION ties_fsum_step(s float8[], x float8) RETURNS float8[] LANGUAGE sql IMMUTABLE AS $f$
  SELECT CASE WHEN x IS NULL THEN s ELSE ARRAY[s[1] + x, s[2] + CASE WHEN abs(s[1]) > abs(x)
    THEN (s[1] - (s[1] + x)) + x ELSE (x - (s[1] + x)) + s[1] END] END
$f$;
CREATE FUNCTION ties_fsum_final(s float8[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS $f$
  SELECT s[1] + s[2]
$f$;
CREATE AGGREGATE ties_fsum(float8) (
  SFUNC = ties_fsum_step, STYPE = float8[], FINALFUNC = ties_fsum_final, INITCOND = '{0,0}'
);

CREATE FUNCTION ties_keeps_top(p jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$
  SELECT coalesce((p->>'top')::integer, 0) > 0 AND p->>'type' IN ('int', 'float')
$f$;
CREATE FUNCTION ties_keeps_sum(p jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$
  SELECT coalesce((p->>'sum')::boolean, false) AND p->>'type' IN ('int', 'float')
$f$;

-- One compensated (Kahan-Neumaier) step of a float sum: [s + x, c + the rounding error]. Only
-- called when s or x is big enough for s + x to leave float8 (otherwise the same expressions run
-- inline): that refuses the write with SQLSTATE TI001 naming the property, as SQLite refuses an
-- infinite sum, and nothing of the call is kept.
CREATE FUNCTION ties_fstep(s float8, c float8, x float8, p_prop text) RETURNS float8[]
LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE
  t float8;
BEGIN
  BEGIN
    t := s + x;
  EXCEPTION WHEN numeric_value_out_of_range THEN
    RAISE EXCEPTION 'the float sum of % would leave the double range', p_prop
      USING ERRCODE = 'TI001', DETAIL = p_prop;
  END;
  RETURN ARRAY[t, c + CASE WHEN abs(s) >= abs(x) THEN (s - t) + x ELSE (x - t) + s END];
END
$f$;

-- Matching ------------------------------------------------------------------------------------

-- The ids (at most two) a ProfileQuery (as JSON) finds in one database; every branch is an index
-- lookup.
CREATE FUNCTION ties_find(p_db integer, q jsonb) RETURNS text[] LANGUAGE plpgsql STABLE AS $f$
DECLARE
  ids text[];
  v_key text;
  v_res integer := (q->>'resourceId')::integer;
  v_in_p boolean := coalesce((q->>'inProfile')::boolean, false);
  v_in_s boolean := coalesce((q->>'inSubscriptions')::boolean, false);
  v_keys text[];
BEGIN
  CASE q->>'by'
  WHEN 'id' THEN
    SELECT array_agg(id) INTO ids FROM profiles WHERE id = q->>'id' AND db_id = p_db;
  WHEN 'email', 'phone' THEN
    v_key := q->>(q->>'by');
    SELECT array_agg(profile_id) INTO ids FROM (
      SELECT DISTINCT m.profile_id FROM match_keys m
       WHERE m.key = v_key AND m.db_id = p_db
         AND ((v_in_p AND m.kind = CASE q->>'by' WHEN 'email' THEN 'e' ELSE 'p' END)
           OR (v_in_s AND m.kind = CASE q->>'by' WHEN 'email' THEN 'se' ELSE 'ss' END
               AND (v_res IS NULL OR m.resource_id = v_res)))
       LIMIT 2) found;
  WHEN 'field' THEN
    SELECT array_agg(DISTINCT k) INTO v_keys FROM jsonb_array_elements_text(q->'keys') k;
    IF cardinality(v_keys) = 1 THEN
      SELECT array_agg(profile_id) INTO ids FROM (
        SELECT m.profile_id FROM match_keys m
         WHERE m.key = v_keys[1] AND m.db_id = p_db AND m.kind = 'f:' || (q->>'field') LIMIT 2) found;
    ELSIF cardinality(v_keys) > 1 THEN
      -- Tags: the profiles holding every listed key.
      SELECT array_agg(profile_id) INTO ids FROM (
        SELECT m.profile_id FROM match_keys m
         WHERE m.key = ANY (v_keys) AND m.db_id = p_db AND m.kind = 'f:' || (q->>'field')
         GROUP BY m.profile_id HAVING count(DISTINCT m.key) = cardinality(v_keys) LIMIT 2) found;
    END IF;
  ELSE
    RAISE EXCEPTION 'ties_find: unknown lookup %', q->>'by';
  END CASE;
  RETURN coalesce(ids, '{}');
END
$f$;

-- A side of a relation write: finds the profile and takes its shared advisory lock, so that a
-- deletion of that profile (exclusive lock) either finishes first or waits for this call. After
-- the lock the profile is looked for again: a deletion may have committed in between.
CREATE FUNCTION ties_find_locked(p_db integer, q jsonb) RETURNS text[] LANGUAGE plpgsql AS $f$
DECLARE
  ids text[];
BEGIN
  IF q->>'by' = 'id' THEN
    PERFORM pg_advisory_xact_lock_shared(ties_ns('profile'), hashtext(q->>'id'));
    RETURN ties_find(p_db, q);
  END IF;
  ids := ties_find(p_db, q);
  IF cardinality(ids) = 1 THEN
    PERFORM pg_advisory_xact_lock_shared(ties_ns('profile'), hashtext(ids[1]));
    IF NOT EXISTS (SELECT 1 FROM profiles WHERE id = ids[1]) THEN
      RETURN '{}';
    END IF;
  END IF;
  RETURN ids;
END
$f$;

-- The relation type a write works with, read after its shared advisory lock: a type update
-- (exclusive lock) then either finished, and this call sees its properties, or waits for it.
CREATE FUNCTION ties_type_for_write(p_rel integer) RETURNS relation_types LANGUAGE plpgsql AS $f$
DECLARE
  t relation_types;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(ties_ns('type'), p_rel);
  SELECT * INTO t FROM relation_types WHERE rel_id = p_rel;
  RETURN t;
END
$f$;

-- Both sides of a relation write; B is only looked up once A resolved to one profile (core
-- reports A's failure first anyway).
CREATE FUNCTION ties_pair(t relation_types, p_a jsonb, p_b jsonb, OUT a_ids text[], OUT b_ids text[])
LANGUAGE plpgsql AS $f$
BEGIN
  a_ids := ties_find_locked(t.db_a, p_a);
  IF cardinality(a_ids) <> 1 THEN
    b_ids := '{}';
    RETURN;
  END IF;
  b_ids := ties_find_locked(t.db_b, p_b);
END
$f$;

-- Aggregates ----------------------------------------------------------------------------------

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

-- Relation writes -----------------------------------------------------------------------------
-- status: 'ok', 'no_type' (deleted meanwhile), 'pair' (core reads a_ids/b_ids), 'duplicate',
-- 'no_relation', 'overflow'.

CREATE FUNCTION ties_attach(p_rel integer, p_a jsonb, p_b jsonb, p_weights jsonb, p_now text,
  OUT status text, OUT a_ids text[], OUT b_ids text[])
LANGUAGE plpgsql AS $f$
DECLARE
  t relation_types := ties_type_for_write(p_rel);
BEGIN
  IF t.rel_id IS NULL THEN
    status := 'no_type';
    RETURN;
  END IF;
  SELECT * INTO a_ids, b_ids FROM ties_pair(t, p_a, p_b);
  IF cardinality(a_ids) <> 1 OR cardinality(b_ids) <> 1 OR a_ids[1] = b_ids[1] THEN
    status := 'pair';
    RETURN;
  END IF;
  INSERT INTO relations (a, rel_id, b, weights, created_at, updated_at)
  VALUES (a_ids[1], p_rel, b_ids[1], p_weights, p_now, p_now)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    status := 'duplicate';
    RETURN;
  END IF;
  INSERT INTO relations_by_b (b, rel_id, a) VALUES (b_ids[1], p_rel, a_ids[1]);
  PERFORM ties_account(t, a_ids[1], b_ids[1], NULL, p_weights);
  status := 'ok';
END
$f$;

-- p_add: [[name, amount], ...] in the client's order (the first overflowing property is reported);
-- p_set: bool and string values to set.
CREATE FUNCTION ties_strengthen(p_rel integer, p_a jsonb, p_b jsonb, p_add jsonb, p_set jsonb, p_now text,
  OUT status text, OUT a_ids text[], OUT b_ids text[], OUT created boolean,
  OUT overflow_property text, OUT overflow_result text)
LANGUAGE plpgsql AS $f$
DECLARE
  t relation_types := ties_type_for_write(p_rel);
  v_a text;
  v_b text;
  v_old jsonb;
  v_new jsonb;
  v_item jsonb;
  v_name text;
  v_type text;
  v_int numeric;
  v_float float8;
  v_amount float8;
BEGIN
  IF t.rel_id IS NULL THEN
    status := 'no_type';
    RETURN;
  END IF;
  SELECT * INTO a_ids, b_ids FROM ties_pair(t, p_a, p_b);
  IF cardinality(a_ids) <> 1 OR cardinality(b_ids) <> 1 OR a_ids[1] = b_ids[1] THEN
    status := 'pair';
    RETURN;
  END IF;
  v_a := a_ids[1];
  v_b := b_ids[1];
  LOOP
    SELECT weights INTO v_old FROM relations WHERE a = v_a AND rel_id = p_rel AND b = v_b FOR UPDATE;
    EXIT WHEN FOUND;
    -- A missing value counts as 0, so a created relation holds the amounts themselves.
    v_new := coalesce((SELECT jsonb_object_agg(e->>0, e->1) FROM jsonb_array_elements(p_add) e), '{}') || p_set;
    INSERT INTO relations (a, rel_id, b, weights, created_at, updated_at)
    VALUES (v_a, p_rel, v_b, v_new, p_now, p_now)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
      INSERT INTO relations_by_b (b, rel_id, a) VALUES (v_b, p_rel, v_a);
      PERFORM ties_account(t, v_a, v_b, NULL, v_new);
      status := 'ok';
      created := true;
      RETURN;
    END IF;
    -- Another call created it meanwhile and has committed: add to its row.
  END LOOP;
  v_new := v_old;
  FOR v_item IN SELECT e FROM jsonb_array_elements(p_add) e LOOP
    v_name := v_item->>0;
    SELECT e->>'type' INTO v_type FROM jsonb_array_elements(t.properties) e WHERE e->>'name' = v_name;
    IF v_type = 'int' THEN
      v_int := coalesce((v_old -> v_name)::numeric, 0) + (v_item->1)::numeric;
      IF abs(v_int) > 9007199254740991 THEN
        status := 'overflow';
        overflow_property := v_name;
        overflow_result := v_int::text;
        RETURN;
      END IF;
      v_new := jsonb_set(v_new, ARRAY[v_name], to_jsonb(v_int));
    ELSIF v_type = 'float' THEN
      v_float := coalesce((v_old -> v_name)::float8, 0);
      v_amount := (v_item->1)::float8;
      IF abs(v_float) > 8e307 OR abs(v_amount) > 8e307 THEN
        -- Only then can the sum leave float8; PostgreSQL reports that rather than answering Infinity.
        BEGIN
          v_float := v_float + v_amount;
        EXCEPTION WHEN numeric_value_out_of_range THEN
          status := 'overflow';
          overflow_property := v_name;
          overflow_result := CASE WHEN v_amount > 0 THEN 'Infinity' ELSE '-Infinity' END;
          RETURN;
        END;
      ELSE
        v_float := v_float + v_amount;
      END IF;
      v_new := jsonb_set(v_new, ARRAY[v_name], to_jsonb(v_float));
    ELSE
      RAISE EXCEPTION 'ties_strengthen: % is not a numeric property of type %', v_name, p_rel;
    END IF;
  END LOOP;
  v_new := v_new || p_set;
  UPDATE relations SET weights = v_new, updated_at = p_now WHERE a = v_a AND rel_id = p_rel AND b = v_b;
  PERFORM ties_account(t, v_a, v_b, v_old, v_new);
  status := 'ok';
  created := false;
END
$f$;

-- p_set: values to overwrite; p_remove: properties to remove (given as null).
CREATE FUNCTION ties_edit(p_rel integer, p_a jsonb, p_b jsonb, p_set jsonb, p_remove text[], p_now text,
  OUT status text, OUT a_ids text[], OUT b_ids text[], OUT created boolean)
LANGUAGE plpgsql AS $f$
DECLARE
  t relation_types := ties_type_for_write(p_rel);
  v_a text;
  v_b text;
  v_old jsonb;
  v_new jsonb;
BEGIN
  IF t.rel_id IS NULL THEN
    status := 'no_type';
    RETURN;
  END IF;
  SELECT * INTO a_ids, b_ids FROM ties_pair(t, p_a, p_b);
  IF cardinality(a_ids) <> 1 OR cardinality(b_ids) <> 1 OR a_ids[1] = b_ids[1] THEN
    status := 'pair';
    RETURN;
  END IF;
  v_a := a_ids[1];
  v_b := b_ids[1];
  LOOP
    SELECT weights INTO v_old FROM relations WHERE a = v_a AND rel_id = p_rel AND b = v_b FOR UPDATE;
    EXIT WHEN FOUND;
    INSERT INTO relations (a, rel_id, b, weights, created_at, updated_at)
    VALUES (v_a, p_rel, v_b, p_set, p_now, p_now)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
      INSERT INTO relations_by_b (b, rel_id, a) VALUES (v_b, p_rel, v_a);
      PERFORM ties_account(t, v_a, v_b, NULL, p_set);
      status := 'ok';
      created := true;
      RETURN;
    END IF;
  END LOOP;
  v_new := (v_old - p_remove) || p_set;
  UPDATE relations SET weights = v_new, updated_at = p_now WHERE a = v_a AND rel_id = p_rel AND b = v_b;
  PERFORM ties_account(t, v_a, v_b, v_old, v_new);
  status := 'ok';
  created := false;
END
$f$;

CREATE FUNCTION ties_detach(p_rel integer, p_a jsonb, p_b jsonb,
  OUT status text, OUT a_ids text[], OUT b_ids text[])
LANGUAGE plpgsql AS $f$
DECLARE
  t relation_types := ties_type_for_write(p_rel);
  v_old jsonb;
BEGIN
  IF t.rel_id IS NULL THEN
    status := 'no_type';
    RETURN;
  END IF;
  SELECT * INTO a_ids, b_ids FROM ties_pair(t, p_a, p_b);
  IF cardinality(a_ids) <> 1 OR cardinality(b_ids) <> 1 OR a_ids[1] = b_ids[1] THEN
    status := 'pair';
    RETURN;
  END IF;
  DELETE FROM relations WHERE a = a_ids[1] AND rel_id = p_rel AND b = b_ids[1] RETURNING weights INTO v_old;
  IF NOT FOUND THEN
    status := 'no_relation';
    RETURN;
  END IF;
  DELETE FROM relations_by_b WHERE b = b_ids[1] AND rel_id = p_rel AND a = a_ids[1];
  PERFORM ties_account(t, a_ids[1], b_ids[1], v_old, NULL);
  status := 'ok';
END
$f$;

-- Relation reads (STABLE: every statement reads the call's one snapshot) ----------------------

CREATE FUNCTION ties_list(p_rel integer, p_side text, p_q jsonb, p_after text, p_limit integer,
  p_refuse bigint, OUT status text, OUT ids text[], OUT total bigint, OUT items jsonb)
LANGUAGE plpgsql STABLE AS $f$
DECLARE
  t relation_types;
BEGIN
  SELECT * INTO t FROM relation_types WHERE rel_id = p_rel;
  IF NOT FOUND THEN
    status := 'no_type';
    RETURN;
  END IF;
  ids := ties_find(CASE p_side WHEN 'a' THEN t.db_a ELSE t.db_b END, p_q);
  IF cardinality(ids) <> 1 THEN
    status := 'match';
    RETURN;
  END IF;
  SELECT count INTO total FROM relation_stats
   WHERE profile_id = ids[1] AND rel_id = p_rel AND side = p_side AND prop = '';
  total := coalesce(total, 0);
  IF p_refuse IS NOT NULL AND total > p_refuse THEN
    status := 'too_many';
    RETURN;
  END IF;
  IF p_side = 'a' THEN
    SELECT jsonb_agg(jsonb_build_array(r.b, r.weights) ORDER BY r.b) INTO items FROM (
      SELECT b, weights FROM relations
       WHERE a = ids[1] AND rel_id = p_rel AND b > p_after ORDER BY b LIMIT p_limit + 1) r;
  ELSE
    SELECT jsonb_agg(jsonb_build_array(r.a, r.weights) ORDER BY r.a) INTO items FROM (
      SELECT k.a FROM relations_by_b k
       WHERE k.b = ids[1] AND k.rel_id = p_rel AND k.a > p_after ORDER BY k.a LIMIT p_limit + 1) x
      JOIN relations r ON r.a = x.a AND r.rel_id = p_rel AND r.b = ids[1];
  END IF;
  items := coalesce(items, '[]');
  status := 'ok';
END
$f$;

-- props: the type's properties as this snapshot has them; stats: [[prop, count, isum as text,
-- fsum, fsum_c], ...]; tops: {prop: [[b, value], ...]}.
CREATE FUNCTION ties_counter(p_rel integer, p_q jsonb,
  OUT status text, OUT ids text[], OUT props jsonb, OUT stats jsonb, OUT tops jsonb)
LANGUAGE plpgsql STABLE AS $f$
DECLARE
  t relation_types;
BEGIN
  SELECT * INTO t FROM relation_types WHERE rel_id = p_rel;
  IF NOT FOUND THEN
    status := 'no_type';
    RETURN;
  END IF;
  props := t.properties;
  ids := ties_find(t.db_a, p_q);
  IF cardinality(ids) <> 1 THEN
    status := 'match';
    RETURN;
  END IF;
  SELECT coalesce(jsonb_agg(jsonb_build_array(prop, count, isum::text, fsum, fsum_c)), '[]') INTO stats
    FROM relation_stats WHERE profile_id = ids[1] AND rel_id = p_rel AND side = 'a';
  SELECT coalesce(jsonb_object_agg(e->>'name', (
      SELECT coalesce(jsonb_agg(jsonb_build_array(x.b, x.value) ORDER BY x.value DESC, x.b), '[]')
        FROM (SELECT b, value FROM relation_tops
               WHERE a = ids[1] AND rel_id = p_rel AND prop = e->>'name'
               ORDER BY value DESC, b LIMIT (e->>'top')::integer) x)), '{}') INTO tops
    FROM jsonb_array_elements(t.properties) e WHERE ties_keeps_top(e);
  status := 'ok';
END
$f$;

-- Profiles ------------------------------------------------------------------------------------

-- Upserts subscriptions (p_subs: [{resourceId, channel, contact, contactKey, status}], one per
-- key) and their match keys.
CREATE FUNCTION ties_save_subscriptions(p_db integer, p_id text, p_subs jsonb) RETURNS void
LANGUAGE plpgsql AS $f$
BEGIN
  IF jsonb_array_length(p_subs) = 0 THEN
    RETURN;
  END IF;
  INSERT INTO subscriptions AS s (profile_id, resource_id, channel, contact_key, contact, status)
  SELECT p_id, (e->>'resourceId')::integer, e->>'channel', e->>'contactKey', e->>'contact', e->>'status'
    FROM jsonb_array_elements(p_subs) e
  ON CONFLICT (profile_id, resource_id, channel, contact_key)
  DO UPDATE SET contact = EXCLUDED.contact, status = EXCLUDED.status;
  INSERT INTO match_keys (key, db_id, kind, resource_id, profile_id)
  SELECT e->>'contactKey', p_db, CASE e->>'channel' WHEN 'email' THEN 'se' ELSE 'ss' END,
         (e->>'resourceId')::integer, p_id
    FROM jsonb_array_elements(p_subs) e WHERE e->>'channel' IN ('email', 'sms')
  ON CONFLICT DO NOTHING;
END
$f$;

-- p_set / p_remove: field changes of an existing profile; p_keys: the [kind, key] pairs of the
-- changed fields, replacing every pair of p_kinds. p_create_fields / p_create_keys: a created
-- profile's fields and pairs. status 'match': core reads ids.
CREATE FUNCTION ties_save_profile(p_db integer, p_mode text, p_q jsonb, p_set jsonb, p_remove text[],
  p_keys jsonb, p_kinds text[], p_create_fields jsonb, p_create_keys jsonb, p_subs jsonb,
  p_new_id text, p_now text, OUT status text, OUT ids text[], OUT id text, OUT created boolean)
LANGUAGE plpgsql AS $f$
DECLARE
  v_keys jsonb;
BEGIN
  IF p_mode <> 'add' THEN
    IF p_mode = 'import' THEN
      -- Two imports of one new identity at once must not create two profiles: they queue here.
      PERFORM pg_advisory_xact_lock(ties_ns('import'), hashtext(p_db || ' ' || CASE p_q->>'by'
        WHEN 'email' THEN 'e ' || (p_q->>'email') WHEN 'phone' THEN 'p ' || (p_q->>'phone')
        ELSE p_q::text END));
    END IF;
    ids := ties_find(p_db, p_q);
    IF cardinality(ids) > 1 THEN
      status := 'match';
      RETURN;
    END IF;
    IF cardinality(ids) = 1 THEN
      SELECT keys INTO v_keys FROM profiles WHERE profiles.id = ids[1] FOR NO KEY UPDATE;
      IF FOUND THEN
        DELETE FROM match_keys m USING jsonb_array_elements(v_keys) k
         WHERE k->>0 = ANY (p_kinds) AND m.key = k->>1 AND m.db_id = p_db AND m.kind = k->>0
           AND m.resource_id = 0 AND m.profile_id = ids[1];
        INSERT INTO match_keys (key, db_id, kind, resource_id, profile_id)
        SELECT k->>1, p_db, k->>0, 0, ids[1] FROM jsonb_array_elements(p_keys) k
        ON CONFLICT DO NOTHING;
        UPDATE profiles SET
          fields = (fields - p_remove) || p_set,
          keys = coalesce((SELECT jsonb_agg(k) FROM jsonb_array_elements(v_keys) k
                            WHERE NOT (k->>0 = ANY (p_kinds))), '[]') || p_keys,
          updated_at = p_now
         WHERE profiles.id = ids[1];
        PERFORM ties_save_subscriptions(p_db, ids[1], p_subs);
        status := 'ok';
        id := ids[1];
        created := false;
        RETURN;
      END IF;
      -- Deleted meanwhile: as if it had not been found.
      ids := '{}';
    END IF;
    IF p_mode = 'update' THEN
      status := 'match';
      RETURN;
    END IF;
  END IF;
  INSERT INTO profiles (id, db_id, fields, keys, created_at, updated_at)
  VALUES (p_new_id, p_db, p_create_fields, p_create_keys, p_now, p_now);
  INSERT INTO match_keys (key, db_id, kind, resource_id, profile_id)
  SELECT k->>1, p_db, k->>0, 0, p_new_id FROM jsonb_array_elements(p_create_keys) k
  ON CONFLICT DO NOTHING;
  PERFORM ties_save_subscriptions(p_db, p_new_id, p_subs);
  status := 'ok';
  id := p_new_id;
  created := true;
END
$f$;

-- subs: [[resource_id, channel, contact, status], ...] ordered as the SQLite store answers them.
CREATE FUNCTION ties_get_profile(p_db integer, p_q jsonb, OUT status text, OUT ids text[],
  OUT fields jsonb, OUT created_at text, OUT updated_at text, OUT subs jsonb)
LANGUAGE plpgsql STABLE AS $f$
BEGIN
  ids := ties_find(p_db, p_q);
  IF cardinality(ids) <> 1 THEN
    status := 'match';
    RETURN;
  END IF;
  SELECT p.fields, p.created_at, p.updated_at INTO fields, created_at, updated_at
    FROM profiles p WHERE p.id = ids[1];
  SELECT coalesce(jsonb_agg(jsonb_build_array(s.resource_id, s.channel, s.contact, s.status)
                            ORDER BY s.resource_id, s.channel, s.contact_key), '[]') INTO subs
    FROM subscriptions s WHERE s.profile_id = ids[1];
  status := 'ok';
END
$f$;

-- Deletes a profile, its subscriptions and match keys, and every relation it takes part in on
-- either side, fixing the other profiles' aggregates.
CREATE FUNCTION ties_delete_profile(p_db integer, p_q jsonb, OUT status text, OUT ids text[])
LANGUAGE plpgsql AS $f$
DECLARE
  v_id text;
  v_keys jsonb;
  v_rel integer;
  v_deltas ties_delta[];
BEGIN
  ids := ties_find(p_db, p_q);
  IF cardinality(ids) <> 1 THEN
    status := 'match';
    RETURN;
  END IF;
  v_id := ids[1];
  -- Lock order as relation writes: types (shared, in rel_id order), then the profile.
  FOR v_rel IN SELECT rel_id FROM relation_types WHERE db_a = p_db OR db_b = p_db ORDER BY rel_id LOOP
    PERFORM pg_advisory_xact_lock_shared(ties_ns('type'), v_rel);
  END LOOP;
  PERFORM pg_advisory_xact_lock(ties_ns('profile'), hashtext(v_id));
  SELECT keys INTO v_keys FROM profiles WHERE id = v_id FOR UPDATE;
  IF NOT FOUND THEN
    ids := '{}';
    status := 'match';
    RETURN;
  END IF;
  -- Its relations, locked in key order so that two deletions never wait on each other crosswise.
  PERFORM 1 FROM relations r
   WHERE (r.a, r.rel_id, r.b) IN (
     SELECT x.a, x.rel_id, x.b FROM relations x WHERE x.a = v_id
     UNION ALL
     SELECT k.a, k.rel_id, k.b FROM relations_by_b k WHERE k.b = v_id)
   ORDER BY r.a, r.rel_id, r.b
     FOR UPDATE;
  WITH as_a AS (
    DELETE FROM relations WHERE a = v_id RETURNING rel_id, b
  ), as_a_keys AS (
    DELETE FROM relations_by_b k USING as_a WHERE k.b = as_a.b AND k.rel_id = as_a.rel_id AND k.a = v_id
  ), as_b AS (
    DELETE FROM relations r USING relations_by_b k
     WHERE k.b = v_id AND r.a = k.a AND r.rel_id = k.rel_id AND r.b = v_id
    RETURNING r.a, r.rel_id, r.weights
  ), tops_b AS (
    DELETE FROM relation_tops t USING as_b WHERE t.a = as_b.a AND t.rel_id = as_b.rel_id AND t.b = v_id
  )
  SELECT ARRAY(
    SELECT ROW(as_a.b, as_a.rel_id, 'b', 0, '', -1, 0, NULL, NULL)::ties_delta FROM as_a
    UNION ALL
    SELECT d FROM as_b JOIN relation_types t ON t.rel_id = as_b.rel_id
     CROSS JOIN LATERAL ties_deltas(as_b.rel_id, t.properties, as_b.a, v_id, as_b.weights, NULL, true, false) d
  ) INTO v_deltas;
  DELETE FROM relations_by_b WHERE b = v_id;
  PERFORM ties_apply(v_deltas);
  DELETE FROM relation_stats WHERE profile_id = v_id;
  DELETE FROM relation_tops WHERE a = v_id;
  DELETE FROM match_keys m USING jsonb_array_elements(v_keys) k
   WHERE m.key = k->>1 AND m.db_id = p_db AND m.kind = k->>0 AND m.resource_id = 0 AND m.profile_id = v_id;
  DELETE FROM match_keys m USING subscriptions s
   WHERE s.profile_id = v_id AND s.channel IN ('email', 'sms') AND m.key = s.contact_key AND m.db_id = p_db
     AND m.kind = CASE s.channel WHEN 'email' THEN 'se' ELSE 'ss' END
     AND m.resource_id = s.resource_id AND m.profile_id = v_id;
  DELETE FROM subscriptions WHERE profile_id = v_id;
  DELETE FROM profiles WHERE id = v_id;
  status := 'ok';
END
$f$;

-- Relation types ------------------------------------------------------------------------------

-- Every server caches the catalogue and listens on this channel; the payload names the schema.
CREATE FUNCTION ties_catalog_changed() RETURNS void LANGUAGE sql AS $f$
  SELECT pg_notify('ties_catalog', current_schema())
$f$;

-- p_rebuild: properties core says changed; those whose top or sum switched on or off against the
-- stored definition are rebuilt too, so the aggregates never disagree with the definition.
CREATE FUNCTION ties_update_type(p_rel integer, p_name text, p_props jsonb, p_rebuild text[])
RETURNS SETOF relation_types LANGUAGE plpgsql AS $f$
DECLARE
  v_cur relation_types;
  v_upd relation_types;
  v_prop jsonb;
  v_was jsonb;
  v_rebuild text[] := coalesce(p_rebuild, '{}');
BEGIN
  PERFORM pg_advisory_xact_lock(ties_ns('type'), p_rel);
  SELECT * INTO v_cur FROM relation_types WHERE rel_id = p_rel;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  UPDATE relation_types SET name = coalesce(p_name, name), properties = p_props
   WHERE rel_id = p_rel RETURNING * INTO v_upd;
  FOR v_prop IN SELECT e FROM jsonb_array_elements(p_props) e LOOP
    v_was := NULL;
    SELECT e INTO v_was FROM jsonb_array_elements(v_cur.properties) e WHERE e->>'name' = v_prop->>'name';
    IF v_was IS NULL OR ties_keeps_top(v_was) <> ties_keeps_top(v_prop)
       OR ties_keeps_sum(v_was) <> ties_keeps_sum(v_prop) THEN
      v_rebuild := v_rebuild || (v_prop->>'name');
    END IF;
  END LOOP;
  FOR v_prop IN SELECT e FROM jsonb_array_elements(p_props) e
                 WHERE e->>'name' = ANY (v_rebuild) ORDER BY e->>'name' LOOP
    PERFORM ties_rebuild(p_rel, v_prop);
  END LOOP;
  PERFORM ties_catalog_changed();
  RETURN NEXT v_upd;
END
$f$;

CREATE FUNCTION ties_delete_type(p_rel integer) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM pg_advisory_xact_lock(ties_ns('type'), p_rel);
  DELETE FROM relation_types WHERE rel_id = p_rel;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  DELETE FROM relations WHERE rel_id = p_rel;
  DELETE FROM relations_by_b WHERE rel_id = p_rel;
  DELETE FROM relation_stats WHERE rel_id = p_rel;
  DELETE FROM relation_tops WHERE rel_id = p_rel;
  PERFORM ties_catalog_changed();
  RETURN true;
END
$f$;
`;
