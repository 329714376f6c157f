// The store's webhooks and feed cursors on every engine (src/core/outbound-store.ts): a webhook's
// cursor starts at the head of the log; a lease is held by one owner at a time, taken over once it
// expires or is released; only the holder moves the position.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../../src/core/store.js';
import { addProfiles, createWorkspace } from '../http/helpers.js';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';

for (const engine of testEngines()) {
  describe(`feed cursors on ${engine.name}`, () => {
    let h: Harness;
    let store: Store;
    let relId: number;
    let a: string[];
    let b: string[];
    before(async () => {
      h = await startHarness({ engine });
      store = h.ties.store;
      const w = await createWorkspace(h);
      relId = w.relId;
      a = await addProfiles(h, w.dbA, 2);
      b = await addProfiles(h, w.dbB, 2);
    });
    after(() => h.close());

    const attach = async (i: number, j: number) => {
      const answer = await h.call('relations/attach', {
        rel_id: relId,
        profile_a: { profile_id: a[i] },
        profile_b: { profile_id: b[j] },
        weights: {},
      });
      assert.equal(answer.body.error, 0, answer.raw);
    };

    test('a webhook starts at the head of the log, with an empty delivery state', async () => {
      await attach(0, 0);
      const before = await store.listWebhooks();
      const hook = await store.createWebhook({
        url: 'http://127.0.0.1:9/hook',
        relId,
        profileId: null,
        secret: 'whsec_0123456789abcdef',
        now: '2026-01-01T00:00:00.000Z',
      });
      const { webhooks, head } = await store.listWebhooks();
      assert.ok(head >= 1 && head >= before.head);
      const state = webhooks.find((w) => w.webhook.id === hook.id)!;
      assert.deepEqual(state.webhook, hook);
      assert.equal(state.cursor.position, head);
      assert.equal(state.cursor.lastDeliveredSeq, null);
      assert.equal(state.cursor.failures, 0);
      assert.equal(state.cursor.leaseOwner, null);
      await attach(1, 1);
      assert.equal((await store.listWebhooks()).head, head + 1);
    });

    test('one owner holds a lease; another takes it once it expires or is released', async () => {
      const name = 'amqp:test.exchange';
      const now = Date.now();
      const first = await store.claimFeedCursor({
        name,
        owner: 'one',
        leaseMs: 60_000,
        nowMs: now,
        create: true,
      });
      assert.ok(first);
      assert.equal(first.leaseOwner, 'one');
      assert.equal(first.position, (await store.listWebhooks()).head);
      assert.equal(
        await store.claimFeedCursor({ name, owner: 'two', leaseMs: 60_000, nowMs: now, create: true }),
        null,
      );
      // The holder renews and advances; the other cannot write.
      assert.equal(
        await store.updateFeedCursor({
          name,
          owner: 'two',
          leaseMs: 1000,
          nowMs: now,
          advance: { position: 99, lastSeq: 99, at: 'x' },
        }),
        false,
      );
      assert.equal(
        await store.updateFeedCursor({
          name,
          owner: 'one',
          leaseMs: 60_000,
          nowMs: now,
          failure: { error: 'HTTP 500', nextAttemptAt: '2026-01-01T00:00:01.000Z' },
        }),
        true,
      );
      assert.equal(
        await store.updateFeedCursor({
          name,
          owner: 'one',
          leaseMs: 60_000,
          nowMs: now,
          advance: {
            position: first.position + 5,
            lastSeq: first.position + 4,
            at: '2026-01-01T00:00:02.000Z',
          },
        }),
        true,
      );
      await store.releaseFeedCursor(name, 'one');
      const second = await store.claimFeedCursor({
        name,
        owner: 'two',
        leaseMs: 1,
        nowMs: Date.now(),
        create: true,
      });
      assert.ok(second);
      assert.equal(second.position, first.position + 5);
      assert.equal(second.lastDeliveredSeq, first.position + 4);
      assert.equal(second.failures, 0);
      assert.equal(second.lastError, null);
      // Position never moves back.
      await store.updateFeedCursor({
        name,
        owner: 'two',
        leaseMs: 1,
        nowMs: Date.now(),
        advance: { position: 1, lastSeq: null, at: 'y' },
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Expired (1 ms lease): a third owner takes it.
      const third = await store.claimFeedCursor({
        name,
        owner: 'three',
        leaseMs: 60_000,
        nowMs: Date.now(),
        create: true,
      });
      assert.ok(third);
      assert.equal(third.position, first.position + 5);
      assert.equal(third.leaseOwner, 'three');
    });

    test('a failure counts up and keeps its error until the next success', async () => {
      const name = 'amqp:failures';
      const now = Date.now();
      await store.claimFeedCursor({ name, owner: 'one', leaseMs: 60_000, nowMs: now, create: true });
      for (let i = 1; i <= 3; i++)
        await store.updateFeedCursor({
          name,
          owner: 'one',
          leaseMs: 60_000,
          nowMs: now,
          failure: { error: `e${i}`, nextAttemptAt: `t${i}` },
        });
      const held = await store.claimFeedCursor({
        name,
        owner: 'one',
        leaseMs: 60_000,
        nowMs: now,
        create: true,
      });
      assert.equal(held?.failures, 3);
      assert.equal(held?.lastError, 'e3');
      assert.equal(held?.nextAttemptAt, 't3');
    });

    test('deleting a webhook deletes its cursor; a second delete finds nothing', async () => {
      const hook = await store.createWebhook({
        url: 'https://example.com/x',
        relId: null,
        profileId: 'p1',
        secret: 'whsec_0123456789abcdef',
        now: '2026-01-01T00:00:00.000Z',
      });
      assert.equal(await store.deleteWebhook(hook.id), true);
      assert.equal(await store.deleteWebhook(hook.id), false);
      assert.equal(
        (await store.listWebhooks()).webhooks.some((w) => w.webhook.id === hook.id),
        false,
      );
      assert.equal(
        await store.claimFeedCursor({
          name: `webhook:${hook.id}`,
          owner: 'x',
          leaseMs: 1000,
          nowMs: Date.now(),
          create: false,
        }),
        null,
      );
    });
  });
}
