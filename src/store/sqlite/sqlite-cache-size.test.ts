// TIES_SQLITE_CACHE_MB reaches every SQLite connection a command opens: the store of `ties serve`,
// `ties import` and `ties token` (openConfiguredStore), both connections of the worker store, and
// the snapshot `ties export` reads from.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CONFIG, readSettings, STORE_KEYS } from '../../config.js';
import { openConfiguredStore } from '../configured-store.js';
import { openTransferSource } from '../transfer/open-transfer.js';
import type { SqliteEngine } from './sqlite-engine.js';
import type { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-sqlite-cache-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempPath = () => join(dir, `store-${++files}.db`);

/** The store settings as a command reads them from this environment. */
const storeConfig = (env: Record<string, string>) => readSettings(STORE_KEYS, env, {});

describe('TIES_SQLITE_CACHE_MB', () => {
  it('is 32 MiB per connection by default', async () => {
    assert.equal(DEFAULT_CONFIG.sqliteCacheMb, 32);
    const store = (await openConfiguredStore(storeConfig({ TIES_DB: tempPath() }))) as SqliteStore;
    try {
      // A negative cache_size is in KiB.
      assert.equal(store.sqlite.pragma('cache_size', true), -32 * 1024);
    } finally {
      await store.close();
    }
  });

  it('sets the page cache of the store every command opens', async () => {
    const path = tempPath();
    const store = (await openConfiguredStore(
      storeConfig({ TIES_DB: path, TIES_SQLITE_CACHE_MB: '512' }),
    )) as SqliteStore;
    try {
      assert.equal(store.sqlite.pragma('cache_size', true), -512 * 1024);
    } finally {
      await store.close();
    }
    const source = await openTransferSource(path, { sqliteCacheMb: 96 });
    try {
      const db = (source as unknown as { db: { pragma(s: string, o: object): unknown } }).db;
      assert.equal(db.pragma('cache_size', { simple: true }), -96 * 1024);
    } finally {
      await source.close();
    }
  });

  it("sets the worker store's reader connection too", async () => {
    const config = storeConfig({
      TIES_DB: tempPath(),
      TIES_SQLITE_WRITER: 'worker',
      TIES_SQLITE_CACHE_MB: '64',
    });
    const store = await openConfiguredStore(config);
    try {
      // The reader is the base store's connection; the writer thread opens from the same options,
      // where no test can reach its connection.
      const reader = (store as unknown as { reader: SqliteEngine }).reader;
      assert.equal(reader.pragma('cache_size', true), -64 * 1024);
    } finally {
      await store.close();
    }
  });
});
