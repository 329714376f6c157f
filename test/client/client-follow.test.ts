// client.followChanges against a real Ties (real HTTP on a free port): the async iterator yields
// every change in order, waits (long-poll) for new ones, resumes from a cursor, filters, and ends
// when its signal aborts; an expired cursor ends it with the 410 error.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ChangeEventOf, TiesApiError, TiesClient } from '../../src/client/index.js';
import { type ClientServer, startClientServer } from './client-server.js';

let server: ClientServer;
let admin: TiesClient;
let relId: number;
let dbA: number;
let dbB: number;

before(async () => {
  server = await startClientServer();
  admin = new TiesClient({ baseUrl: server.url, token: server.admin });
  dbA = (await admin.databases.create({ name: 'authors' })).data.id;
  dbB = (await admin.databases.create({ name: 'readers' })).data.id;
  relId = (
    await admin.relations.types.create({
      name: 'follows',
      db_a: dbA,
      db_b: dbB,
      properties: [{ name: 'n', type: 'int', sum: true }],
    })
  ).data.rel_id;
});
after(() => server.close());

const profile = async (db: number) => (await admin.profiles.add({ db_id: db, data: {} })).profile_id;

test('yields every change in order, waiting for new ones, and stops when aborted', async () => {
  const a = await profile(dbA);
  const bs = [await profile(dbB), await profile(dbB), await profile(dbB)];
  const pair = (b: string) => ({
    rel_id: relId,
    profile_a: { profile_id: a },
    profile_b: { profile_id: b },
  });
  await admin.relations.attach({ ...pair(bs[0]!), weights: { n: 1 } });
  const ac = new AbortController();
  const seen: ChangeEventOf[] = [];
  const following = (async () => {
    for await (const event of admin.followChanges({ signal: ac.signal, waitMs: 5_000, limit: 2 })) {
      seen.push(event);
      if (seen.length === 4) ac.abort();
    }
  })();
  // These arrive while the iterator waits.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await admin.relations.attach({ ...pair(bs[1]!), weights: { n: 2 } });
  await admin.relations.strengthen({ ...pair(bs[1]!), weights: { n: 3 } });
  await admin.relations.detach(pair(bs[0]!));
  await following;
  assert.deepEqual(
    seen.map((e) => [e.call, e.profile_b, e.before, e.after]),
    [
      ['relations/attach', bs[0], null, { n: 1 }],
      ['relations/attach', bs[1], null, { n: 2 }],
      ['relations/strengthen', bs[1], { n: 2 }, { n: 5 }],
      ['relations/detach', bs[0], { n: 1 }, null],
    ],
  );
  // Resuming from a cursor, with a filter.
  const resumed: ChangeEventOf[] = [];
  const stop = new AbortController();
  for await (const event of admin.followChanges({
    after: seen[0]!.seq,
    profileId: bs[0]!,
    waitMs: 50,
    signal: stop.signal,
  })) {
    resumed.push(event);
    stop.abort();
  }
  assert.deepEqual(
    resumed.map((e) => e.seq),
    [seen[3]!.seq],
  );
});

test("after: 'latest' follows from the head: only changes made once following started", async () => {
  const a = await profile(dbA);
  const old = await profile(dbB);
  const pair = (b: string) => ({ rel_id: relId, profile_a: { profile_id: a }, profile_b: { profile_id: b } });
  await admin.relations.attach({ ...pair(old), weights: { n: 1 } });
  const ac = new AbortController();
  const seen: ChangeEventOf[] = [];
  const following = (async () => {
    for await (const event of admin.followChanges({ after: 'latest', signal: ac.signal, waitMs: 5_000 })) {
      seen.push(event);
      if (seen.length === 2) ac.abort();
    }
  })();
  // The first request takes the head when it arrives: changes are made until two were followed.
  const made: string[] = [];
  while (!ac.signal.aborted) {
    const b = await profile(dbB);
    await admin.relations.attach({ ...pair(b), weights: { n: 2 } });
    made.push(b);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await following;
  assert.equal(seen.length, 2);
  for (const e of seen) {
    assert.equal(e.call, 'relations/attach');
    assert.ok(made.includes(e.profile_b), 'only changes made once following started');
  }
  assert.ok(seen[0]!.seq < seen[1]!.seq);
  // The answer names the head, so a reader can tell how far behind it is.
  const page = await admin.relations.changes({ after: 0, limit: 1 });
  assert.ok(page.head_seq >= seen[1]!.seq);
  assert.ok(page.next_after < page.head_seq);
});

test('an expired cursor ends the iteration with the 410 error', async () => {
  const a = await profile(dbA);
  const b = await profile(dbB);
  await admin.relations.attach({
    rel_id: relId,
    profile_a: { profile_id: a },
    profile_b: { profile_id: b },
    weights: {},
  });
  while ((await server.ties.store.pruneChanges({ olderThan: null, keepLast: 0, maxRows: 1000 })) > 0);
  await assert.rejects(
    (async () => {
      for await (const _ of admin.followChanges({ after: 1, waitMs: 10 })) break;
    })(),
    (err: unknown) => err instanceof TiesApiError && err.code === 410,
  );
});
