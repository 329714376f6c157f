// Another process holding the SQLite file's write lock (issue #12, item 5): a real `ties serve`
// process keeps answering reads and /health while a child process holds the lock; writes wait
// without blocking it and succeed once the lock is released, or answer 503 (Retry-After) when
// they have waited TIES_SQLITE_BUSY_TIMEOUT_MS, with nothing of them applied. Both writers.
// Outcomes and their order are asserted, never wall times (docs/reliability.md has the figures,
// from bench/write-lock.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { holdWriteLock } from '../support/lock-holder.js';
import { startTiesProcess, type TiesProcess } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-write-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ADMIN = 'write-lock-admin-token-0123456789';

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: Record<string, any>;
}

function caller(url: string) {
  return async (name: string, params: Record<string, unknown>): Promise<Answer> => {
    const res = await fetch(`${url}/api/v1.1/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN, ...params }),
    });
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as Record<string, any>,
    };
  };
}

/** A promise with a flag saying whether it has settled yet. */
function tracked<T>(promise: Promise<T>): { readonly promise: Promise<T>; settled(): boolean } {
  let done = false;
  const settledPromise = promise.finally(() => {
    done = true;
  });
  return { promise: settledPromise, settled: () => done };
}

/** A workspace: a database, a relation type, a profile A and three profiles B. */
async function workspace(call: ReturnType<typeof caller>) {
  const must = async (name: string, params: Record<string, unknown>) => {
    const answer = await call(name, params);
    assert.equal(answer.body.error, 0, `${name}: ${answer.body.error_text}`);
    return answer.body;
  };
  const dbId = (await must('databases/create', { name: 'people' })).data.id as number;
  const relId = (
    await must('relations/types/create', {
      name: 'likes',
      db_a: dbId,
      db_b: dbId,
      properties: [{ name: 'hits', type: 'int', sum: true }],
    })
  ).data.rel_id as number;
  const profile = async () => (await must('profiles/add', { db_id: dbId, data: {} })).profile_id as string;
  const a = await profile();
  const bs = [await profile(), await profile(), await profile()];
  const item = (b: string, hits: number) => ({
    profile_a: { profile_id: a },
    profile_b: { profile_id: b },
    weights: { hits },
  });
  return { dbId, relId, a, bs, item };
}

for (const writer of ['inline', 'worker'] as const) {
  describe(`SQLite file locked by another process (${writer} writer)`, () => {
    test('reads and /health are answered while a write waits; the write succeeds after the release', {
      timeout: 120_000,
    }, async () => {
      const db = join(dir, `${writer}-waits.db`);
      // Longer than the test could ever hold the lock: the write must wait, then succeed.
      const server = await startTiesProcess(db, {
        TIES_ADMIN_TOKEN: ADMIN,
        TIES_SQLITE_WRITER: writer,
        TIES_SQLITE_BUSY_TIMEOUT_MS: '120000',
      });
      let holder: Awaited<ReturnType<typeof holdWriteLock>> | undefined;
      try {
        const call = caller(server.url);
        const w = await workspace(call);
        holder = await holdWriteLock(db);

        const write = tracked(call('relations/attach', { rel_id: w.relId, ...w.item(w.bs[0]!, 5) }));
        // Reads of every kind, the token check and /health, sent after the write and answered
        // while it still waits for the lock.
        const [counter, list, profile, health] = await Promise.all([
          call('relations/get_counter', { rel_id: w.relId, profile_id: w.a }),
          call('relations/get', { rel_id: w.relId, profile_id: w.a }),
          call('profiles/get', { db_id: w.dbId, profile_id: w.a }),
          fetch(`${server.url}/health`).then(async (r) => ({ status: r.status, body: await r.json() })),
        ]);
        assert.equal(write.settled(), false, 'the write waits for the lock without holding up reads');
        assert.equal(counter.body.error, 0, JSON.stringify(counter.body));
        assert.equal(counter.body.data.total, 0);
        assert.equal(list.body.error, 0, JSON.stringify(list.body));
        assert.equal(profile.body.error, 0, JSON.stringify(profile.body));
        assert.equal(health.status, 200, JSON.stringify(health.body));
        // A second write queues behind the first and waits too.
        const second = tracked(call('relations/attach', { rel_id: w.relId, ...w.item(w.bs[1]!, 7) }));
        const again = await call('relations/get_counter', { rel_id: w.relId, profile_id: w.a });
        assert.equal(again.body.error, 0);
        assert.equal(write.settled() || second.settled(), false, 'both writes still wait');

        await holder.release();
        holder = undefined;
        const [first, next] = await Promise.all([write.promise, second.promise]);
        assert.equal(first.body.error, 0, `after the release: ${JSON.stringify(first.body)}`);
        assert.equal(next.body.error, 0, `after the release: ${JSON.stringify(next.body)}`);
        const total = await call('relations/get_counter', { rel_id: w.relId, profile_id: w.a });
        assert.equal(total.body.data.total, 2, JSON.stringify(total.body));
      } finally {
        await holder?.release();
        await stopCleanly(server);
      }
    });

    test('with a short bound, a write held up by the lock answers 503 with Retry-After and applies nothing', {
      timeout: 120_000,
    }, async () => {
      const db = join(dir, `${writer}-bounded.db`);
      const server = await startTiesProcess(db, {
        TIES_ADMIN_TOKEN: ADMIN,
        TIES_SQLITE_WRITER: writer,
        TIES_SQLITE_BUSY_TIMEOUT_MS: '300',
      });
      let holder: Awaited<ReturnType<typeof holdWriteLock>> | undefined;
      try {
        const call = caller(server.url);
        const w = await workspace(call);
        holder = await holdWriteLock(db);

        // Sent while the lock is held, answered while it still is (the holder waits for us).
        const [batch, profile] = await Promise.all([
          call('relations/attach_batch', { rel_id: w.relId, items: w.bs.map((b, i) => w.item(b, i + 1)) }),
          call('profiles/add', { db_id: w.dbId, data: { _fname: 'Locked' } }),
        ]);
        for (const answer of [batch, profile]) {
          assert.equal(answer.status, 503, JSON.stringify(answer.body));
          assert.equal(answer.body.error, 503);
          assert.match(answer.body.error_text, /locked by another process.*at most 300 ms.*retry later/);
          assert.equal(answer.retryAfter, '1');
        }
        const health = await fetch(`${server.url}/health`);
        assert.equal(health.status, 200, 'the store is sound: only the lock is taken');
        await holder.release();
        holder = undefined;

        // Nothing of the refused writes was applied.
        const counter = await call('relations/get_counter', { rel_id: w.relId, profile_id: w.a });
        assert.equal(counter.body.data.total, 0, JSON.stringify(counter.body));
        const list = await call('relations/get', { rel_id: w.relId, profile_id: w.a });
        assert.deepEqual(list.body.data.relations ?? list.body.data, [], JSON.stringify(list.body));
        // The same writes go through once the lock is free.
        const retried = await call('relations/attach_batch', {
          rel_id: w.relId,
          items: w.bs.map((b, i) => w.item(b, i + 1)),
        });
        assert.equal(retried.body.error, 0, JSON.stringify(retried.body));
        const after = await call('relations/get_counter', { rel_id: w.relId, profile_id: w.a });
        assert.equal(after.body.data.total, 3, JSON.stringify(after.body));
      } finally {
        await holder?.release();
        await stopCleanly(server);
      }
    });
  });
}

async function stopCleanly(server: TiesProcess): Promise<void> {
  const { code } = await server.stop('SIGTERM');
  assert.equal(code, 0, `ties serve exits 0 on SIGTERM: ${server.stderr()}`);
}
