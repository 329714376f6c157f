// A file written by Ties 0.1.0 (test/fixtures/v010: a store made by 0.1.0's code, and the answers
// 0.1.0 gave to every read call on it) is migrated in place when the store opens, with progress,
// answers every read exactly as 0.1.0 did, ends up with the same schema as a fresh file, keeps
// working, and is left untouched when the migration fails.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { answerNow } from '../../../test/fixtures/v010/api-changes.js';
import { CALLS } from '../../api/calls.js';
import type { Store } from '../../core/store.js';
import { createTies } from '../../core/ties.js';
import type { MigrationProgress } from '../migration-runner.js';
import { migrateToStorageV2 } from './migrations/002-storage-v2.js';
import { MIGRATIONS, migrate, type SqliteMigration } from './migrations.js';
import type { TopRowsThreshold } from './sqlite-layout.js';
import { openSqliteStore } from './sqlite-store.js';

const FIXTURE = 'test/fixtures/v010';
const dir = mkdtempSync(join(tmpdir(), 'ties-sqlite-v010-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface Recorded {
  readonly filled: {
    readonly readers: number;
    readonly types: readonly number[];
    readonly profiles: readonly string[];
  };
  readonly reads: readonly { call: string; params: Record<string, unknown>; answer: unknown }[];
}
const recorded = JSON.parse(readFileSync(`${FIXTURE}/sqlite-reads.json`, 'utf8')) as Recorded;

/** A copy of the 0.1.0 file to work on. */
function fixtureCopy(): string {
  const path = join(dir, `v010-${++files}.db`);
  copyFileSync(`${FIXTURE}/sqlite-store.db`, path);
  return path;
}

/** Runs every recorded read and compares its answer (or error) with 0.1.0's. */
async function answersAsRecorded(ties: ReturnType<typeof createTies>): Promise<void> {
  for (const read of recorded.reads) {
    const call = CALLS.find((c) => c.name === read.call)!;
    const answer = await call
      .run(ties, read.params as never, { encoding: 'typed' })
      .catch((err: { code?: string; message?: string }) => ({ error: err.code, error_text: err.message }));
    // As an answer's JSON reads back (relations/get writes its rows as JSON text).
    assert.deepEqual(
      JSON.parse(JSON.stringify(answer)),
      answerNow(read, recorded.reads),
      `${read.call} ${JSON.stringify(read.params)}`,
    );
  }
}

const schemaOf = (path: string) => {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return db
      .prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all();
  } finally {
    db.close();
  }
};

/** The migrations with version 2's data step keeping top rows from `threshold` on. */
const withThreshold = (threshold: TopRowsThreshold): SqliteMigration[] =>
  MIGRATIONS.map((m) =>
    m.version === 2 ? { ...m, data: (db, progress) => migrateToStorageV2(db, progress, threshold) } : m,
  );

