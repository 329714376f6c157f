-- Profiles: import, update, add, get and delete.

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
    SELECT ROW(as_a.b, as_a.rel_id, 'b', 0, '', -1, 0, NULL, NULL, ties_slot())::ties_delta FROM as_a
    UNION ALL
    SELECT d FROM as_b JOIN relation_types t ON t.rel_id = as_b.rel_id
     CROSS JOIN LATERAL ties_deltas(as_b.rel_id, t.properties, as_b.a, v_id, as_b.weights, NULL, true, false,
                                        ties_slot()) d
  ) INTO v_deltas;
  DELETE FROM relations_by_b WHERE b = v_id;
  PERFORM ties_apply(v_deltas, false, true);
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
