-- Set-based bulk: relations/attach_batch and `ties import` attach a whole chunk of items in one
-- statement and one transaction, with the answer each item would have had as a single attach.
--
-- The chunk arrives as one jsonb parameter and is staged in a temporary table (one per
-- connection, truncated by the next chunk); then a few set-wise statements do what ties_attach does one
-- relation at a time: find both profiles, take their shared advisory locks (in one order), insert
-- the new relations (ON CONFLICT DO NOTHING: an existing one makes the item a duplicate, as does an
-- earlier item of the chunk naming the same pair), insert their by-B entries and the top rows of
-- the As that keep them (past 64 relations, migration 009), and merge
-- the aggregate changes grouped per aggregate row: one INSERT … ON CONFLICT for the chunk, rows in
-- key order, in this connection's slot. A type keeping a float sum applies its relations one by
-- one in item order instead (a float sum's steps must keep that order to stay SQLite's doubles).

-- p_items: [[a query, b query, weights], ...], a query by id sent as the id's JSON string (a jsonb
-- parse of the chunk took half the time with ids alone: docs/benchmarks.md, "the chunk's
-- parameter"), any other as its ProfileQuery object (ties_find). Answers one row per item, in order: status 'ok',
-- 'no_type', 'pair' (core reads a_ids / b_ids, set only on such rows) or 'duplicate' (a and b).
-- p_sparse: rows only for the items whose answer the caller cannot tell itself, every item but
-- an 'ok' one looked up by id on both sides (whose a and b are the ids it sent): an import's
-- chunk answers a few rows instead of 8,000 (docs/benchmarks.md, "ties import: the chunk's
-- answer"). Its default keeps the full answer for a server of an earlier version sharing the
-- schema, which calls with three arguments and reads one row per item. p_unique: the caller saw
-- every item looked up by id on both sides and no pair named twice, so no item can be a later
-- repeat of an earlier one's pair (the check for that is skipped).
CREATE FUNCTION ties_attach_many(
  p_rel integer, p_items jsonb, p_now text, p_sparse boolean DEFAULT false, p_unique boolean DEFAULT false
)
RETURNS TABLE (idx integer, status text, a text, b text, a_ids text[], b_ids text[])
-- Groupings hashed, not sorted: the staging table has no statistics, so the planner takes a
-- chunk's 8,000 'ok' rows for 28 and sorts them to group, for the aggregate merge, the repeat
-- check, the As' marks and the distinct lists (each sorting a few ms; hashed ~4–5 ms less per
-- chunk in all: docs/benchmarks.md, "PostgreSQL import: the aggregate merge"). Sorts that give an
-- order (key order for inserts and locks) still run: no other plan gives it. jit off because the
-- disabled sorts' cost passes jit_above_cost (the merge took 245 ms compiled).
SET enable_sort = off SET jit = off
LANGUAGE plpgsql AS $f$
#variable_conflict use_column
DECLARE
  t relation_types := ties_type_for_write(p_rel);
  v_slot smallint := ties_slot();
  v_ordered boolean;
  v_citus boolean;
  v_ids text[];
  v_gone text[];
  v_top text[];
  v_as text[];
  v_build text[];
  v_locked text[];
  v_built text[];
  v_kept text[];
  v_inserted bigint;
  v_fast boolean := false;
