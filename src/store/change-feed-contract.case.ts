// The change feed's part of the store contract (run by storeContract on every engine): every
// acknowledged change has exactly one event, in commit order, with the exact weights before and
// after; a failed write leaves none; filters, paging, pruning and expired cursors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeEvent } from '../core/change-feed.js';
import { DEFAULT_RETENTION } from '../core/change-feed.js';
import { isTiesError } from '../core/errors.js';
import type { RelationType } from '../core/model.js';
import type { PropertyInput } from '../core/property-types.js';
import type { ProfileQuery, RelationTarget, Store } from '../core/store.js';
import { createTies, type Ties } from '../core/ties.js';

export interface OpenedFeedStore {
  readonly store: Store;
  cleanup(): Promise<void>;
}

const NOW = '2026-03-01T10:00:00.000Z';
const byId = (id: string): ProfileQuery => ({ by: 'id', id });

const PROPS: readonly PropertyInput[] = [
  { name: 'hits', type: 'int', top: 3, sum: true },
  { name: 'score', type: 'float', sum: true },
  { name: 'note', type: 'string' },
];

interface FeedWorld {
  readonly store: Store;
  readonly ties: Ties;
  readonly people: number;
  readonly firms: number;
  add(db?: number): Promise<string>;
  type(dbA?: number, dbB?: number): Promise<RelationType>;
  target(type: RelationType, a: string, b: string): RelationTarget;
  /** Every event after `after`, read in pages of `page`. */
  all(after?: number, page?: number): Promise<ChangeEvent[]>;
}

async function makeWorld(store: Store): Promise<FeedWorld> {
  const ties = createTies({ store });
  const people = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
  const firms = (await ties.catalog.createDatabase({ name: 'firms' })).data.id;
  let types = 0;
  const world: FeedWorld = {
    store,
    ties,
    people,
    firms,
    add: async (db = people) => (await ties.profiles.add({ db_id: db, data: {} }, 'typed')).profile_id,
    type: async (dbA = people, dbB = people) => {
      const relId = (
        await ties.catalog.createRelationType({
          name: `t${++types}`,
          db_a: dbA,
          db_b: dbB,
          properties: PROPS,
        })
      ).data.rel_id;
      const type = await store.getRelationType(relId);
      assert.ok(type);
      return type;
    },
    target: (type, a, b) => ({ type, a: byId(a), b: byId(b), now: NOW }),
    all: async (after = 0, page = 1000) => {
      const out: ChangeEvent[] = [];
      let cursor = after;
      for (;;) {
        const got = await store.readChanges(cursor, page, {});
        out.push(...got.events);
        assert.ok(got.lastSeq >= cursor, 'the cursor never goes back');
        if (got.events.length < page) return out;
        cursor = got.lastSeq;
      }
    },
  };
  return world;
}

/** An event without its seq and time, as a test expects it. */
function shape(e: ChangeEvent) {
  return {
    call: e.call,
    relId: e.relId,
    profileA: e.profileA,
    dbA: e.dbA,
    profileB: e.profileB,
    dbB: e.dbB,
    before: e.before === null ? null : { ...e.before },
    after: e.after === null ? null : { ...e.after },
  };
}

function assertAscending(events: readonly ChangeEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i]!.seq > events[i - 1]!.seq, `seq ${events[i]!.seq} after ${events[i - 1]!.seq}`);
  }
}

