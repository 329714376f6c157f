-- Helpers of every other function file: advisory lock namespaces, float sums, property flags.

-- Advisory lock namespaces, per schema so that stores in two schemas of one database never share
-- a lock.
CREATE FUNCTION ties_ns(p_kind text) RETURNS integer LANGUAGE sql STABLE AS $f$
  SELECT hashtext(current_schema() || '/' || p_kind)
$f$;

-- Bulk writers lock by bucket. A write locks each profile it names (namespace 'profile', key
-- hashtext(id); a deletion takes it exclusive) and each unmarked A whose top rows it may touch
-- ('tops', ties_top_lock_key). Each such lock is one entry of PostgreSQL's shared lock table,
-- which holds max_locks_per_transaction × max_connections entries for all sessions (6,400 by
-- default): a chunk of 8,000 items over as many As and Bs would need ~24,000 and fail with
-- "out of shared memory" (docs/decisions.md, "Bulk writers lock by bucket"). So attach_batch and
-- `ties import` take one lock per bucket instead ('profile-bucket', 'tops-bucket': the key's low
-- 8 bits, at most 256 of each per chunk), and whoever takes a key exclusive — a profile's deletion,
-- a build of A's top rows — takes its bucket exclusive too. Single writes keep the per-key locks:
-- a deletion waits for both kinds of writers, and single writes never wait on each other's buckets.
CREATE FUNCTION ties_lock_bucket(p_key integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$
  SELECT p_key & 255
$f$;

-- The aggregate slot of this connection (migration 002): writers on different connections add to
-- different rows of a hot counter; 16 slots cover the default pool of 10 connections with room.
CREATE FUNCTION ties_slot() RETURNS smallint LANGUAGE sql STABLE AS $f$
  SELECT (pg_backend_pid() % 16)::smallint
$f$;

-- Kahan-Babuska-Neumaier summation as SQLite's sum() does it (a rebuilt float sum starts exact).
CREATE FUNCTION ties_fsum_step(s float8[], x float8) RETURNS float8[] LANGUAGE sql IMMUTABLE AS $f$
  SELECT CASE WHEN x IS NULL THEN s ELSE ARRAY[s[1] + x, s[2] + CASE WHEN abs(s[1]) > abs(x)
    THEN (s[1] - (s[1] + x)) + x ELSE (x - (s[1] + x)) + s[1] END] END
$f$;
CREATE FUNCTION ties_fsum_final(s float8[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS $f$
  SELECT s[1] + s[2]
$f$;
CREATE AGGREGATE ties_fsum(float8) (
  SFUNC = ties_fsum_step, STYPE = float8[], FINALFUNC = ties_fsum_final, INITCOND = '{0,0}'
);

CREATE FUNCTION ties_keeps_top(p jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$
  SELECT coalesce((p->>'top')::integer, 0) > 0 AND p->>'type' IN ('int', 'float')
$f$;
CREATE FUNCTION ties_keeps_sum(p jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$
  SELECT coalesce((p->>'sum')::boolean, false) AND p->>'type' IN ('int', 'float')
$f$;

-- One compensated (Kahan-Neumaier) step of a float sum: [s + x, c + the rounding error]. Only
-- called when s or x is big enough for s + x to leave float8 (otherwise the same expressions run
-- inline): that refuses the write with SQLSTATE TI001 naming the property, as SQLite refuses an
-- infinite sum, and nothing of the call is kept.
CREATE FUNCTION ties_fstep(s float8, c float8, x float8, p_prop text) RETURNS float8[]
LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE
  t float8;
BEGIN
  BEGIN
    t := s + x;
  EXCEPTION WHEN numeric_value_out_of_range THEN
    RAISE EXCEPTION 'the float sum of % would leave the double range', p_prop
      USING ERRCODE = 'TI001', DETAIL = p_prop;
  END;
  RETURN ARRAY[t, c + CASE WHEN abs(s) >= abs(x) THEN (s - t) + x ELSE (x - t) + s END];
END
$f$;
