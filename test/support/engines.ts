// The store engines tests run against: SQLite always; PostgreSQL when TIES_TEST_PG_URL is set; the
// PostgreSQL store on a Citus coordinator when TIES_TEST_CITUS_URL is set.
import type { Store } from '../../src/core/store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { CITUS_URL, openCitusTestStore } from './citus-engine.js';
import { openPgTestStore, PG_URL } from './pg-engine.js';

export interface TestEngine {
  readonly name: 'sqlite' | 'postgres' | 'citus';
  /** The store engine it runs (what /health reports): Citus runs the PostgreSQL store. */
  readonly store: 'sqlite' | 'postgres';
  /** A fresh, empty store; cleanup closes it and drops whatever it created. */
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

const sqlite: TestEngine = {
  name: 'sqlite',
  store: 'sqlite',
  async open() {
    const store = await openSqliteStore({ path: ':memory:' });
    return { store, cleanup: () => store.close() };
  },
};

/** Each open() gets a fresh schema of its own, dropped at cleanup (see pg-engine.ts). */
const postgres: TestEngine = {
  name: 'postgres',
  store: 'postgres',
  open: () => openPgTestStore(),
};

/** The same on the coordinator of a Citus cluster (see citus-engine.ts). */
const citus: TestEngine = {
  name: 'citus',
  store: 'postgres',
  open: () => openCitusTestStore(),
};

export function testEngines(): readonly TestEngine[] {
  return [sqlite, ...(PG_URL ? [postgres] : []), ...(CITUS_URL ? [citus] : [])];
}
