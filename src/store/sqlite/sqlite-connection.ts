// Opening the SQLite file: the connection settings that decide durability and cost, and the schema
// check (migrate, or refuse a file that is newer or, read-only, not yet migrated).
import BetterSqlite3 from 'better-sqlite3';
import type { ProgressListener } from '../migration-runner.js';
import { MIGRATIONS, migrate, SchemaTooNewError, schemaVersion } from './migrations.js';
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_CACHE_MB } from './sqlite-defaults.js';
import { type StoreLogger, toStoreError } from './sqlite-errors.js';
import type { TopRowsThreshold } from './sqlite-layout.js';
import type { Db } from './sqlite-statements.js';

export interface SqliteEngineOptions {
  /** A file path, or ':memory:'. */
  readonly path: string;
  /**
   * How long a write waits for another process's write lock before it is refused (503), in ms
   * (default DEFAULT_BUSY_TIMEOUT_MS). The connection waits this long inside SQLite while it opens
   * and migrates; once open, the inline store waits on timers instead (sqlite-lock-wait.ts).
   */
  readonly busyTimeoutMs?: number | undefined;
  /** Opens the file read-only: reads work, every write fails with STORE_UNAVAILABLE. */
  readonly readonly?: boolean | undefined;
  /** Page cache per connection in MiB (TIES_SQLITE_CACHE_MB; default DEFAULT_CACHE_MB). */
  readonly cacheMb?: number | undefined;
  readonly logger?: StoreLogger | undefined;
  /** Reports of schema migrations at work while the file opens (a 0.1.0 store takes a while). */
  readonly onMigrationProgress?: ProgressListener | undefined;
  /** Adds Ties' tables to a file that holds other tables and no Ties schema (refused otherwise). */
  readonly adoptForeign?: boolean | undefined;
  /** When a profile's top entries are kept as rows (sqlite-layout.ts); tests lower it. */
  readonly topRows?: TopRowsThreshold | undefined;
  /** Whether relation changes are logged for the change feed (TIES_FEED; default true). */
  readonly changeFeed?: boolean | undefined;
}

export { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_CACHE_MB };

/**
 * The settings that decide what a write costs and how durable it is, in the order they are applied.
 * Exported so that the benchmark's raw-store baseline writes with the very same ones.
 */
export function storagePragmas(cacheMb = DEFAULT_CACHE_MB): readonly string[] {
  return [
    // WAL lets readers (the CLI, backups, the worker store's reader) work during writes.
    'journal_mode = WAL',
    // An acknowledged write must survive a machine crash; group commit pays for the fsync.
    'synchronous = FULL',
    // Page cache per connection; bounds memory whatever the data size.
    `cache_size = -${Math.trunc(cacheMb * 1024)}`,
    // Keeps the WAL file from staying at its high-water mark after a checkpoint.
    'journal_size_limit = 67108864',
    // Checkpoints every 10,000 pages (~40 MiB of WAL) rather than 1,000: a page written by many
    // commits reaches the database file once per checkpoint, and the file is fsynced ten times
    // less often (bulk loading measured ~25% faster; each commit is still fsynced).
    'wal_autocheckpoint = 10000',
  ];
}

/**
 * Refuses a file that holds tables but no Ties schema: another application's database, which a
 * mistyped --db would otherwise fill with Ties' tables without a word.
 */
function refuseForeign(db: Db, path: string): void {
  if (schemaVersion(db) > 0) return;
  const tables = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  if (tables.length === 0) return;
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, … (${tables.length} tables)` : '');
  throw new ForeignDatabaseError(
    `${path} is not a Ties store: it holds other tables (${shown}). Give Ties a file of its own, or ` +
      "pass --adopt-db (TIES_ADOPT_DB=true) to add Ties' tables to it.",
  );
}

export class ForeignDatabaseError extends Error {
  override name = 'ForeignDatabaseError';
}

/** Opens (creating when needed) the database, applies the settings and brings the schema up to date. */
export function openConnection(options: SqliteEngineOptions): Db {
  const readonly = options.readonly ?? false;
  let db: Db;
  try {
    db = new BetterSqlite3(options.path, {
      readonly,
      timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    });
  } catch (err) {
    throw toStoreError(err, options.logger);
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
    const storage = storagePragmas(options.cacheMb);
    // A read-only or in-memory database keeps its journal mode (:memory: has no WAL).
    for (const pragma of storage)
      if (!pragma.startsWith('journal_') || (!readonly && !db.memory)) db.pragma(pragma);
    db.pragma('foreign_keys = OFF');
    // Bounds the ANALYZE that PRAGMA optimize runs at close, whatever the data size.
    db.pragma('analysis_limit = 400');
    if (readonly) {
      const known = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
      const found = schemaVersion(db);
      if (found > known) throw new SchemaTooNewError(found, known);
      if (found < known)
        throw new Error(`cannot open ${options.path} read-only: its schema needs migrating first`);
    } else {
      if (!options.adoptForeign) refuseForeign(db, options.path);
      migrate(db, MIGRATIONS, undefined, options.onMigrationProgress);
    }
    return db;
  } catch (err) {
    db.close();
    throw err instanceof BetterSqlite3.SqliteError ? toStoreError(err, options.logger) : err;
  }
}
