// Top rows only past the threshold (migration 009, sql/functions/03-aggregates.sql): a profile A
// keeps relation_tops rows for a type once it has more than 64 relations of it, marked by its
// side 't' aggregate row; below, get_counter ranks A's relations itself. On plain PostgreSQL and
// on Citus: the rows kept, the answers on both sides of the threshold, single and batched writes,
// and concurrent writers crossing it (no relation missing from the rows built).
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { CITUS_URL, openCitusTestStore } from '../../../test/support/citus-engine.js';
import { openPgTestStore, PG_SKIPPED, PG_URL, type PgTestStore } from '../../../test/support/pg-engine.js';
import { seedProfiles } from '../../../test/support/store-seed.js';
import type { PropertyDef, RelationType } from '../../core/model.js';
import type { CounterOutcome, ProfileQuery, Store } from '../../core/store.js';
import { openPostgresStore, type PostgresStore } from './postgres-store.js';

const NOW = '2026-03-01T10:00:00.000Z';
const FROM = 64;
const byId = (id: string): ProfileQuery => ({ by: 'id', id });
const silent = { warn() {}, error() {} };

const PROPS: readonly PropertyDef[] = [
  { name: 'hits', type: 'int', top: 3, sum: true },
  { name: 'score', type: 'float', top: 2, sum: false },
  { name: 'plain', type: 'int', top: 0, sum: false },
  { name: 'fan', type: 'bool', top: 0, sum: false },
];

/** Weights of the i-th relation: values repeat, so ties are ordered by B. */
const weights = (i: number) => ({
  hits: (i * 7) % 11,
  score: ((i * 5) % 13) / 4,
  plain: i,
  fan: i % 3 === 0,
});

function seed(store: Store, prefix: string, count: number) {
  return seedProfiles(store, PROPS, prefix, count, NOW);
}

/** What get_counter must answer for A whose relations are `rels` (B id → weights). */
function expected(a: string, rels: Rels): CounterOutcome {
  const ranked = (name: string, n: number) =>
    [...rels]
      .map(([b, w]) => ({ profileId: b, value: w[name] as number }))
      .sort((x, y) => y.value - x.value || (x.profileId < y.profileId ? -1 : 1))
      .slice(0, n);
  const sum = (name: string) => [...rels.values()].reduce((s, w) => s + (w[name] as number), 0);
  return {
    kind: 'ok',
    profileId: a,
    total: rels.size,
    props:
      rels.size === 0
        ? []
        : [
            { name: 'hits', count: rels.size, sum: sum('hits'), top: ranked('hits', 3) },
            { name: 'score', count: rels.size, sum: null, top: ranked('score', 2) },
            { name: 'plain', count: rels.size, sum: null, top: null },
            { name: 'fan', count: rels.size, sum: null, top: null },
          ],
  };
}

type Rels = Map<string, Record<string, number | boolean>>;

/** Attaches A → B with the i-th weights, which must succeed, and records it in `rels`. */
async function attachAt(store: Store, type: RelationType, a: string, b: string, i: number, rels: Rels) {
  const out = await store.attach({ type, a: byId(a), b: byId(b), weights: weights(i), now: NOW });
  assert.equal(out.kind, 'ok');
  rels.set(b, weights(i));
}

function sortProps(c: CounterOutcome): CounterOutcome {
  return c.kind === 'ok' ? { ...c, props: [...c.props].sort((x, y) => x.name.localeCompare(y.name)) } : c;
}

/**
 * A's top rows (count) and mark. Every row must hold the value its relation's weights hold now:
 * writers find a relation's row by that value (migration 011), so a row left with an old value
 * would never be found again.
 */
async function layout(store: PostgresStore, schema: string, type: RelationType, a: string) {
  const { rows } = await store.pool.query<{ tops: string; marked: boolean; stale: string[] | null }>(
    `SELECT (SELECT count(*) FROM ${schema}.relation_tops WHERE a = $1 AND rel_id = $2)::text AS tops,
            EXISTS (SELECT 1 FROM ${schema}.relation_stats
                     WHERE profile_id = $1 AND rel_id = $2 AND side = 't') AS marked,
            (SELECT array_agg(t.b || ' ' || t.prop || '=' || t.value) FROM ${schema}.relation_tops t
              WHERE t.a = $1 AND t.rel_id = $2
                AND NOT EXISTS (SELECT 1 FROM ${schema}.relations r
                                 WHERE r.a = t.a AND r.rel_id = t.rel_id AND r.b = t.b
                                   AND (r.weights -> t.prop)::float8 = t.value)) AS stale`,
    [a, type.relId],
  );
  assert.deepEqual(rows[0]!.stale, null, "top rows whose value is not their relation's");
  return { tops: Number(rows[0]!.tops), marked: rows[0]!.marked };
}

