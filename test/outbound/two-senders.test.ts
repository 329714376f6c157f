// Several servers on one PostgreSQL (issue #16): two `ties serve` processes share one schema and
// one webhook. The webhook's lease lets one of them send at a time: the receiver (which answers
// slowly, so that overlapping requests would show) never sees two requests of the webhook at
// once; writes through both servers are all delivered, in order; when the sending server stops,
// the other takes over from the durable position; a sender killed with SIGKILL is replaced once
// its lease expires, and nothing written meanwhile is lost. The servers run with the shortest lease
// a server accepts (TIES_OUTBOUND_LEASE_MS=15000; 30 s by default): the takeover after SIGKILL
// waits out one lease, and the shortest makes that wait half as long.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { CITUS_URL } from '../support/citus-engine.js';
import { spawnTies, waitForOutput } from '../support/cli.js';
import { dropSchema, freshSchemaName, PG_URL } from '../support/pg-engine.js';
import {
  ADMIN,
  assertInOrder,
  caller,
  firstArrivals,
  type Receiver,
  startReceiver,
  until,
  workspace,
} from './support.js';

const TARGETS: [string, string | undefined][] = [
  ['PostgreSQL', PG_URL],
  ['Citus', CITUS_URL],
];
for (const [label, url] of TARGETS) {
  if (!url) continue;
  describe(`two servers sending one webhook on ${label}`, () => {
    const schema = freshSchemaName();
    const children: ChildProcess[] = [];
    const bases: string[] = [];
    let receiver: Receiver;
    let secret = '';

    /** Starts one more server on the schema; answers its index. */
    const startOne = async () => {
      const child = spawnTies(
        ['serve', '--port', '0', '--db', `${url}?schema=${schema}`, '--log-level', 'warn'],
        {
          TIES_ADMIN_TOKEN: ADMIN,
          TIES_PG_POOL_MAX: '4',
          TIES_OUTBOUND_LEASE_MS: '15000',
          TIES_OUTBOUND_RETRY_MAX_MS: '400',
        },
      );
      children.push(child);
      const out = await waitForOutput(child, /listening on (\S+)/, 60_000);
      bases.push(/listening on (\S+)/.exec(out)![1]!);
      return children.length - 1;
    };

    before(async () => {
      receiver = await startReceiver(() => secret, 40);
      // One after the other: the second finds the schema migrated.
      await startOne();
      await startOne();
    });

    after(async () => {
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          await once(child, 'close');
        }),
      );
      await receiver.close();
      await dropSchema(schema, url);
    });

    it('one sender at a time, every event in order, and a takeover when the sender stops', async () => {
      const [one, two] = bases.map(caller) as [ReturnType<typeof caller>, ReturnType<typeof caller>];
      const w = await workspace(one, 8);
      const hook = (await one('webhooks/create', { url: receiver.url })).data;
      secret = hook.secret;
      const write = async (call: typeof one, i: number) =>
        call('relations/strengthen', {
          rel_id: w.relId,
          profile_a: { profile_id: w.ids[i % 8] },
          profile_b: { profile_id: w.ids[(i + 1) % 8] },
          weights: { hits: 1 },
        });
      for (let i = 0; i < 40; i++) await write(i % 2 === 0 ? one : two, i);
      const senderOf = async () =>
        ((await two('webhooks/list', {})).data as any[])[0].sender as string | null;
      await until('a server holds the lease', async () => (await senderOf()) !== null);
      const firstSender = await senderOf();

      // Stop the server holding the lease (SIGTERM: it finishes its step and releases the lease).
      const pids = children.map((c) => c.pid);
      const holder = pids.findIndex((pid) => firstSender!.includes(`/${pid}/`));
      assert.ok(holder >= 0, `the sender ${firstSender} is one of the two servers ${pids.join(', ')}`);
      children[holder]!.kill('SIGTERM');
      await once(children[holder]!, 'close');
      const survivor = holder === 0 ? two : one;
      for (let i = 40; i < 60; i++) await write(survivor, i);

      const head = async () => {
        const listed = (await survivor('webhooks/list', {})).data as any[];
        return listed[0];
      };
      await until('the other server delivered everything', async () => (await head()).lag === 0, 60_000);
      const after = await head();
      assert.notEqual(after.sender, firstSender);
      const seqs = firstArrivals(receiver.accepted());
      assertInOrder(seqs);
      assert.equal(seqs.length, 60);
      assert.equal(seqs[59]! - seqs[0]! + 1, 60, 'no gap');
      assert.equal(receiver.maxInFlight, 1, 'never two requests of the webhook at once');
      assert.ok(receiver.requests.every((r) => r.signatureValid));
    });

    it('a sender killed (SIGKILL) is replaced once its lease expires, and nothing is lost', async () => {
      const live = children
        .map((c, i) => (c.exitCode === null && c.signalCode === null ? i : -1))
        .filter((i) => i >= 0);
      assert.equal(live.length, 1);
      const standby = await startOne();
      const call = caller(bases[standby]!);
      const listed = async () => ((await call('webhooks/list', {})).data as any[])[0];
      await until('the remaining server holds the lease', async () =>
        String((await listed()).sender).includes(`/${children[live[0]!]!.pid}/`),
      );
      const killed = live[0]!;
      const before = new Set(firstArrivals(receiver.accepted())).size;
      children[killed]!.kill('SIGKILL');
      await once(children[killed]!, 'close');
      const relId = (await call('relations/types/list', {})).data[0].rel_id as number;
      const profiles = receiver.accepted()[0];
      assert.ok(profiles, 'events were delivered before');
      for (let i = 0; i < 10; i++)
        await call('relations/strengthen', {
          rel_id: relId,
          profile_a: { profile_id: profiles.profile_a },
          profile_b: { profile_id: profiles.profile_b },
          weights: { hits: 1 },
        });
      // The dead server's lease (15 s here) expires; the standby takes the webhook over.
      await until('the standby delivered everything', async () => (await listed()).lag === 0, 90_000);
      const seqs = firstArrivals(receiver.accepted());
      assertInOrder(seqs);
      assert.equal(seqs.length, before + 10);
      assert.equal(seqs[seqs.length - 1]! - seqs[0]! + 1, seqs.length, 'no gap');
      assert.ok((await listed()).sender.includes(`/${children[standby]!.pid}/`));
      assert.equal(receiver.maxInFlight, 1);
    });
  });
}
