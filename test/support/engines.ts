// The store engines tests run against: SQLite always; PostgreSQL when TIES_TEST_PG_URL is set.
import type { Store } from '../../src/core/store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { openPgTestStore, PG_URL } from './pg-engine.js';

export interface TestEngine {
  readonly name: 'sqlite' | 'postgres';
  /** A fresh, empty store; cleanup closes it and drops whatever it created. */
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

const sqlite: TestEngine = {
  name: 'sqlite',
  async open() {
    const store = await openSqliteStore({ path: ':memory:' });
    return { store, cleanup: () => store.close() };
  },
};

/** Each open() gets a fresh schema of its own, dropped at cleanup (see pg-engine.ts). */
const postgres: TestEngine = {
  name: 'postgres',
  open: () => openPgTestStore(),
};

export function testEngines(): readonly TestEngine[] {
  return PG_URL ? [sqlite, postgres] : [sqlite];
}
