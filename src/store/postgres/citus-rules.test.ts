// Checks the migrated schema against the rules that keep it distributable on Citus (DESIGN §4),
// by reading PostgreSQL's catalog, so that a later migration cannot break them silently.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it, test } from 'node:test';
import type pg from 'pg';
import { openPgTestStore, PG_URL, type PgTestStore } from '../../../test/support/pg-engine.js';
import { citusSetupSql, DISTRIBUTED_TABLES, LOCAL_TABLES, REFERENCE_TABLES } from './citus-layout.js';

test('docs/scaling.md shows the Citus setup generated from the layout', () => {
  const doc = readFileSync('docs/scaling.md', 'utf8');
  assert.ok(doc.includes(citusSetupSql()), 'paste citusSetupSql() into docs/scaling.md');
});

// Without TIES_TEST_PG_URL, postgres-store.test.ts reports the PostgreSQL part skipped (once).
if (PG_URL) {
  describe('Citus rules on the migrated schema', () => {
    let opened: PgTestStore;
    const query = async <R extends object>(text: string): Promise<R[]> => {
      const client: pg.PoolClient = await opened.store.pool.connect();
      try {
        return (await client.query<R>(text, [opened.schema])).rows;
      } finally {
        client.release();
      }
    };
    const distributed = Object.keys(DISTRIBUTED_TABLES);

    before(async () => {
      opened = await openPgTestStore({ poolMax: 1 });
    });
    after(async () => {
      await opened.cleanup();
    });

    it('places every table: distributed, reference or local, exactly once', async () => {
      const tables = await query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1`,
      );
      const placed = [...distributed, ...REFERENCE_TABLES, ...LOCAL_TABLES];
      assert.equal(new Set(placed).size, placed.length, 'a table is placed twice');
      assert.deepEqual(
        tables.map((t) => t.name),
        [...placed].sort(),
        'a new table must be added to citus-layout.ts (and docs/scaling.md)',
      );
    });

    // The key: the primary key, or for a table without one (relation_tops, migration 011) the
    // unique index that is its replica identity (what logical replication, so a non-blocking shard
    // move, needs).
    it('keys every distributed table first by its distribution column, of one colocatable type', async () => {
      const rows = await query<{ table: string; columns: string[]; type: string; collation: string | null }>(
        `SELECT t.relname AS table,
                array_agg(a.attname::text ORDER BY k.ord) AS columns,
                min(format_type(a.atttypid, a.atttypmod)) FILTER (WHERE k.ord = 1) AS type,
                min(co.collname::text) FILTER (WHERE k.ord = 1) AS collation
           FROM pg_index i
           JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
           LEFT JOIN pg_collation co ON co.oid = a.attcollation
          WHERE n.nspname = $1 AND i.indisunique
            AND (i.indisprimary OR (i.indisreplident AND t.relreplident = 'i'))
          GROUP BY t.relname, i.indexrelid`,
      );
      const byTable = new Map(rows.map((r) => [r.table, r]));
      assert.equal(byTable.size, rows.length, 'a table has both a primary key and another replica identity');
      for (const [table, column] of Object.entries(DISTRIBUTED_TABLES)) {
        const pk = byTable.get(table);
        assert.ok(pk, `${table} has no primary key and no replica identity index`);
        assert.equal(pk.columns[0], column, `${table}'s key must start with ${column}`);
        // Colocation needs one type (and collation) for every distribution column.
        assert.equal(pk.type, 'text', `${table}.${column}`);
        assert.equal(pk.collation, 'C', `${table}.${column}`);
      }
      // The B side of every relation lives in a table keyed by B, and both list the same key columns.
      assert.deepEqual(byTable.get('relations')?.columns, ['a', 'rel_id', 'b']);
      assert.deepEqual(byTable.get('relations_by_b')?.columns, ['b', 'rel_id', 'a']);
    });

    it('includes the distribution column in every primary key, unique constraint and unique index', async () => {
      const rows = await query<{ table: string; index: string; columns: (string | null)[] }>(
        `SELECT t.relname AS table, ix.relname AS index,
                array_agg(a.attname::text ORDER BY k.ord) AS columns
           FROM pg_index i
           JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_class ix ON ix.oid = i.indexrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          WHERE n.nspname = $1 AND i.indisunique
          GROUP BY t.relname, ix.relname`,
      );
      const offenders = rows
        .filter((r) => distributed.includes(r.table))
        .filter((r) => !r.columns.includes(DISTRIBUTED_TABLES[r.table]!))
        .map((r) => `${r.index} on ${r.table} (${r.columns.join(', ')})`);
      assert.deepEqual(offenders, []);
      // The catalogue check sees the indexes it judges (else the rule above would pass vacuously).
      assert.ok(rows.some((r) => r.table === 'relations'));
      const constraints = await query<{ name: string; table: string }>(
        `SELECT c.conname AS name, t.relname AS table FROM pg_constraint c
           JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = $1 AND c.contype IN ('u', 'x')
            AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indexrelid = c.conindid)`,
      );
      assert.deepEqual(constraints, [], 'unique constraints without an index are not judged above');
    });

    it('uses no sequence and no identity in distributed tables', async () => {
      const rows = await query<{ column: string; default: string | null; identity: string }>(
        `SELECT t.relname || '.' || a.attname AS column, pg_get_expr(d.adbin, d.adrelid) AS default,
                a.attidentity::text AS identity
           FROM pg_attribute a
           JOIN pg_class t ON t.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND t.relkind = 'r'`,
      );
      const offenders = rows.filter(
        (r) =>
          distributed.includes(r.column.split('.')[0]!) &&
          (/nextval\(/i.test(r.default ?? '') || r.identity !== ''),
      );
      assert.deepEqual(offenders, []);
      // Catalogue ids do come from sequences: the check reads defaults it can recognise.
      assert.ok(rows.some((r) => r.column === 'relation_types.rel_id' && /nextval\(/.test(r.default ?? '')));
    });

    it('has no foreign key Citus could not keep (none across differently distributed tables)', async () => {
      const rows = await query<{ table: string; references: string; columns: string[]; target: string[] }>(
        `SELECT t.relname AS table, r.relname AS references,
                (SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = ANY (c.conkey)) AS columns,
                (SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = c.confrelid AND attnum = ANY (c.confkey)) AS target
           FROM pg_constraint c
           JOIN pg_class t ON t.oid = c.conrelid
           JOIN pg_class r ON r.oid = c.confrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = $1 AND c.contype = 'f'`,
      );
      const offenders = rows.filter((fk) => {
        if (!distributed.includes(fk.table)) return !REFERENCE_TABLES.includes(fk.references);
        if (REFERENCE_TABLES.includes(fk.references)) return false;
        // Between distributed tables only on both distribution columns (colocated).
        return !(
          fk.columns.includes(DISTRIBUTED_TABLES[fk.table]!) &&
          fk.target.includes(DISTRIBUTED_TABLES[fk.references] ?? '')
        );
      });
      assert.deepEqual(offenders, []);
    });
  });
}
