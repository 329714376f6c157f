// Runs the store contract on PostgreSQL (a fresh schema per store), plus what only PostgreSQL has:
// answers identical to SQLite's (floats to the bit), migrations under concurrent starts, one
// statement per call, two stores (as two servers) sharing one schema, and unavailability.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import fc from 'fast-check';
import {
  dropSchema,
  freshSchemaName,
  openPgTestStore,
  PG_SKIPPED,
  PG_URL,
} from '../../../test/support/pg-engine.js';
import { isTiesError } from '../../core/errors.js';
import { MAX_SAFE_INT, type PropertyDef, type RelationType, type WeightValue } from '../../core/model.js';
import type { ProfileQuery, SaveProfileInput, Store } from '../../core/store.js';
import { createTies } from '../../core/ties.js';
import { openSqliteStore } from '../sqlite/sqlite-store.js';
import { storeContract } from '../store-contract.case.js';
import { MIGRATIONS, migrate, SchemaTooNewError } from './migrations.js';
import { openPostgresStore, type PostgresStore } from './postgres-store.js';

const NOW = '2026-03-01T10:00:00.000Z';
const byId = (id: string): ProfileQuery => ({ by: 'id', id });
const silent = { warn() {}, error() {} };

const PROPS: readonly PropertyDef[] = [
  { name: 'hits', type: 'int', top: 3, sum: true },
  { name: 'score', type: 'float', top: 2, sum: true },
  { name: 'plain', type: 'int', top: 0, sum: false },
  { name: 'fan', type: 'bool', top: 0, sum: false },
  { name: 'note', type: 'string', top: 0, sum: false },
];

