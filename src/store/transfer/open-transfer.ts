// Opens the transfer port of a store named as --db names it: a postgres:// URL or a SQLite file.
import { existsSync } from 'node:fs';
import { isPostgresUrl } from '../open-store.js';
import { openPostgresTransfer } from '../postgres/postgres-transfer.js';
import { openSqliteTransfer } from '../sqlite/sqlite-transfer.js';
import type { TransferReader, TransferWriter } from './transfer-port.js';

/**
 * A store to read from, as one consistent snapshot (it may be in use by a running server);
 * `sqliteCacheMb`: SQLite's page cache (TIES_SQLITE_CACHE_MB; default DEFAULT_CACHE_MB).
 */
export async function openTransferSource(
  db: string,
  options: { readonly sqliteCacheMb?: number | undefined } = {},
): Promise<TransferReader> {
  if (isPostgresUrl(db)) return openPostgresTransfer(db, { snapshot: true });
  if (!existsSync(db)) throw new Error(`${db}: no such SQLite store`);
  return openSqliteTransfer(db, { snapshot: true, cacheMb: options.sqliteCacheMb });
}

/** A store to write a copy into, created (and its schema made) when missing. */
export async function openTransferTarget(db: string): Promise<TransferWriter> {
  if (isPostgresUrl(db)) return openPostgresTransfer(db, { snapshot: false });
  return openSqliteTransfer(db, { snapshot: false });
}
