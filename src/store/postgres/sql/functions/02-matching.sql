-- Matching: finding profiles by a ProfileQuery, and the locks a relation write takes on them.

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
  WHEN 'push' THEN
    SELECT array_agg(profile_id) INTO ids FROM (
      SELECT DISTINCT m.profile_id FROM match_keys m
       WHERE m.key = q->>'key' AND m.db_id = p_db AND m.kind = 'sp'
         AND (v_res IS NULL OR m.resource_id = v_res)
       LIMIT 2) found;
  WHEN 'contact' THEN
    -- email_phone(_sub): the profiles the email or the phone finds, in fields or in subscriptions.
    SELECT array_agg(profile_id) INTO ids FROM (
      SELECT DISTINCT m.profile_id FROM match_keys m
       WHERE m.db_id = p_db
         AND ((m.key = q->>'email' AND ((v_in_p AND m.kind = 'e')
                 OR (v_in_s AND m.kind = 'se' AND (v_res IS NULL OR m.resource_id = v_res))))
           OR (m.key = q->>'phone' AND ((v_in_p AND m.kind = 'p')
                 OR (v_in_s AND m.kind = 'ss' AND (v_res IS NULL OR m.resource_id = v_res)))))
       LIMIT 2) found;
  WHEN 'none' THEN
    ids := '{}';
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
