// The SQLite engine applies the aggregate changes of a group-commit batch at its end, merged per row
// (sqlite-aggregate-ledger.ts, `pending`), and keeps a profile's top entries as rows only while
// it has many relations: random writes queued in one turn — one batch — must leave every profile's
// get_counter and total_count equal to a recomputation from its relations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { RelationType, Weights } from '../../core/model.js';
import type { ProfileQuery } from '../../core/store.js';
import { createTies } from '../../core/ties.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

const PROFILES = 4;
const byId = (id: string): ProfileQuery => ({ by: 'id', id });

type Op =
  | {
      readonly k: 'attach';
      readonly a: number;
      readonly b: number;
      readonly hits?: number;
      readonly score?: number;
    }
  | { readonly k: 'strengthen'; readonly a: number; readonly b: number; readonly hits: number }
  | { readonly k: 'edit'; readonly a: number; readonly b: number; readonly hits: number | null }
  | { readonly k: 'detach'; readonly a: number; readonly b: number }
  | { readonly k: 'delete'; readonly p: number }
  | { readonly k: 'retop'; readonly top: number };

const slot = fc.integer({ min: 0, max: PROFILES - 1 });
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant('attach' as const),
    a: slot,
    b: slot,
    hits: fc.option(fc.integer({ min: -2, max: 2 }), { nil: undefined }),
    score: fc.option(fc.double({ min: -10, max: 10, noNaN: true }), { nil: undefined }),
  }),
  fc.record({
    k: fc.constant('strengthen' as const),
    a: slot,
    b: slot,
    hits: fc.integer({ min: -2, max: 2 }),
  }),
  fc.record({
    k: fc.constant('edit' as const),
    a: slot,
    b: slot,
    hits: fc.option(fc.integer({ min: -2, max: 2 }), { nil: null }),
  }),
  fc.record({ k: fc.constant('detach' as const), a: slot, b: slot }),
  fc.record({ k: fc.constant('delete' as const), p: slot }),
  fc.record({ k: fc.constant('retop' as const), top: fc.integer({ min: 1, max: 4 }) }),
);

async function world(store: SqliteStore) {
  const ties = createTies({ store });
  const db = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
  const relId = (
    await ties.catalog.createRelationType({
      name: 'likes',
      db_a: db,
      db_b: db,
      properties: [
        { name: 'hits', type: 'int', top: 2, sum: true },
        { name: 'score', type: 'float', top: 1, sum: true },
      ],
    })
  ).data.rel_id;
  const ids: string[] = [];
  for (let i = 0; i < PROFILES; i++)
    ids.push((await ties.profiles.add({ db_id: db, data: {} }, 'typed')).profile_id);
  return { ties, db, relId, ids };
}

/** Queues every op in the same turn (one batch, in this order) and waits for all of them. */
async function inOneBatch(store: SqliteStore, w: Awaited<ReturnType<typeof world>>, ops: readonly Op[]) {
  const type = (await store.getRelationType(w.relId))!;
  const now = new Date().toISOString();
  const target = (a: number, b: number) => ({ type, a: byId(w.ids[a]!), b: byId(w.ids[b]!), now });
  const before = store.stats().batches;
  const send = (op: Op): Promise<unknown> => {
    switch (op.k) {
      case 'attach': {
        const weights: Record<string, number> = {};
        if (op.hits !== undefined) weights.hits = op.hits;
        if (op.score !== undefined) weights.score = op.score;
        return store.attach({ ...target(op.a, op.b), weights });
      }
      case 'strengthen':
        return store.strengthen({ ...target(op.a, op.b), add: { hits: op.hits }, set: {} });
      case 'edit':
        return store.edit({
          ...target(op.a, op.b),
          set: op.hits === null ? {} : { hits: op.hits },
          remove: op.hits === null ? ['hits'] : [],
        });
      case 'detach':
        return store.detach(target(op.a, op.b));
      case 'delete':
        return store.deleteProfile({ dbId: w.db, query: byId(w.ids[op.p]!) });
      case 'retop':
        return store.updateRelationType({
          relId: w.relId,
          properties: type.properties.map((p) => (p.name === 'hits' ? { ...p, top: op.top } : p)),
          rebuild: ['hits'],
        });
    }
  };
  const pending = ops.map(send);
  const settled = await Promise.allSettled(pending);
  assert.ok(store.stats().batches - before <= 1, 'the ops shared one batch');
  // Failures are outcomes (not_found, duplicate, …), never a batch that could not commit.
  for (const s of settled)
    assert.equal(s.status, 'fulfilled', s.status === 'rejected' ? String(s.reason) : '');
}

