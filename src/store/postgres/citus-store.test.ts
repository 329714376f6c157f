// The PostgreSQL store on the coordinator of a Citus cluster (TIES_TEST_CITUS_URL; .ci/run starts a
// local one): the store contract with the same answers as on plain PostgreSQL and SQLite, the
// tables distributed by the migrations as citus-layout.ts says, and a later migration applied to an
// already distributed schema.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import pg from 'pg';
import {
  recordedPostgresReads,
  replayV010Reads,
  restoreV010Fixture,
} from '../../../test/fixtures/v010/postgres-fixture.js';
import { CITUS_SKIPPED, CITUS_URL, openCitusTestStore } from '../../../test/support/citus-engine.js';
import { dropSchema } from '../../../test/support/pg-engine.js';
import { createTies } from '../../core/ties.js';
import { storeContract } from '../store-contract.case.js';
import { distributeOnCitus } from './citus-distribute.js';
import { DISTRIBUTED_TABLES, LOCAL_TABLES, REFERENCE_TABLES } from './citus-layout.js';
import { MIGRATIONS, migrate, type PostgresMigration } from './migrations.js';
import { openPostgresStore } from './postgres-store.js';

/** How each table of a schema is placed: 'reference', the distribution column, or 'local'. */
async function placement(store: { pool: import('pg').Pool }, schema: string) {
  const { rows } = await store.pool.query<{
    name: string;
    method: string | null;
    col: string | null;
    co: number;
  }>(
    `SELECT c.relname AS name, p.partmethod AS method, p.colocationid AS co,
            CASE WHEN p.partmethod = 'h' THEN column_to_column_name(p.logicalrelid, p.partkey) END AS col
       FROM pg_class c LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
      WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r'
      ORDER BY 1`,
    [schema],
  );
  return rows;
}

const silent = { warn() {}, error() {} };

