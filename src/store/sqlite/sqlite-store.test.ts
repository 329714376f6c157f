// Runs the store contract on SQLite (in memory and on a file), plus what only SQLite has: query
// plans, migrations, pragmas, group commit, disk-full and read-only behaviour, close.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { isTiesError } from '../../core/errors.js';
import { newProfileId } from '../../core/ids.js';
import type { ProfileQuery } from '../../core/store.js';
import { createTies } from '../../core/ties.js';
import { storeContract } from '../store-contract.case.js';
import { MIGRATIONS, migrate, SchemaTooNewError } from './migrations.js';
import { MAX_BATCH, openSqliteStore, type SqliteStore } from './sqlite-store.js';
import { openSqliteWorkerStore } from './sqlite-worker-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-sqlite-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempPath = () => join(dir, `store-${++files}.db`);

const silent = { warn() {}, error() {} };

storeContract('sqlite :memory:', async () => {
  const store = await openSqliteStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});

// Every profile with more than two relations keeps its top entries as rows (the default is 64), so
// that the contract runs through both ways of answering a top, and the switches between them.
storeContract('sqlite :memory:, top rows from 2 relations', async () => {
  const store = await openSqliteStore({ path: ':memory:', topRows: { from: 2, until: 1 } });
  return { store, cleanup: () => store.close() };
});

storeContract('sqlite file', async () => {
  const path = tempPath();
  const store = await openSqliteStore({ path, logger: silent });
  return {
    store,
    cleanup: async () => {
      await store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
});

/** A store with one database, one relation type (people → people) and a few profiles. */
async function fixture(store: SqliteStore, profiles = 3) {
  const ties = createTies({ store });
  const dbId = (
    await ties.catalog.createDatabase({
      name: 'people',
      fields: [
        { name: 'code', type: 'string' },
        { name: 'labels', type: 'tags' },
      ],
    })
  ).data.id;
  const relId = (
    await ties.catalog.createRelationType({
      name: 'likes',
      db_a: dbId,
      db_b: dbId,
      properties: [
        { name: 'hits', type: 'int', top: 3, sum: true },
        { name: 'score', type: 'float', top: 2, sum: true },
        { name: 'note', type: 'string' },
      ],
    })
  ).data.rel_id;
  const type = (await store.getRelationType(relId))!;
  const ids: string[] = [];
  for (let i = 0; i < profiles; i++) {
    ids.push(
      (await ties.profiles.add({ db_id: dbId, data: { email: `p${i}@example.com` } }, 'typed')).profile_id,
    );
  }
  const byId = (id: string): ProfileQuery => ({ by: 'id', id });
  const target = (a: string, b: string) => ({ type, a: byId(a), b: byId(b), now: new Date().toISOString() });
  return { ties, dbId, relId, type, ids, byId, target };
}

async function rejectsUnavailable(promise: Promise<unknown>, reason?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isTiesError(err), `expected a TiesError, got ${String(err)}`);
    assert.equal(err.code, 'STORE_UNAVAILABLE');
    if (reason) assert.match(String(err.details.reason), reason);
    return true;
  });
}