/** A database, a relation type and `count` profiles made through the port, with chosen ids. */
async function seed(store: Store, prefix: string, count: number, properties: readonly PropertyDef[] = PROPS) {
  const database = await store.createDatabase({
    name: `db ${prefix}`,
    description: '',
    customFields: [{ name: 'code', type: 'string', isCustom: true, readOnly: false }],
    now: NOW,
  });
  const type = await store.createRelationType({
    name: `type ${prefix}`,
    dbA: database.id,
    dbB: database.id,
    properties,
    now: NOW,
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++)
    ids.push(await addProfile(store, database.id, `${prefix}${i.toString(16)}`));
  return { database, type, ids };
}

async function addProfile(store: Store, dbId: number, idSuffix: string): Promise<string> {
  const database = (await store.getDatabase(dbId))!;
  const id = idSuffix.padStart(24, '0');
  const input: SaveProfileInput = {
    database,
    mode: 'add',
    set: { email: `p${id}@example.com`, code: `c${id}` },
    setOnCreate: {},
    subscriptions: [],
    newId: id,
    now: NOW,
  };
  const out = await store.saveProfile(input);
  assert.deepEqual(out, { kind: 'ok', id, created: true });
  return id;
}

if (!PG_URL) {
  test('PostgreSQL store', { skip: PG_SKIPPED }, () => undefined);
} else {
  const url = PG_URL;
  storeContract('postgres', () => openPgTestStore());

  describe('postgres: the change feed switched off', () => {
    it('writes no event for any write (ties.feed=off on its connections)', async () => {
      const { store, cleanup } = await openPgTestStore({ changeFeed: false });
      try {
        const { type, ids, database } = await seed(store, 'f', 3);
        const target = (a: string, b: string) => ({
          type,
          a: { by: 'id' as const, id: a },
          b: { by: 'id' as const, id: b },
          now: NOW,
        });
        assert.equal((await store.attach({ ...target(ids[0]!, ids[1]!), weights: { hits: 1 } })).kind, 'ok');
        assert.equal((await store.attachMany([{ ...target(ids[1]!, ids[2]!), weights: {} }]))[0]!.kind, 'ok');
        assert.equal(
          (await store.strengthen({ ...target(ids[0]!, ids[1]!), add: { hits: 1 }, set: {} })).kind,
          'ok',
        );
        assert.equal(
          (await store.deleteProfile({ dbId: database.id, query: { by: 'id', id: ids[1]! } })).kind,
          'ok',
        );
        assert.deepEqual(await store.readChanges(0, 10, {}), {
          events: [],
          oldestSeq: null,
          lastSeq: 0,
          prunedThrough: 0,
          headSeq: 0,
        });
        const seqRows = await store.run<{ n: string }>({
          text: 'SELECT last_value::text || is_called::text AS n FROM change_seq',
        });
        assert.equal(seqRows[0]?.n, '1false', 'no seq was ever taken');
      } finally {
        await cleanup();
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('postgres: the same answers as SQLite', () => {
    type Op =
      | { k: 'attach'; a: number; b: number; weights: Record<string, WeightValue> }
      | {
          k: 'strengthen';
          a: number;
          b: number;
          add: Record<string, number>;
          set: Record<string, WeightValue>;
        }
      | { k: 'edit'; a: number; b: number; set: Record<string, WeightValue>; remove: string[] }
      | { k: 'detach'; a: number; b: number }
      | { k: 'delete'; p: number }
      | { k: 'recreate'; p: number }
      | { k: 'retype'; prop: 'hits' | 'score'; top: number; sum: boolean };

    const SLOTS = 5;
    const slot = fc.integer({ min: 0, max: SLOTS - 1 });
    const int = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -50, max: 50 }) },
      { weight: 1, arbitrary: fc.constantFrom(MAX_SAFE_INT, -MAX_SAFE_INT, MAX_SAFE_INT - 1) },
    );
    // Doubles of every magnitude (bounded so that sums of a few stay finite), and the usual suspects.
    const float = fc
      .oneof(
        { weight: 3, arbitrary: fc.double({ min: -1e300, max: 1e300, noNaN: true }) },
        { weight: 2, arbitrary: fc.constantFrom(0.1, 0.2, 0.3, -0.1, 1e-7, 5e-324, 1 / 3, 2 ** 53, 123.456) },
        { weight: 1, arbitrary: fc.integer({ min: -5, max: 5 }) },
      )
      .map((x) => (x === 0 ? 0 : x));
    const numbers = fc.record({ hits: int, score: float, plain: int }, { requiredKeys: [] });
    const others = fc.record(
      { fan: fc.boolean(), note: fc.constantFrom('', 'x', 'ü ✓') },
      { requiredKeys: [] },
    );
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          k: fc.constant('attach' as const),
          a: slot,
          b: slot,
          weights: fc.tuple(numbers, others).map(([n, o]) => ({ ...n, ...o })),
        }),
      },
      {
        weight: 5,
        arbitrary: fc.record({
          k: fc.constant('strengthen' as const),
          a: slot,
          b: slot,
          add: numbers,
          set: others,
        }),
      },
      {
        weight: 3,
        arbitrary: fc
          .record({
            k: fc.constant('edit' as const),
            a: slot,
            b: slot,
            set: fc.tuple(numbers, others).map(([n, o]) => ({ ...n, ...o })),
            remove: fc.subarray(['hits', 'score', 'plain', 'fan', 'note']),
          })
          .map((o) => ({ ...o, remove: o.remove.filter((name) => !(name in o.set)) })),
      },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('detach' as const), a: slot, b: slot }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('delete' as const), p: slot }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('recreate' as const), p: slot }) },
      {
        weight: 1,
        arbitrary: fc.record({
          k: fc.constant('retype' as const),
          prop: fc.constantFrom('hits' as const, 'score' as const),
          top: fc.integer({ min: 0, max: 3 }),
          sum: fc.boolean(),
        }),
      },
    );

    it('answers every call of random sequences exactly as SQLite does, float sums to the bit', async () => {
      const sqlite = await openSqliteStore({ path: ':memory:' });
      const postgres = await openPgTestStore();
      const stores: readonly Store[] = [sqlite, postgres.store];
      let run = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
            const prefix = (++run).toString(16).padStart(4, '0');
            const worlds = [];
            for (const store of stores) worlds.push(await seed(store, `${prefix}0`, SLOTS));
            assert.deepEqual(worlds[0], worlds[1], 'both engines number databases and types alike');
            const dbId = worlds[0]!.database.id;
            let type: RelationType = worlds[0]!.type;
            const ids: (string | null)[] = [...worlds[0]!.ids];
            let generation = 0;
            /** Runs one call on both engines and insists on the same answer (or the same failure). */
            const both = async (call: (store: Store) => Promise<unknown>, what: string) => {
              const outs = [];
              for (const store of stores) {
                outs.push(
                  await call(store).then(
                    (value) => ({ value }),
                    (err: unknown) => ({ error: isTiesError(err) ? err.code : String(err) }),
                  ),
                );
              }
              assert.deepStrictEqual(outs[1], outs[0], what);
              return outs[0];
            };
            const target = (a: number, b: number) => ({
              type,
              a: byId(ids[a] ?? '0'.repeat(24)),
              // B found by email now and then: matching goes through match_keys too.
              b: (a + b) % 2 ? byId(ids[b] ?? '0'.repeat(24)) : emailOf(ids[b]),
              now: NOW,
            });
            const emailOf = (id: string | null | undefined): ProfileQuery => ({
              by: 'email',
              email: `p${id ?? 'gone'}@example.com`,
              inProfile: true,
              inSubscriptions: true,
            });
            for (const o of ops) {
              const what = JSON.stringify(o);
              switch (o.k) {
                case 'attach':
                  await both((s) => s.attach({ ...target(o.a, o.b), weights: o.weights }), what);
                  break;
                case 'strengthen':
                  await both((s) => s.strengthen({ ...target(o.a, o.b), add: o.add, set: o.set }), what);
                  break;
                case 'edit':
                  await both((s) => s.edit({ ...target(o.a, o.b), set: o.set, remove: o.remove }), what);
                  break;
                case 'detach':
                  await both((s) => s.detach(target(o.a, o.b)), what);
                  break;
                case 'delete':
                  await both((s) => s.deleteProfile({ dbId, query: byId(ids[o.p] ?? '0'.repeat(24)) }), what);
                  ids[o.p] = null;
                  break;
                case 'recreate':
                  if (ids[o.p] === null) {
                    const suffix = `${prefix}${(++generation).toString(16)}f${o.p}`;
                    await both((s) => addProfile(s, dbId, suffix), what);
                    ids[o.p] = suffix.padStart(24, '0');
                  }
                  break;
                case 'retype': {
                  const properties = type.properties.map((p) =>
                    p.name === o.prop ? { ...p, top: o.top, sum: o.sum } : p,
                  );
                  const out = (await both(
                    (s) => s.updateRelationType({ relId: type.relId, properties, rebuild: [o.prop] }),
                    what,
                  )) as { value: RelationType };
                  type = out.value;
                  break;
                }
              }
            }
            for (const id of ids) {
              if (!id) continue;
              for (const side of ['a', 'b'] as const) {
                await both(
                  // Weights compared as values: each engine writes its JSON text in its own key order.
                  (s) =>
                    s
                      .listRelations({ type, side, profile: byId(id), limit: 1000 })
                      .then((o) =>
                        o.kind === 'ok' ? { ...o, rows: o.rows.map(([x, w]) => [x, JSON.parse(w)]) } : o,
                      ),
                  `list ${side}`,
                );
              }
              await both((s) => s.counter({ type, profile: byId(id) }), 'counter');
              await both((s) => s.getProfile({ dbId, query: byId(id) }), 'profile');
            }
          }),
          { numRuns: Number(process.env.TIES_PROPERTY_RUNS ?? 25) },
        );
      } finally {
        await sqlite.close();
        await postgres.cleanup();
      }
    });

    it('adds floats as IEEE doubles: 0.1 + 0.2 is 0.30000000000000004 in weights, and in sums as SQLite has it', async () => {
      const sqlite = await openSqliteStore({ path: ':memory:' });
      const postgres = await openPgTestStore();
      try {
        const sums: unknown[] = [];
        for (const store of [sqlite, postgres.store]) {
          const { type, ids } = await seed(store, 'f', 3);
          const t = { type, a: byId(ids[0]!), b: byId(ids[1]!), now: NOW };
          await store.strengthen({ ...t, add: { score: 0.1 }, set: {} });
          await store.strengthen({ ...t, add: { score: 0.2 }, set: {} });
          const rows = await store.listRelations({ type, side: 'a', profile: byId(ids[0]!), limit: 10 });
          assert.ok(rows.kind === 'ok');
          assert.equal(JSON.parse(rows.rows[0]![1]).score, 0.30000000000000004);
          await store.attach({ ...t, b: byId(ids[2]!), weights: { score: 0.7, hits: MAX_SAFE_INT } });
          const counter = await store.counter({ type, profile: byId(ids[0]!) });
          assert.ok(counter.kind === 'ok');
          sums.push(counter.props.map((p) => [p.name, p.sum, p.top]));
        }
        assert.deepStrictEqual(sums[1], sums[0]);
      } finally {
        await sqlite.close();
        await postgres.cleanup();
      }
    });

    it('refuses, as SQLite does, a write that would make a float sum infinite, and changes nothing', async () => {
      const sqlite = await openSqliteStore({ path: ':memory:' });
      const postgres = await openPgTestStore();
      try {
        const seen: unknown[] = [];
        for (const store of [sqlite, postgres.store]) {
          const { type, ids } = await seed(store, 'a', 4);
          const t = (b: number) => ({ type, a: byId(ids[0]!), b: byId(ids[b]!), now: NOW });
          const outcome = (promise: Promise<unknown>) =>
            promise.then(
              (value) => value,
              (err: unknown) => (isTiesError(err) ? `${err.code}: ${err.message}` : String(err)),
            );
          const answers = [
            await outcome(store.attach({ ...t(1), weights: { score: 1e308 } })),
            await outcome(store.attach({ ...t(2), weights: { score: 1e308 } })),
            await outcome(store.strengthen({ ...t(2), add: { score: 1e308 }, set: {} })),
            await outcome(store.edit({ ...t(1), set: { score: 1.7e308 }, remove: [] })),
            await outcome(store.edit({ ...t(1), set: { score: -1e308 }, remove: [] })),
            await outcome(store.attach({ ...t(3), weights: { score: -1e308 } })),
            await outcome(store.attach({ ...t(2), weights: { score: -1e308 } })),
            await outcome(store.counter({ type, profile: byId(ids[0]!) })),
          ];
          seen.push(answers);
        }
        assert.match(String((seen[0] as unknown[])[1]), /^INT_OVERFLOW: weights\.score/);
        assert.deepStrictEqual(seen[1], seen[0]);
      } finally {
        await sqlite.close();
        await postgres.cleanup();
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('postgres: set-based attach_batch', () => {
    const INT_PROPS: readonly PropertyDef[] = [
      { name: 'hits', type: 'int', top: 2, sum: true },
      { name: 'plain', type: 'int', top: 0, sum: false },
      { name: 'fan', type: 'bool', top: 0, sum: false },
    ];

    for (const [what, properties] of [
      ['int sums (merged per aggregate row)', INT_PROPS],
      ['a float sum (applied in item order)', PROPS],
    ] as const) {
      it(`answers each item as single attaches one after the other would, and ends with the same aggregates: ${what}`, async () => {
        const many = await openPgTestStore();
        const one = await openPgTestStore();
        try {
          const seeded = [
            await seed(many.store, 'h', 8, properties),
            await seed(one.store, 'h', 8, properties),
          ];
          const { ids, database } = seeded[0]!;
          const email = (i: number): ProfileQuery => ({
            by: 'email',
            email: `p${ids[i]}@example.com`,
            inProfile: true,
            inSubscriptions: false,
          });
          type Item = [ProfileQuery, ProfileQuery, Record<string, WeightValue>];
          // The int-only type has no score: it is left out there.
          const item = (a: ProfileQuery, b: ProfileQuery, w: Record<string, WeightValue>): Item => {
            const { score, ...rest } = w;
            return [a, b, properties === PROPS && score !== undefined ? { ...rest, score } : rest];
          };
          const items: Item[] = [
            item(byId(ids[0]!), byId(ids[1]!), { hits: 3, plain: 1, score: 0.1 }),
            item(byId(ids[0]!), byId(ids[2]!), { hits: -7, fan: true, score: 0.2 }),
            item(email(3), byId(ids[1]!), { hits: 5, score: 1e300 }),
            item(byId(ids[0]!), email(1), { hits: 100 }), // the pair of the first item: a duplicate
            item(byId(ids[4]!), byId(ids[4]!), { hits: 1 }), // self
            item(byId('f'.repeat(24)), byId(ids[1]!), { hits: 1 }), // A not found
            item(byId(ids[5]!), byId('e'.repeat(24)), { hits: 1 }), // B not found
            item(byId(ids[6]!), byId(ids[7]!), {}), // attached before the batch: a duplicate
            item(byId(ids[7]!), byId(ids[6]!), { hits: 2, score: -0.3 }),
            ...ids
              .slice(1)
              .map((b, i) => item(byId(ids[5]!), byId(b), { hits: i, plain: i * 2, score: i / 7 })),
          ];
          const inputs = (k: number) =>
            items.map(([a, b, weights]) => ({ type: seeded[k]!.type, a, b, weights, now: NOW }));
          for (const k of [0, 1]) {
            const store = [many, one][k]!.store;
            await store.attach({ ...inputs(k)[7]!, weights: { hits: 9 } });
          }
          const batched = await many.store.attachMany!(inputs(0));
          const single = [];
          for (const input of inputs(1)) single.push(await one.store.attach(input));
          assert.deepEqual(batched, single);
          assert.deepEqual(
            single.map((o) => o.kind),
            [
              'ok',
              'ok',
              'ok',
              'duplicate',
              'self',
              'not_found',
              'not_found',
              'duplicate',
              'ok',
              ...ids.slice(1).map((b) => (b === ids[5] ? 'self' : 'ok')),
            ],
          );
          for (const id of ids) {
            for (const side of ['a', 'b'] as const) {
              const list = (k: number) =>
                [many, one][k]!.store.listRelations({
                  type: seeded[k]!.type,
                  side,
                  profile: byId(id),
                  limit: 100,
                });
              assert.deepEqual(await list(0), await list(1), `relations of ${id} on side ${side}`);
            }
            const counter = (k: number) =>
              [many, one][k]!.store.counter({ type: seeded[k]!.type, profile: byId(id) });
            assert.deepEqual(await counter(0), await counter(1), `aggregates of ${id}`);
          }
          assert.equal(database.id, seeded[1]!.database.id);
        } finally {
          await many.cleanup();
          await one.cleanup();
        }
      });
    }

    it('answers RELATION_TYPE_NOT_FOUND for each item of a type deleted before the batch ran', async () => {
      const { store, cleanup } = await openPgTestStore();
      try {
        const { type, ids } = await seed(store, 'i', 2);
        assert.equal(await store.deleteRelationType(type.relId), true);
        const outcomes = await store.attachMany!([
          { type, a: byId(ids[0]!), b: byId(ids[1]!), weights: {}, now: NOW },
          { type, a: byId(ids[1]!), b: byId(ids[0]!), weights: {}, now: NOW },
        ]);
        assert.deepEqual(
          outcomes.map((o) => (o.kind === 'error' ? o.error.code : o.kind)),
          ['RELATION_TYPE_NOT_FOUND', 'RELATION_TYPE_NOT_FOUND'],
        );
      } finally {
        await cleanup();
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('postgres: migrations', () => {
    it('creates the schema, applies each version once, and refuses a newer schema without touching it', async () => {
      const schema = freshSchemaName();
      try {
        const first = await openPostgresStore({ url, schema, poolMax: 2, logger: silent });
        await first.close();
        // Opening again applies nothing and keeps the data.
        const again = await openPostgresStore({ url: `${url}?schema=${schema}`, poolMax: 2, logger: silent });
        assert.equal(again.schema, schema, 'a schema query parameter selects the schema');
        const client = await again.pool.connect();
        try {
          assert.deepEqual(await migrate(client), { applied: [], repeated: [] });
          const { rows } = await client.query('SELECT version, name FROM schema_migrations ORDER BY version');
          assert.deepEqual(
            rows,
            MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
          );
          // A migration from the future.
          await client.query(
            `INSERT INTO schema_migrations VALUES (${MIGRATIONS.length + 1}, 'future', '${NOW}')`,
          );
        } finally {
          client.release();
        }
        await again.close();
        await assert.rejects(
          openPostgresStore({ url, schema, poolMax: 2, logger: silent }),
          (err: unknown) =>
            err instanceof SchemaTooNewError &&
            err.found === MIGRATIONS.length + 1 &&
            err.known === MIGRATIONS.length,
        );
      } finally {
        await dropSchema(schema);
      }
    });

    it('lets several servers start on one empty schema at once: each migration runs once', async () => {
      const schema = freshSchemaName();
      try {
        const stores = await Promise.all(
          Array.from({ length: 4 }, () => openPostgresStore({ url, schema, poolMax: 1, logger: silent })),
        );
        const client = await stores[0]!.pool.connect();
        try {
          const { rows } = await client.query('SELECT count(*)::int AS n FROM schema_migrations');
          assert.deepEqual(rows, [{ n: MIGRATIONS.length }]);
        } finally {
          client.release();
        }
        await Promise.all(stores.map((s) => s.close()));
      } finally {
        await dropSchema(schema);
      }
    });

    it('refuses a schema name that would need quoting', async () => {
      await assert.rejects(openPostgresStore({ url, schema: 'Bad-Name; DROP' }), /schema must match/);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('postgres: one statement per call', () => {
    it('sends one statement for each relation and profile call once the catalogue and token are cached', async () => {
      const { store, cleanup } = await openPgTestStore();
      try {
        const ties = createTies({ store });
        await ties.access.ensureAdminToken('pg-admin-token-0123456789');
        const db = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
        const rel = (
          await ties.catalog.createRelationType({
            name: 'likes',
            db_a: db,
            db_b: db,
            properties: [{ name: 'hits', type: 'int', top: 2, sum: true }],
          })
        ).data.rel_id;
        const a = (await ties.profiles.add({ db_id: db, data: { email: 'a@example.com' } }, 'typed'))
          .profile_id;
        const b = (await ties.profiles.add({ db_id: db, data: { email: 'b@example.com' } }, 'typed'))
          .profile_id;
        await ties.access.authorize('pg-admin-token-0123456789', 'admin', 'warm up');
        await ties.catalog.getRelationType({ rel_id: rel });
        const sides = { rel_id: rel, profile_a: { profile_id: a }, profile_b: { email: 'b@example.com' } };
        const calls: [string, () => Promise<unknown>][] = [
          [
            'authorize',
            () => ties.access.authorize('pg-admin-token-0123456789', 'write', 'relations/attach'),
          ],
          ['attach', () => ties.relations.attach({ ...sides, weights: { hits: 1 } }, { encoding: 'typed' })],
          [
            'strengthen',
            () => ties.relations.strengthen({ ...sides, weights: { hits: 2 } }, { encoding: 'typed' }),
          ],
          ['edit', () => ties.relations.edit({ ...sides, weights: { hits: 5 } }, { encoding: 'typed' })],
          ['get', () => ties.relations.get({ rel_id: rel, profile_id: a })],
          ['get_counter', () => ties.relations.getCounter({ rel_id: rel, profile_id: a })],
          ['detach', () => ties.relations.detach(sides)],
          [
            'profiles/import',
            () => ties.profiles.import({ db_id: db, email: 'a@example.com', data: { _fname: 'A' } }, 'typed'),
          ],
          ['profiles/get', () => ties.profiles.get({ db_id: db, profile_id: b })],
          ['profiles/delete', () => ties.profiles.delete({ db_id: db, profile_id: b })],
        ];
        for (const [name, call] of calls) {
          const before = store.stats().statements;
          await call();
          const sent = store.stats().statements - before;
          assert.equal(sent, name === 'authorize' ? 0 : 1, `${name} sent ${sent} statements`);
        }
        await ties.close();
      } finally {
        await cleanup();
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('postgres: two stores sharing one schema (as two servers do)', () => {
    /** Two stores on one fresh schema; cleanup closes both and drops it. */
    async function pair(poolMax = 4) {
      const schema = freshSchemaName();
      const one = await openPostgresStore({ url, schema, poolMax, logger: silent });
      const two = await openPostgresStore({ url, schema, poolMax, logger: silent });
      return {
        one,
        two,
        async cleanup() {
          await Promise.all([one.close(), two.close()]);
          await dropSchema(schema);
        },
      };
    }

    const eventually = async (check: () => Promise<boolean>, what: string) => {
      const deadline = Date.now() + 3_000;
      while (!(await check())) {
        if (Date.now() > deadline) assert.fail(`${what}: not seen within 3 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    it('sees the other store’s catalogue and token changes (NOTIFY drops the caches)', async () => {
      const { one, two, cleanup } = await pair();
      try {
        const { type } = await seed(one, 'c', 0);
        assert.deepEqual(await two.getRelationType(type.relId), type, 'a miss reads the database');
        await one.updateRelationType({
          relId: type.relId,
          properties: [...type.properties, { name: 'extra', type: 'int', top: 0, sum: false }],
          rebuild: ['extra'],
        });
        await eventually(
          async () => (await two.getRelationType(type.relId))?.properties.length === PROPS.length + 1,
          'type update',
        );
        const token = await one.createToken({ name: 't', rights: ['read'], hash: 'f'.repeat(64), now: NOW });
        assert.equal((await two.findTokenByHash('f'.repeat(64)))?.id, token.id);
        await one.revokeToken(token.id);
        await eventually(async () => (await two.findTokenByHash('f'.repeat(64))) === null, 'token revoke');
        assert.equal(await two.deleteRelationType(type.relId), true);
        await eventually(async () => (await one.getRelationType(type.relId)) === null, 'type delete');
      } finally {
        await cleanup();
      }
    });

    it('loses no increment and creates each relation once under concurrent calls through both', async () => {
      const { one, two, cleanup } = await pair();
      try {
        const { type, ids } = await seed(one, 'd', 6);
        const stores = [one, two];
        const [hub, ...others] = ids as [string, ...string[]];
        const calls: Promise<unknown>[] = [];
        for (let i = 0; i < 200; i++) {
          const b = others[i % others.length]!;
          calls.push(
            stores[i % 2]!.strengthen({
              type,
              a: byId(hub),
              b: byId(b),
              add: { hits: 1, score: 0.5 },
              set: {},
              now: NOW,
            }),
          );
        }
        const attaches: Promise<{ kind: string }>[] = [];
        for (let i = 0; i < 40; i++) {
          const a = others[i % others.length]!;
          attaches.push(
            stores[(i >> 1) % 2]!.attach({ type, a: byId(a), b: byId(hub), weights: { hits: 1 }, now: NOW }),
          );
        }
        await Promise.all(calls);
        const outcomes = await Promise.all(attaches);
        assert.equal(outcomes.filter((o) => o.kind === 'ok').length, others.length);
        assert.equal(outcomes.filter((o) => o.kind === 'duplicate').length, 40 - others.length);
        const counter = await two.counter({ type, profile: byId(hub) });
        assert.ok(counter.kind === 'ok');
        assert.equal(counter.total, others.length);
        const hits = counter.props.find((p) => p.name === 'hits');
        assert.equal(hits?.sum, 200);
        assert.equal(counter.props.find((p) => p.name === 'score')?.sum, 100);
        const list = await one.listRelations({ type, side: 'b', profile: byId(hub), limit: 100 });
        assert.ok(list.kind === 'ok' && list.total === others.length && list.rows.length === others.length);
        assert.equal(one.stats().retries + two.stats().retries, 0, 'no call had to be retried');
      } finally {
        await cleanup();
      }
    });

    it('splits hot counters over slot rows: concurrent writes on one profile through many connections keep exact totals and int sums', async () => {
      const { one, two, cleanup } = await pair(6);
      try {
        const { type, ids } = await seed(one, 'g', 21);
        const [hub, ...others] = ids as [string, ...string[]];
        const stores = [one, two];
        // The hub is A of 20 relations and B of 20 more, written at once through 12 connections.
        const hits = new Map<string, number>();
        await Promise.all(
          others.flatMap((o, i) => {
            hits.set(o, i);
            return [
              stores[i % 2]!.attach({
                type,
                a: byId(hub),
                b: byId(o),
                weights: { hits: i, plain: 1 },
                now: NOW,
              }),
              stores[(i + 1) % 2]!.attach({ type, a: byId(o), b: byId(hub), weights: { hits: 1 }, now: NOW }),
            ];
          }),
        );
        const strengthens: Promise<unknown>[] = [];
        for (let i = 0; i < 300; i++) {
          const o = others[i % others.length]!;
          hits.set(o, hits.get(o)! + 3);
          strengthens.push(
            stores[i % 2]!.strengthen({
              type,
              a: byId(hub),
              b: byId(o),
              add: { hits: 3 },
              set: {},
              now: NOW,
            }),
          );
        }
        await Promise.all(strengthens);
        // Detached through other connections than the ones that attached: slots may go negative.
        const gone = others.filter((_, i) => i % 2 === 0);
        await Promise.all(
          gone.flatMap((o, i) => [
            stores[i % 2]!.detach({ type, a: byId(hub), b: byId(o), now: NOW }),
            stores[(i + 1) % 2]!.detach({ type, a: byId(o), b: byId(hub), now: NOW }),
          ]),
        );
        for (const o of gone) hits.delete(o);
        const counter = await one.counter({ type, profile: byId(hub) });
        assert.ok(counter.kind === 'ok');
        assert.equal(counter.total, others.length - gone.length);
        const sum = [...hits.values()].reduce((x, y) => x + y, 0);
        assert.deepEqual(
          counter.props.map((p) => [p.name, p.count, p.sum]),
          [
            ['hits', hits.size, sum],
            ['plain', hits.size, null],
          ],
        );
        const byB = await two.listRelations({ type, side: 'a', profile: byId(hub), limit: 100 });
        assert.ok(byB.kind === 'ok');
        assert.equal(byB.total, others.length - gone.length);
        const { rows } = await one.pool.query<{ slots: number; empty: number }>(
          `SELECT count(DISTINCT slot)::int AS slots, count(*) FILTER (WHERE count = 0 AND isum = 0)::int AS empty
             FROM ${one.schema}.relation_stats WHERE profile_id = $1`,
          [hub],
        );
        assert.ok(rows[0]!.slots > 1, `the hub's counters were spread over slots (${rows[0]!.slots})`);
        assert.equal(rows[0]!.empty, 0, 'slot rows that came to nothing are removed');
      } finally {
        await cleanup();
      }
    });

    it('never leaves a relation or an aggregate of a profile deleted while attaches to it run (the profile lock)', async () => {
      const { one, two, cleanup } = await pair(6);
      try {
        const { type, ids, database } = await seed(one, 'j', 13);
        const [victim, ...others] = ids as [string, ...string[]];
        const stores = [one, two];
        const calls: Promise<{ kind: string }>[] = [];
        others.forEach((o, i) => {
          calls.push(
            stores[i % 2]!.attach({ type, a: byId(o), b: byId(victim), weights: { hits: 1 }, now: NOW }),
          );
          if (i === 5) calls.push(two.deleteProfile({ dbId: database.id, query: byId(victim) }));
          calls.push(
            stores[(i + 1) % 2]!.attach({
              type,
              a: byId(victim),
              b: byId(o),
              weights: { hits: 2 },
              now: NOW,
            }),
          );
        });
        const outcomes = await Promise.all(calls);
        assert.ok(
          outcomes.every((o) => o.kind === 'ok' || o.kind === 'not_found'),
          JSON.stringify(outcomes),
        );
        const { rows } = await one.pool.query<{ left: number }>(
          `SELECT (SELECT count(*) FROM ${one.schema}.relations WHERE a = $1 OR b = $1)
                + (SELECT count(*) FROM ${one.schema}.relations_by_b WHERE a = $1 OR b = $1)
                + (SELECT count(*) FROM ${one.schema}.relation_stats WHERE profile_id = $1)
                + (SELECT count(*) FROM ${one.schema}.relation_tops WHERE a = $1 OR b = $1) AS left`,
          [victim],
        );
        assert.equal(Number(rows[0]!.left), 0, 'nothing of the deleted profile is left');
        for (const o of others) {
          const counter = await one.counter({ type, profile: byId(o) });
          assert.deepEqual(counter, { kind: 'ok', profileId: o, total: 0, props: [] }, `aggregates of ${o}`);
          const byB = await one.listRelations({ type, side: 'a', profile: byId(o), limit: 10 });
          assert.ok(byB.kind === 'ok' && byB.total === 0 && byB.rows.length === 0, `relations to ${o}`);
        }
      } finally {
        await cleanup();
      }
    });

    it('deletes profiles related to each other in both directions at once without a deadlock', async () => {
      const { one, two, cleanup } = await pair();
      try {
        const { type, ids, database } = await seed(one, 'e', 6);
        for (const a of ids) {
          for (const b of ids)
            if (a !== b) await one.attach({ type, a: byId(a), b: byId(b), weights: { hits: 1 }, now: NOW });
        }
        const survivor = await addProfile(one, database.id, 'e99');
        for (const id of ids) {
          await one.attach({
            type,
            a: byId(survivor),
            b: byId(id),
            weights: { hits: 2, score: 1.5 },
            now: NOW,
          });
        }
        const deletions = await Promise.all(
          ids.map((id, i) => [one, two][i % 2]!.deleteProfile({ dbId: database.id, query: byId(id) })),
        );
        assert.deepEqual(
          deletions.map((d) => d.kind),
          ids.map(() => 'ok'),
        );
        const counter = await two.counter({ type, profile: byId(survivor) });
        assert.deepEqual(counter, { kind: 'ok', profileId: survivor, total: 0, props: [] });
        assert.equal(one.stats().retries + two.stats().retries, 0, 'no deadlock had to be retried');
      } finally {
        await cleanup();
      }
    });

    it('keeps aggregates right when a type update rebuilds them while writes go on', async () => {
      const { one, two, cleanup } = await pair();
      try {
        const { type, ids } = await seed(one, 'f', 5, [{ name: 'hits', type: 'int', top: 0, sum: false }]);
        const [hub, ...others] = ids as [string, ...string[]];
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 120; i++) {
          writes.push(
            [one, two][i % 2]!.strengthen({
              type,
              a: byId(hub),
              b: byId(others[i % others.length]!),
              add: { hits: 1 },
              set: {},
              now: NOW,
            }),
          );
          if (i === 40) {
            writes.push(
              two.updateRelationType({
                relId: type.relId,
                properties: [{ name: 'hits', type: 'int', top: 2, sum: true }],
                rebuild: ['hits'],
              }),
            );
          }
        }
        await Promise.all(writes);
        const updated = (await one.getRelationType(type.relId))!;
        const counter = await one.counter({ type: updated, profile: byId(hub) });
        assert.ok(counter.kind === 'ok');
        const hits = counter.props.find((p) => p.name === 'hits');
        assert.equal(hits?.sum, 120);
        assert.deepEqual(
          hits?.top?.map((t) => t.value),
          [30, 30],
        );
      } finally {
        await cleanup();
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('postgres: unavailable', () => {
    it('answers STORE_UNAVAILABLE quickly when PostgreSQL cannot be reached', async () => {
      // A port nothing listens on: connection refused.
      const server = await import('node:net').then((net) => net.createServer());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const started = Date.now();
      await assert.rejects(
        openPostgresStore({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, connectTimeoutMs: 2_000 }),
        (err: unknown) => isTiesError(err) && err.code === 'STORE_UNAVAILABLE',
      );
      assert.ok(Date.now() - started < 5_000);
    });

    it('turns a statement timeout into STORE_UNAVAILABLE and keeps working after it', async () => {
      const schema = freshSchemaName();
      const store: PostgresStore = await openPostgresStore({
        url,
        schema,
        statementTimeoutMs: 200,
        logger: silent,
      });
      try {
        await assert.rejects(
          store.run({ text: 'SELECT pg_sleep(2)' }),
          (err: unknown) =>
            isTiesError(err) && err.code === 'STORE_UNAVAILABLE' && /timed out/.test(err.message),
        );
        await store.ping();
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    });

    it('refuses calls after close', async () => {
      const { store, cleanup } = await openPgTestStore();
      await cleanup();
      await assert.rejects(
        store.ping(),
        (err: unknown) => isTiesError(err) && err.code === 'STORE_UNAVAILABLE',
      );
    });
  });
}
