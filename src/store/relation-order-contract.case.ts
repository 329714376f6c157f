// relations/get's sort, offset and filters on the Store port (run by storeContract on every
// engine): each engine must answer the same rows as a plain JavaScript model of the order — the
// property's value (rows without it last, in both directions), ties by the other id — on both
// sides, page after page by offset, and count what a filter lets through.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RelationType, Weights } from '../core/model.js';
import type { PropertyInput } from '../core/property-types.js';
import type { ListRelationsInput, ProfileQuery, RelationFilter, Store } from '../core/store.js';
import { createTies } from '../core/ties.js';

export interface OpenedOrderStore {
  readonly store: Store;
  cleanup(): Promise<void>;
}

const byId = (id: string): ProfileQuery => ({ by: 'id', id });

const PROPS: readonly PropertyInput[] = [
  { name: 'hits', type: 'int', top: 3, sum: true },
  { name: 'score', type: 'float' },
  { name: 'fan', type: 'bool' },
  { name: 'note', type: 'string' },
];

/** Weights of the i-th relation: repeated values (ties), gaps (rows without a property), negatives. */
function weightsOf(i: number): Weights {
  const w: Record<string, number | boolean | string> = {};
  if (i % 5 !== 0) w.hits = (i * 7) % 6;
  if (i % 4 !== 1) w.score = ((i * 13) % 9) - 4.5;
  if (i % 3 !== 2) w.fan = i % 2 === 0;
  if (i % 6 !== 3) w.note = ['b', 'a', 'B', 'ab', 'a b', ''][(i * 5) % 6]!;
  return w as Weights;
}

interface Row {
  readonly other: string;
  readonly weights: Weights;
}

/** The model: the order every engine must answer. */
function modelOrder(rows: readonly Row[], prop: string | undefined, descending: boolean): Row[] {
  const byId = (x: Row, y: Row) => (x.other < y.other ? -1 : x.other > y.other ? 1 : 0);
  if (prop === undefined) return [...rows].sort(byId);
  const value = (r: Row) => {
    const v = r.weights[prop];
    return typeof v === 'boolean' ? Number(v) : v;
  };
  return [...rows].sort((x, y) => {
    const [vx, vy] = [value(x), value(y)];
    if (vx === undefined || vy === undefined) {
      return vx === vy ? byId(x, y) : vx === undefined ? 1 : -1;
    }
    if (vx !== vy) return (vx < vy ? -1 : 1) * (descending ? -1 : 1);
    return byId(x, y);
  });
}

function modelFilter(rows: readonly Row[], prop: string | undefined, filter: RelationFilter): Row[] {
  return rows.filter((r) => {
    if (r.other < filter.idLow || r.other > filter.idHigh) return false;
    if (filter.min === undefined && filter.max === undefined) return true;
    const v = prop === undefined ? undefined : r.weights[prop];
    if (typeof v !== 'number') return false;
    return (filter.min === undefined || v >= filter.min) && (filter.max === undefined || v <= filter.max);
  });
}

