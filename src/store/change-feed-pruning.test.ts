// ChangeFeed's background pruning on a real store: with a retention, old events go in small steps
// while writes go on, and a cursor below them then expires.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTiesError } from '../core/errors.js';
import { createTies } from '../core/ties.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

test('prunes in the background down to the retention, writes going on meanwhile', async () => {
  const store = await openSqliteStore({ path: ':memory:' });
  const ties = createTies({
    store,
    feed: { enabled: true, retention: { maxAgeMs: null, maxCount: 3 }, pruneEveryMs: 10 },
  });
  try {
    const db = (await ties.catalog.createDatabase({ name: 'p' })).data.id;
    const relId = (await ties.catalog.createRelationType({ name: 't', db_a: db, db_b: db, properties: [] }))
      .data.rel_id;
    const type = (await store.getRelationType(relId))!;
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push((await ties.profiles.add({ db_id: db, data: {} }, 'typed')).profile_id);
    ties.feed.startPruning();
    for (let i = 1; i < ids.length; i++) {
      const target = { type, a: { by: 'id' as const, id: ids[0]! }, b: { by: 'id' as const, id: ids[i]! } };
      assert.equal(
        (await store.attach({ ...target, now: new Date().toISOString(), weights: {} })).kind,
        'ok',
      );
    }
    const deadline = Date.now() + 10_000;
    let page = await store.readChanges(0, 100, {});
    while (page.events.length > 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      page = await store.readChanges(0, 100, {});
    }
    assert.deepEqual(
      page.events.map((e) => e.seq),
      [9, 10, 11],
    );
    assert.equal(page.prunedThrough, 8);
    await assert.rejects(ties.feed.read(5, 10), /pruned/);
  } finally {
    await ties.close();
  }
});

test('a feed switched off does not prune', async () => {
  const store = await openSqliteStore({ path: ':memory:', changeFeed: false });
  const ties = createTies({ store, feed: { enabled: false, retention: { maxAgeMs: 1, maxCount: 1 } } });
  ties.feed.startPruning();
  assert.equal(ties.feed.enabled, false);
  await ties.close();
});

test('a feed switched off refuses to be read, naming the setting, rather than answering an empty log', async () => {
  const store = await openSqliteStore({ path: ':memory:', changeFeed: false });
  const ties = createTies({ store, feed: { enabled: false, retention: { maxAgeMs: null, maxCount: null } } });
  try {
    for (const after of [0, 'latest'] as const) {
      await assert.rejects(ties.feed.changes({ after, waitMs: 20_000 }), (err: unknown) => {
        assert.ok(isTiesError(err));
        assert.equal(err.code, 'FEED_DISABLED');
        assert.equal(err.status, 409);
        assert.match(err.message, /TIES_FEED=off/);
        assert.match(err.message, /relations\/changes/);
        return true;
      });
    }
  } finally {
    await ties.close();
  }
});
