// The PostgreSQL store's migrations on the shared runner: all-or-nothing with their bookkeeping, a
// newer schema refused before any write, function files re-applied when their text changes, and
// several servers starting on one schema at once.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import pg from 'pg';
import { dropSchema, freshSchemaName, PG_SKIPPED, PG_URL } from '../../../test/support/pg-engine.js';
import type { MigrationProgress } from '../migration-runner.js';
import { MIGRATIONS, migrate, REPEATABLES, routinesCreatedBy } from './migrations.js';

/** A client whose search_path is a fresh, empty schema; end() drops it. */
async function schemaClient(url: string) {
  const schema = freshSchemaName();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path = ${schema}`);
  return {
    client,
    schema,
    tables: async () =>
      (
        await client.query<{ t: string }>(
          'SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1',
          [schema],
        )
      ).rows.map((r) => r.t),
    async end() {
      await client.end();
      await dropSchema(schema, url);
    },
  };
}

if (!PG_URL) {
  test('PostgreSQL migrations', { skip: PG_SKIPPED }, () => undefined);
} else {
  const url = PG_URL;
  describe('postgres: migrations', () => {
    it('version 4 keeps a duplicated email for the oldest profile only, then makes emails unique', async () => {
      const { client, end } = await schemaClient(url);
      try {
        await migrate(client, { migrations: MIGRATIONS.filter((m) => m.version < 4) });
        const profile = (id: string, at: string, keys: unknown[]) =>
          client.query(
            `INSERT INTO profiles (id, db_id, fields, keys, created_at, updated_at) VALUES ($1, 1, '{}', $2, $3, $3)`,
            [id, JSON.stringify(keys), at],
          );
        const key = (kind: string, k: string, id: string) =>
          client.query(
            'INSERT INTO match_keys (key, db_id, kind, resource_id, profile_id) VALUES ($1, 1, $2, 0, $3)',
            [k, kind, id],
          );
        const [older, newer] = ['b'.repeat(24), 'a'.repeat(24)];
        await profile(older, '2026-01-01T00:00:00.000Z', [['e', 'x@example.com']]);
        await profile(newer, '2026-02-01T00:00:00.000Z', [
          ['e', 'x@example.com'],
          ['p', '7900'],
        ]);
        await key('e', 'x@example.com', older);
        await key('e', 'x@example.com', newer);
        await key('p', '7900', newer);
        await migrate(client);
        const rows = await client.query('SELECT kind, profile_id FROM match_keys ORDER BY kind');
        assert.deepEqual(rows.rows, [
          { kind: 'e', profile_id: older },
          { kind: 'p', profile_id: newer },
        ]);
        const keys = await client.query('SELECT keys FROM profiles WHERE id = $1', [newer]);
        assert.deepEqual(keys.rows[0].keys, [['p', '7900']]);
        await assert.rejects(key('e', 'x@example.com', newer), /match_keys_email/);
      } finally {
        await end();
      }
    });

    it('leaves nothing behind when the first migration fails, not even its bookkeeping table', async () => {
      const s = await schemaClient(url);
      try {
        const broken = [
          { version: 1, name: 'broken', sql: 'CREATE TABLE half (x int); SELECT no_such_function();' },
        ];
        await assert.rejects(migrate(s.client, { migrations: broken, repeatables: [] }), /no_such_function/);
        assert.deepEqual(await s.tables(), [], 'no stray table');
      } finally {
        await s.end();
      }
    });

    it('re-applies a function file when its text changes, replacing a changed signature, all files or none', async () => {
      const s = await schemaClient(url);
      const functions = async () =>
        (
          await s.client.query<{ f: string }>(
            `SELECT oid::regprocedure::text AS f FROM pg_proc
              WHERE pronamespace = current_schema()::regnamespace ORDER BY 1`,
          )
        ).rows.map((r) => r.f);
      const file = (sql: string) => ({ name: 'functions/t.sql', sql });
      try {
        const one = file(
          'CREATE FUNCTION ties_t(a integer) RETURNS integer LANGUAGE sql AS $f$ SELECT a $f$;',
        );
        assert.deepEqual(await migrate(s.client, { migrations: [], repeatables: [one] }), {
          applied: [],
          repeated: ['functions/t.sql'],
        });
        assert.deepEqual((await migrate(s.client, { migrations: [], repeatables: [one] })).repeated, []);
        // New arguments and result: CREATE OR REPLACE could not do it; the old one is dropped first.
        const two = file(
          'CREATE FUNCTION ties_t(a integer, b integer) RETURNS text LANGUAGE sql AS $f$ SELECT (a + b)::text $f$;',
        );
        assert.deepEqual((await migrate(s.client, { migrations: [], repeatables: [two] })).repeated, [
          'functions/t.sql',
        ]);
        assert.deepEqual(await functions(), ['ties_t(integer,integer)']);
        // A run whose second file fails keeps neither file's change nor their checksums.
        const checksums = async () => (await s.client.query('SELECT * FROM schema_repeatables')).rows;
        const before = await checksums();
        await assert.rejects(
          migrate(s.client, {
            migrations: [],
            repeatables: [
              one,
              {
                name: 'functions/u.sql',
                sql: 'CREATE FUNCTION ties_u() RETURNS int LANGUAGE sql AS $f$ SELECT nope $f$;',
              },
            ],
          }),
          /nope/,
        );
        assert.deepEqual(await functions(), ['ties_t(integer,integer)']);
        assert.deepEqual(await checksums(), before);
      } finally {
        await s.end();
      }
    });

    it('reports the progress of a data migration, and lets several runners start at once: each applies once', async () => {
      const s = await schemaClient(url);
      const others = await Promise.all(
        [1, 2].map(async () => {
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          await c.query(`SET search_path = ${s.schema}`);
          return c;
        }),
      );
      try {
        const seen: MigrationProgress[][] = [[], [], []];
        const slow = {
          version: 1,
          name: 'slow',
          sql: 'CREATE TABLE t (x integer)',
          data: async (client: pg.ClientBase, progress: (done: number, total: number) => void) => {
            for (let i = 1; i <= 2; i++) {
              await client.query('INSERT INTO t SELECT 1 FROM pg_sleep(0.1)');
              progress(i, 2);
            }
          },
        };
        const results = await Promise.all(
          [s.client, ...others].map((client, i) =>
            migrate(client, { migrations: [slow], repeatables: [], onProgress: (p) => seen[i]!.push(p) }),
          ),
        );
        assert.deepEqual(
          results.flatMap((r) => r.applied),
          [1],
          'applied by exactly one runner',
        );
        assert.deepEqual((await s.client.query('SELECT count(*)::int AS n FROM t')).rows, [{ n: 2 }]);
        const reports = seen.find((r) => r.length > 0)!;
        assert.deepEqual(
          reports.map((p) => [p.done, p.total, p.finished]),
          [
            [0, 0, false],
            // Its one statement (migration-watch.ts), then its data step's own reports.
            [0, 1, false],
            [1, 1, false],
            [1, 2, false],
            [2, 2, false],
            [1, 1, true],
          ],
        );
      } finally {
        await Promise.all(others.map((c) => c.end()));
        await s.end();
      }
    });

    it('declares in each shipped function file the routines it creates, and nothing else defines any', async () => {
      const s = await schemaClient(url);
      try {
        await migrate(s.client, { migrations: MIGRATIONS, repeatables: REPEATABLES });
        const { rows } = await s.client.query<{ name: string }>(
          'SELECT DISTINCT proname AS name FROM pg_proc WHERE pronamespace = current_schema()::regnamespace ORDER BY 1',
        );
        const declared = REPEATABLES.flatMap((r) => routinesCreatedBy(r.sql));
        assert.equal(new Set(declared).size, declared.length, 'a routine is created by two files');
        assert.deepEqual(
          rows.map((r) => r.name),
          [...declared].sort(),
        );
      } finally {
        await s.end();
      }
    });
  });
}
