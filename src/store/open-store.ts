// Chooses the store engine from the --db setting: a postgres:// URL or a SQLite file path.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '../core/store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export interface StoreLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

export async function openStore(db: string, logger?: StoreLogger): Promise<Store> {
  if (isPostgresUrl(db)) {
    throw new Error('PostgreSQL is not supported yet by this build; use a SQLite file path for --db');
  }
  if (db !== ':memory:') mkdirSync(dirname(db), { recursive: true });
  return openSqliteStore({ path: db, ...(logger ? { logger } : {}) });
}