if (!CITUS_URL) test('Citus store', { skip: CITUS_SKIPPED }, () => undefined);
else {
  storeContract('citus', () => openCitusTestStore());

  describe('citus: distribution by the migrations', () => {
    it('distributes a fresh schema as citus-layout.ts says, all distributed tables colocated', async () => {
      const { store, schema, cleanup } = await openCitusTestStore();
      try {
        const rows = await placement(store, schema);
        const expected = new Map<string, string>();
        for (const [t, c] of Object.entries(DISTRIBUTED_TABLES)) expected.set(t, c);
        for (const t of REFERENCE_TABLES) expected.set(t, 'reference');
        for (const t of LOCAL_TABLES) expected.set(t, 'local');
        const actual = new Map(
          rows.map((r) => [r.name, r.method === 'h' ? r.col! : r.method === 'n' ? 'reference' : 'local']),
        );
        assert.deepEqual(Object.fromEntries(actual), Object.fromEntries(expected));
        const colocations = new Set(rows.filter((r) => r.method === 'h').map((r) => r.co));
        assert.equal(colocations.size, 1, 'every distributed table colocated with profiles');
      } finally {
        await cleanup();
      }
    });

    it('applies a later migration to a distributed schema holding data, and the store keeps working', async () => {
      const opened = await openCitusTestStore();
      try {
        const ties = createTies({ store: opened.store });
        const db = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
        const rel = (
          await ties.catalog.createRelationType({
            name: 'likes',
            db_a: db,
            db_b: db,
            properties: [{ name: 'hits', type: 'int', top: 2, sum: true }],
          })
        ).data.rel_id;
        const ids: string[] = [];
        for (const email of ['a@example.com', 'b@example.com', 'c@example.com'])
          ids.push((await ties.profiles.add({ db_id: db, data: { email } }, 'typed')).profile_id);
        await ties.relations.attach(
          {
            rel_id: rel,
            profile_a: { profile_id: ids[0] },
            profile_b: { profile_id: ids[1] },
            weights: { hits: 2 },
          },
          { encoding: 'typed' },
        );
        await ties.access.flushTouches();

        // What a later release might do: a column with a backfill on a distributed table, an index
        // on another, a column on a reference table, and a table of its own (left local here).
        const next = Math.max(...MIGRATIONS.map((m) => m.version)) + 1;
        const later: PostgresMigration = {
          version: next,
          name: 'later',
          sql: `ALTER TABLE profiles ADD COLUMN later_note text NOT NULL DEFAULT '';
                UPDATE profiles SET later_note = 'n:' || id;
                CREATE INDEX relation_stats_later ON relation_stats (rel_id, profile_id);
                ALTER TABLE databases ADD COLUMN later_flag boolean NOT NULL DEFAULT false;
                UPDATE databases SET later_flag = true;`,
        };
        const client = await opened.store.pool.connect();
        try {
          const result = await migrate(client, { migrations: [...MIGRATIONS, later] });
          assert.deepEqual(result.applied, [next]);
          assert.deepEqual(await distributeOnCitus(client), [], 'nothing left to distribute');
        } finally {
          client.release();
        }
        const notes = await opened.store.pool.query<{ n: string }>(
          'SELECT later_note AS n FROM profiles ORDER BY 1',
        );
        assert.deepEqual(
          notes.rows.map((r) => r.n),
          [...ids].sort().map((id) => `n:${id}`),
        );
        const flags = await opened.store.pool.query(
          'SELECT count(*)::int AS n FROM databases WHERE later_flag',
        );
        assert.equal(flags.rows[0].n, 1);

        // Every relation call still works on the migrated schema, and there is nothing left to
        // distribute.
        const again = createTies({ store: opened.store });
        const sides = {
          rel_id: rel,
          profile_a: { profile_id: ids[0] },
          profile_b: { email: 'c@example.com' },
        };
        await again.relations.attach({ ...sides, weights: { hits: 1 } }, { encoding: 'typed' });
        await again.relations.strengthen({ ...sides, weights: { hits: 4 } }, { encoding: 'typed' });
        const counter = await again.relations.getCounter({ rel_id: rel, profile_id: ids[0] });
        assert.equal(counter.data.total, 2);
        assert.equal(counter.data.props.hits?.sum, 2 + 4 + 1);
        await again.profiles.delete({ db_id: db, profile_id: ids[2] });
        assert.equal((await again.relations.getCounter({ rel_id: rel, profile_id: ids[0] })).data.total, 1);
      } finally {
        await opened.cleanup();
      }
    });

    it('upgrades a 0.1.0 schema distributed as 0.1.0 said, answering every read as 0.1.0 did', async () => {
      const url = CITUS_URL!;
      const schema = await restoreV010Fixture(url);
      let store: Awaited<ReturnType<typeof openPostgresStore>> | undefined;
      try {
        // What a 0.1.0 user did by hand (citus-ties-setup.sql): distribute the 0.1.0 tables.
        const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
        await client.connect();
        try {
          assert.ok((await distributeOnCitus(client)).includes('relations'));
        } finally {
          await client.end();
        }
        // Then the later migrations and the new functions run on the distributed schema.
        store = await openPostgresStore({
          url,
          schema,
          poolMax: 2,
          connectTimeoutMs: 60_000,
          logger: silent,
        });
        const ties = createTies({ store });
        for (const r of await replayV010Reads(ties, recordedPostgresReads()))
          assert.deepEqual(r.actual, r.expected, r.label);
        // Migration 10's storage parameter reached every shard of the distributed table.
        const shards = await store.pool.query<{ result: string }>(
          `SELECT DISTINCT result FROM run_command_on_shards('${schema}.relation_stats',
             $$SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = '%s'::regclass$$)`,
        );
        assert.deepEqual(
          shards.rows.map((r) => r.result),
          ['fillfactor=50'],
        );
        // Migration 11 on every shard of relation_tops: no primary key, the ranked index unique and
        // the replica identity (what a non-blocking shard move needs).
        const tops = await store.pool.query<{ result: string }>(
          `SELECT DISTINCT result FROM run_command_on_shards('${schema}.relation_tops',
             $$SELECT c.relreplident::text || ' ' || (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)
                      || ' ' || (SELECT bool_and(i.indisunique AND i.indisreplident AND NOT i.indisprimary)
                                   FROM pg_index i WHERE i.indrelid = c.oid)
                 FROM pg_class c WHERE c.oid = '%s'::regclass$$)`,
        );
        assert.deepEqual(
          tops.rows.map((r) => r.result),
          ['i 1 true'],
        );
      } finally {
        await store?.close();
        await dropSchema(schema, url);
      }
    });
  });
}