BEGIN
  IF t.rel_id IS NULL THEN
    RETURN QUERY SELECT x.ord::integer, 'no_type', NULL::text, NULL::text, NULL::text[], NULL::text[]
      FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, ord);
    RETURN;
  END IF;
  IF to_regclass('pg_temp.ties_chunk') IS NULL THEN
    -- No index: every statement reads the whole chunk, and one on idx cost about half of the
    -- staging's own writes (docs/benchmarks.md, "ties_attach_many: the aggregates in one pass").
    -- a and b are set when each side found exactly one profile; a_ids and b_ids (what a 'pair'
    -- answer reports) only on 'pair' rows: kept for every item they widened each later pass.
    -- Named for this shape: a connection of a server of an earlier version, sharing the schema,
    -- may hold a ties_stage of another (id arrays NOT NULL), which these statements would fail on.
    CREATE TEMP TABLE ties_chunk (
      idx integer NOT NULL,
      weights jsonb NOT NULL,
      a_ids text[],
      b_ids text[],
      a text COLLATE "C",
      b text COLLATE "C",
      status text
    );
  ELSE
    -- Autovacuum never visits temporary tables: start each chunk from an empty file.
    TRUNCATE ties_chunk;
  END IF;
  -- On Citus, no statement may join a temporary table with a distributed one through a correlated
  -- subquery (Citus cannot plan it, docs/scaling.md): there the profiles named by id are read in one
  -- statement by their ids (pruned to their shards) into a temporary table the staging joins, before
  -- and again after the locks. Plain PostgreSQL keeps the index probe per item, which is cheaper.
  v_citus := EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus');
  IF v_citus THEN
    IF to_regclass('pg_temp.ties_found') IS NULL THEN
      CREATE TEMP TABLE ties_found (id text COLLATE "C" PRIMARY KEY, db_id integer NOT NULL);
    ELSE
      TRUNCATE ties_found;
    END IF;
    v_ids := ARRAY(SELECT DISTINCT x.e->>q.n
                     FROM jsonb_array_elements(p_items) AS x(e), (VALUES (0), (1)) AS q(n)
                    WHERE jsonb_typeof(x.e->q.n) = 'string');
    INSERT INTO ties_found (id, db_id) SELECT p.id, p.db_id FROM profiles p WHERE p.id = ANY (v_ids);
    INSERT INTO ties_chunk (idx, weights, a_ids, b_ids, a, b, status)
    SELECT x.ord, x.e->2, CASE WHEN k.pair THEN fa.ids END, CASE WHEN k.pair THEN ab.b_ids END,
           CASE WHEN cardinality(fa.ids) = 1 THEN fa.ids[1] END,
           CASE WHEN cardinality(ab.b_ids) = 1 THEN ab.b_ids[1] END,
           CASE WHEN k.pair THEN 'pair' ELSE 'ok' END
      FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, ord)
     CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(x.e->0) = 'string'
         THEN coalesce((SELECT array_agg(f.id) FROM ties_found f WHERE f.id = x.e->>0 AND f.db_id = t.db_a), '{}')
         ELSE ties_find(t.db_a, x.e->0) END AS ids OFFSET 0) fa
     CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(x.e->1) = 'string'
         THEN coalesce((SELECT array_agg(f.id) FROM ties_found f WHERE f.id = x.e->>1 AND f.db_id = t.db_b), '{}')
         ELSE ties_find(t.db_b, x.e->1) END AS ids OFFSET 0) fb
     CROSS JOIN LATERAL (SELECT CASE WHEN cardinality(fa.ids) = 1 THEN fb.ids ELSE '{}' END AS b_ids) ab
     CROSS JOIN LATERAL (SELECT cardinality(fa.ids) <> 1 OR cardinality(ab.b_ids) <> 1
                                OR fa.ids[1] = ab.b_ids[1] AS pair) k;
  ELSE
    -- Lookups: by id one index probe (a scalar subquery: at most one row, the primary key), the
    -- other kinds through ties_find (its id array); a1 / b1 the side's one profile, else NULL; B
    -- counts only when A is one. OFFSET 0 keeps each lookup run once per item: flattened, every
    -- use of pa, fa … below would repeat it. Arrays are built only for 'pair' rows: the lateral
    -- array per side and item this replaces cost ~25 ms per 8,000 items (docs/benchmarks.md, "the
    -- chunk's parameter").
    INSERT INTO ties_chunk (idx, weights, a_ids, b_ids, a, b, status)
    SELECT v.ord, v.e->2,
           CASE WHEN v.pair THEN coalesce(v.fa, CASE WHEN v.pa IS NULL THEN '{}' ELSE ARRAY[v.pa] END) END,
           CASE WHEN v.pair THEN CASE WHEN v.a1 IS NULL THEN '{}'
             ELSE coalesce(v.fb, CASE WHEN v.pb IS NULL THEN '{}' ELSE ARRAY[v.pb] END) END END,
           v.a1, CASE WHEN v.a1 IS NOT NULL THEN v.b1 END,
           CASE WHEN v.pair THEN 'pair' ELSE 'ok' END
      FROM (SELECT u.*, u.a1 IS NULL OR u.b1 IS NULL OR u.a1 = u.b1 AS pair
              FROM (SELECT l.*,
                           CASE WHEN l.fa IS NULL THEN l.pa WHEN cardinality(l.fa) = 1 THEN l.fa[1] END AS a1,
                           CASE WHEN l.fb IS NULL THEN l.pb WHEN cardinality(l.fb) = 1 THEN l.fb[1] END AS b1
                      FROM (SELECT x.ord, x.e,
                              CASE WHEN jsonb_typeof(x.e->0) = 'string' THEN
                                (SELECT p.id FROM profiles p WHERE p.id = x.e->>0 AND p.db_id = t.db_a) END AS pa,
                              CASE WHEN jsonb_typeof(x.e->1) = 'string' THEN
                                (SELECT p.id FROM profiles p WHERE p.id = x.e->>1 AND p.db_id = t.db_b) END AS pb,
                              CASE WHEN jsonb_typeof(x.e->0) <> 'string' THEN ties_find(t.db_a, x.e->0) END AS fa,
                              CASE WHEN jsonb_typeof(x.e->1) <> 'string' THEN ties_find(t.db_b, x.e->1) END AS fb
                             FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, ord) OFFSET 0) l) u) v;
  END IF;
  -- Shared locks on the buckets of every profile of a pair, in one order (a deletion takes its
  -- profile's bucket exclusive; one lock per profile would overflow PostgreSQL's lock table on a
  -- chunk of thousands of profiles: ties_lock_bucket), then the profiles looked for again: a
  -- deletion may have committed in between. The profiles are taken once each (a chunk names each
  -- of a few thousand profiles several times), for the locks and for the second look alike.
  v_ids := ARRAY(SELECT s.a FROM ties_chunk s WHERE s.a IS NOT NULL AND s.b IS NOT NULL
                 UNION SELECT s.b FROM ties_chunk s WHERE s.a IS NOT NULL AND s.b IS NOT NULL);
  PERFORM pg_advisory_xact_lock_shared(ties_ns('profile-bucket'), l.k)
     FROM (SELECT DISTINCT ties_lock_bucket(hashtext(id)) AS k FROM unnest(v_ids) id ORDER BY 1) l
    ORDER BY l.k;
  -- Deleted between the lookup and the lock: not found, as a single attach would answer. Only
  -- such items are rewritten (the staging already holds every other item's pair and status).
  IF v_citus THEN
    TRUNCATE ties_found;
    INSERT INTO ties_found (id, db_id) SELECT p.id, p.db_id FROM profiles p WHERE p.id = ANY (v_ids);
    v_gone := ARRAY(SELECT u.id FROM unnest(v_ids) AS u(id)
                     WHERE NOT EXISTS (SELECT 1 FROM ties_found f WHERE f.id = u.id));
  ELSE
    v_gone := ARRAY(SELECT u.id FROM unnest(v_ids) AS u(id)
                     WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.id = u.id));
  END IF;
  IF v_gone <> '{}' THEN
    UPDATE ties_chunk s SET
      status = 'pair',
      a_ids = CASE WHEN s.a = ANY (v_gone) THEN '{}' ELSE ARRAY[s.a] END,
      b_ids = '{}'
     WHERE s.status = 'ok' AND (s.a = ANY (v_gone) OR s.b = ANY (v_gone));
  END IF;
  -- A later item naming the pair an earlier one names is a duplicate, whatever the store holds.
  -- The window (a sort of the chunk and a join back) runs only when some pair repeats: a hashed
  -- count finds that in a fraction of its time, and an import's chunks seldom repeat a pair; it
  -- is skipped when the caller knows no pair repeats (p_unique: ~5 ms of an 8,000-item chunk).
  IF NOT p_unique
     AND EXISTS (SELECT 1 FROM ties_chunk e WHERE e.status = 'ok' GROUP BY e.a, e.b HAVING count(*) > 1) THEN
    UPDATE ties_chunk s SET status = 'duplicate'
      FROM (SELECT e.idx, row_number() OVER (PARTITION BY e.a, e.b ORDER BY e.idx) AS n
              FROM ties_chunk e WHERE e.status = 'ok') d
     WHERE d.idx = s.idx AND d.n > 1;
  END IF;

  -- The items still 'ok' attach; those whose relation exists already are duplicates. On plain
  -- PostgreSQL first as one plain INSERT: when it inserts every 'ok' item (an import's usual
  -- chunk), none is a duplicate and nothing needs to come back from it (~7 ms of an 8,000-item
  -- chunk against the form below: docs/benchmarks.md, "ties import: the chunk's answer"). When it
  -- does not, the block's subtransaction undoes it and the form below runs. On Citus (where a
  -- subtransaction around distributed writes costs a savepoint on every worker) only that form.
  IF NOT v_citus THEN
    BEGIN
      INSERT INTO relations (a, rel_id, b, weights, created_at, updated_at)
      SELECT s.a, p_rel, s.b, s.weights, p_now, p_now FROM ties_chunk s WHERE s.status = 'ok'
       ORDER BY s.a, s.b
      ON CONFLICT DO NOTHING;
      GET DIAGNOSTICS v_inserted = ROW_COUNT;
      IF v_inserted < (SELECT count(*) FROM ties_chunk s WHERE s.status = 'ok') THEN
        RAISE SQLSTATE 'T1DUP';
      END IF;
      v_fast := true;
    EXCEPTION WHEN SQLSTATE 'T1DUP' THEN
      v_fast := false;
    END;
  END IF;
  -- NOT IN, not NOT EXISTS: it stays a hashed subplan whatever the estimates. The staging has no
  -- statistics and its estimates depend on its width: with 'ok' rows 4 of 1,000, NOT EXISTS became
  -- a nested loop anti join, 500,000 comparisons and ~90 ms per 1,000 items (docs/benchmarks.md,
  -- "the chunk's parameter"). No NULLs on either side (an 'ok' row has both a and b; relations'
  -- key is NOT NULL).
  IF NOT v_fast THEN
    WITH inserted AS (
      INSERT INTO relations (a, rel_id, b, weights, created_at, updated_at)
      SELECT s.a, p_rel, s.b, s.weights, p_now, p_now FROM ties_chunk s WHERE s.status = 'ok'
       ORDER BY s.a, s.b
      ON CONFLICT DO NOTHING
      RETURNING relations.a, relations.b
    )
    UPDATE ties_chunk s SET status = 'duplicate'
     WHERE s.status = 'ok' AND (s.a, s.b) NOT IN (SELECT i.a, i.b FROM inserted i);
  END IF;
  INSERT INTO relations_by_b (b, rel_id, a)
  SELECT s.b, p_rel, s.a FROM ties_chunk s WHERE s.status = 'ok' ORDER BY s.b, s.a;

  v_ordered := EXISTS (SELECT 1 FROM jsonb_array_elements(t.properties) e
                        WHERE ties_keeps_sum(e) AND e->>'type' = 'float');
  -- Top rows, under the rules of 03-aggregates.sql: the marks and totals of the chunk's As read
  -- first, unlocked (a mark never goes while writers run); the buckets of the unmarked As locked
  -- in one order (ties_lock_bucket), exclusive for a bucket holding an A this chunk takes past the
  -- threshold, shared for the rest; then each A to build locked exclusive too (single writers
  -- hold A's own lock), in key order. The marks of the others are read again (one may have been
  -- built and committed meanwhile). Deciding before locking means a chunk never upgrades a lock
  -- it holds.
  -- A chunk builds at most ties_top_build_budget() top rows (each A past the threshold costs its
  -- relations × the top-keeping properties), the largest As first and always one: a chunk taking
  -- thousands of As past 64 relations at once (a store of As at 64 each, then one more relation
  -- for every one) would otherwise build millions of rows in one statement, past the statement
  -- timeout, and fail again on every retry. An A left unbuilt stays unmarked, which the invariant
  -- allows (get_counter ranks its relations itself); a later write naming it builds its rows.
  v_top := ties_top_props(t.properties);
  IF v_top <> '{}' THEN
    v_as := ARRAY(SELECT DISTINCT x.a FROM ties_chunk x WHERE x.status = 'ok');
    -- Per A of the chunk: marked or not, its total after the chunk, and (for an A to build) the
    -- rows its build and those of the larger ones before it come to.
    WITH k AS (SELECT profile_id, bool_or(side = 't') AS kept, sum(count) FILTER (WHERE side = 'a') AS total
                 FROM relation_stats
                WHERE profile_id = ANY (v_as) AND rel_id = p_rel AND side IN ('a', 't') AND prop = ''
                GROUP BY profile_id),
    w AS (SELECT g.a, coalesce(k.kept, false) AS kept, coalesce(k.total, 0) + g.n AS total
            FROM (SELECT x.a, count(*) AS n FROM ties_chunk x WHERE x.status = 'ok' GROUP BY x.a) g
            LEFT JOIN k ON k.profile_id = g.a),
    b AS (SELECT w.a, w.total * cardinality(v_top) AS rows,
                 sum(w.total * cardinality(v_top)) OVER (ORDER BY w.total DESC, w.a) AS upto
            FROM w WHERE NOT w.kept AND w.total > ties_top_rows_from())
    SELECT coalesce((SELECT array_agg(b.a) FROM b WHERE b.upto = b.rows OR b.upto <= ties_top_build_budget()), '{}'),
           coalesce((SELECT array_agg(w.a) FROM w WHERE NOT w.kept), '{}')
      INTO v_build, v_locked;
    PERFORM CASE WHEN l.build
        THEN pg_advisory_xact_lock(ties_ns('tops-bucket'), l.k)
        ELSE pg_advisory_xact_lock_shared(ties_ns('tops-bucket'), l.k) END
       FROM (SELECT ties_lock_bucket(ties_top_lock_key(p_rel, a)) AS k, bool_or(a = ANY (v_build)) AS build
               FROM unnest(v_locked) a GROUP BY 1 ORDER BY 1) l
      ORDER BY l.k;
    PERFORM pg_advisory_xact_lock(ties_ns('tops'), l.h)
       FROM (SELECT DISTINCT ties_top_lock_key(p_rel, a) AS h FROM unnest(v_build) a ORDER BY 1) l
      ORDER BY l.h;
    v_built := ARRAY(SELECT a FROM unnest(v_build) a WHERE ties_tops_build(p_rel, v_top, a));
  END IF;
  IF v_ordered THEN
    -- One by one in item order (a float sum's steps). ties_tops_kept only reads A's mark here:
    -- the chunk holds the locks and has built what it may build (an A another writer took past
    -- the threshold meanwhile stays for a later write to build, as on the set-wise path).
    PERFORM ties_account(t, s.a, s.b, NULL, s.weights, true)
       FROM (SELECT * FROM ties_chunk x WHERE x.status = 'ok' ORDER BY x.idx) s;
  ELSE
    IF v_top <> '{}' THEN
      -- The other As that keep top rows now get one per new relation and property.
      v_kept := ARRAY(SELECT k.profile_id FROM relation_stats k
                       WHERE k.profile_id = ANY (v_as) AND k.rel_id = p_rel AND k.side = 't'
                         AND k.prop = '' AND k.slot = 0 AND NOT k.profile_id = ANY (v_built));
      IF v_kept <> '{}' THEN
        INSERT INTO relation_tops (a, rel_id, prop, b, value)
        SELECT s.a, p_rel, n.name, s.b, ties_top_value(s.weights, n.name)
          FROM ties_chunk s CROSS JOIN unnest(v_top) AS n(name)
         WHERE s.status = 'ok' AND ties_top_value(s.weights, n.name) IS NOT NULL AND s.a = ANY (v_kept)
         ORDER BY s.a, n.name, s.b;
      END IF;
    END IF;
    -- The aggregate changes of new relations (what ties_deltas gives for each with no old weights,
    -- summed): A's and B's totals, and A's row of each property its relations have, with the int
    -- sum when the property keeps one; no float sum here (v_ordered), so only counts and int sums
    -- change. One pass groups the chunk per A with a column pair per property, written out for
    -- the type (ties_bulk_stats_sql: one row per relation read once, where a row per relation and
    -- property grouped on the property sorted three times as many), then one upsert in
    -- ties_apply's row order (profile, side, total before properties in the type's order).
    EXECUTE ties_bulk_stats_sql(t.properties) USING p_rel, v_slot;
  END IF;

  -- The change feed: one event per attached item, in item order, last (10-change-log.sql).
  IF ties_feed_on() AND EXISTS (SELECT 1 FROM ties_chunk x WHERE x.status = 'ok') THEN
    PERFORM ties_feed_lock();
    INSERT INTO change_log (seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
    SELECT nextval('change_seq'), p_now, 'relations/attach_batch', p_rel, o.a, t.db_a, o.b, t.db_b, NULL, o.weights
      FROM (SELECT x.a, x.b, x.weights FROM ties_chunk x WHERE x.status = 'ok' ORDER BY x.idx) o;
  END IF;

  RETURN QUERY SELECT s.idx, s.status, s.a, s.b, s.a_ids, s.b_ids FROM ties_chunk s
   WHERE NOT p_sparse OR s.status <> 'ok' OR jsonb_typeof(p_items -> (s.idx - 1) -> 0) <> 'string'
      OR jsonb_typeof(p_items -> (s.idx - 1) -> 1) <> 'string'
   ORDER BY s.idx;
END
$f$;

-- The statement merging a chunk's new relations into the aggregate rows ($1 the type, $2 the
-- slot), for a type's properties: per A one count and, when the property keeps an int sum, one
-- sum per property, read from the staged weights in the same pass as A's total, then spread into
-- one row per property the chunk has (a lateral VALUES list); B's totals grouped apart.
CREATE FUNCTION ties_bulk_stats_sql(p_props jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
  SELECT format($q$
    INSERT INTO relation_stats AS r (profile_id, rel_id, side, prop, slot, count, isum)
    SELECT d.profile_id, $1, d.side, d.prop, $2, d.n, d.isum
      FROM (SELECT g.a AS profile_id, 'a' AS side, v.ord, v.prop, v.n, v.isum
              FROM (SELECT s.a, count(*) AS c0%s
                      FROM ties_chunk s WHERE s.status = 'ok' GROUP BY s.a) g
             CROSS JOIN LATERAL (VALUES (0, '', g.c0, 0::numeric)%s) AS v(ord, prop, n, isum)
             WHERE v.n > 0
            UNION ALL
            SELECT s.b, 'b', 0, '', count(*), 0 FROM ties_chunk s WHERE s.status = 'ok' GROUP BY s.b) d
     ORDER BY d.profile_id, d.side, d.ord
    ON CONFLICT (profile_id, rel_id, side, prop, slot) DO UPDATE SET
      count = r.count + EXCLUDED.count, isum = r.isum + EXCLUDED.isum$q$,
    coalesce(string_agg(format(', count(*) FILTER (WHERE s.weights ? %1$L) AS c%2$s, %3$s AS s%2$s', p.name, p.ord,
                               CASE WHEN p.isum THEN format('sum((s.weights -> %L)::numeric)', p.name)
                                    ELSE '0::numeric' END), '' ORDER BY p.ord), ''),
    coalesce(string_agg(format(', (%1$s, %2$L, g.c%1$s, coalesce(g.s%1$s, 0))', p.ord, p.name), '' ORDER BY p.ord), ''))
  FROM (SELECT e->>'name' AS name, x.ord, ties_keeps_sum(e) AND e->>'type' = 'int' AS isum
          FROM jsonb_array_elements(p_props) WITH ORDINALITY AS x(e, ord)) p
$f$;