describe('sqlite: a file written by 0.1.0', () => {
  it('is migrated in place at open, with progress, and answers every read call as 0.1.0 did', async () => {
    const path = fixtureCopy();
    assert.deepEqual(
      (schemaOf(path) as { name: string }[]).filter((t) => t.name === 'relations').length,
      1,
      'the fixture is a 0.1.0 file',
    );
    const progress: MigrationProgress[] = [];
    const store = await openSqliteStore({ path, onMigrationProgress: (p) => progress.push(p) });
    try {
      const v2 = progress.filter((p) => p.version === 2);
      assert.ok(
        v2.some((p) => p.finished),
        'the migration reported its end',
      );
      const moved = v2.filter((p) => !p.finished && p.total > 0);
      assert.ok(moved.length >= 2, 'and its progress');
      assert.equal(moved.at(-1)!.done, moved.at(-1)!.total, 'up to all of it');
      await answersAsRecorded(createTies({ store }));
      await changeLogStartsEmpty(store);
    } finally {
      await store.close();
    }
  });

  it('answers the same with top rows kept for every profile with more than two relations', async () => {
    const path = fixtureCopy();
    const threshold = { from: 2, until: 1 };
    const db = new BetterSqlite3(path);
    try {
      assert.deepEqual(
        migrate(db, withThreshold(threshold)),
        MIGRATIONS.map((m) => m.version).filter((v) => v >= 2),
      );
      const topRows = db.prepare('SELECT count(*) FROM relations_a WHERE kind = 2').pluck().get() as number;
      assert.ok(topRows > 10, `top rows were moved (${topRows})`);
    } finally {
      db.close();
    }
    const store = await openSqliteStore({ path, topRows: threshold });
    try {
      await answersAsRecorded(createTies({ store }));
    } finally {
      await store.close();
    }
  });

  it('ends with the same schema as a fresh file, and keeps working', async () => {
    const path = fixtureCopy();
    const fresh = join(dir, `fresh-${++files}.db`);
    for (const p of [path, fresh]) await (await openSqliteStore({ path: p })).close();
    assert.deepEqual(schemaOf(path), schemaOf(fresh));

    const store = await openSqliteStore({ path });
    try {
      const ties = createTies({ store });
      const [likes] = recorded.filled.types as [number];
      const [r0, r1, r2] = recorded.filled.profiles as [string, string, string];
      const pair = { rel_id: likes, profile_a: { profile_id: r0 }, profile_b: { profile_id: r2 } };
      const counter = () => ties.relations.getCounter({ rel_id: likes, profile_id: r0 });
      const before = (await counter()).data;
      await ties.relations.attach({ ...pair, weights: { hits: 1000 } }, { encoding: 'typed' });
      const after = (await counter()).data;
      assert.equal(after.total, before.total + 1);
      assert.equal(after.props.hits?.sum, (before.props.hits?.sum ?? 0) + 1000);
      assert.deepEqual(after.props.hits?.top?.[0], { profile_id: r2, value: 1000 });
      await ties.relations.detach({ ...pair, profile_b: { profile_id: r2 } });
      assert.deepEqual((await counter()).data, before);
      await ties.profiles.delete({ db_id: recorded.filled.readers, profile_id: r1 });
      assert.equal(
        (await ties.relations.get({ rel_id: likes, profile_id: r0, side: 'a' })).data
          .value()
          .some((row) => row.profile_id_b === r1),
        false,
      );
    } finally {
      await store.close();
    }
  });

  it('is left as it was when the migration fails half way', async () => {
    const path = fixtureCopy();
    const before = readFileSync(path);
    const db = new BetterSqlite3(path);
    try {
      const failing = MIGRATIONS.map((m) =>
        m.version === 2
          ? {
              ...m,
              data: (d: BetterSqlite3.Database, progress: (done: number, total: number) => void) => {
                migrateToStorageV2(d, progress);
                throw new Error('disk on fire');
              },
            }
          : m,
      );
      assert.throws(() => migrate(db, failing), /disk on fire/);
      assert.deepEqual(
        (schemaOf(path) as { name: string }[]).map((t) => t.name).filter((n) => n.startsWith('relation')),
        ['relation_stats', 'relation_tops', 'relation_types', 'relations', 'relations_by_b'],
      );
    } finally {
      db.close();
    }
    const store = await openSqliteStore({ path });
    try {
      await answersAsRecorded(createTies({ store }));
    } finally {
      await store.close();
    }
    assert.ok(before.length > 0);
  });
});

/** Migration 6: the change log of a migrated store is empty, and its first event gets seq 1. */
async function changeLogStartsEmpty(store: Store): Promise<void> {
  assert.deepEqual(await store.readChanges(0, 10, {}), {
    events: [],
    oldestSeq: null,
    lastSeq: 0,
    prunedThrough: 0,
    headSeq: 0,
  });
  const types = await store.listRelationTypes();
  for (const t of types) {
    const deleted = await store.deleteRelationType(t.relId);
    assert.equal(deleted, true);
  }
  const page = await store.readChanges(0, 1, {});
  assert.equal(page.events[0]?.seq, 1, 'the first event of a migrated store is seq 1');
  assert.equal(page.events[0]?.call, 'relations/types/delete');
}