function suite(engine: string, url: string, open: (poolMax: number) => Promise<PgTestStore>) {
  describe(`${engine}: top rows past ${FROM} relations`, () => {
    it('keeps none below the threshold, builds them when a write crosses it, keeps them when A shrinks', async () => {
      const { store, schema, cleanup } = await open(2);
      try {
        const { type, ids } = await seed(store, 't', FROM + 12);
        const [a, ...bs] = ids as [string, ...string[]];
        const rels = new Map() as Rels;
        const check = async (label: string, tops: number, marked: boolean) => {
          assert.deepEqual(await layout(store, schema, type, a), { tops, marked }, label);
          const counter = await store.counter({ type, profile: byId(a) });
          assert.deepEqual(sortProps(counter), sortProps(expected(a, rels)), label);
        };
        for (let i = 0; i < FROM; i++) await attachAt(store, type, a, bs[i]!, i, rels);
        await check(`${FROM} relations: no top row`, 0, false);
        // A strengthen below the threshold changes the relation and its aggregates only.
        await store.strengthen({ type, a: byId(a), b: byId(bs[3]!), add: { hits: 40 }, set: {}, now: NOW });
        rels.set(bs[3]!, { ...rels.get(bs[3]!)!, hits: (rels.get(bs[3]!)!.hits as number) + 40 });
        await check('strengthened below', 0, false);
        await attachAt(store, type, a, bs[FROM]!, FROM, rels);
        await check('the 65th relation builds them', (FROM + 1) * 2, true);
        await store.strengthen({ type, a: byId(a), b: byId(bs[5]!), add: { hits: 100 }, set: {}, now: NOW });
        rels.set(bs[5]!, { ...rels.get(bs[5]!)!, hits: (rels.get(bs[5]!)!.hits as number) + 100 });
        await check('strengthened above', (FROM + 1) * 2, true);
        // An edit moves both of its rows; one setting the values the relation has moves none.
        const same = rels.get(bs[7]!)!;
        const edits: [string, Record<string, number | boolean>][] = [
          [bs[6]!, { hits: 1000, score: -2.5 }],
          [bs[7]!, { hits: same.hits!, score: same.score! }],
        ];
        for (const [b, set] of edits) {
          const out = await store.edit({ type, a: byId(a), b: byId(b), set, remove: [], now: NOW });
          assert.equal(out.kind, 'ok');
          rels.set(b, { ...rels.get(b)!, ...set });
        }
        await check('edited above', (FROM + 1) * 2, true);
        for (const b of bs.slice(0, 20)) {
          assert.equal((await store.detach({ type, a: byId(a), b: byId(b), now: NOW })).kind, 'ok');
          rels.delete(b);
        }
        await check('kept when A shrinks below', (FROM + 1 - 20) * 2, true);
      } finally {
        await cleanup();
      }
    });

    it('attach_batch: builds them for an A the chunk takes past the threshold, writes its own for the others', async () => {
      const { store, schema, cleanup } = await open(2);
      try {
        const { type, ids } = await seed(store, 'u', 3 + FROM + 10);
        const [a1, a2, a3, ...bs] = ids as [string, string, string, ...string[]];
        const rels = new Map([a1, a2, a3].map((a) => [a, new Map() as Rels]));
        const item = (a: string, i: number) => {
          rels.get(a)!.set(bs[i]!, weights(i));
          return { type, a: byId(a), b: byId(bs[i]!), weights: weights(i), now: NOW };
        };
        // a1: 60 before, 10 in the chunk; a2: 70 in one chunk (with a duplicate); a3: 5.
        for (let i = 0; i < 60; i++) await store.attach(item(a1, i));
        const chunk = [
          ...Array.from({ length: 10 }, (_, i) => item(a1, 60 + i)),
          ...Array.from({ length: 70 }, (_, i) => item(a2, i)),
          { ...item(a2, 0) },
          ...Array.from({ length: 5 }, (_, i) => item(a3, i)),
        ];
        const out = await store.attachMany(chunk);
        assert.deepEqual(
          out.map((o) => o.kind),
          chunk.map((_, i) => (i === 80 ? 'duplicate' : 'ok')),
        );
        for (const [a, tops, marked] of [
          [a1, 70 * 2, true],
          [a2, 70 * 2, true],
          [a3, 0, false],
        ] as const) {
          assert.deepEqual(await layout(store, schema, type, a), { tops, marked }, a);
          const counter = await store.counter({ type, profile: byId(a) });
          assert.deepEqual(sortProps(counter), sortProps(expected(a, rels.get(a)!)), a);
        }
        // Another chunk to A's that keep top rows adds its own.
        const more = [item(a1, 70), item(a2, 70)];
        assert.deepEqual(
          (await store.attachMany(more)).map((o) => o.kind),
          ['ok', 'ok'],
        );
        assert.equal((await layout(store, schema, type, a1)).tops, 71 * 2);
        assert.deepEqual(
          sortProps(await store.counter({ type, profile: byId(a2) })),
          sortProps(expected(a2, rels.get(a2)!)),
        );
      } finally {
        await cleanup();
      }
    });

    it('attach_batch: a chunk builds at most its budget of top rows, the largest As first; the rest later', async () => {
      const { store, schema, cleanup } = await open(2);
      try {
        const { type, ids } = await seed(store, 'v', 3 + 70);
        const [a1, a2, a3, ...bs] = ids as [string, string, string, ...string[]];
        // 200 rows: one A of ~66 relations (two top-keeping properties: 132 rows), not two.
        await store.pool.query(
          `CREATE OR REPLACE FUNCTION ${schema}.ties_top_build_budget() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 200'`,
        );
        const rels = new Map([a1, a2, a3].map((a) => [a, new Map() as Rels]));
        const item = (a: string, i: number) => {
          rels.get(a)!.set(bs[i]!, weights(i));
          return { type, a: byId(a), b: byId(bs[i]!), weights: weights(i), now: NOW };
        };
        const check = async (label: string, layouts: [string, number, boolean][]) => {
          for (const [a, tops, marked] of layouts) {
            assert.deepEqual(await layout(store, schema, type, a), { tops, marked }, `${label}: ${a}`);
            const counter = await store.counter({ type, profile: byId(a) });
            assert.deepEqual(sortProps(counter), sortProps(expected(a, rels.get(a)!)), `${label}: ${a}`);
          }
        };
        for (const [a, n] of [
          [a1, 62],
          [a2, 60],
          [a3, 64],
        ] as const) {
          for (let i = 0; i < n; i++) assert.equal((await store.attach(item(a, i))).kind, 'ok');
        }
        // The chunk takes all three past 64: a1 to 67, a2 to 66, a3 to 65. Only a1 fits the budget.
        const first = [
          ...Array.from({ length: 5 }, (_, i) => item(a1, 62 + i)),
          ...Array.from({ length: 6 }, (_, i) => item(a2, 60 + i)),
          item(a3, 64),
        ];
        assert.ok((await store.attachMany(first)).every((o) => o.kind === 'ok'));
        await check('first chunk', [
          [a1, 67 * 2, true],
          [a2, 0, false],
          [a3, 0, false],
        ]);
        // The next chunk naming a2 and a3 builds the larger, a2 (67 relations), and a1 gets its own.
        assert.ok(
          (await store.attachMany([item(a1, 67), item(a2, 66), item(a3, 65)])).every((o) => o.kind === 'ok'),
        );
        await check('second chunk', [
          [a1, 68 * 2, true],
          [a2, 67 * 2, true],
          [a3, 0, false],
        ]);
        // A single attach builds whatever it takes past the threshold.
        assert.equal((await store.attach(item(a3, 66))).kind, 'ok');
        await check('single attach', [[a3, 67 * 2, true]]);
      } finally {
        await cleanup();
      }
    });

    it('migration 9 turns a store of the version-8 layout (top rows of every relation, totals over slots) into this one', async () => {
      const { store, schema, cleanup } = await open(4);
      let reopened: PostgresStore | undefined;
      try {
        const { type, ids } = await seed(store, 'w', 2 + 70);
        const [big, small, ...bs] = ids as [string, string, ...string[]];
        const rels = new Map() as Rels;
        // Concurrent attaches, so that the totals are spread over several slot rows.
        await Promise.all(bs.map((b, i) => attachAt(store, type, big, b, i, rels)));
        await Promise.all(bs.slice(0, 10).map((b, i) => attachAt(store, type, small, b, i, new Map())));
        const before = [
          await store.counter({ type, profile: byId(big) }),
          await store.counter({ type, profile: byId(small) }),
        ];
        // What the version-8 code left: a top row per relation and top-keeping property, no mark.
        await store.pool.query(`DELETE FROM ${schema}.relation_stats WHERE side = 't'`);
        await store.pool.query(
          `INSERT INTO ${schema}.relation_tops (a, rel_id, prop, b, value)
           SELECT r.a, r.rel_id, n.name, r.b, (r.weights -> n.name)::float8
             FROM ${schema}.relations r CROSS JOIN unnest(ARRAY['hits', 'score']) AS n(name)
            WHERE r.rel_id = $1
           ON CONFLICT DO NOTHING`,
          [type.relId],
        );
        // The store as version 8 left it: migration 9 and every later one not applied yet.
        await store.pool.query(`DELETE FROM ${schema}.schema_migrations WHERE version >= 9`);
        const slots = await store.pool.query(
          `SELECT count(*)::int AS n FROM ${schema}.relation_stats WHERE profile_id = $1 AND side = 'a' AND prop = ''`,
          [big],
        );
        assert.ok(slots.rows[0].n > 1, `the big profile's total is spread over ${slots.rows[0].n} slot rows`);
        assert.deepEqual(await layout(store, schema, type, small), { tops: 20, marked: false });
        reopened = await openPostgresStore({ url, schema, poolMax: 2, logger: silent });
        assert.deepEqual(await layout(reopened, schema, type, big), { tops: 140, marked: true });
        assert.deepEqual(await layout(reopened, schema, type, small), { tops: 0, marked: false });
        assert.deepEqual(
          [
            await reopened.counter({ type, profile: byId(big) }),
            await reopened.counter({ type, profile: byId(small) }),
          ],
          before,
        );
        assert.deepEqual(sortProps(before[0]!), sortProps(expected(big, rels)));
      } finally {
        await reopened?.close();
        await cleanup();
      }
    });

    it('misses no relation when concurrent writers on two servers take A past the threshold', async () => {
      const one = await open(4);
      try {
        const shared = await openPostgresStore({ url, schema: one.schema, poolMax: 4, logger: silent });
        try {
          const { type, ids } = await seed(one.store, 'v', 2 + 101);
          const [a, a2, ...bs] = ids as [string, string, ...string[]];
          const rels = new Map() as Rels;
          const rels2 = new Map() as Rels;
          for (let i = 0; i < 60; i++) await attachAt(one.store, type, a, bs[i]!, i, rels);
          const stores = [one.store, shared];
          const calls: Promise<unknown>[] = [];
          for (let i = 60; i < 100; i++) {
            rels.set(bs[i]!, weights(i));
            calls.push(
              stores[i % 2]!.attach({ type, a: byId(a), b: byId(bs[i]!), weights: weights(i), now: NOW }),
            );
          }
          // Chunks of a2 from both servers at once, each short of the threshold alone.
          for (let c = 0; c < 4; c++) {
            const items = Array.from({ length: 20 }, (_, k) => {
              const i = c * 20 + k;
              rels2.set(bs[i]!, weights(i));
              return { type, a: byId(a2), b: byId(bs[i]!), weights: weights(i), now: NOW };
            });
            calls.push(stores[c % 2]!.attachMany(items));
          }
          await Promise.all(calls);
          // Whether a concurrent writer saw the threshold passed depends on timing (a writer sees
          // the others' committed relations only): one more write each settles it. The rows must
          // then hold every relation, whichever writer built them.
          for (const [x, r, i] of [
            [a, rels, 100],
            [a2, rels2, 80],
          ] as const) {
            await attachAt(one.store, type, x, bs[i]!, i, r);
          }
          for (const [x, r] of [
            [a, rels],
            [a2, rels2],
          ] as const) {
            assert.deepEqual(
              await layout(one.store, one.schema, type, x),
              { tops: r.size * 2, marked: true },
              x,
            );
            assert.deepEqual(
              sortProps(await shared.counter({ type, profile: byId(x) })),
              sortProps(expected(x, r)),
            );
          }
        } finally {
          await shared.close();
        }
      } finally {
        await one.cleanup();
      }
    });
  });
}

if (!PG_URL) test('PostgreSQL top rows', { skip: PG_SKIPPED }, () => undefined);
else suite('postgres', PG_URL, (poolMax) => openPgTestStore({ poolMax }));
if (CITUS_URL) suite('citus', CITUS_URL, (poolMax) => openCitusTestStore({ poolMax }));
