// Both SQLite stores against another process that holds the file's write lock (a real child
// process, test/support/lock-holder.ts): writes wait on the store's side, each until its own
// deadline, then are refused once, logged once; close() is bounded by the same wait.
// test/reliability/write-lock.test.ts checks the same over HTTP with a `ties serve` process.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { holdWriteLock } from '../../../test/support/lock-holder.js';
import { isTiesError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';
import { expiredCount, lockRetryDelay } from './sqlite-lock-wait.js';
import { openSqliteStore } from './sqlite-store.js';
import { openSqliteWorkerStore } from './sqlite-worker-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-sqlite-lock-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempPath = () => join(dir, `store-${++files}.db`);

function recordingLogger() {
  const lines: string[] = [];
  return {
    lines,
    warn: (_: object, msg: string) => lines.push(msg),
    error: (_: object, msg: string) => lines.push(msg),
  };
}

const open = {
  inline: openSqliteStore,
  worker: openSqliteWorkerStore,
} as const;

const newDb = (name: string) => ({
  name,
  description: '',
  customFields: [],
  now: '2026-12-04T00:00:00.000Z',
});

const isLockRefusal = (err: unknown) =>
  isTiesError(err) && err.code === 'STORE_UNAVAILABLE' && /locked by another process/.test(err.message);

describe('sqlite lock wait', () => {
  it('backs off from 1 ms to 50 ms, and a batch expires from its head', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 100].map(lockRetryDelay), [1, 2, 5, 10, 20, 50, 50, 50]);
    const pending = (deadline: number) => ({ op: {} as never, deadline, resolve() {}, reject() {} });
    assert.equal(expiredCount([pending(10), pending(20), pending(30)], 20), 2);
    assert.equal(expiredCount([pending(10)], 9), 0);
  });

  for (const writer of ['inline', 'worker'] as const) {
    it(`${writer}: writes wait for the lock, each to its own deadline, and are refused once it passes`, async () => {
      const path = tempPath();
      const logger = recordingLogger();
      const store: Store = await open[writer]({ path, logger, busyTimeoutMs: 400 });
      const holder = await holdWriteLock(path);
      let released = false;
      try {
        const first = store.createDatabase(newDb('one')).catch((err: unknown) => err);
        // Reads answer while the write waits.
        assert.deepEqual((await store.listDatabases(0, 10)).items, []);
        await store.ping();
        const firstError = await first;
        assert.ok(isLockRefusal(firstError), String(firstError));
        assert.match(String((firstError as Error).message), /at most 400 ms/);
        // Logged once for the episode, however many writes are refused.
        const second = await store.createDatabase(newDb('two')).catch((err: unknown) => err);
        assert.ok(isLockRefusal(second), String(second));
        assert.equal(
          logger.lines.filter((l) => /locked by another process/.test(l)).length,
          1,
          logger.lines.join('\n'),
        );

        // A write sent now waits; released meanwhile, it succeeds.
        const third = store.createDatabase(newDb('three'));
        await holder.release();
        released = true;
        assert.equal((await third).name, 'three');
        assert.deepEqual(
          (await store.listDatabases(0, 10)).items.map((d) => d.name),
          ['three'],
          'the refused writes changed nothing',
        );
        assert.ok(
          logger.lines.some((l) => /writing again/.test(l)),
          logger.lines.join('\n'),
        );
      } finally {
        if (!released) await holder.release();
        await store.close();
      }
    });

    it(`${writer}: close() with a write waiting for the lock answers it (503) within the bound`, async () => {
      const path = tempPath();
      const store: Store = await open[writer]({ path, logger: recordingLogger(), busyTimeoutMs: 300 });
      const holder = await holdWriteLock(path);
      try {
        const waiting = store.createDatabase(newDb('late')).catch((err: unknown) => err);
        await store.close();
        assert.ok(isLockRefusal(await waiting));
      } finally {
        await holder.release();
      }
    });
  }
});
