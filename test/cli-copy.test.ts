// `ties copy`: a store with every kind of data (the 0.1.0 fixture: every field and property type,
// subscriptions, tops, float and extreme int sums, a deleted type and profile, revoked tokens)
// copied SQLite → PostgreSQL → SQLite answers every read call exactly as the original; an
// interrupted copy resumed gives the same store; a non-empty target is refused unless asked;
// token hashes and id sequences come along, so tokens keep working and new ids do not collide.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { CALLS } from '../src/api/calls.js';
import { createTies } from '../src/core/ties.js';
import { openStore } from '../src/store/open-store.js';
import { CopyStopped, copyStore } from '../src/store/transfer/copy-store.js';
import { openTransferSource, openTransferTarget } from '../src/store/transfer/open-transfer.js';
import { runTies } from './support/cli.js';
import { dropSchema, freshSchemaName, PG_SKIPPED, PG_URL } from './support/pg-engine.js';
import { withTies } from './support/store-files.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-copy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (name: string) => join(dir, `${++files}-${name}`);
const silent = { warn() {}, error() {} };

const recorded = JSON.parse(readFileSync('test/fixtures/v010/sqlite-reads.json', 'utf8')) as {
  reads: { call: string; params: Record<string, unknown> }[];
};

/** The answer (or error) of every recorded read call, on the store at `db`. */
async function answers(db: string): Promise<unknown[]> {
  const ties = createTies({ store: await openStore(db, silent, { onMigrationProgress: () => undefined }) });
  try {
    const out: unknown[] = [];
    for (const read of recorded.reads) {
      const call = CALLS.find((c) => c.name === read.call)!;
      out.push(
        await call
          .run(ties, read.params as never, { encoding: 'typed' })
          .catch((err: { code?: string; message?: string }) => ({
            error: err.code,
            error_text: err.message,
          })),
      );
    }
    return out;
  } finally {
    await ties.close();
  }
}

/** Runs `fn` with a Ties (the change feed on) on the store at `db`, closed afterwards. */
async function withStore<T>(db: string, fn: (ties: ReturnType<typeof createTies>) => Promise<T>): Promise<T> {
  const ties = createTies({ store: await openStore(db, silent, { onMigrationProgress: () => undefined }) });
  try {
    return await fn(ties);
  } finally {
    await ties.close();
  }
}

/** The catalogue as the transfer port reads it, token hashes included. */
async function catalogueOf(db: string) {
  const reader = await openTransferSource(db);
  try {
    return await reader.catalogue();
  } finally {
    await reader.close();
  }
}

/** The id a new relation type gets on the store. */
async function nextRelId(db: string): Promise<number> {
  const ties = createTies({ store: await openStore(db, silent, { onMigrationProgress: () => undefined }) });
  try {
    return (await ties.catalog.createRelationType({ name: 'new', db_a: 1, db_b: 1, properties: [] })).data
      .rel_id;
  } finally {
    await ties.close();
  }
}

