// A schema written by Ties 0.1.0 (test/fixtures/v010: a pg_dump made by 0.1.0's code, and the
// answers 0.1.0 gave to every read call) is migrated in place when the store opens, answers every
// read exactly as 0.1.0 did, ends up with the same tables, indexes and functions as a fresh schema,
// and keeps working.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import pg from 'pg';
import {
  recordedPostgresReads,
  replayV010Reads,
  restoreV010Fixture,
} from '../../../test/fixtures/v010/postgres-fixture.js';
import { dropSchema, freshSchemaName, PG_SKIPPED, PG_URL } from '../../../test/support/pg-engine.js';
import { createTies } from '../../core/ties.js';
import type { MigrationProgress } from '../migration-runner.js';
import { checkPostgres } from './postgres-check.js';
import { openPostgresStore } from './postgres-store.js';

const silent = { warn() {}, error() {} };

/** Tables, columns, constraints, indexes, storage parameters, types and routines of a schema, its name replaced by `S`. */
async function shape(url: string, schema: string): Promise<Record<string, string[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const list = async (text: string) =>
    (await client.query<{ x: string }>(text, [schema])).rows.map((r) => r.x.replaceAll(schema, 'S')).sort();
  try {
    return {
      columns: await list(
        `SELECT concat_ws(' ', table_name, ordinal_position, column_name, data_type, is_nullable,
                          column_default, collation_name) AS x
           FROM information_schema.columns WHERE table_schema = $1`,
      ),
      constraints: await list(
        `SELECT c.conrelid::regclass::text || ' ' || pg_get_constraintdef(c.oid) AS x
           FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1`,
      ),
      indexes: await list('SELECT indexdef AS x FROM pg_indexes WHERE schemaname = $1'),
      storage: await list(
        `SELECT c.relname || ' ' || array_to_string(c.reloptions, ',') AS x
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.reloptions IS NOT NULL`,
      ),
      types: await list(
        `SELECT t.typname || ' ' || coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                  ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = t.typrelid), '') AS x
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = $1 AND t.typtype = 'c'
            AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')`,
      ),
      routines: await list(
        `SELECT CASE p.prokind WHEN 'a' THEN 'aggregate ' || p.oid::regprocedure::text
                ELSE pg_get_functiondef(p.oid) END AS x
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1`,
      ),
    };
  } finally {
    await client.end();
  }
}

