-- Schema version 10: relation_stats pages keep half their room for updates (fillfactor 50).
--
-- Every attach and every bulk chunk updates the aggregate rows of its profiles (count and int sum
-- in the writer's slot row). Full pages made each such update a new row version on another page
-- and a new entry in relation_stats_pkey (pg_stat_user_tables: 0 of 5,000 updates HOT after two
-- 8,000-item chunks); with room on the page it stays there, HOT, with no index entry (24,999 of
-- 25,000), and the next access prunes the old versions. A bulk chunk measured 1.06-1.12 x faster
-- (docs/benchmarks.md, "the chunk's parameter"). Only pages written from now on keep the room:
-- no rewrite of an existing table (on Citus the setting goes to every shard).

ALTER TABLE relation_stats SET (fillfactor = 50);
