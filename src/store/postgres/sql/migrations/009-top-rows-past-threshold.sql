-- Schema version 9: top rows only for profiles with many relations.
--
-- relation_tops held one row per relation and top-keeping property, each with two index entries
-- (its key and relation_tops_ranked): on a store of many small profiles most of the B-tree entries
-- a relation cost, and two thirds of a set-based load's time (docs/benchmarks.md, "PostgreSQL,
-- storage v2"). Now a profile A keeps top rows for a type only once it has more than 64 relations
-- of it (SQLite's TOP_ROWS.from); below, get_counter ranks A's few relations itself. The aggregate
-- row (A, type, side 't', prop '', slot 0, count 1) marks an A that keeps them
-- (sql/functions/03-aggregates.sql, ties_tops_kept; the threshold is ties_top_rows_from()).
--
-- Existing stores: every A with more than 64 relations of a type is marked and keeps its rows;
-- the top rows of every other A go. Two statements, each one pass over its table (on Citus each
-- runs on the shards, both tables being distributed by A). Servers of the previous version refuse
-- this schema (it is newer than theirs): they would write top rows for unmarked profiles.

INSERT INTO relation_stats (profile_id, rel_id, side, prop, slot, count)
SELECT profile_id, rel_id, 't', '', 0, 1 FROM relation_stats
 WHERE side = 'a' AND prop = ''
 GROUP BY profile_id, rel_id HAVING sum(count) > 64;

DELETE FROM relation_tops x
 WHERE NOT EXISTS (SELECT 1 FROM relation_stats k
                    WHERE k.profile_id = x.a AND k.rel_id = x.rel_id AND k.side = 't' AND k.prop = ''
                      AND k.slot = 0);
