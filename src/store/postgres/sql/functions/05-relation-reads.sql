-- Relation reads: relations/get and get_counter.

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
-- fsum, fsum_c], ...], each summed over its slots (a float sum has one row: slot 0); tops:
-- {prop: [[b, value], ...]}.
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
  SELECT coalesce(jsonb_agg(jsonb_build_array(x.prop, x.count, x.isum::text, x.fsum, x.fsum_c)), '[]') INTO stats
    FROM (SELECT prop, sum(count) AS count, sum(isum) AS isum, sum(fsum) AS fsum, sum(fsum_c) AS fsum_c
            FROM relation_stats WHERE profile_id = ids[1] AND rel_id = p_rel AND side = 'a'
           GROUP BY prop) x;
  SELECT coalesce(jsonb_object_agg(e->>'name', (
      SELECT coalesce(jsonb_agg(jsonb_build_array(x.b, x.value) ORDER BY x.value DESC, x.b), '[]')
        FROM (SELECT b, value FROM relation_tops
               WHERE a = ids[1] AND rel_id = p_rel AND prop = e->>'name'
               ORDER BY value DESC, b LIMIT (e->>'top')::integer) x)), '{}') INTO tops
    FROM jsonb_array_elements(t.properties) e WHERE ties_keeps_top(e);
  status := 'ok';
END
$f$;
