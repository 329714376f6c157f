-- Relation writes: attach, strengthen, edit, detach, each one call of the store.

-- status: 'ok', 'no_type' (deleted meanwhile), 'pair' (core reads a_ids/b_ids), 'duplicate',
-- 'no_relation', 'overflow'. p_call: the call the change feed records (10-change-log.sql); each
-- function appends its event last, once the change is made.

-- ties_attach answers one text[] rather than the others' (status, a_ids, b_ids) row: [status, a, b]
-- ('ok', 'duplicate'), ['no_type'], or ['pair', count of A's ids, count of B's ids, A's ids…, B's
-- ids…] — one column to send and parse instead of a record taken apart field by field.
CREATE FUNCTION ties_attach(p_rel integer, p_a jsonb, p_b jsonb, p_weights jsonb, p_now text, p_call text)
RETURNS text[] LANGUAGE plpgsql AS $f$
DECLARE
  t relation_types;
  v_db_a integer;
  v_db_b integer;
  v_props jsonb;
  a_ids text[];
  b_ids text[];
  v_a text;
  v_b text;
  v_top text[];
  v_kept boolean;
  v_total bigint;
  v_locked boolean;
BEGIN
  -- The hottest call, written out rather than through ties_type_for_write, ties_pair,
  -- ties_account and ties_tops_kept (same locks, same order, same rows): the generic delta set
  -- costs backend CPU, which bounds attach on a machine whose cores are saturated
  -- (docs/benchmarks.md, "PostgreSQL attach, lean side by side"). Locks and calls returning void
  -- are taken as expressions (v_locked := …), not PERFORM: PL/pgSQL evaluates a plain expression
  -- directly, where PERFORM runs a query through the executor.
  v_locked := pg_advisory_xact_lock_shared(ties_ns('type'), p_rel) IS NOT NULL;
  -- The type's three columns as plain variables; the whole row (a record variable, costlier to
  -- fill) only on the paths that hand it on (ties_pair, ties_account). Under the type's lock it
  -- cannot change in between.
  SELECT db_a, db_b, properties INTO v_db_a, v_db_b, v_props FROM relation_types WHERE rel_id = p_rel;
  IF NOT FOUND THEN
    RETURN ARRAY['no_type'];
  END IF;
  IF p_a->>'by' = 'id' AND p_b->>'by' = 'id' THEN
    -- By id (profiles.id is the key): at most one profile per side; B is looked up only when A
    -- was found, as ties_pair does.
    v_locked := pg_advisory_xact_lock_shared(ties_ns('profile'), hashtext(p_a->>'id')) IS NOT NULL;
    SELECT id INTO v_a FROM profiles WHERE id = p_a->>'id' AND db_id = v_db_a;
    IF v_a IS NOT NULL THEN
      v_locked := pg_advisory_xact_lock_shared(ties_ns('profile'), hashtext(p_b->>'id')) IS NOT NULL;
      SELECT id INTO v_b FROM profiles WHERE id = p_b->>'id' AND db_id = v_db_b;
    END IF;
    IF v_a IS NULL OR v_b IS NULL OR v_a = v_b THEN
      RETURN ARRAY['pair', (v_a IS NOT NULL)::integer::text, (v_b IS NOT NULL)::integer::text]
        || array_remove(ARRAY[v_a, v_b], NULL);
    END IF;
  ELSE
    SELECT * INTO t FROM relation_types WHERE rel_id = p_rel;
    SELECT * INTO a_ids, b_ids FROM ties_pair(t, p_a, p_b);
    IF cardinality(a_ids) <> 1 OR cardinality(b_ids) <> 1 OR a_ids[1] = b_ids[1] THEN
      RETURN ARRAY['pair', cardinality(a_ids)::text, cardinality(b_ids)::text] || a_ids || b_ids;
    END IF;
    v_a := a_ids[1];
    v_b := b_ids[1];
  END IF;
  INSERT INTO relations (a, rel_id, b, weights, created_at, updated_at)
  VALUES (v_a, p_rel, v_b, p_weights, p_now, p_now)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN ARRAY['duplicate', v_a, v_b];
  END IF;
  INSERT INTO relations_by_b (b, rel_id, a) VALUES (v_b, p_rel, v_a);
  IF v_props @? '$[*] ? (@.sum == true && @.type == "float")' THEN
    -- A float sum's compensated steps: the general path (ties_apply).
    IF t.rel_id IS NULL THEN
      SELECT * INTO t FROM relation_types WHERE rel_id = p_rel;
    END IF;
    PERFORM ties_account(t, v_a, v_b, NULL, p_weights);
  ELSE
    IF v_props @? '$[*] ? (@.top > 0 && (@.type == "int" || @.type == "float"))' THEN
      -- ties_tops_kept written out: A's top-row lock shared and one read of its mark and total;
      -- ties_tops_claim (the exclusive locks and the build) only when this relation takes an
      -- unmarked A past the threshold (once in A's life: PERFORM is fine there).
      v_locked := pg_advisory_xact_lock_shared(ties_ns('tops'), ties_top_lock_key(p_rel, v_a)) IS NOT NULL;
      SELECT coalesce(bool_or(side = 't'), false), coalesce(sum(count) FILTER (WHERE side = 'a'), 0)
        INTO v_kept, v_total
        FROM relation_stats WHERE profile_id = v_a AND rel_id = p_rel AND side IN ('a', 't') AND prop = '';
      -- Rows for this relation only when A kept them already: a build here (past the threshold)
      -- writes them from A's relations, this one included.
      IF v_kept THEN
        v_top := ties_top_props(v_props);
      ELSIF v_total + 1 > ties_top_rows_from() THEN
        PERFORM ties_tops_claim(p_rel, v_props, v_a);
      END IF;
    END IF;
    -- What ties_deltas and ties_apply make of a new relation without float sums: A's total, B's
    -- total and A's row of each property it has (count 1, the int sum), in this connection's slot,
    -- one statement, rows in ties_apply's order (profile, side, the total before the properties).
    INSERT INTO relation_stats AS s (profile_id, rel_id, side, prop, slot, count, isum)
    SELECT d.profile_id, p_rel, d.side, d.prop, ties_slot(), 1, d.isum
      FROM (SELECT v_a AS profile_id, 'a' AS side, 0::bigint AS ord, '' AS prop, 0::numeric AS isum
            UNION ALL
            SELECT v_b, 'b', 0, '', 0
            UNION ALL
            SELECT v_a, 'a', x.ord, x.e->>'name',
                   CASE WHEN ties_keeps_sum(x.e) THEN (p_weights -> (x.e->>'name'))::numeric ELSE 0 END
              FROM jsonb_array_elements(v_props) WITH ORDINALITY AS x(e, ord)
             WHERE p_weights ? (x.e->>'name')) d
     ORDER BY d.profile_id COLLATE "C", d.side COLLATE "C", d.ord
    ON CONFLICT (profile_id, rel_id, side, prop, slot) DO UPDATE SET
      count = s.count + 1, isum = s.isum + EXCLUDED.isum;
    IF v_top IS NOT NULL THEN
      INSERT INTO relation_tops (a, rel_id, prop, b, value)
      SELECT v_a, p_rel, n.name, v_b, ties_top_value(p_weights, n.name)
        FROM unnest(v_top) AS n(name)
       WHERE ties_top_value(p_weights, n.name) IS NOT NULL;
    END IF;
  END IF;
  v_locked := ties_log(p_call, p_rel, v_db_a, v_a, v_db_b, v_b, NULL, p_weights, p_now) IS NOT NULL;
  RETURN ARRAY['ok', v_a, v_b];
END
$f$;

-- p_add: [[name, amount], ...] in the client's order (the first overflowing property is reported);
-- p_set: bool and string values to set.
CREATE FUNCTION ties_strengthen(p_rel integer, p_a jsonb, p_b jsonb, p_add jsonb, p_set jsonb, p_now text,
  p_call text, OUT status text, OUT a_ids text[], OUT b_ids text[], OUT created boolean,
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
      PERFORM ties_log(p_call, p_rel, t.db_a, v_a, t.db_b, v_b, NULL, v_new, p_now);
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
  PERFORM ties_log(p_call, p_rel, t.db_a, v_a, t.db_b, v_b, v_old, v_new, p_now);
  status := 'ok';
  created := false;
END
$f$;

-- p_set: values to overwrite; p_remove: properties to remove (given as null).
CREATE FUNCTION ties_edit(p_rel integer, p_a jsonb, p_b jsonb, p_set jsonb, p_remove text[], p_now text,
  p_call text, OUT status text, OUT a_ids text[], OUT b_ids text[], OUT created boolean)
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
      PERFORM ties_log(p_call, p_rel, t.db_a, v_a, t.db_b, v_b, NULL, p_set, p_now);
      status := 'ok';
      created := true;
      RETURN;
    END IF;
  END LOOP;
  v_new := (v_old - p_remove) || p_set;
  UPDATE relations SET weights = v_new, updated_at = p_now WHERE a = v_a AND rel_id = p_rel AND b = v_b;
  PERFORM ties_account(t, v_a, v_b, v_old, v_new);
  PERFORM ties_log(p_call, p_rel, t.db_a, v_a, t.db_b, v_b, v_old, v_new, p_now);
  status := 'ok';
  created := false;
END
$f$;

CREATE FUNCTION ties_detach(p_rel integer, p_a jsonb, p_b jsonb, p_now text, p_call text,
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
  PERFORM ties_log(p_call, p_rel, t.db_a, a_ids[1], t.db_b, b_ids[1], v_old, NULL, p_now);
  status := 'ok';
END
$f$;
