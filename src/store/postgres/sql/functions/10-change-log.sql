-- The change log (the change feed's outbox): appending an event inside the writing transaction,
-- reading a page, pruning.

-- Whether this connection logs changes: a server started with TIES_FEED=off sets ties.feed=off on
-- its connections; any other session (psql, another tool) logs.
CREATE FUNCTION ties_feed_on() RETURNS boolean LANGUAGE sql STABLE AS $f$
  SELECT coalesce(current_setting('ties.feed', true), '') <> 'off'
$f$;

-- The time of a change made without one from the caller (profile and type deletions), as core writes it.
CREATE FUNCTION ties_now_text() RETURNS text LANGUAGE sql VOLATILE AS $f$
  SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$f$;

-- Takes the feed's order: an exclusive transaction lock, held until the transaction commits, so
-- that seq values are taken and made visible one transaction at a time, in the same order (a reader
-- never sees a larger seq before a smaller one that commits later). Called last in every writing
-- function (nothing is locked after it, so it cannot take part in a deadlock); re-entrant.
CREATE FUNCTION ties_feed_lock() RETURNS void LANGUAGE sql VOLATILE AS $f$
  SELECT pg_advisory_xact_lock(ties_ns('feed'), 0)
$f$;

-- Appends one event (the caller checked ties_feed_on()).
CREATE FUNCTION ties_log(p_call text, p_rel integer, p_db_a integer, p_a text, p_db_b integer, p_b text,
  p_before jsonb, p_after jsonb, p_at text) RETURNS void
LANGUAGE plpgsql AS $f$
BEGIN
  IF NOT ties_feed_on() THEN
    RETURN;
  END IF;
  PERFORM ties_feed_lock();
  INSERT INTO change_log (seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
  VALUES (nextval('change_seq'), coalesce(p_at, ties_now_text()), p_call, p_rel, p_a, p_db_a, p_b, p_db_b,
          p_before, p_after);
END
$f$;

-- A page of events after p_after (at most p_limit), in one snapshot with the log's bounds. With a
-- filter, only seqs up to p_after + p_window are looked at (scanned_to says how far).
CREATE FUNCTION ties_read_changes(p_after bigint, p_limit integer, p_rel integer, p_profile text, p_window bigint,
  OUT events jsonb, OUT oldest bigint, OUT newest bigint, OUT pruned bigint, OUT scanned_to bigint)
LANGUAGE plpgsql STABLE AS $f$
BEGIN
  SELECT min(seq), max(seq) INTO oldest, newest FROM change_log;
  SELECT pruned_through INTO pruned FROM change_state;
  scanned_to := coalesce(newest, pruned);
  IF p_rel IS NULL AND p_profile IS NULL THEN
    SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.seq), '[]') INTO events
      FROM (SELECT * FROM change_log WHERE seq > p_after ORDER BY seq LIMIT p_limit) c;
  ELSE
    scanned_to := least(scanned_to, p_after + p_window);
    SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.seq), '[]') INTO events
      FROM (SELECT * FROM change_log
             WHERE seq > p_after AND seq <= scanned_to
               AND (p_rel IS NULL OR rel_id = p_rel)
               AND (p_profile IS NULL OR profile_a = p_profile OR profile_b = p_profile)
             ORDER BY seq LIMIT p_limit) c;
  END IF;
END
$f$;

-- Deletes at most p_max of the oldest events past the retention (older than p_older_than, or
-- beyond the newest p_keep); answers how many. Writers are never blocked: they only add rows at
-- the other end.
CREATE FUNCTION ties_prune_changes(p_older_than text, p_keep bigint, p_max integer) RETURNS integer
LANGUAGE plpgsql AS $f$
DECLARE
  v_gone bigint[] := '{}';
  v_more bigint[];
BEGIN
  IF p_keep IS NOT NULL THEN
    WITH gone AS (
      DELETE FROM change_log WHERE seq IN (
        SELECT seq FROM change_log WHERE seq <= (SELECT max(seq) FROM change_log) - p_keep ORDER BY seq LIMIT p_max)
      RETURNING seq)
    SELECT coalesce(array_agg(seq), '{}') INTO v_gone FROM gone;
  END IF;
  IF cardinality(v_gone) < p_max AND p_older_than IS NOT NULL THEN
    WITH gone AS (
      DELETE FROM change_log WHERE seq IN (
        SELECT o.seq FROM (SELECT seq, at FROM change_log ORDER BY seq LIMIT p_max - cardinality(v_gone)) o
         WHERE o.at < p_older_than COLLATE "C")
      RETURNING seq)
    SELECT coalesce(array_agg(seq), '{}') INTO v_more FROM gone;
    v_gone := v_gone || v_more;
  END IF;
  IF cardinality(v_gone) > 0 THEN
    UPDATE change_state SET pruned_through = greatest(pruned_through, (SELECT max(x) FROM unnest(v_gone) x));
  END IF;
  RETURN cardinality(v_gone);
END
$f$;
