-- Relation reads: relations/get (sorted, filtered or offset: ties_list_ordered) and get_counter.

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
  -- The slots of the total, summed (migration 002).
  SELECT sum(count) INTO total FROM relation_stats
   WHERE profile_id = ids[1] AND rel_id = p_rel AND side = p_side AND prop = '';
  total := coalesce(total, 0);
  IF p_refuse IS NOT NULL AND total > p_refuse THEN
    status := 'too_many';
    RETURN;
  END IF;
  -- A negative limit: the profile and its total only (ties_list_ordered reads its own rows).
  IF p_limit < 0 THEN
    status := 'ok';
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

-- relations/get with sort, offset or filters (Ties extension, issue #17). The sort value is the
-- property read from the weights, typed by p_kind as SQLite compares it (numbers as float8, which
-- holds every int Ties accepts exactly; strings byte-wise, COLLATE "C"); rows without it sort last
-- in both directions, ties by the other id. One pass over the profile's relations: PostgreSQL keeps
-- the first offset + limit rows (top-N heapsort). matched counts the filtered rows when p_count.
-- Side b reads B's list of As first as a materialized CTE: on Citus an intermediate result
-- joined with relations on the As' shards, as ties_list does.
CREATE FUNCTION ties_list_ordered(p_rel integer, p_side text, p_q jsonb, p_after text, p_limit integer,
  p_refuse bigint, p_prop text, p_kind text, p_desc boolean, p_offset integer, p_low text, p_high text,
  p_min float8, p_max float8, p_count boolean,
  OUT status text, OUT ids text[], OUT total bigint, OUT items jsonb, OUT matched bigint)
LANGUAGE plpgsql STABLE AS $f$
DECLARE
  v text;
  src text;
  cond text := '';
  ord text;
BEGIN
  -- The type, the profile and its total as ties_list finds them (limit -1: no rows).
  SELECT l.status, l.ids, l.total INTO status, ids, total
    FROM ties_list(p_rel, p_side, p_q, '', -1, p_refuse) l;
  IF status <> 'ok' THEN
    RETURN;
  END IF;
  v := CASE
    WHEN p_prop IS NULL THEN 'NULL::float8'
    WHEN p_kind IN ('int', 'float') THEN format('(r.weights->>%L)::float8', p_prop)
    WHEN p_kind = 'bool' THEN format('(r.weights->>%L)::boolean', p_prop)
    ELSE format('(r.weights->>%L) COLLATE "C"', p_prop)
  END;
  IF p_side = 'a' THEN
    src := 'SELECT r.b AS other, r.weights, ' || v || ' AS v FROM relations r
      WHERE r.a = $1 AND r.rel_id = $2 AND r.b > $3 AND r.b >= $4 AND r.b <= $5';
  ELSE
    src := 'WITH x AS MATERIALIZED (SELECT k.a FROM relations_by_b k
        WHERE k.b = $1 AND k.rel_id = $2 AND k.a > $3 AND k.a >= $4 AND k.a <= $5)
      SELECT r.a AS other, r.weights, ' || v || ' AS v FROM x
      JOIN relations r ON r.a = x.a AND r.rel_id = $2 AND r.b = $1';
  END IF;
  -- Bounds are given only with a numeric sort (core checks), so v is a float8 here.
  IF p_min IS NOT NULL THEN cond := cond || ' AND s.v >= $6'; END IF;
  IF p_max IS NOT NULL THEN cond := cond || ' AND s.v <= $7'; END IF;
  ord := CASE
    WHEN p_prop IS NULL THEN 's.other'
    ELSE 's.v IS NULL, s.v ' || CASE WHEN p_desc THEN 'DESC' ELSE 'ASC' END || ', s.other'
  END;
  EXECUTE format('SELECT jsonb_agg(jsonb_build_array(s.other, s.weights) ORDER BY %s) FROM (
      SELECT s.* FROM (%s) s WHERE true %s ORDER BY %s LIMIT $8 OFFSET $9) s', ord, src, cond, ord)
    INTO items USING ids[1], p_rel, p_after, p_low, p_high, p_min, p_max, p_limit + 1, p_offset;
  items := coalesce(items, '[]');
  IF p_count THEN
    EXECUTE format('SELECT count(*) FROM (%s) s WHERE true %s', src, cond)
      INTO matched USING ids[1], p_rel, p_after, p_low, p_high, p_min, p_max;
  END IF;
  status := 'ok';
END
$f$;

-- props: the type's properties as this snapshot has them; stats: [[prop, count, isum as text,
-- fsum, fsum_c], ...], each summed over its slots (a float sum has one row: slot 0); tops:
-- {prop: [[b, value], ...]}.
CREATE FUNCTION ties_counter(p_rel integer, p_q jsonb,
  OUT status text, OUT ids text[], OUT props jsonb, OUT stats jsonb, OUT tops jsonb)
LANGUAGE plpgsql STABLE AS $f$
DECLARE
  t relation_types;
  v_kept boolean;
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
  SELECT coalesce(jsonb_agg(jsonb_build_array(x.prop, x.count, x.isum::text, x.fsum, x.fsum_c)), '[]') INTO stats
    FROM (SELECT prop, sum(count) AS count, sum(isum) AS isum, sum(fsum) AS fsum, sum(fsum_c) AS fsum_c
            FROM relation_stats WHERE profile_id = ids[1] AND rel_id = p_rel AND side = 'a'
           GROUP BY prop) x;
  -- Top rows exist for a profile past the threshold only (03-aggregates.sql, ties_tops_kept);
  -- below it, its few relations are ranked here, in the same order (value descending, then B):
  -- of the two sources one is switched off by v_kept, a constant the planner reads once.
  -- One snapshot for the whole function (STABLE): the mark and what it says are read together.
  v_kept := EXISTS (SELECT 1 FROM relation_stats
                     WHERE profile_id = ids[1] AND rel_id = p_rel AND side = 't' AND prop = '' AND slot = 0);
  SELECT coalesce(jsonb_object_agg(e->>'name', (
      SELECT coalesce(jsonb_agg(jsonb_build_array(x.b, x.value) ORDER BY x.value DESC, x.b), '[]')
        FROM ((SELECT b, value FROM relation_tops
                WHERE v_kept AND a = ids[1] AND rel_id = p_rel AND prop = e->>'name'
                ORDER BY value DESC, b LIMIT (e->>'top')::integer)
              UNION ALL
              (SELECT r.b, (r.weights -> (e->>'name'))::float8 FROM relations r
                WHERE NOT v_kept AND r.a = ids[1] AND r.rel_id = p_rel
                  AND jsonb_typeof(r.weights -> (e->>'name')) = 'number'
                ORDER BY 2 DESC, r.b LIMIT (e->>'top')::integer)) x)), '{}') INTO tops
    FROM jsonb_array_elements(t.properties) e WHERE ties_keeps_top(e);
  status := 'ok';
END
$f$;