export function relationOrderContract(engineName: string, open: () => Promise<OpenedOrderStore>): void {
  describe(`relation order contract: ${engineName}`, () => {
    it('sorts by each property type both ways, pages by offset and filters, on both sides', async () => {
      const opened = await open();
      const { store } = opened;
      try {
        const ties = createTies({ store });
        const people = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
        const relId = (
          await ties.catalog.createRelationType({
            name: 'likes',
            db_a: people,
            db_b: people,
            properties: PROPS,
          })
        ).data.rel_id;
        const type = (await store.getRelationType(relId)) as RelationType;
        const add = async () => (await ties.profiles.add({ db_id: people, data: {} }, 'typed')).profile_id;
        const hub = await add();
        const others: Row[] = [];
        for (let i = 0; i < 23; i++) {
          const other = await add();
          const weights = weightsOf(i);
          others.push({ other, weights });
          // The hub is A of the first relations and B of the second: side a lists the first, side b the second.
          await ties.relations.attach(
            { rel_id: relId, profile_a: { profile_id: hub }, profile_b: { profile_id: other }, weights },
            { encoding: 'typed' },
          );
          await ties.relations.attach(
            { rel_id: relId, profile_a: { profile_id: other }, profile_b: { profile_id: hub }, weights },
            { encoding: 'typed' },
          );
        }
        const list = async (input: Partial<ListRelationsInput>) => {
          const out = await store.listRelations({
            type,
            side: 'a',
            profile: byId(hub),
            limit: 100,
            ...input,
          });
          assert.equal(out.kind, 'ok');
          if (out.kind !== 'ok') throw new Error('unreachable');
          assert.equal(out.total, 23);
          return out;
        };
        const walk = async (input: Partial<ListRelationsInput>, limit: number) => {
          const seen: Row[] = [];
          for (let offset = 0; ; offset += limit) {
            const page = await list({ ...input, offset, limit });
            assert.ok(page.rows.length <= limit);
            seen.push(...page.rows.map(([other, w]) => ({ other, weights: JSON.parse(w) as Weights })));
            if (!page.more) break;
            assert.equal(page.rows.length, limit, 'a page before the last is full');
          }
          return seen;
        };

        for (const side of ['a', 'b'] as const) {
          for (const property of [undefined, ...type.properties]) {
            for (const descending of property ? [false, true] : [false]) {
              const order = property ? { property, descending } : undefined;
              const seen = await walk({ side, order }, 4);
              const want = modelOrder(others, property?.name, descending);
              assert.deepEqual(
                seen.map((r) => r.other),
                want.map((r) => r.other),
                `side ${side}, ${property?.name ?? 'id'} ${descending ? 'desc' : 'asc'}`,
              );
              assert.deepEqual(
                seen.map((r) => r.weights),
                want.map((r) => r.weights),
              );
            }
          }
        }

        // Filters: an id prefix, bounds on the sort property, both; the count covers every page.
        const hits = type.properties.find((p) => p.name === 'hits')!;
        const score = type.properties.find((p) => p.name === 'score')!;
        const prefix = others[0]!.other.slice(0, 1);
        const cases: [typeof hits | undefined, RelationFilter][] = [
          [undefined, { idLow: prefix.padEnd(24, '0'), idHigh: prefix.padEnd(24, 'f') }],
          [hits, { idLow: '0'.repeat(24), idHigh: 'f'.repeat(24), min: 2, max: 4 }],
          [score, { idLow: '0'.repeat(24), idHigh: 'f'.repeat(24), min: -1.5 }],
          [score, { idLow: prefix.padEnd(24, '0'), idHigh: prefix.padEnd(24, 'f'), max: 0 }],
          [hits, { idLow: others[3]!.other, idHigh: others[3]!.other }],
          [hits, { idLow: '0'.repeat(24), idHigh: 'f'.repeat(24), min: 100 }],
        ];
        for (const side of ['a', 'b'] as const) {
          for (const [property, filter] of cases) {
            const order = property ? { property, descending: true } : undefined;
            const want = modelOrder(modelFilter(others, property?.name, filter), property?.name, true);
            const first = await list({ side, order, filter, limit: 3 });
            assert.equal(first.matched, want.length, `count, side ${side}, ${JSON.stringify(filter)}`);
            const seen = await walk({ side, order, filter }, 3);
            assert.deepEqual(
              seen.map((r) => r.other),
              want.map((r) => r.other),
              `rows, side ${side}, ${JSON.stringify(filter)}`,
            );
          }
        }

        // Without a filter nothing is counted; an offset past the end is an empty last page;
        // an offset in id order counts from `after`.
        const plain = await list({ order: { property: hits, descending: false }, limit: 5 });
        assert.equal(plain.matched, undefined);
        const past = await list({ order: { property: hits, descending: false }, offset: 23, limit: 5 });
        assert.deepEqual([past.rows.length, past.more], [0, false]);
        const ids = modelOrder(others, undefined, false).map((r) => r.other);
        const afterOffset = await list({ after: ids[4], offset: 2, limit: 3 });
        assert.deepEqual(
          afterOffset.rows.map((r) => r[0]),
          ids.slice(7, 10),
        );
      } finally {
        await opened.cleanup();
      }
    });
  });
}
