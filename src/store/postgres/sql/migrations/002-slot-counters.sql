-- Schema version 2: hot counters split over slot rows.
--
-- A relation write used to add to one aggregate row per (profile, type, side, property): B's total
-- in particular, which every attach to a popular B updates. Row locks are held until COMMIT (and
-- its fsync), so consecutive writers sharing a B queued on that one row. Now every aggregate row
-- also has a slot: a write adds to the slot of its connection (ties_slot(): the backend pid modulo
-- 16), so writers on different connections update different rows, and reads sum the slots.
-- Counts and int sums are integers (bigint, numeric): their sum over slots is exact in any order.
-- A float sum is not — its compensated steps must run in one order to give SQLite's doubles to the
-- bit — so a property keeping a float sum keeps all of its row in slot 0, as before.
--
-- A 0.1.0 store's rows become slot 0. ADD COLUMN with a constant default rewrites nothing; the new
-- primary key is one index build over the aggregate rows (one per profile, type, side and
-- property — a small part of a store, whose bulk is its relations, which this leaves alone).

ALTER TABLE relation_stats ADD COLUMN slot smallint NOT NULL DEFAULT 0;
-- Two statements, not one ALTER TABLE with two subcommands: Citus refuses ADD CONSTRAINT beside
-- other subcommands on a distributed table (docs/scaling.md).
ALTER TABLE relation_stats DROP CONSTRAINT relation_stats_pkey;
ALTER TABLE relation_stats ADD CONSTRAINT relation_stats_pkey PRIMARY KEY (profile_id, rel_id, side, prop, slot);

-- A delta names the slot it goes to.
ALTER TYPE ties_delta ADD ATTRIBUTE slot smallint;

-- ties_account no longer bumps totals one row at a time (sql/functions/03-aggregates.sql).
DROP FUNCTION IF EXISTS ties_bump(text, integer, text, integer);
