// The sender loop (src/outbound/cursor-runner.ts) on a real store with a destination of the test's
// own: batches arrive in order and the position follows them; a destination that throws is
// retried (failures counted in the cursor) without losing or reordering anything; events the log
// pruned before they were sent are skipped with a warning (and the cursor's last_error until the
// next delivery).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChangeEvent } from '../../src/core/change-feed.js';
import { createTies, type Ties } from '../../src/core/ties.js';
import { CursorRunner, type Destination } from '../../src/outbound/cursor-runner.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { until } from './support.js';

const silent = { info() {}, warn() {} };

async function setup(retainCount: number | null) {
  const store = await openSqliteStore({ path: ':memory:' });
  const ties = createTies({
    store,
    feed: { enabled: true, retention: { maxAgeMs: null, maxCount: retainCount } },
  });
  const db = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
  const relId = (await ties.catalog.createRelationType({ name: 'knows', db_a: db, db_b: db })).data.rel_id;
  await ties.access.ensureAdminToken('runner-test-admin-token-0123');
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const saved = await ties.profiles.save({ db_id: db, data: {} } as never, 'add', 'json' as never);
    ids.push((saved as { profile_id: string }).profile_id);
  }
  let n = 0;
  const attach = async () => {
    n++;
    await ties.relations.attach(
      {
        rel_id: relId,
        profile_a: { profile_id: ids[0]! },
        profile_b: { profile_id: ids[n]! },
        weights: {},
      } as never,
      { encoding: 'json' } as never,
    );
  };
  return { ties, attach };
}

function collecting(cursorName: string, fail: () => boolean): Destination & { got: ChangeEvent[] } {
  const got: ChangeEvent[] = [];
  return {
    got,
    cursorName,
    filter: {},
    batchSize: 4,
    createCursor: true,
    async deliver(events) {
      if (fail()) throw new Error('receiver answered HTTP 500');
      got.push(...events);
    },
  };
}

const runner = (ties: Ties, destination: Destination) =>
  new CursorRunner({ ties, owner: 'test', backoff: { baseMs: 10, capMs: 50 }, logger: silent }, destination);

describe('cursor runner', () => {
  test('retries a failing destination, then delivers every event in order and stores the position', async () => {
    const { ties, attach } = await setup(null);
    await attach();
    // The cursor is made at the head, its lease already expired.
    await ties.store.claimFeedCursor({
      name: 'amqp:runner',
      owner: 'maker',
      leaseMs: 1,
      nowMs: 0,
      create: true,
    });
    let failing = 3;
    const destination = collecting('amqp:runner', () => failing-- > 0);
    const r = runner(ties, destination);
    r.start();
    for (let i = 0; i < 10; i++) await attach();
    await until('ten events delivered', () => destination.got.length >= 10);
    await r.stop();
    const seqs = destination.got.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.equal(new Set(seqs).size, 10);
    assert.ok(r.counters.failures >= 3);
    const cursor = await ties.store.claimFeedCursor({
      name: 'amqp:runner',
      owner: 'after',
      leaseMs: 1000,
      nowMs: Date.now(),
      create: false,
    });
    assert.equal(cursor?.position, seqs[seqs.length - 1]);
    assert.equal(cursor?.failures, 0);
    assert.equal(cursor?.lastError, null);
    await ties.close();
  });

  test('events pruned before delivery are skipped, with a warning, and the rest delivered', async () => {
    const { ties, attach } = await setup(5);
    await attach();
    // The cursor is made at the head (seq 1); then 20 more events, of which the log keeps 5.
    await ties.store.claimFeedCursor({
      name: 'amqp:pruned',
      owner: 'maker',
      leaseMs: 1,
      nowMs: 0,
      create: true,
    });
    for (let i = 0; i < 20; i++) await attach();
    await ties.feed.pruneNow();
    const destination = collecting('amqp:pruned', () => false);
    const errors: string[] = [];
    const r = new CursorRunner(
      {
        ties,
        owner: 'test',
        backoff: { baseMs: 10, capMs: 50 },
        logger: { info() {}, warn: (_o, msg) => errors.push(msg) },
      },
      destination,
    );
    r.start();
    await until('the kept events are delivered', () => destination.got.length >= 5);
    await r.stop();
    assert.deepEqual(
      destination.got.map((e) => e.seq),
      [17, 18, 19, 20, 21],
    );
    assert.ok(errors.includes('outbound: events pruned before delivery'));
    await ties.close();
  });
});
