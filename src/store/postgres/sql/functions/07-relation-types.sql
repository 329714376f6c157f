-- Relation types: updates that rebuild aggregates, deletion; catalogue change notifications.

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
DECLARE
  t relation_types;
BEGIN
  PERFORM pg_advisory_xact_lock(ties_ns('type'), p_rel);
  DELETE FROM relation_types WHERE rel_id = p_rel RETURNING * INTO t;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  -- The change feed: one event per relation of the type (10-change-log.sql). The type's exclusive
  -- lock keeps every writer of its relations out, so the feed lock comes after it safely.
  IF ties_feed_on() THEN
    PERFORM ties_feed_lock();
    INSERT INTO change_log (seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
    SELECT nextval('change_seq'), ties_now_text(), 'relations/types/delete', p_rel, r.a, t.db_a, r.b, t.db_b,
           r.weights, NULL
      FROM (SELECT a, b, weights FROM relations WHERE rel_id = p_rel ORDER BY a, b) r;
  END IF;
  DELETE FROM relations WHERE rel_id = p_rel;
  DELETE FROM relations_by_b WHERE rel_id = p_rel;
  DELETE FROM relation_stats WHERE rel_id = p_rel;
  DELETE FROM relation_tops WHERE rel_id = p_rel;
  PERFORM ties_catalog_changed();
  RETURN true;
END
$f$;
