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

-- The feed's order without making writers wait on each other: every writer takes a SHARED
-- transaction lock before it takes a seq and holds it until it commits or rolls back. A reader reads
-- the sequence's last value first, then the transactions holding that lock (ties_feed_horizon), and
-- reads only up to that value once all of them have ended (ties_feed_unsettled answers the ones
-- still running): any transaction that took a seq up to it held the lock when the holders were
-- read, so once they have ended every seq up to it is committed or gone for good, and a reader
-- never sees a larger seq before a smaller one that commits later. (An exclusive lock gave the same
-- order by making writes commit one at a time: 0.31 of the attach rate with the feed off.) Called
-- before any seq is taken; re-entrant; nothing takes it exclusively, so it cannot deadlock.
CREATE FUNCTION ties_feed_lock() RETURNS void LANGUAGE sql VOLATILE AS $f$
  SELECT pg_advisory_xact_lock_shared(ties_ns('feed'), 0)
$f$;

-- The transactions (virtual ids) among p_only, or all when p_only is null, holding the feed lock now,
-- other than the caller's.
CREATE FUNCTION ties_feed_holders(p_only text[]) RETURNS text[] LANGUAGE sql VOLATILE AS $f$
  SELECT coalesce(array_agg(DISTINCT l.virtualtransaction), '{}')
    FROM pg_locks l
   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.objid = 0
     AND l.classid = ties_ns('feed')::oid
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.pid IS DISTINCT FROM pg_backend_pid()
     AND (p_only IS NULL OR l.virtualtransaction = ANY (p_only))
$f$;

-- The horizon candidate: the last seq taken, then the transactions that may still hold seqs up to it
-- (read in this order: see ties_feed_lock).
CREATE FUNCTION ties_feed_horizon(OUT upto bigint, OUT holders text[]) LANGUAGE plpgsql VOLATILE AS $f$
BEGIN
  SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END INTO upto FROM change_seq s;
  holders := ties_feed_holders(NULL);
END
$f$;

-- Which of the given holders are still running.
CREATE FUNCTION ties_feed_unsettled(p_holders text[]) RETURNS text[] LANGUAGE sql VOLATILE AS $f$
  SELECT ties_feed_holders(p_holders)
$f$;

-- Appends one event (the caller checked ties_feed_on()).
CREATE FUNCTION ties_log(p_call text, p_rel integer, p_db_a integer, p_a text, p_db_b integer, p_b text,
  p_before jsonb, p_after jsonb, p_at text) RETURNS void
LANGUAGE plpgsql AS $f$
DECLARE
  v_locked boolean;
BEGIN
  IF NOT ties_feed_on() THEN
    RETURN;
  END IF;
  -- An expression, not PERFORM (no executor run for a call returning void).
  v_locked := ties_feed_lock() IS NOT NULL;
  INSERT INTO change_log (seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
  VALUES (nextval('change_seq'), coalesce(p_at, ties_now_text()), p_call, p_rel, p_a, p_db_a, p_b, p_db_b,
          p_before, p_after);
END
$f$;

-- A page of events after p_after and up to p_upto, a settled horizon (at most p_limit), in one
-- snapshot with the log's bounds. With a filter, only seqs up to p_after + p_window are looked at
-- (scanned_to says how far).
CREATE FUNCTION ties_read_changes(p_after bigint, p_upto bigint, p_limit integer, p_rel integer, p_profile text,
  p_window bigint,
  OUT events jsonb, OUT oldest bigint, OUT newest bigint, OUT pruned bigint, OUT scanned_to bigint)
LANGUAGE plpgsql STABLE AS $f$
BEGIN
  SELECT min(seq), max(seq) INTO oldest, newest FROM change_log;
  SELECT pruned_through INTO pruned FROM change_state;
  scanned_to := least(coalesce(newest, pruned), greatest(p_upto, pruned));
  IF p_rel IS NULL AND p_profile IS NULL THEN
    SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.seq), '[]') INTO events
      FROM (SELECT * FROM change_log WHERE seq > p_after AND seq <= p_upto ORDER BY seq LIMIT p_limit) c;
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
