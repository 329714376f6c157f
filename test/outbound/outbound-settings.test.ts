// The outbound settings reach the senders of a running server: TIES_OUTBOUND_LEASE_MS is how long
// the lease a server takes on a webhook's cursor lasts (the default, 30 s, would fail here).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { caller, startTies, storeLocations, until } from './support.js';

const locations = storeLocations();
const location = locations[0]!;
after(async () => {
  for (const l of locations) await l.remove();
});

test('the lease a server takes on a webhook lasts TIES_OUTBOUND_LEASE_MS', async () => {
  const server = await startTies(location.db, { ...location.config, outboundLeaseMs: 600_000 });
  try {
    const call = caller(server.url);
    const hook = (await call('webhooks/create', { url: 'http://127.0.0.1:9/unreachable' })).data;
    const name = `webhook:${hook.id}`;
    let leaseUntil = 0;
    await until('the server takes the lease', async () => {
      const { webhooks } = await server.ties.store.listWebhooks();
      leaseUntil = webhooks.find((w) => w.cursor.name === name)?.cursor.leaseUntil ?? 0;
      return leaseUntil > 0;
    });
    assert.ok(leaseUntil > Date.now() + 60_000, `lease until ${new Date(leaseUntil).toISOString()}`);
    const listed = (await call('webhooks/list', {})).data as { id: number; sender: string | null }[];
    assert.notEqual(listed.find((w) => w.id === hook.id)?.sender, null);
  } finally {
    await server.close();
  }
});
