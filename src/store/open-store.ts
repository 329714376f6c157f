// Chooses the store engine from the --db setting: a postgres:// URL or a SQLite file path.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '../core/store.js';
import { groupDigits } from '../group-digits.js';
import type { MigrationProgress, ProgressListener } from './migration-runner.js';

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
  /** SQLite: add Ties' tables to a file that holds another application's tables (refused otherwise). */
  readonly adoptForeign?: boolean | undefined;
  /** SQLite: how long a write waits for another process's write lock before it answers 503. */
  readonly sqliteBusyTimeoutMs?: number | undefined;
  /** SQLite: page cache per connection, MiB (default DEFAULT_CACHE_MB). */
  readonly sqliteCacheMb?: number | undefined;
  /** PostgreSQL: connections in the pool. */
  readonly pgPoolMax?: number | undefined;
  /** PostgreSQL: longest statement before the call answers 503. */
  readonly pgStatementTimeoutMs?: number | undefined;
  /** Reports of schema migrations at work while the store opens; default: lines on stderr. */
  readonly onMigrationProgress?: ProgressListener | undefined;
  /** Whether relation changes are logged for the change feed (TIES_FEED; default true). */
  readonly changeFeed?: boolean | undefined;
}

/**
 * Migration progress as lines on a stream, for migrations that take a while (a 0.1.0 store of
 * millions of relations takes minutes): once a versioned migration has run for `everyMs`, how far
 * its data step is, at most every `everyMs`, then when it ended. Quick ones say nothing.
 */
export function migrationProgressPrinter(
  out: { write(text: string): unknown },
  everyMs = 2_000,
): ProgressListener {
  let started = 0;
  let last = 0;
  let spoke = false;
  const n = groupDigits;
  return (p: MigrationProgress) => {
    if (p.version === null) return;
    const what = `schema version ${p.version} (${p.name})`;
    const now = Date.now();
    if (p.finished) {
      if (spoke)
        out.write(`ties: migrated the store to ${what} in ${((now - started) / 1000).toFixed(1)} s\n`);
      spoke = false;
    } else if (p.done === 0 && p.total === 0) {
      started = now;
      last = now;
    } else if (now - last >= everyMs) {
      last = now;
      spoke = true;
      const of = p.total > 0 ? ` of ${n(p.total)} (${Math.floor((100 * p.done) / p.total)}%)` : '';
      out.write(`ties: migrating the store to ${what}: ${p.step ?? `${n(p.done)}${of} done`}\n`);
    }
  };
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

export async function openStore(
  db: string,
  logger?: StoreLogger,
  options: OpenStoreOptions = {},
): Promise<Store> {
  // Each engine's modules are loaded when a store of it opens: a command on a SQLite file then never
  // loads the PostgreSQL driver (~0.15 s of CPU at every start), nor the reverse.
  if (isPostgresUrl(db)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    // A `schema` query parameter (postgres://…/db?schema=ties) selects the schema to work in.
    return openPostgresStore({
      url: db,
      poolMax: options.pgPoolMax,
      statementTimeoutMs: options.pgStatementTimeoutMs,
      changeFeed: options.changeFeed,
      onMigrationProgress: options.onMigrationProgress ?? migrationProgressPrinter(process.stderr),
      ...(logger ? { logger } : {}),
    });
  }
  const onMigrationProgress = options.onMigrationProgress ?? migrationProgressPrinter(process.stderr);
  const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
  if (db === ':memory:')
    return openSqliteStore({
      path: db,
      changeFeed: options.changeFeed,
      cacheMb: options.sqliteCacheMb,
      ...(logger ? { logger } : {}),
    });
  mkdirSync(dirname(db), { recursive: true });
  const open =
    options.sqliteWriter === 'worker'
      ? (await import('./sqlite/sqlite-worker-store.js')).openSqliteWorkerStore
      : openSqliteStore;
  return open({
    path: db,
    onMigrationProgress,
    adoptForeign: options.adoptForeign,
    busyTimeoutMs: options.sqliteBusyTimeoutMs,
    cacheMb: options.sqliteCacheMb,
    changeFeed: options.changeFeed,
    ...(logger ? { logger } : {}),
  });
}