export function changeFeedContract(engineName: string, open: () => Promise<OpenedFeedStore>): void {
  const withWorld = (fn: (w: FeedWorld) => Promise<void>) => async () => {
    const opened = await open();
    try {
      await fn(await makeWorld(opened.store));
    } finally {
      await opened.cleanup();
    }
  };

  describe(`change feed contract: ${engineName}`, () => {
    it(
      'starts empty at seq 0 and logs each kind of change with its exact weights before and after',
      withWorld(async (w) => {
        const { store } = w;
        const first = await store.readChanges(0, 10, {});
        assert.deepEqual(first, { events: [], oldestSeq: null, lastSeq: 0, prunedThrough: 0, headSeq: 0 });
        const type = await w.type(w.people, w.firms);
        const [a, a2] = [await w.add(), await w.add()];
        const [b, b2] = [await w.add(w.firms), await w.add(w.firms)];
        const ev = (call: ChangeEvent['call'], x: string, y: string, before: unknown, after: unknown) => ({
          call,
          relId: type.relId,
          profileA: x,
          dbA: w.people,
          profileB: y,
          dbB: w.firms,
          before,
          after,
        });
        assert.equal(
          (await store.attach({ ...w.target(type, a, b), weights: { hits: 2, note: 'x' } })).kind,
          'ok',
        );
        assert.equal(
          (await store.strengthen({ ...w.target(type, a, b), add: { hits: 3, score: 0.5 }, set: {} })).kind,
          'ok',
        );
        assert.equal(
          (await store.strengthen({ ...w.target(type, a2, b), add: { hits: 1 }, set: {} })).kind,
          'ok',
        );
        assert.equal(
          (await store.edit({ ...w.target(type, a, b), set: { note: 'y' }, remove: ['score'] })).kind,
          'ok',
        );
        assert.equal(
          (await store.edit({ ...w.target(type, a2, b2), set: { hits: 7 }, remove: [] })).kind,
          'ok',
        );
        assert.equal((await store.detach(w.target(type, a2, b))).kind, 'ok');
        assert.equal(
          (
            await store.strengthen({
              ...w.target(type, a2, b2),
              add: { hits: 1 },
              set: {},
              call: 'relations/strengthen_batch',
            })
          ).kind,
          'ok',
        );
        const events = await w.all();
        assertAscending(events);
        assert.deepEqual(events.map(shape), [
          ev('relations/attach', a, b, null, { hits: 2, note: 'x' }),
          ev('relations/strengthen', a, b, { hits: 2, note: 'x' }, { hits: 5, note: 'x', score: 0.5 }),
          ev('relations/strengthen', a2, b, null, { hits: 1 }),
          ev('relations/edit', a, b, { hits: 5, note: 'x', score: 0.5 }, { hits: 5, note: 'y' }),
          ev('relations/edit', a2, b2, null, { hits: 7 }),
          ev('relations/detach', a2, b, { hits: 1 }, null),
          ev('relations/strengthen_batch', a2, b2, { hits: 7 }, { hits: 8 }),
        ]);
        assert.equal(events[0]!.seq, 1, 'the log starts at seq 1');
        assert.equal(events[0]!.at, NOW);
        const page = await store.readChanges(0, 100, {});
        assert.equal(page.oldestSeq, events[0]!.seq);
        assert.equal(page.lastSeq, events[events.length - 1]!.seq);
      }),
    );

    it(
      'leaves no event for a write that failed or changed nothing',
      withWorld(async (w) => {
        const { store } = w;
        const type = await w.type();
        const [a, b, c] = [await w.add(), await w.add(), await w.add()];
        await store.attach({ ...w.target(type, a, b), weights: { hits: 9_007_199_254_740_990 } });
        const before = (await w.all()).length;
        assert.equal((await store.attach({ ...w.target(type, a, b), weights: {} })).kind, 'duplicate');
        assert.equal((await store.detach(w.target(type, a, c))).kind, 'no_relation');
        assert.equal((await store.attach({ ...w.target(type, a, a), weights: {} })).kind, 'self');
        assert.equal(
          (await store.attach({ ...w.target(type, a, '0123456789abcdef01234567'), weights: {} })).kind,
          'not_found',
        );
        const overflow = await store.strengthen({ ...w.target(type, a, b), add: { hits: 10 }, set: {} });
        assert.equal(overflow.kind, 'overflow');
        const floatOverflow = await store
          .strengthen({ ...w.target(type, a, c), add: { score: 1.7e308 }, set: {} })
          .then(() => store.strengthen({ ...w.target(type, a, c), add: { score: 1.7e308 }, set: {} }))
          .catch((err: unknown) => err);
        // The second addition leaves the double range: refused, whichever way the engine says so.
        assert.ok(
          (isTiesError(floatOverflow) && floatOverflow.code === 'INT_OVERFLOW') ||
            (floatOverflow as { kind?: string }).kind === 'overflow',
          `float overflow refused: ${String(floatOverflow)}`,
        );
        const events = await w.all();
        // Only the first strengthen of (a, c) was acknowledged.
        assert.equal(events.length, before + 1);
        assert.deepEqual(shape(events[events.length - 1]!).after, { score: 1.7e308 });
      }),
    );

    it(
      'logs attach_batch items (each its own event, failed items none) in item order',
      withWorld(async (w) => {
        const { store } = w;
        const type = await w.type();
        const ids = await Promise.all([1, 2, 3, 4].map(() => w.add()));
        await store.attach({ ...w.target(type, ids[0]!, ids[3]!), weights: {} });
        const inputs = [
          { ...w.target(type, ids[0]!, ids[1]!), weights: { hits: 1 } },
          { ...w.target(type, ids[0]!, ids[3]!), weights: { hits: 2 } }, // duplicate
          { ...w.target(type, ids[2]!, ids[1]!), weights: { hits: 3 } },
          { ...w.target(type, ids[2]!, ids[2]!), weights: { hits: 4 } }, // self
          { ...w.target(type, ids[1]!, ids[3]!), weights: { hits: 5 } },
        ];
        const outcomes = store.attachMany
          ? await store.attachMany(inputs)
          : await Promise.all(inputs.map((i) => store.attach({ ...i, call: 'relations/attach_batch' })));
        assert.deepEqual(
          outcomes.map((o) => o.kind),
          ['ok', 'duplicate', 'ok', 'self', 'ok'],
        );
        const events = (await w.all()).slice(1);
        assert.deepEqual(
          events.map((e) => [e.call, e.profileA, e.profileB, e.after]),
          [
            ['relations/attach_batch', ids[0], ids[1], { hits: 1 }],
            ['relations/attach_batch', ids[2], ids[1], { hits: 3 }],
            ['relations/attach_batch', ids[1], ids[3], { hits: 5 }],
          ],
        );
      }),
    );

    it(
      'logs every relation a profile deletion or a type deletion removes, one event each',
      withWorld(async (w) => {
        const { store } = w;
        const t1 = await w.type();
        const t2 = await w.type();
        const [x, p, q, r] = [await w.add(), await w.add(), await w.add(), await w.add()];
        await store.attach({ ...w.target(t1, x, p), weights: { hits: 1 } });
        await store.attach({ ...w.target(t1, q, x), weights: { hits: 2 } });
        await store.attach({ ...w.target(t2, x, r), weights: { note: 'n' } });
        await store.attach({ ...w.target(t2, p, q), weights: { hits: 4 } });
        await store.attach({ ...w.target(t2, q, r), weights: { hits: 5 } });
        const start = (await store.readChanges(0, 1000, {})).lastSeq;
        assert.equal((await store.deleteProfile({ dbId: w.people, query: byId(x) })).kind, 'ok');
        const deleted = await w.all(start);
        assertAscending(deleted);
        const key = (e: ChangeEvent) => `${e.relId}:${e.profileA}:${e.profileB}`;
        assert.deepEqual(
          deleted.map((e) => [e.call, key(e), e.before, e.after]).sort(),
          [
            ['profiles/delete', `${t1.relId}:${x}:${p}`, { hits: 1 }, null],
            ['profiles/delete', `${t1.relId}:${q}:${x}`, { hits: 2 }, null],
            ['profiles/delete', `${t2.relId}:${x}:${r}`, { note: 'n' }, null],
          ].sort(),
        );
        const afterProfile = deleted[deleted.length - 1]!.seq;
        assert.equal(await store.deleteRelationType(t2.relId), true);
        const gone = await w.all(afterProfile);
        assert.deepEqual(
          gone.map((e) => [e.call, key(e), e.before, e.after, e.dbA, e.dbB]).sort(),
          [
            ['relations/types/delete', `${t2.relId}:${p}:${q}`, { hits: 4 }, null, w.people, w.people],
            ['relations/types/delete', `${t2.relId}:${q}:${r}`, { hits: 5 }, null, w.people, w.people],
          ].sort(),
        );
        // Nothing to remove: no event.
        assert.equal((await store.deleteProfile({ dbId: w.people, query: byId(r) })).kind, 'ok');
        assert.equal((await w.all(gone[gone.length - 1]!.seq)).length, 0);
      }),
    );

    it(
      'answers every acknowledged write of a concurrent load once, in one ascending order',
      withWorld(async (w) => {
        const { store } = w;
        const type = await w.type();
        const ids = await Promise.all(Array.from({ length: 12 }, () => w.add()));
        const calls: Promise<{ kind: string; a?: string; b?: string }>[] = [];
        for (let i = 0; i < ids.length; i++) {
          for (let j = 0; j < ids.length; j++) {
            if (i === j) continue;
            const t = w.target(type, ids[i]!, ids[j]!);
            calls.push(
              (i + j) % 3 === 0
                ? store.strengthen({ ...t, add: { hits: 1 }, set: {} })
                : store.attach({ ...t, weights: { hits: 1 } }),
            );
          }
        }
        const outcomes = await Promise.all(calls);
        const acknowledged = outcomes.filter((o) => o.kind === 'ok').map((o) => `${o.a}:${o.b}`);
        const events = await w.all(0, 37);
        assertAscending(events);
        assert.deepEqual(events.map((e) => `${e.profileA}:${e.profileB}`).sort(), acknowledged.sort());
      }),
    );

    it(
      'filters by rel_id and by profile, and moves the cursor on past events that do not match',
      withWorld(async (w) => {
        const { store } = w;
        const t1 = await w.type();
        const t2 = await w.type();
        const [a, b, c] = [await w.add(), await w.add(), await w.add()];
        await store.attach({ ...w.target(t1, a, b), weights: {} });
        await store.attach({ ...w.target(t2, a, c), weights: {} });
        await store.attach({ ...w.target(t1, c, b), weights: {} });
        await store.attach({ ...w.target(t2, b, c), weights: {} });
        const byType = await store.readChanges(0, 10, { relId: t2.relId });
        assert.deepEqual(
          byType.events.map((e) => [e.profileA, e.profileB]),
          [
            [a, c],
            [b, c],
          ],
        );
        assert.equal(byType.lastSeq, 4);
        const byProfile = await store.readChanges(0, 10, { profileId: a });
        assert.deepEqual(
          byProfile.events.map((e) => e.seq),
          [1, 2],
        );
        assert.equal(byProfile.lastSeq, 4, 'looked at everything up to the newest event');
        const both = await store.readChanges(1, 1, { relId: t1.relId, profileId: b });
        assert.deepEqual(
          both.events.map((e) => e.seq),
          [3],
        );
        assert.equal(both.lastSeq, 3, 'a full page continues after its last event');
        const none = await store.readChanges(0, 10, { relId: 999_999 });
        assert.deepEqual(none.events, []);
        assert.equal(none.lastSeq, 4);
        const future = await store.readChanges(50, 10, {});
        assert.equal(future.lastSeq, 50, 'never moves a cursor back');
      }),
    );

    it(
      'prunes the oldest events past the retention, and a cursor below them expires',
      withWorld(async (w) => {
        const { store, ties } = w;
        const type = await w.type();
        const ids = await Promise.all(Array.from({ length: 6 }, () => w.add()));
        for (let i = 1; i < ids.length; i++)
          await store.attach({ ...w.target(type, ids[0]!, ids[i]!), weights: {} });
        assert.equal(await store.pruneChanges({ olderThan: null, keepLast: 2, maxRows: 2 }), 2);
        assert.equal(await store.pruneChanges({ olderThan: null, keepLast: 2, maxRows: 100 }), 1);
        assert.equal(await store.pruneChanges({ olderThan: null, keepLast: 2, maxRows: 100 }), 0);
        const page = await store.readChanges(0, 10, {});
        assert.deepEqual(
          page.events.map((e) => e.seq),
          [4, 5],
        );
        assert.equal(page.oldestSeq, 4);
        assert.equal(page.prunedThrough, 3);
        await assert.rejects(
          ties.feed.read(2, 10),
          (err: unknown) => isTiesError(err) && err.code === 'CURSOR_EXPIRED',
        );
        assert.deepEqual(
          (await ties.feed.read(3, 10)).events.map((e) => e.seq),
          [4, 5],
        );
        assert.deepEqual(
          (await ties.feed.read(0, 10)).events.map((e) => e.seq),
          [4, 5],
          'after=0 reads from the oldest event kept',
        );
        // By age: every event is from NOW (2026-03-01); a cutoff after it prunes them all.
        assert.equal(
          await store.pruneChanges({ olderThan: '2026-03-01T09:00:00.000Z', keepLast: null, maxRows: 100 }),
          0,
        );
        assert.equal(
          await store.pruneChanges({ olderThan: '2026-03-02T00:00:00.000Z', keepLast: null, maxRows: 100 }),
          2,
        );
        const empty = await store.readChanges(5, 10, {});
        assert.deepEqual(empty, { events: [], oldestSeq: null, lastSeq: 5, prunedThrough: 5, headSeq: 5 });
        // Seqs are never handed out again, even once the log is empty.
        await store.detach(w.target(type, ids[0]!, ids[1]!));
        assert.deepEqual(
          (await store.readChanges(5, 10, {})).events.map((e) => e.seq),
          [6],
        );
        // The service's pruning uses the retention it was given.
        const feed = createTies({
          store,
          feed: { enabled: true, retention: { ...DEFAULT_RETENTION, maxCount: 0 } },
        }).feed;
        assert.equal(await feed.pruneNow(), 1);
        await feed.close();
      }),
    );

    it(
      'knows its head: headSeq on every page, after=latest reads only what commits from then on',
      withWorld(async (w) => {
        const { store, ties } = w;
        assert.equal(await ties.feed.head(), 0, 'an empty log that never held an event');
        const type = await w.type();
        const other = await w.type();
        const [a, b, c] = [await w.add(), await w.add(), await w.add()];
        await store.attach({ ...w.target(type, a, b), weights: {} });
        await store.attach({ ...w.target(type, a, c), weights: {} });
        const seqs = (await w.all()).map((e) => e.seq);
        const head = seqs[seqs.length - 1]!;
        assert.equal(await ties.feed.head(), head);
        assert.equal(
          (await store.readChanges(0, 1, {})).headSeq,
          head,
          'a partial page still names the head',
        );
        assert.equal(
          (await store.readChanges(0, 10, { relId: other.relId })).headSeq,
          head,
          'a filtered read names the whole log head',
        );
        const now = await ties.feed.changes({ after: 'latest' });
        assert.deepEqual(now.events, []);
        assert.equal(now.lastSeq, head, 'the cursor to continue from is the head');
        // Long-polling from the head answers changes made after the call, not the history. The call
        // takes the head when it arrives: changes are made until it answers, so one lands after that.
        const waiting = ties.feed.changes({ after: 'latest', waitMs: 20_000 });
        let answered = false;
        void waiting.then(() => {
          answered = true;
        });
        const made: string[] = [];
        while (!answered) {
          const x = await w.add();
          await store.attach({ ...w.target(type, a, x), weights: {} });
          made.push(x);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const next = await waiting;
        assert.ok(next.events.length > 0);
        for (const e of next.events) assert.ok(made.includes(e.profileB), 'only changes made after the call');
        assert.ok(next.events[0]!.seq > head);
        assert.ok(next.headSeq >= next.events[next.events.length - 1]!.seq);
      }),
    );

    it(
      'wakes a waiting reader when a write commits',
      withWorld(async (w) => {
        const { store, ties } = w;
        const type = await w.type();
        const [a, b] = [await w.add(), await w.add()];
        const started = Date.now();
        const waiting = ties.feed.waitForChanges(0, 20_000);
        await store.attach({ ...w.target(type, a, b), weights: {} });
        await waiting;
        assert.ok(Date.now() - started < 15_000, 'woken by the write, not by the timeout');
        // Nothing new: resolves at the timeout.
        await ties.feed.waitForChanges(1, 30);
        const ac = new AbortController();
        const aborted = ties.feed.waitForChanges(1, 20_000, ac.signal);
        ac.abort();
        await aborted;
      }),
    );
  });
}
