// The SQLite store's migrations on the shared runner: all-or-nothing with their bookkeeping, a newer
// schema refused before any write, progress reports, repeatable scripts, and two processes
// migrating one file at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { type MigrationProgress, type Repeatable, runSync } from '../migration-runner.js';
import {
  MIGRATIONS,
  migrate,
  SchemaTooNewError,
  type SqliteMigration,
  sqliteMigrationAdapter,
} from './migrations.js';

/** Every known version, and those from a given one on (so that a new migration needs no edit here). */
const VERSIONS = MIGRATIONS.map((m) => m.version);
const from = (v: number) => VERSIONS.filter((x) => x >= v);

const dir = mkdtempSync(join(tmpdir(), 'ties-sqlite-migrations-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempPath = () => join(dir, `m${++files}.db`);

const tables = (db: BetterSqlite3.Database) =>
  db
    .prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name")
    .pluck()
    .all() as string[];

const run = (
  db: BetterSqlite3.Database,
  migrations: readonly SqliteMigration[],
  repeatables: Repeatable[] = [],
) => runSync(sqliteMigrationAdapter(db), { migrations, repeatables });

describe('sqlite: migrations', () => {
  it('version 3 keeps a duplicated email for the oldest profile only, then makes emails unique', () => {
    const db = new BetterSqlite3(':memory:');
    try {
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version < 3),
      );
      const [older, newer] = ['b'.repeat(24), 'a'.repeat(24)];
      const profile = db.prepare(
        "INSERT INTO profiles (id, db_id, fields, created_at, updated_at) VALUES (?, 1, '{}', ?, ?)",
      );
      profile.run(older, '2026-01-01', '2026-01-01');
      profile.run(newer, '2026-02-01', '2026-02-01');
      const key = db.prepare('INSERT INTO profile_keys (db_id, kind, key, profile_id) VALUES (1, ?, ?, ?)');
      key.run('e', 'x@example.com', older);
      key.run('e', 'x@example.com', newer);
      key.run('p', '7900', newer);
      assert.deepEqual(migrate(db, MIGRATIONS), from(3));
      assert.deepEqual(db.prepare('SELECT kind, profile_id FROM profile_keys ORDER BY kind').all(), [
        { kind: 'e', profile_id: older },
        { kind: 'p', profile_id: newer },
      ]);
      assert.throws(() => key.run('e', 'x@example.com', newer), /UNIQUE/);
    } finally {
      db.close();
    }
  });

  it('leaves nothing behind when the first migration fails, not even its bookkeeping table', () => {
    const db = new BetterSqlite3(tempPath());
    try {
      const broken = [
        { version: 1, name: 'broken', sql: 'CREATE TABLE half (x); SELECT no_such_function();' },
      ];
      assert.throws(() => migrate(db, broken), /no such function/);
      assert.deepEqual(tables(db), [], 'no stray table');
      // Fixed, it applies normally afterwards.
      assert.deepEqual(migrate(db, MIGRATIONS), VERSIONS);
    } finally {
      db.close();
    }
  });

  it('keeps the migrations before a failed one, and none of the failed one', () => {
    const db = new BetterSqlite3(':memory:');
    const one = { version: 1, name: 'one', sql: 'CREATE TABLE one (x)' };
    const two = { version: 2, name: 'two', sql: 'CREATE TABLE two (x)', data: () => assert.fail('bad data') };
    assert.throws(() => run(db, [one, two]), /bad data/);
    assert.deepEqual(tables(db), ['one', 'schema_migrations']);
    assert.deepEqual(db.prepare('SELECT version FROM schema_migrations').pluck().all(), [1]);
  });

  it('reports the progress of a data migration, and its end once committed', () => {
    const db = new BetterSqlite3(':memory:');
    const seen: MigrationProgress[] = [];
    const data = (d: BetterSqlite3.Database, progress: (done: number, total: number) => void) => {
      for (let i = 1; i <= 3; i++) {
        d.prepare('INSERT INTO t VALUES (?)').run(i);
        progress(i, 3);
      }
    };
    const result = runSync(sqliteMigrationAdapter(db), {
      migrations: [{ version: 1, name: 'fill', sql: 'CREATE TABLE t (x)', data }],
      onProgress: (p) => seen.push(p),
    });
    assert.deepEqual(result, { applied: [1], repeated: [] });
    assert.deepEqual(
      seen.map((p) => [p.version, p.done, p.total, p.finished]),
      [
        [1, 0, 0, false],
        [1, 1, 3, false],
        [1, 2, 3, false],
        [1, 3, 3, false],
        [1, 1, 1, true],
      ],
    );
  });

  it('applies repeatable scripts after the versioned ones, again only when their text changes, all or none', () => {
    const db = new BetterSqlite3(':memory:');
    const table = { version: 1, name: 't', sql: 'CREATE TABLE t (x)' };
    const view = (body: string): Repeatable => ({
      name: 'view.sql',
      sql: `DROP VIEW IF EXISTS v; CREATE VIEW v AS ${body};`,
    });
    assert.deepEqual(run(db, [table], [view('SELECT x FROM t')]), { applied: [1], repeated: ['view.sql'] });
    assert.deepEqual(run(db, [table], [view('SELECT x FROM t')]), { applied: [], repeated: [] }, 'unchanged');
    assert.deepEqual(run(db, [table], [view('SELECT x, 2 AS y FROM t')]).repeated, ['view.sql'], 'changed');
    // A run whose second script fails keeps none of its scripts, nor their checksums.
    const checksums = () => db.prepare('SELECT name, checksum FROM schema_repeatables ORDER BY name').all();
    const before = checksums();
    assert.throws(
      () =>
        run(
          db,
          [table],
          [
            view('SELECT 3 AS z FROM t'),
            { name: 'bad.sql', sql: 'CREATE VIEW w AS SELECT 1; SELECT no_such_function();' },
          ],
        ),
      /no such function/,
    );
    assert.deepEqual(checksums(), before);
    assert.deepEqual(Object.keys(db.prepare('SELECT * FROM v').get() ?? { x: 0, y: 0 }), ['x', 'y']);
    assert.deepEqual(tables(db), ['schema_migrations', 'schema_repeatables', 't', 'v']);
  });

  it('refuses a newer schema before writing anything, even when scripts changed', () => {
    const db = new BetterSqlite3(':memory:');
    run(db, [
      { version: 1, name: 'one', sql: 'CREATE TABLE one (x)' },
      { version: 2, name: 'two', sql: '' },
    ]);
    const scripts = [{ name: 'view.sql', sql: 'CREATE VIEW v AS SELECT 1' }];
    assert.throws(
      () => run(db, [{ version: 1, name: 'one', sql: 'CREATE TABLE one (x)' }], scripts),
      (err: unknown) => err instanceof SchemaTooNewError && err.found === 2 && err.known === 1,
    );
    assert.deepEqual(tables(db), ['one', 'schema_migrations']);
  });

  it('lets several processes migrate one new file at once: each migration runs once', async () => {
    const path = tempPath();
    // Each process applies a slow migration 2 (its data step holds the write lock for a while).
    const script = `
      import BetterSqlite3 from 'better-sqlite3';
      import { MIGRATIONS, migrate } from './src/store/sqlite/migrations.ts';
      const db = new BetterSqlite3(${JSON.stringify(path)}, { timeout: 20000 });
      const slow = { version: 2, name: 'slow', sql: 'CREATE TABLE slow (x)', data: (d) => {
        const until = Date.now() + 300;
        while (Date.now() < until) d.prepare('INSERT INTO slow VALUES (1)').run();
      } };
      process.stdout.write(JSON.stringify(migrate(db, [...MIGRATIONS, slow])));
      db.close();`;
    const outputs = await Promise.all(
      Array.from(
        { length: 3 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
              stdio: ['ignore', 'pipe', 'inherit'],
            });
            let out = '';
            child.stdout.on('data', (chunk) => {
              out += chunk;
            });
            child.on('error', reject);
            child.on('exit', (code) =>
              code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`)),
            );
          }),
      ),
    );
    const applied = outputs.flatMap((o) => JSON.parse(o) as number[]).sort((a, b) => a - b);
    assert.deepEqual(applied, VERSIONS, 'every version applied by exactly one process');
    const db = new BetterSqlite3(path);
    try {
      assert.deepEqual(
        db.prepare('SELECT version FROM schema_migrations ORDER BY 1').pluck().all(),
        VERSIONS,
      );
    } finally {
      db.close();
    }
  });
});