const schemas: string[] = [];
function pgStore(): string {
  const schema = freshSchemaName();
  schemas.push(schema);
  const url = new URL(PG_URL!);
  url.searchParams.set('schema', schema);
  return url.toString();
}
after(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

describe('ties copy', () => {
  let source: string;
  let expected: unknown[];
  before(async () => {
    // The 0.1.0 file, migrated to the current layout by opening it.
    source = file('source.db');
    copyFileSync('test/fixtures/v010/sqlite-store.db', source);
    // Opening migrates it; then its subscriptions get priorities (0.1.0 had none), so that the
    // copy is seen to carry them.
    await answers(source);
    const db = new BetterSqlite3(source);
    db.prepare('UPDATE subscriptions SET priority = resource_id + length(contact_key) % 5').run();
    db.close();
    expected = await answers(source);
    assert.match(JSON.stringify(expected), /"priority":[1-9]/);
  });

  test('SQLite → PostgreSQL → SQLite answers every read call as the original', {
    skip: !PG_URL && PG_SKIPPED,
  }, async () => {
    const pg = pgStore();
    const there = await runTies(['copy', '--from', source, '--to', pg]);
    assert.equal(there.code, 0, there.stderr);
    assert.match(there.stdout, /Verified: every count equal, \d+ aggregate rows rebuilt on the target/);
    assert.match(there.stdout, /29 profiles/);
    assert.deepEqual(await answers(pg), expected);

    // ties export reads PostgreSQL through the same port: the same lines as from the SQLite original.
    for (const format of ['ndjson', 'csv']) {
      const fromPg = await runTies(['export', 'relations', '--rel-id', '1', '--format', format, '--db', pg]);
      const fromFile = await runTies([
        'export',
        'relations',
        '--rel-id',
        '1',
        '--format',
        format,
        '--db',
        source,
      ]);
      assert.equal(fromPg.code, 0, fromPg.stderr);
      assert.ok(fromPg.stdout.split('\n').length > 20);
      assert.equal(fromPg.stdout, fromFile.stdout);
    }

    const back = file('back.db');
    const again = await runTies(['copy', '--from', pg, '--to', back]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await answers(back), expected);

    // Tokens keep their hashes (they keep working); sequences go past deleted types' ids.
    const original = await catalogueOf(source);
    assert.deepEqual((await catalogueOf(pg)).tokens, original.tokens);
    assert.deepEqual((await catalogueOf(back)).tokens, original.tokens);
    const next = original.lastRelId + 1;
    assert.equal(await nextRelId(pg), next);
    assert.equal(await nextRelId(back), next);
  });

  test('carries the change feed SQLite → PostgreSQL → SQLite: the log with its seqs and pruned_through, webhooks, cursors', {
    skip: !PG_URL && PG_SKIPPED,
  }, async () => {
    const fed = file('feed.db');
    copyFileSync(source, fed);
    const now = Date.now();
    const built = await withTies(fed, async (ties) => {
      const add = async () => (await ties.profiles.add({ db_id: 1, data: {} }, 'typed')).profile_id;
      const [a, b, c] = [await add(), await add(), await add()];
      const pair = (x: string) => ({ rel_id: 1, profile_a: { profile_id: a }, profile_b: { profile_id: x } });
      const ctx = { encoding: 'typed' as const };
      await ties.relations.attach({ ...pair(b), weights: { hits: 1, score: 0.5 } }, ctx);
      await ties.relations.strengthen({ ...pair(b), weights: { hits: 2 } }, ctx);
      await ties.relations.detach(pair(b));
      // The oldest two are pruned: a cursor at 1 has expired, on the copies too.
      assert.equal(await ties.store.pruneChanges({ olderThan: null, keepLast: 1, maxRows: 2 }), 2);
      const hook = (await ties.webhooks.create({ url: 'http://127.0.0.1:9/hook', rel_id: 1 })).data;
      const gone = (await ties.webhooks.create({ url: 'http://127.0.0.1:9/gone' })).data;
      await ties.webhooks.delete({ id: gone.id });
      await ties.relations.attach({ ...pair(c), weights: { hits: 5 } }, ctx);
      // A webhook that failed once, and a publisher cursor that delivered the last event, each with a lease.
      const lease = { owner: 'source-server', leaseMs: 30_000, nowMs: now };
      const events = (await ties.store.readChanges(0, 100, {})).events;
      const last = events.at(-1)!.seq;
      assert.ok(await ties.store.claimFeedCursor({ ...lease, name: `webhook:${hook.id}`, create: false }));
      await ties.store.updateFeedCursor({
        ...lease,
        name: `webhook:${hook.id}`,
        failure: { error: 'HTTP 500', nextAttemptAt: new Date(now + 1000).toISOString() },
      });
      assert.ok(await ties.store.claimFeedCursor({ ...lease, name: 'amqp:ties', create: true }));
      await ties.store.updateFeedCursor({
        ...lease,
        name: 'amqp:ties',
        advance: { position: last, lastSeq: last, at: new Date(now).toISOString() },
      });
      return { events, hook, gone, last };
    });

    /** What a store's feed holds, as the store answers it. */
    const feedOf = (db: string) =>
      withStore(db, async (ties) => {
        const page = await ties.store.readChanges(0, 100, {});
        const listed = await ties.store.listWebhooks();
        return {
          events: page.events,
          prunedThrough: page.prunedThrough,
          head: listed.head,
          webhooks: listed.webhooks.map((w) => ({
            webhook: w.webhook,
            cursor: { ...w.cursor, leaseOwner: null, leaseUntil: null },
          })),
        };
      });
    const original = await feedOf(fed);
    assert.equal(original.events.length, 2);
    assert.equal(original.prunedThrough, 2);
    assert.equal(original.webhooks.length, 1);

    // Interrupted inside the log (one row per chunk: stopped right after its first event), then resumed.
    const resumedTo = file('feed-resumed.db');
    const reader = await openTransferSource(fed);
    const writer = await openTransferTarget(resumedTo);
    try {
      const c = await reader.counts();
      const before = c.profiles + Object.values(c.relations).reduce((x, y) => x + y, 0);
      await assert.rejects(
        copyStore(reader, writer, { chunk: 1, resume: false, overwrite: false, stopAfterChunks: before + 1 }),
        CopyStopped,
      );
      assert.equal(await writer.lastChangeSeq(), built.events[0]!.seq, 'stopped inside the log');
    } finally {
      await reader.close();
      await writer.close();
    }
    const resumed = await runTies(['copy', '--from', fed, '--to', resumedTo, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /Verified/);

    const pg = pgStore();
    const there = await runTies(['copy', '--from', fed, '--to', pg]);
    assert.equal(there.code, 0, there.stderr);
    assert.match(there.stdout, /2 change-log events, 1 webhooks, 2 feed cursors/);
    const back = file('feed-back.db');
    const again = await runTies(['copy', '--from', pg, '--to', back]);
    assert.equal(again.code, 0, again.stderr);

    for (const copy of [pg, back, resumedTo]) {
      assert.deepEqual(await feedOf(copy), original, copy);
      await withStore(copy, async (ties) => {
        // Leases are not carried: the copy's servers take the cursors at once.
        const cursor = await ties.store.claimFeedCursor({
          name: 'amqp:ties',
          owner: 'copy-server',
          leaseMs: 30_000,
          nowMs: now,
          create: false,
        });
        assert.equal(cursor?.position, built.last, 'the publisher resumes where it stopped');
        // An expired cursor is still refused; a follower's cursor reads the same events.
        await assert.rejects(ties.feed.read(1, 10), /pruned/);
        assert.deepEqual(
          (await ties.feed.read(built.events[0]!.seq, 10)).events.map((e) => e.seq),
          [built.last],
        );
        // New seqs and webhook ids go past the source's (a deleted webhook's id included).
        const add = async () => (await ties.profiles.add({ db_id: 1, data: {} }, 'typed')).profile_id;
        await ties.relations.attach(
          {
            rel_id: 1,
            profile_a: { profile_id: await add() },
            profile_b: { profile_id: await add() },
            weights: {},
          },
          { encoding: 'typed' },
        );
        const fresh = (await ties.store.readChanges(built.last, 10, {})).events;
        assert.deepEqual(
          fresh.map((e) => e.seq),
          [built.last + 1],
        );
        const hook = (await ties.webhooks.create({ url: 'http://127.0.0.1:9/new' })).data;
        assert.equal(hook.id, built.gone.id + 1);
      });
    }
  });

  const targets: [string, () => string][] = [['a SQLite file', () => file('resumed.db')]];
  if (PG_URL) targets.push(['PostgreSQL', pgStore]);
  for (const [name, target] of targets) {
    test(`into ${name}: an interrupted copy resumed gives the same store; a non-empty target is refused`, async () => {
      const to = target();
      const reader = await openTransferSource(source);
      const writer = await openTransferTarget(to);
      try {
        await assert.rejects(
          copyStore(reader, writer, { chunk: 7, resume: false, overwrite: false, stopAfterChunks: 3 }),
          CopyStopped,
        );
      } finally {
        await reader.close();
        await writer.close();
      }
      const refused = await runTies(['copy', '--from', source, '--to', to]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /is not empty\. Pass --resume .* or --overwrite/);

      const resumed = await runTies(['copy', '--from', source, '--to', to, '--resume', '--chunk', '5']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /21 already there, resumed/);
      assert.match(resumed.stdout, /Verified/);
      assert.deepEqual(await answers(to), expected);

      // A copy over it again needs --overwrite, and gives the same store.
      const overwritten = await runTies(['copy', '--from', source, '--to', to, '--overwrite']);
      assert.equal(overwritten.code, 0, overwritten.stderr);
      assert.deepEqual(await answers(to), expected);
    });
  }

  test('a source that another process keeps writing to is copied as one snapshot, and verifies', async () => {
    const live = file('live.db');
    copyFileSync(source, live);
    let written = 0;
    let stop = false;
    const writer = withTies(live, async (ties) => {
      for (let round = 1; !stop && round < 5_000; round++) {
        const add = async (name: string) =>
          (await ties.profiles.add({ db_id: 1, data: { email: `${name}${round}@x.example` } }, 'typed'))
            .profile_id;
        const [a, b] = await Promise.all([add('wa'), add('wb')]);
        await ties.relations.attach(
          {
            rel_id: 1,
            profile_a: { profile_id: a },
            profile_b: { profile_id: b },
            weights: { hits: round, score: round / 4 },
          },
          { encoding: 'typed' },
        );
        written++;
      }
    });
    while (written === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const result = await runTies(['copy', '--from', live, '--to', file('snapshot.db'), '--chunk', '3']);
    stop = true;
    await writer;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Verified: every count equal/);
    assert.ok(written > 0);
  });

  test('usage errors name the option', async () => {
    const none = await runTies(['copy', '--to', file('x.db')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--from: expected the store to copy/);
    const same = await runTies(['copy', '--from', source, '--to', source]);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /name the same store/);
    const both = await runTies(['copy', '--from', source, '--to', file('y.db'), '--resume', '--overwrite']);
    assert.equal(both.code, 2);
    const chunk = await runTies(['copy', '--from', source, '--to', file('z.db'), '--chunk', '0']);
    assert.equal(chunk.code, 2);
    assert.match(chunk.stderr, /--chunk: expected an integer from 1 to 1000000, got "0"/);
    const missing = await runTies(['copy', '--from', file('missing.db'), '--to', file('w.db')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such SQLite store/);
  });
});
