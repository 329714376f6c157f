// The RabbitMQ publisher against the real broker (issue #16): every change is published to the
// durable topic exchange, routed rel.<rel_id>.<call>, persistent, in order; its position is kept
// in the store, so after the broker closes the connection (as a restart does) every event
// written meanwhile is published once the publisher is back, and a restarted server publishes
// nothing twice that the broker had confirmed before a clean stop.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import {
  AMQP_URL,
  amqpMissing,
  bindTestQueue,
  closeConnectionsNamed,
  deleteExchange,
} from './amqp-support.js';
import {
  assertInOrder,
  caller,
  firstArrivals,
  startTies,
  storeLocations,
  until,
  workspace,
} from './support.js';

const missing = await amqpMissing();

for (const location of storeLocations()) {
  describe(`AMQP publishing on ${location.name}`, { skip: missing }, () => {
    const exchange = `ties.test.${randomUUID().slice(0, 8)}`;
    after(async () => {
      await location.remove();
      await deleteExchange(exchange).catch(() => {});
    });

    test('every event reaches a bound queue in order, and again after the broker dropped the connection', async () => {
      const queue = await bindTestQueue(exchange);
      let server = await startTies(location.db, {
        ...location.config,
        publishUrl: AMQP_URL,
        publishExchange: exchange,
      });
      try {
        let call = caller(server.url);
        const w = await workspace(call, 4);
        const [a, b, c] = w.ids as [string, string, string];
        const pair = (x: string, y: string) => ({
          rel_id: w.relId,
          profile_a: { profile_id: x },
          profile_b: { profile_id: y },
        });
        await call('relations/attach', { ...pair(a, b), weights: { hits: 1 } });
        for (let i = 0; i < 10; i++)
          await call('relations/strengthen', { ...pair(a, c), weights: { hits: 1 } });
        await until('the first events are published', () => queue.messages.length >= 11);
        const first = queue.messages[0]!;
        assert.equal(first.routingKey, `rel.${w.relId}.relations/attach`);
        assert.equal(first.messageId, String(first.seq));
        assert.equal(first.persistent, true);
        assert.deepEqual(first.body.after, { hits: 1 });
        assert.equal(first.body.rel_id, w.relId);

        // The broker closes the publisher's connection (what a broker restart does to it).
        assert.equal(closeConnectionsNamed(`ties publisher (${exchange})`), 1);
        for (let i = 0; i < 10; i++)
          await call('relations/strengthen', { ...pair(b, c), weights: { hits: 1 } });
        await until('the events written meanwhile are published', () => queue.messages.length >= 21);

        // A clean stop and a new server: it goes on from the stored position.
        await server.close();
        server = await startTies(location.db, {
          ...location.config,
          publishUrl: AMQP_URL,
          publishExchange: exchange,
        });
        call = caller(server.url);
        await call('relations/detach', pair(a, b));
        await until('the event after the restart is published', () =>
          queue.messages.some((m) => m.routingKey === `rel.${w.relId}.relations/detach`),
        );
        const seqs = firstArrivals(queue.messages.map((m) => m.body as never));
        assertInOrder(seqs);
        assert.equal(seqs.length, 22);
        assert.equal(seqs[seqs.length - 1]! - seqs[0]! + 1, 22, 'no gap');
        assert.equal(queue.messages.length, 22, 'nothing confirmed was published twice');
      } finally {
        await server.close();
        await queue.close();
      }
    });
  });
}
