-- Schema version 11: top rows in one index.
--
-- relation_tops had two indexes: its primary key (a, rel_id, prop, b) and relation_tops_ranked
-- (a, rel_id, prop, value DESC, b), which get_counter reads. Past 64 relations of a type every
-- attach writes a row per top-keeping property, so on a store of big profiles these were a third of
-- the B-tree entries a relation cost: in a full-size import they made top rows the largest part of
-- a chunk (docs/benchmarks.md, "PostgreSQL import: top rows in one index"). Now the ranked index is
-- the only one. A writer finds a relation's top row by the value it wrote, which it knows from the
-- relation's weights (sql/functions/03-aggregates.sql, ties_account); a relation has one row per
-- property, so the ranked key is unique too, and it is the table's replica identity (what logical
-- replication, and so a non-blocking Citus shard move, needs in place of a primary key).
--
-- Existing stores: one index build over the top rows, in the migration's transaction. IF EXISTS:
-- the statements may run again on a schema that has them (a store taken back to an earlier version
-- in tests, as top-rows.test.ts does).

ALTER TABLE relation_tops DROP CONSTRAINT IF EXISTS relation_tops_pkey;
DROP INDEX IF EXISTS relation_tops_ranked;
CREATE UNIQUE INDEX relation_tops_ranked ON relation_tops (a, rel_id, prop, value DESC, b);
ALTER TABLE relation_tops REPLICA IDENTITY USING INDEX relation_tops_ranked;