if (!PG_URL) {
  test('PostgreSQL: migrating a 0.1.0 schema', { skip: PG_SKIPPED }, () => undefined);
} else {
  const url = PG_URL;
  const recorded = recordedPostgresReads();

  describe('postgres: a schema written by 0.1.0', () => {
    it('is migrated in place at open and answers every read call as 0.1.0 did', async () => {
      const schema = await restoreV010Fixture(url);
      // `ties check` (read-only) names what the next start will migrate.
      const at = new URL(url);
      at.searchParams.set('schema', schema);
      const check = await checkPostgres(at.toString());
      assert.ok(check.ok, check.lines.join('\n'));
      assert.match(
        check.lines.at(-1)!,
        /^schema version 1; the next start migrates it to \d+ \(2 slot counters, 3 push subscription keys, .*\), printing its progress as it goes$/,
      );
      const progress: MigrationProgress[] = [];
      const store = await openPostgresStore({
        url,
        schema,
        poolMax: 2,
        logger: silent,
        onMigrationProgress: (p) => progress.push(p),
      });
      try {
        assert.ok(
          progress.some((p) => p.finished),
          'the migration reported its progress',
        );
        // Each statement of each migration, in words (migration-watch.ts; `ties serve` prints them).
        assert.ok(
          progress.some(
            (p) =>
              p.version === 2 &&
              /^statement 1 of \d+ \(ALTER TABLE relation_stats ADD COLUMN slot/.test(p.step ?? ''),
          ),
          JSON.stringify(progress.filter((p) => p.version === 2)),
        );
        const ties = createTies({ store });
        for (const r of await replayV010Reads(ties, recorded))
          assert.deepEqual(r.actual, r.expected, r.label);
        // Migration 7: the change log starts empty, and the first event gets seq 1.
        assert.deepEqual(await store.readChanges(0, 10, {}), {
          events: [],
          oldestSeq: null,
          lastSeq: 0,
          prunedThrough: 0,
          headSeq: 0,
        });
        // Migration 3 put the push subscriptions 0.1.0 stored into the matching index.
        const pushed = recorded.reads.find(
          (r) => r.call === 'profiles/get' && JSON.stringify(r.answer).includes('"channel":"push"'),
        )!;
        const profile = (pushed.answer as { data: { id: string; db_id: number; subscriptions: any[] } }).data;
        const sub = profile.subscriptions.find((x) => x.channel === 'push');
        const found = await ties.profiles.get({
          db_id: profile.db_id,
          matching: 'push_sub',
          subscription_id: sub.subscription_id,
        });
        assert.equal(found.data.id, profile.id);
        const [type] = await store.listRelationTypes();
        assert.ok(type);
        await store.deleteRelationType(type.relId);
        const first = await store.readChanges(0, 1, {});
        assert.equal(first.events[0]?.seq, 1);
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    });

    it('keeps top rows only for profiles past 64 relations (migration 9), get_counter answering as before', async () => {
      const schema = await restoreV010Fixture(url);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`SET search_path = ${schema}`);
        // 0.1.0's own functions give one profile A 70 more relations, so the store holds both kinds.
        const { rows: types } = await client.query<{
          rel_id: number;
          db_a: number;
          db_b: number;
          properties: any[];
        }>('SELECT rel_id, db_a, db_b, properties FROM relation_types ORDER BY rel_id');
        const type = types.find((t) => t.properties.some((p) => p.top > 0))!;
        const as = (
          await client.query<{ id: string }>('SELECT id FROM profiles WHERE db_id = $1 ORDER BY id', [
            type.db_a,
          ])
        ).rows.map((r) => r.id);
        const big = as[0]!;
        for (let i = 0; i < 70; i++) {
          const b = `f${i.toString(16)}`.padStart(24, '0');
          await client.query(
            `INSERT INTO profiles (id, db_id, fields, keys, created_at, updated_at) VALUES ($1, $2, '{}', '[]', '', '')`,
            [b, type.db_b],
          );
          const weights = Object.fromEntries(
            type.properties
              .filter((p) => p.type === 'int' || p.type === 'float')
              .map((p) => [p.name, p.type === 'int' ? (i * 7) % 11 : ((i * 5) % 13) / 4]),
          );
          const { rows } = await client.query<{ status: string }>(
            'SELECT status FROM ties_attach($1, $2, $3, $4, $5)',
            [type.rel_id, { by: 'id', id: big }, { by: 'id', id: b }, weights, '2026-12-04T00:00:00.000Z'],
          );
          assert.equal(rows[0]?.status, 'ok');
        }
        const tops = async () => {
          const out: Record<string, unknown> = {};
          for (const a of as)
            out[a] = (
              await client.query('SELECT tops FROM ties_counter($1, $2)', [type.rel_id, { by: 'id', id: a }])
            ).rows[0]?.tops;
          return out;
        };
        const before = await tops();
        await (await openPostgresStore({ url, schema, poolMax: 1, logger: silent })).close();
        assert.deepEqual(await tops(), before, "every profile's top N as 0.1.0 answered it");
        const { rows } = await client.query<{ a: string; n: string }>(
          `SELECT a, count(*)::text AS n FROM relation_tops WHERE rel_id = $1 GROUP BY a`,
          [type.rel_id],
        );
        const topProps = type.properties.filter((p) => p.top > 0).length;
        assert.ok(topProps > 0);
        assert.deepEqual(
          rows.map((r) => [r.a, Number(r.n) % topProps === 0]),
          [[big, true]],
          'top rows of the profile past 64 relations only',
        );
        const marked = await client.query<{ profile_id: string }>(
          `SELECT profile_id FROM relation_stats WHERE side = 't' AND rel_id = $1`,
          [type.rel_id],
        );
        assert.deepEqual(
          marked.rows.map((r) => r.profile_id),
          [big],
        );
      } finally {
        await client.end();
        await dropSchema(schema);
      }
    });

    it('ends with the same tables, indexes, types and functions as a fresh schema', async () => {
      const migrated = await restoreV010Fixture(url);
      const fresh = freshSchemaName();
      try {
        for (const schema of [migrated, fresh])
          await (await openPostgresStore({ url, schema, poolMax: 1, logger: silent })).close();
        const [a, b] = [await shape(url, migrated), await shape(url, fresh)];
        for (const part of Object.keys(b)) assert.deepEqual(a[part], b[part], part);
        // Migration 10: the aggregate rows' pages keep room for HOT updates.
        assert.deepEqual(b.storage, ['relation_stats fillfactor=50']);
      } finally {
        await dropSchema(migrated);
        await dropSchema(fresh);
      }
    });
  });
}
