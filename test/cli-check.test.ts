// `ties check`: a sound store passes (exit 0), a damaged or foreign file fails (exit 1) listing what
// is wrong, and the check never creates or changes the store.
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { createTies } from '../src/core/ties.js';
import { openStore } from '../src/store/open-store.js';
import { runTies } from './support/cli.js';
import { openPgTestStore, PG_SKIPPED, PG_URL } from './support/pg-engine.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A new Ties store, closed (its WAL folded into the file): every table has a root page of its own. */
async function storeWithData(path: string): Promise<void> {
  const ties = createTies({ store: await openStore(path) });
  await ties.close();
}

describe('ties check', () => {
  test('a sound SQLite store passes with exit 0', async () => {
    const path = join(dir, 'sound.db');
    await storeWithData(path);
    const result = await runTies(['check', '--db', path]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /integrity check passed/);
    assert.match(result.stdout, /schema version \d+ \(current\)/);
  });

  test('a SQLite file with damaged pages fails with exit 1 and lists the problems', async () => {
    const path = join(dir, 'damaged.db');
    await storeWithData(path);
    const pageSize = 4096;
    const fd = openSync(path, 'r+');
    // Page 2 onwards: b-tree pages of Ties' tables and indexes, overwritten with garbage.
    writeSync(fd, Buffer.alloc(pageSize * 3, 0x5a), 0, pageSize * 3, pageSize);
    closeSync(fd);
    const result = await runTies(['check'], { TIES_DB: path });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /integrity check FAILED/);
    assert.match(result.stderr, /problems found/);
  });

  test("a file that is not a database, another application's database and a missing file fail", async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database at all, but long enough to have a header '.repeat(100));
    const notDb = await runTies(['check', '--db', text]);
    assert.equal(notDb.code, 1);
    assert.match(notDb.stderr, /FAILED.*not a database/);

    const foreign = join(dir, 'foreign.db');
    const other = new BetterSqlite3(foreign);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)');
    other.close();
    const notTies = await runTies(['check', '--db', foreign]);
    assert.equal(notTies.code, 1);
    assert.match(notTies.stderr, /not a Ties store/);

    const missing = join(dir, 'missing.db');
    const gone = await runTies(['check', '--db', missing]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no such file/);
    assert.equal(existsSync(missing), false, 'the check never creates a store');
  });

  test('usage: an unexpected argument exits 2; --help names the command', async () => {
    const wrong = await runTies(['check', 'extra']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /ties check: unexpected argument "extra"/);
    const help = await runTies(['check', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: ties check/);
    assert.match(help.stdout, /--db/);
    // It reads --db only: the other store settings are neither listed nor taken and then ignored.
    assert.doesNotMatch(help.stdout, /--sqlite-writer|--feed|--pg-pool-max/);
    const ignored = await runTies(['check', '--feed', 'off']);
    assert.equal(ignored.code, 2);
    assert.match(ignored.stderr, /ties check: .*--feed/);
  });

  test('PostgreSQL: a migrated schema passes, a missing schema fails', {
    skip: PG_URL ? false : PG_SKIPPED,
  }, async () => {
    const { schema, cleanup } = await openPgTestStore();
    try {
      const url = new URL(PG_URL!);
      url.searchParams.set('schema', schema);
      const sound = await runTies(['check', '--db', url.toString()]);
      assert.equal(sound.code, 0, sound.stderr);
      assert.match(sound.stdout, /every table answers/);
      url.searchParams.set('schema', `${schema}_none`);
      const missing = await runTies(['check', '--db', url.toString()]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no schema/);
    } finally {
      await cleanup();
    }
  });
});