/** Checks every profile's aggregates against its relations as listed. */
async function checkAggregates(store: SqliteStore, w: Awaited<ReturnType<typeof world>>) {
  const type: RelationType = (await store.getRelationType(w.relId))!;
  const hitsTop = type.properties.find((p) => p.name === 'hits')!.top;
  for (const id of w.ids) {
    const listed = await store.listRelations({ type, side: 'a', profile: byId(id), limit: 1000 });
    const counter = await store.counter({ type, profile: byId(id) });
    if (listed.kind !== 'ok' || counter.kind !== 'ok') continue; // deleted
    const rows = listed.rows.map(([b, weights]) => ({ b, w: JSON.parse(weights) as Weights }));
    assert.equal(counter.total, rows.length, 'total');
    assert.equal(listed.total, rows.length, 'total_count');
    const hits = rows.filter((r) => typeof r.w.hits === 'number');
    const agg = counter.props.find((p) => p.name === 'hits');
    if (hits.length === 0) {
      assert.equal(agg, undefined);
    } else {
      assert.equal(agg?.count, hits.length, 'hits count');
      assert.equal(
        agg?.sum,
        hits.reduce((s, r) => s + (r.w.hits as number), 0),
        'hits sum',
      );
      const top = [...hits]
        .sort((x, y) => (y.w.hits as number) - (x.w.hits as number) || (x.b < y.b ? -1 : 1))
        .slice(0, hitsTop)
        .map((r) => ({ profileId: r.b, value: r.w.hits }));
      assert.deepEqual(agg?.top, top, 'hits top');
    }
    const scores = rows.filter((r) => typeof r.w.score === 'number');
    assert.equal(
      counter.props.find((p) => p.name === 'score')?.count,
      scores.length || undefined,
      'score count',
    );
    for (const side of ['b'] as const) {
      const out = await store.listRelations({ type, side, profile: byId(id), limit: 1000 });
      if (out.kind === 'ok') assert.equal(out.total, out.rows.length, 'side b total_count');
    }
  }
}

const batch = fc.array(opArbitrary, { minLength: 1, maxLength: 30 });

describe('sqlite engine: aggregates applied at the end of a batch', () => {
  it('a row that goes and comes back within one batch is left as it was', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    try {
      const w = await world(store);
      await inOneBatch(store, w, [{ k: 'attach', a: 0, b: 1, hits: 1 }]);
      // The top row (hits 1) is deleted and inserted again; the total row drops to 0 and back.
      await inOneBatch(store, w, [
        { k: 'strengthen', a: 0, b: 1, hits: 1 },
        { k: 'strengthen', a: 0, b: 1, hits: -1 },
        { k: 'detach', a: 0, b: 1 },
        { k: 'attach', a: 0, b: 1, hits: 1 },
      ]);
      await checkAggregates(store, w);
    } finally {
      await store.close();
    }
  });

  // A profile here has at most three relations: with top rows from 2, writes keep making and
  // dropping them (on the way up above 2, on the way down at 1), within and across batches.
  for (const [name, topRows] of [
    ['top rows kept for no profile', undefined],
    ['top rows made and dropped as totals cross 2 and 1', { from: 2, until: 1 }],
  ] as const) {
    it(`equal a recomputation after random writes queued in one batch (${name})`, async () => {
      await fc.assert(
        fc.asyncProperty(batch, batch, async (ops, more) => {
          const store = await openSqliteStore({ path: ':memory:', topRows });
          try {
            const w = await world(store);
            await inOneBatch(store, w, ops);
            await checkAggregates(store, w);
            // And a second batch on top of the first: rows that exist before a batch change too.
            await inOneBatch(store, w, more);
            await checkAggregates(store, w);
          } finally {
            await store.close();
          }
        }),
        { numRuns: Number(process.env.TIES_PROPERTY_RUNS ?? 40) },
      );
    });
  }
});
