// GET /api/v1.1/relations/changes/stream over real HTTP (a running server, Node's fetch reading the
// stream): Server-Sent Events with id = seq, resuming from Last-Event-ID, filters, heartbeats, the
// token in the query (EventSource cannot set headers), refusals as envelopes before the stream
// starts, and every stream ended cleanly when the server stops.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';

const ADMIN = 'stream-admin-token-0123456789';
let server: RunningServer;
let relId: number;
let dbId: number;

async function call(name: string, params: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await fetch(`${server.url}/api/v1.1/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(params),
  });
  const body = (await res.json()) as Record<string, any>;
  assert.equal(body.error, 0, JSON.stringify(body));
  return body;
}

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** Opens the stream and reads its events as they come. */
async function open(query: string, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const res = await fetch(`${server.url}/api/v1.1/relations/changes/stream${query}`, {
    headers,
    signal: ac.signal,
  });
  const decoder = new TextDecoder();
  const reader = res.body!.getReader();
  let buffer = '';
  const queue: SseEvent[] = [];
  let ended = false;
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event: SseEvent = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) event.comment = line.slice(1).trim();
            else {
              const at = line.indexOf(':');
              const field = line.slice(0, at);
              const value = line.slice(at + 1).replace(/^ /, '');
              if (field === 'id' || field === 'event' || field === 'data') event[field] = value;
            }
          }
          queue.push(event);
          cut = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    } finally {
      ended = true;
    }
  })();
  /** Waits for `n` data events (heartbeats and the retry line left aside). */
  const next = async (n: number, timeoutMs = 10_000): Promise<SseEvent[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const data = queue.filter((e) => e.data !== undefined);
      if (data.length >= n) {
        const out = data.slice(0, n);
        for (const e of out) queue.splice(queue.indexOf(e), 1);
        return out;
      }
      if (ended || Date.now() > deadline) assert.fail(`expected ${n} events, got ${data.length}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { res, next, queue, isEnded: () => ended, pump, close: () => ac.abort() };
}

before(async () => {
  server = await startServer(
    loadConfig({ TIES_ADMIN_TOKEN: ADMIN, TIES_DB: ':memory:', TIES_LOG_LEVEL: 'silent' }, ['--port', '0']),
  );
  dbId = (await call('databases/create', { name: 'people' })).data.id;
  relId = (
    await call('relations/types/create', {
      name: 'knows',
      db_a: dbId,
      db_b: dbId,
      properties: [{ name: 'n', type: 'int' }],
    })
  ).data.rel_id;
});
after(() => server?.close());

const profile = async () => (await call('profiles/add', { db_id: dbId, data: {} })).profile_id as string;
const attach = (a: string, b: string, n: number) =>
  call('relations/attach', {
    rel_id: relId,
    profile_a: { profile_id: a },
    profile_b: { profile_id: b },
    weights: { n },
  });

test('streams each change as it commits (id = seq), resumes from Last-Event-ID, filters, heartbeats', async () => {
  const [a, b, c] = [await profile(), await profile(), await profile()];
  await attach(a, b, 1);
  const stream = await open(`?token=${ADMIN}`);
  assert.equal(stream.res.status, 200);
  assert.match(String(stream.res.headers.get('content-type')), /^text\/event-stream/);
  const [first] = await stream.next(1);
  const event = JSON.parse(first!.data!);
  assert.equal(first!.id, String(event.seq));
  assert.deepEqual(
    { call: event.call, profile_a: event.profile_a, profile_b: event.profile_b, after: event.after },
    { call: 'relations/attach', profile_a: a, profile_b: b, after: { n: 1 } },
  );
  // Live: written after the stream opened.
  await attach(a, c, 2);
  await call('relations/detach', {
    rel_id: relId,
    profile_a: { profile_id: a },
    profile_b: { profile_id: b },
  });
  const live = await stream.next(2);
  assert.deepEqual(
    live.map((e) => JSON.parse(e.data!).call),
    ['relations/attach', 'relations/detach'],
  );
  // Heartbeats on an idle stream (the server's default is 15 s; wait for one at most that long).
  const deadline = Date.now() + 20_000;
  while (!stream.queue.some((e) => e.comment === 'heartbeat') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(
    stream.queue.some((e) => e.comment === 'heartbeat'),
    'a heartbeat on an idle stream',
  );
  stream.close();

  // Resuming: Last-Event-ID wins over after; the bearer header works too.
  const resumed = await open('?after=0', { authorization: `Bearer ${ADMIN}`, 'last-event-id': first!.id! });
  const again = await resumed.next(2);
  assert.deepEqual(
    again.map((e) => e.id),
    live.map((e) => e.id),
  );
  resumed.close();

  // A filter: only the events of profile c.
  const filtered = await open(`?token=${ADMIN}&profile_id=${c}`);
  const [only] = await filtered.next(1);
  assert.equal(JSON.parse(only!.data!).profile_b, c);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(filtered.queue.filter((e) => e.data !== undefined).length, 0);
  filtered.close();
});

test('after=latest starts at the head: only changes from then on; the first id line names the start for a reconnect', async () => {
  const [a, b, c] = [await profile(), await profile(), await profile()];
  await attach(a, b, 1);
  const head = await server.ties.feed.head();
  assert.ok(head > 0);
  const stream = await open(`?token=${ADMIN}&after=latest`);
  assert.equal(stream.res.status, 200);
  // The start as an id without data, so that EventSource sends it back as Last-Event-ID.
  const deadline = Date.now() + 10_000;
  while (!stream.queue.some((e) => e.id !== undefined) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const start = stream.queue.find((e) => e.id !== undefined);
  assert.deepEqual({ id: start?.id, data: start?.data }, { id: String(head), data: undefined });
  await attach(a, c, 2);
  const [live] = await stream.next(1);
  assert.deepEqual(
    (({ call, profile_b }) => ({ call, profile_b }))(JSON.parse(live!.data!)),
    { call: 'relations/attach', profile_b: c },
    'the history before the stream opened is not replayed',
  );
  stream.close();
  // A reconnect's Last-Event-ID wins over after=latest: nothing written in between is missed.
  const d = await profile();
  await attach(a, d, 3);
  const resumed = await open(`?token=${ADMIN}&after=latest`, { 'last-event-id': live!.id! });
  const [missed] = await resumed.next(1);
  assert.equal(JSON.parse(missed!.data!).profile_b, d);
  resumed.close();
});

test('with the change feed off (TIES_FEED=off) the stream is refused with 409 FEED_DISABLED naming the setting', async () => {
  const off = await startServer(
    loadConfig({ TIES_ADMIN_TOKEN: ADMIN, TIES_DB: ':memory:', TIES_LOG_LEVEL: 'silent', TIES_FEED: 'off' }, [
      '--port',
      '0',
    ]),
  );
  try {
    for (const query of ['', '&after=latest']) {
      const res = await fetch(`${off.url}/api/v1.1/relations/changes/stream?token=${ADMIN}${query}`);
      assert.equal(res.status, 409);
      const body = (await res.json()) as { error: number; error_text: string };
      assert.equal(body.error, 409);
      assert.match(body.error_text, /^relations\/changes\/stream: .*TIES_FEED=off/);
    }
  } finally {
    await off.close();
  }
});

test('refuses before streaming with an envelope: no token 401, bad cursor 400, expired cursor 410', async () => {
  const noToken = await fetch(`${server.url}/api/v1.1/relations/changes/stream`);
  assert.equal(noToken.status, 401);
  assert.equal(((await noToken.json()) as { error: number }).error, 401);
  const bad = await fetch(`${server.url}/api/v1.1/relations/changes/stream?token=${ADMIN}&after=x`);
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error_text: string }).error_text, /^after: .*or latest/);
  const badId = await fetch(`${server.url}/api/v1.1/relations/changes/stream?token=${ADMIN}`, {
    headers: { 'last-event-id': '-3' },
  });
  assert.equal(badId.status, 400);
  await badId.body?.cancel();
  const [a, b] = [await profile(), await profile()];
  await attach(a, b, 1);
  while ((await server.ties.store.pruneChanges({ olderThan: null, keepLast: 0, maxRows: 1000 })) > 0);
  const expired = await fetch(`${server.url}/api/v1.1/relations/changes/stream?token=${ADMIN}&after=1`);
  assert.equal(expired.status, 410);
  await expired.body?.cancel();
});

test('a server stop ends every open stream cleanly, and quickly', async () => {
  const stream = await open(`?token=${ADMIN}&after=1000000`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await server.close();
  await stream.pump;
  assert.ok(stream.isEnded());
  assert.ok(Date.now() - started < 10_000, `stopped in ${Date.now() - started} ms`);
});