describe('sqlite store', () => {
  it('serves every hot query from an index: the relations, aggregates and top rows of one A, the entries of one B', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    try {
      const { relId } = await fixture(store, 0);
      const plans = store.sqlite.queryPlans();
      const text = (name: string) => {
        const plan = plans[name];
        assert.ok(plan, `no plan for ${name}`);
        return plan.join(' | ');
      };
      for (const [name, plan] of Object.entries(plans)) {
        for (const line of plan) {
          // json_each is the list of tags bound as one parameter and (subquery-N) a streamed
          // UNION ALL of two index searches; neither is a table.
          if (/^SCAN /.test(line) && !/^SCAN (json_each|\(subquery)/.test(line)) {
            assert.fail(`${name} scans: ${plan.join(' | ')}`);
          }
        }
        // topScan orders the relations of an A that keeps no top rows: at most TOP_ROWS.from.
        if (name !== 'topScan') {
          assert.doesNotMatch(plan.join(' | '), /USE TEMP B-TREE FOR .*ORDER BY/, `${name} sorts`);
        }
      }
      const a = 'rel_id=? AND a=?';
      const relation = `${a} AND kind=? AND prop=? AND value=? AND b=?`;
      const search = (table: string, key: string) =>
        new RegExp(`^SEARCH ${table} USING PRIMARY KEY \\(${key.replace(/[()?]/g, '\\$&')}\\)`);
      assert.match(text('topQuery'), search('relations_a', `${a} AND kind=? AND prop=?`));
      assert.match(text('topScan'), search('relations_a', `${a} AND kind=? AND prop=? AND value=?`));
      assert.match(text('topDelete'), search('relations_a', `${relation}`));
      assert.match(text('topsDeleteOfA'), search('relations_a', `${a} AND kind=?`));
      assert.match(text('listByA'), search('relations_a', `${a} AND kind=? AND prop=? AND value=? AND b>?`));
      assert.match(text('listByB'), search('x', 'rel_id=? AND b=? AND a>?'));
      assert.match(
        text('listByB'),
        /SEARCH r USING PRIMARY KEY \(rel_id=\? AND a=\? AND kind=\? AND prop=\? AND value=\? AND b=\?\)/,
      );
      assert.match(text('relGet'), search('relations_a', relation));
      assert.match(text('relDelete'), search('relations_a', relation));
      assert.match(text('byBDelete'), search('relations_b', 'rel_id=? AND b=? AND a=?'));
      assert.match(text('relDeleteByA'), search('relations_a', `${a} AND kind=?`));
      assert.match(text('byBDeleteByB'), search('relations_b', 'rel_id=? AND b=?'));
      assert.match(text('totalA'), search('relations_a', relation));
      assert.match(text('totalB'), search('relations_b', 'rel_id=? AND b=? AND a=?'));
      assert.match(text('statRowsA'), search('relations_a', `${a} AND kind=?`));
      assert.match(text(`strengthen:${relId}:hits`), search('relations_a', relation));
      assert.match(
        text('keyLookup'),
        /SEARCH profile_keys USING PRIMARY KEY \(db_id=\? AND kind=\? AND key=\?\)/,
      );
      assert.match(
        text('allKeysLookup'),
        /SEARCH profile_keys USING PRIMARY KEY \(db_id=\? AND kind=\? AND key=\?\)/,
      );
      assert.match(
        text('subLookupIn'),
        /subscriptions_by_contact \(db_id=\? AND channel=\? AND contact_key=\? AND resource_id=\?\)/,
      );
      assert.match(
        text('keyOrSubLookup'),
        /subscriptions_by_contact \(db_id=\? AND channel=\? AND contact_key=\?\)/,
      );
      assert.match(text('keysDelete'), /profile_keys_by_profile \(profile_id=\?\)/);
    } finally {
      await store.close();
    }
  });

  it('relation types add no indexes: a write costs the same however many types keep tops', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    try {
      const indexes = () =>
        ['relations_a', 'relations_b'].flatMap((table) =>
          (store.sqlite.pragma(`index_list(${table})`) as { name: string; origin: string }[])
            .map((i) => `${table}: ${i.origin}`)
            .sort(),
        );
      const before = indexes();
      const { ties, relId } = await fixture(store, 0);
      await fixture(store, 0);
      await ties.catalog.updateRelationType({
        rel_id: relId,
        properties: [{ name: 'extra', type: 'int', top: 5 }],
      });
      assert.deepEqual(indexes(), before);
      // Each table is its primary key alone: one B-tree per table, nothing else written per relation.
      assert.deepEqual(before, ['relations_a: pk', 'relations_b: pk']);
    } finally {
      await store.close();
    }
  });

  it('applies migrations once, records them, and refuses a newer schema', async () => {
    const path = tempPath();
    const first = await openSqliteStore({ path });
    await first.close();
    const raw = new BetterSqlite3(path);
    try {
      assert.deepEqual(migrate(raw), [], 'a second run applies nothing');
      const rows = raw.prepare('SELECT version, name FROM schema_migrations').all();
      assert.deepEqual(
        rows,
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      );
      // A newer Ties adds a migration; this code must then refuse the file rather than guess.
      const future = [...MIGRATIONS, { version: 999, name: 'future', sql: 'CREATE TABLE future (x)' }];
      assert.deepEqual(migrate(raw, future), [999]);
    } finally {
      raw.close();
    }
    await assert.rejects(openSqliteStore({ path }), (err: unknown) => {
      assert.ok(err instanceof SchemaTooNewError);
      assert.match(err.message, new RegExp(`schema version is 999, newer than the ${MIGRATIONS.length}`));
      return true;
    });
    await assert.rejects(openSqliteStore({ path, readonly: true }), SchemaTooNewError);
  });

  it('opens a file in WAL mode with synchronous=FULL, and never waits for locks inside SQLite once open', async () => {
    const store = await openSqliteStore({ path: tempPath(), busyTimeoutMs: 1234 });
    try {
      assert.equal(store.sqlite.pragma('journal_mode', true), 'wal');
      assert.equal(store.sqlite.pragma('synchronous', true), 2);
      // The wait for another process's lock happens on timers (sqlite-lock-wait.ts), not in SQLite,
      // whose busy handler would block the event loop.
      assert.equal(store.sqlite.pragma('busy_timeout', true), 0);
      assert.equal(store.sqlite.pragma('foreign_keys', true), 0);
      assert.equal(store.sqlite.pragma('cache_size', true), -32768);
      assert.equal(store.sqlite.pragma('wal_autocheckpoint', true), 10000);
    } finally {
      await store.close();
    }
    const memory = await openSqliteStore({ path: ':memory:' });
    assert.equal(memory.sqlite.pragma('synchronous', true), 2);
    await memory.close();
  });

  it('group commit: concurrent writes share a few commits, each answered after its batch', async () => {
    const store = await openSqliteStore({ path: tempPath() });
    try {
      const { ids, target } = await fixture(store, 2);
      const [a, b] = ids as [string, string];
      const before = store.stats();
      const outcomes = await Promise.all(
        Array.from({ length: 500 }, () => store.strengthen({ ...target(a, b), add: { hits: 1 }, set: {} })),
      );
      assert.ok(outcomes.every((o) => o.kind === 'ok'));
      const stats = store.stats();
      assert.ok(
        stats.commits - before.commits <= 2,
        `500 writes took ${stats.commits - before.commits} commits`,
      );
      assert.equal(stats.ops - before.ops, 500);

      // More than a batch holds: the rest goes to later turns, in order, and nothing is lost.
      const many = 2 * MAX_BATCH + 10;
      const mid = store.stats();
      await Promise.all(
        Array.from({ length: many }, () => store.strengthen({ ...target(a, b), add: { hits: 1 }, set: {} })),
      );
      const end = store.stats();
      assert.equal(end.batches - mid.batches, 3);
      assert.equal(end.largestBatch, MAX_BATCH);
      assert.equal(end.queued, 0);
      const rows = await store.listRelations({
        type: target(a, b).type,
        side: 'a',
        profile: { by: 'id', id: a },
        limit: 10,
      });
      assert.ok(rows.kind === 'ok');
      assert.equal(rows.kind === 'ok' && JSON.parse(rows.rows[0]![1]).hits, 500 + many);

      // A failing call inside a batch (a duplicate) does not undo its neighbours.
      const [dup, fresh] = await Promise.all([
        store.attach({ ...target(a, b), weights: {} }),
        store.attach({ ...target(b, a), weights: { hits: 7 } }),
      ]);
      assert.equal(dup.kind, 'duplicate');
      assert.equal(fresh.kind, 'ok');
    } finally {
      await store.close();
    }
  });

  it('attach without a savepoint: a failure after its first change fails the whole batch, nothing applied', async () => {
    const path = tempPath();
    const store = await openSqliteStore({ path, logger: silent });
    try {
      const { ties, dbId, ids, byId } = await fixture(store, 6);
      const [a0, b0, a1, b1, a2, b2] = ids as [string, string, string, string, string, string];
      // No float sum: attach runs without its own savepoint (writeChecked).
      const relId = (
        await ties.catalog.createRelationType({
          name: 'plain',
          db_a: dbId,
          db_b: dbId,
          properties: [{ name: 'hits', type: 'int', top: 3, sum: true }],
        })
      ).data.rel_id;
      const type = (await store.getRelationType(relId))!;
      const attach = (a: string, b: string) =>
        store.attach({ type, a: byId(a), b: byId(b), now: new Date().toISOString(), weights: { hits: 2 } });
      // Failed outcomes come before any change: a duplicate does not disturb its batch.
      await attach(a2, b2);
      const [dup, fresh] = await Promise.all([attach(a2, b2), attach(b2, a2)]);
      assert.deepEqual([dup.kind, fresh.kind], ['duplicate', 'ok']);
      // A damaged file: B's entry exists without the relation, so the second insert of the attach fails.
      const raw = new BetterSqlite3(path);
      raw.prepare('INSERT INTO relations_b (rel_id, b, a) VALUES (?, unhex(?), unhex(?))').run(relId, b0, a0);
      raw.close();
      const before = await Promise.all([a0, a1].map((a) => store.counter({ type, profile: byId(a) })));
      const outcomes = await Promise.allSettled([attach(a1, b1), attach(a0, b0)]);
      for (const o of outcomes) {
        assert.equal(o.status, 'rejected');
        assert.ok(o.status === 'rejected' && isTiesError(o.reason) && o.reason.code === 'STORE_UNAVAILABLE');
      }
      assert.deepEqual(
        await Promise.all([a0, a1].map((a) => store.counter({ type, profile: byId(a) }))),
        before,
      );
      const listed = await store.listRelations({ type, side: 'a', profile: byId(a1), limit: 10 });
      assert.ok(listed.kind === 'ok' && listed.total === 0 && listed.rows.length === 0);
      // The next batch is unaffected.
      assert.equal((await attach(a1, b1)).kind, 'ok');
    } finally {
      await store.close();
    }
  });

  it('strengthen of int properties without a savepoint: an overflow is refused before any change, its batch unharmed', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    try {
      const { ties, dbId, ids, byId } = await fixture(store, 3);
      const [a, b, c] = ids as [string, string, string];
      const relId = (
        await ties.catalog.createRelationType({
          name: 'ints',
          db_a: dbId,
          db_b: dbId,
          properties: [
            { name: 'hits', type: 'int', top: 2, sum: true },
            { name: 'on', type: 'bool' },
          ],
        })
      ).data.rel_id;
      const type = (await store.getRelationType(relId))!;
      const target = (x: string, y: string) => ({
        type,
        a: byId(x),
        b: byId(y),
        now: new Date().toISOString(),
      });
      const max = Number.MAX_SAFE_INTEGER;
      assert.equal((await store.strengthen({ ...target(a, b), add: { hits: max - 1 }, set: {} })).kind, 'ok');
      const [over, fine, created] = await Promise.all([
        store.strengthen({ ...target(a, b), add: { hits: 2 }, set: { on: true } }),
        store.strengthen({ ...target(a, b), add: { hits: 1 }, set: {} }),
        store.strengthen({ ...target(a, c), add: { hits: 5 }, set: { on: false } }),
      ]);
      assert.deepEqual(over, { kind: 'overflow', property: 'hits', result: String(BigInt(max) + 1n) });
      assert.deepEqual([fine.kind, created.kind], ['ok', 'ok']);
      const listed = await store.listRelations({ type, side: 'a', profile: byId(a), limit: 10 });
      assert.ok(listed.kind === 'ok');
      assert.deepEqual(
        listed.rows.map(([id, w]) => [id, JSON.parse(w)]),
        [
          [b, { hits: max }],
          [c, { hits: 5, on: false }],
        ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
      );
      const counter = await store.counter({ type, profile: byId(a) });
      assert.ok(counter.kind === 'ok');
      assert.equal(counter.props.find((p) => p.name === 'hits')?.sum, max + 5);
    } finally {
      await store.close();
    }
  });

  it('disk full: the write fails with STORE_UNAVAILABLE and nothing of it is written', async () => {
    const store = await openSqliteStore({ path: tempPath(), logger: silent });
    try {
      const { dbId, ids, target } = await fixture(store, 2);
      const [a, b] = ids as [string, string];
      await store.attach({ ...target(a, b), weights: { hits: 1, note: 'kept' } });
      const database = (await store.getDatabase(dbId))!;
      const pages = store.sqlite.pragma('page_count', true) as number;
      store.sqlite.pragma(`max_page_count = ${pages + 4}`);

      const bigId = newProfileId();
      await rejectsUnavailable(
        store.saveProfile({
          database,
          mode: 'add',
          set: { email: 'big@example.com', _fname: 'x'.repeat(200_000) },
          setOnCreate: {},
          subscriptions: [],
          newId: bigId,
          now: new Date().toISOString(),
        }),
        /disk full/,
      );
      assert.deepEqual(await store.getProfile({ dbId, query: { by: 'id', id: bigId } }), {
        kind: 'not_found',
        side: 'profile',
      });
      const byEmail: ProfileQuery = {
        by: 'email',
        email: 'big@example.com',
        inProfile: true,
        inSubscriptions: true,
      };
      assert.equal(
        (await store.getProfile({ dbId, query: byEmail })).kind,
        'not_found',
        'no match key left behind',
      );
      const rows = await store.listRelations({
        type: target(a, b).type,
        side: 'a',
        profile: { by: 'id', id: a },
        limit: 10,
      });
      assert.deepEqual(rows.kind === 'ok' && rows.rows.map((r) => JSON.parse(r[1])), [
        { hits: 1, note: 'kept' },
      ]);

      // Once space is back, writes work again.
      store.sqlite.pragma('max_page_count = 1073741823');
      assert.equal((await store.strengthen({ ...target(a, b), add: { hits: 1 }, set: {} })).kind, 'ok');
      assert.ok(store.stats().failedBatches >= 1);
    } finally {
      await store.close();
    }
  });

  it('read-only file: reads work, writes fail with STORE_UNAVAILABLE', async () => {
    const path = tempPath();
    const writer = await openSqliteStore({ path });
    const { dbId, ids, target, type } = await fixture(writer, 2);
    const [a, b] = ids as [string, string];
    await writer.attach({ ...target(a, b), weights: { hits: 4 } });
    await writer.createToken({
      name: 't',
      rights: ['read'],
      hash: 'f'.repeat(64),
      now: new Date().toISOString(),
    });
    await writer.close();

    const store = await openSqliteStore({ path, readonly: true, logger: silent });
    try {
      assert.equal((await store.getDatabase(dbId))?.name, 'people');
      assert.equal((await store.getProfile({ dbId, query: { by: 'id', id: a } })).kind, 'ok');
      const counter = await store.counter({ type, profile: { by: 'id', id: a } });
      assert.ok(counter.kind === 'ok' && counter.total === 1);
      assert.equal((await store.findTokenByHash('f'.repeat(64)))?.name, 't');
      await store.ping();
      await rejectsUnavailable(store.attach({ ...target(b, a), weights: {} }), /read-only/);
      await rejectsUnavailable(
        store.createDatabase({ name: 'x', description: '', customFields: [], now: '' }),
        /read-only/,
      );
      assert.equal(await store.getDatabase(dbId + 1), null, 'the refused database is not cached either');
      await rejectsUnavailable(store.touchTokens([{ id: 1, at: new Date().toISOString() }]));
    } finally {
      await store.close();
    }
  });

  it('keeps top rows for a profile only above the threshold: made going up, dropped coming down', async () => {
    const path = tempPath();
    const store = await openSqliteStore({ path, topRows: { from: 3, until: 1 } });
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      const { ids, target, type } = await fixture(store, 6);
      const [a, ...bs] = ids as [string, ...string[]];
      const topRows = () =>
        raw
          .prepare('SELECT count(*) FROM relations_a WHERE a = unhex(?) AND kind = 2')
          .pluck()
          .get(a) as number;
      const flag = () =>
        raw
          .prepare("SELECT tops FROM relations_a WHERE a = unhex(?) AND kind = 0 AND prop = ''")
          .pluck()
          .get(a) as number | undefined;
      const top = async () => {
        const c = await store.counter({ type, profile: { by: 'id', id: a } });
        assert.ok(c.kind === 'ok');
        return c.props.map((p) => [p.name, p.top]);
      };
      const answers: unknown[] = [];
      // Up to 3 relations: answered from the relations themselves.
      for (const [i, b] of bs.slice(0, 3).entries()) {
        await store.attach({ ...target(a, b), weights: { hits: 10 - i, score: i / 2 } });
      }
      assert.equal(topRows(), 0);
      assert.equal(flag(), 0);
      answers.push(await top());
      // The 4th passes `from`: rows for both properties that keep a top (hits, score) of all 4.
      await store.attach({ ...target(a, bs[3]!), weights: { hits: 10, note: 'no score' } });
      assert.equal(flag(), 1);
      assert.equal(topRows(), 4 + 3);
      // A decrease and an edit move a row; a detach of a top entry removes its rows.
      await store.strengthen({ ...target(a, bs[0]!), add: { hits: -20 }, set: {} });
      await store.edit({ ...target(a, bs[1]!), set: { score: 9.5 }, remove: [] });
      await store.detach(target(a, bs[3]!));
      assert.equal(topRows(), 3 + 3);
      const withRows = await top();
      // Down to 2 (above `until`): the rows stay; to 1: they go, and the answers do not change.
      await store.detach(target(a, bs[2]!));
      assert.equal(flag(), 1);
      answers.push(await top());
      await store.detach(target(a, bs[1]!));
      assert.equal(flag(), 0);
      assert.equal(topRows(), 0);
      answers.push(await top());
      assert.deepEqual(withRows, [
        [
          'hits',
          [
            { profileId: bs[1], value: 9 },
            { profileId: bs[2], value: 8 },
            { profileId: bs[0], value: -10 },
          ],
        ],
        [
          'score',
          [
            { profileId: bs[1], value: 9.5 },
            { profileId: bs[2], value: 1 },
          ],
        ],
      ]);
      assert.deepEqual(answers, [
        [
          [
            'hits',
            [
              { profileId: bs[0], value: 10 },
              { profileId: bs[1], value: 9 },
              { profileId: bs[2], value: 8 },
            ],
          ],
          [
            'score',
            [
              { profileId: bs[2], value: 1 },
              { profileId: bs[1], value: 0.5 },
            ],
          ],
        ],
        [
          [
            'hits',
            [
              { profileId: bs[1], value: 9 },
              { profileId: bs[0], value: -10 },
            ],
          ],
          [
            'score',
            [
              { profileId: bs[1], value: 9.5 },
              { profileId: bs[0], value: 0 },
            ],
          ],
        ],
        [
          ['hits', [{ profileId: bs[0], value: -10 }]],
          ['score', [{ profileId: bs[0], value: 0 }]],
        ],
      ]);
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('close applies queued writes first, then refuses every call', async () => {
    const path = tempPath();
    const store = await openSqliteStore({ path });
    const { ids, target, type } = await fixture(store, 2);
    const [a, b] = ids as [string, string];
    const queued = Promise.all(
      Array.from({ length: 10 }, () => store.strengthen({ ...target(a, b), add: { hits: 2 }, set: {} })),
    );
    await store.close();
    assert.equal((await queued).length, 10);
    await rejectsUnavailable(store.ping(), /closed/);
    await rejectsUnavailable(store.attach({ ...target(b, a), weights: {} }), /closed/);
    await rejectsUnavailable(store.getDatabase(1), /closed/);
    await store.close();

    const reopened = await openSqliteStore({ path });
    try {
      const counter = await reopened.counter({ type, profile: { by: 'id', id: a } });
      assert.ok(counter.kind === 'ok');
      assert.equal(counter.kind === 'ok' && counter.props.find((p) => p.name === 'hits')?.sum, 20);
    } finally {
      await reopened.close();
    }
  });

  it('a rolled-back catalogue write leaves the cache as the database is', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    try {
      const { relId, ids, target } = await fixture(store, 2);
      const [a, b] = ids as [string, string];
      // Same batch: the type is deleted, then an attach names it; the attach must fail cleanly.
      const [deleted, attached] = await Promise.allSettled([
        store.deleteRelationType(relId),
        store.attach({ ...target(a, b), weights: {} }),
      ]);
      assert.deepEqual(deleted, { status: 'fulfilled', value: true });
      assert.equal(attached.status, 'rejected');
      assert.equal(
        attached.status === 'rejected' && (attached.reason as { code?: string }).code,
        'RELATION_TYPE_NOT_FOUND',
      );
      assert.equal(await store.getRelationType(relId), null);
    } finally {
      await store.close();
    }
  });
});

it('with the change feed off (TIES_FEED=off), writes log no event at all', async () => {
  for (const open of [openSqliteStore, openSqliteWorkerStore]) {
    const path = tempPath();
    const store = await open({ path, changeFeed: false, logger: silent });
    try {
      const { ids, target: pair } = await fixture(store as SqliteStore);
      const target = pair(ids[0]!, ids[1]!);
      assert.equal((await store.attach({ ...target, weights: {} })).kind, 'ok');
      assert.equal((await store.detach(target)).kind, 'ok');
      assert.deepEqual(await store.readChanges(0, 10, {}), {
        events: [],
        oldestSeq: null,
        lastSeq: 0,
        prunedThrough: 0,
        headSeq: 0,
      });
    } finally {
      await store.close();
    }
    const db = new BetterSqlite3(path, { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM change_log').pluck().get(), 0);
      assert.equal(
        db.prepare("SELECT count(*) FROM sqlite_sequence WHERE name = 'change_log'").pluck().get(),
        0,
      );
    } finally {
      db.close();
    }
  }
});
