// Webhook delivery against real processes (issue #16): a running Ties server and a real HTTP
// receiver. The receiver fails for a while, then recovers: every event arrives at least once, in
// order, each request validly signed; the failures show in webhooks/list and /metrics meanwhile.
// A server stopped while the receiver fails resumes from its durable position after a restart.
// A webhook with a relation-type filter gets only that type's events.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  assertInOrder,
  caller,
  firstArrivals,
  type Receiver,
  startReceiver,
  startTies,
  storeLocations,
  until,
  workspace,
} from './support.js';

for (const location of storeLocations()) {
  describe(`webhook delivery on ${location.name}`, () => {
    after(() => location.remove());

    test('a receiver failing for a while gets every event, in order, signed, once it recovers; a restart resumes', async () => {
      const secrets = new Map<number, string>();
      const receiver: Receiver = await startReceiver((id) => secrets.get(id) ?? '');
      let server = await startTies(location.db, location.config);
      try {
        let call = caller(server.url);
        const w = await workspace(call, 6);
        const hook = (await call('webhooks/create', { url: receiver.url })).data;
        secrets.set(hook.id, hook.secret);
        const filtered = (
          await call('webhooks/create', { url: `${receiver.url}?only=${w.other}`, rel_id: w.other })
        ).data;
        secrets.set(filtered.id, filtered.secret);
        assert.notEqual(filtered.secret, hook.secret);
        const [a, b, c, d] = w.ids as [string, string, string, string];
        const pair = (x: string, y: string, rel = w.relId) => ({
          rel_id: rel,
          profile_a: { profile_id: x },
          profile_b: { profile_id: y },
        });

        receiver.status = 503;
        await call('relations/attach', { ...pair(a, b), weights: { hits: 1 } });
        await call('relations/strengthen', { ...pair(a, b), weights: { hits: 2 } });
        await call('relations/attach', { ...pair(c, d, w.other), weights: {} });
        await until('a failed attempt is recorded', async () => {
          const listed = (await call('webhooks/list', {})).data as any[];
          const state = listed.find((x) => x.id === hook.id);
          return state.failures > 0 && state.last_error?.includes('503') && state.lag >= 3;
        });
        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        assert.match(metrics, new RegExp(`ties_webhook_failures\\{webhook="${hook.id}"\\} [1-9]`));
        assert.match(metrics, new RegExp(`ties_webhook_lag_events\\{webhook="${hook.id}"\\} [1-9]`));

        // Stopped while the receiver fails: nothing was acknowledged, so nothing is lost.
        await server.close();
        server = await startTies(location.db, location.config);
        call = caller(server.url);
        await call('relations/edit', { ...pair(a, b), weights: { hits: 10 } });
        await call('relations/detach', pair(a, b));
        for (let i = 0; i < 20; i++)
          await call('relations/strengthen', { ...pair(b, c), weights: { hits: 1 } });
        receiver.status = 200;
        const { head } = await server.ties.store.listWebhooks();
        await until('every event is delivered', () => {
          const seqs = firstArrivals(
            receiver.accepted().filter((e) => e.rel_id === w.relId || e.rel_id === w.other),
          );
          return seqs.includes(head);
        });
        await until('both webhooks show no lag', async () => {
          const listed = (await call('webhooks/list', {})).data as any[];
          return listed.every((x) => x.lag === 0 && x.failures === 0 && x.last_error === null);
        });

        const all = receiver.requests
          .filter((r) => r.webhookId === hook.id && r.status === 200)
          .flatMap((r) => r.events);
        const seqs = firstArrivals(all);
        assertInOrder(seqs);
        // Every event of the log since the webhook's creation, none missing: 3 + 2 + 20.
        assert.equal(seqs.length, 25);
        assert.equal(seqs[seqs.length - 1]! - seqs[0]! + 1, 25, 'no gap');
        assert.deepEqual(
          all.slice(0, 3).map((e) => e.call),
          ['relations/attach', 'relations/strengthen', 'relations/attach'],
        );
        const strengthened = all.find((e) => e.call === 'relations/strengthen')!;
        assert.deepEqual([strengthened.before, strengthened.after], [{ hits: 1 }, { hits: 3 }]);
        assert.ok(
          receiver.requests.every((r) => r.signatureValid),
          'every request validly signed',
        );
        assert.ok(receiver.requests.filter((r) => r.status === 503).length >= 1);

        const only = receiver.requests
          .filter((r) => r.webhookId === filtered.id && r.status === 200)
          .flatMap((r) => r.events);
        assert.deepEqual(
          only.map((e) => [e.rel_id, e.call]),
          [[w.other, 'relations/attach']],
        );
        assert.equal(receiver.maxInFlight, 1, 'one request of a webhook at a time');
      } finally {
        await server.close();
        await receiver.close();
      }
    });
  });
}
