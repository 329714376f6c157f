// Chooses the store engine from the --db setting: a postgres:// URL or a SQLite file path.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '../core/store.js';
import { openPostgresStore } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { openSqliteWorkerStore } from './sqlite/sqlite-worker-store.js';

export interface StoreLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OpenStoreOptions {
  /**
   * SQLite: group commits on the main thread (the default: as fast on the benchmark's machine,
   * simpler, less memory) or in a worker thread. An in-memory database is always inline.
   */
  readonly sqliteWriter?: 'worker' | 'inline' | undefined;
  /** PostgreSQL: connections in the pool. */
  readonly pgPoolMax?: number | undefined;
  /** PostgreSQL: longest statement before the call answers 503. */
  readonly pgStatementTimeoutMs?: number | undefined;
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

export async function openStore(
  db: string,
  logger?: StoreLogger,
  options: OpenStoreOptions = {},
): Promise<Store> {
  if (isPostgresUrl(db)) {
    // A `schema` query parameter (postgres://…/db?schema=ties) selects the schema to work in.
    return openPostgresStore({
      url: db,
      poolMax: options.pgPoolMax,
      statementTimeoutMs: options.pgStatementTimeoutMs,
      ...(logger ? { logger } : {}),
    });
  }
  if (db === ':memory:') return openSqliteStore({ path: db, ...(logger ? { logger } : {}) });
  mkdirSync(dirname(db), { recursive: true });
  const open = options.sqliteWriter === 'worker' ? openSqliteWorkerStore : openSqliteStore;
  return open({ path: db, ...(logger ? { logger } : {}) });
}
