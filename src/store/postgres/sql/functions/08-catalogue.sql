-- Catalogue and tokens: the writes that every server's cache must hear of (each notifies
-- ties_catalog in its transaction), and the one read that loads the whole catalogue.

-- Every database, resource and relation type as three JSON arrays in id order.
CREATE FUNCTION ties_load_catalog(OUT databases jsonb, OUT resources jsonb, OUT types jsonb)
LANGUAGE sql STABLE AS $f$
  SELECT
    (SELECT coalesce(jsonb_agg(to_jsonb(d) ORDER BY d.id), '[]') FROM databases d),
    (SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.id), '[]') FROM resources r),
    (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.rel_id), '[]') FROM relation_types t)
$f$;

CREATE FUNCTION ties_create_database(p_name text, p_description text, p_fields jsonb, p_now text)
RETURNS SETOF databases LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM ties_catalog_changed();
  RETURN QUERY INSERT INTO databases (name, description, custom_fields, created_at)
    VALUES (p_name, p_description, p_fields, p_now) RETURNING *;
END
$f$;

-- Appends custom fields (core checked their names); no row when the database does not exist.
CREATE FUNCTION ties_add_database_fields(p_id integer, p_fields jsonb)
RETURNS SETOF databases LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM ties_catalog_changed();
  RETURN QUERY UPDATE databases SET custom_fields = custom_fields || p_fields WHERE id = p_id RETURNING *;
END
$f$;

CREATE FUNCTION ties_create_resource(p_name text, p_channels jsonb, p_db_ids jsonb, p_url text,
  p_trk_domain text, p_now text)
RETURNS SETOF resources LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM ties_catalog_changed();
  RETURN QUERY INSERT INTO resources (name, channels, db_ids, url, trk_domain, created_at)
    VALUES (p_name, p_channels, p_db_ids, p_url, p_trk_domain, p_now) RETURNING *;
END
$f$;

CREATE FUNCTION ties_create_relation_type(p_name text, p_db_a integer, p_db_b integer, p_props jsonb,
  p_now text) RETURNS SETOF relation_types LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM ties_catalog_changed();
  RETURN QUERY INSERT INTO relation_types (name, db_a, db_b, properties, created_at)
    VALUES (p_name, p_db_a, p_db_b, p_props, p_now) RETURNING *;
END
$f$;

-- p_upsert: an existing token with this hash gets the given rights instead of an error.
CREATE FUNCTION ties_create_token(p_name text, p_rights jsonb, p_hash text, p_now text, p_upsert boolean)
RETURNS SETOF tokens LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM ties_catalog_changed();
  IF p_upsert THEN
    RETURN QUERY INSERT INTO tokens AS t (name, rights, hash, created_at)
      VALUES (p_name, p_rights, p_hash, p_now)
      ON CONFLICT (hash) DO UPDATE SET rights = EXCLUDED.rights RETURNING *;
  ELSE
    RETURN QUERY INSERT INTO tokens (name, rights, hash, created_at)
      VALUES (p_name, p_rights, p_hash, p_now) RETURNING *;
  END IF;
END
$f$;

-- Revokes the token with id p_id, or every token named p_name; answers the ids revoked.
CREATE FUNCTION ties_revoke_tokens(p_id integer, p_name text) RETURNS SETOF integer
LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM ties_catalog_changed();
  RETURN QUERY DELETE FROM tokens WHERE id = p_id OR name = p_name RETURNING id;
END
$f$;

-- Records when tokens were last used (batched by the server); never moves a time backwards.
CREATE FUNCTION ties_touch_tokens(p_ids integer[], p_ats text[]) RETURNS void LANGUAGE sql AS $f$
  UPDATE tokens t SET last_used_at = u.at
    FROM unnest(p_ids, p_ats) AS u(id, at)
   WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)
$f$;
