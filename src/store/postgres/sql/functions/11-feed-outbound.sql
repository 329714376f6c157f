-- Webhooks and feed cursors (src/core/outbound-store.ts): a cursor is a durable position in
-- change_log with a lease. Leases are taken and checked in single statements against the
-- PostgreSQL server's clock, so several Ties servers (whatever their own clocks say) never hold
-- one cursor at once.

-- Unix ms of the server's clock.
CREATE FUNCTION ties_now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS $f$
  SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint
$f$;

-- The newest seq the log has handed out and made visible (pruned events included); 0 for a log
-- never written: a new cursor's start. Writers commit in any order (10-change-log.sql), so an
-- event of a write committing at the same moment as the cursor's creation may fall just below it;
-- every write that commits after this statement started has a larger seq or had its seq taken
-- concurrently with it.
-- plpgsql, not sql: its body is checked when it runs, not when the function files are applied.
CREATE FUNCTION ties_feed_head() RETURNS bigint LANGUAGE plpgsql STABLE AS $f$
BEGIN
  RETURN greatest(coalesce((SELECT max(seq) FROM change_log), 0),
    (SELECT pruned_through FROM change_state WHERE id = 1), 0);
END
$f$;

-- Creates the webhook and its cursor at the head of the log; answers its id. (No table row types in
-- these signatures: the function files are also applied to schemas older than the tables.)
CREATE FUNCTION ties_create_webhook(p_url text, p_rel_id integer, p_profile_id text, p_secret text,
  p_now text) RETURNS integer LANGUAGE plpgsql AS $f$
DECLARE
  v_id integer;
BEGIN
  INSERT INTO webhooks (url, rel_id, profile_id, secret, created_at)
    VALUES (p_url, p_rel_id, p_profile_id, p_secret, p_now) RETURNING id INTO v_id;
  INSERT INTO feed_cursors (name, position) VALUES ('webhook:' || v_id, ties_feed_head());
  RETURN v_id;
END
$f$;

CREATE FUNCTION ties_delete_webhook(p_id integer) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
  DELETE FROM feed_cursors WHERE name = 'webhook:' || p_id;
  DELETE FROM webhooks WHERE id = p_id;
  RETURN FOUND;
END
$f$;

-- Takes or renews the lease when the cursor is free, expired or already p_owner's (p_create: make
-- the cursor at the head of the log first when it does not exist). Null: someone else holds it.
CREATE FUNCTION ties_claim_feed_cursor(p_name text, p_owner text, p_lease_ms bigint, p_create boolean)
RETURNS jsonb LANGUAGE plpgsql AS $f$
DECLARE
  v_cursor jsonb;
BEGIN
  IF p_create THEN
    INSERT INTO feed_cursors (name, position) VALUES (p_name, ties_feed_head())
      ON CONFLICT (name) DO NOTHING;
  END IF;
  UPDATE feed_cursors c
    SET lease_owner = p_owner, lease_until = ties_now_ms() + p_lease_ms
    WHERE c.name = p_name
      AND (c.lease_owner IS NULL OR c.lease_owner = p_owner OR c.lease_until < ties_now_ms())
    RETURNING to_jsonb(c) INTO v_cursor;
  RETURN v_cursor;
END
$f$;

-- Records a step of the lease holder (progress, a failure, or only a renewal); false when p_owner
-- no longer holds the lease (another server took it over: this one stops).
CREATE FUNCTION ties_update_feed_cursor(p_name text, p_owner text, p_lease_ms bigint,
  p_advance boolean, p_position bigint, p_last_seq bigint, p_at text,
  p_failed boolean, p_error text, p_next_attempt_at text) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
  UPDATE feed_cursors SET lease_until = ties_now_ms() + p_lease_ms,
    position = CASE WHEN p_advance THEN greatest(position, p_position) ELSE position END,
    last_delivered_seq = CASE WHEN p_advance AND p_last_seq IS NOT NULL THEN p_last_seq
      ELSE last_delivered_seq END,
    delivered_at = CASE WHEN p_advance AND p_last_seq IS NOT NULL THEN p_at ELSE delivered_at END,
    failures = CASE WHEN p_failed THEN failures + 1 WHEN p_advance THEN 0 ELSE failures END,
    last_error = CASE WHEN p_failed THEN p_error WHEN p_advance THEN NULL ELSE last_error END,
    next_attempt_at = CASE WHEN p_failed THEN p_next_attempt_at WHEN p_advance THEN NULL
      ELSE next_attempt_at END
  WHERE name = p_name AND lease_owner = p_owner;
  RETURN FOUND;
END
$f$;
