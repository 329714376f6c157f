-- Profiles: import, update, add, get and delete.

-- Upserts subscriptions (p_subs: [{resourceId, channel, contact, contactKey, status, priority?}],
-- one per key) and their match keys. The caller holds the profile's row (or has just created
-- it), so no other call writes its subscriptions meanwhile: the existing ones are updated, then
-- the new ones inserted. A subscription given without a priority keeps its own (0 when new).
CREATE FUNCTION ties_save_subscriptions(p_db integer, p_id text, p_subs jsonb) RETURNS void
LANGUAGE plpgsql AS $f$
BEGIN
  IF jsonb_array_length(p_subs) = 0 THEN
    RETURN;
  END IF;
  UPDATE subscriptions AS s
     SET contact = e->>'contact', status = e->>'status',
         priority = coalesce((e->>'priority')::integer, s.priority)
    FROM jsonb_array_elements(p_subs) e
   WHERE s.profile_id = p_id AND s.resource_id = (e->>'resourceId')::integer
     AND s.channel = e->>'channel' AND s.contact_key = e->>'contactKey';
  INSERT INTO subscriptions AS s (profile_id, resource_id, channel, contact_key, contact, status, priority)
  SELECT p_id, (e->>'resourceId')::integer, e->>'channel', e->>'contactKey', e->>'contact', e->>'status',
         coalesce((e->>'priority')::integer, 0)
    FROM jsonb_array_elements(p_subs) e
  ON CONFLICT (profile_id, resource_id, channel, contact_key) DO NOTHING;
  INSERT INTO match_keys (key, db_id, kind, resource_id, profile_id)
  SELECT e->>'contactKey', p_db,
         CASE WHEN e->>'channel' = 'email' THEN 'se' WHEN e->>'channel' = 'sms' THEN 'ss' ELSE 'sp' END,
         (e->>'resourceId')::integer, p_id
    FROM jsonb_array_elements(p_subs) e
  ON CONFLICT DO NOTHING;
END
$f$;

-- Two imports of one new identity at once must not create two profiles: they queue on this lock
-- (held to the end of the transaction).
CREATE FUNCTION ties_import_lock(p_db integer, p_q jsonb) RETURNS void
LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM pg_advisory_xact_lock(ties_ns('import'), hashtext(p_db || ' ' || CASE p_q->>'by'
    WHEN 'email' THEN 'e ' || (p_q->>'email') WHEN 'phone' THEN 'p ' || (p_q->>'phone')
    ELSE p_q::text END));
END
$f$;

-- The first statement of a write with update functions (postgres-profiles.ts): finds the profile
-- (import first takes the import lock) and, when there is exactly one, locks its row and answers
-- its fields, so that the functions apply to what the rest of the transaction overwrites.
CREATE FUNCTION ties_lock_profile(p_db integer, p_mode text, p_q jsonb, OUT ids text[], OUT fields jsonb)
LANGUAGE plpgsql AS $f$
BEGIN
  IF p_mode = 'import' THEN
    PERFORM ties_import_lock(p_db, p_q);
  END IF;
  ids := ties_find(p_db, p_q);
  IF cardinality(ids) = 1 THEN
    SELECT p.fields INTO fields FROM profiles p WHERE p.id = ids[1] FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      -- Deleted meanwhile: as if it had not been found.
      ids := '{}';
    END IF;
  END IF;
END
$f$;

-- p_set / p_remove: field changes of an existing profile; p_keys: the [kind, key] pairs of the
-- changed fields, replacing every pair of p_kinds. p_create_fields / p_create_keys: a created
-- profile's fields and pairs. status 'match': core reads ids. The match_keys inserts name the
-- primary key as their conflict target: a second profile's email violates match_keys_email and
-- fails the call (EMAIL_TAKEN), it is never skipped.
CREATE FUNCTION ties_save_profile(p_db integer, p_mode text, p_q jsonb, p_set jsonb, p_remove text[],
  p_keys jsonb, p_kinds text[], p_create_fields jsonb, p_create_keys jsonb, p_subs jsonb,
  p_new_id text, p_now text, OUT status text, OUT ids text[], OUT id text, OUT created boolean)
