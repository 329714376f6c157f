// Operator input (issue #12, item 13): --db with a scheme Ties does not speak is refused listing the
// forms it takes (instead of becoming a SQLite file under ./mysql:/…), and another application's
// non-empty SQLite file is refused unless --adopt-db says to add Ties' tables to it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { ConfigError, loadConfig } from '../../src/config.js';
import { openStore } from '../../src/store/open-store.js';
import { runTies } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-operator-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tablesOf(path: string): string[] {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

describe('--db', () => {
  test('an unknown scheme is refused, naming it and the supported forms', () => {
    for (const db of ['mysql://root@localhost/ties', 'redis://127.0.0.1:6379', 'sqlite://x.db']) {
      assert.throws(
        () => loadConfig({}, ['--db', db]),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.includes(`unsupported scheme "${db.split('://')[0]}://"`) &&
          err.message.includes('SQLite file path') &&
          err.message.includes('postgres://'),
      );
      assert.throws(() => loadConfig({ TIES_DB: db }, []), /TIES_DB: unsupported scheme/);
    }
    for (const db of ['./data/ties.db', ':memory:', 'postgres://u@h/db', 'postgresql://u@h/db?schema=x']) {
      assert.equal(loadConfig({}, ['--db', db]).db, db);
    }
  });

  test('ties serve --db mysql://… exits 2 and creates nothing', async () => {
    const result = await runTies(['serve', '--port', '0', '--db', 'mysql://root@localhost/ties']);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /--db: unsupported scheme "mysql:\/\/"/);
    assert.equal(existsSync('mysql:'), false, 'no ./mysql: directory');
  });
});

describe("another application's SQLite file", () => {
  test('is refused with what it holds, and left unchanged; --adopt-db adds Ties to it', async () => {
    const path = join(dir, 'crm.db');
    const other = new BetterSqlite3(path);
    other.exec(
      'CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)',
    );
    other.close();
    await assert.rejects(
      openStore(path),
      /crm\.db is not a Ties store: it holds other tables \(invoices\).*--adopt-db/s,
    );
    assert.deepEqual(tablesOf(path), ['invoices'], 'nothing was added');
    await assert.rejects(openStore(path, undefined, { sqliteWriter: 'worker' }), /not a Ties store/);
    assert.deepEqual(tablesOf(path), ['invoices']);

    const cli = await runTies(['token', 'create', '--rights', 'read', '--db', path]);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /not a Ties store/);

    const adopted = await openStore(path, undefined, { adoptForeign: true });
    await adopted.close();
    const tables = tablesOf(path);
    assert.ok(tables.includes('invoices') && tables.includes('schema_migrations'), tables.join());
    // Once it holds a Ties schema, it opens without the flag.
    await (await openStore(path)).close();
  });

  test('an empty file and a new file are not foreign', async () => {
    const empty = join(dir, 'empty.db');
    new BetterSqlite3(empty).close();
    await (await openStore(empty)).close();
    await (await openStore(join(dir, 'new.db'))).close();
  });
});
