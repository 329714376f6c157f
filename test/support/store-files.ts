// SQLite store files for CLI tests: a temporary folder removed after the file's tests, numbered
// paths in it, and a Ties over a file for the time of a callback.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createTies, type Ties } from '../../src/core/ties.js';
import { openStore } from '../../src/store/open-store.js';

/** A path maker in a new temporary folder (removed when the test file ends): each name gets a new number. */
export function tempPaths(prefix: string): (name: string) => string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  return (name) => join(dir, `${++files}-${name}`);
}

/** Runs `fn` with a Ties on the SQLite file (inline writer), closed afterwards. */
export async function withTies<T>(db: string, fn: (ties: Ties) => Promise<T>): Promise<T> {
  const ties = createTies({ store: await openStore(db, undefined, { sqliteWriter: 'inline' }) });
  try {
    return await fn(ties);
  } finally {
    await ties.close();
  }
}