LANGUAGE plpgsql AS $f$
DECLARE
  v_keys jsonb;
BEGIN
  IF p_mode <> 'add' THEN
    IF p_mode = 'import' THEN
      PERFORM ties_import_lock(p_db, p_q);
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
        ON CONFLICT (key, db_id, kind, resource_id, profile_id) DO NOTHING;
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
  ON CONFLICT (key, db_id, kind, resource_id, profile_id) DO NOTHING;
  PERFORM ties_save_subscriptions(p_db, p_new_id, p_subs);
  status := 'ok';
  id := p_new_id;
  created := true;
END
$f$;

-- subs: [[resource_id, channel, contact, status, priority], ...] ordered as the SQLite store answers them.
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
  SELECT coalesce(jsonb_agg(jsonb_build_array(s.resource_id, s.channel, s.contact, s.status, s.priority)
                            ORDER BY s.resource_id, s.channel, s.contact_key), '[]') INTO subs
    FROM subscriptions s WHERE s.profile_id = ids[1];
  status := 'ok';
END
$f$;

-- Deletes a profile, its subscriptions and match keys, and every relation it takes part in on
-- either side, fixing the other profiles' aggregates. Written for Citus too (docs/scaling.md,
-- "Rules the functions follow"): rows are locked only by statements naming one distribution
-- value, and no statement joins distributed tables on anything but their distribution column.
CREATE FUNCTION ties_delete_profile(p_db integer, p_q jsonb, OUT status text, OUT ids text[])
LANGUAGE plpgsql AS $f$
DECLARE
  v_id text;
  v_keys jsonb;
  v_key jsonb;
  v_rel integer;
  v_r record;
  v_bs text[];
  v_as text[];
  v_rels integer[];
  v_weights jsonb[];
  v_deltas ties_delta[];
  v_bw jsonb[];
  v_arels integer[];
  v_brels integer[];
  v_at text;
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
  -- And its bucket, which bulk writers lock instead of the profile (01-helpers.sql).
  PERFORM pg_advisory_xact_lock(ties_ns('profile-bucket'), ties_lock_bucket(hashtext(v_id)));
  SELECT keys INTO v_keys FROM profiles WHERE id = v_id FOR UPDATE;
  IF NOT FOUND THEN
    ids := '{}';
    status := 'match';
    RETURN;
  END IF;
  -- Its relations, locked in key order (a, rel_id, b) so that two deletions never wait on each
  -- other crosswise: those where it is B and A sorts before it, then its own (all on its shard,
  -- one statement), then those where A sorts after it. One row lock per statement on A's shard.
  FOR v_r IN SELECT a, rel_id FROM relations_by_b WHERE b = v_id AND a < v_id COLLATE "C" ORDER BY a, rel_id LOOP
    PERFORM 1 FROM relations WHERE a = v_r.a AND rel_id = v_r.rel_id AND b = v_id FOR UPDATE;
  END LOOP;
  PERFORM 1 FROM relations WHERE a = v_id ORDER BY rel_id, b FOR UPDATE;
  FOR v_r IN SELECT a, rel_id FROM relations_by_b WHERE b = v_id AND a > v_id COLLATE "C" ORDER BY a, rel_id LOOP
    PERFORM 1 FROM relations WHERE a = v_r.a AND rel_id = v_r.rel_id AND b = v_id FOR UPDATE;
  END LOOP;
  -- As A: its relations (its shard), their keys on each B's shard, each B's total.
  WITH gone AS (DELETE FROM relations WHERE a = v_id RETURNING rel_id, b, weights)
  SELECT array_agg(b), array_agg(rel_id), array_agg(weights) INTO v_bs, v_rels, v_bw FROM gone;
  v_arels := v_rels;
  IF v_bs IS NOT NULL THEN
    DELETE FROM relations_by_b WHERE b = ANY (v_bs) AND a = v_id;
    SELECT array_agg(ROW(u.b, u.rel_id, 'b', 0, '', -1, 0, NULL, NULL, ties_slot())::ties_delta) INTO v_deltas
      FROM unnest(v_bs, v_rels) AS u(b, rel_id);
  END IF;
  -- As B: the relations on each A's shard (found through its keys on its own shard), each A's
  -- aggregates and top N.
  SELECT array_agg(a) INTO v_as FROM relations_by_b WHERE b = v_id;
  IF v_as IS NOT NULL THEN
    WITH gone AS (DELETE FROM relations WHERE a = ANY (v_as) AND b = v_id RETURNING a, rel_id, weights)
    SELECT array_agg(a), array_agg(rel_id), array_agg(weights) INTO v_as, v_rels, v_weights FROM gone;
    v_brels := v_rels;
    DELETE FROM relation_tops WHERE a = ANY (v_as) AND b = v_id;
    v_deltas := coalesce(v_deltas, '{}') || ARRAY(
      SELECT d FROM unnest(v_as, v_rels, v_weights) AS u(a, rel_id, weights)
        JOIN relation_types t ON t.rel_id = u.rel_id
       CROSS JOIN LATERAL ties_deltas(u.rel_id, t.properties, u.a, v_id, u.weights, NULL, true, false,
                                      ties_slot()) d);
    DELETE FROM relations_by_b WHERE b = v_id;
  END IF;
  PERFORM ties_apply(v_deltas, false, true);
  DELETE FROM relation_stats WHERE profile_id = v_id;
  DELETE FROM relation_tops WHERE a = v_id;
  -- Its match keys, each on its value's shard.
  FOR v_key IN SELECT e FROM jsonb_array_elements(v_keys) e LOOP
    DELETE FROM match_keys
     WHERE key = v_key->>1 AND db_id = p_db AND kind = v_key->>0 AND resource_id = 0 AND profile_id = v_id;
  END LOOP;
  FOR v_r IN SELECT resource_id, channel, contact_key FROM subscriptions
              WHERE profile_id = v_id LOOP
    DELETE FROM match_keys
     WHERE key = v_r.contact_key AND db_id = p_db
       AND kind = CASE WHEN v_r.channel = 'email' THEN 'se' WHEN v_r.channel = 'sms' THEN 'ss' ELSE 'sp' END
       AND resource_id = v_r.resource_id AND profile_id = v_id;
  END LOOP;
  DELETE FROM subscriptions WHERE profile_id = v_id;
  DELETE FROM profiles WHERE id = v_id;
  -- The change feed: one event per removed relation (10-change-log.sql), last, after every other
  -- lock of this call (the feed lock is held until commit).
  IF ties_feed_on() AND (v_bs IS NOT NULL OR v_brels IS NOT NULL) THEN
    PERFORM ties_feed_lock();
    v_at := ties_now_text();
    -- nextval in the outer query only, so that seqs follow the inner ORDER BY.
    INSERT INTO change_log (seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
    SELECT nextval('change_seq'), v_at, 'profiles/delete', o.rel_id, o.a, o.db_a, o.b, o.db_b, o.weights, NULL
      FROM (SELECT u.rel_id, u.a, t.db_a, u.b, t.db_b, u.weights FROM (
              SELECT x.rel_id, v_id AS a, x.b, x.weights
                FROM unnest(v_arels, v_bs, v_bw) AS x(rel_id, b, weights) WHERE v_bs IS NOT NULL
              UNION ALL
              SELECT x.rel_id, x.a, v_id AS b, x.weights
                FROM unnest(v_brels, v_as, v_weights) AS x(rel_id, a, weights) WHERE v_brels IS NOT NULL
            ) u JOIN relation_types t ON t.rel_id = u.rel_id ORDER BY u.rel_id, u.a, u.b) o;
  END IF;
  status := 'ok';
END
$f$;
