// Runs the store contract on the SQLite store whose writer is a worker thread, plus what only it
// has: batches that grow while one commits, reads that never see a batch half done, a writer that dies.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isTiesError } from '../../core/errors.js';
import type { ProfileQuery } from '../../core/store.js';
import { isCommitObservable } from '../../core/store-stats.js';
import { createTies } from '../../core/ties.js';
import { storeContract } from '../store-contract.case.js';
import { SchemaTooNewError } from './migrations.js';
import { openSqliteStore } from './sqlite-store.js';
import { openSqliteWorkerStore, type SqliteWorkerStore } from './sqlite-worker-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-sqlite-worker-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempPath = () => join(dir, `store-${++files}.db`);
const silent = { warn() {}, error() {} };

storeContract('sqlite worker', async () => {
  const path = tempPath();
  const store = await openSqliteWorkerStore({ path, logger: silent });
  return {
    store,
    cleanup: async () => {
      await store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
});

async function fixture(store: SqliteWorkerStore, profiles: number) {
  const ties = createTies({ store });
  const dbId = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
  const relId = (
    await ties.catalog.createRelationType({
      name: 'likes',
      db_a: dbId,
      db_b: dbId,
      properties: [{ name: 'hits', type: 'int', top: 3, sum: true }],
    })
  ).data.rel_id;
  const type = (await store.getRelationType(relId))!;
  const ids = await Promise.all(
    Array.from(
      { length: profiles },
      async (_, i) =>
        (await ties.profiles.add({ db_id: dbId, data: { email: `p${i}@x.example` } }, 'typed')).profile_id,
    ),
  );
  const byId = (id: string): ProfileQuery => ({ by: 'id', id });
  const target = (a: string, b: string) => ({ type, a: byId(a), b: byId(b), now: new Date().toISOString() });
  return { ties, dbId, relId, type, ids, byId, target };
}

describe('sqlite worker store', () => {
  it('needs a file: an in-memory database cannot be shared with a thread', async () => {
    await assert.rejects(openSqliteWorkerStore({ path: ':memory:' }), /needs a file/);
  });

  it('refuses a newer schema, as the inline store does', async () => {
    const path = tempPath();
    const inline = await openSqliteStore({ path });
    inline.sqlite.pragma('user_version'); // opens and migrates
    await inline.close();
    const BetterSqlite3 = (await import('better-sqlite3')).default;
    const raw = new BetterSqlite3(path);
    raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', '')").run();
    raw.close();
    await assert.rejects(openSqliteWorkerStore({ path }), SchemaTooNewError);
  });

  it('group commit: writes queued while a batch commits share the next one; a duplicate fails alone', async () => {
    const store = await openSqliteWorkerStore({ path: tempPath() });
    try {
      const { ids, target, type, byId } = await fixture(store, 3);
      const [a, b, c] = ids as [string, string, string];
      const batches: number[] = [];
      assert.ok(isCommitObservable(store));
      const stop = store.onCommit((info) => batches.push(info.ops));
      const before = store.stats();
      const outcomes = await Promise.all(
        Array.from({ length: 600 }, () => store.strengthen({ ...target(a, b), add: { hits: 1 }, set: {} })),
      );
      stop();
      assert.ok(outcomes.every((o) => o.kind === 'ok'));
      const stats = store.stats();
      assert.equal(stats.ops - before.ops, 600);
      assert.ok(
        stats.commits - before.commits <= 3,
        `600 writes took ${stats.commits - before.commits} commits`,
      );
      assert.equal(
        batches.reduce((x, y) => x + y, 0),
        600,
      );

      const [dup, fresh] = await Promise.all([
        store.attach({ ...target(a, b), weights: {} }),
        store.attach({ ...target(a, c), weights: { hits: 7 } }),
      ]);
      assert.equal(dup.kind, 'duplicate');
      assert.equal(fresh.kind, 'ok');
      const counter = await store.counter({ type, profile: byId(a) });
      assert.ok(counter.kind === 'ok');
      assert.equal(counter.total, 2);
      assert.equal(counter.props.find((p) => p.name === 'hits')?.sum, 607);
    } finally {
      await store.close();
    }
  });

  it('reads see a batch entirely or not at all, and a write is readable once answered', async () => {
    const store = await openSqliteWorkerStore({ path: tempPath() });
    try {
      const { ids, target, type, byId } = await fixture(store, 40);
      const [hub, ...others] = ids as [string, ...string[]];
      // 39 attaches queued in one turn: one batch, one transaction.
      let answered = false;
      const writes = Promise.all(
        others.map((b) => store.attach({ ...target(hub, b), weights: { hits: 1 } })),
      );
      void writes.then(() => {
        answered = true;
      });
      const seen = new Set<number>();
      while (!answered) {
        const counter = await store.counter({ type, profile: byId(hub) });
        assert.ok(counter.kind === 'ok');
        seen.add(counter.total);
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (const total of seen) assert.ok(total === 0 || total === 39, `a read saw ${total} of 39 relations`);
      const after = await store.counter({ type, profile: byId(hub) });
      assert.ok(after.kind === 'ok' && after.total === 39);
    } finally {
      await store.close();
    }
  });

  it('a catalogue write is readable as soon as it is answered', async () => {
    const store = await openSqliteWorkerStore({ path: tempPath() });
    try {
      const created = await store.createDatabase({ name: 'x', description: '', customFields: [], now: '' });
      assert.equal((await store.getDatabase(created.id))?.name, 'x');
      const type = await store.createRelationType({
        name: 't',
        dbA: created.id,
        dbB: created.id,
        properties: [],
        now: '',
      });
      assert.equal((await store.getRelationType(type.relId))?.name, 't');
      assert.equal(await store.deleteRelationType(type.relId), true);
      assert.equal(await store.getRelationType(type.relId), null);
    } finally {
      await store.close();
    }
  });

  it('close applies queued writes first; the file then holds them', async () => {
    const path = tempPath();
    const store = await openSqliteWorkerStore({ path });
    const { ids, target, type, byId } = await fixture(store, 2);
    const [a, b] = ids as [string, string];
    const queued = Promise.all(
      Array.from({ length: 10 }, () => store.strengthen({ ...target(a, b), add: { hits: 2 }, set: {} })),
    );
    await store.close();
    assert.equal((await queued).length, 10);
    await assert.rejects(
      store.ping(),
      (err: unknown) => isTiesError(err) && err.code === 'STORE_UNAVAILABLE',
    );
    const reopened = await openSqliteStore({ path });
    try {
      const counter = await reopened.counter({ type, profile: byId(a) });
      assert.ok(counter.kind === 'ok' && counter.props.find((p) => p.name === 'hits')?.sum === 20);
    } finally {
      await reopened.close();
    }
  });

  it('a writer thread that dies fails its writes with STORE_UNAVAILABLE, and ping says so', async () => {
    const store = await openSqliteWorkerStore({ path: tempPath(), logger: silent });
    try {
      const { ids, target } = await fixture(store, 2);
      const [a, b] = ids as [string, string];
      await store.thread.terminate();
      const unavailable = (err: unknown) => isTiesError(err) && err.code === 'STORE_UNAVAILABLE';
      await assert.rejects(store.attach({ ...target(a, b), weights: {} }), unavailable);
      await assert.rejects(store.ping(), unavailable);
    } finally {
      await store.close();
    }
  });
});
